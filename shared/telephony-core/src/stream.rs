//! The AI hand-off's pure parts (issue 12, in progress): the stream token that authenticates the
//! external real-time bridge for one call, and the decision taken when the `<Connect><Stream>`
//! ends. Shared by the webhooks and, as a library, by the bridge service.
//!
//! Token: `v1.<CallSid>.<expiry>.<signature>` where `expiry` is Unix seconds and `signature` is
//! hex HMAC-SHA256 (RFC 2104, FIPS 180-4) over `v1|<CallSid>|<expiry>` with the stack's stream
//! secret. Valid for [`TOKEN_TTL_SECS`] after issue; compared in constant time.

use hmac::{Hmac, Mac};
use sha2::Sha256;
use subtle::ConstantTimeEq;

/// A token lives 3 minutes: long enough for the bridge to connect, short enough that a leaked
/// one is soon useless.
pub const TOKEN_TTL_SECS: u64 = 180;

/// Why a token was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    /// Not `v1.<CallSid>.<expiry>.<hex>`.
    #[error("malformed stream token")]
    Format,
    /// The signature does not match (tampered, or another secret).
    #[error("stream token signature does not match")]
    BadSignature,
    /// Past its expiry.
    #[error("stream token expired")]
    Expired,
    /// Valid, but for another call.
    #[error("stream token is for another call")]
    CallSidMismatch,
}

fn signature(secret: &[u8], call_sid: &str, expiry: u64) -> Vec<u8> {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret).expect("HMAC takes any key length");
    mac.update(format!("v1|{call_sid}|{expiry}").as_bytes());
    mac.finalize().into_bytes().to_vec()
}

/// A token for `call_sid`, issued at `now` (Unix seconds).
pub fn issue(secret: &[u8], call_sid: &str, now: u64) -> String {
    let expiry = now + TOKEN_TTL_SECS;
    format!(
        "v1.{call_sid}.{expiry}.{}",
        hex::encode(signature(secret, call_sid, expiry))
    )
}

/// Checks `token` for the call `call_sid` at `now`: format, then signature, then expiry, then the
/// call.
///
/// Errors: [`TokenError`].
pub fn verify(secret: &[u8], token: &str, call_sid: &str, now: u64) -> Result<(), TokenError> {
    let parts: Vec<&str> = token.split('.').collect();
    let ["v1", sid, expiry, sig] = parts.as_slice() else {
        return Err(TokenError::Format);
    };
    let expiry: u64 = expiry.parse().map_err(|_| TokenError::Format)?;
    let given = hex::decode(sig).map_err(|_| TokenError::Format)?;
    let want = signature(secret, sid, expiry);
    if !bool::from(given.ct_eq(&want)) {
        return Err(TokenError::BadSignature);
    }
    if now >= expiry {
        return Err(TokenError::Expired);
    }
    if *sid != call_sid {
        return Err(TokenError::CallSidMismatch);
    }
    Ok(())
}

/// How a `<Connect><Stream>` ended, as recorded from its status callbacks and the bridge.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StreamFacts {
    /// Milliseconds from the `<Connect>` to `stream-started`, if it started.
    pub handshake_ms: Option<u64>,
    /// A `stream-error` was reported.
    pub errored: bool,
    /// The bridge asked for a person (its `transfer` status).
    pub transfer_requested: bool,
}

/// What the Connect action does next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StreamNext {
    /// The AI path failed: the human path (Say + Dial + voicemail), once, with the reason.
    Fallback(&'static str),
    /// The bridge asked for a person: Dial.
    Transfer,
    /// The AI ended the conversation: a polite goodbye and Hangup (never back to consent).
    Goodbye,
}

/// Decides the Connect action (issue 12 §3): never started → fallback `not_started`; errored →
/// `stream_error`; started later than `watchdog_ms` → `slow_handshake`; a transfer request →
/// Dial; otherwise the AI finished → goodbye.
pub fn next_step(f: &StreamFacts, watchdog_ms: u64) -> StreamNext {
    match f.handshake_ms {
        None => StreamNext::Fallback("not_started"),
        Some(_) if f.errored => StreamNext::Fallback("stream_error"),
        Some(ms) if ms > watchdog_ms => StreamNext::Fallback("slow_handshake"),
        Some(_) if f.transfer_requested => StreamNext::Transfer,
        Some(_) => StreamNext::Goodbye,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &[u8] = b"stream-secret";
    const CALL: &str = "CA0123456789abcdef0123456789abcdef";

    #[test]
    fn tokens_verify_only_for_their_call_within_three_minutes() {
        let t = issue(SECRET, CALL, 1_000);
        assert_eq!(verify(SECRET, &t, CALL, 1_000), Ok(()));
        assert_eq!(verify(SECRET, &t, CALL, 1_179), Ok(()));
        assert_eq!(verify(SECRET, &t, CALL, 1_180), Err(TokenError::Expired));
        assert_eq!(
            verify(SECRET, &t, "CAffffffffffffffffffffffffffffffff", 1_000),
            Err(TokenError::CallSidMismatch)
        );
        assert_eq!(
            verify(b"other", &t, CALL, 1_000),
            Err(TokenError::BadSignature)
        );
        // Tampered: a later expiry with the old signature.
        let forged = t.replace(".1180.", ".9999.");
        assert_eq!(
            verify(SECRET, &forged, CALL, 1_000),
            Err(TokenError::BadSignature)
        );
        for bad in ["", "v2.x.1.00", "v1.CA.notanumber.00", "v1.CA.1180.zz"] {
            assert_eq!(
                verify(SECRET, bad, CALL, 1_000),
                Err(TokenError::Format),
                "{bad}"
            );
        }
    }

    #[test]
    fn the_connect_action_falls_back_once_or_says_goodbye() {
        let f = |handshake_ms, errored, transfer_requested| StreamFacts {
            handshake_ms,
            errored,
            transfer_requested,
        };
        assert_eq!(
            next_step(&f(None, false, false), 3000),
            StreamNext::Fallback("not_started")
        );
        assert_eq!(
            next_step(&f(Some(800), true, false), 3000),
            StreamNext::Fallback("stream_error")
        );
        assert_eq!(
            next_step(&f(Some(3500), false, false), 3000),
            StreamNext::Fallback("slow_handshake")
        );
        assert_eq!(
            next_step(&f(Some(800), false, true), 3000),
            StreamNext::Transfer
        );
        assert_eq!(
            next_step(&f(Some(800), false, false), 3000),
            StreamNext::Goodbye
        );
    }
}
