//! Query and Scan: one page at a time, read from one snapshot, streaming
//! from the LSM so that a page never loads more of the table than it reads.
//!
//! A Query is one range scan: the partition's items share the key prefix
//! `table id | hash | enc(pk)` and are ordered by sort key inside it, and a
//! sort-key condition is a pair of bounds on `enc(sk)` (the encoding
//! preserves order). A Scan walks the table's prefix in hash order; parallel
//! segment `i` of `n` is the hash range `[i * 2^64 / n, (i + 1) * 2^64 / n)`.
//!
//! A Query or Scan of a secondary index reads the `indexes` keyspace the
//! same way: an index partition is `index id | hash | enc(pk parts)`, and
//! entries inside it are ordered by the index sort key parts and then the
//! table key, so a sort-key condition becomes bounds on prefixes (an
//! equality covers every entry that starts with the value's encoding).
//! Entries hold the projected item; a local index can fetch the whole item
//! from the table, in the same snapshot.
//!
//! A page ends after `limit` items were read, or once the items read reach
//! [`PAGE_BYTES_MAX`] (in DynamoDB's page measure, [`page_size`]), both
//! counted before the filter, as DynamoDB counts them; `last_evaluated_key`
//! then names the last item read.

use std::ops::Bound;

use tarn_expr::ast::Condition;
use tarn_expr::{eval, key, size, AttributeValue, Item};

use fjall::Readable;

use crate::catalog::{TableDef, TableStatus};
use crate::codec;
use crate::error::{Error, Result};
use crate::index::{IndexDef, IndexKind, IndexStatus};
use crate::invalid::Invalid;
use crate::keys::{self, prefix_end};
use crate::schema::{key_of, KeyAttr};
use crate::shared::Shared;
use crate::throttle::Side;
use crate::units::{read_units, Units};
use crate::validate::key_storage_key;

/// DynamoDB's page size limit for Query and Scan.
pub const PAGE_BYTES_MAX: usize = 1024 * 1024;

/// A condition on the sort key of a Query.
#[derive(Clone, Debug, PartialEq)]
pub enum SortCondition {
    /// `sk = v`
    Eq(AttributeValue),
    /// `sk < v`
    Lt(AttributeValue),
    /// `sk <= v`
    Le(AttributeValue),
    /// `sk > v`
    Gt(AttributeValue),
    /// `sk >= v`
    Ge(AttributeValue),
    /// `sk BETWEEN a AND b`
    Between(AttributeValue, AttributeValue),
    /// `begins_with(sk, v)` (S and B keys)
    BeginsWith(AttributeValue),
}

impl SortCondition {
    /// The values the condition compares the sort key with.
    pub fn values(&self) -> Vec<&AttributeValue> {
        match self {
            SortCondition::Between(a, b) => vec![a, b],
            SortCondition::Eq(v)
            | SortCondition::Lt(v)
            | SortCondition::Le(v)
            | SortCondition::Gt(v)
            | SortCondition::Ge(v)
            | SortCondition::BeginsWith(v) => vec![v],
        }
    }
}

/// What every page read takes.
#[derive(Clone, Debug, Default)]
pub struct PageOptions<'a> {
    /// Items to read at most (before the filter).
    pub limit: Option<usize>,
    /// Start after this key (the previous page's `last_evaluated_key`).
    pub exclusive_start_key: Option<&'a Item>,
    /// Keeps only the items it holds for (resolved).
    pub filter: Option<&'a Condition>,
    /// Reading a local index: return each entry's whole item from the
    /// table instead of the projected entry.
    pub fetch_items: bool,
    /// A strongly consistent read (`ConsistentRead`), which costs twice
    /// an eventually consistent one.
    pub consistent: bool,
}

/// A Query of one partition of a table or index.
#[derive(Clone, Debug)]
pub struct QueryRequest<'a> {
    /// The index to read, or `None` for the table.
    pub index: Option<&'a str>,
    /// The partition key value: one per partition key attribute, in key
    /// schema order (several only for multi-attribute index keys).
    pub partition: &'a [AttributeValue],
    /// Equalities on the first sort key attributes (multi-attribute index
    /// keys); `sort` then applies to the attribute after them.
    pub sort_prefix: &'a [AttributeValue],
    /// The sort-key condition, if any.
    pub sort: Option<&'a SortCondition>,
    /// Ascending sort-key order (`ScanIndexForward`).
    pub forward: bool,
    /// Paging and filtering.
    pub page: PageOptions<'a>,
}

/// A Scan, or one segment of a parallel Scan, of a table or index.
#[derive(Clone, Debug)]
pub struct ScanRequest<'a> {
    /// The index to read, or `None` for the table.
    pub index: Option<&'a str>,
    /// This segment (0-based).
    pub segment: u32,
    /// Segments in all (1 for a plain Scan).
    pub total_segments: u32,
    /// Paging and filtering.
    pub page: PageOptions<'a>,
}

/// One page of results.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Page {
    /// Items that passed the filter, in read order.
    pub items: Vec<Item>,
    /// Items read, before the filter.
    pub scanned_count: usize,
    /// Where the next page starts; `None` when the read is complete.
    pub last_evaluated_key: Option<Item>,
    /// Sum of the sizes of the records read (items, or index entries), for
    /// capacity; rounded once per request.
    pub read_bytes: usize,
    /// For a local index read that fetched items from the table: the 4 KB
    /// read units of those items, each rounded on its own.
    pub fetched_read_units: usize,
    /// The same items as the 1 MB page limit measures them.
    pub page_bytes: usize,
    /// The capacity the page consumed, as charged.
    pub consumed: Units,
}

/// What GetItem read.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Got {
    /// The item, if it exists.
    pub item: Option<Item>,
    /// The capacity the read consumed, as charged.
    pub consumed: Units,
}

/// The keys a BatchGetItem reads from one table.
#[derive(Clone, Debug)]
pub struct BatchGet {
    /// Table name.
    pub table: String,
    /// The keys, each the table's whole primary key.
    pub keys: Vec<Item>,
    /// `ConsistentRead`.
    pub consistent: bool,
}

/// What a BatchGetItem read from one table.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct BatchGot {
    /// The items found, in key order (missing items are left out).
    pub found: Vec<Item>,
    /// The positions, in the request's keys, of keys left unprocessed
    /// (past the response size limit, or of a table out of capacity).
    pub unprocessed: Vec<usize>,
    /// The capacity consumed, as charged.
    pub consumed: Units,
}

/// Query and Scan are charged on what they read, rounded up to 4 KB once
/// per request (eventually consistent reads cost half); on an index, the
/// entries read go to the index and items fetched from the table to it.
fn page_units(page: &Page, consistent: bool, index: Option<&IndexDef>) -> Units {
    let read = read_units(page.read_bytes, consistent);
    match index {
        None => Units::table(read),
        Some(i) => {
            let factor = if consistent { 1.0 } else { 0.5 };
            Units {
                table: page.fetched_read_units as f64 * factor,
                indexes: vec![(i.name.clone(), i.kind, read)],
            }
        }
    }
}

fn with(prefix: &[u8], v: &AttributeValue) -> Vec<u8> {
    let mut k = prefix.to_vec();
    key::encode(v, &mut k);
    k
}

/// The tighter of two lower bounds.
fn max_lower(a: Bound<Vec<u8>>, b: Bound<Vec<u8>>) -> Bound<Vec<u8>> {
    use Bound::{Excluded, Included, Unbounded};
    match (&a, &b) {
        (Unbounded, _) => b,
        (_, Unbounded) => a,
        (Included(x) | Excluded(x), Included(y) | Excluded(y)) => {
            if x > y || (x == y && matches!(a, Excluded(_))) {
                a
            } else {
                b
            }
        }
    }
}

/// The tighter of two upper bounds.
fn min_upper(a: Bound<Vec<u8>>, b: Bound<Vec<u8>>) -> Bound<Vec<u8>> {
    use Bound::{Excluded, Included, Unbounded};
    match (&a, &b) {
        (Unbounded, _) => b,
        (_, Unbounded) => a,
        (Included(x) | Excluded(x), Included(y) | Excluded(y)) => {
            if x < y || (x == y && matches!(a, Excluded(_))) {
                a
            } else {
                b
            }
        }
    }
}

/// Where a page reads from: the table, or one of its indexes.
struct Source<'a> {
    def: &'a TableDef,
    index: Option<&'a IndexDef>,
    snapshot: &'a fjall::Snapshot,
    items: &'a fjall::Keyspace,
    fetch_items: bool,
}

impl Source<'_> {
    /// The key attributes of a stored record, as `LastEvaluatedKey` names
    /// them: the table key, plus the index key for an index.
    fn last_key(&self, entry: &Item) -> Item {
        match self.index {
            Some(index) => index.key_of(&self.def.key_schema, entry),
            None => key_of(&self.def.key_schema, entry),
        }
    }

    /// True when records are replaced by the table's items.
    fn fetches(&self) -> bool {
        self.fetch_items && self.index.is_some_and(|i| i.kind == IndexKind::Local)
    }

    /// What a page returns for a stored record: the record itself, or for
    /// a local index read with `fetch_items` the table's whole item.
    fn load(&self, entry: Item) -> Result<Option<Item>> {
        if !self.fetches() {
            return Ok(Some(entry));
        }
        let key = key_storage_key(self.def, &key_of(&self.def.key_schema, &entry))?;
        // The entry and the item were committed together and the snapshot
        // sees both, so the item is there.
        Ok(self
            .snapshot
            .get(self.items, key)?
            .map(|v| codec::decode_item(&v))
            .transpose()?)
    }
}

/// The index `name` of the table, if it can be read.
fn readable_index<'d>(def: &'d TableDef, name: &str) -> Result<&'d IndexDef> {
    let index = def.index(name).ok_or_else(|| {
        Error::Validation(Invalid::NoSuchIndex {
            index: name.to_owned(),
        })
    })?;
    if index.status != IndexStatus::Active {
        return Err(Error::Validation(Invalid::BackfillingIndex {
            index: name.to_owned(),
        }));
    }
    Ok(index)
}

/// A range of stored keys: lower and upper bound.
type KeyRange = (Bound<Vec<u8>>, Bound<Vec<u8>>);

/// The key range of a sort condition on the attribute that follows
/// `prefix` (a partition prefix and any sort-key equalities). Bounds are
/// prefix ranges, so they hold for table keys (where nothing follows the
/// sort key) and for index entries (where the table key follows).
fn sort_bounds(prefix: &[u8], sort: Option<&SortCondition>) -> Result<KeyRange> {
    let start = Bound::Included(prefix.to_vec());
    let end = prefix_end(prefix);
    let after = |v: &AttributeValue| prefix_end(&with(prefix, v));
    let at = |v: &AttributeValue| Bound::Included(with(prefix, v));
    let lower_after = |v: &AttributeValue| match after(v) {
        Bound::Excluded(k) => Bound::Included(k),
        // Every key starting with `prefix + enc(v)` ends in 0xFF bytes:
        // nothing can follow it.
        _ => Bound::Excluded(with(prefix, v)),
    };
    Ok(match sort {
        None => (start, end),
        Some(SortCondition::Eq(v)) => (at(v), after(v)),
        Some(SortCondition::Lt(v)) => (start, Bound::Excluded(with(prefix, v))),
        Some(SortCondition::Le(v)) => (start, after(v)),
        Some(SortCondition::Gt(v)) => (lower_after(v), end),
        Some(SortCondition::Ge(v)) => (at(v), end),
        Some(SortCondition::Between(a, b)) => (at(a), after(b)),
        Some(SortCondition::BeginsWith(v)) => {
            if v.scalar_type() == Some(tarn_expr::ScalarType::N) {
                return Err(Error::Validation(Invalid::BeginsWithNumber));
            }
            // A string or binary's encoding without its terminator is a
            // prefix of the encoding of every value that starts with it.
            let mut k = with(prefix, v);
            k.truncate(k.len() - 2);
            let end = prefix_end(&k);
            (Bound::Included(k), end)
        }
    })
}

/// True when `k` lies within `lo..hi`.
fn within(k: &[u8], lo: &Bound<Vec<u8>>, hi: &Bound<Vec<u8>>) -> bool {
    let above = match lo {
        Bound::Included(x) => k >= x.as_slice(),
        Bound::Excluded(x) => k > x.as_slice(),
        Bound::Unbounded => true,
    };
    let below = match hi {
        Bound::Included(x) => k <= x.as_slice(),
        Bound::Excluded(x) => k < x.as_slice(),
        Bound::Unbounded => true,
    };
    above && below
}

impl Shared {
    /// Reads one item by its full primary key.
    pub(crate) fn get_item(&self, table: &str, key: &Item, consistent: bool) -> Result<Got> {
        self.admit(table, Side::Read, None)?;
        let item = self.read_item(table, key)?;
        // Capacity is charged on the whole item, before any projection.
        let consumed = Units::table(read_units(
            item.as_ref().map_or(0, size::item_size),
            consistent,
        ));
        self.charge(table, Side::Read, None, &consumed);
        Ok(Got { item, consumed })
    }

    /// BatchGetItem: reads every key of every table first (a bad key fails
    /// the whole request, worded as PutItem words it), then admits each
    /// table: under `--enforce-throughput` a table out of read capacity
    /// answers nothing (its keys are left unprocessed), and if every table
    /// is out the whole call is throttled. Keys past `bytes_max` of items
    /// found are left unprocessed too. Each table is charged the reads of
    /// the keys it answered.
    pub(crate) fn batch_get(&self, gets: &[BatchGet], bytes_max: usize) -> Result<Vec<BatchGot>> {
        let mut results = Vec::with_capacity(gets.len());
        for g in gets {
            let items = g
                .keys
                .iter()
                .map(|k| self.read_item(&g.table, k))
                .collect::<Result<Vec<_>>>()
                .map_err(|e| match e {
                    Error::Validation(v) => Error::Validation(v.in_item_wording()),
                    other => other,
                })?;
            results.push(items);
        }
        let mut throttled = Vec::with_capacity(gets.len());
        let mut first_throttle = None;
        for g in gets {
            match self.admit(&g.table, Side::Read, None) {
                Err(e @ Error::Throttled(_)) => {
                    throttled.push(true);
                    first_throttle.get_or_insert(e);
                }
                Err(e) => return Err(e),
                Ok(()) => throttled.push(false),
            }
        }
        if let Some(e) = first_throttle.filter(|_| throttled.iter().all(|t| *t)) {
            return Err(e);
        }
        let mut out = Vec::with_capacity(gets.len());
        let mut bytes = 0usize;
        for ((g, items), throttled) in gets.iter().zip(results).zip(throttled) {
            let mut got = BatchGot::default();
            for (i, item) in items.into_iter().enumerate() {
                if bytes > bytes_max || throttled {
                    got.unprocessed.push(i);
                    continue;
                }
                let read = item.as_ref().map_or(0, size::item_size);
                got.consumed.table += read_units(read, g.consistent);
                if let Some(item) = item {
                    bytes += read;
                    got.found.push(item);
                }
            }
            self.charge(&g.table, Side::Read, None, &got.consumed);
            out.push(got);
        }
        Ok(out)
    }

    /// One item by its full primary key, without throughput.
    fn read_item(&self, table: &str, key: &Item) -> Result<Option<Item>> {
        let storage_key = self.with_active_table(table, |def| key_storage_key(def, key))?;
        Ok(self
            .items
            .get(&storage_key)?
            .map(|v| codec::decode_item(&v))
            .transpose()?)
    }

    /// The definition of an active table and a snapshot to read it from,
    /// taken together so the page sees one committed state.
    fn read_view(&self, table: &str) -> Result<(TableDef, fjall::Snapshot)> {
        let table = self.table(table)?;
        let def = table.read();
        if def.status != TableStatus::Active {
            return Err(Error::TableNotFound(def.name.clone()));
        }
        Ok((def.clone(), self.db.snapshot()))
    }

    /// Reads one page of a Query, admitted and charged.
    pub(crate) fn query(&self, table: &str, q: &QueryRequest<'_>) -> Result<Page> {
        self.admit(table, Side::Read, q.index)?;
        let (def, snapshot) = self.read_view(table)?;
        let index = q.index.map(|n| readable_index(&def, n)).transpose()?;
        let mut page = self.query_in(&def, &snapshot, index, q)?;
        page.consumed = page_units(&page, q.page.consistent, index);
        self.charge(table, Side::Read, q.index, &page.consumed);
        Ok(page)
    }

    fn query_in(
        &self,
        def: &TableDef,
        snapshot: &fjall::Snapshot,
        index: Option<&IndexDef>,
        q: &QueryRequest<'_>,
    ) -> Result<Page> {
        let ks = &def.key_schema;
        let (hash, range): (Vec<&KeyAttr>, Vec<&KeyAttr>) = match index {
            Some(i) => (i.hash.iter().collect(), i.range.iter().collect()),
            None => (vec![&ks.hash], ks.range.iter().collect()),
        };
        let typed = |v: &AttributeValue, a: &KeyAttr| v.scalar_type() == Some(a.ty);
        if q.partition.len() != hash.len()
            || q.partition.iter().zip(&hash).any(|(v, a)| !typed(v, a))
        {
            return Err(Error::Validation(Invalid::ConditionTypeMismatch));
        }
        let constrained = q.sort_prefix.len() + usize::from(q.sort.is_some());
        if constrained > range.len() {
            return Err(Error::Validation(Invalid::KeyConditionNotSupported));
        }
        if q.sort_prefix.iter().zip(&range).any(|(v, a)| !typed(v, a)) {
            return Err(Error::Validation(Invalid::ConditionTypeMismatch));
        }
        if let Some(cond) = q.sort {
            let attr = range[q.sort_prefix.len()];
            // A multi-attribute key refuses begins_with on a number part
            // by the function, whatever the operand's type (Alternator's
            // AWS-verified `test_gsi_composite_query_sk_begins_with_number_rejected`);
            // a one-attribute key checks the operand's type first.
            let multi_attribute = hash.len() > 1 || range.len() > 1;
            if multi_attribute
                && matches!(cond, SortCondition::BeginsWith(_))
                && attr.ty == tarn_expr::ScalarType::N
            {
                return Err(Error::Validation(Invalid::BeginsWithNumber));
            }
            if cond.values().iter().any(|v| !typed(v, attr)) {
                return Err(Error::Validation(Invalid::ConditionTypeMismatch));
            }
        }
        let mut prefix = match index {
            Some(i) => i.partition_prefix(q.partition),
            None => keys::partition_prefix(def.id, &q.partition[0]),
        };
        for v in q.sort_prefix {
            key::encode(v, &mut prefix);
        }
        let (mut lo, mut hi) = sort_bounds(&prefix, q.sort)?;
        if let Some(esk) = q.page.exclusive_start_key {
            let k = match index {
                None => {
                    check_query_start(def, esk, q)?;
                    key_storage_key(def, esk)?
                }
                Some(i) => {
                    let k = i.start_key(ks, esk).map_err(Error::Validation)?;
                    if !within(&k, &lo, &hi) {
                        return Err(Error::Validation(Invalid::StartKeyOutsideQuery));
                    }
                    k
                }
            };
            if q.forward {
                lo = max_lower(lo, Bound::Excluded(k));
            } else {
                hi = min_upper(hi, Bound::Excluded(k));
            }
        }
        if range_is_empty(&lo, &hi) {
            return Ok(Page::default());
        }
        let keyspace = if index.is_some() {
            &self.indexes
        } else {
            &self.items
        };
        let source = Source {
            def,
            index,
            snapshot,
            items: &self.items,
            fetch_items: q.page.fetch_items,
        };
        let iter = snapshot.range(keyspace, (lo, hi));
        if q.forward {
            read_page(&source, iter, &q.page)
        } else {
            read_page(&source, iter.rev(), &q.page)
        }
    }

    /// Reads one page of a Scan (segment), admitted and charged.
    pub(crate) fn scan(&self, table: &str, s: &ScanRequest<'_>) -> Result<Page> {
        self.admit(table, Side::Read, s.index)?;
        let (def, snapshot) = self.read_view(table)?;
        let index = s.index.map(|n| readable_index(&def, n)).transpose()?;
        let mut page = self.scan_in(&def, &snapshot, index, s)?;
        page.consumed = page_units(&page, s.page.consistent, index);
        self.charge(table, Side::Read, s.index, &page.consumed);
        Ok(page)
    }

    fn scan_in(
        &self,
        def: &TableDef,
        snapshot: &fjall::Snapshot,
        index: Option<&IndexDef>,
        s: &ScanRequest<'_>,
    ) -> Result<Page> {
        assert!(
            s.segment < s.total_segments,
            "segment {} of {}",
            s.segment,
            s.total_segments
        );
        let id_prefix = index.map_or(def.id, |i| i.id).to_be_bytes();
        let hash_at = |segment: u32| -> Option<[u8; 8]> {
            let start = (u128::from(segment) << 64) / u128::from(s.total_segments);
            u64::try_from(start).ok().map(u64::to_be_bytes)
        };
        let bound_at = |hash: [u8; 8]| {
            let mut k = id_prefix.to_vec();
            k.extend_from_slice(&hash);
            k
        };
        let mut lo = Bound::Included(bound_at(hash_at(s.segment).unwrap_or([0; 8])));
        let hi = match hash_at(s.segment + 1) {
            Some(h) if s.segment + 1 < s.total_segments => Bound::Excluded(bound_at(h)),
            _ => prefix_end(&id_prefix),
        };
        if let Some(esk) = s.page.exclusive_start_key {
            let k = match index {
                None => start_key(def, esk)?,
                Some(i) => i
                    .start_key(&def.key_schema, esk)
                    .map_err(Error::Validation)?,
            };
            // The start key must lie in this segment's slice of the hash space.
            if !within(&k, &lo, &hi) {
                return Err(Error::Validation(Invalid::StartKeyWrongSegment {
                    total: s.total_segments,
                    segment: s.segment,
                }));
            }
            lo = max_lower(lo, Bound::Excluded(k));
        }
        if range_is_empty(&lo, &hi) {
            return Ok(Page::default());
        }
        let keyspace = if index.is_some() {
            &self.indexes
        } else {
            &self.items
        };
        let source = Source {
            def,
            index,
            snapshot,
            items: &self.items,
            fetch_items: s.page.fetch_items,
        };
        read_page(&source, snapshot.range(keyspace, (lo, hi)), &s.page)
    }
}

fn range_is_empty(lo: &Bound<Vec<u8>>, hi: &Bound<Vec<u8>>) -> bool {
    use Bound::{Excluded, Included};
    match (lo, hi) {
        (Included(a), Included(b)) => a > b,
        (Included(a) | Excluded(a), Included(b) | Excluded(b)) => a >= b,
        _ => false,
    }
}

/// The storage key an `ExclusiveStartKey` names.
fn start_key(def: &TableDef, esk: &Item) -> Result<Vec<u8>> {
    key_storage_key(def, esk).map_err(|e| match e {
        Error::Validation(m) => Error::Validation(Invalid::StartKey(Box::new(m))),
        other => other,
    })
}

/// Whether a sort-key value meets a sort condition.
fn satisfies(cond: &SortCondition, v: &AttributeValue) -> bool {
    use std::cmp::Ordering::{Greater, Less};
    let cmp = |w| key::compare(v, w);
    match cond {
        SortCondition::Eq(w) => cmp(w).is_eq(),
        SortCondition::Lt(w) => cmp(w) == Less,
        SortCondition::Le(w) => cmp(w) != Greater,
        SortCondition::Gt(w) => cmp(w) == Greater,
        SortCondition::Ge(w) => cmp(w) != Less,
        SortCondition::Between(a, b) => cmp(a) != Less && cmp(b) != Greater,
        SortCondition::BeginsWith(w) => match (v, w) {
            (AttributeValue::S(x), AttributeValue::S(p)) => x.starts_with(p.as_str()),
            (AttributeValue::B(x), AttributeValue::B(p)) => x.starts_with(p),
            _ => false,
        },
    }
}

/// A Query's `ExclusiveStartKey` must name exactly the table's key
/// attributes, with their types, and lie inside the query's range; each
/// failure has its own DynamoDB message.
fn check_query_start(def: &TableDef, esk: &Item, q: &QueryRequest<'_>) -> Result<()> {
    let ks = &def.key_schema;
    let names: Vec<&str> = std::iter::once(ks.hash.name.as_str())
        .chain(ks.range.as_ref().map(|r| r.name.as_str()))
        .collect();
    if esk.len() != names.len() || names.iter().any(|n| !esk.contains_key(*n)) {
        return Err(Error::Validation(Invalid::StartKeyInvalid));
    }
    let typed = |a: &KeyAttr| esk.get(&a.name).and_then(AttributeValue::scalar_type) == Some(a.ty);
    if !typed(&ks.hash) || ks.range.as_ref().is_some_and(|r| !typed(r)) {
        return Err(Error::Validation(Invalid::KeySchemaMismatch));
    }
    let in_range = match (q.sort, &ks.range) {
        (Some(cond), Some(r)) => esk.get(&r.name).is_some_and(|v| satisfies(cond, v)),
        _ => true,
    };
    let same_partition = esk.get(&ks.hash.name).is_some_and(|v| {
        q.partition
            .first()
            .is_some_and(|p| key::compare(v, p).is_eq())
    });
    let invalid = match (same_partition, q.sort.is_some(), in_range) {
        (true, _, true) => return Ok(()),
        (false, false, _) => Invalid::StartKeyOutsideQuery,
        (_, _, false) => Invalid::StartKeyRangePredicate,
        (false, true, true) => Invalid::QueryOneRow,
    };
    Err(Error::Validation(invalid))
}

/// The size an item counts toward a page's 1 MB, as DynamoDB measures it:
/// names cost one byte each, strings carry a length prefix, and the sort
/// key is charged per 3 KB block. (dynalite's measure, which reproduces the
/// page boundaries its tests recorded against AWS.)
fn page_size(def: &TableDef, item: &Item) -> usize {
    fn plain(v: &AttributeValue) -> usize {
        match v {
            AttributeValue::S(s) => s.len(),
            AttributeValue::B(b) => b.len(),
            AttributeValue::N(n) => n.size_bytes(),
            _ => 0,
        }
    }
    fn stored(v: &AttributeValue) -> usize {
        match v {
            AttributeValue::S(s) => {
                s.len()
                    + if s.len() < 128 {
                        1
                    } else if s.len() < 16384 {
                        2
                    } else {
                        3
                    }
            }
            AttributeValue::B(b) => b.len() + 1,
            AttributeValue::N(n) => n.size_bytes() + 1,
            AttributeValue::Ss(m) => m.iter().map(|s| s.len()).sum::<usize>() + m.len() + 1,
            AttributeValue::Ns(m) => m.iter().map(|n| n.size_bytes()).sum::<usize>() + m.len() + 1,
            AttributeValue::Bs(m) => m.iter().map(Vec::len).sum::<usize>() + m.len() + 1,
            AttributeValue::Null => 0,
            AttributeValue::Bool(_) => 1,
            AttributeValue::L(l) => 3 + l.iter().map(|e| 1 + stored(e)).sum::<usize>(),
            AttributeValue::M(m) => 3 + m.len() + m.values().map(|e| stored(e) + 1).sum::<usize>(),
        }
    }
    let range = def.key_schema.range.as_ref().map(|r| r.name.as_str());
    let size: usize = item
        .iter()
        .filter(|(k, _)| Some(k.as_str()) != range)
        .map(|(_, v)| stored(v) + 1)
        .sum();
    let range_size = range.and_then(|r| item.get(r)).map_or(0, plain);
    2 + size + (1 + (1 + size) / 3072) * (18 + range_size)
}

fn read_page(
    source: &Source<'_>,
    iter: impl Iterator<Item = fjall::Guard>,
    opts: &PageOptions<'_>,
) -> Result<Page> {
    let full = |page: &Page| {
        opts.limit.is_some_and(|l| page.scanned_count >= l) || page.page_bytes >= PAGE_BYTES_MAX
    };
    let mut page = Page::default();
    let mut last = None;
    for guard in iter {
        if full(&page) {
            break;
        }
        let (_, value) = guard.into_inner()?;
        let entry = codec::decode_item(&value)?;
        page.scanned_count += 1;
        page.page_bytes += page_size(source.def, &entry);
        page.read_bytes += size::item_size(&entry);
        last = Some(source.last_key(&entry));
        let fetching = source.fetches();
        let Some(item) = source.load(entry)? else {
            continue;
        };
        if fetching {
            page.fetched_read_units += size::item_size(&item).div_ceil(4096).max(1);
        }
        if opts.filter.is_none_or(|f| eval::eval_condition(f, &item)) {
            page.items.push(item);
        }
    }
    // DynamoDB names the last item read whenever a limit stopped the page,
    // even if nothing follows it.
    if full(&page) {
        page.last_evaluated_key = last;
    }
    Ok(page)
}
