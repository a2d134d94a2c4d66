//! One function as Lambda runs it: a process started under a Runtime API emulator
//! ([`lambda_emulator`]), in a CPU share, with its init and each invocation timed.

use super::cpu::CpuShare;
use lambda_emulator::{lambda_env, Outcome, RuntimeApi};
use serde_json::{json, Value};
use std::io::{Read, Write};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// How long a process may take to ask for its first event, or to answer one.
pub const DEADLINE: Duration = Duration::from_secs(30);

/// A started function process.
pub struct Lambda {
    /// Its name (the function or peer).
    pub name: String,
    api: RuntimeApi,
    child: Child,
    /// Exec → its first `GET /runtime/invocation/next`: Lambda's init phase.
    pub init: Duration,
    /// Invocations answered so far.
    pub invocations: u64,
    logged: std::sync::Arc<std::sync::atomic::AtomicU64>,
    _share: Option<CpuShare>,
    /// CPU used by the init, ms ([`Lambda::cpu_ms`] when the first event was asked for).
    pub init_cpu_ms: f64,
}

/// One invocation: its answer and how long it took (event queued → response posted).
#[derive(Debug, Clone)]
pub struct Invoked {
    /// The API Gateway (HTTP API, payload 2.0) response document.
    pub response: Value,
    /// Event → response.
    pub took: Duration,
}

impl Lambda {
    /// Starts `cmd` (its program and arguments set; the environment is cleared and replaced by
    /// Lambda's variables for `name` plus `env`), confined to `share` (its own cgroup, removed
    /// with the process), and waits for its init.
    ///
    /// Errors: the process could not start, or never asked for an event (its init error, if it
    /// reported one).
    pub async fn start(
        name: &str,
        mut cmd: Command,
        env: &[(String, String)],
        share: Option<CpuShare>,
    ) -> Result<Self, String> {
        let api = RuntimeApi::start().await.map_err(|e| e.to_string())?;
        let mut vars = lambda_env(&api, name);
        if let Some(s) = &share {
            vars.retain(|(k, _)| k != "AWS_LAMBDA_FUNCTION_MEMORY_SIZE");
            vars.push((
                "AWS_LAMBDA_FUNCTION_MEMORY_SIZE".into(),
                s.memory_mb.to_string(),
            ));
            s.confine(&mut cmd);
        }
        cmd.env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .envs(vars)
            .envs(env.iter().cloned())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        // `spawn` returns once the child has exec'd (std waits for the exec through a close-on-
        // exec pipe), so the init is timed from the exec, not from the harness's fork.
        let mut child = cmd.spawn().map_err(|e| format!("start {name}: {e}"))?;
        let started = Instant::now();
        let logged = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
        let echo = std::env::var_os("BENCH_LOGS").is_some();
        let out: [Box<dyn std::io::Read + Send>; 2] = [
            Box::new(child.stdout.take().expect("piped stdout")),
            Box::new(child.stderr.take().expect("piped stderr")),
        ];
        for mut stream in out {
            let logged = logged.clone();
            std::thread::spawn(move || {
                let mut buf = [0u8; 8192];
                while let Ok(n) = stream.read(&mut buf) {
                    if n == 0 {
                        break;
                    }
                    if echo {
                        let _ = std::io::stderr().write_all(&buf[..n]);
                    }
                    logged.fetch_add(n as u64, std::sync::atomic::Ordering::Relaxed);
                }
            });
        }
        let Some(ready) = api.wait_ready(DEADLINE).await else {
            return Err(format!("{name} never polled: {:?}", api.init_error()));
        };
        let init_cpu_ms = 0.0;
        let mut me = Self {
            name: name.to_owned(),
            api,
            child,
            init: ready - started,
            invocations: 0,
            logged,
            init_cpu_ms,
            _share: share,
        };
        me.init_cpu_ms = me.cpu_ms();
        Ok(me)
    }

    /// Invokes the function with `event`.
    ///
    /// Errors: no answer within [`DEADLINE`], or the function reported an invocation error.
    pub async fn invoke(&mut self, event: &Value) -> Result<Invoked, String> {
        let t = Instant::now();
        let out = self.api.invoke(event, DEADLINE).await;
        let took = t.elapsed();
        self.invocations += 1;
        match out {
            Some(Outcome::Response(response)) => Ok(Invoked { response, took }),
            Some(Outcome::Error(e)) => Err(format!("{}: {e}", self.name)),
            None => Err(format!("{}: no answer", self.name)),
        }
    }

    /// Bytes the process has written to stdout and stderr (what Lambda sends to CloudWatch Logs,
    /// before its own START/END/REPORT lines).
    pub fn log_bytes(&self) -> u64 {
        self.logged.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// CPU time the process has used so far (all its threads, alive ones: `/proc/PID/task/*/
    /// schedstat`, nanoseconds on a CPU), ms.
    pub fn cpu_ms(&self) -> f64 {
        let dir = format!("/proc/{}/task", self.child.id());
        let ns: u64 = std::fs::read_dir(dir)
            .into_iter()
            .flatten()
            .flatten()
            .filter_map(|t| std::fs::read_to_string(t.path().join("schedstat")).ok())
            .filter_map(|s| s.split_whitespace().next()?.parse::<u64>().ok())
            .sum();
        ns as f64 / 1e6
    }

    /// Peak resident memory so far (`VmHWM`), MiB.
    pub fn peak_rss_mib(&self) -> f64 {
        std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))
            .unwrap_or_default()
            .lines()
            .find_map(|l| l.strip_prefix("VmHWM:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
            .map_or(0.0, |kib| kib / 1024.0)
    }
}

impl Drop for Lambda {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The API Gateway HTTP API (payload 2.0) event of Twilio's signed form POST to `url`
/// (`https://host/path?query`), as `template.yaml`'s routes deliver it.
pub fn form_event(url: &str, params: &[(String, String)], signature: &str) -> Value {
    let after_scheme = url.split_once("://").map_or(url, |(_, rest)| rest);
    let target = &after_scheme[after_scheme.find('/').unwrap_or(after_scheme.len())..];
    let target = target.split('#').next().unwrap_or("");
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    let host = &after_scheme[..after_scheme.find('/').unwrap_or(after_scheme.len())];
    let qs: serde_json::Map<String, Value> = url::form_urlencoded::parse(query.as_bytes())
        .map(|(k, v)| (k.into_owned(), Value::String(v.into_owned())))
        .collect();
    let mut event = json!({
        "version": "2.0", "routeKey": "$default", "rawPath": path, "rawQueryString": query,
        "headers": {"host": host, "content-type": "application/x-www-form-urlencoded",
                    "x-twilio-signature": signature, "user-agent": "TwilioProxy/1.1"},
        "requestContext": {"accountId": "123456789012", "apiId": "bench", "domainName": host,
            "http": {"method": "POST", "path": path, "protocol": "HTTP/1.1",
                     "sourceIp": "198.51.100.7", "userAgent": "TwilioProxy/1.1"},
            "requestId": "r", "routeKey": "$default", "stage": "$default",
            "time": "03/Dec/2026:12:00:00 +0000", "timeEpoch": 0},
        "body": call_simulator::encode_form(params), "isBase64Encoded": false
    });
    if !qs.is_empty() {
        event["queryStringParameters"] = Value::Object(qs);
    }
    event
}

/// The status and body of an API Gateway response document.
pub fn reply_of(response: &Value) -> call_simulator::Reply {
    let body = response["body"].as_str().unwrap_or_default();
    let body = if response["isBase64Encoded"].as_bool() == Some(true) {
        use base64::Engine;
        base64::engine::general_purpose::STANDARD
            .decode(body)
            .map(|b| String::from_utf8_lossy(&b).into_owned())
            .unwrap_or_default()
    } else {
        body.to_owned()
    };
    call_simulator::Reply {
        status: response["statusCode"].as_u64().unwrap_or(0) as u16,
        body,
    }
}
