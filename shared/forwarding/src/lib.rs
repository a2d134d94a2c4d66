//! Hybrid call forwarding, pure (issue 11; spec `original-forwarding.md` §2, §10 C, §11): the
//! country and carrier registry and the codes a customer dials on their own handset to forward
//! calls to our number.
//!
//! The registry is data: `infra/forwarding/registry.toml` (versioned), compiled in and parsed
//! into types once ([`Registry::builtin`]). Every template is checked against the MMI grammar of
//! 3GPP TS 22.030 §6.5 (procedures `*` activate, `#` deactivate, `**` register, `##` erase, `*#`
//! interrogate; supplementary information `*DN*BS*T`; service codes 21 unconditional, 67 busy,
//! 61 no reply, 62 not reachable, 002 all, 004 all conditional; BS 11 telephony; the no-reply
//! timer T in 5–30 s steps of 5, TS 22.082), and each mode's meaning is checked too: total AI
//! must forward unconditionally, safety net must cover busy, no reply *and* not reachable (Glo's
//! busy-only code and the UK's not-reachable-only code were the original's bugs, §10 C 16–17),
//! and each mode's deactivation must erase what its activation set (§10 C 18). CDMA carriers use
//! their `*72`/`*71`/`*73` feature codes instead.

mod mmi;
pub mod sim;

use mmi::check_set;
use serde::Deserialize;
pub use sim::{check_sim, SimError};
use std::collections::BTreeMap;
use telephony_core::E164;

/// The registry file, compiled in.
pub const REGISTRY_TOML: &str = include_str!("../../../infra/forwarding/registry.toml");

/// A registry or input error.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ForwardingError {
    /// The registry file is malformed or breaks a rule (a build-time error: the tests load it).
    #[error("registry: {0}")]
    Registry(String),
    /// Not an active country of the registry.
    #[error("country {given} is not supported; supported: {supported}")]
    UnknownCountry {
        /// What was asked.
        given: String,
        /// The active countries, comma-separated.
        supported: String,
    },
    /// Not a carrier of that country.
    #[error("carrier {given} is not known in {country}; carriers: {supported}")]
    UnknownCarrier {
        /// What was asked.
        given: String,
        /// The country.
        country: String,
        /// Its carriers, comma-separated.
        supported: String,
    },
    /// A ring time outside 5, 10, …, 30.
    #[error("ring time {0} s: the network accepts 5, 10, 15, 20, 25 or 30 seconds")]
    RingTime(u32),
    /// A mode other than `total_ai` / `safety_net`.
    #[error("mode {0:?}: use total_ai or safety_net")]
    Mode(String),
    /// The destination cannot be written in the carrier's format.
    #[error("destination {0}: this carrier takes a ten-digit North American number")]
    Destination(String),
}

/// ISO 3166 alpha-2, upper case.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct CountryCode(String);

impl CountryCode {
    /// Two ASCII letters, case-insensitive.
    ///
    /// Errors: [`ForwardingError::UnknownCountry`] with an empty list (the caller adds it).
    pub fn parse(v: &str) -> Option<Self> {
        (v.len() == 2 && v.bytes().all(|b| b.is_ascii_alphabetic()))
            .then(|| Self(v.to_ascii_uppercase()))
    }

    /// `CA`, `US`…
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A carrier's slug: `[a-z0-9_]`, 1–32.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct CarrierSlug(String);

impl CarrierSlug {
    /// Case-insensitive (the PRD's promise the original did not keep).
    pub fn parse(v: &str) -> Option<Self> {
        let v = v.trim().to_ascii_lowercase();
        let ok = (1..=32).contains(&v.len())
            && v.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
        ok.then_some(Self(v))
    }

    /// The slug.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The no-reply timer: 5–30 seconds in steps of 5 (3GPP TS 22.082 §1.3.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct RingTime(u8);

impl RingTime {
    /// 25 s: long enough for the customer to answer, short enough to beat carrier voicemail.
    pub const DEFAULT: RingTime = RingTime(25);

    /// Errors: [`ForwardingError::RingTime`] for anything but 5, 10, 15, 20, 25, 30.
    pub fn new(seconds: u32) -> Result<Self, ForwardingError> {
        if (5..=30).contains(&seconds) && seconds.is_multiple_of(5) {
            Ok(Self(seconds as u8))
        } else {
            Err(ForwardingError::RingTime(seconds))
        }
    }

    /// Seconds.
    pub fn seconds(self) -> u8 {
        self.0
    }
}

/// How the customer's calls reach the AI (wire form `total_ai` / `safety_net`; a missing one
/// reads as the safety net, the mode that takes fewer calls).
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum ForwardingMode {
    /// Every call (unconditional forwarding): the phone does not ring.
    TotalAi,
    /// Only calls the customer does not take: busy, unanswered, unreachable.
    #[default]
    SafetyNet,
}

impl ForwardingMode {
    /// From `total_ai` / `safety_net`.
    ///
    /// Errors: [`ForwardingError::Mode`].
    pub fn parse(v: &str) -> Result<Self, ForwardingError> {
        match v {
            "total_ai" => Ok(Self::TotalAi),
            "safety_net" => Ok(Self::SafetyNet),
            other => Err(ForwardingError::Mode(other.chars().take(32).collect())),
        }
    }

    /// Wire form.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::TotalAi => "total_ai",
            Self::SafetyNet => "safety_net",
        }
    }
}

/// How a carrier's network takes forwarding codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    /// 3GPP MMI codes.
    Gsm,
    /// `*72`/`*71`/`*73` feature codes.
    Cdma,
}

/// How the destination is written in the code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum NumberFormat {
    /// `+` and country code.
    E164,
    /// Ten North American digits, no `+1`.
    National10,
}

/// A country of the registry.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Country {
    /// ISO code.
    pub code: String,
    /// English name.
    pub name: String,
    /// French name.
    pub name_fr: String,
    /// Where our forwarding number is bought.
    pub provisioning_country: String,
    /// Cost copy (an estimate, and says so), English and French.
    pub cost_estimate: String,
    /// See `cost_estimate`.
    pub cost_estimate_fr: String,
    /// Warning shown before activation.
    pub warning: String,
    /// See `warning`.
    pub warning_fr: String,
    /// Twilio needs an Address or regulatory bundle to buy a number there.
    pub needs_address: bool,
    /// Offered.
    pub active: bool,
}

/// A carrier of a country.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Carrier {
    /// Its country.
    pub country: String,
    /// Slug.
    pub slug: String,
    /// Display name (AT&T, T-Mobile, Türk Telekom…).
    pub name: String,
    /// GSM or CDMA.
    pub kind: Kind,
    /// How the destination is written.
    pub number_format: NumberFormat,
    /// The network takes a no-reply timer.
    pub no_reply_timer: bool,
    /// The code set it uses.
    pub codes: String,
    /// Shown with the instructions.
    #[serde(default)]
    pub notes: Option<String>,
    /// Where the codes and the number format come from (issue 22 §1): a URL, always.
    pub source: String,
    /// What `source` is.
    pub source_kind: SourceKind,
}

/// What a carrier's `source` is (issue 22 §1: the registry cites a source for every carrier).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SourceKind {
    /// The carrier's own support page.
    Carrier,
    /// A published account of the carrier's codes (its own page could not be read).
    Report,
    /// 3GPP TS 22.030: no page of the carrier could be read; its network's standard codes.
    Standard,
}

impl SourceKind {
    /// `carrier`, `report`, `standard`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Carrier => "carrier",
            Self::Report => "report",
            Self::Standard => "standard",
        }
    }
}

/// A forwarding condition a verification call can prove (issue 22 §1): the carrier forwards
/// our test call back only under the condition the tenant produces while it rings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Condition {
    /// Total AI: every call forwarded (21); the phone should not ring.
    Unconditional,
    /// Safety net, no reply (61): the tenant lets the test call ring out.
    NoAnswer,
    /// Safety net, busy (67): the tenant declines the test call (user-determined busy).
    Busy,
    /// Safety net, not reachable (62): the phone is off or in airplane mode.
    NotReachable,
}

impl Condition {
    /// `unconditional`, `no_answer`, `busy`, `not_reachable`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Unconditional => "unconditional",
            Self::NoAnswer => "no_answer",
            Self::Busy => "busy",
            Self::NotReachable => "not_reachable",
        }
    }

    /// The wire form back; `None` for anything else.
    pub fn parse(v: &str) -> Option<Self> {
        [
            Self::Unconditional,
            Self::NoAnswer,
            Self::Busy,
            Self::NotReachable,
        ]
        .into_iter()
        .find(|c| c.as_str() == v)
    }

    /// The conditions a mode forwards on, the default check first.
    pub fn of_mode(mode: ForwardingMode) -> &'static [Condition] {
        match mode {
            ForwardingMode::TotalAi => &[Self::Unconditional],
            ForwardingMode::SafetyNet => &[Self::NoAnswer, Self::Busy, Self::NotReachable],
        }
    }

    /// What the tenant does while our test call rings, in English or French.
    pub fn instructions(self, fr: bool) -> &'static str {
        match (self, fr) {
            (Self::Unconditional, false) => "We are calling your mobile now; with forwarding on, it will not ring.",
            (Self::Unconditional, true) => "Nous appelons votre cellulaire; avec le renvoi activé, il ne sonnera pas.",
            (Self::NoAnswer, false) => "We are calling your mobile now. Do not answer: let it ring until the call is forwarded back to us.",
            (Self::NoAnswer, true) => "Nous appelons votre cellulaire. Ne répondez pas : laissez sonner jusqu'à ce que l'appel nous soit renvoyé.",
            (Self::Busy, false) => "We are calling your mobile now. Decline the call with the red button: a declined call is forwarded as busy.",
            (Self::Busy, true) => "Nous appelons votre cellulaire. Refusez l'appel avec le bouton rouge : un appel refusé est renvoyé comme occupé.",
            (Self::NotReachable, false) => "We are calling your mobile now. It must be off or in airplane mode, so the call is forwarded as not reachable.",
            (Self::NotReachable, true) => "Nous appelons votre cellulaire. Il doit être éteint ou en mode avion, pour que l'appel soit renvoyé comme injoignable.",
        }
    }

    /// Why a check of this condition failed, when no forwarded call came within the timeout.
    pub fn failure(self) -> &'static str {
        match self {
            Self::Unconditional => "no forwarded call arrived within 90 s: check the code was accepted by your carrier",
            Self::NoAnswer => "no forwarded call arrived within 90 s: check the no-reply code was accepted, and do not answer the test call (safety net forwards only calls you do not take)",
            Self::Busy => "no forwarded call arrived within 90 s: check the busy code was accepted, and decline the test call",
            Self::NotReachable => "no forwarded call arrived within 90 s: check the not-reachable code was accepted, and turn the phone off before asking",
        }
    }
}

impl Carrier {
    /// `gsm` or `cdma`.
    pub fn kind_str(&self) -> &'static str {
        match self.kind {
            Kind::Gsm => "gsm",
            Kind::Cdma => "cdma",
        }
    }
}

/// A carrier's templates.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CodeSet {
    /// Activation of total AI (one or more codes, dialled in order).
    pub total_ai_on: Vec<String>,
    /// Its deactivation.
    pub total_ai_off: Vec<String>,
    /// Its status checks (`*#21#`), empty where the network has none (CDMA).
    #[serde(default)]
    pub total_ai_status: Vec<String>,
    /// Activation of safety net.
    pub safety_net_on: Vec<String>,
    /// Its deactivation.
    pub safety_net_off: Vec<String>,
    /// Its status checks, one per condition it registers (`*#67#`, `*#61#`, `*#62#`).
    #[serde(default)]
    pub safety_net_status: Vec<String>,
    /// Clears every forwarding.
    pub clear_all: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRegistry {
    version: u32,
    code_sets: BTreeMap<String, CodeSet>,
    countries: Vec<Country>,
    carriers: Vec<Carrier>,
}

/// The validated registry.
#[derive(Debug, Clone)]
pub struct Registry {
    /// The file's `version`.
    pub version: u32,
    /// Countries, in file order.
    pub countries: Vec<Country>,
    /// Carriers, in file order.
    pub carriers: Vec<Carrier>,
    code_sets: BTreeMap<String, CodeSet>,
}

/// The codes for one (carrier, mode, destination, ring time).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Codes {
    /// Dial these, in order, to turn forwarding on.
    pub activation: Vec<String>,
    /// Dial these to turn *this mode* off.
    pub deactivation: Vec<String>,
    /// Dial these to check the status, one per condition (empty when the network has none).
    pub interrogation: Vec<String>,
    /// Clears every forwarding on the line.
    pub clear_all: String,
    /// The ring time used (`None` when the carrier has no timer or the mode needs none).
    pub ring_time: Option<RingTime>,
}

// --- 3GPP TS 22.030 MMI grammar ------------------------------------------------------------

impl Registry {
    /// Parses and validates a registry document.
    ///
    /// Errors: [`ForwardingError::Registry`] naming the first problem.
    pub fn parse(text: &str) -> Result<Self, ForwardingError> {
        let bad = |m: String| ForwardingError::Registry(m);
        let raw: RawRegistry = toml::from_str(text).map_err(|e| bad(e.to_string()))?;
        let mut seen = std::collections::BTreeSet::new();
        for c in &raw.countries {
            if CountryCode::parse(&c.code).map(|cc| cc.0) != Some(c.code.clone())
                || CountryCode::parse(&c.provisioning_country).is_none()
            {
                return Err(bad(format!("country code {:?}", c.code)));
            }
            if !seen.insert(c.code.clone()) {
                return Err(bad(format!("country {} twice", c.code)));
            }
            if !c.cost_estimate.to_lowercase().contains("estimat")
                || !c.cost_estimate_fr.to_lowercase().contains("estimation")
            {
                return Err(bad(format!(
                    "{}: cost copy must say it is an estimate",
                    c.code
                )));
            }
        }
        let mut slugs = std::collections::BTreeSet::new();
        for k in &raw.carriers {
            if !seen.contains(&k.country) {
                return Err(bad(format!(
                    "carrier {} of unknown country {}",
                    k.slug, k.country
                )));
            }
            if CarrierSlug::parse(&k.slug).map(|s| s.0) != Some(k.slug.clone()) {
                return Err(bad(format!("carrier slug {:?}", k.slug)));
            }
            if !slugs.insert((k.country.clone(), k.slug.clone())) {
                return Err(bad(format!("carrier {}/{} twice", k.country, k.slug)));
            }
            if !(k.source.starts_with("https://") || k.source.starts_with("http://"))
                || k.source.contains(' ')
            {
                return Err(bad(format!(
                    "carrier {}: source must be the page's URL",
                    k.slug
                )));
            }
            let set = raw
                .code_sets
                .get(&k.codes)
                .ok_or_else(|| bad(format!("carrier {}: no code set {:?}", k.slug, k.codes)))?;
            check_set(&k.codes, set, k.kind, k.no_reply_timer)
                .map_err(|e| bad(format!("carrier {}/{}: {e}", k.country, k.slug)))?;
        }
        Ok(Self {
            version: raw.version,
            countries: raw.countries,
            carriers: raw.carriers,
            code_sets: raw.code_sets,
        })
    }

    /// The compiled-in registry, parsed once per process.
    ///
    /// Panics only if the compiled-in file is invalid, which the crate's tests rule out.
    pub fn builtin() -> &'static Registry {
        static R: std::sync::OnceLock<Registry> = std::sync::OnceLock::new();
        R.get_or_init(|| {
            Registry::parse(REGISTRY_TOML).expect("the registry file is validated by the tests")
        })
    }

    /// The active countries.
    pub fn active_countries(&self) -> impl Iterator<Item = &Country> {
        self.countries.iter().filter(|c| c.active)
    }

    /// An active country.
    ///
    /// Errors: [`ForwardingError::UnknownCountry`] naming the supported ones.
    pub fn country(&self, code: &str) -> Result<&Country, ForwardingError> {
        let cc = CountryCode::parse(code);
        self.active_countries()
            .find(|c| Some(c.code.as_str()) == cc.as_ref().map(CountryCode::as_str))
            .ok_or_else(|| ForwardingError::UnknownCountry {
                given: code.chars().take(8).collect(),
                supported: self
                    .active_countries()
                    .map(|c| c.code.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
            })
    }

    /// The carriers of a country.
    pub fn carriers_of<'a>(&'a self, country: &'a str) -> impl Iterator<Item = &'a Carrier> + 'a {
        self.carriers.iter().filter(move |k| k.country == country)
    }

    /// A carrier of an active country (slug case-insensitive).
    ///
    /// Errors: [`ForwardingError::UnknownCountry`] or [`ForwardingError::UnknownCarrier`].
    pub fn carrier(&self, country: &str, slug: &str) -> Result<&Carrier, ForwardingError> {
        let c = self.country(country)?;
        let s = CarrierSlug::parse(slug);
        self.carriers_of(&c.code)
            .find(|k| Some(k.slug.as_str()) == s.as_ref().map(CarrierSlug::as_str))
            .ok_or_else(|| ForwardingError::UnknownCarrier {
                given: slug.chars().take(32).collect(),
                country: c.code.clone(),
                supported: self
                    .carriers_of(&c.code)
                    .map(|k| k.slug.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
            })
    }

    /// The codes for `carrier` in `mode` forwarding to `destination`, with `ring_time` (default
    /// [`RingTime::DEFAULT`]) where the carrier and mode take one.
    ///
    /// Errors: [`ForwardingError::Destination`] when the carrier wants a ten-digit number and
    /// `destination` is not North American.
    pub fn codes(
        &self,
        carrier: &Carrier,
        mode: ForwardingMode,
        destination: &E164,
        ring_time: Option<RingTime>,
    ) -> Result<Codes, ForwardingError> {
        let set = &self.code_sets[&carrier.codes];
        let number = match carrier.number_format {
            NumberFormat::E164 => destination.as_str().to_owned(),
            NumberFormat::National10 => destination
                .as_str()
                .strip_prefix("+1")
                .filter(|n| n.len() == 10)
                .ok_or_else(|| ForwardingError::Destination(destination.as_str().to_owned()))?
                .to_owned(),
        };
        let (on, off, status) = match mode {
            ForwardingMode::TotalAi => (&set.total_ai_on, &set.total_ai_off, &set.total_ai_status),
            ForwardingMode::SafetyNet => (
                &set.safety_net_on,
                &set.safety_net_off,
                &set.safety_net_status,
            ),
        };
        let uses_timer = on.iter().any(|t| t.contains("{ring_time}"));
        let ring = uses_timer.then(|| ring_time.unwrap_or(RingTime::DEFAULT));
        let fill = |t: &String| {
            let t = t.replace("{number}", &number);
            match ring {
                Some(r) => t.replace("{ring_time}", &r.seconds().to_string()),
                None => t,
            }
        };
        Ok(Codes {
            activation: on.iter().map(fill).collect(),
            deactivation: off.clone(),
            interrogation: status.clone(),
            clear_all: set.clear_all.clone(),
            ring_time: ring,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dest() -> E164 {
        E164::parse_syntax("+15877428885").unwrap()
    }

    /// Golden codes for every carrier of the registry and both modes (destination
    /// +15877428885, ring time 20): the three conditions registered one by one, each with its
    /// status check, in the number format the carrier documents (issue 22 §1, §3).
    #[test]
    fn every_carrier_has_its_golden_codes() {
        let r = Registry::builtin();
        let separate = |n: &str| {
            (
                vec![format!("**21*{n}#")],
                vec!["##21#".to_owned()],
                vec![
                    format!("**67*{n}#"),
                    format!("**61*{n}*11*20#"),
                    format!("**62*{n}#"),
                ],
                vec!["##67#".to_owned(), "##61#".to_owned(), "##62#".to_owned()],
            )
        };
        let (e164, ten) = (separate("+15877428885"), separate("5877428885"));
        // Telus, Koodo, Vidéotron, Rogers, Fido and AT&T: single star, ten digits, no timer.
        let star = (
            vec!["*21*5877428885#".to_owned()],
            vec!["#21#".to_owned()],
            vec![
                "*67*5877428885#".to_owned(),
                "*61*5877428885#".to_owned(),
                "*62*5877428885#".to_owned(),
            ],
            vec!["#67#".to_owned(), "#61#".to_owned(), "#62#".to_owned()],
        );
        let verizon = (
            vec!["*725877428885".to_owned()],
            vec!["*73".to_owned()],
            vec!["*715877428885".to_owned()],
            vec!["*73".to_owned()],
        );
        let golden = [
            ("CA", "bell", &ten),
            ("CA", "virgin_plus", &ten),
            ("CA", "rogers", &star),
            ("CA", "fido", &star),
            ("CA", "telus", &star),
            ("CA", "koodo", &star),
            ("CA", "videotron", &star),
            ("CA", "freedom", &ten),
            ("US", "att", &star),
            ("US", "tmobile", &ten),
            ("US", "verizon", &verizon),
            ("GB", "ee", &e164),
            ("GB", "vodafone_uk", &e164),
            ("GB", "o2", &e164),
            ("GB", "three", &e164),
            ("NG", "mtn", &e164),
            ("NG", "glo", &e164),
            ("NG", "airtel_ng", &e164),
            ("NG", "9mobile", &e164),
            ("TR", "turkcell", &e164),
            ("TR", "vodafone_tr", &e164),
            ("TR", "turk_telekom", &e164),
        ];
        assert_eq!(golden.len(), r.carriers.len(), "a golden row per carrier");
        let t20 = RingTime::new(20).unwrap();
        for (cc, slug, (total_on, total_off, net_on, net_off)) in golden {
            // Described carriers of countries not yet available (GB) are golden-tested too.
            let k = r.carriers_of(cc).find(|k| k.slug == slug).unwrap();
            let ring = k.no_reply_timer.then_some(t20);
            let total = r.codes(k, ForwardingMode::TotalAi, &dest(), ring).unwrap();
            assert_eq!(total.activation, *total_on, "{cc}/{slug}");
            assert_eq!(total.deactivation, *total_off, "{cc}/{slug}");
            let net = r
                .codes(k, ForwardingMode::SafetyNet, &dest(), ring)
                .unwrap();
            assert_eq!(net.activation, *net_on, "{cc}/{slug}");
            assert_eq!(net.deactivation, *net_off, "{cc}/{slug}");
            let clear = if k.kind == Kind::Cdma {
                "*73"
            } else {
                "##002#"
            };
            assert_eq!(net.clear_all, clear);
            if k.kind == Kind::Gsm {
                assert_eq!(total.interrogation, ["*#21#"], "{cc}/{slug}");
                assert_eq!(
                    net.interrogation,
                    ["*#67#", "*#61#", "*#62#"],
                    "{cc}/{slug}"
                );
            }
            // A ring time only where the carrier has the setting.
            assert_eq!(net.ring_time, ring, "{cc}/{slug}");
            // No carrier relies on the combined 004 any more.
            assert!(!net.activation.iter().any(|c| c.contains("004")), "{slug}");
        }
    }

    #[test]
    fn the_original_code_flaws_are_corrected() {
        let r = Registry::builtin();
        // Glo: total AI is unconditional (21), not busy-only (67); safety net differs from it.
        let glo = r.carrier("NG", "GLO").unwrap();
        let total = r
            .codes(glo, ForwardingMode::TotalAi, &dest(), None)
            .unwrap();
        let net = r
            .codes(glo, ForwardingMode::SafetyNet, &dest(), None)
            .unwrap();
        assert_eq!(total.activation, ["**21*+15877428885#"]);
        assert_ne!(total.activation, net.activation);
        // Safety net's deactivation clears what it set, not the unconditional erase.
        let ee = r.carriers_of("GB").find(|k| k.slug == "ee").unwrap();
        let net = r
            .codes(ee, ForwardingMode::SafetyNet, &dest(), None)
            .unwrap();
        assert_eq!(net.deactivation, ["##67#", "##61#", "##62#"]);
        assert_eq!(
            net.activation[1], "**61*+15877428885*11*25#",
            "default 25 s"
        );
        // Ring time only in steps of 5 up to 30.
        for bad in [0, 3, 27, 35, 60] {
            assert_eq!(RingTime::new(bad), Err(ForwardingError::RingTime(bad)));
        }
        assert!(RingTime::new(30).is_ok());
        // Verizon takes ten digits; a non-NANP destination is refused, not mangled.
        let vz = r.carrier("US", "verizon").unwrap();
        let uk = E164::parse_syntax("+442071838750").unwrap();
        assert!(matches!(
            r.codes(vz, ForwardingMode::TotalAi, &uk, None),
            Err(ForwardingError::Destination(_))
        ));
    }

    #[test]
    fn unknown_countries_and_carriers_name_the_supported_ones() {
        let r = Registry::builtin();
        let e = r.country("FR").unwrap_err().to_string();
        assert_eq!(e, "country FR is not supported; supported: CA, US, NG, TR");
        // GB is described but not yet available (issue 22 §5).
        assert!(r.country("GB").is_err());
        let e = r.carrier("US", "sprint").unwrap_err().to_string();
        assert!(e.contains("att, tmobile, verizon"), "{e}");
        assert_eq!(
            r.carrier("us", "T-Mobile".replace('-', "").as_str())
                .unwrap()
                .name,
            "T-Mobile"
        );
    }

    fn with(set: &str) -> String {
        format!(
            r###"version = 1
[code_sets.x]
{set}
clear_all = "##002#"
[[countries]]
code = "CA"
name = "Canada"
name_fr = "Canada"
provisioning_country = "CA"
cost_estimate = "Estimate: local."
cost_estimate_fr = "Estimation : local."
warning = "w"
warning_fr = "w"
needs_address = false
active = true
[[carriers]]
country = "CA"
slug = "bell"
name = "Bell"
kind = "gsm"
number_format = "e164"
no_reply_timer = true
codes = "x"
source = "https://www.3gpp.org/DynaReport/22030.htm"
source_kind = "standard"
"###
        )
    }

    const GOOD: &str = r###"total_ai_on = ["**21*{number}#"]
total_ai_off = ["##21#"]
total_ai_status = ["*#21#"]
safety_net_on = ["**004*{number}*11*{ring_time}#"]
safety_net_off = ["##004#"]
safety_net_status = ["*#004#"]"###;

    #[test]
    fn a_bad_registry_is_refused_with_the_reason() {
        assert!(Registry::parse(&with(GOOD)).is_ok());
        let cases = [
            (GOOD.replace("**21*{number}#", "**21#"), "needs {number}"),
            (
                GOOD.replace("**21*{number}#", "**33*{number}#"),
                "unknown service code",
            ),
            (
                GOOD.replace("**21*{number}#", "**67*{number}#"),
                "unconditionally",
            ),
            (
                GOOD.replace("**004*{number}*11*{ring_time}#", "**62*{number}#"),
                "cover busy",
            ),
            (
                GOOD.replace("[\"##004#\"]", "[\"##21#\"]"),
                "nothing deactivates 004",
            ),
            (GOOD.replace("*11*{ring_time}#", "*11*27#"), "timer field"),
            (GOOD.replace("*11*", "*12*"), "basic service"),
            (
                GOOD.replace("**21*{number}#", "**21*{number}"),
                "ends with #",
            ),
            (
                GOOD.replace("[\"*#004#\"]", "[\"*#61#\"]"),
                "no status check for 004",
            ),
            (GOOD.replace("[\"*#21#\"]", "[]"), "no status check for 21"),
        ];
        for (set, why) in cases {
            let e = Registry::parse(&with(&set)).unwrap_err().to_string();
            assert!(e.contains(why), "{why}: {e}");
        }
        let e = Registry::parse(&with(GOOD).replace("Estimate: local.", "Local rate")).unwrap_err();
        assert!(e.to_string().contains("estimate"), "{e}");
        // Every carrier cites a source, as a URL (issue 22 §1).
        let cited = with(GOOD);
        let e =
            Registry::parse(&cited.replace("https://www.3gpp.org/DynaReport/22030.htm", "Bell"))
                .unwrap_err();
        assert!(
            e.to_string().contains("source must be the page's URL"),
            "{e}"
        );
        let e = Registry::parse(&cited.replace(
            "source = \"https://www.3gpp.org/DynaReport/22030.htm\"\n",
            "",
        ))
        .unwrap_err();
        assert!(e.to_string().contains("source"), "{e}");
    }

    #[test]
    fn the_builtin_registry_is_valid_and_versioned() {
        let r = Registry::parse(REGISTRY_TOML).unwrap();
        assert_eq!(r.version, 3);
        assert_eq!(r.countries.len(), 5);
        assert_eq!(r.carriers.len(), 22);
        // The five Canadian carriers the original lacked (issue 22 §2).
        for slug in ["freedom", "fido", "koodo", "virgin_plus", "videotron"] {
            assert!(r.carrier("CA", slug).is_ok(), "{slug}");
        }
        // Where a carrier page was read, the registry cites it as the carrier's; the rest cite
        // their report or the standard, and say so to the tenant.
        for slug in ["telus", "koodo", "videotron", "verizon", "tmobile"] {
            let k = r.carriers.iter().find(|k| k.slug == slug).unwrap();
            assert_eq!(k.source_kind, SourceKind::Carrier, "{slug}");
        }
        for k in &r.carriers {
            assert!(k.source.starts_with("http"), "{}", k.slug);
            if k.source_kind == SourceKind::Standard {
                assert!(k.source.contains("3gpp.org"), "{}", k.slug);
                assert!(
                    k.notes
                        .as_deref()
                        .is_some_and(|n| n.contains("call-forwarding settings")),
                    "{}",
                    k.slug
                );
            }
        }
        // Rogers, Telus and Koodo take ten digits (issue 22 §3).
        for slug in ["rogers", "telus", "koodo"] {
            let k = r.carrier("CA", slug).unwrap();
            assert_eq!(k.number_format, NumberFormat::National10, "{slug}");
        }
    }

    #[test]
    fn each_mode_has_the_conditions_a_call_can_prove() {
        assert_eq!(
            Condition::of_mode(ForwardingMode::TotalAi),
            [Condition::Unconditional]
        );
        let net = Condition::of_mode(ForwardingMode::SafetyNet);
        assert_eq!(net[0], Condition::NoAnswer, "the default check");
        assert!(net.contains(&Condition::Busy));
        for c in net {
            assert_eq!(Condition::parse(c.as_str()), Some(*c));
            assert_ne!(c.instructions(false), c.instructions(true));
        }
        assert!(Condition::Busy.instructions(false).contains("Decline"));
        assert!(Condition::Busy.instructions(true).contains("Refusez"));
        assert_eq!(Condition::parse("all"), None);
    }
}
