//! Lambda entry point of `/voice-stream-action`: logging, configuration and SDK clients once, then the handler.

#[tokio::main]
async fn main() -> Result<(), telephony_aws::LambdaError> {
    telephony_aws::glue::serve(&voice_stream_action::NEEDS, voice_stream_action::handler).await
}
