//! Order-preserving, self-delimiting encodings of key attribute values.
//!
//! The storage engine concatenates encoded key attributes into LSM keys, so an
//! encoding must (1) sort, as unsigned bytes, exactly as DynamoDB orders the
//! values, and (2) tell a decoder where it ends when more bytes follow.
//!
//! - `S` and `B`: the bytes (UTF-8 for strings), with `0x00` escaped as
//!   `0x00 0xFF`, then the terminator `0x00 0x00`. A shorter value that is a
//!   prefix of a longer one sorts first because the terminator's second byte
//!   `0x00` is below both any escaped zero (`0xFF`) and any continuing byte
//!   (which follows a non-zero first byte).
//! - `N`: see [`Number::encode_key`].
//!
//! The type is not part of the encoding: a key attribute's type is fixed by
//! the table's schema, and the decoder is told which type to expect.

use crate::{AttributeValue, Number, ScalarType};

/// A stored key that does not decode: corruption, never client input.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("malformed key encoding")]
pub struct KeyDecodeError;

/// Appends the encoding of `value` to `out`. Returns `false`, writing
/// nothing, when the value is not of a key type (`S`, `N`, `B`).
pub fn encode(value: &AttributeValue, out: &mut Vec<u8>) -> bool {
    match value {
        AttributeValue::S(s) => encode_bytes(s.as_bytes(), out),
        AttributeValue::B(b) => encode_bytes(b, out),
        AttributeValue::N(n) => n.encode_key(out),
        _ => return false,
    }
    true
}

fn encode_bytes(bytes: &[u8], out: &mut Vec<u8>) {
    out.reserve(bytes.len() + 2);
    for &b in bytes {
        out.push(b);
        if b == 0 {
            out.push(0xFF);
        }
    }
    out.extend_from_slice(&[0, 0]);
}

/// Decodes one value of type `ty` from the front of `input`, returning it and
/// the number of bytes it took.
pub fn decode(ty: ScalarType, input: &[u8]) -> Result<(AttributeValue, usize), KeyDecodeError> {
    match ty {
        ScalarType::S => {
            let (bytes, used) = decode_bytes(input)?;
            let s = String::from_utf8(bytes).map_err(|_| KeyDecodeError)?;
            Ok((AttributeValue::S(s), used))
        }
        ScalarType::B => {
            let (bytes, used) = decode_bytes(input)?;
            Ok((AttributeValue::B(bytes), used))
        }
        ScalarType::N => {
            let (n, used) = Number::decode_key(input).map_err(|_| KeyDecodeError)?;
            Ok((AttributeValue::N(n), used))
        }
    }
}

fn decode_bytes(input: &[u8]) -> Result<(Vec<u8>, usize), KeyDecodeError> {
    let mut out = Vec::with_capacity(input.len());
    let mut i = 0;
    while i < input.len() {
        let b = input[i];
        if b != 0 {
            out.push(b);
            i += 1;
            continue;
        }
        match input.get(i + 1) {
            Some(0xFF) => {
                out.push(0);
                i += 2;
            }
            Some(0) => return Ok((out, i + 2)),
            _ => return Err(KeyDecodeError),
        }
    }
    Err(KeyDecodeError)
}

/// The size DynamoDB counts against the key limits (2048 bytes for a
/// partition key, 1024 for a sort key): the value's own size, without the
/// attribute name. `None` for a non-key type.
pub fn value_size(value: &AttributeValue) -> Option<usize> {
    match value {
        AttributeValue::S(s) => Some(s.len()),
        AttributeValue::B(b) => Some(b.len()),
        AttributeValue::N(n) => Some(n.size_bytes()),
        _ => None,
    }
}

/// Compares two key values of the same type the way DynamoDB orders sort
/// keys: strings and binary by unsigned bytes, numbers by value. Values of
/// different or non-key types compare by type name, which only matters for
/// determinism.
pub fn compare(a: &AttributeValue, b: &AttributeValue) -> std::cmp::Ordering {
    match (a, b) {
        (AttributeValue::S(x), AttributeValue::S(y)) => x.as_bytes().cmp(y.as_bytes()),
        (AttributeValue::B(x), AttributeValue::B(y)) => x.cmp(y),
        (AttributeValue::N(x), AttributeValue::N(y)) => x.cmp(y),
        _ => a.type_name().cmp(b.type_name()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn enc(v: &AttributeValue) -> Vec<u8> {
        let mut out = Vec::new();
        assert!(encode(v, &mut out));
        out
    }

    #[test]
    fn strings_with_zero_bytes_round_trip_and_sort() {
        let a = AttributeValue::S("a".into());
        let a0 = AttributeValue::S("a\0".into());
        let a1 = AttributeValue::S("a\u{1}".into());
        assert!(enc(&a) < enc(&a0));
        assert!(enc(&a0) < enc(&a1));
        for v in [&a, &a0, &a1] {
            let mut bytes = enc(v);
            let len = bytes.len();
            bytes.extend_from_slice(&[0xFF, 0, 1]);
            assert_eq!(decode(ScalarType::S, &bytes), Ok((v.clone(), len)));
        }
    }

    #[test]
    fn non_key_types_are_not_encoded() {
        let mut out = Vec::new();
        assert!(!encode(&AttributeValue::Bool(true), &mut out));
        assert!(out.is_empty());
    }

    #[test]
    fn truncated_input_is_an_error() {
        assert_eq!(decode(ScalarType::B, &[1, 2, 0]), Err(KeyDecodeError));
        assert_eq!(decode(ScalarType::B, &[0, 7]), Err(KeyDecodeError));
        assert_eq!(decode(ScalarType::S, &[0xC3, 0, 0]), Err(KeyDecodeError));
    }
}
