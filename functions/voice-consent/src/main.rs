//! Lambda entry point of `/voice-consent`: logging, configuration and SDK clients once, then the handler.

#[tokio::main]
async fn main() -> Result<(), telephony_aws::LambdaError> {
    telephony_aws::glue::serve(&voice_consent::NEEDS, voice_consent::handler).await
}
