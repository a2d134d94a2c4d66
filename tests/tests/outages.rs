//! Voicemail is never lost (issue "Hardening", finding 3): AWS goes down exactly while Twilio
//! delivers the recording callback (and its retries), comes back, and the monitor's reconciler
//! finds the call, fetches the recording from Twilio's Recordings list, and stores and announces
//! it exactly once.

use call_simulator::{Reply, Transport};
use integration_tests::proxy::OutageProxy;
use integration_tests::*;
use telephony_aws::{now_secs, voicemail, Deps};

/// Delivers webhooks in-process, with AWS unreachable during every recording-callback attempt.
struct DownDuringRecordingCallback<'a> {
    deps: &'a Deps,
    proxy: &'a OutageProxy,
}

impl Transport for DownDuringRecordingCallback<'_> {
    async fn post(&self, url: &str, params: &[(String, String)], signature: &str) -> Reply {
        self.proxy
            .set_down(url.contains("/voice-recording-callback"));
        to_reply(dispatch(self.deps, form_request(url, params, Some(signature))).await)
    }
}

fn voicemail_notices(
    notices: &[(String, serde_json::Value)],
    call_sid: &str,
) -> Vec<serde_json::Value> {
    notices
        .iter()
        .filter(|(_, m)| m["type"] == "voicemail" && m["call_sid"] == call_sid)
        .map(|(_, m)| m.clone())
        .collect()
}

#[tokio::test]
async fn voicemail_recorded_during_an_outage_is_recovered_exactly_once_by_the_reconciler() {
    let proxy = OutageProxy::start(moto_endpoint()).await;
    let s = stack_via(&[], &proxy.endpoint).await;
    let sc = script(&s, &[Some("1"), Some("1")], "no-answer", 7);
    let transport = DownDuringRecordingCallback {
        deps: &s.deps,
        proxy: &proxy,
    };
    let log = call_simulator::play_call(
        &transport,
        &sc,
        &format!("{PUBLIC_BASE_URL}/voice-frontdoor"),
    )
    .await;
    proxy.set_down(false);
    assert_eq!(log.ended, "hangup", "{log:#?}");

    // Twilio was asked to retry (#rc=3&rp=all): four attempts, each answered 503, none stored.
    let attempts: Vec<u16> = log
        .steps
        .iter()
        .filter(|st| st.url.contains("/voice-recording-callback"))
        .map(|st| st.reply.status)
        .collect();
    assert_eq!(attempts, vec![503, 503, 503, 503]);
    assert!(proxy.refused() > 0, "the outage really refused connections");
    let prefix = format!("recordings/{}/", sc.call_sid);
    assert!(s3_keys(&s, &prefix).await.is_empty());
    let topic = &s.resources["VoicemailTopic"];
    assert!(voicemail_notices(&sns_messages(topic).await, &sc.call_sid).is_empty());

    // Too early: Twilio's own retries get their chance first.
    let early = voicemail::reconcile(&s.deps, now_secs()).await.unwrap();
    assert_eq!(early.recovered, 0, "{early:?}");

    let later = now_secs() + 600;
    let run = voicemail::reconcile(&s.deps, later).await.unwrap();
    assert_eq!(run.recovered, 1, "{run:?}");
    let keys = s3_keys(&s, &prefix).await;
    assert_eq!(keys.len(), 1, "{keys:?}");
    let notices = voicemail_notices(&sns_messages(topic).await, &sc.call_sid);
    assert_eq!(notices.len(), 1, "{notices:?}");
    assert_eq!(notices[0]["duration_seconds"], 7);
    assert_eq!(s.media.downloads(), 1);

    // A second run, and a late retry of the original callback, change nothing.
    let again = voicemail::reconcile(&s.deps, later + 60).await.unwrap();
    assert_eq!((again.checked, again.recovered), (0, 0), "{again:?}");
    let retry = log
        .steps
        .iter()
        .find(|st| st.url.contains("/voice-recording-callback"))
        .unwrap();
    let reply = post_signed(&s.deps, &retry.url, &retry.params).await;
    assert_eq!(reply.status, 204);
    assert_eq!(s3_keys(&s, &prefix).await.len(), 1);
    assert_eq!(
        voicemail_notices(&sns_messages(topic).await, &sc.call_sid).len(),
        1
    );
    assert_eq!(s.media.downloads(), 1);
}

#[tokio::test]
async fn reconciler_clears_calls_that_were_stored_normally_or_ended_without_a_message() {
    let s = stack(&[]).await;
    let stored = script(&s, &[Some("1"), Some("9")], "no-answer", 5);
    play(&s, &stored).await;
    let hung_up = script(&s, &[Some("1"), Some("9")], "no-answer", 0);
    play(&s, &hung_up).await;
    let run = voicemail::reconcile(&s.deps, now_secs() + 600)
        .await
        .unwrap();
    // The stored voicemail cleared its own mark; the empty one is given up (call completed).
    assert_eq!(run.recovered, 0, "{run:?}");
    assert_eq!(run.given_up, 1, "{run:?}");
    let after = voicemail::reconcile(&s.deps, now_secs() + 700)
        .await
        .unwrap();
    assert_eq!(after.checked, 0, "{after:?}");
    assert_eq!(s.media.downloads(), 1);
}

#[tokio::test]
async fn a_recording_callback_with_a_bad_call_sid_still_keeps_the_recording() {
    let s = stack(&[]).await;
    let url = format!("{PUBLIC_BASE_URL}/voice-recording-callback?kind=voicemail");
    let rec_sid = "RE00000000000000000000000000000bad";
    let params = pairs(&[
        ("AccountSid", ACCOUNT_SID),
        ("CallSid", "ca-not-a-call-sid"),
        ("RecordingSid", rec_sid),
        (
            "RecordingUrl",
            &format!(
                "{}/2010-04-01/Accounts/{ACCOUNT_SID}/Recordings/{rec_sid}",
                s.media.base_url
            ),
        ),
        ("RecordingStatus", "completed"),
        ("RecordingDuration", "4"),
    ]);
    let reply = post_signed(&s.deps, &url, &params).await;
    assert_eq!(reply.status, 204, "{reply:?}");
    assert_eq!(
        s3_keys(&s, "recordings/unknown-call/").await,
        vec![format!("recordings/unknown-call/{rec_sid}.wav")]
    );
}

#[tokio::test]
async fn a_call_made_entirely_during_an_outage_still_has_its_voicemail_recovered() {
    let proxy = OutageProxy::start(moto_endpoint()).await;
    let s = stack_via(&[], &proxy.endpoint).await;
    proxy.set_down(true);
    let sc = script(&s, &[Some("1"), Some("1")], "no-answer", 6);
    let log = call_simulator::play_call(
        &InProcess(&s.deps),
        &sc,
        &format!("{PUBLIC_BASE_URL}/voice-frontdoor"),
    )
    .await;
    proxy.set_down(false);
    // The caller was never failed: every TwiML answer was 200 (the safe apology + voicemail).
    assert_eq!(log.ended, "hangup", "{log:#?}");
    assert!(
        log.twiml_replies().all(|st| st.reply.status == 200),
        "{log:#?}"
    );
    assert!(
        s.deps
            .calls()
            .raw_item(&sc.call_sid)
            .await
            .unwrap()
            .is_none(),
        "nothing was written during the outage"
    );

    let run = voicemail::reconcile(&s.deps, now_secs() + 600)
        .await
        .unwrap();
    assert_eq!((run.recovered, run.swept), (0, 1), "{run:?}");
    let prefix = format!("recordings/{}/", sc.call_sid);
    assert_eq!(s3_keys(&s, &prefix).await.len(), 1);
    let topic = &s.resources["VoicemailTopic"];
    assert_eq!(
        voicemail_notices(&sns_messages(topic).await, &sc.call_sid).len(),
        1
    );
    let again = voicemail::reconcile(&s.deps, now_secs() + 660)
        .await
        .unwrap();
    assert_eq!(again.swept, 0, "{again:?}");
    assert_eq!(
        voicemail_notices(&sns_messages(topic).await, &sc.call_sid).len(),
        1
    );
}

/// A completed-recording callback for `call` / `rec` (voicemail).
fn recording_callback(call: &str, rec: &str) -> (String, Vec<(String, String)>) {
    let url = format!("{PUBLIC_BASE_URL}/voice-recording-callback?kind=voicemail");
    let p = pairs(&[
        ("CallSid", call),
        ("RecordingSid", rec),
        ("RecordingStatus", "completed"),
        ("RecordingDuration", "4"),
        (
            "RecordingUrl",
            &format!(
                "{}/2010-04-01/Accounts/{ACCOUNT_SID}/Recordings/{rec}",
                "__BASE__"
            ),
        ),
    ]);
    (url, p)
}

fn with_base(p: &[(String, String)], base: &str) -> Vec<(String, String)> {
    p.iter()
        .map(|(k, v)| (k.clone(), v.replace("__BASE__", base)))
        .collect()
}

#[tokio::test]
async fn a_failed_recording_download_is_retried_until_the_audio_is_in_s3() {
    let s = stack(&[]).await;
    let topic = &s.resources["VoicemailTopic"];
    let (call, rec) = (
        "CA0000000000000000000000000000c501",
        "RE0000000000000000000000000000c501",
    );
    let (url, p) = recording_callback(call, rec);
    let p = with_base(&p, &s.media.base_url);
    // Twilio's media host fails: the callback answers a retryable 503, nothing is announced,
    // and the item is left for the next delivery to resume (not "already stored").
    s.media.fail_next(1);
    assert_eq!(post_signed(&s.deps, &url, &p).await.status, 503);
    let state = s
        .deps
        .calls()
        .recording_state(&telephony_core::RecordingSid::parse(rec).unwrap())
        .await
        .unwrap();
    assert!(!state.stored, "{state:?}");
    assert!(voicemail_notices(&sns_messages(topic).await, call).is_empty());
    // Twilio's redelivery copies it and announces it once, with the S3 object.
    assert_eq!(post_signed(&s.deps, &url, &p).await.status, 204);
    assert_eq!(
        s3_keys(&s, &format!("recordings/{call}/")).await,
        vec![format!("recordings/{call}/{rec}.wav")]
    );
    let notices = voicemail_notices(&sns_messages(topic).await, call);
    assert_eq!(notices.len(), 1, "{notices:?}");
    assert!(notices[0]["s3_uri"].as_str().unwrap().ends_with(".wav"));
    assert_eq!(post_signed(&s.deps, &url, &p).await.status, 204);
    assert_eq!(voicemail_notices(&sns_messages(topic).await, call).len(), 1);
}

#[tokio::test]
async fn the_monitor_resumes_recording_copies_every_delivery_failed() {
    let s = stack(&[]).await;
    let (call, rec) = (
        "CA0000000000000000000000000000c502",
        "RE0000000000000000000000000000c502",
    );
    let (url, p) = recording_callback(call, rec);
    let p = with_base(&p, &s.media.base_url);
    // All four deliveries (the first and Twilio's three retries) fail to download.
    s.media.fail_next(4);
    for _ in 0..4 {
        assert_eq!(post_signed(&s.deps, &url, &p).await.status, 503);
    }
    assert!(s3_keys(&s, &format!("recordings/{call}/")).await.is_empty());
    let run = voicemail::reconcile(&s.deps, now_secs()).await.unwrap();
    assert_eq!(run.copies_resumed, 1, "{run:?}");
    assert_eq!(s3_keys(&s, &format!("recordings/{call}/")).await.len(), 1);
    let vm = voicemail_notices(&sns_messages(&s.resources["VoicemailTopic"]).await, call);
    assert_eq!(vm.len(), 1, "{vm:?}");
    let again = voicemail::reconcile(&s.deps, now_secs()).await.unwrap();
    assert_eq!(again.copies_resumed, 0, "{again:?}");
}
