//! `/voice-fallback`, the number's VoiceFallbackUrl (spec §3): apology and a voicemail `<Record>`
//! whose callbacks store the message as usual. Needs no DynamoDB, so it works when the primary
//! path cannot.

use telephony_aws::{glue, metrics, Body, Deps, Request, Response};
use telephony_core::Route;

/// Handles one request; always 200 TwiML unless the signature is missing or bad.
pub async fn handler(deps: &Deps, req: Request) -> Response<Body> {
    let hook = match glue::accept(&deps.config, &req) {
        Ok(hook) => hook,
        Err(refusal) => return refusal.into_response(),
    };
    tracing::warn!(
        call_sid = hook.call_sid_for_log(),
        error_code = hook.params.get("ErrorCode").unwrap_or("-"),
        "fallback URL used"
    );
    metrics::count("FallbackReplies", None);
    glue::voice_reply(
        &deps.config,
        &hook,
        Route::Fallback,
        Ok(glue::safe_twiml(&deps.config)),
    )
}
