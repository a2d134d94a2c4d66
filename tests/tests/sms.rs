//! The SMS webhooks against a real DynamoDB/S3/SNS API: keywords, the auto-reply window, opt-outs,
//! retries, MMS media, loop protection and message status ordering.

use call_simulator::Reply;
use integration_tests::*;
use std::sync::atomic::{AtomicU64, Ordering};

static N: AtomicU64 = AtomicU64::new(0);

fn message_sid(prefix: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!(
        "{prefix}{:024x}{:08x}",
        nanos & ((1u128 << 96) - 1),
        N.fetch_add(1, Ordering::SeqCst)
    )
}

fn text_params(sid: &str, from: &str, body: &str) -> Vec<(String, String)> {
    pairs(&[
        ("AccountSid", ACCOUNT_SID),
        ("MessageSid", sid),
        ("SmsSid", sid),
        ("From", from),
        ("To", HOTLINE),
        ("Body", body),
        ("NumMedia", "0"),
    ])
}

async fn text(s: &Stack, from: &str, body: &str) -> Reply {
    post_signed(
        &s.deps,
        &format!("{PUBLIC_BASE_URL}/webcomms-sms-reply"),
        &text_params(&message_sid("SM"), from, body),
    )
    .await
}

fn message_text(reply: &Reply) -> Option<String> {
    assert_eq!(reply.status, 200, "{reply:?}");
    verbs(&reply.body).into_iter().find_map(|v| match v {
        call_simulator::twiml::SimVerb::Message(t) => Some(t),
        _ => None,
    })
}

#[tokio::test]
async fn first_text_gets_the_auto_reply_and_a_second_within_the_window_none() {
    let s = stack(&[]).await;
    let first = message_text(&text(&s, CALLER, "Do you fix furnaces?").await).expect("auto-reply");
    assert!(
        first.contains("TradeLine 24/7") && first.contains("Reply STOP to opt out"),
        "{first}"
    );
    assert_eq!(message_text(&text(&s, CALLER, "Hello?").await), None);
    // Another sender has its own window.
    assert!(message_text(&text(&s, "+13065550111", "Hi").await).is_some());
    // Staff are notified of each ordinary text.
    let notices = sns_messages(&s.resources["SmsTopic"]).await;
    assert_eq!(notices.len(), 3, "{notices:?}");
    assert_eq!(notices[0].1["type"], "sms");
}

#[tokio::test]
async fn stop_silences_replies_until_start_and_keywords_are_not_notified() {
    let s = stack(&[]).await;
    assert_eq!(message_text(&text(&s, CALLER, "STOP").await), None);
    assert_eq!(
        message_text(&text(&s, CALLER, "are you open?").await),
        None,
        "no reply to an opted-out sender"
    );
    assert_eq!(message_text(&text(&s, CALLER, "Start").await), None);
    assert!(
        message_text(&text(&s, CALLER, "are you open now?").await).is_some(),
        "replies resume after START"
    );
    let opt = s
        .deps
        .dynamo()
        .get_item()
        .table_name(&s.deps.config.opt_outs_table)
        .key(
            "pk",
            aws_sdk_dynamodb::types::AttributeValue::S(CALLER.into()),
        )
        .send()
        .await
        .unwrap();
    let item = opt.item.expect("opt-out record");
    assert_eq!(item["opted_out"].as_bool().unwrap(), &false);
    assert_eq!(attr_s(&item, "source").as_deref(), Some("keyword:Start"));
    let notices = sns_messages(&s.resources["SmsTopic"]).await;
    assert_eq!(notices.len(), 2, "keywords are not notified: {notices:?}");
}

#[tokio::test]
async fn stop_with_punctuation_counts_as_stop() {
    let s = stack(&[]).await;
    for body in ["stop!", " Stop. "] {
        assert_eq!(message_text(&text(&s, CALLER, body).await), None);
        assert!(
            s.deps
                .messages()
                .is_opted_out(CALLER, telephony_aws::now_secs())
                .await
                .unwrap(),
            "{body}"
        );
        text(&s, CALLER, "start").await;
    }
}

#[tokio::test]
async fn help_answers_with_business_name_number_and_opt_out_text() {
    let s = stack(&[]).await;
    let help = message_text(&text(&s, CALLER, "help").await).expect("help text");
    assert!(
        help.contains("TradeLine 24/7")
            && help.contains(HOTLINE)
            && help.contains("Reply STOP to opt out"),
        "{help}"
    );
}

#[tokio::test]
async fn a_duplicate_message_sid_is_stored_once_and_gets_the_same_reply() {
    let s = stack(&[]).await;
    let sid = message_sid("SM");
    let url = format!("{PUBLIC_BASE_URL}/webcomms-sms-reply");
    let p = text_params(&sid, CALLER, "Quote for a water heater?");
    let first = post_signed(&s.deps, &url, &p).await;
    let second = post_signed(&s.deps, &url, &p).await;
    assert!(message_text(&first).is_some());
    assert_eq!(second, first, "a retry gets the first reply");
    assert_eq!(
        sns_messages(&s.resources["SmsTopic"]).await.len(),
        1,
        "one notice"
    );
    let item = s
        .deps
        .messages()
        .raw_item(&sid)
        .await
        .unwrap()
        .expect("stored");
    assert_eq!(
        attr_s(&item, "body").as_deref(),
        Some("Quote for a water heater?")
    );
    assert!(attr_s(&item, "raw_params").unwrap().contains("MessageSid"));
}

#[tokio::test]
async fn mms_media_is_copied_to_s3_and_media_over_the_cap_is_skipped() {
    let s = stack(&[("MMS_MAX_BYTES", "2048")]).await;
    let sid = message_sid("MM");
    let small = vec![0x89, b'P', b'N', b'G', 13, 10, 26, 10, 1, 2, 3];
    let base = format!("/2010-04-01/Accounts/{ACCOUNT_SID}/Messages/{sid}/Media");
    let u0 = s
        .media
        .add(&format!("{base}/ME0"), "image/png", small.clone());
    let u1 = s
        .media
        .add(&format!("{base}/ME1"), "image/jpeg", vec![0xff; 1500]);
    let u2 = s
        .media
        .add(&format!("{base}/ME2"), "image/jpeg", vec![0xff; 4096]);
    let mut p = text_params(&sid, CALLER, "photos of the leak");
    p.retain(|(k, _)| k != "NumMedia");
    p.extend(pairs(&[
        ("NumMedia", "3"),
        ("MediaUrl0", &u0),
        ("MediaContentType0", "image/png"),
        ("MediaUrl1", &u1),
        ("MediaContentType1", "image/jpeg"),
        ("MediaUrl2", &u2),
        ("MediaContentType2", "image/jpeg"),
    ]));
    let r = post_signed(&s.deps, &format!("{PUBLIC_BASE_URL}/twilio/sms"), &p).await;
    assert_eq!(r.status, 200);
    let mut keys = s3_keys(&s, &format!("media/{sid}/")).await;
    keys.sort();
    assert_eq!(
        keys,
        vec![format!("media/{sid}/0.png"), format!("media/{sid}/1.jpg")]
    );
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
        small.as_slice()
    );
    let item = s.deps.messages().raw_item(&sid).await.unwrap().unwrap();
    let media = item["media"].as_l().unwrap();
    assert_eq!(media.len(), 3);
    let skipped = media[2].as_m().unwrap();
    assert!(!skipped.contains_key("s3_key"), "over the cap: not copied");
    assert_eq!(skipped["url"].as_s().unwrap(), &u2, "the URL is kept");
}

#[tokio::test]
async fn never_auto_replies_to_our_own_numbers_or_short_codes() {
    use aws_sdk_dynamodb::types::AttributeValue as A;
    let s = stack(&[]).await;
    let ours = "+14035550100";
    s.deps
        .dynamo()
        .put_item()
        .table_name(&s.deps.config.numbers_table)
        .item("e164", A::S(ours.into()))
        .send()
        .await
        .unwrap();
    for from in [HOTLINE, ours, "12345", "898287"] {
        assert_eq!(message_text(&text(&s, from, "Hi").await), None, "{from}");
    }
}

#[tokio::test]
async fn late_sent_never_overwrites_delivered_and_21610_records_an_opt_out() {
    let s = stack(&[]).await;
    let sid = message_sid("SM");
    let url = format!("{PUBLIC_BASE_URL}/webcomms-sms-status");
    for status in ["queued", "delivered", "sent"] {
        let p = pairs(&[
            ("MessageSid", &sid),
            ("MessageStatus", status),
            ("From", HOTLINE),
            ("To", CALLER),
        ]);
        assert_eq!(post_signed(&s.deps, &url, &p).await.status, 204, "{status}");
    }
    let item = s.deps.messages().raw_item(&sid).await.unwrap().unwrap();
    assert_eq!(attr_s(&item, "status").as_deref(), Some("delivered"));

    let failed = message_sid("SM");
    let p = pairs(&[
        ("MessageSid", &failed),
        ("MessageStatus", "undelivered"),
        ("ErrorCode", "21610"),
        ("ErrorMessage", "Attempt to send to unsubscribed recipient"),
        ("From", HOTLINE),
        ("To", "+13065550122"),
    ]);
    assert_eq!(
        post_signed(&s.deps, &format!("{PUBLIC_BASE_URL}/twilio/sms-status"), &p)
            .await
            .status,
        204
    );
    let item = s.deps.messages().raw_item(&failed).await.unwrap().unwrap();
    assert_eq!(attr_s(&item, "error_code").as_deref(), Some("21610"));
    assert!(s
        .deps
        .messages()
        .is_opted_out("+13065550122", telephony_aws::now_secs())
        .await
        .unwrap());
    assert_eq!(
        message_text(&text(&s, "+13065550122", "hello").await),
        None,
        "no auto-reply after 21610"
    );
    let bad = pairs(&[("MessageSid", &failed), ("MessageStatus", "teleported")]);
    assert_eq!(post_signed(&s.deps, &url, &bad).await.status, 400);
}

#[tokio::test]
async fn a_bad_signature_is_refused_and_nothing_is_stored() {
    let s = stack(&[]).await;
    let sid = message_sid("SM");
    let url = format!("{PUBLIC_BASE_URL}/webcomms-sms-reply");
    let p = text_params(&sid, CALLER, "STOP");
    let r = to_reply(
        dispatch(
            &s.deps,
            form_request(&url, &p, Some("bm90IGEgc2lnbmF0dXJlIGF0IGFsbA==")),
        )
        .await,
    );
    assert_eq!(r.status, 403);
    assert!(s.deps.messages().raw_item(&sid).await.unwrap().is_none());
    assert!(!s
        .deps
        .messages()
        .is_opted_out(CALLER, telephony_aws::now_secs())
        .await
        .unwrap());
}

#[tokio::test]
async fn an_unreachable_store_answers_a_retryable_503() {
    let deps = unreachable_deps().await;
    let url = format!("{PUBLIC_BASE_URL}/webcomms-sms-reply");
    let r = post_signed(&deps, &url, &text_params(&message_sid("SM"), CALLER, "hi")).await;
    assert_eq!(r.status, 503, "{r:?}");
    assert!(r.body.is_empty(), "{}", r.body);
}

#[tokio::test]
async fn a_stop_sent_during_an_outage_is_recorded_when_twilio_delivers_it_again() {
    let proxy = integration_tests::proxy::OutageProxy::start(moto_endpoint()).await;
    let s = stack_via(&[], &proxy.endpoint).await;
    let url = format!("{PUBLIC_BASE_URL}/webcomms-sms-reply");
    let sender = "+16475550177";
    let p = text_params(&message_sid("SM"), sender, "STOP");
    proxy.set_down(true);
    let r = post_signed(&s.deps, &url, &p).await;
    proxy.set_down(false);
    // Not recorded: a retryable status, never an empty 200 that would drop the opt-out.
    assert_eq!(r.status, 503, "{r:?}");
    assert!(!s
        .deps
        .messages()
        .is_opted_out(sender, telephony_aws::now_secs())
        .await
        .unwrap());
    // Twilio's redelivery (the Messaging URL asks for it: #rc=3&rp=all) records it.
    let r = post_signed(&s.deps, &url, &p).await;
    assert_eq!(r.status, 200, "{r:?}");
    assert!(s
        .deps
        .messages()
        .is_opted_out(sender, telephony_aws::now_secs())
        .await
        .unwrap());
    // And an auto-reply is never sent to them afterwards.
    let r = post_signed(
        &s.deps,
        &url,
        &text_params(&message_sid("SM"), sender, "hello"),
    )
    .await;
    assert!(r.body.ends_with("<Response/>"), "{}", r.body);
}

#[tokio::test]
async fn a_refused_staff_notice_never_swallows_the_auto_reply_and_the_monitor_sends_it() {
    let s = stack(&[(
        "SMS_TOPIC_ARN",
        "arn:aws:sns:ca-central-1:123456789012:no-such-topic",
    )])
    .await;
    let sid = message_sid("SM");
    let r = post_signed(
        &s.deps,
        &format!("{PUBLIC_BASE_URL}/webcomms-sms-reply"),
        &text_params(&sid, "+16475550178", "Do you fix furnaces?"),
    )
    .await;
    // SNS refused the notice; the texter still gets the auto-reply.
    assert_eq!(r.status, 200);
    assert!(r.body.contains("<Message>"), "{}", r.body);
    let item = s.deps.messages().raw_item(&sid).await.unwrap().unwrap();
    assert_eq!(attr_s(&item, "pending").as_deref(), Some("pending"));
    assert!(attr_s(&item, "notice_message")
        .unwrap()
        .contains("Do you fix furnaces?"));
    // SNS is back (here: the notice's topic is the real one); the monitor publishes it once.
    let topic = s.resources["SmsTopic"].clone();
    s.deps
        .dynamo()
        .update_item()
        .table_name(&s.resources["MessagesTable"])
        .key(
            "pk",
            aws_sdk_dynamodb::types::AttributeValue::S(sid.clone()),
        )
        .update_expression("SET notice_topic = :t")
        .expression_attribute_values(
            ":t",
            aws_sdk_dynamodb::types::AttributeValue::S(topic.clone()),
        )
        .send()
        .await
        .unwrap();
    let run = telephony_aws::messages::resume_pending(&s.deps, 25)
        .await
        .unwrap();
    assert_eq!((run.notices, run.left), (1, 0), "{run:?}");
    let sent: Vec<_> = sns_messages(&topic)
        .await
        .into_iter()
        .filter(|(_, m)| m["message_sid"] == sid.as_str())
        .collect();
    assert_eq!(sent.len(), 1, "{sent:?}");
    let again = telephony_aws::messages::resume_pending(&s.deps, 25)
        .await
        .unwrap();
    assert_eq!(again.notices, 0, "{again:?}");
    let item = s.deps.messages().raw_item(&sid).await.unwrap().unwrap();
    assert!(!item.contains_key("pending"));
}

#[tokio::test]
async fn a_whatsapp_profile_name_never_breaks_the_notice_subject() {
    let s = stack(&[]).await;
    let sid = message_sid("SM");
    let name = format!("José 🌟 {}\r\nBcc: x@example.com", "Ñúñez-".repeat(30));
    let p = pairs(&[
        ("AccountSid", ACCOUNT_SID),
        ("MessageSid", &sid),
        ("From", "whatsapp:+16475550179"),
        ("To", &format!("whatsapp:{HOTLINE}")),
        ("Body", "hi"),
        ("NumMedia", "0"),
        ("ProfileName", &name),
        ("WaId", "16475550179"),
    ]);
    let r = post_signed(
        &s.deps,
        &format!("{PUBLIC_BASE_URL}/webcomms-sms-reply"),
        &p,
    )
    .await;
    assert_eq!(r.status, 200, "{r:?}");
    let sent: Vec<_> = sns_messages(&s.resources["SmsTopic"])
        .await
        .into_iter()
        .filter(|(_, m)| m["message_sid"] == sid.as_str())
        .collect();
    assert_eq!(sent.len(), 1, "{sent:?}");
    let subject = &sent[0].0;
    assert!(
        subject.len() <= 100 && subject.is_ascii() && !subject.contains(['\r', '\n']),
        "{subject:?}"
    );
    assert!(subject.starts_with("WhatsApp from Jose"), "{subject:?}");
    // The full name is in the body.
    assert_eq!(sent[0].1["profile_name"], name.as_str());
}

#[tokio::test]
async fn mms_media_whose_download_failed_is_copied_by_the_monitor() {
    let s = stack(&[]).await;
    let sid = message_sid("MM");
    let base = format!("/2010-04-01/Accounts/{ACCOUNT_SID}/Messages/{sid}/Media");
    let u0 = s
        .media
        .add(&format!("{base}/ME0"), "image/png", vec![1, 2, 3]);
    let mut p = text_params(&sid, "+16475550176", "the leak");
    p.retain(|(k, _)| k != "NumMedia");
    p.extend(pairs(&[
        ("NumMedia", "1"),
        ("MediaUrl0", &u0),
        ("MediaContentType0", "image/png"),
    ]));
    s.media.fail_next(1);
    let r = post_signed(
        &s.deps,
        &format!("{PUBLIC_BASE_URL}/webcomms-sms-reply"),
        &p,
    )
    .await;
    assert_eq!(r.status, 200);
    assert!(s3_keys(&s, &format!("media/{sid}/")).await.is_empty());
    let run = telephony_aws::messages::resume_pending(&s.deps, 25)
        .await
        .unwrap();
    assert_eq!((run.media, run.left), (1, 0), "{run:?}");
    assert_eq!(
        s3_keys(&s, &format!("media/{sid}/")).await,
        vec![format!("media/{sid}/0.png")]
    );
    let item = s.deps.messages().raw_item(&sid).await.unwrap().unwrap();
    assert!(!item.contains_key("pending"));
    let media = item["media"].as_l().unwrap();
    assert!(media[0].as_m().unwrap().contains_key("s3_key"));
}
