//! Group commit: many writers, one journal flush and sync.
//!
//! A writer commits its batch to the journal's buffer, takes a ticket, and
//! waits until a sync has covered that ticket. The first waiter that finds no
//! sync running becomes the leader: it lets the writers that were already
//! committing when it took over finish (so they join this sync instead of
//! starting the next one), notes the newest ticket issued, flushes and syncs
//! the journal once, and wakes everyone whose ticket that covered.
//!
//! Tickets are taken after the batch is in the journal buffer, so a sync that
//! starts after ticket `t` was issued covers batch `t`. The leader waits only
//! for writers that started before it took over, so a steady stream of new
//! writers cannot starve it.
//!
//! fjall holds its journal lock while it syncs, so writers that arrive during
//! a sync queue inside `commit` and form the next group.

use std::sync::{Condvar, Mutex, MutexGuard, PoisonError};

use fjall::{Database, PersistMode};

use crate::Error;

/// How a write is made durable before it is acknowledged.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Durability {
    /// fsync the journal before acknowledging (the default).
    Sync,
    /// Write the journal to the operating system before acknowledging.
    Buffered,
    /// Throw-away storage: nothing is synced.
    Memory,
}

/// Counters of the group commit, for tests and metrics.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CommitStats {
    /// Batches committed to the journal.
    pub commits: u64,
    /// Journal syncs that made them durable.
    pub syncs: u64,
}

#[derive(Default)]
struct State {
    /// Writers that entered `commit_batch`.
    started: u64,
    /// Tickets issued: batches in the journal buffer.
    issued: u64,
    /// Writers whose commit failed (no ticket).
    aborted: u64,
    /// Every ticket up to this one is durable.
    synced: u64,
    syncing: bool,
    failed: bool,
    syncs: u64,
}

pub(crate) struct GroupCommit {
    db: Database,
    mode: Option<PersistMode>,
    state: Mutex<State>,
    /// Followers wait here for a sync to cover them.
    synced: Condvar,
    /// The leader waits here for writers already committing.
    joined: Condvar,
}

impl GroupCommit {
    pub(crate) fn new(db: Database, durability: Durability) -> Self {
        let mode = match durability {
            Durability::Sync => Some(PersistMode::SyncAll),
            Durability::Buffered => Some(PersistMode::Buffer),
            Durability::Memory => None,
        };
        GroupCommit {
            db,
            mode,
            state: Mutex::new(State::default()),
            synced: Condvar::new(),
            joined: Condvar::new(),
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // The state is a few counters updated under the lock; a panic
        // elsewhere cannot leave it half-written.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Commits `batch` to the journal buffer (visible to readers at once) and
    /// returns the ticket to [`wait`](Self::wait) on for durability. Callers
    /// may hold item locks across this, but should release them before
    /// waiting.
    pub(crate) fn commit_batch(&self, batch: fjall::OwnedWriteBatch) -> Result<u64, Error> {
        self.lock().started += 1;
        let result = batch.commit();
        let mut s = self.lock();
        let ticket = match result {
            Ok(()) => {
                s.issued += 1;
                Ok(s.issued)
            }
            Err(e) => {
                s.aborted += 1;
                Err(e.into())
            }
        };
        if s.syncing {
            self.joined.notify_one();
        }
        ticket
    }

    /// Blocks until the batch behind `ticket` is durable.
    pub(crate) fn wait(&self, ticket: u64) -> Result<(), Error> {
        let Some(mode) = self.mode else {
            return Ok(());
        };
        let mut s = self.lock();
        loop {
            if s.failed {
                return Err(Error::Storage(fjall::Error::Poisoned));
            }
            if s.synced >= ticket {
                return Ok(());
            }
            if s.syncing {
                s = self.synced.wait(s).unwrap_or_else(PoisonError::into_inner);
                continue;
            }
            s.syncing = true;
            s.syncs += 1;
            // Writers that started before this point are microseconds from
            // their ticket; let them into this sync.
            let joining = s.started;
            while s.issued + s.aborted < joining {
                s = self.joined.wait(s).unwrap_or_else(PoisonError::into_inner);
            }
            let target = s.issued;
            drop(s);
            let result = self.db.persist(mode);
            s = self.lock();
            s.syncing = false;
            match result {
                Ok(()) => s.synced = s.synced.max(target),
                Err(e) => {
                    // fjall has poisoned itself; nothing after this is
                    // acknowledged.
                    tracing::error!(error = %e, "journal sync failed; refusing further writes");
                    s.failed = true;
                }
            }
            self.synced.notify_all();
        }
    }

    pub(crate) fn stats(&self) -> CommitStats {
        let s = self.lock();
        CommitStats {
            commits: s.issued,
            syncs: s.syncs,
        }
    }

    /// Commits `batch` and waits for it to be durable.
    pub(crate) fn commit(&self, batch: fjall::OwnedWriteBatch) -> Result<(), Error> {
        let ticket = self.commit_batch(batch)?;
        self.wait(ticket)
    }
}
