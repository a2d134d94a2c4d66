//! The public contact form (issue 14) against moto: DynamoDB for the submissions and the
//! per-IP counter, SES for the staff notice and the acknowledgement (moto keeps sent mail in
//! its data API).

use contact_submit::{handle, Settings};
use integration_tests::*;

const ORIGIN: &str = "https://tradeline247.ca";
const SENDER: &str = "noreply@tradeline247.ca"; // verified by bootstrap.py
const STAFF: &str = "support@tradeline247.ca";

async fn settings(s: &Stack, sender: &str) -> Settings {
    Settings {
        origin: ORIGIN.into(),
        table: s.resources["SubmissionsTable"].clone(),
        sender: sender.into(),
        staff: STAFF.into(),
        ses: aws_sdk_sesv2::Client::new(&sdk_config(moto_endpoint()).await),
    }
}

/// A POST as API Gateway delivers it: `sourceIp` from the connection, headers from the client.
fn post(source_ip: &str, headers: &[(&str, &str)], body: &str) -> telephony_aws::Request {
    let mut h = serde_json::json!({"host": "api.example", "content-type": "application/json"});
    for (k, v) in headers {
        h[k.to_ascii_lowercase()] = (*v).into();
    }
    telephony_aws::event::request_from_event(serde_json::json!({
        "version": "2.0", "routeKey": "POST /contact-submit", "rawPath": "/contact-submit",
        "rawQueryString": "", "headers": h, "body": body, "isBase64Encoded": false,
        "requestContext": {"accountId": "1", "apiId": "a", "domainName": "api.example",
            "domainPrefix": "api", "requestId": "r", "routeKey": "POST /contact-submit",
            "stage": "$default", "time": "22/Nov/2026:12:00:00 +0000", "timeEpoch": 0,
            "http": {"method": "POST", "path": "/contact-submit", "protocol": "HTTP/1.1",
                "sourceIp": source_ip, "userAgent": "test"}}
    }))
    .unwrap()
}

/// Mail moto's SES accepted whose body mentions `needle`: (to, subject).
async fn mails(needle: &str) -> Vec<(String, String)> {
    let data: serde_json::Value = reqwest::get(format!("{}/moto-api/data.json", moto_endpoint()))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    data["ses"]["Message"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .filter(|m| m["body"].as_str().is_some_and(|b| b.contains(needle)))
        .map(|m| {
            (
                m["destinations"]["ToAddresses"][0]
                    .as_str()
                    .unwrap_or("")
                    .to_owned(),
                m["subject"].as_str().unwrap_or("").to_owned(),
            )
        })
        .collect()
}

/// Status, headers and body of an answer.
struct Answer {
    status: u16,
    headers: telephony_aws::http::HeaderMap,
    body: String,
}

impl Answer {
    fn header(&self, k: &str) -> Option<String> {
        self.headers
            .get(k)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    }
}

fn to_answer(resp: telephony_aws::Response<telephony_aws::Body>) -> Answer {
    let headers = resp.headers().clone();
    let r = to_reply(resp);
    Answer {
        status: r.status,
        headers,
        body: r.body,
    }
}

fn unique_ip() -> String {
    let n = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!("198.51.{}.{}", (n >> 8) % 250, n % 250)
}

#[tokio::test]
async fn a_valid_message_is_stored_and_mailed_twice() {
    let s = stack(&[]).await;
    let set = settings(&s, SENDER).await;
    let body = r#"{"name":"Sam Lee","email":"sam@example.com","message":"select a plan, then delete my old account","phone":"+1 403 555 0123"}"#;
    let r = to_answer(
        handle(
            &integration_tests::narrow(&s.deps, &contact_submit::NEEDS),
            &set,
            post(&unique_ip(), &[("Origin", ORIGIN)], body),
        )
        .await,
    );
    assert_eq!(r.status, 202, "{}", r.body);
    assert_eq!(
        r.header("access-control-allow-origin").as_deref(),
        Some(ORIGIN)
    );
    let id = serde_json::from_str::<serde_json::Value>(&r.body).unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let item = submission(&s, &id).await;
    assert_eq!(attr_s(&item, "phone").as_deref(), Some("+14035550123"));
    assert_eq!(attr_s(&item, "email_status").as_deref(), Some("sent"));
    assert!(item.contains_key("expires_at"));
    let sent = mails(&id).await;
    assert_eq!(sent.len(), 2, "{sent:?}");
    assert!(sent
        .iter()
        .any(|(to, subj)| to == STAFF && subj.contains("Sam Lee")));
    assert!(sent.iter().any(|(to, _)| to == "sam@example.com"));
    // The acknowledgement to the typed address echoes nothing the sender wrote.
    let echoed: Vec<_> = mails("delete my old account")
        .await
        .into_iter()
        .filter(|(to, _)| to == "sam@example.com")
        .collect();
    assert!(echoed.is_empty(), "{echoed:?}");
    assert!(mails("Sam Lee")
        .await
        .iter()
        .all(|(to, _)| to != "sam@example.com"));
}

#[tokio::test]
async fn the_fourth_submission_from_one_ip_is_refused_whatever_x_forwarded_for_says() {
    let s = stack(&[]).await;
    let set = settings(&s, SENDER).await;
    let ip = unique_ip();
    let body = r#"{"name":"Sam","email":"sam@example.com","message":"hello"}"#;
    for i in 0..3 {
        let forged = format!("203.0.113.{i}");
        let r = to_answer(
            handle(
                &integration_tests::narrow(&s.deps, &contact_submit::NEEDS),
                &set,
                post(&ip, &[("X-Forwarded-For", &forged)], body),
            )
            .await,
        );
        assert_eq!(r.status, 202, "{i}: {}", r.body);
    }
    let r = to_answer(
        handle(
            &integration_tests::narrow(&s.deps, &contact_submit::NEEDS),
            &set,
            post(&ip, &[("X-Forwarded-For", "203.0.113.99")], body),
        )
        .await,
    );
    assert_eq!(r.status, 429, "{}", r.body);
    let retry: u64 = r.header("retry-after").unwrap().parse().unwrap();
    assert!((1..=3600).contains(&retry));
    // A foreign origin is refused before anything is read; bad input gets a clear error.
    let r = to_answer(
        handle(
            &integration_tests::narrow(&s.deps, &contact_submit::NEEDS),
            &set,
            post(
                &unique_ip(),
                &[("Origin", "https://evil.example")],
                r#"{"name":"S","email":"s@example.com","message":"x"}"#,
            ),
        )
        .await,
    );
    assert_eq!(r.status, 403, "{}", r.body);
    assert!(r.body.contains("origin_not_allowed"), "{}", r.body);
    assert_eq!(r.header("access-control-allow-origin"), None);
    let r = to_answer(
        handle(
            &integration_tests::narrow(&s.deps, &contact_submit::NEEDS),
            &set,
            post(
                &unique_ip(),
                &[],
                r#"{"name":"S","email":"nope","message":"x"}"#,
            ),
        )
        .await,
    );
    assert_eq!(r.status, 400, "{}", r.body);
    assert!(r.body.contains("email"), "{}", r.body);
    // A text/plain body (a "simple" cross-site request that skips the preflight): 415.
    let r = to_answer(
        handle(
            &integration_tests::narrow(&s.deps, &contact_submit::NEEDS),
            &set,
            post(
                &unique_ip(),
                &[("content-type", "text/plain")],
                r#"{"name":"S","email":"s@example.com","message":"x"}"#,
            ),
        )
        .await,
    );
    assert_eq!(r.status, 415, "{}", r.body);
    let big = format!(
        r#"{{"name":"S","email":"s@example.com","message":"{}"}}"#,
        "x".repeat(20_000)
    );
    let r = to_answer(
        handle(
            &integration_tests::narrow(&s.deps, &contact_submit::NEEDS),
            &set,
            post(&unique_ip(), &[], &big),
        )
        .await,
    );
    assert_eq!(r.status, 413);
}

#[tokio::test]
async fn a_failed_email_still_keeps_the_submission() {
    let s = stack(&[]).await;
    // An unverified sender: SES refuses to send.
    let set = settings(&s, "unverified@example.net").await;
    let r = to_answer(
        handle(
            &integration_tests::narrow(&s.deps, &contact_submit::NEEDS),
            &set,
            post(
                &unique_ip(),
                &[],
                r#"{"name":"Sam","email":"sam@example.com","message":"call me"}"#,
            ),
        )
        .await,
    );
    assert_eq!(r.status, 202, "{}", r.body);
    let id = serde_json::from_str::<serde_json::Value>(&r.body).unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let item = submission(&s, &id).await;
    assert_eq!(
        attr_s(&item, "email_status").as_deref(),
        Some("email_failed")
    );
    assert_eq!(attr_s(&item, "message").as_deref(), Some("call me"));
}

async fn submission(
    s: &Stack,
    id: &str,
) -> std::collections::HashMap<String, aws_sdk_dynamodb::types::AttributeValue> {
    s.deps
        .dynamo()
        .get_item()
        .table_name(&s.resources["SubmissionsTable"])
        .key(
            "pk",
            aws_sdk_dynamodb::types::AttributeValue::S(id.to_owned()),
        )
        .send()
        .await
        .unwrap()
        .item
        .expect("submission stored")
}
