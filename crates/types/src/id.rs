//! IIN and BIN: Kazakhstan's 12-digit identifiers of people (ИИН) and of
//! legal entities and joint entrepreneurs (БИН).
//!
//! Both end in a check digit computed in two passes over the first 11
//! digits: weights 1..=11, sum mod 11; if that is 10, weights
//! 3,4,..,11,1,2, sum mod 11; if that is 10 again no valid number exists
//! (such numbers are never issued, so they are rejected).
//!
//! - IIN `YYMMDD G NNNN C`: birth date, century and sex (`G` 1..=6, odd
//!   male, even female; 1/2 = 1800s, 3/4 = 1900s, 5/6 = 2000s), serial,
//!   check digit.
//! - BIN `YYMM T A NNNNN C`: year and month of registration, type `T`
//!   (4 resident legal entity, 5 non-resident, 6 individual entrepreneur in
//!   joint entrepreneurship), attribute `A` (0 head unit, 1 branch,
//!   2 representative office, 3 peasant farm in joint entrepreneurship),
//!   serial, check digit.
//!
//! Digit 5 tells them apart: 0..=3 in an IIN (tens of the birth day), 4..=6
//! in a BIN.

use chrono::{Datelike, NaiveDate};
use std::fmt;

/// Why a string is not a valid IIN or BIN.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdError {
    #[error("{what} must be exactly 12 digits, got {found} characters; check that no digit is missing or doubled")]
    WrongLength { what: &'static str, found: usize },
    #[error(
        "{what} must contain digits only, found {found:?} at position {position}; remove spaces, dashes and letters"
    )]
    NotADigit { what: &'static str, found: char, position: usize },
    #[error("{what} {input} has check digit {found} but its first 11 digits require {expected}; the number was probably mistyped, compare it with the document")]
    CheckDigit { what: &'static str, input: String, found: u8, expected: u8 },
    #[error("{what} {input} cannot exist: its first 11 digits give remainder 10 in both check-digit passes, so no such number is ever issued; check for a typo")]
    NeverIssued { what: &'static str, input: String },
    #[error("IIN {input} looks like a BIN (digit 5 is {digit}; in an IIN it is the tens of the birth day, 0-3); use the BIN field or check the number")]
    LooksLikeBin { input: String, digit: u8 },
    #[error("BIN {input} looks like an IIN (digit 5 is {digit}; a BIN has 4, 5 or 6 there); use the IIN field or check the number")]
    LooksLikeIin { input: String, digit: u8 },
    #[error("IIN {input} has {digit} as digit 7 (century and sex); it must be 1 to 6; check the number")]
    BadCentury { input: String, digit: u8 },
    #[error("IIN {input} does not start with a real birth date: {yymmdd} is not a valid YYMMDD date in the {century}s; check the first six digits")]
    BadBirthDate { input: String, yymmdd: String, century: i32 },
    #[error("BIN {input} has {digit} as digit 6 (attribute); it must be 0 (head unit), 1 (branch), 2 (representative office) or 3 (peasant farm); check the number")]
    BadAttribute { input: String, digit: u8 },
    #[error(
        "BIN {input} has month {month:02} in digits 3-4 (registration month); it must be 01 to 12; check the number"
    )]
    BadMonth { input: String, month: u8 },
}

/// Checks shape: exactly 12 ASCII digits.
fn digits12(what: &'static str, s: &str) -> Result<[u8; 12], IdError> {
    let count = s.chars().count();
    if count != 12 {
        return Err(IdError::WrongLength { what, found: count });
    }
    let mut out = [0u8; 12];
    for (i, c) in s.chars().enumerate() {
        match c.to_digit(10) {
            Some(d) if c.is_ascii_digit() => out[i] = d as u8,
            _ => return Err(IdError::NotADigit { what, found: c, position: i + 1 }),
        }
    }
    Ok(out)
}

const W1: [u32; 11] = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11];
const W2: [u32; 11] = [3, 4, 5, 6, 7, 8, 9, 10, 11, 1, 2];

/// The check digit for the first 11 digits of an IIN or BIN, or `None` when
/// both passes give 10 (no valid number has these 11 digits).
pub fn check_digit(first11: &[u8; 11]) -> Option<u8> {
    let sum = |w: &[u32; 11]| -> u32 { first11.iter().zip(w).map(|(d, w)| u32::from(*d) * w).sum::<u32>() % 11 };
    let r1 = sum(&W1);
    if r1 != 10 {
        return Some(r1 as u8);
    }
    let r2 = sum(&W2);
    if r2 != 10 {
        return Some(r2 as u8);
    }
    None
}

fn verify_check(what: &'static str, input: &str, d: &[u8; 12]) -> Result<(), IdError> {
    let mut first = [0u8; 11];
    first.copy_from_slice(&d[..11]);
    match check_digit(&first) {
        None => Err(IdError::NeverIssued { what, input: input.to_owned() }),
        Some(expected) if expected != d[11] => {
            Err(IdError::CheckDigit { what, input: input.to_owned(), found: d[11], expected })
        }
        Some(_) => Ok(()),
    }
}

fn fmt_digits(d: &[u8; 12], f: &mut fmt::Formatter<'_>) -> fmt::Result {
    // One write of 12 ASCII digits (a write per digit was 3 % of the ledger
    // writer's instructions: identifiers are formatted on every append).
    let ascii = d.map(|x| b'0' + x);
    f.pad(std::str::from_utf8(&ascii).map_err(|_| fmt::Error)?)
}

/// First two and last four digits, the rest hidden: `85****0738`. For logs.
fn mask(d: &[u8; 12]) -> String {
    format!("{}{}****{}{}{}{}", d[0], d[1], d[8], d[9], d[10], d[11])
}

fn num(d: &[u8]) -> u32 {
    d.iter().fold(0, |acc, x| acc * 10 + u32::from(*x))
}

/// Sex encoded in an IIN's 7th digit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Sex {
    Male,
    Female,
}

/// An individual identification number (ИИН). Valid by construction.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Iin {
    digits: [u8; 12],
    birth: NaiveDate,
}

impl Iin {
    /// Parses exactly 12 digits, checking the century digit, the birth date
    /// and the check digit.
    pub fn parse(s: &str) -> Result<Iin, IdError> {
        let d = digits12("an IIN", s)?;
        if (4..=6).contains(&d[4]) {
            return Err(IdError::LooksLikeBin { input: s.to_owned(), digit: d[4] });
        }
        let century = match d[6] {
            1 | 2 => 1800,
            3 | 4 => 1900,
            5 | 6 => 2000,
            digit => return Err(IdError::BadCentury { input: s.to_owned(), digit }),
        };
        let year = century + num(&d[0..2]) as i32;
        let Some(birth) = NaiveDate::from_ymd_opt(year, num(&d[2..4]), num(&d[4..6])) else {
            return Err(IdError::BadBirthDate { input: s.to_owned(), yymmdd: s.chars().take(6).collect(), century });
        };
        verify_check("IIN", s, &d)?;
        Ok(Iin { digits: d, birth })
    }

    /// Builds an IIN from its parts, computing the check digit (used by the
    /// simulator for synthetic people). `None` when the birth year is outside
    /// 1800..=2099, `serial` exceeds 9999, or no check digit exists for these
    /// digits (try the next serial).
    pub fn from_parts(birth: NaiveDate, female: bool, serial: u16) -> Option<Iin> {
        let year = birth.year();
        let base = match year {
            1800..=1899 => 1,
            1900..=1999 => 3,
            2000..=2099 => 5,
            _ => return None,
        };
        if serial > 9999 {
            return None;
        }
        let g = base + u8::from(female);
        let yy = (year % 100) as u8;
        let (m, dd) = (birth.month() as u8, birth.day() as u8);
        let s = serial;
        let first: [u8; 11] = [
            yy / 10,
            yy % 10,
            m / 10,
            m % 10,
            dd / 10,
            dd % 10,
            g,
            (s / 1000) as u8,
            (s / 100 % 10) as u8,
            (s / 10 % 10) as u8,
            (s % 10) as u8,
        ];
        let c = check_digit(&first)?;
        let mut digits = [0u8; 12];
        digits[..11].copy_from_slice(&first);
        digits[11] = c;
        Some(Iin { digits, birth })
    }

    /// The birth date in digits 1-6 (validated at parse time).
    pub fn birth_date(&self) -> NaiveDate {
        self.birth
    }

    /// Sex from digit 7 (odd male, even female).
    pub fn sex(&self) -> Sex {
        if self.digits[6] % 2 == 1 {
            Sex::Male
        } else {
            Sex::Female
        }
    }

    /// The 4-digit serial number (digits 8-11).
    pub fn serial(&self) -> u16 {
        num(&self.digits[7..11]) as u16
    }

    /// For logs: first two and last four digits, `85****0738`.
    pub fn masked(&self) -> String {
        mask(&self.digits)
    }
}

impl fmt::Display for Iin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt_digits(&self.digits, f)
    }
}

impl fmt::Debug for Iin {
    /// Masked, so that a stray `{:?}` does not leak personal data into logs.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Iin({})", self.masked())
    }
}

string_newtype!(
    Iin,
    IdError,
    "Iin",
    "^[0-9]{12}$",
    "Kazakhstan individual identification number (ИИН): 12 digits YYMMDD G NNNN C with a valid check digit"
);

/// Type of a BIN holder (digit 5).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BinKind {
    /// 4: resident legal entity.
    ResidentLegalEntity,
    /// 5: non-resident legal entity.
    NonResidentLegalEntity,
    /// 6: individual entrepreneur in joint entrepreneurship.
    JointEntrepreneur,
}

/// Attribute of a BIN holder (digit 6).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BinAttribute {
    /// 0: head unit.
    HeadUnit,
    /// 1: branch.
    Branch,
    /// 2: representative office.
    RepresentativeOffice,
    /// 3: peasant (farm) household in joint entrepreneurship.
    PeasantFarm,
}

/// A business identification number (БИН). Valid by construction.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Bin {
    digits: [u8; 12],
}

impl Bin {
    /// Parses exactly 12 digits, checking the month, type, attribute and
    /// check digit.
    pub fn parse(s: &str) -> Result<Bin, IdError> {
        let d = digits12("a BIN", s)?;
        if !(4..=6).contains(&d[4]) {
            return Err(IdError::LooksLikeIin { input: s.to_owned(), digit: d[4] });
        }
        if d[5] > 3 {
            return Err(IdError::BadAttribute { input: s.to_owned(), digit: d[5] });
        }
        let month = d[2] * 10 + d[3];
        if !(1..=12).contains(&month) {
            return Err(IdError::BadMonth { input: s.to_owned(), month });
        }
        verify_check("BIN", s, &d)?;
        Ok(Bin { digits: d })
    }

    /// Builds a BIN from its parts, computing the check digit. `kind` is the
    /// type digit (4, 5 or 6), `attribute` the attribute digit (0..=3),
    /// `serial` < 100000. Only the last two digits of `year` are encoded.
    /// `None` when a part is out of range or no check digit exists (try the
    /// next serial).
    pub fn from_parts(year: i32, month: u32, kind: u8, attribute: u8, serial: u32) -> Option<Bin> {
        if year < 0 || !(1..=12).contains(&month) || !(4..=6).contains(&kind) || attribute > 3 || serial > 99_999 {
            return None;
        }
        let yy = (year % 100) as u8;
        let m = month as u8;
        let first: [u8; 11] = [
            yy / 10,
            yy % 10,
            m / 10,
            m % 10,
            kind,
            attribute,
            (serial / 10_000) as u8,
            (serial / 1000 % 10) as u8,
            (serial / 100 % 10) as u8,
            (serial / 10 % 10) as u8,
            (serial % 10) as u8,
        ];
        let c = check_digit(&first)?;
        let mut digits = [0u8; 12];
        digits[..11].copy_from_slice(&first);
        digits[11] = c;
        Some(Bin { digits })
    }

    /// Two-digit year of (re-)registration (digits 1-2).
    pub fn registration_yy(&self) -> u8 {
        self.digits[0] * 10 + self.digits[1]
    }

    /// Month of (re-)registration, 1..=12 (digits 3-4).
    pub fn registration_month(&self) -> u32 {
        num(&self.digits[2..4])
    }

    /// Type digit decoded.
    pub fn kind(&self) -> BinKind {
        match self.digits[4] {
            4 => BinKind::ResidentLegalEntity,
            5 => BinKind::NonResidentLegalEntity,
            _ => BinKind::JointEntrepreneur,
        }
    }

    /// Attribute digit decoded.
    pub fn attribute(&self) -> BinAttribute {
        match self.digits[5] {
            0 => BinAttribute::HeadUnit,
            1 => BinAttribute::Branch,
            2 => BinAttribute::RepresentativeOffice,
            _ => BinAttribute::PeasantFarm,
        }
    }

    /// For logs: first two and last four digits, `94****0385`.
    pub fn masked(&self) -> String {
        mask(&self.digits)
    }
}

impl fmt::Display for Bin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt_digits(&self.digits, f)
    }
}

impl fmt::Debug for Bin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Bin({self})")
    }
}

string_newtype!(
    Bin,
    IdError,
    "Bin",
    "^[0-9]{4}[4-6][0-3][0-9]{6}$",
    "Kazakhstan business identification number (БИН): 12 digits YYMM T A NNNNN C with a valid check digit"
);

/// A party: a person (IIN) or an organisation (BIN).
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug)]
pub enum PartyId {
    Iin(Iin),
    Bin(Bin),
}

impl PartyId {
    /// Parses 12 digits as a BIN when digit 5 is 4, 5 or 6, else as an IIN.
    pub fn parse(s: &str) -> Result<PartyId, IdError> {
        let d = digits12("an IIN or BIN", s)?;
        if (4..=6).contains(&d[4]) {
            Bin::parse(s).map(PartyId::Bin)
        } else {
            Iin::parse(s).map(PartyId::Iin)
        }
    }

    /// The IIN, if this party is a person.
    pub fn iin(&self) -> Option<&Iin> {
        match self {
            PartyId::Iin(i) => Some(i),
            PartyId::Bin(_) => None,
        }
    }

    /// The BIN, if this party is an organisation.
    pub fn bin(&self) -> Option<&Bin> {
        match self {
            PartyId::Bin(b) => Some(b),
            PartyId::Iin(_) => None,
        }
    }

    /// For logs: first two and last four digits.
    pub fn masked(&self) -> String {
        match self {
            PartyId::Iin(i) => i.masked(),
            PartyId::Bin(b) => b.masked(),
        }
    }
}

impl From<Iin> for PartyId {
    fn from(i: Iin) -> Self {
        PartyId::Iin(i)
    }
}

impl From<Bin> for PartyId {
    fn from(b: Bin) -> Self {
        PartyId::Bin(b)
    }
}

impl fmt::Display for PartyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PartyId::Iin(i) => i.fmt(f),
            PartyId::Bin(b) => b.fmt(f),
        }
    }
}

string_newtype!(PartyId, IdError, "PartyId", "^[0-9]{12}$", "IIN or BIN: 12 digits; a BIN when digit 5 is 4, 5 or 6");

#[cfg(test)]
mod tests {
    use super::*;

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    /// `expected`: Ok(()) or the error variant name.
    fn check_iin(input: &str, expected: Result<(), &str>) {
        let got = Iin::parse(input);
        match (&got, expected) {
            (Ok(iin), Ok(())) => assert_eq!(iin.to_string(), input),
            (Err(e), Err(name)) => {
                let dbg = format!("{e:?}");
                assert!(dbg.starts_with(name), "{input}: expected {name}, got {dbg}");
                assert!(!e.to_string().is_empty());
            }
            _ => panic!("{input}: expected {expected:?}, got {got:?}"),
        }
    }

    #[test]
    fn iin_table() {
        check_iin("850808310738", Ok(())); // needs pass 2
        check_iin("850808310737", Err("CheckDigit"));
        check_iin("123456789012", Err("LooksLikeBin")); // digit 5 = 5
        check_iin("85080831073", Err("WrongLength"));
        check_iin("8508083107380", Err("WrongLength"));
        check_iin("85080831073a", Err("NotADigit"));
        check_iin("8508083107 8", Err("NotADigit"));
        check_iin("85080871073x", Err("NotADigit"));
        check_iin("850808710738", Err("BadCentury"));
        check_iin("850808010738", Err("BadCentury"));
        check_iin("850230310738", Err("BadBirthDate")); // 30 Feb
        check_iin("851308310738", Err("BadBirthDate")); // month 13
        check_iin("850878310738", Err("BadBirthDate")); // day 78
        check_iin("850800310738", Err("BadBirthDate")); // day 00
        check_iin("٨٥٠٨٠٨٣١٠٧٣٨", Err("NotADigit")); // Arabic-Indic digits
    }

    #[test]
    fn iin_pass_two_example_from_research() {
        // Pass 1 sum 230 -> 10, pass 2 sum 206 -> 8.
        let iin = Iin::parse("850808310738").unwrap();
        assert_eq!(iin.birth_date(), date(1985, 8, 8));
        assert_eq!(iin.sex(), Sex::Male);
        assert_eq!(iin.serial(), 1073);
        assert_eq!(iin.masked(), "85****0738");
        assert_eq!(format!("{iin:?}"), "Iin(85****0738)");
    }

    #[test]
    fn iin_century_and_sex() {
        for (g, year, sex) in [
            (1, 1885, Sex::Male),
            (2, 1885, Sex::Female),
            (3, 1985, Sex::Male),
            (4, 1985, Sex::Female),
            (5, 2085, Sex::Male),
            (6, 2085, Sex::Female),
        ] {
            let female = sex == Sex::Female;
            let made = (0..100u16).find_map(|s| Iin::from_parts(date(year, 8, 8), female, s)).unwrap();
            assert_eq!(made.to_string().as_bytes()[6] - b'0', g);
            let back = Iin::parse(&made.to_string()).unwrap();
            assert_eq!(back.birth_date(), date(year, 8, 8));
            assert_eq!(back.sex(), sex);
        }
        // 29 Feb exists in 2000 and 1904 but not 1900.
        check_iin_date_exists("000229", 5, true);
        check_iin_date_exists("000229", 3, false);
        check_iin_date_exists("040229", 3, true);
    }

    fn check_iin_date_exists(yymmdd: &str, g: u8, exists: bool) {
        let first: Vec<u8> = format!("{yymmdd}{g}0000").bytes().map(|b| b - b'0').collect();
        let mut serial = 0u16;
        loop {
            let mut f: [u8; 11] = first.clone().try_into().unwrap();
            f[7] = (serial / 1000) as u8;
            f[8] = (serial / 100 % 10) as u8;
            f[9] = (serial / 10 % 10) as u8;
            f[10] = (serial % 10) as u8;
            if let Some(c) = check_digit(&f) {
                let s: String = f.iter().chain([c].iter()).map(|d| char::from(b'0' + d)).collect();
                assert_eq!(Iin::parse(&s).is_ok(), exists, "{s}");
                return;
            }
            serial += 1;
        }
    }

    #[test]
    fn from_parts_round_trips_and_rejects() {
        let iin = Iin::from_parts(date(1985, 8, 8), false, 1073).unwrap();
        assert_eq!(iin.to_string(), "850808310738");
        assert_eq!(Iin::from_parts(date(1799, 1, 1), false, 1), None);
        assert_eq!(Iin::from_parts(date(2100, 1, 1), false, 1), None);
        assert_eq!(Iin::from_parts(date(1990, 1, 1), false, 10_000), None);
        // Some serials are impossible (pass 2 gives 10); from_parts says None
        // for exactly those, and everything it returns parses.
        let mut none = 0;
        for serial in 0..2000u16 {
            match Iin::from_parts(date(1990, 5, 17), serial % 2 == 0, serial) {
                Some(i) => assert_eq!(Iin::parse(&i.to_string()), Ok(i)),
                None => none += 1,
            }
        }
        assert!(none > 0 && none < 100, "{none}");
    }

    #[test]
    fn never_issued_is_rejected() {
        // Find 11 digits with no check digit, then try every final digit.
        for serial in 0..2000u16 {
            if Iin::from_parts(date(1990, 5, 17), false, serial).is_none() {
                let prefix = format!("9005173{serial:04}");
                for last in 0..10 {
                    check_iin(&format!("{prefix}{last}"), Err("NeverIssued"));
                }
                return;
            }
        }
        panic!("no impossible serial found");
    }

    fn check_bin(input: &str, expected: Result<(), &str>) {
        let got = Bin::parse(input);
        match (&got, expected) {
            (Ok(b), Ok(())) => assert_eq!(b.to_string(), input),
            (Err(e), Err(name)) => {
                let dbg = format!("{e:?}");
                assert!(dbg.starts_with(name), "{input}: expected {name}, got {dbg}");
            }
            _ => panic!("{input}: expected {expected:?}, got {got:?}"),
        }
    }

    #[test]
    fn bin_table() {
        check_bin("940140000385", Ok(()));
        check_bin("990140004654", Ok(()));
        check_bin("940140000386", Err("CheckDigit"));
        check_bin("850808310738", Err("LooksLikeIin"));
        check_bin("123456789012", Err("BadAttribute")); // digit 6 = 6
        check_bin("941340000385", Err("BadMonth"));
        check_bin("940040000385", Err("BadMonth"));
        check_bin("94014000038", Err("WrongLength"));
        check_bin("94014000038-", Err("NotADigit"));
    }

    #[test]
    fn bin_parts() {
        let b = Bin::parse("940140000385").unwrap();
        assert_eq!(b.registration_yy(), 94);
        assert_eq!(b.registration_month(), 1);
        assert_eq!(b.kind(), BinKind::ResidentLegalEntity);
        assert_eq!(b.attribute(), BinAttribute::HeadUnit);
        assert_eq!(b.masked(), "94****0385");
        assert_eq!(Bin::from_parts(1994, 1, 4, 0, 38), Some(b));
        assert_eq!(Bin::from_parts(1994, 13, 4, 0, 38), None);
        assert_eq!(Bin::from_parts(1994, 1, 3, 0, 38), None);
        assert_eq!(Bin::from_parts(1994, 1, 4, 4, 38), None);
        assert_eq!(Bin::from_parts(1994, 1, 4, 0, 100_000), None);
        for serial in 0..500 {
            if let Some(b) = Bin::from_parts(2024, 11, 6, 1, serial) {
                assert_eq!(Bin::parse(&b.to_string()), Ok(b));
                assert_eq!(b.kind(), BinKind::JointEntrepreneur);
                assert_eq!(b.attribute(), BinAttribute::Branch);
            }
        }
    }

    #[test]
    fn party_id_dispatches_on_digit_5() {
        assert!(matches!(PartyId::parse("850808310738"), Ok(PartyId::Iin(_))));
        assert!(matches!(PartyId::parse("940140000385"), Ok(PartyId::Bin(_))));
        assert!(PartyId::parse("123456789012").is_err());
        assert!(PartyId::parse("").is_err());
        let p = PartyId::parse("990140004654").unwrap();
        assert_eq!(p.to_string(), "990140004654");
        assert_eq!(p.masked(), "99****4654");
        assert!(p.bin().is_some() && p.iin().is_none());
    }

    #[test]
    fn serde_goes_through_the_parser() {
        let iin: Iin = serde_json::from_str("\"850808310738\"").unwrap();
        assert_eq!(serde_json::to_string(&iin).unwrap(), "\"850808310738\"");
        assert!(serde_json::from_str::<Iin>("\"850808310737\"").is_err());
        assert!(serde_json::from_str::<Iin>("850808310738").is_err());
        let p: PartyId = serde_json::from_str("\"940140000385\"").unwrap();
        assert_eq!(serde_json::to_string(&p).unwrap(), "\"940140000385\"");
        let err = serde_json::from_str::<Bin>("\"940140000386\"").unwrap_err();
        assert!(err.to_string().contains("check digit"), "{err}");
    }

    #[test]
    fn schema_is_a_string_with_pattern() {
        let s = schemars::schema_for!(Iin);
        let v = serde_json::to_value(&s).unwrap();
        assert_eq!(v["type"], "string");
        assert_eq!(v["pattern"], "^[0-9]{12}$");
    }
}
