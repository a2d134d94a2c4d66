//! Privacy requests by phone number (issue 25), pure: what a request asks, the kinds of data it
//! finds, the keyed hash that keeps an opt-out alive after erasure, and the request's id.
//!
//! The laws behind it: PIPEDA principle 4.9 (individual access, an answer within 30 days) and
//! withdrawal of consent (4.3.8); Quebec's Law 25 (access, rectification, de-indexation); the
//! CCPA/CPRA (right to know and to delete, 45 days). What must survive an erasure, in the smallest
//! form: an opt-out (the TCPA and CRTC rules forbid texting someone who said STOP, so we keep a
//! suppression entry keyed by [`suppression_key`], never the number) and consent proofs (kept for
//! their retention, with the caller's number and words removed).

use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

/// What a request does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// Count what is held (nothing changes).
    Find,
    /// Return everything held, with presigned links to the media.
    Export,
    /// Delete everything held, keeping only what the law requires, in its smallest form.
    Erase,
}

impl Action {
    /// `find`, `export`, `erase`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Find => "find",
            Self::Export => "export",
            Self::Erase => "erase",
        }
    }

    /// The action named `v`, if any.
    pub fn parse(v: &str) -> Option<Self> {
        match v {
            "find" => Some(Self::Find),
            "export" => Some(Self::Export),
            "erase" => Some(Self::Erase),
            _ => None,
        }
    }
}

/// The kinds of data a request finds, one per row of the answer's counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Kind {
    /// A call record (`calls` table, keyed by CallSid), with its voicemail transcript.
    Call,
    /// A recording record (voicemail or consented call recording).
    Recording,
    /// A recording's audio in the bucket (each object version).
    RecordingAudio,
    /// The AI receptionist's conversation (its transcript when kept).
    Conversation,
    /// An appointment request or message taken by the AI.
    ToolCall,
    /// A relay connection pointer (three-hour TTL).
    Connection,
    /// A consent proof: kept, its content removed.
    ConsentProof,
    /// An inbound SMS or MMS (body, our reply, raw parameters).
    Message,
    /// An inbound WhatsApp message.
    WhatsappMessage,
    /// MMS or WhatsApp media in the bucket (each object version).
    Media,
    /// A known-caller contact of an org.
    Contact,
    /// A contact-form submission with that phone (platform scope only: the form is ours).
    Submission,
    /// An auto-reply or missed-call-text window (a day's TTL).
    ReplyWindow,
    /// An opt-out or opt-in record: an opt-out is kept as a suppression entry.
    OptOut,
}

impl Kind {
    /// The name in answers and the audit (`call`, `recording_audio`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Call => "call",
            Self::Recording => "recording",
            Self::RecordingAudio => "recording_audio",
            Self::Conversation => "conversation",
            Self::ToolCall => "tool_call",
            Self::Connection => "connection",
            Self::ConsentProof => "consent_proof",
            Self::Message => "message",
            Self::WhatsappMessage => "whatsapp_message",
            Self::Media => "media",
            Self::Contact => "contact",
            Self::Submission => "submission",
            Self::ReplyWindow => "reply_window",
            Self::OptOut => "opt_out",
        }
    }

    /// The kind named `v`.
    pub fn parse(v: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == v)
    }

    /// Every kind, in answer order.
    pub const ALL: [Kind; 14] = [
        Kind::Call,
        Kind::Recording,
        Kind::RecordingAudio,
        Kind::Conversation,
        Kind::ToolCall,
        Kind::Connection,
        Kind::ConsentProof,
        Kind::Message,
        Kind::WhatsappMessage,
        Kind::Media,
        Kind::Contact,
        Kind::Submission,
        Kind::ReplyWindow,
        Kind::OptOut,
    ];

    /// What erasure does to an item of this kind.
    pub fn on_erase(self) -> Disposal {
        match self {
            Self::ConsentProof => Disposal::StripContent,
            Self::OptOut => Disposal::Suppress,
            _ => Disposal::Delete,
        }
    }
}

/// What erasure does to one item.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Disposal {
    /// Gone.
    Delete,
    /// Kept for its retention as proof, the caller's number and words removed.
    StripContent,
    /// An opt-out moves to a suppression entry keyed by [`suppression_key`]; an opt-in (or an
    /// expired opt-out) is simply deleted.
    Suppress,
}

/// The key of the suppression entry of `e164` in the opt-outs table: `sup#` and the hex
/// HMAC-SHA256 of the number under `secret` (RFC 2104). Without the secret the number cannot be
/// recovered from it, or guessed by hashing every number.
pub fn suppression_key(secret: &[u8], e164: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret).expect("HMAC takes a key of any length");
    mac.update(e164.as_bytes());
    format!("sup#{}", hex::encode(mac.finalize().into_bytes()))
}

/// The request id of an `Idempotency-Key`, within who asked (`ops` or `org:<id>`): `PR` and 32
/// hex digits of SHA-256. The same key repeats (and resumes) the same request.
pub fn request_id(asker: &str, idempotency_key: &str) -> String {
    let digest = Sha256::digest(format!("privacy\n{asker}\n{idempotency_key}").as_bytes());
    format!("PR{}", &hex::encode(digest)[..32])
}

/// Whether `id` has the shape of a request id.
pub fn is_request_id(id: &str) -> bool {
    id.len() == 34 && id.starts_with("PR") && id[2..].bytes().all(|b| b.is_ascii_hexdigit())
}

/// The number as the audit shows it: the last four digits only (`+1******0142`).
pub fn masked(e164: &str) -> String {
    let n = e164.chars().count();
    e164.chars()
        .enumerate()
        .map(|(i, c)| if i == 0 || i + 4 >= n { c } else { '*' })
        .collect()
}

/// How long a request's audit record is kept: 3 years, in seconds (issue 25 §4).
pub const AUDIT_RETENTION_SECS: u64 = 3 * 365 * 86_400;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_suppression_key_is_keyed_and_stable() {
        let a = suppression_key(b"secret-one", "+16475550142");
        assert_eq!(a, suppression_key(b"secret-one", "+16475550142"));
        assert_ne!(a, suppression_key(b"secret-two", "+16475550142"));
        assert_ne!(a, suppression_key(b"secret-one", "+16475550143"));
        assert!(a.starts_with("sup#") && a.len() == 4 + 64, "{a}");
        assert!(!a.contains("6475550142"));
    }

    #[test]
    fn request_ids_depend_on_who_asked_and_the_key() {
        let a = request_id("ops", "k1");
        assert!(is_request_id(&a), "{a}");
        assert_eq!(a, request_id("ops", "k1"));
        assert_ne!(a, request_id("org:acme", "k1"));
        assert_ne!(a, request_id("ops", "k2"));
        assert!(!is_request_id("PR123"));
        assert!(!is_request_id(&format!("XX{}", &a[2..])));
    }

    #[test]
    fn kinds_round_trip_and_only_proofs_and_opt_outs_are_kept() {
        for k in Kind::ALL {
            assert_eq!(Kind::parse(k.as_str()), Some(k));
        }
        let kept: Vec<_> = Kind::ALL
            .into_iter()
            .filter(|k| k.on_erase() != Disposal::Delete)
            .collect();
        assert_eq!(kept, [Kind::ConsentProof, Kind::OptOut]);
        assert_eq!(Action::parse("erase"), Some(Action::Erase));
        assert_eq!(Action::parse("delete"), None);
    }

    #[test]
    fn the_audit_masks_the_number() {
        assert_eq!(masked("+16475550142"), "+*******0142");
    }
}
