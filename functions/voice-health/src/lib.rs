//! `/voice-health` (GET, spec §3): configuration loaded, each table `ACTIVE`, the bucket and the
//! voicemail topic reachable → 200 `{"status":"healthy",…}`; otherwise 503 with the failing checks.
//! No Twilio signature (it is not a Twilio webhook) and no secrets in the answer.

use serde_json::{json, Value};
use telephony_aws::glue::{self, plain};
use telephony_aws::lambda_http::http::{Method, StatusCode};
use telephony_aws::{Body, Deps, Request, Response};

/// Handles one request: GET → 200/503 JSON; other methods → 405.
pub async fn handler(deps: &Deps, req: Request) -> Response<Body> {
    if req.method() != Method::GET && req.method() != Method::HEAD {
        return plain(StatusCode::METHOD_NOT_ALLOWED, "method not allowed");
    }
    let (checks, healthy) = check(deps).await;
    let status = if healthy {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    glue::json(
        status,
        &json!({ "status": if healthy { "healthy" } else { "unhealthy" }, "checks": checks }),
    )
}

/// Runs every check concurrently; returns the per-check report and whether all passed.
pub async fn check(deps: &Deps) -> (Value, bool) {
    let c = &deps.config;
    let table = |name: &str| {
        let (client, name) = (deps.dynamo.clone(), name.to_owned());
        async move {
            match client.describe_table().table_name(&name).send().await {
                Ok(out) => {
                    let status = out
                        .table
                        .and_then(|t| t.table_status)
                        .map(|s| s.as_str().to_owned())
                        .unwrap_or_default();
                    (status == "ACTIVE", status)
                }
                Err(e) => {
                    tracing::warn!(table = %name, error = %e, "health: table check failed");
                    (false, "unreachable".to_owned())
                }
            }
        }
    };
    let bucket = async {
        match deps
            .s3
            .head_bucket()
            .bucket(&c.recordings_bucket)
            .send()
            .await
        {
            Ok(_) => (true, "reachable".to_owned()),
            Err(_) => (false, "unreachable".to_owned()),
        }
    };
    let topic = async {
        match deps
            .sns
            .get_topic_attributes()
            .topic_arn(&c.voicemail_topic_arn)
            .send()
            .await
        {
            Ok(_) => (true, "reachable".to_owned()),
            Err(_) => (false, "unreachable".to_owned()),
        }
    };
    let (calls, numbers, limits, bucket, topic) = tokio::join!(
        table(&c.calls_table),
        table(&c.numbers_table),
        table(&c.rate_limits_table),
        bucket,
        topic
    );
    let all = [&calls, &numbers, &limits, &bucket, &topic];
    let healthy = all.iter().all(|(ok, _)| *ok);
    let report = json!({
        "config": "loaded",
        "calls_table": calls.1,
        "numbers_table": numbers.1,
        "rate_limits_table": limits.1,
        "recordings_bucket": bucket.1,
        "voicemail_topic": topic.1,
    });
    (report, healthy)
}
