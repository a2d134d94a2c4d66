//! Lambda entry point of the WebSocket `$default` route: logging, configuration, the SDK clients,
//! the Management API client and the model client once, then the handler per message.

#[tokio::main]
async fn main() -> Result<(), telephony_aws::LambdaError> {
    telephony_aws::ws::serve(
        &voice_relay_message::NEEDS,
        |_, env| {
            let sdk = telephony_aws::ws::sdk_config()?;
            Ok(voice_relay_message::Runtime::load(env, &sdk)?)
        },
        voice_relay_message::handler,
    )
    .await
}
