//! English and French, speech input (issue 14): whole calls through every webhook against moto,
//! played by the simulator as Twilio would (keys, or `SpeechResult` with its `Confidence`).

use integration_tests::*;
use telephony_core::prompts::{EN, FR};

fn says_in(log: &call_simulator::CallLog) -> Vec<(String, String)> {
    // (language attribute, text) of every <Say> of every TwiML reply.
    let mut out = Vec::new();
    for step in log.twiml_replies() {
        for part in step.reply.body.split("<Say ").skip(1) {
            let lang = part
                .split("language=\"")
                .nth(1)
                .and_then(|r| r.split('"').next())
                .unwrap_or("")
                .to_owned();
            let text = part
                .split_once('>')
                .map(|(_, r)| r.split("</Say>").next().unwrap_or("").to_owned())
                .unwrap_or_default();
            out.push((lang, text));
        }
    }
    out
}

fn heard(log: &call_simulator::CallLog, text: &str) -> usize {
    log.heard.iter().filter(|h| h.contains(text)).count()
}

#[tokio::test]
async fn a_caller_who_presses_8_hears_the_whole_call_in_french() {
    let s = stack(&[]).await;
    // 8 at the greeting, 1 (consent), 1 (sales), nobody answers, a voicemail.
    let sc = script(&s, &[Some("8"), Some("1"), Some("1")], "no-answer", 7);
    let log = play(&s, &sc).await;
    assert_eq!(log.ended, "hangup", "{log:#?}");
    assert_eq!(log.dialled, vec![SALES.to_owned()]);
    // After the greeting (heard before the choice), everything is French but the offer of
    // English.
    let mut after = log.clone();
    after.steps.remove(0);
    let says = says_in(&after);
    assert!(says.len() >= 5, "{says:#?}");
    assert!(
        says.iter()
            .all(|(l, t)| l == "fr-CA" || t == "For English, press 8."),
        "{says:#?}"
    );
    for text in [
        FR.connecting_sales,
        FR.nobody_available,
        FR.voicemail_thanks,
    ] {
        assert_eq!(heard(&log, text), 1, "{text}: {:?}", log.heard);
    }
    // Every callback after the switch carried the language.
    assert!(log
        .steps
        .iter()
        .filter(|st| st.url.contains("voice-menu-handler") || st.url.contains("voice-voicemail"))
        .all(|st| st.url.contains("lang=fr")));
    let item = call_item(&s, &sc.call_sid).await;
    assert_eq!(attr_s(&item, "language").as_deref(), Some("fr"));
    assert_eq!(attr_s(&item, "consent").as_deref(), Some("yes"));
}

#[tokio::test]
async fn spoken_oui_consents_and_ventes_reaches_sales() {
    let s = stack(&[]).await;
    let sc = script(
        &s,
        &[Some("8"), Some("say:oui"), Some("say:ventes")],
        "completed",
        0,
    );
    let log = play(&s, &sc).await;
    assert_eq!(log.dialled, vec![SALES.to_owned()], "{log:#?}");
    let item = call_item(&s, &sc.call_sid).await;
    assert_eq!(attr_s(&item, "consent").as_deref(), Some("yes"));
    assert_eq!(attr_s(&item, "menu_choice").as_deref(), Some("sales"));
    // The gathers asked for speech in French with French hints.
    assert!(log
        .steps
        .iter()
        .any(|st| st.reply.body.contains(r#"input="dtmf speech""#)
            && st
                .reply
                .body
                .contains(r#"language="fr-CA" hints="oui, non, ventes, soutien, messagerie""#)));
}

#[tokio::test]
async fn maybe_or_an_unsure_yes_does_not_consent() {
    let s = stack(&[]).await;
    for answer in ["say:maybe", "say:yes@0.3", "say:no thanks"] {
        let sc = script(&s, &[Some(answer), Some("say:support")], "completed", 0);
        let log = play(&s, &sc).await;
        assert_eq!(log.dialled, vec![SUPPORT.to_owned()], "{answer}: {log:#?}");
        assert_eq!(
            log.dial_records,
            vec![None],
            "{answer}: recorded without consent"
        );
        let item = s
            .deps
            .calls()
            .raw_item(&sc.call_sid)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(attr_s(&item, "consent").as_deref(), Some("no"), "{answer}");
    }
}

#[tokio::test]
async fn eight_in_the_menu_switches_and_the_choice_sticks_to_voicemail() {
    let s = stack(&[]).await;
    // Consent in English, 8 in the menu, then 9: voicemail in French.
    let sc = script(&s, &[Some("2"), Some("8"), Some("9")], "no-answer", 5);
    let log = play(&s, &sc).await;
    assert_eq!(heard(&log, EN.menu_speech), 1, "{:?}", log.heard);
    assert_eq!(heard(&log, FR.menu_speech), 1, "{:?}", log.heard);
    assert_eq!(heard(&log, FR.voicemail_thanks), 1, "{:?}", log.heard);
    assert_eq!(heard(&log, EN.voicemail_thanks), 0);
}

#[tokio::test]
async fn a_french_number_answers_in_french_and_texts_help_in_french() {
    let s = stack(&[]).await;
    put_number(&s, "+15145550100", "Plomberie Acme", "fr-CA").await;
    let mut sc = script(&s, &[Some("2"), Some("9")], "no-answer", 5);
    sc.to = "+15145550100".into();
    let log = play(&s, &sc).await;
    let says = says_in(&log);
    assert!(
        says[0]
            .1
            .starts_with("Merci d&apos;avoir appelé Plomberie Acme"),
        "{says:#?}"
    );
    assert!(says
        .iter()
        .filter(|(l, _)| l != "fr-CA")
        .all(|(_, t)| t == "For English, press 8."));
    let help = text_message(&s, "+16475550999", "+15145550100", "AIDE").await;
    assert!(
        help.contains("pour de l&apos;aide, appelez-nous au +15145550100"),
        "{help}"
    );
}

async fn put_number(s: &Stack, e164: &str, business: &str, language: &str) {
    use aws_sdk_dynamodb::types::AttributeValue as A;
    s.deps
        .dynamo()
        .put_item()
        .table_name(&s.resources["NumbersTable"])
        .item("e164", A::S(e164.into()))
        .item("business_name", A::S(business.into()))
        .item("language", A::S(language.into()))
        .item("sales_target", A::S(SALES.into()))
        .item("support_target", A::S(SUPPORT.into()))
        .send()
        .await
        .unwrap();
}

async fn call_item(
    s: &Stack,
    sid: &str,
) -> std::collections::HashMap<String, aws_sdk_dynamodb::types::AttributeValue> {
    s.deps
        .calls()
        .raw_item(sid)
        .await
        .unwrap()
        .expect("call record")
}

/// A number with business hours (attributes as the config route writes them).
async fn put_hours(s: &Stack, e164: &str, attrs: &[(&str, &str)]) {
    use aws_sdk_dynamodb::types::AttributeValue as A;
    let mut put = s
        .deps
        .dynamo()
        .put_item()
        .table_name(&s.resources["NumbersTable"])
        .item("e164", A::S(e164.into()))
        .item("business_name", A::S("Acme Plumbing".into()))
        .item("language", A::S("en-CA".into()))
        .item("sales_target", A::S(SALES.into()))
        .item("support_target", A::S(SUPPORT.into()));
    for (k, v) in attrs {
        put = put.item(*k, A::S((*v).into()));
    }
    put.send().await.unwrap();
}

#[tokio::test]
async fn after_hours_and_closure_days_go_to_voicemail_with_their_message() {
    let s = stack(&[]).await;
    // No day listed: always after hours.
    // "" hours: no hours set, always open.
    put_hours(
        &s,
        "+15875550161",
        &[("timezone", "America/Edmonton"), ("hours", "")],
    )
    .await;
    // Open all day every day, but closed today (an operator's closure on today's local date).
    let today = chrono::Utc::now()
        .with_timezone(&chrono_tz::America::Edmonton)
        .date_naive()
        .to_string();
    put_hours(
        &s,
        "+15875550162",
        &[
            ("timezone", "America/Edmonton"),
            ("hours", "mon-sun 00:00-00:00"),
            ("closures", &today),
        ],
    )
    .await;
    let weekday = chrono::Utc::now()
        .with_timezone(&chrono_tz::America::Edmonton)
        .format("%a")
        .to_string()
        .to_lowercase();
    // Open one minute a day, at a minute that is not now: after hours.
    let now_minute = chrono::Utc::now().with_timezone(&chrono_tz::America::Edmonton);
    let other = (chrono::Timelike::hour(&now_minute) + 12) % 24;
    let closed_hours = format!("{weekday} {other:02}:00-{other:02}:01");
    put_hours(
        &s,
        "+15875550163",
        &[("timezone", "America/Edmonton"), ("hours", &closed_hours)],
    )
    .await;
    put_hours(
        &s,
        "+15875550164",
        &[
            ("timezone", "America/Edmonton"),
            ("hours", &closed_hours),
            ("after_hours_target", "+14035550199"),
        ],
    )
    .await;

    // Always open ("" hours): the menu as usual.
    let mut sc = script(&s, &[Some("1"), Some("1")], "completed", 0);
    sc.to = "+15875550161".into();
    let log = play(&s, &sc).await;
    assert_eq!(log.dialled, vec![SALES.to_owned()], "{:?}", log.heard);

    // A closure day: the closed-today message, straight to voicemail after consent.
    let mut sc = script(&s, &[Some("1")], "no-answer", 5);
    sc.to = "+15875550162".into();
    let log = play(&s, &sc).await;
    assert_eq!(
        heard(&log, "Acme Plumbing is closed today."),
        1,
        "{:?}",
        log.heard
    );
    assert_eq!(heard(&log, EN.menu_speech), 0);
    assert!(log.dialled.is_empty());
    assert!(log
        .steps
        .iter()
        .any(|st| st.url.contains("reason=closed_today")));
    assert_eq!(heard(&log, EN.voicemail_thanks), 1);

    // After hours: the after-hours message and voicemail.
    let mut sc = script(&s, &[Some("2")], "no-answer", 5);
    sc.to = "+15875550163".into();
    let log = play(&s, &sc).await;
    assert_eq!(
        heard(&log, "Acme Plumbing is closed right now."),
        1,
        "{:?}",
        log.heard
    );
    assert!(log
        .steps
        .iter()
        .any(|st| st.url.contains("reason=after_hours")));

    // After hours with an after-hours line: it is rung, without recording (no consent).
    let mut sc = script(&s, &[Some("2")], "completed", 0);
    sc.to = "+15875550164".into();
    let log = play(&s, &sc).await;
    assert_eq!(
        log.dialled,
        vec!["+14035550199".to_owned()],
        "{:?}",
        log.heard
    );
    assert_eq!(log.dial_records, vec![None]);
}

async fn contact_route(
    s: &Stack,
    method: &str,
    caller: &str,
    body: Option<&str>,
) -> (u16, serde_json::Value) {
    let path = format!("/ops/contacts/default/{}", caller.replace('+', "%2B"));
    let req = ops_request_with(
        method,
        &path,
        Some("arn:aws:iam::123456789012:user/operator"),
        &[],
        body,
    );
    let r = to_reply(dispatch(&s.deps, req).await);
    (r.status, serde_json::from_str(&r.body).unwrap_or_default())
}

#[tokio::test]
async fn a_known_caller_is_welcomed_back_by_name_in_their_language() {
    let s = stack(&[]).await;
    let mut sc = script(&s, &[Some("2"), Some("9")], "no-answer", 3);
    let caller = sc.from.clone();
    // Bad input first: nothing stored.
    let (status, _) = contact_route(&s, "PUT", &caller, Some(r#"{"first_name":""}"#)).await;
    assert_eq!(status, 400);
    let (status, body) = contact_route(
        &s,
        "PUT",
        &caller,
        Some(r#"{"first_name":"Sam","language":"fr","retention_days":30}"#),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let log = play(&s, &sc).await;
    assert!(
        log.heard[0].starts_with("Bon retour, Sam. Merci d'avoir appelé"),
        "{:?}",
        log.heard
    );
    assert_eq!(heard(&log, FR.voicemail_thanks), 1, "{:?}", log.heard);

    // Deleted (a privacy request): the normal greeting again.
    let (status, _) = contact_route(&s, "DELETE", &caller, None).await;
    assert_eq!(status, 200);
    let (status, _) = contact_route(&s, "GET", &caller, None).await;
    assert_eq!(status, 404);
    sc.call_sid = format!("{}1", &sc.call_sid[..33]);
    let log = play(&s, &sc).await;
    assert!(
        log.heard[0].starts_with("Thank you for calling"),
        "{:?}",
        log.heard
    );
}

#[tokio::test]
async fn a_failed_contact_lookup_gives_the_normal_greeting() {
    let s = stack(&[("CONTACTS_TABLE", "no-such-table")]).await;
    let sc = script(&s, &[Some("2"), Some("9")], "no-answer", 3);
    let log = play(&s, &sc).await;
    assert!(
        log.heard[0].starts_with("Thank you for calling"),
        "{:?}",
        log.heard
    );
    assert_eq!(log.ended, "hangup");
}

#[tokio::test]
async fn a_missed_call_gets_one_text_and_never_an_opted_out_caller() {
    use integration_tests::scripted;
    let twilio = scripted::start(Some(prism::api_v2010().base_url.clone()), vec![]).await;
    let s = stack(&[("TWILIO_API_BASE", twilio.base_url.as_str())]).await;
    put_hours(&s, "+15875550181", &[("missed_call_text", "true")]).await;
    put_hours(&s, "+15875550182", &[]).await;
    let texts = || twilio.count("POST", "/Messages.json");

    // No consent, silence twice in the menu, hangs up at the beep: nobody reached, no message.
    let mut sc = script(&s, &[Some("2"), None, None], "no-answer", 0);
    sc.to = "+15875550181".into();
    let log = play(&s, &sc).await;
    assert_eq!(log.ended, "hangup", "{log:#?}");
    assert_eq!(
        texts(),
        1,
        "{:?} {:?}",
        twilio.log.lock().unwrap(),
        log.steps
            .iter()
            .map(|s| (&s.url, s.reply.status))
            .collect::<Vec<_>>()
    );
    // Twilio retries the final callback: nothing more; a second missed call today: nothing more.
    let final_status = log
        .steps
        .iter()
        .rev()
        .find(|st| st.url.ends_with("/voice-status"))
        .unwrap()
        .clone();
    let again = post_signed(&s.deps, &final_status.url, &final_status.params).await;
    assert!(again.status < 300, "{again:?}");
    let mut second = script(&s, &[Some("2"), None, None], "no-answer", 0);
    second.to = "+15875550181".into();
    second.from = sc.from.clone();
    play(&s, &second).await;
    assert_eq!(texts(), 1);

    // Left a voicemail, or the number's switch is off: no text.
    let mut vm = script(&s, &[Some("2"), Some("9")], "no-answer", 5);
    vm.to = "+15875550181".into();
    play(&s, &vm).await;
    let mut off = script(&s, &[Some("2"), None, None], "no-answer", 0);
    off.to = "+15875550182".into();
    play(&s, &off).await;
    assert_eq!(texts(), 1);

    // An opted-out caller is never texted.
    let mut opted = script(&s, &[Some("2"), None, None], "no-answer", 0);
    opted.to = "+15875550181".into();
    text_message(&s, &opted.from, "+15875550181", "STOP").await;
    play(&s, &opted).await;
    assert_eq!(texts(), 1);
}

/// Issue 22 §10: the A2P gate is the only rule for missed-call texts: a US long code texts once its
/// org is approved (and not before), a toll-free number always.
#[tokio::test]
async fn missed_call_texts_go_out_from_us_numbers_after_a2p_and_from_toll_free() {
    use aws_sdk_dynamodb::types::AttributeValue as A;
    use integration_tests::scripted;
    let twilio = scripted::start(Some(prism::api_v2010().base_url.clone()), vec![]).await;
    let s = stack(&[("TWILIO_API_BASE", twilio.base_url.as_str())]).await;
    let texts = || twilio.count("POST", "/Messages.json");
    put_hours(
        &s,
        "+12125550181",
        &[("missed_call_text", "true"), ("org_id", "nyc")],
    )
    .await;
    put_hours(
        &s,
        "+18885550181",
        &[("missed_call_text", "true"), ("org_id", "nyc")],
    )
    .await;
    let missed = |to: &str| {
        let mut sc = script(&s, &[Some("2"), None, None], "no-answer", 0);
        sc.to = to.into();
        sc
    };
    // Not approved yet: the US long code sends nothing; toll-free sends.
    play(&s, &missed("+12125550181")).await;
    assert_eq!(texts(), 0);
    play(&s, &missed("+18885550181")).await;
    assert_eq!(texts(), 1);
    // Approved: the US long code sends.
    s.deps
        .dynamo()
        .put_item()
        .table_name(&s.resources["ComplianceTable"])
        .item("pk", A::S("a2p#nyc".into()))
        .item("us_enabled", A::S("true".into()))
        .item("a2p_status", A::S("approved".into()))
        .send()
        .await
        .unwrap();
    play(&s, &missed("+12125550181")).await;
    assert_eq!(texts(), 2, "{:?}", twilio.log.lock().unwrap());
}
