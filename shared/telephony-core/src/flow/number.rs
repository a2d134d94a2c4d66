//! A dialled number's configuration as the call flow reads it, and the voices it speaks with.

use crate::ids::E164;
use crate::prompts::Lang;

/// Per-number configuration (DynamoDB `numbers` table, or the environment defaults).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NumberConfig {
    /// Name spoken in the greeting.
    pub business_name: String,
    /// Where "1" (Sales) rings.
    pub sales_target: Option<E164>,
    /// Where "2" (Support) rings.
    pub support_target: Option<E164>,
    /// BCP-47 language of the prompts' voice, e.g. `en-US`, `en-CA`.
    pub language: String,
    /// SNS topic for this number's voicemail notices; `None` → the default topic.
    pub voicemail_topic_arn: Option<String>,
    /// SMS auto-reply template (`{business}` is replaced); `None` → the default template.
    pub sms_auto_reply: Option<String>,
    /// Accept spoken answers at the consent question and the menu (on by default).
    pub speech_input: bool,
    /// The org the number belongs to (`default` for numbers not onboarded): the scope of its
    /// known callers.
    pub org_id: String,
    /// Business hours, holidays and closures; `None` → always open.
    pub hours: Option<crate::hours::Hours>,
    /// Rung after the closed message outside hours; `None` → voicemail.
    pub after_hours_target: Option<E164>,
    /// Text a caller whose call ended without reaching anyone or leaving a voicemail (off by
    /// default).
    pub missed_call_text: bool,
    /// WhatsApp messages to this number get replies (auto-reply, help); off by default.
    pub whatsapp_enabled: bool,
    /// Approved WhatsApp template (`HX…` ContentSid) sent instead of a free-form reply outside
    /// the 24-hour customer-service window; `None` → nothing is sent there.
    pub whatsapp_template_sid: Option<String>,
    /// The AI receptionist (issue 12): after consent, this share of calls is connected to the
    /// media bridge instead of the menu; `None` → off.
    pub ai: Option<crate::stream::AiMode>,
    /// Which dialled targets get the screened hand-off's whisper (issue 24 §1).
    pub screening: crate::screening::Screening,
    /// The verified-caller gate (issue 24 §2).
    pub robocall_gate: crate::gate::RobocallGate,
}

/// A `<Say>` voice and its language (flaw F-45: the voice must speak the language given).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Voice {
    /// Twilio `voice` attribute, e.g. `Polly.Joanna-Neural`.
    pub voice: &'static str,
    /// Twilio `language` attribute.
    pub language: &'static str,
}

/// The voice of each prompt language.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Voices {
    /// English.
    pub en: Voice,
    /// French.
    pub fr: Voice,
}

impl Voices {
    /// Amazon Polly neural voices (Twilio `<Say>` "Amazon Polly" voices): English
    /// `Polly.Joanna-Neural` (en-US: Polly has no en-CA voice, so Canadian numbers hear US
    /// English), French `Polly.Gabrielle-Neural` (fr-CA). `VOICE_EN`/`VOICE_FR` override them.
    pub const DEFAULT: Voices = Voices {
        en: Voice {
            voice: "Polly.Joanna-Neural",
            language: "en-US",
        },
        fr: Voice {
            voice: "Polly.Gabrielle-Neural",
            language: "fr-CA",
        },
    };

    /// The voice of `lang`.
    pub fn of(&self, lang: Lang) -> Voice {
        match lang {
            Lang::En => self.en,
            Lang::Fr => self.fr,
        }
    }
}
