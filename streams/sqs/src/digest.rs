//! The digests SQS returns and the SDKs may check: `MD5OfMessageBody`
//! (MD5 of the body's UTF-8 bytes) and `MD5OfMessageAttributes` /
//! `MD5OfMessageSystemAttributes`: MD5 over the attributes sorted by name,
//! each as `len(name) u32 BE | name | len(type) u32 BE | type | 1 | len
//! u32 BE | UTF-8 string` for `String`/`Number` types, `2 | len | bytes`
//! for `Binary` types (the SQS developer guide, "Calculating the MD5
//! message digest for message attributes").

use std::collections::BTreeMap;

use md5::{Digest, Md5};

use crate::codec::{AttrValue, MessageAttribute};

fn hex(d: &[u8]) -> String {
    use std::fmt::Write;
    let mut s = String::with_capacity(32);
    for b in d {
        let _ = write!(s, "{b:02x}");
    }
    s
}

/// MD5 of a body, lowercase hex.
pub fn body(body: &str) -> String {
    hex(&Md5::digest(body.as_bytes()))
}

fn put(h: &mut Md5, bytes: &[u8]) {
    // Names, types and values are bounded by the message size.
    h.update((bytes.len() as u32).to_be_bytes());
    h.update(bytes);
}

/// MD5 of a set of attributes, lowercase hex; `None` when empty (SQS
/// omits the digest then).
pub fn attributes<'a>(
    attrs: impl IntoIterator<Item = (&'a String, &'a MessageAttribute)>,
) -> Option<String> {
    let sorted: BTreeMap<&String, &MessageAttribute> = attrs.into_iter().collect();
    if sorted.is_empty() {
        return None;
    }
    let mut h = Md5::new();
    for (name, a) in sorted {
        put(&mut h, name.as_bytes());
        put(&mut h, a.data_type.as_bytes());
        match &a.value {
            AttrValue::String(s) => {
                h.update([1]);
                put(&mut h, s.as_bytes());
            }
            AttrValue::Binary(b) => {
                h.update([2]);
                put(&mut h, b);
            }
        }
    }
    Some(hex(&h.finalize()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digests_match_known_values() {
        // RFC 1321 test suite.
        assert_eq!(body(""), "d41d8cd98f00b204e9800998ecf8427e");
        assert_eq!(body("abc"), "900150983cd24fb0d6963f7d28e17f72");
        // From moto's test_sqs.py (test_message_with_attributes_have_labels
        // / test_send_receive_message_with_attributes, verified against AWS).
        let mut attrs = BTreeMap::new();
        attrs.insert(
            "timestamp".to_owned(),
            MessageAttribute {
                data_type: "Number".into(),
                value: AttrValue::String("1493147359900".into()),
            },
        );
        assert_eq!(
            attributes(&attrs).as_deref(),
            Some("235c5c510d26fb653d073faed50ae77c")
        );
        assert_eq!(body("derp"), "58fd9edd83341c29f1aebba81c31e257");
        for (name, value, digest) in [
            (
                "timestamp",
                "1493147359901",
                "994258b45346a2cc3f9cbb611aa7af30",
            ),
            (
                "SOME_Valid.attribute-Name",
                "1493147359900",
                "36655e7e9d7c0e8479fa3f3f42247ae7",
            ),
        ] {
            let one: BTreeMap<String, MessageAttribute> = [(
                name.to_owned(),
                MessageAttribute {
                    data_type: "Number".into(),
                    value: AttrValue::String(value.into()),
                },
            )]
            .into();
            assert_eq!(attributes(&one).as_deref(), Some(digest), "{name}");
        }
        let mut bin = BTreeMap::new();
        bin.insert(
            "somevalue".to_owned(),
            MessageAttribute {
                data_type: "Binary".into(),
                value: AttrValue::Binary(b"binaryvalue".to_vec()),
            },
        );
        assert!(attributes(&bin).is_some());
        assert_eq!(attributes(&BTreeMap::new()), None);
    }
}
