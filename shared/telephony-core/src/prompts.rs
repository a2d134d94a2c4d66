//! Every sentence the caller hears and every text we send, in English and French, in one
//! catalogue (spec §3; original texts in `original-tradeline.md` §4, corrected where they
//! promised what the flow did not do; issue 14: `en-CA` and `fr-CA`).
//!
//! Placeholders: `{business}` (the number's business name), `{callback}` (the number to call
//! back), `{name}` (a known caller's first name). [`Catalogue::texts`] lists every text, so a
//! test checks both languages have all of them and no other placeholder.

/// A prompt language. English is spoken as the number's English variant (`en-CA`/`en-US`),
/// French as `fr-CA`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Lang {
    /// English (`en-CA`, `en-US`).
    En,
    /// Canadian French (`fr-CA`).
    Fr,
}

impl Lang {
    /// From a BCP-47 tag or the short code carried in callback URLs (`fr`, `fr-CA` → French;
    /// anything else → English).
    pub fn from_tag(tag: &str) -> Self {
        if tag.get(..2).is_some_and(|p| p.eq_ignore_ascii_case("fr")) {
            Lang::Fr
        } else {
            Lang::En
        }
    }

    /// The short code carried in callback URLs (`?lang=fr`) and stored on the call.
    pub fn code(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::Fr => "fr",
        }
    }

    /// The other language (what "press 8" switches to).
    pub fn other(self) -> Self {
        match self {
            Lang::En => Lang::Fr,
            Lang::Fr => Lang::En,
        }
    }

    /// The catalogue of this language.
    pub fn texts(self) -> &'static Catalogue {
        match self {
            Lang::En => &EN,
            Lang::Fr => &FR,
        }
    }
}

/// Every caller-facing text of one language.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Catalogue {
    /// Greeting and recording notice (`{business}`).
    pub greeting: &'static str,
    /// A known caller's greeting (`{name}`, `{business}`).
    pub greeting_known: &'static str,
    /// Offer of the other language, spoken in that language ("press 8").
    pub offer_switch: &'static str,
    /// The consent question (strict opt-in, PIPEDA).
    pub consent_question: &'static str,
    /// The consent question when speech is accepted.
    pub consent_question_speech: &'static str,
    /// Main menu.
    pub menu: &'static str,
    /// Main menu when speech is accepted.
    pub menu_speech: &'static str,
    /// First invalid or empty menu choice.
    pub invalid_selection: &'static str,
    /// Second miss: sent to voicemail.
    pub no_selection: &'static str,
    /// Before dialling Sales.
    pub connecting_sales: &'static str,
    /// Before dialling Support.
    pub connecting_support: &'static str,
    /// When the department cannot be dialled (loop guard or no target).
    pub department_unavailable: &'static str,
    /// Dial ended without a connection.
    pub nobody_available: &'static str,
    /// Outside business hours (`{business}`).
    pub after_hours: &'static str,
    /// On a holiday or an operator's closure (`{business}`).
    pub closed_today: &'static str,
    /// Voicemail prompt.
    pub voicemail_prompt: &'static str,
    /// After a voicemail was recorded.
    pub voicemail_thanks: &'static str,
    /// After an empty recording.
    pub voicemail_empty: &'static str,
    /// Internal error or fallback URL: apology before the voicemail recording.
    pub apology: &'static str,
    /// SMS help reply (`{business}`, `{callback}`).
    pub sms_help: &'static str,
    /// WhatsApp help reply (`{business}`, `{callback}`): no carrier "Msg&data rates" wording,
    /// which is SMS's (CTIA); WhatsApp's opt-out is STOP too.
    pub whatsapp_help: &'static str,
    /// Default SMS auto-reply (`{business}`).
    pub sms_auto_reply: &'static str,
    /// Missed-call text (`{business}`, `{callback}`).
    pub missed_call_text: &'static str,
    /// The AI assistant could not take the call: before dialling the team (issue 12).
    pub ai_fallback: &'static str,
    /// The AI assistant handed the caller to a person: before dialling.
    pub ai_transfer: &'static str,
    /// The AI assistant ended the conversation: goodbye before hanging up.
    pub ai_goodbye: &'static str,
    /// The forwarding verification call arrived forwarded (issue 11): said, then Hangup.
    pub forwarding_verified: &'static str,
    /// The AI receptionist's first words, the ConversationRelay `welcomeGreeting` (`{business}`).
    pub ai_welcome: &'static str,
    /// The screened hand-off's whisper to whoever answers a dialled target (issue 24 §1):
    /// `{business}`, `{name}` = the caller (their first name, their number, or `a_caller`).
    pub whisper: &'static str,
    /// Appended to the whisper when the AI collected a reason (`{name}` = the reason).
    pub whisper_about: &'static str,
    /// Ends the whisper: what a person presses to take the call.
    pub whisper_take: &'static str,
    /// The caller in the whisper when we have neither a name nor a number.
    pub a_caller: &'static str,
    /// The verified-caller gate's check (issue 24 §2, `{business}`): only a 5 continues.
    pub gate_check: &'static str,
    /// After the gate's check got no 5.
    pub gate_goodbye: &'static str,
}

impl Catalogue {
    /// Every text with its key (for the catalogue tests and tooling).
    pub fn texts(&self) -> [(&'static str, &'static str); 34] {
        [
            ("greeting", self.greeting),
            ("greeting_known", self.greeting_known),
            ("offer_switch", self.offer_switch),
            ("consent_question", self.consent_question),
            ("consent_question_speech", self.consent_question_speech),
            ("menu", self.menu),
            ("menu_speech", self.menu_speech),
            ("invalid_selection", self.invalid_selection),
            ("no_selection", self.no_selection),
            ("connecting_sales", self.connecting_sales),
            ("connecting_support", self.connecting_support),
            ("department_unavailable", self.department_unavailable),
            ("nobody_available", self.nobody_available),
            ("after_hours", self.after_hours),
            ("closed_today", self.closed_today),
            ("voicemail_prompt", self.voicemail_prompt),
            ("voicemail_thanks", self.voicemail_thanks),
            ("voicemail_empty", self.voicemail_empty),
            ("apology", self.apology),
            ("sms_help", self.sms_help),
            ("whatsapp_help", self.whatsapp_help),
            ("sms_auto_reply", self.sms_auto_reply),
            ("missed_call_text", self.missed_call_text),
            ("ai_fallback", self.ai_fallback),
            ("ai_transfer", self.ai_transfer),
            ("ai_goodbye", self.ai_goodbye),
            ("forwarding_verified", self.forwarding_verified),
            ("ai_welcome", self.ai_welcome),
            ("whisper", self.whisper),
            ("whisper_about", self.whisper_about),
            ("whisper_take", self.whisper_take),
            ("a_caller", self.a_caller),
            ("gate_check", self.gate_check),
            ("gate_goodbye", self.gate_goodbye),
        ]
    }
}

/// The version of the recording notice and consent question a caller heard in `lang`: the first
/// 12 hex digits of SHA-256 over the greeting, the key question and the spoken question (what the
/// consent proof records, so it shows which wording was agreed to; changes with any edit).
pub fn consent_prompt_version(lang: Lang) -> String {
    use sha2::Digest;
    let t = lang.texts();
    let mut h = sha2::Sha256::new();
    for part in [t.greeting, t.consent_question, t.consent_question_speech] {
        h.update(part.as_bytes());
        h.update([0]);
    }
    hex::encode(&h.finalize()[..6])
}

/// Fills `{business}`, `{callback}` and `{name}` in `text`, in one pass: only the template's
/// placeholders are replaced (a business name that contains `{name}` is spoken as written), and
/// any other `{` is kept.
pub fn fill(text: &str, business: &str, callback: &str, name: &str) -> String {
    let mut out = String::with_capacity(text.len() + business.len() + callback.len() + name.len());
    let mut rest = text;
    while let Some(i) = rest.find('{') {
        out.push_str(&rest[..i]);
        let tail = &rest[i..];
        let (value, used) = [
            ("{business}", business),
            ("{callback}", callback),
            ("{name}", name),
        ]
        .into_iter()
        .find(|(placeholder, _)| tail.starts_with(placeholder))
        .map_or(("{", 1), |(placeholder, value)| (value, placeholder.len()));
        out.push_str(value);
        rest = &tail[used..];
    }
    out.push_str(rest);
    out
}

/// English greeting (kept as constants: tests and tools name them).
pub const GREETING: &str = "Thank you for calling {business}. Calls may be recorded for quality and training, but only with your permission.";
/// The consent question.
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
/// When the department cannot be dialled.
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
/// Apology before the voicemail recording.
pub const APOLOGY: &str = "We're sorry, we are having trouble connecting your call. Please leave a message after the tone and we will call you back.";

/// English.
pub const EN: Catalogue = Catalogue {
    greeting: GREETING,
    greeting_known: "Welcome back, {name}. Thank you for calling {business}. Calls may be recorded for quality and training, but only with your permission.",
    offer_switch: "For English, press 8.",
    consent_question: CONSENT_QUESTION,
    consent_question_speech: "Press 1 or say yes to allow this call to be recorded. Press 2 or say no to continue without recording.",
    menu: MENU,
    menu_speech: "Press 1 or say sales. Press 2 or say support. Press 9 or say voicemail to leave a message. Press star to hear these options again.",
    invalid_selection: INVALID_SELECTION,
    no_selection: NO_SELECTION,
    connecting_sales: CONNECTING_SALES,
    connecting_support: CONNECTING_SUPPORT,
    department_unavailable: DEPARTMENT_UNAVAILABLE,
    nobody_available: NOBODY_AVAILABLE,
    after_hours: "{business} is closed right now. Please leave a message and we will call you back.",
    closed_today: "{business} is closed today. Please leave a message and we will call you back.",
    voicemail_prompt: VOICEMAIL_PROMPT,
    voicemail_thanks: VOICEMAIL_THANKS,
    voicemail_empty: VOICEMAIL_EMPTY,
    apology: APOLOGY,
    sms_help: "{business}: for help, call us at {callback}. Msg&data rates may apply. Reply STOP to opt out.",
    whatsapp_help: "{business}: for help, call us at {callback} or write your question here. Reply STOP to stop these messages.",
    sms_auto_reply: "Thanks for texting {business}. We got your message and will get back to you soon. Reply STOP to opt out.",
    missed_call_text: "Sorry we missed your call to {business}. Call us back at {callback}, or reply here. Reply STOP to opt out.",
    ai_fallback: "Sorry, our virtual assistant is not available right now. Connecting you to our team.",
    ai_transfer: "Connecting you to a member of our team.",
    ai_goodbye: "Thank you for calling. Goodbye.",
    forwarding_verified: "Call forwarding is working. You can hang up now. Goodbye.",
    ai_welcome: "Hi, you've reached {business}. I'm the virtual receptionist. How can I help you today?",
    whisper: "Call for {business} from {name}",
    whisper_about: ", about {name}",
    whisper_take: ". Press 1 to take it.",
    a_caller: "a caller",
    gate_check: "To reach {business}, press 5.",
    gate_goodbye: "Sorry, we could not connect your call. Goodbye.",
};

/// Canadian French.
pub const FR: Catalogue = Catalogue {
    greeting: "Merci d'avoir appelé {business}. Les appels peuvent être enregistrés à des fins de qualité et de formation, mais seulement avec votre permission.",
    greeting_known: "Bon retour, {name}. Merci d'avoir appelé {business}. Les appels peuvent être enregistrés à des fins de qualité et de formation, mais seulement avec votre permission.",
    offer_switch: "Pour le service en français, faites le 8.",
    consent_question: "Faites le 1 pour autoriser l'enregistrement de cet appel. Faites le 2 pour continuer sans enregistrement.",
    consent_question_speech: "Faites le 1 ou dites oui pour autoriser l'enregistrement de cet appel. Faites le 2 ou dites non pour continuer sans enregistrement.",
    menu: "Pour les ventes, faites le 1. Pour le soutien technique, faites le 2. Pour laisser un message, faites le 9. Pour réentendre ces options, faites l'étoile.",
    menu_speech: "Faites le 1 ou dites ventes. Faites le 2 ou dites soutien. Faites le 9 ou dites messagerie pour laisser un message. Pour réentendre ces options, faites l'étoile.",
    invalid_selection: "Désolé, ce choix n'est pas valide.",
    no_selection: "Nous n'avons pas reçu de choix valide. Veuillez plutôt laisser un message.",
    connecting_sales: "Nous vous transférons à notre équipe des ventes.",
    connecting_support: "Nous vous transférons au soutien technique.",
    department_unavailable: "Cette équipe n'est pas disponible pour le moment.",
    nobody_available: "Désolé, personne n'est disponible pour prendre votre appel.",
    after_hours: "Vous avez joint {business}. Nos bureaux sont fermés en ce moment. Veuillez laisser un message et nous vous rappellerons.",
    closed_today: "Vous avez joint {business}. Nos bureaux sont fermés aujourd'hui. Veuillez laisser un message et nous vous rappellerons.",
    voicemail_prompt: "Veuillez laisser un message après le signal sonore. Appuyez sur le dièse lorsque vous avez terminé.",
    voicemail_thanks: "Merci. Votre message a été enregistré. Au revoir.",
    voicemail_empty: "Nous n'avons pas reçu de message. Au revoir.",
    apology: "Désolé, nous avons de la difficulté à acheminer votre appel. Veuillez laisser un message après le signal sonore et nous vous rappellerons.",
    sms_help: "{business} : pour de l'aide, appelez-nous au {callback}. Des frais de messagerie et de données peuvent s'appliquer. Répondez STOP pour vous désabonner.",
    whatsapp_help: "{business} : pour de l'aide, appelez-nous au {callback} ou écrivez votre question ici. Répondez STOP pour ne plus recevoir ces messages.",
    sms_auto_reply: "Merci d'avoir écrit à {business}. Nous avons bien reçu votre message et vous répondrons bientôt. Répondez STOP pour vous désabonner.",
    missed_call_text: "Désolé d'avoir manqué votre appel à {business}. Rappelez-nous au {callback} ou répondez ici. Répondez STOP pour vous désabonner.",
    ai_fallback: "Désolé, notre assistant virtuel n'est pas disponible pour le moment. Nous vous transférons à notre équipe.",
    ai_transfer: "Nous vous transférons à un membre de notre équipe.",
    ai_goodbye: "Merci de votre appel. Au revoir.",
    forwarding_verified: "Le renvoi d'appel fonctionne. Vous pouvez raccrocher. Au revoir.",
    ai_welcome: "Bonjour, vous êtes chez {business}. Je suis la réceptionniste virtuelle. Comment puis-je vous aider?",
    whisper: "Appel pour {business} de {name}",
    whisper_about: ", au sujet de {name}",
    whisper_take: ". Appuyez sur 1 pour le prendre.",
    a_caller: "un appelant",
    gate_check: "Pour joindre {business}, appuyez sur 5.",
    gate_goodbye: "Désolé, nous n'avons pas pu acheminer votre appel. Au revoir.",
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fill_replaces_only_the_templates_placeholders() {
        assert_eq!(
            fill(
                "Welcome back, {name}. Call {business} at {callback}.",
                "Acme",
                "+14165550100",
                "Ana"
            ),
            "Welcome back, Ana. Call Acme at +14165550100."
        );
        // What the values hold is spoken as written, and other braces stay.
        assert_eq!(
            fill("{business} {x} { {name}", "A {name} {callback}", "cb", "Bo"),
            "A {name} {callback} {x} { Bo"
        );
        assert_eq!(fill("no placeholders", "A", "", ""), "no placeholders");
        assert_eq!(fill("ends with {", "A", "", ""), "ends with {");
    }

    /// The placeholders a text may use, by key.
    fn allowed(key: &str) -> &'static [&'static str] {
        match key {
            "greeting" | "after_hours" | "closed_today" | "sms_auto_reply" | "ai_welcome"
            | "gate_check" => &["{business}"],
            "whisper" => &["{business}", "{name}"],
            "whisper_about" => &["{name}"],
            "greeting_known" => &["{name}", "{business}"],
            "sms_help" | "whatsapp_help" | "missed_call_text" => &["{business}", "{callback}"],
            _ => &[],
        }
    }

    #[test]
    fn french_closed_prompts_agree_with_any_business_name_and_whatsapp_help_has_no_sms_wording() {
        // "{business} est fermé" breaks for a feminine name ("La Boulangerie est fermé"): the
        // name is never the subject of an adjective.
        for text in [FR.after_hours, FR.closed_today] {
            assert!(!text.contains("{business} est"), "{text}");
            assert!(text.contains("Nos bureaux sont fermés"), "{text}");
        }
        for lang in [&EN, &FR] {
            assert!(
                !lang.whatsapp_help.contains("Msg&data") && !lang.whatsapp_help.contains("frais")
            );
            assert!(lang.whatsapp_help.contains("STOP"));
        }
    }

    #[test]
    fn the_consent_prompt_version_names_the_wording() {
        let en = consent_prompt_version(Lang::En);
        assert_eq!(en.len(), 12);
        assert_ne!(en, consent_prompt_version(Lang::Fr));
        assert_eq!(en, consent_prompt_version(Lang::En));
    }

    #[test]
    fn both_languages_have_every_text_with_only_its_placeholders() {
        for lang in [Lang::En, Lang::Fr] {
            for (key, text) in lang.texts().texts() {
                assert!(!text.trim().is_empty(), "{lang:?} {key} is empty");
                let mut rest = text;
                while let Some(open) = rest.find('{') {
                    let close = rest[open..]
                        .find('}')
                        .map(|c| open + c + 1)
                        .unwrap_or(rest.len());
                    let placeholder = &rest[open..close];
                    assert!(
                        allowed(key).contains(&placeholder),
                        "{lang:?} {key}: unexpected placeholder {placeholder}"
                    );
                    rest = &rest[close..];
                }
                for p in allowed(key) {
                    assert!(text.contains(p), "{lang:?} {key} lacks {p}");
                }
                let filled = fill(text, "Acme", "+15875550100", "Sam");
                assert!(
                    !filled.contains('{') && !filled.contains('}'),
                    "{lang:?} {key}"
                );
            }
        }
        // The two catalogues are translations, not copies.
        for ((k, en), (_, fr)) in EN.texts().iter().zip(FR.texts().iter()) {
            assert_ne!(en, fr, "{k} is not translated");
        }
    }

    #[test]
    fn languages_come_from_tags_and_codes() {
        assert_eq!(Lang::from_tag("fr-CA"), Lang::Fr);
        assert_eq!(Lang::from_tag("fr"), Lang::Fr);
        assert_eq!(Lang::from_tag("en-CA"), Lang::En);
        assert_eq!(Lang::from_tag(""), Lang::En);
        assert_eq!(Lang::En.other(), Lang::Fr);
        assert_eq!(Lang::Fr.code(), "fr");
    }
}
