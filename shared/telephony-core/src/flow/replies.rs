//! The TwiML reply of every step of the call (spec §3), for one number and one language.

use crate::ids::E164;
use crate::prompts::{self, Lang};
use crate::routes::Route;
use crate::speech;
use crate::twiml::{Connect, Dial, Gather, Number, Record, Relay, Say, SpeechInput, Twiml, Verb};
use std::time::Duration;

use super::*;

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
