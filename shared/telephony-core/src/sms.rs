//! Messaging decisions (spec §4): compliance keywords, who may get an auto-reply, the help and
//! auto-reply texts, the forward-only message status order, media file extensions.

use crate::twiml::{Twiml, Verb};

/// Every compliance keyword and what it does, in one table (CTIA / Twilio "Advanced Opt-Out"
/// defaults for SMS, plus OPTOUT and REVOKE for opt-out; START, UNSTOP, YES for opt-in; HELP and
/// INFO for help), and their French forms for Canadian senders (ARRET, DESABONNER to opt out,
/// AIDE for help; accents are folded, so ARRÊT and DÉSABONNER match too; the CRTC and CASL
/// expect an unsubscribe mechanism in the language of the message). Written in lowercase ASCII,
/// the form [`Keyword::detect`] compares against.
pub const KEYWORDS: [(&str, Keyword); 16] = [
    ("stop", Keyword::OptOut),
    ("stopall", Keyword::OptOut),
    ("unsubscribe", Keyword::OptOut),
    ("cancel", Keyword::OptOut),
    ("end", Keyword::OptOut),
    ("quit", Keyword::OptOut),
    ("optout", Keyword::OptOut),
    ("revoke", Keyword::OptOut),
    ("start", Keyword::OptIn),
    ("unstop", Keyword::OptIn),
    ("yes", Keyword::OptIn),
    ("help", Keyword::Help),
    ("info", Keyword::Help),
    ("arret", Keyword::OptOut),
    ("desabonner", Keyword::OptOut),
    ("aide", Keyword::Help),
];
/// Default auto-reply; `{business}` is replaced by the number's business name.
pub const DEFAULT_AUTO_REPLY: &str =
    "Thanks for texting {business}. We got your message and will get back to you soon. Reply STOP to opt out.";

/// A compliance keyword.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Keyword {
    /// STOP and friends: record an opt-out, send nothing.
    OptOut,
    /// START, UNSTOP, YES: record an opt-in, send nothing.
    OptIn,
    /// HELP, INFO: send the help text.
    Help,
}

impl Keyword {
    /// Matches the **whole** message against [`KEYWORDS`], ignoring case, width, punctuation,
    /// whitespace and emoji: `"Stop."`, `" STOP "`, `"ＳＴＯＰ"` (full-width), `"ＳTOP"` and
    /// `"İnfo"` are keywords; `"please stop"` is not.
    ///
    /// How: Unicode compatibility decomposition (NFKD, UAX #15: full-width and other
    /// compatibility forms become their plain letters, accented letters a base letter and a
    /// combining mark), lowercasing (Unicode default case mapping), then combining marks and every
    /// character that is not a letter or digit are dropped (so the dot `İ` leaves after
    /// lowercasing does not matter, and `ARRÊT` is `arret`). A person whose keyboard produces unusual
    /// letters must still be able to opt out (CASL s. 11, TCPA opt-out rules).
    pub fn detect(body: &str) -> Option<Self> {
        let word = fold(body);
        KEYWORDS
            .iter()
            .find(|(k, _)| *k == word)
            .map(|(_, kind)| *kind)
    }

    /// Stored and logged name.
    pub fn as_str(self) -> &'static str {
        match self {
            Keyword::OptOut => "opt_out",
            Keyword::OptIn => "opt_in",
            Keyword::Help => "help",
        }
    }
}

/// `text` reduced for keyword matching: NFKC, lowercase, only letters and digits kept.
fn fold(text: &str) -> String {
    use unicode_normalization::char::is_combining_mark;
    use unicode_normalization::UnicodeNormalization;
    text.nfkd()
        .flat_map(char::to_lowercase)
        .filter(|c| !is_combining_mark(*c) && c.is_alphanumeric())
        .collect()
}

/// Whether `from` is a number we may text back at all: a full E.164 number (long code). Short
/// codes (`"12345"`, 5–6 digits), alphanumeric senders and anything unparsable are refused, so an
/// auto-responder can never talk to another auto-responder (flaw F-65).
pub fn is_replyable_sender(from: &str) -> bool {
    let digits = from.strip_prefix('+').unwrap_or("");
    digits.len() >= 8 && digits.len() <= 15 && digits.bytes().all(|b| b.is_ascii_digit())
}

/// The `From` values Twilio gives calls without a caller ID, spelled on a keypad: ANONYMOUS,
/// RESTRICTED, UNAVAILABLE, BLOCKED (Twilio support, "Why am I getting calls from these strange
/// numbers?"). They look like numbers and must never be texted.
pub const HIDDEN_CALLER_IDS: [&str; 4] = ["+266696687", "+7378742833", "+86282452253", "+2562533"];

/// What is known of a finished call when deciding on a missed-call text (issue 14).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FinishedCall<'a> {
    /// Final `CallStatus` of the caller's call.
    pub status: &'a str,
    /// A department (or after-hours) dial was answered.
    pub reached_person: bool,
    /// The caller reached the voicemail recording and left something.
    pub voicemail_left: bool,
    /// The frontdoor rejected the call for its rate limit.
    pub rate_limited: bool,
    /// The caller (`From`).
    pub caller: &'a str,
    /// Our number that was called (`To`), which would send the text.
    pub our_number: &'a str,
}

/// Why a finished call gets no missed-call text, or `None` to send one: the call must have ended
/// (`completed`, `busy`, `no-answer`, `failed`, `canceled`) without reaching a person or leaving a
/// voicemail, not be a rate-limited call, and come from a textable number (not anonymous, not a
/// short code). Which of our numbers may text is the A2P gate's decision alone
/// ([`crate::compliance::gate`]: US long codes after approval; toll-free and Canadian numbers
/// always; issue 22 §10), checked with the org's record, as are opt-outs, our own numbers and the
/// once-a-day window.
pub fn missed_call_skip(c: &FinishedCall<'_>) -> Option<&'static str> {
    if !matches!(
        c.status,
        "completed" | "busy" | "no-answer" | "failed" | "canceled"
    ) {
        return Some("not_finished");
    }
    if c.reached_person {
        return Some("answered");
    }
    if c.voicemail_left {
        return Some("voicemail_left");
    }
    if c.rate_limited {
        return Some("rate_limited");
    }
    if !is_replyable_sender(c.caller) || HIDDEN_CALLER_IDS.contains(&c.caller) {
        return Some("not_textable");
    }
    None
}

/// Fills an auto-reply template (`{business}`).
pub fn auto_reply_text(template: &str, business: &str) -> String {
    template.replace("{business}", business)
}

/// `<Response><Message>text</Message></Response>`, or an empty `<Response/>` for `None`.
pub fn reply(text: Option<&str>) -> Twiml {
    match text {
        Some(t) => Twiml::new().then(Verb::Message(t.to_owned())),
        None => Twiml::new(),
    }
}

/// Rank of a Twilio `MessageStatus` (spec §4): `accepted`/`queued`/`scheduled` (1) < `sending` (2)
/// < `sent` (3) < `delivered`/`undelivered`/`failed`/`read` (4); inbound `receiving` (1) <
/// `received` (4). Unknown → `None`.
pub fn message_status_rank(status: &str) -> Option<u8> {
    Some(match status {
        "accepted" | "queued" | "scheduled" | "receiving" => 1,
        "sending" => 2,
        "sent" => 3,
        "delivered" | "undelivered" | "failed" | "received" | "canceled" => 4,
        // WhatsApp read receipts come after `delivered` (Twilio: WhatsApp message statuses).
        "read" => 5,
        _ => return None,
    })
}

/// Twilio error 21610: "Attempt to send to unsubscribed recipient" — the recipient replied STOP.
pub const ERROR_UNSUBSCRIBED: &str = "21610";

/// File extension for a media content type (`image/jpeg` → `jpg`); unknown types → `bin`.
pub fn media_extension(content_type: &str) -> &'static str {
    match content_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase()
        .as_str()
    {
        "image/jpeg" | "image/jpg" => "jpg",
        "image/png" => "png",
        "image/gif" => "gif",
        "image/webp" => "webp",
        "image/heic" => "heic",
        "video/mp4" => "mp4",
        "audio/mpeg" => "mp3",
        "audio/ogg" => "ogg",
        "text/vcard" | "text/x-vcard" => "vcf",
        "application/pdf" => "pdf",
        "text/plain" => "txt",
        _ => "bin",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keywords_match_the_whole_message_ignoring_case_and_punctuation() {
        let cases = [
            ("STOP", Some(Keyword::OptOut)),
            ("stop!", Some(Keyword::OptOut)),
            ("  Stop. ", Some(Keyword::OptOut)),
            ("Unsubscribe", Some(Keyword::OptOut)),
            ("opt-out", Some(Keyword::OptOut)),
            ("revoke", Some(Keyword::OptOut)),
            ("start", Some(Keyword::OptIn)),
            ("Yes!", Some(Keyword::OptIn)),
            ("unstop", Some(Keyword::OptIn)),
            ("help?", Some(Keyword::Help)),
            ("INFO", Some(Keyword::Help)),
            ("please stop", None),
            ("stop it", None),
            ("", None),
            ("yesterday", None),
            ("ＳＴＯＰ", Some(Keyword::OptOut)),
            ("ＳTOP", Some(Keyword::OptOut)),
            ("İnfo", Some(Keyword::Help)),
            ("🛑 stop 🛑", Some(Keyword::OptOut)),
            ("ｓｔｏｐ！", Some(Keyword::OptOut)),
            ("stop 2", None),
        ];
        for (body, want) in cases {
            assert_eq!(Keyword::detect(body), want, "{body:?}");
        }
    }

    #[test]
    fn french_keywords_match_with_or_without_accents() {
        for (body, want) in [
            ("ARRÊT", Some(Keyword::OptOut)),
            ("arret", Some(Keyword::OptOut)),
            ("Désabonner", Some(Keyword::OptOut)),
            ("AIDE", Some(Keyword::Help)),
            ("aide moi", None),
        ] {
            assert_eq!(Keyword::detect(body), want, "{body}");
        }
    }

    #[test]
    fn missed_call_texts_only_for_missed_textable_canadian_calls() {
        let base = FinishedCall {
            status: "completed",
            reached_person: false,
            voicemail_left: false,
            rate_limited: false,
            caller: "+14165550123",
            our_number: "+15875550100",
        };
        assert_eq!(missed_call_skip(&base), None);
        let cases = [
            (
                FinishedCall {
                    status: "in-progress",
                    ..base
                },
                "not_finished",
            ),
            (
                FinishedCall {
                    reached_person: true,
                    ..base
                },
                "answered",
            ),
            (
                FinishedCall {
                    voicemail_left: true,
                    ..base
                },
                "voicemail_left",
            ),
            (
                FinishedCall {
                    rate_limited: true,
                    ..base
                },
                "rate_limited",
            ),
            (
                FinishedCall {
                    caller: "anonymous",
                    ..base
                },
                "not_textable",
            ),
            (
                FinishedCall {
                    caller: "+266696687",
                    ..base
                },
                "not_textable",
            ),
            (
                FinishedCall {
                    caller: "12345",
                    ..base
                },
                "not_textable",
            ),
        ];
        // US and toll-free senders are the A2P gate's decision, not this one's (issue 22 §10).
        for ours in ["+12125550100", "+18885550100"] {
            assert_eq!(
                missed_call_skip(&FinishedCall {
                    our_number: ours,
                    ..base
                }),
                None,
                "{ours}"
            );
        }
        for (c, want) in cases {
            assert_eq!(missed_call_skip(&c), Some(want), "{c:?}");
        }
        assert_eq!(
            missed_call_skip(&FinishedCall {
                status: "no-answer",
                ..base
            }),
            None
        );
    }

    #[test]
    fn only_long_codes_get_replies() {
        assert!(is_replyable_sender("+14165550123"));
        for bad in ["12345", "+12345", "898287", "TWILIO", "", "+1416555012x"] {
            assert!(!is_replyable_sender(bad), "{bad}");
        }
    }

    #[test]
    fn message_status_order() {
        let order = ["queued", "sending", "sent", "delivered"];
        for w in order.windows(2) {
            assert!(
                message_status_rank(w[0]) < message_status_rank(w[1]),
                "{w:?}"
            );
        }
        assert_eq!(
            message_status_rank("undelivered"),
            message_status_rank("delivered")
        );
        // WhatsApp: `read` after `delivered` advances; `sent` after `read` does not.
        assert!(message_status_rank("read") > message_status_rank("delivered"));
        assert!(message_status_rank("sent") < message_status_rank("read"));
        assert_eq!(message_status_rank("nope"), None);
    }

    #[test]
    fn replies_are_escaped_messages_or_empty() {
        assert!(reply(None).to_xml().ends_with("<Response/>"));
        let help = crate::prompts::fill(
            crate::prompts::EN.sms_help,
            "A & B <Plumbing>",
            "+15877428885",
            "",
        );
        let xml = reply(Some(&help)).to_xml();
        assert!(
            xml.contains("<Message>A &amp; B &lt;Plumbing&gt;: for help, call us at +15877428885."),
            "{xml}"
        );
        assert!(xml.contains("Reply STOP to opt out."));
    }

    #[test]
    fn media_extensions() {
        assert_eq!(media_extension("image/jpeg"), "jpg");
        assert_eq!(media_extension("image/PNG; charset=x"), "png");
        assert_eq!(media_extension("application/x-unknown"), "bin");
    }
}
