//! Test harness: one moto server per test process (started from the repo's `.venv`, stopped when
//! the process exits), a fresh set of stack resources per test (created from template.yaml by
//! `infra/local/bootstrap.py`), the handlers called in-process as Lambda would, and the call
//! simulator driving whole calls through them.

pub mod bench;
pub mod prism;
pub mod proxy;
pub mod relay;
pub mod scripted;

use aws_sdk_dynamodb::config::Credentials;
use call_simulator::bridge::{self, AiPlay, StreamRequest, StreamRun};
use call_simulator::{encode_form, media, Reply, Script, Transport};
use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;
use telephony_aws::{Body, Config, Deps, Request, Response};

/// The public base URL the test stacks are configured with (what requests are signed for).
pub const PUBLIC_BASE_URL: &str = "http://127.0.0.1:9000";
/// Auth token of the test stacks.
pub const AUTH_TOKEN: &str = "local-test-auth-token-0123456789abcdef";
/// Account SID of the test stacks.
pub const ACCOUNT_SID: &str = "AC0123456789abcdef0123456789abcdef";
/// Sales target.
pub const SALES: &str = "+14165550101";
/// Support target.
pub const SUPPORT: &str = "+14165550102";
/// The hotline's own number (also the default `To`).
pub const HOTLINE: &str = "+15877428885";
/// Default caller.
pub const CALLER: &str = "+12025550143";

/// Repository root.
pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn python() -> PathBuf {
    let venv = repo_root().join(".venv/bin/python");
    if venv.exists() {
        venv
    } else {
        PathBuf::from("python3")
    }
}

struct Moto {
    endpoint: String,
    _child: Child,
}

/// A TCP port free on 127.0.0.1 at the time of the call.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port")
}

fn moto() -> &'static Moto {
    static MOTO: OnceLock<Moto> = OnceLock::new();
    MOTO.get_or_init(|| {
        let port = free_port();
        let mut child = Command::new(python())
            .arg(repo_root().join("infra/local/moto_guard.py"))
            .arg(port.to_string())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start moto (run `make venv` first)");
        let mut line = String::new();
        BufReader::new(child.stdout.take().expect("moto stdout"))
            .read_line(&mut line)
            .expect("moto ready line");
        assert_eq!(line.trim(), "ready", "moto did not start");
        Moto {
            endpoint: format!("http://127.0.0.1:{port}"),
            _child: child,
        }
    })
}

/// The moto endpoint shared by this test process.
pub fn moto_endpoint() -> &'static str {
    &moto().endpoint
}

/// SDK configuration for `endpoint` with static test credentials.
pub async fn sdk_config(endpoint: &str) -> telephony_aws::deps::SdkConfig {
    telephony_aws::deps::AwsTarget {
        region: "ca-central-1".into(),
        endpoint_url: Some(endpoint.into()),
        credentials: Credentials::new("testing", "testing", None, None, "tests"),
        trusted_roots: telephony_aws::deps::AWS_ROOTS.into(),
    }
    .sdk_config()
}

/// A fresh stack: its own tables, bucket and topic in moto, a media server serving a real WAV,
/// and `Deps` configured for them.
pub struct Stack {
    /// Handler dependencies.
    pub deps: Deps,
    /// The fake Twilio media host.
    pub media: media::MediaServer,
    /// The WAV it serves.
    pub wav: Vec<u8>,
    /// Logical id → physical name/ARN, from bootstrap.py.
    pub resources: HashMap<String, String>,
}

/// Environment variable → template logical id of each stack resource a function reads.
const RESOURCE_VARS: [(&str, &str); 15] = [
    ("CALLS_TABLE", "CallsTable"),
    ("NUMBERS_TABLE", "NumbersTable"),
    ("RATE_LIMITS_TABLE", "RateLimitsTable"),
    ("RECORDINGS_BUCKET", "RecordingsBucket"),
    ("VOICEMAIL_TOPIC_ARN", "VoicemailTopic"),
    ("MESSAGES_TABLE", "MessagesTable"),
    ("OPT_OUTS_TABLE", "OptOutsTable"),
    ("SMS_TOPIC_ARN", "SmsTopic"),
    ("TRANSACTIONS_TABLE", "TransactionsTable"),
    ("CONTACTS_TABLE", "ContactsTable"),
    ("SUBMISSIONS_TABLE", "SubmissionsTable"),
    ("IDEMPOTENCY_TABLE", "IdempotencyTable"),
    ("COMPLIANCE_TABLE", "ComplianceTable"),
    ("FORWARDING_TABLE", "ForwardingTable"),
    ("PRIVACY_TABLE", "PrivacyTable"),
];

static COUNTER: AtomicU64 = AtomicU64::new(0);

/// Creates the resources of template.yaml under a unique prefix and returns the stack.
/// `overrides` replace environment settings (e.g. `("SALES_TARGET_E164", CALLER)`).
pub async fn stack(overrides: &[(&str, &str)]) -> Stack {
    stack_via(overrides, moto_endpoint()).await
}

/// [`stack`], with the functions reaching AWS through `aws_endpoint` (an [`proxy::OutageProxy`]
/// in front of moto); resources are still created on moto directly.
pub async fn stack_via(overrides: &[(&str, &str)], aws_endpoint: &str) -> Stack {
    let endpoint = moto_endpoint();
    let prefix = format!(
        "t{}-{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::SeqCst)
    );
    let out = Command::new(python())
        .arg(repo_root().join("infra/local/bootstrap.py"))
        .args(["--endpoint", endpoint, "--prefix", &prefix])
        .arg("--template")
        .arg(repo_root().join("template.yaml"))
        .output()
        .expect("run bootstrap.py");
    assert!(
        out.status.success(),
        "bootstrap failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let resources: HashMap<String, String> =
        serde_json::from_slice(&out.stdout).expect("bootstrap JSON");
    let wav = media::tone_wav(2);
    let media = media::serve(wav.clone(), ACCOUNT_SID, AUTH_TOKEN, 0, None)
        .await
        .expect("media server");
    let mut vars = common_vars();
    vars.insert("TWILIO_API_BASE".into(), media.base_url.clone());
    for (var, logical) in RESOURCE_VARS {
        vars.insert(var.into(), resources[logical].clone());
    }
    for (k, v) in overrides {
        vars.insert(k.to_string(), v.to_string());
    }
    let config = Config::from_lookup(|k| vars.get(k).cloned()).expect("test config");
    let deps = Deps::new(config, &sdk_config(aws_endpoint).await).with_source(vars);
    Stack {
        deps,
        media,
        wav,
        resources,
    }
}

/// The environment a function process needs to serve `stack` (settings, resource names, the moto
/// endpoint and the fake Twilio API), for running a real bootstrap against it.
pub fn stack_env(stack: &Stack) -> Vec<(String, String)> {
    let mut vars = common_vars();
    vars.insert("TWILIO_API_BASE".into(), stack.media.base_url.clone());
    vars.insert("AWS_ENDPOINT_URL".into(), moto_endpoint().to_owned());
    for (var, logical) in RESOURCE_VARS {
        vars.insert(var.into(), stack.resources[logical].clone());
    }
    vars.into_iter().collect()
}

/// The suppression entries' HMAC key of every test stack (issue 25).
pub const SUPPRESSION_SECRET: &str = "test-suppression-secret-0123456789abcdef";

/// Settings every test stack shares (resources are added per stack).
fn common_vars() -> HashMap<String, String> {
    [
        ("STAGE", "test"),
        ("PUBLIC_BASE_URL", PUBLIC_BASE_URL),
        ("TWILIO_AUTH_TOKEN", AUTH_TOKEN),
        ("TWILIO_ACCOUNT_SID", ACCOUNT_SID),
        ("SALES_TARGET_E164", SALES),
        ("SUPPORT_TARGET_E164", SUPPORT),
        ("HOTLINE_E164", HOTLINE),
        ("BUSINESS_NAME", "TradeLine 24/7"),
        // Tests play many calls from one caller within minutes; the limits themselves are
        // tested on their own (the default, both windows, in config's unit test).
        ("RATE_LIMITS", "10/60"),
        ("SUPPRESSION_SECRET", SUPPRESSION_SECRET),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect()
}

/// `Deps` whose AWS endpoint refuses connections (DynamoDB "unreachable").
pub async fn unreachable_deps() -> Deps {
    let mut vars = common_vars();
    for (k, v) in [
        ("CALLS_TABLE", "calls"),
        ("NUMBERS_TABLE", "numbers"),
        ("RATE_LIMITS_TABLE", "rate-limits"),
        ("RECORDINGS_BUCKET", "recordings"),
        (
            "VOICEMAIL_TOPIC_ARN",
            "arn:aws:sns:ca-central-1:123456789012:voicemail",
        ),
        ("MESSAGES_TABLE", "messages"),
        ("OPT_OUTS_TABLE", "opt-outs"),
        ("SMS_TOPIC_ARN", "arn:aws:sns:ca-central-1:123456789012:sms"),
    ] {
        vars.insert(k.into(), v.into());
    }
    let config = Config::from_lookup(|k| vars.get(k).cloned()).expect("config");
    let closed = format!("http://127.0.0.1:{}", free_port());
    Deps::new(config, &sdk_config(&closed).await).with_source(vars)
}

/// Routes a request to the function serving its path, as API Gateway would. Each handler
/// future is boxed: debug-build futures are large and tests run them on small thread stacks.
pub async fn dispatch(deps: &Deps, req: Request) -> Response<Body> {
    // Each handler runs with exactly the settings its function declares (`NEEDS`), as it does
    // when deployed: a function that uses a setting it does not declare fails its tests.
    dispatch_with(req, |_, needs| narrow(deps, needs)).await
}

/// [`dispatch`] with each function's `Deps` from `own` (given the function's crate name, e.g.
/// `voice_frontdoor`, and its `NEEDS`): the deploy rehearsal starts each one from the
/// environment CloudFormation created for it.
pub async fn dispatch_with(
    req: Request,
    own: impl Fn(&'static str, &'static telephony_aws::Needs) -> Deps,
) -> Response<Body> {
    macro_rules! serve {
        ($f:ident) => {{
            let own = own(stringify!($f), &$f::NEEDS);
            Box::pin($f::handler(&own, req)).await
        }};
    }
    match req.uri().path() {
        "/voice-frontdoor" => serve!(voice_frontdoor),
        "/voice-consent" => serve!(voice_consent),
        "/voice-menu-handler" => serve!(voice_menu_handler),
        "/voice-route-action" => serve!(voice_route_action),
        "/voice-voicemail" => serve!(voice_voicemail),
        "/voice-recording-callback" => serve!(voice_recording_callback),
        "/voice-transcription-callback" => serve!(voice_transcription_callback),
        "/voice-status" => serve!(voice_status),
        "/voice-fallback" => serve!(voice_fallback),
        "/voice-health" => serve!(voice_health),
        "/voice-stream-status" => serve!(voice_stream_status),
        "/voice-stream-action" => serve!(voice_stream_action),
        "/voice-action" => serve!(voice_action),
        "/voice-relay-action" => serve!(voice_relay_action),
        "/webcomms-sms-reply" | "/twilio/sms" => serve!(webcomms_sms_reply),
        "/webcomms-sms-status" | "/twilio/sms-status" => serve!(webcomms_sms_status),
        p if p == "/ops/numbers"
            || p.starts_with("/ops/numbers/")
            || p.starts_with("/ops/orgs/") =>
        {
            serve!(ops_provisioning)
        }
        p if p.starts_with("/ops/") => serve!(ops_api),
        other => panic!("no route for {other}"),
    }
}

/// `deps` with the configuration a function declaring `needs` reads ([`Deps::narrow`]).
///
/// Panics when a variable the function requires is not in the test stack's environment.
pub fn narrow(deps: &Deps, needs: &telephony_aws::Needs) -> Deps {
    deps.narrow(needs)
        .unwrap_or_else(|e| panic!("the function's declared settings: {e}"))
}

/// A form POST to the path and query of the absolute `url` with an optional signature header.
pub fn form_request(url: &str, params: &[(String, String)], signature: Option<&str>) -> Request {
    let after_scheme = url.split_once("://").map_or(url, |(_, rest)| rest);
    let path = &after_scheme[after_scheme.find('/').expect("URL with a path")..];
    let mut b = http::Request::builder()
        .method("POST")
        .uri(path)
        .header("content-type", "application/x-www-form-urlencoded");
    if let Some(sig) = signature {
        b = b.header("x-twilio-signature", sig);
    }
    b.body(Body::Text(encode_form(params))).expect("request")
}

/// Signs `params` for `url` with the test token.
pub fn sign(url: &str, params: &[(String, String)]) -> String {
    telephony_core::signature::compute(AUTH_TOKEN, url, params)
}

/// Posts a correctly signed form to the handler of `url`'s path.
pub async fn post_signed(deps: &Deps, url: &str, params: &[(String, String)]) -> Reply {
    let sig = sign(url, params);
    to_reply(dispatch(deps, form_request(url, params, Some(&sig))).await)
}

/// The status and body text of a response.
pub fn to_reply(resp: Response<Body>) -> Reply {
    let status = resp.status().as_u16();
    let body = match resp.into_body() {
        Body::Text(t) => t,
        Body::Binary(b) => String::from_utf8_lossy(&b).into_owned(),
        _ => String::new(),
    };
    Reply { status, body }
}

/// Pairs from string slices.
pub fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// The in-process transport: each signed request goes straight to its handler.
pub struct InProcess<'a>(pub &'a Deps);

impl Transport for InProcess<'_> {
    async fn post(&self, url: &str, params: &[(String, String)], signature: &str) -> Reply {
        to_reply(dispatch(self.0, form_request(url, params, Some(signature))).await)
    }

    /// The fake bridge in-process: the stream starts after the play's delay (not waited for),
    /// the bridge checks the token and makes the caller's tool call through `/voice-action`.
    async fn stream(&self, req: &StreamRequest) -> StreamRun {
        let mut run = StreamRun::default();
        if req.play == AiPlay::Fail {
            run.error = Some("31920 Stream - WebSocket - Handshake Error".into());
            return run;
        }
        run.started_at_ms = Some(bridge::now_ms() + req.play.delay().as_millis() as u64);
        let token = req.token().unwrap_or("");
        let secret = self.0.config.stream_secret.as_ref().expect("STREAM_SECRET");
        let now = bridge::now_ms() / 1000;
        if let Err(e) =
            telephony_core::stream::verify(secret.0.as_bytes(), token, &req.call_sid, now)
        {
            run.error = Some(format!("31921 Stream - WebSocket - Close Error ({e})"));
            return run;
        }
        if let Some(body) = bridge::tool_call_for(req.play.digit(), &req.call_sid) {
            let r = tool_call(self.0, Some(token), &body.to_string()).await;
            run.notes
                .push(format!("{} → {} {}", body["tool"], r.status, r.body));
        }
        run
    }
}

/// `POST /voice-action` with `body` and the stream token `bearer`.
pub async fn tool_call(deps: &Deps, bearer: Option<&str>, body: &str) -> Reply {
    let mut b = http::Request::builder()
        .method("POST")
        .uri("/voice-action")
        .header("content-type", "application/json");
    if let Some(t) = bearer {
        b = b.header("authorization", format!("Bearer {t}"));
    }
    let req = b.body(Body::Text(body.to_owned())).expect("request");
    to_reply(dispatch(deps, req).await)
}

/// A script for a call from [`CALLER`] to [`HOTLINE`] with a fresh CallSid.
pub fn script(
    stack: &Stack,
    digits: &[Option<&str>],
    dial_status: &str,
    message_seconds: u64,
) -> Script {
    let n = COUNTER.fetch_add(1, Ordering::SeqCst);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    Script {
        call_sid: format!("CA{:024x}{:08x}", nanos & ((1u128 << 96) - 1), n),
        from: CALLER.into(),
        to: HOTLINE.into(),
        account_sid: ACCOUNT_SID.into(),
        digits: digits.iter().map(|d| d.map(str::to_owned)).collect(),
        dial_status: dial_status.into(),
        message_seconds,
        transcript: "Please call me back about the furnace & the <quote>.".into(),
        media_base_url: stack.media.base_url.clone(),
        auth_token: AUTH_TOKEN.into(),
        max_requests: 40,
        retry_backoff: std::time::Duration::from_millis(50),
        ai: call_simulator::bridge::AiPlay::Ok,
        forwarded_from: None,
        says: Vec::new(),
        answered_by: Default::default(),
        verstat: None,
    }
}

/// A fresh `MessageSid` (`SM` + 32 hex digits), unique within the test process.
pub fn message_sid() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    format!(
        "SM{:024x}{:08x}",
        nanos & ((1u128 << 96) - 1),
        COUNTER.fetch_add(1, Ordering::SeqCst)
    )
}

/// Texts `body` from `from` to `to` through `/webcomms-sms-reply` (signed, a fresh
/// MessageSid); asserts 200 and returns the reply's TwiML.
pub async fn text_message(s: &Stack, from: &str, to: &str, body: &str) -> String {
    let sid = message_sid();
    let r = post_signed(
        &s.deps,
        &format!("{PUBLIC_BASE_URL}/webcomms-sms-reply"),
        &pairs(&[
            ("AccountSid", ACCOUNT_SID),
            ("MessageSid", &sid),
            ("SmsSid", &sid),
            ("From", from),
            ("To", to),
            ("Body", body),
            ("NumMedia", "0"),
        ]),
    )
    .await;
    assert_eq!(r.status, 200, "{r:?}");
    r.body
}

/// Plays a whole call through the handlers.
pub async fn play(stack: &Stack, script: &Script) -> call_simulator::CallLog {
    call_simulator::play_call(
        &InProcess(&stack.deps),
        script,
        &format!("{PUBLIC_BASE_URL}/voice-frontdoor"),
    )
    .await
}

/// SNS messages published to `topic_arn` as `(subject, parsed JSON message)`.
pub async fn sns_messages(topic_arn: &str) -> Vec<(String, serde_json::Value)> {
    call_simulator::moto_sns_messages(moto_endpoint(), topic_arn)
        .await
        .expect("moto SNS messages")
        .into_iter()
        .map(|(subject, m)| {
            (
                subject,
                serde_json::from_str(&m).unwrap_or(serde_json::Value::Null),
            )
        })
        .collect()
}

/// Keys of S3 objects under `prefix` in the stack's bucket.
pub async fn s3_keys(stack: &Stack, prefix: &str) -> Vec<String> {
    let out = stack
        .deps
        .s3()
        .list_objects_v2()
        .bucket(&stack.deps.config.recordings_bucket)
        .prefix(prefix)
        .send()
        .await
        .expect("list");
    out.contents()
        .iter()
        .filter_map(|o| o.key().map(str::to_owned))
        .collect()
}

/// A string attribute of an item.
pub fn attr_s(
    item: &HashMap<String, aws_sdk_dynamodb::types::AttributeValue>,
    k: &str,
) -> Option<String> {
    item.get(k).and_then(|v| v.as_s().ok()).cloned()
}

/// Parses TwiML fully (fails the test on malformed XML) and returns the simulator's verbs.
pub fn verbs(xml: &str) -> Vec<call_simulator::twiml::SimVerb> {
    call_simulator::twiml::parse(xml).unwrap_or_else(|e| panic!("invalid TwiML ({e}): {xml}"))
}

/// An API Gateway HTTP API (payload 2.0) request for the ops API, signed in by `principal`
/// (an IAM ARN in `requestContext.authorizer.iam.userArn`) or anonymous (`None`).
pub fn ops_request(method: &str, path_and_query: &str, principal: Option<&str>) -> Request {
    ops_request_with(method, path_and_query, principal, &[], None)
}

/// [`ops_request`] with extra headers (e.g. `Idempotency-Key`) and a JSON body.
pub fn ops_request_with(
    method: &str,
    path_and_query: &str,
    principal: Option<&str>,
    headers: &[(&str, &str)],
    body: Option<&str>,
) -> Request {
    let (path, query) = path_and_query
        .split_once('?')
        .unwrap_or((path_and_query, ""));
    let mut ctx = serde_json::json!({
        "accountId": "123456789012", "apiId": "local", "domainName": "127.0.0.1", "domainPrefix": "127",
        "http": {"method": method, "path": path, "protocol": "HTTP/1.1", "sourceIp": "10.0.0.1", "userAgent": "aws-cli"},
        "requestId": "ops", "routeKey": format!("{method} {path}"), "stage": "$default",
        "time": "21/Nov/2026:12:00:00 +0000", "timeEpoch": 1795262400000u64
    });
    if let Some(arn) = principal {
        ctx["authorizer"] = serde_json::json!({"iam": {"accessKey": "AKIA", "accountId": "123456789012", "callerId": "AIDA", "userArn": arn, "userId": "AIDA"}});
    }
    let mut h = serde_json::json!({"host": "127.0.0.1"});
    for (k, v) in headers {
        h[k.to_ascii_lowercase()] = serde_json::Value::String((*v).to_owned());
    }
    if body.is_some() {
        h["content-type"] = "application/json".into();
    }
    let mut event = serde_json::json!({
        "version": "2.0", "routeKey": format!("{method} {path}"), "rawPath": path, "rawQueryString": query,
        "headers": h, "requestContext": ctx, "isBase64Encoded": false
    });
    if let Some(b) = body {
        event["body"] = b.into();
    }
    telephony_aws::event::request_from_event(event).expect("ops event")
}
