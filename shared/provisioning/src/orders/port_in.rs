//! Port-in orders: a number moved to us, optionally with a temporary number until it completes.

use super::*;

impl Orders<'_> {
    /// `POST /ops/numbers/port-in` (module docs).
    pub async fn port_in(
        &self,
        saga: Option<&Saga<'_>>,
        req: &PortInRequest,
        principal: &str,
        now: u64,
    ) -> Answer {
        let today = chrono::DateTime::from_timestamp(now as i64, 0)
            .unwrap_or_default()
            .date_naive();
        let number = match req.check().and_then(|n| req.check_date(today).map(|()| n)) {
            Ok(n) => n,
            Err(m) => return Err(bad(&m)),
        };
        let pk = format!("port#{}", number.as_str());
        match self.existing(&pk).await {
            Ok(Some(view)) => return Ok(Done::Ok(view)),
            Ok(None) => {}
            Err(e) => return Err(store_failed(&e)),
        }
        match self.twilio.portability(number.as_str()).await {
            Ok(p) if p.portable => {}
            Ok(p) => {
                let why = p
                    .not_portable_reason
                    .unwrap_or_else(|| "not portable".into());
                return Err(answer(
                    Kind::Invalid,
                    "not_portable",
                    &format!("{} cannot be ported in: {why}", number.as_str()),
                ));
            }
            Err(e) => return Err(twilio_failed(&e)),
        }
        let country = req.losing_carrier.address.country.as_str();
        let estimate = telephony_core::hours::add_business_days(today, PORT_BUSINESS_DAYS, country);
        let target = req.target_port_in_date.clone();
        let mut phone = json!({"phone_number": number.as_str()});
        if let Some(pin) = &req.pin {
            phone["pin"] = pin.clone().into();
        }
        let body = json!({
            "account_sid": self.twilio.config().account_sid,
            "phone_numbers": [phone],
            "losing_carrier_information": req.losing_carrier,
            "documents": req.documents,
            "notification_emails": req.notification_emails,
            "target_port_in_date": target,
        });
        let request = json!({"org_id": req.org_id, "business_name": req.business_name,
            "temporary_fallback_e164": req.temporary_fallback_e164, "principal": principal});
        self.begin(&pk, &request.to_string(), "a port-in", now)
            .await?;
        let port = match self.twilio.create_port_in(&body).await {
            Ok(p) => p,
            Err(e) => return Err(self.refused(&pk, &e, now).await),
        };
        let status = port
            .port_in_request_status
            .clone()
            .unwrap_or_else(|| "pending".into());
        let fields = [
            ("order_sid", port.port_in_request_sid.clone()),
            ("status", status.clone()),
            ("org_id", req.org_id.clone()),
            ("estimated_foc_date", estimate.to_string()),
        ];
        if let Err(e) = self.set(&pk, &fields, now).await {
            // Twilio has the order; ours still says `submitting` with the request: the next GET
            // adopts the order from Twilio's list. No temporary number is bought now.
            tracing::error!(port_in_request_sid = %port.port_in_request_sid, number = %telephony_core::mask_phone(number.as_str()), error = %e, "port-in accepted by Twilio but not recorded; GET adopts it");
            return Err(answer(
                Kind::Unavailable,
                "store_unavailable",
                &format!("Twilio accepted port-in {} but our record could not be updated; GET /ops/numbers/port-in/{} recovers it", port.port_in_request_sid, number.as_str()),
            ));
        }
        let mut temporary = Value::Null;
        if let (Some(fallback), Some(saga)) = (&req.temporary_fallback_e164, saga) {
            temporary = self
                .buy_temporary(saga, &pk, req, &number, fallback, principal, now)
                .await;
        }
        Ok(Done::Created(json!({
            "phone_number": number.as_str(),
            "port_in_request_sid": port.port_in_request_sid,
            "status": status,
            "estimated_foc_date": estimate.to_string(),
            "estimate_basis": format!("{PORT_BUSINESS_DAYS} business days ({country} holidays skipped)"),
            "target_port_in_date": req.target_port_in_date,
            "signature_request_url": port.signature_request_url,
            "temporary": temporary,
            "next_steps": [
                "The authorized representative signs the letter of authorization (signature_request_url, also emailed).",
                "Twilio confirms the firm order commitment date with the losing carrier.",
                "GET /ops/numbers/port-in/{e164} shows the status; the temporary number is released when the port completes.",
            ],
        })))
    }

    #[allow(clippy::too_many_arguments)]
    pub(super) async fn buy_temporary(
        &self,
        saga: &Saga<'_>,
        pk: &str,
        req: &PortInRequest,
        number: &E164,
        fallback: &str,
        principal: &str,
        now: u64,
    ) -> Value {
        let plan = provisioning::validate(&OnboardRequest {
            org_id: req.org_id.clone(),
            business_name: req.business_name.clone(),
            country: req.losing_carrier.address.country.clone(),
            area_code: number.as_str().get(2..5).map(str::to_owned),
            sales_target: Some(fallback.to_owned()),
            support_target: Some(fallback.to_owned()),
            language: None,
        });
        let plan = match plan {
            Ok(p) => p,
            Err(m) => return json!({"error": m}),
        };
        match saga.onboard(&plan, principal, now).await {
            Ok(done) => {
                if let Err(e) = self
                    .set(pk, &[("temporary_e164", done.e164.clone())], now)
                    .await
                {
                    tracing::error!(temporary = %telephony_core::mask_phone(&done.e164), error = %e, "temporary number not recorded on the port order");
                }
                json!({"e164": done.e164, "forwards_to": fallback})
            }
            Err(e) => {
                tracing::warn!(error = %e, "temporary number not bought");
                json!({"error": e.to_string()})
            }
        }
    }

    /// `GET /ops/numbers/port-in/{e164}`: the port's status from Twilio (an order Twilio
    /// accepted but we did not record is adopted from Twilio's list first); a completed port
    /// releases the temporary number.
    pub async fn port_in_refresh(
        &self,
        admin: &NumberAdmin<'_>,
        number: &E164,
        now: u64,
    ) -> Answer {
        let (pk, item) = match self.order_item("port", number, "port-in").await {
            Ok(found) => found,
            Err(a) => return Err(a),
        };
        let sid = match get_s(&item, "order_sid") {
            Some(sid) => sid,
            None => match self.adopt(&pk, number, &item, now).await {
                Ok(Some(sid)) => sid,
                Ok(None) => {
                    return Ok(Done::Ok(
                        json!({"phone_number": number.as_str(), "status": get_s(&item, "status")}),
                    ))
                }
                Err(a) => return Err(a),
            },
        };
        let port = match self.twilio.fetch_port_in(&sid).await {
            Ok(p) => p,
            Err(e) => return Err(twilio_failed(&e)),
        };
        let status = port
            .port_in_request_status
            .unwrap_or_else(|| "pending".into());
        let mut fields = vec![("status", status.clone())];
        let mut released = Value::Null;
        if status.eq_ignore_ascii_case("completed") {
            if let Some(temp) = get_s(&item, "temporary_e164") {
                released = self.release_temporary(admin, &temp).await;
                fields.push(("temporary_e164", String::new()));
            }
        }
        if let Err(e) = self.set(&pk, &fields, now).await {
            return Err(store_failed(&e));
        }
        Ok(Done::Ok(json!({
            "phone_number": number.as_str(),
            "port_in_request_sid": sid,
            "status": status,
            "estimated_foc_date": get_s(&item, "estimated_foc_date"),
            "temporary_e164": get_s(&item, "temporary_e164").filter(|_| released.is_null()),
            "temporary_released": released,
        })))
    }

    /// An order Twilio accepted while our record stayed `submitting`: Twilio's port-in requests
    /// created since the claim, the one holding `number` adopted.
    pub(super) async fn adopt(
        &self,
        pk: &str,
        number: &E164,
        item: &Item,
        now: u64,
    ) -> Result<Option<String>, Refused> {
        let since = item
            .get("claimed_at")
            .and_then(|v| v.as_n().ok())
            .and_then(|v| v.parse::<i64>().ok())
            .and_then(|t| chrono::DateTime::from_timestamp(t - 86_400, 0))
            .map(|t| t.date_naive().to_string());
        let Some(since) = since else { return Ok(None) };
        let listed = self
            .twilio
            .list_port_ins_created_after(&since)
            .await
            .map_err(|e| twilio_failed(&e))?;
        for sid in listed {
            let port = self
                .twilio
                .fetch_port_in(&sid)
                .await
                .map_err(|e| twilio_failed(&e))?;
            if port
                .phone_numbers
                .iter()
                .any(|p| p.phone_number.as_deref() == Some(number.as_str()))
            {
                let fields = [("order_sid", sid.clone())];
                self.set(pk, &fields, now)
                    .await
                    .map_err(|e| store_failed(&e))?;
                tracing::info!(port_in_request_sid = %sid, "unrecorded port-in adopted from Twilio");
                return Ok(Some(sid));
            }
        }
        Ok(None)
    }

    pub(super) async fn release_temporary(&self, admin: &NumberAdmin<'_>, temp: &str) -> Value {
        match E164::parse_syntax(temp) {
            Ok(t) => match admin.release(&t).await {
                Ok(Done::Ok(body) | Done::Created(body)) => {
                    json!({"e164": temp, "released": true, "result": body})
                }
                Err(r) => json!({"e164": temp, "released": false, "error": r.to_string()}),
            },
            Err(e) => json!({"e164": temp, "error": e.to_string()}),
        }
    }

    /// `DELETE /ops/numbers/port-in/{e164}`: cancels the port at Twilio and releases the
    /// temporary number; the record stays, `canceled`.
    pub async fn port_in_cancel(&self, admin: &NumberAdmin<'_>, number: &E164, now: u64) -> Answer {
        let (pk, item) = match self.order_item("port", number, "port-in").await {
            Ok(found) => found,
            Err(a) => return Err(a),
        };
        if let Some(sid) = get_s(&item, "order_sid") {
            if let Err(e) = self.twilio.cancel_port_in(&sid).await {
                return Err(twilio_failed(&e));
            }
        }
        let released = match get_s(&item, "temporary_e164") {
            Some(t) => self.release_temporary(admin, &t).await,
            None => Value::Null,
        };
        let fields = [
            ("status", OrderStatus::Canceled.as_str().to_owned()),
            ("temporary_e164", String::new()),
        ];
        if let Err(e) = self.set(&pk, &fields, now).await {
            return Err(store_failed(&e));
        }
        Ok(Done::Ok(
            json!({"phone_number": number.as_str(), "status": "canceled", "temporary_released": released}),
        ))
    }
}
