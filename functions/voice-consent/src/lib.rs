//! `/voice-consent`, action of the consent `<Gather>` (spec §3): `1` → consent, anything else,
//! silence or a storage error → no consent (fail safe, PIPEDA). Stored once per CallSid; then the
//! menu `<Gather>`.

use telephony_aws::{glue, metrics, now_secs, Body, Deps, Error, Request, Response, Webhook};
use telephony_core::flow::{Consent, MenuState};
use telephony_core::{Route, Twiml};

/// Handles one request; always 200 TwiML unless the signature is missing or bad.
pub async fn handler(deps: &Deps, req: Request) -> Response<Body> {
    glue::voice_webhook(deps, req, Route::Consent, answer).await
}

async fn answer(deps: &Deps, hook: &Webhook) -> Result<Twiml, Error> {
    let sid = hook.params.call_sid()?;
    let asked = Consent::from_digits(hook.params.get("Digits"));
    let to = hook.params.get("To").unwrap_or("");
    let calls = deps.calls();
    let (stored, number) = tokio::join!(
        calls.set_consent(&sid, asked, now_secs()),
        deps.number_config(to)
    );
    let consent = stored.unwrap_or_else(|e| {
        tracing::error!(call_sid = %sid, error = %e, "consent not stored; continuing without recording");
        metrics::count("DependencyErrors", Some(("Dependency", e.dependency())));
        Consent::Declined
    });
    if consent == Consent::Granted {
        metrics::count("ConsentGiven", None);
    } else {
        metrics::count("ConsentDeclined", None);
    }
    Ok(deps.replies(&number.language).menu(MenuState::START, None))
}
