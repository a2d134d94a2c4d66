//! Forward-only status orders (spec §3 `/voice-status`, §5 "status updates only move forward").

/// Rank of a Twilio `CallStatus` in its lifecycle: `queued`/`initiated` (1) < `ringing` (2) <
/// `in-progress` (3) < any terminal status (4: `completed`, `busy`, `no-answer`, `failed`,
/// `canceled`). Unknown statuses → `None` (refused as bad input, never stored).
///
/// A status is stored only if its rank is greater than the stored one, so a late `ringing`
/// never overwrites `completed` (flaw F-55).
pub fn call_status_rank(status: &str) -> Option<u8> {
    Some(match status {
        "queued" | "initiated" => 1,
        "ringing" => 2,
        "in-progress" | "answered" => 3,
        "completed" | "busy" | "no-answer" | "failed" | "canceled" => 4,
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lifecycle_order_is_strict_and_terminal_states_share_the_top() {
        let order = ["queued", "ringing", "in-progress", "completed"];
        for w in order.windows(2) {
            assert!(call_status_rank(w[0]) < call_status_rank(w[1]), "{w:?}");
        }
        for terminal in ["busy", "no-answer", "failed", "canceled"] {
            assert_eq!(call_status_rank(terminal), call_status_rank("completed"));
        }
        assert_eq!(call_status_rank("initiated"), call_status_rank("queued"));
        assert_eq!(call_status_rank("bogus"), None);
    }
}
