//! CloudWatch metrics as Embedded Metric Format lines on stdout (AWS "Embedded metric format
//! specification"): one JSON object per data point, namespace `TradeLine/Telephony`. Each point
//! is published under the dimension sets `[Function, Stage]` (per-function views) and `[Stage]`
//! (what alarms watch), plus `[Stage, <extra>]` for a low-cardinality breakdown such as
//! `Choice` or `Outcome`.

use crate::now_ms;
use serde_json::json;

/// Namespace of every metric.
pub const NAMESPACE: &str = "TradeLine/Telephony";

/// Builds one EMF document: `value` of `name` in `unit` (`Count`, `Percent`, …), with an optional
/// `(dimension, value)` such as `("Dependency", "dynamodb")`, at `timestamp_ms` (Unix ms).
pub fn emf_line(
    name: &str,
    value: f64,
    unit: &str,
    extra: Option<(&str, &str)>,
    timestamp_ms: u64,
) -> String {
    emf_line_by(name, value, unit, extra.as_slice(), timestamp_ms)
}

/// [`emf_line`] with any number of breakdown dimensions, published together as one extra
/// dimension set `[Stage, <each>]` (e.g. `CallsGated` by `Verstat` and `Outcome`).
pub fn emf_line_by(
    name: &str,
    value: f64,
    unit: &str,
    extras: &[(&str, &str)],
    timestamp_ms: u64,
) -> String {
    let function = std::env::var("AWS_LAMBDA_FUNCTION_NAME").unwrap_or_else(|_| "local".into());
    let stage = std::env::var("STAGE").unwrap_or_else(|_| "prod".into());
    let mut dims = vec![json!(["Function", "Stage"]), json!(["Stage"])];
    let mut doc = json!({
        "Function": function,
        "Stage": stage,
        name: value,
    });
    if !extras.is_empty() {
        let mut set = vec!["Stage"];
        for (k, v) in extras {
            set.push(k);
            doc[*k] = json!(v);
        }
        dims.push(json!(set));
    }
    doc["_aws"] = json!({
        "Timestamp": timestamp_ms,
        "CloudWatchMetrics": [{
            "Namespace": NAMESPACE,
            "Dimensions": dims,
            "Metrics": [{ "Name": name, "Unit": unit }],
        }],
    });
    doc.to_string()
}

/// Emits a count of 1 for `name` (stdout, picked up by CloudWatch Logs as a metric).
pub fn count(name: &str, extra: Option<(&str, &str)>) {
    println!("{}", emf_line(name, 1.0, "Count", extra, now_ms()));
}

/// Emits a count of 1 for `name` broken down by every `(dimension, value)` of `dims` together.
pub fn count_by(name: &str, dims: &[(&str, &str)]) {
    println!("{}", emf_line_by(name, 1.0, "Count", dims, now_ms()));
}

/// Emits a gauge (a level, not an event): `value` in `unit` (`Count` or `Percent`).
pub fn gauge(name: &str, value: f64, unit: &str) {
    measure(name, value, unit);
}

/// Emits one measurement of `name` (e.g. a latency in `Milliseconds`), for percentile
/// statistics (p50/p95) over the data points.
pub fn measure(name: &str, value: f64, unit: &str) {
    println!("{}", emf_line(name, value, unit, None, now_ms()));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emf_document_has_the_spec_shape() {
        let line = emf_line(
            "DependencyErrors",
            1.0,
            "Count",
            Some(("Dependency", "dynamodb")),
            1_700_000_000_000,
        );
        let v: serde_json::Value = serde_json::from_str(&line).unwrap();
        let m = &v["_aws"]["CloudWatchMetrics"][0];
        assert_eq!(v["_aws"]["Timestamp"], 1_700_000_000_000u64);
        assert_eq!(m["Namespace"], NAMESPACE);
        assert_eq!(
            m["Dimensions"],
            json!([["Function", "Stage"], ["Stage"], ["Stage", "Dependency"]])
        );
        assert_eq!(
            m["Metrics"][0],
            json!({"Name": "DependencyErrors", "Unit": "Count"})
        );
        assert_eq!(v["DependencyErrors"], 1.0);
        assert_eq!(v["Dependency"], "dynamodb");
        // Every dimension named in a set is a top-level member (EMF rule).
        for set in m["Dimensions"].as_array().unwrap() {
            for d in set.as_array().unwrap() {
                assert!(v[d.as_str().unwrap()].is_string(), "{d}");
            }
        }
    }

    #[test]
    fn gauges_carry_their_unit() {
        let v: serde_json::Value =
            serde_json::from_str(&emf_line("ConsentRate24h", 75.0, "Percent", None, 1)).unwrap();
        assert_eq!(
            v["_aws"]["CloudWatchMetrics"][0]["Metrics"][0]["Unit"],
            "Percent"
        );
        assert_eq!(v["ConsentRate24h"], 75.0);
    }
}
