//! Unsigned numbers written as fixed-width decimal text without
//! `core::fmt`, for keys and dates the ledger writer makes on every event.

/// Writes `value` into `out` as `out.len()` decimal digits, zero-padded on
/// the left. Digits beyond the width are dropped: the caller keeps `value`
/// below `10^out.len()`.
#[inline]
pub fn zero_padded(value: u64, out: &mut [u8]) {
    let mut rest = value;
    for byte in out.iter_mut().rev() {
        *byte = b'0' + (rest % 10) as u8;
        rest /= 10;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digits_are_those_format_writes() {
        for (value, width) in [(0, 1), (7, 2), (2026, 4), (9_999, 4), (1_234_567, 16), (9_999_999_999_999_999, 16)] {
            let mut out = vec![0; width];
            zero_padded(value, &mut out);
            assert_eq!(String::from_utf8(out).unwrap(), format!("{value:0width$}"));
        }
    }
}
