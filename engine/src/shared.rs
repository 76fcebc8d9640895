//! The state every part of the engine shares: the database and its
//! keyspaces, the live tables, the item locks, the group commit, the
//! background queues. Operations are methods on [`Shared`], each in the
//! module of its concern; this module holds only the state and the lookups
//! every operation needs.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex, RwLock, RwLockReadGuard};

use fjall::{Database, Keyspace, Readable};
use tarn_expr::size;

use crate::catalog::{TableDef, TableStatus};
use crate::clock::Clock;
use crate::codec;
use crate::commit::GroupCommit;
use crate::error::{Error, Result};
use crate::feed::Feed;
use crate::guard::read_lock;
use crate::index;
use crate::jobs::Queues;
use crate::keys;
use crate::stream::StreamInfo;
use crate::table::Table;
use crate::throttle::Buckets;

/// Number of striped item locks. A power of two, large enough that unrelated
/// items rarely share one.
pub(crate) const ITEM_LOCK_STRIPES: usize = 1024;

/// The engine's state, shared by every clone of the engine and (weakly)
/// by its background threads.
pub(crate) struct Shared {
    pub(crate) db: Database,
    pub(crate) catalog: Keyspace,
    pub(crate) items: Keyspace,
    /// Index entries of every table, keyed by index id first.
    pub(crate) indexes: Keyspace,
    /// Item collection sizes of tables with local indexes, keyed by the
    /// collection's partition prefix.
    pub(crate) collections: Keyspace,
    /// `ClientRequestToken`s of recent transactions.
    pub(crate) tokens: Keyspace,
    /// Expiry entries of tables with TTL, keyed by TTL setting id first.
    pub(crate) expiry: Keyspace,
    /// Change-log records, keyed by stream id first.
    pub(crate) changes: Keyspace,
    /// The retired streams of deleted tables, by stream id.
    pub(crate) retired: Mutex<BTreeMap<u32, StreamInfo>>,
    /// Copies of tables made by CreateBackup, keyed by backup id first.
    pub(crate) backups: Keyspace,
    /// Point-in-time recovery logs, keyed by PITR id first.
    pub(crate) pitr: Keyspace,
    /// The live tables by name (not those being dropped).
    pub(crate) tables: RwLock<BTreeMap<String, Arc<Table>>>,
    pub(crate) next_table_id: Mutex<u32>,
    /// Serializes DeleteBackup with the restores that read a backup.
    /// Lock order: this, then the name map, then a table's definition.
    pub(crate) backup_lock: Mutex<()>,
    /// The stamps of recovery-log records.
    pub(crate) pitr_clock: Clock,
    /// The oldest stamp each unfinished point-in-time restore still needs,
    /// by PITR id: the sweeper keeps those records.
    pub(crate) pitr_pins: Mutex<Vec<(u32, u64)>>,
    pub(crate) commit: GroupCommit,
    /// The durable watermark of every stream, advanced by `commit`.
    pub(crate) feed: Arc<Feed>,
    pub(crate) item_locks: Box<[Mutex<()>]>,
    pub(crate) collection_bytes_max: u64,
    pub(crate) backfill_pause_ms: u64,
    pub(crate) ttl_cooldown_ms: u64,
    pub(crate) buckets: Buckets,
    pub(crate) shard_rollover_ms: u64,
    pub(crate) stream_retention_ms: u64,
    /// The background workers' queues.
    pub(crate) jobs: Queues,
    /// The store's keyspaces by name (without the `store.` prefix).
    pub(crate) store_keyspaces: RwLock<HashMap<String, Keyspace>>,
    /// The next value of each store counter used since the open.
    pub(crate) store_counters: Mutex<HashMap<String, u64>>,
}

impl Shared {
    /// The live tables by name.
    pub(crate) fn read_tables(&self) -> RwLockReadGuard<'_, BTreeMap<String, Arc<Table>>> {
        read_lock(&self.tables)
    }

    /// The live table `name`.
    pub(crate) fn table(&self, name: &str) -> Result<Arc<Table>> {
        self.read_tables()
            .get(name)
            .cloned()
            .ok_or_else(|| Error::TableNotFound(name.to_owned()))
    }

    /// The bytes an item write locks on: the item key, or for a table with
    /// local indexes the partition prefix, since every write to the item
    /// collection updates its size.
    pub(crate) fn lock_key<'k>(&self, def: &TableDef, key: &'k [u8]) -> Result<&'k [u8]> {
        if def.has_local_indexes() {
            Ok(&key[..keys::partition_len(def.key_schema.hash.ty, key)?])
        } else {
            Ok(key)
        }
    }

    pub(crate) fn item_lock(&self, key: &[u8]) -> &Mutex<()> {
        &self.item_locks[self.stripe(key)]
    }

    /// The lock stripe of a lock key.
    pub(crate) fn stripe(&self, key: &[u8]) -> usize {
        // Bytes 4..12 are the partition hash; mix in the tail so that items
        // of one partition spread over stripes too.
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        for &b in key {
            h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
        }
        (h as usize) % ITEM_LOCK_STRIPES
    }

    /// Adds the items and index entries of `table` in `snapshot` to its
    /// counters (at start-up, before any request).
    pub(crate) fn recount(&self, snapshot: &fjall::Snapshot, table: &Table) {
        let id = table.read().id;
        let (mut count, mut bytes) = (0i64, 0i64);
        for guard in snapshot.prefix(&self.items, keys::table_prefix(id)) {
            let Ok(value) = guard.value() else { continue };
            count += 1;
            if let Ok(item) = codec::decode_item(&value) {
                bytes += size::item_size(&item) as i64;
            }
        }
        table.item_count.fetch_add(count, Ordering::Relaxed);
        table.size_bytes.fetch_add(bytes, Ordering::Relaxed);
        let index_ids: Vec<u32> = table.read().indexes.iter().map(|i| i.id).collect();
        for index_id in index_ids {
            let (mut count, mut bytes) = (0i64, 0i64);
            for guard in snapshot.prefix(&self.indexes, index_id.to_be_bytes()) {
                let Ok(value) = guard.value() else { continue };
                count += 1;
                if let Ok(entry) = codec::decode_item(&value) {
                    bytes += index::entry_size(&entry) as i64;
                }
            }
            table.account_index(index_id, count, bytes);
        }
    }

    /// Runs `f` on the definition of an active table.
    pub(crate) fn with_active_table<T>(
        &self,
        table: &str,
        f: impl FnOnce(&TableDef) -> Result<T>,
    ) -> Result<T> {
        let table = self.table(table)?;
        let def = table.read();
        if def.status != TableStatus::Active {
            return Err(Error::TableNotFound(def.name.clone()));
        }
        f(&def)
    }
    /// Rotates every memtable and waits at most `limit` for the flushes;
    /// returns whether they all finished.
    pub(crate) fn flush_memtables(&self, limit: std::time::Duration) -> Result<bool> {
        let keyspaces = [
            &self.catalog,
            &self.items,
            &self.indexes,
            &self.collections,
            &self.tokens,
            &self.expiry,
            &self.changes,
            &self.backups,
            &self.pitr,
        ];
        let store: Vec<Keyspace> = read_lock(&self.store_keyspaces).values().cloned().collect();
        let all = || keyspaces.into_iter().chain(&store);
        for keyspace in all() {
            keyspace.rotate_memtable()?;
        }
        let deadline = std::time::Instant::now() + limit;
        while all().any(|k| k.sealed_memtable_count() > 0) {
            if std::time::Instant::now() >= deadline {
                return Ok(false);
            }
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
        Ok(true)
    }
}
