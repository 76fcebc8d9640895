//! Binary encodings of stored records: LEB128 varints, item records and the
//! reader they share. Formats are specified in `docs/storage.md`.
//!
//! Decoders treat their input as untrusted: every length is checked against
//! what is left, recursion is bounded, and failure is an `Err`, never a panic.

use tarn_expr::{AttributeValue, Item, Number};

/// Version byte of item records.
const ITEM_VERSION: u8 = 1;

/// Nesting allowed by the decoder: DynamoDB's 32 levels plus the item itself.
const DEPTH_MAX: usize = 33;

const TAG_S: u8 = 1;
const TAG_N: u8 = 2;
const TAG_B: u8 = 3;
const TAG_FALSE: u8 = 4;
const TAG_TRUE: u8 = 5;
const TAG_NULL: u8 = 6;
const TAG_M: u8 = 7;
const TAG_L: u8 = 8;
const TAG_SS: u8 = 9;
const TAG_NS: u8 = 10;
const TAG_BS: u8 = 11;

/// A stored record that does not decode.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("corrupt record: {0}")]
pub struct DecodeError(pub &'static str);

/// Appends `v` as unsigned LEB128.
pub fn put_varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

/// Appends a length-prefixed byte string.
pub fn put_bytes(out: &mut Vec<u8>, b: &[u8]) {
    put_varint(out, b.len() as u64);
    out.extend_from_slice(b);
}

/// A cursor over a record being decoded.
pub struct Reader<'a> {
    buf: &'a [u8],
}

impl<'a> Reader<'a> {
    /// Starts reading `buf`.
    pub fn new(buf: &'a [u8]) -> Self {
        Reader { buf }
    }

    /// How many bytes are left.
    pub fn remaining(&self) -> usize {
        self.buf.len()
    }

    /// True when every byte has been consumed.
    pub fn is_empty(&self) -> bool {
        self.buf.is_empty()
    }

    /// Reads one byte.
    pub fn u8(&mut self) -> Result<u8, DecodeError> {
        let (&b, rest) = self.buf.split_first().ok_or(DecodeError("truncated"))?;
        self.buf = rest;
        Ok(b)
    }

    /// Reads `n` raw bytes.
    pub fn take(&mut self, n: usize) -> Result<&'a [u8], DecodeError> {
        if n > self.buf.len() {
            return Err(DecodeError("truncated"));
        }
        let (head, rest) = self.buf.split_at(n);
        self.buf = rest;
        Ok(head)
    }

    /// Reads a big-endian `u32`.
    pub fn u32(&mut self) -> Result<u32, DecodeError> {
        let b = self.take(4)?;
        Ok(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }

    /// Reads a big-endian `u64`.
    pub fn u64(&mut self) -> Result<u64, DecodeError> {
        let b = self.take(8)?;
        let mut a = [0u8; 8];
        a.copy_from_slice(b);
        Ok(u64::from_be_bytes(a))
    }

    /// Reads an unsigned LEB128 varint, rejecting overlong and oversized ones.
    pub fn varint(&mut self) -> Result<u64, DecodeError> {
        let mut v: u64 = 0;
        for i in 0..10 {
            let b = self.u8()?;
            let bits = u64::from(b & 0x7F);
            if i == 9 && bits > 1 {
                return Err(DecodeError("varint overflow"));
            }
            v |= bits << (7 * i);
            if b & 0x80 == 0 {
                if i > 0 && b == 0 {
                    return Err(DecodeError("overlong varint"));
                }
                return Ok(v);
            }
        }
        Err(DecodeError("varint too long"))
    }

    /// Reads a varint used as a length or count, bounded by what is left so
    /// that a corrupt count cannot make the decoder allocate wildly.
    pub fn len(&mut self) -> Result<usize, DecodeError> {
        let n = self.varint()?;
        if n > self.buf.len() as u64 {
            return Err(DecodeError("length past end"));
        }
        Ok(n as usize)
    }

    /// Reads a length-prefixed byte string.
    pub fn bytes(&mut self) -> Result<&'a [u8], DecodeError> {
        let n = self.len()?;
        self.take(n)
    }

    /// Reads a length-prefixed UTF-8 string.
    pub fn str(&mut self) -> Result<&'a str, DecodeError> {
        std::str::from_utf8(self.bytes()?).map_err(|_| DecodeError("invalid utf-8"))
    }

    fn number(&mut self) -> Result<Number, DecodeError> {
        let text = self.str()?;
        let n = Number::parse(text).map_err(|_| DecodeError("invalid number"))?;
        // Stored numbers are canonical; anything else was not written by us.
        if n.to_string() != text {
            return Err(DecodeError("non-canonical number"));
        }
        Ok(n)
    }
}

/// Encodes an item record.
pub fn encode_item(item: &Item, out: &mut Vec<u8>) {
    out.push(ITEM_VERSION);
    put_varint(out, item.len() as u64);
    for (name, value) in item {
        put_bytes(out, name.as_bytes());
        encode_value(value, out);
    }
}

fn encode_value(value: &AttributeValue, out: &mut Vec<u8>) {
    match value {
        AttributeValue::S(s) => {
            out.push(TAG_S);
            put_bytes(out, s.as_bytes());
        }
        AttributeValue::N(n) => {
            out.push(TAG_N);
            put_bytes(out, n.to_string().as_bytes());
        }
        AttributeValue::B(b) => {
            out.push(TAG_B);
            put_bytes(out, b);
        }
        AttributeValue::Bool(false) => out.push(TAG_FALSE),
        AttributeValue::Bool(true) => out.push(TAG_TRUE),
        AttributeValue::Null => out.push(TAG_NULL),
        AttributeValue::M(m) => {
            out.push(TAG_M);
            put_varint(out, m.len() as u64);
            for (k, v) in m {
                put_bytes(out, k.as_bytes());
                encode_value(v, out);
            }
        }
        AttributeValue::L(l) => {
            out.push(TAG_L);
            put_varint(out, l.len() as u64);
            for v in l {
                encode_value(v, out);
            }
        }
        AttributeValue::Ss(v) => {
            out.push(TAG_SS);
            put_varint(out, v.len() as u64);
            for s in v {
                put_bytes(out, s.as_bytes());
            }
        }
        AttributeValue::Ns(v) => {
            out.push(TAG_NS);
            put_varint(out, v.len() as u64);
            for n in v {
                put_bytes(out, n.to_string().as_bytes());
            }
        }
        AttributeValue::Bs(v) => {
            out.push(TAG_BS);
            put_varint(out, v.len() as u64);
            for b in v {
                put_bytes(out, b);
            }
        }
    }
}

/// Decodes an item record.
pub fn decode_item(buf: &[u8]) -> Result<Item, DecodeError> {
    let mut r = Reader::new(buf);
    if r.u8()? != ITEM_VERSION {
        return Err(DecodeError("unknown item version"));
    }
    let item = decode_map(&mut r, 1)?;
    if !r.is_empty() {
        return Err(DecodeError("trailing bytes"));
    }
    Ok(item)
}

/// Names are written in sorted order (an item is a `BTreeMap`), so a
/// record has one encoding: names out of order or repeated are corruption.
fn decode_map(r: &mut Reader<'_>, depth: usize) -> Result<Item, DecodeError> {
    let n = r.len()?;
    let mut map = Item::new();
    for _ in 0..n {
        let name = r.str()?;
        if map
            .last_key_value()
            .is_some_and(|(last, _)| last.as_str() >= name)
        {
            return Err(DecodeError("attribute names out of order"));
        }
        let value = decode_value(r, depth)?;
        map.insert(name.to_owned(), value);
    }
    Ok(map)
}

fn decode_value(r: &mut Reader<'_>, depth: usize) -> Result<AttributeValue, DecodeError> {
    if depth > DEPTH_MAX {
        return Err(DecodeError("nesting too deep"));
    }
    Ok(match r.u8()? {
        TAG_S => AttributeValue::S(r.str()?.to_owned()),
        TAG_N => AttributeValue::N(r.number()?),
        TAG_B => AttributeValue::B(r.bytes()?.to_vec()),
        TAG_FALSE => AttributeValue::Bool(false),
        TAG_TRUE => AttributeValue::Bool(true),
        TAG_NULL => AttributeValue::Null,
        TAG_M => AttributeValue::M(decode_map(r, depth + 1)?),
        TAG_L => {
            let n = r.len()?;
            let mut l = Vec::with_capacity(n);
            for _ in 0..n {
                l.push(decode_value(r, depth + 1)?);
            }
            AttributeValue::L(l)
        }
        TAG_SS => {
            let n = r.len()?;
            let mut v = Vec::with_capacity(n);
            for _ in 0..n {
                v.push(r.str()?.to_owned());
            }
            AttributeValue::Ss(v)
        }
        TAG_NS => {
            let n = r.len()?;
            let mut v = Vec::with_capacity(n);
            for _ in 0..n {
                v.push(r.number()?);
            }
            AttributeValue::Ns(v)
        }
        TAG_BS => {
            let n = r.len()?;
            let mut v = Vec::with_capacity(n);
            for _ in 0..n {
                v.push(r.bytes()?.to_vec());
            }
            AttributeValue::Bs(v)
        }
        _ => return Err(DecodeError("unknown value tag")),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Found by the `decode_records` fuzz target: names out of order
    /// decoded (and re-encoded sorted), so one item had several encodings.
    #[test]
    fn attribute_names_out_of_order_or_repeated_are_corrupt() {
        // version 1, two attributes "b" then "a", both NULL.
        let unsorted = [ITEM_VERSION, 2, 1, b'b', TAG_NULL, 1, b'a', TAG_NULL];
        assert_eq!(
            decode_item(&unsorted),
            Err(DecodeError("attribute names out of order"))
        );
        let repeated = [ITEM_VERSION, 2, 1, b'a', TAG_NULL, 1, b'a', TAG_NULL];
        assert!(decode_item(&repeated).is_err());
        let sorted = [ITEM_VERSION, 2, 1, b'a', TAG_NULL, 1, b'b', TAG_NULL];
        let item = decode_item(&sorted).expect("sorted names decode");
        let mut again = Vec::new();
        encode_item(&item, &mut again);
        assert_eq!(again, sorted);
    }

    fn arb_value() -> impl Strategy<Value = AttributeValue> {
        let leaf = prop_oneof![
            ".{0,8}".prop_map(AttributeValue::S),
            (-1_000_000i64..1_000_000).prop_map(|n| AttributeValue::N(Number::from_i64(n))),
            proptest::collection::vec(any::<u8>(), 0..8).prop_map(AttributeValue::B),
            any::<bool>().prop_map(AttributeValue::Bool),
            Just(AttributeValue::Null),
            proptest::collection::btree_set(".{0,4}", 1..4)
                .prop_map(|s| AttributeValue::Ss(s.into_iter().collect())),
            proptest::collection::btree_set(any::<i32>(), 1..4).prop_map(|s| {
                AttributeValue::Ns(s.into_iter().map(|n| Number::from_i64(n.into())).collect())
            }),
            proptest::collection::btree_set(proptest::collection::vec(any::<u8>(), 0..4), 1..4)
                .prop_map(|s| AttributeValue::Bs(s.into_iter().collect())),
        ];
        leaf.prop_recursive(4, 32, 4, |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..4).prop_map(AttributeValue::L),
                proptest::collection::btree_map(".{0,4}", inner, 0..4).prop_map(AttributeValue::M),
            ]
        })
    }

    proptest! {
        #[test]
        fn item_records_round_trip(item in proptest::collection::btree_map(".{1,6}", arb_value(), 0..6)) {
            let mut buf = Vec::new();
            encode_item(&item, &mut buf);
            prop_assert_eq!(decode_item(&buf), Ok(item));
        }

        #[test]
        fn decoding_arbitrary_bytes_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..64)) {
            let _ = decode_item(&bytes);
        }

        #[test]
        fn varints_round_trip(v in any::<u64>()) {
            let mut buf = Vec::new();
            put_varint(&mut buf, v);
            let mut r = Reader::new(&buf);
            prop_assert_eq!(r.varint(), Ok(v));
            prop_assert!(r.is_empty());
        }
    }

    #[test]
    fn truncated_and_trailing_records_are_rejected() {
        let mut item = Item::new();
        item.insert("a".into(), AttributeValue::S("hello".into()));
        let mut buf = Vec::new();
        encode_item(&item, &mut buf);
        for cut in 0..buf.len() {
            assert!(
                decode_item(&buf[..cut]).is_err(),
                "prefix of {cut} bytes decoded"
            );
        }
        buf.push(0);
        assert_eq!(decode_item(&buf), Err(DecodeError("trailing bytes")));
    }

    #[test]
    fn overlong_varints_are_rejected() {
        let mut r = Reader::new(&[0x80, 0x00]);
        assert_eq!(r.varint(), Err(DecodeError("overlong varint")));
    }
}
