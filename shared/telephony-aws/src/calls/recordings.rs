//! Recording items of the `calls` table (keyed by `RecordingSid`): what a callback stored, the
//! copies still to make, the transcript, the operator's acknowledgement.

use super::*;

/// What a previous delivery of a recording callback already stored.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RecordingState {
    /// The recording item exists.
    pub stored: bool,
    /// Its notice went out.
    pub notified: bool,
    /// S3 key of the copy, if one was made.
    pub s3_key: Option<String>,
}

/// Value of `copy_pending` on a recording whose S3 copy is still to be made (the
/// `recordings-copy-pending` index is sparse: only such items carry it).
pub const COPY_PENDING: &str = "pending";

/// A recording whose copy to S3 is pending, as the monitor's sweep reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingCopy {
    /// Its SID.
    pub recording_sid: RecordingSid,
    /// Its call, when the callback named a valid one.
    pub call_sid: Option<CallSid>,
    /// `true` unless it is a dial recording.
    pub voicemail: bool,
    /// Twilio's URL (no extension).
    pub twilio_url: String,
    /// Seconds.
    pub duration_secs: Option<u64>,
}

/// A recording to store once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordingRecord {
    /// Natural key.
    pub recording_sid: RecordingSid,
    /// The call it belongs to (`None`: the callback's CallSid was malformed; stored as `unknown`).
    pub call_sid: Option<CallSid>,
    /// `voicemail` or `dial`.
    pub kind: String,
    /// S3 key of the copy, or `None` when it was not copied (too large); then `twilio_url` stays.
    pub s3_key: Option<String>,
    /// The recording's URL at Twilio (no credentials in it).
    pub twilio_url: String,
    /// `RecordingDuration`, seconds.
    pub duration_secs: u64,
}

/// The recording's own attributes on an update of its item: `#kind` (= `kind`), `:kind`,
/// `:call` (the CallSid or `unknown`), `:rk` (`voicemail`/`dial`), `:url` (Twilio's), `:d`
/// (seconds); shared by [`Calls::store_recording`] and [`Calls::mark_copy_pending`].
fn recording_values(
    u: aws_sdk_dynamodb::operation::update_item::builders::UpdateItemFluentBuilder,
    rec: &RecordingRecord,
) -> aws_sdk_dynamodb::operation::update_item::builders::UpdateItemFluentBuilder {
    u.expression_attribute_names("#kind", "kind")
        .expression_attribute_values(":kind", s("recording"))
        .expression_attribute_values(
            ":call",
            s(rec.call_sid.as_ref().map_or("unknown", CallSid::as_str)),
        )
        .expression_attribute_values(":rk", s(rec.kind.clone()))
        .expression_attribute_values(":url", s(rec.twilio_url.clone()))
        .expression_attribute_values(":d", n(rec.duration_secs))
}

impl Calls<'_> {
    /// What is stored for a recording so far (a retried callback skips what is done).
    ///
    /// Errors: [`Error::Dynamo`].
    pub async fn recording_state(&self, sid: &RecordingSid) -> Result<RecordingState, Error> {
        let out = self
            .get(sid.as_str())
            .send()
            .await
            .map_err(Error::dynamo("GetItem calls (recording)"))?;
        Ok(match out.item {
            // Stored = the item was completed by `store_recording` (its object in S3, or Twilio's
            // URL kept because the copy was refused for good); an item only marked
            // `copy_pending` (or only holding an early transcript) is not.
            Some(item) => RecordingState {
                stored: item.contains_key("created_at") && !item.contains_key("copy_pending"),
                notified: item.contains_key("notified_at"),
                s3_key: get_s(&item, "s3_key"),
            },
            None => RecordingState::default(),
        })
    }

    /// Marks a recording whose copy to S3 failed for a reason a retry may cure (issue 27 §5):
    /// the item holds Twilio's URL, `copy_pending` and `copy_pending_at` (the sparse
    /// `recordings-copy-pending` index the monitor sweeps) and no `created_at`, so it does not
    /// count as stored and the next delivery resumes the copy. Idempotent.
    ///
    /// Errors: [`Error::Dynamo`].
    pub async fn mark_copy_pending(&self, rec: &RecordingRecord, now: u64) -> Result<(), Error> {
        recording_values(self.update(rec.recording_sid.as_str()), rec)
            .update_expression(
                "SET #kind = :kind, call_sid = :call, recording_kind = :rk, twilio_url = :url, duration_s = :d, copy_pending = :p, copy_pending_at = if_not_exists(copy_pending_at, :now), expires_at = if_not_exists(expires_at, :exp)",
            )
            .condition_expression("attribute_not_exists(created_at)")
            .expression_attribute_values(":p", s(COPY_PENDING))
            .expression_attribute_values(":now", n(now))
            .expression_attribute_values(":exp", n(now + self.retention_secs))
            .send()
            .await
            .map(|_| ())
            .or_else(|e| {
                if is_conditional(&e) {
                    Ok(())
                } else {
                    Err(Error::dynamo("UpdateItem calls (copy pending)")(e))
                }
            })
    }

    /// Recordings whose copy is still pending, oldest first: `(RecordingSid, CallSid or
    /// "unknown", kind, Twilio URL, duration s)`, at most `limit`.
    ///
    /// Errors: [`Error::Dynamo`].
    pub async fn copies_pending(&self, limit: i32) -> Result<Vec<PendingCopy>, Error> {
        let out = self
            .client
            .query()
            .table_name(self.table)
            .index_name("recordings-copy-pending")
            .key_condition_expression("copy_pending = :p")
            .expression_attribute_values(":p", s(COPY_PENDING))
            .limit(limit)
            .send()
            .await
            .map_err(Error::dynamo("Query calls (copies pending)"))?;
        Ok(out
            .items()
            .iter()
            .filter_map(|i| {
                Some(PendingCopy {
                    recording_sid: RecordingSid::parse(&get_s(i, "pk")?).ok()?,
                    call_sid: get_s(i, "call_sid").and_then(|c| CallSid::parse(&c).ok()),
                    voicemail: get_s(i, "recording_kind").as_deref() != Some("dial"),
                    twilio_url: get_s(i, "twilio_url")?,
                    duration_secs: i
                        .get("duration_s")
                        .and_then(|v| v.as_n().ok())
                        .and_then(|v| v.parse().ok()),
                })
            })
            .collect())
    }

    /// Creates the recording item once (keyed by `RecordingSid`) and points the call at it.
    /// A transcript stored earlier on the same key is kept; a `copy_pending` mark is removed.
    ///
    /// Errors: [`Error::Dynamo`].
    pub async fn store_recording(&self, rec: &RecordingRecord, now: u64) -> Result<Claim, Error> {
        let mut expr = String::from(
            "SET #kind = :kind, call_sid = :call, recording_kind = :rk, twilio_url = :url, duration_s = :d, created_at = :now, expires_at = :exp",
        );
        let mut req = recording_values(self.update(rec.recording_sid.as_str()), rec)
            .condition_expression("attribute_not_exists(created_at)")
            .expression_attribute_values(":now", n(now))
            .expression_attribute_values(":exp", n(now + self.retention_secs));
        if rec.kind == "voicemail" {
            expr.push_str(", vm_state = :new");
            req = req.expression_attribute_values(":new", s(VOICEMAIL_NEW));
        }
        if let Some(key) = &rec.s3_key {
            expr.push_str(", s3_key = :key");
            req = req.expression_attribute_values(":key", s(key.clone()));
        }
        expr.push_str(" REMOVE copy_pending, copy_pending_at");
        let claim = match req.update_expression(expr).send().await {
            Ok(_) => Claim::Created,
            Err(e) if is_conditional(&e) => Claim::AlreadyExists,
            Err(e) => return Err(Error::dynamo("UpdateItem calls (recording)")(e)),
        };
        if let (Claim::Created, Some(call_sid)) = (claim, &rec.call_sid) {
            let pointer = if rec.kind == "voicemail" {
                "voicemail_recording_sid"
            } else {
                "dial_recording_sid"
            };
            self.update(call_sid.as_str())
                .update_expression(format!("SET {pointer} = :r, updated_at = :now"))
                .expression_attribute_values(":r", s(rec.recording_sid.as_str()))
                .expression_attribute_values(":now", n(now))
                .send()
                .await
                .map_err(Error::dynamo("UpdateItem calls (recording pointer)"))?;
        }
        Ok(claim)
    }

    /// Stores a transcript on its recording item (created if the transcript arrives first).
    ///
    /// Errors: [`Error::Dynamo`].
    pub async fn store_transcript(
        &self,
        rec: &RecordingSid,
        call: &CallSid,
        text: &str,
        status: &str,
        now: u64,
    ) -> Result<(), Error> {
        self.update(rec.as_str())
            .update_expression(
                "SET transcript = :t, transcription_status = :st, call_sid = if_not_exists(call_sid, :c), #kind = if_not_exists(#kind, :kind), updated_at = :now, expires_at = if_not_exists(expires_at, :exp)",
            )
            .expression_attribute_names("#kind", "kind")
            .expression_attribute_values(":t", s(text))
            .expression_attribute_values(":st", s(status))
            .expression_attribute_values(":c", s(call.as_str()))
            .expression_attribute_values(":kind", s("recording"))
            .expression_attribute_values(":now", n(now))
            .expression_attribute_values(":exp", n(now + self.retention_secs))
            .send()
            .await
            .map_err(Error::dynamo("UpdateItem calls (transcript)"))?;
        Ok(())
    }

    /// Acknowledges a voicemail (`vm_state` new → acked, with `acked_at` and who did it), once.
    ///
    /// Errors: [`Error::Dynamo`].
    pub async fn ack_voicemail(
        &self,
        rec: &RecordingSid,
        by: &str,
        now: u64,
    ) -> Result<Ack, Error> {
        let r = self
            .update(rec.as_str())
            .update_expression("SET vm_state = :acked, acked_at = :now, acked_by = :by")
            .condition_expression("vm_state = :new")
            .expression_attribute_values(":acked", s(VOICEMAIL_ACKED))
            .expression_attribute_values(":new", s(VOICEMAIL_NEW))
            .expression_attribute_values(":now", n(now))
            .expression_attribute_values(":by", s(by))
            .send()
            .await;
        match r {
            Ok(_) => Ok(Ack::Acked),
            Err(e) if is_conditional(&e) => {
                let item = self.raw_item(rec.as_str()).await?;
                let acked = item
                    .as_ref()
                    .and_then(|i| get_s(i, "vm_state"))
                    .is_some_and(|v| v == VOICEMAIL_ACKED);
                Ok(if acked {
                    Ack::AlreadyAcked
                } else {
                    Ack::NotFound
                })
            }
            Err(e) => Err(Error::dynamo("UpdateItem calls (ack)")(e)),
        }
    }
}
