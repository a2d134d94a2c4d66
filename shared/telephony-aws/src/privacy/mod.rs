//! Privacy requests by phone number (issue 25): find, export and erase what the stack holds about
//! one caller E.164, within an org or across the stack, with a 3-year audit record per request.
//!
//! Where each kind is found (no scans: the sparse GSIs of `template.yaml`):
//! - calls: `calls-by-caller` (`from`, `frontdoor_at`); each call's recordings, consent proof,
//!   conversation, tool calls and relay connections: `items-by-call` (`call_sid`); the audio:
//!   every object version under `recordings/<CallSid>/`;
//! - texts: `messages-by-sender` (`from`, the number and `whatsapp:<number>`); media: every version
//!   under `media/<MessageSid>/`; the auto-reply and missed-call windows: their keys
//!   (`autoreply#<from>#<to>`, `missedcall#<from>#<to>`) for each of our numbers the caller used;
//! - contacts: `<org>#<number>`, or `contacts-by-caller` (`caller`) across orgs;
//! - contact-form submissions: `submissions-by-phone` (platform scope: the form is ours);
//! - opt-outs: the number's own record (platform scope: an opt-out is stack-wide).
//!
//! An org's scope is its numbers (`numbers-by-org`): a call or text counts when its `To` is one.
//!
//! Erasure is planned first: the targets are written as chunks (`req#<id>#plan#<n>`, 100 each)
//! and the audit record says how many chunks are done, so a crash half-way resumes on the retry
//! with the same plan and the same counts; every disposal is idempotent (a delete of a missing item
//! or object succeeds). The chunks (which name keys) are deleted when the erasure finishes.

//! Parts: [`find`] (where each kind is looked up), [`export`] (the document), `erase` (what
//! erasure does to one item); the routes' face is `json_api::privacy`; the request itself, its plan and its
//! audit record here.

mod erase;
mod export;
mod find;

pub use export::export;
pub use find::find;

use crate::error::Error;
use crate::item::{get_n, get_s, item_json, n, s};
use crate::Deps;
use aws_sdk_dynamodb::types::AttributeValue;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use std::collections::{BTreeMap, HashMap};
use telephony_core::privacy::{self, Action, Kind, AUDIT_RETENTION_SECS};

type Item = HashMap<String, AttributeValue>;

/// Targets per plan chunk (one DynamoDB item well under 400 KB).
pub const CHUNK: usize = 100;
/// Lifetime of an export's presigned media links: 7 days (S3's maximum for SigV4), in seconds.
pub const LINK_TTL_SECS: u64 = 7 * 86_400;

/// What a request is about.
#[derive(Debug, Clone)]
pub struct Ask {
    /// Find, export or erase.
    pub action: Action,
    /// The caller, E.164.
    pub number: String,
    /// `Some(org)`: only that org's calls, texts and contacts; `None`: the whole stack.
    pub org: Option<String>,
    /// Count only: nothing is changed or stored.
    pub dry_run: bool,
    /// Who asked (the IAM principal, or the tenant's subject).
    pub principal: String,
    /// The caller's `Idempotency-Key`: the same key repeats (and resumes) the same request.
    pub idempotency_key: String,
}

impl Ask {
    /// `ops` for the platform operator, `org:<id>` for a tenant: request ids are per asker.
    fn asker(&self) -> String {
        self.org
            .as_ref()
            .map_or_else(|| "ops".to_owned(), |o| format!("org:{o}"))
    }

    /// The request id ([`privacy::request_id`]).
    pub fn id(&self) -> String {
        privacy::request_id(&self.asker(), &self.idempotency_key)
    }
}

/// Why a request could not be served.
#[derive(Debug, thiserror::Error)]
pub enum PrivacyError {
    /// `PRIVACY_TABLE` (or another table the search needs) is not configured.
    #[error("{0} is not set")]
    NotConfigured(&'static str),
    /// The `Idempotency-Key` was used for a different request.
    #[error("this Idempotency-Key was used for another request ({0})")]
    KeyReused(String),
    /// An erasure would drop an opt-out but `SUPPRESSION_SECRET` is not set.
    #[error("SUPPRESSION_SECRET is not set: an opt-out cannot be kept as a suppression entry")]
    NoSuppressionSecret,
    /// The erasure stopped before its end (the test seam, or a failure): retry to resume.
    #[error(
        "the erasure stopped after {done} of {total} targets: retry with the same Idempotency-Key"
    )]
    Interrupted {
        /// Targets disposed of so far, over all attempts.
        done: usize,
        /// Targets in the plan.
        total: usize,
    },
    /// DynamoDB or S3 failed.
    #[error(transparent)]
    Aws(#[from] Error),
}

/// Where one found piece of data lives.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Target {
    /// Its kind (`call`, `recording_audio`, …: [`Kind::as_str`]).
    pub kind: String,
    /// The DynamoDB table (key `pk`), or `None` for an object in the recordings bucket.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub table: Option<String>,
    /// The item's `pk`, or the object's key.
    pub key: String,
    /// The object's version (`None`/`null` on an unversioned bucket).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// When the retention TTL removes it (Unix seconds), if it has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<u64>,
}

impl Target {
    fn kind(&self) -> Kind {
        Kind::parse(&self.kind).unwrap_or(Kind::Call)
    }
}

/// Counts per kind (`{"call": 2, "media": 1}`), kinds with none left out.
pub fn counts(targets: &[Target]) -> BTreeMap<String, usize> {
    let mut c = BTreeMap::new();
    for t in targets {
        *c.entry(t.kind.clone()).or_insert(0) += 1;
    }
    c
}

fn table<'a>(v: &'a Option<String>, name: &'static str) -> Result<&'a str, PrivacyError> {
    v.as_deref().ok_or(PrivacyError::NotConfigured(name))
}

async fn get(deps: &Deps, table: &str, pk: &str) -> Result<Option<Item>, Error> {
    Ok(deps
        .dynamo()
        .get_item()
        .table_name(table)
        .key("pk", s(pk))
        .consistent_read(true)
        .send()
        .await
        .map_err(Error::dynamo("GetItem (privacy)"))?
        .item)
}

fn audit_pk(id: &str) -> String {
    format!("req#{id}")
}

fn chunk_pk(id: &str, n: usize) -> String {
    format!("req#{id}#plan#{n}")
}

/// The request fingerprint stored on the audit: the same key for another number, scope or action
/// is refused ([`PrivacyError::KeyReused`]).
fn fingerprint(deps: &Deps, ask: &Ask) -> String {
    let key = deps
        .config
        .suppression_secret
        .as_ref()
        .map_or(b"tradeline-privacy".as_slice(), |k| k.0.as_bytes());
    format!(
        "{}|{}|{}",
        ask.action.as_str(),
        ask.org.as_deref().unwrap_or("*"),
        privacy::suppression_key(key, &ask.number)
    )
}

/// A stored request (`GET /ops/privacy/requests/{id}`), as JSON: `{id, action, number (masked),
/// scope, principal, status (done|running), counts, created_at, finished_at, expires_at}`.
///
/// Errors: [`PrivacyError::NotConfigured`], [`PrivacyError::Aws`].
pub async fn request(deps: &Deps, id: &str) -> Result<Option<Value>, PrivacyError> {
    let tb = table(&deps.config.privacy_table, "PRIVACY_TABLE")?;
    Ok(get(deps, tb, &audit_pk(id)).await?.map(|i| audit_json(&i)))
}

fn audit_json(i: &Item) -> Value {
    let mut v = item_json(i);
    if let Some(o) = v.as_object_mut() {
        o.remove("pk");
        o.remove("fingerprint");
        if let Some(c) = o.remove("counts_json") {
            o.insert(
                "counts".into(),
                c.as_str()
                    .and_then(|c| serde_json::from_str(c).ok())
                    .unwrap_or_default(),
            );
        }
    }
    v
}

/// Serves a request: finds, then (unless a dry run) exports or erases and stores the audit.
/// Answer: `{request_id, action, dry_run, counts, status}`, plus `export` for an export. An
/// erase retried with the same key resumes where it stopped, with the counts of its plan; one
/// already done answers as it did. `stop_after` stops an erasure after that many disposals
/// ([`PrivacyError::Interrupted`], the crash seam of the tests).
///
/// Errors: see [`PrivacyError`].
pub async fn serve(
    deps: &Deps,
    ask: &Ask,
    now: u64,
    stop_after: Option<usize>,
) -> Result<Value, PrivacyError> {
    let tb = table(&deps.config.privacy_table, "PRIVACY_TABLE")?.to_owned();
    let id = ask.id();
    let fp = fingerprint(deps, ask);
    let answer = |counts: &BTreeMap<String, usize>, status: &str| {
        json!({
            "request_id": id,
            "action": ask.action.as_str(),
            "dry_run": ask.dry_run,
            "scope": ask.org.as_deref().unwrap_or("platform"),
            "counts": counts,
            "status": status,
        })
    };
    if ask.dry_run {
        let found = find(deps, ask).await?;
        return Ok(answer(&counts(&found), "dry_run"));
    }
    let previous = get(deps, &tb, &audit_pk(&id)).await?;
    if let Some(p) = &previous {
        if get_s(p, "fingerprint").as_deref() != Some(fp.as_str()) {
            return Err(PrivacyError::KeyReused(id));
        }
    }
    if ask.action != Action::Erase {
        let found = find(deps, ask).await?;
        let c = counts(&found);
        if previous.is_none() {
            put_audit(deps, &tb, ask, &id, &fp, &c, "done", 0, now).await?;
        }
        let mut a = answer(&c, "done");
        if ask.action == Action::Export {
            a["export"] = export(deps, &found).await?;
        }
        return Ok(a);
    }
    let (chunks, mut done_chunks, c) = match &previous {
        Some(p) if get_s(p, "status").as_deref() == Some("done") => {
            return Ok(answer(&stored_counts(p), "done"));
        }
        Some(p) => (
            get_n(p, "chunks").unwrap_or(0) as usize,
            get_n(p, "done_chunks").unwrap_or(0) as usize,
            stored_counts(p),
        ),
        None => {
            let found = find(deps, ask).await?;
            if deps.config.suppression_secret.is_none()
                && found.iter().any(|t| t.kind() == Kind::OptOut)
            {
                return Err(PrivacyError::NoSuppressionSecret);
            }
            let chunks: Vec<&[Target]> = found.chunks(CHUNK).collect();
            for (i, ch) in chunks.iter().enumerate() {
                deps.dynamo()
                    .put_item()
                    .table_name(&tb)
                    .item("pk", s(chunk_pk(&id, i)))
                    .item("targets", s(serde_json::to_string(ch).unwrap_or_default()))
                    .item("expires_at", n(now + AUDIT_RETENTION_SECS))
                    .send()
                    .await
                    .map_err(Error::dynamo("PutItem privacy (plan)"))?;
            }
            let c = counts(&found);
            put_audit(deps, &tb, ask, &id, &fp, &c, "running", chunks.len(), now).await?;
            (chunks.len(), 0, c)
        }
    };
    let total: usize = c.values().sum();
    let mut disposed = done_chunks * CHUNK;
    let mut this_run = 0;
    while done_chunks < chunks {
        let plan: Vec<Target> = get(deps, &tb, &chunk_pk(&id, done_chunks))
            .await?
            .and_then(|i| get_s(&i, "targets"))
            .and_then(|t| serde_json::from_str(&t).ok())
            .unwrap_or_default();
        for t in &plan {
            if stop_after.is_some_and(|s| this_run >= s) {
                return Err(PrivacyError::Interrupted {
                    done: disposed,
                    total,
                });
            }
            erase::dispose(deps, t, now).await?;
            this_run += 1;
            disposed += 1;
        }
        done_chunks += 1;
        deps.dynamo()
            .update_item()
            .table_name(&tb)
            .key("pk", s(audit_pk(&id)))
            .update_expression("SET done_chunks = :d")
            .expression_attribute_values(":d", n(done_chunks as u64))
            .send()
            .await
            .map_err(Error::dynamo("UpdateItem privacy (progress)"))?;
        tracing::info!(request_id = %id, done_chunks, chunks, "privacy erase progress");
    }
    for i in 0..chunks {
        deps.dynamo()
            .delete_item()
            .table_name(&tb)
            .key("pk", s(chunk_pk(&id, i)))
            .send()
            .await
            .map_err(Error::dynamo("DeleteItem privacy (plan)"))?;
    }
    deps.dynamo()
        .update_item()
        .table_name(&tb)
        .key("pk", s(audit_pk(&id)))
        .update_expression("SET #st = :done, finished_at = :now")
        .expression_attribute_names("#st", "status")
        .expression_attribute_values(":done", s("done"))
        .expression_attribute_values(":now", n(now))
        .send()
        .await
        .map_err(Error::dynamo("UpdateItem privacy (done)"))?;
    Ok(answer(&c, "done"))
}

fn stored_counts(i: &Item) -> BTreeMap<String, usize> {
    get_s(i, "counts_json")
        .and_then(|c| serde_json::from_str(&c).ok())
        .unwrap_or_default()
}

#[allow(clippy::too_many_arguments)]
async fn put_audit(
    deps: &Deps,
    tb: &str,
    ask: &Ask,
    id: &str,
    fp: &str,
    counts: &BTreeMap<String, usize>,
    status: &str,
    chunks: usize,
    now: u64,
) -> Result<(), Error> {
    let r = deps
        .dynamo()
        .put_item()
        .table_name(tb)
        .item("pk", s(audit_pk(id)))
        .item("id", s(id))
        .item("action", s(ask.action.as_str()))
        .item("number", s(privacy::masked(&ask.number)))
        .item("scope", s(ask.org.as_deref().unwrap_or("platform")))
        .item("principal", s(&ask.principal))
        .item("fingerprint", s(fp))
        .item(
            "counts_json",
            s(serde_json::to_string(counts).unwrap_or_default()),
        )
        .item("status", s(status))
        .item("chunks", n(chunks as u64))
        .item("done_chunks", n(0))
        .item("created_at", n(now))
        .item("expires_at", n(now + AUDIT_RETENTION_SECS))
        .condition_expression("attribute_not_exists(pk)")
        .send()
        .await;
    match r {
        Ok(_) => Ok(()),
        Err(e) if crate::item::is_conditional(&e) => Ok(()),
        Err(e) => Err(Error::dynamo("PutItem privacy (audit)")(e)),
    }
}
