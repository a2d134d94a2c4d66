//! Lambda entry point of the contact form: the SES client and the form's settings once, then
//! the handler.

#[tokio::main]
async fn main() -> Result<(), telephony_aws::LambdaError> {
    let sdk = telephony_aws::deps::AwsTarget::from_env()?.sdk_config();
    contact_submit::install(contact_submit::Settings::from_env(&sdk)?);
    telephony_aws::glue::serve(contact_submit::handler).await
}
