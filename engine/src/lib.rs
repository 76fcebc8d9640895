//! Tarn's storage engine: tables and items on one fjall database.
//!
//! The engine owns the catalog of tables, the item store, and durability.
//! Its API is synchronous and knows nothing of HTTP or JSON: the server calls
//! it from blocking threads. Layout and record formats are in
//! `docs/storage.md`.
//!
//! Invariants:
//! - A write is acknowledged (its call returns `Ok`) only once its batch is
//!   durable under the configured [`Durability`]; concurrent writers share
//!   journal syncs ([`commit`]).
//! - Writes to one item are serialized by a striped lock that covers reading
//!   the old item, checking, and committing, so conditional logic built on
//!   the old image is linearizable per item.
//! - A table's id is never reused; a deleted table leaves the name map in
//!   the call that deletes it, its items are dropped in the background, and
//!   no write lands in a table once it is `DELETING`.
//! - An item's index entries and its item collection's size are written in
//!   the item's own batch, by one function ([`Shared::updated`]).

#![forbid(unsafe_code)]

mod background;
pub mod backup;
mod catalog;
pub mod changelog;
pub mod codec;
mod commit;
pub mod index;
mod keys;
mod lock;
mod maintain;
pub mod pitr;
mod read;
mod restore;
pub mod retired;
mod throttle;
mod transact;
mod ttl;

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex, PoisonError, RwLock};
use std::time::{SystemTime, UNIX_EPOCH};

use fjall::{Database, Keyspace, KeyspaceCreateOptions, Readable};
use tarn_expr::ast::{Condition, Update};
use tarn_expr::{eval, key, resolve, size, AttributeValue, Item};

pub use backup::{Backup, BackupStatus, BackupType};
pub use catalog::{
    BillingMode, KeyAttr, KeySchema, PitrDef, RestoreDef, RestoreSource, TableClass, TableDef,
    TableSettings, TableStatus, Throughput, TtlDef,
};
pub use codec::DecodeError;
pub use commit::{CommitStats, Durability};
pub use index::{
    IndexDef, IndexKind, IndexProjection, IndexStatus, NewIndex, ProjectionType,
    GLOBAL_INDEXES_MAX, LOCAL_INDEXES_MAX,
};
pub use maintain::{IndexWrite, ItemCollection, Written};
pub use pitr::{PitrWindow, RECOVERY_PERIOD_DAYS_MAX};
pub use read::{Page, PageOptions, QueryRequest, ScanRequest, SortCondition, PAGE_BYTES_MAX};
pub use restore::RestoreTarget;
pub use throttle::{Side, Throttled};
pub use transact::{
    CancelReason, IdempotencyToken, TransactAction, TransactWritten, TOKEN_TTL_MS,
    TRANSACT_ITEMS_MAX,
};

/// Number of striped item locks. A power of two, large enough that unrelated
/// items rarely share one.
const ITEM_LOCK_STRIPES: usize = 1024;
/// DynamoDB's limit on tags per table.
pub const TAGS_MAX: usize = 50;
/// DynamoDB's item collection size limit for tables with local indexes.
pub const ITEM_COLLECTION_BYTES_MAX: u64 = 10 * 1024 * 1024 * 1024;
/// DynamoDB's partition key size limit.
pub const HASH_KEY_BYTES_MAX: usize = 2048;
/// DynamoDB's sort key size limit.
pub const RANGE_KEY_BYTES_MAX: usize = 1024;

const CATALOG_TABLE_PREFIX: u8 = b'T';
/// Prefix of the records of deleted tables whose data is being dropped,
/// keyed by table id.
const CATALOG_DROP_PREFIX: u8 = b'D';
const CATALOG_NEXT_ID: &[u8] = b"N";

/// Engine errors. Messages of client-caused errors are DynamoDB's.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The table does not exist (or is being deleted, for data operations).
    #[error("Requested resource not found: Table: {0} not found")]
    TableNotFound(String),
    /// CreateTable of a name in use.
    #[error("Table already exists: {0}")]
    TableExists(String),
    /// A control-plane operation on a table that is being deleted.
    #[error("Attempt to change a resource which is still in use: Table is being deleted: {0}")]
    TableBeingDeleted(String),
    /// The write's condition did not hold; carries the old item, if any,
    /// for `ReturnValuesOnConditionCheckFailure`.
    #[error("The conditional request failed")]
    ConditionalCheckFailed(Option<Item>),
    /// A request that DynamoDB answers with ValidationException.
    #[error("{0}")]
    Validation(String),
    /// A control-plane request over an account or table limit
    /// (LimitExceededException).
    #[error("{0}")]
    LimitExceeded(String),
    /// A table or index that a control-plane request names does not exist
    /// (ResourceNotFoundException with this message).
    #[error("{0}")]
    ResourceNotFound(String),
    /// A control-plane request that conflicts with the resource's state
    /// (ResourceInUseException with this message).
    #[error("{0}")]
    ResourceInUse(String),
    /// A write would grow an item collection of a table with local indexes
    /// past its size limit.
    #[error("Collection size exceeded")]
    ItemCollectionSizeLimitExceeded,
    /// A transaction was not applied; one reason per action, in order.
    #[error("Transaction cancelled")]
    TransactionCanceled(Vec<CancelReason>),
    /// `--enforce-throughput`: the table or index is out of capacity.
    #[error("{}", .0.message())]
    Throttled(Throttled),
    /// A `ClientRequestToken` seen within ten minutes with another request.
    #[error("Request with the same client token has different parameters")]
    IdempotentParameterMismatch,
    /// Another process has the data directory open.
    #[error("the data directory is in use by another process{}", .holder_pid.map(|p| format!(" (pid {p})")).unwrap_or_default())]
    Locked {
        /// The process holding it, where the system says.
        holder_pid: Option<u32>,
    },
    /// The storage layer failed; after a failed sync every write fails.
    #[error("storage failure: {0}")]
    Storage(#[from] fjall::Error),
    /// A stored record does not decode.
    #[error(transparent)]
    Corrupt(#[from] DecodeError),
    /// A backup or recovery operation names a table that does not exist
    /// (TableNotFoundException).
    #[error("Table not found: {0}")]
    BackupTableNotFound(String),
    /// A restore's target name is taken (TableAlreadyExistsException).
    #[error("Table already exists: {0}")]
    TableAlreadyExists(String),
    /// A backup or restore of a table that is being created or deleted
    /// (TableInUseException, with this message).
    #[error("{0}")]
    TableInUse(String),
    /// No backup with this id (BackupNotFoundException); carries the id.
    #[error("Backup not found")]
    BackupNotFound(u32),
    /// A backup that is being created or restored (BackupInUseException,
    /// with this message).
    #[error("{0}")]
    BackupInUse(String),
    /// A point-in-time restore of a table without recovery enabled.
    #[error("Point in time recovery is not enabled for table '{0}'")]
    PitrUnavailable(String),
    /// A restore time outside the recovery window (InvalidRestoreTimeException,
    /// with this message).
    #[error("{0}")]
    InvalidRestoreTime(String),
}

/// Result of engine calls.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// How to open the engine.
#[derive(Clone, Debug)]
pub struct Options {
    /// Data directory; `None` means a throw-away temporary directory.
    pub data_dir: Option<PathBuf>,
    /// When writes are acknowledged. Forced to [`Durability::Memory`] when
    /// `data_dir` is `None`.
    pub durability: Durability,
    /// Largest item collection of a table with local indexes (DynamoDB's
    /// 10 GB; smaller only for tests).
    pub item_collection_bytes_max: u64,
    /// Pause between backfill batches of a new global index, for tests that
    /// must write while a backfill runs (0 in production).
    pub backfill_pause_ms: u64,
    /// How often the TTL sweeper looks for expired items.
    pub ttl_sweep_interval_ms: u64,
    /// Minimum time between two TTL changes of one table (DynamoDB's is
    /// about an hour; 0, the default, allows any).
    pub ttl_cooldown_ms: u64,
    /// Throttle requests beyond provisioned throughput and on-demand
    /// maxima, as DynamoDB does (off by default, like DynamoDB Local).
    pub enforce_throughput: bool,
    /// Unused capacity a provisioned table keeps for bursts (DynamoDB's
    /// 300 seconds).
    pub burst_seconds: u64,
    /// Age at which a stream shard closes and a child takes over
    /// (DynamoDB's is about four hours).
    pub stream_shard_rollover_ms: u64,
    /// How long stream records are kept (DynamoDB's 24 hours).
    pub stream_retention_ms: u64,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            data_dir: None,
            durability: Durability::Sync,
            item_collection_bytes_max: ITEM_COLLECTION_BYTES_MAX,
            backfill_pause_ms: 0,
            ttl_sweep_interval_ms: 1000,
            ttl_cooldown_ms: 0,
            enforce_throughput: false,
            burst_seconds: 300,
            stream_shard_rollover_ms: 4 * 3600 * 1000,
            stream_retention_ms: 24 * 3600 * 1000,
        }
    }
}

/// A table as the catalog holds it, with its live counters.
struct Table {
    def: RwLock<TableDef>,
    item_count: AtomicI64,
    size_bytes: AtomicI64,
    /// Entries and bytes per index id.
    index_counters: Mutex<HashMap<u32, (i64, i64)>>,
    /// The shards of each stream in `def.streams`; also the stream lock,
    /// held by a write from sequence numbering until its commit.
    streams: Mutex<Vec<changelog::StreamState>>,
}

impl Table {
    fn new(def: TableDef) -> Arc<Table> {
        Arc::new(Table {
            def: RwLock::new(def),
            item_count: AtomicI64::new(0),
            size_bytes: AtomicI64::new(0),
            index_counters: Mutex::new(HashMap::new()),
            streams: Mutex::new(Vec::new()),
        })
    }

    fn account_index(&self, index_id: u32, count: i64, bytes: i64) {
        let mut counters = lock(&self.index_counters);
        let c = counters.entry(index_id).or_default();
        c.0 += count;
        c.1 += bytes;
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, TableDef> {
        self.def.read().unwrap_or_else(PoisonError::into_inner)
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, TableDef> {
        self.def.write().unwrap_or_else(PoisonError::into_inner)
    }

    fn info(&self) -> TableInfo {
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

    fn account(&self, old: Option<&Item>, new: Option<&Item>) {
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
    pub streams: Vec<changelog::StreamState>,
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

/// What CreateTable asks for, already validated for shape by the caller.
#[derive(Clone, Debug)]
pub struct CreateTable {
    /// Table name.
    pub name: String,
    /// Primary key.
    pub key_schema: KeySchema,
    /// Attribute definitions.
    pub attribute_definitions: Vec<KeyAttr>,
    /// Billing mode.
    pub billing_mode: BillingMode,
    /// Read and write units for provisioned tables.
    pub throughput: Option<(u64, u64)>,
    /// Local and global secondary indexes, validated for shape.
    pub indexes: Vec<NewIndex>,
    /// Tags, deletion protection, table class, encryption and on-demand
    /// maxima (TTL is set by UpdateTimeToLive).
    pub settings: TableSettings,
    /// A stream to enable, with its view type.
    pub stream: Option<changelog::StreamViewType>,
}

/// What UpdateTable asks to change.
#[derive(Clone, Debug, Default)]
pub struct UpdateTable {
    /// New billing mode.
    pub billing_mode: Option<BillingMode>,
    /// New provisioned read and write units.
    pub throughput: Option<(u64, u64)>,
    /// Global secondary index changes.
    pub index_updates: Vec<IndexUpdate>,
    /// New deletion protection.
    pub deletion_protection: Option<bool>,
    /// New table class.
    pub table_class: Option<TableClass>,
    /// New encryption: `Some(None)` for the default key, `Some(Some(arn))`
    /// for a KMS key.
    pub sse_kms_key: Option<Option<String>>,
    /// New on-demand maxima, read and write (-1 removes one; `None` keeps
    /// a member as it is).
    pub on_demand: Option<(Option<i64>, Option<i64>)>,
    /// `Some(Some(view))` enables a stream, `Some(None)` disables the
    /// enabled one.
    pub stream: Option<Option<changelog::StreamViewType>>,
}

/// One member of UpdateTable's `GlobalSecondaryIndexUpdates`.
#[derive(Clone, Debug)]
pub enum IndexUpdate {
    /// Create a global index online; existing items are backfilled.
    Create(NewIndex),
    /// Change an index's provisioned throughput.
    Update {
        /// Index name.
        name: String,
        /// New read and write units.
        throughput: (u64, u64),
    },
    /// Delete a global index.
    Delete {
        /// Index name.
        name: String,
    },
}

struct Shared {
    db: Database,
    catalog: Keyspace,
    items: Keyspace,
    /// Index entries of every table, keyed by index id first.
    indexes: Keyspace,
    /// Item collection sizes of tables with local indexes, keyed by the
    /// collection's partition prefix.
    collections: Keyspace,
    /// `ClientRequestToken`s of recent transactions.
    tokens: Keyspace,
    /// Expiry entries of tables with TTL, keyed by TTL setting id first.
    expiry: Keyspace,
    /// Change-log records, keyed by stream id first.
    changes: Keyspace,
    /// The retired streams of deleted tables, by stream id.
    retired: Mutex<BTreeMap<u32, changelog::StreamInfo>>,
    /// Copies of tables made by CreateBackup, keyed by backup id first.
    backups: Keyspace,
    /// Point-in-time recovery logs, keyed by PITR id first.
    pitr: Keyspace,
    /// The live tables by name (not those being dropped).
    tables: RwLock<BTreeMap<String, Arc<Table>>>,
    next_table_id: Mutex<u32>,
    /// Serializes DeleteBackup with the restores that read a backup.
    /// Lock order: this, then the name map, then a table's definition.
    backup_lock: Mutex<()>,
    /// The stamps of recovery-log records.
    pitr_clock: pitr::Clock,
    /// The oldest stamp each unfinished point-in-time restore still needs,
    /// by PITR id: the sweeper keeps those records.
    pitr_pins: Mutex<Vec<(u32, u64)>>,
    commit: commit::GroupCommit,
    item_locks: Box<[Mutex<()>]>,
    collection_bytes_max: u64,
    backfill_pause_ms: u64,
    ttl_cooldown_ms: u64,
    buckets: throttle::Buckets,
    shard_rollover_ms: u64,
    stream_retention_ms: u64,
}

/// The storage engine. Cheap to clone; all clones share one database.
#[derive(Clone)]
pub struct Engine {
    shared: Arc<Shared>,
    jobs: background::Queues,
    /// Stops and joins the TTL sweeper when the last clone goes.
    _sweeper: Arc<ttl::Sweeper>,
    /// Keeps a throw-away directory alive as long as the engine.
    _temp_dir: Option<Arc<tempfile::TempDir>>,
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

fn catalog_key(name: &str) -> Vec<u8> {
    let mut k = Vec::with_capacity(name.len() + 1);
    k.push(CATALOG_TABLE_PREFIX);
    k.extend_from_slice(name.as_bytes());
    k
}

/// DeleteTable's and UpdateTable's answer for a table being restored.
fn being_created(name: &str) -> Error {
    Error::ResourceInUse(format!(
        "Attempt to change a resource which is still in use: Table is being created: {name}"
    ))
}

/// The catalog key of a deleted table's record while its data is dropped.
fn drop_key(table_id: u32) -> [u8; 5] {
    let mut k = [CATALOG_DROP_PREFIX, 0, 0, 0, 0];
    k[1..].copy_from_slice(&table_id.to_be_bytes());
    k
}

impl Engine {
    /// Opens (or creates) the database and resumes unfinished table drops.
    pub fn open(options: Options) -> Result<Engine> {
        let (path, temp_dir, durability): (PathBuf, _, _) = match &options.data_dir {
            Some(dir) => (dir.clone(), None, options.durability),
            None => {
                let dir = tempfile::Builder::new()
                    .prefix("tarn-memory-")
                    .tempdir()
                    .map_err(|e| Error::Storage(e.into()))?;
                (
                    dir.path().to_path_buf(),
                    Some(Arc::new(dir)),
                    Durability::Memory,
                )
            }
        };
        Self::open_at(&path, durability, temp_dir, &options)
    }

    fn open_at(
        path: &Path,
        durability: Durability,
        temp_dir: Option<Arc<tempfile::TempDir>>,
        options: &Options,
    ) -> Result<Engine> {
        // Batches stay in the journal's buffer until the group-commit leader
        // flushes (and, under `sync`, fsyncs) them for the whole group:
        // fjall's default would write(2) every batch on its own.
        let db = match Database::builder(path).manual_journal_persist(true).open() {
            Ok(db) => db,
            Err(fjall::Error::Locked) => {
                return Err(Error::Locked {
                    holder_pid: lock::holder(path),
                })
            }
            Err(e) => return Err(e.into()),
        };
        let catalog = db.keyspace("catalog", KeyspaceCreateOptions::default)?;
        let items = db.keyspace("items", KeyspaceCreateOptions::default)?;
        let indexes = db.keyspace("indexes", KeyspaceCreateOptions::default)?;
        let collections = db.keyspace("collections", KeyspaceCreateOptions::default)?;
        let tokens = db.keyspace("tokens", KeyspaceCreateOptions::default)?;
        let expiry = db.keyspace("expiry", KeyspaceCreateOptions::default)?;
        let changes = db.keyspace("changes", KeyspaceCreateOptions::default)?;
        let backups = db.keyspace("backups", KeyspaceCreateOptions::default)?;
        let pitr = db.keyspace("pitr", KeyspaceCreateOptions::default)?;

        let mut tables = BTreeMap::new();
        let mut dropping = Vec::new();
        let mut max_id = 0u32;
        // Records of tables deleted by an earlier version, which kept a
        // deleted table under its name, move to the drop records.
        let mut migrate = db.batch();
        for guard in catalog.prefix([CATALOG_TABLE_PREFIX]) {
            let (_, value) = guard.into_inner()?;
            let def = TableDef::decode(&value)?;
            max_id = max_id.max(def.id);
            if def.status == TableStatus::Deleting {
                migrate.remove(&catalog, catalog_key(&def.name));
                migrate.insert(&catalog, drop_key(def.id), def.encode());
                dropping.push(def);
            } else {
                tables.insert(def.name.clone(), Table::new(def));
            }
        }
        if !migrate.is_empty() {
            migrate.commit()?;
            db.persist(fjall::PersistMode::SyncAll)?;
        }
        for guard in catalog.prefix([CATALOG_DROP_PREFIX]) {
            let (_, value) = guard.into_inner()?;
            let def = TableDef::decode(&value)?;
            max_id = max_id.max(def.id);
            if !dropping.iter().any(|d| d.id == def.id) {
                dropping.push(def);
            }
        }
        let next_id = match catalog.get(CATALOG_NEXT_ID)? {
            Some(v) if v.len() == 4 => u32::from_be_bytes([v[0], v[1], v[2], v[3]]),
            Some(_) => return Err(DecodeError("table id counter").into()),
            None => 1,
        };
        // The counter is written with every table record, so it is always
        // past every id in the catalog; anything else is corruption.
        assert!(
            next_id > max_id,
            "table id counter {next_id} not past id {max_id}"
        );

        let shared = Arc::new(Shared {
            commit: commit::GroupCommit::new(db.clone(), durability)?,
            db,
            catalog,
            items,
            indexes,
            collections,
            tokens,
            expiry,
            changes,
            retired: Mutex::new(BTreeMap::new()),
            backups,
            pitr,
            tables: RwLock::new(tables),
            next_table_id: Mutex::new(next_id),
            backup_lock: Mutex::new(()),
            pitr_clock: pitr::Clock::default(),
            pitr_pins: Mutex::new(Vec::new()),
            item_locks: (0..ITEM_LOCK_STRIPES).map(|_| Mutex::new(())).collect(),
            collection_bytes_max: options.item_collection_bytes_max,
            backfill_pause_ms: options.backfill_pause_ms,
            ttl_cooldown_ms: options.ttl_cooldown_ms,
            buckets: throttle::Buckets::new(options.enforce_throughput, options.burst_seconds),
            shard_rollover_ms: options.stream_shard_rollover_ms.max(1),
            stream_retention_ms: options.stream_retention_ms.max(1),
        });
        for table in shared.read_tables().values() {
            let states = shared.load_stream_states(&table.read())?;
            *lock(&table.streams) = states;
            shared.advance_pitr_clock(&table.read())?;
        }
        // Restores that were running need their recovery-log records kept
        // from before the sweeper's first pass.
        for table in shared.read_tables().values() {
            shared.pin_restore(&table.read());
        }
        shared.load_retired()?;

        // Counters are recounted from a snapshot taken before any request is
        // served; writes after it add their deltas on top.
        let snapshot = shared.db.snapshot();
        let existing: Vec<Arc<Table>> = shared.read_tables().values().cloned().collect();
        // Background threads hold weak handles so that dropping the last
        // `Engine` closes the database.
        let recount_shared = Arc::downgrade(&shared);
        std::thread::Builder::new()
            .name("tarn-recount".into())
            .spawn(move || {
                for table in existing {
                    let Some(shared) = recount_shared.upgrade() else {
                        return;
                    };
                    shared.recount(&snapshot, &table);
                }
            })
            .map_err(|e| Error::Storage(e.into()))?;

        let jobs = background::start(&shared)?;
        let sweeper = ttl::start_sweeper(
            Arc::downgrade(&shared),
            std::time::Duration::from_millis(options.ttl_sweep_interval_ms.max(1)),
        )?;
        let engine = Engine {
            shared,
            jobs,
            _sweeper: Arc::new(sweeper),
            _temp_dir: temp_dir,
        };
        // The catalog is the durable work queue: resume what was unfinished.
        for def in dropping {
            engine.submit(background::Job::DropTable(Table::new(def)));
        }
        for id in engine.shared.unfinished_backup_work()? {
            engine.submit(id);
        }
        for table in engine.shared.read_tables().values() {
            let def = table.read();
            if def.status == TableStatus::Creating {
                engine.submit(background::Job::Restore(Arc::clone(table), None));
            }
            for &backup in &def.backups_creating {
                engine.submit(background::Job::CopyBackup(Arc::clone(table), backup));
            }
            for index in &def.indexes {
                match index.status {
                    IndexStatus::Creating => engine.submit(background::Job::Backfill(
                        Arc::clone(table),
                        background::Backfill::Index(index.id),
                    )),
                    IndexStatus::Deleting => {
                        engine.submit(background::Job::DropIndex(Arc::clone(table), index.id))
                    }
                    IndexStatus::Active => {}
                }
            }
            if let Some(ttl) = def.settings.ttl.as_ref().filter(|t| !t.backfilled) {
                engine.submit(background::Job::Backfill(
                    Arc::clone(table),
                    background::Backfill::Expiry(ttl.id),
                ));
            }
        }
        Ok(engine)
    }

    /// Group-commit counters since the engine was opened.
    pub fn commit_stats(&self) -> CommitStats {
        self.shared.commit.stats()
    }

    /// Writes every memtable out to disk segments, so that the next open
    /// replays at most the active journal's tail instead of everything
    /// written since the last flush. Nothing depends on it for durability
    /// (the journal holds every acknowledged write); call it once the
    /// server has stopped taking requests. Waits at most `limit` for the
    /// flushes and returns whether they all finished.
    pub fn flush_memtables(&self, limit: std::time::Duration) -> Result<bool> {
        let s = &self.shared;
        let keyspaces = [
            &s.catalog,
            &s.items,
            &s.indexes,
            &s.collections,
            &s.tokens,
            &s.expiry,
            &s.changes,
            &s.backups,
            &s.pitr,
        ];
        for keyspace in keyspaces {
            keyspace.rotate_memtable()?;
        }
        let deadline = std::time::Instant::now() + limit;
        while keyspaces.iter().any(|k| k.sealed_memtable_count() > 0) {
            if std::time::Instant::now() >= deadline {
                return Ok(false);
            }
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
        Ok(true)
    }

    // ---- tables ----

    /// Creates a table. It is usable as soon as this returns.
    pub fn create_table(&self, req: CreateTable) -> Result<TableInfo> {
        let s = &self.shared;
        let mut tables = s.tables.write().unwrap_or_else(PoisonError::into_inner);
        if tables.contains_key(&req.name) {
            return Err(Error::TableExists(req.name));
        }
        let mut next_id = lock(&s.next_table_id);
        let id = *next_id;
        let now = now_ms();
        let (read_units, write_units) = req.throughput.unwrap_or((0, 0));
        let exhausted =
            || Error::LimitExceeded("Subscriber limit exceeded: table ids exhausted".into());
        let mut new_next = id.checked_add(1).ok_or_else(exhausted)?;
        let mut indexes = Vec::with_capacity(req.indexes.len());
        for index in req.indexes {
            indexes.push(new_index_def(index, new_next, IndexStatus::Active, now));
            new_next = new_next.checked_add(1).ok_or_else(exhausted)?;
        }
        let def = TableDef {
            id,
            name: req.name.clone(),
            status: TableStatus::Active,
            created_ms: now,
            key_schema: req.key_schema,
            attribute_definitions: req.attribute_definitions,
            billing_mode: req.billing_mode,
            throughput: Throughput {
                read_units,
                write_units,
                ..Default::default()
            },
            pay_per_request_since_ms: (req.billing_mode == BillingMode::PayPerRequest)
                .then_some(now),
            indexes,
            settings: TableSettings {
                ttl: None,
                ttl_changed_ms: 0,
                pitr: None,
                ..req.settings
            },
            streams: Vec::new(),
            backups_creating: Vec::new(),
            restore: None,
        };
        let mut def = def;
        let mut states = Vec::new();
        if let Some(view_type) = req.stream {
            let created_ms = now.max(s.stream_label_floor(&def.name, &def));
            states.push(enable_stream(&mut def, new_next, view_type, created_ms));
            new_next = new_next.checked_add(1).ok_or_else(exhausted)?;
        }
        let mut batch = s.db.batch();
        batch.insert(&s.catalog, catalog_key(&def.name), def.encode());
        batch.insert(&s.catalog, CATALOG_NEXT_ID, new_next.to_be_bytes());
        for state in &states {
            batch.insert(
                &s.catalog,
                changelog::state_key(state.stream),
                state.encode(),
            );
        }
        s.commit.commit(batch)?;
        *next_id = new_next;
        let table = Table::new(def);
        *lock(&table.streams) = states;
        let info = table.info();
        tables.insert(req.name, table);
        Ok(info)
    }

    /// The definition of a table (a cheaper [`describe_table`](Self::describe_table)
    /// for requests that need only the schema).
    pub fn table_def(&self, name: &str) -> Result<TableDef> {
        Ok(self.shared.table(name)?.read().clone())
    }

    /// Describes a table, including one that is being deleted.
    pub fn describe_table(&self, name: &str) -> Result<TableInfo> {
        Ok(self.shared.table(name)?.info())
    }

    /// Lists table names in order, starting after `exclusive_start`, at most
    /// `limit` of them. The second value is the last name returned when more
    /// tables follow it.
    pub fn list_tables(
        &self,
        exclusive_start: Option<&str>,
        limit: usize,
    ) -> (Vec<String>, Option<String>) {
        let tables = self.shared.read_tables();
        let mut names = Vec::with_capacity(limit.min(tables.len()));
        let range = match exclusive_start {
            Some(start) => tables
                .range::<str, _>((std::ops::Bound::Excluded(start), std::ops::Bound::Unbounded)),
            None => tables.range::<str, _>(..),
        };
        let mut more = false;
        for (name, _) in range {
            if names.len() == limit {
                more = true;
                break;
            }
            names.push(name.clone());
        }
        let last = if more { names.last().cloned() } else { None };
        (names, last)
    }

    /// Deletes a table: marks it `DELETING`, moves its record from its name
    /// to its id (durably, one batch) and takes it out of the name map, so
    /// that from the return on the name is free and nothing finds the
    /// table; its data is dropped in the background. Returns the table as
    /// it was marked.
    pub fn delete_table(&self, name: &str) -> Result<TableInfo> {
        let s = &self.shared;
        let table = s.table(name)?;
        {
            // The write lock waits for in-flight item writes, so none lands
            // in the table after it is marked.
            let mut def = table.write();
            match def.status {
                TableStatus::Active => {}
                // A concurrent DeleteTable got there first.
                TableStatus::Deleting => return Err(Error::TableNotFound(name.to_owned())),
                TableStatus::Creating => return Err(being_created(name)),
            }
            if def.settings.deletion_protection {
                return Err(Error::Validation(
                    "Resource cannot be deleted as it is currently protected against deletion. Disable deletion protection first.".into(),
                ));
            }
            if def.indexes.iter().any(|i| i.status != IndexStatus::Active) {
                return Err(Error::ResourceInUse(
                    "Attempt to change a resource which is still in use: Cannot delete table while indexes are being created, updated, or deleted.".into(),
                ));
            }
            let mut marked = def.clone();
            marked.status = TableStatus::Deleting;
            let mut batch = s.db.batch();
            batch.remove(&s.catalog, catalog_key(name));
            batch.insert(&s.catalog, drop_key(marked.id), marked.encode());
            // The streams outlive the table, readable until retention.
            let mut states = lock(&table.streams);
            let mut closed = states.clone();
            let retired = s.retire_streams(&def, &mut closed, now_ms(), &mut batch);
            s.commit.commit(batch)?;
            *states = closed;
            drop(states);
            s.publish_retired(retired);
            *def = marked;
        }
        {
            let mut tables = s.tables.write().unwrap_or_else(PoisonError::into_inner);
            if tables.get(name).is_some_and(|t| Arc::ptr_eq(t, &table)) {
                tables.remove(name);
            }
        }
        let info = table.info();
        self.submit(background::Job::DropTable(table));
        Ok(info)
    }

    /// Queues background work on the drop or the fill worker. The
    /// receivers live as long as the engine; if a worker died the catalog
    /// still records the work, and it resumes at the next start.
    fn submit(&self, job: background::Job) {
        self.jobs.submit(job);
    }

    /// Changes billing mode, provisioned throughput and global indexes. A
    /// created index is maintained by every write from the moment this
    /// returns and backfilled in the background; a deleted one stops being
    /// maintained at once and its entries are dropped in the background.
    pub fn update_table(&self, name: &str, update: UpdateTable) -> Result<TableInfo> {
        let s = &self.shared;
        let table = s.table(name)?;
        let mut jobs = Vec::new();
        {
            // The write lock waits for in-flight item writes: every write
            // after it sees the new index list.
            let mut def = table.write();
            match def.status {
                TableStatus::Active => {}
                TableStatus::Deleting => return Err(Error::TableNotFound(name.to_owned())),
                TableStatus::Creating => return Err(being_created(name)),
            }
            let now = now_ms();
            let mut new = def.clone();
            if update.billing_mode.is_some() || update.throughput.is_some() {
                apply_update(&mut new, &update, now)?;
            }
            apply_settings(&mut new.settings, &update, now);
            if new.billing_mode == BillingMode::Provisioned {
                // On-demand maxima do not survive a switch to provisioned.
                new.settings.on_demand = None;
            }
            let mut next_id = lock(&s.next_table_id);
            let mut new_next = *next_id;
            for change in &update.index_updates {
                match change {
                    IndexUpdate::Create(index) => {
                        check_index_create(&new, index)?;
                        for attr in index.hash.iter().chain(&index.range) {
                            if !new
                                .attribute_definitions
                                .iter()
                                .any(|a| a.name == attr.name)
                            {
                                new.attribute_definitions.push(attr.clone());
                            }
                        }
                        let id = new_next;
                        new_next = new_next.checked_add(1).ok_or_else(|| {
                            Error::LimitExceeded("Subscriber limit exceeded: ids exhausted".into())
                        })?;
                        let mut index_def =
                            new_index_def(index.clone(), id, IndexStatus::Creating, now);
                        index_def.backfilling = true;
                        new.indexes.push(index_def);
                        jobs.push(background::Job::Backfill(
                            Arc::clone(&table),
                            background::Backfill::Index(id),
                        ));
                    }
                    IndexUpdate::Update {
                        name: index,
                        throughput,
                    } => {
                        let i = find_global(&new, index)?;
                        let d = &mut new.indexes[i];
                        d.read_units = throughput.0;
                        d.write_units = throughput.1;
                    }
                    IndexUpdate::Delete { name: index } => {
                        let i = find_global(&new, index)?;
                        // A backfilling index may itself be deleted.
                        if new
                            .indexes
                            .iter()
                            .enumerate()
                            .any(|(j, x)| j != i && x.status != IndexStatus::Active)
                        {
                            check_one_online_change(&new)?;
                        }
                        // A backfill in progress stops at its next batch.
                        new.indexes[i].status = IndexStatus::Deleting;
                        jobs.push(background::Job::DropIndex(
                            Arc::clone(&table),
                            new.indexes[i].id,
                        ));
                    }
                }
            }
            let mut streams = lock(&table.streams);
            let mut new_states = streams.clone();
            match update.stream {
                Some(Some(view_type)) => {
                    if new.enabled_stream().is_some() {
                        return Err(Error::Validation(format!(
                            "Table already has an enabled stream: TableName: {name}"
                        )));
                    }
                    let created_ms = now.max(s.stream_label_floor(name, &new));
                    new_states.push(enable_stream(&mut new, new_next, view_type, created_ms));
                    new_next = new_next.checked_add(1).ok_or_else(|| {
                        Error::LimitExceeded("Subscriber limit exceeded: ids exhausted".into())
                    })?;
                }
                Some(None) => {
                    let Some(i) = new.streams.iter().rposition(|s| s.enabled) else {
                        return Err(Error::Validation(format!(
                            "Table has no stream to disable: TableName: {name}"
                        )));
                    };
                    new.streams[i].enabled = false;
                    new.streams[i].disabled_ms = now;
                    let id = new.streams[i].id;
                    if let Some(state) = new_states.iter_mut().find(|s| s.stream == id) {
                        state.close_all(now);
                    }
                }
                None => {}
            }
            let mut batch = s.db.batch();
            batch.insert(&s.catalog, catalog_key(name), new.encode());
            if new_next != *next_id {
                batch.insert(&s.catalog, CATALOG_NEXT_ID, new_next.to_be_bytes());
            }
            for state in &new_states {
                if !streams.contains(state) {
                    batch.insert(
                        &s.catalog,
                        changelog::state_key(state.stream),
                        state.encode(),
                    );
                }
            }
            s.commit.commit(batch)?;
            *next_id = new_next;
            *def = new;
            *streams = new_states;
        }
        // The reply shows the table as this call left it, before any
        // background job can move it on.
        let info = table.info();
        for job in jobs {
            self.submit(job);
        }
        Ok(info)
    }

    /// TagResource: sets `tags` on the table, replacing the values of keys
    /// it has; at most 50 tags in all.
    pub fn tag_table(&self, name: &str, tags: &[(String, String)]) -> Result<()> {
        self.change_settings(name, |settings| {
            for (k, v) in tags {
                match settings.tags.iter_mut().find(|(key, _)| key == k) {
                    Some(existing) => existing.1 = v.clone(),
                    None => settings.tags.push((k.clone(), v.clone())),
                }
            }
            if settings.tags.len() > TAGS_MAX {
                return Err(Error::Validation(
                    "Number of Tags exceed the current limit for the provided ResourceArn".into(),
                ));
            }
            Ok(())
        })
    }

    /// UntagResource: removes the tags with these keys (absent keys are
    /// ignored).
    pub fn untag_table(&self, name: &str, keys: &[String]) -> Result<()> {
        self.change_settings(name, |settings| {
            settings.tags.retain(|(k, _)| !keys.contains(k));
            Ok(())
        })
    }

    /// Applies `change` to a table's settings and stores them.
    fn change_settings(
        &self,
        name: &str,
        change: impl FnOnce(&mut TableSettings) -> Result<()>,
    ) -> Result<()> {
        let s = &self.shared;
        let table = s.table(name)?;
        let mut def = table.write();
        if def.status != TableStatus::Active {
            return Err(Error::TableNotFound(def.name.clone()));
        }
        let mut new = def.clone();
        change(&mut new.settings)?;
        if new == *def {
            return Ok(());
        }
        let mut batch = s.db.batch();
        batch.insert(&s.catalog, catalog_key(name), new.encode());
        s.commit.commit(batch)?;
        *def = new;
        Ok(())
    }

    /// Admits a request to `table` (reading `index`, if any) under
    /// `--enforce-throughput`, or refuses it with [`Error::Throttled`].
    /// A missing table is admitted: the request itself reports it, after
    /// its own validation.
    pub fn admit(&self, table: &str, side: Side, index: Option<&str>) -> Result<()> {
        let Ok(table) = self.shared.table(table) else {
            return Ok(());
        };
        let def = table.read();
        self.shared.buckets.admit(&def, side, index)
    }

    /// Charges the units a request consumed to its table's (or index's)
    /// buckets; `index_units` are the GSI write arms.
    pub fn charge(
        &self,
        table: &str,
        side: Side,
        index: Option<&str>,
        table_units: f64,
        index_units: &[(String, f64)],
    ) {
        if let Ok(table) = self.shared.table(table) {
            let def = table.read();
            self.shared
                .buckets
                .charge(&def, side, index, table_units, index_units);
        }
    }

    // ---- items ----

    /// Stores `item`, replacing any item with the same key, if `condition`
    /// (resolved) holds for the old item. `old` of the result is the
    /// replaced item, if any.
    pub fn put_item(
        &self,
        table: &str,
        item: Item,
        condition: Option<&Condition>,
    ) -> Result<Written> {
        self.put_item_deferred(table, item, condition)?.wait(self)
    }

    /// [`put_item`](Self::put_item), returning once the write is committed
    /// (visible) but before it is durable.
    pub fn put_item_deferred(
        &self,
        table: &str,
        item: Item,
        condition: Option<&Condition>,
    ) -> Result<Deferred<Written>> {
        // DynamoDB checks the size before it looks the table up.
        if size::item_size(&item) > size::ITEM_SIZE_BYTES_MAX {
            return Err(Error::Validation(
                "Item size has exceeded the maximum allowed size".into(),
            ));
        }
        let key_of = |def: &TableDef| item_storage_key(def, &item);
        self.write_item(
            table,
            key_of,
            |old| {
                check_condition(condition, old)?;
                Ok(Some(item.clone()))
            },
            None,
        )
    }

    /// Reads one item by its full primary key.
    pub fn get_item(&self, table: &str, key: &Item) -> Result<Option<Item>> {
        let storage_key = self.with_active_table(table, |def| key_storage_key(def, key))?;
        Ok(self
            .shared
            .items
            .get(&storage_key)?
            .map(|v| codec::decode_item(&v))
            .transpose()?)
    }

    /// Deletes one item by its full primary key if `condition` holds for it.
    /// `old` of the result is the deleted item, if there was one.
    pub fn delete_item(
        &self,
        table: &str,
        key: &Item,
        condition: Option<&Condition>,
    ) -> Result<Written> {
        self.delete_item_deferred(table, key, condition)?.wait(self)
    }

    /// [`delete_item`](Self::delete_item), before durability.
    pub fn delete_item_deferred(
        &self,
        table: &str,
        key: &Item,
        condition: Option<&Condition>,
    ) -> Result<Deferred<Written>> {
        let key_of = |def: &TableDef| key_storage_key(def, key);
        self.write_item(
            table,
            key_of,
            |old| {
                check_condition(condition, old)?;
                Ok(None)
            },
            None,
        )
    }

    /// Applies `update` (resolved) to the item with `key`, creating it if it
    /// does not exist, if `condition` holds for the old item. The result
    /// holds the old and the new item. As in DynamoDB, an update of a missing item that
    /// adds nothing but the key (REMOVE or DELETE only) creates nothing; no
    /// update at all (or an empty one) creates the key-only item.
    pub fn update_item(
        &self,
        table: &str,
        key: &Item,
        update: Option<&Update>,
        condition: Option<&Condition>,
    ) -> Result<Written> {
        self.update_item_deferred(table, key, update, condition)?
            .wait(self)
    }

    /// [`update_item`](Self::update_item), before durability.
    pub fn update_item_deferred(
        &self,
        table: &str,
        key: &Item,
        update: Option<&Update>,
        condition: Option<&Condition>,
    ) -> Result<Deferred<Written>> {
        self.write_item(
            table,
            |def| update_storage_key(def, key, update),
            |old| {
                check_condition(condition, old)?;
                updated_item(key, update, old)
            },
            Some(update.unwrap_or(&Update {
                actions: Vec::new(),
            })),
        )
    }

    /// Runs `f` on the definition of an active table.
    fn with_active_table<T>(
        &self,
        table: &str,
        f: impl FnOnce(&TableDef) -> Result<T>,
    ) -> Result<T> {
        let table = self.shared.table(table)?;
        let def = table.read();
        if def.status != TableStatus::Active {
            return Err(Error::TableNotFound(def.name.clone()));
        }
        f(&def)
    }

    /// The one write path for single items. It computes the storage key
    /// with `key_of` under the same table guard as the write. Under the
    /// item's lock (its partition's, for tables with local indexes) it reads
    /// the old item, lets `decide` compute the new one (`None` deletes) or
    /// refuse, checks the new item's index keys, and commits the item with
    /// everything [`Shared::updated`] adds; it waits for durability after
    /// releasing the lock. Deleting an absent item writes nothing.
    fn write_item(
        &self,
        table: &str,
        key_of: impl FnOnce(&TableDef) -> Result<Vec<u8>>,
        decide: impl FnOnce(Option<&Item>) -> Result<Option<Item>>,
        from_update: Option<&Update>,
    ) -> Result<Deferred<Written>> {
        let (value, ticket) = self.write_item_unsynced(table, key_of, decide, from_update)?;
        Ok(Deferred { value, ticket })
    }

    /// [`write_item`](Self::write_item) without the durability wait: also
    /// returns the ticket to wait on (`None` when nothing was written), so
    /// that a batch of writes can share one wait.
    fn write_item_unsynced(
        &self,
        table: &str,
        key_of: impl FnOnce(&TableDef) -> Result<Vec<u8>>,
        decide: impl FnOnce(Option<&Item>) -> Result<Option<Item>>,
        from_update: Option<&Update>,
    ) -> Result<(Written, Option<u64>)> {
        let s = &self.shared;
        let table = s.table(table)?;
        // Held across the commit: DeleteTable's and UpdateTable's write lock
        // waits for it, so no write lands in a table once it is DELETING,
        // and every write sees the index list of one moment.
        let def = table.read();
        if def.status != TableStatus::Active {
            return Err(Error::TableNotFound(def.name.clone()));
        }
        let key = key_of(&def)?;
        let (old, new, effects, ticket) = {
            let _guard = lock(s.item_lock(s.lock_key(&def, &key)?));
            let old = s
                .items
                .get(&key)?
                .map(|v| codec::decode_item(&v))
                .transpose()?;
            let new = decide(old.as_ref())?;
            if let Some(item) = &new {
                index::check_item(&def.indexes, &def.key_schema, item, from_update.is_some())
                    .map_err(|e| index::update_wording(e, from_update))?;
            }
            let mut batch = s.db.batch();
            match &new {
                Some(item) => {
                    let mut value = Vec::with_capacity(128);
                    codec::encode_item(item, &mut value);
                    batch.insert(&s.items, key.as_slice(), value);
                }
                None if old.is_some() => batch.remove(&s.items, key.as_slice()),
                None => return Ok((Written::default(), None)),
            }
            // The stream lock, held from sequence numbering to commit.
            let mut streams = def.enabled_stream().map(|_| lock(&table.streams));
            let mut ctx = maintain::WriteContext::new(streams.as_ref().map(|g| (**g).clone()));
            let effects =
                s.updated(&mut batch, &def, &key, old.as_ref(), new.as_ref(), &mut ctx)?;
            let ticket = s.commit.commit_batch(batch)?;
            if let (Some(g), Some(states)) = (streams.as_mut(), ctx.streams) {
                **g = states;
            }
            (old, new, effects, ticket)
        };
        drop(def);
        table.account(old.as_ref(), new.as_ref());
        for (id, count, bytes) in &effects.counters {
            table.account_index(*id, *count, *bytes);
        }
        Ok((
            Written {
                old,
                new,
                indexes: effects.indexes,
                collection: effects.collection,
            },
            Some(ticket),
        ))
    }

    /// BatchWriteItem: every request is validated before anything is
    /// written (a bad request changes nothing), then all are written in one
    /// atomic batch (more than DynamoDB promises), with one journal append
    /// and one sync.
    /// Returns what each request wrote, in request order.
    pub fn batch_write(&self, requests: &[BatchWrite]) -> Result<Vec<Written>> {
        self.batch_write_deferred(requests)?.wait(self)
    }

    /// [`batch_write`](Self::batch_write), before durability.
    pub fn batch_write_deferred(&self, requests: &[BatchWrite]) -> Result<Deferred<Vec<Written>>> {
        let mut seen = std::collections::HashSet::with_capacity(requests.len());
        for r in requests {
            let (table, storage_key) = match r {
                BatchWrite::Put { table, item } => {
                    if size::item_size(item) > size::ITEM_SIZE_BYTES_MAX {
                        return Err(Error::Validation(
                            "Item size has exceeded the maximum allowed size".into(),
                        ));
                    }
                    // Inside a batch, DynamoDB words every key problem of a
                    // PutRequest as a schema mismatch.
                    let key = self
                        .with_active_table(table, |def| {
                            let key = item_storage_key(def, item)?;
                            index::check_item(&def.indexes, &def.key_schema, item, false)?;
                            Ok(key)
                        })
                        .map_err(|e| match e {
                            Error::Validation(m)
                                if m.contains("Missing the key")
                                    || m.contains("Type mismatch for key") =>
                            {
                                Error::Validation(
                                    "The provided key element does not match the schema".into(),
                                )
                            }
                            other => other,
                        })?;
                    (table, key)
                }
                BatchWrite::Delete { table, key } => {
                    // A batch words an empty key as PutItem does.
                    let key = self
                        .with_active_table(table, |def| key_storage_key(def, key))
                        .map_err(|e| match e {
                            Error::Validation(m) => Error::Validation(m.replace(
                                "One or more parameter values were invalid: The AttributeValue",
                                "One or more parameter values are not valid. The AttributeValue",
                            )),
                            other => other,
                        })?;
                    (table, key)
                }
            };
            if !seen.insert((table.as_str(), storage_key)) {
                return Err(Error::Validation(
                    "Provided list of item keys contains duplicates".into(),
                ));
            }
        }
        // Everything is valid: write the whole batch as one transaction
        // without conditions, one lock set, one journal append.
        let actions: Vec<TransactAction> = requests
            .iter()
            .map(|r| match r {
                BatchWrite::Put { table, item } => TransactAction::Put {
                    table: table.clone(),
                    item: item.clone(),
                    condition: None,
                },
                BatchWrite::Delete { table, key } => TransactAction::Delete {
                    table: table.clone(),
                    key: key.clone(),
                    condition: None,
                },
            })
            .collect();
        match self.transact_write_deferred(&actions, None) {
            Ok(d) => Ok(Deferred {
                value: d.value.written,
                ticket: d.ticket,
            }),
            // Without conditions only a collection size limit (or a key the
            // checks above passed) can cancel it.
            Err(Error::TransactionCanceled(reasons)) => Err(reasons
                .into_iter()
                .find_map(|r| match r {
                    CancelReason::ItemCollectionSizeLimitExceeded => {
                        Some(Error::ItemCollectionSizeLimitExceeded)
                    }
                    CancelReason::ValidationError(m) => Some(Error::Validation(m)),
                    _ => None,
                })
                .unwrap_or(Error::ItemCollectionSizeLimitExceeded)),
            Err(e) => Err(e),
        }
    }
}

/// A write that is committed (readers see it) but may not be durable yet:
/// it must not be acknowledged before [`wait`](Self::wait) returns or
/// [`on_durable`](Self::on_durable) calls back.
#[must_use = "a write is acknowledged only once it is durable"]
#[derive(Debug)]
pub struct Deferred<T> {
    value: T,
    ticket: Option<u64>,
}

impl<T> Deferred<T> {
    pub(crate) fn new(value: T, ticket: Option<u64>) -> Self {
        Deferred { value, ticket }
    }

    /// Blocks until the write is durable, then returns its result.
    pub fn wait(self, engine: &Engine) -> Result<T> {
        if let Some(ticket) = self.ticket {
            engine.shared.commit.wait(ticket)?;
        }
        Ok(self.value)
    }

    /// Calls `done` with the result once the write is durable (perhaps at
    /// once, on this thread; else on the syncer's), without blocking.
    pub fn on_durable(self, engine: &Engine, done: impl FnOnce(Result<T>) + Send + 'static)
    where
        T: Send + 'static,
    {
        let Some(ticket) = self.ticket else {
            done(Ok(self.value));
            return;
        };
        let value = self.value;
        engine
            .shared
            .commit
            .on_durable(ticket, Box::new(move |r| done(r.map(|()| value))));
    }
}

/// One request of a BatchWriteItem.
#[derive(Clone, Debug)]
pub enum BatchWrite {
    /// PutRequest.
    Put {
        /// Table name.
        table: String,
        /// The item.
        item: Item,
    },
    /// DeleteRequest.
    Delete {
        /// Table name.
        table: String,
        /// The key.
        key: Item,
    },
}

/// The storage key of an UpdateItem's `Key`, after checking that the
/// update leaves the key attributes alone.
fn update_storage_key(def: &TableDef, key: &Item, update: Option<&Update>) -> Result<Vec<u8>> {
    let storage_key = key_storage_key(def, key)?;
    if let Some(update) = update {
        let ks = &def.key_schema;
        let mut names = vec![ks.hash.name.as_str()];
        names.extend(ks.range.as_ref().map(|r| r.name.as_str()));
        resolve::check_update_keys(update, &names).map_err(|e| Error::Validation(e.message))?;
        index::check_update_paths(&def.indexes, update)?;
    }
    Ok(storage_key)
}

/// The item an update makes of `old` (or of the bare key, for an upsert);
/// `None` when it creates nothing. As in DynamoDB, an update of a missing
/// item that adds nothing but the key (REMOVE or DELETE only) creates
/// nothing, and no update at all creates the key-only item.
fn updated_item(key: &Item, update: Option<&Update>, old: Option<&Item>) -> Result<Option<Item>> {
    let mut new = old.cloned().unwrap_or_else(|| key.clone());
    if let Some(update) = update {
        eval::apply_update(update, &mut new, old.is_some())
            .map_err(|e| Error::Validation(e.message))?;
    }
    for value in new.values() {
        value
            .validate()
            .map_err(|e| Error::Validation(e.to_string()))?;
    }
    if size::item_size(&new) > size::ITEM_SIZE_BYTES_MAX {
        return Err(Error::Validation(
            "Item size to update has exceeded the maximum allowed size".into(),
        ));
    }
    let acted = update.is_some_and(|u| !u.actions.is_empty());
    if old.is_none() && acted && new == *key {
        return Ok(None);
    }
    Ok(Some(new))
}

/// Refuses a write whose condition does not hold for the old item.
fn check_condition(condition: Option<&Condition>, old: Option<&Item>) -> Result<()> {
    let Some(condition) = condition else {
        return Ok(());
    };
    let empty = Item::new();
    if eval::eval_condition(condition, old.unwrap_or(&empty)) {
        Ok(())
    } else {
        Err(Error::ConditionalCheckFailed(old.cloned()))
    }
}

impl Shared {
    fn read_tables(&self) -> std::sync::RwLockReadGuard<'_, BTreeMap<String, Arc<Table>>> {
        self.tables.read().unwrap_or_else(PoisonError::into_inner)
    }

    fn table(&self, name: &str) -> Result<Arc<Table>> {
        self.read_tables()
            .get(name)
            .cloned()
            .ok_or_else(|| Error::TableNotFound(name.to_owned()))
    }

    /// The bytes an item write locks on: the item key, or for a table with
    /// local indexes the partition prefix, since every write to the item
    /// collection updates its size.
    fn lock_key<'k>(&self, def: &TableDef, key: &'k [u8]) -> Result<&'k [u8]> {
        if def.has_local_indexes() {
            Ok(&key[..keys::partition_len(def, key)?])
        } else {
            Ok(key)
        }
    }

    fn item_lock(&self, key: &[u8]) -> &Mutex<()> {
        &self.item_locks[self.stripe(key)]
    }

    /// The lock stripe of a lock key.
    fn stripe(&self, key: &[u8]) -> usize {
        // Bytes 4..12 are the partition hash; mix in the tail so that items
        // of one partition spread over stripes too.
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        for &b in key {
            h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
        }
        (h as usize) % ITEM_LOCK_STRIPES
    }

    fn recount(&self, snapshot: &fjall::Snapshot, table: &Table) {
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
}

/// UpdateTable's settings changes: deletion protection, table class,
/// encryption and on-demand maxima (merged member by member; -1 clears).
fn apply_settings(settings: &mut TableSettings, update: &UpdateTable, now: u64) {
    if let Some(p) = update.deletion_protection {
        settings.deletion_protection = p;
    }
    if let Some(class) = update.table_class {
        // Setting STANDARD on a table that never had a class changes
        // nothing DynamoDB reports.
        if settings.table_class.is_some() || class != TableClass::Standard {
            settings.table_class = Some((class, now));
        }
    }
    if let Some(key) = &update.sse_kms_key {
        settings.sse_kms_key = key.clone();
    }
    if let Some((read, write)) = update.on_demand {
        let (mut r, mut w) = settings.on_demand.unwrap_or((-1, -1));
        if let Some(read) = read {
            r = read;
        }
        if let Some(write) = write {
            w = write;
        }
        settings.on_demand = (r != -1 || w != -1).then_some((r, w));
    }
}

/// Adds an enabled stream with id `id`, created at `created_ms` (its
/// label), to `def`; returns its state.
fn enable_stream(
    def: &mut TableDef,
    id: u32,
    view_type: changelog::StreamViewType,
    created_ms: u64,
) -> changelog::StreamState {
    def.streams.push(changelog::StreamDef {
        id,
        created_ms,
        view_type,
        enabled: true,
        disabled_ms: 0,
    });
    changelog::StreamState::new(id, created_ms)
}

/// The definition of a new index with id `id`.
fn new_index_def(index: NewIndex, id: u32, status: IndexStatus, now: u64) -> IndexDef {
    let (read_units, write_units) = index.throughput.unwrap_or((0, 0));
    IndexDef {
        id,
        name: index.name,
        kind: index.kind,
        hash: index.hash,
        range: index.range,
        projection: index.projection,
        status,
        backfilling: false,
        read_units,
        write_units,
        created_ms: now,
    }
}

/// The position of the global index `name` in the table's list.
fn find_global(def: &TableDef, name: &str) -> Result<usize> {
    def.indexes
        .iter()
        .position(|i| i.name == name && i.kind == IndexKind::Global && i.maintained())
        .ok_or_else(|| {
            Error::ResourceNotFound(format!(
                "Requested resource not found: Index {name} for table {}",
                def.name
            ))
        })
}

/// Only one index may be created or deleted at a time per table.
fn check_one_online_change(def: &TableDef) -> Result<()> {
    if def.indexes.iter().any(|i| i.status != IndexStatus::Active) {
        return Err(Error::LimitExceeded(
            "Subscriber limit exceeded: Only 1 online index can be created or deleted simultaneously per table".into(),
        ));
    }
    Ok(())
}

/// The rules for creating a global index on an existing table that need
/// the table's state: one index change at a time, unique names, the index
/// limit, and key attribute types that agree with the table's definitions.
fn check_index_create(def: &TableDef, index: &NewIndex) -> Result<()> {
    check_one_online_change(def)?;
    if def.indexes.iter().any(|i| i.name == index.name) {
        return Err(Error::Validation(
            "Attempting to create an index which already exists".into(),
        ));
    }
    let globals = def
        .indexes
        .iter()
        .filter(|i| i.kind == IndexKind::Global)
        .count();
    if globals >= GLOBAL_INDEXES_MAX {
        return Err(Error::LimitExceeded(format!(
            "Subscriber limit exceeded: Number of global secondary indexes exceeds per-table limit of {GLOBAL_INDEXES_MAX}"
        )));
    }
    for attr in index.hash.iter().chain(&index.range) {
        if let Some(existing) = def
            .attribute_definitions
            .iter()
            .find(|a| a.name == attr.name)
        {
            if existing.ty != attr.ty {
                return Err(Error::Validation(format!(
                    "One or more parameter values were invalid: Attributes cannot be redefined. Please check that your attribute has the same type as previously defined. Existing schema: Schema:[SchemaElement: key{{{}:{}:HASH}}] New schema: Schema:[SchemaElement: key{{{}:{}:HASH}}]",
                    attr.name,
                    existing.ty.as_str(),
                    attr.name,
                    attr.ty.as_str()
                )));
            }
        }
    }
    Ok(())
}

fn apply_update(def: &mut TableDef, update: &UpdateTable, now: u64) -> Result<()> {
    let mode = update.billing_mode.unwrap_or(def.billing_mode);
    if mode == BillingMode::PayPerRequest {
        if update.throughput.is_some() {
            return Err(Error::Validation(
                "One or more parameter values were invalid: Neither ReadCapacityUnits nor WriteCapacityUnits can be specified when BillingMode is PAY_PER_REQUEST".into(),
            ));
        }
        if def.billing_mode != BillingMode::PayPerRequest {
            def.billing_mode = BillingMode::PayPerRequest;
            def.pay_per_request_since_ms = Some(now);
            def.throughput.read_units = 0;
            def.throughput.write_units = 0;
        }
        return Ok(());
    }
    let switching = def.billing_mode != BillingMode::Provisioned;
    let Some((read, write)) = update.throughput else {
        if switching {
            return Err(Error::Validation(
                "One or more parameter values were invalid: ProvisionedThroughput must be specified when BillingMode is PROVISIONED".into(),
            ));
        }
        return Ok(());
    };
    let t = &mut def.throughput;
    if !switching && read == t.read_units && write == t.write_units {
        return Err(Error::Validation(format!(
            "The provisioned throughput for the table will not change. The requested value equals the current value. Current ReadCapacityUnits provisioned for the table: {}. Requested ReadCapacityUnits: {read}. Current WriteCapacityUnits provisioned for the table: {}. Requested WriteCapacityUnits: {write}. Refer to the Amazon DynamoDB Developer Guide for current limits and how to request higher limits.",
            t.read_units, t.write_units
        )));
    }
    if !switching {
        if read > t.read_units || write > t.write_units {
            t.last_increase_ms = now;
        }
        if read < t.read_units || write < t.write_units {
            t.last_decrease_ms = now;
            t.decreases_today += 1;
        }
    }
    t.read_units = read;
    t.write_units = write;
    def.billing_mode = BillingMode::Provisioned;
    Ok(())
}

/// Checks one key attribute of an item or key against the schema, and
/// returns the size DynamoDB counts for it.
fn check_key_value(attr: &KeyAttr, value: &AttributeValue, in_item: bool) -> Result<usize> {
    let Some(ty) = value.scalar_type().filter(|t| *t == attr.ty) else {
        return Err(Error::Validation(if in_item {
            format!(
                "One or more parameter values were invalid: Type mismatch for key {} expected: {} actual: {}",
                attr.name,
                attr.ty.as_str(),
                value.type_name()
            )
        } else {
            "The provided key element does not match the schema".into()
        }));
    };
    let size = key::value_size(value).unwrap_or(0);
    if size == 0 && ty != tarn_expr::ScalarType::N {
        let kind = if ty == tarn_expr::ScalarType::S {
            "string"
        } else {
            "binary"
        };
        // PutItem and GetItem word this differently in DynamoDB.
        let prefix = if in_item {
            "One or more parameter values are not valid."
        } else {
            "One or more parameter values were invalid:"
        };
        return Err(Error::Validation(format!(
            "{prefix} The AttributeValue for a key attribute cannot contain an empty {kind} value. Key: {}",
            attr.name
        )));
    }
    Ok(size)
}

fn check_key_sizes(hash: usize, range: usize) -> Result<()> {
    if hash > HASH_KEY_BYTES_MAX {
        return Err(Error::Validation(
            "One or more parameter values were invalid: Size of hashkey has exceeded the maximum size limit of2048 bytes".into(),
        ));
    }
    if range > RANGE_KEY_BYTES_MAX {
        return Err(Error::Validation(
            "One or more parameter values were invalid: Aggregated size of all range keys has exceeded the size limit of 1024 bytes".into(),
        ));
    }
    Ok(())
}

/// The storage key of a whole item, validating its key attributes.
fn item_storage_key(def: &TableDef, item: &Item) -> Result<Vec<u8>> {
    let ks = &def.key_schema;
    let get = |attr: &KeyAttr| {
        item.get(&attr.name).ok_or_else(|| {
            Error::Validation(format!(
                "One or more parameter values were invalid: Missing the key {} in the item",
                attr.name
            ))
        })
    };
    let pk = get(&ks.hash)?;
    let hash_size = check_key_value(&ks.hash, pk, true)?;
    let (sk, range_size) = match &ks.range {
        Some(r) => {
            let sk = get(r)?;
            (Some(sk), check_key_value(r, sk, true)?)
        }
        None => (None, 0),
    };
    check_key_sizes(hash_size, range_size)?;
    Ok(keys::item_key(def.id, pk, sk))
}

/// The storage key named by a `Key` parameter, which must hold exactly the
/// key attributes.
fn key_storage_key(def: &TableDef, key: &Item) -> Result<Vec<u8>> {
    let ks = &def.key_schema;
    let mismatch =
        || Error::Validation("The provided key element does not match the schema".into());
    let expected = 1 + usize::from(ks.range.is_some());
    if key.len() != expected {
        return Err(mismatch());
    }
    let pk = key.get(&ks.hash.name).ok_or_else(mismatch)?;
    let hash_size = check_key_value(&ks.hash, pk, false)?;
    let (sk, range_size) = match &ks.range {
        Some(r) => {
            let sk = key.get(&r.name).ok_or_else(mismatch)?;
            (Some(sk), check_key_value(r, sk, false)?)
        }
        None => (None, 0),
    };
    check_key_sizes(hash_size, range_size)?;
    Ok(keys::item_key(def.id, pk, sk))
}

#[cfg(test)]
mod tests;
