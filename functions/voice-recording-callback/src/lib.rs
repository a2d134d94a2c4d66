//! `/voice-recording-callback`, `recordingStatusCallback` of the voicemail `<Record>`
//! (`?kind=voicemail`) and of a consented dial (`?kind=dial`) (spec §3).
//!
//! On `RecordingStatus=completed`: the WAV is downloaded from Twilio (basic auth) into S3
//! `recordings/<CallSid>/<RecordingSid>.wav`, the recording item is created once (keyed by
//! RecordingSid), and for a voicemail one SNS notice goes out. A retried callback copies nothing
//! again and sends no second notice. A dial recording of a call without stored consent is not
//! kept. A failed copy keeps Twilio's URL on the record, so nothing is lost. Answers 204.

use telephony_aws::notifier::{self, Notice};
use telephony_aws::recordings;
use telephony_aws::store::{CallRecord, Claim, RecordingRecord};
use telephony_aws::{glue, metrics, now_secs, Body, Deps, Error, Request, Response, Webhook};
use telephony_core::flow::Consent;
use telephony_core::{CallSid, ParamError, RecordingSid, Route};

/// Handles one request: 204 when done, 400 for bad parameters, 503 when storage failed.
pub async fn handler(deps: &Deps, req: Request) -> Response<Body> {
    glue::callback_webhook(deps, req, Route::RecordingCallback, store).await
}

async fn store(deps: &Deps, hook: &Webhook) -> Result<(), Error> {
    let p = &hook.params;
    let call_sid = p.call_sid()?;
    let rec_sid = RecordingSid::parse(p.require("RecordingSid")?).map_err(ParamError::from)?;
    let status = p.get("RecordingStatus").unwrap_or("completed");
    if status != "completed" {
        tracing::info!(call_sid = %call_sid, recording_sid = %rec_sid, status, "recording not completed; nothing to store");
        return Ok(());
    }
    let url = p.require("RecordingUrl")?;
    let voicemail = hook.query.get("kind") == Some("voicemail");
    let calls = deps.calls();
    let (state, call) = tokio::join!(calls.recording_state(&rec_sid), calls.get_call(&call_sid));
    let (state, call) = (state?, call?.unwrap_or_default());
    if state.stored && (state.notified || !voicemail) {
        tracing::info!(recording_sid = %rec_sid, "retried recording callback; already stored");
        return Ok(());
    }
    if !voicemail && Consent::from_stored(call.consent.as_deref()) != Consent::Granted {
        tracing::warn!(call_sid = %call_sid, recording_sid = %rec_sid, "dial recording without consent: not kept");
        metrics::count("RecordingsWithoutConsent", None);
        return Ok(());
    }
    let now = now_secs();
    let mut s3_key = state.s3_key;
    if !state.stored {
        s3_key = copy_to_s3(deps, &call_sid, &rec_sid, url).await;
        let record = RecordingRecord {
            recording_sid: rec_sid.clone(),
            call_sid: call_sid.clone(),
            kind: if voicemail { "voicemail" } else { "dial" }.to_owned(),
            s3_key: s3_key.clone(),
            twilio_url: url.to_owned(),
            duration_secs: p.seconds("RecordingDuration").unwrap_or(0),
        };
        if calls.store_recording(&record, now).await? == Claim::Created && voicemail {
            metrics::count("VoicemailsRecorded", None);
        }
    }
    if voicemail {
        let duration = p.seconds("RecordingDuration");
        notify(
            deps,
            &call,
            &call_sid,
            &rec_sid,
            s3_key.as_deref(),
            duration,
            now,
        )
        .await?;
    }
    Ok(())
}

/// Copies the recording; `None` (logged, counted) when it could not be copied.
async fn copy_to_s3(deps: &Deps, call: &CallSid, rec: &RecordingSid, url: &str) -> Option<String> {
    let key = recordings::recording_key(call, rec);
    let max = deps.config.recording_max_bytes;
    match recordings::copy_to_s3(
        deps,
        &recordings::wav_url(url),
        max,
        &key,
        "audio/wav",
        rec.as_str(),
    )
    .await
    {
        Ok(()) => Some(key),
        Err(e) => {
            tracing::error!(call_sid = %call, recording_sid = %rec, error = %e, "recording not copied; Twilio URL kept");
            metrics::count(
                "RecordingCopyFailures",
                Some(("Dependency", e.dependency())),
            );
            None
        }
    }
}

async fn notify(
    deps: &Deps,
    call: &CallRecord,
    call_sid: &CallSid,
    rec: &RecordingSid,
    s3_key: Option<&str>,
    duration: Option<u64>,
    now: u64,
) -> Result<(), Error> {
    let notice = Notice {
        kind: "voicemail",
        call_sid: call_sid.as_str(),
        recording_sid: rec.as_str(),
        caller: call.from.as_deref(),
        dialled: call.to.as_deref(),
        duration_seconds: duration,
        s3_uri: s3_key.map(|k| format!("s3://{}/{k}", deps.config.recordings_bucket)),
        transcript: None,
    };
    notifier::notify_once(
        deps,
        call,
        "notified_at",
        "New voicemail from",
        &notice,
        now,
    )
    .await
}
