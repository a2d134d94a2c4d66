//! The fake Twilio media host: serves one WAV for any `…/Recordings/<RecordingSid>.wav` request,
//! and any file registered with [`MediaServer::add`] at its exact path (MMS media), to requests
//! carrying the right basic-auth credentials (401 otherwise); counts the downloads.

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

/// A running media server.
#[derive(Debug, Clone)]
pub struct MediaServer {
    /// `http://127.0.0.1:PORT`, the Twilio API base to configure (`TWILIO_API_BASE`).
    pub base_url: String,
    downloads: Arc<AtomicUsize>,
    files: Files,
}

impl MediaServer {
    /// How many WAVs were served (authorised requests only).
    pub fn downloads(&self) -> usize {
        self.downloads.load(Ordering::SeqCst)
    }

    /// Serves `bytes` as `content_type` at `path` (e.g. `/2010-04-01/Accounts/AC…/Messages/MM…/Media/ME…`)
    /// and returns its absolute URL.
    pub fn add(&self, path: &str, content_type: &str, bytes: Vec<u8>) -> String {
        if let Ok(mut files) = self.files.lock() {
            files.insert(path.to_owned(), (content_type.to_owned(), bytes));
        }
        format!("{}{path}", self.base_url)
    }
}

/// Starts serving `wav` (and files added later) on 127.0.0.1:`port` (0 = a free port) to requests
/// authorised as `account_sid`/`token`. Stops with the tokio runtime.
pub async fn serve(
    wav: Vec<u8>,
    account_sid: &str,
    token: &str,
    port: u16,
) -> std::io::Result<MediaServer> {
    let listener = TcpListener::bind(("127.0.0.1", port)).await?;
    let base_url = format!("http://{}", listener.local_addr()?);
    let expected = format!(
        "authorization: basic {}",
        b64(&format!("{account_sid}:{token}"))
    )
    .to_ascii_lowercase();
    let downloads = Arc::new(AtomicUsize::new(0));
    let files: Files = Arc::default();
    let (wav, counter, served) = (Arc::new(wav), downloads.clone(), files.clone());
    tokio::spawn(async move {
        while let Ok((mut sock, _)) = listener.accept().await {
            let (wav, expected, counter, served) = (
                wav.clone(),
                expected.clone(),
                counter.clone(),
                served.clone(),
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
                let head = String::from_utf8_lossy(&head).into_owned();
                let request_line = head.lines().next().unwrap_or("");
                let path = request_line.split(' ').nth(1).unwrap_or("");
                let auth_ok = head
                    .lines()
                    .any(|l| l.trim().to_ascii_lowercase() == expected);
                let file = served.lock().ok().and_then(|f| f.get(path).cloned());
                let lower = request_line.to_ascii_lowercase();
                let recording = lower.starts_with("get ")
                    && lower.contains("/recordings/re")
                    && lower.contains(".wav ");
                let found = match file {
                    Some(f) => Some(f),
                    None if recording => Some(("audio/x-wav".to_owned(), wav.as_ref().clone())),
                    None => None,
                };
                let reply = match (auth_ok, found) {
                    (false, _) => b"HTTP/1.1 401 Unauthorized\r\ncontent-length: 0\r\nconnection: close\r\n\r\n".to_vec(),
                    (true, None) => b"HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\nconnection: close\r\n\r\n".to_vec(),
                    (true, Some((content_type, bytes))) => {
                        counter.fetch_add(1, Ordering::SeqCst);
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
        files,
    })
}

fn b64(s: &str) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(s)
}

#[cfg(test)]
mod tests {
    use super::*;

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
