//! Wall-clock helpers: epoch milliseconds and the date formats Lambda
//! writes.

/// Milliseconds since the epoch.
pub fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

/// (year, month, day) of a Unix time in seconds (UTC), by Howard
/// Hinnant's civil-from-days algorithm.
pub fn civil_date(secs: u64) -> (i64, u32, u32) {
    let z = (secs / 86_400) as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// `2026-12-05T01:02:03.456Z`.
pub fn iso_ms(ms: u64) -> String {
    let (y, mo, d) = civil_date(ms / 1000);
    let s = (ms / 1000) % 86_400;
    format!(
        "{y:04}-{mo:02}-{d:02}T{:02}:{:02}:{:02}.{:03}Z",
        s / 3600,
        (s / 60) % 60,
        s % 60,
        ms % 1000
    )
}

/// Lambda's `LastModified`: `2026-12-05T01:02:03.456+0000`.
pub fn last_modified(ms: u64) -> String {
    let iso = iso_ms(ms);
    format!("{}+0000", iso.trim_end_matches('Z'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_utc_calendar_dates() {
        assert_eq!(iso_ms(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(iso_ms(1_709_251_199_999), "2024-02-29T23:59:59.999Z");
        assert_eq!(last_modified(1_000), "1970-01-01T00:00:01.000+0000");
    }
}
