//! Lambda entry point of `/voice-frontdoor`: logging, configuration and SDK clients once, then the handler.

#[tokio::main]
async fn main() -> Result<(), telephony_aws::LambdaError> {
    telephony_aws::glue::serve(&voice_frontdoor::NEEDS, voice_frontdoor::handler).await
}
