//! Lambda entry point of `/voice-transcription-callback`: logging, configuration and SDK clients once, then the handler.

#[tokio::main]
async fn main() -> Result<(), telephony_aws::LambdaError> {
    telephony_aws::glue::serve(
        &voice_transcription_callback::NEEDS,
        voice_transcription_callback::handler,
    )
    .await
}
