//! Twilio ConversationRelay WebSocket messages (Twilio docs, ConversationRelay "Getting and
//! sending WebSocket messages"). One JSON text frame per message, `type` first.
//!
//! In (Twilio → us): `setup` once after the handshake (call facts and the `<Parameter>`s as
//! `customParameters`), `prompt` (the caller's transcribed speech, `voicePrompt`, `lang`,
//! `last`), `interrupt` (the caller spoke over the reply: `utteranceUntilInterrupt` is what they
//! heard, `durationUntilInterruptMs`), `dtmf` (`digit`), `error` (`description`).
//! Out (us → Twilio): `text` (`token`, `last`, optional `lang`, `interruptible`), `end`
//! (`handoffData`, a string the Connect action receives as `HandoffData`), `language`
//! (`ttsLanguage`, `transcriptionLanguage`), `sendDigits` (`digits`).

use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// A message from Twilio.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(
    tag = "type",
    rename_all = "camelCase",
    rename_all_fields = "camelCase"
)]
pub enum Inbound {
    /// First message of a session.
    Setup(Setup),
    /// The caller said something (final transcript when `last` is true or absent).
    Prompt {
        /// The transcript.
        voice_prompt: String,
        /// Its language, e.g. `en-US`.
        #[serde(default)]
        lang: Option<String>,
        /// `false` only for partial prompts (not requested here).
        #[serde(default)]
        last: Option<bool>,
    },
    /// The caller spoke over the reply being played.
    Interrupt {
        /// The part of the reply the caller heard.
        #[serde(default)]
        utterance_until_interrupt: String,
        /// Milliseconds of the reply played before the interrupt.
        #[serde(default)]
        duration_until_interrupt_ms: Option<u64>,
    },
    /// A key was pressed.
    Dtmf {
        /// `0`–`9`, `*`, `#`.
        digit: String,
    },
    /// Twilio could not handle something we sent.
    Error {
        /// What went wrong.
        #[serde(default)]
        description: String,
    },
}

/// The `setup` message.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Setup {
    /// `VX…`: the session.
    #[serde(default)]
    pub session_id: String,
    /// `AC…`.
    #[serde(default)]
    pub account_sid: String,
    /// `CA…`: the call (what our state is keyed by).
    pub call_sid: String,
    /// The caller.
    #[serde(default)]
    pub from: String,
    /// The business number.
    #[serde(default)]
    pub to: String,
    /// The `<Parameter>`s of the TwiML.
    #[serde(default)]
    pub custom_parameters: HashMap<String, String>,
}

/// A message to Twilio.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(
    tag = "type",
    rename_all = "camelCase",
    rename_all_fields = "camelCase"
)]
pub enum Outbound {
    /// Text to speak: phrase-sized tokens, `last` on the reply's final one.
    Text {
        /// The text.
        token: String,
        /// The reply's last token.
        last: bool,
        /// Language of this text (BCP-47), when not the session's.
        #[serde(skip_serializing_if = "Option::is_none")]
        lang: Option<String>,
    },
    /// End the session; Twilio then requests the Connect action with `HandoffData`.
    End {
        /// JSON text ([`crate::turn::Handoff`]).
        handoff_data: String,
    },
    /// Switch speech and transcription language.
    Language {
        /// BCP-47 text-to-speech language.
        tts_language: String,
        /// BCP-47 transcription language.
        transcription_language: String,
    },
    /// Play DTMF tones.
    SendDigits {
        /// `0`–`9`, `*`, `#`, `w` (pause).
        digits: String,
    },
}

impl Outbound {
    /// The JSON text frame.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }
}

/// Parses one frame.
///
/// Errors: not JSON, an unknown `type`, or a required field missing.
pub fn parse(frame: &str) -> Result<Inbound, serde_json::Error> {
    serde_json::from_str(frame)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn every_documented_inbound_message_parses() {
        let setup = parse(
            &json!({"type": "setup", "sessionId": "VX00000000000000000000000000000000",
                "accountSid": "AC00000000000000000000000000000000", "parentCallSid": "",
                "callSid": "CA00000000000000000000000000000000", "from": "+18005550100",
                "to": "+18005550101", "forwardedFrom": "+18005550102", "callType": "PSTN",
                "callerName": "", "direction": "inbound", "callStatus": "RINGING",
                "customParameters": {"token": "v1.x", "language": "fr"}})
            .to_string(),
        )
        .unwrap();
        let Inbound::Setup(s) = setup else { panic!() };
        assert_eq!(s.call_sid, "CA00000000000000000000000000000000");
        assert_eq!(s.custom_parameters["language"], "fr");
        assert_eq!(
            parse(r#"{"type":"prompt","voicePrompt":"Do you fix furnaces?","lang":"en-US","last":true}"#).unwrap(),
            Inbound::Prompt { voice_prompt: "Do you fix furnaces?".into(), lang: Some("en-US".into()), last: Some(true) }
        );
        assert_eq!(
            parse(r#"{"type":"interrupt","utteranceUntilInterrupt":"We are open","durationUntilInterruptMs":820}"#).unwrap(),
            Inbound::Interrupt { utterance_until_interrupt: "We are open".into(), duration_until_interrupt_ms: Some(820) }
        );
        assert_eq!(
            parse(r#"{"type":"dtmf","digit":"0"}"#).unwrap(),
            Inbound::Dtmf { digit: "0".into() }
        );
        assert_eq!(
            parse(r#"{"type":"error","description":"Invalid message"}"#).unwrap(),
            Inbound::Error {
                description: "Invalid message".into()
            }
        );
        assert!(parse(r#"{"type":"nope"}"#).is_err());
        assert!(parse(r#"{"type":"setup"}"#).is_err(), "setup needs callSid");
        assert!(parse("not json").is_err());
    }

    #[test]
    fn outbound_messages_have_the_documented_shape() {
        let t = |o: Outbound| serde_json::from_str::<serde_json::Value>(&o.to_json()).unwrap();
        assert_eq!(
            t(Outbound::Text {
                token: "Hello.".into(),
                last: false,
                lang: None
            }),
            json!({"type": "text", "token": "Hello.", "last": false})
        );
        assert_eq!(
            t(Outbound::End {
                handoff_data: "{\"reasonCode\":\"transfer\"}".into()
            }),
            json!({"type": "end", "handoffData": "{\"reasonCode\":\"transfer\"}"})
        );
        assert_eq!(
            t(Outbound::Language {
                tts_language: "fr-CA".into(),
                transcription_language: "fr-CA".into()
            }),
            json!({"type": "language", "ttsLanguage": "fr-CA", "transcriptionLanguage": "fr-CA"})
        );
        assert_eq!(
            t(Outbound::SendDigits {
                digits: "1w2".into()
            }),
            json!({"type": "sendDigits", "digits": "1w2"})
        );
    }
}
