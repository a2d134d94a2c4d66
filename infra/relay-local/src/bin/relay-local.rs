//! `relay-local gateway` / `relay-local llm`: the local WebSocket gateway and the model
//! stand-in for `make run` (crate docs). Settings from the environment: `RELAY_WS_PORT` (9300),
//! `RELAY_MANAGEMENT_PORT` (9301), `RELAY_STAGE` (`local`), `LAMBDA_INVOKE_BASE`
//! (`http://127.0.0.1:9000`, `cargo lambda watch`), `LLM_STANDIN_PORT` (9310).

use std::env;

fn port(name: &str, default: u16) -> u16 {
    env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    match env::args().nth(1).as_deref() {
        Some("gateway") => {
            let base =
                env::var("LAMBDA_INVOKE_BASE").unwrap_or_else(|_| "http://127.0.0.1:9000".into());
            let stage = env::var("RELAY_STAGE").unwrap_or_else(|_| "local".into());
            let gw = relay_local::gateway::Gateway::start(
                port("RELAY_WS_PORT", 9300),
                port("RELAY_MANAGEMENT_PORT", 9301),
                &stage,
                relay_local::gateway::http_invoker(&base),
            )
            .await?;
            println!(
                "relay gateway: ws://{}/{stage} (management http://{}/{stage})",
                gw.ws_addr, gw.management_addr
            );
        }
        Some("llm") => {
            let s = relay_local::standin::StandIn::start(port("LLM_STANDIN_PORT", 9310)).await?;
            println!("model stand-in: {}", s.base_url());
        }
        _ => {
            eprintln!("usage: relay-local gateway|llm");
            std::process::exit(2);
        }
    }
    std::future::pending::<()>().await;
    Ok(())
}
