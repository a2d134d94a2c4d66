//! A TCP proxy in front of moto that can be taken down and brought back: while down it refuses
//! every new connection and cuts the open ones, so the functions see AWS as unreachable, exactly
//! as during a regional outage; moto's state survives (restarting moto would wipe it).

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::AbortHandle;

/// A running proxy on 127.0.0.1.
#[derive(Clone)]
pub struct OutageProxy {
    /// `http://127.0.0.1:PORT`: use it as the AWS endpoint.
    pub endpoint: String,
    down: Arc<AtomicBool>,
    open: Arc<Mutex<Vec<AbortHandle>>>,
    refused: Arc<AtomicUsize>,
}

impl OutageProxy {
    /// Starts a proxy forwarding to `target` (`http://host:port`).
    pub async fn start(target: &str) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind proxy");
        let endpoint = format!("http://{}", listener.local_addr().expect("proxy address"));
        let upstream = target.trim_start_matches("http://").to_owned();
        let proxy = Self {
            endpoint,
            down: Arc::default(),
            open: Arc::default(),
            refused: Arc::default(),
        };
        let p = proxy.clone();
        tokio::spawn(async move {
            while let Ok((mut client, _)) = listener.accept().await {
                if p.down.load(Ordering::SeqCst) {
                    p.refused.fetch_add(1, Ordering::SeqCst);
                    drop(client);
                    continue;
                }
                let upstream = upstream.clone();
                let task = tokio::spawn(async move {
                    if let Ok(mut server) = TcpStream::connect(&upstream).await {
                        let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
                    }
                });
                if let Ok(mut open) = p.open.lock() {
                    open.retain(|h| !h.is_finished());
                    open.push(task.abort_handle());
                }
            }
        });
        proxy
    }

    /// Takes AWS down (every open connection is cut) or brings it back.
    pub fn set_down(&self, down: bool) {
        self.down.store(down, Ordering::SeqCst);
        if down {
            if let Ok(mut open) = self.open.lock() {
                for h in open.drain(..) {
                    h.abort();
                }
            }
        }
    }

    /// Connections refused while down.
    pub fn refused(&self) -> usize {
        self.refused.load(Ordering::SeqCst)
    }
}

/// One AWS request seen by a [`CountingProxy`]: what it was and when it ran.
#[derive(Debug, Clone)]
pub struct Seen {
    /// `X-Amz-Target` (DynamoDB: `DynamoDB_20120810.GetItem`), else `METHOD /path` (S3), or the
    /// form's `Action` is not read: SNS shows as `POST /`.
    pub op: String,
    /// Start, since the proxy started.
    pub start: std::time::Duration,
    /// End (response fully read).
    pub end: std::time::Duration,
    /// The request body (DynamoDB's JSON, for counting request units).
    pub body: Vec<u8>,
    /// Bytes of the response body.
    pub response_len: usize,
}

/// An HTTP/1.1 proxy in front of moto that records every request (operation, start, end), so
/// tests can count the AWS requests a webhook makes and its *sequential waits*: requests that
/// overlap in time are one wait (they were awaited together).
#[derive(Clone)]
pub struct CountingProxy {
    /// `http://127.0.0.1:PORT`: use it as the AWS endpoint.
    pub endpoint: String,
    seen: Arc<Mutex<Vec<Seen>>>,
}

impl CountingProxy {
    /// Starts a proxy forwarding to `target` (`http://host:port`).
    pub async fn start(target: &str) -> Self {
        use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind proxy");
        let proxy = Self {
            endpoint: format!("http://{}", listener.local_addr().expect("proxy address")),
            seen: Arc::default(),
        };
        let (seen, upstream) = (proxy.seen.clone(), target.trim_end_matches('/').to_owned());
        let epoch = std::time::Instant::now();
        let client = reqwest::Client::new();
        tokio::spawn(async move {
            while let Ok((sock, _)) = listener.accept().await {
                let (seen, upstream, client) = (seen.clone(), upstream.clone(), client.clone());
                tokio::spawn(async move {
                    let mut reader = BufReader::new(sock);
                    loop {
                        let mut line = String::new();
                        if reader.read_line(&mut line).await.unwrap_or(0) == 0 {
                            return;
                        }
                        let start = epoch.elapsed();
                        let mut parts = line.split_whitespace();
                        let (method, path) = (
                            parts.next().unwrap_or("GET").to_owned(),
                            parts.next().unwrap_or("/").to_owned(),
                        );
                        let mut headers = Vec::new();
                        let mut length = 0usize;
                        loop {
                            let mut h = String::new();
                            if reader.read_line(&mut h).await.unwrap_or(0) == 0 {
                                return;
                            }
                            let h = h.trim_end();
                            if h.is_empty() {
                                break;
                            }
                            if let Some((k, v)) = h.split_once(':') {
                                let (k, v) = (k.trim().to_owned(), v.trim().to_owned());
                                if k.eq_ignore_ascii_case("content-length") {
                                    length = v.parse().unwrap_or(0);
                                }
                                headers.push((k, v));
                            }
                        }
                        let mut body = vec![0; length];
                        if reader.read_exact(&mut body).await.is_err() {
                            return;
                        }
                        let target = headers
                            .iter()
                            .find(|(k, _)| k.eq_ignore_ascii_case("x-amz-target"))
                            .map(|(_, v)| v.clone());
                        let mut req = client.request(
                            method.parse().unwrap_or(reqwest::Method::GET),
                            format!("{upstream}{path}"),
                        );
                        for (k, v) in &headers {
                            let skip =
                                ["host", "content-length", "connection", "transfer-encoding"];
                            if !skip.iter().any(|s| k.eq_ignore_ascii_case(s)) {
                                req = req.header(k, v);
                            }
                        }
                        // Every request takes at least this long, so requests sent together
                        // always overlap here however fast moto answers (and dependent ones
                        // never can): the wait count does not depend on timing luck.
                        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
                        let Ok(resp) = req.body(body.clone()).send().await else {
                            return;
                        };
                        let status = resp.status();
                        let mut head = format!(
                            "HTTP/1.1 {} {}\r\n",
                            status.as_u16(),
                            status.canonical_reason().unwrap_or("")
                        );
                        for (k, v) in resp.headers() {
                            let skip = ["content-length", "transfer-encoding", "connection"];
                            if !skip.iter().any(|s| k.as_str().eq_ignore_ascii_case(s)) {
                                head.push_str(&format!("{k}: {}\r\n", v.to_str().unwrap_or("")));
                            }
                        }
                        let bytes = resp.bytes().await.unwrap_or_default();
                        // Taken before the answer is written: a request that depends on this
                        // one cannot start earlier, so it never looks concurrent.
                        let end = epoch.elapsed();
                        head.push_str(&format!("content-length: {}\r\n\r\n", bytes.len()));
                        let sock = reader.get_mut();
                        if sock.write_all(head.as_bytes()).await.is_err()
                            || sock.write_all(&bytes).await.is_err()
                        {
                            return;
                        }
                        if let Ok(mut s) = seen.lock() {
                            s.push(Seen {
                                op: target.unwrap_or_else(|| {
                                    format!("{method} {}", path.split('?').next().unwrap_or(""))
                                }),
                                start,
                                end,
                                body,
                                response_len: bytes.len(),
                            });
                        }
                    }
                });
            }
        });
        proxy
    }

    /// The requests seen since the last call, and forgets them.
    pub fn take(&self) -> Vec<Seen> {
        self.seen
            .lock()
            .map(|mut s| std::mem::take(&mut *s))
            .unwrap_or_default()
    }
}

/// Sequential waits in `seen`: requests whose time spans overlap were awaited together and count
/// as one wait.
pub fn waits(seen: &[Seen]) -> usize {
    let mut spans: Vec<_> = seen.iter().map(|s| (s.start, s.end)).collect();
    spans.sort();
    let mut count = 0;
    let mut group_end = None;
    for (start, end) in spans {
        match group_end {
            Some(e) if start < e => group_end = Some(end.max(e)),
            _ => {
                count += 1;
                group_end = Some(end);
            }
        }
    }
    count
}
