//! Distributed per-caller rate limiting on the `rate-limits` table (spec §3): one counter item per
//! caller and fixed window, `UpdateItem ADD hits :one` with the condition
//! `attribute_not_exists(hits) OR hits < :limit`, TTL attribute `expires_at` = window end.

use crate::error::Error;
use aws_sdk_dynamodb::types::AttributeValue;
use aws_sdk_dynamodb::Client;
use telephony_core::ratelimit::Limit;

/// The verdict for one call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Under every limit (and now counted).
    Allowed,
    /// Over a limit: answer `<Reject reason="busy"/>`.
    Limited,
}

/// Counts one call by `caller` against `limit` at `now` (Unix seconds).
///
/// Errors: [`Error::Dynamo`] when the counter cannot be written; callers fail open (spec §3).
pub async fn hit(
    client: &Client,
    table: &str,
    caller: &str,
    limit: Limit,
    now: u64,
) -> Result<Verdict, Error> {
    let (key, window) = limit.counter_key(caller, now);
    let r = client
        .update_item()
        .table_name(table)
        .key("pk", AttributeValue::S(key))
        .update_expression("ADD hits :one SET expires_at = :end")
        .condition_expression("attribute_not_exists(hits) OR hits < :limit")
        .expression_attribute_values(":one", AttributeValue::N("1".into()))
        .expression_attribute_values(":end", AttributeValue::N(window.end.to_string()))
        .expression_attribute_values(":limit", AttributeValue::N(limit.max_calls.to_string()))
        .send()
        .await;
    match r {
        Ok(_) => Ok(Verdict::Allowed),
        Err(e)
            if e.as_service_error()
                .is_some_and(|se| se.is_conditional_check_failed_exception()) =>
        {
            Ok(Verdict::Limited)
        }
        Err(e) => Err(Error::dynamo("UpdateItem rate-limits")(e)),
    }
}

/// Counts one call against every limit, concurrently; limited if any limit is reached.
///
/// Errors: the first [`Error::Dynamo`] (callers fail open).
pub async fn check_all(
    client: &Client,
    table: &str,
    caller: &str,
    limits: &[Limit],
    now: u64,
) -> Result<Verdict, Error> {
    let mut set = tokio::task::JoinSet::new();
    for (i, limit) in limits.iter().enumerate() {
        let (client, table, caller, limit) =
            (client.clone(), table.to_owned(), caller.to_owned(), *limit);
        set.spawn(async move { (i, hit(&client, &table, &caller, limit, now).await) });
    }
    let mut verdict = Verdict::Allowed;
    while let Some(joined) = set.join_next().await {
        let (_, r) = joined.map_err(|e| Error::Dynamo {
            op: "UpdateItem rate-limits",
            message: e.to_string(),
        })?;
        if r? == Verdict::Limited {
            verdict = Verdict::Limited;
        }
    }
    Ok(verdict)
}
