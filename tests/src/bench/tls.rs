//! HTTPS in front of the local stand-ins, as the AWS endpoints and Twilio's API are reached in
//! production.
//!
//! [`Pki::generate`] makes, per run, a chain shaped like the endpoints' own (an RSA-2048 root, an
//! RSA-2048 intermediate, an RSA-2048 leaf for `localhost` and `127.0.0.1`), with the `openssl`
//! command. Clients trust the root the way each platform is told to ([`Pki::trust_env`]), each
//! still loading what it loads on Lambda besides: our SDK clients the AWS roots, reqwest and
//! Node.js the whole system or built-in store.
//!
//! [`TlsFront`] terminates TLS 1.2/1.3 (rustls, session resumption on) and serves HTTP/1.1 with
//! keep-alive (DynamoDB speaks HTTP/1.1), forwarding each request to its upstream.

use std::io;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use tokio::net::TcpListener;

/// The files of one run's certificate chain.
#[derive(Debug, Clone)]
pub struct Pki {
    /// The root certificate (PEM).
    pub root: PathBuf,
    /// The system's trusted roots followed by [`Pki::root`] (PEM).
    pub bundle: PathBuf,
    /// The AWS endpoints' roots ([`telephony_aws::deps::AWS_ROOTS`]) followed by [`Pki::root`].
    pub aws_bundle: PathBuf,
    chain: PathBuf,
    key: PathBuf,
}

/// Where Debian/Ubuntu and Amazon Linux keep the system's trusted roots.
const SYSTEM_BUNDLES: [&str; 2] = [
    "/etc/ssl/certs/ca-certificates.crt",
    "/etc/pki/tls/certs/ca-bundle.crt",
];

fn openssl(dir: &Path, args: &[&str]) -> io::Result<()> {
    let out = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()?;
    if out.status.success() {
        Ok(())
    } else {
        Err(io::Error::other(format!(
            "openssl {}: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr)
        )))
    }
}

impl Pki {
    /// Generates the chain into `dir` (created if needed).
    ///
    /// Errors: `openssl` is missing or fails, or `dir` is not writable.
    pub fn generate(dir: &Path) -> io::Result<Self> {
        std::fs::create_dir_all(dir)?;
        std::fs::write(
            dir.join("ca.ext"),
            "basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\n",
        )?;
        std::fs::write(
            dir.join("leaf.ext"),
            "basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\n\
             extendedKeyUsage=serverAuth\nsubjectAltName=DNS:localhost,IP:127.0.0.1\n",
        )?;
        let steps: [&[&str]; 9] = [
            &["genrsa", "-out", "root.key", "2048"],
            &[
                "req",
                "-x509",
                "-new",
                "-key",
                "root.key",
                "-sha256",
                "-days",
                "2",
                "-subj",
                "/CN=TradeLine bench root",
                "-addext",
                "basicConstraints=critical,CA:TRUE",
                "-addext",
                "keyUsage=critical,keyCertSign,cRLSign",
                "-out",
                "root.pem",
            ],
            &["genrsa", "-out", "mid.key", "2048"],
            &[
                "req",
                "-new",
                "-key",
                "mid.key",
                "-subj",
                "/CN=TradeLine bench intermediate",
                "-out",
                "mid.csr",
            ],
            &[
                "x509",
                "-req",
                "-in",
                "mid.csr",
                "-CA",
                "root.pem",
                "-CAkey",
                "root.key",
                "-CAcreateserial",
                "-days",
                "2",
                "-sha256",
                "-extfile",
                "ca.ext",
                "-out",
                "mid.pem",
            ],
            &["genrsa", "-out", "leaf.key", "2048"],
            &[
                "req",
                "-new",
                "-key",
                "leaf.key",
                "-subj",
                "/CN=localhost",
                "-out",
                "leaf.csr",
            ],
            &[
                "x509",
                "-req",
                "-in",
                "leaf.csr",
                "-CA",
                "mid.pem",
                "-CAkey",
                "mid.key",
                "-CAcreateserial",
                "-days",
                "2",
                "-sha256",
                "-extfile",
                "leaf.ext",
                "-out",
                "leaf.pem",
            ],
            &[
                "pkcs8", "-topk8", "-nocrypt", "-in", "leaf.key", "-out", "leaf.pk8",
            ],
        ];
        for args in steps {
            openssl(dir, args)?;
        }
        let (leaf, mid, root) = (
            std::fs::read_to_string(dir.join("leaf.pem"))?,
            std::fs::read_to_string(dir.join("mid.pem"))?,
            std::fs::read_to_string(dir.join("root.pem"))?,
        );
        std::fs::write(dir.join("chain.pem"), format!("{leaf}{mid}"))?;
        let system = SYSTEM_BUNDLES
            .iter()
            .find_map(|p| std::fs::read_to_string(p).ok())
            .unwrap_or_default();
        std::fs::write(dir.join("bundle.pem"), format!("{system}\n{root}"))?;
        let aws = telephony_aws::deps::AWS_ROOTS;
        std::fs::write(dir.join("aws-bundle.pem"), format!("{aws}\n{root}"))?;
        Ok(Self {
            root: dir.join("root.pem"),
            bundle: dir.join("bundle.pem"),
            aws_bundle: dir.join("aws-bundle.pem"),
            chain: dir.join("chain.pem"),
            key: dir.join("leaf.pk8"),
        })
    }

    /// The variables that make every client of the run trust the root: `AWS_CA_BUNDLE` (our
    /// AWS SDK clients and botocore: the AWS roots plus this one), `SSL_CERT_FILE` (reqwest,
    /// through rustls-native-certs: the system's plus this one), `NODE_EXTRA_CA_CERTS` (Node.js,
    /// added to its built-in roots).
    pub fn trust_env(&self) -> Vec<(String, String)> {
        vec![
            (
                "SSL_CERT_FILE".into(),
                self.bundle.to_string_lossy().into_owned(),
            ),
            (
                "AWS_CA_BUNDLE".into(),
                self.aws_bundle.to_string_lossy().into_owned(),
            ),
            (
                "NODE_EXTRA_CA_CERTS".into(),
                self.root.to_string_lossy().into_owned(),
            ),
        ]
    }

    fn server_config(&self) -> io::Result<rustls::ServerConfig> {
        use rustls::pki_types::pem::PemObject;
        use rustls::pki_types::{CertificateDer, PrivateKeyDer};
        let certs = CertificateDer::pem_file_iter(&self.chain)
            .map_err(io::Error::other)?
            .collect::<Result<Vec<_>, _>>()
            .map_err(io::Error::other)?;
        let key = PrivateKeyDer::from_pem_file(&self.key).map_err(io::Error::other)?;
        rustls::ServerConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .map_err(io::Error::other)?
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .map_err(io::Error::other)
    }
}

/// A running TLS terminator on 127.0.0.1 (stops with the process).
#[derive(Debug, Clone)]
pub struct TlsFront {
    /// `https://localhost:PORT`: the endpoint clients are given (resolved like a real host name).
    pub url: String,
    handshakes: Arc<std::sync::atomic::AtomicUsize>,
    spans: Arc<std::sync::Mutex<Vec<(std::time::Instant, std::time::Instant)>>>,
}

impl TlsFront {
    /// How long the upstream kept requests in flight since the last call (the union of the
    /// forwarded requests' spans: overlapping ones count once), and forgets them: the part of a
    /// webhook's answer time that is the stand-in's, not the function's.
    pub fn take_upstream_time(&self) -> std::time::Duration {
        let mut spans = std::mem::take(&mut *self.spans.lock().unwrap_or_else(|p| p.into_inner()));
        spans.sort();
        let mut total = std::time::Duration::ZERO;
        let mut open: Option<(std::time::Instant, std::time::Instant)> = None;
        for (a, b) in spans {
            match open {
                Some((s, e)) if a <= e => open = Some((s, e.max(b))),
                Some((s, e)) => {
                    total += e - s;
                    open = Some((a, b));
                }
                None => open = Some((a, b)),
            }
        }
        total + open.map_or(std::time::Duration::ZERO, |(s, e)| e - s)
    }

    /// TLS handshakes completed so far (one per client connection).
    pub fn handshakes(&self) -> usize {
        self.handshakes.load(std::sync::atomic::Ordering::SeqCst)
    }

    /// Starts a terminator for `upstream` (`http://host:port`). It speaks HTTP/1.1 with
    /// keep-alive on the TLS side, as the AWS endpoints do, and forwards each request to the
    /// upstream on its own: moto answers `Connection: close` to every request, and passing that
    /// through would make every AWS call pay a new handshake, which production does not.
    ///
    /// Errors: the certificate files cannot be read or the port cannot be bound.
    pub async fn start(pki: &Pki, upstream: &str) -> io::Result<Self> {
        use http_body_util::{BodyExt, Full};
        use hyper::body::Bytes;
        let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(pki.server_config()?));
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let port = listener.local_addr()?.port();
        let upstream = upstream.trim_end_matches('/').to_owned();
        let client = reqwest::Client::new();
        let handshakes = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let spans: Arc<std::sync::Mutex<Vec<_>>> = Arc::default();
        let (count, recorded) = (handshakes.clone(), spans.clone());
        tokio::spawn(async move {
            while let Ok((sock, _)) = listener.accept().await {
                let (acceptor, upstream, client, count, recorded) = (
                    acceptor.clone(),
                    upstream.clone(),
                    client.clone(),
                    count.clone(),
                    recorded.clone(),
                );
                tokio::spawn(async move {
                    let _ = sock.set_nodelay(true);
                    let Ok(tls) = acceptor.accept(sock).await else {
                        return;
                    };
                    count.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                    let svc = hyper::service::service_fn(
                        move |req: hyper::Request<hyper::body::Incoming>| {
                            let (upstream, client, recorded) =
                                (upstream.clone(), client.clone(), recorded.clone());
                            async move {
                                let began = std::time::Instant::now();
                                let (parts, body) = req.into_parts();
                                let body = body
                                    .collect()
                                    .await
                                    .map(|b| b.to_bytes())
                                    .unwrap_or_default();
                                let target = parts.uri.path_and_query().map_or("/", |p| p.as_str());
                                let mut fwd = client
                                    .request(parts.method.clone(), format!("{upstream}{target}"));
                                for (k, v) in &parts.headers {
                                    if !HOP_BY_HOP.contains(&k.as_str()) {
                                        fwd = fwd.header(k, v);
                                    }
                                }
                                let mut resp = hyper::Response::new(Full::new(Bytes::new()));
                                match fwd.body(body).send().await {
                                    Ok(up) => {
                                        *resp.status_mut() = up.status();
                                        for (k, v) in up.headers() {
                                            if !HOP_BY_HOP.contains(&k.as_str()) {
                                                resp.headers_mut().append(k, v.clone());
                                            }
                                        }
                                        *resp.body_mut() =
                                            Full::new(up.bytes().await.unwrap_or_default());
                                    }
                                    Err(_) => *resp.status_mut() = hyper::StatusCode::BAD_GATEWAY,
                                }
                                if let Ok(mut r) = recorded.lock() {
                                    r.push((began, std::time::Instant::now()));
                                }
                                Ok::<_, std::convert::Infallible>(resp)
                            }
                        },
                    );
                    let _ = hyper::server::conn::http1::Builder::new()
                        .keep_alive(true)
                        .serve_connection(hyper_util::rt::TokioIo::new(tls), svc)
                        .await;
                });
            }
        });
        Ok(Self {
            url: format!("https://localhost:{port}"),
            handshakes,
            spans,
        })
    }
}

/// Headers that belong to one connection, not to the request (RFC 9110 §7.6.1), plus the
/// length the forwarded body sets again.
const HOP_BY_HOP: [&str; 6] = [
    "connection",
    "keep-alive",
    "transfer-encoding",
    "content-length",
    "host",
    "upgrade",
];
