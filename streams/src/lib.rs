//! Consumers of the engine's change log. Today: DynamoDB Streams, with its
//! stream ARNs and labels, shards and their lineage, shard iterators, and
//! records shaped as GetRecords returns them (`docs/research/streams.md`).
//! Event-source mappings, SQS, SNS and Kinesis will hang on the same log.
//!
//! The engine writes the log (a record per change, in the change's own
//! batch) and keeps shards; this crate turns it into the Streams API's
//! terms. It knows no wire format: the server renders what it returns.
//!
//! Shard iterators are self-contained tokens shaped like DynamoDB's,
//! `<stream ARN>|1|<opaque>`, where the opaque part holds the table, stream,
//! shard and next sequence number, when the iterator was issued, and a
//! checksum, in hex. They survive restarts, and expire after 15 minutes as
//! DynamoDB's do.

#![forbid(unsafe_code)]

use tarn_core::arn::{self, Arns};
use tarn_engine::changelog::{ChangeRecord, ShardDef, StreamInfo, StreamViewType};
use tarn_engine::{Engine, KeySchema};

/// The storage engine this crate builds on.
pub use tarn_engine as engine;

const TRIMMED: &str = "The data you are trying to access has been trimmed";

/// How long a shard iterator is valid.
pub const ITERATOR_TTL_MS: u64 = 15 * 60 * 1000;
/// GetRecords' limits.
pub const RECORDS_MAX: usize = 1000;
/// GetRecords returns at most about this many bytes.
pub const RECORDS_BYTES_MAX: usize = 1024 * 1024;

/// Errors of the Streams API, each with DynamoDB's exception.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// ValidationException.
    #[error("{0}")]
    Validation(String),
    /// ResourceNotFoundException.
    #[error("{0}")]
    ResourceNotFound(String),
    /// ExpiredIteratorException.
    #[error("{0}")]
    ExpiredIterator(String),
    /// TrimmedDataAccessException.
    #[error("{0}")]
    TrimmedDataAccess(String),
    /// The engine failed.
    #[error(transparent)]
    Engine(#[from] tarn_engine::Error),
}

/// Result of stream calls.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// What the Streams API needs to know of the server: where ARNs point,
/// and how long iterators live.
#[derive(Clone, Debug)]
pub struct Names {
    /// The ARNs of the server's account and region.
    pub arns: Arns,
    /// How long a shard iterator is valid ([`ITERATOR_TTL_MS`]; shorter
    /// only for tests).
    pub iterator_ttl_ms: u64,
}

/// A stream's label: its creation time in ISO 8601, UTC, to the
/// millisecond, as DynamoDB writes it (`2026-12-01T08:05:49.123`).
pub fn label(created_ms: u64) -> String {
    arn::stream_label(created_ms)
}

impl Names {
    /// The ARN of a stream.
    pub fn stream_arn(&self, table: &str, created_ms: u64) -> String {
        self.arns.stream(table, created_ms)
    }

    /// The table and label a stream ARN names, if it is one of this
    /// server's (`Ok(None)` for a well-formed ARN of another region or
    /// account). A malformed ARN is a ValidationException.
    fn parse_arn<'a>(&self, arn: &'a str) -> Result<Option<(&'a str, &'a str)>> {
        let parsed = arn::parse_stream(arn).ok_or_else(invalid_arn)?;
        Ok(self
            .arns
            .owns_stream(&parsed)
            .then_some((parsed.table, parsed.label)))
    }
}

fn invalid_arn() -> Error {
    Error::Validation("Invalid StreamArn".into())
}

/// A sequence number as the API shows it: 21 digits.
pub fn sequence_number(seq: u64) -> String {
    format!("1{seq:020}")
}

fn parse_sequence_number(s: &str) -> Option<u64> {
    if s.len() != 21 || !s.starts_with('1') || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s[1..].parse().ok()
}

/// A shard's id as the API shows it:
/// `shardId-<20-digit creation ms>-<8 hex digits>`.
pub fn shard_id(stream: u32, shard: &ShardDef) -> String {
    let h = blake3::hash(&[stream.to_be_bytes(), shard.id.to_be_bytes()].concat());
    let b = h.as_bytes();
    format!(
        "shardId-{:020}-{:02x}{:02x}{:02x}{:02x}",
        shard.created_ms, b[0], b[1], b[2], b[3]
    )
}

/// One stream of ListStreams.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StreamSummary {
    /// Its ARN.
    pub arn: String,
    /// Its table.
    pub table: String,
    /// Its label.
    pub label: String,
}

/// A shard as DescribeStream shows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ShardSummary {
    /// Its id.
    pub id: String,
    /// Its parent's id, if it has a parent still described.
    pub parent: Option<String>,
    /// Its first sequence number.
    pub starting_sequence_number: String,
    /// Its last sequence number, once closed.
    pub ending_sequence_number: Option<String>,
}

/// DescribeStream's answer.
#[derive(Clone, Debug)]
pub struct StreamDescription {
    /// ARN.
    pub arn: String,
    /// Label.
    pub label: String,
    /// `ENABLED` or `DISABLED`.
    pub status: &'static str,
    /// View type.
    pub view_type: StreamViewType,
    /// When it was enabled, ms since the epoch.
    pub created_ms: u64,
    /// Table name.
    pub table: String,
    /// The table's key schema.
    pub key_schema: KeySchema,
    /// The page of shards.
    pub shards: Vec<ShardSummary>,
    /// The last shard of the page, when more follow.
    pub last_evaluated_shard_id: Option<String>,
}

fn stream_not_found(arn: &str) -> Error {
    Error::ResourceNotFound(format!(
        "Requested resource not found: Stream: {arn} not found"
    ))
}

fn shard_not_found() -> Error {
    Error::ResourceNotFound("Requested resource not found: Shard does not exist".into())
}

/// The stream an ARN names: a ValidationException if the ARN is
/// malformed, a ResourceNotFoundException if no such stream exists.
fn find(engine: &Engine, names: &Names, arn: &str) -> Result<StreamInfo> {
    let Some((table, wanted)) = names.parse_arn(arn)? else {
        return Err(stream_not_found(arn));
    };
    // A table and a label name one stream (the engine makes each new
    // label later than every earlier one of a table of that name).
    engine
        .list_streams(Some(table))
        .into_iter()
        .find(|f| label(f.def.created_ms) == wanted)
        .ok_or_else(|| stream_not_found(arn))
}

/// ListStreams: the streams of one table or of all (with those of deleted
/// tables, until their retention has passed), ordered by table name and
/// then newest first, after `exclusive_start`, at most `limit`.
///
/// `exclusive_start` is a position in that order, not a stream that must
/// still exist: paging goes on from where the named stream is or would be.
pub fn list_streams(
    engine: &Engine,
    names: &Names,
    table: Option<&str>,
    exclusive_start: Option<&str>,
    limit: usize,
) -> Result<(Vec<StreamSummary>, Option<String>)> {
    let after = match exclusive_start {
        Some(arn) => {
            let p = arn::parse_stream(arn).ok_or_else(invalid_arn)?;
            Some((p.table.to_owned(), p.label.to_owned()))
        }
        None => None,
    };
    let mut all: Vec<StreamSummary> = engine
        .list_streams(table)
        .into_iter()
        .map(|f| StreamSummary {
            arn: names.stream_arn(&f.table, f.def.created_ms),
            label: label(f.def.created_ms),
            table: f.table,
        })
        .collect();
    // Newest first within a table, as the one AWS example shows. Labels
    // have a fixed width, so their text order is their time order.
    all.sort_by(|a, b| a.table.cmp(&b.table).then_with(|| b.label.cmp(&a.label)));
    let start = match &after {
        Some((t, l)) => all.partition_point(|s| {
            (s.table.as_str(), std::cmp::Reverse(s.label.as_str()))
                <= (t.as_str(), std::cmp::Reverse(l.as_str()))
        }),
        None => 0,
    };
    let page: Vec<StreamSummary> = all.iter().skip(start).take(limit).cloned().collect();
    let more = start + page.len() < all.len();
    let last = if more {
        page.last().map(|s| s.arn.clone())
    } else {
        None
    };
    Ok((page, last))
}

/// DescribeStream: the stream and a page of its shards in lexical
/// `ShardId` order, which is creation order (a child is created after its
/// parent), after `exclusive_start_shard` in that order (a shard id that
/// does not exist is a position too), at most `limit`; with `children_of`
/// (ShardFilter `CHILD_SHARDS`), only the children of that shard.
pub fn describe_stream(
    engine: &Engine,
    names: &Names,
    arn: &str,
    limit: usize,
    exclusive_start_shard: Option<&str>,
    children_of: Option<&str>,
) -> Result<StreamDescription> {
    let f = find(engine, names, arn)?;
    let id_of = |s: &ShardDef| shard_id(f.def.id, s);
    let mut shards: Vec<(String, &ShardDef)> =
        f.state.shards.iter().map(|s| (id_of(s), s)).collect();
    shards.sort_by(|a, b| a.0.cmp(&b.0));
    if let Some(parent) = children_of {
        let Some(&(_, p)) = shards.iter().find(|(id, _)| id == parent) else {
            return Err(shard_not_found());
        };
        let parent_id = p.id;
        shards.retain(|(_, s)| s.parent == Some(parent_id));
    }
    if let Some(start) = exclusive_start_shard {
        shards.retain(|(id, _)| id.as_str() > start);
    }
    let more = shards.len() > limit;
    let page: Vec<ShardSummary> = shards
        .iter()
        .take(limit)
        .map(|(id, s)| ShardSummary {
            id: id.clone(),
            parent: s
                .parent
                .and_then(|p| f.state.shards.iter().find(|x| x.id == p))
                .map(id_of),
            starting_sequence_number: sequence_number(s.start_seq),
            ending_sequence_number: s.end_seq.map(sequence_number),
        })
        .collect();
    Ok(StreamDescription {
        arn: arn.to_owned(),
        label: label(f.def.created_ms),
        status: if f.def.enabled { "ENABLED" } else { "DISABLED" },
        view_type: f.def.view_type,
        created_ms: f.def.created_ms,
        table: f.table,
        key_schema: f.key_schema,
        last_evaluated_shard_id: if more {
            page.last().map(|s| s.id.clone())
        } else {
            None
        },
        shards: page,
    })
}

/// Where GetShardIterator starts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IteratorType {
    /// The oldest record kept.
    TrimHorizon,
    /// Just after the newest record.
    Latest,
    /// At a sequence number.
    AtSequenceNumber,
    /// Just after a sequence number.
    AfterSequenceNumber,
}

/// What an iterator holds.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Position {
    table: String,
    stream: u32,
    shard: u32,
    next: u64,
    issued_ms: u64,
}

const ITERATOR_VERSION: u8 = 1;

fn checksum(body: &[u8]) -> [u8; 8] {
    let h = blake3::hash(body);
    let mut out = [0u8; 8];
    out.copy_from_slice(&h.as_bytes()[..8]);
    out
}

fn encode_iterator(arn: &str, p: &Position) -> String {
    let mut body = vec![ITERATOR_VERSION];
    body.extend_from_slice(&p.stream.to_be_bytes());
    body.extend_from_slice(&p.shard.to_be_bytes());
    body.extend_from_slice(&p.next.to_be_bytes());
    body.extend_from_slice(&p.issued_ms.to_be_bytes());
    body.extend_from_slice(p.table.as_bytes());
    let sum = checksum(&body);
    body.extend_from_slice(&sum);
    let hex: String = body.iter().map(|b| format!("{b:02x}")).collect();
    format!("{arn}|1|{hex}")
}

fn decode_iterator(iterator: &str) -> Option<Position> {
    let (_, s) = iterator.rsplit_once("|1|")?;
    if s.len() % 2 != 0 || s.len() < 2 * (1 + 4 + 4 + 8 + 8 + 8) {
        return None;
    }
    let bytes: Vec<u8> = (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok())
        .collect::<Option<_>>()?;
    let (body, sum) = bytes.split_at(bytes.len() - 8);
    if checksum(body) != sum || body[0] != ITERATOR_VERSION {
        return None;
    }
    let u32_at = |i: usize| u32::from_be_bytes(body[i..i + 4].try_into().unwrap_or([0; 4]));
    let u64_at = |i: usize| u64::from_be_bytes(body[i..i + 8].try_into().unwrap_or([0; 8]));
    Some(Position {
        stream: u32_at(1),
        shard: u32_at(5),
        next: u64_at(9),
        issued_ms: u64_at(17),
        table: String::from_utf8(body[25..].to_vec()).ok()?,
    })
}

fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

/// GetShardIterator.
pub fn get_shard_iterator(
    engine: &Engine,
    names: &Names,
    arn: &str,
    shard: &str,
    kind: IteratorType,
    sequence: Option<&str>,
) -> Result<String> {
    let f = find(engine, names, arn)?;
    let Some(s) = f
        .state
        .shards
        .iter()
        .find(|s| shard_id(f.def.id, s) == shard)
    else {
        return Err(shard_not_found());
    };
    let needs_sequence = matches!(
        kind,
        IteratorType::AtSequenceNumber | IteratorType::AfterSequenceNumber
    );
    let next = match (kind, sequence) {
        (IteratorType::AtSequenceNumber | IteratorType::AfterSequenceNumber, None) => {
            return Err(Error::Validation(
                "Must specify SequenceNumber when ShardIteratorType is AT_SEQUENCE_NUMBER or AFTER_SEQUENCE_NUMBER".into(),
            ))
        }
        (_, Some(_)) if !needs_sequence => {
            return Err(Error::Validation(
                "Must not specify SequenceNumber when ShardIteratorType is TRIM_HORIZON or LATEST".into(),
            ))
        }
        (IteratorType::TrimHorizon, _) => s.trimmed_seq,
        (IteratorType::Latest, _) => match s.end_seq {
            Some(end) => end + 1,
            None => f.state.next_seq,
        },
        (_, Some(text)) => {
            let seq = parse_sequence_number(text).ok_or_else(|| {
                Error::Validation(format!("Invalid SequenceNumber: {text}"))
            })?;
            let end = s.end_seq.unwrap_or(f.state.next_seq.saturating_sub(1));
            if seq < s.start_seq || seq > end.max(s.start_seq) {
                return Err(Error::Validation(format!(
                    "Invalid SequenceNumber for ShardIterator: {text} is not within the range of shard {shard}"
                )));
            }
            if seq < s.trimmed_seq {
                return Err(Error::TrimmedDataAccess(TRIMMED.into()));
            }
            if kind == IteratorType::AtSequenceNumber {
                seq
            } else {
                seq + 1
            }
        }
    };
    Ok(encode_iterator(
        arn,
        &Position {
            table: f.table,
            stream: f.def.id,
            shard: s.id,
            next,
            issued_ms: now_ms(),
        },
    ))
}

/// A page of GetRecords.
#[derive(Clone, Debug)]
pub struct RecordsPage {
    /// The records, in sequence order.
    pub records: Vec<ChangeRecord>,
    /// Where to read next; `None` at the end of a closed shard.
    pub next_iterator: Option<String>,
}

/// GetRecords.
pub fn get_records(
    engine: &Engine,
    names: &Names,
    iterator: &str,
    limit: usize,
) -> Result<RecordsPage> {
    let p = decode_iterator(iterator)
        .ok_or_else(|| Error::Validation("Invalid ShardIterator".into()))?;
    let now = now_ms();
    if now.saturating_sub(p.issued_ms) > names.iterator_ttl_ms {
        return Err(Error::ExpiredIterator("Shard iterator has expired".into()));
    }
    let Some(f) = engine.stream(&p.table, p.stream) else {
        return Err(Error::ResourceNotFound(
            "Requested resource not found: Stream does not exist".into(),
        ));
    };
    let Some(shard) = f.state.shards.iter().find(|s| s.id == p.shard) else {
        return Err(Error::TrimmedDataAccess(TRIMMED.into()));
    };
    if p.next < shard.trimmed_seq {
        return Err(Error::TrimmedDataAccess(TRIMMED.into()));
    }
    let records = engine.read_changes(
        p.stream,
        p.shard,
        p.next,
        limit.clamp(1, RECORDS_MAX),
        RECORDS_BYTES_MAX,
    )?;
    let next = records.last().map_or(p.next, |r| r.seq + 1);
    // A closed shard ends once every record it holds was returned. Only
    // durable records are read, so that is known once the stream is
    // durable up to the shard's end.
    let at_end = match shard.end_seq {
        None => false,
        Some(end) if next > end => true,
        Some(end) if engine.durable_seq(p.stream) < end => false,
        Some(_) => engine
            .read_changes(p.stream, p.shard, next, 1, RECORDS_BYTES_MAX)?
            .is_empty(),
    };
    let arn = names.stream_arn(&f.table, f.def.created_ms);
    Ok(RecordsPage {
        records,
        next_iterator: (!at_end).then(|| {
            encode_iterator(
                &arn,
                &Position {
                    next,
                    issued_ms: now,
                    ..p
                },
            )
        }),
    })
}

/// A stable, unique `eventID` for a record.
pub fn event_id(stream: u32, seq: u64) -> String {
    let h = blake3::hash(&[stream.to_be_bytes().as_slice(), &seq.to_be_bytes()].concat());
    h.as_bytes()[..16]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The stream id an iterator reads, for naming its records.
pub fn iterator_stream(iterator: &str) -> Option<u32> {
    decode_iterator(iterator).map(|p| p.stream)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iterators_round_trip_and_reject_tampering() {
        let p = Position {
            table: "Music".into(),
            stream: 3,
            shard: 5,
            next: 42,
            issued_ms: 1000,
        };
        let it = encode_iterator("arn:aws:dynamodb:r:a:table/Music/stream/x", &p);
        assert!(it.starts_with("arn:aws:dynamodb:r:a:table/Music/stream/x|1|"));
        assert_eq!(decode_iterator(&it), Some(p));
        let mut bad = it.clone().into_bytes();
        let last = bad.len() - 1;
        bad[last] = if bad[last] == b'0' { b'1' } else { b'0' };
        assert_eq!(
            decode_iterator(&String::from_utf8(bad).expect("ascii")),
            None
        );
        assert_eq!(decode_iterator("zz"), None);
        assert_eq!(decode_iterator(""), None);
    }

    #[test]
    fn stream_arns_of_other_accounts_are_not_found_and_malformed_ones_invalid() {
        let names = Names {
            arns: Arns::new("us-east-1", "000000000000"),
            iterator_ttl_ms: ITERATOR_TTL_MS,
        };
        let ours = names.stream_arn("Music", 1_796_109_508_922);
        assert!(matches!(
            names.parse_arn(&ours),
            Ok(Some(("Music", "2026-12-01T07:18:28.922")))
        ));
        // Well-formed, but another region's or account's: not found.
        for other in [
            "arn:aws:dynamodb:eu-west-1:000000000000:table/Music/stream/2026-12-01T07:18:28.922",
            "arn:aws:dynamodb:us-east-1:123456789012:table/Music/stream/2026-12-01T07:18:28.922",
        ] {
            assert!(matches!(names.parse_arn(other), Ok(None)), "{other}");
        }
        // Every malformed shape is tarn-core's test; here, that one is
        // a ValidationException.
        for bad in [
            "sdfadfsdfnlfkajakfgjalksfgklasjklasdjfklasdfasdfgasf",
            "arn:aws:dynamodb:us-east-1:000000000000:table/Music/stream/yesterday",
        ] {
            assert!(
                matches!(names.parse_arn(bad), Err(Error::Validation(m)) if m == "Invalid StreamArn"),
                "{bad}"
            );
        }
    }

    #[test]
    fn sequence_numbers_have_21_digits() {
        assert_eq!(sequence_number(7), "100000000000000000007");
        assert_eq!(parse_sequence_number("100000000000000000007"), Some(7));
        assert_eq!(parse_sequence_number("7"), None);
    }
}
