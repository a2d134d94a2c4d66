//! Lambda entry point of the forwarding tenant API: logging, configuration, SDK clients and the
//! token verifier once, then the handler.

#[tokio::main]
async fn main() -> Result<(), telephony_aws::LambdaError> {
    let table = std::env::var("FORWARDING_TABLE").map_err(|_| "FORWARDING_TABLE is required")?;
    forwarding_api::install(forwarding_api::Settings {
        table,
        auth: forwarding_api::auth::Auth::from_env()?,
    });
    telephony_aws::glue::serve(forwarding_api::handler).await
}
