//! BatchGetItem and BatchWriteItem.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use tarn_engine::{BatchGet, BatchWrite, Units};
use tarn_expr::ast::Projection;
use tarn_expr::{eval, Item};

use super::capacity::{self, ConsumedCapacity, Split, RETURN_CAPACITY};
use super::expressions::{check_mix, Placeholders, Texts};
use super::items::{collection_metrics, CollectionMetrics};
use super::legacy;
use super::wire::{ItemRef, WireItem};
use super::{committed, data_plane, read, reply};
use crate::app::App;
use crate::error::{is_table_name, ApiError, Constraints};

// Structures in a request reject a JSON array, as DynamoDB does.
map_only!(KeysAndAttributes, PutRequest, DeleteRequest, WriteRequest);

/// DynamoDB's limits.
const BATCH_GET_KEYS_MAX: usize = 100;
const BATCH_WRITE_REQUESTS_MAX: usize = 25;
/// BatchGetItem returns at most 16 MB; keys past that come back unprocessed.
const BATCH_GET_BYTES_MAX: usize = 16 * 1024 * 1024;

#[derive(Deserialize)]
#[serde(remote = "Self", rename_all = "PascalCase")]
pub(super) struct KeysAndAttributes {
    keys: Option<Vec<WireItem>>,
    consistent_read: Option<bool>,
    projection_expression: Option<String>,
    attributes_to_get: Option<Vec<String>>,
    expression_attribute_names: Option<BTreeMap<String, String>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct BatchGetItemInput {
    request_items: Option<BTreeMap<String, KeysAndAttributes>>,
    return_consumed_capacity: Option<String>,
}

#[derive(Deserialize)]
#[serde(remote = "Self", rename_all = "PascalCase")]
pub(super) struct PutRequest {
    item: Option<WireItem>,
}

#[derive(Deserialize)]
#[serde(remote = "Self", rename_all = "PascalCase")]
pub(super) struct DeleteRequest {
    key: Option<WireItem>,
}

#[derive(Deserialize)]
#[serde(remote = "Self", rename_all = "PascalCase")]
pub(super) struct WriteRequest {
    put_request: Option<PutRequest>,
    delete_request: Option<DeleteRequest>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct BatchWriteItemInput {
    request_items: Option<BTreeMap<String, Vec<WriteRequest>>>,
    return_consumed_capacity: Option<String>,
    return_item_collection_metrics: Option<String>,
}

/// DynamoDB's answer to `RequestItems: {}`.
fn empty_request_items(operation: &str) -> ApiError {
    ApiError::validation(format!(
        "The requestItems parameter is required for {operation}"
    ))
}

/// The constraint on RequestItems' keys, as DynamoDB lists it.
const TABLE_NAME_KEYS: &str = "Map keys must satisfy constraint: [Member must have length less than or equal to 255, Member must have length greater than or equal to 3, Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+]";

/// Checks RequestItems' presence and table names. A bad name is one
/// violation for the whole map, which DynamoDB echoes as compact JSON
/// (`docs/research/query-scan-batch-errors.md` §4.1); the echo is built
/// from the request body only when a name is bad.
fn check_request_items(c: &mut Constraints, tables: Option<Vec<&str>>, body: &[u8]) {
    match tables {
        None => c.null("requestItems"),
        Some(t) => {
            if !t.iter().all(|n| is_table_name(n)) {
                c.violated(&request_items_echo(body), "requestItems", TABLE_NAME_KEYS);
            }
        }
    }
}

/// The request's RequestItems as compact JSON.
fn request_items_echo(body: &[u8]) -> String {
    serde_json::from_slice::<serde_json::Value>(body)
        .ok()
        .and_then(|v| v.get("RequestItems").map(ToString::to_string))
        .unwrap_or_default()
}

/// One table's share of a BatchGetItem, validated.
struct TableGets {
    table: String,
    keys: Vec<Item>,
    projection: Option<Projection>,
    consistent: bool,
    /// The request as received, minus the keys, for `UnprocessedKeys`.
    projection_expression: Option<String>,
    attributes_to_get: Option<Vec<String>>,
    names: Option<BTreeMap<String, String>>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct UnprocessedKeys<'a> {
    keys: Vec<ItemRef<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    consistent_read: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    projection_expression: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    attributes_to_get: Option<&'a [String]>,
    #[serde(skip_serializing_if = "Option::is_none")]
    expression_attribute_names: Option<&'a BTreeMap<String, String>>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct BatchGetReply<'a> {
    responses: BTreeMap<&'a str, Vec<ItemRef<'a>>>,
    unprocessed_keys: BTreeMap<&'a str, UnprocessedKeys<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    consumed_capacity: Option<Vec<ConsumedCapacity<'a>>>,
}

pub(super) async fn batch_get_item(
    app: &App,
    input: BatchGetItemInput,
    body: &[u8],
) -> Result<Vec<u8>, ApiError> {
    // DynamoDB lists ReturnConsumedCapacity before RequestItems (recorded
    // for BatchWriteItem by dynalite against AWS).
    let mut c = Constraints::default();
    if let Some(v) = &input.return_consumed_capacity {
        c.one_of(v, "returnConsumedCapacity", RETURN_CAPACITY);
    }
    check_request_items(
        &mut c,
        input
            .request_items
            .as_ref()
            .map(|m| m.keys().map(String::as_str).collect()),
        body,
    );
    for (table, ka) in input.request_items.iter().flatten() {
        let path = format!("requestItems.{table}.member.keys");
        match &ka.keys {
            None => c.null(&path),
            Some(k) if k.is_empty() => c.violated(
                &"[]",
                &path,
                "Member must have length greater than or equal to 1",
            ),
            Some(k) if k.len() > BATCH_GET_KEYS_MAX => c.violated(
                &"[...]",
                &path,
                "Member must have length less than or equal to 100",
            ),
            Some(_) => {}
        }
    }
    c.finish()?;
    let request_items = input.request_items.unwrap_or_default();
    if request_items.is_empty() {
        return Err(empty_request_items("BatchGetItem"));
    }
    let total: usize = request_items
        .values()
        .map(|ka| ka.keys.as_ref().map_or(0, Vec::len))
        .sum();
    if total > BATCH_GET_KEYS_MAX {
        return Err(ApiError::validation(
            "Too many items requested for the BatchGetItem call",
        ));
    }
    let mut gets = Vec::with_capacity(request_items.len());
    for (table, ka) in request_items {
        check_mix(
            &[("AttributesToGet", ka.attributes_to_get.is_some())],
            &[("ProjectionExpression", ka.projection_expression.is_some())],
        )?;
        let texts = Texts {
            projection: ka.projection_expression.as_deref(),
            ..Texts::default()
        };
        let placeholders = Placeholders::new(ka.expression_attribute_names.clone(), None, &texts)?;
        let keys = ka
            .keys
            .unwrap_or_default()
            .into_iter()
            .map(WireItem::into_item)
            .collect::<Result<Vec<_>, _>>()?;
        for (i, k) in keys.iter().enumerate() {
            if keys[..i].contains(k) {
                return Err(ApiError::validation(
                    "Provided list of item keys contains duplicates",
                ));
            }
        }
        let projection = match (
            placeholders.resolve(&texts)?.projection,
            &ka.attributes_to_get,
        ) {
            (Some(p), _) => Some(p),
            (None, Some(names)) => Some(legacy::attributes_to_get(names)?),
            (None, None) => None,
        };
        gets.push(TableGets {
            table,
            keys,
            projection,
            consistent: ka.consistent_read.unwrap_or(false),
            projection_expression: ka.projection_expression,
            attributes_to_get: ka.attributes_to_get,
            names: ka.expression_attribute_names,
        });
    }
    // Every key is read (and checked) before anything is answered; reads
    // past 16 MB of response, and tables out of read capacity, come back
    // as UnprocessedKeys.
    let requests: Vec<BatchGet> = gets
        .iter()
        .map(|g| BatchGet {
            table: g.table.clone(),
            keys: g.keys.clone(),
            consistent: g.consistent,
        })
        .collect();
    let results =
        read(app, move |e| e.batch_get(&requests, BATCH_GET_BYTES_MAX)).map_err(data_plane)?;
    let mut found: Vec<Vec<Item>> = Vec::with_capacity(gets.len());
    let mut unprocessed: Vec<Vec<&Item>> = Vec::with_capacity(gets.len());
    let mut per_table: Vec<(String, Units)> = Vec::with_capacity(gets.len());
    for (g, got) in gets.iter().zip(results) {
        found.push(match &g.projection {
            Some(p) => got
                .found
                .iter()
                .map(|item| eval::project(item, p))
                .collect(),
            None => got.found,
        });
        unprocessed.push(got.unprocessed.iter().map(|&i| &g.keys[i]).collect());
        per_table.push((g.table.clone(), got.consumed));
    }
    let mut responses = BTreeMap::new();
    let mut unprocessed_keys = BTreeMap::new();
    for ((g, f), u) in gets.iter().zip(&found).zip(unprocessed) {
        responses.insert(g.table.as_str(), f.iter().map(ItemRef).collect());
        if !u.is_empty() {
            unprocessed_keys.insert(
                g.table.as_str(),
                UnprocessedKeys {
                    keys: u.into_iter().map(ItemRef).collect(),
                    consistent_read: g.consistent.then_some(true),
                    projection_expression: g.projection_expression.as_deref(),
                    attributes_to_get: g.attributes_to_get.as_deref(),
                    expression_attribute_names: g.names.as_ref(),
                },
            );
        }
    }
    let consumed_capacity = capacity::report_tables(
        input.return_consumed_capacity.as_deref(),
        &per_table,
        Split::None,
    );
    reply(&BatchGetReply {
        responses,
        unprocessed_keys,
        consumed_capacity,
    })
}

/// A write request as `UnprocessedItems` returns it.
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct WriteRequestOut<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    put_request: Option<ItemOut<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    delete_request: Option<KeyOut<'a>>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct ItemOut<'a> {
    item: ItemRef<'a>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct KeyOut<'a> {
    key: ItemRef<'a>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct BatchWriteReply<'a> {
    unprocessed_items: BTreeMap<&'a str, Vec<WriteRequestOut<'a>>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    consumed_capacity: Option<Vec<ConsumedCapacity<'a>>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    item_collection_metrics: Option<BTreeMap<&'a str, Vec<CollectionMetrics<'a>>>>,
}

pub(super) async fn batch_write_item(
    app: &App,
    input: BatchWriteItemInput,
    body: &[u8],
) -> Result<Vec<u8>, ApiError> {
    // DynamoDB's order (dynalite's batchWriteItem tests against AWS): the
    // enums, RequestItems' names, its lists' lengths, then each request's
    // missing members.
    let mut c = Constraints::default();
    if let Some(v) = &input.return_consumed_capacity {
        c.one_of(v, "returnConsumedCapacity", RETURN_CAPACITY);
    }
    if let Some(v) = &input.return_item_collection_metrics {
        c.one_of(v, "returnItemCollectionMetrics", "[SIZE, NONE]");
    }
    check_request_items(
        &mut c,
        input
            .request_items
            .as_ref()
            .map(|m| m.keys().map(String::as_str).collect()),
        body,
    );
    for (table, requests) in input.request_items.iter().flatten() {
        // DynamoDB echoes the whole map as Java renders it; Tarn elides the
        // requests.
        if requests.is_empty() || requests.len() > BATCH_WRITE_REQUESTS_MAX {
            let shown = if requests.is_empty() { "[]" } else { "[...]" };
            c.violated(
                &format!("{{{table}={shown}}}"),
                "requestItems",
                "Map value must satisfy constraint: [Member must have length less than or equal to 25, Member must have length greater than or equal to 1]",
            );
        }
    }
    for (table, requests) in input.request_items.iter().flatten() {
        for (i, r) in requests.iter().enumerate() {
            let p = format!("requestItems.{table}.member.{}.member", i + 1);
            if matches!(r.delete_request, Some(DeleteRequest { key: None })) {
                c.null(&format!("{p}.deleteRequest.key"));
            }
            if matches!(r.put_request, Some(PutRequest { item: None })) {
                c.null(&format!("{p}.putRequest.item"));
            }
        }
    }
    c.finish()?;
    let request_items = input.request_items.unwrap_or_default();
    if request_items.is_empty() {
        return Err(empty_request_items("BatchWriteItem"));
    }
    let total: usize = request_items.values().map(Vec::len).sum();
    if total > BATCH_WRITE_REQUESTS_MAX {
        return Err(ApiError::validation(
            "Too many items requested for the BatchWriteItem call",
        ));
    }
    let mut writes = Vec::with_capacity(total);
    for (table, requests) in request_items {
        for r in requests {
            let write = match (r.put_request, r.delete_request) {
                (Some(PutRequest { item: Some(item) }), None) => {
                    let item = item.into_item()?;
                    BatchWrite::Put { table: table.clone(), item }
                }
                (None, Some(DeleteRequest { key: Some(key) })) => {
                    BatchWrite::Delete { table: table.clone(), key: key.into_item()? }
                }
                _ => {
                    return Err(ApiError::validation(
                        "Supplied AttributeValue has more than one datatypes set, must contain exactly one of the supported datatypes",
                    ))
                }
            };
            writes.push(write);
        }
    }
    // Under --enforce-throughput requests of tables out of capacity come
    // back unprocessed; the engine admits and charges each request.
    let outcome = committed(app, |e| e.batch_write_deferred(&writes))
        .await?
        .map_err(|e| data_plane(e.into()))?;
    let mode = input.return_item_collection_metrics.as_deref();
    let mut metrics: BTreeMap<&str, Vec<CollectionMetrics<'_>>> = BTreeMap::new();
    let mut unprocessed = Vec::new();
    for (request, w) in writes.iter().zip(&outcome.written) {
        match w {
            Some(w) => {
                if let Some(m) = collection_metrics(mode, w) {
                    metrics.entry(request.table()).or_default().push(m);
                }
            }
            None => unprocessed.push(request),
        }
    }
    let per_table = outcome.consumed;
    let consumed_capacity = capacity::report_tables(
        input.return_consumed_capacity.as_deref(),
        &per_table,
        Split::None,
    );
    let mut unprocessed_items: BTreeMap<&str, Vec<WriteRequestOut<'_>>> = BTreeMap::new();
    for w in unprocessed {
        let (table, out) = match w {
            BatchWrite::Put { table, item } => (
                table,
                WriteRequestOut {
                    put_request: Some(ItemOut {
                        item: ItemRef(item),
                    }),
                    delete_request: None,
                },
            ),
            BatchWrite::Delete { table, key } => (
                table,
                WriteRequestOut {
                    put_request: None,
                    delete_request: Some(KeyOut { key: ItemRef(key) }),
                },
            ),
        };
        unprocessed_items
            .entry(table.as_str())
            .or_default()
            .push(out);
    }
    reply(&BatchWriteReply {
        unprocessed_items,
        consumed_capacity,
        item_collection_metrics: (mode == Some("SIZE")).then_some(metrics),
    })
}
