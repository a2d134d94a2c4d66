//! Lambda entry point of `/voice-status`: logging, configuration and SDK clients once, then the handler.

#[tokio::main]
async fn main() -> Result<(), telephony_aws::LambdaError> {
    telephony_aws::glue::serve(&voice_status::NEEDS, voice_status::handler).await
}
