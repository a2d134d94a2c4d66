//! Twilio request validation: `X-Twilio-Signature` (spec §2.1, Twilio "Webhooks security").
//!
//! `signature = base64(HMAC-SHA1(auth_token, url + Σ name + value))`, where the names are sorted by
//! byte order and, for a repeated name, its values are de-duplicated and sorted, each appended as
//! `name + value`. The URL is the public URL Twilio called, with its raw query string. Twilio may
//! sign with or without the default port (`:443`/`:80`), so both forms are tried. For a JSON body
//! the form part is empty and the query carries `bodySHA256` = hex SHA-256 of the raw body; both
//! are checked. Every comparison is constant-time (`subtle`).

use base64::Engine as _;
use hmac::{Hmac, Mac};
use sha1::Sha1;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// Why a request's signature was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    /// No (or an empty) `X-Twilio-Signature` header: answer 401.
    #[error("missing X-Twilio-Signature header")]
    Missing,
    /// The header does not match any accepted token and URL form: answer 403.
    #[error("invalid Twilio signature")]
    Invalid,
    /// JSON body whose SHA-256 differs from the `bodySHA256` query value (or none given): 403.
    #[error("bodySHA256 missing or not matching the body")]
    BodyHash,
}

impl SignatureError {
    /// The HTTP status this refusal is answered with (spec §2.1: missing → 401, bad → 403).
    pub fn http_status(self) -> u16 {
        match self {
            SignatureError::Missing => 401,
            SignatureError::Invalid | SignatureError::BodyHash => 403,
        }
    }
}

/// What a request offers for validation.
#[derive(Debug, Clone, Copy)]
pub enum SignedBody<'a> {
    /// `application/x-www-form-urlencoded`: the decoded pairs, repeats kept, in any order.
    Form(&'a [(String, String)]),
    /// The same, borrowed (e.g. from [`crate::Params::pairs`]).
    Pairs(&'a [(&'a str, &'a str)]),
    /// Any JSON body: the raw bytes, checked against the URL's `bodySHA256`.
    Json(&'a [u8]),
}

/// Computes the expected signature (base64, 28 characters) of `url` and `params` under `token`.
pub fn compute(token: &str, url: &str, params: &[(String, String)]) -> String {
    let data = SignedData::new(params.iter().map(|(k, v)| (k.as_str(), v.as_str())));
    base64::engine::general_purpose::STANDARD.encode(data.mac(&keyed(token), url))
}

/// The HMAC-SHA1 keyed with `token` (any key length is accepted by HMAC, RFC 2104 §2).
fn keyed(token: &str) -> Hmac<Sha1> {
    <Hmac<Sha1> as Mac>::new_from_slice(token.as_bytes())
        .unwrap_or_else(|_| unreachable!("HMAC accepts keys of any length"))
}

/// The form part of the signed data, built once per request: names sorted by byte order, each
/// repeated name's values de-duplicated and sorted, concatenated as `name + value`.
struct SignedData<'a> {
    sorted: Vec<(&'a str, &'a str)>,
}

impl<'a> SignedData<'a> {
    fn new(params: impl Iterator<Item = (&'a str, &'a str)>) -> Self {
        let mut sorted: Vec<(&str, &str)> = params.collect();
        // Sort by name then value (byte order) and drop exact repeats: this is Twilio's
        // "values de-duplicated and sorted per name" rule.
        sorted.sort_unstable();
        sorted.dedup();
        Self { sorted }
    }

    /// The raw 20-byte MAC of `url` + the sorted pairs, from an already keyed HMAC.
    fn mac(&self, key: &Hmac<Sha1>, url: &str) -> [u8; 20] {
        let mut mac = key.clone();
        mac.update(url.as_bytes());
        for (k, v) in &self.sorted {
            mac.update(k.as_bytes());
            mac.update(v.as_bytes());
        }
        mac.finalize().into_bytes().into()
    }
}

/// Validates a Twilio request.
///
/// - `tokens`: the primary auth token, then any secondary token accepted during rotation
///   (empty tokens are ignored);
/// - `url`: the public URL Twilio called (`PUBLIC_BASE_URL` + path + `?` + raw query);
/// - `header`: the `X-Twilio-Signature` value, if any.
///
/// Errors: [`SignatureError::Missing`] (401), [`SignatureError::Invalid`] and
/// [`SignatureError::BodyHash`] (403).
pub fn verify(
    tokens: &[&str],
    url: &str,
    body: SignedBody<'_>,
    header: Option<&str>,
) -> Result<(), SignatureError> {
    verify_any(tokens, &[url], body, header)
}

/// Like [`verify`], but the request may have been signed for any of `urls` (tried in order, each
/// also with its default port added or removed). Used where Twilio may or may not include a
/// connection-override fragment in the URL it signs.
///
/// Cost: the header is decoded once, the parameters sorted once, and one HMAC is computed per
/// candidate until one matches: the most likely form (the first URL as given, primary token)
/// costs one HMAC. The candidates are public (port forms, fragment), so stopping early leaks
/// nothing; each comparison itself is constant-time (`subtle`).
///
/// Errors: as [`verify`].
pub fn verify_any(
    tokens: &[&str],
    urls: &[&str],
    body: SignedBody<'_>,
    header: Option<&str>,
) -> Result<(), SignatureError> {
    let header = header
        .map(str::trim)
        .filter(|h| !h.is_empty())
        .ok_or(SignatureError::Missing)?;
    let data = match body {
        SignedBody::Form(p) => SignedData::new(p.iter().map(|(k, v)| (k.as_str(), v.as_str()))),
        SignedBody::Pairs(p) => SignedData::new(p.iter().copied()),
        SignedBody::Json(raw) => {
            // Every candidate is the same URL in another form (port, connection-override
            // fragment): its query, and so its `bodySHA256`, is the first one's.
            check_body_sha256(urls.first().copied().unwrap_or(""), raw)?;
            SignedData::new(std::iter::empty())
        }
    };
    // A valid header is 28 base64 characters = 20 bytes; the decoder's size estimate wants a
    // little headroom.
    let mut buf = [0u8; 24];
    let claimed: [u8; 20] =
        match base64::engine::general_purpose::STANDARD.decode_slice(header.as_bytes(), &mut buf) {
            Ok(20) => buf[..20].try_into().unwrap_or([0; 20]),
            _ => return Err(SignatureError::Invalid),
        };
    for token in tokens.iter().filter(|t| !t.is_empty()) {
        let key = keyed(token);
        for url in urls {
            if bool::from(data.mac(&key, url).ct_eq(&claimed)) {
                return Ok(());
            }
        }
        for url in urls {
            if let (_, Some(other)) = url_port_variants(url) {
                if bool::from(data.mac(&key, &other).ct_eq(&claimed)) {
                    return Ok(());
                }
            }
        }
    }
    Err(SignatureError::Invalid)
}

/// Checks `bodySHA256` in `url`'s query (the fragment, e.g. Twilio's `#rc=…&rp=…`, is not part
/// of the query, RFC 3986 §3.5; issue 27 §12).
fn check_body_sha256(url: &str, body: &[u8]) -> Result<(), SignatureError> {
    let without_fragment = url.split('#').next().unwrap_or("");
    let query = without_fragment
        .split_once('?')
        .map(|(_, q)| q)
        .unwrap_or("");
    let claimed = form_urlencoded::parse(query.as_bytes())
        .find(|(k, _)| k == "bodySHA256")
        .map(|(_, v)| v.to_ascii_lowercase())
        .ok_or(SignatureError::BodyHash)?;
    let actual = hex::encode(Sha256::digest(body));
    if bool::from(actual.as_bytes().ct_eq(claimed.as_bytes())) {
        Ok(())
    } else {
        Err(SignatureError::BodyHash)
    }
}

/// The URL as given, and the same URL with its default port added (if absent) or removed (if it
/// is `:443` for https and wss, `:80` for http and ws: the ConversationRelay handshake is signed
/// like a webhook, on its `wss://` URL). `None` when no variant applies (another port or scheme).
pub fn url_port_variants(url: &str) -> (String, Option<String>) {
    let Some((scheme, rest)) = url.split_once("://") else {
        return (url.to_owned(), None);
    };
    let default_port = match scheme.to_ascii_lowercase().as_str() {
        "https" | "wss" => "443",
        "http" | "ws" => "80",
        _ => return (url.to_owned(), None),
    };
    let auth_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(auth_end);
    // The host part starts after any userinfo; an IPv6 literal ends at ']'.
    let host_start = authority.rfind('@').map_or(0, |i| i + 1);
    let host_part = &authority[host_start..];
    let port_colon = match host_part.rfind(']') {
        Some(close) => host_part[close..].find(':').map(|i| close + i),
        None => host_part.rfind(':'),
    };
    let other = match port_colon {
        Some(i) if &host_part[i + 1..] == default_port => Some(format!(
            "{scheme}://{}{}{tail}",
            &authority[..host_start],
            &host_part[..i]
        )),
        Some(_) => None,
        None => Some(format!("{scheme}://{authority}:{default_port}{tail}")),
    };
    (url.to_owned(), other)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn canonical_params() -> Vec<(String, String)> {
        pairs(&[
            ("CallSid", "CA1234567890ABCDE"),
            ("Caller", "+12349013030"),
            ("Digits", "1234"),
            ("From", "+12349013030"),
            ("To", "+18005551212"),
        ])
    }

    const CANONICAL_URL: &str = "https://mycompany.com/myapp.php?foo=1&bar=2";
    const CANONICAL_SIG: &str = "0/KCTR6DLpKmkAf8muzZqo1nDgQ=";

    #[test]
    fn canonical_twilio_example_matches() {
        assert_eq!(
            compute("12345", CANONICAL_URL, &canonical_params()),
            CANONICAL_SIG
        );
        let p = canonical_params();
        assert_eq!(
            verify(
                &["12345"],
                CANONICAL_URL,
                SignedBody::Form(&p),
                Some(CANONICAL_SIG)
            ),
            Ok(())
        );
    }

    #[test]
    fn parameter_order_in_the_body_does_not_matter() {
        let mut p = canonical_params();
        p.reverse();
        assert_eq!(
            verify(
                &["12345"],
                CANONICAL_URL,
                SignedBody::Form(&p),
                Some(CANONICAL_SIG)
            ),
            Ok(())
        );
    }

    #[test]
    fn missing_or_empty_header_is_missing() {
        let p = canonical_params();
        for header in [None, Some(""), Some("   ")] {
            assert_eq!(
                verify(&["12345"], CANONICAL_URL, SignedBody::Form(&p), header),
                Err(SignatureError::Missing)
            );
        }
        assert_eq!(SignatureError::Missing.http_status(), 401);
        assert_eq!(SignatureError::Invalid.http_status(), 403);
    }

    #[test]
    fn tampered_param_url_or_token_is_invalid() {
        let mut p = canonical_params();
        p[2].1 = "9".into();
        assert_eq!(
            verify(
                &["12345"],
                CANONICAL_URL,
                SignedBody::Form(&p),
                Some(CANONICAL_SIG)
            ),
            Err(SignatureError::Invalid)
        );
        let p = canonical_params();
        assert_eq!(
            verify(
                &["12345"],
                "https://mycompany.com/myapp.php?foo=1&bar=3",
                SignedBody::Form(&p),
                Some(CANONICAL_SIG)
            ),
            Err(SignatureError::Invalid)
        );
        assert_eq!(
            verify(
                &["54321"],
                CANONICAL_URL,
                SignedBody::Form(&p),
                Some(CANONICAL_SIG)
            ),
            Err(SignatureError::Invalid)
        );
    }

    #[test]
    fn secondary_token_is_accepted_during_rotation() {
        let p = canonical_params();
        assert_eq!(
            verify(
                &["new-token", "12345"],
                CANONICAL_URL,
                SignedBody::Form(&p),
                Some(CANONICAL_SIG)
            ),
            Ok(())
        );
        assert_eq!(
            verify(
                &["", "new-token"],
                CANONICAL_URL,
                SignedBody::Form(&p),
                Some(CANONICAL_SIG)
            ),
            Err(SignatureError::Invalid)
        );
    }

    #[test]
    fn signature_with_or_without_default_port_is_accepted() {
        let p = canonical_params();
        let with_port = "https://mycompany.com:443/myapp.php?foo=1&bar=2";
        let sig_with_port = compute("12345", with_port, &p);
        // Twilio signed with the port; we were configured without it, and the reverse.
        assert_eq!(
            verify(
                &["12345"],
                CANONICAL_URL,
                SignedBody::Form(&p),
                Some(&sig_with_port)
            ),
            Ok(())
        );
        assert_eq!(
            verify(
                &["12345"],
                with_port,
                SignedBody::Form(&p),
                Some(CANONICAL_SIG)
            ),
            Ok(())
        );
    }

    #[test]
    fn port_variants_follow_the_scheme() {
        let cases = [
            (
                "https://a.example/x?y=1",
                Some("https://a.example:443/x?y=1"),
            ),
            ("https://a.example:443/x", Some("https://a.example/x")),
            ("http://a.example:80", Some("http://a.example")),
            ("http://a.example/p", Some("http://a.example:80/p")),
            ("https://a.example:8443/x", None),
            ("wss://r.example/prod", Some("wss://r.example:443/prod")),
            ("wss://r.example:443/prod", Some("wss://r.example/prod")),
            ("http://127.0.0.1:9000/voice-frontdoor", None),
            ("https://[::1]:443/x", Some("https://[::1]/x")),
            (
                "https://u:p@a.example/x",
                Some("https://u:p@a.example:443/x"),
            ),
            ("ftp://a.example/x", None),
            ("not a url", None),
        ];
        for (url, want) in cases {
            assert_eq!(url_port_variants(url).1.as_deref(), want, "{url}");
        }
    }

    #[test]
    fn repeated_values_are_deduplicated_and_sorted() {
        let url = "https://h.example/sms";
        let a = pairs(&[
            ("MediaUrl", "b"),
            ("MediaUrl", "a"),
            ("MediaUrl", "b"),
            ("Body", "x"),
        ]);
        let b = pairs(&[("Body", "x"), ("MediaUrl", "a"), ("MediaUrl", "b")]);
        let sig = compute("tok", url, &a);
        assert_eq!(sig, compute("tok", url, &b));
        assert_eq!(
            verify(&["tok"], url, SignedBody::Form(&b), Some(&sig)),
            Ok(())
        );
        // Keeping only the last value (the original's bug) must not validate.
        let last_only = pairs(&[("Body", "x"), ("MediaUrl", "b")]);
        assert_ne!(compute("tok", url, &last_only), sig);
    }

    #[test]
    fn names_sort_by_byte_order_not_locale() {
        // Byte order puts "To" (uppercase) before "apiVersion" and "body".
        let p = pairs(&[("body", "1"), ("To", "2"), ("apiVersion", "3")]);
        let mut mac = <Hmac<Sha1> as Mac>::new_from_slice(b"t").unwrap();
        mac.update(b"https://h/xTo2apiVersion3body1");
        let want = base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes());
        assert_eq!(compute("t", "https://h/x", &p), want);
    }

    #[test]
    fn json_body_hash_is_checked_when_the_signed_url_carries_a_retry_fragment() {
        let body = br#"{"event":"x"}"#;
        let hash = hex::encode(Sha256::digest(body));
        let plain = format!("https://h.example/hook?bodySHA256={hash}");
        let fragment = format!("{plain}#rc=3&rp=all");
        // Twilio signed the URL with its fragment.
        let sig = {
            let data = SignedData::new(std::iter::empty());
            base64::engine::general_purpose::STANDARD.encode(data.mac(&keyed("12345"), &fragment))
        };
        assert_eq!(
            verify_any(
                &["12345"],
                &[&plain, &fragment],
                SignedBody::Json(body),
                Some(&sig)
            ),
            Ok(())
        );
        assert_eq!(
            verify_any(
                &["12345"],
                &[&plain, &fragment],
                SignedBody::Json(b"{}"),
                Some(&sig)
            ),
            Err(SignatureError::BodyHash)
        );
    }

    #[test]
    fn json_body_needs_matching_body_sha256() {
        let body = br#"{"property": "value", "boolean": true}"#;
        let hash = hex::encode(Sha256::digest(body));
        let url = format!("https://h.example/hook?bodySHA256={hash}");
        let sig = compute("tok", &url, &[]);
        assert_eq!(
            verify(&["tok"], &url, SignedBody::Json(body), Some(&sig)),
            Ok(())
        );

        let tampered = br#"{"property": "other", "boolean": true}"#;
        assert_eq!(
            verify(&["tok"], &url, SignedBody::Json(tampered), Some(&sig)),
            Err(SignatureError::BodyHash)
        );
        let no_hash = "https://h.example/hook";
        let sig = compute("tok", no_hash, &[]);
        assert_eq!(
            verify(&["tok"], no_hash, SignedBody::Json(body), Some(&sig)),
            Err(SignatureError::BodyHash)
        );
    }
}
