//! Hosted SMS and port-in orders (issue 10; the original used endpoints that do not exist and
//! orphaned Twilio orders when its own insert failed, F-74, F-75). Items of the compliance table:
//! `hosted#<e164>` and `port#<e164>`, each written *before* Twilio is called (`status:
//! submitting`, the request, a creation claim) and updated after, so an order Twilio accepted is
//! never lost: if the second write fails, the first is still there and the next `GET` adopts the
//! order from Twilio's list. One live order per number: a second request gets the first order.
//!
//! Port-in: portability is checked first (not portable → 400 with Twilio's reason, nothing
//! created); optionally a temporary number is bought through the provisioning saga that rings the
//! client's fallback number until the port completes; it is bought only once the order is
//! recorded, and released by `DELETE` or when a `GET` sees the port completed. The estimated FOC
//! date is counted in business days ([`telephony_core::hours::add_business_days`]).

use crate::admin::NumberAdmin;
use crate::outcome::{Done, Kind, Outcome, Refused};
use crate::plan::{self as provisioning, OnboardRequest};
use crate::saga::Saga;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use telephony_aws::item::{claim_of, get_s, n, s, set_fields, Claim, Item};
use telephony_aws::Error;
use telephony_core::{area_codes, E164};
use twilio_api::compliance::HostedNumberRequest;

mod hosted;
mod port_in;

type Answer = Outcome;

/// Business days from a port-in request to the estimated firm order commitment (Twilio: US and
/// Canadian local ports typically complete in 7–10 business days).
pub const PORT_BUSINESS_DAYS: u32 = 10;

/// A creation claim older than this is taken over, or (port-in) adopted from Twilio's list.
pub const CLAIM_STALE_SECS: u64 = 120;

fn answer(kind: Kind, code: &'static str, message: &str) -> Refused {
    Refused::new(kind, code, message)
}

fn bad(message: &str) -> Refused {
    answer(Kind::Invalid, "invalid", message)
}

fn store_failed(e: &Error) -> Refused {
    tracing::error!(error = %e, "order store failed");
    answer(
        Kind::Unavailable,
        "store_unavailable",
        "our order table is unreachable; retry",
    )
}

fn twilio_failed(e: &twilio_api::TwilioError) -> Refused {
    tracing::warn!(error = %e, "Twilio refused the order");
    answer(Kind::Upstream, "twilio_refused", &e.to_string())
}

fn email_ok(e: &str) -> bool {
    let Some((local, domain)) = e.split_once('@') else {
        return false;
    };
    e.len() <= 254
        && !local.is_empty()
        && domain.contains('.')
        && !domain.contains('@')
        && !e.chars().any(|c| c.is_whitespace() || c.is_control())
}

/// A US or Canadian local number (hosted SMS and our ports are offered for these only).
fn nanp_local(raw: &str, field: &str) -> Result<E164, String> {
    let n = E164::parse_syntax(raw).map_err(|e| format!("{field}: {e}"))?;
    let area = n.as_str().get(2..5).unwrap_or("");
    match (n.as_str().starts_with("+1"), area_codes::nanp_country(area)) {
        (true, Some(_)) => Ok(n),
        _ => Err(format!(
            "{field} {} is not a US or Canadian local number: hosted SMS and port-in are offered for those only",
            n.as_str()
        )),
    }
}

/// `POST /ops/numbers/hosted-sms` body.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HostedSmsRequest {
    /// The client org.
    pub org_id: String,
    /// The client's existing landline, E.164 (US or Canadian local number).
    pub phone_number: String,
    /// Who confirms ownership, E.164.
    pub contact_phone_number: String,
    /// The client's validated Twilio Address (`AD…`), never empty.
    pub address_sid: String,
    /// Where Twilio sends the letter of authorization.
    pub email: String,
    /// Shown in Twilio's console (default: `<org> hosted SMS`).
    pub friendly_name: Option<String>,
}

/// `POST /ops/numbers/port-in` body.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PortInRequest {
    /// The client org.
    pub org_id: String,
    /// Spoken on the temporary number meanwhile.
    pub business_name: String,
    /// The number to port, E.164 (US or Canadian local number).
    pub phone_number: String,
    /// The losing carrier's PIN, if it needs one.
    pub pin: Option<String>,
    /// The account at the losing carrier (numbers v1 `losing_carrier_information`).
    pub losing_carrier: LosingCarrier,
    /// Twilio Document SIDs (`RD…`), at least a utility bill.
    pub documents: Vec<String>,
    /// Who gets a copy of the signed letter of authorization.
    #[serde(default)]
    pub notification_emails: Vec<String>,
    /// Wanted date (YYYY-MM-DD); else the estimate.
    pub target_port_in_date: Option<String>,
    /// A temporary number meanwhile, ringing this fallback (E.164).
    pub temporary_fallback_e164: Option<String>,
}

/// The client's account at the losing carrier.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct LosingCarrier {
    /// Name on the account.
    pub customer_name: String,
    /// `Business` or `Individual`.
    pub customer_type: String,
    /// Account number at the carrier.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub account_number: Option<String>,
    /// Main number of the account.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub account_telephone_number: Option<String>,
    /// Who signs the letter of authorization.
    pub authorized_representative: String,
    /// Their email.
    pub authorized_representative_email: String,
    /// Service address.
    pub address: PortAddress,
}

/// Service address on the carrier account.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct PortAddress {
    /// Street.
    pub street: String,
    /// Unit, suite.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub street_2: Option<String>,
    /// City.
    pub city: String,
    /// State or province (two letters).
    pub state: String,
    /// ZIP or postal code.
    pub zip: String,
    /// `US` or `CA`.
    pub country: String,
}

impl PortInRequest {
    /// Checks every field before anything is written or sent (F-75).
    ///
    /// Errors: a message naming the first bad field.
    pub fn check(&self) -> Result<E164, String> {
        provisioning::check_org_id(&self.org_id)?;
        let n = nanp_local(&self.phone_number, "phone_number")?;
        let lc = &self.losing_carrier;
        let filled = |v: &str| !v.trim().is_empty() && v.len() <= 200;
        for (k, v) in [
            ("losing_carrier.customer_name", &lc.customer_name),
            (
                "losing_carrier.authorized_representative",
                &lc.authorized_representative,
            ),
            ("losing_carrier.address.street", &lc.address.street),
            ("losing_carrier.address.city", &lc.address.city),
            ("losing_carrier.address.state", &lc.address.state),
            ("losing_carrier.address.zip", &lc.address.zip),
            ("business_name", &self.business_name),
        ] {
            if !filled(v) {
                return Err(format!("{k} is required (1-200 characters)"));
            }
        }
        if !matches!(lc.customer_type.as_str(), "Business" | "Individual") {
            return Err("losing_carrier.customer_type must be Business or Individual".into());
        }
        if !matches!(lc.address.country.as_str(), "US" | "CA") {
            return Err("losing_carrier.address.country must be US or CA".into());
        }
        if !email_ok(&lc.authorized_representative_email)
            || !self.notification_emails.iter().all(|e| email_ok(e))
        {
            return Err("emails must be valid addresses".into());
        }
        let doc_ok = |d: &String| {
            d.len() == 34 && d.starts_with("RD") && d[2..].bytes().all(|b| b.is_ascii_hexdigit())
        };
        if self.documents.is_empty() || !self.documents.iter().all(doc_ok) {
            return Err(
                "documents must hold Twilio Document SIDs (RD…), a utility bill at least".into(),
            );
        }
        if let Some(d) = &self.target_port_in_date {
            chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d")
                .map_err(|_| "target_port_in_date must be YYYY-MM-DD".to_owned())?;
        }
        if let Some(f) = &self.temporary_fallback_e164 {
            E164::parse_syntax(f).map_err(|e| format!("temporary_fallback_e164: {e}"))?;
        }
        // Issue 22 §12: the service address is where the number is: its country, and its province
        // or state when the area code serves only one.
        let area = &n.as_str()[2..5];
        if let Some(country) = telephony_core::area_codes::nanp_country(area) {
            let addr = &lc.address;
            if addr.country != country {
                return Err(format!(
                    "losing_carrier.address.country is {} but {} is a {country} number",
                    addr.country,
                    telephony_core::mask_phone(n.as_str())
                ));
            }
            if let Some(region) = telephony_core::area_codes::region_of(country, area) {
                if !addr.state.eq_ignore_ascii_case(region) {
                    return Err(format!(
                        "losing_carrier.address.state is {} but area code {area} is in {region}",
                        addr.state
                    ));
                }
            }
        }
        Ok(n)
    }

    /// The checks that need today's date (`today`, UTC): a wanted port date at least
    /// [`PORT_BUSINESS_DAYS`] business days ahead (the carriers' firm order commitment lead time;
    /// weekends and the address country's holidays skipped), issue 22 §12.
    ///
    /// Errors: a message naming `target_port_in_date` and the earliest date.
    pub fn check_date(&self, today: chrono::NaiveDate) -> Result<(), String> {
        let Some(d) = &self.target_port_in_date else {
            return Ok(());
        };
        let wanted = chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d")
            .map_err(|_| "target_port_in_date must be YYYY-MM-DD".to_owned())?;
        let earliest = telephony_core::hours::add_business_days(
            today,
            PORT_BUSINESS_DAYS,
            &self.losing_carrier.address.country,
        );
        if wanted < earliest {
            return Err(format!(
                "target_port_in_date {wanted} is too soon: carriers need {PORT_BUSINESS_DAYS} business days, the earliest is {earliest}"
            ));
        }
        Ok(())
    }
}

/// The orders of the compliance table.
pub struct Orders<'a> {
    /// DynamoDB.
    pub dynamo: &'a aws_sdk_dynamodb::Client,
    /// `COMPLIANCE_TABLE`.
    pub table: &'a str,
    /// Twilio.
    pub twilio: &'a twilio_api::Client,
}

impl Orders<'_> {
    async fn get(&self, pk: &str) -> Result<Option<Item>, Error> {
        let out = self
            .dynamo
            .get_item()
            .table_name(self.table)
            .key("pk", s(pk))
            .consistent_read(true)
            .send()
            .await
            .map_err(Error::dynamo("GetItem orders"))?;
        Ok(out.item)
    }

    /// Sets `fields` (`""` removes) and `updated_at`.
    async fn set(&self, pk: &str, fields: &[(&str, String)], now: u64) -> Result<(), Error> {
        let update = self
            .dynamo
            .update_item()
            .table_name(self.table)
            .key("pk", s(pk))
            .expression_attribute_values(":now", n(now));
        set_fields(update, fields, &["updated_at = :now"])
            .send()
            .await
            .map_err(Error::dynamo("UpdateItem orders"))?;
        Ok(())
    }

    /// Twilio refused a new order: its creation claim is released and the record marked
    /// `failed` (a corrected request may claim it again), and the refusal answered (502).
    async fn refused(&self, pk: &str, e: &twilio_api::TwilioError, now: u64) -> Refused {
        let release = [
            ("claimed_at", String::new()),
            ("status", OrderStatus::Failed.as_str().to_owned()),
        ];
        if let Err(w) = self.set(pk, &release, now).await {
            tracing::warn!(error = %w, "could not mark the refused order failed");
        }
        twilio_failed(e)
    }

    /// The order item `<kind>#<e164>`, or the answer to give: 404 naming `what`, 503.
    async fn order_item(
        &self,
        kind: &str,
        number: &E164,
        what: &str,
    ) -> Result<(String, Item), Refused> {
        let pk = format!("{kind}#{}", number.as_str());
        match self.get(&pk).await {
            Ok(Some(i)) => Ok((pk, i)),
            Ok(None) => Err(answer(
                Kind::NotFound,
                "not_found",
                &format!("no {what} for this number"),
            )),
            Err(e) => Err(store_failed(&e)),
        }
    }

    /// The first write of an order: its request and a creation claim, only when no order SID is
    /// recorded and no fresh claim is held.
    async fn claim(&self, pk: &str, request: &str, now: u64) -> Result<Claim, Error> {
        let r = self
            .dynamo
            .update_item()
            .table_name(self.table)
            .key("pk", s(pk))
            .update_expression(
                "SET #rq = :r, #st = :sub, claimed_at = :now, created_at = if_not_exists(created_at, :now), updated_at = :now",
            )
            // A new order may be submitted when none is placed (and no fresh claim is held), or
            // when the last one ended canceled or failed (issue 22 §11: resubmission).
            .condition_expression(
                "(attribute_not_exists(order_sid) AND (attribute_not_exists(claimed_at) OR claimed_at < :stale)) OR #st IN (:failed, :canceled, :cancelled)",
            )
            .expression_attribute_values(":failed", s(OrderStatus::Failed.as_str()))
            .expression_attribute_values(":canceled", s(OrderStatus::Canceled.as_str()))
            .expression_attribute_values(":cancelled", s("cancelled"))
            .expression_attribute_names("#st", "status")
            .expression_attribute_names("#rq", "request")
            .expression_attribute_values(":r", s(request))
            .expression_attribute_values(":sub", s(OrderStatus::Submitting.as_str()))
            .expression_attribute_values(":now", n(now))
            .expression_attribute_values(":stale", n(now.saturating_sub(CLAIM_STALE_SECS)))
            .send()
            .await;
        claim_of(r, "UpdateItem orders (claim)")
    }

    /// [`Orders::claim`] as an answer: 409 while another request submits `what`, 503 when the
    /// table fails.
    async fn begin(&self, pk: &str, request: &str, what: &str, now: u64) -> Result<(), Refused> {
        match self.claim(pk, request, now).await {
            Ok(Claim::Created) => Ok(()),
            Ok(Claim::AlreadyExists) => Err(answer(
                Kind::Conflict,
                "order_in_progress",
                &format!("{what} for this number is being submitted; retry shortly"),
            )),
            Err(e) => Err(store_failed(&e)),
        }
    }

    /// An order already placed for `pk` and still alive (not failed or canceled: those can be
    /// resubmitted), as its view.
    async fn existing(&self, pk: &str) -> Result<Option<Value>, Error> {
        Ok(self.get(pk).await?.and_then(|item| {
            let sid = get_s(&item, "order_sid")?;
            let status = get_s(&item, "status").unwrap_or_default();
            (!ended(&status)).then(|| json!({"order_sid": sid, "status": status, "existing": true}))
        }))
    }
}

/// An order's `status`: ours while it is submitted and when it ends on our side, else Twilio's
/// as Twilio reports it (hosted-number and port-in statuses are Twilio's vocabulary).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OrderStatus {
    /// Recorded before Twilio is called (with a creation claim).
    Submitting,
    /// Refused by Twilio, or failed there.
    Failed,
    /// Canceled (by us, or at Twilio; both spellings Twilio uses are read).
    Canceled,
    /// Any other status Twilio reports (`received`, `pending-verification`, `completed`, …).
    Twilio(String),
}

impl OrderStatus {
    /// From the stored or reported text.
    pub fn parse(v: &str) -> Self {
        match v {
            "submitting" => Self::Submitting,
            "failed" => Self::Failed,
            "canceled" | "cancelled" => Self::Canceled,
            other => Self::Twilio(other.to_owned()),
        }
    }

    /// Wire form.
    pub fn as_str(&self) -> &str {
        match self {
            Self::Submitting => "submitting",
            Self::Failed => "failed",
            Self::Canceled => "canceled",
            Self::Twilio(s) => s,
        }
    }

    /// A new order may be placed after this one (issue 22 §11: resubmission).
    pub fn ended(&self) -> bool {
        matches!(self, Self::Failed | Self::Canceled)
    }
}

/// An order status after which a new order may be placed (Twilio's `failed`, `canceled`; ours
/// `canceled`).
fn ended(status: &str) -> bool {
    OrderStatus::parse(status).ended()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn port() -> PortInRequest {
        serde_json::from_value(json!({
            "org_id": "acme",
            "business_name": "Acme Plumbing",
            "phone_number": "+14035550150",
            "losing_carrier": {
                "customer_name": "Acme Plumbing Ltd",
                "customer_type": "Business",
                "account_number": "12345",
                "authorized_representative": "Sam Lee",
                "authorized_representative_email": "sam@acme.example",
                "address": {"street": "1 Main St", "city": "Calgary", "state": "AB", "zip": "T2P 1J9", "country": "CA"}
            },
            "documents": [format!("RD{}", "a".repeat(32))],
            "temporary_fallback_e164": "+14035550199"
        }))
        .unwrap()
    }

    #[test]
    fn order_statuses_read_both_spellings_and_keep_twilios_own() {
        assert_eq!(OrderStatus::parse("cancelled"), OrderStatus::Canceled);
        assert_eq!(OrderStatus::Canceled.as_str(), "canceled");
        assert!(OrderStatus::parse("failed").ended());
        let twilio = OrderStatus::parse("pending-verification");
        assert_eq!(twilio.as_str(), "pending-verification");
        assert!(!twilio.ended() && !OrderStatus::Submitting.ended());
    }

    #[test]
    fn port_requests_are_checked_before_anything_is_sent() {
        assert_eq!(port().check().unwrap().as_str(), "+14035550150");
        let bad = |f: fn(&mut PortInRequest), what: &str| {
            let mut r = port();
            f(&mut r);
            let e = r.check().unwrap_err();
            assert!(e.contains(what), "{e}");
        };
        bad(
            |r| r.phone_number = "+442071838750".into(),
            "not a US or Canadian",
        );
        bad(|r| r.documents.clear(), "documents");
        bad(
            |r| r.losing_carrier.customer_type = "Company".into(),
            "customer_type",
        );
        bad(|r| r.losing_carrier.address.city = " ".into(), "city");
        bad(
            |r| r.target_port_in_date = Some("next week".into()),
            "target_port_in_date",
        );
        bad(
            |r| r.losing_carrier.authorized_representative_email = "sam".into(),
            "emails",
        );
        // Issue 22 §12: the address must be where the number is.
        bad(
            |r| r.losing_carrier.address.state = "ON".into(),
            "area code 403 is in AB",
        );
        bad(
            |r| r.losing_carrier.address.country = "US".into(),
            "is a CA number",
        );
        // The wanted date: at least 10 business days ahead, holidays skipped.
        let today = chrono::NaiveDate::from_ymd_opt(2026, 12, 2).unwrap();
        let mut r = port();
        for (date, ok) in [
            ("2026-11-30", false),
            ("2026-12-15", false),
            ("2026-12-16", true),
            ("2027-01-20", true),
        ] {
            r.target_port_in_date = Some(date.into());
            assert_eq!(
                r.check_date(today).is_ok(),
                ok,
                "{date}: {:?}",
                r.check_date(today)
            );
        }
        r.target_port_in_date = None;
        assert!(r.check_date(today).is_ok());
    }
}
