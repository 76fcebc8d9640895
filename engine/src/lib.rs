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
//!   journal syncs (`commit`).
//! - Writes to one item are serialized by a striped lock that covers reading
//!   the old item, checking, and committing, so conditional logic built on
//!   the old image is linearizable per item.
//! - A table's id is never reused; a deleted table leaves the name map in
//!   the call that deletes it, its items are dropped in the background, and
//!   no write lands in a table once it is `DELETING`.
//! - An item's index entries and its item collection's size are written in
//!   the item's own batch, by one function (`Shared::updated`, in
//!   `maintain`).
//!
//! Layout: the state every operation shares is `shared::Shared`; each
//! concern's operations are methods on it in their own module (`ddl` for
//! tables, `write` for the item write path, `read`, `transact`, `ttl`,
//! `backup`, `pitr`, `restore`, `changelog`), and [`Engine`], here, is the
//! thin public facade over them. Modules depend on one another one way
//! only; none imports from this file.

#![forbid(unsafe_code)]

mod apply;
mod background;
pub mod backup;
mod capacity;
mod catalog;
pub mod changelog;
mod clock;
pub mod codec;
mod commit;
mod ddl;
mod error;
mod feed;
mod guard;
pub mod index;
pub mod invalid;
mod jobs;
mod keys;
mod lock;
mod maintain;
mod open;
pub mod pitr;
mod read;
mod restore;
pub mod retired;
mod schema;
mod shared;
pub mod store;
mod stream;
mod table;
mod throttle;
mod transact;
mod ttl;
mod units;
mod validate;
mod write;
mod written;

use std::sync::Arc;
use std::time::Duration;

use tarn_expr::ast::{Condition, Update};
use tarn_expr::Item;

pub use backup::{Backup, BackupStatus, BackupType};
pub use catalog::{
    BillingMode, PitrDef, RestoreDef, RestoreSource, TableClass, TableDef, TableSettings,
    TableStatus, Throughput, TtlDef,
};
pub use codec::DecodeError;
pub use commit::{CommitStats, Deferred, Durability};
pub use ddl::{CreateTable, IndexUpdate, UpdateTable, TAGS_MAX};
pub use error::{CancelReason, Error, Result, StoreError, Throttled};
pub use index::{
    IndexDef, IndexKind, IndexProjection, IndexStatus, NewIndex, ProjectionType,
    GLOBAL_INDEXES_MAX, LOCAL_INDEXES_MAX,
};
pub use invalid::{Invalid, Wording};
pub use keys::{HASH_KEY_BYTES_MAX, RANGE_KEY_BYTES_MAX};
pub use open::{Options, ITEM_COLLECTION_BYTES_MAX};
pub use pitr::{PitrWindow, RECOVERY_PERIOD_DAYS_MAX};
pub use read::{
    BatchGet, BatchGot, Got, Page, PageOptions, QueryRequest, ScanRequest, SortCondition,
    PAGE_BYTES_MAX,
};
pub use restore::RestoreTarget;
pub use schema::{KeyAttr, KeySchema};
pub use store::{Store, StoreBatch, StoreSnapshot};
pub use table::{IndexInfo, TableInfo};
pub use throttle::Side;
pub use transact::{
    IdempotencyToken, TransactAction, TransactGot, TransactWritten, TOKEN_TTL_MS,
    TRANSACT_ITEMS_MAX,
};
pub use units::{read_units, write_units, PerTable, Units};
pub use write::{BatchWrite, BatchWritten};
pub use written::{IndexWrite, ItemCollection, Written};

use changelog::{ChangeRecord, StreamInfo};
use shared::Shared;

/// The storage engine. Cheap to clone; all clones share one database.
#[derive(Clone)]
pub struct Engine {
    shared: Arc<Shared>,
    /// Stops and joins the TTL sweeper when the last clone goes.
    _sweeper: Arc<ttl::Sweeper>,
    /// Keeps a throw-away directory alive as long as the engine.
    _temp_dir: Option<Arc<tempfile::TempDir>>,
}

impl Engine {
    /// Opens (or creates) the database and resumes unfinished background
    /// work (table drops, backfills, backups, restores).
    pub fn open(options: Options) -> Result<Engine> {
        let opened = open::open(&options)?;
        Ok(Engine {
            shared: opened.shared,
            _sweeper: Arc::new(opened.sweeper),
            _temp_dir: opened.temp_dir,
        })
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
    pub fn flush_memtables(&self, limit: Duration) -> Result<bool> {
        self.shared.flush_memtables(limit)
    }

    /// The storage handle for other services' durable state
    /// (`docs/architecture.md`, "Store").
    pub fn store(&self) -> Store {
        Store::new(Arc::clone(&self.shared))
    }

    // ---- tables ----

    /// Creates a table. It is usable as soon as this returns.
    pub fn create_table(&self, req: CreateTable) -> Result<TableInfo> {
        self.shared.create_table(req)
    }

    /// The definition of a table (a cheaper [`describe_table`](Self::describe_table)
    /// for requests that need only the schema).
    pub fn table_def(&self, name: &str) -> Result<TableDef> {
        self.shared.table_def(name)
    }

    /// Describes a table, including one that is being deleted.
    pub fn describe_table(&self, name: &str) -> Result<TableInfo> {
        self.shared.describe_table(name)
    }

    /// Lists table names in order, starting after `exclusive_start`, at most
    /// `limit` of them. The second value is the last name returned when more
    /// tables follow it.
    pub fn list_tables(
        &self,
        exclusive_start: Option<&str>,
        limit: usize,
    ) -> (Vec<String>, Option<String>) {
        self.shared.list_tables(exclusive_start, limit)
    }

    /// Deletes a table: marks it `DELETING`, moves its record from its name
    /// to its id (durably, one batch) and takes it out of the name map, so
    /// that from the return on the name is free and nothing finds the
    /// table; its data is dropped in the background. Returns the table as
    /// it was marked.
    pub fn delete_table(&self, name: &str) -> Result<TableInfo> {
        self.shared.delete_table(name)
    }

    /// Changes billing mode, provisioned throughput, global indexes,
    /// settings and the stream. A created index is maintained by every
    /// write from the moment this returns and backfilled in the background;
    /// a deleted one stops being maintained at once and its entries are
    /// dropped in the background.
    pub fn update_table(&self, name: &str, update: UpdateTable) -> Result<TableInfo> {
        self.shared.update_table(name, update)
    }

    /// TagResource: sets `tags` on the table, replacing the values of keys
    /// it has; at most [`TAGS_MAX`] tags in all.
    pub fn tag_table(&self, name: &str, tags: &[(String, String)]) -> Result<()> {
        self.shared.tag_table(name, tags)
    }

    /// UntagResource: removes the tags with these keys (absent keys are
    /// ignored).
    pub fn untag_table(&self, name: &str, keys: &[String]) -> Result<()> {
        self.shared.untag_table(name, keys)
    }

    /// UpdateTimeToLive: enables TTL on `attribute` (recording the expiry
    /// of every existing item in the background) or disables it, with
    /// DynamoDB's rules.
    pub fn update_ttl(&self, table: &str, attribute: &str, enabled: bool) -> Result<()> {
        self.shared.update_ttl(table, attribute, enabled)
    }

    // ---- items ----

    /// Stores `item`, replacing any item with the same key, if `condition`
    /// (resolved) holds for the old item. `old` of the result is the
    /// replaced item, if any.
    ///
    /// Every data operation admits its request under
    /// `--enforce-throughput` before anything else (refusing it with
    /// [`Error::Throttled`]), charges what it consumed, and returns the
    /// units in its result (`consumed`), as DynamoDB computes them.
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
        self.shared.put_item(table, item, condition)
    }

    /// Reads one item by its full primary key; `consistent` is
    /// `ConsistentRead` (which the units reflect).
    pub fn get_item(&self, table: &str, key: &Item, consistent: bool) -> Result<Got> {
        self.shared.get_item(table, key, consistent)
    }

    /// BatchGetItem: every key of every table is read and checked first;
    /// a table out of capacity, and keys past `bytes_max` of items found,
    /// are left unprocessed (the whole call is throttled when every table
    /// is out). One result per request table, in order.
    pub fn batch_get(&self, gets: &[BatchGet], bytes_max: usize) -> Result<Vec<BatchGot>> {
        self.shared.batch_get(gets, bytes_max)
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
        self.shared.delete_item(table, key, condition)
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
        self.shared.update_item(table, key, update, condition)
    }

    /// BatchWriteItem: requests of tables out of capacity are left
    /// unprocessed (the whole call is throttled when none has any); every
    /// other request is validated before anything is written (a bad request
    /// changes nothing), then all are written in one atomic batch (more
    /// than DynamoDB promises), with one journal append and one sync.
    /// Returns what each request wrote, in request order.
    pub fn batch_write(&self, requests: &[BatchWrite]) -> Result<BatchWritten> {
        self.batch_write_deferred(requests)?.wait(self)
    }

    /// [`batch_write`](Self::batch_write), before durability.
    pub fn batch_write_deferred(&self, requests: &[BatchWrite]) -> Result<Deferred<BatchWritten>> {
        self.shared.batch_write(requests)
    }

    /// TransactWriteItems: every action's condition is evaluated against
    /// the items as they are, and either every write is applied in one
    /// atomic batch or none is ([`Error::TransactionCanceled`] gives each
    /// action's reason, in request order). Request problems that need no
    /// item (keys, sizes, duplicates) are a plain validation error.
    pub fn transact_write(
        &self,
        actions: &[TransactAction],
        token: Option<&IdempotencyToken>,
    ) -> Result<TransactWritten> {
        self.transact_write_deferred(actions, token)?.wait(self)
    }

    /// [`transact_write`](Self::transact_write), before durability.
    pub fn transact_write_deferred(
        &self,
        actions: &[TransactAction],
        token: Option<&IdempotencyToken>,
    ) -> Result<Deferred<TransactWritten>> {
        self.shared.transact_write(actions, token)
    }

    /// TransactGetItems: reads every key from one snapshot, so the items
    /// returned are one committed state. `None` for a missing item.
    pub fn transact_get(&self, gets: &[(String, Item)]) -> Result<TransactGot> {
        self.shared.transact_get(gets)
    }

    /// Reads one page of a Query.
    pub fn query(&self, table: &str, q: &QueryRequest<'_>) -> Result<Page> {
        self.shared.query(table, q)
    }

    /// Reads one page of a Scan (segment).
    pub fn scan(&self, table: &str, s: &ScanRequest<'_>) -> Result<Page> {
        self.shared.scan(table, s)
    }

    // ---- streams ----

    /// Durable records of one shard of stream `stream`, from sequence
    /// number `from` on, at most `limit` and about `bytes_max` of them,
    /// read from one snapshot: nothing past [`durable_seq`](Self::durable_seq).
    /// Stream ids are never reused, so the records are the stream's
    /// whether its table still exists or not.
    pub fn read_changes(
        &self,
        stream: u32,
        shard: u32,
        from: u64,
        limit: usize,
        bytes_max: usize,
    ) -> Result<Vec<ChangeRecord>> {
        self.shared
            .read_changes(stream, shard, from, limit, bytes_max)
    }

    /// The highest sequence number of `stream` whose record is durable:
    /// every record of the stream up to it can be handed to a consumer
    /// that acts on it ([`read_changes`](Self::read_changes) reads no
    /// further).
    pub fn durable_seq(&self, stream: u32) -> u64 {
        self.shared.feed.durable_seq(stream)
    }

    /// Blocks until a record of `stream` past sequence number `after_seq`
    /// is durable, or `timeout` has passed; returns whether one is. Holds
    /// no engine lock while it waits.
    pub fn wait_for_changes(&self, stream: u32, after_seq: u64, timeout: Duration) -> bool {
        self.shared.feed.wait(stream, after_seq, timeout)
    }

    /// Resolves once a record of `stream` past sequence number `after_seq`
    /// is durable. Runtime-agnostic (no timer inside): bound it with the
    /// caller's own timeout. Holds no engine lock while pending.
    pub fn changes_after(
        &self,
        stream: u32,
        after_seq: u64,
    ) -> impl std::future::Future<Output = ()> + Send + 'static {
        self.shared.feed.changed(stream, after_seq)
    }

    /// The streams the Streams API shows for `table`, or for every table:
    /// those of existing tables and the retired streams of deleted ones,
    /// ordered by table name, then oldest first.
    pub fn list_streams(&self, table: Option<&str>) -> Vec<StreamInfo> {
        self.shared.list_streams(table)
    }

    /// Stream `id`, which `table` has, or had before it was deleted.
    pub fn stream(&self, table: &str, id: u32) -> Option<StreamInfo> {
        self.shared.stream(table, id)
    }

    // ---- backups and recovery ----

    /// CreateBackup: records a backup of the table as it is now and copies
    /// it in the background (`CREATING`, then `AVAILABLE`).
    pub fn create_backup(&self, table: &str, name: &str) -> Result<Backup> {
        self.shared.create_backup(table, name)
    }

    /// The backup with this id, unless it was deleted.
    pub fn describe_backup(&self, id: u32) -> Result<Backup> {
        self.shared.describe_backup(id)
    }

    /// Every backup not deleted, in creation order.
    pub fn list_backups(&self) -> Result<Vec<Backup>> {
        self.shared.list_backups()
    }

    /// DeleteBackup: the backup disappears at once and its entries are
    /// dropped in the background. Returns it as it was, marked `DELETED`.
    /// A backup being copied, or being restored from, is in use.
    pub fn delete_backup(&self, id: u32) -> Result<Backup> {
        self.shared.delete_backup(id)
    }

    /// RestoreTableFromBackup: creates `req.target` from the backup as a
    /// `CREATING` table, filled in the background.
    pub fn restore_from_backup(&self, id: u32, req: RestoreTarget) -> Result<TableInfo> {
        self.shared.restore_from_backup(id, req)
    }

    /// DescribeContinuousBackups: the table's restore window, or `None`
    /// while recovery is disabled.
    pub fn continuous_backups(&self, table: &str) -> Result<Option<PitrWindow>> {
        self.shared.continuous_backups(table)
    }

    /// UpdateContinuousBackups: enables recovery (with `period_days`,
    /// default 35; enabling it again changes only the period) or disables
    /// it, discarding the log. Returns the new window.
    pub fn update_continuous_backups(
        &self,
        table: &str,
        enabled: bool,
        period_days: Option<u8>,
    ) -> Result<Option<PitrWindow>> {
        self.shared
            .update_continuous_backups(table, enabled, period_days)
    }

    /// RestoreTableToPointInTime: creates `req.name` as `source` was at
    /// `at_ms` (`None`: now), `CREATING` until it is filled in the
    /// background.
    pub fn restore_to_point_in_time(
        &self,
        source: &str,
        at_ms: Option<u64>,
        req: RestoreTarget,
    ) -> Result<TableInfo> {
        self.shared.restore_to_point_in_time(source, at_ms, req)
    }
}

impl<T> Deferred<T> {
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

#[cfg(test)]
mod tests;
