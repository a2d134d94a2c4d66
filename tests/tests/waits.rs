//! AWS requests and sequential waits per webhook (issue "Performance", spec §6: at most 2
//! sequential waits on a caller's path — the voice TwiML webhooks and the SMS reply), counted by a
//! proxy in front of moto. The table is exact, so a change that adds a request or a wait fails
//! here and has to update it knowingly.

use call_simulator::{Reply, Transport};
use integration_tests::proxy::{waits, CountingProxy};
use integration_tests::*;
use std::sync::Mutex;
use telephony_aws::Deps;

/// Delivers in-process and records (route, requests, waits) per delivery.
struct Counting<'a> {
    deps: &'a Deps,
    proxy: &'a CountingProxy,
    seen: Mutex<Vec<(String, usize, usize)>>,
}

impl Transport for Counting<'_> {
    async fn post(&self, url: &str, params: &[(String, String)], signature: &str) -> Reply {
        self.proxy.take();
        let reply = to_reply(dispatch(self.deps, form_request(url, params, Some(signature))).await);
        let seen = self.proxy.take();
        let route = url
            .trim_start_matches(PUBLIC_BASE_URL)
            .split('#')
            .next()
            .unwrap_or("")
            .to_owned();
        self.seen
            .lock()
            .unwrap()
            .push((route, seen.len(), waits(&seen)));
        reply
    }
}

fn text(from: &str, n: u32, body: &str) -> Vec<(String, String)> {
    pairs(&[
        ("AccountSid", ACCOUNT_SID),
        (
            "MessageSid",
            &format!("SM{:024x}{n:08x}", std::process::id()),
        ),
        ("From", from),
        ("To", HOTLINE),
        ("Body", body),
        ("NumMedia", "0"),
    ])
}

#[tokio::test]
async fn caller_path_webhooks_wait_on_aws_at_most_twice() {
    let proxy = CountingProxy::start(moto_endpoint()).await;
    let s = stack_via(&[], &proxy.endpoint).await;
    let t = Counting {
        deps: &s.deps,
        proxy: &proxy,
        seen: Mutex::default(),
    };
    let sc = script(&s, &[Some("1"), Some("1")], "no-answer", 5);
    let log =
        call_simulator::play_call(&t, &sc, &format!("{PUBLIC_BASE_URL}/voice-frontdoor")).await;
    assert_eq!(log.ended, "hangup", "{log:#?}");
    let url = format!("{PUBLIC_BASE_URL}/webcomms-sms-reply");
    for (n, body) in [
        (1, "Do you fix furnaces?"),
        (2, "and boilers?"),
        (3, "STOP"),
        (4, "HELP"),
    ] {
        let p = text("+12025550177", n, body);
        t.post(&url, &p, &sign(&url, &p)).await;
    }
    let seen = t.seen.into_inner().unwrap();
    for (route, requests, w) in &seen {
        println!("{route:<48} {requests:>2} requests {w:>2} waits");
    }
    let table: Vec<(&str, usize, usize)> =
        seen.iter().map(|(r, n, w)| (r.as_str(), *n, *w)).collect();
    // (route, AWS requests, sequential waits), in call order.
    let expected: Vec<(&str, usize, usize)> = vec![
        // claim ‖ number, then rate limit ‖ known-caller lookup: 4 calls, 2 waits.
        ("/voice-frontdoor", 4, 2),
        // The consent, then its 3-year proof (the consent in force, so a retry never records
        // another answer): 2 calls, 2 waits.
        ("/voice-consent?lang=en", 2, 2),
        // The choice, then the `dialling#` marker of the Dial it answers (bounce detection,
        // issue 24 §3): 2 calls, 2 waits.
        ("/voice-menu-handler?attempt=1&lang=en&repeats=0", 2, 2),
        ("/voice-status", 1, 1),
        ("/voice-status", 1, 1),
        ("/voice-status", 1, 1),
        // The dial outcome ‖ the screened leg's answer (issue 24 §1): 2 calls, 1 wait.
        (
            "/voice-route-action?department=sales&lang=en&screened=1",
            2,
            1,
        ),
        ("/voice-voicemail?lang=en&reason=no-answer", 1, 1),
        ("/voice-recording-callback?kind=voicemail", 9, 8),
        ("/voice-transcription-callback", 5, 5),
        ("/voice-voicemail?lang=en&step=done", 1, 1),
        ("/voice-status", 1, 1),
        // The opt-out check reads the number's record and its suppression entry (issue 25) in
        // one BatchGetItem: no request more.
        ("/webcomms-sms-reply", 6, 2),
        ("/webcomms-sms-reply", 5, 2),
        ("/webcomms-sms-reply", 3, 2),
        ("/webcomms-sms-reply", 2, 2),
    ];
    assert_eq!(table, expected);
    for (route, _, w) in &table {
        let callback = route.contains("callback") || route.starts_with("/voice-status");
        assert!(callback || *w <= 2, "{route}: {w} sequential waits");
    }
}

#[tokio::test]
async fn a_text_from_an_opted_out_sender_does_not_use_up_the_auto_reply_window() {
    let s = stack(&[]).await;
    let url = format!("{PUBLIC_BASE_URL}/webcomms-sms-reply");
    let from = "+12025550188";
    let mut replies = Vec::new();
    for (n, body) in [
        (11, "STOP"),
        (12, "hello?"),
        (13, "START"),
        (14, "hello again"),
    ] {
        replies.push(post_signed(&s.deps, &url, &text(from, n, body)).await);
    }
    assert!(!replies[1].body.contains("<Message>"), "{:?}", replies[1]);
    assert!(replies[3].body.contains("<Message>"), "{:?}", replies[3]);
}
