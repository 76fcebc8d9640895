//! Capacity units, computed as DynamoDB computes them
//! (`docs/research/capacity-ttl-tags.md` §1). Pure arithmetic on sizes;
//! the operations charge them (`capacity`) and return them.
//!
//! - Reads cost one unit per 4 KB (half for eventually consistent reads,
//!   two for transactional ones), writes one per 1 KB (two in a
//!   transaction), at least one unit per item.
//! - Query and Scan are sized on everything they read (before the filter),
//!   rounded once per request; a local index read that fetches items adds
//!   each fetched item, rounded on its own, to the table.
//! - Transactions double the table arm only.

use crate::index::IndexKind;

/// Bytes per read unit and per write unit.
const READ_UNIT_BYTES: usize = 4096;
const WRITE_UNIT_BYTES: usize = 1024;

/// Write units for `bytes`: one per started KB, at least one.
pub fn write_units(bytes: usize) -> f64 {
    bytes.div_ceil(WRITE_UNIT_BYTES).max(1) as f64
}

/// Read units for `bytes`: one per started 4 KB, at least one; half for an
/// eventually consistent read.
pub fn read_units(bytes: usize, consistent: bool) -> f64 {
    let units = bytes.div_ceil(READ_UNIT_BYTES).max(1) as f64;
    if consistent {
        units
    } else {
        units / 2.0
    }
}

/// Units charged to one table and its indexes.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Units {
    /// The table arm.
    pub table: f64,
    /// Index arms that were charged, in first-charged order.
    pub indexes: Vec<(String, IndexKind, f64)>,
}

/// Units of a multi-table operation: one entry per table, in the order
/// the tables were first charged.
pub type PerTable = Vec<(String, Units)>;

impl Units {
    /// Units charged to the table alone.
    pub fn table(units: f64) -> Units {
        Units {
            table: units,
            indexes: Vec::new(),
        }
    }

    /// Adds `units` to the arm of index `name`.
    pub(crate) fn add_index(&mut self, name: &str, kind: IndexKind, units: f64) {
        match self.indexes.iter_mut().find(|(n, _, _)| n == name) {
            Some(arm) => arm.2 += units,
            None => self.indexes.push((name.to_owned(), kind, units)),
        }
    }

    /// Adds another request's (or item's) units.
    pub fn add(&mut self, other: &Units) {
        self.table += other.table;
        for (name, kind, u) in &other.indexes {
            self.add_index(name, *kind, *u);
        }
    }

    /// Table and index arms together.
    pub fn total(&self) -> f64 {
        self.table + self.indexes.iter().map(|(_, _, u)| u).sum::<f64>()
    }

    /// The global index arms, which use their indexes' own capacity.
    pub(crate) fn global_arms(&self) -> Vec<(String, f64)> {
        self.indexes
            .iter()
            .filter(|(_, k, _)| *k == IndexKind::Global)
            .map(|(n, _, u)| (n.clone(), *u))
            .collect()
    }

    /// The arms that use the table's own capacity: the table and its
    /// local indexes.
    pub(crate) fn table_share(&self) -> f64 {
        self.table
            + self
                .indexes
                .iter()
                .filter(|(_, k, _)| *k == IndexKind::Local)
                .map(|(_, _, u)| u)
                .sum::<f64>()
    }

    /// A transactional write: the table arm doubled, index arms as they
    /// are.
    pub(crate) fn transactional(mut self) -> Units {
        self.table *= 2.0;
        self
    }
}

/// Adds `units` to `table`'s share of a multi-table operation.
pub(crate) fn add_to(per_table: &mut PerTable, table: &str, units: &Units) {
    match per_table.iter_mut().find(|(t, _)| t == table) {
        Some((_, u)) => u.add(units),
        None => per_table.push((table.to_owned(), units.clone())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::written::{IndexWrite, Written};
    use tarn_expr::{AttributeValue, Item};

    fn item_of_size(bytes: usize) -> Item {
        // Name "a" (1 byte) plus a string value.
        Item::from([("a".to_owned(), AttributeValue::S("x".repeat(bytes - 1)))])
    }

    #[test]
    fn units_round_up_per_kb_and_4kb() {
        assert_eq!(write_units(1), 1.0);
        assert_eq!(write_units(1024), 1.0);
        assert_eq!(write_units(1025), 2.0);
        assert_eq!(write_units(400 * 1024), 400.0);
        assert_eq!(read_units(4096, true), 1.0);
        assert_eq!(read_units(4097, true), 2.0);
        assert_eq!(read_units(4097, false), 1.0);
        assert_eq!(read_units(0, false), 0.5);
        assert_eq!(read_units(400 * 1024, true), 100.0);
    }

    #[test]
    fn writes_take_the_larger_image_and_each_changed_index_entry() {
        let w = Written {
            old: Some(item_of_size(3000)),
            new: Some(item_of_size(10)),
            indexes: vec![
                IndexWrite {
                    index: "moved".into(),
                    kind: IndexKind::Global,
                    old_bytes: Some(1517),
                    new_bytes: Some(1517),
                    key_changed: true,
                },
                IndexWrite {
                    index: "shrunk".into(),
                    kind: IndexKind::Local,
                    old_bytes: Some(3000),
                    new_bytes: Some(18),
                    key_changed: false,
                },
                IndexWrite {
                    index: "new".into(),
                    kind: IndexKind::Global,
                    old_bytes: None,
                    new_bytes: Some(10),
                    key_changed: false,
                },
            ],
            ..Written::default()
        };
        let u = w.write_units();
        assert_eq!(u.table, 3.0);
        assert_eq!(
            u.indexes,
            [
                ("moved".to_owned(), IndexKind::Global, 4.0),
                ("shrunk".to_owned(), IndexKind::Local, 3.0),
                ("new".to_owned(), IndexKind::Global, 1.0),
            ]
        );
        assert_eq!(u.total(), 11.0);
        assert_eq!(u.table_share(), 6.0);
        assert_eq!(
            u.global_arms(),
            [("moved".to_owned(), 4.0), ("new".to_owned(), 1.0)]
        );
        assert_eq!(u.clone().transactional().total(), 14.0);
    }
}
