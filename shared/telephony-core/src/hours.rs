//! Business hours and closures per number (issue 14): weekly hours in the number's IANA time
//! zone (DST-correct through `chrono-tz`), statutory holidays of its province or state (rules as
//! data: [`HOLIDAYS`]), and dated closures set by operators. [`status`] is a pure function of
//! (hours, instant) → open, after hours, or closed today.
//!
//! Written form (the `numbers` table's `hours`, the config route): day groups separated by `;`,
//! each `DAYS RANGES` with days `mon`…`sun`, `mon-fri` or `sat,sun`, and ranges `HH:MM-HH:MM`
//! separated by `,`; a range ending at or before it starts runs past midnight into the next day
//! (`fri 18:00-02:00`). Days not listed are closed. Example: `mon-fri 08:30-12:00,13:00-17:00;
//! sat 10:00-14:00`.

use chrono::{DateTime, Datelike, NaiveDate, Timelike, Utc, Weekday};
use chrono_tz::Tz;

/// One number's opening hours.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hours {
    /// IANA time zone, e.g. `America/Edmonton`.
    pub tz: Tz,
    /// Per weekday (Monday first), ranges of local minutes `[open, close)`; `close <= open` runs
    /// past midnight.
    pub weekly: [Vec<(u16, u16)>; 7],
    /// Statutory holidays of this region (`CA-AB`, `CA-ON`, `CA-QC`, `CA-BC`, `US`…), if any.
    pub holiday_region: Option<String>,
    /// Dated closures (local dates), e.g. 2026-12-24.
    pub closures: Vec<NaiveDate>,
}

/// Whether a call at an instant is taken.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OpenState {
    /// Within the hours.
    Open,
    /// Closed, and why.
    Closed(Closed),
}

/// A holiday rule (Gregorian calendar).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rule {
    /// The same date every year: (month, day).
    Fixed(u32, u32),
    /// The `n`th (1–4) weekday of the month, or the last one for `n = -1`.
    Nth(u32, Weekday, i8),
    /// The last such weekday strictly before (month, day) (Victoria Day: Monday before May 25).
    Before(u32, u32, Weekday),
    /// Days after Easter Sunday (Good Friday −2, Easter Monday +1).
    Easter(i64),
}

/// Statutory holidays: (region, name, rule). A region `CA-AB` also gets the `CA` rows. Sources:
/// Government of Canada "Public holidays" and each province's employment-standards list; US
/// federal holidays (5 U.S.C. 6103), used for every state. A fixed-date holiday on a weekend is
/// also closed on its observed day ([`observed`]).
pub const HOLIDAYS: &[(&str, &str, Rule)] = &[
    ("CA", "New Year's Day", Rule::Fixed(1, 1)),
    ("CA", "Good Friday", Rule::Easter(-2)),
    ("CA", "Canada Day", Rule::Fixed(7, 1)),
    ("CA", "Labour Day", Rule::Nth(9, Weekday::Mon, 1)),
    ("CA", "Christmas Day", Rule::Fixed(12, 25)),
    ("CA-AB", "Family Day", Rule::Nth(2, Weekday::Mon, 3)),
    ("CA-AB", "Victoria Day", Rule::Before(5, 25, Weekday::Mon)),
    ("CA-AB", "Thanksgiving", Rule::Nth(10, Weekday::Mon, 2)),
    ("CA-AB", "Remembrance Day", Rule::Fixed(11, 11)),
    ("CA-BC", "Family Day", Rule::Nth(2, Weekday::Mon, 3)),
    ("CA-BC", "Victoria Day", Rule::Before(5, 25, Weekday::Mon)),
    (
        "CA-BC",
        "British Columbia Day",
        Rule::Nth(8, Weekday::Mon, 1),
    ),
    (
        "CA-BC",
        "National Day for Truth and Reconciliation",
        Rule::Fixed(9, 30),
    ),
    ("CA-BC", "Thanksgiving", Rule::Nth(10, Weekday::Mon, 2)),
    ("CA-BC", "Remembrance Day", Rule::Fixed(11, 11)),
    ("CA-ON", "Family Day", Rule::Nth(2, Weekday::Mon, 3)),
    ("CA-ON", "Victoria Day", Rule::Before(5, 25, Weekday::Mon)),
    ("CA-ON", "Thanksgiving", Rule::Nth(10, Weekday::Mon, 2)),
    ("CA-ON", "Boxing Day", Rule::Fixed(12, 26)),
    (
        "CA-QC",
        "Journée nationale des patriotes",
        Rule::Before(5, 25, Weekday::Mon),
    ),
    ("CA-QC", "Fête nationale", Rule::Fixed(6, 24)),
    ("CA-QC", "Action de grâce", Rule::Nth(10, Weekday::Mon, 2)),
    ("US", "New Year's Day", Rule::Fixed(1, 1)),
    (
        "US",
        "Martin Luther King Jr. Day",
        Rule::Nth(1, Weekday::Mon, 3),
    ),
    ("US", "Washington's Birthday", Rule::Nth(2, Weekday::Mon, 3)),
    ("US", "Memorial Day", Rule::Nth(5, Weekday::Mon, -1)),
    ("US", "Juneteenth", Rule::Fixed(6, 19)),
    ("US", "Independence Day", Rule::Fixed(7, 4)),
    ("US", "Labor Day", Rule::Nth(9, Weekday::Mon, 1)),
    ("US", "Columbus Day", Rule::Nth(10, Weekday::Mon, 2)),
    ("US", "Veterans Day", Rule::Fixed(11, 11)),
    ("US", "Thanksgiving Day", Rule::Nth(11, Weekday::Thu, 4)),
    ("US", "Christmas Day", Rule::Fixed(12, 25)),
];

/// Easter Sunday of `year` (anonymous Gregorian algorithm, Meeus/Jones/Butcher).
pub fn easter(year: i32) -> Option<NaiveDate> {
    let a = year % 19;
    let b = year / 100;
    let c = year % 100;
    let d = b / 4;
    let e = b % 4;
    let f = (b + 8) / 25;
    let g = (b - f + 1) / 3;
    let h = (19 * a + b - d - g + 15) % 30;
    let i = c / 4;
    let k = c % 4;
    let l = (32 + 2 * e + 2 * i - h - k) % 7;
    let m = (a + 11 * h + 22 * l) / 451;
    let month = (h + l - 7 * m + 114) / 31;
    let day = (h + l - 7 * m + 114) % 31 + 1;
    NaiveDate::from_ymd_opt(year, month as u32, day as u32)
}

impl Rule {
    /// The rule's date in `year`.
    pub fn date(self, year: i32) -> Option<NaiveDate> {
        match self {
            Rule::Fixed(m, d) => NaiveDate::from_ymd_opt(year, m, d),
            Rule::Nth(m, wd, n) if n > 0 => {
                NaiveDate::from_weekday_of_month_opt(year, m, wd, n as u8)
            }
            Rule::Nth(m, wd, _) => {
                let (ny, nm) = if m == 12 {
                    (year + 1, 1)
                } else {
                    (year, m + 1)
                };
                let mut d = NaiveDate::from_ymd_opt(ny, nm, 1)?.pred_opt()?;
                while d.weekday() != wd {
                    d = d.pred_opt()?;
                }
                Some(d)
            }
            Rule::Before(m, day, wd) => {
                let mut d = NaiveDate::from_ymd_opt(year, m, day)?.pred_opt()?;
                while d.weekday() != wd {
                    d = d.pred_opt()?;
                }
                Some(d)
            }
            Rule::Easter(offset) => {
                easter(year)?.checked_add_signed(chrono::Duration::days(offset))
            }
        }
    }
}

/// The statutory holiday of `region` on `date`, if any (the region's own rows and its country's),
/// on its own date or on its observed day ([`observed`]).
pub fn holiday(region: &str, date: NaiveDate) -> Option<&'static str> {
    let country = region.split('-').next().unwrap_or(region);
    let rows = || {
        HOLIDAYS
            .iter()
            .filter(move |(r, _, _)| *r == region || *r == country)
    };
    if let Some((_, name, _)) = rows().find(|(_, _, rule)| rule.date(date.year()) == Some(date)) {
        return Some(name);
    }
    // Observed days can fall in the year before (US: New Year's Day on a Saturday → 31 December).
    [date.year(), date.year() + 1]
        .into_iter()
        .flat_map(|y| observed(region, y))
        .find(|(d, _)| *d == date)
        .map(|(_, name)| name)
}

/// The observed days of `region`'s fixed-date holidays of `year` that fall on a weekend, in date
/// order, as (observed date, name). Rules:
/// - US (5 U.S.C. 6103(b), Executive Order 11582; OPM's federal holiday schedules): Saturday →
///   the Friday before, Sunday → the Monday after.
/// - Canada (the federal Holidays Act for Canada Day and New Year's Day, and the provinces'
///   employment-standards "substitute day" rules for Ontario, Alberta and British Columbia): a
///   holiday on a Saturday or Sunday is observed on the next weekday that is not itself a holiday
///   or already an observed day, so Christmas on a Saturday is Monday the 27th and Boxing Day
///   (Sunday) Tuesday the 28th.
/// - Québec (Loi sur la fête nationale, art. 2; Loi sur les normes du travail, art. 60): only a
///   holiday on a Sunday moves, to the Monday.
pub fn observed(region: &str, year: i32) -> Vec<(NaiveDate, &'static str)> {
    let country = region.split('-').next().unwrap_or(region);
    let mut fixed: Vec<(NaiveDate, &'static str)> = HOLIDAYS
        .iter()
        .filter(|(r, _, _)| *r == region || *r == country)
        .filter(|(_, _, rule)| matches!(rule, Rule::Fixed(..)))
        .filter_map(|(_, name, rule)| rule.date(year).map(|d| (d, *name)))
        .collect();
    fixed.sort();
    let actual: Vec<NaiveDate> = HOLIDAYS
        .iter()
        .filter(|(r, _, _)| *r == region || *r == country)
        .filter_map(|(_, _, rule)| rule.date(year))
        .collect();
    let day = |d: NaiveDate, n: i64| d.checked_add_signed(chrono::Duration::days(n));
    let mut out: Vec<(NaiveDate, &'static str)> = Vec::new();
    for (date, name) in fixed {
        let shifted = match (country, region, date.weekday()) {
            ("US", _, Weekday::Sat) => day(date, -1),
            ("US", _, Weekday::Sun) => day(date, 1),
            ("CA", "CA-QC", Weekday::Sun) => day(date, 1),
            ("CA", "CA-QC", _) => None,
            ("CA", _, Weekday::Sat | Weekday::Sun) => {
                let mut d = date;
                loop {
                    d = match day(d, 1) {
                        Some(n) => n,
                        None => break None,
                    };
                    let weekend = matches!(d.weekday(), Weekday::Sat | Weekday::Sun);
                    if !weekend && !actual.contains(&d) && !out.iter().any(|(o, _)| *o == d) {
                        break Some(d);
                    }
                }
            }
            _ => None,
        };
        if let Some(d) = shifted {
            out.push((d, name));
        }
    }
    out
}

/// The date `n` business days after `from` (not counting `from`): Saturdays, Sundays and
/// `region`'s statutory holidays (`CA`, `US`, …; [`holiday`]) are skipped. Porting estimates
/// are quoted in business days (carriers do not port on weekends or holidays).
pub fn add_business_days(from: NaiveDate, n: u32, region: &str) -> NaiveDate {
    let mut d = from;
    let mut left = n;
    while left > 0 {
        d = d.succ_opt().unwrap_or(d);
        let weekend = matches!(d.weekday(), chrono::Weekday::Sat | chrono::Weekday::Sun);
        if !weekend && holiday(region, d).is_none() {
            left -= 1;
        }
    }
    d
}

/// Whether a region has rules (the config route refuses unknown ones).
pub fn known_region(region: &str) -> bool {
    HOLIDAYS.iter().any(|(r, _, _)| *r == region)
}

/// Open, after hours, or closed today at `at` (pure).
pub fn status(hours: &Hours, at: DateTime<Utc>) -> OpenState {
    let local = at.with_timezone(&hours.tz);
    let date = local.date_naive();
    let closed_day = hours.closures.contains(&date)
        || hours
            .holiday_region
            .as_deref()
            .is_some_and(|r| holiday(r, date).is_some());
    if closed_day {
        return OpenState::Closed(Closed::ClosedToday);
    }
    let minute = (local.hour() * 60 + local.minute()) as u16;
    let today = local.weekday().num_days_from_monday() as usize;
    let yesterday = (today + 6) % 7;
    let open_today = hours.weekly[today].iter().any(|&(open, close)| {
        if close > open {
            (open..close).contains(&minute)
        } else {
            minute >= open
        }
    });
    let spill = hours.weekly[yesterday]
        .iter()
        .any(|&(open, close)| close <= open && minute < close);
    if open_today || spill {
        OpenState::Open
    } else {
        OpenState::Closed(Closed::AfterHours)
    }
}

/// [`status`] at Unix time `secs` (seconds); an instant chrono cannot represent counts as open.
pub fn status_at(hours: &Hours, secs: u64) -> OpenState {
    match i64::try_from(secs)
        .ok()
        .and_then(|s| DateTime::from_timestamp(s, 0))
    {
        Some(at) => status(hours, at),
        None => OpenState::Open,
    }
}

/// The first instant at or after `at` when `hours` say open, searched on a 5-minute grid over
/// the next [`NEXT_OPEN_HORIZON_DAYS`] days (holidays and closures included); `None` when
/// nothing opens in that time (a number closed for good, or no weekly hours).
pub fn next_open(hours: &Hours, at: DateTime<Utc>) -> Option<DateTime<Utc>> {
    if status(hours, at) == OpenState::Open {
        return Some(at);
    }
    let step = chrono::Duration::minutes(5);
    let secs = at.timestamp();
    let mut t = DateTime::from_timestamp(secs - secs.rem_euclid(300) + 300, 0)?;
    let end = at + chrono::Duration::days(NEXT_OPEN_HORIZON_DAYS);
    while t <= end {
        if status(hours, t) == OpenState::Open {
            return Some(t);
        }
        t += step;
    }
    None
}

/// How far [`next_open`] looks ahead (days): past the longest run of holidays plus a weekend.
pub const NEXT_OPEN_HORIZON_DAYS: i64 = 14;

/// The weekly hours in the written form ([`parse_weekly`]'s input: `mon 08:00-17:00; …`), one
/// group per day that has hours.
pub fn weekly_text(hours: &Hours) -> String {
    const DAYS: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];
    let hm = |m: u16| format!("{:02}:{:02}", m / 60, m % 60);
    DAYS.iter()
        .zip(&hours.weekly)
        .filter(|(_, ranges)| !ranges.is_empty())
        .map(|(d, ranges)| {
            let r: Vec<String> = ranges
                .iter()
                .map(|&(o, c)| format!("{}-{}", hm(o), hm(c)))
                .collect();
            format!("{d} {}", r.join(","))
        })
        .collect::<Vec<_>>()
        .join("; ")
}

fn day(s: &str) -> Result<usize, String> {
    const DAYS: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];
    DAYS.iter()
        .position(|d| d.eq_ignore_ascii_case(s.trim()))
        .ok_or_else(|| format!("unknown day {s:?} (mon…sun)"))
}

fn minute(s: &str) -> Result<u16, String> {
    let (h, m) = s
        .trim()
        .split_once(':')
        .ok_or_else(|| format!("time {s:?} is not HH:MM"))?;
    let (h, m): (u16, u16) = (
        h.parse().map_err(|_| format!("time {s:?} is not HH:MM"))?,
        m.parse().map_err(|_| format!("time {s:?} is not HH:MM"))?,
    );
    if h > 24 || m > 59 || (h == 24 && m > 0) {
        return Err(format!("time {s:?} is out of range"));
    }
    Ok(h * 60 + m)
}

/// Parses the written weekly hours (module docs).
///
/// Errors: a message naming the bad day, time or range.
pub fn parse_weekly(text: &str) -> Result<[Vec<(u16, u16)>; 7], String> {
    let mut weekly: [Vec<(u16, u16)>; 7] = Default::default();
    for group in text.split(';').map(str::trim).filter(|g| !g.is_empty()) {
        let (days, ranges) = group
            .split_once(char::is_whitespace)
            .ok_or_else(|| format!("{group:?}: expected DAYS RANGES"))?;
        let mut which = Vec::new();
        for part in days.split(',') {
            match part.split_once('-') {
                Some((a, b)) => {
                    let (a, b) = (day(a)?, day(b)?);
                    if b < a {
                        return Err(format!("{part:?}: days run mon to sun"));
                    }
                    which.extend(a..=b);
                }
                None => which.push(day(part)?),
            }
        }
        for range in ranges.split(',') {
            let (a, b) = range
                .split_once('-')
                .ok_or_else(|| format!("{range:?} is not HH:MM-HH:MM"))?;
            let (open, close) = (minute(a)?, minute(b)?);
            if open == close && open != 0 {
                return Err(format!("{range:?} is empty"));
            }
            for d in &which {
                weekly[*d].push((open, close % (24 * 60)));
            }
        }
    }
    Ok(weekly)
}

/// Builds [`Hours`] from the written fields of a number.
///
/// Errors: a message for an unknown time zone, bad hours, an unknown holiday region or a
/// closure that is not `YYYY-MM-DD`.
pub fn parse(
    timezone: &str,
    weekly: &str,
    holiday_region: Option<&str>,
    closures: Option<&str>,
) -> Result<Hours, String> {
    let tz: Tz = timezone
        .parse()
        .map_err(|_| format!("unknown time zone {timezone:?} (IANA, e.g. America/Edmonton)"))?;
    let weekly = parse_weekly(weekly)?;
    if let Some(r) = holiday_region {
        if !known_region(r) {
            return Err(format!(
                "unknown holiday region {r:?} (CA, CA-AB, CA-BC, CA-ON, CA-QC, US)"
            ));
        }
    }
    let closures = closures
        .unwrap_or("")
        .split(',')
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .map(|c| {
            NaiveDate::parse_from_str(c, "%Y-%m-%d")
                .map_err(|_| format!("closure {c:?} is not YYYY-MM-DD"))
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Hours {
        tz,
        weekly,
        holiday_region: holiday_region.map(str::to_owned),
        closures,
    })
}

/// Why a call is taken outside business hours.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Closed {
    /// Outside the weekly hours.
    AfterHours,
    /// A statutory holiday or an operator's closure day.
    ClosedToday,
}

impl Closed {
    /// Voicemail reason and metric dimension.
    pub fn as_str(self) -> &'static str {
        match self {
            Closed::AfterHours => "after_hours",
            Closed::ClosedToday => "closed_today",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Issue 22 §7: the observed days 2026–2030, from OPM's federal holiday schedules and the
    /// Ontario and Québec calendars (fixed-date holidays on a weekend only; the others never are).
    #[test]
    fn weekend_holidays_are_closed_on_their_observed_day_2026_to_2030() {
        let d = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
        let table: &[(&str, &str, &str)] = &[
            ("US", "2026-07-03", "Independence Day"),
            ("US", "2027-06-18", "Juneteenth"),
            ("US", "2027-07-05", "Independence Day"),
            ("US", "2027-12-24", "Christmas Day"),
            ("US", "2027-12-31", "New Year's Day"),
            ("US", "2028-11-10", "Veterans Day"),
            ("US", "2029-11-12", "Veterans Day"),
            ("CA-ON", "2026-12-28", "Boxing Day"),
            ("CA-ON", "2027-12-27", "Christmas Day"),
            ("CA-ON", "2027-12-28", "Boxing Day"),
            ("CA-ON", "2028-01-03", "New Year's Day"),
            ("CA-ON", "2028-07-03", "Canada Day"),
            ("CA-ON", "2029-07-02", "Canada Day"),
            ("CA-AB", "2027-12-27", "Christmas Day"),
            ("CA-AB", "2028-01-03", "New Year's Day"),
            ("CA-AB", "2028-07-03", "Canada Day"),
            ("CA-AB", "2028-11-13", "Remembrance Day"),
            ("CA-AB", "2029-07-02", "Canada Day"),
            ("CA-AB", "2029-11-12", "Remembrance Day"),
            ("CA-QC", "2029-06-25", "Fête nationale"),
            ("CA-QC", "2029-07-02", "Canada Day"),
        ];
        for (region, date, name) in table {
            assert_eq!(holiday(region, d(date)), Some(*name), "{region} {date}");
        }
        // Every observed day of the five years is in the table (nothing extra is closed), and
        // none is a weekend.
        for region in ["US", "CA-ON", "CA-AB", "CA-QC"] {
            for year in 2026..=2030 {
                for (day, name) in observed(region, year) {
                    let s = day.format("%Y-%m-%d").to_string();
                    assert!(
                        table
                            .iter()
                            .any(|(r, dd, n)| *r == region && *dd == s && *n == name),
                        "{region} {s} {name} not in the table"
                    );
                    assert!(!matches!(day.weekday(), Weekday::Sat | Weekday::Sun));
                }
            }
        }
        // Québec moves nothing from a Saturday (Fête nationale 2028 is Saturday 24 June).
        assert_eq!(holiday("CA-QC", d("2028-06-26")), None);
        assert_eq!(holiday("CA-QC", d("2028-06-23")), None);
        // The days around them stay open.
        for (region, date) in [
            ("US", "2026-07-06"),
            ("CA-ON", "2026-12-29"),
            ("CA-ON", "2027-12-29"),
        ] {
            assert_eq!(holiday(region, d(date)), None, "{region} {date}");
        }
    }

    #[test]
    fn the_next_opening_skips_nights_weekends_and_holidays() {
        let h = parse(
            "America/Toronto",
            "mon-fri 08:30-17:00",
            Some("CA-ON"),
            None,
        )
        .unwrap();
        let at = |s: &str| DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc);
        // Friday 2026-12-04 18:00 Toronto (23:00 UTC) → Monday 08:30 (13:30 UTC).
        assert_eq!(
            next_open(&h, at("2026-12-04T23:00:00Z")),
            Some(at("2026-12-07T13:30:00Z"))
        );
        // Open now → now.
        assert_eq!(
            next_open(&h, at("2026-12-07T15:02:00Z")),
            Some(at("2026-12-07T15:02:00Z"))
        );
        // Christmas Friday 2026-12-25, the weekend, Boxing Day (Saturday) observed Monday 28th →
        // Tuesday 29th.
        assert_eq!(
            next_open(&h, at("2026-12-24T23:00:00Z")),
            Some(at("2026-12-29T13:30:00Z"))
        );
        let never = parse("America/Toronto", "", None, None).unwrap();
        assert_eq!(next_open(&never, at("2026-12-04T23:00:00Z")), None);
        assert_eq!(
            weekly_text(&h),
            "mon 08:30-17:00; tue 08:30-17:00; wed 08:30-17:00; thu 08:30-17:00; fri 08:30-17:00"
        );
    }

    fn utc(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    fn edmonton() -> Hours {
        parse(
            "America/Edmonton",
            "mon-fri 09:00-17:00; fri 22:00-02:00; sat 10:00-14:00",
            Some("CA-AB"),
            Some("2026-12-24"),
        )
        .unwrap()
    }

    #[test]
    fn hours_follow_daylight_saving_time_in_edmonton() {
        let h = edmonton();
        let open = OpenState::Open;
        let after = OpenState::Closed(Closed::AfterHours);
        let table = [
            // Friday 6 March 2026, MST (UTC-7): 15:30Z is 08:30, 16:30Z is 09:30.
            ("2026-03-06T15:30:00Z", after),
            ("2026-03-06T16:30:00Z", open),
            // Monday 9 March, after the change on Sunday the 8th, MDT (UTC-6): 15:30Z is 09:30.
            ("2026-03-09T15:30:00Z", open),
            ("2026-03-09T14:30:00Z", after),
            // The change day itself (Sunday, closed) and Monday 2 November, back on MST.
            ("2026-03-08T17:00:00Z", after),
            ("2026-11-02T15:30:00Z", after),
            ("2026-11-02T16:30:00Z", open),
            // Friday 30 October, MDT: 23:30Z is 17:30, closed; Friday night's range runs past
            // midnight: Saturday 01:30 local is open, 02:30 is not.
            ("2026-10-30T23:30:00Z", after),
            ("2026-10-31T07:30:00Z", open),
            ("2026-10-31T08:30:00Z", after),
            // Saturday 10:00-14:00.
            ("2026-10-31T17:00:00Z", open),
        ];
        for (at, want) in table {
            assert_eq!(status(&h, utc(at)), want, "{at}");
        }
    }

    #[test]
    fn business_days_skip_weekends_and_statutory_holidays() {
        let d = |y, m, day| NaiveDate::from_ymd_opt(y, m, day).unwrap();
        // Friday 2026-11-20 + 1 → Monday 23rd.
        assert_eq!(add_business_days(d(2026, 11, 20), 1, "CA"), d(2026, 11, 23));
        // Ten business days from Friday 2026-12-18: without holidays 21–24, 25, 28–31, Jan 1;
        // in Canada Christmas (Fri 25th) and New Year's Day are skipped, so later.
        let ca = add_business_days(d(2026, 12, 18), 10, "CA");
        let plain = add_business_days(d(2026, 12, 18), 10, "none");
        assert!(ca > plain, "{ca} vs {plain}");
        assert_eq!(plain, d(2027, 1, 1));
        assert_eq!(add_business_days(d(2026, 11, 23), 0, "CA"), d(2026, 11, 23));
    }

    #[test]
    fn holidays_and_closures_close_the_whole_day() {
        let h = edmonton();
        let closed = OpenState::Closed(Closed::ClosedToday);
        // Christmas (Friday 25 Dec 2026), Alberta Family Day (16 Feb 2026), Good Friday
        // (3 Apr 2026), Victoria Day (18 May 2026), Thanksgiving (12 Oct 2026), and the
        // operator's closure on 24 Dec, all at 11:00 local.
        for at in [
            "2026-12-25T18:00:00Z",
            "2026-02-16T18:00:00Z",
            "2026-04-03T17:00:00Z",
            "2026-05-18T17:00:00Z",
            "2026-10-12T17:00:00Z",
            "2026-12-24T18:00:00Z",
        ] {
            assert_eq!(status(&h, utc(at)), closed, "{at}");
        }
        assert_eq!(status(&h, utc("2026-12-23T18:00:00Z")), OpenState::Open);
        assert_eq!(
            holiday("US", NaiveDate::from_ymd_opt(2026, 11, 26).unwrap()),
            Some("Thanksgiving Day")
        );
        assert_eq!(
            holiday("US", NaiveDate::from_ymd_opt(2026, 5, 25).unwrap()),
            Some("Memorial Day")
        );
        assert_eq!(
            holiday("CA-QC", NaiveDate::from_ymd_opt(2026, 6, 24).unwrap()),
            Some("Fête nationale")
        );
        assert_eq!(
            holiday("CA-ON", NaiveDate::from_ymd_opt(2026, 6, 24).unwrap()),
            None
        );
        assert_eq!(easter(2027), NaiveDate::from_ymd_opt(2027, 3, 28));
    }

    #[test]
    fn written_hours_are_checked() {
        assert!(parse_weekly("mon-fri 09:00-17:00").unwrap()[4] == vec![(540, 1020)]);
        assert!(parse_weekly("sat,sun 10:00-14:00").unwrap()[6] == vec![(600, 840)]);
        assert!(parse_weekly("mon 24:00-01:00").is_ok());
        for bad in [
            "funday 09:00-17:00",
            "mon 9-17",
            "mon 25:00-26:00",
            "fri-mon 09:00-10:00",
            "mon",
        ] {
            assert!(parse_weekly(bad).is_err(), "{bad}");
        }
        assert!(parse("Mars/Olympus", "mon 09:00-10:00", None, None).is_err());
        assert!(parse("America/Toronto", "mon 09:00-10:00", Some("CA-XX"), None).is_err());
        assert!(parse(
            "America/Toronto",
            "mon 09:00-10:00",
            None,
            Some("24/12/2026")
        )
        .is_err());
    }
}
