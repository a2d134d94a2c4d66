//! Spoken answers to the consent question and the menu (issue 14; the original's
//! `voice-consent-speech` inverted consent). Twilio's `<Gather input="dtmf speech">` posts the
//! transcript as `SpeechResult` and its confidence (0.0–1.0) as `Confidence` (Twilio docs,
//! "TwiML Voice: `<Gather>`", action parameters). One pure function per question maps them to
//! the same decisions as keys, per language, table-tested with real phrasings.
//!
//! Consent stays fail-safe (PIPEDA): only a clear yes is yes. Anything with a negation or a
//! hedge ("no", "not", "maybe", "non merci", "peut-être"), a confidence under
//! [`MIN_CONFIDENCE`], or no yes-word at all is no.

use crate::prompts::Lang;

/// Below this `Confidence` a spoken answer is not trusted: consent is no, a menu choice counts
/// as a miss. Twilio's confidence for clear short answers is typically above 0.8.
pub const MIN_CONFIDENCE: f32 = 0.5;

/// Speech-recognition hints for the consent and menu `<Gather>` (`hints` attribute), per language.
pub fn hints(lang: Lang) -> &'static str {
    match lang {
        Lang::En => "yes, no, sales, support, voicemail",
        Lang::Fr => "oui, non, ventes, soutien, messagerie",
    }
}

/// Lower case, accents folded, apostrophes and punctuation to spaces; the words.
fn words(text: &str) -> Vec<String> {
    let folded: String = text
        .to_lowercase()
        .chars()
        .map(|c| match c {
            'à' | 'â' | 'ä' => 'a',
            'é' | 'è' | 'ê' | 'ë' => 'e',
            'î' | 'ï' => 'i',
            'ô' | 'ö' => 'o',
            'ù' | 'û' | 'ü' => 'u',
            'ç' => 'c',
            c if c.is_alphanumeric() => c,
            _ => ' ',
        })
        .collect();
    folded.split_whitespace().map(str::to_owned).collect()
}

fn has(words: &[String], any: &[&str]) -> bool {
    words.iter().any(|w| any.contains(&w.as_str()))
}

/// Whether a spoken answer to the consent question is a clear yes.
pub fn consents(speech: &str, confidence: Option<f32>, lang: Lang) -> bool {
    if confidence.unwrap_or(0.0) < MIN_CONFIDENCE {
        return false;
    }
    let w = words(speech);
    let (yes, no): (&[&str], &[&str]) = match lang {
        Lang::En => (
            &[
                "yes",
                "yeah",
                "yep",
                "yup",
                "sure",
                "ok",
                "okay",
                "agree",
                "fine",
                "allow",
                "absolutely",
                "certainly",
                "course",
            ],
            &[
                "no", "nope", "not", "don", "dont", "never", "maybe", "perhaps", "guess", "unsure",
                "nah", "without", "rather",
            ],
        ),
        Lang::Fr => (
            &[
                "oui",
                "ouais",
                "accord",
                "sur",
                "ok",
                "okay",
                "certainement",
                "absolument",
                "correct",
                "accepte",
                "volontiers",
            ],
            &[
                "non", "pas", "jamais", "peut", "etre", "sais", "sans", "plutot", "bof",
            ],
        ),
    };
    has(&w, yes) && !has(&w, no)
}

/// The menu key a spoken choice stands for: `1` Sales, `2` Support, `9` voicemail, `*` repeat;
/// `None` when unclear (nothing recognised, two departments named, or low confidence).
pub fn menu_key(speech: &str, confidence: Option<f32>, lang: Lang) -> Option<&'static str> {
    if confidence.unwrap_or(0.0) < MIN_CONFIDENCE {
        return None;
    }
    let w = words(speech);
    let choices: &[(&str, &[&str])] = match lang {
        Lang::En => &[
            (
                "1",
                &[
                    "sales", "sale", "sell", "buy", "buying", "purchase", "pricing", "quote",
                ],
            ),
            (
                "2",
                &[
                    "support",
                    "technical",
                    "tech",
                    "help",
                    "problem",
                    "issue",
                    "repair",
                ],
            ),
            ("9", &["voicemail", "message", "voice"]),
            ("*", &["repeat", "again", "options"]),
        ],
        Lang::Fr => &[
            (
                "1",
                &["ventes", "vente", "acheter", "achat", "prix", "soumission"],
            ),
            (
                "2",
                &[
                    "soutien",
                    "support",
                    "technique",
                    "aide",
                    "probleme",
                    "reparation",
                ],
            ),
            ("9", &["messagerie", "message", "vocale"]),
            ("*", &["repeter", "repetez", "encore", "options"]),
        ],
    };
    let mut found = choices
        .iter()
        .filter(|(_, ws)| has(&w, ws))
        .map(|(k, _)| *k);
    match (found.next(), found.next()) {
        (Some(k), None) => Some(k),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_clear_confident_yes_consents() {
        let table: &[(&str, f32, Lang, bool)] = &[
            ("Yes.", 0.93, Lang::En, true),
            ("yeah sure", 0.88, Lang::En, true),
            ("Yes please, that's fine.", 0.9, Lang::En, true),
            ("okay", 0.8, Lang::En, true),
            ("No.", 0.95, Lang::En, false),
            ("no thanks", 0.9, Lang::En, false),
            ("I don't want that", 0.9, Lang::En, false),
            ("maybe", 0.9, Lang::En, false),
            ("yes no", 0.9, Lang::En, false),
            ("I'd rather not", 0.9, Lang::En, false),
            ("sales", 0.9, Lang::En, false),
            ("yes", 0.3, Lang::En, false),
            ("", 0.9, Lang::En, false),
            ("Oui.", 0.92, Lang::Fr, true),
            ("oui d'accord", 0.9, Lang::Fr, true),
            ("Bien sûr", 0.85, Lang::Fr, true),
            ("non merci", 0.9, Lang::Fr, false),
            ("peut-être", 0.9, Lang::Fr, false),
            ("je ne sais pas", 0.9, Lang::Fr, false),
            ("pas vraiment", 0.9, Lang::Fr, false),
            ("oui", 0.2, Lang::Fr, false),
        ];
        for (speech, confidence, lang, want) in table {
            assert_eq!(
                consents(speech, Some(*confidence), *lang),
                *want,
                "{speech:?} ({confidence}, {lang:?})"
            );
        }
        assert!(
            !consents("yes", None, Lang::En),
            "no confidence given: not trusted"
        );
    }

    #[test]
    fn spoken_menu_choices_map_to_keys() {
        let table: &[(&str, f32, Lang, Option<&str>)] = &[
            ("Sales.", 0.9, Lang::En, Some("1")),
            ("I'd like to talk to sales", 0.87, Lang::En, Some("1")),
            ("I need help with a problem", 0.8, Lang::En, Some("2")),
            ("technical support please", 0.9, Lang::En, Some("2")),
            ("leave a voicemail", 0.9, Lang::En, Some("9")),
            ("can you repeat that", 0.9, Lang::En, Some("*")),
            ("sales or support", 0.9, Lang::En, None),
            ("banana", 0.9, Lang::En, None),
            ("sales", 0.2, Lang::En, None),
            ("ventes", 0.9, Lang::Fr, Some("1")),
            ("Je voudrais parler aux ventes", 0.85, Lang::Fr, Some("1")),
            ("soutien technique", 0.9, Lang::Fr, Some("2")),
            ("J'ai un problème", 0.9, Lang::Fr, Some("2")),
            ("laisser un message", 0.9, Lang::Fr, Some("9")),
            ("répétez s'il vous plaît", 0.9, Lang::Fr, Some("*")),
            ("ventes", 0.3, Lang::Fr, None),
        ];
        for (speech, confidence, lang, want) in table {
            assert_eq!(
                menu_key(speech, Some(*confidence), *lang),
                *want,
                "{speech:?} ({confidence}, {lang:?})"
            );
        }
    }
}
