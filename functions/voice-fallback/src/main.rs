//! Lambda entry point of `/voice-fallback`: logging, configuration and SDK clients once, then the handler.

#[tokio::main]
async fn main() -> Result<(), telephony_aws::LambdaError> {
    telephony_aws::glue::serve(&voice_fallback::NEEDS, voice_fallback::handler).await
}
