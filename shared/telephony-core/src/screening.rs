//! The screened hand-off (issue 24 §1), pure: which dialled targets get a whisper, the whisper's
//! TwiML, and what the Dial action makes of it.
//!
//! When we ring a mobile, the owner's carrier voicemail or the phone's call screening can answer
//! within seconds: Twilio then reports the leg `completed` and the caller would leave a message
//! in a mailbox nobody checks. So each screened `<Number>` carries a `url` (Twilio `<Number>`
//! docs: TwiML run on the called party's leg once it answers, before the bridge): a whisper
//! "Call for {business} from {caller}, about {reason}. Press 1 to take it." in the call's
//! language, in a `<Gather numDigits=1>` whose action records a person's 1 on the call. No 1
//! within [`WHISPER_TIMEOUT`] (a machine, a mailbox, a screening bot) hangs up that leg only.
//! The Dial action then decides from whether a person pressed 1 — not from `DialCallStatus`,
//! which says `completed` for a leg a mailbox answered — and an unaccepted leg goes to **our**
//! voicemail as a missed call.
//!
//! Per number and per target: `screening` `on`, `off` or `auto` (the default). `auto` screens
//! every target except a number known to be a desk line: NANP numbers do not tell mobiles from
//! landlines, so a North American target is screened unless set `off`; UK geographic numbers
//! (`+441`, `+442`, `+443`) are desk lines.

use crate::flow::{NumberConfig, Replies};
use crate::ids::E164;
use crate::prompts;
use crate::routes::Route;
use crate::twiml::{Gather, Twiml, Verb};
use std::time::Duration;

/// How long the whisper waits for a person's 1 after it was spoken.
pub const WHISPER_TIMEOUT: Duration = Duration::from_secs(5);
/// The longest transfer reason carried into the whisper (characters).
pub const MAX_REASON_CHARS: usize = 80;

/// A screening switch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ScreenSetting {
    /// Always whisper.
    On,
    /// Never (a desk line a person always answers).
    Off,
    /// Whisper unless the number is known to be a desk line.
    #[default]
    Auto,
}

impl ScreenSetting {
    /// `on`, `off`, `auto`; `None` for anything else.
    pub fn parse(v: &str) -> Option<Self> {
        match v {
            "on" => Some(Self::On),
            "off" => Some(Self::Off),
            "auto" => Some(Self::Auto),
            _ => None,
        }
    }

    /// The stored form.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::On => "on",
            Self::Off => "off",
            Self::Auto => "auto",
        }
    }
}

/// A number's screening switches: its default, and one per target (`Auto` defers to the
/// default).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Screening {
    /// For every target without its own setting.
    pub default: ScreenSetting,
    /// The Sales line.
    pub sales: ScreenSetting,
    /// The Support line.
    pub support: ScreenSetting,
    /// The after-hours line.
    pub after_hours: ScreenSetting,
}

/// Whether `e164` is known to be a desk line (UK geographic `+441`/`+442`/`+443`); NANP numbers
/// cannot be told apart by their digits.
pub fn known_desk_line(e164: &E164) -> bool {
    ["+441", "+442", "+443"]
        .iter()
        .any(|p| e164.as_str().starts_with(p))
}

impl NumberConfig {
    /// Whether a dial to `target` gets the whisper: the setting of the line `target` is (Sales,
    /// Support, after hours; the first that matches), else the number's default; `auto` →
    /// unless [`known_desk_line`].
    pub fn screens(&self, target: &E164) -> bool {
        let s = &self.screening;
        let own = [
            (&self.sales_target, s.sales),
            (&self.support_target, s.support),
            (&self.after_hours_target, s.after_hours),
        ]
        .into_iter()
        .find(|(t, set)| t.as_ref() == Some(target) && *set != ScreenSetting::Auto)
        .map(|(_, set)| set);
        match own.unwrap_or(s.default) {
            ScreenSetting::On => true,
            ScreenSetting::Off => false,
            ScreenSetting::Auto => !known_desk_line(target),
        }
    }
}

/// The call a screened dial belongs to, for the whisper URL.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ScreenCall<'a> {
    /// The number's settings (which targets are screened).
    pub number: &'a NumberConfig,
    /// The inbound (parent) call's `CallSid`: where a person's 1 is recorded.
    pub call_sid: &'a str,
    /// The reason the AI collected for a transfer, spoken in the whisper.
    pub reason: Option<&'a str>,
}

/// A transfer reason fit for a URL and a `<Say>`: control characters dropped, whitespace
/// collapsed, at most [`MAX_REASON_CHARS`] characters; `None` when nothing is left.
pub fn clean_reason(reason: &str) -> Option<String> {
    let words: Vec<&str> = reason
        .split(|c: char| c.is_whitespace() || c.is_control())
        .filter(|w| !w.is_empty())
        .collect();
    let text: String = words.join(" ").chars().take(MAX_REASON_CHARS).collect();
    (!text.is_empty()).then_some(text)
}

/// How the caller is named in the whisper: their first name when known, else their number
/// read in groups (NANP 3-3-4), else `a_caller`.
pub fn caller_words(first_name: Option<&str>, from: Option<&str>) -> Option<String> {
    if let Some(n) = first_name.filter(|n| !n.trim().is_empty()) {
        return Some(n.trim().to_owned());
    }
    let e = E164::parse_syntax(from?).ok()?;
    let digits = e.as_str().trim_start_matches('+');
    let national = digits.strip_prefix('1').filter(|d| d.len() == 10);
    let spaced = |s: &str| s.chars().map(String::from).collect::<Vec<_>>().join(" ");
    Some(match national {
        Some(d) => format!(
            "{}, {}, {}",
            spaced(&d[..3]),
            spaced(&d[3..6]),
            spaced(&d[6..])
        ),
        None => spaced(digits),
    })
}

impl Replies<'_> {
    /// The whisper's URL and the Dial action's query for a dial of `department` to `target`
    /// (`None` when the dial is not screened).
    pub(crate) fn whisper_url(&self, department: &str, target: &E164) -> Option<String> {
        let s = self.screen_call()?;
        if !s.number.screens(target) {
            return None;
        }
        let reason = s.reason.and_then(clean_reason);
        let mut pairs = vec![
            ("call", s.call_sid),
            ("department", department),
            ("step", "whisper"),
        ];
        if let Some(r) = &reason {
            pairs.push(("reason", r));
        }
        Some(self.url(Route::RouteAction, &pairs))
    }

    /// `/voice-route-action?step=whisper` (the dialled leg answered): the whisper in a
    /// `<Gather numDigits=1>` posting to `?step=screen` even on silence, then `<Hangup/>`.
    /// `caller` from [`caller_words`] (`None` → "a caller"), `reason` as given in the URL.
    pub fn whisper(
        &self,
        business_name: &str,
        caller: Option<&str>,
        reason: Option<&str>,
        call_sid: &str,
        department: &str,
    ) -> Twiml {
        let t = self.texts();
        let mut text = prompts::fill(t.whisper, business_name, "", caller.unwrap_or(t.a_caller));
        if let Some(r) = reason.and_then(clean_reason) {
            text.push_str(&prompts::fill(t.whisper_about, "", "", &r));
        }
        text.push_str(t.whisper_take);
        Twiml::new()
            .then(Verb::Gather(Gather {
                action: self.url(
                    Route::RouteAction,
                    &[
                        ("call", call_sid),
                        ("department", department),
                        ("step", "screen"),
                    ],
                ),
                num_digits: 1,
                timeout: WHISPER_TIMEOUT,
                action_on_empty_result: true,
                prompts: vec![self.say_text(text)],
                speech: None,
            }))
            .then(Verb::Hangup)
    }

    /// `/voice-route-action?step=screen`: a person's 1 → an empty document (Twilio bridges the
    /// legs); anything else → `<Hangup/>` of that leg only (the caller goes on to the Dial
    /// action, and from there to our voicemail).
    pub fn screen_answer(&self, accepted: bool) -> Twiml {
        if accepted {
            Twiml::new()
        } else {
            Twiml::new().then(Verb::Hangup)
        }
    }
}

/// Whether the whisper's Gather got a person's 1.
pub fn accepted(digits: Option<&str>) -> bool {
    digits.map(str::trim) == Some("1")
}

/// The outcome of a screened dial for the Dial action: connected only when a person pressed 1
/// on this dial (`answer` is the department recorded by the whisper's action, `department` the
/// dial's) and Twilio reports the leg answered.
pub fn screened_outcome(
    status: crate::flow::DialOutcome,
    answer: Option<&str>,
    department: &str,
) -> crate::flow::DialOutcome {
    match (status, answer == Some(department)) {
        (crate::flow::DialOutcome::Connected, true) => crate::flow::DialOutcome::Connected,
        _ => crate::flow::DialOutcome::Missed,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::flow::{Consent, DialOutcome};

    fn number() -> NumberConfig {
        NumberConfig {
            business_name: "Acme".into(),
            sales_target: Some(E164::parse_syntax("+14165550101").unwrap()),
            support_target: Some(E164::parse_syntax("+442071838750").unwrap()),
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
            screening: Screening::default(),
            robocall_gate: crate::gate::RobocallGate::default(),
        }
    }

    #[test]
    fn auto_screens_mobiles_and_unknown_lines_not_desk_lines() {
        let n = number();
        assert!(
            n.screens(n.sales_target.as_ref().unwrap()),
            "NANP: screened"
        );
        assert!(
            !n.screens(n.support_target.as_ref().unwrap()),
            "UK geographic: desk"
        );
        let mut off = number();
        off.screening.sales = ScreenSetting::Off;
        assert!(!off.screens(off.sales_target.as_ref().unwrap()));
        let mut on = number();
        on.screening.default = ScreenSetting::On;
        assert!(on.screens(on.support_target.as_ref().unwrap()));
        assert_eq!(ScreenSetting::parse("maybe"), None);
    }

    #[test]
    fn a_screened_dial_carries_the_whisper_and_the_dial_action_knows() {
        let n = number();
        let call = ScreenCall {
            number: &n,
            call_sid: "CA0123456789abcdef0123456789abcdef",
            reason: Some("leaking\r\nwater heater"),
        };
        let r = Replies::new("https://h", "en-CA").screened(call);
        let doc = r
            .menu_step(
                crate::flow::MenuStep::Dial(crate::flow::Department::Sales),
                n.sales_target.as_ref(),
                Consent::Granted,
            )
            .to_xml();
        assert!(
            doc.contains("url=\"https://h/voice-route-action?call=CA0123456789abcdef0123456789abcdef&amp;department=sales&amp;lang=en&amp;reason=leaking+water+heater&amp;step=whisper\""),
            "{doc}"
        );
        assert!(
            doc.contains("department=sales&amp;lang=en&amp;screened=1"),
            "{doc}"
        );
        // Not screened: no url, no screened flag.
        let plain = Replies::new("https://h", "en-CA")
            .menu_step(
                crate::flow::MenuStep::Dial(crate::flow::Department::Support),
                n.support_target.as_ref(),
                Consent::Granted,
            )
            .to_xml();
        assert!(
            !plain.contains("url=") && !plain.contains("screened"),
            "{plain}"
        );
    }

    #[test]
    fn the_whisper_speaks_in_the_calls_language_and_waits_for_a_1() {
        let caller = caller_words(None, Some("+14165550177"));
        assert_eq!(caller.as_deref(), Some("4 1 6, 5 5 5, 0 1 7 7"));
        let en = Replies::new("https://h", "en-CA")
            .whisper("Acme", caller.as_deref(), Some("a leak"), "CA1", "sales")
            .to_xml();
        assert!(
            en.contains(
                "Call for Acme from 4 1 6, 5 5 5, 0 1 7 7, about a leak. Press 1 to take it."
            ),
            "{en}"
        );
        assert!(
            en.contains("numDigits=\"1\"") && en.contains("timeout=\"5\""),
            "{en}"
        );
        assert!(
            en.contains("step=screen") && en.ends_with("<Hangup/></Response>"),
            "{en}"
        );
        let fr = Replies::new("https://h", "fr-CA")
            .whisper("Acme", Some("Sam"), None, "CA1", "sales")
            .to_xml();
        assert!(
            fr.contains("Appel pour Acme de Sam. Appuyez sur 1 pour le prendre."),
            "{fr}"
        );
        let nobody = Replies::new("https://h", "en-CA")
            .whisper(
                "Acme",
                caller_words(None, Some("anonymous")).as_deref(),
                None,
                "CA1",
                "sales",
            )
            .to_xml();
        assert!(nobody.contains("from a caller."), "{nobody}");
        // A person's 1 bridges (empty document); anything else hangs up that leg.
        let r = Replies::new("https://h", "en");
        assert!(accepted(Some("1")) && !accepted(Some("2")) && !accepted(None));
        assert_eq!(r.screen_answer(true).to_xml(), Twiml::new().to_xml());
        assert!(r.screen_answer(false).to_xml().contains("<Hangup/>"));
    }

    #[test]
    fn only_a_persons_1_on_this_dial_connects() {
        use DialOutcome::*;
        assert_eq!(
            screened_outcome(Connected, Some("sales"), "sales"),
            Connected
        );
        // A mailbox answered: Twilio says completed, nobody pressed 1.
        assert_eq!(screened_outcome(Connected, None, "sales"), Missed);
        assert_eq!(
            screened_outcome(Connected, Some("support"), "sales"),
            Missed
        );
        assert_eq!(screened_outcome(Missed, Some("sales"), "sales"), Missed);
        assert_eq!(clean_reason(" \u{7}\n "), None);
        assert_eq!(
            clean_reason(&"x".repeat(200)).unwrap().len(),
            MAX_REASON_CHARS
        );
    }
}
