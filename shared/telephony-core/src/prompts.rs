//! Every sentence the caller hears, in one place (spec §3; original texts in
//! `original-tradeline.md` §4, corrected where they promised what the flow did not do).

/// Greeting and recording notice; `{business}` is replaced by the number's business name.
pub const GREETING: &str = "Thank you for calling {business}. Calls may be recorded for quality and training, but only with your permission.";
/// The consent question (strict opt-in, PIPEDA).
pub const CONSENT_QUESTION: &str =
    "Press 1 to allow this call to be recorded. Press 2 to continue without recording.";
/// Main menu.
pub const MENU: &str = "Press 1 for Sales. Press 2 for Support. Press 9 to leave a voicemail. Press star to hear these options again.";
/// First invalid or empty menu choice.
pub const INVALID_SELECTION: &str = "Sorry, that was not a valid selection.";
/// Second miss: sent to voicemail.
pub const NO_SELECTION: &str =
    "We did not receive a valid selection. Please leave a message instead.";
/// Before dialling Sales.
pub const CONNECTING_SALES: &str = "Connecting you to our sales team.";
/// Before dialling Support.
pub const CONNECTING_SUPPORT: &str = "Connecting you to technical support.";
/// When the department cannot be dialled (loop guard or no target).
pub const DEPARTMENT_UNAVAILABLE: &str = "That team is not available right now.";
/// Dial ended without a connection.
pub const NOBODY_AVAILABLE: &str = "Sorry, nobody is available to take your call.";
/// Voicemail prompt.
pub const VOICEMAIL_PROMPT: &str =
    "Please leave a message after the tone. Press pound when you are finished.";
/// After a voicemail was recorded.
pub const VOICEMAIL_THANKS: &str = "Thank you. Your message has been recorded. Goodbye.";
/// After an empty recording.
pub const VOICEMAIL_EMPTY: &str = "We didn't get a message. Goodbye.";
/// Internal error or fallback URL: apology before the voicemail recording.
pub const APOLOGY: &str = "We're sorry, we are having trouble connecting your call. Please leave a message after the tone and we will call you back.";
