//! The full numbering-plan check of an E.164 number, with libphonenumber's metadata (the
//! `phonenumber` crate).
//!
//! The Lambda functions only check E.164 *syntax* ([`E164::parse_syntax`], ITU-T E.164); this
//! crate is what catches a number that is well formed but not a number of its country (`+1123`,
//! flaw F-41). It is kept out of every bootstrap on purpose: the metadata and the regex engine
//! behind it add ~2.3 MB to a binary and ~110 ms to the first check (issue 7: bootstraps ≤ 6 MB,
//! init ≤ 15 ms). It runs where operators write numbers: the operator tools and the local stack's
//! configuration check (`call-simulator check-config`).

use telephony_core::ids::{E164Error, E164};
use telephony_core::mask_phone;

/// Parses `raw` (which must carry its `+` and country code; group separators tolerated) and
/// checks it against its country's numbering plan.
///
/// Errors: [`E164Error::Invalid`] for anything [`E164::parse_syntax`] refuses (extensions,
/// letters, more than 15 digits) or that libphonenumber does not call a valid number of its
/// country.
pub fn parse(raw: &str) -> Result<E164, E164Error> {
    let n = E164::parse_syntax(raw)?;
    check(&n)?;
    Ok(n)
}

/// Whether libphonenumber calls `n` a valid number of its country (`+1123` is not). The first
/// call builds the metadata (~110 ms).
///
/// Errors: [`E164Error::Invalid`] with the number masked.
pub fn check(n: &E164) -> Result<(), E164Error> {
    let invalid = || E164Error::Invalid(mask_phone(n.as_str()));
    let number = phonenumber::parse(None, n.as_str()).map_err(|_| invalid())?;
    if phonenumber::is_valid(&number) {
        Ok(())
    } else {
        Err(invalid())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uses_real_numbering_plans() {
        assert_eq!(parse("+15877428885").unwrap().as_str(), "+15877428885");
        assert_eq!(
            parse(" +44 20 7946 0958 ").unwrap().as_str(),
            "+442079460958"
        );
        assert_eq!(parse("+1 (587) 742-8885").unwrap().as_str(), "+15877428885");
        for bad in [
            "+1123",
            "123",
            "5877428885",
            "+15551234567x12",
            "anonymous",
            "+266696687",
            "",
            "+15877428885 ext. 12",
            "+15877428885x12",
            "+15877428885;ext=12",
            "+1-800-FLOWERS",
            "+1587742888512",
            "+1234567890123456",
            "+0587742888",
            "++15877428885",
        ] {
            assert!(parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn syntax_alone_lets_through_what_the_plan_refuses() {
        let n = E164::parse_syntax("+1123").unwrap();
        assert!(check(&n).is_err());
        assert!(check(&E164::parse_syntax("+15877428885").unwrap()).is_ok());
    }

    proptest::proptest! {
        #[test]
        fn output_is_canonical_and_stable(raw in proptest::prelude::any::<String>()) {
            if let Ok(n) = parse(&raw) {
                let s = n.as_str();
                proptest::prop_assert!(s.starts_with('+') && s.len() <= 16 && s[1..].bytes().all(|b| b.is_ascii_digit()));
                let again = parse(s).unwrap();
                proptest::prop_assert_eq!(again.as_str(), s);
            }
        }

        #[test]
        fn never_accepts_letters_or_extensions(
            digits in "[2-9][0-9]{9}",
            tail in proptest::sample::select(vec![" ext. 12", "x12", ";ext=1", "#5", "A", " FLOWERS"]),
        ) {
            let raw = format!("+1{digits}{tail}");
            proptest::prop_assert!(parse(&raw).is_err(), "{}", raw);
        }
    }
}
