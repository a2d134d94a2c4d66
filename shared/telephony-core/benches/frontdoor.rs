//! Webhook compute without AWS calls (spec §6: ≤ 5 µs median for the frontdoor): parse a
//! realistic Twilio form, verify its signature, decide, and write the TwiML. Also the same for
//! an inbound SMS (keyword detection and the auto-reply `<Message>`).

use criterion::{black_box, criterion_group, criterion_main, Criterion};
use telephony_core::flow::Replies;
use telephony_core::signature::{self, SignedBody};
use telephony_core::sms;
use telephony_core::Params;

/// The frontdoor case every implementation of the compute comparison runs
/// (`infra/bench/frontdoor_case.json`; the Node.js and Python peers read the same file).
#[derive(serde::Deserialize)]
struct Case {
    url: String,
    token: String,
    body: String,
    base_url: String,
    language_tag: String,
    business: String,
    speech: bool,
    twiml: String,
}

fn case() -> Case {
    serde_json::from_str(include_str!("../../../infra/bench/frontdoor_case.json"))
        .expect("infra/bench/frontdoor_case.json")
}

const TOKEN: &str = "0123456789abcdef0123456789abcdef";

/// The greeting, as voice-frontdoor writes it for a caller it does not know (speech input as
/// deployed by default).
fn greeting(c: &Case) -> String {
    Replies::new(&c.base_url, &c.language_tag)
        .with_speech(c.speech)
        .greeting(&c.business, None)
        .to_xml()
}

fn owned(p: &Params) -> Vec<(String, String)> {
    p.pairs()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect()
}

fn frontdoor(c: &mut Criterion) {
    let case = case();
    // The peers are compared with this document: ours must still write it.
    assert_eq!(
        greeting(&case),
        case.twiml,
        "voice-frontdoor's greeting changed: update `twiml` (and the peers) in frontdoor_case.json"
    );
    let params = Params::from_form(case.body.as_bytes()).unwrap();
    let sig = signature::compute(&case.token, &case.url, &owned(&params));
    c.bench_function("frontdoor_compute", |b| {
        b.iter(|| {
            let params = Params::from_form(black_box(case.body.as_bytes())).unwrap();
            signature::verify(
                &[&case.token],
                &case.url,
                SignedBody::Pairs(&params.pairs().collect::<Vec<_>>()),
                Some(&sig),
            )
            .unwrap();
            let _sid = params.call_sid().unwrap();
            black_box(greeting(&case))
        })
    });
}

fn sms_reply(c: &mut Criterion) {
    let url = "https://abc123.execute-api.ca-central-1.amazonaws.com/webcomms-sms-reply";
    let body = [
        ("ToCountry", "CA"),
        ("SmsMessageSid", "SM0123456789abcdef0123456789abcdef"),
        ("NumMedia", "0"),
        ("SmsSid", "SM0123456789abcdef0123456789abcdef"),
        ("SmsStatus", "received"),
        (
            "Body",
            "Hi, do you service furnaces in Calgary? Need a quote.",
        ),
        ("FromCountry", "CA"),
        ("To", "+15877428885"),
        ("NumSegments", "1"),
        ("MessageSid", "SM0123456789abcdef0123456789abcdef"),
        ("AccountSid", "AC0123456789abcdef0123456789abcdef"),
        ("From", "+14165550123"),
        ("ApiVersion", "2010-04-01"),
    ]
    .iter()
    .map(|(k, v)| format!("{k}={}", v.replace('+', "%2B").replace(' ', "+")))
    .collect::<Vec<_>>()
    .join("&");
    let params = Params::from_form(body.as_bytes()).unwrap();
    let sig = signature::compute(TOKEN, url, &owned(&params));
    c.bench_function("sms_reply_compute", |b| {
        b.iter(|| {
            let params = Params::from_form(black_box(body.as_bytes())).unwrap();
            signature::verify(
                &[TOKEN],
                url,
                SignedBody::Pairs(&params.pairs().collect::<Vec<_>>()),
                Some(&sig),
            )
            .unwrap();
            let _sid = params.message_sid().unwrap();
            let text = params.get("Body").unwrap_or("");
            let from = params.get("From").unwrap_or("");
            let reply = match sms::Keyword::detect(text) {
                Some(_) => None,
                None if sms::is_replyable_sender(from) => Some(sms::auto_reply_text(
                    sms::DEFAULT_AUTO_REPLY,
                    "TradeLine 24/7",
                )),
                None => None,
            };
            black_box(sms::reply(reply.as_deref()).to_xml())
        })
    });
}

criterion_group!(benches, frontdoor, sms_reply);
criterion_main!(benches, part_benches);

fn parts(c: &mut Criterion) {
    let case = case();
    let params = Params::from_form(case.body.as_bytes()).unwrap();
    let sig = signature::compute(&case.token, &case.url, &owned(&params));
    c.bench_function("part_parse", |b| {
        b.iter(|| black_box(Params::from_form(black_box(case.body.as_bytes())).unwrap()))
    });
    c.bench_function("part_verify", |b| {
        b.iter(|| {
            signature::verify(
                &[&case.token],
                &case.url,
                SignedBody::Pairs(&params.pairs().collect::<Vec<_>>()),
                Some(&sig),
            )
            .unwrap()
        })
    });
    c.bench_function("part_twiml", |b| b.iter(|| black_box(greeting(&case))));
}
criterion_group!(part_benches, parts);
