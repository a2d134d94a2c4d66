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

use crate::error::Error;
use crate::store::{get_s, item_json, n, s};
use crate::Deps;
use aws_sdk_dynamodb::types::{AttributeValue, KeysAndAttributes};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use telephony_core::privacy::{self, Action, Disposal, Kind, AUDIT_RETENTION_SECS};

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

fn num(i: &Item, k: &str) -> Option<u64> {
    i.get(k)?.as_n().ok()?.parse().ok()
}

fn table<'a>(v: &'a Option<String>, name: &'static str) -> Result<&'a str, PrivacyError> {
    v.as_deref().ok_or(PrivacyError::NotConfigured(name))
}

/// Every item of a GSI query `attr = value` (all pages).
async fn query(
    deps: &Deps,
    table: &str,
    index: &str,
    attr: &str,
    value: &str,
) -> Result<Vec<Item>, Error> {
    deps.dynamo
        .query()
        .table_name(table)
        .index_name(index)
        .key_condition_expression("#a = :v")
        .expression_attribute_names("#a", attr)
        .expression_attribute_values(":v", s(value))
        .into_paginator()
        .items()
        .send()
        .collect::<Result<Vec<_>, _>>()
        .await
        .map_err(Error::dynamo("Query (privacy)"))
}

async fn get(deps: &Deps, table: &str, pk: &str) -> Result<Option<Item>, Error> {
    Ok(deps
        .dynamo
        .get_item()
        .table_name(table)
        .key("pk", s(pk))
        .consistent_read(true)
        .send()
        .await
        .map_err(Error::dynamo("GetItem (privacy)"))?
        .item)
}

/// Every object version under `prefix` in the recordings bucket.
async fn objects(deps: &Deps, kind: Kind, prefix: &str) -> Result<Vec<Target>, Error> {
    let bucket = &deps.config.recordings_bucket;
    let mut out = Vec::new();
    let (mut key_marker, mut version_marker) = (None::<String>, None::<String>);
    loop {
        let page = deps
            .s3
            .list_object_versions()
            .bucket(bucket)
            .prefix(prefix)
            .set_key_marker(key_marker.take())
            .set_version_id_marker(version_marker.take())
            .send()
            .await
            .map_err(|e| Error::S3 {
                op: "ListObjectVersions",
                key: prefix.to_owned(),
                message: aws_sdk_s3::error::DisplayErrorContext(e).to_string(),
            })?;
        for v in page.versions() {
            if let Some(key) = v.key() {
                out.push(Target {
                    kind: kind.as_str().into(),
                    table: None,
                    key: key.to_owned(),
                    version: v.version_id().filter(|v| *v != "null").map(str::to_owned),
                    expires_at: None,
                });
            }
        }
        for m in page.delete_markers() {
            if let Some(key) = m.key() {
                out.push(Target {
                    kind: kind.as_str().into(),
                    table: None,
                    key: key.to_owned(),
                    version: m.version_id().filter(|v| *v != "null").map(str::to_owned),
                    expires_at: None,
                });
            }
        }
        if page.is_truncated() != Some(true) {
            return Ok(out);
        }
        key_marker = page.next_key_marker().map(str::to_owned);
        version_marker = page.next_version_id_marker().map(str::to_owned);
    }
}

fn item_target(kind: Kind, table: &str, i: &Item) -> Option<Target> {
    Some(Target {
        kind: kind.as_str().into(),
        table: Some(table.to_owned()),
        key: get_s(i, "pk")?,
        version: None,
        expires_at: num(i, "expires_at"),
    })
}

/// The kind of an item found through `items-by-call` (`None`: not the caller's data, e.g. a
/// `dialling#<target>` loop guard).
fn call_child(i: &Item) -> Option<Kind> {
    let pk = get_s(i, "pk")?;
    match get_s(i, "kind").as_deref() {
        Some("recording") => Some(Kind::Recording),
        Some("consent_proof") => Some(Kind::ConsentProof),
        Some("conversation") => Some(Kind::Conversation),
        Some("tool_call") => Some(Kind::ToolCall),
        _ if pk.starts_with("wsconn#") => Some(Kind::Connection),
        _ => None,
    }
}

/// Everything held about `ask.number` in its scope, in a stable order.
///
/// Errors: [`PrivacyError::NotConfigured`] without the indexed tables; [`PrivacyError::Aws`].
pub async fn find(deps: &Deps, ask: &Ask) -> Result<Vec<Target>, PrivacyError> {
    let c = &deps.config;
    let number = ask.number.as_str();
    let ours: Option<BTreeSet<String>> = match &ask.org {
        Some(org) => Some(
            query(deps, &c.numbers_table, "numbers-by-org", "org_id", org)
                .await?
                .iter()
                .filter_map(|i| get_s(i, "e164"))
                .collect(),
        ),
        None => None,
    };
    let in_scope = |to: Option<String>| -> bool {
        ours.as_ref().is_none_or(|o| {
            to.as_deref()
                .map(|t| t.strip_prefix("whatsapp:").unwrap_or(t))
                .is_some_and(|t| o.contains(t))
        })
    };
    let mut out = Vec::new();
    let mut our_numbers = BTreeSet::new();
    // Calls and what hangs off each.
    let calls = query(deps, &c.calls_table, "calls-by-caller", "from", number).await?;
    for call in calls.iter().filter(|i| in_scope(get_s(i, "to"))) {
        let Some(t) = item_target(Kind::Call, &c.calls_table, call) else {
            continue;
        };
        if let Some(to) = get_s(call, "to") {
            our_numbers.insert(to);
        }
        let sid = t.key.clone();
        out.push(t);
        let children = query(deps, &c.calls_table, "items-by-call", "call_sid", &sid).await?;
        for child in &children {
            if let Some(k) = call_child(child) {
                out.extend(item_target(k, &c.calls_table, child));
            }
        }
        out.extend(objects(deps, Kind::RecordingAudio, &format!("recordings/{sid}/")).await?);
    }
    // Texts, their media and the reply windows.
    let whatsapp = format!("whatsapp:{number}");
    for (from, kind) in [
        (number, Kind::Message),
        (whatsapp.as_str(), Kind::WhatsappMessage),
    ] {
        let texts = query(deps, &c.messages_table, "messages-by-sender", "from", from).await?;
        let mut tos = BTreeSet::new();
        for m in texts.iter().filter(|i| in_scope(get_s(i, "to"))) {
            let Some(t) = item_target(kind, &c.messages_table, m) else {
                continue;
            };
            if let Some(to) = get_s(m, "to") {
                tos.insert(to);
            }
            let sid = t.key.clone();
            out.push(t);
            out.extend(objects(deps, Kind::Media, &format!("media/{sid}/")).await?);
        }
        let ours_here: BTreeSet<String> = if kind == Kind::Message {
            tos.into_iter().chain(our_numbers.iter().cloned()).collect()
        } else {
            tos
        };
        for to in ours_here {
            for w in ["autoreply", "missedcall"] {
                let pk = format!("{w}#{from}#{to}");
                if let Some(i) = get(deps, &c.rate_limits_table, &pk).await? {
                    out.extend(item_target(Kind::ReplyWindow, &c.rate_limits_table, &i));
                }
            }
        }
    }
    // Contacts.
    let contacts = table(&c.contacts_table, "CONTACTS_TABLE")?;
    match &ask.org {
        Some(org) => {
            if let Some(i) = get(deps, contacts, &format!("{org}#{number}")).await? {
                out.extend(item_target(Kind::Contact, contacts, &i));
            }
        }
        None => {
            for i in query(deps, contacts, "contacts-by-caller", "caller", number).await? {
                out.extend(item_target(Kind::Contact, contacts, &i));
            }
        }
    }
    // The stack's own data: the contact form and the opt-outs.
    if ask.org.is_none() {
        let subs = table(&c.submissions_table, "SUBMISSIONS_TABLE")?;
        for i in query(deps, subs, "submissions-by-phone", "phone", number).await? {
            out.extend(item_target(Kind::Submission, subs, &i));
        }
        for pk in [number, whatsapp.as_str()] {
            if let Some(i) = get(deps, &c.opt_outs_table, pk).await? {
                out.extend(item_target(Kind::OptOut, &c.opt_outs_table, &i));
            }
        }
    }
    Ok(out)
}

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
                    .dynamo
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
                    .s3
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

/// Disposes of one target ([`Kind::on_erase`]); idempotent.
async fn dispose(deps: &Deps, t: &Target, now: u64) -> Result<(), PrivacyError> {
    let Some(tb) = &t.table else {
        deps.s3
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
        deps.dynamo
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
                .dynamo
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
                Err(e) if crate::store::is_conditional(&e) => {}
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
                    deps.dynamo
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
            num(p, "chunks").unwrap_or(0) as usize,
            num(p, "done_chunks").unwrap_or(0) as usize,
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
                deps.dynamo
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
            dispose(deps, t, now).await?;
            this_run += 1;
            disposed += 1;
        }
        done_chunks += 1;
        deps.dynamo
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
        deps.dynamo
            .delete_item()
            .table_name(&tb)
            .key("pk", s(chunk_pk(&id, i)))
            .send()
            .await
            .map_err(Error::dynamo("DeleteItem privacy (plan)"))?;
    }
    deps.dynamo
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
        .dynamo
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
        Err(e) if crate::store::is_conditional(&e) => Ok(()),
        Err(e) => Err(Error::dynamo("PutItem privacy (audit)")(e)),
    }
}

/// The body of `POST …/privacy/{find|export|erase}`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Body {
    number: String,
    #[serde(default)]
    org: Option<String>,
    #[serde(default)]
    dry_run: bool,
}

/// The HTTP face shared by the ops API (`tenant = None`: any org, or the whole stack) and the
/// tenant API (`tenant = Some(org)`: that org only; another `org` in the body is 403
/// `other_org`). `action` is the path's last segment; `Idempotency-Key` is required (1–200
/// printable characters). Answers: 200 [`serve`]'s JSON; 400 `bad_json`/`invalid_number`/
/// `unknown_action`/`idempotency_key_required`/`invalid_org`; 409 `idempotency_key_reused`; 503
/// `not_configured`/`interrupted`/`storage_unavailable` (retry with the same key resumes).
#[allow(clippy::too_many_arguments)]
pub async fn answer(
    deps: &Deps,
    action: &str,
    body: &[u8],
    idempotency_key: Option<&str>,
    tenant: Option<&str>,
    principal: &str,
    now: u64,
) -> (http::StatusCode, Value) {
    use crate::glue::error_body as err;
    use http::StatusCode as S;
    let Some(action) = Action::parse(action) else {
        return (
            S::BAD_REQUEST,
            err("unknown_action", "use find, export or erase"),
        );
    };
    let b: Body = match serde_json::from_slice(body) {
        Ok(b) => b,
        Err(e) => return (S::BAD_REQUEST, err("bad_json", &e.to_string())),
    };
    let number = match telephony_core::E164::parse_syntax(b.number.trim())
        .and_then(|n| n.check_dialable().map(|()| n))
    {
        Ok(n) => n,
        Err(e) => return (S::BAD_REQUEST, err("invalid_number", &e.to_string())),
    };
    let org = match (tenant, b.org) {
        (Some(t), Some(o)) if o != t => {
            return (
                S::FORBIDDEN,
                err("other_org", "a tenant token reaches only its own org"),
            );
        }
        (Some(t), _) => Some(t.to_owned()),
        (None, o) => o,
    };
    if let Some(o) = &org {
        if let Err(m) = crate::provisioning::check_org_id(o) {
            return (S::BAD_REQUEST, err("invalid_org", &m));
        }
    }
    let key = idempotency_key.map(str::trim).unwrap_or_default();
    if key.is_empty() || key.len() > 200 || !key.chars().all(|c| c.is_ascii_graphic()) {
        return (
            S::BAD_REQUEST,
            err(
                "idempotency_key_required",
                "send an Idempotency-Key header (1-200 printable characters)",
            ),
        );
    }
    let ask = Ask {
        action,
        number: number.as_str().to_owned(),
        org,
        dry_run: b.dry_run,
        principal: principal.to_owned(),
        idempotency_key: key.to_owned(),
    };
    match serve(deps, &ask, now, None).await {
        Ok(v) => (S::OK, v),
        Err(e) => {
            tracing::error!(request_id = %ask.id(), error = %e, "privacy request failed");
            let code = match &e {
                PrivacyError::KeyReused(_) => {
                    return (S::CONFLICT, err("idempotency_key_reused", &e.to_string()))
                }
                PrivacyError::NotConfigured(_) | PrivacyError::NoSuppressionSecret => {
                    "not_configured"
                }
                PrivacyError::Interrupted { .. } => "interrupted",
                PrivacyError::Aws(_) => "storage_unavailable",
            };
            (S::SERVICE_UNAVAILABLE, err(code, &e.to_string()))
        }
    }
}
