//! US texting compliance (issue 10) against moto and the Prism mock of Twilio's messaging v1
//! document (a scripted Twilio in front of it counts the requests and plays later brand and
//! campaign statuses): A2P registration once, Canada-only orgs sending nothing to Twilio, the
//! campaign after the brand's approval, and the gate where texts are sent.

use aws_sdk_dynamodb::types::AttributeValue as A;
use integration_tests::scripted::{self, Rule};
use integration_tests::*;

const OPERATOR: &str = "arn:aws:iam::123456789012:user/operator";
const US_NUMBER: &str = "+12125550199";
const SERVICE: &str = "MG0123456789abcdef0123456789abcdef";

fn bundles(campaign: bool) -> String {
    let mut b = serde_json::json!({
        "us_enabled": true,
        "customer_profile_bundle_sid": format!("BU{}", "1".repeat(32)),
        "a2p_profile_bundle_sid": format!("BU{}", "2".repeat(32)),
        "messaging_service_sid": SERVICE,
    });
    if campaign {
        b["campaign"] = serde_json::json!({
            "description": "Replies and appointment reminders to customers who text Acme first.",
            "message_flow": "Customers text our business number first and we answer them there.",
            "message_samples": [
                "Thanks for texting Acme Plumbing, we will call you back today.",
                "Your furnace service is booked for Tuesday at 9 am. Reply STOP to opt out."
            ],
            "use_case": "CUSTOMER_CARE",
            "has_embedded_links": false,
            "has_embedded_phone": true
        });
    }
    b.to_string()
}

async fn a2p(s: &Stack, method: &str, key: &str, body: Option<&str>) -> (u16, serde_json::Value) {
    let headers: Vec<(&str, &str)> = if method == "POST" {
        vec![("Idempotency-Key", key)]
    } else {
        vec![]
    };
    let req = ops_request_with(method, "/ops/orgs/acme/a2p", Some(OPERATOR), &headers, body);
    let r = to_reply(dispatch(&s.deps, req).await);
    (r.status, serde_json::from_str(&r.body).unwrap_or_default())
}

async fn twilio_stack(rules: Vec<Rule>) -> (scripted::Scripted, Stack) {
    let twilio = scripted::start(Some(prism::messaging_v1().base_url.clone()), rules).await;
    let s = stack(&[("TWILIO_MESSAGING_BASE", twilio.base_url.as_str())]).await;
    (twilio, s)
}

#[tokio::test]
async fn enabling_a2p_twice_registers_one_brand_and_canada_only_sends_nothing() {
    let (twilio, s) = twilio_stack(vec![]).await;
    // Canada-only: not_required, nothing sent to Twilio.
    let (status, body) = a2p(&s, "POST", "k0", Some(r#"{"us_enabled": false}"#)).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["a2p_status"], "not_required");
    assert!(twilio.log.lock().unwrap().is_empty());
    // US: the brand once, whatever the number of requests.
    let (status, body) = a2p(&s, "POST", "k1", Some(&bundles(false))).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["a2p_status"], "pending");
    assert!(body["brand_sid"].as_str().unwrap().starts_with("BN"));
    let (status, again) = a2p(&s, "POST", "k2", Some(&bundles(false))).await;
    assert_eq!(status, 200, "{again}");
    assert_eq!(again["brand_sid"], body["brand_sid"]);
    assert_eq!(twilio.count("POST", "/v1/a2p/BrandRegistrations"), 1);
    // Bad input: 400, nothing sent.
    let bad = bundles(false).replace("BU1111", "XX1111");
    let (status, _) = a2p(&s, "POST", "k3", Some(&bad)).await;
    assert_eq!(status, 400);
    assert_eq!(twilio.count("POST", "/v1/a2p/BrandRegistrations"), 1);
}

fn approved_brand() -> (u16, String) {
    (
        200,
        serde_json::json!({"sid": "BN0044409f7e067e279523808d267e2d85", "status": "APPROVED"})
            .to_string(),
    )
}

#[tokio::test]
async fn the_campaign_follows_the_brand_approval_and_approval_opens_us_texting() {
    let (twilio, s) = twilio_stack(vec![
        Rule {
            method: "GET",
            path: "/v1/a2p/BrandRegistrations/".into(),
            answers: [approved_brand(), approved_brand()].into(),
        },
        // Prism 5.16 cannot validate a form array (Twilio's repeated `MessageSamples`; it reads
        // one string: stoplightio/prism#2473): the creation is answered with the document's
        // example here, and its fields are checked against the document below.
        Rule {
            method: "POST",
            path: "/Compliance/Usa2p".into(),
            answers: [(201, usa2p_example())].into(),
        },
        Rule {
            method: "GET",
            path: "/Compliance/Usa2p/".into(),
            answers: [(
                200,
                serde_json::json!({"sid": "QE2c6890da8086d771620e9b13fadeba0b", "campaign_status": "VERIFIED"})
                    .to_string(),
            )]
            .into(),
        },
    ])
    .await;
    put_us_number(&s).await;
    // Before any approval: a text to the US number gets no auto-reply (the message is kept).
    assert_eq!(
        text(&s, "+16475550101", "Do you fix furnaces?").await,
        EMPTY
    );
    // The brand is approved (Twilio's GET), the campaign is registered once, then verified.
    let (status, body) = a2p(&s, "POST", "c1", Some(&bundles(true))).await;
    assert_eq!(status, 200, "{body}");
    assert!(
        body["campaign_sid"].as_str().unwrap().starts_with("QE"),
        "{body}"
    );
    assert_eq!(body["a2p_status"], "pending", "campaign under review");
    assert_eq!(
        twilio.count("POST", &format!("/v1/Services/{SERVICE}/Compliance/Usa2p")),
        1
    );
    let sent = &twilio.forms("POST", "/Compliance/Usa2p")[0];
    for field in usa2p_required() {
        assert!(
            sent.iter().any(|(k, _)| *k == field),
            "{field} missing from {sent:?}"
        );
    }
    let samples = sent.iter().filter(|(k, _)| k == "MessageSamples").count();
    assert_eq!(samples, 2, "{sent:?}");
    let (status, body) = a2p(&s, "GET", "", None).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["a2p_status"], "approved", "{body}");
    assert_eq!(
        twilio.count("POST", &format!("/v1/Services/{SERVICE}/Compliance/Usa2p")),
        1
    );
    // Approved: the US number answers.
    let reply = text(&s, "+16475550102", "Do you fix furnaces?").await;
    assert!(reply.contains("<Message>Thanks for texting"), "{reply}");
}

fn messaging_doc() -> serde_json::Value {
    let text =
        std::fs::read_to_string(repo_root().join("infra/twilio-oai/twilio_messaging_v1.json"))
            .unwrap();
    serde_json::from_str(&text).unwrap()
}

const USA2P: &str = "/v1/Services/{MessagingServiceSid}/Compliance/Usa2p";

/// The required form fields of `CreateUsAppToPerson` in Twilio's document.
fn usa2p_required() -> Vec<String> {
    let d = messaging_doc();
    let schema = &d["paths"][USA2P]["post"]["requestBody"]["content"]
        ["application/x-www-form-urlencoded"]["schema"];
    schema["required"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_owned())
        .collect()
}

/// The document's example answer to `CreateUsAppToPerson`.
fn usa2p_example() -> String {
    let d = messaging_doc();
    d["paths"][USA2P]["post"]["responses"]["201"]["content"]["application/json"]["examples"]
        ["create"]["value"]
        .to_string()
}

const EMPTY: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response/>";

/// A US business number of org `acme`.
async fn put_us_number(s: &Stack) {
    s.deps
        .dynamo()
        .put_item()
        .table_name(&s.resources["NumbersTable"])
        .item("e164", A::S(US_NUMBER.into()))
        .item("business_name", A::S("Acme Plumbing NYC".into()))
        .item("language", A::S("en-US".into()))
        .item("org_id", A::S("acme".into()))
        .send()
        .await
        .unwrap();
}

/// Texts `body` from `from` to the US number; the reply's TwiML.
async fn text(s: &Stack, from: &str, body: &str) -> String {
    text_message(s, from, US_NUMBER, body).await
}

#[tokio::test]
async fn us_numbers_without_approval_send_nothing_canadian_numbers_always_do() {
    let s = stack(&[]).await;
    put_us_number(&s).await;
    // US number, no A2P record: no auto-reply, no help text; STOP is still recorded.
    assert_eq!(
        text(&s, "+16475550111", "Do you fix furnaces?").await,
        EMPTY
    );
    assert_eq!(text(&s, "+16475550112", "HELP").await, EMPTY);
    assert_eq!(text(&s, "+16475550113", "STOP").await, EMPTY);
    assert!(s
        .deps
        .messages()
        .is_opted_out("+16475550113", telephony_aws::now_secs())
        .await
        .unwrap());
    // The Canadian hotline answers whatever the org's status.
    let reply = text_message(&s, "+16475550114", HOTLINE, "Do you fix furnaces?").await;
    assert!(reply.contains("<Message>Thanks for texting"), "{reply}");
    let help = text_message(&s, "+16475550115", HOTLINE, "HELP").await;
    assert!(help.contains("<Message>"), "{help}");
}
