//! Twilio media (recordings, MMS): download from Twilio's API (basic auth with the account SID and
//! auth token, only from URLs under the configured API base) and store in S3 with server-side
//! encryption: recordings under `recordings/<CallSid>/<RecordingSid>.wav`, MMS media under
//! `media/<MessageSid>/<N>.<ext>`.

use crate::error::Error;
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::ServerSideEncryption;
use telephony_core::{CallSid, RecordingSid};

/// The S3 key of a recording; a recording whose CallSid was malformed is kept under
/// `recordings/unknown-call/` rather than lost.
pub fn recording_key(call: Option<&CallSid>, rec: &RecordingSid) -> String {
    match call {
        Some(call) => format!("recordings/{call}/{rec}.wav"),
        None => format!("recordings/unknown-call/{rec}.wav"),
    }
}

/// The S3 key of MMS media item `index` of a message.
pub fn media_key(message_sid: &str, index: usize, content_type: &str) -> String {
    format!(
        "media/{message_sid}/{index}.{}",
        telephony_core::sms::media_extension(content_type)
    )
}

/// The WAV URL of a recording (`RecordingUrl` + `.wav`).
pub fn wav_url(recording_url: &str) -> String {
    if recording_url.ends_with(".wav") {
        recording_url.to_owned()
    } else {
        format!("{recording_url}.wav")
    }
}

/// Why media was not downloaded.
#[derive(Debug, thiserror::Error)]
pub enum DownloadRefusal {
    /// The URL is not under the configured Twilio API base: credentials are never sent to any
    /// other host.
    #[error("media URL is not under the Twilio API base")]
    ForeignHost,
    /// Larger than the configured cap (bytes).
    #[error("media is larger than {0} bytes")]
    TooLarge(u64),
}

/// Outcome of a download attempt.
#[derive(Debug)]
pub enum Download {
    /// The bytes.
    Fetched(Vec<u8>),
    /// Not fetched, for a reason that a retry would not change (the URL is kept instead).
    Refused(DownloadRefusal),
}

/// Downloads `url` with basic auth, refusing URLs outside `api_base` and bodies over `max_bytes`
/// (checked on `Content-Length` and while reading). `what` names the resource in errors (a SID,
/// never the URL).
///
/// Errors: [`Error::Download`] for network failures and non-2xx answers (retryable).
pub async fn download(
    http: &reqwest::Client,
    api_base: &str,
    url: &str,
    account_sid: &str,
    token: &str,
    max_bytes: u64,
    what: &str,
) -> Result<Download, Error> {
    let base = api_base.trim_end_matches('/');
    if !url
        .strip_prefix(base)
        .is_some_and(|rest| rest.starts_with('/'))
    {
        return Ok(Download::Refused(DownloadRefusal::ForeignHost));
    }
    let err = |message: String| Error::Download {
        what: what.to_owned(),
        message,
    };
    let mut resp = http
        .get(url)
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

/// Writes `bytes` to `bucket/key` (SSE-S3). Keys are deterministic, so a retried write replaces
/// the object with identical bytes: still one object.
///
/// Errors: [`Error::S3`].
pub async fn put(
    client: &aws_sdk_s3::Client,
    bucket: &str,
    key: &str,
    content_type: &str,
    bytes: Vec<u8>,
) -> Result<(), Error> {
    client
        .put_object()
        .bucket(bucket)
        .key(key)
        .content_type(content_type)
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

/// Downloads Twilio media and stores it at `key`: `Ok(())` when copied.
///
/// Errors: [`Error::MediaRefused`] when a retry would not help (keep Twilio's URL);
/// [`Error::Download`] or [`Error::S3`] when it would (issue 27 §5: the copy is then retried —
/// by Twilio's redelivery after a 5xx, or by the monitor's sweep — never given up).
pub async fn copy_to_s3(
    deps: &crate::Deps,
    url: &str,
    max_bytes: u64,
    key: &str,
    content_type: &str,
    what: &str,
) -> Result<(), Error> {
    let c = &deps.config;
    let token = c.auth_tokens.first().map(String::as_str).unwrap_or("");
    match download(
        deps.http(),
        &c.twilio_api_base,
        url,
        &c.account_sid,
        token,
        max_bytes,
        what,
    )
    .await?
    {
        Download::Fetched(bytes) => {
            put(deps.s3(), &c.recordings_bucket, key, content_type, bytes).await
        }
        Download::Refused(why) => Err(Error::MediaRefused {
            what: what.to_owned(),
            reason: why.to_string(),
        }),
    }
}

/// Copies media item `index` of message `message_sid` (Twilio's `url`) to its deterministic key
/// ([`media_key`]) and says how it went: copied (`s3_key`), refused for good (over the cap: the
/// URL stays), or `copy_pending` when a retry may cure the failure (issue 27 §5). Logged and
/// counted (`MmsMediaSkipped`) when not copied. Used by the messaging webhook and by the
/// monitor's resume ([`crate::messages::resume_pending`]).
pub async fn copy_media_item(
    deps: &crate::Deps,
    message_sid: &str,
    index: usize,
    url: &str,
    content_type: &str,
) -> crate::messages::MediaItem {
    let key = media_key(message_sid, index, content_type);
    let copied = copy_to_s3(
        deps,
        url,
        deps.config.mms_max_bytes,
        &key,
        content_type,
        message_sid,
    )
    .await;
    let (s3_key, copy_pending) = match copied {
        Ok(()) => (Some(key), false),
        Err(e) => {
            let pending = !matches!(e, Error::MediaRefused { .. });
            tracing::warn!(message_sid, media = index, error = %e, retried = pending, "media not copied; Twilio URL kept");
            crate::metrics::count("MmsMediaSkipped", None);
            (None, pending)
        }
    };
    crate::messages::MediaItem {
        url: url.to_owned(),
        content_type: content_type.to_owned(),
        s3_key,
        copy_pending,
    }
}
