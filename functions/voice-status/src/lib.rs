//! `/voice-status`, status callback of the dialled `<Number>` and of the number (spec §3):
//! `CallStatus` stored forward-only (a late `ringing` never overwrites `completed`), with
//! `CallDuration` (seconds) and `ParentCallSid`. Answers 204. Call outcome metrics
//! (`CallsCompleted`, `CallsFailed`, `CallDuration` in seconds) count the caller's call only, never
//! a dialled leg (it carries `ParentCallSid`). The caller's final status may send one
//! missed-call text (issue 14; per-number switch, off by default).

use telephony_aws::calls::Advance;
use telephony_aws::calls::Claim;
use telephony_aws::texting_gate;
use telephony_aws::{glue, metrics, now_secs, Body, Deps, Error, Request, Response, Webhook};
use telephony_core::prompts::{self, Lang};
use telephony_core::sms;
use telephony_core::status::{call_outcome, call_status_rank, CallOutcome};
use telephony_core::{mask_phone, CallSid, ParamError, Route};

/// The environment variables this function reads ([`telephony_aws::Needs`]; `template.yaml`
/// sets exactly these on it, `tests/tests/settings.rs` checks).
pub const NEEDS: telephony_aws::Needs = telephony_aws::Needs {
    base: Some(&telephony_aws::needs::CALLBACK),
    groups: &[
        &telephony_aws::needs::HOTLINE,
        &telephony_aws::needs::TEXTING,
        &telephony_aws::needs::TWILIO_REST,
    ],
};

/// Handles one request: 204 when stored (or stale), 400 for an unknown status.
pub async fn handler(deps: &Deps, req: Request) -> Response<Body> {
    glue::callback_webhook(deps, req, Route::Status, store).await
}

async fn store(deps: &Deps, hook: &Webhook) -> Result<(), Error> {
    let p = &hook.params;
    let sid = p.call_sid()?;
    let status = p.require("CallStatus")?;
    let rank = call_status_rank(status).ok_or(ParamError::Invalid("CallStatus"))?;
    let parent = p
        .get("ParentCallSid")
        .map(CallSid::parse)
        .transpose()
        .map_err(ParamError::from)?;
    // The caller's final status may send a missed-call text: the number's switch is read in
    // the same wait as the status write (cached per container), so numbers without it cost
    // nothing more.
    let finished = parent.is_none() && call_outcome(status, false).is_some();
    let calls = deps.calls();
    let (advance, number) = tokio::join!(
        calls.advance_status(
            &sid,
            status,
            rank,
            p.seconds("CallDuration"),
            parent.as_ref(),
            now_secs(),
        ),
        async {
            match finished {
                true => Some(deps.number_config(p.get("To").unwrap_or("")).await),
                false => None,
            }
        }
    );
    let advance = advance?;
    if advance == Advance::Stale {
        tracing::info!(call_sid = %sid, status, "stale or repeated status ignored");
    } else if let Some(outcome) = call_outcome(status, parent.is_some()) {
        // Outcomes are counted per caller's (parent) call; a dialled leg's `no-answer` is in
        // DialOutcomes (counted by /voice-route-action).
        match outcome {
            CallOutcome::Completed => metrics::count("CallsCompleted", None),
            CallOutcome::Failed => metrics::count("CallsFailed", Some(("Status", status))),
        }
        if let Some(secs) = p.seconds("CallDuration") {
            metrics::gauge("CallDuration", secs as f64, "Seconds");
        }
    }
    if let Some(number) = number.filter(|n| n.missed_call_text && advance != Advance::Stale) {
        missed_call_text(deps, &sid, status, &number).await;
    }
    Ok(())
}

/// Once per caller per number per day: the missed-call text ([`sms::missed_call_skip`] decides
/// from the call; then the number's switch, opt-outs, our own numbers and the daily window, a
/// conditional write that also makes a retried final callback send nothing more). Sent through
/// the Twilio Messages API in the call's language. Failures are logged and counted, never
/// fail the status callback; a failed send gives the window back.
async fn missed_call_text(
    deps: &Deps,
    sid: &CallSid,
    status: &str,
    number: &telephony_core::flow::NumberConfig,
) {
    let record = match deps.calls().get_call(sid).await {
        Ok(Some(r)) => r,
        Ok(None) => return,
        Err(e) => {
            tracing::warn!(call_sid = %sid, error = %e, "missed-call check skipped");
            return;
        }
    };
    let (Some(from), Some(to)) = (record.from.as_deref(), record.to.as_deref()) else {
        return;
    };
    let call = sms::FinishedCall {
        status,
        reached_person: matches!(
            record.dial_status.as_deref(),
            Some("completed" | "answered")
        ),
        voicemail_left: record.voicemail_recorded || record.voicemail_recording_sid.is_some(),
        rate_limited: record.rate_limited,
        caller: from,
        our_number: to,
    };
    if let Some(reason) = sms::missed_call_skip(&call) {
        tracing::info!(call_sid = %sid, reason, "no missed-call text");
        return;
    }
    let now = now_secs();
    let messages = deps.messages();
    let (opted_out, own) = tokio::join!(messages.is_opted_out(from, now), deps.is_own_number(from));
    match (opted_out, own) {
        (Ok(false), Ok(false)) => {}
        (Ok(true), _) | (_, Ok(true)) => {
            tracing::info!(call_sid = %sid, from = %mask_phone(from), "no missed-call text: opted out or ours");
            return;
        }
        (Err(e), _) | (_, Err(e)) => {
            // Without knowing the opt-out state, nothing is sent (CASL, TCPA).
            tracing::warn!(call_sid = %sid, error = %e, "no missed-call text: store unreadable");
            metrics::count("DependencyErrors", Some(("Dependency", e.dependency())));
            return;
        }
    }
    // US texting compliance (issue 10): not from a US long code without A2P approval.
    if !texting_gate::may_text(deps, to, &number.org_id, "missed_call").await {
        return;
    }
    match messages
        .claim_window("missedcall", from, to, MISSED_CALL_WINDOW_SECS, now)
        .await
    {
        Ok(Claim::Created) => {}
        Ok(Claim::AlreadyExists) => return,
        Err(e) => {
            tracing::warn!(call_sid = %sid, error = %e, "no missed-call text: window unreadable");
            return;
        }
    }
    let lang = Lang::from_tag(record.language.as_deref().unwrap_or(&number.language));
    let body = prompts::fill(lang.texts().missed_call_text, &number.business_name, to, "");
    let sent = match deps.twilio() {
        Ok(t) => t
            .send_message(to, from, &body)
            .await
            .map_err(|e| e.to_string()),
        Err(e) => Err(e.to_string()),
    };
    match sent {
        Ok(m) => {
            tracing::info!(call_sid = %sid, message_sid = ?m.sid, from = %mask_phone(from), "missed-call text sent");
            metrics::count("MissedCallTexts", Some(("Language", lang.code())));
        }
        Err(e) => {
            tracing::warn!(call_sid = %sid, error = %e, "missed-call text not sent");
            metrics::count("DependencyErrors", Some(("Dependency", "twilio")));
            if let Err(e) = messages
                .release_window("missedcall", from, to, MISSED_CALL_WINDOW_SECS, now)
                .await
            {
                tracing::warn!(call_sid = %sid, error = %e, "missed-call window not given back");
            }
        }
    }
}

/// At most one missed-call text per caller per number per day.
pub const MISSED_CALL_WINDOW_SECS: u64 = 86_400;
