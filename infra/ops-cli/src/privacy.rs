//! The binary's `privacy find|export|erase` verb (issue 25): the counts first (a dry run), then
//! the request, resumed while the API says it stopped part-way.

use super::{connect, key_of, number, progress, refused, show, Args, Fail};
use serde_json::{json, Value};
use std::process::ExitCode;
use tradeline_ops::client::new_key;
use tradeline_ops::output::{cell, table};

/// Counts per kind as a table.
fn counts_table(v: &Value) -> String {
    let rows: Vec<Vec<String>> = v["counts"]
        .as_object()
        .map(|m| m.iter().map(|(k, n)| vec![k.clone(), cell(n)]).collect())
        .unwrap_or_default();
    format!(
        "request {} ({}, {}): {}\n{}",
        cell(&v["request_id"]),
        cell(&v["action"]),
        cell(&v["scope"]),
        cell(&v["status"]),
        table(&["KIND", "COUNT"], &rows)
    )
}

/// `privacy find|export|erase`: the counts first (a dry run), then the request itself, retried
/// with the same key while the API says it stopped part-way (an erasure resumes).
pub(crate) async fn run(args: &Args, action: &str) -> Result<ExitCode, Fail> {
    args.only(&["number", "org", "key", "out"])?;
    let raw = args
        .opt("number")
        .ok_or(Fail::Usage("--number is required".into()))?;
    let mut body = json!({ "number": number("--number", raw)? });
    if let Some(o) = args.opt("org") {
        body["org"] = o.into();
    }
    let api = connect(args).await?;
    let path = format!("/ops/privacy/{action}");
    let steps = if args.dry_run { 1 } else { 3 };
    progress(1, steps, "finding what is held (dry run)");
    let mut dry = body.clone();
    dry["dry_run"] = true.into();
    let a = api
        .send(
            "POST",
            &path,
            &[("idempotency-key", &new_key())],
            Some(&dry),
        )
        .await?;
    if a.status != 200 {
        return Ok(refused(&a));
    }
    let total: u64 = a.body["counts"]
        .as_object()
        .map(|m| m.values().filter_map(Value::as_u64).sum())
        .unwrap_or(0);
    if args.dry_run {
        show(args, &a.body, counts_table);
        return Ok(ExitCode::SUCCESS);
    }
    let key = key_of(args);
    progress(2, 3, &format!("{action}: {total} item(s) and object(s)"));
    let mut attempt = 1;
    let a = loop {
        let a = api
            .send("POST", &path, &[("idempotency-key", &key)], Some(&body))
            .await?;
        let resumable = a.status == 503
            && ["interrupted", "storage_unavailable"]
                .contains(&a.body["error"]["code"].as_str().unwrap_or(""));
        if !resumable || attempt == 5 {
            break a;
        }
        eprintln!(
            "  stopped part-way ({}); resuming (attempt {})",
            cell(&a.body["error"]["message"]),
            attempt + 1
        );
        attempt += 1;
        tokio::time::sleep(std::time::Duration::from_secs(2)).await;
    };
    if a.status != 200 {
        return Ok(refused(&a));
    }
    progress(3, 3, "done");
    if let (Some(out), Some(doc)) = (args.opt("out"), a.body.get("export")) {
        let text = serde_json::to_string_pretty(doc).unwrap_or_default();
        std::fs::write(out, text).map_err(|e| Fail::Input(format!("{out}: {e}")))?;
        eprintln!("export written to {out}");
    }
    if args.json || action != "export" || args.opt("out").is_some() {
        show(args, &a.body, counts_table);
    } else {
        println!(
            "{}",
            serde_json::to_string_pretty(&a.body).unwrap_or_default()
        );
    }
    Ok(ExitCode::SUCCESS)
}
