//! Known callers (issue 14): a `contacts` table keyed `<org>#<caller E.164>` → first name,
//! preferred language (`en`/`fr`), a reference to notes kept elsewhere (never the notes
//! themselves). Phone numbers are kept only as long as needed: every item has a TTL
//! (`expires_at`, default [`DEFAULT_RETENTION_DAYS`], set per contact) and can be deleted at
//! once through `DELETE /ops/contacts/{org}/{e164}`.
//!
//! The frontdoor reads a contact in the same round trip as the rate-limit counters, so a known
//! caller costs no extra wait; a missing table, item or failed read means the normal greeting.

use crate::error::Error;
use aws_sdk_dynamodb::types::AttributeValue;
use serde::{Deserialize, Serialize};
use telephony_core::E164;

/// Contacts are kept 2 years unless `retention_days` says otherwise.
pub const DEFAULT_RETENTION_DAYS: u64 = 730;

/// A known caller.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Contact {
    /// Spoken in the greeting ("Welcome back, Sam"): 1–40 characters XML can carry.
    pub first_name: String,
    /// `en` or `fr` (or a tag starting with them); `None` → the number's language.
    pub language: Option<String>,
    /// Where the notes about this caller live (a CRM id), if anywhere.
    pub notes_ref: Option<String>,
}

/// `PUT /ops/contacts/{org}/{e164}` body.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ContactWrite {
    /// See [`Contact::first_name`].
    pub first_name: String,
    /// See [`Contact::language`].
    pub language: Option<String>,
    /// See [`Contact::notes_ref`].
    pub notes_ref: Option<String>,
    /// Days to keep the contact (1–3650; default [`DEFAULT_RETENTION_DAYS`]).
    pub retention_days: Option<u64>,
}

impl ContactWrite {
    /// Checks the fields.
    ///
    /// Errors: a message naming the bad field.
    pub fn check(&self) -> Result<(), String> {
        let name = self.first_name.trim();
        if name.is_empty()
            || name.chars().count() > 40
            || !name.chars().all(telephony_core::twiml::is_xml_char)
        {
            return Err("first_name must be 1-40 characters XML can carry".into());
        }
        if let Some(l) = &self.language {
            if !["en", "fr", "en-CA", "en-US", "fr-CA"].contains(&l.as_str()) {
                return Err("language must be en, fr, en-CA, en-US or fr-CA".into());
            }
        }
        if self.notes_ref.as_ref().is_some_and(|n| n.len() > 200) {
            return Err("notes_ref is at most 200 characters".into());
        }
        if self
            .retention_days
            .is_some_and(|d| !(1..=3650).contains(&d))
        {
            return Err("retention_days must be 1-3650".into());
        }
        Ok(())
    }
}

fn key(org: &str, caller: &E164) -> AttributeValue {
    AttributeValue::S(format!("{org}#{}", caller.as_str()))
}

/// The contacts table.
pub struct Contacts<'a> {
    /// DynamoDB.
    pub dynamo: &'a aws_sdk_dynamodb::Client,
    /// `CONTACTS_TABLE`.
    pub table: &'a str,
}

impl Contacts<'_> {
    /// The contact of `caller` for `org`, if any (expired items not yet removed by TTL count as
    /// absent).
    ///
    /// Errors: [`Error::Dynamo`].
    pub async fn get(&self, org: &str, caller: &E164, now: u64) -> Result<Option<Contact>, Error> {
        let out = self
            .dynamo
            .get_item()
            .table_name(self.table)
            .key("pk", key(org, caller))
            .send()
            .await
            .map_err(Error::dynamo("GetItem contacts"))?;
        let Some(item) = out.item else {
            return Ok(None);
        };
        let text = |k: &str| item.get(k).and_then(|v| v.as_s().ok()).cloned();
        let expired = item
            .get("expires_at")
            .and_then(|v| v.as_n().ok())
            .and_then(|n| n.parse::<u64>().ok())
            .is_some_and(|t| t <= now);
        Ok(match (expired, text("first_name")) {
            (false, Some(first_name)) => Some(Contact {
                first_name,
                language: text("language"),
                notes_ref: text("notes_ref"),
            }),
            _ => None,
        })
    }

    /// Creates or replaces the contact (checked first).
    ///
    /// Errors: [`Error::Dynamo`]; the caller checks with [`ContactWrite::check`].
    pub async fn put(
        &self,
        org: &str,
        caller: &E164,
        w: &ContactWrite,
        principal: &str,
        now: u64,
    ) -> Result<u64, Error> {
        let expires = now + w.retention_days.unwrap_or(DEFAULT_RETENTION_DAYS) * 86_400;
        let mut put = self
            .dynamo
            .put_item()
            .table_name(self.table)
            .item("pk", key(org, caller))
            // Indexed by `contacts-by-caller` for privacy requests across orgs (issue 25).
            .item("caller", AttributeValue::S(caller.as_str().to_owned()))
            .item(
                "first_name",
                AttributeValue::S(w.first_name.trim().to_owned()),
            )
            .item("updated_at", AttributeValue::N(now.to_string()))
            .item("updated_by", AttributeValue::S(principal.to_owned()))
            .item("expires_at", AttributeValue::N(expires.to_string()));
        if let Some(l) = &w.language {
            put = put.item("language", AttributeValue::S(l.clone()));
        }
        if let Some(n) = &w.notes_ref {
            put = put.item("notes_ref", AttributeValue::S(n.clone()));
        }
        put.send()
            .await
            .map_err(Error::dynamo("PutItem contacts"))?;
        Ok(expires)
    }

    /// Deletes the contact (a missing one is fine).
    ///
    /// Errors: [`Error::Dynamo`].
    pub async fn delete(&self, org: &str, caller: &E164) -> Result<(), Error> {
        self.dynamo
            .delete_item()
            .table_name(self.table)
            .key("pk", key(org, caller))
            .send()
            .await
            .map_err(Error::dynamo("DeleteItem contacts"))?;
        Ok(())
    }
}
