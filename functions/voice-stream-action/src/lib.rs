//! `/voice-stream-action`, `action` of the AI `<Connect>` (issue 12), requested whenever the media
//! stream ends. From what the stream status callbacks and the bridge recorded on the call
//! ([`telephony_core::stream::next_step`]): the stream never started, errored, or started later
//! than the watchdog (`STREAM_WATCHDOG_MS`, default 3 s) → the human path once (the fallback
//! sentence, the team's line dialled with the usual voicemail after a missed dial; the closed
//! message outside business hours), `StreamFallbacks` by `Reason`; the bridge asked for a person
//! → the same dial (`AiTransfers`); the AI ended the conversation → goodbye and Hangup, never
//! back to the consent question (flaw F-50). The decision is stored once (`ai_outcome`): a
//! retried action gets the same TwiML and counts nothing again.

use telephony_aws::streams::Decided;
use telephony_aws::{glue, metrics, now_secs, Body, Deps, Error, Request, Response, Webhook};
use telephony_core::flow::Consent;
use telephony_core::stream::{self, StreamFacts, StreamNext};
use telephony_core::{Route, Twiml};

/// The environment variables this function reads ([`telephony_aws::Needs`]; `template.yaml`
/// sets exactly these on it, `tests/tests/settings.rs` checks).
pub const NEEDS: telephony_aws::Needs = telephony_aws::Needs {
    base: Some(&telephony_aws::needs::VOICE_STEP),
    groups: &[
        &telephony_aws::needs::STREAM_WATCHDOG,
        &telephony_aws::needs::VOICEMAIL_NOTICES,
    ],
};

/// Handles one request; always 200 TwiML unless the signature is missing or bad.
pub async fn handler(deps: &Deps, req: Request) -> Response<Body> {
    glue::voice_webhook(deps, req, Route::StreamAction, answer).await
}

async fn answer(deps: &Deps, hook: &Webhook) -> Result<Twiml, Error> {
    let sid = hook.params.call_sid()?;
    let to = hook.params.get("To").unwrap_or("");
    let from = hook.params.get("From").unwrap_or("");
    let lang = glue::call_language(deps, hook, to).await;
    let calls = deps.calls();
    let (record, number) = tokio::join!(calls.stream_record(&sid), deps.number_config(to));
    let record = record?.unwrap_or_default();
    let replies = deps.replies(&number, Some(lang.code()));
    let facts = StreamFacts {
        handshake_ms: record.handshake_ms,
        errored: record.error.is_some(),
        transfer_requested: record.transfer_requested,
    };
    let watchdog_ms = deps.config.stream_watchdog.as_millis() as u64;
    let decided = stream::next_step(&facts, watchdog_ms);
    let next = match calls
        .decide_once(&sid, &decided.as_stored(), now_secs())
        .await
    {
        Decided::First => {
            match decided {
                StreamNext::Fallback(reason) => {
                    tracing::warn!(call_sid = %sid, reason, handshake_ms = ?record.handshake_ms, error = ?record.error, "AI hand-off failed; human path");
                    metrics::count("StreamFallbacks", Some(("Reason", reason)));
                }
                StreamNext::Transfer => metrics::count("AiTransfers", None),
                StreamNext::Goodbye => {}
            }
            decided
        }
        Decided::Earlier(stored) => StreamNext::from_stored(&stored).unwrap_or(decided),
        Decided::Unrecorded => decided,
    };
    let reason = match next {
        StreamNext::Goodbye => return Ok(replies.ai_goodbye()),
        StreamNext::Fallback(reason) => Some(reason),
        StreamNext::Transfer => None,
    };
    let consent = Consent::from_stored(record.consent.as_deref());
    let replies = replies.screened(telephony_core::screening::ScreenCall {
        number: &number,
        call_sid: sid.as_str(),
        reason: None,
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
