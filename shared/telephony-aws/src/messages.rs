//! Messaging state (spec §4, §5): the `messages` table (key `pk` = MessageSid: inbound texts and
//! message statuses), the `opt-outs` table (key `pk` = sender E.164) and the auto-reply window
//! items on the `rate-limits` table. Every item has an `expires_at` TTL; reads of TTL'd items
//! compare it themselves, because DynamoDB deletes expired items late.

use crate::calls::Advance;
use crate::error::Error;
use crate::item::{get_s, is_conditional as conditional, n, s, Claim};
use aws_sdk_dynamodb::types::AttributeValue;
use aws_sdk_dynamodb::Client;

/// One MMS media item as stored on the message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MediaItem {
    /// Twilio's media URL.
    pub url: String,
    /// `MediaContentType{N}`.
    pub content_type: String,
    /// S3 key of the copy; `None` when not copied (over the cap, or the download failed).
    pub s3_key: Option<String>,
    /// The copy failed for a reason a retry may cure (Twilio 5xx, S3 down): the monitor
    /// resumes it ([`Messages::pending_work`], issue 27 §5). `false` once copied or refused for
    /// good (over the cap).
    pub copy_pending: bool,
}

/// Value of `pending` on a message with work left (a media copy or a staff notice): the
/// `messages-pending` index is sparse, only such items carry it.
pub const WORK_PENDING: &str = "pending";

/// A message with work the monitor finishes: media still to copy, a notice still to publish.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingMessage {
    /// MessageSid.
    pub sid: String,
    /// Its media list as stored (items with `copy_pending` to resume).
    pub media: Vec<MediaItem>,
    /// A staff notice SNS refused: `(topic ARN, subject, message JSON)`.
    pub notice: Option<(String, String, String)>,
}

fn media_attr(media: &[MediaItem]) -> AttributeValue {
    AttributeValue::L(
        media
            .iter()
            .map(|m| {
                let mut item = std::collections::HashMap::from([
                    ("url".to_owned(), s(m.url.clone())),
                    ("content_type".to_owned(), s(m.content_type.clone())),
                ]);
                if let Some(k) = &m.s3_key {
                    item.insert("s3_key".to_owned(), s(k.clone()));
                }
                if m.copy_pending {
                    item.insert("copy_pending".to_owned(), AttributeValue::Bool(true));
                }
                AttributeValue::M(item)
            })
            .collect(),
    )
}

fn media_of(v: Option<&AttributeValue>) -> Vec<MediaItem> {
    let get = get_s;
    v.and_then(|v| v.as_l().ok())
        .map(|l| {
            l.iter()
                .filter_map(|e| e.as_m().ok())
                .map(|m| MediaItem {
                    url: get(m, "url").unwrap_or_default(),
                    content_type: get(m, "content_type").unwrap_or_default(),
                    s3_key: get(m, "s3_key"),
                    copy_pending: matches!(m.get("copy_pending"), Some(AttributeValue::Bool(true))),
                })
                .collect()
        })
        .unwrap_or_default()
}

/// What a retried webhook gets back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoredReply {
    /// The first delivery finished: its reply text (`None` = it replied nothing).
    Done(Option<String>),
    /// The first delivery has not finished (or failed midway): answer nothing.
    Pending,
}

/// Access to the messaging tables.
#[derive(Debug, Clone, Copy)]
pub struct Messages<'a> {
    client: &'a Client,
    messages: &'a str,
    opt_outs: &'a str,
    windows: &'a str,
    message_ttl: u64,
    opt_out_ttl: u64,
    suppression: Option<&'a [u8]>,
}

impl<'a> Messages<'a> {
    /// The tables; `message_ttl`/`opt_out_ttl` are retention periods in seconds.
    pub fn new(
        client: &'a Client,
        messages: &'a str,
        opt_outs: &'a str,
        windows: &'a str,
        message_ttl: u64,
        opt_out_ttl: u64,
    ) -> Self {
        Self {
            client,
            messages,
            opt_outs,
            windows,
            message_ttl,
            opt_out_ttl,
            suppression: None,
        }
    }

    /// With the suppression secret (`SUPPRESSION_SECRET`): an opt-out erased by a privacy
    /// request lives on as `sup#<HMAC>` ([`telephony_core::privacy::suppression_key`]) and still
    /// counts in [`Self::is_opted_out`]; an opt-in removes it.
    pub fn with_suppression(mut self, secret: Option<&'a [u8]>) -> Self {
        self.suppression = secret;
        self
    }

    fn update(
        &self,
        table: &str,
        pk: &str,
    ) -> aws_sdk_dynamodb::operation::update_item::builders::UpdateItemFluentBuilder {
        self.client.update_item().table_name(table).key("pk", s(pk))
    }

    fn get(
        &self,
        table: &str,
        pk: &str,
    ) -> aws_sdk_dynamodb::operation::get_item::builders::GetItemFluentBuilder {
        self.client
            .get_item()
            .table_name(table)
            .key("pk", s(pk))
            .consistent_read(true)
    }

    /// Stores an inbound message once (natural key MessageSid): from, to, body, `NumMedia` and the
    /// raw parameters (JSON), expiring after the message retention. `AlreadyExists` = a retry.
    ///
    /// Errors: [`Error::Dynamo`].
    #[allow(clippy::too_many_arguments)]
    pub async fn claim_message(
        &self,
        sid: &str,
        channel: &str,
        from: &str,
        to: &str,
        body: &str,
        raw_params: &str,
        now: u64,
    ) -> Result<Claim, Error> {
        let r = self.update(self.messages, sid)
            .update_expression(
                "SET direction = :in, channel = :ch, #from = :from, #to = :to, body = :body, raw_params = :raw, received_at = :now, expires_at = :exp",
            )
            .expression_attribute_values(":ch", s(channel))
            .condition_expression("attribute_not_exists(received_at)")
            .expression_attribute_names("#from", "from")
            .expression_attribute_names("#to", "to")
            .expression_attribute_values(":in", s("inbound"))
            .expression_attribute_values(":from", s(from))
            .expression_attribute_values(":to", s(to))
            .expression_attribute_values(":body", s(body))
            .expression_attribute_values(":raw", s(raw_params))
            .expression_attribute_values(":now", n(now))
            .expression_attribute_values(":exp", n(now + self.message_ttl))
            .send()
            .await;
        crate::item::claim_of(r, "UpdateItem messages (claim)")
    }

    /// Records how the first delivery was answered (`reply` text or none), its keyword and media.
    ///
    /// Errors: [`Error::Dynamo`].
    pub async fn finish(
        &self,
        sid: &str,
        reply: Option<&str>,
        keyword: Option<&str>,
        media: &[MediaItem],
        now: u64,
    ) -> Result<(), Error> {
        let mut req = self
            .update(self.messages, sid)
            .expression_attribute_values(":r", reply.map_or(AttributeValue::Null(true), s))
            .expression_attribute_values(":k", keyword.map_or(AttributeValue::Null(true), s))
            .expression_attribute_values(":m", media_attr(media));
        let mut expr = String::from("SET reply = :r, keyword = :k, media = :m");
        if media.iter().any(|m| m.copy_pending) {
            expr.push_str(", pending = :p, pending_at = if_not_exists(pending_at, :now)");
            req = req
                .expression_attribute_values(":p", s(WORK_PENDING))
                .expression_attribute_values(":now", n(now));
        }
        req.update_expression(expr)
            .send()
            .await
            .map_err(Error::dynamo("UpdateItem messages (finish)"))?;
        Ok(())
    }

    /// Keeps a staff notice SNS refused, for the monitor to publish ([`Self::pending_work`]):
    /// a notice failure never changes what the texter gets (issue 27 §6).
    ///
    /// Errors: [`Error::Dynamo`].
    pub async fn defer_notice(
        &self,
        sid: &str,
        topic: &str,
        subject: &str,
        message: &str,
        now: u64,
    ) -> Result<(), Error> {
        self.update(self.messages, sid)
            .update_expression(
                "SET notice_topic = :t, notice_subject = :s, notice_message = :m, pending = :p, pending_at = if_not_exists(pending_at, :now)",
            )
            .expression_attribute_values(":t", s(topic))
            .expression_attribute_values(":s", s(subject))
            .expression_attribute_values(":m", s(message))
            .expression_attribute_values(":p", s(WORK_PENDING))
            .expression_attribute_values(":now", n(now))
            .send()
            .await
            .map_err(Error::dynamo("UpdateItem messages (deferred notice)"))?;
        Ok(())
    }

    /// Messages with work left (the sparse `messages-pending` index), oldest first, at most
    /// `limit`.
    ///
    /// Errors: [`Error::Dynamo`].
    pub async fn pending_work(&self, limit: i32) -> Result<Vec<PendingMessage>, Error> {
        let out = self
            .client
            .query()
            .table_name(self.messages)
            .index_name("messages-pending")
            .key_condition_expression("pending = :p")
            .expression_attribute_values(":p", s(WORK_PENDING))
            .limit(limit)
            .send()
            .await
            .map_err(Error::dynamo("Query messages (pending)"))?;
        let get = get_s;
        Ok(out
            .items()
            .iter()
            .filter_map(|i| {
                let notice = match (
                    get(i, "notice_topic"),
                    get(i, "notice_subject"),
                    get(i, "notice_message"),
                ) {
                    (Some(t), Some(s), Some(m)) => Some((t, s, m)),
                    _ => None,
                };
                Some(PendingMessage {
                    sid: get(i, "pk")?,
                    media: media_of(i.get("media")),
                    notice,
                })
            })
            .collect())
    }

    /// Records the monitor's progress on a pending message: the media list as it now is, and
    /// whether the deferred notice went out; the `pending` mark goes once nothing is left.
    ///
    /// Errors: [`Error::Dynamo`].
    pub async fn settle_pending(
        &self,
        sid: &str,
        media: &[MediaItem],
        notice_sent: bool,
        notice_left: bool,
    ) -> Result<(), Error> {
        let mut expr = String::from("SET media = :m");
        let mut removes: Vec<&str> = Vec::new();
        if notice_sent {
            removes.extend(["notice_topic", "notice_subject", "notice_message"]);
        }
        if !media.iter().any(|m| m.copy_pending) && !notice_left {
            removes.extend(["pending", "pending_at"]);
        }
        if !removes.is_empty() {
            expr.push_str(" REMOVE ");
            expr.push_str(&removes.join(", "));
        }
        self.update(self.messages, sid)
            .update_expression(expr)
            .expression_attribute_values(":m", media_attr(media))
            .send()
            .await
            .map_err(Error::dynamo("UpdateItem messages (pending settled)"))?;
        Ok(())
    }

    /// The reply of the first delivery of `sid`.
    ///
    /// Errors: [`Error::Dynamo`].
    /// Also returns when the first delivery arrived (`received_at`, Unix seconds; 0 if unknown).
    pub async fn stored_reply(&self, sid: &str) -> Result<(StoredReply, u64), Error> {
        let out = self
            .get(self.messages, sid)
            .send()
            .await
            .map_err(Error::dynamo("GetItem messages"))?;
        let received_at = out
            .item
            .as_ref()
            .and_then(|i| i.get("received_at"))
            .and_then(|v| v.as_n().ok())
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        let stored = match out.item.as_ref().and_then(|i| i.get("reply")) {
            Some(AttributeValue::S(text)) => StoredReply::Done(Some(text.clone())),
            Some(_) => StoredReply::Done(None),
            None => StoredReply::Pending,
        };
        Ok((stored, received_at))
    }

    /// Forward-only message status (spec §4): stored only above the stored rank; `ErrorCode` and
    /// `ErrorMessage` kept when given.
    ///
    /// Errors: [`Error::Dynamo`] (a stale status is [`Advance::Stale`]).
    pub async fn advance_status(
        &self,
        sid: &str,
        status: &str,
        rank: u8,
        error: Option<(&str, Option<&str>)>,
        now: u64,
    ) -> Result<Advance, Error> {
        let mut expr = String::from(
            "SET #status = :s, status_rank = :r, status_at = :now, expires_at = if_not_exists(expires_at, :exp)",
        );
        let mut req = self
            .update(self.messages, sid)
            .condition_expression("attribute_not_exists(status_rank) OR status_rank < :r")
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(":s", s(status))
            .expression_attribute_values(":r", n(u64::from(rank)))
            .expression_attribute_values(":now", n(now))
            .expression_attribute_values(":exp", n(now + self.message_ttl));
        if let Some((code, message)) = error {
            expr.push_str(", error_code = :ec");
            req = req.expression_attribute_values(":ec", s(code));
            if let Some(m) = message {
                expr.push_str(", error_message = :em");
                req = req.expression_attribute_values(":em", s(m));
            }
        }
        match req.update_expression(expr).send().await {
            Ok(_) => Ok(Advance::Advanced),
            Err(e) if conditional(&e) => Ok(Advance::Stale),
            Err(e) => Err(Error::dynamo("UpdateItem messages (status)")(e)),
        }
    }

    /// Records an opt-out (`opted_out = true`) or opt-in for `e164`, with the time and the source
    /// (`keyword:STOP`, `error:21610`, …); kept three years (configurable).
    ///
    /// Errors: [`Error::Dynamo`].
    pub async fn set_opt_out(
        &self,
        e164: &str,
        opted_out: bool,
        source: &str,
        now: u64,
    ) -> Result<(), Error> {
        self.update(self.opt_outs, e164)
            .update_expression(
                "SET opted_out = :o, #source = :src, changed_at = :now, expires_at = :exp",
            )
            .expression_attribute_names("#source", "source")
            .expression_attribute_values(":o", AttributeValue::Bool(opted_out))
            .expression_attribute_values(":src", s(source))
            .expression_attribute_values(":now", n(now))
            .expression_attribute_values(":exp", n(now + self.opt_out_ttl))
            .send()
            .await
            .map_err(Error::dynamo("UpdateItem opt-outs"))?;
        if let (false, Some(k)) = (opted_out, self.suppression) {
            self.client
                .delete_item()
                .table_name(self.opt_outs)
                .key("pk", s(telephony_core::privacy::suppression_key(k, e164)))
                .send()
                .await
                .map_err(Error::dynamo("DeleteItem opt-outs (suppression)"))?;
        }
        Ok(())
    }

    /// Whether `e164` is opted out now (an expired record counts as absent): its own record, or
    /// (with the suppression secret) the suppression entry an erasure left, both read in one
    /// BatchGetItem (consistent reads).
    ///
    /// Errors: [`Error::Dynamo`].
    pub async fn is_opted_out(&self, e164: &str, now: u64) -> Result<bool, Error> {
        let mut pks = vec![e164.to_owned()];
        pks.extend(
            self.suppression
                .map(|k| telephony_core::privacy::suppression_key(k, e164)),
        );
        let mut keys = aws_sdk_dynamodb::types::KeysAndAttributes::builder().consistent_read(true);
        for pk in &pks {
            keys = keys.keys(std::collections::HashMap::from([("pk".to_owned(), s(pk))]));
        }
        let keys = keys.build().map_err(|e| Error::Dynamo {
            op: "BatchGetItem opt-outs",
            message: e.to_string(),
        })?;
        let mut pending = std::collections::HashMap::from([(self.opt_outs.to_owned(), keys)]);
        let mut items = Vec::new();
        // Unprocessed keys (throttling) are asked again; two keys never need more than a retry.
        for _ in 0..3 {
            let out = self
                .client
                .batch_get_item()
                .set_request_items(Some(pending))
                .send()
                .await
                .map_err(Error::dynamo("BatchGetItem opt-outs"))?;
            items.extend(
                out.responses
                    .unwrap_or_default()
                    .remove(self.opt_outs)
                    .unwrap_or_default(),
            );
            pending = out.unprocessed_keys.unwrap_or_default();
            if pending.is_empty() {
                break;
            }
        }
        if !pending.is_empty() {
            return Err(Error::Dynamo {
                op: "BatchGetItem opt-outs",
                message: "keys left unprocessed after 3 attempts".into(),
            });
        }
        Ok(items.iter().any(|item| {
            let live = item
                .get("expires_at")
                .and_then(|v| v.as_n().ok())
                .and_then(|v| v.parse::<u64>().ok())
                .is_some_and(|exp| exp > now);
            live && item.get("opted_out").and_then(|v| v.as_bool().ok()) == Some(&true)
        }))
    }

    /// Claims the `kind` window (`autoreply`, `missedcall`) of `from` → `to` for `window_secs`:
    /// `Created` when no live window item exists, `AlreadyExists` inside the window. The
    /// conditional write makes it safe under retried webhooks: one claim per window.
    ///
    /// Errors: [`Error::Dynamo`].
    pub async fn claim_window(
        &self,
        kind: &str,
        from: &str,
        to: &str,
        window_secs: u64,
        now: u64,
    ) -> Result<Claim, Error> {
        let r = self
            .client
            .update_item()
            .table_name(self.windows)
            .key("pk", s(format!("{kind}#{from}#{to}")))
            .update_expression("SET expires_at = :end")
            .condition_expression("attribute_not_exists(expires_at) OR expires_at <= :now")
            .expression_attribute_values(":end", n(now + window_secs))
            .expression_attribute_values(":now", n(now))
            .send()
            .await;
        crate::item::claim_of(r, "UpdateItem rate-limits (window)")
    }

    /// Gives back a `kind` window claimed at `now` that was not used (deleted only if it is
    /// still that claim).
    ///
    /// Errors: [`Error::Dynamo`].
    pub async fn release_window(
        &self,
        kind: &str,
        from: &str,
        to: &str,
        window_secs: u64,
        now: u64,
    ) -> Result<(), Error> {
        let r = self
            .client
            .delete_item()
            .table_name(self.windows)
            .key("pk", s(format!("{kind}#{from}#{to}")))
            .condition_expression("expires_at = :end")
            .expression_attribute_values(":end", n(now + window_secs))
            .send()
            .await;
        match r {
            Ok(_) => Ok(()),
            Err(e) if conditional(&e) => Ok(()),
            Err(e) => Err(Error::dynamo("DeleteItem rate-limits (window)")(e)),
        }
    }

    /// The raw message item (operators' views and tests).
    ///
    /// Errors: [`Error::Dynamo`].
    pub async fn raw_item(
        &self,
        sid: &str,
    ) -> Result<Option<std::collections::HashMap<String, AttributeValue>>, Error> {
        let out = self
            .get(self.messages, sid)
            .send()
            .await
            .map_err(Error::dynamo("GetItem messages (raw)"))?;
        Ok(out.item)
    }
}

/// What [`resume_pending`] did.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Resumed {
    /// Media copies completed (or refused for good).
    pub media: usize,
    /// Deferred staff notices published.
    pub notices: usize,
    /// Messages left pending for the next run.
    pub left: usize,
}

/// The monitor's pass over messages with work left: copies each media item still
/// `copy_pending` to its deterministic key, publishes each deferred notice, and settles the
/// item. Failures stay pending for the next run (issue 27 §5, §6).
///
/// Errors: [`Error::Dynamo`] when the index cannot be read.
pub async fn resume_pending(deps: &crate::Deps, limit: i32) -> Result<Resumed, Error> {
    let msgs = deps.messages();
    let mut done = Resumed::default();
    for mut p in msgs.pending_work(limit).await? {
        for (i, m) in p.media.iter_mut().enumerate() {
            if !m.copy_pending {
                continue;
            }
            *m = crate::recordings::copy_media_item(deps, &p.sid, i, &m.url, &m.content_type).await;
            if m.copy_pending {
                tracing::warn!(message_sid = %p.sid, media = i, "media copy failed again; next run");
            } else {
                done.media += 1;
            }
        }
        let mut sent = false;
        if let Some((topic, subject, message)) = &p.notice {
            match crate::notifier::publish_raw(deps.sns(), topic, subject, message).await {
                Ok(()) => {
                    sent = true;
                    done.notices += 1;
                }
                Err(e) => {
                    tracing::warn!(message_sid = %p.sid, error = %e, "deferred notice failed again; next run")
                }
            }
        }
        let left = p.notice.is_some() && !sent;
        if left || p.media.iter().any(|m| m.copy_pending) {
            done.left += 1;
        }
        msgs.settle_pending(&p.sid, &p.media, sent, left).await?;
    }
    Ok(done)
}
