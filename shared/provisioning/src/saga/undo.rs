//! Undoing an onboarding: compensation in reverse order, and the monitor's sweep of sagas left
//! open past their lease.

use super::*;

impl Saga<'_> {
    /// Undoes what `st` records, in reverse order, each undo idempotent: our numbers item (only
    /// if it is this purchase's), the purchase (or the candidate of a purchase whose outcome was
    /// unknown, looked up first), the subaccount this saga created. The transaction ends
    /// `compensated` (`failed` when there was nothing to undo), or `compensation_failed` — left
    /// in the open index, so the monitor's sweep tries again.
    ///
    /// Returns `(status, what was undone, cause with any compensation error)`.
    pub(super) async fn compensate(
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
