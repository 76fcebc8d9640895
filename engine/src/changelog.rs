//! The change log: every change to a table with an enabled stream becomes
//! a record in the `changes` keyspace, written in the item's own batch, so
//! a record exists exactly when its change was committed (`docs/storage.md`,
//! "Change log").
//!
//! A stream has one open shard at a time, as DynamoDB gives a small table,
//! so every change of one item lands in one shard, in order. (Streams made
//! by earlier versions split the key space by partition hash into two
//! lanes, each with its own open shard, and keep them: see [`StreamState::lanes`].)
//! A record's key is `stream id | shard id | sequence number`; sequence
//! numbers increase across the whole stream. A shard rolls over when it is
//! older than the configured age: it is closed at its last sequence number
//! and a child shard, whose parent it is, takes its slice of the key space.
//! Disabling a stream closes its shards; enabling one again makes a new
//! stream. Deleting the table retires its streams (`retired`): they stay
//! readable until their retention has passed.
//!
//! Invariant: sequence numbers are allocated and their batch committed
//! while the table's stream lock is held, so a shard's records become
//! visible in sequence order, and a reader positioned after a record can
//! never miss one committed later with a lower number.

use tarn_expr::{size, Item};

use crate::catalog::{KeySchema, TableDef};
use crate::codec::{self, put_bytes, put_varint, DecodeError, Reader};
use crate::keys;

/// Lanes of a new stream: one open shard at a time.
const NEW_STREAM_LANES: u32 = 1;

/// What a stream record carries besides the keys.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StreamViewType {
    /// Only the key attributes.
    KeysOnly,
    /// The item after the change.
    NewImage,
    /// The item before the change.
    OldImage,
    /// Both.
    NewAndOldImages,
}

impl StreamViewType {
    /// DynamoDB's name for it.
    pub fn as_str(self) -> &'static str {
        match self {
            StreamViewType::KeysOnly => "KEYS_ONLY",
            StreamViewType::NewImage => "NEW_IMAGE",
            StreamViewType::OldImage => "OLD_IMAGE",
            StreamViewType::NewAndOldImages => "NEW_AND_OLD_IMAGES",
        }
    }

    fn code(self) -> u8 {
        match self {
            StreamViewType::KeysOnly => 1,
            StreamViewType::NewImage => 2,
            StreamViewType::OldImage => 3,
            StreamViewType::NewAndOldImages => 4,
        }
    }

    fn from_code(c: u8) -> Result<Self, DecodeError> {
        Ok(match c {
            1 => StreamViewType::KeysOnly,
            2 => StreamViewType::NewImage,
            3 => StreamViewType::OldImage,
            4 => StreamViewType::NewAndOldImages,
            _ => return Err(DecodeError("unknown stream view type")),
        })
    }

    fn keeps_new(self) -> bool {
        matches!(
            self,
            StreamViewType::NewImage | StreamViewType::NewAndOldImages
        )
    }

    fn keeps_old(self) -> bool {
        matches!(
            self,
            StreamViewType::OldImage | StreamViewType::NewAndOldImages
        )
    }
}

/// One stream of a table: the enabled one, or an earlier, disabled one
/// whose records are still kept.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StreamDef {
    /// Id (from the id counter), the prefix of its records.
    pub id: u32,
    /// When it was enabled, ms since the epoch (its label).
    pub created_ms: u64,
    /// What its records carry.
    pub view_type: StreamViewType,
    /// True while changes are recorded.
    pub enabled: bool,
    /// When it was disabled, ms since the epoch (0 while enabled).
    pub disabled_ms: u64,
}

impl StreamDef {
    /// Encodes the stream as a table record field.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(24);
        out.extend_from_slice(&self.id.to_be_bytes());
        out.extend_from_slice(&self.created_ms.to_be_bytes());
        out.push(self.view_type.code());
        out.push(u8::from(self.enabled));
        out.extend_from_slice(&self.disabled_ms.to_be_bytes());
        out
    }

    /// Decodes a stream field.
    pub fn decode(buf: &[u8]) -> Result<StreamDef, DecodeError> {
        let mut r = Reader::new(buf);
        let def = StreamDef {
            id: r.u32()?,
            created_ms: r.u64()?,
            view_type: StreamViewType::from_code(r.u8()?)?,
            enabled: match r.u8()? {
                0 => false,
                1 => true,
                _ => return Err(DecodeError("stream enabled flag")),
            },
            disabled_ms: r.u64()?,
        };
        if !r.is_empty() {
            return Err(DecodeError("trailing bytes in stream field"));
        }
        Ok(def)
    }
}

/// One shard of a stream.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ShardDef {
    /// Id within the stream, in creation order.
    pub id: u32,
    /// The key-space slice it takes, `0..lanes` (see [`StreamState::lanes`]).
    pub lane: u32,
    /// The shard it succeeds, if any.
    pub parent: Option<u32>,
    /// When it opened, ms since the epoch.
    pub created_ms: u64,
    /// The first sequence number it may hold.
    pub start_seq: u64,
    /// The last sequence number it holds, once closed.
    pub end_seq: Option<u64>,
    /// Records below this sequence number were trimmed.
    pub trimmed_seq: u64,
}

/// The shards of a stream and where it stands, kept in memory and in the
/// catalog (`"S" | stream id`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StreamState {
    /// The stream.
    pub stream: u32,
    /// Every shard not yet trimmed away, in creation order.
    pub shards: Vec<ShardDef>,
    /// The next sequence number to give out.
    pub next_seq: u64,
}

impl StreamState {
    /// A new stream's state: its one open shard.
    pub(crate) fn new(stream: u32, now: u64) -> StreamState {
        StreamState {
            stream,
            shards: (0..NEW_STREAM_LANES)
                .map(|lane| ShardDef {
                    id: lane,
                    lane,
                    parent: None,
                    created_ms: now,
                    start_seq: 1,
                    end_seq: None,
                    trimmed_seq: 1,
                })
                .collect(),
            next_seq: 1,
        }
    }

    /// How many slices the stream splits the partition-hash space in: one
    /// more than the largest lane of its shards. One for every stream made
    /// since streams start with one shard; two for those made before, which
    /// keep their lanes (an open shard never goes without a successor, so
    /// the count never shrinks while the stream is enabled).
    pub fn lanes(&self) -> u32 {
        self.shards
            .iter()
            .map(|s| s.lane.saturating_add(1))
            .max()
            .unwrap_or(NEW_STREAM_LANES)
    }

    /// The open shard of `lane`.
    fn open_shard(&self, lane: u32) -> Option<usize> {
        self.shards
            .iter()
            .rposition(|s| s.lane == lane && s.end_seq.is_none())
    }

    /// Closes every open shard (the stream is being disabled).
    pub(crate) fn close_all(&mut self, now: u64) {
        let last = self.next_seq.saturating_sub(1);
        let _ = now;
        for s in &mut self.shards {
            if s.end_seq.is_none() {
                // An empty shard ends where it starts, as DynamoDB's do.
                s.end_seq = Some(last.max(s.start_seq));
            }
        }
    }

    /// Takes the next sequence number for a change in `lane`, rolling the
    /// lane's shard over when it is older than `rollover_ms`. Returns the
    /// shard id and sequence number, and whether the shard list changed
    /// (and must be stored with the record).
    pub(crate) fn allocate(&mut self, lane: u32, now: u64, rollover_ms: u64) -> (u32, u64, bool) {
        let seq = self.next_seq;
        self.next_seq += 1;
        let mut changed = false;
        let i = match self.open_shard(lane) {
            Some(i) if now.saturating_sub(self.shards[i].created_ms) < rollover_ms => i,
            open => {
                let parent = open.map(|i| {
                    let start = self.shards[i].start_seq;
                    self.shards[i].end_seq = Some((seq - 1).max(start));
                    self.shards[i].id
                });
                let id = self.shards.iter().map(|s| s.id + 1).max().unwrap_or(0);
                self.shards.push(ShardDef {
                    id,
                    lane,
                    parent,
                    created_ms: now,
                    start_seq: seq,
                    end_seq: None,
                    trimmed_seq: seq,
                });
                changed = true;
                self.shards.len() - 1
            }
        };
        (self.shards[i].id, seq, changed)
    }

    /// Encodes the state for the catalog.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(16 + self.shards.len() * 40);
        out.push(1);
        out.extend_from_slice(&self.stream.to_be_bytes());
        out.extend_from_slice(&self.next_seq.to_be_bytes());
        put_varint(&mut out, self.shards.len() as u64);
        for s in &self.shards {
            out.extend_from_slice(&s.id.to_be_bytes());
            out.extend_from_slice(&s.lane.to_be_bytes());
            out.extend_from_slice(&s.parent.map_or(u32::MAX, |p| p).to_be_bytes());
            out.extend_from_slice(&s.created_ms.to_be_bytes());
            out.extend_from_slice(&s.start_seq.to_be_bytes());
            out.extend_from_slice(&s.end_seq.map_or(u64::MAX, |e| e).to_be_bytes());
            out.extend_from_slice(&s.trimmed_seq.to_be_bytes());
        }
        out
    }

    /// Decodes a stored state.
    pub fn decode(buf: &[u8]) -> Result<StreamState, DecodeError> {
        let mut r = Reader::new(buf);
        if r.u8()? != 1 {
            return Err(DecodeError("unknown stream state version"));
        }
        let stream = r.u32()?;
        let next_seq = r.u64()?;
        let n = r.len()?;
        let mut shards = Vec::with_capacity(n.min(1024));
        for _ in 0..n {
            let id = r.u32()?;
            let lane = r.u32()?;
            let parent = r.u32()?;
            let created_ms = r.u64()?;
            let start_seq = r.u64()?;
            let end_seq = r.u64()?;
            let trimmed_seq = r.u64()?;
            shards.push(ShardDef {
                id,
                lane,
                parent: (parent != u32::MAX).then_some(parent),
                created_ms,
                start_seq,
                end_seq: (end_seq != u64::MAX).then_some(end_seq),
                trimmed_seq,
            });
        }
        if !r.is_empty() {
            return Err(DecodeError("trailing bytes in stream state"));
        }
        Ok(StreamState {
            stream,
            shards,
            next_seq,
        })
    }
}

/// The catalog key of a stream's state.
pub(crate) fn state_key(stream: u32) -> [u8; 5] {
    let b = stream.to_be_bytes();
    [b'S', b[0], b[1], b[2], b[3]]
}

/// The key of a record.
pub(crate) fn record_key(stream: u32, shard: u32, seq: u64) -> [u8; 16] {
    let mut k = [0u8; 16];
    k[..4].copy_from_slice(&stream.to_be_bytes());
    k[4..8].copy_from_slice(&shard.to_be_bytes());
    k[8..].copy_from_slice(&seq.to_be_bytes());
    k
}

/// The sequence number of a record key.
fn seq_of_key(key: &[u8]) -> Result<u64, DecodeError> {
    key.get(8..16)
        .and_then(|b| <[u8; 8]>::try_from(b).ok())
        .map(u64::from_be_bytes)
        .ok_or(DecodeError("change record key"))
}

/// The lane of an item key in a stream of `lanes` lanes: its partition
/// hash's slice of the key space.
pub(crate) fn lane_of(item_key: &[u8], lanes: u32) -> u32 {
    let mut h = [0u8; 8];
    h.copy_from_slice(&item_key[keys::TABLE_ID_BYTES..keys::TABLE_ID_BYTES + keys::HASH_BYTES]);
    ((u128::from(u64::from_be_bytes(h)) * u128::from(lanes)) >> 64) as u32
}

/// A stream as the Streams API shows it: a table's, or a retired stream
/// of a deleted table.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StreamInfo {
    /// The name of its table.
    pub table: String,
    /// The table's key schema.
    pub key_schema: KeySchema,
    /// The stream (disabled once retired).
    pub def: StreamDef,
    /// Its shards.
    pub state: StreamState,
}

/// The kind of change.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EventName {
    /// A new item.
    Insert,
    /// A changed item.
    Modify,
    /// A deleted item.
    Remove,
}

impl EventName {
    /// DynamoDB's name for it.
    pub fn as_str(self) -> &'static str {
        match self {
            EventName::Insert => "INSERT",
            EventName::Modify => "MODIFY",
            EventName::Remove => "REMOVE",
        }
    }
}

/// One change, as read back from the log.
#[derive(Clone, Debug, PartialEq)]
pub struct ChangeRecord {
    /// The shard it is in.
    pub shard: u32,
    /// Its sequence number within the stream.
    pub seq: u64,
    /// When the change was committed, ms since the epoch.
    pub created_ms: u64,
    /// What happened.
    pub event: EventName,
    /// The key attributes.
    pub keys: Item,
    /// The item after the change, if the view type keeps it.
    pub new: Option<Item>,
    /// The item before the change, if the view type keeps it.
    pub old: Option<Item>,
    /// The view type it was written under.
    pub view_type: StreamViewType,
    /// True for a delete done by the service (TTL).
    pub by_service: bool,
    /// DynamoDB's `SizeBytes`: keys and images.
    pub size_bytes: usize,
}

/// Who made a change.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Origin {
    /// A client request.
    #[default]
    Client,
    /// The service itself (a TTL delete).
    Service,
}

const RECORD_VERSION: u8 = 1;

/// The event of a change, or `None` for a write that changed nothing.
pub(crate) fn event_of(old: Option<&Item>, new: Option<&Item>) -> Option<EventName> {
    match (old, new) {
        (None, Some(_)) => Some(EventName::Insert),
        (Some(o), Some(n)) if o != n => Some(EventName::Modify),
        (Some(_), None) => Some(EventName::Remove),
        _ => None,
    }
}

/// Encodes the record of a change under `view_type`.
pub(crate) fn encode_record(
    def: &TableDef,
    view_type: StreamViewType,
    event: EventName,
    old: Option<&Item>,
    new: Option<&Item>,
    origin: Origin,
    now: u64,
) -> Vec<u8> {
    let source = new
        .or(old)
        .map(|i| crate::read::key_of(def, i))
        .unwrap_or_default();
    let mut out = Vec::with_capacity(64);
    out.push(RECORD_VERSION);
    out.extend_from_slice(&now.to_be_bytes());
    out.push(match event {
        EventName::Insert => 1,
        EventName::Modify => 2,
        EventName::Remove => 3,
    });
    out.push(view_type.code());
    out.push(u8::from(origin == Origin::Service));
    let mut part = Vec::with_capacity(32);
    codec::encode_item(&source, &mut part);
    put_bytes(&mut out, &part);
    for (keep, image) in [(view_type.keeps_new(), new), (view_type.keeps_old(), old)] {
        match image.filter(|_| keep) {
            Some(i) => {
                out.push(1);
                part.clear();
                codec::encode_item(i, &mut part);
                put_bytes(&mut out, &part);
            }
            None => out.push(0),
        }
    }
    out
}

/// Decodes a record read at `shard`, `seq`. Stored records are untrusted
/// input: failure is an error, never a panic.
pub fn decode_record(shard: u32, seq: u64, buf: &[u8]) -> Result<ChangeRecord, DecodeError> {
    let mut r = Reader::new(buf);
    if r.u8()? != RECORD_VERSION {
        return Err(DecodeError("unknown change record version"));
    }
    let created_ms = r.u64()?;
    let event = match r.u8()? {
        1 => EventName::Insert,
        2 => EventName::Modify,
        3 => EventName::Remove,
        _ => return Err(DecodeError("unknown change event")),
    };
    let view_type = StreamViewType::from_code(r.u8()?)?;
    let by_service = r.u8()? != 0;
    let keys = codec::decode_item(r.bytes()?)?;
    let mut image = || -> Result<Option<Item>, DecodeError> {
        match r.u8()? {
            0 => Ok(None),
            1 => Ok(Some(codec::decode_item(r.bytes()?)?)),
            _ => Err(DecodeError("bad image flag")),
        }
    };
    let new = image()?;
    let old = image()?;
    if !r.is_empty() {
        return Err(DecodeError("trailing bytes in change record"));
    }
    let size_bytes = size::item_size(&keys)
        + new.as_ref().map_or(0, size::item_size)
        + old.as_ref().map_or(0, size::item_size);
    Ok(ChangeRecord {
        shard,
        seq,
        created_ms,
        event,
        keys,
        new,
        old,
        view_type,
        by_service,
        size_bytes,
    })
}

impl crate::Shared {
    /// The stream states of a table, from the catalog, with each stream's
    /// next sequence number past every record it holds. A table being
    /// deleted may have lost some: its drop removes the states of its
    /// streams before the table record, and the sweeper those of its
    /// retired streams once their retention has passed.
    pub(crate) fn load_stream_states(&self, def: &TableDef) -> crate::Result<Vec<StreamState>> {
        let mut out = Vec::with_capacity(def.streams.len());
        for stream in &def.streams {
            let mut state = match self.catalog.get(state_key(stream.id))? {
                Some(v) => StreamState::decode(&v)?,
                None if def.status == crate::TableStatus::Deleting => continue,
                None => return Err(DecodeError("stream without state").into()),
            };
            if let Some(guard) = self.changes.prefix(stream.id.to_be_bytes()).next_back() {
                let k = guard.key()?;
                state.next_seq = state.next_seq.max(seq_of_key(&k)? + 1);
            }
            out.push(state);
        }
        Ok(out)
    }

    /// Deletes records older than the retention of every stream of
    /// `table`, at most `max` of them, and forgets closed shards with
    /// nothing left; returns how many records it deleted. A table being
    /// deleted is skipped: its streams are retired, and trimmed as such.
    pub(crate) fn trim_streams(&self, table: &crate::Table, max: usize) -> crate::Result<usize> {
        if table.read().status == crate::TableStatus::Deleting {
            return Ok(0);
        }
        let cutoff = crate::now_ms().saturating_sub(self.stream_retention_ms);
        let mut states = crate::lock(&table.streams);
        let mut batch = self.db.batch();
        let mut deleted = 0;
        for state in states.iter_mut() {
            if self.trim_state(state, cutoff, max, &mut deleted, &mut batch)? {
                batch.insert(&self.catalog, state_key(state.stream), state.encode());
            }
        }
        if !batch.is_empty() {
            self.commit.commit(batch)?;
        }
        Ok(deleted)
    }

    /// Deletes (into `batch`) the records of `state` created before
    /// `cutoff`, until `deleted` reaches `max`, and forgets closed shards
    /// with nothing left. Returns whether the state changed.
    pub(crate) fn trim_state(
        &self,
        state: &mut StreamState,
        cutoff: u64,
        max: usize,
        deleted: &mut usize,
        batch: &mut fjall::OwnedWriteBatch,
    ) -> crate::Result<bool> {
        let before = state.clone();
        for shard in &mut state.shards {
            let lo = record_key(state.stream, shard.id, shard.trimmed_seq);
            let hi = record_key(state.stream, shard.id, u64::MAX);
            for guard in self.changes.range(lo..=hi) {
                if *deleted >= max {
                    break;
                }
                let (k, v) = guard.into_inner()?;
                let created = v
                    .get(1..9)
                    .and_then(|b| <[u8; 8]>::try_from(b).ok())
                    .map(u64::from_be_bytes)
                    .ok_or(DecodeError("change record"))?;
                if created >= cutoff {
                    break;
                }
                let seq = seq_of_key(&k)?;
                batch.remove(&self.changes, k);
                shard.trimmed_seq = seq + 1;
                *deleted += 1;
            }
            // An empty shard closed before the cutoff holds nothing
            // readable: everything it ever held is past retention.
            if let Some(end) = shard.end_seq {
                if shard.created_ms < cutoff && shard.trimmed_seq <= end {
                    let next = record_key(state.stream, shard.id, shard.trimmed_seq);
                    let any = self
                        .changes
                        .range(next..=record_key(state.stream, shard.id, u64::MAX))
                        .next()
                        .is_some();
                    if !any {
                        shard.trimmed_seq = end + 1;
                    }
                }
            }
        }
        // Closed shards with nothing left go; the open ones stay.
        state.shards.retain(|s| {
            s.end_seq
                .is_none_or(|end| s.trimmed_seq <= end || s.created_ms >= cutoff)
        });
        Ok(*state != before)
    }
}

impl crate::Engine {
    /// Records of one shard of stream `stream`, from sequence number `from`
    /// on, at most `limit` and about `bytes_max` of them, read from one
    /// snapshot. Stream ids are never reused, so the records are the
    /// stream's whether its table still exists or not.
    pub fn read_changes(
        &self,
        stream: u32,
        shard: u32,
        from: u64,
        limit: usize,
        bytes_max: usize,
    ) -> crate::Result<Vec<ChangeRecord>> {
        let snapshot = self.shared.db.snapshot();
        let lo = record_key(stream, shard, from);
        let hi = record_key(stream, shard, u64::MAX);
        let mut out = Vec::new();
        let mut bytes = 0;
        for guard in fjall::Readable::range(&snapshot, &self.shared.changes, lo..=hi) {
            if out.len() >= limit || bytes >= bytes_max {
                break;
            }
            let (k, v) = guard.into_inner()?;
            let record = decode_record(shard, seq_of_key(&k)?, &v)?;
            bytes += record.size_bytes;
            out.push(record);
        }
        Ok(out)
    }

    /// The streams the Streams API shows for `table`, or for every table:
    /// those of existing tables and the retired streams of deleted ones,
    /// ordered by table name, then oldest first.
    pub fn list_streams(&self, table: Option<&str>) -> Vec<StreamInfo> {
        let tables: Vec<std::sync::Arc<crate::Table>> = {
            let all = self.shared.read_tables();
            match table {
                Some(name) => all.get(name).cloned().into_iter().collect(),
                None => all.values().cloned().collect(),
            }
        };
        let mut out = Vec::new();
        for t in tables {
            out.extend(live_streams(&t));
        }
        let retired = crate::lock(&self.shared.retired);
        for r in retired.values() {
            let wanted = table.is_none_or(|name| r.table == name);
            // A table being deleted may show for a moment both ways.
            if wanted && !out.iter().any(|s| s.def.id == r.def.id) {
                out.push(r.clone());
            }
        }
        drop(retired);
        out.sort_by(|a, b| {
            (a.table.as_str(), a.def.created_ms, a.def.id).cmp(&(
                b.table.as_str(),
                b.def.created_ms,
                b.def.id,
            ))
        });
        out
    }

    /// Stream `id`, which `table` has, or had before it was deleted.
    pub fn stream(&self, table: &str, id: u32) -> Option<StreamInfo> {
        let live = self.shared.read_tables().get(table).cloned();
        if let Some(found) = live.and_then(|t| live_streams(&t).find(|s| s.def.id == id)) {
            return Some(found);
        }
        crate::lock(&self.shared.retired)
            .get(&id)
            .filter(|r| r.table == table)
            .cloned()
    }
}

/// The streams of a table that is not being deleted (a deleted table's
/// streams are retired).
fn live_streams(table: &crate::Table) -> impl Iterator<Item = StreamInfo> {
    let def = table.read();
    let infos: Vec<StreamInfo> = if def.status == crate::TableStatus::Deleting {
        Vec::new()
    } else {
        let states = crate::lock(&table.streams);
        def.streams
            .iter()
            .filter_map(|d| {
                let state = states.iter().find(|s| s.stream == d.id)?.clone();
                Some(StreamInfo {
                    table: def.name.clone(),
                    key_schema: def.key_schema.clone(),
                    def: d.clone(),
                    state,
                })
            })
            .collect()
    };
    infos.into_iter()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_new_stream_has_one_shard_that_rolls_over_to_one_child() {
        let mut s = StreamState::new(7, 1000);
        assert_eq!(s.shards.len(), 1);
        assert_eq!(s.lanes(), 1);
        assert_eq!(s.allocate(0, 1500, 1000), (0, 1, false));
        assert_eq!(s.allocate(0, 1600, 1000), (0, 2, false));
        // The shard is now too old: it closes at its last number and its
        // child takes over, created later than it.
        assert_eq!(s.allocate(0, 2100, 1000), (1, 3, true));
        assert_eq!(s.shards[0].end_seq, Some(2));
        assert_eq!(s.shards[1].parent, Some(0));
        assert_eq!(s.shards[1].start_seq, 3);
        assert!(s.shards[1].created_ms > s.shards[0].created_ms);
        assert_eq!(s.lanes(), 1);
        assert_eq!(StreamState::decode(&s.encode()), Ok(s.clone()));
        s.close_all(3000);
        assert!(s.shards.iter().all(|x| x.end_seq.is_some()));
    }

    /// Streams made before one-shard streams have two lanes, each with its
    /// open shard, in the same state format: they keep both.
    #[test]
    fn a_two_lane_stream_of_an_earlier_version_keeps_its_lanes() {
        let shard = |id, lane| ShardDef {
            id,
            lane,
            parent: None,
            created_ms: 1000,
            start_seq: 1,
            end_seq: None,
            trimmed_seq: 1,
        };
        let mut s = StreamState {
            stream: 7,
            shards: vec![shard(0, 0), shard(1, 1)],
            next_seq: 1,
        };
        assert_eq!(StreamState::decode(&s.encode()), Ok(s.clone()));
        assert_eq!(s.lanes(), 2);
        assert_eq!(s.allocate(0, 1500, 1000), (0, 1, false));
        assert_eq!(s.allocate(1, 1500, 1000), (1, 2, false));
        // Lane 0's shard is now too old: it closes below the new number
        // (sequence numbers are shared by the lanes) and shard 2 opens.
        assert_eq!(s.allocate(0, 2100, 1000), (2, 3, true));
        assert_eq!(s.shards[0].end_seq, Some(2));
        assert_eq!(s.shards[2].parent, Some(0));
        assert_eq!(s.lanes(), 2);
    }

    #[test]
    fn stream_defs_round_trip_and_truncations_fail() {
        let d = StreamDef {
            id: 3,
            created_ms: 5,
            view_type: StreamViewType::NewAndOldImages,
            enabled: true,
            disabled_ms: 0,
        };
        let buf = d.encode();
        assert_eq!(StreamDef::decode(&buf), Ok(d));
        for cut in 0..buf.len() {
            assert!(StreamDef::decode(&buf[..cut]).is_err());
        }
        let state = StreamState::new(1, 2).encode();
        for cut in 0..state.len() {
            assert!(StreamState::decode(&state[..cut]).is_err());
        }
    }

    /// Found by the `decode_records` fuzz target: a stream field with
    /// trailing bytes or an enabled flag other than 0 or 1 decoded, so one
    /// field had several encodings.
    #[test]
    fn stream_fields_have_one_encoding() {
        let d = StreamDef {
            id: 1,
            created_ms: 2,
            view_type: StreamViewType::KeysOnly,
            enabled: true,
            disabled_ms: 0,
        };
        let mut trailing = d.encode();
        trailing.extend_from_slice(&[0, 0]);
        assert!(StreamDef::decode(&trailing).is_err());
        let mut flag = d.encode();
        flag[13] = 9;
        assert!(StreamDef::decode(&flag).is_err());
    }

    #[test]
    fn lanes_split_the_hash_space() {
        let mut low = vec![0u8; 12];
        low[4] = 0x10;
        let mut high = vec![0u8; 12];
        high[4] = 0xF0;
        assert_eq!(lane_of(&low, 2), 0);
        assert_eq!(lane_of(&high, 2), 1);
        assert_eq!(lane_of(&low, 1), 0);
        assert_eq!(lane_of(&high, 1), 0);
    }
}
