//! `/voice-recording-callback`, `recordingStatusCallback` of the voicemail `<Record>`
//! (`?kind=voicemail`) and of a consented dial (`?kind=dial`) (spec §3).
//!
//! On `RecordingStatus=completed`: the WAV is downloaded from Twilio (basic auth) into S3
//! `recordings/<CallSid>/<RecordingSid>.wav`, the recording item is created once (keyed by
//! RecordingSid), and for a voicemail one SNS notice goes out
//! ([`telephony_aws::voicemail::store_and_announce`], shared with the reconciler). A retried
//! callback copies nothing again and sends no second notice. A dial recording of a call without
//! stored consent is not kept. A failed copy keeps Twilio's URL on the record. Storage down → 503,
//! which the callback URL asks Twilio to retry (`#rc=3&rp=all`); the reconciler catches the rest.
//! A malformed CallSid does not lose the recording: it is kept under `unknown-call`.

use telephony_aws::voicemail::{self, CompletedRecording};
use telephony_aws::{glue, now_secs, Body, Deps, Error, Request, Response, Webhook};
use telephony_core::{CallSid, ParamError, RecordingSid, Route};

/// The environment variables this function reads ([`telephony_aws::Needs`]; `template.yaml`
/// sets exactly these on it, `tests/tests/settings.rs` checks).
pub const NEEDS: telephony_aws::Needs = telephony_aws::Needs {
    base: Some(&telephony_aws::needs::CALLBACK),
    groups: &[
        &telephony_aws::needs::RECORDINGS,
        &telephony_aws::needs::VOICEMAIL_NOTICES,
        &telephony_aws::needs::TWILIO_REST,
    ],
};

/// Handles one request: 204 when done, 400 only when the recording itself cannot be identified
/// (no valid RecordingSid or RecordingUrl), 503 when storage failed.
pub async fn handler(deps: &Deps, req: Request) -> Response<Body> {
    glue::callback_webhook(deps, req, Route::RecordingCallback, store).await
}

async fn store(deps: &Deps, hook: &Webhook) -> Result<(), Error> {
    let p = &hook.params;
    let rec_sid = RecordingSid::parse(p.require("RecordingSid")?).map_err(ParamError::from)?;
    let call_sid = match p.get("CallSid").map(CallSid::parse) {
        Some(Ok(sid)) => Some(sid),
        other => {
            let why = match other {
                Some(Err(e)) => e.to_string(),
                _ => "missing CallSid".to_owned(),
            };
            tracing::warn!(recording_sid = %rec_sid, reason = %why, "recording callback without a valid CallSid; kept under unknown-call");
            telephony_aws::metrics::count("InvalidRequests", None);
            None
        }
    };
    let status = p.get("RecordingStatus").unwrap_or("completed");
    if status != "completed" {
        tracing::info!(recording_sid = %rec_sid, status, "recording not completed; nothing to store");
        return Ok(());
    }
    let rec = CompletedRecording {
        call_sid,
        recording_sid: rec_sid,
        url: p.require("RecordingUrl")?.to_owned(),
        duration_secs: p.seconds("RecordingDuration"),
        voicemail: hook.query.get("kind") == Some("voicemail"),
    };
    if voicemail::store_and_announce(deps, &rec, now_secs()).await? == voicemail::Stored::Already {
        tracing::info!(recording_sid = %rec.recording_sid, "retried recording callback; already stored");
    }
    Ok(())
}
