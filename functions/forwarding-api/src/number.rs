//! The org's forwarding number (issue 11, issue 22 §4): the one it has, or one bought through
//! the provisioning saga the first time a config needs it.

use crate::auth;
use crate::routes::{bad, store_down};
use forwarding::Registry;
use json_api::ApiError;
use provisioning::plan::{self, OnboardRequest};
use provisioning::saga::Saga;
use telephony_aws::forwarding::OrgStore;
use telephony_aws::http::StatusCode;
use telephony_aws::{now_secs, Deps};
use telephony_core::E164;

/// The org's forwarding number, bought the first time through the provisioning saga in the
/// country's recommended provisioning country, local to the first SIM where it can be (issue 22
/// §4): a North American SIM's area code first, then its province or state (the saga's search
/// fallback), so forwarding is not billed as long distance by carriers that bill calls forwarded
/// to another area that way.
pub(crate) async fn forwarding_number(
    deps: &Deps,
    store: &OrgStore<'_>,
    r: &Registry,
    country: &str,
    settings: &telephony_aws::forwarding::OrgSettings,
    user: &auth::User,
    sim: &E164,
) -> Result<E164, ApiError> {
    if let Some(n) = settings
        .forwarding_e164
        .as_deref()
        .and_then(|n| E164::parse_syntax(n).ok())
    {
        return Ok(n);
    }
    let unavailable = |m: String| {
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "provisioning_unavailable",
            &m,
        )
    };
    let provisioning_country = r
        .country(country)
        .map(|c| c.provisioning_country.clone())
        .unwrap_or_else(|_| "US".into());
    let twilio = deps.twilio().map_err(|e| unavailable(e.to_string()))?;
    let saga = Saga::from_deps(deps, twilio)
        .ok_or_else(|| unavailable("TRANSACTIONS_TABLE is not set".into()))?;
    let area_code = (provisioning_country == country)
        .then(|| sim.as_str().strip_prefix("+1").and_then(|n| n.get(..3)))
        .flatten()
        .map(str::to_owned);
    let plan = plan::validate(&OnboardRequest {
        org_id: user.org.clone(),
        business_name: user.org_name.clone().unwrap_or_else(|| user.org.clone()),
        country: provisioning_country,
        area_code,
        sales_target: None,
        support_target: None,
        language: None,
    })
    .map_err(|m| bad("invalid", &m))?;
    let done = saga
        .onboard(&plan, &user.subject, now_secs())
        .await
        .map_err(|e| {
            ApiError::new(
                StatusCode::BAD_GATEWAY,
                "provisioning_failed",
                e.to_string(),
            )
        })?;
    store
        .set_forwarding_number(&done.e164)
        .await
        .map_err(|e| store_down(&e))?;
    E164::parse_syntax(&done.e164).map_err(|e| unavailable(e.to_string()))
}
