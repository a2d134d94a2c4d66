//! Lambda entry point of the WebSocket `$disconnect` route: logging, configuration and clients once.

#[tokio::main]
async fn main() -> Result<(), telephony_aws::LambdaError> {
    telephony_aws::ws::serve(
        &voice_relay_disconnect::NEEDS,
        |_, _| Ok(()),
        voice_relay_disconnect::handler,
    )
    .await
}
