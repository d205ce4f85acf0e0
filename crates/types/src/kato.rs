//! KATO (Классификатор административно-территориальных объектов) codes:
//! 9 digits, the first two naming the region (oblys) or city of republican
//! significance. The top-level list is `data/kato-regions.toml`, embedded at
//! build time.

use crate::locale::Locale;
use crate::tomldate::to_naive_date;
use chrono::NaiveDate;
use serde::Deserialize;
use std::fmt;
use std::sync::OnceLock;

const REGIONS_TOML: &str = include_str!("../../../data/kato-regions.toml");

/// A 9-digit KATO code. Valid by construction (shape only: any 9 digits; use
/// [`Kato::region`] to check that the region exists).
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Kato {
    digits: [u8; 9],
}

/// Why a string is not a KATO code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KatoError {
    #[error("KATO code {input:?} must be exactly 9 digits (e.g. 750000000 for Almaty); got {found} characters")]
    WrongLength { input: String, found: usize },
    #[error("KATO code {input:?} must contain digits only; found {found:?} at position {position}; remove spaces and dashes")]
    NotADigit { input: String, found: char, position: usize },
}

impl Kato {
    /// Parses exactly 9 ASCII digits.
    pub fn parse(s: &str) -> Result<Kato, KatoError> {
        let found = s.chars().count();
        if found != 9 {
            return Err(KatoError::WrongLength { input: s.to_owned(), found });
        }
        let mut digits = [0u8; 9];
        for (i, c) in s.chars().enumerate() {
            if !c.is_ascii_digit() {
                return Err(KatoError::NotADigit { input: s.to_owned(), found: c, position: i + 1 });
            }
            digits[i] = c as u8 - b'0';
        }
        Ok(Kato { digits })
    }

    /// The two-digit region prefix, e.g. 75 for Almaty.
    pub fn region_prefix(&self) -> u8 {
        self.digits[0] * 10 + self.digits[1]
    }

    /// True for a top-level code (`NN0000000`).
    pub fn is_region_level(&self) -> bool {
        self.digits[2..].iter().all(|d| *d == 0)
    }

    /// The region or city of republican significance this code belongs to
    /// (by its first two digits), if it is one of the 20 known.
    pub fn region(&self) -> Option<&'static Region> {
        let p = self.region_prefix();
        regions().iter().find(|r| r.code.region_prefix() == p)
    }
}

impl fmt::Display for Kato {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for d in self.digits {
            write!(f, "{d}")?;
        }
        Ok(())
    }
}

impl fmt::Debug for Kato {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Kato({self})")
    }
}

string_newtype!(
    Kato,
    KatoError,
    "Kato",
    "^[0-9]{9}$",
    "KATO administrative-territorial code: 9 digits, the first two naming the region"
);

/// Region (oblys) or city of republican significance.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RegionKind {
    Region,
    City,
}

/// A top-level administrative unit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Region {
    pub code: Kato,
    pub kind: RegionKind,
    pub name_kk: String,
    pub name_ru: String,
    pub name_en: String,
    /// When the unit was created, for the three regions formed in 2022.
    pub established: Option<NaiveDate>,
}

impl Region {
    /// The name in a locale.
    pub fn name(&self, locale: Locale) -> &str {
        match locale {
            Locale::Kk => &self.name_kk,
            Locale::Ru => &self.name_ru,
            Locale::En => &self.name_en,
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRegions {
    region: Vec<RawRegion>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRegion {
    code: Kato,
    kind: RegionKind,
    name_kk: String,
    name_ru: String,
    name_en: String,
    established: Option<toml::value::Datetime>,
}

/// Parses and validates a region list in the `data/kato-regions.toml`
/// format: region-level codes, unique prefixes, non-empty names.
pub fn parse_regions(text: &str) -> Result<Vec<Region>, String> {
    let raw: RawRegions = toml::from_str(text).map_err(|e| e.to_string())?;
    let mut out: Vec<Region> = Vec::with_capacity(raw.region.len());
    for r in raw.region {
        if !r.code.is_region_level() {
            return Err(format!("{} is not a region-level code (NN0000000)", r.code));
        }
        if out.iter().any(|o| o.code.region_prefix() == r.code.region_prefix()) {
            return Err(format!("region prefix of {} listed twice", r.code));
        }
        if [&r.name_kk, &r.name_ru, &r.name_en].iter().any(|n| n.trim().is_empty()) {
            return Err(format!("region {} needs names in kk, ru and en", r.code));
        }
        let established = match &r.established {
            None => None,
            Some(dt) => {
                Some(to_naive_date(dt).ok_or_else(|| format!("region {}: established must be a date", r.code))?)
            }
        };
        out.push(Region {
            code: r.code,
            kind: r.kind,
            name_kk: r.name_kk,
            name_ru: r.name_ru,
            name_en: r.name_en,
            established,
        });
    }
    Ok(out)
}

/// The 17 regions and 3 cities of republican significance, in code order.
/// Parsed once from the embedded `data/kato-regions.toml`; empty if that
/// file were invalid (a test guards against it).
pub fn regions() -> &'static [Region] {
    static REGIONS: OnceLock<Vec<Region>> = OnceLock::new();
    REGIONS.get_or_init(|| parse_regions(REGIONS_TOML).unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_file_parses() {
        let parsed = parse_regions(REGIONS_TOML).unwrap();
        assert_eq!(parsed.len(), 20);
        assert_eq!(regions().len(), 20);
        let cities = regions().iter().filter(|r| r.kind == RegionKind::City).count();
        assert_eq!(cities, 3);
        let mut sorted = regions().to_vec();
        sorted.sort_by_key(|r| r.code);
        assert_eq!(sorted, regions());
    }

    fn check(code: &str, en: Option<&str>) {
        let k = Kato::parse(code).unwrap();
        assert_eq!(k.to_string(), code);
        assert_eq!(k.region().map(|r| r.name_en.as_str()), en, "{code}");
    }

    #[test]
    fn region_lookup_table() {
        check("710000000", Some("Astana"));
        check("750000000", Some("Almaty"));
        check("790000000", Some("Shymkent"));
        check("100000000", Some("Abai Region"));
        check("110000000", Some("Akmola Region"));
        check("150000000", Some("Aktobe Region"));
        check("190000000", Some("Almaty Region"));
        check("230000000", Some("Atyrau Region"));
        check("270000000", Some("West Kazakhstan Region"));
        check("310000000", Some("Zhambyl Region"));
        check("330000000", Some("Zhetysu Region"));
        check("350000000", Some("Karaganda Region"));
        check("390000000", Some("Kostanay Region"));
        check("430000000", Some("Kyzylorda Region"));
        check("470000000", Some("Mangystau Region"));
        check("550000000", Some("Pavlodar Region"));
        check("590000000", Some("North Kazakhstan Region"));
        check("610000000", Some("Turkistan Region"));
        check("620000000", Some("Ulytau Region"));
        check("630000000", Some("East Kazakhstan Region"));
        // Lower-level codes map by prefix (village codes from public data).
        check("101033102", Some("Abai Region"));
        check("621039202", Some("Ulytau Region"));
        check("751110000", Some("Almaty"));
        // Unknown prefixes.
        check("000000000", None);
        check("990000000", None);
        check("120000000", None);
    }

    #[test]
    fn names_by_locale() {
        let almaty = Kato::parse("750000000").unwrap().region().unwrap();
        assert_eq!(almaty.name(Locale::Ru), "Алматы");
        assert_eq!(almaty.name(Locale::En), "Almaty");
        let akmola = Kato::parse("110000000").unwrap().region().unwrap();
        assert_eq!(akmola.name(Locale::Kk), "Ақмола облысы");
        assert_eq!(akmola.name(Locale::Ru), "Акмолинская область");
        let new = regions().iter().filter(|r| r.established.is_some()).count();
        assert_eq!(new, 3);
    }

    #[test]
    fn parse_rejects() {
        for bad in ["", "75000000", "7500000000", "75000000a", "750 00000", "７50000000"] {
            let e = Kato::parse(bad).unwrap_err();
            assert!(e.to_string().contains("9 digits") || e.to_string().contains("digits only"));
        }
        assert!(serde_json::from_str::<Kato>("\"75000000\"").is_err());
        let k: Kato = serde_json::from_str("\"750000000\"").unwrap();
        assert_eq!(serde_json::to_string(&k).unwrap(), "\"750000000\"");
    }

    #[test]
    fn region_file_validation() {
        let one =
            "[[region]]\ncode = \"750000000\"\nkind = \"city\"\nname_kk = \"a\"\nname_ru = \"b\"\nname_en = \"c\"\n";
        assert!(parse_regions(one).is_ok());
        assert!(parse_regions(&format!("{one}{one}")).is_err());
        assert!(parse_regions(&one.replace("750000000", "751000000")).is_err());
        assert!(parse_regions(&one.replace("\"c\"", "\" \"")).is_err());
        assert!(parse_regions(&one.replace("750000000", "75000000")).is_err());
    }
}
