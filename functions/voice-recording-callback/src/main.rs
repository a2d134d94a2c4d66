//! Lambda entry point of `/voice-recording-callback`: logging, configuration and SDK clients once, then the handler.

#[tokio::main]
async fn main() -> Result<(), telephony_aws::LambdaError> {
    telephony_aws::glue::serve(
        &voice_recording_callback::NEEDS,
        voice_recording_callback::handler,
    )
    .await
}
