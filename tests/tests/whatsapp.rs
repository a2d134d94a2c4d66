//! WhatsApp on the messaging webhooks (issue 15) against moto: channel-qualified addresses in
//! every key, the 24-hour customer-service window, per-channel opt-outs, read receipts.

use integration_tests::*;

fn sid() -> String {
    message_sid()
}

fn wa(n: &str) -> String {
    format!("whatsapp:{n}")
}

/// An inbound message `from` → the hotline on `from`'s channel; the reply body.
async fn send(s: &Stack, sid: &str, from: &str, body: &str) -> String {
    let to = if from.starts_with("whatsapp:") {
        wa(HOTLINE)
    } else {
        HOTLINE.to_owned()
    };
    let mut p = pairs(&[
        ("AccountSid", ACCOUNT_SID),
        ("MessageSid", sid),
        ("SmsSid", sid),
        ("From", from),
        ("To", &to),
        ("Body", body),
        ("NumMedia", "0"),
    ]);
    if from.starts_with("whatsapp:") {
        p.extend(pairs(&[
            ("ProfileName", "Sam Lee"),
            ("WaId", from.trim_start_matches("whatsapp:+")),
        ]));
    }
    let r = post_signed(
        &s.deps,
        &format!("{PUBLIC_BASE_URL}/webcomms-sms-reply"),
        &p,
    )
    .await;
    assert_eq!(r.status, 200, "{r:?}");
    r.body
}

#[tokio::test]
async fn whatsapp_and_sms_are_separate_conversations() {
    let s = stack(&[("WHATSAPP_ENABLED", "true")]).await;
    let phone = "+14165550170";
    let first = sid();
    let reply = send(&s, &first, &wa(phone), "hi").await;
    assert!(reply.contains("<Message>Thanks for texting"), "{reply}");
    let item = s.deps.messages().raw_item(&first).await.unwrap().unwrap();
    assert_eq!(attr_s(&item, "channel").as_deref(), Some("whatsapp"));
    assert_eq!(attr_s(&item, "from").as_deref(), Some(wa(phone).as_str()));
    // The staff notice names the sender's WhatsApp profile.
    let notices = sns_messages(&s.resources["SmsTopic"]).await;
    assert!(
        notices
            .iter()
            .any(|(subject, n)| subject.starts_with("WhatsApp from Sam Lee")
                && n["type"] == "whatsapp"
                && n["profile_name"] == "Sam Lee"),
        "{notices:?}"
    );
    // A second WhatsApp message: inside its window, no second auto-reply. The same number by
    // SMS has its own window: it gets one.
    assert!(!send(&s, &sid(), &wa(phone), "again")
        .await
        .contains("<Message>"));
    let sms = sid();
    assert!(send(&s, &sms, phone, "hi by sms")
        .await
        .contains("<Message>Thanks for texting"));
    let item = s.deps.messages().raw_item(&sms).await.unwrap().unwrap();
    assert_eq!(attr_s(&item, "channel").as_deref(), Some("sms"));

    // STOP on WhatsApp stops WhatsApp only (per-channel opt-out, see telephony_core::channel).
    let other = "+14165550171";
    send(&s, &sid(), &wa(other), "STOP").await;
    let now = telephony_aws::now_secs();
    assert!(s
        .deps
        .messages()
        .is_opted_out(&wa(other), now)
        .await
        .unwrap());
    assert!(!s.deps.messages().is_opted_out(other, now).await.unwrap());
    assert!(!send(&s, &sid(), &wa(other), "hello?")
        .await
        .contains("<Message>"));
    assert!(send(&s, &sid(), other, "hello by sms")
        .await
        .contains("<Message>"));
}

#[tokio::test]
async fn outside_the_24_hour_window_nothing_free_form_is_sent() {
    use integration_tests::scripted;
    let twilio = scripted::start(Some(prism::api_v2010().base_url.clone()), vec![]).await;
    let template = "HX0123456789abcdef0123456789abcdef";
    let s = stack(&[
        ("WHATSAPP_ENABLED", "true"),
        ("WHATSAPP_TEMPLATE_SID", template),
        ("TWILIO_API_BASE", twilio.base_url.as_str()),
    ])
    .await;
    let phone = wa("+14165550172");
    let first = sid();
    assert!(send(&s, &first, &phone, "hi").await.contains("<Message>"));
    // The same message redelivered 25 hours later (its first arrival moved back in the store).
    let old = telephony_aws::now_secs() - 25 * 3600;
    s.deps
        .dynamo()
        .update_item()
        .table_name(&s.resources["MessagesTable"])
        .key(
            "pk",
            aws_sdk_dynamodb::types::AttributeValue::S(first.clone()),
        )
        .update_expression("SET received_at = :t")
        .expression_attribute_values(
            ":t",
            aws_sdk_dynamodb::types::AttributeValue::N(old.to_string()),
        )
        .send()
        .await
        .unwrap();
    let again = send(&s, &first, &phone, "hi").await;
    assert!(
        !again.contains("<Message>"),
        "free-form outside the window: {again}"
    );
    assert_eq!(
        twilio.count("POST", "/Messages.json"),
        1,
        "the approved template instead"
    );
}

#[tokio::test]
async fn read_receipts_advance_and_unknown_channels_are_refused() {
    let s = stack(&[]).await;
    let m = sid();
    let url = format!("{PUBLIC_BASE_URL}/webcomms-sms-status");
    for status in ["sent", "delivered", "read", "sent"] {
        let p = pairs(&[
            ("MessageSid", &m),
            ("MessageStatus", status),
            ("From", &wa(HOTLINE)),
            ("To", &wa(CALLER)),
        ]);
        assert_eq!(post_signed(&s.deps, &url, &p).await.status, 204, "{status}");
    }
    let item = s.deps.messages().raw_item(&m).await.unwrap().unwrap();
    assert_eq!(attr_s(&item, "status").as_deref(), Some("read"));

    let unknown = sid();
    let p = pairs(&[
        ("AccountSid", ACCOUNT_SID),
        ("MessageSid", &unknown),
        ("From", "messenger:1234567890"),
        ("To", &wa(HOTLINE)),
        ("Body", "hi"),
    ]);
    let r = post_signed(
        &s.deps,
        &format!("{PUBLIC_BASE_URL}/webcomms-sms-reply"),
        &p,
    )
    .await;
    assert_eq!(r.status, 200);
    assert!(r.body.ends_with("<Response/>"), "{}", r.body);
    assert!(
        s.deps
            .messages()
            .raw_item(&unknown)
            .await
            .unwrap()
            .is_none(),
        "nothing stored"
    );
}
