//! Time to live: UpdateTimeToLive, the expiry index, and the sweeper that
//! deletes expired items.
//!
//! While TTL is enabled, every item whose TTL attribute is a number has an
//! entry `ttl id | expiry seconds (u64 BE) | item key` in the `expiry`
//! keyspace, written by [`crate::Shared::updated`] in the item's own batch
//! (and, for items that existed when TTL was enabled, by a backfill). So
//! the expired items of a table are one range scan away, however large the
//! table: the sweeper reads `ttl id | now - 5 years ..= ttl id | now`.
//!
//! As in DynamoDB, an item expires when its TTL attribute is a number of
//! epoch seconds in the past, but not five years or more in the past; an
//! expired item stays readable until the sweeper deletes it, and the delete
//! is a real delete (indexes, counters, change log), marked as done by the
//! service.

use std::sync::{Arc, Weak};
use std::time::Duration;

use fjall::Readable;
use tarn_expr::{AttributeValue, Item};

use crate::catalog::{catalog_key, TableStatus, TtlDef, CATALOG_NEXT_ID};
use crate::changelog::Origin;
use crate::clock::now_ms;
use crate::codec;
use crate::error::{Error, Result};
use crate::guard::lock;
use crate::invalid::Invalid;
use crate::jobs::{Backfill, Job};
use crate::maintain::WriteContext;
use crate::shared::Shared;
use crate::table::Table;

/// Items older than this past their expiry are never deleted.
const EXPIRY_WINDOW_SECONDS: u64 = 5 * 365 * 24 * 3600;
/// Expired items deleted per table per sweep.
const SWEEP_ITEMS_MAX: usize = 1000;
/// Stream records trimmed per table per pass (the sweeper also trims
/// streams past their retention).
const TRIM_RECORDS_MAX: usize = 10_000;

/// The expiry of `item` under TTL attribute `attribute`: its value as whole
/// epoch seconds, if it is a non-negative number.
pub(crate) fn expiry_of(item: &Item, attribute: &str) -> Option<u64> {
    let AttributeValue::N(n) = item.get(attribute)? else {
        return None;
    };
    let seconds: f64 = n.to_string().parse().ok()?;
    (seconds >= 0.0 && seconds < u64::MAX as f64).then(|| seconds.floor() as u64)
}

/// The expiry index key of the item at `item_key`.
pub(crate) fn expiry_key(ttl_id: u32, at_seconds: u64, item_key: &[u8]) -> Vec<u8> {
    let mut k = Vec::with_capacity(12 + item_key.len());
    k.extend_from_slice(&ttl_id.to_be_bytes());
    k.extend_from_slice(&at_seconds.to_be_bytes());
    k.extend_from_slice(item_key);
    k
}

/// Whether an item that expires at `at` is due at `now` (both seconds).
fn due(at: u64, now: u64) -> bool {
    at <= now && now - at < EXPIRY_WINDOW_SECONDS
}

impl Shared {
    /// Keeps the expiry entry of the item at `key` current, into the item's
    /// batch.
    pub(crate) fn update_expiry(
        &self,
        batch: &mut fjall::OwnedWriteBatch,
        ttl: &TtlDef,
        key: &[u8],
        old: Option<&Item>,
        new: Option<&Item>,
    ) {
        let before = old.and_then(|i| expiry_of(i, &ttl.attribute));
        let after = new.and_then(|i| expiry_of(i, &ttl.attribute));
        if before == after {
            return;
        }
        if let Some(at) = before {
            batch.remove(&self.expiry, expiry_key(ttl.id, at, key));
        }
        if let Some(at) = after {
            batch.insert(&self.expiry, expiry_key(ttl.id, at, key), []);
        }
    }

    /// Deletes the due items of one table, at most [`SWEEP_ITEMS_MAX`];
    /// returns how many it deleted.
    fn sweep_table(&self, table: &Arc<Table>) -> Result<usize> {
        let ttl = {
            let def = table.read();
            match (&def.settings.ttl, def.status) {
                (Some(ttl), TableStatus::Active) => ttl.clone(),
                _ => return Ok(0),
            }
        };
        let now = now_ms() / 1000;
        let from = now.saturating_sub(EXPIRY_WINDOW_SECONDS - 1);
        let lo = expiry_key(ttl.id, from, &[]);
        let hi = expiry_key(ttl.id, now.saturating_add(1), &[]);
        let snapshot = self.db.snapshot();
        let mut due_keys = Vec::new();
        for guard in snapshot.range(&self.expiry, lo..hi).take(SWEEP_ITEMS_MAX) {
            due_keys.push(guard.key()?.to_vec());
        }
        let mut deleted = 0;
        let mut last_ticket = None;
        for k in due_keys {
            if let Some(ticket) = self.expire(table, &ttl, &k[12..], now)? {
                deleted += 1;
                last_ticket = Some(ticket);
            }
        }
        if let Some(ticket) = last_ticket {
            self.commit.wait(ticket)?;
        }
        Ok(deleted)
    }

    /// Deletes the item at `item_key` if it is still due under `ttl`;
    /// returns the commit ticket when it deleted it.
    fn expire(
        &self,
        table: &Table,
        ttl: &TtlDef,
        item_key: &[u8],
        now: u64,
    ) -> Result<Option<u64>> {
        let def = table.read();
        if def.status != TableStatus::Active || def.settings.ttl.as_ref() != Some(ttl) {
            return Ok(None);
        }
        let _guard = lock(self.item_lock(self.lock_key(&def, item_key)?));
        let Some(value) = self.items.get(item_key)? else {
            return Ok(None);
        };
        let old = codec::decode_item(&value)?;
        // The entry and the item change together, so a listed item is due,
        // unless a write moved its expiry after the scan.
        if !expiry_of(&old, &ttl.attribute).is_some_and(|at| due(at, now)) {
            return Ok(None);
        }
        let mut batch = self.db.batch();
        batch.remove(&self.items, item_key);
        let mut streams = def.enabled_stream().map(|_| lock(&table.streams));
        let mut ctx = WriteContext::new(streams.as_ref().map(|g| (**g).clone()));
        ctx.origin = Origin::Service;
        let effects = self.updated(&mut batch, &def, item_key, Some(&old), None, &mut ctx)?;
        let ticket = self.commit.commit_marked(batch, &ctx.marks)?;
        if let (Some(g), Some(states)) = (streams.as_mut(), ctx.streams) {
            **g = states;
        }
        drop(streams);
        drop(def);
        table.account(Some(&old), None);
        for (id, count, bytes) in effects.counters {
            table.account_index(id, count, bytes);
        }
        Ok(Some(ticket))
    }
}

/// The running sweeper. Dropping it (with the last engine) stops the
/// thread and waits for it, so that no sweep outlives the engine.
pub(crate) struct Sweeper {
    stop: Option<std::sync::mpsc::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Drop for Sweeper {
    fn drop(&mut self) {
        drop(self.stop.take());
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// Starts the sweeper: every `interval`, it trims stream records past
/// their retention and deletes due items of every table with TTL enabled.
/// It holds a weak handle, so that it never keeps the database open.
pub(crate) fn start_sweeper(shared: Weak<Shared>, interval: Duration) -> Result<Sweeper> {
    let (stop, stopped) = std::sync::mpsc::channel::<()>();
    let thread = std::thread::Builder::new()
        .name("tarn-ttl".into())
        .spawn(move || loop {
            // Nothing is ever sent: the engine's drop disconnects.
            if stopped.recv_timeout(interval) != Err(std::sync::mpsc::RecvTimeoutError::Timeout) {
                return;
            }
            let Some(shared) = shared.upgrade() else {
                return;
            };
            if let Err(e) = shared.sweep_retired(TRIM_RECORDS_MAX) {
                tracing::error!(error = %e, "retired stream sweep failed");
            }
            let tables: Vec<Arc<Table>> = shared.read_tables().values().cloned().collect();
            for table in tables {
                if let Err(e) = shared.trim_streams(&table, TRIM_RECORDS_MAX) {
                    tracing::error!(error = %e, "stream trim failed");
                }
                for _ in 0..100 {
                    match shared.trim_pitr(&table, TRIM_RECORDS_MAX) {
                        Ok(n) if n == TRIM_RECORDS_MAX => continue,
                        Ok(_) => break,
                        Err(e) => {
                            tracing::error!(error = %e, "recovery log trim failed");
                            break;
                        }
                    }
                }
                // Keep going until a sweep finds less than a full batch.
                for _ in 0..100 {
                    match shared.sweep_table(&table) {
                        Ok(n) if n == SWEEP_ITEMS_MAX => continue,
                        Ok(_) => break,
                        Err(e) => {
                            tracing::error!(error = %e, "TTL sweep failed");
                            break;
                        }
                    }
                }
            }
        })
        .map_err(|e| Error::Storage(e.into()))?;
    Ok(Sweeper {
        stop: Some(stop),
        thread: Some(thread),
    })
}

impl Shared {
    /// UpdateTimeToLive: enables TTL on `attribute` (recording the expiry
    /// of every existing item in the background) or disables it, with
    /// DynamoDB's rules.
    pub(crate) fn update_ttl(&self, table: &str, attribute: &str, enabled: bool) -> Result<()> {
        let s = self;
        let t = s.table(table)?;
        let job = {
            let mut def = t.write();
            if def.status != TableStatus::Active {
                return Err(Error::TableNotFound(def.name.clone()));
            }
            let current = def.settings.ttl.clone();
            match (&current, enabled) {
                (Some(c), true) if c.attribute == attribute => {
                    return Err(Error::Validation(Invalid::TtlAlreadyEnabled))
                }
                (Some(c), _) if c.attribute != attribute => {
                    return Err(Error::Validation(Invalid::TtlOtherAttribute {
                        current: c.attribute.clone(),
                    }))
                }
                (None, false) => return Err(Error::Validation(Invalid::TtlAlreadyDisabled)),
                _ => {}
            }
            let now = now_ms();
            if s.ttl_cooldown_ms > 0
                && def.settings.ttl_changed_ms != 0
                && now.saturating_sub(def.settings.ttl_changed_ms) < s.ttl_cooldown_ms
            {
                return Err(Error::Validation(Invalid::TtlChangedTooOften));
            }
            let mut new = def.clone();
            new.settings.ttl_changed_ms = now;
            let mut next_id = lock(&s.next_table_id);
            let mut batch = s.db.batch();
            let job = if enabled {
                let id = *next_id;
                let next = id.checked_add(1).ok_or_else(|| {
                    Error::LimitExceeded("Subscriber limit exceeded: ids exhausted".into())
                })?;
                new.settings.ttl = Some(TtlDef {
                    attribute: attribute.to_owned(),
                    id,
                    backfilled: false,
                });
                batch.insert(&s.catalog, CATALOG_NEXT_ID, next.to_be_bytes());
                *next_id = next;
                Job::Backfill(Arc::clone(&t), Backfill::Expiry(id))
            } else {
                new.settings.ttl = None;
                let Some(c) = current else {
                    unreachable!("disabling needs an enabled TTL")
                };
                Job::DropExpiry(c.id)
            };
            batch.insert(&s.catalog, catalog_key(&new.name), new.encode());
            s.commit.commit(batch)?;
            *def = new;
            job
        };
        self.jobs.submit(job);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tarn_expr::Number;

    fn with(value: AttributeValue) -> Item {
        Item::from([("exp".to_owned(), value)])
    }

    #[test]
    fn only_non_negative_numbers_have_an_expiry() {
        let n = |t: &str| AttributeValue::N(Number::parse(t).expect("number"));
        assert_eq!(
            expiry_of(&with(n("1700000000")), "exp"),
            Some(1_700_000_000)
        );
        assert_eq!(
            expiry_of(&with(n("12345678.1234")), "exp"),
            Some(12_345_678)
        );
        assert_eq!(expiry_of(&with(n("17e8")), "exp"), Some(1_700_000_000));
        assert_eq!(expiry_of(&with(n("-5")), "exp"), None);
        assert_eq!(expiry_of(&with(AttributeValue::S("1".into())), "exp"), None);
        assert_eq!(expiry_of(&with(n("1")), "other"), None);
    }

    #[test]
    fn due_means_past_but_within_five_years() {
        let now = 1_800_000_000;
        assert!(due(now, now));
        assert!(due(now - 60, now));
        assert!(!due(now + 1, now));
        assert!(!due(now - EXPIRY_WINDOW_SECONDS, now));
        assert!(due(now - EXPIRY_WINDOW_SECONDS + 1, now));
    }

    #[test]
    fn expiry_keys_sort_by_time_within_a_setting() {
        let a = expiry_key(3, 100, b"item-b");
        let b = expiry_key(3, 101, b"item-a");
        let other = expiry_key(4, 0, b"item-a");
        assert!(a < b && b < other);
    }
}
