//! The API Gateway HTTP API (payload format 2.0) event, owned: every function receives the raw
//! Lambda event and this module turns it into our [`Request`] without ever panicking.
//!
//! Why not `lambda_http`: its conversion panics (and the release profile aborts) on a
//! `rawQueryString` holding characters a URI refuses, on a `Host` header that is not a valid
//! authority and on invalid base64 (issue "Hardening", finding 1), and it rebuilds the URI from
//! the `Host` header, which then leaked into the signed URL (finding 2). Here the request is built
//! from `rawPath` and `rawQueryString` only; headers never contribute to the URI, and anything
//! malformed becomes a [`Malformed`] refusal answered with 400.
//!
//! Shapes: AWS "Working with AWS Lambda proxy integrations for HTTP APIs", payload format 2.0
//! (`version`, `rawPath`, `rawQueryString`, `headers`, `requestContext.http.method`,
//! `requestContext.http.sourceIp`, `requestContext.authorizer.iam`, `body`, `isBase64Encoded`).

use aws_lambda_events::apigw::ApiGatewayV2httpRequest;
use base64::Engine as _;
use http::{HeaderMap, Method};

/// A request body: nothing, UTF-8 text or bytes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Body {
    /// No body.
    #[default]
    Empty,
    /// A text body (TwiML, JSON, forms).
    Text(String),
    /// A binary body (a base64-encoded event body, decoded).
    Binary(Vec<u8>),
}

impl AsRef<[u8]> for Body {
    fn as_ref(&self) -> &[u8] {
        match self {
            Body::Empty => &[],
            Body::Text(t) => t.as_bytes(),
            Body::Binary(b) => b,
        }
    }
}

impl From<String> for Body {
    fn from(s: String) -> Self {
        Body::Text(s)
    }
}

impl From<&str> for Body {
    fn from(s: &str) -> Self {
        Body::Text(s.to_owned())
    }
}

/// An HTTP request as our handlers see it.
pub type Request = http::Request<Body>;

/// The exact target API Gateway received: `rawPath` and `rawQueryString` as sent (no decoding, no
/// normalisation). The Twilio signature is checked against `PUBLIC_BASE_URL` + these two, never
/// against anything taken from headers (spec §2.1). Always present on requests built by
/// [`request_from_event`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawTarget {
    /// `rawPath`, e.g. `/voice-menu-handler`.
    pub path: String,
    /// `rawQueryString` without the `?`, e.g. `attempt=2` (empty when none).
    pub query: String,
}

/// Who sent the request, from `requestContext` (filled in by API Gateway, never by the client).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Caller {
    /// `requestContext.http.sourceIp`.
    pub source_ip: Option<String>,
    /// The IAM principal API Gateway's `AWS_IAM` authorizer verified: `userArn`, else `callerId`.
    pub iam_principal: Option<String>,
}

/// Why an event could not become a request; answered with 400 and the reason as text.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Malformed {
    /// The JSON is not an HTTP API 2.0 event (missing `requestContext.http`, wrong types…).
    #[error("not an API Gateway HTTP API event: {0}")]
    Event(String),
    /// `rawPath` is empty, does not start with `/`, or holds characters a URI path cannot.
    #[error("malformed request path")]
    Path,
    /// `rawQueryString` holds characters a URI query cannot (space, `"`, `<`, `>`, DEL, controls…).
    #[error("malformed query string")]
    Query,
    /// A header value that is not a string or not a valid HTTP header value: the header is
    /// named, its value never repeated (it may be a credential; issue 27 §13).
    #[error("header {0:?} has a malformed value")]
    Header(String),
    /// `isBase64Encoded` is true but the body is not valid base64.
    #[error("body is not valid base64")]
    Base64,
}

/// Whether `b` may appear in a URI path or query as sent (RFC 3986 §3.3–3.4: unreserved,
/// sub-delims, `:`, `@`, `/`, `?`, and `%` for percent-encoding). Everything else — space, `"`,
/// `#`, `<`, `>`, `\`, `^`, backtick, `{`, `|`, `}`, DEL, controls and non-ASCII bytes — is refused.
fn is_uri_char(b: u8) -> bool {
    b.is_ascii_alphanumeric()
        || matches!(
            b,
            b'-' | b'.'
                | b'_'
                | b'~'
                | b'!'
                | b'$'
                | b'&'
                | b'\''
                | b'('
                | b')'
                | b'*'
                | b'+'
                | b','
                | b';'
                | b'='
                | b':'
                | b'@'
                | b'/'
                | b'?'
                | b'%'
        )
}

/// Builds our request from a raw Lambda event (HTTP API payload 2.0).
///
/// The URI is `rawPath` + `?` + `rawQueryString` (no scheme, no authority: the `Host` header is
/// never read); the method is `requestContext.http.method`; the body is decoded from base64 when
/// `isBase64Encoded`. Extensions: [`RawTarget`] and [`Caller`].
///
/// Errors: [`Malformed`] for anything a URI or base64 refuses; never panics.
pub fn request_from_event(event: serde_json::Value) -> Result<Request, Malformed> {
    if let Some(headers) = event.get("headers").and_then(|h| h.as_object()) {
        for (name, value) in headers {
            let ok = value
                .as_str()
                .is_some_and(|v| http::HeaderValue::from_str(v).is_ok())
                && http::HeaderName::from_bytes(name.as_bytes()).is_ok();
            if !ok {
                return Err(Malformed::Header(name.chars().take(64).collect()));
            }
        }
    }
    // serde's message may quote the offending value: only its category and position are kept.
    let ev: ApiGatewayV2httpRequest = serde_json::from_value(event).map_err(|e| {
        Malformed::Event(format!(
            "{:?} error at line {} column {}",
            e.classify(),
            e.line(),
            e.column()
        ))
    })?;
    let path = ev.raw_path.unwrap_or_default();
    if !path.starts_with('/') || !path.bytes().all(|b| is_uri_char(b) && b != b'?') {
        return Err(Malformed::Path);
    }
    let query = ev.raw_query_string.unwrap_or_default();
    if !query.bytes().all(is_uri_char) {
        return Err(Malformed::Query);
    }
    let target = if query.is_empty() {
        path.clone()
    } else {
        format!("{path}?{query}")
    };
    let uri: http::Uri = target.parse().map_err(|_| Malformed::Path)?;
    let body = match (ev.body, ev.is_base64_encoded) {
        (None, _) => Body::Empty,
        (Some(b), true) => Body::Binary(
            base64::engine::general_purpose::STANDARD
                .decode(b.as_bytes())
                .map_err(|_| Malformed::Base64)?,
        ),
        (Some(b), false) => Body::Text(b),
    };
    let ctx = ev.request_context;
    let iam_principal = ctx
        .authorizer
        .as_ref()
        .and_then(|a| a.iam.as_ref())
        .and_then(|iam| iam.user_arn.clone().or_else(|| iam.caller_id.clone()))
        .filter(|p| !p.is_empty());
    let method = ctx.http.method.clone();
    let mut req = http::Request::new(body);
    *req.method_mut() = method;
    *req.uri_mut() = uri;
    *req.headers_mut() = ev.headers;
    req.extensions_mut().insert(RawTarget { path, query });
    req.extensions_mut().insert(Caller {
        source_ip: ctx.http.source_ip.filter(|ip| !ip.is_empty()),
        iam_principal,
    });
    Ok(req)
}

/// The Lambda result API Gateway expects for a response (payload 2.0): `statusCode`, `headers`,
/// `body` (text, or base64 with `isBase64Encoded` for bytes that are not UTF-8), `cookies` (always
/// empty; local emulators such as `cargo lambda watch` require the field).
pub fn response_to_event(resp: http::Response<Body>) -> serde_json::Value {
    let (parts, body) = resp.into_parts();
    let headers: serde_json::Map<String, serde_json::Value> = header_pairs(&parts.headers)
        .map(|(k, v)| (k, serde_json::Value::String(v)))
        .collect();
    let (body, b64) = match body {
        Body::Empty => (String::new(), false),
        Body::Text(t) => (t, false),
        Body::Binary(b) => match String::from_utf8(b) {
            Ok(t) => (t, false),
            Err(e) => (
                base64::engine::general_purpose::STANDARD.encode(e.into_bytes()),
                true,
            ),
        },
    };
    serde_json::json!({
        "statusCode": parts.status.as_u16(),
        "headers": headers,
        "body": body,
        "isBase64Encoded": b64,
        "cookies": [],
    })
}

/// Header pairs with repeated names joined by `, ` (RFC 9110 §5.3), values that are not visible
/// ASCII dropped.
fn header_pairs(headers: &HeaderMap) -> impl Iterator<Item = (String, String)> + '_ {
    headers.keys().map(move |k| {
        let joined = headers
            .get_all(k)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .collect::<Vec<_>>()
            .join(", ");
        (k.as_str().to_owned(), joined)
    })
}

/// The raw target of `req`: the [`RawTarget`] extension, or (for requests built in-process
/// without one) the URI's path and query. Never a header.
pub fn raw_target(req: &Request) -> (&str, &str) {
    match req.extensions().get::<RawTarget>() {
        Some(t) => (t.path.as_str(), t.query.as_str()),
        None => (req.uri().path(), req.uri().query().unwrap_or("")),
    }
}

/// The [`Caller`] of `req` (empty when the request was not built from an event).
pub fn caller(req: &Request) -> Caller {
    req.extensions()
        .get::<Caller>()
        .cloned()
        .unwrap_or_default()
}

/// `true` for the methods a webhook route answers at all (used by the glue's 405).
pub fn is_post(req: &Request) -> bool {
    req.method() == Method::POST
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    pub(crate) fn event(raw_path: &str, raw_query: &str, host: &str) -> serde_json::Value {
        json!({
            "version": "2.0", "routeKey": "$default", "rawPath": raw_path,
            "rawQueryString": raw_query,
            "headers": {"host": host, "content-type": "application/x-www-form-urlencoded",
                        "x-twilio-signature": "abc"},
            "requestContext": {"accountId": "1", "apiId": "a", "domainName": host,
                "http": {"method": "POST", "path": raw_path, "protocol": "HTTP/1.1",
                         "sourceIp": "198.51.100.7", "userAgent": "TwilioProxy/1.1"},
                "requestId": "r", "routeKey": "$default", "stage": "$default",
                "time": "22/Nov/2026:12:00:00 +0000", "timeEpoch": 0},
            "body": "CallSid=CA1", "isBase64Encoded": false
        })
    }

    #[test]
    fn builds_the_uri_from_raw_path_and_query_never_from_host() {
        let req = request_from_event(event("/voice-frontdoor", "a=1&b=x%20y", "x/voice-status#"))
            .unwrap();
        assert_eq!(req.uri().path(), "/voice-frontdoor");
        assert_eq!(req.uri().query(), Some("a=1&b=x%20y"));
        assert_eq!(req.uri().host(), None);
        assert_eq!(raw_target(&req), ("/voice-frontdoor", "a=1&b=x%20y"));
        assert_eq!(req.method(), Method::POST);
        assert_eq!(req.body().as_ref(), b"CallSid=CA1");
        assert_eq!(caller(&req).source_ip.as_deref(), Some("198.51.100.7"));
    }

    #[test]
    fn malformed_targets_and_bodies_are_refused_not_panicked() {
        for q in [
            "x=\"q\"", "a b", "<x>", "x=\u{7f}", "x=\u{1}", "x=\n", "x=é", "x#y",
        ] {
            assert_eq!(
                request_from_event(event("/voice-frontdoor", q, "h")).unwrap_err(),
                Malformed::Query,
                "{q:?}"
            );
        }
        for p in ["", "voice", "/a b", "/a?b", "/a#b"] {
            assert_eq!(
                request_from_event(event(p, "", "h")).unwrap_err(),
                Malformed::Path,
                "{p:?}"
            );
        }
        // The Host header is never parsed as an authority: these are just header values.
        for host in ["a b", "[::1", "x:99999", "x/voice-status#"] {
            assert!(
                request_from_event(event("/voice-frontdoor", "", host)).is_ok(),
                "{host:?}"
            );
        }
        // A header value HTTP forbids (a control character) makes the event malformed: a 400.
        assert!(matches!(
            request_from_event(event("/voice-frontdoor", "", "\u{1}")),
            Err(Malformed::Header(h)) if h == "host"
        ));
        // The reason names the header, never its value (a bearer token was echoed once).
        let mut ev = event("/voice-frontdoor", "", "h");
        ev["headers"]["authorization"] = json!("Bearer secret-token-123\u{7}");
        let e = request_from_event(ev).unwrap_err().to_string();
        assert!(
            e.contains("authorization") && !e.contains("secret-token"),
            "{e}"
        );
        let mut ev = event("/voice-frontdoor", "", "h");
        ev["headers"]["x-api-key"] = json!(["secret-token-456"]);
        let e = request_from_event(ev).unwrap_err().to_string();
        assert!(
            e.contains("x-api-key") && !e.contains("secret-token"),
            "{e}"
        );
        let mut ev = event("/voice-frontdoor", "", "h");
        ev["requestContext"]["http"]["method"] = json!("secret-token-789 X");
        let e = request_from_event(ev).unwrap_err().to_string();
        assert!(!e.contains("secret-token"), "{e}");
        let mut ev = event("/voice-frontdoor", "", "h");
        ev["isBase64Encoded"] = json!(true);
        ev["body"] = json!("%%%not base64");
        assert_eq!(request_from_event(ev).unwrap_err(), Malformed::Base64);
        let mut ev = event("/voice-frontdoor", "", "h");
        ev["isBase64Encoded"] = json!(true);
        ev["body"] = json!("Q2FsbFNpZD1DQTE=");
        assert_eq!(
            request_from_event(ev).unwrap().body().as_ref(),
            b"CallSid=CA1"
        );
        assert!(matches!(
            request_from_event(json!({"rawPath": "/x"})),
            Err(Malformed::Event(_))
        ));
        assert!(matches!(
            request_from_event(json!([1, 2])),
            Err(Malformed::Event(_))
        ));
    }

    #[test]
    fn iam_principal_comes_from_the_authorizer_context() {
        let mut ev = event("/ops/calls/active", "", "h");
        ev["requestContext"]["authorizer"] = json!({"iam": {"accessKey": "AKIA",
            "accountId": "1", "callerId": "AIDA", "userArn": "arn:aws:iam::1:user/ops",
            "userId": "AIDA"}});
        let req = request_from_event(ev).unwrap();
        assert_eq!(
            caller(&req).iam_principal.as_deref(),
            Some("arn:aws:iam::1:user/ops")
        );
    }

    proptest::proptest! {
        /// Any rawPath, rawQueryString, Host, body and base64 flag: a request or a clean refusal,
        /// never a panic; an accepted request carries exactly the raw path and query.
        #[test]
        fn any_event_becomes_a_request_or_a_refusal(
            path in proptest::prelude::any::<String>(),
            query in proptest::prelude::any::<String>(),
            host in proptest::prelude::any::<String>(),
            body in proptest::prelude::any::<String>(),
            b64 in proptest::prelude::any::<bool>(),
        ) {
            let mut ev = event(&path, &query, &host);
            ev["body"] = json!(body);
            ev["isBase64Encoded"] = json!(b64);
            if let Ok(req) = request_from_event(ev) {
                proptest::prop_assert_eq!(raw_target(&req), (path.as_str(), query.as_str()));
                proptest::prop_assert_eq!(req.uri().path(), path.as_str());
            }
        }

        /// Twilio-shaped targets (our own callback URLs) are always accepted.
        #[test]
        fn twilio_targets_are_accepted(
            path in "/[a-z-]{1,30}",
            query in "([A-Za-z]{1,8}=[A-Za-z0-9%+._~-]{0,12}&?){0,4}",
        ) {
            let req = request_from_event(event(&path, &query, "h"));
            proptest::prop_assert!(req.is_ok(), "{:?}", req.err());
        }
    }

    #[test]
    fn responses_become_payload_2_0_results() {
        let mut r = http::Response::new(Body::Text("<Response/>".into()));
        r.headers_mut()
            .insert("content-type", "text/xml".parse().unwrap());
        let v = response_to_event(r);
        assert_eq!(v["statusCode"], 200);
        assert_eq!(v["headers"]["content-type"], "text/xml");
        assert_eq!(v["body"], "<Response/>");
        assert_eq!(v["isBase64Encoded"], false);
        // The shape local tooling (cargo lambda watch) parses responses into.
        let typed: aws_lambda_events::apigw::ApiGatewayV2httpResponse =
            serde_json::from_value(v.clone()).expect("an ApiGatewayV2httpResponse");
        assert_eq!(typed.status_code, 200);
        let v = response_to_event(http::Response::new(Body::Binary(vec![0xff, 0])));
        assert_eq!(v["isBase64Encoded"], true);
        assert_eq!(v["body"], "/wA=");
    }
}
