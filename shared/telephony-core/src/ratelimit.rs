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
