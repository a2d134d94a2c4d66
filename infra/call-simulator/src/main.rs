//! `call-simulator`: plays one call (or sends one text) against the local stack (`make run`) as
//! Twilio would, prints every reply, then what was stored: the call or message record, the S3
//! objects and the SNS notices.
//!
//! Reads the stack's settings from the environment (`make call` / `make text` load
//! `.local/stack.env`).
//! Call options: `--digits 1,1` (per Gather; `-` = silence), `--dial no-answer|busy|completed|failed`,
//! `--message-seconds 7`, `--from +14165550123`, `--to +15877428885`, `--target URL`.
//! Text: `call-simulator text --body "STOP" [--media photo.png]… [--from …] [--to …]`.
//! Summary: `call-simulator summary` prints what an operator sees (the ops API's summary and the
//! monitor's gauges) from the local stack.

use call_simulator::{media, play_call, HttpTransport, Script};
use telephony_aws::deps::AwsTarget;
use telephony_aws::{Config, Deps};

fn arg(args: &[String], name: &str, default: &str) -> String {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .cloned()
        .unwrap_or_else(|| default.to_owned())
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    match args.get(1).map(String::as_str) {
        Some("text") => return text(&args).await,
        Some("summary") => return summary().await,
        Some("check-config") => return check_config(),
        _ => {}
    }
    let (config, token, media) = fake_twilio(media::tone_wav(3)).await?;
    let target = arg(&args, "--target", &config.public_base_url);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)?
        .as_nanos();
    let script = Script {
        call_sid: format!("CA{:032x}", nanos),
        from: arg(&args, "--from", "+14165550123"),
        to: arg(&args, "--to", "+15877428885"),
        account_sid: config.account_sid.clone(),
        digits: arg(&args, "--digits", "1,1")
            .split(',')
            .map(|d| Some(d.trim().to_owned()).filter(|d| !d.is_empty() && d != "-"))
            .collect(),
        dial_status: arg(&args, "--dial", "no-answer"),
        message_seconds: arg(&args, "--message-seconds", "7").parse()?,
        transcript: "Hi, this is Sam from Calgary, please call me back about a quote.".into(),
        media_base_url: media.base_url.clone(),
        auth_token: token,
        max_requests: 40,
        retry_backoff: std::time::Duration::from_millis(50),
    };
    let transport = HttpTransport::new(&config.public_base_url, &target);
    let voice_url = format!("{}/voice-frontdoor", config.public_base_url);
    println!(
        "== call {} from {} to {}",
        script.call_sid, script.from, script.to
    );
    let log = play_call(&transport, &script, &voice_url).await;
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
    println!(
        "\n== call ended: {}; recordings served: {}",
        log.ended,
        media.downloads()
    );

    let sdk = AwsTarget::from_env()?.sdk_config();
    let deps = Deps::new(config, &sdk);
    let item = deps.calls().raw_item(&script.call_sid).await?;
    println!("\n== call record ({}):\n{item:#?}", deps.config.calls_table);
    print_s3(&deps, &format!("recordings/{}/", script.call_sid)).await?;
    print_sns(&deps.config.voicemail_topic_arn, &script.call_sid).await?;
    if log.ended.starts_with("error:") {
        return Err(log.ended.into());
    }
    Ok(())
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

/// The stack's configuration, the auth token to sign with, and the fake Twilio media host
/// listening on `TWILIO_API_BASE`'s port (serving `wav` as every recording).
async fn fake_twilio(
    wav: Vec<u8>,
) -> Result<(Config, String, media::MediaServer), Box<dyn std::error::Error>> {
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
    let media = media::serve(wav, &config.account_sid, &token, port).await?;
    Ok((config, token, media))
}

/// Sends one signed inbound text (optionally MMS with local files) and prints what happened.
async fn text(args: &[String]) -> Result<(), Box<dyn std::error::Error>> {
    use call_simulator::Transport as _;
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
    let mut params: Vec<(String, String)> = [
        ("AccountSid", config.account_sid.clone()),
        ("ApiVersion", "2010-04-01".into()),
        ("MessageSid", sid.clone()),
        ("SmsSid", sid.clone()),
        ("From", arg(args, "--from", "+14165550123")),
        ("To", arg(args, "--to", "+15877428885")),
        ("Body", arg(args, "--body", "Hi, do you service furnaces?")),
        ("NumMedia", files.len().to_string()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect();
    for (i, file) in files.iter().enumerate() {
        let bytes = std::fs::read(file)?;
        let ctype = content_type_of(file);
        let path = format!(
            "/2010-04-01/Accounts/{}/Messages/{sid}/Media/ME{i:032x}",
            config.account_sid
        );
        params.push((format!("MediaUrl{i}"), media.add(&path, ctype, bytes)));
        params.push((format!("MediaContentType{i}"), ctype.to_owned()));
    }
    let url = format!("{}/webcomms-sms-reply", config.public_base_url);
    let transport = HttpTransport::new(
        &config.public_base_url,
        &arg(args, "--target", &config.public_base_url),
    );
    let sig = telephony_core::signature::compute(&token, &url, &params);
    let reply = transport.post(&url, &params, &sig).await;
    println!(
        "== text {sid}\n--> POST /webcomms-sms-reply  [{}]\n{}",
        reply.status, reply.body
    );

    let sdk = AwsTarget::from_env()?.sdk_config();
    let deps = Deps::new(config, &sdk);
    println!(
        "\n== message record ({}):\n{:#?}",
        deps.config.messages_table,
        deps.messages().raw_item(&sid).await?
    );
    print_s3(&deps, &format!("media/{sid}/")).await?;
    print_sns(&deps.config.sms_topic_arn, &sid).await?;
    if reply.status != 200 {
        return Err(format!("HTTP {}", reply.status).into());
    }
    Ok(())
}

/// Lists the bucket's objects under `prefix`.
async fn print_s3(deps: &Deps, prefix: &str) -> Result<(), Box<dyn std::error::Error>> {
    let bucket = &deps.config.recordings_bucket;
    let listed = deps
        .s3
        .list_objects_v2()
        .bucket(bucket)
        .prefix(prefix)
        .send()
        .await?;
    println!("\n== S3 s3://{bucket}/{prefix}");
    for obj in listed.contents() {
        println!(
            "   {} ({} bytes)",
            obj.key().unwrap_or("?"),
            obj.size().unwrap_or(0)
        );
    }
    Ok(())
}

/// Prints the SNS messages sent to `topic_arn` that mention `needle` (moto's data API; local only).
async fn print_sns(topic_arn: &str, needle: &str) -> Result<(), Box<dyn std::error::Error>> {
    let Ok(endpoint) = std::env::var("AWS_ENDPOINT_URL") else {
        return Ok(());
    };
    println!("\n== SNS messages on {topic_arn}");
    for (subject, message) in call_simulator::moto_sns_messages(&endpoint, topic_arn).await? {
        if message.contains(needle) {
            println!("   [{subject}] {message}");
        }
    }
    Ok(())
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
        "== summary (GET /ops/metrics/summary)\n{}",
        serde_json::to_string_pretty(&summary)?
    );
    let gauges = telephony_aws::ops::gauges(&deps, now).await?;
    println!(
        "\n== monitor gauges\n{}",
        serde_json::to_string_pretty(&gauges)?
    );
    Ok(())
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
