//! A SigV4-signing client of the ops API (JSON in and out).

use crate::sigv4;
use aws_credential_types::Credentials;
use serde_json::Value;
use std::time::SystemTime;

/// The ops API at `base_url`, signed for `region` with `credentials`.
pub struct Api {
    /// `https://{api-id}.execute-api.{region}.amazonaws.com` (deployed) or
    /// `http://127.0.0.1:9100` (`make run`'s local IAM gateway).
    pub base_url: String,
    /// The API's region.
    pub region: String,
    /// The caller's credentials.
    pub credentials: Credentials,
    /// HTTP client.
    pub http: reqwest::Client,
}

/// An API answer: status and JSON body (`Value::Null` when the body is not JSON).
#[derive(Debug, Clone)]
pub struct Answer {
    /// HTTP status.
    pub status: u16,
    /// The body.
    pub body: Value,
}

impl Api {
    /// Sends `method path` with `headers` and a JSON `body`, signed.
    ///
    /// Errors: a message for a URL that cannot be signed or a request that got no answer.
    pub async fn send(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: Option<&Value>,
    ) -> Result<Answer, String> {
        let url = format!("{}{path}", self.base_url.trim_end_matches('/'));
        let parsed = reqwest::Url::parse(&url).map_err(|e| format!("{url}: {e}"))?;
        let host = match (parsed.host_str(), parsed.port()) {
            (Some(h), Some(p)) => format!("{h}:{p}"),
            (Some(h), None) => h.to_owned(),
            (None, _) => return Err(format!("{url}: no host")),
        };
        let bytes = body.map(|b| b.to_string().into_bytes()).unwrap_or_default();
        let mut signed: Vec<(String, String)> = vec![("host".into(), host)];
        if body.is_some() {
            signed.push(("content-type".into(), "application/json".into()));
        }
        for (k, v) in headers {
            signed.push((k.to_ascii_lowercase(), (*v).to_owned()));
        }
        let auth = sigv4::sign(
            method,
            parsed.as_str(),
            &signed,
            &bytes,
            self.credentials.clone(),
            &self.region,
            SystemTime::now(),
        )?;
        let method = reqwest::Method::from_bytes(method.as_bytes()).map_err(|e| e.to_string())?;
        let mut req = self.http.request(method, parsed);
        for (k, v) in signed.iter().chain(&auth).filter(|(k, _)| k != "host") {
            req = req.header(k, v);
        }
        let resp = req
            .body(bytes)
            .send()
            .await
            .map_err(|e| format!("{url}: {e}"))?;
        let status = resp.status().as_u16();
        let text = resp.text().await.map_err(|e| e.to_string())?;
        Ok(Answer {
            status,
            body: serde_json::from_str(&text).unwrap_or(Value::Null),
        })
    }
}

/// A fresh idempotency key: `cli-<unix nanos>-<pid>` (hex). Print it, so an operator can repeat a
/// request whose answer was lost with `--key`.
pub fn new_key() -> String {
    let nanos = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    format!("cli-{nanos:x}-{:x}", std::process::id())
}
