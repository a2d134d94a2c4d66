//! A minimal AWS Lambda Runtime API, so tests and benchmarks can run a function's real bootstrap
//! (its `main`, the `lambda_runtime` loop and our glue) instead of calling the handler in-process.
//!
//! Implements what a custom runtime uses (AWS "Using the Lambda runtime API for custom runtimes",
//! API version `2018-06-01`):
//! `GET /runtime/invocation/next` (long-polls until an event is queued; answers with the event and
//! the `Lambda-Runtime-Aws-Request-Id`, `Lambda-Runtime-Deadline-Ms`,
//! `Lambda-Runtime-Invoked-Function-Arn` and `Lambda-Runtime-Trace-Id` headers),
//! `POST /runtime/invocation/{id}/response`, `POST /runtime/invocation/{id}/error` and
//! `POST /runtime/init/error`. HTTP/1.1 with keep-alive and `Content-Length` bodies, which is what
//! the runtime client sends.

use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{oneshot, Notify};

const PREFIX: &str = "/2018-06-01/runtime";

/// What the function answered for one invocation.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// `POST …/response`: the result JSON.
    Response(serde_json::Value),
    /// `POST …/error`: the error document (as text).
    Error(String),
}

#[derive(Default)]
struct State {
    queue: VecDeque<(String, Vec<u8>)>,
    waiting: HashMap<String, oneshot::Sender<Outcome>>,
    first_next: Option<Instant>,
    init_error: Option<String>,
    next_id: u64,
}

/// A running Runtime API on 127.0.0.1 (an ephemeral port); stops with the process.
#[derive(Clone)]
pub struct RuntimeApi {
    addr: SocketAddr,
    state: Arc<Mutex<State>>,
    queued: Arc<Notify>,
    polled: Arc<Notify>,
}

impl RuntimeApi {
    /// Starts the API on an ephemeral 127.0.0.1 port.
    ///
    /// Errors: the listener could not be bound.
    pub async fn start() -> std::io::Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let api = Self {
            addr: listener.local_addr()?,
            state: Arc::default(),
            queued: Arc::default(),
            polled: Arc::default(),
        };
        let server = api.clone();
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let api = server.clone();
                tokio::spawn(async move {
                    let _ = api.serve(stream).await;
                });
            }
        });
        Ok(api)
    }

    /// The value for `AWS_LAMBDA_RUNTIME_API` (`127.0.0.1:<port>`).
    pub fn endpoint(&self) -> String {
        self.addr.to_string()
    }

    /// When the function first asked for an event (`GET /next`): the end of its init.
    pub fn first_next_at(&self) -> Option<Instant> {
        self.lock().first_next
    }

    /// Waits until the function first asks for an event, at most `timeout`; returns when it did.
    pub async fn wait_ready(&self, timeout: Duration) -> Option<Instant> {
        let deadline = Instant::now() + timeout;
        loop {
            let notified = self.polled.notified();
            if let Some(t) = self.first_next_at() {
                return Some(t);
            }
            let left = deadline.checked_duration_since(Instant::now())?;
            let _ = tokio::time::timeout(left, notified).await;
        }
    }

    /// The init error the function reported, if any.
    pub fn init_error(&self) -> Option<String> {
        self.lock().init_error.clone()
    }

    /// Queues `event` and waits (at most `timeout`) for the function's answer.
    ///
    /// Errors: `None` when nothing came back in time (the process died or hung).
    pub async fn invoke(&self, event: &serde_json::Value, timeout: Duration) -> Option<Outcome> {
        let (tx, rx) = oneshot::channel();
        {
            let mut st = self.lock();
            st.next_id += 1;
            let id = format!("req-{:08}", st.next_id);
            st.waiting.insert(id.clone(), tx);
            st.queue.push_back((id, event.to_string().into_bytes()));
        }
        self.queued.notify_waiters();
        self.queued.notify_one();
        tokio::time::timeout(timeout, rx).await.ok()?.ok()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    async fn next_event(&self) -> (String, Vec<u8>) {
        loop {
            let notified = self.queued.notified();
            if let Some(ev) = self.lock().queue.pop_front() {
                return ev;
            }
            notified.await;
        }
    }

    async fn serve(&self, stream: TcpStream) -> std::io::Result<()> {
        let mut reader = BufReader::new(stream);
        loop {
            let mut line = String::new();
            if reader.read_line(&mut line).await? == 0 {
                return Ok(());
            }
            let mut parts = line.split_whitespace();
            let (method, path) = (
                parts.next().unwrap_or("").to_owned(),
                parts.next().unwrap_or("").to_owned(),
            );
            let mut length = 0usize;
            loop {
                let mut h = String::new();
                if reader.read_line(&mut h).await? == 0 {
                    return Ok(());
                }
                let h = h.trim_end();
                if h.is_empty() {
                    break;
                }
                if let Some((k, v)) = h.split_once(':') {
                    if k.eq_ignore_ascii_case("content-length") {
                        length = v.trim().parse().unwrap_or(0);
                    }
                }
            }
            let mut body = vec![0; length];
            reader.read_exact(&mut body).await?;
            let reply = self.route(&method, &path, body).await;
            reader.get_mut().write_all(&reply).await?;
        }
    }

    async fn route(&self, method: &str, path: &str, body: Vec<u8>) -> Vec<u8> {
        let rest = path.strip_prefix(PREFIX).unwrap_or("");
        match (method, rest) {
            ("GET", "/invocation/next") => {
                {
                    let mut st = self.lock();
                    if st.first_next.is_none() {
                        st.first_next = Some(Instant::now());
                    }
                }
                self.polled.notify_waiters();
                let (id, event) = self.next_event().await;
                let deadline = SystemTime::now()
                    .duration_since(UNIX_EPOCH)
                    .map(|d| d.as_millis() + 60_000)
                    .unwrap_or(0);
                let head = format!(
                    "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n\
                     Lambda-Runtime-Aws-Request-Id: {id}\r\n\
                     Lambda-Runtime-Deadline-Ms: {deadline}\r\n\
                     Lambda-Runtime-Invoked-Function-Arn: arn:aws:lambda:ca-central-1:123456789012:function:local\r\n\
                     Lambda-Runtime-Trace-Id: Root=1-00000000-000000000000000000000000;Sampled=0\r\n\
                     Content-Length: {}\r\n\r\n",
                    event.len()
                );
                let mut out = head.into_bytes();
                out.extend_from_slice(&event);
                out
            }
            ("POST", "/init/error") => {
                self.lock().init_error = Some(String::from_utf8_lossy(&body).into_owned());
                accepted()
            }
            ("POST", r) if r.starts_with("/invocation/") => {
                let tail = &r["/invocation/".len()..];
                let (id, kind) = tail.split_once('/').unwrap_or((tail, ""));
                let outcome = match kind {
                    "response" => Outcome::Response(
                        serde_json::from_slice(&body).unwrap_or(serde_json::Value::Null),
                    ),
                    _ => Outcome::Error(String::from_utf8_lossy(&body).into_owned()),
                };
                if let Some(tx) = self.lock().waiting.remove(id) {
                    let _ = tx.send(outcome);
                }
                accepted()
            }
            _ => b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n".to_vec(),
        }
    }
}

fn accepted() -> Vec<u8> {
    b"HTTP/1.1 202 Accepted\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}"
        .to_vec()
}

/// The environment a function process needs to run its loop against `api` (the variables Lambda
/// sets for a custom runtime), plus `AWS_REGION` and static credentials.
pub fn lambda_env(api: &RuntimeApi, function: &str) -> Vec<(String, String)> {
    [
        ("AWS_LAMBDA_RUNTIME_API", api.endpoint()),
        ("AWS_LAMBDA_FUNCTION_NAME", function.to_owned()),
        ("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128".into()),
        ("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST".into()),
        ("AWS_LAMBDA_LOG_STREAM_NAME", "local".into()),
        (
            "AWS_LAMBDA_LOG_GROUP_NAME",
            format!("/aws/lambda/{function}"),
        ),
        ("AWS_REGION", "ca-central-1".into()),
        ("AWS_ACCESS_KEY_ID", "testing".into()),
        ("AWS_SECRET_ACCESS_KEY", "testing".into()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect()
}
