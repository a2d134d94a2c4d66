//! `/voice-status`, status callback of the dialled `<Number>` and of the number (spec §3):
//! `CallStatus` stored forward-only (a late `ringing` never overwrites `completed`), with
//! `CallDuration` (seconds) and `ParentCallSid`. Answers 204. Call outcome metrics
//! (`CallsCompleted`, `CallsFailed`, `CallDuration` in seconds) count the caller's call only, never
//! a dialled leg (it carries `ParentCallSid`).

use telephony_aws::store::Advance;
use telephony_aws::{glue, metrics, now_secs, Body, Deps, Error, Request, Response, Webhook};
use telephony_core::status::{call_outcome, call_status_rank, CallOutcome};
use telephony_core::{CallSid, ParamError, Route};

/// Handles one request: 204 when stored (or stale), 400 for an unknown status.
pub async fn handler(deps: &Deps, req: Request) -> Response<Body> {
    glue::callback_webhook(deps, req, Route::Status, store).await
}

async fn store(deps: &Deps, hook: &Webhook) -> Result<(), Error> {
    let p = &hook.params;
    let sid = p.call_sid()?;
    let status = p.require("CallStatus")?;
    let rank = call_status_rank(status).ok_or(ParamError::Invalid("CallStatus"))?;
    let parent = p
        .get("ParentCallSid")
        .map(CallSid::parse)
        .transpose()
        .map_err(ParamError::from)?;
    let advance = deps
        .calls()
        .advance_status(
            &sid,
            status,
            rank,
            p.seconds("CallDuration"),
            parent.as_ref(),
            now_secs(),
        )
        .await?;
    if advance == Advance::Stale {
        tracing::info!(call_sid = %sid, status, "stale or repeated status ignored");
    } else if let Some(outcome) = call_outcome(status, parent.is_some()) {
        // Outcomes are counted per caller's (parent) call; a dialled leg's `no-answer` is in
        // DialOutcomes (counted by /voice-route-action).
        match outcome {
            CallOutcome::Completed => metrics::count("CallsCompleted", None),
            CallOutcome::Failed => metrics::count("CallsFailed", Some(("Status", status))),
        }
        if let Some(secs) = p.seconds("CallDuration") {
            metrics::gauge("CallDuration", secs as f64, "Seconds");
        }
    }
    Ok(())
}
