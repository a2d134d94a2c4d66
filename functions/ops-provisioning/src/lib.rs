//! Number provisioning on the ops API, behind `AWS_IAM` authorization (the handler checks again
//! that an IAM principal is present, 403 otherwise):
//!
//! - `POST /ops/numbers/onboard` — `{org_id, business_name, country: "CA"|"US", area_code?,
//!   sales_target?, support_target?, language?}` → 201 `{transaction_id, e164, phone_sid,
//!   matched_by: "area_code"|"region"|"country", region, account_sid, subaccount_created,
//!   messaging_service_sid, voice_url, voice_fallback_url, status_callback, sms_url}`. Requires an
//!   `Idempotency-Key` header ([`provisioning::idempotency`]); runs the saga of
//!   [`provisioning::saga`].
//!
//! - `GET /ops/numbers` — our numbers merged with Twilio's list (all pages), each flagged
//!   `webhooks_ok` when its voice and SMS URLs point at this stack;
//! - `GET /ops/numbers/{e164}` — our item and Twilio's view of the number;
//! - `PATCH /ops/numbers/{e164}/webhooks` — `{voice_url?, voice_fallback_url?, status_callback?,
//!   sms_url?}`: only the given fields change at Twilio; `{}` re-applies this stack's URLs;
//! - `PUT /ops/numbers/{e164}/config` — `{business_name?, sales_target?, support_target?,
//!   language?, sms_auto_reply?, speech_input?}` with `If-Match: <version>` (optimistic concurrency: 409 on a
//!   stale version, 428 without it);
//! - `DELETE /ops/numbers/{e164}` — release at Twilio, then remove our item; safe to retry.
//!
//! - `POST /ops/orgs/{org}/a2p` — `{us_enabled, customer_profile_bundle_sid?,
//!   a2p_profile_bundle_sid?, messaging_service_sid?, campaign?: {description, message_flow,
//!   message_samples[], use_case, has_embedded_links, has_embedded_phone}}`: US texting
//!   compliance (issue 10, [`provisioning::a2p`]): `us_enabled=false` → `not_required`,
//!   nothing sent to Twilio; else the brand registered once (reused while not refused), the
//!   campaign once the brand is approved;
//! - `GET /ops/orgs/{org}/a2p` — the record, refreshed from Twilio;
//! - `POST /ops/numbers/hosted-sms` — `{org_id, phone_number, contact_phone_number,
//!   address_sid, email, friendly_name?}`: a HostedNumber order for a client's landline
//!   ([`provisioning::orders`]); `GET /ops/numbers/hosted-sms/{e164}` refreshes it, `DELETE`
//!   cancels it; an order that ended canceled or failed can be placed again (port-ins too);
//! - `POST /ops/numbers/port-in` — portability checked, the PortIn request recorded before and
//!   after Twilio, optionally a temporary number ringing `temporary_fallback_e164`;
//!   `GET /ops/numbers/port-in/{e164}` refreshes (adopting an unrecorded order, releasing the
//!   temporary number once completed); `DELETE` cancels and releases.
//!
//! POST, PUT, PATCH and DELETE require an `Idempotency-Key`.
//!
//! Errors are `{"error": {"code", "message"}}`: 400 bad input, 404 unknown route, 409 busy org /
//! no number / key in flight, 422 key reused with another body, 502 rolled back after a Twilio or
//! store failure, 503 a table unreachable or not configured. Never Twilio's raw body.
//!
//! Layout: this file routes (`(method, path)` → one function per route, in [`routes`]);
//! [`answers`] turns a provisioning outcome into a status and `{"error": {"code", "message"}}`;
//! [`idempotent`] runs a state-changing route at most once per `Idempotency-Key`.

pub mod answers;
pub mod idempotent;
mod routes;

use json_api::request::{iam_principal, idempotency_key};
use json_api::{ApiError, Table};
use provisioning::idempotency::Idempotency;
use telephony_aws::{Body, Deps, Request, Response};

/// The environment variables this function reads ([`telephony_aws::Needs`]; `template.yaml`
/// sets exactly these on it, `tests/tests/settings.rs` checks).
pub const NEEDS: telephony_aws::Needs = telephony_aws::Needs {
    base: None,
    groups: &[
        &telephony_aws::needs::NUMBERS,
        &telephony_aws::needs::NUMBER_DEFAULTS,
        &telephony_aws::needs::TWILIO_REST,
        &provisioning::settings::VARS,
    ],
};

/// What a route does (one function each in `routes.rs`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    /// `POST /ops/numbers/onboard`.
    Onboard,
    /// `GET /ops/numbers`.
    List,
    /// `GET /ops/numbers/{e164}`.
    Show,
    /// `PATCH /ops/numbers/{e164}/webhooks`.
    SetWebhooks,
    /// `PUT /ops/numbers/{e164}/config`.
    SetConfig,
    /// `DELETE /ops/numbers/{e164}`.
    Release,
    /// `POST /ops/orgs/{org}/a2p`.
    A2pEnable,
    /// `GET /ops/orgs/{org}/a2p`.
    A2pRefresh,
    /// `POST /ops/numbers/hosted-sms`.
    HostedSms,
    /// `GET /ops/numbers/hosted-sms/{e164}`.
    HostedSmsRefresh,
    /// `DELETE /ops/numbers/hosted-sms/{e164}`.
    HostedSmsCancel,
    /// `POST /ops/numbers/port-in`.
    PortIn,
    /// `GET /ops/numbers/port-in/{e164}`.
    PortInRefresh,
    /// `DELETE /ops/numbers/port-in/{e164}`.
    PortInCancel,
}

impl Op {
    /// POST, PUT, PATCH and DELETE change state: they need an `Idempotency-Key`.
    pub fn changes_state(self) -> bool {
        !matches!(
            self,
            Op::List | Op::Show | Op::A2pRefresh | Op::HostedSmsRefresh | Op::PortInRefresh
        )
    }
}

/// Every `(method, path)` this function serves (template.yaml declares the same; a test checks).
pub const ROUTES: &Table<Op> = &[
    ("POST", "/ops/numbers/onboard", Op::Onboard),
    ("GET", "/ops/numbers", Op::List),
    ("GET", "/ops/numbers/{e164}", Op::Show),
    ("PATCH", "/ops/numbers/{e164}/webhooks", Op::SetWebhooks),
    ("PUT", "/ops/numbers/{e164}/config", Op::SetConfig),
    ("DELETE", "/ops/numbers/{e164}", Op::Release),
    ("POST", "/ops/orgs/{org}/a2p", Op::A2pEnable),
    ("GET", "/ops/orgs/{org}/a2p", Op::A2pRefresh),
    ("POST", "/ops/numbers/hosted-sms", Op::HostedSms),
    (
        "GET",
        "/ops/numbers/hosted-sms/{e164}",
        Op::HostedSmsRefresh,
    ),
    (
        "DELETE",
        "/ops/numbers/hosted-sms/{e164}",
        Op::HostedSmsCancel,
    ),
    ("POST", "/ops/numbers/port-in", Op::PortIn),
    ("GET", "/ops/numbers/port-in/{e164}", Op::PortInRefresh),
    ("DELETE", "/ops/numbers/port-in/{e164}", Op::PortInCancel),
];

/// Handles one request: 403 without an IAM principal, 503 without the provisioning tables, 404
/// for an unknown route; then the route, once per `Idempotency-Key` when it changes state.
pub async fn handler(deps: &Deps, req: Request) -> Response<Body> {
    handle(deps, &req)
        .await
        .unwrap_or_else(ApiError::into_response)
}

async fn handle(deps: &Deps, req: &Request) -> Result<Response<Body>, ApiError> {
    let principal = iam_principal(req)?;
    let settings = provisioning::settings::Settings::of(&deps.config);
    let (Some(_), Some(idem_table)) = (&settings.transactions_table, &settings.idempotency_table)
    else {
        return Err(ApiError::not_configured(
            "TRANSACTIONS_TABLE and IDEMPOTENCY_TABLE must be set",
        ));
    };
    let matched = json_api::route(ROUTES, req.method(), req.uri().path())?;
    if matched.template.contains("{e164}") {
        matched.e164("e164")?;
    }
    let twilio = deps
        .twilio()
        .map_err(|e| ApiError::unavailable("twilio_unavailable", e.to_string()))?;
    let now = telephony_aws::now_secs();
    let scope = format!("{principal}#{} {}", req.method(), matched.template);
    let ctx = routes::Ctx {
        deps,
        settings: &settings,
        twilio,
        principal,
        now,
        matched,
        req,
    };
    if !ctx.matched.op.changes_state() {
        return Ok(json_api::answer::respond(routes::run(&ctx).await));
    }
    let idem = Idempotency::new(deps.dynamo(), idem_table);
    let body = req.body().as_ref();
    let key = idempotency_key(req);
    Ok(
        idempotent::respond(&idem, &scope, key, body, now * 1000, || async {
            routes::run(&ctx).await.unwrap_or_else(ApiError::into_pair)
        })
        .await,
    )
}
