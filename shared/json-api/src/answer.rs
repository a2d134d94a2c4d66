//! JSON responses and the one error shape of every JSON API.

use serde_json::{json as value, Map, Value};
use telephony_aws::http::{header, HeaderName, HeaderValue, Response, StatusCode};
use telephony_aws::Body;

/// What a JSON route gives: a status and a body, or an [`ApiError`].
pub type Answer = Result<(StatusCode, Value), ApiError>;

/// A JSON response with `status` (`Content-Type: application/json`).
pub fn json(status: StatusCode, value: &Value) -> Response<Body> {
    let mut r = Response::new(Body::Text(value.to_string()));
    *r.status_mut() = status;
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    r
}

/// An [`Answer`] as the response.
pub fn respond(answer: Answer) -> Response<Body> {
    match answer {
        Ok((status, body)) => json(status, &body),
        Err(e) => e.into_response(),
    }
}

/// A refused request: `status` and the body `{"error": {"code", "message", …detail}}` (`code`
/// machine-readable snake_case, `message` for people; never a dependency's raw answer), with
/// optional extra headers (`Retry-After`, `WWW-Authenticate`).
#[derive(Debug, Clone)]
pub struct ApiError {
    /// HTTP status (4xx or 5xx).
    pub status: StatusCode,
    /// Machine-readable code.
    pub code: String,
    /// For people.
    pub message: String,
    extra: Option<Box<Extra>>,
}

/// What few errors carry besides their code (boxed: errors stay small on the happy path).
#[derive(Debug, Clone, Default)]
struct Extra {
    detail: Map<String, Value>,
    top: Map<String, Value>,
    headers: Vec<(HeaderName, HeaderValue)>,
}

impl ApiError {
    /// `status` with `code` and `message`.
    pub fn new(status: StatusCode, code: &str, message: impl Into<String>) -> Self {
        Self {
            status,
            code: code.to_owned(),
            message: message.into(),
            extra: None,
        }
    }

    /// 400 with `code`.
    pub fn bad_request(code: &str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, code, message)
    }

    /// 404 `not_found`.
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", message)
    }

    /// 404 `not_found` "no such route".
    pub fn no_route() -> Self {
        Self::not_found("no such route")
    }

    /// 403 `forbidden`.
    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, "forbidden", message)
    }

    /// 409 with `code`.
    pub fn conflict(code: &str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, code, message)
    }

    /// 503 with `code` (a dependency or our store did not answer: retry later).
    pub fn unavailable(code: &str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::SERVICE_UNAVAILABLE, code, message)
    }

    /// 503 `not_configured`: `what` (a setting) is missing; a function deployed without the
    /// settings a route needs answers this, never a panic.
    pub fn not_configured(what: &str) -> Self {
        Self::unavailable("not_configured", what)
    }

    /// 503 `store_unavailable` with the error.
    pub fn store(e: &impl std::fmt::Display) -> Self {
        Self::unavailable("store_unavailable", e.to_string())
    }

    fn extra(&mut self) -> &mut Extra {
        self.extra.get_or_insert_with(Default::default)
    }

    /// Adds `key: value` inside the `error` object.
    pub fn with_detail(mut self, key: &str, value: impl Into<Value>) -> Self {
        self.extra().detail.insert(key.to_owned(), value.into());
        self
    }

    /// Adds `key: value` beside the `error` object (e.g. the configs still in use).
    pub fn with_field(mut self, key: &str, value: impl Into<Value>) -> Self {
        self.extra().top.insert(key.to_owned(), value.into());
        self
    }

    /// Adds a response header.
    pub fn with_header(mut self, name: HeaderName, value: HeaderValue) -> Self {
        self.extra().headers.push((name, value));
        self
    }

    /// The body `{"error": {"code", "message", …}, …}`.
    pub fn body(&self) -> Value {
        let mut error = Map::new();
        error.insert("code".into(), value!(self.code));
        error.insert("message".into(), value!(self.message));
        let extra = self.extra.as_deref().cloned().unwrap_or_default();
        error.extend(extra.detail);
        let mut top = extra.top;
        top.insert("error".into(), Value::Object(error));
        Value::Object(top)
    }

    /// The status and body, for code that stores answers (idempotent replays).
    pub fn into_pair(self) -> (StatusCode, Value) {
        (self.status, self.body())
    }

    /// The response.
    pub fn into_response(self) -> Response<Body> {
        let mut r = json(self.status, &self.body());
        for (name, value) in self.extra.map(|e| e.headers).unwrap_or_default() {
            r.headers_mut().insert(name, value);
        }
        r
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} {}: {}",
            self.status.as_u16(),
            self.code,
            self.message
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_have_one_shape_with_their_detail_and_headers() {
        let e = ApiError::conflict("forwarding_active", "SIMs still forward")
            .with_field("configs", value!([{"id": "fc1"}]))
            .with_detail("retry_after_seconds", 30)
            .with_header(header::RETRY_AFTER, HeaderValue::from_static("30"));
        assert_eq!(
            e.body(),
            value!({"error": {"code": "forwarding_active", "message": "SIMs still forward",
                "retry_after_seconds": 30}, "configs": [{"id": "fc1"}]})
        );
        let r = e.into_response();
        assert_eq!(r.status(), StatusCode::CONFLICT);
        assert_eq!(r.headers()[header::RETRY_AFTER], "30");
        assert_eq!(r.headers()[header::CONTENT_TYPE], "application/json");
    }
}
