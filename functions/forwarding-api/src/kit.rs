//! The forwarding kit: a printable HTML page for one config (issue 11 §6) — the activation codes
//! large, one step per line, the deactivation code for this mode, the status check, the clear-all
//! code, the country's warning and (estimated) cost copy, the carrier's notes — in English or
//! French. Every text goes through `quick_xml::escape::escape`.

use forwarding::{Carrier, Condition, Country, SourceKind};
use quick_xml::escape::escape;
use telephony_aws::forwarding::ForwardingConfig;

/// The billing note for North American forwarding (issue 22 §4), true for the number at hand:
/// the forwarding number in the SIM's own area code is billed as a local call on most plans;
/// in another area code, carriers that bill forwarding to another area do so as long distance.
/// `None` outside North America (the country's estimate applies).
pub fn billing_note(sim: &str, destination: &str, fr: bool) -> Option<String> {
    let area = |n: &str| {
        n.strip_prefix("+1")
            .filter(|r| r.len() == 10)
            .map(|r| r[..3].to_owned())
    };
    let (a, b) = (area(sim)?, area(destination)?);
    Some(match (a == b, fr) {
        (true, false) => format!("Estimate: the forwarding number is in your own area code ({a}), so most plans bill forwarded calls as local calls."),
        (true, true) => format!("Estimation : le numéro de renvoi est dans votre indicatif régional ({a}); la plupart des forfaits facturent les appels renvoyés comme des appels locaux."),
        (false, false) => format!("Estimate: the forwarding number ({b}) is outside your area code ({a}); carriers that bill forwarding to another area charge it as long distance. Check your plan."),
        (false, true) => format!("Estimation : le numéro de renvoi ({b}) est hors de votre indicatif régional ({a}); les fournisseurs qui facturent le renvoi vers une autre région le comptent comme un interurbain. Vérifiez votre forfait."),
    })
}

/// The conditions of the config's mode no verification call has proven yet, in the order the
/// kit offers their checks (issue 22 §1).
pub fn unverified_conditions(c: &ForwardingConfig) -> Vec<&'static str> {
    conditions(c)
        .iter()
        .map(|k| k.as_str())
        .filter(|k| !c.verified_conditions.iter().any(|v| v == k))
        .collect()
}

fn conditions(c: &ForwardingConfig) -> &'static [Condition] {
    Condition::of_mode(c.mode)
}

/// One line per condition of the config's mode: proven, or how to check it.
pub fn verification_lines(c: &ForwardingConfig, lang: Lang) -> Vec<String> {
    let fr = lang == Lang::Fr;
    conditions(c)
        .iter()
        .map(|k| {
            let name = match (k, fr) {
                (Condition::Unconditional, false) => "All calls",
                (Condition::Unconditional, true) => "Tous les appels",
                (Condition::NoAnswer, false) => "No answer",
                (Condition::NoAnswer, true) => "Sans réponse",
                (Condition::Busy, false) => "Busy",
                (Condition::Busy, true) => "Occupé",
                (Condition::NotReachable, false) => "Not reachable",
                (Condition::NotReachable, true) => "Injoignable",
            };
            let proven = c.verified_conditions.iter().any(|v| v == k.as_str());
            match (proven, fr) {
                (true, false) => format!("{name}: verified by a test call."),
                (true, true) => format!("{name} : vérifié par un appel test."),
                (false, false) => format!(
                    "{name}: not verified yet. Ask for the check \"{}\" ({})",
                    k.as_str(),
                    while_it_rings(k.instructions(false), "We are calling your mobile now")
                ),
                (false, true) => format!(
                    "{name} : pas encore vérifié. Demandez la vérification « {} » ({})",
                    k.as_str(),
                    while_it_rings(k.instructions(true), "Nous appelons votre cellulaire")
                ),
            }
        })
        .collect()
}

/// A warning at the top of the kit when forwarding is known not to work (issue 24 §3):
/// `looping` (the phone forwards our own call back) or `unverified` (a check failed), with the
/// reason; `None` otherwise.
pub fn state_line(c: &ForwardingConfig, lang: Lang) -> Option<String> {
    let fr = lang == Lang::Fr;
    let what = match (c.state.as_str(), fr) {
        ("looping", false) => "Forwarding is looping: your phone sends our calls back to us, so callers go to voicemail. Clear all forwarding, set it again with the codes below, then ask for a check.",
        ("looping", true) => "Le renvoi tourne en boucle : votre téléphone nous renvoie nos propres appels, et les appelants vont à la boîte vocale. Annulez tous les renvois, activez-les de nouveau avec les codes ci-dessous, puis demandez une vérification.",
        ("unverified", false) => "Forwarding is not verified: the last check did not come back. Set it again with the codes below, then ask for a check.",
        ("unverified", true) => "Le renvoi n'est pas vérifié : la dernière vérification n'a pas abouti. Activez-le de nouveau avec les codes ci-dessous, puis demandez une vérification.",
        _ => return None,
    };
    Some(match &c.reason {
        Some(r) if !r.is_empty() => format!("{what} ({r})"),
        _ => what.to_owned(),
    })
}

/// The part of a check's instructions that says what to do, lower-cased to follow a
/// parenthesis ("do not answer: …").
fn while_it_rings(instructions: &str, opening: &str) -> String {
    let rest = instructions
        .strip_prefix(opening)
        .map(|r| r.trim_start_matches(['.', ';', ' ']))
        .unwrap_or(instructions)
        .trim_end_matches('.');
    let mut chars = rest.chars();
    chars
        .next()
        .map(|c| c.to_lowercase().chain(chars).collect())
        .unwrap_or_default()
}

/// The kit's language.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    /// English.
    En,
    /// French.
    Fr,
}

impl Lang {
    /// `fr`, `fr-CA`… → French; anything else English.
    pub fn from_tag(tag: &str) -> Self {
        if tag.to_ascii_lowercase().starts_with("fr") {
            Lang::Fr
        } else {
            Lang::En
        }
    }
}

/// The steps to turn forwarding on, one per line.
pub fn steps(c: &ForwardingConfig, lang: Lang) -> Vec<String> {
    let fr = lang == Lang::Fr;
    let mut out = vec![if fr {
        "Ouvrez le clavier téléphonique de votre cellulaire.".to_owned()
    } else {
        "Open the phone app's keypad on your mobile.".to_owned()
    }];
    for code in &c.activation {
        out.push(if fr {
            format!("Composez {code} puis appuyez sur Appeler; attendez la confirmation.")
        } else {
            format!("Dial {code} and press Call; wait for the confirmation.")
        });
    }
    out.push(match (c.mode.as_str(), fr) {
        ("safety_net", false) => "Then ask us to verify: we call your mobile; do not answer, so the call is forwarded.".into(),
        ("safety_net", true) => "Demandez ensuite la vérification : nous appelons votre cellulaire; ne répondez pas, pour que l'appel soit renvoyé.".into(),
        (_, false) => "Then ask us to verify: we call your mobile; it should not ring.".into(),
        (_, true) => "Demandez ensuite la vérification : nous appelons votre cellulaire; il ne devrait pas sonner.".into(),
    });
    out
}

/// The kit page.
pub fn render(c: &ForwardingConfig, country: &Country, carrier: &Carrier, lang: Lang) -> String {
    let fr = lang == Lang::Fr;
    let t = |en: &'static str, fr_text: &'static str| if fr { fr_text } else { en };
    let e = |s: &str| escape(s).into_owned();
    let codes = |list: &[String]| {
        list.iter()
            .map(|c| format!("<div class=\"code\">{}</div>", e(c)))
            .collect::<String>()
    };
    let small_codes = |list: &[String]| {
        list.iter()
            .map(|c| format!("<div class=\"code small\">{}</div>", e(c)))
            .collect::<String>()
    };
    let steps: String = steps(c, lang)
        .iter()
        .map(|s| format!("<li>{}</li>", e(s)))
        .collect();
    let mode = match (c.mode.as_str(), fr) {
        ("safety_net", false) => "Safety net: calls you do not take (busy, unanswered, unreachable) go to the AI receptionist.",
        ("safety_net", true) => "Filet de sécurité : les appels que vous ne prenez pas (occupé, sans réponse, injoignable) vont à la réceptionniste IA.",
        (_, false) => "Total AI: every call goes to the AI receptionist; your phone does not ring.",
        (_, true) => "IA totale : tous les appels vont à la réceptionniste IA; votre téléphone ne sonne pas.",
    };
    let (warning, cost, country_name) = if fr {
        (
            &country.warning_fr,
            &country.cost_estimate_fr,
            &country.name_fr,
        )
    } else {
        (&country.warning, &country.cost_estimate, &country.name)
    };
    let cost = billing_note(&c.sim_e164, &c.destination, fr).unwrap_or_else(|| cost.clone());
    let status = if c.interrogation.is_empty() {
        String::new()
    } else {
        format!(
            "<h2>{}</h2>{}",
            t(
                "Check the status (one code per condition)",
                "Vérifier l'état (un code par condition)"
            ),
            small_codes(&c.interrogation)
        )
    };
    let verification: String = verification_lines(c, lang)
        .iter()
        .map(|s| format!("<li>{}</li>", e(s)))
        .collect();
    let source = match (carrier.source_kind, fr) {
        (SourceKind::Carrier, false) => format!("Source: {}'s support page", carrier.name),
        (SourceKind::Carrier, true) => format!("Source : la page d'aide de {}", carrier.name),
        (SourceKind::Report, false) => format!("Source: codes as published for {}", carrier.name),
        (SourceKind::Report, true) => format!("Source : codes publiés pour {}", carrier.name),
        (SourceKind::Standard, _) => "Source: 3GPP TS 22.030".to_owned(),
    } + &format!(", {}", carrier.source);
    let notes = carrier
        .notes
        .as_deref()
        .map(|n| format!("<p class=\"notes\">{}</p>", e(n)))
        .unwrap_or_default();
    let state = state_line(c, lang)
        .map(|l| format!("<p class=\"warning\">{}</p>", e(&l)))
        .unwrap_or_default();
    let ring = c
        .ring_time
        .map(|r| {
            format!(
                "<p>{} {r} s</p>",
                t("Rings before forwarding:", "Sonneries avant le renvoi :")
            )
        })
        .unwrap_or_default();
    format!(
        r#"<!DOCTYPE html>
<html lang="{lang}">
<head>
<meta charset="utf-8">
<title>{title}</title>
<style>
body {{ font-family: sans-serif; margin: 2em; max-width: 48em; }}
h1 {{ font-size: 1.6em; }}
.code {{ font-family: monospace; font-size: 2em; font-weight: bold; letter-spacing: 0.08em; margin: 0.2em 0; }}
.small {{ font-size: 1.3em; display: inline-block; margin-right: 1.2em; }}
h2 {{ font-size: 1.2em; margin: 0.7em 0 0.2em; }}
.notes {{ font-size: 0.9em; }}
.warning {{ border: 2px solid #b00; padding: 0.6em; }}
li {{ margin: 0.25em 0; font-size: 1.05em; }}
@page {{ margin: 1cm; }}
@media print {{ body {{ margin: 0; font-size: 10pt; }} .code {{ font-size: 1.7em; }} .small {{ font-size: 1.2em; }} }}
</style>
</head>
<body>
<h1>{title}</h1>
<p>{carrier_name} · {country_name} · {sim}</p>
{state}
<p>{mode}</p>
<h2>{on}</h2>
{activation}
<ol>{steps}</ol>
{ring}
<h2>{off}</h2>
{deactivation}
{status}
<h2>{verified}</h2>
<ul>{verification}</ul>
<h2>{clear}</h2>
<div class="code small">{clear_all}</div>
<p class="warning">{warning}</p>
<p>{cost}</p>
{notes}
<p class="notes">{source}</p>
</body>
</html>
"#,
        lang = if fr { "fr" } else { "en" },
        title = t("Call forwarding kit", "Trousse de renvoi d'appel"),
        carrier_name = e(&carrier.name),
        country_name = e(country_name),
        sim = e(&c.sim_e164),
        mode = e(mode),
        state = state,
        on = t("Turn forwarding on", "Activer le renvoi"),
        activation = codes(&c.activation),
        steps = steps,
        ring = ring,
        off = t("Turn it off", "Le désactiver"),
        deactivation = small_codes(&c.deactivation),
        status = status,
        verified = t("Verified conditions", "Conditions vérifiées"),
        verification = verification,
        source = e(&source),
        clear = t("Clear all forwarding", "Annuler tous les renvois"),
        clear_all = e(&c.clear_all),
        warning = e(warning),
        cost = e(&cost),
        notes = notes,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_billing_note_is_true_for_the_numbers_at_hand() {
        let local = billing_note("+14165550177", "+14165550190", false).unwrap();
        assert!(
            local.contains("own area code (416)") && local.contains("local"),
            "{local}"
        );
        let far = billing_note("+14165550177", "+15875550190", false).unwrap();
        assert!(
            far.contains("long distance") && !far.contains("as local"),
            "{far}"
        );
        assert!(billing_note("+14165550177", "+15875550190", true)
            .unwrap()
            .contains("interurbain"));
        assert_eq!(billing_note("+447700900123", "+15875550190", false), None);
    }
}
