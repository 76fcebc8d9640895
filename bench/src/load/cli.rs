//! The `tarn-load` command line.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use clap::Parser;

use super::body::valid_table_name;
use super::client::ClientConfig;
use super::dist::Distribution;
use super::http::Endpoint;
use super::report::Parameters;
use super::run::Config;
use super::sigv4::Credentials;
use super::sqs::valid_queue_name;
use super::workload::Workload;

/// Load generator for any DynamoDB endpoint (Tarn, DynamoDB Local, dynalite,
/// AWS over plain HTTP): YCSB workloads A-F and plain put, get, query and
/// batch-write; and for SQS endpoints (JSON protocol): sqs-send and
/// sqs-receive-delete. HDR-histogram latencies, JSON output.
#[derive(Debug, Parser)]
#[command(name = "tarn-load", version)]
pub struct Args {
    /// The endpoint URL (plain HTTP).
    #[arg(long, default_value = "http://127.0.0.1:8000")]
    pub endpoint: String,
    /// The workload to run after the optional load phase.
    #[arg(long, value_enum)]
    pub workload: Option<Workload>,
    /// Create the table if missing and load --records items first. With an
    /// SQS workload: put --records messages in the queue first
    /// (SendMessageBatch).
    #[arg(long)]
    pub load: bool,
    /// Records in the table: record i is pk "user{i/10}", sk i%10. With an
    /// SQS workload: messages --load puts in the queue.
    #[arg(long, default_value_t = 100_000)]
    pub records: u64,
    /// Size of each record's field0 string, or of each SQS message body, in
    /// bytes.
    #[arg(long, default_value_t = 100)]
    pub value_bytes: usize,
    /// Concurrent workers, each with its own keep-alive connection.
    #[arg(long, default_value_t = 16)]
    pub concurrency: usize,
    /// How long the workload is measured (30s, 500ms, 2m, ...).
    #[arg(long, default_value = "30s", value_parser = parse_duration)]
    pub duration: Duration,
    /// Run this long before measuring; excluded from the statistics.
    #[arg(long, default_value = "0s", value_parser = parse_duration)]
    pub warmup: Duration,
    /// Total operations per second: a fixed-rate (open-loop) run with
    /// latencies corrected for coordinated omission. Closed loop without it.
    #[arg(long)]
    pub rate: Option<f64>,
    /// Key distribution [default: zipfian for A-F, latest for D, uniform
    /// for put/get/query/batch-write].
    #[arg(long, value_enum)]
    pub distribution: Option<Distribution>,
    /// The table (hash key pk S, range key sk N).
    #[arg(long, default_value = "tarn-load")]
    pub table: String,
    /// The SQS workloads' queue (a standard queue), created if missing.
    #[arg(long, default_value = "tarn-load")]
    pub queue: String,
    /// Also write the report as JSON to this file.
    #[arg(long)]
    pub json: Option<PathBuf>,
    /// The signing region [default: the region of an AWS endpoint
    /// (dynamodb.<region>.amazonaws.com), else us-east-1].
    #[arg(long)]
    pub region: Option<String>,
    /// Access key id to sign with [default: $AWS_ACCESS_KEY_ID, else
    /// "local"].
    #[arg(long)]
    pub access_key_id: Option<String>,
    /// Secret access key [default: $AWS_SECRET_ACCESS_KEY, else "local"].
    #[arg(long)]
    pub secret_access_key: Option<String>,
    /// Session token [default: $AWS_SESSION_TOKEN when the key comes from
    /// the environment].
    #[arg(long)]
    pub session_token: Option<String>,
    /// Per-request timeout; a request past it counts as a Timeout error.
    #[arg(long, default_value = "10s", value_parser = parse_duration)]
    pub timeout: Duration,
    /// Runtime threads. One thread drives ~85k requests/s on loopback and
    /// leaves the other cores to the server; raise it only when a run
    /// against tarn-ceiling shows the generator is the limit.
    #[arg(long, default_value_t = 1)]
    pub threads: usize,
    /// Strongly consistent GetItem and Query.
    #[arg(long)]
    pub consistent_read: bool,
    /// Seed of the random choices [default: from the clock].
    #[arg(long)]
    pub seed: Option<u64>,
    /// How long --load waits for a new table to become ACTIVE.
    #[arg(long, default_value = "120s", value_parser = parse_duration)]
    pub table_wait: Duration,
    /// No live progress line on stderr.
    #[arg(long)]
    pub no_progress: bool,
}

/// `30s`, `500ms`, `2m`, `1h`, `1.5s`, or a plain number of seconds.
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let s = s.trim();
    let split = s
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(s.len());
    let (num, unit) = s.split_at(split);
    let n: f64 = num
        .parse()
        .map_err(|_| format!("{s:?}: expected a duration such as 30s, 500ms or 2m"))?;
    let secs = match unit.trim() {
        "" | "s" => n,
        "ms" => n / 1000.0,
        "us" => n / 1_000_000.0,
        "m" | "min" => n * 60.0,
        "h" => n * 3600.0,
        u => return Err(format!("{s:?}: unknown unit {u:?} (use ms, s, m or h)")),
    };
    Duration::try_from_secs_f64(secs).map_err(|e| format!("{s:?}: {e}"))
}

/// The command line, checked and resolved.
#[derive(Debug)]
pub struct Resolved {
    pub config: Config,
    pub workload: Option<Workload>,
    pub load: bool,
    pub json: Option<PathBuf>,
    pub threads: usize,
    pub parameters: Parameters,
}

impl Args {
    pub fn resolve(self) -> Result<Resolved, String> {
        self.resolve_with_env(|k| std::env::var(k).ok())
    }

    /// `env` looks up environment variables (a parameter for tests).
    pub fn resolve_with_env(
        self,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<Resolved, String> {
        if self.workload.is_none() && !self.load {
            return Err("nothing to do: give --load, --workload, or both".into());
        }
        let endpoint = Endpoint::parse(&self.endpoint)?;
        let sqs = self.workload.is_some_and(Workload::is_sqs);
        if sqs && !valid_queue_name(&self.queue) {
            return Err(format!(
                "{:?}: a standard queue name is 1 to 80 of A-Z a-z 0-9 _ -",
                self.queue
            ));
        }
        if sqs && self.value_bytes > 262_144 {
            return Err("--value-bytes must be at most 262144 (SQS's message limit)".into());
        }
        if !valid_table_name(&self.table) {
            return Err(format!(
                "{:?}: a table name is 3 to 255 of A-Z a-z 0-9 _ - .",
                self.table
            ));
        }
        if self.records == 0 {
            return Err("--records must be at least 1".into());
        }
        if !(1..=400_000).contains(&self.value_bytes) {
            return Err("--value-bytes must be 1 to 400000 (DynamoDB's item limit)".into());
        }
        if !(1..=4096).contains(&self.concurrency) {
            return Err("--concurrency must be 1 to 4096".into());
        }
        if self.workload.is_some() && self.duration.is_zero() {
            return Err("--duration must be more than 0".into());
        }
        if let Some(rate) = self.rate {
            if !(rate.is_finite() && rate > 0.0) {
                return Err("--rate must be a positive number of operations per second".into());
            }
        }
        if self.timeout.is_zero() {
            return Err("--timeout must be more than 0".into());
        }
        if self.threads == 0 {
            return Err("--threads must be at least 1".into());
        }
        let threads = self.threads;
        let region = self
            .region
            .or_else(|| endpoint.aws_region().map(str::to_owned))
            .unwrap_or_else(|| "us-east-1".into());
        let from_env = self.access_key_id.is_none();
        let credentials = Credentials {
            access_key_id: self
                .access_key_id
                .or_else(|| env("AWS_ACCESS_KEY_ID"))
                .unwrap_or_else(|| "local".into()),
            secret_access_key: self
                .secret_access_key
                .or_else(|| env("AWS_SECRET_ACCESS_KEY"))
                .unwrap_or_else(|| "local".into()),
            session_token: self.session_token.or_else(|| {
                from_env
                    .then(|| env("AWS_SESSION_TOKEN"))
                    .flatten()
                    .filter(|t| !t.is_empty())
            }),
        };
        let distribution = self
            .distribution
            .or(self.workload.map(Workload::default_distribution))
            .unwrap_or(Distribution::Uniform);
        let seed = self.seed.unwrap_or_else(|| {
            SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(1, |d| d.as_nanos() as u64)
        });
        let parameters = Parameters {
            endpoint: self.endpoint.clone(),
            table: self.table.clone(),
            queue: sqs.then(|| self.queue.clone()),
            workload: self.workload.map(Workload::name),
            load: self.load,
            records: self.records,
            value_bytes: self.value_bytes,
            concurrency: self.concurrency,
            duration_s: self.duration.as_secs_f64(),
            warmup_s: self.warmup.as_secs_f64(),
            mode: if self.rate.is_some() {
                "fixed-rate"
            } else {
                "closed-loop"
            },
            rate: self.rate,
            distribution: distribution.name(),
            consistent_read: self.consistent_read,
            region: region.clone(),
            threads,
            timeout_s: self.timeout.as_secs_f64(),
            seed,
        };
        let config = Config {
            client: Arc::new(ClientConfig {
                endpoint,
                credentials,
                region,
                service: if sqs { "sqs" } else { "dynamodb" },
                timeout: self.timeout,
                connect_attempts: 5,
            }),
            table: self.table,
            queue: self.queue,
            queue_url: String::new(),
            records: self.records,
            value_bytes: self.value_bytes,
            concurrency: self.concurrency,
            duration: self.duration,
            warmup: self.warmup,
            rate: self.rate,
            distribution,
            consistent_read: self.consistent_read,
            seed,
            progress: !self.no_progress,
            table_wait: self.table_wait,
        };
        Ok(Resolved {
            config,
            workload: self.workload,
            load: self.load,
            json: self.json,
            threads,
            parameters,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(line: &str) -> Result<Resolved, String> {
        let argv = std::iter::once("tarn-load").chain(line.split_whitespace());
        Args::try_parse_from(argv)
            .map_err(|e| e.to_string())?
            .resolve_with_env(|k| match k {
                "AWS_ACCESS_KEY_ID" => Some("AKIDENV".into()),
                "AWS_SECRET_ACCESS_KEY" => Some("secretenv".into()),
                "AWS_SESSION_TOKEN" => Some("tokenenv".into()),
                _ => None,
            })
    }

    #[test]
    fn durations_parse() {
        assert_eq!(parse_duration("30s"), Ok(Duration::from_secs(30)));
        assert_eq!(parse_duration("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_duration("2m"), Ok(Duration::from_secs(120)));
        assert_eq!(parse_duration("1.5s"), Ok(Duration::from_millis(1500)));
        assert_eq!(parse_duration("10"), Ok(Duration::from_secs(10)));
        assert!(parse_duration("ten").is_err());
        assert!(parse_duration("5 fortnights").is_err());
    }

    #[test]
    fn defaults_follow_the_workload() {
        let r = args("--workload d").expect("ok");
        assert_eq!(r.config.distribution, Distribution::Latest);
        assert_eq!(r.config.concurrency, 16);
        assert_eq!(r.config.records, 100_000);
        assert_eq!(r.parameters.mode, "closed-loop");
        let r = args("--workload get").expect("ok");
        assert_eq!(r.config.distribution, Distribution::Uniform);
        assert_eq!(r.config.client.region, "us-east-1");
        let r =
            args("--workload get --endpoint http://dynamodb.ap-south-1.amazonaws.com").expect("ok");
        assert_eq!(r.config.client.region, "ap-south-1");
        let r = args("--workload get --region eu-north-1").expect("ok");
        assert_eq!(r.config.client.region, "eu-north-1");
        let r = args("--workload a --distribution uniform --rate 1000").expect("ok");
        assert_eq!(r.config.distribution, Distribution::Uniform);
        assert_eq!(r.parameters.mode, "fixed-rate");
    }

    #[test]
    fn credentials_come_from_flags_then_the_environment() {
        let r = args("--load").expect("ok");
        let c = &r.config.client.credentials;
        assert_eq!(c.access_key_id, "AKIDENV");
        assert_eq!(c.secret_access_key, "secretenv");
        assert_eq!(c.session_token.as_deref(), Some("tokenenv"));
        let r = args("--load --access-key-id AKIDFLAG --secret-access-key s").expect("ok");
        let c = &r.config.client.credentials;
        assert_eq!(c.access_key_id, "AKIDFLAG");
        assert_eq!(c.session_token, None, "no env token with flag credentials");
        let r = Args::try_parse_from(["tarn-load", "--load"])
            .expect("parse")
            .resolve_with_env(|_| None)
            .expect("ok");
        assert_eq!(r.config.client.credentials.access_key_id, "local");
    }

    #[test]
    fn bad_command_lines_are_refused() {
        assert!(args("").is_err(), "nothing to do");
        assert!(args("--workload a --records 0").is_err());
        assert!(args("--workload a --rate 0").is_err());
        assert!(args("--workload a --table x").is_err());
        assert!(args("--workload a --endpoint 127.0.0.1:8000").is_err());
        assert!(args("--workload a --concurrency 0").is_err());
        assert!(args("--workload z").is_err());
        assert!(args("--workload sqs-send --queue q.fifo").is_err());
        assert!(args("--workload sqs-send --value-bytes 300000").is_err());
    }

    #[test]
    fn sqs_workloads_sign_for_sqs() {
        let r = args("--workload sqs-receive-delete --load --records 1000").expect("ok");
        assert_eq!(r.config.client.service, "sqs");
        assert_eq!(r.parameters.queue.as_deref(), Some("tarn-load"));
        assert_eq!(r.parameters.workload, Some("sqs-receive-delete"));
        let r = args("--workload get").expect("ok");
        assert_eq!(r.config.client.service, "dynamodb");
        assert_eq!(r.parameters.queue, None);
    }
}
