//! Secondary indexes: their definitions and stored records, the keys and
//! values of their entries, and the checks an item's index key attributes
//! must pass (`docs/storage.md`, "Index entries").
//!
//! An index entry is keyed
//! `index id | hash | enc(index pk parts) | enc(index sk parts) | enc(table pk) | enc(table sk)?`
//! in the `indexes` keyspace, so that an index partition is one contiguous
//! range ordered by the index sort key, with the table key as tie-breaker
//! (duplicate index keys are allowed). The value is the projected item.
//! Local and global indexes share the layout: a local index's partition key
//! is the table's.
//!
//! Invariants:
//! - An item has an entry in an index exactly when every index key attribute
//!   is present with its defined type (sparse indexes); a write that would
//!   store an index key attribute of the wrong type is refused.
//! - Index ids come from the table id counter and are never reused, so a
//!   dropped index's leftover entries can never be read as another's.

use tarn_expr::{key, size, AttributeValue, Item, ScalarType};

use crate::codec::{put_bytes, DecodeError, Reader};
use crate::error::{Error, Result};
use crate::invalid::Invalid;
use crate::keys::{self, HASH_KEY_BYTES_MAX, RANGE_KEY_BYTES_MAX};
use crate::schema::{decode_key_attr, key_attr_payload, table_key_attrs, KeyAttr, KeySchema};

/// DynamoDB's limits on indexes per table.
pub const LOCAL_INDEXES_MAX: usize = 5;
/// Global secondary indexes per table.
pub const GLOBAL_INDEXES_MAX: usize = 20;
/// Attributes in one part (partition or sort) of a multi-attribute GSI key.
pub const KEY_PART_ATTRS_MAX: usize = 4;

/// Local (same partition key, at table creation only) or global.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IndexKind {
    /// A local secondary index.
    Local,
    /// A global secondary index.
    Global,
}

/// Which attributes an index entry carries besides the keys.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProjectionType {
    /// Only the table and index keys.
    KeysOnly,
    /// The keys and the listed non-key attributes.
    Include,
    /// The whole item.
    All,
}

impl ProjectionType {
    /// DynamoDB's name for it.
    pub fn as_str(self) -> &'static str {
        match self {
            ProjectionType::KeysOnly => "KEYS_ONLY",
            ProjectionType::Include => "INCLUDE",
            ProjectionType::All => "ALL",
        }
    }
}

/// An index's projection.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IndexProjection {
    /// The projection type.
    pub kind: ProjectionType,
    /// For `Include`: the non-key attributes, in request order.
    pub non_key_attributes: Vec<String>,
}

/// Lifecycle of an index.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IndexStatus {
    /// Created by UpdateTable: maintained by writes, being backfilled, not
    /// yet readable.
    Creating,
    /// Readable.
    Active,
    /// Deleted: no longer maintained; its entries are being dropped.
    Deleting,
}

impl IndexStatus {
    /// DynamoDB's name for it.
    pub fn as_str(self) -> &'static str {
        match self {
            IndexStatus::Creating => "CREATING",
            IndexStatus::Active => "ACTIVE",
            IndexStatus::Deleting => "DELETING",
        }
    }
}

/// One secondary index of a table.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IndexDef {
    /// Numeric id, the prefix of every entry; from the table id counter.
    pub id: u32,
    /// Index name, unique within the table.
    pub name: String,
    /// Local or global.
    pub kind: IndexKind,
    /// Partition key attributes (1, or up to 4 for a multi-attribute GSI key).
    pub hash: Vec<KeyAttr>,
    /// Sort key attributes (0 or 1, or up to 4 for a GSI).
    pub range: Vec<KeyAttr>,
    /// What the entries carry.
    pub projection: IndexProjection,
    /// Lifecycle state.
    pub status: IndexStatus,
    /// True while existing items are being added to a new index.
    pub backfilling: bool,
    /// Provisioned read units (global indexes of provisioned tables).
    pub read_units: u64,
    /// Provisioned write units.
    pub write_units: u64,
    /// Creation time, ms since the epoch.
    pub created_ms: u64,
}

/// What a new index is made of, as CreateTable or UpdateTable asks.
#[derive(Clone, Debug)]
pub struct NewIndex {
    /// Index name.
    pub name: String,
    /// Local or global.
    pub kind: IndexKind,
    /// Partition key attributes.
    pub hash: Vec<KeyAttr>,
    /// Sort key attributes.
    pub range: Vec<KeyAttr>,
    /// Projection.
    pub projection: IndexProjection,
    /// Provisioned read and write units, if any.
    pub throughput: Option<(u64, u64)>,
}

impl IndexDef {
    /// True unless the index is being deleted: writes keep its entries.
    pub fn maintained(&self) -> bool {
        self.status != IndexStatus::Deleting
    }

    /// Index key attributes: partition parts, then sort parts.
    pub fn key_attrs(&self) -> impl Iterator<Item = &KeyAttr> {
        self.hash.iter().chain(self.range.iter())
    }

    /// True when `name` is one of the attributes an entry always carries:
    /// an index key or a table key attribute.
    pub fn is_key(&self, table: &KeySchema, name: &str) -> bool {
        self.key_attrs().any(|a| a.name == name) || table_key_names(table).any(|n| n == name)
    }

    /// True when the index entry holds attribute `name` (keys or projected).
    pub fn projects(&self, table: &KeySchema, name: &str) -> bool {
        match self.projection.kind {
            ProjectionType::All => true,
            ProjectionType::KeysOnly => self.is_key(table, name),
            ProjectionType::Include => {
                self.is_key(table, name)
                    || self.projection.non_key_attributes.iter().any(|a| a == name)
            }
        }
    }

    /// The prefix of the entries of one index partition.
    pub fn partition_prefix(&self, parts: &[AttributeValue]) -> Vec<u8> {
        let mut encoded = Vec::with_capacity(32);
        let mut hasher = blake3::Hasher::new();
        for v in parts {
            let start = encoded.len();
            let ok = key::encode(v, &mut encoded);
            debug_assert!(ok, "index partition key of a non-key type");
            hasher.update(v.type_name().as_bytes());
            hasher.update(&encoded[start..]);
        }
        let mut out =
            Vec::with_capacity(keys::TABLE_ID_BYTES + keys::HASH_BYTES + encoded.len() + 32);
        out.extend_from_slice(&self.id.to_be_bytes());
        out.extend_from_slice(&hasher.finalize().as_bytes()[..keys::HASH_BYTES]);
        out.extend_from_slice(&encoded);
        out
    }

    /// The entry key of `item`, or `None` when the item is not in the index
    /// (an index key attribute is missing or of another type).
    pub fn entry_key(&self, table: &KeySchema, item: &Item) -> Option<Vec<u8>> {
        let typed = |a: &KeyAttr| item.get(&a.name).filter(|v| v.scalar_type() == Some(a.ty));
        let parts: Vec<AttributeValue> = self
            .hash
            .iter()
            .map(|a| typed(a).cloned())
            .collect::<Option<_>>()?;
        let mut out = self.partition_prefix(&parts);
        for a in &self.range {
            key::encode(typed(a)?, &mut out);
        }
        // The table key makes the entry unique; it was validated already.
        for a in table_key_attrs(table) {
            key::encode(item.get(&a.name)?, &mut out);
        }
        Some(out)
    }

    /// The entry key named by an `ExclusiveStartKey` of this index, which
    /// must hold exactly the index and table key attributes, typed. The
    /// error is DynamoDB's message for the first rule broken: the wrong set
    /// of attributes, a mistyped index key, then a mistyped table key.
    pub fn start_key(&self, table: &KeySchema, esk: &Item) -> Result<Vec<u8>, Invalid> {
        let expected: std::collections::BTreeSet<&str> = self
            .key_attrs()
            .map(|a| a.name.as_str())
            .chain(table_key_names(table))
            .collect();
        if esk.len() != expected.len() || !expected.iter().all(|n| esk.contains_key(*n)) {
            return Err(Invalid::StartKeyInvalid);
        }
        let typed =
            |a: &KeyAttr| esk.get(&a.name).and_then(AttributeValue::scalar_type) == Some(a.ty);
        if !self.key_attrs().all(typed) {
            return Err(Invalid::KeySchemaMismatch);
        }
        if !table_key_attrs(table).all(typed) {
            return Err(Invalid::StartKey(Box::new(Invalid::KeySchemaMismatch)));
        }
        self.entry_key(table, esk).ok_or(Invalid::StartKeyInvalid)
    }

    /// The entry stored for `item`: its keys and the projected attributes.
    pub fn project(&self, table: &KeySchema, item: &Item) -> Item {
        if self.projection.kind == ProjectionType::All {
            return item.clone();
        }
        item.iter()
            .filter(|(name, _)| self.projects(table, name))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect()
    }

    /// The key attributes of an entry, as `LastEvaluatedKey` names them:
    /// index keys and table keys.
    pub fn key_of(&self, table: &KeySchema, entry: &Item) -> Item {
        entry
            .iter()
            .filter(|(name, _)| self.is_key(table, name))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect()
    }
}

fn table_key_names(table: &KeySchema) -> impl Iterator<Item = &str> {
    table_key_attrs(table).map(|a| a.name.as_str())
}

/// The size an entry counts toward `IndexSizeBytes` and an item
/// collection: the projected item's size.
pub fn entry_size(entry: &Item) -> usize {
    size::item_size(entry)
}

/// Checks the index key attributes a new item carries against every
/// maintained index: right type, not empty, within the key size limits.
/// Table key attributes were checked against the table schema already.
/// When an attribute keys several indexes, DynamoDB names the first index
/// by name. `from_update` words an empty value as UpdateItem does.
pub fn check_item(
    indexes: &[IndexDef],
    table: &KeySchema,
    item: &Item,
    from_update: bool,
) -> Result<()> {
    check_keys(indexes, table, item, from_update, false)
}

/// Only the empty-value part of [`check_item`]: a fault the request alone
/// shows, which a transaction reports for the whole request.
pub fn check_empty(indexes: &[IndexDef], table: &KeySchema, item: &Item) -> Result<()> {
    check_keys(indexes, table, item, false, true)
}

fn check_keys(
    indexes: &[IndexDef],
    table: &KeySchema,
    item: &Item,
    from_update: bool,
    empty_only: bool,
) -> Result<()> {
    let mut by_name: Vec<&IndexDef> = indexes.iter().filter(|i| i.maintained()).collect();
    by_name.sort_by(|a, b| a.name.cmp(&b.name));
    for index in by_name {
        for (limit, attrs) in [
            (HASH_KEY_BYTES_MAX, &index.hash),
            (RANGE_KEY_BYTES_MAX, &index.range),
        ] {
            for attr in attrs.iter() {
                if table_key_names(table).any(|n| n == attr.name) {
                    continue;
                }
                let Some(value) = item.get(&attr.name) else {
                    continue;
                };
                let typed = value.scalar_type().filter(|t| *t == attr.ty);
                let bytes = key::value_size(value).unwrap_or(0);
                if let Some(ty) = typed.filter(|t| bytes == 0 && *t != ScalarType::N) {
                    return Err(Error::Validation(Invalid::IndexKeyEmpty {
                        index: index.name.clone(),
                        attr: attr.name.clone(),
                        ty,
                        from_update,
                    }));
                }
                if empty_only {
                    continue;
                }
                if typed.is_none() {
                    return Err(Error::Validation(Invalid::IndexKeyType {
                        index: index.name.clone(),
                        attr: attr.name.clone(),
                        expected: attr.ty,
                        actual: value.type_name(),
                    }));
                }
                if bytes > limit {
                    return Err(Error::Validation(Invalid::IndexKeyTooLarge {
                        index: index.name.clone(),
                        attr: attr.name.clone(),
                        bytes,
                        limit,
                    }));
                }
            }
        }
    }
    Ok(())
}

/// UpdateItem words a type mismatch of a value it copied from the item
/// (`SET key = other`) differently from one the request gave.
pub fn update_wording(e: Error, update: Option<&tarn_expr::ast::Update>) -> Error {
    use tarn_expr::ast::{PathElement, SetOperand, SetValue, UpdateAction};
    let (Error::Validation(Invalid::IndexKeyType { attr, .. }), Some(update)) = (&e, update) else {
        return e;
    };
    let copied = update.actions.iter().any(|a| match a {
        UpdateAction::Set(
            p,
            SetValue::Operand(SetOperand::Path(_) | SetOperand::IfNotExists(..)),
        ) => {
            matches!(p.elements.first(), Some(PathElement::Attr(n)) if n.as_str() == attr)
        }
        _ => false,
    });
    if copied {
        Error::Validation(Invalid::IndexKeyCopiedType)
    } else {
        e
    }
}

/// Index key attributes hold scalars: an update may not reach into one.
pub fn check_update_paths(indexes: &[IndexDef], update: &tarn_expr::ast::Update) -> Result<()> {
    use tarn_expr::ast::{PathElement, UpdateAction};
    for action in &update.actions {
        let (UpdateAction::Set(p, _)
        | UpdateAction::Remove(p)
        | UpdateAction::Add(p, _)
        | UpdateAction::Delete(p, _)) = action;
        let Some(PathElement::Attr(n)) = p.elements.first() else {
            continue;
        };
        let keyed = indexes
            .iter()
            .filter(|i| i.maintained())
            .any(|i| i.key_attrs().any(|a| a.name == n.as_str()));
        if keyed && p.elements.len() > 1 {
            return Err(Error::Validation(Invalid::IndexKeyPath {
                attr: n.as_str().to_owned(),
            }));
        }
    }
    Ok(())
}

// ---- stored records: an index is a field of its table's record ----

const F_ID: u8 = 1;
const F_NAME: u8 = 2;
const F_KIND: u8 = 3;
const F_HASH: u8 = 4;
const F_RANGE: u8 = 5;
const F_PROJECTION: u8 = 6;
const F_NON_KEY: u8 = 7;
const F_STATUS: u8 = 8;
const F_BACKFILLING: u8 = 9;
const F_THROUGHPUT: u8 = 10;
const F_CREATED: u8 = 11;

fn put_field(out: &mut Vec<u8>, tag: u8, payload: &[u8]) {
    out.push(tag);
    put_bytes(out, payload);
}

impl IndexDef {
    /// Encodes the index as a nested tag-length-value list.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(64);
        put_field(&mut out, F_ID, &self.id.to_be_bytes());
        put_field(&mut out, F_NAME, self.name.as_bytes());
        let kind = match self.kind {
            IndexKind::Local => 1u8,
            IndexKind::Global => 2,
        };
        put_field(&mut out, F_KIND, &[kind]);
        for a in &self.hash {
            put_field(&mut out, F_HASH, &key_attr_payload(a));
        }
        for a in &self.range {
            put_field(&mut out, F_RANGE, &key_attr_payload(a));
        }
        let projection = match self.projection.kind {
            ProjectionType::KeysOnly => 1u8,
            ProjectionType::Include => 2,
            ProjectionType::All => 3,
        };
        put_field(&mut out, F_PROJECTION, &[projection]);
        for a in &self.projection.non_key_attributes {
            put_field(&mut out, F_NON_KEY, a.as_bytes());
        }
        let status = match self.status {
            IndexStatus::Creating => 1u8,
            IndexStatus::Active => 2,
            IndexStatus::Deleting => 3,
        };
        put_field(&mut out, F_STATUS, &[status]);
        put_field(&mut out, F_BACKFILLING, &[u8::from(self.backfilling)]);
        let mut t = Vec::with_capacity(16);
        t.extend_from_slice(&self.read_units.to_be_bytes());
        t.extend_from_slice(&self.write_units.to_be_bytes());
        put_field(&mut out, F_THROUGHPUT, &t);
        put_field(&mut out, F_CREATED, &self.created_ms.to_be_bytes());
        out
    }

    /// Decodes an index field, skipping tags it does not know.
    pub fn decode(buf: &[u8]) -> Result<IndexDef, DecodeError> {
        let mut r = Reader::new(buf);
        let mut id = None;
        let mut name = None;
        let mut kind = None;
        let mut hash = Vec::new();
        let mut range = Vec::new();
        let mut projection = None;
        let mut non_key_attributes = Vec::new();
        let mut status = IndexStatus::Active;
        let mut backfilling = false;
        let (mut read_units, mut write_units) = (0, 0);
        let mut created_ms = 0;
        while !r.is_empty() {
            let tag = r.u8()?;
            let payload = r.bytes()?;
            let mut f = Reader::new(payload);
            match tag {
                F_ID => id = Some(f.u32()?),
                F_NAME => name = Some(utf8(payload)?),
                F_KIND => {
                    kind = Some(match f.u8()? {
                        1 => IndexKind::Local,
                        2 => IndexKind::Global,
                        _ => return Err(DecodeError("unknown index kind")),
                    })
                }
                F_HASH => hash.push(decode_key_attr(payload)?),
                F_RANGE => range.push(decode_key_attr(payload)?),
                F_PROJECTION => {
                    projection = Some(match f.u8()? {
                        1 => ProjectionType::KeysOnly,
                        2 => ProjectionType::Include,
                        3 => ProjectionType::All,
                        _ => return Err(DecodeError("unknown projection type")),
                    })
                }
                F_NON_KEY => non_key_attributes.push(utf8(payload)?),
                F_STATUS => {
                    status = match f.u8()? {
                        1 => IndexStatus::Creating,
                        2 => IndexStatus::Active,
                        3 => IndexStatus::Deleting,
                        _ => return Err(DecodeError("unknown index status")),
                    }
                }
                F_BACKFILLING => backfilling = f.u8()? != 0,
                F_THROUGHPUT => {
                    read_units = f.u64()?;
                    write_units = f.u64()?;
                }
                F_CREATED => created_ms = f.u64()?,
                _ => continue,
            }
        }
        if hash.is_empty() {
            return Err(DecodeError("index without partition key"));
        }
        Ok(IndexDef {
            id: id.ok_or(DecodeError("index without id"))?,
            name: name.ok_or(DecodeError("index without name"))?,
            kind: kind.ok_or(DecodeError("index without kind"))?,
            hash,
            range,
            projection: IndexProjection {
                kind: projection.ok_or(DecodeError("index without projection"))?,
                non_key_attributes,
            },
            status,
            backfilling,
            read_units,
            write_units,
            created_ms,
        })
    }
}

fn utf8(b: &[u8]) -> Result<String, DecodeError> {
    std::str::from_utf8(b)
        .map(str::to_owned)
        .map_err(|_| DecodeError("invalid utf-8"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use tarn_expr::Number;

    fn attr(name: &str, ty: ScalarType) -> KeyAttr {
        KeyAttr {
            name: name.into(),
            ty,
        }
    }

    fn table() -> KeySchema {
        KeySchema {
            hash: attr("pk", ScalarType::S),
            range: Some(attr("sk", ScalarType::N)),
        }
    }

    fn gsi(projection: ProjectionType, non_key: &[&str]) -> IndexDef {
        IndexDef {
            id: 9,
            name: "byCity".into(),
            kind: IndexKind::Global,
            hash: vec![attr("country", ScalarType::S), attr("city", ScalarType::S)],
            range: vec![attr("age", ScalarType::N)],
            projection: IndexProjection {
                kind: projection,
                non_key_attributes: non_key.iter().map(|s| s.to_string()).collect(),
            },
            status: IndexStatus::Creating,
            backfilling: true,
            read_units: 5,
            write_units: 7,
            created_ms: 1_700_000_000_000,
        }
    }

    fn s(v: &str) -> AttributeValue {
        AttributeValue::S(v.into())
    }

    fn n(v: i64) -> AttributeValue {
        AttributeValue::N(Number::from_i64(v))
    }

    fn person(age: i64) -> Item {
        [
            ("pk", s("p1")),
            ("sk", n(1)),
            ("country", s("NZ")),
            ("city", s("Wellington")),
            ("age", n(age)),
            ("name", s("Ana")),
            ("note", s("x")),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect()
    }

    #[test]
    fn index_records_round_trip() {
        let def = gsi(ProjectionType::Include, &["name"]);
        assert_eq!(IndexDef::decode(&def.encode()), Ok(def));
    }

    #[test]
    fn truncated_index_records_never_panic() {
        let buf = gsi(ProjectionType::All, &[]).encode();
        for cut in 0..buf.len() {
            let _ = IndexDef::decode(&buf[..cut]);
        }
        assert!(IndexDef::decode(&buf[..3]).is_err());
    }

    #[test]
    fn entries_sort_by_index_sort_key_within_a_partition() {
        let index = gsi(ProjectionType::KeysOnly, &[]);
        let young = index.entry_key(&table(), &person(20)).expect("indexed");
        let old = index.entry_key(&table(), &person(70)).expect("indexed");
        let prefix = index.partition_prefix(&[s("NZ"), s("Wellington")]);
        assert!(young.starts_with(&prefix) && old.starts_with(&prefix));
        assert!(young < old);
    }

    #[test]
    fn items_missing_or_mistyping_a_key_part_are_not_indexed() {
        let index = gsi(ProjectionType::KeysOnly, &[]);
        let mut missing = person(20);
        missing.remove("city");
        assert_eq!(index.entry_key(&table(), &missing), None);
        let mut wrong = person(20);
        wrong.insert("age".into(), s("twenty"));
        assert_eq!(index.entry_key(&table(), &wrong), None);
    }

    #[test]
    fn projections_keep_keys_and_what_they_name() {
        let item = person(20);
        let keys_only = gsi(ProjectionType::KeysOnly, &[]).project(&table(), &item);
        let names: Vec<&str> = keys_only.keys().map(String::as_str).collect();
        assert_eq!(names, ["age", "city", "country", "pk", "sk"]);
        let include = gsi(ProjectionType::Include, &["name"]).project(&table(), &item);
        assert!(include.contains_key("name") && !include.contains_key("note"));
        assert_eq!(gsi(ProjectionType::All, &[]).project(&table(), &item), item);
    }

    #[test]
    fn write_checks_name_the_index_and_attribute() {
        let index = gsi(ProjectionType::All, &[]);
        let mut wrong = person(20);
        wrong.insert("age".into(), s("x"));
        let err = check_item(std::slice::from_ref(&index), &table(), &wrong, false).unwrap_err();
        assert_eq!(
            err.to_string(),
            "One or more parameter values were invalid: Type mismatch for Index Key age Expected: N Actual: S IndexName: byCity"
        );
        let mut empty = person(20);
        empty.insert("city".into(), s(""));
        let err = check_item(std::slice::from_ref(&index), &table(), &empty, false).unwrap_err();
        assert!(
            err.to_string()
                .contains("IndexName: byCity, IndexKey: city"),
            "{err}"
        );
        let mut deleting = index.clone();
        deleting.status = IndexStatus::Deleting;
        assert!(check_item(&[deleting], &table(), &wrong, false).is_ok());
    }
}
