//! What a JSON route reads from its request besides the path: who calls, the conditional and
//! idempotency headers, and the JSON body.

use crate::answer::ApiError;
use serde::de::DeserializeOwned;
use telephony_aws::http::{header, StatusCode};
use telephony_aws::Request;

/// Largest accepted JSON body: 64 KiB (the webhooks' limit, `telephony_aws::glue::MAX_BODY_BYTES`).
pub const MAX_JSON_BYTES: usize = telephony_aws::glue::MAX_BODY_BYTES;

/// The IAM principal API Gateway's `AWS_IAM` authorizer verified (`userArn`, else `callerId`).
///
/// Errors: 403 `forbidden` when there is none: the handler checks again, so a route deployed
/// without the authorizer cannot be opened.
pub fn iam_principal(req: &Request) -> Result<String, ApiError> {
    telephony_aws::event::caller(req)
        .iam_principal
        .ok_or_else(|| ApiError::forbidden("an IAM-signed request is required"))
}

/// The token of `Authorization: Bearer <token>` (RFC 6750 §2.1; the scheme name is
/// case-insensitive, RFC 9110 §11.1), trimmed; `None` when the header is absent, not ASCII, of
/// another scheme or empty.
pub fn bearer_token(req: &Request) -> Option<&str> {
    let v = req.headers().get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = v.split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}

/// A header's value as text, trimmed; `None` when absent or not visible ASCII.
pub fn header_text<'r>(req: &'r Request, name: &str) -> Option<&'r str> {
    req.headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
}

/// `If-Match` (RFC 9110 §13.1.1) as the version it names, quotes removed: `"3"` and `3` → `3`.
pub fn if_match(req: &Request) -> Option<String> {
    header_text(req, "if-match").map(|v| v.trim_matches('"').to_owned())
}

/// The `Idempotency-Key` header (IETF draft-ietf-httpapi-idempotency-key-header), as sent.
pub fn idempotency_key(req: &Request) -> Option<&str> {
    header_text(req, "idempotency-key")
}

/// A named query parameter (form-decoded), if present.
pub fn query(req: &Request, name: &str) -> Option<String> {
    let q = req.uri().query().unwrap_or("");
    telephony_core::Params::from_form(q.as_bytes())
        .ok()?
        .get(name)
        .map(str::to_owned)
}

/// How a route reads its JSON body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BodyRules {
    /// Largest accepted body, bytes.
    pub max_bytes: usize,
    /// A JSON `Content-Type` must be sent (a browser-facing route: a `text/plain` "simple
    /// request" skips the CORS preflight). Otherwise a missing one is accepted (the CLI and API
    /// Gateway test consoles often omit it), another refused.
    pub content_type_required: bool,
    /// An empty body reads as `{}`.
    pub empty_is_object: bool,
}

impl BodyRules {
    /// [`MAX_JSON_BYTES`], a missing `Content-Type` accepted, an empty body refused.
    pub const DEFAULT: Self = Self {
        max_bytes: MAX_JSON_BYTES,
        content_type_required: false,
        empty_is_object: false,
    };
}

/// The body as JSON of type `T` under [`BodyRules::DEFAULT`] (an empty body reads as `{}` when
/// `empty_is_object`).
///
/// Errors: as [`json_body_with`].
pub fn json_body<T: DeserializeOwned>(req: &Request, empty_is_object: bool) -> Result<T, ApiError> {
    json_body_with(
        req,
        BodyRules {
            empty_is_object,
            ..BodyRules::DEFAULT
        },
    )
}

/// The body as JSON of type `T` under `rules`.
///
/// Errors: 415 `unsupported_media_type` for a `Content-Type` other than JSON (or none, when
/// required); 413 `body_too_large` over `rules.max_bytes`; 400 `bad_json` with serde's message
/// for malformed JSON or unknown fields.
pub fn json_body_with<T: DeserializeOwned>(req: &Request, rules: BodyRules) -> Result<T, ApiError> {
    let body = req.body().as_ref();
    let is_json = header_text(req, "content-type").map(|ct| {
        let essence = ct
            .split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase();
        essence == "application/json" || essence.ends_with("+json")
    });
    if is_json == Some(false) || (rules.content_type_required && is_json.is_none()) {
        return Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "send the body as application/json",
        ));
    }
    if body.len() > rules.max_bytes {
        return Err(ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "body_too_large",
            format!("the body is limited to {} bytes", rules.max_bytes),
        ));
    }
    let body: &[u8] = if body.is_empty() && rules.empty_is_object {
        b"{}"
    } else {
        body
    };
    serde_json::from_slice(body).map_err(|e| ApiError::bad_request("bad_json", e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use telephony_aws::http;
    use telephony_aws::Body;

    fn req(headers: &[(&str, &str)], body: &str) -> Request {
        let mut b = http::Request::builder().uri("/ops/x?status=acked&a=%2B1");
        for (k, v) in headers {
            b = b.header(*k, *v);
        }
        b.body(Body::Text(body.to_owned())).unwrap()
    }

    #[derive(serde::Deserialize, Debug)]
    #[serde(deny_unknown_fields)]
    struct B {
        #[serde(default)]
        a: u8,
    }

    #[test]
    fn headers_and_queries_are_read() {
        let r = req(
            &[
                ("If-Match", "\"3\""),
                ("authorization", "bearer  t0k "),
                ("idempotency-key", " k1 "),
            ],
            "",
        );
        assert_eq!(if_match(&r).as_deref(), Some("3"));
        assert_eq!(bearer_token(&r), Some("t0k"));
        assert_eq!(idempotency_key(&r), Some("k1"));
        assert_eq!(query(&r, "status").as_deref(), Some("acked"));
        assert_eq!(query(&r, "a").as_deref(), Some("+1"));
        assert_eq!(iam_principal(&r).unwrap_err().status, StatusCode::FORBIDDEN);
    }

    #[test]
    fn bodies_are_limited_typed_and_json_only() {
        assert_eq!(json_body::<B>(&req(&[], ""), true).unwrap().a, 0);
        assert_eq!(
            json_body::<B>(&req(&[], ""), false).unwrap_err().code,
            "bad_json"
        );
        assert_eq!(
            json_body::<B>(&req(&[], r#"{"b":1}"#), false)
                .unwrap_err()
                .code,
            "bad_json"
        );
        let form = req(
            &[("content-type", "application/x-www-form-urlencoded")],
            "a=1",
        );
        assert_eq!(
            json_body::<B>(&form, false).unwrap_err().status.as_u16(),
            415
        );
        let big = req(&[], &" ".repeat(MAX_JSON_BYTES + 1));
        assert_eq!(
            json_body::<B>(&big, false).unwrap_err().status.as_u16(),
            413
        );
        let ok = req(
            &[("content-type", "application/json; charset=utf-8")],
            r#"{"a":2}"#,
        );
        assert_eq!(json_body::<B>(&ok, false).unwrap().a, 2);
        let strict = BodyRules {
            max_bytes: 8,
            content_type_required: true,
            empty_is_object: false,
        };
        let untyped = req(&[], r#"{"a":2}"#);
        assert_eq!(
            json_body_with::<B>(&untyped, strict)
                .unwrap_err()
                .status
                .as_u16(),
            415
        );
        let long = req(&[("content-type", "application/json")], r#"{"a": 2 }"#);
        assert_eq!(
            json_body_with::<B>(&long, strict).unwrap_err().code,
            "body_too_large"
        );
    }

    #[test]
    fn bearer_tokens_are_read_from_the_authorization_header() {
        let with = |v: Option<&str>| {
            let mut b = telephony_aws::http::Request::builder();
            if let Some(v) = v {
                b = b.header(telephony_aws::http::header::AUTHORIZATION, v);
            }
            b.body(Body::Empty).unwrap()
        };
        assert_eq!(bearer_token(&with(Some("Bearer abc.def"))), Some("abc.def"));
        assert_eq!(bearer_token(&with(Some("bearer  abc "))), Some("abc"));
        assert_eq!(bearer_token(&with(Some("Basic dXNlcjpwdw=="))), None);
        assert_eq!(bearer_token(&with(Some("Bearer "))), None);
        assert_eq!(bearer_token(&with(Some("Bearer"))), None);
        assert_eq!(bearer_token(&with(None)), None);
        assert_eq!(
            ApiError::not_configured("X must be set").status,
            StatusCode::SERVICE_UNAVAILABLE
        );
    }
}
