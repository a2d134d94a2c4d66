//! Lambda entry point of the WebSocket `$connect` route: logging, configuration and clients once.

#[tokio::main]
async fn main() -> Result<(), telephony_aws::LambdaError> {
    telephony_aws::ws::serve(
        &voice_relay_connect::NEEDS,
        |_, _| Ok(()),
        voice_relay_connect::handler,
    )
    .await
}
