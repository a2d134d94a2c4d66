//! Everything a handler needs: the configuration, read once per process in `main` (spec §2.3), and
//! the clients, each built once, on first use.

use crate::config::{process_env, Config, ConfigError, Env, EVERYTHING};
use crate::numbers::NumberDirectory;
use aws_credential_types::provider::SharedCredentialsProvider;
use aws_credential_types::Credentials;
use aws_smithy_runtime_api::client::behavior_version::BehaviorVersion;
use aws_smithy_types::retry::RetryConfig;
use aws_smithy_types::timeout::TimeoutConfig;
use aws_types::region::Region;
pub use aws_types::SdkConfig;
use std::time::Duration;

/// Per-attempt timeout of an AWS call: about 2 s (spec §2.3).
pub const AWS_ATTEMPT_TIMEOUT: Duration = Duration::from_secs(2);
/// Whole-operation budget of an AWS call (2 attempts), well inside Twilio's 15 s wait.
pub const AWS_OPERATION_TIMEOUT: Duration = Duration::from_millis(4_500);
/// Connection set-up timeout.
pub const AWS_CONNECT_TIMEOUT: Duration = Duration::from_secs(1);
/// Attempts per AWS call (first try plus one retry).
pub const AWS_MAX_ATTEMPTS: u32 = 2;
/// Timeout of a recording download from Twilio.
pub const DOWNLOAD_TIMEOUT: Duration = Duration::from_secs(6);

/// Configuration and clients, shared by every invocation of a warm Lambda.
#[derive(Debug)]
pub struct Deps {
    /// Settings.
    pub config: Config,
    /// What the SDK clients are built from (region, endpoint, credentials, the one HTTPS
    /// client they share, timeouts and retries).
    sdk: SdkConfig,
    /// The SDK clients, each built on first use ([`Deps::dynamo`], [`Deps::s3`], [`Deps::sns`]):
    /// a function that never calls a service does not link its client (issue 23: the S3
    /// client's endpoint rules alone are ~190 KB of each bootstrap). Building one is a few
    /// microseconds and opens no connection; connections are opened on the first call either way.
    dynamo: std::sync::OnceLock<aws_sdk_dynamodb::Client>,
    s3: std::sync::OnceLock<aws_sdk_s3::Client>,
    sns: std::sync::OnceLock<aws_sdk_sns::Client>,
    /// HTTPS client for Twilio media (rustls), built on first use (loading root certificates
    /// takes ~4 ms; most functions never download media).
    http: std::sync::OnceLock<reqwest::Client>,
    /// `numbers` table with its in-memory cache.
    pub numbers: NumberDirectory,
    /// Twilio REST client, built on first use (only the monitor's reconciler calls Twilio).
    twilio: std::sync::OnceLock<twilio_api::Client>,
    /// The variables the configuration was read from, kept only by the in-process tests
    /// ([`Deps::with_source`]) so each handler can be given its own declared settings.
    source: Option<Source>,
}

/// The raw variables of a test stack; `Debug` shows only their names (some are secrets).
#[derive(Clone)]
struct Source(std::sync::Arc<std::collections::HashMap<String, String>>);

impl std::fmt::Debug for Source {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.0.keys()).finish()
    }
}

impl Deps {
    /// Reads [`Config`] from the environment and builds the clients. The SDK honours
    /// `AWS_REGION`, credentials and `AWS_ENDPOINT_URL` (moto locally) from the environment.
    ///
    /// Errors: [`ConfigError`] for missing or invalid settings.
    pub async fn from_env() -> Result<Self, ConfigError> {
        Self::load(&Env::new(&EVERYTHING, &process_env))
    }

    /// Reads the variables `env` declares ([`Config::load`]) and builds the clients; the SDK
    /// honours `AWS_REGION`, credentials and `AWS_ENDPOINT_URL` from the process environment
    /// (Lambda's runtime sets them, not the template).
    ///
    /// Errors: [`ConfigError`] for missing or invalid settings.
    pub fn load(env: &Env<'_>) -> Result<Self, ConfigError> {
        let config = Config::load(env)?;
        let sdk = AwsTarget::from_env()?.sdk_config();
        Ok(Self::new(config, &sdk))
    }

    /// Builds clients for `config` from an already loaded SDK configuration (tests point this
    /// at their own moto server).
    pub fn new(config: Config, sdk: &SdkConfig) -> Self {
        let numbers = NumberDirectory::new(config.numbers_table.clone(), config.number_cache_ttl);
        Self {
            sdk: sdk.clone(),
            dynamo: std::sync::OnceLock::new(),
            s3: std::sync::OnceLock::new(),
            sns: std::sync::OnceLock::new(),
            http: std::sync::OnceLock::new(),
            numbers,
            twilio: std::sync::OnceLock::new(),
            source: None,
            config,
        }
    }

    /// Keeps `vars`, the variables this `Deps`' configuration was read from, for
    /// [`Deps::narrow`] (the in-process tests).
    pub fn with_source(mut self, vars: std::collections::HashMap<String, String>) -> Self {
        self.source = Some(Source(std::sync::Arc::new(vars)));
        self
    }
}

impl Deps {
    /// The same clients with the configuration a function declaring `needs` reads from the
    /// variables kept by [`Deps::with_source`], sharing the number cache: how the in-process tests run each
    /// handler with exactly its declared settings.
    ///
    /// Errors: [`ConfigError`] for a required variable this configuration lacks.
    pub fn narrow(&self, needs: &crate::config::Needs) -> Result<Self, ConfigError> {
        let source = self
            .source
            .clone()
            .ok_or(ConfigError::Missing("the variables of Deps::with_source"))?;
        let get = |k: &str| source.0.get(k).cloned();
        let mut own = self.with_config(Config::load(&Env::new(needs, &get))?);
        own.source = Some(source);
        Ok(own)
    }

    /// The same clients with `config` (a function's own, read elsewhere), sharing the number
    /// cache.
    pub fn with_config(&self, config: Config) -> Self {
        let numbers = self
            .numbers
            .sharing(config.numbers_table.clone(), config.number_cache_ttl);
        Self {
            sdk: self.sdk.clone(),
            dynamo: self.dynamo.clone(),
            s3: self.s3.clone(),
            sns: self.sns.clone(),
            http: std::sync::OnceLock::new(),
            numbers,
            twilio: std::sync::OnceLock::new(),
            source: self.source.clone(),
            config,
        }
    }
}

/// Where the SDK clients send their calls and with which keys.
#[derive(Debug, Clone)]
pub struct AwsTarget {
    /// Region, e.g. `ca-central-1`.
    pub region: String,
    /// Endpoint override for every service (`AWS_ENDPOINT_URL`; moto locally), `None` in AWS.
    pub endpoint_url: Option<String>,
    /// Access key, secret and (for a role) session token.
    pub credentials: Credentials,
    /// The roots the AWS endpoints' certificates are checked against (PEM): [`AWS_ROOTS`], or
    /// the file `AWS_CA_BUNDLE` names (a local TLS stand-in's CA, a corporate proxy's).
    pub trusted_roots: std::borrow::Cow<'static, str>,
}

/// The roots of every AWS endpoint certificate: Amazon Trust Services' Amazon Root CA 1–4 and
/// the Starfield Services Root CA G2 that cross-signs them (AWS Security Blog, "How to prepare
/// for AWS's move to its own certificate authority"), PEM, from Mozilla's root store.
///
/// The SDK clients trust only these (issue 26): loading the system store instead (~140 roots,
/// read and parsed at start) cost 1.1 ms of CPU per cold start, ~15 ms at 128 MB's CPU share.
/// Twilio's media downloads (reqwest) still use the system store.
pub const AWS_ROOTS: &str = include_str!("amazon-trust-services.pem");

impl AwsTarget {
    /// Reads what Lambda gives every function (AWS docs, "Defined runtime environment
    /// variables"): `AWS_REGION` (or `AWS_DEFAULT_REGION`), the execution role's
    /// `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`, and the optional
    /// `AWS_ENDPOINT_URL`, and `AWS_CA_BUNDLE` (the AWS CLI's and botocore's name: a PEM file of
    /// the roots to trust instead of [`AWS_ROOTS`]). Profiles, SSO and instance metadata are
    /// deliberately not read: no function needs them, and the provider chain that reads them
    /// links an STS client into every bootstrap (issue 7: bootstraps ≤ 6 MB).
    ///
    /// Errors: [`ConfigError::Missing`] when the region or the keys are absent;
    /// [`ConfigError::Invalid`] when `AWS_CA_BUNDLE` cannot be read or holds no certificate.
    pub fn from_env() -> Result<Self, ConfigError> {
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
        let region = var("AWS_REGION")
            .or_else(|| var("AWS_DEFAULT_REGION"))
            .ok_or(ConfigError::Missing("AWS_REGION"))?;
        let key = var("AWS_ACCESS_KEY_ID").ok_or(ConfigError::Missing("AWS_ACCESS_KEY_ID"))?;
        let secret =
            var("AWS_SECRET_ACCESS_KEY").ok_or(ConfigError::Missing("AWS_SECRET_ACCESS_KEY"))?;
        let trusted_roots = match var("AWS_CA_BUNDLE") {
            None => std::borrow::Cow::Borrowed(AWS_ROOTS),
            Some(path) => match std::fs::read_to_string(&path) {
                Ok(pem) if pem.contains("-----BEGIN CERTIFICATE-----") => pem.into(),
                _ => {
                    return Err(ConfigError::Invalid {
                        name: "AWS_CA_BUNDLE",
                        reason: format!("{path}: not a readable PEM file of certificates"),
                    })
                }
            },
        };
        Ok(Self {
            region,
            endpoint_url: var("AWS_ENDPOINT_URL"),
            credentials: Credentials::new(key, secret, var("AWS_SESSION_TOKEN"), None, "env"),
            trusted_roots,
        })
    }

    /// The SDK configuration with the hotline's timeouts, retry budget and HTTPS client
    /// (rustls on ring, the same crypto provider as the Twilio client: one TLS stack per
    /// bootstrap), trusting [`AwsTarget::trusted_roots`] only.
    pub fn sdk_config(&self) -> SdkConfig {
        use aws_smithy_http_client::tls;
        let roots = tls::TrustStore::empty()
            .with_native_roots(false)
            .with_pem_certificate(self.trusted_roots.as_bytes());
        let http = aws_smithy_http_client::Builder::new()
            .tls_provider(tls::Provider::Rustls(
                tls::rustls_provider::CryptoMode::Ring,
            ))
            .tls_context(
                tls::TlsContext::builder()
                    .with_trust_store(roots)
                    .build()
                    .expect("a trust store and no extra names always build"),
            )
            .build_https();
        let mut b = SdkConfig::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new(self.region.clone()))
            .credentials_provider(SharedCredentialsProvider::new(self.credentials.clone()))
            .http_client(http)
            .time_source(aws_smithy_async::time::SystemTimeSource::new())
            .timeout_config(
                TimeoutConfig::builder()
                    .connect_timeout(AWS_CONNECT_TIMEOUT)
                    .operation_attempt_timeout(AWS_ATTEMPT_TIMEOUT)
                    .operation_timeout(AWS_OPERATION_TIMEOUT)
                    .build(),
            )
            .retry_config(RetryConfig::standard().with_max_attempts(AWS_MAX_ATTEMPTS));
        if let Some(sleep) = aws_smithy_async::rt::sleep::default_async_sleep() {
            b = b.sleep_impl(sleep);
        }
        if let Some(url) = &self.endpoint_url {
            b = b.endpoint_url(url.clone());
        }
        b.build()
    }
}

impl Deps {
    /// The caller's contact in the number's org (a known caller), if `CONTACTS_TABLE` is set and
    /// `from` is a number; `None` on any failure (logged and counted: the caller is served as
    /// unknown).
    pub async fn known_caller(
        &self,
        number: &telephony_core::flow::NumberConfig,
        from: &str,
        now: u64,
    ) -> Option<crate::contacts::Contact> {
        let table = self.config.contacts_table.as_deref()?;
        let caller = telephony_core::E164::parse_syntax(from).ok()?;
        let contacts = crate::contacts::Contacts {
            dynamo: self.dynamo(),
            table,
        };
        match contacts.get(&number.org_id, &caller, now).await {
            Ok(c) => c,
            Err(e) => {
                tracing::warn!(from = %telephony_core::mask_phone(from), error = %e, "contact lookup failed; caller served as unknown");
                crate::metrics::count("DependencyErrors", Some(("Dependency", e.dependency())));
                None
            }
        }
    }

    /// The `calls` table.
    pub fn calls(&self) -> crate::calls::Calls<'_> {
        crate::calls::Calls::new(
            self.dynamo(),
            &self.config.calls_table,
            self.config.retention.as_secs(),
        )
    }

    /// The configuration of dialled number `to`. When the `numbers` table cannot be read, the
    /// environment defaults apply (the caller is still served) and `DependencyErrors` is counted.
    pub async fn number_config(&self, to: &str) -> telephony_core::flow::NumberConfig {
        match self
            .numbers
            .lookup(self.dynamo(), to, &self.config.default_number)
            .await
        {
            Ok(c) => c,
            Err(e) => {
                tracing::warn!(to = %telephony_core::mask_phone(to), error = %e, "number lookup failed; using defaults");
                crate::metrics::count("DependencyErrors", Some(("Dependency", e.dependency())));
                self.config.default_number.clone()
            }
        }
    }

    /// The messaging tables (messages, opt-outs, auto-reply windows).
    pub fn messages(&self) -> crate::messages::Messages<'_> {
        let c = &self.config;
        crate::messages::Messages::new(
            self.dynamo(),
            &c.messages_table,
            &c.opt_outs_table,
            &c.rate_limits_table,
            c.message_retention.as_secs(),
            c.opt_out_retention.as_secs(),
        )
        .with_suppression(c.suppression_secret.as_ref().map(|k| k.0.as_bytes()))
    }

    /// Whether `e164` is one of our own numbers (in the `numbers` table, or the hotline).
    ///
    /// Errors: [`crate::Error::Dynamo`] when the `numbers` table cannot be read.
    pub async fn is_own_number(&self, e164: &str) -> Result<bool, crate::Error> {
        if self
            .config
            .hotline
            .as_ref()
            .is_some_and(|h| h.as_str() == e164)
        {
            return Ok(true);
        }
        Ok(self
            .numbers
            .find(self.dynamo(), e164, &self.config.default_number)
            .await?
            .is_some())
    }

    /// The DynamoDB client, built on first use.
    pub fn dynamo(&self) -> &aws_sdk_dynamodb::Client {
        self.dynamo
            .get_or_init(|| aws_sdk_dynamodb::Client::new(&self.sdk))
    }

    /// The S3 client (path-style addressing, which moto and every region accept), built on
    /// first use.
    pub fn s3(&self) -> &aws_sdk_s3::Client {
        self.s3.get_or_init(|| {
            aws_sdk_s3::Client::from_conf(
                aws_sdk_s3::config::Builder::from(&self.sdk)
                    .force_path_style(true)
                    .build(),
            )
        })
    }

    /// The SNS client, built on first use.
    pub fn sns(&self) -> &aws_sdk_sns::Client {
        self.sns.get_or_init(|| aws_sdk_sns::Client::new(&self.sdk))
    }

    /// The HTTPS client for Twilio media downloads (6 s timeout), built on first use.
    pub fn http(&self) -> &reqwest::Client {
        self.http.get_or_init(|| {
            reqwest::Client::builder()
                .timeout(DOWNLOAD_TIMEOUT)
                .connect_timeout(AWS_CONNECT_TIMEOUT)
                .build()
                .unwrap_or_default()
        })
    }

    /// The Twilio REST client for this account (`TWILIO_ACCOUNT_SID` + the primary auth token,
    /// `TWILIO_API_BASE`), built on first use.
    ///
    /// Errors: [`crate::Error::Twilio`] when the HTTP client cannot be built.
    pub fn twilio(&self) -> Result<&twilio_api::Client, crate::Error> {
        if let Some(c) = self.twilio.get() {
            return Ok(c);
        }
        let c = &self.config;
        let client = twilio_api::Client::new(twilio_api::ClientConfig {
            account_sid: c.account_sid.clone(),
            username: c.account_sid.clone(),
            password: c.auth_tokens.first().cloned().unwrap_or_default(),
            api_base: c.twilio_api_base.clone(),
            messaging_base: c.twilio_messaging_base.clone(),
            numbers_base: c.twilio_numbers_base.clone(),
        })?;
        Ok(self.twilio.get_or_init(|| client))
    }

    /// Replies (TwiML builders) for a call to a number with `number`'s configuration, under the
    /// public base URL: in the call's language (`lang` carried in the callback URL when the
    /// caller chose one; else the number's language), the configured voices, speech input as
    /// the number allows.
    pub fn replies<'a>(
        &'a self,
        number: &telephony_core::flow::NumberConfig,
        lang: Option<&str>,
    ) -> telephony_core::flow::Replies<'a> {
        telephony_core::flow::Replies::new(
            &self.config.public_base_url,
            lang.unwrap_or(&number.language),
        )
        .with_voices(self.config.voices)
        .with_speech(number.speech_input)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rustls_pki_types::pem::PemObject;
    use rustls_pki_types::CertificateDer;

    #[test]
    fn the_aws_roots_are_the_five_amazon_trust_services_certificates() {
        let certs: Vec<_> = CertificateDer::pem_slice_iter(AWS_ROOTS.as_bytes())
            .collect::<Result<_, _>>()
            .expect("valid PEM");
        assert_eq!(certs.len(), 5);
        // Each parses as a trust anchor, as the SDK's TLS client will take it.
        for c in &certs {
            webpki::anchor_from_trusted_cert(c).expect("a usable root");
        }
    }
}
