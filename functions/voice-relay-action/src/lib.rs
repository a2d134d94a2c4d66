//! `/voice-relay-action`, `action` of the `<Connect><ConversationRelay>` (issue 28 §5, §6),
//! requested when the session ends for any reason. From Twilio's `CallStatus`, `HandoffData`,
//! `SessionStatus` and `ErrorCode` ([`conversation::turn::session_end`]): the AI finished (or its
//! caps ended the call) → goodbye and Hangup; the caller asked for a person → the team's line
//! (`AiTransfers`); the model failed, the session errored or the socket dropped without
//! hand-off data → the fallback sentence and the team's line (`RelayFallbacks` by `Reason`);
//! the caller hung up → Hangup. Outside business hours the human path is the closed message and
//! the after-hours line or voicemail. The decision is stored once (`ai_outcome`): a retried
//! action gets the same TwiML and counts nothing again.
//!
//! After the call: one staff notice (SNS, the number's topic; `type: ai_conversation`) with the
//! caller, the outcome, the reason, any booking and messages taken; the transcript is kept 90
//! days only with the caller's consent, and removed otherwise.

use conversation::turn::{self, SessionEnd};
use llm_api::Message;
use serde_json::json;
use telephony_aws::conversations::Session;
use telephony_aws::notifier::{self, NoticeAbout};
use telephony_aws::streams::Decided;
use telephony_aws::{glue, metrics, now_secs, Body, Deps, Error, Request, Response, Webhook};
use telephony_core::flow::Consent;
use telephony_core::{Route, Twiml};

/// The environment variables this function reads ([`telephony_aws::Needs`]; `template.yaml`
/// sets exactly these on it, `tests/tests/settings.rs` checks).
pub const NEEDS: telephony_aws::Needs = telephony_aws::Needs {
    base: Some(&telephony_aws::needs::VOICE_STEP),
    groups: &[&telephony_aws::needs::VOICEMAIL_NOTICES],
};

/// Handles one request; always 200 TwiML unless the signature is missing or bad.
pub async fn handler(deps: &Deps, req: Request) -> Response<Body> {
    glue::voice_webhook(deps, req, Route::RelayAction, answer).await
}

async fn answer(deps: &Deps, hook: &Webhook) -> Result<Twiml, Error> {
    let sid = hook.params.call_sid()?;
    let p = |k: &str| hook.params.get(k);
    let to = p("To").unwrap_or("");
    let from = p("From").unwrap_or("");
    let lang = glue::call_language(deps, hook, to).await;
    let calls = deps.calls();
    let (session, number) = tokio::join!(calls.session(&sid), deps.number_config(to));
    let session = session.unwrap_or_else(|e| {
        tracing::error!(call_sid = %sid, error = %e, "relay session not read");
        None
    });
    let replies = deps.replies(&number, Some(lang.code()));
    let decided = turn::session_end(
        p("CallStatus"),
        p("HandoffData"),
        p("SessionStatus"),
        p("ErrorCode"),
    );
    let now = now_secs();
    let next = match calls.decide_once(&sid, &decided.as_stored(), now).await {
        Decided::First => {
            match decided {
                SessionEnd::Fallback(reason) => {
                    tracing::warn!(call_sid = %sid, reason, error_code = ?p("ErrorCode"), "AI receptionist session failed; human path");
                    metrics::count("RelayFallbacks", Some(("Reason", reason)));
                }
                SessionEnd::Transfer => metrics::count("AiTransfers", None),
                SessionEnd::Goodbye | SessionEnd::HungUp => {}
            }
            metrics::count("RelayOutcomes", Some(("Outcome", outcome_dim(decided))));
            if let Some(s) = &session {
                after_call(deps, &sid, s, decided, p("HandoffData"), now).await;
            }
            decided
        }
        Decided::Earlier(stored) => SessionEnd::from_stored(&stored).unwrap_or(decided),
        Decided::Unrecorded => decided,
    };
    let consent = Consent::from_stored(session.as_ref().map(|s| s.consent.as_str()));
    let reason = match next {
        SessionEnd::Goodbye => return Ok(replies.ai_goodbye()),
        SessionEnd::HungUp => return Ok(Twiml::new().then(telephony_core::twiml::Verb::Hangup)),
        SessionEnd::Fallback(reason) => Some(reason),
        SessionEnd::Transfer => None,
    };
    // The reason the caller gave the AI goes into the whisper (issue 24 §1).
    let handoff = p("HandoffData").and_then(|h| serde_json::from_str::<turn::Handoff>(h).ok());
    let said = handoff.as_ref().and_then(turn::Handoff::spoken_reason);
    let replies = replies.screened(telephony_core::screening::ScreenCall {
        number: &number,
        call_sid: sid.as_str(),
        reason: said,
    });
    Ok(replies.ai_to_team(
        &number,
        from,
        to,
        deps.config.hotline.as_ref(),
        hook.now(),
        reason,
        consent,
    ))
}

fn outcome_dim(e: SessionEnd) -> &'static str {
    match e {
        SessionEnd::Goodbye => "goodbye",
        SessionEnd::Transfer => "transfer",
        SessionEnd::Fallback(_) => "fallback",
        SessionEnd::HungUp => "hangup",
    }
}

/// The call's one staff notice, and the transcript kept or removed. Failures are logged: the
/// caller's next step does not wait on them (the notice claim is given back on a failed publish,
/// so a retried action sends it).
async fn after_call(
    deps: &Deps,
    sid: &telephony_core::CallSid,
    s: &Session,
    end: SessionEnd,
    handoff: Option<&str>,
    now: u64,
) {
    let messages: Vec<String> = s
        .history
        .iter()
        .filter_map(|m| match m {
            Message::Assistant { tool_calls, .. } => Some(tool_calls),
            _ => None,
        })
        .flatten()
        .filter(|c| c.function.name == conversation::prompt::TOOL_MESSAGE)
        .filter_map(|c| serde_json::from_str::<serde_json::Value>(&c.function.arguments).ok())
        .filter_map(|v| v["message"].as_str().map(str::to_owned))
        .collect();
    let reason = handoff
        .and_then(|h| serde_json::from_str::<turn::Handoff>(h).ok())
        .and_then(|h| h.reason);
    let notice = json!({
        "type": "ai_conversation",
        "call_sid": sid.as_str(),
        "caller": s.from,
        "dialled": s.to,
        "outcome": end.as_stored(),
        "reason": reason,
        "booking": s.booking.as_deref().and_then(|b| serde_json::from_str::<serde_json::Value>(b).ok()),
        "messages": messages,
        "caller_turns": s.caller_turns,
        "transcript_kept": s.consent == "yes",
    });
    let pk = format!("conv#{}", sid.as_str());
    let about = NoticeAbout {
        pk: &pk,
        caller: Some(&s.from),
        dialled: Some(&s.to),
    };
    if let Err(e) = notifier::notify_item_once(
        deps,
        &about,
        "notified_at",
        "AI receptionist call from",
        &notice,
        now,
    )
    .await
    {
        tracing::error!(call_sid = %sid, error = %e, "AI call notice not sent");
        metrics::count("DependencyErrors", Some(("Dependency", e.dependency())));
    }
    if let Err(e) = deps
        .calls()
        .settle_transcript(sid, s.consent == "yes", now)
        .await
    {
        tracing::error!(call_sid = %sid, error = %e, "transcript retention not set");
        metrics::count("DependencyErrors", Some(("Dependency", e.dependency())));
    }
}
