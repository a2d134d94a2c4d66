//! The operator side of the ops API (issue 9):
//!
//! - [`sigv4`]: AWS Signature Version 4 for `execute-api` — signing the CLI's requests (the
//!   `aws-sigv4` crate) and verifying them the way API Gateway's `AWS_IAM` authorizer does (the
//!   same canonical request re-signed with the caller's secret, constant-time compare);
//! - [`gateway`]: the local stand-in for API Gateway's IAM authorizer under `make run`: verifies
//!   the signature against the run's local operator key, builds the HTTP API v2 event with
//!   `requestContext.authorizer.iam` filled in, and invokes the route's function through
//!   `cargo lambda watch`'s Lambda Invoke endpoint. Unsigned or badly signed requests get 403,
//!   as from AWS; there is no bypass.
//! - [`client`]: the signing client the CLI uses;
//! - [`output`]: tables for humans, JSON for scripts.

pub mod client;
pub mod gateway;
pub mod output;
pub mod sigv4;
