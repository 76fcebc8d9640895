//! TransactWriteItems and TransactGetItems.
//!
//! A write transaction takes, in this order, the read guards of its tables
//! (sorted by name) and the locks of its items (sorted by stripe), the same
//! locks every single-item write takes one of. Holding them it reads every
//! old item, evaluates every condition and computes every new item, and
//! commits all writes, with everything [`Shared::updated`] derives from
//! them, as one fjall batch, or nothing at all. So a transaction is
//! serializable against every other write: a conflicting write waits for
//! it (for microseconds) instead of failing, and no reader can see part of
//! it. Lock order (tables by name, then stripes ascending) is the same for
//! every multi-lock holder, so transactions cannot deadlock.
//!
//! Idempotency: a transaction with a `ClientRequestToken` records the token
//! and a digest of its request in the `tokens` keyspace, in its own batch.
//! The token's lock is taken with the item locks, so a repeat waits for the
//! first and then finds the token: within ten minutes the same digest
//! succeeds without applying again, another digest is refused.

use std::collections::HashSet;
use std::sync::Arc;

use fjall::Readable;
use tarn_expr::ast::{Condition, Update};
use tarn_expr::{size, Item};

use crate::apply::{check_condition, updated_item};
use crate::catalog::{TableDef, TableStatus};
use crate::clock::now_ms;
use crate::codec;
use crate::commit::Deferred;
use crate::error::{CancelReason, Error, Result};
use crate::guard::lock;
use crate::index;
use crate::invalid::Invalid;
use crate::maintain::{PendingSizes, WriteContext};
use crate::shared::Shared;
use crate::table::Table;
use crate::throttle::Side;
use crate::units::{add_to, read_units, write_units, PerTable, Units};
use crate::validate::{item_storage_key, key_storage_key, update_storage_key};
use crate::written::Written;

/// How long a `ClientRequestToken` is remembered.
pub const TOKEN_TTL_MS: u64 = 10 * 60 * 1000;
/// DynamoDB's limit on actions per transaction.
pub const TRANSACT_ITEMS_MAX: usize = 100;

/// One action of a TransactWriteItems.
#[derive(Clone, Debug)]
pub enum TransactAction {
    /// Put: store `item` if `condition` holds.
    Put {
        /// Table name.
        table: String,
        /// The item.
        item: Item,
        /// Resolved condition.
        condition: Option<Condition>,
    },
    /// Update the item at `key` if `condition` holds.
    Update {
        /// Table name.
        table: String,
        /// The key.
        key: Item,
        /// Resolved update.
        update: Option<Update>,
        /// Resolved condition.
        condition: Option<Condition>,
    },
    /// Delete the item at `key` if `condition` holds.
    Delete {
        /// Table name.
        table: String,
        /// The key.
        key: Item,
        /// Resolved condition.
        condition: Option<Condition>,
    },
    /// Require `condition` of the item at `key`; writes nothing.
    ConditionCheck {
        /// Table name.
        table: String,
        /// The key.
        key: Item,
        /// Resolved condition.
        condition: Condition,
    },
}

impl TransactAction {
    /// The table the action names.
    pub fn table(&self) -> &str {
        match self {
            TransactAction::Put { table, .. }
            | TransactAction::Update { table, .. }
            | TransactAction::Delete { table, .. }
            | TransactAction::ConditionCheck { table, .. } => table,
        }
    }
}

/// A `ClientRequestToken` and the digest of the request it came with.
#[derive(Clone, Debug)]
pub struct IdempotencyToken {
    /// The token as the client sent it.
    pub token: String,
    /// A digest of the whole request, to tell a repeat from a different
    /// request with the same token.
    pub digest: [u8; 32],
}

/// What a transaction did.
#[derive(Clone, Debug, Default)]
pub struct TransactWritten {
    /// Per action, in request order: the old and new item, their index
    /// effects and the action's units. A ConditionCheck has the item as
    /// `old` and no `new`.
    pub written: Vec<Written>,
    /// True when this was a repeat of an earlier request with the same
    /// token, and nothing was applied (its units are reads).
    pub replayed: bool,
    /// The units consumed, per table in the order first charged.
    pub consumed: PerTable,
}

/// What a TransactGetItems read.
#[derive(Clone, Debug, Default)]
pub struct TransactGot {
    /// Per get, in request order: the item, `None` if missing.
    pub items: Vec<Option<Item>>,
    /// The units consumed, per table in the order first charged.
    pub consumed: PerTable,
}

/// The key the token of a transaction is stored and locked under.
fn token_key(token: &str) -> Vec<u8> {
    let mut k = Vec::with_capacity(token.len() + 1);
    k.push(b'K');
    k.extend_from_slice(token.as_bytes());
    k
}

/// The tables a request names, sorted and deduplicated, with their guards
/// taken in that order.
struct Tables<'a> {
    names: Vec<&'a str>,
    tables: Vec<Arc<Table>>,
}

impl<'a> Tables<'a> {
    fn lookup(engine: &Shared, names: impl Iterator<Item = &'a str>) -> Result<Tables<'a>> {
        let mut names: Vec<&str> = names.collect();
        names.sort_unstable();
        names.dedup();
        let tables = names
            .iter()
            .map(|n| engine.table(n))
            .collect::<Result<Vec<_>>>()?;
        Ok(Tables { names, tables })
    }

    fn position(&self, name: &str) -> usize {
        // Every name looked up is in the list.
        self.names
            .binary_search(&name)
            .unwrap_or_else(|_| unreachable!("table {name} was looked up"))
    }
}

fn active(def: &TableDef) -> Result<()> {
    if def.status != TableStatus::Active {
        return Err(Error::TableNotFound(def.name.clone()));
    }
    Ok(())
}

impl Shared {
    /// TransactWriteItems: every action's condition is evaluated against
    /// the items as they are, and either every write is applied in one
    /// atomic batch or none is ([`Error::TransactionCanceled`] gives each
    /// action's reason, in request order). Request problems that need no
    /// item (keys, sizes, duplicates) are a plain validation error.
    ///
    /// Under `--enforce-throughput` a transaction whose tables lack
    /// capacity is cancelled first, with [`CancelReason::Throttled`] on
    /// each action of such a table. Each action is charged as DynamoDB
    /// bills it: a write at twice its table units, a ConditionCheck as a
    /// transactional write of the item it read, a repeat as transactional
    /// reads of its items.
    pub(crate) fn transact_write(
        &self,
        actions: &[TransactAction],
        token: Option<&IdempotencyToken>,
    ) -> Result<Deferred<TransactWritten>> {
        self.admit_all(actions.iter().map(TransactAction::table), Side::Write)?;
        let Deferred { mut value, ticket } = self.transact_apply(actions, token)?;
        for (w, action) in value.written.iter_mut().zip(actions) {
            let old_bytes = w.old.as_ref().map_or(0, size::item_size);
            let units = if value.replayed {
                Units::table(2.0 * read_units(old_bytes, true))
            } else if matches!(action, TransactAction::ConditionCheck { .. }) {
                Units::table(2.0 * write_units(old_bytes))
            } else {
                w.write_units().transactional()
            };
            self.charge(action.table(), Side::Write, None, &units);
            add_to(&mut value.consumed, action.table(), &units);
            w.consumed = units;
        }
        Ok(Deferred::new(value, ticket))
    }

    /// Admits a request to each table, in order; when any is out of
    /// capacity, the transaction is cancelled with a reason per table.
    fn admit_all<'a>(&self, tables: impl Iterator<Item = &'a str>, side: Side) -> Result<()> {
        let mut reasons = Vec::new();
        let mut throttled = false;
        for table in tables {
            reasons.push(match self.admit(table, side, None) {
                Err(Error::Throttled(t)) => {
                    throttled = true;
                    CancelReason::Throttled(t)
                }
                // A missing table is reported by the transaction itself.
                _ => CancelReason::None,
            });
        }
        if throttled {
            return Err(Error::TransactionCanceled(reasons));
        }
        Ok(())
    }

    /// [`transact_write`](Self::transact_write) without throughput: also
    /// the path of BatchWriteItem, which is charged as single writes.
    pub(crate) fn transact_apply(
        &self,
        actions: &[TransactAction],
        token: Option<&IdempotencyToken>,
    ) -> Result<Deferred<TransactWritten>> {
        let s = self;
        let tables = Tables::lookup(self, actions.iter().map(TransactAction::table))?;
        let guards: Vec<_> = tables.tables.iter().map(|t| t.read()).collect();
        for g in &guards {
            active(g)?;
        }
        let def_of = |name: &str| &*guards[tables.position(name)];
        // Faults the request alone shows fail the whole request; a key
        // that does not fit the schema cancels the transaction with a
        // ValidationError for its action.
        let mut keys = Vec::with_capacity(actions.len());
        let mut seen = HashSet::with_capacity(actions.len());
        let mut key_fault = None;
        for (i, action) in actions.iter().enumerate() {
            let def = def_of(action.table());
            let key = match action {
                TransactAction::Put { item, .. } => {
                    if size::item_size(item) > size::ITEM_SIZE_BYTES_MAX {
                        return Err(Error::Validation(Invalid::ItemTooLarge));
                    }
                    index::check_empty(&def.indexes, &def.key_schema, item)?;
                    item_storage_key(def, item)
                }
                TransactAction::Update { key, update, .. } => {
                    update_storage_key(def, key, update.as_ref())
                }
                TransactAction::Delete { key, .. } | TransactAction::ConditionCheck { key, .. } => {
                    key_storage_key(def, key)
                }
            };
            let key = match key {
                Ok(k) => k,
                Err(Error::Validation(m)) if !m.is_request_fault() => {
                    key_fault.get_or_insert((i, m));
                    continue;
                }
                Err(e) => return Err(e),
            };
            if !seen.insert((action.table(), key.clone())) {
                return Err(Error::Validation(Invalid::MultipleOperations));
            }
            keys.push(key);
        }
        if let Some((i, m)) = key_fault {
            return Err(Error::TransactionCanceled(only_reason(actions.len(), i, m)));
        }

        let mut stripes = Vec::with_capacity(keys.len() + 1);
        for (action, key) in actions.iter().zip(&keys) {
            stripes.push(s.stripe(s.lock_key(def_of(action.table()), key)?));
        }
        let token_key = token.map(|t| token_key(&t.token));
        if let Some(k) = &token_key {
            stripes.push(s.stripe(k));
        }
        stripes.sort_unstable();
        stripes.dedup();
        let locks: Vec<_> = stripes.iter().map(|&i| lock(&s.item_locks[i])).collect();

        let now = now_ms();
        if let (Some(t), Some(k)) = (token, &token_key) {
            if let Some(v) = s.tokens.get(k)? {
                let (created_ms, digest) = decode_token(&v)?;
                if now.saturating_sub(created_ms) < TOKEN_TTL_MS {
                    if digest == t.digest {
                        // A repeat reads its items (for its capacity) and
                        // writes nothing.
                        let written = keys
                            .iter()
                            .map(|k| {
                                let old = s.items.get(k)?.map(|v| codec::decode_item(&v));
                                Ok(Written {
                                    old: old.transpose()?,
                                    ..Written::default()
                                })
                            })
                            .collect::<Result<Vec<_>>>()?;
                        // The first request may still be syncing; the
                        // repeat is acknowledged once it is durable too.
                        let ticket = s.commit.stats().commits;
                        return Ok(Deferred::new(
                            TransactWritten {
                                written,
                                replayed: true,
                                consumed: PerTable::new(),
                            },
                            Some(ticket),
                        ));
                    }
                    return Err(Error::IdempotentParameterMismatch);
                }
            }
        }

        // The stream locks of the tables with streams, in table order, after
        // the item locks; each context works on a copy of its table's
        // stream states, stored back only once the batch is committed.
        let mut stream_guards: Vec<_> = tables
            .tables
            .iter()
            .zip(&guards)
            .map(|(t, def)| def.enabled_stream().map(|_| lock(&t.streams)))
            .collect();
        let mut batch = s.db.batch();
        let mut contexts: Vec<WriteContext> = stream_guards
            .iter()
            .map(|g| WriteContext::new(g.as_ref().map(|g| (**g).clone())))
            .collect();
        // Collection sizes are shared across the transaction's tables.
        let mut pending = PendingSizes::new();
        let mut reasons = Vec::with_capacity(actions.len());
        let mut written = Vec::with_capacity(actions.len());
        let mut counters = Vec::new();
        for (action, key) in actions.iter().zip(&keys) {
            let def = def_of(action.table());
            let old = s
                .items
                .get(key)?
                .map(|v| codec::decode_item(&v))
                .transpose()?;
            let decided = match action {
                TransactAction::Put {
                    item, condition, ..
                } => check_condition(condition.as_ref(), old.as_ref())
                    .map(|()| Some(Some(item.clone()))),
                TransactAction::Update {
                    key: k,
                    update,
                    condition,
                    ..
                } => check_condition(condition.as_ref(), old.as_ref())
                    .and_then(|()| updated_item(k, update.as_ref(), old.as_ref()))
                    .map(Some),
                TransactAction::Delete { condition, .. } => {
                    check_condition(condition.as_ref(), old.as_ref()).map(|()| Some(None))
                }
                TransactAction::ConditionCheck { condition, .. } => {
                    check_condition(Some(condition), old.as_ref()).map(|()| None)
                }
            };
            // `Some(new)` writes `new` (`None` deletes); `None` writes
            // nothing.
            let write = match decided {
                Ok(w) => w,
                Err(Error::ConditionalCheckFailed(old)) => {
                    reasons.push(CancelReason::ConditionalCheckFailed(old));
                    written.push(Written::default());
                    continue;
                }
                Err(Error::Validation(m)) => {
                    reasons.push(CancelReason::ValidationError(m));
                    written.push(Written::default());
                    continue;
                }
                Err(other) => return Err(other),
            };
            let Some(new) = write else {
                reasons.push(CancelReason::None);
                written.push(Written {
                    old,
                    ..Written::default()
                });
                continue;
            };
            if let Some(item) = &new {
                let update = match action {
                    TransactAction::Update { update, .. } => {
                        Some(update.clone().unwrap_or(Update {
                            actions: Vec::new(),
                        }))
                    }
                    _ => None,
                };
                if let Err(Error::Validation(m)) =
                    index::check_item(&def.indexes, &def.key_schema, item, update.is_some())
                        .map_err(|e| index::update_wording(e, update.as_ref()))
                {
                    reasons.push(CancelReason::ValidationError(m));
                    written.push(Written::default());
                    continue;
                }
            }
            s.stage_item(&mut batch, key, old.as_ref(), new.as_ref());
            let ctx = &mut contexts[tables.position(action.table())];
            std::mem::swap(&mut ctx.pending, &mut pending);
            let result = s.updated(&mut batch, def, key, old.as_ref(), new.as_ref(), ctx);
            std::mem::swap(&mut ctx.pending, &mut pending);
            let effects = match result {
                Ok(effects) => effects,
                Err(Error::ItemCollectionSizeLimitExceeded) => {
                    reasons.push(CancelReason::ItemCollectionSizeLimitExceeded);
                    written.push(Written::default());
                    continue;
                }
                Err(other) => return Err(other),
            };
            reasons.push(CancelReason::None);
            counters.push((tables.position(action.table()), effects.counters));
            written.push(Written {
                old,
                new,
                indexes: effects.indexes,
                collection: effects.collection,
                ..Written::default()
            });
        }
        // The first ValidationError cancels alone; otherwise every failed
        // condition is reported.
        if let Some(i) = reasons
            .iter()
            .position(|r| matches!(r, CancelReason::ValidationError(_)))
        {
            let CancelReason::ValidationError(m) = reasons.swap_remove(i) else {
                unreachable!("found above")
            };
            return Err(Error::TransactionCanceled(only_reason(actions.len(), i, m)));
        }
        if reasons.iter().any(|r| *r != CancelReason::None) {
            return Err(Error::TransactionCanceled(reasons));
        }
        if let (Some(t), Some(k)) = (token, token_key) {
            let mut value = Vec::with_capacity(40);
            value.extend_from_slice(&now.to_be_bytes());
            value.extend_from_slice(&t.digest);
            batch.insert(&s.tokens, k, value);
        }
        let marks: Vec<(u32, u64)> = contexts
            .iter()
            .flat_map(|ctx| ctx.marks.iter().copied())
            .collect();
        let ticket = s.commit.commit_marked(batch, &marks)?;
        for (g, ctx) in stream_guards.iter_mut().zip(contexts) {
            if let (Some(g), Some(states)) = (g.as_mut(), ctx.streams) {
                **g = states;
            }
        }
        drop(stream_guards);
        drop(locks);
        drop(guards);
        for (w, action) in written.iter().zip(actions) {
            if !matches!(action, TransactAction::ConditionCheck { .. }) {
                tables.tables[tables.position(action.table())]
                    .account(w.old.as_ref(), w.new.as_ref());
            }
        }
        for (table, deltas) in counters {
            for (id, count, bytes) in deltas {
                tables.tables[table].account_index(id, count, bytes);
            }
        }
        Ok(Deferred::new(
            TransactWritten {
                written,
                replayed: false,
                consumed: PerTable::new(),
            },
            Some(ticket),
        ))
    }

    /// TransactGetItems: reads every key from one snapshot, so the items
    /// returned are one committed state. `None` for a missing item. Under
    /// `--enforce-throughput` a table out of capacity cancels it first;
    /// each get is charged as a transactional read of its item.
    pub(crate) fn transact_get(&self, gets: &[(String, Item)]) -> Result<TransactGot> {
        self.admit_all(gets.iter().map(|(t, _)| t.as_str()), Side::Read)?;
        let items = self.transact_read(gets)?;
        let mut consumed = PerTable::new();
        for ((table, _), item) in gets.iter().zip(&items) {
            let bytes = item.as_ref().map_or(0, size::item_size);
            let units = Units::table(2.0 * read_units(bytes, true));
            self.charge(table, Side::Read, None, &units);
            add_to(&mut consumed, table, &units);
        }
        Ok(TransactGot { items, consumed })
    }

    /// The reads of [`transact_get`](Self::transact_get).
    fn transact_read(&self, gets: &[(String, Item)]) -> Result<Vec<Option<Item>>> {
        let s = self;
        let tables = Tables::lookup(self, gets.iter().map(|(t, _)| t.as_str()))?;
        let guards: Vec<_> = tables.tables.iter().map(|t| t.read()).collect();
        for g in &guards {
            active(g)?;
        }
        let mut keys = Vec::with_capacity(gets.len());
        let mut seen = HashSet::with_capacity(gets.len());
        for (i, (table, key)) in gets.iter().enumerate() {
            let k = match key_storage_key(&guards[tables.position(table)], key) {
                Ok(k) => k,
                Err(Error::Validation(m)) if !m.is_request_fault() => {
                    return Err(Error::TransactionCanceled(only_reason(gets.len(), i, m)));
                }
                Err(e) => return Err(e),
            };
            if !seen.insert((table.as_str(), k.clone())) {
                return Err(Error::Validation(Invalid::MultipleOperations));
            }
            keys.push(k);
        }
        let snapshot = s.db.snapshot();
        drop(guards);
        keys.iter()
            .map(|k| {
                snapshot
                    .get(&s.items, k)?
                    .map(|v| codec::decode_item(&v))
                    .transpose()
                    .map_err(Error::from)
            })
            .collect()
    }
}

/// Reasons for a transaction cancelled by one action's ValidationError:
/// that one, and `None` for every other action.
fn only_reason(len: usize, i: usize, message: Invalid) -> Vec<CancelReason> {
    let mut reasons = vec![CancelReason::None; len];
    reasons[i] = CancelReason::ValidationError(message);
    reasons
}

fn decode_token(v: &[u8]) -> Result<(u64, [u8; 32])> {
    if v.len() != 40 {
        return Err(codec::DecodeError("idempotency token record").into());
    }
    let mut created = [0u8; 8];
    created.copy_from_slice(&v[..8]);
    let mut digest = [0u8; 32];
    digest.copy_from_slice(&v[8..]);
    Ok((u64::from_be_bytes(created), digest))
}

impl Shared {
    /// Deletes remembered tokens older than the idempotency window, at most
    /// `max` of them; returns how many it deleted. Each is re-checked under
    /// its lock, so a transaction reusing an expired token is not undone.
    pub(crate) fn sweep_tokens(&self, max: usize) -> Result<usize> {
        let now = now_ms();
        let expired = |v: &[u8]| -> Result<bool> {
            let (created_ms, _) = decode_token(v)?;
            Ok(now.saturating_sub(created_ms) >= TOKEN_TTL_MS)
        };
        let mut candidates = Vec::new();
        for guard in self.tokens.iter() {
            let (k, v) = guard.into_inner()?;
            if expired(&v)? {
                candidates.push(k.to_vec());
                if candidates.len() >= max {
                    break;
                }
            }
        }
        let mut swept = 0;
        for k in candidates {
            let _guard = lock(self.item_lock(&k));
            let Some(v) = self.tokens.get(&k)? else {
                continue;
            };
            if expired(&v)? {
                let mut batch = self.db.batch();
                batch.remove(&self.tokens, k);
                self.commit.commit_batch(batch)?;
                swept += 1;
            }
        }
        Ok(swept)
    }
}
