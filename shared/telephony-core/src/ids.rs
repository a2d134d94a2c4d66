//! Identifiers parsed once at the edge: `CallSid`, `RecordingSid`, `E164`.

use std::fmt;

/// A Twilio SID that does not have its documented shape.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{kind} must be {prefix} followed by 32 hex digits, got {len} characters")]
pub struct IdError {
    kind: &'static str,
    prefix: &'static str,
    len: usize,
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
                let ok = raw.len() == 34
                    && raw.starts_with($prefix)
                    && raw.as_bytes()[2..].iter().all(u8::is_ascii_hexdigit);
                if ok {
                    Ok(Self(raw.to_owned()))
                } else {
                    Err(IdError { kind: stringify!($name), prefix: $prefix, len: raw.len() })
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
        let ok = raw.len() == 34
            && (raw.starts_with("SM") || raw.starts_with("MM"))
            && raw.as_bytes()[2..].iter().all(u8::is_ascii_hexdigit);
        if ok {
            Ok(Self(raw.to_owned()))
        } else {
            Err(IdError {
                kind: "MessageSid",
                prefix: "SM or MM",
                len: raw.len(),
            })
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

/// A validated phone number in E.164 form (`+15877428885`), checked with libphonenumber's metadata
/// (the `phonenumber` crate), not a regex: `+1123` or extensions are refused (flaw F-41).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct E164(String);

impl E164 {
    /// Parses a number that must already carry its `+` and country code.
    ///
    /// Errors: [`E164Error::Invalid`] for anything libphonenumber does not call a valid number.
    pub fn parse(raw: &str) -> Result<Self, E164Error> {
        let trimmed = raw.trim();
        if !trimmed.starts_with('+') {
            return Err(E164Error::Invalid(mask_phone(trimmed)));
        }
        let number = phonenumber::parse(None, trimmed)
            .map_err(|_| E164Error::Invalid(mask_phone(trimmed)))?;
        if !phonenumber::is_valid(&number) {
            return Err(E164Error::Invalid(mask_phone(trimmed)));
        }
        Ok(Self(
            number.format().mode(phonenumber::Mode::E164).to_string(),
        ))
    }

    /// The number in E.164 form.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for E164 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Masks a phone number for logs (spec §2.7): the first five characters and the last four are kept,
/// `+15877428885` → `+1587***8885`. Anything shorter than ten characters, or not a `+` and digits,
/// becomes `***`, so a stray value never leaks whole.
pub fn mask_phone(raw: &str) -> String {
    let ok = raw.len() >= 10
        && raw.starts_with('+')
        && raw.as_bytes()[1..].iter().all(u8::is_ascii_digit);
    if ok {
        format!("{}***{}", &raw[..5], &raw[raw.len() - 4..])
    } else {
        "***".to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
    fn e164_uses_real_numbering_plans() {
        assert_eq!(
            E164::parse("+15877428885").unwrap().as_str(),
            "+15877428885"
        );
        assert_eq!(
            E164::parse(" +44 20 7946 0958 ").unwrap().as_str(),
            "+442079460958"
        );
        for bad in [
            "+1123",
            "123",
            "5877428885",
            "+15551234567x12",
            "anonymous",
            "+266696687",
            "",
        ] {
            assert!(E164::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn masking_keeps_prefix_and_last_four() {
        assert_eq!(mask_phone("+15877428885"), "+1587***8885");
        assert_eq!(mask_phone("anonymous"), "***");
        assert_eq!(mask_phone("+1234"), "***");
        assert_eq!(mask_phone("+1587742888<script>"), "***");
    }
}
