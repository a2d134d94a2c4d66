//! The HTTP face of privacy requests, shared by the ops API and the tenant API.

use super::{serve, Ask, PrivacyError};
use crate::Deps;
use serde::Deserialize;
use serde_json::Value;
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

/// The HTTP face shared by the ops API (`tenant = None`: any org, or the whole stack) and the
/// tenant API (`tenant = Some(org)`: that org only; another `org` in the body is 403
/// `other_org`). `action` is the path's last segment; `Idempotency-Key` is required (1–200
/// printable characters). Answers: 200 [`serve`]'s JSON; 400 `bad_json`/`invalid_number`/
/// `unknown_action`/`idempotency_key_required`/`invalid_org`; 409 `idempotency_key_reused`; 503
/// `not_configured`/`interrupted`/`storage_unavailable` (retry with the same key resumes).
#[allow(clippy::too_many_arguments)]
pub async fn answer(
    deps: &Deps,
    action: &str,
    body: &[u8],
    idempotency_key: Option<&str>,
    tenant: Option<&str>,
    principal: &str,
    now: u64,
) -> (http::StatusCode, Value) {
    use crate::glue::error_body as err;
    use http::StatusCode as S;
    let Some(action) = Action::parse(action) else {
        return (
            S::BAD_REQUEST,
            err("unknown_action", "use find, export or erase"),
        );
    };
    let b: Body = match serde_json::from_slice(body) {
        Ok(b) => b,
        Err(e) => return (S::BAD_REQUEST, err("bad_json", &e.to_string())),
    };
    let number = match telephony_core::E164::parse_syntax(b.number.trim())
        .and_then(|n| n.check_dialable().map(|()| n))
    {
        Ok(n) => n,
        Err(e) => return (S::BAD_REQUEST, err("invalid_number", &e.to_string())),
    };
    let org = match (tenant, b.org) {
        (Some(t), Some(o)) if o != t => {
            return (
                S::FORBIDDEN,
                err("other_org", "a tenant token reaches only its own org"),
            );
        }
        (Some(t), _) => Some(t.to_owned()),
        (None, o) => o,
    };
    if let Some(o) = &org {
        if let Err(m) = crate::provisioning::check_org_id(o) {
            return (S::BAD_REQUEST, err("invalid_org", &m));
        }
    }
    let key = idempotency_key.map(str::trim).unwrap_or_default();
    if key.is_empty() || key.len() > 200 || !key.chars().all(|c| c.is_ascii_graphic()) {
        return (
            S::BAD_REQUEST,
            err(
                "idempotency_key_required",
                "send an Idempotency-Key header (1-200 printable characters)",
            ),
        );
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
        Ok(v) => (S::OK, v),
        Err(e) => {
            tracing::error!(request_id = %ask.id(), error = %e, "privacy request failed");
            let code = match &e {
                PrivacyError::KeyReused(_) => {
                    return (S::CONFLICT, err("idempotency_key_reused", &e.to_string()))
                }
                PrivacyError::NotConfigured(_) | PrivacyError::NoSuppressionSecret => {
                    "not_configured"
                }
                PrivacyError::Interrupted { .. } => "interrupted",
                PrivacyError::Aws(_) => "storage_unavailable",
            };
            (S::SERVICE_UNAVAILABLE, err(code, &e.to_string()))
        }
    }
}
