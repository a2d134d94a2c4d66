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
