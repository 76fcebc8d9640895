//! On-demand backups: durable copies of a table's items as they were when
//! CreateBackup committed (`docs/storage.md`, "Backups").
//!
//! A backup is made by copy-on-write, so that it needs no in-memory
//! snapshot and survives a crash mid-way: from the moment it is recorded,
//! the first write to change an item keeps the item's old image in the
//! backup ([`Shared::keep_for_backup`], called by `Shared::updated` in the
//! item's own batch), and the fill worker copies every item that has no
//! backup entry yet, under the item's lock. Invariant: an entry, once
//! written, holds the item as it was at the backup instant (empty if the
//! item did not exist), and is never overwritten.

use std::sync::atomic::Ordering;
use std::sync::Arc;

use fjall::{OwnedWriteBatch, Readable};
use tarn_expr::Item;

use crate::catalog::{
    catalog_key, check_backup_source, RestoreSource, TableDef, TableStatus, CATALOG_NEXT_ID,
};
use crate::clock::now_ms;
use crate::codec::{self, put_bytes, DecodeError, Reader};
use crate::error::{Error, Result};
use crate::guard::lock;
use crate::jobs::{Job, BACKFILL_BATCH_ITEMS_MAX};
use crate::keys;
use crate::shared::Shared;
use crate::table::Table;

/// Version byte of backup records.
const BACKUP_VERSION: u8 = 1;
/// Catalog prefix of backup records.
const CATALOG_BACKUP_PREFIX: u8 = b'B';

const F_ID: u8 = 1;
const F_NAME: u8 = 2;
const F_STATUS: u8 = 3;
const F_CREATED: u8 = 4;
const F_TYPE: u8 = 5;
const F_SOURCE: u8 = 6;
const F_ITEM_COUNT: u8 = 7;
const F_SIZE: u8 = 8;

/// Where a backup is in its life.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BackupStatus {
    /// Being copied.
    Creating,
    /// Complete; restores may read it.
    Available,
    /// Deleted; its entries are being dropped and nothing lists it.
    Deleted,
}

impl BackupStatus {
    /// DynamoDB's name for it.
    pub fn as_str(self) -> &'static str {
        match self {
            BackupStatus::Creating => "CREATING",
            BackupStatus::Available => "AVAILABLE",
            BackupStatus::Deleted => "DELETED",
        }
    }
}

/// Who made a backup.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BackupType {
    /// CreateBackup.
    User,
    /// DynamoDB itself (Tarn makes none yet).
    System,
}

impl BackupType {
    /// DynamoDB's name for it.
    pub fn as_str(self) -> &'static str {
        match self {
            BackupType::User => "USER",
            BackupType::System => "SYSTEM",
        }
    }
}

/// A backup record.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Backup {
    /// Id, from the id counter; the prefix of the backup's entries.
    pub id: u32,
    /// The name CreateBackup gave it.
    pub name: String,
    /// Where it is in its life.
    pub status: BackupStatus,
    /// The backup instant, ms since the epoch.
    pub created_ms: u64,
    /// Who made it.
    pub backup_type: BackupType,
    /// The table as it was at the backup instant.
    pub source: TableDef,
    /// The table's item count at the backup instant.
    pub item_count: u64,
    /// The table's size at the backup instant.
    pub size_bytes: u64,
}

fn put_field(out: &mut Vec<u8>, tag: u8, payload: &[u8]) {
    out.push(tag);
    put_bytes(out, payload);
}

impl Backup {
    /// Encodes the backup record.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = vec![BACKUP_VERSION];
        put_field(&mut out, F_ID, &self.id.to_be_bytes());
        put_field(&mut out, F_NAME, self.name.as_bytes());
        let status = match self.status {
            BackupStatus::Creating => 1u8,
            BackupStatus::Available => 2,
            BackupStatus::Deleted => 3,
        };
        put_field(&mut out, F_STATUS, &[status]);
        put_field(&mut out, F_CREATED, &self.created_ms.to_be_bytes());
        let ty = match self.backup_type {
            BackupType::User => 1u8,
            BackupType::System => 2,
        };
        put_field(&mut out, F_TYPE, &[ty]);
        put_field(&mut out, F_SOURCE, &self.source.encode());
        put_field(&mut out, F_ITEM_COUNT, &self.item_count.to_be_bytes());
        put_field(&mut out, F_SIZE, &self.size_bytes.to_be_bytes());
        out
    }

    /// Decodes a backup record, skipping fields it does not know.
    pub fn decode(buf: &[u8]) -> Result<Backup, DecodeError> {
        let mut r = Reader::new(buf);
        if r.u8()? != BACKUP_VERSION {
            return Err(DecodeError("unknown backup record version"));
        }
        let (mut id, mut name, mut status, mut created_ms) = (None, None, None, None);
        let mut backup_type = BackupType::User;
        let mut source = None;
        let (mut item_count, mut size_bytes) = (None, None);
        while !r.is_empty() {
            let tag = r.u8()?;
            let payload = r.bytes()?;
            let mut f = Reader::new(payload);
            match tag {
                F_ID => id = Some(f.u32()?),
                F_NAME => {
                    let s =
                        std::str::from_utf8(payload).map_err(|_| DecodeError("invalid utf-8"))?;
                    name = Some(s.to_owned());
                }
                F_STATUS => {
                    status = Some(match f.u8()? {
                        1 => BackupStatus::Creating,
                        2 => BackupStatus::Available,
                        3 => BackupStatus::Deleted,
                        _ => return Err(DecodeError("unknown backup status")),
                    })
                }
                F_CREATED => created_ms = Some(f.u64()?),
                F_TYPE => {
                    backup_type = match f.u8()? {
                        1 => BackupType::User,
                        2 => BackupType::System,
                        _ => return Err(DecodeError("unknown backup type")),
                    }
                }
                F_SOURCE => source = Some(TableDef::decode(payload)?),
                F_ITEM_COUNT => item_count = Some(f.u64()?),
                F_SIZE => size_bytes = Some(f.u64()?),
                _ => continue,
            }
        }
        Ok(Backup {
            id: id.ok_or(DecodeError("backup record without id"))?,
            name: name.ok_or(DecodeError("backup record without name"))?,
            status: status.ok_or(DecodeError("backup record without status"))?,
            created_ms: created_ms.ok_or(DecodeError("backup record without time"))?,
            backup_type,
            source: source.ok_or(DecodeError("backup record without table"))?,
            item_count: item_count.ok_or(DecodeError("backup record without item count"))?,
            size_bytes: size_bytes.ok_or(DecodeError("backup record without size"))?,
        })
    }
}

/// The catalog key of a backup record.
fn record_key(id: u32) -> [u8; 5] {
    let mut k = [CATALOG_BACKUP_PREFIX, 0, 0, 0, 0];
    k[1..].copy_from_slice(&id.to_be_bytes());
    k
}

/// The key of a backup entry: the backup id in place of the item key's
/// table id.
fn entry_key(backup: u32, item_key: &[u8]) -> Vec<u8> {
    let tail = item_key.get(keys::TABLE_ID_BYTES..).unwrap_or_default();
    let mut k = Vec::with_capacity(keys::TABLE_ID_BYTES + tail.len());
    k.extend_from_slice(&backup.to_be_bytes());
    k.extend_from_slice(tail);
    k
}

/// The key of an item of table `table_id` from a backup entry key (or any
/// key that starts with a 4-byte id).
pub(crate) fn rekey(table_id: u32, key: &[u8]) -> Vec<u8> {
    entry_key(table_id, key)
}

impl Shared {
    /// Adds to `batch` the old image of the item at `item_key` for the
    /// backup `backup`, unless the backup already has its entry: called by
    /// `Shared::updated` for every write that changes an item of a table
    /// with a backup being copied, under the item's lock.
    pub(crate) fn keep_for_backup(
        &self,
        batch: &mut OwnedWriteBatch,
        backup: u32,
        item_key: &[u8],
        old: Option<&Item>,
    ) -> Result<()> {
        let k = entry_key(backup, item_key);
        if self.backups.get(&k)?.is_some() {
            return Ok(());
        }
        let mut value = Vec::new();
        if let Some(item) = old {
            codec::encode_item(item, &mut value);
        }
        batch.insert(&self.backups, k, value);
        Ok(())
    }

    pub(crate) fn load_backup(&self, id: u32) -> Result<Option<Backup>> {
        self.catalog
            .get(record_key(id))?
            .map(|v| Backup::decode(&v).map_err(Error::from))
            .transpose()
    }

    /// Every backup record, in id (creation) order.
    fn all_backups(&self) -> Result<Vec<Backup>> {
        let mut out = Vec::new();
        for guard in self.catalog.prefix([CATALOG_BACKUP_PREFIX]) {
            let (_, value) = guard.into_inner()?;
            out.push(Backup::decode(&value)?);
        }
        Ok(out)
    }

    /// The drop work that backup and recovery records say is unfinished.
    pub(crate) fn unfinished_backup_work(&self) -> Result<Vec<Job>> {
        let mut jobs: Vec<Job> = self
            .all_backups()?
            .into_iter()
            .filter(|b| b.status == BackupStatus::Deleted)
            .map(|b| Job::DropBackup(b.id))
            .collect();
        jobs.extend(self.pending_pitr_drops()?.into_iter().map(Job::DropPitrLog));
        Ok(jobs)
    }

    /// Copies the table's items into the backup `id` (the fill job); then
    /// marks the backup `AVAILABLE`. Stops if the table is deleted: its
    /// drop job finishes the copy.
    pub(crate) fn copy_backup(&self, table: &Arc<Table>, id: u32) -> Result<()> {
        let table_id = table.read().id;
        let finished = self.for_key_batches(table_id, |batch_keys| {
            let def = table.read();
            if def.status != TableStatus::Active || !def.backups_creating.contains(&id) {
                return Ok(false);
            }
            let _guards = self.lock_items(&def, batch_keys)?;
            self.copy_batch(id, batch_keys)?;
            drop(_guards);
            drop(def);
            if self.backfill_pause_ms > 0 {
                std::thread::sleep(std::time::Duration::from_millis(self.backfill_pause_ms));
            }
            Ok(true)
        })?;
        if !finished {
            return Ok(());
        }
        let mut def = table.write();
        if def.status != TableStatus::Active || !def.backups_creating.contains(&id) {
            return Ok(());
        }
        let mut new = def.clone();
        new.backups_creating.retain(|b| *b != id);
        let mut batch = self.db.batch();
        batch.insert(&self.catalog, catalog_key(&new.name), new.encode());
        self.mark_available(&mut batch, id)?;
        // Syncing this batch makes every copy batch before it durable.
        self.commit.commit(batch)?;
        *def = new;
        tracing::debug!(backup = id, "backup available");
        Ok(())
    }

    /// Walks the item keys of table `table_id` in a snapshot, in batches of
    /// at most [`BACKFILL_BATCH_ITEMS_MAX`], until `f` returns false;
    /// returns whether the walk reached the end.
    fn for_key_batches(
        &self,
        table_id: u32,
        mut f: impl FnMut(&[Vec<u8>]) -> Result<bool>,
    ) -> Result<bool> {
        let snapshot = self.db.snapshot();
        let mut iter = snapshot.prefix(&self.items, keys::table_prefix(table_id));
        let mut batch_keys = Vec::with_capacity(BACKFILL_BATCH_ITEMS_MAX);
        loop {
            batch_keys.clear();
            for guard in iter.by_ref().take(BACKFILL_BATCH_ITEMS_MAX) {
                batch_keys.push(guard.key()?.to_vec());
            }
            if batch_keys.is_empty() {
                return Ok(true);
            }
            if !f(&batch_keys)? {
                return Ok(false);
            }
        }
    }

    /// Copies the items at `item_keys` that have no entry in the backup
    /// yet; the caller holds their locks (or nothing can write them).
    fn copy_batch(&self, backup: u32, item_keys: &[Vec<u8>]) -> Result<()> {
        let mut batch = self.db.batch();
        for k in item_keys {
            let entry = entry_key(backup, k);
            if self.backups.get(&entry)?.is_some() {
                continue;
            }
            let Some(value) = self.items.get(k)? else {
                continue;
            };
            batch.insert(&self.backups, entry, value.to_vec());
        }
        if !batch.is_empty() {
            self.commit.commit_batch(batch)?;
        }
        Ok(())
    }

    /// Adds to `batch` the record of backup `id` marked `AVAILABLE`. Needs
    /// no lock: only the copy changes a `CREATING` record (DeleteBackup
    /// refuses one), and the caller holds the table's write lock or is the
    /// drop of the table. (Taking the backup lock here, under the table
    /// lock, would invert DeleteBackup's order.)
    fn mark_available(&self, batch: &mut OwnedWriteBatch, id: u32) -> Result<()> {
        let Some(mut backup) = self.load_backup(id)? else {
            return Ok(());
        };
        if backup.status == BackupStatus::Creating {
            backup.status = BackupStatus::Available;
            batch.insert(&self.catalog, record_key(id), backup.encode());
        }
        Ok(())
    }

    /// Completes the copy of backup `id` of a deleted table, which nothing
    /// can write any more, and marks it `AVAILABLE`.
    pub(crate) fn finish_backup_of_dropped(&self, table: &Table, id: u32) -> Result<()> {
        let table_id = table.read().id;
        self.for_key_batches(table_id, |batch_keys| {
            self.copy_batch(id, batch_keys)?;
            Ok(true)
        })?;
        let mut batch = self.db.batch();
        self.mark_available(&mut batch, id)?;
        // The drop record keeps listing the backup; the drop that follows
        // removes it.
        self.commit.commit(batch)?;
        Ok(())
    }

    /// Drops the entries of a deleted backup, then its record.
    pub(crate) fn drop_backup(&self, id: u32) -> Result<()> {
        let dropped = self.drop_prefix(&self.backups, &id.to_be_bytes())?;
        let mut batch = self.db.batch();
        batch.remove(&self.catalog, record_key(id));
        self.commit.commit(batch)?;
        tracing::debug!(backup = id, dropped, "dropped deleted backup");
        Ok(())
    }

    /// Fills the `CREATING` table `table` from backup `id`, in batches; the
    /// entries' table id is replaced by the table's. Returns false if the
    /// table is no longer being restored.
    pub(crate) fn fill_from_backup(&self, table: &Table, id: u32) -> Result<bool> {
        let target = table.read().id;
        let snapshot = self.db.snapshot();
        let mut entries = Vec::with_capacity(BACKFILL_BATCH_ITEMS_MAX);
        for guard in snapshot.prefix(&self.backups, id.to_be_bytes()) {
            let (k, v) = guard.into_inner()?;
            if v.is_empty() {
                continue;
            }
            entries.push((rekey(target, &k), Some(codec::decode_item(&v)?)));
            if entries.len() >= BACKFILL_BATCH_ITEMS_MAX
                && !self.fill_batch(table, std::mem::take(&mut entries))?
            {
                return Ok(false);
            }
        }
        self.fill_batch(table, entries)
    }
}

/// How many backups of a table may be copied at once.
const BACKUPS_CREATING_MAX: usize = 50;

impl Shared {
    /// CreateBackup: records a backup of the table as it is now and copies
    /// it in the background (`CREATING`, then `AVAILABLE`).
    pub(crate) fn create_backup(&self, table: &str, name: &str) -> Result<Backup> {
        let s = self;
        let t = s
            .table(table)
            .map_err(|_| Error::BackupTableNotFound(table.to_owned()))?;
        let backup = {
            // The write lock waits for in-flight writes: every write after
            // it keeps old images for the backup.
            let mut def = t.write();
            check_backup_source(def.status, table)?;
            if def.backups_creating.len() >= BACKUPS_CREATING_MAX {
                return Err(Error::LimitExceeded(format!(
                    "Subscriber limit exceeded: There is a limit of {BACKUPS_CREATING_MAX} concurrent backups per table"
                )));
            }
            let mut next_id = lock(&s.next_table_id);
            let id = *next_id;
            let next = id.checked_add(1).ok_or_else(|| {
                Error::LimitExceeded("Subscriber limit exceeded: ids exhausted".into())
            })?;
            let mut source = def.clone();
            source.backups_creating.clear();
            let backup = Backup {
                id,
                name: name.to_owned(),
                status: BackupStatus::Creating,
                created_ms: now_ms(),
                backup_type: BackupType::User,
                source,
                item_count: t.item_count.load(Ordering::Relaxed).max(0) as u64,
                size_bytes: t.size_bytes.load(Ordering::Relaxed).max(0) as u64,
            };
            let mut new = def.clone();
            new.backups_creating.push(id);
            let mut batch = s.db.batch();
            batch.insert(&s.catalog, catalog_key(&new.name), new.encode());
            batch.insert(&s.catalog, record_key(id), backup.encode());
            batch.insert(&s.catalog, CATALOG_NEXT_ID, next.to_be_bytes());
            s.commit.commit(batch)?;
            *next_id = next;
            *def = new;
            backup
        };
        self.jobs.submit(Job::CopyBackup(t, backup.id));
        Ok(backup)
    }

    /// The backup with this id, unless it was deleted.
    pub(crate) fn describe_backup(&self, id: u32) -> Result<Backup> {
        match self.load_backup(id)? {
            Some(b) if b.status != BackupStatus::Deleted => Ok(b),
            _ => Err(Error::BackupNotFound(id)),
        }
    }

    /// Every backup not deleted, in creation order.
    pub(crate) fn list_backups(&self) -> Result<Vec<Backup>> {
        Ok(self
            .all_backups()?
            .into_iter()
            .filter(|b| b.status != BackupStatus::Deleted)
            .collect())
    }

    /// DeleteBackup: the backup disappears at once and its entries are
    /// dropped in the background. Returns it as it was, marked `DELETED`.
    /// A backup being copied, or being restored from, is in use.
    pub(crate) fn delete_backup(&self, id: u32) -> Result<Backup> {
        let s = self;
        let _g = lock(&s.backup_lock);
        let mut backup = match s.load_backup(id)? {
            Some(b) if b.status != BackupStatus::Deleted => b,
            _ => return Err(Error::BackupNotFound(id)),
        };
        if backup.status == BackupStatus::Creating {
            return Err(Error::BackupInUse(
                "Backup is being created and cannot be deleted".into(),
            ));
        }
        if s.restoring_from(id) {
            return Err(Error::BackupInUse(
                "Backup is being restored to a table and cannot be deleted".into(),
            ));
        }
        backup.status = BackupStatus::Deleted;
        let mut batch = s.db.batch();
        batch.insert(&s.catalog, record_key(id), backup.encode());
        s.commit.commit(batch)?;
        drop(_g);
        self.jobs.submit(Job::DropBackup(id));
        Ok(backup)
    }
}

impl Shared {
    /// True while a table is being restored from backup `id`.
    fn restoring_from(&self, id: u32) -> bool {
        self.read_tables().values().any(|t| {
            t.read().restore.as_ref().is_some_and(|r| {
                r.in_progress && matches!(r.source, RestoreSource::Backup { id: b, .. } if b == id)
            })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backup_records_round_trip_and_truncations_fail() {
        let source = TableDef::decode(&crate::catalog::tests::sample().encode()).expect("sample");
        let b = Backup {
            id: 40,
            name: "nightly.1".into(),
            status: BackupStatus::Available,
            created_ms: 1_700_000_000_001,
            backup_type: BackupType::User,
            source,
            item_count: 12,
            size_bytes: 3456,
        };
        let buf = b.encode();
        assert_eq!(Backup::decode(&buf), Ok(b));
        for cut in 0..buf.len() {
            assert!(Backup::decode(&buf[..cut]).is_err(), "cut at {cut} decoded");
        }
    }

    #[test]
    fn entry_keys_swap_the_table_id_for_the_backup_id() {
        let item_key = [0, 0, 0, 7, 9, 9, 9];
        assert_eq!(entry_key(300, &item_key), vec![0, 0, 1, 44, 9, 9, 9]);
        assert_eq!(rekey(7, &entry_key(300, &item_key)), item_key.to_vec());
    }
}
