//! `POST /voice-action`, the AI bridge's tool calls (issue 12; seed `004`: the AI's tools arrive
//! next to Twilio's callbacks). JSON in, JSON out; not a Twilio webhook, so no Twilio signature:
//! the bridge authenticates with the stream token of the live call it serves
//! (`Authorization: Bearer v1.<CallSid>.<expiry>.<hex>`, the `token` `<Parameter>` of the
//! `<Stream>`, see [`telephony_core::stream`]).
//!
//! Body: `{"call_sid": "CA…", "tool": "…", "tool_call_id": "…", "arguments": {…}}`.
//! - `book_appointment` `{caller_name, callback (E.164), window_start, window_end (RFC 3339),
//!   reason}` (a window that has already ended: 400 `in_the_past`) → an appointment *request* stored once per `tool_call_id` within the call, and one
//!   staff notice (SNS, the number's voicemail topic; `type: appointment_request`).
//! - `take_message` `{message, caller_name?, callback?}` → stored once, one staff notice like a
//!   voicemail notice (`type: message`).
//! - `transfer_to_human` `{reason?}` → recorded on the call; the bridge then ends the stream and
//!   the Connect action (`/voice-stream-action`) dials the team.
//!
//! Answers: 200 `{"status": "accepted"|"duplicate", "tool", "tool_call_id", "next"?}`; 400 for
//! malformed JSON, bad arguments or an unknown tool (with `supported`); 401 for a missing, forged,
//! expired or other call's token (an expired token is still accepted while the call's stream is
//! live: a conversation may outlast the token's 3 minutes); 413 over 64 KiB; 503 when stream
//! tokens are not configured or storage fails (the bridge may retry: every effect is idempotent).

use json_api::request::{bearer_token, json_body, MAX_JSON_BYTES};
use json_api::{Answer, ApiError, Table};
use serde::Deserialize;
use serde_json::json;
use telephony_aws::calls::Claim;
use telephony_aws::http::{Method, StatusCode};
use telephony_aws::tools::{self, ToolEffect};
use telephony_aws::{metrics, now_secs, Body, Deps, Error, Request, Response};
use telephony_core::stream::{self, TokenError, Tool, ToolArgs, ToolError, ToolKind};
use telephony_core::CallSid;

/// The environment variables this function reads ([`telephony_aws::Needs`]; `template.yaml`
/// sets exactly these on it, `tests/tests/settings.rs` checks).
pub const NEEDS: telephony_aws::Needs = telephony_aws::Needs {
    base: None,
    groups: &[
        &telephony_aws::needs::NUMBERS,
        &telephony_aws::needs::NUMBER_DEFAULTS,
        &telephony_aws::needs::CALLS,
        &telephony_aws::needs::STREAM_TOKENS,
        &telephony_aws::needs::VOICEMAIL_NOTICES,
    ],
};

/// Every `(method, path)` this function serves (template.yaml declares the same; a test checks).
pub const ROUTES: &Table<()> = &[("POST", "/voice-action", ())];

/// The request body.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ToolCall {
    /// The call the bridge serves (the token's CallSid).
    pub call_sid: String,
    /// One of [`stream::SUPPORTED_TOOLS`].
    pub tool: String,
    /// The AI's id of this call of the tool (1–128 of `A-Z a-z 0-9 _ - . :`): the idempotency
    /// key within the call.
    pub tool_call_id: String,
    /// The tool's arguments.
    #[serde(default)]
    pub arguments: serde_json::Value,
}

fn id_ok(id: &str) -> bool {
    (1..=128).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.' | b':'))
}

/// Handles one request (module docs).
pub async fn handler(deps: &Deps, req: Request) -> Response<Body> {
    json_api::answer::respond(run(deps, &req).await)
}

async fn run(deps: &Deps, req: &Request) -> Answer {
    if req.method() != Method::POST {
        return Err(ApiError::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "method_not_allowed",
            "POST only",
        ));
    }
    if req.body().as_ref().len() > MAX_JSON_BYTES {
        return Err(ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "too_large",
            "bodies are limited to 64 KiB",
        ));
    }
    let secret = deps.config.stream_secret.as_ref().ok_or_else(|| {
        ApiError::not_configured("stream tokens are not configured (STREAM_SECRET)")
    })?;
    let token = bearer_token(req).ok_or_else(|| {
        ApiError::new(
            StatusCode::UNAUTHORIZED,
            "missing_token",
            "Authorization: Bearer <stream token> is required",
        )
    })?;
    let call: ToolCall = json_body(req, false)?;
    let invalid = |m: &str| ApiError::bad_request("invalid", m);
    let sid = CallSid::parse(&call.call_sid)
        .map_err(|_| invalid("call_sid must be CA followed by 32 hex digits"))?;
    match stream::verify(secret.0.as_bytes(), token, sid.as_str(), now_secs()) {
        Ok(()) => {}
        Err(TokenError::Expired) => match deps.calls().stream_record(&sid).await {
            Ok(Some(r)) if r.live(telephony_aws::now_ms()) => {}
            Ok(_) => return Err(refused(&sid, TokenError::Expired)),
            Err(e) => return Err(unavailable(&sid, &e)),
        },
        Err(e) => return Err(refused(&sid, e)),
    }
    if !id_ok(&call.tool_call_id) {
        return Err(invalid(
            "tool_call_id must be 1-128 characters of A-Z a-z 0-9 _ - . :",
        ));
    }
    let args = call.arguments.clone();
    let tool = Tool::from_call(&call.tool, |kind| match kind {
        ToolKind::BookAppointment => serde_json::from_value(args).map(ToolArgs::BookAppointment),
        ToolKind::TakeMessage => serde_json::from_value(args).map(ToolArgs::TakeMessage),
        ToolKind::TransferToHuman => {
            let args = if args.is_null() { json!({}) } else { args };
            serde_json::from_value(args).map(ToolArgs::TransferToHuman)
        }
    });
    let tool = match tool {
        Ok(t) => t,
        Err(e @ ToolError::Unknown(_)) => {
            return Err(ApiError::bad_request("unknown_tool", e.to_string())
                .with_field("supported", stream::SUPPORTED_TOOLS.to_vec()))
        }
        Err(e) => return Err(invalid(&e.to_string())),
    };
    tool.check_at(now_secs() as i64)
        .map_err(|e| ApiError::bad_request("in_the_past", e.to_string()))?;
    match act(deps, &sid, &call, &tool).await {
        Ok(reply) => Ok((StatusCode::OK, reply)),
        Err(e) => Err(unavailable(&sid, &e)),
    }
}

fn refused(sid: &CallSid, e: TokenError) -> ApiError {
    tracing::warn!(call_sid = %sid, reason = %e, "tool call refused");
    metrics::count("ToolCallsRefused", None);
    ApiError::new(StatusCode::UNAUTHORIZED, "bad_token", e.to_string())
}

fn unavailable(sid: &CallSid, e: &Error) -> ApiError {
    tracing::error!(call_sid = %sid, error = %e, "tool call not completed");
    metrics::count("DependencyErrors", Some(("Dependency", e.dependency())));
    ApiError::unavailable(
        "unavailable",
        "storage or notification failed; retry with the same tool_call_id",
    )
}

async fn act(
    deps: &Deps,
    sid: &CallSid,
    call: &ToolCall,
    tool: &Tool,
) -> Result<serde_json::Value, Error> {
    let now = now_secs();
    let calls = deps.calls();
    let (details, kind, subject) = match tool {
        Tool::TransferToHuman(args) => {
            calls.request_transfer(sid, now).await?;
            metrics::count("ToolCalls", Some(("Tool", tool.name())));
            tracing::info!(call_sid = %sid, "AI asked for a person");
            tracing::debug!(call_sid = %sid, reason = ?args.reason, "the caller's stated reason (free text)");
            return Ok(json!({
                "status": "accepted",
                "tool": tool.name(),
                "tool_call_id": call.tool_call_id,
                "next": "end the stream; the Connect action then dials the team",
            }));
        }
        Tool::BookAppointment { args, .. } => (
            json!({
                "caller_name": args.caller_name,
                "callback": args.callback,
                "window_start": args.window_start,
                "window_end": args.window_end,
                "reason": args.reason,
            }),
            "appointment_request",
            "Appointment request from",
        ),
        Tool::TakeMessage(m) => (
            json!({
                "caller_name": m.caller_name,
                "callback": m.callback,
                "message": m.message,
            }),
            "message",
            "Message taken by the AI for",
        ),
    };
    let record = calls.stream_record(sid).await?.unwrap_or_default();
    let effect = ToolEffect {
        tool: tool.name(),
        kind,
        subject,
        tool_call_id: &call.tool_call_id,
        caller: record.from.as_deref(),
        dialled: record.to.as_deref(),
        details,
    };
    let stored = tools::record_once(deps, sid, &effect, now).await?;
    Ok(json!({
        "status": if stored == Claim::Created { "accepted" } else { "duplicate" },
        "tool": tool.name(),
        "tool_call_id": call.tool_call_id,
    }))
}
