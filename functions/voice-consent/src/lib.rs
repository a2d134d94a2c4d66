//! `/voice-consent`, action of the consent `<Gather>` (spec §3, issue 14): `1` or a clear,
//! confident spoken yes → consent; anything else, silence, an unclear answer or a storage
//! error → no consent (fail safe, PIPEDA). Stored once per CallSid; then the menu `<Gather>`.
//! `8` switches to the other language (stored on the call, carried in every later URL) and asks
//! again, at most [`flow::MAX_CONSENT_SWITCHES`] times. Outside the number's business hours (or
//! on a holiday or closure day) the caller hears the closed message and goes to the after-hours
//! line when one is set, else to voicemail (`AfterHoursCalls`). A number with the AI receptionist
//! on (issue 12) hands its share of calls to the media bridge instead, at any hour:
//! `<Connect><Stream>` with the call's stream token (`AiCalls`), or, on the built-in engine
//! (issue 28), `<Connect><ConversationRelay>` to `RELAY_URL` with the same token as a
//! `<Parameter>`; without `STREAM_SECRET` (or `RELAY_URL` for the relay), or if the call cannot
//! be marked, the caller gets the menu.

use telephony_aws::calls::ConsentProof;
use telephony_aws::item::Claim;
use telephony_aws::{
    glue, metrics, now_ms, now_secs, Body, Deps, Error, Request, Response, Webhook,
};
use telephony_core::flow::{
    self, Consent, ConsentAnswer, MenuState, NumberConfig, RelayStart, Replies, StreamStart,
};
use telephony_core::hours::{self, OpenState};
use telephony_core::prompts;
use telephony_core::stream::AiEngine;
use telephony_core::{stream, CallSid};
use telephony_core::{Route, Twiml};

/// The environment variables this function reads ([`telephony_aws::Needs`]; `template.yaml`
/// sets exactly these on it, `tests/tests/settings.rs` checks).
pub const NEEDS: telephony_aws::Needs = telephony_aws::Needs {
    base: Some(&telephony_aws::needs::VOICE_STEP),
    groups: &[
        &telephony_aws::needs::KNOWN_CALLERS,
        &telephony_aws::needs::STREAM_TOKENS,
        &telephony_aws::needs::RELAY,
    ],
};

/// Handles one request; always 200 TwiML unless the signature is missing or bad.
pub async fn handler(deps: &Deps, req: Request) -> Response<Body> {
    glue::voice_webhook(deps, req, Route::Consent, answer).await
}

async fn answer(deps: &Deps, hook: &Webhook) -> Result<Twiml, Error> {
    let sid = hook.params.call_sid()?;
    let to = hook.params.get("To").unwrap_or("");
    let lang = glue::call_language(deps, hook, to).await;
    let switches = hook
        .query
        .get("switches")
        .and_then(|v| v.parse::<u8>().ok())
        .unwrap_or(0);
    let said = hook.params.get("SpeechResult");
    let confidence = hook
        .params
        .get("Confidence")
        .and_then(|c| c.parse::<f32>().ok());
    let asked =
        match flow::consent_answer(hook.params.get("Digits"), said, confidence, lang, switches) {
            ConsentAnswer::SwitchLanguage => {
                let number = deps.number_config(to).await;
                let replies = deps.replies(&number, Some(lang.code()));
                let switched = glue::switch_language(deps, &sid, replies).await;
                return Ok(switched.consent_again(switches.saturating_add(1)));
            }
            ConsentAnswer::Answer(asked) => asked,
        };
    let by = if said.is_some() && hook.params.get("Digits").is_none() {
        "speech"
    } else {
        "keys"
    };
    let version = prompts::consent_prompt_version(lang);
    let proof = ConsentProof {
        caller: hook.params.get("From").unwrap_or(""),
        number: to,
        input: by,
        language: lang.code(),
        prompt_version: &version,
    };
    // The (cached) number lookup and the consent write are independent: one wait.
    let calls = deps.calls();
    let (stored, number) = tokio::join!(
        calls.set_consent(&sid, asked, &proof, now_secs()),
        deps.number_config(to)
    );
    let replies = deps.replies(&number, Some(lang.code()));
    let consent = stored.unwrap_or_else(|e| {
            tracing::error!(call_sid = %sid, error = %e, "consent not stored; continuing without recording");
            metrics::count("DependencyErrors", Some(("Dependency", e.dependency())));
            Consent::Declined
        });
    if consent == Consent::Granted {
        metrics::count("ConsentGiven", Some(("Input", by)));
    } else {
        metrics::count("ConsentDeclined", Some(("Input", by)));
    }
    if let Some(connect) = hand_to_ai(
        deps,
        &sid,
        hook.params.get("From").unwrap_or(""),
        &number,
        &replies,
        consent,
    )
    .await
    {
        return Ok(connect);
    }
    // Outside business hours: the closed message, then the after-hours line or voicemail.
    if let Some(hours) = &number.hours {
        if let OpenState::Closed(why) = hours::status_at(hours, hook.now()) {
            metrics::count("AfterHoursCalls", Some(("Reason", why.as_str())));
            let from = hook.params.get("From").unwrap_or("");
            let target = number
                .after_hours_target
                .as_ref()
                .and_then(|t| flow::safe_target(t, from, to, deps.config.hotline.as_ref()));
            let replies = replies.screened(telephony_core::screening::ScreenCall {
                number: &number,
                call_sid: sid.as_str(),
                reason: None,
            });
            return Ok(replies.closed(why, &number.business_name, target, consent));
        }
    }
    Ok(replies.menu(MenuState::START, None))
}

/// The `<Connect><Stream>` when this call goes to the number's AI receptionist: AI on, the call in
/// its roll-out share, a stream secret configured, and the hand-off recorded on the call (its
/// instant is where the handshake time is measured from). `None` → the usual flow.
async fn hand_to_ai(
    deps: &Deps,
    sid: &CallSid,
    from: &str,
    number: &NumberConfig,
    replies: &Replies<'_>,
    consent: Consent,
) -> Option<telephony_core::Twiml> {
    let ai = number.ai.as_ref()?;
    if !stream::in_rollout(sid.as_str(), ai.share_percent) {
        return None;
    }
    let Some(secret) = &deps.config.stream_secret else {
        tracing::warn!(call_sid = %sid, "AI receptionist on but STREAM_SECRET unset; menu instead");
        return None;
    };
    let relay_url = match (&ai.engine, &deps.config.relay_url) {
        (AiEngine::Relay, Some(url)) => Some(url.as_str()),
        (AiEngine::Relay, None) => {
            tracing::warn!(call_sid = %sid, "AI receptionist on but RELAY_URL unset; menu instead");
            return None;
        }
        (AiEngine::Stream(_), _) => None,
    };
    let connect_ms = now_ms();
    let mut issued_at = connect_ms / 1000;
    match deps.calls().start_ai(sid, connect_ms, now_secs()).await {
        Ok(Claim::Created) => metrics::count("AiCalls", None),
        // A replayed consent webhook gets the same token back, not a fresh one (issue 27 §11):
        // it is issued again from the stored instant of the first `<Connect>`.
        Ok(Claim::AlreadyExists) => {
            if let Ok(Some(first_ms)) = deps
                .calls()
                .stream_record(sid)
                .await
                .map(|r| r.and_then(|r| r.connect_ms))
            {
                issued_at = first_ms / 1000;
            }
        }
        Err(e) => {
            tracing::error!(call_sid = %sid, error = %e, "AI hand-off not recorded; menu instead");
            metrics::count("DependencyErrors", Some(("Dependency", e.dependency())));
            return None;
        }
    }
    let token = stream::issue(secret.0.as_bytes(), sid.as_str(), issued_at);
    Some(match (&ai.engine, relay_url) {
        (AiEngine::Stream(stream_url), _) => {
            let contact = deps.known_caller(number, from, now_secs()).await;
            let context = flow::ai_context(
                number,
                now_secs(),
                contact.as_ref().map(|c| c.first_name.as_str()),
            );
            replies.ai_connect(&StreamStart {
                stream_url,
                token: &token,
                call_sid: sid.as_str(),
                consent,
                business_name: &number.business_name,
                context: &context,
            })
        }
        (AiEngine::Relay, relay_url) => replies.ai_relay(&RelayStart {
            relay_url: relay_url.unwrap_or_default(),
            token: &token,
            consent,
            business_name: &number.business_name,
        }),
    })
}
