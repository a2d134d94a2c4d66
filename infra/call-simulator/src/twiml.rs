//! Reads the hotline's TwiML the way Twilio does, into the few verbs the simulator acts on.

use quick_xml::events::{BytesStart, Event};
use quick_xml::Reader;

/// A verb the simulator executes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SimVerb {
    /// `<Say>` text.
    Say(String),
    /// `<Pause>`.
    Pause,
    /// `<Hangup>`.
    Hangup,
    /// `<Reject reason>`.
    Reject(String),
    /// `<Redirect>` URL.
    Redirect(String),
    /// `<Gather>`.
    Gather {
        /// `action`.
        action: String,
        /// Nested `<Say>` texts.
        prompts: Vec<String>,
        /// `actionOnEmptyResult`.
        action_on_empty_result: bool,
    },
    /// `<Dial>` with one `<Number>`.
    Dial {
        /// `action`.
        action: String,
        /// `record`.
        record: Option<String>,
        /// `recordingStatusCallback`.
        recording_callback: Option<String>,
        /// The number.
        number: String,
        /// `<Number statusCallback>`.
        status_callback: Option<String>,
        /// `<Number url>`: the whisper run on the dialled leg once it answers.
        whisper: Option<String>,
    },
    /// `<Message>` text (messaging TwiML).
    Message(String),
    /// `<Connect action><ConversationRelay url welcomeGreeting language><Parameter/>…`.
    Relay {
        /// `<Connect action>`.
        action: String,
        /// The WebSocket URL.
        url: String,
        /// What Twilio says first.
        welcome_greeting: String,
        /// BCP-47 language.
        language: String,
        /// `<Parameter name value>` pairs.
        parameters: Vec<(String, String)>,
    },
    /// `<Connect action><Stream url statusCallback><Parameter/>…</Stream></Connect>`.
    Connect {
        /// `<Connect action>`.
        action: String,
        /// `<Stream url>`.
        stream_url: String,
        /// `<Stream statusCallback>`.
        status_callback: Option<String>,
        /// `<Parameter name value>`s, in order.
        parameters: Vec<(String, String)>,
    },
    /// `<Record>`.
    Record {
        /// `action`.
        action: String,
        /// `recordingStatusCallback`.
        recording_callback: Option<String>,
        /// `transcribeCallback`.
        transcribe_callback: Option<String>,
    },
}

fn attr(e: &BytesStart<'_>, name: &str) -> Option<String> {
    e.attributes()
        .flatten()
        .find(|a| a.key.as_ref() == name.as_bytes())
        .and_then(|a| a.unescape_value().ok().map(|v| v.into_owned()))
}

/// Parses a TwiML document; errors on malformed XML or a missing `<Response>`.
pub fn parse(xml: &str) -> Result<Vec<SimVerb>, String> {
    let mut reader = Reader::from_str(xml);
    let mut verbs = Vec::new();
    let mut stack: Vec<(String, Option<BytesStart<'static>>)> = Vec::new();
    let mut text = String::new();
    let mut gather: Option<(String, Vec<String>, bool)> = None;
    let mut dial: Option<BytesStart<'static>> = None;
    // (action, stream url, status callback, parameters) of an open <Connect>.
    type Open = (String, String, Option<String>, Vec<(String, String)>);
    let mut connect: Option<Open> = None;
    // (url, welcomeGreeting, language) of an open <ConversationRelay>.
    let mut relay: Option<(String, String, String)> = None;
    let mut saw_response = false;
    loop {
        let event = reader.read_event().map_err(|e| e.to_string())?;
        match event {
            Event::Eof => break,
            Event::Start(e) => {
                let name = String::from_utf8_lossy(e.name().as_ref()).into_owned();
                text.clear();
                match name.as_str() {
                    "Response" => saw_response = true,
                    "Gather" => {
                        gather = Some((
                            attr(&e, "action").unwrap_or_default(),
                            Vec::new(),
                            attr(&e, "actionOnEmptyResult").as_deref() == Some("true"),
                        ))
                    }
                    "Dial" => dial = Some(e.clone().into_owned()),
                    "Connect" => {
                        connect = Some((
                            attr(&e, "action").unwrap_or_default(),
                            String::new(),
                            None,
                            Vec::new(),
                        ))
                    }
                    "Stream" => {
                        let c = connect.as_mut().ok_or("Stream outside Connect")?;
                        c.1 = attr(&e, "url").unwrap_or_default();
                        c.2 = attr(&e, "statusCallback");
                    }
                    "ConversationRelay" => {
                        let c = connect
                            .as_mut()
                            .ok_or("ConversationRelay outside Connect")?;
                        relay = Some((
                            attr(&e, "url").unwrap_or_default(),
                            attr(&e, "welcomeGreeting").unwrap_or_default(),
                            attr(&e, "language").unwrap_or_default(),
                        ));
                        c.1.clear();
                    }
                    _ => {}
                }
                stack.push((name, Some(e.into_owned())));
            }
            Event::Empty(e) => {
                let name = String::from_utf8_lossy(e.name().as_ref()).into_owned();
                match name.as_str() {
                    "Response" => saw_response = true,
                    "Hangup" => verbs.push(SimVerb::Hangup),
                    "Pause" => verbs.push(SimVerb::Pause),
                    "Reject" => verbs.push(SimVerb::Reject(
                        attr(&e, "reason").unwrap_or_else(|| "rejected".into()),
                    )),
                    "Record" => verbs.push(SimVerb::Record {
                        action: attr(&e, "action").unwrap_or_default(),
                        recording_callback: attr(&e, "recordingStatusCallback"),
                        transcribe_callback: attr(&e, "transcribeCallback"),
                    }),
                    "Parameter" => {
                        let c = connect.as_mut().ok_or("Parameter outside Connect")?;
                        c.3.push((
                            attr(&e, "name").unwrap_or_default(),
                            attr(&e, "value").unwrap_or_default(),
                        ));
                    }
                    other => return Err(format!("unexpected empty element <{other}/>")),
                }
            }
            Event::Text(t) => text.push_str(&t.decode().map_err(|e| e.to_string())?),
            Event::GeneralRef(r) => {
                let name = r.decode().map_err(|e| e.to_string())?;
                let c = quick_xml::escape::resolve_predefined_entity(&name)
                    .ok_or_else(|| format!("unknown entity &{name};"))?;
                text.push_str(c);
            }
            Event::End(_) => {
                let (name, start) = stack.pop().ok_or("unbalanced document")?;
                let body = std::mem::take(&mut text);
                match name.as_str() {
                    "Say" => match gather.as_mut() {
                        Some((_, prompts, _)) => prompts.push(body),
                        None => verbs.push(SimVerb::Say(body)),
                    },
                    "Redirect" => verbs.push(SimVerb::Redirect(body)),
                    "Message" => verbs.push(SimVerb::Message(body)),
                    "Gather" => {
                        let (action, prompts, on_empty) =
                            gather.take().ok_or("unbalanced Gather")?;
                        verbs.push(SimVerb::Gather {
                            action,
                            prompts,
                            action_on_empty_result: on_empty,
                        });
                    }
                    "Connect" => {
                        let (action, stream_url, status_callback, parameters) =
                            connect.take().ok_or("unbalanced Connect")?;
                        match relay.take() {
                            Some((url, welcome_greeting, language)) => verbs.push(SimVerb::Relay {
                                action,
                                url,
                                welcome_greeting,
                                language,
                                parameters,
                            }),
                            None => verbs.push(SimVerb::Connect {
                                action,
                                stream_url,
                                status_callback,
                                parameters,
                            }),
                        }
                    }
                    "Number" => {
                        let d = dial.take().ok_or("Number outside Dial")?;
                        let n = start.ok_or("Number without start")?;
                        verbs.push(SimVerb::Dial {
                            action: attr(&d, "action").unwrap_or_default(),
                            record: attr(&d, "record"),
                            recording_callback: attr(&d, "recordingStatusCallback"),
                            number: body.trim().to_owned(),
                            status_callback: attr(&n, "statusCallback"),
                            whisper: attr(&n, "url"),
                        });
                    }
                    _ => {}
                }
            }
            _ => {}
        }
    }
    if !saw_response {
        return Err("no <Response> element".into());
    }
    Ok(verbs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_gather_dial_and_redirect() {
        let xml = r#"<?xml version="1.0" encoding="UTF-8"?><Response><Say voice="v" language="l">Hi &amp; welcome</Say><Gather action="https://h/g?a=1&amp;b=2" actionOnEmptyResult="true"><Say voice="v" language="l">Press 1</Say></Gather></Response>"#;
        let v = parse(xml).unwrap();
        assert_eq!(v[0], SimVerb::Say("Hi & welcome".into()));
        assert_eq!(
            v[1],
            SimVerb::Gather {
                action: "https://h/g?a=1&b=2".into(),
                prompts: vec!["Press 1".into()],
                action_on_empty_result: true
            }
        );
        let xml = r#"<Response><Dial action="https://h/ra" record="record-from-answer-dual"><Number statusCallback="https://h/s">+14165550101</Number></Dial></Response>"#;
        assert!(
            matches!(&parse(xml).unwrap()[0], SimVerb::Dial { number, record: Some(_), status_callback: Some(_), .. } if number == "+14165550101")
        );
        let xml = r#"<Response><Connect action="https://h/a?lang=fr" method="POST"><Stream url="wss://b/m" statusCallback="https://h/s"><Parameter name="token" value="v1.x"/><Parameter name="business_name" value="A &amp; B"/></Stream></Connect></Response>"#;
        assert_eq!(
            parse(xml).unwrap(),
            vec![SimVerb::Connect {
                action: "https://h/a?lang=fr".into(),
                stream_url: "wss://b/m".into(),
                status_callback: Some("https://h/s".into()),
                parameters: vec![
                    ("token".into(), "v1.x".into()),
                    ("business_name".into(), "A & B".into())
                ],
            }]
        );
        assert!(parse("<Response><Say>x</Response>").is_err());
        assert!(parse("{\"json\":true}").is_err());
    }
}
