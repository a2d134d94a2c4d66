//! `/voice-stream-status`, `statusCallback` of the AI `<Stream>` (issue 12): records
//! `stream-started` (with the handshake time from the `<Connect>`, metric `StreamHandshakeMs` in
//! milliseconds), `stream-stopped` and `stream-error` (`StreamError`) on the call, each once.
//! The instant is Twilio's `Timestamp` (RFC 3339 or RFC 2822), or the arrival time when it is
//! missing or unreadable.
//! Answers 204; 400 for an unknown `StreamEvent`.

use telephony_aws::calls::Claim;
use telephony_aws::{
    glue, metrics, now_ms, now_secs, Body, Deps, Error, Request, Response, Webhook,
};
use telephony_core::stream::StreamEvent;
use telephony_core::{ParamError, Route};

/// The environment variables this function reads ([`telephony_aws::Needs`]; `template.yaml`
/// sets exactly these on it, `tests/tests/settings.rs` checks).
pub const NEEDS: telephony_aws::Needs = telephony_aws::Needs {
    base: Some(&telephony_aws::needs::CALLBACK),
    groups: &[&telephony_aws::needs::VOICEMAIL_NOTICES],
};

/// Handles one request: 204 when stored (or repeated), 400 for bad parameters.
pub async fn handler(deps: &Deps, req: Request) -> Response<Body> {
    glue::callback_webhook(deps, req, Route::StreamStatus, store).await
}

/// `Timestamp` as Unix milliseconds: ISO 8601 / RFC 3339 (`2026-11-21T12:00:01.250Z`), or the
/// RFC 2822 form of Twilio's call status callbacks (`Sat, 21 Nov 2026 12:00:01 +0000`).
fn instant_ms(v: &str) -> Option<u64> {
    chrono::DateTime::parse_from_rfc3339(v)
        .or_else(|_| chrono::DateTime::parse_from_rfc2822(v))
        .ok()
        .and_then(|t| u64::try_from(t.timestamp_millis()).ok())
}

async fn store(deps: &Deps, hook: &Webhook) -> Result<(), Error> {
    let p = &hook.params;
    let sid = p.call_sid()?;
    let event =
        StreamEvent::parse(p.require("StreamEvent")?).ok_or(ParamError::Invalid("StreamEvent"))?;
    let at_ms = p
        .get("Timestamp")
        .and_then(instant_ms)
        .unwrap_or_else(now_ms);
    let calls = deps.calls();
    match event {
        StreamEvent::Started => {
            let connect = calls.stream_record(&sid).await?.and_then(|r| r.connect_ms);
            if let Some(ms) = calls
                .record_stream_started(&sid, connect, at_ms, now_secs())
                .await?
            {
                tracing::info!(call_sid = %sid, handshake_ms = ms, "AI stream started");
                metrics::measure("StreamHandshakeMs", ms as f64, "Milliseconds");
            }
        }
        StreamEvent::Stopped => {
            calls
                .record_stream_end(&sid, None, at_ms, now_secs())
                .await?;
        }
        StreamEvent::Error => {
            let error = p.get("StreamError").unwrap_or("unknown stream error");
            let error: String = error.chars().take(300).collect();
            if calls
                .record_stream_end(&sid, Some(&error), at_ms, now_secs())
                .await?
                == Claim::Created
            {
                tracing::warn!(call_sid = %sid, error = %error, "AI stream error");
            }
        }
    }
    Ok(())
}
