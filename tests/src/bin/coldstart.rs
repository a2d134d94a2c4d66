//! Functions as Lambda runs them (issue 26, part of `make bench`): each release bootstrap (and
//! the Node.js and Python peers of the frontdoor) is started under a Lambda Runtime API emulator,
//! in the CPU share of one memory size (a cgroup quota, [`integration_tests::bench::cpu`]), with
//! DynamoDB, S3, SNS and Twilio's media reached over TLS ([`integration_tests::bench::tls`]: moto
//! and the media stand-in behind a terminator, a chain generated per run).
//!
//! Measured, for one memory size:
//! - **frontdoor**, ours and each peer, by the same signed events: init (exec → first `GET
//!   /next`), first response (the first event → its response; handshakes and first AWS calls
//!   included), cold = init + first response (what the caller waits after the ring), warm p50/p99
//!   (each warm request after a CFS period idle: [`Launcher::idle`]); once with DynamoDB on moto
//!   and once on dynalite (`"dynamodb"` in each line; [`integration_tests::bench::dynalite`]);
//! - **paths**, every webhook its own process: a call through the menu to a Dial that is not
//!   answered and a voicemail; a call to the AI receptionist (consent → ConversationRelay); a text
//!   with an auto-reply. Each is played with every function cold (new processes), then warm
//!   (processes kept); per step: the answer time, whether it started the process, billed ms.
//!   The caller-heard sum leaves out the callbacks (status, recording, transcription), which
//!   nobody waits for;
//! - **usage** of one call and one text, counted in front of moto (DynamoDB read/write request
//!   units, S3 and SNS requests) and the bytes the functions log, for the cost model.
//!
//! Prints one JSON line per figure. Usage: `coldstart [--memory 128] [--period-us 20000]
//! [--runs 5] [--warm 30] [--bin-dir target/release] [--peers .local/bench] [--usage]`.

use integration_tests::bench::cpu::CpuShare;
use integration_tests::bench::dynalite::{copy_tables, Dynalite};
use integration_tests::bench::lambda::{form_event, reply_of, Lambda};
use integration_tests::bench::tls::{Pki, TlsFront};
use integration_tests::proxy::CountingProxy;
use integration_tests::*;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::path::PathBuf;
use std::process::Command;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;
use tokio::sync::Mutex;

/// What a whole-call step records.
#[derive(Debug, Clone)]
struct Step {
    function: String,
    route: String,
    /// Event → response, ms.
    took_ms: f64,
    /// Init, ms, when this request started the process.
    init_ms: Option<f64>,
}

impl Step {
    /// What the caller (or Twilio) waited: the init too when the request found no process.
    fn waited_ms(&self) -> f64 {
        self.took_ms + self.init_ms.unwrap_or(0.0)
    }
    /// Lambda's billed duration: init and invocation, rounded up to 1 ms.
    fn billed_ms(&self) -> f64 {
        self.waited_ms().ceil()
    }
    /// A callback nobody on the line waits for.
    fn is_callback(&self) -> bool {
        self.route.contains("callback")
            || self.route.starts_with("/voice-status")
            || self.route.starts_with("/webcomms-sms-status")
            || self.route.starts_with("/voice-stream-status")
    }
}

/// How each function process is started.
#[derive(Clone)]
struct Launcher {
    /// The DynamoDB stand-in's name in the figures (`moto`, `dynalite`).
    dynamodb: &'static str,
    aws: TlsFront,
    bin_dir: PathBuf,
    peers: PathBuf,
    env: Vec<(String, String)>,
    memory_mb: u32,
    period_us: u64,
}

impl Launcher {
    /// The idle time before each timed request: one CFS period and a little, so the request finds
    /// its process's quota full, as a webhook does that arrives seconds after the last (a
    /// caller listens to a prompt between two). Back to back, a process at 7.2 % would spend
    /// the rest of each 20 ms period throttled and the figure would measure the quota.
    fn idle(&self) -> Duration {
        Duration::from_micros(self.period_us + 5_000)
    }

    async fn start(&self, name: &str) -> Lambda {
        let cmd = match name {
            "node-frontdoor" => {
                let mut c = Command::new(self.peers.join("node22/node"));
                c.arg(repo_root().join("infra/bench/peers/runtime.js"))
                    .arg(repo_root().join("infra/bench/peers/frontdoor.js"));
                c
            }
            "python-frontdoor" => {
                let mut c = Command::new(self.peers.join("py/bin/python"));
                c.arg(repo_root().join("infra/bench/peers/frontdoor_lambda.py"));
                c
            }
            bin => Command::new(self.bin_dir.join(bin)),
        };
        let mut env = self.env.clone();
        if name == "node-frontdoor" {
            env.push((
                "NODE_PATH".into(),
                self.peers.join("node/node_modules").display().to_string(),
            ));
        }
        let share = CpuShare::new(self.memory_mb, self.period_us).unwrap_or_else(|e| {
            panic!("cannot create a CPU cgroup ({e}): `make bench` needs root and the cgroup cpu controller")
        });
        Lambda::start(name, cmd, &env, Some(share))
            .await
            .unwrap_or_else(|e| panic!("{e}"))
    }
}

/// The call simulator's transport when every webhook is its own process: started on first use
/// (cold), kept for the next call (warm).
struct Processes<'a> {
    launcher: &'a Launcher,
    running: Mutex<HashMap<String, Lambda>>,
    steps: Mutex<Vec<Step>>,
}

impl<'a> Processes<'a> {
    fn new(launcher: &'a Launcher) -> Self {
        Self {
            launcher,
            running: Mutex::default(),
            steps: Mutex::default(),
        }
    }

    async fn take_steps(&self) -> Vec<Step> {
        std::mem::take(&mut *self.steps.lock().await)
    }

    /// Bytes logged by every process so far (after a moment for the readers to catch up).
    async fn log_bytes(&self) -> u64 {
        tokio::time::sleep(Duration::from_millis(20)).await;
        self.running
            .lock()
            .await
            .values()
            .map(Lambda::log_bytes)
            .sum()
    }
}

/// The function serving `url`'s path (`/voice-consent?lang=en` → `voice-consent`).
fn function_of(url: &str) -> (String, String) {
    let after = url.split_once("://").map_or(url, |(_, r)| r);
    let route = after[after.find('/').unwrap_or(0)..]
        .split('#')
        .next()
        .unwrap_or("")
        .to_owned();
    let path = route.split('?').next().unwrap_or("");
    let function = match path {
        "/twilio/sms" => "webcomms-sms-reply",
        "/twilio/sms-status" => "webcomms-sms-status",
        p => p.trim_start_matches('/'),
    };
    (function.to_owned(), route)
}

impl call_simulator::Transport for Processes<'_> {
    async fn post(
        &self,
        url: &str,
        params: &[(String, String)],
        signature: &str,
    ) -> call_simulator::Reply {
        let (function, route) = function_of(url);
        let mut running = self.running.lock().await;
        let mut init_ms = None;
        if !running.contains_key(&function) {
            let l = self.launcher.start(&function).await;
            init_ms = Some(ms(l.init));
            running.insert(function.clone(), l);
        }
        let lambda = running.get_mut(&function).expect("started");
        if init_ms.is_none() {
            tokio::time::sleep(self.launcher.idle()).await;
        }
        let out = lambda
            .invoke(&form_event(url, params, signature))
            .await
            .unwrap_or_else(|e| panic!("{route}: {e}"));
        self.steps.lock().await.push(Step {
            function,
            route,
            took_ms: ms(out.took),
            init_ms,
        });
        reply_of(&out.response)
    }
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn percentile(v: &[f64], p: f64) -> f64 {
    let mut v = v.to_vec();
    v.sort_by(f64::total_cmp);
    if v.is_empty() {
        return 0.0;
    }
    v[((v.len() as f64 - 1.0) * p).round() as usize]
}

/// Our frontdoor and its two peers.
const FRONTDOORS: [&str; 3] = ["voice-frontdoor", "node-frontdoor", "python-frontdoor"];

static N: AtomicU64 = AtomicU64::new(0);

/// A signed first delivery of a new call to the frontdoor (a new caller each time, so no rate
/// limit or auto-reply window is shared between samples).
fn frontdoor_event() -> Value {
    let n = N.fetch_add(1, Ordering::SeqCst);
    let url = format!("{PUBLIC_BASE_URL}/voice-frontdoor");
    let p = pairs(&[
        ("AccountSid", ACCOUNT_SID),
        ("CallSid", &format!("CA{:024x}{n:08x}", std::process::id())),
        ("From", &format!("+1202555{:04}", 1000 + n % 8000)),
        ("To", HOTLINE),
        ("CallStatus", "ringing"),
        ("Direction", "inbound"),
    ]);
    form_event(&url, &p, &sign(&url, &p))
}

async fn frontdoor(launcher: &Launcher, name: &str, runs: usize, warm: usize) -> Value {
    let (mut inits, mut firsts) = (Vec::new(), Vec::new());
    let (mut warms, mut rss, mut cpu) = (Vec::new(), 0.0, (0.0, 0.0, 0.0));
    let (mut upstream, mut twiml) = (Vec::new(), String::new());
    for run in 0..runs {
        let mut l = launcher.start(name).await;
        inits.push(ms(l.init));
        let first = l.invoke(&frontdoor_event()).await.expect("first response");
        assert_eq!(first.response["statusCode"], 200, "{name}: {first:?}");
        assert!(
            reply_of(&first.response).body.contains("<Gather"),
            "{name}: {first:?}"
        );
        firsts.push(ms(first.took));
        if run == 0 {
            twiml = reply_of(&first.response).body;
            let before = l.cpu_ms();
            cpu.0 = l.init_cpu_ms;
            cpu.2 = before - l.init_cpu_ms;
            for _ in 0..warm {
                tokio::time::sleep(launcher.idle()).await;
                launcher.aws.take_upstream_time();
                let w = l.invoke(&frontdoor_event()).await.expect("warm response");
                warms.push(ms(w.took));
                upstream.push(ms(launcher.aws.take_upstream_time()));
            }
            cpu.1 = (l.cpu_ms() - before) / warm.max(1) as f64;
            rss = l.peak_rss_mib();
        }
    }
    let colds: Vec<f64> = inits.iter().zip(&firsts).map(|(i, f)| i + f).collect();
    let size = std::fs::metadata(launcher.bin_dir.join(name)).map_or(0, |m| m.len());
    json!({
        "kind": "frontdoor", "impl": name, "memory_mb": launcher.memory_mb,
        "dynamodb": launcher.dynamodb,
        "init_ms": percentile(&inits, 0.5), "first_ms": percentile(&firsts, 0.5),
        "cold_ms": percentile(&colds, 0.5), "cold_ms_all": colds,
        "warm_p50_ms": percentile(&warms, 0.5), "warm_p99_ms": percentile(&warms, 0.99),
        "warm_aws_p50_ms": percentile(&upstream, 0.5),
        "warm_own_p50_ms": percentile(&warms.iter().zip(&upstream).map(|(w, u)| w - u).collect::<Vec<_>>(), 0.5),
        "peak_rss_mib": rss, "bootstrap_bytes": size,
        "cpu_ms_init": cpu.0, "cpu_ms_first": cpu.2, "cpu_ms_per_warm": cpu.1,
        // The first answer: run.py checks the peers answer the document ours does.
        "twiml": twiml,
    })
}

/// One standard path, played once by `t`.
async fn play_path(t: &Processes<'_>, stack: &Stack, path: &str, n: u64) -> Vec<Step> {
    match path {
        "voicemail" => {
            let mut sc = script(stack, &[Some("1"), Some("1")], "no-answer", 5);
            sc.media_base_url = t.launcher.media_url();
            let log =
                call_simulator::play_call(t, &sc, &format!("{PUBLIC_BASE_URL}/voice-frontdoor"))
                    .await;
            assert!(
                log.heard.iter().any(|h| h.contains("leave a message")),
                "{log:#?}"
            );
        }
        "ai" => {
            let mut sc = script(stack, &[Some("1")], "no-answer", 0);
            sc.to = integration_tests::relay::RELAY_NUMBER.into();
            sc.media_base_url = t.launcher.media_url();
            let log =
                call_simulator::play_call(t, &sc, &format!("{PUBLIC_BASE_URL}/voice-frontdoor"))
                    .await;
            assert!(!log.relays.is_empty(), "no ConversationRelay: {log:#?}");
        }
        _ => {
            let url = format!("{PUBLIC_BASE_URL}/webcomms-sms-reply");
            let p = pairs(&[
                ("AccountSid", ACCOUNT_SID),
                ("MessageSid", &message_sid()),
                ("From", &format!("+1303555{:04}", 1000 + n % 8000)),
                ("To", HOTLINE),
                ("Body", "Do you fix furnaces?"),
                ("NumMedia", "0"),
            ]);
            let reply = call_simulator::Transport::post(t, &url, &p, &sign(&url, &p)).await;
            assert!(reply.body.contains("<Message"), "no auto-reply: {reply:?}");
        }
    }
    t.take_steps().await
}

fn path_json(path: &str, memory: u32, mode: &str, rounds: &[Vec<Step>]) -> Value {
    let heard: Vec<f64> = rounds
        .iter()
        .map(|r| {
            r.iter()
                .filter(|s| !s.is_callback())
                .map(Step::waited_ms)
                .sum()
        })
        .collect();
    let billed: Vec<f64> = rounds
        .iter()
        .map(|r| r.iter().map(Step::billed_ms).sum())
        .collect();
    let median = rounds
        .iter()
        .zip(&heard)
        .min_by(|a, b| {
            let m = percentile(&heard, 0.5);
            (a.1 - m).abs().total_cmp(&(b.1 - m).abs())
        })
        .map(|(r, _)| r.clone())
        .unwrap_or_default();
    json!({
        "kind": "path", "path": path, "memory_mb": memory, "mode": mode,
        "heard_ms": percentile(&heard, 0.5), "heard_ms_all": heard,
        "billed_ms": percentile(&billed, 0.5),
        "invocations": median.len(),
        "steps": median.iter().map(|s| json!({
            "function": s.function, "route": s.route, "took_ms": s.took_ms,
            "init_ms": s.init_ms, "callback": s.is_callback()})).collect::<Vec<_>>(),
    })
}

/// Per-function figures from the paths' steps: cold (the request that started the process:
/// init + answer) and warm (answers of kept processes).
fn functions_json(memory: u32, cold: &[Step], warm: &[Step]) -> Vec<Value> {
    let mut names: Vec<&str> = cold.iter().map(|s| s.function.as_str()).collect();
    names.sort();
    names.dedup();
    names
        .into_iter()
        .map(|f| {
            let starts: Vec<&Step> = cold
                .iter()
                .filter(|s| s.function == f && s.init_ms.is_some())
                .collect();
            let inits: Vec<f64> = starts.iter().filter_map(|s| s.init_ms).collect();
            let firsts: Vec<f64> = starts.iter().map(|s| s.took_ms).collect();
            let colds: Vec<f64> = starts.iter().map(|s| s.waited_ms()).collect();
            let w: Vec<f64> = warm
                .iter()
                .filter(|s| s.function == f)
                .map(|s| s.took_ms)
                .collect();
            json!({
                "kind": "function", "function": f, "memory_mb": memory,
                "init_ms": percentile(&inits, 0.5), "first_ms": percentile(&firsts, 0.5),
                "cold_ms": percentile(&colds, 0.5),
                "warm_p50_ms": percentile(&w, 0.5), "warm_p99_ms": percentile(&w, 0.99),
                "warm_billed_ms": w.iter().map(|v| v.ceil()).sum::<f64>() / w.len().max(1) as f64,
                "samples": {"cold": colds.len(), "warm": w.len()},
            })
        })
        .collect()
}

impl Launcher {
    fn media_url(&self) -> String {
        self.env
            .iter()
            .find(|(k, _)| k == "TWILIO_API_BASE")
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    }
}

/// AWS usage of one call and one text, counted by a proxy in front of moto (in-process, so the
/// count does not depend on processes or timing): DynamoDB request units (on-demand: a write of
/// up to 1 KB is 1 WRU, a conditional write that fails too; an eventually consistent read of up
/// to 4 KB 0.5 RRU, a strongly consistent one 1 RRU; AWS DynamoDB Developer Guide, "Read/write
/// capacity mode"), S3 and SNS requests.
async fn usage() -> Vec<Value> {
    let proxy = CountingProxy::start(moto_endpoint()).await;
    let relay_url = format!("ws://127.0.0.1:{}/local", free_port());
    let s = stack_via(
        &[
            ("RELAY_URL", relay_url.as_str()),
            ("STREAM_SECRET", integration_tests::relay::SECRET),
        ],
        &proxy.endpoint,
    )
    .await;
    integration_tests::relay::put_relay_number(&s, "en-CA").await;
    integration_tests::relay::open_around_the_clock(&s).await;
    let mut out = Vec::new();
    for path in ["voicemail", "ai", "text"] {
        proxy.take();
        let t = InProcess(&s.deps);
        let webhooks = match path {
            "text" => {
                let url = format!("{PUBLIC_BASE_URL}/webcomms-sms-reply");
                let p = pairs(&[
                    ("AccountSid", ACCOUNT_SID),
                    ("MessageSid", &message_sid()),
                    ("From", "+13035550199"),
                    ("To", HOTLINE),
                    ("Body", "Do you fix furnaces?"),
                    ("NumMedia", "0"),
                ]);
                call_simulator::Transport::post(&t, &url, &p, &sign(&url, &p)).await;
                1
            }
            _ => {
                let mut sc = if path == "ai" {
                    script(&s, &[Some("1")], "no-answer", 0)
                } else {
                    script(&s, &[Some("1"), Some("1")], "no-answer", 5)
                };
                if path == "ai" {
                    sc.to = integration_tests::relay::RELAY_NUMBER.into();
                }
                call_simulator::play_call(&t, &sc, &format!("{PUBLIC_BASE_URL}/voice-frontdoor"))
                    .await
                    .steps
                    .len()
            }
        };
        let seen = proxy.take();
        let (mut rru, mut wru, mut s3_put, mut s3_get, mut sns, mut other) =
            (0.0, 0.0, 0, 0, 0, Vec::new());
        for r in &seen {
            let body: Value = serde_json::from_slice(&r.body).unwrap_or(Value::Null);
            let consistent = |v: &Value| v["ConsistentRead"].as_bool() == Some(true);
            let read = |v: &Value| if consistent(v) { 1.0 } else { 0.5 };
            let kb = (r.body.len() as f64 / 1024.0).ceil().max(1.0);
            match r.op.trim_start_matches("DynamoDB_20120810.") {
                "GetItem" => rru += read(&body),
                "BatchGetItem" => {
                    for t in body["RequestItems"].as_object().into_iter().flatten() {
                        rru += read(t.1) * t.1["Keys"].as_array().map_or(0, Vec::len) as f64;
                    }
                }
                "Query" | "Scan" => {
                    rru += read(&body) * (r.response_len as f64 / 4096.0).ceil().max(1.0)
                }
                "PutItem" | "UpdateItem" | "DeleteItem" => wru += kb,
                "TransactWriteItems" => {
                    wru += 2.0 * body["TransactItems"].as_array().map_or(1, Vec::len) as f64
                }
                "BatchWriteItem" => {
                    for t in body["RequestItems"].as_object().into_iter().flatten() {
                        wru += t.1.as_array().map_or(0, Vec::len) as f64;
                    }
                }
                op if op.starts_with("PUT ") => s3_put += 1,
                op if op.starts_with("GET ") || op.starts_with("HEAD ") => s3_get += 1,
                "POST /" => sns += 1,
                op => other.push(op.to_owned()),
            }
        }
        out.push(json!({
            "kind": "usage", "path": path, "webhooks": webhooks, "aws_requests": seen.len(),
            "dynamodb_rru": rru, "dynamodb_wru": wru, "s3_put": s3_put, "s3_get": s3_get,
            "sns_publish": sns, "other": other,
        }));
    }
    out
}

/// How long the stand-in itself takes to answer (moto or dynalite behind the TLS front, from this process at
/// full CPU over a kept connection): the floor under every sequential AWS wait of a webhook.
async fn standin(aws: &TlsFront, pki: &Pki, stack: &Stack, name: &str) -> Value {
    let roots = std::fs::read_to_string(&pki.aws_bundle).expect("AWS bundle");
    let sdk = telephony_aws::deps::AwsTarget {
        region: "ca-central-1".into(),
        endpoint_url: Some(aws.url.clone()),
        credentials: aws_credential_types::Credentials::new(
            "testing", "testing", None, None, "bench",
        ),
        trusted_roots: roots.into(),
    }
    .sdk_config();
    let dynamo = aws_sdk_dynamodb::Client::new(&sdk);
    let (mut gets, mut updates) = (Vec::new(), Vec::new());
    for i in 0..60 {
        let t = std::time::Instant::now();
        dynamo
            .get_item()
            .table_name(&stack.resources["NumbersTable"])
            .key(
                "e164",
                aws_sdk_dynamodb::types::AttributeValue::S(HOTLINE.into()),
            )
            .send()
            .await
            .expect("GetItem");
        gets.push(ms(t.elapsed()));
        let t = std::time::Instant::now();
        dynamo
            .update_item()
            .table_name(&stack.resources["RateLimitsTable"])
            .key(
                "pk",
                aws_sdk_dynamodb::types::AttributeValue::S(format!("standin#{i}")),
            )
            .update_expression("ADD hits :one")
            .expression_attribute_values(
                ":one",
                aws_sdk_dynamodb::types::AttributeValue::N("1".into()),
            )
            .send()
            .await
            .expect("UpdateItem");
        updates.push(ms(t.elapsed()));
    }
    json!({"kind": "standin", "dynamodb": name, "get_item_p50_ms": percentile(&gets[10..], 0.5),
           "update_item_p50_ms": percentile(&updates[10..], 0.5)})
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
    if args.iter().any(|a| a == "--usage") {
        for line in usage().await {
            println!("{line}");
        }
        return;
    }
    let memory: u32 = opt("--memory", "128").parse().expect("--memory MB");
    let period: u64 = opt("--period-us", "20000").parse().expect("--period-us");
    let runs: usize = opt("--runs", "5").parse().expect("--runs");
    let warm: usize = opt("--warm", "30").parse().expect("--warm");
    let stale = integration_tests::bench::cpu::remove_stale();
    if stale > 0 {
        eprintln!("removed {stale} cgroup(s) and certificate directories an aborted run left");
    }
    let share = CpuShare::new(memory, period).unwrap_or_else(|e| {
        panic!("cannot create a CPU cgroup ({e}): `make bench` needs root and the cgroup cpu controller")
    });
    eprintln!(
        "memory {memory} MB: {:.1} % of one core ({} µs per {period} µs), a cgroup per process",
        share.fraction * 100.0,
        (share.fraction * period as f64).round(),
    );
    drop(share);

    let stack = stack(&[]).await;
    integration_tests::relay::put_relay_number(&stack, "en-CA").await;
    integration_tests::relay::open_around_the_clock(&stack).await;
    let dir = std::env::temp_dir().join(format!("tradeline-bench-pki-{}", std::process::id()));
    let pki = Pki::generate(&dir).expect("certificates (openssl)");
    let aws = TlsFront::start(&pki, moto_endpoint())
        .await
        .expect("TLS front for moto");
    let media = TlsFront::start(&pki, &stack.media.base_url)
        .await
        .expect("TLS front for media");
    let mut env: Vec<(String, String)> = stack_env(&stack)
        .into_iter()
        .filter(|(k, _)| {
            !["AWS_ENDPOINT_URL", "TWILIO_API_BASE", "RATE_LIMITS"].contains(&k.as_str())
        })
        .collect();
    env.extend(pki.trust_env());
    env.extend([
        ("AWS_ENDPOINT_URL".to_owned(), aws.url.clone()),
        ("TWILIO_API_BASE".to_owned(), media.url.clone()),
        ("RATE_LIMITS".to_owned(), "100000/60".to_owned()),
        (
            "STREAM_SECRET".to_owned(),
            integration_tests::relay::SECRET.to_owned(),
        ),
        // The relay's socket is not part of these paths: the simulator's connection is refused
        // at once and the call goes on as Twilio's would (to the relay's action URL).
        (
            "RELAY_URL".to_owned(),
            format!("ws://127.0.0.1:{}/local", free_port()),
        ),
        ("RUST_LOG".to_owned(), "info".to_owned()),
    ]);
    let launcher = Launcher {
        dynamodb: "moto",
        aws: aws.clone(),
        bin_dir: PathBuf::from(opt("--bin-dir", "target/release")),
        peers: PathBuf::from(opt("--peers", ".local/bench")),
        env,
        memory_mb: memory,
        period_us: period,
    };

    println!("{}", standin(&aws, &pki, &stack, "moto").await);
    for name in FRONTDOORS {
        println!("{}", frontdoor(&launcher, name, runs, warm).await);
    }
    // The same frontdoor runs with DynamoDB on dynalite ([`integration_tests::bench::dynalite`]):
    // the frontdoor reaches no other AWS service.
    let dynalite = Dynalite::start(
        &launcher.peers.join("node22/node"),
        &launcher.peers.join("node/node_modules"),
    )
    .await
    .unwrap_or_else(|e| panic!("dynalite ({e}): run `make bench`, which installs it"));
    let tables: Vec<String> = stack
        .resources
        .iter()
        .filter(|(logical, _)| logical.ends_with("Table"))
        .map(|(_, name)| name.clone())
        .collect();
    copy_tables(
        &aws_sdk_dynamodb::Client::new(&sdk_config(moto_endpoint()).await),
        &aws_sdk_dynamodb::Client::new(&sdk_config(&dynalite.endpoint).await),
        &tables,
    )
    .await
    .expect("tables copied to dynalite");
    let fast = TlsFront::start(&pki, &dynalite.endpoint)
        .await
        .expect("TLS front for dynalite");
    let mut on_dynalite = launcher.clone();
    on_dynalite.dynamodb = "dynalite";
    on_dynalite.aws = fast.clone();
    for (k, v) in &mut on_dynalite.env {
        if k == "AWS_ENDPOINT_URL" {
            v.clone_from(&fast.url);
        }
    }
    println!("{}", standin(&fast, &pki, &stack, "dynalite").await);
    for name in FRONTDOORS {
        println!("{}", frontdoor(&on_dynalite, name, runs, warm).await);
    }
    drop(dynalite);

    let (mut all_cold, mut all_warm) = (Vec::new(), Vec::new());
    let mut n = 0;
    for path in ["voicemail", "ai", "text"] {
        let (mut cold, mut logged) = (Vec::new(), Vec::new());
        for _ in 0..runs {
            let t = Processes::new(&launcher);
            n += 1;
            cold.push(play_path(&t, &stack, path, n).await);
            logged.push(t.log_bytes().await as f64);
        }
        let t = Processes::new(&launcher);
        n += 1;
        play_path(&t, &stack, path, n).await;
        let mut warm_rounds = Vec::new();
        for _ in 0..warm.min(20) {
            n += 1;
            warm_rounds.push(play_path(&t, &stack, path, n).await);
        }
        let mut cold_json = path_json(path, memory, "cold", &cold);
        cold_json["log_bytes"] = json!(percentile(&logged, 0.5));
        println!("{cold_json}");
        println!("{}", path_json(path, memory, "warm", &warm_rounds));
        all_cold.extend(cold.into_iter().flatten());
        all_warm.extend(warm_rounds.into_iter().flatten());
    }
    for f in functions_json(memory, &all_cold, &all_warm) {
        println!("{f}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}
