//! The verified-caller gate (issue 24 §2), pure: STIR/SHAKEN's verdict on an inbound call and
//! whether the caller first hears a short check.
//!
//! Twilio passes the terminating side's STIR/SHAKEN verification on inbound calls as
//! `StirVerstat` (Twilio "Trusted Calling with SHAKEN/STIR" docs): `TN-Validation-Passed-A`
//! (the originating carrier knows the caller and their right to the number), `-B` (knows the
//! caller, not the number), `-C` (gateway: knows neither), `TN-Validation-Failed-A/B/C` (the
//! signature did not verify), `No-TN-Validation` (an identity header that could not be
//! checked); it is absent when the call came without a SHAKEN identity (many non-IP or foreign
//! routes). Known callers and A-attested calls go straight through; with the gate on, other
//! unknown callers hear "To reach {business}, press 5" and only a 5 continues — robocalls do
//! not press keys, people do. Per number (`robocall_gate`):
//! - `off`: nobody is checked;
//! - `failed-only` (the default): only `TN-Validation-Failed-*`;
//! - `unverified`: everything but A (B, C, failed, `No-TN-Validation`, absent).
//!
//! Never applied to the business's own numbers (the number itself, its targets) or to the
//! forwarding verification call (answered before the gate).

use crate::flow::{NumberConfig, Replies, GATHER_TIMEOUT};
use crate::prompts;
use crate::routes::Route;
use crate::twiml::{Gather, Twiml, Verb};

/// The per-number switch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum RobocallGate {
    /// Nobody is checked.
    Off,
    /// Every unknown caller without A attestation is checked.
    Unverified,
    /// Only unknown callers whose verification failed are checked.
    #[default]
    FailedOnly,
}

impl RobocallGate {
    /// `off`, `unverified`, `failed-only`; `None` for anything else.
    pub fn parse(v: &str) -> Option<Self> {
        match v {
            "off" => Some(Self::Off),
            "unverified" => Some(Self::Unverified),
            "failed-only" => Some(Self::FailedOnly),
            _ => None,
        }
    }

    /// The stored form.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Off => "off",
            Self::Unverified => "unverified",
            Self::FailedOnly => "failed-only",
        }
    }
}

/// STIR/SHAKEN's verdict, from `StirVerstat`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Attestation {
    /// `TN-Validation-Passed-A`.
    A,
    /// `TN-Validation-Passed-B`.
    B,
    /// `TN-Validation-Passed-C`.
    C,
    /// `TN-Validation-Failed-*`.
    Failed,
    /// `No-TN-Validation`, absent, or anything else.
    None,
}

impl Attestation {
    /// From the `StirVerstat` parameter.
    pub fn from_verstat(verstat: Option<&str>) -> Self {
        match verstat.map(str::trim) {
            Some("TN-Validation-Passed-A") => Self::A,
            Some("TN-Validation-Passed-B") => Self::B,
            Some("TN-Validation-Passed-C") => Self::C,
            Some(v) if v.starts_with("TN-Validation-Failed") => Self::Failed,
            _ => Self::None,
        }
    }

    /// The metric dimension and stored value: `A`, `B`, `C`, `failed`, `none`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::A => "A",
            Self::B => "B",
            Self::C => "C",
            Self::Failed => "failed",
            Self::None => "none",
        }
    }
}

/// Whether this caller hears the check first: never for a known caller or one of the
/// business's own numbers (`from` equal to `to` or to a target); otherwise by the switch.
pub fn must_check(
    number: &NumberConfig,
    attestation: Attestation,
    known_caller: bool,
    from: &str,
    to: &str,
) -> bool {
    let own = from == to
        || [
            &number.sales_target,
            &number.support_target,
            &number.after_hours_target,
        ]
        .into_iter()
        .flatten()
        .any(|t| t.as_str() == from);
    if known_caller || own {
        return false;
    }
    match number.robocall_gate {
        RobocallGate::Off => false,
        RobocallGate::FailedOnly => attestation == Attestation::Failed,
        RobocallGate::Unverified => attestation != Attestation::A,
    }
}

/// Whether the check's `<Gather>` got the 5.
pub fn passed(digits: Option<&str>) -> bool {
    digits.map(str::trim) == Some("5")
}

impl Replies<'_> {
    /// `/voice-frontdoor` for a checked caller: "To reach {business}, press 5" in a
    /// `<Gather numDigits=1>` posting to `/voice-frontdoor?gate=answer` even on silence.
    pub fn gate_check(&self, business_name: &str) -> Twiml {
        let text = prompts::fill(self.texts().gate_check, business_name, "", "");
        Twiml::new().then(Verb::Gather(Gather {
            action: self.url(Route::Frontdoor, &[("gate", "answer")]),
            num_digits: 1,
            timeout: GATHER_TIMEOUT,
            action_on_empty_result: true,
            prompts: vec![self.say_text(text)],
            speech: None,
        }))
    }

    /// No 5 at the check: a polite goodbye, Hangup.
    pub fn gate_goodbye(&self) -> Twiml {
        Twiml::new()
            .then(Verb::Say(self.say_text(self.texts().gate_goodbye)))
            .then(Verb::Hangup)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::E164;

    fn number(gate: RobocallGate) -> NumberConfig {
        NumberConfig {
            business_name: "Acme".into(),
            sales_target: Some(E164::parse_syntax("+14165550101").unwrap()),
            support_target: None,
            language: "en-CA".into(),
            voicemail_topic_arn: None,
            sms_auto_reply: None,
            speech_input: false,
            org_id: "acme".into(),
            hours: None,
            after_hours_target: None,
            missed_call_text: false,
            whatsapp_enabled: false,
            whatsapp_template_sid: None,
            ai: None,
            screening: Default::default(),
            robocall_gate: gate,
        }
    }

    #[test]
    fn verstat_values_as_twilio_sends_them() {
        use Attestation::*;
        for (v, want) in [
            (Some("TN-Validation-Passed-A"), A),
            (Some("TN-Validation-Passed-B"), B),
            (Some("TN-Validation-Passed-C"), C),
            (Some("TN-Validation-Failed-A"), Failed),
            (Some("TN-Validation-Failed-C"), Failed),
            (Some("TN-Validation-Failed"), Failed),
            (Some("No-TN-Validation"), None),
            (Option::None, None),
            (Some("garbage"), None),
        ] {
            assert_eq!(Attestation::from_verstat(v), want, "{v:?}");
        }
    }

    #[test]
    fn who_is_checked_under_each_switch() {
        use Attestation::*;
        let from = "+12125550123";
        let to = "+15875550100";
        let failed_only = number(RobocallGate::FailedOnly);
        assert!(must_check(&failed_only, Failed, false, from, to));
        assert!(!must_check(&failed_only, C, false, from, to));
        assert!(!must_check(&failed_only, None, false, from, to));
        // A known caller with a failed verstat passes; so do the business's own numbers.
        assert!(!must_check(&failed_only, Failed, true, from, to));
        assert!(!must_check(&failed_only, Failed, false, "+14165550101", to));
        assert!(!must_check(&failed_only, Failed, false, to, to));
        let unverified = number(RobocallGate::Unverified);
        assert!(!must_check(&unverified, A, false, from, to));
        for a in [B, C, Failed, None] {
            assert!(must_check(&unverified, a, false, from, to), "{a:?}");
        }
        let off = number(RobocallGate::Off);
        assert!(!must_check(&off, Failed, false, from, to));
        assert_eq!(
            RobocallGate::parse("failed-only"),
            Some(RobocallGate::FailedOnly)
        );
        assert_eq!(RobocallGate::parse("on"), Option::None);
    }

    #[test]
    fn the_check_asks_for_5_in_the_calls_language() {
        let en = Replies::new("https://h", "en-CA")
            .gate_check("Acme")
            .to_xml();
        assert!(en.contains("To reach Acme, press 5."), "{en}");
        assert!(
            en.contains("action=\"https://h/voice-frontdoor?gate=answer&amp;lang=en\""),
            "{en}"
        );
        assert!(en.contains("actionOnEmptyResult=\"true\""), "{en}");
        let fr = Replies::new("https://h", "fr-CA")
            .gate_check("Acme")
            .to_xml();
        assert!(fr.contains("Pour joindre Acme, appuyez sur 5."), "{fr}");
        let bye = Replies::new("https://h", "en").gate_goodbye().to_xml();
        assert!(
            bye.contains("Goodbye.") && bye.contains("<Hangup/>"),
            "{bye}"
        );
        assert!(passed(Some("5")) && !passed(Some("1")) && !passed(Option::None));
    }
}
