//! The AI hand-off's state (issue 12) on the call item of the `calls` table, and the bridge's tool
//! calls as their own items (`pk = tool#<CallSid>#<tool_call_id>`, same TTL).
//!
//! Call attributes: `ai` (`"1"` once the call was connected to the bridge), `ai_connect_ms` (Unix
//! ms of the `<Connect>`), `ai_started_ms` and `ai_handshake_ms` (the first `stream-started`),
//! `ai_error` (the first `stream-error`'s `StreamError`), `ai_stopped_ms`, `ai_transfer`
//! (`transfer_to_human` was called), `ai_outcome` (what the Connect action decided, set once:
//! [`telephony_core::stream::StreamNext::as_stored`]). Every write is conditional or
//! `if_not_exists`, so Twilio's retried callbacks change nothing the second time.

use crate::calls::Calls;
use crate::error::Error;
use crate::item::{claim_of, get_n, get_s, is_conditional, n, s, Claim};
use telephony_core::CallSid;

/// The hand-off as stored on a call.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StreamRecord {
    /// The call was connected to the bridge.
    pub ai: bool,
    /// `From`, `To`, `consent`, `language` of the call.
    pub from: Option<String>,
    /// The business number.
    pub to: Option<String>,
    /// `yes`/`no`.
    pub consent: Option<String>,
    /// `en`/`fr` when the caller switched.
    pub language: Option<String>,
    /// Unix ms of the `<Connect>`.
    pub connect_ms: Option<u64>,
    /// Milliseconds from the `<Connect>` to `stream-started`.
    pub handshake_ms: Option<u64>,
    /// `StreamError` of a `stream-error`.
    pub error: Option<String>,
    /// Unix ms of `stream-stopped`.
    pub stopped_ms: Option<u64>,
    /// The bridge called `transfer_to_human`.
    pub transfer_requested: bool,
    /// The Connect action's decision, once taken.
    pub outcome: Option<String>,
}

/// What [`Calls::decide_once`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decided {
    /// This request decided: do the one-time work (metrics, notices).
    First,
    /// A previous delivery decided this (stored form): repeat it.
    Earlier(String),
    /// The decision could not be stored: act on the one made now, nothing one-time.
    Unrecorded,
}

/// The longest a call can last (Twilio's default `timeLimit`, 4 hours, in ms): a stream never
/// reported stopped is not "live" beyond this after its `<Connect>` (issue 27 §11).
pub const MAX_CALL_MS: u64 = 4 * 3600 * 1000;

impl StreamRecord {
    /// The stream is live at `now_ms` (Unix ms): started, not stopped, not errored, not decided,
    /// and connected less than [`MAX_CALL_MS`] ago (tool calls with an expired token are still
    /// accepted then; a stream whose stop was never reported does not keep its token alive for
    /// good).
    pub fn live(&self, now_ms: u64) -> bool {
        self.handshake_ms.is_some()
            && self.stopped_ms.is_none()
            && self.error.is_none()
            && self.outcome.is_none()
            && self
                .connect_ms
                .is_none_or(|c| now_ms.saturating_sub(c) < MAX_CALL_MS)
    }
}

impl Calls<'_> {
    /// Marks the call as handed to the AI at `connect_ms` (Unix ms), once: `Created` the first
    /// time, `AlreadyExists` for a retried consent (the first instant stays).
    ///
    /// Errors: [`Error::Dynamo`].
    pub async fn start_ai(&self, sid: &CallSid, connect_ms: u64, now: u64) -> Result<Claim, Error> {
        let r = self
            .update(sid.as_str())
            .update_expression(
                "SET ai = :one, ai_connect_ms = :ms, updated_at = :now, expires_at = :exp",
            )
            .condition_expression("attribute_not_exists(ai_connect_ms)")
            .expression_attribute_values(":one", s("1"))
            .expression_attribute_values(":ms", n(connect_ms))
            .expression_attribute_values(":now", n(now))
            .expression_attribute_values(":exp", n(now + self.retention_secs))
            .send()
            .await;
        claim_of(r, "UpdateItem calls (ai connect)")
    }

    /// The hand-off state of a call (strongly consistent); `None` when the call is unknown.
    ///
    /// Errors: [`Error::Dynamo`].
    pub async fn stream_record(&self, sid: &CallSid) -> Result<Option<StreamRecord>, Error> {
        let out = self
            .get(sid.as_str())
            .send()
            .await
            .map_err(Error::dynamo("GetItem calls (stream)"))?;
        Ok(out.item.map(|item| StreamRecord {
            ai: item.contains_key("ai"),
            from: get_s(&item, "from"),
            to: get_s(&item, "to"),
            consent: get_s(&item, "consent"),
            language: get_s(&item, "language"),
            connect_ms: get_n(&item, "ai_connect_ms"),
            handshake_ms: get_n(&item, "ai_handshake_ms"),
            error: get_s(&item, "ai_error"),
            stopped_ms: get_n(&item, "ai_stopped_ms"),
            transfer_requested: item.contains_key("ai_transfer"),
            outcome: get_s(&item, "ai_outcome"),
        }))
    }

    /// Records the first `stream-started` at `at_ms` with its handshake time (from the stored
    /// `<Connect>` instant; 0 when that is unknown or later). `Some(handshake_ms)` when this
    /// delivery recorded it, `None` for a repeat.
    ///
    /// Errors: [`Error::Dynamo`].
    pub async fn record_stream_started(
        &self,
        sid: &CallSid,
        connect_ms: Option<u64>,
        at_ms: u64,
        now: u64,
    ) -> Result<Option<u64>, Error> {
        let handshake = connect_ms.map_or(0, |c| at_ms.saturating_sub(c));
        let r = self
            .update(sid.as_str())
            .update_expression(
                "SET ai_started_ms = :at, ai_handshake_ms = :h, updated_at = :now, expires_at = :exp",
            )
            .condition_expression("attribute_not_exists(ai_started_ms)")
            .expression_attribute_values(":at", n(at_ms))
            .expression_attribute_values(":h", n(handshake))
            .expression_attribute_values(":now", n(now))
            .expression_attribute_values(":exp", n(now + self.retention_secs))
            .send()
            .await;
        match r {
            Ok(_) => Ok(Some(handshake)),
            Err(e) if is_conditional(&e) => Ok(None),
            Err(e) => Err(Error::dynamo("UpdateItem calls (stream started)")(e)),
        }
    }

    /// Records the first `stream-stopped` (`attr = ai_stopped_ms`, value `at_ms`) or
    /// `stream-error` (`attr = ai_error`, value the error text). `Created` the first time.
    ///
    /// Errors: [`Error::Dynamo`].
    pub async fn record_stream_end(
        &self,
        sid: &CallSid,
        error: Option<&str>,
        at_ms: u64,
        now: u64,
    ) -> Result<Claim, Error> {
        let (attr, value) = match error {
            Some(e) => ("ai_error", s(e)),
            None => ("ai_stopped_ms", n(at_ms)),
        };
        let r = self
            .update(sid.as_str())
            .update_expression("SET #a = :v, updated_at = :now, expires_at = :exp")
            .condition_expression("attribute_not_exists(#a)")
            .expression_attribute_names("#a", attr)
            .expression_attribute_values(":v", value)
            .expression_attribute_values(":now", n(now))
            .expression_attribute_values(":exp", n(now + self.retention_secs))
            .send()
            .await;
        claim_of(r, "UpdateItem calls (stream end)")
    }

    /// Records the bridge's `transfer_to_human` (the Connect action then dials). The item gets
    /// the calls' TTL if it has none (a tool call naming a call we never saw must not leave an
    /// item that never expires, issue 27 §15).
    ///
    /// Errors: [`Error::Dynamo`].
    pub async fn request_transfer(&self, sid: &CallSid, now: u64) -> Result<(), Error> {
        self.update(sid.as_str())
            .update_expression(
                "SET ai_transfer = if_not_exists(ai_transfer, :now), updated_at = :now, expires_at = if_not_exists(expires_at, :exp)",
            )
            .expression_attribute_values(":now", n(now))
            .expression_attribute_values(":exp", n(now + self.retention_secs))
            .send()
            .await
            .map_err(Error::dynamo("UpdateItem calls (ai transfer)"))?;
        Ok(())
    }

    /// Stores the Connect action's decision once. `Ok(None)`: this delivery decided; `Ok(Some(
    /// stored))`: a previous delivery did (a retry), whose decision stands.
    ///
    /// Errors: [`Error::Dynamo`].
    pub async fn decide_stream(
        &self,
        sid: &CallSid,
        outcome: &str,
        now: u64,
    ) -> Result<Option<String>, Error> {
        let r = self
            .update(sid.as_str())
            .update_expression("SET ai_outcome = :o, ai_outcome_at = :now, updated_at = :now, expires_at = if_not_exists(expires_at, :exp)")
            .condition_expression("attribute_not_exists(ai_outcome)")
            .expression_attribute_values(":o", s(outcome))
            .expression_attribute_values(":now", n(now))
            .expression_attribute_values(":exp", n(now + self.retention_secs))
            .send()
            .await;
        match r {
            Ok(_) => Ok(None),
            Err(e) if is_conditional(&e) => Ok(self
                .stream_record(sid)
                .await?
                .and_then(|r| r.outcome)
                .or_else(|| Some(outcome.to_owned()))),
            Err(e) => Err(Error::dynamo("UpdateItem calls (ai outcome)")(e)),
        }
    }

    /// [`Calls::decide_stream`] as the Connect actions use it (either engine): the first decision
    /// for the call, an earlier one to repeat, or a storage failure (logged and counted; the
    /// caller still gets the step decided now, without its one-time side effects).
    pub async fn decide_once(&self, sid: &CallSid, outcome: &str, now: u64) -> Decided {
        match self.decide_stream(sid, outcome, now).await {
            Ok(None) => Decided::First,
            Ok(Some(stored)) => Decided::Earlier(stored),
            Err(e) => {
                tracing::error!(call_sid = %sid, error = %e, "AI outcome not stored");
                crate::metrics::count("DependencyErrors", Some(("Dependency", e.dependency())));
                Decided::Unrecorded
            }
        }
    }

    /// Stores a tool call once by its id within the call (`pk = tool#<CallSid>#<tool_call_id>`): the call, the tool, the
    /// validated arguments as JSON. `Created` → do its one-time work; `AlreadyExists` → a
    /// repeat (the bridge retried).
    ///
    /// Errors: [`Error::Dynamo`].
    pub async fn claim_tool_call(
        &self,
        tool_call_id: &str,
        sid: &CallSid,
        tool: &str,
        arguments_json: &str,
        now: u64,
    ) -> Result<Claim, Error> {
        let r = self
            .client
            .put_item()
            .table_name(self.table)
            .item("pk", s(tool_pk(sid, tool_call_id)))
            .item("kind", s("tool_call"))
            .item("call_sid", s(sid.as_str()))
            .item("tool", s(tool))
            .item("arguments", s(arguments_json))
            .item("created_at", n(now))
            .item("expires_at", n(now + self.retention_secs))
            .condition_expression("attribute_not_exists(pk)")
            .send()
            .await;
        claim_of(r, "PutItem calls (tool call)")
    }
}

/// The item key of a tool call of call `sid`.
pub fn tool_pk(sid: &CallSid, tool_call_id: &str) -> String {
    format!("tool#{}#{tool_call_id}", sid.as_str())
}
