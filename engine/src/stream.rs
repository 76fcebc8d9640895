//! Streams and their shards: the definitions a table record holds, the
//! state the catalog keeps per stream (`"S" | stream id`), and how sequence
//! numbers and shards are handed out (`docs/storage.md`, "Change log").

use crate::codec::{put_varint, DecodeError, Reader};
use crate::schema::KeySchema;

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

    pub(crate) fn code(self) -> u8 {
        match self {
            StreamViewType::KeysOnly => 1,
            StreamViewType::NewImage => 2,
            StreamViewType::OldImage => 3,
            StreamViewType::NewAndOldImages => 4,
        }
    }

    pub(crate) fn from_code(c: u8) -> Result<Self, DecodeError> {
        Ok(match c {
            1 => StreamViewType::KeysOnly,
            2 => StreamViewType::NewImage,
            3 => StreamViewType::OldImage,
            4 => StreamViewType::NewAndOldImages,
            _ => return Err(DecodeError("unknown stream view type")),
        })
    }

    pub(crate) fn keeps_new(self) -> bool {
        matches!(
            self,
            StreamViewType::NewImage | StreamViewType::NewAndOldImages
        )
    }

    pub(crate) fn keeps_old(self) -> bool {
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
}
