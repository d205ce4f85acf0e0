//! Exact tenge amounts: an integer number of tiyn (1 tenge = 100 tiyn).
//!
//! Never floating point. Arithmetic is checked: every operation that could
//! overflow returns `Option`.
//!
//! Formatting for people ([`Money::format`]): kk and ru use a no-break space
//! U+00A0 as the group separator and a comma as the decimal separator, with
//! the sign after the amount (`17 300,00 ₸`); en uses a comma for groups, a
//! dot for decimals and the sign first (`₸17,300.00`). U+00A0 was chosen over
//! the narrow no-break space U+202F because every font and terminal has it.
//! The exchange format uses [`Money::to_decimal_string`] (`17300.00`), which
//! is also `Display` and the serde form.

use crate::locale::Locale;
use std::fmt;

/// An amount of money in tiyn. May be negative (refunds, corrections).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Money {
    tiyn: i64,
}

/// Why a string is not an amount of money.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MoneyError {
    #[error("the amount is empty; write it as tenge with up to two decimals, e.g. \"17300.00\"")]
    Empty,
    #[error("{input:?} is not an amount of money ({reason}); write it as tenge with up to two decimals, e.g. \"17300.00\" or \"17 300,00\"")]
    Invalid { input: String, reason: &'static str },
    #[error("{input:?} has more than two decimals; amounts are exact to the tiyn (0.01 tenge), so round it to two decimals at the source")]
    TooManyDecimals { input: String },
    #[error("{input:?} is too large; the largest amount is 92233720368547758.07 tenge")]
    Overflow { input: String },
}

const GROUP_SEPARATORS: [char; 4] = [' ', '\u{a0}', '\u{202f}', '\u{2009}'];

impl Money {
    /// Zero tenge.
    pub const ZERO: Money = Money { tiyn: 0 };
    /// The largest representable amount.
    pub const MAX: Money = Money { tiyn: i64::MAX };

    /// An amount in tiyn.
    pub const fn from_tiyn(tiyn: i64) -> Money {
        Money { tiyn }
    }

    /// An amount in whole tenge; `None` if it does not fit (|tenge| > ~9.2e16).
    pub const fn from_tenge(tenge: i64) -> Option<Money> {
        match tenge.checked_mul(100) {
            Some(tiyn) => Some(Money { tiyn }),
            None => None,
        }
    }

    /// The amount in tiyn.
    pub const fn tiyn(self) -> i64 {
        self.tiyn
    }

    pub const fn is_zero(self) -> bool {
        self.tiyn == 0
    }

    pub const fn is_negative(self) -> bool {
        self.tiyn < 0
    }

    pub const fn is_positive(self) -> bool {
        self.tiyn > 0
    }

    pub const fn checked_add(self, other: Money) -> Option<Money> {
        match self.tiyn.checked_add(other.tiyn) {
            Some(tiyn) => Some(Money { tiyn }),
            None => None,
        }
    }

    pub const fn checked_sub(self, other: Money) -> Option<Money> {
        match self.tiyn.checked_sub(other.tiyn) {
            Some(tiyn) => Some(Money { tiyn }),
            None => None,
        }
    }

    pub const fn checked_neg(self) -> Option<Money> {
        match self.tiyn.checked_neg() {
            Some(tiyn) => Some(Money { tiyn }),
            None => None,
        }
    }

    /// The amount times an integer (e.g. a count of units).
    pub const fn checked_mul_int(self, factor: i64) -> Option<Money> {
        match self.tiyn.checked_mul(factor) {
            Some(tiyn) => Some(Money { tiyn }),
            None => None,
        }
    }

    /// `bp` basis points of the amount (10000 bp = 100 %, 5000 bp = 50 %,
    /// 300 bp = 3 %), rounded to the tiyn half-up, i.e. a remainder of
    /// exactly half a tiyn rounds away from zero (0.5 -> 1, -0.5 -> -1), so
    /// that `percent_of(-x) == -percent_of(x)`. `None` on overflow.
    pub fn percent_of(self, bp: u32) -> Option<Money> {
        let n = i128::from(self.tiyn) * i128::from(bp);
        let q = n / 10_000;
        let r = n % 10_000;
        let rounded = if r.abs() * 2 >= 10_000 { q + n.signum() } else { q };
        i64::try_from(rounded).ok().map(Money::from_tiyn)
    }

    /// Parses an amount in tenge. Accepts `17300`, `17300.00`, `17300.5`,
    /// `17 300,00`, `17\u{a0}300,00`, `17 300,00 ₸`, `₸17,300.00`,
    /// `17300 KZT`, `-5.00`, `+5`.
    ///
    /// Rules: an optional sign; an optional `₸` or `KZT` before or after the
    /// number; groups of three digits may be separated by a space, U+00A0,
    /// U+202F or U+2009, or by `,` when the decimal separator is `.`; the
    /// decimal separator is `.` or `,` followed by one or two digits. A lone
    /// `,` is always the decimal separator, so `17,300` (three decimals) is
    /// rejected rather than guessed.
    pub fn parse(s: &str) -> Result<Money, MoneyError> {
        let invalid = |reason: &'static str| MoneyError::Invalid { input: s.to_owned(), reason };
        let mut rest = s.trim();
        if rest.is_empty() {
            return Err(MoneyError::Empty);
        }
        let mut negative = false;
        if let Some(r) = rest.strip_prefix(['-', '\u{2212}']) {
            negative = true;
            rest = r;
        } else if let Some(r) = rest.strip_prefix('+') {
            rest = r;
        }
        rest = strip_currency(rest.trim());
        let mut digits_part = rest.trim();
        if digits_part.is_empty() {
            return Err(invalid("no digits"));
        }
        if digits_part.starts_with(['-', '+', '\u{2212}']) {
            return Err(invalid("more than one sign"));
        }
        // Decimal separator: the last '.' or ','; if both occur, the last one.
        let last_dot = digits_part.rfind('.');
        let last_comma = digits_part.rfind(',');
        let (int_part, frac_part, group_comma) = match (last_dot, last_comma) {
            (Some(d), Some(c)) if d > c => (&digits_part[..d], Some(&digits_part[d + 1..]), true),
            (Some(_), Some(_)) => return Err(invalid("a comma after the decimal point")),
            (Some(d), None) => (&digits_part[..d], Some(&digits_part[d + 1..]), false),
            (None, Some(c)) => (&digits_part[..c], Some(&digits_part[c + 1..]), false),
            (None, None) => (digits_part, None, false),
        };
        digits_part = int_part;

        // Fraction.
        let frac_tiyn: i64 = match frac_part {
            None => 0,
            Some(f) => {
                if f.is_empty() {
                    return Err(invalid("no digits after the decimal separator"));
                }
                if !f.chars().all(|c| c.is_ascii_digit()) {
                    return Err(invalid("unexpected character after the decimal separator"));
                }
                if f.len() > 2 {
                    return Err(MoneyError::TooManyDecimals { input: s.to_owned() });
                }
                let v: i64 = f.bytes().fold(0, |acc, b| acc * 10 + i64::from(b - b'0'));
                if f.len() == 1 {
                    v * 10
                } else {
                    v
                }
            }
        };

        // Integer part with optional grouping.
        if digits_part.is_empty() {
            return Err(invalid("no digits before the decimal separator"));
        }
        let is_sep = |c: char| GROUP_SEPARATORS.contains(&c) || (group_comma && c == ',');
        let groups: Vec<&str> = digits_part.split(is_sep).collect();
        for g in &groups {
            if g.is_empty() {
                return Err(invalid("misplaced group separator"));
            }
            if !g.chars().all(|c| c.is_ascii_digit()) {
                return Err(invalid("unexpected character"));
            }
        }
        if groups.len() > 1 && (groups[0].len() > 3 || groups[1..].iter().any(|g| g.len() != 3)) {
            return Err(invalid("digit groups must have three digits"));
        }
        let overflow = || MoneyError::Overflow { input: s.to_owned() };
        let mut tenge: i64 = 0;
        for b in groups.iter().flat_map(|g| g.bytes()) {
            tenge = tenge.checked_mul(10).and_then(|t| t.checked_add(i64::from(b - b'0'))).ok_or_else(overflow)?;
        }
        let mut tiyn = tenge.checked_mul(100).and_then(|t| t.checked_add(frac_tiyn)).ok_or_else(overflow)?;
        if negative {
            tiyn = -tiyn; // cannot overflow: tiyn >= 0
        }
        Ok(Money { tiyn })
    }

    /// The exchange-format form: `17300.00`, `-5.00`, `0.05`.
    pub fn to_decimal_string(self) -> String {
        let (sign, whole, frac) = self.parts();
        format!("{sign}{whole}.{frac:02}")
    }

    /// For people: `17 300,00 ₸` (kk, ru; U+00A0 between groups and before
    /// the sign) or `₸17,300.00` (en). Negative amounts get a leading `-`.
    pub fn format(self, locale: Locale) -> String {
        let (sign, whole, frac) = self.parts();
        match locale {
            Locale::Kk | Locale::Ru => {
                format!("{sign}{},{frac:02}\u{a0}₸", group(whole, '\u{a0}'))
            }
            Locale::En => format!("{sign}₸{}.{frac:02}", group(whole, ',')),
        }
    }

    fn parts(self) -> (&'static str, u64, u64) {
        let abs = self.tiyn.unsigned_abs();
        let sign = if self.tiyn < 0 { "-" } else { "" };
        (sign, abs / 100, abs % 100)
    }
}

fn strip_currency(s: &str) -> &str {
    let s = s.trim();
    if let Some(r) = s.strip_prefix('₸') {
        return r;
    }
    if let Some(r) = s.strip_suffix('₸') {
        return r;
    }
    for suffix in ["KZT", "kzt"] {
        if let Some(r) = s.strip_suffix(suffix) {
            return r;
        }
    }
    s
}

fn group(n: u64, sep: char) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3 * 2);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(sep);
        }
        out.push(c);
    }
    out
}

impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_decimal_string())
    }
}

string_newtype!(
    Money,
    MoneyError,
    "Money",
    "^-?[0-9]+\\.[0-9]{2}$",
    "Amount in tenge as a decimal string with exactly two decimals, e.g. \"17300.00\""
);

#[cfg(test)]
mod tests {
    use super::*;

    fn check(input: &str, expected: Result<i64, &str>) {
        let got = Money::parse(input);
        match (&got, expected) {
            (Ok(m), Ok(t)) => assert_eq!(m.tiyn(), t, "{input}"),
            (Err(e), Err(name)) => {
                let dbg = format!("{e:?}");
                assert!(dbg.starts_with(name), "{input}: expected {name}, got {dbg}");
            }
            _ => panic!("{input:?}: expected {expected:?}, got {got:?}"),
        }
    }

    #[test]
    fn parse_accepts() {
        check("17300", Ok(1_730_000));
        check("17300.00", Ok(1_730_000));
        check("17300.5", Ok(1_730_050));
        check("17300.05", Ok(1_730_005));
        check("17 300,00", Ok(1_730_000));
        check("17\u{a0}300,00", Ok(1_730_000));
        check("17\u{202f}300,00", Ok(1_730_000));
        check("17 300,00 ₸", Ok(1_730_000));
        check("17\u{a0}300,00\u{a0}₸", Ok(1_730_000));
        check("₸17,300.00", Ok(1_730_000));
        check("1,234,567.89", Ok(123_456_789));
        check("17300 KZT", Ok(1_730_000));
        check("-5.00", Ok(-500));
        check("-₸5.00", Ok(-500));
        check("+5", Ok(500));
        check("  42,1  ", Ok(4210));
        check("0", Ok(0));
        check("-0.00", Ok(0));
        check("0.01", Ok(1));
        check("92233720368547758.07", Ok(i64::MAX));
        check("-92233720368547758.07", Ok(-i64::MAX));
    }

    #[test]
    fn parse_rejects() {
        check("", Err("Empty"));
        check("   ", Err("Empty"));
        check("17300.001", Err("TooManyDecimals"));
        check("1.005", Err("TooManyDecimals"));
        check("17,300", Err("TooManyDecimals")); // ambiguous: never guessed
        check("abc", Err("Invalid"));
        check("12a", Err("Invalid"));
        check("1e5", Err("Invalid"));
        check("17300.", Err("Invalid"));
        check(".5", Err("Invalid"));
        check("--5", Err("Invalid"));
        check("-", Err("Invalid"));
        check("₸", Err("Invalid"));
        check("1 2345", Err("Invalid"));
        check("12  345", Err("Invalid"));
        check("1234 567", Err("Invalid"));
        check(" 1,234.5,6", Err("Invalid"));
        check("1.234,56", Err("Invalid"));
        check("NaN", Err("Invalid"));
        check("92233720368547758.08", Err("Overflow"));
        check("99999999999999999999", Err("Overflow"));
    }

    #[test]
    fn error_messages_say_what_to_do() {
        let e = Money::parse("1.005").unwrap_err().to_string();
        assert!(e.contains("two decimals"), "{e}");
        let e = Money::parse("x").unwrap_err().to_string();
        assert!(e.contains("17300.00"), "{e}");
    }

    fn fmt_check(tiyn: i64, decimal: &str, kk: &str, en: &str) {
        let m = Money::from_tiyn(tiyn);
        assert_eq!(m.to_decimal_string(), decimal);
        assert_eq!(m.to_string(), decimal);
        assert_eq!(m.format(Locale::Kk), kk);
        assert_eq!(m.format(Locale::Ru), kk);
        assert_eq!(m.format(Locale::En), en);
        // Every form parses back to the same amount.
        for s in [decimal, kk, en] {
            assert_eq!(Money::parse(s), Ok(m), "{s}");
        }
    }

    #[test]
    fn formatting_table() {
        fmt_check(1_730_000, "17300.00", "17\u{a0}300,00\u{a0}₸", "₸17,300.00");
        fmt_check(0, "0.00", "0,00\u{a0}₸", "₸0.00");
        fmt_check(5, "0.05", "0,05\u{a0}₸", "₸0.05");
        fmt_check(-500, "-5.00", "-5,00\u{a0}₸", "-₸5.00");
        fmt_check(99_999, "999.99", "999,99\u{a0}₸", "₸999.99");
        fmt_check(100_000, "1000.00", "1\u{a0}000,00\u{a0}₸", "₸1,000.00");
        fmt_check(123_456_789_012, "1234567890.12", "1\u{a0}234\u{a0}567\u{a0}890,12\u{a0}₸", "₸1,234,567,890.12");
        assert_eq!(Money::from_tiyn(i64::MIN).to_decimal_string(), "-92233720368547758.08");
    }

    #[test]
    fn arithmetic_is_checked() {
        let a = Money::from_tenge(100).unwrap();
        assert_eq!(a.tiyn(), 10_000);
        assert_eq!(Money::from_tenge(i64::MAX / 100 + 1), None);
        assert_eq!(a.checked_add(Money::from_tiyn(1)), Some(Money::from_tiyn(10_001)));
        assert_eq!(Money::MAX.checked_add(Money::from_tiyn(1)), None);
        assert_eq!(a.checked_sub(Money::from_tiyn(1)), Some(Money::from_tiyn(9_999)));
        assert_eq!(Money::from_tiyn(i64::MIN).checked_sub(Money::from_tiyn(1)), None);
        assert_eq!(a.checked_mul_int(3), Some(Money::from_tiyn(30_000)));
        assert_eq!(Money::MAX.checked_mul_int(2), None);
        assert_eq!(Money::from_tiyn(i64::MIN).checked_neg(), None);
        assert!(Money::ZERO.is_zero() && !Money::ZERO.is_negative());
        assert!(Money::from_tiyn(-1).is_negative() && Money::from_tiyn(1).is_positive());
    }

    fn pct(tiyn: i64, bp: u32, expected: Option<i64>) {
        assert_eq!(Money::from_tiyn(tiyn).percent_of(bp).map(Money::tiyn), expected, "{tiyn} * {bp}bp");
    }

    #[test]
    fn percent_rounds_half_up() {
        pct(1_730_000, 5000, Some(865_000)); // 50 % of 17300
        pct(1_730_000, 10_000, Some(1_730_000));
        pct(1_730_000, 0, Some(0));
        pct(1, 5000, Some(1)); // 0.5 tiyn -> 1
        pct(3, 5000, Some(2)); // 1.5 -> 2
        pct(-1, 5000, Some(-1)); // symmetric
        pct(-3, 5000, Some(-2));
        pct(1, 4999, Some(0)); // 0.4999 -> 0
        pct(100_001, 300, Some(3000)); // 3000.03 -> 3000
        pct(100_017, 300, Some(3001)); // 3000.51 -> 3001
        pct(i64::MAX, 20_000, None);
        pct(i64::MAX, 10_000, Some(i64::MAX));
    }

    #[test]
    fn serde_is_a_decimal_string() {
        let m = Money::from_tiyn(1_730_000);
        assert_eq!(serde_json::to_string(&m).unwrap(), "\"17300.00\"");
        assert_eq!(serde_json::from_str::<Money>("\"17 300,00\"").unwrap(), m);
        assert!(serde_json::from_str::<Money>("\"17300.001\"").is_err());
        assert!(serde_json::from_str::<Money>("17300").is_err());
        let v = serde_json::to_value(schemars::schema_for!(Money)).unwrap();
        assert_eq!(v["type"], "string");
        assert!(v["pattern"].is_string());
    }
}
