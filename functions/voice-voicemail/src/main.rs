//! Lambda entry point of `/voice-voicemail`: logging, configuration and SDK clients once, then the handler.

#[tokio::main]
async fn main() -> Result<(), telephony_aws::LambdaError> {
    telephony_aws::glue::serve(&voice_voicemail::NEEDS, voice_voicemail::handler).await
}
