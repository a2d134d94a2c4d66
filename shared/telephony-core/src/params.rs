//! Webhook form parameters (`application/x-www-form-urlencoded`, Twilio "TwiML voice request").
//!
//! The body is decoded once (the WHATWG form rules, as `form_urlencoded`) into ordered pairs, repeated keys kept (the
//! signature needs every value), and read through typed accessors.

use crate::ids::{CallSid, IdError};

/// A body that is not a valid form.
#[derive(Debug, thiserror::Error)]
pub enum ParamError {
    /// The body is not `application/x-www-form-urlencoded` or not UTF-8.
    #[error("malformed form body: {0}")]
    Malformed(String),
    /// A required parameter is absent.
    #[error("missing parameter {0}")]
    Missing(&'static str),
    /// A parameter has a value outside its documented set.
    #[error("invalid value for parameter {0}")]
    Invalid(&'static str),
    /// A SID parameter has the wrong shape.
    #[error("bad parameter: {0}")]
    BadId(#[from] IdError),
}

/// Decoded webhook parameters, in body order, repeats kept. Stored in one buffer with the spans
/// of each name and value, so decoding a 17-parameter form makes two allocations, not 34.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Params {
    buf: String,
    /// `(name start, name end, value end)`: the value starts where the name ends.
    spans: Vec<(u32, u32, u32)>,
}

/// Appends one decoded name or value of a form (`+` → space, then percent-decoding) to `buf`,
/// with invalid UTF-8 in the decoded bytes replaced by U+FFFD (as `form_urlencoded` does). `+`
/// never occurs inside a percent escape, so splitting on it first is exact.
fn decode_into(buf: &mut Vec<u8>, raw: &[u8]) {
    // Most names and values (SIDs, statuses, countries) have neither: copied as they are.
    if memchr::memchr2(b'+', b'%', raw).is_none() {
        buf.extend_from_slice(raw);
        return;
    }
    let start = buf.len();
    for (i, seg) in raw.split(|b| *b == b'+').enumerate() {
        if i > 0 {
            buf.push(b' ');
        }
        if seg.contains(&b'%') {
            buf.extend(percent_encoding::percent_decode(seg));
        } else {
            buf.extend_from_slice(seg);
        }
    }
    // Only escapes can produce invalid UTF-8 (the body itself was checked).
    if raw.contains(&b'%') && std::str::from_utf8(&buf[start..]).is_err() {
        let fixed = String::from_utf8_lossy(&buf[start..]).into_owned();
        buf.truncate(start);
        buf.extend_from_slice(fixed.as_bytes());
    }
}

impl Params {
    /// Decodes a form body (`a=1&b=2`; `+` is a space; repeated keys kept).
    ///
    /// Errors: [`ParamError::Malformed`] when the body is not UTF-8 or over 4 GiB.
    pub fn from_form(body: &[u8]) -> Result<Self, ParamError> {
        std::str::from_utf8(body).map_err(|e| ParamError::Malformed(e.to_string()))?;
        u32::try_from(body.len()).map_err(|_| ParamError::Malformed("body too large".into()))?;
        // The WHATWG `application/x-www-form-urlencoded` parser (URL Standard §5.1, what the
        // `form_urlencoded` crate implements and the property tests compare against): split on
        // `&`, skip empty sequences, split each at the first `=`, `+` is a space, then
        // percent-decode (`percent_encoding`) and replace invalid UTF-8 with U+FFFD. Decoded
        // straight into one buffer: no per-value allocation for escaped values.
        let mut buf = Vec::with_capacity(body.len());
        let mut spans = Vec::with_capacity(memchr::memchr_iter(b'&', body).count() + 1);
        for pair in body.split(|b| *b == b'&').filter(|p| !p.is_empty()) {
            let (name, value) = match memchr::memchr(b'=', pair) {
                Some(i) => (&pair[..i], &pair[i + 1..]),
                None => (pair, &pair[pair.len()..]),
            };
            let start = buf.len();
            decode_into(&mut buf, name);
            let mid = buf.len();
            decode_into(&mut buf, value);
            let to32 = |n: usize| u32::try_from(n).unwrap_or(u32::MAX);
            spans.push((to32(start), to32(mid), to32(buf.len())));
        }
        let buf = String::from_utf8(buf).map_err(|e| ParamError::Malformed(e.to_string()))?;
        Ok(Self { buf, spans })
    }

    /// Parameters from pairs (tests, the call simulator, query strings).
    pub fn from_pairs<K: AsRef<str>, V: AsRef<str>>(
        pairs: impl IntoIterator<Item = (K, V)>,
    ) -> Self {
        let mut p = Self::default();
        for (k, v) in pairs {
            p.push(k.as_ref(), v.as_ref());
        }
        p
    }

    fn push(&mut self, k: &str, v: &str) {
        let start = self.buf.len();
        self.buf.push_str(k);
        let mid = self.buf.len();
        self.buf.push_str(v);
        // Lengths fit: from_form refuses bodies over 4 GiB; from_pairs is for small inputs.
        let to32 = |n: usize| u32::try_from(n).unwrap_or(u32::MAX);
        self.spans
            .push((to32(start), to32(mid), to32(self.buf.len())));
    }

    /// All pairs, in body order.
    pub fn pairs(&self) -> impl ExactSizeIterator<Item = (&str, &str)> + '_ {
        self.spans.iter().map(move |&(a, b, c)| {
            (
                self.buf.get(a as usize..b as usize).unwrap_or(""),
                self.buf.get(b as usize..c as usize).unwrap_or(""),
            )
        })
    }

    /// Whether there are no parameters.
    pub fn is_empty(&self) -> bool {
        self.spans.is_empty()
    }

    /// The first value of `name`, if present and non-empty after trimming.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.pairs()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v.trim())
            .filter(|v| !v.is_empty())
    }

    /// `CallSid`, required on every voice webhook.
    ///
    /// Errors: [`ParamError::Missing`] or [`ParamError::BadId`].
    pub fn call_sid(&self) -> Result<CallSid, ParamError> {
        Ok(CallSid::parse(
            self.get("CallSid").ok_or(ParamError::Missing("CallSid"))?,
        )?)
    }

    /// A required parameter.
    ///
    /// Errors: [`ParamError::Missing`].
    pub fn require(&self, name: &'static str) -> Result<&str, ParamError> {
        self.get(name).ok_or(ParamError::Missing(name))
    }

    /// `MessageSid` (or the legacy `SmsSid`), required on every messaging webhook.
    ///
    /// Errors: [`ParamError::Missing`] or [`ParamError::BadId`].
    pub fn message_sid(&self) -> Result<crate::ids::MessageSid, ParamError> {
        let raw = self
            .get("MessageSid")
            .or(self.get("SmsSid"))
            .ok_or(ParamError::Missing("MessageSid"))?;
        Ok(crate::ids::MessageSid::parse(raw)?)
    }

    /// A whole number of seconds (e.g. `RecordingDuration`, `CallDuration`); absent or not a
    /// non-negative integer → `None`.
    pub fn seconds(&self, name: &str) -> Option<u64> {
        self.get(name).and_then(|v| v.parse().ok())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn form_decoding_keeps_repeats_and_order() {
        let p = Params::from_form(b"Body=hi+there&MediaUrl=a&MediaUrl=b&Digits=%2A").unwrap();
        assert_eq!(p.get("Body"), Some("hi there"));
        assert_eq!(p.get("Digits"), Some("*"));
        assert_eq!(p.pairs().filter(|(k, _)| *k == "MediaUrl").count(), 2);
        assert_eq!(
            p.pairs().collect::<Vec<_>>(),
            vec![
                ("Body", "hi there"),
                ("MediaUrl", "a"),
                ("MediaUrl", "b"),
                ("Digits", "*")
            ]
        );
    }

    #[test]
    fn malformed_bodies_are_errors_not_panics() {
        assert!(Params::from_form(&[0xff, 0xfe]).is_err());
        // Percent-escapes that are not UTF-8 decode lossily (U+FFFD): the value then no longer
        // matches what Twilio signed, so such a request fails the signature check.
        assert_eq!(
            Params::from_form(b"a=%ff").unwrap().get("a"),
            Some("\u{fffd}")
        );
        assert!(Params::from_form(b"").unwrap().is_empty());
    }

    #[test]
    fn blank_values_read_as_absent() {
        let p = Params::from_pairs([
            ("Digits", "  "),
            ("CallSid", "CA0123456789abcdef0123456789abcdef"),
        ]);
        assert_eq!(p.get("Digits"), None);
        assert!(p.call_sid().is_ok());
        assert!(matches!(
            Params::default().call_sid(),
            Err(ParamError::Missing("CallSid"))
        ));
    }

    #[test]
    fn seconds_parse_only_whole_non_negative_numbers() {
        let p = Params::from_pairs([("A", "12"), ("B", "-1"), ("C", "1.5")]);
        assert_eq!(p.seconds("A"), Some(12));
        assert_eq!(p.seconds("B"), None);
        assert_eq!(p.seconds("C"), None);
    }
}
