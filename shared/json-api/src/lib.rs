//! The glue of the JSON APIs, beside the TwiML glue of `telephony_aws::glue`: every function that
//! answers JSON (ops, provisioning, forwarding, contact form, tool calls) routes, reads its
//! request and shapes its errors here.
//!
//! - [`mod@route`]: a request's `(method, path)` matched against the function's route table (the
//!   templates `template.yaml` declares, `{name}` segments captured);
//! - [`request`]: the caller's principal (IAM or bearer token), `If-Match`, `Idempotency-Key`,
//!   JSON bodies with a size limit and a content-type check;
//! - [`answer`]: the one error shape `{"error": {"code", "message", …}}` ([`ApiError`]) and JSON
//!   responses;
//! - [`privacy`]: the HTTP face of privacy requests, mounted by the ops API and the tenant API.

pub mod answer;
pub mod privacy;
pub mod request;
pub mod route;

pub use answer::{json, Answer, ApiError};
pub use route::{route, Matched, Table};
