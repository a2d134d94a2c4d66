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

use crate::plan::{search_plan, webhook_fields, OnboardPlan};
use aws_sdk_dynamodb::types::AttributeValue;
use serde::Serialize;
use telephony_aws::item::{n, s, Item};
use telephony_aws::Error;

/// Lease of an org's onboarding lock: 120 s (an onboarding takes a few seconds; the Lambda's
/// timeout is 30 s).
pub const LOCK_LEASE_SECS: u64 = 120;
/// Transactions are kept 90 days (TTL).
pub const TRANSACTION_RETENTION_SECS: u64 = 90 * 24 * 3600;
/// Purchase attempts: the first candidate, then one more if Twilio says it is gone (400).
pub const PURCHASE_ATTEMPTS: usize = 2;

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
pub const OPEN_STATES: [SagaStatus; 3] = [
    SagaStatus::InProgress,
    SagaStatus::Compensating,
    SagaStatus::CompensationFailed,
];

/// A transaction's `status` (the states above).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SagaStatus {
    /// Steps are running.
    InProgress,
    /// Every step ran.
    Completed,
    /// A step failed before anything was done.
    Failed,
    /// Undoing the completed steps.
    Compensating,
    /// Undone.
    Compensated,
    /// Undoing failed; the monitor's sweep retries.
    CompensationFailed,
}

impl SagaStatus {
    /// Wire form (the item's `status`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::InProgress => "in_progress",
            Self::Completed => "completed",
            Self::Failed => "failed",
            Self::Compensating => "compensating",
            Self::Compensated => "compensated",
            Self::CompensationFailed => "compensation_failed",
        }
    }

    /// Open: the transaction stays in the `open-transactions` index for the sweep.
    pub fn is_open(self) -> bool {
        OPEN_STATES.contains(&self)
    }
}

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
    pub fn from_deps(
        deps: &'a telephony_aws::Deps,
        twilio: &'a twilio_api::Client,
    ) -> Option<Self> {
        let c = crate::settings::Settings::of(&deps.config);
        Some(Self {
            dynamo: &deps.dynamo,
            twilio,
            transactions_table: c.transactions_table?,
            numbers_table: c.numbers_table,
            public_base_url: c.public_base_url,
            messaging_service_sid: c.messaging_service_sid,
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
            .item("pk", s(format!("lock#{org}")))
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
            .key("pk", s(format!("lock#{org}")))
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
            .expression_attribute_values(":now", n(telephony_aws::now_secs()));
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
        tx_status: SagaStatus,
        error: Option<&str>,
    ) -> Result<(), Error> {
        let now = telephony_aws::now_secs();
        let mut expr = String::from(
            "SET #st = :st, updated_at = :now, steps = list_append(if_not_exists(steps, :empty), :step)",
        );
        if error.is_some() {
            expr.push_str(", #err = :err");
        }
        if !tx_status.is_open() {
            expr.push_str(" REMOVE open_kind, open_since, sweep_until");
        }
        let mut u = self
            .dynamo
            .update_item()
            .table_name(self.transactions_table)
            .key("pk", s(id))
            .update_expression(expr)
            .expression_attribute_names("#st", "status")
            .expression_attribute_values(":st", s(tx_status.as_str()))
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
            .item("status", s(SagaStatus::InProgress.as_str()))
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
                .record(&id, step, "failed", SagaStatus::Failed, Some(&cause))
                .await
            {
                tracing::warn!(transaction = %id, error = %e, "failure not recorded");
            }
            telephony_aws::metrics::count("FailedTransactions", Some(("Kind", "onboard")));
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
            .item("created_at", n(telephony_aws::now_secs()))
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
            self.record(&id, "subaccount", "started", SagaStatus::InProgress, None)
                .await
                .map_err(|e| ("subaccount", e))?;
            let sid = self.org_subaccount(plan, st).await?;
            st.account_sid = Some(sid);
            self.record(&id, "subaccount", "done", SagaStatus::InProgress, None)
                .await
                .map_err(|e| ("subaccount", e))?;
        }
        let twilio = self.client(st);

        // 1. Search: the area code, then its province/state, then the whole country.
        self.record(&id, "search", "started", SagaStatus::InProgress, None)
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
        self.record(&id, "search", "done", SagaStatus::InProgress, None)
            .await
            .map_err(|e| ("search", e))?;

        // 2. Buy (sent once per candidate; the next candidate only when Twilio says 400). The
        // candidate is noted first: after a crash mid-purchase the sweep looks it up.
        let fields = webhook_fields(
            self.public_base_url,
            Some(&format!("{} ({})", plan.business_name, plan.org_id)),
        );
        self.record(&id, "buy", "started", SagaStatus::InProgress, None)
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
        self.record(&id, "buy", "done", SagaStatus::InProgress, None)
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
        self.record(&id, "record", "done", SagaStatus::InProgress, None)
            .await
            .map_err(|e| ("record", e))?;
        if let Some(svc) = &st.messaging_service_sid {
            twilio
                .add_number_to_service(svc, &phone_sid)
                .await
                .map_err(|e| StepFailed::Step("messaging_service", e.to_string()))?;
            self.record(
                &id,
                "messaging_service",
                "done",
                SagaStatus::InProgress,
                None,
            )
            .await
            .map_err(|e| ("messaging_service", e))?;
        }
        self.record(&id, "complete", "done", SagaStatus::Completed, None)
            .await
            .map_err(|e| ("complete", e))?;
        telephony_aws::metrics::count("NumbersPurchased", None);
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
    ) -> (SagaStatus, String, String) {
        let id = st.id.as_str();
        tracing::warn!(
            transaction = id,
            step,
            cause,
            "onboarding step failed; compensating"
        );
        if let Err(e) = self
            .record(id, step, "failed", SagaStatus::Compensating, Some(cause))
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
                        .key("pk", s(format!("org#{}", st.org_id)))
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
            (false, _) => SagaStatus::CompensationFailed,
            (true, true) => SagaStatus::Failed,
            (true, false) => SagaStatus::Compensated,
        };
        let note = if errors.is_empty() {
            cause.to_owned()
        } else {
            format!("{cause}; {}", errors.join("; "))
        };
        if let Err(e) = self
            .record(id, "compensate", status.as_str(), status, Some(&note))
            .await
        {
            tracing::warn!(transaction = id, error = %e, "compensation not recorded");
        }
        telephony_aws::metrics::count("FailedTransactions", Some(("Kind", "onboard")));
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
                    self.record(&st.id, "sweep", "done", SagaStatus::Completed, None)
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
                tracing::warn!(transaction = %st.id, status = status.as_str(), undone, "abandoned onboarding swept");
                if status == SagaStatus::CompensationFailed {
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

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_dynamodb::types::AttributeValue;

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
}
