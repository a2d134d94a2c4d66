//! Lambda entry point of the forwarding tenant API: logging, configuration, SDK clients and the
//! token verifier once, then the handler.

#[tokio::main]
async fn main() -> Result<(), telephony_aws::LambdaError> {
    telephony_aws::glue::serve_with(
        &forwarding_api::NEEDS,
        |_, env| Ok(forwarding_api::Settings::load(env)?),
        forwarding_api::handle,
    )
    .await
}
