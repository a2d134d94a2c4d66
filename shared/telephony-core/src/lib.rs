//! Pure telephony logic for the TradeLine 24/7 hotline: no AWS, no network, no clock.
//!
//! Everything a webhook decides lives here, so it can be unit-tested and benchmarked without I/O:
//! - [`signature`]: Twilio `X-Twilio-Signature` validation (spec §2.1);
//! - [`params`]: webhook form parameters (repeated keys kept) and typed views of them;
//! - [`ids`]: `CallSid`, `RecordingSid` and `E164` newtypes, phone-number masking for logs;
//! - [`twiml`]: a TwiML builder on `quick-xml` (every attribute and text escaped, spec §2.5);
//! - [`flow`]: consent, menu, dial-outcome and loop-guard decisions and the TwiML reply of each step
//!   (spec §3);
//! - [`stream`]: the AI hand-off's stream token and Connect-action decision (issue 12);
//! - [`status`]: the forward-only call-status order (spec §5);
//! - [`ratelimit`]: fixed-window arithmetic for the distributed rate limiter (spec §3);
//! - [`prompts`]: every sentence the caller hears, in English and French (one catalogue);
//! - [`speech`]: spoken consent and menu answers → the same decisions as keys;
//! - [`sms`]: messaging keywords, auto-reply rules, message status order (spec §4);
//! - [`hours`]: business hours, holidays and closures per number (time-zone and DST correct);
//! - [`channel`]: SMS and WhatsApp addresses, the WhatsApp customer-service window;
//! - [`compliance`]: the US A2P 10DLC texting gate (issue 10);
//! - [`area_codes`]: North American area code → province/state (onboarding search fallback).

pub mod area_codes;
pub mod channel;
pub mod compliance;
pub mod flow;
pub mod gate;
pub mod hours;
pub mod ids;
pub mod params;
pub mod privacy;
pub mod prompts;
pub mod ratelimit;
pub mod routes;
pub mod screening;
pub mod signature;
pub mod sms;
pub mod speech;
pub mod status;
pub mod stream;
pub mod twiml;

pub use ids::{mask_phone, CallSid, E164Error, IdError, MessageSid, RecordingSid, E164};
pub use params::{ParamError, Params};
pub use routes::Route;
pub use twiml::Twiml;
