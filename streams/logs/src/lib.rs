//! CloudWatch Logs' model: log groups, log streams and their events, kept
//! in the engine's [`Store`] (`docs/storage.md`, "CloudWatch Logs").
//!
//! What the Logs API serves and what Lambda writes go through one
//! [`Logs`]: [`Logs::append`] is the way in for functions (it creates the
//! group and stream if missing, as Lambda does; `tarn-lambda` names them),
//! [`Logs::put`] is
//! PutLogEvents' (the group and stream must exist; events out of the
//! accepted time window are reported, not stored), and [`Logs::read`]
//! serves GetLogEvents and FilterLogEvents: one scan of a group's events
//! in time order, narrowed by streams, time and a filter [`Pattern`].
//! [`Logs::listen`] wakes whoever waits for new events.
//!
//! Writes return the engine's [`Deferred`]: visible at once, durable (and
//! to be acknowledged) once it is. Metadata changes are serialized by one
//! lock, held across the batch's commit (microseconds, not the sync), so
//! two creators of one name never both succeed.

#![forbid(unsafe_code)]

pub mod pattern;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::ops::Bound;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use event_listener::{Event, EventListener};
use tarn_core::record::{Corrupt, Reader, Writer};
use tarn_engine::store::{Direction, KeyRange, Keyspace};
use tarn_engine::{Deferred, Store};

pub use pattern::{InvalidPattern, Pattern};

const GROUPS: &str = "logs_groups";
const STREAMS: &str = "logs_streams";
const EVENTS: &str = "logs_events";
const PUTS: &str = "logs_puts";
const VERSION: u8 = 1;

/// Retention periods PutRetentionPolicy accepts, in days.
pub const RETENTION_DAYS: &[u32] = &[
    1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922,
    3288, 3653,
];
/// Events older than this are refused by PutLogEvents (14 days).
pub const TOO_OLD_MS: u64 = 14 * 86_400_000;
/// Events further ahead than this are refused (2 hours).
pub const TOO_NEW_MS: u64 = 2 * 3_600_000;
/// A PutLogEvents batch spans at most 24 hours.
pub const SPAN_MS_MAX: u64 = 86_400_000;
/// Largest message, in bytes (256 KiB).
pub const MESSAGE_BYTES_MAX: usize = 262_144;
/// Events one put may carry.
pub const PUT_EVENTS_MAX: usize = 10_000;
/// A put's size limit: messages plus 26 bytes per event.
pub const PUT_BYTES_MAX: usize = 1_048_576;
/// Keys one read looks at before it returns what it has.
pub const SCAN_KEYS_MAX: usize = 100_000;

const DAY_MS: u64 = 86_400_000;

/// Errors of the Logs model.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The log group does not exist.
    #[error("The specified log group does not exist.")]
    GroupNotFound,
    /// The log stream does not exist.
    #[error("The specified log stream does not exist.")]
    StreamNotFound,
    /// A group of that name exists.
    #[error("The specified log group already exists")]
    GroupExists,
    /// A stream of that name exists.
    #[error("The specified log stream already exists")]
    StreamExists,
    /// The events of a put are not in time order.
    #[error("Log events in a single PutLogEvents request must be in chronological order.")]
    NotChronological,
    /// The events of a put span more than a day.
    #[error(
        "The batch of log events in a single PutLogEvents request cannot span more than 24 hours."
    )]
    SpanTooLong,
    /// The store failed.
    #[error(transparent)]
    Store(#[from] tarn_engine::Error),
    /// A stored record does not decode.
    #[error(transparent)]
    Corrupt(#[from] Corrupt),
}

/// A log group.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Group {
    /// Its name.
    pub name: String,
    /// Its id (never reused).
    pub id: u64,
    /// When it was created, ms since the epoch.
    pub created_ms: u64,
    /// Days events are kept; `None`: forever.
    pub retention_days: Option<u32>,
    /// Its tags.
    pub tags: BTreeMap<String, String>,
}

/// A log stream.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Stream {
    /// Its name.
    pub name: String,
    /// Its id (never reused).
    pub id: u64,
    /// When it was created.
    pub created_ms: u64,
    /// The earliest event's timestamp, if it has events.
    pub first_event_ms: Option<u64>,
    /// The latest event's timestamp, if it has events.
    pub last_event_ms: Option<u64>,
    /// When events were last put, if ever.
    pub last_ingestion_ms: Option<u64>,
    /// Bytes of its messages.
    pub stored_bytes: u64,
}

/// One stored event.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LogEvent {
    /// The stream it is in.
    pub stream: String,
    /// Its timestamp, ms since the epoch.
    pub timestamp_ms: u64,
    /// When it was put.
    pub ingestion_ms: u64,
    /// The message.
    pub message: String,
    /// A stable id, 56 digits as AWS's are.
    pub event_id: String,
    /// Its position (the key after the group id), for tokens.
    pub position: Vec<u8>,
}

/// What PutLogEvents did not store, as its `rejectedLogEventsInfo` says.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Rejected {
    /// Events before this index are too old.
    pub too_old_end: Option<usize>,
    /// Events from this index on are too far in the future.
    pub too_new_start: Option<usize>,
    /// Events before this index are older than the group's retention.
    pub expired_end: Option<usize>,
}

impl Rejected {
    /// Whether anything was rejected.
    pub fn any(&self) -> bool {
        self.too_old_end.is_some() || self.too_new_start.is_some() || self.expired_end.is_some()
    }
}

/// Which events a read returns.
#[derive(Clone, Debug, Default)]
pub struct Query {
    /// Only these streams (`None`: every stream of the group).
    pub streams: Option<Vec<String>>,
    /// Only streams whose names start so.
    pub stream_prefix: Option<String>,
    /// Events at or after this time.
    pub start_ms: Option<u64>,
    /// Events before this time.
    pub end_ms: Option<u64>,
    /// Events past this position (forward) or before it (reverse).
    pub from: Option<Vec<u8>>,
    /// Reverse: newest first.
    pub reverse: bool,
    /// At most this many events.
    pub limit: usize,
    /// At most about this many bytes of messages.
    pub bytes_max: usize,
    /// Only events whose message matches.
    pub pattern: Option<Pattern>,
    /// Now, ms since the epoch (for retention).
    pub now_ms: u64,
}

/// A page of events.
#[derive(Clone, Debug, Default)]
pub struct Page {
    /// The events, in the order read.
    pub events: Vec<LogEvent>,
    /// Where reading stopped, if it stopped before the end of the range
    /// (a limit was reached): the position to go on from.
    pub more: Option<Vec<u8>>,
    /// The streams that were searched.
    pub searched: Vec<String>,
}

/// CloudWatch Logs over one store. Cheap to clone.
#[derive(Clone)]
pub struct Logs {
    store: Store,
    groups: Keyspace,
    streams: Keyspace,
    events: Keyspace,
    lock: Arc<Mutex<()>>,
    appended: Arc<Event>,
}

impl std::fmt::Debug for Logs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Logs").finish_non_exhaustive()
    }
}

fn group_value(g: &Group) -> Vec<u8> {
    let mut w = Writer::new(VERSION)
        .u64(g.id)
        .u64(g.created_ms)
        .u32(g.retention_days.unwrap_or(0))
        .u32(g.tags.len() as u32);
    for (k, v) in &g.tags {
        w = w.str(k).str(v);
    }
    w.finish()
}

fn decode_group(name: &[u8], v: &[u8]) -> Result<Group, Corrupt> {
    let name = std::str::from_utf8(name).map_err(|_| Corrupt("log group"))?;
    let mut r = Reader::new(v, VERSION, "log group")?;
    let id = r.u64()?;
    let created_ms = r.u64()?;
    let retention = r.u32()?;
    let n = r.count(8)?;
    let mut tags = BTreeMap::new();
    for _ in 0..n {
        let k = r.str()?.to_owned();
        tags.insert(k, r.str()?.to_owned());
    }
    r.end()?;
    Ok(Group {
        name: name.to_owned(),
        id,
        created_ms,
        retention_days: (retention != 0).then_some(retention),
        tags,
    })
}

/// A stream record and its event count.
fn stream_value(s: &Stream, events: u64) -> Vec<u8> {
    Writer::new(VERSION)
        .u64(s.id)
        .u64(s.created_ms)
        .u64(s.first_event_ms.unwrap_or(0))
        .u64(s.last_event_ms.unwrap_or(0))
        .u64(s.last_ingestion_ms.unwrap_or(0))
        .u64(events)
        .u64(s.stored_bytes)
        .finish()
}

fn decode_stream(key: &[u8], v: &[u8]) -> Result<(Stream, u64), Corrupt> {
    let name = key
        .get(8..)
        .and_then(|n| std::str::from_utf8(n).ok())
        .ok_or(Corrupt("log stream"))?;
    let mut r = Reader::new(v, VERSION, "log stream")?;
    let id = r.u64()?;
    let created_ms = r.u64()?;
    let first = r.u64()?;
    let last = r.u64()?;
    let ingested = r.u64()?;
    let events = r.u64()?;
    let stored_bytes = r.u64()?;
    r.end()?;
    let has = events > 0;
    Ok((
        Stream {
            name: name.to_owned(),
            id,
            created_ms,
            first_event_ms: has.then_some(first),
            last_event_ms: has.then_some(last),
            last_ingestion_ms: has.then_some(ingested),
            stored_bytes,
        },
        events,
    ))
}

fn stream_key(group: u64, name: &str) -> Vec<u8> {
    let mut k = Vec::with_capacity(8 + name.len());
    k.extend_from_slice(&group.to_be_bytes());
    k.extend_from_slice(name.as_bytes());
    k
}

/// An event's key: group | timestamp | stream | put | index.
fn event_key(group: u64, ts: u64, stream: u64, put: u64, index: u32) -> Vec<u8> {
    let mut k = Vec::with_capacity(36);
    k.extend_from_slice(&group.to_be_bytes());
    k.extend_from_slice(&ts.to_be_bytes());
    k.extend_from_slice(&stream.to_be_bytes());
    k.extend_from_slice(&put.to_be_bytes());
    k.extend_from_slice(&index.to_be_bytes());
    k
}

/// The length of a position: an event key without its group id.
pub const POSITION_BYTES: usize = 28;

struct EventKey {
    ts: u64,
    stream: u64,
    put: u64,
    index: u32,
}

fn parse_event_key(k: &[u8]) -> Result<EventKey, Corrupt> {
    if k.len() != 8 + POSITION_BYTES {
        return Err(Corrupt("log event key"));
    }
    let u = |i: usize| {
        let mut a = [0u8; 8];
        a.copy_from_slice(&k[i..i + 8]);
        u64::from_be_bytes(a)
    };
    Ok(EventKey {
        ts: u(8),
        stream: u(16),
        put: u(24),
        index: u32::from_be_bytes([k[32], k[33], k[34], k[35]]),
    })
}

/// A new stream with a fresh id from `batch` and no events.
fn new_stream(
    batch: &mut tarn_engine::StoreBatch,
    name: &str,
    now_ms: u64,
) -> Result<Stream, Error> {
    Ok(Stream {
        name: name.to_owned(),
        id: batch.allocate(STREAMS)?,
        created_ms: now_ms,
        first_event_ms: None,
        last_event_ms: None,
        last_ingestion_ms: None,
        stored_bytes: 0,
    })
}

fn lock(m: &Mutex<()>) -> MutexGuard<'_, ()> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Logs {
    /// Opens the logs in `store`, creating their keyspaces on first use.
    pub fn open(store: &Store) -> Result<Logs, Error> {
        Ok(Logs {
            store: store.clone(),
            groups: store.keyspace(GROUPS)?,
            streams: store.keyspace(STREAMS)?,
            events: store.keyspace(EVENTS)?,
            lock: Arc::new(Mutex::new(())),
            appended: Arc::new(Event::new()),
        })
    }

    /// A listener that fires when events are next appended to any group.
    /// Take it before reading, so that events committed in between are
    /// not missed; it is a `Future` and also blocks (`event-listener`).
    pub fn listen(&self) -> EventListener {
        self.appended.listen()
    }

    /// The group `name`.
    pub fn group(&self, name: &str) -> Result<Group, Error> {
        match self.store.get(&self.groups, name.as_bytes())? {
            Some(v) => Ok(decode_group(name.as_bytes(), &v)?),
            None => Err(Error::GroupNotFound),
        }
    }

    /// Creates group `name`.
    pub fn create_group(
        &self,
        name: &str,
        tags: BTreeMap<String, String>,
        now_ms: u64,
    ) -> Result<Deferred<()>, Error> {
        let _g = lock(&self.lock);
        if self.store.get(&self.groups, name.as_bytes())?.is_some() {
            return Err(Error::GroupExists);
        }
        let mut batch = self.store.batch();
        self.new_group(&mut batch, name, tags, now_ms)?;
        Ok(batch.commit()?)
    }

    /// Writes a new group record in `batch`, with a fresh id.
    fn new_group(
        &self,
        batch: &mut tarn_engine::StoreBatch,
        name: &str,
        tags: BTreeMap<String, String>,
        now_ms: u64,
    ) -> Result<Group, Error> {
        let group = Group {
            name: name.to_owned(),
            id: batch.allocate(GROUPS)?,
            created_ms: now_ms,
            retention_days: None,
            tags,
        };
        batch.insert(&self.groups, name.as_bytes(), &group_value(&group))?;
        Ok(group)
    }

    /// Deletes group `name`, its streams and its events.
    pub fn delete_group(&self, name: &str) -> Result<Deferred<()>, Error> {
        let _g = lock(&self.lock);
        let group = self.group(name)?;
        let mut batch = self.store.batch();
        batch.remove(&self.groups, name.as_bytes())?;
        let prefix = group.id.to_be_bytes();
        for ks in [&self.streams, &self.events] {
            for e in self
                .store
                .iter(ks, &KeyRange::prefix(&prefix), Direction::Forward)
            {
                batch.remove(ks, &e?.key)?;
            }
        }
        Ok(batch.commit()?)
    }

    /// Groups whose names start with `prefix`, after `after`, in name
    /// order: at most `limit`, and whether more follow.
    pub fn groups(
        &self,
        prefix: &str,
        after: Option<&str>,
        limit: usize,
    ) -> Result<(Vec<Group>, bool), Error> {
        let mut range = KeyRange::prefix(prefix.as_bytes());
        if prefix.is_empty() {
            range = KeyRange::all();
        }
        if let Some(a) = after {
            range = range.after(a.as_bytes());
        }
        let mut out = Vec::new();
        for e in self.store.iter(&self.groups, &range, Direction::Forward) {
            let e = e?;
            if out.len() == limit {
                return Ok((out, true));
            }
            out.push(decode_group(&e.key, &e.value)?);
        }
        Ok((out, false))
    }

    /// Sets (`Some`) or removes a group's retention.
    pub fn set_retention(&self, name: &str, days: Option<u32>) -> Result<Deferred<()>, Error> {
        self.update_group(name, |g| g.retention_days = days)
    }

    /// Adds or replaces tags of a group.
    pub fn tag(&self, name: &str, tags: &BTreeMap<String, String>) -> Result<Deferred<()>, Error> {
        self.update_group(name, |g| {
            g.tags
                .extend(tags.iter().map(|(k, v)| (k.clone(), v.clone())))
        })
    }

    /// Removes tags of a group.
    pub fn untag(&self, name: &str, keys: &[String]) -> Result<Deferred<()>, Error> {
        self.update_group(name, |g| {
            for k in keys {
                g.tags.remove(k);
            }
        })
    }

    fn update_group(&self, name: &str, f: impl FnOnce(&mut Group)) -> Result<Deferred<()>, Error> {
        let _g = lock(&self.lock);
        let mut group = self.group(name)?;
        f(&mut group);
        let mut batch = self.store.batch();
        batch.insert(&self.groups, name.as_bytes(), &group_value(&group))?;
        Ok(batch.commit()?)
    }

    /// Creates stream `stream` in group `group`.
    pub fn create_stream(
        &self,
        group: &str,
        stream: &str,
        now_ms: u64,
    ) -> Result<Deferred<()>, Error> {
        let _g = lock(&self.lock);
        let g = self.group(group)?;
        let key = stream_key(g.id, stream);
        if self.store.get(&self.streams, &key)?.is_some() {
            return Err(Error::StreamExists);
        }
        let mut batch = self.store.batch();
        let s = new_stream(&mut batch, stream, now_ms)?;
        batch.insert(&self.streams, &key, &stream_value(&s, 0))?;
        Ok(batch.commit()?)
    }

    /// Deletes a stream and its events.
    pub fn delete_stream(&self, group: &str, stream: &str) -> Result<Deferred<()>, Error> {
        let _g = lock(&self.lock);
        let g = self.group(group)?;
        let key = stream_key(g.id, stream);
        let Some(v) = self.store.get(&self.streams, &key)? else {
            return Err(Error::StreamNotFound);
        };
        let (s, _) = decode_stream(&key, &v)?;
        let mut batch = self.store.batch();
        batch.remove(&self.streams, &key)?;
        let prefix = g.id.to_be_bytes();
        for e in self
            .store
            .iter(&self.events, &KeyRange::prefix(&prefix), Direction::Forward)
        {
            let e = e?;
            if parse_event_key(&e.key)?.stream == s.id {
                batch.remove(&self.events, &e.key)?;
            }
        }
        Ok(batch.commit()?)
    }

    /// The streams of a group, in name order.
    pub fn streams(&self, group: &str) -> Result<Vec<Stream>, Error> {
        let g = self.group(group)?;
        self.streams_of(g.id)
    }

    fn streams_of(&self, group_id: u64) -> Result<Vec<Stream>, Error> {
        let prefix = group_id.to_be_bytes();
        let mut out = Vec::new();
        for e in self.store.iter(
            &self.streams,
            &KeyRange::prefix(&prefix),
            Direction::Forward,
        ) {
            let e = e?;
            out.push(decode_stream(&e.key, &e.value)?.0);
        }
        Ok(out)
    }

    /// Appends events to `stream` of `group`, creating both if missing,
    /// as Lambda writes a function's output. Events need not be in order;
    /// they are stored as given (no time window is applied).
    pub fn append(
        &self,
        group: &str,
        stream: &str,
        events: &[(u64, String)],
    ) -> Result<Deferred<()>, Error> {
        let now = now_ms();
        let _g = lock(&self.lock);
        let mut batch = self.store.batch();
        let g = match self.group(group) {
            Ok(g) => g,
            Err(Error::GroupNotFound) => self.new_group(&mut batch, group, BTreeMap::new(), now)?,
            Err(e) => return Err(e),
        };
        let deferred = self.write_events(batch, &g, stream, events, now, true)?;
        drop(_g);
        self.appended.notify(usize::MAX);
        Ok(deferred)
    }

    /// PutLogEvents: stores the events of `stream` in `group` that fall in
    /// the accepted window (not older than 14 days or the retention, not
    /// more than 2 hours ahead) and says which it rejected. The events
    /// must be in time order and span at most a day.
    pub fn put(
        &self,
        group: &str,
        stream: &str,
        events: &[(i64, String)],
        now_ms: u64,
    ) -> Result<Deferred<Rejected>, Error> {
        if events.windows(2).any(|w| w[1].0 < w[0].0) {
            return Err(Error::NotChronological);
        }
        if let (Some(first), Some(last)) = (events.first(), events.last()) {
            if last.0.saturating_sub(first.0) > SPAN_MS_MAX as i64 {
                return Err(Error::SpanTooLong);
            }
        }
        let _g = lock(&self.lock);
        let g = self.group(group)?;
        if self
            .store
            .get(&self.streams, &stream_key(g.id, stream))?
            .is_none()
        {
            return Err(Error::StreamNotFound);
        }
        let now = now_ms as i64;
        let too_old = now - TOO_OLD_MS as i64;
        let too_new = now + TOO_NEW_MS as i64;
        let expired = g
            .retention_days
            .map(|d| now - (u64::from(d) * DAY_MS) as i64);
        let mut rejected = Rejected::default();
        let mut kept = Vec::with_capacity(events.len());
        for (i, (ts, msg)) in events.iter().enumerate() {
            if expired.is_some_and(|e| *ts < e) {
                rejected.expired_end = Some(i + 1);
            } else if *ts < too_old {
                rejected.too_old_end = Some(i + 1);
            } else if *ts > too_new {
                rejected.too_new_start.get_or_insert(i);
            } else {
                kept.push((*ts as u64, msg.clone()));
            }
        }
        let deferred = self.write_events(self.store.batch(), &g, stream, &kept, now_ms, false)?;
        drop(_g);
        self.appended.notify(usize::MAX);
        Ok(deferred.map(|()| rejected))
    }

    /// Writes events and the stream's new counters in `batch` (creating
    /// the stream if `create`). Called with the lock held.
    fn write_events(
        &self,
        mut batch: tarn_engine::StoreBatch,
        g: &Group,
        stream: &str,
        events: &[(u64, String)],
        now_ms: u64,
        create: bool,
    ) -> Result<Deferred<()>, Error> {
        let key = stream_key(g.id, stream);
        let (mut s, mut count) = match self.store.get(&self.streams, &key)? {
            Some(v) => decode_stream(&key, &v)?,
            None if create => (new_stream(&mut batch, stream, now_ms)?, 0),
            None => return Err(Error::StreamNotFound),
        };
        if !events.is_empty() {
            let put = batch.allocate(PUTS)?;
            for (i, (ts, msg)) in events.iter().enumerate() {
                let k = event_key(g.id, *ts, s.id, put, i as u32);
                let v = Writer::new(VERSION).u64(now_ms).str(msg).finish();
                batch.insert(&self.events, &k, &v)?;
                s.first_event_ms = Some(s.first_event_ms.map_or(*ts, |f| f.min(*ts)));
                s.last_event_ms = Some(s.last_event_ms.map_or(*ts, |l| l.max(*ts)));
                s.stored_bytes += msg.len() as u64;
            }
            s.last_ingestion_ms = Some(now_ms);
            count += events.len() as u64;
        }
        batch.insert(&self.streams, &key, &stream_value(&s, count))?;
        Ok(batch.commit()?)
    }

    /// Removes up to `max` stored events that are past their group's
    /// retention at `now_ms` (reads hide them already; this frees the
    /// space). Returns how many it removed; fewer than `max` means none
    /// are left. Stream counters are not rewound: `storedBytes` is, as on
    /// AWS, an approximation.
    pub fn sweep(&self, now_ms: u64, max: usize) -> Result<usize, Error> {
        let mut batch = self.store.batch();
        let mut removed = 0;
        for e in self
            .store
            .iter(&self.groups, &KeyRange::all(), Direction::Forward)
        {
            let e = e?;
            let g = decode_group(&e.key, &e.value)?;
            let Some(days) = g.retention_days else {
                continue;
            };
            let cutoff = now_ms.saturating_sub(u64::from(days) * DAY_MS);
            let gid = g.id.to_be_bytes();
            let hi = [&gid[..], &cutoff.to_be_bytes()].concat();
            let range = KeyRange::new(Bound::Included(&gid[..]), Bound::Excluded(hi.as_slice()));
            for old in self.store.iter(&self.events, &range, Direction::Forward) {
                if removed == max {
                    break;
                }
                batch.remove(&self.events, &old?.key)?;
                removed += 1;
            }
            if removed == max {
                break;
            }
        }
        // Nobody is told of a sweep: it need not wait for the sync.
        drop(batch.commit()?);
        Ok(removed)
    }

    /// Reads a page of a group's events (GetLogEvents: one stream;
    /// FilterLogEvents: any).
    pub fn read(&self, group: &str, q: &Query) -> Result<Page, Error> {
        let g = self.group(group)?;
        let streams = self.streams_of(g.id)?;
        let names: HashMap<u64, &str> = streams.iter().map(|s| (s.id, s.name.as_str())).collect();
        let wanted: Option<HashSet<u64>> = match (&q.streams, &q.stream_prefix) {
            (Some(list), _) => Some(
                streams
                    .iter()
                    .filter(|s| list.contains(&s.name))
                    .map(|s| s.id)
                    .collect(),
            ),
            (None, Some(p)) => Some(
                streams
                    .iter()
                    .filter(|s| s.name.starts_with(p.as_str()))
                    .map(|s| s.id)
                    .collect(),
            ),
            (None, None) => None,
        };
        let searched = streams
            .iter()
            .filter(|s| wanted.as_ref().is_none_or(|w| w.contains(&s.id)))
            .map(|s| s.name.clone())
            .collect();
        let cutoff = g
            .retention_days
            .map_or(0, |d| q.now_ms.saturating_sub(u64::from(d) * DAY_MS));
        let gid = g.id.to_be_bytes();
        let start = q.start_ms.unwrap_or(0).max(cutoff);
        let lo = [&gid[..], &start.to_be_bytes()].concat();
        let hi = match q.end_ms {
            Some(end) => Bound::Excluded([&gid[..], &end.to_be_bytes()].concat()),
            None => Bound::Excluded(g.id.saturating_add(1).to_be_bytes().to_vec()),
        };
        let hi_ref = match &hi {
            Bound::Excluded(h) => Bound::Excluded(h.as_slice()),
            _ => Bound::Unbounded,
        };
        let mut range = KeyRange::new(Bound::Included(lo.as_slice()), hi_ref);
        if let Some(from) = &q.from {
            let k = [&gid[..], from.as_slice()].concat();
            range = if q.reverse {
                range.before(&k)
            } else {
                range.after(&k)
            };
        }
        let dir = if q.reverse {
            Direction::Reverse
        } else {
            Direction::Forward
        };
        let mut page = Page {
            searched,
            ..Page::default()
        };
        let mut bytes = 0usize;
        let mut last_key: Option<Vec<u8>> = None;
        for (scanned, e) in self.store.iter(&self.events, &range, dir).enumerate() {
            let e = e?;
            if page.events.len() >= q.limit || bytes >= q.bytes_max || scanned >= SCAN_KEYS_MAX {
                page.more = last_key.map(|k| k[8..].to_vec());
                break;
            }
            last_key = Some(e.key.to_vec());
            let k = parse_event_key(&e.key)?;
            if wanted.as_ref().is_some_and(|w| !w.contains(&k.stream)) {
                continue;
            }
            let mut r = Reader::new(&e.value, VERSION, "log event")?;
            let ingestion_ms = r.u64()?;
            let message = r.str()?;
            r.end()?;
            if q.pattern.as_ref().is_some_and(|p| !p.matches(message)) {
                continue;
            }
            bytes += message.len() + 26;
            page.events.push(LogEvent {
                stream: names.get(&k.stream).copied().unwrap_or("").to_owned(),
                timestamp_ms: k.ts,
                ingestion_ms,
                message: message.to_owned(),
                event_id: format!(
                    "{:020}{:012}{:016}{:08}",
                    k.ts,
                    k.stream % 1_000_000_000_000,
                    k.put % 10_000_000_000_000_000,
                    k.index
                ),
                position: e.key[8..].to_vec(),
            });
        }
        Ok(page)
    }
}

/// Milliseconds since the epoch.
pub fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn logs() -> (tarn_engine::Engine, Logs) {
        let engine = tarn_engine::Engine::open(tarn_engine::Options {
            data_dir: None,
            durability: tarn_engine::Durability::Memory,
            ..tarn_engine::Options::default()
        })
        .expect("engine");
        let logs = Logs::open(&engine.store()).expect("logs");
        (engine, logs)
    }

    fn q(limit: usize) -> Query {
        Query {
            limit,
            bytes_max: usize::MAX,
            now_ms: now_ms(),
            ..Query::default()
        }
    }

    #[test]
    fn append_creates_group_and_stream_and_reads_interleave_by_time() {
        let (engine, logs) = logs();
        let t = now_ms();
        logs.append(
            "/aws/lambda/f",
            "a",
            &[(t + 2, "a2".into()), (t, "a0".into())],
        )
        .expect("append")
        .wait(&engine)
        .expect("durable");
        logs.append("/aws/lambda/f", "b", &[(t + 1, "b1".into())])
            .expect("append")
            .wait(&engine)
            .expect("durable");
        let page = logs.read("/aws/lambda/f", &q(10)).expect("read");
        let msgs: Vec<_> = page.events.iter().map(|e| e.message.as_str()).collect();
        assert_eq!(msgs, ["a0", "b1", "a2"]);
        assert!(page.more.is_none());
        let streams = logs.streams("/aws/lambda/f").expect("streams");
        assert_eq!(streams.len(), 2);
        assert_eq!(streams[0].first_event_ms, Some(t));
        assert_eq!(streams[0].last_event_ms, Some(t + 2));
        // Paging: two, then the rest from the position.
        let first = logs.read("/aws/lambda/f", &q(2)).expect("read");
        assert_eq!(first.events.len(), 2);
        let more = first.more.expect("more");
        let rest = logs
            .read(
                "/aws/lambda/f",
                &Query {
                    from: Some(more),
                    ..q(2)
                },
            )
            .expect("read");
        assert_eq!(rest.events.len(), 1);
        assert_eq!(rest.events[0].message, "a2");
        // A deleted and re-created group sees nothing old.
        logs.delete_group("/aws/lambda/f")
            .expect("delete")
            .wait(&engine)
            .expect("durable");
        assert!(matches!(
            logs.read("/aws/lambda/f", &q(10)),
            Err(Error::GroupNotFound)
        ));
        logs.create_group("/aws/lambda/f", BTreeMap::new(), t)
            .expect("create")
            .wait(&engine)
            .expect("durable");
        assert!(logs
            .read("/aws/lambda/f", &q(10))
            .expect("read")
            .events
            .is_empty());
    }

    #[test]
    fn put_rejects_out_of_window_events_and_checks_order() {
        let (engine, logs) = logs();
        let t = now_ms();
        logs.create_group("g", BTreeMap::new(), t)
            .expect("g")
            .wait(&engine)
            .expect("d");
        logs.create_stream("g", "s", t)
            .expect("s")
            .wait(&engine)
            .expect("d");
        assert!(matches!(
            logs.put(
                "g",
                "s",
                &[(t as i64, "x".into()), (t as i64 - 1, "y".into())],
                t
            ),
            Err(Error::NotChronological)
        ));
        let old = t as i64 - TOO_OLD_MS as i64 - 1;
        let new = t as i64 + TOO_NEW_MS as i64 + 1;
        assert!(matches!(
            logs.put("g", "s", &[(old, "x".into()), (new, "y".into())], t),
            Err(Error::SpanTooLong)
        ));
        let rejected = logs
            .put(
                "g",
                "s",
                &[(t as i64, "ok".into()), (new, "late".into())],
                t,
            )
            .expect("put")
            .wait(&engine)
            .expect("durable");
        assert_eq!(rejected.too_new_start, Some(1));
        let page = logs.read("g", &q(10)).expect("read");
        assert_eq!(page.events.len(), 1);
        assert!(matches!(
            logs.put("g", "nope", &[], t),
            Err(Error::StreamNotFound)
        ));
        assert!(matches!(
            logs.put("nope", "s", &[], t),
            Err(Error::GroupNotFound)
        ));
    }

    /// Random appends over a few streams, read back in random pages both
    /// ways, against a model: every event exactly once, in time order
    /// (ties by stream creation, then put order), filtered by stream.
    #[test]
    fn paged_reads_match_a_model() {
        let (engine, logs) = logs();
        let mut seed = 0x9E37_79B9_7F4A_7C15u64;
        let mut next = |n: u64| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed % n
        };
        let base = now_ms() - 1_000_000;
        let streams = ["a", "b", "c"];
        // (ts, stream index in creation order, put number, index, message)
        let mut model: Vec<(u64, usize, u64, u32, String)> = Vec::new();
        let mut created: Vec<usize> = Vec::new();
        for put in 0..60u64 {
            let s = next(3) as usize;
            if !created.contains(&s) {
                created.push(s);
            }
            let events: Vec<(u64, String)> = (0..next(4))
                .map(|i| (base + next(50), format!("p{put}e{i}")))
                .collect();
            for (i, (ts, m)) in events.iter().enumerate() {
                model.push((*ts, s, put, i as u32, m.clone()));
            }
            logs.append("g", streams[s], &events)
                .expect("append")
                .wait(&engine)
                .expect("durable");
        }
        let rank = |s: usize| created.iter().position(|c| *c == s).unwrap_or(usize::MAX);
        model.sort_by_key(|(ts, s, put, i, _)| (*ts, rank(*s), *put, *i));
        for only in [None, Some(1usize)] {
            let want: Vec<&str> = model
                .iter()
                .filter(|e| only.is_none_or(|o| e.1 == o))
                .map(|e| e.4.as_str())
                .collect();
            for reverse in [false, true] {
                let mut got = Vec::new();
                let mut from = None;
                for _ in 0..1000 {
                    let page = logs
                        .read(
                            "g",
                            &Query {
                                streams: only.map(|o| vec![streams[o].to_owned()]),
                                from: from.take(),
                                reverse,
                                ..q(1 + next(7) as usize)
                            },
                        )
                        .expect("read");
                    got.extend(page.events.into_iter().map(|e| e.message));
                    match page.more {
                        Some(m) => from = Some(m),
                        None => break,
                    }
                }
                if reverse {
                    got.reverse();
                }
                assert_eq!(got, want, "stream {only:?}, reverse {reverse}");
            }
        }
    }

    #[test]
    fn sweeps_remove_only_events_past_retention_in_bounded_turns() {
        let (engine, logs) = logs();
        let t = now_ms();
        let old: Vec<(u64, String)> = (0..5)
            .map(|i| (t - 3 * DAY_MS + i, format!("old{i}")))
            .collect();
        logs.append("kept", "s", &old)
            .expect("a")
            .wait(&engine)
            .expect("d");
        logs.append("swept", "s", &old)
            .expect("a")
            .wait(&engine)
            .expect("d");
        logs.append("swept", "s", &[(t, "new".into())])
            .expect("a")
            .wait(&engine)
            .expect("d");
        logs.set_retention("swept", Some(1))
            .expect("r")
            .wait(&engine)
            .expect("d");
        assert_eq!(logs.sweep(t, 3).expect("sweep"), 3);
        assert_eq!(logs.sweep(t, 3).expect("sweep"), 2);
        assert_eq!(logs.sweep(t, 3).expect("sweep"), 0);
        let mut all = q(100);
        all.now_ms = t;
        assert_eq!(logs.read("swept", &all).expect("read").events.len(), 1);
        assert_eq!(logs.read("kept", &all).expect("read").events.len(), 5);
        // With the retention gone the swept events stay gone.
        logs.set_retention("swept", None)
            .expect("r")
            .wait(&engine)
            .expect("d");
        assert_eq!(logs.read("swept", &all).expect("read").events.len(), 1);
    }

    #[test]
    fn stored_records_refuse_corruption() {
        let g = Group {
            name: "g".into(),
            id: 3,
            created_ms: 5,
            retention_days: Some(7),
            tags: [("k".to_owned(), "v".to_owned())].into(),
        };
        let v = group_value(&g);
        assert_eq!(decode_group(b"g", &v).expect("decodes"), g);
        for cut in 0..v.len() {
            assert!(decode_group(b"g", &v[..cut]).is_err(), "{cut}");
        }
        assert!(parse_event_key(&[0; 35]).is_err());
    }
}
