//! Every provisioning method of the Twilio REST client against Twilio's own OpenAPI documents,
//! served by the Prism mock (issue 9): Prism answers 422 to a request the specification does not
//! allow, so each call succeeding means the client sent what Twilio accepts. The last test shows
//! the mock does refuse a bad request (so the others cannot pass vacuously).

use integration_tests::prism;
use twilio_api::numbers::{NumberFields, NumberSearch};
use twilio_api::{Client, ClientConfig, TwilioError};

const ACCOUNT: &str = "AC0123456789abcdef0123456789abcdef";
const NUMBER_SID: &str = "PN0123456789abcdef0123456789abcdef";
const SERVICE_SID: &str = "MG0123456789abcdef0123456789abcdef";

fn client() -> Client {
    Client::new(ClientConfig {
        account_sid: ACCOUNT.into(),
        username: ACCOUNT.into(),
        password: "token".into(),
        api_base: prism::api_v2010().base_url.clone(),
        messaging_base: prism::messaging_v1().base_url.clone(),
        numbers_base: telephony_aws::twilio_api::NUMBERS_BASE.into(),
    })
    .unwrap()
}

fn ok<T>(what: &str, r: Result<T, TwilioError>) -> T {
    r.unwrap_or_else(|e| panic!("{what}: the Twilio specification refused it: {e}"))
}

fn webhooks() -> NumberFields {
    let base = "https://abc123.execute-api.ca-central-1.amazonaws.com";
    NumberFields {
        friendly_name: Some("Acme Plumbing".into()),
        voice_url: Some(format!("{base}/voice-frontdoor")),
        voice_method: Some("POST".into()),
        voice_fallback_url: Some(format!("{base}/voice-fallback")),
        voice_fallback_method: Some("POST".into()),
        status_callback: Some(format!("{base}/voice-status")),
        status_callback_method: Some("POST".into()),
        sms_url: Some(format!("{base}/webcomms-sms-reply")),
        sms_method: Some("POST".into()),
        sms_fallback_url: None,
        sms_fallback_method: None,
    }
}

#[tokio::test]
async fn every_provisioning_call_matches_twilios_specification() {
    let c = client();
    let sub = ok("create subaccount", c.create_subaccount("org acme").await);
    assert!(sub.sid.is_some(), "CreateAccount answer has a sid");
    ok("fetch account", c.fetch_account(ACCOUNT).await);
    ok("close subaccount", c.close_subaccount(ACCOUNT).await);

    let search = NumberSearch {
        area_code: Some("587".into()),
        in_region: Some("AB".into()),
        contains: Some("555*".into()),
        sms_enabled: Some(true),
        voice_enabled: Some(true),
        page_size: Some(20),
    };
    ok("search", c.search_local_numbers("CA", &search).await);
    ok(
        "search without criteria",
        c.search_local_numbers("US", &NumberSearch::default()).await,
    );

    let bought = ok("buy", c.buy_number("+15875550100", &webhooks()).await);
    assert!(bought.sid.is_some());
    let only_voice = NumberFields {
        voice_url: Some("https://example.com/voice-frontdoor".into()),
        ..Default::default()
    };
    ok("update", c.update_number(NUMBER_SID, &only_voice).await);
    ok("fetch number", c.fetch_number(NUMBER_SID).await);
    ok("list numbers", c.list_numbers(None).await);
    ok("find number", c.find_number("+15875550100").await);
    ok("release", c.release_number(NUMBER_SID).await);
    ok(
        "add to messaging service",
        c.add_number_to_service(SERVICE_SID, NUMBER_SID).await,
    );
    let sent = ok(
        "send a message",
        c.send_message("+15875550100", "+14165550123", "Sorry we missed your call.")
            .await,
    );
    assert!(sent.sid.is_some());
    ok(
        "send a WhatsApp template",
        c.send_template(
            "whatsapp:+15875550100",
            "whatsapp:+14165550123",
            "HX0123456789abcdef0123456789abcdef",
        )
        .await,
    );

    let log = prism::api_v2010().log.lock().unwrap().join("\n");
    for path in [
        "/2010-04-01/Accounts.json",
        "/AvailablePhoneNumbers/CA/Local.json",
        "/IncomingPhoneNumbers.json",
        "/IncomingPhoneNumbers/PN0123456789abcdef0123456789abcdef.json",
        "/Messages.json",
    ] {
        assert!(log.contains(path), "Prism saw no request to {path}:\n{log}");
    }
}

#[tokio::test]
async fn the_mock_refuses_what_the_specification_does_not_allow() {
    // A VoiceMethod outside GET/POST: Prism must answer 422 naming the field, or the test above
    // would prove nothing.
    let c = client();
    let bad = NumberFields {
        voice_method: Some("FOO".into()),
        ..Default::default()
    };
    match c.update_number(NUMBER_SID, &bad).await {
        Err(TwilioError::Api { status: 422, .. }) => {}
        other => panic!("expected 422 from the spec mock, got {other:?}"),
    }
    // And a country code that is not two capitals never reaches Twilio.
    assert!(matches!(
        c.search_local_numbers("Canada", &NumberSearch::default())
            .await,
        Err(TwilioError::Decode(_))
    ));
}

#[tokio::test]
async fn reads_are_retried_on_429_and_5xx_purchases_are_sent_once() {
    use integration_tests::scripted::{self, twilio_error, Rule};
    let s = scripted::start(
        Some(prism::api_v2010().base_url.clone()),
        vec![
            Rule {
                method: "GET",
                path: "/IncomingPhoneNumbers.json".into(),
                answers: [
                    twilio_error(429, 20429, "Too Many Requests"),
                    twilio_error(503, 20503, "Service Unavailable"),
                ]
                .into(),
            },
            Rule {
                method: "POST",
                path: "/IncomingPhoneNumbers.json".into(),
                answers: [twilio_error(503, 20503, "Service Unavailable")].into(),
            },
            Rule {
                method: "GET",
                path: "/AvailablePhoneNumbers/".into(),
                answers: [twilio_error(400, 21452, "No numbers found")].into(),
            },
        ],
    )
    .await;
    let c = Client::new(ClientConfig {
        api_base: s.base_url.clone(),
        ..client().config().clone()
    })
    .unwrap();
    // A read: 429, then 503, then Prism's answer — three attempts, one success.
    ok("list after retries", c.list_numbers(None).await);
    assert_eq!(s.count("GET", "/IncomingPhoneNumbers.json"), 3);
    // A purchase answered 503 is not repeated: a retry could buy a second number.
    match c.buy_number("+15017122661", &webhooks()).await {
        Err(TwilioError::Api { status: 503, .. }) => {}
        other => panic!("expected the 503, got {other:?}"),
    }
    assert_eq!(s.count("POST", "/IncomingPhoneNumbers.json"), 1);
    // A 400 on a read is an answer, not a failure to retry.
    let search = NumberSearch {
        area_code: Some("587".into()),
        ..Default::default()
    };
    match c.search_local_numbers("CA", &search).await {
        Err(TwilioError::Api {
            status: 400, code, ..
        }) => assert_eq!(code, Some(21452)),
        other => panic!("expected the 400, got {other:?}"),
    }
    assert_eq!(s.count("GET", "/AvailablePhoneNumbers/"), 1);
}

/// The compliance, hosted SMS and porting calls (issue 10) against the messaging v1 and numbers
/// v1/v2 documents (the numbers host's two documents behind one routing proxy, as Twilio serves
/// them from one host). `CreateUsAppToPerson` is checked in `compliance.rs`: Prism cannot
/// validate its form array (stoplightio/prism#2473).
#[tokio::test]
async fn every_compliance_and_order_call_matches_twilios_specification() {
    let numbers = integration_tests::scripted::start_routed(
        vec![
            ("/v1/", prism::numbers_v1().base_url.clone()),
            ("/v2/", prism::numbers_v2().base_url.clone()),
        ],
        vec![],
    )
    .await;
    let mut config = client().config().clone();
    config.numbers_base = numbers.base_url.clone();
    let c = Client::new(config).unwrap();
    let bundle = format!("BU{}", "1".repeat(32));
    let brand = ok(
        "create brand registration",
        c.create_brand_registration(&bundle, &format!("BU{}", "2".repeat(32)))
            .await,
    );
    assert!(brand.sid.starts_with("BN"));
    ok("fetch brand", c.fetch_brand_registration(&brand.sid).await);
    let campaign = ok(
        "fetch campaign",
        c.fetch_us_app_to_person(SERVICE_SID, "QE2c6890da8086d771620e9b13fadeba0b")
            .await,
    );
    assert!(campaign.campaign_status.is_some());
    let order = ok(
        "create hosted number order",
        c.create_hosted_number_order(&twilio_api::compliance::HostedNumberRequest {
            phone_number: "+14035550150".into(),
            contact_phone_number: "+14035550199".into(),
            address_sid: format!("AD{}", "c".repeat(32)),
            email: "owner@acme.example".into(),
            friendly_name: "acme hosted SMS".into(),
            sms_url: "https://abc123.execute-api.ca-central-1.amazonaws.com/webcomms-sms-reply"
                .into(),
        })
        .await,
    );
    ok(
        "fetch hosted order",
        c.fetch_hosted_number_order(&order.sid).await,
    );
    ok("portability", c.portability("+14035550150").await);
    let port = ok(
        "create port-in",
        c.create_port_in(&serde_json::json!({
            "account_sid": ACCOUNT,
            "phone_numbers": [{"phone_number": "+14035550150"}],
            "losing_carrier_information": {
                "customer_name": "Acme Plumbing Ltd", "customer_type": "Business",
                "authorized_representative": "Sam Lee",
                "authorized_representative_email": "sam@acme.example",
                "address": {"street": "1 Main St", "city": "Calgary", "state": "AB",
                    "zip": "T2P 1J9", "country": "CA"}
            },
            "documents": [format!("RD{}", "a".repeat(32))]
        }))
        .await,
    );
    ok(
        "fetch port-in",
        c.fetch_port_in(&port.port_in_request_sid).await,
    );
    ok(
        "list port-ins",
        c.list_port_ins_created_after("2026-11-01").await,
    );
    ok(
        "cancel port-in",
        c.cancel_port_in(&port.port_in_request_sid).await,
    );
    // The seven numbers-host calls reached Prism through the routing proxy.
    assert_eq!(numbers.log.lock().unwrap().len(), 7);
}
