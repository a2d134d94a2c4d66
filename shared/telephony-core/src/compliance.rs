//! US texting compliance (issue 10): the A2P 10DLC gate. US carriers filter (and fine) texts
//! from 10-digit long codes whose brand and campaign are not registered with The Campaign
//! Registry, so a text from a US long code goes out only when the number's org is A2P
//! `approved`. Canadian numbers are never gated (no 10DLC regime in Canada); toll-free numbers
//! are under toll-free verification, not 10DLC, and other countries are outside this rule.
//! Opt-outs and opt-ins are recorded whatever the gate says: only sending is gated.

use crate::area_codes;

/// An org's A2P 10DLC status (the per-org compliance record).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum A2pStatus {
    /// `us_enabled=false`: a Canada-only org; nothing was registered.
    NotRequired,
    /// Brand or campaign registration under review.
    Pending,
    /// Brand approved and campaign verified: US texting allowed.
    Approved,
    /// Brand or campaign refused.
    Failed,
}

impl A2pStatus {
    /// Stored form.
    pub fn as_str(self) -> &'static str {
        match self {
            A2pStatus::NotRequired => "not_required",
            A2pStatus::Pending => "pending",
            A2pStatus::Approved => "approved",
            A2pStatus::Failed => "failed",
        }
    }

    /// From the stored form.
    pub fn parse(v: &str) -> Option<Self> {
        [
            A2pStatus::NotRequired,
            A2pStatus::Pending,
            A2pStatus::Approved,
            A2pStatus::Failed,
        ]
        .into_iter()
        .find(|s| s.as_str() == v)
    }

    /// The org status from Twilio's brand registration status (`PENDING`, `APPROVED`, `FAILED`,
    /// `IN_REVIEW`, `SUSPENDED`, …) and, once created, the campaign's `campaign_status`
    /// (`IN_PROGRESS`, `VERIFIED`, `FAILED`, …): approved only with an approved brand and a
    /// verified campaign; failed when either was refused (or the brand suspended).
    pub fn from_twilio(brand: &str, campaign: Option<&str>) -> Self {
        let refused = |s: &str| matches!(s, "FAILED" | "SUSPENDED" | "DELETION_FAILED");
        if refused(brand) || campaign.is_some_and(refused) {
            A2pStatus::Failed
        } else if brand == "APPROVED" && campaign == Some("VERIFIED") {
            A2pStatus::Approved
        } else {
            A2pStatus::Pending
        }
    }
}

/// The gate's answer for one outbound text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Gate {
    /// Send it; the reason (`not_us`, `toll_free`, `approved`) for the log.
    Allow(&'static str),
    /// Do not send; the reason (`a2p_not_required`, `a2p_pending`, `a2p_failed`,
    /// `a2p_unregistered`) for the log and the metric.
    Block(&'static str),
}

/// Whether a text from our number `from` (E.164, or `whatsapp:+…`) may be sent for an org whose
/// A2P status is `status` (`None`: no record). WhatsApp is not SMS: never gated.
pub fn gate(from: &str, status: Option<A2pStatus>) -> Gate {
    if from.starts_with("whatsapp:") {
        return Gate::Allow("not_sms");
    }
    let Some(national) = from.strip_prefix("+1").filter(|n| n.len() == 10) else {
        return Gate::Allow("not_us");
    };
    let area = &national[..3];
    if area
        .parse::<u16>()
        .is_ok_and(|a| area_codes::TOLL_FREE.contains(&a))
    {
        return Gate::Allow("toll_free");
    }
    if area_codes::nanp_country(area) != Some("US") {
        return Gate::Allow("not_us");
    }
    match status {
        Some(A2pStatus::Approved) => Gate::Allow("approved"),
        Some(A2pStatus::NotRequired) => Gate::Block("a2p_not_required"),
        Some(A2pStatus::Pending) => Gate::Block("a2p_pending"),
        Some(A2pStatus::Failed) => Gate::Block("a2p_failed"),
        None => Gate::Block("a2p_unregistered"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_us_long_codes_without_approval_are_blocked() {
        let us = "+12125550143";
        assert_eq!(gate(us, Some(A2pStatus::Approved)), Gate::Allow("approved"));
        assert_eq!(
            gate(us, Some(A2pStatus::Pending)),
            Gate::Block("a2p_pending")
        );
        assert_eq!(gate(us, Some(A2pStatus::Failed)), Gate::Block("a2p_failed"));
        assert_eq!(
            gate(us, Some(A2pStatus::NotRequired)),
            Gate::Block("a2p_not_required")
        );
        assert_eq!(gate(us, None), Gate::Block("a2p_unregistered"));
        // Canadian numbers, whatever the org's status.
        for ca in ["+15877428885", "+14165550101", "+18675550100"] {
            assert_eq!(gate(ca, None), Gate::Allow("not_us"), "{ca}");
        }
        assert_eq!(gate("+18885550100", None), Gate::Allow("toll_free"));
        assert_eq!(gate("+442071838750", None), Gate::Allow("not_us"));
        assert_eq!(gate("whatsapp:+12125550143", None), Gate::Allow("not_sms"));
    }

    #[test]
    fn twilio_statuses_map_to_the_org_status() {
        assert_eq!(A2pStatus::from_twilio("PENDING", None), A2pStatus::Pending);
        assert_eq!(A2pStatus::from_twilio("APPROVED", None), A2pStatus::Pending);
        assert_eq!(
            A2pStatus::from_twilio("APPROVED", Some("IN_PROGRESS")),
            A2pStatus::Pending
        );
        assert_eq!(
            A2pStatus::from_twilio("APPROVED", Some("VERIFIED")),
            A2pStatus::Approved
        );
        assert_eq!(A2pStatus::from_twilio("FAILED", None), A2pStatus::Failed);
        assert_eq!(
            A2pStatus::from_twilio("APPROVED", Some("FAILED")),
            A2pStatus::Failed
        );
        for s in ["not_required", "pending", "approved", "failed"] {
            assert_eq!(A2pStatus::parse(s).unwrap().as_str(), s);
        }
    }
}
