//! Identifiers in UUID form, derived from a hash rather than drawn at
//! random, so that a caller decides what makes them unique.

/// The 16 bytes as a version-4-shaped UUID (`xxxxxxxx-xxxx-4xxx-yxxx-…`,
/// lowercase), as AWS formats message ids, table ids and the like.
pub fn uuid(bytes: &[u8; 16]) -> String {
    let mut b = *bytes;
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    hyphenated(&b)
}

/// The 16 bytes in UUID layout (8-4-4-4-12 lowercase hex digits) as they
/// are, without version or variant bits.
pub fn hyphenated(b: &[u8; 16]) -> String {
    let hex: String = b.iter().map(|x| format!("{x:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &hex[..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn uuids_have_the_version_and_variant_bits() {
        let u = super::uuid(&[0xff; 16]);
        assert_eq!(u, "ffffffff-ffff-4fff-bfff-ffffffffffff");
        assert_eq!(
            super::uuid(&[0; 16]),
            "00000000-0000-4000-8000-000000000000"
        );
        assert_eq!(
            super::hyphenated(&[0xff; 16]),
            "ffffffff-ffff-ffff-ffff-ffffffffffff"
        );
    }
}
