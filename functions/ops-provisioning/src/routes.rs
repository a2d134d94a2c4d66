//! One function per route: each reads its path segments and body, runs the provisioning
//! workflow and answers through [`crate::answers`].

use crate::answers;
use crate::Op;
use json_api::request::{if_match, json_body};
use json_api::{Answer, ApiError, Matched};
use provisioning::a2p::{A2pRequest, Compliance};
use provisioning::admin::{ConfigChange, NumberAdmin, WebhookChange};
use provisioning::orders::{HostedSmsRequest, Orders, PortInRequest};
use provisioning::plan::{self, OnboardRequest};
use provisioning::saga::Saga;
use provisioning::settings::Settings;
use serde_json::{json, Value};
use telephony_aws::http::StatusCode;
use telephony_aws::twilio_api::Client as Twilio;
use telephony_aws::{Deps, Request};

/// What every route reads: the clients, the settings, the caller and the matched path.
pub(crate) struct Ctx<'a> {
    pub deps: &'a Deps,
    pub settings: &'a Settings<'a>,
    pub twilio: &'a Twilio,
    pub principal: String,
    pub now: u64,
    pub matched: Matched<'a, Op>,
    pub req: &'a Request,
}

impl Ctx<'_> {
    fn admin(&self) -> NumberAdmin<'_> {
        NumberAdmin {
            dynamo: self.deps.dynamo(),
            twilio: self.twilio,
            numbers_table: self.settings.numbers_table,
            public_base_url: self.settings.public_base_url,
        }
    }

    fn compliance(&self) -> Result<Compliance<'_>, ApiError> {
        let table = self
            .settings
            .compliance_table
            .ok_or_else(|| ApiError::not_configured("COMPLIANCE_TABLE must be set"))?;
        Ok(Compliance {
            dynamo: self.deps.dynamo(),
            table,
        })
    }

    fn orders(&self) -> Result<Orders<'_>, ApiError> {
        let c = self.compliance()?;
        Ok(Orders {
            dynamo: c.dynamo,
            table: c.table,
            twilio: self.twilio,
        })
    }

    fn number(&self) -> Result<telephony_core::E164, ApiError> {
        self.matched.e164("e164")
    }

    fn org(&self) -> &str {
        self.matched.param("org")
    }
}

/// Runs the matched route.
pub(crate) async fn run(c: &Ctx<'_>) -> Answer {
    match c.matched.op {
        Op::Onboard => onboard(c).await,
        Op::List => answers::outcome(c.admin().list().await),
        Op::Show => answers::outcome(c.admin().show(&c.number()?).await),
        Op::SetWebhooks => set_webhooks(c).await,
        Op::SetConfig => set_config(c).await,
        Op::Release => release(c).await,
        Op::A2pEnable => a2p_enable(c).await,
        Op::A2pRefresh => {
            let comp = c.compliance()?;
            answers::a2p(comp.refresh(c.twilio, c.org(), &c.principal, c.now).await)
        }
        Op::HostedSms => hosted_sms(c).await,
        Op::HostedSmsRefresh => {
            answers::outcome(c.orders()?.hosted_sms_refresh(&c.number()?, c.now).await)
        }
        Op::HostedSmsCancel => {
            answers::outcome(c.orders()?.hosted_sms_cancel(&c.number()?, c.now).await)
        }
        Op::PortIn => port_in(c).await,
        Op::PortInRefresh => {
            let orders = c.orders()?;
            answers::outcome(
                orders
                    .port_in_refresh(&c.admin(), &c.number()?, c.now)
                    .await,
            )
        }
        Op::PortInCancel => {
            let orders = c.orders()?;
            answers::outcome(orders.port_in_cancel(&c.admin(), &c.number()?, c.now).await)
        }
    }
}

/// `POST /ops/numbers/onboard`: 201 with the number bought.
async fn onboard(c: &Ctx<'_>) -> Answer {
    let request: OnboardRequest = json_body(c.req, false)?;
    let plan = plan::validate(&request).map_err(|m| ApiError::bad_request("invalid", m))?;
    let saga = Saga::from_deps(c.deps, c.twilio)
        .ok_or_else(|| ApiError::not_configured("TRANSACTIONS_TABLE must be set"))?;
    match saga.onboard(&plan, &c.principal, c.now).await {
        Ok(done) => Ok((
            StatusCode::CREATED,
            serde_json::to_value(done).unwrap_or_default(),
        )),
        Err(e) => Err(answers::onboard_failed(&plan.org_id, e)),
    }
}

/// `PATCH /ops/numbers/{e164}/webhooks` (an empty body re-applies this stack's URLs).
async fn set_webhooks(c: &Ctx<'_>) -> Answer {
    let n = c.number()?;
    let change: WebhookChange = json_body(c.req, true)?;
    answers::outcome(c.admin().set_webhooks(&n, &change).await)
}

/// `PUT /ops/numbers/{e164}/config` with `If-Match`.
async fn set_config(c: &Ctx<'_>) -> Answer {
    let n = c.number()?;
    let change: ConfigChange = json_body(c.req, false)?;
    let version = if_match(c.req);
    let admin = c.admin();
    answers::outcome(
        admin
            .set_config(&n, &change, version.as_deref(), &c.principal, c.now)
            .await,
    )
}

/// `DELETE /ops/numbers/{e164}`: refused while SIMs still forward to it.
async fn release(c: &Ctx<'_>) -> Answer {
    let n = c.number()?;
    forwarding_in_use(c.deps, &n).await?;
    answers::outcome(c.admin().release(&n).await)
}

/// `POST /ops/orgs/{org}/a2p`.
async fn a2p_enable(c: &Ctx<'_>) -> Answer {
    let comp = c.compliance()?;
    let r: A2pRequest = json_body(c.req, false)?;
    let service = c.settings.messaging_service_sid;
    answers::a2p(
        comp.enable(c.twilio, service, c.org(), &r, &c.principal, c.now)
            .await,
    )
}

/// `POST /ops/numbers/hosted-sms`.
async fn hosted_sms(c: &Ctx<'_>) -> Answer {
    let orders = c.orders()?;
    let r: HostedSmsRequest = json_body(c.req, false)?;
    let sms_url = telephony_core::Route::SmsReply.callback_url(c.settings.public_base_url, &[]);
    answers::outcome(orders.hosted_sms(&r, &sms_url, c.now).await)
}

/// `POST /ops/numbers/port-in`.
async fn port_in(c: &Ctx<'_>) -> Answer {
    let orders = c.orders()?;
    let r: PortInRequest = json_body(c.req, false)?;
    let saga = Saga::from_deps(c.deps, c.twilio);
    answers::outcome(orders.port_in(saga.as_ref(), &r, &c.principal, c.now).await)
}

/// A number an org's SIMs still forward to is not released (issue 11): 409 with the configs
/// and the deactivation codes to dial first.
async fn forwarding_in_use(deps: &Deps, n: &telephony_core::E164) -> Result<(), ApiError> {
    let Some(table) = deps.config.forwarding_table.as_deref() else {
        return Ok(());
    };
    let number = deps.number_config(n.as_str()).await;
    let active = telephony_aws::forwarding::active_configs_to(
        deps.dynamo(),
        table,
        &number.org_id,
        n.as_str(),
    );
    match active.await {
        Ok(list) if list.is_empty() => Ok(()),
        Ok(list) => {
            let configs: Vec<Value> = list
                .iter()
                .map(|c| json!({"id": c.id, "sim_e164": c.sim_e164, "state": c.state, "deactivation": c.deactivation}))
                .collect();
            Err(ApiError::conflict(
                "forwarding_active",
                "SIMs still forward to this number: disable their forwarding first (dial the deactivation codes, then DELETE /forwarding/configs/{id})",
            )
            .with_field("configs", configs))
        }
        Err(e) => Err(ApiError::store(&e)),
    }
}
