//! The monthly calculation index (MCI, МРП): the unit in which fines are set.
//!
//! A dated table (`data/mci.toml`, embedded at build time): each row applies
//! from its date until the next row. The table covers 2015-01-01 to its
//! `known_through` date; outside that range lookups fail rather than guess.
//! Values are those used for fines and taxes (in 2022 a higher MCI was
//! introduced for benefits only; see the row's note).

use crate::money::Money;
use crate::tomldate::to_naive_date;
use chrono::NaiveDate;
use serde::Deserialize;
use std::fmt;
use std::sync::OnceLock;

const MCI_TOML: &str = include_str!("../../../data/mci.toml");

/// How sure we are of a row's value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum MciStatus {
    /// Found in at least one public source.
    Confirmed,
    /// From memory; no source found.
    Unverified,
    /// Sources disagree; the row's note says how it was resolved.
    Conflict,
}

/// The MCI in force on a date.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MciValue {
    /// One MCI in tenge.
    pub tenge: Money,
    pub status: MciStatus,
    /// The first day this value applies.
    pub from: NaiveDate,
}

/// One row of the table, with its provenance.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MciRow {
    pub from: NaiveDate,
    pub tenge: Money,
    pub status: MciStatus,
    pub source: String,
    pub note: String,
}

/// Errors of MCI lookups and of parsing an MCI table.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MciError {
    #[error("no MCI value is known before {first} (asked for {date}); fines before then cannot be converted from MCI, enter the amount in tenge instead")]
    BeforeTable { date: NaiveDate, first: NaiveDate },
    #[error("the MCI table only covers dates up to {known_through} (asked for {date}); add the new year's value to data/mci.toml")]
    AfterTable { date: NaiveDate, known_through: NaiveDate },
    #[error("{count} MCI at {tenge} tenge does not fit in a Money amount; check the count")]
    Overflow { count: MciCount, tenge: Money },
    #[error("invalid MCI count {input:?}: {reason}; write a non-negative number with up to two decimals, e.g. \"5\" or \"0.5\"")]
    BadCount { input: String, reason: &'static str },
    #[error("invalid MCI table: {0}; fix data/mci.toml")]
    Data(String),
}

/// A number of MCI, possibly fractional (to 0.01 MCI), e.g. `5` or `0.5`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct MciCount {
    hundredths: u64,
}

impl MciCount {
    /// A whole number of MCI.
    pub const fn whole(count: u32) -> MciCount {
        MciCount { hundredths: count as u64 * 100 }
    }

    /// A count in hundredths of an MCI (50 = 0.5 MCI).
    pub const fn from_hundredths(hundredths: u64) -> MciCount {
        MciCount { hundredths }
    }

    pub const fn hundredths(self) -> u64 {
        self.hundredths
    }

    /// Parses `5`, `0.5`, `2.25` (dot or comma; at most two decimals;
    /// not negative).
    pub fn parse(s: &str) -> Result<MciCount, MciError> {
        let bad = |reason| MciError::BadCount { input: s.to_owned(), reason };
        let t = s.trim();
        let (int, frac) = match t.find(['.', ',']) {
            Some(i) => (&t[..i], Some(&t[i + 1..])),
            None => (t, None),
        };
        if int.is_empty() || !int.bytes().all(|b| b.is_ascii_digit()) {
            return Err(bad("expected digits"));
        }
        let frac_h = match frac {
            None => 0,
            Some(f) if f.is_empty() || f.len() > 2 || !f.bytes().all(|b| b.is_ascii_digit()) => {
                return Err(bad("expected one or two decimal digits"))
            }
            Some(f) => {
                let v = f.bytes().fold(0u64, |a, b| a * 10 + u64::from(b - b'0'));
                if f.len() == 1 {
                    v * 10
                } else {
                    v
                }
            }
        };
        let mut whole: u64 = 0;
        for b in int.bytes() {
            whole = whole
                .checked_mul(10)
                .and_then(|w| w.checked_add(u64::from(b - b'0')))
                .ok_or_else(|| bad("too large"))?;
        }
        let hundredths = whole.checked_mul(100).and_then(|h| h.checked_add(frac_h)).ok_or_else(|| bad("too large"))?;
        Ok(MciCount { hundredths })
    }
}

impl From<u32> for MciCount {
    fn from(count: u32) -> Self {
        MciCount::whole(count)
    }
}

impl fmt::Display for MciCount {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (w, h) = (self.hundredths / 100, self.hundredths % 100);
        if h == 0 {
            write!(f, "{w}")
        } else if h % 10 == 0 {
            write!(f, "{w}.{}", h / 10)
        } else {
            write!(f, "{w}.{h:02}")
        }
    }
}

string_newtype!(
    MciCount,
    MciError,
    "MciCount",
    "^[0-9]+(\\.[0-9]{1,2})?$",
    "A number of monthly calculation indices (МРП), up to two decimals, e.g. \"5\" or \"0.5\""
);

/// The dated MCI table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MciTable {
    rows: Vec<MciRow>,
    known_through: Option<NaiveDate>,
    load_error: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTable {
    known_through: toml::value::Datetime,
    mci: Vec<RawRow>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRow {
    from: toml::value::Datetime,
    tenge: i64,
    status: MciStatus,
    source: String,
    note: String,
}

/// Namespace for the embedded table.
pub struct Mci;

impl Mci {
    /// The table embedded from `data/mci.toml`, parsed once. If the embedded
    /// file were invalid (a test guards against it) every lookup returns
    /// [`MciError::Data`].
    pub fn table() -> &'static MciTable {
        static TABLE: OnceLock<MciTable> = OnceLock::new();
        TABLE.get_or_init(|| {
            MciTable::parse(MCI_TOML).unwrap_or_else(|e| MciTable {
                rows: Vec::new(),
                known_through: None,
                load_error: Some(e.to_string()),
            })
        })
    }
}

impl MciTable {
    /// Parses and validates a table in the `data/mci.toml` format: rows in
    /// strictly increasing date order, positive values, `known_through` not
    /// before the last row.
    pub fn parse(text: &str) -> Result<MciTable, MciError> {
        let raw: RawTable = toml::from_str(text).map_err(|e| MciError::Data(e.to_string()))?;
        let known_through = to_naive_date(&raw.known_through)
            .ok_or_else(|| MciError::Data("known_through must be a date like 2026-12-31".into()))?;
        let mut rows: Vec<MciRow> = Vec::with_capacity(raw.mci.len());
        for r in raw.mci {
            let from = to_naive_date(&r.from)
                .ok_or_else(|| MciError::Data(format!("`from = {}` must be a date like 2015-01-01", r.from)))?;
            if r.tenge <= 0 {
                return Err(MciError::Data(format!("the value from {from} must be positive")));
            }
            if let Some(prev) = rows.last() {
                if prev.from >= from {
                    return Err(MciError::Data(format!(
                        "rows must be in increasing date order, but {from} follows {}",
                        prev.from
                    )));
                }
            }
            let tenge = Money::from_tenge(r.tenge)
                .ok_or_else(|| MciError::Data(format!("the value from {from} is too large")))?;
            rows.push(MciRow { from, tenge, status: r.status, source: r.source, note: r.note });
        }
        match rows.last() {
            None => return Err(MciError::Data("the table has no rows".into())),
            Some(last) if last.from > known_through => {
                return Err(MciError::Data(format!(
                    "known_through {known_through} is before the last row ({})",
                    last.from
                )))
            }
            Some(_) => {}
        }
        Ok(MciTable { rows, known_through: Some(known_through), load_error: None })
    }

    /// All rows, oldest first.
    pub fn rows(&self) -> &[MciRow] {
        &self.rows
    }

    /// The last date the table covers.
    pub fn known_through(&self) -> Option<NaiveDate> {
        self.known_through
    }

    /// The MCI in force on `date`.
    pub fn value_on(&self, date: NaiveDate) -> Result<MciValue, MciError> {
        if let Some(e) = &self.load_error {
            return Err(MciError::Data(e.clone()));
        }
        let (Some(first), Some(known_through)) = (self.rows.first(), self.known_through) else {
            return Err(MciError::Data("the table has no rows".into()));
        };
        if date > known_through {
            return Err(MciError::AfterTable { date, known_through });
        }
        let idx = self.rows.partition_point(|r| r.from <= date);
        match idx.checked_sub(1).and_then(|i| self.rows.get(i)) {
            Some(r) => Ok(MciValue { tenge: r.tenge, status: r.status, from: r.from }),
            None => Err(MciError::BeforeTable { date, first: first.from }),
        }
    }

    /// `count` MCI in tenge at the value in force on `date`, rounded to the
    /// tiyn half-up (only fractional counts can produce fractions of a tiyn).
    pub fn amount(&self, count: impl Into<MciCount>, date: NaiveDate) -> Result<Money, MciError> {
        let count = count.into();
        let value = self.value_on(date)?;
        let overflow = || MciError::Overflow { count, tenge: value.tenge };
        let n = i128::from(value.tenge.tiyn()) * i128::from(count.hundredths);
        let q = n / 100;
        let rounded = if (n % 100) * 2 >= 100 { q + 1 } else { q };
        i64::try_from(rounded).map(Money::from_tiyn).map_err(|_| overflow())
    }
}

/// `count` MCI in tenge at the MCI in force on `date`, from the embedded
/// table. `count` is a `u32` (whole MCI) or an [`MciCount`].
pub fn mci_amount(count: impl Into<MciCount>, date: NaiveDate) -> Result<Money, MciError> {
    Mci::table().amount(count, date)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    fn check(date: NaiveDate, tenge: i64, status: MciStatus) {
        let v = Mci::table().value_on(date).unwrap();
        assert_eq!(v.tenge, Money::from_tenge(tenge).unwrap(), "{date}");
        assert_eq!(v.status, status, "{date}");
    }

    #[test]
    fn embedded_table_values() {
        use MciStatus::*;
        check(d(2015, 1, 1), 1982, Confirmed);
        check(d(2015, 12, 31), 1982, Confirmed);
        check(d(2016, 6, 1), 2121, Confirmed);
        check(d(2017, 6, 1), 2269, Unverified);
        check(d(2018, 6, 1), 2405, Confirmed);
        check(d(2019, 6, 1), 2525, Confirmed);
        check(d(2020, 1, 1), 2651, Confirmed);
        check(d(2020, 3, 31), 2651, Confirmed);
        check(d(2020, 4, 1), 2778, Confirmed);
        check(d(2020, 12, 31), 2778, Confirmed);
        check(d(2021, 6, 1), 2917, Confirmed);
        check(d(2022, 6, 1), 3063, Conflict);
        check(d(2023, 6, 1), 3450, Confirmed);
        check(d(2024, 6, 1), 3692, Confirmed);
        check(d(2025, 6, 1), 3932, Confirmed);
        check(d(2026, 1, 1), 4325, Confirmed);
        check(d(2026, 12, 31), 4325, Confirmed);
    }

    #[test]
    fn every_row_has_provenance() {
        let t = Mci::table();
        assert_eq!(t.rows().len(), 13);
        for r in t.rows() {
            match r.status {
                MciStatus::Confirmed => assert!(r.source.starts_with("http"), "{}", r.from),
                MciStatus::Unverified | MciStatus::Conflict => {
                    assert!(!r.note.is_empty(), "{}", r.from)
                }
            }
        }
        let conflict = t.rows().iter().find(|r| r.status == MciStatus::Conflict).unwrap();
        assert!(conflict.note.contains("3180"));
    }

    #[test]
    fn outside_the_table_is_an_error() {
        let t = Mci::table();
        assert!(matches!(t.value_on(d(2014, 12, 31)), Err(MciError::BeforeTable { .. })));
        assert!(matches!(t.value_on(d(2027, 1, 1)), Err(MciError::AfterTable { .. })));
        let msg = t.value_on(d(2027, 1, 1)).unwrap_err().to_string();
        assert!(msg.contains("data/mci.toml"), "{msg}");
    }

    fn amount(count: &str, date: NaiveDate, expected: &str) {
        let c = MciCount::parse(count).unwrap();
        assert_eq!(mci_amount(c, date).unwrap(), Money::parse(expected).unwrap(), "{count} MCI on {date}");
    }

    #[test]
    fn amounts() {
        assert_eq!(mci_amount(5u32, d(2025, 3, 1)).unwrap(), Money::from_tenge(19_660).unwrap());
        amount("5", d(2022, 8, 1), "15315.00"); // fines use 3063 in 2022
        amount("0.5", d(2024, 1, 1), "1846.00");
        amount("0.5", d(2015, 1, 1), "991.00");
        amount("0.01", d(2019, 1, 1), "25.25");
        amount("0.33", d(2020, 4, 1), "916.74"); // 916.74 exactly
        amount("0.01", d(2020, 1, 1), "26.51");
        amount("0", d(2026, 1, 1), "0");
        amount("100", d(2020, 3, 31), "265100");
        assert!(mci_amount(5u32, d(2014, 1, 1)).is_err());
    }

    #[test]
    fn count_parse_table() {
        for (input, hundredths) in [
            ("5", Some(500)),
            ("0.5", Some(50)),
            ("0,5", Some(50)),
            ("2.25", Some(225)),
            ("10.00", Some(1000)),
            ("", None),
            ("-1", None),
            ("1.234", None),
            ("1.", None),
            (".5", None),
            ("x", None),
            ("99999999999999999999", None),
        ] {
            assert_eq!(MciCount::parse(input).ok().map(MciCount::hundredths), hundredths, "{input:?}");
        }
        for (h, s) in [(500, "5"), (50, "0.5"), (225, "2.25"), (5, "0.05")] {
            let c = MciCount::from_hundredths(h);
            assert_eq!(c.to_string(), s);
            assert_eq!(MciCount::parse(s), Ok(c));
        }
    }

    #[test]
    fn table_validation() {
        let ok = "known_through = 2020-12-31\n[[mci]]\nfrom = 2020-01-01\ntenge = 10\nstatus = \"confirmed\"\nsource = \"\"\nnote = \"\"\n";
        assert!(MciTable::parse(ok).is_ok());
        let unsorted =
            format!("{ok}[[mci]]\nfrom = 2019-01-01\ntenge = 10\nstatus = \"confirmed\"\nsource = \"\"\nnote = \"\"\n");
        assert!(matches!(MciTable::parse(&unsorted), Err(MciError::Data(_))));
        let zero = ok.replace("tenge = 10", "tenge = 0");
        assert!(MciTable::parse(&zero).is_err());
        let status = ok.replace("\"confirmed\"", "\"maybe\"");
        assert!(MciTable::parse(&status).is_err());
        let late = ok.replace("known_through = 2020-12-31", "known_through = 2019-12-31");
        assert!(MciTable::parse(&late).is_err());
        let datetime = ok.replace("from = 2020-01-01", "from = 2020-01-01T00:00:00");
        assert!(MciTable::parse(&datetime).is_err());
        assert!(MciTable::parse("known_through = 2020-12-31\nmci = []").is_err());
    }
}
