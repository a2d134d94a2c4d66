//! Verifications that settle themselves, and the 30-day re-verification (issue 24 §3).
//!
//! A hybrid-forwarding config verified once can stop working: a carrier change, a SIM reset,
//! the owner's phone set to forward elsewhere. So the monitor re-verifies every `verified`
//! config [`REVERIFY_AFTER_SECS`] after its last proof (`verified_at`, else its creation): it
//! places the same test call the tenant's `POST …/verify` places (origin `monitor`, the earlier
//! proofs forgotten), at most [`REVERIFY_BATCH`] per run. A config's carrier and SIM cannot
//! change in place (a change is a new config, verified anew), so "after any carrier or number
//! change" is covered by that.
//!
//! A verification whose forwarded call did not arrive within [`VERIFY_TIMEOUT_SECS`] is settled
//! by whoever reads it first (the tenant API, or the monitor's next run) through [`settle`]: a
//! tenant's check falls back to `verified` when another condition was proven before (the reason
//! names the failed one), else `unverified`; a re-verification that failed makes the config
//! `unverified` and sends the org one notice (claimed on `fwdnotice#<config>#reverify#<start>`),
//! `ForwardingReverifications` by `Outcome` (`placed`, `verified`, `failed`).

use crate::error::Error;
use crate::forwarding::{watched_configs, ForwardingConfig, ForwardingState, OrgStore, Transition};
use crate::{loops, metrics, Deps};
use forwarding::Condition;
use telephony_core::mask_phone;

/// How long a verification waits for the forwarded call (seconds).
pub const VERIFY_TIMEOUT_SECS: u64 = 90;
/// How long a proof holds before the monitor re-verifies the config (30 days, in seconds).
pub const REVERIFY_AFTER_SECS: u64 = 30 * 86_400;
/// Re-verification calls placed per monitor run at most.
pub const REVERIFY_BATCH: usize = 10;
/// The test call's TwiML: it pauses while the carrier forwards it, then hangs up.
pub const VERIFICATION_TWIML: &str = "<Response><Pause length=\"20\"/><Hangup/></Response>";

/// Places the verification call of `c`: from its forwarding number to its SIM (Twilio Calls
/// API, 25 s ring). Counted as `ForwardingVerifyCalls`.
///
/// Errors: Twilio's refusal.
pub async fn place_call(
    twilio: &twilio_api::Client,
    c: &ForwardingConfig,
) -> Result<twilio_api::numbers::Call, twilio_api::TwilioError> {
    metrics::count("ForwardingVerifyCalls", None);
    twilio
        .create_call(&c.destination, &c.sim_e164, VERIFICATION_TWIML, 25)
        .await
}

/// The default condition a verification of `c` checks.
pub fn default_condition(c: &ForwardingConfig) -> Condition {
    Condition::of_mode(c.mode)[0]
}

/// `c` as it stands at `now`: a `verifying` config past [`VERIFY_TIMEOUT_SECS`] is moved to
/// what its outcome says (conditional on its state: a racing reader changes nothing twice) and
/// returned moved; anything else is returned as is.
pub async fn settle(
    deps: &Deps,
    store: &OrgStore<'_>,
    c: ForwardingConfig,
    now: u64,
) -> ForwardingConfig {
    let late = c.state == ForwardingState::Verifying
        && c.verify_started_at
            .is_some_and(|t| now.saturating_sub(t) > VERIFY_TIMEOUT_SECS);
    if !late {
        return c;
    }
    let checked = c
        .verify_condition
        .as_deref()
        .and_then(Condition::parse)
        .unwrap_or_else(|| default_condition(&c));
    let monitor = c.verify_origin.as_deref() == Some("monitor");
    let reason = if monitor {
        format!(
            "the 30-day re-verification call was not forwarded back: {}",
            checked.failure()
        )
    } else {
        format!("{} check: {}", checked.as_str(), checked.failure())
    };
    let state = if monitor || c.verified_conditions.is_empty() {
        ForwardingState::Unverified
    } else {
        ForwardingState::Verified
    };
    match store.set_state(&c, state, Some(&reason), None).await {
        Ok(Transition::Moved) => {}
        Ok(Transition::Stale) => return c,
        Err(e) => {
            tracing::error!(config = %c.id, error = %e, "late verification not settled");
            return c;
        }
    }
    metrics::count("ForwardingVerifications", Some(("Outcome", "unverified")));
    if monitor {
        metrics::count("ForwardingReverifications", Some(("Outcome", "failed")));
        let pk = format!(
            "fwdnotice#{}#reverify#{}",
            c.id,
            c.verify_started_at.unwrap_or(0)
        );
        let notice = serde_json::json!({
            "type": "forwarding_unverified",
            "org": store.org(),
            "config_id": c.id,
            "sim": mask_phone(&c.sim_e164),
            "reason": reason,
        });
        loops::org_notice(
            deps,
            &pk,
            &c.destination,
            "Call forwarding no longer verified",
            &notice,
            now,
        )
        .await;
    }
    ForwardingConfig {
        state,
        reason: Some(reason),
        ..c
    }
}

/// What a re-verification pass did.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Report {
    /// Re-verification calls placed.
    pub placed: usize,
    /// Late verifications settled.
    pub settled: usize,
    /// Calls Twilio refused (the config goes back to `verified`, tried again next run).
    pub refused: usize,
}

/// The monitor's pass: settles late verifications, then re-verifies configs whose proof is
/// older than [`REVERIFY_AFTER_SECS`] (at most [`REVERIFY_BATCH`]). Nothing to do without a
/// forwarding table.
///
/// Errors: [`Error::Dynamo`] when the configs cannot be read.
pub async fn run(deps: &Deps, now: u64) -> Result<Report, Error> {
    let mut report = Report::default();
    let Some(table) = deps.config.forwarding_table.as_deref() else {
        return Ok(report);
    };
    let mut due = Vec::new();
    for (org, c) in watched_configs(deps.dynamo(), table).await? {
        let store = OrgStore::new(deps.dynamo(), table, &org);
        if c.state == ForwardingState::Verifying {
            if settle(deps, &store, c, now).await.state != ForwardingState::Verifying {
                report.settled += 1;
            }
            continue;
        }
        let proven = c.verified_at.unwrap_or(c.created_at);
        if now.saturating_sub(proven) >= REVERIFY_AFTER_SECS {
            due.push((org, c));
        }
    }
    let twilio = match deps.twilio() {
        Ok(t) => t,
        Err(_) if due.is_empty() => return Ok(report),
        Err(e) => return Err(e),
    };
    for (org, c) in due.into_iter().take(REVERIFY_BATCH) {
        let store = OrgStore::new(deps.dynamo(), table, &org);
        let condition = default_condition(&c);
        if store
            .start_verification(&c, condition.as_str(), "monitor", true, now)
            .await?
            == Transition::Stale
        {
            continue;
        }
        match place_call(twilio, &c).await {
            Ok(_) => {
                report.placed += 1;
                metrics::count("ForwardingReverifications", Some(("Outcome", "placed")));
            }
            Err(e) => {
                tracing::warn!(config = %c.id, error = %e, "re-verification call refused; retried next run");
                report.refused += 1;
                let verifying = ForwardingConfig {
                    state: ForwardingState::Verifying,
                    ..c
                };
                let _ = store
                    .set_state(
                        &verifying,
                        ForwardingState::Verified,
                        Some("the re-verification call could not be placed"),
                        None,
                    )
                    .await;
            }
        }
    }
    Ok(report)
}
