//! API Gateway's WebSocket API, locally. The socket's handshake is read before it is accepted, so
//! `$connect` can refuse it (403, as API Gateway answers when the route returns non-2xx); every
//! text frame invokes `$default` in its own task (API Gateway does not serialise one
//! connection's messages); the close invokes `$disconnect`. The Management API
//! (`POST|DELETE|GET [/<stage>]/@connections/{id}`) is served on a second port.
//!
//! Event shape (AWS "WebSocket API integration requests"): `requestContext` with `routeKey`,
//! `eventType` (`CONNECT`/`MESSAGE`/`DISCONNECT`), `connectionId`, `domainName`, `stage`,
//! `apiId`, `requestTimeEpoch`; `headers` and `multiValueHeaders` on `$connect`; `body` and
//! `isBase64Encoded` on messages.

use crate::http_lite::{read_request, response};
use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use std::collections::HashMap;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use tokio::io::{AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::Message;

/// Invokes the function of a route (`$connect`, `$default`, `$disconnect`) with an event and
/// returns the `statusCode` it answered (`None`: the invocation failed).
pub type Invoke = Arc<
    dyn Fn(&'static str, Value) -> Pin<Box<dyn Future<Output = Option<u16>> + Send>> + Send + Sync,
>;

/// The function serving each route in this project.
pub const ROUTE_FUNCTIONS: [(&str, &str); 3] = [
    ("$connect", "voice-relay-connect"),
    ("$default", "voice-relay-message"),
    ("$disconnect", "voice-relay-disconnect"),
];

/// An [`Invoke`] through the Lambda Invoke API (`POST {base}/2015-03-31/functions/{name}/invocations`,
/// what `cargo lambda watch` serves).
pub fn http_invoker(base: &str) -> Invoke {
    let base = base.trim_end_matches('/').to_owned();
    let client = reqwest::Client::new();
    Arc::new(move |route, event| {
        let name = ROUTE_FUNCTIONS
            .iter()
            .find(|(r, _)| *r == route)
            .map_or("voice-relay-message", |(_, f)| *f);
        let url = format!("{base}/2015-03-31/functions/{name}/invocations");
        let client = client.clone();
        Box::pin(async move {
            let resp = client.post(url).json(&event).send().await.ok()?;
            let v: Value = resp.json().await.ok()?;
            v["statusCode"].as_u64().map(|s| s as u16)
        })
    })
}

/// `%XX` escapes decoded (the SDK escapes the `=` of connection ids in the path).
fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' && i + 2 < b.len() {
            if let Ok(v) = u8::from_str_radix(&s[i + 1..i + 3], 16) {
                out.push(v);
                i += 3;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

type Conns = Arc<Mutex<HashMap<String, mpsc::UnboundedSender<Message>>>>;

/// A running gateway.
#[derive(Clone)]
pub struct Gateway {
    /// The WebSocket address (`ws://{ws_addr}/{stage}` is the relay URL).
    pub ws_addr: SocketAddr,
    /// The Management API address (`http://{management_addr}/{stage}` is `RELAY_MANAGEMENT_URL`).
    pub management_addr: SocketAddr,
    conns: Conns,
    log: Arc<Mutex<Vec<(String, Value)>>>,
}

static NEXT_CONN: AtomicU64 = AtomicU64::new(1);

impl Gateway {
    /// Starts both listeners (`ws_port`/`management_port` 0 → ephemeral) with the stage name
    /// `stage` in the events.
    ///
    /// Errors: a port could not be bound.
    pub async fn start(
        ws_port: u16,
        management_port: u16,
        stage: &str,
        invoke: Invoke,
    ) -> std::io::Result<Self> {
        let ws = TcpListener::bind(("127.0.0.1", ws_port)).await?;
        let mgmt = TcpListener::bind(("127.0.0.1", management_port)).await?;
        let gw = Self {
            ws_addr: ws.local_addr()?,
            management_addr: mgmt.local_addr()?,
            conns: Arc::default(),
            log: Arc::default(),
        };
        let stage = stage.to_owned();
        let g = gw.clone();
        tokio::spawn(async move {
            while let Ok((stream, _)) = ws.accept().await {
                let (g, invoke, stage) = (g.clone(), invoke.clone(), stage.clone());
                tokio::spawn(async move { g.serve_socket(stream, invoke, &stage).await });
            }
        });
        let g = gw.clone();
        tokio::spawn(async move {
            while let Ok((stream, _)) = mgmt.accept().await {
                let g = g.clone();
                tokio::spawn(async move { g.serve_management(stream).await });
            }
        });
        Ok(gw)
    }

    /// Every message the functions sent through `@connections`: (connection id, JSON).
    pub fn sent(&self) -> Vec<(String, Value)> {
        self.log.lock().map(|l| l.clone()).unwrap_or_default()
    }

    fn context(&self, route: &str, event_type: &str, conn: &str, stage: &str) -> Value {
        json!({
            "routeKey": route,
            "eventType": event_type,
            "connectionId": conn,
            "domainName": self.ws_addr.to_string(),
            "stage": stage,
            "apiId": "local",
            "requestTimeEpoch": chrono::Utc::now().timestamp_millis(),
        })
    }

    async fn serve_socket(&self, stream: TcpStream, invoke: Invoke, stage: &str) {
        // Read the handshake without consuming it, for `$connect`.
        let mut buf = vec![0u8; 8192];
        let head = loop {
            let Ok(n) = stream.peek(&mut buf).await else {
                return;
            };
            let text = String::from_utf8_lossy(&buf[..n]).into_owned();
            if text.contains("\r\n\r\n") || n == buf.len() {
                break text;
            }
            tokio::time::sleep(std::time::Duration::from_millis(2)).await;
        };
        let headers: serde_json::Map<String, Value> = head
            .lines()
            .skip(1)
            .take_while(|l| !l.is_empty())
            .filter_map(|l| l.split_once(':'))
            .map(|(k, v)| (k.trim().to_owned(), Value::String(v.trim().to_owned())))
            .collect();
        let conn = format!("local{:012}=", NEXT_CONN.fetch_add(1, Ordering::SeqCst));
        let event = json!({
            "requestContext": self.context("$connect", "CONNECT", &conn, stage),
            "headers": headers,
            "isBase64Encoded": false,
        });
        let status = invoke("$connect", event).await.unwrap_or(502);
        if !(200..300).contains(&status) {
            let mut s = stream;
            let _ = s.write_all(format!("HTTP/1.1 {status} Refused\r\nContent-Length: 0\r\nConnection: close\r\n\r\n").as_bytes()).await;
            return;
        }
        let Ok(ws) = tokio_tungstenite::accept_async(stream).await else {
            return;
        };
        let (mut sink, mut source) = ws.split();
        let (tx, mut rx) = mpsc::unbounded_channel::<Message>();
        if let Ok(mut c) = self.conns.lock() {
            c.insert(conn.clone(), tx);
        }
        let writer = tokio::spawn(async move {
            while let Some(m) = rx.recv().await {
                let close = matches!(m, Message::Close(_));
                if sink.send(m).await.is_err() || close {
                    break;
                }
            }
            let _ = sink.close().await;
        });
        while let Some(Ok(frame)) = source.next().await {
            let text = match frame {
                Message::Text(t) => t.to_string(),
                Message::Close(_) => break,
                _ => continue,
            };
            let event = json!({
                "requestContext": self.context("$default", "MESSAGE", &conn, stage),
                "body": text,
                "isBase64Encoded": false,
            });
            let invoke = invoke.clone();
            tokio::spawn(async move { invoke("$default", event).await });
        }
        if let Ok(mut c) = self.conns.lock() {
            c.remove(&conn);
        }
        writer.abort();
        let event =
            json!({ "requestContext": self.context("$disconnect", "DISCONNECT", &conn, stage) });
        invoke("$disconnect", event).await;
    }

    async fn serve_management(&self, stream: TcpStream) {
        let (r, mut w) = stream.into_split();
        let mut r = BufReader::new(r);
        while let Some(req) = read_request(&mut r).await {
            let id = req
                .path
                .rsplit_once("/@connections/")
                .map(|(_, id)| percent_decode(id));
            let tx = id
                .as_ref()
                .and_then(|id| self.conns.lock().ok()?.get(id).cloned());
            let reply = match (req.method.as_str(), id, tx) {
                (_, None, _) => response(
                    404,
                    "Not Found",
                    "application/json",
                    b"{\"message\":\"Not Found\"}",
                ),
                (_, Some(_), None) => response(
                    410,
                    "Gone",
                    "application/json",
                    b"{\"message\":\"GoneException\"}",
                ),
                ("POST", Some(id), Some(tx)) => {
                    let text = String::from_utf8_lossy(&req.body).into_owned();
                    if let Ok(mut l) = self.log.lock() {
                        l.push((
                            id,
                            serde_json::from_str(&text).unwrap_or(Value::String(text.clone())),
                        ));
                    }
                    let _ = tx.send(Message::Text(text.into()));
                    response(200, "OK", "application/json", b"{}")
                }
                ("DELETE", Some(id), Some(tx)) => {
                    let _ = tx.send(Message::Close(None));
                    if let Ok(mut c) = self.conns.lock() {
                        c.remove(&id);
                    }
                    response(204, "No Content", "application/json", b"")
                }
                ("GET", Some(_), Some(_)) => {
                    response(200, "OK", "application/json", b"{\"identity\":{}}")
                }
                _ => response(405, "Method Not Allowed", "application/json", b"{}"),
            };
            if w.write_all(&reply).await.is_err() {
                return;
            }
        }
    }
}
