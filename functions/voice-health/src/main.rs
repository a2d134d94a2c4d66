//! Lambda entry point of `/voice-health`: logging, configuration and SDK clients once, then the handler.

#[tokio::main]
async fn main() -> Result<(), telephony_aws::LambdaError> {
    telephony_aws::glue::serve(&voice_health::NEEDS, voice_health::handler).await
}
