//! Time: the wall clock in milliseconds, and the engine-wide hybrid clock
//! that stamps recovery-log records.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

/// Low bits of a stamp that count changes within one millisecond.
pub(crate) const COUNTER_BITS: u32 = 20;

/// Milliseconds since the epoch (0 if the clock is before it).
pub(crate) fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

/// The engine-wide hybrid clock of undo records: milliseconds in the high
/// bits, a counter in the low ones; strictly increasing even if the wall
/// clock steps back.
#[derive(Default)]
pub(crate) struct Clock(AtomicU64);

impl Clock {
    /// The next stamp.
    pub(crate) fn next(&self) -> u64 {
        let now = now_ms() << COUNTER_BITS;
        let mut prev = self.0.load(Ordering::Acquire);
        loop {
            let next = now.max(prev + 1);
            match self
                .0
                .compare_exchange_weak(prev, next, Ordering::AcqRel, Ordering::Acquire)
            {
                Ok(_) => return next,
                Err(p) => prev = p,
            }
        }
    }

    /// Moves the clock past `stamp`.
    pub(crate) fn advance_past(&self, stamp: u64) {
        self.0.fetch_max(stamp, Ordering::AcqRel);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stamps_strictly_increase() {
        let c = Clock::default();
        let a = c.next();
        let b = c.next();
        assert!(b > a);
        c.advance_past(u64::MAX / 2);
        assert!(c.next() > u64::MAX / 2);
    }
}
