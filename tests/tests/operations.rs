//! Operations: monitor gauges after scripted calls, the IAM-gated ops API, and the agreement of
//! the dashboard and alarms with the metrics the code emits.

use integration_tests::*;
use std::collections::BTreeSet;

const OPERATOR: &str = "arn:aws:iam::123456789012:user/operator";

async fn ops_json(s: &Stack, method: &str, path: &str) -> (u16, serde_json::Value) {
    let r = to_reply(dispatch(&s.deps, ops_request(method, path, Some(OPERATOR))).await);
    (
        r.status,
        serde_json::from_str(&r.body).unwrap_or(serde_json::Value::Null),
    )
}

#[tokio::test]
async fn monitor_publishes_backlog_active_calls_and_rates_after_scripted_calls() {
    let s = stack(&[]).await;
    // Three voicemails (consent yes, no answer), one of them acknowledged.
    for _ in 0..3 {
        let log = play(&s, &script(&s, &[Some("1"), Some("1")], "no-answer", 5)).await;
        assert_eq!(log.ended, "hangup");
    }
    // One declined call that is still ringing along (no final status): active.
    let open = script(&s, &[], "completed", 0);
    post_signed(
        &s.deps,
        &format!("{PUBLIC_BASE_URL}/voice-frontdoor"),
        &pairs(&[
            ("CallSid", &open.call_sid),
            ("From", CALLER),
            ("To", HOTLINE),
        ]),
    )
    .await;
    let mut consent = pairs(&[
        ("CallSid", &open.call_sid),
        ("From", CALLER),
        ("To", HOTLINE),
        ("Digits", "2"),
    ]);
    post_signed(
        &s.deps,
        &format!("{PUBLIC_BASE_URL}/voice-consent"),
        &consent,
    )
    .await;
    consent.clear();

    let (status, listed) = ops_json(&s, "GET", "/ops/voicemails?status=new").await;
    assert_eq!(status, 200);
    assert_eq!(listed["count"], 3, "{listed}");
    let first = listed["voicemails"][0]["recording_sid"]
        .as_str()
        .unwrap()
        .to_owned();
    let (status, acked) = ops_json(&s, "POST", &format!("/ops/voicemails/{first}/ack")).await;
    assert_eq!((status, acked["status"].as_str()), (200, Some("acked")));
    let (status, again) = ops_json(&s, "POST", &format!("/ops/voicemails/{first}/ack")).await;
    assert_eq!(
        (status, again["status"].as_str()),
        (200, Some("already_acked")),
        "acknowledging is idempotent"
    );

    let out = telephony_monitor::handler(&integration_tests::narrow(
        &s.deps,
        &telephony_monitor::NEEDS,
    ))
    .await
    .expect("monitor run");
    let g = &out["gauges"];
    assert_eq!(g["voicemail_backlog"], 2, "{out}");
    assert_eq!(g["voicemail_backlog_over_24h"], 0);
    assert_eq!(g["active_calls"], 1, "{out}");
    // 3 consented + 1 declined; 3 calls completed (the open one has no final status yet).
    assert!(
        (g["consent_rate_24h"].as_f64().unwrap() - 0.75).abs() < 1e-9,
        "{out}"
    );
    assert_eq!(g["call_success_rate_24h"], 1.0);
    assert_eq!(out["healthy"], true);

    let (status, summary) = ops_json(&s, "GET", "/ops/metrics/summary").await;
    assert_eq!(status, 200);
    assert_eq!(summary["voicemail_backlog"]["new"], 2);
    assert_eq!(summary["active_calls"]["count"], 1);
    assert_eq!(summary["windows"]["24h"]["calls"], 4);
    assert_eq!(summary["windows"]["1h"]["consent"]["given"], 3);
    let (status, active) = ops_json(&s, "GET", "/ops/calls/active").await;
    assert_eq!((status, active["count"].as_u64()), (200, Some(1)));
    assert_eq!(
        active["calls"][0]["from"], "+1***0143",
        "numbers are masked"
    );
}

#[tokio::test]
async fn ops_api_refuses_requests_without_an_iam_principal() {
    let s = stack(&[]).await;
    for (method, path) in [
        ("GET", "/ops/calls/active"),
        ("GET", "/ops/voicemails"),
        (
            "POST",
            "/ops/voicemails/RE0123456789abcdef0123456789abcdef/ack",
        ),
        ("GET", "/ops/metrics/summary"),
    ] {
        let r = to_reply(dispatch(&s.deps, ops_request(method, path, None)).await);
        assert_eq!(r.status, 403, "{method} {path}");
        let r = to_reply(dispatch(&s.deps, ops_request(method, path, Some(OPERATOR))).await);
        assert_ne!(r.status, 403, "{method} {path}: {}", r.body);
    }
    let (status, _) = ops_json(
        &s,
        "POST",
        "/ops/voicemails/RE0123456789abcdef0123456789abcdef/ack",
    )
    .await;
    assert_eq!(status, 404, "unknown voicemail");
    let (status, _) = ops_json(&s, "POST", "/ops/voicemails/not-a-sid/ack").await;
    assert_eq!(status, 400);
    let (status, _) = ops_json(&s, "GET", "/ops/voicemails?status=lost").await;
    assert_eq!(status, 400);
}

/// Every `.rs` file under `dir`, submodule directories included (`privacy/find.rs`).
fn rust_files(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(rust_files(&path));
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
    out
}

/// Metric names the code emits: the string literal passed to `metrics::count(` /
/// `metrics::gauge(` / `metrics::measure(`.
fn emitted_metrics() -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    let mut dirs: Vec<_> = std::fs::read_dir(repo_root().join("functions"))
        .unwrap()
        .map(|e| e.unwrap().path().join("src"))
        .collect();
    dirs.push(repo_root().join("shared/telephony-aws/src"));
    dirs.push(repo_root().join("shared/provisioning/src"));
    dirs.push(repo_root().join("shared/json-api/src"));
    for dir in dirs {
        for file in rust_files(&dir) {
            let text = std::fs::read_to_string(file).unwrap();
            for call in ["count(", "count_by(", "gauge(", "measure("] {
                for (i, _) in text.match_indices(call) {
                    let rest = text[i + call.len()..].trim_start();
                    if let Some(lit) = rest.strip_prefix('"') {
                        names.insert(lit[..lit.find('"').unwrap()].to_owned());
                    }
                }
            }
        }
    }
    names
}

/// Metric names of namespace TradeLine/Telephony that template.yaml's dashboard and alarms use.
fn template_metrics() -> (BTreeSet<String>, BTreeSet<String>) {
    let text = std::fs::read_to_string(repo_root().join("template.yaml")).unwrap();
    let dashboard = text
        .match_indices("\"TradeLine/Telephony\",")
        .map(|(i, m)| {
            let rest = text[i + m.len()..].trim_start().trim_start_matches('"');
            rest[..rest.find('"').unwrap()].to_owned()
        })
        .collect();
    let lines: Vec<&str> = text.lines().map(str::trim).collect();
    let alarms = lines
        .windows(2)
        .filter(|w| w[0] == "Namespace: TradeLine/Telephony")
        .filter_map(|w| w[1].strip_prefix("MetricName: ").map(str::to_owned))
        .collect();
    (dashboard, alarms)
}

#[test]
fn dashboard_and_alarms_use_exactly_the_emitted_metrics() {
    let emitted = emitted_metrics();
    let (dashboard, alarms) = template_metrics();
    assert!(emitted.len() > 20, "{emitted:?}");
    let unknown_alarms: Vec<_> = alarms.difference(&emitted).collect();
    assert!(
        unknown_alarms.is_empty(),
        "alarms on metrics nobody emits: {unknown_alarms:?}"
    );
    let unknown: Vec<_> = dashboard.difference(&emitted).collect();
    assert!(
        unknown.is_empty(),
        "dashboard metrics nobody emits: {unknown:?}"
    );
    let unshown: Vec<_> = emitted.difference(&dashboard).collect();
    assert!(
        unshown.is_empty(),
        "emitted metrics missing from the dashboard: {unshown:?}"
    );
    for seed in [
        "CallsCompleted",
        "CallsFailed",
        "VoicemailBacklog",
        "CallsRateLimited",
        "SmsDelivered",
        "HealthCheckFailed",
        "DependencyErrors",
        "CallDuration",
        "StreamHandshakeMs",
        "StreamFallbacks",
    ] {
        assert!(alarms.contains(seed), "alarm on {seed}");
    }
}

/// Every alarm notifies exactly one of the two topics: critical (paged) or warning (chat); the
/// ones the seeds call critical are on the critical topic.
#[test]
fn alarms_are_split_between_critical_and_warning_topics() {
    let text = std::fs::read_to_string(repo_root().join("template.yaml")).unwrap();
    let mut alarm: Option<String> = None;
    let mut seen = std::collections::BTreeMap::new();
    for line in text.lines() {
        if let Some(name) = line
            .strip_prefix("  ")
            .filter(|l| !l.starts_with(' '))
            .and_then(|l| l.strip_suffix(':'))
        {
            alarm = name.ends_with("Alarm").then(|| name.to_owned());
        }
        if let (Some(a), Some(actions)) = (&alarm, line.trim().strip_prefix("AlarmActions: ")) {
            seen.insert(a.clone(), actions.to_owned());
        }
    }
    assert!(seen.len() >= 20, "{seen:?}");
    for (a, actions) in &seen {
        assert!(
            actions == "[!Ref CriticalAlertsTopic]" || actions == "[!Ref WarningAlertsTopic]",
            "{a}: {actions}"
        );
    }
    for critical in [
        "DependencyErrorsAlarm",
        "CallSuccessRateAlarm",
        "HealthCheckAlarm",
        "FrontdoorErrorsAlarm",
    ] {
        assert_eq!(seen[critical], "[!Ref CriticalAlertsTopic]", "{critical}");
    }
    for warning in ["CallDurationAlarm", "VoicemailBacklogAlarm"] {
        assert_eq!(seen[warning], "[!Ref WarningAlertsTopic]", "{warning}");
    }
}

#[test]
fn log_lines_never_carry_a_whole_phone_number() {
    let mut dirs: Vec<_> = std::fs::read_dir(repo_root().join("functions"))
        .unwrap()
        .map(|e| e.unwrap().path().join("src"))
        .collect();
    dirs.push(repo_root().join("shared/telephony-aws/src"));
    dirs.push(repo_root().join("shared/provisioning/src"));
    dirs.push(repo_root().join("shared/json-api/src"));
    let phone_fields = [
        "number = %",
        "e164 = %",
        "from = %",
        "to = %",
        "caller = %",
        "temporary = %",
        "sim = %",
    ];
    let mut leaks = Vec::new();
    for dir in dirs {
        for path in rust_files(&dir) {
            let text = std::fs::read_to_string(&path).unwrap();
            for (i, line) in text.lines().enumerate() {
                if line.contains("tracing::")
                    && phone_fields.iter().any(|f| line.contains(f))
                    && !line.contains("mask_phone")
                {
                    leaks.push(format!("{}:{}: {}", path.display(), i + 1, line.trim()));
                }
            }
        }
    }
    assert!(
        leaks.is_empty(),
        "phone numbers logged unmasked:\n{}",
        leaks.join("\n")
    );
}
