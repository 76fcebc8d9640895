//! The queues and their messages: every SQS operation as a Rust call.
//!
//! Invariants:
//! - Each message has exactly one `sqs_visible` entry, at its
//!   `visible_at_ms`, written in the batch that sets it.
//! - Receives, deletes and visibility changes of one queue run under the
//!   queue's in-memory lock, from reading the index to committing the
//!   batch, so two receives never take the same message in one window.
//!   The lock is never held across an await or a journal sync.
//! - A call that changes messages returns only once its batch is durable
//!   (under `--durability sync`, fsynced), so every acknowledged send
//!   survives a crash, and a receive hands out nothing that is not durable.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::ops::Bound;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use event_listener::Event;
use tarn_core::arn::Arns;
use tarn_core::runner::Stop;
use tarn_engine::store::{Direction, KeyRange, Keyspace};
use tarn_engine::{Deferred, Engine, Store, StoreBatch};

use crate::attrs;
use crate::codec::{self, AttrValue, MessageAttribute, MessageRecord, QueueRecord};
use crate::digest;
use crate::SqsError;

/// The largest message, body and attributes together (bytes).
pub const MESSAGE_BYTES_MAX: usize = 262_144;
/// How long FIFO deduplication lasts.
pub const DEDUP_WINDOW_MS: u64 = 5 * 60 * 1000;
/// Index entries one receive looks at, at most (FIFO queues skip the
/// messages of blocked groups).
const RECEIVE_SCAN_MAX: usize = 10_000;
/// Records removed per batch when a queue is purged or deleted.
const DROP_BATCH: usize = 1000;
/// Messages a queue may have in flight (SQS's quota, standard and FIFO).
pub const INFLIGHT_MAX: u64 = 120_000;
/// The purge cool-down.
const PURGE_INTERVAL_MS: u64 = 60_000;
/// How long a deleted queue's name stays unavailable (SQS: "you must wait
/// at least 60 seconds before creating a queue with the same name").
const RECREATE_WAIT_MS: u64 = 60_000;

type Result<T> = std::result::Result<T, SqsError>;

pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// A queue as callers see it.
#[derive(Debug, Clone)]
pub struct Queue {
    /// Its name.
    pub name: String,
    /// Its ARN.
    pub arn: String,
    record: QueueRecord,
}

impl Queue {
    fn attr_u64(&self, name: &str, default: u64) -> u64 {
        self.record
            .attributes
            .get(name)
            .and_then(|v| v.parse().ok())
            .unwrap_or(default)
    }
    /// Whether it is a FIFO queue.
    pub fn fifo(&self) -> bool {
        self.attr_is("FifoQueue", "true")
    }
    /// Its default visibility timeout, seconds.
    pub fn visibility_timeout_s(&self) -> u64 {
        self.attr_u64("VisibilityTimeout", 30)
    }
    /// Its default long-poll wait, seconds.
    pub fn wait_time_s(&self) -> u64 {
        self.attr_u64("ReceiveMessageWaitTimeSeconds", 0)
    }
    fn retention_ms(&self) -> u64 {
        self.attr_u64("MessageRetentionPeriod", 345_600) * 1000
    }
    fn attr_is(&self, name: &str, value: &str) -> bool {
        self.record.attributes.get(name).map(String::as_str) == Some(value)
    }
    fn content_dedup(&self) -> bool {
        self.attr_is("ContentBasedDeduplication", "true")
    }
    fn group_scope(&self) -> bool {
        self.attr_is("DeduplicationScope", "messageGroup")
    }
    fn redrive(&self) -> Option<attrs::Redrive> {
        self.record
            .attributes
            .get("RedrivePolicy")
            .and_then(|v| attrs::redrive(v).ok().flatten())
    }
    /// Its id (never reused).
    pub fn id(&self) -> u64 {
        self.record.id
    }
}

/// A message to send.
#[derive(Debug, Clone, Default)]
pub struct SendMessage {
    /// The body.
    pub body: String,
    /// Per-message delay, seconds (standard queues).
    pub delay_seconds: Option<u64>,
    /// Message attributes.
    pub attributes: BTreeMap<String, MessageAttribute>,
    /// The `AWSTraceHeader` system attribute.
    pub trace_header: Option<String>,
    /// FIFO: the message group.
    pub group_id: Option<String>,
    /// FIFO: the deduplication id.
    pub dedup_id: Option<String>,
}

/// What a send returns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sent {
    pub message_id: String,
    pub md5_body: String,
    pub md5_attributes: Option<String>,
    pub md5_system_attributes: Option<String>,
    /// FIFO: the sequence number (20 digits).
    pub sequence_number: Option<String>,
}

/// A receive.
#[derive(Debug, Clone, Default)]
pub struct ReceiveRequest {
    /// 1 to 10.
    pub max: usize,
    /// Seconds; the queue's default if `None`.
    pub visibility_timeout: Option<u64>,
    /// Long poll, seconds; the queue's default if `None`.
    pub wait_seconds: Option<u64>,
    /// System attributes to return (`All` for all).
    pub system_attribute_names: Vec<String>,
    /// Message attributes to return (`All`, `.*`, names, `prefix.*`).
    pub message_attribute_names: Vec<String>,
    /// FIFO: ReceiveRequestAttemptId.
    pub attempt_id: Option<String>,
}

/// A received message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Received {
    pub message_id: String,
    pub receipt_handle: String,
    pub body: String,
    pub md5_body: String,
    /// Over the returned message attributes.
    pub md5_attributes: Option<String>,
    /// Selected system attributes.
    pub attributes: BTreeMap<String, String>,
    /// Selected message attributes.
    pub message_attributes: BTreeMap<String, MessageAttribute>,
}

/// A message-move task's state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MoveTask {
    pub task_handle: String,
    pub status: &'static str,
    pub source_arn: String,
    pub destination_arn: Option<String>,
    pub max_per_second: Option<u64>,
    pub moved: u64,
    pub to_move: u64,
    pub failure_reason: Option<String>,
    pub started_ms: u64,
}

#[derive(Default)]
pub(crate) struct QueueState {
    pub(crate) lock: Mutex<()>,
    /// Notified when messages may have become receivable.
    event: Event,
    /// FIFO ReceiveRequestAttemptId -> what it received.
    attempts: Mutex<HashMap<String, Attempt>>,
    /// An upper bound of the messages in flight (`None`: unknown). Kept
    /// under `lock`: receives add, deletes and releases subtract; an
    /// expired visibility timeout does not, so the bound drifts up and is
    /// recounted exactly only when it nears the limit.
    inflight_upper: Mutex<Option<u64>>,
    /// Where a receive starts reading the visible index (see [`Floor`]).
    floor: Mutex<Floor>,
}

/// A lower bound of the live entries in a queue's visible index, so that a
/// receive does not wade through the tombstones every earlier receive left
/// at the front of the index (an LSM tree keeps them until compaction):
/// without it a receive's cost grows with the messages received before it.
///
/// Invariant: no live visible entry of the queue has a key below `at`
/// (`None`: unknown, read from the start). A receive (under the queue's
/// lock) sets `at` from what its scan found; every insert of a visible
/// entry lowers `at` and records itself in `lowered` *before* its batch
/// commits, and the receive folds `lowered` into what it sets, so an
/// insert racing a scan is never left below the floor.
#[derive(Default)]
struct Floor {
    at: Option<(u64, u64)>,
    lowered: Option<(u64, u64)>,
}

impl QueueState {
    /// A visible entry `(t, seq)` is about to be inserted.
    fn lower_floor(&self, key: (u64, u64)) {
        let mut f = lock(&self.floor);
        f.at = f.at.map(|a| a.min(key));
        f.lowered = Some(f.lowered.map_or(key, |l| l.min(key)));
    }

    /// `n` messages left flight (deleted or made visible).
    fn release(&self, n: u64) {
        if let Some(u) = lock(&self.inflight_upper).as_mut() {
            *u = u.saturating_sub(n);
        }
    }
}

/// What a FIFO receive attempt took: until when it may be retried, and
/// the `(seq, receive count)` of each message.
struct Attempt {
    expires_ms: u64,
    taken: Vec<(u64, u32)>,
}

/// One pass of a receive.
struct Pass {
    received: Vec<Received>,
    /// When the next message becomes visible, if one is waiting.
    next_ms: Option<u64>,
    /// Queues messages were dead-lettered to (their waiters are woken).
    moved: Vec<u64>,
    /// The batch to wait for.
    deferred: Option<Deferred<()>>,
}

struct Keyspaces {
    queues: Keyspace,
    messages: Keyspace,
    visible: Keyspace,
    groups: Keyspace,
    sent: Keyspace,
    dedup: Keyspace,
}

struct Inner {
    engine: Engine,
    store: Store,
    arns: Arns,
    ks: Keyspaces,
    states: Mutex<HashMap<u64, Arc<QueueState>>>,
    tasks: Mutex<Vec<Arc<Mutex<MoveTask>>>>,
    /// Wakes the retention sweeper (queue created or its retention set).
    changed: Event,
    seed: u64,
    clock_skew_ms: AtomicU64,
    /// Messages a queue may have in flight (SQS: 120,000).
    inflight_max: AtomicU64,
    /// When each recently deleted queue name was deleted (in memory: a
    /// restart forgets it), for CreateQueue's 60-second wait.
    deleted: Mutex<HashMap<String, u64>>,
}

/// The SQS model of one engine. Cheap to clone.
#[derive(Clone)]
pub struct Sqs(Arc<Inner>);

impl std::fmt::Debug for Sqs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sqs").finish_non_exhaustive()
    }
}

fn now_wall_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

/// The queue name of a queue URL (`http://host:port/<account>/<name>`)
/// of `account`.
pub fn name_of_url<'a>(url: &'a str, account: &str) -> Option<&'a str> {
    let path = url.split_once("://").map_or(url, |(_, rest)| rest);
    let mut parts = path.rsplitn(3, '/');
    let name = parts.next()?;
    let acct = parts.next()?;
    (acct == account && !name.is_empty()).then_some(name)
}

impl Sqs {
    /// Opens the model on `engine`'s store.
    pub fn open(engine: &Engine, arns: Arns) -> Result<Sqs> {
        let store = engine.store();
        let ks = Keyspaces {
            queues: store.keyspace("sqs_queues")?,
            messages: store.keyspace("sqs_messages")?,
            visible: store.keyspace("sqs_visible")?,
            groups: store.keyspace("sqs_groups")?,
            sent: store.keyspace("sqs_sent")?,
            dedup: store.keyspace("sqs_dedup")?,
        };
        let seed = now_wall_ms() ^ (u64::from(std::process::id()) << 32);
        Ok(Sqs(Arc::new(Inner {
            engine: engine.clone(),
            store,
            arns,
            ks,
            states: Mutex::new(HashMap::new()),
            tasks: Mutex::new(Vec::new()),
            changed: Event::new(),
            seed,
            clock_skew_ms: AtomicU64::new(0),
            inflight_max: AtomicU64::new(INFLIGHT_MAX),
            deleted: Mutex::new(HashMap::new()),
        })))
    }

    pub(crate) fn store(&self) -> &Store {
        &self.0.store
    }

    /// The ARNs the queues are named with.
    pub fn arns(&self) -> &Arns {
        &self.0.arns
    }

    /// Moves this model's clock forward (tests of retention and purge).
    pub fn advance_clock_ms(&self, ms: u64) {
        self.0.clock_skew_ms.fetch_add(ms, Ordering::Relaxed);
        self.0.changed.notify(usize::MAX);
    }

    /// Sets how many messages a queue may have in flight (tests of the
    /// limit; SQS's is [`INFLIGHT_MAX`]).
    pub fn set_inflight_max(&self, n: u64) {
        self.0.inflight_max.store(n, Ordering::Relaxed);
    }

    pub(crate) fn now_ms(&self) -> u64 {
        now_wall_ms() + self.0.clock_skew_ms.load(Ordering::Relaxed)
    }

    pub(crate) fn state(&self, id: u64) -> Arc<QueueState> {
        Arc::clone(lock(&self.0.states).entry(id).or_default())
    }

    /// Wakes long polls of a queue.
    pub(crate) fn notify(&self, id: u64) {
        if let Some(s) = lock(&self.0.states).get(&id) {
            s.event.notify(usize::MAX);
        }
    }

    pub(crate) async fn durable<T: Send + 'static>(&self, d: Deferred<T>) -> Result<T> {
        let (tx, rx) = tokio::sync::oneshot::channel();
        d.on_durable(&self.0.engine, move |r| {
            let _ = tx.send(r);
        });
        match rx.await {
            Ok(r) => r.map_err(SqsError::from),
            Err(_) => Err(SqsError::Internal("durability callback dropped".into())),
        }
    }

    fn message_id(&self, queue: u64, seq: u64) -> String {
        let mut h = blake3::Hasher::new();
        h.update(&self.0.seed.to_be_bytes());
        h.update(&queue.to_be_bytes());
        h.update(&seq.to_be_bytes());
        let b = h.finalize();
        let mut first = [0u8; 16];
        first.copy_from_slice(&b.as_bytes()[..16]);
        tarn_core::id::uuid(&first)
    }

    // ---- queues ----

    /// The queue `name`.
    pub fn queue(&self, name: &str) -> Result<Queue> {
        // No stored name is longer; a longer one is no key to look up.
        if name.is_empty() || name.len() > 80 {
            return Err(SqsError::QueueDoesNotExist);
        }
        let Some(v) = self.0.store.get(&self.0.ks.queues, name.as_bytes())? else {
            return Err(SqsError::QueueDoesNotExist);
        };
        Ok(Queue {
            name: name.to_owned(),
            arn: self.0.arns.queue(name),
            record: QueueRecord::decode(&v)?,
        })
    }

    /// The queue an ARN names.
    pub fn queue_by_arn(&self, arn: &str) -> Result<Queue> {
        let name = self
            .0
            .arns
            .queue_in(arn)
            .ok_or(SqsError::QueueDoesNotExist)?;
        self.queue(name)
    }

    /// The queue a URL names.
    pub fn queue_by_url(&self, url: &str) -> Result<Queue> {
        let name = name_of_url(url, self.0.arns.account()).ok_or(SqsError::QueueDoesNotExist)?;
        self.queue(name)
    }

    fn all_queues(&self) -> Result<Vec<Queue>> {
        let mut out = Vec::new();
        for e in self
            .0
            .store
            .iter(&self.0.ks.queues, &KeyRange::all(), Direction::Forward)
        {
            let e = e?;
            let name =
                String::from_utf8(e.key.to_vec()).map_err(|_| codec::Corrupt("queue name"))?;
            out.push(Queue {
                arn: self.0.arns.queue(&name),
                name,
                record: QueueRecord::decode(&e.value)?,
            });
        }
        Ok(out)
    }

    /// Creates a queue, or returns the existing one if every requested
    /// attribute equals its value.
    pub async fn create_queue(
        &self,
        name: &str,
        attributes: &BTreeMap<String, String>,
        tags: &BTreeMap<String, String>,
    ) -> Result<Queue> {
        let fifo = attributes.get("FifoQueue").map(String::as_str) == Some("true");
        attrs::check_name(name, fifo || name.ends_with(".fifo"))?;
        if name.ends_with(".fifo") && !fifo {
            // A standard queue may not take the FIFO suffix.
            return Err(SqsError::InvalidParameterValue(
                "Can only include alphanumeric characters, hyphens, or underscores. 1 to 80 in length".into(),
            ));
        }
        let checked = attrs::check(attributes, fifo, true, &self.0.arns)?;
        self.check_redrive(name, fifo, &checked)?;
        let deferred = {
            // Creations are rare: one lock for all of them keeps the
            // name check and the insert together.
            static CREATE: Mutex<()> = Mutex::new(());
            let _g = lock(&CREATE);
            if let Ok(existing) = self.queue(name) {
                for (k, v) in &checked {
                    if existing.record.attributes.get(k) != Some(v) {
                        return Err(SqsError::QueueAlreadyExists(k.clone()));
                    }
                }
                return Ok(existing);
            }
            let now = self.now_ms();
            {
                let mut deleted = lock(&self.0.deleted);
                deleted.retain(|_, at| now < *at + RECREATE_WAIT_MS);
                if deleted.contains_key(name) {
                    return Err(SqsError::QueueDeletedRecently);
                }
            }
            let mut batch = self.0.store.batch();
            let id = batch.allocate("sqs_queue_ids")?;
            let mut attributes = attrs::defaults(fifo);
            attributes.extend(checked);
            let record = QueueRecord {
                id,
                created_ms: now,
                modified_ms: now,
                purged_ms: 0,
                attributes,
                tags: tags.clone(),
            };
            batch.insert(&self.0.ks.queues, name.as_bytes(), &record.encode())?;
            batch.commit()?.map(|()| record)
        };
        let record = self.durable(deferred).await?;
        self.0.changed.notify(usize::MAX);
        Ok(Queue {
            name: name.to_owned(),
            arn: self.0.arns.queue(name),
            record,
        })
    }

    fn check_redrive(
        &self,
        name: &str,
        fifo: bool,
        attributes: &BTreeMap<String, String>,
    ) -> Result<()> {
        let Some(policy) = attributes.get("RedrivePolicy") else {
            return Ok(());
        };
        let Some(r) = attrs::redrive(policy)? else {
            return Ok(());
        };
        let dlq = self.queue_by_arn(&r.dead_letter_target_arn).map_err(|_| {
            SqsError::InvalidParameterValue(format!(
                "Value {policy} for parameter RedrivePolicy is invalid. Reason: Dead letter target does not exist."
            ))
        })?;
        if dlq.fifo() != fifo {
            return Err(SqsError::InvalidParameterValue(format!(
                "Value {policy} for parameter RedrivePolicy is invalid. Reason: Dead-letter queue must be same type of queue as the source.."
            )));
        }
        if dlq.name == name {
            return Err(SqsError::InvalidParameterValue(format!(
                "Value {policy} for parameter RedrivePolicy is invalid. Reason: Queue cannot be its own dead-letter queue."
            )));
        }
        if !attrs::redrive_allowed(
            dlq.record
                .attributes
                .get("RedriveAllowPolicy")
                .map_or("", String::as_str),
            &self.0.arns.queue(name),
        ) {
            return Err(SqsError::InvalidParameterValue(format!(
                "Value {policy} for parameter RedrivePolicy is invalid. Reason: Queue {} does not allow this queue to use it as a dead-letter queue.",
                dlq.arn
            )));
        }
        Ok(())
    }

    /// Queue names starting with `prefix`, in order.
    pub fn list_queues(&self, prefix: &str) -> Result<Vec<String>> {
        let range = if prefix.is_empty() {
            KeyRange::all()
        } else {
            KeyRange::prefix(prefix.as_bytes())
        };
        let mut out = Vec::new();
        for e in self
            .0
            .store
            .iter(&self.0.ks.queues, &range, Direction::Forward)
        {
            let e = e?;
            out.push(String::from_utf8(e.key.to_vec()).map_err(|_| codec::Corrupt("queue name"))?);
        }
        Ok(out)
    }

    /// Deletes a queue and its messages.
    pub async fn delete_queue(&self, name: &str) -> Result<()> {
        let q = self.queue(name)?;
        let mut batch = self.0.store.batch();
        batch.remove(&self.0.ks.queues, name.as_bytes())?;
        let d = batch.commit()?;
        self.durable(d).await?;
        lock(&self.0.deleted).insert(name.to_owned(), self.now_ms());
        self.notify(q.id());
        lock(&self.0.states).remove(&q.id());
        self.drop_queue_data(q.id()).await
    }

    /// Removes everything stored under queue id `id` (messages, their
    /// indexes, deduplication records), in bounded batches.
    async fn drop_queue_data(&self, id: u64) -> Result<()> {
        self.drop_messages(id, u64::MAX).await?;
        loop {
            let keys = self.0.store.scan(
                &self.0.ks.dedup,
                &KeyRange::prefix(&id.to_be_bytes()),
                Direction::Forward,
                DROP_BATCH,
            )?;
            if keys.is_empty() {
                return Ok(());
            }
            let mut batch = self.0.store.batch();
            for e in &keys {
                batch.remove(&self.0.ks.dedup, &e.key)?;
            }
            let d = batch.commit()?;
            self.durable(d).await?;
        }
    }

    /// Drops the data of queues that no longer exist (a crash between a
    /// DeleteQueue and the end of its drop leaves some): one seek per
    /// queue id found, not a scan of every message.
    pub async fn drop_orphans(&self) -> Result<usize> {
        let live: HashSet<u64> = self.all_queues()?.iter().map(Queue::id).collect();
        let mut dropped = 0;
        for ks in [&self.0.ks.sent, &self.0.ks.dedup] {
            let mut from = 0u64;
            loop {
                let first = self.0.store.scan(
                    ks,
                    &KeyRange::new(Bound::Included(&from.to_be_bytes()), Bound::Unbounded),
                    Direction::Forward,
                    1,
                )?;
                let Some(e) = first.first() else { break };
                let id = e
                    .key
                    .get(..8)
                    .and_then(|b| b.try_into().ok())
                    .map(u64::from_be_bytes)
                    .ok_or(codec::Corrupt("queue id prefix"))?;
                if !live.contains(&id) {
                    self.drop_queue_data(id).await?;
                    dropped += 1;
                }
                match id.checked_add(1) {
                    Some(next) => from = next,
                    None => break,
                }
            }
        }
        Ok(dropped)
    }

    /// Removes every message of queue `id` sent before `before_ms`, in
    /// bounded batches.
    async fn drop_messages(&self, id: u64, before_ms: u64) -> Result<u64> {
        let mut dropped = 0;
        loop {
            let entries = self.0.store.scan(
                &self.0.ks.sent,
                &KeyRange::new(
                    Bound::Included(&codec::time_key(id, 0, 0)),
                    Bound::Excluded(&codec::time_key(id, before_ms, 0)),
                ),
                Direction::Forward,
                DROP_BATCH,
            )?;
            if entries.is_empty() {
                return Ok(dropped);
            }
            let d = {
                let state = self.state(id);
                let _g = lock(&state.lock);
                *lock(&state.inflight_upper) = None;
                let mut batch = self.0.store.batch();
                for e in &entries {
                    let (_, seq) = codec::split_time_key(&e.key)?;
                    if let Some(m) = self.load(id, seq)? {
                        self.remove_message(&mut batch, id, seq, &m)?;
                        dropped += 1;
                    } else {
                        batch.remove(&self.0.ks.sent, &e.key)?;
                    }
                }
                batch.commit()?
            };
            self.durable(d).await?;
        }
    }

    /// The queue's attributes named by `names` (`All` for all).
    pub fn get_attributes(&self, name: &str, names: &[String]) -> Result<BTreeMap<String, String>> {
        let q = self.queue(name)?;
        for n in names {
            if !attrs::is_known(n) {
                return Err(SqsError::InvalidAttributeName(n.clone()));
            }
        }
        let all = names.iter().any(|n| n == "All");
        let want = |n: &str| all || names.iter().any(|x| x == n);
        let mut out = BTreeMap::new();
        if want("ApproximateNumberOfMessages")
            || want("ApproximateNumberOfMessagesNotVisible")
            || want("ApproximateNumberOfMessagesDelayed")
        {
            let (visible, inflight, delayed) = self.counts(q.id())?;
            for (k, v) in [
                ("ApproximateNumberOfMessages", visible),
                ("ApproximateNumberOfMessagesNotVisible", inflight),
                ("ApproximateNumberOfMessagesDelayed", delayed),
            ] {
                if want(k) {
                    out.insert(k.to_owned(), v.to_string());
                }
            }
        }
        if want("CreatedTimestamp") {
            out.insert(
                "CreatedTimestamp".into(),
                (q.record.created_ms / 1000).to_string(),
            );
        }
        if want("LastModifiedTimestamp") {
            out.insert(
                "LastModifiedTimestamp".into(),
                (q.record.modified_ms / 1000).to_string(),
            );
        }
        if want("QueueArn") {
            out.insert("QueueArn".into(), q.arn.clone());
        }
        for (k, v) in &q.record.attributes {
            if want(k) && !v.is_empty() {
                out.insert(k.clone(), v.clone());
            }
        }
        Ok(out)
    }

    /// `(visible, in flight, delayed)` messages of queue `id`.
    fn counts(&self, id: u64) -> Result<(u64, u64, u64)> {
        let now = self.now_ms();
        let (mut visible, mut inflight, mut delayed) = (0, 0, 0);
        for e in self.0.store.iter(
            &self.0.ks.visible,
            &KeyRange::prefix(&id.to_be_bytes()),
            Direction::Forward,
        ) {
            let e = e?;
            let (t, _) = codec::split_time_key(&e.key)?;
            if t <= now {
                visible += 1;
            } else if e.value.first() == Some(&1) {
                inflight += 1;
            } else {
                delayed += 1;
            }
        }
        Ok((visible, inflight, delayed))
    }

    /// Sets attributes of a queue.
    pub async fn set_attributes(
        &self,
        name: &str,
        attributes: &BTreeMap<String, String>,
    ) -> Result<()> {
        let q = self.queue(name)?;
        let checked = attrs::check(attributes, q.fifo(), false, &self.0.arns)?;
        self.check_redrive(name, q.fifo(), &checked)?;
        self.update_queue(name, |r| {
            for (k, v) in checked {
                if v.is_empty() {
                    r.attributes.remove(&k);
                } else {
                    r.attributes.insert(k, v);
                }
            }
            Ok(())
        })
        .await?;
        self.0.changed.notify(usize::MAX);
        Ok(())
    }

    async fn update_queue(
        &self,
        name: &str,
        f: impl FnOnce(&mut QueueRecord) -> Result<()>,
    ) -> Result<QueueRecord> {
        static UPDATE: Mutex<()> = Mutex::new(());
        let d = {
            let _g = lock(&UPDATE);
            let mut q = self.queue(name)?;
            f(&mut q.record)?;
            q.record.modified_ms = self.now_ms();
            let mut batch = self.0.store.batch();
            batch.insert(&self.0.ks.queues, name.as_bytes(), &q.record.encode())?;
            batch.commit()?.map(|()| q.record)
        };
        self.durable(d).await
    }

    /// Tags a queue.
    pub async fn tag(&self, name: &str, tags: &BTreeMap<String, String>) -> Result<()> {
        self.update_queue(name, |r| {
            let mut t = r.tags.clone();
            t.extend(tags.iter().map(|(k, v)| (k.clone(), v.clone())));
            if t.len() > 50 {
                return Err(SqsError::InvalidParameterValue(format!(
                    "Too many tags added for queue {name}."
                )));
            }
            r.tags = t;
            Ok(())
        })
        .await
        .map(drop)
    }

    /// Removes tags of a queue.
    pub async fn untag(&self, name: &str, keys: &[String]) -> Result<()> {
        self.update_queue(name, |r| {
            for k in keys {
                r.tags.remove(k);
            }
            Ok(())
        })
        .await
        .map(drop)
    }

    /// A queue's tags.
    pub fn tags(&self, name: &str) -> Result<BTreeMap<String, String>> {
        Ok(self.queue(name)?.record.tags)
    }

    /// Queues whose dead-letter queue is `name`.
    pub fn dead_letter_sources(&self, name: &str) -> Result<Vec<String>> {
        let q = self.queue(name)?;
        Ok(self
            .all_queues()?
            .into_iter()
            .filter(|s| {
                s.redrive()
                    .is_some_and(|r| r.dead_letter_target_arn == q.arn)
            })
            .map(|s| s.name)
            .collect())
    }

    /// Purges a queue (at most once per 60 s).
    pub async fn purge(&self, name: &str) -> Result<()> {
        let now = self.now_ms();
        let q = self.queue(name)?;
        self.update_queue(name, |r| {
            if r.purged_ms != 0 && now < r.purged_ms + PURGE_INTERVAL_MS {
                return Err(SqsError::PurgeQueueInProgress(name.to_owned()));
            }
            r.purged_ms = now;
            Ok(())
        })
        .await?;
        self.drop_messages(q.id(), now + 1).await?;
        Ok(())
    }

    // ---- messages ----

    fn load(&self, queue: u64, seq: u64) -> Result<Option<MessageRecord>> {
        match self
            .0
            .store
            .get(&self.0.ks.messages, &codec::message_key(queue, seq))?
        {
            Some(v) => Ok(Some(MessageRecord::decode(&v)?)),
            None => Ok(None),
        }
    }

    fn insert_message(
        &self,
        batch: &mut StoreBatch,
        queue: u64,
        seq: u64,
        m: &MessageRecord,
    ) -> Result<()> {
        let ks = &self.0.ks;
        self.state(queue).lower_floor((m.visible_at_ms, seq));
        batch.insert(&ks.messages, &codec::message_key(queue, seq), &m.encode())?;
        let state = u8::from(m.receive_count > 0);
        batch.insert(
            &ks.visible,
            &codec::time_key(queue, m.visible_at_ms, seq),
            &[state],
        )?;
        batch.insert(&ks.sent, &codec::time_key(queue, m.sent_ms, seq), &[])?;
        if !m.group.is_empty() {
            batch.insert(&ks.groups, &codec::group_key(queue, &m.group, seq), &[])?;
        }
        Ok(())
    }

    fn remove_message(
        &self,
        batch: &mut StoreBatch,
        queue: u64,
        seq: u64,
        m: &MessageRecord,
    ) -> Result<()> {
        let ks = &self.0.ks;
        batch.remove(&ks.messages, &codec::message_key(queue, seq))?;
        batch.remove(&ks.visible, &codec::time_key(queue, m.visible_at_ms, seq))?;
        batch.remove(&ks.sent, &codec::time_key(queue, m.sent_ms, seq))?;
        if !m.group.is_empty() {
            batch.remove(&ks.groups, &codec::group_key(queue, &m.group, seq))?;
        }
        Ok(())
    }

    /// Checks a message against the queue's rules.
    pub(crate) fn check_send(&self, q: &Queue, m: &SendMessage) -> Result<()> {
        if m.body.is_empty() {
            return Err(SqsError::MissingParameter("MessageBody".into()));
        }
        if !m.body.chars().all(|c| {
            matches!(c, '\u{9}' | '\u{a}' | '\u{d}' | '\u{20}'..='\u{d7ff}' | '\u{e000}'..='\u{fffd}' | '\u{10000}'..='\u{10ffff}')
        }) {
            return Err(SqsError::InvalidMessageContents);
        }
        check_attributes(&m.attributes)?;
        let size = message_size(m);
        let max = q.attr_u64("MaximumMessageSize", MESSAGE_BYTES_MAX as u64) as usize;
        if size > max {
            return Err(SqsError::InvalidParameterValue(format!(
                "One or more parameters are invalid. Reason: Message must be shorter than {max} bytes."
            )));
        }
        if let Some(d) = m.delay_seconds {
            if d > 900 {
                return Err(SqsError::invalid_value(
                    d,
                    "DelaySeconds",
                    "DelaySeconds must be >= 0 and <= 900.",
                ));
            }
            if q.fifo() {
                return Err(SqsError::invalid_value(
                    d,
                    "DelaySeconds",
                    "The request include parameter that is not valid for this queue type.",
                ));
            }
        }
        for (param, v) in [
            ("MessageGroupId", &m.group_id),
            ("MessageDeduplicationId", &m.dedup_id),
        ] {
            if let Some(v) = v {
                if v.is_empty() || v.len() > 128 || !v.bytes().all(|b| b.is_ascii_graphic()) {
                    return Err(SqsError::invalid_value(
                        v,
                        param,
                        &format!("{param} can only include alphanumeric and punctuation characters. 1 to 128 in length."),
                    ));
                }
            }
        }
        if q.fifo() {
            if m.group_id.is_none() {
                return Err(SqsError::MissingParameter("MessageGroupId".into()));
            }
            if m.dedup_id.is_none() && !q.content_dedup() {
                return Err(SqsError::InvalidParameterValue(
                    "The queue should either have ContentBasedDeduplication enabled or MessageDeduplicationId provided explicitly".into(),
                ));
            }
        } else if let Some(d) = &m.dedup_id {
            return Err(SqsError::invalid_value(
                d,
                "MessageDeduplicationId",
                "The request include parameter that is not valid for this queue type.",
            ));
        }
        Ok(())
    }

    /// Adds one checked message to `batch`. `pending`: dedup keys of this
    /// batch (FIFO), with the message they stand for.
    pub(crate) fn send_into(
        &self,
        batch: &mut StoreBatch,
        q: &Queue,
        m: &SendMessage,
        now: u64,
        pending: &mut HashMap<Vec<u8>, (u64, String)>,
    ) -> Result<Sent> {
        let md5_body = digest::body(&m.body);
        let md5_attributes = digest::attributes(&m.attributes);
        let md5_system_attributes = m.trace_header.as_ref().and_then(|t| {
            let one: BTreeMap<String, MessageAttribute> = [(
                "AWSTraceHeader".to_owned(),
                MessageAttribute {
                    data_type: "String".into(),
                    value: AttrValue::String(t.clone()),
                },
            )]
            .into();
            digest::attributes(&one)
        });
        let fifo = q.fifo();
        let group = if fifo {
            m.group_id.clone().unwrap_or_default()
        } else {
            String::new()
        };
        let mut dedup_id = String::new();
        let mut dedup_key = None;
        if fifo {
            dedup_id = match &m.dedup_id {
                Some(d) => d.clone(),
                None => {
                    use sha2::Digest as _;
                    let h = sha2::Sha256::digest(m.body.as_bytes());
                    h.iter().map(|b| format!("{b:02x}")).collect()
                }
            };
            let scope = if q.group_scope() { group.as_str() } else { "" };
            let key = codec::dedup_key(q.id(), scope, &dedup_id);
            let earlier = match pending.get(&key) {
                Some((seq, id)) => Some((*seq, id.clone())),
                None => match self.0.store.get(&self.0.ks.dedup, &key)? {
                    Some(v) => {
                        let (expires, seq, id) = codec::decode_dedup(&v)?;
                        (expires > now).then_some((seq, id))
                    }
                    None => None,
                },
            };
            if let Some((seq, message_id)) = earlier {
                return Ok(Sent {
                    message_id,
                    md5_body,
                    md5_attributes,
                    md5_system_attributes,
                    sequence_number: Some(format!("{seq:020}")),
                });
            }
            dedup_key = Some(key);
        }
        let seq = batch.allocate("sqs_message_seq")?;
        let message_id = self.message_id(q.id(), seq);
        let delay_s = m
            .delay_seconds
            .unwrap_or_else(|| q.attr_u64("DelaySeconds", 0));
        let record = MessageRecord {
            sent_ms: now,
            visible_at_ms: now + delay_s * 1000,
            receive_count: 0,
            first_receive_ms: 0,
            message_id: message_id.clone(),
            body: m.body.clone(),
            group,
            dedup_id,
            trace_header: m.trace_header.clone().unwrap_or_default(),
            dlq_source: String::new(),
            attributes: m.attributes.clone(),
        };
        self.insert_message(batch, q.id(), seq, &record)?;
        if let Some(key) = dedup_key {
            batch.insert(
                &self.0.ks.dedup,
                &key,
                &codec::encode_dedup(now + DEDUP_WINDOW_MS, seq, &message_id),
            )?;
            pending.insert(key, (seq, message_id.clone()));
        }
        Ok(Sent {
            message_id,
            md5_body,
            md5_attributes,
            md5_system_attributes,
            sequence_number: fifo.then(|| format!("{seq:020}")),
        })
    }

    /// Sends a message; returns once it is durable.
    pub async fn send(&self, queue: &str, m: SendMessage) -> Result<Sent> {
        let mut r = self.send_batch(queue, vec![m]).await?;
        r.pop()
            .unwrap_or_else(|| Err(SqsError::Internal("empty send".into())))
    }

    /// Sends messages in one batch; each gets its own result. Returns
    /// once the batch is durable.
    pub async fn send_batch(&self, queue: &str, ms: Vec<SendMessage>) -> Result<Vec<Result<Sent>>> {
        let q = self.queue(queue)?;
        let now = self.now_ms();
        let (d, results) = {
            let state = self.state(q.id());
            // FIFO sends check deduplication and insert under the lock.
            let _g = q.fifo().then(|| lock(&state.lock));
            let mut batch = self.0.store.batch();
            let mut pending = HashMap::new();
            let mut results = Vec::with_capacity(ms.len());
            for m in &ms {
                results.push(
                    self.check_send(&q, m)
                        .and_then(|()| self.send_into(&mut batch, &q, m, now, &mut pending)),
                );
            }
            (batch.commit()?, results)
        };
        self.durable(d).await?;
        self.notify(q.id());
        Ok(results)
    }

    /// Receives up to `req.max` messages, waiting up to the long-poll time
    /// for the first; returns once the receive is durable.
    pub async fn receive(
        &self,
        queue: &str,
        req: &ReceiveRequest,
        mut stop: Stop,
    ) -> Result<Vec<Received>> {
        let q = self.queue(queue)?;
        let wait_ms = req.wait_seconds.unwrap_or_else(|| q.wait_time_s()) * 1000;
        let deadline = tokio::time::Instant::now() + Duration::from_millis(wait_ms);
        let state = self.state(q.id());
        loop {
            let listener = state.event.listen();
            let q_now = self.queue(queue)?;
            if q_now.id() != q.id() {
                // Deleted and re-created while we waited.
                return Err(SqsError::QueueDoesNotExist);
            }
            let q = q_now;
            let Pass {
                received,
                next_ms,
                moved,
                deferred,
            } = self.receive_once(&q, req)?;
            if let Some(d) = deferred {
                self.durable(d).await?;
            }
            for id in moved {
                self.notify(id);
            }
            if !received.is_empty() {
                return Ok(received);
            }
            let now = tokio::time::Instant::now();
            if now >= deadline || stop.is_stopped() {
                return Ok(received);
            }
            let mut until = deadline;
            if let Some(t) = next_ms {
                let in_ms = t.saturating_sub(self.now_ms());
                until = until.min(now + Duration::from_millis(in_ms.max(1)));
            }
            tokio::select! {
                () = listener => {}
                () = tokio::time::sleep_until(until) => {}
                () = stop.wait() => {}
            }
        }
    }

    /// One pass of a receive: the messages, when the next one becomes
    /// visible, the queues messages were dead-lettered to, and the batch
    /// to wait for.
    fn receive_once(&self, q: &Queue, req: &ReceiveRequest) -> Result<Pass> {
        let id = q.id();
        let state = self.state(id);
        let _g = lock(&state.lock);
        let now = self.now_ms();
        let vt_ms = req
            .visibility_timeout
            .unwrap_or_else(|| q.visibility_timeout_s())
            * 1000;
        let max = req.max.clamp(1, 10);
        let mut batch = self.0.store.batch();
        let mut taken: Vec<(u64, MessageRecord)> = Vec::new();
        let mut moved = Vec::new();
        let redrive = q.redrive();
        let dlq = redrive
            .as_ref()
            .and_then(|r| self.queue_by_arn(&r.dead_letter_target_arn).ok());

        // FIFO: a repeated attempt id returns the same messages while they
        // are still in flight with the same receive.
        if let (true, Some(attempt)) = (q.fifo(), &req.attempt_id) {
            let mut attempts = lock(&state.attempts);
            attempts.retain(|_, a| a.expires_ms > now);
            if let Some(Attempt { taken: list, .. }) = attempts.get(attempt) {
                let mut again = Vec::new();
                for (seq, count) in list {
                    if let Some(m) = self.load(id, *seq)? {
                        if m.receive_count == *count && m.visible_at_ms > now {
                            again.push((*seq, m));
                        }
                    }
                }
                if again.len() == list.len() && !again.is_empty() {
                    let out = again
                        .iter()
                        .map(|(seq, m)| self.received(q, *seq, m, req))
                        .collect();
                    return Ok(Pass {
                        received: out,
                        next_ms: None,
                        moved,
                        deferred: None,
                    });
                }
            }
        }

        // The in-flight limit: standard queues answer OverLimit, FIFO
        // queues return nothing (the SQS developer guide, quotas).
        let limit = self.0.inflight_max.load(Ordering::Relaxed);
        let mut upper = lock(&state.inflight_upper);
        if upper.is_none_or(|u| u + max as u64 > limit) {
            *upper = Some(self.counts(id)?.1);
        }
        let inflight = upper.unwrap_or(0);
        if inflight >= limit {
            if q.fifo() {
                return Ok(Pass {
                    received: Vec::new(),
                    next_ms: None,
                    moved,
                    deferred: None,
                });
            }
            return Err(SqsError::OverLimit(
                "The maximum number of in flight messages is reached.".into(),
            ));
        }
        let max = max.min(usize::try_from(limit - inflight).unwrap_or(max));
        let mut next_ms = None;
        let mut blocked: HashSet<String> = HashSet::new();
        let mut taken_seqs: HashSet<u64> = HashSet::new();
        let retention_ms = q.retention_ms();
        let start = {
            let mut f = lock(&state.floor);
            f.lowered = None;
            f.at.unwrap_or((0, 0))
        };
        let from = codec::time_key(id, start.0, start.1);
        let to = codec::time_key(id, u64::MAX, u64::MAX);
        let range = KeyRange::new(Bound::Included(&from[..]), Bound::Included(&to[..]));
        let mut looked = 0;
        // The first entry this pass leaves in place, and the last one it
        // saw: the next receive starts at the former, or past the latter.
        let mut first_kept: Option<(u64, u64)> = None;
        let mut last_seen: Option<(u64, u64)> = None;
        for e in self
            .0
            .store
            .iter(&self.0.ks.visible, &range, Direction::Forward)
        {
            let e = e?;
            let (t, seq) = codec::split_time_key(&e.key)?;
            last_seen = Some((t, seq));
            if t > now {
                next_ms = Some(t);
                first_kept.get_or_insert((t, seq));
                break;
            }
            looked += 1;
            if taken.len() >= max || looked > RECEIVE_SCAN_MAX {
                first_kept.get_or_insert((t, seq));
                break;
            }
            if taken_seqs.contains(&seq) {
                continue;
            }
            let Some(m) = self.load(id, seq)? else {
                // An index entry without its message: repair.
                batch.remove(&self.0.ks.visible, &e.key)?;
                continue;
            };
            if m.sent_ms + retention_ms <= now {
                self.remove_message(&mut batch, id, seq, &m)?;
                continue;
            }
            if q.fifo() {
                // A FIFO entry stays unless its group's receive below
                // takes it; the floor may not pass it either way.
                first_kept.get_or_insert((t, seq));
            }
            if !q.fifo() {
                if let Some(m) = self.take(
                    &mut batch, q, seq, m, now, vt_ms, &redrive, &dlq, &mut moved,
                )? {
                    taken_seqs.insert(seq);
                    taken.push((seq, m));
                }
                continue;
            }
            if blocked.contains(&m.group) {
                continue;
            }
            // FIFO: the group's messages in order from its head, while
            // they are visible.
            let group = m.group.clone();
            blocked.insert(group.clone());
            let entries = self.0.store.scan(
                &self.0.ks.groups,
                &KeyRange::prefix(&codec::group_prefix(id, &group)),
                Direction::Forward,
                max - taken.len() + 1,
            )?;
            for ge in entries {
                if taken.len() >= max {
                    break;
                }
                let gseq = codec::group_key_seq(&ge.key)?;
                let Some(gm) = self.load(id, gseq)? else {
                    batch.remove(&self.0.ks.groups, &ge.key)?;
                    continue;
                };
                if gm.visible_at_ms > now {
                    break;
                }
                match self.take(
                    &mut batch, q, gseq, gm, now, vt_ms, &redrive, &dlq, &mut moved,
                )? {
                    Some(gm) => {
                        taken_seqs.insert(gseq);
                        taken.push((gseq, gm));
                    }
                    // Dead-lettered: the next one is the head now.
                    None => continue,
                }
            }
        }
        *upper = Some(inflight + taken.len() as u64);
        drop(upper);
        {
            let mut f = lock(&state.floor);
            let found = first_kept.or(last_seen).unwrap_or(start);
            let at = f.lowered.map_or(found, |l| l.min(found));
            f.at = Some(at);
        }
        if q.fifo() {
            if let Some(attempt) = &req.attempt_id {
                lock(&state.attempts).insert(
                    attempt.clone(),
                    Attempt {
                        expires_ms: now + DEDUP_WINDOW_MS,
                        taken: taken.iter().map(|(s, m)| (*s, m.receive_count)).collect(),
                    },
                );
            }
        }
        let out = taken
            .iter()
            .map(|(seq, m)| self.received(q, *seq, m, req))
            .collect();
        let d = if batch.is_empty() {
            None
        } else {
            Some(batch.commit()?)
        };
        Ok(Pass {
            received: out,
            next_ms,
            moved,
            deferred: d,
        })
    }

    /// Takes a visible message for a receive, or dead-letters it (`None`).
    #[allow(clippy::too_many_arguments)]
    fn take(
        &self,
        batch: &mut StoreBatch,
        q: &Queue,
        seq: u64,
        mut m: MessageRecord,
        now: u64,
        vt_ms: u64,
        redrive: &Option<attrs::Redrive>,
        dlq: &Option<Queue>,
        moved: &mut Vec<u64>,
    ) -> Result<Option<MessageRecord>> {
        let id = q.id();
        if let (Some(r), Some(dlq)) = (redrive, dlq) {
            if m.receive_count >= r.max_receive_count {
                self.remove_message(batch, id, seq, &m)?;
                let dseq = batch.allocate("sqs_message_seq")?;
                let moved_m = MessageRecord {
                    visible_at_ms: now,
                    receive_count: 0,
                    first_receive_ms: 0,
                    dlq_source: q.arn.clone(),
                    ..m
                };
                self.insert_message(batch, dlq.id(), dseq, &moved_m)?;
                moved.push(dlq.id());
                return Ok(None);
            }
        }
        batch.remove(
            &self.0.ks.visible,
            &codec::time_key(id, m.visible_at_ms, seq),
        )?;
        m.receive_count += 1;
        if m.first_receive_ms == 0 {
            m.first_receive_ms = now;
        }
        m.visible_at_ms = now + vt_ms;
        self.state(id).lower_floor((m.visible_at_ms, seq));
        batch.insert(
            &self.0.ks.visible,
            &codec::time_key(id, m.visible_at_ms, seq),
            &[1],
        )?;
        batch.insert(
            &self.0.ks.messages,
            &codec::message_key(id, seq),
            &m.encode(),
        )?;
        Ok(Some(m))
    }

    fn received(&self, q: &Queue, seq: u64, m: &MessageRecord, req: &ReceiveRequest) -> Received {
        let all_sys = req.system_attribute_names.iter().any(|n| n == "All");
        let want = |n: &str| all_sys || req.system_attribute_names.iter().any(|x| x == n);
        let mut attributes = BTreeMap::new();
        let mut put = |k: &str, v: String| {
            if want(k) && !v.is_empty() {
                attributes.insert(k.to_owned(), v);
            }
        };
        put("SenderId", self.0.arns.account().to_owned());
        put("SentTimestamp", m.sent_ms.to_string());
        put("ApproximateReceiveCount", m.receive_count.to_string());
        put(
            "ApproximateFirstReceiveTimestamp",
            m.first_receive_ms.to_string(),
        );
        put("AWSTraceHeader", m.trace_header.clone());
        put("DeadLetterQueueSourceArn", m.dlq_source.clone());
        if q.fifo() {
            put("SequenceNumber", format!("{seq:020}"));
            put("MessageDeduplicationId", m.dedup_id.clone());
            put("MessageGroupId", m.group.clone());
        }
        let message_attributes: BTreeMap<String, MessageAttribute> = m
            .attributes
            .iter()
            .filter(|(name, _)| {
                req.message_attribute_names.iter().any(|sel| {
                    sel == "All"
                        || sel == ".*"
                        || sel == *name
                        || sel.strip_suffix(".*").is_some_and(|p| {
                            name.starts_with(p) && name[p.len()..].starts_with('.')
                        })
                })
            })
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        Received {
            message_id: m.message_id.clone(),
            receipt_handle: codec::receipt_handle(q.id(), seq, m.receive_count),
            body: m.body.clone(),
            md5_body: digest::body(&m.body),
            md5_attributes: digest::attributes(&message_attributes),
            attributes,
            message_attributes,
        }
    }

    /// The message a handle names: `(seq, its record, handle current)`;
    /// `None` if the message is gone.
    fn by_handle(&self, q: &Queue, handle: &str) -> Result<Option<(u64, MessageRecord, bool)>> {
        let (qid, seq, count) = codec::parse_receipt_handle(handle)
            .ok_or_else(|| SqsError::ReceiptHandleIsInvalid(handle.to_owned()))?;
        if qid != q.id() {
            return Err(SqsError::ReceiptHandleIsInvalid(handle.to_owned()));
        }
        Ok(self.load(qid, seq)?.map(|m| {
            let current = m.receive_count == count;
            (seq, m, current)
        }))
    }

    /// Deletes messages by receipt handle, in one batch; each handle gets
    /// its own result. A handle of a message already deleted, or of an
    /// earlier receive of a message received again since, succeeds and
    /// deletes nothing (the SQS API reference, DeleteMessage).
    pub async fn delete_batch(&self, queue: &str, handles: &[String]) -> Result<Vec<Result<()>>> {
        let q = self.queue(queue)?;
        let (d, results) = {
            let state = self.state(q.id());
            let _g = lock(&state.lock);
            let mut batch = self.0.store.batch();
            let mut results = Vec::with_capacity(handles.len());
            let mut done = HashSet::new();
            let now = self.now_ms();
            let mut released = 0;
            for h in handles {
                results.push(match self.by_handle(&q, h) {
                    Ok(Some((seq, m, true))) => {
                        if done.insert(seq) {
                            self.remove_message(&mut batch, q.id(), seq, &m)?;
                            released += u64::from(m.visible_at_ms > now);
                        }
                        Ok(())
                    }
                    Ok(_) => Ok(()),
                    Err(e) => Err(e),
                });
            }
            state.release(released);
            (batch.commit()?, results)
        };
        self.durable(d).await?;
        Ok(results)
    }

    /// Deletes a message by receipt handle.
    pub async fn delete(&self, queue: &str, handle: &str) -> Result<()> {
        let mut r = self.delete_batch(queue, &[handle.to_owned()]).await?;
        r.pop().unwrap_or(Ok(()))
    }

    /// Changes visibility timeouts by receipt handle, in one batch.
    pub async fn change_visibility_batch(
        &self,
        queue: &str,
        changes: &[(String, u64)],
    ) -> Result<Vec<Result<()>>> {
        let q = self.queue(queue)?;
        let now = self.now_ms();
        let (d, results) = {
            let state = self.state(q.id());
            let _g = lock(&state.lock);
            let mut batch = self.0.store.batch();
            let mut results = Vec::with_capacity(changes.len());
            let mut current: HashMap<u64, MessageRecord> = HashMap::new();
            for (h, timeout) in changes {
                if *timeout > 43_200 {
                    results.push(Err(SqsError::invalid_value(
                        timeout,
                        "VisibilityTimeout",
                        "Must be between 0 and 43200.",
                    )));
                    continue;
                }
                let found = match self.by_handle(&q, h) {
                    Ok(f) => f,
                    Err(e) => {
                        results.push(Err(e));
                        continue;
                    }
                };
                results.push(match found {
                    Some((seq, m, true)) => {
                        let m = current.remove(&seq).unwrap_or(m);
                        if m.visible_at_ms <= now {
                            current.insert(seq, m);
                            Err(SqsError::MessageNotInflight)
                        } else if now + timeout * 1000 > m.first_receive_ms + 43_200_000 {
                            // A message stays in flight at most 12 hours
                            // from its first receive.
                            current.insert(seq, m);
                            Err(SqsError::invalid_value(
                                timeout,
                                "VisibilityTimeout",
                                "Total VisibilityTimeout for the message is beyond the limit [43200 seconds]",
                            ))
                        } else {
                            let mut m2 = m.clone();
                            batch.remove(
                                &self.0.ks.visible,
                                &codec::time_key(q.id(), m.visible_at_ms, seq),
                            )?;
                            m2.visible_at_ms = now + timeout * 1000;
                            if *timeout == 0 {
                                state.release(1);
                            }
                            state.lower_floor((m2.visible_at_ms, seq));
                            batch.insert(
                                &self.0.ks.visible,
                                &codec::time_key(q.id(), m2.visible_at_ms, seq),
                                &[1],
                            )?;
                            batch.insert(
                                &self.0.ks.messages,
                                &codec::message_key(q.id(), seq),
                                &m2.encode(),
                            )?;
                            current.insert(seq, m2);
                            Ok(())
                        }
                    }
                    Some((_, _, false)) => Err(SqsError::invalid_value(
                        h,
                        "ReceiptHandle",
                        "The receipt handle has expired.",
                    )),
                    None => Err(SqsError::MessageNotInflight),
                });
            }
            (batch.commit()?, results)
        };
        self.durable(d).await?;
        self.notify(q.id());
        Ok(results)
    }

    /// Changes one message's visibility timeout.
    pub async fn change_visibility(&self, queue: &str, handle: &str, timeout_s: u64) -> Result<()> {
        let mut r = self
            .change_visibility_batch(queue, &[(handle.to_owned(), timeout_s)])
            .await?;
        r.pop().unwrap_or(Ok(()))
    }

    // ---- background work ----

    /// Removes messages past their queue's retention period; returns when
    /// the next one expires (ms since the epoch), if any.
    pub async fn expire(&self) -> Result<Option<u64>> {
        let mut next: Option<u64> = None;
        for q in self.all_queues()? {
            let cutoff = self.now_ms().saturating_sub(q.retention_ms());
            self.drop_messages(q.id(), cutoff).await?;
            let first = self.0.store.scan(
                &self.0.ks.sent,
                &KeyRange::prefix(&q.id().to_be_bytes()),
                Direction::Forward,
                1,
            )?;
            if let Some(e) = first.first() {
                let (t, _) = codec::split_time_key(&e.key)?;
                let at = t + q.retention_ms();
                next = Some(next.map_or(at, |n| n.min(at)));
            }
        }
        Ok(next)
    }

    /// Runs the retention sweeper until `stop`.
    pub async fn run_sweeper(self, mut stop: Stop) {
        match self.drop_orphans().await {
            Ok(0) => {}
            Ok(n) => tracing::info!(queues = n, "dropped the data of deleted sqs queues"),
            Err(e) => tracing::warn!(error = %e, "cannot drop the data of deleted sqs queues"),
        }
        while !stop.is_stopped() {
            let listener = self.0.changed.listen();
            let next = match self.expire().await {
                Ok(n) => n,
                Err(e) => {
                    tracing::warn!(error = %e, "sqs retention sweep failed");
                    None
                }
            };
            let in_ms = next
                .map_or(60_000, |t| t.saturating_sub(self.now_ms()))
                .clamp(10, 60_000);
            tokio::select! {
                () = listener => {}
                () = tokio::time::sleep(Duration::from_millis(in_ms)) => {}
                () = stop.wait() => {}
            }
        }
    }

    // ---- message-move tasks ----

    /// Starts moving the messages of dead-letter queue `source_arn` back
    /// to `destination_arn` (or each to the queue it came from).
    pub fn start_move(
        &self,
        runner: &tarn_core::runner::Runner,
        source_arn: &str,
        destination_arn: Option<&str>,
        max_per_second: Option<u64>,
    ) -> Result<String> {
        let source = self.queue_by_arn(source_arn).map_err(|_| {
            SqsError::ResourceNotFound(
                "The resource that you specified for the SourceArn parameter doesn't exist.".into(),
            )
        })?;
        if self.dead_letter_sources(&source.name)?.is_empty() {
            return Err(SqsError::InvalidParameterValue(
                "Source queue must be configured as a Dead Letter Queue.".into(),
            ));
        }
        if let Some(d) = destination_arn {
            self.queue_by_arn(d).map_err(|_| {
                SqsError::ResourceNotFound("The resource that you specified for the DestinationArn parameter doesn't exist.".into())
            })?;
        }
        if let Some(r) = max_per_second {
            if !(1..=500).contains(&r) {
                return Err(SqsError::invalid_value(
                    r,
                    "MaxNumberOfMessagesPerSecond",
                    "Must be between 1 and 500.",
                ));
            }
        }
        let mut tasks = lock(&self.0.tasks);
        if tasks.iter().any(|t| {
            let t = lock(t);
            t.source_arn == source.arn && t.status == "RUNNING"
        }) {
            return Err(SqsError::UnsupportedOperation(
                "There is already a task running. Only one active task is allowed for a source queue arn at a given time.".into(),
            ));
        }
        let (visible, _, _) = self.counts(source.id())?;
        let now = self.now_ms();
        let handle = {
            use base64::Engine as _;
            let id = self.message_id(source.id(), now);
            base64::engine::general_purpose::STANDARD
                .encode(serde_json::json!({"taskId": id, "sourceArn": source.arn}).to_string())
        };
        let task = Arc::new(Mutex::new(MoveTask {
            task_handle: handle.clone(),
            status: "RUNNING",
            source_arn: source.arn.clone(),
            destination_arn: destination_arn.map(str::to_owned),
            max_per_second,
            moved: 0,
            to_move: visible,
            failure_reason: None,
            started_ms: now,
        }));
        tasks.push(Arc::clone(&task));
        drop(tasks);
        let sqs = self.clone();
        let spawned = runner.spawn("sqs-message-move", move |stop| async move {
            sqs.run_move(task, source.name, stop).await;
        });
        if !spawned {
            return Err(SqsError::Internal("shutting down".into()));
        }
        Ok(handle)
    }

    async fn run_move(&self, task: Arc<Mutex<MoveTask>>, source: String, mut stop: Stop) {
        let (dest, rate, to_move) = {
            let t = lock(&task);
            (t.destination_arn.clone(), t.max_per_second, t.to_move)
        };
        let mut moved = 0u64;
        let result: Result<()> = async {
            while moved < to_move {
                if stop.is_stopped() || lock(&task).status != "RUNNING" {
                    return Ok(());
                }
                let n = self
                    .move_some(
                        &source,
                        dest.as_deref(),
                        (to_move - moved).min(rate.unwrap_or(10).min(10)),
                    )
                    .await?;
                if n == 0 {
                    break;
                }
                moved += n;
                lock(&task).moved = moved;
                if let Some(r) = rate {
                    if !stop.sleep(Duration::from_millis(1000 * n / r.max(1))).await {
                        return Ok(());
                    }
                }
            }
            Ok(())
        }
        .await;
        let mut t = lock(&task);
        match result {
            Err(e) => {
                t.status = "FAILED";
                t.failure_reason = Some(e.message());
            }
            Ok(()) if t.status == "CANCELLING" => t.status = "CANCELLED",
            Ok(()) if t.status == "RUNNING" => t.status = "COMPLETED",
            Ok(()) => {}
        }
    }

    /// Moves up to `n` visible messages of `source` to `dest` or their
    /// source queues.
    async fn move_some(&self, source: &str, dest: Option<&str>, n: u64) -> Result<u64> {
        let q = self.queue(source)?;
        let dest = dest.map(|d| self.queue_by_arn(d)).transpose()?;
        let (d, targets, count) = {
            let state = self.state(q.id());
            let _g = lock(&state.lock);
            let now = self.now_ms();
            let entries = self.0.store.scan(
                &self.0.ks.visible,
                &KeyRange::new(
                    Bound::Included(&codec::time_key(q.id(), 0, 0)),
                    Bound::Included(&codec::time_key(q.id(), now, u64::MAX)),
                ),
                Direction::Forward,
                n as usize,
            )?;
            let mut batch = self.0.store.batch();
            let mut targets = Vec::new();
            let mut count = 0;
            for e in entries {
                let (_, seq) = codec::split_time_key(&e.key)?;
                let Some(m) = self.load(q.id(), seq)? else {
                    continue;
                };
                let target = match &dest {
                    Some(d) => d.clone(),
                    None => self.queue_by_arn(&m.dlq_source).map_err(|_| {
                        SqsError::ResourceNotFound(format!(
                            "The source queue of message {} does not exist.",
                            m.message_id
                        ))
                    })?,
                };
                self.remove_message(&mut batch, q.id(), seq, &m)?;
                let nseq = batch.allocate("sqs_message_seq")?;
                let back = MessageRecord {
                    visible_at_ms: now,
                    receive_count: 0,
                    first_receive_ms: 0,
                    dlq_source: String::new(),
                    ..m
                };
                self.insert_message(&mut batch, target.id(), nseq, &back)?;
                targets.push(target.id());
                count += 1;
            }
            (batch.commit()?, targets, count)
        };
        self.durable(d).await?;
        for t in targets {
            self.notify(t);
        }
        Ok(count)
    }

    /// The most recent move tasks of `source_arn`, newest first.
    pub fn list_moves(&self, source_arn: &str, max: usize) -> Result<Vec<MoveTask>> {
        self.queue_by_arn(source_arn).map_err(|_| {
            SqsError::ResourceNotFound(
                "The resource that you specified for the SourceArn parameter doesn't exist.".into(),
            )
        })?;
        let tasks = lock(&self.0.tasks);
        Ok(tasks
            .iter()
            .rev()
            .map(|t| lock(t).clone())
            .filter(|t| t.source_arn == source_arn)
            .take(max)
            .collect())
    }

    /// Cancels a running move task; returns the messages moved so far.
    pub fn cancel_move(&self, handle: &str) -> Result<u64> {
        let tasks = lock(&self.0.tasks);
        for t in tasks.iter() {
            let mut t = lock(t);
            if t.task_handle == handle && t.status == "RUNNING" {
                t.status = "CANCELLING";
                return Ok(t.moved);
            }
        }
        Err(SqsError::ResourceNotFound("Task does not exist.".into()))
    }
}

/// The size SQS counts against the limit: the body and each attribute's
/// name, type and value.
pub fn message_size(m: &SendMessage) -> usize {
    m.body.len()
        + m.attributes
            .iter()
            .map(|(k, a)| {
                k.len()
                    + a.data_type.len()
                    + match &a.value {
                        AttrValue::String(s) => s.len(),
                        AttrValue::Binary(b) => b.len(),
                    }
            })
            .sum::<usize>()
}

/// Checks message attributes: at most 10, names and types as SQS allows,
/// values present and numbers numeric.
pub fn check_attributes(attrs: &BTreeMap<String, MessageAttribute>) -> Result<()> {
    if attrs.len() > 10 {
        return Err(SqsError::InvalidParameterValue(format!(
            "Number of message attributes [{}] exceeds the allowed maximum [10].",
            attrs.len()
        )));
    }
    for (name, a) in attrs {
        let lower = name.to_ascii_lowercase();
        let name_ok = !name.is_empty()
            && name.len() <= 256
            && name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'))
            && !name.starts_with('.')
            && !name.ends_with('.')
            && !name.contains("..")
            && !lower.starts_with("aws.")
            && !lower.starts_with("amazon.");
        if !name_ok {
            return Err(SqsError::MessageAttributesInvalid(format!(
                "The message attribute '{name}' has an invalid message attribute name. Attribute names can contain A-Z, a-z, 0-9, underscore (_), hyphen (-), and period (.) characters. Names can't start or end with a period (.), contain two consecutive periods, or start with the prefixes 'AWS.' or 'Amazon.'."
            )));
        }
        if a.data_type.is_empty() {
            return Err(SqsError::MessageAttributesInvalid(format!(
                "The message attribute '{name}' must contain non-empty message attribute type."
            )));
        }
        let base = a.data_type.split('.').next().unwrap_or("");
        match (base, &a.value) {
            ("String" | "Number", AttrValue::String(s)) => {
                if s.is_empty() {
                    return Err(SqsError::MessageAttributesInvalid(format!(
                        "The message attribute '{name}' must contain non-empty message attribute value for message attribute type '{base}'."
                    )));
                }
                if base == "Number" && !is_number(s) {
                    return Err(SqsError::MessageAttributesInvalid(format!(
                        "Can't cast the value of message (user) attribute '{name}' to a number."
                    )));
                }
            }
            ("Binary", AttrValue::Binary(b)) => {
                if b.is_empty() {
                    return Err(SqsError::MessageAttributesInvalid(format!(
                        "The message attribute '{name}' must contain non-empty message attribute value for message attribute type 'Binary'."
                    )));
                }
            }
            ("String" | "Number" | "Binary", _) => {
                return Err(SqsError::MessageAttributesInvalid(format!(
                    "The message attribute '{name}' must contain non-empty message attribute value for message attribute type '{base}'."
                )));
            }
            _ => {
                return Err(SqsError::MessageAttributesInvalid(format!(
                    "The type of message (user) attribute '{name}' is invalid. You must use only the following supported type prefixes: Binary, Number, String."
                )));
            }
        }
    }
    Ok(())
}

fn is_number(s: &str) -> bool {
    let s = s.trim();
    !s.is_empty() && s.parse::<f64>().is_ok_and(f64::is_finite)
}
