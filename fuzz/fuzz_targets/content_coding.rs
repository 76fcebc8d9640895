//! The HTTP content-coding decoders: any `Content-Encoding` value over any
//! body never panics and never yields more than the limit; a body the
//! server compressed always decodes back; any `Accept-Encoding` value
//! negotiates without panicking. The first byte is the header's length,
//! the header follows, the rest is the body.

#![no_main]

use libfuzzer_sys::fuzz_target;
use tarn_server::coding::{decode, encode, negotiate, parse_content_encoding, Coding};

/// Small, so that bombs hit it quickly.
const LIMIT_BYTES: usize = 64 * 1024;

fuzz_target!(|data: &[u8]| {
    let Some((&n, rest)) = data.split_first() else {
        return;
    };
    let (header, body) = rest.split_at(usize::from(n).min(rest.len()));
    let _ = negotiate(Some(header));
    if let Ok(codings) = parse_content_encoding([header]) {
        match decode(&codings, body, LIMIT_BYTES) {
            Ok(plain) => {
                assert!(plain.len() <= LIMIT_BYTES.max(body.len()));
                if codings.is_empty() {
                    assert_eq!(plain, body);
                }
            }
            Err(_) => assert!(!codings.is_empty(), "a plain body always decodes"),
        }
    }
    if body.len() <= LIMIT_BYTES {
        for coding in [Coding::Gzip, Coding::Deflate] {
            let z = encode(coding, body).expect("encode");
            assert_eq!(decode(&[coding], &z, LIMIT_BYTES).as_deref(), Ok(body));
        }
    }
});
