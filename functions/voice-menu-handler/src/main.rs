//! Lambda entry point of `/voice-menu-handler`: logging, configuration and SDK clients once, then the handler.

#[tokio::main]
async fn main() -> Result<(), telephony_aws::LambdaError> {
    telephony_aws::glue::serve(&voice_menu_handler::NEEDS, voice_menu_handler::handler).await
}
