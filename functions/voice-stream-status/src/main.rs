//! Lambda entry point of `/voice-stream-status`: logging, configuration and SDK clients once, then the handler.

#[tokio::main]
async fn main() -> Result<(), telephony_aws::LambdaError> {
    telephony_aws::glue::serve(&voice_stream_status::NEEDS, voice_stream_status::handler).await
}
