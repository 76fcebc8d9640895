//! The shared state of a running server: the engine, the ARNs of its
//! account and region, and request ids. Every service module reads it;
//! it imports no service.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use tarn_core::arn::Arns;
use tarn_core::outbox::Outbox;
use tarn_lambda::{Lambda, LogSink};

/// Events one turn of the log retention sweeper removes at most.
const LOGS_SWEEP_EVENTS_MAX: usize = 10_000;
/// How often the log retention sweeper looks for expired events.
const LOGS_SWEEP_INTERVAL: std::time::Duration = std::time::Duration::from_secs(60);

/// Shared state of a running server.
pub struct App {
    /// The storage engine.
    pub engine: tarn_engine::Engine,
    /// The ARNs of the server's account and region (`--account-id`,
    /// `--region`), which every service names its resources with.
    pub arns: Arns,
    /// The owner of every background loop of the event-side services;
    /// stopped and joined before the engine is flushed at shutdown.
    pub runner: Arc<tarn_core::runner::Runner>,
    /// Work services hand each other, written in the batch of its cause
    /// (one per engine).
    pub outbox: Outbox,
    /// SQS queues and messages.
    pub sqs: tarn_sqs::Sqs,
    /// Functions, started by [`App::start_lambda`] (or with defaults at
    /// first use).
    lambda: std::sync::Mutex<Option<Arc<Lambda>>>,
    request_seq: AtomicU64,
    request_seed: u64,
    address: std::sync::OnceLock<String>,
    iterator_ttl_ms: AtomicU64,
    logs: std::sync::OnceLock<tarn_logs::Logs>,
    iam: std::sync::OnceLock<tarn_iam::Iam>,
    /// Itself, for what must reach the server without keeping it alive
    /// (function instances' Runtime API endpoints).
    me: std::sync::Weak<App>,
}

impl App {
    /// Wraps an engine for serving.
    ///
    /// # Panics
    /// If the services' store keyspaces cannot be opened; servers use
    /// [`App::try_new`], this is for tests on in-memory engines.
    pub fn new(engine: tarn_engine::Engine, region: String, account_id: String) -> Arc<App> {
        match App::try_new(engine, region, account_id) {
            Ok(app) => app,
            Err(e) => panic!("cannot open the services' storage: {e}"),
        }
    }

    /// Wraps an engine for serving, opening the services' storage.
    pub fn try_new(
        engine: tarn_engine::Engine,
        region: String,
        account_id: String,
    ) -> Result<Arc<App>, String> {
        let arns = Arns::new(region, account_id);
        let outbox = Outbox::open(&engine.store()).map_err(|e| e.to_string())?;
        let sqs = tarn_sqs::Sqs::open(&engine, arns.clone()).map_err(|e| e.to_string())?;
        let request_seed = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(0)
            ^ u64::from(std::process::id());
        Ok(Arc::new_cyclic(|me| App {
            me: me.clone(),
            engine,
            arns,
            runner: Arc::new(tarn_core::runner::Runner::new()),
            outbox,
            sqs,
            lambda: std::sync::Mutex::new(None),
            request_seq: AtomicU64::new(0),
            request_seed,
            address: std::sync::OnceLock::new(),
            iterator_ttl_ms: AtomicU64::new(tarn_streams::ITERATOR_TTL_MS),
            logs: std::sync::OnceLock::new(),
            iam: std::sync::OnceLock::new(),
        }))
    }

    /// Starts the services' background loops (outbox drainers, sweepers)
    /// on the runner; call once, inside the runtime, before serving.
    pub fn start_background(&self) {
        self.sqs.start(&self.runner, self.outbox.clone());
        // Opening the logs starts their retention sweeper (inside the
        // runtime, which this is).
        if let Err(e) = self.logs() {
            tracing::warn!(error = %e, "cannot open the logs' storage");
        }
    }

    /// Starts the Lambda service: function code under
    /// `options.functions_dir`, the asynchronous-invoke drainer on the
    /// runner. Call it inside the tokio runtime, after
    /// [`App::set_address`]. A second call returns the running service.
    pub fn start_lambda(&self, options: LambdaOptions) -> Result<Arc<Lambda>, tarn_lambda::Error> {
        let mut slot = self
            .lambda
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(l) = slot.as_ref() {
            return Ok(Arc::clone(l));
        }
        let settings = tarn_lambda::Settings {
            exec: tarn_lambda::ExecSettings {
                address: self.address().to_owned(),
                endpoints: Arc::new(crate::lambda::Endpoints::new(self.me.clone())),
                region: self.region().to_owned(),
                python: options.python,
                node: options.node,
                concurrency_max: options.concurrency_max,
                runtimes_dir: options.functions_dir.join(".runtimes"),
            },
            functions_dir: options.functions_dir,
            retry_delay_ms: options.retry_delay_ms,
        };
        let lambda = Lambda::open(
            &self.engine,
            &self.outbox,
            &self.arns,
            Arc::clone(&self.runner),
            options.sink,
            settings,
        )?;
        lambda.start();
        *slot = Some(Arc::clone(&lambda));
        Ok(lambda)
    }

    /// The Lambda service, started with [`LambdaOptions::default`] if
    /// nothing started it.
    pub fn lambda(&self) -> Result<Arc<Lambda>, tarn_lambda::Error> {
        if let Some(l) = self
            .lambda
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .as_ref()
        {
            return Ok(Arc::clone(l));
        }
        self.start_lambda(LambdaOptions::default())
    }

    /// Kills every function instance (Tarn is stopping: their long polls
    /// must not hold the server's graceful shutdown).
    pub fn stop_functions(&self) {
        if let Some(l) = self
            .lambda
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .as_ref()
        {
            l.stop();
        }
    }

    /// The region the server answers for.
    pub fn region(&self) -> &str {
        self.arns.region()
    }

    /// The account the server answers for.
    pub fn account_id(&self) -> &str {
        self.arns.account()
    }

    /// CloudWatch Logs (opened on first use: its keyspaces are created
    /// then). Lambda writes function output through it.
    pub fn logs(&self) -> Result<&tarn_logs::Logs, tarn_logs::Error> {
        if let Some(logs) = self.logs.get() {
            return Ok(logs);
        }
        let opened = tarn_logs::Logs::open(&self.engine.store())?;
        // A racing opener may have won; either instance is the same store.
        let mut first = false;
        let logs = self.logs.get_or_init(|| {
            first = true;
            opened
        });
        if first && tokio::runtime::Handle::try_current().is_ok() {
            let sweeper = logs.clone();
            self.runner
                .spawn("logs-retention", move |mut stop| async move {
                    // Bounded turns; a full turn goes on at once, else it
                    // sleeps until the next interval or shutdown.
                    loop {
                        let logs = sweeper.clone();
                        let turn = tokio::task::spawn_blocking(move || {
                            logs.sweep(tarn_logs::now_ms(), LOGS_SWEEP_EVENTS_MAX)
                        })
                        .await;
                        let full = match turn {
                            Ok(Ok(n)) => n == LOGS_SWEEP_EVENTS_MAX,
                            Ok(Err(e)) => {
                                tracing::error!(error = %e, "log retention sweep failed");
                                false
                            }
                            Err(_) => false,
                        };
                        if stop.is_stopped() || (!full && !stop.sleep(LOGS_SWEEP_INTERVAL).await) {
                            break;
                        }
                    }
                });
        }
        Ok(logs)
    }

    /// IAM roles and policies (opened on first use).
    pub fn iam(&self) -> Result<&tarn_iam::Iam, tarn_iam::Error> {
        if let Some(iam) = self.iam.get() {
            return Ok(iam);
        }
        let opened = tarn_iam::Iam::open(&self.engine.store(), self.account_id())?;
        Ok(self.iam.get_or_init(|| opened))
    }

    /// Waits, without holding a thread, until a store write is durable:
    /// its value, or the engine's error (a failed sync), or `None` if the
    /// engine dropped the callback.
    pub async fn durable<T: Send + 'static>(
        &self,
        deferred: tarn_engine::Deferred<T>,
    ) -> Option<Result<T, tarn_engine::Error>> {
        let (tx, rx) = tokio::sync::oneshot::channel();
        deferred.on_durable(&self.engine, move |r| {
            let _ = tx.send(r);
        });
        rx.await.ok()
    }

    /// Sets how long stream shard iterators live (15 minutes unless a test
    /// wants them to expire sooner).
    pub fn set_iterator_ttl_ms(&self, ms: u64) {
        self.iterator_ttl_ms.store(ms, Ordering::Relaxed);
    }

    /// The region and account stream ARNs name.
    pub fn stream_names(&self) -> tarn_streams::Names {
        tarn_streams::Names {
            arns: self.arns.clone(),
            iterator_ttl_ms: self.iterator_ttl_ms.load(Ordering::Relaxed),
        }
    }

    /// Records where the server listens (`host:port`), for
    /// DescribeEndpoints. Only the first call counts.
    pub fn set_address(&self, address: String) {
        let _ = self.address.set(address);
    }

    /// Where clients reach this server: the listening address, or
    /// DynamoDB's regional host name if it was never set.
    pub fn address(&self) -> &str {
        self.address
            .get_or_init(|| format!("dynamodb.{}.amazonaws.com", self.region()))
    }

    /// A stable UUID for a table incarnation (DescribeTable's `TableId`).
    pub fn table_uuid(&self, id: u32, created_ms: u64) -> String {
        let mut h = blake3::Hasher::new();
        h.update(self.account_id().as_bytes());
        h.update(&id.to_be_bytes());
        h.update(&created_ms.to_be_bytes());
        let mut b = [0; 16];
        b.copy_from_slice(&h.finalize().as_bytes()[..16]);
        tarn_core::id::uuid(&b)
    }

    /// A fresh 52-character request id in DynamoDB's alphabet, `[0-9A-Z]`.
    /// Ids need to be unique, not secret: the request's sequence number,
    /// mixed with the process's seed, seeds a splitmix64 stream (a
    /// bijection of its state, so no two sequence numbers start alike),
    /// which costs a few nanoseconds on every request rather than a hash.
    pub(crate) fn request_id(&self) -> String {
        const ALPHABET: &[u8; 36] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ";
        const GAMMA: u64 = 0x9E37_79B9_7F4A_7C15;
        const LENGTH: usize = 52;
        let seq = self.request_seq.fetch_add(1, Ordering::Relaxed);
        let mut state = self.request_seed ^ seq.wrapping_mul(GAMMA);
        let mut id = String::with_capacity(LENGTH);
        while id.len() < LENGTH {
            state = state.wrapping_add(GAMMA);
            let mut z = state;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            z ^= z >> 31;
            for b in z.to_le_bytes().into_iter().take(LENGTH - id.len()) {
                id.push(char::from(ALPHABET[usize::from(b) % 36]));
            }
        }
        id
    }
}

/// Function output into CloudWatch Logs, where Lambda writes it: group
/// `/aws/lambda/<name>`, a stream per instance, created on first use.
pub struct LogsSink(tarn_logs::Logs);

impl LogsSink {
    /// A sink writing to `logs`.
    pub fn new(logs: tarn_logs::Logs) -> LogsSink {
        LogsSink(logs)
    }
}

impl LogSink for LogsSink {
    fn append(&self, group: &str, stream: &str, events: Vec<tarn_lambda::LogLine>) {
        let events: Vec<(u64, String)> = events
            .into_iter()
            .map(|l| (l.timestamp_ms, l.message))
            .collect();
        // Visible once committed; the group commit makes it durable with
        // the next sync, which nothing here needs to wait for.
        if let Err(e) = self.0.append(group, stream, &events) {
            tracing::warn!(group, stream, error = %e, "cannot write function log lines");
        }
    }
}

/// How the Lambda service runs (`tarn --help`, "Functions").
pub struct LambdaOptions {
    /// Where function code is unpacked (`<data>/functions`).
    pub functions_dir: std::path::PathBuf,
    /// The Python interpreter for `python3.x` functions.
    pub python: String,
    /// The Node.js interpreter for `nodejs*` functions.
    pub node: String,
    /// The most invocations running at once, all functions together.
    pub concurrency_max: usize,
    /// The first retry delay of a failed asynchronous invoke, in ms.
    pub retry_delay_ms: u64,
    /// Where function log lines go besides Tarn's own log.
    pub sink: Arc<dyn LogSink>,
}

impl Default for LambdaOptions {
    fn default() -> Self {
        LambdaOptions {
            functions_dir: std::env::temp_dir()
                .join(format!("tarn-functions-{}", std::process::id())),
            python: "python3".into(),
            node: "node".into(),
            concurrency_max: 64,
            retry_delay_ms: 60_000,
            sink: Arc::new(tarn_lambda::TracingSink),
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn request_ids_are_52_of_dynamodbs_characters_and_distinct() {
        let engine = tarn_engine::Engine::open(tarn_engine::Options {
            data_dir: None,
            durability: tarn_engine::Durability::Memory,
            ..tarn_engine::Options::default()
        })
        .expect("engine");
        let app = super::App::new(engine, "us-east-1".into(), "000000000000".into());
        let mut seen = std::collections::HashSet::new();
        for _ in 0..10_000 {
            let id = app.request_id();
            assert_eq!(id.len(), 52, "{id}");
            assert!(
                id.bytes()
                    .all(|b| b.is_ascii_digit() || b.is_ascii_uppercase()),
                "{id}"
            );
            assert!(seen.insert(id.clone()), "{id} twice");
        }
    }
}
