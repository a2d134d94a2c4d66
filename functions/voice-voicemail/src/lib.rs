//! `/voice-voicemail` (spec §3): the prompt and `<Record>`; with `?step=done` (the Record action)
//! thanks and hang up, or "we didn't get a message" for an empty recording. No writes here: the
//! recording itself arrives at `/voice-recording-callback`.

use telephony_aws::{glue, Body, Deps, Error, Request, Response, Webhook};
use telephony_core::{Route, Twiml};

/// Handles one request; always 200 TwiML unless the signature is missing or bad.
pub async fn handler(deps: &Deps, req: Request) -> Response<Body> {
    glue::voice_webhook(deps, req, Route::Voicemail, answer).await
}

async fn answer(deps: &Deps, hook: &Webhook) -> Result<Twiml, Error> {
    let number = deps
        .number_config(hook.params.get("To").unwrap_or(""))
        .await;
    let replies = deps.replies(&number.language);
    if hook.query.get("step") == Some("done") {
        let recorded = hook.params.get("RecordingUrl").is_some()
            && hook.params.seconds("RecordingDuration").unwrap_or(0) > 0;
        return Ok(replies.voicemail_done(recorded));
    }
    Ok(replies.voicemail_prompt(deps.config.voicemail_max))
}
