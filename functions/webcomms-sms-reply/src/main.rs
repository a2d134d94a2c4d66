//! Lambda entry point of `/webcomms-sms-reply`: logging, configuration and SDK clients once, then the handler.

#[tokio::main]
async fn main() -> Result<(), telephony_aws::LambdaError> {
    telephony_aws::glue::serve(&webcomms_sms_reply::NEEDS, webcomms_sms_reply::handler).await
}
