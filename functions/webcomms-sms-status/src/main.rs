//! Lambda entry point of `/webcomms-sms-status`: logging, configuration and SDK clients once, then the handler.

#[tokio::main]
async fn main() -> Result<(), telephony_aws::LambdaError> {
    telephony_aws::glue::serve(&webcomms_sms_status::NEEDS, webcomms_sms_status::handler).await
}
