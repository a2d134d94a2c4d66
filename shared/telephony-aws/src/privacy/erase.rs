//! What erasure does to one target ([`telephony_core::privacy::Kind::on_erase`]): delete, strip the content, or move an
//! opt-out to its suppression entry.

use super::{get, PrivacyError, Target};
use crate::error::Error;
use crate::item::get_n as num;
use crate::item::{n, s};
use crate::Deps;
use aws_sdk_dynamodb::types::AttributeValue;
use telephony_core::privacy::{self, Disposal};

/// Disposes of one target ([`telephony_core::privacy::Kind::on_erase`]); idempotent.
pub(super) async fn dispose(deps: &Deps, t: &Target, now: u64) -> Result<(), PrivacyError> {
    let Some(tb) = &t.table else {
        deps.s3()
            .delete_object()
            .bucket(&deps.config.recordings_bucket)
            .key(&t.key)
            .set_version_id(t.version.clone())
            .send()
            .await
            .map_err(|e| Error::S3 {
                op: "DeleteObject",
                key: t.key.clone(),
                message: aws_sdk_s3::error::DisplayErrorContext(e).to_string(),
            })?;
        return Ok(());
    };
    let delete = || async {
        deps.dynamo()
            .delete_item()
            .table_name(tb)
            .key("pk", s(t.key.clone()))
            .send()
            .await
            .map_err(Error::dynamo("DeleteItem (privacy)"))
    };
    match t.kind().on_erase() {
        Disposal::Delete => {
            delete().await?;
        }
        Disposal::StripContent => {
            let r = deps
                .dynamo()
                .update_item()
                .table_name(tb)
                .key("pk", s(t.key.clone()))
                .update_expression("REMOVE caller SET stripped_at = :now")
                .condition_expression("attribute_exists(pk)")
                .expression_attribute_values(":now", n(now))
                .send()
                .await;
            match r {
                Ok(_) => {}
                Err(e) if crate::item::is_conditional(&e) => {}
                Err(e) => return Err(Error::dynamo("UpdateItem (privacy strip)")(e).into()),
            }
        }
        Disposal::Suppress => {
            if let Some(item) = get(deps, tb, &t.key).await? {
                let opted_out = item.get("opted_out").and_then(|v| v.as_bool().ok()) == Some(&true);
                let live = num(&item, "expires_at").is_some_and(|e| e > now);
                if opted_out && live {
                    let secret = deps
                        .config
                        .suppression_secret
                        .as_ref()
                        .ok_or(PrivacyError::NoSuppressionSecret)?;
                    deps.dynamo()
                        .put_item()
                        .table_name(tb)
                        .item(
                            "pk",
                            s(privacy::suppression_key(secret.0.as_bytes(), &t.key)),
                        )
                        .item("opted_out", AttributeValue::Bool(true))
                        .item("source", s("privacy:erased"))
                        .item("changed_at", n(now))
                        .item("expires_at", n(num(&item, "expires_at").unwrap_or(now)))
                        .send()
                        .await
                        .map_err(Error::dynamo("PutItem opt-outs (suppression)"))?;
                }
                delete().await?;
            }
        }
    }
    Ok(())
}
