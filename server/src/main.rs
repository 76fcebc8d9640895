//! `tarn`: a local DynamoDB on one port.

use std::io::{IsTerminal, Write};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use clap::{Parser, ValueEnum};
use tarn_engine::{Durability, Engine, Options};

#[derive(Clone, Copy, Debug, ValueEnum)]
enum DurabilityArg {
    /// fsync the journal before acknowledging a write (group-committed).
    Sync,
    /// Hand the journal to the OS before acknowledging; survives a process
    /// crash, not a power loss.
    Buffered,
}

/// A DynamoDB-compatible database: one binary, one port, durable storage.
#[derive(Debug, Parser)]
#[command(name = "tarn", version, about)]
struct Args {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1")]
    host: String,
    /// Port to listen on (0 picks a free one; the line on stdout says which).
    #[arg(long, default_value_t = 8000)]
    port: u16,
    /// Data directory.
    #[arg(long, default_value = "./tarn-data")]
    data_dir: PathBuf,
    /// When writes are acknowledged.
    #[arg(long, value_enum, default_value = "sync")]
    durability: DurabilityArg,
    /// Keep data in a throw-away directory, deleted at exit.
    #[arg(long)]
    in_memory: bool,
    /// Log level: error, warn, info, debug, trace or off (or a tracing
    /// filter such as tarn=debug,fjall=warn).
    #[arg(long, default_value = "info", value_parser = parse_log_level)]
    log_level: String,
    /// Region named in ARNs.
    #[arg(long, default_value = "us-east-1")]
    region: String,
    /// Account id named in ARNs.
    #[arg(long, default_value = "000000000000")]
    account_id: String,
    /// Item collection size limit of tables with local indexes, in bytes
    /// (DynamoDB's 10 GB; lower it to test ItemCollectionSizeLimitExceeded).
    #[arg(long, default_value_t = tarn_engine::ITEM_COLLECTION_BYTES_MAX, hide = true)]
    item_collection_size_limit_bytes: u64,
    /// Pause between batches of a global index backfill, in milliseconds
    /// (for tests that write while a backfill runs).
    #[arg(long, default_value_t = 0, hide = true)]
    backfill_pause_ms: u64,
    /// How often expired items are looked for and deleted, in milliseconds.
    #[arg(long, default_value_t = 1000)]
    ttl_sweep_interval_ms: u64,
    /// Minimum time between two TTL changes of a table, in milliseconds
    /// (DynamoDB enforces about an hour; 0 allows any).
    #[arg(long, default_value_t = 0)]
    ttl_cooldown_ms: u64,
    /// Throttle requests beyond provisioned throughput (and on-demand
    /// maxima) as DynamoDB does.
    #[arg(long)]
    enforce_throughput: bool,
    /// Seconds of unused capacity a provisioned table keeps for bursts.
    #[arg(long, default_value_t = 300)]
    burst_seconds: u64,
    /// Age at which a stream shard closes and a child shard takes over, in
    /// milliseconds (DynamoDB's is about four hours).
    #[arg(long, default_value_t = 4 * 3600 * 1000)]
    stream_shard_rollover_ms: u64,
    /// How long stream records are kept, in milliseconds (DynamoDB's
    /// 24 hours).
    #[arg(long, default_value_t = 24 * 3600 * 1000)]
    stream_retention_ms: u64,
    /// How long stream shard iterators live, in milliseconds (DynamoDB's
    /// 15 minutes; shorter for tests).
    #[arg(long, default_value_t = 15 * 60 * 1000, hide = true)]
    stream_iterator_ttl_ms: u64,
    /// Python interpreter that runs python3.x functions.
    #[arg(long, env = "TARN_LAMBDA_PYTHON", default_value = "python3")]
    lambda_python: String,
    /// Node.js interpreter that runs nodejs* functions.
    #[arg(long, env = "TARN_LAMBDA_NODE", default_value = "node")]
    lambda_node: String,
    /// Most function invocations running at once (all functions); more
    /// are throttled with TooManyRequestsException.
    #[arg(long, default_value_t = 64)]
    lambda_concurrency: usize,
    /// First retry delay of a failed asynchronous invoke, in milliseconds
    /// (Lambda's is about a minute; the second retry waits twice as long).
    #[arg(long, default_value_t = 60_000)]
    lambda_retry_delay_ms: u64,
}

fn main() -> ExitCode {
    let args = Args::parse();
    // `parse_log_level` has accepted the filter, so this cannot fail.
    let filter = tracing_subscriber::EnvFilter::try_new(log_filter(&args.log_level))
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(log_filter("info")));
    // Colour only for a person at a terminal: a pipe or a file gets plain
    // text (and so does anyone who sets NO_COLOR).
    let ansi = std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none();
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(ansi)
        .init();
    match run(args) {
        Ok(()) => ExitCode::SUCCESS,
        // Printed, not logged: a fatal error shows at every log level.
        Err(e) => {
            let _ = writeln!(std::io::stderr().lock(), "error: {e}");
            ExitCode::FAILURE
        }
    }
}

/// The levels `--log-level` takes on its own.
const LEVELS: [&str; 6] = ["error", "warn", "info", "debug", "trace", "off"];

/// Accepts a bare level or a `tracing` filter whose every directive names a
/// target (`tarn=debug`) or is a level; anything else (`loud`, which
/// `tracing` would read as a target and so log nothing) is refused.
fn parse_log_level(value: &str) -> Result<String, String> {
    const EXPECTED: &str = "expected error, warn, info, debug, trace or off, \
                            or a tracing filter such as tarn=debug,fjall=warn";
    let lower = value.to_ascii_lowercase();
    if LEVELS.contains(&lower.as_str()) {
        return Ok(lower);
    }
    let directives_ok = value.split(',').map(str::trim).all(|d| {
        d.is_empty()
            || d.contains('=')
            || d.contains('[')
            || LEVELS.contains(&d.to_ascii_lowercase().as_str())
    });
    if !directives_ok || value.trim().is_empty() {
        return Err(EXPECTED.to_owned());
    }
    tracing_subscriber::EnvFilter::try_new(value)
        .map(|_| value.to_owned())
        .map_err(|e| format!("{e}; {EXPECTED}"))
}

/// A bare level applies to Tarn's own crates; dependencies (fjall,
/// lsm-tree, hyper) log at `warn` at most, since their info lines are noise
/// to a user. Anything else is a full `tracing` filter, used as given.
fn log_filter(level: &str) -> String {
    if !LEVELS.contains(&level) {
        return level.to_owned();
    }
    let deps = match level {
        "error" | "off" => level,
        _ => "warn",
    };
    format!("{deps},tarn={level},tarn_server={level},tarn_engine={level},tarn_streams={level},tarn_lambda={level}")
}

fn run(args: Args) -> Result<(), String> {
    let addr: SocketAddr = format!("{}:{}", args.host, args.port)
        .parse()
        .map_err(|e| format!("invalid --host/--port: {e}"))?;
    let options = Options {
        data_dir: (!args.in_memory).then(|| args.data_dir.clone()),
        durability: match args.durability {
            DurabilityArg::Sync => Durability::Sync,
            DurabilityArg::Buffered => Durability::Buffered,
        },
        item_collection_bytes_max: args.item_collection_size_limit_bytes,
        backfill_pause_ms: args.backfill_pause_ms,
        ttl_sweep_interval_ms: args.ttl_sweep_interval_ms,
        ttl_cooldown_ms: args.ttl_cooldown_ms,
        enforce_throughput: args.enforce_throughput,
        burst_seconds: args.burst_seconds,
        stream_shard_rollover_ms: args.stream_shard_rollover_ms,
        stream_retention_ms: args.stream_retention_ms,
    };
    let engine = Engine::open(options).map_err(|e| match e {
        tarn_engine::Error::Locked { holder_pid } => format!(
            "cannot open data directory {}: {} holds it; stop that one or choose another --data-dir",
            args.data_dir.display(),
            holder_name(holder_pid)
        ),
        e => format!(
            "cannot open data directory {}: {e}",
            args.data_dir.display()
        ),
    })?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the runtime: {e}"))?;
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .map_err(|e| format!("cannot listen on {addr}: {e}"))?;
        let local = listener.local_addr().map_err(|e| e.to_string())?;
        let storage = if args.in_memory {
            "in memory".to_owned()
        } else {
            format!("in {}", args.data_dir.display())
        };
        // Always on stdout, whatever the log level: with `--port 0` it is
        // the only way to learn the port. A closed stdout is no reason to
        // stop serving.
        {
            let mut out = std::io::stdout().lock();
            let _ = writeln!(
                out,
                "tarn listening on http://{local} (data {storage}, durability {})",
                options_label(&args)
            );
            let _ = out.flush();
        }
        let app = tarn_server::App::try_new(engine, args.region.clone(), args.account_id.clone())
            .map_err(|e| format!("cannot open the services' storage: {e}"))?;
        app.start_background();
        app.set_address(local.to_string());
        app.set_iterator_ttl_ms(args.stream_iterator_ttl_ms);
        // Function code lives beside the database; with --in-memory, in a
        // temporary directory removed at exit.
        let functions_dir = if args.in_memory {
            std::env::temp_dir().join(format!("tarn-functions-{}", std::process::id()))
        } else {
            args.data_dir.join("functions")
        };
        app.start_lambda(tarn_server::app::LambdaOptions {
            functions_dir: functions_dir.clone(),
            python: args.lambda_python.clone(),
            node: args.lambda_node.clone(),
            concurrency_max: args.lambda_concurrency.max(1),
            retry_delay_ms: args.lambda_retry_delay_ms,
            sink: Arc::new(tarn_server::app::LogsSink::new(
                app.logs()
                    .map_err(|e| format!("cannot open the logs' storage: {e}"))?
                    .clone(),
            )),
        })
        .map_err(|e| format!("cannot start functions in {}: {e}", functions_dir.display()))?;
        let stopping = Arc::clone(&app);
        axum::serve(listener, tarn_server::router(Arc::clone(&app)))
            .with_graceful_shutdown(async move {
                shutdown_signal().await;
                // Instances' Runtime API long polls would hold the graceful
                // shutdown open: stop them first.
                stopping.stop_functions();
                // Long polls (SQS's 20 s receives) end with the background
                // loops, so that in-flight requests do not hold the stop.
                let stuck = stopping
                    .runner
                    .shutdown(std::time::Duration::from_secs(5))
                    .await;
                if !stuck.is_empty() {
                    tracing::warn!(tasks = ?stuck, "background tasks did not stop within 5 s");
                }
            })
            .await
            .map_err(|e| format!("server failed: {e}"))?;
        if args.in_memory {
            let _ = std::fs::remove_dir_all(&functions_dir);
        }
        // Background loops stop before the engine they write to is flushed.
        let stuck = app.runner.shutdown(std::time::Duration::from_secs(5)).await;
        if !stuck.is_empty() {
            tracing::warn!(tasks = ?stuck, "background tasks did not stop within 5 s");
        }
        let started = std::time::Instant::now();
        // The journal holds everything either way; a flush only spares the
        // next start replaying it.
        match app
            .engine
            .flush_memtables(std::time::Duration::from_secs(10))
        {
            Ok(true) => {}
            Ok(false) => tracing::warn!("memtable flush unfinished after 10 s; stopping anyway"),
            Err(e) => tracing::warn!(error = %e, "cannot flush memtables before stopping"),
        }
        let flush_ms = started.elapsed().as_millis() as u64;
        let stats = app.engine.commit_stats();
        tracing::info!(
            commits = stats.commits,
            syncs = stats.syncs,
            flush_ms,
            "tarn stopped"
        );
        Ok(())
    })
}

/// Names the process holding a data directory: "another Tarn (pid 42)",
/// "another process (pid 42, name)" or, where the system does not say,
/// "another process".
fn holder_name(pid: Option<u32>) -> String {
    let Some(pid) = pid else {
        return "another process".to_owned();
    };
    let name = std::fs::read_to_string(format!("/proc/{pid}/comm"))
        .map(|n| n.trim().to_owned())
        .unwrap_or_default();
    match name.as_str() {
        "tarn" => format!("another Tarn (pid {pid})"),
        "" => format!("another process (pid {pid})"),
        _ => format!("another process (pid {pid}, {name})"),
    }
}

fn options_label(args: &Args) -> &'static str {
    match (args.in_memory, args.durability) {
        (true, _) => "memory",
        (false, DurabilityArg::Sync) => "sync",
        (false, DurabilityArg::Buffered) => "buffered",
    }
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
    tracing::info!("shutting down");
}
