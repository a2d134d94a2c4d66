//! CloudWatch metrics as Embedded Metric Format lines on stdout (AWS "Embedded metric format
//! specification"): one JSON object per data point, namespace `TradeLine/Telephony`, dimensions
//! `Function` and `Stage` plus an optional low-cardinality one.

use serde_json::json;

/// Namespace of every metric.
pub const NAMESPACE: &str = "TradeLine/Telephony";

/// Builds one EMF document (a count of 1 unless `value` says otherwise) for `name`.
/// `extra` is an optional `(dimension, value)` such as `("Dependency", "dynamodb")`.
pub fn emf_line(name: &str, value: f64, extra: Option<(&str, &str)>, timestamp_ms: u64) -> String {
    let function = std::env::var("AWS_LAMBDA_FUNCTION_NAME").unwrap_or_else(|_| "local".into());
    let stage = std::env::var("STAGE").unwrap_or_else(|_| "prod".into());
    let mut dims = vec!["Function", "Stage"];
    let mut doc = json!({
        "Function": function,
        "Stage": stage,
        name: value,
    });
    if let Some((k, v)) = extra {
        dims.push(k);
        doc[k] = json!(v);
    }
    doc["_aws"] = json!({
        "Timestamp": timestamp_ms,
        "CloudWatchMetrics": [{
            "Namespace": NAMESPACE,
            "Dimensions": [dims],
            "Metrics": [{ "Name": name, "Unit": "Count" }],
        }],
    });
    doc.to_string()
}

/// Emits a count of 1 for `name` (stdout, picked up by CloudWatch Logs as a metric).
pub fn count(name: &str, extra: Option<(&str, &str)>) {
    let ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0);
    println!("{}", emf_line(name, 1.0, extra, ms));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emf_document_has_the_spec_shape() {
        let line = emf_line(
            "DependencyErrors",
            1.0,
            Some(("Dependency", "dynamodb")),
            1_700_000_000_000,
        );
        let v: serde_json::Value = serde_json::from_str(&line).unwrap();
        let m = &v["_aws"]["CloudWatchMetrics"][0];
        assert_eq!(v["_aws"]["Timestamp"], 1_700_000_000_000u64);
        assert_eq!(m["Namespace"], NAMESPACE);
        assert_eq!(
            m["Dimensions"][0],
            json!(["Function", "Stage", "Dependency"])
        );
        assert_eq!(
            m["Metrics"][0],
            json!({"Name": "DependencyErrors", "Unit": "Count"})
        );
        assert_eq!(v["DependencyErrors"], 1.0);
        assert_eq!(v["Dependency"], "dynamodb");
        assert!(v["Function"].is_string() && v["Stage"].is_string());
    }
}
