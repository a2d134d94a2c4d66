//! The export document of a request's targets.

use super::{Item, Target, LINK_TTL_SECS};
use crate::error::Error;
use crate::item::{get_s, item_json, s};
use crate::Deps;
use aws_sdk_dynamodb::types::KeysAndAttributes;
use serde_json::{json, Value};
use std::collections::{BTreeMap, HashMap};

/// The export document: every item as stored, with its kind and expiry, and a presigned link
/// ([`LINK_TTL_SECS`]) for each object. Shape: `{"items": [{"kind", "table", "key",
/// "expires_at", "item"}], "media": [{"kind", "key", "version", "url", "expires_in_s"}]}`.
///
/// Errors: [`Error::Dynamo`], [`Error::S3`].
pub async fn export(deps: &Deps, targets: &[Target]) -> Result<Value, Error> {
    let mut by_table: BTreeMap<&str, Vec<&Target>> = BTreeMap::new();
    for t in targets {
        if let Some(tb) = &t.table {
            by_table.entry(tb).or_default().push(t);
        }
    }
    let mut stored: HashMap<(String, String), Item> = HashMap::new();
    for (tb, ts) in by_table {
        for chunk in ts.chunks(100) {
            let mut keys = KeysAndAttributes::builder().consistent_read(true);
            for t in chunk {
                keys = keys.keys(HashMap::from([("pk".to_owned(), s(t.key.clone()))]));
            }
            let mut pending = HashMap::from([(
                tb.to_owned(),
                keys.build().map_err(|e| Error::Dynamo {
                    op: "BatchGetItem (privacy)",
                    message: e.to_string(),
                })?,
            )]);
            while !pending.is_empty() {
                let out = deps
                    .dynamo()
                    .batch_get_item()
                    .set_request_items(Some(pending))
                    .send()
                    .await
                    .map_err(Error::dynamo("BatchGetItem (privacy)"))?;
                for i in out
                    .responses
                    .unwrap_or_default()
                    .remove(tb)
                    .unwrap_or_default()
                {
                    if let Some(pk) = get_s(&i, "pk") {
                        stored.insert((tb.to_owned(), pk), i);
                    }
                }
                pending = out.unprocessed_keys.unwrap_or_default();
            }
        }
    }
    let mut items = Vec::new();
    let mut media = Vec::new();
    let presign = aws_sdk_s3::presigning::PresigningConfig::expires_in(
        std::time::Duration::from_secs(LINK_TTL_SECS),
    )
    .map_err(|e| Error::S3 {
        op: "presign",
        key: String::new(),
        message: e.to_string(),
    })?;
    for t in targets {
        match &t.table {
            Some(tb) => items.push(json!({
                "kind": t.kind,
                "table": tb,
                "key": t.key,
                "expires_at": t.expires_at,
                "item": stored.get(&(tb.clone(), t.key.clone())).map(item_json),
            })),
            None => {
                let url = deps
                    .s3()
                    .get_object()
                    .bucket(&deps.config.recordings_bucket)
                    .key(&t.key)
                    .set_version_id(t.version.clone())
                    .presigned(presign.clone())
                    .await
                    .map_err(|e| Error::S3 {
                        op: "presign GetObject",
                        key: t.key.clone(),
                        message: e.to_string(),
                    })?;
                media.push(json!({
                    "kind": t.kind,
                    "key": t.key,
                    "version": t.version,
                    "url": url.uri(),
                    "expires_in_s": LINK_TTL_SECS,
                }));
            }
        }
    }
    Ok(json!({ "items": items, "media": media }))
}
