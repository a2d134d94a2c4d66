//! WhatsApp outside its 24-hour customer-service window.

use telephony_aws::{metrics, Deps};
use telephony_core::mask_phone;

/// Outside WhatsApp's 24-hour customer-service window: the number's approved template (Messages
/// API with `ContentSid`) when one is configured, else nothing — logged and counted
/// (`WhatsAppOutsideWindow`) either way.
pub(crate) async fn outside_window(
    deps: &Deps,
    number: &telephony_core::flow::NumberConfig,
    ours: &str,
    customer: &str,
) {
    metrics::count("WhatsAppOutsideWindow", None);
    let Some(template) = number.whatsapp_template_sid.as_deref() else {
        tracing::info!(to = %mask_phone(customer), "outside the WhatsApp window and no template: nothing sent");
        return;
    };
    let sent = match deps.twilio() {
        Ok(t) => t
            .send_template(ours, customer, template)
            .await
            .map_err(|e| e.to_string()),
        Err(e) => Err(e.to_string()),
    };
    match sent {
        Ok(m) => tracing::info!(message_sid = ?m.sid, "outside the WhatsApp window: template sent"),
        Err(e) => tracing::warn!(error = %e, "WhatsApp template not sent"),
    }
}
