//! Property tests of the pure crate (issue "Hardening"): signatures against an independent HMAC
//! computation, form parsing, TwiML under a strict XML 1.0 parser, compliance keywords, flow
//! decisions and E.164. Case counts are bounded for `make test` (proptest's default, 256 per
//! property); set `PROPTEST_CASES=100000` for a long run.

use base64::Engine as _;
use hmac::{Hmac, Mac};
use proptest::prelude::*;
use sha1::Sha1;
use std::time::Duration;
use telephony_core::flow::{menu_step, MenuState, MenuStep, Replies, MAX_MENU_REPEATS};
use telephony_core::signature::{self, SignatureError, SignedBody};
use telephony_core::sms::{self, Keyword, KEYWORDS};
use telephony_core::twiml::{is_xml_char, Say, Verb};
use telephony_core::{Params, Twiml, E164};

/// Twilio's algorithm written out plainly: URL, then every (name, value) pair sorted by bytes,
/// exact repeats dropped, concatenated; HMAC-SHA1 with the auth token; base64.
fn reference_signature(token: &str, url: &str, params: &[(String, String)]) -> String {
    let mut sorted = params.to_vec();
    sorted.sort();
    sorted.dedup();
    let mut data = url.as_bytes().to_vec();
    for (k, v) in &sorted {
        data.extend_from_slice(k.as_bytes());
        data.extend_from_slice(v.as_bytes());
    }
    let mut mac = Hmac::<Sha1>::new_from_slice(token.as_bytes()).unwrap();
    mac.update(&data);
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

fn pairs() -> impl Strategy<Value = Vec<(String, String)>> {
    prop::collection::vec(("[A-Za-z][A-Za-z0-9]{0,12}", any::<String>()), 0..12)
}

/// Every text the strict parser finds in the document, in order.
fn strict_texts(xml: &str) -> Vec<String> {
    let doc = roxmltree::Document::parse(xml)
        .unwrap_or_else(|e| panic!("not well-formed XML 1.0 ({e}): {xml:?}"));
    doc.descendants()
        .filter(|n| n.is_text())
        .map(|n| n.text().unwrap_or("").to_owned())
        .collect()
}

fn say(text: &str) -> Verb {
    Verb::Say(Say {
        text: text.to_owned(),
        voice: "Polly.Joanna",
        language: "en-US",
    })
}

proptest! {
    #[test]
    fn signatures_match_an_independent_hmac(
        token in "[ -~]{1,40}",
        path in "/[a-z-]{1,20}",
        query in "([a-z]{1,5}=[A-Za-z0-9%+]{0,8}&?){0,3}",
        params in pairs(),
    ) {
        let url = format!("https://hooks.example{path}?{query}");
        let sig = signature::compute(&token, &url, &params);
        prop_assert_eq!(&sig, &reference_signature(&token, &url, &params));
        prop_assert_eq!(
            signature::verify(&[token.as_str()], &url, SignedBody::Form(&params), Some(&sig)),
            Ok(())
        );
        // Any change to the URL or one value breaks it.
        let other = format!("{url}x");
        prop_assert_eq!(
            signature::verify(&[token.as_str()], &other, SignedBody::Form(&params), Some(&sig)),
            Err(SignatureError::Invalid)
        );
        if let Some(first) = params.first() {
            let mut tampered = params.clone();
            tampered.push((first.0.clone(), format!("{}!", first.1)));
            prop_assert_eq!(
                signature::verify(&[token.as_str()], &url, SignedBody::Form(&tampered), Some(&sig)),
                Err(SignatureError::Invalid)
            );
        }
    }

    #[test]
    fn any_header_is_refused_or_accepted_without_panicking(header in any::<String>()) {
        let p = vec![("CallSid".to_string(), "CA1".to_string())];
        let r = signature::verify(&["tok"], "https://h/x", SignedBody::Form(&p), Some(&header));
        prop_assert!(r.is_err());
    }

    #[test]
    fn forms_round_trip_with_order_and_repeats(params in pairs()) {
        let mut ser = form_urlencoded::Serializer::new(String::new());
        for (k, v) in &params {
            ser.append_pair(k, v);
        }
        let parsed = Params::from_form(ser.finish().as_bytes()).unwrap();
        let got: Vec<(&str, &str)> = parsed.pairs().collect();
        let want: Vec<(&str, &str)> = params.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        prop_assert_eq!(got, want);
    }

    #[test]
    fn forms_decode_exactly_as_the_whatwg_parser(
        body in "([a-zA-Z0-9]|%[0-9a-fA-F]{2}|%[0-9a-fA-F]?|[+&=%]|[éü€😀]){0,60}",
    ) {
        // The reference: the `form_urlencoded` crate (URL Standard §5.1), escapes of invalid
        // UTF-8 (`%ff`), stray `%`, empty pairs and repeated `=` included.
        let want: Vec<(String, String)> = form_urlencoded::parse(body.as_bytes())
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
        let parsed = Params::from_form(body.as_bytes()).unwrap();
        let got: Vec<(String, String)> =
            parsed.pairs().map(|(k, v)| (k.to_owned(), v.to_owned())).collect();
        prop_assert_eq!(got, want);
    }

    #[test]
    fn any_body_bytes_parse_or_fail_cleanly(body in prop::collection::vec(any::<u8>(), 0..200)) {
        let _ = Params::from_form(&body);
    }

    #[test]
    fn any_text_in_say_message_or_attributes_gives_strict_xml(
        text in any::<String>(),
        business in any::<String>(),
        base in any::<String>(),
    ) {
        let doc = Twiml::new().then(say(&text)).then(Verb::Message(text.clone()));
        let texts = strict_texts(&doc.to_xml());
        let kept: String = text.chars().filter(|c| is_xml_char(*c)).collect();
        // Text survives, minus what XML cannot hold (a strict parser normalises \r\n and lone \r
        // to \n, XML 1.0 §2.11).
        let norm = |s: &str| s.replace("\r\n", "\n").replace('\r', "\n");
        prop_assert!(texts.iter().filter(|t| norm(t) == norm(&kept)).count() >= 2 || kept.is_empty());
        // Operator text and URLs in attributes.
        let replies = Replies::new(&base, "en-US");
        strict_texts(&replies.greeting(&business, Some(&business)).to_xml());
        strict_texts(&replies.voicemail_prompt(Duration::from_secs(120)).to_xml());
        strict_texts(&sms::reply(Some(&sms::auto_reply_text(&business, &text))).to_xml());
    }

    #[test]
    fn keywords_survive_case_width_and_surroundings(
        index in 0..KEYWORDS.len(),
        upper in prop::collection::vec(any::<bool>(), 12),
        wide in prop::collection::vec(any::<bool>(), 12),
        before in prop::collection::vec(prop::sample::select(vec![' ', '\t', '\n', '.', '!', '?', '"', '🛑', '🙏', '*', '-', '\u{3000}']), 0..4),
        after in prop::collection::vec(prop::sample::select(vec![' ', '.', '!', '?', ')', '😀', '\u{a0}', '\u{ff01}']), 0..4),
    ) {
        let (word, kind) = KEYWORDS[index];
        let mut body: String = before.iter().collect();
        for (i, c) in word.chars().enumerate() {
            let c = if upper[i % 12] { c.to_ascii_uppercase() } else { c };
            // Full-width forms: U+FF01..U+FF5E mirror ASCII 0x21..0x7E.
            let c = if wide[i % 12] { char::from_u32(c as u32 + 0xFEE0).unwrap() } else { c };
            body.push(c);
        }
        body.extend(after.iter());
        prop_assert_eq!(Keyword::detect(&body), Some(kind), "{:?}", body);
        // Another word makes it a sentence, never a keyword.
        let sentence = format!("{body} please");
        prop_assert_eq!(Keyword::detect(&sentence), None);
    }

    #[test]
    fn other_words_are_never_keywords(word in "[a-zA-Z]{1,12}") {
        let listed = KEYWORDS.iter().find(|(k, _)| word.eq_ignore_ascii_case(k)).map(|(_, kind)| *kind);
        prop_assert_eq!(Keyword::detect(&word), listed);
    }

    #[test]
    fn the_menu_always_ends_within_its_bound(presses in prop::collection::vec(prop::option::of("[0-9*#]{0,3}|8"), 0..20)) {
        let mut state = MenuState::START;
        let mut steps = 0;
        for digits in presses.iter().map(Option::as_deref).chain(std::iter::repeat(None)) {
            steps += 1;
            prop_assert!(steps <= 2 + usize::from(MAX_MENU_REPEATS), "menu never ended");
            match menu_step(digits, state) {
                MenuStep::Replay(next) | MenuStep::Retry(next) | MenuStep::SwitchLanguage(next) => {
                    prop_assert!(next.attempt <= 2 && next.repeats <= MAX_MENU_REPEATS);
                    state = next;
                }
                MenuStep::Dial(_) | MenuStep::Voicemail(_) => break,
            }
        }
    }

    #[test]
    fn e164_output_is_canonical_and_stable(raw in any::<String>()) {
        if let Ok(n) = E164::parse_syntax(&raw) {
            let s = n.as_str();
            prop_assert!(s.starts_with('+') && s.len() <= 16 && s[1..].bytes().all(|b| b.is_ascii_digit()));
            let again = E164::parse_syntax(s).unwrap();
            prop_assert_eq!(again.as_str(), s);
        }
    }

    #[test]
    fn e164_never_accepts_letters_or_extensions(
        digits in "[2-9][0-9]{9}",
        tail in prop::sample::select(vec![" ext. 12", "x12", ";ext=1", "#5", "A", " FLOWERS"]),
    ) {
        let raw = format!("+1{digits}{tail}");
        prop_assert!(E164::parse_syntax(&raw).is_err(), "{}", raw);
    }
}
