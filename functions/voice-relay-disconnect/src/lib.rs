//! `$disconnect` of the ConversationRelay WebSocket API (issue 28 §2): the session of the
//! connection gets its end instant (once) and the connection pointer goes. What the caller hears
//! next is decided by the Connect action (`/voice-relay-action`), which Twilio requests when the
//! session ends; nothing is sent here (the socket is closed). A connection that never sent
//! `setup` has nothing to close.

use telephony_aws::ws::WsEvent;
use telephony_aws::{metrics, now_ms, Deps};

/// The environment variables this function reads ([`telephony_aws::Needs`]; `template.yaml`
/// sets exactly these on it, `tests/tests/settings.rs` checks).
pub const NEEDS: telephony_aws::Needs = telephony_aws::Needs {
    base: None,
    groups: &[
        &telephony_aws::needs::NUMBERS,
        &telephony_aws::needs::NUMBER_DEFAULTS,
        &telephony_aws::needs::CALLS,
        &telephony_aws::needs::VOICEMAIL_NOTICES,
    ],
};

/// Handles the close; 200 unless storage failed (500: API Gateway only logs it).
pub async fn handler(deps: &Deps, _: &(), ev: WsEvent) -> u16 {
    let calls = deps.calls();
    let sid = match calls.call_of_connection(&ev.connection_id).await {
        Ok(Some(sid)) => sid,
        Ok(None) => return 200,
        Err(e) => {
            tracing::error!(connection_id = %ev.connection_id, error = %e, "relay disconnect not recorded");
            metrics::count("DependencyErrors", Some(("Dependency", e.dependency())));
            return 500;
        }
    };
    match calls.end_session(&sid, &ev.connection_id, now_ms()).await {
        Ok(()) => {
            tracing::info!(call_sid = %sid, "relay session closed");
            200
        }
        Err(e) => {
            tracing::error!(call_sid = %sid, error = %e, "relay disconnect not recorded");
            metrics::count("DependencyErrors", Some(("Dependency", e.dependency())));
            500
        }
    }
}
