//! Cold start, first response and peak memory of real function bootstraps (issue "Performance",
//! part of `make bench`): each bootstrap is started under a Lambda Runtime API emulator
//! (`infra/lambda-emulator`) against a moto stack, as Lambda would start it; measured are
//! - init: process start → its first `GET /runtime/invocation/next` (clients built, config read);
//! - first response: the first signed webhook event → its response;
//! - warm p50 over `--warm` more events (each a new call or message);
//! - peak RSS (`VmHWM`) after all of them; and the file size.
//!
//! Prints one JSON line per function. Usage:
//! `coldstart [--bin-dir target/release] [--runs 5] [--warm 100] [voice-frontdoor webcomms-sms-reply]`.

use integration_tests::*;
use lambda_emulator::{lambda_env, Outcome, RuntimeApi};
use serde_json::json;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn event(path: &str, params: &[(String, String)]) -> serde_json::Value {
    let url = format!("{PUBLIC_BASE_URL}{path}");
    json!({
        "version": "2.0", "routeKey": "$default", "rawPath": path, "rawQueryString": "",
        "headers": {"host": "127.0.0.1", "content-type": "application/x-www-form-urlencoded",
                    "x-twilio-signature": sign(&url, params)},
        "requestContext": {"accountId": "1", "apiId": "local", "domainName": "127.0.0.1",
            "http": {"method": "POST", "path": path, "protocol": "HTTP/1.1",
                     "sourceIp": "198.51.100.7", "userAgent": "TwilioProxy/1.1"},
            "requestId": "r", "routeKey": "$default", "stage": "$default",
            "time": "22/Nov/2026:12:00:00 +0000", "timeEpoch": 0},
        "body": call_simulator::encode_form(params), "isBase64Encoded": false
    })
}

fn request(function: &str, n: u64) -> serde_json::Value {
    let from = format!("+1202555{:04}", 1000 + n % 8000);
    match function {
        "webcomms-sms-reply" => {
            let sid = format!("SM{:024x}{:08x}", std::process::id(), n);
            event(
                "/webcomms-sms-reply",
                &pairs(&[
                    ("AccountSid", ACCOUNT_SID),
                    ("MessageSid", &sid),
                    ("From", &from),
                    ("To", HOTLINE),
                    ("Body", "Do you fix furnaces?"),
                    ("NumMedia", "0"),
                ]),
            )
        }
        _ => {
            let sid = format!("CA{:024x}{:08x}", std::process::id(), n);
            event(
                "/voice-frontdoor",
                &pairs(&[
                    ("AccountSid", ACCOUNT_SID),
                    ("CallSid", &sid),
                    ("From", &from),
                    ("To", HOTLINE),
                    ("CallStatus", "ringing"),
                    ("Direction", "inbound"),
                ]),
            )
        }
    }
}

fn peak_rss_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    v.get(v.len() / 2).copied().unwrap_or(0.0)
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let opt = |name: &str, default: &str| {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1))
            .cloned()
            .unwrap_or_else(|| default.to_owned())
    };
    let bin_dir = opt("--bin-dir", "target/release");
    let runs: usize = opt("--runs", "5").parse().unwrap_or(5);
    let warm: u64 = opt("--warm", "100").parse().unwrap_or(100);
    let mut functions: Vec<String> = args
        .iter()
        .enumerate()
        .filter(|(i, a)| !a.starts_with("--") && (*i == 0 || !args[i - 1].starts_with("--")))
        .map(|(_, a)| a.clone())
        .collect();
    if functions.is_empty() {
        functions = vec!["voice-frontdoor".into(), "webcomms-sms-reply".into()];
    }
    let stack = stack(&[("RATE_LIMITS", "100000/60")]).await;
    let mut n = 0u64;
    for function in &functions {
        let bin = std::path::Path::new(&bin_dir).join(function);
        let size = std::fs::metadata(&bin).map(|m| m.len()).unwrap_or(0);
        let (mut inits, mut firsts, mut warms, mut rss) = (Vec::new(), Vec::new(), Vec::new(), 0);
        for run in 0..runs {
            let api = RuntimeApi::start().await.expect("runtime API");
            let started = Instant::now();
            let mut child = Command::new(&bin)
                .env_clear()
                .envs(lambda_env(&api, function))
                .envs(stack_env(&stack))
                .env("RUST_LOG", "warn")
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .unwrap_or_else(|e| panic!("start {}: {e}", bin.display()));
            let ready = api
                .wait_ready(Duration::from_secs(30))
                .await
                .unwrap_or_else(|| panic!("{function} never polled: {:?}", api.init_error()));
            inits.push((ready - started).as_secs_f64() * 1000.0);
            n += 1;
            let t = Instant::now();
            let out = api
                .invoke(&request(function, n), Duration::from_secs(30))
                .await;
            firsts.push(t.elapsed().as_secs_f64() * 1000.0);
            match out {
                Some(Outcome::Response(v)) if v["statusCode"] == 200 => {}
                other => panic!("{function}: first response {other:?}"),
            }
            if run == 0 {
                for _ in 0..warm {
                    n += 1;
                    let t = Instant::now();
                    api.invoke(&request(function, n), Duration::from_secs(30))
                        .await;
                    warms.push(t.elapsed().as_secs_f64() * 1000.0);
                }
                rss = peak_rss_kib(child.id());
            }
            child.kill().ok();
            child.wait().ok();
        }
        println!(
            "{}",
            json!({
                "function": function,
                "bootstrap_bytes": size,
                "init_ms_median": median(&mut inits),
                "init_ms_all": inits,
                "first_response_ms_median": median(&mut firsts),
                "warm_p50_ms": median(&mut warms),
                "peak_rss_mib": rss as f64 / 1024.0,
            })
        );
    }
}
