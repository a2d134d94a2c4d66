//! Hosted SMS orders: a client's landline keeps its voice carrier and texts through us.

use super::*;

impl Orders<'_> {
    /// `POST /ops/numbers/hosted-sms`: 201 with the order and what the client does next; 200 with
    /// the existing order when the number has one; 400 for a number hosted SMS cannot serve
    /// (nothing sent).
    pub async fn hosted_sms(&self, req: &HostedSmsRequest, sms_url: &str, now: u64) -> Answer {
        if let Err(m) = provisioning::check_org_id(&req.org_id) {
            return Err(bad(&m));
        }
        let number = match nanp_local(&req.phone_number, "phone_number") {
            Ok(n) => n,
            Err(m) => return Err(bad(&m)),
        };
        let contact = match E164::parse_syntax(&req.contact_phone_number) {
            Ok(c) => c,
            Err(e) => return Err(bad(&format!("contact_phone_number: {e}"))),
        };
        let ad_ok = req.address_sid.len() == 34
            && req.address_sid.starts_with("AD")
            && req.address_sid[2..].bytes().all(|b| b.is_ascii_hexdigit());
        if !ad_ok {
            return Err(bad(
                "address_sid must be the client's Twilio Address (AD followed by 32 hex digits)",
            ));
        }
        if !email_ok(&req.email) {
            return Err(bad("email must be a valid address"));
        }
        let pk = format!("hosted#{}", number.as_str());
        match self.existing(&pk).await {
            Ok(Some(view)) => return Ok(Done::Ok(view)),
            Ok(None) => {}
            Err(e) => return Err(store_failed(&e)),
        }
        let request =
            json!({"org_id": req.org_id, "email": req.email, "address_sid": req.address_sid});
        self.begin(&pk, &request.to_string(), "an order", now)
            .await?;
        let order = self
            .twilio
            .create_hosted_number_order(&HostedNumberRequest {
                phone_number: number.as_str().to_owned(),
                contact_phone_number: contact.as_str().to_owned(),
                address_sid: req.address_sid.clone(),
                email: req.email.clone(),
                friendly_name: req
                    .friendly_name
                    .clone()
                    .unwrap_or_else(|| format!("{} hosted SMS", req.org_id)),
                sms_url: sms_url.to_owned(),
            })
            .await;
        let order = match order {
            Ok(o) => o,
            Err(e) => return Err(self.refused(&pk, &e, now).await),
        };
        let fields = [
            ("order_sid", order.sid.clone()),
            ("status", order.status.clone()),
            ("org_id", req.org_id.clone()),
            (
                "signing_document_sid",
                order.signing_document_sid.clone().unwrap_or_default(),
            ),
        ];
        if let Err(e) = self.set(&pk, &fields, now).await {
            tracing::error!(order_sid = %order.sid, error = %e, "hosted SMS order accepted by Twilio but not recorded; the next GET adopts it");
            return Err(store_failed(&e));
        }
        Ok(Done::Created(hosted_view(
            number.as_str(),
            &order.sid,
            &order.status,
            &req.email,
        )))
    }

    /// `GET /ops/numbers/hosted-sms/{e164}`: the order's status from Twilio, stored.
    pub async fn hosted_sms_refresh(&self, number: &E164, now: u64) -> Answer {
        let (pk, item) = match self.order_item("hosted", number, "hosted SMS order").await {
            Ok(found) => found,
            Err(a) => return Err(a),
        };
        let Some(sid) = get_s(&item, "order_sid") else {
            return Ok(Done::Ok(
                json!({"phone_number": number.as_str(), "status": get_s(&item, "status")}),
            ));
        };
        let order = match self.twilio.fetch_hosted_number_order(&sid).await {
            Ok(o) => o,
            Err(e) => return Err(twilio_failed(&e)),
        };
        if let Err(e) = self
            .set(&pk, &[("status", order.status.clone())], now)
            .await
        {
            return Err(store_failed(&e));
        }
        let email = get_s(&item, "request")
            .and_then(|r| serde_json::from_str::<Value>(&r).ok())
            .and_then(|r| r["email"].as_str().map(str::to_owned))
            .unwrap_or_default();
        Ok(Done::Ok(hosted_view(
            number.as_str(),
            &sid,
            &order.status,
            &email,
        )))
    }

    /// `DELETE /ops/numbers/hosted-sms/{e164}`: the hosted-number order deleted at Twilio and
    /// recorded `canceled` (a new order can then be placed); 404 when the number has none.
    pub async fn hosted_sms_cancel(&self, number: &E164, now: u64) -> Answer {
        let (pk, item) = match self.order_item("hosted", number, "hosted SMS order").await {
            Ok(found) => found,
            Err(a) => return Err(a),
        };
        if let Some(sid) = get_s(&item, "order_sid") {
            if !ended(&get_s(&item, "status").unwrap_or_default()) {
                if let Err(e) = self.twilio.delete_hosted_number_order(&sid).await {
                    return Err(twilio_failed(&e));
                }
            }
        }
        if let Err(e) = self
            .set(
                &pk,
                &[("status", OrderStatus::Canceled.as_str().to_owned())],
                now,
            )
            .await
        {
            return Err(store_failed(&e));
        }
        Ok(Done::Ok(
            json!({"phone_number": number.as_str(), "status": "canceled",
                   "next_step": "POST /ops/numbers/hosted-sms places a new order"}),
        ))
    }
}

pub(super) fn hosted_view(number: &str, sid: &str, status: &str, email: &str) -> Value {
    json!({
        "phone_number": number,
        "order_sid": sid,
        "status": status,
        "next_step": format!("The client signs the letter of authorization Twilio emails to {email}; then Twilio verifies ownership and SMS for {number} moves to this stack (voice stays with the current carrier). GET /ops/numbers/hosted-sms/{number} shows the status."),
    })
}
