//! Lambda entry point of the contact form: the SES client and the form's settings once, then
//! the handler.

#[tokio::main]
async fn main() -> Result<(), telephony_aws::LambdaError> {
    telephony_aws::glue::serve_with(
        &contact_submit::NEEDS,
        |_, env| Ok(contact_submit::Settings::load(env)?),
        contact_submit::handle,
    )
    .await
}
