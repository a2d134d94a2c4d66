//! Lambda entry point of the contact form: the SES client and the form's settings once, then
//! the handler.

#[tokio::main]
async fn main() -> Result<(), telephony_aws::LambdaError> {
    telephony_aws::glue::serve_with(
        &contact_submit::NEEDS,
        |_, env| {
            let sdk = telephony_aws::ws::sdk_config()?;
            Ok(contact_submit::Settings::load(env, &sdk)?)
        },
        contact_submit::handle,
    )
    .await
}
