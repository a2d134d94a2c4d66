//! `/voice-voicemail` (spec §3): the prompt and `<Record>`; with `?step=done` (the Record action)
//! thanks and hang up, or "we didn't get a message" for an empty recording. The recording itself
//! arrives at `/voice-recording-callback`; here the call is only marked voicemail-pending (at the
//! prompt, and again at the action), so the reconciler finds a voicemail whose callbacks were all
//! lost. The mark is written concurrently with the number lookup (no extra wait for the caller),
//! and a failure to write it never changes the caller's TwiML.

use telephony_aws::{glue, metrics, now_secs, Body, Deps, Error, Request, Response, Webhook};
use telephony_core::{Route, Twiml};

/// The environment variables this function reads ([`telephony_aws::Needs`]; `template.yaml`
/// sets exactly these on it, `tests/tests/settings.rs` checks).
pub const NEEDS: telephony_aws::Needs = telephony_aws::Needs {
    base: Some(&telephony_aws::needs::CALLBACK),
    groups: &[&telephony_aws::needs::SPOKEN],
};

/// Handles one request; always 200 TwiML unless the signature is missing or bad.
pub async fn handler(deps: &Deps, req: Request) -> Response<Body> {
    glue::voice_webhook(deps, req, Route::Voicemail, answer).await
}

async fn answer(deps: &Deps, hook: &Webhook) -> Result<Twiml, Error> {
    let done = hook.query.get("step") == Some("done");
    let recorded = hook.params.get("RecordingUrl").is_some()
        && hook.params.seconds("RecordingDuration").unwrap_or(0) > 0;
    let mark = async {
        // Nothing to wait for after an empty recording; a bad CallSid is still served the prompt.
        let Ok(sid) = hook.params.call_sid() else {
            return;
        };
        if done && !recorded {
            return;
        }
        if let Err(e) = deps
            .calls()
            .mark_voicemail_pending(&sid, done && recorded, now_secs())
            .await
        {
            tracing::warn!(call_sid = %sid, error = %e, "voicemail-pending mark not written");
            metrics::count("DependencyErrors", Some(("Dependency", e.dependency())));
        }
    };
    let (number, ()) = tokio::join!(
        deps.number_config(hook.params.get("To").unwrap_or("")),
        mark
    );
    let replies = deps.replies(&number, hook.query.get("lang"));
    if done {
        return Ok(replies.voicemail_done(recorded));
    }
    Ok(replies.voicemail_prompt(deps.config.voicemail_max))
}
