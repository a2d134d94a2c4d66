//! Lambda entry point of the WebSocket `$default` route: logging, configuration, the SDK clients,
//! the Management API client and the model client once, then the handler per message.

#[tokio::main]
async fn main() -> Result<(), telephony_aws::LambdaError> {
    let runtime = voice_relay_message::Runtime::from_env()?;
    telephony_aws::ws::serve(runtime, voice_relay_message::handler).await
}
