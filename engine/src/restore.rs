//! Restored tables. RestoreTableFromBackup and RestoreTableToPointInTime
//! create a new table, `CREATING`, with the source's key schema and indexes
//! and the settings DynamoDB carries over (billing, throughput, encryption,
//! table class; not tags, streams, TTL, recovery or deletion protection),
//! and the fill worker writes its items through `Shared::updated`, so that
//! its indexes follow. A `CREATING` table refuses every item operation and
//! DeleteTable, so the fill is the only writer. Filling is idempotent: a
//! crash leaves the table `CREATING`, and the fill runs again at start-up.

use std::sync::Arc;

use fjall::Readable;
use tarn_expr::Item;

use crate::backup::{rekey, BackupStatus};
use crate::catalog::{
    catalog_key, check_backup_source, drop_key, BillingMode, RestoreDef, RestoreSource, TableDef,
    TableSettings, TableStatus, Throughput, CATALOG_NEXT_ID,
};
use crate::clock::now_ms;
use crate::codec;
use crate::ddl::new_index_def;
use crate::error::{Error, Result};
use crate::guard::{lock, write_lock};
use crate::index::{IndexKind, IndexStatus, NewIndex};
use crate::invalid::Invalid;
use crate::jobs::{Job, BACKFILL_BATCH_ITEMS_MAX};
use crate::keys;
use crate::maintain::WriteContext;
use crate::pitr::{decode_undo, undo_range, window};
use crate::schema::table_key_attrs;
use crate::shared::Shared;
use crate::table::{Table, TableInfo};

/// What a restore creates, with the overrides of its request.
#[derive(Clone, Debug, Default)]
pub struct RestoreTarget {
    /// The new table's name.
    pub name: String,
    /// BillingModeOverride.
    pub billing_mode: Option<BillingMode>,
    /// ProvisionedThroughputOverride: read and write units.
    pub throughput: Option<(u64, u64)>,
    /// OnDemandThroughputOverride: read and write maxima (-1 for none).
    pub on_demand: Option<(i64, i64)>,
    /// SSESpecificationOverride: `Some(None)` for the default key.
    pub sse_kms_key: Option<Option<String>>,
    /// GlobalSecondaryIndexOverride: the global indexes to create instead of
    /// the source's.
    pub global_indexes: Option<Vec<NewIndex>>,
    /// LocalSecondaryIndexOverride: likewise for local indexes.
    pub local_indexes: Option<Vec<NewIndex>>,
}

impl Shared {
    /// Creates the `CREATING` table a restore fills, from the source's
    /// definition, and queues the fill. `snapshot` is the point-in-time
    /// source's state at the request.
    pub(crate) fn create_restored(
        &self,
        source: &TableDef,
        restore: RestoreDef,
        req: RestoreTarget,
        snapshot: Option<fjall::Snapshot>,
    ) -> Result<TableInfo> {
        let s = self;
        let mut tables = write_lock(&s.tables);
        if tables.contains_key(&req.name) {
            return Err(Error::TableAlreadyExists(req.name));
        }
        let mut next_id = lock(&s.next_table_id);
        let id = *next_id;
        let exhausted =
            || Error::LimitExceeded("Subscriber limit exceeded: table ids exhausted".into());
        let mut new_next = id.checked_add(1).ok_or_else(exhausted)?;
        let now = now_ms();
        let mode = req.billing_mode.unwrap_or(source.billing_mode);
        let (read_units, write_units) = match mode {
            BillingMode::PayPerRequest => (0, 0),
            BillingMode::Provisioned => req.throughput.unwrap_or((
                source.throughput.read_units.max(1),
                source.throughput.write_units.max(1),
            )),
        };
        let mut new_indexes = Vec::new();
        for kind in [IndexKind::Local, IndexKind::Global] {
            let chosen = match kind {
                IndexKind::Local => req.local_indexes.clone(),
                IndexKind::Global => req.global_indexes.clone(),
            };
            let from_source = source
                .indexes
                .iter()
                .filter(|i| i.kind == kind && i.maintained());
            let list: Vec<NewIndex> = match chosen {
                Some(list) => {
                    for index in &list {
                        if !from_source.clone().any(|i| i.name == index.name) {
                            return Err(Error::Validation(Invalid::NoSuchSourceIndex {
                                index: index.name.clone(),
                                table: source.name.clone(),
                            }));
                        }
                    }
                    list
                }
                None => from_source
                    .map(|i| NewIndex {
                        name: i.name.clone(),
                        kind: i.kind,
                        hash: i.hash.clone(),
                        range: i.range.clone(),
                        projection: i.projection.clone(),
                        throughput: Some((i.read_units, i.write_units)),
                    })
                    .collect(),
            };
            for mut index in list {
                index.throughput = match (mode, kind) {
                    (BillingMode::Provisioned, IndexKind::Global) => Some(
                        index
                            .throughput
                            .filter(|(r, w)| *r > 0 && *w > 0)
                            .unwrap_or((read_units, write_units)),
                    ),
                    _ => None,
                };
                new_indexes.push(new_index_def(index, new_next, IndexStatus::Active, now));
                new_next = new_next.checked_add(1).ok_or_else(exhausted)?;
            }
        }
        let used = |name: &str| {
            table_key_attrs(&source.key_schema).any(|a| a.name == name)
                || new_indexes
                    .iter()
                    .any(|i| i.key_attrs().any(|a| a.name == name))
        };
        let mut attribute_definitions: Vec<_> = source
            .attribute_definitions
            .iter()
            .filter(|a| used(&a.name))
            .cloned()
            .collect();
        for index in &new_indexes {
            for attr in index.key_attrs() {
                if !attribute_definitions.iter().any(|a| a.name == attr.name) {
                    attribute_definitions.push(attr.clone());
                }
            }
        }
        let settings = TableSettings {
            table_class: source.settings.table_class.map(|(class, _)| (class, 0)),
            sse_kms_key: req
                .sse_kms_key
                .clone()
                .unwrap_or_else(|| source.settings.sse_kms_key.clone()),
            on_demand: match mode {
                BillingMode::PayPerRequest => req.on_demand.or(source.settings.on_demand),
                BillingMode::Provisioned => None,
            },
            ..TableSettings::default()
        };
        let def = TableDef {
            id,
            name: req.name.clone(),
            status: TableStatus::Creating,
            created_ms: now,
            key_schema: source.key_schema.clone(),
            attribute_definitions,
            billing_mode: mode,
            throughput: Throughput {
                read_units,
                write_units,
                ..Throughput::default()
            },
            pay_per_request_since_ms: (mode == BillingMode::PayPerRequest).then_some(now),
            indexes: new_indexes,
            settings,
            streams: Vec::new(),
            backups_creating: Vec::new(),
            restore: Some(restore),
        };
        let mut batch = s.db.batch();
        batch.insert(&s.catalog, catalog_key(&def.name), def.encode());
        batch.insert(&s.catalog, CATALOG_NEXT_ID, new_next.to_be_bytes());
        s.commit.commit(batch)?;
        *next_id = new_next;
        drop(next_id);
        s.pin_restore(&def);
        let table = Table::new(def);
        let info = table.info();
        tables.insert(req.name, Arc::clone(&table));
        drop(tables);
        self.jobs.submit(Job::Restore(table, snapshot));
        Ok(info)
    }

    /// RestoreTableFromBackup: creates `req.target` from the backup as a
    /// `CREATING` table, filled in the background.
    pub(crate) fn restore_from_backup(&self, id: u32, req: RestoreTarget) -> Result<TableInfo> {
        let s = self;
        // Held until the new table records the backup as its source, so a
        // DeleteBackup cannot slip in between.
        let _g = lock(&s.backup_lock);
        let backup = match s.load_backup(id)? {
            Some(b) if b.status != BackupStatus::Deleted => b,
            _ => return Err(Error::BackupNotFound(id)),
        };
        if backup.status == BackupStatus::Creating {
            return Err(Error::BackupInUse(
                "Backup is being created and cannot be restored yet".into(),
            ));
        }
        let restore = RestoreDef {
            source: RestoreSource::Backup {
                id,
                created_ms: backup.created_ms,
            },
            restore_ms: backup.created_ms,
            source_table: backup.source.name.clone(),
            in_progress: true,
        };
        self.create_restored(&backup.source, restore, req, None)
    }

    /// RestoreTableToPointInTime: creates `req.name` as `source` was at
    /// `at_ms` (`None`: now), `CREATING` until it is filled in the
    /// background.
    pub(crate) fn restore_to_point_in_time(
        &self,
        source: &str,
        at_ms: Option<u64>,
        req: RestoreTarget,
    ) -> Result<TableInfo> {
        let s = self;
        let t = s
            .table(source)
            .map_err(|_| Error::BackupTableNotFound(source.to_owned()))?;
        let def = t.read().clone();
        check_backup_source(def.status, source)?;
        let Some(pitr) = def.settings.pitr else {
            return Err(Error::PitrUnavailable(def.name));
        };
        let restore = {
            // Checked and pinned under the pins' lock, so that no trim
            // between the two removes what the restore needs.
            let mut pins = lock(&s.pitr_pins);
            let w = window(&pitr, now_ms());
            let at = at_ms.unwrap_or(w.latest_ms);
            if at < w.earliest_ms || at > w.latest_ms {
                return Err(Error::InvalidRestoreTime(format!(
                    "Invalid restore time: RestoreDateTime must be between the EarliestRestorableDateTime {} and the LatestRestorableDateTime {} (seconds since the epoch)",
                    seconds(w.earliest_ms),
                    seconds(w.latest_ms)
                )));
            }
            pins.push((pitr.id, at));
            RestoreDef {
                source: RestoreSource::PointInTime {
                    table_id: def.id,
                    pitr_id: pitr.id,
                },
                restore_ms: at,
                source_table: def.name.clone(),
                in_progress: true,
            }
        };
        // The fill reads this snapshot: the source as it is now, and every
        // undo record after the restore time.
        let snapshot = s.db.snapshot();
        let pin = (pitr.id, restore.restore_ms);
        let created = self.create_restored(&def, restore, req, Some(snapshot));
        // `create_restored` pins the new table's restore itself.
        let mut pins = lock(&s.pitr_pins);
        if let Some(i) = pins.iter().position(|p| *p == pin) {
            pins.swap_remove(i);
        }
        created
    }
}

fn seconds(ms: u64) -> String {
    format!("{}.{:03}", ms / 1000, ms % 1000)
}

impl Shared {
    /// Fills a `CREATING` restored table from its source, then makes it
    /// `ACTIVE` (the fill job). If the source is gone (a point-in-time
    /// restore resumed after a restart whose source was deleted), the table
    /// cannot be completed and is dropped.
    pub(crate) fn restore(
        &self,
        table: &Arc<Table>,
        snapshot: Option<fjall::Snapshot>,
    ) -> Result<()> {
        let (restore, status) = {
            let def = table.read();
            (def.restore.clone(), def.status)
        };
        let Some(restore) = restore.filter(|r| r.in_progress) else {
            return Ok(());
        };
        if status != TableStatus::Creating {
            return Ok(());
        }
        let filled = match restore.source {
            RestoreSource::Backup { id, .. } => self.fill_from_backup(table, id)?,
            RestoreSource::PointInTime { table_id, pitr_id } => {
                self.fill_from_pitr(table, table_id, pitr_id, restore.restore_ms, snapshot)?
            }
        };
        if !filled {
            return self.abandon_restore(table);
        }
        let mut def = table.write();
        if def.status != TableStatus::Creating {
            return Ok(());
        }
        let mut new = def.clone();
        new.status = TableStatus::Active;
        if let Some(r) = &mut new.restore {
            r.in_progress = false;
        }
        let mut batch = self.db.batch();
        batch.insert(&self.catalog, catalog_key(&new.name), new.encode());
        // Syncing this record makes every fill batch before it durable.
        self.commit.commit(batch)?;
        // The pin is the unfinished restore's, so it is found from the
        // definition before the change.
        self.unpin_restore(&def);
        tracing::debug!(table = %new.name, "restore finished");
        *def = new;
        Ok(())
    }

    /// Writes `entries` (item key, new item or `None` to delete) into the
    /// `CREATING` table `table`, each with what `Shared::updated` derives,
    /// in one batch. Returns false if the table is no longer being filled.
    pub(crate) fn fill_batch(
        &self,
        table: &Table,
        entries: Vec<(Vec<u8>, Option<Item>)>,
    ) -> Result<bool> {
        let def = table.read();
        if def.status != TableStatus::Creating {
            return Ok(false);
        }
        let mut batch = self.db.batch();
        let mut ctx = WriteContext::new(None);
        let mut accounted = Vec::with_capacity(entries.len());
        let mut counters = Vec::new();
        for (key, new) in entries {
            let old = self
                .items
                .get(&key)?
                .map(|v| codec::decode_item(&v))
                .transpose()?;
            if old == new {
                continue;
            }
            match &new {
                Some(item) => {
                    let mut value = Vec::with_capacity(128);
                    codec::encode_item(item, &mut value);
                    batch.insert(&self.items, key.as_slice(), value);
                }
                None => batch.remove(&self.items, key.as_slice()),
            }
            let effects =
                self.updated(&mut batch, &def, &key, old.as_ref(), new.as_ref(), &mut ctx)?;
            counters.extend(effects.counters);
            accounted.push((old, new));
        }
        drop(def);
        if !batch.is_empty() {
            self.commit.commit_marked(batch, &ctx.marks)?;
        }
        for (old, new) in &accounted {
            table.account(old.as_ref(), new.as_ref());
        }
        for (id, count, bytes) in counters {
            table.account_index(id, count, bytes);
        }
        if self.backfill_pause_ms > 0 {
            std::thread::sleep(std::time::Duration::from_millis(self.backfill_pause_ms));
        }
        Ok(true)
    }

    /// Drops a restored table that cannot be completed.
    fn abandon_restore(&self, table: &Arc<Table>) -> Result<()> {
        let name = {
            let mut def = table.write();
            if def.status != TableStatus::Creating {
                return Ok(());
            }
            let mut marked = def.clone();
            marked.status = TableStatus::Deleting;
            let mut batch = self.db.batch();
            batch.remove(&self.catalog, catalog_key(&marked.name));
            batch.insert(&self.catalog, drop_key(marked.id), marked.encode());
            self.commit.commit(batch)?;
            self.unpin_restore(&marked);
            *def = marked;
            def.name.clone()
        };
        {
            let mut tables = self
                .tables
                .write()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            if tables.get(&name).is_some_and(|t| Arc::ptr_eq(t, table)) {
                tables.remove(&name);
            }
        }
        tracing::error!(table = %name, "the restore's source table is gone; the restored table is dropped");
        self.drop_table_data(table)
    }

    /// Fills the `CREATING` table `table` with the point-in-time source's
    /// items as of `at_ms`: its items in a snapshot, then the undo records
    /// after `at_ms` from the newest back. Returns false if the source is
    /// gone.
    pub(crate) fn fill_from_pitr(
        &self,
        table: &Table,
        source_id: u32,
        pitr_id: u32,
        at_ms: u64,
        snapshot: Option<fjall::Snapshot>,
    ) -> Result<bool> {
        let snapshot = match snapshot {
            Some(s) => s,
            None => {
                let snapshot = self.db.snapshot();
                // Taken first: if the source still has this recovery log
                // now, nothing of it was dropped before the snapshot.
                let live = self.read_tables().values().any(|t| {
                    let def = t.read();
                    def.id == source_id
                        && def.status == TableStatus::Active
                        && def.settings.pitr.is_some_and(|p| p.id == pitr_id)
                });
                if !live {
                    return Ok(false);
                }
                snapshot
            }
        };
        let target = table.read().id;
        let batch_max = BACKFILL_BATCH_ITEMS_MAX;
        let mut entries = Vec::with_capacity(batch_max);
        for guard in snapshot.prefix(&self.items, keys::table_prefix(source_id)) {
            let (k, v) = guard.into_inner()?;
            entries.push((rekey(target, &k), Some(codec::decode_item(&v)?)));
            if entries.len() >= batch_max
                && !self.fill_batch(table, std::mem::take(&mut entries))?
            {
                return Ok(true);
            }
        }
        if !self.fill_batch(table, std::mem::take(&mut entries))? {
            return Ok(true);
        }
        // Newest first, so that each item ends with the image from before
        // its oldest change after `at_ms`; within a batch the last image
        // seen for a key (the oldest) wins.
        let (lo, hi) = undo_range(pitr_id, at_ms);
        let mut pending: std::collections::HashMap<Vec<u8>, Option<Item>> =
            std::collections::HashMap::with_capacity(batch_max);
        let mut seen = 0;
        for guard in snapshot.range(&self.pitr, lo..=hi).rev() {
            let (_, v) = guard.into_inner()?;
            let (key, old) = decode_undo(&v)?;
            pending.insert(rekey(target, &key), old);
            seen += 1;
            if seen >= batch_max {
                seen = 0;
                let entries = pending.drain().collect();
                if !self.fill_batch(table, entries)? {
                    return Ok(true);
                }
            }
        }
        self.fill_batch(table, pending.into_iter().collect())?;
        Ok(true)
    }
}
