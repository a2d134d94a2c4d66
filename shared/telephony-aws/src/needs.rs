//! Which environment variables each function reads: the declaration types ([`VarGroup`],
//! [`Needs`], [`Env`]) and the variable groups functions compose their `NEEDS` from, each group
//! what one part of the shared code reads. [`EVERYTHING`] is every group: what
//! [`crate::Config`] can read.

use crate::config::ConfigError;

/// A group of environment variables one part of the code reads together (e.g.
/// [`crate::needs::CALLS`]: the calls table and its retention): `required` must be set,
/// `optional` may be (a default applies).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VarGroup {
    /// Must be set.
    pub required: &'static [&'static str],
    /// May be set.
    pub optional: &'static [&'static str],
}

/// The environment variables a function reads, declared once in its crate (`NEEDS`, a list of
/// [`VarGroup`]s from [`crate::needs`] and its own) and handed to [`crate::glue::serve`]. Every
/// other variable is left unread, so each function starts with exactly the settings it declares
/// and requires a table only where it uses it; `template.yaml` sets on each function only the
/// variables it reads (`tests/tests/settings.rs` checks both ways, and its deploy rehearsal
/// starts every function from the environment CloudFormation resolved for it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Needs {
    /// What a kind of function reads in common (e.g. [`crate::needs::VOICE_STEP`]), if any.
    pub base: Option<&'static Needs>,
    /// The groups read besides.
    pub groups: &'static [&'static VarGroup],
}

impl Needs {
    /// Whether `name` is declared.
    pub fn reads(&self, name: &str) -> bool {
        self.base.is_some_and(|b| b.reads(name))
            || self
                .groups
                .iter()
                .any(|g| g.required.contains(&name) || g.optional.contains(&name))
    }

    /// Whether `name` must be set.
    pub fn requires(&self, name: &str) -> bool {
        self.base.is_some_and(|b| b.requires(name))
            || self.groups.iter().any(|g| g.required.contains(&name))
    }

    /// Every group, the base's first.
    fn every_group(&self) -> Vec<&'static VarGroup> {
        let mut out = self.base.map(Needs::every_group).unwrap_or_default();
        out.extend(self.groups.iter().copied());
        out
    }

    /// The variables that must be set.
    pub fn required(&self) -> Vec<&'static str> {
        let mut out = Vec::new();
        for g in self.every_group() {
            out.extend_from_slice(g.required);
        }
        out
    }

    /// Every declared variable, each group's required ones first (a name may repeat).
    pub fn all(&self) -> Vec<&'static str> {
        let mut out = Vec::new();
        for g in self.every_group() {
            out.extend_from_slice(g.required);
            out.extend_from_slice(g.optional);
        }
        out
    }
}

/// A function's view of the environment: only the variables its [`Needs`] declare are read
/// (any other reads as unset); values are trimmed and an empty value counts as unset.
pub struct Env<'a> {
    needs: &'a Needs,
    get: &'a dyn Fn(&str) -> Option<String>,
}

impl<'a> Env<'a> {
    /// `needs` over `get` (the process environment, or a map).
    pub fn new(needs: &'a Needs, get: &'a dyn Fn(&str) -> Option<String>) -> Self {
        Self { needs, get }
    }

    /// The declaration.
    pub fn needs(&self) -> &Needs {
        self.needs
    }

    /// A declared variable's value; `None` when unset, empty or not declared.
    pub fn get(&self, name: &str) -> Option<String> {
        if !self.needs.reads(name) {
            return None;
        }
        (self.get)(name)
            .map(|v| v.trim().to_owned())
            .filter(|v| !v.is_empty())
    }

    /// A variable that must be set.
    ///
    /// Errors: [`ConfigError::Missing`].
    pub fn required(&self, name: &'static str) -> Result<String, ConfigError> {
        self.get(name).ok_or(ConfigError::Missing(name))
    }

    /// The variable when the function requires it (missing → error), else its value or `""`
    /// (a function that does not use a table starts without it).
    ///
    /// Errors: [`ConfigError::Missing`] for a required variable that is unset.
    pub fn required_here(&self, name: &'static str) -> Result<String, ConfigError> {
        if self.needs.requires(name) {
            self.required(name)
        } else {
            Ok(self.get(name).unwrap_or_default())
        }
    }
}

/// The process environment.
pub fn process_env(name: &str) -> Option<String> {
    std::env::var(name).ok()
}

/// A Twilio-signed webhook ([`crate::glue::accept`]): the public URL signatures are computed
/// over and the signing keys; `STAGE` for the local bypass.
pub const SIGNED: VarGroup = VarGroup {
    required: &["PUBLIC_BASE_URL", "TWILIO_AUTH_TOKEN"],
    optional: &[
        "STAGE",
        "TWILIO_AUTH_TOKEN_SECONDARY",
        "TWILIO_SIGNATURE_BYPASS",
    ],
};

/// The defaults of a dialled number absent from the `numbers` table (its name, targets,
/// language and switches; `Config::default_number`).
pub const NUMBER_DEFAULTS: VarGroup = VarGroup {
    required: &[],
    optional: &[
        "BUSINESS_NAME",
        "BUSINESS_TARGET_E164",
        "SALES_TARGET_E164",
        "SUPPORT_TARGET_E164",
        "LANGUAGE",
        "SMS_AUTO_REPLY",
        "SPEECH_INPUT",
        "MISSED_CALL_TEXT",
        "WHATSAPP_ENABLED",
        "WHATSAPP_TEMPLATE_SID",
        "SCREENING",
        "ROBOCALL_GATE",
    ],
};

/// The `numbers` table and its in-memory cache ([`crate::Deps::number_config`]; declare
/// [`NUMBER_DEFAULTS`] beside it).
pub const NUMBERS: VarGroup = VarGroup {
    required: &["NUMBERS_TABLE"],
    optional: &["NUMBER_CACHE_SECONDS"],
};

/// The `calls` table ([`crate::Deps::calls`]) and how long its items live.
pub const CALLS: VarGroup = VarGroup {
    required: &["CALLS_TABLE"],
    optional: &["RETENTION_DAYS"],
};

/// What the caller hears ([`crate::Deps::replies`], [`crate::glue::safe_twiml`]): the voices and
/// the voicemail length.
pub const SPOKEN: VarGroup = VarGroup {
    required: &[],
    optional: &["VOICE_EN", "VOICE_FR", "VOICEMAIL_MAX_SECONDS"],
};

/// The hotline's own number: never dialled, and one of our own numbers.
pub const HOTLINE: VarGroup = VarGroup {
    required: &[],
    optional: &["HOTLINE_E164"],
};

/// The frontdoor's per-caller limits and their table, and the blocked callers.
pub const CALLER_LIMITS: VarGroup = VarGroup {
    required: &["RATE_LIMITS_TABLE"],
    optional: &["RATE_LIMITS", "BLOCKED_CALLERS"],
};

/// Hybrid forwarding's table: forwarded calls, the dialling markers of the loop guard.
pub const FORWARDED: VarGroup = VarGroup {
    required: &[],
    optional: &["FORWARDING_TABLE"],
};

/// Known callers ([`crate::Deps::known_caller`]).
pub const KNOWN_CALLERS: VarGroup = VarGroup {
    required: &[],
    optional: &["CONTACTS_TABLE"],
};

/// The provisioning sagas' table (the ops summary reads their failures).
pub const TRANSACTIONS: VarGroup = VarGroup {
    required: &[],
    optional: &["TRANSACTIONS_TABLE"],
};

/// Twilio's REST API ([`crate::Deps::twilio`]): the account, its key and the hosts (mocks
/// locally); without them the function starts and answers that Twilio is not configured.
pub const TWILIO_REST: VarGroup = VarGroup {
    required: &[],
    optional: &[
        "TWILIO_ACCOUNT_SID",
        "TWILIO_AUTH_TOKEN",
        "TWILIO_API_BASE",
        "TWILIO_MESSAGING_BASE",
        "TWILIO_NUMBERS_BASE",
    ],
};

/// Texts ([`crate::Deps::messages`], [`crate::texting_gate`]): messages, opt-outs (and their
/// suppression entries), the per-sender counters, the A2P gate.
pub const TEXTING: VarGroup = VarGroup {
    required: &["MESSAGES_TABLE", "OPT_OUTS_TABLE", "RATE_LIMITS_TABLE"],
    optional: &[
        "COMPLIANCE_TABLE",
        "SUPPRESSION_SECRET",
        "MESSAGE_RETENTION_DAYS",
        "OPT_OUT_RETENTION_DAYS",
        "SMS_AUTO_REPLY_WINDOW_SECONDS",
    ],
};

/// The recordings bucket (voicemail audio and MMS media) and what is copied into it.
pub const RECORDINGS: VarGroup = VarGroup {
    required: &["RECORDINGS_BUCKET"],
    optional: &["RECORDING_MAX_BYTES", "MMS_MAX_BYTES"],
};

/// Staff notices of voicemails and transcripts.
pub const VOICEMAIL_NOTICES: VarGroup = VarGroup {
    required: &["VOICEMAIL_TOPIC_ARN"],
    optional: &[],
};

/// Staff notices of texts.
pub const SMS_NOTICES: VarGroup = VarGroup {
    required: &["SMS_TOPIC_ARN"],
    optional: &[],
};

/// The key of the AI's stream and relay tokens.
pub const STREAM_TOKENS: VarGroup = VarGroup {
    required: &[],
    optional: &["STREAM_SECRET"],
};

/// The ConversationRelay WebSocket URL.
pub const RELAY: VarGroup = VarGroup {
    required: &[],
    optional: &["RELAY_URL"],
};

/// How long a stream may take to start before the caller is given a person.
pub const STREAM_WATCHDOG: VarGroup = VarGroup {
    required: &[],
    optional: &["STREAM_WATCHDOG_MS"],
};

/// Privacy requests ([`crate::privacy`]): every table and the bucket they search, the audit
/// table and the suppression key.
pub const PRIVACY: VarGroup = VarGroup {
    required: &[
        "CALLS_TABLE",
        "NUMBERS_TABLE",
        "MESSAGES_TABLE",
        "OPT_OUTS_TABLE",
        "RATE_LIMITS_TABLE",
        "RECORDINGS_BUCKET",
    ],
    optional: &[
        "PRIVACY_TABLE",
        "CONTACTS_TABLE",
        "SUBMISSIONS_TABLE",
        "SUPPRESSION_SECRET",
        "FORWARDING_TABLE",
    ],
};

/// What every TwiML step of a call reads: a signed webhook, the number (table and defaults), the
/// calls table, what the caller hears, the hotline, and the forwarding table (every `<Dial>` is
/// marked for the loop guard, [`crate::glue::voice_webhook`]).
pub const VOICE_STEP: Needs = Needs {
    base: None,
    groups: &[
        &SIGNED,
        &NUMBERS,
        &NUMBER_DEFAULTS,
        &CALLS,
        &SPOKEN,
        &HOTLINE,
        &FORWARDED,
    ],
};

/// What every callback of a call reads (status, recording, transcription, stream status): a
/// signed webhook, the number and the calls table.
pub const CALLBACK: Needs = Needs {
    base: None,
    groups: &[&SIGNED, &NUMBERS, &NUMBER_DEFAULTS, &CALLS],
};

/// The provisioning workflows (the `provisioning` crate's settings): the public URL numbers are
/// bound to, the sagas', idempotency keys' and compliance tables, the Messaging Service and the
/// subaccount switch, and the forwarding table (a number SIMs forward to is not released).
pub const PROVISIONING: VarGroup = VarGroup {
    required: &["PUBLIC_BASE_URL"],
    optional: &[
        "TRANSACTIONS_TABLE",
        "IDEMPOTENCY_TABLE",
        "COMPLIANCE_TABLE",
        "MESSAGING_SERVICE_SID",
        "SUBACCOUNT_PER_ORG",
        "FORWARDING_TABLE",
    ],
};

/// Every group: what [`crate::Config`] can read, the tables every webhook once required marked
/// required (the configuration of the in-process tests, the simulator and the tools, which play
/// every function in one process).
pub const EVERYTHING: Needs = Needs {
    base: None,
    groups: &[
        &SIGNED,
        &NUMBER_DEFAULTS,
        &NUMBERS,
        &CALLS,
        &SPOKEN,
        &HOTLINE,
        &CALLER_LIMITS,
        &FORWARDED,
        &KNOWN_CALLERS,
        &TRANSACTIONS,
        &TWILIO_REST,
        &TEXTING,
        &RECORDINGS,
        &VOICEMAIL_NOTICES,
        &SMS_NOTICES,
        &STREAM_TOKENS,
        &RELAY,
        &STREAM_WATCHDOG,
        &PRIVACY,
        &PROVISIONING,
    ],
};
