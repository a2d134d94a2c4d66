//! SNS notices to staff (spec §3: one voicemail notice, one transcript notice).

use crate::calls::CallRecord;
use crate::deps::Deps;
use crate::error::Error;
use crate::item::Claim;
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

/// Longest SNS `Subject` (characters; SNS Publish API reference).
pub const SUBJECT_MAX: usize = 100;

/// `raw` as a subject SNS always accepts (Publish API: "ASCII text that begins with a letter,
/// number, or punctuation mark; must not include line breaks or control characters; fewer than
/// 100 characters"): non-ASCII letters lose their accents where they decompose (`é` → `e`),
/// anything else outside printable ASCII becomes `?`, runs of whitespace one space, leading
/// non-alphanumerics dropped, and the result cut to [`SUBJECT_MAX`] with `...`. The full text
/// belongs in the message body (issue 27 §6).
pub fn sns_subject(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len().min(SUBJECT_MAX));
    let mut space = false;
    for c in raw.chars() {
        let mapped = if c.is_whitespace() || c.is_control() {
            ' '
        } else if c.is_ascii_graphic() {
            c
        } else {
            fold_accent(c).unwrap_or('?')
        };
        if mapped == ' ' {
            space = !out.is_empty();
            continue;
        }
        if space {
            out.push(' ');
            space = false;
        }
        if out.is_empty() && !mapped.is_ascii_alphanumeric() && !"(+[\"'".contains(mapped) {
            continue;
        }
        out.push(mapped);
    }
    if out.chars().count() > SUBJECT_MAX {
        out = out.chars().take(SUBJECT_MAX - 3).collect::<String>();
        out.truncate(out.trim_end().len());
        out.push_str("...");
    }
    if out.is_empty() {
        out.push_str("Notice");
    }
    out
}

/// The base letter of a Latin letter with a diacritic (the Latin-1 Supplement and the common
/// Latin Extended-A letters of French, Turkish and Yoruba names); `None` otherwise.
fn fold_accent(c: char) -> Option<char> {
    const MAP: &[(&str, char)] = &[
        ("àáâãäåāăą", 'a'),
        ("ÀÁÂÃÄÅĀĂĄ", 'A'),
        ("çćĉċč", 'c'),
        ("ÇĆĈĊČ", 'C'),
        ("èéêëēĕėęě", 'e'),
        ("ÈÉÊËĒĔĖĘĚ", 'E'),
        ("ğĝġģ", 'g'),
        ("ĞĜĠĢ", 'G'),
        ("ìíîïīĭįı", 'i'),
        ("ÌÍÎÏĪĬĮİ", 'I'),
        ("ñńņň", 'n'),
        ("ÑŃŅŇ", 'N'),
        ("òóôõöøōŏő", 'o'),
        ("ÒÓÔÕÖØŌŎŐ", 'O'),
        ("śŝşš", 's'),
        ("ŚŜŞŠ", 'S'),
        ("ùúûüūŭůűų", 'u'),
        ("ÙÚÛÜŪŬŮŰŲ", 'U'),
        ("ýÿ", 'y'),
        ("ÝŸ", 'Y'),
        ("źżž", 'z'),
        ("ŹŻŽ", 'Z'),
    ];
    MAP.iter().find(|(set, _)| set.contains(c)).map(|(_, b)| *b)
}

/// Publishes `notice` (any JSON-serialisable notice) to `topic_arn` with a short subject,
/// made SNS-safe by [`sns_subject`].
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
    publish_raw(client, topic_arn, subject, &message).await
}

/// Publishes an already serialised notice `message` (a deferred one, [`crate::messages`]).
///
/// Errors: [`Error::Sns`].
pub async fn publish_raw(
    client: &aws_sdk_sns::Client,
    topic_arn: &str,
    subject: &str,
    message: &str,
) -> Result<(), Error> {
    publish_identified(client, topic_arn, subject, message, None).await
}

/// [`publish_raw`] with the notice's deduplication id as the `notice_id` message attribute
/// (String), so subscribers (a queue, a function, a mail rule) can drop a repeat: a notice is
/// published at least once, and a repeat after a lost "sent" mark carries the same id (issue 27
/// §10).
///
/// Errors: [`Error::Sns`].
pub async fn publish_identified(
    client: &aws_sdk_sns::Client,
    topic_arn: &str,
    subject: &str,
    message: &str,
    notice_id: Option<&str>,
) -> Result<(), Error> {
    let mut req = client
        .publish()
        .topic_arn(topic_arn)
        .subject(sns_subject(subject))
        .message(message);
    if let Some(id) = notice_id {
        let attr = aws_sdk_sns::types::MessageAttributeValue::builder()
            .data_type("String")
            .string_value(id)
            .build()
            .map_err(|e| Error::Sns {
                topic: topic_arn.to_owned(),
                message: e.to_string(),
            })?;
        req = req.message_attributes("notice_id", attr);
    }
    req.send().await.map_err(|e| Error::Sns {
        topic: topic_arn.to_owned(),
        message: aws_sdk_sns::error::DisplayErrorContext(&e).to_string(),
    })?;
    Ok(())
}

/// Sends `notice` once per recording: claims it on the recording item with a conditional update
/// ([`crate::calls::Calls::claim_notice`]), publishes to the dialled number's topic (or the
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
    // The same id for every delivery of this notice: the item and the claim it is made on.
    let notice_id = format!("{}#{claim_attr}", about.pk);
    let mut body = serde_json::to_value(notice).map_err(|e| Error::Sns {
        topic: topic.to_owned(),
        message: e.to_string(),
    })?;
    if let Some(o) = body.as_object_mut() {
        o.insert("notice_id".into(), notice_id.clone().into());
    }
    let sent = publish_identified(
        deps.sns(),
        topic,
        &format!("{subject} {caller}"),
        &body.to_string(),
        Some(&notice_id),
    )
    .await;
    if let Err(e) = sent {
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

#[cfg(test)]
mod subject_tests {
    use super::*;

    #[test]
    fn subjects_are_one_ascii_line_of_at_most_100_characters() {
        let long = format!("WhatsApp from {} (+1647***0150)", "Ａｌｅｘ 🌟 ".repeat(30));
        for raw in [
            "WhatsApp from José Ñúñez (+1647***0150)",
            "Text from +1647***0150",
            "line one\r\nBcc: victim@example.com",
            "\u{202e}evil\u{202c} name",
            "🌟🌟🌟",
            long.as_str(),
            "",
        ] {
            let s = sns_subject(raw);
            assert!(s.chars().count() <= SUBJECT_MAX, "{s}");
            assert!(s.bytes().all(|b| (0x20..0x7f).contains(&b)), "{s:?}");
            assert!(
                s.starts_with(|c: char| c.is_ascii_alphanumeric() || "(+[\"'".contains(c)),
                "{s:?}"
            );
        }
        assert_eq!(
            sns_subject("WhatsApp from José Ñúñez (+1647***0150)"),
            "WhatsApp from Jose Nunez (+1647***0150)"
        );
        assert_eq!(sns_subject("a\r\n  b"), "a b");
        assert!(sns_subject(&long).ends_with("..."));
    }
}
