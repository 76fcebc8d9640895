//! ConsumedCapacity: the units an operation consumed, as the engine
//! computed and charged them (`tarn_engine::Units`), rendered in
//! DynamoDB's shapes (`docs/research/capacity-ttl-tags.md` §1).

use std::collections::BTreeMap;

use serde::Serialize;
use tarn_engine::{IndexKind, Units};

/// `ReturnConsumedCapacity`'s values.
pub(super) const RETURN_CAPACITY: &str = "[INDEXES, TOTAL, NONE]";

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

#[cfg(test)]
mod tests {
    use super::*;

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
