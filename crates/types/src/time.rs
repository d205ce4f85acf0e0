//! Kazakhstan's civil time.
//!
//! Kazakhstan has used a single zone, UTC+5, since 1 March 2024 00:00 local
//! time: clocks went from 2024-03-01 00:00 (UTC+6) back to 2024-02-29 23:00
//! (UTC+5), i.e. at 2024-02-29T18:00:00Z. Before that the capital and Almaty
//! (and most of the country) used UTC+6; the western regions, which were
//! already on UTC+5, are not modelled: casetrail uses the capital's zone for
//! every day count. Instants are stored in UTC; dates are computed here.

use chrono::{DateTime, FixedOffset, NaiveDate, NaiveTime, TimeDelta, Utc};

const UTC6: FixedOffset = match FixedOffset::east_opt(6 * 3600) {
    Some(o) => o,
    None => panic!("UTC+6 is a valid offset"),
};
const UTC5: FixedOffset = match FixedOffset::east_opt(5 * 3600) {
    Some(o) => o,
    None => panic!("UTC+5 is a valid offset"),
};

/// 2024-02-29T18:00:00Z as a Unix timestamp: the first instant of UTC+5.
pub const SWITCH_TO_UTC5_UNIX: i64 = 1_709_229_600;

/// The UTC offset of Kazakhstan's (capital's) civil time at an instant.
pub fn kz_offset_at(instant: DateTime<Utc>) -> FixedOffset {
    if instant.timestamp() < SWITCH_TO_UTC5_UNIX {
        UTC6
    } else {
        UTC5
    }
}

/// The local calendar date at an instant.
pub fn local_date(instant: DateTime<Utc>) -> NaiveDate {
    let utc = instant.naive_utc();
    // Only fails at the very end of chrono's range; the UTC date is then
    // the best answer there is.
    utc.checked_add_offset(kz_offset_at(instant)).map_or(utc.date(), |local| local.date())
}

/// The instant local `date` begins (00:00 local time), in UTC.
///
/// For 29 February 2024, whose local day lasted 25 hours, this is
/// 2024-02-28T18:00:00Z; for 1 March 2024 it is 2024-02-29T19:00:00Z. For
/// every date, `local_date(local_midnight_utc(d)) == d`.
pub fn local_midnight_utc(date: NaiveDate) -> DateTime<Utc> {
    let naive = date.and_time(NaiveTime::MIN).and_utc();
    let at = |hours: i64| naive.checked_sub_signed(TimeDelta::hours(hours)).unwrap_or(DateTime::<Utc>::MIN_UTC);
    let with_utc6 = at(6);
    if with_utc6.timestamp() < SWITCH_TO_UTC5_UNIX {
        with_utc6
    } else {
        at(5)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn utc(y: i32, mo: u32, d: u32, h: u32, mi: u32, s: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, mo, d, h, mi, s).unwrap()
    }

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    #[test]
    fn switch_constant_is_right() {
        assert_eq!(utc(2024, 2, 29, 18, 0, 0).timestamp(), SWITCH_TO_UTC5_UNIX);
    }

    fn check(instant: DateTime<Utc>, offset_hours: i32, local: NaiveDate) {
        assert_eq!(kz_offset_at(instant).local_minus_utc(), offset_hours * 3600, "{instant}");
        assert_eq!(local_date(instant), local, "{instant}");
    }

    #[test]
    fn offsets_and_dates_around_the_switch() {
        check(utc(2015, 1, 1, 0, 0, 0), 6, date(2015, 1, 1));
        check(utc(2023, 12, 31, 17, 59, 59), 6, date(2023, 12, 31));
        check(utc(2023, 12, 31, 18, 0, 0), 6, date(2024, 1, 1));
        check(utc(2024, 2, 28, 17, 59, 59), 6, date(2024, 2, 28));
        check(utc(2024, 2, 28, 18, 0, 0), 6, date(2024, 2, 29));
        check(utc(2024, 2, 29, 17, 59, 59), 6, date(2024, 2, 29)); // 23:59:59 +6
        check(utc(2024, 2, 29, 18, 0, 0), 5, date(2024, 2, 29)); // 23:00 +5 again
        check(utc(2024, 2, 29, 18, 59, 59), 5, date(2024, 2, 29));
        check(utc(2024, 2, 29, 19, 0, 0), 5, date(2024, 3, 1));
        check(utc(2025, 6, 1, 18, 59, 59), 5, date(2025, 6, 1));
        check(utc(2025, 6, 1, 19, 0, 0), 5, date(2025, 6, 2));
    }

    #[test]
    fn midnights() {
        for (d, expected) in [
            (date(2023, 1, 1), utc(2022, 12, 31, 18, 0, 0)),
            (date(2024, 2, 29), utc(2024, 2, 28, 18, 0, 0)),
            (date(2024, 3, 1), utc(2024, 2, 29, 19, 0, 0)),
            (date(2026, 3, 2), utc(2026, 3, 1, 19, 0, 0)),
        ] {
            assert_eq!(local_midnight_utc(d), expected, "{d}");
        }
        // Round trip for every day 2015..2027, and the day is 24 h except
        // 29 Feb 2024 (25 h).
        let mut d = date(2015, 1, 1);
        while d < date(2027, 1, 1) {
            let m = local_midnight_utc(d);
            assert_eq!(local_date(m), d);
            assert_eq!(local_date(m - TimeDelta::seconds(1)), d.pred_opt().unwrap());
            let next = d.succ_opt().unwrap();
            let hours = (local_midnight_utc(next) - m).num_hours();
            assert_eq!(hours, if d == date(2024, 2, 29) { 25 } else { 24 }, "{d}");
            d = next;
        }
    }

    #[test]
    fn extremes_do_not_panic() {
        let _ = local_midnight_utc(NaiveDate::MIN);
        let _ = local_midnight_utc(NaiveDate::MAX);
        let _ = local_date(DateTime::<Utc>::MAX_UTC);
        let _ = local_date(DateTime::<Utc>::MIN_UTC);
    }
}
