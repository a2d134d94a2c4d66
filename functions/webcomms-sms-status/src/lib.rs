//! `/webcomms-sms-status` (alias `/twilio/sms-status`), the message status callback (spec §4):
//! `MessageStatus` stored forward-only (a late `sent` never overwrites `delivered`), `ErrorCode`
//! and `ErrorMessage` kept; error 21610 (recipient unsubscribed) records an opt-out. Answers 204.

use telephony_aws::calls::Advance;
use telephony_aws::{glue, metrics, now_secs, Body, Deps, Error, Request, Response, Webhook};
use telephony_core::sms::{self, message_status_rank};
use telephony_core::{mask_phone, ParamError, Route};

/// The environment variables this function reads ([`telephony_aws::Needs`]; `template.yaml`
/// sets exactly these on it, `tests/tests/settings.rs` checks).
pub const NEEDS: telephony_aws::Needs = telephony_aws::Needs {
    base: None,
    groups: &[
        &telephony_aws::needs::SIGNED,
        &telephony_aws::needs::NUMBERS,
        &telephony_aws::needs::NUMBER_DEFAULTS,
        &telephony_aws::needs::TEXTING,
    ],
};

/// Handles one request: 204 when stored (or stale), 400 for an unknown status.
pub async fn handler(deps: &Deps, req: Request) -> Response<Body> {
    glue::callback_webhook(deps, req, Route::SmsStatus, store).await
}

async fn store(deps: &Deps, hook: &Webhook) -> Result<(), Error> {
    let p = &hook.params;
    let sid = p.message_sid()?;
    let status = p.require("MessageStatus")?;
    let rank = message_status_rank(status).ok_or(ParamError::Invalid("MessageStatus"))?;
    let error = p.get("ErrorCode").map(|code| (code, p.get("ErrorMessage")));
    let now = now_secs();
    let msgs = deps.messages();
    if msgs
        .advance_status(sid.as_str(), status, rank, error, now)
        .await?
        == Advance::Stale
    {
        tracing::info!(message_sid = %sid, status, "stale or repeated message status ignored");
    } else if matches!(status, "undelivered" | "failed") {
        metrics::count(
            "SmsDeliveryFailed",
            Some(("ErrorCode", error.map_or("none", |e| e.0))),
        );
    } else if status == "delivered" {
        metrics::count("SmsDelivered", None);
    }
    if error.is_some_and(|(code, _)| code == sms::ERROR_UNSUBSCRIBED) {
        if let Some(recipient) = p.get("To") {
            msgs.set_opt_out(recipient, true, "error:21610", now)
                .await?;
            tracing::info!(message_sid = %sid, to = %mask_phone(recipient), "recipient unsubscribed (21610): opt-out recorded");
            metrics::count("SmsOptOut", None);
        }
    }
    Ok(())
}
