//! The AI receptionist's pure part (issue 28; the house conventions' "Growing the house"):
//! everything the ConversationRelay functions decide, with no I/O, so it is unit-tested alone.
//!
//! - [`relay`]: Twilio ConversationRelay WebSocket messages (`setup`, `prompt`, `interrupt`,
//!   `dtmf`, `error` in; `text`, `end`, `language`, `sendDigits` out);
//! - [`prompt`]: the system prompt built per call from the number's config, and the tools
//!   offered to the model;
//! - [`booking`]: what may be booked (future, inside business hours, in the number's zone, read
//!   back and confirmed by the caller first);
//! - [`turn`]: the conversation's history, phrase-sized text tokens, the caps, DTMF, and how a
//!   session ends (hand-off data and the Connect action's decision).

pub mod booking;
pub mod prompt;
pub mod relay;
pub mod turn;
