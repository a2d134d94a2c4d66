//! `local-iam-gateway`: API Gateway's `AWS_IAM` authorizer for `make run` (see
//! [`tradeline_ops::gateway`]). Listens on `127.0.0.1:$OPS_GATEWAY_PORT` (9100); accepts requests
//! signed with the run's local operator key (`LOCAL_OPERATOR_ACCESS_KEY_ID`,
//! `LOCAL_OPERATOR_SECRET_ACCESS_KEY`, reported as `LOCAL_OPERATOR_ARN`) for `execute-api` in
//! `AWS_REGION`; invokes the functions through `cargo lambda watch` at `$LAMBDA_INVOKE_BASE`
//! (`http://127.0.0.1:9000`). Run from the workspace root (it reads `Cargo.toml`'s router).

use std::sync::Arc;
use tradeline_ops::gateway::{Gateway, Router};
use tradeline_ops::sigv4::KnownKey;

fn env(name: &str) -> Result<String, String> {
    std::env::var(name)
        .ok()
        .filter(|v| !v.is_empty())
        .ok_or_else(|| format!("{name} is not set (make run writes it into .local/stack.env)"))
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let key = KnownKey {
        access_key_id: env("LOCAL_OPERATOR_ACCESS_KEY_ID")?,
        secret_access_key: env("LOCAL_OPERATOR_SECRET_ACCESS_KEY")?,
        user_arn: env("LOCAL_OPERATOR_ARN")?,
    };
    let router = Router::from_cargo_toml(&std::fs::read_to_string("Cargo.toml")?)?;
    let port: u16 = env("OPS_GATEWAY_PORT").map_or(Ok(9100), |p| p.parse())?;
    let gateway = Arc::new(Gateway {
        keys: vec![key],
        region: env("AWS_REGION")?,
        router,
        invoke_base: env("LAMBDA_INVOKE_BASE").unwrap_or_else(|_| "http://127.0.0.1:9000".into()),
        http: reqwest::Client::new(),
    });
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
    eprintln!("local IAM gateway: ops routes on http://127.0.0.1:{port} (SigV4, execute-api)");
    tradeline_ops::gateway::serve(gateway, listener).await?;
    Ok(())
}
