//! Converting TOML local dates (`2024-05-04`) to `chrono::NaiveDate`.

use chrono::NaiveDate;

/// A TOML value that must be a bare local date (no time, no offset).
pub(crate) fn to_naive_date(value: &toml::value::Datetime) -> Option<NaiveDate> {
    if value.time.is_some() || value.offset.is_some() {
        return None;
    }
    let date = value.date?;
    NaiveDate::from_ymd_opt(i32::from(date.year), u32::from(date.month), u32::from(date.day))
}
