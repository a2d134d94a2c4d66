//! The AI receptionist on ConversationRelay (issue 28) against moto: whole calls played by the
//! simulator (consent, `<Connect><ConversationRelay>`, the WebSocket through the local gateway
//! into the three relay functions, the model stand-in, the Connect action), and the hard cases:
//! handshake signatures, replayed tokens, interrupts, racing prompts, a model that is down or
//! slow, prompt injection, French, consent, retried actions, and the Chat Completions contract.

use aws_sdk_dynamodb::types::AttributeValue as A;
use call_simulator::relay::{setup_message, turn_message, RelaySocket};
use integration_tests::relay::*;
use integration_tests::*;
use serde_json::{json, Value};
use std::time::Duration;
use telephony_aws::ws::WsEvent;

fn relay_script(r: &RelayStack, consent_digit: &str, says: &[&str]) -> call_simulator::Script {
    let mut sc = script(r.stack, &[Some(consent_digit)], "no-answer", 0);
    sc.to = RELAY_NUMBER.into();
    sc.says = says.iter().map(|s| s.to_string()).collect();
    sc
}

async fn raw(s: &Stack, pk: &str) -> Option<std::collections::HashMap<String, A>> {
    s.deps.calls().raw_item(pk).await.unwrap()
}

fn said_by_ai(log: &call_simulator::CallLog) -> String {
    log.relays.iter().flat_map(|r| r.turns.iter()).flat_map(|t| t.heard.iter()).cloned().collect::<Vec<_>>().join(" ")
}

async fn bookings(s: &Stack, call_sid: &str) -> Vec<Value> {
    let out = s
        .deps
        .dynamo
        .scan()
        .table_name(&s.resources["CallsTable"])
        .send()
        .await
        .unwrap();
    out.items()
        .iter()
        .filter(|i| {
            attr_s(i, "pk").is_some_and(|p| p.starts_with(&format!("tool#{call_sid}#")))
                && attr_s(i, "tool").as_deref() == Some("book_appointment")
        })
        .map(|i| serde_json::from_str(&attr_s(i, "arguments").unwrap()).unwrap())
        .collect()
}

/// The (last) Connect action request.
fn action_step(log: &call_simulator::CallLog) -> &call_simulator::Step {
    log.steps.iter().rev().find(|s| s.url.contains("/voice-relay-action")).expect("the Connect action was requested")
}

fn history(item: &std::collections::HashMap<String, A>) -> Vec<Value> {
    item.get("history").map_or(vec![], |h| serde_json::from_str(h.as_s().unwrap()).unwrap())
}

#[tokio::test]
async fn a_spoken_booking_conversation_books_one_appointment_and_sends_one_notice() {
    let r = relay_stack(&[], "en-CA").await;
    let sc = relay_script(&r, "1", &["Do you fix furnaces?", "Can someone come Tuesday at 10?", "yes", "That's all, bye"]);
    let log = play(r.stack, &sc).await;
    let relay_twiml = log.twiml_replies().find(|s| s.reply.body.contains("<ConversationRelay")).expect("relay TwiML");
    for p in [
        format!("url=\"{}\"", r.relay_url),
        "welcomeGreeting=\"Hi, you&apos;ve reached Acme Heating.".to_owned(),
        "language=\"en-US\"".into(),
        "interruptible=\"any\"".into(),
        "dtmfDetection=\"true\"".into(),
        "<Parameter name=\"consent\" value=\"yes\"/>".into(),
        "action=\"http://127.0.0.1:9000/voice-relay-action?lang=en\"".into(),
    ] {
        assert!(relay_twiml.reply.body.contains(&p), "{p} in {}", relay_twiml.reply.body);
    }
    let run = &log.relays[0];
    assert_eq!(run.turns.len(), 4, "{run:?}");
    assert!(run.turns[0].heard.join(" ").contains("We repair furnaces, boilers and heat pumps"), "{run:?}");
    assert!(run.turns[1].heard.join(" ").contains("Just to confirm: Tuesday,"), "{run:?}");
    assert!(run.turns[2].heard.join(" ").contains("You're booked for Tuesday,"), "{run:?}");
    assert!(run.turns.iter().take(3).all(|t| t.latency_ms.is_some()));
    assert_eq!(run.handoff.as_deref(), Some(r#"{"reasonCode":"goodbye"}"#));
    // The Connect action says goodbye and hangs up.
    let last = action_step(&log);
    assert!(last.reply.body.contains("Thank you for calling. Goodbye.") && last.reply.body.contains("<Hangup/>"), "{}", last.reply.body);
    // One booking, confirmed, at 10:00 Toronto on a Tuesday, one hour.
    let b = bookings(r.stack, &sc.call_sid).await;
    assert_eq!(b.len(), 1, "{b:?}");
    let start = chrono::DateTime::parse_from_rfc3339(b[0]["window_start"].as_str().unwrap()).unwrap();
    let end = chrono::DateTime::parse_from_rfc3339(b[0]["window_end"].as_str().unwrap()).unwrap();
    use chrono::{Datelike, Timelike};
    assert_eq!((start.weekday(), start.hour(), start.minute()), (chrono::Weekday::Tue, 10, 0));
    assert_eq!((end - start).num_minutes(), 60);
    assert_eq!(b[0]["callback"], CALLER);
    // One staff notice for the call, with the booking.
    let notices: Vec<_> = sns_messages(&r.stack.resources["VoicemailTopic"])
        .await
        .into_iter()
        .filter(|(_, m)| m["call_sid"] == sc.call_sid.as_str())
        .collect();
    assert_eq!(notices.len(), 1, "{notices:?}");
    let (subject, n) = &notices[0];
    assert!(subject.starts_with("AI receptionist call from"), "{subject}");
    assert_eq!(n["type"], "ai_conversation");
    assert_eq!(n["outcome"], "goodbye");
    assert_eq!(n["booking"]["window_start"], b[0]["window_start"]);
    // With consent the transcript is kept 90 days.
    let conv = raw(r.stack, &format!("conv#{}", sc.call_sid)).await.expect("session");
    let h = history(&conv);
    assert!(h.len() >= 8, "{h:?}");
    assert_eq!(h[1], json!({"role": "user", "content": "Do you fix furnaces?"}));
    let exp: u64 = conv["expires_at"].as_n().unwrap().parse().unwrap();
    assert!(exp > telephony_aws::now_secs() + 89 * 86_400, "{exp}");
    assert_eq!(attr_s(&raw(r.stack, &sc.call_sid).await.unwrap(), "ai_outcome").as_deref(), Some("goodbye"));
}

