//! ConditionExpression, FilterExpression and KeyConditionExpression: the
//! parser never panics, its errors name the parameter, and whatever parses
//! prints as text that parses to the same tree (when the printed text, which
//! is spaced and parenthesised, still fits the size limit).

#![no_main]

use libfuzzer_sys::fuzz_target;
use tarn_expr::parse::{parse_condition, EXPRESSION_BYTES_MAX};
use tarn_expr::ExprKind;

fuzz_target!(|text: &str| {
    for (kind, prefix) in [
        (ExprKind::Condition, "Invalid ConditionExpression: "),
        (ExprKind::Filter, "Invalid FilterExpression: "),
        (ExprKind::KeyCondition, "Invalid KeyConditionExpression: "),
    ] {
        match parse_condition(text, kind) {
            Ok(tree) => {
                let printed = tree.to_string();
                if printed.len() <= EXPRESSION_BYTES_MAX {
                    let again = parse_condition(&printed, kind);
                    assert_eq!(again, Ok(tree), "{text:?} -> {printed:?}");
                }
            }
            Err(e) => assert!(e.message.starts_with(prefix), "{text:?}: {}", e.message),
        }
    }
});
