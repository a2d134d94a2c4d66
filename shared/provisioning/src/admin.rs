//! Numbers already onboarded (the ops routes other than onboarding): list, show, re-bind
//! webhooks at Twilio, change the configuration under optimistic concurrency, release.

use crate::outcome::{Done, Kind, Outcome, Refused};
use crate::plan::{check_business_name, check_language, check_target, webhook_fields};
use aws_sdk_dynamodb::types::AttributeValue;
use serde::Deserialize;
use telephony_aws::item::{n, s, Item};
use telephony_aws::Error;
use telephony_core::E164;
use twilio_api::numbers::NumberFields;

/// `PATCH /ops/numbers/{e164}/webhooks` body: only the given URLs change; none given re-applies
/// this stack's URLs for all four.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebhookChange {
    /// `VoiceUrl`.
    pub voice_url: Option<String>,
    /// `VoiceFallbackUrl`.
    pub voice_fallback_url: Option<String>,
    /// `StatusCallback`.
    pub status_callback: Option<String>,
    /// `SmsUrl`.
    pub sms_url: Option<String>,
}

impl WebhookChange {
    /// The Twilio fields to send: the given URLs (each must be `https://`, or `http://` for a
    /// local stack under `base`) with POST, or all of this stack's when none is given.
    ///
    /// Errors: a message naming a URL that is not http(s).
    pub fn fields(&self, base: &str) -> Result<NumberFields, String> {
        let given = [
            &self.voice_url,
            &self.voice_fallback_url,
            &self.status_callback,
            &self.sms_url,
        ];
        if given.iter().all(|u| u.is_none()) {
            return Ok(webhook_fields(base, None));
        }
        for u in given.into_iter().flatten() {
            if !(u.starts_with("https://") || u.starts_with("http://")) {
                return Err(format!("{u:?} is not an http(s) URL"));
            }
        }
        let post = |u: &Option<String>| u.as_ref().map(|_| "POST".to_owned());
        Ok(NumberFields {
            voice_url: self.voice_url.clone(),
            voice_method: post(&self.voice_url),
            voice_fallback_url: self.voice_fallback_url.clone(),
            voice_fallback_method: post(&self.voice_fallback_url),
            status_callback: self.status_callback.clone(),
            status_callback_method: post(&self.status_callback),
            sms_url: self.sms_url.clone(),
            sms_method: post(&self.sms_url),
            ..Default::default()
        })
    }
}

/// `PUT /ops/numbers/{e164}/config` body: the per-number settings the voice and SMS flows read.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConfigChange {
    /// Spoken in the greeting.
    pub business_name: Option<String>,
    /// Sales line, E.164.
    pub sales_target: Option<String>,
    /// Support line, E.164.
    pub support_target: Option<String>,
    /// `en-CA`, `en-US` or `fr-CA`.
    pub language: Option<String>,
    /// SMS auto-reply template (`{business}` is replaced).
    pub sms_auto_reply: Option<String>,
    /// Accept spoken answers at the consent question and the menu (stored `"true"`/`"false"`).
    pub speech_input: Option<bool>,
    /// IANA time zone of the hours (given with `hours`), e.g. `America/Edmonton`.
    pub timezone: Option<String>,
    /// Weekly hours ([`telephony_core::hours`] written form; `""` → always open).
    pub hours: Option<String>,
    /// Statutory holidays: `CA`, `CA-AB`, `CA-BC`, `CA-ON`, `CA-QC`, `US` (`""` → none).
    pub holiday_region: Option<String>,
    /// Closure dates, `YYYY-MM-DD,YYYY-MM-DD` (`""` → none).
    pub closures: Option<String>,
    /// E.164 rung outside hours after the closed message (`""` → voicemail).
    pub after_hours_target: Option<String>,
    /// Text callers whose call was missed (stored `"true"`/`"false"`).
    pub missed_call_text: Option<bool>,
    /// Reply to WhatsApp messages (stored `"true"`/`"false"`).
    pub whatsapp_enabled: Option<bool>,
    /// Approved WhatsApp template for outside the 24-hour window (`HX…`, `""` → none).
    pub whatsapp_template_sid: Option<String>,
    /// The AI receptionist (issue 12).
    pub ai: Option<AiChange>,
    /// The screened hand-off's switches (issue 24 §1).
    pub screening: Option<ScreeningChange>,
    /// The verified-caller gate, `off`, `unverified` or `failed-only` (issue 24 §2;
    /// [`telephony_core::gate::RobocallGate`]), stored as `robocall_gate`.
    pub robocall_gate: Option<String>,
}

/// `screening` of a config change: each `on`, `off` or `auto`
/// ([`telephony_core::screening::ScreenSetting`]), stored as `screening_default`,
/// `screening_sales`, `screening_support`, `screening_after_hours`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScreeningChange {
    /// For every target without its own setting.
    pub default: Option<String>,
    /// The Sales line.
    pub sales: Option<String>,
    /// The Support line.
    pub support: Option<String>,
    /// The after-hours line.
    pub after_hours: Option<String>,
}

/// `ai` of a config change: stored as `ai_enabled`, `ai_engine`, `ai_stream_url`, `ai_share`,
/// `ai_knowledge`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AiChange {
    /// Hand calls to the AI after consent (needs a stream URL, given now or before).
    pub enabled: Option<bool>,
    /// The bridge's `wss://` URL ([`telephony_core::stream::check_stream_url`]).
    pub stream_url: Option<String>,
    /// Percent of calls sent to the AI, 0–100 (default 100).
    pub share: Option<u8>,
    /// `relay` (the built-in receptionist, issue 28) or `stream` (an external bridge).
    pub engine: Option<String>,
    /// What the receptionist may tell callers (services, areas, prices), at most
    /// [`telephony_core::stream::MAX_KNOWLEDGE_CHARS`] characters; `""` clears it.
    pub knowledge: Option<String>,
}

impl ConfigChange {
    /// The attributes to set, validated (pure).
    ///
    /// Errors: a message naming the first bad field, or that nothing was given.
    pub fn attributes(&self) -> Result<Vec<(&'static str, String)>, String> {
        let mut out = Vec::new();
        if let Some(b) = &self.business_name {
            out.push(("business_name", check_business_name(b)?));
        }
        for (k, v) in [
            ("sales_target", &self.sales_target),
            ("support_target", &self.support_target),
        ] {
            if let Some(v) = v {
                out.push((k, check_target(k, v)?.as_str().to_owned()));
            }
        }
        if let Some(l) = &self.language {
            check_language(l)?;
            out.push(("language", l.clone()));
        }
        if let Some(t) = &self.sms_auto_reply {
            let xml_ok = t.chars().all(telephony_core::twiml::is_xml_char);
            if t.trim().is_empty() || !xml_ok || t.chars().count() > 320 {
                return Err("sms_auto_reply must be 1-320 characters XML can carry".into());
            }
            out.push(("sms_auto_reply", t.clone()));
        }
        if let Some(on) = self.speech_input {
            out.push(("speech_input", on.to_string()));
        }
        if let Some(on) = self.missed_call_text {
            out.push(("missed_call_text", on.to_string()));
        }
        if let Some(on) = self.whatsapp_enabled {
            out.push(("whatsapp_enabled", on.to_string()));
        }
        if let Some(t) = &self.whatsapp_template_sid {
            let ok = t.is_empty()
                || (t.len() == 34
                    && t.starts_with("HX")
                    && t[2..].bytes().all(|b| b.is_ascii_hexdigit()));
            if !ok {
                return Err("whatsapp_template_sid must be HX followed by 32 hex digits".into());
            }
            out.push(("whatsapp_template_sid", t.clone()));
        }
        if let Some(ai) = &self.ai {
            if let Some(url) = &ai.stream_url {
                telephony_core::stream::check_stream_url(url)?;
                out.push(("ai_stream_url", url.clone()));
            }
            if let Some(share) = ai.share {
                if share > 100 {
                    return Err("ai.share must be 0-100 (percent of calls)".into());
                }
                out.push(("ai_share", share.to_string()));
            }
            if let Some(engine) = &ai.engine {
                if !matches!(engine.as_str(), "relay" | "stream") {
                    return Err("ai.engine must be relay or stream".into());
                }
                out.push(("ai_engine", engine.clone()));
            }
            if let Some(k) = &ai.knowledge {
                let printable = k.chars().all(|c| {
                    c == '\n' || (!c.is_control() && telephony_core::twiml::is_xml_char(c))
                });
                if k.chars().count() > telephony_core::stream::MAX_KNOWLEDGE_CHARS || !printable {
                    return Err(format!(
                        "ai.knowledge must be at most {} printable characters",
                        telephony_core::stream::MAX_KNOWLEDGE_CHARS
                    ));
                }
                out.push(("ai_knowledge", k.clone()));
            }
            if let Some(on) = ai.enabled {
                out.push(("ai_enabled", on.to_string()));
            }
        }
        if let Some(sc) = &self.screening {
            for (k, v) in [
                ("screening_default", &sc.default),
                ("screening_sales", &sc.sales),
                ("screening_support", &sc.support),
                ("screening_after_hours", &sc.after_hours),
            ] {
                if let Some(v) = v {
                    if telephony_core::screening::ScreenSetting::parse(v).is_none() {
                        return Err(format!("screening.{} must be on, off or auto", &k[10..]));
                    }
                    out.push((k, v.clone()));
                }
            }
        }
        if let Some(g) = &self.robocall_gate {
            if telephony_core::gate::RobocallGate::parse(g).is_none() {
                return Err("robocall_gate must be off, unverified or failed-only".into());
            }
            out.push(("robocall_gate", g.clone()));
        }
        match (&self.timezone, &self.hours) {
            (Some(tz), Some(h)) => {
                if !h.trim().is_empty() {
                    telephony_core::hours::parse(tz, h, None, None)?;
                }
                out.push(("timezone", tz.clone()));
                out.push(("hours", h.clone()));
            }
            (None, None) => {}
            _ => return Err("timezone and hours are set together".into()),
        }
        if let Some(r) = &self.holiday_region {
            if !r.is_empty() && !telephony_core::hours::known_region(r) {
                return Err(format!(
                    "unknown holiday_region {r:?} (CA, CA-AB, CA-BC, CA-ON, CA-QC, US)"
                ));
            }
            out.push(("holiday_region", r.clone()));
        }
        if let Some(c) = &self.closures {
            telephony_core::hours::parse("Etc/UTC", "", None, Some(c))?;
            out.push(("closures", c.clone()));
        }
        if let Some(t) = &self.after_hours_target {
            let v = if t.is_empty() {
                String::new()
            } else {
                check_target("after_hours_target", t)?.as_str().to_owned()
            };
            out.push(("after_hours_target", v));
        }
        if out.is_empty() {
            return Err("nothing to change".into());
        }
        Ok(out)
    }
}

/// Reads and changes numbers already onboarded (the ops routes other than onboarding). Every
/// method gives an [`Outcome`]: the JSON view, or a typed refusal.
pub struct NumberAdmin<'a> {
    /// DynamoDB.
    pub dynamo: &'a aws_sdk_dynamodb::Client,
    /// Twilio.
    pub twilio: &'a twilio_api::Client,
    /// `numbers` table.
    pub numbers_table: &'a str,
    /// `PUBLIC_BASE_URL`.
    pub public_base_url: &'a str,
}

type Answer = Outcome;

fn fail(kind: Kind, code: &'static str, message: &str) -> Refused {
    Refused::new(kind, code, message)
}

impl NumberAdmin<'_> {
    fn ours(&self, n: &twilio_api::numbers::IncomingNumber) -> bool {
        let base = self.public_base_url.trim_end_matches('/');
        let under = |u: &Option<String>| u.as_deref().is_some_and(|u| u.starts_with(base));
        under(&n.voice_url) && under(&n.sms_url)
    }

    async fn item(&self, e164: &E164) -> Result<Option<Item>, Error> {
        Ok(self
            .dynamo
            .get_item()
            .table_name(self.numbers_table)
            .key("e164", s(e164.as_str()))
            .consistent_read(true)
            .send()
            .await
            .map_err(Error::dynamo("GetItem numbers"))?
            .item)
    }

    /// `GET /ops/numbers`: our items (a paginated scan of the small `numbers` table) merged with
    /// Twilio's list (all pages) by E.164.
    pub async fn list(&self) -> Answer {
        let items =
            match telephony_aws::item::scan_all(self.dynamo, self.numbers_table, "Scan numbers")
                .await
            {
                Ok(i) => i,
                Err(e) => return Err(fail(Kind::Unavailable, "store_unavailable", &e.to_string())),
            };
        let ours: std::collections::BTreeMap<String, serde_json::Value> = items
            .iter()
            .filter_map(|i| match i.get("e164") {
                Some(AttributeValue::S(n)) => Some((n.clone(), telephony_aws::item::item_json(i))),
                _ => None,
            })
            .collect();
        // The main account's numbers and those of every org subaccount our items name.
        let accounts: std::collections::BTreeSet<String> = ours
            .values()
            .filter_map(|c| {
                c.get("account_sid")
                    .and_then(|v| v.as_str())
                    .map(str::to_owned)
            })
            .collect();
        let mut at_twilio = Vec::new();
        for client in std::iter::once(self.twilio.clone())
            .chain(accounts.iter().map(|a| self.twilio.for_account(a)))
        {
            match client.list_numbers(None).await {
                Ok(l) => at_twilio.extend(l),
                Err(e) => return Err(fail(Kind::Upstream, "twilio_error", &e.to_string())),
            }
        }
        let mut rows = Vec::new();
        let mut seen = std::collections::BTreeSet::new();
        for n in &at_twilio {
            let Some(e) = n.phone_number.clone() else {
                continue;
            };
            seen.insert(e.clone());
            rows.push(serde_json::json!({
                "e164": e, "phone_sid": n.sid, "at_twilio": true,
                "in_table": ours.contains_key(&e), "webhooks_ok": self.ours(n),
                "voice_url": n.voice_url, "sms_url": n.sms_url, "config": ours.get(&e),
            }));
        }
        for (e, item) in &ours {
            if !seen.contains(e) {
                rows.push(serde_json::json!({
                    "e164": e, "at_twilio": false, "in_table": true, "webhooks_ok": false, "config": item,
                }));
            }
        }
        Ok(Done::Ok(
            serde_json::json!({ "count": rows.len(), "numbers": rows }),
        ))
    }

    /// `GET /ops/numbers/{e164}`.
    pub async fn show(&self, e164: &E164) -> Answer {
        let item = match self.item(e164).await {
            Ok(i) => i,
            Err(e) => return Err(fail(Kind::Unavailable, "store_unavailable", &e.to_string())),
        };
        let twilio = match self
            .client_for(item.as_ref())
            .find_number(e164.as_str())
            .await
        {
            Ok(t) => t,
            Err(e) => return Err(fail(Kind::Upstream, "twilio_error", &e.to_string())),
        };
        if item.is_none() && twilio.is_none() {
            return Err(fail(
                Kind::NotFound,
                "unknown_number",
                "not in the numbers table nor at Twilio",
            ));
        }
        let webhooks_ok = twilio.as_ref().is_some_and(|n| self.ours(n));
        Ok(Done::Ok(serde_json::json!({
            "e164": e164.as_str(),
            "config": item.as_ref().map(telephony_aws::item::item_json),
            "twilio": twilio.map(|n| serde_json::json!({
                "phone_sid": n.sid, "voice_url": n.voice_url, "voice_fallback_url": n.voice_fallback_url,
                "status_callback": n.status_callback, "sms_url": n.sms_url,
            })),
            "webhooks_ok": webhooks_ok,
        })))
    }

    /// The Twilio client for a number: its subaccount's when our item names one.
    fn client_for(&self, item: Option<&Item>) -> twilio_api::Client {
        match item
            .and_then(|i| i.get("account_sid"))
            .and_then(|v| v.as_s().ok())
        {
            Some(a) => self.twilio.for_account(a),
            None => self.twilio.clone(),
        }
    }

    /// The number's SID (ours, else Twilio's by E.164) and the client of its account.
    async fn phone_sid(
        &self,
        e164: &E164,
    ) -> Result<(Option<String>, twilio_api::Client), Refused> {
        let item = self
            .item(e164)
            .await
            .map_err(|e| fail(Kind::Unavailable, "store_unavailable", &e.to_string()))?;
        let twilio = self.client_for(item.as_ref());
        if let Some(sid) = item
            .as_ref()
            .and_then(|i| i.get("phone_sid"))
            .and_then(|v| v.as_s().ok())
        {
            return Ok((Some(sid.clone()), twilio));
        }
        let sid = twilio
            .find_number(e164.as_str())
            .await
            .map(|n| n.and_then(|n| n.sid))
            .map_err(|e| fail(Kind::Upstream, "twilio_error", &e.to_string()))?;
        Ok((sid, twilio))
    }

    /// `PATCH /ops/numbers/{e164}/webhooks`: only the given fields are sent to Twilio.
    pub async fn set_webhooks(&self, e164: &E164, change: &WebhookChange) -> Answer {
        let fields = match change.fields(self.public_base_url) {
            Ok(f) => f,
            Err(m) => return Err(fail(Kind::Invalid, "invalid", &m)),
        };
        let (sid, twilio) = match self.phone_sid(e164).await {
            Ok((Some(s), twilio)) => (s, twilio),
            Ok((None, _)) => {
                return Err(fail(Kind::NotFound, "unknown_number", "not ours at Twilio"))
            }
            Err(a) => return Err(a),
        };
        match twilio.update_number(&sid, &fields).await {
            Ok(n) => Ok(Done::Ok(serde_json::json!({
                "e164": e164.as_str(), "phone_sid": sid,
                "sent": fields.form().iter().map(|(k, _)| *k).collect::<Vec<_>>(),
                "voice_url": n.voice_url, "sms_url": n.sms_url,
            }))),
            Err(e) => Err(fail(Kind::Upstream, "twilio_error", &e.to_string())),
        }
    }

    /// `PUT /ops/numbers/{e164}/config` with `If-Match: <version>`: a conditional update that
    /// bumps `version`.
    pub async fn set_config(
        &self,
        e164: &E164,
        change: &ConfigChange,
        if_match: Option<&str>,
        principal: &str,
        now: u64,
    ) -> Answer {
        let Some(expected) = if_match else {
            return Err(fail(
                Kind::PreconditionRequired,
                "if_match_required",
                "send If-Match with the item's version (GET it first)",
            ));
        };
        let Ok(expected) = expected.parse::<u64>() else {
            return Err(fail(
                Kind::Invalid,
                "bad_if_match",
                "If-Match must be the item's numeric version",
            ));
        };
        let attrs = match change.attributes() {
            Ok(a) => a,
            Err(m) => return Err(fail(Kind::Invalid, "invalid", &m)),
        };
        let mut expr = String::from("SET version = :next, updated_at = :now, updated_by = :by");
        let mut u = self
            .dynamo
            .update_item()
            .table_name(self.numbers_table)
            .key("e164", s(e164.as_str()))
            .condition_expression("attribute_exists(e164) AND version = :expected")
            .expression_attribute_values(":expected", n(expected))
            .expression_attribute_values(":next", n(expected + 1))
            .expression_attribute_values(":now", n(now))
            .expression_attribute_values(":by", s(principal));
        for (i, (k, v)) in attrs.iter().enumerate() {
            expr.push_str(&format!(", #a{i} = :v{i}"));
            u = u
                .expression_attribute_names(format!("#a{i}"), *k)
                .expression_attribute_values(format!(":v{i}"), s(v));
        }
        match u.update_expression(expr).send().await {
            Ok(_) => Ok(Done::Ok(
                serde_json::json!({ "e164": e164.as_str(), "version": expected + 1 }),
            )),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|x| x.is_conditional_check_failed_exception()) =>
            {
                match self.item(e164).await {
                    Ok(None) => Err(fail(
                        Kind::NotFound,
                        "unknown_number",
                        "not in the numbers table",
                    )),
                    _ => Err(fail(
                        Kind::Conflict,
                        "version_mismatch",
                        "the item changed since that version; GET it again",
                    )),
                }
            }
            Err(e) => Err(fail(
                Kind::Unavailable,
                "store_unavailable",
                &Error::dynamo("UpdateItem numbers")(e).to_string(),
            )),
        }
    }

    /// `DELETE /ops/numbers/{e164}`: release at Twilio (a number already gone counts as
    /// released), then delete our item. Safe to retry at any point.
    pub async fn release(&self, e164: &E164) -> Answer {
        let (sid, twilio) = match self.phone_sid(e164).await {
            Ok(found) => found,
            Err(a) => return Err(a),
        };
        if let Some(sid) = &sid {
            if let Err(e) = twilio.release_number(sid).await {
                return Err(fail(Kind::Upstream, "twilio_error", &e.to_string()));
            }
        }
        if let Err(e) = self
            .dynamo
            .delete_item()
            .table_name(self.numbers_table)
            .key("e164", s(e164.as_str()))
            .send()
            .await
        {
            return Err(fail(
                Kind::Unavailable,
                "store_unavailable",
                &Error::dynamo("DeleteItem numbers")(e).to_string(),
            ));
        }
        Ok(Done::Ok(
            serde_json::json!({ "e164": e164.as_str(), "released": sid.is_some(), "phone_sid": sid }),
        ))
    }
}

#[cfg(test)]
#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn undialable_targets_are_refused_naming_the_field() {
        for (field, change) in [
            (
                "sales_target",
                ConfigChange {
                    sales_target: Some("+1403555".into()),
                    ..Default::default()
                },
            ),
            (
                "support_target",
                ConfigChange {
                    support_target: Some("+11235550100".into()),
                    ..Default::default()
                },
            ),
            (
                "after_hours_target",
                ConfigChange {
                    after_hours_target: Some("+14034110100".into()),
                    ..Default::default()
                },
            ),
        ] {
            let e = change.attributes().unwrap_err();
            assert!(e.starts_with(field), "{e}");
        }
        let ok = ConfigChange {
            sales_target: Some("+14035550123".into()),
            ..Default::default()
        };
        assert!(ok.attributes().is_ok());
    }

    #[test]
    fn the_ai_settings_are_checked_and_stored_flat() {
        let change: ConfigChange = serde_json::from_str(
            r#"{"ai": {"enabled": true, "stream_url": "wss://bridge.example/media", "share": 25}}"#,
        )
        .unwrap();
        assert_eq!(
            change.attributes().unwrap(),
            vec![
                ("ai_stream_url", "wss://bridge.example/media".to_owned()),
                ("ai_share", "25".to_owned()),
                ("ai_enabled", "true".to_owned()),
            ]
        );
        for (body, what) in [
            (
                r#"{"ai": {"stream_url": "https://bridge.example"}}"#,
                "wss://",
            ),
            (
                r#"{"ai": {"stream_url": "ws://bridge.example/m"}}"#,
                "this machine",
            ),
            (r#"{"ai": {"share": 101}}"#, "ai.share"),
        ] {
            let c: ConfigChange = serde_json::from_str(body).unwrap();
            let e = c.attributes().unwrap_err();
            assert!(e.contains(what), "{body}: {e}");
        }
        assert!(serde_json::from_str::<ConfigChange>(r#"{"ai": {"url": "wss://x"}}"#).is_err());
    }

    #[test]
    fn the_caller_protection_switches_are_checked_and_stored_flat() {
        let change: ConfigChange = serde_json::from_str(
            r#"{"screening": {"default": "off", "sales": "on"}, "robocall_gate": "unverified"}"#,
        )
        .unwrap();
        assert_eq!(
            change.attributes().unwrap(),
            vec![
                ("screening_default", "off".to_owned()),
                ("screening_sales", "on".to_owned()),
                ("robocall_gate", "unverified".to_owned()),
            ]
        );
        for (body, what) in [
            (r#"{"screening": {"support": "yes"}}"#, "screening.support"),
            (r#"{"robocall_gate": "strict"}"#, "robocall_gate"),
        ] {
            let c: ConfigChange = serde_json::from_str(body).unwrap();
            let e = c.attributes().unwrap_err();
            assert!(e.contains(what), "{body}: {e}");
        }
        assert!(serde_json::from_str::<ConfigChange>(r#"{"screening": {"ai": "on"}}"#).is_err());
    }
}
