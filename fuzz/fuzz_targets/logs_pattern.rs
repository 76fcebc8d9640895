//! CloudWatch Logs filter patterns: any text parses or is refused, and a
//! parsed pattern matches any message or not, never panicking.

#![no_main]

use libfuzzer_sys::fuzz_target;
use tarn_logs::Pattern;

fuzz_target!(|input: (&str, &str)| {
    let (pattern, message) = input;
    if let Ok(p) = Pattern::parse(pattern) {
        let _ = p.matches(message);
    }
});
