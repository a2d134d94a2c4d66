//! `/voice-health` (GET, spec §3): configuration loaded, each table `ACTIVE`, the bucket and the
//! topics reachable → 200 `{"status":"healthy",…}`; otherwise 503 with the failing checks.
//! No Twilio signature (it is not a Twilio webhook) and no secrets in the answer.

use serde_json::json;
use telephony_aws::glue::plain;
use telephony_aws::http::{Method, StatusCode};
use telephony_aws::{health, Body, Deps, Request, Response};

/// The environment variables this function reads ([`telephony_aws::Needs`]; `template.yaml`
/// sets exactly these on it, `tests/tests/settings.rs` checks).
pub const NEEDS: telephony_aws::Needs = telephony_aws::Needs {
    base: Some(&telephony_aws::needs::CALLBACK),
    groups: &[
        &telephony_aws::needs::TEXTING,
        &telephony_aws::needs::RECORDINGS,
        &telephony_aws::needs::VOICEMAIL_NOTICES,
        &telephony_aws::needs::SMS_NOTICES,
    ],
};

/// Handles one request: GET → 200/503 JSON; other methods → 405.
pub async fn handler(deps: &Deps, req: Request) -> Response<Body> {
    if req.method() != Method::GET && req.method() != Method::HEAD {
        return plain(StatusCode::METHOD_NOT_ALLOWED, "method not allowed");
    }
    let (checks, healthy) = health::check(deps).await;
    let status = if healthy {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    json_api::json(
        status,
        &json!({ "status": if healthy { "healthy" } else { "unhealthy" }, "checks": checks }),
    )
}
