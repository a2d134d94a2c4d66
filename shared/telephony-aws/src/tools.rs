//! The AI's tool effects that reach staff (issue 12, issue 28 §4): an appointment request or a
//! message, stored once per tool call id (`tool#<CallSid>#<id>`) and announced once (SNS, the
//! number's staff topic). Shared by the external bridge's `/voice-action` and the built-in
//! receptionist, so both tell staff the same way.

use crate::calls::Claim;
use crate::error::Error;
use crate::notifier::{self, NoticeAbout};
use crate::streams::tool_pk;
use crate::{metrics, Deps};
use telephony_core::CallSid;

/// One effect to record.
#[derive(Debug, Clone)]
pub struct ToolEffect<'a> {
    /// The tool's name (the `Tool` dimension of `ToolCalls`).
    pub tool: &'static str,
    /// Notice `type`: `appointment_request`, `message`.
    pub kind: &'static str,
    /// Notice subject lead, e.g. `Appointment request from`.
    pub subject: &'static str,
    /// The model's id of this call: the idempotency key within the call.
    pub tool_call_id: &'a str,
    /// The caller (`From`).
    pub caller: Option<&'a str>,
    /// The business number (`To`): its topic.
    pub dialled: Option<&'a str>,
    /// What staff need (flattened into the notice).
    pub details: serde_json::Value,
}

/// The staff notice.
#[derive(Debug, serde::Serialize)]
struct ToolNotice<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    call_sid: &'a str,
    tool_call_id: &'a str,
    caller: Option<&'a str>,
    dialled: Option<&'a str>,
    #[serde(flatten)]
    details: &'a serde_json::Value,
}

/// Stores `effect` once and sends its notice once (a retry after a failed publish sends it):
/// `Created` the first time, `AlreadyExists` for a repeat of the same tool call id.
///
/// Errors: [`Error::Dynamo`], [`Error::Sns`] (the caller may retry with the same id).
pub async fn record_once(
    deps: &Deps,
    sid: &CallSid,
    effect: &ToolEffect<'_>,
    now: u64,
) -> Result<Claim, Error> {
    let stored = deps
        .calls()
        .claim_tool_call(
            effect.tool_call_id,
            sid,
            effect.tool,
            &effect.details.to_string(),
            now,
        )
        .await?;
    if stored == Claim::Created {
        metrics::count("ToolCalls", Some(("Tool", effect.tool)));
    }
    let pk = tool_pk(sid, effect.tool_call_id);
    let notice = ToolNotice {
        kind: effect.kind,
        call_sid: sid.as_str(),
        tool_call_id: effect.tool_call_id,
        caller: effect.caller,
        dialled: effect.dialled,
        details: &effect.details,
    };
    let about = NoticeAbout {
        pk: &pk,
        caller: effect.caller,
        dialled: effect.dialled,
    };
    notifier::notify_item_once(deps, &about, "notified_at", effect.subject, &notice, now).await?;
    Ok(stored)
}
