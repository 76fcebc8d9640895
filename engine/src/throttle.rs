//! Throughput enforcement (off unless asked for): token buckets per table
//! and per global index, in read and write units.
//!
//! A provisioned table or GSI gets a bucket per side that refills at its
//! provisioned rate and holds at most `burst_seconds` of it (DynamoDB keeps
//! up to 300 seconds of unused capacity); it starts full. An on-demand
//! table with `OnDemandThroughput` maxima gets buckets holding one second
//! of its maximum. A request is admitted while the buckets it needs hold
//! anything, and then charged what it actually consumed, so a bucket can
//! dip below zero and must refill before the next request: that is how a
//! large item can pass on a nearly empty bucket, as in DynamoDB. Writes
//! need the table's and every GSI's write bucket, so a GSI that is out of
//! write capacity throttles writes to its table.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Instant;

use crate::catalog::{BillingMode, TableDef};
use crate::error::{Error, Result, Throttled};
use crate::guard::lock;
use crate::index::IndexKind;

/// Which capacity a request uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Side {
    /// Read units.
    Read,
    /// Write units.
    Write,
}

struct Bucket {
    tokens: f64,
    rate: f64,
    capacity: f64,
    refilled: Instant,
}

impl Bucket {
    fn refill(&mut self, rate: f64, capacity: f64, now: Instant) {
        // A throughput change takes effect at once, keeping what is saved.
        self.rate = rate;
        self.capacity = capacity;
        let elapsed = now.duration_since(self.refilled).as_secs_f64();
        self.tokens = (self.tokens + elapsed * rate).min(capacity);
        self.refilled = now;
    }
}

/// The buckets of every table and index, keyed by id and side.
pub(crate) struct Buckets {
    enabled: bool,
    burst_seconds: f64,
    buckets: Mutex<HashMap<(u32, Side), Bucket>>,
}

/// A bucket's id, rate and what running out of it is called.
type Limit = (u32, f64, f64, Throttled);

impl Buckets {
    pub(crate) fn new(enabled: bool, burst_seconds: u64) -> Buckets {
        Buckets {
            enabled,
            burst_seconds: burst_seconds.max(1) as f64,
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// True when throughput is enforced.
    pub(crate) fn enabled(&self) -> bool {
        self.enabled
    }

    /// The buckets a request on `def` (reading `index`, if any) needs.
    fn limits(&self, def: &TableDef, side: Side, index: Option<&str>) -> Vec<Limit> {
        let pick = |read: u64, write: u64| match side {
            Side::Read => read,
            Side::Write => write,
        } as f64;
        let mut out = Vec::new();
        match def.billing_mode {
            BillingMode::Provisioned => {
                let gsi = index
                    .and_then(|n| def.index(n))
                    .filter(|i| i.kind == IndexKind::Global);
                match (side, gsi) {
                    // A GSI read uses the GSI's read capacity only.
                    (Side::Read, Some(i)) => {
                        let rate = pick(i.read_units, i.write_units);
                        out.push((i.id, rate, rate * self.burst_seconds, Throttled::Index));
                    }
                    _ => {
                        let t = &def.throughput;
                        let rate = pick(t.read_units, t.write_units);
                        out.push((def.id, rate, rate * self.burst_seconds, Throttled::Table));
                        if side == Side::Write {
                            for i in def
                                .indexes
                                .iter()
                                .filter(|i| i.kind == IndexKind::Global && i.maintained())
                            {
                                let rate = i.write_units as f64;
                                out.push((i.id, rate, rate * self.burst_seconds, Throttled::Index));
                            }
                        }
                    }
                }
            }
            BillingMode::PayPerRequest => {
                if let Some((read, write)) = def.settings.on_demand {
                    let max = match side {
                        Side::Read => read,
                        Side::Write => write,
                    };
                    if max > 0 {
                        out.push((def.id, max as f64, max as f64, Throttled::OnDemand));
                    }
                }
            }
        }
        out
    }

    /// Admits a request when every bucket it needs holds capacity.
    pub(crate) fn admit(&self, def: &TableDef, side: Side, index: Option<&str>) -> Result<()> {
        if !self.enabled {
            return Ok(());
        }
        let now = Instant::now();
        let mut buckets = lock(&self.buckets);
        for (id, rate, capacity, throttled) in self.limits(def, side, index) {
            let b = buckets.entry((id, side)).or_insert(Bucket {
                tokens: capacity,
                rate,
                capacity,
                refilled: now,
            });
            b.refill(rate, capacity, now);
            if b.tokens <= 0.0 {
                return Err(Error::Throttled(throttled));
            }
        }
        Ok(())
    }

    /// Charges what a request consumed: `table_units` to the table (or,
    /// for a GSI read, the index) and each GSI write arm to its index.
    pub(crate) fn charge(
        &self,
        def: &TableDef,
        side: Side,
        index: Option<&str>,
        table_units: f64,
        index_units: &[(String, f64)],
    ) {
        if !self.enabled {
            return;
        }
        let mut buckets = lock(&self.buckets);
        let mut take = |id: u32, units: f64| {
            if let Some(b) = buckets.get_mut(&(id, side)) {
                b.tokens -= units;
            }
        };
        let gsi = index
            .and_then(|n| def.index(n))
            .filter(|i| i.kind == IndexKind::Global);
        match (side, gsi) {
            (Side::Read, Some(i)) => take(i.id, table_units),
            _ => {
                take(def.id, table_units);
                for (name, units) in index_units {
                    if let Some(i) = def.index(name).filter(|i| i.kind == IndexKind::Global) {
                        take(i.id, *units);
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_refill_at_their_rate_up_to_their_capacity() {
        let t0 = Instant::now();
        let mut b = Bucket {
            tokens: 0.0,
            rate: 5.0,
            capacity: 10.0,
            refilled: t0,
        };
        b.refill(5.0, 10.0, t0 + std::time::Duration::from_millis(1000));
        assert!((b.tokens - 5.0).abs() < 1e-9);
        b.refill(5.0, 10.0, t0 + std::time::Duration::from_secs(60));
        assert_eq!(b.tokens, 10.0);
    }
}
