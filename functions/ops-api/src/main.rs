//! Lambda entry point of the ops API: logging, configuration and SDK clients once, then the handler.

#[tokio::main]
async fn main() -> Result<(), telephony_aws::LambdaError> {
    telephony_aws::glue::serve(&ops_api::NEEDS, ops_api::handler).await
}
