//! Call-flow decisions and the TwiML reply of every step (spec §3). Pure: the caller passes in
//! what it read (digits, query, stored consent, number config) and gets a decision or TwiML back.

use crate::ids::E164;
use crate::params::Params;
use crate::prompts;
use crate::routes::Route;
use crate::twiml::{Dial, Gather, Number, Record, Say, Twiml, Verb};
use std::time::Duration;

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
}

/// A `<Say>` voice that matches its language (flaw F-45: no en-US voice with `language=en-CA`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Voice {
    /// Twilio `voice` attribute.
    pub voice: &'static str,
    /// Twilio `language` attribute.
    pub language: &'static str,
}

impl Voice {
    /// The Amazon Polly voice for a language; unknown languages use US English.
    pub fn for_language(language: &str) -> Self {
        let (voice, language) = match language {
            "en-GB" => ("Polly.Amy", "en-GB"),
            "en-AU" => ("Polly.Nicole", "en-AU"),
            "en-IN" => ("Polly.Aditi", "en-IN"),
            "fr-CA" => ("Polly.Chantal", "fr-CA"),
            // Polly has no en-CA voice; US English is the closest matching pair.
            _ => ("Polly.Joanna", "en-US"),
        };
        Self { voice, language }
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

    fn action_url(self, base: &str) -> String {
        let (a, r) = (self.attempt.to_string(), self.repeats.to_string());
        Route::MenuHandler.url(base, &[("attempt", &a), ("repeats", &r)])
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
}

/// Decides the menu step from `Digits` and the menu state (spec §3 `/voice-menu-handler`):
/// 1 Sales · 2 Support · 9 voicemail · `*` replay (at most [`MAX_MENU_REPEATS`]); anything else,
/// silence, or one `*` too many → retry once, and a second miss → voicemail.
pub fn menu_step(digits: Option<&str>, state: MenuState) -> MenuStep {
    match digits {
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

/// Builds the TwiML of each step for one number: absolute callback URLs under `base_url` and a
/// voice matching the number's language.
#[derive(Debug, Clone, Copy)]
pub struct Replies<'a> {
    base_url: &'a str,
    voice: Voice,
}

impl<'a> Replies<'a> {
    /// Replies for callbacks under `base_url` (the public base URL) spoken in `language`.
    pub fn new(base_url: &'a str, language: &str) -> Self {
        Self {
            base_url,
            voice: Voice::for_language(language),
        }
    }

    fn say(&self, text: impl Into<String>) -> Verb {
        Verb::Say(self.say_text(text))
    }

    fn say_text(&self, text: impl Into<String>) -> Say {
        Say {
            text: text.into(),
            voice: self.voice.voice,
            language: self.voice.language,
        }
    }

    /// `/voice-frontdoor`: greeting with the recording notice, then the consent `<Gather>`
    /// posting to `/voice-consent` even on silence.
    pub fn greeting(&self, business_name: &str) -> Twiml {
        Twiml::new()
            .then(self.say(prompts::GREETING.replace("{business}", business_name)))
            .then(Verb::Gather(Gather {
                action: Route::Consent.url(self.base_url, &[]),
                num_digits: 1,
                timeout: GATHER_TIMEOUT,
                action_on_empty_result: true,
                prompts: vec![self.say_text(prompts::CONSENT_QUESTION)],
            }))
    }

    /// The menu `<Gather>` (after consent, on `*`, and on retry with a lead-in sentence).
    pub fn menu(&self, state: MenuState, lead: Option<&str>) -> Twiml {
        let mut prompts = Vec::with_capacity(2);
        if let Some(lead) = lead {
            prompts.push(self.say_text(lead));
        }
        prompts.push(self.say_text(prompts::MENU));
        Twiml::new().then(Verb::Gather(Gather {
            action: state.action_url(self.base_url),
            num_digits: 1,
            timeout: GATHER_TIMEOUT,
            action_on_empty_result: true,
            prompts,
        }))
    }

    /// Say `lead` (if any) and redirect to `/voice-voicemail?reason=…`.
    pub fn to_voicemail(&self, lead: Option<&str>, reason: &str) -> Twiml {
        let mut t = Twiml::new();
        if let Some(lead) = lead {
            t = t.then(self.say(lead));
        }
        t.then(Verb::Redirect(
            Route::Voicemail.url(self.base_url, &[("reason", reason)]),
        ))
    }

    /// `/voice-menu-handler` reply for a step. `target` is the loop-guarded number of the
    /// department (see [`dial_target`]); `None` sends the caller to voicemail. The dial records
    /// only when `consent` is granted.
    pub fn menu_step(&self, step: MenuStep, target: Option<&E164>, consent: Consent) -> Twiml {
        match step {
            MenuStep::Replay(state) => self.menu(state, None),
            MenuStep::Retry(state) => self.menu(state, Some(prompts::INVALID_SELECTION)),
            MenuStep::Voicemail("no_selection") => {
                self.to_voicemail(Some(prompts::NO_SELECTION), "no_selection")
            }
            MenuStep::Voicemail(reason) => self.to_voicemail(None, reason),
            MenuStep::Dial(dept) => match target {
                Some(target) => self.dial(dept, target, consent),
                None => self.to_voicemail(Some(prompts::DEPARTMENT_UNAVAILABLE), "unavailable"),
            },
        }
    }

    fn dial(&self, dept: Department, target: &E164, consent: Consent) -> Twiml {
        let lead = match dept {
            Department::Sales => prompts::CONNECTING_SALES,
            Department::Support => prompts::CONNECTING_SUPPORT,
        };
        let record = (consent == Consent::Granted).then_some(DIAL_RECORD_MODE);
        Twiml::new().then(self.say(lead)).then(Verb::Dial(Dial {
            action: Route::RouteAction.url(self.base_url, &[("department", dept.as_str())]),
            timeout: DIAL_TIMEOUT,
            answer_on_bridge: true,
            record,
            recording_status_callback: record
                .map(|_| Route::RecordingCallback.callback_url(self.base_url, &[("kind", "dial")])),
            number: Number {
                e164: target.as_str().to_owned(),
                status_callback: Some(Route::Status.url(self.base_url, &[])),
                status_callback_event: Some(DIAL_STATUS_EVENTS),
            },
        }))
    }

    /// `/voice-route-action`: hang up after a connected call, else voicemail.
    pub fn after_dial(&self, outcome: DialOutcome, dial_status: Option<&str>) -> Twiml {
        match outcome {
            DialOutcome::Connected => Twiml::new().then(Verb::Hangup),
            DialOutcome::Missed => self.to_voicemail(
                Some(prompts::NOBODY_AVAILABLE),
                dial_status.unwrap_or("unknown"),
            ),
        }
    }

    fn record(&self, max_length: Duration) -> Verb {
        let transcribe = max_length <= MAX_TRANSCRIBED_LENGTH;
        Verb::Record(Record {
            action: Route::Voicemail.url(self.base_url, &[("step", "done")]),
            max_length,
            finish_on_key: "#",
            play_beep: true,
            recording_status_callback: Route::RecordingCallback
                .callback_url(self.base_url, &[("kind", "voicemail")]),
            transcribe_callback: transcribe
                .then(|| Route::TranscriptionCallback.callback_url(self.base_url, &[])),
        })
    }

    /// `/voice-voicemail`: prompt, `<Record>`, and (reached only on an empty recording) a goodbye.
    pub fn voicemail_prompt(&self, max_length: Duration) -> Twiml {
        Twiml::new()
            .then(self.say(prompts::VOICEMAIL_PROMPT))
            .then(self.record(max_length))
            .then(self.say(prompts::VOICEMAIL_EMPTY))
            .then(Verb::Hangup)
    }

    /// `/voice-voicemail?step=done`: thanks when something was recorded, else "we didn't get a
    /// message"; then hang up.
    pub fn voicemail_done(&self, recorded: bool) -> Twiml {
        let text = if recorded {
            prompts::VOICEMAIL_THANKS
        } else {
            prompts::VOICEMAIL_EMPTY
        };
        Twiml::new().then(self.say(text)).then(Verb::Hangup)
    }

    /// The safe reply: apology and a voicemail recording that needs no DynamoDB. Served by
    /// `/voice-fallback` and on any internal error of a voice webhook (spec §2.2).
    pub fn apology_voicemail(&self, max_length: Duration) -> Twiml {
        Twiml::new()
            .then(self.say(prompts::APOLOGY))
            .then(self.record(max_length))
            .then(self.say(prompts::VOICEMAIL_EMPTY))
            .then(Verb::Hangup)
    }
}

/// A rate-limited caller: `<Reject reason="busy"/>`, answered with 200 (spec §3).
pub fn rate_limited() -> Twiml {
    Twiml::new().then(Verb::Reject("busy"))
}

/// A blocked caller: `<Reject reason="rejected"/>`.
pub fn blocked() -> Twiml {
    Twiml::new().then(Verb::Reject("rejected"))
}

#[cfg(test)]
mod tests {
    use super::*;

    const BASE: &str = "https://hooks.example";

    fn e(s: &str) -> E164 {
        E164::parse_syntax(s).unwrap()
    }

    fn config() -> NumberConfig {
        NumberConfig {
            business_name: "Acme <Plumbing> & Sons".into(),
            sales_target: Some(e("+14165550101")),
            support_target: Some(e("+14165550102")),
            language: "en-CA".into(),
            voicemail_topic_arn: None,
            sms_auto_reply: None,
        }
    }

    #[test]
    fn consent_is_strict_opt_in() {
        let cases = [
            (Some("1"), Consent::Granted),
            (Some("2"), Consent::Declined),
            (Some("11"), Consent::Declined),
            (Some("*"), Consent::Declined),
            (None, Consent::Declined),
        ];
        for (digits, want) in cases {
            assert_eq!(Consent::from_digits(digits), want, "{digits:?}");
        }
        assert_eq!(Consent::from_stored(Some("yes")), Consent::Granted);
        assert_eq!(Consent::from_stored(None), Consent::Declined);
    }

    #[test]
    fn menu_digits_and_attempts() {
        let s = MenuState::START;
        let second = MenuState {
            attempt: 2,
            repeats: 0,
        };
        let cases = [
            (Some("1"), s, MenuStep::Dial(Department::Sales)),
            (Some("2"), second, MenuStep::Dial(Department::Support)),
            (Some("9"), s, MenuStep::Voicemail("user_request")),
            (
                Some("*"),
                s,
                MenuStep::Replay(MenuState {
                    attempt: 1,
                    repeats: 1,
                }),
            ),
            (
                Some("*"),
                MenuState {
                    attempt: 1,
                    repeats: 3,
                },
                MenuStep::Retry(MenuState {
                    attempt: 2,
                    repeats: 3,
                }),
            ),
            (Some("5"), s, MenuStep::Retry(second)),
            (None, s, MenuStep::Retry(second)),
            (Some("#"), second, MenuStep::Voicemail("no_selection")),
            (None, second, MenuStep::Voicemail("no_selection")),
            (Some("12"), s, MenuStep::Retry(second)),
        ];
        for (digits, state, want) in cases {
            assert_eq!(menu_step(digits, state), want, "{digits:?} {state:?}");
        }
    }

    #[test]
    fn star_replays_at_most_three_times() {
        let mut state = MenuState::START;
        let mut replays = 0;
        loop {
            match menu_step(Some("*"), state) {
                MenuStep::Replay(next) => {
                    replays += 1;
                    state = next;
                }
                MenuStep::Retry(next) => state = next,
                MenuStep::Voicemail(reason) => {
                    assert_eq!(reason, "no_selection");
                    break;
                }
                other => panic!("unexpected {other:?}"),
            }
        }
        assert_eq!(replays, MAX_MENU_REPEATS);
    }

    #[test]
    fn forged_menu_query_is_clamped() {
        let q = Params::from_pairs([("attempt", "0"), ("repeats", "200")]);
        assert_eq!(
            MenuState::from_query(&q),
            MenuState {
                attempt: 1,
                repeats: MAX_MENU_REPEATS
            }
        );
        let q = Params::from_pairs([("attempt", "x")]);
        assert_eq!(MenuState::from_query(&q), MenuState::START);
    }

    #[test]
    fn loop_guard_refuses_from_to_and_hotline() {
        let c = config();
        let hotline = e("+15877428885");
        assert_eq!(
            dial_target(
                Department::Sales,
                &c,
                "+12025550143",
                "+15877428885",
                Some(&hotline)
            ),
            c.sales_target.as_ref()
        );
        assert_eq!(
            dial_target(Department::Sales, &c, "+14165550101", "+15877428885", None),
            None
        );
        assert_eq!(
            dial_target(
                Department::Support,
                &c,
                "+12025550143",
                "+14165550102",
                None
            ),
            None
        );
        let mut c2 = config();
        c2.sales_target = Some(hotline.clone());
        assert_eq!(
            dial_target(
                Department::Sales,
                &c2,
                "+12025550143",
                "+16135550000",
                Some(&hotline)
            ),
            None
        );
        c2.support_target = None;
        assert_eq!(
            dial_target(
                Department::Support,
                &c2,
                "+12025550143",
                "+16135550000",
                None
            ),
            None
        );
    }

    #[test]
    fn dial_records_only_after_consent() {
        let r = Replies::new(BASE, "en-US");
        let target = e("+14165550101");
        let step = MenuStep::Dial(Department::Sales);
        let yes = r.menu_step(step, Some(&target), Consent::Granted).to_xml();
        let no = r.menu_step(step, Some(&target), Consent::Declined).to_xml();
        assert!(yes.contains(r#"record="record-from-answer-dual""#), "{yes}");
        assert!(!no.contains("record="), "{no}");
        for doc in [&yes, &no] {
            assert!(doc
                .contains(r#"action="https://hooks.example/voice-route-action?department=sales""#));
            assert!(doc.contains(r#"timeout="20""#) && doc.contains(r#"answerOnBridge="true""#));
            assert!(doc.contains(r#"statusCallback="https://hooks.example/voice-status""#));
            assert!(doc.contains(r#"statusCallbackEvent="initiated ringing answered completed""#));
            assert!(doc.contains(">+14165550101</Number>"));
        }
    }

    #[test]
    fn unavailable_department_goes_to_voicemail() {
        let r = Replies::new(BASE, "en-US");
        let doc = r
            .menu_step(MenuStep::Dial(Department::Support), None, Consent::Granted)
            .to_xml();
        assert!(
            doc.contains("voice-voicemail?reason=unavailable</Redirect>"),
            "{doc}"
        );
        assert!(!doc.contains("<Dial"));
    }

    #[test]
    fn greeting_escapes_business_name_and_gathers_consent() {
        let doc = Replies::new(BASE, "en-CA")
            .greeting(&config().business_name)
            .to_xml();
        assert!(doc.contains("Acme &lt;Plumbing&gt; &amp; Sons"), "{doc}");
        assert!(doc.contains(r#"action="https://hooks.example/voice-consent""#));
        assert!(doc.contains(r#"actionOnEmptyResult="true""#) && doc.contains(r#"numDigits="1""#));
        // en-CA has no Polly voice: a matching en-US pair is used, never Joanna with en-CA.
        assert!(doc.contains(r#"voice="Polly.Joanna" language="en-US""#));
    }

    #[test]
    fn retry_and_replay_carry_state_in_the_action() {
        let r = Replies::new(BASE, "en-US");
        let retry = r
            .menu_step(
                MenuStep::Retry(MenuState {
                    attempt: 2,
                    repeats: 1,
                }),
                None,
                Consent::Declined,
            )
            .to_xml();
        assert!(
            retry.contains("voice-menu-handler?attempt=2&amp;repeats=1"),
            "{retry}"
        );
        assert!(retry.contains(prompts::INVALID_SELECTION));
        let vm = r
            .menu_step(MenuStep::Voicemail("no_selection"), None, Consent::Declined)
            .to_xml();
        assert!(vm.contains("reason=no_selection</Redirect>"));
    }

    #[test]
    fn dial_outcomes() {
        for s in ["completed", "answered"] {
            assert_eq!(DialOutcome::from_status(Some(s)), DialOutcome::Connected);
        }
        for s in [
            Some("busy"),
            Some("no-answer"),
            Some("failed"),
            Some("canceled"),
            Some("?"),
            None,
        ] {
            assert_eq!(DialOutcome::from_status(s), DialOutcome::Missed);
        }
        let r = Replies::new(BASE, "en-US");
        assert!(r
            .after_dial(DialOutcome::Connected, Some("completed"))
            .to_xml()
            .ends_with("<Response><Hangup/></Response>"));
        assert!(r
            .after_dial(DialOutcome::Missed, Some("no-answer"))
            .to_xml()
            .contains("reason=no-answer</Redirect>"));
    }

    #[test]
    fn voicemail_record_has_action_callbacks_and_transcription_only_when_short() {
        let r = Replies::new(BASE, "en-US");
        let doc = r.voicemail_prompt(Duration::from_secs(120)).to_xml();
        assert!(
            doc.contains(r#"action="https://hooks.example/voice-voicemail?step=done""#),
            "{doc}"
        );
        // Both callbacks ask Twilio to retry failures (connection-override fragment, escaped).
        assert!(doc.contains(r#"recordingStatusCallback="https://hooks.example/voice-recording-callback?kind=voicemail#rc=3&amp;rp=all""#), "{doc}");
        assert!(doc.contains(
            r#"transcribeCallback="https://hooks.example/voice-transcription-callback#rc=3&amp;rp=all""#
        ));
        assert!(doc.contains(r##"finishOnKey="#""##) && doc.contains(r#"playBeep="true""#));
        let long = r.voicemail_prompt(Duration::from_secs(180)).to_xml();
        assert!(!long.contains("transcribe"), "{long}");
        assert!(r
            .voicemail_done(true)
            .to_xml()
            .contains(prompts::VOICEMAIL_THANKS));
        assert!(
            r.voicemail_done(false)
                .to_xml()
                .contains("didn&apos;t get a message")
                || r.voicemail_done(false)
                    .to_xml()
                    .contains("didn't get a message")
        );
    }

    #[test]
    fn rejects() {
        assert!(rate_limited()
            .to_xml()
            .contains(r#"<Reject reason="busy"/>"#));
        assert!(blocked()
            .to_xml()
            .contains(r#"<Reject reason="rejected"/>"#));
    }
}
