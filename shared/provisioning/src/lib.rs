//! Number provisioning (issues 9, 10, 22), the workflows behind `functions/ops-provisioning`,
//! with typed results and errors and no HTTP types ([`outcome`]):
//!
//! - [`plan`]: an onboarding request checked and its number search planned (pure);
//! - [`saga`]: the onboarding saga (buy, record, join the Messaging Service, undo on failure) and
//!   the monitor's sweep of sagas left open;
//! - [`admin`]: numbers already onboarded: list, show, webhooks, configuration, release;
//! - [`orders`]: hosted SMS and port-in orders;
//! - [`a2p`]: US A2P 10DLC registration (the gate where texts are sent stays in
//!   `telephony_aws::texting_gate`);
//! - [`idempotency`]: the `Idempotency-Key` store of the state-changing routes;
//! - [`settings`]: the tables and Twilio options these read.

pub mod a2p;
pub mod admin;
pub mod idempotency;
pub mod orders;
pub mod outcome;
pub mod plan;
pub mod saga;
pub mod settings;

pub use outcome::{Done, Kind, Outcome, Refused};
