//! Privacy requests by phone number (issue 25) against moto: one caller's calls (a voicemail in
//! S3, an AI booking), texts (SMS, MMS with media, WhatsApp, STOP), a known-caller contact and a
//! contact-form entry are found, exported and erased; the opt-out survives as a suppression
//! entry; a crash half-way resumes with the same counts; a dry run changes nothing.

use aws_sdk_dynamodb::types::AttributeValue as A;
use integration_tests::relay::*;
use integration_tests::*;
use serde_json::{json, Value};
use telephony_aws::privacy::{self, Ask, PrivacyError};
use telephony_core::privacy::Action;

fn ask(action: Action, key: &str, dry_run: bool) -> Ask {
    Ask {
        action,
        number: CALLER.into(),
        org: None,
        dry_run,
        principal: "arn:aws:iam::123456789012:user/privacy-officer".into(),
        idempotency_key: key.into(),
    }
}

async fn request(s: &Stack, action: &str, key: &str, body: Value) -> (u16, Value) {
    let answer = json_api::privacy::answer(
        &s.deps,
        action,
        body.to_string().as_bytes(),
        Some(key),
        json_api::privacy::Asker::Operator,
        "arn:aws:iam::123456789012:user/privacy-officer",
        telephony_aws::now_secs(),
    )
    .await;
    let (status, v) = answer.unwrap_or_else(json_api::ApiError::into_pair);
    (status.as_u16(), v)
}

fn count(v: &Value, kind: &str) -> u64 {
    v["counts"][kind].as_u64().unwrap_or(0)
}

/// Every kind the caller left: a voicemail call, an AI booking, SMS, MMS, WhatsApp and STOP, a
/// contact and a contact-form entry.
async fn a_caller_with_everything(r: &RelayStack) {
    let s = r.stack;
    open_around_the_clock(s).await;
    let vm = play(s, &script(s, &[Some("1"), Some("1")], "no-answer", 5)).await;
    assert_eq!(vm.ended, "hangup", "{vm:#?}");
    let booking = relay_script(
        r,
        "1",
        &["Can someone come Tuesday at 10?", "yes", "That's all, bye"],
    );
    play(s, &booking).await;
    text_message(s, CALLER, HOTLINE, "Do you fix furnaces?").await;
    let sid = message_sid().replacen("SM", "MM", 1);
    let url = s.media.add(
        &format!("/2010-04-01/Accounts/{ACCOUNT_SID}/Messages/{sid}/Media/ME0"),
        "image/png",
        vec![0x89; 900],
    );
    let mms = post_signed(
        &s.deps,
        &format!("{PUBLIC_BASE_URL}/webcomms-sms-reply"),
        &pairs(&[
            ("AccountSid", ACCOUNT_SID),
            ("MessageSid", &sid),
            ("From", CALLER),
            ("To", HOTLINE),
            ("Body", "the leak"),
            ("NumMedia", "1"),
            ("MediaUrl0", &url),
            ("MediaContentType0", "image/png"),
        ]),
    )
    .await;
    assert_eq!(mms.status, 200, "{mms:?}");
    text_message(
        s,
        &format!("whatsapp:{CALLER}"),
        &format!("whatsapp:{HOTLINE}"),
        "hi",
    )
    .await;
    text_message(s, CALLER, HOTLINE, "STOP").await;
    let contacts = telephony_aws::contacts::Contacts {
        dynamo: s.deps.dynamo(),
        table: &s.resources["ContactsTable"],
    };
    let write: telephony_aws::contacts::ContactWrite =
        serde_json::from_value(json!({"first_name": "Sam"})).unwrap();
    let caller = telephony_core::E164::parse_syntax(CALLER).unwrap();
    contacts
        .put("acme", &caller, &write, "test", telephony_aws::now_secs())
        .await
        .unwrap();
    // A contact-form entry as contact-submit stores it (its handler is tested in contact_form.rs).
    s.deps
        .dynamo()
        .put_item()
        .table_name(&s.resources["SubmissionsTable"])
        .item("pk", A::S("SUBprivacytest0001".into()))
        .item("name", A::S("Sam".into()))
        .item("email", A::S("sam@example.com".into()))
        .item("message", A::S("call me".into()))
        .item("phone", A::S(CALLER.into()))
        .item(
            "expires_at",
            A::N((telephony_aws::now_secs() + 86_400).to_string()),
        )
        .send()
        .await
        .unwrap();
}

#[tokio::test]
async fn a_callers_data_is_exported_then_erased_and_the_opt_out_survives() {
    let r = relay_stack(&[], "en-CA").await;
    let s = r.stack;
    a_caller_with_everything(&r).await;

    let (status, ex) = request(s, "export", "export-1", json!({"number": CALLER})).await;
    assert_eq!(status, 200, "{ex}");
    for kind in [
        "call",
        "recording",
        "recording_audio",
        "consent_proof",
        "conversation",
        "tool_call",
        "message",
        "whatsapp_message",
        "media",
        "contact",
        "submission",
        "reply_window",
        "opt_out",
    ] {
        assert!(count(&ex, kind) >= 1, "{kind} missing: {}", ex["counts"]);
    }
    assert_eq!(count(&ex, "call"), 2, "{}", ex["counts"]);
    assert_eq!(count(&ex, "message"), 3, "{}", ex["counts"]);
    let items = ex["export"]["items"].as_array().unwrap();
    assert!(items
        .iter()
        .all(|i| i["item"].is_object() && i["kind"].is_string()));
    assert!(items
        .iter()
        .any(|i| i["kind"] == "message" && i["item"]["body"] == "the leak"));
    assert!(items
        .iter()
        .filter(|i| i["kind"] == "call")
        .all(|i| i["expires_at"].as_u64().is_some()));
    let media = ex["export"]["media"].as_array().unwrap();
    assert!(media.iter().all(|m| m["url"]
        .as_str()
        .is_some_and(|u| u.contains("X-Amz-Signature="))));
    // The presigned link really serves the voicemail.
    let audio = media
        .iter()
        .find(|m| m["kind"] == "recording_audio")
        .unwrap();
    let got = reqwest::get(audio["url"].as_str().unwrap()).await.unwrap();
    assert_eq!(got.status(), 200);
    assert_eq!(got.bytes().await.unwrap().as_ref(), s.wav.as_slice());

    // A dry run counts and changes nothing.
    let (_, dry) = request(
        s,
        "erase",
        "dry-1",
        json!({"number": CALLER, "dry_run": true}),
    )
    .await;
    assert_eq!(dry["counts"], ex["counts"]);
    assert_eq!(dry["status"], "dry_run");
    let (_, again) = request(s, "find", "find-1", json!({"number": CALLER})).await;
    assert_eq!(again["counts"], ex["counts"]);

    // A crash half-way, then the retry finishes with the same counts.
    let now = telephony_aws::now_secs();
    let crashed =
        privacy::serve(&s.deps, &ask(Action::Erase, "erase-1", false), now, Some(5)).await;
    assert!(
        matches!(crashed, Err(PrivacyError::Interrupted { done: 5, .. })),
        "{crashed:?}"
    );
    let (status, erased) = request(s, "erase", "erase-1", json!({"number": CALLER})).await;
    assert_eq!(status, 200, "{erased}");
    assert_eq!(erased["status"], "done");
    assert_eq!(erased["counts"], ex["counts"]);
    // And once more: the same answer, nothing left to do.
    let (_, twice) = request(s, "erase", "erase-1", json!({"number": CALLER})).await;
    assert_eq!(twice["counts"], ex["counts"]);

    // Nothing is found any more: the consent proofs stay for their retention, without the
    // caller's number (so no longer linked to it).
    let (_, after) = request(s, "export", "export-2", json!({"number": CALLER})).await;
    assert_eq!(after["counts"], json!({}), "{after}");
    let calls = s
        .deps
        .dynamo()
        .scan()
        .table_name(&s.resources["CallsTable"])
        .send()
        .await
        .unwrap();
    let proofs: Vec<_> = calls
        .items()
        .iter()
        .filter(|i| attr_s(i, "kind").as_deref() == Some("consent_proof"))
        .collect();
    assert_eq!(proofs.len() as u64, count(&ex, "consent_proof"));
    for p in &proofs {
        assert!(p.get("caller").is_none(), "{p:?}");
        assert_eq!(attr_s(p, "consent").as_deref(), Some("yes"));
    }
    assert!(!calls
        .items()
        .iter()
        .any(|i| attr_s(i, "from").as_deref() == Some(CALLER)));
    assert!(s3_keys(s, "recordings/").await.is_empty());
    assert!(s3_keys(s, "media/").await.is_empty());

    // The opt-out survives: no reply to a text, and the suppression entry names no number.
    let reply = text_message(s, CALLER, HOTLINE, "are you open?").await;
    assert!(!reply.contains("<Message"), "{reply}");
    let sup = telephony_core::privacy::suppression_key(SUPPRESSION_SECRET.as_bytes(), CALLER);
    let opt_outs = s
        .deps
        .dynamo()
        .scan()
        .table_name(&s.resources["OptOutsTable"])
        .send()
        .await
        .unwrap();
    let keys: Vec<String> = opt_outs
        .items()
        .iter()
        .filter_map(|i| attr_s(i, "pk"))
        .collect();
    assert_eq!(keys, [sup]);

    // A new call works as usual.
    let vm = play(s, &script(s, &[Some("1"), Some("1")], "no-answer", 5)).await;
    assert_eq!(vm.ended, "hangup", "{vm:#?}");
    assert_eq!(s3_keys(s, "recordings/").await.len(), 1);

    // The audit: who, what, when, the number masked.
    let audit = privacy::request(&s.deps, erased["request_id"].as_str().unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(audit["status"], "done");
    assert_eq!(audit["action"], "erase");
    assert_eq!(audit["counts"], ex["counts"]);
    assert_eq!(
        audit["principal"],
        "arn:aws:iam::123456789012:user/privacy-officer"
    );
    assert!(!audit.to_string().contains(&CALLER[2..]), "{audit}");
    let ttl = audit["expires_at"].as_u64().unwrap() - audit["created_at"].as_u64().unwrap();
    assert_eq!(ttl, telephony_core::privacy::AUDIT_RETENTION_SECS);

    // A key reused for another request is refused.
    let (status, v) = request(s, "erase", "erase-1", json!({"number": "+12025550188"})).await;
    assert_eq!(status, 409, "{v}");
}

#[tokio::test]
async fn an_org_scope_sees_only_calls_and_texts_to_its_own_numbers() {
    let s = stack(&[]).await;
    let (ours, theirs) = ("+15875550121", "+15875550122");
    for (e164, org) in [(ours, "acme"), (theirs, "globex")] {
        s.deps
            .dynamo()
            .put_item()
            .table_name(&s.resources["NumbersTable"])
            .item("e164", A::S(e164.into()))
            .item("org_id", A::S(org.into()))
            .item("business_name", A::S(org.into()))
            .send()
            .await
            .unwrap();
    }
    text_message(&s, CALLER, ours, "hello acme").await;
    text_message(&s, CALLER, theirs, "hello globex").await;
    let (_, acme) = request(&s, "find", "a1", json!({"number": CALLER, "org": "acme"})).await;
    assert_eq!(count(&acme, "message"), 1, "{acme}");
    assert_eq!(acme["scope"], "acme");
    // An org's erasure leaves the other org's texts and the stack-wide opt-outs alone.
    let (status, erased) =
        request(&s, "erase", "a2", json!({"number": CALLER, "org": "acme"})).await;
    assert_eq!(status, 200, "{erased}");
    let (_, all) = request(&s, "find", "p1", json!({"number": CALLER})).await;
    assert_eq!(count(&all, "message"), 1, "{all}");
    let (_, export) = request(&s, "export", "p2", json!({"number": CALLER})).await;
    assert_eq!(
        export["export"]["items"][0]["item"]["body"], "hello globex",
        "{export}"
    );
    // Bad input is refused with a clear error.
    let (status, v) = request(&s, "erase", "a3", json!({"number": "+1202"})).await;
    assert_eq!(
        (status, v["error"]["code"].as_str()),
        (400, Some("invalid_number"))
    );
    let (status, v) = json_api::privacy::answer(
        &s.deps,
        "erase",
        json!({"number": CALLER}).to_string().as_bytes(),
        None,
        json_api::privacy::Asker::Operator,
        "ops",
        telephony_aws::now_secs(),
    )
    .await
    .unwrap_or_else(json_api::ApiError::into_pair);
    assert_eq!(
        (status.as_u16(), v["error"]["code"].as_str()),
        (400, Some("idempotency_key_required"))
    );
}
