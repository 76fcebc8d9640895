//! PutItem, GetItem, DeleteItem.

use serde::de::IgnoredAny;
use serde::{Deserialize, Serialize};
use tarn_expr::{size, Item};

use super::wire::{ItemRef, WireItem};
use super::{blocking, data_plane, reply, unsupported};
use crate::error::{ApiError, Constraints};
use crate::App;

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct PutItemInput {
    table_name: Option<String>,
    item: Option<WireItem>,
    #[serde(flatten)]
    common: WriteOptions,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct DeleteItemInput {
    table_name: Option<String>,
    key: Option<WireItem>,
    #[serde(flatten)]
    common: WriteOptions,
}

/// Members PutItem and DeleteItem share.
#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct WriteOptions {
    return_values: Option<String>,
    return_consumed_capacity: Option<String>,
    return_item_collection_metrics: Option<String>,
    return_values_on_condition_check_failure: Option<String>,
    condition_expression: Option<IgnoredAny>,
    expected: Option<IgnoredAny>,
    conditional_operator: Option<IgnoredAny>,
    expression_attribute_names: Option<IgnoredAny>,
    expression_attribute_values: Option<IgnoredAny>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct GetItemInput {
    table_name: Option<String>,
    key: Option<WireItem>,
    consistent_read: Option<bool>,
    attributes_to_get: Option<Vec<String>>,
    projection_expression: Option<IgnoredAny>,
    expression_attribute_names: Option<IgnoredAny>,
    return_consumed_capacity: Option<String>,
}

const RETURN_VALUES: &str = "[ALL_NEW, UPDATED_OLD, ALL_OLD, NONE, UPDATED_NEW]";
const RETURN_CAPACITY: &str = "[INDEXES, TOTAL, NONE]";

/// The data-plane checks every item operation starts with.
fn check_common(c: &mut Constraints, table_name: Option<&str>, has_item: bool, item_member: &str) {
    match table_name {
        None => c.null("tableName"),
        Some(name) => c.table_name(name, "tableName"),
    }
    if !has_item {
        c.null(item_member);
    }
}

impl WriteOptions {
    /// Validates the shared members; returns whether the old item is wanted.
    fn validate(&self, c: &mut Constraints) -> Result<(), ApiError> {
        if let Some(v) = &self.return_values {
            c.one_of(v, "returnValues", RETURN_VALUES);
        }
        if let Some(v) = &self.return_consumed_capacity {
            c.one_of(v, "returnConsumedCapacity", RETURN_CAPACITY);
        }
        if let Some(v) = &self.return_item_collection_metrics {
            c.one_of(v, "returnItemCollectionMetrics", "[SIZE, NONE]");
        }
        if let Some(v) = &self.return_values_on_condition_check_failure {
            c.one_of(v, "returnValuesOnConditionCheckFailure", "[ALL_OLD, NONE]");
        }
        Ok(())
    }

    fn check_supported(&self) -> Result<(), ApiError> {
        for (present, name) in [
            (self.condition_expression.is_some(), "ConditionExpression"),
            (self.expected.is_some(), "Expected"),
            (self.conditional_operator.is_some(), "ConditionalOperator"),
            (
                self.expression_attribute_names.is_some(),
                "ExpressionAttributeNames",
            ),
            (
                self.expression_attribute_values.is_some(),
                "ExpressionAttributeValues",
            ),
        ] {
            if present {
                return Err(unsupported(name));
            }
        }
        Ok(())
    }

    fn wants_old(&self) -> Result<bool, ApiError> {
        match self.return_values.as_deref() {
            None | Some("NONE") => Ok(false),
            Some("ALL_OLD") => Ok(true),
            Some(_) => Err(ApiError::validation(
                "ReturnValues can only be ALL_OLD or NONE",
            )),
        }
    }
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct Capacity {
    capacity_units: f64,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct ConsumedCapacity<'a> {
    table_name: &'a str,
    capacity_units: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    table: Option<Capacity>,
}

/// ConsumedCapacity as DynamoDB reports it for `ReturnConsumedCapacity`.
fn consumed<'a>(
    mode: Option<&str>,
    table_name: &'a str,
    units: f64,
) -> Option<ConsumedCapacity<'a>> {
    match mode {
        Some("TOTAL") => Some(ConsumedCapacity {
            table_name,
            capacity_units: units,
            table: None,
        }),
        Some("INDEXES") => Some(ConsumedCapacity {
            table_name,
            capacity_units: units,
            table: Some(Capacity {
                capacity_units: units,
            }),
        }),
        _ => None,
    }
}

/// Write units: 1 per KB of the larger of the old and new item, at least 1.
fn write_units(old: Option<&Item>, new: Option<&Item>) -> f64 {
    let bytes = old
        .map_or(0, size::item_size)
        .max(new.map_or(0, size::item_size));
    bytes.div_ceil(1024).max(1) as f64
}

/// Read units: 1 per 4 KB read, at least 1; half for eventually consistent.
fn read_units(item: Option<&Item>, consistent: bool) -> f64 {
    let units = item.map_or(0, size::item_size).div_ceil(4096).max(1) as f64;
    if consistent {
        units
    } else {
        units / 2.0
    }
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct WriteReply<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    attributes: Option<ItemRef<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    consumed_capacity: Option<ConsumedCapacity<'a>>,
}

pub(super) async fn put_item(app: &App, input: PutItemInput) -> Result<Vec<u8>, ApiError> {
    let mut c = Constraints::default();
    check_common(
        &mut c,
        input.table_name.as_deref(),
        input.item.is_some(),
        "item",
    );
    input.common.validate(&mut c)?;
    c.finish()?;
    input.common.check_supported()?;
    let item = input.item.unwrap_or_default().into_item()?;
    let want_old = input.common.wants_old()?;
    let table = input.table_name.unwrap_or_default();
    let name = table.clone();
    let new_units_item = input
        .common
        .return_consumed_capacity
        .is_some()
        .then(|| item.clone());
    let old = blocking(app, move |e| e.put_item(&name, item, None))
        .await
        .map_err(data_plane)?;
    let units = write_units(old.as_ref(), new_units_item.as_ref());
    reply(&WriteReply {
        attributes: old.as_ref().filter(|_| want_old).map(ItemRef),
        consumed_capacity: consumed(
            input.common.return_consumed_capacity.as_deref(),
            &table,
            units,
        ),
    })
}

pub(super) async fn delete_item(app: &App, input: DeleteItemInput) -> Result<Vec<u8>, ApiError> {
    let mut c = Constraints::default();
    check_common(
        &mut c,
        input.table_name.as_deref(),
        input.key.is_some(),
        "key",
    );
    input.common.validate(&mut c)?;
    c.finish()?;
    input.common.check_supported()?;
    let key = input.key.unwrap_or_default().into_item()?;
    let want_old = input.common.wants_old()?;
    let table = input.table_name.unwrap_or_default();
    let name = table.clone();
    let old = blocking(app, move |e| e.delete_item(&name, &key, None))
        .await
        .map_err(data_plane)?;
    let units = write_units(old.as_ref(), None);
    reply(&WriteReply {
        attributes: old.as_ref().filter(|_| want_old).map(ItemRef),
        consumed_capacity: consumed(
            input.common.return_consumed_capacity.as_deref(),
            &table,
            units,
        ),
    })
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct GetReply<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    item: Option<ItemRef<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    consumed_capacity: Option<ConsumedCapacity<'a>>,
}

pub(super) async fn get_item(app: &App, input: GetItemInput) -> Result<Vec<u8>, ApiError> {
    let mut c = Constraints::default();
    check_common(
        &mut c,
        input.table_name.as_deref(),
        input.key.is_some(),
        "key",
    );
    if let Some(names) = &input.attributes_to_get {
        if names.is_empty() {
            c.violated(
                &"[]",
                "attributesToGet",
                "Member must have length greater than or equal to 1",
            );
        }
    }
    if let Some(v) = &input.return_consumed_capacity {
        c.one_of(v, "returnConsumedCapacity", RETURN_CAPACITY);
    }
    c.finish()?;
    if input.projection_expression.is_some() {
        return Err(unsupported("ProjectionExpression"));
    }
    if input.expression_attribute_names.is_some() {
        return Err(unsupported("ExpressionAttributeNames"));
    }
    if let Some(names) = &input.attributes_to_get {
        for (i, n) in names.iter().enumerate() {
            if names[..i].contains(n) {
                return Err(ApiError::validation(format!(
                    "One or more parameter values were invalid: Duplicate value in attribute name: {n}"
                )));
            }
        }
    }
    let key = input.key.unwrap_or_default().into_item()?;
    let table = input.table_name.unwrap_or_default();
    let name = table.clone();
    let item = blocking(app, move |e| e.get_item(&name, &key))
        .await
        .map_err(data_plane)?;
    let consistent = input.consistent_read.unwrap_or(false);
    // Capacity is charged on the whole item, before projection.
    let units = read_units(item.as_ref(), consistent);
    let item = match (item, &input.attributes_to_get) {
        (Some(mut item), Some(names)) => {
            item.retain(|k, _| names.contains(k));
            Some(item)
        }
        (item, _) => item,
    };
    reply(&GetReply {
        item: item.as_ref().map(ItemRef),
        consumed_capacity: consumed(input.return_consumed_capacity.as_deref(), &table, units),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use tarn_expr::{AttributeValue, Number};

    fn item_of_size(bytes: usize) -> Item {
        // Name "a" (1 byte) plus a string value.
        let mut item = Item::new();
        item.insert("a".into(), AttributeValue::S("x".repeat(bytes - 1)));
        item
    }

    #[test]
    fn capacity_units_round_up_per_kb_and_4kb() {
        assert_eq!(write_units(None, Some(&item_of_size(1))), 1.0);
        assert_eq!(write_units(None, Some(&item_of_size(1024))), 1.0);
        assert_eq!(write_units(None, Some(&item_of_size(1025))), 2.0);
        assert_eq!(
            write_units(Some(&item_of_size(3000)), Some(&item_of_size(10))),
            3.0
        );
        assert_eq!(read_units(Some(&item_of_size(4096)), true), 1.0);
        assert_eq!(read_units(Some(&item_of_size(4097)), true), 2.0);
        assert_eq!(read_units(Some(&item_of_size(4097)), false), 1.0);
        assert_eq!(read_units(None, false), 0.5);
        let mut n = Item::new();
        n.insert("n".into(), AttributeValue::N(Number::from_i64(1)));
        assert_eq!(read_units(Some(&n), true), 1.0);
    }
}
