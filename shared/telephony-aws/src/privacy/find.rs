//! Where each kind is looked up for one caller (the module docs of [`super`] list the indexes).

use super::{get, table, Ask, Item, PrivacyError, Target};
use crate::error::Error;
use crate::item::get_n as num;
use crate::item::{get_s, s};
use crate::Deps;
use std::collections::BTreeSet;
use telephony_core::privacy::Kind;

/// Every item of a GSI query `attr = value` (all pages).
async fn query(
    deps: &Deps,
    table: &str,
    index: &str,
    attr: &str,
    value: &str,
) -> Result<Vec<Item>, Error> {
    deps.dynamo()
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

/// Every object version under `prefix` in the recordings bucket.
async fn objects(deps: &Deps, kind: Kind, prefix: &str) -> Result<Vec<Target>, Error> {
    let bucket = &deps.config.recordings_bucket;
    let mut out = Vec::new();
    let (mut key_marker, mut version_marker) = (None::<String>, None::<String>);
    loop {
        let page = deps
            .s3()
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
        let versions = page.versions().iter().map(|v| (v.key(), v.version_id()));
        let markers = page
            .delete_markers()
            .iter()
            .map(|m| (m.key(), m.version_id()));
        for (key, version) in versions.chain(markers) {
            if let Some(key) = key {
                out.push(Target {
                    kind: kind.as_str().into(),
                    table: None,
                    key: key.to_owned(),
                    version: version.filter(|v| *v != "null").map(str::to_owned),
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
