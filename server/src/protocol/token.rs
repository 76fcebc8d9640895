//! Paging tokens and markers: opaque to clients, hex of a position the
//! service chooses (a key, a name), so that any bytes survive a JSON or
//! form round trip.

/// Lowercase hex of `bytes`.
pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The bytes of a hex string; `None` unless it is one.
pub(crate) fn unhex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn hex_round_trips_and_refuses_non_hex() {
        assert_eq!(super::hex(b"\x00a/"), "00612f");
        assert_eq!(super::unhex("00612f").as_deref(), Some(&b"\x00a/"[..]));
        for bad in ["0", "zz", "0g", "é0"] {
            assert_eq!(super::unhex(bad), None, "{bad}");
        }
    }
}
