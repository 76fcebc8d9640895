//! The CBOR error renderer (Kinesis' `application/x-amz-cbor-1.1`): the
//! awsJson body's members as a CBOR map, status 400.
//!
//! The map is written as Kinesis writes it (an indefinite-length map of
//! text strings, kinesalite's AWS-verified bytes); nothing else of CBOR is
//! needed yet, so no CBOR crate is. The Kinesis operations, which decode
//! CBOR requests, will bring one.

use super::failure::Failure;
use super::reply::{Reply, CBOR_1_1};

/// CBOR major type 3 (text string) with its length.
fn text(out: &mut Vec<u8>, s: &str) {
    let len = s.len();
    match len {
        0..=23 => out.push(0x60 | len as u8),
        24..=0xff => out.extend_from_slice(&[0x78, len as u8]),
        0x100..=0xffff => {
            out.push(0x79);
            out.extend_from_slice(&(len as u16).to_be_bytes());
        }
        _ => {
            out.push(0x7a);
            out.extend_from_slice(&(len as u32).to_be_bytes());
        }
    }
    out.extend_from_slice(s.as_bytes());
}

/// `{"__type": name, "message": message}` as an indefinite-length map.
pub(crate) fn error_body(type_name: &str, message: Option<&str>) -> Vec<u8> {
    let mut out = Vec::with_capacity(64);
    out.push(0xbf);
    text(&mut out, "__type");
    text(&mut out, type_name);
    if let Some(m) = message {
        text(&mut out, "message");
        text(&mut out, m);
    }
    out.push(0xff);
    out
}

/// Renders a failure as CBOR.
pub(crate) fn render(f: &Failure) -> Reply {
    let type_name = format!("{}{}", f.json_namespace, f.name);
    Reply::new(
        f.status,
        Some(CBOR_1_1),
        error_body(&type_name, f.message.as_deref()),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinesis_unknown_operation_has_kinesis_bytes() {
        let mut want = vec![0xbf, 0x66];
        want.extend_from_slice(b"__type");
        want.push(0x78);
        want.push(0x19);
        want.extend_from_slice(b"UnknownOperationException");
        want.push(0xff);
        assert_eq!(error_body("UnknownOperationException", None), want);
    }

    #[test]
    fn long_texts_get_longer_heads() {
        let mut out = Vec::new();
        text(&mut out, &"x".repeat(300));
        assert_eq!(&out[..3], &[0x79, 0x01, 0x2c]);
        assert_eq!(out.len(), 303);
        let mut out = Vec::new();
        text(&mut out, "");
        assert_eq!(out, [0x60]);
    }
}
