//! The item write path: PutItem, UpdateItem, DeleteItem and
//! BatchWriteItem, all through one function that reads the old item,
//! decides, and commits the item with everything it implies. Each returns
//! once its write is committed (visible), as a [`Deferred`] to wait on for
//! durability.

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
use crate::invalid::{Invalid, Wording};
use crate::maintain::{self, Written};
use crate::shared::Shared;
use crate::transact::TransactAction;
use crate::validate::{item_storage_key, key_storage_key, update_storage_key};

impl Shared {
    /// PutItem: stores `item`, replacing any item with the same key, if
    /// `condition` (resolved) holds for the old item.
    pub(crate) fn put_item(
        &self,
        table: &str,
        item: Item,
        condition: Option<&Condition>,
    ) -> Result<Deferred<Written>> {
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

    /// UpdateItem: applies `update` (resolved) to the item at `key`,
    /// creating it if it does not exist, if `condition` holds for the old
    /// item.
    pub(crate) fn update_item(
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

    /// The one write path for single items. It computes the storage key
    /// with `key_of` under the same table guard as the write. Under the
    /// item's lock (its partition's, for tables with local indexes) it reads
    /// the old item, lets `decide` compute the new one (`None` deletes) or
    /// refuse, checks the new item's index keys, and commits the item with
    /// everything [`Shared::updated`] adds; the caller waits for
    /// durability after the lock is released. Deleting an absent item
    /// writes nothing.
    pub(crate) fn write_item(
        &self,
        table: &str,
        key_of: impl FnOnce(&TableDef) -> Result<Vec<u8>>,
        decide: impl FnOnce(Option<&Item>) -> Result<Option<Item>>,
        from_update: Option<&Update>,
    ) -> Result<Deferred<Written>> {
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
            match &new {
                Some(item) => {
                    let mut value = Vec::with_capacity(128);
                    codec::encode_item(item, &mut value);
                    batch.insert(&s.items, key.as_slice(), value);
                }
                None if old.is_some() => batch.remove(&s.items, key.as_slice()),
                None => return Ok(Deferred::new(Written::default(), None)),
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
        Ok(Deferred::new(
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
    /// and one sync. The result holds what each request wrote, in request
    /// order.
    pub(crate) fn batch_write(&self, requests: &[BatchWrite]) -> Result<Deferred<Vec<Written>>> {
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
                            Error::Validation(Invalid::EmptyKey { attr, ty, .. }) => {
                                Error::Validation(Invalid::EmptyKey {
                                    attr,
                                    ty,
                                    wording: Wording::Item,
                                })
                            }
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
        match self.transact_write(&actions, None) {
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
