//! Key schemas: the named, typed attributes a table or index is keyed by,
//! and their stored form (a field payload of table and index records,
//! `docs/storage.md`, "Table records").

use tarn_expr::{Item, ScalarType};

use crate::codec::{put_bytes, DecodeError, Reader};

/// A named, typed attribute: a key schema element or an attribute definition.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeyAttr {
    /// Attribute name.
    pub name: String,
    /// Its scalar type.
    pub ty: ScalarType,
}

/// A table's primary key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeySchema {
    /// The partition (HASH) key.
    pub hash: KeyAttr,
    /// The sort (RANGE) key, if the table has one.
    pub range: Option<KeyAttr>,
}

/// The table's key attributes, partition first.
pub fn table_key_attrs(table: &KeySchema) -> impl Iterator<Item = &KeyAttr> {
    std::iter::once(&table.hash).chain(table.range.as_ref())
}

/// The key attributes of `item` under `ks`, as `LastEvaluatedKey` and
/// change records name them.
pub(crate) fn key_of(ks: &KeySchema, item: &Item) -> Item {
    table_key_attrs(ks)
        .filter_map(|a| item.get(&a.name).map(|v| (a.name.clone(), v.clone())))
        .collect()
}

/// The payload of a key attribute field: its name, then its type letter.
pub(crate) fn key_attr_payload(a: &KeyAttr) -> Vec<u8> {
    let mut p = Vec::with_capacity(a.name.len() + 2);
    put_bytes(&mut p, a.name.as_bytes());
    p.push(a.ty.as_str().as_bytes()[0]);
    p
}

/// Decodes a key attribute field payload.
pub(crate) fn decode_key_attr(payload: &[u8]) -> Result<KeyAttr, DecodeError> {
    let mut r = Reader::new(payload);
    let name = r.str()?.to_owned();
    let ty = match r.u8()? {
        b'S' => ScalarType::S,
        b'N' => ScalarType::N,
        b'B' => ScalarType::B,
        _ => return Err(DecodeError("unknown attribute type")),
    };
    Ok(KeyAttr { name, ty })
}
