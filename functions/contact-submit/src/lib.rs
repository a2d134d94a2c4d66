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
//!
//! Layout: this file serves the route; [`form`] checks the fields, `mail` sends the two emails.

pub mod form;
mod mail;

pub use form::{email_ok, phone, Submission};

use aws_sdk_dynamodb::types::AttributeValue;
use json_api::request::{json_body_with, BodyRules};
use json_api::{ApiError, Table};
use serde_json::json;
use std::time::Duration;
use telephony_aws::http::{header, HeaderValue, Method, StatusCode};
use telephony_aws::{metrics, now_secs, ratelimit, Body, Deps, Request, Response};
use telephony_core::ratelimit::Limit;

/// The environment variables this function reads ([`telephony_aws::Needs`]; `template.yaml`
/// sets exactly these on it, `tests/tests/settings.rs` checks).
pub const NEEDS: telephony_aws::Needs = telephony_aws::Needs {
    base: None,
    groups: &[&SETTINGS_VARS, &COUNTERS],
};

/// The variables [`Settings::load`] reads.
pub const SETTINGS_VARS: telephony_aws::VarGroup = telephony_aws::VarGroup {
    required: &[
        "CONTACT_ORIGIN",
        "SUBMISSIONS_TABLE",
        "CONTACT_SENDER",
        "CONTACT_STAFF_EMAIL",
    ],
    optional: &[],
};

/// The per-IP counters' table.
const COUNTERS: telephony_aws::VarGroup = telephony_aws::VarGroup {
    required: &["RATE_LIMITS_TABLE"],
    optional: &[],
};

/// Every `(method, path)` this function serves (template.yaml declares the same; a test checks).
pub const ROUTES: &Table<()> = &[
    ("POST", "/contact-submit", ()),
    ("OPTIONS", "/contact-submit", ()),
];

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
    /// Reads [`SETTINGS_VARS`] through `env` and builds the SES client from `sdk`.
    ///
    /// Errors: [`telephony_aws::ConfigError`] naming a missing variable or the SDK settings.
    pub fn load(
        env: &telephony_aws::Env<'_>,
        sdk: &telephony_aws::SdkConfig,
    ) -> Result<Self, telephony_aws::ConfigError> {
        Ok(Self {
            origin: env
                .required("CONTACT_ORIGIN")?
                .trim_end_matches('/')
                .to_owned(),
            table: env.required("SUBMISSIONS_TABLE")?,
            sender: env.required("CONTACT_SENDER")?,
            staff: env.required("CONTACT_STAFF_EMAIL")?,
            ses: aws_sdk_sesv2::Client::new(sdk),
        })
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
            return ApiError::forbidden("origin not allowed").into_response();
        }
        let mut r = telephony_aws::glue::plain(StatusCode::NO_CONTENT, "");
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
        with_cors(
            ApiError::new(status, code, message).into_response(),
            settings,
            origin,
        )
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
    let rules = BodyRules {
        max_bytes: MAX_BODY_BYTES,
        content_type_required: true,
        empty_is_object: false,
    };
    let form: Submission = match json_body_with(&req, rules) {
        Ok(f) => f,
        Err(e) => return with_cors(e.into_response(), settings, origin),
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
        deps.dynamo(),
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
        .dynamo()
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
    let emailed = mail::send_emails(settings, &id, &form, phone.as_deref()).await;
    let status = if emailed { "sent" } else { "email_failed" };
    if !emailed {
        metrics::count("ContactEmailFailures", None);
    }
    let marked = deps
        .dynamo()
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
        json_api::json(StatusCode::ACCEPTED, &json!({ "id": id })),
        settings,
        origin,
    )
}
