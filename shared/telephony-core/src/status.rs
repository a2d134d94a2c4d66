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

/// Rank of every terminal `CallStatus`.
pub const TERMINAL_RANK: u8 = 4;

/// How a status callback counts toward call success (the `CallsCompleted`/`CallsFailed` metrics
/// and the < 90 % alarm).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CallOutcome {
    /// The caller's call ended normally.
    Completed,
    /// The caller's call ended `busy`, `no-answer`, `failed` or `canceled`.
    Failed,
}

/// The outcome a status counts as: only the caller's own (parent) call, at a terminal status.
/// A dialled leg (it has a `ParentCallSid`) never counts: "sales did not answer, the caller left
/// a voicemail" is one successful call, not 50 % failures (issue "Hardening", finding 6).
pub fn call_outcome(status: &str, is_dialled_leg: bool) -> Option<CallOutcome> {
    if is_dialled_leg || call_status_rank(status) != Some(TERMINAL_RANK) {
        return None;
    }
    Some(if status == "completed" {
        CallOutcome::Completed
    } else {
        CallOutcome::Failed
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_callers_call_counts_toward_success() {
        assert_eq!(
            call_outcome("completed", false),
            Some(CallOutcome::Completed)
        );
        assert_eq!(call_outcome("no-answer", false), Some(CallOutcome::Failed));
        assert_eq!(call_outcome("no-answer", true), None);
        assert_eq!(call_outcome("completed", true), None);
        assert_eq!(call_outcome("ringing", false), None);
        assert_eq!(call_outcome("bogus", false), None);
    }

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
