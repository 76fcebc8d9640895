//! TransactWriteItems and TransactGetItems.
//!
//! Every action is validated (members, expressions, keys) before the
//! engine sees the transaction; what only the items can decide (conditions,
//! computed items) comes back as a TransactionCanceledException with one
//! cancellation reason per action, in request order. Messages are
//! DynamoDB's (`docs/research/transaction-errors.md`).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use tarn_engine::{CancelReason, IdempotencyToken, TransactAction, TRANSACT_ITEMS_MAX};
use tarn_expr::{eval, Item};

use super::capacity::{self, ConsumedCapacity, Split, RETURN_CAPACITY};
use super::expressions::{Placeholders, Texts};
use super::items::{collection_metrics, CollectionMetrics};
use super::wire::{ItemRef, WireItem};
use super::{committed, data_plane, reply};
use crate::app::App;
use crate::error::{ApiError, CancellationReason, Constraints, ErrorCode};

// Structures in a request reject a JSON array, as DynamoDB does.
map_only!(ActionIn, TransactWriteItem, GetIn, TransactGetItem);

/// DynamoDB's limit on the size of a transaction request.
const TRANSACT_BYTES_MAX: usize = 4 * 1024 * 1024;
/// `ClientRequestToken` length limits.
const TOKEN_CHARS_MAX: usize = 36;

#[derive(Deserialize)]
#[serde(remote = "Self", rename_all = "PascalCase")]
pub(super) struct ActionIn {
    table_name: Option<String>,
    item: Option<WireItem>,
    key: Option<WireItem>,
    update_expression: Option<String>,
    condition_expression: Option<String>,
    expression_attribute_names: Option<BTreeMap<String, String>>,
    expression_attribute_values: Option<WireItem>,
    return_values_on_condition_check_failure: Option<String>,
}

#[derive(Deserialize)]
#[serde(remote = "Self", rename_all = "PascalCase")]
pub(super) struct TransactWriteItem {
    condition_check: Option<ActionIn>,
    put: Option<ActionIn>,
    delete: Option<ActionIn>,
    update: Option<ActionIn>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct TransactWriteItemsInput {
    transact_items: Option<Vec<TransactWriteItem>>,
    return_consumed_capacity: Option<String>,
    return_item_collection_metrics: Option<String>,
    client_request_token: Option<String>,
}

#[derive(Deserialize)]
#[serde(remote = "Self", rename_all = "PascalCase")]
pub(super) struct GetIn {
    table_name: Option<String>,
    key: Option<WireItem>,
    projection_expression: Option<String>,
    expression_attribute_names: Option<BTreeMap<String, String>>,
}

#[derive(Deserialize)]
#[serde(remote = "Self", rename_all = "PascalCase")]
pub(super) struct TransactGetItem {
    get: Option<GetIn>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct TransactGetItemsInput {
    transact_items: Option<Vec<TransactGetItem>>,
    return_consumed_capacity: Option<String>,
}

/// Which action a TransactWriteItem holds.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    ConditionCheck,
    Put,
    Delete,
    Update,
}

impl Kind {
    fn member(self) -> &'static str {
        match self {
            Kind::ConditionCheck => "conditionCheck",
            Kind::Put => "put",
            Kind::Delete => "delete",
            Kind::Update => "update",
        }
    }
}

impl TransactWriteItem {
    /// The one action of the item, or `None` if it has none or several.
    fn action(self) -> Result<(Kind, ActionIn), usize> {
        let mut found: Vec<(Kind, ActionIn)> = [
            (Kind::ConditionCheck, self.condition_check),
            (Kind::Put, self.put),
            (Kind::Delete, self.delete),
            (Kind::Update, self.update),
        ]
        .into_iter()
        .filter_map(|(k, a)| a.map(|a| (k, a)))
        .collect();
        match found.len() {
            1 => Ok(found.remove(0)),
            n => Err(n),
        }
    }
}

fn check_list_length(c: &mut Constraints, len: Option<usize>) {
    match len {
        None => c.null("transactItems"),
        Some(0) => c.violated(
            &"[]",
            "transactItems",
            "Member must have length greater than or equal to 1",
        ),
        Some(n) if n > TRANSACT_ITEMS_MAX => c.violated(
            &"[...]",
            "transactItems",
            &format!("Member must have length less than or equal to {TRANSACT_ITEMS_MAX}"),
        ),
        Some(_) => {}
    }
}

/// The members an action must have, as constraint violations.
fn action_constraints(c: &mut Constraints, i: usize, kind: Kind, a: &ActionIn) {
    let p = format!("transactItems.{}.member.{}", i + 1, kind.member());
    match &a.table_name {
        None => c.null(&format!("{p}.tableName")),
        Some(name) => c.table_name(name, &format!("{p}.tableName")),
    }
    match kind {
        Kind::Put if a.item.is_none() => c.null(&format!("{p}.item")),
        Kind::Put => {}
        _ if a.key.is_none() => c.null(&format!("{p}.key")),
        _ => {}
    }
    if kind == Kind::Update && a.update_expression.is_none() {
        c.null(&format!("{p}.updateExpression"));
    }
    if kind == Kind::ConditionCheck && a.condition_expression.is_none() {
        c.null(&format!("{p}.conditionExpression"));
    }
    if let Some(v) = &a.return_values_on_condition_check_failure {
        c.one_of(
            v,
            &format!("{p}.returnValuesOnConditionCheckFailure"),
            "[ALL_OLD, NONE]",
        );
    }
}

/// One validated action, with what the reply needs to know of it.
struct Prepared {
    action: TransactAction,
    return_old: bool,
}

fn prepare(kind: Kind, a: ActionIn) -> Result<Prepared, ApiError> {
    let texts = Texts {
        condition: a.condition_expression.as_deref(),
        update: a.update_expression.as_deref(),
        null_members: match kind {
            Kind::Update => "UpdateExpression and ConditionExpression are null",
            _ => "ConditionExpression is null",
        },
        ..Texts::default()
    };
    let placeholders = Placeholders::new(
        a.expression_attribute_names,
        a.expression_attribute_values,
        &texts,
    )?;
    let resolved = placeholders.resolve(&texts)?;
    let table = a.table_name.unwrap_or_default();
    let condition = resolved.condition;
    let return_old = a.return_values_on_condition_check_failure.as_deref() == Some("ALL_OLD");
    let action = match kind {
        Kind::Put => TransactAction::Put {
            table,
            item: a.item.unwrap_or_default().into_item()?,
            condition,
        },
        Kind::Update => TransactAction::Update {
            table,
            key: a.key.unwrap_or_default().into_item()?,
            update: resolved.update,
            condition,
        },
        Kind::Delete => TransactAction::Delete {
            table,
            key: a.key.unwrap_or_default().into_item()?,
            condition,
        },
        Kind::ConditionCheck => TransactAction::ConditionCheck {
            table,
            key: a.key.unwrap_or_default().into_item()?,
            condition: condition.ok_or_else(|| {
                ApiError::validation(
                    "The ConditionExpression parameter is required for ConditionCheck",
                )
            })?,
        },
    };
    Ok(Prepared { action, return_old })
}

/// What makes two requests "the same" for idempotency: their JSON with
/// object members in sorted order (clients serialize maps in any order),
/// hashed.
fn request_digest(body: &[u8]) -> [u8; 32] {
    let canonical = serde_json::from_slice::<serde_json::Value>(body)
        .and_then(|v| serde_json::to_vec(&v))
        .unwrap_or_else(|_| body.to_vec());
    *blake3::hash(&canonical).as_bytes()
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct WriteReply<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    consumed_capacity: Option<Vec<ConsumedCapacity<'a>>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    item_collection_metrics: Option<BTreeMap<&'a str, Vec<CollectionMetrics<'a>>>>,
}

/// The TransactionCanceledException for `reasons`: its message lists
/// every reason's code in order.
fn canceled(reasons: Vec<CancelReason>, return_old: impl Fn(usize) -> bool) -> ApiError {
    let wire: Vec<CancellationReason> = reasons
        .into_iter()
        .enumerate()
        .map(|(i, r)| match r {
            CancelReason::ConditionalCheckFailed(old) => CancellationReason {
                code: "ConditionalCheckFailed",
                message: Some("The conditional request failed".into()),
                item: old.filter(|_| return_old(i)),
            },
            CancelReason::ItemCollectionSizeLimitExceeded => CancellationReason {
                code: "ItemCollectionSizeLimitExceeded",
                message: Some("Collection size exceeded".into()),
                item: None,
            },
            CancelReason::ValidationError(m) => CancellationReason {
                code: "ValidationError",
                message: Some(m.to_string()),
                item: None,
            },
            // Under --enforce-throughput, an action of a table out of
            // capacity.
            CancelReason::Throttled(t) => CancellationReason {
                code: if t == tarn_engine::Throttled::OnDemand {
                    "ThrottlingError"
                } else {
                    "ProvisionedThroughputExceeded"
                },
                message: Some(t.message().to_owned()),
                item: None,
            },
            _ => CancellationReason {
                code: "None",
                message: None,
                item: None,
            },
        })
        .collect();
    cancellation(wire)
}

/// A TransactionCanceledException: its message lists every reason's code
/// in order.
fn cancellation(reasons: Vec<CancellationReason>) -> ApiError {
    let codes: Vec<&str> = reasons.iter().map(|r| r.code).collect();
    let mut e = ApiError::new(
        ErrorCode::TransactionCanceled,
        format!(
            "Transaction cancelled, please refer cancellation reasons for specific reasons [{}]",
            codes.join(", ")
        ),
    );
    e.cancellation_reasons = Some(reasons);
    e
}

pub(super) async fn transact_write_items(
    app: &App,
    input: TransactWriteItemsInput,
    body: &[u8],
) -> Result<Vec<u8>, ApiError> {
    let mut c = Constraints::default();
    check_list_length(&mut c, input.transact_items.as_ref().map(Vec::len));
    if let Some(v) = &input.return_consumed_capacity {
        c.one_of(v, "returnConsumedCapacity", RETURN_CAPACITY);
    }
    if let Some(v) = &input.return_item_collection_metrics {
        c.one_of(v, "returnItemCollectionMetrics", "[SIZE, NONE]");
    }
    if let Some(t) = &input.client_request_token {
        if t.is_empty() {
            c.violated(
                t,
                "clientRequestToken",
                "Member must have length greater than or equal to 1",
            );
        }
        if t.chars().count() > TOKEN_CHARS_MAX {
            c.violated(
                t,
                "clientRequestToken",
                &format!("Member must have length less than or equal to {TOKEN_CHARS_MAX}"),
            );
        }
    }
    let mut actions = Vec::new();
    let mut malformed = None;
    for (i, item) in input.transact_items.into_iter().flatten().enumerate() {
        match item.action() {
            Ok((kind, a)) => {
                action_constraints(&mut c, i, kind, &a);
                actions.push((kind, a));
            }
            Err(n) => {
                malformed.get_or_insert(n);
            }
        }
    }
    c.finish()?;
    match malformed {
        Some(0) => return Err(ApiError::validation(
            "Invalid Request: TransactWriteRequest should contain Delete or Put or Update request",
        )),
        Some(_) => {
            return Err(ApiError::validation(
                "TransactItems can only contain one of Check, Put, Update or Delete",
            ))
        }
        None => {}
    }
    if body.len() > TRANSACT_BYTES_MAX {
        return Err(ApiError::validation(
            "Transaction request size cannot exceed 4 MB",
        ));
    }
    let prepared = actions
        .into_iter()
        .map(|(kind, a)| prepare(kind, a))
        .collect::<Result<Vec<_>, _>>()?;
    let token = input.client_request_token.map(|token| IdempotencyToken {
        token,
        digest: request_digest(body),
    });
    let engine_actions: Vec<TransactAction> = prepared.iter().map(|p| p.action.clone()).collect();
    let result = committed(app, move |e| {
        e.transact_write_deferred(&engine_actions, token.as_ref())
    })
    .await?;
    let outcome = result.map_err(|e| match e {
        tarn_engine::Error::TransactionCanceled(reasons) => {
            canceled(reasons, |i| prepared.get(i).is_some_and(|p| p.return_old))
        }
        tarn_engine::Error::IdempotentParameterMismatch => ApiError::new(
            ErrorCode::IdempotentParameterMismatch,
            "DynamoDB rejected the request because you retried a request with a different payload but with an idempotent token that was already used.",
        ),
        other => data_plane(ApiError::from(other)),
    })?;
    let per_table = &outcome.consumed;
    let mut metrics: BTreeMap<&str, Vec<CollectionMetrics<'_>>> = BTreeMap::new();
    let mode = input.return_item_collection_metrics.as_deref();
    for (p, w) in prepared.iter().zip(&outcome.written) {
        if let Some(m) = collection_metrics(mode, w) {
            metrics.entry(p.action.table()).or_default().push(m);
        }
    }
    let split = if outcome.replayed {
        Split::Read
    } else {
        Split::Write
    };
    reply(&WriteReply {
        consumed_capacity: capacity::report_tables(
            input.return_consumed_capacity.as_deref(),
            per_table,
            split,
        ),
        item_collection_metrics: (mode == Some("SIZE")).then_some(metrics),
    })
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct ItemResponse<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    item: Option<ItemRef<'a>>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct GetReply<'a> {
    responses: Vec<ItemResponse<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    consumed_capacity: Option<Vec<ConsumedCapacity<'a>>>,
}

pub(super) async fn transact_get_items(
    app: &App,
    input: TransactGetItemsInput,
) -> Result<Vec<u8>, ApiError> {
    let mut c = Constraints::default();
    check_list_length(&mut c, input.transact_items.as_ref().map(Vec::len));
    if let Some(v) = &input.return_consumed_capacity {
        c.one_of(v, "returnConsumedCapacity", RETURN_CAPACITY);
    }
    for (i, item) in input.transact_items.iter().flatten().enumerate() {
        let p = format!("transactItems.{}.member.get", i + 1);
        match &item.get {
            None => c.null(&p),
            Some(g) => {
                match &g.table_name {
                    None => c.null(&format!("{p}.tableName")),
                    Some(name) => c.table_name(name, &format!("{p}.tableName")),
                }
                if g.key.is_none() {
                    c.null(&format!("{p}.key"));
                }
            }
        }
    }
    c.finish()?;
    let mut gets = Vec::new();
    let mut projections = Vec::new();
    for item in input.transact_items.into_iter().flatten() {
        let Some(g) = item.get else { continue };
        let texts = Texts {
            projection: g.projection_expression.as_deref(),
            ..Texts::default()
        };
        let placeholders = Placeholders::new(g.expression_attribute_names, None, &texts)?;
        projections.push(placeholders.resolve(&texts)?.projection);
        gets.push((
            g.table_name.unwrap_or_default(),
            g.key.unwrap_or_default().into_item()?,
        ));
    }
    let got = match app.engine.transact_get(&gets) {
        Ok(got) => got,
        Err(tarn_engine::Error::TransactionCanceled(reasons)) => {
            return Err(canceled(reasons, |_| false))
        }
        Err(e) => return Err(data_plane(e.into())),
    };
    let per_table = got.consumed;
    let projected: Vec<Option<Item>> = got
        .items
        .into_iter()
        .zip(&projections)
        .map(|(item, p)| match (item, p) {
            (Some(item), Some(p)) => Some(eval::project(&item, p)),
            (item, _) => item,
        })
        .collect();
    reply(&GetReply {
        responses: projected
            .iter()
            .map(|i| ItemResponse {
                item: i.as_ref().map(ItemRef),
            })
            .collect(),
        consumed_capacity: capacity::report_tables(
            input.return_consumed_capacity.as_deref(),
            &per_table,
            Split::Read,
        ),
    })
}
