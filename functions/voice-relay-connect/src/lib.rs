//! `$connect` of the ConversationRelay WebSocket API (issue 28 §2): Twilio opens the socket with
//! an `X-Twilio-Signature` computed like a webhook's, over the `<ConversationRelay url>` with no
//! parameters (Twilio changelog 2025-04-01, "Signature Header In Websocket Request"). The URL is
//! `RELAY_URL` as configured (API Gateway's event does not carry the query exactly, so the relay
//! URL has none), accepted with and without its default port. Missing → 401, wrong → 403
//! (API Gateway then refuses the handshake); no `RELAY_URL` → 503. The call is not known yet:
//! its session is claimed at `setup` with the call's single-use token.

use telephony_aws::ws::WsEvent;
use telephony_aws::{metrics, Deps};
use telephony_core::signature::{self, SignatureError, SignedBody};

/// The environment variables this function reads ([`telephony_aws::Needs`]; `template.yaml`
/// sets exactly these on it, `tests/tests/settings.rs` checks).
pub const NEEDS: telephony_aws::Needs = telephony_aws::Needs {
    base: Some(&telephony_aws::needs::CALLBACK),
    groups: &[&telephony_aws::needs::RELAY],
};

/// Handles the handshake; returns the status for API Gateway.
pub async fn handler(deps: &Deps, _: &(), ev: WsEvent) -> u16 {
    let Some(url) = &deps.config.relay_url else {
        tracing::error!("RELAY_URL unset: relay handshake refused");
        return 503;
    };
    let tokens: Vec<&str> = deps.config.auth_tokens.iter().map(String::as_str).collect();
    match signature::verify(
        &tokens,
        url,
        SignedBody::Form(&[]),
        ev.header("x-twilio-signature"),
    ) {
        Ok(()) => {
            metrics::count("RelayConnections", None);
            200
        }
        Err(e) => {
            tracing::warn!(connection_id = %ev.connection_id, error = %e, "relay handshake refused");
            metrics::count("RelayHandshakeRefused", None);
            match e {
                SignatureError::Missing => 401,
                _ => 403,
            }
        }
    }
}
