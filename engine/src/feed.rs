//! The durable change feed: per stream, the highest sequence number whose
//! record is durable (the watermark), and a wake-up for consumers waiting
//! for it to move (`docs/architecture.md`, "Durable change feed").
//!
//! The group commit advances a stream's watermark when a sync covers the
//! batch holding its records (at commit, when nothing is synced). Sequence
//! numbers of a stream are allocated, and their batch committed, under the
//! table's stream lock, so batches of one stream take commit tickets in
//! sequence order, and a sync that covers a ticket covers every lower
//! sequence number of the stream: the watermark is a prefix. Readers read
//! up to it, so a consumer never sees a record a crash could still take
//! away.
//!
//! Waiting holds no engine lock: a waiter clones the stream's watermark
//! (an `Arc`) out of the map, registers a listener, checks the watermark,
//! and only then sleeps. The advance stores the watermark before it
//! notifies, and `event_listener` orders a listener registered before the
//! notification after it, so no wake-up is lost.

use std::collections::HashMap;
use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use event_listener::{Event, Listener};

use crate::guard::{read_lock, write_lock};

/// One stream's watermark and its wake-up.
pub(crate) struct Watermark {
    /// Every record of the stream up to this sequence number is durable.
    durable_seq: AtomicU64,
    /// Notified after every advance.
    event: Event,
}

impl Watermark {
    fn new(durable_seq: u64) -> Arc<Watermark> {
        Arc::new(Watermark {
            durable_seq: AtomicU64::new(durable_seq),
            event: Event::new(),
        })
    }

    pub(crate) fn get(&self) -> u64 {
        self.durable_seq.load(Ordering::Acquire)
    }

    fn advance(&self, seq: u64) {
        if self.durable_seq.fetch_max(seq, Ordering::AcqRel) < seq {
            self.event.notify(usize::MAX);
        }
    }

    /// Blocks until the watermark passes `after_seq` or `deadline` comes;
    /// returns whether it passed.
    fn wait_past(&self, after_seq: u64, deadline: Instant) -> bool {
        // Bounded: every turn either returns or sleeps until a
        // notification or the deadline.
        loop {
            if self.get() > after_seq {
                return true;
            }
            let listener = self.event.listen();
            if self.get() > after_seq {
                return true;
            }
            if listener.wait_deadline(deadline).is_none() {
                return self.get() > after_seq;
            }
        }
    }
}

/// The watermarks of every stream, by stream id.
#[derive(Default)]
pub(crate) struct Feed {
    streams: RwLock<HashMap<u32, Arc<Watermark>>>,
}

impl Feed {
    /// Starts following `stream`, whose records up to `durable_seq` are
    /// durable. Called before any write to the stream can commit.
    pub(crate) fn register(&self, stream: u32, durable_seq: u64) {
        write_lock(&self.streams)
            .entry(stream)
            .or_insert_with(|| Watermark::new(durable_seq))
            .advance(durable_seq);
    }

    /// Stops following `stream` (its records are gone). Waiters keep their
    /// handle and time out.
    pub(crate) fn forget(&self, stream: u32) {
        write_lock(&self.streams).remove(&stream);
    }

    /// Marks durable every record up to each `(stream, seq)`.
    pub(crate) fn advance(&self, marks: &[(u32, u64)]) {
        if marks.is_empty() {
            return;
        }
        let streams = read_lock(&self.streams);
        for (stream, seq) in marks {
            if let Some(w) = streams.get(stream) {
                w.advance(*seq);
            }
        }
    }

    /// The watermark of `stream`, if it is followed.
    pub(crate) fn watermark(&self, stream: u32) -> Option<Arc<Watermark>> {
        read_lock(&self.streams).get(&stream).cloned()
    }

    /// The highest durable sequence number of `stream`. A stream not
    /// followed was retired or dropped before this process started, so all
    /// of its records are durable.
    pub(crate) fn durable_seq(&self, stream: u32) -> u64 {
        self.watermark(stream).map_or(u64::MAX, |w| w.get())
    }

    /// Blocks until a record of `stream` past `after_seq` is durable, at
    /// most `timeout`; returns whether one is.
    pub(crate) fn wait(&self, stream: u32, after_seq: u64, timeout: Duration) -> bool {
        match self.watermark(stream) {
            Some(w) => w.wait_past(after_seq, Instant::now() + timeout),
            None => true,
        }
    }

    /// Resolves once a record of `stream` past `after_seq` is durable. It
    /// needs no particular runtime; a caller bounds it with its own timer.
    pub(crate) fn changed(
        &self,
        stream: u32,
        after_seq: u64,
    ) -> impl Future<Output = ()> + Send + 'static {
        let watermark = self.watermark(stream);
        async move {
            let Some(w) = watermark else { return };
            // Each turn either returns or awaits a notification.
            loop {
                if w.get() > after_seq {
                    return;
                }
                let listener = w.event.listen();
                if w.get() > after_seq {
                    return;
                }
                listener.await;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn watermarks_only_grow_and_wake_waiters() {
        let feed = Arc::new(Feed::default());
        feed.register(7, 3);
        assert_eq!(feed.durable_seq(7), 3);
        feed.advance(&[(7, 2)]);
        assert_eq!(feed.durable_seq(7), 3, "a late advance never moves it back");
        assert!(feed.wait(7, 2, Duration::ZERO));
        assert!(!feed.wait(7, 3, Duration::from_millis(1)));
        let waiter = {
            let feed = Arc::clone(&feed);
            std::thread::spawn(move || feed.wait(7, 3, Duration::from_secs(10)))
        };
        feed.advance(&[(7, 5), (8, 1)]);
        assert!(waiter.join().expect("waiter"));
        assert_eq!(feed.durable_seq(7), 5);
        // Streams not followed are those from before the open: durable.
        assert_eq!(feed.durable_seq(8), u64::MAX);
        feed.forget(7);
        assert_eq!(feed.durable_seq(7), u64::MAX);
    }
}
