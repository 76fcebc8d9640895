//! Where function logs go: a [`LogSink`] (CloudWatch Logs once it is wired
//! in; Tarn's own log otherwise), with Lambda's group and stream names.

/// One log line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LogLine {
    /// When it was written, ms since the epoch.
    pub timestamp_ms: u64,
    /// The line, without its newline.
    pub message: String,
}

/// Receives function log lines: group `/aws/lambda/<name>`, one stream
/// per instance (`YYYY/MM/DD/[$LATEST]<32 hex>`).
pub trait LogSink: Send + Sync {
    /// Appends lines to a stream (creating group and stream as needed).
    fn append(&self, group: &str, stream: &str, events: Vec<LogLine>);
}

/// A sink that keeps nothing: the lines already went to `tracing`.
#[derive(Debug, Default)]
pub struct TracingSink;

impl LogSink for TracingSink {
    fn append(&self, _group: &str, _stream: &str, _events: Vec<LogLine>) {}
}

/// `/aws/lambda/<name>`.
pub fn group_name(function: &str) -> String {
    format!("/aws/lambda/{function}")
}

/// `YYYY/MM/DD/[<version>]<32 hex>` for an instance started at `now_ms`.
pub fn stream_name(now_ms: u64, version: &str, id_hex: &str) -> String {
    let (y, m, d) = crate::time::civil_date(now_ms / 1000);
    format!("{y:04}/{m:02}/{d:02}/[{version}]{id_hex}")
}

/// The tail Lambda returns with `LogType: Tail`: the last 4 KB.
pub const TAIL_BYTES: usize = 4096;

/// The last [`TAIL_BYTES`] of `log`, cut at a character boundary.
pub fn tail(log: &str) -> &str {
    if log.len() <= TAIL_BYTES {
        return log;
    }
    let mut start = log.len() - TAIL_BYTES;
    while !log.is_char_boundary(start) {
        start += 1;
    }
    &log[start..]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stream_names_have_lambdas_shape() {
        let s = stream_name(1_700_000_000_000, "$LATEST", &"a".repeat(32));
        assert_eq!(s, format!("2023/11/14/[$LATEST]{}", "a".repeat(32)));
    }

    #[test]
    fn the_tail_is_at_most_4_kb_and_whole_characters() {
        let log = "é".repeat(3000);
        let t = tail(&log);
        assert!(t.len() <= TAIL_BYTES);
        assert!(t.chars().all(|c| c == 'é'));
    }
}
