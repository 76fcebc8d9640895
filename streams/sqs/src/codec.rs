//! The stored records of queues and messages and the index keys
//! (`docs/storage.md`, "SQS queues and messages"). Every decoder checks
//! every length and refuses what it does not know.

use std::collections::BTreeMap;

const VERSION: u8 = 1;

/// A stored record that does not decode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Corrupt(pub &'static str);

impl From<Corrupt> for crate::SqsError {
    fn from(c: Corrupt) -> Self {
        tracing::error!(what = c.0, "corrupt sqs record");
        crate::SqsError::Internal(format!("corrupt sqs record: {}", c.0))
    }
}

struct Writer(Vec<u8>);

impl Writer {
    fn u8(&mut self, v: u8) {
        self.0.push(v);
    }
    fn u32(&mut self, v: u32) {
        self.0.extend_from_slice(&v.to_be_bytes());
    }
    fn u64(&mut self, v: u64) {
        self.0.extend_from_slice(&v.to_be_bytes());
    }
    fn str(&mut self, s: &str) {
        // Strings are bounded by the message size limit.
        self.u32(s.len() as u32);
        self.0.extend_from_slice(s.as_bytes());
    }
}

struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], Corrupt> {
        let (a, b) = self.0.split_at_checked(n).ok_or(Corrupt("cut record"))?;
        self.0 = b;
        Ok(a)
    }
    fn u8(&mut self) -> Result<u8, Corrupt> {
        Ok(self.take(1)?[0])
    }
    fn u32(&mut self) -> Result<u32, Corrupt> {
        let b = self.take(4)?;
        Ok(u32::from_be_bytes(
            b.try_into().map_err(|_| Corrupt("u32"))?,
        ))
    }
    fn u64(&mut self) -> Result<u64, Corrupt> {
        let b = self.take(8)?;
        Ok(u64::from_be_bytes(
            b.try_into().map_err(|_| Corrupt("u64"))?,
        ))
    }
    fn str(&mut self) -> Result<String, Corrupt> {
        let n = self.u32()? as usize;
        String::from_utf8(self.take(n)?.to_vec()).map_err(|_| Corrupt("utf-8"))
    }
    fn end(&self) -> Result<(), Corrupt> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(Corrupt("trailing bytes"))
        }
    }
}

/// A queue's stored record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueueRecord {
    /// Never reused.
    pub id: u64,
    pub created_ms: u64,
    pub modified_ms: u64,
    /// When it was last purged (0: never).
    pub purged_ms: u64,
    /// Every settable attribute with its effective value.
    pub attributes: BTreeMap<String, String>,
    pub tags: BTreeMap<String, String>,
}

impl QueueRecord {
    pub fn encode(&self) -> Vec<u8> {
        let mut w = Writer(Vec::with_capacity(256));
        w.u8(VERSION);
        w.u64(self.id);
        w.u64(self.created_ms);
        w.u64(self.modified_ms);
        w.u64(self.purged_ms);
        for map in [&self.attributes, &self.tags] {
            w.u32(map.len() as u32);
            for (k, v) in map {
                w.str(k);
                w.str(v);
            }
        }
        w.0
    }

    pub fn decode(buf: &[u8]) -> Result<QueueRecord, Corrupt> {
        let mut r = Reader(buf);
        if r.u8()? != VERSION {
            return Err(Corrupt("queue record version"));
        }
        let (id, created_ms, modified_ms, purged_ms) = (r.u64()?, r.u64()?, r.u64()?, r.u64()?);
        let mut maps = [BTreeMap::new(), BTreeMap::new()];
        for map in &mut maps {
            let n = r.u32()?;
            for _ in 0..n {
                let k = r.str()?;
                // Keys are written in order, once each.
                if map.last_key_value().is_some_and(|(last, _)| *last >= k) {
                    return Err(Corrupt("map keys out of order"));
                }
                map.insert(k, r.str()?);
            }
        }
        r.end()?;
        let [attributes, tags] = maps;
        Ok(QueueRecord {
            id,
            created_ms,
            modified_ms,
            purged_ms,
            attributes,
            tags,
        })
    }
}

/// A message attribute's value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AttrValue {
    /// `String`, `Number` and their custom types.
    String(String),
    /// `Binary` and its custom types.
    Binary(Vec<u8>),
}

/// A message attribute.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageAttribute {
    pub data_type: String,
    pub value: AttrValue,
}

/// A message's stored record.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct MessageRecord {
    pub sent_ms: u64,
    pub visible_at_ms: u64,
    pub receive_count: u32,
    pub first_receive_ms: u64,
    pub message_id: String,
    pub body: String,
    /// FIFO message group (empty: none).
    pub group: String,
    /// FIFO deduplication id (empty: none).
    pub dedup_id: String,
    /// The `AWSTraceHeader` system attribute (empty: none).
    pub trace_header: String,
    /// The ARN of the queue it was dead-lettered from (empty: none).
    pub dlq_source: String,
    /// Message attributes by name.
    pub attributes: BTreeMap<String, MessageAttribute>,
}

impl MessageRecord {
    pub fn encode(&self) -> Vec<u8> {
        let mut w = Writer(Vec::with_capacity(64 + self.body.len()));
        w.u8(VERSION);
        w.u64(self.sent_ms);
        w.u64(self.visible_at_ms);
        w.u32(self.receive_count);
        w.u64(self.first_receive_ms);
        for s in [
            &self.message_id,
            &self.body,
            &self.group,
            &self.dedup_id,
            &self.trace_header,
            &self.dlq_source,
        ] {
            w.str(s);
        }
        w.u32(self.attributes.len() as u32);
        for (name, a) in &self.attributes {
            w.str(name);
            w.str(&a.data_type);
            match &a.value {
                AttrValue::String(s) => {
                    w.u8(1);
                    w.str(s);
                }
                AttrValue::Binary(b) => {
                    w.u8(2);
                    w.u32(b.len() as u32);
                    w.0.extend_from_slice(b);
                }
            }
        }
        w.0
    }

    pub fn decode(buf: &[u8]) -> Result<MessageRecord, Corrupt> {
        let mut r = Reader(buf);
        if r.u8()? != VERSION {
            return Err(Corrupt("message record version"));
        }
        let mut m = MessageRecord {
            sent_ms: r.u64()?,
            visible_at_ms: r.u64()?,
            receive_count: r.u32()?,
            first_receive_ms: r.u64()?,
            message_id: r.str()?,
            body: r.str()?,
            group: r.str()?,
            dedup_id: r.str()?,
            trace_header: r.str()?,
            dlq_source: r.str()?,
            attributes: BTreeMap::new(),
        };
        let n = r.u32()?;
        for _ in 0..n {
            let name = r.str()?;
            if m.attributes
                .last_key_value()
                .is_some_and(|(last, _)| *last >= name)
            {
                return Err(Corrupt("attribute names out of order"));
            }
            let data_type = r.str()?;
            let value = match r.u8()? {
                1 => AttrValue::String(r.str()?),
                2 => {
                    let len = r.u32()? as usize;
                    AttrValue::Binary(r.take(len)?.to_vec())
                }
                _ => return Err(Corrupt("attribute kind")),
            };
            m.attributes
                .insert(name, MessageAttribute { data_type, value });
        }
        r.end()?;
        Ok(m)
    }
}

/// `queue id | seq`: a message's key.
pub fn message_key(queue: u64, seq: u64) -> [u8; 16] {
    let mut k = [0; 16];
    k[..8].copy_from_slice(&queue.to_be_bytes());
    k[8..].copy_from_slice(&seq.to_be_bytes());
    k
}

/// `queue id | t | seq`: a visibility or sent-time index key.
pub fn time_key(queue: u64, t_ms: u64, seq: u64) -> [u8; 24] {
    let mut k = [0; 24];
    k[..8].copy_from_slice(&queue.to_be_bytes());
    k[8..16].copy_from_slice(&t_ms.to_be_bytes());
    k[16..].copy_from_slice(&seq.to_be_bytes());
    k
}

/// Splits a [`time_key`] into `(t, seq)`.
pub fn split_time_key(k: &[u8]) -> Result<(u64, u64), Corrupt> {
    if k.len() != 24 {
        return Err(Corrupt("index key length"));
    }
    let t = u64::from_be_bytes(k[8..16].try_into().map_err(|_| Corrupt("index key"))?);
    let seq = u64::from_be_bytes(k[16..].try_into().map_err(|_| Corrupt("index key"))?);
    Ok((t, seq))
}

/// `queue id | len u16 | group`: the prefix of a FIFO group's entries.
pub fn group_prefix(queue: u64, group: &str) -> Vec<u8> {
    let mut k = Vec::with_capacity(10 + group.len() + 8);
    k.extend_from_slice(&queue.to_be_bytes());
    // Group ids are at most 128 characters.
    k.extend_from_slice(&(group.len() as u16).to_be_bytes());
    k.extend_from_slice(group.as_bytes());
    k
}

/// A group entry's key.
pub fn group_key(queue: u64, group: &str, seq: u64) -> Vec<u8> {
    let mut k = group_prefix(queue, group);
    k.extend_from_slice(&seq.to_be_bytes());
    k
}

/// The seq at the end of a group key.
pub fn group_key_seq(k: &[u8]) -> Result<u64, Corrupt> {
    let tail = k
        .len()
        .checked_sub(8)
        .map(|at| &k[at..])
        .ok_or(Corrupt("group key"))?;
    Ok(u64::from_be_bytes(
        tail.try_into().map_err(|_| Corrupt("group key"))?,
    ))
}

/// A deduplication record's key.
pub fn dedup_key(queue: u64, scope_group: &str, dedup_id: &str) -> Vec<u8> {
    let mut k = group_prefix(queue, scope_group);
    k.extend_from_slice(dedup_id.as_bytes());
    k
}

/// A deduplication record: `expires_ms | seq | message id`.
pub fn encode_dedup(expires_ms: u64, seq: u64, message_id: &str) -> Vec<u8> {
    let mut w = Writer(Vec::with_capacity(24 + message_id.len()));
    w.u64(expires_ms);
    w.u64(seq);
    w.str(message_id);
    w.0
}

pub fn decode_dedup(buf: &[u8]) -> Result<(u64, u64, String), Corrupt> {
    let mut r = Reader(buf);
    let v = (r.u64()?, r.u64()?, r.str()?);
    r.end()?;
    Ok(v)
}

/// A receipt handle: `base64url(01 | queue | seq | receive_count | mac)`.
pub fn receipt_handle(queue: u64, seq: u64, receive_count: u32) -> String {
    use base64::Engine as _;
    let mut b = Vec::with_capacity(29);
    b.push(VERSION);
    b.extend_from_slice(&queue.to_be_bytes());
    b.extend_from_slice(&seq.to_be_bytes());
    b.extend_from_slice(&receive_count.to_be_bytes());
    let mac = receipt_mac(&b);
    b.extend_from_slice(&mac);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b)
}

fn receipt_mac(b: &[u8]) -> [u8; 8] {
    let h = blake3::keyed_hash(b"tarn sqs receipt handles v1 mac!", b);
    let mut mac = [0; 8];
    mac.copy_from_slice(&h.as_bytes()[..8]);
    mac
}

/// `(queue, seq, receive_count)` of a handle of ours, or `None`.
pub fn parse_receipt_handle(h: &str) -> Option<(u64, u64, u32)> {
    use base64::Engine as _;
    let b = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(h.as_bytes())
        .ok()?;
    if b.len() != 29 || b[0] != VERSION || receipt_mac(&b[..21]) != b[21..] {
        return None;
    }
    Some((
        u64::from_be_bytes(b[1..9].try_into().ok()?),
        u64::from_be_bytes(b[9..17].try_into().ok()?),
        u32::from_be_bytes(b[17..21].try_into().ok()?),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_round_trip_and_every_cut_is_refused() {
        let mut m = MessageRecord {
            sent_ms: 1,
            visible_at_ms: 2,
            receive_count: 3,
            first_receive_ms: 4,
            message_id: "id".into(),
            body: "body".into(),
            group: "g".into(),
            dedup_id: "d".into(),
            trace_header: "t".into(),
            dlq_source: "arn".into(),
            attributes: BTreeMap::new(),
        };
        m.attributes.insert(
            "a".into(),
            MessageAttribute {
                data_type: "Binary".into(),
                value: AttrValue::Binary(vec![0, 1]),
            },
        );
        m.attributes.insert(
            "b".into(),
            MessageAttribute {
                data_type: "String".into(),
                value: AttrValue::String("x".into()),
            },
        );
        let bytes = m.encode();
        assert_eq!(MessageRecord::decode(&bytes), Ok(m));
        for cut in 0..bytes.len() {
            assert!(MessageRecord::decode(&bytes[..cut]).is_err(), "cut {cut}");
        }
        let q = QueueRecord {
            id: 7,
            created_ms: 1,
            modified_ms: 2,
            purged_ms: 0,
            attributes: [("VisibilityTimeout".to_owned(), "30".to_owned())].into(),
            tags: [("k".to_owned(), "v".to_owned())].into(),
        };
        let bytes = q.encode();
        assert_eq!(QueueRecord::decode(&bytes), Ok(q));
        for cut in 0..bytes.len() {
            assert!(QueueRecord::decode(&bytes[..cut]).is_err(), "cut {cut}");
        }
    }

    #[test]
    fn maps_with_repeated_or_unordered_keys_are_refused() {
        let mut w = Writer(Vec::new());
        w.u8(VERSION);
        for v in [7, 1, 2, 0] {
            w.u64(v);
        }
        w.u32(2);
        for k in ["b", "a"] {
            w.str(k);
            w.str("v");
        }
        w.u32(0);
        assert_eq!(
            QueueRecord::decode(&w.0),
            Err(Corrupt("map keys out of order"))
        );
    }

    #[test]
    fn receipt_handles_round_trip_and_tampering_is_refused() {
        let h = receipt_handle(3, 99, 2);
        assert_eq!(parse_receipt_handle(&h), Some((3, 99, 2)));
        let mut bad = h.into_bytes();
        bad[5] = if bad[5] == b'A' { b'B' } else { b'A' };
        assert_eq!(
            parse_receipt_handle(std::str::from_utf8(&bad).expect("ascii")),
            None
        );
        assert_eq!(parse_receipt_handle("garbage"), None);
    }
}
