//! The item write path: PutItem, UpdateItem, DeleteItem and
//! BatchWriteItem, all through one function that reads the old item,
//! decides, and commits the item with everything it implies. Each returns
//! once its write is committed (visible), as a [`Deferred`] to wait on for
//! durability.

use std::borrow::Cow;
use std::collections::HashSet;

use tarn_expr::ast::{Condition, Update};
use tarn_expr::{size, Item};

use crate::apply::{check_condition, updated_item};
use crate::catalog::{TableDef, TableStatus};
use crate::codec;
use crate::commit::Deferred;
use crate::error::{CancelReason, Error, Result};
use crate::guard::lock;
use crate::index;
use crate::invalid::Invalid;
use crate::maintain;
use crate::shared::Shared;
use crate::throttle::Side;
use crate::transact::TransactAction;
use crate::units::{add_to, write_units, PerTable};
use crate::validate::{item_storage_key, key_storage_key, update_storage_key};
use crate::written::Written;

impl Shared {
    /// PutItem: stores `item`, replacing any item with the same key, if
    /// `condition` (resolved) holds for the old item.
    pub(crate) fn put_item(
        &self,
        table: &str,
        item: Item,
        condition: Option<&Condition>,
    ) -> Result<Deferred<Written>> {
        self.admit(table, Side::Write, None)?;
        // DynamoDB checks the size before it looks the table up.
        if size::item_size(&item) > size::ITEM_SIZE_BYTES_MAX {
            return Err(Error::Validation(Invalid::ItemTooLarge));
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

    /// DeleteItem: deletes the item at `key` if `condition` holds for it.
    pub(crate) fn delete_item(
        &self,
        table: &str,
        key: &Item,
        condition: Option<&Condition>,
    ) -> Result<Deferred<Written>> {
        self.admit(table, Side::Write, None)?;
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

    /// UpdateItem (the facade documents the rules).
    pub(crate) fn update_item(
        &self,
        table: &str,
        key: &Item,
        update: Option<&Update>,
        condition: Option<&Condition>,
    ) -> Result<Deferred<Written>> {
        self.admit(table, Side::Write, None)?;
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

    /// The one write path for single items. It computes the storage key
    /// with `key_of` under the same table guard as the write. Under the
    /// item's lock (its partition's, for tables with local indexes) it reads
    /// the old item, lets `decide` compute the new one (`None` deletes) or
    /// refuse, checks the new item's index keys, and commits the item with
    /// everything [`Shared::updated`] adds; the caller waits for
    /// durability after the lock is released. Deleting an absent item
    /// writes nothing. A write that was made (or found nothing to delete)
    /// is charged its units, which the result carries.
    pub(crate) fn write_item(
        &self,
        table: &str,
        key_of: impl FnOnce(&TableDef) -> Result<Vec<u8>>,
        decide: impl FnOnce(Option<&Item>) -> Result<Option<Item>>,
        from_update: Option<&Update>,
    ) -> Result<Deferred<Written>> {
        let (mut written, ticket) = self.write_one(table, key_of, decide, from_update)?;
        let units = written.write_units();
        self.charge(table, Side::Write, None, &units);
        written.consumed = units;
        Ok(Deferred::new(written, ticket))
    }

    /// [`write_item`](Self::write_item) without the charge: what was
    /// written and the ticket to wait for (`None` when nothing was).
    fn write_one(
        &self,
        table: &str,
        key_of: impl FnOnce(&TableDef) -> Result<Vec<u8>>,
        decide: impl FnOnce(Option<&Item>) -> Result<Option<Item>>,
        from_update: Option<&Update>,
    ) -> Result<(Written, Option<u64>)> {
        let s = self;
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
            if !s.stage_item(&mut batch, &key, old.as_ref(), new.as_ref()) {
                return Ok((Written::default(), None));
            }
            // The stream lock, held from sequence numbering to commit.
            let mut streams = def.enabled_stream().map(|_| lock(&table.streams));
            let mut ctx = maintain::WriteContext::new(streams.as_ref().map(|g| (**g).clone()));
            let effects =
                s.updated(&mut batch, &def, &key, old.as_ref(), new.as_ref(), &mut ctx)?;
            let ticket = s.commit.commit_marked(batch, &ctx.marks)?;
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
                ..Written::default()
            },
            Some(ticket),
        ))
    }

    /// BatchWriteItem: under `--enforce-throughput` each request needs
    /// capacity left on its table; the others are left unprocessed, and if
    /// none had any the whole call is throttled. Admitted requests are
    /// charged an estimate as they are admitted, so that one call cannot
    /// overdraw a bucket by more than one request, and then the global
    /// index arms of what each wrote; each is reported as its own PutItem
    /// or DeleteItem. Every admitted request is validated before anything
    /// is written (a bad request changes nothing), then all are written in
    /// one atomic batch (more than DynamoDB promises), with one journal
    /// append and one sync.
    pub(crate) fn batch_write(&self, requests: &[BatchWrite]) -> Result<Deferred<BatchWritten>> {
        let mut admitted = Vec::with_capacity(requests.len());
        let mut first_throttle = None;
        for (i, r) in requests.iter().enumerate() {
            let estimate = match r {
                BatchWrite::Put { item, .. } => write_units(size::item_size(item)),
                BatchWrite::Delete { .. } => 1.0,
            };
            match self.admit(r.table(), Side::Write, None) {
                Err(e @ Error::Throttled(_)) => {
                    first_throttle.get_or_insert(e);
                }
                // A missing table is reported by the batch's validation.
                _ => {
                    self.charge_arms(r.table(), Side::Write, None, estimate, &[]);
                    admitted.push(i);
                }
            }
        }
        if let Some(e) = first_throttle.filter(|_| admitted.is_empty()) {
            return Err(e);
        }
        // Without throttling every request is admitted: no copies then.
        let chosen: Cow<'_, [BatchWrite]> = if admitted.len() == requests.len() {
            Cow::Borrowed(requests)
        } else {
            admitted.iter().map(|&i| requests[i].clone()).collect()
        };
        let Deferred { value, ticket } = self.batch_apply(&chosen)?;
        let mut out = BatchWritten {
            written: vec![None; requests.len()],
            consumed: PerTable::new(),
        };
        for (mut w, i) in value.into_iter().zip(admitted) {
            let table = requests[i].table();
            let units = w.write_units();
            // The table was charged its estimate when admitted.
            self.charge_arms(table, Side::Write, None, 0.0, &units.global_arms());
            add_to(&mut out.consumed, table, &units);
            w.consumed = units;
            out.written[i] = Some(w);
        }
        Ok(Deferred::new(out, ticket))
    }

    /// Validates and writes the requests of a BatchWriteItem, without
    /// throughput. The result holds what each request wrote, in request
    /// order.
    fn batch_apply(&self, requests: &[BatchWrite]) -> Result<Deferred<Vec<Written>>> {
        let mut seen = HashSet::with_capacity(requests.len());
        for r in requests {
            let (table, storage_key) = match r {
                BatchWrite::Put { table, item } => {
                    if size::item_size(item) > size::ITEM_SIZE_BYTES_MAX {
                        return Err(Error::Validation(Invalid::ItemTooLarge));
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
                            Error::Validation(
                                Invalid::MissingKey { .. } | Invalid::ItemKeyType { .. },
                            ) => Error::Validation(Invalid::KeySchemaMismatch),
                            other => other,
                        })?;
                    (table, key)
                }
                BatchWrite::Delete { table, key } => {
                    // A batch words an empty key as PutItem does.
                    let key = self
                        .with_active_table(table, |def| key_storage_key(def, key))
                        .map_err(|e| match e {
                            Error::Validation(v) => Error::Validation(v.in_item_wording()),
                            other => other,
                        })?;
                    (table, key)
                }
            };
            if !seen.insert((table.as_str(), storage_key)) {
                return Err(Error::Validation(Invalid::DuplicateKeys));
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
        match self.transact_apply(&actions, None) {
            Ok(d) => Ok(d.map(|t| t.written)),
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

/// What a BatchWriteItem did.
#[derive(Clone, Debug, Default)]
pub struct BatchWritten {
    /// Per request, in request order: what it wrote (with its units), or
    /// `None` for a request left unprocessed because its table was out of
    /// capacity.
    pub written: Vec<Option<Written>>,
    /// The units consumed, per table in the order first charged.
    pub consumed: PerTable,
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

impl BatchWrite {
    /// The table the request names.
    pub fn table(&self) -> &str {
        match self {
            BatchWrite::Put { table, .. } | BatchWrite::Delete { table, .. } => table,
        }
    }
}
