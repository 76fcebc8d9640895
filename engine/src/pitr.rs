//! Point-in-time recovery (`docs/storage.md`, "Point-in-time recovery").
//!
//! While recovery is enabled on a table, every write that changes an item
//! adds an undo record (the item's key and its image before the write) to
//! the `pitr` keyspace, in the item's own batch, keyed by the enablement's
//! PITR id and a stamp from one engine-wide hybrid clock. Restoring to a
//! time `T` copies the table's items from a snapshot and applies the undo
//! records after `T`, newest first. The sweeper trims records older than
//! the recovery period, except those an unfinished restore still needs.
//!
//! Invariant: stamps are taken under the item's lock and strictly increase,
//! so for every item the undo records are in commit order.

use fjall::OwnedWriteBatch;
use tarn_expr::Item;

use crate::catalog::{
    catalog_key, check_backup_source, PitrDef, RestoreSource, TableDef, CATALOG_NEXT_ID,
};
use crate::clock::{now_ms, COUNTER_BITS};
use crate::codec::{self, put_bytes, DecodeError, Reader};
use crate::error::{Error, Result};
use crate::guard::lock;
use crate::jobs::Job;
use crate::keys;
use crate::shared::Shared;
use crate::table::Table;

/// Version byte of undo records.
const UNDO_VERSION: u8 = 1;
/// Catalog prefix of the records of recovery logs being dropped.
const CATALOG_PITR_DROP_PREFIX: u8 = b'P';
/// DynamoDB's longest (and default) recovery period.
pub const RECOVERY_PERIOD_DAYS_MAX: u8 = 35;
const DAY_MS: u64 = 24 * 3600 * 1000;

/// The key of an undo record.
fn undo_key(pitr_id: u32, stamp: u64) -> [u8; 12] {
    let mut k = [0u8; 12];
    k[..4].copy_from_slice(&pitr_id.to_be_bytes());
    k[4..].copy_from_slice(&stamp.to_be_bytes());
    k
}

/// The keys of the undo records of changes made after the millisecond
/// `at_ms`, inclusive bounds.
pub(crate) fn undo_range(pitr_id: u32, at_ms: u64) -> ([u8; 12], [u8; 12]) {
    let from = at_ms.saturating_add(1).saturating_mul(1 << COUNTER_BITS);
    (undo_key(pitr_id, from), undo_key(pitr_id, u64::MAX))
}

/// Encodes an undo record: the item key and the image before the change.
fn encode_undo(item_key: &[u8], old: Option<&Item>) -> Vec<u8> {
    let mut out = Vec::with_capacity(item_key.len() + 64);
    out.push(UNDO_VERSION);
    put_bytes(&mut out, item_key);
    match old {
        None => out.push(0),
        Some(item) => {
            out.push(1);
            let mut encoded = Vec::with_capacity(64);
            codec::encode_item(item, &mut encoded);
            put_bytes(&mut out, &encoded);
        }
    }
    out
}

/// Decodes an undo record.
pub fn decode_undo(buf: &[u8]) -> Result<(Vec<u8>, Option<Item>), DecodeError> {
    let mut r = Reader::new(buf);
    if r.u8()? != UNDO_VERSION {
        return Err(DecodeError("unknown undo record version"));
    }
    let key = r.bytes()?.to_vec();
    if key.len() < keys::TABLE_ID_BYTES {
        return Err(DecodeError("undo record key too short"));
    }
    let old = match r.u8()? {
        0 => None,
        1 => Some(codec::decode_item(r.bytes()?)?),
        _ => return Err(DecodeError("undo record image flag")),
    };
    if !r.is_empty() {
        return Err(DecodeError("trailing bytes in undo record"));
    }
    Ok((key, old))
}

/// The catalog key of a recovery log being dropped.
fn drop_record_key(pitr_id: u32) -> [u8; 5] {
    let mut k = [CATALOG_PITR_DROP_PREFIX, 0, 0, 0, 0];
    k[1..].copy_from_slice(&pitr_id.to_be_bytes());
    k
}

/// The times a table with recovery enabled can be restored to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PitrWindow {
    /// RecoveryPeriodInDays.
    pub period_days: u8,
    /// EarliestRestorableDateTime, ms since the epoch.
    pub earliest_ms: u64,
    /// LatestRestorableDateTime, ms since the epoch.
    pub latest_ms: u64,
}

/// The restore window of a recovery setting at `now_ms`.
pub fn window(pitr: &PitrDef, now_ms: u64) -> PitrWindow {
    let period_ms = u64::from(pitr.period_days) * DAY_MS;
    PitrWindow {
        period_days: pitr.period_days,
        earliest_ms: pitr.enabled_ms.max(now_ms.saturating_sub(period_ms)),
        latest_ms: now_ms.max(pitr.enabled_ms),
    }
}

impl Shared {
    /// Adds to `batch` the undo record of a change of the item at
    /// `item_key` from `old`: called by `Shared::updated`, under the item's
    /// lock, for every write that changes an item of a table with recovery
    /// enabled.
    pub(crate) fn log_undo(
        &self,
        batch: &mut OwnedWriteBatch,
        pitr_id: u32,
        item_key: &[u8],
        old: Option<&Item>,
    ) {
        let stamp = self.pitr_clock.next();
        batch.insert(
            &self.pitr,
            undo_key(pitr_id, stamp),
            encode_undo(item_key, old),
        );
    }

    /// Moves the clock past the last undo record of the table's log, so
    /// that stamps keep increasing across a restart.
    pub(crate) fn advance_pitr_clock(&self, def: &TableDef) -> Result<()> {
        let Some(pitr) = &def.settings.pitr else {
            return Ok(());
        };
        if let Some(guard) = self.pitr.prefix(pitr.id.to_be_bytes()).next_back() {
            let k = guard.key()?;
            let stamp = k
                .get(4..12)
                .and_then(|b| <[u8; 8]>::try_from(b).ok())
                .map(u64::from_be_bytes)
                .ok_or(DecodeError("undo record key"))?;
            self.pitr_clock.advance_past(stamp);
        }
        Ok(())
    }

    /// Keeps the undo records an unfinished point-in-time restore into
    /// `def` needs from being trimmed.
    pub(crate) fn pin_restore(&self, def: &TableDef) {
        if let Some((pitr_id, at)) = pitr_pin(def) {
            lock(&self.pitr_pins).push((pitr_id, at));
        }
    }

    /// Releases what [`pin_restore`](Self::pin_restore) kept.
    pub(crate) fn unpin_restore(&self, def: &TableDef) {
        if let Some(pin) = pitr_pin(def) {
            let mut pins = lock(&self.pitr_pins);
            if let Some(i) = pins.iter().position(|p| *p == pin) {
                pins.swap_remove(i);
            }
        }
    }

    /// Deletes undo records of `table` older than its recovery period (and
    /// not needed by an unfinished restore), at most `max`; returns how
    /// many.
    pub(crate) fn trim_pitr(&self, table: &Table, max: usize) -> Result<usize> {
        let Some(pitr) = table.read().settings.pitr else {
            return Ok(0);
        };
        let now = now_ms();
        let mut cutoff_ms = window(&pitr, now).earliest_ms;
        for (id, at) in lock(&self.pitr_pins).iter() {
            if *id == pitr.id {
                cutoff_ms = cutoff_ms.min(*at);
            }
        }
        // Records of changes up to the earliest restorable millisecond
        // (inclusive) are never applied by a restore.
        let (end, _) = undo_range(pitr.id, cutoff_ms);
        let mut batch = self.db.batch();
        for guard in self.pitr.range(undo_key(pitr.id, 0)..end).take(max) {
            batch.remove(&self.pitr, guard.key()?);
        }
        let n = batch.len();
        if n > 0 {
            self.commit.commit_batch(batch)?;
        }
        Ok(n)
    }

    /// The recovery logs whose drop is unfinished.
    pub(crate) fn pending_pitr_drops(&self) -> Result<Vec<u32>> {
        let mut out = Vec::new();
        for guard in self.catalog.prefix([CATALOG_PITR_DROP_PREFIX]) {
            let k = guard.key()?;
            let id = k
                .get(1..5)
                .and_then(|b| <[u8; 4]>::try_from(b).ok())
                .map(u32::from_be_bytes)
                .ok_or(DecodeError("recovery log drop record"))?;
            out.push(id);
        }
        Ok(out)
    }

    /// Drops a disabled setting's recovery log, then its drop record.
    pub(crate) fn drop_pitr_log(&self, pitr_id: u32) -> Result<()> {
        let dropped = self.drop_prefix(&self.pitr, &pitr_id.to_be_bytes())?;
        let mut batch = self.db.batch();
        batch.remove(&self.catalog, drop_record_key(pitr_id));
        self.commit.commit(batch)?;
        tracing::debug!(pitr_id, dropped, "dropped recovery log");
        Ok(())
    }
}

/// The pin of an unfinished point-in-time restore into `def`: the source's
/// PITR id and the restore millisecond.
fn pitr_pin(def: &TableDef) -> Option<(u32, u64)> {
    let r = def.restore.as_ref().filter(|r| r.in_progress)?;
    match r.source {
        RestoreSource::PointInTime { pitr_id, .. } => Some((pitr_id, r.restore_ms)),
        RestoreSource::Backup { .. } => None,
    }
}

impl Shared {
    /// DescribeContinuousBackups: the table's restore window, or `None`
    /// while recovery is disabled.
    pub(crate) fn continuous_backups(&self, table: &str) -> Result<Option<PitrWindow>> {
        let t = self
            .table(table)
            .map_err(|_| Error::BackupTableNotFound(table.to_owned()))?;
        let pitr = t.read().settings.pitr;
        Ok(pitr.map(|p| window(&p, now_ms())))
    }

    /// UpdateContinuousBackups: enables recovery (with `period_days`,
    /// default 35; enabling it again changes only the period) or disables
    /// it, discarding the log. Returns the new window.
    pub(crate) fn update_continuous_backups(
        &self,
        table: &str,
        enabled: bool,
        period_days: Option<u8>,
    ) -> Result<Option<PitrWindow>> {
        let s = self;
        let t = s
            .table(table)
            .map_err(|_| Error::BackupTableNotFound(table.to_owned()))?;
        let mut job = None;
        let pitr = {
            // The write lock waits for writes in flight: every write after
            // it sees the new setting.
            let mut def = t.write();
            check_backup_source(def.status, table)?;
            let mut new = def.clone();
            let mut batch = s.db.batch();
            let mut next_id = lock(&s.next_table_id);
            let mut new_next = *next_id;
            match (def.settings.pitr, enabled) {
                (None, true) => {
                    let id = new_next;
                    new_next = id.checked_add(1).ok_or_else(|| {
                        Error::LimitExceeded("Subscriber limit exceeded: ids exhausted".into())
                    })?;
                    batch.insert(&s.catalog, CATALOG_NEXT_ID, new_next.to_be_bytes());
                    new.settings.pitr = Some(PitrDef {
                        id,
                        enabled_ms: now_ms(),
                        period_days: period_days.unwrap_or(RECOVERY_PERIOD_DAYS_MAX),
                    });
                }
                (Some(p), true) => {
                    if let Some(days) = period_days {
                        new.settings.pitr = Some(PitrDef {
                            period_days: days,
                            ..p
                        });
                    }
                }
                (Some(p), false) => {
                    new.settings.pitr = None;
                    batch.insert(&s.catalog, drop_record_key(p.id), []);
                    job = Some(Job::DropPitrLog(p.id));
                }
                (None, false) => {}
            }
            if new != *def {
                batch.insert(&s.catalog, catalog_key(&new.name), new.encode());
                s.commit.commit(batch)?;
                *next_id = new_next;
                *def = new;
            }
            def.settings.pitr
        };
        if let Some(job) = job {
            self.jobs.submit(job);
        }
        Ok(pitr.map(|p| window(&p, now_ms())))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn undo_records_round_trip_and_truncations_fail() {
        let item = Item::from([("pk".to_owned(), tarn_expr::AttributeValue::S("a".into()))]);
        for old in [None, Some(&item)] {
            let buf = encode_undo(&[0, 0, 0, 9, 1, 2], old);
            let (k, o) = decode_undo(&buf).expect("decodes");
            assert_eq!(k, vec![0, 0, 0, 9, 1, 2]);
            assert_eq!(o.as_ref(), old);
            for cut in 0..buf.len() {
                assert!(decode_undo(&buf[..cut]).is_err(), "cut at {cut} decoded");
            }
        }
    }

    #[test]
    fn the_undo_range_starts_after_the_restore_millisecond() {
        let (lo, hi) = undo_range(3, 1000);
        assert!(undo_key(3, 1000 << COUNTER_BITS | 5) < lo);
        assert!(undo_key(3, 1001 << COUNTER_BITS) >= lo);
        assert!(hi < undo_key(4, 0));
    }

    #[test]
    fn the_window_starts_at_enablement_or_the_period_back() {
        let p = PitrDef {
            id: 1,
            enabled_ms: 10 * DAY_MS,
            period_days: 2,
        };
        assert_eq!(window(&p, 11 * DAY_MS).earliest_ms, 10 * DAY_MS);
        assert_eq!(window(&p, 20 * DAY_MS).earliest_ms, 18 * DAY_MS);
        assert_eq!(window(&p, 20 * DAY_MS).latest_ms, 20 * DAY_MS);
    }
}
