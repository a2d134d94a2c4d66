//! `/voice-route-action`, action of the department `<Dial>` (spec §3): `completed`/`answered` →
//! hang up; `busy`, `no-answer`, `failed`, `canceled` (or anything else) → voicemail. The outcome
//! is stored on the call; a storage failure never changes what the caller hears.
//!
//! The screened hand-off (issue 24 §1) runs here too, on the dialled leg:
//! - `?step=whisper` (the `<Number url>`, requested when the target answers): the whisper, in
//!   the call's language, naming the business, the caller (known name or number) and the AI's
//!   transfer reason, in a `<Gather>` for a 1;
//! - `?step=screen` (that Gather's action): a person's 1 is stored on the inbound call
//!   (`screen_answer`) and the legs are bridged (`ScreenedAnswers`); anything else hangs up
//!   that leg only.
//!
//! A screened dial's action (`screened=1`) is connected only when a person pressed 1 on it;
//! otherwise (a mailbox or a screening bot answered, which Twilio reports `completed`) the
//! caller goes to our voicemail as for a missed call (`ScreenedRejections`). An unreadable call
//! item counts as not accepted: the caller leaves a message rather than vanish.

use telephony_aws::{glue, metrics, now_secs, Body, Deps, Error, Request, Response, Webhook};
use telephony_core::flow::DialOutcome;
use telephony_core::{screening, CallSid, Route, Twiml};

/// The environment variables this function reads ([`telephony_aws::Needs`]; `template.yaml`
/// sets exactly these on it, `tests/tests/settings.rs` checks).
pub const NEEDS: telephony_aws::Needs = telephony_aws::Needs {
    base: Some(&telephony_aws::needs::VOICE_STEP),
    groups: &[&telephony_aws::needs::KNOWN_CALLERS],
};

/// Handles one request; always 200 TwiML unless the signature is missing or bad.
pub async fn handler(deps: &Deps, req: Request) -> Response<Body> {
    glue::voice_webhook(deps, req, Route::RouteAction, answer).await
}

async fn answer(deps: &Deps, hook: &Webhook) -> Result<Twiml, Error> {
    // On the dialled leg an error must not reach the glue's safe reply (a voicemail recording,
    // which would record the person who answered): a request we cannot place hangs that leg up.
    if let Some(step @ ("whisper" | "screen")) = hook.query.get("step") {
        let hang_up = || {
            deps.replies(&deps.config.default_number, None)
                .screen_answer(false)
        };
        let Ok(sid) = parent(hook) else {
            tracing::warn!("whisper request without a valid call; leg hung up");
            return Ok(hang_up());
        };
        return Ok(if step == "whisper" {
            whisper(deps, hook, &sid).await
        } else {
            screen(deps, hook, &sid).await
        });
    }
    let sid = hook.params.call_sid()?;
    let status = hook.params.get("DialCallStatus");
    let department = hook.query.get("department").unwrap_or("");
    let screened = hook.query.get("screened") == Some("1");
    let to = hook.params.get("To").unwrap_or("");
    let calls = deps.calls();
    let (stored, number, call) = tokio::join!(
        calls.record_dial_outcome(&sid, status.unwrap_or("unknown"), now_secs()),
        deps.number_config(to),
        async {
            if screened {
                calls
                    .get_call(&sid)
                    .await
                    .map(|c| c.and_then(|c| c.screen_answer))
            } else {
                Ok(None)
            }
        }
    );
    if let Err(e) = stored {
        tracing::error!(call_sid = %sid, error = %e, "dial outcome not stored");
        metrics::count("DependencyErrors", Some(("Dependency", e.dependency())));
    }
    metrics::count(
        "DialOutcomes",
        Some(("Outcome", status.unwrap_or("unknown"))),
    );
    let mut outcome = DialOutcome::from_status(status);
    let mut reason = status;
    if screened {
        let answer = call.unwrap_or_else(|e| {
            tracing::error!(call_sid = %sid, error = %e, "screen answer unreadable; taking a message");
            None
        });
        let screened = screening::screened_outcome(outcome, answer.as_deref(), department);
        if outcome == DialOutcome::Connected && screened == DialOutcome::Missed {
            tracing::info!(call_sid = %sid, department, "answered leg never took the call; voicemail");
            metrics::count("ScreenedRejections", Some(("Department", department)));
            reason = Some("screened");
        }
        outcome = screened;
    }
    Ok(deps
        .replies(&number, hook.query.get("lang"))
        .after_dial(outcome, reason))
}

/// The inbound call a whisper request belongs to (`call=` in the URL we signed).
fn parent(hook: &Webhook) -> Result<CallSid, Error> {
    Ok(CallSid::parse(hook.query.get("call").unwrap_or(""))
        .map_err(telephony_core::ParamError::from)?)
}

async fn whisper(deps: &Deps, hook: &Webhook, sid: &CallSid) -> Twiml {
    let department = hook.query.get("department").unwrap_or("");
    let call = deps.calls().get_call(sid).await.unwrap_or_else(|e| {
        tracing::warn!(call_sid = %sid, error = %e, "call unreadable; whisper without the caller");
        None
    });
    let from = call.as_ref().and_then(|c| c.from.clone());
    let number = deps
        .number_config(call.as_ref().and_then(|c| c.to.as_deref()).unwrap_or(""))
        .await;
    let contact = match &from {
        Some(f) => deps.known_caller(&number, f, now_secs()).await,
        None => None,
    };
    let caller = screening::caller_words(
        contact.as_ref().map(|c| c.first_name.as_str()),
        from.as_deref(),
    );
    deps.replies(&number, hook.query.get("lang")).whisper(
        &number.business_name,
        caller.as_deref(),
        hook.query.get("reason"),
        sid.as_str(),
        department,
    )
}

async fn screen(deps: &Deps, hook: &Webhook, sid: &CallSid) -> Twiml {
    let department = hook.query.get("department").unwrap_or("");
    let accepted = screening::accepted(hook.params.get("Digits"));
    let replies = deps.replies(&deps.config.default_number, hook.query.get("lang"));
    if !accepted {
        return replies.screen_answer(false);
    }
    // Bridge only once the acceptance is stored: the Dial action decides from it.
    match deps
        .calls()
        .mark_screen_answer(sid, department, now_secs())
        .await
    {
        Ok(()) => {
            metrics::count("ScreenedAnswers", Some(("Department", department)));
            replies.screen_answer(true)
        }
        Err(e) => {
            tracing::error!(call_sid = %sid, error = %e, "screen answer not stored; leg hung up, caller to voicemail");
            metrics::count("DependencyErrors", Some(("Dependency", e.dependency())));
            replies.screen_answer(false)
        }
    }
}
