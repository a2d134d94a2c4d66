//! A small Twilio REST client: only the calls the hotline makes, each documented with its endpoint
//! (Twilio's OpenAPI specification, `twilio_api_v2010.json`, is the contract).
//!
//! - Authentication: HTTP basic auth with the account SID and auth token, or an API key SID and
//!   secret (Twilio "API keys"); the account SID is always the path's `{AccountSid}`.
//! - Timeouts: 2 s to connect, 5 s per request in all.
//! - Retries: only idempotent requests ([`Retry::Idempotent`]: reads, updates to given values,
//!   deletes) are retried, on 429, 5xx and transport failures, with exponential backoff (200 ms,
//!   400 ms; a `Retry-After` of up to 2 s is honoured); creations (buying a number, a subaccount)
//!   are sent once.
//! - Hosts: `api` (v2010) and `messaging` (v1), each configurable so tests point them at a mock
//!   (the Prism mock server on Twilio's OpenAPI documents, `infra/twilio-oai/`).
//! - Errors: [`TwilioError`], carrying Twilio's `code`, `message`, `more_info` and the HTTP status.
//! - Lists follow `next_page_uri` until it is null.

use serde::Deserialize;
use std::time::Duration;

/// Connection set-up timeout.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);
/// Whole-request timeout.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(5);
/// Attempts of an idempotent request (first try + retries).
pub const GET_ATTEMPTS: u32 = 3;
/// First backoff; doubled for each further retry.
pub const FIRST_BACKOFF: Duration = Duration::from_millis(200);
/// Pages followed at most by one list call (a guard against a server that never ends a list).
pub const MAX_PAGES: usize = 100;

/// A failed Twilio call.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TwilioError {
    /// Twilio answered with an error document (Twilio "API responses": `code`, `message`,
    /// `more_info`, `status`).
    #[error("Twilio {status} (code {code:?}): {message}")]
    Api {
        /// HTTP status.
        status: u16,
        /// Twilio error code, e.g. 20404.
        code: Option<u32>,
        /// Twilio's message.
        message: String,
        /// Link to the error's documentation.
        more_info: Option<String>,
    },
    /// No answer (connection refused, timeout, TLS…).
    #[error("Twilio request failed: {0}")]
    Transport(String),
    /// An answer this client cannot read.
    #[error("unexpected Twilio answer: {0}")]
    Decode(String),
}

impl TwilioError {
    /// Whether a retry of an idempotent request may succeed: 429, 5xx, or no answer.
    pub fn is_retryable(&self) -> bool {
        match self {
            TwilioError::Api { status, .. } => *status == 429 || *status >= 500,
            TwilioError::Transport(_) => true,
            TwilioError::Decode(_) => false,
        }
    }
}

#[derive(Deserialize)]
struct ErrorDoc {
    code: Option<u32>,
    message: Option<String>,
    more_info: Option<String>,
}

/// Credentials and base URL of the client.
#[derive(Clone)]
pub struct ClientConfig {
    /// The account whose resources are read (`AC…`).
    pub account_sid: String,
    /// Basic-auth user: the account SID, or an API key SID (`SK…`).
    pub username: String,
    /// Basic-auth password: the auth token, or the API key secret.
    pub password: String,
    /// Base of the `api` host (`https://api.twilio.com`; a mock in tests), no trailing slash.
    pub api_base: String,
    /// Base of the `messaging` host (`https://messaging.twilio.com`), no trailing slash.
    pub messaging_base: String,
    /// Base of the `numbers` host (`https://numbers.twilio.com`: hosted SMS, porting), no
    /// trailing slash.
    pub numbers_base: String,
}

/// Twilio's production hosts (api v2010; messaging v1).
pub const API_BASE: &str = "https://api.twilio.com";
/// See [`API_BASE`].
pub const MESSAGING_BASE: &str = "https://messaging.twilio.com";
/// See [`API_BASE`] (numbers v1 and v2).
pub const NUMBERS_BASE: &str = "https://numbers.twilio.com";

/// Which requests a failure may be retried for (the module docs give the policy).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Retry {
    /// Reads, updates of an existing resource to given values, deletes: the same request twice
    /// leaves the same state, so 429/5xx/transport failures are retried with backoff.
    Idempotent,
    /// Creations (a purchase, a subaccount): never retried here, a retry could buy twice. The
    /// caller's saga decides, after looking at what exists.
    Once,
}

impl std::fmt::Debug for ClientConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientConfig")
            .field("account_sid", &self.account_sid)
            .field("username", &self.username)
            .field("password", &"***")
            .field("api_base", &self.api_base)
            .field("messaging_base", &self.messaging_base)
            .field("numbers_base", &self.numbers_base)
            .finish()
    }
}

/// A recording (Twilio Recording resource, `api.v2010.account.recording`), the fields we use.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Recording {
    /// `RE…`.
    pub sid: String,
    /// The call it was made on.
    pub call_sid: Option<String>,
    /// `in-progress`, `paused`, `stopped`, `processing`, `completed`, `absent` or `deleted`.
    pub status: Option<String>,
    /// `RecordVerb` (a `<Record>`: voicemail), `DialVerb`, `Conference`, …
    pub source: Option<String>,
    /// Length in seconds, as a decimal string (`null` while recording).
    pub duration: Option<String>,
    /// `/2010-04-01/Accounts/AC…/Recordings/RE….json`.
    pub uri: Option<String>,
    /// When it was created, RFC 2822 (`Tue, 22 Nov 2026 15:04:05 +0000`).
    pub date_created: Option<String>,
}

impl Recording {
    /// `date_created` as Unix seconds, if present and valid RFC 2822.
    pub fn created_at(&self) -> Option<u64> {
        let t = chrono::DateTime::parse_from_rfc2822(self.date_created.as_deref()?).ok()?;
        u64::try_from(t.timestamp()).ok()
    }

    /// Duration in whole seconds, if known.
    pub fn duration_secs(&self) -> Option<u64> {
        self.duration.as_deref()?.trim().parse().ok()
    }
}

#[derive(Deserialize)]
struct RecordingPage {
    #[serde(default)]
    recordings: Vec<Recording>,
    next_page_uri: Option<String>,
}

/// The client; cheap to clone, build once per process.
#[derive(Debug, Clone)]
pub struct Client {
    http: reqwest::Client,
    config: ClientConfig,
}

impl Client {
    /// Builds the client (rustls, the timeouts above).
    ///
    /// Errors: [`TwilioError::Transport`] when the HTTP client cannot be built.
    pub fn new(config: ClientConfig) -> Result<Self, TwilioError> {
        let http = reqwest::Client::builder()
            .connect_timeout(CONNECT_TIMEOUT)
            .timeout(REQUEST_TIMEOUT)
            .build()
            .map_err(|e| TwilioError::Transport(e.to_string()))?;
        Ok(Self { http, config })
    }

    /// The configuration (credentials are not printed by its `Debug`).
    pub fn config(&self) -> &ClientConfig {
        &self.config
    }

    /// The same client acting on account `account_sid` (a subaccount of this one): the parent
    /// account's credentials are valid for its subaccounts' resources ("Subaccounts", Twilio
    /// docs: `/2010-04-01/Accounts/{SubaccountSid}/…` with the parent's auth). Shares the
    /// connection pool.
    pub fn for_account(&self, account_sid: &str) -> Self {
        let mut config = self.config.clone();
        config.account_sid = account_sid.to_owned();
        Self {
            http: self.http.clone(),
            config,
        }
    }

    /// Absolute URL of a Twilio path or `next_page_uri` (which Twilio gives relative to the host).
    pub(crate) fn url(&self, path_and_query: &str) -> String {
        format!(
            "{}{path_and_query}",
            self.config.api_base.trim_end_matches('/')
        )
    }

    /// The public URL of a recording (no extension), as `RecordingUrl` gives it in callbacks.
    pub fn recording_url(&self, recording_sid: &str) -> String {
        self.url(&format!(
            "/2010-04-01/Accounts/{}/Recordings/{recording_sid}",
            self.config.account_sid
        ))
    }

    /// Every recording of one call, all pages.
    ///
    /// Endpoint: `GET /2010-04-01/Accounts/{AccountSid}/Recordings.json?CallSid={CallSid}`
    /// (api v2010 "Read multiple Recording resources"; `PageSize` up to 1000).
    ///
    /// Errors: [`TwilioError`] after the retries.
    pub async fn list_call_recordings(
        &self,
        call_sid: &str,
    ) -> Result<Vec<Recording>, TwilioError> {
        self.list_recordings(&[("CallSid", call_sid), ("PageSize", "50")])
            .await
    }

    /// Every recording created on or after `date` (`YYYY-MM-DD`, UTC), all pages.
    ///
    /// Endpoint: `GET /2010-04-01/Accounts/{AccountSid}/Recordings.json?DateCreated>={date}`
    /// (the query parameter is named `DateCreated>` in the specification, sent URL-encoded as
    /// `DateCreated%3E=…`).
    ///
    /// Errors: [`TwilioError`] after the retries.
    pub async fn list_recordings_created_since(
        &self,
        date: &str,
    ) -> Result<Vec<Recording>, TwilioError> {
        self.list_recordings(&[("DateCreated>", date), ("PageSize", "100")])
            .await
    }

    async fn list_recordings(&self, query: &[(&str, &str)]) -> Result<Vec<Recording>, TwilioError> {
        let encoded = encode(query);
        let mut next = Some(format!(
            "/2010-04-01/Accounts/{}/Recordings.json?{encoded}",
            self.config.account_sid
        ));
        let mut all = Vec::new();
        let mut pages = 0;
        while let Some(path) = next.take() {
            pages += 1;
            if pages > MAX_PAGES {
                return Err(TwilioError::Decode(format!(
                    "more than {MAX_PAGES} pages of recordings"
                )));
            }
            let page: RecordingPage = self.get_json(&self.url(&path)).await?;
            all.extend(page.recordings);
            next = page.next_page_uri.filter(|u| !u.is_empty());
        }
        Ok(all)
    }

    /// GET with retries (429, 5xx, transport) and backoff; decodes the JSON answer.
    async fn get_json<T: serde::de::DeserializeOwned>(&self, url: &str) -> Result<T, TwilioError> {
        let bytes = self
            .send(reqwest::Method::GET, url, None, Retry::Idempotent)
            .await?;
        decode(&bytes)
    }

    /// One request with the retry policy `retry`; the answer's body on 2xx.
    ///
    /// Errors: [`TwilioError::Api`] for a non-2xx answer (after the retries it allows),
    /// [`TwilioError::Transport`] when no answer came.
    pub(crate) async fn send(
        &self,
        method: reqwest::Method,
        url: &str,
        form: Option<&[(&str, String)]>,
        retry: Retry,
    ) -> Result<Vec<u8>, TwilioError> {
        let body = form.map(|f| ("application/x-www-form-urlencoded", encode(f)));
        self.send_body(method, url, body, retry).await
    }

    /// [`Client::send`] with a JSON body (the numbers v1 porting API takes JSON).
    ///
    /// Errors: as [`Client::send`].
    pub(crate) async fn send_json(
        &self,
        method: reqwest::Method,
        url: &str,
        json: &serde_json::Value,
        retry: Retry,
    ) -> Result<Vec<u8>, TwilioError> {
        let body = Some(("application/json", json.to_string()));
        self.send_body(method, url, body, retry).await
    }

    async fn send_body(
        &self,
        method: reqwest::Method,
        url: &str,
        body: Option<(&'static str, String)>,
        retry: Retry,
    ) -> Result<Vec<u8>, TwilioError> {
        let mut backoff = FIRST_BACKOFF;
        let mut attempt = 1;
        loop {
            match self.send_once(method.clone(), url, body.as_ref()).await {
                Ok(bytes) => return Ok(bytes),
                Err((e, retry_after))
                    if retry == Retry::Idempotent && e.is_retryable() && attempt < GET_ATTEMPTS =>
                {
                    let wait = retry_after.unwrap_or(backoff).min(Duration::from_secs(2));
                    tracing::warn!(attempt, %method, error = %e, wait_ms = wait.as_millis() as u64, "Twilio request failed; retrying");
                    tokio::time::sleep(wait).await;
                    backoff *= 2;
                    attempt += 1;
                }
                Err((e, _)) => return Err(e),
            }
        }
    }

    async fn send_once(
        &self,
        method: reqwest::Method,
        url: &str,
        body: Option<&(&'static str, String)>,
    ) -> Result<Vec<u8>, (TwilioError, Option<Duration>)> {
        let mut req = self
            .http
            .request(method, url)
            .basic_auth(&self.config.username, Some(&self.config.password))
            .header("accept", "application/json");
        if let Some((content_type, body)) = body {
            req = req.header("content-type", *content_type).body(body.clone());
        }
        let resp = req
            .send()
            .await
            .map_err(|e| (TwilioError::Transport(e.without_url().to_string()), None))?;
        let status = resp.status().as_u16();
        let retry_after = resp
            .headers()
            .get("retry-after")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok())
            .map(Duration::from_secs);
        let bytes = resp
            .bytes()
            .await
            .map_err(|e| (TwilioError::Transport(e.without_url().to_string()), None))?;
        if (200..300).contains(&status) {
            return Ok(bytes.to_vec());
        }
        let doc: Option<ErrorDoc> = serde_json::from_slice(&bytes).ok();
        let err = TwilioError::Api {
            status,
            code: doc.as_ref().and_then(|d| d.code),
            message: doc
                .as_ref()
                .and_then(|d| d.message.as_deref())
                .map(provider_text)
                .unwrap_or_else(|| format!("HTTP {status}")),
            more_info: doc.and_then(|d| d.more_info),
        };
        Err((err, retry_after))
    }
}

/// Longest provider message kept (characters): errors are logged, and a provider's text is not
/// ours to copy whole (issue 27 §14).
pub const MAX_PROVIDER_TEXT: usize = 160;

/// A provider's error text made fit for our logs: phone numbers in it (a `+` and 7–15 digits,
/// as Twilio writes them: "The 'To' number +15551234567 is not…") masked to the country code and
/// the last 4 digits, control characters dropped, at most [`MAX_PROVIDER_TEXT`] characters.
pub fn provider_text(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len().min(MAX_PROVIDER_TEXT + 3));
    let chars: Vec<char> = raw.chars().filter(|c| !c.is_control()).collect();
    let mut i = 0;
    while i < chars.len() {
        if chars[i] == '+' {
            let digits: String = chars[i + 1..]
                .iter()
                .take_while(|c| c.is_ascii_digit())
                .collect();
            if (7..=15).contains(&digits.len()) {
                let keep = &digits[digits.len() - 4..];
                let cc = if digits.starts_with('1') {
                    "1"
                } else {
                    &digits[..digits.len().min(2)]
                };
                out.push_str(&format!("+{cc}***{keep}"));
                i += 1 + digits.len();
                continue;
            }
        }
        out.push(chars[i]);
        i += 1;
    }
    if out.chars().count() > MAX_PROVIDER_TEXT {
        out = out.chars().take(MAX_PROVIDER_TEXT).collect::<String>() + "...";
    }
    out
}

/// `application/x-www-form-urlencoded` pairs, for query strings and request bodies (Twilio takes
/// both in this encoding). A plain function: the serializer is not `Send`, so it never lives
/// across an await.
pub(crate) fn encode<K: AsRef<str>, V: AsRef<str>>(pairs: &[(K, V)]) -> String {
    let mut ser = form_urlencoded::Serializer::new(String::new());
    for (k, v) in pairs {
        ser.append_pair(k.as_ref(), v.as_ref());
    }
    ser.finish()
}

/// Decodes a JSON answer.
///
/// Errors: [`TwilioError::Decode`].
pub(crate) fn decode<T: serde::de::DeserializeOwned>(bytes: &[u8]) -> Result<T, TwilioError> {
    serde_json::from_slice(bytes).map_err(|e| TwilioError::Decode(e.to_string()))
}

pub mod compliance;
pub mod numbers;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn provider_texts_are_masked_and_bounded() {
        assert_eq!(
            provider_text("The 'To' number +15551234567 is not a valid phone number."),
            "The 'To' number +1***4567 is not a valid phone number."
        );
        assert_eq!(provider_text("from +442079460958\r\n"), "from +44***0958");
        assert_eq!(provider_text("code +123 stays"), "code +123 stays");
        let long = provider_text(&"x".repeat(500));
        assert_eq!(long.chars().count(), MAX_PROVIDER_TEXT + 3);
    }

    #[test]
    fn retryable_errors_are_429_5xx_and_transport() {
        let api = |status| TwilioError::Api {
            status,
            code: None,
            message: String::new(),
            more_info: None,
        };
        assert!(api(429).is_retryable());
        assert!(api(503).is_retryable());
        assert!(!api(400).is_retryable());
        assert!(!api(404).is_retryable());
        assert!(TwilioError::Transport("x".into()).is_retryable());
        assert!(!TwilioError::Decode("x".into()).is_retryable());
    }

    #[test]
    fn recordings_decode_from_twilio_json() {
        let page: RecordingPage = serde_json::from_str(
            r#"{"recordings":[{"sid":"RE1","call_sid":"CA1","status":"completed","source":"RecordVerb",
                "duration":"12","date_created":"Sun, 29 Nov 2026 15:04:05 +0000","uri":"/2010-04-01/Accounts/AC1/Recordings/RE1.json","price":null}],
                "next_page_uri":null,"page":0}"#,
        )
        .unwrap();
        assert_eq!(page.recordings[0].duration_secs(), Some(12));
        assert_eq!(page.recordings[0].created_at(), Some(1_795_964_645));
        assert_eq!(page.next_page_uri, None);
    }

    #[test]
    fn credentials_are_not_printed() {
        let c = ClientConfig {
            account_sid: "AC1".into(),
            username: "AC1".into(),
            password: "secret-token".into(),
            api_base: API_BASE.into(),
            messaging_base: MESSAGING_BASE.into(),
            numbers_base: NUMBERS_BASE.into(),
        };
        assert!(!format!("{c:?}").contains("secret-token"));
    }
}
