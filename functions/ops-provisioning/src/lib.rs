//! Number provisioning on the ops API, behind `AWS_IAM` authorization (the handler checks again
//! that an IAM principal is present, 403 otherwise):
//!
//! - `POST /ops/numbers/onboard` — `{org_id, business_name, country: "CA"|"US", area_code?,
//!   sales_target?, support_target?, language?}` → 201 `{transaction_id, e164, phone_sid,
//!   matched_by, voice_url, voice_fallback_url, status_callback, sms_url}`. Requires an
//!   `Idempotency-Key` header ([`telephony_aws::idempotency`]); runs the saga of
//!   [`telephony_aws::provisioning`].
//!
//! Errors are `{"error": {"code", "message"}}`: 400 bad input, 404 unknown route, 409 busy org /
//! no number / key in flight, 422 key reused with another body, 502 rolled back after a Twilio or
//! store failure, 503 a table unreachable or not configured. Never Twilio's raw body.

use serde_json::{json, Value};
use telephony_aws::http::{Method, StatusCode};
use telephony_aws::idempotency::{self, Idempotency};
use telephony_aws::provisioning::{self, OnboardError, OnboardRequest, Saga};
use telephony_aws::{glue, Body, Deps, Request, Response};

/// Every `(method, path)` this function serves (template.yaml declares the same; a test checks).
pub const ROUTES: [(&str, &str); 1] = [("POST", "/ops/numbers/onboard")];

fn error(status: StatusCode, code: &str, message: &str) -> Response<Body> {
    glue::json(
        status,
        &json!({ "error": { "code": code, "message": message } }),
    )
}

fn body_bytes(req: &Request) -> &[u8] {
    match req.body() {
        Body::Text(t) => t.as_bytes(),
        Body::Binary(b) => b,
        Body::Empty => b"",
    }
}

/// Handles one request.
pub async fn handler(deps: &Deps, req: Request) -> Response<Body> {
    let Some(principal) = telephony_aws::event::caller(&req).iam_principal else {
        return error(
            StatusCode::FORBIDDEN,
            "forbidden",
            "an IAM-signed request is required",
        );
    };
    if (req.method(), req.uri().path()) != (&Method::POST, "/ops/numbers/onboard") {
        return error(StatusCode::NOT_FOUND, "not_found", "no such route");
    }
    let c = &deps.config;
    let (Some(tx_table), Some(idem_table)) = (&c.transactions_table, &c.idempotency_table) else {
        return error(
            StatusCode::SERVICE_UNAVAILABLE,
            "not_configured",
            "TRANSACTIONS_TABLE and IDEMPOTENCY_TABLE must be set",
        );
    };
    let key = req
        .headers()
        .get("idempotency-key")
        .and_then(|v| v.to_str().ok());
    let body = body_bytes(&req);
    let scope = format!("{principal}#POST /ops/numbers/onboard");
    let idem = Idempotency::new(&deps.dynamo, idem_table);
    let now = telephony_aws::now_secs();
    idempotency::respond(&idem, &scope, key, body, now * 1000, || async {
        onboard(deps, tx_table, body, &principal, now).await
    })
    .await
}

async fn onboard(
    deps: &Deps,
    tx_table: &str,
    body: &[u8],
    principal: &str,
    now: u64,
) -> (StatusCode, Value) {
    let bad = |code: &str, m: String| {
        (
            StatusCode::BAD_REQUEST,
            json!({ "error": { "code": code, "message": m } }),
        )
    };
    let request: OnboardRequest = match serde_json::from_slice(body) {
        Ok(r) => r,
        Err(e) => return bad("bad_json", e.to_string()),
    };
    let plan = match provisioning::validate(&request) {
        Ok(p) => p,
        Err(m) => return bad("invalid", m),
    };
    let twilio = match deps.twilio() {
        Ok(t) => t,
        Err(e) => {
            return (
                StatusCode::SERVICE_UNAVAILABLE,
                json!({ "error": { "code": "twilio_unavailable", "message": e.to_string() } }),
            )
        }
    };
    let c = &deps.config;
    let saga = Saga {
        dynamo: &deps.dynamo,
        twilio,
        transactions_table: tx_table,
        numbers_table: &c.numbers_table,
        public_base_url: &c.public_base_url,
        messaging_service_sid: c.messaging_service_sid.as_deref(),
    };
    match saga.onboard(&plan, principal, now).await {
        Ok(done) => (
            StatusCode::CREATED,
            serde_json::to_value(done).unwrap_or_default(),
        ),
        Err(e) => {
            let (status, code) = match &e {
                OnboardError::Busy(_) => (StatusCode::CONFLICT, "onboarding_in_progress"),
                OnboardError::NoNumber(_) => (StatusCode::CONFLICT, "no_number_available"),
                OnboardError::RolledBack { .. } => (StatusCode::BAD_GATEWAY, "rolled_back"),
                OnboardError::Store(_) => (StatusCode::SERVICE_UNAVAILABLE, "store_unavailable"),
            };
            tracing::warn!(org = %plan.org_id, error = %e, "onboarding did not complete");
            (
                status,
                json!({ "error": { "code": code, "message": e.to_string() } }),
            )
        }
    }
}
