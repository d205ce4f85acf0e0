//! Dates written as ISO 8601 text (`2026-12-05`) without `core::fmt`.
//!
//! chrono serializes a `NaiveDate` through its formatting machinery, which
//! was more than half of the time serde spent on an appeal's document in
//! the ledger writer (a registration writes five dates). Fields of documents
//! written on every event name these functions with
//! `#[serde(serialize_with = "casetrail_types::iso_date::serialize")]` (or
//! `serialize_option`); they read back through chrono as before. The text
//! is exactly chrono's: years outside 0..=9999, which chrono writes with a
//! sign, go through chrono.

use chrono::{Datelike, NaiveDate};
use serde::{Serialize, Serializer};

use crate::decimal::zero_padded;

/// `date` as `YYYY-MM-DD` in `buffer`, or `None` when its year is outside
/// 0..=9999.
pub fn write(date: NaiveDate, buffer: &mut [u8; 10]) -> Option<&str> {
    let year = u32::try_from(date.year()).ok().filter(|year| *year <= 9999)?;
    zero_padded(year.into(), &mut buffer[0..4]);
    buffer[4] = b'-';
    zero_padded(date.month().into(), &mut buffer[5..7]);
    buffer[7] = b'-';
    zero_padded(date.day().into(), &mut buffer[8..10]);
    std::str::from_utf8(buffer).ok()
}

/// Appends `date` to `out` as chrono's `Display` writes it.
pub fn push(out: &mut String, date: NaiveDate) {
    let mut buffer = [0; 10];
    match write(date, &mut buffer) {
        Some(text) => out.push_str(text),
        None => out.push_str(&date.to_string()),
    }
}

/// Serializes a date as chrono does, faster.
pub fn serialize<S: Serializer>(date: &NaiveDate, serializer: S) -> Result<S::Ok, S::Error> {
    let mut buffer = [0; 10];
    match write(*date, &mut buffer) {
        Some(text) => serializer.serialize_str(text),
        None => date.serialize(serializer),
    }
}

/// [`serialize`] for an optional date.
pub fn serialize_option<S: Serializer>(date: &Option<NaiveDate>, serializer: S) -> Result<S::Ok, S::Error> {
    struct Iso(NaiveDate);
    impl Serialize for Iso {
        fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
            serialize(&self.0, serializer)
        }
    }
    match date {
        Some(date) => serializer.serialize_some(&Iso(*date)),
        None => serializer.serialize_none(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Serialize)]
    struct Dated {
        #[serde(serialize_with = "serialize")]
        on: NaiveDate,
        #[serde(serialize_with = "serialize_option")]
        until: Option<NaiveDate>,
    }

    #[test]
    fn every_day_reads_as_chrono_writes_it() {
        // Every day of 1899..=2101 and the edges of chrono's range: the
        // text is chrono's own, so documents read back and compare as before.
        let days =
            NaiveDate::from_ymd_opt(1899, 1, 1).unwrap().iter_days().take_while(|day| day.year() <= 2101).chain([
                NaiveDate::MIN,
                NaiveDate::MAX,
                NaiveDate::from_ymd_opt(0, 1, 1).unwrap(),
                NaiveDate::from_ymd_opt(-1, 12, 31).unwrap(),
                NaiveDate::from_ymd_opt(9999, 12, 31).unwrap(),
                NaiveDate::from_ymd_opt(10000, 1, 1).unwrap(),
                NaiveDate::from_ymd_opt(7, 3, 4).unwrap(),
            ]);
        for day in days {
            for until in [None, Some(day)] {
                let ours = serde_json::to_string(&Dated { on: day, until }).unwrap();
                let chrono = serde_json::json!({ "on": day, "until": until }).to_string();
                assert_eq!(ours, chrono, "{day}");
            }
            let mut pushed = String::from("due=");
            push(&mut pushed, day);
            assert_eq!(pushed, format!("due={day}"));
        }
    }

    #[test]
    fn years_chrono_writes_with_a_sign_are_left_to_chrono() {
        let mut buffer = [0; 10];
        assert_eq!(write(NaiveDate::from_ymd_opt(2026, 12, 5).unwrap(), &mut buffer), Some("2026-12-05"));
        assert_eq!(write(NaiveDate::from_ymd_opt(10000, 1, 1).unwrap(), &mut buffer), None);
        assert_eq!(write(NaiveDate::from_ymd_opt(-1, 1, 1).unwrap(), &mut buffer), None);
    }
}
