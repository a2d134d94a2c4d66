//! Configuration from the environment (README "Environment variables" lists each with its default).

use std::time::Duration;
use telephony_core::flow::{NumberConfig, Voice, Voices};
use telephony_core::ratelimit::{parse_limits, Limit};
use telephony_core::twiml::is_xml_char;
use telephony_core::E164;

/// A configured voice name as `&'static str` (TwiML voices are static): configuration is read
/// once per process, so this leaks a few bytes once.
fn leak(s: String) -> &'static str {
    Box::leak(s.into_boxed_str())
}

/// A missing or invalid setting, named.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    /// A required variable is not set.
    #[error("{0} is required")]
    Missing(&'static str),
    /// A variable has a value this code cannot use.
    #[error("{name} is invalid: {reason}")]
    Invalid {
        /// Variable name.
        name: &'static str,
        /// Why.
        reason: String,
    },
}

/// A secret setting: its `Debug` form never shows the value.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(pub String);

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret([redacted])")
    }
}

/// Secret settings (the Twilio auth tokens): used like the `Vec` they deref to, but their
/// `Debug` form shows only how many there are (issue 27 §14: `Config`'s `Debug` must never
/// print a token).
#[derive(Clone, PartialEq, Eq, Default)]
pub struct Secrets(pub Vec<String>);

impl std::ops::Deref for Secrets {
    type Target = Vec<String>;
    fn deref(&self) -> &Vec<String> {
        &self.0
    }
}

impl std::fmt::Debug for Secrets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Secrets([{} redacted])", self.0.len())
    }
}

/// Everything the functions read from the environment, parsed once at start-up.
#[derive(Debug, Clone)]
pub struct Config {
    /// `STAGE`: `local`, `dev`, `prod`… Only `local` allows the signature bypass.
    pub stage: String,
    /// `PUBLIC_BASE_URL`: the public URL Twilio calls, without trailing slash
    /// (e.g. `https://abc.execute-api.ca-central-1.amazonaws.com`). Signed URLs and every
    /// callback URL are built from it, never from the Host header (flaw F-32).
    pub public_base_url: String,
    /// `TWILIO_AUTH_TOKEN` then `TWILIO_AUTH_TOKEN_SECONDARY` (rotation): signature keys.
    pub auth_tokens: Secrets,
    /// `TWILIO_ACCOUNT_SID`: user name for recording downloads.
    pub account_sid: String,
    /// `TWILIO_API_BASE` (default `https://api.twilio.com`): recordings are only downloaded from
    /// URLs under it, so credentials never go to another host.
    pub twilio_api_base: String,
    /// `TWILIO_MESSAGING_BASE` (default `https://messaging.twilio.com`): Twilio's messaging v1
    /// host (Messaging Services), a mock locally.
    pub twilio_messaging_base: String,
    /// `TWILIO_NUMBERS_BASE` (default `https://numbers.twilio.com`): Twilio's numbers v1/v2 host
    /// (hosted SMS, porting), a mock locally.
    pub twilio_numbers_base: String,
    /// `COMPLIANCE_TABLE`: per-org A2P records and number orders (issue 10); unset → no org is
    /// approved, so texts from US numbers are not sent.
    pub compliance_table: Option<String>,
    /// `FORWARDING_TABLE`: hybrid forwarding settings, configs, audit and SIM routes (issue 11);
    /// unset → forwarded calls are routed by `To` only.
    pub forwarding_table: Option<String>,
    /// `TRANSACTIONS_TABLE`: provisioning sagas (ops functions only).
    pub transactions_table: Option<String>,
    /// `IDEMPOTENCY_TABLE`: idempotency keys of the ops API (ops functions only).
    pub idempotency_table: Option<String>,
    /// `CONTACTS_TABLE`: known callers (frontdoor and ops API); unset → no personal greetings.
    pub contacts_table: Option<String>,
    /// `PRIVACY_TABLE`: privacy requests' audit records and erasure plans (issue 25).
    pub privacy_table: Option<String>,
    /// `SUBMISSIONS_TABLE`: contact-form submissions (searched by privacy requests).
    pub submissions_table: Option<String>,
    /// `MESSAGING_SERVICE_SID` (`MG…`): the Messaging Service new numbers join, if any.
    pub messaging_service_sid: Option<String>,
    /// `SUBACCOUNT_PER_ORG=true`: onboarding gives each org its own Twilio subaccount (created
    /// once) and buys the org's numbers under it. Default false (numbers in the main account).
    pub subaccount_per_org: bool,
    /// `VOICE_EN`, `VOICE_FR`: the `<Say>` voice of each language (defaults:
    /// [`Voices::DEFAULT`], Amazon Polly neural voices); the language attribute stays en-US /
    /// fr-CA, so an override must speak that language.
    pub voices: Voices,
    /// `TWILIO_SIGNATURE_BYPASS=true` with `STAGE=local`: skip signature checks (warns per request).
    pub signature_bypass: bool,
    /// `CALLS_TABLE`.
    pub calls_table: String,
    /// `NUMBERS_TABLE`.
    pub numbers_table: String,
    /// `RATE_LIMITS_TABLE`.
    pub rate_limits_table: String,
    /// `RECORDINGS_BUCKET`.
    pub recordings_bucket: String,
    /// `VOICEMAIL_TOPIC_ARN`: default topic for voicemail and transcript notices.
    pub voicemail_topic_arn: String,
    /// Defaults for a dialled number absent from the `numbers` table: `BUSINESS_NAME`,
    /// `SALES_TARGET_E164`/`SUPPORT_TARGET_E164` (each falling back to `BUSINESS_TARGET_E164`),
    /// `LANGUAGE`.
    pub default_number: NumberConfig,
    /// `HOTLINE_E164`: the hotline's own number, never dialled (loop guard).
    pub hotline: Option<E164>,
    /// `VOICEMAIL_MAX_SECONDS` (default 120): `<Record maxLength>`.
    pub voicemail_max: Duration,
    /// `RATE_LIMITS` (default [`DEFAULT_RATE_LIMITS`]): per-caller limits as `calls/seconds`,
    /// comma-separated.
    pub rate_limits: Vec<Limit>,
    /// `BLOCKED_CALLERS`: comma-separated numbers answered with `<Reject reason="rejected">`.
    pub blocked_callers: Vec<String>,
    /// `NUMBER_CACHE_SECONDS` (default 60): how long a `numbers` lookup is cached in memory.
    pub number_cache_ttl: Duration,
    /// `RETENTION_DAYS` (default 90): TTL of call and recording records (transcripts included).
    pub retention: Duration,
    /// `RECORDING_MAX_BYTES` (default 40 MiB): larger recordings are not copied (the URL is kept).
    pub recording_max_bytes: u64,
    /// `MESSAGES_TABLE`: inbound messages and message statuses, keyed by MessageSid.
    pub messages_table: String,
    /// `OPT_OUTS_TABLE`: SMS opt-out/opt-in state per sender number.
    pub opt_outs_table: String,
    /// `SMS_TOPIC_ARN`: staff notices of inbound messages.
    pub sms_topic_arn: String,
    /// `SMS_AUTO_REPLY_WINDOW_SECONDS` (default 86400): at most one auto-reply per sender and
    /// business number per window.
    pub sms_auto_reply_window: Duration,
    /// `MMS_MAX_BYTES` (default 5 MiB): larger media are not copied (the URL is kept).
    pub mms_max_bytes: u64,
    /// `MESSAGE_RETENTION_DAYS` (default 30): TTL of message bodies and parameters.
    pub message_retention: Duration,
    /// `OPT_OUT_RETENTION_DAYS` (default 1095, three years): TTL of opt-out/opt-in records.
    pub opt_out_retention: Duration,
    /// `STREAM_SECRET` (at least 32 characters; from Secrets Manager in the template): the key
    /// of the AI stream tokens. Unset → no number is handed to the AI (the menu instead).
    pub stream_secret: Option<Secret>,
    /// `SUPPRESSION_SECRET` (optional, at least 32 characters): the HMAC key of the suppression
    /// entries an erased opt-out leaves (issue 25; [`telephony_core::privacy::suppression_key`]).
    /// Without it an erasure refuses to touch an opt-out.
    pub suppression_secret: Option<Secret>,
    /// `STREAM_WATCHDOG_MS` (default 3000, 500–30000): a stream starting later than this after
    /// the `<Connect>` falls back to a person.
    pub stream_watchdog: Duration,
    /// `RELAY_URL`: the WebSocket API's `wss://…/<stage>` URL the `<ConversationRelay>` connects
    /// to (issue 28; a template output), without a query. Unset → numbers on the relay engine
    /// get the menu.
    pub relay_url: Option<String>,
}

pub use crate::needs::{process_env, Env, Needs, VarGroup, EVERYTHING};

const DAY: u64 = 86_400;

/// The per-caller limits when `RATE_LIMITS` is unset: 10 calls a minute and 5 per 15 minutes,
/// both windows as the seeds set them (seed `003`, spec §3; issue 22 §9).
pub const DEFAULT_RATE_LIMITS: &str = "10/60,5/900";

impl Config {
    /// Reads every variable from the process environment ([`EVERYTHING`]; tools and the local
    /// run).
    ///
    /// Errors: [`ConfigError`] naming the first missing or invalid variable.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::load(&Env::new(&EVERYTHING, &process_env))
    }

    /// Reads every variable through `get` ([`EVERYTHING`]; a map in tests). Empty values count
    /// as unset.
    ///
    /// Errors: [`ConfigError`] naming the first missing or invalid variable.
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        Self::load(&Env::new(&EVERYTHING, &get))
    }

    /// Reads the variables `env` declares; a table or URL the function does not declare is
    /// left empty (`""`), an optional setting at its default.
    ///
    /// Errors: [`ConfigError`] naming the first missing or invalid variable.
    pub fn load(env: &Env<'_>) -> Result<Self, ConfigError> {
        let opt = |k: &str| env.get(k);
        let req = |k: &'static str| env.required_here(k);
        // The required variables this configuration reads (a function's own settings check
        // theirs); the signature keys may be absent under the local bypass (checked below).
        let own = |n: &str| EVERYTHING.reads(n);
        for name in env.needs().required().into_iter().filter(|n| own(n)) {
            if name != "TWILIO_AUTH_TOKEN" {
                env.required(name)?;
            }
        }
        let e164 = |k: &'static str| -> Result<Option<E164>, ConfigError> {
            opt(k)
                .map(|v| {
                    // Syntax only: libphonenumber's numbering-plan check runs where operators
                    // write numbers (the `numbering-plan` crate; `call-simulator check-config`).
                    E164::parse_syntax(&v).map_err(|e| ConfigError::Invalid {
                        name: k,
                        reason: e.to_string(),
                    })
                })
                .transpose()
        };
        let invalid = |name: &'static str, want: &str| ConfigError::Invalid {
            name,
            reason: format!("use {want}"),
        };
        let num = |k: &'static str, default: u64| -> Result<u64, ConfigError> {
            opt(k).map_or(Ok(default), |v| {
                v.parse().map_err(|_| ConfigError::Invalid {
                    name: k,
                    reason: format!("{v:?} is not a whole number"),
                })
            })
        };

        // Operator text spoken or texted to callers must be XML 1.0 text, or TwiML holding it
        // is rejected by Twilio (12100); refused here, at start-up, with the variable named (the
        // TwiML writer also drops such characters, as a second line of defence).
        for name in ["BUSINESS_NAME", "SMS_AUTO_REPLY"] {
            if let Some(bad) = opt(name).and_then(|v| v.chars().find(|c| !is_xml_char(*c))) {
                return Err(ConfigError::Invalid {
                    name,
                    reason: format!("holds the control character U+{:04X}", bad as u32),
                });
            }
        }
        let stage = opt("STAGE").unwrap_or_else(|| "prod".into());
        let bypass_asked = opt("TWILIO_SIGNATURE_BYPASS").is_some_and(|v| v == "true");
        if bypass_asked && stage != "local" {
            return Err(ConfigError::Invalid {
                name: "TWILIO_SIGNATURE_BYPASS",
                reason: "only allowed with STAGE=local".into(),
            });
        }
        let auth_tokens: Vec<String> =
            [opt("TWILIO_AUTH_TOKEN"), opt("TWILIO_AUTH_TOKEN_SECONDARY")]
                .into_iter()
                .flatten()
                .collect();
        if auth_tokens.is_empty() && !bypass_asked && env.needs().requires("TWILIO_AUTH_TOKEN") {
            return Err(ConfigError::Missing("TWILIO_AUTH_TOKEN"));
        }
        let public_base_url = req("PUBLIC_BASE_URL")?.trim_end_matches('/').to_owned();
        let is_url = |u: &str| u.starts_with("https://") || u.starts_with("http://");
        if !public_base_url.is_empty() && !is_url(&public_base_url) {
            return Err(ConfigError::Invalid {
                name: "PUBLIC_BASE_URL",
                reason: "must start with https://".into(),
            });
        }
        let business = e164("BUSINESS_TARGET_E164")?;
        let voicemail_max = num("VOICEMAIL_MAX_SECONDS", 120)?;
        if !(1..=14_400).contains(&voicemail_max) {
            return Err(ConfigError::Invalid {
                name: "VOICEMAIL_MAX_SECONDS",
                reason: "must be 1..=14400".into(),
            });
        }
        let stream_secret = opt("STREAM_SECRET").map(Secret);
        let suppression_secret = opt("SUPPRESSION_SECRET").map(Secret);
        if suppression_secret.as_ref().is_some_and(|s| s.0.len() < 32) {
            return Err(ConfigError::Invalid {
                name: "SUPPRESSION_SECRET",
                reason: "must be at least 32 characters".into(),
            });
        }
        if stream_secret.as_ref().is_some_and(|s| s.0.len() < 32) {
            return Err(ConfigError::Invalid {
                name: "STREAM_SECRET",
                reason: "must be at least 32 characters".into(),
            });
        }
        let watchdog_ms = num(
            "STREAM_WATCHDOG_MS",
            telephony_core::stream::DEFAULT_WATCHDOG_MS,
        )?;
        if !(500..=30_000).contains(&watchdog_ms) {
            return Err(ConfigError::Invalid {
                name: "STREAM_WATCHDOG_MS",
                reason: "must be 500..=30000".into(),
            });
        }
        let relay_url = opt("RELAY_URL");
        if let Some(url) = &relay_url {
            telephony_core::stream::check_stream_url(url).map_err(|reason| {
                ConfigError::Invalid {
                    name: "RELAY_URL",
                    reason,
                }
            })?;
            if url.contains(['?', '#']) {
                return Err(ConfigError::Invalid {
                    name: "RELAY_URL",
                    reason:
                        "must carry no query or fragment (the handshake signature covers the URL)"
                            .into(),
                });
            }
        }
        Ok(Self {
            relay_url,
            stream_secret,
            suppression_secret,
            stream_watchdog: Duration::from_millis(watchdog_ms),
            stage,
            public_base_url,
            auth_tokens: Secrets(auth_tokens),
            account_sid: opt("TWILIO_ACCOUNT_SID").unwrap_or_default(),
            twilio_api_base: opt("TWILIO_API_BASE").unwrap_or_else(|| twilio_api::API_BASE.into()),
            twilio_messaging_base: opt("TWILIO_MESSAGING_BASE")
                .unwrap_or_else(|| twilio_api::MESSAGING_BASE.into()),
            twilio_numbers_base: opt("TWILIO_NUMBERS_BASE")
                .unwrap_or_else(|| twilio_api::NUMBERS_BASE.into()),
            compliance_table: opt("COMPLIANCE_TABLE"),
            forwarding_table: opt("FORWARDING_TABLE"),
            transactions_table: opt("TRANSACTIONS_TABLE"),
            idempotency_table: opt("IDEMPOTENCY_TABLE"),
            messaging_service_sid: opt("MESSAGING_SERVICE_SID"),
            contacts_table: opt("CONTACTS_TABLE"),
            privacy_table: opt("PRIVACY_TABLE"),
            submissions_table: opt("SUBMISSIONS_TABLE"),
            subaccount_per_org: opt("SUBACCOUNT_PER_ORG").as_deref() == Some("true"),
            signature_bypass: bypass_asked,
            calls_table: req("CALLS_TABLE")?,
            numbers_table: req("NUMBERS_TABLE")?,
            rate_limits_table: req("RATE_LIMITS_TABLE")?,
            recordings_bucket: req("RECORDINGS_BUCKET")?,
            voicemail_topic_arn: req("VOICEMAIL_TOPIC_ARN")?,
            default_number: NumberConfig {
                business_name: opt("BUSINESS_NAME").unwrap_or_else(|| "TradeLine 24/7".into()),
                sales_target: e164("SALES_TARGET_E164")?.or_else(|| business.clone()),
                support_target: e164("SUPPORT_TARGET_E164")?.or(business),
                language: opt("LANGUAGE").unwrap_or_else(|| "en-US".into()),
                voicemail_topic_arn: None,
                sms_auto_reply: opt("SMS_AUTO_REPLY"),
                speech_input: opt("SPEECH_INPUT").as_deref() != Some("false"),
                org_id: "default".into(),
                hours: None,
                after_hours_target: None,
                missed_call_text: opt("MISSED_CALL_TEXT").as_deref() == Some("true"),
                whatsapp_enabled: opt("WHATSAPP_ENABLED").as_deref() == Some("true"),
                whatsapp_template_sid: opt("WHATSAPP_TEMPLATE_SID"),
                ai: None,
                screening: telephony_core::screening::Screening {
                    default: opt("SCREENING")
                        .map(|v| {
                            telephony_core::screening::ScreenSetting::parse(&v)
                                .ok_or_else(|| invalid("SCREENING", "on, off or auto"))
                        })
                        .transpose()?
                        .unwrap_or_default(),
                    ..Default::default()
                },
                robocall_gate: opt("ROBOCALL_GATE")
                    .map(|v| {
                        telephony_core::gate::RobocallGate::parse(&v).ok_or_else(|| {
                            invalid("ROBOCALL_GATE", "off, unverified or failed-only")
                        })
                    })
                    .transpose()?
                    .unwrap_or_default(),
            },
            voices: Voices {
                en: Voice {
                    voice: opt("VOICE_EN").map_or(Voices::DEFAULT.en.voice, leak),
                    language: Voices::DEFAULT.en.language,
                },
                fr: Voice {
                    voice: opt("VOICE_FR").map_or(Voices::DEFAULT.fr.voice, leak),
                    language: Voices::DEFAULT.fr.language,
                },
            },
            hotline: e164("HOTLINE_E164")?,
            voicemail_max: Duration::from_secs(voicemail_max),
            rate_limits: parse_limits(
                &opt("RATE_LIMITS").unwrap_or_else(|| DEFAULT_RATE_LIMITS.into()),
            )
            .map_err(|reason| ConfigError::Invalid {
                name: "RATE_LIMITS",
                reason,
            })?,
            blocked_callers: opt("BLOCKED_CALLERS")
                .map(|v| {
                    v.split(',')
                        .map(|s| s.trim().to_owned())
                        .filter(|s| !s.is_empty())
                        .collect()
                })
                .unwrap_or_default(),
            number_cache_ttl: Duration::from_secs(num("NUMBER_CACHE_SECONDS", 60)?),
            retention: Duration::from_secs(num("RETENTION_DAYS", 90)? * DAY),
            recording_max_bytes: num("RECORDING_MAX_BYTES", 40 * 1024 * 1024)?,
            messages_table: req("MESSAGES_TABLE")?,
            opt_outs_table: req("OPT_OUTS_TABLE")?,
            sms_topic_arn: req("SMS_TOPIC_ARN")?,
            sms_auto_reply_window: Duration::from_secs(num("SMS_AUTO_REPLY_WINDOW_SECONDS", DAY)?),
            mms_max_bytes: num("MMS_MAX_BYTES", 5 * 1024 * 1024)?,
            message_retention: Duration::from_secs(num("MESSAGE_RETENTION_DAYS", 30)? * DAY),
            opt_out_retention: Duration::from_secs(num("OPT_OUT_RETENTION_DAYS", 3 * 365)? * DAY),
        })
    }

    /// The tokens to verify signatures with, primary first.
    pub fn token_refs(&self) -> Vec<&str> {
        self.auth_tokens.iter().map(String::as_str).collect()
    }
}

/// The smallest valid environment (unit tests of this crate).
#[cfg(test)]
pub(crate) fn test_vars() -> std::collections::HashMap<&'static str, &'static str> {
    std::collections::HashMap::from([
        ("PUBLIC_BASE_URL", "https://hooks.example/"),
        ("TWILIO_AUTH_TOKEN", "tok"),
        ("CALLS_TABLE", "calls"),
        ("NUMBERS_TABLE", "numbers"),
        ("RATE_LIMITS_TABLE", "rl"),
        ("RECORDINGS_BUCKET", "b"),
        (
            "VOICEMAIL_TOPIC_ARN",
            "arn:aws:sns:us-east-1:123456789012:vm",
        ),
        ("BUSINESS_TARGET_E164", "+14165550100"),
        ("MESSAGES_TABLE", "messages"),
        ("OPT_OUTS_TABLE", "opt-outs"),
        ("SMS_TOPIC_ARN", "arn:aws:sns:us-east-1:123456789012:sms"),
    ])
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn base() -> HashMap<&'static str, &'static str> {
        test_vars()
    }

    fn load(vars: &HashMap<&'static str, &'static str>) -> Result<Config, ConfigError> {
        Config::from_lookup(|k| vars.get(k).map(|v| v.to_string()))
    }

    #[test]
    fn debug_never_prints_an_auth_token() {
        let mut v = base();
        v.insert("TWILIO_AUTH_TOKEN", "tok-primary-5f3a9c");
        v.insert("TWILIO_AUTH_TOKEN_SECONDARY", "tok-secondary-77e1");
        let c = load(&v).unwrap();
        let token = c.auth_tokens[0].clone();
        assert_eq!(c.auth_tokens.len(), 2);
        assert!(!format!("{c:?}").contains("tok-secondary"));
        let shown = format!("{c:?}");
        assert!(!shown.contains(&token), "{shown}");
        assert!(shown.contains("redacted"));
    }

    #[test]
    fn defaults_apply() {
        let c = load(&base()).unwrap();
        assert_eq!(c.public_base_url, "https://hooks.example");
        assert_eq!(c.voicemail_max, Duration::from_secs(120));
        assert_eq!(c.rate_limits.len(), 2, "both windows by default");
        assert_eq!(c.rate_limits[0].max_calls, 10);
        assert_eq!(c.rate_limits[1].max_calls, 5);
        assert_eq!(
            c.default_number.sales_target.as_ref().unwrap().as_str(),
            "+14165550100"
        );
        assert_eq!(c.stage, "prod");
        assert!(!c.signature_bypass);
    }

    #[test]
    fn bypass_only_locally_and_bad_values_are_named() {
        let mut v = base();
        v.insert("TWILIO_SIGNATURE_BYPASS", "true");
        assert!(matches!(
            load(&v),
            Err(ConfigError::Invalid {
                name: "TWILIO_SIGNATURE_BYPASS",
                ..
            })
        ));
        v.insert("STAGE", "local");
        assert!(load(&v).unwrap().signature_bypass);

        let mut v = base();
        v.insert("SALES_TARGET_E164", "+1 416 555 0100 ext. 7");
        assert!(matches!(
            load(&v),
            Err(ConfigError::Invalid {
                name: "SALES_TARGET_E164",
                ..
            })
        ));
        let mut v = base();
        v.insert("BUSINESS_NAME", "Acme\u{1} Plumbing");
        assert!(matches!(
            load(&v),
            Err(ConfigError::Invalid {
                name: "BUSINESS_NAME",
                ..
            })
        ));
        let mut v = base();
        v.remove("CALLS_TABLE");
        assert_eq!(load(&v).unwrap_err(), ConfigError::Missing("CALLS_TABLE"));
        let mut v = base();
        v.remove("TWILIO_AUTH_TOKEN");
        assert_eq!(
            load(&v).unwrap_err(),
            ConfigError::Missing("TWILIO_AUTH_TOKEN")
        );
    }
}
