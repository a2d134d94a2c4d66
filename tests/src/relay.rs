//! The AI receptionist's local parts for the tests (issue 28): a stack with `RELAY_URL` and a
//! stream secret, the relay gateway invoking the three WebSocket handlers in-process, the model
//! stand-in, and a number on the relay engine with business hours and facts.

use crate::{
    free_port, moto_endpoint, pairs, post_signed, script, sdk_config, stack, Stack, ACCOUNT_SID,
    AUTH_TOKEN, PUBLIC_BASE_URL,
};
use aws_sdk_dynamodb::types::AttributeValue as A;
use call_simulator::relay::{setup_message, RelaySocket};
use relay_local::gateway::{Gateway, Invoke};
use relay_local::standin::StandIn;
use std::sync::Arc;
use telephony_aws::ws::WsEvent;
use voice_relay_message::Runtime;

/// The stream secret of relay stacks.
pub const SECRET: &str = "test-stream-secret-0123456789abcdef0123";
/// The receptionist's number.
pub const RELAY_NUMBER: &str = "+15877420100";
/// Its facts.
pub const KNOWLEDGE: &str = "We repair furnaces, boilers and heat pumps in Toronto and Mississauga. A service call is $129.";

/// A stack with the receptionist's parts.
pub struct RelayStack {
    /// The stack (leaked: the gateway's handlers borrow it for the process).
    pub stack: &'static Stack,
    /// The local WebSocket API.
    pub gateway: Gateway,
    /// The model stand-in.
    pub model: StandIn,
    /// The `$default` function's clients.
    pub runtime: &'static Runtime,
    /// `RELAY_URL`.
    pub relay_url: String,
}

/// Starts everything; `overrides` as for [`stack`]; the number speaks `language` (`en-CA`,
/// `fr-CA`).
pub async fn relay_stack(overrides: &[(&str, &str)], language: &str) -> RelayStack {
    let model = StandIn::start(0).await.expect("model stand-in");
    let (ws_port, mgmt_port) = (free_port(), free_port());
    let relay_url = format!("ws://127.0.0.1:{ws_port}/local");
    let mut vars = vec![("STREAM_SECRET", SECRET), ("RELAY_URL", relay_url.as_str())];
    vars.extend_from_slice(overrides);
    let stack: &'static Stack = Box::leak(Box::new(stack(&vars).await));
    let sdk = sdk_config(moto_endpoint()).await;
    let runtime: &'static Runtime = Box::leak(Box::new(Runtime::new(
        &sdk,
        &format!("http://127.0.0.1:{mgmt_port}/local"),
        &model.base_url(),
        Some("sk-local-test".into()),
        "standin-model",
    )));
    let deps = &stack.deps;
    let invoke: Invoke = Arc::new(move |route, event| {
        Box::pin(async move {
            let ev = WsEvent::from_event(&event).ok()?;
            Some(match route {
                "$connect" => {
                    voice_relay_connect::handler(
                        &crate::narrow(deps, &voice_relay_connect::NEEDS),
                        &(),
                        ev,
                    )
                    .await
                }
                "$disconnect" => {
                    voice_relay_disconnect::handler(
                        &crate::narrow(deps, &voice_relay_disconnect::NEEDS),
                        &(),
                        ev,
                    )
                    .await
                }
                _ => {
                    voice_relay_message::handler(
                        &crate::narrow(deps, &voice_relay_message::NEEDS),
                        runtime,
                        ev,
                    )
                    .await
                }
            })
        })
    });
    let gateway = Gateway::start(ws_port, mgmt_port, "local", invoke)
        .await
        .expect("gateway");
    put_relay_number(stack, language).await;
    RelayStack {
        stack,
        gateway,
        model,
        runtime,
        relay_url,
    }
}

/// The receptionist's number: relay engine, weekday hours 08:00–17:00 in Toronto (no holiday
/// region, so next Tuesday at 10 is always bookable), the facts, Sales and Support lines, Support
/// as the after-hours line (a transfer dials someone at any hour).
pub async fn put_relay_number(s: &Stack, language: &str) {
    s.deps
        .dynamo()
        .put_item()
        .table_name(&s.resources["NumbersTable"])
        .item("e164", A::S(RELAY_NUMBER.into()))
        .item("business_name", A::S("Acme Heating".into()))
        .item("language", A::S(language.into()))
        .item("sales_target", A::S(crate::SALES.into()))
        .item("support_target", A::S(crate::SUPPORT.into()))
        .item("ai_enabled", A::S("true".into()))
        .item("ai_engine", A::S("relay".into()))
        .item("ai_knowledge", A::S(KNOWLEDGE.into()))
        .item("after_hours_target", A::S(crate::SUPPORT.into()))
        .item("timezone", A::S("America/Toronto".into()))
        .item("hours", A::S("mon-fri 08:00-17:00".into()))
        .send()
        .await
        .unwrap();
}

/// The receptionist's number open around the clock (its `hours` removed), for a test whose
/// human path must not depend on the hour it runs at (closed → the after-hours message).
pub async fn open_around_the_clock(s: &Stack) {
    s.deps
        .dynamo()
        .update_item()
        .table_name(&s.resources["NumbersTable"])
        .key("e164", A::S(RELAY_NUMBER.into()))
        .update_expression("REMOVE hours")
        .send()
        .await
        .unwrap();
}

/// A call to the receptionist's number: consent `consent_digit`, then `says` to the AI.
pub fn relay_script(r: &RelayStack, consent_digit: &str, says: &[&str]) -> call_simulator::Script {
    let mut sc = script(r.stack, &[Some(consent_digit)], "no-answer", 0);
    sc.to = RELAY_NUMBER.into();
    sc.says = says.iter().map(|s| s.to_string()).collect();
    sc
}

/// A relay session opened as Twilio does it: frontdoor and consent posted (signed), the relay
/// TwiML's `<Parameter>`s read, the socket opened with the handshake signature, `setup` sent and
/// the session waited for (5 s at most). Returns the call, the socket and the parameters.
pub async fn open_session(
    r: &RelayStack,
    consent_digit: &str,
) -> (call_simulator::Script, RelaySocket, Vec<(String, String)>) {
    let sc = relay_script(r, consent_digit, &[]);
    let front = post_signed(
        &r.stack.deps,
        &format!("{PUBLIC_BASE_URL}/voice-frontdoor"),
        &call_params(&sc),
    )
    .await;
    assert_eq!(front.status, 200);
    let mut p = call_params(&sc);
    p.push(("Digits".into(), consent_digit.into()));
    let consent = post_signed(
        &r.stack.deps,
        &format!("{PUBLIC_BASE_URL}/voice-consent?lang=en"),
        &p,
    )
    .await;
    let params = parameters(&consent.body);
    let sig = telephony_core::signature::compute(AUTH_TOKEN, &r.relay_url, &[]);
    let mut ws = RelaySocket::connect(&r.relay_url, Some(&sig))
        .await
        .expect("handshake");
    ws.send(&setup_message(
        &sc.call_sid,
        ACCOUNT_SID,
        &sc.from,
        &sc.to,
        &params,
    ))
    .await;
    let pk = format!("conv#{}", sc.call_sid);
    for _ in 0..200 {
        if r.stack
            .deps
            .calls()
            .raw_item(&pk)
            .await
            .ok()
            .flatten()
            .is_some()
        {
            return (sc, ws, params);
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    panic!("the relay session of {} did not start in 5 s", sc.call_sid);
}

/// The webhook parameters of `sc`'s call.
pub fn call_params(sc: &call_simulator::Script) -> Vec<(String, String)> {
    pairs(&[
        ("AccountSid", ACCOUNT_SID),
        ("CallSid", &sc.call_sid),
        ("CallStatus", "in-progress"),
        ("From", &sc.from),
        ("To", &sc.to),
        ("Direction", "inbound"),
    ])
}

/// The `<Parameter>`s of a relay TwiML (values without XML escapes: tokens and codes).
pub fn parameters(xml: &str) -> Vec<(String, String)> {
    xml.split("<Parameter ")
        .skip(1)
        .filter_map(|p| {
            let name = p.split("name=\"").nth(1)?.split('"').next()?;
            let value = p.split("value=\"").nth(1)?.split('"').next()?;
            Some((name.to_owned(), value.to_owned()))
        })
        .collect()
}
