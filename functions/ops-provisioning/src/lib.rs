//! Number provisioning on the ops API, behind `AWS_IAM` authorization (the handler checks again
//! that an IAM principal is present, 403 otherwise):
//!
//! - `POST /ops/numbers/onboard` — `{org_id, business_name, country: "CA"|"US", area_code?,
//!   sales_target?, support_target?, language?}` → 201 `{transaction_id, e164, phone_sid,
//!   matched_by: "area_code"|"region"|"country", region, account_sid, subaccount_created,
//!   messaging_service_sid, voice_url, voice_fallback_url, status_callback, sms_url}`. Requires an
//!   `Idempotency-Key` header ([`telephony_aws::idempotency`]); runs the saga of
//!   [`telephony_aws::provisioning`].
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
//!   compliance (issue 10, [`telephony_aws::compliance`]): `us_enabled=false` → `not_required`,
//!   nothing sent to Twilio; else the brand registered once (reused while not refused), the
//!   campaign once the brand is approved;
//! - `GET /ops/orgs/{org}/a2p` — the record, refreshed from Twilio;
//! - `POST /ops/numbers/hosted-sms` — `{org_id, phone_number, contact_phone_number,
//!   address_sid, email, friendly_name?}`: a HostedNumber order for a client's landline
//!   ([`telephony_aws::orders`]); `GET /ops/numbers/hosted-sms/{e164}` refreshes it, `DELETE`
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

use serde_json::Value;
use telephony_aws::compliance::{A2pError, A2pRecord, A2pRequest, Compliance};
use telephony_aws::http::{Method, StatusCode};
use telephony_aws::idempotency::{self, Idempotency};
use telephony_aws::orders::{HostedSmsRequest, Orders, PortInRequest};
use telephony_aws::provisioning::{
    self, ConfigChange, NumberAdmin, OnboardError, OnboardRequest, Saga, WebhookChange,
};
use telephony_aws::{glue, Body, Deps, Request, Response};

/// Every `(method, path)` this function serves (template.yaml declares the same; a test checks).
pub const ROUTES: [(&str, &str); 14] = [
    ("POST", "/ops/numbers/onboard"),
    ("GET", "/ops/numbers"),
    ("GET", "/ops/numbers/{e164}"),
    ("PATCH", "/ops/numbers/{e164}/webhooks"),
    ("PUT", "/ops/numbers/{e164}/config"),
    ("DELETE", "/ops/numbers/{e164}"),
    ("POST", "/ops/orgs/{org}/a2p"),
    ("GET", "/ops/orgs/{org}/a2p"),
    ("POST", "/ops/numbers/hosted-sms"),
    ("GET", "/ops/numbers/hosted-sms/{e164}"),
    ("DELETE", "/ops/numbers/hosted-sms/{e164}"),
    ("POST", "/ops/numbers/port-in"),
    ("GET", "/ops/numbers/port-in/{e164}"),
    ("DELETE", "/ops/numbers/port-in/{e164}"),
];

use glue::json_error as error;

/// Handles one request.
pub async fn handler(deps: &Deps, req: Request) -> Response<Body> {
    let Some(principal) = telephony_aws::event::caller(&req).iam_principal else {
        return error(
            StatusCode::FORBIDDEN,
            "forbidden",
            "an IAM-signed request is required",
        );
    };
    let c = &deps.config;
    let (Some(_), Some(idem_table)) = (&c.transactions_table, &c.idempotency_table) else {
        return glue::not_configured("TRANSACTIONS_TABLE and IDEMPOTENCY_TABLE must be set");
    };
    let path = req.uri().path().to_owned();
    let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
    let method = req.method().clone();
    // The number in the path: `+` may arrive percent-encoded (%2B). Under the order routes
    // (`/ops/numbers/hosted-sms/{e164}`, `/ops/numbers/port-in/{e164}`) it comes one later.
    let order_kind = segments
        .get(2)
        .copied()
        .filter(|k| matches!(*k, "hosted-sms" | "port-in"));
    let number = segments
        .get(if order_kind.is_some() { 3 } else { 2 })
        .filter(|_| segments.get(1) == Some(&"numbers"))
        .filter(|raw| **raw != "onboard")
        .map(|raw| telephony_core::E164::parse_path_segment(raw));
    let org = segments
        .get(2)
        .filter(|_| segments.get(1) == Some(&"orgs"))
        .map(|o| o.to_string());
    let route = match (&method, segments.as_slice()) {
        (&Method::POST, ["ops", "numbers", "onboard"]) => "POST /ops/numbers/onboard",
        (&Method::POST, ["ops", "numbers", "hosted-sms"]) => "POST /ops/numbers/hosted-sms",
        (&Method::GET, ["ops", "numbers", "hosted-sms", _]) => "GET /ops/numbers/hosted-sms/{e164}",
        (&Method::DELETE, ["ops", "numbers", "hosted-sms", _]) => {
            "DELETE /ops/numbers/hosted-sms/{e164}"
        }
        (&Method::POST, ["ops", "numbers", "port-in"]) => "POST /ops/numbers/port-in",
        (&Method::GET, ["ops", "numbers", "port-in", _]) => "GET /ops/numbers/port-in/{e164}",
        (&Method::DELETE, ["ops", "numbers", "port-in", _]) => "DELETE /ops/numbers/port-in/{e164}",
        (&Method::GET, ["ops", "numbers"]) => "GET /ops/numbers",
        (&Method::GET, ["ops", "numbers", _]) => "GET /ops/numbers/{e164}",
        (&Method::PATCH, ["ops", "numbers", _, "webhooks"]) => "PATCH /ops/numbers/{e164}/webhooks",
        (&Method::PUT, ["ops", "numbers", _, "config"]) => "PUT /ops/numbers/{e164}/config",
        (&Method::DELETE, ["ops", "numbers", _]) => "DELETE /ops/numbers/{e164}",
        (&Method::POST, ["ops", "orgs", _, "a2p"]) => "POST /ops/orgs/{org}/a2p",
        (&Method::GET, ["ops", "orgs", _, "a2p"]) => "GET /ops/orgs/{org}/a2p",
        _ => return error(StatusCode::NOT_FOUND, "not_found", "no such route"),
    };
    let e164 = match number {
        Some(Ok(n)) => Some(n),
        Some(Err(e)) => return error(StatusCode::BAD_REQUEST, "bad_number", &e.to_string()),
        None => None,
    };
    let twilio = match deps.twilio() {
        Ok(t) => t,
        Err(e) => {
            return error(
                StatusCode::SERVICE_UNAVAILABLE,
                "twilio_unavailable",
                &e.to_string(),
            )
        }
    };
    let admin = NumberAdmin {
        dynamo: &deps.dynamo,
        twilio,
        numbers_table: &c.numbers_table,
        public_base_url: &c.public_base_url,
    };
    let now = telephony_aws::now_secs();
    let compliance = c.compliance_table.as_deref().map(|table| Compliance {
        dynamo: &deps.dynamo,
        table,
    });
    if route == "GET /ops/orgs/{org}/a2p" {
        let (Some(org), Some(comp)) = (&org, &compliance) else {
            return not_configured("COMPLIANCE_TABLE");
        };
        let (status, value) = a2p_reply(comp.refresh(twilio, org, &principal, now).await);
        return glue::json(status, &value);
    }
    let orders = compliance.map(|comp| Orders {
        dynamo: comp.dynamo,
        table: comp.table,
        twilio,
    });
    if let (Some(_), Some(n), true) = (order_kind, &e164, method == Method::GET) {
        let Some(orders) = &orders else {
            return not_configured("COMPLIANCE_TABLE");
        };
        let (status, value) = if route.contains("hosted-sms") {
            orders.hosted_sms_refresh(n, now).await
        } else {
            orders.port_in_refresh(&admin, n, now).await
        };
        return glue::json(status, &value);
    }
    if method == Method::GET {
        let (status, value) = match &e164 {
            None => admin.list().await,
            Some(n) => admin.show(n).await,
        };
        return glue::json(status, &value);
    }
    let key = req
        .headers()
        .get("idempotency-key")
        .and_then(|v| v.to_str().ok());
    let if_match = req
        .headers()
        .get("if-match")
        .and_then(|v| v.to_str().ok())
        .map(|v| v.trim().trim_matches('"').to_owned());
    let body = req.body().as_ref();
    let scope = format!("{principal}#{route}");
    let idem = Idempotency::new(&deps.dynamo, idem_table);
    idempotency::respond(&idem, &scope, key, body, now * 1000, || async {
        match (route, e164) {
            ("POST /ops/numbers/onboard", _) => onboard(deps, twilio, body, &principal, now).await,
            (
                "POST /ops/numbers/hosted-sms"
                | "POST /ops/numbers/port-in"
                | "DELETE /ops/numbers/hosted-sms/{e164}"
                | "DELETE /ops/numbers/port-in/{e164}",
                n,
            ) => {
                let Some(orders) = &orders else {
                    return (
                        StatusCode::SERVICE_UNAVAILABLE,
                        glue::error_body("not_configured", "COMPLIANCE_TABLE must be set"),
                    );
                };
                match (route, n) {
                    ("DELETE /ops/numbers/port-in/{e164}", Some(n)) => {
                        orders.port_in_cancel(&admin, &n, now).await
                    }
                    ("DELETE /ops/numbers/hosted-sms/{e164}", Some(n)) => {
                        orders.hosted_sms_cancel(&n, now).await
                    }
                    ("POST /ops/numbers/hosted-sms", _) => {
                        match serde_json::from_slice::<HostedSmsRequest>(body) {
                            Ok(r) => {
                                let sms_url = telephony_core::Route::SmsReply
                                    .callback_url(&c.public_base_url, &[]);
                                orders.hosted_sms(&r, &sms_url, now).await
                            }
                            Err(e) => bad_request("bad_json", &e.to_string()),
                        }
                    }
                    _ => match serde_json::from_slice::<PortInRequest>(body) {
                        Ok(r) => {
                            let saga = Saga::from_deps(deps, twilio);
                            orders.port_in(saga.as_ref(), &r, &principal, now).await
                        }
                        Err(e) => bad_request("bad_json", &e.to_string()),
                    },
                }
            }
            ("POST /ops/orgs/{org}/a2p", _) => {
                let (Some(org), Some(comp)) = (&org, &compliance) else {
                    return (
                        StatusCode::SERVICE_UNAVAILABLE,
                        glue::error_body("not_configured", "COMPLIANCE_TABLE must be set"),
                    );
                };
                match serde_json::from_slice::<A2pRequest>(body) {
                    Ok(r) => {
                        let service = c.messaging_service_sid.as_deref();
                        a2p_reply(comp.enable(twilio, service, org, &r, &principal, now).await)
                    }
                    Err(e) => bad_request("bad_json", &e.to_string()),
                }
            }
            (r, Some(n)) if r.starts_with("PATCH") => {
                match serde_json::from_slice::<WebhookChange>(if body.is_empty() {
                    b"{}"
                } else {
                    body
                }) {
                    Ok(change) => admin.set_webhooks(&n, &change).await,
                    Err(e) => bad_request("bad_json", &e.to_string()),
                }
            }
            (r, Some(n)) if r.starts_with("PUT") => {
                match serde_json::from_slice::<ConfigChange>(body) {
                    Ok(change) => {
                        admin
                            .set_config(&n, &change, if_match.as_deref(), &principal, now)
                            .await
                    }
                    Err(e) => bad_request("bad_json", &e.to_string()),
                }
            }
            (_, Some(n)) => match forwarding_in_use(deps, &n).await {
                Some(refusal) => refusal,
                None => admin.release(&n).await,
            },
            (_, None) => bad_request("bad_number", "a number is required"),
        }
    })
    .await
}

/// A number an org's SIMs still forward to is not released (issue 11): 409 with the configs
/// and the deactivation codes to dial first. `None` → release it.
async fn forwarding_in_use(deps: &Deps, n: &telephony_core::E164) -> Option<(StatusCode, Value)> {
    let table = deps.config.forwarding_table.as_deref()?;
    let number = deps.number_config(n.as_str()).await;
    let active = telephony_aws::forwarding::active_configs_to(
        &deps.dynamo,
        table,
        &number.org_id,
        n.as_str(),
    );
    match active.await {
        Ok(list) if list.is_empty() => None,
        Ok(list) => {
            let configs: Vec<Value> = list
                .iter()
                .map(|c| serde_json::json!({"id": c.id, "sim_e164": c.sim_e164, "state": c.state, "deactivation": c.deactivation}))
                .collect();
            let mut body = glue::error_body(
                "forwarding_active",
                "SIMs still forward to this number: disable their forwarding first (dial the deactivation codes, then DELETE /forwarding/configs/{id})",
            );
            body["configs"] = configs.into();
            Some((StatusCode::CONFLICT, body))
        }
        Err(e) => Some((
            StatusCode::SERVICE_UNAVAILABLE,
            glue::error_body("store_unavailable", &e.to_string()),
        )),
    }
}

fn not_configured(what: &str) -> Response<Body> {
    glue::not_configured(&format!("{what} must be set"))
}

/// An A2P result as the route's answer.
fn a2p_reply(r: Result<A2pRecord, A2pError>) -> (StatusCode, Value) {
    match r {
        Ok(rec) => (StatusCode::OK, rec.to_json()),
        Err(e) => {
            let (status, code) = match &e {
                A2pError::Invalid(_) => (StatusCode::BAD_REQUEST, "invalid"),
                A2pError::NotFound => (StatusCode::NOT_FOUND, "not_found"),
                A2pError::Busy => (StatusCode::CONFLICT, "registration_in_progress"),
                A2pError::Twilio(_) => (StatusCode::BAD_GATEWAY, "twilio_refused"),
                A2pError::Store(_) => (StatusCode::SERVICE_UNAVAILABLE, "store_unavailable"),
            };
            tracing::warn!(error = %e, "A2P request did not complete");
            (status, glue::error_body(code, &e.to_string()))
        }
    }
}

fn bad_request(code: &str, message: &str) -> (StatusCode, Value) {
    (StatusCode::BAD_REQUEST, glue::error_body(code, message))
}

async fn onboard(
    deps: &Deps,
    twilio: &telephony_aws::twilio_api::Client,
    body: &[u8],
    principal: &str,
    now: u64,
) -> (StatusCode, Value) {
    let request: OnboardRequest = match serde_json::from_slice(body) {
        Ok(r) => r,
        Err(e) => return bad_request("bad_json", &e.to_string()),
    };
    let plan = match provisioning::validate(&request) {
        Ok(p) => p,
        Err(m) => return bad_request("invalid", &m),
    };
    let Some(saga) = Saga::from_deps(deps, twilio) else {
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            glue::error_body("not_configured", "TRANSACTIONS_TABLE must be set"),
        );
    };
    match saga.onboard(&plan, principal, now).await {
        Ok(done) => (
            StatusCode::CREATED,
            serde_json::to_value(done).unwrap_or_default(),
        ),
        Err(e) => {
            let (status, code) = match &e {
                OnboardError::Busy(_) => (StatusCode::CONFLICT, "onboarding_in_progress"),
                OnboardError::NoNumber(_) => (StatusCode::CONFLICT, "no_number_available"),
                OnboardError::RolledBack { .. } => (StatusCode::BAD_GATEWAY, "rolled_back"),
                OnboardError::Store(_) => (StatusCode::SERVICE_UNAVAILABLE, "store_unavailable"),
            };
            tracing::warn!(org = %plan.org_id, error = %e, "onboarding did not complete");
            (status, glue::error_body(code, &e.to_string()))
        }
    }
}
