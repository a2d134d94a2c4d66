//! Fixed-window rate-limit arithmetic (spec §3 "Rate limit"). The counter itself is a DynamoDB item
//! per caller and window (see the AWS adapter); this module only names the window.

use std::time::Duration;

/// One limit: at most `max_calls` per `window`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limit {
    /// Calls allowed in one window.
    pub max_calls: u32,
    /// Window length.
    pub window: Duration,
}

/// A concrete fixed window: `[start, end)` in Unix seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    /// First second of the window (Unix seconds).
    pub start: u64,
    /// First second after the window (Unix seconds); also the counter item's TTL.
    pub end: u64,
}

impl Limit {
    /// The window that contains `now` (Unix seconds). A zero-length window is treated as 1 s.
    /// Near `u64::MAX` the end saturates instead of overflowing.
    pub fn window_at(&self, now: u64) -> Window {
        let len = self.window.as_secs().max(1);
        let start = now - now % len;
        Window {
            start,
            end: start.saturating_add(len),
        }
    }

    /// The counter key for `caller` in the window containing `now`:
    /// `<caller>#<window seconds>#<window start>`, so windows never share an item and an expired
    /// item that DynamoDB has not deleted yet is never read again.
    pub fn counter_key(&self, caller: &str, now: u64) -> (String, Window) {
        let w = self.window_at(now);
        (
            format!("{caller}#{}#{}", self.window.as_secs().max(1), w.start),
            w,
        )
    }
}

/// The limits for callers without a caller ID, counted under one shared key
/// ([`HIDDEN_CALLER_KEY`]) instead of each caller's own (issue 27 §8): `anonymous`, the hidden
/// forms Twilio sends (`+266696687` ANONYMOUS, `+7378742833` RESTRICTED, `+86282452253`
/// UNAVAILABLE, `+2562533` BLOCKED; [`crate::sms::HIDDEN_CALLER_IDS`]), any other non-number, or
/// none. Every such caller shares the counter, so the limit is a ceiling for all of them
/// together — 60 a minute and 300 per 15 minutes, six and sixty times one caller's — never the
/// per-caller 10 a minute, which ten hidden calls would exhaust for every other hidden caller.
pub const HIDDEN_CALLER_LIMITS: [Limit; 2] = [
    Limit {
        max_calls: 60,
        window: Duration::from_secs(60),
    },
    Limit {
        max_calls: 300,
        window: Duration::from_secs(900),
    },
];

/// The counter key shared by callers without a caller ID.
pub const HIDDEN_CALLER_KEY: &str = "hidden-caller";

/// The rate-limit key and limits for caller `from` (`From` as Twilio sent it, or `None`):
/// the caller's own number with `per_caller`, or, for a hidden caller ID,
/// [`HIDDEN_CALLER_KEY`] with [`HIDDEN_CALLER_LIMITS`].
pub fn caller_bucket<'a>(from: Option<&'a str>, per_caller: &'a [Limit]) -> (&'a str, &'a [Limit]) {
    match from {
        Some(f) if !is_hidden_caller(f) => (f, per_caller),
        _ => (HIDDEN_CALLER_KEY, &HIDDEN_CALLER_LIMITS),
    }
}

/// Whether `from` is a hidden caller ID (see [`HIDDEN_CALLER_LIMITS`]): not `+` and digits, or
/// one of Twilio's hidden-number forms.
pub fn is_hidden_caller(from: &str) -> bool {
    let f = from.trim();
    let digits = f.strip_prefix('+').unwrap_or("");
    digits.is_empty()
        || !digits.bytes().all(|b| b.is_ascii_digit())
        || crate::sms::HIDDEN_CALLER_IDS.contains(&f)
}

/// Parses limits written as `calls/seconds` pairs separated by commas, e.g. `10/60,5/900`.
/// Blank input gives no limits; a malformed entry is an error naming it.
pub fn parse_limits(spec: &str) -> Result<Vec<Limit>, String> {
    spec.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|entry| {
            let (calls, secs) = entry
                .split_once('/')
                .ok_or_else(|| format!("rate limit {entry:?} is not calls/seconds"))?;
            let max_calls = calls
                .trim()
                .parse()
                .map_err(|_| format!("rate limit {entry:?}: bad call count"))?;
            let secs: u64 = secs
                .trim()
                .parse()
                .map_err(|_| format!("rate limit {entry:?}: bad seconds"))?;
            if secs == 0 {
                return Err(format!(
                    "rate limit {entry:?}: window must be at least 1 second"
                ));
            }
            Ok(Limit {
                max_calls,
                window: Duration::from_secs(secs),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hidden_caller_ids_share_their_own_larger_bucket() {
        let own = [Limit {
            max_calls: 10,
            window: Duration::from_secs(60),
        }];
        for hidden in [
            None,
            Some("anonymous"),
            Some("Anonymous"),
            Some("+266696687"),
            Some("+7378742833"),
            Some("+86282452253"),
            Some("+2562533"),
            Some(""),
            Some("Restricted"),
        ] {
            let (key, limits) = caller_bucket(hidden, &own);
            assert_eq!(key, HIDDEN_CALLER_KEY, "{hidden:?}");
            assert_eq!(limits, &HIDDEN_CALLER_LIMITS[..]);
            assert!(limits[0].max_calls > own[0].max_calls);
        }
        assert_eq!(
            caller_bucket(Some("+15875550100"), &own),
            ("+15875550100", &own[..])
        );
    }

    #[test]
    fn windows_near_the_end_of_time_saturate() {
        let l = Limit {
            max_calls: 1,
            window: Duration::from_secs(60),
        };
        let w = l.window_at(u64::MAX);
        assert!(w.start > u64::MAX - 60);
        assert_eq!(w.end, u64::MAX);
        let _ = l.counter_key("+15877428885", u64::MAX);
    }

    #[test]
    fn windows_are_aligned_and_keys_differ_between_windows() {
        let l = Limit {
            max_calls: 10,
            window: Duration::from_secs(60),
        };
        assert_eq!(
            l.window_at(125),
            Window {
                start: 120,
                end: 180
            }
        );
        assert_eq!(
            l.window_at(120),
            Window {
                start: 120,
                end: 180
            }
        );
        let (a, _) = l.counter_key("+15877428885", 179);
        let (b, _) = l.counter_key("+15877428885", 180);
        assert_ne!(a, b);
        assert_eq!(a, "+15877428885#60#120");
    }

    #[test]
    fn limit_specs_parse_and_reject_garbage() {
        assert_eq!(
            parse_limits("10/60, 5/900").unwrap(),
            vec![
                Limit {
                    max_calls: 10,
                    window: Duration::from_secs(60)
                },
                Limit {
                    max_calls: 5,
                    window: Duration::from_secs(900)
                }
            ]
        );
        assert!(parse_limits("").unwrap().is_empty());
        for bad in ["10", "x/60", "10/0", "10/abc"] {
            assert!(parse_limits(bad).is_err(), "{bad}");
        }
    }
}
