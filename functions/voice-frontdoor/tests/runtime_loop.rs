//! The real bootstrap (this crate's binary: `main`, the `lambda_runtime` loop and the shared glue)
//! fed whole Lambda events through a Runtime API emulator: malformed API Gateway events are
//! answered 400 and the same process goes on serving the next event; a signature computed for
//! another route is refused whatever the `Host` header says (issue "Hardening", findings 1–2).

use lambda_emulator::{lambda_env, Outcome, RuntimeApi};
use serde_json::{json, Value};
use std::process::{Command, Stdio};
use std::time::Duration;

const BASE: &str = "https://hooks.example";
const TOKEN: &str = "runtime-loop-token";

fn event(raw_path: &str, raw_query: &str, host: &str, body: Value, b64: bool) -> Value {
    json!({
        "version": "2.0", "routeKey": "$default", "rawPath": raw_path, "rawQueryString": raw_query,
        "headers": {"host": host, "content-type": "application/x-www-form-urlencoded",
                    "x-twilio-signature": "bm90IGEgc2lnbmF0dXJlIGF0IGFsbCE="},
        "requestContext": {"accountId": "1", "apiId": "a", "domainName": "hooks.example",
            "http": {"method": "POST", "path": raw_path, "protocol": "HTTP/1.1",
                     "sourceIp": "198.51.100.7", "userAgent": "TwilioProxy/1.1"},
            "requestId": "r", "routeKey": "$default", "stage": "$default",
            "time": "22/Nov/2026:12:00:00 +0000", "timeEpoch": 0},
        "body": body, "isBase64Encoded": b64
    })
}

fn status(outcome: Option<Outcome>) -> u64 {
    match outcome {
        Some(Outcome::Response(v)) => v["statusCode"].as_u64().unwrap_or(0),
        other => panic!("no response from the function: {other:?}"),
    }
}

#[tokio::test]
async fn malformed_events_get_400_and_the_process_keeps_serving() {
    let api = RuntimeApi::start().await.unwrap();
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_voice-frontdoor"))
        .env_clear()
        .envs(lambda_env(&api, "voice-frontdoor"))
        .envs([
            ("AWS_ENDPOINT_URL", format!("http://{closed}").as_str()),
            ("PUBLIC_BASE_URL", BASE),
            ("TWILIO_AUTH_TOKEN", TOKEN),
            ("CALLS_TABLE", "calls"),
            ("NUMBERS_TABLE", "numbers"),
            ("RATE_LIMITS_TABLE", "rate-limits"),
            ("RECORDINGS_BUCKET", "recordings"),
            (
                "VOICEMAIL_TOPIC_ARN",
                "arn:aws:sns:ca-central-1:123456789012:vm",
            ),
            ("MESSAGES_TABLE", "messages"),
            ("OPT_OUTS_TABLE", "opt-outs"),
            ("SMS_TOPIC_ARN", "arn:aws:sns:ca-central-1:123456789012:sms"),
            ("RUST_LOG", "warn"),
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start the voice-frontdoor bootstrap");
    assert!(
        api.wait_ready(Duration::from_secs(20)).await.is_some(),
        "the function never polled for an event (init error: {:?})",
        api.init_error()
    );
    let t = Duration::from_secs(10);
    let form = json!("CallSid=CA0123456789abcdef0123456789abcdef&From=%2B12025550143");

    // Each of these made lambda_http panic (and abort the instance).
    let malformed = [
        event("/voice-frontdoor", "x=\"q\"", "h", form.clone(), false),
        event("/voice-frontdoor", "a b", "h", form.clone(), false),
        event("/voice-frontdoor", "<x>", "h", form.clone(), false),
        event("/voice-frontdoor", "x=\u{7f}", "h", form.clone(), false),
        event("/voice-frontdoor", "x=\u{1}", "h", form.clone(), false),
        event("/voice-frontdoor", "", "h", json!("%%% not base64"), true),
        json!({"rawPath": "/voice-frontdoor"}),
    ];
    for ev in &malformed {
        assert_eq!(status(api.invoke(ev, t).await), 400, "{ev}");
    }
    // Hosts that are not valid authorities are just header values: the request is served
    // (here refused for its bad signature, 403), never a crash.
    for host in ["a b", "[::1", "x:99999"] {
        let ev = event("/voice-frontdoor", "", host, form.clone(), false);
        assert_eq!(status(api.invoke(&ev, t).await), 403, "{host}");
    }
    // A signature computed for /voice-status, posted to /voice-frontdoor with the Host trick.
    let params = vec![
        (
            "CallSid".to_string(),
            "CA0123456789abcdef0123456789abcdef".to_string(),
        ),
        ("From".to_string(), "+12025550143".to_string()),
    ];
    let forged =
        telephony_core::signature::compute(TOKEN, &format!("{BASE}/voice-status"), &params);
    let mut ev = event(
        "/voice-frontdoor",
        "",
        "x/voice-status#",
        form.clone(),
        false,
    );
    ev["headers"]["x-twilio-signature"] = json!(forged);
    assert_eq!(status(api.invoke(&ev, t).await), 403);
    // Unsigned: 401. The same process answered every event above.
    let mut ev = event("/voice-frontdoor", "", "h", form, false);
    ev["headers"]
        .as_object_mut()
        .unwrap()
        .remove("x-twilio-signature");
    assert_eq!(status(api.invoke(&ev, t).await), 401);
    assert!(child.try_wait().unwrap().is_none(), "the process exited");
    child.kill().ok();
}
