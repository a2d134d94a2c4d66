//! The settings provisioning reads, taken from the function's [`Config`] (which reads only the
//! variables the function declares: `telephony_aws::config::Needs`).

use telephony_aws::Config;

/// The variables provisioning reads ([`telephony_aws::needs::PROVISIONING`]).
pub use telephony_aws::needs::PROVISIONING as VARS;

/// What the provisioning workflows need besides the clients.
#[derive(Debug, Clone, Copy)]
pub struct Settings<'a> {
    /// `TRANSACTIONS_TABLE`: the sagas' transactions and org locks.
    pub transactions_table: Option<&'a str>,
    /// `IDEMPOTENCY_TABLE`: the state-changing routes' idempotency keys.
    pub idempotency_table: Option<&'a str>,
    /// `COMPLIANCE_TABLE`: A2P records and number orders.
    pub compliance_table: Option<&'a str>,
    /// `NUMBERS_TABLE`.
    pub numbers_table: &'a str,
    /// `PUBLIC_BASE_URL`: the webhooks numbers are bound to.
    pub public_base_url: &'a str,
    /// `MESSAGING_SERVICE_SID`: the Messaging Service new numbers join, if any.
    pub messaging_service_sid: Option<&'a str>,
    /// `SUBACCOUNT_PER_ORG=true`: one Twilio subaccount per org.
    pub subaccount_per_org: bool,
}

impl<'a> Settings<'a> {
    /// The settings of `config`.
    pub fn of(config: &'a Config) -> Self {
        Self {
            transactions_table: config.transactions_table.as_deref(),
            idempotency_table: config.idempotency_table.as_deref(),
            compliance_table: config.compliance_table.as_deref(),
            numbers_table: &config.numbers_table,
            public_base_url: &config.public_base_url,
            messaging_service_sid: config.messaging_service_sid.as_deref(),
            subaccount_per_org: config.subaccount_per_org,
        }
    }
}
