//! `telephony-monitor`, run every minute by EventBridge: reads the `calls` table through its
//! indexes (no scans) and publishes gauges as EMF metrics — `ActiveCalls`, `VoicemailBacklog`,
//! `VoicemailBacklogOver24h`, `ConsentRate24h`, `CallSuccessRate24h` (percent) — and
//! `HealthCheckFailed` (1 when the health check fails, the alarm's input) — and reconciles
//! voicemails whose recording callbacks were all lost ([`voicemail::reconcile`]: recordings
//! fetched from Twilio, stored and announced once, `RecordingsReconciled`), and finishes or
//! compensates onboarding sagas abandoned by a crash or timeout ([`Saga::sweep`], through the
//! `open-transactions` index; `SagasSwept`), and finishes messages with work left — MMS media
//! still to copy, staff notices SNS refused ([`messages::resume_pending`], through the
//! `messages-pending` index; issue 27 §5, §6), and keeps hybrid forwarding honest: late
//! verifications settled, every verified config re-verified by a real call every 30 days, a
//! failed re-verification made `unverified` with one notice to the org ([`reverify::run`],
//! issue 24 §3).

use provisioning::saga::Saga;
use serde_json::{json, Value};
use telephony_aws::ops::{self, Gauges};
use telephony_aws::{health, messages, metrics, now_secs, reverify, voicemail, Deps, Error};

/// The environment variables this function reads ([`telephony_aws::Needs`]; `template.yaml`
/// sets exactly these on it, `tests/tests/settings.rs` checks).
pub const NEEDS: telephony_aws::Needs = telephony_aws::Needs {
    base: Some(&telephony_aws::needs::VOICE_STEP),
    groups: &[
        &telephony_aws::needs::CALLER_LIMITS,
        &telephony_aws::needs::TEXTING,
        &telephony_aws::needs::RECORDINGS,
        &telephony_aws::needs::VOICEMAIL_NOTICES,
        &telephony_aws::needs::SMS_NOTICES,
        &telephony_aws::needs::TWILIO_REST,
        &provisioning::settings::VARS,
    ],
};

/// Pending messages (media copies, deferred notices) finished per run.
pub const MESSAGES_BATCH: i32 = 25;

/// One monitor run; returns what it published.
///
/// Errors: [`Error::Dynamo`] when the gauges cannot be read (the health gauge is still published).
pub async fn handler(deps: &Deps) -> Result<Value, Error> {
    // Boxed: the futures are large, and the monitor also runs on small test-thread stacks.
    let now = now_secs();
    let ((_, healthy), gauges, reconciled, swept, messages, forwarding) = tokio::join!(
        Box::pin(health::check(deps)),
        Box::pin(ops::gauges(deps, now)),
        Box::pin(voicemail::reconcile(deps, now)),
        Box::pin(sweep(deps, now)),
        Box::pin(messages::resume_pending(deps, MESSAGES_BATCH)),
        Box::pin(reverify::run(deps, now))
    );
    let forwarding = match forwarding {
        Ok(r) => json!(r),
        Err(e) => {
            tracing::error!(error = %e, "forwarding re-verification could not run");
            metrics::count("DependencyErrors", Some(("Dependency", e.dependency())));
            json!({ "error": e.to_string() })
        }
    };
    let messages = match messages {
        Ok(r) => json!(r),
        Err(e) => {
            tracing::error!(error = %e, "pending messages could not be read");
            metrics::count("DependencyErrors", Some(("Dependency", e.dependency())));
            json!({ "error": e.to_string() })
        }
    };
    metrics::gauge(
        "HealthCheckFailed",
        if healthy { 0.0 } else { 1.0 },
        "Count",
    );
    let reconciled = match reconciled {
        Ok(r) => json!(r),
        Err(e) => {
            tracing::error!(error = %e, "voicemail reconciliation could not read its index");
            metrics::count("DependencyErrors", Some(("Dependency", e.dependency())));
            json!({ "error": e.to_string() })
        }
    };
    let gauges = gauges?;
    publish(&gauges);
    Ok(
        json!({ "healthy": healthy, "gauges": gauges, "reconciled": reconciled, "sagas": swept, "messages": messages, "forwarding": forwarding }),
    )
}

/// The saga sweep, when this stack has a transactions table (`null` otherwise).
async fn sweep(deps: &Deps, now: u64) -> Value {
    if deps.config.transactions_table.is_none() {
        return Value::Null;
    }
    let twilio = match deps.twilio() {
        Ok(t) => t,
        Err(e) => return json!({ "error": e.to_string() }),
    };
    let Some(saga) = Saga::from_deps(deps, twilio) else {
        return Value::Null;
    };
    match saga.sweep(now).await {
        Ok(r) => {
            let done = r.completed + r.compensated + r.compensation_failed;
            if done > 0 {
                metrics::gauge("SagasSwept", f64::from(done), "Count");
            }
            json!(r)
        }
        Err(e) => {
            tracing::error!(error = %e, "saga sweep could not read its index");
            metrics::count("DependencyErrors", Some(("Dependency", e.dependency())));
            json!({ "error": e.to_string() })
        }
    }
}

/// Emits one EMF gauge per value (rates as percent; absent rates are not published).
pub fn publish(g: &Gauges) {
    metrics::gauge("ActiveCalls", g.active_calls as f64, "Count");
    metrics::gauge("VoicemailBacklog", g.voicemail_backlog as f64, "Count");
    metrics::gauge(
        "VoicemailBacklogOver24h",
        g.voicemail_backlog_over_24h as f64,
        "Count",
    );
    if let Some(rate) = g.consent_rate_24h {
        metrics::gauge("ConsentRate24h", rate * 100.0, "Percent");
    }
    if let Some(rate) = g.call_success_rate_24h {
        metrics::gauge("CallSuccessRate24h", rate * 100.0, "Percent");
    }
}
