//! Settings per function (issue 23 §4): each function declares the environment variables it
//! reads (`NEEDS`), and `template.yaml` sets on each function exactly those. Proved twice:
//!
//! - against the template as AWS receives it (the SAM translator's CloudFormation, Globals
//!   merged): every variable a function requires is set on it, and nothing it does not read;
//! - by a deploy rehearsal: the CloudFormation template created as a stack on moto (tables,
//!   bucket, topics, roles and the 24 functions with their resolved environments), every
//!   function started from the environment CloudFormation created for it (only the AWS endpoint
//!   and Twilio's API host pointed at the local stand-ins), and a whole call and a text played
//!   through the functions so started. A function that reads a variable its template entry does
//!   not set fails here.

use integration_tests::*;
use serde_json::Value;
use std::collections::{BTreeMap, HashMap};
use std::process::Command;
use telephony_aws::{Config, Env, Needs};

/// Every function and what it declares.
const FUNCTIONS: [(&str, &Needs); 24] = [
    ("contact-submit", &contact_submit::NEEDS),
    ("forwarding-api", &forwarding_api::NEEDS),
    ("ops-api", &ops_api::NEEDS),
    ("ops-provisioning", &ops_provisioning::NEEDS),
    ("telephony-monitor", &telephony_monitor::NEEDS),
    ("voice-action", &voice_action::NEEDS),
    ("voice-consent", &voice_consent::NEEDS),
    ("voice-fallback", &voice_fallback::NEEDS),
    ("voice-frontdoor", &voice_frontdoor::NEEDS),
    ("voice-health", &voice_health::NEEDS),
    ("voice-menu-handler", &voice_menu_handler::NEEDS),
    ("voice-recording-callback", &voice_recording_callback::NEEDS),
    ("voice-relay-action", &voice_relay_action::NEEDS),
    ("voice-relay-connect", &voice_relay_connect::NEEDS),
    ("voice-relay-disconnect", &voice_relay_disconnect::NEEDS),
    ("voice-relay-message", &voice_relay_message::NEEDS),
    ("voice-route-action", &voice_route_action::NEEDS),
    ("voice-status", &voice_status::NEEDS),
    ("voice-stream-action", &voice_stream_action::NEEDS),
    ("voice-stream-status", &voice_stream_status::NEEDS),
    (
        "voice-transcription-callback",
        &voice_transcription_callback::NEEDS,
    ),
    ("voice-voicemail", &voice_voicemail::NEEDS),
    ("webcomms-sms-reply", &webcomms_sms_reply::NEEDS),
    ("webcomms-sms-status", &webcomms_sms_status::NEEDS),
];

/// Read by every function outside its `NEEDS` (the JSON logger's level, the metrics' `Stage`
/// dimension): the template's Globals set these on all of them.
const EVERY_FUNCTION: [&str; 2] = ["STAGE", "RUST_LOG"];

/// Runs `infra/local/rehearsal.py` with the lint venv's Python (aws-sam-translator, boto3).
fn rehearsal(args: &[&str]) -> Value {
    rehearsal_with(args, true)
}

/// What the stack published on `topic` (its queue in the deploy's output), JSON-parsed.
fn published(deployed: &Value, topic: &str) -> Vec<Value> {
    let queue = deployed["queues"][topic]
        .as_str()
        .expect("a queue per topic");
    let bodies = rehearsal_with(
        &["receive", "--endpoint", moto_endpoint(), "--queue", queue],
        false,
    );
    bodies
        .as_array()
        .unwrap()
        .iter()
        .map(|b| serde_json::from_str(b.as_str().unwrap()).unwrap_or(b.clone()))
        .collect()
}

fn rehearsal_with(args: &[&str], template: bool) -> Value {
    let python = repo_root().join(".venv-lint/bin/python");
    assert!(
        python.exists(),
        "the deploy rehearsal needs the lint venv: run `make lint-venv` (make test does)"
    );
    let mut cmd = Command::new(python);
    cmd.arg(repo_root().join("infra/local/rehearsal.py"))
        .args(args);
    if template {
        cmd.arg("--template").arg(repo_root().join("template.yaml"));
    }
    let out = cmd.output().expect("run rehearsal.py");
    assert!(
        out.status.success(),
        "rehearsal.py {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("rehearsal JSON")
}

fn needs_of(binary: &str) -> &'static Needs {
    FUNCTIONS
        .iter()
        .find(|(b, _)| *b == binary)
        .map(|(_, n)| *n)
        .unwrap_or_else(|| panic!("{binary} is in the template but not in FUNCTIONS"))
}

#[test]
fn the_template_sets_on_each_function_exactly_the_variables_it_reads() {
    let cfn = rehearsal(&["transform"]);
    let functions = cfn["functions"].as_object().expect("functions");
    assert_eq!(
        functions.len(),
        FUNCTIONS.len(),
        "every function is in the template"
    );
    let mut problems = Vec::new();
    for (binary, env) in functions {
        let needs = needs_of(binary);
        let set: Vec<&str> = env
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        for name in needs.required() {
            if !set.contains(&name) {
                problems.push(format!(
                    "{binary} requires {name}, which its template entry does not set"
                ));
            }
        }
        for name in &set {
            if !needs.reads(name) && !EVERY_FUNCTION.contains(name) {
                problems.push(format!("{binary} is given {name}, which it does not read"));
            }
        }
    }
    assert!(problems.is_empty(), "{problems:#?}");
}

/// A function's created environment with the test's stand-ins: the AWS endpoint (moto) is the
/// SDK's, not a variable; Twilio's API host is the local media server.
fn own_env(created: &Value, twilio_api: &str) -> HashMap<String, String> {
    let mut env: HashMap<String, String> = created
        .as_object()
        .unwrap()
        .iter()
        .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_owned()))
        .collect();
    env.insert("TWILIO_API_BASE".into(), twilio_api.into());
    env
}

/// The transport of the rehearsal: each webhook goes to its function, started with the
/// configuration read from its own created environment.
struct Rehearsed<'a> {
    base: &'a telephony_aws::Deps,
    configs: BTreeMap<&'static str, Config>,
}

impl Rehearsed<'_> {
    /// The function whose crate is `krate` (`voice_frontdoor` for `voice-frontdoor`).
    fn own(&self, krate: &str) -> telephony_aws::Deps {
        let binary = krate.replace('_', "-");
        self.base.with_config(self.configs[binary.as_str()].clone())
    }
}

impl call_simulator::Transport for Rehearsed<'_> {
    async fn post(
        &self,
        url: &str,
        params: &[(String, String)],
        signature: &str,
    ) -> call_simulator::Reply {
        let req = form_request(url, params, Some(signature));
        to_reply(dispatch_with(req, |krate, _| self.own(krate)).await)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_stack_deploys_and_each_function_started_from_its_own_environment_serves_a_call_and_a_text(
) {
    let stack_name = format!("rehearsal-{}", std::process::id());
    let params = [
        format!("PublicBaseUrl={PUBLIC_BASE_URL}"),
        format!("TwilioAccountSid={ACCOUNT_SID}"),
        format!("TwilioAuthToken={AUTH_TOKEN}"),
        format!("HotlineE164={HOTLINE}"),
        format!("SalesTargetE164={SALES}"),
        format!("SupportTargetE164={SUPPORT}"),
    ];
    let mut args = vec![
        "deploy",
        "--endpoint",
        moto_endpoint(),
        "--stack",
        &stack_name,
    ];
    for p in &params {
        args.extend(["--param", p.as_str()]);
    }
    let deployed = rehearsal(&args);
    assert_eq!(deployed["status"], "CREATE_COMPLETE");
    let created = deployed["functions"].as_object().expect("functions");
    assert_eq!(created.len(), FUNCTIONS.len());

    // Every function starts from its own environment: its configuration, and its own settings.
    let s = stack(&[]).await;
    let sdk = sdk_config(moto_endpoint()).await;
    let mut configs = BTreeMap::new();
    for (binary, needs) in FUNCTIONS {
        let env = own_env(&created[binary], &s.media.base_url);
        let get = |k: &str| env.get(k).cloned();
        let e = Env::new(needs, &get);
        let config =
            Config::load(&e).unwrap_or_else(|err| panic!("{binary} does not start: {err}"));
        match binary {
            "forwarding-api" => drop(forwarding_api::Settings::load(&e).expect(binary)),
            "contact-submit" => drop(contact_submit::Settings::load(&e, &sdk).expect(binary)),
            "voice-relay-message" => {
                drop(voice_relay_message::Runtime::load(&e, &sdk).expect(binary))
            }
            _ => {}
        }
        configs.insert(binary, config);
    }
    let resources: HashMap<String, String> =
        serde_json::from_value(deployed["resources"].clone()).expect("resources");
    let stack = Stack {
        deps: s.deps.with_config(configs["telephony-monitor"].clone()),
        media: s.media,
        wav: s.wav,
        resources: resources.clone(),
    };
    let transport = Rehearsed {
        base: &stack.deps,
        configs,
    };

    // A whole call: consent, Sales, no answer, a voicemail stored in the stack's bucket and
    // announced on its topic, the call recorded in its table.
    let sc = script(&stack, &[Some("1"), Some("1")], "no-answer", 6);
    let log = call_simulator::play_call(
        &transport,
        &sc,
        &format!("{PUBLIC_BASE_URL}/voice-frontdoor"),
    )
    .await;
    assert_eq!(log.dialled, [SALES], "{:?}", log.steps);
    assert!(
        log.heard
            .iter()
            .any(|h| h.contains("Please leave a message")),
        "{:?}",
        log.heard
    );
    let keys = s3_keys(&stack, &format!("recordings/{}/", sc.call_sid)).await;
    assert_eq!(
        keys.len(),
        1,
        "the voicemail audio in {}",
        resources["RecordingsBucket"]
    );
    let notices: Vec<_> = published(&deployed, "VoicemailTopic")
        .into_iter()
        .filter(|n| n["call_sid"] == sc.call_sid.as_str())
        .collect();
    assert!(
        !notices.is_empty(),
        "a voicemail notice on the stack's topic"
    );
    let call = stack
        .deps
        .dynamo()
        .get_item()
        .table_name(&resources["CallsTable"])
        .key(
            "pk",
            aws_sdk_dynamodb::types::AttributeValue::S(sc.call_sid.clone()),
        )
        .send()
        .await
        .expect("calls table")
        .item
        .expect("the call's item");
    assert!(call.contains_key("voicemail_recording_sid"), "{call:?}");

    // A text: stored in the stack's messages table and announced on its SMS topic.
    let sid = message_sid();
    let url = format!("{PUBLIC_BASE_URL}/webcomms-sms-reply");
    let text = pairs(&[
        ("AccountSid", ACCOUNT_SID),
        ("MessageSid", &sid),
        ("SmsSid", &sid),
        ("From", CALLER),
        ("To", HOTLINE),
        ("Body", "Is the shop open Saturday?"),
        ("NumMedia", "0"),
    ]);
    let reply = call_simulator::Transport::post(&transport, &url, &text, &sign(&url, &text)).await;
    assert_eq!(reply.status, 200, "{reply:?}");
    let stored = stack
        .deps
        .dynamo()
        .get_item()
        .table_name(&resources["MessagesTable"])
        .key(
            "pk",
            aws_sdk_dynamodb::types::AttributeValue::S(sid.clone()),
        )
        .send()
        .await
        .expect("messages table")
        .item;
    assert!(
        stored.is_some(),
        "the text in {}",
        resources["MessagesTable"]
    );
    let texts: Vec<_> = published(&deployed, "SmsTopic")
        .into_iter()
        .filter(|n| n.to_string().contains(&sid))
        .collect();
    assert_eq!(texts.len(), 1, "one staff notice on the stack's SMS topic");
}
