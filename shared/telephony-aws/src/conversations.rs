//! The AI receptionist's conversation state (issue 28 §3) in the `calls` table, keyed by
//! CallSid (not by connection: a session's messages may arrive on parallel Lambdas, and the
//! connection id is only how replies find the socket).
//!
//! Items:
//! - `conv#<CallSid>`: the session. `call_sid`, `session_id`, `connection_id`, `from`, `to`,
//!   `lang` (`en`/`fr`), `consent` (`yes`/`no`), `started_ms` (Unix ms), `generation` (bumped by
//!   every caller prompt and interrupt: a reply streams only while the generation it started
//!   under is current), `version` (bumped by every write: each write is conditional on the
//!   version it read, so the history stays in order), `history` (JSON array of Chat Completions
//!   messages), `caller_turns`, `pending_booking` / `pending_turn` (the slot read back and the
//!   caller turn it was read back in), `booking` (the accepted one, JSON), `handoff` (the
//!   `handoffData` sent), `ended_ms`, `expires_at` (TTL: a day while live; 90 days for a
//!   transcript kept with consent; without consent the history is removed when the call ends).
//! - `wsconn#<connectionId>`: `call_sid`, for `$disconnect`, `expires_at` 3 hours.
//!
//! Creating the session is the claim of the call's single-use relay token: a replayed handshake
//! finds it taken.

use crate::calls::Calls;
use crate::error::Error;
use crate::item::{claim_of, get_n, get_s, n, s, Claim};
use aws_sdk_dynamodb::types::AttributeValue;
use llm_api::Message;
use std::collections::HashMap;
use telephony_core::CallSid;

/// A live session's TTL (seconds): a day.
pub const LIVE_TTL_SECS: u64 = 86_400;
/// A transcript kept with consent (seconds): 90 days (issue 28 §6).
pub const TRANSCRIPT_TTL_SECS: u64 = 90 * 86_400;
/// A connection pointer's TTL (seconds): past API Gateway's 2-hour connection limit.
pub const CONNECTION_TTL_SECS: u64 = 3 * 3600;
/// Attempts of a read-modify-write before it gives up (another writer kept winning).
pub const MAX_WRITE_ATTEMPTS: usize = 8;

/// What `setup` brings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionStart<'a> {
    /// The call.
    pub call_sid: &'a CallSid,
    /// `VX…`.
    pub session_id: &'a str,
    /// API Gateway's connection id.
    pub connection_id: &'a str,
    /// Caller.
    pub from: &'a str,
    /// Business number.
    pub to: &'a str,
    /// `en`/`fr`.
    pub lang: &'a str,
    /// `yes`/`no`.
    pub consent: &'a str,
    /// Unix ms.
    pub started_ms: u64,
    /// What Twilio says first (the `welcomeGreeting`): the history's first assistant message.
    pub welcome: &'a str,
}

/// What a connection serves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Connection {
    /// The call.
    pub call_sid: CallSid,
    /// The caller.
    pub from: String,
    /// The business number.
    pub to: String,
}

/// A session as read back.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Session {
    /// The call.
    pub call_sid: String,
    /// `VX…`.
    pub session_id: String,
    /// Where replies go.
    pub connection_id: String,
    /// Caller.
    pub from: String,
    /// Business number.
    pub to: String,
    /// `en`/`fr`.
    pub lang: String,
    /// `yes`/`no`.
    pub consent: String,
    /// Unix ms.
    pub started_ms: u64,
    /// Current generation.
    pub generation: u64,
    /// Write counter (the condition of every write).
    pub version: u64,
    /// The conversation (no system message: it is built per turn).
    pub history: Vec<Message>,
    /// Caller prompts so far.
    pub caller_turns: u32,
    /// The slot read back, local `YYYY-MM-DDTHH:MM`.
    pub pending_booking: Option<String>,
    /// The caller turn the read-back happened in.
    pub pending_turn: Option<u32>,
    /// The accepted booking (JSON).
    pub booking: Option<String>,
    /// The `handoffData` sent.
    pub handoff: Option<String>,
    /// Unix ms of `$disconnect`.
    pub ended_ms: Option<u64>,
}

fn pk(sid: &CallSid) -> String {
    format!("conv#{}", sid.as_str())
}

fn session_of(item: &HashMap<String, AttributeValue>) -> Result<Session, Error> {
    let history = match get_s(item, "history") {
        Some(h) => serde_json::from_str(&h).map_err(|e| Error::Corrupt {
            pk: get_s(item, "pk").unwrap_or_default(),
            message: format!("history: {e}"),
        })?,
        None => Vec::new(),
    };
    Ok(Session {
        call_sid: get_s(item, "call_sid").unwrap_or_default(),
        session_id: get_s(item, "session_id").unwrap_or_default(),
        connection_id: get_s(item, "connection_id").unwrap_or_default(),
        from: get_s(item, "from").unwrap_or_default(),
        to: get_s(item, "to").unwrap_or_default(),
        lang: get_s(item, "lang").unwrap_or_else(|| "en".into()),
        consent: get_s(item, "consent").unwrap_or_else(|| "no".into()),
        started_ms: get_n(item, "started_ms").unwrap_or(0),
        generation: get_n(item, "generation").unwrap_or(0),
        version: get_n(item, "version").unwrap_or(0),
        history,
        caller_turns: get_n(item, "caller_turns").unwrap_or(0) as u32,
        pending_booking: get_s(item, "pending_booking"),
        pending_turn: get_n(item, "pending_turn").map(|t| t as u32),
        booking: get_s(item, "booking"),
        handoff: get_s(item, "handoff"),
        ended_ms: get_n(item, "ended_ms"),
    })
}

impl Calls<'_> {
    /// Creates the session once (the claim of the call's relay token) and points the connection
    /// at it. `AlreadyExists` → a replayed or second `setup` for the call: refuse it.
    ///
    /// Errors: [`Error::Dynamo`].
    pub async fn claim_session(&self, st: &SessionStart<'_>, now: u64) -> Result<Claim, Error> {
        let r = self
            .client
            .put_item()
            .table_name(self.table)
            .item("pk", s(pk(st.call_sid)))
            .item("kind", s("conversation"))
            .item("call_sid", s(st.call_sid.as_str()))
            .item("session_id", s(st.session_id))
            .item("connection_id", s(st.connection_id))
            .item("from", s(st.from))
            .item("to", s(st.to))
            .item("lang", s(st.lang))
            .item("consent", s(st.consent))
            .item("started_ms", n(st.started_ms))
            .item("generation", n(0))
            .item("version", n(0))
            .item("caller_turns", n(0))
            .item(
                "history",
                s(serde_json::to_string(&[Message::Assistant {
                    content: Some(st.welcome.to_owned()),
                    tool_calls: Vec::new(),
                }])
                .unwrap_or_else(|_| "[]".into())),
            )
            .item("expires_at", n(now + LIVE_TTL_SECS))
            .condition_expression("attribute_not_exists(pk)")
            .send()
            .await;
        let claim = claim_of(r, "PutItem calls (conversation)")?;
        if claim == Claim::Created {
            self.client
                .put_item()
                .table_name(self.table)
                .item("pk", s(format!("wsconn#{}", st.connection_id)))
                .item("call_sid", s(st.call_sid.as_str()))
                .item("from", s(st.from))
                .item("to", s(st.to))
                .item("expires_at", n(now + CONNECTION_TTL_SECS))
                .send()
                .await
                .map_err(Error::dynamo("PutItem calls (connection)"))?;
        }
        Ok(claim)
    }

    /// The call a connection serves (set at `setup`).
    ///
    /// Errors: [`Error::Dynamo`].
    pub async fn call_of_connection(&self, connection_id: &str) -> Result<Option<CallSid>, Error> {
        Ok(self.connection(connection_id).await?.map(|c| c.call_sid))
    }

    /// The call a connection serves, with its caller and number (set at `setup`; they never
    /// change for a connection, so a warm function may keep them).
    ///
    /// Errors: [`Error::Dynamo`].
    pub async fn connection(&self, connection_id: &str) -> Result<Option<Connection>, Error> {
        let out = self
            .get(&format!("wsconn#{connection_id}"))
            .send()
            .await
            .map_err(Error::dynamo("GetItem calls (connection)"))?;
        Ok(out.item().and_then(|i| {
            Some(Connection {
                call_sid: CallSid::parse(&get_s(i, "call_sid")?).ok()?,
                from: get_s(i, "from").unwrap_or_default(),
                to: get_s(i, "to").unwrap_or_default(),
            })
        }))
    }

    /// The session of `sid` (strongly consistent).
    ///
    /// Errors: [`Error::Dynamo`]; [`Error::Corrupt`] for a history that is not JSON messages.
    pub async fn session(&self, sid: &CallSid) -> Result<Option<Session>, Error> {
        let out = self
            .get(&pk(sid))
            .send()
            .await
            .map_err(Error::dynamo("GetItem calls (conversation)"))?;
        out.item().map(session_of).transpose()
    }

    /// The current generation only (read between streamed phrases; strongly consistent).
    ///
    /// Errors: [`Error::Dynamo`].
    pub async fn generation(&self, sid: &CallSid) -> Result<Option<u64>, Error> {
        let out = self
            .get(&pk(sid))
            .projection_expression("generation")
            .send()
            .await
            .map_err(Error::dynamo("GetItem calls (generation)"))?;
        Ok(out.item().and_then(|i| get_n(i, "generation")))
    }

    /// Read-modify-write of the session: `change` edits a fresh copy (returning `false` to write
    /// nothing); the write is conditional on the version read and, when `at_generation` is
    /// given, on that generation still being current. Retried on a lost race. Returns the session
    /// as written, or `None` when the generation moved on (a newer prompt or an interrupt: the
    /// change is stale) or there is no session.
    ///
    /// Errors: [`Error::Dynamo`]; [`Error::Corrupt`].
    pub async fn update_session(
        &self,
        sid: &CallSid,
        at_generation: Option<u64>,
        mut change: impl FnMut(&mut Session) -> bool,
    ) -> Result<Option<Session>, Error> {
        for _ in 0..MAX_WRITE_ATTEMPTS {
            let Some(mut sess) = self.session(sid).await? else {
                return Ok(None);
            };
            if at_generation.is_some_and(|g| g != sess.generation) {
                return Ok(None);
            }
            let read_version = sess.version;
            if !change(&mut sess) {
                return Ok(Some(sess));
            }
            sess.version = read_version + 1;
            let history = serde_json::to_string(&sess.history).unwrap_or_else(|_| "[]".into());
            let fields: Vec<(&str, String)> = vec![
                (
                    "pending_booking",
                    sess.pending_booking.clone().unwrap_or_default(),
                ),
                ("booking", sess.booking.clone().unwrap_or_default()),
                ("handoff", sess.handoff.clone().unwrap_or_default()),
                ("lang", sess.lang.clone()),
            ];
            let mut u = self
                .update(&pk(sid))
                .condition_expression("version = :read")
                .expression_attribute_values(":read", n(read_version))
                .expression_attribute_values(":ver", n(read_version + 1))
                .expression_attribute_values(":gen", n(sess.generation))
                .expression_attribute_values(":turns", n(u64::from(sess.caller_turns)))
                .expression_attribute_values(":hist", s(history))
                .expression_attribute_values(":pt", n(u64::from(sess.pending_turn.unwrap_or(0))));
            u = crate::item::set_fields(
                u,
                &fields,
                &[
                    "version = :ver",
                    "generation = :gen",
                    "caller_turns = :turns",
                    "history = :hist",
                    "pending_turn = :pt",
                ],
            );
            match u.send().await {
                Ok(_) => return Ok(Some(sess)),
                Err(e) if crate::item::is_conditional(&e) => continue,
                Err(e) => return Err(Error::dynamo("UpdateItem calls (conversation)")(e)),
            }
        }
        Err(Error::Dynamo {
            op: "UpdateItem calls (conversation)",
            message: format!("lost {MAX_WRITE_ATTEMPTS} races in a row"),
        })
    }

    /// `$disconnect`: the session's end instant, once; the connection pointer removed.
    ///
    /// Errors: [`Error::Dynamo`].
    pub async fn end_session(
        &self,
        sid: &CallSid,
        connection_id: &str,
        now_ms: u64,
    ) -> Result<(), Error> {
        let r = self
            .update(&pk(sid))
            .update_expression("SET ended_ms = if_not_exists(ended_ms, :ms)")
            .condition_expression("attribute_exists(pk)")
            .expression_attribute_values(":ms", n(now_ms))
            .send()
            .await;
        claim_of(r, "UpdateItem calls (conversation end)")?;
        self.client
            .delete_item()
            .table_name(self.table)
            .key("pk", s(format!("wsconn#{connection_id}")))
            .send()
            .await
            .map_err(Error::dynamo("DeleteItem calls (connection)"))?;
        Ok(())
    }

    /// After the call (the Connect action): with consent the transcript is kept for 90 days;
    /// without, the history is removed now (issue 28 §6). Idempotent.
    ///
    /// Errors: [`Error::Dynamo`].
    pub async fn settle_transcript(
        &self,
        sid: &CallSid,
        consent: bool,
        now: u64,
    ) -> Result<(), Error> {
        let u = self
            .update(&pk(sid))
            .condition_expression("attribute_exists(pk)");
        let u = if consent {
            u.update_expression("SET expires_at = :exp")
                .expression_attribute_values(":exp", n(now + TRANSCRIPT_TTL_SECS))
        } else {
            u.update_expression("REMOVE history")
        };
        claim_of(u.send().await, "UpdateItem calls (transcript)")?;
        Ok(())
    }
}
