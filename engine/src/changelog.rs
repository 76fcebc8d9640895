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

use crate::catalog::{TableDef, TableStatus};
use crate::clock::now_ms;
use crate::codec::{self, put_bytes, DecodeError, Reader};
use crate::error::Result;
use crate::guard::lock;
use crate::keys;
use crate::schema::key_of;
use crate::shared::Shared;
use crate::stream::state_key;
use crate::table::Table;

pub use crate::stream::{ShardDef, StreamDef, StreamInfo, StreamState, StreamViewType};

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
        .map(|i| key_of(&def.key_schema, i))
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

impl Shared {
    /// The stream states of a table, from the catalog, with each stream's
    /// next sequence number past every record it holds. A table being
    /// deleted may have lost some: its drop removes the states of its
    /// streams before the table record, and the sweeper those of its
    /// retired streams once their retention has passed.
    pub(crate) fn load_stream_states(&self, def: &TableDef) -> Result<Vec<StreamState>> {
        let mut out = Vec::with_capacity(def.streams.len());
        for stream in &def.streams {
            let mut state = match self.catalog.get(state_key(stream.id))? {
                Some(v) => StreamState::decode(&v)?,
                None if def.status == TableStatus::Deleting => continue,
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
    pub(crate) fn trim_streams(&self, table: &Table, max: usize) -> Result<usize> {
        if table.read().status == TableStatus::Deleting {
            return Ok(0);
        }
        let cutoff = now_ms().saturating_sub(self.stream_retention_ms);
        let mut states = lock(&table.streams);
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
    ) -> Result<bool> {
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

impl Shared {
    /// `Engine::read_changes`: records past the stream's durable watermark
    /// are left out, committed as they are, since a crash could still take
    /// them away.
    pub(crate) fn read_changes(
        &self,
        stream: u32,
        shard: u32,
        from: u64,
        limit: usize,
        bytes_max: usize,
    ) -> Result<Vec<ChangeRecord>> {
        // The watermark is read before the snapshot is taken, so every
        // record up to it is in the snapshot.
        let durable = self.feed.durable_seq(stream);
        if from > durable {
            return Ok(Vec::new());
        }
        let snapshot = self.db.snapshot();
        let lo = record_key(stream, shard, from);
        let hi = record_key(stream, shard, durable);
        let mut out = Vec::new();
        let mut bytes = 0;
        for guard in fjall::Readable::range(&snapshot, &self.changes, lo..=hi) {
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
    pub(crate) fn list_streams(&self, table: Option<&str>) -> Vec<StreamInfo> {
        let tables: Vec<std::sync::Arc<Table>> = {
            let all = self.read_tables();
            match table {
                Some(name) => all.get(name).cloned().into_iter().collect(),
                None => all.values().cloned().collect(),
            }
        };
        let mut out = Vec::new();
        for t in tables {
            out.extend(live_streams(&t));
        }
        let retired = lock(&self.retired);
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
    pub(crate) fn stream(&self, table: &str, id: u32) -> Option<StreamInfo> {
        let live = self.read_tables().get(table).cloned();
        if let Some(found) = live.and_then(|t| live_streams(&t).find(|s| s.def.id == id)) {
            return Some(found);
        }
        lock(&self.retired)
            .get(&id)
            .filter(|r| r.table == table)
            .cloned()
    }
}

/// The streams of a table that is not being deleted (a deleted table's
/// streams are retired).
fn live_streams(table: &Table) -> impl Iterator<Item = StreamInfo> {
    let def = table.read();
    let infos: Vec<StreamInfo> = if def.status == TableStatus::Deleting {
        Vec::new()
    } else {
        let states = lock(&table.streams);
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
