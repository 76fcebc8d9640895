//! `tarn-ceiling`: answers every POST with one fixed GetItem reply, to
//! measure how fast `tarn-load` itself can go. Loopback only by default.

use std::process::ExitCode;
use std::sync::Arc;

use clap::Parser;
use tarn_bench::load::ceiling;

/// A fixed-reply HTTP/1.1 server for measuring the load generator's ceiling.
#[derive(Debug, Parser)]
#[command(name = "tarn-ceiling", version)]
struct Args {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1")]
    host: String,
    /// Port to listen on (0 picks a free one).
    #[arg(long, default_value_t = 8001)]
    port: u16,
    /// Size of the reply's field0 string.
    #[arg(long, default_value_t = 100)]
    value_bytes: usize,
    /// Runtime threads.
    #[arg(long, default_value_t = 1)]
    threads: usize,
}

fn main() -> ExitCode {
    let args = Args::parse();
    let runtime = if args.threads <= 1 {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
    } else {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(args.threads)
            .enable_all()
            .build()
    };
    let runtime = match runtime {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("tarn-ceiling: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result: std::io::Result<()> = runtime.block_on(async {
        let listener = tokio::net::TcpListener::bind((args.host.as_str(), args.port)).await?;
        eprintln!(
            "tarn-ceiling listening on http://{}",
            listener.local_addr()?
        );
        let reply: Arc<[u8]> = ceiling::reply(args.value_bytes).into();
        tokio::select! {
            r = ceiling::serve(listener, reply) => r,
            _ = shutdown() => Ok(()),
        }
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("tarn-ceiling: {e}");
            ExitCode::FAILURE
        }
    }
}

/// SIGINT or SIGTERM.
async fn shutdown() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        if let Ok(mut term) = signal(SignalKind::terminate()) {
            tokio::select! {
                _ = term.recv() => {}
                _ = tokio::signal::ctrl_c() => {}
            }
            return;
        }
    }
    let _ = tokio::signal::ctrl_c().await;
}
