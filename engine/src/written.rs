//! What a write did, as write paths return it: the old and new item, the
//! index entries and item collection it changed, and the capacity it
//! consumed.

use tarn_expr::{size, Item};

use crate::index::IndexKind;
use crate::units::{write_units, Units};

/// What a write did: the old and new item and what that changed in the
/// table's indexes and item collection.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Written {
    /// The item before the write, if it existed.
    pub old: Option<Item>,
    /// The item after the write, if it exists.
    pub new: Option<Item>,
    /// The indexes whose entries changed.
    pub indexes: Vec<IndexWrite>,
    /// For tables with local indexes: the item collection after the write.
    pub collection: Option<ItemCollection>,
    /// The capacity the write consumed, as charged.
    pub consumed: Units,
}

/// One index touched by a write.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IndexWrite {
    /// Index name.
    pub index: String,
    /// Local or global.
    pub kind: IndexKind,
    /// Size of the entry removed or replaced, if there was one.
    pub old_bytes: Option<usize>,
    /// Size of the entry written, if there is one.
    pub new_bytes: Option<usize>,
    /// True when the entry moved to another index key (a delete and a
    /// put, for capacity), false when it was written in place.
    pub key_changed: bool,
}

/// An item collection (the items of one partition key value, with their
/// local index entries) and its size after a write.
#[derive(Clone, Debug, PartialEq)]
pub struct ItemCollection {
    /// The partition key attribute and value.
    pub key: Item,
    /// Bytes in the collection.
    pub size_bytes: u64,
}

impl Written {
    /// The units a write costs: the larger of the old and new item on the
    /// table (one unit when neither exists), each changed index entry on
    /// its index: a new or removed entry is one write of its size, a moved
    /// key a delete and a put, an entry rewritten in place is sized on the
    /// larger image; an unchanged entry costs nothing and is not reported.
    pub fn write_units(&self) -> Units {
        let bytes = self
            .old
            .as_ref()
            .map_or(0, size::item_size)
            .max(self.new.as_ref().map_or(0, size::item_size));
        let mut units = Units::table(write_units(bytes));
        for iw in &self.indexes {
            let arm = match (iw.old_bytes, iw.new_bytes) {
                (Some(o), Some(n)) if iw.key_changed => write_units(o) + write_units(n),
                (Some(o), Some(n)) => write_units(o.max(n)),
                (Some(b), None) | (None, Some(b)) => write_units(b),
                (None, None) => continue,
            };
            units.add_index(&iw.index, iw.kind, arm);
        }
        units
    }
}
