//! The form's fields and their checks (pure).

use serde::Deserialize;

/// The form's fields.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Submission {
    /// Sender's name.
    pub name: String,
    /// Sender's email.
    pub email: String,
    /// The message.
    pub message: String,
    /// Optional phone, E.164.
    pub phone: Option<String>,
}

/// Bidirectional-text controls that reorder what a reader sees (Unicode TR #9: embeddings and
/// overrides U+202A–U+202E, isolates U+2066–U+2069; "Trojan Source", CVE-2021-42574).
fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// 1–`max` characters, no bidi controls, and no control characters except, when `multiline`,
/// line breaks and tab (a CR or LF in a one-line field would forge mail header or notice lines;
/// issue 27 §7).
fn text_ok(s: &str, max: usize, multiline: bool) -> bool {
    let n = s.trim().chars().count();
    (1..=max).contains(&n)
        && s.chars().all(|c| {
            !is_bidi_control(c)
                && (!c.is_control() || (multiline && matches!(c, '\n' | '\r' | '\t')))
                && telephony_core::twiml::is_xml_char(c)
        })
}

/// Whether `email` is one plain deliverable address: accepted by an RFC 5322 parser (the
/// `email_address` crate, without display text or domain literals), then narrowed to a dot-atom
/// addr-spec with a dotted domain, no spaces, controls or bidi overrides, at most 254 characters
/// (RFC 5321 path limit). The mails themselves are built by SES v2's structured `Simple` content
/// (SES encodes the headers; nothing is concatenated into a raw message).
pub fn email_ok(email: &str) -> bool {
    let e = email.trim();
    // An RFC 5322 parser first (the `email_address` crate: no display text, no domain literal),
    // then our narrower rule below.
    let parsed = email_address::EmailAddress::parse_with_options(
        e,
        email_address::Options::default()
            .without_display_text()
            .without_domain_literal(),
    );
    if parsed.is_err() {
        return false;
    }
    let Some((local, domain)) = e.split_once('@') else {
        return false;
    };
    e.len() <= 254
        && !local.is_empty()
        && !domain.contains('@')
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !e.chars().any(|c| c.is_whitespace() || c.is_control() || is_bidi_control(c))
        // A single plain addr-spec (RFC 5322 §3.4.1, dot-atom form): no lists (`a,b@…`), no
        // display names or angle brackets (`<a@…>`), no quoted or commented parts.
        && !e.contains(['<', '>', ',', ';', '"', '(', ')', '[', ']', '\\', ':'])
        && !local.starts_with('.')
        && !local.ends_with('.')
        && !e.contains("..")
}

/// A phone number from the form: E.164 syntax ([`telephony_core::E164::parse_syntax`] tolerates
/// separators), and for North American
/// numbers (+1) the NANP plan — area code and exchange start with 2–9 and are not N11 service
/// codes. libphonenumber's full per-country check stays with the operator tools
/// (`numbering-plan`): its metadata would push this bootstrap over the 6 MB bar (issue 7).
pub fn phone(raw: &str) -> Option<String> {
    let n = telephony_core::E164::parse_syntax(raw).ok()?;
    n.check_dialable().ok()?;
    Some(n.as_str().to_owned())
}

impl Submission {
    /// Checks the fields (module docs); returns the phone in E.164 when given.
    ///
    /// Errors: a message naming the first bad field.
    pub fn check(&self) -> Result<Option<String>, String> {
        if !text_ok(&self.name, 100, false) {
            return Err("name must be 1-100 characters".into());
        }
        if !email_ok(&self.email) {
            return Err("email is not a valid address".into());
        }
        if !text_ok(&self.message, 5000, true) {
            return Err("message must be 1-5000 characters".into());
        }
        match self
            .phone
            .as_deref()
            .map(str::trim)
            .filter(|p| !p.is_empty())
        {
            None => Ok(None),
            Some(p) => phone(p)
                .map(Some)
                .ok_or_else(|| "phone must be a valid number in E.164 (+ and country code)".into()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form(name: &str, email: &str, message: &str, phone: Option<&str>) -> Submission {
        Submission {
            name: name.into(),
            email: email.into(),
            message: message.into(),
            phone: phone.map(Into::into),
        }
    }

    #[test]
    fn control_characters_bidi_overrides_and_address_lists_are_refused() {
        for (name, email, message) in [
            ("Sam\r\nBcc: victim@example.com", "s@example.com", "hi"),
            ("Sam\nSubject: x", "s@example.com", "hi"),
            ("Sam \u{202E}gnp.exe", "s@example.com", "hi"),
            ("Sam", "s@example.com", "hi \u{2066}x\u{2069}"),
            ("Sam", "s@example.com", "bell \u{7}"),
            ("Sam", "a,b@example.com", "hi"),
            ("Sam", "<a@example.com>", "hi"),
            ("Sam", "Sam <a@example.com>", "hi"),
            ("Sam", "\"a b\"@example.com", "hi"),
            ("Sam", "a@example.com\r\nBcc: b@example.com", "hi"),
            ("Sam", "a..b@example.com", "hi"),
        ] {
            assert!(
                form(name, email, message, None).check().is_err(),
                "{name:?} {email:?} {message:?}"
            );
        }
        // A message may have lines.
        assert!(
            form("Sam", "s@example.com", "line one\r\nline two\tend", None)
                .check()
                .is_ok()
        );
    }

    #[test]
    fn fields_are_checked_but_words_are_not_blocked() {
        let ok = form(
            "Sam",
            "sam@example.com",
            "select a plan, then delete my old account",
            None,
        );
        assert_eq!(ok.check(), Ok(None));
        assert_eq!(
            form("Sam", "sam@example.com", "hi", Some("+1 (403) 555-0123")).check(),
            Ok(Some("+14035550123".into()))
        );
        for bad in [
            form("", "sam@example.com", "hi", None),
            form("Sam", "sam.example.com", "hi", None),
            form("Sam", "sam@localhost", "hi", None),
            form("Sam", "s am@example.com", "hi", None),
            form("Sam", "sam@example.com", "", None),
            form("Sam", "sam@example.com", &"x".repeat(5001), None),
            form("Sam", "sam@example.com", "hi", Some("+1123")),
            form("Sam", "sam@example.com", "hi", Some("+1 (403) 155-0123")),
            form("Sam", "sam@example.com", "hi", Some("+1 911 555 0123")),
            form("Sam", "sam@example.com", "hi", Some("call me")),
        ] {
            assert!(bad.check().is_err(), "{bad:?}");
        }
    }
}
