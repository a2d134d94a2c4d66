//! `/voice-route-action`, action of the department `<Dial>` (spec §3): `completed`/`answered` →
//! hang up; `busy`, `no-answer`, `failed`, `canceled` (or anything else) → voicemail. The outcome
//! is stored on the call; a storage failure never changes what the caller hears.

use telephony_aws::{glue, metrics, now_secs, Body, Deps, Error, Request, Response, Webhook};
use telephony_core::flow::DialOutcome;
use telephony_core::{Route, Twiml};

/// Handles one request; always 200 TwiML unless the signature is missing or bad.
pub async fn handler(deps: &Deps, req: Request) -> Response<Body> {
    glue::voice_webhook(deps, req, Route::RouteAction, answer).await
}

async fn answer(deps: &Deps, hook: &Webhook) -> Result<Twiml, Error> {
    let sid = hook.params.call_sid()?;
    let status = hook.params.get("DialCallStatus");
    let outcome = DialOutcome::from_status(status);
    let to = hook.params.get("To").unwrap_or("");
    let calls = deps.calls();
    let (stored, number) = tokio::join!(
        calls.record_dial_outcome(&sid, status.unwrap_or("unknown"), now_secs()),
        deps.number_config(to)
    );
    if let Err(e) = stored {
        tracing::error!(call_sid = %sid, error = %e, "dial outcome not stored");
        metrics::count("DependencyErrors", Some(("Dependency", e.dependency())));
    }
    metrics::count(
        "DialOutcomes",
        Some(("Outcome", status.unwrap_or("unknown"))),
    );
    Ok(deps
        .replies(&number, hook.query.get("lang"))
        .after_dial(outcome, status))
}
