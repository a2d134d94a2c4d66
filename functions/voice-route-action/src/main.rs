//! Lambda entry point of `/voice-route-action`: logging, configuration and SDK clients once, then the handler.

#[tokio::main]
async fn main() -> Result<(), telephony_aws::LambdaError> {
    telephony_aws::glue::serve(&voice_route_action::NEEDS, voice_route_action::handler).await
}
