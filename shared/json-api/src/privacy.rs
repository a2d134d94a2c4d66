//! The HTTP face of privacy requests (issue 25), mounted by the ops API (`POST /ops/privacy/{action}`)
//! and the tenant API (`POST /forwarding/privacy/{action}`); the work is
//! `telephony_aws::privacy::serve`.

use crate::answer::{Answer, ApiError};
use serde::Deserialize;
use telephony_aws::http::StatusCode;
use telephony_aws::privacy::{serve, Ask, PrivacyError};
use telephony_aws::Deps;
use telephony_core::privacy::Action;

/// The body of `POST …/privacy/{find|export|erase}`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Body {
    number: String,
    #[serde(default)]
    org: Option<String>,
    #[serde(default)]
    dry_run: bool,
}

/// Who asks: the platform operator (any org, or the whole stack) or one tenant (that org only).
#[derive(Debug, Clone, Copy)]
pub enum Asker<'a> {
    /// The ops API's IAM principal.
    Operator,
    /// The tenant API's org: another `org` in the body is 403 `other_org`.
    Tenant(&'a str),
}

/// Serves one privacy request. `action` is the path's last segment; `idempotency_key` is
/// required (1–200 printable characters).
///
/// Answers: 200 `serve`'s JSON; 400 `bad_json`/`invalid_number`/`unknown_action`/
/// `idempotency_key_required`/`invalid_org`; 403 `other_org`; 409 `idempotency_key_reused`; 503
/// `not_configured`/`interrupted`/`storage_unavailable` (a retry with the same key resumes).
pub async fn answer(
    deps: &Deps,
    action: &str,
    body: &[u8],
    idempotency_key: Option<&str>,
    asker: Asker<'_>,
    principal: &str,
    now: u64,
) -> Answer {
    let bad = |code: &str, m: String| ApiError::bad_request(code, m);
    let action = Action::parse(action)
        .ok_or_else(|| bad("unknown_action", "use find, export or erase".into()))?;
    let b: Body = serde_json::from_slice(body).map_err(|e| bad("bad_json", e.to_string()))?;
    let number = telephony_core::E164::parse_syntax(b.number.trim())
        .and_then(|n| n.check_dialable().map(|()| n))
        .map_err(|e| bad("invalid_number", e.to_string()))?;
    let org = match (asker, b.org) {
        (Asker::Tenant(t), Some(o)) if o != t => {
            return Err(ApiError::new(
                StatusCode::FORBIDDEN,
                "other_org",
                "a tenant token reaches only its own org",
            ))
        }
        (Asker::Tenant(t), _) => Some(t.to_owned()),
        (Asker::Operator, o) => o,
    };
    if let Some(o) = &org {
        telephony_core::ids::check_org_id(o).map_err(|m| bad("invalid_org", m))?;
    }
    let key = idempotency_key.map(str::trim).unwrap_or_default();
    if key.is_empty() || key.len() > 200 || !key.chars().all(|c| c.is_ascii_graphic()) {
        return Err(bad(
            "idempotency_key_required",
            "send an Idempotency-Key header (1-200 printable characters)".into(),
        ));
    }
    let ask = Ask {
        action,
        number: number.as_str().to_owned(),
        org,
        dry_run: b.dry_run,
        principal: principal.to_owned(),
        idempotency_key: key.to_owned(),
    };
    match serve(deps, &ask, now, None).await {
        Ok(v) => Ok((StatusCode::OK, v)),
        Err(e) => {
            tracing::error!(request_id = %ask.id(), error = %e, "privacy request failed");
            let code = match &e {
                PrivacyError::KeyReused(_) => {
                    return Err(ApiError::conflict("idempotency_key_reused", e.to_string()))
                }
                PrivacyError::NotConfigured(_) | PrivacyError::NoSuppressionSecret => {
                    "not_configured"
                }
                PrivacyError::Interrupted { .. } => "interrupted",
                PrivacyError::Aws(_) => "storage_unavailable",
            };
            Err(ApiError::unavailable(code, e.to_string()))
        }
    }
}
