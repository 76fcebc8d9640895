//! Background work as the engine queues it: the jobs and the two workers'
//! queues (the workers themselves are in `background`).

use std::sync::mpsc;
use std::sync::Arc;

use crate::table::Table;

/// Items indexed per batch by a backfill; the batch holds their locks.
pub(crate) const BACKFILL_BATCH_ITEMS_MAX: usize = 256;

/// What a backfill fills.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Backfill {
    /// The `CREATING` global index with this id, marked `ACTIVE` at the end.
    Index(u32),
    /// The expiry index of the TTL setting with this id.
    Expiry(u32),
}

/// A unit of background work.
pub(crate) enum Job {
    /// Finish the table's unfinished backups, then drop every item, index
    /// entry and log of a deleted table, then its drop record.
    DropTable(Arc<Table>),
    /// Index the table's existing items in a new index or the expiry
    /// index of a TTL setting.
    Backfill(Arc<Table>, Backfill),
    /// Drop the entries of the expiry index of a disabled TTL setting.
    DropExpiry(u32),
    /// Drop the entries of the `DELETING` index with this id, then remove
    /// it from the table record.
    DropIndex(Arc<Table>, u32),
    /// Copy the table's items into the `CREATING` backup with this id.
    CopyBackup(Arc<Table>, u32),
    /// Drop the entries of a `DELETED` backup, then its record.
    DropBackup(u32),
    /// Drop the recovery log with this PITR id, then its drop record.
    DropPitrLog(u32),
    /// Fill a `CREATING` restored table from its source (for a point in
    /// time, read through the snapshot taken at the request, if any).
    Restore(Arc<Table>, Option<fjall::Snapshot>),
}

impl Job {
    /// True for work that deletes, which runs on the drop worker.
    fn is_drop(&self) -> bool {
        matches!(
            self,
            Job::DropTable(_)
                | Job::DropExpiry(_)
                | Job::DropIndex(..)
                | Job::DropBackup(_)
                | Job::DropPitrLog(_)
        )
    }
}

/// The two workers' queues.
pub(crate) struct Queues {
    drops: mpsc::Sender<Job>,
    fills: mpsc::Sender<Job>,
}

impl Queues {
    /// Queues `job` on its worker.
    pub(crate) fn submit(&self, job: Job) {
        let queue = if job.is_drop() {
            &self.drops
        } else {
            &self.fills
        };
        let _ = queue.send(job);
    }
}

/// The receiving ends of [`Queues`], handed to the workers.
pub(crate) struct Receivers {
    pub(crate) drops: mpsc::Receiver<Job>,
    pub(crate) fills: mpsc::Receiver<Job>,
}

/// New queues and their receiving ends.
pub(crate) fn queues() -> (Queues, Receivers) {
    let (drops, drops_rx) = mpsc::channel();
    let (fills, fills_rx) = mpsc::channel();
    (
        Queues { drops, fills },
        Receivers {
            drops: drops_rx,
            fills: fills_rx,
        },
    )
}
