//! `/webcomms-sms-reply` (alias `/twilio/sms`), the number's Messaging URL (spec §4):
//! signature; the message stored once per MessageSid (a retry gets the first reply back and
//! writes nothing new); STOP/START/HELP keywords on the whole message; otherwise MMS media copied
//! to S3, staff notified on SNS, and the auto-reply at most once per sender per window, never to an
//! opted-out sender, one of our own numbers, or a short code. An internal error answers an empty
//! `<Response/>` (nothing sent).
//!
//! Two sequential AWS waits for a text (spec §6): everything independent of the message claim
//! runs with it, then the notice, the finished message and an unused window together (MMS media
//! copies come between, one per item).

mod media;
mod whatsapp;

use media::{copy_media, media_ref};
use telephony_aws::calls::Claim;
use telephony_aws::messages::StoredReply;
use telephony_aws::notifier::{self, MessageNotice};
use telephony_aws::texting_gate;
use telephony_aws::{glue, metrics, now_secs, Body, Deps, Error, Request, Response, Webhook};
use telephony_core::channel::{self, Address, Channel, ReplyMode};
use telephony_core::prompts::{self, Lang};
use telephony_core::sms::{self, Keyword};
use telephony_core::{mask_phone, ParamError, Route, Twiml};
use whatsapp::outside_window;

/// The environment variables this function reads ([`telephony_aws::Needs`]; `template.yaml`
/// sets exactly these on it, `tests/tests/settings.rs` checks).
pub const NEEDS: telephony_aws::Needs = telephony_aws::Needs {
    base: None,
    groups: &[
        &telephony_aws::needs::SIGNED,
        &telephony_aws::needs::NUMBERS,
        &telephony_aws::needs::NUMBER_DEFAULTS,
        &telephony_aws::needs::HOTLINE,
        &telephony_aws::needs::TEXTING,
        &telephony_aws::needs::RECORDINGS,
        &telephony_aws::needs::SMS_NOTICES,
        &telephony_aws::needs::TWILIO_REST,
    ],
};

/// Handles one request; always 200 TwiML unless the signature is missing or bad.
pub async fn handler(deps: &Deps, req: Request) -> Response<Body> {
    glue::messaging_webhook(deps, req, Route::SmsReply, answer).await
}

async fn answer(deps: &Deps, hook: &Webhook) -> Result<Twiml, Error> {
    let p = &hook.params;
    let sid = p.message_sid()?;
    // Channel-qualified addresses (SMS or WhatsApp); an unknown channel is answered with an
    // empty reply, nothing stored.
    let (from_addr, to_addr) = match (
        Address::parse(p.require("From")?),
        Address::parse(p.require("To")?),
    ) {
        (Ok(f), Ok(t)) => (f, t),
        (Err(e), _) | (_, Err(e)) => {
            tracing::warn!(message_sid = %sid, error = %e, "message on a channel we do not serve; nothing stored");
            metrics::count("UnknownChannel", None);
            return Ok(sms::reply(None));
        }
    };
    let channel = from_addr.channel;
    let (from_key, to_key) = (from_addr.key(), to_addr.key());
    let (from, to) = (from_key.as_str(), to_key.as_str());
    let whatsapp = channel == Channel::WhatsApp;
    let body = p.get("Body").unwrap_or("");
    let now = now_secs();
    let msgs = deps.messages();
    let raw = serde_json::to_string(&p.pairs().collect::<Vec<_>>())
        .map_err(|e| ParamError::Malformed(e.to_string()))?;
    let keyword = Keyword::detect(body);
    let window = deps.config.sms_auto_reply_window.as_secs();
    let may_reply =
        keyword.is_none() && (whatsapp || sms::is_replyable_sender(&from_addr.id)) && from != to;

    // Wait 1: the message claim with everything that does not depend on it — the reads the
    // reply needs, the opt-out/opt-in write of a keyword (idempotent, and durable before the
    // message is finished), and the auto-reply window, claimed speculatively and given back below
    // if it is not used.
    let keyword_write = async {
        match keyword {
            Some(k @ (Keyword::OptOut | Keyword::OptIn)) => {
                let source = format!("keyword:{}", body.trim());
                msgs.set_opt_out(from, k == Keyword::OptOut, &source, now)
                    .await
            }
            _ => Ok(()),
        }
    };
    let window_claim = async {
        if may_reply {
            msgs.claim_window("autoreply", from, to, window, now)
                .await
                .map(Some)
        } else {
            Ok(None)
        }
    };
    let reads = async {
        if may_reply {
            let (own, opted) = tokio::join!(
                deps.is_own_number(&from_addr.id),
                msgs.is_opted_out(from, now)
            );
            Ok::<_, Error>((own?, opted?))
        } else {
            Ok((false, false))
        }
    };
    let (claim, written, window_claim, reads, number) = tokio::join!(
        msgs.claim_message(sid.as_str(), channel.as_str(), from, to, body, &raw, now),
        keyword_write,
        window_claim,
        reads,
        deps.number_config(&to_addr.id)
    );
    let (claim, window_claim) = (claim?, window_claim?);
    written?;
    let (own, opted_out) = reads?;
    let claimed_window = window_claim == Some(Claim::Created);
    let release = async {
        if claimed_window {
            if let Err(e) = msgs
                .release_window("autoreply", from, to, window, now)
                .await
            {
                tracing::warn!(error = %e, "unused auto-reply window not given back");
            }
        }
    };

    if claim == Claim::AlreadyExists {
        tracing::info!(message_sid = %sid, "retried message webhook; answering the first reply");
        let (stored, ()) = tokio::join!(msgs.stored_reply(sid.as_str()), release);
        let (stored, received_at) = stored?;
        let text = match stored {
            StoredReply::Done(text) => text,
            StoredReply::Pending => None,
        };
        // WhatsApp: a redelivery after the customer-service window may not carry free-form text.
        if whatsapp
            && text.is_some()
            && channel::reply_mode(received_at, now) == ReplyMode::TemplateOnly
        {
            outside_window(deps, &number, to, from).await;
            return Ok(sms::reply(None));
        }
        return Ok(sms::reply(text.as_deref()));
    }
    metrics::count("SmsReceived", Some(("Channel", channel.as_str())));
    // On WhatsApp only numbers enabled for it answer (keywords are still recorded).
    let replies_on_channel = !whatsapp || number.whatsapp_enabled;
    let mut media = Vec::new();
    let reply = match keyword {
        Some(Keyword::OptOut) => {
            tracing::info!(message_sid = %sid, from = %mask_phone(from), "opt-out recorded");
            metrics::count("SmsOptOut", Some(("Channel", channel.as_str())));
            None
        }
        Some(Keyword::OptIn) => {
            metrics::count("SmsOptIn", Some(("Channel", channel.as_str())));
            None
        }
        Some(Keyword::Help) if !replies_on_channel => None,
        Some(Keyword::Help) => Some(prompts::fill(
            {
                let t = Lang::from_tag(&number.language).texts();
                if whatsapp {
                    t.whatsapp_help
                } else {
                    t.sms_help
                }
            },
            &number.business_name,
            &to_addr.id,
            "",
        )),
        None => {
            // MMS only: the copies are extra waits (Twilio download + S3 put per item).
            media = copy_media(deps, sid.as_str(), p).await;
            if !may_reply {
                tracing::info!(from = %mask_phone(from), "no auto-reply to a short code");
            } else if own {
                tracing::info!(from = %mask_phone(from), "no auto-reply to our own number");
            } else if !replies_on_channel {
                tracing::info!(to = %mask_phone(to), "number not enabled for WhatsApp: no auto-reply");
            }
            if claimed_window && !own && !opted_out && replies_on_channel {
                let template = number
                    .sms_auto_reply
                    .as_deref()
                    .unwrap_or(Lang::from_tag(&number.language).texts().sms_auto_reply);
                Some(sms::auto_reply_text(template, &number.business_name))
            } else {
                None
            }
        }
    };
    // US texting compliance (issue 10): a reply from a US long code needs the org's A2P
    // approval; the keyword's opt-out/opt-in above is recorded either way.
    let reply = match reply {
        Some(_) if !texting_gate::may_text(deps, to, &number.org_id, "reply").await => None,
        other => other,
    };
    let used_window = reply.is_some() && keyword.is_none();
    if used_window {
        metrics::count("SmsAutoReplies", Some(("Channel", channel.as_str())));
    }

    // Wait 2: the staff notice (not for keywords), the message finished with its reply, and an
    // unused window given back.
    let notice = MessageNotice {
        kind: channel.as_str(),
        profile_name: p.get("ProfileName"),
        message_sid: sid.as_str(),
        from,
        to,
        body,
        media: media.iter().map(|m| media_ref(deps, m)).collect(),
        auto_reply: reply.as_deref(),
    };
    // The subject names the sender (SNS-safe: `notifier::sns_subject`); the full profile name
    // is in the body.
    let subject = match p.get("ProfileName").filter(|_| whatsapp) {
        Some(name) => format!("WhatsApp from {name} ({})", mask_phone(&from_addr.id)),
        None => format!("Text from {}", mask_phone(&from_addr.id)),
    };
    let topic = &deps.config.sms_topic_arn;
    let publish = async {
        if keyword.is_some() {
            return Ok(());
        }
        notifier::publish(deps.sns(), topic, &subject, &notice).await
    };
    let unused = async {
        if !used_window {
            release.await;
        }
    };
    let (published, finished, ()) = tokio::join!(
        publish,
        msgs.finish(
            sid.as_str(),
            reply.as_deref(),
            keyword.map(Keyword::as_str),
            &media,
            now,
        ),
        unused
    );
    finished?;
    // A notice SNS refused never changes what the texter gets (issue 27 §6): it is kept on the
    // message for the monitor to publish.
    if let Err(e) = published {
        tracing::error!(message_sid = %sid, error = %e, "staff notice not published; deferred to the monitor");
        metrics::count("NoticesDeferred", None);
        let message = serde_json::to_string(&notice).unwrap_or_default();
        if let Err(e) = msgs
            .defer_notice(sid.as_str(), topic, &subject, &message, now)
            .await
        {
            tracing::error!(message_sid = %sid, error = %e, "deferred notice not recorded");
        }
    }
    Ok(sms::reply(reply.as_deref()))
}
