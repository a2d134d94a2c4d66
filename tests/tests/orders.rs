//! Hosted SMS and port-in orders (issue 10) against moto and the Prism mocks of Twilio's numbers
//! v1 and v2 documents (and api v2010 for the temporary number), behind a scripted Twilio that
//! routes, counts and, where a later state is needed, answers.

use integration_tests::proxy::OutageProxy;
use integration_tests::scripted::{self, Rule};
use integration_tests::*;
use std::sync::Arc;

const OPERATOR: &str = "arn:aws:iam::123456789012:user/operator";
const LANDLINE: &str = "+14035550150";

async fn call(
    s: &Stack,
    method: &str,
    path: &str,
    key: &str,
    body: Option<&str>,
) -> (u16, serde_json::Value) {
    let headers: Vec<(&str, &str)> = if method == "GET" {
        vec![]
    } else {
        vec![("Idempotency-Key", key)]
    };
    let req = ops_request_with(method, path, Some(OPERATOR), &headers, body);
    let r = to_reply(dispatch(&s.deps, req).await);
    (r.status, serde_json::from_str(&r.body).unwrap_or_default())
}

fn numbers_upstreams() -> Vec<(&'static str, String)> {
    vec![
        ("/v1/", prism::numbers_v1().base_url.clone()),
        ("/v2/", prism::numbers_v2().base_url.clone()),
    ]
}

fn hosted(number: &str) -> String {
    serde_json::json!({
        "org_id": "acme",
        "phone_number": number,
        "contact_phone_number": "+14035550199",
        "address_sid": format!("AD{}", "c".repeat(32)),
        "email": "owner@acme.example"
    })
    .to_string()
}

#[tokio::test]
async fn hosted_sms_is_ordered_once_with_every_required_field_and_refused_for_other_numbers() {
    let twilio = scripted::start_routed(numbers_upstreams(), vec![]).await;
    let s = stack(&[("TWILIO_NUMBERS_BASE", twilio.base_url.as_str())]).await;
    // A UK number: hosted SMS is not offered; 400 and nothing sent.
    let (status, body) = call(
        &s,
        "POST",
        "/ops/numbers/hosted-sms",
        "h0",
        Some(&hosted("+442071838750")),
    )
    .await;
    assert_eq!(status, 400, "{body}");
    assert!(body["error"]["message"]
        .as_str()
        .unwrap()
        .contains("US or Canadian"));
    assert!(twilio.log.lock().unwrap().is_empty());
    // No Address: 400, nothing sent (the original sent AddressSid='').
    let no_address = hosted(LANDLINE).replace(&format!("AD{}", "c".repeat(32)), "");
    let (status, _) = call(
        &s,
        "POST",
        "/ops/numbers/hosted-sms",
        "h1",
        Some(&no_address),
    )
    .await;
    assert_eq!(status, 400);
    assert!(twilio.log.lock().unwrap().is_empty());
    // A Canadian landline: the order (accepted by the v2 document), what to do next.
    let (status, body) = call(
        &s,
        "POST",
        "/ops/numbers/hosted-sms",
        "h2",
        Some(&hosted(LANDLINE)),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    assert!(body["order_sid"].as_str().unwrap().starts_with("HR"));
    assert!(body["next_step"]
        .as_str()
        .unwrap()
        .contains("letter of authorization"));
    let sent = &twilio.forms("POST", "/v2/HostedNumber/Orders")[0];
    for field in [
        "PhoneNumber",
        "ContactPhoneNumber",
        "AddressSid",
        "Email",
        "SmsCapability",
    ] {
        assert!(
            sent.iter().any(|(k, v)| k == field && !v.is_empty()),
            "{field} in {sent:?}"
        );
    }
    // Again: the same order, no second one at Twilio.
    let (status, again) = call(
        &s,
        "POST",
        "/ops/numbers/hosted-sms",
        "h3",
        Some(&hosted(LANDLINE)),
    )
    .await;
    assert_eq!(status, 200, "{again}");
    assert_eq!(again["order_sid"], body["order_sid"]);
    assert_eq!(twilio.count("POST", "/v2/HostedNumber/Orders"), 1);
    // GET refreshes the status from Twilio.
    let (status, got) = call(
        &s,
        "GET",
        &format!("/ops/numbers/hosted-sms/{LANDLINE}"),
        "",
        None,
    )
    .await;
    assert_eq!(status, 200, "{got}");
    assert_eq!(got["order_sid"], body["order_sid"]);
    assert_eq!(twilio.count("GET", "/v2/HostedNumber/Orders/"), 1);
    // Issue 22 §11: cancel (the order deleted at Twilio), then a new order for the number.
    let (status, canceled) = call(
        &s,
        "DELETE",
        &format!("/ops/numbers/hosted-sms/{LANDLINE}"),
        "h4",
        None,
    )
    .await;
    assert_eq!(status, 200, "{canceled}");
    assert_eq!(canceled["status"], "canceled");
    assert_eq!(twilio.count("DELETE", "/v2/HostedNumber/Orders/HR"), 1);
    let (status, again) = call(
        &s,
        "POST",
        "/ops/numbers/hosted-sms",
        "h5",
        Some(&hosted(LANDLINE)),
    )
    .await;
    assert_eq!(status, 201, "{again}");
    assert_eq!(twilio.count("POST", "/v2/HostedNumber/Orders"), 2);
    // No order at all: 404.
    let (status, _) = call(
        &s,
        "DELETE",
        "/ops/numbers/hosted-sms/+14035550177",
        "h6",
        None,
    )
    .await;
    assert_eq!(status, 404);
}

fn port(temporary: bool) -> String {
    let mut b = serde_json::json!({
        "org_id": "acme",
        "business_name": "Acme Plumbing",
        "phone_number": LANDLINE,
        "losing_carrier": {
            "customer_name": "Acme Plumbing Ltd",
            "customer_type": "Business",
            "account_number": "12345",
            "authorized_representative": "Sam Lee",
            "authorized_representative_email": "sam@acme.example",
            "address": {"street": "1 Main St", "city": "Calgary", "state": "AB", "zip": "T2P 1J9", "country": "CA"}
        },
        "documents": [format!("RD{}", "a".repeat(32))],
        "notification_emails": ["ops@acme.example"]
    });
    if temporary {
        b["temporary_fallback_e164"] = "+14035550199".into();
    }
    b.to_string()
}

/// Twilio says the landline is portable (twice: a port and its resubmission).
fn portable() -> Rule {
    let body = serde_json::json!({"phone_number": LANDLINE, "portable": true, "pin_and_account_number_required": false,
        "not_portable_reason": null, "number_type": "LOCAL", "country": "CA"})
    .to_string();
    Rule {
        method: "GET",
        path: "/v1/Porting/Portability/PhoneNumber/".into(),
        answers: [(200, body.clone()), (200, body)].into(),
    }
}

#[tokio::test]
async fn a_number_that_is_not_portable_is_refused_with_the_reason() {
    // Twilio's example answer says not portable (MANUAL_PORTING_AVAILABLE).
    let twilio = scripted::start_routed(numbers_upstreams(), vec![]).await;
    let s = stack(&[("TWILIO_NUMBERS_BASE", twilio.base_url.as_str())]).await;
    let (status, body) = call(&s, "POST", "/ops/numbers/port-in", "p0", Some(&port(true))).await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["error"]["code"], "not_portable");
    assert!(body["error"]["message"]
        .as_str()
        .unwrap()
        .contains("MANUAL_PORTING_AVAILABLE"));
    assert_eq!(twilio.count("POST", "/v1/Porting/PortIn"), 0);
}

#[tokio::test]
async fn a_port_with_a_temporary_number_estimates_business_days_and_delete_releases_it() {
    let api = scripted::start(Some(prism::api_v2010().base_url.clone()), vec![]).await;
    let twilio = scripted::start_routed(numbers_upstreams(), vec![portable()]).await;
    let s = stack(&[
        ("TWILIO_NUMBERS_BASE", twilio.base_url.as_str()),
        ("TWILIO_API_BASE", api.base_url.as_str()),
        (
            "TWILIO_MESSAGING_BASE",
            prism::messaging_v1().base_url.as_str(),
        ),
    ])
    .await;
    let (status, body) = call(&s, "POST", "/ops/numbers/port-in", "p1", Some(&port(true))).await;
    assert_eq!(status, 201, "{body}");
    assert!(body["port_in_request_sid"]
        .as_str()
        .unwrap()
        .starts_with("KW"));
    // Ten business days, never a weekend.
    let foc =
        chrono::NaiveDate::parse_from_str(body["estimated_foc_date"].as_str().unwrap(), "%Y-%m-%d")
            .unwrap();
    use chrono::Datelike;
    assert!(!matches!(
        foc.weekday(),
        chrono::Weekday::Sat | chrono::Weekday::Sun
    ));
    let today = chrono::Utc::now().date_naive();
    assert!((foc - today).num_days() >= 14, "{foc}");
    let temp = body["temporary"]["e164"]
        .as_str()
        .expect("a temporary number")
        .to_owned();
    assert_eq!(api.count("POST", "/IncomingPhoneNumbers.json"), 1);
    // The temporary number rings the fallback.
    let item = s
        .deps
        .dynamo()
        .get_item()
        .table_name(&s.resources["NumbersTable"])
        .key(
            "e164",
            aws_sdk_dynamodb::types::AttributeValue::S(temp.clone()),
        )
        .send()
        .await
        .unwrap()
        .item
        .unwrap();
    assert_eq!(
        attr_s(&item, "sales_target").as_deref(),
        Some("+14035550199")
    );
    // Cancel: Twilio's request deleted, the temporary number released.
    let (status, body) = call(
        &s,
        "DELETE",
        &format!("/ops/numbers/port-in/{LANDLINE}"),
        "p2",
        None,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["status"], "canceled");
    assert_eq!(twilio.count("DELETE", "/v1/Porting/PortIn/KW"), 1);
    assert_eq!(api.count("DELETE", "/IncomingPhoneNumbers/"), 1);
    // Issue 22 §11: a canceled port can be submitted again (a new request at Twilio).
    let (status, body) = call(&s, "POST", "/ops/numbers/port-in", "p3", Some(&port(false))).await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(twilio.count("POST", "/v1/Porting/PortIn"), 2);
}

#[tokio::test]
async fn a_port_accepted_by_twilio_but_not_recorded_is_recovered_and_buys_nothing() {
    let proxy = OutageProxy::start(moto_endpoint()).await;
    let down = proxy.clone();
    let hook: scripted::Hook = Arc::new(move |req: &str| {
        // AWS goes down right after Twilio accepted the port-in.
        if req.starts_with("POST /v1/Porting/PortIn") {
            down.set_down(true);
        }
    });
    let port_sid = "KWaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
    let listed = Rule {
        method: "GET",
        path: "/v1/Porting/PortIn/PortInRequests".into(),
        answers: [(
            200,
            serde_json::json!({"port_in_requests": [{"port_in_request_sid": port_sid, "port_in_request_status": "in-review"}],
                "meta": {"next_token": null, "previous_token": null}})
            .to_string(),
        )]
        .into(),
    };
    let fetched = Rule {
        method: "GET",
        path: format!("/v1/Porting/PortIn/{port_sid}"),
        answers: vec![
            (
                200,
                serde_json::json!({"port_in_request_sid": port_sid, "port_in_request_status": "in-review",
                    "phone_numbers": [{"phone_number": LANDLINE}]})
                .to_string(),
            );
            2
        ]
        .into(),
    };
    let api = scripted::start(Some(prism::api_v2010().base_url.clone()), vec![]).await;
    let twilio =
        scripted::start_with_hook(numbers_upstreams(), vec![portable(), listed, fetched], hook)
            .await;
    let s = stack_via(
        &[
            ("TWILIO_NUMBERS_BASE", twilio.base_url.as_str()),
            ("TWILIO_API_BASE", api.base_url.as_str()),
        ],
        &proxy.endpoint,
    )
    .await;
    let (status, body) = call(&s, "POST", "/ops/numbers/port-in", "p3", Some(&port(true))).await;
    assert_eq!(status, 503, "{body}");
    assert_eq!(twilio.count("POST", "/v1/Porting/PortIn"), 1);
    // No temporary number was bought for an order we could not record.
    assert_eq!(api.count("POST", "/IncomingPhoneNumbers.json"), 0);
    proxy.set_down(false);
    // The record written before Twilio was called is still there; GET adopts the order.
    let (status, body) = call(
        &s,
        "GET",
        &format!("/ops/numbers/port-in/{LANDLINE}"),
        "",
        None,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["port_in_request_sid"], port_sid);
    assert_eq!(body["status"], "in-review");
}

/// Issue 22 §13: `make run`'s fake Twilio host makes the documented port-in happy path playable:
/// the number is portable, the request goes to Prism (Twilio's document), and the port is then
/// reported completed, which releases nothing (no temporary number) and marks it done.
#[tokio::test]
async fn the_local_fake_host_plays_a_port_in_to_completed() {
    let spec = format!(
        "/v1/Porting={},{}",
        prism::numbers_v1().base_url,
        prism::numbers_v2().base_url
    );
    let host = call_simulator::media::serve(
        call_simulator::media::tone_wav(1),
        ACCOUNT_SID,
        AUTH_TOKEN,
        0,
        Some(spec),
    )
    .await
    .unwrap();
    let api = scripted::start(Some(prism::api_v2010().base_url.clone()), vec![]).await;
    let s = stack(&[
        ("TWILIO_NUMBERS_BASE", host.base_url.as_str()),
        ("TWILIO_API_BASE", api.base_url.as_str()),
    ])
    .await;
    let (status, body) = call(&s, "POST", "/ops/numbers/port-in", "l1", Some(&port(false))).await;
    assert_eq!(status, 201, "{body}");
    let (status, got) = call(
        &s,
        "GET",
        &format!("/ops/numbers/port-in/{LANDLINE}"),
        "",
        None,
    )
    .await;
    assert_eq!(status, 200, "{got}");
    assert_eq!(got["status"], "completed", "{got}");
}
