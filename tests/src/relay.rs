//! The AI receptionist's local parts for the tests (issue 28): a stack with `RELAY_URL` and a
//! stream secret, the relay gateway invoking the three WebSocket handlers in-process, the model
//! stand-in, and a number on the relay engine with business hours and facts.

use crate::{free_port, moto_endpoint, sdk_config, stack, Stack};
use aws_sdk_dynamodb::types::AttributeValue as A;
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
                "$connect" => voice_relay_connect::handler(deps, &(), ev).await,
                "$disconnect" => voice_relay_disconnect::handler(deps, &(), ev).await,
                _ => voice_relay_message::handler(deps, runtime, ev).await,
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
        .dynamo
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
