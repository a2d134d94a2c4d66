//! `tradeline-ops`: the operator CLI of the ops API (issue 9).
//!
//! ```text
//! tradeline-ops [--api-url URL] [--region R] [--json] numbers onboard --org acme \
//!     --business "Acme Plumbing" --country CA [--area-code 587] [--sales +1…] [--support +1…] \
//!     [--language fr-CA] [--key K]
//! tradeline-ops numbers list | show +1… | release +1… [--key K]
//! tradeline-ops numbers webhooks +1… [--voice-url U] [--voice-fallback-url U] \
//!     [--status-callback U] [--sms-url U] [--key K]          (none given: re-apply ours)
//! tradeline-ops numbers config +1… [--business N] [--sales +1…] [--support +1…] \
//!     [--language L] [--auto-reply TEXT] [--speech on|off] [--missed-call-text on|off] [--whatsapp on|off] [--whatsapp-template HX…] \
//!     [--timezone TZ --hours "mon-fri 09:00-17:00"] [--holidays CA-AB] \
//!     [--closures 2026-12-24,2026-12-31] [--after-hours +1…] \
//!     [--ai on|off] [--ai-stream-url wss://…] [--ai-share 0-100] [--key K]   (reads the version, sends If-Match)
//! tradeline-ops a2p status ORG
//! tradeline-ops a2p enable ORG [--us on|off] [--customer-bundle BU…] [--a2p-bundle BU…] \
//!     [--messaging-service MG…] [--campaign campaign.json] [--key K]
//! tradeline-ops hosted-sms order +1… --org ORG --contact +1… --address AD… --email E [--name N] [--key K]
//! tradeline-ops hosted-sms status +1… | cancel +1… [--key K]
//! tradeline-ops port-in start --file port-in.json [--key K] | status +1… | cancel +1… [--key K]
//! tradeline-ops privacy find|export|erase --number +1… [--org ORG] [--dry-run] [--out FILE] [--key K]
//! tradeline-ops privacy request PR…
//! tradeline-ops summary
//! ```
//!
//! The API URL comes from `--api-url` or `TRADELINE_API_URL`; credentials and region from the
//! standard AWS chain (environment, `~/.aws` profiles, SSO-less web identity, container and
//! instance roles; `AWS_REGION`/`--region`). Every request is SigV4-signed for `execute-api`.
//! Writes carry an `Idempotency-Key` (printed; pass it again with `--key` to repeat a request
//! whose answer was lost). Numbers given on the command line are checked against their
//! country's numbering plan (libphonenumber) before anything is sent.
//!
//! Exit status: 0 done; 1 the API refused or failed (its error is printed); 2 bad usage.

use serde_json::{json, Value};
use std::process::ExitCode;

mod privacy;
use std::time::Instant;
use tradeline_ops::client::{new_key, Answer, Api};
use tradeline_ops::output::{cell, table};

const USAGE: &str = "usage: tradeline-ops [--api-url URL] [--region R] [--json] <command>
commands:
  numbers onboard --org ORG --business NAME --country CA|US [--area-code NNN]
                  [--sales E164] [--support E164] [--language en-CA|en-US|fr-CA] [--key K]
  numbers list
  numbers show E164
  numbers release E164 [--key K]
  numbers webhooks E164 [--voice-url U] [--voice-fallback-url U] [--status-callback U] [--sms-url U] [--key K]
  numbers config E164 [--business NAME] [--sales E164] [--support E164] [--language L] [--auto-reply TEXT] [--speech on|off] [--missed-call-text on|off] [--whatsapp on|off] [--whatsapp-template HX…]
                 [--timezone TZ --hours \"mon-fri 09:00-17:00\"] [--holidays CA-AB] [--closures 2026-12-24,…] [--after-hours E164]
                 [--ai on|off] [--ai-stream-url wss://…] [--ai-share PERCENT]
                 [--screening on|off|auto] [--screen-sales …] [--screen-support …] [--screen-after-hours …]
                 [--robocall-gate off|unverified|failed-only] [--key K]
  a2p status ORG
  a2p enable ORG [--us on|off] [--customer-bundle BU…] [--a2p-bundle BU…] [--messaging-service MG…]
                 [--campaign FILE.json] [--key K]
  hosted-sms order E164 --org ORG --contact E164 --address AD… --email EMAIL [--name NAME] [--key K]
  hosted-sms status E164
  hosted-sms cancel E164 [--key K]
  port-in start --file FILE.json [--key K]
  port-in status E164
  port-in cancel E164 [--key K]
  privacy find|export|erase --number E164 [--org ORG] [--dry-run] [--out FILE.json] [--key K]
  privacy request REQUEST_ID
  summary
environment: TRADELINE_API_URL (or --api-url), AWS credentials and region (standard chain)";

struct Args {
    words: Vec<String>,
    options: Vec<(String, String)>,
    json: bool,
    dry_run: bool,
}

fn parse_args(raw: Vec<String>) -> Result<Args, String> {
    let mut words = Vec::new();
    let mut options = Vec::new();
    let mut json = false;
    let mut dry_run = false;
    let mut it = raw.into_iter();
    while let Some(a) = it.next() {
        if a == "--json" {
            json = true;
        } else if a == "--dry-run" {
            dry_run = true;
        } else if a == "--help" || a == "-h" {
            return Err(String::new());
        } else if let Some(name) = a.strip_prefix("--") {
            let v = it.next().ok_or_else(|| format!("--{name} needs a value"))?;
            options.push((name.to_owned(), v));
        } else {
            words.push(a);
        }
    }
    Ok(Args {
        words,
        options,
        json,
        dry_run,
    })
}

impl Args {
    fn opt(&self, name: &str) -> Option<&str> {
        self.options
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// Refuses options this command does not take.
    fn only(&self, allowed: &[&str]) -> Result<(), Fail> {
        for (k, _) in &self.options {
            if !allowed.contains(&k.as_str()) && !["api-url", "region"].contains(&k.as_str()) {
                return Err(Fail::Usage(format!("unknown option --{k}")));
            }
        }
        Ok(())
    }
}

/// A number from the command line: E.164 and valid in its country's numbering plan.
///
/// Errors: an input error naming the option and the number (the operator's own input, shown
/// unmasked).
fn number(what: &str, raw: &str) -> Result<String, Fail> {
    numbering_plan::parse(raw)
        .map(|n| n.as_str().to_owned())
        .map_err(|_| {
            Fail::Input(format!(
                "{what} {raw}: not a valid number of its country (E.164 with + and country code, checked with libphonenumber)"
            ))
        })
}

/// Why the CLI stopped before the API answered (exit status 2).
enum Fail {
    /// Bad usage: the message (if any), then the usage text.
    Usage(String),
    /// Bad input, or the API unreachable: the message only.
    Input(String),
}

impl From<String> for Fail {
    fn from(m: String) -> Self {
        Fail::Input(m)
    }
}

impl From<&str> for Fail {
    fn from(m: &str) -> Self {
        Fail::Input(m.to_owned())
    }
}

fn progress(step: usize, of: usize, what: &str) {
    eprintln!("[{step}/{of}] {what}");
}

async fn connect(args: &Args) -> Result<Api, String> {
    let base_url = args
        .opt("api-url")
        .map(str::to_owned)
        .or_else(|| std::env::var("TRADELINE_API_URL").ok())
        .ok_or("set TRADELINE_API_URL or --api-url (make ops sets the local one)")?;
    use aws_smithy_http_client::tls;
    let http_client = aws_smithy_http_client::Builder::new()
        .tls_provider(tls::Provider::Rustls(
            tls::rustls_provider::CryptoMode::Ring,
        ))
        .build_https();
    let mut loader =
        aws_config::defaults(aws_config::BehaviorVersion::latest()).http_client(http_client);
    if let Some(r) = args.opt("region") {
        loader = loader.region(aws_config::Region::new(r.to_owned()));
    }
    let conf = loader.load().await;
    let region = conf
        .region()
        .map(|r| r.to_string())
        .ok_or("no AWS region: set AWS_REGION or --region")?;
    use aws_credential_types::provider::ProvideCredentials;
    let credentials = conf
        .credentials_provider()
        .ok_or("no AWS credentials provider")?
        .provide_credentials()
        .await
        .map_err(|e| format!("AWS credentials: {e}"))?;
    Ok(Api {
        base_url,
        region,
        credentials,
        http: reqwest::Client::new(),
    })
}

/// Prints an API error and returns exit status 1.
fn refused(a: &Answer) -> ExitCode {
    let e = &a.body["error"];
    if e.is_object() {
        eprintln!(
            "error {}: {} ({})",
            a.status,
            cell(&e["message"]),
            cell(&e["code"])
        );
    } else {
        eprintln!("error {}: {}", a.status, a.body);
    }
    ExitCode::from(1)
}

fn show(args: &Args, value: &Value, human: impl FnOnce(&Value) -> String) {
    if args.json {
        println!(
            "{}",
            serde_json::to_string_pretty(value).unwrap_or_default()
        );
    } else {
        print!("{}", human(value));
    }
}

fn fields(v: &Value, keys: &[&str]) -> String {
    table(
        &["FIELD", "VALUE"],
        &keys
            .iter()
            .map(|k| vec![(*k).to_owned(), cell(&v[*k])])
            .collect::<Vec<_>>(),
    )
}

fn key_of(args: &Args) -> String {
    let key = args.opt("key").map_or_else(new_key, str::to_owned);
    eprintln!("idempotency key: {key} (repeat with --key {key})");
    key
}

fn path_number(e164: &str) -> String {
    e164.replace('+', "%2B")
}

const A2P_FIELDS: [&str; 6] = [
    "org_id",
    "us_enabled",
    "a2p_status",
    "brand_sid",
    "campaign_sid",
    "campaign_status",
];
const ORDER_FIELDS: [&str; 4] = ["phone_number", "order_sid", "status", "next_step"];
const PORT_FIELDS: [&str; 6] = [
    "phone_number",
    "port_in_request_sid",
    "status",
    "estimated_foc_date",
    "temporary",
    "signature_request_url",
];

/// A JSON file given on the command line.
fn json_file(path: &str) -> Result<Value, Fail> {
    let text = std::fs::read_to_string(path).map_err(|e| Fail::Input(format!("{path}: {e}")))?;
    serde_json::from_str(&text).map_err(|e| Fail::Input(format!("{path}: {e}")))
}

/// The answer shown (`keys` as a table, or the JSON), or the API's refusal.
fn answered(args: &Args, a: &Answer, keys: &[&str]) -> Result<ExitCode, Fail> {
    if !(200..300).contains(&a.status) {
        return Ok(refused(a));
    }
    show(args, &a.body, |v| fields(v, keys));
    Ok(ExitCode::SUCCESS)
}

/// A write with an idempotency key, then [`answered`].
async fn post(
    args: &Args,
    method: &str,
    path: &str,
    body: Option<Value>,
    keys: &[&str],
) -> Result<ExitCode, Fail> {
    let api = connect(args).await?;
    let key = key_of(args);
    let a = api
        .send(method, path, &[("idempotency-key", &key)], body.as_ref())
        .await?;
    answered(args, &a, keys)
}

async fn run(args: Args) -> Result<ExitCode, Fail> {
    let words: Vec<&str> = args.words.iter().map(String::as_str).collect();
    match words.as_slice() {
        ["numbers", "onboard"] => {
            args.only(&[
                "org",
                "business",
                "country",
                "area-code",
                "sales",
                "support",
                "language",
                "key",
            ])?;
            progress(1, 3, "checking the request");
            let mut body = json!({
                "org_id": args.opt("org").ok_or(Fail::Usage("--org is required".into()))?,
                "business_name": args.opt("business").ok_or(Fail::Usage("--business is required".into()))?,
                "country": args.opt("country").ok_or(Fail::Usage("--country is required".into()))?,
            });
            if let Some(a) = args.opt("area-code") {
                body["area_code"] = a.into();
            }
            for (opt, field) in [("sales", "sales_target"), ("support", "support_target")] {
                if let Some(n) = args.opt(opt) {
                    body[field] = number(&format!("--{opt}"), n)?.into();
                }
            }
            if let Some(l) = args.opt("language") {
                body["language"] = l.into();
            }
            let api = connect(&args).await?;
            let key = key_of(&args);
            progress(
                2,
                3,
                "onboarding: search, buy, bind webhooks, record (one saga at the API)",
            );
            let started = Instant::now();
            let a = api
                .send(
                    "POST",
                    "/ops/numbers/onboard",
                    &[("idempotency-key", &key)],
                    Some(&body),
                )
                .await?;
            eprintln!(
                "      {} in {:.2} s",
                a.status,
                started.elapsed().as_secs_f64()
            );
            if a.status != 201 {
                return Ok(refused(&a));
            }
            let e164 = a.body["e164"].as_str().unwrap_or_default().to_owned();
            progress(3, 3, &format!("verifying {e164} at Twilio"));
            let check = api
                .send(
                    "GET",
                    &format!("/ops/numbers/{}", path_number(&e164)),
                    &[],
                    None,
                )
                .await?;
            let mut out = a.body.clone();
            out["webhooks_ok"] = check.body["webhooks_ok"].clone();
            show(&args, &out, |v| {
                fields(
                    v,
                    &[
                        "e164",
                        "phone_sid",
                        "matched_by",
                        "region",
                        "account_sid",
                        "subaccount_created",
                        "messaging_service_sid",
                        "voice_url",
                        "voice_fallback_url",
                        "status_callback",
                        "sms_url",
                        "webhooks_ok",
                        "transaction_id",
                    ],
                )
            });
            Ok(ExitCode::SUCCESS)
        }
        ["numbers", "list"] => {
            args.only(&[])?;
            let a = connect(&args)
                .await?
                .send("GET", "/ops/numbers", &[], None)
                .await?;
            if a.status != 200 {
                return Ok(refused(&a));
            }
            show(&args, &a.body, |v| {
                let rows: Vec<Vec<String>> = v["numbers"]
                    .as_array()
                    .map(|l| {
                        l.iter()
                            .map(|n| {
                                vec![
                                    cell(&n["e164"]),
                                    cell(&n["config"]["org_id"]),
                                    cell(&n["config"]["business_name"]),
                                    cell(&n["at_twilio"]),
                                    cell(&n["in_table"]),
                                    cell(&n["webhooks_ok"]),
                                ]
                            })
                            .collect()
                    })
                    .unwrap_or_default();
                table(
                    &[
                        "E164",
                        "ORG",
                        "BUSINESS",
                        "AT_TWILIO",
                        "IN_TABLE",
                        "WEBHOOKS_OK",
                    ],
                    &rows,
                )
            });
            Ok(ExitCode::SUCCESS)
        }
        ["numbers", "show", n] => {
            args.only(&[])?;
            let n = number("number", n)?;
            let a = connect(&args)
                .await?
                .send(
                    "GET",
                    &format!("/ops/numbers/{}", path_number(&n)),
                    &[],
                    None,
                )
                .await?;
            if a.status != 200 {
                return Ok(refused(&a));
            }
            show(&args, &a.body, |v| {
                let mut flat = v["config"].clone();
                if !flat.is_object() {
                    flat = json!({});
                }
                flat["e164"] = v["e164"].clone();
                flat["webhooks_ok"] = v["webhooks_ok"].clone();
                flat["voice_url"] = v["twilio"]["voice_url"].clone();
                flat["sms_url"] = v["twilio"]["sms_url"].clone();
                fields(
                    &flat,
                    &[
                        "e164",
                        "org_id",
                        "business_name",
                        "language",
                        "sales_target",
                        "support_target",
                        "phone_sid",
                        "account_sid",
                        "version",
                        "voice_url",
                        "sms_url",
                        "webhooks_ok",
                    ],
                )
            });
            Ok(ExitCode::SUCCESS)
        }
        ["numbers", "release", n] => {
            args.only(&["key"])?;
            let n = number("number", n)?;
            let api = connect(&args).await?;
            let key = key_of(&args);
            let a = api
                .send(
                    "DELETE",
                    &format!("/ops/numbers/{}", path_number(&n)),
                    &[("idempotency-key", &key)],
                    None,
                )
                .await?;
            if a.status != 200 {
                return Ok(refused(&a));
            }
            show(&args, &a.body, |v| {
                fields(v, &["e164", "released", "phone_sid"])
            });
            Ok(ExitCode::SUCCESS)
        }
        ["numbers", "webhooks", n] => {
            let names = [
                "voice-url",
                "voice-fallback-url",
                "status-callback",
                "sms-url",
                "key",
            ];
            args.only(&names)?;
            let n = number("number", n)?;
            let mut body = json!({});
            for name in &names[..4] {
                if let Some(v) = args.opt(name) {
                    body[name.replace('-', "_")] = (*v).into();
                }
            }
            let api = connect(&args).await?;
            let key = key_of(&args);
            let a = api
                .send(
                    "PATCH",
                    &format!("/ops/numbers/{}/webhooks", path_number(&n)),
                    &[("idempotency-key", &key)],
                    Some(&body),
                )
                .await?;
            if a.status != 200 {
                return Ok(refused(&a));
            }
            show(&args, &a.body, |v| {
                fields(v, &["e164", "phone_sid", "sent", "voice_url", "sms_url"])
            });
            Ok(ExitCode::SUCCESS)
        }
        ["numbers", "config", n] => {
            args.only(&[
                "business",
                "sales",
                "support",
                "language",
                "auto-reply",
                "speech",
                "missed-call-text",
                "whatsapp",
                "whatsapp-template",
                "ai",
                "ai-stream-url",
                "ai-share",
                "timezone",
                "hours",
                "holidays",
                "closures",
                "after-hours",
                "screening",
                "screen-sales",
                "screen-support",
                "screen-after-hours",
                "robocall-gate",
                "key",
            ])?;
            let n = number("number", n)?;
            let mut body = json!({});
            if let Some(v) = args.opt("business") {
                body["business_name"] = v.into();
            }
            for (opt, field) in [("sales", "sales_target"), ("support", "support_target")] {
                if let Some(v) = args.opt(opt) {
                    body[field] = number(&format!("--{opt}"), v)?.into();
                }
            }
            if let Some(v) = args.opt("language") {
                body["language"] = v.into();
            }
            if let Some(v) = args.opt("auto-reply") {
                body["sms_auto_reply"] = v.into();
            }
            for (opt, field) in [
                ("timezone", "timezone"),
                ("hours", "hours"),
                ("holidays", "holiday_region"),
                ("closures", "closures"),
            ] {
                if let Some(v) = args.opt(opt) {
                    body[field] = v.into();
                }
            }
            if let Some(v) = args.opt("after-hours") {
                body["after_hours_target"] = if v.is_empty() {
                    v.into()
                } else {
                    number("--after-hours", v)?.into()
                };
            }
            if let Some(v) = args.opt("whatsapp-template") {
                body["whatsapp_template_sid"] = v.into();
            }
            for (opt, field) in [
                ("speech", "speech_input"),
                ("missed-call-text", "missed_call_text"),
                ("whatsapp", "whatsapp_enabled"),
            ] {
                if let Some(v) = args.opt(opt) {
                    body[field] = match v {
                        "on" | "true" => true.into(),
                        "off" | "false" => false.into(),
                        _ => return Err(Fail::Usage(format!("--{opt} takes on or off"))),
                    };
                }
            }
            let mut ai = serde_json::Map::new();
            if let Some(v) = args.opt("ai") {
                let on = match v {
                    "on" | "true" => true,
                    "off" | "false" => false,
                    _ => return Err(Fail::Usage("--ai takes on or off".into())),
                };
                ai.insert("enabled".into(), on.into());
            }
            if let Some(v) = args.opt("ai-stream-url") {
                ai.insert("stream_url".into(), v.into());
            }
            if let Some(v) = args.opt("ai-share") {
                let share: u8 = v
                    .parse()
                    .ok()
                    .filter(|p| *p <= 100)
                    .ok_or_else(|| Fail::Usage("--ai-share takes a percent, 0-100".into()))?;
                ai.insert("share".into(), share.into());
            }
            if !ai.is_empty() {
                body["ai"] = ai.into();
            }
            let mut screening = serde_json::Map::new();
            for (opt, field) in [
                ("screening", "default"),
                ("screen-sales", "sales"),
                ("screen-support", "support"),
                ("screen-after-hours", "after_hours"),
            ] {
                if let Some(v) = args.opt(opt) {
                    screening.insert(field.into(), v.into());
                }
            }
            if !screening.is_empty() {
                body["screening"] = screening.into();
            }
            if let Some(v) = args.opt("robocall-gate") {
                body["robocall_gate"] = v.into();
            }
            let api = connect(&args).await?;
            let path = format!("/ops/numbers/{}", path_number(&n));
            progress(1, 2, "reading the current version");
            let current = api.send("GET", &path, &[], None).await?;
            if current.status != 200 {
                return Ok(refused(&current));
            }
            let version = current.body["config"]["version"]
                .as_u64()
                .ok_or("the number has no configuration to change (not in the numbers table)")?
                .to_string();
            let key = key_of(&args);
            progress(2, 2, &format!("updating (If-Match: {version})"));
            let a = api
                .send(
                    "PUT",
                    &format!("{path}/config"),
                    &[("idempotency-key", &key), ("if-match", &version)],
                    Some(&body),
                )
                .await?;
            if a.status != 200 {
                return Ok(refused(&a));
            }
            show(&args, &a.body, |v| fields(v, &["e164", "version"]));
            Ok(ExitCode::SUCCESS)
        }
        ["a2p", "status", org] => {
            args.only(&[])?;
            let a = connect(&args)
                .await?
                .send("GET", &format!("/ops/orgs/{org}/a2p"), &[], None)
                .await?;
            answered(&args, &a, &A2P_FIELDS)
        }
        ["a2p", "enable", org] => {
            args.only(&[
                "us",
                "customer-bundle",
                "a2p-bundle",
                "messaging-service",
                "campaign",
                "key",
            ])?;
            let us = match args.opt("us").unwrap_or("on") {
                "on" | "true" => true,
                "off" | "false" => false,
                _ => return Err(Fail::Usage("--us takes on or off".into())),
            };
            let mut body = json!({ "us_enabled": us });
            for (opt, field) in [
                ("customer-bundle", "customer_profile_bundle_sid"),
                ("a2p-bundle", "a2p_profile_bundle_sid"),
                ("messaging-service", "messaging_service_sid"),
            ] {
                if let Some(v) = args.opt(opt) {
                    body[field] = v.into();
                }
            }
            if let Some(file) = args.opt("campaign") {
                body["campaign"] = json_file(file)?;
            }
            let path = format!("/ops/orgs/{org}/a2p");
            post(&args, "POST", &path, Some(body), &A2P_FIELDS).await
        }
        ["hosted-sms", "order", n] => {
            args.only(&["org", "contact", "address", "email", "name", "key"])?;
            let n = number("number", n)?;
            let need = |o: &str| {
                args.opt(o)
                    .ok_or_else(|| Fail::Usage(format!("--{o} is required")))
            };
            let mut body = json!({
                "org_id": need("org")?,
                "phone_number": n,
                "contact_phone_number": number("--contact", need("contact")?)?,
                "address_sid": need("address")?,
                "email": need("email")?,
            });
            if let Some(name) = args.opt("name") {
                body["friendly_name"] = name.into();
            }
            post(
                &args,
                "POST",
                "/ops/numbers/hosted-sms",
                Some(body),
                &ORDER_FIELDS,
            )
            .await
        }
        ["hosted-sms", "status", n] => {
            args.only(&[])?;
            let n = number("number", n)?;
            let path = format!("/ops/numbers/hosted-sms/{}", path_number(&n));
            let a = connect(&args).await?.send("GET", &path, &[], None).await?;
            answered(&args, &a, &ORDER_FIELDS)
        }
        ["hosted-sms", "cancel", n] => {
            args.only(&["key"])?;
            let n = number("number", n)?;
            let path = format!("/ops/numbers/hosted-sms/{}", path_number(&n));
            post(&args, "DELETE", &path, None, &ORDER_FIELDS).await
        }
        ["port-in", "start"] => {
            args.only(&["file", "key"])?;
            let file = args
                .opt("file")
                .ok_or_else(|| Fail::Usage("--file is required".into()))?;
            let body = json_file(file)?;
            if let Some(n) = body["phone_number"].as_str() {
                number("phone_number", n)?;
            }
            post(
                &args,
                "POST",
                "/ops/numbers/port-in",
                Some(body),
                &PORT_FIELDS,
            )
            .await
        }
        ["port-in", "status", n] => {
            args.only(&[])?;
            let n = number("number", n)?;
            let path = format!("/ops/numbers/port-in/{}", path_number(&n));
            let a = connect(&args).await?.send("GET", &path, &[], None).await?;
            answered(&args, &a, &PORT_FIELDS)
        }
        ["port-in", "cancel", n] => {
            args.only(&["key"])?;
            let n = number("number", n)?;
            let path = format!("/ops/numbers/port-in/{}", path_number(&n));
            post(&args, "DELETE", &path, None, &PORT_FIELDS).await
        }
        ["privacy", action @ ("find" | "export" | "erase")] => privacy::run(&args, action).await,
        ["privacy", "request", id] => {
            let api = connect(&args).await?;
            let a = api
                .send("GET", &format!("/ops/privacy/requests/{id}"), &[], None)
                .await?;
            answered(
                &args,
                &a,
                &[
                    "id",
                    "action",
                    "number",
                    "scope",
                    "principal",
                    "status",
                    "counts",
                    "created_at",
                    "finished_at",
                    "expires_at",
                ],
            )
        }
        ["summary"] => {
            args.only(&[])?;
            let a = connect(&args)
                .await?
                .send("GET", "/ops/metrics/summary", &[], None)
                .await?;
            if a.status != 200 {
                return Ok(refused(&a));
            }
            println!(
                "{}",
                serde_json::to_string_pretty(&a.body).unwrap_or_default()
            );
            Ok(ExitCode::SUCCESS)
        }
        _ => Err(Fail::Usage(String::new())),
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = match parse_args(std::env::args().skip(1).collect()) {
        Ok(a) => a,
        Err(e) => {
            if !e.is_empty() {
                eprintln!("{e}");
            }
            eprintln!("{USAGE}");
            return ExitCode::from(2);
        }
    };
    match run(args).await {
        Ok(code) => code,
        Err(Fail::Input(e)) => {
            eprintln!("{e}");
            ExitCode::from(2)
        }
        Err(Fail::Usage(e)) => {
            if !e.is_empty() {
                eprintln!("{e}");
            }
            eprintln!("{USAGE}");
            ExitCode::from(2)
        }
    }
}
