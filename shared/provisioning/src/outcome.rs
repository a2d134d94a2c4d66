//! What a provisioning operation gives back: [`Done`] (the JSON view of what now exists) or
//! [`Refused`] (a typed reason, a machine-readable code and a message). No HTTP here: the
//! function that serves the operation maps a [`Kind`] to its status
//! (`functions/ops-provisioning/src/answers.rs`).

use serde_json::Value;

/// A completed operation.
#[derive(Debug, Clone, PartialEq)]
pub enum Done {
    /// Read, changed or found already there.
    Ok(Value),
    /// Created by this request.
    Created(Value),
}

/// Why an operation refused or failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// The request is wrong (a field, a number, a version that is not one).
    Invalid,
    /// What the request names does not exist.
    NotFound,
    /// The state forbids it now (busy, in use, stale version, nothing available).
    Conflict,
    /// A precondition header is required (`If-Match`).
    PreconditionRequired,
    /// Twilio refused or failed.
    Upstream,
    /// Our own store failed or a setting is missing: retry later.
    Unavailable,
}

/// A refusal: its [`Kind`], a snake_case `code`, a message for people (never Twilio's raw body),
/// and optional structured detail (e.g. the forwarding configs still using a number).
#[derive(Debug, Clone, PartialEq)]
pub struct Refused {
    /// The reason.
    pub kind: Kind,
    /// Machine-readable code.
    pub code: &'static str,
    /// For people.
    pub message: String,
    /// Extra fields shown beside the error.
    pub detail: Option<(&'static str, Value)>,
}

impl Refused {
    /// A refusal of `kind` with `code` and `message`.
    pub fn new(kind: Kind, code: &'static str, message: &str) -> Self {
        Self {
            kind,
            code,
            message: message.to_owned(),
            detail: None,
        }
    }

    /// 503-kind `not_configured`: `what` must be set.
    pub fn not_configured(what: &str) -> Self {
        Self::new(
            Kind::Unavailable,
            "not_configured",
            &format!("{what} must be set"),
        )
    }

    /// With `key: value` shown beside the error.
    pub fn with_detail(mut self, key: &'static str, value: Value) -> Self {
        self.detail = Some((key, value));
        self
    }
}

impl std::fmt::Display for Refused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.code, self.message)
    }
}

impl std::error::Error for Refused {}

/// An operation's result.
pub type Outcome = Result<Done, Refused>;
