use super::*;
#[allow(unused_imports)]
use crate::ids::E164;
#[allow(unused_imports)]
use crate::params::Params;
#[allow(unused_imports)]
use crate::prompts::{self, Lang};
#[allow(unused_imports)]
use crate::routes::Route;
#[allow(unused_imports)]
use crate::speech;
#[allow(unused_imports)]
use crate::twiml::{Connect, Dial, Gather, Number, Record, Relay, Say, SpeechInput, Twiml, Verb};
#[allow(unused_imports)]
use std::time::Duration;

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
    n.hours =
        Some(crate::hours::parse("America/Toronto", "mon-fri 08:00-17:00", None, None).unwrap());
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
    assert!(
        docs[0].contains(
            r#"language="fr-CA" hints="oui, non, ventes, soutien, messagerie" speechTimeout="auto""#
        ),
        "{}",
        docs[0]
    );
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
