//! ConsumedCapacity: the units a request used, computed as DynamoDB
//! computes them and reported in its shapes
//! (`docs/research/capacity-ttl-tags.md` §1).
//!
//! - Reads cost one unit per 4 KB (half for eventually consistent reads,
//!   two for transactional ones), writes one per 1 KB (two in a
//!   transaction), at least one unit per item.
//! - A write is sized on the larger of the old and new item; an index arm
//!   on what the write changed in the index entry (a new or removed entry
//!   is one write of its size, a moved key is a delete and a put, an entry
//!   rewritten in place is sized on the larger image); an unchanged entry
//!   costs nothing and is not reported.
//! - Query and Scan are sized on everything they read (before the filter),
//!   rounded once per request; a local index read that fetches items adds
//!   each fetched item, rounded on its own, to the table.
//! - Transactions double the table arm only.

use std::collections::BTreeMap;

use serde::Serialize;
use tarn_engine::{IndexKind, Written};
use tarn_expr::size;

/// `ReturnConsumedCapacity`'s values.
pub(super) const RETURN_CAPACITY: &str = "[INDEXES, TOTAL, NONE]";

/// Bytes per read unit and per write unit.
const READ_UNIT_BYTES: usize = 4096;
const WRITE_UNIT_BYTES: usize = 1024;

/// Write units for `bytes`: one per started KB, at least one.
pub(super) fn write_units(bytes: usize) -> f64 {
    bytes.div_ceil(WRITE_UNIT_BYTES).max(1) as f64
}

/// Read units for `bytes`: one per started 4 KB, at least one; half for an
/// eventually consistent read.
pub(super) fn read_units(bytes: usize, consistent: bool) -> f64 {
    let units = bytes.div_ceil(READ_UNIT_BYTES).max(1) as f64;
    if consistent {
        units
    } else {
        units / 2.0
    }
}

/// Units charged to one table and its indexes.
#[derive(Clone, Debug, Default, PartialEq)]
pub(super) struct Units {
    /// The table arm.
    pub table: f64,
    /// Index arms that were charged, in first-charged order.
    pub indexes: Vec<(String, IndexKind, f64)>,
}

impl Units {
    /// Units charged to the table alone.
    pub fn table(units: f64) -> Units {
        Units {
            table: units,
            indexes: Vec::new(),
        }
    }

    fn add_index(&mut self, name: &str, kind: IndexKind, units: f64) {
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

    /// A write: the larger of the old and new item on the table (one unit
    /// when neither exists), each changed index entry on its index.
    pub fn write(w: &Written) -> Units {
        let bytes = w
            .old
            .as_ref()
            .map_or(0, size::item_size)
            .max(w.new.as_ref().map_or(0, size::item_size));
        let mut units = Units::table(write_units(bytes));
        for iw in &w.indexes {
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

    /// The global index arms, for charging throughput buckets.
    pub fn global_arms(&self) -> Vec<(String, f64)> {
        self.indexes
            .iter()
            .filter(|(_, k, _)| *k == IndexKind::Global)
            .map(|(n, _, u)| (n.clone(), *u))
            .collect()
    }

    /// The arms that use the table's own capacity: the table and its
    /// local indexes.
    pub fn table_share(&self) -> f64 {
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
    pub fn transactional(mut self) -> Units {
        self.table *= 2.0;
        self
    }
}

/// Charges what a request consumed to the throughput buckets of its table
/// and indexes (a no-op unless Tarn enforces throughput). A read of an
/// index is charged whole to the index's bucket (a global one) or the
/// table's (a local one).
pub(super) fn charge_buckets(
    engine: &tarn_engine::Engine,
    table: &str,
    side: tarn_engine::Side,
    index: Option<&str>,
    units: &Units,
) {
    match (side, index) {
        (tarn_engine::Side::Read, Some(_)) => {
            engine.charge(table, side, index, units.total(), &[]);
        }
        _ => engine.charge(table, side, None, units.table_share(), &units.global_arms()),
    }
}

/// Which units a report's split names, for transactions.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Split {
    /// Plain operations report `CapacityUnits` alone.
    None,
    /// Transactional reads add `ReadCapacityUnits`.
    Read,
    /// Transactional writes add `WriteCapacityUnits`.
    Write,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct Arm {
    capacity_units: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    read_capacity_units: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    write_capacity_units: Option<f64>,
}

impl Arm {
    fn new(units: f64, split: Split) -> Arm {
        Arm {
            capacity_units: units,
            read_capacity_units: (split == Split::Read).then_some(units),
            write_capacity_units: (split == Split::Write).then_some(units),
        }
    }
}

/// One ConsumedCapacity object.
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct ConsumedCapacity<'a> {
    table_name: &'a str,
    capacity_units: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    read_capacity_units: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    write_capacity_units: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    table: Option<Arm>,
    #[serde(skip_serializing_if = "Option::is_none")]
    global_secondary_indexes: Option<BTreeMap<&'a str, Arm>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    local_secondary_indexes: Option<BTreeMap<&'a str, Arm>>,
}

/// The ConsumedCapacity of one table for `ReturnConsumedCapacity` `mode`:
/// nothing for NONE, the total for TOTAL, and the arms too for INDEXES.
pub(super) fn report<'a>(
    mode: Option<&str>,
    table_name: &'a str,
    units: &'a Units,
    split: Split,
) -> Option<ConsumedCapacity<'a>> {
    let indexes = match mode {
        Some("TOTAL") => false,
        Some("INDEXES") => true,
        _ => return None,
    };
    let total = units.total();
    let arms = |kind: IndexKind| {
        let map: BTreeMap<&str, Arm> = units
            .indexes
            .iter()
            .filter(|(_, k, _)| *k == kind)
            .map(|(n, _, u)| (n.as_str(), Arm::new(*u, split)))
            .collect();
        (indexes && !map.is_empty()).then_some(map)
    };
    Some(ConsumedCapacity {
        table_name,
        capacity_units: total,
        read_capacity_units: (split == Split::Read).then_some(total),
        write_capacity_units: (split == Split::Write).then_some(total),
        table: indexes.then(|| Arm::new(units.table, split)),
        global_secondary_indexes: arms(IndexKind::Global),
        local_secondary_indexes: arms(IndexKind::Local),
    })
}

/// The ConsumedCapacity list of a multi-table operation: one entry per
/// table, in the order the tables were first charged.
pub(super) fn report_tables<'a>(
    mode: Option<&str>,
    per_table: &'a [(String, Units)],
    split: Split,
) -> Option<Vec<ConsumedCapacity<'a>>> {
    if !matches!(mode, Some("TOTAL" | "INDEXES")) {
        return None;
    }
    Some(
        per_table
            .iter()
            .filter_map(|(t, u)| report(mode, t, u, split))
            .collect(),
    )
}

/// Adds `units` to `table`'s share of a multi-table operation.
pub(super) fn charge(per_table: &mut Vec<(String, Units)>, table: &str, units: &Units) {
    match per_table.iter_mut().find(|(t, _)| t == table) {
        Some((_, u)) => u.add(units),
        None => per_table.push((table.to_owned(), units.clone())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tarn_engine::IndexWrite;
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
            collection: None,
        };
        let u = Units::write(&w);
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
        assert_eq!(u.clone().transactional().total(), 14.0);
    }

    #[test]
    fn reports_show_arms_only_for_indexes_and_only_when_charged() {
        let u = Units::table(1.0);
        let total = serde_json::to_string(&report(Some("TOTAL"), "t", &u, Split::None)).unwrap();
        assert_eq!(total, r#"{"TableName":"t","CapacityUnits":1.0}"#);
        let indexes =
            serde_json::to_string(&report(Some("INDEXES"), "t", &u, Split::Write)).unwrap();
        assert_eq!(
            indexes,
            r#"{"TableName":"t","CapacityUnits":1.0,"WriteCapacityUnits":1.0,"Table":{"CapacityUnits":1.0,"WriteCapacityUnits":1.0}}"#
        );
        assert!(report(Some("NONE"), "t", &u, Split::None).is_none());
        assert!(report(None, "t", &u, Split::None).is_none());
    }
}
