//! The routes of the tenant API, one function each; errors are [`ApiError`]s.

use crate::{auth, kit, number};
use forwarding::{ForwardingMode, Registry, RingTime};
use json_api::request::{if_match, json_body};
use json_api::{Answer, ApiError};
use serde::Deserialize;
use serde_json::{json, Value};
use telephony_aws::forwarding::{
    ForwardingConfig, ForwardingState, OrgStore, SimClaim, Transition, Versioned,
};
use telephony_aws::http::StatusCode;
use telephony_aws::{metrics, now_ms, Deps, Request};
use telephony_core::E164;

/// `POST /forwarding/configs` body.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct NewConfig {
    sim_e164: String,
    carrier: String,
    mode: String,
    ring_time: Option<u32>,
}

/// `PUT /forwarding/country` body.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct CountryChange {
    country: String,
}

pub(crate) fn bad(code: &str, message: &str) -> ApiError {
    ApiError::new(StatusCode::BAD_REQUEST, code, message)
}

pub(crate) fn store_down(e: &telephony_aws::Error) -> ApiError {
    tracing::error!(error = %e, "forwarding store failed");
    ApiError::new(
        StatusCode::SERVICE_UNAVAILABLE,
        "store_unavailable",
        "retry shortly",
    )
}

pub(crate) fn countries(r: &Registry) -> Answer {
    let list: Vec<Value> = r
        .active_countries()
        .map(|c| {
            json!({"code": c.code, "name": c.name, "name_fr": c.name_fr,
                "provisioning_country": c.provisioning_country, "cost_estimate": c.cost_estimate,
                "cost_estimate_fr": c.cost_estimate_fr, "warning": c.warning, "warning_fr": c.warning_fr,
                "needs_address": c.needs_address})
        })
        .collect();
    Ok((
        StatusCode::OK,
        json!({"registry_version": r.version, "countries": list}),
    ))
}

pub(crate) fn carriers(r: &Registry, cc: &str) -> Answer {
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
            Ok((StatusCode::OK, json!({"country": c.code, "carriers": list})))
        }
        Err(e) => Err(bad("unknown_country", &e.to_string())),
    }
}

pub(crate) async fn set_country(
    store: &OrgStore<'_>,
    r: &Registry,
    req: &Request,
    who: &str,
) -> Answer {
    let change: CountryChange = json_body(req, false)?;
    let if_match = if_match(req);
    let if_match = if_match.as_deref();
    let country = match r.country(&change.country) {
        Ok(c) => c.code.clone(),
        Err(e) => return Err(bad("unknown_country", &e.to_string())),
    };
    let Some(expected) = if_match.and_then(|v| v.parse::<u64>().ok()) else {
        return Err(ApiError::new(StatusCode::PRECONDITION_REQUIRED, "if_match_required", "send If-Match with the version GET /forwarding/configs shows (0 before the first change)"));
    };
    let current = match store.settings().await {
        Ok(s) => s,
        Err(e) => return Err(store_down(&e)),
    };
    if current.country.as_deref() == Some(country.as_str()) && current.version == expected {
        return Ok((
            StatusCode::OK,
            json!({"country": country, "version": current.version, "changed": false}),
        ));
    }
    match store.set_country(&country, expected, who, now_ms()).await {
        Ok(Versioned::Changed(v)) => Ok((
            StatusCode::OK,
            json!({"country": country, "version": v, "changed": true}),
        )),
        Ok(Versioned::Stale) => Err(ApiError::new(
            StatusCode::CONFLICT,
            "version_mismatch",
            format!(
                "the settings changed (version {}); read them again",
                current.version
            ),
        )),
        Err(e) => Err(store_down(&e)),
    }
}

pub(crate) async fn create(
    deps: &Deps,
    store: &OrgStore<'_>,
    r: &Registry,
    request: &Request,
    user: &auth::User,
) -> Answer {
    let req: NewConfig = json_body(request, false)?;
    let sim = match E164::parse_syntax(&req.sim_e164) {
        Ok(n) => n,
        Err(e) => return Err(bad("invalid", &format!("sim_e164: {e}"))),
    };
    let mode = match ForwardingMode::parse(&req.mode) {
        Ok(m) => m,
        Err(e) => return Err(bad("invalid", &e.to_string())),
    };
    let ring = match req.ring_time.map(RingTime::new).transpose() {
        Ok(t) => t,
        Err(e) => return Err(bad("invalid", &e.to_string())),
    };
    let settings = match store.settings().await {
        Ok(s) => s,
        Err(e) => return Err(store_down(&e)),
    };
    let Some(country) = settings.country.clone() else {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "no_country",
            "choose the country first: PUT /forwarding/country",
        ));
    };
    let carrier = match r.carrier(&country, &req.carrier) {
        Ok(k) => k,
        Err(e) => return Err(bad("unknown_carrier", &e.to_string())),
    };
    // Issue 22 §6: a ring time for a carrier without the setting is said not to apply, not
    // silently dropped.
    if req.ring_time.is_some() && !carrier.no_reply_timer {
        return Err(bad(
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
        ));
    }
    if let Err(e) = forwarding::check_sim(&country, &sim) {
        return Err(bad("invalid_sim", &format!("sim_e164: {e}")));
    }
    match store.configs().await {
        Ok(existing)
            if existing
                .iter()
                .any(|c| c.sim_e164 == sim.as_str() && c.state != ForwardingState::Disabled) =>
        {
            return Err(ApiError::new(
                StatusCode::CONFLICT,
                "sim_configured",
                "this SIM already has a forwarding config; delete it first",
            ))
        }
        Ok(_) => {}
        Err(e) => return Err(store_down(&e)),
    }
    let destination =
        match number::forwarding_number(deps, store, r, &country, &settings, user, &sim).await {
            Ok(d) => d,
            Err(a) => return Err(a),
        };
    let codes = match r.codes(carrier, mode, &destination, ring) {
        Ok(c) => c,
        Err(e) => return Err(bad("invalid", &e.to_string())),
    };
    let now = now_ms();
    let config = ForwardingConfig {
        id: telephony_aws::forwarding::new_config_id(now),
        sim_e164: sim.as_str().to_owned(),
        country: country.clone(),
        carrier: carrier.slug.clone(),
        mode,
        ring_time: codes.ring_time.map(|t| u64::from(t.seconds())),
        destination: destination.as_str().to_owned(),
        state: ForwardingState::Pending,
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
            return Err(ApiError::new(StatusCode::CONFLICT, "sim_in_use", "this SIM already forwards through another account's config; it must be deleted there first"));
        }
        Err(e) => return Err(store_down(&e)),
    }
    let _ = store
        .audit("config_created", &config.id, &user.subject, now)
        .await;
    metrics::count("ForwardingConfigs", Some(("Mode", mode.as_str())));
    Ok((StatusCode::CREATED, view(&config, r)))
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
pub(crate) async fn list(deps: &Deps, store: &OrgStore<'_>, now: u64) -> Answer {
    let (configs, settings) = match (store.configs().await, store.settings().await) {
        (Ok(c), Ok(s)) => (c, s),
        (Err(e), _) | (_, Err(e)) => return Err(store_down(&e)),
    };
    let r = Registry::builtin();
    let mut out = Vec::new();
    for c in configs {
        out.push(view(
            &telephony_aws::reverify::settle(deps, store, c, now).await,
            r,
        ));
    }
    Ok((
        StatusCode::OK,
        json!({"country": settings.country, "version": settings.version,
            "forwarding_e164": settings.forwarding_e164, "configs": out}),
    ))
}

pub(crate) async fn found(store: &OrgStore<'_>, id: &str) -> Result<ForwardingConfig, ApiError> {
    match store.config(id).await {
        Ok(Some(c)) => Ok(c),
        Ok(None) => Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "not_found",
            "no such config",
        )),
        Err(e) => Err(store_down(&e)),
    }
}

pub(crate) async fn disable(store: &OrgStore<'_>, id: &str, who: &str) -> Answer {
    let c = match found(store, id).await {
        Ok(c) => c,
        Err(a) => return Err(a),
    };
    // Deleting a disabled config again changes nothing (it never re-points the SIM).
    if c.state != ForwardingState::Disabled {
        match store
            .set_state(&c, ForwardingState::Disabled, None, None)
            .await
        {
            Ok(Transition::Moved) => {
                let _ = store.audit("config_disabled", &c.id, who, now_ms()).await;
            }
            Ok(Transition::Stale) => {
                return Err(ApiError::new(
                    StatusCode::CONFLICT,
                    "changed",
                    "the config changed meanwhile; read it and retry",
                ))
            }
            Err(e) => return Err(store_down(&e)),
        }
    }
    Ok((
        StatusCode::OK,
        json!({"id": c.id, "state": "disabled", "deactivation": c.deactivation, "clear_all": c.clear_all,
            "instructions": "Dial the deactivation code on your mobile to stop forwarding."}),
    ))
}

pub(crate) async fn kit_page(
    store: &OrgStore<'_>,
    r: &Registry,
    id: &str,
    user: &auth::User,
) -> Result<String, ApiError> {
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
