//! The local stand-in for API Gateway's `AWS_IAM` authorizer (`make run`): one HTTP listener
//! for the `/ops/…` routes that verifies each request's SigV4 signature ([`crate::sigv4`])
//! against the run's local operator key, then hands the function the same HTTP API (payload
//! format 2.0) event API Gateway would, `requestContext.authorizer.iam` included, through
//! `cargo lambda watch`'s Lambda Invoke endpoint (`POST /2015-03-31/functions/{name}/invocations`).
//!
//! Routes come from the workspace's `[workspace.metadata.lambda.watch.router]` table (the one
//! `cargo lambda watch` serves), so the local run has a single route list.

use crate::sigv4::{self, KnownKey};
use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use serde_json::{json, Value};
use std::time::SystemTime;

/// Route patterns (`/ops/numbers/{e164}`) → function names.
#[derive(Debug, Clone, Default)]
pub struct Router {
    routes: Vec<(Vec<String>, String)>,
}

impl Router {
    /// Reads `[workspace.metadata.lambda.watch.router]` from the workspace `Cargo.toml` text,
    /// keeping the `/ops/` routes.
    ///
    /// Errors: a message when the TOML or the table is missing or malformed.
    pub fn from_cargo_toml(text: &str) -> Result<Self, String> {
        let doc: toml::Table = text.parse().map_err(|e| format!("Cargo.toml: {e}"))?;
        let table = doc
            .get("workspace")
            .and_then(|w| w.get("metadata"))
            .and_then(|m| m.get("lambda"))
            .and_then(|l| l.get("watch"))
            .and_then(|w| w.get("router"))
            .and_then(|r| r.as_table())
            .ok_or("Cargo.toml has no [workspace.metadata.lambda.watch.router]")?;
        let mut routes = Vec::new();
        for (path, function) in table {
            let Some(function) = function.as_str() else {
                return Err(format!("route {path}: the function must be a string"));
            };
            if path.starts_with("/ops/") {
                routes.push((split(path), function.to_owned()));
            }
        }
        Ok(Self { routes })
    }

    /// The function serving `path` (a `{name}` segment matches any one segment).
    pub fn function_for(&self, path: &str) -> Option<&str> {
        let segments = split(path);
        self.routes
            .iter()
            .find(|(pattern, _)| {
                pattern.len() == segments.len()
                    && pattern
                        .iter()
                        .zip(&segments)
                        .all(|(p, s)| p == s || (p.starts_with('{') && p.ends_with('}')))
            })
            .map(|(_, f)| f.as_str())
    }
}

fn split(path: &str) -> Vec<String> {
    path.trim_matches('/')
        .split('/')
        .map(str::to_owned)
        .collect()
}

/// The HTTP API (payload format 2.0) event for a verified request, as API Gateway builds it for
/// an `AWS_IAM` route: lower-case headers (repeated ones joined with `,`), `rawPath` as received,
/// `requestContext.authorizer.iam` naming the caller. Bodies that are not UTF-8 are base64.
pub fn event(
    method: &str,
    raw_path: &str,
    raw_query: &str,
    headers: &[(String, String)],
    body: &[u8],
    principal: &sigv4::Principal,
    now_ms: u64,
) -> Value {
    let mut h = serde_json::Map::new();
    for (k, v) in headers {
        let k = k.to_ascii_lowercase();
        match h.get_mut(&k) {
            Some(Value::String(prev)) => {
                prev.push(',');
                prev.push_str(v);
            }
            _ => {
                h.insert(k, Value::String(v.clone()));
            }
        }
    }
    let account = principal
        .user_arn
        .split(':')
        .nth(4)
        .unwrap_or("000000000000")
        .to_owned();
    let route_key = format!("{method} {raw_path}");
    let mut event = json!({
        "version": "2.0",
        "routeKey": route_key,
        "rawPath": raw_path,
        "rawQueryString": raw_query,
        "headers": h,
        "requestContext": {
            "accountId": account,
            "apiId": "local",
            "domainName": "127.0.0.1",
            "domainPrefix": "127",
            "http": {
                "method": method, "path": raw_path, "protocol": "HTTP/1.1",
                "sourceIp": "127.0.0.1",
                "userAgent": headers.iter().find(|(k, _)| k.eq_ignore_ascii_case("user-agent")).map(|(_, v)| v.as_str()).unwrap_or(""),
            },
            "requestId": format!("local-{now_ms}"),
            "routeKey": route_key,
            "stage": "$default",
            "timeEpoch": now_ms,
            "authorizer": {"iam": {
                "accessKey": principal.access_key_id,
                "accountId": account,
                "callerId": principal.access_key_id,
                "userArn": principal.user_arn,
                "userId": principal.access_key_id,
                "cognitoIdentity": null,
                "principalOrgId": null,
            }},
        },
        "isBase64Encoded": false,
    });
    if !body.is_empty() {
        match std::str::from_utf8(body) {
            Ok(t) => event["body"] = t.into(),
            Err(_) => {
                use base64::Engine as _;
                event["body"] = base64::engine::general_purpose::STANDARD
                    .encode(body)
                    .into();
                event["isBase64Encoded"] = true.into();
            }
        }
    }
    event
}

/// The gateway's settings.
#[derive(Clone)]
pub struct Gateway {
    /// The identities it accepts.
    pub keys: Vec<KnownKey>,
    /// The region requests must be signed for (`AWS_REGION`).
    pub region: String,
    /// `/ops/…` routes → functions.
    pub router: Router,
    /// Base of the Lambda Invoke API (`cargo lambda watch`: `http://127.0.0.1:9000`).
    pub invoke_base: String,
    /// HTTP client for the invocations.
    pub http: reqwest::Client,
}

type Reply = hyper::Response<Full<Bytes>>;

fn reply(status: u16, body: Value) -> Reply {
    let mut r = hyper::Response::new(Full::new(Bytes::from(body.to_string())));
    *r.status_mut() = hyper::StatusCode::from_u16(status).unwrap_or(hyper::StatusCode::BAD_GATEWAY);
    r.headers_mut().insert(
        hyper::header::CONTENT_TYPE,
        hyper::header::HeaderValue::from_static("application/json"),
    );
    r
}

impl Gateway {
    /// Handles one request: 403 `{"message"}` when the signature is refused (as API Gateway),
    /// 404 for a path outside the ops routes, else the function's answer.
    pub async fn handle(&self, req: hyper::Request<hyper::body::Incoming>) -> Reply {
        let (parts, body) = req.into_parts();
        let body = match body.collect().await {
            Ok(b) => b.to_bytes(),
            Err(e) => return reply(400, json!({"message": format!("body: {e}")})),
        };
        let headers: Vec<(String, String)> = parts
            .headers
            .iter()
            .filter_map(|(k, v)| Some((k.as_str().to_owned(), v.to_str().ok()?.to_owned())))
            .collect();
        let host = headers
            .iter()
            .find(|(k, _)| k == "host")
            .map_or("127.0.0.1", |(_, v)| v.as_str());
        let path = parts.uri.path();
        let query = parts.uri.query().unwrap_or("");
        let url = format!(
            "http://{host}{path}{}{query}",
            if query.is_empty() { "" } else { "?" }
        );
        let method = parts.method.as_str();
        let principal = match sigv4::verify(
            method,
            &url,
            &headers,
            &body,
            &self.keys,
            &self.region,
            SystemTime::now(),
        ) {
            Ok(p) => p,
            Err(denied) => {
                eprintln!("403 {method} {path}: {denied}");
                return reply(403, json!({"message": denied.to_string()}));
            }
        };
        let Some(function) = self.router.function_for(path) else {
            return reply(404, json!({"message": "Not Found"}));
        };
        let now_ms = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as u64);
        let ev = event(method, path, query, &headers, &body, &principal, now_ms);
        let invoked = self
            .http
            .post(format!(
                "{}/2015-03-31/functions/{function}/invocations",
                self.invoke_base.trim_end_matches('/')
            ))
            .header("content-type", "application/json")
            .body(ev.to_string())
            .send()
            .await;
        let answer: Value = match invoked {
            Ok(r) => match r.text().await.map(|t| serde_json::from_str(&t)) {
                Ok(Ok(v)) => v,
                Ok(Err(e)) => return reply(502, json!({"message": format!("{function}: {e}")})),
                Err(e) => return reply(502, json!({"message": format!("{function}: {e}")})),
            },
            Err(e) => {
                return reply(
                    502,
                    json!({"message": format!("{function} unreachable: {e}")}),
                )
            }
        };
        eprintln!(
            "{} {method} {path} as {} → {function}",
            answer["statusCode"], principal.user_arn
        );
        to_reply(&answer)
    }
}

/// Serves `gateway` on `listener` until the process ends (HTTP/1.1, one task per connection).
///
/// Errors: the listener's accept error.
pub async fn serve(
    gateway: std::sync::Arc<Gateway>,
    listener: tokio::net::TcpListener,
) -> std::io::Result<()> {
    use hyper::server::conn::http1;
    use hyper::service::service_fn;
    loop {
        let (stream, _) = listener.accept().await?;
        let gateway = gateway.clone();
        tokio::spawn(async move {
            let service = service_fn(move |req| {
                let gateway = gateway.clone();
                async move { Ok::<_, std::convert::Infallible>(gateway.handle(req).await) }
            });
            if let Err(e) = http1::Builder::new()
                .serve_connection(hyper_util::rt::TokioIo::new(stream), service)
                .await
            {
                eprintln!("connection: {e}");
            }
        });
    }
}

/// An HTTP API (2.0) response event → HTTP response.
pub fn to_reply(answer: &Value) -> Reply {
    let status = answer["statusCode"].as_u64().unwrap_or(502) as u16;
    let text = answer["body"].as_str().unwrap_or("");
    let bytes = if answer["isBase64Encoded"].as_bool() == Some(true) {
        use base64::Engine as _;
        base64::engine::general_purpose::STANDARD
            .decode(text)
            .unwrap_or_default()
    } else {
        text.as_bytes().to_vec()
    };
    let mut r = hyper::Response::new(Full::new(Bytes::from(bytes)));
    *r.status_mut() = hyper::StatusCode::from_u16(status).unwrap_or(hyper::StatusCode::BAD_GATEWAY);
    if let Some(h) = answer["headers"].as_object() {
        for (k, v) in h {
            if let (Ok(name), Some(Ok(value))) = (
                hyper::header::HeaderName::from_bytes(k.as_bytes()),
                v.as_str().map(hyper::header::HeaderValue::from_str),
            ) {
                r.headers_mut().insert(name, value);
            }
        }
    }
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ops_routes_come_from_the_workspace_router() {
        let text =
            std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../Cargo.toml"))
                .unwrap();
        let r = Router::from_cargo_toml(&text).unwrap();
        assert_eq!(
            r.function_for("/ops/numbers/onboard"),
            Some("ops-provisioning")
        );
        assert_eq!(
            r.function_for("/ops/numbers/%2B15875550100/config"),
            Some("ops-provisioning")
        );
        assert_eq!(r.function_for("/ops/metrics/summary"), Some("ops-api"));
        assert_eq!(
            r.function_for("/voice-frontdoor"),
            None,
            "only the ops routes"
        );
        assert_eq!(r.function_for("/ops/nothing/here/at/all"), None);
    }

    #[test]
    fn the_event_names_the_verified_caller() {
        let p = sigv4::Principal {
            access_key_id: "AKIALOCAL".into(),
            user_arn: "arn:aws:iam::000000000000:user/local-operator".into(),
        };
        let headers = vec![
            ("Host".to_owned(), "127.0.0.1:9100".to_owned()),
            ("Accept".to_owned(), "a".to_owned()),
            ("accept".to_owned(), "b".to_owned()),
        ];
        let ev = event("GET", "/ops/numbers", "x=1", &headers, b"", &p, 5);
        assert_eq!(
            ev["requestContext"]["authorizer"]["iam"]["userArn"],
            p.user_arn
        );
        assert_eq!(ev["requestContext"]["accountId"], "000000000000");
        assert_eq!(ev["headers"]["accept"], "a,b");
        assert_eq!(ev["rawQueryString"], "x=1");
        assert!(ev.get("body").is_none());
    }
}
