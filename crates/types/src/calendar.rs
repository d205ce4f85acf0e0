//! Kazakhstan's working-day calendar (5-day week).
//!
//! One data file per year, `data/calendar/kz-YYYY.toml`, embedded at build
//! time (format: `data/calendar/README.md`). A day is a working day when it
//! is Monday–Friday and not listed as a `day_off`, or when it is a weekend
//! day listed as a `working_day` (a transferred working Saturday/Sunday).
//!
//! Every method refuses dates in years without a file
//! ([`CalendarError::UnknownYear`]) instead of guessing from weekends.
//!
//! Counting terms (DESIGN.md §3): the day of registration is not counted,
//! so the due date of an `n`-working-day term is [`WorkCalendar::add_working_days`]
//! `(start, n)`; an appeal registered on a non-working day counts as
//! registered on the next working day ([`WorkCalendar::due_after_registration`]).

use crate::tomldate::to_naive_date;
use chrono::{Datelike, NaiveDate, Weekday};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::sync::OnceLock;

/// The embedded calendar files, one per year.
const FILES: [(&str, &str); 10] = [
    ("kz-2018.toml", include_str!("../../../data/calendar/kz-2018.toml")),
    ("kz-2019.toml", include_str!("../../../data/calendar/kz-2019.toml")),
    ("kz-2020.toml", include_str!("../../../data/calendar/kz-2020.toml")),
    ("kz-2021.toml", include_str!("../../../data/calendar/kz-2021.toml")),
    ("kz-2022.toml", include_str!("../../../data/calendar/kz-2022.toml")),
    ("kz-2023.toml", include_str!("../../../data/calendar/kz-2023.toml")),
    ("kz-2024.toml", include_str!("../../../data/calendar/kz-2024.toml")),
    ("kz-2025.toml", include_str!("../../../data/calendar/kz-2025.toml")),
    ("kz-2026.toml", include_str!("../../../data/calendar/kz-2026.toml")),
    ("kz-2027.toml", include_str!("../../../data/calendar/kz-2027.toml")),
];

/// Errors of calendar lookups and of parsing calendar files.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CalendarError {
    #[error("no working-day calendar for {0}: add data/calendar/kz-{0}.toml (holidays and day-off transfers for that year) before counting terms in it")]
    UnknownYear(i32),
    #[error("invalid calendar file {file}: {reason}; fix the file")]
    Data { file: String, reason: String },
}

/// How reliable a year's file is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum CalendarStatus {
    /// Checked against the published calendar / transfer orders.
    Official,
    /// Reconstructed from the statutory rules; some transfers unverified.
    Provisional,
}

/// One year's calendar.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct YearCalendar {
    pub year: i32,
    pub status: CalendarStatus,
    pub sources: Vec<String>,
    pub notes: Vec<String>,
    /// Weekdays that are not working days, with the reason.
    pub days_off: BTreeMap<NaiveDate, String>,
    /// Weekend days that are working days, with the reason.
    pub working_days: BTreeMap<NaiveDate, String>,
    /// Bit `d` is set when the year's day `d` (0 = 1 January) is a working
    /// day: every deadline asks this for each day it counts.
    working: [u64; 6],
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawYear {
    year: i32,
    status: CalendarStatus,
    sources: Vec<String>,
    #[serde(default)]
    notes: Vec<String>,
    #[serde(default)]
    day_off: Vec<RawDay>,
    #[serde(default)]
    working_day: Vec<RawDay>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDay {
    date: toml::value::Datetime,
    reason: String,
}

fn is_weekend(d: NaiveDate) -> bool {
    matches!(d.weekday(), Weekday::Sat | Weekday::Sun)
}

impl YearCalendar {
    /// Parses and validates one year's file. `file` names it in errors.
    /// Checks: every date is in `year`; `day_off` dates are Mon–Fri;
    /// `working_day` dates are Sat/Sun; no date is listed twice; reasons are
    /// not empty; at least one source.
    pub fn parse(file: &str, text: &str) -> Result<YearCalendar, CalendarError> {
        let err = |reason: String| CalendarError::Data { file: file.to_owned(), reason };
        let raw: RawYear = toml::from_str(text).map_err(|e| err(e.to_string()))?;
        if raw.sources.is_empty() {
            return Err(err("`sources` must list at least one source".into()));
        }
        let mut days_off = BTreeMap::new();
        let mut working_days = BTreeMap::new();
        for (entries, weekend_expected, target) in
            [(raw.day_off, false, &mut days_off), (raw.working_day, true, &mut working_days)]
        {
            let kind = if weekend_expected { "working_day" } else { "day_off" };
            for e in entries {
                let date = to_naive_date(&e.date)
                    .ok_or_else(|| err(format!("{kind} `{}` is not a date like 2024-05-04", e.date)))?;
                if date.year() != raw.year {
                    return Err(err(format!("{kind} {date} is not in year {}", raw.year)));
                }
                if is_weekend(date) != weekend_expected {
                    return Err(err(if weekend_expected {
                        format!(
                            "working_day {date} is a {}; only Saturdays and Sundays can be listed as working days",
                            date.weekday()
                        )
                    } else {
                        format!("day_off {date} is a {}; weekends are days off anyway, record a holiday on a weekend in `notes`", date.weekday())
                    }));
                }
                if e.reason.trim().is_empty() {
                    return Err(err(format!("{kind} {date} needs a reason")));
                }
                if target.insert(date, e.reason).is_some() {
                    return Err(err(format!("{kind} {date} is listed twice")));
                }
            }
        }
        let mut working = [0u64; 6];
        let mut day =
            NaiveDate::from_ymd_opt(raw.year, 1, 1).ok_or_else(|| err(format!("year {} is out of range", raw.year)))?;
        while day.year() == raw.year {
            let working_day =
                if is_weekend(day) { working_days.contains_key(&day) } else { !days_off.contains_key(&day) };
            if working_day {
                let bit = day.ordinal0() as usize;
                working[bit / 64] |= 1 << (bit % 64);
            }
            match day.succ_opt() {
                Some(next) => day = next,
                None => break,
            }
        }
        Ok(YearCalendar {
            year: raw.year,
            status: raw.status,
            sources: raw.sources,
            notes: raw.notes,
            days_off,
            working_days,
            working,
        })
    }

    /// Whether `date` (which must be in this year) is a working day.
    fn is_working(&self, date: NaiveDate) -> bool {
        let bit = date.ordinal0() as usize;
        self.working[bit / 64] & (1 << (bit % 64)) != 0
    }

    /// The ordinal (0 = 1 January) of the `n`-th working day (`n` ≥ 1) at
    /// or after ordinal `from`, or how many working days there are from
    /// `from` to the end of the year when fewer than `n`: a deadline is
    /// counted a word of 64 days at a time, not day by day.
    fn nth_working_from(&self, from: u32, n: u32) -> Result<u32, u32> {
        let mut word = (from / 64) as usize;
        let Some(first) = self.working.get(word) else { return Err(0) };
        let mut bits = first & (u64::MAX << (from % 64));
        let mut left = n;
        loop {
            let count = bits.count_ones();
            if count >= left {
                for _ in 1..left {
                    bits &= bits - 1;
                }
                return Ok(word as u32 * 64 + bits.trailing_zeros());
            }
            left -= count;
            word += 1;
            match self.working.get(word) {
                Some(next) => bits = *next,
                None => return Err(n - left),
            }
        }
    }
}

/// A working-day calendar made of per-year files.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct WorkCalendar {
    years: BTreeMap<i32, YearCalendar>,
    load_error: Option<CalendarError>,
}

impl WorkCalendar {
    /// Kazakhstan's calendar from the embedded files (2018..=2027), parsed
    /// once. If an embedded file were invalid (a test guards against it)
    /// every method returns [`CalendarError::Data`].
    pub fn kazakhstan() -> &'static WorkCalendar {
        static CAL: OnceLock<WorkCalendar> = OnceLock::new();
        CAL.get_or_init(|| {
            let years: Result<Vec<YearCalendar>, CalendarError> =
                FILES.iter().map(|(name, text)| YearCalendar::parse(name, text)).collect();
            match years.and_then(WorkCalendar::from_years) {
                Ok(cal) => cal,
                Err(e) => WorkCalendar { years: BTreeMap::new(), load_error: Some(e) },
            }
        })
    }

    /// A calendar from parsed years; each year at most once.
    pub fn from_years(years: impl IntoIterator<Item = YearCalendar>) -> Result<WorkCalendar, CalendarError> {
        let mut map = BTreeMap::new();
        for y in years {
            let year = y.year;
            if map.insert(year, y).is_some() {
                return Err(CalendarError::Data {
                    file: format!("kz-{year}.toml"),
                    reason: format!("year {year} given twice"),
                });
            }
        }
        Ok(WorkCalendar { years: map, load_error: None })
    }

    /// The years this calendar knows, ascending.
    pub fn years(&self) -> impl Iterator<Item = i32> + '_ {
        self.years.keys().copied()
    }

    /// The last day of the last year known without a gap from the first:
    /// a term that ends after it cannot be counted.
    pub fn known_through(&self) -> Option<NaiveDate> {
        let mut years = self.years.keys().copied();
        let mut last = years.next()?;
        for year in years {
            if year != last + 1 {
                break;
            }
            last = year;
        }
        NaiveDate::from_ymd_opt(last, 12, 31)
    }

    /// One year's data.
    pub fn year(&self, year: i32) -> Result<&YearCalendar, CalendarError> {
        if let Some(e) = &self.load_error {
            return Err(e.clone());
        }
        self.years.get(&year).ok_or(CalendarError::UnknownYear(year))
    }

    /// Whether `date` is a working day.
    pub fn is_working_day(&self, date: NaiveDate) -> Result<bool, CalendarError> {
        Ok(self.year(date.year())?.is_working(date))
    }

    /// Why `date` is a day off or a transferred working day, if it is listed.
    pub fn reason(&self, date: NaiveDate) -> Result<Option<&str>, CalendarError> {
        let y = self.year(date.year())?;
        Ok(y.days_off.get(&date).or_else(|| y.working_days.get(&date)).map(String::as_str))
    }

    fn next_day(date: NaiveDate) -> Result<NaiveDate, CalendarError> {
        date.succ_opt().ok_or(CalendarError::UnknownYear(date.year().saturating_add(1)))
    }

    /// `date` if it is a working day, else the first working day after it.
    pub fn next_working_day_on_or_after(&self, date: NaiveDate) -> Result<NaiveDate, CalendarError> {
        self.nth_working_day_from(date, 1)
    }

    /// The `n`-th working day strictly after `start` (`start` itself is
    /// never counted, whether or not it is a working day). `n = 0` returns
    /// `start`. E.g. `add_working_days(Fri 3 May 2024, 1)` = Sat 4 May 2024
    /// (a transferred working Saturday).
    pub fn add_working_days(&self, start: NaiveDate, n: u32) -> Result<NaiveDate, CalendarError> {
        // Check the start's year too, so that no answer depends on a guess.
        self.year(start.year())?;
        if n == 0 {
            return Ok(start);
        }
        self.nth_working_day_from(Self::next_day(start)?, n)
    }

    /// The `n`-th working day (`n` ≥ 1) on or after `date`, through as many
    /// years as it takes; every one of them must be known.
    fn nth_working_day_from(&self, date: NaiveDate, n: u32) -> Result<NaiveDate, CalendarError> {
        let (mut year, mut from, mut left) = (date.year(), date.ordinal0(), n);
        loop {
            match self.year(year)?.nth_working_from(from, left) {
                Ok(ordinal0) => {
                    return NaiveDate::from_yo_opt(year, ordinal0 + 1).ok_or(CalendarError::UnknownYear(year));
                }
                Err(found) => {
                    left -= found;
                    year = year.checked_add(1).ok_or(CalendarError::UnknownYear(year))?;
                    from = 0;
                }
            }
        }
    }

    /// The due date of an `n`-working-day term for something registered on
    /// `registered_on`: registration on a non-working day counts as
    /// registration on the next working day, and the registration day is
    /// not counted. E.g. registered Sat 16 Mar 2024 -> effective Mon 18 Mar
    /// -> 15 working days later.
    pub fn due_after_registration(&self, registered_on: NaiveDate, n: u32) -> Result<NaiveDate, CalendarError> {
        let effective = self.next_working_day_on_or_after(registered_on)?;
        self.add_working_days(effective, n)
    }

    /// The number of working days `d` with `a < d <= b`; 0 if `b <= a`.
    /// Every year from `a` to `b` must be known.
    pub fn working_days_between(&self, a: NaiveDate, b: NaiveDate) -> Result<u32, CalendarError> {
        if b <= a {
            return Ok(0);
        }
        for y in a.year()..=b.year() {
            self.year(y)?;
        }
        let mut count = 0;
        let mut d = a;
        while d < b {
            d = Self::next_day(d)?;
            if self.is_working_day(d)? {
                count += 1;
            }
        }
        Ok(count)
    }

    /// The number of working days in a year.
    pub fn working_days_in_year(&self, year: i32) -> Result<u32, CalendarError> {
        Ok(self.year(year)?.working.iter().map(|bits| bits.count_ones()).sum())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    fn cal() -> &'static WorkCalendar {
        WorkCalendar::kazakhstan()
    }

    #[test]
    fn every_embedded_file_parses_and_is_consistent() {
        for (name, text) in FILES {
            let y = YearCalendar::parse(name, text).unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(name, format!("kz-{}.toml", y.year));
            for date in y.days_off.keys() {
                assert_eq!(date.year(), y.year);
                assert!(!is_weekend(*date), "{name}: day_off {date} is a weekend");
            }
            for date in y.working_days.keys() {
                assert_eq!(date.year(), y.year);
                assert!(is_weekend(*date), "{name}: working_day {date} is a weekday");
            }
            assert!(!y.sources.is_empty());
            if y.year <= 2023 || y.year == 2027 {
                assert_eq!(y.status, CalendarStatus::Provisional, "{name}");
                assert!(!y.notes.is_empty(), "{name}: provisional years need notes");
            }
        }
        assert_eq!(cal().years().collect::<Vec<_>>(), (2018..=2027).collect::<Vec<_>>());
        assert_eq!(cal().known_through(), Some(d(2027, 12, 31)));
        assert!(cal().load_error.is_none());
    }

    #[test]
    fn every_day_of_every_year_is_what_its_file_says() {
        for year in cal().years() {
            let y = cal().year(year).unwrap();
            let mut date = d(year, 1, 1);
            let mut working = 0;
            while date.year() == year {
                let listed =
                    if is_weekend(date) { y.working_days.contains_key(&date) } else { !y.days_off.contains_key(&date) };
                assert_eq!(cal().is_working_day(date).unwrap(), listed, "{date}");
                working += u32::from(listed);
                date = date.succ_opt().unwrap();
            }
            assert_eq!(cal().working_days_in_year(year).unwrap(), working, "{year}");
        }
    }

    #[test]
    fn statutory_holidays_are_off_or_on_a_weekend() {
        // Fixed-date holidays (state/national) per year, by the rules in force.
        for year in 2018..=2027 {
            let mut fixed = vec![
                (1, 1),
                (1, 2),
                (3, 8),
                (3, 21),
                (3, 22),
                (3, 23),
                (5, 1),
                (5, 7),
                (5, 9),
                (7, 6),
                (8, 30),
                (12, 16),
            ];
            if year <= 2021 {
                fixed.extend([(12, 1), (12, 17)]);
            } else {
                fixed.push((10, 25));
            }
            for (m, day) in fixed {
                let date = d(year, m, day);
                assert!(!cal().is_working_day(date).unwrap(), "{date} should be a holiday");
            }
        }
        // After the September 2022 law: 1 Dec and 19 Dec 2022 are working days.
        assert!(cal().is_working_day(d(2022, 12, 1)).unwrap());
        assert!(cal().is_working_day(d(2022, 12, 19)).unwrap());
    }

    #[test]
    fn unknown_years_are_errors() {
        for date in [d(2017, 12, 29), d(2028, 1, 4)] {
            assert_eq!(cal().is_working_day(date), Err(CalendarError::UnknownYear(date.year())));
        }
        let msg = cal().is_working_day(d(2028, 1, 4)).unwrap_err().to_string();
        assert!(msg.contains("kz-2028.toml"), "{msg}");
        // Counting that runs past the last known year fails too.
        assert_eq!(cal().add_working_days(d(2027, 12, 30), 5), Err(CalendarError::UnknownYear(2028)));
        assert_eq!(cal().add_working_days(d(2017, 12, 29), 1), Err(CalendarError::UnknownYear(2017)));
        assert_eq!(cal().working_days_between(d(2017, 12, 31), d(2018, 1, 10)), Err(CalendarError::UnknownYear(2017)));
        assert_eq!(cal().working_days_between(d(2027, 12, 1), d(2028, 1, 10)), Err(CalendarError::UnknownYear(2028)));
    }

    fn add(start: NaiveDate, n: u32, expected: NaiveDate) {
        assert_eq!(cal().add_working_days(start, n), Ok(expected), "{start} + {n}");
    }

    #[test]
    fn counting_by_words_finds_the_day_counting_one_by_one_finds() {
        // Every start day of every known year, terms up to 40 working days
        // (across New Year's too), against a count of single days.
        let first = cal().years().next().unwrap();
        let last = cal().known_through().unwrap();
        let mut start = d(first, 1, 1);
        while start <= last {
            let mut day = start;
            for n in 0..=40u32 {
                if n > 0 {
                    day = day.succ_opt().unwrap();
                    while day <= last && !cal().is_working_day(day).unwrap() {
                        day = day.succ_opt().unwrap();
                    }
                }
                if day > last {
                    assert!(matches!(cal().add_working_days(start, n), Err(CalendarError::UnknownYear(_))));
                    break;
                }
                assert_eq!(cal().add_working_days(start, n).unwrap(), day, "{start} + {n}");
            }
            let on_or_after = cal().next_working_day_on_or_after(start);
            if let Ok(day) = on_or_after {
                assert!(day >= start && cal().is_working_day(day).unwrap());
                assert_eq!(cal().working_days_between(start, day).unwrap(), u32::from(day != start));
            }
            start = start.succ_opt().unwrap();
        }
    }

    #[test]
    fn add_working_days_real_examples() {
        // Nauryz 2024: 21, 22, 25 Mar off.
        add(d(2024, 3, 20), 1, d(2024, 3, 26));
        // Sat 4 May 2024 was a working day.
        add(d(2024, 5, 3), 1, d(2024, 5, 4));
        add(d(2024, 5, 4), 1, d(2024, 5, 6));
        add(d(2024, 5, 6), 1, d(2024, 5, 10)); // 7, 8, 9 May off
                                               // 1-3 Jan 2025 off, Sun 5 Jan 2025 a working day.
        add(d(2024, 12, 31), 1, d(2025, 1, 5));
        add(d(2024, 12, 31), 2, d(2025, 1, 6));
        // egov.kz: notice Mon 1 Aug 2022, 7-working-day discount until Wed 10 Aug.
        add(d(2022, 8, 1), 7, d(2022, 8, 10));
        add(d(2024, 3, 20), 0, d(2024, 3, 20));
        // Starting on a non-working day: counting still starts after it.
        add(d(2024, 3, 23), 1, d(2024, 3, 26));
        // Appeal term: 15 working days.
        add(d(2025, 6, 2), 15, d(2025, 6, 24)); // 6 Jun (Kurban Ait) off
                                                // Across a year boundary: 2018 -> 2019 (31 Dec 2018, 1-2 Jan 2019 off).
        add(d(2018, 12, 28), 1, d(2018, 12, 29)); // working Saturday
        add(d(2018, 12, 29), 1, d(2019, 1, 3));
        // 2020: Sun 5 Jan and Sun 20 Dec working; Mon 11 May working.
        add(d(2020, 1, 2), 1, d(2020, 1, 5));
        add(d(2020, 5, 6), 1, d(2020, 5, 11));
        add(d(2020, 12, 15), 1, d(2020, 12, 20));
    }

    #[test]
    fn due_after_registration_examples() {
        let check = |reg: NaiveDate, n: u32, expected: NaiveDate| {
            assert_eq!(cal().due_after_registration(reg, n), Ok(expected), "{reg} + {n}");
        };
        // Registered on a working day: same as add_working_days.
        check(d(2024, 3, 20), 1, d(2024, 3, 26));
        // Registered on Sat 16 Mar 2024 -> effective Mon 18 Mar; 15 working
        // days after it: 19, 20, 26..29 (6), Apr 1-5 (11), 8-11 (15).
        check(d(2024, 3, 16), 15, d(2024, 4, 11));
        // Registered on a holiday (Thu 21 Mar 2024) -> effective Tue 26 Mar.
        check(d(2024, 3, 21), 1, d(2024, 3, 27));
        // Registered on Sat 4 May 2024, itself a working day.
        check(d(2024, 5, 4), 1, d(2024, 5, 6));
        // 3-working-day forward deadline over the New Year 2025.
        check(d(2024, 12, 31), 3, d(2025, 1, 8)); // 5 Jan, 6 Jan, (7 off), 8 Jan
                                                  // An appeal registered on Mon 14 Dec 2026: its 15 working days end
                                                  // in 2027 (16 Dec, 1 Jan, 4 Jan and 7 Jan off).
        check(d(2026, 12, 14), 15, d(2027, 1, 8));
    }

    #[test]
    fn working_days_between_examples() {
        let check = |a: NaiveDate, b: NaiveDate, n: u32| {
            assert_eq!(cal().working_days_between(a, b), Ok(n), "({a}, {b}]");
        };
        check(d(2024, 3, 20), d(2024, 3, 26), 1);
        check(d(2024, 3, 20), d(2024, 3, 25), 0);
        check(d(2024, 3, 26), d(2024, 3, 20), 0);
        check(d(2024, 3, 20), d(2024, 3, 20), 0);
        check(d(2022, 8, 1), d(2022, 8, 10), 7);
        check(d(2024, 12, 31), d(2025, 1, 8), 3);
        check(d(2023, 12, 31), d(2024, 12, 31), 249);
        // Consistency with add_working_days.
        let start = d(2019, 12, 20);
        for n in 0..60 {
            let end = cal().add_working_days(start, n).unwrap();
            assert_eq!(cal().working_days_between(start, end), Ok(n));
        }
    }

    #[test]
    fn working_days_per_year() {
        // 2024: 117 days off in a 366-day year (aqshamnews) -> 249.
        // 2025, 2026: 119 days off -> 246.
        for (year, working) in [
            (2018, 246),
            (2019, 246),
            (2020, 246),
            (2021, 245),
            (2022, 246),
            (2023, 246),
            (2024, 249),
            (2025, 246),
            (2026, 246),
        ] {
            assert_eq!(cal().working_days_in_year(year), Ok(working), "{year}");
        }
        // Same count via working_days_between.
        assert_eq!(cal().working_days_between(d(2024, 12, 31), d(2025, 12, 31)), Ok(246));
    }

    #[test]
    fn reasons() {
        assert_eq!(cal().reason(d(2024, 5, 8)).unwrap().map(|r| r.contains("transfer")), Some(true));
        assert!(cal().reason(d(2024, 5, 4)).unwrap().is_some());
        assert_eq!(cal().reason(d(2024, 5, 10)).unwrap(), None);
        let y2026 = cal().year(2026).unwrap();
        assert!(y2026.notes.iter().any(|n| n.contains("Constitution")));
        assert!(!cal().is_working_day(d(2026, 8, 31)).unwrap());
    }

    fn parse_err(body: &str) -> String {
        let text = format!("year = 2024\nstatus = \"official\"\nsources = [\"x\"]\n{body}");
        YearCalendar::parse("test.toml", &text).unwrap_err().to_string()
    }

    #[test]
    fn file_validation() {
        assert!(parse_err("[[day_off]]\ndate = 2024-05-04\nreason = \"x\"\n").contains("Sat"));
        assert!(parse_err("[[working_day]]\ndate = 2024-05-06\nreason = \"x\"\n").contains("Mon"));
        assert!(parse_err("[[day_off]]\ndate = 2025-05-06\nreason = \"x\"\n").contains("not in year"));
        assert!(parse_err(
            "[[day_off]]\ndate = 2024-05-06\nreason = \"x\"\n[[day_off]]\ndate = 2024-05-06\nreason = \"y\"\n"
        )
        .contains("twice"));
        assert!(parse_err("[[day_off]]\ndate = 2024-05-06\nreason = \"\"\n").contains("reason"));
        assert!(parse_err("[[day_off]]\ndate = \"2024-05-06\"\nreason = \"x\"\n").contains("test.toml"));
        assert!(parse_err("bogus = 1\n").contains("test.toml"));
        let no_sources = "year = 2024\nstatus = \"official\"\nsources = []\n";
        assert!(YearCalendar::parse("t", no_sources).is_err());
        let bad_status = "year = 2024\nstatus = \"final\"\nsources = [\"x\"]\n";
        assert!(YearCalendar::parse("t", bad_status).is_err());
    }

    #[test]
    fn custom_calendar_and_duplicates() {
        let y = YearCalendar::parse("a", "year = 2030\nstatus = \"provisional\"\nsources = [\"x\"]\n").unwrap();
        let c = WorkCalendar::from_years([y.clone()]).unwrap();
        // No holidays listed: plain weekends.
        assert_eq!(c.add_working_days(d(2030, 1, 4), 1), Ok(d(2030, 1, 7)));
        assert!(WorkCalendar::from_years([y.clone(), y.clone()]).is_err());
        assert_eq!(c.known_through(), Some(d(2030, 12, 31)));
        // A gap ends what is known: 2032 is past an unknown 2031.
        let later = YearCalendar::parse("b", "year = 2032\nstatus = \"provisional\"\nsources = [\"x\"]\n").unwrap();
        assert_eq!(WorkCalendar::from_years([y, later]).unwrap().known_through(), Some(d(2030, 12, 31)));
        assert_eq!(WorkCalendar::default().known_through(), None);
    }
}
