//! Operator views over DynamoDB, through the `calls` table's indexes only (no scans): active calls,
//! the voicemail backlog, and per-window call statistics (volume per hour, rate-limit violations,
//! failed calls, dial errors, success and consent rates). Used by the monitor's gauges, the ops
//! API and the local summary command (the nine monitoring views of the original product's operations plan).

use crate::calls::{day_of, VOICEMAIL_NEW};
use crate::deps::Deps;
use crate::error::Error;
use crate::item::{get_n, get_s};
use aws_sdk_dynamodb::types::AttributeValue;
use serde::Serialize;
use serde_json::{json, Value};
use std::collections::{BTreeMap, HashMap};

type Item = HashMap<String, AttributeValue>;

/// Calls older than this are not "active" even without a terminal status callback (a lost
/// callback must not keep a call active forever).
pub const ACTIVE_CALL_MAX_AGE_SECS: u64 = 4 * 3600;

/// Runs a Query on a `calls` index with the key condition `#p = :p AND #s BETWEEN :lo AND :hi`,
/// following pages.
async fn query(
    deps: &Deps,
    index: &str,
    partition: (&str, &str),
    sort: (&str, u64, u64),
) -> Result<Vec<Item>, Error> {
    query_table(
        deps,
        &deps.config.calls_table,
        index,
        (partition.0, AttributeValue::S(partition.1.to_owned())),
        sort,
    )
    .await
}

/// [`query`] on any table's index, the partition value typed.
async fn query_table(
    deps: &Deps,
    table: &str,
    index: &str,
    partition: (&str, AttributeValue),
    sort: (&str, u64, u64),
) -> Result<Vec<Item>, Error> {
    let mut items = Vec::new();
    let mut start: Option<Item> = None;
    loop {
        let out = deps
            .dynamo()
            .query()
            .table_name(table)
            .index_name(index)
            .key_condition_expression("#p = :p AND #s BETWEEN :lo AND :hi")
            .expression_attribute_names("#p", partition.0)
            .expression_attribute_names("#s", sort.0)
            .expression_attribute_values(":p", partition.1.clone())
            .expression_attribute_values(":lo", AttributeValue::N(sort.1.to_string()))
            .expression_attribute_values(":hi", AttributeValue::N(sort.2.to_string()))
            .set_exclusive_start_key(start.take())
            .send()
            .await
            .map_err(Error::dynamo("Query"))?;
        items.extend(out.items.unwrap_or_default());
        match out.last_evaluated_key {
            Some(k) if !k.is_empty() => start = Some(k),
            _ => return Ok(items),
        }
    }
}

/// A call in progress.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct ActiveCall {
    /// CallSid.
    pub call_sid: String,
    /// Caller, masked.
    pub from: String,
    /// Dialled number.
    pub to: Option<String>,
    /// Unix seconds of the frontdoor request.
    pub started_at: u64,
    /// Menu choice so far.
    pub menu_choice: Option<String>,
}

/// Calls that reached the frontdoor in the last [`ACTIVE_CALL_MAX_AGE_SECS`] and have no
/// terminal status yet (sparse index `active-calls`).
///
/// Errors: [`Error::Dynamo`].
pub async fn active_calls(deps: &Deps, now: u64) -> Result<Vec<ActiveCall>, Error> {
    let items = query(
        deps,
        "active-calls",
        ("active", "1"),
        (
            "frontdoor_at",
            now.saturating_sub(ACTIVE_CALL_MAX_AGE_SECS),
            now,
        ),
    )
    .await?;
    Ok(items
        .iter()
        .map(|i| ActiveCall {
            call_sid: get_s(i, "pk").unwrap_or_default(),
            from: telephony_core::mask_phone(&get_s(i, "from").unwrap_or_default()),
            to: get_s(i, "to"),
            started_at: get_n(i, "frontdoor_at").unwrap_or(0),
            menu_choice: get_s(i, "menu_choice"),
        })
        .collect())
}

/// A voicemail as operators list it.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Voicemail {
    /// RecordingSid (the id to acknowledge).
    pub recording_sid: String,
    /// The call.
    pub call_sid: Option<String>,
    /// Unix seconds it was stored.
    pub created_at: u64,
    /// Length in seconds.
    pub duration_seconds: Option<u64>,
    /// S3 key of the copy, if copied.
    pub s3_key: Option<String>,
    /// Transcript, when it arrived.
    pub transcript: Option<String>,
}

/// Voicemails in `state` (`new` or `acked`) stored in `[since, until]`, oldest first
/// (sparse index `voicemails-by-state`).
///
/// Errors: [`Error::Dynamo`].
pub async fn voicemails(
    deps: &Deps,
    state: &str,
    since: u64,
    until: u64,
) -> Result<Vec<Voicemail>, Error> {
    let items = query(
        deps,
        "voicemails-by-state",
        ("vm_state", state),
        ("created_at", since, until),
    )
    .await?;
    Ok(items
        .iter()
        .map(|i| Voicemail {
            recording_sid: get_s(i, "pk").unwrap_or_default(),
            call_sid: get_s(i, "call_sid"),
            created_at: get_n(i, "created_at").unwrap_or(0),
            duration_seconds: get_n(i, "duration_s"),
            s3_key: get_s(i, "s3_key"),
            transcript: get_s(i, "transcript"),
        })
        .collect())
}

/// One call's facts for window statistics.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CallFacts {
    /// Unix seconds of the frontdoor request.
    pub at: u64,
    /// `yes`/`no`, if asked.
    pub consent: Option<String>,
    /// Latest status.
    pub status: Option<String>,
    /// Rejected by the rate limit.
    pub rate_limited: bool,
    /// `DialCallStatus` of the department dial, if any.
    pub dial_status: Option<String>,
    /// The number called, E.164.
    pub to: Option<String>,
    /// Handed to the AI receptionist (issue 12).
    pub ai: bool,
    /// Its stream handshake, milliseconds.
    pub handshake_ms: Option<u64>,
    /// The Connect action's decision (`goodbye`, `transfer`, `fallback:<reason>`).
    pub ai_outcome: Option<String>,
}

/// Calls that reached the frontdoor in `[since, until]` (index `calls-by-day`, one Query per day).
///
/// Errors: [`Error::Dynamo`].
pub async fn calls_between(deps: &Deps, since: u64, until: u64) -> Result<Vec<CallFacts>, Error> {
    let mut facts = Vec::new();
    let mut day = since / 86_400;
    while day <= until / 86_400 {
        for i in query(
            deps,
            "calls-by-day",
            ("day", &day_of(day * 86_400)),
            ("frontdoor_at", since, until),
        )
        .await?
        {
            facts.push(CallFacts {
                at: get_n(&i, "frontdoor_at").unwrap_or(0),
                consent: get_s(&i, "consent"),
                status: get_s(&i, "status"),
                rate_limited: i
                    .get("rate_limited")
                    .and_then(|v| v.as_bool().ok())
                    .copied()
                    .unwrap_or(false),
                dial_status: get_s(&i, "dial_status"),
                to: get_s(&i, "to"),
                ai: i.contains_key("ai"),
                handshake_ms: get_n(&i, "ai_handshake_ms"),
                ai_outcome: get_s(&i, "ai_outcome"),
            });
        }
        day += 1;
    }
    Ok(facts)
}

/// Statistics of one window (pure; see [`window_stats`]).
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct WindowStats {
    /// Calls that reached the frontdoor.
    pub calls: u64,
    /// Calls per hour: `(hour start, Unix seconds) → calls`.
    pub hourly_volume: BTreeMap<u64, u64>,
    /// Calls rejected by the rate limit.
    pub rate_limit_violations: u64,
    /// Calls that ended `busy`, `no-answer`, `failed` or `canceled`.
    pub failed_calls: u64,
    /// Department dials that ended `failed` (recent errors on the caller's path).
    pub dial_errors: u64,
    /// Calls that ended `completed`.
    pub completed_calls: u64,
    /// `completed / (completed + failed)`, `None` without ended calls.
    pub call_success_rate: Option<f64>,
    /// Callers who pressed 1.
    pub consent_given: u64,
    /// Callers who did not.
    pub consent_declined: u64,
    /// `given / (given + declined)`, `None` when nobody was asked.
    pub consent_rate: Option<f64>,
    /// The AI hand-off.
    pub ai: AiStats,
}

/// The AI receptionist's evidence over a window (issue 12 §5; SLOs: handshake p95 < 1500 ms,
/// fallbacks < 5 % of AI calls).
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct AiStats {
    /// Calls handed to the AI.
    pub calls: u64,
    /// Ended by the AI with a goodbye.
    pub goodbyes: u64,
    /// Handed to a person at the AI's request.
    pub transfers: u64,
    /// Fell back to the human path, by reason.
    pub fallbacks: BTreeMap<String, u64>,
    /// `fallbacks / calls`, `None` without AI calls.
    pub fallback_rate: Option<f64>,
    /// Median handshake, milliseconds (nearest rank).
    pub handshake_p50_ms: Option<u64>,
    /// 95th percentile handshake, milliseconds (nearest rank).
    pub handshake_p95_ms: Option<u64>,
}

/// The `p`-th percentile (0–100) of `sorted` by nearest rank; `None` when empty.
pub fn percentile(sorted: &[u64], p: u64) -> Option<u64> {
    if sorted.is_empty() {
        return None;
    }
    let rank = (p * sorted.len() as u64).div_ceil(100).max(1);
    sorted.get(rank as usize - 1).copied()
}

/// Computes [`WindowStats`] over `facts` (pure).
pub fn window_stats(facts: &[CallFacts]) -> WindowStats {
    let mut w = WindowStats::default();
    for f in facts {
        w.calls += 1;
        *w.hourly_volume.entry(f.at - f.at % 3600).or_default() += 1;
        w.rate_limit_violations += u64::from(f.rate_limited);
        match f.status.as_deref() {
            Some("completed") => w.completed_calls += 1,
            Some("busy" | "no-answer" | "failed" | "canceled") => w.failed_calls += 1,
            _ => {}
        }
        w.dial_errors += u64::from(f.dial_status.as_deref() == Some("failed"));
        match f.consent.as_deref() {
            Some("yes") => w.consent_given += 1,
            Some(_) => w.consent_declined += 1,
            None => {}
        }
    }
    let mut handshakes = Vec::new();
    for f in facts.iter().filter(|f| f.ai) {
        w.ai.calls += 1;
        handshakes.extend(f.handshake_ms);
        match f.ai_outcome.as_deref() {
            Some("goodbye") => w.ai.goodbyes += 1,
            Some("transfer") => w.ai.transfers += 1,
            Some(o) => {
                if let Some(reason) = o.strip_prefix("fallback:") {
                    *w.ai.fallbacks.entry(reason.to_owned()).or_default() += 1;
                }
            }
            None => {}
        }
    }
    handshakes.sort_unstable();
    w.ai.handshake_p50_ms = percentile(&handshakes, 50);
    w.ai.handshake_p95_ms = percentile(&handshakes, 95);
    let fallbacks: u64 = w.ai.fallbacks.values().sum();
    w.ai.fallback_rate = (w.ai.calls > 0).then(|| fallbacks as f64 / w.ai.calls as f64);
    let ratio = |a: u64, b: u64| (a + b > 0).then(|| a as f64 / (a + b) as f64);
    w.call_success_rate = ratio(w.completed_calls, w.failed_calls);
    w.consent_rate = ratio(w.consent_given, w.consent_declined);
    w
}

/// The monitor's gauges.
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct Gauges {
    /// Calls in progress.
    pub active_calls: u64,
    /// Voicemails not yet acknowledged.
    pub voicemail_backlog: u64,
    /// Of those, stored more than 24 h ago.
    pub voicemail_backlog_over_24h: u64,
    /// Consent rate over 24 h (0–1), if anyone was asked.
    pub consent_rate_24h: Option<f64>,
    /// Call success rate over 24 h (0–1), if any call ended.
    pub call_success_rate_24h: Option<f64>,
}

/// Reads every gauge (index queries only).
///
/// Errors: [`Error::Dynamo`].
pub async fn gauges(deps: &Deps, now: u64) -> Result<Gauges, Error> {
    let day_ago = now.saturating_sub(86_400);
    let (active, backlog, calls) = tokio::join!(
        Box::pin(active_calls(deps, now)),
        Box::pin(voicemails(deps, VOICEMAIL_NEW, 0, now)),
        Box::pin(calls_between(deps, day_ago, now)),
    );
    let (backlog, stats) = (backlog?, window_stats(&calls?));
    Ok(Gauges {
        active_calls: active?.len() as u64,
        voicemail_backlog: backlog.len() as u64,
        voicemail_backlog_over_24h: backlog.iter().filter(|v| v.created_at < day_ago).count()
            as u64,
        consent_rate_24h: stats.consent_rate,
        call_success_rate_24h: stats.call_success_rate,
    })
}

/// The views as JSON (`GET /ops/metrics/summary` and `make summary`): active calls, hourly
/// call volume, recent errors, rate-limit violations, failed transactions, number provisioning,
/// voicemail backlog, call success, consent and the AI hand-off (calls, goodbyes, transfers,
/// fallbacks by reason and their rate, handshake p50/p95 in ms) — the windowed ones for the last
/// hour, 24 h and 7 days.
///
/// Errors: [`Error::Dynamo`].
pub async fn summary(deps: &Deps, now: u64) -> Result<Value, Error> {
    let week = calls_between(deps, now.saturating_sub(7 * 86_400), now).await?;
    let (active, backlog) = tokio::join!(
        Box::pin(active_calls(deps, now)),
        Box::pin(voicemails(deps, VOICEMAIL_NEW, 0, now)),
    );
    let (active, backlog) = (active?, backlog?);
    let day_ago = now.saturating_sub(86_400);
    let last_day: Vec<CallFacts> = week.iter().filter(|f| f.at >= day_ago).cloned().collect();
    let (numbers, failed) = tokio::join!(
        Box::pin(number_provisioning_status(deps, &last_day)),
        Box::pin(failed_transactions(deps, day_ago, now)),
    );
    let (numbers, failed) = (numbers?, failed?);
    let mut windows = serde_json::Map::new();
    for (name, secs) in [("1h", 3600), ("24h", 86_400), ("7d", 7 * 86_400)] {
        let since = now.saturating_sub(secs);
        let facts: Vec<CallFacts> = week.iter().filter(|f| f.at >= since).cloned().collect();
        let w = window_stats(&facts);
        windows.insert(
            name.to_owned(),
            json!({
                "hourly_call_volume": w.hourly_volume.iter().map(|(h, c)| json!({"hour_start": h, "calls": c})).collect::<Vec<_>>(),
                "calls": w.calls,
                "recent_errors": {"dial_errors": w.dial_errors},
                "rate_limit_violations": w.rate_limit_violations,
                "failed_calls": w.failed_calls,
                "call_success": {"completed": w.completed_calls, "failed": w.failed_calls, "rate": w.call_success_rate},
                "consent": {"given": w.consent_given, "declined": w.consent_declined, "rate": w.consent_rate},
                "ai": w.ai,
            }),
        );
    }
    Ok(json!({
        "generated_at": now,
        "active_calls": {"count": active.len(), "calls": active},
        "voicemail_backlog": {
            "new": backlog.len(),
            "older_than_24h": backlog.iter().filter(|v| v.created_at < day_ago).count(),
        },
        "number_provisioning_status": numbers,
        "failed_transactions": failed,
        "windows": windows,
    }))
}

/// Transaction statuses that mean "did not complete" (spec §7.3; the original's view only ever
/// saw `failed`, flaw F-87).
pub const FAILED_TRANSACTION_STATES: [&str; 4] = [
    "failed",
    "compensating",
    "compensated",
    "compensation_failed",
];

/// The seeds' `failed_transactions` view: provisioning transactions created in `[since, until]`
/// that did not complete (index `transactions-by-day` of the transactions table, one Query per
/// day), newest first, each with its duration in seconds; plus a count per status of all of
/// them. `null` when the stack has no transactions table.
///
/// Errors: [`Error::Dynamo`].
pub async fn failed_transactions(deps: &Deps, since: u64, until: u64) -> Result<Value, Error> {
    let Some(table) = &deps.config.transactions_table else {
        return Ok(Value::Null);
    };
    let mut by_status: BTreeMap<String, u64> = BTreeMap::new();
    let mut failed = Vec::new();
    for day in since / 86_400..=until / 86_400 {
        let items = query_table(
            deps,
            table,
            "transactions-by-day",
            ("created_day", AttributeValue::N(day.to_string())),
            ("created_at", since, until),
        )
        .await?;
        for i in items {
            let status = get_s(&i, "status").unwrap_or_default();
            *by_status.entry(status.clone()).or_default() += 1;
            if FAILED_TRANSACTION_STATES.contains(&status.as_str()) {
                let created = get_n(&i, "created_at").unwrap_or(0);
                failed.push(json!({
                    "transaction_id": get_s(&i, "pk"),
                    "kind": get_s(&i, "kind"),
                    "org_id": get_s(&i, "org_id"),
                    "status": status,
                    "error": get_s(&i, "error"),
                    "principal": get_s(&i, "principal"),
                    "created_at": created,
                    "duration_secs": get_n(&i, "updated_at").map(|u| u.saturating_sub(created)),
                }));
            }
        }
    }
    failed.sort_by_key(|v| std::cmp::Reverse(v["created_at"].as_u64()));
    Ok(json!({ "count": failed.len(), "by_status": by_status, "transactions": failed }))
}

/// The seeds' `number_provisioning_status` view: every number in the `numbers` table (a
/// paginated scan of that small configuration table) with its org, account (subaccount or
/// main), who created it, and its calls in `last_day` (the 24 h window's call facts); plus the
/// stack's default hotline.
///
/// Errors: [`Error::Dynamo`].
pub async fn number_provisioning_status(
    deps: &Deps,
    last_day: &[CallFacts],
) -> Result<Value, Error> {
    let mut calls: HashMap<&str, u64> = HashMap::new();
    for f in last_day {
        if let Some(to) = &f.to {
            *calls.entry(to.as_str()).or_default() += 1;
        }
    }
    let items =
        crate::item::scan_all(deps.dynamo(), &deps.config.numbers_table, "Scan numbers").await?;
    let rows: Vec<Value> = items
        .iter()
        .map(|i| {
            let e164 = get_s(i, "e164").unwrap_or_default();
            json!({
                "calls_24h": calls.get(e164.as_str()).copied().unwrap_or(0),
                "e164": e164,
                "org_id": get_s(i, "org_id"),
                "business_name": get_s(i, "business_name"),
                "phone_sid": get_s(i, "phone_sid"),
                "account_sid": get_s(i, "account_sid"),
                "language": get_s(i, "language"),
                "created_by": get_s(i, "created_by"),
                "created_at": get_n(i, "created_at"),
                "version": get_n(i, "version"),
            })
        })
        .collect();
    let hotline = deps.config.hotline.as_ref().map(|h| h.as_str().to_owned());
    Ok(json!({
        "count": rows.len(),
        "numbers": rows,
        "hotline": hotline.as_ref().map(|h| json!({
            "e164": h,
            "calls_24h": calls.get(h.as_str()).copied().unwrap_or(0),
            "default_targets_set": deps.config.default_number.sales_target.is_some()
                && deps.config.default_number.support_target.is_some(),
        })),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fact(at: u64, consent: Option<&str>, status: Option<&str>, limited: bool) -> CallFacts {
        CallFacts {
            at,
            consent: consent.map(Into::into),
            status: status.map(Into::into),
            rate_limited: limited,
            dial_status: None,
            to: None,
            ai: false,
            handshake_ms: None,
            ai_outcome: None,
        }
    }

    #[test]
    fn ai_stats_give_outcomes_fallback_rate_and_handshake_percentiles() {
        let ai = |ms: Option<u64>, outcome: &str| CallFacts {
            ai: true,
            handshake_ms: ms,
            ai_outcome: Some(outcome.into()),
            ..fact(7200, Some("yes"), Some("completed"), false)
        };
        let mut facts: Vec<CallFacts> = (1..=18).map(|i| ai(Some(i * 100), "goodbye")).collect();
        facts.push(ai(Some(3500), "fallback:slow_handshake"));
        facts.push(ai(None, "fallback:not_started"));
        facts.push(ai(Some(400), "transfer"));
        facts.push(fact(7300, None, None, false));
        let w = window_stats(&facts);
        assert_eq!((w.ai.calls, w.ai.goodbyes, w.ai.transfers), (21, 18, 1));
        assert_eq!(
            w.ai.fallbacks,
            BTreeMap::from([("not_started".into(), 1), ("slow_handshake".into(), 1)])
        );
        assert!((w.ai.fallback_rate.unwrap() - 2.0 / 21.0).abs() < 1e-9);
        // 20 handshakes: 100..1800, 400, 3500 → p50 is the 10th (900), p95 the 19th (1800).
        assert_eq!(w.ai.handshake_p50_ms, Some(900));
        assert_eq!(w.ai.handshake_p95_ms, Some(1800));
        assert_eq!(percentile(&[], 95), None);
        assert_eq!(percentile(&[7], 95), Some(7));
    }

    #[test]
    fn window_stats_count_rates_and_hours() {
        let facts = [
            fact(7200, Some("yes"), Some("completed"), false),
            fact(7300, Some("no"), Some("completed"), false),
            fact(10_900, Some("yes"), Some("busy"), false),
            fact(10_950, None, None, true),
        ];
        let w = window_stats(&facts);
        assert_eq!(w.calls, 4);
        assert_eq!(w.hourly_volume, BTreeMap::from([(7200, 2), (10_800, 2)]));
        assert_eq!(w.rate_limit_violations, 1);
        assert_eq!((w.completed_calls, w.failed_calls), (2, 1));
        assert!((w.call_success_rate.unwrap() - 2.0 / 3.0).abs() < 1e-9);
        assert!((w.consent_rate.unwrap() - 2.0 / 3.0).abs() < 1e-9);
        assert_eq!(window_stats(&[]).consent_rate, None);
    }
}
