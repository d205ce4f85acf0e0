//! Synthetic people and organisations. A person is an index into a
//! population of fixed size; their IIN is computed from the index on
//! demand, so the population costs no memory at any scale.

use casetrail_exchange::Party;
use casetrail_types::{Bin, Iin};
use chrono::{Days, NaiveDate};

/// Who files an appeal or pays a fine.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Applicant {
    Person(u32),
    Organisation(u32),
    Anonymous,
}

/// Days of birth dates spanned: 1945-01-01 plus up to ~62 years.
const BIRTH_DAYS: u64 = 22_630;
/// Serials used in the primary space; the rest are fallbacks.
const SERIALS: u64 = 5_000;

pub(crate) struct People {
    pub persons: u32,
    pub organisations: u32,
    multiplier: u64,
    offset: u64,
    first_birth: NaiveDate,
}

fn splitmix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

impl People {
    pub fn new(persons: u32, seed: u64) -> People {
        // An affine map i -> (a*i + b) mod N with gcd(a, N) = 1 is a
        // bijection, so distinct people get distinct (birth, sex, serial).
        // N = BIRTH_DAYS * 2 * SERIALS = 2^4 * 5^4 * 2 * 22_630; a prime
        // multiplier above all of its factors is coprime to it.
        let multiplier = 1_000_000_007;
        let offset = splitmix(seed) % (BIRTH_DAYS * 2 * SERIALS);
        People {
            persons: persons.max(1),
            organisations: (persons / 20).max(1),
            multiplier,
            offset,
            first_birth: NaiveDate::from_ymd_opt(1945, 1, 1).unwrap_or(NaiveDate::MIN),
        }
    }

    pub fn iin(&self, person: u32) -> Option<Iin> {
        let space = BIRTH_DAYS * 2 * SERIALS;
        let code = (u64::from(person).wrapping_mul(self.multiplier).wrapping_add(self.offset)) % space;
        let serial = code % SERIALS;
        let female = (code / SERIALS) % 2 == 1;
        let day = code / SERIALS / 2;
        let birth = self.first_birth.checked_add_days(Days::new(day))?;
        // Some serials have no valid check digit: fall back to serials
        // outside the primary space.
        [serial, serial + SERIALS, 9_999 - serial]
            .into_iter()
            .find_map(|s| Iin::from_parts(birth, female, u16::try_from(s).ok()?))
    }

    pub fn bin(&self, organisation: u32) -> Option<Bin> {
        let h = splitmix(u64::from(organisation) ^ 0x0B1B_0B1B);
        let year = 1995 + (h % 29) as i32;
        let month = 1 + ((h >> 8) % 12) as u32;
        let serial = (u64::from(organisation) % 100_000) as u32;
        (0..10).find_map(|k| Bin::from_parts(year, month, 4, 0, (serial + k * 7_919) % 100_000))
    }

    pub fn party(&self, applicant: Applicant) -> Option<Party> {
        match applicant {
            Applicant::Person(p) => Some(Party { iin: Some(self.iin(p)?), bin: None, name: None }),
            Applicant::Organisation(o) => Some(Party { iin: None, bin: Some(self.bin(o)?), name: None }),
            Applicant::Anonymous => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_person_has_a_valid_and_mostly_distinct_iin() {
        let people = People::new(100_000, 7);
        let mut seen = std::collections::BTreeSet::new();
        for p in 0..20_000 {
            let iin = people.iin(p);
            assert!(iin.is_some(), "person {p}");
            if let Some(iin) = iin {
                seen.insert(iin.to_string());
            }
        }
        assert!(seen.len() > 19_900, "{}", seen.len());
        for o in 0..1_000 {
            assert!(people.bin(o).is_some(), "organisation {o}");
        }
    }
}
