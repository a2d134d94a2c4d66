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
//!   [`telephony_aws::privacy::answer`]); `GET /ops/privacy/requests/{id}` — its audit record.

use serde_json::json;
use telephony_aws::glue;
use telephony_aws::http::{Method, StatusCode};
use telephony_aws::store::{Ack, VOICEMAIL_ACKED, VOICEMAIL_NEW};
use telephony_aws::{now_secs, ops, Body, Deps, Error, Request, Response};
use telephony_core::{Params, RecordingSid};

/// Every `(method, path)` the API serves (template.yaml declares the same, a test checks).
pub const ROUTES: [(&str, &str); 11] = [
    ("GET", "/ops/calls/active"),
    ("GET", "/ops/voicemails"),
    ("POST", "/ops/voicemails/{RecordingSid}/ack"),
    ("GET", "/ops/metrics/summary"),
    ("PUT", "/ops/contacts/{org}/{e164}"),
    ("GET", "/ops/contacts/{org}/{e164}"),
    ("DELETE", "/ops/contacts/{org}/{e164}"),
    ("POST", "/ops/privacy/find"),
    ("POST", "/ops/privacy/export"),
    ("POST", "/ops/privacy/erase"),
    ("GET", "/ops/privacy/requests/{id}"),
];

/// The IAM principal API Gateway authenticated (`userArn`, else `callerId`), if any.
pub fn iam_principal(req: &Request) -> Option<String> {
    telephony_aws::event::caller(req).iam_principal
}

fn error(status: StatusCode, message: &str) -> Response<Body> {
    glue::json(status, &json!({ "error": message }))
}

/// Handles one request: 403 without an IAM principal; 404 for unknown routes; 400 for bad ids or
/// states; 503 when DynamoDB fails.
pub async fn handler(deps: &Deps, req: Request) -> Response<Body> {
    let Some(principal) = iam_principal(&req) else {
        return error(StatusCode::FORBIDDEN, "an IAM-signed request is required");
    };
    let now = now_secs();
    let segments: Vec<&str> = req.uri().path().trim_matches('/').split('/').collect();
    let result: Result<Response<Body>, Error> = match (req.method().clone(), segments.as_slice()) {
        (Method::GET, ["ops", "calls", "active"]) => {
            ops::active_calls(deps, now).await.map(|calls| {
                glue::json(
                    StatusCode::OK,
                    &json!({ "count": calls.len(), "calls": calls }),
                )
            })
        }
        (Method::GET, ["ops", "voicemails"]) => {
            let query =
                Params::from_form(req.uri().query().unwrap_or("").as_bytes()).unwrap_or_default();
            match query.get("status").unwrap_or(VOICEMAIL_NEW) {
                state @ (VOICEMAIL_NEW | VOICEMAIL_ACKED) => {
                    ops::voicemails(deps, state, 0, now).await.map(|v| {
                        glue::json(
                            StatusCode::OK,
                            &json!({ "status": state, "count": v.len(), "voicemails": v }),
                        )
                    })
                }
                _ => Ok(error(
                    StatusCode::BAD_REQUEST,
                    "status must be new or acked",
                )),
            }
        }
        (Method::POST, ["ops", "voicemails", sid, "ack"]) => match RecordingSid::parse(sid) {
            Err(e) => Ok(error(StatusCode::BAD_REQUEST, &e.to_string())),
            Ok(rec) => {
                deps.calls()
                    .ack_voicemail(&rec, &principal, now)
                    .await
                    .map(|ack| match ack {
                        Ack::Acked => glue::json(
                            StatusCode::OK,
                            &json!({ "recording_sid": rec.as_str(), "status": "acked" }),
                        ),
                        Ack::AlreadyAcked => glue::json(
                            StatusCode::OK,
                            &json!({ "recording_sid": rec.as_str(), "status": "already_acked" }),
                        ),
                        Ack::NotFound => error(StatusCode::NOT_FOUND, "no such voicemail"),
                    })
            }
        },
        (Method::GET, ["ops", "metrics", "summary"]) => ops::summary(deps, now)
            .await
            .map(|s| glue::json(StatusCode::OK, &s)),
        (Method::POST, ["ops", "privacy", action]) => {
            let key = req
                .headers()
                .get("idempotency-key")
                .and_then(|v| v.to_str().ok());
            let (status, v) = telephony_aws::privacy::answer(
                deps,
                action,
                req.body().as_ref(),
                key,
                None,
                &principal,
                now,
            )
            .await;
            Ok(glue::json(status, &v))
        }
        (Method::GET, ["ops", "privacy", "requests", id]) => Ok(privacy_request(deps, id).await),
        (method, ["ops", "contacts", org, number]) => {
            contact(deps, &req, method, org, number, &principal, now).await
        }
        _ => Ok(error(StatusCode::NOT_FOUND, "no such route")),
    };
    result.unwrap_or_else(|e| {
        tracing::error!(path = req.uri().path(), error = %e, "ops request failed");
        error(StatusCode::SERVICE_UNAVAILABLE, "storage unavailable")
    })
}

/// `GET /ops/privacy/requests/{id}`: the audit record, 404 when unknown, 400 for a malformed id.
async fn privacy_request(deps: &Deps, id: &str) -> Response<Body> {
    if !telephony_core::privacy::is_request_id(id) {
        return error(
            StatusCode::BAD_REQUEST,
            "a request id is PR and 32 hex digits",
        );
    }
    match telephony_aws::privacy::request(deps, id).await {
        Ok(Some(v)) => glue::json(StatusCode::OK, &v),
        Ok(None) => error(StatusCode::NOT_FOUND, "no such request"),
        Err(e) => error(StatusCode::SERVICE_UNAVAILABLE, &e.to_string()),
    }
}

/// `PUT|GET|DELETE /ops/contacts/{org}/{e164}`.
async fn contact(
    deps: &Deps,
    req: &Request,
    method: Method,
    org: &str,
    raw_number: &str,
    principal: &str,
    now: u64,
) -> Result<Response<Body>, Error> {
    let Some(table) = deps.config.contacts_table.as_deref() else {
        return Ok(error(
            StatusCode::SERVICE_UNAVAILABLE,
            "CONTACTS_TABLE is not set",
        ));
    };
    if let Err(m) = telephony_aws::provisioning::check_org_id(org) {
        return Ok(error(StatusCode::BAD_REQUEST, &m));
    }
    let caller = match telephony_core::E164::parse_path_segment(raw_number)
        .and_then(|c| c.check_dialable().map(|()| c))
    {
        Ok(c) => c,
        Err(e) => return Ok(error(StatusCode::BAD_REQUEST, &format!("e164: {e}"))),
    };
    let contacts = telephony_aws::contacts::Contacts {
        dynamo: &deps.dynamo,
        table,
    };
    match method {
        Method::GET => Ok(match contacts.get(org, &caller, now).await? {
            Some(c) => glue::json(
                StatusCode::OK,
                &json!({ "org": org, "e164": caller.as_str(), "contact": c }),
            ),
            None => error(StatusCode::NOT_FOUND, "no such contact"),
        }),
        Method::DELETE => {
            contacts.delete(org, &caller).await?;
            Ok(glue::json(
                StatusCode::OK,
                &json!({ "org": org, "e164": caller.as_str(), "deleted": true }),
            ))
        }
        Method::PUT => {
            let body = req.body().as_ref();
            let write: telephony_aws::contacts::ContactWrite = match serde_json::from_slice(body) {
                Ok(w) => w,
                Err(e) => return Ok(error(StatusCode::BAD_REQUEST, &e.to_string())),
            };
            if let Err(m) = write.check() {
                return Ok(error(StatusCode::BAD_REQUEST, &m));
            }
            let expires_at = contacts.put(org, &caller, &write, principal, now).await?;
            Ok(glue::json(
                StatusCode::OK,
                &json!({ "org": org, "e164": caller.as_str(), "expires_at": expires_at }),
            ))
        }
        _ => Ok(error(StatusCode::NOT_FOUND, "no such route")),
    }
}
