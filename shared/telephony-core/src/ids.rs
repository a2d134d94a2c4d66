//! Identifiers parsed once at the edge: `CallSid`, `RecordingSid`, `E164`.

use std::fmt;

/// A Twilio SID that does not have its documented shape.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{kind} must be {prefix} followed by 32 hex digits: {problem}")]
pub struct IdError {
    kind: &'static str,
    prefix: &'static str,
    problem: String,
}

impl IdError {
    /// What is wrong with `raw` as a SID with one of `prefixes`: the prefix (case included), the
    /// length, or a character that is not a hex digit.
    fn new(kind: &'static str, prefix: &'static str, prefixes: &[&str], raw: &str) -> Self {
        let problem = match raw.get(..2) {
            _ if raw.is_empty() => "it is empty".to_owned(),
            Some(p) if !prefixes.contains(&p) => {
                if prefixes.iter().any(|x| x.eq_ignore_ascii_case(p)) {
                    format!("the prefix {p:?} must be uppercase")
                } else {
                    format!("it starts with {p:?}")
                }
            }
            None => "it starts with an invalid prefix".to_owned(),
            Some(_) if raw.len() != 34 => format!("got {} characters, not 34", raw.len()),
            Some(_) => "it holds a character that is not a hex digit".to_owned(),
        };
        Self {
            kind,
            prefix,
            problem,
        }
    }
}

/// Whether `raw` is one of `prefixes` followed by 32 hex digits.
fn is_sid(raw: &str, prefixes: &[&str]) -> bool {
    raw.len() == 34
        && prefixes.iter().any(|p| raw.starts_with(p))
        && raw.as_bytes()[2..].iter().all(u8::is_ascii_hexdigit)
}

macro_rules! sid_type {
    ($(#[$doc:meta])* $name:ident, $prefix:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(String);

        impl $name {
            /// Parses a SID: the two-letter prefix, then 32 hex digits (Twilio API reference).
            ///
            /// Errors: [`IdError`] when the prefix, length or alphabet is wrong.
            pub fn parse(raw: &str) -> Result<Self, IdError> {
                if is_sid(raw, &[$prefix]) {
                    Ok(Self(raw.to_owned()))
                } else {
                    Err(IdError::new(stringify!($name), $prefix, &[$prefix], raw))
                }
            }

            /// The SID as Twilio sent it.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

sid_type!(
    /// A call's `CallSid` (`CA` + 32 hex digits): the natural key of a call record.
    CallSid,
    "CA"
);
sid_type!(
    /// A recording's `RecordingSid` (`RE` + 32 hex digits): the natural key of a recording record.
    RecordingSid,
    "RE"
);

/// A message's `MessageSid`: `SM` (SMS) or `MM` (MMS) + 32 hex digits; the natural key of a
/// message record.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct MessageSid(String);

impl MessageSid {
    /// Parses a MessageSid (Twilio Messages resource).
    ///
    /// Errors: [`IdError`] when the prefix, length or alphabet is wrong.
    pub fn parse(raw: &str) -> Result<Self, IdError> {
        if is_sid(raw, &["SM", "MM"]) {
            Ok(Self(raw.to_owned()))
        } else {
            Err(IdError::new("MessageSid", "SM or MM", &["SM", "MM"], raw))
        }
    }

    /// The SID as Twilio sent it.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for MessageSid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A phone number that failed E.164 validation.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum E164Error {
    /// Not `+` followed by digits, or not a number of any numbering plan.
    #[error("not a valid E.164 number: {0}")]
    Invalid(String),
}

/// A validated phone number in E.164 form (`+15877428885`, ITU-T E.164: a `+`, a country code
/// and at most 15 digits in all), checked with libphonenumber's metadata (the `phonenumber`
/// crate), not a regex: `+1123` is refused (flaw F-41).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct E164(String);

/// The digits of `raw` if it is written as an international number: optional surrounding
/// whitespace, `+`, then digits in which spaces, `-`, `.`, `(` and `)` may separate groups.
/// Anything else — extensions (`ext. 12`, `x12`, `;ext=`), vanity letters (`1-800-FLOWERS`),
/// pause characters — or more than 15 digits, or a leading 0, is refused.
fn e164_digits(raw: &str) -> Option<String> {
    let rest = raw.trim().strip_prefix('+')?;
    let mut digits = String::with_capacity(15);
    for c in rest.chars() {
        match c {
            '0'..='9' => digits.push(c),
            ' ' | '-' | '.' | '(' | ')' => {}
            _ => return None,
        }
    }
    let ok = (2..=15).contains(&digits.len()) && !digits.starts_with('0');
    ok.then_some(digits)
}

impl E164 {
    /// The E.164 syntax check (ITU-T E.164: `+`, a non-zero first digit, at most 15 digits;
    /// group separators — spaces, `-`, `.`, parentheses — tolerated and removed, extensions and
    /// letters refused); the result is `+` and digits. libphonenumber's numbering-plan check
    /// (`+1123` is well formed but no number) is the `numbering-plan` crate's, run where
    /// operators write numbers: its metadata would cost every bootstrap ~2.3 MB and ~110 ms.
    ///
    /// A number from a URL path segment (`/ops/numbers/%2B15875550100`): percent-decoded
    /// first (`+` often arrives as `%2B`), then [`E164::parse_syntax`].
    ///
    /// Errors: [`E164Error::Invalid`].
    pub fn parse_path_segment(raw: &str) -> Result<Self, E164Error> {
        Self::parse_syntax(&percent_encoding::percent_decode_str(raw).decode_utf8_lossy())
    }

    /// Errors: [`E164Error::Invalid`].
    pub fn parse_syntax(raw: &str) -> Result<Self, E164Error> {
        let digits = e164_digits(raw).ok_or_else(|| E164Error::Invalid(mask_phone(raw.trim())))?;
        Ok(Self(format!("+{digits}")))
    }

    /// The number in E.164 form.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether the number can be dialled, as far as a check without libphonenumber can tell
    /// (issue 22 §14: operators' targets, after-hours lines and contacts). North American (`+1`)
    /// numbers by the NANP rules (NANPA "NANP numbering resources"): 10 digits after the `1`, an
    /// area code `NXX` with N = 2–9 that is not an `N11` service code, and an exchange `NXX` with
    /// N = 2–9 that is not `N11`. Other countries: at least 8 digits in all (ITU-T E.164 numbers
    /// shorter than that are not subscriber numbers). The operator CLI also runs the full
    /// libphonenumber check (`shared/numbering-plan`), kept out of the bootstraps.
    ///
    /// Errors: [`E164Error::Invalid`] with the number masked and what is wrong.
    pub fn check_dialable(&self) -> Result<(), E164Error> {
        let d = &self.0.as_bytes()[1..];
        let bad = |why: &str| {
            Err(E164Error::Invalid(format!(
                "{} ({why})",
                mask_phone(&self.0)
            )))
        };
        if d.first() == Some(&b'1') {
            if d.len() != 11 {
                return bad("a North American number has 10 digits after +1");
            }
            let n11 = |x: &[u8]| x[1] == b'1' && x[2] == b'1';
            if !(b'2'..=b'9').contains(&d[1]) || n11(&d[1..4]) {
                return bad("no such area code");
            }
            if !(b'2'..=b'9').contains(&d[4]) || n11(&d[4..7]) {
                return bad("no such exchange");
            }
            return Ok(());
        }
        if d.len() < 8 {
            return bad("too short to be a subscriber number");
        }
        Ok(())
    }
}

impl fmt::Display for E164 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Masks a phone number for logs (spec §2.7, tightened by issue 27 §14): at most the country
/// calling code and the last four digits are shown, `+15877428885` → `+1***8885`,
/// `+447700900123` → `+44***0123`. Anything shorter than ten characters, or not a `+` and
/// digits, becomes `***`, so a stray value never leaks whole.
pub fn mask_phone(raw: &str) -> String {
    let ok = raw.len() >= 10
        && raw.starts_with('+')
        && raw.as_bytes()[1..].iter().all(u8::is_ascii_digit);
    if ok {
        let cc = country_code_len(&raw[1..]);
        format!("+{}***{}", &raw[1..1 + cc], &raw[raw.len() - 4..])
    } else {
        "***".to_owned()
    }
}

/// Digits of the E.164 country calling code `digits` starts with (ITU-T E.164 assigned codes:
/// zones 1 and 7 are one digit; the two-digit codes below; every other code has three).
fn country_code_len(digits: &str) -> usize {
    const TWO: [&str; 43] = [
        "20", "27", "30", "31", "32", "33", "34", "36", "39", "40", "41", "43", "44", "45", "46",
        "47", "48", "49", "51", "52", "53", "54", "55", "56", "57", "58", "60", "61", "62", "63",
        "64", "65", "66", "81", "82", "84", "86", "90", "91", "92", "93", "94", "95",
    ];
    if digits.starts_with(['1', '7']) {
        1
    } else if TWO.iter().any(|c| digits.starts_with(c)) || digits.starts_with("98") {
        2
    } else {
        3
    }
}

/// Checks an org id: 1–64 of `a-z`, `0-9` and `-` (the form onboarding assigns; it is a key
/// prefix in several tables, so nothing else is accepted anywhere an org is named).
///
/// Errors: the rule as a message.
pub fn check_org_id(org: &str) -> Result<(), String> {
    let ok = (1..=64).contains(&org.len())
        && org
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    if ok {
        Ok(())
    } else {
        Err("org_id must be 1-64 of a-z, 0-9 and -".into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dialable_numbers_follow_the_nanp_rules() {
        for ok in [
            "+14165550101",
            "+15877428885",
            "+18005550123",
            "+18765551234",
            "+442079460958",
            "+33142685300",
        ] {
            assert!(
                E164::parse_syntax(ok).unwrap().check_dialable().is_ok(),
                "{ok}"
            );
        }
        for bad in [
            "+1403555",
            "+140355501234",
            "+11235550100",
            "+14115550100",
            "+14031550100",
            "+14034110100",
            "+4420794",
        ] {
            let e = E164::parse_syntax(bad)
                .unwrap()
                .check_dialable()
                .unwrap_err()
                .to_string();
            assert!(!e.contains(&bad[4..]), "masked: {e}");
        }
    }

    #[test]
    fn call_sid_shape_is_enforced() {
        assert!(CallSid::parse("CA0123456789abcdef0123456789abcdef").is_ok());
        for bad in [
            "",
            "CA123",
            "RE0123456789abcdef0123456789abcdef",
            "CA0123456789abcdef0123456789abcdeg",
        ] {
            assert!(CallSid::parse(bad).is_err(), "{bad}");
        }
        assert!(RecordingSid::parse("RE0123456789abcdef0123456789abcdef").is_ok());
        assert!(MessageSid::parse("SM0123456789abcdef0123456789abcdef").is_ok());
        assert!(MessageSid::parse("MM0123456789abcdef0123456789abcdef").is_ok());
        assert!(MessageSid::parse("CA0123456789abcdef0123456789abcdef").is_err());
    }

    #[test]
    fn sid_errors_say_what_is_wrong() {
        let msg = |raw: &str| CallSid::parse(raw).unwrap_err().to_string();
        assert!(
            msg("ca0123456789abcdef0123456789abcdef").contains("prefix \"ca\" must be uppercase"),
            "{}",
            msg("ca0123456789abcdef0123456789abcdef")
        );
        assert!(msg("CA123").contains("got 5 characters, not 34"));
        assert!(msg("CA0123456789abcdef0123456789abcdeg").contains("not a hex digit"));
        assert!(msg("RE0123456789abcdef0123456789abcdef").contains("starts with \"RE\""));
        assert!(msg("").contains("empty"));
        assert!(msg("€").contains("invalid prefix"));
    }

    #[test]
    fn e164_syntax() {
        assert_eq!(E164::parse_syntax("+1123").unwrap().as_str(), "+1123");
        assert_eq!(
            E164::parse_syntax("+1 (587) 742-8885").unwrap().as_str(),
            "+15877428885"
        );
        for bad in [
            "123",
            "5877428885",
            "anonymous",
            "",
            "+15877428885 ext. 12",
            "+15877428885x12",
            "+15877428885;ext=12",
            "+1-800-FLOWERS",
            "+1234567890123456",
            "+0587742888",
            "++15877428885",
        ] {
            assert!(E164::parse_syntax(bad).is_err(), "{bad}");
        }
        assert!(E164::parse_syntax("+1 (587) 742-8885 x12").is_err());
        assert_eq!(
            E164::parse_syntax(" +44 20 7946 0958").unwrap().as_str(),
            "+442079460958"
        );
    }

    #[test]
    fn masking_keeps_prefix_and_last_four() {
        assert_eq!(mask_phone("+15877428885"), "+1***8885");
        assert_eq!(mask_phone("+447700900123"), "+44***0123");
        assert_eq!(mask_phone("+2348031234567"), "+234***4567");
        assert_eq!(mask_phone("anonymous"), "***");
        assert_eq!(mask_phone("+1234"), "***");
        assert_eq!(mask_phone("+1587742888<script>"), "***");
    }
}
