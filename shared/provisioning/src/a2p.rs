//! US texting compliance (issue 10): the per-org A2P 10DLC record and its registration with
//! Twilio (the gate where texts are sent is `telephony_aws::texting_gate`). Table `COMPLIANCE_TABLE` (key `pk`), item `a2p#<org>`:
//! `us_enabled`, `a2p_status` (`not_required` | `pending` | `approved` | `failed`), `brand_sid`,
//! `brand_status`, `campaign_sid`, `campaign_status`, `messaging_service_sid`, `campaign` (the
//! requested campaign, JSON, until it is registered), `created_at`, `updated_at` (Unix seconds),
//! `principal`.
//!
//! Registration never duplicates: an existing brand that is not refused is reused; a creation is
//! claimed first with a conditional write (`brand_claim`, stale after 120 s), and the claim is
//! released if Twilio refuses. The campaign is registered once the brand is approved, by the
//! `POST` that brings it or by a later `GET` (refresh), under the same kind of claim.

use serde::Deserialize;
use serde_json::{json, Value};
use telephony_aws::item::{claim_of, get_s, n, s, set_fields, Claim, Item};
use telephony_aws::Error;
use telephony_core::compliance::A2pStatus;
use twilio_api::compliance::Campaign;

/// A creation claim older than this is taken over (Twilio answers a creation well within it).
pub const CLAIM_STALE_SECS: u64 = 120;

/// `POST /ops/orgs/{org}/a2p` body.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct A2pRequest {
    /// The org texts US numbers (else Canada-only: `not_required`, nothing sent to Twilio).
    pub us_enabled: bool,
    /// Trust Hub secondary customer profile (`BU…`), needed to register the brand.
    pub customer_profile_bundle_sid: Option<String>,
    /// Trust Hub A2P messaging profile (`BU…`), needed to register the brand.
    pub a2p_profile_bundle_sid: Option<String>,
    /// Messaging Service (`MG…`) the campaign is attached to; default `MESSAGING_SERVICE_SID`.
    pub messaging_service_sid: Option<String>,
    /// The campaign, registered once the brand is approved.
    pub campaign: Option<Campaign>,
}

fn sid_ok(v: &str, prefix: &str) -> bool {
    v.len() == 34 && v.starts_with(prefix) && v[2..].bytes().all(|b| b.is_ascii_hexdigit())
}

fn text_between(v: &str, min: usize, max: usize) -> bool {
    (min..=max).contains(&v.chars().count()) && !v.chars().any(char::is_control)
}

impl A2pRequest {
    /// Checks the SIDs and the campaign's fields against Twilio's documented limits (pure).
    ///
    /// Errors: a message naming the first bad field.
    pub fn check(&self) -> Result<(), String> {
        for (k, v) in [
            (
                "customer_profile_bundle_sid",
                &self.customer_profile_bundle_sid,
            ),
            ("a2p_profile_bundle_sid", &self.a2p_profile_bundle_sid),
        ] {
            if v.as_deref().is_some_and(|v| !sid_ok(v, "BU")) {
                return Err(format!("{k} must be BU followed by 32 hex digits"));
            }
        }
        if let Some(m) = &self.messaging_service_sid {
            if !sid_ok(m, "MG") {
                return Err("messaging_service_sid must be MG followed by 32 hex digits".into());
            }
        }
        if let Some(c) = &self.campaign {
            if !text_between(&c.description, 40, 4096) {
                return Err("campaign.description must be 40-4096 characters".into());
            }
            if !text_between(&c.message_flow, 40, 2048) {
                return Err("campaign.message_flow must be 40-2048 characters".into());
            }
            if !(2..=5).contains(&c.message_samples.len())
                || c.message_samples.iter().any(|m| !text_between(m, 20, 1024))
            {
                return Err(
                    "campaign.message_samples must be 2-5 texts of 20-1024 characters".into(),
                );
            }
            let use_case_ok = !c.use_case.is_empty()
                && c.use_case.len() <= 40
                && c.use_case
                    .bytes()
                    .all(|b| b.is_ascii_uppercase() || b == b'_');
            if !use_case_ok {
                return Err(
                    "campaign.use_case must be a Twilio use case such as CUSTOMER_CARE".into(),
                );
            }
        }
        Ok(())
    }
}

/// The A2P record of an org, as stored.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct A2pRecord {
    /// The org.
    pub org: String,
    /// It texts US numbers.
    pub us_enabled: bool,
    /// The org's status.
    pub status: Option<A2pStatus>,
    /// `BN…`.
    pub brand_sid: Option<String>,
    /// Twilio's brand status.
    pub brand_status: Option<String>,
    /// `QE…`.
    pub campaign_sid: Option<String>,
    /// Twilio's campaign status.
    pub campaign_status: Option<String>,
    /// `MG…`.
    pub messaging_service_sid: Option<String>,
    /// The campaign waiting for the brand's approval (JSON).
    pub campaign: Option<String>,
}

impl A2pRecord {
    fn from_item(org: &str, item: &Item) -> Self {
        Self {
            org: org.to_owned(),
            us_enabled: get_s(item, "us_enabled").as_deref() == Some("true"),
            status: get_s(item, "a2p_status").and_then(|v| A2pStatus::parse(&v)),
            brand_sid: get_s(item, "brand_sid"),
            brand_status: get_s(item, "brand_status"),
            campaign_sid: get_s(item, "campaign_sid"),
            campaign_status: get_s(item, "campaign_status"),
            messaging_service_sid: get_s(item, "messaging_service_sid"),
            campaign: get_s(item, "campaign"),
        }
    }

    /// The JSON view of the routes.
    pub fn to_json(&self) -> Value {
        json!({
            "org_id": self.org,
            "us_enabled": self.us_enabled,
            "a2p_status": self.status.map(A2pStatus::as_str),
            "brand_sid": self.brand_sid,
            "brand_status": self.brand_status,
            "campaign_sid": self.campaign_sid,
            "campaign_status": self.campaign_status,
            "messaging_service_sid": self.messaging_service_sid,
            "campaign_waiting_for_brand": self.campaign.is_some() && self.campaign_sid.is_none(),
        })
    }
}

/// Why an A2P request did not complete.
#[derive(Debug, thiserror::Error)]
pub enum A2pError {
    /// Bad input (400).
    #[error("{0}")]
    Invalid(String),
    /// No record for the org (404).
    #[error("no A2P record for this org")]
    NotFound,
    /// Another request is registering right now (409).
    #[error("a registration for this org is in progress; retry shortly")]
    Busy,
    /// Twilio refused or failed (502).
    #[error("Twilio: {0}")]
    Twilio(twilio_api::TwilioError),
    /// Our table failed (503).
    #[error(transparent)]
    Store(#[from] Error),
}

/// The compliance table.
#[derive(Debug, Clone, Copy)]
pub struct Compliance<'a> {
    /// DynamoDB.
    pub dynamo: &'a aws_sdk_dynamodb::Client,
    /// `COMPLIANCE_TABLE`.
    pub table: &'a str,
}

fn pk(org: &str) -> String {
    format!("a2p#{org}")
}

impl Compliance<'_> {
    /// The org's record, `None` when it has none.
    ///
    /// Errors: [`Error::Dynamo`].
    pub async fn a2p(&self, org: &str) -> Result<Option<A2pRecord>, Error> {
        let out = self
            .dynamo
            .get_item()
            .table_name(self.table)
            .key("pk", s(pk(org)))
            .consistent_read(true)
            .send()
            .await
            .map_err(Error::dynamo("GetItem compliance"))?;
        Ok(out.item.map(|i| A2pRecord::from_item(org, &i)))
    }

    /// Sets `fields` on the org's record (`""` removes an attribute), with `updated_at` and
    /// `created_at` (once).
    async fn set(
        &self,
        org: &str,
        fields: &[(&str, String)],
        principal: &str,
        now: u64,
    ) -> Result<(), Error> {
        let update = self
            .dynamo
            .update_item()
            .table_name(self.table)
            .key("pk", s(pk(org)))
            .expression_attribute_values(":now", n(now))
            .expression_attribute_values(":p", s(principal));
        let base = [
            "updated_at = :now",
            "created_at = if_not_exists(created_at, :now)",
            "principal = :p",
        ];
        set_fields(update, fields, &base)
            .send()
            .await
            .map_err(Error::dynamo("UpdateItem compliance"))?;
        Ok(())
    }

    /// Claims the creation of `what` (`brand` or `campaign`): only while `<what>_sid` is unset
    /// and no fresh claim is held.
    async fn claim(&self, org: &str, what: &str, now: u64) -> Result<Claim, Error> {
        let r = self
            .dynamo
            .update_item()
            .table_name(self.table)
            .key("pk", s(pk(org)))
            .update_expression("SET #c = :now")
            .condition_expression(
                "attribute_not_exists(#s) AND (attribute_not_exists(#c) OR #c < :stale)",
            )
            .expression_attribute_names("#c", format!("{what}_claim"))
            .expression_attribute_names("#s", format!("{what}_sid"))
            .expression_attribute_values(":now", n(now))
            .expression_attribute_values(":stale", n(now.saturating_sub(CLAIM_STALE_SECS)))
            .send()
            .await;
        claim_of(r, "UpdateItem compliance (claim)")
    }

    /// `POST /ops/orgs/{org}/a2p` (module docs): Canada-only → `not_required`, nothing sent to
    /// Twilio; otherwise the brand once, then the campaign once the brand is approved.
    ///
    /// Errors: [`A2pError`].
    pub async fn enable(
        &self,
        twilio: &twilio_api::Client,
        default_service: Option<&str>,
        org: &str,
        req: &A2pRequest,
        principal: &str,
        now: u64,
    ) -> Result<A2pRecord, A2pError> {
        telephony_core::ids::check_org_id(org).map_err(A2pError::Invalid)?;
        req.check().map_err(A2pError::Invalid)?;
        if !req.us_enabled {
            let fields = [
                ("us_enabled", "false".to_owned()),
                ("a2p_status", A2pStatus::NotRequired.as_str().to_owned()),
            ];
            self.set(org, &fields, principal, now).await?;
            return Ok(self.a2p(org).await?.unwrap_or_default());
        }
        let existing = self.a2p(org).await?.unwrap_or_default();
        let mut fields = vec![("us_enabled", "true".to_owned())];
        if let Some(c) = &req.campaign {
            fields.push(("campaign", serde_json::to_string(c).unwrap_or_default()));
        }
        if let Some(m) = req.messaging_service_sid.as_deref().or(default_service) {
            fields.push(("messaging_service_sid", m.to_owned()));
        }
        let reusable = existing.brand_sid.is_some() && existing.status != Some(A2pStatus::Failed);
        if !reusable {
            let (Some(customer), Some(a2p)) = (
                &req.customer_profile_bundle_sid,
                &req.a2p_profile_bundle_sid,
            ) else {
                return Err(A2pError::Invalid(
                    "customer_profile_bundle_sid and a2p_profile_bundle_sid are needed to register the brand".into(),
                ));
            };
            if existing.brand_sid.is_some() {
                // A refused brand: a new registration replaces it.
                fields.push(("brand_sid", String::new()));
                fields.push(("campaign_sid", String::new()));
                fields.push(("campaign_status", String::new()));
            }
            self.set(org, &fields, principal, now).await?;
            if self.claim(org, "brand", now).await? == Claim::AlreadyExists {
                return Err(A2pError::Busy);
            }
            match twilio.create_brand_registration(customer, a2p).await {
                Ok(brand) => {
                    let f = [
                        ("brand_sid", brand.sid),
                        ("brand_status", brand.status),
                        ("brand_claim", String::new()),
                    ];
                    self.set(org, &f, principal, now).await?;
                }
                Err(e) => {
                    self.set(org, &[("brand_claim", String::new())], principal, now)
                        .await?;
                    return Err(A2pError::Twilio(e));
                }
            }
        } else {
            self.set(org, &fields, principal, now).await?;
        }
        self.refresh(twilio, org, principal, now).await
    }

    /// `GET /ops/orgs/{org}/a2p`: the brand's and the campaign's status from Twilio, the
    /// campaign registered if the brand is now approved, the org's status recomputed and stored.
    ///
    /// Errors: [`A2pError`] (`NotFound` without a record).
    pub async fn refresh(
        &self,
        twilio: &twilio_api::Client,
        org: &str,
        principal: &str,
        now: u64,
    ) -> Result<A2pRecord, A2pError> {
        let rec = self.a2p(org).await?.ok_or(A2pError::NotFound)?;
        let Some(brand_sid) = rec.brand_sid.clone().filter(|_| rec.us_enabled) else {
            return Ok(rec);
        };
        let brand = twilio
            .fetch_brand_registration(&brand_sid)
            .await
            .map_err(A2pError::Twilio)?;
        let mut fields = vec![("brand_status", brand.status.clone())];
        let mut campaign_status = rec.campaign_status.clone();
        match (&rec.campaign_sid, &rec.campaign, &rec.messaging_service_sid) {
            (Some(sid), _, Some(service)) => {
                let c = twilio
                    .fetch_us_app_to_person(service, sid)
                    .await
                    .map_err(A2pError::Twilio)?;
                campaign_status = c.campaign_status;
            }
            (None, Some(campaign), Some(service)) if brand.status == "APPROVED" => {
                let campaign: Campaign = serde_json::from_str(campaign)
                    .map_err(|e| A2pError::Invalid(format!("stored campaign: {e}")))?;
                if self.claim(org, "campaign", now).await? == Claim::AlreadyExists {
                    return Err(A2pError::Busy);
                }
                match twilio
                    .create_us_app_to_person(service, &brand_sid, &campaign)
                    .await
                {
                    Ok(c) => {
                        fields.push(("campaign_sid", c.sid));
                        campaign_status = c.campaign_status;
                        fields.push(("campaign_claim", String::new()));
                    }
                    Err(e) => {
                        self.set(org, &[("campaign_claim", String::new())], principal, now)
                            .await?;
                        return Err(A2pError::Twilio(e));
                    }
                }
            }
            _ => {}
        }
        let status = A2pStatus::from_twilio(&brand.status, campaign_status.as_deref());
        fields.push(("campaign_status", campaign_status.unwrap_or_default()));
        fields.push(("a2p_status", status.as_str().to_owned()));
        self.set(org, &fields, principal, now).await?;
        Ok(self.a2p(org).await?.unwrap_or_default())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req() -> A2pRequest {
        A2pRequest {
            us_enabled: true,
            customer_profile_bundle_sid: Some(format!("BU{}", "a".repeat(32))),
            a2p_profile_bundle_sid: Some(format!("BU{}", "b".repeat(32))),
            messaging_service_sid: None,
            campaign: Some(Campaign {
                description: "Appointment reminders and replies to customers who text us.".into(),
                message_flow: "Customers text our business number first; we reply to them.".into(),
                message_samples: vec![
                    "Thanks for texting Acme Plumbing, we will call you back.".into(),
                    "Your appointment is confirmed for Tuesday at 9 am.".into(),
                ],
                use_case: "CUSTOMER_CARE".into(),
                has_embedded_links: false,
                has_embedded_phone: true,
            }),
        }
    }

    #[test]
    fn requests_are_checked() {
        assert!(req().check().is_ok());
        let bad = |f: fn(&mut A2pRequest), what: &str| {
            let mut r = req();
            f(&mut r);
            let e = r.check().unwrap_err();
            assert!(e.contains(what), "{e}");
        };
        bad(
            |r| r.customer_profile_bundle_sid = Some("BU1".into()),
            "customer_profile",
        );
        bad(
            |r| r.messaging_service_sid = Some("MGxyz".into()),
            "messaging_service_sid",
        );
        bad(
            |r| r.campaign.as_mut().unwrap().message_samples.truncate(1),
            "message_samples",
        );
        bad(
            |r| r.campaign.as_mut().unwrap().description = "short".into(),
            "description",
        );
        bad(
            |r| r.campaign.as_mut().unwrap().use_case = "care".into(),
            "use_case",
        );
    }
}
