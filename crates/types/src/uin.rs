//! The charge identifier (UIN): 20 digits, 19 assigned by casetrail plus a
//! check digit computed as in Russia's payments registry (ГИС ГМП):
//! weights 1,2,…,10,1,2,… over the 19 digits, sum mod 11; if that is 10,
//! repeat with weights starting at 3 (3,4,…,10,1,2,…); if that is 10 again
//! the check digit is 0.

use std::fmt;

/// Largest serial (19 digits).
const MAX_SERIAL: u64 = 9_999_999_999_999_999_999;

/// A 20-digit charge identifier. Valid by construction.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Uin {
    digits: [u8; 20],
}

/// Why a string is not a UIN.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UinError {
    #[error("a UIN must be exactly 20 digits, got {found} characters; check that no digit is missing or doubled")]
    WrongLength { found: usize },
    #[error("a UIN must contain digits only, found {found:?} at position {position}; remove spaces and dashes")]
    NotADigit { found: char, position: usize },
    #[error("UIN {input} has check digit {found} but its first 19 digits require {expected}; the UIN was probably mistyped, copy it from the notice again")]
    CheckDigit { input: String, found: u8, expected: u8 },
    #[error("UIN serial {serial} has more than 19 digits; serials must be below 10^19")]
    SerialTooLarge { serial: u64 },
}

impl Uin {
    /// The check digit for 19 digits (each 0..=9).
    pub fn check_digit(first19: &[u8; 19]) -> u8 {
        let sum = |start: u32| -> u32 {
            first19.iter().enumerate().map(|(i, d)| u32::from(*d) * ((start - 1 + i as u32) % 10 + 1)).sum::<u32>() % 11
        };
        match sum(1) {
            10 => match sum(3) {
                10 => 0,
                r => r as u8,
            },
            r => r as u8,
        }
    }

    /// Parses exactly 20 ASCII digits with a valid check digit.
    pub fn parse(s: &str) -> Result<Uin, UinError> {
        let found = s.chars().count();
        if found != 20 {
            return Err(UinError::WrongLength { found });
        }
        let mut digits = [0u8; 20];
        for (i, c) in s.chars().enumerate() {
            if !c.is_ascii_digit() {
                return Err(UinError::NotADigit { found: c, position: i + 1 });
            }
            digits[i] = c as u8 - b'0';
        }
        let mut first = [0u8; 19];
        first.copy_from_slice(&digits[..19]);
        let expected = Uin::check_digit(&first);
        if expected != digits[19] {
            return Err(UinError::CheckDigit { input: s.to_owned(), found: digits[19], expected });
        }
        Ok(Uin { digits })
    }

    /// The UIN for a serial below 10^19: the serial zero-padded to 19 digits
    /// plus its check digit.
    pub fn from_serial(serial: u64) -> Result<Uin, UinError> {
        if serial > MAX_SERIAL {
            return Err(UinError::SerialTooLarge { serial });
        }
        let mut first = [0u8; 19];
        let mut n = serial;
        for slot in first.iter_mut().rev() {
            *slot = (n % 10) as u8;
            n /= 10;
        }
        let mut digits = [0u8; 20];
        digits[..19].copy_from_slice(&first);
        digits[19] = Uin::check_digit(&first);
        Ok(Uin { digits })
    }

    /// The 19-digit serial (the UIN without its check digit).
    pub fn serial(&self) -> u64 {
        self.digits[..19].iter().fold(0u64, |acc, d| acc * 10 + u64::from(*d))
    }

    /// The first run of exactly 20 ASCII digits (not part of a longer run of
    /// digits) with a valid check digit, e.g. in a bank's free-text payment
    /// reference: `"оплата штрафа УИН 00000000000000012346, Иванов"`.
    pub fn find_in_text(text: &str) -> Option<Uin> {
        let bytes = text.as_bytes();
        let mut i = 0;
        while i < bytes.len() {
            if !bytes[i].is_ascii_digit() {
                i += 1;
                continue;
            }
            let start = i;
            while i < bytes.len() && bytes[i].is_ascii_digit() {
                i += 1;
            }
            if i - start == 20 {
                // The run is ASCII digits, so slicing at byte offsets is safe.
                if let Some(uin) = text.get(start..i).and_then(|s| Uin::parse(s).ok()) {
                    return Some(uin);
                }
            }
        }
        None
    }
}

impl fmt::Display for Uin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for d in self.digits {
            write!(f, "{d}")?;
        }
        Ok(())
    }
}

impl fmt::Debug for Uin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Uin({self})")
    }
}

string_newtype!(
    Uin,
    UinError,
    "Uin",
    "^[0-9]{20}$",
    "Charge identifier (UIN): 19 digits plus a ГИС ГМП-style mod-11 check digit"
);

#[cfg(test)]
mod tests {
    use super::*;

    fn digits(s: &str) -> [u8; 19] {
        let v: Vec<u8> = s.bytes().map(|b| b - b'0').collect();
        v.try_into().unwrap()
    }

    /// Independent, literal implementation of the rule for cross-checking.
    fn reference(s: &str) -> u8 {
        let d = digits(s);
        let w1: Vec<u32> = (0..19).map(|i| (i % 10) + 1).collect();
        let w2: Vec<u32> = (0..19).map(|i| ((i + 2) % 10) + 1).collect();
        let r1: u32 = d.iter().zip(&w1).map(|(a, b)| u32::from(*a) * b).sum::<u32>() % 11;
        if r1 < 10 {
            return r1 as u8;
        }
        let r2: u32 = d.iter().zip(&w2).map(|(a, b)| u32::from(*a) * b).sum::<u32>() % 11;
        if r2 < 10 {
            r2 as u8
        } else {
            0
        }
    }

    fn check(first19: &str, expected: u8) {
        assert_eq!(Uin::check_digit(&digits(first19)), expected, "{first19}");
        assert_eq!(reference(first19), expected, "reference {first19}");
    }

    #[test]
    fn check_digit_table() {
        // Hand-computed: weights 1..10,1..9.
        check("0000000000000000001", 9); // 1*9 = 9
        check("0000000000000000000", 0);
        check("1000000000000000000", 1); // 1*1
        check("1234567890123456789", 9); // 285 + 285 = 570 % 11 = 9
        check("0000000000000000006", 6); // pass 1: 54 % 11 = 10; pass 2: 6*1 = 6
        check("0000000000000000054", 0); // pass 1: 76 % 11 = 10; pass 2: 54 % 11 = 10 -> 0
    }

    #[test]
    fn pass_two_and_zero_fallback() {
        // Search systematically for both branches and compare with the
        // reference implementation.
        let (mut saw_pass2, mut saw_zero_fallback) = (false, false);
        for n in 0u64..20_000 {
            let s = format!("{n:019}");
            let d = digits(&s);
            let got = Uin::check_digit(&d);
            assert_eq!(got, reference(&s), "{s}");
            let w1: u32 = d.iter().enumerate().map(|(i, x)| u32::from(*x) * (i as u32 % 10 + 1)).sum();
            if w1 % 11 == 10 {
                let w2: u32 = d.iter().enumerate().map(|(i, x)| u32::from(*x) * ((i as u32 + 2) % 10 + 1)).sum();
                if w2 % 11 == 10 {
                    saw_zero_fallback = true;
                    assert_eq!(got, 0);
                } else {
                    saw_pass2 = true;
                    assert_eq!(got, (w2 % 11) as u8);
                }
            }
        }
        assert!(saw_pass2 && saw_zero_fallback);
    }

    #[test]
    fn parse_and_from_serial() {
        let u = Uin::from_serial(12_345).unwrap();
        let s = u.to_string();
        assert_eq!(s.len(), 20);
        assert!(s.starts_with("0000000000000012345"));
        assert_eq!(Uin::parse(&s), Ok(u));
        assert_eq!(u.serial(), 12_345);
        let max = Uin::from_serial(MAX_SERIAL).unwrap();
        assert_eq!(max.serial(), MAX_SERIAL);
        assert!(matches!(Uin::from_serial(MAX_SERIAL + 1), Err(UinError::SerialTooLarge { .. })));
        // Every wrong check digit is rejected.
        let good = s.as_bytes()[19] - b'0';
        for c in 0..10u8 {
            let candidate = format!("{}{c}", &s[..19]);
            assert_eq!(Uin::parse(&candidate).is_ok(), c == good, "{candidate}");
        }
        assert!(matches!(Uin::parse("123"), Err(UinError::WrongLength { found: 3 })));
        assert!(matches!(Uin::parse("0000000000000012345x"), Err(UinError::NotADigit { position: 20, .. })));
    }

    fn find(text: &str, expected: Option<&str>) {
        assert_eq!(Uin::find_in_text(text).map(|u| u.to_string()), expected.map(str::to_owned), "{text:?}");
    }

    #[test]
    fn find_in_text_table() {
        let a = Uin::from_serial(12_345).unwrap().to_string();
        let b = Uin::from_serial(777).unwrap().to_string();
        let mut bad = a.clone();
        let last = bad.pop().unwrap();
        bad.push(if last == '9' { '0' } else { '9' });
        find(&a, Some(&a));
        find(&format!("оплата штрафа УИН {a}, Иванов"), Some(&a));
        find(&format!("УИН:{a};"), Some(&a));
        find(&format!("{bad} {b}"), Some(&b)); // invalid first run skipped
        find(&format!("1{a}"), None); // part of a 21-digit run
        find(&format!("{a}0"), None);
        find(&format!("{b} {a}"), Some(&b)); // first valid wins
        find(&a[..19], None);
        find("", None);
        find(&format!("ИИН 850808310738 УИН {b}"), Some(&b));
        find(&format!("№{a}₸"), Some(&a));
    }

    #[test]
    fn serde_round_trip() {
        let u = Uin::from_serial(42).unwrap();
        let json = serde_json::to_string(&u).unwrap();
        assert_eq!(serde_json::from_str::<Uin>(&json).unwrap(), u);
        assert_eq!(json, "\"00000000000000000426\"");
        assert!(serde_json::from_str::<Uin>("\"00000000000000000420\"").is_err());
    }
}
