//! The `calls` table (spec §3 "Call record", §5 patterns). One table, key `pk` (string):
//! call items are keyed by `CallSid` (`CA…`), recording items by `RecordingSid` (`RE…`), so the
//! two never collide. Every item carries `expires_at` (Unix seconds, the table's TTL attribute).
//!
//! Conditional writes make every webhook idempotent under Twilio's retries; a failed condition is
//! returned as an outcome ([`Claim`], [`Advance`]), never as an error.

use crate::error::Error;
pub use crate::item::Claim;
use crate::item::{claim_of, get_s, is_conditional, n, s, Item};
use aws_sdk_dynamodb::types::{AttributeValue, ReturnValue};
use aws_sdk_dynamodb::Client;
use telephony_core::flow::{Consent, Department};
use telephony_core::{CallSid, RecordingSid};

mod recordings;
pub use recordings::{PendingCopy, RecordingRecord, RecordingState};

/// `vm_state` of a voicemail nobody has acknowledged (sparse index `voicemails-by-state`).
pub const VOICEMAIL_NEW: &str = "new";
/// `vm_state` after an operator acknowledged the voicemail.
pub const VOICEMAIL_ACKED: &str = "acked";
/// Rank of terminal call statuses (`telephony_core::status::call_status_rank`): the call leaves
/// the sparse `active-calls` index.
const TERMINAL_RANK: u8 = 4;

/// The `day` partition of the `calls-by-day` index: whole days since the Unix epoch (UTC).
pub fn day_of(secs: u64) -> String {
    (secs / 86_400).to_string()
}

/// How long a consent proof is kept (seconds): 3 years, the retention policy's period for proof
/// of consent (issue 22 §16), as for opt-outs.
pub const CONSENT_PROOF_RETENTION_SECS: u64 = 1095 * 86_400;

/// What the consent proof records besides the answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConsentProof<'a> {
    /// The caller (`From`).
    pub caller: &'a str,
    /// The number called (`To`).
    pub number: &'a str,
    /// `keys` or `speech`.
    pub input: &'a str,
    /// `en`/`fr`: the language the question was asked in.
    pub language: &'a str,
    /// [`telephony_core::prompts::consent_prompt_version`] of the question heard.
    pub prompt_version: &'a str,
}

/// Result of a forward-only status update.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Advance {
    /// Stored: the new status ranks above the stored one.
    Advanced,
    /// Ignored: an equal or later status is already stored (late or retried callback).
    Stale,
}

/// Result of acknowledging a voicemail.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ack {
    /// Acknowledged now.
    Acked,
    /// Someone acknowledged it before (idempotent retry).
    AlreadyAcked,
    /// No such voicemail.
    NotFound,
}

/// A call record as read back.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CallRecord {
    /// `From` of the inbound call.
    pub from: Option<String>,
    /// `To` (the dialled business number).
    pub to: Option<String>,
    /// `yes`/`no`, once set.
    pub consent: Option<String>,
    /// `true` when the frontdoor rejected the call for its rate limit.
    pub rate_limited: bool,
    /// Latest lifecycle status.
    pub status: Option<String>,
    /// Menu choice (`sales`/`support`).
    pub menu_choice: Option<String>,
    /// `DialCallStatus` of the department dial.
    pub dial_status: Option<String>,
    /// The voicemail recorded on this call, once stored.
    pub voicemail_recording_sid: Option<String>,
    /// The Record action reported a non-empty recording (`vm_recorded`).
    pub voicemail_recorded: bool,
    /// The caller's language choice (`en`/`fr`), if they pressed 8.
    pub language: Option<String>,
    /// The department whose screened dial a person accepted by pressing 1 (issue 24 §1).
    pub screen_answer: Option<String>,
    /// The verified-caller gate's outcome (`checked`, `passed`, `failed`, `silent`).
    pub gate_outcome: Option<String>,
}

/// How long a notice claim holds before another delivery may take it over (a publish takes well
/// under a second; Twilio's callback retries and the reconciler come later than this).
pub const NOTICE_CLAIM_STALE: std::time::Duration = std::time::Duration::from_secs(60);

/// Value of `vm_pending` while a call's voicemail is not yet stored and announced (the
/// `voicemails-pending` index is sparse: only such calls carry the attribute).
pub const VOICEMAIL_PENDING: &str = "pending";

/// Access to the `calls` table.
#[derive(Debug, Clone, Copy)]
pub struct Calls<'a> {
    pub(crate) client: &'a Client,
    pub(crate) table: &'a str,
    pub(crate) retention_secs: u64,
}

impl<'a> Calls<'a> {
    /// The table `table`; items expire `retention_secs` after their last write.
    pub fn new(client: &'a Client, table: &'a str, retention_secs: u64) -> Self {
        Self {
            client,
            table,
            retention_secs,
        }
    }

    pub(crate) fn update(
        &self,
        pk: &str,
    ) -> aws_sdk_dynamodb::operation::update_item::builders::UpdateItemFluentBuilder {
        self.client
            .update_item()
            .table_name(self.table)
            .key("pk", s(pk))
    }

    /// A strongly consistent read of item `pk`.
    pub(crate) fn get(
        &self,
        pk: &str,
    ) -> aws_sdk_dynamodb::operation::get_item::builders::GetItemFluentBuilder {
        self.client
            .get_item()
            .table_name(self.table)
            .key("pk", s(pk))
            .consistent_read(true)
    }

    /// First sight of a call at the frontdoor: sets from/to/number and `frontdoor_at` once.
    /// A status callback may have created the item earlier; only `frontdoor_at` decides.
    ///
    /// Errors: [`Error::Dynamo`] when DynamoDB fails (not on a retry, which is `AlreadyExists`).
    pub async fn claim_call(
        &self,
        sid: &CallSid,
        from: &str,
        to: &str,
        now: u64,
    ) -> Result<Claim, Error> {
        let r = self.update(sid.as_str())
            .update_expression(
                "SET #kind = :kind, #from = :from, #to = :to, frontdoor_at = :now, updated_at = :now, expires_at = :exp, active = :one, #day = :day",
            )
            .condition_expression("attribute_not_exists(frontdoor_at)")
            .expression_attribute_names("#day", "day")
            .expression_attribute_values(":one", s("1"))
            .expression_attribute_values(":day", s(day_of(now)))
            .expression_attribute_names("#kind", "kind")
            .expression_attribute_names("#from", "from")
            .expression_attribute_names("#to", "to")
            .expression_attribute_values(":kind", s("call"))
            .expression_attribute_values(":from", s(from))
            .expression_attribute_values(":to", s(to))
            .expression_attribute_values(":now", n(now))
            .expression_attribute_values(":exp", n(now + self.retention_secs))
            .send()
            .await;
        claim_of(r, "UpdateItem calls (claim)")
    }

    /// Marks a call as rejected by the rate limit, so a retried frontdoor request gets the same
    /// `<Reject>`.
    ///
    /// Errors: [`Error::Dynamo`].
    pub async fn mark_rate_limited(&self, sid: &CallSid, now: u64) -> Result<(), Error> {
        self.update(sid.as_str())
            .update_expression("SET rate_limited = :t, updated_at = :now")
            .expression_attribute_values(":t", AttributeValue::Bool(true))
            .expression_attribute_values(":now", n(now))
            .send()
            .await
            .map_err(Error::dynamo("UpdateItem calls (rate_limited)"))?;
        Ok(())
    }

    /// Reads a call (strongly consistent); `None` when unknown.
    ///
    /// Errors: [`Error::Dynamo`].
    pub async fn get_call(&self, sid: &CallSid) -> Result<Option<CallRecord>, Error> {
        let out = self
            .get(sid.as_str())
            .send()
            .await
            .map_err(Error::dynamo("GetItem calls"))?;
        Ok(out.item.map(|item| CallRecord {
            from: get_s(&item, "from"),
            to: get_s(&item, "to"),
            consent: get_s(&item, "consent"),
            rate_limited: item
                .get("rate_limited")
                .and_then(|v| v.as_bool().ok())
                .copied()
                .unwrap_or(false),
            status: get_s(&item, "status"),
            menu_choice: get_s(&item, "menu_choice"),
            dial_status: get_s(&item, "dial_status"),
            voicemail_recording_sid: get_s(&item, "voicemail_recording_sid"),
            voicemail_recorded: item.contains_key("vm_recorded"),
            language: get_s(&item, "language"),
            screen_answer: get_s(&item, "screen_answer"),
            gate_outcome: get_s(&item, "gate_outcome"),
        }))
    }

    /// Marks the call as having reached the voicemail step (`vm_pending`, `vm_pending_at` set
    /// once), so the reconciler finds it if its recording never arrives; `recorded` (the Record
    /// action reported a non-empty recording) also sets `vm_recorded`, which the missed-call
    /// text reads before the recording callback may have arrived. Idempotent.
    ///
    /// Errors: [`Error::Dynamo`].
    pub async fn mark_voicemail_pending(
        &self,
        sid: &CallSid,
        recorded: bool,
        now: u64,
    ) -> Result<(), Error> {
        let expr = if recorded {
            "SET vm_pending = :p, vm_recorded = :p, vm_pending_at = if_not_exists(vm_pending_at, :now), expires_at = if_not_exists(expires_at, :exp)"
        } else {
            "SET vm_pending = :p, vm_pending_at = if_not_exists(vm_pending_at, :now), expires_at = if_not_exists(expires_at, :exp)"
        };
        self.update(sid.as_str())
            .update_expression(expr)
            .expression_attribute_values(":p", s(VOICEMAIL_PENDING))
            .expression_attribute_values(":now", n(now))
            .expression_attribute_values(":exp", n(now + self.retention_secs))
            .send()
            .await
            .map_err(Error::dynamo("UpdateItem calls (voicemail pending)"))?;
        Ok(())
    }

    /// Clears the voicemail-pending mark once the voicemail is stored and announced (or known
    /// never to come).
    ///
    /// Errors: [`Error::Dynamo`].
    pub async fn clear_voicemail_pending(&self, sid: &CallSid) -> Result<(), Error> {
        self.update(sid.as_str())
            .update_expression("REMOVE vm_pending, vm_pending_at")
            .condition_expression("attribute_exists(pk)")
            .send()
            .await
            .map(|_| ())
            .or_else(|e| {
                if is_conditional(&e) {
                    Ok(())
                } else {
                    Err(Error::dynamo("UpdateItem calls (voicemail done)")(e))
                }
            })
    }

    /// Calls marked voicemail-pending at or before `before` (Unix seconds), oldest first, at most
    /// `limit`, read through the sparse `voicemails-pending` index (no scan). Returns
    /// `(CallSid, vm_pending_at)`; items whose key is not a CallSid are skipped.
    ///
    /// Errors: [`Error::Dynamo`].
    pub async fn pending_voicemails(
        &self,
        before: u64,
        limit: i32,
    ) -> Result<Vec<(CallSid, u64)>, Error> {
        let out = self
            .client
            .query()
            .table_name(self.table)
            .index_name("voicemails-pending")
            .key_condition_expression("vm_pending = :p AND vm_pending_at <= :before")
            .expression_attribute_values(":p", s(VOICEMAIL_PENDING))
            .expression_attribute_values(":before", n(before))
            .limit(limit)
            .send()
            .await
            .map_err(Error::dynamo("Query calls (voicemails-pending)"))?;
        Ok(out
            .items()
            .iter()
            .filter_map(|item| {
                let sid = CallSid::parse(&get_s(item, "pk")?).ok()?;
                let at = item.get("vm_pending_at")?.as_n().ok()?.parse().ok()?;
                Some((sid, at))
            })
            .collect())
    }

    /// Stores the caller's consent once per call and returns the consent in force: the stored one
    /// when a previous delivery already set it (consent never flips on a retry). Then the consent
    /// *proof* (issue 22 §16): `consent#<CallSid>` with the caller, the number, yes/no, when, how
    /// it was given, the language and the prompt version, and nothing of the call's content, kept
    /// [`CONSENT_PROOF_RETENTION_SECS`] (3 years) while the call item keeps its own retention. The
    /// proof is a create-once put of the consent in force, written again by any redelivery until
    /// it exists; a failed proof write is logged and counted, and never changes the consent.
    ///
    /// Errors: [`Error::Dynamo`] (the consent itself could not be stored or read).
    pub async fn set_consent(
        &self,
        sid: &CallSid,
        consent: Consent,
        proof: &ConsentProof<'_>,
        now: u64,
    ) -> Result<Consent, Error> {
        let r = self
            .update(sid.as_str())
            .update_expression(
                "SET consent = :c, consent_at = :now, updated_at = :now, expires_at = :exp",
            )
            .condition_expression("attribute_not_exists(consent)")
            .expression_attribute_values(":c", s(consent.as_str()))
            .expression_attribute_values(":now", n(now))
            .expression_attribute_values(":exp", n(now + self.retention_secs))
            .send()
            .await;
        let in_force = match r {
            Ok(_) => consent,
            Err(e) if is_conditional(&e) => {
                let stored = self.get_call(sid).await?.and_then(|c| c.consent);
                Consent::from_stored(stored.as_deref())
            }
            Err(e) => return Err(Error::dynamo("UpdateItem calls (consent)")(e)),
        };
        if let Err(e) = self.put_consent_proof(sid, in_force, proof, now).await {
            tracing::error!(call_sid = %sid, error = %e, "consent proof not stored; the next delivery retries");
            crate::metrics::count("DependencyErrors", Some(("Dependency", e.dependency())));
        }
        Ok(in_force)
    }

    async fn put_consent_proof(
        &self,
        sid: &CallSid,
        consent: Consent,
        proof: &ConsentProof<'_>,
        now: u64,
    ) -> Result<Claim, Error> {
        let r = self
            .client
            .put_item()
            .table_name(self.table)
            .item("pk", s(format!("consent#{}", sid.as_str())))
            .item("kind", s("consent_proof"))
            .item("call_sid", s(sid.as_str()))
            .item("caller", s(proof.caller))
            .item("number", s(proof.number))
            .item("consent", s(consent.as_str()))
            .item("consent_at", n(now))
            .item("input", s(proof.input))
            .item("language", s(proof.language))
            .item("prompt_version", s(proof.prompt_version))
            .item("expires_at", n(now + CONSENT_PROOF_RETENTION_SECS))
            .condition_expression("attribute_not_exists(pk)")
            .send()
            .await;
        claim_of(r, "PutItem calls (consent proof)")
    }

    /// Records the caller's language choice (`en`/`fr`, after pressing 8) on the call.
    ///
    /// Errors: [`Error::Dynamo`].
    pub async fn set_language(&self, sid: &CallSid, lang: &str, now: u64) -> Result<(), Error> {
        self.update(sid.as_str())
            .update_expression("SET #l = :l, language_at = :now, updated_at = :now")
            .expression_attribute_names("#l", "language")
            .expression_attribute_values(":l", s(lang))
            .expression_attribute_values(":now", n(now))
            .send()
            .await
            .map_err(Error::dynamo("UpdateItem calls (language)"))?;
        Ok(())
    }

    /// Records the menu choice and returns the call's consent in the same round trip
    /// (`ReturnValues=ALL_NEW`).
    ///
    /// Errors: [`Error::Dynamo`].
    pub async fn record_menu_choice(
        &self,
        sid: &CallSid,
        dept: Department,
        now: u64,
    ) -> Result<Consent, Error> {
        let out = self.update(sid.as_str())
            .update_expression("SET menu_choice = :d, updated_at = :now, expires_at = if_not_exists(expires_at, :exp)")
            .expression_attribute_values(":d", s(dept.as_str()))
            .expression_attribute_values(":now", n(now))
            .expression_attribute_values(":exp", n(now + self.retention_secs))
            .return_values(ReturnValue::AllNew)
            .send()
            .await
            .map_err(Error::dynamo("UpdateItem calls (menu)"))?;
        let consent = out.attributes.as_ref().and_then(|a| get_s(a, "consent"));
        Ok(Consent::from_stored(consent.as_deref()))
    }

    /// Records the department dial's `DialCallStatus`.
    ///
    /// Errors: [`Error::Dynamo`].
    pub async fn record_dial_outcome(
        &self,
        sid: &CallSid,
        dial_status: &str,
        now: u64,
    ) -> Result<(), Error> {
        self.update(sid.as_str())
            .update_expression("SET dial_status = :d, updated_at = :now, expires_at = if_not_exists(expires_at, :exp)")
            .expression_attribute_values(":d", s(dial_status))
            .expression_attribute_values(":now", n(now))
            .expression_attribute_values(":exp", n(now + self.retention_secs))
            .send()
            .await
            .map_err(Error::dynamo("UpdateItem calls (dial)"))?;
        Ok(())
    }

    /// Forward-only status update (spec §5): stored only if `rank` is above the stored
    /// `status_rank`. `duration_secs` (`CallDuration`) and `parent` (`ParentCallSid`) are kept
    /// when given.
    ///
    /// Errors: [`Error::Dynamo`] (a stale status is [`Advance::Stale`], not an error).
    pub async fn advance_status(
        &self,
        sid: &CallSid,
        status: &str,
        rank: u8,
        duration_secs: Option<u64>,
        parent: Option<&CallSid>,
        now: u64,
    ) -> Result<Advance, Error> {
        let mut expr = String::from(
            "SET #status = :s, status_rank = :r, updated_at = :now, expires_at = if_not_exists(expires_at, :exp), #kind = if_not_exists(#kind, :kind)",
        );
        let mut req = self
            .update(sid.as_str())
            .condition_expression("attribute_not_exists(status_rank) OR status_rank < :r")
            .expression_attribute_names("#status", "status")
            .expression_attribute_names("#kind", "kind")
            .expression_attribute_values(":s", s(status))
            .expression_attribute_values(":r", n(u64::from(rank)))
            .expression_attribute_values(":now", n(now))
            .expression_attribute_values(":exp", n(now + self.retention_secs))
            .expression_attribute_values(":kind", s("call"));
        if let Some(d) = duration_secs {
            expr.push_str(", duration_s = :d");
            req = req.expression_attribute_values(":d", n(d));
        }
        if let Some(p) = parent {
            expr.push_str(", parent_call_sid = :p");
            req = req.expression_attribute_values(":p", s(p.as_str()));
        }
        if rank >= TERMINAL_RANK {
            expr.push_str(" REMOVE active");
        }
        match req.update_expression(expr).send().await {
            Ok(_) => Ok(Advance::Advanced),
            Err(e) if is_conditional(&e) => Ok(Advance::Stale),
            Err(e) => Err(Error::dynamo("UpdateItem calls (status)")(e)),
        }
    }

    /// Claims the right to send one notice recorded as `attr` (e.g. `notified_at`) on item `pk`:
    /// sets `<attr>_claim` only if the notice was not sent (`attr` unset) and no other delivery
    /// holds a fresh claim. A claim older than [`NOTICE_CLAIM_STALE`] is taken over: a delivery
    /// that claimed, failed to publish and could not give the claim back (storage went down in
    /// between) never blocks the notice for good. `Created` → send it, then
    /// [`Calls::confirm_notice`]; `AlreadyExists` → sent, or being sent.
    ///
    /// Errors: [`Error::Dynamo`].
    pub async fn claim_notice(
        &self,
        pk: &str,
        attr: &'static str,
        now: u64,
    ) -> Result<Claim, Error> {
        let r = self
            .update(pk)
            .update_expression("SET #c = :now")
            .condition_expression(
                "attribute_not_exists(#a) AND (attribute_not_exists(#c) OR #c < :stale)",
            )
            .expression_attribute_names("#a", attr)
            .expression_attribute_names("#c", format!("{attr}_claim"))
            .expression_attribute_values(":now", n(now))
            .expression_attribute_values(
                ":stale",
                n(now.saturating_sub(NOTICE_CLAIM_STALE.as_secs())),
            )
            .send()
            .await;
        claim_of(r, "UpdateItem calls (notice)")
    }

    /// Records that the claimed notice went out: sets `attr`, drops the claim.
    ///
    /// Errors: [`Error::Dynamo`] (the notice is then sent again once the claim is stale: at
    /// least once, never lost).
    pub async fn confirm_notice(
        &self,
        pk: &str,
        attr: &'static str,
        now: u64,
    ) -> Result<(), Error> {
        self.update(pk)
            .update_expression("SET #a = :now REMOVE #c")
            .expression_attribute_names("#a", attr)
            .expression_attribute_names("#c", format!("{attr}_claim"))
            .expression_attribute_values(":now", n(now))
            .send()
            .await
            .map_err(Error::dynamo("UpdateItem calls (notice sent)"))?;
        Ok(())
    }

    /// Gives a notice claim back after the publish failed, so a retry sends it at once.
    ///
    /// Errors: [`Error::Dynamo`] (the claim then expires after [`NOTICE_CLAIM_STALE`]).
    pub async fn release_notice(&self, pk: &str, attr: &'static str) -> Result<(), Error> {
        self.update(pk)
            .update_expression("REMOVE #c")
            .expression_attribute_names("#c", format!("{attr}_claim"))
            .send()
            .await
            .map_err(Error::dynamo("UpdateItem calls (release notice)"))?;
        Ok(())
    }

    /// The raw item `pk` (operators' views and tests).
    ///
    /// Errors: [`Error::Dynamo`].
    pub async fn raw_item(&self, pk: &str) -> Result<Option<Item>, Error> {
        let out = self
            .get(pk)
            .send()
            .await
            .map_err(Error::dynamo("GetItem calls (raw)"))?;
        Ok(out.item)
    }
}
