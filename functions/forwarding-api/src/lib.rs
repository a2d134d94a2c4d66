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

pub mod auth;
pub mod kit;
pub mod number;
pub mod verify;

pub use verify::{verify, Refusal, VERIFY_COOLDOWN_SECS, VERIFY_DAILY_CAP, VERIFY_TIMEOUT_SECS};

use forwarding::{ForwardingMode, Registry, RingTime};
use serde::Deserialize;
use serde_json::{json, Value};
use std::sync::OnceLock;
use std::time::Duration;
use telephony_aws::forwarding::{ForwardingConfig, OrgStore, SimClaim, Transition, Versioned};
use telephony_aws::http::{header, HeaderValue, Method, StatusCode};
use telephony_aws::{glue, metrics, now_ms, now_secs, ratelimit, Body, Deps, Request, Response};
use telephony_core::ratelimit::Limit;
use telephony_core::E164;

/// Every `(method, path)` this function serves (template.yaml declares the same; a test checks).
pub const ROUTES: [(&str, &str); 9] = [
    ("GET", "/forwarding/countries"),
    ("GET", "/forwarding/countries/{cc}/carriers"),
    ("PUT", "/forwarding/country"),
    ("POST", "/forwarding/configs"),
    ("GET", "/forwarding/configs"),
    ("POST", "/forwarding/configs/{id}/verify"),
    ("DELETE", "/forwarding/configs/{id}"),
    ("GET", "/forwarding/configs/{id}/kit"),
    ("POST", "/forwarding/privacy/{action}"),
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

/// The function's settings, built once per process.
pub struct Settings {
    /// `FORWARDING_TABLE`.
    pub table: String,
    /// The token checker.
    pub auth: auth::Auth,
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
        None => glue::not_configured("the forwarding API is not configured"),
    }
}

fn error(status: StatusCode, code: &str, message: &str) -> Response<Body> {
    glue::json_error(status, code, message)
}

fn limited(limit: Limit, now: u64) -> Response<Body> {
    let window = limit.window.as_secs();
    let reset = window - now % window;
    let mut r = error(
        StatusCode::TOO_MANY_REQUESTS,
        "rate_limited",
        "too many requests; retry after the time Retry-After gives (seconds)",
    );
    let h = r.headers_mut();
    for (name, v) in [
        ("retry-after", reset.to_string()),
        ("ratelimit-limit", limit.max_calls.to_string()),
        ("ratelimit-remaining", "0".to_owned()),
        ("ratelimit-reset", reset.to_string()),
    ] {
        if let Ok(v) = HeaderValue::from_str(&v) {
            h.insert(header::HeaderName::from_static(name), v);
        }
    }
    r
}

/// `true` when `key` may make one more request under `limit` (a failed count lets it through:
/// fail open, like the other limiters).
async fn allowed(deps: &Deps, key: &str, limit: Limit, now: u64) -> bool {
    match ratelimit::check_all(
        &deps.dynamo,
        &deps.config.rate_limits_table,
        key,
        &[limit],
        now,
    )
    .await
    {
        Ok(ratelimit::Verdict::Limited) => {
            metrics::count("ForwardingRateLimited", None);
            false
        }
        Ok(ratelimit::Verdict::Allowed) => true,
        Err(e) => {
            tracing::warn!(error = %e, "forwarding rate limit unreadable; allowing");
            true
        }
    }
}

/// `POST /forwarding/configs` body.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct NewConfig {
    sim_e164: String,
    carrier: String,
    mode: String,
    ring_time: Option<u32>,
}

/// `PUT /forwarding/country` body.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CountryChange {
    country: String,
}

/// Handles one request (module docs).
pub async fn handle(deps: &Deps, settings: &Settings, req: Request) -> Response<Body> {
    let now = now_secs();
    let ip = telephony_aws::event::caller(&req)
        .source_ip
        .unwrap_or_else(|| "unknown".into());
    if !allowed(deps, &format!("fwd-ip#{ip}"), IP_LIMIT, now).await {
        return limited(IP_LIMIT, now);
    }
    let user = match glue::bearer_token(&req) {
        None => return unauthorized("missing_token", "Authorization: Bearer <token> is required"),
        Some(t) => match settings.auth.verify(t, now).await {
            Ok(u) => u,
            Err(e) => {
                metrics::count("ForwardingAuthRefused", None);
                return unauthorized("bad_token", &e.to_string());
            }
        },
    };
    if !allowed(deps, &format!("fwd-org#{}", user.org), ORG_LIMIT, now).await {
        return limited(ORG_LIMIT, now);
    }
    let store = OrgStore::new(&deps.dynamo, &settings.table, &user.org);
    let path = req.uri().path().to_owned();
    let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
    let registry = Registry::builtin();
    let (status, value) = match (req.method(), segments.as_slice()) {
        (&Method::GET, ["forwarding", "countries"]) => countries(registry),
        (&Method::GET, ["forwarding", "countries", cc, "carriers"]) => carriers(registry, cc),
        (&Method::PUT, ["forwarding", "country"]) => {
            let if_match = req
                .headers()
                .get(header::IF_MATCH)
                .and_then(|v| v.to_str().ok())
                .map(|v| v.trim().trim_matches('"').to_owned());
            set_country(
                &store,
                registry,
                req.body().as_ref(),
                if_match.as_deref(),
                &user.subject,
            )
            .await
        }
        (&Method::POST, ["forwarding", "configs"]) => {
            create(deps, &store, registry, req.body().as_ref(), &user).await
        }
        (&Method::GET, ["forwarding", "configs"]) => list(deps, &store, now).await,
        (&Method::POST, ["forwarding", "configs", id, "verify"]) => {
            match verify(deps, &store, id, req.body().as_ref(), now).await {
                Ok(a) => a,
                Err(Refusal::Cooldown(wait)) => {
                    let mut r = error(
                        StatusCode::TOO_MANY_REQUESTS,
                        "verify_cooldown",
                        "a verification call was placed recently; retry after the time Retry-After gives (seconds)",
                    );
                    if let Ok(v) = HeaderValue::from_str(&wait.to_string()) {
                        r.headers_mut().insert(header::RETRY_AFTER, v);
                    }
                    return r;
                }
                Err(Refusal::Answer(a)) => a,
            }
        }
        (&Method::DELETE, ["forwarding", "configs", id]) => {
            disable(&store, id, &user.subject).await
        }
        // Privacy requests for the org's own callers only (issue 25 §6).
        (&Method::POST, ["forwarding", "privacy", action]) => {
            let key = req
                .headers()
                .get("idempotency-key")
                .and_then(|v| v.to_str().ok());
            telephony_aws::privacy::answer(
                deps,
                action,
                req.body().as_ref(),
                key,
                Some(&user.org),
                &user.subject,
                now,
            )
            .await
        }
        (&Method::GET, ["forwarding", "configs", id, "kit"]) => {
            return match kit_page(&store, registry, id, &user).await {
                Ok(html) => html_reply(html),
                Err((status, v)) => glue::json(status, &v),
            };
        }
        _ => (
            StatusCode::NOT_FOUND,
            glue::error_body("not_found", "no such route"),
        ),
    };
    glue::json(status, &value)
}

fn unauthorized(code: &str, message: &str) -> Response<Body> {
    let mut r = error(StatusCode::UNAUTHORIZED, code, message);
    r.headers_mut()
        .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
    r
}

fn html_reply(html: String) -> Response<Body> {
    let mut r = Response::new(Body::Text(html));
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    r
}

pub(crate) type Answer = (StatusCode, Value);

pub(crate) fn bad(code: &str, message: &str) -> Answer {
    (StatusCode::BAD_REQUEST, glue::error_body(code, message))
}

pub(crate) fn store_down(e: &telephony_aws::Error) -> Answer {
    tracing::error!(error = %e, "forwarding store failed");
    (
        StatusCode::SERVICE_UNAVAILABLE,
        glue::error_body("store_unavailable", "retry shortly"),
    )
}

fn countries(r: &Registry) -> Answer {
    let list: Vec<Value> = r
        .active_countries()
        .map(|c| {
            json!({"code": c.code, "name": c.name, "name_fr": c.name_fr,
                "provisioning_country": c.provisioning_country, "cost_estimate": c.cost_estimate,
                "cost_estimate_fr": c.cost_estimate_fr, "warning": c.warning, "warning_fr": c.warning_fr,
                "needs_address": c.needs_address})
        })
        .collect();
    (
        StatusCode::OK,
        json!({"registry_version": r.version, "countries": list}),
    )
}

fn carriers(r: &Registry, cc: &str) -> Answer {
    match r.country(cc) {
        Ok(c) => {
            let list: Vec<Value> = r
                .carriers_of(&c.code)
                .map(|k| {
                    json!({"slug": k.slug, "name": k.name, "kind": k.kind_str(),
                        "supports_ring_time": k.no_reply_timer, "notes": k.notes, "source": k.source,
                        "source_kind": k.source_kind.as_str()})
                })
                .collect();
            (StatusCode::OK, json!({"country": c.code, "carriers": list}))
        }
        Err(e) => bad("unknown_country", &e.to_string()),
    }
}

async fn set_country(
    store: &OrgStore<'_>,
    r: &Registry,
    body: &[u8],
    if_match: Option<&str>,
    who: &str,
) -> Answer {
    let change: CountryChange = match serde_json::from_slice(body) {
        Ok(c) => c,
        Err(e) => return bad("bad_json", &e.to_string()),
    };
    let country = match r.country(&change.country) {
        Ok(c) => c.code.clone(),
        Err(e) => return bad("unknown_country", &e.to_string()),
    };
    let Some(expected) = if_match.and_then(|v| v.parse::<u64>().ok()) else {
        return (
            StatusCode::PRECONDITION_REQUIRED,
            glue::error_body("if_match_required", "send If-Match with the version GET /forwarding/configs shows (0 before the first change)"),
        );
    };
    let current = match store.settings().await {
        Ok(s) => s,
        Err(e) => return store_down(&e),
    };
    if current.country.as_deref() == Some(country.as_str()) && current.version == expected {
        return (
            StatusCode::OK,
            json!({"country": country, "version": current.version, "changed": false}),
        );
    }
    match store.set_country(&country, expected, who, now_ms()).await {
        Ok(Versioned::Changed(v)) => (
            StatusCode::OK,
            json!({"country": country, "version": v, "changed": true}),
        ),
        Ok(Versioned::Stale) => (
            StatusCode::CONFLICT,
            glue::error_body(
                "version_mismatch",
                &format!(
                    "the settings changed (version {}); read them again",
                    current.version
                ),
            ),
        ),
        Err(e) => store_down(&e),
    }
}

async fn create(
    deps: &Deps,
    store: &OrgStore<'_>,
    r: &Registry,
    body: &[u8],
    user: &auth::User,
) -> Answer {
    let req: NewConfig = match serde_json::from_slice(body) {
        Ok(c) => c,
        Err(e) => return bad("bad_json", &e.to_string()),
    };
    let sim = match E164::parse_syntax(&req.sim_e164) {
        Ok(n) => n,
        Err(e) => return bad("invalid", &format!("sim_e164: {e}")),
    };
    let mode = match ForwardingMode::parse(&req.mode) {
        Ok(m) => m,
        Err(e) => return bad("invalid", &e.to_string()),
    };
    let ring = match req.ring_time.map(RingTime::new).transpose() {
        Ok(t) => t,
        Err(e) => return bad("invalid", &e.to_string()),
    };
    let settings = match store.settings().await {
        Ok(s) => s,
        Err(e) => return store_down(&e),
    };
    let Some(country) = settings.country.clone() else {
        return (
            StatusCode::CONFLICT,
            glue::error_body(
                "no_country",
                "choose the country first: PUT /forwarding/country",
            ),
        );
    };
    let carrier = match r.carrier(&country, &req.carrier) {
        Ok(k) => k,
        Err(e) => return bad("unknown_carrier", &e.to_string()),
    };
    // Issue 22 §6: a ring time for a carrier without the setting is said not to apply, not
    // silently dropped.
    if req.ring_time.is_some() && !carrier.no_reply_timer {
        return bad(
            "ring_time_not_supported",
            &format!(
                "ring_time does not apply to {}: the carrier has no ring-time setting{}",
                carrier.name,
                carrier
                    .notes
                    .as_deref()
                    .map(|n| format!(" ({n})"))
                    .unwrap_or_default()
            ),
        );
    }
    if let Err(e) = forwarding::check_sim(&country, &sim) {
        return bad("invalid_sim", &format!("sim_e164: {e}"));
    }
    match store.configs().await {
        Ok(existing)
            if existing
                .iter()
                .any(|c| c.sim_e164 == sim.as_str() && c.state != "disabled") =>
        {
            return (
                StatusCode::CONFLICT,
                glue::error_body(
                    "sim_configured",
                    "this SIM already has a forwarding config; delete it first",
                ),
            )
        }
        Ok(_) => {}
        Err(e) => return store_down(&e),
    }
    let destination =
        match number::forwarding_number(deps, store, r, &country, &settings, user, &sim).await {
            Ok(d) => d,
            Err(a) => return a,
        };
    let codes = match r.codes(carrier, mode, &destination, ring) {
        Ok(c) => c,
        Err(e) => return bad("invalid", &e.to_string()),
    };
    let now = now_ms();
    let config = ForwardingConfig {
        id: telephony_aws::forwarding::new_config_id(now),
        sim_e164: sim.as_str().to_owned(),
        country: country.clone(),
        carrier: carrier.slug.clone(),
        mode: mode.as_str().to_owned(),
        ring_time: codes.ring_time.map(|t| u64::from(t.seconds())),
        destination: destination.as_str().to_owned(),
        state: "pending".into(),
        activation: codes.activation,
        deactivation: codes.deactivation,
        interrogation: codes.interrogation,
        clear_all: codes.clear_all,
        created_at: now / 1000,
        ..Default::default()
    };
    match store.put_config(&config).await {
        Ok(SimClaim::Claimed) => {}
        Ok(SimClaim::InUse) => {
            metrics::count("ForwardingSimInUse", None);
            return (
                StatusCode::CONFLICT,
                glue::error_body(
                    "sim_in_use",
                    "this SIM already forwards through another account's config; it must be deleted there first",
                ),
            );
        }
        Err(e) => return store_down(&e),
    }
    let _ = store
        .audit("config_created", &config.id, &user.subject, now)
        .await;
    metrics::count("ForwardingConfigs", Some(("Mode", mode.as_str())));
    (StatusCode::CREATED, view(&config, r))
}

fn view(c: &ForwardingConfig, r: &Registry) -> Value {
    let notes = r
        .carrier(&c.country, &c.carrier)
        .ok()
        .and_then(|k| k.notes.clone());
    json!({
        "id": c.id, "sim_e164": c.sim_e164, "country": c.country, "carrier": c.carrier,
        "mode": c.mode, "ring_time": c.ring_time, "destination": c.destination, "state": c.state,
        "reason": c.reason,
        "codes": {"activation": c.activation, "deactivation": c.deactivation,
            "interrogation": c.interrogation, "clear_all": c.clear_all},
        "verified_conditions": c.verified_conditions,
        "unverified_conditions": kit::unverified_conditions(c),
        "instructions": kit::steps(c, kit::Lang::En),
        "carrier_notes": notes,
    })
}

/// The org's configs; a late verification is settled as it is read
/// ([`telephony_aws::reverify::settle`]).
async fn list(deps: &Deps, store: &OrgStore<'_>, now: u64) -> Answer {
    let (configs, settings) = match (store.configs().await, store.settings().await) {
        (Ok(c), Ok(s)) => (c, s),
        (Err(e), _) | (_, Err(e)) => return store_down(&e),
    };
    let r = Registry::builtin();
    let mut out = Vec::new();
    for c in configs {
        out.push(view(
            &telephony_aws::reverify::settle(deps, store, c, now).await,
            r,
        ));
    }
    (
        StatusCode::OK,
        json!({"country": settings.country, "version": settings.version,
            "forwarding_e164": settings.forwarding_e164, "configs": out}),
    )
}

pub(crate) async fn found(store: &OrgStore<'_>, id: &str) -> Result<ForwardingConfig, Answer> {
    match store.config(id).await {
        Ok(Some(c)) => Ok(c),
        Ok(None) => Err((
            StatusCode::NOT_FOUND,
            glue::error_body("not_found", "no such config"),
        )),
        Err(e) => Err(store_down(&e)),
    }
}

async fn disable(store: &OrgStore<'_>, id: &str, who: &str) -> Answer {
    let c = match found(store, id).await {
        Ok(c) => c,
        Err(a) => return a,
    };
    // Deleting a disabled config again changes nothing (it never re-points the SIM).
    if c.state != "disabled" {
        match store.set_state(&c, "disabled", None, None).await {
            Ok(Transition::Moved) => {
                let _ = store.audit("config_disabled", &c.id, who, now_ms()).await;
            }
            Ok(Transition::Stale) => {
                return (
                    StatusCode::CONFLICT,
                    glue::error_body("changed", "the config changed meanwhile; read it and retry"),
                )
            }
            Err(e) => return store_down(&e),
        }
    }
    (
        StatusCode::OK,
        json!({"id": c.id, "state": "disabled", "deactivation": c.deactivation, "clear_all": c.clear_all,
            "instructions": "Dial the deactivation code on your mobile to stop forwarding."}),
    )
}

async fn kit_page(
    store: &OrgStore<'_>,
    r: &Registry,
    id: &str,
    user: &auth::User,
) -> Result<String, Answer> {
    let c = found(store, id).await?;
    let country = r
        .country(&c.country)
        .map_err(|e| bad("unknown_country", &e.to_string()))?;
    let carrier = r
        .carrier(&c.country, &c.carrier)
        .map_err(|e| bad("unknown_carrier", &e.to_string()))?;
    let lang = kit::Lang::from_tag(user.locale.as_deref().unwrap_or("en"));
    Ok(kit::render(&c, country, carrier, lang))
}
