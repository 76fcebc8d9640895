//! Key encodings preserve DynamoDB's order and round-trip, for every key type.

use proptest::prelude::*;
use tarn_expr::{key, AttributeValue, Number, ScalarType};

fn enc(v: &AttributeValue) -> Vec<u8> {
    let mut out = Vec::new();
    assert!(key::encode(v, &mut out));
    out
}

fn arb_number() -> impl Strategy<Value = Number> {
    (any::<i64>(), -130i32..=100)
        .prop_filter_map("in range", |(c, e)| Number::parse(&format!("{c}e{e}")).ok())
}

proptest! {
    #[test]
    fn strings_sort_by_utf8_bytes(a in "\\PC{0,12}", b in "\\PC{0,12}") {
        let (x, y) = (AttributeValue::S(a.clone()), AttributeValue::S(b.clone()));
        prop_assert_eq!(enc(&x).cmp(&enc(&y)), a.as_bytes().cmp(b.as_bytes()));
        prop_assert_eq!(enc(&x).cmp(&enc(&y)), key::compare(&x, &y));
    }

    #[test]
    fn binary_sorts_by_unsigned_bytes(a in proptest::collection::vec(any::<u8>(), 0..12),
                                      b in proptest::collection::vec(any::<u8>(), 0..12)) {
        let (x, y) = (AttributeValue::B(a.clone()), AttributeValue::B(b.clone()));
        prop_assert_eq!(enc(&x).cmp(&enc(&y)), a.cmp(&b));
    }

    #[test]
    fn numbers_sort_by_value(a in arb_number(), b in arb_number()) {
        let (x, y) = (AttributeValue::N(a.clone()), AttributeValue::N(b.clone()));
        prop_assert_eq!(enc(&x).cmp(&enc(&y)), a.cmp(&b));
    }

    /// Self-delimiting: a key followed by anything decodes to itself and
    /// says where it ended, so composite keys (pk | sk) split correctly.
    #[test]
    fn every_type_round_trips_with_trailing_bytes(
        s in "\\PC{0,12}",
        b in proptest::collection::vec(any::<u8>(), 0..12),
        n in arb_number(),
        tail in proptest::collection::vec(any::<u8>(), 0..8),
    ) {
        for (ty, v) in [
            (ScalarType::S, AttributeValue::S(s.clone())),
            (ScalarType::B, AttributeValue::B(b.clone())),
            (ScalarType::N, AttributeValue::N(n.clone())),
        ] {
            let mut bytes = enc(&v);
            let len = bytes.len();
            bytes.extend_from_slice(&tail);
            prop_assert_eq!(key::decode(ty, &bytes), Ok((v, len)));
        }
    }

    /// Concatenated (partition, sort) encodings order first by partition,
    /// then by sort key, as an LSM range over one partition needs.
    #[test]
    fn composite_keys_order_lexicographically(
        p1 in proptest::collection::vec(any::<u8>(), 0..6), s1 in arb_number(),
        p2 in proptest::collection::vec(any::<u8>(), 0..6), s2 in arb_number(),
    ) {
        let k = |p: &Vec<u8>, s: &Number| {
            let mut out = enc(&AttributeValue::B(p.clone()));
            out.extend(enc(&AttributeValue::N(s.clone())));
            out
        };
        let expected = p1.cmp(&p2).then(s1.cmp(&s2));
        prop_assert_eq!(k(&p1, &s1).cmp(&k(&p2, &s2)), expected);
    }

    #[test]
    fn decoding_garbage_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..32)) {
        for ty in [ScalarType::S, ScalarType::B, ScalarType::N] {
            let _ = key::decode(ty, &bytes);
        }
    }
}
