//! Lambda entry point of the scheduled monitor: logging, configuration and SDK clients once.

#[tokio::main]
async fn main() -> Result<(), telephony_aws::LambdaError> {
    telephony_aws::glue::serve_scheduled(&telephony_monitor::NEEDS, telephony_monitor::handler)
        .await
}
