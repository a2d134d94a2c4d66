//! Is a number a mobile (SIM) number of the org's country? Checked before a forwarding config is
//! stored and before a verification call is placed to it (issue 27 §4: toll fraud through
//! verification — `+882…` satellite numbers, `+12`, premium-rate or another country's numbers
//! must never be dialled on a tenant's say-so).
//!
//! Rules, by country (each country's national numbering plan; the Lambda bootstraps do not link
//! libphonenumber, so the mobile ranges are written out here):
//! - `CA`, `US` — NANP (NANPA, "NANP numbering resources"): `+1 NXX NXX XXXX`, N = 2–9, the area
//!   code not `N11`, not toll-free (800/833/…), and an area code of that country
//!   ([`telephony_core::area_codes::nanp_country`]). NANP numbers do not show whether they are
//!   mobile, so a geographic number of the country is accepted.
//! - `GB` — Ofcom's National Telephone Numbering Plan: mobiles are `07` + 9 digits, except
//!   `070` (personal numbering) and `076` (radiopaging, `07624` Isle of Man mobiles aside).
//! - `NG` — NCC's numbering plan: mobiles are `0` + 10 digits starting `70`, `80`, `81`, `90`, `91`.
//! - `TR` — BTK's numbering plan: mobiles are `05` + 9 digits.

use telephony_core::area_codes::{nanp_country, TOLL_FREE};
use telephony_core::E164;

/// Why a number is not a SIM of the country.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SimError {
    /// Another country's number (or not a number of any registry country).
    #[error("the SIM must be a mobile number of {country} (+{prefix}…)")]
    OtherCountry {
        /// The org's country.
        country: String,
        /// Its calling code.
        prefix: &'static str,
    },
    /// The country's code, but not a mobile number of it (length, range, toll-free).
    #[error("the SIM must be a mobile number of {0}; this one is not (wrong length, a toll-free, service or non-mobile range)")]
    NotMobile(String),
}

/// Checks that `sim` is a mobile number of `country` (ISO alpha-2, as in the registry).
///
/// Errors: [`SimError`].
pub fn check_sim(country: &str, sim: &E164) -> Result<(), SimError> {
    let (prefix, mobile): (&'static str, fn(&str) -> bool) = match country {
        "CA" | "US" => ("1", |_| true),
        "GB" => ("44", |n| {
            n.len() == 10
                && n.starts_with('7')
                && !n.starts_with("70")
                && (!n.starts_with("76") || n.starts_with("7624"))
        }),
        "NG" => ("234", |n| {
            n.len() == 10
                && ["70", "80", "81", "90", "91"]
                    .iter()
                    .any(|p| n.starts_with(p))
        }),
        "TR" => ("90", |n| n.len() == 10 && n.starts_with('5')),
        _ => {
            return Err(SimError::OtherCountry {
                country: country.to_owned(),
                prefix: "?",
            })
        }
    };
    let other = || SimError::OtherCountry {
        country: country.to_owned(),
        prefix,
    };
    let national = sim
        .as_str()
        .strip_prefix('+')
        .and_then(|d| d.strip_prefix(prefix))
        .ok_or_else(other)?;
    let not_mobile = || SimError::NotMobile(country.to_owned());
    if prefix == "1" {
        let d = national.as_bytes();
        let n_digit = |b: u8| (b'2'..=b'9').contains(&b);
        if d.len() != 10 || !n_digit(d[0]) || !n_digit(d[3]) || &national[1..3] == "11" {
            return Err(not_mobile());
        }
        let npa = &national[..3];
        if npa.parse::<u16>().is_ok_and(|c| TOLL_FREE.contains(&c)) {
            return Err(not_mobile());
        }
        return match nanp_country(npa) {
            Some(c) if c == country => Ok(()),
            _ => Err(other()),
        };
    }
    if mobile(national) {
        Ok(())
    } else {
        Err(not_mobile())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(country: &str, n: &str) -> Result<(), SimError> {
        check_sim(country, &E164::parse_syntax(n).unwrap())
    }

    #[test]
    fn mobiles_of_the_country_pass() {
        for (c, n) in [
            ("CA", "+14035550177"),
            ("CA", "+14165550123"),
            ("CA", "+18675550123"),
            ("US", "+12125550123"),
            ("GB", "+447700900123"),
            ("GB", "+447624123456"),
            ("NG", "+2348031234567"),
            ("NG", "+2347012345678"),
            ("TR", "+905321234567"),
        ] {
            assert_eq!(check(c, n), Ok(()), "{c} {n}");
        }
    }

    #[test]
    fn fraud_and_foreign_numbers_are_refused() {
        for (c, n) in [
            ("CA", "+12"),           // too short
            ("CA", "+882123456789"), // international networks (satellite)
            ("CA", "+12125550123"),  // a US number for a Canadian org
            ("US", "+14035550177"),  // and the other way round
            ("CA", "+18005550123"),  // toll-free
            ("US", "+18885550123"),
            ("CA", "+14115550123"),  // N11
            ("CA", "+14031550123"),  // exchange starting 1
            ("CA", "+18765550123"),  // Jamaica (NANP, not CA)
            ("CA", "+140355501771"), // 11 national digits
            ("GB", "+442079460958"), // London landline
            ("GB", "+447012345678"), // 070 personal numbering
            ("GB", "+447612345678"), // 076 pager
            ("GB", "+449012345678"), // premium rate
            ("NG", "+2341234567"),   // Lagos landline
            ("TR", "+902121234567"), // Istanbul landline
            ("XX", "+14035550177"),
        ] {
            assert!(check(c, n).is_err(), "{c} {n}");
        }
    }
}
