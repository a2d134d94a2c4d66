//! Caller protection (issue 24) played through every webhook as Twilio would, against a real
//! DynamoDB/S3/SNS API: the screened hand-off (a whisper on each dialled mobile; a person's 1
//! bridges, a mailbox that answers goes to our voicemail) and the verified-caller gate
//! (STIR/SHAKEN's `StirVerstat`).

use aws_sdk_dynamodb::types::AttributeValue as A;
use call_simulator::AnsweredBy;
use integration_tests::*;
use telephony_core::prompts;

fn heard(log: &call_simulator::CallLog, text: &str) -> usize {
    log.heard.iter().filter(|h| h.contains(text)).count()
}

async fn voicemail_notices(s: &Stack, call_sid: &str) -> usize {
    sns_messages(&s.resources["VoicemailTopic"])
        .await
        .iter()
        .filter(|(_, m)| m["type"] == "voicemail" && m["call_sid"] == call_sid)
        .count()
}

#[tokio::test]
async fn a_mailbox_that_answers_the_dial_sends_the_caller_to_our_voicemail() {
    let s = stack(&[]).await;
    let mut sc = script(&s, &[Some("1"), Some("1")], "completed", 7);
    sc.answered_by = AnsweredBy::Machine;
    let log = play(&s, &sc).await;
    // The leg was answered (Twilio says completed), but nobody pressed 1 at the whisper.
    assert_eq!(log.dialled, [SALES]);
    assert_eq!(log.whispers.len(), 1, "{log:#?}");
    let (whisper, took) = &log.whispers[0];
    assert!(!took);
    assert!(
        whisper.starts_with("Call for TradeLine 24/7 from 2 0 2, 5 5 5, 0 1 4 3")
            && whisper.ends_with("Press 1 to take it."),
        "{whisper}"
    );
    assert_eq!(heard(&log, prompts::NOBODY_AVAILABLE), 1, "{:?}", log.heard);
    assert_eq!(heard(&log, prompts::VOICEMAIL_THANKS), 1);
    // Our voicemail: stored once in our bucket, one notice; the dial itself was not recorded
    // (never bridged).
    let keys = s3_keys(&s, &format!("recordings/{}/", sc.call_sid)).await;
    assert_eq!(keys.len(), 1, "{keys:?}");
    assert_eq!(voicemail_notices(&s, &sc.call_sid).await, 1);
    let item = s
        .deps
        .calls()
        .raw_item(&sc.call_sid)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(attr_s(&item, "dial_status").as_deref(), Some("completed"));
    assert_eq!(attr_s(&item, "screen_answer"), None);
}

#[tokio::test]
async fn a_persons_1_bridges_and_records_only_with_consent() {
    let s = stack(&[]).await;
    for (consent, record) in [("1", Some("record-from-answer-dual")), ("2", None)] {
        let sc = script(&s, &[Some(consent), Some("1")], "completed", 0);
        let log = play(&s, &sc).await;
        assert_eq!(log.ended, "hangup", "{log:#?}");
        assert_eq!(log.whispers.len(), 1);
        assert!(log.whispers[0].1, "a person took it");
        assert_eq!(heard(&log, prompts::VOICEMAIL_PROMPT), 0);
        assert_eq!(log.dial_records, [record.map(str::to_owned)]);
        let item = s
            .deps
            .calls()
            .raw_item(&sc.call_sid)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(attr_s(&item, "screen_answer").as_deref(), Some("sales"));
        // Dial recordings are kept only with consent, and are never voicemails.
        let keys = s3_keys(&s, &format!("recordings/{}/", sc.call_sid)).await;
        assert_eq!(keys.len(), usize::from(record.is_some()), "{keys:?}");
        assert_eq!(voicemail_notices(&s, &sc.call_sid).await, 0);
    }
}

#[tokio::test]
async fn screening_is_per_target_and_the_whisper_speaks_the_callers_language() {
    let s = stack(&[]).await;
    s.deps
        .dynamo()
        .put_item()
        .table_name(&s.deps.config.numbers_table)
        .item("e164", A::S(HOTLINE.into()))
        .item("business_name", A::S("Boulangerie Côté".into()))
        .item("sales_target", A::S(SALES.into()))
        .item("support_target", A::S(SUPPORT.into()))
        .item("screening_support", A::S("off".into()))
        .send()
        .await
        .unwrap();
    // French caller (8), consent, Sales: the whisper is French.
    let mut sc = script(&s, &[Some("8"), Some("1"), Some("1")], "completed", 0);
    sc.answered_by = AnsweredBy::Human;
    let log = play(&s, &sc).await;
    assert!(
        log.whispers[0]
            .0
            .starts_with("Appel pour Boulangerie Côté de 2 0 2")
            && log.whispers[0]
                .0
                .ends_with("Appuyez sur 1 pour le prendre."),
        "{:?}",
        log.whispers
    );
    // Support is a desk line, set off: no whisper, Twilio's completed is believed.
    let mut sc = script(&s, &[Some("1"), Some("2")], "completed", 0);
    sc.answered_by = AnsweredBy::Machine;
    let log = play(&s, &sc).await;
    assert_eq!(log.dialled, [SUPPORT]);
    assert!(log.whispers.is_empty(), "{:?}", log.whispers);
    assert_eq!(heard(&log, prompts::VOICEMAIL_PROMPT), 0);
    assert_eq!(log.ended, "hangup");
}

#[tokio::test]
async fn a_known_caller_is_named_in_the_whisper() {
    let s = stack(&[]).await;
    known_sam(&s).await;
    let sc = script(&s, &[Some("1"), Some("1")], "completed", 0);
    let log = play(&s, &sc).await;
    assert!(
        log.whispers[0]
            .0
            .starts_with("Call for TradeLine 24/7 from Sam."),
        "{:?}",
        log.whispers
    );
}

/// Makes [`CALLER`] a known contact, Sam, through the ops route.
async fn known_sam(s: &Stack) {
    let path = format!("/ops/contacts/default/{}", CALLER.replace('+', "%2B"));
    let req = ops_request_with(
        "PUT",
        &path,
        Some("arn:aws:iam::123456789012:user/operator"),
        &[],
        Some(r#"{"first_name":"Sam"}"#),
    );
    let r = to_reply(dispatch(&s.deps, req).await);
    assert_eq!(r.status, 200, "{}", r.body);
}

/// The gate's answer as Twilio posts it: the check's `<Gather>` action with `digits`.
async fn gate_answer(s: &Stack, sc: &call_simulator::Script, digits: Option<&str>) -> String {
    let mut p = pairs(&[
        ("AccountSid", ACCOUNT_SID),
        ("CallSid", &sc.call_sid),
        ("CallStatus", "in-progress"),
        ("From", &sc.from),
        ("To", &sc.to),
        ("StirVerstat", sc.verstat.as_deref().unwrap_or("")),
    ]);
    if let Some(d) = digits {
        p.push(("Digits".into(), d.into()));
    }
    let r = post_signed(
        &s.deps,
        &format!("{PUBLIC_BASE_URL}/voice-frontdoor?gate=answer&lang=en"),
        &p,
    )
    .await;
    assert_eq!(r.status, 200);
    r.body
}

#[tokio::test]
async fn the_gate_checks_failed_callers_and_lets_a_and_known_callers_through() {
    let s = stack(&[]).await;
    // A-attested unknown caller: straight to the greeting (default switch failed-only, and A
    // passes under every switch).
    let mut sc = script(&s, &[Some("9")], "no-answer", 0);
    sc.verstat = Some("TN-Validation-Passed-A".into());
    let log = play(&s, &sc).await;
    assert!(
        log.heard[0].contains("Thank you for calling"),
        "{:?}",
        log.heard
    );
    // A failed verification from an unknown caller: the check first; a 5 goes on.
    let mut sc = script(&s, &[Some("5"), Some("9")], "no-answer", 0);
    sc.verstat = Some("TN-Validation-Failed-C".into());
    let log = play(&s, &sc).await;
    assert_eq!(
        log.heard[0], "To reach TradeLine 24/7, press 5.",
        "{:?}",
        log.heard
    );
    assert!(
        log.heard[1].contains("Thank you for calling"),
        "{:?}",
        log.heard
    );
    let item = s
        .deps
        .calls()
        .raw_item(&sc.call_sid)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(attr_s(&item, "gate_verstat").as_deref(), Some("failed"));
    assert_eq!(attr_s(&item, "gate_outcome").as_deref(), Some("passed"));
    // Silence at the check: a polite goodbye, nothing else.
    let mut sc = script(&s, &[None], "no-answer", 0);
    sc.verstat = Some("TN-Validation-Failed-A".into());
    let log = play(&s, &sc).await;
    assert_eq!(
        log.heard,
        [
            "To reach TradeLine 24/7, press 5.",
            "Sorry, we could not connect your call. Goodbye."
        ]
    );
    assert_eq!(log.ended, "hangup");
    let item = s
        .deps
        .calls()
        .raw_item(&sc.call_sid)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(attr_s(&item, "gate_outcome").as_deref(), Some("silent"));
    // A wrong key is refused too.
    assert!(gate_answer(&s, &sc, Some("1")).await.contains("Goodbye."));
    // A known caller with a failed verstat passes.
    known_sam(&s).await;
    let mut sc = script(&s, &[Some("9")], "no-answer", 0);
    sc.verstat = Some("TN-Validation-Failed-C".into());
    let log = play(&s, &sc).await;
    assert!(
        log.heard[0].starts_with("Welcome back, Sam."),
        "{:?}",
        log.heard
    );
}

#[tokio::test]
async fn the_unverified_switch_checks_everything_but_a_and_off_checks_nothing() {
    let s = stack(&[("NUMBER_CACHE_SECONDS", "0")]).await;
    let set = |gate: &'static str| {
        let s = &s;
        async move {
            s.deps
                .dynamo()
                .put_item()
                .table_name(&s.deps.config.numbers_table)
                .item("e164", A::S(HOTLINE.into()))
                .item("robocall_gate", A::S(gate.into()))
                .send()
                .await
                .unwrap();
        }
    };
    set("unverified").await;
    for (verstat, checked) in [
        (Some("TN-Validation-Passed-A"), false),
        (Some("TN-Validation-Passed-B"), true),
        (Some("TN-Validation-Passed-C"), true),
        (Some("No-TN-Validation"), true),
        (None, true),
    ] {
        let mut sc = script(&s, &[None], "no-answer", 0);
        sc.verstat = verstat.map(str::to_owned);
        let log = play(&s, &sc).await;
        assert_eq!(
            log.heard[0].contains("press 5"),
            checked,
            "{verstat:?}: {:?}",
            log.heard
        );
    }
    set("off").await;
    let mut sc = script(&s, &[Some("9")], "no-answer", 0);
    sc.verstat = Some("TN-Validation-Failed-C".into());
    let log = play(&s, &sc).await;
    assert!(
        log.heard[0].contains("Thank you for calling"),
        "{:?}",
        log.heard
    );
}
