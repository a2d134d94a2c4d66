//! Whole calls played through every webhook as Twilio would, against a real DynamoDB/S3/SNS API.

use integration_tests::*;
use telephony_core::prompts;

fn heard(log: &call_simulator::CallLog, text: &str) -> usize {
    log.heard.iter().filter(|h| h.contains(text)).count()
}

#[tokio::test]
async fn sales_answered_call_connects_records_with_consent_and_hangs_up() {
    let s = stack(&[]).await;
    let sc = script(&s, &[Some("1"), Some("1")], "completed", 0);
    let log = play(&s, &sc).await;
    assert_eq!(log.ended, "hangup", "{log:#?}");
    assert_eq!(log.dialled, vec![SALES.to_owned()]);
    assert_eq!(
        log.dial_records,
        vec![Some("record-from-answer-dual".to_owned())]
    );
    assert_eq!(heard(&log, prompts::CONNECTING_SALES), 1);
    assert!(
        log.steps
            .iter()
            .all(|st| st.reply.status == 200 || st.reply.status == 204),
        "{log:#?}"
    );

    let item = s
        .deps
        .calls()
        .raw_item(&sc.call_sid)
        .await
        .unwrap()
        .expect("call record");
    assert_eq!(attr_s(&item, "consent").as_deref(), Some("yes"));
    assert_eq!(attr_s(&item, "menu_choice").as_deref(), Some("sales"));
    assert_eq!(attr_s(&item, "dial_status").as_deref(), Some("completed"));
    assert_eq!(attr_s(&item, "status").as_deref(), Some("completed"));
    assert_eq!(attr_s(&item, "from").as_deref(), Some(CALLER));
    // The consented dial recording is kept, but a dial recording is not a voicemail: no notice.
    assert_eq!(
        s3_keys(&s, &format!("recordings/{}/", sc.call_sid))
            .await
            .len(),
        1
    );
    assert!(sns_messages(&s.resources["VoicemailTopic"])
        .await
        .is_empty());
}

#[tokio::test]
async fn sales_no_answer_goes_to_voicemail_stored_in_s3_with_one_notice_and_transcript() {
    let s = stack(&[]).await;
    let sc = script(&s, &[Some("1"), Some("1")], "no-answer", 7);
    let log = play(&s, &sc).await;
    assert_eq!(log.ended, "hangup", "{log:#?}");
    assert_eq!(heard(&log, prompts::NOBODY_AVAILABLE), 1);
    assert_eq!(heard(&log, prompts::VOICEMAIL_PROMPT), 1);
    assert_eq!(heard(&log, prompts::VOICEMAIL_THANKS), 1);

    let keys = s3_keys(&s, &format!("recordings/{}/", sc.call_sid)).await;
    assert_eq!(keys.len(), 1, "{keys:?}");
    let obj = s
        .deps
        .s3()
        .get_object()
        .bucket(&s.deps.config.recordings_bucket)
        .key(&keys[0])
        .send()
        .await
        .unwrap();
    assert_eq!(
        obj.body.collect().await.unwrap().into_bytes().as_ref(),
        s.wav.as_slice(),
        "the WAV is copied byte for byte"
    );
    assert_eq!(s.media.downloads(), 1);

    let notices = sns_messages(&s.resources["VoicemailTopic"]).await;
    let voicemail: Vec<_> = notices
        .iter()
        .filter(|(_, m)| m["type"] == "voicemail")
        .collect();
    let transcript: Vec<_> = notices
        .iter()
        .filter(|(_, m)| m["type"] == "transcript")
        .collect();
    assert_eq!(voicemail.len(), 1, "{notices:?}");
    assert_eq!(transcript.len(), 1, "{notices:?}");
    let m = &voicemail[0].1;
    assert_eq!(m["call_sid"], sc.call_sid.as_str());
    assert_eq!(m["caller"], CALLER);
    assert_eq!(m["dialled"], HOTLINE);
    assert_eq!(m["duration_seconds"], 7);
    assert_eq!(
        m["s3_uri"],
        format!("s3://{}/{}", s.deps.config.recordings_bucket, keys[0])
    );
    assert_eq!(transcript[0].1["transcript"], sc.transcript.as_str());

    let rec_sid = m["recording_sid"].as_str().unwrap();
    let rec = s
        .deps
        .calls()
        .raw_item(rec_sid)
        .await
        .unwrap()
        .expect("recording record");
    assert_eq!(
        attr_s(&rec, "transcript").as_deref(),
        Some(sc.transcript.as_str())
    );
    assert_eq!(attr_s(&rec, "recording_kind").as_deref(), Some("voicemail"));
    let call = s
        .deps
        .calls()
        .raw_item(&sc.call_sid)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        attr_s(&call, "voicemail_recording_sid").as_deref(),
        Some(rec_sid)
    );
    assert_eq!(attr_s(&call, "dial_status").as_deref(), Some("no-answer"));
}

#[tokio::test]
async fn support_dials_the_support_target_without_recording_when_declined() {
    let s = stack(&[]).await;
    let log = play(&s, &script(&s, &[Some("2"), Some("2")], "completed", 0)).await;
    assert_eq!(log.ended, "hangup");
    assert_eq!(log.dialled, vec![SUPPORT.to_owned()]);
    assert_eq!(
        log.dial_records,
        vec![None],
        "no record attribute without consent"
    );
    assert_eq!(heard(&log, prompts::CONNECTING_SUPPORT), 1);
}

#[tokio::test]
async fn nine_goes_straight_to_voicemail() {
    let s = stack(&[]).await;
    let log = play(&s, &script(&s, &[Some("1"), Some("9")], "completed", 5)).await;
    assert!(log.dialled.is_empty());
    assert_eq!(heard(&log, prompts::VOICEMAIL_PROMPT), 1);
    assert_eq!(heard(&log, prompts::VOICEMAIL_THANKS), 1);
    assert!(log.steps.iter().any(|st| st
        .url
        .ends_with("/voice-voicemail?lang=en&reason=user_request")));
}

#[tokio::test]
async fn star_replays_the_menu_three_times_then_counts_as_a_miss() {
    let s = stack(&[]).await;
    let star = Some("*");
    let log = play(
        &s,
        &script(
            &s,
            &[Some("2"), star, star, star, star, star],
            "completed",
            0,
        ),
    )
    .await;
    // Menu after consent + 3 replays + the retry after the 4th star.
    assert_eq!(heard(&log, prompts::EN.menu_speech), 5, "{:?}", log.heard);
    assert_eq!(heard(&log, prompts::INVALID_SELECTION), 1);
    assert_eq!(heard(&log, prompts::NO_SELECTION), 1);
    assert_eq!(heard(&log, prompts::VOICEMAIL_PROMPT), 1);
    assert!(log.dialled.is_empty());
}

#[tokio::test]
async fn invalid_twice_goes_to_voicemail() {
    let s = stack(&[]).await;
    let log = play(
        &s,
        &script(&s, &[Some("1"), Some("5"), Some("#")], "completed", 4),
    )
    .await;
    assert_eq!(heard(&log, prompts::INVALID_SELECTION), 1);
    assert_eq!(heard(&log, prompts::NO_SELECTION), 1);
    assert_eq!(heard(&log, prompts::VOICEMAIL_THANKS), 1);
    assert!(log
        .steps
        .iter()
        .any(|st| st.url.ends_with("lang=en&reason=no_selection")));
}

#[tokio::test]
async fn silence_means_no_consent_retry_then_voicemail_and_an_empty_message_is_handled() {
    let s = stack(&[]).await;
    let sc = script(&s, &[], "completed", 0);
    let log = play(&s, &sc).await;
    assert_eq!(heard(&log, prompts::INVALID_SELECTION), 1);
    assert_eq!(heard(&log, prompts::VOICEMAIL_PROMPT), 1);
    assert_eq!(
        heard(&log, prompts::VOICEMAIL_EMPTY),
        1,
        "empty recording falls through to the goodbye"
    );
    assert_eq!(log.ended, "hangup");
    let item = s
        .deps
        .calls()
        .raw_item(&sc.call_sid)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(attr_s(&item, "consent").as_deref(), Some("no"));
    assert!(sns_messages(&s.resources["VoicemailTopic"])
        .await
        .is_empty());
}

#[tokio::test]
async fn number_config_from_the_numbers_table_is_used() {
    use aws_sdk_dynamodb::types::AttributeValue as A;
    let s = stack(&[]).await;
    s.deps
        .dynamo()
        .put_item()
        .table_name(&s.deps.config.numbers_table)
        .item("e164", A::S(HOTLINE.into()))
        .item("business_name", A::S("Prairie Plumbing & Heating".into()))
        .item("sales_target", A::S("+14035550199".into()))
        .send()
        .await
        .unwrap();
    let log = play(&s, &script(&s, &[Some("1"), Some("1")], "completed", 0)).await;
    assert!(
        log.heard[0].contains("Prairie Plumbing & Heating"),
        "{:?}",
        log.heard
    );
    assert_eq!(log.dialled, vec!["+14035550199".to_owned()]);
}

#[tokio::test]
async fn each_simulated_call_gives_its_dialled_leg_its_own_call_sid() {
    let s = stack(&[]).await;
    let mut legs = Vec::new();
    for _ in 0..2 {
        let sc = script(&s, &[Some("1"), Some("1")], "no-answer", 3);
        let log = play(&s, &sc).await;
        let leg = log
            .steps
            .iter()
            .find_map(|st| {
                st.params
                    .iter()
                    .any(|(k, _)| k == "ParentCallSid")
                    .then(|| {
                        st.params
                            .iter()
                            .find(|(k, _)| k == "CallSid")
                            .unwrap()
                            .1
                            .clone()
                    })
            })
            .expect("a dialled leg status callback");
        legs.push(leg);
    }
    assert_ne!(legs[0], legs[1]);
    // Neither leg's callbacks were ignored as stale: each ended no-answer.
    for leg in &legs {
        let item = s
            .deps
            .calls()
            .raw_item(leg)
            .await
            .unwrap()
            .expect("leg item");
        assert_eq!(
            attr_s(&item, "status").as_deref(),
            Some("no-answer"),
            "{leg}"
        );
    }
}

/// Issue 22 §16: the consent proof outlives the call record: `consent#<CallSid>` with who, which
/// number, yes/no, when, how, the language and the wording's version, kept 3 years, without the
/// call's content; a retried consent webhook neither flips nor rewrites it.
#[tokio::test]
async fn the_consent_proof_is_kept_three_years_without_content() {
    let s = stack(&[]).await;
    let sc = script(&s, &[Some("1"), Some("9")], "no-answer", 5);
    let log = play(&s, &sc).await;
    let proof = s
        .deps
        .calls()
        .raw_item(&format!("consent#{}", sc.call_sid))
        .await
        .unwrap()
        .expect("consent proof");
    assert_eq!(attr_s(&proof, "consent").as_deref(), Some("yes"));
    assert_eq!(attr_s(&proof, "caller").as_deref(), Some(CALLER));
    assert_eq!(attr_s(&proof, "number").as_deref(), Some(HOTLINE));
    assert_eq!(attr_s(&proof, "input").as_deref(), Some("keys"));
    assert_eq!(attr_s(&proof, "language").as_deref(), Some("en"));
    assert_eq!(
        attr_s(&proof, "prompt_version"),
        Some(telephony_core::prompts::consent_prompt_version(
            telephony_core::prompts::Lang::En
        ))
    );
    let exp: u64 = proof["expires_at"].as_n().unwrap().parse().unwrap();
    let now = telephony_aws::now_secs();
    assert!(
        exp > now + 1090 * 86_400 && exp <= now + 1095 * 86_400,
        "{exp}"
    );
    let mut keys: Vec<_> = proof.keys().cloned().collect();
    keys.sort();
    assert_eq!(
        keys,
        [
            "call_sid",
            "caller",
            "consent",
            "consent_at",
            "expires_at",
            "input",
            "kind",
            "language",
            "number",
            "pk",
            "prompt_version"
        ]
    );
    // Twilio retries the consent webhook with another answer: nothing changes.
    let consent_step = log
        .steps
        .iter()
        .find(|st| st.url.contains("/voice-consent"))
        .unwrap();
    let mut again = consent_step.params.clone();
    again.retain(|(k, _)| k != "Digits");
    again.push(("Digits".into(), "2".into()));
    post_signed(&s.deps, &consent_step.url, &again).await;
    let after = s
        .deps
        .calls()
        .raw_item(&format!("consent#{}", sc.call_sid))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(after, proof);
}

/// Issue 27 §10: every staff notice carries its deduplication id (the item and the claim it is
/// made on; also sent as the `notice_id` message attribute), so a repeat published after a lost
/// "sent" mark is recognisably the same notice.
#[tokio::test]
async fn voicemail_notices_carry_a_stable_deduplication_id() {
    let s = stack(&[]).await;
    let sc = script(&s, &[Some("1"), Some("9")], "no-answer", 5);
    play(&s, &sc).await;
    let notices: Vec<_> = sns_messages(&s.resources["VoicemailTopic"])
        .await
        .into_iter()
        .filter(|(_, m)| m["call_sid"] == sc.call_sid.as_str() && m["type"] == "voicemail")
        .collect();
    assert_eq!(notices.len(), 1, "{notices:?}");
    let m = &notices[0].1;
    let rec = m["recording_sid"].as_str().unwrap();
    assert!(
        m["notice_id"]
            .as_str()
            .is_some_and(|id| id.starts_with(&format!("{rec}#"))),
        "{m}"
    );
}
