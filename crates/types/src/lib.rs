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
//! - [`time`]: Kazakhstan's time zone (UTC+6 until 1 March 2024, then UTC+5).
#![forbid(unsafe_code)]
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used))]

#[macro_use]
mod macros;

pub mod calendar;
pub mod id;
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
