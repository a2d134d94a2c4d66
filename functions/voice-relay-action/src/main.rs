//! Lambda entry point of `/voice-relay-action`: logging, configuration and SDK clients once, then the handler.

#[tokio::main]
async fn main() -> Result<(), telephony_aws::LambdaError> {
    telephony_aws::glue::serve(&voice_relay_action::NEEDS, voice_relay_action::handler).await
}
