//! A fast working-day index over the simulated period, built once from
//! Kazakhstan's calendar (`casetrail_types::calendar`). Years the calendar
//! does not know fall back to Monday–Friday, so that a simulated year near
//! the end of the data still finishes its open cases.

use casetrail_types::WorkCalendar;
use chrono::{Datelike, Days, NaiveDate, Weekday};

pub(crate) struct WorkDays {
    first: NaiveDate,
    /// Whether each day from `first` is a working day.
    working: Vec<bool>,
    /// The working days, ascending.
    list: Vec<NaiveDate>,
}

impl WorkDays {
    /// Covers `from` to `to` inclusive.
    pub fn new(from: NaiveDate, to: NaiveDate) -> WorkDays {
        let calendar = WorkCalendar::kazakhstan();
        let mut working = Vec::new();
        let mut list = Vec::new();
        let mut day = from;
        while day <= to {
            let is_working =
                calendar.is_working_day(day).unwrap_or_else(|_| !matches!(day.weekday(), Weekday::Sat | Weekday::Sun));
            working.push(is_working);
            if is_working {
                list.push(day);
            }
            match day.succ_opt() {
                Some(next) => day = next,
                None => break,
            }
        }
        WorkDays { first: from, working, list }
    }

    pub fn is_working(&self, day: NaiveDate) -> bool {
        let offset = (day - self.first).num_days();
        match usize::try_from(offset).ok().and_then(|i| self.working.get(i)) {
            Some(flag) => *flag,
            None => !matches!(day.weekday(), Weekday::Sat | Weekday::Sun),
        }
    }

    /// The `n`-th working day strictly after `start` (`n = 0`: `start`).
    pub fn add(&self, start: NaiveDate, n: u32) -> NaiveDate {
        if n == 0 {
            return start;
        }
        let index = self.list.partition_point(|d| *d <= start) + n as usize - 1;
        match self.list.get(index) {
            Some(day) => *day,
            // Beyond the index: approximate with five working days a week.
            None => start.checked_add_days(Days::new(u64::from(n) * 7 / 5 + 1)).unwrap_or(start),
        }
    }

    /// `day` if it is a working day, else the next working day.
    pub fn on_or_after(&self, day: NaiveDate) -> NaiveDate {
        if self.is_working(day) {
            day
        } else {
            self.add(day, 1)
        }
    }

    /// The due date of an `n`-working-day term registered on `day`
    /// (DESIGN.md §3: a non-working registration day counts as the next
    /// working day, and the registration day itself is not counted).
    pub fn due(&self, day: NaiveDate, n: u32) -> NaiveDate {
        self.add(self.on_or_after(day), n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap_or(NaiveDate::MIN)
    }

    #[test]
    fn agrees_with_the_calendar_crate() {
        let days = WorkDays::new(date(2024, 1, 1), date(2026, 12, 31));
        let calendar = WorkCalendar::kazakhstan();
        let mut day = date(2025, 1, 1);
        while day < date(2025, 12, 31) {
            for n in [1, 3, 7, 15] {
                assert_eq!(Ok(days.add(day, n)), calendar.add_working_days(day, n), "{day} + {n}");
                assert_eq!(Ok(days.due(day, n)), calendar.due_after_registration(day, n), "{day} due {n}");
            }
            day = day.succ_opt().unwrap_or(day);
        }
    }
}
