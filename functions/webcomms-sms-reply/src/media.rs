//! MMS media of an inbound message, copied to the recordings bucket.

use telephony_aws::messages::MediaItem;
use telephony_aws::{recordings, Deps};
use telephony_core::Params;

/// Most media items Twilio attaches to one message.
const MAX_MEDIA: usize = 10;

/// Copies each `MediaUrl{N}` (N < `NumMedia`, at most 10) to S3; media over the cap keep their
/// Twilio URL; a copy that failed for a reason a retry may cure is marked `copy_pending`, and
/// the monitor resumes it ([`telephony_aws::messages::resume_pending`]).
pub(crate) async fn copy_media(deps: &Deps, sid: &str, p: &Params) -> Vec<MediaItem> {
    let count = p
        .get("NumMedia")
        .and_then(|n| n.parse::<usize>().ok())
        .unwrap_or(0)
        .min(MAX_MEDIA);
    let mut items = Vec::with_capacity(count);
    for i in 0..count {
        let Some(url) = p.get(&format!("MediaUrl{i}")) else {
            continue;
        };
        let content_type = p
            .get(&format!("MediaContentType{i}"))
            .unwrap_or("application/octet-stream");
        items.push(recordings::copy_media_item(deps, sid, i, url, content_type).await);
    }
    items
}

pub(crate) fn media_ref(deps: &Deps, m: &MediaItem) -> String {
    match &m.s3_key {
        Some(k) => format!("s3://{}/{k}", deps.config.recordings_bucket),
        None => m.url.clone(),
    }
}
