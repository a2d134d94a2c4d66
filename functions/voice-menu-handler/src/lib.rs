//! `/voice-menu-handler`, action of the menu `<Gather>` (spec §3): 1 Sales, 2 Support, 9 voicemail,
//! `*` replay (at most 3), invalid or empty → retry once, then voicemail. A department dial records
//! only when the call's stored consent is `yes`, and never rings From, To or the hotline. A
//! spoken choice ("sales", "ventes") counts as its key; 8 switches language (issue 14).

use telephony_aws::{glue, metrics, now_secs, Body, Deps, Error, Request, Response, Webhook};
use telephony_core::flow::{self, Consent, MenuState, MenuStep};
use telephony_core::screening::ScreenCall;
use telephony_core::{mask_phone, Route, Twiml};

/// The environment variables this function reads ([`telephony_aws::Needs`]; `template.yaml`
/// sets exactly these on it, `tests/tests/settings.rs` checks).
pub const NEEDS: telephony_aws::Needs = telephony_aws::Needs {
    base: Some(&telephony_aws::needs::VOICE_STEP),
    groups: &[],
};

/// Handles one request; always 200 TwiML unless the signature is missing or bad.
pub async fn handler(deps: &Deps, req: Request) -> Response<Body> {
    glue::voice_webhook(deps, req, Route::MenuHandler, answer).await
}

async fn answer(deps: &Deps, hook: &Webhook) -> Result<Twiml, Error> {
    let sid = hook.params.call_sid()?;
    let from = hook.params.get("From").unwrap_or("");
    let to = hook.params.get("To").unwrap_or("");
    let lang = glue::call_language(deps, hook, to).await;
    let key = flow::menu_key(
        hook.params.get("Digits"),
        hook.params.get("SpeechResult"),
        hook.params
            .get("Confidence")
            .and_then(|c| c.parse::<f32>().ok()),
        lang,
    );
    let step = flow::menu_step(key, MenuState::from_query(&hook.query));
    let MenuStep::Dial(dept) = step else {
        metrics::count("MenuChoices", Some(("Choice", step_name(step))));
        let number = deps.number_config(to).await;
        let replies = deps.replies(&number, Some(lang.code()));
        if let MenuStep::SwitchLanguage(_) = step {
            let switched = glue::switch_language(deps, &sid, replies).await;
            return Ok(switched.menu_step(step, None, Consent::Declined));
        }
        return Ok(replies.menu_step(step, None, Consent::Declined));
    };
    metrics::count("MenuChoices", Some(("Choice", dept.as_str())));
    // The (cached) number lookup and the choice write are independent: one round trip of wait.
    let calls = deps.calls();
    let (number, stored) = tokio::join!(
        deps.number_config(to),
        calls.record_menu_choice(&sid, dept, now_secs())
    );
    let replies = deps
        .replies(&number, Some(lang.code()))
        .screened(ScreenCall {
            number: &number,
            call_sid: sid.as_str(),
            reason: None,
        });
    // Without a readable consent the call still goes through, unrecorded (fail safe).
    let consent = stored.unwrap_or_else(|e| {
            tracing::error!(call_sid = %sid, error = %e, "menu choice not stored; dialling without recording");
            metrics::count("DependencyErrors", Some(("Dependency", e.dependency())));
            Consent::Declined
        });
    let target = flow::dial_target(dept, &number, from, to, deps.config.hotline.as_ref());
    if target.is_none() {
        tracing::warn!(call_sid = %sid, department = dept.as_str(), from = %mask_phone(from), "no dialable target (unset or loop guard); voicemail instead");
        metrics::count("LoopGuardVoicemail", None);
    }
    Ok(replies.menu_step(step, target, consent))
}

fn step_name(step: MenuStep) -> &'static str {
    match step {
        MenuStep::Dial(d) => d.as_str(),
        MenuStep::Replay(_) => "repeat",
        MenuStep::Retry(_) => "invalid",
        MenuStep::Voicemail(_) => "voicemail",
        MenuStep::SwitchLanguage(_) => "language",
    }
}
