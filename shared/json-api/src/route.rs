//! Routing by method and path template: each JSON function declares its routes once, as a
//! [`Table`] of `(method, template, operation)` (the same templates `template.yaml` declares;
//! `tests/tests/artifacts.rs` checks), and dispatches on the matched operation.

use crate::answer::ApiError;
use telephony_aws::http::Method;
use telephony_core::E164;

/// A function's routes: `(method, path template, operation)`; `{name}` segments match any one
/// non-empty segment and are captured.
pub type Table<Op> = [(&'static str, &'static str, Op)];

/// The route a request matched: its operation and the captured segments.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Matched<'p, Op> {
    /// The operation of the matched row.
    pub op: Op,
    /// The row's template, e.g. `/ops/numbers/{e164}`.
    pub template: &'static str,
    params: Vec<(&'static str, &'p str)>,
}

impl<'p, Op> Matched<'p, Op> {
    /// The raw segment captured as `{name}` (still percent-encoded); `""` when the template has
    /// no such segment.
    pub fn param(&self, name: &str) -> &'p str {
        self.params
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| *v)
            .unwrap_or("")
    }

    /// The `{name}` segment as an E.164 number (`+` may arrive as `%2B`).
    ///
    /// Errors: 400 `bad_number`.
    pub fn e164(&self, name: &str) -> Result<E164, ApiError> {
        E164::parse_path_segment(self.param(name))
            .map_err(|e| ApiError::bad_request("bad_number", e.to_string()))
    }
}

/// Matches `method` and `path` (no query) against `table`. When several templates match, the one
/// with the most literal segments wins (`/ops/numbers/hosted-sms` before `/ops/numbers/{e164}`).
///
/// Errors: 404 `not_found` "no such route" for an unknown path or method.
pub fn route<'p, Op: Copy>(
    table: &Table<Op>,
    method: &Method,
    path: &'p str,
) -> Result<Matched<'p, Op>, ApiError> {
    let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
    table
        .iter()
        .filter(|(m, _, _)| *m == method.as_str())
        .filter_map(|(_, template, op)| {
            let parts: Vec<&str> = template.trim_matches('/').split('/').collect();
            if parts.len() != segments.len() {
                return None;
            }
            let mut params = Vec::new();
            let mut literals = 0;
            for (part, seg) in parts.iter().zip(&segments) {
                match part.strip_prefix('{').and_then(|p| p.strip_suffix('}')) {
                    Some(name) if !seg.is_empty() => params.push((name, *seg)),
                    Some(_) => return None,
                    None if part == seg => literals += 1,
                    None => return None,
                }
            }
            Some((
                literals,
                Matched {
                    op: *op,
                    template,
                    params,
                },
            ))
        })
        .max_by_key(|(literals, _)| *literals)
        .map(|(_, m)| m)
        .ok_or_else(ApiError::no_route)
}

/// The `(method, template)` pairs of a table (what `template.yaml` must declare).
pub fn pairs<Op>(table: &Table<Op>) -> impl Iterator<Item = (&'static str, &'static str)> + '_ {
    table.iter().map(|(m, p, _)| (*m, *p))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    enum Op {
        Show,
        Hosted,
        Config,
    }

    const TABLE: &Table<Op> = &[
        ("GET", "/ops/numbers/{e164}", Op::Show),
        ("GET", "/ops/numbers/hosted-sms", Op::Hosted),
        ("PUT", "/ops/numbers/{e164}/config", Op::Config),
    ];

    #[test]
    fn the_most_literal_template_wins_and_segments_are_captured() {
        let m = route(TABLE, &Method::GET, "/ops/numbers/hosted-sms").unwrap();
        assert_eq!(m.op, Op::Hosted);
        let m = route(TABLE, &Method::GET, "/ops/numbers/%2B14165550100").unwrap();
        assert_eq!((m.op, m.param("e164")), (Op::Show, "%2B14165550100"));
        assert_eq!(m.e164("e164").unwrap().as_str(), "+14165550100");
        let m = route(TABLE, &Method::PUT, "/ops/numbers/+14165550100/config/").unwrap();
        assert_eq!(m.op, Op::Config);
        assert_eq!(m.template, "/ops/numbers/{e164}/config");
    }

    #[test]
    fn unknown_paths_methods_and_empty_segments_are_404() {
        for (method, path) in [
            (Method::DELETE, "/ops/numbers/+14165550100"),
            (Method::GET, "/ops/numbers"),
            (Method::GET, "/ops/numbers//"),
            (Method::PUT, "/ops/numbers/+14165550100/webhooks"),
        ] {
            let e = route(TABLE, &method, path).unwrap_err();
            assert_eq!((e.status.as_u16(), e.code.as_str()), (404, "not_found"));
        }
        let bad = route(TABLE, &Method::GET, "/ops/numbers/12").unwrap();
        assert_eq!(bad.e164("e164").unwrap_err().code, "bad_number");
    }
}
