//! `call-simulator`: plays one call (or sends one text) against the local stack (`make run`) as
//! Twilio would, prints every reply, then what was stored: the call or message record, the S3
//! objects and the SNS notices.
//!
//! Reads the stack's settings from the environment (`make call` / `make text` load
//! `.local/stack.env`).
//! Call options: `--digits 1,1` (per Gather; `-` = silence), `--dial no-answer|busy|completed|failed`,
//! `--message-seconds 7`, `--from +14165550123`, `--to +15877428885`, `--target URL`,
//! `--forwarded-from +14035550177` (the carrier forwarded the call from that SIM).
//! Text: `call-simulator text --body "STOP" [--media photo.png]… [--from …] [--to …]`.
//! Summary: `call-simulator summary` prints what an operator sees (the ops API's summary and the
//! monitor's gauges) from the local stack.

use call_simulator::bridge::AiPlay;
use call_simulator::cli::{arg, check_options, CALL_OPTIONS, TEXT_OPTIONS, TOKEN_OPTIONS};
use call_simulator::{media, play_call, HttpTransport, Script};
use telephony_aws::deps::AwsTarget;
use telephony_aws::{Config, Deps};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    match args.get(1).map(String::as_str) {
        Some("text") => return text(&args).await,
        Some("summary") => return summary().await,
        Some("token") => return token(&args),
        Some("check-config") => return check_config(),
        Some("fake-twilio") => return serve_fake_twilio().await,
        Some("fake-bridge") => return serve_fake_bridge().await,
        Some("-h" | "--help" | "help") => {
            println!("{USAGE}");
            return Ok(());
        }
        _ => {}
    }
    check_options(args.get(1..).unwrap_or_default(), CALL_OPTIONS)?;
    let quiet = args.iter().any(|a| a == "--quiet");
    let (config, token, media) = fake_twilio(media::tone_wav(3)).await?;
    let target = arg(&args, "--target", &config.public_base_url);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)?
        .as_nanos();
    // `--ai MODE`: the call goes to the AI demo number (AI_DEMO_E164, seeded by make run) unless
    // `--to` says otherwise, and the bridge plays MODE.
    let ai_mode = arg(&args, "--ai", "");
    // `--ai relay`: the built-in receptionist's demo number (AI_RELAY_DEMO_E164), spoken to with
    // `--say`.
    let ai = if ai_mode.is_empty() || ai_mode == "relay" {
        AiPlay::Ok
    } else {
        AiPlay::parse(&ai_mode)?
    };
    let demo_var = if ai_mode == "relay" {
        "AI_RELAY_DEMO_E164"
    } else {
        "AI_DEMO_E164"
    };
    let default_to = match (ai_mode.is_empty(), std::env::var(demo_var)) {
        (false, Ok(n)) => n,
        _ => "+15877428885".to_owned(),
    };
    let says: Vec<String> = args
        .windows(2)
        .filter(|w| w[0] == "--say")
        .map(|w| w[1].clone())
        .collect();
    let script = Script {
        ai,
        call_sid: format!("CA{:032x}", nanos),
        from: arg(&args, "--from", &fresh_caller()),
        to: arg(&args, "--to", &default_to),
        account_sid: config.account_sid.clone(),
        // `--lang fr`: the caller presses 8 at the greeting for French, then answers as asked.
        digits: (arg(&args, "--lang", "en") == "fr")
            .then(|| Some("8".to_owned()))
            .into_iter()
            .chain(
                arg(&args, "--digits", "1,1")
                    .split(',')
                    .map(|d| Some(d.trim().to_owned()).filter(|d| !d.is_empty() && d != "-")),
            )
            .collect(),
        dial_status: arg(&args, "--dial", "no-answer"),
        message_seconds: arg(&args, "--message-seconds", "7").parse()?,
        transcript: "Hi, this is Sam from Calgary, please call me back about a quote.".into(),
        media_base_url: media.base_url().to_owned(),
        auth_token: token,
        max_requests: 40,
        retry_backoff: std::time::Duration::from_millis(50),
        forwarded_from: Some(arg(&args, "--forwarded-from", "")).filter(|f| !f.is_empty()),
        says,
        answered_by: match arg(&args, "--answered-by", "human").as_str() {
            "human" => call_simulator::AnsweredBy::Human,
            "machine" => call_simulator::AnsweredBy::Machine,
            other => return Err(format!("--answered-by {other}: use human or machine").into()),
        },
        verstat: Some(arg(&args, "--verstat", "")).filter(|v| !v.is_empty()),
    };
    // `--known NAME`: the caller is a known contact of the number's org first.
    if let Some(name) = args
        .iter()
        .position(|a| a == "--known")
        .and_then(|i| args.get(i + 1))
    {
        let sdk = AwsTarget::from_env()?.sdk_config();
        let deps = Deps::new(config.clone(), &sdk);
        let table = deps
            .config
            .contacts_table
            .clone()
            .ok_or("CONTACTS_TABLE is not set (make run sets it)")?;
        let number = deps.number_config(&script.to).await;
        let caller = telephony_core::E164::parse_syntax(&script.from)?;
        let write = telephony_aws::contacts::ContactWrite {
            first_name: name.clone(),
            language: None,
            notes_ref: None,
            retention_days: Some(1),
        };
        write.check()?;
        telephony_aws::contacts::Contacts {
            dynamo: deps.dynamo(),
            table: &table,
        }
        .put(
            &number.org_id,
            &caller,
            &write,
            "call-simulator",
            telephony_aws::now_secs(),
        )
        .await?;
    }
    let mut transport = HttpTransport::new(&config.public_base_url, &target);
    let at = arg(&args, "--at", "");
    if !at.is_empty() {
        let t = chrono::DateTime::parse_from_rfc3339(&at)
            .or_else(|_| {
                chrono::DateTime::parse_from_str(&format!("{at}:00"), "%Y-%m-%dT%H:%M%:z:%S")
            })
            .map_err(|e| {
                format!("--at {at}: not RFC 3339 (e.g. 2026-12-25T10:00:00-07:00): {e}")
            })?;
        transport.sim_now = u64::try_from(t.timestamp()).ok();
    }
    let voice_url = format!("{}/voice-frontdoor", config.public_base_url);
    let downloads_before = media.downloads().await;
    let log = play_call(&transport, &script, &voice_url).await;
    if !quiet {
        println!(
            "== call {} from {} to {}",
            script.call_sid, script.from, script.to
        );
        for step in &log.steps {
            let path = step
                .url
                .strip_prefix(&config.public_base_url)
                .unwrap_or(&step.url);
            println!("\n--> POST {path}  [{}]", step.reply.status);
            if !step.reply.body.is_empty() {
                println!("{}", step.reply.body);
            }
        }
        for run in &log.streams {
            println!("\n== AI media stream");
            for note in &run.notes {
                println!("   {note}");
            }
            if let Some(e) = &run.error {
                println!("   stream-error: {e}");
            }
        }
        for run in &log.relays {
            println!("\n== AI receptionist (ConversationRelay)");
            for t in &run.turns {
                println!("   caller: {}", t.said);
                println!("   AI:     {}", t.heard.join(" "));
                if let Some(ms) = t.latency_ms {
                    println!("           (first words after {ms} ms)");
                }
            }
            if let Some(h) = &run.handoff {
                println!("   end, handoffData {h}");
            }
            if let Some(e) = &run.error {
                println!("   session error: {e}");
            }
        }
    }

    let sdk = AwsTarget::from_env()?.sdk_config();
    let deps = Deps::new(config, &sdk);
    let item = deps.calls().raw_item(&script.call_sid).await?;
    if !quiet && !log.relays.is_empty() {
        print_tool_calls(&deps, &script.call_sid).await?;
    }
    let objects = s3_keys(&deps, &format!("recordings/{}/", script.call_sid)).await?;
    let notices = sns_notices(&deps.config.voicemail_topic_arn, &script.call_sid).await?;
    if !quiet {
        let c = &deps.config;
        print_artifacts(
            &deps,
            ("call", &c.calls_table),
            item.as_ref(),
            &objects,
            (&c.voicemail_topic_arn, &notices),
        );
    }
    let downloads = media.downloads().await.saturating_sub(downloads_before);
    let stored = objects
        .iter()
        .map(|(k, _)| format!("s3://{}/{k}", deps.config.recordings_bucket))
        .collect::<Vec<_>>();
    let outcome = if stored.is_empty() {
        log.ended.clone()
    } else {
        format!("voicemail stored: {}", stored.join(", "))
    };
    println!(
        "call {} from {}: {outcome}; {} recording download(s), {} notice(s); heard {} prompt(s)",
        script.call_sid,
        script.from,
        downloads,
        notices.len(),
        log.heard.len()
    );
    if log.ended.starts_with("error:") {
        return Err(log.ended.into());
    }
    Ok(())
}

/// `--help`: every option of every subcommand (the README's examples use only these; a test
/// checks them).
const USAGE: &str = "call-simulator: plays Twilio against the local stack (make run)

make call ARGS='…'     one signed call through the voice webhooks
  --digits D,D,…       keys pressed at each <Gather>, in order; '-' = silence; 'say:oui' or
                       'say:yes@0.3' = a spoken answer (confidence 0.92 unless given) (default 1,1)
  --lang en|fr         fr: press 8 at the greeting and hear the call in French (default en)
  --known NAME         the caller is a known contact named NAME (greeted by name; kept 1 day)
  --at TIME            play the call at this instant for business hours (RFC 3339, e.g.
                       2026-12-25T10:00:00-07:00; honoured by a STAGE=local stack only)
  --dial STATUS        outcome of a <Dial>: completed | no-answer | busy | failed (default no-answer)
  --answered-by WHO    who answers a completed dial: human (presses 1 at the whisper) | machine
                       (a mailbox or screening bot: presses nothing) (default human)
  --verstat VALUE      StirVerstat on every request: TN-Validation-Passed-A | -B | -C,
                       TN-Validation-Failed-A | -B | -C, No-TN-Validation (default absent)
  --message-seconds N  length of the voicemail left (default 7)
  --from E164          caller (default: a fresh +1647555 01xx number per call)
  --to E164            number called (default +15877428885, the hotline)
  --target URL         where requests are sent, if not PUBLIC_BASE_URL (signatures still use it)
  --ai MODE            call the AI demo number (AI_DEMO_E164) and play its media stream:
                       ok (the AI books an appointment and says goodbye) | late (the bridge
                       connects after 3.5 s: the watchdog's human path) | fail (bridge down:
                       stream error, human path) | transfer (the caller asks for a person) |
                       relay (the built-in receptionist's demo number AI_RELAY_DEMO_E164, over
                       ConversationRelay: each --say is one spoken turn)
  --say TEXT           one caller turn to the AI receptionist (repeat it; 'dtmf:0' presses 0)
  --forwarded-from E164  the carrier forwarded the call from this SIM (hybrid forwarding: the
                       verification call's forwarded leg, or a customer's forwarded call)
  --quiet              only the one-line verdict

make text ARGS='…'     one signed inbound text (SMS, or MMS with --media)
  --body TEXT          message text (default \"Hi, do you service furnaces?\")
  --whatsapp           the same message on WhatsApp (whatsapp:+… addresses, ProfileName)
  --media FILE         attach a local file (repeatable)
  --from, --to, --target, --quiet   as for a call

make summary           the ops summary and the monitor's gauges
make token ARGS='…'    a tenant user's ID token for the forwarding API, signed with this run's local
                       issuer key (.local/issuer; JWKS served on JWKS_URL)
  --org ORG            the org claim (custom:org_id), required
  --name NAME          custom:org_name (the business name of a first forwarding number)
  --locale TAG         locale (fr-CA: the kit in French) (default en-CA)
  --minutes N          lifetime (default 60)

call-simulator check-config   configured numbers against their numbering plans
call-simulator fake-twilio    the fake Twilio media host and REST API (make run starts it)
call-simulator fake-bridge    the fake AI media bridge on FAKE_BRIDGE_PORT (make run starts it)";

/// `token`: an RS256 ID token for the forwarding tenant API, as the run's local issuer would
/// issue it: `iss` = `JWT_ISSUER`, `aud` = `JWT_AUDIENCE`, `custom:org_id`, signed with the key
/// at `LOCAL_JWT_KEY` (PKCS#1 DER) under kid `LOCAL_JWT_KID` (make run writes both).
fn token(args: &[String]) -> Result<(), Box<dyn std::error::Error>> {
    check_options(args.get(2..).unwrap_or_default(), TOKEN_OPTIONS)?;
    let env = |k: &str| std::env::var(k).map_err(|_| format!("{k} is not set (make run sets it)"));
    let org = arg(args, "--org", "");
    if org.is_empty() {
        return Err("--org ORG is required".into());
    }
    let minutes: u64 = arg(args, "--minutes", "60").parse()?;
    let now = telephony_aws::now_secs();
    let mut claims = serde_json::json!({
        "iss": env("JWT_ISSUER")?, "aud": env("JWT_AUDIENCE")?, "sub": format!("local-user-{org}"),
        "token_use": "id", "iat": now, "nbf": now, "exp": now + minutes * 60,
        "custom:org_id": org, "locale": arg(args, "--locale", "en-CA"),
    });
    let name = arg(args, "--name", "");
    if !name.is_empty() {
        claims["custom:org_name"] = name.into();
    }
    let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::RS256);
    header.kid = Some(env("LOCAL_JWT_KID")?);
    let key = jsonwebtoken::EncodingKey::from_rsa_der(&std::fs::read(env("LOCAL_JWT_KEY")?)?);
    // RS256 on ring, the tenant API's own provider (jsonwebtoken is built without a backend).
    forwarding_api::jwt_crypto::install();
    println!("{}", jsonwebtoken::encode(&header, &claims, &key)?);
    Ok(())
}

/// `fake-bridge`: the fake AI media bridge ([`call_simulator::bridge`]) on 127.0.0.1:
/// `FAKE_BRIDGE_PORT` (default 9400), verifying tokens with `STREAM_SECRET` and sending tool
/// calls to `PUBLIC_BASE_URL/voice-action`.
async fn serve_fake_bridge() -> Result<(), Box<dyn std::error::Error>> {
    let secret = std::env::var("STREAM_SECRET").map_err(|_| "STREAM_SECRET is not set")?;
    let port = std::env::var("FAKE_BRIDGE_PORT").unwrap_or_else(|_| "9400".into());
    let base = std::env::var("PUBLIC_BASE_URL").map_err(|_| "PUBLIC_BASE_URL is not set")?;
    let listener = tokio::net::TcpListener::bind(format!("127.0.0.1:{port}")).await?;
    eprintln!("fake-bridge: ws://127.0.0.1:{port}/media");
    call_simulator::bridge::serve(listener, secret, format!("{base}/voice-action")).await;
    Ok(())
}

/// A caller number for one run when `--from` is not given: `+1647555 01xx` (the fictional
/// 555-01xx block), varied per run so the README's examples do not share opt-outs, auto-reply
/// windows or the per-caller rate limit.
fn fresh_caller() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    format!("+164755501{:02}", (nanos / 1000) % 100)
}

fn content_type_of(path: &str) -> &'static str {
    match path
        .rsplit('.')
        .next()
        .map(str::to_ascii_lowercase)
        .as_deref()
    {
        Some("png") => "image/png",
        Some("jpg" | "jpeg") => "image/jpeg",
        Some("gif") => "image/gif",
        _ => "application/octet-stream",
    }
}

/// The fake Twilio host a command uses: its own, or the long-lived one `make run` started on
/// the same port (`TWILIO_API_BASE`), driven over HTTP.
enum MediaHost {
    Own(media::MediaServer),
    Shared {
        base_url: String,
        auth: (String, String),
        http: reqwest::Client,
    },
}

impl MediaHost {
    fn base_url(&self) -> &str {
        match self {
            Self::Own(m) => &m.base_url,
            Self::Shared { base_url, .. } => base_url,
        }
    }

    /// Serves `bytes` at `path`; returns its URL.
    async fn add(
        &self,
        path: &str,
        content_type: &str,
        bytes: Vec<u8>,
    ) -> Result<String, Box<dyn std::error::Error>> {
        match self {
            Self::Own(m) => Ok(m.add(path, content_type, bytes)),
            Self::Shared {
                base_url,
                auth,
                http,
            } => {
                http.post(format!("{base_url}/_sim/media"))
                    .basic_auth(&auth.0, Some(&auth.1))
                    .query(&[("path", path), ("type", content_type)])
                    .body(bytes)
                    .send()
                    .await?
                    .error_for_status()?;
                Ok(format!("{base_url}{path}"))
            }
        }
    }

    /// Recordings downloaded so far (0 if the shared host cannot be asked).
    async fn downloads(&self) -> usize {
        match self {
            Self::Own(m) => m.downloads(),
            Self::Shared {
                base_url,
                auth,
                http,
            } => {
                let resp = http
                    .get(format!("{base_url}/_sim/downloads"))
                    .basic_auth(&auth.0, Some(&auth.1))
                    .send()
                    .await;
                match resp {
                    Ok(r) => r
                        .text()
                        .await
                        .ok()
                        .and_then(|t| t.parse().ok())
                        .unwrap_or(0),
                    Err(_) => 0,
                }
            }
        }
    }
}

/// The stack's configuration, the auth token to sign with, and the fake Twilio media host on
/// `TWILIO_API_BASE`'s port: started here (serving `wav` as every recording), or, when `make run`
/// already serves it there, that one.
async fn fake_twilio(
    wav: Vec<u8>,
) -> Result<(Config, String, MediaHost), Box<dyn std::error::Error>> {
    let config = Config::from_env()?;
    let token = config
        .auth_tokens
        .first()
        .cloned()
        .ok_or("TWILIO_AUTH_TOKEN is required")?;
    let port: u16 = config
        .twilio_api_base
        .rsplit(':')
        .next()
        .and_then(|p| p.parse().ok())
        .unwrap_or(0);
    let upstream = std::env::var("FAKE_TWILIO_UPSTREAM")
        .ok()
        .filter(|u| !u.is_empty());
    let host = match media::serve(wav, &config.account_sid, &token, port, upstream).await {
        Ok(m) => MediaHost::Own(m),
        Err(e) if e.kind() == std::io::ErrorKind::AddrInUse => MediaHost::Shared {
            base_url: format!("http://127.0.0.1:{port}"),
            auth: (config.account_sid.clone(), token.clone()),
            http: reqwest::Client::new(),
        },
        Err(e) => return Err(e.into()),
    };
    Ok((config, token, host))
}

/// `fake-twilio`: the fake Twilio media host and REST API on `TWILIO_API_BASE`, until killed
/// (`make run` starts it, so the sample events' media and recording URLs resolve).
async fn serve_fake_twilio() -> Result<(), Box<dyn std::error::Error>> {
    let (_, _, host) = fake_twilio(media::tone_wav(3)).await?;
    match host {
        MediaHost::Own(m) => {
            println!("fake Twilio (media and REST) on {}", m.base_url);
            std::future::pending::<()>().await;
            Ok(())
        }
        MediaHost::Shared { base_url, .. } => {
            Err(format!("{base_url} is already in use (another make run?)").into())
        }
    }
}

/// Sends one signed inbound text (optionally MMS with local files) and prints what happened.
async fn text(args: &[String]) -> Result<(), Box<dyn std::error::Error>> {
    use call_simulator::Transport as _;
    check_options(args.get(2..).unwrap_or_default(), TEXT_OPTIONS)?;
    let quiet = args.iter().any(|a| a == "--quiet");
    let (config, token, media) = fake_twilio(Vec::new()).await?;
    let files: Vec<&String> = args
        .windows(2)
        .filter(|w| w[0] == "--media")
        .map(|w| &w[1])
        .collect();
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)?
        .as_nanos();
    let sid = format!(
        "{}{:032x}",
        if files.is_empty() { "SM" } else { "MM" },
        nanos
    );
    // `--whatsapp`: the same message on the WhatsApp channel (prefixed addresses, ProfileName,
    // WaId), as Twilio delivers it to the same webhook.
    let whatsapp = args.iter().any(|a| a == "--whatsapp");
    let channel = |n: String| if whatsapp { format!("whatsapp:{n}") } else { n };
    let sender = arg(args, "--from", &fresh_caller());
    let mut params: Vec<(String, String)> = [
        ("AccountSid", config.account_sid.clone()),
        ("ApiVersion", "2010-04-01".into()),
        ("MessageSid", sid.clone()),
        ("SmsSid", sid.clone()),
        ("From", channel(sender.clone())),
        ("To", channel(arg(args, "--to", "+15877428885"))),
        ("Body", arg(args, "--body", "Hi, do you service furnaces?")),
        ("NumMedia", files.len().to_string()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect();
    if whatsapp {
        params.push(("ProfileName".into(), "Sam (simulator)".into()));
        params.push(("WaId".into(), sender.trim_start_matches('+').to_owned()));
    }
    for (i, file) in files.iter().enumerate() {
        let bytes = std::fs::read(file)?;
        let ctype = content_type_of(file);
        let path = format!(
            "/2010-04-01/Accounts/{}/Messages/{sid}/Media/ME{i:032x}",
            config.account_sid
        );
        params.push((
            format!("MediaUrl{i}"),
            media.add(&path, ctype, bytes).await?,
        ));
        params.push((format!("MediaContentType{i}"), ctype.to_owned()));
    }
    let url = format!("{}/webcomms-sms-reply", config.public_base_url);
    let transport = HttpTransport::new(
        &config.public_base_url,
        &arg(args, "--target", &config.public_base_url),
    );
    let sig = telephony_core::signature::compute(&token, &url, &params);
    let reply = transport.post(&url, &params, &sig).await;
    let from = params
        .iter()
        .find(|(k, _)| k == "From")
        .map(|(_, v)| v.clone())
        .unwrap_or_default();
    let sdk = AwsTarget::from_env()?.sdk_config();
    let deps = Deps::new(config, &sdk);
    let item = deps.messages().raw_item(&sid).await?;
    let objects = s3_keys(&deps, &format!("media/{sid}/")).await?;
    let notices = sns_notices(&deps.config.sms_topic_arn, &sid).await?;
    if !quiet {
        println!(
            "== text {sid} from {from}\n--> POST /webcomms-sms-reply  [{}]\n{}",
            reply.status, reply.body
        );
        let c = &deps.config;
        print_artifacts(
            &deps,
            ("message", &c.messages_table),
            item.as_ref(),
            &objects,
            (&c.sms_topic_arn, &notices),
        );
    }
    let answer = match reply_text(&reply.body) {
        Some(t) => format!("replied \"{t}\""),
        None if reply.status == 200 => "no reply text".to_owned(),
        None => format!("HTTP {}", reply.status),
    };
    println!(
        "text {sid} from {from}: {answer}; {} media file(s) stored, {} notice(s)",
        objects.len(),
        notices.len()
    );
    if reply.status != 200 {
        return Err(format!("HTTP {}", reply.status).into());
    }
    Ok(())
}

/// The text of the first `<Message>` of a messaging TwiML reply.
fn reply_text(xml: &str) -> Option<String> {
    let start = xml.find("<Message>")? + "<Message>".len();
    let end = xml[start..].find("</Message>")? + start;
    quick_xml::escape::unescape(&xml[start..end])
        .ok()
        .map(|t| t.into_owned())
}

/// The bucket's objects under `prefix`: key and size in bytes.
async fn s3_keys(
    deps: &Deps,
    prefix: &str,
) -> Result<Vec<(String, i64)>, Box<dyn std::error::Error>> {
    let listed = deps
        .s3()
        .list_objects_v2()
        .bucket(&deps.config.recordings_bucket)
        .prefix(prefix)
        .send()
        .await?;
    Ok(listed
        .contents()
        .iter()
        .map(|o| (o.key().unwrap_or("?").to_owned(), o.size().unwrap_or(0)))
        .collect())
}

/// Prints what a call or text left behind: its record (`kind` in `table`) as JSON, the S3
/// objects, and the SNS notices on `topic`.
fn print_artifacts(
    deps: &Deps,
    (kind, table): (&str, &str),
    item: Option<&std::collections::HashMap<String, aws_sdk_dynamodb::types::AttributeValue>>,
    objects: &[(String, i64)],
    (topic, notices): (&str, &[(String, String)]),
) {
    let record = item.map_or_else(
        || "(none)".to_owned(),
        |i| serde_json::to_string_pretty(&telephony_aws::item::item_json(i)).unwrap_or_default(),
    );
    println!("\n== {kind} record ({table}):\n{record}");
    println!("\n== S3 s3://{}", deps.config.recordings_bucket);
    if objects.is_empty() {
        println!("   (nothing stored)");
    }
    for (key, size) in objects {
        println!("   {key} ({size} bytes)");
    }
    println!("\n== SNS messages on {topic}");
    if notices.is_empty() {
        println!("   (none)");
    }
    for (subject, message) in notices {
        println!("   [{subject}] {message}");
    }
    println!();
}

/// The SNS messages sent to `topic_arn` that mention `needle` (moto's data API; local only):
/// subject and message.
async fn sns_notices(
    topic_arn: &str,
    needle: &str,
) -> Result<Vec<(String, String)>, Box<dyn std::error::Error>> {
    let Ok(endpoint) = std::env::var("AWS_ENDPOINT_URL") else {
        return Ok(Vec::new());
    };
    Ok(call_simulator::moto_sns_messages(&endpoint, topic_arn)
        .await?
        .into_iter()
        .filter(|(_, m)| m.contains(needle))
        .collect())
}

/// Prints the operator's view of the local stack: the nine views (1 h / 24 h / 7 d) and the
/// monitor's gauges, exactly as `GET /ops/metrics/summary` and the monitor compute them.
async fn summary() -> Result<(), Box<dyn std::error::Error>> {
    let config = Config::from_env()?;
    let sdk = AwsTarget::from_env()?.sdk_config();
    let deps = Deps::new(config, &sdk);
    let now = telephony_aws::now_secs();
    let summary = telephony_aws::ops::summary(&deps, now).await?;
    println!(
        "== summary (GET /ops/metrics/summary; rates shown as percentages, the API gives 0-1)\n{}",
        serde_json::to_string_pretty(&as_percentages(serde_json::to_value(&summary)?))?
    );
    let gauges = telephony_aws::ops::gauges(&deps, now).await?;
    println!(
        "\n== monitor gauges\n{}",
        serde_json::to_string_pretty(&as_percentages(serde_json::to_value(&gauges)?))?
    );
    Ok(())
}

/// Every number under a key ending in `_rate` (a 0–1 fraction in the API) as a percentage
/// string, `0.5` → `"50.0 %"`.
fn as_percentages(v: serde_json::Value) -> serde_json::Value {
    use serde_json::Value;
    match v {
        Value::Object(m) => Value::Object(
            m.into_iter()
                .map(|(k, v)| {
                    let v = match (&v, k.ends_with("_rate")) {
                        (Value::Number(n), true) => {
                            Value::String(format!("{:.1} %", n.as_f64().unwrap_or(0.0) * 100.0))
                        }
                        _ => as_percentages(v),
                    };
                    (k, v)
                })
                .collect(),
        ),
        Value::Array(a) => Value::Array(a.into_iter().map(as_percentages).collect()),
        other => other,
    }
}

/// Checks the configured numbers (`SALES_TARGET_E164`, `SUPPORT_TARGET_E164`, `HOTLINE_E164`)
/// against libphonenumber's numbering plans, which the functions themselves only check for
/// E.164 syntax (the `numbering-plan` crate says why). Exits non-zero naming each bad one.
fn check_config() -> Result<(), Box<dyn std::error::Error>> {
    let config = Config::from_env()?;
    let d = &config.default_number;
    let mut bad = Vec::new();
    for (name, n) in [
        ("SALES_TARGET_E164", d.sales_target.as_ref()),
        ("SUPPORT_TARGET_E164", d.support_target.as_ref()),
        ("HOTLINE_E164", config.hotline.as_ref()),
    ] {
        if let Some(Err(e)) = n.map(numbering_plan::check) {
            bad.push(format!("{name}: {e}"));
        }
    }
    if bad.is_empty() {
        println!("configured numbers: valid numbers of their countries");
        Ok(())
    } else {
        Err(format!("not a number of its country: {}", bad.join("; ")).into())
    }
}

/// The AI receptionist's tool calls and their results, from the session's history.
async fn print_tool_calls(deps: &Deps, call_sid: &str) -> Result<(), Box<dyn std::error::Error>> {
    let Some(conv) = deps.calls().raw_item(&format!("conv#{call_sid}")).await? else {
        return Ok(());
    };
    let history: Vec<serde_json::Value> = conv
        .get("history")
        .and_then(|h| h.as_s().ok())
        .and_then(|h| serde_json::from_str(h).ok())
        .unwrap_or_default();
    println!("\n== AI receptionist tool calls");
    for m in &history {
        for c in m["tool_calls"].as_array().into_iter().flatten() {
            println!(
                "   {} {}",
                c["function"]["name"].as_str().unwrap_or(""),
                c["function"]["arguments"].as_str().unwrap_or("")
            );
        }
        if m["role"] == "tool" {
            println!("     → {}", m["content"].as_str().unwrap_or(""));
        }
    }
    if history.is_empty() {
        println!("   (no transcript kept: the caller declined recording)");
    }
    Ok(())
}
