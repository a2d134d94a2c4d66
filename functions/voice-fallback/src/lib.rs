//! `/voice-fallback`, the number's VoiceFallbackUrl (spec §3): apology and a voicemail `<Record>`
//! whose callbacks store the message as usual. Needs no DynamoDB, so it works when the primary
//! path cannot.

use telephony_aws::{glue, metrics, Body, Deps, Error, Request, Response, Webhook};
use telephony_core::{Route, Twiml};

/// The environment variables this function reads ([`telephony_aws::Needs`]; `template.yaml`
/// sets exactly these on it, `tests/tests/settings.rs` checks).
pub const NEEDS: telephony_aws::Needs = telephony_aws::Needs {
    base: None,
    groups: &[
        &telephony_aws::needs::SIGNED,
        &telephony_aws::needs::NUMBER_DEFAULTS,
        &telephony_aws::needs::SPOKEN,
    ],
};

/// Handles one request; always 200 TwiML unless the signature is missing or bad.
pub async fn handler(deps: &Deps, req: Request) -> Response<Body> {
    glue::voice_webhook(deps, req, Route::Fallback, answer).await
}

async fn answer(deps: &Deps, hook: &Webhook) -> Result<Twiml, Error> {
    let error_code = hook.params.get("ErrorCode").unwrap_or("-");
    tracing::warn!(
        call_sid = hook.call_sid_for_log(),
        error_code,
        "fallback URL used"
    );
    metrics::count("FallbackReplies", None);
    Ok(glue::safe_twiml(&deps.config))
}
