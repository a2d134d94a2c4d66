//! The hybrid-forwarding tenant API (issue 11; spec `original-forwarding.md` §4, §10, §11): a
//! business's own users set up forwarding from their mobile (SIM) to our number. JSON.
//!
//! - Auth: `Authorization: Bearer <JWT>` (Cognito ID token). API Gateway's JWT authorizer checks
//!   it, and so does this handler (no "dev" bypass): RS256 signature against the issuer's JWKS
//!   (cached; refetched for an unknown `kid` at most once a minute), `exp`, `nbf`, `iss`, `aud`,
//!   and the org claim (`ORG_CLAIM`, default `custom:org_id`). Any failure → 401.
//! - Rate limits (ours, not Twilio's), fixed windows in the rate-limits table: per source IP
//!   (API Gateway's `requestContext.http.sourceIp`, never a client header) 100 per 15 minutes,
//!   checked first; per org 1000 per hour after auth. 429 with `Retry-After` and `RateLimit-Limit`,
//!   `RateLimit-Remaining`, `RateLimit-Reset` (IETF draft "RateLimit header fields").
//! - Every read and write goes through [`telephony_aws::forwarding::OrgStore`] for the token's org.
//!
//! Routes: `GET /forwarding/countries`, `GET /forwarding/countries/{cc}/carriers`,
//! `PUT /forwarding/country` (`If-Match: <version>`; 428 without, 409 when stale, 200 for the same
//! country, 400 naming the supported ones), `POST /forwarding/configs` (`{sim_e164, carrier, mode,
//! ring_time?}` → 201 with codes and instructions, state `pending`; the destination is the org's
//! forwarding number, bought through the provisioning saga in the country's recommended
//! provisioning country the first time), `GET /forwarding/configs`,
//! `POST /forwarding/configs/{id}/verify` (a real call, see [`verify`]), `DELETE
//! /forwarding/configs/{id}` (the deactivation code; state `disabled`), `GET
//! /forwarding/configs/{id}/kit` (printable HTML, English or French).
//!
//! Layout: this file checks the caller (rate limits, token) and routes; [`routes`] holds one
//! function per route; [`verify`] the verification call, [`number`] the org's forwarding number,
//! [`kit`] the printable kit, [`auth`] the token check ([`jwt_crypto`] its RS256 on ring). Errors are `{"error": {"code",
//! "message"}}` ([`json_api::ApiError`]).

pub mod auth;
pub mod jwt_crypto;
pub mod kit;
pub mod number;
mod routes;
pub mod verify;

pub use verify::{verify, VERIFY_COOLDOWN_SECS, VERIFY_DAILY_CAP, VERIFY_TIMEOUT_SECS};

use forwarding::Registry;
use json_api::request::{bearer_token, idempotency_key};
use json_api::{ApiError, Table};
use std::time::Duration;
use telephony_aws::forwarding::OrgStore;
use telephony_aws::http::{header, HeaderName, HeaderValue, StatusCode};
use telephony_aws::{metrics, now_secs, ratelimit, Body, Deps, Request, Response};
use telephony_core::ratelimit::Limit;

/// The environment variables this function reads ([`telephony_aws::Needs`]; `template.yaml`
/// sets exactly these on it, `tests/tests/settings.rs` checks).
pub const NEEDS: telephony_aws::Needs = telephony_aws::Needs {
    base: None,
    groups: &[
        &SETTINGS_VARS,
        &telephony_aws::needs::NUMBERS,
        &telephony_aws::needs::NUMBER_DEFAULTS,
        &telephony_aws::needs::CALLS,
        &telephony_aws::needs::CALLER_LIMITS,
        &telephony_aws::needs::KNOWN_CALLERS,
        &telephony_aws::needs::TWILIO_REST,
        &provisioning::settings::VARS,
        &telephony_aws::needs::PRIVACY,
    ],
};

/// The variables [`Settings::load`] reads: the forwarding table and the token checker's.
pub const SETTINGS_VARS: telephony_aws::VarGroup = telephony_aws::VarGroup {
    required: &["FORWARDING_TABLE", "JWT_ISSUER", "JWT_AUDIENCE"],
    optional: &["JWKS_URL", "ORG_CLAIM"],
};

/// What a route does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    /// The countries offered.
    Countries,
    /// A country's carriers.
    Carriers,
    /// Choose the org's country.
    SetCountry,
    /// Create a forwarding config.
    Create,
    /// The org's configs.
    List,
    /// Place a verification call.
    Verify,
    /// Disable a config.
    Disable,
    /// The printable kit.
    Kit,
    /// A privacy request for the org's own callers.
    Privacy,
}

/// Every `(method, path)` this function serves (template.yaml declares the same; a test checks).
pub const ROUTES: &Table<Op> = &[
    ("GET", "/forwarding/countries", Op::Countries),
    ("GET", "/forwarding/countries/{cc}/carriers", Op::Carriers),
    ("PUT", "/forwarding/country", Op::SetCountry),
    ("POST", "/forwarding/configs", Op::Create),
    ("GET", "/forwarding/configs", Op::List),
    ("POST", "/forwarding/configs/{id}/verify", Op::Verify),
    ("DELETE", "/forwarding/configs/{id}", Op::Disable),
    ("GET", "/forwarding/configs/{id}/kit", Op::Kit),
    ("POST", "/forwarding/privacy/{action}", Op::Privacy),
];

/// Requests per source IP per 15 minutes, checked before authentication.
pub const IP_LIMIT: Limit = Limit {
    max_calls: 100,
    window: Duration::from_secs(15 * 60),
};
/// Requests per org per hour, after authentication.
pub const ORG_LIMIT: Limit = Limit {
    max_calls: 1000,
    window: Duration::from_secs(3600),
};

/// The function's settings, built once per process by `main`.
pub struct Settings {
    /// `FORWARDING_TABLE`.
    pub table: String,
    /// The token checker.
    pub auth: auth::Auth,
}

impl Settings {
    /// Reads `FORWARDING_TABLE` and the token checker's settings through `env`.
    ///
    /// Errors: a message naming a missing variable.
    pub fn load(env: &telephony_aws::config::Env) -> Result<Self, telephony_aws::ConfigError> {
        Ok(Self {
            table: env.required("FORWARDING_TABLE")?,
            auth: auth::Auth::load(env)?,
        })
    }
}

/// 429 `rate_limited` with `Retry-After` and the `RateLimit-*` fields (IETF draft).
fn limited(limit: Limit, now: u64) -> ApiError {
    let window = limit.window.as_secs();
    let reset = window - now % window;
    let mut e = ApiError::new(
        StatusCode::TOO_MANY_REQUESTS,
        "rate_limited",
        "too many requests; retry after the time Retry-After gives (seconds)",
    );
    for (name, v) in [
        ("retry-after", reset.to_string()),
        ("ratelimit-limit", limit.max_calls.to_string()),
        ("ratelimit-remaining", "0".to_owned()),
        ("ratelimit-reset", reset.to_string()),
    ] {
        if let Ok(v) = HeaderValue::from_str(&v) {
            e = e.with_header(HeaderName::from_static(name), v);
        }
    }
    e
}

/// Ok when `key` may make one more request under `limit` (a failed count lets it through:
/// fail open, like the other limiters); else 429.
async fn allowed(deps: &Deps, key: &str, limit: Limit, now: u64) -> Result<(), ApiError> {
    let table = &deps.config.rate_limits_table;
    match ratelimit::check_all(deps.dynamo(), table, key, &[limit], now).await {
        Ok(ratelimit::Verdict::Limited) => {
            metrics::count("ForwardingRateLimited", None);
            Err(limited(limit, now))
        }
        Ok(ratelimit::Verdict::Allowed) => Ok(()),
        Err(e) => {
            tracing::warn!(error = %e, "forwarding rate limit unreadable; allowing");
            Ok(())
        }
    }
}

fn unauthorized(code: &str, message: &str) -> ApiError {
    ApiError::new(StatusCode::UNAUTHORIZED, code, message)
        .with_header(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"))
}

fn html_reply(html: String) -> Response<Body> {
    let mut r = Response::new(Body::Text(html));
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    r
}

/// Handles one request (module docs).
pub async fn handle(deps: &Deps, settings: &Settings, req: Request) -> Response<Body> {
    match run(deps, settings, &req).await {
        Ok(r) => r,
        Err(e) => e.into_response(),
    }
}

async fn run(deps: &Deps, settings: &Settings, req: &Request) -> Result<Response<Body>, ApiError> {
    let now = now_secs();
    let ip = telephony_aws::event::caller(req)
        .source_ip
        .unwrap_or_else(|| "unknown".into());
    allowed(deps, &format!("fwd-ip#{ip}"), IP_LIMIT, now).await?;
    let token = bearer_token(req).ok_or_else(|| {
        unauthorized("missing_token", "Authorization: Bearer <token> is required")
    })?;
    let user = settings.auth.verify(token, now).await.map_err(|e| {
        metrics::count("ForwardingAuthRefused", None);
        unauthorized("bad_token", &e.to_string())
    })?;
    allowed(deps, &format!("fwd-org#{}", user.org), ORG_LIMIT, now).await?;
    let store = OrgStore::new(deps.dynamo(), &settings.table, &user.org);
    let m = json_api::route(ROUTES, req.method(), req.uri().path())?;
    let registry = Registry::builtin();
    let answer = match m.op {
        Op::Countries => routes::countries(registry),
        Op::Carriers => routes::carriers(registry, m.param("cc")),
        Op::SetCountry => routes::set_country(&store, registry, req, &user.subject).await,
        Op::Create => routes::create(deps, &store, registry, req, &user).await,
        Op::List => routes::list(deps, &store, now).await,
        Op::Verify => verify(deps, &store, m.param("id"), req.body().as_ref(), now).await,
        Op::Disable => routes::disable(&store, m.param("id"), &user.subject).await,
        Op::Kit => {
            return Ok(html_reply(
                routes::kit_page(&store, registry, m.param("id"), &user).await?,
            ))
        }
        // Privacy requests for the org's own callers only (issue 25 §6).
        Op::Privacy => {
            let asker = json_api::privacy::Asker::Tenant(&user.org);
            let body = req.body().as_ref();
            json_api::privacy::answer(
                deps,
                m.param("action"),
                body,
                idempotency_key(req),
                asker,
                &user.subject,
                now,
            )
            .await
        }
    };
    Ok(json_api::answer::respond(answer))
}
