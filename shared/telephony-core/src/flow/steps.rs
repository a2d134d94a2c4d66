//! The call's decisions (spec §3): consent, the menu, who is dialled, how a dial ended.

use crate::ids::E164;
use crate::params::Params;
use crate::prompts::Lang;
use crate::routes::Route;
use crate::speech;
use std::time::Duration;

use super::*;

/// `<Gather>` silence timeout for the consent question and the menu (spec §3).
pub const GATHER_TIMEOUT: Duration = Duration::from_secs(5);
/// Ring time of a department `<Dial>` before `no-answer` (spec §3).
pub const DIAL_TIMEOUT: Duration = Duration::from_secs(20);
/// How many times `*` replays the menu before it counts as a miss (spec §3).
pub const MAX_MENU_REPEATS: u8 = 3;
/// Twilio transcribes recordings of at most 2 minutes (Twilio `<Record transcribe>` docs, F-18).
pub const MAX_TRANSCRIBED_LENGTH: Duration = Duration::from_secs(120);
/// Events requested on the dialled `<Number>`.
pub const DIAL_STATUS_EVENTS: &str = "initiated ringing answered completed";
/// `record` value of a department dial, only after consent.
pub const DIAL_RECORD_MODE: &str = "record-from-answer-dual";

/// What the caller answered to the recording question.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConsentAnswer {
    /// Granted or declined (see [`Consent`]).
    Answer(Consent),
    /// Pressed 8: switch to the other language and ask again.
    SwitchLanguage,
}

/// How many times 8 may switch the language at the consent question (the menu counts its
/// switches with its `*` replays), so a call always moves on.
pub const MAX_CONSENT_SWITCHES: u8 = 2;

/// Decides the consent answer from `Digits`, or, when no key was pressed, from `SpeechResult`
/// and `Confidence` in `lang` ([`speech::consents`]): `1` or a clear, confident yes grants;
/// `8` switches language (at most [`MAX_CONSENT_SWITCHES`] times, counted in `switches`);
/// anything else, silence, or an unclear answer declines (fail safe).
pub fn consent_answer(
    digits: Option<&str>,
    speech: Option<&str>,
    confidence: Option<f32>,
    lang: Lang,
    switches: u8,
) -> ConsentAnswer {
    match (digits.filter(|d| !d.is_empty()), speech) {
        (Some("8"), _) if switches < MAX_CONSENT_SWITCHES => ConsentAnswer::SwitchLanguage,
        (Some(d), _) => ConsentAnswer::Answer(Consent::from_digits(Some(d))),
        (None, Some(text)) if speech::consents(text, confidence, lang) => {
            ConsentAnswer::Answer(Consent::Granted)
        }
        _ => ConsentAnswer::Answer(Consent::Declined),
    }
}

/// The menu key a request stands for: `Digits` when pressed, else the spoken choice mapped by
/// [`speech::menu_key`]; `None` for silence or an unclear answer.
pub fn menu_key<'a>(
    digits: Option<&'a str>,
    speech: Option<&str>,
    confidence: Option<f32>,
    lang: Lang,
) -> Option<&'a str> {
    match digits.filter(|d| !d.is_empty()) {
        Some(d) => Some(d),
        None => speech.and_then(|t| speech::menu_key(t, confidence, lang)),
    }
}

/// The caller's answer to the recording question.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Consent {
    /// Pressed 1: dial legs may be recorded.
    Granted,
    /// Anything else, silence or an error (fail safe, PIPEDA).
    Declined,
}

impl Consent {
    /// `1` → [`Consent::Granted`]; any other digit, several digits or nothing → declined.
    pub fn from_digits(digits: Option<&str>) -> Self {
        if digits == Some("1") {
            Consent::Granted
        } else {
            Consent::Declined
        }
    }

    /// Stored form: `yes` / `no`.
    pub fn as_str(self) -> &'static str {
        match self {
            Consent::Granted => "yes",
            Consent::Declined => "no",
        }
    }

    /// Reads the stored form; anything but `yes` is declined.
    pub fn from_stored(s: Option<&str>) -> Self {
        if s == Some("yes") {
            Consent::Granted
        } else {
            Consent::Declined
        }
    }
}

/// A menu department.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Department {
    /// Digit 1.
    Sales,
    /// Digit 2.
    Support,
}

impl Department {
    /// Stored and logged name.
    pub fn as_str(self) -> &'static str {
        match self {
            Department::Sales => "sales",
            Department::Support => "support",
        }
    }
}

/// Where the caller is in the menu: `attempt` 1 or 2 (a second miss goes to voicemail) and how
/// many `*` replays were used. Carried in the `<Gather action>` query (`?attempt=2&repeats=1`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct MenuState {
    /// 1 on the first menu, 2 after one invalid or empty choice.
    pub attempt: u8,
    /// `*` replays so far.
    pub repeats: u8,
}

impl MenuState {
    /// The first menu.
    pub const START: MenuState = MenuState {
        attempt: 1,
        repeats: 0,
    };

    /// Reads `attempt` and `repeats` from the request's query; missing or garbage values mean
    /// the first menu, and values are clamped so a forged query cannot extend the menu.
    pub fn from_query(query: &Params) -> Self {
        let read = |k: &str| query.get(k).and_then(|v| v.parse::<u8>().ok());
        MenuState {
            attempt: read("attempt").unwrap_or(1).clamp(1, 2),
            repeats: read("repeats").unwrap_or(0).min(MAX_MENU_REPEATS),
        }
    }

    pub(crate) fn action_url(self, base: &str, lang: Lang) -> String {
        let (a, r) = (self.attempt.to_string(), self.repeats.to_string());
        Route::MenuHandler.url(
            base,
            &[("attempt", &a), ("repeats", &r), ("lang", lang.code())],
        )
    }
}

/// What the menu handler does next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MenuStep {
    /// Ring a department.
    Dial(Department),
    /// Play the menu again (after `*`), with this state.
    Replay(MenuState),
    /// "Invalid selection" and the menu once more, with this state.
    Retry(MenuState),
    /// To voicemail for this reason (`user_request` or `no_selection`).
    Voicemail(&'static str),
    /// 8: the menu again, in the other language (counted with the `*` replays, not a miss).
    SwitchLanguage(MenuState),
}

/// Decides the menu step from `Digits` and the menu state (spec §3 `/voice-menu-handler`):
/// 1 Sales · 2 Support · 9 voicemail · `*` replay (at most [`MAX_MENU_REPEATS`]) · 8 the other
/// language; anything else, silence, or one `*` too many → retry once, and a second miss →
/// voicemail.
pub fn menu_step(digits: Option<&str>, state: MenuState) -> MenuStep {
    match digits {
        Some("8") if state.repeats < MAX_MENU_REPEATS => MenuStep::SwitchLanguage(MenuState {
            repeats: state.repeats + 1,
            ..state
        }),
        Some("1") => MenuStep::Dial(Department::Sales),
        Some("2") => MenuStep::Dial(Department::Support),
        Some("9") => MenuStep::Voicemail("user_request"),
        Some("*") if state.repeats < MAX_MENU_REPEATS => MenuStep::Replay(MenuState {
            repeats: state.repeats + 1,
            ..state
        }),
        _ if state.attempt < 2 => MenuStep::Retry(MenuState {
            attempt: 2,
            ..state
        }),
        _ => MenuStep::Voicemail("no_selection"),
    }
}

/// The number to ring for a department, or `None` when there is none or it would loop: a target
/// equal to the caller (`From`), the dialled number (`To`) or the hotline itself is refused
/// (spec §3 loop guard; unlike flaw F-02, configured targets are not "internal" by themselves).
pub fn dial_target<'a>(
    dept: Department,
    config: &'a NumberConfig,
    from: &str,
    to: &str,
    hotline: Option<&E164>,
) -> Option<&'a E164> {
    let target = match dept {
        Department::Sales => config.sales_target.as_ref(),
        Department::Support => config.support_target.as_ref(),
    }?;
    safe_target(target, from, to, hotline)
}

/// `target`, unless ringing it would loop: equal to the caller (`From`), the dialled number
/// (`To`) or the hotline (spec §3 loop guard).
pub fn safe_target<'a>(
    target: &'a E164,
    from: &str,
    to: &str,
    hotline: Option<&E164>,
) -> Option<&'a E164> {
    let t = target.as_str();
    let loops = t == from.trim() || t == to.trim() || hotline.is_some_and(|h| h.as_str() == t);
    (!loops).then_some(target)
}

/// How a department `<Dial>` ended, from `DialCallStatus`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DialOutcome {
    /// `completed` or `answered`: the caller talked to someone; hang up.
    Connected,
    /// `busy`, `no-answer`, `failed`, `canceled`, or anything unknown/missing: voicemail.
    Missed,
}

impl DialOutcome {
    /// Classifies `DialCallStatus` (Twilio `<Dial action>` parameters).
    pub fn from_status(status: Option<&str>) -> Self {
        match status {
            Some("completed" | "answered") => DialOutcome::Connected,
            _ => DialOutcome::Missed,
        }
    }
}
