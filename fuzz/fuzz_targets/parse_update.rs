//! UpdateExpression: the parser never panics, its errors name the
//! parameter, and whatever parses prints as text that parses to the same
//! tree (when the printed text, which is spaced, still fits the size limit).

#![no_main]

use libfuzzer_sys::fuzz_target;
use tarn_expr::parse::{parse_update, EXPRESSION_BYTES_MAX};

fuzz_target!(|text: &str| {
    match parse_update(text) {
        Ok(tree) => {
            let printed = tree.to_string();
            if printed.len() <= EXPRESSION_BYTES_MAX {
                assert_eq!(parse_update(&printed), Ok(tree), "{text:?} -> {printed:?}");
            }
        }
        Err(e) => assert!(
            e.message.starts_with("Invalid UpdateExpression: "),
            "{}",
            e.message
        ),
    }
});
