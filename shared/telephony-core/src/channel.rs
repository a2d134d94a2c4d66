//! Messaging channels on one webhook (issue 15). Twilio delivers WhatsApp messages to the same
//! incoming-message and status webhooks as SMS, with channel-prefixed addresses
//! (`From=whatsapp:+14165550123`, `To=whatsapp:+15877428885`) and extra parameters (`ProfileName`,
//! `WaId`, button and location fields) — Twilio docs, "Messaging webhooks: incoming message"
//! and "WhatsApp: receive messages".
//!
//! The address keeps its channel, and the channel-qualified form ([`Address::key`]) is what every
//! store key, opt-out record and auto-reply window uses, so an SMS conversation and a WhatsApp
//! one with the same phone number never mix.
//!
//! Opt-outs are per channel: STOP on WhatsApp stops WhatsApp messages and leaves SMS as it was,
//! and the reverse. Reasoning: CASL (s. 11) requires an unsubscribe mechanism that works "for the
//! electronic address" the message was sent to, and a WhatsApp account and a phone number's SMS
//! inbox are different electronic addresses; the TCPA and CTIA keyword rules govern SMS only,
//! where the carriers' own STOP handling also applies; on WhatsApp, Meta's policy lets the user
//! block or opt out within WhatsApp. Extending a WhatsApp STOP to SMS would also silently cut
//! off transactional SMS the person did not refuse. Operators who want a wider opt-out record
//! it on both channels.

use crate::ids::E164;

/// A messaging channel.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Channel {
    /// SMS/MMS (no prefix).
    Sms,
    /// WhatsApp (`whatsapp:` prefix).
    WhatsApp,
}

impl Channel {
    /// Metric dimension and stored value: `sms`, `whatsapp`.
    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Sms => "sms",
            Channel::WhatsApp => "whatsapp",
        }
    }
}

/// Why an address was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ChannelError {
    /// A channel prefix we do not serve (`messenger:`, `rcs:`, …).
    #[error("unknown channel prefix {0:?}")]
    UnknownChannel(String),
    /// `whatsapp:` followed by something that is not E.164.
    #[error("WhatsApp address is not E.164: {0}")]
    NotE164(String),
}

/// A sender or recipient with its channel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Address {
    /// The channel.
    pub channel: Channel,
    /// The number as sent without the prefix: E.164 for WhatsApp; for SMS whatever the sender
    /// is (E.164, a short code, an alphanumeric sender id).
    pub id: String,
}

impl Address {
    /// Parses a `From`/`To` value.
    ///
    /// Errors: [`ChannelError::UnknownChannel`] for a prefix other than `whatsapp:`;
    /// [`ChannelError::NotE164`] for a WhatsApp address that is not E.164.
    pub fn parse(raw: &str) -> Result<Self, ChannelError> {
        let raw = raw.trim();
        match raw.split_once(':') {
            None => Ok(Self {
                channel: Channel::Sms,
                id: raw.to_owned(),
            }),
            Some((prefix, rest)) if prefix.eq_ignore_ascii_case("whatsapp") => {
                let n =
                    E164::parse_syntax(rest).map_err(|e| ChannelError::NotE164(e.to_string()))?;
                Ok(Self {
                    channel: Channel::WhatsApp,
                    id: n.as_str().to_owned(),
                })
            }
            Some((prefix, _)) => Err(ChannelError::UnknownChannel(prefix.to_owned())),
        }
    }

    /// The channel-qualified form used in every store key: `+14165550123` for SMS,
    /// `whatsapp:+14165550123` for WhatsApp (as Twilio writes it).
    pub fn key(&self) -> String {
        match self.channel {
            Channel::Sms => self.id.clone(),
            Channel::WhatsApp => format!("whatsapp:{}", self.id),
        }
    }
}

/// WhatsApp's customer-service window: free-form messages may be sent for 24 hours after the
/// customer's last message; outside it only approved templates (Meta WhatsApp Business policy;
/// Twilio docs, "WhatsApp: conversations and the 24-hour window").
pub const CUSTOMER_SERVICE_WINDOW_SECS: u64 = 24 * 3600;

/// How a WhatsApp reply may be sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReplyMode {
    /// Inside the window: a TwiML `<Message>`.
    FreeForm,
    /// Outside it: only an approved template (Messages API with `ContentSid`), or nothing.
    TemplateOnly,
}

/// The reply mode at `now` for a customer whose last message arrived at `last_inbound_at` (Unix
/// seconds).
pub fn reply_mode(last_inbound_at: u64, now: u64) -> ReplyMode {
    if now.saturating_sub(last_inbound_at) < CUSTOMER_SERVICE_WINDOW_SECS {
        ReplyMode::FreeForm
    } else {
        ReplyMode::TemplateOnly
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_keep_their_channel() {
        let wa = Address::parse("whatsapp:+14165550123").unwrap();
        assert_eq!(wa.channel, Channel::WhatsApp);
        assert_eq!(wa.id, "+14165550123");
        assert_eq!(wa.key(), "whatsapp:+14165550123");
        let sms = Address::parse("+14165550123").unwrap();
        assert_eq!(sms.channel, Channel::Sms);
        assert_eq!(sms.key(), "+14165550123");
        assert_ne!(wa.key(), sms.key(), "one phone, two conversations");
        assert_eq!(Address::parse("12345").unwrap().key(), "12345");
        assert_eq!(
            Address::parse("messenger:1234567890"),
            Err(ChannelError::UnknownChannel("messenger".into()))
        );
        assert!(matches!(
            Address::parse("whatsapp:hello"),
            Err(ChannelError::NotE164(_))
        ));
    }

    #[test]
    fn the_customer_service_window_is_24_hours() {
        let t = 1_800_000_000;
        assert_eq!(reply_mode(t, t), ReplyMode::FreeForm);
        assert_eq!(reply_mode(t, t + 24 * 3600 - 1), ReplyMode::FreeForm);
        assert_eq!(reply_mode(t, t + 24 * 3600), ReplyMode::TemplateOnly);
    }
}
