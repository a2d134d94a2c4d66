//! Lambda entry point of number provisioning: logging, configuration and SDK clients once, then the handler.

#[tokio::main]
async fn main() -> Result<(), telephony_aws::LambdaError> {
    telephony_aws::glue::serve(&ops_provisioning::NEEDS, ops_provisioning::handler).await
}
