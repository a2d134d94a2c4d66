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

/// A business name as spoken in the greeting: 1–100 characters XML can carry, trimmed.
fn check_business_name(raw: &str) -> Result<String, String> {
    let name = raw.trim();
    if name.is_empty()
        || name.chars().count() > 100
        || !name.chars().all(telephony_core::twiml::is_xml_char)
    {
        return Err("business_name must be 1-100 characters XML can carry".into());
    }
    Ok(name.to_owned())
}

/// The prompt languages the flows speak.
const LANGUAGES: [&str; 3] = ["en-CA", "en-US", "fr-CA"];

fn check_language(l: &str) -> Result<(), String> {
    if LANGUAGES.contains(&l) {
        Ok(())
    } else {
        Err("language must be en-CA, en-US or fr-CA".into())
    }
}

/// A target line `k`: E.164 syntax (the numbering plan is checked where operators prepare
/// numbers: libphonenumber stays out of the bootstraps).
fn check_target(k: &str, v: &str) -> Result<E164, String> {
    let n = E164::parse_syntax(v).map_err(|e| format!("{k}: {e}"))?;
    // Issue 22 §14: a number that cannot be dialled is refused, naming the field.
    n.check_dialable().map_err(|e| format!("{k}: {e}"))?;
    Ok(n)
}

/// An org id: 1–64 of `a-z`, `0-9` and `-` (it is part of DynamoDB keys: `lock#<org>`,
/// `org#<org>`, `<org>#<caller>`).
///
/// Errors: a message saying so.
pub fn check_org_id(org: &str) -> Result<(), String> {
    let ok = (1..=64).contains(&org.len())
        && org
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    if ok {
        Ok(())
    } else {
        Err("org_id must be 1-64 of a-z, 0-9 and -".into())
    }
}

/// Checks an onboarding request (pure).
///
/// Errors: a message naming the first bad field: an org id outside `[a-z0-9-]{1,64}`, an empty
/// or over-100-character business name, a country other than CA/US, an area code that is not
/// three digits starting 2–9 (NANP), a target that is not E.164, an unsupported language.
pub fn validate(r: &OnboardRequest) -> Result<OnboardPlan, String> {
    check_org_id(&r.org_id)?;
    let business_name = check_business_name(&r.business_name)?;
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
    let target = |k: &str, v: &Option<String>| v.as_deref().map(|s| check_target(k, s)).transpose();
    let language = r.language.clone().unwrap_or_else(|| match country {
        "US" => "en-US".into(),
        _ => "en-CA".into(),
    });
    check_language(&language)?;
    Ok(OnboardPlan {
        org_id: r.org_id.clone(),
        business_name,
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
pub fn webhook_fields(base: &str, friendly_name: Option<&str>) -> NumberFields {
    let post = || Some("POST".to_owned());
    NumberFields {
        friendly_name: friendly_name.map(str::to_owned),
        voice_url: Some(Route::Frontdoor.url(base, &[])),
        voice_method: post(),
        voice_fallback_url: Some(Route::Fallback.url(base, &[])),
        voice_fallback_method: post(),
        status_callback: Some(Route::Status.url(base, &[])),
        status_callback_method: post(),
        sms_url: Some(Route::SmsReply.callback_url(base, &[])),
        sms_method: post(),
        sms_fallback_url: None,
        sms_fallback_method: None,
    }
}

/// The searches an onboarding tries in order, until one finds numbers: the area code; the
/// province/state it serves (`InRegion`, when [`telephony_core::area_codes`] knows it); the
/// whole country. Each asks for voice- and SMS-capable local numbers, 5 per page. Pure.
///
/// Returns `(matched_by, region, search)` triples; `matched_by` is `area_code`, `region` or
/// `country`.
pub fn search_plan(
    country: &'static str,
    area_code: Option<&str>,
) -> Vec<(&'static str, Option<&'static str>, NumberSearch)> {
    let base = NumberSearch {
        sms_enabled: Some(true),
        voice_enabled: Some(true),
        page_size: Some(5),
        ..Default::default()
    };
    let mut plan = Vec::new();
    if let Some(a) = area_code {
        plan.push((
            "area_code",
            None,
            NumberSearch {
                area_code: Some(a.to_owned()),
                ..base.clone()
            },
        ));
        if let Some(region) = telephony_core::area_codes::region_of(country, a) {
            plan.push((
                "region",
                Some(region),
                NumberSearch {
                    in_region: Some(region.to_owned()),
                    ..base.clone()
                },
            ));
        }
    }
    plan.push(("country", None, base));
    plan
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
    /// Which search found it: `area_code`; `region` (none in the area code, one in its
    /// province/state, [`telephony_core::area_codes`]); or `country`.
    pub matched_by: &'static str,
    /// The province/state searched (`InRegion`) when `matched_by` is `region`.
    pub region: Option<&'static str>,
    /// The Twilio account the number is under (`AC…`): the org's subaccount, or the main account.
    pub account_sid: String,
    /// This onboarding created the org's subaccount.
    pub subaccount_created: bool,
    /// The Messaging Service the number joined, if any.
    pub messaging_service_sid: Option<String>,
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

/// Transaction states (spec `original-tradeline.md` §7.3 "port design"): `in_progress` →
/// `completed` | `failed` (nothing to undo) | `compensating` → `compensated` |
/// `compensation_failed`. Open states keep the item in the sparse `open-transactions` index,
/// where the monitor's [`Saga::sweep`] finds them.
pub const OPEN_STATES: [&str; 3] = ["in_progress", "compensating", "compensation_failed"];

/// What an onboarding has done so far, as recorded on its transaction item: what compensation
/// undoes, in the saga and in the monitor's sweep.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SagaState {
    /// Transaction id (`TX…`).
    pub id: String,
    /// Org.
    pub org_id: String,
    /// The subaccount the number is bought under, if not the main account.
    pub account_sid: Option<String>,
    /// This saga created that subaccount (compensation closes it).
    pub subaccount_created: bool,
    /// The number a purchase was sent for, its outcome not yet known (a crash mid-purchase).
    pub candidate: Option<String>,
    /// The number bought.
    pub e164: Option<String>,
    /// Its SID.
    pub phone_sid: Option<String>,
    /// The Messaging Service the number must join, if any.
    pub messaging_service_sid: Option<String>,
    /// Steps recorded `done`.
    pub done: Vec<String>,
}

impl SagaState {
    /// Reads the state from a transaction item (attributes `pk`, `org_id`, `account_sid`,
    /// `subaccount_created`, `candidate`, `e164`, `phone_sid`, `messaging_service_sid`,
    /// `steps[].{name,status}`).
    pub fn from_item(item: &Item) -> Self {
        let text = |k: &str| item.get(k).and_then(|v| v.as_s().ok()).cloned();
        let done = item
            .get("steps")
            .and_then(|v| v.as_l().ok())
            .map(|l| {
                l.iter()
                    .filter_map(|s| s.as_m().ok())
                    .filter(|m| {
                        m.get("status")
                            .and_then(|v| v.as_s().ok())
                            .is_some_and(|v| v == "done")
                    })
                    .filter_map(|m| m.get("name").and_then(|v| v.as_s().ok()).cloned())
                    .collect()
            })
            .unwrap_or_default();
        Self {
            id: text("pk").unwrap_or_default(),
            org_id: text("org_id").unwrap_or_default(),
            account_sid: text("account_sid"),
            subaccount_created: item
                .get("subaccount_created")
                .and_then(|v| v.as_bool().ok())
                .copied()
                .unwrap_or(false),
            candidate: text("candidate"),
            e164: text("e164"),
            phone_sid: text("phone_sid"),
            messaging_service_sid: text("messaging_service_sid"),
            done,
        }
    }

    fn did(&self, step: &str) -> bool {
        self.done.iter().any(|d| d == step)
    }

    /// Every step ran: the number is recorded and, when a service is configured, joined it.
    pub fn finished(&self) -> bool {
        self.phone_sid.is_some()
            && self.did("record")
            && (self.messaging_service_sid.is_none() || self.did("messaging_service"))
    }
}

/// A step failure inside the saga.
enum StepFailed {
    /// No number to buy (Twilio said so, or the search failed).
    NoNumber(&'static str, String),
    /// A step failed.
    Step(&'static str, String),
    /// Our own table failed.
    Store(&'static str, Error),
}

impl From<(&'static str, Error)> for StepFailed {
    fn from((step, e): (&'static str, Error)) -> Self {
        StepFailed::Store(step, e)
    }
}

/// What a monitor sweep did with the sagas left open past their lease.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct SweepReport {
    /// Open transactions past the lease.
    pub examined: u32,
    /// Found with every step done; marked `completed`.
    pub completed: u32,
    /// Undone; now `compensated` (or `failed` when nothing had been done).
    pub compensated: u32,
    /// The compensation failed again (`compensation_failed`; retried at the next run).
    pub compensation_failed: u32,
}

/// The tables and clients a saga uses.
pub struct Saga<'a> {
    /// DynamoDB.
    pub dynamo: &'a aws_sdk_dynamodb::Client,
    /// Twilio (the main account).
    pub twilio: &'a twilio_api::Client,
    /// `transactions` table.
    pub transactions_table: &'a str,
    /// `numbers` table.
    pub numbers_table: &'a str,
    /// `PUBLIC_BASE_URL`.
    pub public_base_url: &'a str,
    /// The Messaging Service numbers join, if configured (main-account numbers only: a service
    /// belongs to one account).
    pub messaging_service_sid: Option<&'a str>,
    /// One subaccount per org (`SUBACCOUNT_PER_ORG`).
    pub subaccount_per_org: bool,
}

type Item = std::collections::HashMap<String, AttributeValue>;

fn s(v: &str) -> AttributeValue {
    AttributeValue::S(v.to_owned())
}
fn n(v: u64) -> AttributeValue {
    AttributeValue::N(v.to_string())
}

fn conditional_failed<E, R>(e: &aws_sdk_dynamodb::error::SdkError<E, R>) -> bool
where
    E: aws_sdk_dynamodb::error::ProvideErrorMetadata,
{
    e.as_service_error()
        .and_then(|x| x.code())
        .is_some_and(|c| c == "ConditionalCheckFailedException")
}

impl<'a> Saga<'a> {
    /// A saga over the configured tables, or `None` when `TRANSACTIONS_TABLE` is not set.
    pub fn from_deps(deps: &'a crate::Deps, twilio: &'a twilio_api::Client) -> Option<Self> {
        let c = &deps.config;
        Some(Self {
            dynamo: &deps.dynamo,
            twilio,
            transactions_table: c.transactions_table.as_deref()?,
            numbers_table: &c.numbers_table,
            public_base_url: &c.public_base_url,
            messaging_service_sid: c.messaging_service_sid.as_deref(),
            subaccount_per_org: c.subaccount_per_org,
        })
    }

    fn client(&self, st: &SagaState) -> twilio_api::Client {
        match &st.account_sid {
            Some(a) => self.twilio.for_account(a),
            None => self.twilio.clone(),
        }
    }

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
            Err(e) if conditional_failed(&e) => Ok(false),
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

    /// Sets attributes of transaction `id` (what compensation will need, written before the
    /// remote call it protects).
    async fn note(&self, id: &str, attrs: &[(&str, AttributeValue)]) -> Result<(), Error> {
        let mut expr = String::from("SET updated_at = :now");
        let mut u = self
            .dynamo
            .update_item()
            .table_name(self.transactions_table)
            .key("pk", s(id))
            .expression_attribute_values(":now", n(crate::now_secs()));
        for (i, (k, v)) in attrs.iter().enumerate() {
            expr.push_str(&format!(", #n{i} = :n{i}"));
            u = u
                .expression_attribute_names(format!("#n{i}"), *k)
                .expression_attribute_values(format!(":n{i}"), v.clone());
        }
        u.update_expression(expr)
            .send()
            .await
            .map_err(Error::dynamo("UpdateItem transaction"))?;
        Ok(())
    }

    /// Records a step (`name` → `status`) on transaction `id`, and the transaction's status;
    /// a closed status leaves the `open-transactions` index.
    async fn record(
        &self,
        id: &str,
        step: &str,
        step_status: &str,
        tx_status: &str,
        error: Option<&str>,
    ) -> Result<(), Error> {
        let now = crate::now_secs();
        let mut expr = String::from(
            "SET #st = :st, updated_at = :now, steps = list_append(if_not_exists(steps, :empty), :step)",
        );
        if error.is_some() {
            expr.push_str(", #err = :err");
        }
        if !OPEN_STATES.contains(&tx_status) {
            expr.push_str(" REMOVE open_kind, open_since, sweep_until");
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
        // A service belongs to one account: subaccount numbers do not join the main one's.
        let service = self
            .messaging_service_sid
            .filter(|_| !self.subaccount_per_org);
        let mut put = self
            .dynamo
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
            .item("created_day", n(now / 86_400))
            .item("steps", AttributeValue::L(vec![]))
            .item("expires_at", n(now + TRANSACTION_RETENTION_SECS))
            .condition_expression("attribute_not_exists(pk)");
        if let Some(svc) = service {
            put = put.item("messaging_service_sid", s(svc));
        }
        put.send()
            .await
            .map_err(Error::dynamo("PutItem transaction"))?;
        let mut st = SagaState {
            id: id.clone(),
            org_id: plan.org_id.clone(),
            messaging_service_sid: service.map(str::to_owned),
            ..Default::default()
        };
        let failure = match self.run(plan, principal, now, &mut st).await {
            Ok(done) => return Ok(done),
            Err(f) => f,
        };
        let (step, cause, no_number) = match failure {
            StepFailed::NoNumber(step, m) => (step, m, true),
            StepFailed::Step(step, m) => (step, m, false),
            StepFailed::Store(step, e) => (step, e.to_string(), false),
        };
        let nothing_to_undo =
            st.phone_sid.is_none() && st.candidate.is_none() && !st.subaccount_created;
        if nothing_to_undo {
            if let Err(e) = self
                .record(&id, step, "failed", "failed", Some(&cause))
                .await
            {
                tracing::warn!(transaction = %id, error = %e, "failure not recorded");
            }
            crate::metrics::count("FailedTransactions", Some(("Kind", "onboard")));
            return Err(if no_number {
                OnboardError::NoNumber(cause)
            } else {
                OnboardError::RolledBack {
                    step,
                    compensated: "nothing to undo".into(),
                    cause,
                }
            });
        }
        let (_, undone, note) = self.compensate(&st, step, &cause).await;
        Err(if no_number {
            OnboardError::NoNumber(format!("{cause} ({undone})"))
        } else {
            OnboardError::RolledBack {
                step,
                compensated: undone,
                cause: note,
            }
        })
    }

    /// The org's subaccount: the recorded one (`org#<org>` in the transactions table), else a
    /// new one (created once: `create_subaccount` is never retried).
    async fn org_subaccount(
        &self,
        plan: &OnboardPlan,
        st: &mut SagaState,
    ) -> Result<String, StepFailed> {
        const STEP: &str = "subaccount";
        let org_key = format!("org#{}", plan.org_id);
        let known = self
            .dynamo
            .get_item()
            .table_name(self.transactions_table)
            .key("pk", s(&org_key))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| (STEP, Error::dynamo("GetItem org")(e)))?;
        if let Some(sid) = known
            .item
            .as_ref()
            .and_then(|i| i.get("subaccount_sid"))
            .and_then(|v| v.as_s().ok())
        {
            return Ok(sid.clone());
        }
        let account = self
            .twilio
            .create_subaccount(&format!("TradeLine 24/7 {}", plan.org_id))
            .await
            .map_err(|e| StepFailed::Step(STEP, e.to_string()))?;
        let Some(sid) = account.sid else {
            return Err(StepFailed::Step(STEP, "Twilio's answer has no sid".into()));
        };
        st.account_sid = Some(sid.clone());
        st.subaccount_created = true;
        self.note(
            &st.id,
            &[
                ("account_sid", s(&sid)),
                ("subaccount_created", AttributeValue::Bool(true)),
            ],
        )
        .await
        .map_err(|e| (STEP, e))?;
        self.dynamo
            .put_item()
            .table_name(self.transactions_table)
            .item("pk", s(&org_key))
            .item("subaccount_sid", s(&sid))
            .item("created_by_transaction", s(&st.id))
            .item("created_at", n(crate::now_secs()))
            .condition_expression("attribute_not_exists(pk)")
            .send()
            .await
            .map_err(|e| (STEP, Error::dynamo("PutItem org")(e)))?;
        Ok(sid)
    }

    async fn run(
        &self,
        plan: &OnboardPlan,
        principal: &str,
        now: u64,
        st: &mut SagaState,
    ) -> Result<Onboarded, StepFailed> {
        let id = st.id.clone();
        // 0. The org's subaccount, when configured.
        if self.subaccount_per_org {
            self.record(&id, "subaccount", "started", "in_progress", None)
                .await
                .map_err(|e| ("subaccount", e))?;
            let sid = self.org_subaccount(plan, st).await?;
            st.account_sid = Some(sid);
            self.record(&id, "subaccount", "done", "in_progress", None)
                .await
                .map_err(|e| ("subaccount", e))?;
        }
        let twilio = self.client(st);

        // 1. Search: the area code, then its province/state, then the whole country.
        self.record(&id, "search", "started", "in_progress", None)
            .await
            .map_err(|e| ("search", e))?;
        let searches = search_plan(plan.country, plan.area_code.as_deref());
        let mut candidates = Vec::new();
        for (by, region, q) in &searches {
            let found = twilio
                .search_local_numbers(plan.country, q)
                .await
                .map_err(|e| StepFailed::NoNumber("search", e.to_string()))?;
            candidates = found
                .into_iter()
                .filter_map(|n| n.phone_number)
                .map(|e| (*by, *region, e))
                .collect();
            if !candidates.is_empty() {
                break;
            }
        }
        if candidates.is_empty() {
            return Err(StepFailed::NoNumber(
                "search",
                format!("no local number in {}", plan.country),
            ));
        }
        self.record(&id, "search", "done", "in_progress", None)
            .await
            .map_err(|e| ("search", e))?;

        // 2. Buy (sent once per candidate; the next candidate only when Twilio says 400). The
        // candidate is noted first: after a crash mid-purchase the sweep looks it up.
        let fields = webhook_fields(
            self.public_base_url,
            Some(&format!("{} ({})", plan.business_name, plan.org_id)),
        );
        self.record(&id, "buy", "started", "in_progress", None)
            .await
            .map_err(|e| ("buy", e))?;
        let mut bought = None;
        let mut last_error = String::new();
        for (by, region, e164) in candidates.iter().take(PURCHASE_ATTEMPTS) {
            self.note(&id, &[("candidate", s(e164))])
                .await
                .map_err(|e| ("buy", e))?;
            st.candidate = Some(e164.clone());
            match twilio.buy_number(e164, &fields).await {
                Ok(n) => {
                    bought = Some((*by, *region, n));
                    break;
                }
                Err(twilio_api::TwilioError::Api {
                    status: 400,
                    message,
                    ..
                }) => {
                    // Known outcome: not bought.
                    st.candidate = None;
                    last_error = message;
                }
                Err(e) => {
                    // Unknown outcome (no answer): it may have been bought. Look before giving up.
                    last_error = e.to_string();
                    if let Ok(found) = twilio.find_number(e164).await {
                        if found.is_none() {
                            st.candidate = None;
                        }
                        bought = found.map(|n| (*by, *region, n));
                    }
                    break;
                }
            }
        }
        let Some((matched_by, region, number)) = bought else {
            return Err(StepFailed::NoNumber("buy", last_error));
        };
        let (Some(phone_sid), Some(e164)) = (number.sid.clone(), number.phone_number.clone())
        else {
            return Err(StepFailed::Step(
                "buy",
                "Twilio's purchase answer has no sid or number".into(),
            ));
        };
        st.phone_sid = Some(phone_sid.clone());
        st.e164 = Some(e164.clone());
        st.candidate = None;
        self.note(&id, &[("phone_sid", s(&phone_sid)), ("e164", s(&e164))])
            .await
            .map_err(|e| ("buy", e))?;
        self.record(&id, "buy", "done", "in_progress", None)
            .await
            .map_err(|e| ("buy", e))?;

        // 3. Record it; 4. join the Messaging Service.
        self.write_number(
            plan,
            &e164,
            &phone_sid,
            st.account_sid.as_deref(),
            principal,
            now,
        )
        .await
        .map_err(|e| ("record", e))?;
        self.record(&id, "record", "done", "in_progress", None)
            .await
            .map_err(|e| ("record", e))?;
        if let Some(svc) = &st.messaging_service_sid {
            twilio
                .add_number_to_service(svc, &phone_sid)
                .await
                .map_err(|e| StepFailed::Step("messaging_service", e.to_string()))?;
            self.record(&id, "messaging_service", "done", "in_progress", None)
                .await
                .map_err(|e| ("messaging_service", e))?;
        }
        self.record(&id, "complete", "done", "completed", None)
            .await
            .map_err(|e| ("complete", e))?;
        crate::metrics::count("NumbersPurchased", None);
        Ok(Onboarded {
            transaction_id: id,
            e164,
            phone_sid,
            matched_by,
            region,
            account_sid: twilio.config().account_sid.clone(),
            subaccount_created: st.subaccount_created,
            messaging_service_sid: st.messaging_service_sid.clone(),
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
        account_sid: Option<&str>,
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
        if let Some(a) = account_sid {
            put = put.item("account_sid", s(a));
        }
        if let Some(t) = &plan.sales_target {
            put = put.item("sales_target", s(t.as_str()));
        }
        if let Some(t) = &plan.support_target {
            put = put.item("support_target", s(t.as_str()));
        }
        put.send().await.map_err(Error::dynamo("PutItem numbers"))?;
        Ok(())
    }

    /// Undoes what `st` records, in reverse order, each undo idempotent: our numbers item (only
    /// if it is this purchase's), the purchase (or the candidate of a purchase whose outcome was
    /// unknown, looked up first), the subaccount this saga created. The transaction ends
    /// `compensated` (`failed` when there was nothing to undo), or `compensation_failed` — left
    /// in the open index, so the monitor's sweep tries again.
    ///
    /// Returns `(status, what was undone, cause with any compensation error)`.
    async fn compensate(
        &self,
        st: &SagaState,
        step: &str,
        cause: &str,
    ) -> (&'static str, String, String) {
        let id = st.id.as_str();
        tracing::warn!(
            transaction = id,
            step,
            cause,
            "onboarding step failed; compensating"
        );
        if let Err(e) = self
            .record(id, step, "failed", "compensating", Some(cause))
            .await
        {
            tracing::warn!(transaction = id, error = %e, "step failure not recorded");
        }
        let twilio = self.client(st);
        let mut undone = Vec::new();
        let mut errors = Vec::new();
        if let (Some(e164), Some(sid)) = (&st.e164, &st.phone_sid) {
            let r = self
                .dynamo
                .delete_item()
                .table_name(self.numbers_table)
                .key("e164", s(e164))
                .condition_expression("phone_sid = :sid")
                .expression_attribute_values(":sid", s(sid))
                .send()
                .await;
            match r {
                Ok(_) => undone.push("numbers item deleted".to_owned()),
                Err(e) if conditional_failed(&e) => {}
                Err(e) => {
                    // A missing table means there is no item to delete.
                    let e = Error::dynamo("DeleteItem numbers")(e);
                    tracing::warn!(transaction = id, error = %e, "numbers item not deleted");
                }
            }
        }
        let release = match (&st.phone_sid, &st.candidate) {
            (Some(sid), _) => Some(sid.clone()),
            (None, Some(candidate)) => match twilio.find_number(candidate).await {
                Ok(found) => found.and_then(|n| n.sid),
                Err(e) => {
                    errors.push(format!("lookup of {candidate} failed: {e}"));
                    None
                }
            },
            (None, None) => None,
        };
        if let Some(sid) = release {
            match twilio.release_number(&sid).await {
                Ok(()) => undone.push(format!("number {sid} released")),
                Err(e) => errors.push(format!("release of {sid} failed: {e}")),
            }
        }
        if let (true, Some(account)) = (st.subaccount_created, &st.account_sid) {
            match self.twilio.close_subaccount(account).await {
                Ok(_) => {
                    undone.push(format!("subaccount {account} closed"));
                    let r = self
                        .dynamo
                        .delete_item()
                        .table_name(self.transactions_table)
                        .key("pk", s(&format!("org#{}", st.org_id)))
                        .condition_expression("subaccount_sid = :a")
                        .expression_attribute_values(":a", s(account))
                        .send()
                        .await;
                    if let Err(e) = r.map_err(Error::dynamo("DeleteItem org")) {
                        tracing::warn!(transaction = id, error = %e, "org record not deleted");
                    }
                }
                Err(e) => errors.push(format!("close of subaccount {account} failed: {e}")),
            }
        }
        let status = match (errors.is_empty(), undone.is_empty()) {
            (false, _) => "compensation_failed",
            (true, true) => "failed",
            (true, false) => "compensated",
        };
        let note = if errors.is_empty() {
            cause.to_owned()
        } else {
            format!("{cause}; {}", errors.join("; "))
        };
        if let Err(e) = self
            .record(id, "compensate", status, status, Some(&note))
            .await
        {
            tracing::warn!(transaction = id, error = %e, "compensation not recorded");
        }
        crate::metrics::count("FailedTransactions", Some(("Kind", "onboard")));
        let undone = if undone.is_empty() {
            "nothing undone".to_owned()
        } else {
            undone.join(", ")
        };
        (status, undone, note)
    }

    /// The monitor's sweep: every onboarding still open after its lease ([`LOCK_LEASE_SECS`],
    /// well past the function's 30 s timeout) was abandoned by a crash or a timeout. Found
    /// through the sparse `open-transactions` index (a Query, no scan); each is claimed with a
    /// conditional write (two sweeps never work on one), then finished when every step is done
    /// (only the final record was lost) or compensated.
    ///
    /// Errors: [`Error::Dynamo`] when the index cannot be read.
    pub async fn sweep(&self, now: u64) -> Result<SweepReport, Error> {
        let mut report = SweepReport::default();
        let mut start = None;
        loop {
            let page = self
                .dynamo
                .query()
                .table_name(self.transactions_table)
                .index_name("open-transactions")
                .key_condition_expression("open_kind = :k AND open_since <= :cutoff")
                .expression_attribute_values(":k", s("onboard"))
                .expression_attribute_values(":cutoff", n(now.saturating_sub(LOCK_LEASE_SECS)))
                .set_exclusive_start_key(start.take())
                .send()
                .await
                .map_err(Error::dynamo("Query open-transactions"))?;
            for item in page.items() {
                report.examined += 1;
                let st = SagaState::from_item(item);
                let claimed = self
                    .dynamo
                    .update_item()
                    .table_name(self.transactions_table)
                    .key("pk", s(&st.id))
                    .update_expression("SET sweep_until = :until")
                    .condition_expression(
                        "attribute_exists(open_kind) AND (attribute_not_exists(sweep_until) OR sweep_until < :now)",
                    )
                    .expression_attribute_values(":until", n(now + LOCK_LEASE_SECS))
                    .expression_attribute_values(":now", n(now))
                    .send()
                    .await;
                match claimed {
                    Ok(_) => {}
                    Err(e) if conditional_failed(&e) => continue,
                    Err(e) => return Err(Error::dynamo("UpdateItem transaction claim")(e)),
                }
                if st.finished() {
                    self.record(&st.id, "sweep", "done", "completed", None)
                        .await?;
                    report.completed += 1;
                    continue;
                }
                let (status, undone, _) = self
                    .compensate(
                        &st,
                        "sweep",
                        "abandoned in progress; found by the monitor's sweep",
                    )
                    .await;
                tracing::warn!(transaction = %st.id, status, undone, "abandoned onboarding swept");
                if status == "compensation_failed" {
                    report.compensation_failed += 1;
                } else {
                    report.compensated += 1;
                }
            }
            match page.last_evaluated_key {
                Some(k) if !k.is_empty() => start = Some(k),
                _ => return Ok(report),
            }
        }
    }
}

/// `PATCH /ops/numbers/{e164}/webhooks` body: only the given URLs change; none given re-applies
/// this stack's URLs for all four.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebhookChange {
    /// `VoiceUrl`.
    pub voice_url: Option<String>,
    /// `VoiceFallbackUrl`.
    pub voice_fallback_url: Option<String>,
    /// `StatusCallback`.
    pub status_callback: Option<String>,
    /// `SmsUrl`.
    pub sms_url: Option<String>,
}

impl WebhookChange {
    /// The Twilio fields to send: the given URLs (each must be `https://`, or `http://` for a
    /// local stack under `base`) with POST, or all of this stack's when none is given.
    ///
    /// Errors: a message naming a URL that is not http(s).
    pub fn fields(&self, base: &str) -> Result<NumberFields, String> {
        let given = [
            &self.voice_url,
            &self.voice_fallback_url,
            &self.status_callback,
            &self.sms_url,
        ];
        if given.iter().all(|u| u.is_none()) {
            return Ok(webhook_fields(base, None));
        }
        for u in given.into_iter().flatten() {
            if !(u.starts_with("https://") || u.starts_with("http://")) {
                return Err(format!("{u:?} is not an http(s) URL"));
            }
        }
        let post = |u: &Option<String>| u.as_ref().map(|_| "POST".to_owned());
        Ok(NumberFields {
            voice_url: self.voice_url.clone(),
            voice_method: post(&self.voice_url),
            voice_fallback_url: self.voice_fallback_url.clone(),
            voice_fallback_method: post(&self.voice_fallback_url),
            status_callback: self.status_callback.clone(),
            status_callback_method: post(&self.status_callback),
            sms_url: self.sms_url.clone(),
            sms_method: post(&self.sms_url),
            ..Default::default()
        })
    }
}

/// `PUT /ops/numbers/{e164}/config` body: the per-number settings the voice and SMS flows read.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConfigChange {
    /// Spoken in the greeting.
    pub business_name: Option<String>,
    /// Sales line, E.164.
    pub sales_target: Option<String>,
    /// Support line, E.164.
    pub support_target: Option<String>,
    /// `en-CA`, `en-US` or `fr-CA`.
    pub language: Option<String>,
    /// SMS auto-reply template (`{business}` is replaced).
    pub sms_auto_reply: Option<String>,
    /// Accept spoken answers at the consent question and the menu (stored `"true"`/`"false"`).
    pub speech_input: Option<bool>,
    /// IANA time zone of the hours (given with `hours`), e.g. `America/Edmonton`.
    pub timezone: Option<String>,
    /// Weekly hours ([`telephony_core::hours`] written form; `""` → always open).
    pub hours: Option<String>,
    /// Statutory holidays: `CA`, `CA-AB`, `CA-BC`, `CA-ON`, `CA-QC`, `US` (`""` → none).
    pub holiday_region: Option<String>,
    /// Closure dates, `YYYY-MM-DD,YYYY-MM-DD` (`""` → none).
    pub closures: Option<String>,
    /// E.164 rung outside hours after the closed message (`""` → voicemail).
    pub after_hours_target: Option<String>,
    /// Text callers whose call was missed (stored `"true"`/`"false"`).
    pub missed_call_text: Option<bool>,
    /// Reply to WhatsApp messages (stored `"true"`/`"false"`).
    pub whatsapp_enabled: Option<bool>,
    /// Approved WhatsApp template for outside the 24-hour window (`HX…`, `""` → none).
    pub whatsapp_template_sid: Option<String>,
    /// The AI receptionist (issue 12).
    pub ai: Option<AiChange>,
    /// The screened hand-off's switches (issue 24 §1).
    pub screening: Option<ScreeningChange>,
    /// The verified-caller gate, `off`, `unverified` or `failed-only` (issue 24 §2;
    /// [`telephony_core::gate::RobocallGate`]), stored as `robocall_gate`.
    pub robocall_gate: Option<String>,
}

/// `screening` of a config change: each `on`, `off` or `auto`
/// ([`telephony_core::screening::ScreenSetting`]), stored as `screening_default`,
/// `screening_sales`, `screening_support`, `screening_after_hours`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScreeningChange {
    /// For every target without its own setting.
    pub default: Option<String>,
    /// The Sales line.
    pub sales: Option<String>,
    /// The Support line.
    pub support: Option<String>,
    /// The after-hours line.
    pub after_hours: Option<String>,
}

/// `ai` of a config change: stored as `ai_enabled`, `ai_engine`, `ai_stream_url`, `ai_share`,
/// `ai_knowledge`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AiChange {
    /// Hand calls to the AI after consent (needs a stream URL, given now or before).
    pub enabled: Option<bool>,
    /// The bridge's `wss://` URL ([`telephony_core::stream::check_stream_url`]).
    pub stream_url: Option<String>,
    /// Percent of calls sent to the AI, 0–100 (default 100).
    pub share: Option<u8>,
    /// `relay` (the built-in receptionist, issue 28) or `stream` (an external bridge).
    pub engine: Option<String>,
    /// What the receptionist may tell callers (services, areas, prices), at most
    /// [`telephony_core::stream::MAX_KNOWLEDGE_CHARS`] characters; `""` clears it.
    pub knowledge: Option<String>,
}

impl ConfigChange {
    /// The attributes to set, validated (pure).
    ///
    /// Errors: a message naming the first bad field, or that nothing was given.
    pub fn attributes(&self) -> Result<Vec<(&'static str, String)>, String> {
        let mut out = Vec::new();
        if let Some(b) = &self.business_name {
            out.push(("business_name", check_business_name(b)?));
        }
        for (k, v) in [
            ("sales_target", &self.sales_target),
            ("support_target", &self.support_target),
        ] {
            if let Some(v) = v {
                out.push((k, check_target(k, v)?.as_str().to_owned()));
            }
        }
        if let Some(l) = &self.language {
            check_language(l)?;
            out.push(("language", l.clone()));
        }
        if let Some(t) = &self.sms_auto_reply {
            let xml_ok = t.chars().all(telephony_core::twiml::is_xml_char);
            if t.trim().is_empty() || !xml_ok || t.chars().count() > 320 {
                return Err("sms_auto_reply must be 1-320 characters XML can carry".into());
            }
            out.push(("sms_auto_reply", t.clone()));
        }
        if let Some(on) = self.speech_input {
            out.push(("speech_input", on.to_string()));
        }
        if let Some(on) = self.missed_call_text {
            out.push(("missed_call_text", on.to_string()));
        }
        if let Some(on) = self.whatsapp_enabled {
            out.push(("whatsapp_enabled", on.to_string()));
        }
        if let Some(t) = &self.whatsapp_template_sid {
            let ok = t.is_empty()
                || (t.len() == 34
                    && t.starts_with("HX")
                    && t[2..].bytes().all(|b| b.is_ascii_hexdigit()));
            if !ok {
                return Err("whatsapp_template_sid must be HX followed by 32 hex digits".into());
            }
            out.push(("whatsapp_template_sid", t.clone()));
        }
        if let Some(ai) = &self.ai {
            if let Some(url) = &ai.stream_url {
                telephony_core::stream::check_stream_url(url)?;
                out.push(("ai_stream_url", url.clone()));
            }
            if let Some(share) = ai.share {
                if share > 100 {
                    return Err("ai.share must be 0-100 (percent of calls)".into());
                }
                out.push(("ai_share", share.to_string()));
            }
            if let Some(engine) = &ai.engine {
                if !matches!(engine.as_str(), "relay" | "stream") {
                    return Err("ai.engine must be relay or stream".into());
                }
                out.push(("ai_engine", engine.clone()));
            }
            if let Some(k) = &ai.knowledge {
                let printable = k.chars().all(|c| {
                    c == '\n' || (!c.is_control() && telephony_core::twiml::is_xml_char(c))
                });
                if k.chars().count() > telephony_core::stream::MAX_KNOWLEDGE_CHARS || !printable {
                    return Err(format!(
                        "ai.knowledge must be at most {} printable characters",
                        telephony_core::stream::MAX_KNOWLEDGE_CHARS
                    ));
                }
                out.push(("ai_knowledge", k.clone()));
            }
            if let Some(on) = ai.enabled {
                out.push(("ai_enabled", on.to_string()));
            }
        }
        if let Some(sc) = &self.screening {
            for (k, v) in [
                ("screening_default", &sc.default),
                ("screening_sales", &sc.sales),
                ("screening_support", &sc.support),
                ("screening_after_hours", &sc.after_hours),
            ] {
                if let Some(v) = v {
                    if telephony_core::screening::ScreenSetting::parse(v).is_none() {
                        return Err(format!("screening.{} must be on, off or auto", &k[10..]));
                    }
                    out.push((k, v.clone()));
                }
            }
        }
        if let Some(g) = &self.robocall_gate {
            if telephony_core::gate::RobocallGate::parse(g).is_none() {
                return Err("robocall_gate must be off, unverified or failed-only".into());
            }
            out.push(("robocall_gate", g.clone()));
        }
        match (&self.timezone, &self.hours) {
            (Some(tz), Some(h)) => {
                if !h.trim().is_empty() {
                    telephony_core::hours::parse(tz, h, None, None)?;
                }
                out.push(("timezone", tz.clone()));
                out.push(("hours", h.clone()));
            }
            (None, None) => {}
            _ => return Err("timezone and hours are set together".into()),
        }
        if let Some(r) = &self.holiday_region {
            if !r.is_empty() && !telephony_core::hours::known_region(r) {
                return Err(format!(
                    "unknown holiday_region {r:?} (CA, CA-AB, CA-BC, CA-ON, CA-QC, US)"
                ));
            }
            out.push(("holiday_region", r.clone()));
        }
        if let Some(c) = &self.closures {
            telephony_core::hours::parse("Etc/UTC", "", None, Some(c))?;
            out.push(("closures", c.clone()));
        }
        if let Some(t) = &self.after_hours_target {
            let v = if t.is_empty() {
                String::new()
            } else {
                check_target("after_hours_target", t)?.as_str().to_owned()
            };
            out.push(("after_hours_target", v));
        }
        if out.is_empty() {
            return Err("nothing to change".into());
        }
        Ok(out)
    }
}

/// Reads and changes numbers already onboarded (the ops routes other than onboarding). Every
/// method answers `(status, JSON)`, errors as `{"error": {"code", "message"}}`.
pub struct NumberAdmin<'a> {
    /// DynamoDB.
    pub dynamo: &'a aws_sdk_dynamodb::Client,
    /// Twilio.
    pub twilio: &'a twilio_api::Client,
    /// `numbers` table.
    pub numbers_table: &'a str,
    /// `PUBLIC_BASE_URL`.
    pub public_base_url: &'a str,
}

type Answer = (http::StatusCode, serde_json::Value);

fn fail(status: http::StatusCode, code: &str, message: &str) -> Answer {
    (status, crate::glue::error_body(code, message))
}

impl NumberAdmin<'_> {
    fn ours(&self, n: &twilio_api::numbers::IncomingNumber) -> bool {
        let base = self.public_base_url.trim_end_matches('/');
        let under = |u: &Option<String>| u.as_deref().is_some_and(|u| u.starts_with(base));
        under(&n.voice_url) && under(&n.sms_url)
    }

    async fn item(&self, e164: &E164) -> Result<Option<Item>, Error> {
        Ok(self
            .dynamo
            .get_item()
            .table_name(self.numbers_table)
            .key("e164", s(e164.as_str()))
            .consistent_read(true)
            .send()
            .await
            .map_err(Error::dynamo("GetItem numbers"))?
            .item)
    }

    /// `GET /ops/numbers`: our items (a paginated scan of the small `numbers` table) merged with
    /// Twilio's list (all pages) by E.164.
    pub async fn list(&self) -> Answer {
        use http::StatusCode;
        let items =
            match crate::store::scan_all(self.dynamo, self.numbers_table, "Scan numbers").await {
                Ok(i) => i,
                Err(e) => {
                    return fail(
                        StatusCode::SERVICE_UNAVAILABLE,
                        "store_unavailable",
                        &e.to_string(),
                    )
                }
            };
        let ours: std::collections::BTreeMap<String, serde_json::Value> = items
            .iter()
            .filter_map(|i| match i.get("e164") {
                Some(AttributeValue::S(n)) => Some((n.clone(), crate::store::item_json(i))),
                _ => None,
            })
            .collect();
        // The main account's numbers and those of every org subaccount our items name.
        let accounts: std::collections::BTreeSet<String> = ours
            .values()
            .filter_map(|c| {
                c.get("account_sid")
                    .and_then(|v| v.as_str())
                    .map(str::to_owned)
            })
            .collect();
        let mut at_twilio = Vec::new();
        for client in std::iter::once(self.twilio.clone())
            .chain(accounts.iter().map(|a| self.twilio.for_account(a)))
        {
            match client.list_numbers(None).await {
                Ok(l) => at_twilio.extend(l),
                Err(e) => return fail(StatusCode::BAD_GATEWAY, "twilio_error", &e.to_string()),
            }
        }
        let mut rows = Vec::new();
        let mut seen = std::collections::BTreeSet::new();
        for n in &at_twilio {
            let Some(e) = n.phone_number.clone() else {
                continue;
            };
            seen.insert(e.clone());
            rows.push(serde_json::json!({
                "e164": e, "phone_sid": n.sid, "at_twilio": true,
                "in_table": ours.contains_key(&e), "webhooks_ok": self.ours(n),
                "voice_url": n.voice_url, "sms_url": n.sms_url, "config": ours.get(&e),
            }));
        }
        for (e, item) in &ours {
            if !seen.contains(e) {
                rows.push(serde_json::json!({
                    "e164": e, "at_twilio": false, "in_table": true, "webhooks_ok": false, "config": item,
                }));
            }
        }
        (
            StatusCode::OK,
            serde_json::json!({ "count": rows.len(), "numbers": rows }),
        )
    }

    /// `GET /ops/numbers/{e164}`.
    pub async fn show(&self, e164: &E164) -> Answer {
        use http::StatusCode;
        let item = match self.item(e164).await {
            Ok(i) => i,
            Err(e) => {
                return fail(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "store_unavailable",
                    &e.to_string(),
                )
            }
        };
        let twilio = match self
            .client_for(item.as_ref())
            .find_number(e164.as_str())
            .await
        {
            Ok(t) => t,
            Err(e) => return fail(StatusCode::BAD_GATEWAY, "twilio_error", &e.to_string()),
        };
        if item.is_none() && twilio.is_none() {
            return fail(
                StatusCode::NOT_FOUND,
                "unknown_number",
                "not in the numbers table nor at Twilio",
            );
        }
        let webhooks_ok = twilio.as_ref().is_some_and(|n| self.ours(n));
        (
            StatusCode::OK,
            serde_json::json!({
                "e164": e164.as_str(),
                "config": item.as_ref().map(crate::store::item_json),
                "twilio": twilio.map(|n| serde_json::json!({
                    "phone_sid": n.sid, "voice_url": n.voice_url, "voice_fallback_url": n.voice_fallback_url,
                    "status_callback": n.status_callback, "sms_url": n.sms_url,
                })),
                "webhooks_ok": webhooks_ok,
            }),
        )
    }

    /// The Twilio client for a number: its subaccount's when our item names one.
    fn client_for(&self, item: Option<&Item>) -> twilio_api::Client {
        match item
            .and_then(|i| i.get("account_sid"))
            .and_then(|v| v.as_s().ok())
        {
            Some(a) => self.twilio.for_account(a),
            None => self.twilio.clone(),
        }
    }

    /// The number's SID (ours, else Twilio's by E.164) and the client of its account.
    async fn phone_sid(&self, e164: &E164) -> Result<(Option<String>, twilio_api::Client), Answer> {
        use http::StatusCode;
        let item = self.item(e164).await.map_err(|e| {
            fail(
                StatusCode::SERVICE_UNAVAILABLE,
                "store_unavailable",
                &e.to_string(),
            )
        })?;
        let twilio = self.client_for(item.as_ref());
        if let Some(sid) = item
            .as_ref()
            .and_then(|i| i.get("phone_sid"))
            .and_then(|v| v.as_s().ok())
        {
            return Ok((Some(sid.clone()), twilio));
        }
        let sid = twilio
            .find_number(e164.as_str())
            .await
            .map(|n| n.and_then(|n| n.sid))
            .map_err(|e| fail(StatusCode::BAD_GATEWAY, "twilio_error", &e.to_string()))?;
        Ok((sid, twilio))
    }

    /// `PATCH /ops/numbers/{e164}/webhooks`: only the given fields are sent to Twilio.
    pub async fn set_webhooks(&self, e164: &E164, change: &WebhookChange) -> Answer {
        use http::StatusCode;
        let fields = match change.fields(self.public_base_url) {
            Ok(f) => f,
            Err(m) => return fail(StatusCode::BAD_REQUEST, "invalid", &m),
        };
        let (sid, twilio) = match self.phone_sid(e164).await {
            Ok((Some(s), twilio)) => (s, twilio),
            Ok((None, _)) => {
                return fail(
                    StatusCode::NOT_FOUND,
                    "unknown_number",
                    "not ours at Twilio",
                )
            }
            Err(a) => return a,
        };
        match twilio.update_number(&sid, &fields).await {
            Ok(n) => (
                StatusCode::OK,
                serde_json::json!({
                    "e164": e164.as_str(), "phone_sid": sid,
                    "sent": fields.form().iter().map(|(k, _)| *k).collect::<Vec<_>>(),
                    "voice_url": n.voice_url, "sms_url": n.sms_url,
                }),
            ),
            Err(e) => fail(StatusCode::BAD_GATEWAY, "twilio_error", &e.to_string()),
        }
    }

    /// `PUT /ops/numbers/{e164}/config` with `If-Match: <version>`: a conditional update that
    /// bumps `version`.
    pub async fn set_config(
        &self,
        e164: &E164,
        change: &ConfigChange,
        if_match: Option<&str>,
        principal: &str,
        now: u64,
    ) -> Answer {
        use http::StatusCode;
        let Some(expected) = if_match else {
            return fail(
                StatusCode::PRECONDITION_REQUIRED,
                "if_match_required",
                "send If-Match with the item's version (GET it first)",
            );
        };
        let Ok(expected) = expected.parse::<u64>() else {
            return fail(
                StatusCode::BAD_REQUEST,
                "bad_if_match",
                "If-Match must be the item's numeric version",
            );
        };
        let attrs = match change.attributes() {
            Ok(a) => a,
            Err(m) => return fail(StatusCode::BAD_REQUEST, "invalid", &m),
        };
        let mut expr = String::from("SET version = :next, updated_at = :now, updated_by = :by");
        let mut u = self
            .dynamo
            .update_item()
            .table_name(self.numbers_table)
            .key("e164", s(e164.as_str()))
            .condition_expression("attribute_exists(e164) AND version = :expected")
            .expression_attribute_values(":expected", n(expected))
            .expression_attribute_values(":next", n(expected + 1))
            .expression_attribute_values(":now", n(now))
            .expression_attribute_values(":by", s(principal));
        for (i, (k, v)) in attrs.iter().enumerate() {
            expr.push_str(&format!(", #a{i} = :v{i}"));
            u = u
                .expression_attribute_names(format!("#a{i}"), *k)
                .expression_attribute_values(format!(":v{i}"), s(v));
        }
        match u.update_expression(expr).send().await {
            Ok(_) => (
                StatusCode::OK,
                serde_json::json!({ "e164": e164.as_str(), "version": expected + 1 }),
            ),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|x| x.is_conditional_check_failed_exception()) =>
            {
                match self.item(e164).await {
                    Ok(None) => fail(
                        StatusCode::NOT_FOUND,
                        "unknown_number",
                        "not in the numbers table",
                    ),
                    _ => fail(
                        StatusCode::CONFLICT,
                        "version_mismatch",
                        "the item changed since that version; GET it again",
                    ),
                }
            }
            Err(e) => fail(
                StatusCode::SERVICE_UNAVAILABLE,
                "store_unavailable",
                &Error::dynamo("UpdateItem numbers")(e).to_string(),
            ),
        }
    }

    /// `DELETE /ops/numbers/{e164}`: release at Twilio (a number already gone counts as
    /// released), then delete our item. Safe to retry at any point.
    pub async fn release(&self, e164: &E164) -> Answer {
        use http::StatusCode;
        let (sid, twilio) = match self.phone_sid(e164).await {
            Ok(found) => found,
            Err(a) => return a,
        };
        if let Some(sid) = &sid {
            if let Err(e) = twilio.release_number(sid).await {
                return fail(StatusCode::BAD_GATEWAY, "twilio_error", &e.to_string());
            }
        }
        if let Err(e) = self
            .dynamo
            .delete_item()
            .table_name(self.numbers_table)
            .key("e164", s(e164.as_str()))
            .send()
            .await
        {
            return fail(
                StatusCode::SERVICE_UNAVAILABLE,
                "store_unavailable",
                &Error::dynamo("DeleteItem numbers")(e).to_string(),
            );
        }
        (
            StatusCode::OK,
            serde_json::json!({ "e164": e164.as_str(), "released": sid.is_some(), "phone_sid": sid }),
        )
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
    fn undialable_targets_are_refused_naming_the_field() {
        for (field, change) in [
            (
                "sales_target",
                ConfigChange {
                    sales_target: Some("+1403555".into()),
                    ..Default::default()
                },
            ),
            (
                "support_target",
                ConfigChange {
                    support_target: Some("+11235550100".into()),
                    ..Default::default()
                },
            ),
            (
                "after_hours_target",
                ConfigChange {
                    after_hours_target: Some("+14034110100".into()),
                    ..Default::default()
                },
            ),
        ] {
            let e = change.attributes().unwrap_err();
            assert!(e.starts_with(field), "{e}");
        }
        let ok = ConfigChange {
            sales_target: Some("+14035550123".into()),
            ..Default::default()
        };
        assert!(ok.attributes().is_ok());
    }

    #[test]
    fn the_ai_settings_are_checked_and_stored_flat() {
        let change: ConfigChange = serde_json::from_str(
            r#"{"ai": {"enabled": true, "stream_url": "wss://bridge.example/media", "share": 25}}"#,
        )
        .unwrap();
        assert_eq!(
            change.attributes().unwrap(),
            vec![
                ("ai_stream_url", "wss://bridge.example/media".to_owned()),
                ("ai_share", "25".to_owned()),
                ("ai_enabled", "true".to_owned()),
            ]
        );
        for (body, what) in [
            (
                r#"{"ai": {"stream_url": "https://bridge.example"}}"#,
                "wss://",
            ),
            (
                r#"{"ai": {"stream_url": "ws://bridge.example/m"}}"#,
                "this machine",
            ),
            (r#"{"ai": {"share": 101}}"#, "ai.share"),
        ] {
            let c: ConfigChange = serde_json::from_str(body).unwrap();
            let e = c.attributes().unwrap_err();
            assert!(e.contains(what), "{body}: {e}");
        }
        assert!(serde_json::from_str::<ConfigChange>(r#"{"ai": {"url": "wss://x"}}"#).is_err());
    }

    #[test]
    fn the_caller_protection_switches_are_checked_and_stored_flat() {
        let change: ConfigChange = serde_json::from_str(
            r#"{"screening": {"default": "off", "sales": "on"}, "robocall_gate": "unverified"}"#,
        )
        .unwrap();
        assert_eq!(
            change.attributes().unwrap(),
            vec![
                ("screening_default", "off".to_owned()),
                ("screening_sales", "on".to_owned()),
                ("robocall_gate", "unverified".to_owned()),
            ]
        );
        for (body, what) in [
            (r#"{"screening": {"support": "yes"}}"#, "screening.support"),
            (r#"{"robocall_gate": "strict"}"#, "robocall_gate"),
        ] {
            let c: ConfigChange = serde_json::from_str(body).unwrap();
            let e = c.attributes().unwrap_err();
            assert!(e.contains(what), "{body}: {e}");
        }
        assert!(serde_json::from_str::<ConfigChange>(r#"{"screening": {"ai": "on"}}"#).is_err());
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
    fn the_search_falls_back_from_area_code_to_region_to_country() {
        let plan = search_plan("CA", Some("587"));
        let steps: Vec<_> = plan.iter().map(|(by, r, _)| (*by, *r)).collect();
        assert_eq!(
            steps,
            [
                ("area_code", None),
                ("region", Some("AB")),
                ("country", None)
            ]
        );
        assert_eq!(plan[0].2.area_code.as_deref(), Some("587"));
        assert_eq!(plan[0].2.in_region, None);
        assert_eq!(plan[1].2.in_region.as_deref(), Some("AB"));
        assert_eq!(plan[1].2.area_code, None);
        assert_eq!(
            (plan[2].2.area_code.clone(), plan[2].2.in_region.clone()),
            (None, None)
        );
        assert!(plan
            .iter()
            .all(|(_, _, q)| q.sms_enabled == Some(true) && q.voice_enabled == Some(true)));
        // An area code of no single region (867: three territories): straight to the country.
        let by: Vec<_> = search_plan("CA", Some("867")).iter().map(|p| p.0).collect();
        assert_eq!(by, ["area_code", "country"]);
        let by: Vec<_> = search_plan("US", None).iter().map(|p| p.0).collect();
        assert_eq!(by, ["country"]);
    }

    #[test]
    fn saga_state_reads_what_the_saga_wrote() {
        let step = |name: &str, status: &str| {
            AttributeValue::M(
                [
                    ("name".to_owned(), s(name)),
                    ("status".to_owned(), s(status)),
                ]
                .into(),
            )
        };
        let mut item: Item = [
            ("pk".to_owned(), s("TX1")),
            ("org_id".to_owned(), s("acme")),
            ("phone_sid".to_owned(), s("PN1")),
            ("e164".to_owned(), s("+15875550100")),
            (
                "steps".to_owned(),
                AttributeValue::L(vec![
                    step("buy", "started"),
                    step("buy", "done"),
                    step("record", "done"),
                ]),
            ),
        ]
        .into();
        let st = SagaState::from_item(&item);
        assert_eq!(st.done, ["buy", "record"]);
        assert!(st.finished(), "bought and recorded, no service to join");
        item.insert("messaging_service_sid".into(), s("MG1"));
        assert!(
            !SagaState::from_item(&item).finished(),
            "the service step is missing"
        );
        item.remove("phone_sid");
        item.remove("messaging_service_sid");
        assert!(!SagaState::from_item(&item).finished());
    }

    #[test]
    fn webhooks_point_at_this_stack_with_post() {
        let f = webhook_fields("https://api.example", Some("Acme (acme)"));
        assert_eq!(
            f.voice_url.as_deref(),
            Some("https://api.example/voice-frontdoor")
        );
        assert_eq!(
            f.sms_url.as_deref(),
            Some("https://api.example/webcomms-sms-reply#rc=3&rp=all"),
            "the Messaging URL asks Twilio to retry a 503 (an unrecorded opt-out)"
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
