//! Voicemail that is never lost (issue "Hardening", finding 3): one path that stores a recording
//! and announces it once, used by `/voice-recording-callback` and by the reconciler, and the
//! reconciler itself.
//!
//! Three layers make loss impossible rather than unlikely:
//! 1. the recording and transcription callback URLs ask Twilio to retry failures
//!    ([`telephony_core::routes::CALLBACK_RETRY_FRAGMENT`]), and the callback answers 503 while
//!    storage is down;
//! 2. `/voice-voicemail` marks the call `vm_pending` when the caller reaches the voicemail step
//!    (and again at the `<Record>` action), cleared only once the voicemail is stored *and*
//!    announced;
//! 3. [`reconcile`] (the monitor's scheduled run) finds calls still pending after
//!    [`RECONCILE_AFTER`], lists their recordings through the Twilio REST API and runs the same
//!    [`store_and_announce`], so a recording whose every callback failed is copied and announced
//!    exactly once;
//! 4. and, so that nothing depends on one of our own writes having succeeded (a call that began
//!    and ended inside an outage has no mark), it also sweeps Twilio's list of `<Record>`
//!    recordings created today and yesterday (UTC) and stores any completed one that has no
//!    recording item yet.

use crate::calls::{CallRecord, RecordingRecord};
use crate::item::Claim;
use crate::notifier::{self, Notice, NoticeSent};
use crate::recordings;
use crate::{metrics, Deps, Error};
use std::time::Duration;
use telephony_core::flow::Consent;
use telephony_core::{CallSid, RecordingSid};

/// A pending voicemail is reconciled once it is this old: Twilio's own callback retries are long
/// over by then (3 retries within its 15 s budget).
pub const RECONCILE_AFTER: Duration = Duration::from_secs(300);
/// A call still without any recording at Twilio (and no final status) this long after the
/// voicemail step is given up; the mark is cleared.
pub const GIVE_UP_AFTER: Duration = Duration::from_secs(24 * 3600);
/// Pending calls handled per run (the next run takes the rest).
pub const RECONCILE_BATCH: i32 = 25;

/// A completed recording as a callback or Twilio's Recordings list gives it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompletedRecording {
    /// The call it was made on (`None` when the callback's CallSid was malformed: the recording
    /// is still kept, under `unknown-call`, and announced).
    pub call_sid: Option<CallSid>,
    /// Its SID (the recording item's key).
    pub recording_sid: RecordingSid,
    /// `RecordingUrl` (Twilio's URL without extension).
    pub url: String,
    /// `RecordingDuration`, seconds.
    pub duration_secs: Option<u64>,
    /// `true` for the voicemail `<Record>`, `false` for a consented `<Dial record>`.
    pub voicemail: bool,
}

/// What [`store_and_announce`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stored {
    /// Stored (and, for a voicemail, announced) by this call.
    Now,
    /// A previous delivery had done everything already.
    Already,
    /// A dial recording of a call without consent: not kept.
    NotKept,
}

/// Copies a completed recording to S3, creates its item once and, for a voicemail, sends one
/// notice and clears the call's voicemail-pending mark. Safe to repeat: each step is skipped when
/// a previous delivery did it. A recording counts as stored only once its object is in S3 (or
/// the copy was refused for good: over the cap; then Twilio's URL is kept).
///
/// Errors: [`Error::Dynamo`] or [`Error::Sns`], and [`Error::Download`] / [`Error::S3`] when
/// the copy failed (the item is then `copy_pending`, nothing announced) — the caller answers
/// 503 so Twilio retries, or the reconciler and [`resume_copies`] retry on their next run.
pub async fn store_and_announce(
    deps: &Deps,
    rec: &CompletedRecording,
    now: u64,
) -> Result<Stored, Error> {
    let calls = deps.calls();
    let read_call = async {
        match &rec.call_sid {
            Some(sid) => calls.get_call(sid).await,
            None => Ok(None),
        }
    };
    let (state, call) = tokio::join!(calls.recording_state(&rec.recording_sid), read_call);
    let (state, call) = (state?, call?.unwrap_or_default());
    let call_for_log = rec.call_sid.as_ref().map_or("unknown", CallSid::as_str);
    if state.stored && (state.notified || !rec.voicemail) {
        if let (true, Some(sid)) = (rec.voicemail, &rec.call_sid) {
            calls.clear_voicemail_pending(sid).await?;
        }
        return Ok(Stored::Already);
    }
    if !rec.voicemail && Consent::from_stored(call.consent.as_deref()) != Consent::Granted {
        tracing::warn!(call_sid = call_for_log, recording_sid = %rec.recording_sid, "dial recording without consent: not kept");
        metrics::count("RecordingsWithoutConsent", None);
        return Ok(Stored::NotKept);
    }
    let mut s3_key = state.s3_key;
    if !state.stored {
        let mut record = RecordingRecord {
            recording_sid: rec.recording_sid.clone(),
            call_sid: rec.call_sid.clone(),
            kind: if rec.voicemail { "voicemail" } else { "dial" }.to_owned(),
            s3_key: None,
            twilio_url: rec.url.clone(),
            duration_secs: rec.duration_secs.unwrap_or(0),
        };
        match copy_to_s3(deps, rec).await {
            Ok(key) => s3_key = Some(key),
            // Over the cap or a foreign URL: no retry changes that; Twilio's URL is kept.
            Err(Error::MediaRefused { .. }) => s3_key = None,
            // A copy a retry may cure (Twilio 404/5xx/timeout, S3 down): the item is marked
            // `copy_pending`, nothing is announced, and the error makes the callback answer a
            // retryable 503; the reconciler and the monitor's sweep resume it (issue 27 §5).
            Err(e) => {
                calls.mark_copy_pending(&record, now).await?;
                return Err(e);
            }
        }
        record.s3_key = s3_key.clone();
        if calls.store_recording(&record, now).await? == Claim::Created && rec.voicemail {
            metrics::count("VoicemailsRecorded", None);
        }
    }
    if rec.voicemail {
        let sent = announce(deps, &call, rec, s3_key.as_deref(), now).await?;
        // Clear the mark only once the notice is known to be out; a notice another delivery is
        // still sending keeps the call pending for the reconciler to check.
        if let (true, Some(sid)) = (sent != NoticeSent::InFlight, &rec.call_sid) {
            calls.clear_voicemail_pending(sid).await?;
        }
        if sent != NoticeSent::Now && state.stored {
            return Ok(Stored::Already);
        }
    }
    Ok(Stored::Now)
}

/// Copies the recording; its S3 key, or the failure (logged, counted).
async fn copy_to_s3(deps: &Deps, rec: &CompletedRecording) -> Result<String, Error> {
    let key = recordings::recording_key(rec.call_sid.as_ref(), &rec.recording_sid);
    let call_for_log = rec.call_sid.as_ref().map_or("unknown", CallSid::as_str);
    match recordings::copy_to_s3(
        deps,
        &recordings::wav_url(&rec.url),
        deps.config.recording_max_bytes,
        &key,
        "audio/wav",
        rec.recording_sid.as_str(),
    )
    .await
    {
        Ok(()) => Ok(key),
        Err(e) => {
            let kept = matches!(e, Error::MediaRefused { .. });
            tracing::error!(call_sid = call_for_log, recording_sid = %rec.recording_sid, error = %e, retried = !kept, "recording not copied");
            metrics::count(
                "RecordingCopyFailures",
                Some(("Dependency", e.dependency())),
            );
            Err(e)
        }
    }
}

/// Resumes the copies still pending (the `recordings-copy-pending` index): each goes through
/// [`store_and_announce`] again, so its object lands in S3 and a voicemail is announced once.
/// Returns how many were completed; failures stay pending for the next run.
///
/// Errors: [`Error::Dynamo`] when the index cannot be read.
pub async fn resume_copies(deps: &Deps, now: u64) -> Result<usize, Error> {
    let mut done = 0;
    for p in deps.calls().copies_pending(RECONCILE_BATCH).await? {
        let rec = CompletedRecording {
            call_sid: p.call_sid,
            recording_sid: p.recording_sid,
            url: p.twilio_url,
            duration_secs: p.duration_secs,
            voicemail: p.voicemail,
        };
        match store_and_announce(deps, &rec, now).await {
            Ok(_) => {
                done += 1;
                metrics::count("RecordingCopiesResumed", None);
            }
            Err(e) => {
                tracing::warn!(recording_sid = %rec.recording_sid, error = %e, "pending recording copy failed again; next run")
            }
        }
    }
    Ok(done)
}

async fn announce(
    deps: &Deps,
    call: &CallRecord,
    rec: &CompletedRecording,
    s3_key: Option<&str>,
    now: u64,
) -> Result<NoticeSent, Error> {
    let notice = Notice {
        kind: "voicemail",
        call_sid: rec.call_sid.as_ref().map_or("unknown", CallSid::as_str),
        recording_sid: rec.recording_sid.as_str(),
        caller: call.from.as_deref(),
        dialled: call.to.as_deref(),
        duration_seconds: rec.duration_secs,
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

/// What one [`reconcile`] run did.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Reconciled {
    /// Pending calls looked at.
    pub checked: usize,
    /// Recordings this run stored and announced (each counted `RecordingsReconciled`).
    pub recovered: usize,
    /// Calls found already done (their mark cleared).
    pub already_done: usize,
    /// Calls given up: the call ended with no recording at Twilio (hung up before the beep), or
    /// none appeared within [`GIVE_UP_AFTER`].
    pub given_up: usize,
    /// Calls left for the next run (Twilio or AWS failed, or the recording is still processing).
    pub deferred: usize,
    /// Recordings found only by the sweep of Twilio's list (no mark), stored and announced.
    pub swept: usize,
    /// Recordings whose pending S3 copy this run completed ([`resume_copies`]).
    pub copies_resumed: usize,
}

/// Finds calls that reached the voicemail step at least [`RECONCILE_AFTER`] before `now` and
/// still have no announced voicemail, fetches their recordings from Twilio (Recordings list by
/// CallSid) and stores and announces each completed `<Record>` recording once.
///
/// Errors: [`Error::Dynamo`] when the pending index cannot be read; per-call failures are logged,
/// counted and left for the next run.
pub async fn reconcile(deps: &Deps, now: u64) -> Result<Reconciled, Error> {
    let calls = deps.calls();
    let before = now.saturating_sub(RECONCILE_AFTER.as_secs());
    let pending = calls.pending_voicemails(before, RECONCILE_BATCH).await?;
    let mut report = Reconciled {
        checked: pending.len(),
        ..Reconciled::default()
    };
    for (call_sid, since) in pending {
        match reconcile_call(deps, &call_sid, since, now).await {
            Ok(CallOutcome::Recovered(n)) => {
                report.recovered += n;
                for _ in 0..n {
                    metrics::count("RecordingsReconciled", None);
                }
                tracing::warn!(call_sid = %call_sid, recordings = n, "voicemail recovered by the reconciler");
            }
            Ok(CallOutcome::AlreadyDone) => report.already_done += 1,
            Ok(CallOutcome::GivenUp) => {
                report.given_up += 1;
                tracing::info!(call_sid = %call_sid, "call ended without a voicemail recording at Twilio; mark cleared");
            }
            Ok(CallOutcome::NotYet) => report.deferred += 1,
            Err(e) => {
                report.deferred += 1;
                tracing::error!(call_sid = %call_sid, error = %e, "voicemail reconciliation failed; retried next run");
                metrics::count("DependencyErrors", Some(("Dependency", e.dependency())));
            }
        }
    }
    match resume_copies(deps, now).await {
        Ok(n) => report.copies_resumed = n,
        Err(e) => {
            tracing::error!(error = %e, "pending recording copies unreadable; retried next run");
            metrics::count("DependencyErrors", Some(("Dependency", e.dependency())));
        }
    }
    match sweep(deps, now).await {
        Ok(n) => {
            report.swept = n;
            for _ in 0..n {
                metrics::count("RecordingsReconciled", None);
            }
        }
        Err(e) => {
            tracing::error!(error = %e, "sweep of Twilio's recordings failed; retried next run");
            metrics::count("DependencyErrors", Some(("Dependency", e.dependency())));
        }
    }
    Ok(report)
}

/// `YYYY-MM-DD` (UTC) of Unix second `secs`.
fn utc_date(secs: u64) -> String {
    chrono::DateTime::from_timestamp(i64::try_from(secs).unwrap_or(i64::MAX), 0)
        .unwrap_or_default()
        .format("%Y-%m-%d")
        .to_string()
}

/// Stores completed `<Record>` recordings Twilio lists since yesterday (UTC), at least
/// [`RECONCILE_AFTER`] old (younger ones are left to their callbacks), that have no item here
/// yet; returns how many. The Twilio account is the hotline's own (README "Deploying"), so every
/// `<Record>` recording on it is a voicemail — including one whose call began during an outage
/// and was never written here (its notice then says "unknown caller"). Racing a late callback is harmless: both
/// paths create the item and claim the notice once.
async fn sweep(deps: &Deps, now: u64) -> Result<usize, Error> {
    let since = utc_date(now.saturating_sub(86_400));
    let listed = deps.twilio()?.list_recordings_created_since(&since).await?;
    let calls = deps.calls();
    let mut stored = 0;
    let old_enough = now.saturating_sub(RECONCILE_AFTER.as_secs());
    for r in listed.iter().filter(|r| {
        r.source.as_deref() == Some("RecordVerb")
            && r.status.as_deref() == Some("completed")
            && r.created_at().is_some_and(|t| t <= old_enough)
    }) {
        let (Ok(rec_sid), Some(Ok(call_sid))) = (
            RecordingSid::parse(&r.sid),
            r.call_sid.as_deref().map(CallSid::parse),
        ) else {
            continue;
        };
        let state = calls.recording_state(&rec_sid).await?;
        if state.stored && state.notified {
            continue;
        }
        let rec = CompletedRecording {
            call_sid: Some(call_sid),
            url: deps.twilio()?.recording_url(rec_sid.as_str()),
            recording_sid: rec_sid,
            duration_secs: r.duration_secs(),
            voicemail: true,
        };
        if store_and_announce(deps, &rec, now).await? == Stored::Now {
            tracing::warn!(call_sid = ?rec.call_sid, recording_sid = %rec.recording_sid, "voicemail recovered by the sweep of Twilio's recordings");
            stored += 1;
        }
    }
    Ok(stored)
}

enum CallOutcome {
    Recovered(usize),
    AlreadyDone,
    GivenUp,
    NotYet,
}

async fn reconcile_call(
    deps: &Deps,
    call_sid: &CallSid,
    since: u64,
    now: u64,
) -> Result<CallOutcome, Error> {
    let twilio = deps.twilio()?;
    let listed = twilio.list_call_recordings(call_sid.as_str()).await?;
    let mut recovered = 0;
    let mut waiting = false;
    for r in listed
        .iter()
        .filter(|r| r.source.as_deref() == Some("RecordVerb"))
    {
        match r.status.as_deref() {
            Some("completed") => {}
            Some("in-progress" | "paused" | "processing") => {
                waiting = true;
                continue;
            }
            _ => continue,
        }
        let Ok(recording_sid) = RecordingSid::parse(&r.sid) else {
            continue;
        };
        let rec = CompletedRecording {
            call_sid: Some(call_sid.clone()),
            url: twilio.recording_url(recording_sid.as_str()),
            recording_sid,
            duration_secs: r.duration_secs(),
            voicemail: true,
        };
        if store_and_announce(deps, &rec, now).await? == Stored::Now {
            recovered += 1;
        }
    }
    let calls = deps.calls();
    if recovered > 0 {
        return Ok(CallOutcome::Recovered(recovered));
    }
    if waiting {
        return Ok(CallOutcome::NotYet);
    }
    let call = calls.get_call(call_sid).await?.unwrap_or_default();
    if call.voicemail_recording_sid.is_some() {
        calls.clear_voicemail_pending(call_sid).await?;
        return Ok(CallOutcome::AlreadyDone);
    }
    // Twilio lists a recording from the moment it starts: a call that has ended with none was
    // hung up before the beep. Without a final status (its callback lost too), wait a day.
    let ended = matches!(
        call.status.as_deref(),
        Some("completed" | "busy" | "no-answer" | "failed" | "canceled")
    );
    if ended || now.saturating_sub(since) >= GIVE_UP_AFTER.as_secs() {
        calls.clear_voicemail_pending(call_sid).await?;
        return Ok(CallOutcome::GivenUp);
    }
    Ok(CallOutcome::NotYet)
}

#[cfg(test)]
mod tests {
    use super::utc_date;

    #[test]
    fn utc_dates() {
        assert_eq!(utc_date(0), "1970-01-01");
        assert_eq!(utc_date(951_782_400), "2000-02-29");
        assert_eq!(utc_date(1_795_262_400), "2026-11-21");
        assert_eq!(utc_date(1_798_761_599), "2026-12-31");
    }
}
