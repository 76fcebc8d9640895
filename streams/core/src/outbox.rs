//! The outbox: work one service hands to another, durable in the same batch
//! as its cause.
//!
//! SNS fanning out to a queue, a function's on-failure destination, an
//! asynchronous invoke, a table writing to a Kinesis stream: in each case
//! the producer writes an [`Entry`] addressed to a [`Target`] service into
//! the very batch that records its own state change, so a crash keeps both
//! or neither. The target's owner drains its entries in bounded batches:
//! it applies each (an SQS send, say) and removes the entry in one batch of
//! its own, so an entry is applied exactly once however often the drainer
//! restarts. No service calls another's internals: SNS knows nothing of SQS
//! beyond an ARN in an entry.
//!
//! Drainers wait for a [`Outbox::listen`] notification, not on a timer: a
//! producer calls [`Notice::send`] once its batch is committed.
//!
//! Record format (keyspace `outbox` of the engine's store; `docs/storage.md`):
//! key `len(target) u8 | target | seq u64 BE`, `seq` from store counter
//! `outbox`; value `01 | created_ms u64 BE | pairs u32 BE | field*`
//! (`pairs` the number of attribute pairs, so that a value cut at a field
//! boundary is refused) where a field is
//! `tag u8 | len u32 BE | bytes` with tags 1 resource (UTF-8), 2 kind
//! (UTF-8), 3 payload, 4 attribute name, 5 attribute value (4 and 5 in
//! pairs). Decoding checks every length and refuses unknown versions.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

#[cfg(test)]
use event_listener::Listener;
use event_listener::{Event, EventListener};
use tarn_engine::store::{Direction, KeyRange, Keyspace};
use tarn_engine::{Store, StoreBatch};

/// The store keyspace of the outbox.
pub const KEYSPACE: &str = "outbox";
/// The store counter of entry sequence numbers.
const COUNTER: &str = "outbox";
const VERSION: u8 = 1;
/// The largest payload an entry carries (an SNS message with attributes,
/// a function's result record, a Kinesis record all fit).
pub const PAYLOAD_BYTES_MAX: usize = 6 * 1024 * 1024;

const TAG_RESOURCE: u8 = 1;
const TAG_KIND: u8 = 2;
const TAG_PAYLOAD: u8 = 3;
const TAG_ATTR_NAME: u8 = 4;
const TAG_ATTR_VALUE: u8 = 5;

/// The service that drains an entry: a short lowercase name (`sqs`,
/// `sns`, `lambda`, `kinesis`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Target(&'static str);

impl Target {
    /// SQS: sends to a queue.
    pub const SQS: Target = Target("sqs");
    /// SNS: publishes to a topic.
    pub const SNS: Target = Target("sns");
    /// Lambda: invokes a function asynchronously.
    pub const LAMBDA: Target = Target("lambda");
    /// Kinesis: puts a record.
    pub const KINESIS: Target = Target("kinesis");

    /// The target's name.
    pub fn name(self) -> &'static str {
        self.0
    }

    fn prefix(self) -> Vec<u8> {
        let mut p = Vec::with_capacity(1 + self.0.len());
        // Target names are short constants.
        p.push(self.0.len() as u8);
        p.extend_from_slice(self.0.as_bytes());
        p
    }
}

/// One piece of work for a target.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Entry {
    /// What it is addressed to within the target (a queue or topic ARN,
    /// a function ARN).
    pub resource: String,
    /// What kind of work it is, for the target (`send`, `publish`,
    /// `invoke`, `destination`...).
    pub kind: String,
    /// The payload, opaque to the outbox.
    pub payload: Vec<u8>,
    /// Name/value pairs the target needs beside the payload (message
    /// attributes, a deduplication id...), in order.
    pub attributes: Vec<(String, String)>,
    /// When the producer wrote it (ms since the epoch).
    pub created_ms: u64,
}

/// An entry read back by the drainer, with the key that removes it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Pending {
    /// The entry's key in the outbox.
    pub key: Vec<u8>,
    /// Its sequence number (entries of one target are drained in this
    /// order).
    pub seq: u64,
    /// The entry.
    pub entry: Entry,
}

/// Outbox errors.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The store failed.
    #[error(transparent)]
    Store(#[from] tarn_engine::Error),
    /// A stored entry does not decode.
    #[error("corrupt outbox entry: {0}")]
    Corrupt(&'static str),
    /// An entry's payload is over [`PAYLOAD_BYTES_MAX`].
    #[error("outbox payload of {0} bytes is over the limit")]
    TooLarge(usize),
}

/// Tells a target that entries were committed for it. `#[must_use]`: a
/// producer that writes an entry and never sends the notice leaves it
/// waiting for the next notice or restart.
#[must_use = "send the notice once the batch holding the entry is committed"]
#[derive(Debug)]
pub struct Notice {
    outbox: Outbox,
    target: Target,
}

impl Notice {
    /// Wakes the target's drainer.
    pub fn send(self) {
        self.outbox.event(self.target).notify(usize::MAX);
    }
}

/// The outbox of one engine. Cheap to clone.
#[derive(Clone)]
pub struct Outbox {
    store: Store,
    keyspace: Keyspace,
    events: Arc<Mutex<HashMap<Target, Arc<Event>>>>,
}

impl std::fmt::Debug for Outbox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Outbox").finish_non_exhaustive()
    }
}

impl Outbox {
    /// Opens the outbox in `store` (creating its keyspace on first use).
    pub fn open(store: &Store) -> Result<Outbox, Error> {
        Ok(Outbox {
            store: store.clone(),
            keyspace: store.keyspace(KEYSPACE)?,
            events: Arc::new(Mutex::new(HashMap::new())),
        })
    }

    fn event(&self, target: Target) -> Arc<Event> {
        let mut events = self.events.lock().unwrap_or_else(PoisonError::into_inner);
        Arc::clone(
            events
                .entry(target)
                .or_insert_with(|| Arc::new(Event::new())),
        )
    }

    /// Adds `entry` for `target` to the producer's `batch`. Send the
    /// returned notice after the batch is committed.
    pub fn put(
        &self,
        batch: &mut StoreBatch,
        target: Target,
        entry: &Entry,
    ) -> Result<Notice, Error> {
        if entry.payload.len() > PAYLOAD_BYTES_MAX {
            return Err(Error::TooLarge(entry.payload.len()));
        }
        let seq = batch.allocate(COUNTER)?;
        let mut key = target.prefix();
        key.extend_from_slice(&seq.to_be_bytes());
        batch.insert(&self.keyspace, &key, &encode(entry))?;
        Ok(Notice {
            outbox: self.clone(),
            target,
        })
    }

    /// A listener that fires at the next notice for `target`. Take it
    /// before reading [`pending`](Self::pending), so that an entry
    /// committed in between is not missed.
    pub fn listen(&self, target: Target) -> EventListener {
        self.event(target).listen()
    }

    /// The oldest entries for `target`, at most `max`.
    pub fn pending(&self, target: Target, max: usize) -> Result<Vec<Pending>, Error> {
        let prefix = target.prefix();
        let entries = self.store.scan(
            &self.keyspace,
            &KeyRange::prefix(&prefix),
            Direction::Forward,
            max,
        )?;
        entries
            .into_iter()
            .map(|e| {
                let seq_bytes: [u8; 8] = e.key[prefix.len()..]
                    .try_into()
                    .map_err(|_| Error::Corrupt("key length"))?;
                Ok(Pending {
                    key: e.key.to_vec(),
                    seq: u64::from_be_bytes(seq_bytes),
                    entry: decode(&e.value)?,
                })
            })
            .collect()
    }

    /// Removes a drained entry, in the batch that applies it.
    pub fn done(&self, batch: &mut StoreBatch, pending: &Pending) -> Result<(), Error> {
        batch.remove(&self.keyspace, &pending.key)?;
        Ok(())
    }
}

fn put_field(out: &mut Vec<u8>, tag: u8, bytes: &[u8]) {
    out.push(tag);
    // Fields are bounded by PAYLOAD_BYTES_MAX and the store's value limit.
    out.extend_from_slice(&(bytes.len() as u32).to_be_bytes());
    out.extend_from_slice(bytes);
}

/// Encodes an entry (format in the module docs).
pub fn encode(entry: &Entry) -> Vec<u8> {
    let mut out =
        Vec::with_capacity(16 + entry.resource.len() + entry.kind.len() + entry.payload.len());
    out.push(VERSION);
    out.extend_from_slice(&entry.created_ms.to_be_bytes());
    // Attribute pairs are few (bounded by the payload limit).
    out.extend_from_slice(&(entry.attributes.len() as u32).to_be_bytes());
    put_field(&mut out, TAG_RESOURCE, entry.resource.as_bytes());
    put_field(&mut out, TAG_KIND, entry.kind.as_bytes());
    put_field(&mut out, TAG_PAYLOAD, &entry.payload);
    for (name, value) in &entry.attributes {
        put_field(&mut out, TAG_ATTR_NAME, name.as_bytes());
        put_field(&mut out, TAG_ATTR_VALUE, value.as_bytes());
    }
    out
}

/// Decodes an entry, checking every length.
pub fn decode(buf: &[u8]) -> Result<Entry, Error> {
    let (&version, rest) = buf.split_first().ok_or(Error::Corrupt("empty"))?;
    if version != VERSION {
        return Err(Error::Corrupt("version"));
    }
    let (ms, rest) = rest.split_at_checked(8).ok_or(Error::Corrupt("created"))?;
    let (pairs, mut rest) = rest.split_at_checked(4).ok_or(Error::Corrupt("pairs"))?;
    let pairs = u32::from_be_bytes(pairs.try_into().map_err(|_| Error::Corrupt("pairs"))?) as usize;
    let mut entry = Entry {
        created_ms: u64::from_be_bytes(ms.try_into().map_err(|_| Error::Corrupt("created"))?),
        ..Entry::default()
    };
    let text = |b: &[u8]| String::from_utf8(b.to_vec()).map_err(|_| Error::Corrupt("utf-8"));
    let mut name: Option<String> = None;
    let (mut resource, mut kind, mut payload) = (false, false, false);
    while let Some((&tag, after)) = rest.split_first() {
        let (len, after) = after.split_at_checked(4).ok_or(Error::Corrupt("length"))?;
        let len =
            u32::from_be_bytes(len.try_into().map_err(|_| Error::Corrupt("length"))?) as usize;
        let (bytes, after) = after.split_at_checked(len).ok_or(Error::Corrupt("field"))?;
        rest = after;
        match tag {
            TAG_RESOURCE if !resource => {
                entry.resource = text(bytes)?;
                resource = true;
            }
            TAG_KIND if !kind => {
                entry.kind = text(bytes)?;
                kind = true;
            }
            TAG_PAYLOAD if !payload => {
                entry.payload = bytes.to_vec();
                payload = true;
            }
            TAG_ATTR_NAME if name.is_none() => name = Some(text(bytes)?),
            TAG_ATTR_VALUE => {
                let n = name
                    .take()
                    .ok_or(Error::Corrupt("attribute value without name"))?;
                entry.attributes.push((n, text(bytes)?));
            }
            _ => return Err(Error::Corrupt("field tag")),
        }
    }
    if !(resource && kind && payload) || name.is_some() || entry.attributes.len() != pairs {
        return Err(Error::Corrupt("missing field"));
    }
    Ok(entry)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn engine() -> tarn_engine::Engine {
        tarn_engine::Engine::open(tarn_engine::Options::default()).expect("engine")
    }

    fn entry(resource: &str, payload: &[u8]) -> Entry {
        Entry {
            resource: resource.into(),
            kind: "send".into(),
            payload: payload.to_vec(),
            attributes: vec![
                ("MessageGroupId".into(), "g".into()),
                ("a".into(), String::new()),
            ],
            created_ms: 1_700_000_000_000,
        }
    }

    #[test]
    fn entries_round_trip_and_every_truncation_is_refused() {
        let e = entry("arn:aws:sqs:us-east-1:000000000000:q", b"hello");
        let bytes = encode(&e);
        assert_eq!(decode(&bytes).expect("decodes"), e);
        for cut in 0..bytes.len() {
            assert!(decode(&bytes[..cut]).is_err(), "cut at {cut}");
        }
        let mut bad = bytes.clone();
        bad[0] = 2;
        assert!(matches!(decode(&bad), Err(Error::Corrupt("version"))));
    }

    #[test]
    fn entries_drain_in_order_per_target_and_are_removed_with_their_application() {
        let engine = engine();
        let store = engine.store();
        let outbox = Outbox::open(&store).expect("outbox");
        let mut batch = store.batch();
        let mut notices = Vec::new();
        for i in 0..5u8 {
            notices.push(
                outbox
                    .put(&mut batch, Target::SQS, &entry("q", &[i]))
                    .expect("put"),
            );
        }
        notices.push(
            outbox
                .put(&mut batch, Target::LAMBDA, &entry("f", b"x"))
                .expect("put"),
        );
        batch
            .commit()
            .expect("commit")
            .wait(&engine)
            .expect("durable");
        notices.into_iter().for_each(Notice::send);

        let first = outbox.pending(Target::SQS, 3).expect("pending");
        assert_eq!(
            first.iter().map(|p| p.entry.payload[0]).collect::<Vec<_>>(),
            [0, 1, 2]
        );
        assert!(first.windows(2).all(|w| w[0].seq < w[1].seq));
        let mut batch = store.batch();
        for p in &first {
            outbox.done(&mut batch, p).expect("done");
        }
        batch
            .commit()
            .expect("commit")
            .wait(&engine)
            .expect("durable");
        let rest = outbox.pending(Target::SQS, 10).expect("pending");
        assert_eq!(
            rest.iter().map(|p| p.entry.payload[0]).collect::<Vec<_>>(),
            [3, 4]
        );
        assert_eq!(
            outbox.pending(Target::LAMBDA, 10).expect("pending").len(),
            1
        );
        assert!(outbox.pending(Target::SNS, 10).expect("pending").is_empty());
    }

    #[test]
    fn a_listener_taken_before_reading_is_woken_by_a_later_notice() {
        let engine = engine();
        let store = engine.store();
        let outbox = Outbox::open(&store).expect("outbox");
        let listener = outbox.listen(Target::SNS);
        assert!(outbox.pending(Target::SNS, 1).expect("pending").is_empty());
        let producer = {
            let (engine, outbox, store) = (engine.clone(), outbox.clone(), store.clone());
            std::thread::spawn(move || {
                std::thread::sleep(Duration::from_millis(20));
                let mut batch = store.batch();
                let notice = outbox
                    .put(&mut batch, Target::SNS, &entry("t", b"m"))
                    .expect("put");
                batch
                    .commit()
                    .expect("commit")
                    .wait(&engine)
                    .expect("durable");
                notice.send();
            })
        };
        assert!(
            listener.wait_timeout(Duration::from_secs(5)).is_some(),
            "woken"
        );
        assert_eq!(outbox.pending(Target::SNS, 1).expect("pending").len(), 1);
        producer.join().expect("producer");
    }

    #[test]
    fn oversized_payloads_are_refused_before_anything_is_written() {
        let engine = engine();
        let store = engine.store();
        let outbox = Outbox::open(&store).expect("outbox");
        let mut batch = store.batch();
        let big = entry("q", &vec![0; PAYLOAD_BYTES_MAX + 1]);
        assert!(matches!(
            outbox.put(&mut batch, Target::SQS, &big),
            Err(Error::TooLarge(_))
        ));
        assert!(batch.is_empty());
    }
}
