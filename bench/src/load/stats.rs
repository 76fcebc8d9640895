//! Latency histograms and counters.
//!
//! Each worker records into its own [`Interval`] behind an uncontended
//! mutex; once a second the reporter swaps it for an empty one and folds it
//! into the run's [`Totals`]. Latencies are in microseconds, from 1 us to
//! 60 s at three significant digits (HdrHistogram), so a percentile is
//! within 0.1% of the true value.

use std::collections::BTreeMap;

use hdrhistogram::{Counter, Histogram};
use serde::Serialize;

/// The largest latency kept exactly; longer ones count as this.
pub const LATENCY_US_MAX: u64 = 60_000_000;

fn histogram<T: Counter>() -> Histogram<T> {
    // Constant, valid bounds.
    Histogram::new_with_bounds(1, LATENCY_US_MAX, 3).expect("valid histogram bounds")
}

/// One operation kind's measurements over an interval.
#[derive(Clone, Debug)]
pub struct KindInterval {
    pub ok: u64,
    pub errors: u64,
    /// From the intended send time (coordinated-omission corrected) in a
    /// fixed-rate run, from the actual send time otherwise.
    pub latency: Histogram<u64>,
    /// From the actual send time; only in a fixed-rate run.
    pub uncorrected: Option<Histogram<u64>>,
}

/// What one worker measured since the reporter last took it.
#[derive(Clone, Debug)]
pub struct Interval {
    pub kinds: Vec<KindInterval>,
    pub errors: BTreeMap<String, u64>,
    /// GetItem replies without an `Item`.
    pub misses: u64,
    /// Items a BatchWriteItem returned as `UnprocessedItems`.
    pub unprocessed: u64,
    /// SQS messages received and deleted.
    pub messages: u64,
    /// ReceiveMessage replies without a message (the queue ran dry).
    pub empty_receives: u64,
    /// Fixed rate: the longest a request waited past its intended send time
    /// because the previous reply was late.
    pub behind_us_max: u64,
}

impl Interval {
    pub fn new(kinds: usize, fixed_rate: bool) -> Self {
        Self {
            kinds: (0..kinds)
                .map(|_| KindInterval {
                    ok: 0,
                    errors: 0,
                    latency: histogram(),
                    uncorrected: fixed_rate.then(histogram),
                })
                .collect(),
            errors: BTreeMap::new(),
            misses: 0,
            unprocessed: 0,
            messages: 0,
            empty_receives: 0,
            behind_us_max: 0,
        }
    }

    pub fn record_ok(&mut self, kind: usize, latency_us: u64, uncorrected_us: u64) {
        let k = &mut self.kinds[kind];
        k.ok += 1;
        k.latency.saturating_record(latency_us.max(1));
        if let Some(u) = &mut k.uncorrected {
            u.saturating_record(uncorrected_us.max(1));
        }
    }

    pub fn record_error(&mut self, kind: usize, error_type: &str) {
        self.kinds[kind].errors += 1;
        match self.errors.get_mut(error_type) {
            Some(n) => *n += 1,
            None => {
                self.errors.insert(error_type.to_owned(), 1);
            }
        }
    }

    pub fn ops(&self) -> u64 {
        self.kinds.iter().map(|k| k.ok + k.errors).sum()
    }

    /// Empty it for reuse. Clearing a histogram touches all of its ~17k
    /// counters, so empty ones are skipped.
    pub fn clear(&mut self) {
        for k in &mut self.kinds {
            k.ok = 0;
            k.errors = 0;
            if !k.latency.is_empty() {
                k.latency.reset();
            }
            if let Some(u) = k.uncorrected.as_mut().filter(|u| !u.is_empty()) {
                u.reset();
            }
        }
        self.errors.clear();
        self.misses = 0;
        self.unprocessed = 0;
        self.messages = 0;
        self.empty_receives = 0;
        self.behind_us_max = 0;
    }
}

/// A worker's two intervals: before and after the warmup ends (by the
/// completion time of each operation).
#[derive(Clone, Debug)]
pub struct Slot {
    pub warmup: Interval,
    pub measured: Interval,
}

#[derive(Clone, Debug)]
pub struct KindTotals {
    pub ok: u64,
    pub errors: u64,
    pub latency: Histogram<u64>,
    pub uncorrected: Option<Histogram<u64>>,
}

/// Everything measured in one phase of the run.
#[derive(Clone, Debug)]
pub struct Totals {
    pub kinds: Vec<KindTotals>,
    /// All kinds together.
    pub all: KindTotals,
    pub errors: BTreeMap<String, u64>,
    pub misses: u64,
    pub unprocessed: u64,
    pub messages: u64,
    pub empty_receives: u64,
    pub behind_us_max: u64,
}

impl KindTotals {
    fn new(fixed_rate: bool) -> Self {
        Self {
            ok: 0,
            errors: 0,
            latency: histogram(),
            uncorrected: fixed_rate.then(histogram),
        }
    }

    fn absorb(&mut self, k: &KindInterval) {
        self.ok += k.ok;
        self.errors += k.errors;
        // Same bounds on both sides, so adding cannot fail. Adding walks
        // every counter, so empty histograms are skipped.
        if !k.latency.is_empty() {
            let _ = self.latency.add(&k.latency);
        }
        if let (Some(mine), Some(theirs)) = (&mut self.uncorrected, &k.uncorrected) {
            if !theirs.is_empty() {
                let _ = mine.add(theirs);
            }
        }
    }
}

impl Totals {
    pub fn new(kinds: usize, fixed_rate: bool) -> Self {
        Self {
            kinds: (0..kinds).map(|_| KindTotals::new(fixed_rate)).collect(),
            all: KindTotals::new(fixed_rate),
            errors: BTreeMap::new(),
            misses: 0,
            unprocessed: 0,
            messages: 0,
            empty_receives: 0,
            behind_us_max: 0,
        }
    }

    pub fn absorb(&mut self, iv: &Interval) {
        for (mine, theirs) in self.kinds.iter_mut().zip(&iv.kinds) {
            mine.absorb(theirs);
            self.all.absorb(theirs);
        }
        for (ty, n) in &iv.errors {
            *self.errors.entry(ty.clone()).or_default() += n;
        }
        self.misses += iv.misses;
        self.unprocessed += iv.unprocessed;
        self.messages += iv.messages;
        self.empty_receives += iv.empty_receives;
        self.behind_us_max = self.behind_us_max.max(iv.behind_us_max);
    }
}

/// Percentiles of a latency histogram, in microseconds.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Latency {
    pub p50: u64,
    pub p90: u64,
    pub p99: u64,
    #[serde(rename = "p99.9")]
    pub p99_9: u64,
    pub max: u64,
    pub mean: f64,
}

impl Latency {
    /// `None` for an empty histogram.
    pub fn of(h: &Histogram<u64>) -> Option<Self> {
        (!h.is_empty()).then(|| Self {
            p50: h.value_at_quantile(0.50),
            p90: h.value_at_quantile(0.90),
            p99: h.value_at_quantile(0.99),
            p99_9: h.value_at_quantile(0.999),
            max: h.max(),
            mean: (h.mean() * 10.0).round() / 10.0,
        })
    }
}

/// One row of the report.
#[derive(Clone, Debug, Serialize)]
pub struct OpSummary {
    pub count: u64,
    pub errors: u64,
    pub ops_per_s: f64,
    /// Corrected for coordinated omission in a fixed-rate run.
    pub latency_us: Option<Latency>,
    /// Fixed-rate runs only: from the actual send time.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub latency_uncorrected_us: Option<Latency>,
}

impl OpSummary {
    pub fn of(k: &KindTotals, seconds: f64) -> Self {
        Self {
            count: k.ok,
            errors: k.errors,
            ops_per_s: if seconds > 0.0 {
                ((k.ok as f64 / seconds) * 10.0).round() / 10.0
            } else {
                0.0
            },
            latency_us: Latency::of(&k.latency),
            latency_uncorrected_us: k.uncorrected.as_ref().and_then(Latency::of),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn intervals_fold_into_totals() {
        let mut a = Interval::new(2, true);
        let mut b = Interval::new(2, true);
        for us in 1..=1000 {
            a.record_ok(0, us, us / 2);
        }
        b.record_ok(1, 5_000, 5_000);
        b.record_error(1, "ThrottlingException");
        b.record_error(0, "ThrottlingException");
        b.record_error(0, "Timeout");
        let mut t = Totals::new(2, true);
        t.absorb(&a);
        t.absorb(&b);
        assert_eq!(t.kinds[0].ok, 1000);
        assert_eq!(t.kinds[0].errors, 2);
        assert_eq!(t.kinds[1].ok, 1);
        assert_eq!(t.all.ok, 1001);
        assert_eq!(t.errors["ThrottlingException"], 2);
        assert_eq!(t.errors["Timeout"], 1);
        let l = Latency::of(&t.kinds[0].latency).expect("some");
        assert!((499..=501).contains(&l.p50), "{l:?}");
        assert!((989..=991).contains(&l.p99), "{l:?}");
        assert_eq!(l.max, 1000);
        let u = Latency::of(t.kinds[0].uncorrected.as_ref().expect("fixed rate")).expect("some");
        assert!(u.p50 < l.p50);
        assert_eq!(a.ops(), 1000);
        a.clear();
        assert_eq!(a.ops(), 0);
        assert!(a.kinds[0].latency.is_empty());
    }

    #[test]
    fn huge_latencies_saturate_instead_of_failing() {
        let mut a = Interval::new(1, false);
        a.record_ok(0, u64::MAX, 0);
        a.record_ok(0, 0, 0);
        let mut t = Totals::new(1, false);
        t.absorb(&a);
        let l = Latency::of(&t.all.latency).expect("some");
        assert!(l.max >= LATENCY_US_MAX);
        assert_eq!(t.all.ok, 2);
        assert!(t.all.uncorrected.is_none());
    }

    #[test]
    fn summaries_serialize_percentiles_by_name() {
        let mut a = Interval::new(1, false);
        a.record_ok(0, 100, 100);
        let mut t = Totals::new(1, false);
        t.absorb(&a);
        let v = serde_json::to_value(OpSummary::of(&t.all, 2.0)).expect("json");
        assert_eq!(v["count"], 1);
        assert_eq!(v["ops_per_s"], 0.5);
        assert_eq!(v["latency_us"]["p99.9"], 100);
        assert!(v.get("latency_uncorrected_us").is_none());
    }
}
