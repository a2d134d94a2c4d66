//! The hybrid-forwarding store (issue 11), table `FORWARDING_TABLE` (keys `pk`, `sk`). Every
//! tenant read and write goes through [`OrgStore`], built from the org of a verified token: its
//! keys always start `org#<that org>`, so no route can reach another org's items (one place,
//! tested). Items:
//! - `org#<org>` / `settings`: `country`, `version` (optimistic concurrency), `forwarding_e164`;
//! - `org#<org>` / `config#<id>`: a forwarding config (SIM, carrier, mode, ring time, codes,
//!   `state`: `pending` → `verifying` → `verified` | `unverified`, or `disabled`);
//! - `org#<org>` / `audit#<ms>#<n>`: what changed, who changed it;
//! - `sim#<e164>` / `sim`: the SIM's config (`org`, `config_id`, `state`), for the frontdoor,
//!   which has a Twilio request and no token.

use crate::error::Error;
use crate::item::{get_n, get_s, n, s};
use aws_sdk_dynamodb::types::AttributeValue;
use forwarding::ForwardingMode;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

type Item = HashMap<String, AttributeValue>;

/// Distinguishes audit items written in the same millisecond by one process.
static NONCE: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

/// A new config id: `fc_` and 24 hex digits (time and a process counter).
pub fn new_config_id(now_ms: u64) -> String {
    format!(
        "fc_{now_ms:012x}{:012x}",
        NONCE.fetch_add(1, std::sync::atomic::Ordering::Relaxed) ^ u64::from(std::process::id())
    )
}

/// Where a forwarding config stands: `pending` → `verifying` → `verified` | `unverified`;
/// `looping` when our own dial came back forwarded (issue 24 §3); `disabled` by the tenant.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ForwardingState {
    /// Created; the tenant has not asked for a check yet.
    #[default]
    Pending,
    /// A verification call is under way.
    Verifying,
    /// A verification call came back forwarded.
    Verified,
    /// The last check did not come back.
    Unverified,
    /// Our dial to the SIM came back forwarded to us.
    Looping,
    /// Disabled: it routes nothing.
    Disabled,
}

impl ForwardingState {
    /// Every state.
    pub const ALL: [Self; 6] = [
        Self::Pending,
        Self::Verifying,
        Self::Verified,
        Self::Unverified,
        Self::Looping,
        Self::Disabled,
    ];

    /// Wire form (the `state` attribute and the API's field).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Verifying => "verifying",
            Self::Verified => "verified",
            Self::Unverified => "unverified",
            Self::Looping => "looping",
            Self::Disabled => "disabled",
        }
    }

    /// From the wire form.
    pub fn parse(v: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == v)
    }
}

/// The stored state (an unknown or missing one reads as `pending`: it routes nothing).
fn state_of(item: &Item) -> ForwardingState {
    get_s(item, "state")
        .and_then(|v| ForwardingState::parse(&v))
        .unwrap_or_default()
}

/// The stored mode (a missing one reads as the safety net, the mode that takes fewer calls).
fn mode_of(item: &Item) -> ForwardingMode {
    get_s(item, "mode")
        .and_then(|v| ForwardingMode::parse(&v).ok())
        .unwrap_or_default()
}

/// A config as stored and shown.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ForwardingConfig {
    /// `fc_…`.
    pub id: String,
    /// The customer's own mobile number.
    pub sim_e164: String,
    /// Registry country and carrier.
    pub country: String,
    /// Carrier slug.
    pub carrier: String,
    /// `total_ai` | `safety_net`.
    pub mode: ForwardingMode,
    /// Seconds, when the carrier takes a timer.
    pub ring_time: Option<u64>,
    /// Our number the calls go to.
    pub destination: String,
    /// Where the config stands ([`ForwardingState`]).
    pub state: ForwardingState,
    /// Why `unverified` or `looping`.
    pub reason: Option<String>,
    /// Activation codes (JSON array text in the table).
    pub activation: Vec<String>,
    /// Deactivation codes for this mode.
    pub deactivation: Vec<String>,
    /// Status check codes, one per condition (JSON array text in the table; an item written
    /// before issue 22 holds one plain code).
    pub interrogation: Vec<String>,
    /// Clear-all code.
    pub clear_all: String,
    /// When the verification call was placed (Unix seconds).
    pub verify_started_at: Option<u64>,
    /// The condition the last verification call checks or checked (`no_answer`, `busy`,
    /// `not_reachable`, `unconditional`: `forwarding::Condition`'s wire form).
    pub verify_condition: Option<String>,
    /// The conditions a verification call has proven (a string set in the table), sorted.
    pub verified_conditions: Vec<String>,
    /// Who placed the last verification call: `tenant` (`POST …/verify`) or `monitor` (the
    /// 30-day re-verification, issue 24 §3).
    pub verify_origin: Option<String>,
    /// When a verification call last came back forwarded (Unix seconds).
    pub verified_at: Option<u64>,
    /// Unix seconds.
    pub created_at: u64,
}

fn list(item: &Item, k: &str) -> Vec<String> {
    get_s(item, k)
        .and_then(|v| serde_json::from_str(&v).ok())
        .unwrap_or_default()
}

impl ForwardingConfig {
    fn from_item(item: &Item) -> Option<Self> {
        Some(Self {
            id: get_s(item, "sk")?.strip_prefix("config#")?.to_owned(),
            sim_e164: get_s(item, "sim_e164")?,
            country: get_s(item, "country").unwrap_or_default(),
            carrier: get_s(item, "carrier").unwrap_or_default(),
            mode: mode_of(item),
            ring_time: get_n(item, "ring_time"),
            destination: get_s(item, "destination").unwrap_or_default(),
            state: state_of(item),
            reason: get_s(item, "reason"),
            activation: list(item, "activation"),
            deactivation: list(item, "deactivation"),
            interrogation: get_s(item, "interrogation")
                .map(|v| serde_json::from_str(&v).unwrap_or_else(|_| vec![v]))
                .unwrap_or_default(),
            clear_all: get_s(item, "clear_all").unwrap_or_default(),
            verify_started_at: get_n(item, "verify_started_at"),
            verify_condition: get_s(item, "verify_condition"),
            verify_origin: get_s(item, "verify_origin"),
            verified_at: get_n(item, "verified_at"),
            verified_conditions: {
                let mut v = item
                    .get("verified_conditions")
                    .and_then(|v| v.as_ss().ok())
                    .cloned()
                    .unwrap_or_default();
                v.sort();
                v
            },
            created_at: get_n(item, "created_at").unwrap_or(0),
        })
    }
}

/// The org's settings.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct OrgSettings {
    /// Selected country, if any.
    pub country: Option<String>,
    /// Version for `If-Match` (0 before the first change).
    pub version: u64,
    /// The org's forwarding number, once provisioned.
    pub forwarding_e164: Option<String>,
}

/// The outcome of a versioned change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Versioned {
    /// Stored; the new version.
    Changed(u64),
    /// The given version is not the stored one.
    Stale,
}

/// What the frontdoor finds for a `ForwardedFrom` number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SimRoute {
    /// The org.
    pub org: String,
    /// The config.
    pub config_id: String,
    /// Its state.
    pub state: ForwardingState,
    /// Its mode.
    pub mode: ForwardingMode,
    /// The org's forwarding number the config forwards to.
    pub destination: String,
}

/// The items of one org: every key is `org#<org>`.
#[derive(Debug, Clone, Copy)]
pub struct OrgStore<'a> {
    dynamo: &'a aws_sdk_dynamodb::Client,
    table: &'a str,
    org: &'a str,
}

impl<'a> OrgStore<'a> {
    /// The store of `org`, which must come from a verified token's org claim.
    pub fn new(dynamo: &'a aws_sdk_dynamodb::Client, table: &'a str, org: &'a str) -> Self {
        Self { dynamo, table, org }
    }

    /// The org this store is scoped to.
    pub fn org(&self) -> &str {
        self.org
    }

    fn pk(&self) -> String {
        format!("org#{}", self.org)
    }

    async fn get(&self, sk: &str) -> Result<Option<Item>, Error> {
        Ok(self
            .dynamo
            .get_item()
            .table_name(self.table)
            .key("pk", s(self.pk()))
            .key("sk", s(sk))
            .consistent_read(true)
            .send()
            .await
            .map_err(Error::dynamo("GetItem forwarding"))?
            .item)
    }

    /// The org's settings (defaults before the first change).
    ///
    /// Errors: [`Error::Dynamo`].
    pub async fn settings(&self) -> Result<OrgSettings, Error> {
        Ok(self
            .get("settings")
            .await?
            .map(|i| OrgSettings {
                country: get_s(&i, "country"),
                version: get_n(&i, "version").unwrap_or(0),
                forwarding_e164: get_s(&i, "forwarding_e164"),
            })
            .unwrap_or_default())
    }

    /// Sets the country if the stored version is `expected` (0: never set), bumping it, and
    /// writes the audit item. Setting the same country again is not a change.
    ///
    /// Errors: [`Error::Dynamo`].
    pub async fn set_country(
        &self,
        country: &str,
        expected: u64,
        principal: &str,
        now_ms: u64,
    ) -> Result<Versioned, Error> {
        let r = self
            .dynamo
            .update_item()
            .table_name(self.table)
            .key("pk", s(self.pk()))
            .key("sk", s("settings"))
            .update_expression(
                "SET country = :c, version = :next, updated_at = :now, updated_by = :p",
            )
            .condition_expression(
                "(attribute_not_exists(version) AND :expected = :zero) OR version = :expected",
            )
            .expression_attribute_values(":c", s(country))
            .expression_attribute_values(":next", n(expected + 1))
            .expression_attribute_values(":expected", n(expected))
            .expression_attribute_values(":zero", n(0))
            .expression_attribute_values(":now", n(now_ms / 1000))
            .expression_attribute_values(":p", s(principal))
            .send()
            .await;
        match r {
            Ok(_) => {
                self.audit("country", country, principal, now_ms).await?;
                Ok(Versioned::Changed(expected + 1))
            }
            Err(e) if crate::item::is_conditional(&e) => Ok(Versioned::Stale),
            Err(e) => Err(Error::dynamo("UpdateItem forwarding (country)")(e)),
        }
    }

    /// Records the org's forwarding number.
    ///
    /// Errors: [`Error::Dynamo`].
    pub async fn set_forwarding_number(&self, e164: &str) -> Result<(), Error> {
        self.dynamo
            .update_item()
            .table_name(self.table)
            .key("pk", s(self.pk()))
            .key("sk", s("settings"))
            .update_expression("SET forwarding_e164 = :e")
            .expression_attribute_values(":e", s(e164))
            .send()
            .await
            .map_err(Error::dynamo("UpdateItem forwarding (number)"))?;
        Ok(())
    }

    /// An audit item: what changed to what, by whom, when (ms).
    ///
    /// Errors: [`Error::Dynamo`].
    pub async fn audit(
        &self,
        what: &str,
        value: &str,
        principal: &str,
        now_ms: u64,
    ) -> Result<(), Error> {
        self.dynamo
            .put_item()
            .table_name(self.table)
            .item("pk", s(self.pk()))
            .item(
                "sk",
                s(format!(
                    "audit#{now_ms:013}#{}",
                    NONCE.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
                )),
            )
            .item("what", s(what))
            .item("value", s(value))
            .item("principal", s(principal))
            .item("at_ms", n(now_ms))
            .send()
            .await
            .map_err(Error::dynamo("PutItem forwarding (audit)"))?;
        Ok(())
    }

    /// Stores a new config after claiming its SIM: the `sim#<e164>` pointer is written only if
    /// no config (of any org) holds it (`attribute_not_exists`), so a SIM belongs to one config
    /// at a time (issue 27 §1). A SIM already held → [`SimClaim::InUse`], nothing written; the
    /// claim is given back when the config item cannot be written.
    ///
    /// Errors: [`Error::Dynamo`].
    pub async fn put_config(&self, c: &ForwardingConfig) -> Result<SimClaim, Error> {
        let claim = self
            .sim_put(c)
            .condition_expression("attribute_not_exists(pk)")
            .send()
            .await;
        match claim {
            Ok(_) => {}
            Err(e) if crate::item::is_conditional(&e) => return Ok(SimClaim::InUse),
            Err(e) => return Err(Error::dynamo("PutItem forwarding (sim claim)")(e)),
        }
        let mut put = self
            .dynamo
            .put_item()
            .table_name(self.table)
            .item("pk", s(self.pk()))
            .item("sk", s(format!("config#{}", c.id)))
            .item("sim_e164", s(&c.sim_e164))
            .item("country", s(&c.country))
            .item("carrier", s(&c.carrier))
            .item("mode", s(c.mode.as_str()))
            .item("destination", s(&c.destination))
            .item("state", s(c.state.as_str()))
            .item(
                "activation",
                s(serde_json::to_string(&c.activation).unwrap_or_default()),
            )
            .item(
                "deactivation",
                s(serde_json::to_string(&c.deactivation).unwrap_or_default()),
            )
            .item("clear_all", s(&c.clear_all))
            .item("created_at", n(c.created_at))
            .condition_expression("attribute_not_exists(sk)");
        if let Some(r) = c.ring_time {
            put = put.item("ring_time", n(r));
        }
        if !c.interrogation.is_empty() {
            put = put.item(
                "interrogation",
                s(serde_json::to_string(&c.interrogation).unwrap_or_default()),
            );
        }
        if let Err(e) = put.send().await {
            self.release_sim(c).await.ok();
            return Err(Error::dynamo("PutItem forwarding (config)")(e));
        }
        Ok(SimClaim::Claimed)
    }

    fn sim_put(
        &self,
        c: &ForwardingConfig,
    ) -> aws_sdk_dynamodb::operation::put_item::builders::PutItemFluentBuilder {
        self.dynamo
            .put_item()
            .table_name(self.table)
            .item("pk", s(format!("sim#{}", c.sim_e164)))
            .item("sk", s("sim"))
            .item("org", s(self.org))
            .item("config_id", s(&c.id))
            .item("state", s(c.state.as_str()))
            .item("mode", s(c.mode.as_str()))
            .item("destination", s(&c.destination))
    }

    /// Moves the SIM pointer to `c`'s state, only while `c` (this org, this config) holds it.
    async fn follow_sim(&self, c: &ForwardingConfig) -> Result<(), Error> {
        let r = self
            .dynamo
            .update_item()
            .table_name(self.table)
            .key("pk", s(format!("sim#{}", c.sim_e164)))
            .key("sk", s("sim"))
            .update_expression("SET #st = :s")
            .condition_expression("#org = :org AND config_id = :id")
            .expression_attribute_names("#st", "state")
            .expression_attribute_names("#org", "org")
            .expression_attribute_values(":s", s(c.state.as_str()))
            .expression_attribute_values(":org", s(self.org))
            .expression_attribute_values(":id", s(&c.id))
            .send()
            .await;
        match r {
            Ok(_) => Ok(()),
            Err(e) if crate::item::is_conditional(&e) => {
                tracing::warn!(config = %c.id, "SIM pointer held by another config; left alone");
                Ok(())
            }
            Err(e) => Err(Error::dynamo("UpdateItem forwarding (sim)")(e)),
        }
    }

    /// Frees the SIM's claim, only if `c` still holds it (a newer config's claim stays).
    async fn release_sim(&self, c: &ForwardingConfig) -> Result<(), Error> {
        let r = self
            .dynamo
            .delete_item()
            .table_name(self.table)
            .key("pk", s(format!("sim#{}", c.sim_e164)))
            .key("sk", s("sim"))
            .condition_expression("#org = :org AND config_id = :id")
            .expression_attribute_names("#org", "org")
            .expression_attribute_values(":org", s(self.org))
            .expression_attribute_values(":id", s(&c.id))
            .send()
            .await;
        match r {
            Ok(_) => Ok(()),
            Err(e) if crate::item::is_conditional(&e) => Ok(()),
            Err(e) => Err(Error::dynamo("DeleteItem forwarding (sim)")(e)),
        }
    }

    /// The org's config `id`; `None` when it has none (another org's id included).
    ///
    /// Errors: [`Error::Dynamo`].
    pub async fn config(&self, id: &str) -> Result<Option<ForwardingConfig>, Error> {
        Ok(self
            .get(&format!("config#{id}"))
            .await?
            .and_then(|i| ForwardingConfig::from_item(&i)))
    }

    /// The org's configs, newest first.
    ///
    /// Errors: [`Error::Dynamo`].
    pub async fn configs(&self) -> Result<Vec<ForwardingConfig>, Error> {
        let out = self
            .dynamo
            .query()
            .table_name(self.table)
            .key_condition_expression("pk = :pk AND begins_with(sk, :c)")
            .expression_attribute_values(":pk", s(self.pk()))
            .expression_attribute_values(":c", s("config#"))
            .consistent_read(true)
            .send()
            .await
            .map_err(Error::dynamo("Query forwarding (configs)"))?;
        let mut v: Vec<ForwardingConfig> = out
            .items()
            .iter()
            .filter_map(ForwardingConfig::from_item)
            .collect();
        v.sort_by_key(|c| std::cmp::Reverse(c.created_at));
        Ok(v)
    }

    /// Moves config `c` to `state` (with `reason`, and `verify_started_at` when given) if its
    /// stored state is still `c.state` (a conditional write: a stale request, e.g. a second
    /// DELETE or two verifications racing, changes nothing → [`Transition::Stale`]). The SIM's
    /// pointer follows while this config holds it; `disabled` frees the claim (issue 27 §1, §9).
    ///
    /// Errors: [`Error::Dynamo`].
    pub async fn set_state(
        &self,
        c: &ForwardingConfig,
        state: ForwardingState,
        reason: Option<&str>,
        verify_started_at: Option<u64>,
    ) -> Result<Transition, Error> {
        let mut extra = Vec::new();
        if let Some(t) = verify_started_at {
            extra.push(("verify_started_at", n(t)));
        }
        self.transition(c, state, reason, extra, Change::default())
            .await
    }

    /// Starts a verification of `condition` (issue 22 §1; the wire form of
    /// `forwarding::Condition`): `verifying` since `now` (Unix seconds), conditional on the
    /// stored state as [`OrgStore::set_state`].
    ///
    /// Errors: [`Error::Dynamo`].
    /// `origin` is `tenant` or `monitor`; `fresh` forgets the conditions proven before (a
    /// re-verification, or one after the config became `unverified` or `looping`: what was
    /// proven then no longer holds).
    pub async fn start_verification(
        &self,
        c: &ForwardingConfig,
        condition: &str,
        origin: &str,
        fresh: bool,
        now: u64,
    ) -> Result<Transition, Error> {
        let extra = vec![
            ("verify_started_at", n(now)),
            ("verify_condition", s(condition)),
            ("verify_origin", s(origin)),
        ];
        let forget = fresh.then_some("verified_conditions");
        let change = Change { add: None, forget };
        self.transition(c, ForwardingState::Verifying, None, extra, change)
            .await
    }

    /// Our test call came back forwarded: `verified`, and the condition it checked joins
    /// `verified_conditions` (a set: a repeated check adds nothing).
    ///
    /// Errors: [`Error::Dynamo`].
    pub async fn mark_verified(&self, c: &ForwardingConfig, now: u64) -> Result<Transition, Error> {
        let add = c
            .verify_condition
            .as_deref()
            .map(|v| ("verified_conditions", v));
        let extra = vec![("verified_at", n(now))];
        let change = Change { add, forget: None };
        self.transition(c, ForwardingState::Verified, None, extra, change)
            .await
    }

    async fn transition(
        &self,
        c: &ForwardingConfig,
        state: ForwardingState,
        reason: Option<&str>,
        extra: Vec<(&str, AttributeValue)>,
        change: Change<'_>,
    ) -> Result<Transition, Error> {
        let mut sets = vec!["#st = :s".to_owned()];
        let mut u = self
            .dynamo
            .update_item()
            .table_name(self.table)
            .key("pk", s(self.pk()))
            .key("sk", s(format!("config#{}", c.id)))
            .condition_expression("#st = :from")
            .expression_attribute_names("#st", "state")
            .expression_attribute_values(":s", s(state.as_str()))
            .expression_attribute_values(":from", s(c.state.as_str()));
        if let Some(r) = reason {
            sets.push("reason = :r".into());
            u = u.expression_attribute_values(":r", s(r));
        }
        for (i, (name, value)) in extra.into_iter().enumerate() {
            sets.push(format!("#x{i} = :x{i}"));
            u = u
                .expression_attribute_names(format!("#x{i}"), name)
                .expression_attribute_values(format!(":x{i}"), value);
        }
        let mut expr = format!("SET {}", sets.join(", "));
        if let Some((set, member)) = change.add {
            expr.push_str(" ADD #set :member");
            u = u
                .expression_attribute_names("#set", set)
                .expression_attribute_values(":member", AttributeValue::Ss(vec![member.into()]));
        }
        let mut removes: Vec<&str> = Vec::new();
        if reason.is_none() {
            removes.push("reason");
        }
        if let Some(attr) = change.forget {
            removes.push(attr);
        }
        if !removes.is_empty() {
            expr.push_str(&format!(" REMOVE {}", removes.join(", ")));
        }
        match u.update_expression(expr).send().await {
            Ok(_) => {}
            Err(e) if crate::item::is_conditional(&e) => return Ok(Transition::Stale),
            Err(e) => return Err(Error::dynamo("UpdateItem forwarding (state)")(e)),
        }
        let moved = ForwardingConfig { state, ..c.clone() };
        if state == ForwardingState::Disabled {
            self.release_sim(&moved).await?;
        } else {
            self.follow_sim(&moved).await?;
        }
        Ok(Transition::Moved)
    }
}

/// A set member to add and an attribute to remove with a state change.
#[derive(Debug, Clone, Copy, Default)]
struct Change<'a> {
    add: Option<(&'a str, &'a str)>,
    forget: Option<&'a str>,
}

/// The outcome of claiming a SIM for a new config.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SimClaim {
    /// The SIM was free: the config and its claim are stored.
    Claimed,
    /// Another config (this org's or another's) holds the SIM: nothing written.
    InUse,
}

/// The outcome of a state change conditional on the current state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transition {
    /// Moved.
    Moved,
    /// The config was no longer in the state the change started from: nothing changed.
    Stale,
}

/// The configs of `org` still forwarding to `e164` (not `disabled`): releasing that number is
/// refused while there are any (their SIMs would forward into a number we no longer hold).
///
/// Errors: [`Error::Dynamo`].
pub async fn active_configs_to(
    dynamo: &aws_sdk_dynamodb::Client,
    table: &str,
    org: &str,
    e164: &str,
) -> Result<Vec<ForwardingConfig>, Error> {
    let store = OrgStore::new(dynamo, table, org);
    if store.settings().await?.forwarding_e164.as_deref() != Some(e164) {
        return Ok(Vec::new());
    }
    Ok(store
        .configs()
        .await?
        .into_iter()
        .filter(|c| c.state != ForwardingState::Disabled && c.destination == e164)
        .collect())
}

/// The config a forwarded call's `ForwardedFrom` names, if any (the frontdoor's lookup).
///
/// Errors: [`Error::Dynamo`].
pub async fn sim_route(
    dynamo: &aws_sdk_dynamodb::Client,
    table: &str,
    sim: &str,
) -> Result<Option<SimRoute>, Error> {
    let out = dynamo
        .get_item()
        .table_name(table)
        .key("pk", s(format!("sim#{sim}")))
        .key("sk", s("sim"))
        .send()
        .await
        .map_err(Error::dynamo("GetItem forwarding (sim)"))?;
    Ok(out.item.and_then(|i| {
        Some(SimRoute {
            org: get_s(&i, "org")?,
            config_id: get_s(&i, "config_id")?,
            state: state_of(&i),
            mode: mode_of(&i),
            destination: get_s(&i, "destination").unwrap_or_default(),
        })
    }))
}

/// Every config that is `verified` or `verifying`, with its org: what the monitor's
/// re-verification pass reads (issue 24 §3). A filtered, paginated Scan: the forwarding table
/// holds one item per org setting, config and audit entry, is read by no call path, and the
/// filter keeps the answer to the configs that matter.
///
/// Errors: [`Error::Dynamo`].
pub async fn watched_configs(
    dynamo: &aws_sdk_dynamodb::Client,
    table: &str,
) -> Result<Vec<(String, ForwardingConfig)>, Error> {
    let mut out = Vec::new();
    let mut start: Option<Item> = None;
    loop {
        let page = dynamo
            .scan()
            .table_name(table)
            .filter_expression("begins_with(sk, :c) AND #st IN (:v, :vv)")
            .expression_attribute_names("#st", "state")
            .expression_attribute_values(":c", s("config#"))
            .expression_attribute_values(":v", s(ForwardingState::Verified.as_str()))
            .expression_attribute_values(":vv", s(ForwardingState::Verifying.as_str()))
            .set_exclusive_start_key(start.take())
            .send()
            .await
            .map_err(Error::dynamo("Scan forwarding (watched configs)"))?;
        for item in page.items() {
            let org = get_s(item, "pk").and_then(|p| p.strip_prefix("org#").map(str::to_owned));
            if let (Some(org), Some(c)) = (org, ForwardingConfig::from_item(item)) {
                out.push((org, c));
            }
        }
        match page.last_evaluated_key() {
            Some(k) if !k.is_empty() => start = Some(k.clone()),
            _ => return Ok(out),
        }
    }
}
