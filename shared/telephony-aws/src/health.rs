//! The health check shared by `/voice-health` and the monitor (spec §3): configuration loaded,
//! every table `ACTIVE`, the bucket and the topics reachable.

use crate::deps::Deps;
use serde_json::{json, Value};

/// Runs every check concurrently; returns the per-check report and whether all passed.
pub async fn check(deps: &Deps) -> (Value, bool) {
    let c = &deps.config;
    let table = |name: &str| {
        let (client, name) = (deps.dynamo().clone(), name.to_owned());
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
    let reachable = |ok: bool| (ok, if ok { "reachable" } else { "unreachable" }.to_owned());
    let bucket = async {
        reachable(
            deps.s3()
                .head_bucket()
                .bucket(&c.recordings_bucket)
                .send()
                .await
                .is_ok(),
        )
    };
    let topic = |arn: &str| {
        let (client, arn) = (deps.sns().clone(), arn.to_owned());
        async move {
            reachable(
                client
                    .get_topic_attributes()
                    .topic_arn(&arn)
                    .send()
                    .await
                    .is_ok(),
            )
        }
    };
    let (calls, numbers, limits, messages, opt_outs, bucket, voicemail, sms) = tokio::join!(
        Box::pin(table(&c.calls_table)),
        Box::pin(table(&c.numbers_table)),
        Box::pin(table(&c.rate_limits_table)),
        Box::pin(table(&c.messages_table)),
        Box::pin(table(&c.opt_outs_table)),
        Box::pin(bucket),
        Box::pin(topic(&c.voicemail_topic_arn)),
        Box::pin(topic(&c.sms_topic_arn)),
    );
    let all = [
        &calls, &numbers, &limits, &messages, &opt_outs, &bucket, &voicemail, &sms,
    ];
    let healthy = all.iter().all(|(ok, _)| *ok);
    let report = json!({
        "config": "loaded",
        "calls_table": calls.1,
        "numbers_table": numbers.1,
        "rate_limits_table": limits.1,
        "messages_table": messages.1,
        "opt_outs_table": opt_outs.1,
        "recordings_bucket": bucket.1,
        "voicemail_topic": voicemail.1,
        "sms_topic": sms.1,
    });
    (report, healthy)
}
