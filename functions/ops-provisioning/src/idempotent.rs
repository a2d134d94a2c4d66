//! The idempotency protocol of the state-changing routes over HTTP (spec §5; the store is
//! [`provisioning::idempotency`]).

use json_api::{json, ApiError};
use provisioning::idempotency::{payload_hash, Claim, Idempotency, IdempotencyKey, StoredResponse};
use serde_json::Value;
use telephony_aws::http::{HeaderValue, StatusCode};
use telephony_aws::{Body, Response};

/// Runs `run` at most once per key: the whole idempotency protocol of an ops route in one place.
/// `key` is the `Idempotency-Key` header (required: 400 without it), `scope` the principal and
/// route, `body` the raw request body. `run` gives the status and JSON body; an answer below 500
/// is stored and replayed, a 5xx gives the key back so a retry runs again.
///
/// Answers: the run's, a replay (with `Idempotent-Replayed: true`), 409 while the first run
/// is in flight, 422 for a changed body, 503 when the table cannot be reached.
pub async fn respond<F, Fut>(
    idem: &Idempotency<'_>,
    scope: &str,
    key: Option<&str>,
    body: &[u8],
    now_ms: u64,
    run: F,
) -> Response<Body>
where
    F: FnOnce() -> Fut,
    Fut: std::future::Future<Output = (StatusCode, Value)>,
{
    let err = |status, code, message: &str| ApiError::new(status, code, message).into_response();
    let key = match key.map(IdempotencyKey::parse) {
        None => {
            return err(
                StatusCode::BAD_REQUEST,
                "idempotency_key_required",
                "send an Idempotency-Key header (any unique string, e.g. a UUID)",
            )
        }
        Some(Err(m)) => return err(StatusCode::BAD_REQUEST, "bad_idempotency_key", &m),
        Some(Ok(k)) => k,
    };
    let hash = payload_hash(body);
    match idem.claim(scope, &key, &hash, now_ms).await {
        Err(e) => err(
            StatusCode::SERVICE_UNAVAILABLE,
            "store_unavailable",
            &e.to_string(),
        ),
        Ok(Claim::InFlight) => err(
            StatusCode::CONFLICT,
            "in_progress",
            "a request with this Idempotency-Key is still running",
        ),
        Ok(Claim::Mismatch) => err(
            StatusCode::UNPROCESSABLE_ENTITY,
            "idempotency_key_reused",
            "this Idempotency-Key was used with a different body",
        ),
        Ok(Claim::Replay(stored)) => {
            let mut r = json(
                StatusCode::from_u16(stored.status).unwrap_or(StatusCode::OK),
                &serde_json::from_str(&stored.body).unwrap_or_default(),
            );
            r.headers_mut()
                .insert("idempotent-replayed", HeaderValue::from_static("true"));
            r
        }
        Ok(Claim::Fresh) => {
            let (status, value) = run().await;
            let outcome = if status.is_server_error() {
                idem.release(scope, &key).await
            } else {
                let stored = StoredResponse {
                    status: status.as_u16(),
                    body: value.to_string(),
                };
                idem.complete(scope, &key, &stored).await
            };
            if let Err(e) = outcome {
                tracing::warn!(error = %e, "idempotency record not updated; the lease ends it");
            }
            json(status, &value)
        }
    }
}
