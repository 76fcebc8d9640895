//! The two phases of a `tarn-load` invocation: loading the table (or, for
//! the SQS workloads, prefilling the queue: [`super::sqs`]), and running a
//! workload, closed-loop or at a fixed rate, with a progress line.

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet};
use std::io::{IsTerminal, Write as _};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use serde::Serialize;
use tokio::sync::oneshot;

use super::body::{self, ValuePool};
use super::client::{Client, ClientConfig, Op, Reply};
use super::dist::{Distribution, KeyChooser, Rng};
use super::sqs;
use super::stats::{Interval, Latency, Slot, Totals};
use super::workload::{OpKind, Workload};

/// Items per BatchWriteItem (DynamoDB's maximum).
pub const BATCH_ITEMS: usize = 25;
/// Attempts at one load batch (throttling, unprocessed items, errors).
const LOAD_ATTEMPTS: u32 = 10;
/// A worker gives up after this many operations in a row that could not
/// even connect.
const CONNECT_FAILURES_MAX: u32 = 3;

/// Everything a run needs, resolved from the command line.
#[derive(Clone, Debug)]
pub struct Config {
    pub client: Arc<ClientConfig>,
    pub table: String,
    /// The SQS workloads' queue name.
    pub queue: String,
    /// Its URL, from CreateQueue's reply (set by [`super::sqs::setup`]).
    pub queue_url: String,
    pub records: u64,
    pub value_bytes: usize,
    pub concurrency: usize,
    pub duration: Duration,
    pub warmup: Duration,
    /// Total operations per second for a fixed-rate (open-loop) run.
    pub rate: Option<f64>,
    pub distribution: Distribution,
    pub consistent_read: bool,
    pub seed: u64,
    pub progress: bool,
    /// How long to wait for a created table to become ACTIVE.
    pub table_wait: Duration,
}

/// The live progress line on stderr: redrawn in place on a terminal, one
/// line per second otherwise.
#[derive(Clone, Copy, Debug)]
pub struct Progress {
    enabled: bool,
    tty: bool,
}

impl Progress {
    pub fn new(enabled: bool) -> Self {
        Self {
            enabled,
            tty: std::io::stderr().is_terminal(),
        }
    }

    pub(crate) fn line(&self, text: &str) {
        if !self.enabled {
            return;
        }
        let mut err = std::io::stderr().lock();
        let _ = if self.tty {
            write!(err, "\r\x1b[2K{text}")
        } else {
            writeln!(err, "{text}")
        };
        let _ = err.flush();
    }

    pub(crate) fn done(&self) {
        if self.enabled && self.tty {
            eprintln!();
        }
    }
}

fn lock(m: &Mutex<Slot>) -> MutexGuard<'_, Slot> {
    // A worker never panics while holding its slot; if one did, its
    // counters are still worth reporting.
    m.lock().unwrap_or_else(|e| e.into_inner())
}

pub(crate) fn seconds(d: Duration) -> f64 {
    (d.as_secs_f64() * 1000.0).round() / 1000.0
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// Items in a BatchWriteItem reply's `UnprocessedItems`, and the reply
/// itself (re-sendable as `RequestItems`) when there are some.
fn unprocessed(body: &[u8]) -> (u64, Option<serde_json::Value>) {
    if contains(body, br#""UnprocessedItems":{}"#) {
        return (0, None);
    }
    let Ok(mut v) = serde_json::from_slice::<serde_json::Value>(body) else {
        return (0, None);
    };
    let Some(items) = v.get_mut("UnprocessedItems").map(serde_json::Value::take) else {
        return (0, None);
    };
    let n = items
        .as_object()
        .map(|tables| {
            tables
                .values()
                .filter_map(serde_json::Value::as_array)
                .map(|a| a.len() as u64)
                .sum()
        })
        .unwrap_or(0);
    (n, (n > 0).then_some(items))
}

// ---------------------------------------------------------------- table

/// What DescribeTable said.
enum TableState {
    Missing,
    Status(String),
    /// A 200 reply that names no table (a stand-in server).
    Unknown,
}

async fn describe(client: &mut Client, table: &str) -> Result<TableState, String> {
    let mut buf = Vec::new();
    body::describe_table(&mut buf, table);
    let reply = client
        .call(Op::DescribeTable, &buf)
        .await
        .map_err(|e| format!("DescribeTable: {e}"))?;
    if !reply.is_success() {
        let ty = reply.error_type();
        if ty == "ResourceNotFoundException" {
            return Ok(TableState::Missing);
        }
        return Err(format!(
            "DescribeTable {table}: {ty}: {}",
            String::from_utf8_lossy(reply.body)
        ));
    }
    let v: serde_json::Value = serde_json::from_slice(reply.body).unwrap_or_default();
    let Some(t) = v.get("Table") else {
        return Ok(TableState::Unknown);
    };
    let key = |name: &str| {
        t["KeySchema"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|k| k["AttributeName"] == name)
            .and_then(|k| k["KeyType"].as_str())
            .map(str::to_owned)
    };
    if key("pk").as_deref() != Some("HASH") || key("sk").as_deref() != Some("RANGE") {
        return Err(format!(
            "table {table} exists with another key schema (want pk HASH, sk RANGE): use --table"
        ));
    }
    Ok(TableState::Status(
        t["TableStatus"].as_str().unwrap_or("UNKNOWN").to_owned(),
    ))
}

/// Create the table if it is missing and wait (bounded) until it is ACTIVE.
/// Returns whether it was created.
pub async fn ensure_table(cfg: &Config) -> Result<bool, String> {
    let mut client = Client::new(cfg.client.clone());
    let mut created = false;
    match describe(&mut client, &cfg.table).await? {
        TableState::Status(s) if s == "ACTIVE" => return Ok(false),
        TableState::Unknown => return Ok(false),
        TableState::Status(_) => {}
        TableState::Missing => {
            let mut buf = Vec::new();
            body::create_table(&mut buf, &cfg.table);
            let reply = client
                .call(Op::CreateTable, &buf)
                .await
                .map_err(|e| format!("CreateTable: {e}"))?;
            if !reply.is_success() && reply.error_type() != "ResourceInUseException" {
                return Err(format!(
                    "CreateTable {}: {}",
                    cfg.table,
                    String::from_utf8_lossy(reply.body)
                ));
            }
            created = true;
        }
    }
    let deadline = Instant::now() + cfg.table_wait;
    loop {
        match describe(&mut client, &cfg.table).await? {
            TableState::Status(s) if s == "ACTIVE" => return Ok(created),
            TableState::Unknown => return Ok(created),
            _ => {}
        }
        if Instant::now() >= deadline {
            return Err(format!(
                "table {} not ACTIVE after {:?}",
                cfg.table, cfg.table_wait
            ));
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

/// Fail early, with a useful message, when the table is not there.
pub async fn check_table(cfg: &Config) -> Result<(), String> {
    let mut client = Client::new(cfg.client.clone());
    match describe(&mut client, &cfg.table).await? {
        TableState::Missing => Err(format!(
            "table {} does not exist: load it first with --load",
            cfg.table
        )),
        _ => Ok(()),
    }
}

// ---------------------------------------------------------------- load

#[derive(Clone, Debug, Serialize)]
pub struct LoadReport {
    pub table_created: bool,
    pub items: u64,
    pub failed_items: u64,
    pub seconds: f64,
    pub items_per_s: f64,
    /// BatchWriteItem requests resent (unprocessed items, throttling,
    /// errors).
    pub retries: u64,
    pub errors: BTreeMap<String, u64>,
}

/// What the workers of a batch-loading phase (the table's load, a queue's
/// prefill) share: the next batch to take and what became of the items.
#[derive(Default)]
pub(crate) struct LoadCounters {
    pub(crate) next_batch: AtomicU64,
    pub(crate) loaded: AtomicU64,
    pub(crate) failed: AtomicU64,
    retries: AtomicU64,
    errors: Mutex<BTreeMap<String, u64>>,
}

impl LoadCounters {
    pub(crate) fn error(&self, ty: &str) {
        let mut e = self.errors.lock().unwrap_or_else(|e| e.into_inner());
        *e.entry(ty.to_owned()).or_default() += 1;
    }

    /// The batch to write next, while there is one.
    pub(crate) fn take(&self, batches: u64) -> Option<u64> {
        let b = self.next_batch.fetch_add(1, Ordering::Relaxed);
        (b < batches).then_some(b)
    }

    /// A batch of `n` items is finished, `failed` of them not written.
    pub(crate) fn finished(&self, n: u64, failed: u64) {
        self.loaded.fetch_add(n - failed, Ordering::Relaxed);
        self.failed.fetch_add(failed, Ordering::Relaxed);
    }
}

pub(crate) fn retryable(error_type: &str) -> bool {
    matches!(
        error_type,
        "ProvisionedThroughputExceededException"
            | "ThrottlingException"
            | "RequestLimitExceeded"
            | "InternalServerError"
            | "ServiceUnavailable"
            | "Timeout"
            | "ConnectionError"
            | "ConnectError"
    ) || error_type.starts_with("HTTP 5")
}

/// The attempts at one load batch: at most `LOAD_ATTEMPTS`, with
/// exponential backoff and jitter between them.
pub(crate) struct Attempts {
    made: u32,
    backoff_ms: u64,
}

impl Attempts {
    pub(crate) fn new() -> Self {
        Self {
            made: 0,
            backoff_ms: 25,
        }
    }

    /// Wait before the next attempt (not before the first); false when
    /// none is left.
    pub(crate) async fn next(&mut self, rng: &mut Rng, counters: &LoadCounters) -> bool {
        if self.made == LOAD_ATTEMPTS {
            return false;
        }
        if self.made > 0 {
            counters.retries.fetch_add(1, Ordering::Relaxed);
            let jitter = rng.below(self.backoff_ms + 1);
            tokio::time::sleep(Duration::from_millis(self.backoff_ms + jitter)).await;
            self.backoff_ms = (self.backoff_ms * 2).min(2_000);
        }
        self.made += 1;
        true
    }
}

/// One attempt at a batch: its successful reply, or (the failure counted)
/// whether it is worth another attempt.
pub(crate) async fn attempt<'c>(
    client: &'c mut Client,
    op: Op,
    request: &[u8],
    counters: &LoadCounters,
) -> Result<Reply<'c>, bool> {
    let reply = match client.call(op, request).await {
        Ok(r) => r,
        Err(e) => {
            counters.error(e.kind());
            return Err(true);
        }
    };
    if !reply.is_success() {
        let ty = reply.error_type();
        counters.error(&ty);
        return Err(retryable(&ty));
    }
    Ok(reply)
}

/// Write one batch, resending unprocessed items and retryable failures.
/// Returns the items that could not be written.
async fn load_batch(
    client: &mut Client,
    mut request: Vec<u8>,
    mut items: u64,
    rng: &mut Rng,
    counters: &LoadCounters,
) -> u64 {
    let mut attempts = Attempts::new();
    while attempts.next(rng, counters).await {
        let reply = match attempt(client, Op::BatchWriteItem, &request, counters).await {
            Ok(r) => r,
            Err(true) => continue,
            Err(false) => return items,
        };
        match unprocessed(reply.body) {
            (0, _) | (_, None) => return 0,
            (n, Some(rest)) => {
                items = n;
                request = serde_json::to_vec(&serde_json::json!({ "RequestItems": rest }))
                    .unwrap_or_default();
            }
        }
    }
    items
}

/// A batch-loading phase: `cfg.concurrency` workers (at most one per
/// batch), each `worker(w, counters)` taking batches until none is left,
/// and a progress line `[  3s] {phase} {rate} {unit}/s  {done}/{total}`.
/// Returns the counters and how long it took.
pub(crate) async fn load_phase<W, Fut>(
    cfg: &Config,
    batches: u64,
    total: u64,
    (phase, unit): (&'static str, &'static str),
    worker: W,
) -> Result<(Arc<LoadCounters>, Duration), String>
where
    W: Fn(usize, Arc<LoadCounters>) -> Fut,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    let counters = Arc::new(LoadCounters::default());
    let start = Instant::now();
    let workers: Vec<_> = (0..cfg.concurrency.min(batches as usize).max(1))
        .map(|w| tokio::spawn(worker(w, counters.clone())))
        .collect();
    let progress = Progress::new(cfg.progress);
    let reporter = {
        let counters = counters.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_secs(1));
            tick.tick().await;
            let mut last = (Instant::now(), 0u64);
            loop {
                tick.tick().await;
                let now = Instant::now();
                let loaded = counters.loaded.load(Ordering::Relaxed);
                let rate = (loaded - last.1) as f64 / (now - last.0).as_secs_f64();
                last = (now, loaded);
                progress.line(&format!(
                    "[{:>5.0}s] {phase} {rate:>9.0} {unit}/s  {loaded}/{total} ({:.0}%)  failed {}",
                    (now - start).as_secs_f64(),
                    loaded as f64 * 100.0 / total.max(1) as f64,
                    counters.failed.load(Ordering::Relaxed),
                ));
            }
        })
    };
    for w in workers {
        w.await.map_err(|e| format!("{phase} worker: {e}"))?;
    }
    reporter.abort();
    progress.done();
    Ok((counters, start.elapsed()))
}

impl Config {
    /// What worker `w` of a phase starts with: its own random stream (from
    /// the seed), values to write, and a client.
    pub(crate) fn worker_tools(&self, w: usize) -> (Rng, ValuePool, Client) {
        let mut rng = Rng::new(self.seed ^ (w as u64 + 1).wrapping_mul(0x9e37_79b9_7f4a_7c15));
        let values = ValuePool::new(&mut rng, self.value_bytes);
        (rng, values, Client::new(self.client.clone()))
    }
}

impl LoadReport {
    pub(crate) fn of(counters: &LoadCounters, elapsed: Duration, table_created: bool) -> Self {
        let items = counters.loaded.load(Ordering::Relaxed);
        Self {
            table_created,
            items,
            failed_items: counters.failed.load(Ordering::Relaxed),
            seconds: seconds(elapsed),
            items_per_s: (items as f64 / elapsed.as_secs_f64()).round(),
            retries: counters.retries.load(Ordering::Relaxed),
            errors: counters
                .errors
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .clone(),
        }
    }
}

/// Load records `0..records` with concurrent BatchWriteItems.
pub async fn load(cfg: Arc<Config>) -> Result<LoadReport, String> {
    let table_created = ensure_table(&cfg).await?;
    let batches = cfg.records.div_ceil(BATCH_ITEMS as u64);
    let (counters, elapsed) = load_phase(
        &cfg,
        batches,
        cfg.records,
        ("load", "items"),
        |w, counters| {
            let cfg = cfg.clone();
            async move {
                let (mut rng, values, mut client) = cfg.worker_tools(w);
                let mut ids = Vec::with_capacity(BATCH_ITEMS);
                while let Some(b) = counters.take(batches) {
                    ids.clear();
                    ids.extend(
                        b * BATCH_ITEMS as u64..((b + 1) * BATCH_ITEMS as u64).min(cfg.records),
                    );
                    let mut request = Vec::with_capacity(BATCH_ITEMS * (cfg.value_bytes + 100));
                    body::batch_write(&mut request, &cfg.table, &ids, &values, &mut rng);
                    let n = ids.len() as u64;
                    let failed = load_batch(&mut client, request, n, &mut rng, &counters).await;
                    counters.finished(n, failed);
                }
            }
        },
    )
    .await?;
    Ok(LoadReport::of(&counters, elapsed, table_created))
}

// ---------------------------------------------------------------- run

/// The key space as workers see it while records are inserted (YCSB's
/// acknowledged counter): reads choose from `0..acked`, and `acked` only
/// moves past an id once every insert below it has finished, so a read
/// never picks a record whose insert is still in flight.
struct Keys {
    acked: AtomicU64,
    next_insert: AtomicU64,
    /// Finished inserts above `acked`, waiting for the ones below them.
    /// Bounded by the inserts in flight (at most one per worker).
    finished: Mutex<BTreeSet<u64>>,
}

impl Keys {
    fn new(records: u64) -> Self {
        Self {
            acked: AtomicU64::new(records),
            next_insert: AtomicU64::new(records),
            finished: Mutex::new(BTreeSet::new()),
        }
    }

    /// Insert `id` has finished (failed ones too, as in YCSB: a failed
    /// insert leaves a hole that reads may miss, rather than stopping the
    /// key space from growing).
    fn finish(&self, id: u64) {
        let mut finished = self.finished.lock().unwrap_or_else(|e| e.into_inner());
        finished.insert(id);
        let mut acked = self.acked.load(Ordering::Relaxed);
        while finished.remove(&acked) {
            acked += 1;
        }
        self.acked.store(acked, Ordering::Relaxed);
    }
}

/// What one operation found besides success.
#[derive(Default)]
struct Found {
    misses: u64,
    unprocessed: u64,
    /// SQS messages received and deleted.
    messages: u64,
    /// A ReceiveMessage that returned nothing.
    empty_receives: u64,
}

enum Check {
    Nothing,
    Item,
    Unprocessed,
}

type OpError = Cow<'static, str>;

struct Worker {
    cfg: Arc<Config>,
    workload: Workload,
    kinds: Vec<OpKind>,
    keys: Arc<Keys>,
    slot: Arc<Mutex<Slot>>,
    client: Client,
    rng: Rng,
    chooser: KeyChooser,
    values: ValuePool,
    body: Vec<u8>,
    ids: Vec<u64>,
    /// The queue URL as a JSON string literal.
    queue_url: String,
    /// Receipt handles of the last ReceiveMessage.
    handles: Vec<String>,
}

struct WorkerEnd {
    reconnects: u64,
    gave_up: Option<String>,
    /// Fixed rate: operations due before the end that were never sent
    /// because the worker was still behind schedule at the end.
    unsent: u64,
}

/// One request of an operation: its reply if it succeeded, else the name
/// its failure is counted under.
async fn call_ok<'c>(client: &'c mut Client, op: Op, body: &[u8]) -> Result<Reply<'c>, OpError> {
    let reply = client
        .call(op, body)
        .await
        .map_err(|e| Cow::Borrowed(e.kind()))?;
    if !reply.is_success() {
        return Err(Cow::Owned(reply.error_type()));
    }
    Ok(reply)
}

impl Worker {
    fn pick(&mut self) -> u64 {
        let n = self.keys.acked.load(Ordering::Relaxed).max(1);
        self.chooser.next(&mut self.rng, n)
    }

    async fn send(&mut self, op: Op, check: Check) -> Result<Found, OpError> {
        let reply = call_ok(&mut self.client, op, &self.body).await?;
        Ok(match check {
            Check::Nothing => Found::default(),
            Check::Item => Found {
                misses: u64::from(!contains(reply.body, br#""Item""#)),
                ..Found::default()
            },
            Check::Unprocessed => Found {
                unprocessed: unprocessed(reply.body).0,
                ..Found::default()
            },
        })
    }

    async fn execute(&mut self, kind: OpKind) -> Result<Found, OpError> {
        let consistent = self.cfg.consistent_read;
        self.body.clear();
        match kind {
            OpKind::Get => {
                let id = self.pick();
                body::get_item(&mut self.body, &self.cfg.table, id, consistent);
                self.send(Op::GetItem, Check::Item).await
            }
            OpKind::Put => {
                let id = self.pick();
                let value = self.values.value(&mut self.rng);
                body::put_item(&mut self.body, &self.cfg.table, id, value);
                self.send(Op::PutItem, Check::Nothing).await
            }
            OpKind::Update => {
                let id = self.pick();
                let value = self.values.value(&mut self.rng);
                body::update_item(&mut self.body, &self.cfg.table, id, value);
                self.send(Op::UpdateItem, Check::Nothing).await
            }
            OpKind::Insert => {
                let id = self.keys.next_insert.fetch_add(1, Ordering::Relaxed);
                let value = self.values.value(&mut self.rng);
                body::put_item(&mut self.body, &self.cfg.table, id, value);
                let result = self.send(Op::PutItem, Check::Nothing).await;
                self.keys.finish(id);
                result
            }
            OpKind::Query => {
                let partition = body::partition_of(self.pick());
                body::query(&mut self.body, &self.cfg.table, partition, None, consistent);
                self.send(Op::Query, Check::Nothing).await
            }
            OpKind::Scan => {
                let partition = body::partition_of(self.pick());
                let limit = 1 + self.rng.below(10) as u32;
                body::query(
                    &mut self.body,
                    &self.cfg.table,
                    partition,
                    Some(limit),
                    consistent,
                );
                self.send(Op::Query, Check::Nothing).await
            }
            OpKind::ReadModifyWrite => {
                let id = self.pick();
                body::get_item(&mut self.body, &self.cfg.table, id, consistent);
                let read = self.send(Op::GetItem, Check::Item).await?;
                self.body.clear();
                let value = self.values.value(&mut self.rng);
                body::update_item(&mut self.body, &self.cfg.table, id, value);
                self.send(Op::UpdateItem, Check::Nothing).await?;
                Ok(read)
            }
            OpKind::BatchWrite => {
                let records = self.keys.acked.load(Ordering::Relaxed).max(1);
                let n = BATCH_ITEMS.min(records as usize);
                let mut ids = std::mem::take(&mut self.ids);
                let chooser = &mut self.chooser;
                body::distinct_ids(&mut ids, n, records, &mut self.rng, |rng| {
                    chooser.next(rng, records)
                });
                body::batch_write(
                    &mut self.body,
                    &self.cfg.table,
                    &ids,
                    &self.values,
                    &mut self.rng,
                );
                self.ids = ids;
                self.send(Op::BatchWriteItem, Check::Unprocessed).await
            }
            OpKind::SqsSend => {
                let value = self.values.value(&mut self.rng);
                sqs::send_message(&mut self.body, &self.queue_url, value);
                self.send(Op::SendMessage, Check::Nothing).await
            }
            OpKind::SqsReceiveDelete => self.receive_delete().await,
        }
    }

    /// ReceiveMessage (up to 10, no wait), then DeleteMessageBatch of what
    /// came back. A reply that cannot be read, or a delete entry that
    /// failed, is an error of the operation.
    async fn receive_delete(&mut self) -> Result<Found, OpError> {
        sqs::receive_message(&mut self.body, &self.queue_url);
        let reply = call_ok(&mut self.client, Op::ReceiveMessage, &self.body).await?;
        sqs::receipt_handles(reply.body, &mut self.handles).map_err(Cow::Owned)?;
        if self.handles.is_empty() {
            return Ok(Found {
                empty_receives: 1,
                ..Found::default()
            });
        }
        self.body.clear();
        sqs::delete_message_batch(&mut self.body, &self.queue_url, &self.handles);
        let reply = call_ok(&mut self.client, Op::DeleteMessageBatch, &self.body).await?;
        let deleted = sqs::batch_outcome(Op::DeleteMessageBatch, reply.body, self.handles.len())
            .map_err(Cow::Owned)?;
        Ok(Found {
            messages: deleted as u64,
            ..Found::default()
        })
    }

    /// Run until `end`. Closed loop: the next operation starts when the
    /// previous one is answered, and its latency counts from its start.
    ///
    /// Fixed rate: operation `j` of worker `w` is due at
    /// `t0 + (w + j * concurrency) / rate` and is sent then, or at once if
    /// the previous reply came later. Its corrected latency is the time
    /// from its due time to when it would have been answered had every
    /// request on this connection been sent exactly on schedule: the
    /// connection is replayed as a queue, each request starting at its due
    /// time or when the previous one (so replayed) finished, whichever is
    /// later, and taking the service time that was measured. A stall so
    /// delays every request due during it (coordinated omission is
    /// corrected), while the generator's own lateness (tokio's timers have
    /// millisecond granularity) is charged to nobody.
    async fn run(
        mut self,
        t0: Instant,
        measure_from: Instant,
        end: Instant,
        w: usize,
    ) -> WorkerEnd {
        let rate = self.cfg.rate;
        let mut connect_failures = 0;
        let mut due = rate.map(|r| t0 + Duration::from_secs_f64(w as f64 / r));
        let interval = rate.map(|r| Duration::from_secs_f64(self.cfg.concurrency as f64 / r));
        // When the previous request would have finished, sent on schedule.
        let mut replayed_done = t0;
        let mut unsent = 0;
        loop {
            let mut sent = Instant::now();
            let mut scheduled = None;
            if let (Some(d), Some(step)) = (due.as_mut(), interval) {
                if *d >= end {
                    break;
                }
                if sent >= end {
                    // Still behind at the end: the run stops on time, and
                    // the operations it owed are reported, not sent.
                    let owed = end.duration_since(*d).as_secs_f64() / step.as_secs_f64();
                    unsent = owed.ceil() as u64;
                    break;
                }
                if sent < *d {
                    tokio::time::sleep_until((*d).into()).await;
                    sent = Instant::now();
                }
                scheduled = Some(*d);
                *d += step;
            } else if sent >= end {
                break;
            }
            let i = self.workload.pick(&mut self.rng);
            let result = self.execute(self.kinds[i]).await;
            let done = Instant::now();
            let uncorrected = done.duration_since(sent);
            // Fixed rate: how long it queued behind late replies, and its
            // latency from its due time.
            let (backlog, corrected) = match scheduled {
                Some(due) => {
                    let start = due.max(replayed_done);
                    replayed_done = start + uncorrected;
                    (start - due, replayed_done - due)
                }
                None => (Duration::ZERO, uncorrected),
            };
            {
                let mut slot = lock(&self.slot);
                let iv: &mut Interval = if done < measure_from {
                    &mut slot.warmup
                } else {
                    &mut slot.measured
                };
                match &result {
                    Ok(found) => {
                        iv.record_ok(
                            i,
                            corrected.as_micros() as u64,
                            uncorrected.as_micros() as u64,
                        );
                        iv.misses += found.misses;
                        iv.unprocessed += found.unprocessed;
                        iv.messages += found.messages;
                        iv.empty_receives += found.empty_receives;
                    }
                    Err(ty) => iv.record_error(i, ty),
                }
                iv.behind_us_max = iv.behind_us_max.max(backlog.as_micros() as u64);
            }
            match result {
                Err(ty) if ty == "ConnectError" => {
                    connect_failures += 1;
                    if connect_failures >= CONNECT_FAILURES_MAX {
                        return WorkerEnd {
                            reconnects: self.client.reconnects,
                            gave_up: Some(format!(
                                "{CONNECT_FAILURES_MAX} operations in a row could not connect"
                            )),
                            unsent: 0,
                        };
                    }
                }
                _ => connect_failures = 0,
            }
        }
        WorkerEnd {
            reconnects: self.client.reconnects,
            gave_up: None,
            unsent,
        }
    }
}

#[derive(Clone, Debug, Serialize)]
pub struct RunReport {
    /// Seconds measured, after the warmup.
    pub measured_s: f64,
    pub ops: u64,
    pub errors_total: u64,
    pub ops_per_s: f64,
    /// By operation kind (`get`, `update`, ...).
    pub operations: BTreeMap<&'static str, super::stats::OpSummary>,
    pub all: super::stats::OpSummary,
    /// By DynamoDB exception name, or Timeout / ConnectError /
    /// ConnectionError / BadResponse / `HTTP <status>`.
    pub errors: BTreeMap<String, u64>,
    /// GetItem replies without an Item (the record was not loaded).
    pub get_misses: u64,
    pub unprocessed_items: u64,
    /// sqs-receive-delete: messages received and deleted, and per second.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub messages: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub messages_per_s: Option<f64>,
    /// sqs-receive-delete: ReceiveMessages that found the queue empty (it
    /// ran dry: prefill more with --records).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub empty_receives: Option<u64>,
    /// Fixed rate: the longest a request was sent late because the previous
    /// reply on its connection was late.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub behind_schedule_us_max: Option<u64>,
    /// Fixed rate: operations due before the end but never sent, because
    /// the server could not keep up with the rate. Their latencies are
    /// missing from the histograms, so a large count means the corrected
    /// tail is an underestimate.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unsent: Option<u64>,
    pub reconnects: u64,
    pub workers_stopped: usize,
    /// Operation kinds in the workload's order, for printing.
    #[serde(skip)]
    pub order: Vec<&'static str>,
}

impl RunReport {
    /// Why this run measured nothing worth reporting as a figure, if so:
    /// every operation failed (an endpoint that does not serve the API, a
    /// missing queue), or a receive workload received nothing.
    pub fn failure(&self) -> Option<String> {
        if self.ops == 0 && self.errors_total > 0 {
            let (ty, _) = self
                .errors
                .iter()
                .max_by_key(|(_, n)| **n)
                .map_or(("?", &0), |(t, n)| (t.as_str(), n));
            return Some(format!(
                "every operation failed ({} errors, most of them {ty})",
                self.errors_total
            ));
        }
        if self.messages == Some(0) {
            return Some(
                "no message was received in the measured time: the queue was empty (never \
                 filled, or drained during the warmup: prefill more with --load --records N)"
                    .into(),
            );
        }
        None
    }
}

/// Drain every worker's slot into the totals; returns the operations seen.
/// Each slot is swapped for an empty one under its lock and folded in
/// outside it, yielding between workers so that, on a single-threaded
/// runtime, no worker waits for the whole drain.
async fn drain(
    slots: &[Arc<Mutex<Slot>>],
    spares: &mut [Slot],
    warm: &mut Totals,
    measured: &mut Totals,
) -> u64 {
    let mut ops = 0;
    for (slot, spare) in slots.iter().zip(spares.iter_mut()) {
        std::mem::swap(&mut *lock(slot), spare);
        ops += spare.warmup.ops() + spare.measured.ops();
        warm.absorb(&spare.warmup);
        measured.absorb(&spare.measured);
        spare.warmup.clear();
        spare.measured.clear();
        tokio::task::yield_now().await;
    }
    ops
}

/// Run `workload` for the configured warmup + duration.
pub async fn run(cfg: Arc<Config>, workload: Workload) -> Result<RunReport, String> {
    let kinds: Vec<OpKind> = workload.mix().iter().map(|(k, _)| *k).collect();
    let fixed_rate = cfg.rate.is_some();
    let keys = Arc::new(Keys::new(cfg.records));
    let fresh_slot = || Slot {
        warmup: Interval::new(kinds.len(), fixed_rate),
        measured: Interval::new(kinds.len(), fixed_rate),
    };

    // Connect every worker before the clock starts.
    let mut workers = Vec::with_capacity(cfg.concurrency);
    let mut slots = Vec::with_capacity(cfg.concurrency);
    for w in 0..cfg.concurrency {
        let (rng, values, mut client) = cfg.worker_tools(w);
        client
            .connect()
            .await
            .map_err(|e| format!("worker {w}: {e}"))?;
        let slot = Arc::new(Mutex::new(fresh_slot()));
        slots.push(slot.clone());
        workers.push(Worker {
            cfg: cfg.clone(),
            workload,
            kinds: kinds.clone(),
            keys: keys.clone(),
            slot,
            client,
            rng,
            chooser: KeyChooser::new(cfg.distribution, cfg.records),
            values,
            body: Vec::with_capacity(BATCH_ITEMS * (cfg.value_bytes + 100)),
            ids: Vec::with_capacity(BATCH_ITEMS),
            queue_url: sqs::json_string(&cfg.queue_url),
            handles: Vec::with_capacity(sqs::BATCH_MESSAGES),
        });
    }

    let t0 = Instant::now();
    let measure_from = t0 + cfg.warmup;
    let end = measure_from + cfg.duration;
    let handles: Vec<_> = workers
        .into_iter()
        .enumerate()
        .map(|(w, worker)| tokio::spawn(worker.run(t0, measure_from, end, w)))
        .collect();

    let (stop_tx, mut stop_rx) = oneshot::channel::<()>();
    let progress = Progress::new(cfg.progress);
    let reporter = {
        let slots = slots.clone();
        let kinds = kinds.len();
        tokio::spawn(async move {
            let mut spares: Vec<Slot> = (0..slots.len())
                .map(|_| Slot {
                    warmup: Interval::new(kinds, fixed_rate),
                    measured: Interval::new(kinds, fixed_rate),
                })
                .collect();
            let mut warm = Totals::new(kinds, fixed_rate);
            let mut measured = Totals::new(kinds, fixed_rate);
            let mut tick = tokio::time::interval_at(
                (t0 + Duration::from_secs(1)).into(),
                Duration::from_secs(1),
            );
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
            let mut last = t0;
            loop {
                tokio::select! {
                    _ = tick.tick() => {}
                    _ = &mut stop_rx => break,
                }
                let now = Instant::now();
                let ops = drain(&slots, &mut spares, &mut warm, &mut measured).await;
                let per_s = ops as f64 / now.duration_since(last).as_secs_f64();
                last = now;
                let (phase, totals) = if now < measure_from {
                    ("warmup", &warm)
                } else {
                    ("run", &measured)
                };
                let p99 = Latency::of(&totals.all.latency).map_or(0, |l| l.p99);
                let behind = if fixed_rate && totals.behind_us_max > 0 {
                    format!("  behind {} ms", totals.behind_us_max / 1000)
                } else {
                    String::new()
                };
                progress.line(&format!(
                    "[{:>5.0}s] {phase:<6} {per_s:>9.0} ops/s  errors {}  p99 {p99} us  ops {}{behind}",
                    now.duration_since(t0).as_secs_f64(),
                    totals.all.errors,
                    totals.all.ok + totals.all.errors,
                ));
            }
            drain(&slots, &mut spares, &mut warm, &mut measured).await;
            measured
        })
    };

    let mut reconnects = 0;
    let mut unsent = 0;
    let mut stopped = Vec::new();
    for h in handles {
        let end = h.await.map_err(|e| format!("worker: {e}"))?;
        reconnects += end.reconnects;
        unsent += end.unsent;
        if let Some(why) = end.gave_up {
            stopped.push(why);
        }
    }
    let finished = Instant::now();
    let _ = stop_tx.send(());
    let totals = reporter.await.map_err(|e| format!("reporter: {e}"))?;
    progress.done();
    if let Some(why) = stopped.first() {
        eprintln!(
            "tarn-load: {} worker(s) stopped early: {why}",
            stopped.len()
        );
    }
    if stopped.len() == cfg.concurrency && totals.all.ok == 0 {
        return Err(format!("every worker stopped: {}", stopped[0]));
    }

    // Workers stop starting operations at `end`; if they all stopped early
    // the measured time is what actually ran.
    let measured = finished.min(end).saturating_duration_since(measure_from);
    let secs = measured.as_secs_f64();
    let operations = kinds
        .iter()
        .zip(&totals.kinds)
        .map(|(k, t)| (k.name(), super::stats::OpSummary::of(t, secs)))
        .collect();
    let all = super::stats::OpSummary::of(&totals.all, secs);
    let receives = workload == Workload::SqsReceiveDelete;
    Ok(RunReport {
        measured_s: seconds(measured),
        ops: totals.all.ok,
        errors_total: totals.all.errors,
        ops_per_s: all.ops_per_s,
        operations,
        all,
        errors: totals.errors,
        get_misses: totals.misses,
        unprocessed_items: totals.unprocessed,
        messages: receives.then_some(totals.messages),
        messages_per_s: receives.then(|| {
            if secs > 0.0 {
                (totals.messages as f64 / secs * 10.0).round() / 10.0
            } else {
                0.0
            }
        }),
        empty_receives: receives.then_some(totals.empty_receives),
        behind_schedule_us_max: fixed_rate.then_some(totals.behind_us_max),
        unsent: fixed_rate.then_some(unsent),
        reconnects,
        workers_stopped: stopped.len(),
        order: kinds.iter().map(|k| k.name()).collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::load::testing::read_request;
    use tokio::io::AsyncWriteExt;

    /// A server that answers like tarn-ceiling but holds reply `stall_at`
    /// for `stall`.
    async fn stalling_server(stall_at: u64, stall: Duration) -> String {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let url = format!("http://{}", listener.local_addr().expect("addr"));
        tokio::spawn(async move {
            let reply = crate::load::ceiling::reply(10);
            let (mut s, _) = listener.accept().await.expect("accept");
            let mut buf = Vec::new();
            let mut served = 0u64;
            while read_request(&mut s, &mut buf).await.is_some() {
                served += 1;
                if served == stall_at {
                    tokio::time::sleep(stall).await;
                }
                if s.write_all(&reply).await.is_err() {
                    return;
                }
            }
        });
        url
    }

    fn config(url: &str, rate: Option<f64>, duration: Duration) -> Arc<Config> {
        Arc::new(Config {
            rate,
            duration,
            ..crate::load::testing::config(url, "dynamodb")
        })
    }

    #[tokio::test]
    async fn a_fixed_rate_run_charges_a_stall_to_the_requests_queued_behind_it() {
        let url = stalling_server(100, Duration::from_millis(300)).await;
        let cfg = config(&url, Some(1000.0), Duration::from_millis(1500));
        let report = run(cfg, Workload::Get).await.expect("run");
        let get = &report.operations["get"];
        let corrected = get.latency_us.as_ref().expect("corrected");
        let uncorrected = get.latency_uncorrected_us.as_ref().expect("uncorrected");
        // One request took 300 ms; the ~300 due during the stall waited
        // for it. Corrected, a fifth of the run is slow; uncorrected, one
        // request in 1500 is.
        assert!(uncorrected.max >= 290_000, "{uncorrected:?}");
        assert!(uncorrected.p90 < 50_000, "{uncorrected:?}");
        assert!(corrected.p90 > 50_000, "{corrected:?}");
        assert!(
            report.behind_schedule_us_max.expect("fixed rate") > 250_000,
            "{report:?}"
        );
        // The schedule was kept: about 1000 operations a second.
        assert!((1300..=1600).contains(&get.count), "{}", get.count);
    }

    #[tokio::test]
    async fn a_fixed_rate_run_that_falls_behind_stops_on_time_and_says_so() {
        // The tenth reply of a 500 ms run at 2000/s comes after 600 ms: the
        // rest of the schedule is still owed when the run ends.
        let url = stalling_server(10, Duration::from_millis(600)).await;
        let cfg = config(&url, Some(2000.0), Duration::from_millis(500));
        let started = Instant::now();
        let report = run(cfg, Workload::Get).await.expect("run");
        assert!(started.elapsed() < Duration::from_millis(1500), "ran on");
        let unsent = report.unsent.expect("fixed rate");
        let count = report.operations["get"].count;
        assert!(unsent > 0, "{report:?}");
        // Sent and unsent together are the schedule: 1000 operations.
        assert!(
            (990..=1010).contains(&(count + unsent)),
            "{count} + {unsent}"
        );
    }

    #[tokio::test]
    async fn a_closed_loop_run_reports_one_histogram_and_counts_ops() {
        let url = stalling_server(u64::MAX, Duration::ZERO).await;
        let cfg = config(&url, None, Duration::from_millis(300));
        let report = run(cfg, Workload::Get).await.expect("run");
        let get = &report.operations["get"];
        assert!(get.count > 100, "{}", get.count);
        assert!(get.latency_uncorrected_us.is_none());
        assert_eq!(report.errors_total, 0);
        assert_eq!(report.get_misses, 0, "the reply has an Item");
        assert!(report.behind_schedule_us_max.is_none());
        assert!(report.unsent.is_none());
    }

    #[test]
    fn the_key_space_grows_only_past_finished_inserts() {
        let keys = Keys::new(100);
        let ids: Vec<u64> = (0..3)
            .map(|_| keys.next_insert.fetch_add(1, Ordering::Relaxed))
            .collect();
        assert_eq!(ids, [100, 101, 102]);
        keys.finish(102);
        keys.finish(101);
        assert_eq!(keys.acked.load(Ordering::Relaxed), 100, "100 is in flight");
        keys.finish(100);
        assert_eq!(keys.acked.load(Ordering::Relaxed), 103);
        assert!(keys.finished.lock().expect("lock").is_empty());
    }

    #[test]
    fn unprocessed_items_are_counted_and_resendable() {
        assert_eq!(unprocessed(br#"{"UnprocessedItems":{}}"#).0, 0);
        assert_eq!(unprocessed(br#"{"UnprocessedItems": {}}"#).0, 0);
        assert_eq!(unprocessed(br#"{"Item":{}}"#).0, 0);
        assert_eq!(unprocessed(b"not json").0, 0);
        let (n, rest) = unprocessed(
            br#"{"UnprocessedItems":{"t":[{"PutRequest":{"Item":{}}},{"PutRequest":{"Item":{}}}]}}"#,
        );
        assert_eq!(n, 2);
        assert_eq!(rest.expect("rest")["t"].as_array().map(Vec::len), Some(2));
    }

    #[test]
    fn throttling_and_server_errors_are_retried_validation_is_not() {
        assert!(retryable("ProvisionedThroughputExceededException"));
        assert!(retryable("HTTP 503"));
        assert!(retryable("Timeout"));
        assert!(!retryable("ValidationException"));
        assert!(!retryable("ResourceNotFoundException"));
    }
}
