//! Group commit: many writers, one journal sync.
//!
//! A writer commits its batch to the journal (in memory), takes a ticket, and
//! waits until a sync has covered that ticket. The first waiter that finds no
//! sync running becomes the leader: it notes the newest ticket issued, syncs
//! the journal once, and wakes everyone whose ticket that sync covered.
//! Tickets are taken after the batch is in the journal, so a sync that starts
//! after ticket `t` was issued covers batch `t`.

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

#[derive(Default)]
struct State {
    issued: u64,
    synced: u64,
    syncing: bool,
    failed: bool,
}

pub(crate) struct GroupCommit {
    db: Database,
    mode: Option<PersistMode>,
    state: Mutex<State>,
    wake: Condvar,
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
            wake: Condvar::new(),
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // The state is a few counters updated atomically under the lock; a
        // panic elsewhere cannot leave it half-written.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Takes a ticket for a batch that is already in the journal.
    pub(crate) fn ticket(&self) -> u64 {
        let mut s = self.lock();
        s.issued += 1;
        s.issued
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
                s = self.wake.wait(s).unwrap_or_else(PoisonError::into_inner);
                continue;
            }
            s.syncing = true;
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
            self.wake.notify_all();
        }
    }

    /// Commits `batch` and waits for it to be durable.
    pub(crate) fn commit(&self, batch: fjall::OwnedWriteBatch) -> Result<(), Error> {
        batch.commit()?;
        let t = self.ticket();
        self.wait(t)
    }
}
