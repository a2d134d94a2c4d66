//! `/voice-transcription-callback`, `transcribeCallback` of the voicemail `<Record>` (spec §3):
//! stores `TranscriptionText` and `TranscriptionStatus` on the recording item and sends one SNS
//! "transcript" notice (a retried callback sends none). Answers 204.

use telephony_aws::notifier::{self, Notice};
use telephony_aws::store::Claim;
use telephony_aws::{glue, metrics, now_secs, Body, Deps, Error, Request, Response, Webhook};
use telephony_core::{mask_phone, ParamError, RecordingSid, Route};

/// Handles one request: 204 when stored, 400 for bad parameters, 503 when storage failed.
pub async fn handler(deps: &Deps, req: Request) -> Response<Body> {
    let hook = match glue::accept(&deps.config, &req) {
        Ok(hook) => hook,
        Err(refusal) => return refusal.into_response(),
    };
    glue::callback_reply(
        &hook,
        Route::TranscriptionCallback,
        store(deps, &hook).await,
    )
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
    if status != "completed"
        || calls
            .claim_notice(rec.as_str(), "transcript_notified_at", now)
            .await?
            == Claim::AlreadyExists
    {
        return Ok(());
    }
    let call = calls.get_call(&call_sid).await?.unwrap_or_default();
    let number = deps.number_config(call.to.as_deref().unwrap_or("")).await;
    let topic = number
        .voicemail_topic_arn
        .as_deref()
        .unwrap_or(&deps.config.voicemail_topic_arn);
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
    let subject = format!(
        "Voicemail transcript from {}",
        call.from
            .as_deref()
            .map(mask_phone)
            .unwrap_or_else(|| "unknown caller".into())
    );
    if let Err(e) = notifier::publish(&deps.sns, topic, &subject, &notice).await {
        calls
            .release_notice(rec.as_str(), "transcript_notified_at")
            .await?;
        return Err(e);
    }
    Ok(())
}
