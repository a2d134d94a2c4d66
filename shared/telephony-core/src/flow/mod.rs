//! Call-flow decisions and the TwiML reply of every step (spec §3). Pure: the caller passes in
//! what it read (digits, query, stored consent, number config) and gets a decision or TwiML back.
//!
//! - [`steps`]: the decisions (consent, menu, dial target, dial outcome);
//! - [`replies`]: the TwiML of each step ([`Replies`]);
//! - [`number`]: a number's configuration and voices ([`NumberConfig`], [`Voices`]).
//!
//! Why a call is closed is the hours' business ([`crate::hours::Closed`], re-exported here).

pub mod number;
pub mod replies;
pub mod steps;

pub use crate::hours::Closed;
pub use number::*;
pub use replies::*;
pub use steps::*;

#[cfg(test)]
mod tests;
