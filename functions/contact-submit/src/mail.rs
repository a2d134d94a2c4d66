//! The two emails of a submission (Amazon SES v2, structured `Simple` content).

use crate::form::Submission;
use crate::Settings;

/// The staff notice (reply-to the sender) and the acknowledgement; `false` if either failed.
pub(crate) async fn send_emails(
    settings: &Settings,
    id: &str,
    form: &Submission,
    phone: Option<&str>,
) -> bool {
    use aws_sdk_sesv2::types::{Body as MailBody, Content, Destination, EmailContent, Message};
    let mail = |to: &str, reply_to: Option<&str>, subject: String, text: String| {
        let content = |d: String| Content::builder().data(d).charset("UTF-8").build();
        let (Ok(subject), Ok(text)) = (content(subject), content(text)) else {
            return None;
        };
        let mut req = settings
            .ses
            .send_email()
            .from_email_address(&settings.sender)
            .destination(Destination::builder().to_addresses(to).build())
            .content(
                EmailContent::builder()
                    .simple(
                        Message::builder()
                            .subject(subject)
                            .body(MailBody::builder().text(text).build())
                            .build(),
                    )
                    .build(),
            );
        if let Some(r) = reply_to {
            req = req.reply_to_addresses(r);
        }
        Some(req.send())
    };
    let notice = mail(
        &settings.staff,
        Some(form.email.trim()),
        format!("Contact form: {}", form.name.trim()),
        format!(
            "From: {} <{}>\nPhone: {}\nSubmission: {id}\n\n{}",
            form.name.trim(),
            form.email.trim(),
            phone.unwrap_or("-"),
            form.message
        ),
    );
    let ack = mail(
        form.email.trim(),
        None,
        "We received your message / Nous avons reçu votre message".to_owned(),
        // Fixed text (English, then French) with the submission id only: the acknowledgement
        // goes to an address the sender typed, so it never echoes anything they wrote (no
        // spam relay through our sender; issue 27 §7).
        format!(
            "Thank you for contacting TradeLine 24/7. We received your message and will get back to you soon.\n\nReference: {id}\n\n---\n\nMerci d'avoir écrit à TradeLine 24/7. Nous avons bien reçu votre message et vous répondrons bientôt.\n\nRéférence : {id}"
        ),
    );
    let (Some(notice), Some(ack)) = (notice, ack) else {
        return false;
    };
    let (n, a) = tokio::join!(notice, ack);
    let mut ok = true;
    for (what, r) in [
        ("staff notice", n.map(|_| ())),
        ("acknowledgement", a.map(|_| ())),
    ] {
        if let Err(e) = r {
            tracing::error!(id, what, error = %aws_sdk_sesv2::error::DisplayErrorContext(&e), "contact email not sent");
            ok = false;
        }
    }
    ok
}
