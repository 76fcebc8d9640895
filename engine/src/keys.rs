//! Item key layout: `table id | hash | enc(pk) | enc(sk)` (`docs/storage.md`).

use std::ops::Bound;

use tarn_expr::{key, AttributeValue, ScalarType};

use crate::codec::DecodeError;
use crate::error::Result;

/// DynamoDB's partition key size limit.
pub const HASH_KEY_BYTES_MAX: usize = 2048;
/// DynamoDB's sort key size limit.
pub const RANGE_KEY_BYTES_MAX: usize = 1024;
/// Bytes of the table id prefix.
pub const TABLE_ID_BYTES: usize = 4;
/// Bytes of the partition hash.
pub const HASH_BYTES: usize = 8;

/// The 8-byte partition hash of an encoded partition key of type `tag`.
pub fn partition_hash(tag: &str, encoded_pk: &[u8]) -> [u8; HASH_BYTES] {
    let mut h = blake3::Hasher::new();
    h.update(tag.as_bytes());
    h.update(encoded_pk);
    let mut out = [0u8; HASH_BYTES];
    out.copy_from_slice(&h.finalize().as_bytes()[..HASH_BYTES]);
    out
}

/// The prefix shared by every item of one partition:
/// `table id | hash | enc(pk)`. The value must be of a key type.
pub fn partition_prefix(table_id: u32, pk: &AttributeValue) -> Vec<u8> {
    let mut encoded_pk = Vec::with_capacity(32);
    let ok = key::encode(pk, &mut encoded_pk);
    debug_assert!(ok, "partition key of a non-key type");
    let mut out = Vec::with_capacity(TABLE_ID_BYTES + HASH_BYTES + encoded_pk.len() + 16);
    out.extend_from_slice(&table_id.to_be_bytes());
    out.extend_from_slice(&partition_hash(pk.type_name(), &encoded_pk));
    out.extend_from_slice(&encoded_pk);
    out
}

/// Builds the storage key of an item. The values must be of key types; the
/// caller has validated them against the schema.
pub fn item_key(table_id: u32, pk: &AttributeValue, sk: Option<&AttributeValue>) -> Vec<u8> {
    let mut out = partition_prefix(table_id, pk);
    if let Some(sk) = sk {
        let ok = key::encode(sk, &mut out);
        debug_assert!(ok, "sort key of a non-key type");
    }
    out
}

/// The prefix shared by every item key of a table.
pub fn table_prefix(table_id: u32) -> [u8; TABLE_ID_BYTES] {
    table_id.to_be_bytes()
}

/// The length of the partition prefix `table id | hash | enc(pk)` of a
/// stored item key of a table whose partition key is of type `hash_ty`.
pub fn partition_len(hash_ty: ScalarType, item_key: &[u8]) -> Result<usize> {
    let start = TABLE_ID_BYTES + HASH_BYTES;
    let tail = item_key
        .get(start..)
        .ok_or(DecodeError("item key too short"))?;
    let (_, used) = key::decode(hash_ty, tail).map_err(|_| DecodeError("item key partition"))?;
    Ok(start + used)
}

/// The smallest key above every key that starts with `prefix`.
pub(crate) fn prefix_end(prefix: &[u8]) -> Bound<Vec<u8>> {
    let mut end = prefix.to_vec();
    while let Some(last) = end.pop() {
        if last < 0xFF {
            end.push(last + 1);
            return Bound::Excluded(end);
        }
    }
    Bound::Unbounded
}
