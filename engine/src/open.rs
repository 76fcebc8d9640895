//! Opening the engine: the options, the keyspaces, loading the catalog,
//! and queueing again the background work the catalog records as
//! unfinished.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, RwLock};

use fjall::{Database, KeyspaceCreateOptions};

use crate::background;
use crate::catalog::{
    catalog_key, drop_key, TableDef, TableStatus, CATALOG_DROP_PREFIX, CATALOG_NEXT_ID,
    CATALOG_TABLE_PREFIX,
};
use crate::clock::Clock;
use crate::codec::DecodeError;
use crate::commit::{Durability, GroupCommit};
use crate::error::{Error, Result};
use crate::feed::Feed;
use crate::guard::lock;
use crate::index::IndexStatus;
use crate::jobs::{self, Backfill, Job};
use crate::lock as dir_lock;
use crate::shared::{Shared, ITEM_LOCK_STRIPES};
use crate::store::KEYSPACE_PREFIX;
use crate::table::Table;
use crate::throttle::Buckets;
use crate::ttl::{self, Sweeper};

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

/// DynamoDB's item collection size limit for tables with local indexes.
pub const ITEM_COLLECTION_BYTES_MAX: u64 = 10 * 1024 * 1024 * 1024;

/// An opened engine: its shared state and what the engine owns besides.
pub(crate) struct Opened {
    /// The state every clone shares.
    pub(crate) shared: Arc<Shared>,
    /// The TTL sweeper, stopped and joined when dropped.
    pub(crate) sweeper: Sweeper,
    /// A throw-away directory, removed when dropped.
    pub(crate) temp_dir: Option<Arc<tempfile::TempDir>>,
}

/// Opens (or creates) the database and resumes unfinished table drops.
pub(crate) fn open(options: &Options) -> Result<Opened> {
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
    let (shared, sweeper) = open_at(&path, durability, options)?;
    Ok(Opened {
        shared,
        sweeper,
        temp_dir,
    })
}

fn open_at(
    path: &Path,
    durability: Durability,
    options: &Options,
) -> Result<(Arc<Shared>, Sweeper)> {
    // Batches stay in the journal's buffer until the group-commit leader
    // flushes (and, under `sync`, fsyncs) them for the whole group:
    // fjall's default would write(2) every batch on its own.
    let db = match Database::builder(path).manual_journal_persist(true).open() {
        Ok(db) => db,
        Err(fjall::Error::Locked) => {
            return Err(Error::Locked {
                holder_pid: dir_lock::holder(path),
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

    // The store's keyspaces exist from earlier runs; open them all, so
    // that their count is known and a clean stop flushes them.
    let mut store_keyspaces = HashMap::new();
    for full in db.list_keyspace_names() {
        if let Some(name) = full.strip_prefix(KEYSPACE_PREFIX) {
            let tree = db.keyspace(&full, KeyspaceCreateOptions::default)?;
            store_keyspaces.insert(name.to_owned(), tree);
        }
    }
    let (jobs, receivers) = jobs::queues();
    let feed = Arc::new(Feed::default());
    let shared = Arc::new(Shared {
        commit: GroupCommit::new(db.clone(), durability, Arc::clone(&feed))?,
        feed,
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
        pitr_clock: Clock::default(),
        pitr_pins: Mutex::new(Vec::new()),
        item_locks: (0..ITEM_LOCK_STRIPES).map(|_| Mutex::new(())).collect(),
        collection_bytes_max: options.item_collection_bytes_max,
        backfill_pause_ms: options.backfill_pause_ms,
        ttl_cooldown_ms: options.ttl_cooldown_ms,
        buckets: Buckets::new(options.enforce_throughput, options.burst_seconds),
        shard_rollover_ms: options.stream_shard_rollover_ms.max(1),
        stream_retention_ms: options.stream_retention_ms.max(1),
        jobs,
        store_keyspaces: RwLock::new(store_keyspaces),
        store_counters: Mutex::new(HashMap::new()),
    });
    for table in shared.read_tables().values() {
        let states = shared.load_stream_states(&table.read())?;
        // Every record on disk at the open is durable.
        for state in &states {
            shared
                .feed
                .register(state.stream, state.next_seq.saturating_sub(1));
        }
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

    background::start(&shared, receivers)?;
    let sweeper = ttl::start_sweeper(
        Arc::downgrade(&shared),
        std::time::Duration::from_millis(options.ttl_sweep_interval_ms.max(1)),
    )?;
    let jobs = &shared.jobs;
    // The catalog is the durable work queue: resume what was unfinished.
    for def in dropping {
        jobs.submit(Job::DropTable(Table::new(def)));
    }
    for id in shared.unfinished_backup_work()? {
        jobs.submit(id);
    }
    for table in shared.read_tables().values() {
        let def = table.read();
        if def.status == TableStatus::Creating {
            jobs.submit(Job::Restore(Arc::clone(table), None));
        }
        for &backup in &def.backups_creating {
            jobs.submit(Job::CopyBackup(Arc::clone(table), backup));
        }
        for index in &def.indexes {
            match index.status {
                IndexStatus::Creating => {
                    jobs.submit(Job::Backfill(Arc::clone(table), Backfill::Index(index.id)))
                }
                IndexStatus::Deleting => jobs.submit(Job::DropIndex(Arc::clone(table), index.id)),
                IndexStatus::Active => {}
            }
        }
        if let Some(ttl) = def.settings.ttl.as_ref().filter(|t| !t.backfilled) {
            jobs.submit(Job::Backfill(Arc::clone(table), Backfill::Expiry(ttl.id)));
        }
    }
    Ok((shared, sweeper))
}
