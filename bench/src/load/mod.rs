//! The load generator behind `tarn-load`, for any DynamoDB endpoint, and
//! for SQS endpoints that speak SQS's JSON protocol.
//!
//! - [`cli`]: the command line, resolved into a [`run::Config`].
//! - [`run`]: the load phase (create the table, BatchWriteItem the records)
//!   and the run phase (workers, progress line, warmup, fixed rate).
//! - [`workload`] and [`dist`]: what each operation does and which record it
//!   touches (YCSB's workloads and key distributions).
//! - [`sqs`]: the SQS workloads' bodies, queue setup and prefill.
//! - [`body`]: DynamoDB JSON request bodies; [`client`], [`http`] and
//!   [`sigv4`]: a signed HTTP/1.1 keep-alive client, one per worker.
//! - [`stats`] and [`report`]: HdrHistogram latencies, the summary, JSON.
//! - [`ceiling`]: `tarn-ceiling`, a fixed-reply server that measures the
//!   generator's own ceiling.
//!
//! The hot path allocates nothing per request: each worker reuses its body,
//! request and response buffers, its signer caches the day's key, and its
//! histograms sit behind a mutex only the once-a-second reporter touches.

pub mod body;
pub mod ceiling;
pub mod cli;
pub mod client;
pub mod dist;
pub mod http;
pub mod report;
pub mod run;
pub mod sigv4;
pub mod sqs;
pub mod stats;
pub mod workload;

use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

/// Run what the command line asks for: the load phase, then the workload.
pub async fn execute(resolved: cli::Resolved) -> Result<report::Report, String> {
    let started_unix_ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64);
    let mut config = resolved.config;
    if let Some(workload) = resolved.workload.filter(|w| w.is_sqs()) {
        config.queue_url = sqs::setup(&config).await?;
        let config = Arc::new(config);
        let load = if resolved.load {
            Some(sqs::prefill(config.clone()).await?)
        } else {
            None
        };
        let run = run::run(config, workload).await?;
        return Ok(report::Report {
            tool: "tarn-load",
            version: env!("CARGO_PKG_VERSION"),
            started_unix_ms,
            parameters: resolved.parameters,
            load,
            run: Some(run),
        });
    }
    let config = Arc::new(config);
    let load = if resolved.load {
        Some(run::load(config.clone()).await?)
    } else {
        None
    };
    let run = match resolved.workload {
        Some(workload) => {
            if !resolved.load {
                run::check_table(&config).await?;
            }
            Some(run::run(config, workload).await?)
        }
        None => None,
    };
    Ok(report::Report {
        tool: "tarn-load",
        version: env!("CARGO_PKG_VERSION"),
        started_unix_ms,
        parameters: resolved.parameters,
        load,
        run,
    })
}
