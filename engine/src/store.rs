//! The storage handle for services other than DynamoDB: named keyspaces,
//! atomic batches through the group commit, snapshots, ordered scans and
//! durable counters, with no fjall type in the interface (`docs/storage.md`,
//! "Service store"; `docs/architecture.md`, "Store").
//!
//! Invariants:
//! - A batch commits atomically (one journal entry) through the same group
//!   commit, and under the same durability setting, as item writes; it is
//!   acknowledged only through its [`Deferred`].
//! - A counter's durable value never goes back: a batch that allocated ids
//!   writes each counter it used, at the counter's in-memory next value,
//!   while holding the counters' lock across its journal append, so the
//!   values in the journal only grow. Every id a durable record holds was
//!   allocated by a durable batch, so it is below the durable next value
//!   and is never handed out again.

use std::collections::{BTreeSet, HashMap};
use std::fmt;
use std::ops::{Bound, Deref};
use std::sync::Arc;

use fjall::{KeyspaceCreateOptions, Readable};

use crate::codec::DecodeError;
use crate::commit::Deferred;
use crate::error::{Error, Result, StoreError};
use crate::guard::{lock, read_lock, write_lock};
use crate::keys::prefix_end;
use crate::shared::Shared;

/// Store keyspaces a database may have.
pub const STORE_KEYSPACES_MAX: usize = 64;
/// Counters the store keeps in memory at once.
pub const STORE_COUNTERS_MAX: usize = 65_536;
/// Longest keyspace or counter name.
pub const STORE_NAME_BYTES_MAX: usize = 32;
/// Longest store key.
pub const STORE_KEY_BYTES_MAX: usize = 4096;
/// Largest store value.
pub const STORE_VALUE_BYTES_MAX: usize = 16 * 1024 * 1024;

/// The fjall keyspace of store keyspace `name` is `store.<name>`.
pub(crate) const KEYSPACE_PREFIX: &str = "store.";
/// Catalog prefix of counter records: `"C" | name` -> next value, u64 BE.
const COUNTER_PREFIX: u8 = b'C';

/// Checks a keyspace or counter name: 1 to 32 bytes of `a-z`, `0-9` and
/// `_`, starting with a letter.
fn check_name(name: &str) -> Result<()> {
    let ok = (1..=STORE_NAME_BYTES_MAX).contains(&name.len())
        && name.as_bytes()[0].is_ascii_lowercase()
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
    if ok {
        Ok(())
    } else {
        Err(Error::Store(StoreError::Name(name.to_owned())))
    }
}

fn check_key(key: &[u8]) -> Result<()> {
    if key.is_empty() || key.len() > STORE_KEY_BYTES_MAX {
        return Err(Error::Store(StoreError::KeySize {
            bytes: key.len(),
            max: STORE_KEY_BYTES_MAX,
        }));
    }
    Ok(())
}

fn counter_key(name: &str) -> Vec<u8> {
    let mut k = Vec::with_capacity(name.len() + 1);
    k.push(COUNTER_PREFIX);
    k.extend_from_slice(name.as_bytes());
    k
}

/// Decodes a stored counter: exactly eight bytes, big-endian.
fn decode_counter(v: &[u8]) -> Result<u64> {
    let bytes: [u8; 8] = v
        .try_into()
        .map_err(|_| DecodeError("store counter record"))?;
    Ok(u64::from_be_bytes(bytes))
}

/// Stored bytes: a key or a value. Shares the stored buffer instead of
/// copying it; derefs to `[u8]`.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Bytes(fjall::Slice);

impl Bytes {
    /// A copy of the bytes.
    pub fn to_vec(&self) -> Vec<u8> {
        self.0.to_vec()
    }
}

impl Deref for Bytes {
    type Target = [u8];

    fn deref(&self) -> &[u8] {
        &self.0
    }
}

impl AsRef<[u8]> for Bytes {
    fn as_ref(&self) -> &[u8] {
        &self.0
    }
}

impl fmt::Debug for Bytes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Bytes({:?})", &*self.0)
    }
}

/// One stored key and its value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    /// The key.
    pub key: Bytes,
    /// The value.
    pub value: Bytes,
}

/// A range of keys to scan.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeyRange {
    lo: Bound<Vec<u8>>,
    hi: Bound<Vec<u8>>,
}

impl KeyRange {
    /// Every key.
    pub fn all() -> KeyRange {
        KeyRange {
            lo: Bound::Unbounded,
            hi: Bound::Unbounded,
        }
    }

    /// Every key that starts with `prefix`.
    pub fn prefix(prefix: &[u8]) -> KeyRange {
        KeyRange {
            lo: Bound::Included(prefix.to_vec()),
            hi: prefix_end(prefix),
        }
    }

    /// The keys between `lo` and `hi`.
    pub fn new(lo: Bound<&[u8]>, hi: Bound<&[u8]>) -> KeyRange {
        KeyRange {
            lo: lo.map(<[u8]>::to_vec),
            hi: hi.map(<[u8]>::to_vec),
        }
    }

    /// This range without the keys up to and including `key` (where a
    /// forward scan that stopped at `key` goes on).
    pub fn after(mut self, key: &[u8]) -> KeyRange {
        if !matches!(&self.lo, Bound::Included(l) | Bound::Excluded(l) if l.as_slice() > key) {
            self.lo = Bound::Excluded(key.to_vec());
        }
        self
    }

    /// This range without the keys from `key` on (where a reverse scan that
    /// stopped at `key` goes on).
    pub fn before(mut self, key: &[u8]) -> KeyRange {
        if !matches!(&self.hi, Bound::Included(h) | Bound::Excluded(h) if h.as_slice() < key) {
            self.hi = Bound::Excluded(key.to_vec());
        }
        self
    }

    /// True when no key can lie in the range (fjall's range would panic on
    /// inverted bounds).
    fn is_empty(&self) -> bool {
        use Bound::{Excluded, Included};
        match (&self.lo, &self.hi) {
            (Included(a), Included(b)) => a > b,
            (Included(a) | Excluded(a), Included(b) | Excluded(b)) => a >= b,
            _ => false,
        }
    }

    fn bounds(&self) -> (Bound<Vec<u8>>, Bound<Vec<u8>>) {
        (self.lo.clone(), self.hi.clone())
    }
}

/// Which way a scan walks its range.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Direction {
    /// Ascending keys.
    Forward,
    /// Descending keys.
    Reverse,
}

/// A named keyspace of the store. Cheap to clone.
#[derive(Clone)]
pub struct Keyspace {
    name: Arc<str>,
    tree: fjall::Keyspace,
}

impl Keyspace {
    /// The keyspace's name.
    pub fn name(&self) -> &str {
        &self.name
    }
}

impl fmt::Debug for Keyspace {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Keyspace").field(&self.name).finish()
    }
}

/// Entries of a range in key order (or reverse), read lazily from the
/// snapshot the iterator was made on.
pub struct Iter {
    /// `None` for an empty range.
    inner: Option<fjall::Iter>,
    direction: Direction,
}

impl Iterator for Iter {
    type Item = Result<Entry>;

    fn next(&mut self) -> Option<Result<Entry>> {
        let inner = self.inner.as_mut()?;
        let guard = match self.direction {
            Direction::Forward => inner.next(),
            Direction::Reverse => inner.next_back(),
        }?;
        Some(
            guard
                .into_inner()
                .map(|(key, value)| Entry {
                    key: Bytes(key),
                    value: Bytes(value),
                })
                .map_err(Error::from),
        )
    }
}

/// Reads of one kind of view: the live data or a snapshot.
trait View {
    fn get_in(&self, ks: &Keyspace, key: &[u8]) -> Result<Option<Bytes>>;
    fn range_in(&self, ks: &Keyspace, range: &KeyRange) -> fjall::Iter;
}

struct Live;

impl View for Live {
    fn get_in(&self, ks: &Keyspace, key: &[u8]) -> Result<Option<Bytes>> {
        Ok(ks.tree.get(key)?.map(Bytes))
    }

    fn range_in(&self, ks: &Keyspace, range: &KeyRange) -> fjall::Iter {
        ks.tree.range(range.bounds())
    }
}

impl View for fjall::Snapshot {
    fn get_in(&self, ks: &Keyspace, key: &[u8]) -> Result<Option<Bytes>> {
        Ok(self.get(&ks.tree, key)?.map(Bytes))
    }

    fn range_in(&self, ks: &Keyspace, range: &KeyRange) -> fjall::Iter {
        self.range(&ks.tree, range.bounds())
    }
}

fn iter_in(view: &impl View, ks: &Keyspace, range: &KeyRange, direction: Direction) -> Iter {
    Iter {
        inner: (!range.is_empty()).then(|| view.range_in(ks, range)),
        direction,
    }
}

fn scan_in(
    view: &impl View,
    ks: &Keyspace,
    range: &KeyRange,
    direction: Direction,
    limit: usize,
) -> Result<Vec<Entry>> {
    if limit == 0 || range.is_empty() {
        return Ok(Vec::new());
    }
    iter_in(view, ks, range, direction).take(limit).collect()
}

/// The storage handle. Cheap to clone; every clone (and the engine that
/// made it) shares one database. Waiting for durability takes the engine:
/// `batch.commit()?.wait(&engine)`, or `on_durable` from async code.
#[derive(Clone)]
pub struct Store {
    shared: Arc<Shared>,
}

impl Store {
    pub(crate) fn new(shared: Arc<Shared>) -> Store {
        Store { shared }
    }

    /// The keyspace `name`, created (durably) if it does not exist yet.
    pub fn keyspace(&self, name: &str) -> Result<Keyspace> {
        check_name(name)?;
        let s = &self.shared;
        if let Some(tree) = read_lock(&s.store_keyspaces).get(name) {
            return Ok(Keyspace {
                name: name.into(),
                tree: tree.clone(),
            });
        }
        let mut keyspaces = write_lock(&s.store_keyspaces);
        let tree = match keyspaces.get(name) {
            Some(tree) => tree.clone(),
            None => {
                if keyspaces.len() >= STORE_KEYSPACES_MAX {
                    return Err(Error::Store(StoreError::TooManyKeyspaces {
                        max: STORE_KEYSPACES_MAX,
                    }));
                }
                let full = format!("{KEYSPACE_PREFIX}{name}");
                let tree = s.db.keyspace(&full, KeyspaceCreateOptions::default)?;
                keyspaces.insert(name.to_owned(), tree.clone());
                tree
            }
        };
        Ok(Keyspace {
            name: name.into(),
            tree,
        })
    }

    /// The names of the store's keyspaces, in order.
    pub fn keyspace_names(&self) -> Vec<String> {
        let mut names: Vec<String> = read_lock(&self.shared.store_keyspaces)
            .keys()
            .cloned()
            .collect();
        names.sort_unstable();
        names
    }

    /// The value at `key`, if any.
    pub fn get(&self, ks: &Keyspace, key: &[u8]) -> Result<Option<Bytes>> {
        Live.get_in(ks, key)
    }

    /// At most `limit` entries of `range`, in `direction`, read from one
    /// snapshot.
    pub fn scan(
        &self,
        ks: &Keyspace,
        range: &KeyRange,
        direction: Direction,
        limit: usize,
    ) -> Result<Vec<Entry>> {
        scan_in(&Live, ks, range, direction, limit)
    }

    /// The entries of `range`, in `direction`, read lazily from a snapshot
    /// taken now. Take what is needed and drop it: the snapshot keeps old
    /// versions alive while it lives.
    pub fn iter(&self, ks: &Keyspace, range: &KeyRange, direction: Direction) -> Iter {
        iter_in(&Live, ks, range, direction)
    }

    /// A read snapshot: one committed state of every store keyspace.
    pub fn snapshot(&self) -> StoreSnapshot {
        StoreSnapshot {
            snapshot: self.shared.db.snapshot(),
        }
    }

    /// A new, empty batch.
    pub fn batch(&self) -> StoreBatch {
        StoreBatch {
            shared: Arc::clone(&self.shared),
            batch: self.shared.db.batch(),
            counters: BTreeSet::new(),
        }
    }

    /// The value counter `name` will hand out next (1 for a new counter).
    pub fn next_id(&self, name: &str) -> Result<u64> {
        check_name(name)?;
        let mut values = lock(&self.shared.store_counters);
        self.shared.counter_value(&mut values, name)
    }
}

impl Shared {
    /// Counter `name`'s next value, loaded into `values` from the catalog
    /// on first use.
    fn counter_value(&self, values: &mut HashMap<String, u64>, name: &str) -> Result<u64> {
        if let Some(v) = values.get(name) {
            return Ok(*v);
        }
        if values.len() >= STORE_COUNTERS_MAX {
            return Err(Error::Store(StoreError::TooManyCounters {
                max: STORE_COUNTERS_MAX,
            }));
        }
        let v = match self.catalog.get(counter_key(name))? {
            Some(stored) => decode_counter(&stored)?,
            None => 1,
        };
        values.insert(name.to_owned(), v);
        Ok(v)
    }
}

impl fmt::Debug for Store {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Store").finish_non_exhaustive()
    }
}

/// One committed state of every store keyspace, as it was when taken.
pub struct StoreSnapshot {
    snapshot: fjall::Snapshot,
}

impl StoreSnapshot {
    /// The value at `key` in the snapshot, if any.
    pub fn get(&self, ks: &Keyspace, key: &[u8]) -> Result<Option<Bytes>> {
        self.snapshot.get_in(ks, key)
    }

    /// At most `limit` entries of `range` in the snapshot, in `direction`.
    pub fn scan(
        &self,
        ks: &Keyspace,
        range: &KeyRange,
        direction: Direction,
        limit: usize,
    ) -> Result<Vec<Entry>> {
        scan_in(&self.snapshot, ks, range, direction, limit)
    }

    /// The entries of `range` in the snapshot, lazily.
    pub fn iter(&self, ks: &Keyspace, range: &KeyRange, direction: Direction) -> Iter {
        iter_in(&self.snapshot, ks, range, direction)
    }
}

/// Inserts and removes over any store keyspaces, and ids from counters,
/// committed as one atomic batch. Dropping it uncommitted writes nothing
/// (ids it allocated are skipped, never handed out again).
pub struct StoreBatch {
    shared: Arc<Shared>,
    batch: fjall::OwnedWriteBatch,
    /// The counters this batch allocated from.
    counters: BTreeSet<String>,
}

impl StoreBatch {
    /// Sets `key` to `value` in `ks`.
    pub fn insert(&mut self, ks: &Keyspace, key: &[u8], value: &[u8]) -> Result<()> {
        check_key(key)?;
        if value.len() > STORE_VALUE_BYTES_MAX {
            return Err(Error::Store(StoreError::ValueSize {
                bytes: value.len(),
                max: STORE_VALUE_BYTES_MAX,
            }));
        }
        self.batch.insert(&ks.tree, key, value);
        Ok(())
    }

    /// Removes `key` from `ks` (nothing if it is absent).
    pub fn remove(&mut self, ks: &Keyspace, key: &[u8]) -> Result<()> {
        check_key(key)?;
        self.batch.remove(&ks.tree, key);
        Ok(())
    }

    /// The next id of counter `name`, durable with this batch: the batch
    /// records the counter's new value when it commits.
    pub fn allocate(&mut self, name: &str) -> Result<u64> {
        check_name(name)?;
        let mut values = lock(&self.shared.store_counters);
        let id = self.shared.counter_value(&mut values, name)?;
        let next = id
            .checked_add(1)
            .ok_or_else(|| Error::Store(StoreError::CounterExhausted(name.to_owned())))?;
        values.insert(name.to_owned(), next);
        self.counters.insert(name.to_owned());
        Ok(id)
    }

    /// Inserts and removes so far (counter records not counted).
    pub fn len(&self) -> usize {
        self.batch.len()
    }

    /// True when nothing was inserted, removed or allocated.
    pub fn is_empty(&self) -> bool {
        self.batch.is_empty() && self.counters.is_empty()
    }

    /// Commits the batch through the group commit: visible to reads when
    /// this returns, durable (and to be acknowledged) once the returned
    /// [`Deferred`] is.
    pub fn commit(self) -> Result<Deferred<()>> {
        let StoreBatch {
            shared,
            mut batch,
            counters,
        } = self;
        if batch.is_empty() && counters.is_empty() {
            return Ok(Deferred::new((), None));
        }
        let ticket = if counters.is_empty() {
            shared.commit.commit_batch(batch)?
        } else {
            // Held across the journal append, so counter records reach
            // the journal in the order of their (growing) values.
            let values = lock(&shared.store_counters);
            for name in &counters {
                let next = values
                    .get(name)
                    .copied()
                    .ok_or(DecodeError("store counter allocated but not loaded"))?;
                batch.insert(&shared.catalog, counter_key(name), next.to_be_bytes());
            }
            let ticket = shared.commit.commit_batch(batch)?;
            drop(values);
            ticket
        };
        Ok(Deferred::new((), Some(ticket)))
    }
}

impl fmt::Debug for StoreBatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StoreBatch")
            .field("len", &self.batch.len())
            .field("counters", &self.counters)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_short_lowercase_words() {
        for good in ["a", "sqs_queues", "k1", &"x".repeat(STORE_NAME_BYTES_MAX)] {
            assert!(check_name(good).is_ok(), "{good}");
        }
        for bad in [
            "",
            "1abc",
            "_a",
            "Queues",
            "a-b",
            "a.b",
            "é",
            &"x".repeat(STORE_NAME_BYTES_MAX + 1),
        ] {
            assert!(
                matches!(check_name(bad), Err(Error::Store(StoreError::Name(_)))),
                "{bad}"
            );
        }
    }

    #[test]
    fn counters_decode_only_from_eight_bytes() {
        assert_eq!(decode_counter(&7u64.to_be_bytes()).expect("decodes"), 7);
        for len in [0, 1, 7, 9] {
            assert!(decode_counter(&vec![0; len]).is_err(), "{len} bytes");
        }
    }

    #[test]
    fn ranges_narrow_for_paging_and_know_when_they_are_empty() {
        let r = KeyRange::prefix(b"q1/");
        assert_eq!(r.hi, Bound::Excluded(b"q10".to_vec()));
        let after = r.clone().after(b"q1/5");
        assert_eq!(after.lo, Bound::Excluded(b"q1/5".to_vec()));
        // A key before the range leaves it as it is.
        assert_eq!(r.clone().after(b"a"), r);
        let before = r.clone().before(b"q1/5");
        assert_eq!(before.hi, Bound::Excluded(b"q1/5".to_vec()));
        assert!(!r.is_empty());
        assert!(r.clone().after(b"q1/5").before(b"q1/5").is_empty());
        assert!(KeyRange::new(Bound::Included(b"b"), Bound::Included(b"a")).is_empty());
        assert!(!KeyRange::new(Bound::Included(b"a"), Bound::Included(b"a")).is_empty());
        assert!(!KeyRange::all().is_empty());
        assert_eq!(KeyRange::prefix(&[0xFF]).hi, Bound::Unbounded);
    }
}
