//! Functions: the Lambda model, its code on disk, the processes that run
//! it, and the queue of asynchronous invocations.
//!
//! - [`model`]: function, version, alias and event-invoke-config records
//!   in the engine's [`Store`](tarn_engine::Store) (`docs/storage.md`,
//!   "Functions").
//! - [`code`]: zips unpacked under the functions directory.
//! - [`exec`]: instances as child processes speaking the Runtime API,
//!   pooled and reused warm, killed on timeout and when Tarn stops.
//! - [`queue`]: asynchronous invokes as outbox entries for
//!   [`Target::LAMBDA`](tarn_core::outbox::Target::LAMBDA), retried per the
//!   event invoke config, with destinations written as outbox entries.
//! - [`logs`]: the [`LogSink`](logs::LogSink) function logs go to.
//!
//! [`Lambda`] is the service the server's wire module calls; it knows no
//! wire format. Errors are typed ([`Error`]); the server words them.
#![deny(unsafe_code)]

pub mod api;
pub mod code;
pub mod exec;
pub mod logs;
pub mod model;
pub mod queue;
mod sys;
pub mod time;

use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use tarn_core::arn::Arns;
use tarn_core::outbox::Outbox;
use tarn_core::runner::Runner;
use tarn_engine::{Engine, StoreBatch};

pub use exec::{Endpoint, ExecSettings, Next, Outcome, RuntimeEndpoints, RuntimeError};
pub use logs::{LogLine, LogSink, TracingSink};

/// Errors of the Lambda model. The server gives each its Lambda
/// exception, status and wording.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The store failed.
    #[error(transparent)]
    Store(#[from] tarn_engine::Error),
    /// The outbox failed.
    #[error(transparent)]
    Outbox(#[from] tarn_core::outbox::Error),
    /// A stored record does not decode.
    #[error("corrupt {0}")]
    Corrupt(&'static str),
    /// The file system failed.
    #[error("i/o: {0}")]
    Io(std::io::Error),
    /// ResourceNotFoundException (404), its message.
    #[error("{0}")]
    NotFound(String),
    /// ResourceConflictException (409), its message.
    #[error("{0}")]
    Conflict(String),
    /// InvalidParameterValueException (400), its message.
    #[error("{0}")]
    InvalidParameter(String),
    /// ValidationException (400), its message.
    #[error("{0}")]
    Validation(String),
    /// The zip does not unpack (InvalidParameterValueException).
    #[error("Could not unzip uploaded file. Please check your file, then try to upload again.")]
    BadZip,
    /// The zip unpacks to more than Lambda allows.
    #[error("Unzipped size must be smaller than 262144000 bytes")]
    CodeTooLarge(u64),
    /// TooManyRequestsException (429): reserved concurrency or the
    /// global limit.
    #[error("Rate Exceeded.")]
    TooManyRequests {
        /// Lambda's `Reason`.
        reason: &'static str,
    },
    /// RequestTooLargeException (413), its message.
    #[error("{0}")]
    RequestTooLarge(String),
    /// InvalidRequestContentException (400), its message.
    #[error("{0}")]
    InvalidRequestContent(String),
    /// Lambda is stopping (ServiceException).
    #[error("Tarn is stopping")]
    Stopping,
}

/// How the service runs.
#[derive(Clone, Debug)]
pub struct Settings {
    /// Where unpacked code goes (`<data>/functions`).
    pub functions_dir: PathBuf,
    /// How instances start.
    pub exec: ExecSettings,
    /// The first retry delay of an asynchronous invoke, in ms (Lambda's
    /// is about a minute; doubled for the second retry).
    pub retry_delay_ms: u64,
}

/// The Lambda service of one server.
pub struct Lambda {
    engine: Engine,
    records: model::Records,
    outbox: Outbox,
    arns: Arns,
    exec: Arc<exec::Exec>,
    runner: Arc<Runner>,
    settings: Settings,
    seq: AtomicU64,
}

impl std::fmt::Debug for Lambda {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Lambda").finish_non_exhaustive()
    }
}

impl Lambda {
    /// Opens the service on `engine`'s store. Call [`Lambda::start`] from
    /// inside the tokio runtime to start its background work.
    pub fn open(
        engine: &Engine,
        outbox: &Outbox,
        arns: &Arns,
        runner: Arc<Runner>,
        sink: Arc<dyn LogSink>,
        settings: Settings,
    ) -> Result<Arc<Lambda>, Error> {
        std::fs::create_dir_all(&settings.functions_dir).map_err(Error::Io)?;
        let exec =
            exec::Exec::new(settings.exec.clone(), Arc::clone(&runner), sink).map_err(Error::Io)?;
        Ok(Arc::new(Lambda {
            engine: engine.clone(),
            records: model::Records::open(&engine.store())?,
            outbox: outbox.clone(),
            arns: arns.clone(),
            exec,
            runner,
            settings,
            seq: AtomicU64::new(0),
        }))
    }

    /// The process runner (the Runtime API's side).
    pub fn exec(&self) -> &Arc<exec::Exec> {
        &self.exec
    }

    /// Kills every instance: Tarn is stopping.
    pub fn stop(&self) {
        self.exec.stop();
    }

    /// A fresh id in UUID form (request ids, revision ids).
    pub fn uuid(&self) -> String {
        let seq = self.seq.fetch_add(1, Ordering::Relaxed);
        let mut h = blake3::Hasher::new();
        h.update(&seq.to_be_bytes());
        h.update(&time::now_ms().to_be_bytes());
        h.update(&std::process::id().to_be_bytes());
        h.update(self.settings.functions_dir.as_os_str().as_encoded_bytes());
        let mut b = [0; 16];
        b.copy_from_slice(&h.finalize().as_bytes()[..16]);
        tarn_core::id::uuid(&b)
    }

    /// Commits `batch` and waits (without blocking a thread) until it is
    /// durable.
    async fn commit(&self, batch: StoreBatch) -> Result<(), Error> {
        let deferred = batch.commit()?;
        let (tx, rx) = tokio::sync::oneshot::channel();
        deferred.on_durable(&self.engine, move |r| {
            let _ = tx.send(r);
        });
        match rx.await {
            Ok(r) => Ok(r?),
            Err(_) => Err(Error::Stopping),
        }
    }
}
