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

/// Stand-in servers' side of the tests: reading one HTTP/1.1 request.
#[cfg(test)]
pub(crate) mod testing {
    use std::sync::Arc;
    use std::time::Duration;

    use tokio::io::AsyncReadExt;
    use tokio::net::TcpStream;

    use super::client::ClientConfig;
    use super::dist::Distribution;
    use super::http::Endpoint;
    use super::run::Config;
    use super::sigv4::Credentials;

    /// A run's configuration for a stand-in server at `url`: one closed-loop
    /// worker, 1000 records of 10 bytes, signed for `service`.
    pub fn config(url: &str, service: &'static str) -> Config {
        Config {
            client: Arc::new(ClientConfig {
                endpoint: Endpoint::parse(url).expect("endpoint"),
                credentials: Credentials {
                    access_key_id: "local".into(),
                    secret_access_key: "local".into(),
                    session_token: None,
                },
                region: "us-east-1".into(),
                service,
                timeout: Duration::from_secs(5),
                connect_attempts: 1,
            }),
            table: "tarn-load".into(),
            queue: "tarn-load".into(),
            queue_url: String::new(),
            records: 1000,
            value_bytes: 10,
            concurrency: 1,
            duration: Duration::from_millis(300),
            warmup: Duration::ZERO,
            rate: None,
            distribution: Distribution::Uniform,
            consistent_read: false,
            seed: 1,
            progress: false,
            table_wait: Duration::from_secs(1),
        }
    }

    pub struct Request {
        /// Names lowercased.
        pub headers: Vec<(String, String)>,
        pub body: Vec<u8>,
    }

    impl Request {
        pub fn header(&self, name: &str) -> &str {
            self.headers
                .iter()
                .find(|(n, _)| n == name)
                .map_or("", |(_, v)| v.as_str())
        }
    }

    /// The next request on `s` (head and `Content-Length` body), keeping
    /// what follows it in `buf`; None when the client is gone.
    pub async fn read_request(s: &mut TcpStream, buf: &mut Vec<u8>) -> Option<Request> {
        let mut chunk = [0u8; 16 * 1024];
        loop {
            let mut h = [httparse::EMPTY_HEADER; 32];
            let mut r = httparse::Request::new(&mut h);
            if let Ok(httparse::Status::Complete(head)) = r.parse(buf) {
                let headers: Vec<(String, String)> = r
                    .headers
                    .iter()
                    .map(|h| {
                        let value = String::from_utf8_lossy(h.value).into_owned();
                        (h.name.to_ascii_lowercase(), value)
                    })
                    .collect();
                let request = Request {
                    headers,
                    body: Vec::new(),
                };
                let len: usize = request.header("content-length").parse().unwrap_or(0);
                if buf.len() >= head + len {
                    let body = buf[head..head + len].to_vec();
                    buf.drain(..head + len);
                    return Some(Request { body, ..request });
                }
            }
            let n = s.read(&mut chunk).await.ok().filter(|n| *n > 0)?;
            buf.extend_from_slice(&chunk[..n]);
        }
    }
}
