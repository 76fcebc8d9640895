//! `tarn-load`: a load generator for any DynamoDB endpoint, and for SQS
//! endpoints (JSON protocol). See
//! `bench/README.md` and `tarn-load --help`.

use std::process::ExitCode;

use clap::Parser;
use tarn_bench::load::{self, cli::Args};

fn main() -> ExitCode {
    let resolved = match Args::parse().resolve() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("tarn-load: {e}");
            return ExitCode::from(2);
        }
    };
    let runtime = if resolved.threads == 1 {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
    } else {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(resolved.threads)
            .enable_all()
            .build()
    };
    let runtime = match runtime {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("tarn-load: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let json = resolved.json.clone();
    let report = match runtime.block_on(load::execute(resolved)) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("tarn-load: {e}");
            return ExitCode::FAILURE;
        }
    };
    if let Err(e) = report.print(&mut std::io::stdout().lock()) {
        eprintln!("tarn-load: cannot print the report: {e}");
        return ExitCode::FAILURE;
    }
    if let Some(path) = json {
        let written = serde_json::to_vec_pretty(&report)
            .map_err(|e| e.to_string())
            .and_then(|mut v| {
                v.push(b'\n');
                std::fs::write(&path, v).map_err(|e| e.to_string())
            });
        if let Err(e) = written {
            eprintln!("tarn-load: cannot write {}: {e}", path.display());
            return ExitCode::FAILURE;
        }
    }
    // A run whose workers gave up, or whose every operation failed, is
    // reported, but is not a success: its figures measure nothing.
    if let Some(run) = &report.run {
        if let Some(why) = run.failure() {
            eprintln!("tarn-load: {why}");
            return ExitCode::FAILURE;
        }
        if run.workers_stopped > 0 {
            return ExitCode::FAILURE;
        }
    }
    ExitCode::SUCCESS
}
