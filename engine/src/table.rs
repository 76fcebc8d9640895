//! A live table: its definition behind a lock, its counters, and its
//! stream states (whose lock is the stream lock).

use std::collections::HashMap;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex, RwLock};

use tarn_expr::{size, Item};

use crate::catalog::TableDef;
use crate::guard::{lock, read_lock, write_lock};
use crate::stream::StreamState;

/// A table as the catalog holds it, with its live counters.
pub(crate) struct Table {
    def: RwLock<TableDef>,
    pub(crate) item_count: AtomicI64,
    pub(crate) size_bytes: AtomicI64,
    /// Entries and bytes per index id.
    pub(crate) index_counters: Mutex<HashMap<u32, (i64, i64)>>,
    /// The shards of each stream in `def.streams`; also the stream lock,
    /// held by a write from sequence numbering until its commit.
    pub(crate) streams: Mutex<Vec<StreamState>>,
}

impl Table {
    /// A live table with zero counters.
    pub(crate) fn new(def: TableDef) -> Arc<Table> {
        Arc::new(Table {
            def: RwLock::new(def),
            item_count: AtomicI64::new(0),
            size_bytes: AtomicI64::new(0),
            index_counters: Mutex::new(HashMap::new()),
            streams: Mutex::new(Vec::new()),
        })
    }

    /// Adds to the counters of index `index_id`.
    pub(crate) fn account_index(&self, index_id: u32, count: i64, bytes: i64) {
        let mut counters = lock(&self.index_counters);
        let c = counters.entry(index_id).or_default();
        c.0 += count;
        c.1 += bytes;
    }

    /// The definition, for reading; item writes hold this across their
    /// commit.
    pub(crate) fn read(&self) -> std::sync::RwLockReadGuard<'_, TableDef> {
        read_lock(&self.def)
    }

    /// The definition, for changing; waits for item writes in flight.
    pub(crate) fn write(&self) -> std::sync::RwLockWriteGuard<'_, TableDef> {
        write_lock(&self.def)
    }

    /// The definition and counters as they are now.
    pub(crate) fn info(&self) -> TableInfo {
        let def = self.read().clone();
        let counters = lock(&self.index_counters);
        let indexes = def
            .indexes
            .iter()
            .map(|i| {
                let (count, bytes) = counters.get(&i.id).copied().unwrap_or_default();
                IndexInfo {
                    name: i.name.clone(),
                    item_count: count.max(0) as u64,
                    size_bytes: bytes.max(0) as u64,
                }
            })
            .collect();
        drop(counters);
        let streams = lock(&self.streams).clone();
        TableInfo {
            def,
            item_count: self.item_count.load(Ordering::Relaxed).max(0) as u64,
            size_bytes: self.size_bytes.load(Ordering::Relaxed).max(0) as u64,
            indexes,
            streams,
        }
    }

    /// Adds a write's change to the item counters.
    pub(crate) fn account(&self, old: Option<&Item>, new: Option<&Item>) {
        let count = i64::from(new.is_some()) - i64::from(old.is_some());
        let bytes = new.map_or(0, |i| size::item_size(i) as i64)
            - old.map_or(0, |i| size::item_size(i) as i64);
        self.item_count.fetch_add(count, Ordering::Relaxed);
        self.size_bytes.fetch_add(bytes, Ordering::Relaxed);
    }
}

/// A snapshot of a table's definition and counters.
#[derive(Clone, Debug)]
pub struct TableInfo {
    /// The definition.
    pub def: TableDef,
    /// Items in the table (approximate while a recount runs after start-up).
    pub item_count: u64,
    /// Sum of item sizes, as DynamoDB computes them.
    pub size_bytes: u64,
    /// Counters of each index of `def.indexes`, in the same order.
    pub indexes: Vec<IndexInfo>,
    /// The shards of each stream of `def.streams`.
    pub streams: Vec<StreamState>,
}

/// The live counters of one index.
#[derive(Clone, Debug)]
pub struct IndexInfo {
    /// Index name.
    pub name: String,
    /// Entries in the index.
    pub item_count: u64,
    /// Sum of entry sizes.
    pub size_bytes: u64,
}
