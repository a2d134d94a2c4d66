//! The fake Twilio media host and REST API: serves one WAV for any
//! `…/Recordings/<RecordingSid>.wav` request, any file registered with [`MediaServer::add`] at its
//! exact path (MMS media), a 1×1 PNG for any other `…/Media/ME…` path (the sample events'), and
//! the Recordings list of a call (`GET /2010-04-01/Accounts/{AccountSid}/Recordings.json?CallSid=…`,
//! paged with `PageSize` and `next_page_uri` like Twilio) for recordings the simulator made
//! ([`MediaServer::add_recording`], or `POST /_sim/recordings?CallSid=…&RecordingSid=…&Duration=…&Source=…`),
//! to requests carrying the right basic-auth credentials (401 otherwise); counts the WAV downloads.
//! A long-lived host (`call-simulator fake-twilio`, started by `make run`) is driven from other
//! processes with `POST /_sim/media?path=…&type=…` (body: the file) and `GET /_sim/downloads`.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// A real WAV file: `seconds` of a 440 Hz tone, 8 kHz mono 16-bit PCM (Twilio's recording format).
pub fn tone_wav(seconds: u32) -> Vec<u8> {
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate: 8000,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut cursor = std::io::Cursor::new(Vec::new());
    if let Ok(mut w) = hound::WavWriter::new(&mut cursor, spec) {
        for i in 0..(8000 * seconds) {
            let t = i as f32 / 8000.0;
            let _ = w.write_sample(((t * 440.0 * std::f32::consts::TAU).sin() * 8000.0) as i16);
        }
        let _ = w.finalize();
    }
    cursor.into_inner()
}

/// Served files: path → (content type, bytes).
type Files = Arc<Mutex<HashMap<String, (String, Vec<u8>)>>>;

/// A recording the fake Twilio knows about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FakeRecording {
    /// The call it was made on.
    pub call_sid: String,
    /// `RE…`.
    pub recording_sid: String,
    /// Seconds.
    pub duration: u64,
    /// `RecordVerb` (voicemail) or `DialVerb`.
    pub source: String,
    /// Creation time, Unix seconds (`date_created` in the list, RFC 2822).
    pub created_at: i64,
}

type Recordings = Arc<Mutex<Vec<FakeRecording>>>;

/// A running media server.
#[derive(Debug, Clone)]
pub struct MediaServer {
    /// `http://127.0.0.1:PORT`, the Twilio API base to configure (`TWILIO_API_BASE`).
    pub base_url: String,
    downloads: Arc<AtomicUsize>,
    failing: Arc<AtomicUsize>,
    files: Files,
    recordings: Recordings,
}

impl MediaServer {
    /// How many WAVs were served (authorised requests only).
    pub fn downloads(&self) -> usize {
        self.downloads.load(Ordering::SeqCst)
    }

    /// The next `n` downloads (recordings and media) answer `503 Service Unavailable`, as
    /// Twilio's media host does in an incident (issue 27 §5).
    pub fn fail_next(&self, n: usize) {
        self.failing.store(n, Ordering::SeqCst);
    }

    /// Serves `bytes` as `content_type` at `path` (e.g. `/2010-04-01/Accounts/AC…/Messages/MM…/Media/ME…`)
    /// and returns its absolute URL.
    pub fn add(&self, path: &str, content_type: &str, bytes: Vec<u8>) -> String {
        if let Ok(mut files) = self.files.lock() {
            files.insert(path.to_owned(), (content_type.to_owned(), bytes));
        }
        format!("{}{path}", self.base_url)
    }

    /// Registers a completed recording so the Recordings list shows it.
    pub fn add_recording(&self, rec: FakeRecording) {
        if let Ok(mut r) = self.recordings.lock() {
            if !r.iter().any(|x| x.recording_sid == rec.recording_sid) {
                r.push(rec);
            }
        }
    }
}

/// The JSON page of the Recordings list for `query` (`CallSid`, `PageSize`, `Page`), with
/// `next_page_uri` when more follow (Twilio's paging shape).
fn recordings_page(all: &[FakeRecording], account_sid: &str, path: &str, query: &str) -> String {
    let q: HashMap<String, String> = form_urlencoded::parse(query.as_bytes())
        .into_owned()
        .collect();
    // Filters: CallSid, and DateCreated> (on or after a UTC date).
    let call = q.get("CallSid").cloned().unwrap_or_default();
    let since = q
        .get("DateCreated>")
        .and_then(|d| chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d").ok())
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|t| t.and_utc().timestamp());
    let size: usize = q
        .get("PageSize")
        .and_then(|v| v.parse().ok())
        .unwrap_or(50)
        .max(1);
    let page: usize = q.get("Page").and_then(|v| v.parse().ok()).unwrap_or(0);
    let matching: Vec<&FakeRecording> = all
        .iter()
        .filter(|r| call.is_empty() || r.call_sid == call)
        .filter(|r| since.is_none_or(|t| r.created_at >= t))
        .collect();
    let items: Vec<serde_json::Value> = matching
        .iter()
        .skip(page * size)
        .take(size)
        .map(|r| {
            serde_json::json!({
                "account_sid": account_sid, "api_version": "2010-04-01", "call_sid": r.call_sid,
                "sid": r.recording_sid, "status": "completed", "source": r.source,
                "duration": r.duration.to_string(), "channels": 1,
                "uri": format!("/2010-04-01/Accounts/{account_sid}/Recordings/{}.json", r.recording_sid),
                "date_created": chrono::DateTime::from_timestamp(r.created_at, 0)
                    .unwrap_or_default()
                    .to_rfc2822(),
            })
        })
        .collect();
    let next = ((page + 1) * size < matching.len()).then(|| {
        format!(
            "{path}?{}",
            form_urlencoded::Serializer::new(String::new())
                .append_pair("CallSid", &call)
                .append_pair("PageSize", &size.to_string())
                .append_pair("Page", &(page + 1).to_string())
                .finish()
        )
    });
    serde_json::json!({
        "recordings": items, "page": page, "page_size": size,
        "next_page_uri": next, "uri": format!("{path}?{query}"),
    })
    .to_string()
}

/// Starts serving `wav` (and files added later) on 127.0.0.1:`port` (0 = a free port) to requests
/// authorised as `account_sid`/`token`. Any other authorised REST call (number purchases,
/// accounts…) goes to `upstream` when given — `make run` passes the Prism mock of Twilio's
/// OpenAPI document, so the ops routes get the answers the specification defines — and is 404
/// otherwise. `upstream` may route by path prefix: `PREFIX=URL` entries separated by commas
/// (the first matching prefix wins; an entry without `=` is the default), since Twilio's numbers
/// host is described by two documents, i.e. two Prism servers. Stops with the tokio runtime.
pub async fn serve(
    wav: Vec<u8>,
    account_sid: &str,
    token: &str,
    port: u16,
    upstream: Option<String>,
) -> std::io::Result<MediaServer> {
    let upstream = Arc::new(upstream);
    let listener = TcpListener::bind(("127.0.0.1", port)).await?;
    let base_url = format!("http://{}", listener.local_addr()?);
    let expected = format!(
        "authorization: basic {}",
        b64(&format!("{account_sid}:{token}"))
    )
    .to_ascii_lowercase();
    let downloads = Arc::new(AtomicUsize::new(0));
    let failing = Arc::new(AtomicUsize::new(0));
    let failures = failing.clone();
    let files: Files = Arc::default();
    let recordings: Recordings = Arc::default();
    let (wav, counter, served, known) = (
        Arc::new(wav),
        downloads.clone(),
        files.clone(),
        recordings.clone(),
    );
    let account = account_sid.to_owned();
    tokio::spawn(async move {
        while let Ok((mut sock, _)) = listener.accept().await {
            let failures = failures.clone();
            let (wav, expected, counter, served, known, account, upstream) = (
                wav.clone(),
                expected.clone(),
                counter.clone(),
                served.clone(),
                known.clone(),
                account.clone(),
                upstream.clone(),
            );
            tokio::spawn(async move {
                let mut head = Vec::new();
                let mut buf = [0u8; 1024];
                while !head.windows(4).any(|w| w == b"\r\n\r\n") && head.len() < 16 * 1024 {
                    match sock.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => head.extend_from_slice(&buf[..n]),
                    }
                }
                let head_bytes = head;
                let head = String::from_utf8_lossy(&head_bytes).into_owned();
                let request_line = head.lines().next().unwrap_or("");
                let path = request_line.split(' ').nth(1).unwrap_or("");
                let auth_ok = head
                    .lines()
                    .any(|l| l.trim().to_ascii_lowercase() == expected);
                let (bare, query) = path.split_once('?').unwrap_or((path, ""));
                if bare == "/_sim/media" || bare == "/_sim/downloads" {
                    let reply = if !auth_ok {
                        b"HTTP/1.1 401 Unauthorized\r\ncontent-length: 0\r\nconnection: close\r\n\r\n".to_vec()
                    } else if request_line.starts_with("POST ") {
                        let q: HashMap<String, String> = form_urlencoded::parse(query.as_bytes())
                            .into_owned()
                            .collect();
                        let body = read_body(&mut sock, &head, &head_bytes).await;
                        if let (Some(p), Ok(mut files)) = (q.get("path"), served.lock()) {
                            let ctype = q.get("type").cloned().unwrap_or_default();
                            files.insert(p.clone(), (ctype, body));
                        }
                        b"HTTP/1.1 201 Created\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
                            .to_vec()
                    } else {
                        let n = counter.load(Ordering::SeqCst).to_string();
                        format!("HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{n}", n.len()).into_bytes()
                    };
                    let _ = sock.write_all(&reply).await;
                    let _ = sock.shutdown().await;
                    return;
                }
                // The porting happy path for `make run` (issue 22 §13): Prism's example answers
                // "not portable", so the fake host answers the portability check itself (every
                // number is portable) and reports a created port as `completed`, so a port-in can
                // be started, followed and finished locally. Creation still goes to Prism (the
                // request is checked against Twilio's document).
                if auth_ok && request_line.starts_with("GET ") {
                    let porting = if let Some(n) =
                        bare.strip_prefix("/v1/Porting/Portability/PhoneNumber/")
                    {
                        let n = percent_encoding::percent_decode_str(n)
                            .decode_utf8_lossy()
                            .into_owned();
                        let country =
                            telephony_core::area_codes::nanp_country(n.get(2..5).unwrap_or(""))
                                .unwrap_or("US");
                        Some(serde_json::json!({"phone_number": n, "portable": true,
                            "pin_and_account_number_required": false, "not_portable_reason": null,
                            "number_type": "LOCAL", "country": country}))
                    } else {
                        bare.strip_prefix("/v1/Porting/PortIn/")
                            .filter(|sid| sid.starts_with("KW") && !sid.contains('/'))
                            .map(|sid| {
                                serde_json::json!({"port_in_request_sid": sid,
                                "port_in_request_status": "completed", "phone_numbers": []})
                            })
                    };
                    if let Some(body) = porting {
                        let body = body.to_string();
                        let reply = format!("HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}", body.len());
                        let _ = sock.write_all(reply.as_bytes()).await;
                        let _ = sock.shutdown().await;
                        return;
                    }
                }
                let list_path = format!("/2010-04-01/Accounts/{account}/Recordings.json");
                if request_line.starts_with("POST ") && bare == "/_sim/recordings" && auth_ok {
                    let q: HashMap<String, String> = form_urlencoded::parse(query.as_bytes())
                        .into_owned()
                        .collect();
                    let get = |k: &str| q.get(k).cloned().unwrap_or_default();
                    let rec = FakeRecording {
                        call_sid: get("CallSid"),
                        recording_sid: get("RecordingSid"),
                        duration: get("Duration").parse().unwrap_or(0),
                        source: get("Source"),
                        created_at: get("CreatedAt")
                            .parse()
                            .unwrap_or_else(|_| chrono::Utc::now().timestamp()),
                    };
                    if let Ok(mut r) = known.lock() {
                        if !r.iter().any(|x| x.recording_sid == rec.recording_sid) {
                            r.push(rec);
                        }
                    }
                    let _ = sock
                        .write_all(b"HTTP/1.1 201 Created\r\ncontent-length: 0\r\nconnection: close\r\n\r\n")
                        .await;
                    let _ = sock.shutdown().await;
                    return;
                }
                let listing = (request_line.starts_with("GET ") && bare == list_path).then(|| {
                    let all = known.lock().map(|r| r.clone()).unwrap_or_default();
                    (
                        "application/json".to_owned(),
                        recordings_page(&all, &account, &list_path, query).into_bytes(),
                    )
                });
                let file = served.lock().ok().and_then(|f| f.get(path).cloned());
                let lower = request_line.to_ascii_lowercase();
                let recording = lower.starts_with("get ")
                    && lower.contains("/recordings/re")
                    && lower.contains(".wav ");
                let found = match (listing.is_some(), file) {
                    (true, _) => listing.clone(),
                    (false, Some(f)) => Some(f),
                    (false, None) if recording => {
                        Some(("audio/x-wav".to_owned(), wav.as_ref().clone()))
                    }
                    (false, None) if lower.starts_with("get ") && lower.contains("/media/me") => {
                        Some(("image/png".to_owned(), PIXEL_PNG.to_vec()))
                    }
                    (false, None) => None,
                };
                let is_download = listing.is_none();
                if let (true, None, Some(up)) = (auth_ok, &found, upstream.as_deref()) {
                    let body = read_body(&mut sock, &head, &head_bytes).await;
                    let reply = forward(up, request_line, &head, body).await;
                    let _ = sock.write_all(&reply).await;
                    let _ = sock.shutdown().await;
                    return;
                }
                let fail = is_download
                    && auth_ok
                    && found.is_some()
                    && failures
                        .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
                        .is_ok();
                let reply = match (auth_ok, found) {
                    _ if fail => b"HTTP/1.1 503 Service Unavailable\r\ncontent-length: 0\r\nconnection: close\r\n\r\n".to_vec(),
                    (false, _) => b"HTTP/1.1 401 Unauthorized\r\ncontent-length: 0\r\nconnection: close\r\n\r\n".to_vec(),
                    (true, None) => b"HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\nconnection: close\r\n\r\n".to_vec(),
                    (true, Some((content_type, bytes))) => {
                        if is_download {
                            counter.fetch_add(1, Ordering::SeqCst);
                        }
                        let mut r = format!(
                            "HTTP/1.1 200 OK\r\ncontent-type: {content_type}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
                            bytes.len()
                        )
                        .into_bytes();
                        r.extend_from_slice(&bytes);
                        r
                    }
                };
                let _ = sock.write_all(&reply).await;
                let _ = sock.shutdown().await;
            });
        }
    });
    Ok(MediaServer {
        base_url,
        downloads,
        failing,
        files,
        recordings,
    })
}

/// The upstream for `path` in a routing spec (see [`serve`]).
pub fn route<'a>(spec: &'a str, path: &str) -> &'a str {
    let entries: Vec<&str> = spec.split(',').map(str::trim).collect();
    entries
        .iter()
        .filter_map(|e| e.split_once('='))
        .find(|(prefix, _)| path.starts_with(prefix))
        .map(|(_, url)| url)
        .or_else(|| entries.iter().copied().find(|e| !e.contains('=')))
        .unwrap_or("")
}

/// Sends one request to `upstream` (method and path from `request_line`, the `authorization`
/// and `content-type` headers from `head`) and returns the raw HTTP reply; 502 when the upstream
/// does not answer.
async fn forward(upstream: &str, request_line: &str, head: &str, body: Vec<u8>) -> Vec<u8> {
    let mut parts = request_line.split(' ');
    let (method, path) = (parts.next().unwrap_or("GET"), parts.next().unwrap_or("/"));
    let upstream = route(upstream, path);
    let header = |name: &str| {
        head.lines().find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.trim()
                .eq_ignore_ascii_case(name)
                .then(|| v.trim().to_owned())
        })
    };
    let Ok(method) = reqwest::Method::from_bytes(method.as_bytes()) else {
        return b"HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
            .to_vec();
    };
    let mut req = reqwest::Client::new().request(method, format!("{upstream}{path}"));
    for name in ["authorization", "content-type"] {
        if let Some(v) = header(name) {
            req = req.header(name, v);
        }
    }
    let form: HashMap<String, String> = form_urlencoded::parse(&body).into_owned().collect();
    match req.body(body).send().await {
        Ok(r) => {
            let status = r.status();
            let ctype = r
                .headers()
                .get("content-type")
                .and_then(|v| v.to_str().ok())
                .unwrap_or("application/json")
                .to_owned();
            let mut bytes = r.bytes().await.unwrap_or_default().to_vec();
            if status.is_success() {
                bytes = as_bought(path, &form, bytes);
            }
            let mut out = format!(
                "HTTP/1.1 {} {}\r\ncontent-type: {ctype}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
                status.as_u16(),
                status.canonical_reason().unwrap_or(""),
                bytes.len()
            )
            .into_bytes();
            out.extend_from_slice(&bytes);
            out
        }
        Err(_) => {
            b"HTTP/1.1 502 Bad Gateway\r\ncontent-length: 0\r\nconnection: close\r\n\r\n".to_vec()
        }
    }
}

/// Makes the mock's answers describe distinct numbers (its examples are always the same one, so
/// a second onboarding would collide): a number search lists fictional numbers (`NXX-555-01XX`)
/// in the requested area code; a purchase answers with the number asked for and a fresh `PN…`
/// SID. The request itself was checked by the mock against Twilio's specification first.
fn as_bought(path: &str, form: &HashMap<String, String>, bytes: Vec<u8>) -> Vec<u8> {
    let Ok(mut doc) = serde_json::from_slice::<serde_json::Value>(&bytes) else {
        return bytes;
    };
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    let (bare, query) = path.split_once('?').unwrap_or((path, ""));
    if bare.contains("/AvailablePhoneNumbers/") {
        let q: HashMap<String, String> = form_urlencoded::parse(query.as_bytes())
            .into_owned()
            .collect();
        let area = q.get("AreaCode").cloned().unwrap_or_else(|| "587".into());
        // One counter for the run: 100 distinct numbers per area code before any repeats.
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        if let Some(list) = doc["available_phone_numbers"].as_array_mut() {
            for n in list.iter_mut() {
                let e164 = format!(
                    "+1{area}55501{:02}",
                    NEXT.fetch_add(1, Ordering::SeqCst) % 100
                );
                n["phone_number"] = e164.clone().into();
                n["friendly_name"] = e164.into();
            }
        }
    } else if bare.ends_with("/IncomingPhoneNumbers.json") {
        if let Some(e164) = form.get("PhoneNumber") {
            doc["phone_number"] = e164.clone().into();
            doc["sid"] = format!("PN{nanos:032x}").into();
        }
    } else {
        return bytes;
    }
    doc.to_string().into_bytes()
}

/// A 1×1 PNG, served for any MMS media path nobody registered (the sample events' media URLs).
const PIXEL_PNG: &[u8] = &[
    0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48, 0x44, 0x52,
    0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06, 0x00, 0x00, 0x00, 0x1f, 0x15, 0xc4,
    0x89, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x44, 0x41, 0x54, 0x78, 0x9c, 0x63, 0xf8, 0xcf, 0xc0, 0xf0,
    0x1f, 0x00, 0x05, 0x00, 0x01, 0xff, 0x89, 0x99, 0x3d, 0x1d, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45,
    0x4e, 0x44, 0xae, 0x42, 0x60, 0x82,
];

/// The request body after the head: what was already read past `\r\n\r\n`, then the rest of
/// `content-length` bytes (at most 20 MB).
async fn read_body(sock: &mut tokio::net::TcpStream, head: &str, raw: &[u8]) -> Vec<u8> {
    let len: usize = head
        .lines()
        .filter_map(|l| l.split_once(':'))
        .find(|(k, _)| k.trim().eq_ignore_ascii_case("content-length"))
        .and_then(|(_, v)| v.trim().parse().ok())
        .unwrap_or(0)
        .min(20 << 20);
    let start = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map_or(raw.len(), |i| i + 4);
    let mut body = raw[start..].to_vec();
    let mut buf = [0u8; 8192];
    while body.len() < len {
        match sock.read(&mut buf).await {
            Ok(0) | Err(_) => break,
            Ok(n) => body.extend_from_slice(&buf[..n]),
        }
    }
    body.truncate(len);
    body
}

fn b64(s: &str) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn upstreams_are_routed_by_prefix() {
        let spec = "/v1/Porting=http://a:1, /v2/=http://b:2, http://c:3";
        assert_eq!(route(spec, "/v1/Porting/PortIn"), "http://a:1");
        assert_eq!(route(spec, "/v2/HostedNumber/Orders"), "http://b:2");
        assert_eq!(route(spec, "/2010-04-01/Accounts.json"), "http://c:3");
        assert_eq!(route("http://c:3", "/x"), "http://c:3");
    }

    #[test]
    fn wav_is_a_real_riff_file() {
        let wav = tone_wav(1);
        let r = hound::WavReader::new(std::io::Cursor::new(&wav)).unwrap();
        assert_eq!(r.spec().sample_rate, 8000);
        assert_eq!(r.duration(), 8000);
    }

    #[test]
    fn basic_auth_encoding() {
        assert_eq!(b64("AC1:tok"), "QUMxOnRvaw==");
        assert_eq!(b64("ab"), "YWI=");
    }
}
