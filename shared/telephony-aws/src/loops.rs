//! Bounce detection (issue 24 §3): a forwarded call whose `ForwardedFrom` is the number one of
//! our calls is dialling right now is our own `<Dial>` coming back — the owner's mobile forwards
//! to us, and we were ringing that mobile. Answering it would ring the mobile again (a loop that
//! ends only at Twilio's limits) or bridge the caller to a second copy of our own flow.
//!
//! Every voice reply that dials writes a short-lived marker `dialling#<e164>` in the calls
//! table (the `CallSid` and when, TTL'd: [`DIAL_MARKER_SECS`]); the frontdoor reads the marker
//! of a forwarded call's `ForwardedFrom` with its other lookups. A bounce is refused
//! (`<Reject reason="busy"/>`), so the caller's own call goes straight to our voicemail from its
//! Dial action (`busy`), stored once on that call; the SIM's forwarding config, if verified,
//! becomes `looping` (it no longer routes) with one notice to the org (`ForwardingLoops`).

use crate::error::Error;
use crate::forwarding::{ForwardingState, OrgStore, SimRoute, Transition};
use crate::item::{get_s, n, s};
use crate::notifier::{self, NoticeAbout};
use crate::{metrics, Deps};
use telephony_core::twiml::{Twiml, Verb};
use telephony_core::{mask_phone, CallSid};

/// How long after a dial its marker still counts (seconds): the ring time (at most 30 s on
/// the carriers' no-reply timers, 20 s on ours), the whisper and the carrier's forward, with
/// room to spare.
pub const DIAL_MARKER_SECS: u64 = 120;

/// The reason a looping config carries.
pub const LOOPING_REASON: &str = "a call we dialled to this mobile came back forwarded from it (a forwarding loop); check the phone does not forward to us while we ring it, then verify again";

fn key(e164: &str) -> String {
    format!("dialling#{e164}")
}

/// Writes the marker of every number `doc` dials for call `sid` (a failure is logged: the
/// marker only protects against a loop, it never changes the call).
pub async fn note_dials(deps: &Deps, sid: &CallSid, doc: &Twiml, now: u64) {
    for verb in &doc.verbs {
        let Verb::Dial(d) = verb else { continue };
        let r = deps
            .dynamo()
            .put_item()
            .table_name(&deps.config.calls_table)
            .item("pk", s(key(&d.number.e164)))
            .item("call_sid", s(sid.as_str()))
            .item("at", n(now))
            .item("expires_at", n(now + DIAL_MARKER_SECS))
            .send()
            .await;
        if let Err(e) = r {
            let e = Error::dynamo("PutItem calls (dialling marker)")(e);
            tracing::warn!(call_sid = %sid, error = %e, "dialling marker not written");
            metrics::count("DependencyErrors", Some(("Dependency", e.dependency())));
        }
    }
}

/// Whether `forwarded_from` is being dialled by another call (`sid` is this call) within
/// [`DIAL_MARKER_SECS`] of `now`.
///
/// Errors: [`Error::Dynamo`].
pub async fn is_bounce(
    deps: &Deps,
    sid: &CallSid,
    forwarded_from: &str,
    now: u64,
) -> Result<bool, Error> {
    let item = deps.calls().raw_item(&key(forwarded_from)).await?;
    Ok(item.is_some_and(|i| {
        let at = i
            .get("at")
            .and_then(|v| v.as_n().ok())
            .and_then(|v| v.parse::<u64>().ok())
            .unwrap_or(0);
        get_s(&i, "call_sid").as_deref() != Some(sid.as_str())
            && now.saturating_sub(at) <= DIAL_MARKER_SECS
    }))
}

/// A bounce was seen: the SIM's config (`route`, when verified) becomes `looping`, and the org
/// gets one notice (claimed on `fwdnotice#<config>#looping`).
pub async fn mark_looping(deps: &Deps, route: Option<&SimRoute>, sid: &CallSid, now: u64) {
    metrics::count("ForwardingLoops", None);
    let (Some(route), Some(table)) = (route, deps.config.forwarding_table.as_deref()) else {
        return;
    };
    let store = OrgStore::new(deps.dynamo(), table, &route.org);
    let moved = match store.config(&route.config_id).await {
        Ok(Some(c)) if c.state == ForwardingState::Verified => {
            store
                .set_state(&c, ForwardingState::Looping, Some(LOOPING_REASON), None)
                .await
        }
        Ok(_) => return,
        Err(e) => Err(e),
    };
    match moved {
        Ok(Transition::Moved) => {}
        Ok(Transition::Stale) => return,
        Err(e) => {
            tracing::error!(call_sid = %sid, error = %e, "looping config not marked");
            return;
        }
    }
    tracing::warn!(call_sid = %sid, config = %route.config_id, "forwarding loop: config marked looping");
    let pk = format!("fwdnotice#{}#looping", route.config_id);
    let notice = serde_json::json!({
        "type": "forwarding_looping",
        "org": route.org,
        "config_id": route.config_id,
        "forwarding_number": mask_phone(&route.destination),
        "reason": LOOPING_REASON,
    });
    org_notice(
        deps,
        &pk,
        &route.destination,
        "Call forwarding loop",
        &notice,
        now,
    )
    .await;
}

/// One notice to the org about its forwarding (claimed on `pk`, published to the forwarding
/// number's staff topic, else the default one). A failure is logged.
pub async fn org_notice(
    deps: &Deps,
    pk: &str,
    forwarding_number: &str,
    subject: &str,
    notice: &serde_json::Value,
    now: u64,
) {
    let about = NoticeAbout {
        pk,
        caller: None,
        dialled: Some(forwarding_number),
    };
    if let Err(e) =
        notifier::notify_item_once(deps, &about, "notified_at", subject, notice, now).await
    {
        tracing::error!(error = %e, "forwarding notice not sent");
        metrics::count("DependencyErrors", Some(("Dependency", e.dependency())));
    }
}
