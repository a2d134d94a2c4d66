//! TwiML documents (spec §2.5): every attribute value and text node is escaped with
//! `quick_xml::escape::escape`, so a hostile caller name or URL cannot break the XML (flaw F-03);
//! the tests and property tests parse every document back with a strict XML 1.0 parser.
//!
//! Only the verbs and attributes the hotline uses are modelled (Twilio TwiML reference: `<Say>`,
//! `<Gather>`, `<Dial>`/`<Number>`, `<Record>`, `<Redirect>`, `<Reject>`, `<Hangup>`, `<Pause>`,
//! `<Connect>`/`<Stream>`/`<Parameter>`).

use std::time::Duration;

/// A `<Say>`: text spoken with a voice and language.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Say {
    /// Spoken text (escaped on output).
    pub text: String,
    /// `voice`, e.g. `Polly.Joanna`.
    pub voice: &'static str,
    /// `language`, e.g. `en-US`; must match the voice (flaw F-45).
    pub language: &'static str,
}

/// A `<Gather input="dtmf">` collecting digits, with prompts nested inside.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Gather {
    /// Absolute `action` URL (POST).
    pub action: String,
    /// `numDigits`.
    pub num_digits: u8,
    /// `timeout`, whole seconds of silence after the prompt.
    pub timeout: Duration,
    /// `actionOnEmptyResult`: post to `action` even when nothing was pressed (else Twilio falls
    /// through to the next verb, flaw F-15).
    pub action_on_empty_result: bool,
    /// Prompts played while gathering.
    pub prompts: Vec<Say>,
    /// Also accept speech (`input="dtmf speech"`, `speechTimeout="auto"`), recognised in
    /// `language` with `hints` (Twilio `<Gather>` docs); `None` → keys only.
    pub speech: Option<SpeechInput>,
}

/// Speech recognition settings of a `<Gather>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SpeechInput {
    /// `language` of the recogniser, e.g. `fr-CA`.
    pub language: &'static str,
    /// `hints`: comma-separated words and phrases likely to be said.
    pub hints: &'static str,
}

/// `<Number>` inside a `<Dial>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Number {
    /// The E.164 number dialled.
    pub e164: String,
    /// `statusCallback` (absolute URL, POST); an attribute of `<Number>`, not `<Dial>` (flaw F-16).
    pub status_callback: Option<String>,
    /// `statusCallbackEvent`, space-separated.
    pub status_callback_event: Option<&'static str>,
    /// `url` (POST): TwiML run on the called party's leg once it answers, before the parties
    /// are bridged — the screened hand-off's whisper (Twilio `<Number>` docs, issue 24 §1).
    pub url: Option<String>,
}

/// A `<Dial>` to one number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dial {
    /// Absolute `action` URL (POST) that receives `DialCallStatus`.
    pub action: String,
    /// `timeout`: ring time before `no-answer`.
    pub timeout: Duration,
    /// `answerOnBridge`.
    pub answer_on_bridge: bool,
    /// `record`, e.g. `record-from-answer-dual`; `None` writes no attribute (no recording).
    pub record: Option<&'static str>,
    /// `recordingStatusCallback`, only with `record`.
    pub recording_status_callback: Option<String>,
    /// The number to ring.
    pub number: Number,
}

/// A `<Record>` (voicemail).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    /// Absolute `action` URL (POST); never omitted, or Twilio posts back to the current URL
    /// forever (flaw F-05).
    pub action: String,
    /// `maxLength`.
    pub max_length: Duration,
    /// `finishOnKey`.
    pub finish_on_key: &'static str,
    /// `playBeep`.
    pub play_beep: bool,
    /// `recordingStatusCallback` (POST).
    pub recording_status_callback: String,
    /// `transcribeCallback`; `Some` also writes `transcribe="true"`.
    pub transcribe_callback: Option<String>,
}

/// A `<Connect action><Stream url statusCallback>…<Parameter/>…</Stream></Connect>`: the call's
/// audio goes to a bidirectional Media Stream (a WebSocket service) until the service closes it;
/// then Twilio requests `action` (Twilio TwiML `<Connect>`/`<Stream>` reference).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Connect {
    /// Absolute `action` URL (POST), requested when the stream ends.
    pub action: String,
    /// The `<Stream url>`: `wss://…` of the media service.
    pub stream_url: String,
    /// `<Stream statusCallback>` (POST): `stream-started`, `stream-stopped`, `stream-error`.
    pub status_callback: String,
    /// `<Parameter name value/>`s, delivered to the service in the `start` message's
    /// `customParameters`.
    pub parameters: Vec<(&'static str, String)>,
}

/// A `<Connect action><ConversationRelay url …>…<Parameter/>…</ConversationRelay></Connect>`
/// (issue 28; Twilio TwiML `<ConversationRelay>` noun): Twilio does speech-to-text and
/// text-to-speech and talks to `url` in JSON text messages until the session ends; then Twilio
/// requests `action`. Barge-in (`interruptible="any"`) and DTMF detection are always on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Relay {
    /// Absolute `action` URL (POST), requested when the session ends.
    pub action: String,
    /// `url`: the `wss://` WebSocket API, without a query (the handshake signature covers the
    /// URL; API Gateway hands the query over as a map, so it could not be rebuilt exactly).
    pub url: String,
    /// `welcomeGreeting`: spoken by Twilio as soon as the session starts.
    pub welcome_greeting: String,
    /// `language` (BCP-47, e.g. `en-US`, `fr-CA`): text-to-speech and transcription.
    pub language: &'static str,
    /// `ttsProvider`, e.g. `Google`, `Amazon`, `ElevenLabs`.
    pub tts_provider: &'static str,
    /// `voice` of that provider, e.g. `en-US-Journey-O`.
    pub voice: &'static str,
    /// `transcriptionLanguage` (BCP-47).
    pub transcription_language: &'static str,
    /// `<Parameter name value/>`s, delivered in the `setup` message's `customParameters`.
    pub parameters: Vec<(&'static str, String)>,
}

/// One TwiML verb.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verb {
    /// `<Say>`.
    Say(Say),
    /// `<Gather>`.
    Gather(Gather),
    /// `<Dial>`.
    Dial(Dial),
    /// `<Record>`.
    Record(Record),
    /// `<Redirect method="POST">url</Redirect>`.
    Redirect(String),
    /// `<Pause length="n"/>`.
    Pause(Duration),
    /// `<Reject reason="…"/>`: `busy` or `rejected`.
    Reject(&'static str),
    /// `<Hangup/>`.
    Hangup,
    /// `<Message>text</Message>`: an SMS reply to the sender (messaging TwiML).
    Message(String),
    /// `<Connect><Stream>`: hand the call to a real-time media service.
    Connect(Connect),
    /// `<Connect><ConversationRelay>`: hand the call to the AI receptionist (issue 28).
    Relay(Relay),
}

/// A TwiML `<Response>`: a list of verbs, rendered with an XML declaration.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Twiml {
    /// The verbs, in order.
    pub verbs: Vec<Verb>,
}

impl Twiml {
    /// An empty `<Response/>`.
    pub fn new() -> Self {
        Self::default()
    }

    /// Appends a verb (builder style).
    pub fn then(mut self, verb: Verb) -> Self {
        self.verbs.push(verb);
        self
    }

    /// The document as XML text (UTF-8, `<?xml …?>` first). Characters XML 1.0 forbids (see
    /// [`is_xml_char`]) are dropped from every text and attribute, so operator text holding one
    /// cannot make Twilio reject the document (error 12100).
    pub fn to_xml(&self) -> String {
        let mut w = Out(String::with_capacity(2048));
        write_response(&mut w, &self.verbs);
        // The markup written around the content is plain ASCII, so removing forbidden
        // characters from the whole document removes them from the content only.
        if has_only_xml_chars(&w.0) {
            w.0
        } else {
            xml_safe(&w.0).into_owned()
        }
    }
}

/// Whether `c` may appear in an XML 1.0 document (XML 1.0 §2.2 `Char`: tab, newline, carriage
/// return, U+0020–U+D7FF, U+E000–U+FFFD, U+10000–U+10FFFF). `\0`, the other C0 controls,
/// U+FFFE and U+FFFF may not, not even escaped.
pub const fn is_xml_char(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..)
}

/// Whether every character of `text` is an XML 1.0 `Char`, by a byte scan: a C0 control other
/// than tab, newline and carriage return is one byte below 0x20; U+FFFE and U+FFFF are
/// `EF BF BE` and `EF BF BF` in UTF-8. (Surrogates cannot occur in a `str`.)
fn has_only_xml_chars(text: &str) -> bool {
    const LOW: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let b = text.as_bytes();
    let mut i = 0;
    // Eight bytes at a time: a word of printable ASCII only (every byte in 0x20..=0x7F) is fine;
    // any other word is checked byte by byte.
    while i + 8 <= b.len() {
        let mut word = [0u8; 8];
        word.copy_from_slice(&b[i..i + 8]);
        let v = u64::from_le_bytes(word);
        let below_space = v.wrapping_sub(LOW * 0x20) & !v & HIGH;
        if (below_space | (v & HIGH)) != 0 && !bytes_are_xml(b, i, i + 8) {
            return false;
        }
        i += 8;
    }
    bytes_are_xml(b, i, b.len())
}

/// The byte-wise check of `all[from..to]` (a `EF BF BE/BF` sequence may run past `to`).
fn bytes_are_xml(all: &[u8], from: usize, to: usize) -> bool {
    (from..to).all(|i| match all[i] {
        0x09 | 0x0A | 0x0D => true,
        0x00..=0x1F => false,
        0xEF => !(all.get(i + 1) == Some(&0xBF) && matches!(all.get(i + 2), Some(0xBE | 0xBF))),
        _ => true,
    })
}

/// `text` without the characters XML 1.0 forbids ([`is_xml_char`]); borrowed when it has none.
pub fn xml_safe(text: &str) -> std::borrow::Cow<'_, str> {
    if has_only_xml_chars(text) {
        std::borrow::Cow::Borrowed(text)
    } else {
        std::borrow::Cow::Owned(text.chars().filter(|c| is_xml_char(*c)).collect())
    }
}

/// The XML output: markup written directly, every attribute value and text node through
/// `quick_xml::escape::escape` (`<`, `>`, `&`, `'`, `"`; borrowed when nothing needs escaping).
/// No per-element buffers, unlike `quick_xml::Writer`'s element builder, which allocated once per
/// element and attribute list (a third of the frontdoor's compute; issue 7).
struct Out(String);

/// The bytes `quick_xml::escape::escape` replaces (`<`, `>`, `&`, `'`, `"`) and the control
/// characters written as character references: a lookup table per context.
const fn special(refs: &[u8]) -> [bool; 256] {
    let mut t = [false; 256];
    t[b'<' as usize] = true;
    t[b'>' as usize] = true;
    t[b'&' as usize] = true;
    t[b'\'' as usize] = true;
    t[b'"' as usize] = true;
    let mut i = 0;
    while i < refs.len() {
        t[refs[i] as usize] = true;
        i += 1;
    }
    t
}

/// Text content: CR as a reference.
const TEXT_SPECIAL: [bool; 256] = special(b"\r");
/// Attribute values: tab, LF and CR as references.
const ATTR_SPECIAL: [bool; 256] = special(b"\t\n\r");

impl Out {
    /// Text content: escaped, and `\r` as `&#13;` (a parser turns a raw CR or CRLF into LF,
    /// XML 1.0 §2.11).
    fn text(&mut self, t: &str) {
        self.escaped(t, &TEXT_SPECIAL);
    }

    /// `t` escaped, with each of the control characters `special` marks written as a character
    /// reference. Most values (prompts, URLs, voice names) need neither: one byte scan, then a
    /// copy.
    fn escaped(&mut self, t: &str, special: &[bool; 256]) {
        if !t.bytes().any(|b| special[usize::from(b)]) {
            self.0.push_str(t);
            return;
        }
        for c in quick_xml::escape::escape(t).chars() {
            match c {
                '\t' if special[0x09] => self.0.push_str("&#9;"),
                '\n' if special[0x0A] => self.0.push_str("&#10;"),
                '\r' if special[0x0D] => self.0.push_str("&#13;"),
                c => self.0.push(c),
            }
        }
    }

    /// Attribute values: escaped, and tab, LF and CR as character references, so attribute-value
    /// normalisation (XML 1.0 §3.3.3: each becomes a space) leaves the value as written
    /// (issue 27 §16).
    fn start(&mut self, name: &str, attrs: &[(&str, &str)]) {
        self.0.push('<');
        self.0.push_str(name);
        for (k, v) in attrs {
            self.0.push(' ');
            self.0.push_str(k);
            self.0.push_str("=\"");
            self.escaped(v, &ATTR_SPECIAL);
            self.0.push('"');
        }
    }

    /// `<name attrs…>`.
    fn open(&mut self, name: &str, attrs: &[(&str, &str)]) {
        self.start(name, attrs);
        self.0.push('>');
    }

    /// `</name>`.
    fn close(&mut self, name: &str) {
        self.0.push_str("</");
        self.0.push_str(name);
        self.0.push('>');
    }

    /// `<name attrs…/>`.
    fn empty(&mut self, name: &str, attrs: &[(&str, &str)]) {
        self.start(name, attrs);
        self.0.push_str("/>");
    }

    /// `<name attrs…>text</name>`.
    fn element(&mut self, name: &str, attrs: &[(&str, &str)], text: &str) {
        self.open(name, attrs);
        self.text(text);
        self.close(name);
    }
}

fn write_response(w: &mut Out, verbs: &[Verb]) {
    w.0.push_str(XML_DECL);
    if verbs.is_empty() {
        w.empty("Response", &[]);
        return;
    }
    w.open("Response", &[]);
    for verb in verbs {
        write_verb(w, verb);
    }
    w.close("Response");
}

/// The XML declaration every document starts with.
const XML_DECL: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>";

fn flag(b: bool) -> &'static str {
    if b {
        "true"
    } else {
        "false"
    }
}

fn write_say(w: &mut Out, say: &Say) {
    w.element(
        "Say",
        &[("voice", say.voice), ("language", say.language)],
        &say.text,
    );
}

fn write_verb(w: &mut Out, verb: &Verb) {
    let mut n1 = itoa::Buffer::new();
    let mut n2 = itoa::Buffer::new();
    match verb {
        Verb::Say(say) => write_say(w, say),
        Verb::Gather(g) => {
            let mut attrs: Vec<(&str, &str)> = vec![
                (
                    "input",
                    if g.speech.is_some() {
                        "dtmf speech"
                    } else {
                        "dtmf"
                    },
                ),
                ("action", &g.action),
                ("method", "POST"),
                ("numDigits", n1.format(g.num_digits)),
                ("timeout", n2.format(g.timeout.as_secs())),
                ("actionOnEmptyResult", flag(g.action_on_empty_result)),
            ];
            if let Some(sp) = &g.speech {
                attrs.extend([
                    ("language", sp.language),
                    ("hints", sp.hints),
                    ("speechTimeout", "auto"),
                ]);
            }
            w.open("Gather", &attrs);
            for say in &g.prompts {
                write_say(w, say);
            }
            w.close("Gather");
        }
        Verb::Dial(d) => {
            let mut attrs: Vec<(&str, &str)> = vec![
                ("action", &d.action),
                ("method", "POST"),
                ("timeout", n1.format(d.timeout.as_secs())),
                ("answerOnBridge", flag(d.answer_on_bridge)),
            ];
            if let Some(record) = d.record {
                attrs.push(("record", record));
                if let Some(cb) = &d.recording_status_callback {
                    attrs.push(("recordingStatusCallback", cb));
                    attrs.push(("recordingStatusCallbackMethod", "POST"));
                }
            }
            w.open("Dial", &attrs);
            let n = &d.number;
            let mut num: Vec<(&str, &str)> = Vec::new();
            if let Some(cb) = &n.status_callback {
                num.push(("statusCallback", cb));
                num.push(("statusCallbackMethod", "POST"));
            }
            if let Some(events) = n.status_callback_event {
                num.push(("statusCallbackEvent", events));
            }
            if let Some(url) = &n.url {
                num.push(("url", url));
                num.push(("method", "POST"));
            }
            w.element("Number", &num, &n.e164);
            w.close("Dial");
        }
        Verb::Record(r) => {
            let mut attrs: Vec<(&str, &str)> = vec![
                ("action", &r.action),
                ("method", "POST"),
                ("maxLength", n1.format(r.max_length.as_secs())),
                ("finishOnKey", r.finish_on_key),
                ("playBeep", flag(r.play_beep)),
                ("recordingStatusCallback", &r.recording_status_callback),
                ("recordingStatusCallbackMethod", "POST"),
            ];
            if let Some(cb) = &r.transcribe_callback {
                attrs.push(("transcribe", "true"));
                attrs.push(("transcribeCallback", cb));
            }
            w.empty("Record", &attrs);
        }
        Verb::Redirect(url) => w.element("Redirect", &[("method", "POST")], url),
        Verb::Pause(d) => w.empty("Pause", &[("length", n1.format(d.as_secs()))]),
        Verb::Reject(reason) => w.empty("Reject", &[("reason", reason)]),
        Verb::Hangup => w.empty("Hangup", &[]),
        Verb::Message(text) => w.element("Message", &[], text),
        Verb::Connect(c) => {
            w.open("Connect", &[("action", &c.action), ("method", "POST")]);
            w.open(
                "Stream",
                &[
                    ("url", &c.stream_url),
                    ("statusCallback", &c.status_callback),
                    ("statusCallbackMethod", "POST"),
                ],
            );
            for (name, value) in &c.parameters {
                w.empty("Parameter", &[("name", name), ("value", value)]);
            }
            w.close("Stream");
            w.close("Connect");
        }
        Verb::Relay(r) => {
            w.open("Connect", &[("action", &r.action), ("method", "POST")]);
            w.open(
                "ConversationRelay",
                &[
                    ("url", &r.url),
                    ("welcomeGreeting", &r.welcome_greeting),
                    ("language", r.language),
                    ("ttsProvider", r.tts_provider),
                    ("voice", r.voice),
                    ("transcriptionLanguage", r.transcription_language),
                    ("interruptible", "any"),
                    ("dtmfDetection", "true"),
                ],
            );
            for (name, value) in &r.parameters {
                w.empty("Parameter", &[("name", name), ("value", value)]);
            }
            w.close("ConversationRelay");
            w.close("Connect");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use quick_xml::events::Event;
    use quick_xml::Reader;

    fn say(text: &str) -> Say {
        Say {
            text: text.into(),
            voice: "Polly.Joanna",
            language: "en-US",
        }
    }

    /// Parses the document fully and returns every element (with unescaped attributes) and every
    /// text node (entity references resolved and joined), in document order.
    fn parse_all(xml: &str) -> Vec<String> {
        let mut reader = Reader::from_str(xml);
        let mut seen = Vec::new();
        let mut text: Option<String> = None;
        loop {
            let event = reader.read_event().expect("well-formed XML");
            match &event {
                Event::Text(t) => {
                    text.get_or_insert_with(String::new)
                        .push_str(&t.decode().unwrap());
                    continue;
                }
                Event::GeneralRef(r) => {
                    let name = r.decode().unwrap();
                    let c = match name.strip_prefix('#') {
                        Some(num) => char::from_u32(num.parse().expect("decimal char ref"))
                            .expect("char")
                            .to_string(),
                        None => quick_xml::escape::resolve_predefined_entity(&name)
                            .expect("predefined entity")
                            .to_owned(),
                    };
                    text.get_or_insert_with(String::new).push_str(&c);
                    continue;
                }
                _ => {}
            }
            if let Some(t) = text.take() {
                seen.push(format!("text:{t}"));
            }
            match event {
                Event::Eof => break,
                Event::Start(e) | Event::Empty(e) => {
                    let mut s = String::from_utf8(e.name().as_ref().to_vec()).unwrap();
                    for a in e.attributes() {
                        let a = a.unwrap();
                        s.push_str(&format!(
                            " {}={}",
                            String::from_utf8(a.key.as_ref().to_vec()).unwrap(),
                            a.unescape_value().unwrap()
                        ));
                    }
                    seen.push(s);
                }
                _ => {}
            }
        }
        seen
    }

    #[test]
    fn forbidden_characters_are_found_wherever_they_are() {
        let base = "a".repeat(21);
        for bad in ["\u{0}", "\u{1}", "\u{b}", "\u{1f}", "\u{fffe}", "\u{ffff}"] {
            for at in 0..base.len() {
                let text = format!("{}{bad}{}", &base[..at], &base[at..]);
                assert!(!has_only_xml_chars(&text), "{bad:?} at {at}");
                assert_eq!(xml_safe(&text), base.as_str());
            }
        }
        for good in ["plain", "tab\tnew\nline\r", "é€😀", "\u{fffd}\u{e000}", ""] {
            let text = format!("{base}{good}{base}");
            assert!(has_only_xml_chars(&text), "{good:?}");
        }
    }

    #[test]
    fn empty_response_is_self_closing() {
        assert_eq!(
            Twiml::new().to_xml(),
            r#"<?xml version="1.0" encoding="UTF-8"?><Response/>"#
        );
    }

    #[test]
    fn whitespace_controls_round_trip_through_a_strict_parser() {
        let text = "line one\r\nline two\rthree\tend";
        let value = "a\tb\nc\rd";
        let doc = Twiml::new()
            .then(Verb::Say(say(text)))
            .then(Verb::Redirect(value.into()))
            .then(Verb::Connect(Connect {
                action: "https://h.example/a".into(),
                stream_url: "wss://b.example/m".into(),
                status_callback: "https://h.example/s".into(),
                parameters: vec![("reason", value.into())],
            }))
            .to_xml();
        assert!(!doc.contains('\r'), "{doc:?}");
        let seen = parse_all(&doc);
        assert!(seen.contains(&format!("text:{text}")), "{seen:?}");
        assert!(seen.contains(&format!("text:{value}")), "{seen:?}");
        assert!(
            seen.iter()
                .any(|s| s.contains(value) && s.starts_with("Parameter")),
            "{seen:?}"
        );
    }

    #[test]
    fn hostile_text_and_urls_are_escaped_and_round_trip() {
        let evil = r#"</Say><Dial>+19999999999</Dial> & "quotes" 'apos' <x>"#;
        let url = "https://h.example/voice-voicemail?reason=a&step=done&x=\"><Hangup/>";
        let doc = Twiml::new()
            .then(Verb::Say(say(evil)))
            .then(Verb::Redirect(url.into()))
            .to_xml();
        assert!(!doc.contains("<Dial>"));
        let seen = parse_all(&doc);
        assert!(seen.contains(&format!("text:{evil}")), "{seen:?}");
        assert!(seen.contains(&format!("text:{url}")), "{seen:?}");
        assert_eq!(seen.iter().filter(|s| s.starts_with("Hangup")).count(), 0);
    }

    #[test]
    fn connect_stream_escapes_its_url_and_parameters() {
        let doc = Twiml::new()
            .then(Verb::Connect(Connect {
                action: "https://h/voice-stream-action?lang=fr&x=1".into(),
                stream_url: "wss://bridge.example/media?a=1&b=\"2\"".into(),
                status_callback: "https://h/voice-stream-status".into(),
                parameters: vec![
                    ("token", "v1.CA1.2.ab".into()),
                    ("business_name", "Smith & \"Sons\" <Plumbing>".into()),
                ],
            }))
            .to_xml();
        let seen = parse_all(&doc);
        assert_eq!(
            seen[1..],
            [
                "Connect action=https://h/voice-stream-action?lang=fr&x=1 method=POST".to_owned(),
                "Stream url=wss://bridge.example/media?a=1&b=\"2\" statusCallback=https://h/voice-stream-status statusCallbackMethod=POST".to_owned(),
                "Parameter name=token value=v1.CA1.2.ab".to_owned(),
                "Parameter name=business_name value=Smith & \"Sons\" <Plumbing>".to_owned(),
            ],
            "{doc}"
        );
    }

    #[test]
    fn attribute_values_and_text_keep_their_control_characters() {
        let base = "https://h.example/a\tb\nc\rd\"e<f&g'";
        let doc = crate::flow::Replies::new(base, "en-US")
            .greeting("Acme\r\nSons\t&", None)
            .to_xml();
        assert!(
            doc.contains(r#"action="https://h.example/a&#9;b&#10;c&#13;d&quot;e&lt;f&amp;g&apos;/voice-consent?lang=en""#),
            "{doc}"
        );
        assert!(doc.contains("Acme&#13;\nSons\t&amp;"), "{doc}");
        // A strict parser gives back exactly what was written.
        let parsed = roxmltree::Document::parse(&doc).unwrap();
        let gather = parsed
            .descendants()
            .find(|n| n.has_tag_name("Gather"))
            .unwrap();
        let action = format!("{base}/voice-consent?lang=en");
        assert_eq!(gather.attribute("action"), Some(action.as_str()));
        let say = parsed
            .descendants()
            .find(|n| n.has_tag_name("Say"))
            .unwrap();
        assert!(say
            .text()
            .unwrap()
            .starts_with("Thank you for calling Acme\r\nSons\t&."));
    }

    #[test]
    fn dial_without_record_has_no_record_attribute() {
        let dial = Dial {
            action: "https://h/a".into(),
            timeout: Duration::from_secs(20),
            answer_on_bridge: true,
            record: None,
            recording_status_callback: Some("https://h/r".into()),
            number: Number {
                e164: "+15877428885".into(),
                status_callback: None,
                status_callback_event: None,
                url: None,
            },
        };
        let doc = Twiml::new().then(Verb::Dial(dial.clone())).to_xml();
        assert!(!doc.contains("record"), "{doc}");
        let doc = Twiml::new()
            .then(Verb::Dial(Dial {
                record: Some("record-from-answer-dual"),
                ..dial
            }))
            .to_xml();
        let seen = parse_all(&doc);
        assert!(
            seen[1].contains(" record=record-from-answer-dual"),
            "{seen:?}"
        );
        assert!(
            seen[1].contains(" recordingStatusCallback=https://h/r"),
            "{seen:?}"
        );
    }

    #[test]
    fn gather_and_record_write_their_attributes() {
        let doc = Twiml::new()
            .then(Verb::Gather(Gather {
                action: "https://h/g?attempt=2&x=1".into(),
                num_digits: 1,
                timeout: Duration::from_secs(5),
                action_on_empty_result: true,
                prompts: vec![say("Press 1")],
                speech: None,
            }))
            .then(Verb::Record(Record {
                action: "https://h/v?step=done".into(),
                max_length: Duration::from_secs(120),
                finish_on_key: "#",
                play_beep: true,
                recording_status_callback: "https://h/rc".into(),
                transcribe_callback: Some("https://h/t".into()),
            }))
            .to_xml();
        assert!(
            doc.contains(r#"action="https://h/g?attempt=2&amp;x=1""#),
            "{doc}"
        );
        let seen = parse_all(&doc);
        assert_eq!(
            seen[1],
            "Gather input=dtmf action=https://h/g?attempt=2&x=1 method=POST numDigits=1 timeout=5 actionOnEmptyResult=true"
        );
        assert!(seen.iter().any(|s| s.starts_with("Record ")
            && s.contains("maxLength=120")
            && s.contains("transcribe=true")));
    }
}
