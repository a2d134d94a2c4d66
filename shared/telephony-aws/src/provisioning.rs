//! Client onboarding as a saga (issue 9; spec `original-tradeline.md` §6.1–6.5, flaws F-67…F-76):
//! buy a local number with every webhook bound to this stack, record it in the `numbers` table,
//! add it to the org's Messaging Service when one is configured. A failure at any step undoes the
//! completed ones in reverse (the purchase is released: a paid number is never orphaned), and
//! every step is written to the `transactions` table before and after it runs.
//!
//! At most one onboarding per org runs at a time: a lock item (`lock#<org>`) in the transactions
//! table, claimed with a conditional write and a lease ([`LOCK_LEASE_SECS`]) so a crashed run
//! does not block the org forever. Request-level retries are the idempotency keys' job
//! ([`crate::idempotency`]).

use crate::error::Error;
use aws_sdk_dynamodb::types::AttributeValue;
use serde::{Deserialize, Serialize};
use telephony_core::routes::Route;
use telephony_core::E164;
use twilio_api::numbers::{NumberFields, NumberSearch};

/// Lease of an org's onboarding lock: 120 s (an onboarding takes a few seconds; the Lambda's
/// timeout is 30 s).
pub const LOCK_LEASE_SECS: u64 = 120;
/// Transactions are kept 90 days (TTL).
pub const TRANSACTION_RETENTION_SECS: u64 = 90 * 24 * 3600;
/// Purchase attempts: the first candidate, then one more if Twilio says it is gone (400).
pub const PURCHASE_ATTEMPTS: usize = 2;

/// `POST /ops/numbers/onboard` body.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct OnboardRequest {
    /// The client organisation (`[a-z0-9-]`, 1–64).
    pub org_id: String,
    /// Spoken in the greeting.
    pub business_name: String,
    /// `CA` or `US`.
    pub country: String,
    /// Three-digit area code wanted (NANP).
    pub area_code: Option<String>,
    /// Sales line, E.164.
    pub sales_target: Option<String>,
    /// Support line, E.164.
    pub support_target: Option<String>,
    /// `en-CA`, `en-US` or `fr-CA`.
    pub language: Option<String>,
}

/// A validated onboarding request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OnboardPlan {
    /// Org id.
    pub org_id: String,
    /// Business name.
    pub business_name: String,
    /// `CA` or `US`.
    pub country: &'static str,
    /// Area code.
    pub area_code: Option<String>,
    /// Sales line.
    pub sales_target: Option<E164>,
    /// Support line.
    pub support_target: Option<E164>,
    /// Language.
    pub language: String,
}

/// Checks an onboarding request (pure).
///
/// Errors: a message naming the first bad field: an org id outside `[a-z0-9-]{1,64}`, an empty
/// or over-100-character business name, a country other than CA/US, an area code that is not
/// three digits starting 2–9 (NANP), a target that is not E.164, an unsupported language.
pub fn validate(r: &OnboardRequest) -> Result<OnboardPlan, String> {
    let org_ok = (1..=64).contains(&r.org_id.len())
        && r.org_id
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    if !org_ok {
        return Err("org_id must be 1-64 of a-z, 0-9 and -".into());
    }
    let name = r.business_name.trim();
    if name.is_empty() || name.chars().count() > 100 {
        return Err("business_name must be 1-100 characters".into());
    }
    if name.chars().any(|c| !telephony_core::twiml::is_xml_char(c)) {
        return Err("business_name holds characters XML cannot carry".into());
    }
    let country = match r.country.as_str() {
        "CA" => "CA",
        "US" => "US",
        _ => return Err("country must be CA or US".into()),
    };
    if let Some(a) = &r.area_code {
        let b = a.as_bytes();
        if b.len() != 3 || !b.iter().all(u8::is_ascii_digit) || !(b'2'..=b'9').contains(&b[0]) {
            return Err("area_code must be three digits, the first 2-9".into());
        }
    }
    let target = |k: &str, v: &Option<String>| -> Result<Option<E164>, String> {
        v.as_deref()
            .map(|s| E164::parse_syntax(s).map_err(|e| format!("{k}: {e}")))
            .transpose()
    };
    let language = r.language.clone().unwrap_or_else(|| match country {
        "US" => "en-US".into(),
        _ => "en-CA".into(),
    });
    if !["en-CA", "en-US", "fr-CA"].contains(&language.as_str()) {
        return Err("language must be en-CA, en-US or fr-CA".into());
    }
    Ok(OnboardPlan {
        org_id: r.org_id.clone(),
        business_name: name.to_owned(),
        country,
        area_code: r.area_code.clone(),
        sales_target: target("sales_target", &r.sales_target)?,
        support_target: target("support_target", &r.support_target)?,
        language,
    })
}

/// The webhooks every number of ours is bound to, all POST, under `base` (`PUBLIC_BASE_URL`).
/// Twilio numbers have no SMS status callback field: delivery status comes per message or from
/// the Messaging Service.
pub fn webhook_fields(base: &str, friendly_name: &str) -> NumberFields {
    let post = || Some("POST".to_owned());
    NumberFields {
        friendly_name: Some(friendly_name.to_owned()),
        voice_url: Some(Route::Frontdoor.url(base, &[])),
        voice_method: post(),
        voice_fallback_url: Some(Route::Fallback.url(base, &[])),
        voice_fallback_method: post(),
        status_callback: Some(Route::Status.url(base, &[])),
        status_callback_method: post(),
        sms_url: Some(Route::SmsReply.url(base, &[])),
        sms_method: post(),
        sms_fallback_url: None,
        sms_fallback_method: None,
    }
}

/// The result of an onboarding.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Onboarded {
    /// Transaction id.
    pub transaction_id: String,
    /// The number bought, E.164.
    pub e164: String,
    /// Its Twilio SID, `PN…`.
    pub phone_sid: String,
    /// Which search found it: `area_code` or `country` (when the area code had none).
    pub matched_by: &'static str,
    /// The webhook URLs bound.
    pub voice_url: String,
    /// See `voice_url`.
    pub voice_fallback_url: String,
    /// See `voice_url`.
    pub status_callback: String,
    /// See `voice_url`.
    pub sms_url: String,
}

/// Why an onboarding did not complete.
#[derive(Debug, thiserror::Error)]
pub enum OnboardError {
    /// Another onboarding of this org is running (409).
    #[error("an onboarding of org {0} is already in progress")]
    Busy(String),
    /// No number could be bought (409 with the reason; nothing is left behind).
    #[error("no number available: {0}")]
    NoNumber(String),
    /// A step failed and the completed ones were undone (502/503).
    #[error("onboarding failed at {step} and was rolled back ({compensated}): {cause}")]
    RolledBack {
        /// The step that failed.
        step: &'static str,
        /// What was undone.
        compensated: String,
        /// The failure.
        cause: String,
    },
    /// Reading or writing our own tables failed before anything was bought (503).
    #[error(transparent)]
    Store(#[from] Error),
}

/// The tables and clients a saga uses.
pub struct Saga<'a> {
    /// DynamoDB.
    pub dynamo: &'a aws_sdk_dynamodb::Client,
    /// Twilio.
    pub twilio: &'a twilio_api::Client,
    /// `transactions` table.
    pub transactions_table: &'a str,
    /// `numbers` table.
    pub numbers_table: &'a str,
    /// `PUBLIC_BASE_URL`.
    pub public_base_url: &'a str,
    /// The Messaging Service numbers join, if configured.
    pub messaging_service_sid: Option<&'a str>,
}

fn s(v: &str) -> AttributeValue {
    AttributeValue::S(v.to_owned())
}
fn n(v: u64) -> AttributeValue {
    AttributeValue::N(v.to_string())
}

impl Saga<'_> {
    async fn lock(&self, org: &str, now: u64) -> Result<bool, Error> {
        let r = self
            .dynamo
            .put_item()
            .table_name(self.transactions_table)
            .item("pk", s(&format!("lock#{org}")))
            .item("lease_until", n(now + LOCK_LEASE_SECS))
            .item("expires_at", n(now + LOCK_LEASE_SECS + 3600))
            .condition_expression("attribute_not_exists(pk) OR lease_until < :now")
            .expression_attribute_values(":now", n(now))
            .send()
            .await;
        match r {
            Ok(_) => Ok(true),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|x| x.is_conditional_check_failed_exception()) =>
            {
                Ok(false)
            }
            Err(e) => Err(Error::dynamo("PutItem org lock")(e)),
        }
    }

    async fn unlock(&self, org: &str) {
        let r = self
            .dynamo
            .delete_item()
            .table_name(self.transactions_table)
            .key("pk", s(&format!("lock#{org}")))
            .send()
            .await;
        if let Err(e) = r {
            // The lease ends the lock anyway.
            tracing::warn!(org, error = %Error::dynamo("DeleteItem org lock")(e), "org lock not released");
        }
    }

    /// Records a step (`name` → `status`) on transaction `id`, and the transaction's status.
    async fn record(
        &self,
        id: &str,
        step: &str,
        step_status: &str,
        tx_status: &str,
        now: u64,
        error: Option<&str>,
    ) -> Result<(), Error> {
        let mut expr = String::from(
            "SET #st = :st, updated_at = :now, steps = list_append(if_not_exists(steps, :empty), :step)",
        );
        if error.is_some() {
            expr.push_str(", #err = :err");
        }
        if tx_status != "in_progress" {
            // Closed: leave the sparse index of open sagas.
            expr.push_str(" REMOVE open_kind, open_since");
        }
        let mut u = self
            .dynamo
            .update_item()
            .table_name(self.transactions_table)
            .key("pk", s(id))
            .update_expression(expr)
            .expression_attribute_names("#st", "status")
            .expression_attribute_values(":st", s(tx_status))
            .expression_attribute_values(":now", n(now))
            .expression_attribute_values(":empty", AttributeValue::L(vec![]))
            .expression_attribute_values(
                ":step",
                AttributeValue::L(vec![AttributeValue::M(
                    [
                        ("name".to_owned(), s(step)),
                        ("status".to_owned(), s(step_status)),
                        ("at".to_owned(), n(now)),
                    ]
                    .into(),
                )]),
            );
        if let Some(e) = error {
            u = u
                .expression_attribute_names("#err", "error")
                .expression_attribute_values(":err", s(e));
        }
        u.send()
            .await
            .map_err(Error::dynamo("UpdateItem transaction"))?;
        Ok(())
    }

    /// Runs an onboarding for `plan` on behalf of `principal`.
    ///
    /// Errors: [`OnboardError`]; nothing bought is left behind on any of them.
    pub async fn onboard(
        &self,
        plan: &OnboardPlan,
        principal: &str,
        now: u64,
    ) -> Result<Onboarded, OnboardError> {
        if !self.lock(&plan.org_id, now).await? {
            return Err(OnboardError::Busy(plan.org_id.clone()));
        }
        let result = self.onboard_locked(plan, principal, now).await;
        self.unlock(&plan.org_id).await;
        result
    }

    async fn onboard_locked(
        &self,
        plan: &OnboardPlan,
        principal: &str,
        now: u64,
    ) -> Result<Onboarded, OnboardError> {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        let id = format!("TX{nanos:032x}");
        self.dynamo
            .put_item()
            .table_name(self.transactions_table)
            .item("pk", s(&id))
            .item("kind", s("onboard"))
            .item("org_id", s(&plan.org_id))
            .item("principal", s(principal))
            .item("status", s("in_progress"))
            .item("open_kind", s("onboard"))
            .item("open_since", n(now))
            .item("created_at", n(now))
            .item("steps", AttributeValue::L(vec![]))
            .item("expires_at", n(now + TRANSACTION_RETENTION_SECS))
            .condition_expression("attribute_not_exists(pk)")
            .send()
            .await
            .map_err(Error::dynamo("PutItem transaction"))?;

        // 1. Search: the area code first, then the whole country.
        let base_search = NumberSearch {
            sms_enabled: Some(true),
            voice_enabled: Some(true),
            page_size: Some(5),
            ..Default::default()
        };
        self.record(&id, "search", "started", "in_progress", now, None)
            .await?;
        let mut searches = Vec::new();
        if let Some(a) = &plan.area_code {
            searches.push((
                "area_code",
                NumberSearch {
                    area_code: Some(a.clone()),
                    ..base_search.clone()
                },
            ));
        }
        searches.push(("country", base_search));
        let mut candidates = Vec::new();
        for (by, q) in &searches {
            match self.twilio.search_local_numbers(plan.country, q).await {
                Ok(found) => {
                    candidates = found
                        .into_iter()
                        .filter_map(|n| n.phone_number)
                        .map(|e| (*by, e))
                        .collect();
                }
                Err(e) => {
                    let msg = e.to_string();
                    self.record(&id, "search", "failed", "failed", now, Some(&msg))
                        .await?;
                    return Err(OnboardError::NoNumber(msg));
                }
            }
            if !candidates.is_empty() {
                break;
            }
        }
        if candidates.is_empty() {
            self.record(&id, "search", "failed", "failed", now, Some("none found"))
                .await?;
            return Err(OnboardError::NoNumber(format!(
                "no local number in {}",
                plan.country
            )));
        }
        self.record(&id, "search", "done", "in_progress", now, None)
            .await?;

        // 2. Buy (sent once per candidate; the next candidate only when Twilio says 400).
        let fields = webhook_fields(
            self.public_base_url,
            &format!("{} ({})", plan.business_name, plan.org_id),
        );
        self.record(&id, "buy", "started", "in_progress", now, None)
            .await?;
        let mut bought = None;
        let mut last_error = String::new();
        for (by, e164) in candidates.iter().take(PURCHASE_ATTEMPTS) {
            match self.twilio.buy_number(e164, &fields).await {
                Ok(n) => {
                    bought = Some((*by, n));
                    break;
                }
                Err(twilio_api::TwilioError::Api {
                    status: 400,
                    message,
                    ..
                }) => {
                    last_error = message;
                }
                Err(e) => {
                    // Unknown outcome (no answer): it may have been bought. Look before giving up.
                    last_error = e.to_string();
                    if let Ok(Some(n)) = self.twilio.find_number(e164).await {
                        bought = Some((*by, n));
                    }
                    break;
                }
            }
        }
        let Some((matched_by, number)) = bought else {
            self.record(&id, "buy", "failed", "failed", now, Some(&last_error))
                .await?;
            return Err(OnboardError::NoNumber(last_error));
        };
        let (Some(phone_sid), Some(e164)) = (number.sid.clone(), number.phone_number.clone())
        else {
            let msg = "Twilio's purchase answer has no sid or number".to_owned();
            self.record(&id, "buy", "failed", "failed", now, Some(&msg))
                .await?;
            return Err(OnboardError::NoNumber(msg));
        };
        self.record(&id, "buy", "done", "in_progress", now, None)
            .await?;

        // 3. Record it; 4. join the Messaging Service. A failure undoes the purchase.
        let step_failed = match self
            .write_number(plan, &e164, &phone_sid, principal, now)
            .await
        {
            Err(e) => Some(("record", e.to_string())),
            Ok(()) => match self.messaging_service_sid {
                Some(svc) => self
                    .twilio
                    .add_number_to_service(svc, &phone_sid)
                    .await
                    .err()
                    .map(|e| ("messaging_service", e.to_string())),
                None => None,
            },
        };
        if let Some((step, cause)) = step_failed {
            return Err(self
                .compensate(&id, step, &cause, &e164, &phone_sid, now)
                .await);
        }
        self.record(&id, "record", "done", "completed", now, None)
            .await?;
        Ok(Onboarded {
            transaction_id: id,
            e164,
            phone_sid,
            matched_by,
            voice_url: fields.voice_url.unwrap_or_default(),
            voice_fallback_url: fields.voice_fallback_url.unwrap_or_default(),
            status_callback: fields.status_callback.unwrap_or_default(),
            sms_url: fields.sms_url.unwrap_or_default(),
        })
    }

    async fn write_number(
        &self,
        plan: &OnboardPlan,
        e164: &str,
        phone_sid: &str,
        principal: &str,
        now: u64,
    ) -> Result<(), Error> {
        let mut put = self
            .dynamo
            .put_item()
            .table_name(self.numbers_table)
            .item("e164", s(e164))
            .item("org_id", s(&plan.org_id))
            .item("business_name", s(&plan.business_name))
            .item("language", s(&plan.language))
            .item("phone_sid", s(phone_sid))
            .item("created_by", s(principal))
            .item("created_at", n(now))
            .item("version", n(1))
            .condition_expression("attribute_not_exists(e164)");
        if let Some(t) = &plan.sales_target {
            put = put.item("sales_target", s(t.as_str()));
        }
        if let Some(t) = &plan.support_target {
            put = put.item("support_target", s(t.as_str()));
        }
        put.send().await.map_err(Error::dynamo("PutItem numbers"))?;
        Ok(())
    }

    /// Undoes the purchase (and our item, if written) after `step` failed; the transaction ends
    /// `compensated`, or `failed` with the compensation's error if the release itself failed
    /// (the monitor's sweep retries it).
    async fn compensate(
        &self,
        id: &str,
        step: &'static str,
        cause: &str,
        e164: &str,
        phone_sid: &str,
        now: u64,
    ) -> OnboardError {
        tracing::warn!(
            transaction = id,
            step,
            cause,
            "onboarding step failed; compensating"
        );
        let _ = self
            .record(id, step, "failed", "in_progress", now, Some(cause))
            .await;
        let mut undone = Vec::new();
        if step == "messaging_service" {
            let r = self
                .dynamo
                .delete_item()
                .table_name(self.numbers_table)
                .key("e164", s(e164))
                .send()
                .await;
            if r.is_ok() {
                undone.push("numbers item deleted");
            }
        }
        let released = self.twilio.release_number(phone_sid).await;
        let status = match &released {
            Ok(()) => {
                undone.push("number released");
                "compensated"
            }
            Err(_) => "failed",
        };
        let note = match &released {
            Ok(()) => cause.to_owned(),
            Err(e) => format!("{cause}; release of {phone_sid} failed: {e}"),
        };
        let _ = self
            .record(id, "compensate", status, status, now, Some(&note))
            .await;
        crate::metrics::count("FailedTransactions", Some(("Kind", "onboard")));
        OnboardError::RolledBack {
            step,
            compensated: if undone.is_empty() {
                "nothing undone".into()
            } else {
                undone.join(", ")
            },
            cause: note,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req() -> OnboardRequest {
        OnboardRequest {
            org_id: "acme".into(),
            business_name: "Acme Plumbing".into(),
            country: "CA".into(),
            area_code: Some("587".into()),
            sales_target: Some("+14165550101".into()),
            support_target: None,
            language: None,
        }
    }

    #[test]
    fn requests_are_validated() {
        let p = validate(&req()).unwrap();
        assert_eq!((p.country, p.language.as_str()), ("CA", "en-CA"));
        let bad = |f: fn(&mut OnboardRequest), what: &str| {
            let mut r = req();
            f(&mut r);
            let e = validate(&r).unwrap_err();
            assert!(e.contains(what), "{e}");
        };
        bad(|r| r.org_id = "Acme Inc".into(), "org_id");
        bad(|r| r.country = "FR".into(), "country");
        bad(|r| r.area_code = Some("5a7".into()), "area_code");
        bad(|r| r.area_code = Some("187".into()), "area_code");
        bad(
            |r| r.sales_target = Some("416-555-0101".into()),
            "sales_target",
        );
        bad(|r| r.business_name = " ".into(), "business_name");
        bad(|r| r.language = Some("de-DE".into()), "language");
    }

    #[test]
    fn webhooks_point_at_this_stack_with_post() {
        let f = webhook_fields("https://api.example", "Acme (acme)");
        assert_eq!(
            f.voice_url.as_deref(),
            Some("https://api.example/voice-frontdoor")
        );
        assert_eq!(
            f.sms_url.as_deref(),
            Some("https://api.example/webcomms-sms-reply")
        );
        assert_eq!(
            f.status_callback.as_deref(),
            Some("https://api.example/voice-status")
        );
        assert_eq!(
            f.voice_fallback_url.as_deref(),
            Some("https://api.example/voice-fallback")
        );
        assert!(f
            .form()
            .iter()
            .filter(|(k, _)| k.ends_with("Method"))
            .all(|(_, v)| v == "POST"));
    }
}
