//! `POST /forwarding/configs/{id}/verify` (issue 11; bounded against toll fraud, issue 27 §4):
//! the verification call and its limits.

use crate::routes::{bad, found, store_down};
use forwarding::Condition;
use json_api::{Answer, ApiError};
use serde_json::json;
use std::time::Duration;
use telephony_aws::forwarding::{ForwardingConfig, ForwardingState, OrgStore, Transition};
use telephony_aws::http::StatusCode;
use telephony_aws::http::{header, HeaderValue};
use telephony_aws::{metrics, ratelimit, Deps};
use telephony_core::ratelimit::Limit;
use telephony_core::E164;

pub use telephony_aws::reverify::VERIFY_TIMEOUT_SECS;
/// The least time between two verification calls of one config (seconds): a second
/// `POST …/verify` sooner → 429 with `Retry-After` (issue 27 §4, toll fraud).
pub const VERIFY_COOLDOWN_SECS: u64 = 300;
/// Verification calls per org per day (fixed window in the rate-limits table; counted before
/// the call is placed, and an unreadable counter refuses: fail closed, these are paid calls).
pub const VERIFY_DAILY_CAP: Limit = Limit {
    max_calls: 10,
    window: Duration::from_secs(86_400),
};

/// `POST /forwarding/configs/{id}/verify` with an optional JSON body `{"condition": …}`
/// ([`Condition`]: `no_answer` (the safety net's default), `busy` (the tenant declines the test
/// call), `not_reachable` (the phone is off); `unconditional` for total AI): a short outbound
/// call from the org's number to the SIM (Twilio Calls API; it pauses, then hangs up). Each
/// check proves one condition (issue 22 §1): the config lists `verified_conditions`, and the
/// instructions say what to do while it rings. When forwarding works, the carrier forwards
/// it back to our number and the frontdoor sees `ForwardedFrom` = the SIM, `To` and `From` =
/// the config's forwarding number, while the config is `verifying`: it marks the config
/// `verified` and hangs up. No forwarded call within [`VERIFY_TIMEOUT_SECS`] → `unverified`
/// with the reason (on the next read).
///
/// These are paid calls placed on a tenant's request (issue 27 §4): the SIM is checked again
/// against the country's mobile ranges, one verification is in flight per config (409
/// `verification_in_progress`; the state change is conditional, so two racing requests place
/// one call), a config waits [`VERIFY_COOLDOWN_SECS`] between calls, and an org places at most
/// [`VERIFY_DAILY_CAP`] a day (429 `verify_daily_cap`). `ForwardingVerifyCalls` counts the
/// calls placed (alarmed), `ForwardingVerifyRefused` the refusals by `Reason`.
pub async fn verify(deps: &Deps, store: &OrgStore<'_>, id: &str, body: &[u8], now: u64) -> Answer {
    let refused = |reason: &str, status: StatusCode, code: &str, message: &str| {
        metrics::count("ForwardingVerifyRefused", Some(("Reason", reason)));
        ApiError::new(status, code, message)
    };
    let c = found(store, id).await?;
    let condition = condition_of(&c, body)?;
    if c.state == ForwardingState::Disabled {
        return Err(refused(
            "disabled",
            StatusCode::CONFLICT,
            "disabled",
            "this config is disabled",
        ));
    }
    if let Some(started) = c.verify_started_at {
        let age = now.saturating_sub(started);
        if c.state == ForwardingState::Verifying && age <= VERIFY_TIMEOUT_SECS {
            return Err(refused(
                "in_progress",
                StatusCode::CONFLICT,
                "verification_in_progress",
                "a verification call is under way; read the config for its outcome",
            ));
        }
        if age < VERIFY_COOLDOWN_SECS {
            metrics::count("ForwardingVerifyRefused", Some(("Reason", "cooldown")));
            let wait = (VERIFY_COOLDOWN_SECS - age).to_string();
            let mut e = ApiError::new(
                StatusCode::TOO_MANY_REQUESTS,
                "verify_cooldown",
                "a verification call was placed recently; retry after the time Retry-After gives (seconds)",
            );
            if let Ok(v) = HeaderValue::from_str(&wait) {
                e = e.with_header(header::RETRY_AFTER, v);
            }
            return Err(e);
        }
    }
    let sim_ok = E164::parse_syntax(&c.sim_e164)
        .map_err(|e| e.to_string())
        .and_then(|sim| forwarding::check_sim(&c.country, &sim).map_err(|e| e.to_string()));
    if let Err(e) = sim_ok {
        return Err(refused(
            "invalid_sim",
            StatusCode::BAD_REQUEST,
            "invalid_sim",
            &e,
        ));
    }
    let twilio = deps.twilio().map_err(|e| {
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "twilio_unavailable",
            e.to_string(),
        )
    })?;
    match ratelimit::check_all(
        deps.dynamo(),
        &deps.config.rate_limits_table,
        &format!("fwd-verify#{}", store.org()),
        &[VERIFY_DAILY_CAP],
        now,
    )
    .await
    {
        Ok(ratelimit::Verdict::Allowed) => {}
        Ok(ratelimit::Verdict::Limited) => {
            return Err(refused(
                "daily_cap",
                StatusCode::TOO_MANY_REQUESTS,
                "verify_daily_cap",
                &format!(
                    "at most {} verification calls a day per account",
                    VERIFY_DAILY_CAP.max_calls
                ),
            ))
        }
        Err(e) => return Err(store_down(&e)),
    }
    // After `unverified` or `looping`, what was proven before no longer holds.
    let fresh = matches!(
        c.state,
        ForwardingState::Unverified | ForwardingState::Looping
    );
    match store
        .start_verification(&c, condition.as_str(), "tenant", fresh, now)
        .await
    {
        Ok(Transition::Moved) => {}
        Ok(Transition::Stale) => {
            return Err(refused(
                "in_progress",
                StatusCode::CONFLICT,
                "verification_in_progress",
                "the config changed meanwhile (another verification started?); read it again",
            ))
        }
        Err(e) => return Err(store_down(&e)),
    }
    let verifying = ForwardingConfig {
        state: ForwardingState::Verifying,
        verify_started_at: Some(now),
        verify_condition: Some(condition.as_str().into()),
        ..c
    };
    match telephony_aws::reverify::place_call(twilio, &verifying).await {
        Ok(call) => Ok((
            StatusCode::ACCEPTED,
            json!({"id": verifying.id, "state": "verifying", "call_sid": call.sid.unwrap_or_default(),
            "condition": condition.as_str(), "timeout_seconds": VERIFY_TIMEOUT_SECS,
            "instructions": condition.instructions(false),
            "instructions_fr": condition.instructions(true)}),
        )),
        Err(e) => {
            let _ = store
                .set_state(
                    &verifying,
                    ForwardingState::Unverified,
                    Some("the test call could not be placed"),
                    None,
                )
                .await;
            Err(ApiError::new(
                StatusCode::BAD_GATEWAY,
                "twilio_refused",
                e.to_string(),
            ))
        }
    }
}

/// The condition a verification checks: the body's `condition`, else the mode's default.
///
/// Errors: 400 `bad_json` for a body that is not a JSON object, 400 `invalid_condition` for a
/// condition the config's mode does not forward on (e.g. `busy` for total AI).
fn condition_of(c: &ForwardingConfig, body: &[u8]) -> Result<Condition, ApiError> {
    let mode = c.mode;
    let allowed = Condition::of_mode(mode);
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(allowed[0]);
    }
    #[derive(serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Ask {
        condition: Option<String>,
    }
    let ask: Ask = serde_json::from_slice(body).map_err(|e| bad("bad_json", &e.to_string()))?;
    let Some(name) = ask.condition else {
        return Ok(allowed[0]);
    };
    Condition::parse(&name)
        .filter(|c| allowed.contains(c))
        .ok_or_else(|| {
            let list: Vec<&str> = allowed.iter().map(|c| c.as_str()).collect();
            bad(
                "invalid_condition",
                &format!(
                    "condition: {} forwarding is checked for {}",
                    c.mode.as_str(),
                    list.join(", ")
                ),
            )
        })
}
