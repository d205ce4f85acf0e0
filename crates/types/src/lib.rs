//! Validated value types and Kazakhstan rule data for casetrail.
//!
//! Every type here is constructed only through a parser that checks it, so a
//! value that exists is valid. Parsers return typed errors whose messages say
//! what is wrong and what to do. Newtypes serialize as strings (deserializing
//! through the same parser) and describe themselves as string JSON schemas
//! with a pattern.
//!
//! The crate is pure: it reads no files, no network and no clock. Rule data
//! (MCI values, KATO regions, the working-day calendar) lives in the
//! workspace's `data/` directory and is embedded at build time with
//! `include_str!`; time is always a parameter.
//!
//! - [`id`]: IIN / BIN (12-digit identifiers of people and organisations);
//! - [`money`]: exact tenge amounts in tiyn;
//! - [`locale`]: the three UI languages;
//! - [`mci`]: the monthly calculation index (МРП) by date;
//! - [`kato`]: KATO administrative-territorial codes and regions;
//! - [`uin`]: the 20-digit charge identifier;
//! - [`calendar`]: Kazakhstan's working-day calendar;
//! - [`decimal`]: fixed-width decimal digits without `core::fmt`;
//! - [`iso_date`]: dates written as `YYYY-MM-DD` for serde, faster than chrono;
//! - [`time`]: Kazakhstan's time zone (UTC+6 until 1 March 2024, then UTC+5).
#![forbid(unsafe_code)]
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used))]

#[macro_use]
mod macros;

pub mod calendar;
pub mod decimal;
pub mod id;
pub mod iso_date;
pub mod kato;
pub mod locale;
pub mod mci;
pub mod money;
pub mod time;
pub mod uin;

mod tomldate;

pub use calendar::{CalendarError, CalendarStatus, WorkCalendar, YearCalendar};
pub use id::{Bin, BinAttribute, BinKind, IdError, Iin, PartyId, Sex};
pub use kato::{regions, Kato, KatoError, Region, RegionKind};
pub use locale::{Locale, LocaleError};
pub use mci::{mci_amount, Mci, MciCount, MciError, MciStatus, MciTable, MciValue};
pub use money::{Money, MoneyError};
pub use time::{kz_offset_at, local_date, local_midnight_utc};
pub use uin::{Uin, UinError};

#[cfg(test)]
mod tests {
    use super::*;
    use serde::{de::DeserializeOwned, Serialize};

    /// Every newtype: serializes to a JSON string, deserializes back through
    /// its parser, and has a string schema with a pattern.
    fn check<T>(sample: T, json: &str, bad: &str)
    where
        T: Serialize + DeserializeOwned + schemars::JsonSchema + PartialEq + std::fmt::Debug,
    {
        let s = serde_json::to_string(&sample).unwrap();
        assert_eq!(s, json);
        assert_eq!(serde_json::from_str::<T>(&s).unwrap(), sample);
        assert!(serde_json::from_str::<T>(bad).is_err(), "{bad} accepted");
        let schema = serde_json::to_value(schemars::schema_for!(T)).unwrap();
        assert_eq!(schema["type"], "string", "{json}");
        assert!(schema["pattern"].as_str().is_some_and(|p| p.starts_with('^')));
        assert!(schema["description"].is_string());
    }

    #[test]
    fn all_newtypes_are_strings_with_schemas() {
        check(Iin::parse("850808310738").unwrap(), "\"850808310738\"", "\"850808310739\"");
        check(Bin::parse("940140000385").unwrap(), "\"940140000385\"", "\"940140000384\"");
        check(PartyId::parse("990140004654").unwrap(), "\"990140004654\"", "\"99014000465\"");
        check(Money::from_tiyn(1_730_000), "\"17300.00\"", "\"17300.001\"");
        check(Locale::Ru, "\"ru\"", "\"RU\"");
        check(Kato::parse("750000000").unwrap(), "\"750000000\"", "\"7500000000\"");
        check(Uin::from_serial(42).unwrap(), "\"00000000000000000426\"", "\"00000000000000000425\"");
        check(MciCount::parse("0.5").unwrap(), "\"0.5\"", "\"-1\"");
    }
}
