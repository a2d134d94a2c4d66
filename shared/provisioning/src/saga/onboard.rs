//! The onboarding itself: lock the org, find and buy a number, bind and record it, join the
//! Messaging Service; every step recorded before and after it runs.

use super::*;

impl Saga<'_> {
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

    pub(super) async fn onboard_locked(
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
    pub(super) async fn org_subaccount(
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

    pub(super) async fn run(
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

    pub(super) async fn write_number(
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
}
