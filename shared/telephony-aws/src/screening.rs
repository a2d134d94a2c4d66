//! What the caller-protection steps of issue 24 store on the call item (calls table): a person's
//! 1 at the screened hand-off's whisper (`screen_answer`, the department of the dial it
//! answered) and the verified-caller gate's verdict (`gate_verstat`: `A`, `B`, `C`, `failed`,
//! `none`; `gate_outcome`: `checked`, `passed`, `failed`, `silent`).

use crate::calls::Calls;
use crate::error::Error;
use crate::item::{n, s};
use telephony_core::CallSid;

impl Calls<'_> {
    /// A person pressed 1 at the whisper of the dial of `department` on call `sid` (the inbound
    /// call). Idempotent.
    ///
    /// Errors: [`Error::Dynamo`].
    pub async fn mark_screen_answer(
        &self,
        sid: &CallSid,
        department: &str,
        now: u64,
    ) -> Result<(), Error> {
        self.update(sid.as_str())
            .update_expression("SET screen_answer = :d, screen_answered_at = :now, updated_at = :now, expires_at = if_not_exists(expires_at, :exp)")
            .expression_attribute_values(":d", s(department))
            .expression_attribute_values(":now", n(now))
            .expression_attribute_values(":exp", n(now + self.retention_secs))
            .send()
            .await
            .map_err(Error::dynamo("UpdateItem calls (screen_answer)"))?;
        Ok(())
    }

    /// The gate's verdict on call `sid`: `verstat` (the attestation's short form) and `outcome`.
    ///
    /// Errors: [`Error::Dynamo`].
    pub async fn record_gate(
        &self,
        sid: &CallSid,
        verstat: &str,
        outcome: &str,
        now: u64,
    ) -> Result<(), Error> {
        self.update(sid.as_str())
            .update_expression("SET gate_verstat = :v, gate_outcome = :o, updated_at = :now, expires_at = if_not_exists(expires_at, :exp)")
            .expression_attribute_values(":v", s(verstat))
            .expression_attribute_values(":o", s(outcome))
            .expression_attribute_values(":now", n(now))
            .expression_attribute_values(":exp", n(now + self.retention_secs))
            .send()
            .await
            .map_err(Error::dynamo("UpdateItem calls (gate)"))?;
        Ok(())
    }
}
