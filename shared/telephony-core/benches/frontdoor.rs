//! Frontdoor compute without AWS calls (spec §6: ≤ 5 µs median): parse a realistic Twilio voice
//! form, verify its signature, decide, and write the greeting TwiML.

use criterion::{black_box, criterion_group, criterion_main, Criterion};
use telephony_core::flow::Replies;
use telephony_core::signature::{self, SignedBody};
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

fn frontdoor(c: &mut Criterion) {
    let body = body();
    let params = Params::from_form(body.as_bytes()).unwrap();
    let sig = signature::compute(TOKEN, URL, params.pairs());
    c.bench_function("frontdoor_compute", |b| {
        b.iter(|| {
            let params = Params::from_form(black_box(body.as_bytes())).unwrap();
            signature::verify(&[TOKEN], URL, SignedBody::Form(params.pairs()), Some(&sig)).unwrap();
            let _sid = params.call_sid().unwrap();
            let xml = Replies::new(
                "https://abc123.execute-api.ca-central-1.amazonaws.com",
                "en-CA",
            )
            .greeting("TradeLine 24/7")
            .to_xml();
            black_box(xml)
        })
    });
}

criterion_group!(benches, frontdoor);
criterion_main!(benches);
