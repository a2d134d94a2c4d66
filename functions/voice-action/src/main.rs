//! Lambda entry point of `/voice-action`: logging, configuration and SDK clients once, then the handler.

#[tokio::main]
async fn main() -> Result<(), telephony_aws::LambdaError> {
    telephony_aws::glue::serve(&voice_action::NEEDS, voice_action::handler).await
}
