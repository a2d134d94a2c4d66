//! Idempotency keys for the ops API's state-changing routes (spec §5, the Powertools pattern;
//! issue 9): a client sends `Idempotency-Key: <key>`; the first request with a key claims it, runs,
//! and stores its response for 24 h; a repeat with the same body gets the stored response without
//! running again; a repeat while the first still runs gets 409; the same key with a different body
//! gets 422. A claim whose run crashed expires after [`IN_PROGRESS_LEASE_MS`], so the key is not
//! stuck forever.
//!
//! Items (`IdempotencyTable`): `pk` = `<scope>#<key>` (the scope is the principal and the route,
//! so two operators' keys never collide), `payload_hash` (SHA-256 of the body, hex), `status`
//! (`INPROGRESS` | `COMPLETED`), `in_progress_expiration` (Unix milliseconds), `expires_at` (Unix
//! seconds, the table's TTL), `response_status`, `response_body`.

use aws_sdk_dynamodb::types::{AttributeValue, ReturnValuesOnConditionCheckFailure};
use sha2::Digest;
use telephony_aws::Error;

/// How long a stored response is replayed: 24 h (seeds: "24-hour cached results").
pub const RETENTION_SECS: u64 = 24 * 3600;
/// How long a claim protects a run in progress before another request may take the key over:
/// 60 s (longer than any ops route runs; Lambda's timeout for them is 30 s).
pub const IN_PROGRESS_LEASE_MS: u64 = 60_000;
/// Longest accepted key (Powertools and Stripe accept up to 255 characters).
pub const MAX_KEY_LEN: usize = 255;

/// A validated `Idempotency-Key` header value: 1–255 visible ASCII characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdempotencyKey(String);

impl IdempotencyKey {
    /// Validates a header value.
    ///
    /// Errors: a message for an empty, too long or non-printable key.
    pub fn parse(raw: &str) -> Result<Self, String> {
        let k = raw.trim();
        if k.is_empty() {
            return Err("Idempotency-Key is empty".into());
        }
        if k.len() > MAX_KEY_LEN {
            return Err(format!(
                "Idempotency-Key is longer than {MAX_KEY_LEN} characters"
            ));
        }
        if !k.bytes().all(|b| b.is_ascii_graphic()) {
            return Err("Idempotency-Key holds characters other than visible ASCII".into());
        }
        Ok(Self(k.to_owned()))
    }

    /// The key.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A response kept for replay.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredResponse {
    /// HTTP status.
    pub status: u16,
    /// JSON body.
    pub body: String,
}

/// What a claim found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Claim {
    /// The key is ours now: run the operation, then [`Idempotency::complete`] or
    /// [`Idempotency::release`].
    Fresh,
    /// Done before with the same body: answer this.
    Replay(StoredResponse),
    /// Another request with this key is running: 409.
    InFlight,
    /// The key was used with a different body: 422.
    Mismatch,
}

/// SHA-256 of a request body, hex.
pub fn payload_hash(body: &[u8]) -> String {
    hex::encode(sha2::Sha256::digest(body))
}

/// The decision for a key already held by `old` (the item the claim's condition refused), for a
/// request whose body hashes to `hash`. Pure; the conditions mirror the claim's.
pub fn classify(
    old_status: Option<&str>,
    old_hash: Option<&str>,
    hash: &str,
    stored: Option<StoredResponse>,
) -> Claim {
    if old_hash != Some(hash) {
        return Claim::Mismatch;
    }
    match (old_status, stored) {
        (Some("COMPLETED"), Some(r)) => Claim::Replay(r),
        _ => Claim::InFlight,
    }
}

/// The `IdempotencyTable`.
pub struct Idempotency<'a> {
    dynamo: &'a aws_sdk_dynamodb::Client,
    table: &'a str,
}

impl<'a> Idempotency<'a> {
    /// The table `table`.
    pub fn new(dynamo: &'a aws_sdk_dynamodb::Client, table: &'a str) -> Self {
        Self { dynamo, table }
    }

    fn pk(scope: &str, key: &IdempotencyKey) -> String {
        format!("{scope}#{}", key.as_str())
    }

    /// Claims `key` in `scope` for a request whose body hashes to `hash` (one conditional
    /// `PutItem`: free, expired, or a stale in-progress claim; spec §5).
    ///
    /// Errors: [`Error::Dynamo`].
    pub async fn claim(
        &self,
        scope: &str,
        key: &IdempotencyKey,
        hash: &str,
        now_ms: u64,
    ) -> Result<Claim, Error> {
        let now = now_ms / 1000;
        let n = |v: u64| AttributeValue::N(v.to_string());
        let out = self
            .dynamo
            .put_item()
            .table_name(self.table)
            .item("pk", AttributeValue::S(Self::pk(scope, key)))
            .item("payload_hash", AttributeValue::S(hash.to_owned()))
            .item("status", AttributeValue::S("INPROGRESS".into()))
            .item("in_progress_expiration", n(now_ms + IN_PROGRESS_LEASE_MS))
            .item("expires_at", n(now + RETENTION_SECS))
            .condition_expression(
                "attribute_not_exists(pk) OR expires_at < :now \
                 OR (#s = :inprogress AND in_progress_expiration < :now_ms)",
            )
            .expression_attribute_names("#s", "status")
            .expression_attribute_values(":now", n(now))
            .expression_attribute_values(":now_ms", n(now_ms))
            .expression_attribute_values(":inprogress", AttributeValue::S("INPROGRESS".into()))
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .send()
            .await;
        match out {
            Ok(_) => Ok(Claim::Fresh),
            Err(e) => {
                let svc = e.as_service_error();
                match svc {
                    Some(aws_sdk_dynamodb::operation::put_item::PutItemError::ConditionalCheckFailedException(c)) => {
                        let old = c.item();
                        let s = |k: &str| old.and_then(|o| o.get(k)).and_then(|v| v.as_s().ok()).cloned();
                        let status_code = old
                            .and_then(|o| o.get("response_status"))
                            .and_then(|v| v.as_n().ok())
                            .and_then(|v| v.parse().ok());
                        let stored = match (status_code, s("response_body")) {
                            (Some(status), Some(body)) => Some(StoredResponse { status, body }),
                            _ => None,
                        };
                        Ok(classify(
                            s("status").as_deref(),
                            s("payload_hash").as_deref(),
                            hash,
                            stored,
                        ))
                    }
                    _ => Err(Error::dynamo("idempotency claim")(e)),
                }
            }
        }
    }

    /// Stores the response of a finished run for replay.
    ///
    /// Errors: [`Error::Dynamo`].
    pub async fn complete(
        &self,
        scope: &str,
        key: &IdempotencyKey,
        response: &StoredResponse,
    ) -> Result<(), Error> {
        self.dynamo
            .update_item()
            .table_name(self.table)
            .key("pk", AttributeValue::S(Self::pk(scope, key)))
            .update_expression("SET #s = :done, response_status = :st, response_body = :b")
            .expression_attribute_names("#s", "status")
            .expression_attribute_values(":done", AttributeValue::S("COMPLETED".into()))
            .expression_attribute_values(":st", AttributeValue::N(response.status.to_string()))
            .expression_attribute_values(":b", AttributeValue::S(response.body.clone()))
            .send()
            .await
            .map_err(Error::dynamo("idempotency complete"))?;
        Ok(())
    }

    /// Gives the key back after a run that failed for a reason a retry may fix (a 5xx): the
    /// next request with the key runs again.
    ///
    /// Errors: [`Error::Dynamo`].
    pub async fn release(&self, scope: &str, key: &IdempotencyKey) -> Result<(), Error> {
        self.dynamo
            .delete_item()
            .table_name(self.table)
            .key("pk", AttributeValue::S(Self::pk(scope, key)))
            .send()
            .await
            .map_err(Error::dynamo("idempotency release"))?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_validated() {
        assert!(IdempotencyKey::parse("9f1c-4e2a").is_ok());
        assert!(IdempotencyKey::parse("  ").is_err());
        assert!(IdempotencyKey::parse("a b").is_err());
        assert!(IdempotencyKey::parse("é").is_err());
        assert!(IdempotencyKey::parse(&"k".repeat(256)).is_err());
        assert!(IdempotencyKey::parse(&"k".repeat(255)).is_ok());
    }

    #[test]
    fn held_keys_are_classified() {
        let r = StoredResponse {
            status: 201,
            body: "{}".into(),
        };
        assert_eq!(
            classify(Some("COMPLETED"), Some("h"), "h", Some(r.clone())),
            Claim::Replay(r.clone())
        );
        assert_eq!(
            classify(Some("INPROGRESS"), Some("h"), "h", None),
            Claim::InFlight
        );
        assert_eq!(
            classify(Some("COMPLETED"), Some("h"), "other", Some(r)),
            Claim::Mismatch
        );
        assert_eq!(classify(None, None, "h", None), Claim::Mismatch);
    }

    #[test]
    fn payload_hash_is_sha256_hex() {
        assert_eq!(
            payload_hash(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
