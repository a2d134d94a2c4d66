//! Hybrid call forwarding (issue 11) against moto: the tenant API with real RS256 tokens minted
//! with a local test key (its JWKS served over HTTP, as Cognito serves it), tenant isolation,
//! If-Match, rate limits, the codes and the kit, the verification call end to end (Twilio's Calls
//! API on Prism, then the forwarded leg at the frontdoor), and a forwarded customer call routed
//! to its org.

use aws_sdk_dynamodb::types::AttributeValue as A;
use forwarding_api::{auth::Auth, Settings};
use integration_tests::*;
use jsonwebtoken::{encode, Algorithm, EncodingKey, Header};
use serde_json::{json, Value};
use telephony_aws::forwarding::ForwardingState;
use telephony_aws::forwarding::{OrgStore, Transition};

const ISSUER: &str = "https://cognito-idp.ca-central-1.amazonaws.com/ca-central-1_TEST";
const AUDIENCE: &str = "tenant-app-client";
const SIM: &str = "+14035550177";
const FORWARDING_NUMBER: &str = "+15875550190";

/// Serves the test key's JWKS on 127.0.0.1; its URL.
async fn jwks_server() -> String {
    let jwks =
        std::fs::read_to_string(repo_root().join("tests/fixtures/jwt-test-jwks.json")).unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!(
        "http://{}/.well-known/jwks.json",
        listener.local_addr().unwrap()
    );
    tokio::spawn(async move {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        while let Ok((mut sock, _)) = listener.accept().await {
            let body = jwks.clone();
            tokio::spawn(async move {
                let mut buf = [0u8; 4096];
                let _ = sock.read(&mut buf).await;
                let reply = format!(
                    "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = sock.write_all(reply.as_bytes()).await;
            });
        }
    });
    url
}

fn mint(claims: &Value) -> String {
    let der = std::fs::read(repo_root().join("tests/fixtures/jwt-test-key.der")).unwrap();
    let mut header = Header::new(Algorithm::RS256);
    header.kid = Some("local-test-key-1".into());
    // The function's RS256 provider (ring) signs too; without it jsonwebtoken has no backend.
    forwarding_api::jwt_crypto::install();
    encode(&header, claims, &EncodingKey::from_rsa_der(&der)).unwrap()
}

fn claims(org: &str) -> Value {
    let now = telephony_aws::now_secs();
    json!({"iss": ISSUER, "aud": AUDIENCE, "sub": format!("user-{org}"), "exp": now + 600,
        "nbf": now - 10, "iat": now - 10, "custom:org_id": org})
}

fn token(org: &str) -> String {
    mint(&claims(org))
}

struct Api {
    stack: Stack,
    settings: Settings,
}

async fn api(extra: &[(&str, &str)]) -> Api {
    let stack = stack(extra).await;
    let jwks = jwks_server().await;
    let settings = Settings {
        table: stack.resources["ForwardingTable"].clone(),
        auth: Auth::new(ISSUER, AUDIENCE, &jwks, "custom:org_id"),
    };
    Api { stack, settings }
}

/// An API Gateway request with `token` from `ip`.
fn request(
    method: &str,
    path: &str,
    token: Option<&str>,
    ip: &str,
    headers: &[(&str, &str)],
    body: Option<&str>,
) -> telephony_aws::Request {
    let mut h = json!({"host": "api.example"});
    if let Some(t) = token {
        h["authorization"] = format!("Bearer {t}").into();
    }
    for (k, v) in headers {
        h[k.to_ascii_lowercase()] = (*v).into();
    }
    if body.is_some() {
        h["content-type"] = "application/json".into();
    }
    let event = json!({
        "version": "2.0", "routeKey": format!("{method} {path}"), "rawPath": path, "rawQueryString": "",
        "headers": h, "isBase64Encoded": false, "body": body,
        "requestContext": {"accountId": "123456789012", "apiId": "local", "domainName": "api.example",
            "domainPrefix": "api", "http": {"method": method, "path": path, "protocol": "HTTP/1.1",
            "sourceIp": ip, "userAgent": "test"}, "requestId": "r", "routeKey": format!("{method} {path}"),
            "stage": "$default", "time": "22/Nov/2026:12:00:00 +0000", "timeEpoch": 1795262400000u64}
    });
    telephony_aws::event::request_from_event(event).unwrap()
}

impl Api {
    async fn call(
        &self,
        method: &str,
        path: &str,
        org: &str,
        headers: &[(&str, &str)],
        body: Option<&str>,
    ) -> (u16, Value) {
        let t = token(org);
        let req = request(method, path, Some(&t), "203.0.113.7", headers, body);
        let r = to_reply(
            forwarding_api::handle(
                &integration_tests::narrow(&self.stack.deps, &forwarding_api::NEEDS),
                &self.settings,
                req,
            )
            .await,
        );
        (
            r.status,
            serde_json::from_str(&r.body).unwrap_or(Value::String(r.body)),
        )
    }

    fn store<'a>(&'a self, org: &'a str) -> OrgStore<'a> {
        OrgStore::new(self.stack.deps.dynamo(), &self.settings.table, org)
    }

    /// Country CA and an existing forwarding number for `org` (no purchase needed).
    async fn ready(&self, org: &str) {
        let (s, b) = self
            .call(
                "PUT",
                "/forwarding/country",
                org,
                &[("If-Match", "0")],
                Some(r#"{"country": "CA"}"#),
            )
            .await;
        assert_eq!(s, 200, "{b}");
        self.store(org)
            .set_forwarding_number(FORWARDING_NUMBER)
            .await
            .unwrap();
    }

    async fn config(&self, org: &str, sim: &str, carrier: &str, mode: &str) -> Value {
        // A ring time where the carrier has the setting (Telus, Rogers, Verizon… have none).
        let mut body = json!({"sim_e164": sim, "carrier": carrier, "mode": mode});
        let timer = forwarding::Registry::builtin()
            .carriers
            .iter()
            .any(|k| k.slug == carrier && k.no_reply_timer);
        if timer {
            body["ring_time"] = json!(20);
        }
        let body = body.to_string();
        let (s, b) = self
            .call("POST", "/forwarding/configs", org, &[], Some(&body))
            .await;
        assert_eq!(s, 201, "{b}");
        b
    }
}

#[tokio::test]
async fn bad_tokens_are_refused() {
    let a = api(&[]).await;
    let own = integration_tests::narrow(&a.stack.deps, &forwarding_api::NEEDS);
    let send = |t: Option<String>| {
        let req = request(
            "GET",
            "/forwarding/countries",
            t.as_deref(),
            "203.0.113.8",
            &[],
            None,
        );
        forwarding_api::handle(&own, &a.settings, req)
    };
    assert_eq!(send(Some(token("acme"))).await.status(), 200);
    let mut expired = claims("acme");
    expired["exp"] = (telephony_aws::now_secs() - 3600).into();
    let mut audience = claims("acme");
    audience["aud"] = "another-client".into();
    let mut issuer = claims("acme");
    issuer["iss"] = "https://evil.example".into();
    let mut no_org = claims("acme");
    no_org.as_object_mut().unwrap().remove("custom:org_id");
    let mut future = claims("acme");
    future["nbf"] = (telephony_aws::now_secs() + 3600).into();
    let good = token("acme");
    let (head, rest) = good.split_once('.').unwrap();
    let (_, sig) = rest.split_once('.').unwrap();
    let forged_payload = {
        use base64::Engine;
        let p = serde_json::to_vec(&claims("other-org")).unwrap();
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(p)
    };
    let tampered = format!("{head}.{forged_payload}.{sig}");
    for (what, t) in [
        ("none", None),
        ("garbage", Some("not.a.jwt".to_owned())),
        ("bad signature", Some(tampered)),
        ("expired", Some(mint(&expired))),
        ("wrong audience", Some(mint(&audience))),
        ("wrong issuer", Some(mint(&issuer))),
        ("not yet valid", Some(mint(&future))),
        ("no org claim", Some(mint(&no_org))),
    ] {
        let r = send(t).await;
        assert_eq!(r.status(), 401, "{what}");
        assert_eq!(r.headers()["www-authenticate"], "Bearer", "{what}");
    }
}

#[tokio::test]
async fn the_country_is_chosen_from_the_registry_with_if_match() {
    let a = api(&[]).await;
    let (s, b) = a
        .call("GET", "/forwarding/countries", "acme", &[], None)
        .await;
    assert_eq!(s, 200);
    let codes: Vec<&str> = b["countries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["code"].as_str().unwrap())
        .collect();
    // GB is not yet available (no regulatory bundle support): neither listed nor accepted.
    assert_eq!(codes, ["CA", "US", "NG", "TR"]);
    let (s, b) = a
        .call(
            "GET",
            "/forwarding/countries/us/carriers",
            "acme",
            &[],
            None,
        )
        .await;
    assert_eq!(s, 200);
    assert_eq!(b["carriers"][0]["name"], "AT&T");
    let (s, b) = a
        .call(
            "PUT",
            "/forwarding/country",
            "acme",
            &[("If-Match", "0")],
            Some(r#"{"country": "GB"}"#),
        )
        .await;
    assert_eq!(s, 400, "{b}");
    assert!(
        !b["error"]["message"].as_str().unwrap().contains("GB,"),
        "{b}"
    );
    let (s, b) = a
        .call(
            "PUT",
            "/forwarding/country",
            "acme",
            &[("If-Match", "0")],
            Some(r#"{"country": "FR"}"#),
        )
        .await;
    assert_eq!(s, 400);
    assert!(
        b["error"]["message"]
            .as_str()
            .unwrap()
            .contains("supported: CA, US, NG, TR"),
        "{b}"
    );
    let (s, _) = a
        .call(
            "PUT",
            "/forwarding/country",
            "acme",
            &[],
            Some(r#"{"country": "CA"}"#),
        )
        .await;
    assert_eq!(s, 428);
    let (s, b) = a
        .call(
            "PUT",
            "/forwarding/country",
            "acme",
            &[("If-Match", "0")],
            Some(r#"{"country": "CA"}"#),
        )
        .await;
    assert_eq!((s, b["version"].as_u64()), (200, Some(1)), "{b}");
    // The same country again: 200, no change.
    let (s, b) = a
        .call(
            "PUT",
            "/forwarding/country",
            "acme",
            &[("If-Match", "1")],
            Some(r#"{"country": "CA"}"#),
        )
        .await;
    assert_eq!((s, b["changed"].as_bool()), (200, Some(false)), "{b}");
    // A stale version: 409.
    let (s, b) = a
        .call(
            "PUT",
            "/forwarding/country",
            "acme",
            &[("If-Match", "0")],
            Some(r#"{"country": "US"}"#),
        )
        .await;
    assert_eq!(s, 409, "{b}");
    // The change is audited.
    let audit = a
        .stack
        .deps
        .dynamo()
        .query()
        .table_name(&a.settings.table)
        .key_condition_expression("pk = :pk AND begins_with(sk, :a)")
        .expression_attribute_values(":pk", A::S("org#acme".into()))
        .expression_attribute_values(":a", A::S("audit#".into()))
        .send()
        .await
        .unwrap();
    assert_eq!(audit.items().len(), 1);
    assert_eq!(attr_s(&audit.items()[0], "value").as_deref(), Some("CA"));
}

#[tokio::test]
async fn org_b_cannot_read_or_change_org_a_configs() {
    let a = api(&[]).await;
    a.ready("org-a").await;
    let created = a.config("org-a", SIM, "bell", "safety_net").await;
    let id = created["id"].as_str().unwrap().to_owned();
    // Bell: busy, no reply and not reachable one by one, ten digits, a status check for each
    // (issue 22 §1, §3).
    assert_eq!(
        created["codes"]["activation"],
        json!([
            "**67*5875550190#",
            "**61*5875550190*11*20#",
            "**62*5875550190#"
        ])
    );
    assert_eq!(
        created["codes"]["deactivation"],
        json!(["##67#", "##61#", "##62#"])
    );
    assert_eq!(
        created["codes"]["interrogation"],
        json!(["*#67#", "*#61#", "*#62#"])
    );
    assert_eq!(created["verified_conditions"], json!([]));
    assert_eq!(
        created["unverified_conditions"],
        json!(["no_answer", "busy", "not_reachable"])
    );
    // Org B sees nothing and can change nothing of org A's.
    let (s, b) = a
        .call("GET", "/forwarding/configs", "org-b", &[], None)
        .await;
    assert_eq!(s, 200);
    assert_eq!(b["configs"], json!([]));
    for (m, p) in [
        ("GET", format!("/forwarding/configs/{id}/kit")),
        ("DELETE", format!("/forwarding/configs/{id}")),
        ("POST", format!("/forwarding/configs/{id}/verify")),
    ] {
        let (s, _) = a.call(m, &p, "org-b", &[], None).await;
        assert_eq!(s, 404, "{m} {p}");
    }
    let (_, b) = a
        .call("GET", "/forwarding/configs", "org-a", &[], None)
        .await;
    assert_eq!(b["configs"][0]["state"], "pending");
    // A second config for the same SIM: 409; after DELETE (which returns the deactivation code)
    // it may be set up again.
    let body = json!({"sim_e164": SIM, "carrier": "bell", "mode": "total_ai"}).to_string();
    let (s, _) = a
        .call("POST", "/forwarding/configs", "org-a", &[], Some(&body))
        .await;
    assert_eq!(s, 409);
    let (s, b) = a
        .call(
            "DELETE",
            &format!("/forwarding/configs/{id}"),
            "org-a",
            &[],
            None,
        )
        .await;
    assert_eq!((s, b["state"].as_str()), (200, Some("disabled")), "{b}");
    assert_eq!(b["deactivation"], json!(["##67#", "##61#", "##62#"]));
    let (s, _) = a
        .call("POST", "/forwarding/configs", "org-a", &[], Some(&body))
        .await;
    assert_eq!(s, 201);
}

/// The kit's HTML for config `id` of `org` (English).
async fn kit_html(a: &Api, org: &str, id: &str) -> String {
    let t = token(org);
    let req = request(
        "GET",
        &format!("/forwarding/configs/{id}/kit"),
        Some(&t),
        "203.0.113.9",
        &[],
        None,
    );
    let r = to_reply(
        forwarding_api::handle(
            &integration_tests::narrow(&a.stack.deps, &forwarding_api::NEEDS),
            &a.settings,
            req,
        )
        .await,
    );
    assert_eq!(r.status, 200, "{}", r.body);
    r.body
}

#[tokio::test]
async fn the_kit_is_printable_html_in_the_users_language() {
    let a = api(&[]).await;
    a.ready("acme").await;
    let c = a.config("acme", SIM, "rogers", "total_ai").await;
    let id = c["id"].as_str().unwrap();
    let html = kit_html(&a, "acme", id).await;
    for part in [
        "<!DOCTYPE html>",
        "Call forwarding kit",
        "*21*5875550190#",
        "#21#",
        "##002#",
        "*#21#",
        "Estimate:",
        "All calls: not verified yet",
        "3gpp.org",
    ] {
        assert!(html.contains(part), "{part}");
    }
    assert!(
        !html.contains("Forwarding is"),
        "a pending config carries no warning"
    );
    let mut fr = claims("acme");
    fr["locale"] = "fr-CA".into();
    let req = request(
        "GET",
        &format!("/forwarding/configs/{id}/kit"),
        Some(&mint(&fr)),
        "203.0.113.9",
        &[],
        None,
    );
    let r = to_reply(
        forwarding_api::handle(
            &integration_tests::narrow(&a.stack.deps, &forwarding_api::NEEDS),
            &a.settings,
            req,
        )
        .await,
    );
    assert!(
        r.body.contains("Trousse de renvoi d'appel") && r.body.contains("lang=\"fr\""),
        "{}",
        r.body
    );
    // A ring time of 27 s is refused.
    let body = json!({"sim_e164": "+14035550178", "carrier": "bell", "mode": "safety_net", "ring_time": 27}).to_string();
    let (s, b) = a
        .call("POST", "/forwarding/configs", "acme", &[], Some(&body))
        .await;
    assert_eq!(s, 400);
    assert!(b["error"]["message"]
        .as_str()
        .unwrap()
        .contains("5, 10, 15, 20, 25 or 30"));
    // Issue 22 §6: Verizon has no ring-time setting: a ring time is refused as not applying.
    let (s, b) = a
        .call(
            "PUT",
            "/forwarding/country",
            "usorg",
            &[("If-Match", "0")],
            Some(r#"{"country": "US"}"#),
        )
        .await;
    assert_eq!(s, 200, "{b}");
    a.store("usorg")
        .set_forwarding_number("+12125550199")
        .await
        .unwrap();
    let with = json!({"sim_e164": "+12125550178", "carrier": "verizon", "mode": "safety_net", "ring_time": 20}).to_string();
    let (s, b) = a
        .call("POST", "/forwarding/configs", "usorg", &[], Some(&with))
        .await;
    assert_eq!(s, 400, "{b}");
    assert_eq!(b["error"]["code"], "ring_time_not_supported", "{b}");
    assert!(
        b["error"]["message"].as_str().unwrap().contains("Verizon"),
        "{b}"
    );
    let without =
        json!({"sim_e164": "+12125550178", "carrier": "verizon", "mode": "safety_net"}).to_string();
    let (s, b) = a
        .call("POST", "/forwarding/configs", "usorg", &[], Some(&without))
        .await;
    assert_eq!(s, 201, "{b}");
    assert!(b["ring_time"].is_null(), "{b}");
}

/// Headless Chromium (Debian's `chromium`, installed by `make test`; `CHROMIUM` overrides the
/// path) renders `html` to `<out>/<name>.png` and `<out>/<name>.pdf`; the PDF's text
/// (`pdftotext`, Debian's poppler-utils) and its page count.
fn render_in_chromium(html: &str, out: &std::path::Path, name: &str) -> (String, usize) {
    let chromium = std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
    let page = out.join(format!("{name}.html"));
    std::fs::write(&page, html).unwrap();
    let profile = kit_dir(&format!("chromium-{name}"));
    let run = |what: &str| {
        let o = std::process::Command::new(&chromium)
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-pdf-header-footer",
                "--window-size=1240,1754",
                &format!("--user-data-dir={}", profile.display()),
                what,
                &format!("file://{}", page.display()),
            ])
            .output()
            .unwrap_or_else(|e| panic!("{chromium}: {e} (make test installs Debian's chromium)"));
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    };
    let png = out.join(format!("{name}.png"));
    let pdf = out.join(format!("{name}.pdf"));
    run(&format!("--screenshot={}", png.display()));
    run(&format!("--print-to-pdf={}", pdf.display()));
    let img = std::fs::read(&png).unwrap();
    assert_eq!(&img[..8], b"\x89PNG\r\n\x1a\n", "{name}.png is not a PNG");
    let width = u32::from_be_bytes(img[16..20].try_into().unwrap());
    let height = u32::from_be_bytes(img[20..24].try_into().unwrap());
    assert_eq!((width, height), (1240, 1754), "{name}.png");
    let doc = std::fs::read(&pdf).unwrap();
    assert!(doc.starts_with(b"%PDF-"), "{name}.pdf is not a PDF");
    let text = std::process::Command::new("pdftotext")
        .args(["-layout", pdf.to_str().unwrap(), "-"])
        .output()
        .expect("pdftotext (make test installs Debian's poppler-utils)");
    assert!(text.status.success());
    let info = std::process::Command::new("pdfinfo")
        .arg(&pdf)
        .output()
        .expect("pdfinfo");
    let pages = String::from_utf8_lossy(&info.stdout)
        .lines()
        .find_map(|l| l.strip_prefix("Pages:").map(|n| n.trim().parse().unwrap()))
        .expect("pdfinfo: Pages");
    (String::from_utf8_lossy(&text.stdout).into_owned(), pages)
}

/// A fresh directory under `target/forwarding-kit/` (kept after the test: `make kit` shows where).
fn kit_dir(name: &str) -> std::path::PathBuf {
    let d = repo_root().join("target/forwarding-kit").join(name);
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

#[tokio::test]
async fn the_kit_renders_in_chromium_to_png_and_one_pdf_page() {
    let a = api(&[]).await;
    a.ready("acme").await;
    let c = a.config("acme", SIM, "bell", "safety_net").await;
    let id = c["id"].as_str().unwrap();
    let out = kit_dir("out");
    for (lang, locale, expect) in [
        (
            "en",
            "en-CA",
            [
                "Call forwarding kit",
                "Dial **61*5875550190*11*20#",
                "##62#",
                "*#67#",
                "##002#",
                "Estimate",
            ],
        ),
        (
            "fr",
            "fr-CA",
            [
                "Trousse de renvoi d'appel",
                "Composez **61*5875550190*11*20#",
                "##62#",
                "*#67#",
                "##002#",
                "Estimation",
            ],
        ),
    ] {
        let mut cl = claims("acme");
        cl["locale"] = locale.into();
        let req = request(
            "GET",
            &format!("/forwarding/configs/{id}/kit"),
            Some(&mint(&cl)),
            "203.0.113.9",
            &[],
            None,
        );
        let r = to_reply(
            forwarding_api::handle(
                &integration_tests::narrow(&a.stack.deps, &forwarding_api::NEEDS),
                &a.settings,
                req,
            )
            .await,
        );
        assert_eq!(r.status, 200);
        let (text, pages) = render_in_chromium(&r.body, &out, &format!("kit-{lang}"));
        assert_eq!(pages, 1, "the {lang} kit prints on one page");
        let flat = text.split_whitespace().collect::<Vec<_>>().join(" ");
        for part in expect {
            assert!(flat.contains(part), "{lang} PDF lacks {part:?}: {flat}");
        }
    }
    println!("kit rendered: {}/kit-{{en,fr}}.{{png,pdf}}", out.display());
}

#[tokio::test]
async fn the_101st_request_from_one_ip_in_15_minutes_is_refused() {
    let a = api(&[]).await;
    let t = token("acme");
    for i in 0..100 {
        let req = request(
            "GET",
            "/forwarding/countries",
            Some(&t),
            "198.51.100.77",
            &[],
            None,
        );
        let r = forwarding_api::handle(
            &integration_tests::narrow(&a.stack.deps, &forwarding_api::NEEDS),
            &a.settings,
            req,
        )
        .await;
        assert_eq!(r.status(), 200, "request {}", i + 1);
    }
    let req = request(
        "GET",
        "/forwarding/countries",
        Some(&t),
        "198.51.100.77",
        &[],
        None,
    );
    let r = forwarding_api::handle(
        &integration_tests::narrow(&a.stack.deps, &forwarding_api::NEEDS),
        &a.settings,
        req,
    )
    .await;
    assert_eq!(r.status(), 429);
    let retry: u64 = r.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=900).contains(&retry), "{retry}");
    assert_eq!(r.headers()["ratelimit-limit"], "100");
    assert_eq!(r.headers()["ratelimit-remaining"], "0");
    // Another address is not limited; the limit is by API Gateway's sourceIp, never a header.
    let req = request(
        "GET",
        "/forwarding/countries",
        Some(&t),
        "198.51.100.78",
        &[("X-Forwarded-For", "198.51.100.77")],
        None,
    );
    assert_eq!(
        forwarding_api::handle(
            &integration_tests::narrow(&a.stack.deps, &forwarding_api::NEEDS),
            &a.settings,
            req
        )
        .await
        .status(),
        200
    );
}

/// The forwarded leg of a call, as Twilio posts it to the Voice URL.
async fn forwarded_call(
    s: &Stack,
    sid: &str,
    from: &str,
    to: &str,
    forwarded_from: &str,
) -> String {
    let p = pairs(&[
        ("AccountSid", ACCOUNT_SID),
        ("CallSid", sid),
        ("CallStatus", "ringing"),
        ("From", from),
        ("To", to),
        ("ForwardedFrom", forwarded_from),
        ("Direction", "inbound"),
    ]);
    let r = post_signed(&s.deps, &format!("{PUBLIC_BASE_URL}/voice-frontdoor"), &p).await;
    assert_eq!(r.status, 200, "{r:?}");
    r.body
}

#[tokio::test]
async fn the_verification_call_comes_back_forwarded_or_times_out() {
    let a = api(&[("TWILIO_API_BASE", prism::api_v2010().base_url.as_str())]).await;
    a.ready("acme").await;
    let c = a.config("acme", SIM, "bell", "safety_net").await;
    let id = c["id"].as_str().unwrap().to_owned();
    // verify: Twilio's Calls API (Prism accepts the request) places the test call.
    let (s, b) = a
        .call(
            "POST",
            &format!("/forwarding/configs/{id}/verify"),
            "acme",
            &[],
            None,
        )
        .await;
    assert_eq!(s, 202, "{b}");
    assert!(b["call_sid"].as_str().unwrap().starts_with("CA"));
    assert!(b["instructions"]
        .as_str()
        .unwrap()
        .contains("Do not answer"));
    // A customer's call forwarded while the verification is under way is not taken for it.
    let reply = forwarded_call(
        &a.stack,
        "CA00000000000000000000000000f00004",
        "+16475550187",
        FORWARDING_NUMBER,
        SIM,
    )
    .await;
    assert!(!reply.contains("Call forwarding is working"), "{reply}");
    let (_, b) = a
        .call("GET", "/forwarding/configs", "acme", &[], None)
        .await;
    assert_eq!(b["configs"][0]["state"], "verifying", "{b}");
    // The carrier forwards our call back: the simulator plays that leg as Twilio delivers it,
    // From our number, ForwardedFrom the SIM.
    let mut sc = script(&a.stack, &[], "completed", 0);
    sc.call_sid = "CA00000000000000000000000000f00001".into();
    sc.from = FORWARDING_NUMBER.into();
    sc.to = FORWARDING_NUMBER.into();
    sc.forwarded_from = Some(SIM.into());
    let log = play(&a.stack, &sc).await;
    assert_eq!(log.ended, "hangup", "{log:?}");
    assert!(
        log.heard
            .iter()
            .any(|h| h.contains("Call forwarding is working")),
        "{:?}",
        log.heard
    );
    assert_eq!(
        log.steps[0]
            .params
            .iter()
            .find(|(k, _)| k == "ForwardedFrom")
            .map(|(_, v)| v.as_str()),
        Some(SIM)
    );
    assert!(log
        .twiml_replies()
        .all(|s| !s.reply.body.contains("<Gather")));
    let (_, b) = a
        .call("GET", "/forwarding/configs", "acme", &[], None)
        .await;
    assert_eq!(b["configs"][0]["state"], "verified", "{b}");

    // Timeout: a verification nobody forwarded is unverified, with the reason, once 90 s passed.
    let other = a
        .config("acme", "+14035550179", "telus", "safety_net")
        .await;
    let oid = other["id"].as_str().unwrap().to_owned();
    let (s, _) = a
        .call(
            "POST",
            &format!("/forwarding/configs/{oid}/verify"),
            "acme",
            &[],
            None,
        )
        .await;
    assert_eq!(s, 202);
    a.stack
        .deps
        .dynamo()
        .update_item()
        .table_name(&a.settings.table)
        .key("pk", A::S("org#acme".into()))
        .key("sk", A::S(format!("config#{oid}")))
        .update_expression("SET verify_started_at = :t")
        .expression_attribute_values(":t", A::N((telephony_aws::now_secs() - 120).to_string()))
        .send()
        .await
        .unwrap();
    let (_, b) = a
        .call("GET", "/forwarding/configs", "acme", &[], None)
        .await;
    let row = b["configs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == oid.as_str())
        .unwrap()
        .clone();
    assert_eq!(row["state"], "unverified", "{row}");
    assert!(
        row["reason"].as_str().unwrap().contains("do not answer"),
        "{row}"
    );
}

#[tokio::test]
async fn a_forwarded_customer_call_is_routed_as_its_org() {
    let a = api(&[]).await;
    a.ready("acme").await;
    a.stack
        .deps
        .dynamo()
        .put_item()
        .table_name(&a.stack.resources["NumbersTable"])
        .item("e164", A::S(FORWARDING_NUMBER.into()))
        .item("business_name", A::S("Acme Forwarded Plumbing".into()))
        .item("language", A::S("en-CA".into()))
        .item("org_id", A::S("acme".into()))
        .send()
        .await
        .unwrap();
    let c = a.config("acme", SIM, "bell", "total_ai").await;
    // A customer calls the business's mobile; the carrier forwards to a shared number of ours.
    // While the config is not verified, the SIM routes nothing: the shared number answers.
    let reply = forwarded_call(
        &a.stack,
        "CA00000000000000000000000000f00012",
        "+16475550188",
        HOTLINE,
        SIM,
    )
    .await;
    assert!(!reply.contains("Acme Forwarded"), "{reply}");
    mark_verified(&a, "acme", c["id"].as_str().unwrap()).await;
    let reply = forwarded_call(
        &a.stack,
        "CA00000000000000000000000000f00002",
        "+16475550188",
        HOTLINE,
        SIM,
    )
    .await;
    assert!(
        reply.contains("Thank you for calling Acme Forwarded Plumbing"),
        "{reply}"
    );
    // The forwarding number is not released while the SIM forwards to it.
    let req = ops_request_with(
        "DELETE",
        &format!("/ops/numbers/{}", FORWARDING_NUMBER.replace('+', "%2B")),
        Some("arn:aws:iam::123456789012:user/operator"),
        &[("Idempotency-Key", "release-1")],
        None,
    );
    let r = to_reply(dispatch(&a.stack.deps, req).await);
    assert_eq!(r.status, 409, "{r:?}");
    assert!(
        r.body.contains("forwarding_active") && r.body.contains("##21#"),
        "{}",
        r.body
    );
    // Without ForwardedFrom, the shared number answers as itself.
    let p = pairs(&[
        ("AccountSid", ACCOUNT_SID),
        ("CallSid", "CA00000000000000000000000000f00003"),
        ("From", "+16475550189"),
        ("To", HOTLINE),
        ("CallStatus", "ringing"),
    ]);
    let r = post_signed(
        &a.stack.deps,
        &format!("{PUBLIC_BASE_URL}/voice-frontdoor"),
        &p,
    )
    .await;
    assert!(!r.body.contains("Acme Forwarded"), "{}", r.body);
}

/// Moves `org`'s config `id` to `verified` as the frontdoor does after a verification call.
async fn mark_verified(a: &Api, org: &str, id: &str) {
    let store = a.store(org);
    let c = store.config(id).await.unwrap().unwrap();
    assert_eq!(
        store
            .set_state(&c, ForwardingState::Verified, None, None)
            .await
            .unwrap(),
        Transition::Moved
    );
}

#[tokio::test]
async fn a_sim_belongs_to_one_org_and_its_claim_is_freed_only_by_its_holder() {
    let a = api(&[]).await;
    a.ready("acme").await;
    let (s, b) = a
        .call(
            "PUT",
            "/forwarding/country",
            "rival",
            &[("If-Match", "0")],
            Some(r#"{"country": "CA"}"#),
        )
        .await;
    assert_eq!(s, 200, "{b}");
    a.store("rival")
        .set_forwarding_number("+15875550191")
        .await
        .unwrap();
    let first = a.config("acme", SIM, "bell", "total_ai").await;
    let first_id = first["id"].as_str().unwrap().to_owned();
    mark_verified(&a, "acme", &first_id).await;
    // Another org claiming the same SIM: 409 sim_in_use, nothing written.
    let body = json!({"sim_e164": SIM, "carrier": "bell", "mode": "total_ai"}).to_string();
    let (s, b) = a
        .call("POST", "/forwarding/configs", "rival", &[], Some(&body))
        .await;
    assert_eq!(s, 409, "{b}");
    assert_eq!(b["error"]["code"], "sim_in_use", "{b}");
    let (_, b) = a
        .call("GET", "/forwarding/configs", "rival", &[], None)
        .await;
    assert_eq!(b["configs"].as_array().unwrap().len(), 0, "{b}");
    let route = telephony_aws::forwarding::sim_route(a.stack.deps.dynamo(), &a.settings.table, SIM)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (route.org.as_str(), route.state.as_str()),
        ("acme", "verified")
    );
    // A forwarded call from the SIM still reaches acme's number, not rival's.
    let reply = forwarded_call(
        &a.stack,
        "CA00000000000000000000000000f00021",
        "+16475550181",
        "+15875550191",
        SIM,
    )
    .await;
    assert!(!reply.contains("Call forwarding is working"), "{reply}");

    // acme disables its config: the claim is freed; rival may now take the SIM.
    let path = format!("/forwarding/configs/{first_id}");
    let (s, _) = a.call("DELETE", &path, "acme", &[], None).await;
    assert_eq!(s, 200);
    let (s, b) = a
        .call("POST", "/forwarding/configs", "rival", &[], Some(&body))
        .await;
    assert_eq!(s, 201, "{b}");
    let rival_id = b["id"].as_str().unwrap().to_owned();
    mark_verified(&a, "rival", &rival_id).await;
    // Deleting acme's old config again changes nothing: the SIM stays rival's, still verified.
    let (s, b) = a.call("DELETE", &path, "acme", &[], None).await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(b["state"], "disabled");
    let route = telephony_aws::forwarding::sim_route(a.stack.deps.dynamo(), &a.settings.table, SIM)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (
            route.org.as_str(),
            route.config_id.as_str(),
            route.state.as_str()
        ),
        ("rival", rival_id.as_str(), "verified")
    );
    // A stale state change (the old config's last known state) is refused, not applied.
    let old = a.store("acme").config(&first_id).await.unwrap().unwrap();
    let stale = telephony_aws::forwarding::ForwardingConfig {
        state: ForwardingState::Verified,
        ..old
    };
    assert_eq!(
        a.store("acme")
            .set_state(&stale, ForwardingState::Verifying, None, Some(1))
            .await
            .unwrap(),
        Transition::Stale
    );
    let route = telephony_aws::forwarding::sim_route(a.stack.deps.dynamo(), &a.settings.table, SIM)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(route.org, "rival");
}

#[tokio::test]
async fn verification_proves_forwarding_only_to_the_configs_own_number() {
    let a = api(&[("TWILIO_API_BASE", prism::api_v2010().base_url.as_str())]).await;
    a.ready("acme").await;
    let c = a.config("acme", SIM, "bell", "total_ai").await;
    let id = c["id"].as_str().unwrap().to_owned();
    let (s, b) = a
        .call(
            "POST",
            &format!("/forwarding/configs/{id}/verify"),
            "acme",
            &[],
            None,
        )
        .await;
    assert_eq!(s, 202, "{b}");
    // Our number as the caller, but forwarded to another number (another org's): not proof.
    let reply = forwarded_call(
        &a.stack,
        "CA00000000000000000000000000f00031",
        FORWARDING_NUMBER,
        "+15875550199",
        SIM,
    )
    .await;
    assert!(!reply.contains("Call forwarding is working"), "{reply}");
    let (_, b) = a
        .call("GET", "/forwarding/configs", "acme", &[], None)
        .await;
    assert_eq!(b["configs"][0]["state"], "verifying", "{b}");
    // Forwarded to the config's own number: verified.
    let reply = forwarded_call(
        &a.stack,
        "CA00000000000000000000000000f00032",
        FORWARDING_NUMBER,
        FORWARDING_NUMBER,
        SIM,
    )
    .await;
    assert!(reply.contains("Call forwarding is working"), "{reply}");
}

#[tokio::test]
async fn verification_calls_go_only_to_mobiles_of_the_country_and_are_bounded() {
    let a = api(&[("TWILIO_API_BASE", prism::api_v2010().base_url.as_str())]).await;
    a.ready("acme").await;
    // Syntax alone is not enough: satellite, short, foreign, toll-free and N11 numbers refused.
    for sim in [
        "+882123456789",
        "+12",
        "+12125550123",
        "+18005550123",
        "+14115550123",
    ] {
        let body = json!({"sim_e164": sim, "carrier": "bell", "mode": "total_ai"}).to_string();
        let (s, b) = a
            .call("POST", "/forwarding/configs", "acme", &[], Some(&body))
            .await;
        assert_eq!(s, 400, "{sim}: {b}");
        assert!(
            ["invalid_sim", "invalid"].contains(&b["error"]["code"].as_str().unwrap()),
            "{sim}: {b}"
        );
    }
    let c = a.config("acme", SIM, "bell", "total_ai").await;
    let id = c["id"].as_str().unwrap().to_owned();
    let path = format!("/forwarding/configs/{id}/verify");
    let (s, b) = a.call("POST", &path, "acme", &[], None).await;
    assert_eq!(s, 202, "{b}");
    // One in flight per config.
    let (s, b) = a.call("POST", &path, "acme", &[], None).await;
    assert_eq!(s, 409, "{b}");
    assert_eq!(b["error"]["code"], "verification_in_progress");
    // After the timeout (the call never came back), the cooldown still holds: 429 + Retry-After.
    let set_started = |ago: u64| {
        let a = &a;
        let id = id.clone();
        async move {
            a.stack
                .deps
                .dynamo()
                .update_item()
                .table_name(&a.settings.table)
                .key("pk", A::S("org#acme".into()))
                .key("sk", A::S(format!("config#{id}")))
                .update_expression("SET verify_started_at = :t")
                .expression_attribute_values(
                    ":t",
                    A::N((telephony_aws::now_secs() - ago).to_string()),
                )
                .send()
                .await
                .unwrap();
        }
    };
    set_started(120).await;
    let t = token("acme");
    let req = request("POST", &path, Some(&t), "203.0.113.7", &[], None);
    let r = forwarding_api::handle(
        &integration_tests::narrow(&a.stack.deps, &forwarding_api::NEEDS),
        &a.settings,
        req,
    )
    .await;
    assert_eq!(r.status(), 429);
    let wait: u64 = r.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(
        wait > 0 && wait <= forwarding_api::VERIFY_COOLDOWN_SECS,
        "{wait}"
    );
    // Past the cooldown: a new call, up to the org's daily cap.
    let mut placed = 1;
    loop {
        set_started(forwarding_api::VERIFY_COOLDOWN_SECS + 1).await;
        let (s, b) = a.call("POST", &path, "acme", &[], None).await;
        if s == 429 {
            assert_eq!(b["error"]["code"], "verify_daily_cap", "{b}");
            break;
        }
        assert_eq!(s, 202, "{b}");
        placed += 1;
        assert!(
            placed <= forwarding_api::VERIFY_DAILY_CAP.max_calls,
            "no cap"
        );
    }
    assert_eq!(placed, forwarding_api::VERIFY_DAILY_CAP.max_calls);
}

/// Issue 22 §4: the org's forwarding number is bought in its first SIM's area code (then its
/// province, the saga's fallback), and the kit's billing note says what is true for it.
#[tokio::test]
async fn the_forwarding_number_is_bought_local_to_the_sim() {
    use integration_tests::scripted;
    let twilio = scripted::start(Some(prism::api_v2010().base_url.clone()), vec![]).await;
    let messaging = prism::messaging_v1().base_url.clone();
    let a = api(&[
        ("TWILIO_API_BASE", twilio.base_url.as_str()),
        ("TWILIO_MESSAGING_BASE", messaging.as_str()),
    ])
    .await;
    let (s, b) = a
        .call(
            "PUT",
            "/forwarding/country",
            "toronto",
            &[("If-Match", "0")],
            Some(r#"{"country": "CA"}"#),
        )
        .await;
    assert_eq!(s, 200, "{b}");
    let body =
        json!({"sim_e164": "+14165550178", "carrier": "bell", "mode": "safety_net"}).to_string();
    let (s, b) = a
        .call("POST", "/forwarding/configs", "toronto", &[], Some(&body))
        .await;
    assert_eq!(s, 201, "{b}");
    let searches: Vec<String> = twilio
        .log
        .lock()
        .unwrap()
        .iter()
        .filter(|l| l.contains("/AvailablePhoneNumbers/CA/Local.json"))
        .cloned()
        .collect();
    assert!(
        !searches.is_empty() && searches[0].contains("AreaCode=416"),
        "{searches:?}"
    );
}

/// Sets `org`'s config `id`'s verification start `ago` seconds back (past the timeout and the
/// cooldown, as time passing would).
async fn age_verification(a: &Api, org: &str, id: &str, ago: u64) {
    a.stack
        .deps
        .dynamo()
        .update_item()
        .table_name(&a.settings.table)
        .key("pk", A::S(format!("org#{org}")))
        .key("sk", A::S(format!("config#{id}")))
        .update_expression("SET verify_started_at = :t")
        .expression_attribute_values(":t", A::N((telephony_aws::now_secs() - ago).to_string()))
        .send()
        .await
        .unwrap();
}

/// Issue 22 §1: each verification call proves one condition; the API and the kit say which
/// were verified, and the busy check (the tenant declines the call) is offered beside no-answer.
#[tokio::test]
async fn each_verification_proves_one_condition_and_says_which() {
    let a = api(&[("TWILIO_API_BASE", prism::api_v2010().base_url.as_str())]).await;
    a.ready("acme").await;
    let c = a.config("acme", SIM, "bell", "safety_net").await;
    let id = c["id"].as_str().unwrap().to_owned();
    let path = format!("/forwarding/configs/{id}/verify");
    let state = |b: &Value| {
        b["configs"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["id"] == id.as_str())
            .unwrap()
            .clone()
    };
    // A condition the mode does not forward on is refused, naming the ones it does.
    let (s, b) = a
        .call(
            "POST",
            &path,
            "acme",
            &[],
            Some(r#"{"condition": "unconditional"}"#),
        )
        .await;
    assert_eq!(s, 400, "{b}");
    assert_eq!(b["error"]["code"], "invalid_condition");
    assert!(b["error"]["message"]
        .as_str()
        .unwrap()
        .contains("no_answer, busy, not_reachable"));
    // The default check is no answer.
    let (s, b) = a.call("POST", &path, "acme", &[], None).await;
    assert_eq!(s, 202, "{b}");
    assert_eq!(b["condition"], "no_answer");
    assert!(
        b["instructions"]
            .as_str()
            .unwrap()
            .contains("Do not answer"),
        "{b}"
    );
    forwarded_call(
        &a.stack,
        "CA00000000000000000000000000f00061",
        FORWARDING_NUMBER,
        FORWARDING_NUMBER,
        SIM,
    )
    .await;
    let (_, b) = a
        .call("GET", "/forwarding/configs", "acme", &[], None)
        .await;
    let row = state(&b);
    assert_eq!(row["state"], "verified", "{row}");
    assert_eq!(row["verified_conditions"], json!(["no_answer"]));
    assert_eq!(
        row["unverified_conditions"],
        json!(["busy", "not_reachable"])
    );
    // The busy check: decline the call; the carrier forwards it as busy.
    age_verification(&a, "acme", &id, 400).await;
    let (s, b) = a
        .call("POST", &path, "acme", &[], Some(r#"{"condition": "busy"}"#))
        .await;
    assert_eq!(s, 202, "{b}");
    assert_eq!(b["condition"], "busy");
    assert!(
        b["instructions"].as_str().unwrap().contains("Decline"),
        "{b}"
    );
    assert!(
        b["instructions_fr"].as_str().unwrap().contains("Refusez"),
        "{b}"
    );
    forwarded_call(
        &a.stack,
        "CA00000000000000000000000000f00067",
        FORWARDING_NUMBER,
        FORWARDING_NUMBER,
        SIM,
    )
    .await;
    let (_, b) = a
        .call("GET", "/forwarding/configs", "acme", &[], None)
        .await;
    let row = state(&b);
    assert_eq!(
        row["verified_conditions"],
        json!(["busy", "no_answer"]),
        "{row}"
    );
    assert_eq!(row["unverified_conditions"], json!(["not_reachable"]));
    // A not-reachable check nobody forwarded: the config stays verified for what was proven,
    // and the reason names the condition that failed.
    age_verification(&a, "acme", &id, 400).await;
    let (s, _) = a
        .call(
            "POST",
            &path,
            "acme",
            &[],
            Some(r#"{"condition": "not_reachable"}"#),
        )
        .await;
    assert_eq!(s, 202);
    age_verification(&a, "acme", &id, 120).await;
    let (_, b) = a
        .call("GET", "/forwarding/configs", "acme", &[], None)
        .await;
    let row = state(&b);
    assert_eq!(row["state"], "verified", "{row}");
    assert!(
        row["reason"]
            .as_str()
            .unwrap()
            .starts_with("not_reachable check"),
        "{row}"
    );
    assert_eq!(row["verified_conditions"], json!(["busy", "no_answer"]));
    // The kit says which conditions were verified and how to check the rest.
    let t = token("acme");
    let req = request(
        "GET",
        &format!("/forwarding/configs/{id}/kit"),
        Some(&t),
        "203.0.113.9",
        &[],
        None,
    );
    let r = to_reply(
        forwarding_api::handle(
            &integration_tests::narrow(&a.stack.deps, &forwarding_api::NEEDS),
            &a.settings,
            req,
        )
        .await,
    );
    for part in [
        "No answer: verified by a test call.",
        "Busy: verified by a test call.",
        "Not reachable: not verified yet.",
    ] {
        assert!(r.body.contains(part), "{part}: {}", r.body);
    }
    // Total AI proves the one condition it has.
    let other = a.config("acme", "+14035550179", "telus", "total_ai").await;
    let oid = other["id"].as_str().unwrap();
    let (s, b) = a
        .call(
            "POST",
            &format!("/forwarding/configs/{oid}/verify"),
            "acme",
            &[],
            Some(r#"{"condition": "busy"}"#),
        )
        .await;
    assert_eq!(
        (s, b["error"]["code"].as_str()),
        (400, Some("invalid_condition")),
        "{b}"
    );
    let (s, b) = a
        .call(
            "POST",
            &format!("/forwarding/configs/{oid}/verify"),
            "acme",
            &[],
            Some("{}"),
        )
        .await;
    assert_eq!(
        (s, b["condition"].as_str()),
        (202, Some("unconditional")),
        "{b}"
    );
}

/// Notices of `kind` about config `id` on the stack's voicemail topic.
async fn org_notices(a: &Api, kind: &str, id: &str) -> usize {
    sns_messages(&a.stack.resources["VoicemailTopic"])
        .await
        .iter()
        .filter(|(_, m)| m["type"] == kind && m["config_id"] == id)
        .count()
}

/// Issue 24 §3: we ring the owner's mobile (a Sales target) and its carrier forwards our own
/// Dial back to us: that leg is refused, the caller's call goes to our voicemail, the config
/// stops routing (`looping`) and the org hears of it once.
#[tokio::test]
async fn a_dial_that_comes_back_forwarded_is_a_loop() {
    let a = api(&[]).await;
    a.ready("acme").await;
    let c = a.config("acme", SIM, "bell", "safety_net").await;
    let id = c["id"].as_str().unwrap().to_owned();
    mark_verified(&a, "acme", &id).await;
    a.stack
        .deps
        .dynamo()
        .put_item()
        .table_name(&a.stack.resources["NumbersTable"])
        .item("e164", A::S(HOTLINE.into()))
        .item("sales_target", A::S(SIM.into()))
        .send()
        .await
        .unwrap();
    // A customer forwarded from the SIM while nobody dials it is a customer, not a loop.
    let reply = forwarded_call(
        &a.stack,
        "CA00000000000000000000000000f00090",
        "+16475550190",
        FORWARDING_NUMBER,
        SIM,
    )
    .await;
    assert!(reply.contains("<Gather"), "{reply}");
    // The caller presses 1 for Sales: we dial the SIM (its marker is written), Twilio reports
    // busy once the bounced leg is refused, and the caller leaves a voicemail.
    let sc = script(&a.stack, &[Some("1"), Some("1")], "busy", 6);
    let log = play(&a.stack, &sc).await;
    assert_eq!(log.dialled, [SIM]);
    // The carrier forwards our Dial back, from the caller's number, ForwardedFrom the SIM.
    let bounce = forwarded_call(
        &a.stack,
        "CA00000000000000000000000000f00091",
        CALLER,
        FORWARDING_NUMBER,
        SIM,
    )
    .await;
    assert!(bounce.contains("<Reject reason=\"busy\""), "{bounce}");
    assert!(
        log.heard
            .iter()
            .any(|h| h.contains("Please leave a message")),
        "{:?}",
        log.heard
    );
    assert_eq!(
        s3_keys(&a.stack, &format!("recordings/{}/", sc.call_sid))
            .await
            .len(),
        1
    );
    let (_, b) = a
        .call("GET", "/forwarding/configs", "acme", &[], None)
        .await;
    assert_eq!(b["configs"][0]["state"], "looping", "{b}");
    assert!(b["configs"][0]["reason"]
        .as_str()
        .unwrap()
        .contains("forwarding loop"));
    assert!(
        kit_html(&a, "acme", &id)
            .await
            .contains("Forwarding is looping"),
        "the kit says so"
    );
    // A looping config routes nothing; a second bounce sends no second notice.
    let again = forwarded_call(
        &a.stack,
        "CA00000000000000000000000000f00092",
        CALLER,
        FORWARDING_NUMBER,
        SIM,
    )
    .await;
    assert!(again.contains("<Reject"), "{again}");
    assert_eq!(org_notices(&a, "forwarding_looping", &id).await, 1);
}

/// Issue 24 §3: the monitor re-verifies a config 30 days after its last proof; a call that
/// does not come back makes it `unverified` with one notice, one that does keeps it verified.
#[tokio::test]
async fn the_monitor_reverifies_every_30_days() {
    let a = api(&[("TWILIO_API_BASE", prism::api_v2010().base_url.as_str())]).await;
    a.ready("acme").await;
    let c = a.config("acme", SIM, "bell", "safety_net").await;
    let id = c["id"].as_str().unwrap().to_owned();
    mark_verified(&a, "acme", &id).await;
    let set = |attr: &'static str, ago: u64| {
        let a = &a;
        let id = id.clone();
        async move {
            a.stack
                .deps
                .dynamo()
                .update_item()
                .table_name(&a.settings.table)
                .key("pk", A::S("org#acme".into()))
                .key("sk", A::S(format!("config#{id}")))
                .update_expression("SET #a = :t")
                .expression_attribute_names("#a", attr)
                .expression_attribute_values(
                    ":t",
                    A::N((telephony_aws::now_secs() - ago).to_string()),
                )
                .send()
                .await
                .unwrap();
        }
    };
    let state = || async { a.store("acme").config(&id).await.unwrap().unwrap() };
    // Proven 10 days ago: nothing to do.
    set("verified_at", 10 * 86_400).await;
    let out = telephony_monitor::handler(&integration_tests::narrow(
        &a.stack.deps,
        &telephony_monitor::NEEDS,
    ))
    .await
    .unwrap();
    assert_eq!(out["forwarding"]["placed"], 0, "{out}");
    // 31 days ago: a re-verification call is placed.
    set("verified_at", 31 * 86_400).await;
    let out = telephony_monitor::handler(&integration_tests::narrow(
        &a.stack.deps,
        &telephony_monitor::NEEDS,
    ))
    .await
    .unwrap();
    assert_eq!(out["forwarding"]["placed"], 1, "{out}");
    let c = state().await;
    assert_eq!(
        (c.state.as_str(), c.verify_origin.as_deref()),
        ("verifying", Some("monitor"))
    );
    // It came back forwarded: verified again, proof renewed.
    forwarded_call(
        &a.stack,
        "CA00000000000000000000000000f00093",
        FORWARDING_NUMBER,
        FORWARDING_NUMBER,
        SIM,
    )
    .await;
    let c = state().await;
    assert_eq!(c.state.as_str(), "verified");
    assert!(c.verified_at.unwrap() + 60 > telephony_aws::now_secs());
    // The next one never comes back: unverified, said to the tenant, one notice.
    set("verified_at", 31 * 86_400).await;
    telephony_monitor::handler(&integration_tests::narrow(
        &a.stack.deps,
        &telephony_monitor::NEEDS,
    ))
    .await
    .unwrap();
    set("verify_started_at", 120).await;
    let out = telephony_monitor::handler(&integration_tests::narrow(
        &a.stack.deps,
        &telephony_monitor::NEEDS,
    ))
    .await
    .unwrap();
    assert_eq!(out["forwarding"]["settled"], 1, "{out}");
    let (_, b) = a
        .call("GET", "/forwarding/configs", "acme", &[], None)
        .await;
    assert_eq!(b["configs"][0]["state"], "unverified", "{b}");
    assert!(
        b["configs"][0]["reason"]
            .as_str()
            .unwrap()
            .contains("30-day re-verification"),
        "{b}"
    );
    assert_eq!(b["configs"][0]["verified_conditions"], json!([]), "{b}");
    let kit = kit_html(&a, "acme", &id).await;
    assert!(
        kit.contains("Forwarding is not verified") && kit.contains("30-day re-verification"),
        "the kit says so"
    );
    telephony_monitor::handler(&integration_tests::narrow(
        &a.stack.deps,
        &telephony_monitor::NEEDS,
    ))
    .await
    .unwrap();
    assert_eq!(org_notices(&a, "forwarding_unverified", &id).await, 1);
}

#[tokio::test]
async fn a_tenant_token_reaches_only_its_own_orgs_callers_in_privacy_requests() {
    let a = api(&[]).await;
    let s = &a.stack;
    let (acme_number, globex_number) = ("+15875550131", "+15875550132");
    for (e164, org) in [(acme_number, "acme"), (globex_number, "globex")] {
        s.deps
            .dynamo()
            .put_item()
            .table_name(&s.resources["NumbersTable"])
            .item(
                "e164",
                aws_sdk_dynamodb::types::AttributeValue::S(e164.into()),
            )
            .item(
                "org_id",
                aws_sdk_dynamodb::types::AttributeValue::S(org.into()),
            )
            .send()
            .await
            .unwrap();
    }
    text_message(s, CALLER, globex_number, "hello globex").await;
    let body = json!({"number": CALLER}).to_string();
    // acme's token names globex: refused, nothing touched.
    let other = json!({"number": CALLER, "org": "globex"}).to_string();
    let (status, v) = a
        .call(
            "POST",
            "/forwarding/privacy/erase",
            "acme",
            &[("Idempotency-Key", "k1")],
            Some(&other),
        )
        .await;
    assert_eq!(
        (status, v["error"]["code"].as_str()),
        (403, Some("other_org")),
        "{v}"
    );
    // acme's own scope holds nothing of this caller: its erasure removes nothing of globex's.
    let (status, v) = a
        .call(
            "POST",
            "/forwarding/privacy/erase",
            "acme",
            &[("Idempotency-Key", "k2")],
            Some(&body),
        )
        .await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["scope"], "acme");
    assert_eq!(v["counts"], json!({}), "{v}");
    // globex's token finds its own caller's text.
    let (status, v) = a
        .call(
            "POST",
            "/forwarding/privacy/export",
            "globex",
            &[("Idempotency-Key", "k3")],
            Some(&body),
        )
        .await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["counts"]["message"], 1, "{v}");
    assert_eq!(v["export"]["items"][0]["item"]["body"], "hello globex");
}
