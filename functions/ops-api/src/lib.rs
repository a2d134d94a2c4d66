//! The ops API, behind `AWS_IAM` authorization on the HTTP API; the handler checks again that an
//! IAM principal is present (403 otherwise), so a misconfigured route cannot open it:
//!
//! - `GET /ops/calls/active` — calls in progress;
//! - `GET /ops/voicemails?status=new|acked` — voicemails by state (default `new`);
//! - `POST /ops/voicemails/{RecordingSid}/ack` — acknowledge once (conditional update);
//! - `GET /ops/metrics/summary` — the nine monitoring views for 1 h, 24 h and 7 days;
//! - `PUT /ops/contacts/{org}/{e164}` — `{first_name, language?, notes_ref?, retention_days?}`:
//!   create or replace a known caller (idempotent by nature: the same body twice leaves the same
//!   item); `GET` reads it; `DELETE` removes it at once (privacy requests). 503 without
//!   `CONTACTS_TABLE`;
//! - `POST /ops/privacy/{find|export|erase}` — `{number, org?, dry_run?}` with an
//!   `Idempotency-Key`: a privacy request for one caller (issue 25,
//!   [`json_api::privacy::answer`]); `GET /ops/privacy/requests/{id}` — its audit record.
//!
//! Errors are `{"error": {"code", "message"}}` ([`json_api::ApiError`]).

use json_api::request::{iam_principal, idempotency_key, json_body, query};
use json_api::{Answer, ApiError, Matched, Table};
use serde_json::json;
use telephony_aws::calls::{Ack, VOICEMAIL_ACKED, VOICEMAIL_NEW};
use telephony_aws::http::StatusCode;
use telephony_aws::{now_secs, ops, Body, Deps, Request, Response};
use telephony_core::RecordingSid;

/// The environment variables this function reads ([`telephony_aws::Needs`]; `template.yaml`
/// sets exactly these on it, `tests/tests/settings.rs` checks).
pub const NEEDS: telephony_aws::Needs = telephony_aws::Needs {
    base: None,
    groups: &[
        &telephony_aws::needs::NUMBERS,
        &telephony_aws::needs::NUMBER_DEFAULTS,
        &telephony_aws::needs::CALLS,
        &telephony_aws::needs::HOTLINE,
        &telephony_aws::needs::KNOWN_CALLERS,
        &telephony_aws::needs::TRANSACTIONS,
        &telephony_aws::needs::PRIVACY,
    ],
};

/// What a route does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    /// Calls in progress.
    ActiveCalls,
    /// Voicemails by state.
    Voicemails,
    /// Acknowledge a voicemail.
    AckVoicemail,
    /// The monitoring summary.
    Summary,
    /// Create or replace a known caller.
    PutContact,
    /// Read a known caller.
    GetContact,
    /// Remove a known caller.
    DeleteContact,
    /// A privacy request (`find`, `export`, `erase`: the path's last segment).
    Privacy,
    /// A privacy request's audit record.
    PrivacyRequest,
}

/// Every `(method, path)` the API serves (template.yaml declares the same, a test checks).
pub const ROUTES: &Table<Op> = &[
    ("GET", "/ops/calls/active", Op::ActiveCalls),
    ("GET", "/ops/voicemails", Op::Voicemails),
    (
        "POST",
        "/ops/voicemails/{RecordingSid}/ack",
        Op::AckVoicemail,
    ),
    ("GET", "/ops/metrics/summary", Op::Summary),
    ("PUT", "/ops/contacts/{org}/{e164}", Op::PutContact),
    ("GET", "/ops/contacts/{org}/{e164}", Op::GetContact),
    ("DELETE", "/ops/contacts/{org}/{e164}", Op::DeleteContact),
    ("POST", "/ops/privacy/find", Op::Privacy),
    ("POST", "/ops/privacy/export", Op::Privacy),
    ("POST", "/ops/privacy/erase", Op::Privacy),
    ("GET", "/ops/privacy/requests/{id}", Op::PrivacyRequest),
];

/// Handles one request: 403 without an IAM principal; 404 for unknown routes; 400 for bad ids or
/// states; 503 when DynamoDB fails.
pub async fn handler(deps: &Deps, req: Request) -> Response<Body> {
    let answer = match (
        iam_principal(&req),
        json_api::route(ROUTES, req.method(), req.uri().path()),
    ) {
        (Err(e), _) | (_, Err(e)) => Err(e),
        (Ok(principal), Ok(m)) => run(deps, &req, &m, &principal, now_secs()).await,
    };
    if let Err(e) = &answer {
        if e.status.is_server_error() {
            tracing::error!(path = req.uri().path(), error = %e, "ops request failed");
        }
    }
    json_api::answer::respond(answer)
}

/// A store failure of these routes: 503 `store_unavailable` "storage unavailable".
fn store(e: telephony_aws::Error) -> ApiError {
    tracing::error!(error = %e, "ops store failed");
    ApiError::unavailable("store_unavailable", "storage unavailable")
}

fn ok(v: serde_json::Value) -> Answer {
    Ok((StatusCode::OK, v))
}

async fn run(deps: &Deps, req: &Request, m: &Matched<'_, Op>, principal: &str, now: u64) -> Answer {
    match m.op {
        Op::ActiveCalls => {
            let calls = ops::active_calls(deps, now).await.map_err(store)?;
            ok(json!({ "count": calls.len(), "calls": calls }))
        }
        Op::Voicemails => voicemails(deps, req, now).await,
        Op::AckVoicemail => ack(deps, m.param("RecordingSid"), principal, now).await,
        Op::Summary => ok(ops::summary(deps, now).await.map_err(store)?),
        Op::Privacy => {
            let action = req.uri().path().rsplit('/').next().unwrap_or("");
            let body = req.body().as_ref();
            let asker = json_api::privacy::Asker::Operator;
            json_api::privacy::answer(
                deps,
                action,
                body,
                idempotency_key(req),
                asker,
                principal,
                now,
            )
            .await
        }
        Op::PrivacyRequest => privacy_request(deps, m.param("id")).await,
        Op::PutContact | Op::GetContact | Op::DeleteContact => {
            contact(deps, req, m, principal, now).await
        }
    }
}

/// `GET /ops/voicemails?status=new|acked`.
async fn voicemails(deps: &Deps, req: &Request, now: u64) -> Answer {
    let state = query(req, "status").unwrap_or_else(|| VOICEMAIL_NEW.to_owned());
    if state != VOICEMAIL_NEW && state != VOICEMAIL_ACKED {
        return Err(ApiError::bad_request(
            "invalid",
            "status must be new or acked",
        ));
    }
    let v = ops::voicemails(deps, &state, 0, now).await.map_err(store)?;
    ok(json!({ "status": state, "count": v.len(), "voicemails": v }))
}

/// `POST /ops/voicemails/{RecordingSid}/ack`: once (`acked`), then `already_acked`; 404 unknown.
async fn ack(deps: &Deps, sid: &str, principal: &str, now: u64) -> Answer {
    let rec =
        RecordingSid::parse(sid).map_err(|e| ApiError::bad_request("invalid", e.to_string()))?;
    let ack = deps
        .calls()
        .ack_voicemail(&rec, principal, now)
        .await
        .map_err(store)?;
    let status = match ack {
        Ack::Acked => "acked",
        Ack::AlreadyAcked => "already_acked",
        Ack::NotFound => return Err(ApiError::not_found("no such voicemail")),
    };
    ok(json!({ "recording_sid": rec.as_str(), "status": status }))
}

/// `GET /ops/privacy/requests/{id}`: the audit record, 404 when unknown, 400 for a malformed id.
async fn privacy_request(deps: &Deps, id: &str) -> Answer {
    if !telephony_core::privacy::is_request_id(id) {
        return Err(ApiError::bad_request(
            "invalid",
            "a request id is PR and 32 hex digits",
        ));
    }
    match telephony_aws::privacy::request(deps, id).await {
        Ok(Some(v)) => ok(v),
        Ok(None) => Err(ApiError::not_found("no such request")),
        Err(e) => Err(ApiError::store(&e)),
    }
}

/// `PUT|GET|DELETE /ops/contacts/{org}/{e164}`.
async fn contact(
    deps: &Deps,
    req: &Request,
    m: &Matched<'_, Op>,
    principal: &str,
    now: u64,
) -> Answer {
    let table = deps
        .config
        .contacts_table
        .as_deref()
        .ok_or_else(|| ApiError::not_configured("CONTACTS_TABLE is not set"))?;
    let org = m.param("org");
    telephony_core::ids::check_org_id(org).map_err(|m| ApiError::bad_request("invalid", m))?;
    let caller = telephony_core::E164::parse_path_segment(m.param("e164"))
        .and_then(|c| c.check_dialable().map(|()| c))
        .map_err(|e| ApiError::bad_request("invalid", format!("e164: {e}")))?;
    let contacts = telephony_aws::contacts::Contacts {
        dynamo: deps.dynamo(),
        table,
    };
    let e164 = caller.as_str();
    match m.op {
        Op::GetContact => match contacts.get(org, &caller, now).await.map_err(store)? {
            Some(c) => ok(json!({ "org": org, "e164": e164, "contact": c })),
            None => Err(ApiError::not_found("no such contact")),
        },
        Op::DeleteContact => {
            contacts.delete(org, &caller).await.map_err(store)?;
            ok(json!({ "org": org, "e164": e164, "deleted": true }))
        }
        _ => {
            let write: telephony_aws::contacts::ContactWrite = json_body(req, false)?;
            write
                .check()
                .map_err(|m| ApiError::bad_request("invalid", m))?;
            let expires_at = contacts
                .put(org, &caller, &write, principal, now)
                .await
                .map_err(store)?;
            ok(json!({ "org": org, "e164": e164, "expires_at": expires_at }))
        }
    }
}
