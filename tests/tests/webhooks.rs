//! Webhook-level behaviour: signatures, methods and sizes, rate limiting, retries, ordering,
//! loop guard, and an unreachable DynamoDB.

use integration_tests::*;
use std::time::Duration;

fn voice_params(call_sid: &str, from: &str) -> Vec<(String, String)> {
    pairs(&[
        ("AccountSid", ACCOUNT_SID),
        ("CallSid", call_sid),
        ("From", from),
        ("To", HOTLINE),
        ("CallStatus", "ringing"),
    ])
}

fn sid(prefix: &str, n: u64) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!("{prefix}{:024x}{:08x}", nanos & ((1u128 << 96) - 1), n)
}

#[tokio::test]
async fn missing_signature_is_401_bad_is_403_and_nothing_is_written() {
    let s = stack(&[]).await;
    let url = format!("{PUBLIC_BASE_URL}/voice-frontdoor");
    let call = sid("CA", 1);
    let p = voice_params(&call, CALLER);
    let r = to_reply(dispatch(&s.deps, form_request(&url, &p, None)).await);
    assert_eq!((r.status, r.body.as_str()), (401, ""));
    let r = to_reply(
        dispatch(
            &s.deps,
            form_request(&url, &p, Some("AAAAAAAAAAAAAAAAAAAAAAAAAAA=")),
        )
        .await,
    );
    assert_eq!((r.status, r.body.as_str()), (403, ""));
    // Signed for another URL (query tampered) → 403.
    let sig = sign(&format!("{url}?x=1"), &p);
    assert_eq!(
        to_reply(dispatch(&s.deps, form_request(&url, &p, Some(&sig))).await).status,
        403
    );
    assert!(s.deps.calls().raw_item(&call).await.unwrap().is_none());
}

#[tokio::test]
async fn signature_with_the_default_port_is_accepted() {
    let s = stack(&[("PUBLIC_BASE_URL", "https://hooks.tradeline.test")]).await;
    let p = voice_params(&sid("CA", 2), CALLER);
    let sig = sign("https://hooks.tradeline.test:443/voice-frontdoor", &p);
    let r = to_reply(
        dispatch(
            &s.deps,
            form_request(
                "https://hooks.tradeline.test/voice-frontdoor",
                &p,
                Some(&sig),
            ),
        )
        .await,
    );
    assert_eq!(r.status, 200);
    assert!(r.body.contains("<Gather"), "{}", r.body);
}

#[tokio::test]
async fn methods_and_oversized_bodies_are_refused_clearly() {
    let s = stack(&[]).await;
    let get = http::Request::builder()
        .method("GET")
        .uri("/voice-frontdoor")
        .body(telephony_aws::Body::Empty)
        .unwrap();
    assert_eq!(dispatch(&s.deps, get).await.status(), 405);
    let options = http::Request::builder()
        .method("OPTIONS")
        .uri("/voice-frontdoor")
        .body(telephony_aws::Body::Empty)
        .unwrap();
    assert_eq!(dispatch(&s.deps, options).await.status(), 204);
    let big = vec![("Body".to_string(), "x".repeat(70 * 1024))];
    let url = format!("{PUBLIC_BASE_URL}/voice-frontdoor");
    let r = to_reply(dispatch(&s.deps, form_request(&url, &big, Some(&sign(&url, &big)))).await);
    assert_eq!(r.status, 413);
}

#[tokio::test]
async fn malformed_or_missing_call_sid_still_gets_safe_twiml() {
    let s = stack(&[]).await;
    let url = format!("{PUBLIC_BASE_URL}/voice-frontdoor");
    let p = pairs(&[("From", CALLER), ("To", HOTLINE), ("CallSid", "not-a-sid")]);
    let r = post_signed(&s.deps, &url, &p).await;
    assert_eq!(r.status, 200);
    let v = verbs(&r.body);
    assert!(
        v.iter()
            .any(|x| matches!(x, call_simulator::twiml::SimVerb::Record { .. })),
        "safe reply records a voicemail: {}",
        r.body
    );
}

#[tokio::test]
async fn eleventh_call_in_a_minute_is_rejected_busy_and_retries_are_not_counted() {
    let s = stack(&[]).await;
    // Fixed one-minute windows: start well inside one, so all eleven calls share it.
    let into_minute = telephony_aws::now_secs() % 60;
    if into_minute > 45 {
        tokio::time::sleep(Duration::from_secs(61 - into_minute)).await;
    }
    let url = format!("{PUBLIC_BASE_URL}/voice-frontdoor");
    let caller = "+13065550177";
    for n in 0..10 {
        let p = voice_params(&sid("CA", n), caller);
        let r = post_signed(&s.deps, &url, &p).await;
        assert_eq!(r.status, 200);
        assert!(r.body.contains("<Gather"), "call {n} allowed: {}", r.body);
        // Twilio retries the same request: same reply, not counted.
        let again = post_signed(&s.deps, &url, &p).await;
        assert_eq!(again, r, "retry of call {n} gives the same reply");
    }
    let eleventh = voice_params(&sid("CA", 10), caller);
    let r = post_signed(&s.deps, &url, &eleventh).await;
    assert_eq!(r.status, 200);
    assert!(r.body.contains(r#"<Reject reason="busy"/>"#), "{}", r.body);
    assert_eq!(
        post_signed(&s.deps, &url, &eleventh).await,
        r,
        "a retried rejected call is rejected again"
    );
    // Another caller is not affected.
    let other = post_signed(&s.deps, &url, &voice_params(&sid("CA", 11), "+13065550178")).await;
    assert!(other.body.contains("<Gather"));
}

#[tokio::test]
async fn hidden_caller_ids_do_not_block_each_other_at_the_per_caller_limit() {
    let s = stack(&[]).await;
    let into_minute = telephony_aws::now_secs() % 60;
    if into_minute > 45 {
        tokio::time::sleep(Duration::from_secs(61 - into_minute)).await;
    }
    let url = format!("{PUBLIC_BASE_URL}/voice-frontdoor");
    // Twelve calls without a caller ID, in every hidden form: more than one caller's 10 a
    // minute, all let through (they share the larger hidden-caller bucket).
    let forms = [
        "anonymous",
        "+266696687",
        "+7378742833",
        "+86282452253",
        "+2562533",
        "Restricted",
    ];
    for n in 0..12u32 {
        let p = voice_params(
            &sid("CA", 100 + u64::from(n)),
            forms[n as usize % forms.len()],
        );
        let r = post_signed(&s.deps, &url, &p).await;
        assert!(r.body.contains("<Gather"), "hidden call {n}: {}", r.body);
    }
    // The shared bucket still has a ceiling.
    let max = telephony_core::ratelimit::HIDDEN_CALLER_LIMITS[0].max_calls;
    let mut rejected = false;
    for n in 12..=max {
        let r = post_signed(
            &s.deps,
            &url,
            &voice_params(&sid("CA", 100 + u64::from(n)), "anonymous"),
        )
        .await;
        rejected |= r.body.contains(r#"<Reject reason="busy"/>"#);
    }
    assert!(
        rejected,
        "the hidden-caller ceiling of {max} a minute applies"
    );
    // A caller with a number is counted on their own.
    let r = post_signed(&s.deps, &url, &voice_params(&sid("CA", 99), "+13065550179")).await;
    assert!(r.body.contains("<Gather"), "{}", r.body);
}

#[tokio::test]
async fn rate_limit_store_unreachable_fails_open() {
    let s = stack(&[("RATE_LIMITS_TABLE", "no-such-table")]).await;
    let url = format!("{PUBLIC_BASE_URL}/voice-frontdoor");
    let r = post_signed(&s.deps, &url, &voice_params(&sid("CA", 1), CALLER)).await;
    assert_eq!(r.status, 200);
    assert!(r.body.contains("<Gather"), "{}", r.body);
}

#[tokio::test]
async fn duplicate_recording_callbacks_store_one_object_and_send_one_notice() {
    let s = stack(&[]).await;
    let call = sid("CA", 1);
    let rec = sid("RE", 1);
    post_signed(
        &s.deps,
        &format!("{PUBLIC_BASE_URL}/voice-frontdoor"),
        &voice_params(&call, CALLER),
    )
    .await;
    let url = format!("{PUBLIC_BASE_URL}/voice-recording-callback?kind=voicemail");
    let p = pairs(&[
        ("AccountSid", ACCOUNT_SID),
        ("CallSid", &call),
        ("RecordingSid", &rec),
        ("RecordingStatus", "completed"),
        ("RecordingDuration", "9"),
        (
            "RecordingUrl",
            &format!(
                "{}/2010-04-01/Accounts/{ACCOUNT_SID}/Recordings/{rec}",
                s.media.base_url
            ),
        ),
    ]);
    for _ in 0..3 {
        assert_eq!(post_signed(&s.deps, &url, &p).await.status, 204);
    }
    assert_eq!(
        s3_keys(&s, &format!("recordings/{call}/")).await,
        vec![format!("recordings/{call}/{rec}.wav")]
    );
    assert_eq!(sns_messages(&s.resources["VoicemailTopic"]).await.len(), 1);
    assert_eq!(s.media.downloads(), 1, "no second download on a retry");
}

#[tokio::test]
async fn recording_from_a_foreign_host_is_not_downloaded_but_kept_and_notified() {
    let s = stack(&[]).await;
    let call = sid("CA", 2);
    let rec = sid("RE", 2);
    let url = format!("{PUBLIC_BASE_URL}/voice-recording-callback?kind=voicemail");
    let p = pairs(&[
        ("CallSid", &call),
        ("RecordingSid", &rec),
        ("RecordingStatus", "completed"),
        ("RecordingDuration", "3"),
        ("RecordingUrl", "https://attacker.example/steal"),
    ]);
    assert_eq!(post_signed(&s.deps, &url, &p).await.status, 204);
    assert_eq!(s.media.downloads(), 0);
    assert!(s3_keys(&s, &format!("recordings/{call}/")).await.is_empty());
    let item = s
        .deps
        .calls()
        .raw_item(&rec)
        .await
        .unwrap()
        .expect("record kept");
    assert_eq!(
        attr_s(&item, "twilio_url").as_deref(),
        Some("https://attacker.example/steal")
    );
    assert_eq!(sns_messages(&s.resources["VoicemailTopic"]).await.len(), 1);
}

#[tokio::test]
async fn dial_recording_without_consent_is_not_kept() {
    let s = stack(&[]).await;
    let call = sid("CA", 3);
    let rec = sid("RE", 3);
    let consent_url = format!("{PUBLIC_BASE_URL}/voice-consent");
    let mut p = voice_params(&call, CALLER);
    p.push(("Digits".into(), "2".into()));
    post_signed(&s.deps, &consent_url, &p).await;
    let url = format!("{PUBLIC_BASE_URL}/voice-recording-callback?kind=dial");
    let p = pairs(&[
        ("CallSid", &call),
        ("RecordingSid", &rec),
        ("RecordingStatus", "completed"),
        (
            "RecordingUrl",
            &format!(
                "{}/2010-04-01/Accounts/{ACCOUNT_SID}/Recordings/{rec}",
                s.media.base_url
            ),
        ),
    ]);
    assert_eq!(post_signed(&s.deps, &url, &p).await.status, 204);
    assert_eq!(s.media.downloads(), 0);
    assert!(s.deps.calls().raw_item(&rec).await.unwrap().is_none());
}

#[tokio::test]
async fn consent_is_stored_once_and_a_retry_cannot_flip_it() {
    let s = stack(&[]).await;
    let call = sid("CA", 4);
    let url = format!("{PUBLIC_BASE_URL}/voice-consent");
    let mut yes = voice_params(&call, CALLER);
    yes.push(("Digits".into(), "1".into()));
    let mut no = voice_params(&call, CALLER);
    no.push(("Digits".into(), "2".into()));
    assert_eq!(post_signed(&s.deps, &url, &yes).await.status, 200);
    assert_eq!(post_signed(&s.deps, &url, &no).await.status, 200);
    let item = s.deps.calls().raw_item(&call).await.unwrap().unwrap();
    assert_eq!(attr_s(&item, "consent").as_deref(), Some("yes"));
}

#[tokio::test]
async fn late_ringing_never_overwrites_completed() {
    let s = stack(&[]).await;
    let call = sid("CA", 5);
    let url = format!("{PUBLIC_BASE_URL}/voice-status");
    for status in [
        "initiated",
        "completed",
        "ringing",
        "in-progress",
        "completed",
    ] {
        let mut p = pairs(&[("CallSid", &call), ("CallStatus", status)]);
        if status == "completed" {
            p.push(("CallDuration".into(), "31".into()));
        }
        assert_eq!(post_signed(&s.deps, &url, &p).await.status, 204, "{status}");
    }
    let item = s.deps.calls().raw_item(&call).await.unwrap().unwrap();
    assert_eq!(attr_s(&item, "status").as_deref(), Some("completed"));
    assert_eq!(item["duration_s"].as_n().unwrap(), "31");
    let bad = pairs(&[("CallSid", &call), ("CallStatus", "exploded")]);
    let r = post_signed(&s.deps, &url, &bad).await;
    assert_eq!(r.status, 400);
    assert!(r.body.contains("CallStatus"), "{}", r.body);
}

#[tokio::test]
async fn loop_guard_sends_the_caller_to_voicemail_instead_of_dialling_itself() {
    for (target, from) in [
        (CALLER, CALLER),
        (HOTLINE, CALLER),
        ("+16475550123", "+16475550123"),
    ] {
        let s = stack(&[("SALES_TARGET_E164", target)]).await;
        let mut sc = script(&s, &[Some("1"), Some("1")], "completed", 3);
        sc.from = from.into();
        let log = play(&s, &sc).await;
        assert!(
            log.dialled.is_empty(),
            "target {target} from {from} must not be dialled: {log:#?}"
        );
        assert!(log.steps.iter().any(|st| st
            .url
            .ends_with("/voice-voicemail?lang=en&reason=unavailable")));
        assert_eq!(log.ended, "hangup");
    }
}

#[tokio::test]
async fn every_voice_webhook_answers_safe_twiml_quickly_when_dynamodb_is_unreachable() {
    let deps = unreachable_deps().await;
    let call = sid("CA", 6);
    let cases: Vec<(&str, Vec<(&str, &str)>)> = vec![
        ("/voice-frontdoor", vec![]),
        ("/voice-consent", vec![("Digits", "1")]),
        ("/voice-menu-handler", vec![("Digits", "1")]),
        (
            "/voice-menu-handler?attempt=2&repeats=0",
            vec![("Digits", "7")],
        ),
        ("/voice-route-action", vec![("DialCallStatus", "no-answer")]),
        ("/voice-voicemail", vec![]),
        (
            "/voice-voicemail?step=done",
            vec![
                ("RecordingUrl", "https://api.twilio.com/x"),
                ("RecordingDuration", "4"),
            ],
        ),
        ("/voice-fallback", vec![]),
    ];
    for (path, extra) in cases {
        let url = format!("{PUBLIC_BASE_URL}{path}");
        let mut p = voice_params(&call, CALLER);
        p.extend(pairs(&extra));
        let reply = tokio::time::timeout(Duration::from_secs(3), post_signed(&deps, &url, &p))
            .await
            .unwrap_or_else(|_| panic!("{path} took longer than 3 s"));
        assert_eq!(reply.status, 200, "{path}: {reply:?}");
        assert!(!verbs(&reply.body).is_empty(), "{path}: {}", reply.body);
    }
    // The menu still dials (unrecorded) when the consent cannot be read.
    let mut p = voice_params(&call, CALLER);
    p.push(("Digits".into(), "1".into()));
    let r = post_signed(&deps, &format!("{PUBLIC_BASE_URL}/voice-menu-handler"), &p).await;
    assert!(
        r.body.contains("<Dial") && !r.body.contains("record="),
        "{}",
        r.body
    );
    // Callbacks may fail loudly (no caller hears them) so Twilio can retry.
    let status = post_signed(
        &deps,
        &format!("{PUBLIC_BASE_URL}/voice-status"),
        &pairs(&[("CallSid", &call), ("CallStatus", "ringing")]),
    )
    .await;
    assert_eq!(status.status, 503);
}

#[tokio::test]
async fn health_reports_healthy_stack_and_unreachable_dependencies() {
    let s = stack(&[]).await;
    let get = || {
        http::Request::builder()
            .method("GET")
            .uri("/voice-health")
            .body(telephony_aws::Body::Empty)
            .unwrap()
    };
    let r = to_reply(dispatch(&s.deps, get()).await);
    assert_eq!(r.status, 200, "{}", r.body);
    let v: serde_json::Value = serde_json::from_str(&r.body).unwrap();
    assert_eq!(v["status"], "healthy");
    assert_eq!(v["checks"]["calls_table"], "ACTIVE");
    let down = unreachable_deps().await;
    let r = to_reply(dispatch(&down, get()).await);
    assert_eq!(r.status, 503);
    assert!(!r.body.contains(AUTH_TOKEN));
}
