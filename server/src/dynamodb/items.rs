//! PutItem, GetItem, DeleteItem, UpdateItem.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use tarn_expr::ast::{Condition, Projection, Update};
use tarn_expr::{eval, ExprError, ExprFault, Item};

use super::capacity::{self, ConsumedCapacity, Split, RETURN_CAPACITY};
use super::expressions::{check_mix, Placeholders, Texts};
use super::legacy::{self, AttributeValueUpdate, ExpectedAttributeValue};
use super::wire::{ItemRef, WireItem};
use super::{committed, data_plane, read, reply};
use crate::app::App;
use crate::error::{ApiError, Constraints, ErrorCode};
use tarn_engine::Invalid;

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct PutItemInput {
    table_name: Option<String>,
    item: Option<WireItem>,
    return_values: Option<String>,
    return_consumed_capacity: Option<String>,
    return_item_collection_metrics: Option<String>,
    return_values_on_condition_check_failure: Option<String>,
    condition_expression: Option<String>,
    expected: Option<BTreeMap<String, ExpectedAttributeValue>>,
    conditional_operator: Option<String>,
    expression_attribute_names: Option<BTreeMap<String, String>>,
    expression_attribute_values: Option<WireItem>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct DeleteItemInput {
    table_name: Option<String>,
    key: Option<WireItem>,
    return_values: Option<String>,
    return_consumed_capacity: Option<String>,
    return_item_collection_metrics: Option<String>,
    return_values_on_condition_check_failure: Option<String>,
    condition_expression: Option<String>,
    expected: Option<BTreeMap<String, ExpectedAttributeValue>>,
    conditional_operator: Option<String>,
    expression_attribute_names: Option<BTreeMap<String, String>>,
    expression_attribute_values: Option<WireItem>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct UpdateItemInput {
    table_name: Option<String>,
    key: Option<WireItem>,
    return_values: Option<String>,
    return_consumed_capacity: Option<String>,
    return_item_collection_metrics: Option<String>,
    return_values_on_condition_check_failure: Option<String>,
    update_expression: Option<String>,
    attribute_updates: Option<BTreeMap<String, AttributeValueUpdate>>,
    condition_expression: Option<String>,
    expected: Option<BTreeMap<String, ExpectedAttributeValue>>,
    conditional_operator: Option<String>,
    expression_attribute_names: Option<BTreeMap<String, String>>,
    expression_attribute_values: Option<WireItem>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct GetItemInput {
    table_name: Option<String>,
    key: Option<WireItem>,
    consistent_read: Option<bool>,
    attributes_to_get: Option<Vec<String>>,
    projection_expression: Option<String>,
    expression_attribute_names: Option<BTreeMap<String, String>>,
    return_consumed_capacity: Option<String>,
}

const RETURN_VALUES: &str = "[ALL_NEW, UPDATED_OLD, ALL_OLD, NONE, UPDATED_NEW]";

/// The members the three write operations share, borrowed from whichever
/// input they came in.
struct WriteParams<'a> {
    table_name: Option<&'a str>,
    return_values: Option<&'a str>,
    return_consumed_capacity: Option<&'a str>,
    return_item_collection_metrics: Option<&'a str>,
    return_values_on_condition_check_failure: Option<&'a str>,
    conditional_operator: Option<&'a str>,
}

impl WriteParams<'_> {
    /// Constraint checks, in DynamoDB's order: table name, the item or key
    /// member, then the enums.
    fn constraints(&self, has_item: bool, item_member: &str) -> Constraints {
        let mut c = Constraints::default();
        check_common(&mut c, self.table_name, has_item, item_member);
        if let Some(v) = self.return_values {
            c.one_of(v, "returnValues", RETURN_VALUES);
        }
        if let Some(v) = self.return_consumed_capacity {
            c.one_of(v, "returnConsumedCapacity", RETURN_CAPACITY);
        }
        if let Some(v) = self.return_item_collection_metrics {
            c.one_of(v, "returnItemCollectionMetrics", "[SIZE, NONE]");
        }
        if let Some(v) = self.return_values_on_condition_check_failure {
            c.one_of(v, "returnValuesOnConditionCheckFailure", "[ALL_OLD, NONE]");
        }
        legacy::check_conditional_operator(&mut c, self.conditional_operator);
        c
    }

    /// PutItem and DeleteItem return only the old item.
    fn wants_old(&self) -> Result<bool, ApiError> {
        match self.return_values {
            None | Some("NONE") => Ok(false),
            Some("ALL_OLD") => Ok(true),
            Some(_) => Err(ApiError::validation(
                "ReturnValues can only be ALL_OLD or NONE",
            )),
        }
    }

    /// The error for a failed condition, with the old item when asked for.
    fn condition_failed(&self, e: ApiError, old: Option<Item>) -> ApiError {
        if self.return_values_on_condition_check_failure == Some("ALL_OLD") {
            ApiError {
                item: old.map(Box::new),
                ..e
            }
        } else {
            e
        }
    }
}

/// The data-plane checks every item operation starts with.
pub(super) fn check_common(
    c: &mut Constraints,
    table_name: Option<&str>,
    has_item: bool,
    item_member: &str,
) {
    match table_name {
        None => c.null("tableName"),
        Some(name) => c.table_name(name, "tableName"),
    }
    if !has_item {
        c.null(item_member);
    }
}

/// The write condition of a request: its ConditionExpression or its legacy
/// `Expected`, never both.
fn write_condition(
    expected: Option<BTreeMap<String, ExpectedAttributeValue>>,
    conditional_operator: Option<&str>,
    placeholders: &Placeholders,
    texts: &Texts<'_>,
) -> Result<(Option<Condition>, Option<Update>), ApiError> {
    let resolved = placeholders.resolve(texts)?;
    let condition = match (resolved.condition, expected) {
        (Some(c), _) => Some(c),
        (None, Some(expected)) => legacy::expected(expected, conditional_operator)?,
        (None, None) => None,
    };
    Ok((condition, resolved.update))
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct WriteReply<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    attributes: Option<ItemRef<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    consumed_capacity: Option<ConsumedCapacity<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    item_collection_metrics: Option<CollectionMetrics<'a>>,
}

/// `ItemCollectionMetrics` of a write to a table with local indexes.
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct CollectionMetrics<'a> {
    item_collection_key: ItemRef<'a>,
    #[serde(rename = "SizeEstimateRangeGB")]
    size_estimate_range_gb: [f64; 2],
}

/// The metrics DynamoDB returns for `ReturnItemCollectionMetrics: SIZE`:
/// the collection's key and its size as a 1 GB-wide range around it. Only
/// tables with local indexes have item collections.
pub(super) fn collection_metrics<'a>(
    mode: Option<&str>,
    written: &'a tarn_engine::Written,
) -> Option<CollectionMetrics<'a>> {
    if mode != Some("SIZE") {
        return None;
    }
    let c = written.collection.as_ref()?;
    let gb = (c.size_bytes as f64 / (1u64 << 30) as f64).floor();
    Some(CollectionMetrics {
        item_collection_key: ItemRef(&c.key),
        size_estimate_range_gb: [gb, gb + 1.0],
    })
}

/// Maps an engine error of a conditional write, attaching the old item to a
/// failed condition when the request asked for it.
fn write_error(params: &WriteParams<'_>, e: tarn_engine::Error) -> ApiError {
    match e {
        tarn_engine::Error::ConditionalCheckFailed(old) => params.condition_failed(
            ApiError::new(
                ErrorCode::ConditionalCheckFailed,
                "The conditional request failed",
            ),
            old,
        ),
        other => data_plane(ApiError::from(other)),
    }
}

/// Borrows the members the write operations share from an input struct
/// (all three name them alike).
macro_rules! write_params {
    ($input:expr) => {
        WriteParams {
            table_name: $input.table_name.as_deref(),
            return_values: $input.return_values.as_deref(),
            return_consumed_capacity: $input.return_consumed_capacity.as_deref(),
            return_item_collection_metrics: $input.return_item_collection_metrics.as_deref(),
            return_values_on_condition_check_failure: $input
                .return_values_on_condition_check_failure
                .as_deref(),
            conditional_operator: $input.conditional_operator.as_deref(),
        }
    };
}

/// The item (or key), condition and ReturnValues of a PutItem or DeleteItem,
/// validated in DynamoDB's order: constraints, the legacy/expression mix,
/// attribute values, ReturnValues, then the expressions.
struct ConditionalWrite {
    target: Item,
    condition: Option<Condition>,
    want_old: bool,
}

#[allow(clippy::too_many_arguments)]
fn prepare_conditional_write(
    params: &WriteParams<'_>,
    member: &str,
    target: Option<WireItem>,
    condition_expression: Option<&str>,
    expected: Option<BTreeMap<String, ExpectedAttributeValue>>,
    names: Option<BTreeMap<String, String>>,
    values: Option<WireItem>,
) -> Result<ConditionalWrite, ApiError> {
    params.constraints(target.is_some(), member).finish()?;
    check_mix(
        &[
            ("Expected", expected.is_some()),
            ("ConditionalOperator", params.conditional_operator.is_some()),
        ],
        &[("ConditionExpression", condition_expression.is_some())],
    )?;
    legacy::check_conditional_operator_use(
        params.conditional_operator,
        expected.as_ref().map(BTreeMap::len),
    )?;
    let texts = Texts {
        condition: condition_expression,
        null_members: "ConditionExpression is null",
        ..Texts::default()
    };
    let placeholders = Placeholders::new(names, values, &texts)?;
    let target = target.unwrap_or_default().into_item()?;
    let want_old = params.wants_old()?;
    let (condition, _) =
        write_condition(expected, params.conditional_operator, &placeholders, &texts)?;
    Ok(ConditionalWrite {
        target,
        condition,
        want_old,
    })
}

pub(super) async fn put_item(app: &App, input: PutItemInput) -> Result<Vec<u8>, ApiError> {
    let params = write_params!(input);
    let write = prepare_conditional_write(
        &params,
        "item",
        input.item,
        input.condition_expression.as_deref(),
        input.expected,
        input.expression_attribute_names,
        input.expression_attribute_values,
    )?;
    let table = params.table_name.unwrap_or_default().to_owned();
    let name = table.clone();
    let (item, condition) = (write.target, write.condition);
    let result = committed(app, move |e| {
        e.put_item_deferred(&name, item, condition.as_ref())
    })
    .await?;
    let written = result.map_err(|e| write_error(&params, e))?;
    let attributes = written.old.as_ref().filter(|_| write.want_old);
    write_reply(&params, &table, &written, attributes)
}

pub(super) async fn delete_item(app: &App, input: DeleteItemInput) -> Result<Vec<u8>, ApiError> {
    let params = write_params!(input);
    let write = prepare_conditional_write(
        &params,
        "key",
        input.key,
        input.condition_expression.as_deref(),
        input.expected,
        input.expression_attribute_names,
        input.expression_attribute_values,
    )?;
    let table = params.table_name.unwrap_or_default().to_owned();
    let name = table.clone();
    let (key, condition) = (write.target, write.condition);
    let result = committed(app, move |e| {
        e.delete_item_deferred(&name, &key, condition.as_ref())
    })
    .await?;
    let written = result.map_err(|e| write_error(&params, e))?;
    let attributes = written.old.as_ref().filter(|_| write.want_old);
    write_reply(&params, &table, &written, attributes)
}

pub(super) async fn update_item(app: &App, input: UpdateItemInput) -> Result<Vec<u8>, ApiError> {
    let params = write_params!(input);
    params.constraints(input.key.is_some(), "key").finish()?;
    check_mix(
        &[
            ("AttributeUpdates", input.attribute_updates.is_some()),
            ("Expected", input.expected.is_some()),
            ("ConditionalOperator", input.conditional_operator.is_some()),
        ],
        &[
            ("UpdateExpression", input.update_expression.is_some()),
            ("ConditionExpression", input.condition_expression.is_some()),
        ],
    )?;
    legacy::check_conditional_operator_use(
        params.conditional_operator,
        input.expected.as_ref().map(BTreeMap::len),
    )?;
    let texts = Texts {
        condition: input.condition_expression.as_deref(),
        update: input.update_expression.as_deref(),
        null_members: "UpdateExpression and ConditionExpression are null",
        ..Texts::default()
    };
    let placeholders = Placeholders::new(
        input.expression_attribute_names.clone(),
        input.expression_attribute_values,
        &texts,
    )?;
    let key = input.key.unwrap_or_default().into_item()?;
    let (condition, update) = write_condition(
        input.expected,
        params.conditional_operator,
        &placeholders,
        &texts,
    )?;
    let table = params.table_name.unwrap_or_default().to_owned();
    let legacy_update = update.is_none() && input.attribute_updates.is_some();
    let update = match (update, input.attribute_updates) {
        (Some(u), _) => Some(u),
        (None, Some(updates)) => Some(legacy::attribute_updates(updates)?),
        (None, None) => None,
    };
    let updated = update.as_ref().map(eval::updated_paths);
    let name = table.clone();
    let result = committed(app, move |e| {
        e.update_item_deferred(&name, &key, update.as_ref(), condition.as_ref())
    })
    .await?;
    let written = result.map_err(|e| match e {
        // The legacy API words a run-time type error its own way.
        tarn_engine::Error::Validation(Invalid::Expression(ExprError {
            fault: ExprFault::OperandType,
            ..
        })) if legacy_update => ApiError::validation("Type mismatch for attribute to update"),
        e => write_error(&params, e),
    })?;
    let attributes = returned_attributes(
        params.return_values,
        written.old.clone(),
        written.new.clone(),
        updated.as_ref(),
    );
    let attributes = attributes.filter(|a| !a.is_empty());
    write_reply(&params, &table, &written, attributes.as_ref())
}

/// A single-item write's reply: `attributes` as the write's return values
/// asked, and the capacity (charged by the engine) and collection metrics
/// as requested.
fn write_reply(
    params: &WriteParams<'_>,
    table: &str,
    written: &tarn_engine::Written,
    attributes: Option<&Item>,
) -> Result<Vec<u8>, ApiError> {
    reply(&WriteReply {
        attributes: attributes.map(ItemRef),
        consumed_capacity: capacity::report(
            params.return_consumed_capacity,
            table,
            &written.consumed,
            Split::None,
        ),
        item_collection_metrics: collection_metrics(params.return_item_collection_metrics, written),
    })
}

/// What UpdateItem's `ReturnValues` asks for.
fn returned_attributes(
    mode: Option<&str>,
    old: Option<Item>,
    new: Option<Item>,
    updated: Option<&Projection>,
) -> Option<Item> {
    let empty = Projection { paths: Vec::new() };
    let updated = updated.unwrap_or(&empty);
    match mode {
        Some("ALL_OLD") => old,
        Some("UPDATED_OLD") => old.map(|o| eval::project(&o, updated)),
        Some("ALL_NEW") => new,
        Some("UPDATED_NEW") => new.map(|n| eval::project(&n, updated)),
        _ => None,
    }
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
    check_mix(
        &[("AttributesToGet", input.attributes_to_get.is_some())],
        &[(
            "ProjectionExpression",
            input.projection_expression.is_some(),
        )],
    )?;
    let texts = Texts {
        projection: input.projection_expression.as_deref(),
        ..Texts::default()
    };
    let placeholders = Placeholders::new(input.expression_attribute_names, None, &texts)?;
    let key = input.key.unwrap_or_default().into_item()?;
    let projection = match (
        placeholders.resolve(&texts)?.projection,
        &input.attributes_to_get,
    ) {
        (Some(p), _) => Some(p),
        (None, Some(names)) => Some(legacy::attributes_to_get(names)?),
        (None, None) => None,
    };
    let table = input.table_name.unwrap_or_default();
    let name = table.clone();
    let consistent = input.consistent_read.unwrap_or(false);
    let got = read(app, move |e| e.get_item(&name, &key, consistent)).map_err(data_plane)?;
    let units = got.consumed;
    let item = match (got.item, &projection) {
        (Some(item), Some(p)) => Some(eval::project(&item, p)),
        (item, _) => item,
    };
    reply(&GetReply {
        item: item.as_ref().map(ItemRef),
        consumed_capacity: capacity::report(
            input.return_consumed_capacity.as_deref(),
            &table,
            &units,
            Split::None,
        ),
    })
}
