//! Property tests for `tarn_expr::Number`.
//!
//! The references here deliberately avoid `Number`'s own comparison and
//! arithmetic: ordering is checked against fixed-width decimal strings and
//! integer arithmetic against `i128`.

use std::cmp::Ordering;

use proptest::prelude::*;
use tarn_expr::{Number, NumberError};

/// Smallest exponent any valid number can have (38 digits ending at
/// `1E-130`'s neighbourhood) and the largest (a single digit at `1E125`).
const MIN_EXP: i32 = -167;
const MAX_EXP: i32 = 125;

/// Coefficients with a spread of lengths, including the 38-digit maximum.
fn coefficient() -> impl Strategy<Value = u128> {
    prop_oneof![
        0u128..1000,
        (1u32..=38).prop_flat_map(|digits| {
            let lo = 10u128.pow(digits - 1);
            lo..lo * 10
        }),
        Just(10u128.pow(38) - 1),
    ]
}

/// Textual inputs `[-]coefficient e exponent`, possibly out of range.
fn raw_parts() -> impl Strategy<Value = (bool, u128, i32)> {
    (any::<bool>(), coefficient(), MIN_EXP - 5..=MAX_EXP + 5)
}

fn build(negative: bool, coefficient: u128, exponent: i32) -> Result<Number, NumberError> {
    let sign = if negative { "-" } else { "" };
    Number::parse(&format!("{sign}{coefficient}e{exponent}"))
}

/// Valid numbers spread across the whole range, plus values that share
/// exponents so equal and near-equal comparisons happen often.
fn number() -> impl Strategy<Value = Number> {
    prop_oneof![
        raw_parts().prop_filter_map("out of range", |(n, c, e)| build(n, c, e).ok()),
        (any::<bool>(), 0u128..200, -3i32..3)
            .prop_filter_map("out of range", |(n, c, e)| build(n, c, e).ok()),
        any::<i64>().prop_map(Number::from_i64),
    ]
}

/// `|x| * 10^200` as a fixed-width digit string: every valid number is an
/// integer at that scale and below `10^326`, so string order is magnitude
/// order.
fn scaled_magnitude(coefficient: u128, exponent: i32) -> String {
    let zeros = usize::try_from(exponent + 200).expect("exponent above -200");
    let digits = format!("{coefficient}{}", "0".repeat(zeros));
    format!("{digits:0>400}")
}

fn reference_cmp(a: (bool, u128, i32), b: (bool, u128, i32)) -> Ordering {
    let sign = |(neg, c, _): (bool, u128, i32)| match (c == 0, neg) {
        (true, _) => 0,
        (false, true) => -1,
        (false, false) => 1,
    };
    match sign(a).cmp(&sign(b)) {
        Ordering::Equal => {}
        o => return o,
    }
    let magnitude = scaled_magnitude(a.1, a.2).cmp(&scaled_magnitude(b.1, b.2));
    if sign(a) < 0 {
        magnitude.reverse()
    } else {
        magnitude
    }
}

/// Exact `a + b` as text, by schoolbook arithmetic on the fixed-width
/// scaled digit strings, to be parsed back for comparison (parsing applies
/// the same range and digit checks `checked_add` must).
fn reference_sum(a: (bool, u128, i32), b: (bool, u128, i32)) -> String {
    let digits = |(_, c, e): (bool, u128, i32)| -> Vec<u8> {
        scaled_magnitude(c, e)
            .bytes()
            .rev()
            .map(|d| d - b'0')
            .collect()
    };
    let (da, db) = (digits(a), digits(b));
    let (negative, magnitude) = if a.0 == b.0 {
        let mut out = Vec::new();
        let mut carry = 0;
        for i in 0..da.len() {
            let s = da[i] + db[i] + carry;
            out.push(s % 10);
            carry = s / 10;
        }
        out.push(carry);
        (a.0, out)
    } else {
        let a_bigger = da.iter().rev().cmp(db.iter().rev()) != Ordering::Less;
        let (big, small, negative) = if a_bigger {
            (&da, &db, a.0)
        } else {
            (&db, &da, b.0)
        };
        let mut out = Vec::new();
        let mut borrow = 0;
        for i in 0..big.len() {
            let sub = small[i] + borrow;
            if big[i] >= sub {
                out.push(big[i] - sub);
                borrow = 0;
            } else {
                out.push(big[i] + 10 - sub);
                borrow = 1;
            }
        }
        (negative, out)
    };
    let text: String = magnitude
        .iter()
        .rev()
        .map(|d| char::from(b'0' + d))
        .collect();
    format!("{}{text}e-200", if negative { "-" } else { "" })
}

fn key(n: &Number) -> Vec<u8> {
    let mut out = Vec::new();
    n.encode_key(&mut out);
    out
}

/// Integers of up to 38 digits whose pairwise sums and differences stay
/// inside `i128`.
fn int38() -> impl Strategy<Value = i128> {
    let limit = i128::MAX / 2;
    prop_oneof![-1000i128..1000, -limit..=limit, Just(limit), Just(-limit)]
}

proptest! {
    #[test]
    fn display_round_trips(x in number()) {
        let text = x.to_string();
        let back = Number::parse(&text).expect("canonical text parses");
        prop_assert_eq!(&back, &x);
        prop_assert_eq!(back.to_string(), text);
    }

    #[test]
    fn parse_never_panics_and_round_trips(s in "[-+]?[0-9]{0,45}(\\.[0-9]{0,45})?([eE][-+]?[0-9]{1,4})?") {
        if let Ok(x) = Number::parse(&s) {
            let text = x.to_string();
            prop_assert_eq!(Number::parse(&text), Ok(x));
        }
    }

    #[test]
    fn parse_arbitrary_text_never_panics(s in "\\PC{0,40}") {
        let _ = Number::parse(&s);
    }

    #[test]
    fn order_matches_exact_value(a in raw_parts(), b in raw_parts()) {
        if let (Ok(x), Ok(y)) = (build(a.0, a.1, a.2), build(b.0, b.1, b.2)) {
            let want = reference_cmp(a, b);
            prop_assert_eq!(x.cmp(&y), want);
            prop_assert_eq!(x == y, want == Ordering::Equal);
        }
    }

    #[test]
    fn equal_values_are_equal_and_hash_alike(neg in any::<bool>(), c in 1u128..10u128.pow(30), e in -100i32..80, k in 0u32..8) {
        // The same value written with extra trailing zeros.
        let x = build(neg, c, e);
        let y = build(neg, c * 10u128.pow(k), e - i32::try_from(k).expect("small"));
        prop_assert_eq!(&x, &y);
        if let (Ok(x), Ok(y)) = (x, y) {
            use std::hash::{BuildHasher, RandomState};
            let state = RandomState::new();
            prop_assert_eq!(state.hash_one(&x), state.hash_one(&y));
            prop_assert_eq!(key(&x), key(&y));
        }
    }

    #[test]
    fn key_order_matches_number_order(x in number(), y in number()) {
        prop_assert_eq!(key(&x).cmp(&key(&y)), x.cmp(&y));
    }

    #[test]
    fn key_round_trips_with_trailing_bytes(x in number(), tail in proptest::collection::vec(any::<u8>(), 0..8)) {
        let mut bytes = key(&x);
        let len = bytes.len();
        bytes.extend_from_slice(&tail);
        prop_assert_eq!(Number::decode_key(&bytes), Ok((x, len)));
    }

    #[test]
    fn decode_arbitrary_bytes_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..32)) {
        if let Ok((x, used)) = Number::decode_key(&bytes) {
            // Whatever decodes must be exactly the canonical encoding.
            prop_assert_eq!(key(&x), bytes[..used].to_vec());
        }
    }

    #[test]
    fn decode_mutated_keys(x in number(), at in any::<prop::sample::Index>(), byte in any::<u8>(), cut in any::<prop::sample::Index>()) {
        let mut bytes = key(&x);
        let i = at.index(bytes.len());
        bytes[i] = byte;
        bytes.truncate(cut.index(bytes.len() + 1));
        if let Ok((y, used)) = Number::decode_key(&bytes) {
            prop_assert_eq!(key(&y), bytes[..used].to_vec());
        }
    }

    #[test]
    fn integer_arithmetic_matches_i128(a in int38(), b in int38()) {
        let x = Number::parse(&a.to_string()).expect("38 digits fit");
        let y = Number::parse(&b.to_string()).expect("38 digits fit");
        let sum = a.checked_add(b).expect("no i128 overflow");
        let diff = a.checked_sub(b).expect("no i128 overflow");
        prop_assert_eq!(x.checked_add(&y), Number::parse(&sum.to_string()));
        prop_assert_eq!(x.checked_sub(&y), Number::parse(&diff.to_string()));
        // Digit count of the exact result decides success.
        let fits = |v: i128| {
            let t = v.unsigned_abs().to_string();
            t.trim_end_matches('0').len() <= 38
        };
        prop_assert_eq!(x.checked_add(&y).is_ok(), fits(sum));
        prop_assert_eq!(x.checked_sub(&y).is_ok(), fits(diff));
    }

    #[test]
    fn add_then_sub_is_identity(x in number(), y in number()) {
        if let Ok(s) = x.checked_add(&y) {
            prop_assert_eq!(s.checked_sub(&y), Ok(x.clone()));
            prop_assert_eq!(y.checked_add(&x), Ok(s.clone()));
        }
        if let Ok(d) = x.checked_sub(&y) {
            prop_assert_eq!(d.checked_add(&y), Ok(x));
        }
    }

    #[test]
    fn add_agrees_with_decimal_reference(a in raw_parts(), b in raw_parts()) {
        if let (Ok(x), Ok(y)) = (build(a.0, a.1, a.2), build(b.0, b.1, b.2)) {
            let want = Number::parse(&reference_sum(a, b));
            prop_assert_eq!(x.checked_add(&y), want.clone());
            prop_assert_eq!(x.checked_sub(&y.negate()), want);
        }
    }

    #[test]
    fn size_is_centesimal(x in number()) {
        // Count base-100 digits aligned on the decimal point directly from
        // the canonical text.
        let text = x.to_string();
        let size = x.size_bytes();
        if x.is_zero() {
            prop_assert_eq!(size, 1);
        } else {
            let unsigned = text.trim_start_matches('-');
            let (int_part, frac_part) = unsigned.split_once('.').unwrap_or((unsigned, ""));
            let int_part = if int_part == "0" { "" } else { int_part };
            let int_padded = if int_part.len() % 2 == 1 { format!("0{int_part}") } else { int_part.to_string() };
            let frac_padded = if frac_part.len() % 2 == 1 { format!("{frac_part}0") } else { frac_part.to_string() };
            let all = format!("{int_padded}{frac_padded}");
            let pairs: Vec<&str> = (0..all.len() / 2).map(|i| &all[2 * i..2 * i + 2]).collect();
            let first = pairs.iter().position(|p| *p != "00").expect("nonzero");
            let last = pairs.iter().rposition(|p| *p != "00").expect("nonzero");
            let want = 1 + (last - first + 1) + usize::from(x.is_negative());
            prop_assert_eq!(size, want, "{}", text);
        }
    }
}
