//! The one mapping between DynamoDB items and our values: attribute builders and readers, the
//! conditional-write outcome, the `SET`/`REMOVE` update builder, whole-table pages and the JSON
//! view of an item. Every store uses these, so a store's module is its access patterns, not its
//! parsing.

use crate::error::Error;
use aws_sdk_dynamodb::types::AttributeValue;
use std::collections::HashMap;

/// A DynamoDB item.
pub type Item = HashMap<String, AttributeValue>;

/// Result of a create-once write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Claim {
    /// This request created it: do the one-time work.
    Created,
    /// A previous delivery already did (a Twilio retry): do not repeat side effects.
    AlreadyExists,
}

/// A string attribute.
pub fn s(v: impl Into<String>) -> AttributeValue {
    AttributeValue::S(v.into())
}

/// A number attribute.
pub fn n(v: u64) -> AttributeValue {
    AttributeValue::N(v.to_string())
}

pub fn get_s(item: &Item, k: &str) -> Option<String> {
    item.get(k).and_then(|v| v.as_s().ok()).cloned()
}

/// Whether a DynamoDB error is a failed condition (an outcome, not an error).
pub fn is_conditional<E: aws_sdk_dynamodb::error::ProvideErrorMetadata>(
    e: &aws_sdk_dynamodb::error::SdkError<E>,
) -> bool {
    e.as_service_error().and_then(|se| se.code()) == Some("ConditionalCheckFailedException")
}

/// A conditional write's result as a [`Claim`]: written → `Created`, condition failed →
/// `AlreadyExists`, any other failure → [`Error::Dynamo`] naming `op`.
pub fn claim_of<T, E>(
    r: Result<T, aws_sdk_dynamodb::error::SdkError<E>>,
    op: &'static str,
) -> Result<Claim, Error>
where
    E: aws_sdk_dynamodb::error::ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    match r {
        Ok(_) => Ok(Claim::Created),
        Err(e) if is_conditional(&e) => Ok(Claim::AlreadyExists),
        Err(e) => Err(Error::dynamo(op)(e)),
    }
}

/// `update` with `SET base…, #f0 = :v0, … REMOVE …` for `fields` (a field whose value is `""`
/// is removed); the names `#fN` and values `:vN` are bound here, the values `base` uses by the
/// caller.
pub fn set_fields(
    mut update: aws_sdk_dynamodb::operation::update_item::builders::UpdateItemFluentBuilder,
    fields: &[(&str, String)],
    base: &[&str],
) -> aws_sdk_dynamodb::operation::update_item::builders::UpdateItemFluentBuilder {
    let mut sets: Vec<String> = base.iter().map(|b| (*b).to_owned()).collect();
    let mut removes = Vec::new();
    for (i, (k, v)) in fields.iter().enumerate() {
        update = update.expression_attribute_names(format!("#f{i}"), *k);
        if v.is_empty() {
            removes.push(format!("#f{i}"));
        } else {
            sets.push(format!("#f{i} = :v{i}"));
            update = update.expression_attribute_values(format!(":v{i}"), s(v.clone()));
        }
    }
    let mut expr = format!("SET {}", sets.join(", "));
    if !removes.is_empty() {
        expr.push_str(&format!(" REMOVE {}", removes.join(", ")));
    }
    update.update_expression(expr)
}

/// A number attribute read as `u64`; `None` when absent, not a number or negative.
pub fn get_n(item: &Item, k: &str) -> Option<u64> {
    item.get(k)?.as_n().ok()?.parse().ok()
}

/// A boolean attribute; `None` when absent or of another type.
pub fn get_bool(item: &Item, k: &str) -> Option<bool> {
    item.get(k)?.as_bool().ok().copied()
}

/// Every item of a small table (the `numbers` configuration table), following pages: a
/// paginated Scan, only for tables whose size is bounded by what operators configure.
///
/// Errors: [`Error::Dynamo`] naming `op`.
pub async fn scan_all(
    dynamo: &aws_sdk_dynamodb::Client,
    table: &str,
    op: &'static str,
) -> Result<Vec<Item>, Error> {
    let mut items = Vec::new();
    let mut start = None;
    loop {
        let page = dynamo
            .scan()
            .table_name(table)
            .set_exclusive_start_key(start.take())
            .send()
            .await
            .map_err(Error::dynamo(op))?;
        items.extend(page.items.unwrap_or_default());
        match page.last_evaluated_key {
            Some(k) if !k.is_empty() => start = Some(k),
            _ => return Ok(items),
        }
    }
}

/// A DynamoDB item as plain JSON, keys sorted (`{"status": "completed", "duration_s": 42}`):
/// strings, numbers (integers where they are), booleans, null, lists, maps and sets; for the ops
/// API's answers and the simulator's printout, never the SDK's debug form.
pub fn item_json(item: &Item) -> serde_json::Value {
    fn value(v: &AttributeValue) -> serde_json::Value {
        use AttributeValue as A;
        match v {
            A::S(s) => s.clone().into(),
            A::N(n) => n
                .parse::<i64>()
                .map(Into::into)
                .or_else(|_| n.parse::<f64>().map(Into::into))
                .unwrap_or_else(|_| n.clone().into()),
            A::Bool(b) => (*b).into(),
            A::Null(_) => serde_json::Value::Null,
            A::L(l) => l.iter().map(value).collect(),
            A::M(m) => m.iter().map(|(k, v)| (k.clone(), value(v))).collect(),
            A::Ss(ss) => ss.clone().into(),
            A::Ns(ns) => ns.clone().into(),
            other => format!("{other:?}").into(),
        }
    }
    let sorted: std::collections::BTreeMap<_, _> =
        item.iter().map(|(k, v)| (k.clone(), value(v))).collect();
    serde_json::to_value(sorted).unwrap_or_default()
}
