//! One conversation's turns (issue 28 §3, §5): the history kept per CallSid, what an `interrupt`
//! does to it, the reply cut into phrase-sized `text` tokens, the caps and timers that keep a
//! call from a dead end, DTMF, and how the session ends (the `handoffData` we send and the
//! Connect action's decision, taken once).

use llm_api::Message;
use serde::{Deserialize, Serialize};
use telephony_core::prompts::Lang;

/// No first token this long (ms) after the caller's prompt → say [`filler`] while waiting.
pub const FILLER_AFTER_MS: u64 = 2_500;
/// Still no reply this long (ms) after the prompt → end the session to the human path.
pub const MODEL_DEADLINE_MS: u64 = 8_000;
/// Model round trips in one turn (a tool result goes back to the model each time).
pub const MAX_TOOL_ROUNDS: usize = 3;
/// Caller prompts in one session before it is ended politely.
pub const MAX_CALLER_TURNS: u32 = 30;
/// Longest session (seconds) before it is ended politely.
pub const MAX_SESSION_SECS: u64 = 20 * 60;

/// What to say while the model is slow.
pub fn filler(lang: Lang) -> &'static str {
    match lang {
        Lang::En => "One moment, please.",
        Lang::Fr => "Un instant, s'il vous plaît.",
    }
}

/// What an `interrupt` does to the history: the reply being played is replaced by what the
/// caller heard (`heard`, ConversationRelay's `utteranceUntilInterrupt`), or, if the reply was
/// not stored yet, what was heard is stored as the reply. Tool calls of the reply stay (their
/// effects happened). Empty `heard` with nothing stored adds nothing.
pub fn apply_interrupt(history: &mut Vec<Message>, heard: &str) {
    let last_user = history
        .iter()
        .rposition(|m| matches!(m, Message::User { .. }));
    let reply = history
        .iter()
        .rposition(|m| {
            matches!(
                m,
                Message::Assistant {
                    content: Some(_),
                    ..
                }
            )
        })
        .filter(|&i| last_user.is_none_or(|u| i > u));
    match reply {
        Some(i) => {
            if let Message::Assistant {
                content,
                tool_calls,
            } = &mut history[i]
            {
                if heard.trim().is_empty() && tool_calls.is_empty() {
                    history.remove(i);
                } else {
                    *content = (!heard.trim().is_empty()).then(|| heard.to_owned());
                }
            }
        }
        None if !heard.trim().is_empty() => history.push(Message::Assistant {
            content: Some(heard.to_owned()),
            tool_calls: Vec::new(),
        }),
        None => {}
    }
}

/// Cuts streamed text into phrases for text-to-speech: a phrase ends at `.`, `!`, `?`, `;` or `:`
/// followed by a space, at `,` once [`MIN_COMMA_PHRASE`] characters are waiting, or at the last
/// space before [`MAX_PHRASE`] characters.
#[derive(Debug, Default)]
pub struct Phrases {
    buf: String,
}

/// A comma ends a phrase only after this many characters.
pub const MIN_COMMA_PHRASE: usize = 40;
/// Longest phrase held back (characters).
pub const MAX_PHRASE: usize = 120;

impl Phrases {
    /// Adds streamed text; returns the phrases it completes.
    pub fn push(&mut self, text: &str) -> Vec<String> {
        self.buf.push_str(text);
        let mut out = Vec::new();
        loop {
            let chars: Vec<(usize, char)> = self.buf.char_indices().collect();
            let mut cut = None;
            for (k, &(i, c)) in chars.iter().enumerate() {
                let next_space = chars.get(k + 1).is_some_and(|(_, n)| n.is_whitespace());
                let end = matches!(c, '.' | '!' | '?' | ';' | ':')
                    || (c == ',' && k + 1 >= MIN_COMMA_PHRASE);
                if end && next_space {
                    cut = Some(i + c.len_utf8());
                    break;
                }
            }
            if cut.is_none() && chars.len() > MAX_PHRASE {
                cut = chars[..MAX_PHRASE]
                    .iter()
                    .rev()
                    .find(|(_, c)| c.is_whitespace())
                    .map(|&(i, _)| i);
            }
            match cut {
                Some(i) if i > 0 => {
                    let phrase: String = self.buf.drain(..i).collect();
                    let phrase = phrase.trim().to_owned();
                    self.buf = self.buf.trim_start().to_owned();
                    if !phrase.is_empty() {
                        out.push(phrase);
                    }
                }
                _ => return out,
            }
        }
    }

    /// What is left at the end of the reply.
    pub fn finish(self) -> Option<String> {
        let t = self.buf.trim();
        (!t.is_empty()).then(|| t.to_owned())
    }
}

/// Why the session is handed back to the Connect action (`handoffData`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HandoffCode {
    /// The caller asked for a person (the tool, or DTMF 0).
    Transfer,
    /// The conversation is over.
    Goodbye,
    /// The caps were reached.
    Limit,
    /// The AI could not go on (`reason`).
    Fallback,
}

/// The `handoffData` JSON: `{"reasonCode": "transfer|goodbye|limit|fallback", "reason": "…"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Handoff {
    /// What happens next.
    pub reason_code: HandoffCode,
    /// Details: the fallback reason (a [`FALLBACK_REASONS`] code), or the caller's stated reason.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

impl Handoff {
    /// A hand-off with an optional reason.
    pub fn new(code: HandoffCode, reason: Option<&str>) -> Self {
        Self {
            reason_code: code,
            reason: reason.map(|r| r.chars().take(200).collect()),
        }
    }

    /// The reason the caller gave for a transfer, fit to tell the person who answers (the
    /// screened hand-off's whisper, issue 24 §1); `None` for other hand-offs and the 0 key.
    pub fn spoken_reason(&self) -> Option<&str> {
        self.reason
            .as_deref()
            .filter(|r| self.reason_code == HandoffCode::Transfer && *r != DTMF_TRANSFER_REASON)
    }

    /// The JSON text sent in `end`.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }
}

/// The reason of a transfer the caller asked for with the 0 key.
pub const DTMF_TRANSFER_REASON: &str = "caller pressed 0";

/// A key pressed during the conversation: `0` → transfer to a person; other keys nothing.
pub fn dtmf(digit: &str) -> Option<Handoff> {
    (digit == "0").then(|| Handoff::new(HandoffCode::Transfer, Some(DTMF_TRANSFER_REASON)))
}

/// Every fallback reason the Connect action counts (`RelayFallbacks` by `Reason`).
pub const FALLBACK_REASONS: [&str; 5] = [
    "model_unavailable",
    "model_slow",
    "session_error",
    "session_ended",
    "unauthorized",
];

/// What the Connect action (`/voice-relay-action`) does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionEnd {
    /// Goodbye and Hangup (the AI finished, or the caps ended it politely).
    Goodbye,
    /// The team's line (the caller asked for a person).
    Transfer,
    /// The AI failed: the fallback sentence, then the team's line; the reason is one of
    /// [`FALLBACK_REASONS`].
    Fallback(&'static str),
    /// The caller hung up: nothing more to say.
    HungUp,
}

impl SessionEnd {
    /// Stored form (`ai_outcome`): `goodbye`, `transfer`, `fallback:<reason>`, `hangup`.
    pub fn as_stored(self) -> String {
        match self {
            SessionEnd::Goodbye => "goodbye".into(),
            SessionEnd::Transfer => "transfer".into(),
            SessionEnd::Fallback(r) => format!("fallback:{r}"),
            SessionEnd::HungUp => "hangup".into(),
        }
    }

    /// From the stored form; `None` when unknown.
    pub fn from_stored(v: &str) -> Option<Self> {
        match v {
            "goodbye" => Some(SessionEnd::Goodbye),
            "transfer" => Some(SessionEnd::Transfer),
            "hangup" => Some(SessionEnd::HungUp),
            other => other
                .strip_prefix("fallback:")
                .and_then(|r| FALLBACK_REASONS.into_iter().find(|k| *k == r))
                .map(SessionEnd::Fallback),
        }
    }
}

/// Decides the Connect action from Twilio's parameters (`CallStatus`, `HandoffData`,
/// `SessionStatus`, `ErrorCode`): the caller gone → [`SessionEnd::HungUp`]; our hand-off data →
/// its decision; an error code or a failed session → fallback `session_error`; a session that
/// ended without hand-off data (socket dropped) → fallback `session_ended`.
pub fn session_end(
    call_status: Option<&str>,
    handoff_data: Option<&str>,
    session_status: Option<&str>,
    error_code: Option<&str>,
) -> SessionEnd {
    if matches!(
        call_status,
        Some("completed" | "canceled" | "busy" | "failed" | "no-answer")
    ) {
        return SessionEnd::HungUp;
    }
    if let Some(h) = handoff_data.and_then(|d| serde_json::from_str::<Handoff>(d).ok()) {
        return match h.reason_code {
            HandoffCode::Transfer => SessionEnd::Transfer,
            HandoffCode::Goodbye | HandoffCode::Limit => SessionEnd::Goodbye,
            HandoffCode::Fallback => SessionEnd::Fallback(
                h.reason
                    .as_deref()
                    .and_then(|r| FALLBACK_REASONS.into_iter().find(|k| *k == r))
                    .unwrap_or("model_unavailable"),
            ),
        };
    }
    if error_code.is_some_and(|c| !c.is_empty()) || session_status == Some("failed") {
        return SessionEnd::Fallback("session_error");
    }
    SessionEnd::Fallback("session_ended")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(t: &str) -> Message {
        Message::User { content: t.into() }
    }
    fn said(t: &str) -> Message {
        Message::Assistant {
            content: Some(t.into()),
            tool_calls: vec![],
        }
    }

    #[test]
    fn an_interrupt_keeps_only_what_the_caller_heard() {
        let mut h = vec![
            user("hours?"),
            said("We are open from eight to five. We also do weekends by appointment."),
        ];
        apply_interrupt(&mut h, "We are open from eight to five.");
        assert_eq!(
            h,
            vec![user("hours?"), said("We are open from eight to five.")]
        );
        // The reply was not stored yet (still streaming): what was heard is stored.
        let mut h = vec![user("hours?")];
        apply_interrupt(&mut h, "We are open");
        assert_eq!(h, vec![user("hours?"), said("We are open")]);
        // Nothing heard: the unheard reply goes.
        let mut h = vec![user("hours?"), said("We are open.")];
        apply_interrupt(&mut h, "");
        assert_eq!(h, vec![user("hours?")]);
        // An earlier turn's reply is never touched.
        let mut h = vec![user("a"), said("b"), user("c")];
        apply_interrupt(&mut h, "");
        assert_eq!(h.len(), 3);
    }

    #[test]
    fn replies_are_cut_into_phrases() {
        let mut p = Phrases::default();
        let mut out = Vec::new();
        for tok in [
            "Yes",
            ", we",
            " fix furn",
            "aces. A service",
            " call is $129",
            ". Would",
            " you like",
            " to book?",
        ] {
            out.extend(p.push(tok));
        }
        out.extend(p.finish());
        assert_eq!(
            out,
            [
                "Yes, we fix furnaces.",
                "A service call is $129.",
                "Would you like to book?"
            ]
        );
        let mut p = Phrases::default();
        let long = "word ".repeat(40);
        let cut = p.push(&long);
        assert!(!cut.is_empty() && cut.iter().all(|c| c.chars().count() <= MAX_PHRASE));
        assert_eq!(
            Phrases::default().push("3.5 hours"),
            Vec::<String>::new(),
            "a decimal point is no end"
        );
    }

    #[test]
    fn the_session_end_is_decided_from_twilios_parameters() {
        let t = Handoff::new(HandoffCode::Transfer, Some("billing")).to_json();
        assert_eq!(t, r#"{"reasonCode":"transfer","reason":"billing"}"#);
        assert_eq!(
            session_end(Some("in-progress"), Some(&t), Some("ended"), None),
            SessionEnd::Transfer
        );
        let f = Handoff::new(HandoffCode::Fallback, Some("model_slow")).to_json();
        assert_eq!(
            session_end(None, Some(&f), None, None),
            SessionEnd::Fallback("model_slow")
        );
        let odd = Handoff::new(HandoffCode::Fallback, Some("weird")).to_json();
        assert_eq!(
            session_end(None, Some(&odd), None, None),
            SessionEnd::Fallback("model_unavailable")
        );
        let bye = Handoff::new(HandoffCode::Limit, None).to_json();
        assert_eq!(
            session_end(None, Some(&bye), None, None),
            SessionEnd::Goodbye
        );
        assert_eq!(
            session_end(Some("completed"), Some(&t), None, None),
            SessionEnd::HungUp
        );
        assert_eq!(
            session_end(None, None, Some("failed"), Some("64105")),
            SessionEnd::Fallback("session_error")
        );
        assert_eq!(
            session_end(None, Some("not json"), Some("ended"), None),
            SessionEnd::Fallback("session_ended")
        );
        for e in [
            SessionEnd::Goodbye,
            SessionEnd::Transfer,
            SessionEnd::HungUp,
            SessionEnd::Fallback("model_slow"),
        ] {
            assert_eq!(SessionEnd::from_stored(&e.as_stored()), Some(e));
        }
        assert_eq!(
            dtmf("0").map(|h| h.reason_code),
            Some(HandoffCode::Transfer)
        );
        assert_eq!(dtmf("5"), None);
    }
}
