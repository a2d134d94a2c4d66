//! Recording media: download from Twilio (basic auth with the account SID and auth token) and
//! store in S3 under `recordings/<CallSid>/<RecordingSid>.wav` with server-side encryption.

use crate::error::Error;
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::ServerSideEncryption;
use telephony_core::{CallSid, RecordingSid};

/// The S3 key of a recording.
pub fn recording_key(call: &CallSid, rec: &RecordingSid) -> String {
    format!("recordings/{call}/{rec}.wav")
}

/// Why a recording was not downloaded.
#[derive(Debug, thiserror::Error)]
pub enum DownloadRefusal {
    /// `RecordingUrl` is not under the configured Twilio API base: credentials are never sent
    /// to any other host.
    #[error("recording URL is not under the Twilio API base")]
    ForeignHost,
    /// Larger than the configured cap (bytes).
    #[error("recording is larger than {0} bytes")]
    TooLarge(u64),
}

/// Outcome of a download attempt.
#[derive(Debug)]
pub enum Download {
    /// The WAV bytes.
    Fetched(Vec<u8>),
    /// Not fetched, for a reason that a retry would not change (the URL is kept instead).
    Refused(DownloadRefusal),
}

/// Downloads `<recording_url>.wav` with basic auth.
///
/// Errors: [`Error::Download`] for network failures and non-2xx answers (retryable).
pub async fn download(
    http: &reqwest::Client,
    api_base: &str,
    recording_url: &str,
    account_sid: &str,
    token: &str,
    max_bytes: u64,
    rec: &RecordingSid,
) -> Result<Download, Error> {
    let base = api_base.trim_end_matches('/');
    let under_base = recording_url
        .strip_prefix(base)
        .is_some_and(|rest| rest.starts_with('/'));
    if !under_base {
        return Ok(Download::Refused(DownloadRefusal::ForeignHost));
    }
    let url = if recording_url.ends_with(".wav") {
        recording_url.to_owned()
    } else {
        format!("{recording_url}.wav")
    };
    let err = |message: String| Error::Download {
        what: rec.to_string(),
        message,
    };
    let mut resp = http
        .get(&url)
        .basic_auth(account_sid, Some(token))
        .send()
        .await
        .map_err(|e| err(e.without_url().to_string()))?;
    if !resp.status().is_success() {
        return Err(err(format!("HTTP {}", resp.status())));
    }
    if resp.content_length().is_some_and(|len| len > max_bytes) {
        return Ok(Download::Refused(DownloadRefusal::TooLarge(max_bytes)));
    }
    let mut body = Vec::new();
    while let Some(chunk) = resp
        .chunk()
        .await
        .map_err(|e| err(e.without_url().to_string()))?
    {
        if body.len() as u64 + chunk.len() as u64 > max_bytes {
            return Ok(Download::Refused(DownloadRefusal::TooLarge(max_bytes)));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(Download::Fetched(body))
}

/// Writes `bytes` to `bucket/key` (SSE-S3, `audio/wav`). The key is deterministic, so a retried
/// write replaces the object with identical bytes: still one object.
///
/// Errors: [`Error::S3`].
pub async fn put(
    client: &aws_sdk_s3::Client,
    bucket: &str,
    key: &str,
    bytes: Vec<u8>,
) -> Result<(), Error> {
    client
        .put_object()
        .bucket(bucket)
        .key(key)
        .content_type("audio/wav")
        .server_side_encryption(ServerSideEncryption::Aes256)
        .body(ByteStream::from(bytes))
        .send()
        .await
        .map_err(|e| Error::S3 {
            op: "PutObject",
            key: key.to_owned(),
            message: aws_sdk_s3::error::DisplayErrorContext(&e).to_string(),
        })?;
    Ok(())
}
