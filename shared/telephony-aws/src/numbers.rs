//! The `numbers` table (key `e164`): per-number configuration, cached in memory for a short time
//! (spec §3 "Per-number config").

use crate::error::Error;
use aws_sdk_dynamodb::types::AttributeValue;
use aws_sdk_dynamodb::Client;
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};
use telephony_core::flow::NumberConfig;
use telephony_core::gate::RobocallGate;
use telephony_core::screening::{ScreenSetting, Screening};
use telephony_core::stream::{AiEngine, AiMode};
use telephony_core::E164;

/// Cached lookups of the `numbers` table. `None` in the cache means "not in the table" (the
/// environment defaults apply), so unknown numbers do not cost a read per call either.
#[derive(Debug)]
pub struct NumberDirectory {
    table: String,
    ttl: Duration,
    cache: std::sync::Arc<Mutex<Cache>>,
}

/// Each dialled number's table entry (or its absence) and when it was read.
type Cache = HashMap<String, (Instant, Option<NumberConfig>)>;

impl NumberDirectory {
    /// A directory over `table`, caching each answer for `ttl`.
    pub fn new(table: String, ttl: Duration) -> Self {
        Self {
            table,
            ttl,
            cache: Default::default(),
        }
    }

    /// A directory over `table` that shares this one's cache (the in-process tests give each
    /// handler its own configuration over one cache, as one warm function has one).
    pub fn sharing(&self, table: String, ttl: Duration) -> Self {
        Self {
            table,
            ttl,
            cache: self.cache.clone(),
        }
    }

    /// The configuration of the dialled number `to`, or `default` when the table has none.
    ///
    /// Errors: [`Error::Dynamo`] when the table cannot be read (callers fall back to `default`);
    /// [`Error::Corrupt`] when a stored target is not valid E.164.
    pub async fn lookup(
        &self,
        client: &Client,
        to: &str,
        default: &NumberConfig,
    ) -> Result<NumberConfig, Error> {
        Ok(self
            .find(client, to, default)
            .await?
            .unwrap_or_else(|| default.clone()))
    }

    /// The stored configuration of `to`, or `None` when the number is not in the table (not
    /// one of ours). Missing fields take `default`'s values.
    ///
    /// Errors: as [`NumberDirectory::lookup`].
    pub async fn find(
        &self,
        client: &Client,
        to: &str,
        default: &NumberConfig,
    ) -> Result<Option<NumberConfig>, Error> {
        let cached = self.cache.lock().ok().and_then(|c| {
            c.get(to)
                .filter(|(at, _)| at.elapsed() < self.ttl)
                .map(|(_, v)| v.clone())
        });
        if let Some(found) = cached {
            return Ok(found);
        }
        let out = client
            .get_item()
            .table_name(&self.table)
            .key("e164", AttributeValue::S(to.to_owned()))
            .send()
            .await
            .map_err(Error::dynamo("GetItem numbers"))?;
        let found = out.item.map(|item| parse(to, &item, default)).transpose()?;
        if let Ok(mut c) = self.cache.lock() {
            c.insert(to.to_owned(), (Instant::now(), found.clone()));
        }
        Ok(found)
    }
}

fn parse(
    pk: &str,
    item: &HashMap<String, AttributeValue>,
    default: &NumberConfig,
) -> Result<NumberConfig, Error> {
    let text = |k: &str| {
        item.get(k)
            .and_then(|v| v.as_s().ok())
            .map(|s| s.trim().to_owned())
            .filter(|s| !s.is_empty())
    };
    let target = |k: &str, fallback: &Option<E164>| -> Result<Option<E164>, Error> {
        match text(k) {
            // Syntax only, on the call path; operators' writes get the full check.
            Some(v) => E164::parse_syntax(&v)
                .map(Some)
                .map_err(|e| Error::Corrupt {
                    pk: pk.to_owned(),
                    message: format!("{k}: {e}"),
                }),
            None => Ok(fallback.clone()),
        }
    };
    Ok(NumberConfig {
        business_name: text("business_name").unwrap_or_else(|| default.business_name.clone()),
        sales_target: target("sales_target", &default.sales_target)?,
        support_target: target("support_target", &default.support_target)?,
        language: text("language").unwrap_or_else(|| default.language.clone()),
        voicemail_topic_arn: text("voicemail_topic_arn"),
        sms_auto_reply: text("sms_auto_reply").or_else(|| default.sms_auto_reply.clone()),
        org_id: text("org_id").unwrap_or_else(|| default.org_id.clone()),
        hours: text("hours").and_then(|weekly| {
            let h = telephony_core::hours::parse(
                text("timezone").as_deref().unwrap_or("America/Toronto"),
                &weekly,
                text("holiday_region").as_deref(),
                text("closures").as_deref(),
            );
            // A bad stored value must not close a business: log it and stay open.
            h.map_err(|e| tracing::error!(number = %telephony_core::mask_phone(pk), error = %e, "bad business hours ignored"))
                .ok()
        }),
        after_hours_target: target("after_hours_target", &None)?,
        speech_input: flag(item, "speech_input", default.speech_input),
        missed_call_text: flag(item, "missed_call_text", default.missed_call_text),
        whatsapp_enabled: flag(item, "whatsapp_enabled", default.whatsapp_enabled),
        whatsapp_template_sid: text("whatsapp_template_sid")
            .or_else(|| default.whatsapp_template_sid.clone()),
        screening: {
            let set = |k: &str, d: ScreenSetting| {
                text(k).and_then(|v| ScreenSetting::parse(&v)).unwrap_or(d)
            };
            Screening {
                default: set("screening_default", default.screening.default),
                sales: set("screening_sales", ScreenSetting::Auto),
                support: set("screening_support", ScreenSetting::Auto),
                after_hours: set("screening_after_hours", ScreenSetting::Auto),
            }
        },
        robocall_gate: text("robocall_gate")
            .and_then(|v| RobocallGate::parse(&v))
            .unwrap_or(default.robocall_gate),
        ai: flag(item, "ai_enabled", false)
            .then(|| AiEngine::from_stored(text("ai_engine").as_deref(), text("ai_stream_url")))
            .flatten()
            .map(|engine| AiMode {
                engine,
                share_percent: text("ai_share")
                    .and_then(|v| v.parse::<u8>().ok())
                    .map_or(100, |p| p.min(100)),
                knowledge: text("ai_knowledge")
                    .map(|k| k.chars().take(telephony_core::stream::MAX_KNOWLEDGE_CHARS).collect()),
            }),
    })
}

/// A switch stored as a boolean, or as the `"true"`/`"false"` string the config route writes.
fn flag(item: &HashMap<String, AttributeValue>, k: &str, default: bool) -> bool {
    match item.get(k) {
        Some(AttributeValue::Bool(b)) => *b,
        Some(AttributeValue::S(v)) => v == "true",
        _ => default,
    }
}
