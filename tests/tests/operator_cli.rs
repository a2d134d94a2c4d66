//! The operator path of issue 9 end to end, over real sockets: the CLI's SigV4-signing client →
//! the local IAM gateway (signature verified, the IAM caller put in the event as API Gateway's
//! authorizer would) → the Lambda Invoke API → the ops functions on moto and the Prism mock of
//! Twilio. Unsigned and wrongly signed requests are refused before any function runs.

use aws_credential_types::Credentials;
use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use integration_tests::*;
use std::sync::Arc;
use tradeline_ops::client::Api;
use tradeline_ops::gateway::{Gateway, Router};
use tradeline_ops::sigv4::KnownKey;

const ARN: &str = "arn:aws:iam::000000000000:user/local-operator";
const KEY_ID: &str = "AKIALOCALOPERATOR001";

/// A Lambda Invoke API (`POST /2015-03-31/functions/{name}/invocations`) over the test
/// harness's dispatch, like `cargo lambda watch` over the function binaries.
async fn invoke_api(stack: Arc<Stack>) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        loop {
            let (stream, _) = listener.accept().await.unwrap();
            let stack = stack.clone();
            tokio::spawn(async move {
                let svc = hyper::service::service_fn(
                    move |req: hyper::Request<hyper::body::Incoming>| {
                        let stack = stack.clone();
                        async move {
                            assert!(req.uri().path().starts_with("/2015-03-31/functions/"));
                            let body = req.into_body().collect().await.unwrap().to_bytes();
                            let event: serde_json::Value = serde_json::from_slice(&body).unwrap();
                            let request = telephony_aws::event::request_from_event(event).unwrap();
                            let response = dispatch(&stack.deps, request).await;
                            let out = telephony_aws::event::response_to_event(response);
                            Ok::<_, std::convert::Infallible>(hyper::Response::new(Full::new(
                                Bytes::from(out.to_string()),
                            )))
                        }
                    },
                );
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(hyper_util::rt::TokioIo::new(stream), svc)
                    .await;
            });
        }
    });
    base
}

async fn gateway(invoke_base: String, secret: &str) -> String {
    let router =
        Router::from_cargo_toml(&std::fs::read_to_string(repo_root().join("Cargo.toml")).unwrap())
            .unwrap();
    let gw = Arc::new(Gateway {
        keys: vec![KnownKey {
            access_key_id: KEY_ID.into(),
            secret_access_key: secret.into(),
            user_arn: ARN.into(),
        }],
        region: "ca-central-1".into(),
        router,
        invoke_base,
        http: reqwest::Client::new(),
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(tradeline_ops::gateway::serve(gw, listener));
    base
}

fn api(base: &str, secret: &str) -> Api {
    Api {
        base_url: base.into(),
        region: "ca-central-1".into(),
        credentials: Credentials::new(KEY_ID, secret, None, None, "test"),
        http: reqwest::Client::new(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cli_onboards_through_the_iam_gateway_and_strangers_are_refused() {
    let api_base = prism::api_v2010().base_url.clone();
    let messaging = prism::messaging_v1().base_url.clone();
    let s = Arc::new(
        stack(&[
            ("TWILIO_API_BASE", api_base.as_str()),
            ("TWILIO_MESSAGING_BASE", messaging.as_str()),
        ])
        .await,
    );
    let secret = format!("local-secret-{}", std::process::id());
    let gw = gateway(invoke_api(s.clone()).await, &secret).await;
    let operator = api(&gw, &secret);

    // Onboard, as `tradeline-ops numbers onboard` does.
    let body = serde_json::json!({"org_id": "acme", "business_name": "Acme Plumbing",
        "country": "CA", "area_code": "587"});
    let a = operator
        .send(
            "POST",
            "/ops/numbers/onboard",
            &[("idempotency-key", "cli-1")],
            Some(&body),
        )
        .await
        .unwrap();
    assert_eq!(a.status, 201, "{}", a.body);
    let e164 = a.body["e164"].as_str().unwrap().to_owned();
    let path = format!("/ops/numbers/{}", e164.replace('+', "%2B"));
    let shown = operator.send("GET", &path, &[], None).await.unwrap();
    assert_eq!(shown.status, 200, "{}", shown.body);
    assert!(
        shown.body["twilio"]["phone_sid"].is_string(),
        "{}",
        shown.body
    );
    // The function saw the caller the gateway verified.
    assert_eq!(shown.body["config"]["created_by"], ARN);

    // A config change with the version read first (If-Match is signed too).
    let version = shown.body["config"]["version"]
        .as_u64()
        .unwrap()
        .to_string();
    let changed = operator
        .send(
            "PUT",
            &format!("{path}/config"),
            &[("idempotency-key", "cli-2"), ("if-match", &version)],
            Some(&serde_json::json!({"language": "fr-CA"})),
        )
        .await
        .unwrap();
    assert_eq!(changed.status, 200, "{}", changed.body);

    // The wrong secret and no signature at all: 403 from the gateway, no function runs.
    let stranger = api(&gw, "guessed");
    let refused = stranger
        .send("GET", "/ops/numbers", &[], None)
        .await
        .unwrap();
    assert_eq!(refused.status, 403);
    assert!(
        refused.body["message"]
            .as_str()
            .unwrap()
            .contains("signature"),
        "{}",
        refused.body
    );
    let anonymous = reqwest::get(format!("{gw}/ops/numbers")).await.unwrap();
    assert_eq!(anonymous.status(), 403);
    let listed = operator
        .send("GET", "/ops/numbers", &[], None)
        .await
        .unwrap();
    assert_eq!(listed.status, 200);
    let numbers = || async {
        s.deps
            .dynamo()
            .scan()
            .table_name(&s.resources["NumbersTable"])
            .send()
            .await
            .unwrap()
            .count
    };
    let before = numbers().await;
    let blocked = stranger
        .send(
            "POST",
            "/ops/numbers/onboard",
            &[("idempotency-key", "x")],
            Some(&body),
        )
        .await
        .unwrap();
    assert_eq!(blocked.status, 403);
    let after = numbers().await;
    assert_eq!(before, after, "nothing onboarded for a stranger");
}
