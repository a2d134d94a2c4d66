//! The AWS side of the hotline: configuration, SDK clients built once, the DynamoDB access
//! patterns (spec §5), the S3 recording store, the SNS notifier, metrics, and the Lambda
//! glue every webhook shares (spec §2).

pub mod calls;
pub mod config;
pub mod contacts;
pub mod conversations;
pub mod deps;
pub mod error;
pub mod event;
pub mod forwarding;
pub mod glue;
pub mod health;
pub mod item;
pub mod logging;
pub mod loops;
pub mod messages;
pub mod metrics;
pub mod needs;
pub mod notifier;
pub mod numbers;
pub mod ops;
pub mod privacy;
pub mod ratelimit;
pub mod recordings;
#[cfg(feature = "relay")]
pub mod relay;
pub mod reverify;
pub mod screening;
pub mod streams;
pub mod texting_gate;
pub mod tools;
pub mod voicemail;
pub mod ws;

/// The shared AWS SDK configuration type (built by [`deps::AwsTarget::sdk_config`]).
pub use aws_types::SdkConfig;
pub use config::{Config, ConfigError, Env, Needs, VarGroup};
pub use deps::Deps;
pub use error::Error;
pub use event::{Body, Request};
pub use glue::LambdaError;
pub use glue::Webhook;
pub use http::{self, Response};
pub use twilio_api;

/// Milliseconds since the Unix epoch (0 if the clock is before it).
pub fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

/// Seconds since the Unix epoch (DynamoDB TTL attributes and timestamps are in this unit).
pub fn now_secs() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}
