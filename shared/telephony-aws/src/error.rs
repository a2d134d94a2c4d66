//! Errors of the AWS adapter. Conditional-check failures are not errors: they are outcomes
//! (`Claim::AlreadyExists`, `Advance::Stale`, …) returned by the store.

use aws_sdk_dynamodb::error::{DisplayErrorContext, ProvideErrorMetadata};
use telephony_core::ParamError;

/// What failed while handling a webhook, with the operation and id where known.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A required webhook parameter was missing or malformed.
    #[error(transparent)]
    Param(#[from] ParamError),
    /// A DynamoDB call failed (after the SDK's retries).
    #[error("DynamoDB {op} failed: {message}")]
    Dynamo {
        /// Operation and table, e.g. `UpdateItem calls`.
        op: &'static str,
        /// The SDK's error with its context.
        message: String,
    },
    /// An S3 call failed.
    #[error("S3 {op} {key} failed: {message}")]
    S3 {
        /// Operation.
        op: &'static str,
        /// Object key.
        key: String,
        /// The SDK's error.
        message: String,
    },
    /// An SNS publish failed.
    #[error("SNS publish to {topic} failed: {message}")]
    Sns {
        /// Topic ARN.
        topic: String,
        /// The SDK's error.
        message: String,
    },
    /// Downloading a recording or media from Twilio failed.
    #[error("download of {what} failed: {message}")]
    Download {
        /// Which resource (SID), never a URL with credentials.
        what: String,
        /// The reason.
        message: String,
    },
    /// Twilio media we will not copy, whatever the retry: over the size cap, or a URL outside
    /// the Twilio API base (credentials are never sent elsewhere). Twilio's URL is kept instead.
    #[error("{what} not copied: {reason}")]
    MediaRefused {
        /// Which resource (SID).
        what: String,
        /// The refusal.
        reason: String,
    },
    /// A Twilio REST call failed (after the client's retries).
    #[error("Twilio REST call failed: {0}")]
    Twilio(#[from] twilio_api::TwilioError),
    /// An API Gateway Management API call (a reply on the relay WebSocket) failed.
    #[error("API Gateway {op} failed: {message}")]
    Relay {
        /// Operation.
        op: &'static str,
        /// The SDK's error.
        message: String,
    },
    /// A stored item does not have the shape this code writes.
    #[error("stored item {pk} is malformed: {message}")]
    Corrupt {
        /// Item key.
        pk: String,
        /// What is wrong.
        message: String,
    },
}

impl Error {
    /// A DynamoDB error for `op`: a service error as `Code: message`; any other failure
    /// (timeout, connection, decoding) with the SDK's full error context.
    pub fn dynamo<E: std::error::Error + ProvideErrorMetadata + 'static, R: std::fmt::Debug>(
        op: &'static str,
    ) -> impl FnOnce(aws_sdk_dynamodb::error::SdkError<E, R>) -> Error {
        move |e| {
            let message = match e.as_service_error() {
                Some(se) => format!(
                    "{}: {}",
                    se.code().unwrap_or("ServiceError"),
                    se.message().unwrap_or("no message")
                ),
                None => DisplayErrorContext(&e).to_string(),
            };
            Error::Dynamo { op, message }
        }
    }

    /// The dependency that failed, as a metric dimension (`dynamodb`, `s3`, `sns`, `twilio`), or
    /// `input` for bad webhook parameters.
    pub fn dependency(&self) -> &'static str {
        match self {
            Error::Param(_) => "input",
            Error::Dynamo { .. } | Error::Corrupt { .. } => "dynamodb",
            Error::S3 { .. } => "s3",
            Error::Sns { .. } => "sns",
            Error::Download { .. } | Error::MediaRefused { .. } | Error::Twilio(_) => "twilio",
            Error::Relay { .. } => "apigateway",
        }
    }
}
