//! A stand-in for Twilio, for local runs and tests: it plays a call against the hotline's webhooks
//! the way Twilio does (signed form posts; following `<Gather>`, `<Dial>`, `<Record>` and
//! `<Redirect>`; status, recording and transcription callbacks), and serves a real WAV file as the
//! recording media, behind basic auth like Twilio's API.
//!
//! The transport is pluggable: [`HttpTransport`] posts to a running local stack; tests pass a
//! transport that calls the handlers in-process.

pub mod bridge;
pub mod cli;
pub mod media;
pub mod relay;
pub mod twiml;

use std::future::Future;
use telephony_core::signature;
use twiml::SimVerb;

/// A webhook reply as Twilio would see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    /// HTTP status.
    pub status: u16,
    /// Body text.
    pub body: String,
}

/// Delivers one signed webhook request.
pub trait Transport {
    /// POSTs `params` (form-encoded) to the absolute `url` with `X-Twilio-Signature: signature`.
    fn post(
        &self,
        url: &str,
        params: &[(String, String)],
        signature: &str,
    ) -> impl Future<Output = Reply>;

    /// Plays Twilio's side of a `<Connect><Stream>` and reports what Twilio saw. The default
    /// needs no bridge: the stream starts after the play's delay (without waiting for it) and the
    /// AI ends it; `AiPlay::Fail` reports a handshake error.
    fn stream(&self, req: &bridge::StreamRequest) -> impl Future<Output = bridge::StreamRun> {
        let play = req.play;
        async move {
            let mut run = bridge::StreamRun::default();
            if play == bridge::AiPlay::Fail {
                run.error = Some("31920 Stream - WebSocket - Handshake Error".into());
            } else {
                run.started_at_ms = Some(bridge::now_ms() + play.delay().as_millis() as u64);
            }
            run
        }
    }
}

/// Posts over HTTP to a running stack (e.g. `make run` on 127.0.0.1).
#[derive(Debug, Clone)]
pub struct HttpTransport {
    client: reqwest::Client,
    /// The hotline's public base URL (what Twilio signs).
    pub public_base_url: String,
    /// Where the stack really listens (often the same as the public URL locally).
    pub target_base_url: String,
    /// `--at`: the instant (Unix seconds) sent as `X-Tradeline-Sim-Now`, which a `STAGE=local`
    /// stack uses to judge business hours.
    pub sim_now: Option<u64>,
}

impl HttpTransport {
    /// A transport that signs for `public_base_url` and sends to `target_base_url`.
    pub fn new(public_base_url: &str, target_base_url: &str) -> Self {
        Self {
            client: reqwest::Client::new(),
            public_base_url: public_base_url.trim_end_matches('/').to_owned(),
            target_base_url: target_base_url.trim_end_matches('/').to_owned(),
            sim_now: None,
        }
    }
}

impl Transport for HttpTransport {
    async fn post(&self, url: &str, params: &[(String, String)], signature: &str) -> Reply {
        let target = url.replacen(&self.public_base_url, &self.target_base_url, 1);
        let body = encode_form(params);
        let sent = self
            .client
            .post(&target)
            .header("content-type", "application/x-www-form-urlencoded")
            .header("x-twilio-signature", signature)
            .headers(
                self.sim_now
                    .map(|t| {
                        let mut h = reqwest::header::HeaderMap::new();
                        if let Ok(v) = t.to_string().parse() {
                            h.insert("x-tradeline-sim-now", v);
                        }
                        h
                    })
                    .unwrap_or_default(),
            )
            .body(body)
            .send()
            .await;
        match sent {
            Ok(resp) => {
                let status = resp.status().as_u16();
                Reply {
                    status,
                    body: resp.text().await.unwrap_or_default(),
                }
            }
            Err(e) => Reply {
                status: 0,
                body: format!("request failed: {e}"),
            },
        }
    }

    /// Over a real WebSocket to the bridge at the `<Stream url>` ([`bridge::play_twilio_side`]).
    async fn stream(&self, req: &bridge::StreamRequest) -> bridge::StreamRun {
        bridge::play_twilio_side(req).await
    }
}

/// Form-encodes pairs (`a=1&b=%2B1`), as Twilio sends them.
pub fn encode_form(params: &[(String, String)]) -> String {
    let mut ser = form_urlencoded::Serializer::new(String::new());
    for (k, v) in params {
        ser.append_pair(k, v);
    }
    ser.finish()
}

/// Twilio "Webhooks connection overrides" read from a URL fragment: how often a failed request is
/// retried (`rc`, 0–5, default 1) and on which failures (`rp`: `4xx`, `5xx`, `ct`, `rt`, `all`;
/// default `ct`, a connection failure).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Overrides {
    /// Retries after the first attempt.
    pub retries: u32,
    /// Retry on 4xx answers.
    pub on_4xx: bool,
    /// Retry on 5xx answers.
    pub on_5xx: bool,
}

impl Overrides {
    /// Whether an attempt answered `status` (0 = no connection) is retried.
    pub fn retries_on(&self, status: u16) -> bool {
        status == 0
            || (self.on_4xx && (400..500).contains(&status))
            || (self.on_5xx && status >= 500)
    }
}

/// Splits `url` into the URL Twilio requests (no fragment) and its connection overrides.
pub fn split_overrides(url: &str) -> (&str, Overrides) {
    let mut o = Overrides {
        retries: 1,
        on_4xx: false,
        on_5xx: false,
    };
    let Some((bare, fragment)) = url.split_once('#') else {
        return (url, o);
    };
    for (k, v) in form_urlencoded::parse(fragment.as_bytes()) {
        match &*k {
            "rc" => o.retries = v.parse::<u32>().map_or(1, |n| n.min(5)),
            "rp" => {
                for policy in v.split(',') {
                    match policy {
                        "all" => (o.on_4xx, o.on_5xx) = (true, true),
                        "4xx" => o.on_4xx = true,
                        "5xx" => o.on_5xx = true,
                        _ => {}
                    }
                }
            }
            _ => {}
        }
    }
    (bare, o)
}

/// How the simulated caller and callee behave.
#[derive(Debug, Clone)]
pub struct Script {
    /// `CallSid` of the inbound call.
    pub call_sid: String,
    /// Caller (`From`).
    pub from: String,
    /// Dialled business number (`To`).
    pub to: String,
    /// Account SID sent with every request and used in recording URLs.
    pub account_sid: String,
    /// Digits pressed at each `<Gather>`, in order; `None` is silence; `say:TEXT[@CONFIDENCE]`
    /// is a spoken answer. When the list runs out, the caller stays silent.
    pub digits: Vec<Option<String>>,
    /// `DialCallStatus` of each `<Dial>`: `completed`, `busy`, `no-answer`, `failed`, `canceled`.
    pub dial_status: String,
    /// Length of the message left at a `<Record>`, seconds; 0 = hangs up without speaking.
    pub message_seconds: u64,
    /// Transcript Twilio "produces" for the voicemail.
    pub transcript: String,
    /// Base of the recording media URLs (the fake Twilio API, e.g. the [`media`] server).
    pub media_base_url: String,
    /// Auth token requests are signed with.
    pub auth_token: String,
    /// At most this many webhook requests (guards against a reply loop).
    pub max_requests: usize,
    /// Wait before the first retry a connection override (`#rc=…`) asks for; doubled for each
    /// further retry (Twilio spaces its retries within its 15 s budget).
    pub retry_backoff: std::time::Duration,
    /// How the AI bridge behaves when the call is connected to it (`--ai`).
    pub ai: bridge::AiPlay,
    /// `ForwardedFrom` on every request of the call: the number the carrier forwarded it from
    /// (a customer's SIM in hybrid forwarding); `None` for a call dialled directly.
    pub forwarded_from: Option<String>,
    /// What the caller says to the AI receptionist, turn by turn (`--say`; `dtmf:0` presses a
    /// key, `interrupt:HEARD` barges in), on a `<ConversationRelay>`.
    pub says: Vec<String>,
    /// Who answers a dialled leg that completes (`--answered-by`): a person presses 1 at a
    /// whisper; a machine (a mailbox, a screening bot) presses nothing.
    pub answered_by: AnsweredBy,
    /// `StirVerstat` on every request (`--verstat`, Twilio's STIR/SHAKEN result); `None` → absent.
    pub verstat: Option<String>,
}

/// Who answers a dialled leg.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum AnsweredBy {
    /// A person: presses 1 at the screened hand-off's whisper.
    #[default]
    Human,
    /// A voicemail or screening bot: presses nothing.
    Machine,
}

/// One request of the call and its reply.
#[derive(Debug, Clone)]
pub struct Step {
    /// URL posted to.
    pub url: String,
    /// Parameters sent.
    pub params: Vec<(String, String)>,
    /// The reply.
    pub reply: Reply,
}

/// A dialled `<Number>`.
struct Leg {
    number: String,
    status_callback: Option<String>,
    whisper: Option<String>,
}

/// Everything that happened during a simulated call.
#[derive(Debug, Clone, Default)]
pub struct CallLog {
    /// Every request in order (TwiML requests and callbacks).
    pub steps: Vec<Step>,
    /// Text of every `<Say>` the caller heard.
    pub heard: Vec<String>,
    /// How the call ended: `hangup`, `reject:<reason>`, `end-of-document`, `error:<…>`.
    pub ended: String,
    /// The `record` attribute of each `<Dial>` (`None` = not recorded).
    pub dial_records: Vec<Option<String>>,
    /// Numbers dialled.
    pub dialled: Vec<String>,
    /// What the answering side heard at each whisper, and whether it took the call.
    pub whispers: Vec<(String, bool)>,
    /// What happened on each AI media stream.
    pub streams: Vec<bridge::StreamRun>,
    /// What happened on each AI receptionist session.
    pub relays: Vec<relay::RelayRun>,
}

impl CallLog {
    /// The TwiML replies (not callbacks), in order.
    pub fn twiml_replies(&self) -> impl Iterator<Item = &Step> {
        self.steps
            .iter()
            .filter(|s| s.reply.body.contains("<Response"))
    }
}

/// Plays one call following the hotline's TwiML, starting at `voice_url`.
pub async fn play_call<T: Transport>(transport: &T, script: &Script, voice_url: &str) -> CallLog {
    let mut sim = Sim {
        transport,
        script,
        log: CallLog::default(),
        gathers: 0,
        recordings: 0,
    };
    sim.run(voice_url).await;
    sim.log
}

struct Sim<'a, T> {
    transport: &'a T,
    script: &'a Script,
    log: CallLog,
    gathers: usize,
    recordings: usize,
}

impl<T: Transport> Sim<'_, T> {
    fn base_params(&self) -> Vec<(String, String)> {
        let s = self.script;
        [
            ("AccountSid", s.account_sid.as_str()),
            ("ApiVersion", "2010-04-01"),
            ("CallSid", s.call_sid.as_str()),
            ("CallStatus", "in-progress"),
            ("Called", s.to.as_str()),
            ("Caller", s.from.as_str()),
            ("Direction", "inbound"),
            ("From", s.from.as_str()),
            ("To", s.to.as_str()),
        ]
        .iter()
        .copied()
        .chain(s.forwarded_from.as_deref().map(|f| ("ForwardedFrom", f)))
        .chain(s.verstat.as_deref().map(|v| ("StirVerstat", v)))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
    }

    /// Posts like Twilio: the URL's fragment (a connection override such as `#rc=3&rp=all`) is
    /// not sent and not signed; a failed attempt is retried as the fragment's `rc` asks.
    async fn send(&mut self, url: &str, params: Vec<(String, String)>) -> Reply {
        let (url, overrides) = split_overrides(url);
        let sig = signature::compute(&self.script.auth_token, url, &params);
        let mut reply = self.transport.post(url, &params, &sig).await;
        let mut retries = overrides.retries;
        let mut backoff = self.script.retry_backoff;
        while retries > 0 && overrides.retries_on(reply.status) {
            retries -= 1;
            self.log.steps.push(Step {
                url: url.to_owned(),
                params: params.clone(),
                reply: reply.clone(),
            });
            tokio::time::sleep(backoff).await;
            backoff *= 2;
            reply = self.transport.post(url, &params, &sig).await;
        }
        self.log.steps.push(Step {
            url: url.to_owned(),
            params,
            reply: reply.clone(),
        });
        reply
    }

    async fn run(&mut self, voice_url: &str) {
        let mut next = Some((voice_url.to_owned(), self.base_params()));
        while let Some((url, params)) = next.take() {
            if self.log.steps.len() >= self.script.max_requests {
                self.log.ended = "error:too many requests".into();
                return;
            }
            let reply = self.send(&url, params).await;
            if reply.status != 200 {
                self.log.ended = format!("error:HTTP {} from {url}", reply.status);
                return;
            }
            let verbs = match twiml::parse(&reply.body) {
                Ok(v) => v,
                Err(e) => {
                    self.log.ended = format!("error:invalid TwiML: {e}");
                    return;
                }
            };
            next = self.execute(verbs).await;
        }
        self.finish().await;
    }

    /// Runs verbs until one hands control to a URL (returned) or the call ends (`None`).
    async fn execute(&mut self, verbs: Vec<SimVerb>) -> Option<(String, Vec<(String, String)>)> {
        for verb in verbs {
            match verb {
                SimVerb::Say(text) => self.log.heard.push(text),
                SimVerb::Pause | SimVerb::Message(_) => {}
                SimVerb::Hangup => {
                    self.log.ended = "hangup".into();
                    return None;
                }
                SimVerb::Reject(reason) => {
                    self.log.ended = format!("reject:{reason}");
                    return None;
                }
                SimVerb::Redirect(url) => return Some((url, self.base_params())),
                SimVerb::Relay {
                    action,
                    url,
                    welcome_greeting,
                    parameters,
                    ..
                } => {
                    self.log.heard.push(welcome_greeting);
                    let setup = relay::setup_message(
                        &self.script.call_sid,
                        &self.script.account_sid,
                        &self.script.from,
                        &self.script.to,
                        &parameters,
                    );
                    let run =
                        relay::converse(&url, &self.script.auth_token, &setup, &self.script.says)
                            .await;
                    for t in &run.turns {
                        self.log.heard.extend(t.heard.iter().cloned());
                    }
                    let mut params = self.base_params();
                    params.push((
                        "SessionId".into(),
                        format!("VX{}", self.script.call_sid.get(2..).unwrap_or("")),
                    ));
                    params.push(("SessionDuration".into(), "12".into()));
                    match (&run.handoff, &run.error, run.hung_up) {
                        (Some(h), _, _) => {
                            params.push(("SessionStatus".into(), "ended".into()));
                            params.push(("HandoffData".into(), h.clone()));
                        }
                        (None, Some(_), _) => {
                            params.push(("SessionStatus".into(), "failed".into()));
                            params.push(("ErrorCode".into(), "64105".into()));
                        }
                        (None, None, _) => {
                            params.retain(|(k, _)| k != "CallStatus");
                            params.push(("CallStatus".into(), "completed".into()));
                            params.push(("SessionStatus".into(), "completed".into()));
                        }
                    }
                    self.log.relays.push(run);
                    return Some((action, params));
                }
                SimVerb::Connect {
                    action,
                    stream_url,
                    status_callback,
                    parameters,
                } => {
                    self.stream(stream_url, status_callback, parameters).await;
                    return Some((action, self.base_params()));
                }
                SimVerb::Gather {
                    action,
                    prompts,
                    action_on_empty_result,
                } => {
                    self.log.heard.extend(prompts);
                    let pressed = self.script.digits.get(self.gathers).cloned().flatten();
                    self.gathers += 1;
                    let mut params = self.base_params();
                    match pressed {
                        // `say:TEXT` or `say:TEXT@CONFIDENCE`: a spoken answer, as Twilio posts
                        // it from `<Gather input="dtmf speech">` (confidence 0.92 by default).
                        Some(d) if d.starts_with("say:") => {
                            let spoken = &d["say:".len()..];
                            let (text, confidence) = spoken
                                .rsplit_once('@')
                                .and_then(|(t, c)| c.parse::<f32>().ok().map(|c| (t, c)))
                                .unwrap_or((spoken, 0.92));
                            params.push(("SpeechResult".into(), text.to_owned()));
                            params.push(("Confidence".into(), confidence.to_string()));
                        }
                        Some(d) => params.push(("Digits".into(), d)),
                        None if !action_on_empty_result => continue,
                        None => {}
                    }
                    return Some((action, params));
                }
                SimVerb::Dial {
                    action,
                    record,
                    recording_callback,
                    number,
                    status_callback,
                    whisper,
                } => {
                    let leg = Leg {
                        number,
                        status_callback,
                        whisper,
                    };
                    return Some(self.dial(action, record, recording_callback, leg).await);
                }
                SimVerb::Record {
                    action,
                    recording_callback,
                    transcribe_callback,
                } => {
                    if self.script.message_seconds == 0 {
                        continue; // empty recording: Twilio falls through to the next verb
                    }
                    return Some(
                        self.record(action, recording_callback, transcribe_callback, "voicemail")
                            .await,
                    );
                }
            }
        }
        self.log.ended = "end-of-document".into();
        None
    }

    async fn dial(
        &mut self,
        action: String,
        record: Option<String>,
        recording_callback: Option<String>,
        leg: Leg,
    ) -> (String, Vec<(String, String)>) {
        let Leg {
            number,
            status_callback,
            whisper,
        } = leg;
        self.log.dial_records.push(record.clone());
        self.log.dialled.push(number.clone());
        // Each dialled leg gets its own CallSid, derived from the parent's (one per call and dial).
        let parent = u128::from_str_radix(&self.script.call_sid[2..], 16).unwrap_or(0);
        let child = format!(
            "CA{:032x}",
            parent.rotate_left(17) ^ (self.log.steps.len() as u128 + 0xc411d)
        );
        let outcome = self.script.dial_status.clone();
        let answered = outcome == "completed";
        // The whisper runs on the answered leg before the bridge (Twilio `<Number url>`).
        let bridged = match (&whisper, answered) {
            (Some(url), true) => self.whisper(url, &child, &number).await,
            _ => answered,
        };
        if let Some(cb) = &status_callback {
            let mut events = vec!["initiated", "ringing"];
            if answered {
                events.push("in-progress");
            }
            events.push(&outcome);
            for status in events {
                let mut p = self.base_params();
                p.retain(|(k, _)| k != "CallSid" && k != "CallStatus");
                p.push(("CallSid".into(), child.clone()));
                p.push(("ParentCallSid".into(), self.script.call_sid.clone()));
                p.push(("CallStatus".into(), status.to_owned()));
                if status == outcome {
                    p.push((
                        "CallDuration".into(),
                        if answered { "42" } else { "0" }.into(),
                    ));
                }
                self.send(cb, p).await;
            }
        }
        if bridged && record.is_some() {
            if let Some(cb) = &recording_callback {
                let (rec_sid, p) = self.recording_params("dial", 42);
                self.register_recording(&rec_sid, 42, "DialVerb").await;
                self.send(cb, p).await;
            }
        }
        let mut p = self.base_params();
        p.push(("DialCallStatus".into(), outcome));
        p.push(("DialCallSid".into(), child));
        p.push((
            "DialCallDuration".into(),
            if answered { "42" } else { "0" }.into(),
        ));
        (action, p)
    }

    /// The whisper on the dialled leg `child` (to `number`): its TwiML fetched as Twilio does
    /// (the child's parameters), its `<Gather>` answered — a person presses 1, a machine
    /// nothing — and its action posted. Returns whether the legs were bridged (the action's
    /// document ended without `<Hangup/>`).
    async fn whisper(&mut self, url: &str, child: &str, number: &str) -> bool {
        let mut p = self.base_params();
        p.retain(|(k, _)| k != "CallSid" && k != "To" && k != "Called" && k != "Direction");
        p.push(("CallSid".into(), child.to_owned()));
        p.push(("ParentCallSid".into(), self.script.call_sid.clone()));
        p.push(("To".into(), number.to_owned()));
        p.push(("Called".into(), number.to_owned()));
        p.push(("Direction".into(), "outbound-api".into()));
        let reply = self.send(url, p.clone()).await;
        let Ok(verbs) = twiml::parse(&reply.body) else {
            return false;
        };
        let human = self.script.answered_by == AnsweredBy::Human;
        for verb in verbs {
            match verb {
                SimVerb::Gather {
                    action,
                    prompts,
                    action_on_empty_result,
                } => {
                    let mut params = p.clone();
                    if human {
                        params.push(("Digits".into(), "1".into()));
                    } else if !action_on_empty_result {
                        self.log.whispers.push((prompts.join(" "), false));
                        continue;
                    }
                    let answer = self.send(&action, params).await;
                    let took = twiml::parse(&answer.body)
                        .map(|v| !v.iter().any(|x| matches!(x, SimVerb::Hangup)))
                        .unwrap_or(false);
                    self.log.whispers.push((prompts.join(" "), took));
                    return took;
                }
                SimVerb::Hangup => return false,
                _ => {}
            }
        }
        true
    }

    /// A `<Connect><Stream>`: the bridge session (through the transport), then the stream status
    /// callbacks Twilio sends (`stream-started` with its instant, then `stream-error` or
    /// `stream-stopped`); the caller then continues at the `<Connect action>`.
    async fn stream(
        &mut self,
        url: String,
        status_callback: Option<String>,
        parameters: Vec<(String, String)>,
    ) {
        let req = bridge::StreamRequest {
            url,
            call_sid: self.script.call_sid.clone(),
            account_sid: self.script.account_sid.clone(),
            parameters,
            play: self.script.ai,
        };
        let run = self.transport.stream(&req).await;
        if let Some(cb) = status_callback {
            let params = |event: &str, at_ms: u64| {
                let at = chrono::DateTime::from_timestamp_millis(at_ms as i64)
                    .unwrap_or_default()
                    .to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
                vec![
                    ("AccountSid".to_string(), req.account_sid.clone()),
                    ("CallSid".to_string(), req.call_sid.clone()),
                    ("StreamSid".to_string(), req.stream_sid()),
                    ("StreamName".to_string(), req.stream_sid()),
                    ("StreamEvent".to_string(), event.to_string()),
                    ("Timestamp".to_string(), at),
                ]
            };
            if let Some(at) = run.started_at_ms {
                self.send(&cb, params("stream-started", at)).await;
            }
            match &run.error {
                Some(e) => {
                    let mut p = params("stream-error", bridge::now_ms());
                    p.push(("StreamError".to_string(), e.clone()));
                    self.send(&cb, p).await;
                }
                None => {
                    let at = bridge::now_ms().max(run.started_at_ms.unwrap_or(0));
                    self.send(&cb, params("stream-stopped", at)).await;
                }
            }
        }
        self.log.streams.push(run);
    }

    fn recording_params(&mut self, kind: &str, seconds: u64) -> (String, Vec<(String, String)>) {
        self.recordings += 1;
        let rec_sid = format!(
            "RE{:030x}{:02x}",
            u128::from_str_radix(&self.script.call_sid[2..], 16).unwrap_or(0) & 0xffff_ffff,
            self.recordings
        );
        let url = format!(
            "{}/2010-04-01/Accounts/{}/Recordings/{rec_sid}",
            self.script.media_base_url.trim_end_matches('/'),
            self.script.account_sid
        );
        let mut p = vec![
            ("AccountSid".to_string(), self.script.account_sid.clone()),
            ("CallSid".to_string(), self.script.call_sid.clone()),
            ("RecordingSid".to_string(), rec_sid.clone()),
            ("RecordingUrl".to_string(), url),
            ("RecordingStatus".to_string(), "completed".to_string()),
            ("RecordingDuration".to_string(), seconds.to_string()),
            (
                "RecordingChannels".to_string(),
                if kind == "dial" { "2" } else { "1" }.to_string(),
            ),
            (
                "RecordingSource".to_string(),
                if kind == "dial" {
                    "DialVerb"
                } else {
                    "RecordVerb"
                }
                .to_string(),
            ),
        ];
        p.sort();
        (rec_sid, p)
    }

    async fn record(
        &mut self,
        action: String,
        recording_callback: Option<String>,
        transcribe_callback: Option<String>,
        kind: &str,
    ) -> (String, Vec<(String, String)>) {
        let seconds = self.script.message_seconds;
        let (rec_sid, rec_params) = self.recording_params(kind, seconds);
        let url = rec_params
            .iter()
            .find(|(k, _)| k == "RecordingUrl")
            .map(|(_, v)| v.clone())
            .unwrap_or_default();
        self.register_recording(&rec_sid, seconds, "RecordVerb")
            .await;
        if let Some(cb) = &recording_callback {
            self.send(cb, rec_params).await;
        }
        if let Some(cb) = &transcribe_callback {
            let p = vec![
                ("AccountSid".to_string(), self.script.account_sid.clone()),
                ("CallSid".to_string(), self.script.call_sid.clone()),
                ("RecordingSid".to_string(), rec_sid.clone()),
                ("RecordingUrl".to_string(), url.clone()),
                (
                    "TranscriptionSid".to_string(),
                    format!("TR{}", &rec_sid[2..]),
                ),
                ("TranscriptionStatus".to_string(), "completed".to_string()),
                (
                    "TranscriptionText".to_string(),
                    self.script.transcript.clone(),
                ),
            ];
            self.send(cb, p).await;
        }
        let mut p = self.base_params();
        p.push(("Digits".into(), "#".into()));
        p.push(("RecordingSid".into(), rec_sid));
        p.push(("RecordingUrl".into(), url));
        p.push(("RecordingDuration".into(), seconds.to_string()));
        (action, p)
    }

    /// Tells the fake Twilio API (at `media_base_url`) that a recording exists, as Twilio's
    /// Recordings list would show it. Best effort: a host that is not the fake API ignores it.
    async fn register_recording(&self, rec_sid: &str, seconds: u64, source: &str) {
        let s = self.script;
        let url = format!(
            "{}/_sim/recordings?{}",
            s.media_base_url.trim_end_matches('/'),
            form_urlencoded::Serializer::new(String::new())
                .append_pair("CallSid", &s.call_sid)
                .append_pair("RecordingSid", rec_sid)
                .append_pair("Duration", &seconds.to_string())
                .append_pair("Source", source)
                .finish()
        );
        let _ = reqwest::Client::new()
            .post(url)
            .basic_auth(&s.account_sid, Some(&s.auth_token))
            .send()
            .await;
    }

    /// The number's status callback for the parent call: `completed`.
    async fn finish(&mut self) {
        let status_url = self
            .log
            .steps
            .first()
            .map(|s| s.url.replace("/voice-frontdoor", "/voice-status"));
        if let Some(url) = status_url.filter(|u| u.ends_with("/voice-status")) {
            let mut p = self.base_params();
            p.retain(|(k, _)| k != "CallStatus");
            p.push(("CallStatus".into(), "completed".into()));
            p.push(("CallDuration".into(), "60".into()));
            self.send(&url, p).await;
        }
    }
}

/// SNS messages published to `topic_arn` as `(subject, message)`, read from a moto server's data
/// API (`GET /moto-api/data.json`; moto keeps every publish in `sent_notifications`). moto builds
/// that document from live state, and a read racing a write can fail, so a few attempts are made.
///
/// Errors: the HTTP error, or a message when moto never answered with JSON.
pub async fn moto_sns_messages(
    endpoint: &str,
    topic_arn: &str,
) -> Result<Vec<(String, String)>, String> {
    let mut data = None;
    for _ in 0..10 {
        let text = reqwest::get(format!("{endpoint}/moto-api/data.json"))
            .await
            .map_err(|e| e.to_string())?
            .text()
            .await
            .map_err(|e| e.to_string())?;
        if let Ok(v) = serde_json::from_str::<serde_json::Value>(&text) {
            data = Some(v);
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let data = data.ok_or("moto data.json never answered with JSON")?;
    let mut out = Vec::new();
    for topic in data["sns"]["Topic"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|t| t["arn"] == topic_arn)
    {
        for sent in topic["sent_notifications"].as_array().into_iter().flatten() {
            out.push((
                sent[2].as_str().unwrap_or("").to_owned(),
                sent[1].as_str().unwrap_or("").to_owned(),
            ));
        }
    }
    Ok(out)
}
