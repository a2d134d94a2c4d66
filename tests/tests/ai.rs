//! The AI receptionist hand-off (issue 12) against moto: whole calls played by the simulator with
//! the bridge in-process (token checked, tool calls made through `/voice-action`), the Connect
//! action's decisions and their idempotency, and the tool-call endpoint's authentication.

use aws_sdk_dynamodb::types::AttributeValue as A;
use call_simulator::bridge::AiPlay;
use integration_tests::*;
use telephony_core::prompts::EN;
use telephony_core::stream;

const SECRET: &str = "test-stream-secret-0123456789abcdef0123";

async fn ai_stack(extra: &[(&str, &str)]) -> Stack {
    let mut vars = vec![("STREAM_SECRET", SECRET)];
    vars.extend_from_slice(extra);
    let s = stack(&vars).await;
    put_ai_number(&s, "100").await;
    s
}

/// The hotline number with the AI on for `share` percent of calls.
async fn put_ai_number(s: &Stack, share: &str) {
    s.deps
        .dynamo()
        .put_item()
        .table_name(&s.resources["NumbersTable"])
        .item("e164", A::S(HOTLINE.into()))
        .item("business_name", A::S("Acme Plumbing".into()))
        .item("language", A::S("en-CA".into()))
        .item("sales_target", A::S(SALES.into()))
        .item("support_target", A::S(SUPPORT.into()))
        .item("ai_enabled", A::S("true".into()))
        .item("ai_stream_url", A::S("wss://bridge.example/media".into()))
        .item("ai_share", A::S(share.into()))
        .send()
        .await
        .unwrap();
}

async fn call(
    s: &Stack,
    mode: AiPlay,
    dial: &str,
) -> (call_simulator::Script, call_simulator::CallLog) {
    let mut sc = script(s, &[Some("1")], dial, 5);
    sc.ai = mode;
    let log = play(s, &sc).await;
    (sc, log)
}

async fn item(s: &Stack, pk: &str) -> std::collections::HashMap<String, A> {
    s.deps.calls().raw_item(pk).await.unwrap().expect("item")
}

fn heard(log: &call_simulator::CallLog, text: &str) -> usize {
    log.heard.iter().filter(|h| h.contains(text)).count()
}

/// The `<Connect>` reply and its `action` URL.
fn connect_reply(log: &call_simulator::CallLog) -> (String, String) {
    let step = log
        .twiml_replies()
        .find(|s| s.reply.body.contains("<Connect"))
        .expect("a <Connect> reply");
    let action = log
        .steps
        .iter()
        .find(|s| s.url.contains("/voice-stream-action"))
        .expect("the Connect action was requested")
        .url
        .clone();
    (step.reply.body.clone(), action)
}

#[tokio::test]
async fn an_ai_call_books_an_appointment_and_ends_with_goodbye_not_consent() {
    let s = ai_stack(&[]).await;
    let (sc, log) = call(&s, AiPlay::Ok, "no-answer").await;
    let (connect, _) = connect_reply(&log);
    for p in [
        format!(r#"<Parameter name="call_sid" value="{}"/>"#, sc.call_sid),
        r#"<Parameter name="consent" value="yes"/>"#.to_owned(),
        r#"<Parameter name="language" value="en"/>"#.to_owned(),
        r#"<Parameter name="business_name" value="Acme Plumbing"/>"#.to_owned(),
        r#"<Stream url="wss://bridge.example/media""#.to_owned(),
    ] {
        assert!(connect.contains(&p), "{p} in {connect}");
    }
    assert_eq!(heard(&log, EN.ai_goodbye), 1, "{:?}", log.heard);
    assert_eq!(
        heard(&log, EN.consent_question_speech),
        1,
        "consent asked once only"
    );
    assert_eq!(log.ended, "hangup");
    assert!(log.dialled.is_empty());
    let call = item(&s, &sc.call_sid).await;
    assert_eq!(attr_s(&call, "ai_outcome").as_deref(), Some("goodbye"));
    assert!(call.contains_key("ai_handshake_ms"));
    // The bridge's book_appointment: one request stored, one staff notice.
    let tail = &sc.call_sid[sc.call_sid.len() - 8..];
    let tool = item(&s, &format!("tool#{}#fake-{tail}-1", sc.call_sid)).await;
    assert_eq!(attr_s(&tool, "tool").as_deref(), Some("book_appointment"));
    let notices: Vec<_> = sns_messages(&s.resources["VoicemailTopic"])
        .await
        .into_iter()
        .filter(|(_, n)| n["call_sid"] == sc.call_sid.as_str())
        .collect();
    assert_eq!(notices.len(), 1, "{notices:?}");
    assert_eq!(notices[0].1["type"], "appointment_request");
    assert_eq!(notices[0].1["callback"], "+14035550123");
    assert!(
        notices[0].0.starts_with("Appointment request from"),
        "{:?}",
        notices[0]
    );
}

#[tokio::test]
async fn a_handshake_later_than_the_watchdog_takes_the_human_path_once() {
    let s = ai_stack(&[]).await;
    let (sc, log) = call(&s, AiPlay::Late, "no-answer").await;
    assert_eq!(heard(&log, EN.ai_fallback), 1, "{:?}", log.heard);
    assert_eq!(log.dialled, vec![SALES.to_owned()]);
    // The missed dial ends in voicemail, as any department dial does.
    assert!(log.steps.iter().any(|s| s.url.contains("/voice-voicemail")));
    let call = item(&s, &sc.call_sid).await;
    assert_eq!(
        attr_s(&call, "ai_outcome").as_deref(),
        Some("fallback:slow_handshake")
    );
    let handshake: u64 = call["ai_handshake_ms"].as_n().unwrap().parse().unwrap();
    assert!(handshake > 3000, "{handshake}");
    // Twilio retries the Connect action: the same TwiML, the decision unchanged.
    let (_, action) = connect_reply(&log);
    let first = log
        .steps
        .iter()
        .find(|st| st.url == action)
        .unwrap()
        .clone();
    let again = post_signed(&s.deps, &first.url, &first.params).await;
    assert_eq!(again.body, first.reply.body);
    assert!(again.body.contains(EN.ai_fallback));
    // The operators' summary shows it: one AI call, one slow-handshake fallback (100 %).
    let summary = telephony_aws::ops::summary(&s.deps, telephony_aws::now_secs())
        .await
        .unwrap();
    let ai = &summary["windows"]["24h"]["ai"];
    assert_eq!(ai["calls"], 1, "{ai}");
    assert_eq!(ai["fallbacks"]["slow_handshake"], 1, "{ai}");
    assert_eq!(ai["fallback_rate"], 1.0, "{ai}");
    assert!(ai["handshake_p95_ms"].as_u64().unwrap() > 3000, "{ai}");
}

#[tokio::test]
async fn a_stream_that_errors_or_never_starts_takes_the_human_path() {
    let s = ai_stack(&[]).await;
    let (sc, log) = call(&s, AiPlay::Fail, "completed").await;
    assert_eq!(heard(&log, EN.ai_fallback), 1, "{:?}", log.heard);
    assert_eq!(log.dialled, vec![SALES.to_owned()]);
    let call = item(&s, &sc.call_sid).await;
    assert_eq!(
        attr_s(&call, "ai_outcome").as_deref(),
        Some("fallback:not_started")
    );
    assert!(attr_s(&call, "ai_error").unwrap().starts_with("31920"));

    // Started in time, then an error mid-conversation: the human path, reason stream_error.
    let sid = "CA00000000000000000000000000ab1201";
    let mut p = pairs(&[
        ("AccountSid", ACCOUNT_SID),
        ("CallSid", sid),
        ("From", CALLER),
        ("To", HOTLINE),
        ("Digits", "1"),
    ]);
    let consent = post_signed(&s.deps, &format!("{PUBLIC_BASE_URL}/voice-consent"), &p).await;
    assert!(consent.body.contains("<Connect"), "{}", consent.body);
    let status_url = format!("{PUBLIC_BASE_URL}/voice-stream-status");
    for (event, extra) in [
        ("stream-started", None),
        (
            "stream-error",
            Some("31921 Stream - WebSocket - Close Error"),
        ),
    ] {
        let mut q = pairs(&[
            ("AccountSid", ACCOUNT_SID),
            ("CallSid", sid),
            ("StreamSid", "MZ00000000000000000000000000ab1201"),
            ("StreamEvent", event),
        ]);
        if let Some(e) = extra {
            q.push(("StreamError".into(), e.into()));
        }
        let r = post_signed(&s.deps, &status_url, &q).await;
        assert_eq!(r.status, 204, "{r:?}");
    }
    p.retain(|(k, _)| k != "Digits");
    let r = post_signed(
        &s.deps,
        &format!("{PUBLIC_BASE_URL}/voice-stream-action?lang=en"),
        &p,
    )
    .await;
    assert!(
        r.body.contains(EN.ai_fallback) && r.body.contains(&format!(">{SALES}</Number>")),
        "{}",
        r.body
    );
    assert_eq!(
        attr_s(&item(&s, sid).await, "ai_outcome").as_deref(),
        Some("fallback:stream_error")
    );
    // An unknown StreamEvent is bad input.
    let r = post_signed(
        &s.deps,
        &status_url,
        &pairs(&[("CallSid", sid), ("StreamEvent", "stream-paused")]),
    )
    .await;
    assert_eq!(r.status, 400);
}

#[tokio::test]
async fn the_ai_asking_for_a_person_dials_the_team() {
    let s = ai_stack(&[]).await;
    let (sc, log) = call(&s, AiPlay::Transfer, "completed").await;
    assert_eq!(heard(&log, EN.ai_transfer), 1, "{:?}", log.heard);
    assert_eq!(log.dialled, vec![SALES.to_owned()]);
    assert_eq!(
        log.dial_records,
        vec![Some("record-from-answer-dual".to_owned())]
    );
    let call = item(&s, &sc.call_sid).await;
    assert_eq!(attr_s(&call, "ai_outcome").as_deref(), Some("transfer"));
    assert!(call.contains_key("ai_transfer"));
}

#[tokio::test]
async fn without_the_ai_or_its_secret_callers_get_the_menu() {
    // Share 0: nobody goes to the AI.
    let s = ai_stack(&[]).await;
    put_ai_number(&s, "0").await;
    let (_, log) = call(&s, AiPlay::Ok, "no-answer").await;
    assert!(log.streams.is_empty());
    assert!(log
        .heard
        .iter()
        .any(|h| h.contains("Press 1 for Sales") || h.contains("say sales")));
    // AI on but no STREAM_SECRET: the menu, never a stream without a token.
    let s = stack(&[]).await;
    put_ai_number(&s, "100").await;
    let (_, log) = call(&s, AiPlay::Ok, "no-answer").await;
    assert!(log.streams.is_empty());
    assert!(!log
        .steps
        .iter()
        .any(|st| st.reply.body.contains("<Connect")));
}

/// The fake bridge's `book_appointment` for `call_sid`, with tool call id `id`.
fn book(call_sid: &str, id: &str) -> String {
    let mut body = call_simulator::bridge::tool_call_for("1", call_sid).unwrap();
    body["tool_call_id"] = id.into();
    body.to_string()
}

#[tokio::test]
async fn tool_calls_need_the_token_of_their_call_and_are_idempotent() {
    let s = ai_stack(&[]).await;
    let now = telephony_aws::now_secs();
    let call_a = "CA00000000000000000000000000ac0001";
    let call_b = "CA00000000000000000000000000ac0002";
    let token_a = stream::issue(SECRET.as_bytes(), call_a, now);
    // Another call's token, a forged one, none at all: 401.
    let r = tool_call(&s.deps, Some(&token_a), &book(call_b, "t1")).await;
    assert_eq!(r.status, 401, "{r:?}");
    assert!(r.body.contains("another call"), "{}", r.body);
    let forged = stream::issue(b"not-the-secret-not-the-secret-000", call_a, now);
    assert_eq!(
        tool_call(&s.deps, Some(&forged), &book(call_a, "t1"))
            .await
            .status,
        401
    );
    assert_eq!(
        tool_call(&s.deps, None, &book(call_a, "t1")).await.status,
        401
    );
    // Unknown tool: 400 listing the supported ones; bad arguments: 400 naming the field.
    let r = tool_call(
        &s.deps,
        Some(&token_a),
        &serde_json::json!({"call_sid": call_a, "tool": "refund", "tool_call_id": "t9"})
            .to_string(),
    )
    .await;
    assert_eq!(r.status, 400);
    let v: serde_json::Value = serde_json::from_str(&r.body).unwrap();
    assert_eq!(
        v["supported"],
        serde_json::json!(["book_appointment", "transfer_to_human", "take_message"])
    );
    let bad = book(call_a, "t2").replace("+14035550123", "403-555-0123x");
    let r = tool_call(&s.deps, Some(&token_a), &bad).await;
    assert_eq!(r.status, 400);
    assert!(r.body.contains("callback"), "{}", r.body);
    assert_eq!(
        tool_call(&s.deps, Some(&token_a), "{not json").await.status,
        400
    );
    // A window that has already ended (issue 22 §15): 400 with a reason the AI can say.
    let mut past = call_simulator::bridge::tool_call_for("1", call_a).unwrap();
    past["tool_call_id"] = "t3".into();
    past["arguments"]["window_start"] = "2026-01-05T09:00:00-07:00".into();
    past["arguments"]["window_end"] = "2026-01-05T11:00:00-07:00".into();
    let r = tool_call(&s.deps, Some(&token_a), &past.to_string()).await;
    assert_eq!(r.status, 400, "{r:?}");
    assert!(
        r.body.contains("in_the_past") && r.body.contains("already passed"),
        "{}",
        r.body
    );
    // The same tool call twice: one request, one notice.
    let first = tool_call(&s.deps, Some(&token_a), &book(call_a, "t1")).await;
    assert_eq!(first.status, 200, "{first:?}");
    assert!(first.body.contains("\"accepted\""));
    let second = tool_call(&s.deps, Some(&token_a), &book(call_a, "t1")).await;
    assert_eq!(second.status, 200);
    assert!(second.body.contains("\"duplicate\""), "{}", second.body);
    let notices: Vec<_> = sns_messages(&s.resources["VoicemailTopic"])
        .await
        .into_iter()
        .filter(|(_, n)| n["call_sid"] == call_a && n["tool_call_id"] == "t1")
        .collect();
    assert_eq!(notices.len(), 1, "{notices:?}");
    // take_message: stored and noticed like a voicemail.
    let msg = serde_json::json!({"call_sid": call_a, "tool": "take_message", "tool_call_id": "m1",
        "arguments": {"message": "Please call back about the invoice.", "callback": "+14035550123"}});
    let r = tool_call(&s.deps, Some(&token_a), &msg.to_string()).await;
    assert_eq!(r.status, 200, "{r:?}");
    assert!(sns_messages(&s.resources["VoicemailTopic"])
        .await
        .iter()
        .any(|(_, n)| n["type"] == "message" && n["tool_call_id"] == "m1"));
}

#[tokio::test]
async fn an_expired_token_works_only_while_its_stream_is_live() {
    let s = ai_stack(&[]).await;
    let sid = "CA00000000000000000000000000ad0001";
    let old = stream::issue(SECRET.as_bytes(), sid, telephony_aws::now_secs() - 600);
    let transfer =
        serde_json::json!({"call_sid": sid, "tool": "transfer_to_human", "tool_call_id": "x1"})
            .to_string();
    assert_eq!(tool_call(&s.deps, Some(&old), &transfer).await.status, 401);
    let status_url = format!("{PUBLIC_BASE_URL}/voice-stream-status");
    let event = |e: &str| {
        pairs(&[
            ("AccountSid", ACCOUNT_SID),
            ("CallSid", sid),
            ("StreamSid", "MZ00000000000000000000000000ad0001"),
            ("StreamEvent", e),
        ])
    };
    assert_eq!(
        post_signed(&s.deps, &status_url, &event("stream-started"))
            .await
            .status,
        204
    );
    let r = tool_call(&s.deps, Some(&old), &transfer).await;
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(
        post_signed(&s.deps, &status_url, &event("stream-stopped"))
            .await
            .status,
        204
    );
    assert_eq!(tool_call(&s.deps, Some(&old), &transfer).await.status, 401);
}

/// Every URL in `text` (attribute values and element text holding `://`), XML-unescaped.
fn urls_in(text: &str) -> Vec<String> {
    let unescaped = text.replace("&amp;", "&");
    unescaped
        .split(['"', '<', '>'])
        .filter(|s| s.contains("://") && !s.contains(' '))
        .map(str::to_owned)
        .collect()
}

/// The query parameter names of `url` (fragment dropped), in order.
fn query_names(url: &str) -> Vec<String> {
    let no_fragment = url.split('#').next().unwrap_or("");
    match no_fragment.split_once('?') {
        Some((_, q)) => q
            .split('&')
            .map(|kv| kv.split('=').next().unwrap_or("").to_owned())
            .collect(),
        None => Vec::new(),
    }
}

#[tokio::test]
async fn every_url_handed_to_twilio_carries_its_query_sorted_by_name() {
    let s = ai_stack(&[]).await;
    let mut urls = Vec::new();
    for mode in [AiPlay::Ok, AiPlay::Transfer, AiPlay::Fail] {
        let (_, log) = call(&s, mode, "no-answer").await;
        for st in &log.steps {
            urls.push(st.url.clone());
            urls.extend(urls_in(&st.reply.body));
        }
    }
    // The menu path, French, a miss and a retry, a completed dial, a voicemail.
    put_ai_number(&s, "0").await;
    for (digits, dial) in [
        (
            vec![Some("8"), Some("1"), Some("7"), Some("*"), Some("1")],
            "no-answer",
        ),
        (vec![Some("2"), Some("2")], "completed"),
        (vec![None, None, None], "busy"),
        (vec![Some("1"), Some("9")], "no-answer"),
    ] {
        let sc = script(&s, &digits, dial, 4);
        let log = play(&s, &sc).await;
        for st in &log.steps {
            urls.push(st.url.clone());
            urls.extend(urls_in(&st.reply.body));
        }
    }
    // The webhooks bound to a number at onboarding.
    let fields = provisioning::plan::webhook_fields(PUBLIC_BASE_URL, None);
    urls.extend(
        [
            fields.voice_url,
            fields.voice_fallback_url,
            fields.status_callback,
            fields.sms_url,
        ]
        .into_iter()
        .flatten(),
    );
    let with_query: Vec<&String> = urls.iter().filter(|u| u.contains('?')).collect();
    assert!(with_query.len() > 20, "too few URLs walked: {urls:?}");
    for u in &with_query {
        let names = query_names(u);
        let mut sorted = names.clone();
        sorted.sort();
        assert_eq!(names, sorted, "query not sorted by name: {u}");
    }
}

#[tokio::test]
async fn a_tool_call_for_a_call_we_never_saw_leaves_only_items_that_expire() {
    let s = ai_stack(&[]).await;
    let now = telephony_aws::now_secs();
    let ghost = "CA00000000000000000000000000ac00ff";
    let token = stream::issue(SECRET.as_bytes(), ghost, now);
    let body =
        serde_json::json!({"call_sid": ghost, "tool": "transfer_to_human", "tool_call_id": "g1"})
            .to_string();
    let r = tool_call(&s.deps, Some(&token), &body).await;
    assert!(r.status < 500, "{r:?}");
    for pk in [ghost.to_owned(), format!("tool#{ghost}#g1")] {
        let out = s
            .deps
            .dynamo()
            .get_item()
            .table_name(&s.resources["CallsTable"])
            .key("pk", A::S(pk.clone()))
            .send()
            .await
            .unwrap();
        if let Some(item) = out.item {
            let exp: u64 = item["expires_at"].as_n().unwrap().parse().unwrap();
            assert!(exp > now, "{pk}: {item:?}");
        }
    }
}

#[tokio::test]
async fn a_replayed_consent_gets_the_same_stream_token_and_a_stream_never_stopped_ages_out() {
    let s = ai_stack(&[]).await;
    let sid = "CA00000000000000000000000000ae0001";
    let p = pairs(&[
        ("AccountSid", ACCOUNT_SID),
        ("CallSid", sid),
        ("From", CALLER),
        ("To", HOTLINE),
        ("CallStatus", "in-progress"),
    ]);
    let front = post_signed(&s.deps, &format!("{PUBLIC_BASE_URL}/voice-frontdoor"), &p).await;
    assert_eq!(front.status, 200);
    let mut c = p.clone();
    c.push(("Digits".into(), "1".into()));
    let url = format!("{PUBLIC_BASE_URL}/voice-consent");
    let first = post_signed(&s.deps, &url, &c).await;
    assert!(first.body.contains("<Stream"), "{}", first.body);
    // Past a second boundary, a fresh token would differ; the replay gets the stored one.
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let again = post_signed(&s.deps, &url, &c).await;
    assert_eq!(again.body, first.body);

    // A stream reported started but never stopped keeps an expired token usable only up to
    // the call's maximum length after its Connect.
    let status_url = format!("{PUBLIC_BASE_URL}/voice-stream-status");
    let started = pairs(&[
        ("AccountSid", ACCOUNT_SID),
        ("CallSid", sid),
        ("StreamSid", "MZ00000000000000000000000000ae0001"),
        ("StreamEvent", "stream-started"),
    ]);
    assert_eq!(
        post_signed(&s.deps, &status_url, &started).await.status,
        204
    );
    let old = stream::issue(SECRET.as_bytes(), sid, telephony_aws::now_secs() - 600);
    let transfer =
        serde_json::json!({"call_sid": sid, "tool": "transfer_to_human", "tool_call_id": "y1"})
            .to_string();
    assert_eq!(tool_call(&s.deps, Some(&old), &transfer).await.status, 200);
    let five_hours_ago = telephony_aws::now_ms() - 5 * 3600 * 1000;
    s.deps
        .dynamo()
        .update_item()
        .table_name(&s.resources["CallsTable"])
        .key("pk", A::S(sid.into()))
        .update_expression("SET ai_connect_ms = :t")
        .expression_attribute_values(":t", A::N(five_hours_ago.to_string()))
        .send()
        .await
        .unwrap();
    let later =
        serde_json::json!({"call_sid": sid, "tool": "transfer_to_human", "tool_call_id": "y2"})
            .to_string();
    assert_eq!(tool_call(&s.deps, Some(&old), &later).await.status, 401);
}
