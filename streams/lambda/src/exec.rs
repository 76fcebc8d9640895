//! Function instances: child processes that speak the Lambda Runtime API
//! to Tarn, pooled per function version and reused while warm.
//!
//! An invocation takes an idle instance of its version (or starts one, if
//! the function's reserved concurrency and the global limit allow), hands
//! it the event through the instance's job slot, and waits for the
//! instance to post `/response` or `/error`, at most the function's
//! timeout. A timeout kills the instance's process group; an instance
//! that exits is replaced by the next invocation. Each instance gets its
//! own loopback endpoint, opened through [`RuntimeEndpoints`] before the
//! process starts and closed when it ends: `AWS_LAMBDA_RUNTIME_API` is a
//! bare `127.0.0.1:PORT`, as on Lambda (runtime clients such as Rust's
//! `lambda_runtime` read it as a URI authority, so it can carry no path),
//! and the port alone tells the instance apart (its token).
//!
//! Invariants: an instance runs at most one invocation at a time; busy
//! counts go up when an instance is taken and down exactly once when the
//! invocation ends; every child is in its own process group, dies with
//! Tarn (PR_SET_PDEATHSIG, see [`crate::sys`]) and is killed at shutdown.

use std::collections::HashMap;
use std::fs::File;
use std::io::Read;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use tarn_core::runner::Runner;
use tokio::io::unix::AsyncFd;
use tokio::sync::{mpsc, oneshot, watch};

use crate::logs::{self, LogLine, LogSink};
use crate::model::Config;
use crate::time::{iso_ms, now_ms};

/// How long an instance may sit idle before it is stopped (Lambda keeps
/// idle environments for minutes, not forever).
const IDLE_MS_MAX: u64 = 10 * 60 * 1000;
/// How long a new instance may take to ask for its first job (Lambda's
/// init phase limit).
const INIT_TIMEOUT: Duration = Duration::from_secs(10);
/// How often idle instances are looked for.
const IDLE_SWEEP: Duration = Duration::from_secs(30);

const PYTHON_RUNTIME: &str = include_str!("runtimes/python_runtime.py");
const NODE_RUNTIME: &str = include_str!("runtimes/node_runtime.js");

/// An instance's own Runtime API endpoint.
pub struct Endpoint {
    /// Its `host:port`, given as `AWS_LAMBDA_RUNTIME_API`.
    pub address: String,
    /// Closes the endpoint when dropped.
    pub guard: Box<dyn std::any::Any + Send>,
}

impl std::fmt::Debug for Endpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Endpoint")
            .field("address", &self.address)
            .finish_non_exhaustive()
    }
}

/// Opens the endpoint an instance reaches the Runtime API at; the server
/// implements it (it knows the router). Requests there are the instance
/// `token`'s ([`Exec::next`], [`Exec::response`], ...).
pub trait RuntimeEndpoints: Send + Sync + std::fmt::Debug {
    /// Opens `token`'s endpoint; it serves until the guard is dropped or
    /// Tarn stops.
    fn open(&self, token: &str) -> Result<Endpoint, String>;
}

/// How instances are started.
#[derive(Clone, Debug)]
pub struct ExecSettings {
    /// `host:port` of Tarn, for `AWS_ENDPOINT_URL`.
    pub address: String,
    /// Opens each instance's Runtime API endpoint.
    pub endpoints: Arc<dyn RuntimeEndpoints>,
    /// Region and account, for the environment.
    pub region: String,
    /// The Python interpreter (`python3`).
    pub python: String,
    /// The Node.js interpreter (`node`).
    pub node: String,
    /// The most instances running invocations at once, all functions.
    pub concurrency_max: usize,
    /// Where the runtime-loop programs are written.
    pub runtimes_dir: PathBuf,
}

/// Why an invocation ended without the function's answer.
#[derive(Debug)]
pub enum Throttle {
    /// The function's reserved concurrency is used up.
    Reserved,
    /// The global limit is reached.
    Global,
}

/// The result of running an invocation.
#[derive(Debug, Default)]
pub struct Outcome {
    /// The function's answer (or Lambda's error JSON).
    pub payload: Vec<u8>,
    /// `Some("Unhandled")` if the function failed.
    pub function_error: Option<&'static str>,
    /// The invocation's log lines, newline-terminated.
    pub log: String,
}

/// What one invocation hands an instance.
#[derive(Debug)]
struct Job {
    request_id: String,
    payload: Vec<u8>,
    /// The function's timeout: the deadline is set when the runtime takes
    /// the job, since start-up is not part of an invocation's time.
    timeout_ms: u64,
    invoked_arn: String,
    client_context: Option<String>,
    /// Told when the runtime takes the job.
    taken: oneshot::Sender<()>,
}

/// What `/next` returns to the runtime.
#[derive(Debug)]
pub struct Next {
    /// `Lambda-Runtime-Aws-Request-Id`.
    pub request_id: String,
    /// `Lambda-Runtime-Deadline-Ms`.
    pub deadline_ms: u64,
    /// `Lambda-Runtime-Invoked-Function-Arn`.
    pub invoked_arn: String,
    /// `Lambda-Runtime-Client-Context`.
    pub client_context: Option<String>,
    /// `Lambda-Runtime-Trace-Id`.
    pub trace_id: String,
    /// The event.
    pub payload: Vec<u8>,
}

/// A Runtime API request Tarn refuses.
#[derive(Debug, PartialEq, Eq)]
pub enum RuntimeError {
    /// No instance has this token (it was stopped, or never existed).
    UnknownInstance,
    /// `/response` or `/error` for a request the instance is not running.
    InvalidRequestId,
    /// The instance was stopped while it waited.
    Stopped,
}

/// How waiting for an invocation ended.
enum Waited {
    Done(Result<Completion, oneshot::error::RecvError>),
    InitTimeout,
    Timeout,
}

enum Completion {
    Response(Vec<u8>),
    Error(Vec<u8>),
    Exited(String),
}

struct InFlight {
    request_id: String,
    done: oneshot::Sender<Completion>,
    log: String,
}

#[derive(Default)]
struct State {
    current: Option<InFlight>,
    init_error: Option<Vec<u8>>,
    dead: bool,
}

struct Pipe {
    fd: AsyncFd<File>,
    partial: Mutex<Vec<u8>>,
}

struct Instance {
    token: String,
    function: String,
    pool: String,
    group: String,
    stream: String,
    pid: u32,
    jobs_tx: mpsc::Sender<Job>,
    jobs_rx: tokio::sync::Mutex<mpsc::Receiver<Job>>,
    state: Mutex<State>,
    dead_tx: watch::Sender<bool>,
    retired: AtomicBool,
    started: Instant,
    init_ms: AtomicU64,
    /// When it last went idle, ms since the epoch.
    idle_since_ms: AtomicU64,
    pipes: Vec<Arc<Pipe>>,
    sink: Arc<dyn LogSink>,
    /// Its Runtime API endpoint, closed (dropped) when the process ends.
    endpoint: Mutex<Option<Endpoint>>,
}

impl Instance {
    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn is_dead(&self) -> bool {
        self.state().dead
    }

    /// Records a line of the instance's output or of Lambda's own
    /// (START, END, REPORT).
    fn emit(&self, line: String) {
        let mut st = self.state();
        let request_id = st.current.as_ref().map(|c| c.request_id.clone());
        if let Some(c) = st.current.as_mut() {
            c.log.push_str(&line);
            c.log.push('\n');
        }
        drop(st);
        tracing::info!(
            target: "tarn_lambda::function",
            function = %self.function,
            request_id = request_id.as_deref().unwrap_or("-"),
            "{line}"
        );
        self.sink.append(
            &self.group,
            &self.stream,
            vec![LogLine {
                timestamp_ms: now_ms(),
                message: line,
            }],
        );
    }

    /// Reads whatever the instance has written so far (the pipes are
    /// non-blocking). Returns false once every pipe is closed.
    fn drain(&self) -> bool {
        let mut open = false;
        for pipe in &self.pipes {
            if drain_pipe(self, pipe) {
                open = true;
            }
        }
        open
    }

    fn kill(&self) {
        crate::sys::kill_group(self.pid);
    }
}

/// Reads a pipe until it would block; true if it is still open.
fn drain_pipe(inst: &Instance, pipe: &Pipe) -> bool {
    let mut partial = pipe.partial.lock().unwrap_or_else(PoisonError::into_inner);
    let mut buf = [0u8; 8192];
    loop {
        match pipe.fd.get_ref().read(&mut buf) {
            Ok(0) => {
                if !partial.is_empty() {
                    let line = String::from_utf8_lossy(&partial).into_owned();
                    partial.clear();
                    inst.emit(line);
                }
                return false;
            }
            Ok(n) => {
                partial.extend_from_slice(&buf[..n]);
                while let Some(i) = partial.iter().position(|&b| b == b'\n') {
                    let line: Vec<u8> = partial.drain(..=i).collect();
                    let text = String::from_utf8_lossy(&line[..line.len() - 1]);
                    inst.emit(text.trim_end_matches('\r').to_owned());
                }
                // A line without an end is cut at 256 KB (CloudWatch's
                // event limit).
                if partial.len() > 256 * 1024 {
                    let line = String::from_utf8_lossy(&partial).into_owned();
                    partial.clear();
                    inst.emit(line);
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => return true,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(_) => return false,
        }
    }
}

#[derive(Default)]
struct Pools {
    idle: HashMap<String, Vec<Arc<Instance>>>,
    busy_by_function: HashMap<String, usize>,
    busy: usize,
}

type SpawnReply = std::sync::mpsc::SyncSender<std::io::Result<std::process::Child>>;

/// The process runner.
pub struct Exec {
    settings: ExecSettings,
    runner: Arc<Runner>,
    sink: Arc<dyn LogSink>,
    pools: Mutex<Pools>,
    instances: Mutex<HashMap<String, Arc<Instance>>>,
    spawner: Mutex<std::sync::mpsc::Sender<(std::process::Command, SpawnReply)>>,
    stopping: AtomicBool,
    seq: AtomicU64,
    /// The Python interpreter's real path (`sys.executable`), once known:
    /// starting it directly skips wrappers such as pyenv's shims, a
    /// good part of a cold start.
    python_path: Arc<std::sync::OnceLock<PathBuf>>,
}

impl std::fmt::Debug for Exec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Exec").finish_non_exhaustive()
    }
}

impl Exec {
    /// Writes the runtime-loop programs and starts the spawner thread.
    pub fn new(
        settings: ExecSettings,
        runner: Arc<Runner>,
        sink: Arc<dyn LogSink>,
    ) -> std::io::Result<Arc<Exec>> {
        std::fs::create_dir_all(&settings.runtimes_dir)?;
        std::fs::write(
            settings.runtimes_dir.join("python_runtime.py"),
            PYTHON_RUNTIME,
        )?;
        std::fs::write(settings.runtimes_dir.join("node_runtime.js"), NODE_RUNTIME)?;
        // Children are forked from this thread, which lives as long as the
        // process: PR_SET_PDEATHSIG fires when the forking *thread* ends,
        // so forking from a pool thread that may retire would kill them.
        let (tx, rx) = std::sync::mpsc::channel::<(std::process::Command, SpawnReply)>();
        std::thread::Builder::new()
            .name("tarn-lambda-spawner".into())
            .spawn(move || {
                while let Ok((mut cmd, reply)) = rx.recv() {
                    let _ = reply.send(cmd.spawn());
                }
            })?;
        let python_path = Arc::new(std::sync::OnceLock::new());
        let resolved = Arc::clone(&python_path);
        let python = settings.python.clone();
        // Resolved off the request path; until it is known, the configured
        // name is used.
        std::thread::Builder::new()
            .name("tarn-lambda-python".into())
            .spawn(move || {
                let out = std::process::Command::new(&python)
                    .args(["-c", "import sys; sys.stdout.write(sys.executable)"])
                    .stdin(std::process::Stdio::null())
                    .stderr(std::process::Stdio::null())
                    .output();
                if let Ok(out) = out {
                    let path = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
                    if out.status.success() && path.is_absolute() {
                        let _ = resolved.set(path);
                    }
                }
            })?;
        let exec = Arc::new(Exec {
            python_path,
            settings,
            runner: Arc::clone(&runner),
            sink,
            pools: Mutex::new(Pools::default()),
            instances: Mutex::new(HashMap::new()),
            spawner: Mutex::new(tx),
            stopping: AtomicBool::new(false),
            seq: AtomicU64::new(0),
        });
        let reaper = Arc::clone(&exec);
        runner.spawn("lambda-reaper", move |mut stop| async move {
            while stop.sleep(IDLE_SWEEP).await {
                reaper.stop_idle(IDLE_MS_MAX);
            }
            reaper.stop();
        });
        Ok(exec)
    }

    /// Kills every instance and refuses new ones (Tarn is stopping).
    pub fn stop(&self) {
        self.stopping.store(true, Ordering::SeqCst);
        let all: Vec<Arc<Instance>> = self.lock_instances().values().cloned().collect();
        for i in all {
            i.kill();
            let _ = i.dead_tx.send(true);
        }
    }

    /// Stops instances idle for more than `idle_ms_max`.
    fn stop_idle(&self, idle_ms_max: u64) {
        let now = now_ms();
        let mut stale = Vec::new();
        {
            let mut pools = self.lock_pools();
            for idle in pools.idle.values_mut() {
                idle.retain(|i| {
                    let old =
                        now.saturating_sub(i.idle_since_ms.load(Ordering::Relaxed)) > idle_ms_max;
                    if old {
                        stale.push(Arc::clone(i));
                    }
                    !old
                });
            }
            pools.idle.retain(|_, v| !v.is_empty());
        }
        for i in stale {
            tracing::debug!(function = %i.function, pid = i.pid, "stopping an idle instance");
            i.kill();
        }
    }

    fn lock_instances(&self) -> std::sync::MutexGuard<'_, HashMap<String, Arc<Instance>>> {
        self.instances
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    fn lock_pools(&self) -> std::sync::MutexGuard<'_, Pools> {
        self.pools.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Process ids of the running instances of `function` (for tests and
    /// diagnostics).
    pub fn pids(&self, function: &str) -> Vec<u32> {
        self.lock_instances()
            .values()
            .filter(|i| i.function == function && !i.is_dead())
            .map(|i| i.pid)
            .collect()
    }

    /// Stops the idle instances of `function` and retires its busy ones
    /// (after an update or a delete: new invocations get new instances).
    pub fn retire(&self, function: &str) {
        let idle: Vec<Arc<Instance>> = {
            let mut pools = self.lock_pools();
            let keys: Vec<String> = pools
                .idle
                .keys()
                .filter(|k| k.split('\0').next() == Some(function))
                .cloned()
                .collect();
            keys.iter()
                .filter_map(|k| pools.idle.remove(k))
                .flatten()
                .collect()
        };
        for i in idle {
            i.kill();
        }
        for i in self.lock_instances().values() {
            if i.function == function {
                i.retired.store(true, Ordering::SeqCst);
            }
        }
    }

    fn token(&self) -> String {
        let seq = self.seq.fetch_add(1, Ordering::Relaxed);
        let mut h = blake3::Hasher::new();
        h.update(&seq.to_be_bytes());
        h.update(&now_ms().to_be_bytes());
        h.update(&std::process::id().to_be_bytes());
        let b = h.finalize();
        b.as_bytes()[..16]
            .iter()
            .map(|x| format!("{x:02x}"))
            .collect()
    }

    /// Runs one invocation of `config` (as `version`, named in the ARN
    /// `invoked_arn`) on a warm or new instance.
    #[allow(clippy::too_many_arguments)]
    pub async fn invoke(
        self: &Arc<Exec>,
        function: &str,
        version: &str,
        config: &Config,
        reserved: Option<u32>,
        invoked_arn: &str,
        request_id: &str,
        payload: Vec<u8>,
        client_context: Option<String>,
    ) -> Result<Outcome, Throttle> {
        let pool = format!("{function}\0{version}\0{}", config.revision_id);
        let inst = {
            let mut pools = self.lock_pools();
            let busy_fn = pools.busy_by_function.get(function).copied().unwrap_or(0);
            if reserved.is_some_and(|r| busy_fn >= r as usize) {
                return Err(Throttle::Reserved);
            }
            if pools.busy >= self.settings.concurrency_max {
                return Err(Throttle::Global);
            }
            let mut warm = None;
            if let Some(idle) = pools.idle.get_mut(&pool) {
                while let Some(i) = idle.pop() {
                    if !i.is_dead() {
                        warm = Some(i);
                        break;
                    }
                }
            }
            pools.busy += 1;
            *pools
                .busy_by_function
                .entry(function.to_owned())
                .or_insert(0) += 1;
            warm
        };
        let outcome = self
            .run(
                inst,
                function,
                version,
                &pool,
                config,
                invoked_arn,
                request_id,
                payload,
                client_context,
            )
            .await;
        let mut pools = self.lock_pools();
        pools.busy = pools.busy.saturating_sub(1);
        if let Some(n) = pools.busy_by_function.get_mut(function) {
            *n = n.saturating_sub(1);
        }
        Ok(outcome)
    }

    #[allow(clippy::too_many_arguments)]
    async fn run(
        self: &Arc<Exec>,
        warm: Option<Arc<Instance>>,
        function: &str,
        version: &str,
        pool: &str,
        config: &Config,
        invoked_arn: &str,
        request_id: &str,
        payload: Vec<u8>,
        client_context: Option<String>,
    ) -> Outcome {
        let started = Instant::now();
        let (inst, cold) = match warm {
            Some(i) => (i, false),
            None => match self.start(function, version, pool, config) {
                Ok(i) => (i, true),
                Err(message) => {
                    return Outcome {
                        payload: error_json(
                            "Runtime.InvalidEntrypoint",
                            &format!("RequestId: {request_id} Error: {message}"),
                        ),
                        function_error: Some("Unhandled"),
                        log: format!("{message}\n"),
                    }
                }
            },
        };
        let (done_tx, done_rx) = oneshot::channel();
        {
            let mut st = inst.state();
            st.current = Some(InFlight {
                request_id: request_id.to_owned(),
                done: done_tx,
                log: String::new(),
            });
        }
        inst.emit(format!("START RequestId: {request_id} Version: {version}"));
        let timeout = Duration::from_secs(u64::from(config.timeout_s.max(1)));
        let (taken_tx, taken_rx) = oneshot::channel();
        let job = Job {
            request_id: request_id.to_owned(),
            payload,
            timeout_ms: timeout.as_millis() as u64,
            invoked_arn: invoked_arn.to_owned(),
            client_context,
            taken: taken_tx,
        };
        // The slot holds one job and the instance is ours alone: this
        // never waits.
        let _ = inst.jobs_tx.send(job).await;
        // First the runtime starts and takes the job (or fails to start),
        // then the function's own timeout runs.
        let mut done_rx = done_rx;
        let early = tokio::select! {
            _ = taken_rx => None,
            d = &mut done_rx => Some(Waited::Done(d)),
            () = tokio::time::sleep(INIT_TIMEOUT) => Some(Waited::InitTimeout),
        };
        let result = match early {
            Some(w) => w,
            None => match tokio::time::timeout(timeout, done_rx).await {
                Ok(d) => Waited::Done(d),
                Err(_) => Waited::Timeout,
            },
        };
        let mut keep = true;
        let (payload, function_error) = match result {
            Waited::Done(Ok(Completion::Response(body))) => (body, None),
            Waited::Done(Ok(Completion::Error(body))) => {
                keep = inst.state().init_error.is_none();
                (body, Some("Unhandled"))
            }
            Waited::Done(Ok(Completion::Exited(status))) => {
                keep = false;
                (
                    error_json(
                        "Runtime.ExitError",
                        &format!(
                            "RequestId: {request_id} Error: Runtime exited with error: {status}"
                        ),
                    ),
                    Some("Unhandled"),
                )
            }
            Waited::Done(Err(_)) => {
                keep = false;
                (
                    error_json(
                        "Runtime.ExitError",
                        &format!("RequestId: {request_id} Error: Runtime exited"),
                    ),
                    Some("Unhandled"),
                )
            }
            Waited::InitTimeout => {
                keep = false;
                inst.kill();
                let message = format!("Init timed out after {}.00 seconds", INIT_TIMEOUT.as_secs());
                inst.emit(format!("{} {request_id} {message}", iso_ms(now_ms())));
                (
                    error_json(
                        "Sandbox.Timedout",
                        &format!("RequestId: {request_id} Error: {message}"),
                    ),
                    Some("Unhandled"),
                )
            }
            Waited::Timeout => {
                keep = false;
                inst.kill();
                let line = format!(
                    "{} {request_id} Task timed out after {}.00 seconds",
                    iso_ms(now_ms()),
                    config.timeout_s
                );
                inst.emit(line);
                (
                    error_json(
                        "Sandbox.Timedout",
                        &format!(
                            "RequestId: {request_id} Error: Task timed out after {}.00 seconds",
                            config.timeout_s
                        ),
                    ),
                    Some("Unhandled"),
                )
            }
        };
        let duration_ms = started.elapsed().as_secs_f64() * 1000.0;
        inst.emit(format!("END RequestId: {request_id}"));
        let init = if cold {
            format!(
                "\tInit Duration: {:.2} ms",
                inst.init_ms.load(Ordering::Relaxed) as f64
            )
        } else {
            String::new()
        };
        inst.emit(format!(
            "REPORT RequestId: {request_id}\tDuration: {duration_ms:.2} ms\tBilled Duration: {} ms\tMemory Size: {} MB\tMax Memory Used: {} MB{init}",
            duration_ms.ceil() as u64,
            config.memory_mb,
            config.memory_mb.min(64),
        ));
        let log = {
            let mut st = inst.state();
            st.current.take().map(|c| c.log).unwrap_or_default()
        };
        if keep && !inst.is_dead() && !inst.retired.load(Ordering::SeqCst) {
            inst.idle_since_ms.store(now_ms(), Ordering::Relaxed);
            self.lock_pools()
                .idle
                .entry(pool.to_owned())
                .or_default()
                .push(Arc::clone(&inst));
        } else {
            inst.kill();
        }
        Outcome {
            payload,
            function_error,
            log,
        }
    }

    /// Starts an instance (its process, log readers and reaper).
    fn start(
        self: &Arc<Exec>,
        function: &str,
        version: &str,
        pool: &str,
        config: &Config,
    ) -> Result<Arc<Instance>, String> {
        if self.stopping.load(Ordering::SeqCst) || self.runner.is_stopped() {
            return Err("Tarn is stopping".into());
        }
        let token = self.token();
        let group = logs::group_name(function);
        let stream = logs::stream_name(now_ms(), version, &token);
        let code_dir = Path::new(&config.code_dir);
        let mut cmd = self.command(config, code_dir)?;
        cmd.current_dir(code_dir)
            .env_clear()
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .process_group(0);
        if let Some(path) = std::env::var_os("PATH") {
            cmd.env("PATH", path);
        }
        let runtime_dir = self.settings.runtimes_dir.display().to_string();
        // Dropped (closed) on every early return below.
        let endpoint = self.settings.endpoints.open(&token)?;
        let env: [(&str, String); 20] = [
            ("AWS_LAMBDA_RUNTIME_API", endpoint.address.clone()),
            ("_HANDLER", config.handler.clone()),
            ("LAMBDA_TASK_ROOT", config.code_dir.clone()),
            ("LAMBDA_RUNTIME_DIR", runtime_dir),
            ("AWS_LAMBDA_FUNCTION_NAME", function.to_owned()),
            ("AWS_LAMBDA_FUNCTION_VERSION", version.to_owned()),
            (
                "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
                config.memory_mb.to_string(),
            ),
            ("AWS_LAMBDA_LOG_GROUP_NAME", group.clone()),
            ("AWS_LAMBDA_LOG_STREAM_NAME", stream.clone()),
            ("AWS_LAMBDA_INITIALIZATION_TYPE", "on-demand".into()),
            ("AWS_REGION", self.settings.region.clone()),
            ("AWS_DEFAULT_REGION", self.settings.region.clone()),
            (
                "AWS_EXECUTION_ENV",
                format!("AWS_Lambda_{}", config.runtime),
            ),
            ("AWS_ACCESS_KEY_ID", "AKIDTARNLOCAL".into()),
            ("AWS_SECRET_ACCESS_KEY", "tarn-local-secret".into()),
            ("AWS_SESSION_TOKEN", "tarn-local-session".into()),
            (
                "AWS_ENDPOINT_URL",
                format!("http://{}", self.settings.address),
            ),
            ("TZ", ":UTC".into()),
            ("LANG", "en_US.UTF-8".into()),
            ("PYTHONUNBUFFERED", "1".into()),
        ];
        for (k, v) in env {
            cmd.env(k, v);
        }
        // The user's variables come last: Lambda refuses reserved names at
        // CreateFunction, so these never override the runtime's.
        for (k, v) in &config.environment {
            cmd.env(k, v);
        }
        crate::sys::die_with_parent(&mut cmd);
        let (reply_tx, reply_rx) = std::sync::mpsc::sync_channel(1);
        self.spawner
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .send((cmd, reply_tx))
            .map_err(|_| "the spawner thread is gone".to_owned())?;
        let mut child = reply_rx
            .recv()
            .map_err(|_| "the spawner thread is gone".to_owned())?
            .map_err(|e| format!("cannot start the runtime: {e}"))?;
        let pid = child.id();
        let mut pipes = Vec::new();
        let outs: [Option<std::os::fd::OwnedFd>; 2] = [
            child.stdout.take().map(Into::into),
            child.stderr.take().map(Into::into),
        ];
        for fd in outs.into_iter().flatten() {
            let file = File::from(fd);
            let made = crate::sys::async_pipe(file);
            match made {
                Ok(fd) => pipes.push(Arc::new(Pipe {
                    fd,
                    partial: Mutex::new(Vec::new()),
                })),
                Err(e) => {
                    crate::sys::kill_group(pid);
                    let _ = child.wait();
                    return Err(format!("cannot read the runtime's output: {e}"));
                }
            }
        }
        let (jobs_tx, jobs_rx) = mpsc::channel(1);
        let (dead_tx, _) = watch::channel(false);
        let inst = Arc::new(Instance {
            token: token.clone(),
            function: function.to_owned(),
            pool: pool.to_owned(),
            group,
            stream,
            pid,
            jobs_tx,
            jobs_rx: tokio::sync::Mutex::new(jobs_rx),
            state: Mutex::new(State::default()),
            dead_tx,
            retired: AtomicBool::new(false),
            started: Instant::now(),
            init_ms: AtomicU64::new(0),
            idle_since_ms: AtomicU64::new(0),
            pipes,
            sink: Arc::clone(&self.sink),
            endpoint: Mutex::new(Some(endpoint)),
        });
        self.lock_instances()
            .insert(token.clone(), Arc::clone(&inst));
        tracing::debug!(function, pid, token, "function instance started");
        for pipe in inst.pipes.clone() {
            let reader = Arc::clone(&inst);
            self.runner
                .spawn("lambda-instance-output", move |mut stop| async move {
                    loop {
                        tokio::select! {
                            ready = pipe.fd.readable() => {
                                let Ok(mut guard) = ready else { return };
                                let open = drain_pipe(&reader, &pipe);
                                guard.clear_ready();
                                if !open {
                                    return;
                                }
                            }
                            () = stop.wait() => return,
                        }
                    }
                });
        }
        let exec = Arc::clone(self);
        let watched = Arc::clone(&inst);
        let started = self.runner.spawn_blocking("lambda-instance", move |_stop| {
            let status = child.wait();
            exec.exited(&watched, status);
        });
        if !started {
            inst.kill();
            drop(
                inst.endpoint
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .take(),
            );
            return Err("Tarn is stopping".into());
        }
        Ok(inst)
    }

    fn command(&self, config: &Config, code_dir: &Path) -> Result<std::process::Command, String> {
        let runtime = config.runtime.as_str();
        if runtime.starts_with("python") {
            let mut c = match self.python_path.get() {
                Some(p) => std::process::Command::new(p),
                None => std::process::Command::new(&self.settings.python),
            };
            c.arg("-u")
                .arg(self.settings.runtimes_dir.join("python_runtime.py"));
            Ok(c)
        } else if runtime.starts_with("nodejs") {
            let mut c = std::process::Command::new(&self.settings.node);
            c.arg(self.settings.runtimes_dir.join("node_runtime.js"));
            Ok(c)
        } else {
            let bootstrap = code_dir.join("bootstrap");
            if !bootstrap.is_file() {
                return Err(format!(
                    "Couldn't find valid bootstrap(s): [{}]",
                    bootstrap.display()
                ));
            }
            Ok(std::process::Command::new(bootstrap))
        }
    }

    /// The instance's process ended: fail its invocation, forget it.
    fn exited(&self, inst: &Arc<Instance>, status: std::io::Result<std::process::ExitStatus>) {
        // Whatever it wrote before dying belongs to its last invocation.
        inst.drain();
        let status = match status {
            Ok(s) => match s.code() {
                Some(c) => format!("exit status {c}"),
                None => "signal: killed".to_owned(),
            },
            Err(e) => e.to_string(),
        };
        let current = {
            let mut st = inst.state();
            st.dead = true;
            let init_error = st.init_error.clone();
            st.current.as_mut().map(|c| {
                let done = std::mem::replace(&mut c.done, oneshot::channel().0);
                (done, init_error)
            })
        };
        if let Some((done, init_error)) = current {
            let _ = done.send(match init_error {
                Some(body) => Completion::Error(body),
                None => Completion::Exited(status.clone()),
            });
        }
        // Kill what it may have left in its group.
        inst.kill();
        let _ = inst.dead_tx.send(true);
        self.lock_instances().remove(&inst.token);
        // Its endpoint closes with it.
        drop(
            inst.endpoint
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .take(),
        );
        if let Some(idle) = self.lock_pools().idle.get_mut(&inst.pool) {
            idle.retain(|i| !Arc::ptr_eq(i, inst));
        }
        tracing::debug!(function = %inst.function, pid = inst.pid, %status, "function instance ended");
    }

    fn instance(&self, token: &str) -> Result<Arc<Instance>, RuntimeError> {
        self.lock_instances()
            .get(token)
            .cloned()
            .ok_or(RuntimeError::UnknownInstance)
    }

    /// `GET /runtime/invocation/next`: waits for the instance's next job.
    pub async fn next(&self, token: &str) -> Result<Next, RuntimeError> {
        let inst = self.instance(token)?;
        if inst.init_ms.load(Ordering::Relaxed) == 0 {
            let ms = inst.started.elapsed().as_millis().max(1) as u64;
            inst.init_ms.store(ms, Ordering::Relaxed);
        }
        let mut dead = inst.dead_tx.subscribe();
        let mut jobs = tokio::select! {
            j = inst.jobs_rx.lock() => j,
            _ = dead.wait_for(|d| *d) => return Err(RuntimeError::Stopped),
        };
        let job = tokio::select! {
            j = jobs.recv() => j,
            _ = dead.wait_for(|d| *d) => None,
        };
        let job = job.ok_or(RuntimeError::Stopped)?;
        let deadline_ms = now_ms() + job.timeout_ms;
        let _ = job.taken.send(());
        Ok(Next {
            trace_id: format!(
                "Root=1-{:08x}-{};Parent={};Sampled=0",
                now_ms() / 1000,
                &job.request_id.replace('-', "")[..24.min(job.request_id.len())],
                &token[..16]
            ),
            request_id: job.request_id,
            deadline_ms,
            invoked_arn: job.invoked_arn,
            client_context: job.client_context,
            payload: job.payload,
        })
    }

    fn complete(
        &self,
        token: &str,
        request_id: Option<&str>,
        completion: Completion,
    ) -> Result<(), RuntimeError> {
        let inst = self.instance(token)?;
        // The runtime wrote its output before it called us: read it now,
        // so that it is part of this invocation's log.
        inst.drain();
        let mut st = inst.state();
        let current = st.current.as_mut().ok_or(RuntimeError::InvalidRequestId)?;
        if request_id.is_some_and(|id| id != current.request_id) {
            return Err(RuntimeError::InvalidRequestId);
        }
        let done = std::mem::replace(&mut current.done, oneshot::channel().0);
        drop(st);
        let _ = done.send(completion);
        Ok(())
    }

    /// `POST /runtime/invocation/{id}/response`.
    pub fn response(
        &self,
        token: &str,
        request_id: &str,
        body: Vec<u8>,
    ) -> Result<(), RuntimeError> {
        self.complete(token, Some(request_id), Completion::Response(body))
    }

    /// `POST /runtime/invocation/{id}/error`.
    pub fn error(&self, token: &str, request_id: &str, body: Vec<u8>) -> Result<(), RuntimeError> {
        self.complete(token, Some(request_id), Completion::Error(body))
    }

    /// `POST /runtime/init/error`: the runtime could not start; the
    /// invocation waiting for it fails with the runtime's error.
    pub fn init_error(&self, token: &str, body: Vec<u8>) -> Result<(), RuntimeError> {
        let inst = self.instance(token)?;
        inst.state().init_error = Some(body.clone());
        match self.complete(token, None, Completion::Error(body)) {
            Ok(()) | Err(RuntimeError::InvalidRequestId) => Ok(()),
            Err(e) => Err(e),
        }
    }
}

/// Lambda's error JSON for errors of its own (timeouts, crashes).
pub fn error_json(error_type: &str, message: &str) -> Vec<u8> {
    serde_json::to_vec(&serde_json::json!({
        "errorType": error_type,
        "errorMessage": message,
    }))
    .unwrap_or_default()
}
