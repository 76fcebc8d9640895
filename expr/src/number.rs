//! DynamoDB's `N` type as an exact decimal.
//!
//! A [`Number`] is `(-1)^negative * coefficient * 10^exponent` where the
//! coefficient is an integer of at most 38 decimal digits (always fits a
//! `u128`). Values are kept normalized: the coefficient has no trailing zeros
//! and zero is the single value `coefficient == 0, exponent == 0, !negative`.
//! Because every numeric value has exactly one representation, the derived
//! `PartialEq`/`Eq`/`Hash` compare numeric values (`1.0 == 1`, `1e2 == 100`).
//!
//! DynamoDB limits: at most 38 significant digits, and a nonzero magnitude
//! between `1E-130` and `9.9999999999999999999999999999999999999E+125`.
//! In terms of the *adjusted exponent* (the power of ten of the most
//! significant digit) the valid range is `-130..=125`.
//!
//! Arithmetic is exact: a result that would need rounding is an error, never
//! a silently rounded value, matching DynamoDB's refusal to store an `ADD` /
//! `SET a = a + b` result it cannot represent.

use std::cmp::Ordering;
use std::fmt;
use std::str::FromStr;

/// The most significant digits a DynamoDB number may carry.
pub const MAX_SIGNIFICANT_DIGITS: u32 = 38;

/// Largest adjusted exponent: `9.99..E+125` is the biggest magnitude.
const MAX_ADJUSTED_EXPONENT: i64 = 125;
/// Smallest adjusted exponent: `1E-130` is the smallest nonzero magnitude.
const MIN_ADJUSTED_EXPONENT: i64 = -130;

/// Input exponents are clamped to this magnitude while parsing, which keeps
/// the arithmetic free of overflow. No realistic input has anywhere near this
/// many digits, so a clamped exponent is out of range either way.
const PARSE_EXPONENT_CLAMP: i64 = 1_000_000_000_000_000;

const KEY_TAG_NEGATIVE: u8 = 0x01;
const KEY_TAG_ZERO: u8 = 0x02;
const KEY_TAG_POSITIVE: u8 = 0x03;
/// Added to the adjusted exponent so its big-endian bytes sort like the
/// signed value.
const KEY_EXPONENT_BIAS: i32 = 0x8000;

/// An exact DynamoDB number. See the module documentation.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Number {
    negative: bool,
    /// No trailing zeros; `< 10^38`; zero only for the canonical zero.
    coefficient: u128,
    /// Power of ten of the least significant digit of `coefficient`.
    exponent: i32,
}

/// Why a value could not be represented as a DynamoDB number. The messages
/// are the ones DynamoDB returns in its `ValidationException`s.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum NumberError {
    /// Syntax error, `NaN`, `Infinity`, empty input.
    #[error("A value provided cannot be converted into a number")]
    Invalid,
    #[error("Attempting to store more than 38 significant digits in a Number")]
    TooManyDigits,
    #[error(
        "Number overflow. Attempting to store a number with magnitude larger than supported range"
    )]
    Overflow,
    #[error("Number underflow. Attempting to store a number with magnitude smaller than supported range")]
    Underflow,
}

/// `10^k` when it fits a `u128`.
fn pow10(k: u64) -> Option<u128> {
    let k = u32::try_from(k).ok()?;
    10u128.checked_pow(k)
}

/// Number of decimal digits in `c` (0 for 0).
fn digit_count(c: u128) -> u32 {
    match c.checked_ilog10() {
        Some(l) => l + 1,
        None => 0,
    }
}

/// Checks the adjusted exponent of a nonzero value against DynamoDB's range.
fn check_range(adjusted: i128) -> Result<(), NumberError> {
    if adjusted > i128::from(MAX_ADJUSTED_EXPONENT) {
        Err(NumberError::Overflow)
    } else if adjusted < i128::from(MIN_ADJUSTED_EXPONENT) {
        Err(NumberError::Underflow)
    } else {
        Ok(())
    }
}

impl Default for Number {
    fn default() -> Self {
        Number::zero()
    }
}

impl Number {
    /// The canonical zero.
    pub fn zero() -> Number {
        Number {
            negative: false,
            coefficient: 0,
            exponent: 0,
        }
    }

    /// Exact conversion; every `i64` fits in 19 digits.
    pub fn from_i64(v: i64) -> Number {
        let mut coefficient = u128::from(v.unsigned_abs());
        if coefficient == 0 {
            return Number::zero();
        }
        let mut exponent = 0;
        while coefficient.is_multiple_of(10) {
            coefficient /= 10;
            exponent += 1;
        }
        Number {
            negative: v < 0,
            coefficient,
            exponent,
        }
    }

    /// Parses DynamoDB's number syntax:
    /// `[+-]? (digits [. digits?] | . digits) ([eE] [+-]? digits)?`.
    ///
    /// Range errors take precedence over [`NumberError::TooManyDigits`]: a
    /// value that is both too long and out of range reports the range.
    pub fn parse(s: &str) -> Result<Number, NumberError> {
        let b = s.as_bytes();
        let mut i = 0;
        let mut negative = false;
        match b.first() {
            Some(b'-') => {
                negative = true;
                i = 1;
            }
            Some(b'+') => i = 1,
            _ => {}
        }

        let int_start = i;
        while b.get(i).is_some_and(u8::is_ascii_digit) {
            i += 1;
        }
        let int_digits = &b[int_start..i];

        let mut frac_digits: &[u8] = &[];
        if b.get(i) == Some(&b'.') {
            i += 1;
            let frac_start = i;
            while b.get(i).is_some_and(u8::is_ascii_digit) {
                i += 1;
            }
            frac_digits = &b[frac_start..i];
        }
        if int_digits.is_empty() && frac_digits.is_empty() {
            return Err(NumberError::Invalid);
        }

        let mut exp_value: i64 = 0;
        if matches!(b.get(i), Some(b'e' | b'E')) {
            i += 1;
            let mut exp_negative = false;
            match b.get(i) {
                Some(b'-') => {
                    exp_negative = true;
                    i += 1;
                }
                Some(b'+') => i += 1,
                _ => {}
            }
            let exp_start = i;
            while let Some(&c) = b.get(i).filter(|c| c.is_ascii_digit()) {
                exp_value = (exp_value * 10 + i64::from(c - b'0')).min(PARSE_EXPONENT_CLAMP);
                i += 1;
            }
            if i == exp_start {
                return Err(NumberError::Invalid);
            }
            if exp_negative {
                exp_value = -exp_value;
            }
        }
        if i != b.len() {
            return Err(NumberError::Invalid);
        }

        // Positions are powers of ten relative to the decimal point, before
        // applying the exponent. i128 because input length is unbounded.
        let int_len = i128::try_from(int_digits.len()).map_err(|_| NumberError::Invalid)?;
        let mut coefficient: u128 = 0;
        let mut significant: u64 = 0;
        let mut pending_zeros: u64 = 0;
        let mut first_pos: Option<i128> = None;
        let mut last_pos: i128 = 0;
        let mut pos = int_len;
        for &c in int_digits.iter().chain(frac_digits) {
            pos -= 1;
            let d = c - b'0';
            if d == 0 {
                // Zeros only count once a later nonzero digit proves they
                // are not trailing.
                if first_pos.is_some() {
                    pending_zeros += 1;
                }
                continue;
            }
            if first_pos.is_none() {
                first_pos = Some(pos);
            }
            significant += pending_zeros + 1;
            if significant <= u64::from(MAX_SIGNIFICANT_DIGITS) {
                coefficient = pow10(pending_zeros + 1)
                    .and_then(|p| coefficient.checked_mul(p))
                    .and_then(|c| c.checked_add(u128::from(d)))
                    .ok_or(NumberError::TooManyDigits)?;
            }
            pending_zeros = 0;
            last_pos = pos;
        }

        let Some(first_pos) = first_pos else {
            return Ok(Number::zero());
        };
        check_range(first_pos + i128::from(exp_value))?;
        if significant > u64::from(MAX_SIGNIFICANT_DIGITS) {
            return Err(NumberError::TooManyDigits);
        }
        let exponent =
            i32::try_from(last_pos + i128::from(exp_value)).map_err(|_| NumberError::Overflow)?;
        Ok(Number {
            negative,
            coefficient,
            exponent,
        })
    }

    pub fn is_zero(&self) -> bool {
        self.coefficient == 0
    }

    /// True for values below zero; zero itself is never negative.
    pub fn is_negative(&self) -> bool {
        self.negative
    }

    /// Digits from the first to the last nonzero digit. Zero has none.
    pub fn significant_digits(&self) -> u32 {
        digit_count(self.coefficient)
    }

    /// Power of ten of the most significant digit (0 for zero).
    fn adjusted_exponent(&self) -> i32 {
        if self.is_zero() {
            return 0;
        }
        // Cannot overflow: both terms are small by the type's invariant.
        self.exponent
            .saturating_add_unsigned(digit_count(self.coefficient) - 1)
    }

    pub fn negate(&self) -> Number {
        if self.is_zero() {
            return Number::zero();
        }
        Number {
            negative: !self.negative,
            ..self.clone()
        }
    }

    /// Exact sum. Errors if the exact result is out of range
    /// (`Overflow`/`Underflow`) or needs more than 38 significant digits.
    pub fn checked_add(&self, other: &Number) -> Result<Number, NumberError> {
        if self.is_zero() {
            return Ok(other.clone());
        }
        if other.is_zero() {
            return Ok(self.clone());
        }
        let exponent = self.exponent.min(other.exponent);
        if let Some(result) = self.add_u128(other, exponent) {
            return result;
        }
        self.add_digits(other, exponent)
    }

    /// Exact difference; same errors as [`Number::checked_add`].
    pub fn checked_sub(&self, other: &Number) -> Result<Number, NumberError> {
        self.checked_add(&other.negate())
    }

    /// Coefficient scaled so its least significant digit is at `10^exponent`,
    /// if that fits a `u128`.
    fn aligned_u128(&self, exponent: i32) -> Option<u128> {
        let shift = u64::try_from(i64::from(self.exponent) - i64::from(exponent)).ok()?;
        pow10(shift)?.checked_mul(self.coefficient)
    }

    /// The common case: both operands line up within a `u128`. `None` means
    /// an intermediate did not fit and the digit-vector path must be used.
    fn add_u128(&self, other: &Number, exponent: i32) -> Option<Result<Number, NumberError>> {
        let a = self.aligned_u128(exponent)?;
        let b = other.aligned_u128(exponent)?;
        let (negative, magnitude) = if self.negative == other.negative {
            (self.negative, a.checked_add(b)?)
        } else if a >= b {
            (self.negative, a - b)
        } else {
            (other.negative, b - a)
        };
        Some(Number::from_u128_parts(
            negative,
            magnitude,
            i128::from(exponent),
        ))
    }

    /// Schoolbook arithmetic on decimal digits, for operands that do not
    /// align within a `u128`. Such a sum never fits 38 digits, but the exact
    /// result is still needed to tell `Overflow`/`Underflow` from
    /// `TooManyDigits`. At most a few hundred digits because exponents are
    /// bounded.
    fn add_digits(&self, other: &Number, exponent: i32) -> Result<Number, NumberError> {
        let a = self.aligned_digits(exponent);
        let b = other.aligned_digits(exponent);
        let (negative, magnitude) = if self.negative == other.negative {
            (self.negative, add_le_digits(&a, &b))
        } else if cmp_le_digits(&a, &b) != Ordering::Less {
            (self.negative, sub_le_digits(&a, &b))
        } else {
            (other.negative, sub_le_digits(&b, &a))
        };
        Number::from_le_digits(negative, magnitude, i128::from(exponent))
    }

    /// Decimal digits, least significant first, shifted so the last one sits
    /// at `10^exponent`.
    fn aligned_digits(&self, exponent: i32) -> Vec<u8> {
        let shift = usize::try_from(i64::from(self.exponent) - i64::from(exponent)).unwrap_or(0);
        let mut digits = vec![0u8; shift];
        let mut c = self.coefficient;
        while c > 0 {
            // `c % 10 < 10`, so the narrowing cannot lose anything.
            digits.push((c % 10) as u8);
            c /= 10;
        }
        digits
    }

    /// Builds a normalized number from an unnormalized magnitude, checking
    /// range before digit count.
    fn from_u128_parts(
        negative: bool,
        mut coefficient: u128,
        mut exponent: i128,
    ) -> Result<Number, NumberError> {
        if coefficient == 0 {
            return Ok(Number::zero());
        }
        while coefficient.is_multiple_of(10) {
            coefficient /= 10;
            exponent += 1;
        }
        let digits = digit_count(coefficient);
        check_range(exponent + i128::from(digits) - 1)?;
        if digits > MAX_SIGNIFICANT_DIGITS {
            return Err(NumberError::TooManyDigits);
        }
        Ok(Number {
            negative,
            coefficient,
            exponent: i32::try_from(exponent).map_err(|_| NumberError::Overflow)?,
        })
    }

    /// Like [`Number::from_u128_parts`] for a little-endian digit vector.
    fn from_le_digits(
        negative: bool,
        digits: Vec<u8>,
        exponent: i128,
    ) -> Result<Number, NumberError> {
        let low = digits.iter().take_while(|&&d| d == 0).count();
        let high = digits.iter().rposition(|&d| d != 0);
        let Some(high) = high else {
            return Ok(Number::zero());
        };
        let significant = &digits[low..=high];
        let exponent = exponent + i128::try_from(low).map_err(|_| NumberError::Overflow)?;
        let len = i128::try_from(significant.len()).map_err(|_| NumberError::Overflow)?;
        check_range(exponent + len - 1)?;
        if len > i128::from(MAX_SIGNIFICANT_DIGITS) {
            return Err(NumberError::TooManyDigits);
        }
        let coefficient = significant
            .iter()
            .rev()
            .fold(0u128, |acc, &d| acc * 10 + u128::from(d));
        Ok(Number {
            negative,
            coefficient,
            exponent: i32::try_from(exponent).map_err(|_| NumberError::Overflow)?,
        })
    }

    /// Compares absolute values.
    fn cmp_magnitude(&self, other: &Number) -> Ordering {
        match (self.is_zero(), other.is_zero()) {
            (true, true) => return Ordering::Equal,
            (true, false) => return Ordering::Less,
            (false, true) => return Ordering::Greater,
            (false, false) => {}
        }
        match self.adjusted_exponent().cmp(&other.adjusted_exponent()) {
            Ordering::Equal => {}
            o => return o,
        }
        // Same leading power of ten: pad both coefficients to the same
        // digit count (at most 38, so no overflow) and compare as integers.
        let da = digit_count(self.coefficient);
        let db = digit_count(other.coefficient);
        let width = da.max(db);
        let scale = |c: u128, d: u32| c.saturating_mul(10u128.saturating_pow(width - d));
        scale(self.coefficient, da).cmp(&scale(other.coefficient, db))
    }

    /// Bytes DynamoDB bills for this number's value (attribute name not
    /// included).
    ///
    /// DynamoDB stores numbers like Oracle's `NUMBER`: one exponent byte,
    /// then base-100 digits aligned on the decimal point, plus a terminator
    /// byte for negatives. So `size = 1 + centesimal_digits + negative`, and
    /// zero is 1 byte. This is the formula in dynalite's `valSize` for `N`
    /// (`mhart/dynalite`, `db/index.js`), which was fitted to the
    /// `ConsumedCapacity` real DynamoDB reports:
    /// `1 + ceil(n / 2) + (n even && e even ? 1 : 0) + (negative ? 1 : 0)`
    /// with `n` significant digits and `e` the adjusted exponent. The
    /// developer guide ("Item sizes and formats") only gives the
    /// approximation "1 byte per two significant digits, plus 1 byte".
    pub fn size_bytes(&self) -> usize {
        if self.is_zero() {
            return 1;
        }
        let n = digit_count(self.coefficient);
        let even_split = n.is_multiple_of(2) && self.adjusted_exponent().rem_euclid(2) == 0;
        let centesimal = n.div_ceil(2) + u32::from(even_split);
        // `centesimal <= 20`, so the widening is lossless everywhere.
        1 + centesimal as usize + usize::from(self.negative)
    }

    /// Appends an order-preserving, self-delimiting encoding: unsigned
    /// lexicographic order of the bytes equals numeric order, and
    /// [`Number::decode_key`] finds the end without a length prefix.
    ///
    /// Layout: a tag byte (`0x01` negative, `0x02` zero, `0x03` positive).
    /// For nonzero values: the adjusted exponent as `i16 + 0x8000`
    /// big-endian, then each significant digit `d` as the nibble `d + 1`,
    /// two per byte, high nibble first, ended by a `0` nibble (a whole `0x00`
    /// byte when the digits fill the last byte). A shorter digit string thus
    /// sorts before its extensions. Negatives complement every byte after
    /// the tag so larger magnitudes sort first.
    pub fn encode_key(&self, out: &mut Vec<u8>) {
        if self.is_zero() {
            out.push(KEY_TAG_ZERO);
            return;
        }
        out.push(if self.negative {
            KEY_TAG_NEGATIVE
        } else {
            KEY_TAG_POSITIVE
        });
        let body_start = out.len();
        let biased = u16::try_from(self.adjusted_exponent() + KEY_EXPONENT_BIAS).unwrap_or(0);
        out.extend_from_slice(&biased.to_be_bytes());
        let mut high: Option<u8> = None;
        for c in self.coefficient.to_string().bytes() {
            let nibble = c - b'0' + 1;
            match high.take() {
                None => high = Some(nibble),
                Some(h) => out.push(h << 4 | nibble),
            }
        }
        out.push(match high {
            Some(h) => h << 4,
            None => 0x00,
        });
        if self.negative {
            for byte in &mut out[body_start..] {
                *byte = !*byte;
            }
        }
    }

    /// Decodes one value written by [`Number::encode_key`] from the front of
    /// `input`, returning it and the number of bytes it occupied. Anything
    /// `encode_key` would not have produced is `Err(Invalid)`.
    pub fn decode_key(input: &[u8]) -> Result<(Number, usize), NumberError> {
        let (&tag, body) = input.split_first().ok_or(NumberError::Invalid)?;
        let (negative, flip) = match tag {
            KEY_TAG_ZERO => return Ok((Number::zero(), 1)),
            KEY_TAG_NEGATIVE => (true, 0xFF),
            KEY_TAG_POSITIVE => (false, 0x00),
            _ => return Err(NumberError::Invalid),
        };
        let byte = |i: usize| body.get(i).map(|b| b ^ flip).ok_or(NumberError::Invalid);

        let biased = u16::from_be_bytes([byte(0)?, byte(1)?]);
        let adjusted = i32::from(biased) - KEY_EXPONENT_BIAS;
        if check_range(i128::from(adjusted)).is_err() {
            return Err(NumberError::Invalid);
        }

        let mut digits = DigitAccumulator::default();
        let mut i = 2;
        let terminated_at = loop {
            let b = byte(i)?;
            i += 1;
            if digits.push(b >> 4)? {
                // Terminator in the high nibble: the low one is padding.
                if b & 0x0F != 0 {
                    return Err(NumberError::Invalid);
                }
                break i;
            }
            if digits.push(b & 0x0F)? {
                break i;
            }
        };
        if digits.count == 0 || digits.last == 0 {
            return Err(NumberError::Invalid);
        }
        let exponent =
            adjusted - i32::try_from(digits.count - 1).map_err(|_| NumberError::Invalid)?;
        let number = Number {
            negative,
            coefficient: digits.coefficient,
            exponent,
        };
        Ok((number, 1 + terminated_at))
    }
}

/// Collects key-encoded digit nibbles, rejecting non-canonical sequences.
#[derive(Default)]
struct DigitAccumulator {
    coefficient: u128,
    count: u32,
    last: u8,
}

impl DigitAccumulator {
    /// Returns `Ok(true)` on the terminator nibble.
    fn push(&mut self, nibble: u8) -> Result<bool, NumberError> {
        if nibble == 0 {
            return Ok(true);
        }
        if nibble > 10 || self.count >= MAX_SIGNIFICANT_DIGITS {
            return Err(NumberError::Invalid);
        }
        let d = nibble - 1;
        if self.count == 0 && d == 0 {
            return Err(NumberError::Invalid);
        }
        // Fewer than 38 digits so far, so this stays below 10^38.
        self.coefficient = self.coefficient * 10 + u128::from(d);
        self.count += 1;
        self.last = d;
        Ok(false)
    }
}

/// Sum of two little-endian digit vectors.
fn add_le_digits(a: &[u8], b: &[u8]) -> Vec<u8> {
    let len = a.len().max(b.len());
    let mut out = Vec::with_capacity(len + 1);
    let mut carry = 0u8;
    for i in 0..len {
        let s = a.get(i).copied().unwrap_or(0) + b.get(i).copied().unwrap_or(0) + carry;
        out.push(s % 10);
        carry = s / 10;
    }
    if carry > 0 {
        out.push(carry);
    }
    out
}

/// `a - b` for little-endian digit vectors with `a >= b`.
fn sub_le_digits(a: &[u8], b: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(a.len());
    let mut borrow = 0u8;
    for (i, &da) in a.iter().enumerate() {
        let sub = b.get(i).copied().unwrap_or(0) + borrow;
        if da >= sub {
            out.push(da - sub);
            borrow = 0;
        } else {
            out.push(da + 10 - sub);
            borrow = 1;
        }
    }
    out
}

/// Compares little-endian digit vectors that have no high zero digits.
fn cmp_le_digits(a: &[u8], b: &[u8]) -> Ordering {
    a.len()
        .cmp(&b.len())
        .then_with(|| a.iter().rev().cmp(b.iter().rev()))
}

impl PartialOrd for Number {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Number {
    fn cmp(&self, other: &Self) -> Ordering {
        let rank = |n: &Number| match (n.is_zero(), n.negative) {
            (true, _) => 1,
            (false, true) => 0,
            (false, false) => 2,
        };
        match rank(self).cmp(&rank(other)) {
            Ordering::Equal => {}
            o => return o,
        }
        let magnitude = self.cmp_magnitude(other);
        if self.negative {
            magnitude.reverse()
        } else {
            magnitude
        }
    }
}

/// Plain decimal notation, never an exponent: DynamoDB returns numbers this
/// way (`1e2` comes back as `100`).
impl fmt::Display for Number {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_zero() {
            return f.write_str("0");
        }
        if self.negative {
            f.write_str("-")?;
        }
        let digits = self.coefficient.to_string();
        if self.exponent >= 0 {
            f.write_str(&digits)?;
            for _ in 0..self.exponent {
                f.write_str("0")?;
            }
            return Ok(());
        }
        let frac_len = self.exponent.unsigned_abs() as usize;
        if frac_len < digits.len() {
            let (int_part, frac_part) = digits.split_at(digits.len() - frac_len);
            write!(f, "{int_part}.{frac_part}")
        } else {
            f.write_str("0.")?;
            for _ in 0..frac_len - digits.len() {
                f.write_str("0")?;
            }
            f.write_str(&digits)
        }
    }
}

impl FromStr for Number {
    type Err = NumberError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Number::parse(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn n(s: &str) -> Number {
        match Number::parse(s) {
            Ok(v) => v,
            Err(e) => panic!("{s:?} should parse: {e}"),
        }
    }

    fn err(s: &str) -> NumberError {
        match Number::parse(s) {
            Ok(v) => panic!("{s:?} should not parse, got {v}"),
            Err(e) => e,
        }
    }

    #[test]
    fn canonical_text() {
        let cases = [
            ("1.50", "1.5"),
            ("-0", "0"),
            ("+0", "0"),
            ("-0.000e5", "0"),
            ("1e2", "100"),
            ("0.000", "0"),
            ("007", "7"),
            ("-.5", "-0.5"),
            (".5", "0.5"),
            ("5.", "5"),
            ("+5", "5"),
            ("1E-3", "0.001"),
            ("12.3e1", "123"),
            ("12.3E+1", "123"),
            ("123.456", "123.456"),
            ("-123.456e-2", "-1.23456"),
            ("0.0001200", "0.00012"),
            ("100", "100"),
            ("-1000.000", "-1000"),
            ("00012.3400e-1", "1.234"),
            ("0e999999999999999999999", "0"),
        ];
        for (input, want) in cases {
            assert_eq!(n(input).to_string(), want, "input {input:?}");
        }
        assert_eq!(n("1e125").to_string(), format!("1{}", "0".repeat(125)));
        assert_eq!(n("1e-130").to_string(), format!("0.{}1", "0".repeat(129)));
    }

    #[test]
    fn invalid_syntax() {
        for s in [
            "",
            " ",
            " 1",
            "1 ",
            "NaN",
            "nan",
            "Infinity",
            "-Infinity",
            "inf",
            "1e",
            "1e+",
            "e5",
            ".",
            "-",
            "+",
            "-.",
            ".e1",
            "--1",
            "+-1",
            "0x10",
            "1.2.3",
            "1e1.5",
            "1,000",
            "١",
            "1_000",
            "1e--1",
        ] {
            assert_eq!(err(s), NumberError::Invalid, "input {s:?}");
        }
    }

    #[test]
    fn digit_limit() {
        let nines38 = "9".repeat(38);
        assert_eq!(n(&nines38).significant_digits(), 38);
        assert_eq!(err(&"9".repeat(39)), NumberError::TooManyDigits);
        assert_eq!(
            err("1.000000000000000000000000000000000000000000001"),
            NumberError::TooManyDigits
        );
        // Trailing and leading zeros are not significant.
        let big = n("100000000000000000000000000000000000000000000");
        assert_eq!(big, n("1e44"));
        assert_eq!(big.significant_digits(), 1);
        assert_eq!(n(&format!("0.000{nines38}000")).significant_digits(), 38);
        assert_eq!(n("10.01").significant_digits(), 4);
        assert_eq!(Number::zero().significant_digits(), 0);
    }

    #[test]
    fn range_limits() {
        let max = format!("9.{}E+125", "9".repeat(37));
        assert!(n(&max) > n("1e125"));
        assert_eq!(err("1e126"), NumberError::Overflow);
        assert_eq!(err("10e125"), NumberError::Overflow);
        assert_eq!(err("-1e126"), NumberError::Overflow);
        assert_eq!(err("1e999999999999"), NumberError::Overflow);
        assert_eq!(err("1e99999999999999999999999999"), NumberError::Overflow);
        assert_eq!(n("1e-130"), n("0.1e-129"));
        assert_eq!(err("1e-131"), NumberError::Underflow);
        assert_eq!(err("0.1e-130"), NumberError::Underflow);
        assert_eq!(err("-1e-131"), NumberError::Underflow);
        assert_eq!(err("1e-999999999999"), NumberError::Underflow);
        assert_eq!(err("1e-99999999999999999999999999"), NumberError::Underflow);
        assert!(n(&format!("1.{}e-130", "2".repeat(37))) > n("1e-130"));
        // Range is reported before digit count.
        assert_eq!(
            err(&format!("{}e200", "1".repeat(40))),
            NumberError::Overflow
        );
    }

    #[test]
    fn equality_and_order() {
        assert_eq!(n("1.0"), n("1"));
        assert_eq!(n("1e2"), n("100"));
        assert_eq!(n("-0"), Number::zero());
        assert!(n("-1") < n("-0.5"));
        assert!(n("-0.5") < n("0"));
        assert!(n("0") < n("1e-130"));
        assert!(n("0.9") < n("1"));
        assert!(n("1") < n("1.0000001"));
        assert!(n("99") < n("100"));
        assert!(n("-100") < n("-99"));
        assert!(n("12") < n("12.5"));
    }

    #[test]
    fn from_i64() {
        for v in [0, 1, -1, 10, -1200, i64::MAX, i64::MIN] {
            assert_eq!(Number::from_i64(v), n(&v.to_string()));
        }
        assert!(!Number::from_i64(0).is_negative());
        assert!(Number::from_i64(-3).is_negative());
    }

    #[test]
    fn arithmetic() {
        let add = |a: &str, b: &str| n(a).checked_add(&n(b));
        assert_eq!(add("1", "2"), Ok(n("3")));
        assert_eq!(add("0.1", "0.2"), Ok(n("0.3")));
        assert_eq!(add("1.5", "-1.5"), Ok(Number::zero()));
        assert_eq!(add("-5", "3"), Ok(n("-2")));
        assert_eq!(add("1e125", "-1e-130"), Err(NumberError::TooManyDigits));
        assert_eq!(add("1e100", "1"), Err(NumberError::TooManyDigits));
        assert_eq!(add("1e37", "1"), Ok(n(&format!("1{}1", "0".repeat(36)))));
        assert_eq!(add("1e38", "1"), Err(NumberError::TooManyDigits));
        let nines38 = "9".repeat(38);
        assert_eq!(add(&nines38, "1"), Ok(n("1e38")));
        let max = format!("9.{}E+125", "9".repeat(37));
        assert_eq!(add(&max, &max), Err(NumberError::Overflow));
        assert_eq!(add(&max, "1e88"), Err(NumberError::Overflow));
        assert_eq!(
            n("1.1e-130").checked_sub(&n("1e-130")),
            Err(NumberError::Underflow)
        );
        assert_eq!(n("5").checked_sub(&n("7")), Ok(n("-2")));
        assert_eq!(n("1e125").checked_sub(&n("1e125")), Ok(Number::zero()));
        assert_eq!(
            n("1e125").checked_sub(&n("1e87")),
            Ok(n(&format!("{}e87", "9".repeat(38))))
        );
        assert_eq!(n("2").negate(), n("-2"));
        assert_eq!(Number::zero().negate(), Number::zero());
    }

    #[test]
    fn size_bytes() {
        let cases = [
            ("0", 1),
            ("1", 2),
            ("10", 2),
            ("100", 2),
            ("15", 2),
            ("1.5", 3),
            ("0.5", 2),
            ("0.05", 2),
            ("0.15", 2),
            ("123", 3),
            ("1234", 3),
            ("12345", 4),
            ("-1", 3),
            ("-1.5", 4),
            ("1e-130", 2),
            ("1.5e-130", 3),
            ("1.5e-129", 2),
        ];
        for (input, want) in cases {
            assert_eq!(n(input).size_bytes(), want, "input {input:?}");
        }
        assert_eq!(n(&"9".repeat(38)).size_bytes(), 20);
        assert_eq!(n(&format!("9.{}", "9".repeat(37))).size_bytes(), 21);
    }

    fn key(s: &str) -> Vec<u8> {
        let mut out = Vec::new();
        n(s).encode_key(&mut out);
        out
    }

    #[test]
    fn key_layout() {
        assert_eq!(key("0"), [0x02]);
        // Adjusted exponent 0 -> 0x8000; digit 1 -> nibble 2, then terminator.
        assert_eq!(key("1"), [0x03, 0x80, 0x00, 0x20]);
        assert_eq!(key("12"), [0x03, 0x80, 0x01, 0x23, 0x00]);
        assert_eq!(key("-1"), [0x01, 0x7F, 0xFF, 0xDF]);
        assert_eq!(key("-12"), [0x01, 0x7F, 0xFE, 0xDC, 0xFF]);
        assert!(key("-12") < key("-1"));
        assert!(key("1.2") < key("1.23"));
        assert!(key("-1.23") < key("-1.2"));
        for s in ["0", "1", "-1", "12", "-12", "1e125", "-1e-130"] {
            let mut bytes = key(s);
            let len = bytes.len();
            bytes.extend_from_slice(&[0xAB, 0x00, 0xFF]);
            assert_eq!(Number::decode_key(&bytes), Ok((n(s), len)));
        }
    }

    #[test]
    fn key_rejects_garbage() {
        let bad: &[&[u8]] = &[
            &[],
            &[0x00],
            &[0x04],
            &[0x03],
            &[0x03, 0x80],
            &[0x03, 0x80, 0x00],             // no digits, no terminator
            &[0x03, 0x80, 0x00, 0x00],       // terminator with no digits
            &[0x03, 0x80, 0x00, 0x23],       // missing terminator
            &[0x03, 0x80, 0x00, 0x21],       // padding nibble not zero
            &[0x03, 0x80, 0x00, 0xB0],       // digit nibble > 10
            &[0x03, 0x80, 0x00, 0x12, 0x00], // leading zero digit
            &[0x03, 0x80, 0x01, 0x21, 0x00], // trailing zero digit
            &[0x03, 0x80, 0x7E, 0x20],       // adjusted exponent 126
            &[0x03, 0x7F, 0x7D, 0x20],       // adjusted exponent -131
            &[0x01, 0x80, 0x00, 0x20],       // positive body under negative tag
        ];
        for input in bad {
            assert_eq!(
                Number::decode_key(input),
                Err(NumberError::Invalid),
                "{input:02x?}"
            );
        }
        // 39 digits: 2 + 36 + 1, terminator in the high nibble of the last byte.
        let mut long = vec![0x03, 0x80, 0x00, 0x26];
        long.extend(std::iter::repeat_n(0x22, 18));
        long.push(0x20);
        assert_eq!(Number::decode_key(&long), Err(NumberError::Invalid));
    }

    #[test]
    fn error_messages() {
        assert_eq!(
            NumberError::TooManyDigits.to_string(),
            "Attempting to store more than 38 significant digits in a Number"
        );
        assert_eq!(
            NumberError::Invalid.to_string(),
            "A value provided cannot be converted into a number"
        );
    }
}
