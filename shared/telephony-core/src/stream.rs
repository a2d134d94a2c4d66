//! The AI hand-off's pure parts (issue 12): the per-number AI mode and its gradual roll-out, the
//! stream token that authenticates the external real-time bridge for one call, the stream status
//! events, the decision taken when the `<Connect><Stream>` ends, and the bridge's tool calls.
//! Shared by the webhooks and, as a library, by the bridge service.
//!
//! Token: `v1.<CallSid>.<expiry>.<signature>` where `expiry` is Unix seconds and `signature` is
//! hex HMAC-SHA256 (RFC 2104, FIPS 180-4) over `v1|<CallSid>|<expiry>` with the stack's stream
//! secret. Valid for [`TOKEN_TTL_SECS`] after issue; compared in constant time.

use hmac::{Hmac, Mac};
use sha2::Sha256;
use subtle::ConstantTimeEq;

/// A token lives 3 minutes: long enough for the bridge to connect, short enough that a leaked
/// one is soon useless.
pub const TOKEN_TTL_SECS: u64 = 180;

/// Why a token was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    /// Not `v1.<CallSid>.<expiry>.<hex>`.
    #[error("malformed stream token")]
    Format,
    /// The signature does not match (tampered, or another secret).
    #[error("stream token signature does not match")]
    BadSignature,
    /// Past its expiry.
    #[error("stream token expired")]
    Expired,
    /// Valid, but for another call.
    #[error("stream token is for another call")]
    CallSidMismatch,
}

fn signature(secret: &[u8], call_sid: &str, expiry: u64) -> Vec<u8> {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret).expect("HMAC takes any key length");
    mac.update(format!("v1|{call_sid}|{expiry}").as_bytes());
    mac.finalize().into_bytes().to_vec()
}

/// A token for `call_sid`, issued at `now` (Unix seconds).
pub fn issue(secret: &[u8], call_sid: &str, now: u64) -> String {
    let expiry = now + TOKEN_TTL_SECS;
    format!(
        "v1.{call_sid}.{expiry}.{}",
        hex::encode(signature(secret, call_sid, expiry))
    )
}

/// Checks `token` for the call `call_sid` at `now`: format, then signature, then expiry, then the
/// call.
///
/// Errors: [`TokenError`].
pub fn verify(secret: &[u8], token: &str, call_sid: &str, now: u64) -> Result<(), TokenError> {
    let parts: Vec<&str> = token.split('.').collect();
    let ["v1", sid, expiry, sig] = parts.as_slice() else {
        return Err(TokenError::Format);
    };
    let expiry: u64 = expiry.parse().map_err(|_| TokenError::Format)?;
    let given = hex::decode(sig).map_err(|_| TokenError::Format)?;
    let want = signature(secret, sid, expiry);
    if !bool::from(given.ct_eq(&want)) {
        return Err(TokenError::BadSignature);
    }
    if now >= expiry {
        return Err(TokenError::Expired);
    }
    if *sid != call_sid {
        return Err(TokenError::CallSidMismatch);
    }
    Ok(())
}

/// The watchdog's default: a stream that starts later than 3 s after the `<Connect>` is a failed
/// hand-off (the seeds' "Watchdog: if handshake > 3 s → fallback").
pub const DEFAULT_WATCHDOG_MS: u64 = 3_000;

/// A number's AI receptionist (numbers table `ai_enabled`, `ai_engine`, `ai_stream_url`,
/// `ai_share`, `ai_knowledge`): present only when enabled (and, for the stream engine, with a
/// stream URL).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AiMode {
    /// Who holds the conversation.
    pub engine: AiEngine,
    /// Percent of calls (0–100) handed to the AI; the rest get the menu.
    pub share_percent: u8,
    /// What the owner wants the receptionist to know and quote (services, areas, prices), at
    /// most [`MAX_KNOWLEDGE_CHARS`] characters; `None` → nothing beyond the business name.
    pub knowledge: Option<String>,
}

/// Longest `ai_knowledge` text (characters): it goes into every turn's system prompt.
pub const MAX_KNOWLEDGE_CHARS: usize = 2_000;

/// The AI engine of a number (issue 28 §1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AiEngine {
    /// The built-in receptionist on Twilio ConversationRelay (`ai_engine = relay`, the default).
    Relay,
    /// An external speech-to-speech bridge over a bidirectional Media Stream (`ai_engine =
    /// stream`, issue 12): its `wss://` URL (`ws://` accepted only for local runs by the config
    /// check).
    Stream(String),
}

impl AiEngine {
    /// From the stored `ai_engine` and `ai_stream_url`: `relay`; `stream` with a URL; absent →
    /// `stream` when a URL is stored (numbers configured before the relay engine existed keep
    /// their bridge), else `relay`. `None` for `stream` without a URL or an unknown name.
    pub fn from_stored(engine: Option<&str>, stream_url: Option<String>) -> Option<Self> {
        match (engine, stream_url) {
            (Some("relay"), _) | (None, None) => Some(AiEngine::Relay),
            (Some("stream") | None, Some(url)) => Some(AiEngine::Stream(url)),
            _ => None,
        }
    }

    /// The stored name: `relay` or `stream`.
    pub fn as_str(&self) -> &'static str {
        match self {
            AiEngine::Relay => "relay",
            AiEngine::Stream(_) => "stream",
        }
    }
}

/// Whether call `call_sid` is in the `share_percent` of calls sent to the AI: a stable choice
/// (SHA-256 of the CallSid, first two bytes, modulo 100), so Twilio's retries and every later
/// webhook of the call agree.
pub fn in_rollout(call_sid: &str, share_percent: u8) -> bool {
    use sha2::Digest;
    let h = Sha256::digest(call_sid.as_bytes());
    let bucket = u16::from_be_bytes([h[0], h[1]]) % 100;
    bucket < u16::from(share_percent.min(100))
}

/// Checks an AI stream URL: `wss://host…`; plain `ws://` only to this machine (`127.0.0.1`,
/// `localhost`, `[::1]`: the local run's fake bridge).
///
/// Errors: a message saying what is wrong.
pub fn check_stream_url(url: &str) -> Result<(), String> {
    let (rest, plain) = match (url.strip_prefix("wss://"), url.strip_prefix("ws://")) {
        (Some(rest), _) => (rest, false),
        (None, Some(rest)) => (rest, true),
        _ => return Err(format!("stream_url {url:?} must start with wss://")),
    };
    let host = rest.split(['/', '?', '#']).next().unwrap_or("");
    if host.is_empty() || host.contains(['@', ' ']) || url.len() > 1024 {
        return Err(format!("stream_url {url:?} has no valid host"));
    }
    let name = host.rsplit_once(':').map_or(host, |(h, port)| {
        if port.bytes().all(|b| b.is_ascii_digit()) {
            h
        } else {
            host
        }
    });
    if plain && !matches!(name, "127.0.0.1" | "localhost" | "[::1]") {
        return Err(format!(
            "stream_url {url:?} must start with wss:// (ws:// only to this machine)"
        ));
    }
    // Issue 27 §2: every URL we hand Twilio carries its query sorted by name.
    if let Some((_, query)) = url.split('#').next().unwrap_or("").split_once('?') {
        let names: Vec<&str> = query
            .split('&')
            .map(|kv| kv.split('=').next().unwrap_or(""))
            .collect();
        if names.windows(2).any(|w| w[0] > w[1]) {
            return Err(format!(
                "stream_url {url:?}: write its query parameters sorted by name"
            ));
        }
    }
    Ok(())
}

/// A `<Stream>` status callback's `StreamEvent` (Twilio `<Stream>` docs, "statusCallback").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StreamEvent {
    /// `stream-started`: the bridge accepted the WebSocket.
    Started,
    /// `stream-stopped`.
    Stopped,
    /// `stream-error` (with `StreamError`).
    Error,
}

impl StreamEvent {
    /// From the `StreamEvent` parameter; `None` for anything else.
    pub fn parse(v: &str) -> Option<Self> {
        match v {
            "stream-started" => Some(Self::Started),
            "stream-stopped" => Some(Self::Stopped),
            "stream-error" => Some(Self::Error),
            _ => None,
        }
    }
}

/// How a `<Connect><Stream>` ended, as recorded from its status callbacks and the bridge.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StreamFacts {
    /// Milliseconds from the `<Connect>` to `stream-started`, if it started.
    pub handshake_ms: Option<u64>,
    /// A `stream-error` was reported.
    pub errored: bool,
    /// The bridge asked for a person (its `transfer` status).
    pub transfer_requested: bool,
}

/// What the Connect action does next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StreamNext {
    /// The AI path failed: the human path (Say + Dial + voicemail), once, with the reason.
    Fallback(&'static str),
    /// The bridge asked for a person: Dial.
    Transfer,
    /// The AI ended the conversation: a polite goodbye and Hangup (never back to consent).
    Goodbye,
}

impl StreamNext {
    /// Stored form (`ai_outcome`): `fallback:<reason>`, `transfer`, `goodbye`.
    pub fn as_stored(self) -> String {
        match self {
            StreamNext::Fallback(r) => format!("fallback:{r}"),
            StreamNext::Transfer => "transfer".into(),
            StreamNext::Goodbye => "goodbye".into(),
        }
    }

    /// From the stored form; `None` when unknown.
    pub fn from_stored(v: &str) -> Option<Self> {
        match v {
            "transfer" => Some(StreamNext::Transfer),
            "goodbye" => Some(StreamNext::Goodbye),
            _ => FALLBACK_REASONS
                .iter()
                .find(|r| v.strip_prefix("fallback:") == Some(**r))
                .map(|r| StreamNext::Fallback(r)),
        }
    }
}

/// Every fallback reason [`next_step`] gives (the `Reason` dimension of `StreamFallbacks`).
pub const FALLBACK_REASONS: [&str; 3] = ["not_started", "stream_error", "slow_handshake"];

/// Decides the Connect action (issue 12 §3): never started → fallback `not_started`; errored →
/// `stream_error`; started later than `watchdog_ms` → `slow_handshake`; a transfer request →
/// Dial; otherwise the AI finished → goodbye.
pub fn next_step(f: &StreamFacts, watchdog_ms: u64) -> StreamNext {
    match f.handshake_ms {
        None => StreamNext::Fallback("not_started"),
        Some(_) if f.errored => StreamNext::Fallback("stream_error"),
        Some(ms) if ms > watchdog_ms => StreamNext::Fallback("slow_handshake"),
        Some(_) if f.transfer_requested => StreamNext::Transfer,
        Some(_) => StreamNext::Goodbye,
    }
}

/// The tools the bridge may call at `/voice-action`, by name.
pub const SUPPORTED_TOOLS: [&str; 3] = ["book_appointment", "transfer_to_human", "take_message"];

/// Arguments of `book_appointment`: an appointment *request* staff confirm.
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
pub struct AppointmentArgs {
    /// The caller's name, 1–100 characters.
    pub caller_name: String,
    /// Where to call back, E.164.
    pub callback: String,
    /// Start of the requested window, RFC 3339 (e.g. `2026-11-24T09:00:00-07:00`).
    pub window_start: String,
    /// End of the requested window, RFC 3339, after the start, at most 14 days later.
    pub window_end: String,
    /// Why, 1–500 characters.
    pub reason: String,
}

/// Arguments of `take_message`: a message for staff, like a voicemail notice.
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
pub struct MessageArgs {
    /// The caller's name, if given (at most 100 characters).
    #[serde(default)]
    pub caller_name: Option<String>,
    /// Where to call back, E.164, if given.
    #[serde(default)]
    pub callback: Option<String>,
    /// The message, 1–2000 characters.
    pub message: String,
}

/// Arguments of `transfer_to_human`.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Deserialize)]
pub struct TransferArgs {
    /// Why the caller wants a person (at most 200 characters), for the log.
    #[serde(default)]
    pub reason: Option<String>,
}

/// A validated tool call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Tool {
    /// `book_appointment`, with the window's instants as Unix seconds.
    BookAppointment {
        /// The arguments as given.
        args: AppointmentArgs,
        /// `window_start`, Unix seconds.
        start: i64,
        /// `window_end`, Unix seconds.
        end: i64,
    },
    /// `transfer_to_human`.
    TransferToHuman(TransferArgs),
    /// `take_message`.
    TakeMessage(MessageArgs),
}

/// Why a tool call was refused (answered 400).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ToolError {
    /// Not one of [`SUPPORTED_TOOLS`].
    #[error("unknown tool {0:?}; supported: book_appointment, transfer_to_human, take_message")]
    Unknown(String),
    /// The arguments do not hold what the tool needs.
    #[error("invalid arguments for {tool}: {reason}")]
    Invalid {
        /// The tool.
        tool: &'static str,
        /// What is wrong.
        reason: String,
    },
}

fn text_ok(v: &str, max: usize) -> bool {
    !v.trim().is_empty()
        && v.chars().count() <= max
        && v.chars()
            .all(|c| crate::twiml::is_xml_char(c) && (!c.is_control() || c == '\n'))
}

impl Tool {
    /// The tool named `name` with its `args` parsed by the caller (`parse` gets the JSON
    /// arguments into the tool's argument type), then validated.
    ///
    /// Errors: [`ToolError::Unknown`] for another name; [`ToolError::Invalid`] naming the first
    /// bad argument (or the parse error).
    pub fn from_call<E: std::fmt::Display>(
        name: &str,
        parse: impl FnOnce(ToolKind) -> Result<ToolArgs, E>,
    ) -> Result<Tool, ToolError> {
        let kind = match name {
            "book_appointment" => ToolKind::BookAppointment,
            "transfer_to_human" => ToolKind::TransferToHuman,
            "take_message" => ToolKind::TakeMessage,
            other => return Err(ToolError::Unknown(other.chars().take(64).collect())),
        };
        let tool = kind.name();
        let bad = |reason: String| ToolError::Invalid { tool, reason };
        let args = parse(kind).map_err(|e| bad(e.to_string()))?;
        match args {
            ToolArgs::BookAppointment(a) => {
                if !text_ok(&a.caller_name, 100) {
                    return Err(bad("caller_name must be 1-100 characters".into()));
                }
                crate::E164::parse_syntax(&a.callback)
                    .map_err(|e| bad(format!("callback: {e}")))?;
                let at = |k: &str, v: &str| {
                    chrono::DateTime::parse_from_rfc3339(v)
                        .map(|t| t.timestamp())
                        .map_err(|_| bad(format!("{k} must be an RFC 3339 date-time")))
                };
                let start = at("window_start", &a.window_start)?;
                let end = at("window_end", &a.window_end)?;
                if end <= start || end - start > 14 * 86_400 {
                    return Err(bad(
                        "window_end must be after window_start, at most 14 days later".into(),
                    ));
                }
                if !text_ok(&a.reason, 500) {
                    return Err(bad("reason must be 1-500 characters".into()));
                }
                Ok(Tool::BookAppointment {
                    args: a,
                    start,
                    end,
                })
            }
            ToolArgs::TakeMessage(m) => {
                if !text_ok(&m.message, 2000) {
                    return Err(bad("message must be 1-2000 characters".into()));
                }
                if m.caller_name.as_deref().is_some_and(|n| !text_ok(n, 100)) {
                    return Err(bad("caller_name must be 1-100 characters".into()));
                }
                if let Some(c) = &m.callback {
                    crate::E164::parse_syntax(c).map_err(|e| bad(format!("callback: {e}")))?;
                }
                Ok(Tool::TakeMessage(m))
            }
            ToolArgs::TransferToHuman(t) => {
                if t.reason.as_deref().is_some_and(|r| !text_ok(r, 200)) {
                    return Err(bad("reason must be 1-200 characters".into()));
                }
                Ok(Tool::TransferToHuman(t))
            }
        }
    }

    /// The checks that need the clock, at `now_secs` (Unix seconds): a booking window that has
    /// already ended is refused (issue 22 §15), with a reason the AI can say to the caller.
    ///
    /// Errors: [`ToolError::Invalid`].
    pub fn check_at(&self, now_secs: i64) -> Result<(), ToolError> {
        match self {
            Tool::BookAppointment { end, .. } if *end <= now_secs => Err(ToolError::Invalid {
                tool: "book_appointment",
                reason: "that time has already passed; ask the caller for a time from now on"
                    .into(),
            }),
            _ => Ok(()),
        }
    }

    /// The tool's name.
    pub fn name(&self) -> &'static str {
        match self {
            Tool::BookAppointment { .. } => "book_appointment",
            Tool::TransferToHuman(_) => "transfer_to_human",
            Tool::TakeMessage(_) => "take_message",
        }
    }
}

/// Which tool's arguments to parse.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ToolKind {
    /// [`AppointmentArgs`].
    BookAppointment,
    /// [`TransferArgs`].
    TransferToHuman,
    /// [`MessageArgs`].
    TakeMessage,
}

impl ToolKind {
    /// The tool's name.
    pub fn name(self) -> &'static str {
        match self {
            ToolKind::BookAppointment => "book_appointment",
            ToolKind::TransferToHuman => "transfer_to_human",
            ToolKind::TakeMessage => "take_message",
        }
    }
}

/// Parsed (not yet validated) arguments of one tool.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ToolArgs {
    /// `book_appointment`.
    BookAppointment(AppointmentArgs),
    /// `transfer_to_human`.
    TransferToHuman(TransferArgs),
    /// `take_message`.
    TakeMessage(MessageArgs),
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &[u8] = b"stream-secret";
    const CALL: &str = "CA0123456789abcdef0123456789abcdef";

    #[test]
    fn the_engine_defaults_to_relay_and_keeps_configured_bridges() {
        let url = || Some("wss://b.example/m".to_owned());
        assert_eq!(AiEngine::from_stored(None, None), Some(AiEngine::Relay));
        assert_eq!(
            AiEngine::from_stored(Some("relay"), url()),
            Some(AiEngine::Relay)
        );
        assert_eq!(
            AiEngine::from_stored(None, url()),
            Some(AiEngine::Stream("wss://b.example/m".into()))
        );
        assert_eq!(AiEngine::from_stored(Some("stream"), None), None);
        assert_eq!(AiEngine::from_stored(Some("gpt"), url()), None);
    }

    #[test]
    fn tokens_verify_only_for_their_call_within_three_minutes() {
        let t = issue(SECRET, CALL, 1_000);
        assert_eq!(verify(SECRET, &t, CALL, 1_000), Ok(()));
        assert_eq!(verify(SECRET, &t, CALL, 1_179), Ok(()));
        assert_eq!(verify(SECRET, &t, CALL, 1_180), Err(TokenError::Expired));
        assert_eq!(
            verify(SECRET, &t, "CAffffffffffffffffffffffffffffffff", 1_000),
            Err(TokenError::CallSidMismatch)
        );
        assert_eq!(
            verify(b"other", &t, CALL, 1_000),
            Err(TokenError::BadSignature)
        );
        // Tampered: a later expiry with the old signature.
        let forged = t.replace(".1180.", ".9999.");
        assert_eq!(
            verify(SECRET, &forged, CALL, 1_000),
            Err(TokenError::BadSignature)
        );
        for bad in ["", "v2.x.1.00", "v1.CA.notanumber.00", "v1.CA.1180.zz"] {
            assert_eq!(
                verify(SECRET, bad, CALL, 1_000),
                Err(TokenError::Format),
                "{bad}"
            );
        }
    }

    #[test]
    fn the_connect_action_falls_back_once_or_says_goodbye() {
        let f = |handshake_ms, errored, transfer_requested| StreamFacts {
            handshake_ms,
            errored,
            transfer_requested,
        };
        assert_eq!(
            next_step(&f(None, false, false), 3000),
            StreamNext::Fallback("not_started")
        );
        assert_eq!(
            next_step(&f(Some(800), true, false), 3000),
            StreamNext::Fallback("stream_error")
        );
        assert_eq!(
            next_step(&f(Some(3500), false, false), 3000),
            StreamNext::Fallback("slow_handshake")
        );
        assert_eq!(
            next_step(&f(Some(800), false, true), 3000),
            StreamNext::Transfer
        );
        assert_eq!(
            next_step(&f(Some(800), false, false), 3000),
            StreamNext::Goodbye
        );
    }

    #[test]
    fn the_rollout_share_is_stable_per_call_and_roughly_its_percent() {
        let sids: Vec<String> = (0..2000).map(|i| format!("CA{i:032x}")).collect();
        assert!(sids.iter().all(|s| !in_rollout(s, 0)));
        assert!(sids.iter().all(|s| in_rollout(s, 100)));
        let in_half = sids.iter().filter(|s| in_rollout(s, 50)).count();
        assert!((900..1100).contains(&in_half), "{in_half}");
        // Monotone: a call in at 20 % stays in at 50 %.
        assert!(sids
            .iter()
            .filter(|s| in_rollout(s, 20))
            .all(|s| in_rollout(s, 50)));
        assert_eq!(in_rollout(CALL, 37), in_rollout(CALL, 37));
    }

    #[test]
    fn stream_urls_must_be_websocket_urls_with_a_host() {
        assert!(check_stream_url("wss://bridge.example/media").is_ok());
        assert!(check_stream_url("ws://127.0.0.1:9400/media").is_ok());
        assert!(check_stream_url("ws://localhost/media").is_ok());
        assert!(check_stream_url("wss://bridge.example/media?a=1&b=2").is_ok());
        assert!(check_stream_url("wss://bridge.example/media?b=1&a=2").is_err());
        for bad in [
            "ws://bridge.example/media",
            "ws://127.0.0.1.evil.example/media",
            "https://bridge.example",
            "wss://",
            "wss:///x",
            "wss://user@host/",
        ] {
            assert!(check_stream_url(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn outcomes_are_stored_and_read_back() {
        for n in [
            StreamNext::Transfer,
            StreamNext::Goodbye,
            StreamNext::Fallback("not_started"),
            StreamNext::Fallback("stream_error"),
            StreamNext::Fallback("slow_handshake"),
        ] {
            assert_eq!(StreamNext::from_stored(&n.as_stored()), Some(n));
        }
        assert_eq!(StreamNext::from_stored("fallback:other"), None);
        assert_eq!(StreamEvent::parse("stream-error"), Some(StreamEvent::Error));
        assert_eq!(StreamEvent::parse("media"), None);
    }

    fn appointment() -> AppointmentArgs {
        AppointmentArgs {
            caller_name: "Sam Lee".into(),
            callback: "+14035550123".into(),
            window_start: "2026-11-24T09:00:00-07:00".into(),
            window_end: "2026-11-24T11:00:00-07:00".into(),
            reason: "Furnace service quote".into(),
        }
    }

    fn call(name: &str, args: ToolArgs) -> Result<Tool, ToolError> {
        Tool::from_call(name, |_| Ok::<_, String>(args))
    }

    #[test]
    fn tool_calls_are_validated() {
        let ok = call("book_appointment", ToolArgs::BookAppointment(appointment())).unwrap();
        let Tool::BookAppointment { start, end, .. } = ok else {
            panic!("{ok:?}")
        };
        assert_eq!(end - start, 7200);
        assert_eq!(start, 1_795_536_000); // 2026-11-24T16:00:00Z
                                          // Issue 22 §15: a window that has ended is refused with a reason the AI can say.
        assert!(ok.check_at(start - 3600).is_ok());
        assert!(
            ok.check_at(end - 1).is_ok(),
            "a window still running can be requested"
        );
        let past = ok.check_at(end).unwrap_err().to_string();
        assert!(past.contains("already passed"), "{past}");
        let bad = |f: fn(&mut AppointmentArgs)| {
            let mut a = appointment();
            f(&mut a);
            match call("book_appointment", ToolArgs::BookAppointment(a)) {
                Err(ToolError::Invalid { tool, reason }) => {
                    assert_eq!(tool, "book_appointment");
                    reason
                }
                other => panic!("{other:?}"),
            }
        };
        assert!(bad(|a| a.callback = "555-0123".into()).starts_with("callback"));
        assert!(bad(|a| a.caller_name = " ".into()).starts_with("caller_name"));
        assert!(bad(|a| a.window_start = "tomorrow".into()).starts_with("window_start"));
        assert!(bad(|a| a.window_end = a.window_start.clone()).starts_with("window_end"));
        assert!(bad(|a| a.window_end = "2026-12-24T09:00:00Z".into()).starts_with("window_end"));
        assert!(bad(|a| a.reason = "x".repeat(501)).starts_with("reason"));
        assert!(bad(|a| a.reason = "a\u{0}b".into()).starts_with("reason"));
        let m = MessageArgs {
            caller_name: None,
            callback: Some("+14035550123".into()),
            message: "Please call me back about my order.".into(),
        };
        assert!(call("take_message", ToolArgs::TakeMessage(m.clone())).is_ok());
        assert!(call(
            "take_message",
            ToolArgs::TakeMessage(MessageArgs {
                message: String::new(),
                ..m
            })
        )
        .is_err());
        assert_eq!(
            call(
                "transfer_to_human",
                ToolArgs::TransferToHuman(TransferArgs::default())
            )
            .unwrap()
            .name(),
            "transfer_to_human"
        );
        let unknown = call(
            "send_invoice",
            ToolArgs::TransferToHuman(TransferArgs::default()),
        )
        .unwrap_err();
        assert_eq!(unknown, ToolError::Unknown("send_invoice".into()));
        for t in SUPPORTED_TOOLS {
            assert!(unknown.to_string().contains(t));
        }
        // A parse failure is reported as invalid arguments of that tool.
        let e = Tool::from_call("take_message", |_| {
            Err::<ToolArgs, _>("missing field `message`")
        });
        assert_eq!(
            e.unwrap_err().to_string(),
            "invalid arguments for take_message: missing field `message`"
        );
    }
}
