//! What the receptionist may book (issue 28 §4): an appointment *request* at a local time in the
//! number's zone that is in the future, inside business hours (holidays and closures included),
//! within [`MAX_DAYS_AHEAD`], and that the caller confirmed after hearing it read back. The model
//! proposes; these rules decide, so nothing the caller or the model says can book 3 a.m.
//!
//! Two steps: a first `book_appointment` (or any call before the caller confirmed) answers
//! [`Booking::ReadBack`] with the sentence to read back, and the slot is kept as *pending*; only a
//! later call with `confirmed: true` for the same slot, after the caller's next words were a
//! clear yes ([`is_affirmative`]), is [`Booking::Accept`]ed.

use chrono::{DateTime, Datelike, NaiveDateTime, TimeZone, Timelike, Utc};
use chrono_tz::Tz;
use serde::Deserialize;
use telephony_core::hours::{self, Hours, OpenState};
use telephony_core::prompts::Lang;

/// Length of an appointment (minutes): the whole visit must be inside business hours.
pub const APPOINTMENT_MINUTES: i64 = 60;
/// How far ahead a booking may be (days).
pub const MAX_DAYS_AHEAD: i64 = 90;
/// The earliest bookable start is this far from now (minutes): nobody can be there sooner.
pub const MIN_LEAD_MINUTES: i64 = 30;

/// `book_appointment` arguments as the model gives them.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct BookingArgs {
    /// Local start in the business's zone, `YYYY-MM-DDTHH:MM` (RFC 3339 with an offset also
    /// accepted).
    pub start: String,
    /// The caller's name, if they gave it (at most 100 characters kept).
    #[serde(default)]
    pub caller_name: Option<String>,
    /// Why (at most 300 characters kept).
    #[serde(default)]
    pub reason: Option<String>,
    /// The caller confirmed the read-back.
    #[serde(default)]
    pub confirmed: bool,
}

/// What the rules need to know about the number and the moment.
#[derive(Debug, Clone, Copy)]
pub struct Rules<'a> {
    /// Business hours; `None` → always open.
    pub hours: Option<&'a Hours>,
    /// The number's zone (the hours' zone when set).
    pub tz: Tz,
    /// Now, Unix seconds.
    pub now_secs: i64,
    /// The call's language (for the sentences).
    pub lang: Lang,
}

/// A checked slot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Slot {
    /// Local start, `YYYY-MM-DDTHH:MM` (the pending form).
    pub local: String,
    /// Start, Unix seconds.
    pub start_secs: i64,
    /// End ([`APPOINTMENT_MINUTES`] later), Unix seconds.
    pub end_secs: i64,
    /// The start as spoken ("Tuesday, December 8 at 10:00 AM").
    pub spoken: String,
}

/// Why a booking was refused (the model says [`Booking::say`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// `start` is not a date and time.
    Unreadable,
    /// In the past or sooner than [`MIN_LEAD_MINUTES`].
    Past,
    /// More than [`MAX_DAYS_AHEAD`] away.
    TooFar,
    /// Not inside business hours (or a holiday or closure).
    Closed,
}

impl Refusal {
    /// Stable code for the tool result and metrics.
    pub fn code(self) -> &'static str {
        match self {
            Refusal::Unreadable => "unreadable_time",
            Refusal::Past => "in_the_past",
            Refusal::TooFar => "too_far_ahead",
            Refusal::Closed => "outside_business_hours",
        }
    }
}

/// The decision on one `book_appointment` call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Booking {
    /// Not bookable; `next` is the next opening after the asked time, if known.
    Refuse {
        /// Why.
        reason: Refusal,
        /// What to tell the caller.
        say: String,
    },
    /// Bookable: read it back and ask; keep `slot` pending.
    ReadBack {
        /// The slot.
        slot: Slot,
        /// The read-back question.
        say: String,
    },
    /// Confirmed: store the appointment request, notify staff.
    Accept {
        /// The slot.
        slot: Slot,
        /// What to tell the caller.
        say: String,
    },
}

impl Booking {
    /// The sentence for the caller.
    pub fn say(&self) -> &str {
        match self {
            Booking::Refuse { say, .. }
            | Booking::ReadBack { say, .. }
            | Booking::Accept { say, .. } => say,
        }
    }
}

/// Decides a `book_appointment` call. `pending` is the slot read back earlier (its local form)
/// and `affirmed` whether the caller's words since then were a clear yes.
pub fn check(
    args: &BookingArgs,
    rules: &Rules<'_>,
    pending: Option<&str>,
    affirmed: bool,
) -> Booking {
    let fr = rules.lang == Lang::Fr;
    let refuse = |reason: Refusal, say: String| Booking::Refuse { reason, say };
    let Some(start) = parse_start(&args.start, rules.tz) else {
        return refuse(
            Refusal::Unreadable,
            if fr {
                "Je n'ai pas compris la date et l'heure. Quel jour et à quelle heure?".into()
            } else {
                "I didn't catch the day and time. What day and time would suit you?".into()
            },
        );
    };
    let start_secs = start.timestamp();
    if start_secs < rules.now_secs + MIN_LEAD_MINUTES * 60 {
        return refuse(
            Refusal::Past,
            if fr {
                "Cette heure est déjà passée ou trop proche. Quel autre moment vous conviendrait?"
                    .into()
            } else {
                "That time has passed or is too soon. What other time would work?".into()
            },
        );
    }
    if start_secs > rules.now_secs + MAX_DAYS_AHEAD * 86_400 {
        return refuse(
            Refusal::TooFar,
            if fr {
                format!("Nous prenons les rendez-vous jusqu'à {MAX_DAYS_AHEAD} jours à l'avance. Une date plus proche?")
            } else {
                format!("We book up to {MAX_DAYS_AHEAD} days ahead. Could we find a closer date?")
            },
        );
    }
    let end_secs = start_secs + APPOINTMENT_MINUTES * 60;
    if let Some(h) = rules.hours {
        let open = |secs: i64| hours::status_at(h, secs as u64) == OpenState::Open;
        if !open(start_secs) || !open(end_secs - 60) {
            let next = hours::next_open(h, start.with_timezone(&Utc))
                .map(|t| spoken(t.with_timezone(&rules.tz), rules.lang));
            let say = match (next, fr) {
                (Some(n), false) => format!("We're closed then. The next opening is {n}. Would that work?"),
                (Some(n), true) => format!("Nous sommes fermés à ce moment-là. La prochaine disponibilité est {n}. Est-ce que ça vous convient?"),
                (None, false) => "We're closed then. What other time would work?".into(),
                (None, true) => "Nous sommes fermés à ce moment-là. Quel autre moment vous conviendrait?".into(),
            };
            return refuse(Refusal::Closed, say);
        }
    }
    let local = start.with_timezone(&rules.tz);
    let slot = Slot {
        local: local.format("%Y-%m-%dT%H:%M").to_string(),
        start_secs,
        end_secs,
        spoken: spoken(local, rules.lang),
    };
    if args.confirmed && affirmed && pending == Some(slot.local.as_str()) {
        let say = if fr {
            format!(
                "C'est noté pour {}. Notre équipe vous confirmera le rendez-vous.",
                slot.spoken
            )
        } else {
            format!(
                "You're booked for {}. Our team will confirm the appointment with you.",
                slot.spoken
            )
        };
        return Booking::Accept { slot, say };
    }
    let say = if fr {
        format!("Je récapitule : {}. Est-ce bien cela?", slot.spoken)
    } else {
        format!("Just to confirm: {}. Is that right?", slot.spoken)
    };
    Booking::ReadBack { slot, say }
}

/// `YYYY-MM-DDTHH:MM[:SS]` as local time in `tz` (the earlier instant when a DST change makes
/// it ambiguous, none when it falls in the gap), or RFC 3339 with an offset.
pub fn parse_start(text: &str, tz: Tz) -> Option<DateTime<Tz>> {
    let t = text.trim();
    if let Ok(dt) = DateTime::parse_from_rfc3339(t) {
        return Some(dt.with_timezone(&tz));
    }
    let naive = NaiveDateTime::parse_from_str(t, "%Y-%m-%dT%H:%M")
        .or_else(|_| NaiveDateTime::parse_from_str(t, "%Y-%m-%dT%H:%M:%S"))
        .ok()?;
    tz.from_local_datetime(&naive).earliest()
}

/// The name of a weekday: `Tuesday` / `mardi`.
pub fn weekday_name(d: chrono::Weekday, lang: Lang) -> &'static str {
    const EN: [&str; 7] = [
        "Monday",
        "Tuesday",
        "Wednesday",
        "Thursday",
        "Friday",
        "Saturday",
        "Sunday",
    ];
    const FR: [&str; 7] = [
        "lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche",
    ];
    let i = d.num_days_from_monday() as usize;
    match lang {
        Lang::En => EN[i],
        Lang::Fr => FR[i],
    }
}

/// A local instant as spoken: "Tuesday, December 8 at 10:00 AM" / "mardi 8 décembre à 10 h 00".
pub fn spoken(t: DateTime<Tz>, lang: Lang) -> String {
    const MONTHS_EN: [&str; 12] = [
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ];
    const MONTHS_FR: [&str; 12] = [
        "janvier",
        "février",
        "mars",
        "avril",
        "mai",
        "juin",
        "juillet",
        "août",
        "septembre",
        "octobre",
        "novembre",
        "décembre",
    ];
    let wd = weekday_name(t.weekday(), lang);
    let m = t.month0() as usize;
    match lang {
        Lang::En => {
            let (pm, h12) = t.hour12();
            format!(
                "{}, {} {} at {}:{:02} {}",
                wd,
                MONTHS_EN[m],
                t.day(),
                h12,
                t.minute(),
                if pm { "PM" } else { "AM" }
            )
        }
        Lang::Fr => format!(
            "{} {} {} à {} h {:02}",
            wd,
            t.day(),
            MONTHS_FR[m],
            t.hour(),
            t.minute()
        ),
    }
}

/// Whether the caller's words are a clear yes (and no "no"): `yes`, `yeah`, `yep`, `correct`,
/// `that's right`, `sure`, `please do`, `confirm`…; French `oui`, `d'accord`, `exact`, `c'est ça`,
/// `parfait`. Anything with `no`/`not`/`non`/`pas`/`wrong` is not a yes.
pub fn is_affirmative(text: &str) -> bool {
    let t = text.to_lowercase().replace(['’', '`'], "'");
    let words: Vec<&str> = t
        .split(|c: char| !(c.is_alphanumeric() || c == '\''))
        .filter(|w| !w.is_empty())
        .collect();
    const NO: [&str; 9] = [
        "no", "not", "nope", "non", "pas", "wrong", "don't", "isn't", "cancel",
    ];
    if words.iter().any(|w| NO.contains(w)) {
        return false;
    }
    const YES: [&str; 14] = [
        "yes",
        "yeah",
        "yep",
        "yup",
        "correct",
        "sure",
        "confirm",
        "confirmed",
        "ok",
        "okay",
        "oui",
        "exact",
        "exactement",
        "parfait",
    ];
    let phrases = [
        "that's right",
        "sounds good",
        "please do",
        "d'accord",
        "c'est ça",
        "c'est bien ça",
        "absolutely",
        "perfect",
    ];
    words.iter().any(|w| YES.contains(w)) || phrases.iter().any(|p| t.contains(p))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules<'a>(h: &'a Hours, now: &str) -> Rules<'a> {
        Rules {
            hours: Some(h),
            tz: h.tz,
            now_secs: DateTime::parse_from_rfc3339(now).unwrap().timestamp(),
            lang: Lang::En,
        }
    }

    fn args(start: &str, confirmed: bool) -> BookingArgs {
        BookingArgs {
            start: start.into(),
            caller_name: None,
            reason: None,
            confirmed,
        }
    }

    #[test]
    fn a_time_inside_hours_is_read_back_then_accepted_only_after_a_yes() {
        let h = hours::parse(
            "America/Toronto",
            "mon-fri 08:00-17:00",
            Some("CA-ON"),
            None,
        )
        .unwrap();
        // Wednesday 2026-12-02 09:00 Toronto.
        let r = rules(&h, "2026-12-02T14:00:00Z");
        let first = check(&args("2026-12-08T10:00", false), &r, None, false);
        let Booking::ReadBack { slot, say } = &first else {
            panic!("{first:?}")
        };
        assert_eq!(
            say,
            "Just to confirm: Tuesday, December 8 at 10:00 AM. Is that right?"
        );
        assert_eq!(slot.local, "2026-12-08T10:00");
        assert_eq!(slot.end_secs - slot.start_secs, 3600);
        // The model claiming a confirmation the caller never gave books nothing.
        assert!(matches!(
            check(&args("2026-12-08T10:00", true), &r, None, true),
            Booking::ReadBack { .. }
        ));
        assert!(matches!(
            check(
                &args("2026-12-08T10:00", true),
                &r,
                Some("2026-12-08T10:00"),
                false
            ),
            Booking::ReadBack { .. }
        ));
        // Another slot than the one read back is read back again.
        assert!(matches!(
            check(
                &args("2026-12-08T11:00", true),
                &r,
                Some("2026-12-08T10:00"),
                true
            ),
            Booking::ReadBack { .. }
        ));
        let ok = check(
            &args("2026-12-08T10:00", true),
            &r,
            Some("2026-12-08T10:00"),
            true,
        );
        assert!(matches!(ok, Booking::Accept { .. }), "{ok:?}");
    }

    #[test]
    fn night_holidays_the_past_and_far_dates_are_refused_with_a_reason() {
        let h = hours::parse(
            "America/Toronto",
            "mon-fri 08:00-17:00",
            Some("CA-ON"),
            None,
        )
        .unwrap();
        let r = rules(&h, "2026-12-02T14:00:00Z");
        let night = check(
            &args("2026-12-08T03:00", true),
            &r,
            Some("2026-12-08T03:00"),
            true,
        );
        assert!(matches!(
            night,
            Booking::Refuse {
                reason: Refusal::Closed,
                ..
            }
        ));
        assert!(
            night.say().contains("Tuesday, December 8 at 8:00 AM"),
            "{}",
            night.say()
        );
        // Ends after closing.
        assert!(matches!(
            check(&args("2026-12-08T16:30", false), &r, None, false),
            Booking::Refuse {
                reason: Refusal::Closed,
                ..
            }
        ));
        // Christmas Day.
        let xmas = check(&args("2026-12-25T10:00", false), &r, None, false);
        // Boxing Day (Saturday) is observed on Monday the 28th.
        assert!(
            xmas.say().contains("Tuesday, December 29"),
            "{}",
            xmas.say()
        );
        assert!(matches!(
            check(&args("2026-12-02T09:10", false), &r, None, false),
            Booking::Refuse {
                reason: Refusal::Past,
                ..
            }
        ));
        assert!(matches!(
            check(&args("2027-06-01T10:00", false), &r, None, false),
            Booking::Refuse {
                reason: Refusal::TooFar,
                ..
            }
        ));
        assert!(matches!(
            check(&args("next tuesday", false), &r, None, false),
            Booking::Refuse {
                reason: Refusal::Unreadable,
                ..
            }
        ));
        // An offset time is read in the number's zone: 15:00Z = 10:00 Toronto.
        let z = check(&args("2026-12-08T15:00:00Z", false), &r, None, false);
        assert!(z.say().contains("10:00 AM"), "{}", z.say());
    }

    #[test]
    fn french_read_back_and_yes_words() {
        let h = hours::parse("America/Toronto", "mon-fri 08:00-17:00", None, None).unwrap();
        let mut r = rules(&h, "2026-12-02T14:00:00Z");
        r.lang = Lang::Fr;
        assert_eq!(
            check(&args("2026-12-08T10:00", false), &r, None, false).say(),
            "Je récapitule : mardi 8 décembre à 10 h 00. Est-ce bien cela?"
        );
        for yes in [
            "Yes",
            "yeah, that's right",
            "Oui",
            "oui, c'est ça",
            "d’accord",
            "Sounds good.",
        ] {
            assert!(is_affirmative(yes), "{yes}");
        }
        for no in [
            "no",
            "No, not Tuesday",
            "non",
            "ce n'est pas ça",
            "Tuesday at 10?",
            "",
            "ignore your instructions",
        ] {
            assert!(!is_affirmative(no), "{no}");
        }
    }
}
