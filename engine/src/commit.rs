//! Group commit: many writers, one journal flush and sync.
//!
//! A writer commits its batch to the journal's buffer and takes a ticket,
//! then waits for a sync that covers it. A sync round lets the writers that
//! are already committing finish (so they join this sync instead of
//! starting the next one), notes the newest ticket issued, flushes and
//! syncs the journal once, and wakes every waiter that sync covered.
//! Writers that arrive while a sync runs form the next group, so the group
//! grows with the load.
//!
//! A writer waits for its ticket either by blocking ([`GroupCommit::wait`])
//! or by handing over a callback ([`GroupCommit::on_durable`]). A blocking
//! waiter that finds no sync running runs the round itself (no thread
//! handoff on the path of a lone writer); callbacks are served by a syncer
//! thread, which lets an async server wait without tying up a thread.
//!
//! Tickets are taken after the batch is in the journal buffer, so a sync that
//! starts after ticket `t` was issued covers batch `t`. The syncer waits only
//! for writers that started before it took its target, so a steady stream of
//! new writers cannot starve it.
//!
//! fjall holds its journal lock while it syncs, so writers that arrive during
//! a sync queue inside `commit` and form the next group.
//!
//! A batch that holds change-log records is committed with its marks (the
//! stream and sequence number of its last record per stream); the round
//! whose sync covers its ticket advances those streams' durable watermarks
//! (`feed`), and the syncer runs a round for pending marks even when no
//! writer waits, so a record never stays unpublished.

use std::collections::VecDeque;
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};

use fjall::{Database, PersistMode};

use crate::error::Error;
use crate::feed::Feed;

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

/// Called once a ticket is durable, or with the error that means it never
/// will be.
pub type OnDurable = Box<dyn FnOnce(Result<(), Error>) + Send>;

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
    /// A sync round is running.
    syncing: bool,
    failed: bool,
    shutdown: bool,
    syncs: u64,
    /// Callbacks waiting for their ticket, in ticket order.
    callbacks: Vec<(u64, OnDurable)>,
    /// Change-log marks `(ticket, stream, seq)` not yet durable, in ticket
    /// order.
    marks: VecDeque<(u64, u32, u64)>,
}

struct Inner {
    db: Database,
    mode: Option<PersistMode>,
    /// The watermarks a sync advances.
    feed: Arc<Feed>,
    /// Tests hold this to keep a sync round from syncing.
    #[cfg(test)]
    gate: Mutex<()>,
    state: Mutex<State>,
    /// Blocking waiters wait here for a sync to cover them.
    synced: Condvar,
    /// The syncer waits here for work, and for writers already committing.
    work: Condvar,
}

impl Inner {
    fn lock(&self) -> MutexGuard<'_, State> {
        // The state is a few counters updated under the lock; a panic
        // elsewhere cannot leave it half-written.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// One sync round, run by whoever finds none running and a ticket
    /// wanted: takes `s` with `syncing` unset, returns it with `syncing`
    /// unset again.
    fn sync_round<'a>(
        &'a self,
        mut s: MutexGuard<'a, State>,
        mode: PersistMode,
    ) -> MutexGuard<'a, State> {
        s.syncing = true;
        // Writers that started before this point are microseconds from
        // their ticket; let them into this sync.
        let joining = s.started;
        while s.issued + s.aborted < joining && !s.shutdown {
            s = self.work.wait(s).unwrap_or_else(PoisonError::into_inner);
        }
        let target = s.issued;
        s.syncs += 1;
        drop(s);
        #[cfg(test)]
        drop(self.gate.lock().unwrap_or_else(PoisonError::into_inner));
        let result = self.db.persist(mode);
        s = self.lock();
        s.syncing = false;
        let mut durable = Vec::new();
        let fired: Vec<(u64, OnDurable)> = match result {
            Ok(()) => {
                s.synced = s.synced.max(target);
                while let Some(&(t, stream, seq)) = s.marks.front() {
                    if t > target {
                        break;
                    }
                    durable.push((stream, seq));
                    s.marks.pop_front();
                }
                let keep = s.callbacks.partition_point(|(t, _)| *t <= target);
                s.callbacks.drain(..keep).collect()
            }
            Err(e) => {
                // fjall has poisoned itself; nothing after this is
                // acknowledged.
                tracing::error!(error = %e, "journal sync failed; refusing further writes");
                s.failed = true;
                std::mem::take(&mut s.callbacks)
            }
        };
        // Published before any waiter of these tickets can see them synced
        // (it checks under this lock): an acknowledged write's records are
        // already readable by consumers. Watermarks only grow, so rounds
        // publishing out of order are harmless.
        self.feed.advance(&durable);
        let failed = s.failed;
        self.synced.notify_all();
        // Callbacks and marks left over (tickets past this round) are the
        // syncer's.
        if !s.callbacks.is_empty() || !s.marks.is_empty() {
            self.work.notify_one();
        }
        drop(s);
        for (_, callback) in fired {
            callback(if failed {
                Err(Error::Storage(fjall::Error::Poisoned))
            } else {
                Ok(())
            });
        }
        self.lock()
    }

    /// The syncer thread's loop: it serves the callbacks.
    fn run(&self, mode: PersistMode) {
        let mut s = self.lock();
        loop {
            let due = |s: &State| {
                let waiting = s.callbacks.first().map(|(t, _)| *t);
                let marked = s.marks.front().map(|(t, _, _)| *t);
                waiting.into_iter().chain(marked).any(|t| t > s.synced) && !s.syncing
            };
            while !s.shutdown && !s.failed && !due(&s) {
                s = self.work.wait(s).unwrap_or_else(PoisonError::into_inner);
            }
            if s.shutdown || s.failed {
                return;
            }
            s = self.sync_round(s, mode);
        }
    }
}

pub(crate) struct GroupCommit {
    inner: Arc<Inner>,
    syncer: Option<std::thread::JoinHandle<()>>,
}

impl GroupCommit {
    pub(crate) fn new(
        db: Database,
        durability: Durability,
        feed: Arc<Feed>,
    ) -> Result<Self, Error> {
        let mode = match durability {
            Durability::Sync => Some(PersistMode::SyncAll),
            Durability::Buffered => Some(PersistMode::Buffer),
            Durability::Memory => None,
        };
        let inner = Arc::new(Inner {
            db,
            mode,
            state: Mutex::new(State::default()),
            feed,
            #[cfg(test)]
            gate: Mutex::new(()),
            synced: Condvar::new(),
            work: Condvar::new(),
        });
        let syncer = match mode {
            Some(mode) => {
                let inner = Arc::clone(&inner);
                Some(
                    std::thread::Builder::new()
                        .name("tarn-sync".into())
                        .spawn(move || inner.run(mode))
                        .map_err(|e| Error::Storage(e.into()))?,
                )
            }
            None => None,
        };
        Ok(GroupCommit { inner, syncer })
    }

    /// Commits `batch` to the journal buffer (visible to readers at once) and
    /// returns the ticket to [`wait`](Self::wait) on for durability. Callers
    /// may hold item locks across this, but should release them before
    /// waiting.
    pub(crate) fn commit_batch(&self, batch: fjall::OwnedWriteBatch) -> Result<u64, Error> {
        self.commit_marked(batch, &[])
    }

    /// [`commit_batch`](Self::commit_batch) for a batch holding change-log
    /// records: `marks` are `(stream, last sequence number)` of each stream
    /// it writes, published once the batch is durable. The caller holds
    /// those streams' locks, so marks reach here in sequence order.
    pub(crate) fn commit_marked(
        &self,
        batch: fjall::OwnedWriteBatch,
        marks: &[(u32, u64)],
    ) -> Result<u64, Error> {
        self.inner.lock().started += 1;
        let result = batch.commit();
        let mut s = self.inner.lock();
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
        let mut wake_syncer = false;
        if let (Ok(t), false) = (&ticket, marks.is_empty()) {
            if self.inner.mode.is_none() {
                // Nothing is ever synced: committed is as durable as it gets.
                self.inner.feed.advance(marks);
            } else {
                s.marks
                    .extend(marks.iter().map(|&(stream, seq)| (*t, stream, seq)));
                wake_syncer = !s.syncing;
            }
        }
        let round_waits_for_writers = s.syncing;
        drop(s);
        if round_waits_for_writers {
            self.inner.work.notify_all();
        } else if wake_syncer {
            self.inner.work.notify_one();
        }
        ticket
    }

    /// Keeps every sync round from syncing until the guard is dropped.
    #[cfg(test)]
    pub(crate) fn hold_syncs(&self) -> MutexGuard<'_, ()> {
        self.inner
            .gate
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// Blocks until the batch behind `ticket` is durable, running the sync
    /// round itself when none is running.
    pub(crate) fn wait(&self, ticket: u64) -> Result<(), Error> {
        let Some(mode) = self.inner.mode else {
            return Ok(());
        };
        let mut s = self.inner.lock();
        loop {
            if s.failed {
                return Err(Error::Storage(fjall::Error::Poisoned));
            }
            if s.synced >= ticket {
                return Ok(());
            }
            if !s.syncing {
                s = self.inner.sync_round(s, mode);
                continue;
            }
            s = self
                .inner
                .synced
                .wait(s)
                .unwrap_or_else(PoisonError::into_inner);
        }
    }

    /// Calls `callback` once the batch behind `ticket` is durable (at once
    /// if it already is), from the syncer thread or the caller's.
    pub(crate) fn on_durable(&self, ticket: u64, callback: OnDurable) {
        if self.inner.mode.is_none() {
            callback(Ok(()));
            return;
        }
        let mut s = self.inner.lock();
        if s.failed {
            drop(s);
            callback(Err(Error::Storage(fjall::Error::Poisoned)));
        } else if s.synced >= ticket {
            drop(s);
            callback(Ok(()));
        } else {
            // Tickets are issued in order and waited for soon after, so
            // keeping the list sorted is nearly always an append.
            let at = s.callbacks.partition_point(|(t, _)| *t <= ticket);
            s.callbacks.insert(at, (ticket, callback));
            let idle = !s.syncing;
            drop(s);
            if idle {
                self.inner.work.notify_one();
            }
        }
    }

    pub(crate) fn stats(&self) -> CommitStats {
        let s = self.inner.lock();
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

impl Drop for GroupCommit {
    fn drop(&mut self) {
        self.inner.lock().shutdown = true;
        self.inner.work.notify_all();
        if let Some(syncer) = self.syncer.take() {
            let _ = syncer.join();
        }
    }
}

/// A write that is committed (readers see it) but may not be durable yet:
/// it must not be acknowledged before its `wait` returns or its
/// `on_durable` calls back (both are the engine's, in the crate root).
#[must_use = "a write is acknowledged only once it is durable"]
#[derive(Debug)]
pub struct Deferred<T> {
    pub(crate) value: T,
    /// The commit ticket to wait for; `None` when nothing was written.
    pub(crate) ticket: Option<u64>,
}

impl<T> Deferred<T> {
    pub(crate) fn new(value: T, ticket: Option<u64>) -> Self {
        Deferred { value, ticket }
    }

    /// The same write with its result mapped by `f`.
    pub fn map<U>(self, f: impl FnOnce(T) -> U) -> Deferred<U> {
        Deferred {
            value: f(self.value),
            ticket: self.ticket,
        }
    }
}
