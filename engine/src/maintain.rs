//! The one place that writes what an item change implies besides the item:
//! its index entries, for tables with local indexes its item collection's
//! size, for tables with TTL its expiry entry, for tables with an
//! enabled stream its change-log record, for tables with a backup being
//! copied the item's old image, and for tables with point-in-time recovery
//! its undo record. Every write path calls [`Shared::updated`] with the
//! old and new item, under the item's lock, into the item's own batch, so
//! the item and everything derived from it commit atomically (Garage's
//! `updated(tx, old, new)` hook is the model).

use std::collections::HashMap;

use fjall::OwnedWriteBatch;
use tarn_expr::{size, Item};

use crate::catalog::TableDef;
use crate::changelog::{self, Origin};
use crate::clock::now_ms;
use crate::codec;
use crate::error::{Error, Result};
use crate::index::{self, IndexDef, IndexKind};
use crate::keys;
use crate::shared::Shared;
use crate::stream::{state_key, StreamState};
use crate::written::{IndexWrite, ItemCollection};

/// Item collection sizes already changed by earlier writes of the same
/// batch (a transaction writes several items of one collection), which
/// the keyspace does not show yet. Keyed by partition prefix.
pub(crate) type PendingSizes = HashMap<Vec<u8>, u64>;

/// What a batch of item changes shares while it is built.
pub(crate) struct WriteContext {
    /// Collection sizes changed earlier in the batch.
    pub(crate) pending: PendingSizes,
    /// A working copy of the table's stream states, when it has an enabled
    /// stream: the caller holds the table's stream lock from taking the
    /// copy until the batch is committed, then stores the copy back (or
    /// drops it, if nothing was committed).
    pub(crate) streams: Option<Vec<StreamState>>,
    /// Who is making the changes.
    pub(crate) origin: Origin,
    /// The time the changes are stamped with, ms since the epoch.
    pub(crate) now_ms: u64,
    /// `(stream, sequence number)` of the last change record written per
    /// stream, for the commit to publish once durable.
    pub(crate) marks: Vec<(u32, u64)>,
}

impl WriteContext {
    /// A context for changes by a client.
    pub(crate) fn new(streams: Option<Vec<StreamState>>) -> Self {
        WriteContext {
            pending: PendingSizes::new(),
            streams,
            origin: Origin::Client,
            now_ms: now_ms(),
            marks: Vec::new(),
        }
    }
}

/// What [`Shared::updated`] wrote, for the counters and the reply.
#[derive(Default)]
pub(crate) struct Effects {
    pub(crate) indexes: Vec<IndexWrite>,
    /// (index id, entry count delta, byte delta), applied after the commit.
    pub(crate) counters: Vec<(u32, i64, i64)>,
    pub(crate) collection: Option<ItemCollection>,
}

impl Shared {
    /// Adds the item's own change to `batch`: its record, or the removal
    /// of the old one. False when there is nothing to write (a delete of
    /// an absent item).
    pub(crate) fn stage_item(
        &self,
        batch: &mut OwnedWriteBatch,
        key: &[u8],
        old: Option<&Item>,
        new: Option<&Item>,
    ) -> bool {
        match new {
            Some(item) => {
                let mut value = Vec::with_capacity(128);
                codec::encode_item(item, &mut value);
                batch.insert(&self.items, key, value);
                true
            }
            None if old.is_some() => {
                batch.remove(&self.items, key);
                true
            }
            None => false,
        }
    }

    /// Adds to `batch` the index entries and collection size that follow
    /// from changing the item at `key` from `old` to `new`. The caller
    /// holds the item's lock (the partition's, for tables with local
    /// indexes) and has checked `new`'s index keys; for a table with an
    /// enabled stream it also holds the table's stream lock, in `ctx`,
    /// until the batch is committed.
    pub(crate) fn updated(
        &self,
        batch: &mut OwnedWriteBatch,
        def: &TableDef,
        key: &[u8],
        old: Option<&Item>,
        new: Option<&Item>,
        ctx: &mut WriteContext,
    ) -> Result<Effects> {
        let ks = &def.key_schema;
        let mut effects = Effects::default();
        for index in def.indexes.iter().filter(|i| i.maintained()) {
            let entry = |item: Option<&Item>| {
                item.and_then(|i| index.entry_key(ks, i).map(|k| (k, index.project(ks, i))))
            };
            let before = entry(old);
            let after = entry(new);
            if before == after {
                continue;
            }
            let mut counted_before = before.is_some();
            if let Some((k, _)) = &before {
                // While a backfill runs, an old item's entry may not have
                // been written yet.
                if index.backfilling {
                    counted_before = self.indexes.get(k)?.is_some();
                }
                if after.as_ref().is_none_or(|(nk, _)| nk != k) {
                    batch.remove(&self.indexes, k.as_slice());
                }
            }
            if let Some((k, e)) = &after {
                let mut value = Vec::with_capacity(64);
                codec::encode_item(e, &mut value);
                batch.insert(&self.indexes, k.as_slice(), value);
            }
            let old_bytes = before.as_ref().map(|(_, e)| index::entry_size(e));
            let new_bytes = after.as_ref().map(|(_, e)| index::entry_size(e));
            let (old_count, old_size) = match (counted_before, old_bytes) {
                (true, Some(b)) => (1, b as i64),
                _ => (0, 0),
            };
            effects.counters.push((
                index.id,
                i64::from(after.is_some()) - old_count,
                new_bytes.map_or(0, |b| b as i64) - old_size,
            ));
            let key_changed = matches!((&before, &after), (Some((a, _)), Some((b, _))) if a != b);
            effects.indexes.push(IndexWrite {
                index: index.name.clone(),
                kind: index.kind,
                old_bytes,
                new_bytes,
                key_changed,
            });
        }
        if def.has_local_indexes() {
            effects.collection =
                Some(self.update_collection(batch, def, key, old, new, &mut ctx.pending)?);
        }
        if let Some(ttl) = &def.settings.ttl {
            self.update_expiry(batch, ttl, key, old, new);
        }
        if old != new {
            for &backup in &def.backups_creating {
                self.keep_for_backup(batch, backup, key, old)?;
            }
            if let Some(pitr) = &def.settings.pitr {
                self.log_undo(batch, pitr.id, key, old);
            }
        }
        if let Some(stream) = def.enabled_stream() {
            if let Some(event) = changelog::event_of(old, new) {
                let state = ctx
                    .streams
                    .as_mut()
                    .and_then(|states| states.iter_mut().find(|s| s.stream == stream.id))
                    .ok_or(codec::DecodeError("stream state missing"))?;
                let lane = changelog::lane_of(key, state.lanes());
                let (shard, seq, changed) =
                    state.allocate(lane, ctx.now_ms, self.shard_rollover_ms);
                let record = changelog::encode_record(
                    def,
                    stream.view_type,
                    event,
                    old,
                    new,
                    ctx.origin,
                    ctx.now_ms,
                );
                batch.insert(
                    &self.changes,
                    changelog::record_key(stream.id, shard, seq),
                    record,
                );
                match ctx.marks.iter_mut().find(|(s, _)| *s == stream.id) {
                    Some(mark) => mark.1 = seq,
                    None => ctx.marks.push((stream.id, seq)),
                }
                if changed {
                    batch.insert(&self.catalog, state_key(stream.id), state.encode());
                }
            }
        }
        Ok(effects)
    }

    /// Keeps the size of the item collection of `key` current and refuses
    /// a write that grows it past the limit.
    fn update_collection(
        &self,
        batch: &mut OwnedWriteBatch,
        def: &TableDef,
        key: &[u8],
        old: Option<&Item>,
        new: Option<&Item>,
        pending: &mut PendingSizes,
    ) -> Result<ItemCollection> {
        let prefix = &key[..keys::partition_len(def.key_schema.hash.ty, key)?];
        let stored = match pending.get(prefix) {
            Some(size) => Some(*size),
            None => self.stored_collection_size(prefix)?,
        };
        let current = stored.unwrap_or(0);
        let locals: Vec<&IndexDef> = def
            .indexes
            .iter()
            .filter(|i| i.kind == IndexKind::Local)
            .collect();
        let share = |item: Option<&Item>| -> u64 {
            let Some(item) = item else { return 0 };
            let entries: usize = locals
                .iter()
                .filter(|i| i.entry_key(&def.key_schema, item).is_some())
                .map(|i| index::entry_size(&i.project(&def.key_schema, item)))
                .sum();
            (size::item_size(item) + entries) as u64
        };
        let (before, after) = (share(old), share(new));
        let total = current.saturating_sub(before).saturating_add(after);
        if after > before && total > self.collection_bytes_max {
            return Err(Error::ItemCollectionSizeLimitExceeded);
        }
        if total == 0 {
            batch.remove(&self.collections, prefix);
        } else {
            batch.insert(&self.collections, prefix, total.to_be_bytes());
        }
        pending.insert(prefix.to_vec(), total);
        let pk = &def.key_schema.hash.name;
        let value = new
            .or(old)
            .and_then(|i| i.get(pk))
            .cloned()
            .ok_or(codec::DecodeError("item without partition key"))?;
        Ok(ItemCollection {
            key: Item::from([(pk.clone(), value)]),
            size_bytes: total,
        })
    }

    fn stored_collection_size(&self, prefix: &[u8]) -> Result<Option<u64>> {
        let Some(v) = self.collections.get(prefix)? else {
            return Ok(None);
        };
        let bytes: [u8; 8] = v
            .as_ref()
            .try_into()
            .map_err(|_| codec::DecodeError("item collection size"))?;
        Ok(Some(u64::from_be_bytes(bytes)))
    }
}
