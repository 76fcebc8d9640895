//! `tarn`: a local DynamoDB on one port.

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
    /// Port to listen on (0 picks a free one; the log says which).
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
    /// Log level: error, warn, info, debug or trace (or a tracing filter).
    #[arg(long, default_value = "info")]
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
}

fn main() -> ExitCode {
    let args = Args::parse();
    let filter = tracing_subscriber::EnvFilter::try_new(log_filter(&args.log_level))
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(log_filter("info")));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .init();
    match run(args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!("{e}");
            ExitCode::FAILURE
        }
    }
}

/// A bare level applies to Tarn's own crates; dependencies (fjall,
/// lsm-tree, hyper) log at `warn` at most, since their info lines are noise
/// to a user. Anything else is a full `tracing` filter, used as given.
fn log_filter(level: &str) -> String {
    let bare = ["error", "warn", "info", "debug", "trace"];
    if !bare.contains(&level) {
        return level.to_owned();
    }
    let deps = if level == "error" { "error" } else { "warn" };
    format!("{deps},tarn={level},tarn_server={level},tarn_engine={level},tarn_streams={level}")
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
    let engine = Engine::open(options).map_err(|e| {
        format!(
            "cannot open data directory {}: {e}",
            args.data_dir.display()
        )
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
        tracing::info!(
            "tarn listening on http://{local} (data {storage}, durability {})",
            options_label(&args)
        );
        let app = tarn_server::App::new(engine, args.region.clone(), args.account_id.clone());
        app.set_address(local.to_string());
        app.set_iterator_ttl_ms(args.stream_iterator_ttl_ms);
        axum::serve(listener, tarn_server::router(Arc::clone(&app)))
            .with_graceful_shutdown(shutdown_signal())
            .await
            .map_err(|e| format!("server failed: {e}"))?;
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
