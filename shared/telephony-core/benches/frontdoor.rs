//! Webhook compute without AWS calls (spec §6: ≤ 5 µs median for the frontdoor): parse a
//! realistic Twilio form, verify its signature, decide, and write the TwiML. Also the same for
//! an inbound SMS (keyword detection and the auto-reply `<Message>`).

use criterion::{black_box, criterion_group, criterion_main, Criterion};
use telephony_core::flow::Replies;
use telephony_core::signature::{self, SignedBody};
use telephony_core::sms;
use telephony_core::Params;

const URL: &str = "https://abc123.execute-api.ca-central-1.amazonaws.com/voice-frontdoor";
const TOKEN: &str = "0123456789abcdef0123456789abcdef";

fn body() -> String {
    [
        ("AccountSid", "AC0123456789abcdef0123456789abcdef"),
        ("ApiVersion", "2010-04-01"),
        ("CallSid", "CA0123456789abcdef0123456789abcdef"),
        ("CallStatus", "ringing"),
        ("Called", "+15877428885"),
        ("CalledCity", "CALGARY"),
        ("CalledCountry", "CA"),
        ("CalledState", "AB"),
        ("Caller", "+14165550123"),
        ("CallerCity", "TORONTO"),
        ("CallerCountry", "CA"),
        ("CallerState", "ON"),
        ("Direction", "inbound"),
        ("From", "+14165550123"),
        ("FromCountry", "CA"),
        ("To", "+15877428885"),
        ("ToCountry", "CA"),
    ]
    .iter()
    .map(|(k, v)| format!("{k}={}", v.replace('+', "%2B")))
    .collect::<Vec<_>>()
    .join("&")
}

fn owned(p: &Params) -> Vec<(String, String)> {
    p.pairs()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect()
}

fn frontdoor(c: &mut Criterion) {
    let body = body();
    let params = Params::from_form(body.as_bytes()).unwrap();
    let sig = signature::compute(TOKEN, URL, &owned(&params));
    c.bench_function("frontdoor_compute", |b| {
        b.iter(|| {
            let params = Params::from_form(black_box(body.as_bytes())).unwrap();
            signature::verify(
                &[TOKEN],
                URL,
                SignedBody::Pairs(&params.pairs().collect::<Vec<_>>()),
                Some(&sig),
            )
            .unwrap();
            let _sid = params.call_sid().unwrap();
            let xml = Replies::new(
                "https://abc123.execute-api.ca-central-1.amazonaws.com",
                "en-CA",
            )
            .greeting("TradeLine 24/7", None)
            .to_xml();
            black_box(xml)
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
    let body = body();
    let params = Params::from_form(body.as_bytes()).unwrap();
    let sig = signature::compute(TOKEN, URL, &owned(&params));
    c.bench_function("part_parse", |b| {
        b.iter(|| black_box(Params::from_form(black_box(body.as_bytes())).unwrap()))
    });
    c.bench_function("part_verify", |b| {
        b.iter(|| {
            signature::verify(
                &[TOKEN],
                URL,
                SignedBody::Pairs(&params.pairs().collect::<Vec<_>>()),
                Some(&sig),
            )
            .unwrap()
        })
    });
    c.bench_function("part_twiml", |b| {
        b.iter(|| {
            black_box(
                Replies::new(
                    "https://abc123.execute-api.ca-central-1.amazonaws.com",
                    "en-CA",
                )
                .greeting("TradeLine 24/7", None)
                .to_xml(),
            )
        })
    });
}
criterion_group!(part_benches, parts);
