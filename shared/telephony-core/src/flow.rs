//! Call-flow decisions and the TwiML reply of every step (spec §3). Pure: the caller passes in
//! what it read (digits, query, stored consent, number config) and gets a decision or TwiML back.

use crate::ids::E164;
use crate::params::Params;
use crate::prompts::{self, Lang};
use crate::routes::Route;
use crate::speech;
use crate::twiml::{Connect, Dial, Gather, Number, Record, Relay, Say, SpeechInput, Twiml, Verb};
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

/// What the AI `<Connect><Stream>` carries to the bridge as `<Parameter>`s (issue 12 §1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StreamStart<'a> {
    /// The bridge's `wss://` URL.
    pub stream_url: &'a str,
    /// The call's stream token ([`crate::stream::issue`]).
    pub token: &'a str,
    /// The call.
    pub call_sid: &'a str,
    /// The caller's recording consent (the bridge records or transcribes only with `yes`).
    pub consent: Consent,
    /// Spoken name of the business.
    pub business_name: &'a str,
    /// The caller context ([`ai_context`]), the same the built-in receptionist's prompt gets.
    pub context: &'a [(&'static str, String)],
}

/// The caller context an external AI bridge gets as `<Parameter>`s (issue 28 §4), the facts the
/// built-in receptionist's system prompt is built from: `open_now` (`yes`/`no`), `next_opening`
/// (RFC 3339, when closed and known), `timezone`, `caller_first_name` (a known caller),
/// `knowledge` (the owner's facts). `now_secs` Unix seconds.
pub fn ai_context(
    number: &NumberConfig,
    now_secs: u64,
    caller_first_name: Option<&str>,
) -> Vec<(&'static str, String)> {
    let mut out = Vec::new();
    if let Some(h) = &number.hours {
        let open = crate::hours::status_at(h, now_secs) == crate::hours::OpenState::Open;
        out.push(("open_now", if open { "yes" } else { "no" }.to_owned()));
        let at = i64::try_from(now_secs)
            .ok()
            .and_then(|s| chrono::DateTime::from_timestamp(s, 0));
        if let (false, Some(at)) = (open, at) {
            if let Some(next) = crate::hours::next_open(h, at) {
                out.push(("next_opening", next.with_timezone(&h.tz).to_rfc3339()));
            }
        }
        out.push(("timezone", h.tz.name().to_owned()));
    }
    if let Some(name) = caller_first_name {
        out.push(("caller_first_name", name.to_owned()));
    }
    if let Some(k) = number.ai.as_ref().and_then(|a| a.knowledge.as_deref()) {
        out.push(("knowledge", k.to_owned()));
    }
    out
}

/// What the AI `<Connect><ConversationRelay>` carries (issue 28 §1): `<Parameter>`s arrive in the
/// `setup` message, which is where the relay learns which call it serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RelayStart<'a> {
    /// The WebSocket API's `wss://` URL (no query: see [`crate::twiml::Relay::url`]).
    pub relay_url: &'a str,
    /// The call's single-use relay token ([`crate::stream::issue`]), claimed at `setup`.
    pub token: &'a str,
    /// The caller's recording consent (the transcript is kept only with `yes`).
    pub consent: Consent,
    /// Spoken name of the business.
    pub business_name: &'a str,
}

/// ConversationRelay voices (Twilio ConversationRelay "Voice configuration": Google is the
/// default text-to-speech provider; `en-US-Journey-O` is its documented default English voice):
/// English `en-US-Journey-O`, Canadian French `fr-CA-Neural2-A`, each transcribed in its own
/// language.
pub const RELAY_VOICES: [(Lang, &str, &str); 2] = [
    (Lang::En, "en-US", "en-US-Journey-O"),
    (Lang::Fr, "fr-CA", "fr-CA-Neural2-A"),
];

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

    fn action_url(self, base: &str, lang: Lang) -> String {
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

/// Why a call is taken outside business hours.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Closed {
    /// Outside the weekly hours.
    AfterHours,
    /// A statutory holiday or an operator's closure day.
    ClosedToday,
}

impl Closed {
    /// Voicemail reason and metric dimension.
    pub fn as_str(self) -> &'static str {
        match self {
            Closed::AfterHours => "after_hours",
            Closed::ClosedToday => "closed_today",
        }
    }
}

/// Builds the TwiML of each step for one number: absolute callback URLs under `base_url`, each
/// carrying the call's language (`lang=en|fr`), prompts from that language's catalogue spoken
/// by its voice, and `<Gather>`s that also take speech when the number allows it.
#[derive(Debug, Clone, Copy)]
pub struct Replies<'a> {
    base_url: &'a str,
    lang: Lang,
    voices: Voices,
    speech: bool,
    screen: Option<crate::screening::ScreenCall<'a>>,
}

impl<'a> Replies<'a> {
    /// Replies under `base_url` (the public base URL) in `language` (a BCP-47 tag or `en`/`fr`),
    /// default voices, keys only.
    pub fn new(base_url: &'a str, language: &str) -> Self {
        Self {
            base_url,
            lang: Lang::from_tag(language),
            voices: Voices::DEFAULT,
            speech: false,
            screen: None,
        }
    }

    /// With the screened hand-off (issue 24 §1): dials to the targets `call.number` screens
    /// carry the whisper, and their Dial action knows (`screened=1`).
    pub fn screened(self, call: crate::screening::ScreenCall<'a>) -> Self {
        Self {
            screen: Some(call),
            ..self
        }
    }

    pub(crate) fn screen_call(&self) -> Option<crate::screening::ScreenCall<'a>> {
        self.screen
    }

    /// With these voices.
    pub fn with_voices(self, voices: Voices) -> Self {
        Self { voices, ..self }
    }

    /// With speech input at the consent question and the menu.
    pub fn with_speech(self, speech: bool) -> Self {
        Self { speech, ..self }
    }

    /// The same replies in the other language.
    pub fn switched(self) -> Self {
        Self {
            lang: self.lang.other(),
            ..self
        }
    }

    /// The language spoken.
    pub fn lang(&self) -> Lang {
        self.lang
    }

    pub(crate) fn texts(&self) -> &'static prompts::Catalogue {
        self.lang.texts()
    }

    fn say(&self, text: impl Into<String>) -> Verb {
        Verb::Say(self.say_text(text))
    }

    pub(crate) fn say_text(&self, text: impl Into<String>) -> Say {
        self.say_in(self.lang, text)
    }

    fn say_in(&self, lang: Lang, text: impl Into<String>) -> Say {
        let v = self.voices.of(lang);
        Say {
            text: text.into(),
            voice: v.voice,
            language: v.language,
        }
    }

    pub(crate) fn url(&self, route: Route, pairs: &[(&str, &str)]) -> String {
        let mut all = pairs.to_vec();
        all.push(("lang", self.lang.code()));
        route.url(self.base_url, &all)
    }

    fn gather(&self, action: String, prompts: Vec<Say>) -> Verb {
        Verb::Gather(Gather {
            action,
            num_digits: 1,
            timeout: GATHER_TIMEOUT,
            action_on_empty_result: true,
            prompts,
            speech: self.speech.then(|| SpeechInput {
                language: self.voices.of(self.lang).language,
                hints: speech::hints(self.lang),
            }),
        })
    }

    /// The consent `<Gather>` (posting to `/voice-consent?switches=N` even on silence), with
    /// the offer of the other language spoken in that language.
    fn consent_gather(&self, switches: u8) -> Verb {
        let t = self.texts();
        let question = if self.speech {
            t.consent_question_speech
        } else {
            t.consent_question
        };
        let other = self.lang.other();
        let n = switches.to_string();
        let pairs: &[(&str, &str)] = if switches == 0 {
            &[]
        } else {
            &[("switches", &n)]
        };
        self.gather(
            self.url(Route::Consent, pairs),
            vec![
                self.say_text(question),
                self.say_in(other, other.texts().offer_switch),
            ],
        )
    }

    /// `/voice-frontdoor`: greeting with the recording notice (personal for a known caller's
    /// `first_name`), then the consent `<Gather>`.
    pub fn greeting(&self, business_name: &str, first_name: Option<&str>) -> Twiml {
        let t = self.texts();
        let text = match first_name {
            Some(name) => prompts::fill(t.greeting_known, business_name, "", name),
            None => prompts::fill(t.greeting, business_name, "", ""),
        };
        Twiml::new()
            .then(self.say(text))
            .then(self.consent_gather(0))
    }

    /// `/voice-consent` after 8: the consent question again, in this (the new) language;
    /// `switches` counts the switches so far.
    pub fn consent_again(&self, switches: u8) -> Twiml {
        Twiml::new().then(self.consent_gather(switches))
    }

    /// The menu `<Gather>` (after consent, on `*`, and on retry with a lead-in sentence).
    pub fn menu(&self, state: MenuState, lead: Option<&str>) -> Twiml {
        let mut prompts = Vec::with_capacity(2);
        if let Some(lead) = lead {
            prompts.push(self.say_text(lead));
        }
        let t = self.texts();
        prompts.push(self.say_text(if self.speech { t.menu_speech } else { t.menu }));
        Twiml::new().then(self.gather(state.action_url(self.base_url, self.lang), prompts))
    }

    /// Say `lead` (if any) and redirect to `/voice-voicemail?reason=…`.
    pub fn to_voicemail(&self, lead: Option<&str>, reason: &str) -> Twiml {
        let mut t = Twiml::new();
        if let Some(lead) = lead {
            t = t.then(self.say(lead));
        }
        t.then(Verb::Redirect(
            self.url(Route::Voicemail, &[("reason", reason)]),
        ))
    }

    /// `/voice-menu-handler` reply for a step. `target` is the loop-guarded number of the
    /// department (see [`dial_target`]); `None` sends the caller to voicemail. The dial records
    /// only when `consent` is granted. A language switch is answered by the switched replies
    /// (`self` is already in the new language).
    pub fn menu_step(&self, step: MenuStep, target: Option<&E164>, consent: Consent) -> Twiml {
        let t = self.texts();
        match step {
            MenuStep::Replay(state) | MenuStep::SwitchLanguage(state) => self.menu(state, None),
            MenuStep::Retry(state) => self.menu(state, Some(t.invalid_selection)),
            MenuStep::Voicemail("no_selection") => {
                self.to_voicemail(Some(t.no_selection), "no_selection")
            }
            MenuStep::Voicemail(reason) => self.to_voicemail(None, reason),
            MenuStep::Dial(dept) => match target {
                Some(target) => self.dial(dept.as_str(), self.dial_lead(dept), target, consent),
                None => self.to_voicemail(Some(t.department_unavailable), "unavailable"),
            },
        }
    }

    fn dial_lead(&self, dept: Department) -> &'static str {
        match dept {
            Department::Sales => self.texts().connecting_sales,
            Department::Support => self.texts().connecting_support,
        }
    }

    fn dial(&self, department: &str, lead: &str, target: &E164, consent: Consent) -> Twiml {
        let record = (consent == Consent::Granted).then_some(DIAL_RECORD_MODE);
        let whisper = self.whisper_url(department, target);
        let mut action = vec![("department", department)];
        if whisper.is_some() {
            action.push(("screened", "1"));
        }
        Twiml::new().then(self.say(lead)).then(Verb::Dial(Dial {
            action: self.url(Route::RouteAction, &action),
            timeout: DIAL_TIMEOUT,
            answer_on_bridge: true,
            record,
            recording_status_callback: record
                .map(|_| Route::RecordingCallback.callback_url(self.base_url, &[("kind", "dial")])),
            number: Number {
                e164: target.as_str().to_owned(),
                status_callback: Some(Route::Status.url(self.base_url, &[])),
                status_callback_event: Some(DIAL_STATUS_EVENTS),
                url: whisper,
            },
        }))
    }

    /// After consent outside business hours: the closed message, then the after-hours target
    /// when one is configured (dialled like a department, `department=after_hours`), else
    /// voicemail (`reason=after_hours|closed_today`).
    pub fn closed(
        &self,
        why: Closed,
        business_name: &str,
        target: Option<&E164>,
        consent: Consent,
    ) -> Twiml {
        let t = self.texts();
        let text = match why {
            Closed::AfterHours => t.after_hours,
            Closed::ClosedToday => t.closed_today,
        };
        let text = prompts::fill(text, business_name, "", "");
        match target {
            Some(target) => self.dial("after_hours", &text, target, consent),
            None => self.to_voicemail(Some(&text), why.as_str()),
        }
    }

    /// `/voice-consent` with the AI on: `<Connect action=/voice-stream-action><Stream url
    /// statusCallback=/voice-stream-status>` with the parameters `token`, `call_sid`,
    /// `consent` (`yes`/`no`), `language` (`en`/`fr`), `business_name`, then the caller context
    /// ([`ai_context`]).
    pub fn ai_connect(&self, s: &StreamStart<'_>) -> Twiml {
        let mut parameters = vec![
            ("token", s.token.to_owned()),
            ("call_sid", s.call_sid.to_owned()),
            ("consent", s.consent.as_str().to_owned()),
            ("language", self.lang.code().to_owned()),
            ("business_name", s.business_name.to_owned()),
        ];
        parameters.extend(s.context.iter().cloned());
        Twiml::new().then(Verb::Connect(Connect {
            action: self.url(Route::StreamAction, &[]),
            stream_url: s.stream_url.to_owned(),
            status_callback: Route::StreamStatus.url(self.base_url, &[]),
            parameters,
        }))
    }

    /// `/voice-consent` with the built-in AI receptionist (issue 28 §1): `<Connect
    /// action=/voice-relay-action><ConversationRelay url welcomeGreeting language ttsProvider voice
    /// transcriptionLanguage interruptible dtmfDetection>` in the call's language, with the
    /// parameters `token`, `consent` (`yes`/`no`), `language` (`en`/`fr`) and `business_name`.
    pub fn ai_relay(&self, s: &RelayStart<'_>) -> Twiml {
        let (_, language, voice) = RELAY_VOICES
            .into_iter()
            .find(|(l, _, _)| *l == self.lang)
            .unwrap_or(RELAY_VOICES[0]);
        Twiml::new().then(Verb::Relay(Relay {
            action: self.url(Route::RelayAction, &[]),
            url: s.relay_url.to_owned(),
            welcome_greeting: prompts::fill(self.texts().ai_welcome, s.business_name, "", ""),
            language,
            tts_provider: "Google",
            voice,
            transcription_language: language,
            parameters: vec![
                ("token", s.token.to_owned()),
                ("consent", s.consent.as_str().to_owned()),
                ("language", self.lang.code().to_owned()),
                ("business_name", s.business_name.to_owned()),
            ],
        }))
    }

    /// `/voice-stream-action` when the AI path failed (`reason`) or the AI asked for a person
    /// (`reason = None`): the matching sentence, then the team's line dialled like a department
    /// (`department=ai_fallback|ai_transfer`, usual voicemail after a missed dial); no line →
    /// voicemail (`reason=ai_unavailable`).
    pub fn ai_to_person(
        &self,
        reason: Option<&str>,
        target: Option<&E164>,
        consent: Consent,
    ) -> Twiml {
        let t = self.texts();
        let (lead, department) = match reason {
            Some(_) => (t.ai_fallback, "ai_fallback"),
            None => (t.ai_transfer, "ai_transfer"),
        };
        match target {
            Some(target) => self.dial(department, lead, target, consent),
            None => self.to_voicemail(Some(t.nobody_available), "ai_unavailable"),
        }
    }

    /// The human path after the AI (either engine's Connect action): outside business hours the
    /// closed message and the after-hours line (or voicemail); otherwise [`Replies::ai_to_person`]
    /// to the team's line (Sales, else Support, each loop-guarded against `from`, `to` and the
    /// `hotline`). `reason` as for `ai_to_person`; `now_secs` Unix seconds.
    #[allow(clippy::too_many_arguments)]
    pub fn ai_to_team(
        &self,
        number: &NumberConfig,
        from: &str,
        to: &str,
        hotline: Option<&E164>,
        now_secs: u64,
        reason: Option<&str>,
        consent: Consent,
    ) -> Twiml {
        if let Some(h) = &number.hours {
            if let crate::hours::OpenState::Closed(why) = crate::hours::status_at(h, now_secs) {
                let target = number
                    .after_hours_target
                    .as_ref()
                    .and_then(|t| safe_target(t, from, to, hotline));
                return self.closed(why, &number.business_name, target, consent);
            }
        }
        let target = [&number.sales_target, &number.support_target]
            .into_iter()
            .flatten()
            .find_map(|t| safe_target(t, from, to, hotline));
        self.ai_to_person(reason, target, consent)
    }

    /// `/voice-stream-action` after the AI ended the conversation: goodbye, Hangup (never back
    /// to the consent question, flaw F-50).
    pub fn ai_goodbye(&self) -> Twiml {
        Twiml::new()
            .then(self.say(self.texts().ai_goodbye))
            .then(Verb::Hangup)
    }

    /// `/voice-frontdoor` for a forwarding verification call that came back forwarded: the
    /// confirmation, then Hangup (no greeting, no menu).
    pub fn forwarding_verified(&self) -> Twiml {
        Twiml::new()
            .then(self.say(self.texts().forwarding_verified))
            .then(Verb::Hangup)
    }

    /// `/voice-route-action`: hang up after a connected call, else voicemail.
    pub fn after_dial(&self, outcome: DialOutcome, dial_status: Option<&str>) -> Twiml {
        match outcome {
            DialOutcome::Connected => Twiml::new().then(Verb::Hangup),
            DialOutcome::Missed => self.to_voicemail(
                Some(self.texts().nobody_available),
                dial_status.unwrap_or("unknown"),
            ),
        }
    }

    fn record(&self, max_length: Duration) -> Verb {
        let transcribe = max_length <= MAX_TRANSCRIBED_LENGTH;
        Verb::Record(Record {
            action: self.url(Route::Voicemail, &[("step", "done")]),
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
        let t = self.texts();
        Twiml::new()
            .then(self.say(t.voicemail_prompt))
            .then(self.record(max_length))
            .then(self.say(t.voicemail_empty))
            .then(Verb::Hangup)
    }

    /// `/voice-voicemail?step=done`: thanks when something was recorded, else "we didn't get a
    /// message"; then hang up.
    pub fn voicemail_done(&self, recorded: bool) -> Twiml {
        let t = self.texts();
        let text = if recorded {
            t.voicemail_thanks
        } else {
            t.voicemail_empty
        };
        Twiml::new().then(self.say(text)).then(Verb::Hangup)
    }

    /// The safe reply: apology and a voicemail recording that needs no DynamoDB. Served by
    /// `/voice-fallback` and on any internal error of a voice webhook (spec §2.2).
    pub fn apology_voicemail(&self, max_length: Duration) -> Twiml {
        let t = self.texts();
        Twiml::new()
            .then(self.say(t.apology))
            .then(self.record(max_length))
            .then(self.say(t.voicemail_empty))
            .then(Verb::Hangup)
    }
}

/// A rate-limited caller: `<Reject reason="busy"/>`, answered with 200 (spec §3).
pub fn rate_limited() -> Twiml {
    Twiml::new().then(Verb::Reject("busy"))
}

/// Our own Dial came back forwarded (issue 24 §3): `<Reject reason="busy"/>`, so the dialling
/// call's Dial action sees `busy` and takes the caller to voicemail.
pub fn forwarding_loop() -> Twiml {
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
            speech_input: true,
            org_id: "default".into(),
            hours: None,
            after_hours_target: None,
            missed_call_text: false,
            whatsapp_enabled: false,
            whatsapp_template_sid: None,
            ai: None,
            screening: Default::default(),
            robocall_gate: Default::default(),
        }
    }

    #[test]
    fn the_bridge_gets_the_caller_context_the_receptionist_prompt_has() {
        let mut n = config();
        n.hours = Some(
            crate::hours::parse("America/Toronto", "mon-fri 08:00-17:00", None, None).unwrap(),
        );
        n.ai = Some(crate::stream::AiMode {
            engine: crate::stream::AiEngine::Relay,
            share_percent: 100,
            knowledge: Some("Furnaces.".into()),
        });
        // Friday 2026-12-04 18:00 Toronto = 23:00 UTC.
        let ctx = ai_context(&n, 1_796_425_200, Some("Dana"));
        assert_eq!(
            ctx,
            vec![
                ("open_now", "no".to_owned()),
                ("next_opening", "2026-12-07T08:00:00-05:00".to_owned()),
                ("timezone", "America/Toronto".to_owned()),
                ("caller_first_name", "Dana".to_owned()),
                ("knowledge", "Furnaces.".to_owned()),
            ]
        );
    }

    #[test]
    fn the_ai_hand_off_connects_falls_back_transfers_and_says_goodbye() {
        let r = Replies::new(BASE, "fr-CA");
        let doc = r
            .ai_connect(&StreamStart {
                stream_url: "wss://bridge.example/media",
                token: "v1.CA1.9.ab",
                call_sid: "CA1",
                consent: Consent::Granted,
                business_name: "Acme <Plumbing> & Sons",
                context: &[
                    ("caller_first_name", "Dana".into()),
                    ("open_now", "no".into()),
                ],
            })
            .to_xml();
        assert!(doc.contains(r#"<Connect action="https://hooks.example/voice-stream-action?lang=fr" method="POST"><Stream url="wss://bridge.example/media" statusCallback="https://hooks.example/voice-stream-status" statusCallbackMethod="POST">"#), "{doc}");
        for p in [
            r#"<Parameter name="token" value="v1.CA1.9.ab"/>"#,
            r#"<Parameter name="call_sid" value="CA1"/>"#,
            r#"<Parameter name="consent" value="yes"/>"#,
            r#"<Parameter name="language" value="fr"/>"#,
            r#"<Parameter name="business_name" value="Acme &lt;Plumbing&gt; &amp; Sons"/>"#,
            r#"<Parameter name="caller_first_name" value="Dana"/>"#,
            r#"<Parameter name="open_now" value="no"/>"#,
        ] {
            assert!(doc.contains(p), "{p} in {doc}");
        }
        let target = e("+14165550101");
        let fallback = r
            .ai_to_person(Some("slow_handshake"), Some(&target), Consent::Declined)
            .to_xml();
        assert!(fallback.contains(prompts::FR.ai_fallback.split('\'').next().unwrap()));
        assert!(fallback.contains("department=ai_fallback"), "{fallback}");
        assert!(fallback.contains(">+14165550101</Number>") && !fallback.contains("record="));
        let transfer = r
            .ai_to_person(None, Some(&target), Consent::Granted)
            .to_xml();
        assert!(transfer.contains("department=ai_transfer") && transfer.contains("record="));
        let nobody = r.ai_to_person(None, None, Consent::Granted).to_xml();
        assert!(
            nobody.contains("/voice-voicemail?lang=fr&amp;reason=ai_unavailable"),
            "{nobody}"
        );
        let bye = r.ai_goodbye().to_xml();
        assert!(bye.contains("Au revoir") && bye.ends_with("<Hangup/></Response>"));
        assert!(!bye.contains("voice-consent"));
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
            assert!(doc.contains(
                r#"action="https://hooks.example/voice-route-action?department=sales&amp;lang=en""#
            ));
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
            doc.contains("voice-voicemail?lang=en&amp;reason=unavailable</Redirect>"),
            "{doc}"
        );
        assert!(!doc.contains("<Dial"));
    }

    #[test]
    fn greeting_escapes_business_name_and_gathers_consent() {
        let doc = Replies::new(BASE, "en-CA")
            .greeting(&config().business_name, None)
            .to_xml();
        assert!(doc.contains("Acme &lt;Plumbing&gt; &amp; Sons"), "{doc}");
        assert!(doc.contains(r#"action="https://hooks.example/voice-consent?lang=en""#));
        assert!(doc.contains(r#"actionOnEmptyResult="true""#) && doc.contains(r#"numDigits="1""#));
        // en-CA has no Polly voice: a matching en-US pair is used, never Joanna with en-CA.
        // The offer of French is spoken by the French voice.
        assert!(doc.contains(r#"<Say voice="Polly.Gabrielle-Neural" language="fr-CA">Pour le service en français, faites le 8.</Say>"#), "{doc}");
        assert!(doc.contains(r#"voice="Polly.Joanna-Neural" language="en-US""#));
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
            retry.contains("voice-menu-handler?attempt=2&amp;lang=en&amp;repeats=1"),
            "{retry}"
        );
        assert!(retry.contains(prompts::INVALID_SELECTION));
        let vm = r
            .menu_step(MenuStep::Voicemail("no_selection"), None, Consent::Declined)
            .to_xml();
        assert!(vm.contains("lang=en&amp;reason=no_selection</Redirect>"));
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
            .contains("lang=en&amp;reason=no-answer</Redirect>"));
    }

    #[test]
    fn voicemail_record_has_action_callbacks_and_transcription_only_when_short() {
        let r = Replies::new(BASE, "en-US");
        let doc = r.voicemail_prompt(Duration::from_secs(120)).to_xml();
        assert!(
            doc.contains(r#"action="https://hooks.example/voice-voicemail?lang=en&amp;step=done""#),
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

    #[test]
    fn a_french_call_speaks_french_everywhere_and_carries_its_language() {
        let r = Replies::new(BASE, "fr-CA").with_speech(true);
        let docs = [
            r.greeting("Plomberie Acme", None).to_xml(),
            r.menu(MenuState::START, None).to_xml(),
            r.menu_step(
                MenuStep::Dial(Department::Sales),
                Some(&e("+14165550101")),
                Consent::Granted,
            )
            .to_xml(),
            r.after_dial(DialOutcome::Missed, Some("busy")).to_xml(),
            r.voicemail_prompt(Duration::from_secs(60)).to_xml(),
            r.voicemail_done(true).to_xml(),
            r.closed(
                Closed::AfterHours,
                "Plomberie Acme",
                None,
                Consent::Declined,
            )
            .to_xml(),
        ];
        for doc in &docs {
            // Every <Say> is French except the offer of English.
            for say in doc.split("<Say ").skip(1) {
                assert!(
                    say.starts_with(r#"voice="Polly.Gabrielle-Neural" language="fr-CA""#)
                        || say.contains("For English, press 8."),
                    "{doc}"
                );
            }
            // Every callback that speaks again carries the language.
            for action in [
                "voice-consent",
                "voice-menu-handler",
                "voice-voicemail",
                "voice-route-action",
            ] {
                if let Some(at) = doc.find(action) {
                    let url_end = doc[at..].find(['"', '<']).unwrap() + at;
                    assert!(doc[at..url_end].contains("lang=fr"), "{action}: {doc}");
                }
            }
        }
        assert!(
            docs[0].contains("Merci d&apos;avoir appelé Plomberie Acme"),
            "{}",
            docs[0]
        );
        assert!(docs[0].contains(r#"input="dtmf speech""#));
        assert!(docs[0].contains(r#"language="fr-CA" hints="oui, non, ventes, soutien, messagerie" speechTimeout="auto""#), "{}", docs[0]);
        assert!(
            docs[6].contains("Nos bureaux sont fermés en ce moment")
                && docs[6].contains("lang=fr&amp;reason=after_hours")
        );
        // Without speech: keys only, the key-only wording.
        let keys = Replies::new(BASE, "fr-CA")
            .menu(MenuState::START, None)
            .to_xml();
        assert!(keys.contains(r#"input="dtmf""#) && !keys.contains("hints="));
        assert!(keys.contains(&*quick_xml::escape::escape(prompts::FR.menu)));
    }

    #[test]
    fn eight_switches_language_a_bounded_number_of_times() {
        use crate::prompts::Lang;
        assert_eq!(
            consent_answer(Some("8"), None, None, Lang::En, 0),
            ConsentAnswer::SwitchLanguage
        );
        assert_eq!(
            consent_answer(Some("8"), None, None, Lang::Fr, 1),
            ConsentAnswer::SwitchLanguage
        );
        assert_eq!(
            consent_answer(Some("8"), None, None, Lang::En, MAX_CONSENT_SWITCHES),
            ConsentAnswer::Answer(Consent::Declined)
        );
        // Keys win over speech; speech only when no key was pressed; unclear is no.
        assert_eq!(
            consent_answer(Some("2"), Some("yes"), Some(0.9), Lang::En, 0),
            ConsentAnswer::Answer(Consent::Declined)
        );
        assert_eq!(
            consent_answer(None, Some("oui"), Some(0.9), Lang::Fr, 0),
            ConsentAnswer::Answer(Consent::Granted)
        );
        assert_eq!(
            consent_answer(None, Some("maybe"), Some(0.9), Lang::En, 0),
            ConsentAnswer::Answer(Consent::Declined)
        );
        assert_eq!(
            consent_answer(None, Some("yes"), Some(0.2), Lang::En, 0),
            ConsentAnswer::Answer(Consent::Declined)
        );
        assert_eq!(
            menu_key(None, Some("ventes"), Some(0.9), Lang::Fr),
            Some("1")
        );
        assert_eq!(
            menu_key(Some("2"), Some("ventes"), Some(0.9), Lang::Fr),
            Some("2")
        );
        // The switch is a menu step counted with the replays.
        let s = MenuState::START;
        assert_eq!(
            menu_step(Some("8"), s),
            MenuStep::SwitchLanguage(MenuState {
                attempt: 1,
                repeats: 1
            })
        );
        let used = MenuState {
            attempt: 1,
            repeats: MAX_MENU_REPEATS,
        };
        assert_eq!(
            menu_step(Some("8"), used),
            MenuStep::Retry(MenuState {
                attempt: 2,
                repeats: MAX_MENU_REPEATS
            })
        );
        let consent = Replies::new(BASE, "en-CA")
            .switched()
            .consent_again(1)
            .to_xml();
        assert!(
            consent.contains("voice-consent?lang=fr&amp;switches=1"),
            "{consent}"
        );
        assert!(consent.contains(&*quick_xml::escape::escape(prompts::FR.consent_question)));
    }
}
