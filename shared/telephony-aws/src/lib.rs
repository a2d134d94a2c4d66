//! The AWS adapter of the hotline: it adapts, it does not decide (decisions are
//! `telephony-core`'s, provisioning workflows the `provisioning` crate's, JSON answers
//! `json-api`'s). What lives where:
//!
//! - settings and clients: [`config`] (`Config`), [`needs`] (the per-function [`Needs`], the
//!   [`Env`] a function reads through, the variable groups), [`deps`] (clients built once);
//! - one item mapping: [`item`] (attribute builders and readers, conditional-write outcomes,
//!   the `SET`/`REMOVE` builder, pages, the JSON view of an item);
//! - one module per table and its access patterns (spec §5): [`calls`] (the `calls` table:
//!   calls, recordings, consent proofs, streams), [`messages`] (messages and opt-outs),
//!   [`numbers`] (the `numbers` table with its cache), [`contacts`], [`conversations`],
//!   [`forwarding`] (hybrid forwarding's store), [`ratelimit`] (fixed-window counters),
//!   [`streams`], [`screening`];
//! - what crosses tables: [`voicemail`] (store, announce, reconcile), [`recordings`] (S3
//!   copies), [`notifier`] (SNS), [`tools`] (the AI's tool effects), [`loops`] and [`reverify`]
//!   (forwarding's loop guard and 30-day checks), [`texting_gate`] (US A2P before a text),
//!   [`privacy`] (find, export, erase by phone number), [`ops`] and [`health`];
//! - the Lambda glue of TwiML webhooks and WebSockets: [`glue`], [`ws`], [`event`]; the
//!   ConversationRelay replies: `relay` (feature `relay`);
//! - [`metrics`] (EMF), [`logging`], [`error`].

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
