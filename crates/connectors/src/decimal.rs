//! ISO 20022 amounts (`xs:decimal`, at most 5 fraction digits) as exact
//! integers, never floating point.

use casetrail_types::Money;

/// Fraction digits kept: ISO 20022's `ActiveOrHistoricCurrencyAndAmount`
/// allows 5.
pub const SCALE_DIGITS: u32 = 5;
const SCALE: i128 = 100_000;

/// An exact decimal amount in units of 10⁻⁵.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord)]
pub struct Decimal(pub i128);

impl Decimal {
    /// Parses `1692.22`, `6.3`, `200000`, `+1.5`, `-0.01`.
    pub fn parse(text: &str) -> Result<Decimal, String> {
        let text = text.trim();
        let (negative, digits) = match text.as_bytes().first() {
            Some(b'-') => (true, &text[1..]),
            Some(b'+') => (false, &text[1..]),
            _ => (false, text),
        };
        let (whole, fraction) = digits.split_once('.').unwrap_or((digits, ""));
        let all_digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
        if whole.is_empty() && fraction.is_empty() || !all_digits(whole) || !all_digits(fraction) {
            return Err(format!("{text:?} is not a decimal amount"));
        }
        if fraction.len() > SCALE_DIGITS as usize || whole.len() > 18 {
            return Err(format!("{text:?} has more than {SCALE_DIGITS} decimals or too many digits"));
        }
        let mut value: i128 = 0;
        for b in whole.bytes() {
            value = value * 10 + i128::from(b - b'0');
        }
        let mut frac: i128 = 0;
        for i in 0..SCALE_DIGITS as usize {
            frac = frac * 10 + fraction.as_bytes().get(i).map_or(0, |b| i128::from(b - b'0'));
        }
        let value = value * SCALE + frac;
        Ok(Decimal(if negative { -value } else { value }))
    }

    /// As money in minor units (hundredths): refused when it has more than
    /// two decimals.
    pub fn to_money(self) -> Result<Money, String> {
        if self.0 % 1000 != 0 {
            return Err(format!("{self} has more than two decimals"));
        }
        i64::try_from(self.0 / 1000).map(Money::from_tiyn).map_err(|_| format!("{self} is too large"))
    }

    pub fn checked_add(self, other: Decimal) -> Option<Decimal> {
        self.0.checked_add(other.0).map(Decimal)
    }
}

impl std::fmt::Display for Decimal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let sign = if self.0 < 0 { "-" } else { "" };
        let abs = self.0.unsigned_abs();
        let whole = abs / SCALE as u128;
        let mut frac = format!("{:05}", abs % SCALE as u128);
        while frac.len() > 2 && frac.ends_with('0') {
            frac.pop();
        }
        write!(f, "{sign}{whole}.{frac}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_prints() {
        assert_eq!(Decimal::parse("1692.22").map(|d| d.to_string()), Ok("1692.22".into()));
        assert_eq!(Decimal::parse("6.3").map(|d| d.0), Ok(630_000));
        assert_eq!(Decimal::parse("200000").map(|d| d.to_string()), Ok("200000.00".into()));
        assert_eq!(Decimal::parse("0.12345").map(|d| d.to_string()), Ok("0.12345".into()));
        assert!(Decimal::parse("1.234567").is_err());
        assert!(Decimal::parse("1,5").is_err());
        assert!(Decimal::parse("").is_err());
        assert!(Decimal::parse(".").is_err());
        assert_eq!(Decimal::parse("17300.5").and_then(Decimal::to_money).map(Money::tiyn), Ok(1_730_050));
        assert!(Decimal::parse("1.001").and_then(Decimal::to_money).is_err());
    }
}
