//! `/voice-transcription-callback`, `transcribeCallback` of the voicemail `<Record>` (spec §3):
//! stores `TranscriptionText` and `TranscriptionStatus` on the recording item and sends one SNS
//! "transcript" notice (a retried callback sends none). Answers 204.

use telephony_aws::notifier::{self, Notice};
use telephony_aws::{glue, metrics, now_secs, Body, Deps, Error, Request, Response, Webhook};
use telephony_core::{ParamError, RecordingSid, Route};

/// The environment variables this function reads ([`telephony_aws::Needs`]; `template.yaml`
/// sets exactly these on it, `tests/tests/settings.rs` checks).
pub const NEEDS: telephony_aws::Needs = telephony_aws::Needs {
    base: Some(&telephony_aws::needs::CALLBACK),
    groups: &[&telephony_aws::needs::VOICEMAIL_NOTICES],
};

/// Handles one request: 204 when stored, 400 for bad parameters, 503 when storage failed.
pub async fn handler(deps: &Deps, req: Request) -> Response<Body> {
    glue::callback_webhook(deps, req, Route::TranscriptionCallback, store).await
}

async fn store(deps: &Deps, hook: &Webhook) -> Result<(), Error> {
    let p = &hook.params;
    let call_sid = p.call_sid()?;
    let rec = RecordingSid::parse(p.require("RecordingSid")?).map_err(ParamError::from)?;
    let status = p.get("TranscriptionStatus").unwrap_or("completed");
    let text = p.get("TranscriptionText").unwrap_or("");
    let now = now_secs();
    let calls = deps.calls();
    calls
        .store_transcript(&rec, &call_sid, text, status, now)
        .await?;
    metrics::count(
        "Transcriptions",
        Some((
            "Status",
            if status == "completed" {
                "completed"
            } else {
                "failed"
            },
        )),
    );
    if status != "completed" {
        return Ok(());
    }
    let call = calls.get_call(&call_sid).await?.unwrap_or_default();
    let notice = Notice {
        kind: "transcript",
        call_sid: call_sid.as_str(),
        recording_sid: rec.as_str(),
        caller: call.from.as_deref(),
        dialled: call.to.as_deref(),
        duration_seconds: None,
        s3_uri: None,
        transcript: Some(text),
    };
    notifier::notify_once(
        deps,
        &call,
        "transcript_notified_at",
        "Voicemail transcript from",
        &notice,
        now,
    )
    .await
    .map(|_| ())
}
