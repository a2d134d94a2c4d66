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

mod onboard;
mod undo;

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
            dynamo: deps.dynamo(),
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
