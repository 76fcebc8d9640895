//! The final report: a table on stdout, and the same as one JSON object.

use std::io::{self, Write};

use serde::Serialize;

use super::run::{LoadReport, RunReport};
use super::stats::{Latency, OpSummary};

/// The parameters a run used, echoed in the report.
#[derive(Clone, Debug, Serialize)]
pub struct Parameters {
    pub endpoint: String,
    pub table: String,
    /// The SQS workloads' queue.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub queue: Option<String>,
    pub workload: Option<&'static str>,
    pub load: bool,
    pub records: u64,
    pub value_bytes: usize,
    pub concurrency: usize,
    pub duration_s: f64,
    pub warmup_s: f64,
    /// `closed-loop` or `fixed-rate`.
    pub mode: &'static str,
    pub rate: Option<f64>,
    pub distribution: &'static str,
    pub consistent_read: bool,
    pub region: String,
    pub threads: usize,
    pub timeout_s: f64,
    pub seed: u64,
}

#[derive(Clone, Debug, Serialize)]
pub struct Report {
    pub tool: &'static str,
    pub version: &'static str,
    pub started_unix_ms: u64,
    pub parameters: Parameters,
    pub load: Option<LoadReport>,
    pub run: Option<RunReport>,
}

fn row(
    out: &mut impl Write,
    name: &str,
    s: &OpSummary,
    latency: Option<&Latency>,
) -> io::Result<()> {
    write!(
        out,
        "{name:<18} {:>10} {:>7} {:>11.1}",
        s.count, s.errors, s.ops_per_s
    )?;
    match latency {
        Some(l) => writeln!(
            out,
            " {:>8} {:>8} {:>8} {:>8} {:>8} {:>9.1}",
            l.p50, l.p90, l.p99, l.p99_9, l.max, l.mean
        ),
        None => writeln!(out, " {:>8}", "-"),
    }
}

fn table(
    out: &mut impl Write,
    run: &RunReport,
    pick: impl Fn(&OpSummary) -> Option<&Latency>,
) -> io::Result<()> {
    writeln!(
        out,
        "{:<18} {:>10} {:>7} {:>11} {:>8} {:>8} {:>8} {:>8} {:>8} {:>9}",
        "operation", "count", "errors", "ops/s", "p50", "p90", "p99", "p99.9", "max", "mean"
    )?;
    for name in &run.order {
        if let Some(s) = run.operations.get(name) {
            row(out, name, s, pick(s))?;
        }
    }
    if run.order.len() > 1 {
        row(out, "all", &run.all, pick(&run.all))?;
    }
    Ok(())
}

impl Report {
    /// The human-readable summary (latencies in microseconds).
    pub fn print(&self, out: &mut impl Write) -> io::Result<()> {
        let p = &self.parameters;
        match &p.queue {
            Some(q) => writeln!(out, "tarn-load {}: {} queue {q}", self.version, p.endpoint)?,
            None => writeln!(
                out,
                "tarn-load {}: {} table {}",
                self.version, p.endpoint, p.table
            )?,
        }
        if let (Some(l), Some(_)) = (&self.load, &p.queue) {
            writeln!(
                out,
                "prefill: {} messages in {:.1} s ({} messages/s), {} failed, {} retries",
                l.items, l.seconds, l.items_per_s, l.failed_items, l.retries
            )?;
            for (ty, n) in &l.errors {
                writeln!(out, "  prefill error {ty}: {n}")?;
            }
        } else if let Some(l) = &self.load {
            writeln!(
                out,
                "load: {} items in {:.1} s ({} items/s), {} failed, {} retries{}",
                l.items,
                l.seconds,
                l.items_per_s,
                l.failed_items,
                l.retries,
                if l.table_created {
                    ", table created"
                } else {
                    ""
                }
            )?;
            for (ty, n) in &l.errors {
                writeln!(out, "  load error {ty}: {n}")?;
            }
        }
        let Some(run) = &self.run else {
            return Ok(());
        };
        let mode = match p.rate {
            Some(r) => format!("fixed rate {r} ops/s"),
            None => "closed loop".to_owned(),
        };
        if p.queue.is_some() {
            writeln!(
                out,
                "run: workload {}, {}-byte messages, {} connections, {mode}, \
                 {:.1} s measured after {} s warmup",
                p.workload.unwrap_or("-"),
                p.value_bytes,
                p.concurrency,
                run.measured_s,
                p.warmup_s
            )?;
        } else {
            writeln!(
                out,
                "run: workload {}, {} keys, {} records, {}-byte values, {} connections, {mode}, \
                 {:.1} s measured after {} s warmup",
                p.workload.unwrap_or("-"),
                p.distribution,
                p.records,
                p.value_bytes,
                p.concurrency,
                run.measured_s,
                p.warmup_s
            )?;
        }
        writeln!(out)?;
        if p.rate.is_some() {
            writeln!(
                out,
                "latency (us) from the intended send time, corrected for coordinated omission:"
            )?;
            table(out, run, |s| s.latency_us.as_ref())?;
            writeln!(out)?;
            writeln!(out, "latency (us) from the actual send time, uncorrected:")?;
            table(out, run, |s| s.latency_uncorrected_us.as_ref())?;
            if let Some(behind) = run.behind_schedule_us_max {
                writeln!(
                    out,
                    "\nlongest wait past the schedule for a late reply: {behind} us"
                )?;
            }
            if let Some(unsent) = run.unsent.filter(|n| *n > 0) {
                writeln!(
                    out,
                    "{unsent} operations due before the end were still waiting behind late \
                     replies when it came; they are not in the histograms (many means the \
                     server did not keep up with {} ops/s)",
                    p.rate.unwrap_or_default()
                )?;
            }
        } else {
            writeln!(out, "latency (us):")?;
            table(out, run, |s| s.latency_us.as_ref())?;
        }
        writeln!(out)?;
        if run.errors.is_empty() {
            writeln!(out, "errors: none")?;
        } else {
            writeln!(out, "errors ({}):", run.errors_total)?;
            for (ty, n) in &run.errors {
                writeln!(out, "  {ty}: {n}")?;
            }
        }
        if run.get_misses > 0 {
            writeln!(
                out,
                "GetItem found no item {} times (was the table loaded with --records {}?)",
                run.get_misses, p.records
            )?;
        }
        if let (Some(m), Some(per_s)) = (run.messages, run.messages_per_s) {
            writeln!(
                out,
                "messages received and deleted: {m} ({per_s:.1} messages/s)"
            )?;
        }
        if let Some(empty) = run.empty_receives.filter(|n| *n > 0) {
            writeln!(
                out,
                "warning: {empty} ReceiveMessages found the queue empty: it ran dry during the \
                 run, so the figures above are not a receive rate (prefill more with --records)"
            )?;
        }
        if run.unprocessed_items > 0 {
            writeln!(out, "unprocessed batch items: {}", run.unprocessed_items)?;
        }
        if run.reconnects > 0 {
            writeln!(out, "reconnects: {}", run.reconnects)?;
        }
        if run.workers_stopped > 0 {
            writeln!(out, "workers stopped early: {}", run.workers_stopped)?;
        }
        Ok(())
    }
}
