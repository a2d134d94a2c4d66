//! The repo's artifacts agree with the code: every sample event passes signature validation and
//! gets its expected reply; template.yaml and the local router serve exactly the routes the code
//! builds callback URLs for.

use integration_tests::*;
use std::collections::BTreeSet;
use telephony_core::Route;

fn expected_status(name: &str) -> u16 {
    match name {
        "voice-recording-callback"
        | "voice-transcription-callback"
        | "voice-status"
        | "voice-stream-status"
        | "webcomms-sms-status" => 204,
        _ => 200,
    }
}

#[tokio::test]
async fn events_pass_signature_validation_and_get_their_expected_status() {
    let s = stack(&[]).await;
    let dir = repo_root().join("events");
    let mut seen = BTreeSet::new();
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().and_then(|e| e.to_str()) != Some("json") {
            continue;
        }
        let name = path.file_stem().unwrap().to_str().unwrap().to_owned();
        let json = std::fs::read_to_string(&path).unwrap();
        if name.starts_with("telephony-monitor") {
            let v: serde_json::Value = serde_json::from_str(&json).unwrap();
            assert_eq!(v["detail-type"], "Scheduled Event");
            continue;
        }
        let req = telephony_aws::event::request_from_event(serde_json::from_str(&json).unwrap())
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        seen.insert(req.uri().path().to_owned());
        if name.starts_with("ops-api") {
            let req =
                telephony_aws::event::request_from_event(serde_json::from_str(&json).unwrap())
                    .unwrap_or_else(|e| panic!("{name}: {e}"));
            let reply = to_reply(dispatch(&s.deps, req).await);
            assert_eq!(reply.status, 200, "{name}: {reply:?}");
            continue;
        }
        if name.starts_with("contact-submit") {
            let settings = contact_submit::Settings {
                origin: "http://127.0.0.1:8080".into(),
                table: s.resources["SubmissionsTable"].clone(),
                sender: "noreply@tradeline247.ca".into(),
                staff: "support@tradeline247.ca".into(),
                ses: aws_sdk_sesv2::Client::new(&sdk_config(moto_endpoint()).await),
            };
            let reply = to_reply(
                contact_submit::handle(
                    &integration_tests::narrow(&s.deps, &contact_submit::NEEDS),
                    &settings,
                    req,
                )
                .await,
            );
            assert_eq!(reply.status, 202, "{name}: {reply:?}");
            continue;
        }
        let function = Route::ALL
            .iter()
            .find(|r| name.starts_with(r.function_name()))
            .expect("event named after its function");
        let reply = to_reply(dispatch(&s.deps, req).await);
        assert_eq!(
            reply.status,
            expected_status(function.function_name()),
            "{name}: {reply:?}"
        );
        if reply.body.starts_with("<?xml") {
            let parsed = verbs(&reply.body);
            let messaging = function.function_name().starts_with("webcomms");
            assert!(messaging || !parsed.is_empty(), "{name}");
        }
        if name == "webcomms-sms-reply-legacy" {
            assert!(
                reply.body.contains("<Message>") && reply.body.contains("Reply STOP to opt out."),
                "{}",
                reply.body
            );
        }
        if name == "voice-menu-handler" {
            assert!(
                reply.body.contains(&format!(">{SALES}</Number>")),
                "{}",
                reply.body
            );
        }
    }
    let all: BTreeSet<String> = Route::ALL
        .iter()
        .flat_map(|r| std::iter::once(r.path()).chain(r.aliases().iter().copied()))
        .map(str::to_owned)
        .collect();
    let seen: BTreeSet<String> = seen
        .into_iter()
        .filter(|p| {
            !p.starts_with("/ops/") && !p.starts_with("/forwarding/") && p != "/contact-submit"
        })
        .collect();
    assert_eq!(seen, all, "one event per route and alias at least");
}

/// `(path, method)` pairs of the HttpApi events in template.yaml, read as text.
fn template_routes() -> BTreeSet<(String, String)> {
    let text = std::fs::read_to_string(repo_root().join("template.yaml")).unwrap();
    let mut routes = BTreeSet::new();
    let mut path: Option<String> = None;
    for line in text.lines().map(str::trim) {
        if let Some(p) = line.strip_prefix("Path: ") {
            path = Some(p.to_owned());
        } else if let (Some(m), Some(p)) = (line.strip_prefix("Method: "), path.take()) {
            routes.insert((p, m.to_owned()));
        }
    }
    routes
}

#[test]
fn template_declares_exactly_the_routes_the_code_uses() {
    let want: BTreeSet<(String, String)> = Route::ALL
        .iter()
        .flat_map(|r| {
            std::iter::once(r.path())
                .chain(r.aliases().iter().copied())
                .map(|p| (p.to_owned(), r.method().to_owned()))
        })
        .collect();
    use json_api::route::pairs;
    let ops: BTreeSet<(String, String)> = pairs(ops_api::ROUTES)
        .chain(pairs(ops_provisioning::ROUTES))
        .chain(pairs(contact_submit::ROUTES))
        .chain(pairs(voice_action::ROUTES))
        .chain(pairs(forwarding_api::ROUTES))
        .map(|(m, p)| (p.to_string(), m.to_string()))
        .collect();
    let want: BTreeSet<_> = want.union(&ops).cloned().collect();
    assert_eq!(template_routes(), want);
    let text = std::fs::read_to_string(repo_root().join("template.yaml")).unwrap();
    for r in Route::ALL {
        assert!(
            text.contains(&format!("Binary: {}", r.function_name())),
            "{} is built by SAM",
            r.function_name()
        );
        assert!(repo_root()
            .join("functions")
            .join(r.function_name())
            .join("src/main.rs")
            .exists());
    }
}

#[test]
fn local_router_serves_every_route_with_its_function() {
    let cargo = std::fs::read_to_string(repo_root().join("Cargo.toml")).unwrap();
    let section = cargo
        .split("[workspace.metadata.lambda.watch.router]")
        .nth(1)
        .expect("router section");
    for r in Route::ALL {
        assert!(
            section.contains(&format!("\"{}\" = \"{}\"", r.path(), r.function_name())),
            "{}",
            r.path()
        );
    }
}
