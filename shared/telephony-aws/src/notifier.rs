//! SNS notices to staff (spec §3: one voicemail notice, one transcript notice).

use crate::deps::Deps;
use crate::error::Error;
use crate::store::{CallRecord, Claim};
use serde::Serialize;
use telephony_core::mask_phone;

/// The JSON body of a notice (SNS `Message`); email subscribers see it as text.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Notice<'a> {
    /// `voicemail` or `transcript`.
    #[serde(rename = "type")]
    pub kind: &'static str,
    /// The call.
    pub call_sid: &'a str,
    /// The recording.
    pub recording_sid: &'a str,
    /// The caller's number (staff need it whole to call back).
    pub caller: Option<&'a str>,
    /// The business number that was dialled.
    pub dialled: Option<&'a str>,
    /// Recording length in seconds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub duration_seconds: Option<u64>,
    /// Bucket and key of the stored WAV, if copied.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub s3_uri: Option<String>,
    /// Transcript text (transcript notices).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub transcript: Option<&'a str>,
}

/// A staff notice of an inbound text (spec §4), published to the SMS topic.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct MessageNotice<'a> {
    /// The channel: `sms` or `whatsapp`.
    #[serde(rename = "type")]
    pub kind: &'static str,
    /// WhatsApp's `ProfileName` (the sender's display name), when given.
    pub profile_name: Option<&'a str>,
    /// The message.
    pub message_sid: &'a str,
    /// Sender.
    pub from: &'a str,
    /// Business number texted.
    pub to: &'a str,
    /// Text.
    pub body: &'a str,
    /// Stored media (`s3://…`) or, when not copied, Twilio's URL.
    pub media: Vec<String>,
    /// The auto-reply sent, if any.
    pub auto_reply: Option<&'a str>,
}

/// Publishes `notice` (any JSON-serialisable notice) to `topic_arn` with a short subject.
///
/// Errors: [`Error::Sns`].
pub async fn publish<T: Serialize>(
    client: &aws_sdk_sns::Client,
    topic_arn: &str,
    subject: &str,
    notice: &T,
) -> Result<(), Error> {
    let message = serde_json::to_string(notice).map_err(|e| Error::Sns {
        topic: topic_arn.to_owned(),
        message: e.to_string(),
    })?;
    client
        .publish()
        .topic_arn(topic_arn)
        .subject(subject)
        .message(message)
        .send()
        .await
        .map_err(|e| Error::Sns {
            topic: topic_arn.to_owned(),
            message: aws_sdk_sns::error::DisplayErrorContext(&e).to_string(),
        })?;
    Ok(())
}

/// Sends `notice` once per recording: claims it on the recording item with a conditional update
/// ([`crate::store::Calls::claim_notice`]), publishes to the dialled number's topic (or the
/// default one), then records `claim_attr` (e.g. `notified_at`) as sent. A failed publish gives
/// the claim back so Twilio's retry sends it; a claim that could not be given back goes stale and
/// the reconciler sends it (at least once, never lost).
/// `call` supplies the caller and dialled numbers.
///
/// Errors: [`Error::Dynamo`] or [`Error::Sns`].
pub async fn notify_once(
    deps: &Deps,
    call: &CallRecord,
    claim_attr: &'static str,
    subject: &str,
    notice: &Notice<'_>,
    now: u64,
) -> Result<NoticeSent, Error> {
    let about = NoticeAbout {
        pk: notice.recording_sid,
        caller: call.from.as_deref(),
        dialled: call.to.as_deref(),
    };
    notify_item_once(deps, &about, claim_attr, subject, notice, now).await
}

/// Which item a notice is claimed on, and the call it is about.
#[derive(Debug, Clone, Copy)]
pub struct NoticeAbout<'a> {
    /// The item (`pk` of the `calls` table) the claim and the sent mark are written on.
    pub pk: &'a str,
    /// The caller (masked in the subject).
    pub caller: Option<&'a str>,
    /// The business number: its topic, else the default voicemail topic.
    pub dialled: Option<&'a str>,
}

/// [`notify_once`] for any notice and item: claim on `about.pk`, publish to the dialled number's
/// staff topic with `subject` and the masked caller, then mark `claim_attr` sent (the claim is
/// given back when the publish fails).
///
/// Errors: [`Error::Dynamo`] or [`Error::Sns`].
pub async fn notify_item_once<T: Serialize>(
    deps: &Deps,
    about: &NoticeAbout<'_>,
    claim_attr: &'static str,
    subject: &str,
    notice: &T,
    now: u64,
) -> Result<NoticeSent, Error> {
    let calls = deps.calls();
    if calls.claim_notice(about.pk, claim_attr, now).await? == Claim::AlreadyExists {
        let sent = calls
            .raw_item(about.pk)
            .await?
            .is_some_and(|item| item.contains_key(claim_attr));
        return Ok(if sent {
            NoticeSent::Before
        } else {
            NoticeSent::InFlight
        });
    }
    let number = deps.number_config(about.dialled.unwrap_or("")).await;
    let topic = number
        .voicemail_topic_arn
        .as_deref()
        .unwrap_or(&deps.config.voicemail_topic_arn);
    let caller = about
        .caller
        .map(mask_phone)
        .unwrap_or_else(|| "unknown caller".into());
    if let Err(e) = publish(&deps.sns, topic, &format!("{subject} {caller}"), notice).await {
        if let Err(release) = calls.release_notice(about.pk, claim_attr).await {
            tracing::warn!(pk = about.pk, error = %release, "notice claim not released; it goes stale");
        }
        return Err(e);
    }
    calls.confirm_notice(about.pk, claim_attr, now).await?;
    Ok(NoticeSent::Now)
}

/// What [`notify_once`] found or did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NoticeSent {
    /// Published and recorded by this call.
    Now,
    /// A previous delivery published it.
    Before,
    /// Another delivery holds a fresh claim and may still fail: not known to be sent yet (the
    /// voicemail stays marked pending, so the reconciler checks again).
    InFlight,
}
