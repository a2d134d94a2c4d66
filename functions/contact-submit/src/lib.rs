//! `POST /contact-submit`, the public contact form (issue 14; spec `original-tradeline.md`
//! §6.11, flaws F-29 and F-77 fixed): JSON `{name, email, message, phone?}` → 202 `{id}`.
//!
//! - CORS for the configured site origin only (`CONTACT_ORIGIN`): `OPTIONS` preflight answered
//!   204 with the allow headers for that origin, 403 for any other; responses carry
//!   `Access-Control-Allow-Origin` only for it.
//! - Checks: name 1–100, email (one `@`, a dotted domain, ≤ 254), message 1–5000 characters, all
//!   XML/text-safe; phone optional, E.164 (NANP-checked for +1, see [`phone`]). No keyword
//!   blocking: "please delete my account" is a message like any other (F-77). Bodies over 16 KiB
//!   → 413; malformed JSON or a bad field → 400 naming it.
//! - At most 3 submissions an hour per source IP, from API Gateway's `requestContext.http
//!   .sourceIp` (never `X-Forwarded-For`, which the client writes): 429 with `Retry-After`
//!   (seconds to the window's end). The fixed-window counter of the rate-limits table; a failed
//!   count lets the submission through (fail open, like the voice limit).
//! - Stored first (`SUBMISSIONS_TABLE`, TTL 30 days: seeds' "raw payloads 30 days"), then a notice
//!   to staff (`CONTACT_STAFF_EMAIL`, reply-to the sender) and an acknowledgement to the sender,
//!   both by Amazon SES v2 from `CONTACT_SENDER`. A failed email never loses the submission: it is
//!   marked `email_failed`, counted (`ContactEmailFailures`), and still answered 202.
//! - Metric `ContactSubmissions`.

use aws_sdk_dynamodb::types::AttributeValue;
use serde::Deserialize;
use serde_json::json;
use std::sync::OnceLock;
use std::time::Duration;
use telephony_aws::http::{header, HeaderValue, Method, StatusCode};
use telephony_aws::{glue, metrics, now_secs, ratelimit, Body, Deps, Request, Response};
use telephony_core::ratelimit::Limit;

/// Every `(method, path)` this function serves (template.yaml declares the same; a test checks).
pub const ROUTES: [(&str, &str); 2] = [("POST", "/contact-submit"), ("OPTIONS", "/contact-submit")];

/// Submissions per source IP per window.
pub const LIMIT: Limit = Limit {
    max_calls: 3,
    window: Duration::from_secs(3600),
};
/// Submissions are kept 30 days (TTL).
pub const RETENTION_SECS: u64 = 30 * 86_400;
/// Largest body accepted.
pub const MAX_BODY_BYTES: usize = 16 * 1024;

/// The form's settings and its mail client, built once per process.
pub struct Settings {
    /// `CONTACT_ORIGIN`, e.g. `https://tradeline247.ca` (no trailing slash).
    pub origin: String,
    /// `SUBMISSIONS_TABLE`.
    pub table: String,
    /// `CONTACT_SENDER`: the SES-verified From address.
    pub sender: String,
    /// `CONTACT_STAFF_EMAIL`: where notices go.
    pub staff: String,
    /// Amazon SES v2.
    pub ses: aws_sdk_sesv2::Client,
}

impl Settings {
    /// Reads the settings from the environment.
    ///
    /// Errors: a message naming a missing variable.
    pub fn from_env(sdk: &telephony_aws::SdkConfig) -> Result<Self, String> {
        let var = |k: &str| {
            std::env::var(k)
                .ok()
                .filter(|v| !v.trim().is_empty())
                .ok_or_else(|| format!("{k} is required"))
        };
        Ok(Self {
            origin: var("CONTACT_ORIGIN")?.trim_end_matches('/').to_owned(),
            table: var("SUBMISSIONS_TABLE")?,
            sender: var("CONTACT_SENDER")?,
            staff: var("CONTACT_STAFF_EMAIL")?,
            ses: aws_sdk_sesv2::Client::new(sdk),
        })
    }
}

static SETTINGS: OnceLock<Settings> = OnceLock::new();

/// Installs the settings `handler` uses (once, at start-up).
pub fn install(settings: Settings) {
    let _ = SETTINGS.set(settings);
}

/// The Lambda handler: [`handle`] with the installed settings (503 without them).
pub async fn handler(deps: &Deps, req: Request) -> Response<Body> {
    match SETTINGS.get() {
        Some(s) => handle(deps, s, req).await,
        None => glue::not_configured("the contact form is not configured"),
    }
}

/// The form's fields.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Submission {
    /// Sender's name.
    pub name: String,
    /// Sender's email.
    pub email: String,
    /// The message.
    pub message: String,
    /// Optional phone, E.164.
    pub phone: Option<String>,
}

/// Bidirectional-text controls that reorder what a reader sees (Unicode TR #9: embeddings and
/// overrides U+202A–U+202E, isolates U+2066–U+2069; "Trojan Source", CVE-2021-42574).
fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// 1–`max` characters, no bidi controls, and no control characters except, when `multiline`,
/// line breaks and tab (a CR or LF in a one-line field would forge mail header or notice lines;
/// issue 27 §7).
fn text_ok(s: &str, max: usize, multiline: bool) -> bool {
    let n = s.trim().chars().count();
    (1..=max).contains(&n)
        && s.chars().all(|c| {
            !is_bidi_control(c)
                && (!c.is_control() || (multiline && matches!(c, '\n' | '\r' | '\t')))
                && telephony_core::twiml::is_xml_char(c)
        })
}

/// Whether `email` is one plain deliverable address: accepted by an RFC 5322 parser (the
/// `email_address` crate, without display text or domain literals), then narrowed to a dot-atom
/// addr-spec with a dotted domain, no spaces, controls or bidi overrides, at most 254 characters
/// (RFC 5321 path limit). The mails themselves are built by SES v2's structured `Simple` content
/// (SES encodes the headers; nothing is concatenated into a raw message).
pub fn email_ok(email: &str) -> bool {
    let e = email.trim();
    // An RFC 5322 parser first (the `email_address` crate: no display text, no domain literal),
    // then our narrower rule below.
    let parsed = email_address::EmailAddress::parse_with_options(
        e,
        email_address::Options::default()
            .without_display_text()
            .without_domain_literal(),
    );
    if parsed.is_err() {
        return false;
    }
    let Some((local, domain)) = e.split_once('@') else {
        return false;
    };
    e.len() <= 254
        && !local.is_empty()
        && !domain.contains('@')
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !e.chars().any(|c| c.is_whitespace() || c.is_control() || is_bidi_control(c))
        // A single plain addr-spec (RFC 5322 §3.4.1, dot-atom form): no lists (`a,b@…`), no
        // display names or angle brackets (`<a@…>`), no quoted or commented parts.
        && !e.contains(['<', '>', ',', ';', '"', '(', ')', '[', ']', '\\', ':'])
        && !local.starts_with('.')
        && !local.ends_with('.')
        && !e.contains("..")
}

/// A phone number from the form: E.164 syntax ([`telephony_core::E164::parse_syntax`] tolerates
/// separators), and for North American
/// numbers (+1) the NANP plan — area code and exchange start with 2–9 and are not N11 service
/// codes. libphonenumber's full per-country check stays with the operator tools
/// (`numbering-plan`): its metadata would push this bootstrap over the 6 MB bar (issue 7).
pub fn phone(raw: &str) -> Option<String> {
    let n = telephony_core::E164::parse_syntax(raw).ok()?;
    n.check_dialable().ok()?;
    Some(n.as_str().to_owned())
}

impl Submission {
    /// Checks the fields (module docs); returns the phone in E.164 when given.
    ///
    /// Errors: a message naming the first bad field.
    pub fn check(&self) -> Result<Option<String>, String> {
        if !text_ok(&self.name, 100, false) {
            return Err("name must be 1-100 characters".into());
        }
        if !email_ok(&self.email) {
            return Err("email is not a valid address".into());
        }
        if !text_ok(&self.message, 5000, true) {
            return Err("message must be 1-5000 characters".into());
        }
        match self
            .phone
            .as_deref()
            .map(str::trim)
            .filter(|p| !p.is_empty())
        {
            None => Ok(None),
            Some(p) => phone(p)
                .map(Some)
                .ok_or_else(|| "phone must be a valid number in E.164 (+ and country code)".into()),
        }
    }
}

fn with_cors(
    mut resp: Response<Body>,
    settings: &Settings,
    origin: Option<&str>,
) -> Response<Body> {
    if origin == Some(settings.origin.as_str()) {
        if let Ok(v) = HeaderValue::from_str(&settings.origin) {
            let h = resp.headers_mut();
            h.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, v);
            h.insert(header::VARY, HeaderValue::from_static("Origin"));
        }
    }
    resp
}

/// Handles one request (module docs).
pub async fn handle(deps: &Deps, settings: &Settings, req: Request) -> Response<Body> {
    let origin = req
        .headers()
        .get(header::ORIGIN)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let origin = origin.as_deref();
    if req.method() == Method::OPTIONS {
        if origin != Some(settings.origin.as_str()) {
            return glue::json_error(
                StatusCode::FORBIDDEN,
                "origin_not_allowed",
                "origin not allowed",
            );
        }
        let mut r = glue::plain(StatusCode::NO_CONTENT, "");
        let h = r.headers_mut();
        h.insert(
            header::ACCESS_CONTROL_ALLOW_METHODS,
            HeaderValue::from_static("POST, OPTIONS"),
        );
        h.insert(
            header::ACCESS_CONTROL_ALLOW_HEADERS,
            HeaderValue::from_static("content-type"),
        );
        h.insert(
            header::ACCESS_CONTROL_MAX_AGE,
            HeaderValue::from_static("600"),
        );
        return with_cors(r, settings, origin);
    }
    let answer = |status: StatusCode, code: &str, message: &str| {
        with_cors(glue::json_error(status, code, message), settings, origin)
    };
    if req.method() != Method::POST {
        return answer(
            StatusCode::METHOD_NOT_ALLOWED,
            "method_not_allowed",
            "POST only",
        );
    }
    // A browser's cross-site POST carries its Origin: only the site's own is served (a form
    // posted from elsewhere, or a `text/plain` "simple request" that skips the CORS preflight,
    // is refused; issue 27 §7). Server-to-server posts without an Origin are served.
    if origin.is_some_and(|o| o != settings.origin) {
        return answer(
            StatusCode::FORBIDDEN,
            "origin_not_allowed",
            "origin not allowed",
        );
    }
    let json_body = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("application/json"));
    if !json_body {
        return answer(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "send the form as application/json",
        );
    }
    let body = req.body().as_ref();
    if body.len() > MAX_BODY_BYTES {
        return answer(
            StatusCode::PAYLOAD_TOO_LARGE,
            "too_large",
            "the form is limited to 16 KiB",
        );
    }
    let form: Submission = match serde_json::from_slice(body) {
        Ok(f) => f,
        Err(e) => return answer(StatusCode::BAD_REQUEST, "bad_json", &e.to_string()),
    };
    let phone = match form.check() {
        Ok(p) => p,
        Err(m) => return answer(StatusCode::BAD_REQUEST, "invalid", &m),
    };
    // API Gateway's view of the client; a client-written X-Forwarded-For is never read.
    let ip = telephony_aws::event::caller(&req)
        .source_ip
        .unwrap_or_else(|| "unknown".into());
    let now = now_secs();
    let c = &deps.config;
    match ratelimit::check_all(
        &deps.dynamo,
        &c.rate_limits_table,
        &format!("contact#{ip}"),
        &[LIMIT],
        now,
    )
    .await
    {
        Ok(ratelimit::Verdict::Limited) => {
            let window = LIMIT.window.as_secs();
            let retry = window - now % window;
            metrics::count("ContactRateLimited", None);
            let mut r = answer(
                StatusCode::TOO_MANY_REQUESTS,
                "rate_limited",
                "too many submissions from this address; try again later",
            );
            if let Ok(v) = HeaderValue::from_str(&retry.to_string()) {
                r.headers_mut().insert(header::RETRY_AFTER, v);
            }
            return r;
        }
        Ok(ratelimit::Verdict::Allowed) => {}
        Err(e) => {
            tracing::warn!(error = %e, "contact rate limit unreadable; allowing");
            metrics::count("DependencyErrors", Some(("Dependency", e.dependency())));
        }
    }
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    let id = format!("CS{nanos:032x}");
    let s = |v: &str| AttributeValue::S(v.to_owned());
    let mut put = deps
        .dynamo
        .put_item()
        .table_name(&settings.table)
        .item("pk", s(&id))
        .item("name", s(form.name.trim()))
        .item("email", s(form.email.trim()))
        .item("message", s(&form.message))
        .item("source_ip", s(&ip))
        .item("created_at", AttributeValue::N(now.to_string()))
        .item(
            "expires_at",
            AttributeValue::N((now + RETENTION_SECS).to_string()),
        )
        .item("email_status", s("pending"))
        .condition_expression("attribute_not_exists(pk)");
    if let Some(p) = &phone {
        put = put.item("phone", s(p));
    }
    if let Err(e) = put.send().await {
        let e = telephony_aws::Error::dynamo("PutItem submissions")(e);
        tracing::error!(error = %e, "contact submission not stored");
        metrics::count("DependencyErrors", Some(("Dependency", "dynamodb")));
        return answer(
            StatusCode::SERVICE_UNAVAILABLE,
            "store_unavailable",
            "the message could not be saved; please try again",
        );
    }
    metrics::count("ContactSubmissions", None);
    let emailed = send_emails(settings, &id, &form, phone.as_deref()).await;
    let status = if emailed { "sent" } else { "email_failed" };
    if !emailed {
        metrics::count("ContactEmailFailures", None);
    }
    let marked = deps
        .dynamo
        .update_item()
        .table_name(&settings.table)
        .key("pk", s(&id))
        .update_expression("SET email_status = :s")
        .expression_attribute_values(":s", s(status))
        .send()
        .await;
    if let Err(e) = marked {
        tracing::warn!(id, error = %telephony_aws::Error::dynamo("UpdateItem submissions")(e), "email status not recorded");
    }
    with_cors(
        glue::json(StatusCode::ACCEPTED, &json!({ "id": id })),
        settings,
        origin,
    )
}

/// The staff notice (reply-to the sender) and the acknowledgement; `false` if either failed.
async fn send_emails(
    settings: &Settings,
    id: &str,
    form: &Submission,
    phone: Option<&str>,
) -> bool {
    use aws_sdk_sesv2::types::{Body as MailBody, Content, Destination, EmailContent, Message};
    let mail = |to: &str, reply_to: Option<&str>, subject: String, text: String| {
        let content = |d: String| Content::builder().data(d).charset("UTF-8").build();
        let (Ok(subject), Ok(text)) = (content(subject), content(text)) else {
            return None;
        };
        let mut req = settings
            .ses
            .send_email()
            .from_email_address(&settings.sender)
            .destination(Destination::builder().to_addresses(to).build())
            .content(
                EmailContent::builder()
                    .simple(
                        Message::builder()
                            .subject(subject)
                            .body(MailBody::builder().text(text).build())
                            .build(),
                    )
                    .build(),
            );
        if let Some(r) = reply_to {
            req = req.reply_to_addresses(r);
        }
        Some(req.send())
    };
    let notice = mail(
        &settings.staff,
        Some(form.email.trim()),
        format!("Contact form: {}", form.name.trim()),
        format!(
            "From: {} <{}>\nPhone: {}\nSubmission: {id}\n\n{}",
            form.name.trim(),
            form.email.trim(),
            phone.unwrap_or("-"),
            form.message
        ),
    );
    let ack = mail(
        form.email.trim(),
        None,
        "We received your message / Nous avons reçu votre message".to_owned(),
        // Fixed text (English, then French) with the submission id only: the acknowledgement
        // goes to an address the sender typed, so it never echoes anything they wrote (no
        // spam relay through our sender; issue 27 §7).
        format!(
            "Thank you for contacting TradeLine 24/7. We received your message and will get back to you soon.\n\nReference: {id}\n\n---\n\nMerci d'avoir écrit à TradeLine 24/7. Nous avons bien reçu votre message et vous répondrons bientôt.\n\nRéférence : {id}"
        ),
    );
    let (Some(notice), Some(ack)) = (notice, ack) else {
        return false;
    };
    let (n, a) = tokio::join!(notice, ack);
    let mut ok = true;
    for (what, r) in [
        ("staff notice", n.map(|_| ())),
        ("acknowledgement", a.map(|_| ())),
    ] {
        if let Err(e) = r {
            tracing::error!(id, what, error = %aws_sdk_sesv2::error::DisplayErrorContext(&e), "contact email not sent");
            ok = false;
        }
    }
    ok
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form(name: &str, email: &str, message: &str, phone: Option<&str>) -> Submission {
        Submission {
            name: name.into(),
            email: email.into(),
            message: message.into(),
            phone: phone.map(Into::into),
        }
    }

    #[test]
    fn control_characters_bidi_overrides_and_address_lists_are_refused() {
        for (name, email, message) in [
            ("Sam\r\nBcc: victim@example.com", "s@example.com", "hi"),
            ("Sam\nSubject: x", "s@example.com", "hi"),
            ("Sam \u{202E}gnp.exe", "s@example.com", "hi"),
            ("Sam", "s@example.com", "hi \u{2066}x\u{2069}"),
            ("Sam", "s@example.com", "bell \u{7}"),
            ("Sam", "a,b@example.com", "hi"),
            ("Sam", "<a@example.com>", "hi"),
            ("Sam", "Sam <a@example.com>", "hi"),
            ("Sam", "\"a b\"@example.com", "hi"),
            ("Sam", "a@example.com\r\nBcc: b@example.com", "hi"),
            ("Sam", "a..b@example.com", "hi"),
        ] {
            assert!(
                form(name, email, message, None).check().is_err(),
                "{name:?} {email:?} {message:?}"
            );
        }
        // A message may have lines.
        assert!(
            form("Sam", "s@example.com", "line one\r\nline two\tend", None)
                .check()
                .is_ok()
        );
    }

    #[test]
    fn fields_are_checked_but_words_are_not_blocked() {
        let ok = form(
            "Sam",
            "sam@example.com",
            "select a plan, then delete my old account",
            None,
        );
        assert_eq!(ok.check(), Ok(None));
        assert_eq!(
            form("Sam", "sam@example.com", "hi", Some("+1 (403) 555-0123")).check(),
            Ok(Some("+14035550123".into()))
        );
        for bad in [
            form("", "sam@example.com", "hi", None),
            form("Sam", "sam.example.com", "hi", None),
            form("Sam", "sam@localhost", "hi", None),
            form("Sam", "s am@example.com", "hi", None),
            form("Sam", "sam@example.com", "", None),
            form("Sam", "sam@example.com", &"x".repeat(5001), None),
            form("Sam", "sam@example.com", "hi", Some("+1123")),
            form("Sam", "sam@example.com", "hi", Some("+1 (403) 155-0123")),
            form("Sam", "sam@example.com", "hi", Some("+1 911 555 0123")),
            form("Sam", "sam@example.com", "hi", Some("call me")),
        ] {
            assert!(bad.check().is_err(), "{bad:?}");
        }
    }
}
