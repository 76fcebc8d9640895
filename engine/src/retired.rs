//! Retired streams: the streams of a deleted table. DynamoDB keeps a deleted
//! table's stream listed, described (`DISABLED`) and readable for 24 hours;
//! so does Tarn, for its stream retention. DeleteTable retires the streams
//! in the batch that marks the table `DELETING`; the table's background
//! drop leaves them alone; the sweeper trims them, and drops each one once
//! its retention has passed since the deletion (`docs/storage.md`,
//! "Retired streams").

use crate::catalog::TableDef;
use crate::clock::now_ms;
use crate::codec::{put_bytes, DecodeError, Reader};
use crate::error::Result;
use crate::guard::lock;
use crate::schema::{decode_key_attr, key_attr_payload, KeyAttr, KeySchema};
use crate::shared::Shared;
use crate::stream::{state_key, StreamDef, StreamInfo, StreamState};

const RETIRED_VERSION: u8 = 1;

/// The catalog key of a retired stream.
pub(crate) fn retired_key(stream: u32) -> [u8; 5] {
    let b = stream.to_be_bytes();
    [b'R', b[0], b[1], b[2], b[3]]
}

/// Encodes a retired stream's record: its table's name and key schema,
/// and the stream as it was disabled.
pub fn encode_retired(table: &str, key_schema: &KeySchema, def: &StreamDef) -> Vec<u8> {
    assert!(!def.enabled, "a retired stream is disabled");
    let mut out = Vec::with_capacity(64 + table.len());
    out.push(RETIRED_VERSION);
    put_bytes(&mut out, table.as_bytes());
    put_bytes(&mut out, &key_attr_payload(&key_schema.hash));
    match &key_schema.range {
        Some(range) => {
            out.push(1);
            put_bytes(&mut out, &key_attr_payload(range));
        }
        None => out.push(0),
    }
    put_bytes(&mut out, &def.encode());
    out
}

/// Decodes a retired stream's record. Stored records are untrusted input:
/// failure is an error, never a panic.
pub fn decode_retired(buf: &[u8]) -> Result<(String, KeySchema, StreamDef), DecodeError> {
    let mut r = Reader::new(buf);
    if r.u8()? != RETIRED_VERSION {
        return Err(DecodeError("unknown retired stream version"));
    }
    let table = r.str()?.to_owned();
    let hash = key_attr(r.bytes()?)?;
    let range = match r.u8()? {
        0 => None,
        1 => Some(key_attr(r.bytes()?)?),
        _ => return Err(DecodeError("retired stream range flag")),
    };
    let def = StreamDef::decode(r.bytes()?)?;
    if def.enabled {
        return Err(DecodeError("retired stream enabled"));
    }
    if !r.is_empty() {
        return Err(DecodeError("trailing bytes in retired stream"));
    }
    Ok((table, KeySchema { hash, range }, def))
}

/// A key attribute field, which has one encoding.
fn key_attr(payload: &[u8]) -> Result<KeyAttr, DecodeError> {
    let attr = decode_key_attr(payload)?;
    if key_attr_payload(&attr) != payload {
        return Err(DecodeError("trailing bytes in key attribute"));
    }
    Ok(attr)
}

impl Shared {
    /// Loads every retired stream, with its state, from the catalog.
    pub(crate) fn load_retired(&self) -> Result<()> {
        let mut out = std::collections::BTreeMap::new();
        for guard in self.catalog.prefix([b'R']) {
            let (_, value) = guard.into_inner()?;
            let (table, key_schema, def) = decode_retired(&value)?;
            let state = match self.catalog.get(state_key(def.id))? {
                Some(v) => StreamState::decode(&v)?,
                None => return Err(DecodeError("retired stream without state").into()),
            };
            self.feed.register(def.id, state.next_seq.saturating_sub(1));
            out.insert(
                def.id,
                StreamInfo {
                    table,
                    key_schema,
                    def,
                    state,
                },
            );
        }
        *lock(&self.retired) = out;
        Ok(())
    }

    /// Retires the streams of `def`, a table being deleted at `now`, into
    /// `batch`: each stream that still holds readable records is disabled,
    /// its shards are closed, and a retired record is written. `states`
    /// are the table's stream states, closed in place. Returns the retired
    /// streams, to publish once the batch is committed.
    pub(crate) fn retire_streams(
        &self,
        def: &TableDef,
        states: &mut [StreamState],
        now: u64,
        batch: &mut fjall::OwnedWriteBatch,
    ) -> Vec<StreamInfo> {
        let cutoff = now.saturating_sub(self.stream_retention_ms);
        let mut out = Vec::new();
        for d in &def.streams {
            if !d.enabled && d.disabled_ms < cutoff {
                // Past retention already: dropped with the table.
                continue;
            }
            let Some(state) = states.iter_mut().find(|s| s.stream == d.id) else {
                continue;
            };
            state.close_all(now);
            let mut retired = d.clone();
            if retired.enabled {
                retired.enabled = false;
                retired.disabled_ms = now;
            }
            batch.insert(
                &self.catalog,
                retired_key(d.id),
                encode_retired(&def.name, &def.key_schema, &retired),
            );
            batch.insert(&self.catalog, state_key(d.id), state.encode());
            out.push(StreamInfo {
                table: def.name.clone(),
                key_schema: def.key_schema.clone(),
                def: retired,
                state: state.clone(),
            });
        }
        out
    }

    /// Makes retired streams visible, once their batch is committed.
    pub(crate) fn publish_retired(&self, retired: Vec<StreamInfo>) {
        let mut map = lock(&self.retired);
        for r in retired {
            map.insert(r.def.id, r);
        }
    }

    /// True if stream `id` is retired (its records outlive its table).
    pub(crate) fn is_retired(&self, id: u32) -> bool {
        lock(&self.retired).contains_key(&id)
    }

    /// The earliest creation time a new stream of table `name` may take,
    /// so that its label is later than every label of a stream of a table
    /// of that name, live or retired: table name and label name one
    /// stream.
    pub(crate) fn stream_label_floor(&self, name: &str, def: &TableDef) -> u64 {
        let live = def.streams.iter().map(|s| s.created_ms);
        let retired: Vec<u64> = lock(&self.retired)
            .values()
            .filter(|r| r.table == name)
            .map(|r| r.def.created_ms)
            .collect();
        live.chain(retired)
            .max()
            .map_or(0, |ms| ms.saturating_add(1))
    }

    /// Trims the retired streams, at most `max` records in all, and drops
    /// each one whose retention has passed since its table was deleted:
    /// its records, its state and its retired record.
    pub(crate) fn sweep_retired(&self, max: usize) -> Result<()> {
        let cutoff = now_ms().saturating_sub(self.stream_retention_ms);
        // Only this sweeper changes retired streams, so each can be worked
        // on from a copy without holding the map.
        let retired: Vec<StreamInfo> = lock(&self.retired).values().cloned().collect();
        let mut deleted = 0;
        for r in retired {
            let id = r.def.id;
            if r.def.disabled_ms < cutoff {
                let dropped = self.drop_prefix(&self.changes, &id.to_be_bytes())?;
                let mut batch = self.db.batch();
                batch.remove(&self.catalog, retired_key(id));
                batch.remove(&self.catalog, state_key(id));
                self.commit.commit(batch)?;
                lock(&self.retired).remove(&id);
                self.feed.forget(id);
                tracing::debug!(table = %r.table, stream = id, dropped, "dropped retired stream");
                continue;
            }
            let mut state = r.state;
            let mut batch = self.db.batch();
            if self.trim_state(&mut state, cutoff, max, &mut deleted, &mut batch)? {
                batch.insert(&self.catalog, state_key(id), state.encode());
                self.commit.commit(batch)?;
                if let Some(entry) = lock(&self.retired).get_mut(&id) {
                    entry.state = state;
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::changelog::StreamViewType;
    use tarn_expr::ScalarType;

    fn sample(range: bool) -> (String, KeySchema, StreamDef) {
        (
            "Music".into(),
            KeySchema {
                hash: KeyAttr {
                    name: "Artist".into(),
                    ty: ScalarType::S,
                },
                range: range.then(|| KeyAttr {
                    name: "Year".into(),
                    ty: ScalarType::N,
                }),
            },
            StreamDef {
                id: 9,
                created_ms: 1_000,
                view_type: StreamViewType::NewImage,
                enabled: false,
                disabled_ms: 2_000,
            },
        )
    }

    #[test]
    fn retired_records_round_trip_and_truncations_fail() {
        for range in [false, true] {
            let (table, schema, def) = sample(range);
            let buf = encode_retired(&table, &schema, &def);
            assert_eq!(decode_retired(&buf), Ok((table, schema, def)));
            for cut in 0..buf.len() {
                assert!(decode_retired(&buf[..cut]).is_err(), "cut at {cut}");
            }
            let mut trailing = buf.clone();
            trailing.push(0);
            assert!(decode_retired(&trailing).is_err());
        }
    }

    #[test]
    fn a_retired_record_of_an_enabled_stream_is_corrupt() {
        let (table, schema, def) = sample(false);
        let mut buf = encode_retired(&table, &schema, &def);
        // The stream field ends with its enabled flag and disabled ms.
        let flag = buf.len() - 9;
        assert_eq!(buf[flag], 0);
        buf[flag] = 1;
        assert!(decode_retired(&buf).is_err());
    }
}
