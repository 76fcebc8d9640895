//! Query and Scan.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use tarn_engine::{
    IndexDef, IndexKind, Page, PageOptions, ProjectionType, QueryRequest, ScanRequest,
    SortCondition, TableDef,
};
use tarn_expr::ast::{Comparator, Condition, Operand, PathElement, Projection, ValueRef};
use tarn_expr::{eval, AttributeValue, Item};

use super::capacity::{self, ConsumedCapacity, Split, RETURN_CAPACITY};
use super::expressions::{check_mix, Expressions, Placeholders, Texts};
use super::items::check_common;
use super::legacy::{self, FilterCondition};
use super::wire::{ItemRef, WireItem};
use super::{data_plane, read, reply};
use crate::app::App;
use crate::error::{ApiError, Constraints};

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct QueryInput {
    table_name: Option<String>,
    index_name: Option<String>,
    key_condition_expression: Option<String>,
    key_conditions: Option<BTreeMap<String, FilterCondition>>,
    filter_expression: Option<String>,
    query_filter: Option<BTreeMap<String, FilterCondition>>,
    conditional_operator: Option<String>,
    projection_expression: Option<String>,
    attributes_to_get: Option<Vec<String>>,
    expression_attribute_names: Option<BTreeMap<String, String>>,
    expression_attribute_values: Option<WireItem>,
    select: Option<String>,
    scan_index_forward: Option<bool>,
    #[serde(default, deserialize_with = "super::wire::integer")]
    limit: Option<i32>,
    exclusive_start_key: Option<WireItem>,
    consistent_read: Option<bool>,
    return_consumed_capacity: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct ScanInput {
    table_name: Option<String>,
    index_name: Option<String>,
    filter_expression: Option<String>,
    scan_filter: Option<BTreeMap<String, FilterCondition>>,
    conditional_operator: Option<String>,
    projection_expression: Option<String>,
    attributes_to_get: Option<Vec<String>>,
    expression_attribute_names: Option<BTreeMap<String, String>>,
    expression_attribute_values: Option<WireItem>,
    select: Option<String>,
    #[serde(default, deserialize_with = "super::wire::integer")]
    limit: Option<i32>,
    #[serde(default, deserialize_with = "super::wire::integer")]
    segment: Option<i32>,
    #[serde(default, deserialize_with = "super::wire::integer")]
    total_segments: Option<i32>,
    exclusive_start_key: Option<WireItem>,
    consistent_read: Option<bool>,
    return_consumed_capacity: Option<String>,
}

const SELECT: &str = "[SPECIFIC_ATTRIBUTES, COUNT, ALL_ATTRIBUTES, ALL_PROJECTED_ATTRIBUTES]";

/// Borrows the members Query and Scan share from either input.
macro_rules! read_params {
    ($input:expr) => {
        ReadParams {
            table_name: $input.table_name.as_deref(),
            index_name: $input.index_name.as_deref(),
            select: $input.select.as_deref(),
            limit: $input.limit,
            conditional_operator: $input.conditional_operator.as_deref(),
            return_consumed_capacity: $input.return_consumed_capacity.as_deref(),
            attributes_to_get: $input.attributes_to_get.as_deref(),
            has_projection_expression: $input.projection_expression.is_some(),
        }
    };
}

/// The members Query and Scan share, borrowed.
struct ReadParams<'a> {
    table_name: Option<&'a str>,
    index_name: Option<&'a str>,
    select: Option<&'a str>,
    limit: Option<i32>,
    conditional_operator: Option<&'a str>,
    return_consumed_capacity: Option<&'a str>,
    attributes_to_get: Option<&'a [String]>,
    has_projection_expression: bool,
}

impl ReadParams<'_> {
    fn constraints(&self, c: &mut Constraints) {
        check_common(c, self.table_name, true, "");
        if let Some(v) = self.select {
            c.one_of(v, "select", SELECT);
        }
        if let Some(l) = self.limit {
            if l < 1 {
                c.violated(
                    &l,
                    "limit",
                    "Member must have value greater than or equal to 1",
                );
            }
        }
        if let Some(v) = self.return_consumed_capacity {
            c.one_of(v, "returnConsumedCapacity", RETURN_CAPACITY);
        }
        legacy::check_conditional_operator(c, self.conditional_operator);
        if let Some(names) = self.attributes_to_get {
            if names.is_empty() {
                c.violated(
                    &"[]",
                    "attributesToGet",
                    "Member must have length greater than or equal to 1",
                );
            }
        }
    }

    /// What Select asks for: `Some(true)` items, `Some(false)` only counts.
    fn select_items(&self) -> Result<bool, ApiError> {
        let projected = self.has_projection_expression || self.attributes_to_get.is_some();
        match self.select {
            Some("COUNT") if projected => Err(ApiError::validation(if self.has_projection_expression {
                "Cannot specify the ProjectionExpression when choosing to get only the Count"
            } else {
                "Cannot specify the AttributesToGet when choosing to get only the Count"
            })),
            Some("COUNT") => Ok(false),
            Some("ALL_ATTRIBUTES") if projected => Err(ApiError::validation(if self.has_projection_expression {
                "Cannot specify the ProjectionExpression when choosing to get ALL_ATTRIBUTES"
            } else {
                "Cannot specify the AttributesToGet when choosing to get ALL_ATTRIBUTES"
            })),
            Some("SPECIFIC_ATTRIBUTES") if !projected => Err(ApiError::validation(
                "Must specify the AttributesToGet or ProjectionExpression when choosing to get SPECIFIC_ATTRIBUTES",
            )),
            Some("ALL_PROJECTED_ATTRIBUTES") if projected => Err(ApiError::validation(if self.has_projection_expression {
                "Cannot specify the ProjectionExpression when choosing to get ALL_PROJECTED_ATTRIBUTES"
            } else {
                "Cannot specify the AttributesToGet when choosing to get ALL_PROJECTED_ATTRIBUTES"
            })),
            Some("ALL_PROJECTED_ATTRIBUTES") if self.index_name.is_none() => Err(ApiError::validation(
                "ALL_PROJECTED_ATTRIBUTES can be used only when Querying using an IndexName",
            )),
            _ => Ok(true),
        }
    }
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct ReadReply<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    items: Option<Vec<ItemRef<'a>>>,
    count: usize,
    scanned_count: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    last_evaluated_key: Option<ItemRef<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    consumed_capacity: Option<ConsumedCapacity<'a>>,
}

/// How a page is turned into a reply.
struct Rendering<'a> {
    projection: Option<&'a Projection>,
    items_wanted: bool,
    index: Option<&'a IndexDef>,
    /// Items were fetched from the table for a local index read.
    fetched: bool,
    key_schema: Option<&'a tarn_engine::KeySchema>,
}

fn render_page(
    mut page: Page,
    params: &ReadParams<'_>,
    r: &Rendering<'_>,
) -> Result<Vec<u8>, ApiError> {
    let Rendering {
        projection,
        items_wanted,
        index,
        fetched,
        key_schema,
    } = *r;
    let table = params.table_name.unwrap_or_default();
    let units = std::mem::take(&mut page.consumed);
    let items: Vec<Item> = match (projection, index) {
        (Some(p), _) => page.items.iter().map(|i| eval::project(i, p)).collect(),
        // A local index read that fetched items only to filter them still
        // returns what the index projects, unless ALL_ATTRIBUTES was asked.
        (None, Some(index)) if fetched && params.select != Some("ALL_ATTRIBUTES") => page
            .items
            .into_iter()
            .map(|i| {
                i.into_iter()
                    .filter(|(n, _)| key_schema.is_some_and(|ks| index.projects(ks, n)))
                    .collect()
            })
            .collect(),
        (None, _) => page.items,
    };
    reply(&ReadReply {
        items: items_wanted.then(|| items.iter().map(ItemRef).collect()),
        count: items.len(),
        scanned_count: page.scanned_count,
        last_evaluated_key: page.last_evaluated_key.as_ref().map(ItemRef),
        consumed_capacity: capacity::report(
            params.return_consumed_capacity,
            table,
            &units,
            Split::None,
        ),
    })
}

/// A table's definition, looked up for validating key conditions and
/// index parameters.
fn table_def(app: &App, table: &str) -> Result<TableDef, ApiError> {
    let def = read(app, move |e| e.table_def(table)).map_err(data_plane)?;
    if def.status != tarn_engine::TableStatus::Active {
        return Err(data_plane(ApiError::from(
            tarn_engine::Error::TableNotFound(def.name),
        )));
    }
    Ok(def)
}

/// The key attributes a Query or Scan reads by: the table's, or an
/// index's (several per part for a multi-attribute index key).
struct ReadKeys<'a> {
    hash: Vec<&'a str>,
    range: Vec<&'a str>,
}

impl<'a> ReadKeys<'a> {
    fn of(def: &'a TableDef, index: Option<&'a IndexDef>) -> Self {
        match index {
            Some(i) => ReadKeys {
                hash: i.hash.iter().map(|a| a.name.as_str()).collect(),
                range: i.range.iter().map(|a| a.name.as_str()).collect(),
            },
            None => ReadKeys {
                hash: vec![def.key_schema.hash.name.as_str()],
                range: def
                    .key_schema
                    .range
                    .iter()
                    .map(|a| a.name.as_str())
                    .collect(),
            },
        }
    }

    fn is_key(&self, name: &str) -> bool {
        self.hash.contains(&name) || self.range.contains(&name)
    }
}

/// The index a read names, with the checks DynamoDB makes of the index
/// parameters: it exists, a global index is read eventually consistently,
/// and `Select: ALL_ATTRIBUTES` needs a global index that projects them.
fn read_index<'d>(
    def: &'d TableDef,
    index_name: Option<&str>,
    select: Option<&str>,
    consistent: bool,
) -> Result<Option<&'d IndexDef>, ApiError> {
    let Some(name) = index_name else {
        return Ok(None);
    };
    let index = def.index(name).ok_or_else(|| {
        ApiError::validation(format!(
            "The table does not have the specified index: {name}"
        ))
    })?;
    if index.kind == IndexKind::Global {
        if consistent {
            return Err(ApiError::validation(
                "Consistent reads are not supported on global secondary indexes",
            ));
        }
        if select == Some("ALL_ATTRIBUTES") && index.projection.kind != ProjectionType::All {
            return Err(ApiError::validation(format!(
                "One or more parameter values were invalid: Select type ALL_ATTRIBUTES is not supported for global secondary index {name} because its projection type is not ALL"
            )));
        }
    }
    Ok(Some(index))
}

/// A global index returns only what it holds: a projection naming
/// anything else is refused.
fn check_projected(
    def: &TableDef,
    index: Option<&IndexDef>,
    projection: Option<&Projection>,
) -> Result<(), ApiError> {
    let (Some(index), Some(projection)) = (index, projection) else {
        return Ok(());
    };
    if index.kind != IndexKind::Global {
        return Ok(());
    }
    let mut missing: Vec<&str> = Vec::new();
    for p in &projection.paths {
        if let Some(PathElement::Attr(n)) = p.elements.first() {
            let n = n.as_str();
            if !index.projects(&def.key_schema, n) && !missing.contains(&n) {
                missing.push(n);
            }
        }
    }
    if missing.is_empty() {
        return Ok(());
    }
    Err(ApiError::validation(format!(
        "One or more parameter values were invalid: Global secondary index {} does not project [{}]",
        index.name,
        missing.join(", ")
    )))
}

/// Whether a read of a local index must fetch whole items from the table:
/// when it asks for every attribute, or names (in the projection or the
/// filter) one the index does not hold. A global index returns what it
/// holds.
fn fetches_items(
    def: &TableDef,
    index: Option<&IndexDef>,
    select: Option<&str>,
    projection: Option<&Projection>,
    filter: Option<&Condition>,
) -> bool {
    let Some(index) = index.filter(|i| i.kind == IndexKind::Local) else {
        return false;
    };
    if index.projection.kind == ProjectionType::All {
        return false;
    }
    if select == Some("ALL_ATTRIBUTES") {
        return true;
    }
    let outside = |p: &tarn_expr::ast::Path| match p.elements.first() {
        Some(PathElement::Attr(n)) => !index.projects(&def.key_schema, n.as_str()),
        _ => false,
    };
    let mut needed = projection.is_some_and(|p| p.paths.iter().any(outside));
    if let Some(f) = filter {
        f.for_each_path(&mut |p| needed |= outside(p));
    }
    needed
}

fn unsupported_operator(name: &str) -> ApiError {
    ApiError::validation(format!(
        "Invalid operator used in KeyConditionExpression: {name}"
    ))
}

/// One side of a key-condition term.
enum Side {
    Key(String),
    Value(AttributeValue),
}

fn side(o: Operand) -> Result<Side, ApiError> {
    match o {
        Operand::Size(_) | Operand::ValueSize(_) => Err(ApiError::validation(
            "KeyConditionExpressions cannot contain nested operations",
        )),
        Operand::Path(p) => match p.elements.as_slice() {
            [PathElement::Attr(n)] => Ok(Side::Key(n.as_str().to_owned())),
            _ => Err(ApiError::validation(
                "KeyConditionExpressions cannot have conditions on nested attributes",
            )),
        },
        Operand::Value(ValueRef::Resolved(v)) => Ok(Side::Value(v)),
        // Resolution replaced every placeholder.
        Operand::Value(ValueRef::Placeholder(p)) => {
            Err(ApiError::validation(format!("unresolved placeholder {p}")))
        }
    }
}

fn key_operand_type(operator: &str, v: &AttributeValue) -> ApiError {
    ApiError::validation(format!(
        "Invalid KeyConditionExpression: Incorrect operand type for operator or function; operator or function: {operator}, operand type: {}",
        v.type_name()
    ))
}

fn invalid_condition(detail: &str) -> ApiError {
    ApiError::validation(format!(
        "Invalid condition in KeyConditionExpression: {detail}"
    ))
}

/// A function or BETWEEN whose first operand must be the key attribute and
/// whose others must be values.
fn key_first(
    function: &str,
    first: Operand,
    rest: Vec<Operand>,
) -> Result<(String, Vec<AttributeValue>), ApiError> {
    let first = side(first)?;
    let rest = rest.into_iter().map(side).collect::<Result<Vec<_>, _>>()?;
    let rest_has_key = rest.iter().any(|s| matches!(s, Side::Key(_)));
    let Side::Key(name) = first else {
        return Err(if rest_has_key {
            invalid_condition(&format!(
                "{function} operator must have the key attribute as its first operand"
            ))
        } else {
            invalid_condition("No key attribute specified")
        });
    };
    let values = rest
        .into_iter()
        .map(|s| match s {
            Side::Value(v) => Ok(v),
            Side::Key(_) => Err(invalid_condition(
                "Multiple attribute names used in one condition",
            )),
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok((name, values))
}

/// One conjunct of a key condition: the key attribute it names and what it
/// requires of it. The messages are DynamoDB's for each misshapen term.
fn key_term(c: Condition) -> Result<(String, SortCondition), ApiError> {
    match c {
        Condition::Compare { left, op, right } => {
            let written = op;
            let (name, v, op) = match (side(left)?, side(right)?) {
                (Side::Key(n), Side::Value(v)) => (n, v, op),
                (Side::Value(v), Side::Key(n)) => {
                    // `:v < sk` is `sk > :v`.
                    let flipped = match op {
                        Comparator::Lt => Comparator::Gt,
                        Comparator::Le => Comparator::Ge,
                        Comparator::Gt => Comparator::Lt,
                        Comparator::Ge => Comparator::Le,
                        other => other,
                    };
                    (n, v, flipped)
                }
                (Side::Key(_), Side::Key(_)) => {
                    return Err(invalid_condition(
                        "Multiple attribute names used in one condition",
                    ))
                }
                (Side::Value(_), Side::Value(_)) => {
                    return Err(invalid_condition("No key attribute specified"))
                }
            };
            // No key type orders booleans, nulls or documents: an
            // operand-type error, named by the operator as written.
            if written != Comparator::Eq && v.scalar_type().is_none() {
                return Err(key_operand_type(written.as_str(), &v));
            }
            let cond = match op {
                Comparator::Eq => SortCondition::Eq(v),
                Comparator::Lt => SortCondition::Lt(v),
                Comparator::Le => SortCondition::Le(v),
                Comparator::Gt => SortCondition::Gt(v),
                Comparator::Ge => SortCondition::Ge(v),
                Comparator::Ne => return Err(unsupported_operator("<>")),
            };
            Ok((name, cond))
        }
        Condition::Between { value, low, high } => {
            let (name, mut v) = key_first("BETWEEN", value, vec![low, high])?;
            if let Some(bad) = v.iter().find(|x| x.scalar_type().is_none()) {
                return Err(key_operand_type("BETWEEN", bad));
            }
            let high = v.pop();
            match (v.pop(), high) {
                (Some(lo), Some(hi)) => Ok((name, SortCondition::Between(lo, hi))),
                _ => Err(invalid_condition("No key attribute specified")),
            }
        }
        Condition::BeginsWith(a, b) => {
            let (name, mut v) = key_first("begins_with", a, vec![b])?;
            let prefix = v
                .pop()
                .ok_or_else(|| invalid_condition("No key attribute specified"))?;
            if !matches!(prefix, AttributeValue::S(_) | AttributeValue::B(_)) {
                return Err(key_operand_type("begins_with", &prefix));
            }
            Ok((name, SortCondition::BeginsWith(prefix)))
        }
        Condition::Or(..) => Err(unsupported_operator("OR")),
        Condition::Not(_) => Err(unsupported_operator("NOT")),
        Condition::In { .. } => Err(unsupported_operator("IN")),
        Condition::AttributeExists(_) => Err(unsupported_operator("attribute_exists")),
        Condition::AttributeNotExists(_) => Err(unsupported_operator("attribute_not_exists")),
        Condition::AttributeType(..) => Err(unsupported_operator("attribute_type")),
        Condition::Contains(..) => Err(unsupported_operator("contains")),
        Condition::And(..) => Err(ApiError::validation("Query key condition not supported")),
    }
}

fn flatten_and(c: Condition, out: &mut Vec<Condition>) {
    match c {
        Condition::And(a, b) => {
            flatten_and(*a, out);
            flatten_and(*b, out);
        }
        other => out.push(other),
    }
}

/// Splits key-condition terms into the partition value and the sort-key
/// condition, checking them against the schema.
/// What a key condition asks of the key: the partition value (one per
/// partition key attribute), equalities on leading sort key attributes,
/// and a condition on the next one.
struct KeyQuery {
    partition: Vec<AttributeValue>,
    sort_prefix: Vec<AttributeValue>,
    sort: Option<SortCondition>,
}

fn missed(name: &str) -> ApiError {
    ApiError::validation(format!("Query condition missed key schema element: {name}"))
}

/// Splits key-condition terms into the partition value and the sort-key
/// conditions, checking them against the keys read by.
fn key_conditions(
    terms: Vec<(String, SortCondition)>,
    keys: &ReadKeys<'_>,
) -> Result<KeyQuery, ApiError> {
    if keys.range.is_empty() && terms.len() > keys.hash.len() {
        return Err(ApiError::validation("Query key condition not supported"));
    }
    // DynamoDB looks for the partition key first: a query without it names
    // the partition key, whatever else is wrong.
    if let Some(absent) = keys
        .hash
        .iter()
        .find(|h| !terms.iter().any(|(name, _)| name == *h))
    {
        return Err(missed(absent));
    }
    let mut hash: Vec<Option<SortCondition>> = vec![None; keys.hash.len()];
    let mut range: Vec<Option<SortCondition>> = vec![None; keys.range.len()];
    for (name, cond) in terms {
        check_key_values(&name, &cond)?;
        let slot = if let Some(i) = keys.hash.iter().position(|h| *h == name) {
            &mut hash[i]
        } else if let Some(i) = keys.range.iter().position(|r| *r == name) {
            &mut range[i]
        } else {
            // The element it names as missing: the sort key if there is
            // one, else the partition key.
            let missing = keys
                .range
                .last()
                .or(keys.hash.last())
                .copied()
                .unwrap_or("");
            return Err(missed(missing));
        };
        // Two conditions on one key were refused before the table lookup.
        *slot = Some(cond);
    }
    let partition = hash
        .into_iter()
        .map(|c| match c {
            Some(SortCondition::Eq(v)) => Ok(v),
            _ => Err(ApiError::validation("Query key condition not supported")),
        })
        .collect::<Result<Vec<_>, _>>()?;
    // Sort key attributes are constrained left to right: equalities, then
    // at most one other condition, and nothing after a gap.
    let mut sort_prefix = Vec::new();
    let mut sort = None;
    let mut gap = false;
    for cond in range {
        match cond {
            None => gap = true,
            // DynamoDB documents only its plain message for these.
            Some(_) if gap || sort.is_some() => {
                return Err(ApiError::validation("Query key condition not supported"))
            }
            Some(SortCondition::Eq(v)) => sort_prefix.push(v),
            Some(c) => sort = Some(c),
        }
    }
    // With only equalities, the last one is the condition.
    if sort.is_none() {
        sort = sort_prefix.pop().map(SortCondition::Eq);
    }
    Ok(KeyQuery {
        partition,
        sort_prefix,
        sort,
    })
}

/// Key values in conditions may not be empty strings or binaries.
fn check_key_values(name: &str, cond: &SortCondition) -> Result<(), ApiError> {
    let values = cond.values();
    for v in values {
        let kind = match v {
            AttributeValue::S(s) if s.is_empty() => "string",
            AttributeValue::B(b) if b.is_empty() => "binary",
            _ => continue,
        };
        return Err(ApiError::validation(format!(
            "One or more parameter values are not valid. The AttributeValue for a key attribute cannot contain an empty {kind} value. Key: {name}"
        )));
    }
    Ok(())
}

/// A Query's filter may not name key attributes of what it reads.
fn check_filter_keys(
    filter: &Condition,
    keys: &ReadKeys<'_>,
    parameter: &str,
) -> Result<(), ApiError> {
    let mut found = None;
    filter.for_each_path(&mut |p| {
        if let (None, Some(PathElement::Attr(n))) = (&found, p.elements.first()) {
            let n = n.as_str();
            if keys.is_key(n) {
                found = Some(n.to_owned());
            }
        }
    });
    match found {
        Some(name) => Err(ApiError::validation(format!(
            "{parameter} can only contain non-primary key attributes: Primary key attribute: {name}"
        ))),
        None => Ok(()),
    }
}

/// What Query and Scan share once their constraints have passed: the
/// placeholder maps, the start key, Select, and the resolved expressions,
/// in DynamoDB's order.
struct PreparedRead {
    start: Option<Item>,
    items_wanted: bool,
    resolved: Expressions,
}

fn prepare_read(
    params: &ReadParams<'_>,
    texts: &Texts<'_>,
    names: Option<BTreeMap<String, String>>,
    values: Option<WireItem>,
    exclusive_start_key: Option<WireItem>,
) -> Result<PreparedRead, ApiError> {
    let placeholders = Placeholders::new(names, values, texts)?;
    let start = exclusive_start_key.map(WireItem::into_item).transpose()?;
    let items_wanted = params.select_items()?;
    let resolved = placeholders.resolve(texts)?;
    Ok(PreparedRead {
        start,
        items_wanted,
        resolved,
    })
}

/// The filter: a FilterExpression, or the legacy QueryFilter/ScanFilter.
fn filter_of(
    expression: Option<Condition>,
    legacy_filter: Option<BTreeMap<String, FilterCondition>>,
    conditional_operator: Option<&str>,
) -> Result<Option<Condition>, ApiError> {
    match (expression, legacy_filter) {
        (Some(f), _) => Ok(Some(f)),
        (None, Some(f)) => legacy::filter(f, conditional_operator),
        (None, None) => Ok(None),
    }
}

pub(super) async fn query(app: &App, input: QueryInput) -> Result<Vec<u8>, ApiError> {
    let params = read_params!(input);
    let mut c = Constraints::default();
    params.constraints(&mut c);
    c.finish()?;
    // KeyConditions goes with FilterExpression and ProjectionExpression; it
    // is mixing only next to a KeyConditionExpression.
    check_mix(
        &[
            ("AttributesToGet", input.attributes_to_get.is_some()),
            ("QueryFilter", input.query_filter.is_some()),
            ("ConditionalOperator", input.conditional_operator.is_some()),
            (
                "KeyConditions",
                input.key_conditions.is_some() && input.key_condition_expression.is_some(),
            ),
        ],
        &[
            (
                "ProjectionExpression",
                input.projection_expression.is_some(),
            ),
            ("FilterExpression", input.filter_expression.is_some()),
            (
                "KeyConditionExpression",
                input.key_condition_expression.is_some(),
            ),
        ],
    )?;
    legacy::check_conditional_operator_use(
        input.conditional_operator.as_deref(),
        input.query_filter.as_ref().map(|f| f.len()),
    )?;
    let texts = Texts {
        projection: input.projection_expression.as_deref(),
        key_condition: input.key_condition_expression.as_deref(),
        filter: input.filter_expression.as_deref(),
        null_members: "FilterExpression and KeyConditionExpression are null",
        ..Texts::default()
    };
    let PreparedRead {
        start,
        items_wanted,
        resolved,
    } = prepare_read(
        &params,
        &texts,
        input.expression_attribute_names,
        input.expression_attribute_values,
        input.exclusive_start_key,
    )?;
    // The shape of the key condition is judged before the table is looked up.
    let terms = match (resolved.key_condition, input.key_conditions) {
        (Some(kc), _) => {
            let mut parts = Vec::new();
            flatten_and(kc, &mut parts);
            parts.into_iter().map(key_term).collect::<Result<Vec<_>, _>>()?
        }
        (None, Some(legacy)) => legacy::key_conditions(legacy)?,
        (None, None) => {
            return Err(ApiError::validation(
                "Either the KeyConditions or KeyConditionExpression parameter must be specified in the request.",
            ))
        }
    };
    let length_error = || ApiError::validation("Conditions can be of length 1 or 2 only");
    // A multi-attribute index key takes up to eight conditions; that is
    // judged once the index is known.
    if terms.is_empty() || (terms.len() > 2 && params.index_name.is_none()) {
        return Err(length_error());
    }
    let mut names: Vec<&str> = terms.iter().map(|(n, _)| n.as_str()).collect();
    names.sort_unstable();
    if names.windows(2).any(|w| w[0] == w[1]) {
        return Err(ApiError::validation(
            "KeyConditionExpressions must only contain one condition per key",
        ));
    }
    let filter_parameter = if resolved.filter.is_some() {
        "Filter Expression"
    } else {
        "QueryFilter"
    };
    let filter = filter_of(
        resolved.filter,
        input.query_filter,
        params.conditional_operator,
    )?;
    let table = params.table_name.unwrap_or_default().to_owned();
    let def = table_def(app, &table)?;
    let consistent = input.consistent_read.unwrap_or(false);
    let index = read_index(&def, params.index_name, params.select, consistent)?;
    let keys = ReadKeys::of(&def, index);
    if terms.len() > 2 && terms.len() > keys.hash.len() + keys.range.len() {
        return Err(length_error());
    }
    let key_query = key_conditions(terms, &keys)?;
    if let Some(f) = &filter {
        check_filter_keys(f, &keys, filter_parameter)?;
    }
    let projection = projection_of(resolved.projection, params.attributes_to_get)?;
    check_projected(&def, index, projection.as_ref())?;
    let fetch_items = fetches_items(
        &def,
        index,
        params.select,
        projection.as_ref(),
        filter.as_ref(),
    );
    let forward = input.scan_index_forward.unwrap_or(true);
    let limit = params.limit.map(|l| l as usize);
    let name = table.clone();
    let index_name = params.index_name.map(str::to_owned);
    let page = read(app, move |e| {
        e.query(
            &name,
            &QueryRequest {
                index: index_name.as_deref(),
                partition: &key_query.partition,
                sort_prefix: &key_query.sort_prefix,
                sort: key_query.sort.as_ref(),
                forward,
                page: PageOptions {
                    limit,
                    exclusive_start_key: start.as_ref(),
                    filter: filter.as_ref(),
                    fetch_items,
                    consistent,
                },
            },
        )
    })
    .map_err(data_plane)?;
    render_page(
        page,
        &params,
        &Rendering {
            projection: projection.as_ref(),
            items_wanted,
            index,
            fetched: fetch_items,
            key_schema: Some(&def.key_schema),
        },
    )
}

fn projection_of(
    expression: Option<Projection>,
    names: Option<&[String]>,
) -> Result<Option<Projection>, ApiError> {
    Ok(match (expression, names) {
        (Some(p), _) => Some(p),
        (None, Some(names)) => Some(legacy::attributes_to_get(names)?),
        (None, None) => None,
    })
}

pub(super) async fn scan(app: &App, input: ScanInput) -> Result<Vec<u8>, ApiError> {
    let params = read_params!(input);
    let mut c = Constraints::default();
    params.constraints(&mut c);
    if let Some(s) = input.segment {
        if s < 0 {
            c.violated(
                &s,
                "segment",
                "Member must have value greater than or equal to 0",
            );
        }
        if s > 999_999 {
            c.violated(
                &s,
                "segment",
                "Member must have value less than or equal to 999999",
            );
        }
    }
    if let Some(t) = input.total_segments {
        if t < 1 {
            c.violated(
                &t,
                "totalSegments",
                "Member must have value greater than or equal to 1",
            );
        }
        if t > 1_000_000 {
            c.violated(
                &t,
                "totalSegments",
                "Member must have value less than or equal to 1000000",
            );
        }
    }
    c.finish()?;
    let (segment, total_segments) = match (input.segment, input.total_segments) {
        (None, None) => (0, 1),
        (Some(_), None) => {
            return Err(ApiError::validation(
                "The TotalSegments parameter is required but was not present in the request when Segment parameter is present",
            ))
        }
        (None, Some(_)) => {
            return Err(ApiError::validation(
                "The Segment parameter is required but was not present in the request when parameter TotalSegments is present",
            ))
        }
        (Some(s), Some(t)) if s >= t => {
            return Err(ApiError::validation(format!(
                "The Segment parameter is zero-based and must be less than parameter TotalSegments: Segment: {s} is not less than TotalSegments: {t}"
            )))
        }
        (Some(s), Some(t)) => (s as u32, t as u32),
    };
    check_mix(
        &[
            ("AttributesToGet", input.attributes_to_get.is_some()),
            ("ScanFilter", input.scan_filter.is_some()),
            ("ConditionalOperator", input.conditional_operator.is_some()),
        ],
        &[
            (
                "ProjectionExpression",
                input.projection_expression.is_some(),
            ),
            ("FilterExpression", input.filter_expression.is_some()),
        ],
    )?;
    legacy::check_conditional_operator_use(
        input.conditional_operator.as_deref(),
        input.scan_filter.as_ref().map(|f| f.len()),
    )?;
    let texts = Texts {
        projection: input.projection_expression.as_deref(),
        filter: input.filter_expression.as_deref(),
        null_members: "FilterExpression is null",
        ..Texts::default()
    };
    let PreparedRead {
        start,
        items_wanted,
        resolved,
    } = prepare_read(
        &params,
        &texts,
        input.expression_attribute_names,
        input.expression_attribute_values,
        input.exclusive_start_key,
    )?;
    let filter = filter_of(
        resolved.filter,
        input.scan_filter,
        params.conditional_operator,
    )?;
    let projection = projection_of(resolved.projection, params.attributes_to_get)?;
    let limit = params.limit.map(|l| l as usize);
    let name = params.table_name.unwrap_or_default().to_owned();
    let consistent = input.consistent_read.unwrap_or(false);
    let def = match params.index_name {
        Some(_) => Some(table_def(app, &name)?),
        None => None,
    };
    let index = match &def {
        Some(def) => {
            let index = read_index(def, params.index_name, params.select, consistent)?;
            check_projected(def, index, projection.as_ref())?;
            index
        }
        None => None,
    };
    let fetch_items = match &def {
        Some(def) => fetches_items(
            def,
            index,
            params.select,
            projection.as_ref(),
            filter.as_ref(),
        ),
        None => false,
    };
    let index_name = params.index_name.map(str::to_owned);
    let page = read(app, move |e| {
        e.scan(
            &name,
            &ScanRequest {
                index: index_name.as_deref(),
                segment,
                total_segments,
                page: PageOptions {
                    limit,
                    exclusive_start_key: start.as_ref(),
                    filter: filter.as_ref(),
                    fetch_items,
                    consistent,
                },
            },
        )
    })
    .map_err(data_plane)?;
    render_page(
        page,
        &params,
        &Rendering {
            projection: projection.as_ref(),
            items_wanted,
            index,
            fetched: fetch_items,
            key_schema: def.as_ref().map(|d| &d.key_schema),
        },
    )
}
