//! The texting gate (issue 10 §2): a text from a US long code is sent only once its org's A2P
//! 10DLC registration is approved. Reads `a2p_status` of the org's `a2p#<org>` item in
//! `COMPLIANCE_TABLE` (written by the `provisioning` crate's A2P registration); the rule itself is
//! [`telephony_core::compliance::gate`].

use crate::deps::Deps;
use crate::error::Error;
use crate::item::{get_s, s};
use crate::metrics;
use telephony_core::compliance::{self as rule, A2pStatus, Gate};

/// The org's A2P status (`a2p_status` of `a2p#<org>`, strongly consistent), `None` when it has
/// no record or an unknown status.
///
/// Errors: [`Error::Dynamo`].
pub async fn a2p_status(
    dynamo: &aws_sdk_dynamodb::Client,
    table: &str,
    org: &str,
) -> Result<Option<A2pStatus>, Error> {
    let out = dynamo
        .get_item()
        .table_name(table)
        .key("pk", s(format!("a2p#{org}")))
        .consistent_read(true)
        .send()
        .await
        .map_err(Error::dynamo("GetItem compliance"))?;
    Ok(out
        .item
        .and_then(|i| get_s(&i, "a2p_status"))
        .and_then(|v| A2pStatus::parse(&v)))
}

/// The gate where a text is sent (issue 10 §2): `true` → send. For a US long code, reads the
/// org's A2P status (one GetItem; other numbers read nothing); a blocked text is logged and
/// counted (`SmsBlockedA2P` by `Reason`); a failed read blocks (`a2p_unknown`): a US text is never
/// sent unchecked.
pub async fn may_text(deps: &Deps, from: &str, org: &str, kind: &str) -> bool {
    // Would an approved org send? If not because of approval, no read is needed.
    if let Gate::Allow(reason) = rule::gate(from, Some(A2pStatus::Approved)) {
        if reason != "approved" {
            return true;
        }
    }
    let status = match &deps.config.compliance_table {
        Some(table) => match a2p_status(deps.dynamo(), table, org).await {
            Ok(status) => status,
            Err(e) => {
                tracing::error!(org, error = %e, "A2P status unreadable; US text not sent");
                metrics::count("DependencyErrors", Some(("Dependency", e.dependency())));
                metrics::count("SmsBlockedA2P", Some(("Reason", "a2p_unknown")));
                return false;
            }
        },
        None => None,
    };
    match rule::gate(from, status) {
        Gate::Allow(_) => true,
        Gate::Block(reason) => {
            tracing::info!(org, number = %telephony_core::mask_phone(from), kind, reason, "US text not sent: A2P 10DLC not approved");
            metrics::count("SmsBlockedA2P", Some(("Reason", reason)));
            false
        }
    }
}
