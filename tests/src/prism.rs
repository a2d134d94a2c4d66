//! The Prism mock server (`@stoplight/prism-cli`, installed into `.local/prism` by `make test`)
//! on one of Twilio's vendored OpenAPI documents (`infra/twilio-oai/`): it answers each request
//! with the specification's example or a response generated from its schema, and 422 to any
//! request the specification does not allow (wrong path, method, parameter name or value, missing
//! auth). One server per document per test process, stopped when the process ends.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::{Mutex, OnceLock};

/// A running Prism server.
pub struct Prism {
    /// `http://127.0.0.1:PORT`.
    pub base_url: String,
    /// Prism's log lines (one per request: method, path, and any violation).
    pub log: std::sync::Arc<Mutex<Vec<String>>>,
    // Holds the wrapper's stdin open: when this process ends, the pipe closes and the wrapper
    // kills Prism.
    _guard: std::process::ChildStdin,
    _wrapper: std::process::Child,
}

fn start(spec: &str) -> Prism {
    let root = crate::repo_root();
    let bin = root.join(".local/prism/node_modules/.bin/prism");
    assert!(
        bin.exists(),
        "Prism is not installed at {}: run `make test` (it installs it) or `make prism`",
        bin.display()
    );
    let port = crate::free_port();
    let spec_path = root.join("infra/twilio-oai").join(spec);
    // `read` returns when our end of stdin closes (this test process ended), then Prism is
    // killed: no server outlives the tests.
    let script = format!(
        "'{}' mock -h 127.0.0.1 -p {port} '{}' 2>&1 & P=$!; read _; kill $P",
        bin.display(),
        spec_path.display()
    );
    let mut child = Command::new("sh")
        .arg("-c")
        .arg(script)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("start prism");
    let stdout = child.stdout.take().expect("prism stdout");
    let guard = child.stdin.take().expect("prism stdin");
    let log = std::sync::Arc::new(Mutex::new(Vec::new()));
    let (tx, rx) = std::sync::mpsc::channel();
    let sink = log.clone();
    std::thread::spawn(move || {
        let mut ready = Some(tx);
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if line.contains("Prism is listening") {
                if let Some(tx) = ready.take() {
                    let _ = tx.send(());
                }
            }
            if let Ok(mut l) = sink.lock() {
                l.push(line);
            }
        }
    });
    rx.recv_timeout(std::time::Duration::from_secs(120))
        .unwrap_or_else(|_| panic!("Prism did not start on {spec} within 120 s"));
    Prism {
        base_url: format!("http://127.0.0.1:{port}"),
        log,
        _guard: guard,
        _wrapper: child,
    }
}

/// Prism on `twilio_api_v2010.json` (api.twilio.com), shared by the tests of this process.
pub fn api_v2010() -> &'static Prism {
    static P: OnceLock<Prism> = OnceLock::new();
    P.get_or_init(|| start("twilio_api_v2010.json"))
}

/// Prism on `twilio_messaging_v1.json` (messaging.twilio.com).
pub fn messaging_v1() -> &'static Prism {
    static P: OnceLock<Prism> = OnceLock::new();
    P.get_or_init(|| start("twilio_messaging_v1.json"))
}

/// Prism on `twilio_numbers_v1.json` (numbers.twilio.com: porting).
pub fn numbers_v1() -> &'static Prism {
    static P: OnceLock<Prism> = OnceLock::new();
    P.get_or_init(|| start("twilio_numbers_v1.json"))
}

/// Prism on `twilio_numbers_v2.json` (numbers.twilio.com: hosted numbers).
pub fn numbers_v2() -> &'static Prism {
    static P: OnceLock<Prism> = OnceLock::new();
    P.get_or_init(|| start("twilio_numbers_v2.json"))
}
