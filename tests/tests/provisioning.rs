//! Onboarding a client's number end to end (issue 9): the ops route, the idempotency keys and the
//! saga against moto (our tables) and the Prism mock of Twilio's OpenAPI documents (every Twilio
//! call must match the specification). The bought number then answers a call with its business
//! name; a failed record step releases the purchase.

use integration_tests::*;
use provisioning::saga::PURCHASE_ATTEMPTS;
use std::collections::HashMap;
use telephony_aws::Deps;

const OPERATOR: &str = "arn:aws:iam::123456789012:user/operator";

async fn prism_stack(extra: &[(&str, &str)]) -> Stack {
    let api = prism::api_v2010().base_url.clone();
    let messaging = prism::messaging_v1().base_url.clone();
    let mut o: Vec<(&str, &str)> = vec![
        ("TWILIO_API_BASE", api.as_str()),
        ("TWILIO_MESSAGING_BASE", messaging.as_str()),
    ];
    o.extend_from_slice(extra);
    stack(&o).await
}

async fn onboard(deps: &Deps, key: Option<&str>, body: &str) -> (u16, serde_json::Value) {
    let headers: Vec<(&str, &str)> = key.map(|k| ("Idempotency-Key", k)).into_iter().collect();
    let req = ops_request_with(
        "POST",
        "/ops/numbers/onboard",
        Some(OPERATOR),
        &headers,
        Some(body),
    );
    let r = to_reply(dispatch(deps, req).await);
    (r.status, serde_json::from_str(&r.body).unwrap_or_default())
}

fn prism_requests(prism: &prism::Prism) -> Vec<String> {
    prism
        .log
        .lock()
        .unwrap()
        .iter()
        .filter(|l| l.contains("Request received"))
        .cloned()
        .collect()
}

/// The onboarding transactions of this stack (its own table; scanned, tests only).
async fn onboard_transactions(
    s: &Stack,
) -> Vec<HashMap<String, aws_sdk_dynamodb::types::AttributeValue>> {
    let items = s
        .deps
        .dynamo()
        .scan()
        .table_name(&s.resources["TransactionsTable"])
        .send()
        .await
        .unwrap();
    items
        .items()
        .iter()
        .filter(|i| attr_s(i, "kind").as_deref() == Some("onboard"))
        .cloned()
        .collect()
}

const ACME: &str = r#"{"org_id":"acme","business_name":"Acme Plumbing","country":"CA","area_code":"587","sales_target":"+14165550101"}"#;

#[tokio::test]
async fn onboarding_buys_binds_records_and_the_number_answers() {
    let s = prism_stack(&[]).await;
    let (status, body) = onboard(&s.deps, Some("k-onboard-1"), ACME).await;
    assert_eq!(status, 201, "{body}");
    let e164 = body["e164"].as_str().unwrap().to_owned();
    assert_eq!(
        body["voice_url"],
        format!("{PUBLIC_BASE_URL}/voice-frontdoor")
    );
    assert_eq!(
        body["sms_url"],
        format!("{PUBLIC_BASE_URL}/webcomms-sms-reply#rc=3&rp=all")
    );
    assert_eq!(
        body["status_callback"],
        format!("{PUBLIC_BASE_URL}/voice-status")
    );

    // The numbers item, read back through the same directory the voice flow uses.
    let item = s
        .deps
        .dynamo()
        .get_item()
        .table_name(&s.deps.config.numbers_table)
        .key(
            "e164",
            aws_sdk_dynamodb::types::AttributeValue::S(e164.clone()),
        )
        .send()
        .await
        .unwrap()
        .item
        .expect("numbers item");
    assert_eq!(
        attr_s(&item, "business_name").as_deref(),
        Some("Acme Plumbing")
    );
    assert_eq!(attr_s(&item, "created_by").as_deref(), Some(OPERATOR));
    let tx = s
        .deps
        .dynamo()
        .get_item()
        .table_name(&s.resources["TransactionsTable"])
        .key(
            "pk",
            aws_sdk_dynamodb::types::AttributeValue::S(
                body["transaction_id"].as_str().unwrap().into(),
            ),
        )
        .send()
        .await
        .unwrap()
        .item
        .expect("transaction");
    assert_eq!(attr_s(&tx, "status").as_deref(), Some("completed"));
    assert!(
        !tx.contains_key("open_since"),
        "a finished saga leaves the open index"
    );

    // A call to the new number hears its business name.
    let mut call = script(&s, &[Some("1"), Some("9")], "no-answer", 3);
    call.to = e164.clone();
    let log = play(&s, &call).await;
    assert!(
        log.heard.iter().any(|h| h.contains("Acme Plumbing")),
        "{:?}",
        log.heard
    );

    // The same key again: the stored answer, and no second saga (each saga is one transaction
    // in this stack's own table; the purchase is one of its steps).
    let (again, replay) = onboard(&s.deps, Some("k-onboard-1"), ACME).await;
    assert_eq!((again, &replay), (201, &body));
    assert_eq!(
        onboard_transactions(&s).await.len(),
        1,
        "a replay runs nothing"
    );
    // Same key, other body: 422; no key: 400.
    let (changed, err) = onboard(
        &s.deps,
        Some("k-onboard-1"),
        &ACME.replace("Acme Plumbing", "Other"),
    )
    .await;
    assert_eq!(changed, 422, "{err}");
    assert_eq!(onboard(&s.deps, None, ACME).await.0, 400);
}

#[tokio::test]
async fn bad_requests_are_refused_before_anything_is_bought() {
    let s = prism_stack(&[]).await;
    for (i, bad) in [
        r#"{"org_id":"acme","business_name":"A","country":"FR"}"#,
        r#"{"org_id":"acme","business_name":"A","country":"CA","area_code":"5a7"}"#,
        r#"{"org_id":"acme","business_name":"A","country":"CA","sales_target":"416-555-0101"}"#,
        r#"{"org_id":"acme","business_name":"A","country":"CA","surprise":1}"#,
        "not json",
    ]
    .iter()
    .enumerate()
    {
        let (status, body) = onboard(&s.deps, Some(&format!("bad-{i}")), bad).await;
        assert_eq!(status, 400, "{bad}: {body}");
        assert!(body["error"]["message"]
            .as_str()
            .is_some_and(|m| !m.is_empty()));
    }
    let anonymous = ops_request_with(
        "POST",
        "/ops/numbers/onboard",
        None,
        &[("Idempotency-Key", "x")],
        Some(ACME),
    );
    assert_eq!(to_reply(dispatch(&s.deps, anonymous).await).status, 403);
}

#[tokio::test]
async fn a_failed_record_step_releases_the_number() {
    // The numbers table does not exist: the purchase succeeds, the record step fails, and the
    // saga must release the number it bought (the DELETE reaches Twilio's mock).
    let s = prism_stack(&[("NUMBERS_TABLE", "no-such-table")]).await;
    let deletes_before = prism_requests(prism::api_v2010())
        .iter()
        .filter(|l| l.contains("delete"))
        .count();
    let (status, body) = onboard(&s.deps, Some("k-fail-1"), ACME).await;
    assert_eq!(status, 502, "{body}");
    assert_eq!(body["error"]["code"], "rolled_back");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("released"),
        "{body}"
    );
    let deletes_after = prism_requests(prism::api_v2010())
        .iter()
        .filter(|l| l.contains("delete"))
        .count();
    assert!(
        deletes_after > deletes_before,
        "no DELETE of the bought number reached Twilio"
    );
    // The transaction says so.
    let tx = onboard_transactions(&s).await;
    assert_eq!(tx.len(), 1);
    assert_eq!(attr_s(&tx[0], "status").as_deref(), Some("compensated"));
    // A 5xx answer gives the key back: the same key may be retried.
    let (retry, _) = onboard(&s.deps, Some("k-fail-1"), ACME).await;
    assert_eq!(retry, 502);
}

#[tokio::test]
async fn a_double_click_with_two_keys_buys_one_number() {
    // Two onboardings of one org at once, each with its own Idempotency-Key (two browser tabs):
    // the org lock lets one run; the other is told an onboarding is in progress.
    let s = prism_stack(&[]).await;
    let (a, b) = tokio::join!(
        onboard(&s.deps, Some("tab-1"), ACME),
        onboard(&s.deps, Some("tab-2"), ACME)
    );
    let mut statuses = [a.0, b.0];
    statuses.sort_unstable();
    assert_eq!(statuses, [201, 409], "{a:?} {b:?}");
    let refused = if a.0 == 409 { &a.1 } else { &b.1 };
    assert_eq!(refused["error"]["code"], "onboarding_in_progress");
    assert_eq!(
        onboard_transactions(&s).await.len(),
        1,
        "exactly one saga, one purchase"
    );
}

async fn ops(
    deps: &Deps,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: Option<&str>,
) -> (u16, serde_json::Value) {
    let req = ops_request_with(method, path, Some(OPERATOR), headers, body);
    let r = to_reply(dispatch(deps, req).await);
    (r.status, serde_json::from_str(&r.body).unwrap_or_default())
}

#[tokio::test]
async fn numbers_are_listed_shown_repointed_reconfigured_and_released() {
    let s = prism_stack(&[]).await;
    let (status, body) = onboard(&s.deps, Some("k-admin-1"), ACME).await;
    assert_eq!(status, 201, "{body}");
    let e164 = body["e164"].as_str().unwrap().to_owned();
    let path = format!("/ops/numbers/{}", e164.replace('+', "%2B"));

    let (st, list) = ops(&s.deps, "GET", "/ops/numbers", &[], None).await;
    assert_eq!(st, 200, "{list}");
    let row = list["numbers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["e164"] == e164.as_str())
        .expect("listed");
    assert_eq!(row["in_table"], true);
    assert!(
        list["numbers"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["at_twilio"] == true),
        "Twilio's list merged in"
    );

    let (st, shown) = ops(&s.deps, "GET", &path, &[], None).await;
    assert_eq!(st, 200, "{shown}");
    assert_eq!(shown["config"]["business_name"], "Acme Plumbing");
    assert_eq!(shown["config"]["version"], 1);

    // PATCH with one URL sends only that field (and its method); {} re-applies all of ours.
    let (st, patched) = ops(
        &s.deps,
        "PATCH",
        &format!("{path}/webhooks"),
        &[("Idempotency-Key", "p1")],
        Some(r#"{"voice_url":"https://new.example/voice-frontdoor"}"#),
    )
    .await;
    assert_eq!(st, 200, "{patched}");
    assert_eq!(
        patched["sent"],
        serde_json::json!(["VoiceUrl", "VoiceMethod"])
    );
    let (st, reapplied) = ops(
        &s.deps,
        "PATCH",
        &format!("{path}/webhooks"),
        &[("Idempotency-Key", "p2")],
        Some("{}"),
    )
    .await;
    assert_eq!(st, 200, "{reapplied}");
    assert_eq!(
        reapplied["sent"].as_array().unwrap().len(),
        8,
        "{reapplied}"
    );

    // PUT config: If-Match required, stale version refused, current version accepted.
    let cfg = r#"{"business_name":"Acme Plumbing & Heating"}"#;
    assert_eq!(
        ops(
            &s.deps,
            "PUT",
            &format!("{path}/config"),
            &[("Idempotency-Key", "c0")],
            Some(cfg)
        )
        .await
        .0,
        428
    );
    let (st, stale) = ops(
        &s.deps,
        "PUT",
        &format!("{path}/config"),
        &[("Idempotency-Key", "c1"), ("If-Match", "7")],
        Some(cfg),
    )
    .await;
    assert_eq!(
        (st, stale["error"]["code"].as_str()),
        (409, Some("version_mismatch"))
    );
    let (st, ok) = ops(
        &s.deps,
        "PUT",
        &format!("{path}/config"),
        &[("Idempotency-Key", "c2"), ("If-Match", "1")],
        Some(cfg),
    )
    .await;
    assert_eq!((st, ok["version"].as_u64()), (200, Some(2)), "{ok}");
    let (_, shown) = ops(&s.deps, "GET", &path, &[], None).await;
    assert_eq!(shown["config"]["business_name"], "Acme Plumbing & Heating");
    let (st, bad) = ops(
        &s.deps,
        "PUT",
        &format!("{path}/config"),
        &[("Idempotency-Key", "c3"), ("If-Match", "2")],
        Some(r#"{"sales_target":"not a number"}"#),
    )
    .await;
    assert_eq!(st, 400, "{bad}");

    // DELETE releases at Twilio and removes our item; again is harmless.
    let (st, released) = ops(&s.deps, "DELETE", &path, &[("Idempotency-Key", "d1")], None).await;
    assert_eq!(
        (st, released["released"].as_bool()),
        (200, Some(true)),
        "{released}"
    );
    assert_eq!(
        ops(&s.deps, "GET", &path, &[], None).await.1["config"],
        serde_json::Value::Null
    );
    assert_eq!(
        ops(&s.deps, "DELETE", &path, &[("Idempotency-Key", "d2")], None)
            .await
            .0,
        200
    );

    // A path that is not a number: 400, nothing sent.
    assert_eq!(
        ops(&s.deps, "GET", "/ops/numbers/not-a-number", &[], None)
            .await
            .0,
        400
    );
}

/// Prism log lines of requests whose line mentions `needle` (a path or SID).
fn prism_lines(prism: &prism::Prism, method: &str, needle: &str) -> usize {
    prism_requests(prism)
        .iter()
        .filter(|l| l.contains(&format!("{method} ")) && l.contains(needle))
        .count()
}

fn step(name: &str, status: &str) -> aws_sdk_dynamodb::types::AttributeValue {
    use aws_sdk_dynamodb::types::AttributeValue as A;
    A::M(
        [
            ("name".to_owned(), A::S(name.into())),
            ("status".to_owned(), A::S(status.into())),
        ]
        .into(),
    )
}

/// A transaction item as the saga leaves it when its Lambda dies after `steps` (attribute names
/// of `telephony_aws::provisioning`), opened `open_since`.
async fn abandoned(
    s: &Stack,
    id: &str,
    open_since: u64,
    steps: &[(&str, &str)],
    bought: Option<(&str, &str)>,
) {
    use aws_sdk_dynamodb::types::AttributeValue as A;
    let mut put = s
        .deps
        .dynamo()
        .put_item()
        .table_name(&s.resources["TransactionsTable"])
        .item("pk", A::S(id.into()))
        .item("kind", A::S("onboard".into()))
        .item("org_id", A::S(format!("org-{id}").to_lowercase()))
        .item("principal", A::S(OPERATOR.into()))
        .item("status", A::S("in_progress".into()))
        .item("open_kind", A::S("onboard".into()))
        .item("open_since", A::N(open_since.to_string()))
        .item("created_at", A::N(open_since.to_string()))
        .item("created_day", A::N((open_since / 86_400).to_string()))
        .item(
            "steps",
            A::L(steps.iter().map(|(n, st)| step(n, st)).collect()),
        );
    if let Some((e164, sid)) = bought {
        put = put
            .item("e164", A::S(e164.into()))
            .item("phone_sid", A::S(sid.into()));
    }
    put.send().await.unwrap();
}

async fn tx_item(s: &Stack, id: &str) -> HashMap<String, aws_sdk_dynamodb::types::AttributeValue> {
    s.deps
        .dynamo()
        .get_item()
        .table_name(&s.resources["TransactionsTable"])
        .key("pk", aws_sdk_dynamodb::types::AttributeValue::S(id.into()))
        .consistent_read(true)
        .send()
        .await
        .unwrap()
        .item
        .expect("transaction item")
}

#[tokio::test]
async fn abandoned_sagas_are_finished_or_compensated_by_the_monitor() {
    use aws_sdk_dynamodb::types::AttributeValue as A;
    let s = prism_stack(&[]).await;
    let now = telephony_aws::now_secs();
    // A unique SID, so this test's DELETE is told apart in Prism's shared log.
    let sid = format!("PN{:032x}", now as u128 * 7919 + std::process::id() as u128);
    let e164 = "+15875550177";
    // 1. Crashed after the numbers item was written, before the step was recorded.
    abandoned(
        &s,
        "TXcrashed",
        now - 600,
        &[("search", "done"), ("buy", "started"), ("buy", "done")],
        Some((e164, &sid)),
    )
    .await;
    s.deps
        .dynamo()
        .put_item()
        .table_name(&s.resources["NumbersTable"])
        .item("e164", A::S(e164.into()))
        .item("phone_sid", A::S(sid.clone()))
        .item("business_name", A::S("Half Done".into()))
        .send()
        .await
        .unwrap();
    // 2. Every step done, only the final status lost: finished, nothing released.
    let kept_sid = format!("PN{:032x}", now as u128 * 7907 + std::process::id() as u128);
    abandoned(
        &s,
        "TXdone",
        now - 600,
        &[("buy", "done"), ("record", "done")],
        Some(("+15875550178", &kept_sid)),
    )
    .await;
    // 3. Still within its lease: a live Lambda may be running it; untouched.
    abandoned(&s, "TXlive", now - 10, &[("search", "started")], None).await;

    let out = telephony_monitor::handler(&integration_tests::narrow(
        &s.deps,
        &telephony_monitor::NEEDS,
    ))
    .await
    .unwrap();
    let sagas = &out["sagas"];
    assert_eq!(sagas["examined"], 2, "{out}");
    assert_eq!(sagas["completed"], 1, "{out}");
    assert_eq!(sagas["compensated"], 1, "{out}");

    let crashed = tx_item(&s, "TXcrashed").await;
    assert_eq!(attr_s(&crashed, "status").as_deref(), Some("compensated"));
    assert!(!crashed.contains_key("open_kind"), "left the open index");
    assert_eq!(
        prism_lines(prism::api_v2010(), "delete", &sid),
        1,
        "the abandoned purchase was released once"
    );
    let gone = s
        .deps
        .dynamo()
        .get_item()
        .table_name(&s.resources["NumbersTable"])
        .key("e164", A::S(e164.into()))
        .consistent_read(true)
        .send()
        .await
        .unwrap();
    assert!(gone.item.is_none(), "its numbers item was deleted");

    let done = tx_item(&s, "TXdone").await;
    assert_eq!(attr_s(&done, "status").as_deref(), Some("completed"));
    assert_eq!(prism_lines(prism::api_v2010(), "delete", &kept_sid), 0);
    let live = tx_item(&s, "TXlive").await;
    assert_eq!(attr_s(&live, "status").as_deref(), Some("in_progress"));

    // A second run finds nothing more to do (closed sagas left the index).
    let again = telephony_monitor::handler(&integration_tests::narrow(
        &s.deps,
        &telephony_monitor::NEEDS,
    ))
    .await
    .unwrap();
    assert_eq!(again["sagas"]["examined"], 0, "{again}");

    // The ops summary's failed_transactions view shows the compensated one.
    let (status, summary) = ops(&s.deps, "GET", "/ops/metrics/summary", &[], None).await;
    assert_eq!(status, 200, "{summary}");
    let failed = &summary["failed_transactions"];
    assert_eq!(failed["count"], 1, "{failed}");
    assert_eq!(failed["transactions"][0]["transaction_id"], "TXcrashed");
    assert_eq!(failed["transactions"][0]["status"], "compensated");
    assert_eq!(failed["by_status"]["completed"], 1, "{failed}");
    assert_eq!(failed["by_status"]["in_progress"], 1, "{failed}");
}

#[tokio::test]
async fn one_subaccount_per_org_is_created_once_and_holds_its_numbers() {
    let s = prism_stack(&[("SUBACCOUNT_PER_ORG", "true")]).await;
    let (status, first) = onboard(&s.deps, Some("sub-1"), ACME).await;
    assert_eq!(status, 201, "{first}");
    assert_eq!(first["subaccount_created"], true);
    let sub = first["account_sid"].as_str().unwrap().to_owned();
    assert_ne!(sub, ACCOUNT_SID, "bought under the org's subaccount");
    assert!(
        prism_lines(
            prism::api_v2010(),
            "post",
            &format!("/2010-04-01/Accounts/{sub}/IncomingPhoneNumbers.json")
        ) >= 1,
        "the purchase went to the subaccount's path"
    );
    let e164 = first["e164"].as_str().unwrap().to_owned();
    // Its numbers item names the subaccount; the org record holds it.
    let (_, shown) = ops(&s.deps, "GET", &format!("/ops/numbers/{e164}"), &[], None).await;
    assert_eq!(shown["config"]["account_sid"], sub.as_str(), "{shown}");
    // Released under the subaccount, then a second onboarding of the org reuses it.
    let (status, released) = ops(
        &s.deps,
        "DELETE",
        &format!("/ops/numbers/{e164}"),
        &[("Idempotency-Key", "sub-del")],
        None,
    )
    .await;
    assert_eq!(status, 200, "{released}");
    assert!(
        prism_lines(
            prism::api_v2010(),
            "delete",
            &format!("/2010-04-01/Accounts/{sub}/IncomingPhoneNumbers/")
        ) >= 1
    );
    let (status, second) = onboard(&s.deps, Some("sub-2"), ACME).await;
    assert_eq!(status, 201, "{second}");
    assert_eq!(second["subaccount_created"], false, "created once per org");
    assert_eq!(second["account_sid"], sub.as_str());
    let txs = onboard_transactions(&s).await;
    assert_eq!(
        txs.iter()
            .filter(|t| t.get("subaccount_created").is_some())
            .count(),
        1,
        "one saga created the subaccount"
    );
}

/// Three candidates in the area code (Twilio's AvailablePhoneNumbers page shape).
fn three_candidates() -> (u16, String) {
    let n = |e: &str| {
        serde_json::json!({"phone_number": e, "friendly_name": e, "iso_country": "CA",
        "capabilities": {"voice": true, "SMS": true, "MMS": true}})
    };
    (
        200,
        serde_json::json!({"available_phone_numbers": [n("+15875550101"), n("+15875550102"), n("+15875550103")],
            "uri": "/2010-04-01/Accounts/AC0123456789abcdef0123456789abcdef/AvailablePhoneNumbers/CA/Local.json"})
        .to_string(),
    )
}

#[tokio::test]
async fn a_number_gone_at_purchase_is_replaced_once_then_a_clear_error() {
    use integration_tests::scripted::{self, twilio_error, Rule};
    let gone = || twilio_error(400, 21422, "PhoneNumber is not available");
    let script = |buys: Vec<(u16, String)>| {
        vec![
            Rule {
                method: "GET",
                path: "/AvailablePhoneNumbers/CA/Local.json".into(),
                answers: [three_candidates()].into(),
            },
            Rule {
                method: "POST",
                path: "/IncomingPhoneNumbers.json".into(),
                answers: buys.into(),
            },
        ]
    };
    let upstream = Some(prism::api_v2010().base_url.clone());

    // The first candidate is gone: the second is bought.
    let twilio = scripted::start(upstream.clone(), script(vec![gone()])).await;
    let s = prism_stack(&[("TWILIO_API_BASE", twilio.base_url.as_str())]).await;
    let (status, body) = onboard(&s.deps, Some("gone-1"), ACME).await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(twilio.count("POST", "/IncomingPhoneNumbers.json"), 2);

    // Both attempts gone: a clear 409, the third candidate untried, nothing to release.
    let twilio = scripted::start(upstream, script(vec![gone(), gone()])).await;
    let s = prism_stack(&[("TWILIO_API_BASE", twilio.base_url.as_str())]).await;
    let (status, body) = onboard(&s.deps, Some("gone-2"), ACME).await;
    assert_eq!(status, 409, "{body}");
    assert_eq!(body["error"]["code"], "no_number_available");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("PhoneNumber is not available"),
        "{body}"
    );
    assert_eq!(
        twilio.count("POST", "/IncomingPhoneNumbers.json"),
        PURCHASE_ATTEMPTS
    );
    assert_eq!(twilio.count("DELETE", "/IncomingPhoneNumbers/"), 0);
    let tx = onboard_transactions(&s).await;
    assert_eq!(attr_s(&tx[0], "status").as_deref(), Some("failed"));
}

#[tokio::test]
async fn hours_and_speech_are_set_through_the_config_route_and_checked() {
    use aws_sdk_dynamodb::types::AttributeValue as A;
    let s = prism_stack(&[]).await;
    s.deps
        .dynamo()
        .put_item()
        .table_name(&s.resources["NumbersTable"])
        .item("e164", A::S("+15875550170".into()))
        .item("business_name", A::S("Acme".into()))
        .item("version", A::N("1".into()))
        .send()
        .await
        .unwrap();
    let path = "/ops/numbers/%2B15875550170/config";
    let put = |key: &'static str, version: &'static str, body: &'static str| {
        let deps = &s.deps;
        async move {
            ops(
                deps,
                "PUT",
                path,
                &[("Idempotency-Key", key), ("If-Match", version)],
                Some(body),
            )
            .await
        }
    };
    for (key, body, needle) in [
        (
            "h1",
            r#"{"timezone":"Mars/Olympus","hours":"mon 09:00-17:00"}"#,
            "time zone",
        ),
        (
            "h2",
            r#"{"timezone":"America/Edmonton","hours":"someday 9-5"}"#,
            "unknown day",
        ),
        ("h3", r#"{"hours":"mon 09:00-17:00"}"#, "together"),
        ("h4", r#"{"holiday_region":"CA-XX"}"#, "holiday_region"),
        ("h5", r#"{"closures":"24/12/2026"}"#, "YYYY-MM-DD"),
        (
            "h5s",
            r#"{"screening":{"sales":"maybe"}}"#,
            "screening.sales",
        ),
        ("h5g", r#"{"robocall_gate":"all"}"#, "robocall_gate"),
    ] {
        let (status, body) = put(key, "1", body).await;
        assert_eq!(status, 400, "{body}");
        assert!(
            body["error"]["message"].as_str().unwrap().contains(needle),
            "{body}"
        );
    }
    let (status, body) = put(
        "h6",
        "1",
        r#"{"timezone":"America/Edmonton","hours":"mon-fri 09:00-17:00","holiday_region":"CA-AB","closures":"2026-12-24","after_hours_target":"+14035550199","speech_input":false,"screening":{"default":"off","sales":"on"},"robocall_gate":"unverified"}"#,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let config = telephony_aws::numbers::NumberDirectory::new(
        s.resources["NumbersTable"].clone(),
        std::time::Duration::ZERO,
    )
    .lookup(
        s.deps.dynamo(),
        "+15875550170",
        &s.deps.config.default_number,
    )
    .await
    .unwrap();
    let hours = config.hours.expect("hours parsed back");
    assert_eq!(hours.tz, chrono_tz::America::Edmonton);
    assert_eq!(hours.weekly[0], vec![(540, 1020)]);
    assert_eq!(hours.holiday_region.as_deref(), Some("CA-AB"));
    assert_eq!(config.after_hours_target.unwrap().as_str(), "+14035550199");
    assert!(!config.speech_input);
    use telephony_core::screening::ScreenSetting;
    assert_eq!(config.screening.default, ScreenSetting::Off);
    assert_eq!(config.screening.sales, ScreenSetting::On);
    assert_eq!(config.screening.support, ScreenSetting::Auto);
    assert_eq!(
        config.robocall_gate,
        telephony_core::gate::RobocallGate::Unverified
    );
}
