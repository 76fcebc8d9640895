//! Random numbers and key distributions, after YCSB's generators.
//!
//! - `Uniform`: every record equally likely.
//! - `Zipfian`: YCSB's *scrambled* zipfian. Ranks are drawn from a zipfian
//!   (theta 0.99) over a fixed space of ten billion items and hashed (FNV-1a
//!   64) onto the records, so the hot keys are spread over the key space
//!   instead of being the first few records.
//! - `Latest`: YCSB's skewed-latest. A zipfian over recency: the most
//!   recently inserted record is the most likely, then the one before it, ...
//!
//! The record count is passed to every draw, because workloads D and E insert
//! while they run and the key space grows.

/// A small, fast, non-cryptographic generator (wyrand). One per worker.
#[derive(Clone, Debug)]
pub struct Rng {
    state: u64,
}

impl Rng {
    pub fn new(seed: u64) -> Self {
        Self { state: seed }
    }

    pub fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0xa076_1d64_78bd_642f);
        let t = u128::from(self.state) * u128::from(self.state ^ 0xe703_7ed1_a0b4_28db);
        ((t >> 64) as u64) ^ (t as u64)
    }

    /// Uniform in `0..n` (`n > 0`), by multiply-shift: unbiased enough for
    /// benchmarking, and no division.
    pub fn below(&mut self, n: u64) -> u64 {
        debug_assert!(n > 0);
        ((u128::from(self.next_u64()) * u128::from(n)) >> 64) as u64
    }

    /// Uniform in `[0, 1)`.
    pub fn unit_f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }
}

/// YCSB's default zipfian constant.
pub const ZIPFIAN_THETA: f64 = 0.99;

/// The item space of YCSB's scrambled zipfian, and its precomputed zeta.
const SCRAMBLED_ITEMS: u64 = 10_000_000_000;
const SCRAMBLED_ZETAN: f64 = 26.469_028_201_783_02;

/// Largest item count for which zeta is summed term by term when the count
/// grows; past it the Euler-Maclaurin approximation is used, so that a draw
/// never costs more than a bounded amount of work.
const ZETA_SUM_MAX: u64 = 1_000_000;

/// `sum_{i=from}^{to-1} 1/(i+1)^theta`.
fn zeta_range(from: u64, to: u64, theta: f64) -> f64 {
    (from..to).map(|i| 1.0 / ((i + 1) as f64).powf(theta)).sum()
}

/// Approximate `zeta(n, theta)` for large `n` (Euler-Maclaurin, first terms;
/// relative error below 1e-6 for n >= 1000).
fn zeta_approx(n: u64, theta: f64) -> f64 {
    let head = 1000u64.min(n);
    let exact = zeta_range(0, head, theta);
    if n == head {
        return exact;
    }
    // sum_{k=head+1}^{n} k^-theta ~ integral + endpoint corrections.
    let a = head as f64 + 1.0;
    let b = n as f64;
    let integral = (b.powf(1.0 - theta) - a.powf(1.0 - theta)) / (1.0 - theta);
    let ends = (a.powf(-theta) + b.powf(-theta)) / 2.0;
    let slope = theta / 12.0 * (a.powf(-theta - 1.0) - b.powf(-theta - 1.0));
    exact + integral + ends + slope
}

/// A zipfian over `0..items`, rank 0 the most popular (Gray et al., "Quickly
/// generating billion-record synthetic databases", as YCSB implements it).
#[derive(Clone, Debug)]
pub struct Zipfian {
    theta: f64,
    alpha: f64,
    zeta2: f64,
    items: u64,
    zetan: f64,
    eta: f64,
}

impl Zipfian {
    pub fn new(items: u64, theta: f64) -> Self {
        let items = items.max(1);
        let zetan = if items <= ZETA_SUM_MAX {
            zeta_range(0, items, theta)
        } else {
            zeta_approx(items, theta)
        };
        Self::with_zeta(items, theta, zetan)
    }

    fn with_zeta(items: u64, theta: f64, zetan: f64) -> Self {
        let zeta2 = zeta_range(0, 2, theta);
        let mut z = Self {
            theta,
            alpha: 1.0 / (1.0 - theta),
            zeta2,
            items,
            zetan,
            eta: 0.0,
        };
        z.eta = z.eta_for(items);
        z
    }

    fn eta_for(&self, items: u64) -> f64 {
        (1.0 - (2.0 / items as f64).powf(1.0 - self.theta)) / (1.0 - self.zeta2 / self.zetan)
    }

    /// Move to `items` items, updating zeta incrementally when it grows by a
    /// little (the common case under inserts).
    fn resize(&mut self, items: u64) {
        let items = items.max(1);
        if items == self.items {
            return;
        }
        self.zetan = if items > self.items && items - self.items <= ZETA_SUM_MAX {
            self.zetan + zeta_range(self.items, items, self.theta)
        } else if items <= ZETA_SUM_MAX {
            zeta_range(0, items, self.theta)
        } else {
            zeta_approx(items, self.theta)
        };
        self.items = items;
        self.eta = self.eta_for(items);
    }

    /// A rank in `0..items`.
    pub fn next(&mut self, rng: &mut Rng, items: u64) -> u64 {
        self.resize(items);
        let u = rng.unit_f64();
        let uz = u * self.zetan;
        if uz < 1.0 {
            return 0;
        }
        if uz < 1.0 + 0.5f64.powf(self.theta) {
            return 1.min(self.items - 1);
        }
        let v = self.items as f64 * (self.eta * u - self.eta + 1.0).powf(self.alpha);
        (v as u64).min(self.items - 1)
    }
}

/// YCSB's 64-bit FNV hash of a rank (FNV-1 over the eight little-endian
/// bytes, then the absolute value as a signed number).
fn fnv_hash64(mut v: u64) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for _ in 0..8 {
        h ^= v & 0xff;
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
        v >>= 8;
    }
    (h as i64).unsigned_abs()
}

/// Which records a workload touches.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Distribution {
    /// Every record equally likely.
    Uniform,
    /// YCSB's scrambled zipfian (theta 0.99): a few hot keys, spread out.
    Zipfian,
    /// Zipfian over recency: the newest records are the hottest.
    Latest,
}

impl Distribution {
    pub fn name(self) -> &'static str {
        match self {
            Self::Uniform => "uniform",
            Self::Zipfian => "zipfian",
            Self::Latest => "latest",
        }
    }
}

/// A per-worker key chooser: the state of one `Distribution`.
#[derive(Clone, Debug)]
pub enum KeyChooser {
    Uniform,
    Zipfian(Zipfian),
    Latest(Zipfian),
}

impl KeyChooser {
    /// `records` is the record count expected at the start; it sizes the
    /// zipfian of `Latest` so the first draws need no zeta update.
    pub fn new(dist: Distribution, records: u64) -> Self {
        match dist {
            Distribution::Uniform => Self::Uniform,
            Distribution::Zipfian => Self::Zipfian(Zipfian::with_zeta(
                SCRAMBLED_ITEMS,
                ZIPFIAN_THETA,
                SCRAMBLED_ZETAN,
            )),
            Distribution::Latest => Self::Latest(Zipfian::new(records, ZIPFIAN_THETA)),
        }
    }

    /// A record id in `0..records` (`records > 0`).
    pub fn next(&mut self, rng: &mut Rng, records: u64) -> u64 {
        debug_assert!(records > 0);
        match self {
            Self::Uniform => rng.below(records),
            Self::Zipfian(z) => fnv_hash64(z.next(rng, SCRAMBLED_ITEMS)) % records,
            Self::Latest(z) => records - 1 - z.next(rng, records),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn histogram(dist: Distribution, records: u64, draws: u64) -> Vec<u64> {
        let mut rng = Rng::new(42);
        let mut chooser = KeyChooser::new(dist, records);
        let mut counts = vec![0u64; records as usize];
        for _ in 0..draws {
            let k = chooser.next(&mut rng, records);
            assert!(k < records, "{k} out of 0..{records}");
            counts[k as usize] += 1;
        }
        counts
    }

    /// Share of the draws that went to the most popular `fraction` of keys.
    fn top_share(counts: &[u64], fraction: f64) -> f64 {
        let mut sorted = counts.to_vec();
        sorted.sort_unstable_by(|a, b| b.cmp(a));
        let top = ((counts.len() as f64 * fraction).ceil() as usize).max(1);
        let total: u64 = sorted.iter().sum();
        sorted[..top].iter().sum::<u64>() as f64 / total as f64
    }

    #[test]
    fn rng_below_stays_in_range_and_covers_it() {
        let mut rng = Rng::new(7);
        let mut seen = [false; 10];
        for _ in 0..10_000 {
            let v = rng.below(10);
            assert!(v < 10);
            seen[v as usize] = true;
        }
        assert!(seen.iter().all(|s| *s));
        for _ in 0..10_000 {
            let f = rng.unit_f64();
            assert!((0.0..1.0).contains(&f));
        }
    }

    #[test]
    fn zipfian_top_one_percent_of_keys_gets_a_large_share() {
        let counts = histogram(Distribution::Zipfian, 100_000, 1_000_000);
        let share = top_share(&counts, 0.01);
        // Uniform would give about 1%; YCSB's scrambled zipfian gives ~30%.
        assert!(share > 0.20, "top 1% got {share}");
        // Scrambled: the hottest key is not simply record 0.
        let hottest = counts
            .iter()
            .enumerate()
            .max_by_key(|(_, c)| **c)
            .map(|(i, _)| i);
        assert_ne!(hottest, Some(0));
    }

    #[test]
    fn uniform_is_not_skewed() {
        let counts = histogram(Distribution::Uniform, 10_000, 1_000_000);
        let share = top_share(&counts, 0.01);
        assert!(share < 0.02, "top 1% got {share}");
    }

    #[test]
    fn latest_favours_the_newest_records() {
        let records = 10_000;
        let counts = histogram(Distribution::Latest, records, 200_000);
        let newest: u64 = counts[(records as usize - 100)..].iter().sum();
        assert!(
            newest as f64 / 200_000.0 > 0.3,
            "newest 1% got {newest} draws"
        );
        assert!(counts[records as usize - 1] > counts[0]);
    }

    #[test]
    fn latest_follows_a_growing_key_space() {
        let mut rng = Rng::new(1);
        let mut chooser = KeyChooser::new(Distribution::Latest, 100);
        let mut max_seen = 0;
        for records in 100..5_000u64 {
            let k = chooser.next(&mut rng, records);
            assert!(k < records);
            max_seen = max_seen.max(k);
        }
        assert!(max_seen > 4_000);
    }

    #[test]
    fn zipfian_ranks_are_in_range_for_tiny_spaces() {
        let mut rng = Rng::new(3);
        for items in 1..20u64 {
            let mut z = Zipfian::new(items, ZIPFIAN_THETA);
            for _ in 0..1_000 {
                assert!(z.next(&mut rng, items) < items);
            }
        }
    }

    #[test]
    fn zeta_approximation_matches_the_sum() {
        let n = 2_000_000;
        let exact = zeta_range(0, n, ZIPFIAN_THETA);
        let approx = zeta_approx(n, ZIPFIAN_THETA);
        assert!(
            ((exact - approx) / exact).abs() < 1e-6,
            "{exact} vs {approx}"
        );
        // And YCSB's constant for ten billion items.
        let ten_billion = zeta_approx(SCRAMBLED_ITEMS, ZIPFIAN_THETA);
        assert!(
            (ten_billion - SCRAMBLED_ZETAN).abs() < 1e-3,
            "{ten_billion}"
        );
    }
}
