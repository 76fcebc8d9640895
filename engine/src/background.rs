//! Background work, on two workers: the drop worker deletes what is gone
//! (tables, indexes, expiry indexes, recovery logs, backups), the fill
//! worker builds what is new (index and TTL backfills, backup copies,
//! restores), so that a drop never waits behind a long fill. Each job
//! works in bounded batches. The catalog is the durable queue: everything
//! unfinished is queued again at start-up (`Engine::open`), and every job is
//! safe to run again from the beginning.

use std::sync::mpsc;
use std::sync::{Arc, Weak};

use fjall::{Keyspace, Readable};

use crate::catalog::{catalog_key, drop_key, TableDef, TableStatus};
use crate::codec;
use crate::error::{Error, Result};
use crate::guard::lock;
use crate::index::{self, IndexStatus};
use crate::jobs::{Backfill, Job, Receivers, BACKFILL_BATCH_ITEMS_MAX};
use crate::keys;
use crate::schema::table_key_attrs;
use crate::shared::Shared;
use crate::stream::state_key;
use crate::table::Table;
use crate::ttl::{expiry_key, expiry_of};

/// Keys deleted per batch when dropping a table or an index.
const DROP_BATCH_KEYS_MAX: usize = 1000;
/// How often the drop worker sweeps expired idempotency tokens when idle.
const SWEEP_INTERVAL: std::time::Duration = std::time::Duration::from_secs(60);
/// Tokens deleted per sweep.
const SWEEP_TOKENS_MAX: usize = 1000;

/// Starts both workers on the receiving ends of the shared state's queues.
/// They hold weak handles so that dropping the last engine closes the
/// database; each stops when its queue's senders (in the shared state) go.
pub(crate) fn start(shared: &Arc<Shared>, receivers: Receivers) -> Result<()> {
    worker("tarn-drop", Arc::downgrade(shared), receivers.drops, true)?;
    worker("tarn-fill", Arc::downgrade(shared), receivers.fills, false)?;
    Ok(())
}

fn worker(
    name: &str,
    shared: Weak<Shared>,
    rx: mpsc::Receiver<Job>,
    sweeps_tokens: bool,
) -> Result<()> {
    std::thread::Builder::new()
        .name(name.into())
        .spawn(move || loop {
            let job = match rx.recv_timeout(SWEEP_INTERVAL) {
                Ok(job) => Some(job),
                Err(mpsc::RecvTimeoutError::Timeout) => None,
                Err(mpsc::RecvTimeoutError::Disconnected) => return,
            };
            let Some(shared) = shared.upgrade() else {
                return;
            };
            let Some(job) = job else {
                if sweeps_tokens {
                    if let Err(e) = shared.sweep_tokens(SWEEP_TOKENS_MAX) {
                        tracing::error!(error = %e, "sweeping idempotency tokens failed");
                    }
                }
                continue;
            };
            shared.run(job);
        })
        .map_err(|e| Error::Storage(e.into()))?;
    Ok(())
}

impl Shared {
    /// Runs one job, logging its failure (the catalog still records the
    /// work, so it runs again at the next start).
    fn run(&self, job: Job) {
        let (what, result) = match job {
            Job::DropTable(table) => ("dropping a deleted table", self.drop_table_data(&table)),
            Job::Backfill(table, target) => ("backfilling", self.backfill(&table, target)),
            Job::DropExpiry(id) => ("dropping an expiry index", self.drop_expiry(id)),
            Job::DropIndex(table, id) => ("dropping a deleted index", self.drop_index(&table, id)),
            Job::CopyBackup(table, id) => ("copying a backup", self.copy_backup(&table, id)),
            Job::DropBackup(id) => ("dropping a deleted backup", self.drop_backup(id)),
            Job::DropPitrLog(id) => ("dropping a recovery log", self.drop_pitr_log(id)),
            Job::Restore(table, snapshot) => ("restoring a table", self.restore(&table, snapshot)),
        };
        if let Err(e) = result {
            tracing::error!(error = %e, "{what} failed");
        }
    }
}

impl Shared {
    /// Deletes every key under `prefix` in `keyspace`, in bounded batches.
    /// Nothing can write under the prefix any more, so a snapshot sees
    /// every key there will ever be.
    pub(crate) fn drop_prefix(&self, keyspace: &Keyspace, prefix: &[u8]) -> Result<u64> {
        let snapshot = self.db.snapshot();
        let mut batch = self.db.batch();
        let mut dropped = 0u64;
        for guard in snapshot.prefix(keyspace, prefix) {
            batch.remove(keyspace, guard.key()?);
            if batch.len() >= DROP_BATCH_KEYS_MAX {
                dropped += batch.len() as u64;
                std::mem::replace(&mut batch, self.db.batch()).commit()?;
            }
        }
        dropped += batch.len() as u64;
        batch.commit()?;
        Ok(dropped)
    }

    /// Finishes the backups of a deleted table that were still being
    /// copied, then deletes every item, index entry, collection size,
    /// expiry entry, change record and recovery-log record of the table,
    /// then its drop record.
    pub(crate) fn drop_table_data(&self, table: &Arc<Table>) -> Result<()> {
        let def = table.read().clone();
        for &backup in &def.backups_creating {
            self.finish_backup_of_dropped(table, backup)?;
        }
        let prefix = keys::table_prefix(def.id);
        let mut dropped = self.drop_prefix(&self.items, &prefix)?;
        for index in &def.indexes {
            dropped += self.drop_prefix(&self.indexes, &index.id.to_be_bytes())?;
        }
        self.drop_prefix(&self.collections, &prefix)?;
        if let Some(ttl) = &def.settings.ttl {
            dropped += self.drop_prefix(&self.expiry, &ttl.id.to_be_bytes())?;
        }
        if let Some(pitr) = &def.settings.pitr {
            dropped += self.drop_prefix(&self.pitr, &pitr.id.to_be_bytes())?;
        }
        // Retired streams outlive the table; the sweeper drops them.
        for stream in def.streams.iter().filter(|s| !self.is_retired(s.id)) {
            dropped += self.drop_prefix(&self.changes, &stream.id.to_be_bytes())?;
            let mut batch = self.db.batch();
            batch.remove(&self.catalog, state_key(stream.id));
            self.commit.commit(batch)?;
            self.feed.forget(stream.id);
        }
        let mut batch = self.db.batch();
        batch.remove(&self.catalog, drop_key(def.id));
        self.commit.commit(batch)?;
        tracing::debug!(table = %def.name, id = def.id, dropped, "dropped deleted table");
        Ok(())
    }

    /// Drops a deleted index's entries, then removes it (and attribute
    /// definitions no key uses any more) from the table record.
    pub(crate) fn drop_index(&self, table: &Arc<Table>, index_id: u32) -> Result<()> {
        let dropped = self.drop_prefix(&self.indexes, &index_id.to_be_bytes())?;
        let mut def = table.write();
        if def.status == TableStatus::Deleting {
            return Ok(());
        }
        let mut new = def.clone();
        new.indexes.retain(|i| i.id != index_id);
        let in_use = |name: &str| {
            table_key_attrs(&new.key_schema).any(|a| a.name == name)
                || new
                    .indexes
                    .iter()
                    .any(|i| i.key_attrs().any(|a| a.name == name))
        };
        let kept: Vec<_> = new
            .attribute_definitions
            .iter()
            .filter(|a| in_use(&a.name))
            .cloned()
            .collect();
        new.attribute_definitions = kept;
        let mut batch = self.db.batch();
        batch.insert(&self.catalog, catalog_key(&new.name), new.encode());
        self.commit.commit(batch)?;
        tracing::debug!(table = %new.name, index_id, dropped, "dropped deleted index");
        *def = new;
        drop(def);
        lock(&table.index_counters).remove(&index_id);
        Ok(())
    }

    /// Adds every existing item to a new global index, then marks it
    /// `ACTIVE`; or, for a TTL expiry index, records every existing item's
    /// expiry.
    ///
    /// Writes maintain the derived entries from the moment the index was
    /// created, so the backfill only has to cover items that existed then:
    /// it walks a snapshot's keys, and for each batch takes the items'
    /// locks (in stripe order, so it cannot deadlock with other lock
    /// holders), reads each item's current version and writes its entry
    /// unless a write already did. Running it again is harmless.
    pub(crate) fn backfill(&self, table: &Arc<Table>, target: Backfill) -> Result<()> {
        let snapshot = self.db.snapshot();
        let table_id = table.read().id;
        let mut keys_batch: Vec<Vec<u8>> = Vec::with_capacity(BACKFILL_BATCH_ITEMS_MAX);
        let mut filled = 0u64;
        let mut iter = snapshot.prefix(&self.items, keys::table_prefix(table_id));
        loop {
            keys_batch.clear();
            for guard in iter.by_ref().take(BACKFILL_BATCH_ITEMS_MAX) {
                keys_batch.push(guard.key()?.to_vec());
            }
            if keys_batch.is_empty() {
                break;
            }
            match self.backfill_batch(table, target, &keys_batch)? {
                Some(n) => filled += n,
                // The index, the TTL setting or the table went away.
                None => return Ok(()),
            }
            if self.backfill_pause_ms > 0 {
                std::thread::sleep(std::time::Duration::from_millis(self.backfill_pause_ms));
            }
        }
        let mut def = table.write();
        if def.status == TableStatus::Deleting {
            return Ok(());
        }
        let index_id = match target {
            Backfill::Index(id) => id,
            Backfill::Expiry(id) => {
                let mut new = def.clone();
                match &mut new.settings.ttl {
                    Some(ttl) if ttl.id == id => ttl.backfilled = true,
                    _ => return Ok(()),
                }
                let mut batch = self.db.batch();
                batch.insert(&self.catalog, catalog_key(&new.name), new.encode());
                self.commit.commit(batch)?;
                tracing::debug!(table = %new.name, filled, "expiry index backfilled");
                *def = new;
                return Ok(());
            }
        };
        let Some(i) = def
            .indexes
            .iter()
            .position(|i| i.id == index_id && i.status == IndexStatus::Creating)
        else {
            return Ok(());
        };
        let mut new = def.clone();
        new.indexes[i].status = IndexStatus::Active;
        new.indexes[i].backfilling = false;
        let mut batch = self.db.batch();
        batch.insert(&self.catalog, catalog_key(&new.name), new.encode());
        // Syncing this record makes every backfill batch before it durable.
        self.commit.commit(batch)?;
        tracing::debug!(table = %new.name, index = %new.indexes[i].name, filled, "index backfilled");
        *def = new;
        Ok(())
    }

    /// Takes the locks of a batch of items of the table `def`, in stripe
    /// order, so that it cannot deadlock with other lock holders.
    pub(crate) fn lock_items<'a>(
        &'a self,
        def: &TableDef,
        item_keys: &[Vec<u8>],
    ) -> Result<Vec<std::sync::MutexGuard<'a, ()>>> {
        let mut stripes = Vec::with_capacity(item_keys.len());
        for k in item_keys {
            stripes.push(self.stripe(self.lock_key(def, k)?));
        }
        stripes.sort_unstable();
        stripes.dedup();
        Ok(stripes.iter().map(|&i| lock(&self.item_locks[i])).collect())
    }

    /// One backfill batch; `None` when the target is no longer wanted.
    fn backfill_batch(
        &self,
        table: &Table,
        target: Backfill,
        item_keys: &[Vec<u8>],
    ) -> Result<Option<u64>> {
        let def = table.read();
        if def.status != TableStatus::Active {
            return Ok(None);
        }
        let index = match target {
            Backfill::Index(id) => {
                let found = def
                    .indexes
                    .iter()
                    .find(|i| i.id == id && i.status == IndexStatus::Creating);
                let Some(index) = found else {
                    return Ok(None);
                };
                Some(index)
            }
            Backfill::Expiry(id) => {
                if def.settings.ttl.as_ref().is_none_or(|t| t.id != id) {
                    return Ok(None);
                }
                None
            }
        };
        let _guards = self.lock_items(&def, item_keys)?;
        let mut batch = self.db.batch();
        let (mut count, mut bytes) = (0i64, 0i64);
        for k in item_keys {
            let Some(value) = self.items.get(k)? else {
                continue;
            };
            let item = codec::decode_item(&value)?;
            let Some(index) = index else {
                // An expiry entry is keyed by what it holds: writing it
                // again is harmless.
                if let Some(ttl) = &def.settings.ttl {
                    if let Some(at) = expiry_of(&item, &ttl.attribute) {
                        batch.insert(&self.expiry, expiry_key(ttl.id, at, k), []);
                        count += 1;
                    }
                }
                continue;
            };
            // An existing item whose index key value a write would be
            // refused for (empty, or over the key size limits) stays out
            // of the index, as DynamoDB's backfill leaves it out.
            if index::check_item(std::slice::from_ref(index), &def.key_schema, &item, false)
                .is_err()
            {
                continue;
            }
            let Some(entry_key) = index.entry_key(&def.key_schema, &item) else {
                continue;
            };
            if self.indexes.get(&entry_key)?.is_some() {
                continue;
            }
            let entry = index.project(&def.key_schema, &item);
            let mut encoded = Vec::with_capacity(64);
            codec::encode_item(&entry, &mut encoded);
            batch.insert(&self.indexes, entry_key, encoded);
            count += 1;
            bytes += index::entry_size(&entry) as i64;
        }
        if !batch.is_empty() {
            self.commit.commit_batch(batch)?;
        }
        if let Some(index) = index {
            table.account_index(index.id, count, bytes);
        }
        Ok(Some(count as u64))
    }

    /// Drops the entries of a disabled TTL setting's expiry index.
    pub(crate) fn drop_expiry(&self, ttl_id: u32) -> Result<()> {
        let dropped = self.drop_prefix(&self.expiry, &ttl_id.to_be_bytes())?;
        tracing::debug!(ttl_id, dropped, "dropped expiry index");
        Ok(())
    }
}
