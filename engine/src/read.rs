//! Query and Scan: one page at a time, read from one snapshot, streaming
//! from the LSM so that a page never loads more of the table than it reads.
//!
//! A Query is one range scan: the partition's items share the key prefix
//! `table id | hash | enc(pk)` and are ordered by sort key inside it, and a
//! sort-key condition is a pair of bounds on `enc(sk)` (the encoding
//! preserves order). A Scan walks the table's prefix in hash order; parallel
//! segment `i` of `n` is the hash range `[i * 2^64 / n, (i + 1) * 2^64 / n)`.
//!
//! A page ends after `limit` items were read, or once the items read reach
//! [`PAGE_BYTES_MAX`] (in DynamoDB's page measure, [`page_size`]), both
//! counted before the filter, as DynamoDB counts them; `last_evaluated_key`
//! then names the last item read.

use std::ops::Bound;

use tarn_expr::ast::Condition;
use tarn_expr::{eval, key, size, AttributeValue, Item};

use fjall::Readable;

use crate::{codec, keys, Engine, Error, Result, TableDef, TableStatus};

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
}

/// A Query of one partition.
#[derive(Clone, Debug)]
pub struct QueryRequest<'a> {
    /// The partition key value.
    pub partition: &'a AttributeValue,
    /// The sort-key condition, if any.
    pub sort: Option<&'a SortCondition>,
    /// Ascending sort-key order (`ScanIndexForward`).
    pub forward: bool,
    /// Paging and filtering.
    pub page: PageOptions<'a>,
}

/// A Scan, or one segment of a parallel Scan.
#[derive(Clone, Debug)]
pub struct ScanRequest<'a> {
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
    /// Sum of the sizes of the items read, for capacity.
    pub read_bytes: usize,
    /// The same items as the 1 MB page limit measures them.
    pub page_bytes: usize,
}

const TYPE_MISMATCH: &str =
    "One or more parameter values were invalid: Condition parameter type does not match schema type";

/// The smallest key above every key that starts with `prefix`.
fn prefix_end(prefix: &[u8]) -> Bound<Vec<u8>> {
    let mut end = prefix.to_vec();
    while let Some(last) = end.pop() {
        if last < 0xFF {
            end.push(last + 1);
            return Bound::Excluded(end);
        }
    }
    Bound::Unbounded
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

impl Engine {
    /// The definition of an active table and a snapshot to read it from,
    /// taken together so the page sees one committed state.
    fn read_view(&self, table: &str) -> Result<(TableDef, fjall::Snapshot)> {
        let table = self.shared.table(table)?;
        let def = table.read();
        if def.status != TableStatus::Active {
            return Err(Error::TableNotFound(def.name.clone()));
        }
        Ok((def.clone(), self.shared.db.snapshot()))
    }

    /// Reads one page of a Query.
    pub fn query(&self, table: &str, q: &QueryRequest<'_>) -> Result<Page> {
        let (def, snapshot) = self.read_view(table)?;
        let ks = &def.key_schema;
        if q.partition.scalar_type() != Some(ks.hash.ty) {
            return Err(Error::Validation(TYPE_MISMATCH.into()));
        }
        let prefix = keys::partition_prefix(def.id, q.partition);
        let start = Bound::Included(prefix.clone());
        let end = prefix_end(&prefix);
        let (lo, hi) = match (q.sort, &ks.range) {
            (None, _) => (start, end),
            (Some(_), None) => {
                return Err(Error::Validation(
                    "Query key condition not supported".into(),
                ));
            }
            (Some(cond), Some(range)) => {
                let values = cond.values();
                if values.iter().any(|v| v.scalar_type() != Some(range.ty)) {
                    return Err(Error::Validation(TYPE_MISMATCH.into()));
                }
                match cond {
                    SortCondition::Eq(v) => {
                        let k = with(&prefix, v);
                        (Bound::Included(k.clone()), Bound::Included(k))
                    }
                    SortCondition::Lt(v) => (start, Bound::Excluded(with(&prefix, v))),
                    SortCondition::Le(v) => (start, Bound::Included(with(&prefix, v))),
                    SortCondition::Gt(v) => (Bound::Excluded(with(&prefix, v)), end),
                    SortCondition::Ge(v) => (Bound::Included(with(&prefix, v)), end),
                    SortCondition::Between(a, b) => (
                        Bound::Included(with(&prefix, a)),
                        Bound::Included(with(&prefix, b)),
                    ),
                    SortCondition::BeginsWith(v) => {
                        if v.scalar_type() == Some(tarn_expr::ScalarType::N) {
                            return Err(Error::Validation(
                                "Invalid KeyConditionExpression: Incorrect operand type for operator or function; operator or function: begins_with, operand type: N".into(),
                            ));
                        }
                        // A string or binary's encoding without its
                        // terminator is a prefix of the encoding of every
                        // value that starts with it.
                        let mut k = with(&prefix, v);
                        k.truncate(k.len() - 2);
                        let end = prefix_end(&k);
                        (Bound::Included(k), end)
                    }
                }
            }
        };
        let (mut lo, mut hi) = (lo, hi);
        if let Some(esk) = q.page.exclusive_start_key {
            check_query_start(&def, esk, q)?;
            let k = crate::key_storage_key(&def, esk)?;
            if q.forward {
                lo = max_lower(lo, Bound::Excluded(k));
            } else {
                hi = min_upper(hi, Bound::Excluded(k));
            }
        }
        if range_is_empty(&lo, &hi) {
            return Ok(Page::default());
        }
        let iter = snapshot.range(&self.shared.items, (lo, hi));
        if q.forward {
            read_page(&def, iter, &q.page)
        } else {
            read_page(&def, iter.rev(), &q.page)
        }
    }

    /// Reads one page of a Scan (segment).
    pub fn scan(&self, table: &str, s: &ScanRequest<'_>) -> Result<Page> {
        let (def, snapshot) = self.read_view(table)?;
        assert!(
            s.segment < s.total_segments,
            "segment {} of {}",
            s.segment,
            s.total_segments
        );
        let table_prefix = keys::table_prefix(def.id);
        let hash_at = |segment: u32| -> Option<[u8; 8]> {
            let start = (u128::from(segment) << 64) / u128::from(s.total_segments);
            u64::try_from(start).ok().map(u64::to_be_bytes)
        };
        let bound_at = |hash: [u8; 8]| {
            let mut k = table_prefix.to_vec();
            k.extend_from_slice(&hash);
            k
        };
        let mut lo = Bound::Included(bound_at(hash_at(s.segment).unwrap_or([0; 8])));
        let hi = match hash_at(s.segment + 1) {
            Some(h) if s.segment + 1 < s.total_segments => Bound::Excluded(bound_at(h)),
            _ => prefix_end(&table_prefix),
        };
        if let Some(esk) = s.page.exclusive_start_key {
            let k = start_key(&def, esk)?;
            // The start key must lie in this segment's slice of the hash space.
            let inside = |b: &Bound<Vec<u8>>, below: bool| match b {
                Bound::Included(x) => {
                    if below {
                        k >= *x
                    } else {
                        k <= *x
                    }
                }
                Bound::Excluded(x) => {
                    if below {
                        k > *x
                    } else {
                        k < *x
                    }
                }
                Bound::Unbounded => true,
            };
            if !inside(&lo, true) || !inside(&hi, false) {
                return Err(Error::Validation(format!(
                    "The provided starting key is invalid: Invalid ExclusiveStartKey. Please use ExclusiveStartKey with correct Segment. TotalSegments: {} Segment: {}",
                    s.total_segments, s.segment
                )));
            }
            lo = max_lower(lo, Bound::Excluded(k));
        }
        if range_is_empty(&lo, &hi) {
            return Ok(Page::default());
        }
        read_page(&def, snapshot.range(&self.shared.items, (lo, hi)), &s.page)
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
    crate::key_storage_key(def, esk).map_err(|e| match e {
        Error::Validation(m) => {
            Error::Validation(format!("The provided starting key is invalid: {m}"))
        }
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
        return Err(Error::Validation(
            "The provided starting key is invalid".into(),
        ));
    }
    let typed =
        |a: &crate::KeyAttr| esk.get(&a.name).and_then(AttributeValue::scalar_type) == Some(a.ty);
    if !typed(&ks.hash) || ks.range.as_ref().is_some_and(|r| !typed(r)) {
        return Err(Error::Validation(
            "The provided key element does not match the schema".into(),
        ));
    }
    let in_range = match (q.sort, &ks.range) {
        (Some(cond), Some(r)) => esk.get(&r.name).is_some_and(|v| satisfies(cond, v)),
        _ => true,
    };
    let same_partition = esk
        .get(&ks.hash.name)
        .is_some_and(|v| key::compare(v, q.partition).is_eq());
    let message = match (same_partition, q.sort.is_some(), in_range) {
        (true, _, true) => return Ok(()),
        (false, false, _) => {
            "The provided starting key is outside query boundaries based on provided conditions"
        }
        (_, _, false) => "The provided starting key does not match the range key predicate",
        (false, true, true) => "The query can return at most one row and cannot be restarted",
    };
    Err(Error::Validation(message.into()))
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

/// The key attributes of `item`, as `LastEvaluatedKey` names them.
fn key_of(def: &TableDef, item: &Item) -> Item {
    let ks = &def.key_schema;
    std::iter::once(&ks.hash)
        .chain(ks.range.as_ref())
        .filter_map(|a| item.get(&a.name).map(|v| (a.name.clone(), v.clone())))
        .collect()
}

fn read_page(
    def: &TableDef,
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
        let item = codec::decode_item(&value)?;
        page.scanned_count += 1;
        page.read_bytes += size::item_size(&item);
        page.page_bytes += page_size(def, &item);
        last = Some(key_of(def, &item));
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
