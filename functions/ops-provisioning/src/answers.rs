//! Where a provisioning outcome becomes an HTTP answer: each [`Kind`] its status, each error its
//! `{"error": {"code", "message"}}` (never Twilio's raw body).

use json_api::{Answer, ApiError};
use provisioning::a2p::{A2pError, A2pRecord};
use provisioning::saga::OnboardError;
use provisioning::{Done, Kind, Outcome, Refused};
use telephony_aws::http::StatusCode;

/// The status of a refusal's kind: 400, 404, 409, 428, 502, 503.
pub fn status_of(kind: Kind) -> StatusCode {
    match kind {
        Kind::Invalid => StatusCode::BAD_REQUEST,
        Kind::NotFound => StatusCode::NOT_FOUND,
        Kind::Conflict => StatusCode::CONFLICT,
        Kind::PreconditionRequired => StatusCode::PRECONDITION_REQUIRED,
        Kind::Upstream => StatusCode::BAD_GATEWAY,
        Kind::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
    }
}

/// A refusal as the error answer (its detail beside the `error` object).
pub fn refused(r: Refused) -> ApiError {
    let e = ApiError::new(status_of(r.kind), r.code, r.message);
    match r.detail {
        Some((key, value)) => e.with_field(key, value),
        None => e,
    }
}

/// An operation's outcome: 200 or 201 with its view, or the refusal.
pub fn outcome(o: Outcome) -> Answer {
    match o {
        Ok(Done::Ok(v)) => Ok((StatusCode::OK, v)),
        Ok(Done::Created(v)) => Ok((StatusCode::CREATED, v)),
        Err(r) => Err(refused(r)),
    }
}

/// An A2P result: 200 with the record; 400 `invalid`, 404 `not_found`, 409
/// `registration_in_progress`, 502 `twilio_refused`, 503 `store_unavailable`.
pub fn a2p(r: Result<A2pRecord, A2pError>) -> Answer {
    let e = match r {
        Ok(rec) => return Ok((StatusCode::OK, rec.to_json())),
        Err(e) => e,
    };
    let (status, code) = match &e {
        A2pError::Invalid(_) => (StatusCode::BAD_REQUEST, "invalid"),
        A2pError::NotFound => (StatusCode::NOT_FOUND, "not_found"),
        A2pError::Busy => (StatusCode::CONFLICT, "registration_in_progress"),
        A2pError::Twilio(_) => (StatusCode::BAD_GATEWAY, "twilio_refused"),
        A2pError::Store(_) => (StatusCode::SERVICE_UNAVAILABLE, "store_unavailable"),
    };
    tracing::warn!(error = %e, "A2P request did not complete");
    Err(ApiError::new(status, code, e.to_string()))
}

/// An onboarding failure: 409 `onboarding_in_progress` / `no_number_available`, 502
/// `rolled_back`, 503 `store_unavailable`.
pub fn onboard_failed(org: &str, e: OnboardError) -> ApiError {
    let (status, code) = match &e {
        OnboardError::Busy(_) => (StatusCode::CONFLICT, "onboarding_in_progress"),
        OnboardError::NoNumber(_) => (StatusCode::CONFLICT, "no_number_available"),
        OnboardError::RolledBack { .. } => (StatusCode::BAD_GATEWAY, "rolled_back"),
        OnboardError::Store(_) => (StatusCode::SERVICE_UNAVAILABLE, "store_unavailable"),
    };
    tracing::warn!(org, error = %e, "onboarding did not complete");
    ApiError::new(status, code, e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_kind_has_its_status_and_detail_stays_beside_the_error() {
        let r = Refused::new(Kind::Conflict, "forwarding_active", "in use")
            .with_detail("configs", serde_json::json!([{"id": "fc1"}]));
        let e = refused(r);
        assert_eq!(e.status, StatusCode::CONFLICT);
        assert_eq!(e.body()["configs"][0]["id"], "fc1");
        assert_eq!(e.body()["error"]["code"], "forwarding_active");
        let statuses: Vec<u16> = [
            Kind::Invalid,
            Kind::NotFound,
            Kind::Conflict,
            Kind::PreconditionRequired,
            Kind::Upstream,
            Kind::Unavailable,
        ]
        .map(|k| status_of(k).as_u16())
        .into();
        assert_eq!(statuses, [400, 404, 409, 428, 502, 503]);
        let created = outcome(Ok(Done::Created(serde_json::json!({"e164": "+1"})))).unwrap();
        assert_eq!(created.0, StatusCode::CREATED);
    }
}
