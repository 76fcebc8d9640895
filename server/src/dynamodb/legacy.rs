//! The legacy conditional parameters, lowered to expression trees:
//! `Expected` + `ConditionalOperator` to a condition, `AttributeUpdates` to an
//! update, `AttributesToGet` to a projection. The trees come out resolved:
//! legacy parameters name attributes directly.

use std::collections::BTreeMap;

use serde::Deserialize;
use tarn_expr::ast::{
    Comparator, Condition, Name, Operand, Path, PathElement, Projection, SetOperand, SetValue,
    Update, UpdateAction, ValueRef,
};
use tarn_expr::AttributeValue;

use super::wire::{check_attribute_name, WireValue};
use crate::error::{ApiError, Constraints};

// Structures in a request reject a JSON array, as DynamoDB does.
map_only!(
    ExpectedAttributeValue,
    AttributeValueUpdate,
    FilterCondition
);

/// One entry of `Expected`.
#[derive(Deserialize)]
#[serde(remote = "Self", rename_all = "PascalCase")]
pub(super) struct ExpectedAttributeValue {
    value: Option<WireValue>,
    exists: Option<bool>,
    comparison_operator: Option<String>,
    attribute_value_list: Option<Vec<WireValue>>,
}

/// One entry of `AttributeUpdates`.
#[derive(Deserialize)]
#[serde(remote = "Self", rename_all = "PascalCase")]
pub(super) struct AttributeValueUpdate {
    value: Option<WireValue>,
    action: Option<String>,
}

const OPERATORS: &str =
    "[EQ, NE, IN, LE, LT, GE, GT, BETWEEN, NOT_NULL, NULL, CONTAINS, NOT_CONTAINS, BEGINS_WITH]";

fn invalid(detail: impl std::fmt::Display) -> ApiError {
    ApiError::validation(format!(
        "One or more parameter values were invalid: {detail}"
    ))
}

fn top(name: &str) -> Path {
    Path {
        elements: vec![PathElement::Attr(Name::Resolved(name.to_owned()))],
    }
}

fn value(v: AttributeValue) -> Operand {
    Operand::Value(ValueRef::Resolved(v))
}

fn take(v: WireValue) -> Result<AttributeValue, ApiError> {
    v.0.map_err(ApiError::validation)
}

/// An attribute a legacy parameter names.
fn name_ok(name: &str) -> Result<(), ApiError> {
    check_attribute_name(name).map_err(ApiError::validation)
}

/// Checks `ConditionalOperator`'s enum; `expected_used` says whether the
/// request has a parameter it could apply to.
pub(super) fn check_conditional_operator(c: &mut Constraints, op: Option<&str>) {
    if let Some(op) = op {
        c.one_of(op, "conditionalOperator", "[OR, AND]");
    }
}

/// DynamoDB takes `ConditionalOperator` only beside an `Expected`,
/// `QueryFilter` or `ScanFilter` of two or more conditions; `conditions` is
/// how many that member holds (`None` when it is absent). Checked right
/// after the legacy/expression mix (`docs/research/expression-errors.md`).
pub(super) fn check_conditional_operator_use(
    op: Option<&str>,
    conditions: Option<usize>,
) -> Result<(), ApiError> {
    match (op, conditions.unwrap_or(0)) {
        (None, _) => Ok(()),
        (Some(_), 0) => Err(ApiError::validation(
            "ConditionalOperator cannot be used without Filter or Expected",
        )),
        (Some(_), 1) => Err(ApiError::validation(
            "ConditionalOperator can only be used when Filter or Expected has two or more elements",
        )),
        _ => Ok(()),
    }
}

/// Lowers `Expected` (and `ConditionalOperator`) to a condition.
pub(super) fn expected(
    expected: BTreeMap<String, ExpectedAttributeValue>,
    conditional_operator: Option<&str>,
) -> Result<Option<Condition>, ApiError> {
    let mut conditions = Vec::with_capacity(expected.len());
    for (name, e) in expected {
        name_ok(&name)?;
        conditions.push(expected_one(&name, e)?);
    }
    let or = conditional_operator == Some("OR");
    Ok(conditions.into_iter().reduce(|a, b| {
        if or {
            Condition::Or(Box::new(a), Box::new(b))
        } else {
            Condition::And(Box::new(a), Box::new(b))
        }
    }))
}

fn expected_one(name: &str, e: ExpectedAttributeValue) -> Result<Condition, ApiError> {
    let path = top(name);
    let value = e.value.map(take).transpose()?;
    if let Some(op) = e.comparison_operator {
        if e.exists.is_some() {
            return Err(invalid(format!(
                "Exists and ComparisonOperator cannot be used together for Attribute: {name}"
            )));
        }
        let args = match (value, e.attribute_value_list) {
            (Some(_), Some(_)) => {
                return Err(invalid(format!("Value and AttributeValueList cannot be used together for Attribute: {name}")))
            }
            // A Value counts as the operator's one argument.
            (Some(v), None) => vec![v],
            (None, Some(list)) => list.into_iter().map(take).collect::<Result<Vec<_>, _>>()?,
            (None, None) if op == "NULL" || op == "NOT_NULL" => Vec::new(),
            (None, None) => {
                return Err(invalid(format!(
                    "Value or AttributeValueList must be used with ComparisonOperator: {op} for Attribute: {name}"
                )))
            }
        };
        return comparison(&op, path, args);
    }
    if e.attribute_value_list.is_some() {
        return Err(invalid(format!(
            "AttributeValueList can only be used with a ComparisonOperator for Attribute: {name}"
        )));
    }
    match (value, e.exists) {
        (Some(v), None | Some(true)) => Ok(Condition::Compare {
            left: Operand::Path(path),
            op: Comparator::Eq,
            right: self::value(v),
        }),
        (Some(_), Some(false)) => Err(invalid(format!(
            "Value cannot be used when Exists is false for Attribute: {name}"
        ))),
        (None, Some(false)) => Ok(Condition::AttributeNotExists(path)),
        (None, Some(true)) => Err(invalid(format!(
            "Value must be provided when Exists is true for Attribute: {name}"
        ))),
        (None, None) => Err(invalid(format!(
            "Value must be provided when Exists is null for Attribute: {name}"
        ))),
    }
}

/// The condition for one legacy comparison operator.
pub(super) fn comparison(
    op: &str,
    path: Path,
    args: Vec<AttributeValue>,
) -> Result<Condition, ApiError> {
    let count_ok = match op {
        "EQ" | "NE" | "LE" | "LT" | "GE" | "GT" | "CONTAINS" | "NOT_CONTAINS" | "BEGINS_WITH" => {
            args.len() == 1
        }
        "NOT_NULL" | "NULL" => args.is_empty(),
        "IN" => !args.is_empty(),
        "BETWEEN" => args.len() == 2,
        _ => {
            let mut c = Constraints::default();
            c.one_of(op, "comparisonOperator", OPERATORS);
            c.finish()?;
            false
        }
    };
    if !count_ok {
        return Err(invalid(format!(
            "Invalid number of argument(s) for the {op} ComparisonOperator"
        )));
    }
    // Ordering and matching operators take scalars only.
    let scalar_only = !matches!(op, "EQ" | "NE" | "NOT_NULL" | "NULL");
    for a in &args {
        let ok = match op {
            "BEGINS_WITH" => matches!(a, AttributeValue::S(_) | AttributeValue::B(_)),
            _ if scalar_only => a.scalar_type().is_some(),
            _ => true,
        };
        if !ok {
            return Err(invalid(format!(
                "ComparisonOperator {op} is not valid for {} AttributeValue type",
                a.type_name()
            )));
        }
    }
    if matches!(op, "IN" | "BETWEEN")
        && args
            .windows(2)
            .any(|w| w[0].type_name() != w[1].type_name())
    {
        return Err(invalid(
            "AttributeValues inside AttributeValueList must be of same type",
        ));
    }
    if op == "BETWEEN"
        && tarn_expr::eval::scalar_cmp(&args[0], &args[1]) == Some(std::cmp::Ordering::Greater)
    {
        return Err(ApiError::validation(
            "The BETWEEN condition was provided a range where the lower bound is greater than the upper bound",
        ));
    }
    let mut args = args.into_iter().map(value);
    let mut next = || args.next().ok_or_else(|| invalid("missing argument"));
    let cmp = |op, right| Condition::Compare {
        left: Operand::Path(path.clone()),
        op,
        right,
    };
    Ok(match op {
        "EQ" => cmp(Comparator::Eq, next()?),
        "NE" => cmp(Comparator::Ne, next()?),
        "LE" => cmp(Comparator::Le, next()?),
        "LT" => cmp(Comparator::Lt, next()?),
        "GE" => cmp(Comparator::Ge, next()?),
        "GT" => cmp(Comparator::Gt, next()?),
        "NOT_NULL" => Condition::AttributeExists(path),
        "NULL" => Condition::AttributeNotExists(path),
        "CONTAINS" => Condition::Contains(Operand::Path(path), next()?),
        // False on a missing attribute, as DynamoDB answers it.
        "NOT_CONTAINS" => Condition::And(
            Box::new(Condition::AttributeExists(path.clone())),
            Box::new(Condition::Not(Box::new(Condition::Contains(
                Operand::Path(path),
                next()?,
            )))),
        ),
        "BEGINS_WITH" => Condition::BeginsWith(Operand::Path(path), next()?),
        "BETWEEN" => {
            let (low, high) = (next()?, next()?);
            Condition::Between {
                value: Operand::Path(path),
                low,
                high,
            }
        }
        // "IN": the count was checked above.
        _ => Condition::In {
            value: Operand::Path(path),
            list: args.collect(),
        },
    })
}

/// Lowers `AttributeUpdates` to an update. (The engine refuses updates of
/// key attributes, with the message the legacy API uses too.)
pub(super) fn attribute_updates(
    updates: BTreeMap<String, AttributeValueUpdate>,
) -> Result<Update, ApiError> {
    let mut c = Constraints::default();
    for (name, u) in &updates {
        if let Some(a) = &u.action {
            c.one_of(
                a,
                &format!("attributeUpdates.{name}.member.action"),
                "[ADD, PUT, DELETE]",
            );
        }
    }
    c.finish()?;
    let mut actions = Vec::with_capacity(updates.len());
    for (name, u) in updates {
        name_ok(&name)?;
        let path = top(&name);
        let action = u.action.as_deref().unwrap_or("PUT");
        let v = u.value.map(take).transpose()?;
        actions.push(match (action, v) {
            ("PUT", Some(v)) => UpdateAction::Set(
                path,
                SetValue::Operand(SetOperand::Value(ValueRef::Resolved(v))),
            ),
            ("DELETE", None) => UpdateAction::Remove(path),
            (_, None) => {
                return Err(invalid(
                    "Only DELETE action is allowed when no attribute value is specified",
                ))
            }
            ("DELETE", Some(v)) => match v {
                AttributeValue::Ss(_) | AttributeValue::Ns(_) | AttributeValue::Bs(_) => {
                    UpdateAction::Delete(path, ValueRef::Resolved(v))
                }
                other => {
                    return Err(invalid(format!(
                        "DELETE action with value is not supported for the type {}",
                        other.type_name()
                    )))
                }
            },
            (_, Some(v)) => match v {
                AttributeValue::N(_)
                | AttributeValue::Ss(_)
                | AttributeValue::Ns(_)
                | AttributeValue::Bs(_) => UpdateAction::Add(path, ValueRef::Resolved(v)),
                // Legacy ADD appends to a list (creating it if missing).
                AttributeValue::L(_) => UpdateAction::Set(
                    path.clone(),
                    SetValue::Operand(SetOperand::ListAppend(
                        Box::new(SetOperand::IfNotExists(
                            path,
                            Box::new(SetOperand::Value(ValueRef::Resolved(AttributeValue::L(
                                vec![],
                            )))),
                        )),
                        Box::new(SetOperand::Value(ValueRef::Resolved(v))),
                    )),
                ),
                other => {
                    return Err(invalid(format!(
                        "ADD action is not supported for the type {}",
                        other.type_name()
                    )))
                }
            },
        });
    }
    Ok(Update { actions })
}

/// Lowers `AttributesToGet` to a projection, refusing duplicates.
pub(super) fn attributes_to_get(names: &[String]) -> Result<Projection, ApiError> {
    for (i, n) in names.iter().enumerate() {
        name_ok(n)?;
        if names[..i].contains(n) {
            return Err(invalid(format!("Duplicate value in attribute name: {n}")));
        }
    }
    Ok(Projection {
        paths: names.iter().map(|n| top(n)).collect(),
    })
}

/// One entry of `KeyConditions`, `QueryFilter` or `ScanFilter`.
#[derive(Deserialize)]
#[serde(remote = "Self", rename_all = "PascalCase")]
pub(super) struct FilterCondition {
    comparison_operator: Option<String>,
    attribute_value_list: Option<Vec<WireValue>>,
}

impl FilterCondition {
    fn operator_and_args(self, name: &str) -> Result<(String, Vec<AttributeValue>), ApiError> {
        let Some(op) = self.comparison_operator else {
            let mut c = Constraints::default();
            c.null(&format!("{name}.member.comparisonOperator"));
            c.finish()?;
            return Err(invalid("missing ComparisonOperator"));
        };
        let args = self
            .attribute_value_list
            .unwrap_or_default()
            .into_iter()
            .map(take)
            .collect::<Result<Vec<_>, _>>()?;
        Ok((op, args))
    }
}

/// Lowers `QueryFilter` / `ScanFilter` (and `ConditionalOperator`) to a
/// condition.
pub(super) fn filter(
    conditions: BTreeMap<String, FilterCondition>,
    conditional_operator: Option<&str>,
) -> Result<Option<Condition>, ApiError> {
    let mut out = Vec::with_capacity(conditions.len());
    for (name, c) in conditions {
        name_ok(&name)?;
        let (op, args) = c.operator_and_args(&name)?;
        out.push(comparison(&op, top(&name), args)?);
    }
    let or = conditional_operator == Some("OR");
    Ok(out.into_iter().reduce(|a, b| {
        if or {
            Condition::Or(Box::new(a), Box::new(b))
        } else {
            Condition::And(Box::new(a), Box::new(b))
        }
    }))
}

/// Lowers `KeyConditions` to (attribute, condition) terms.
pub(super) fn key_conditions(
    conditions: BTreeMap<String, FilterCondition>,
) -> Result<Vec<(String, tarn_engine::SortCondition)>, ApiError> {
    use tarn_engine::SortCondition as S;
    let mut out = Vec::with_capacity(conditions.len());
    for (name, c) in conditions {
        name_ok(&name)?;
        let (op, args) = c.operator_and_args(&name)?;
        // Checks the operator's name and argument count and types.
        comparison(&op, top(&name), args.clone())?;
        let mut args = args.into_iter();
        let mut next = || args.next().ok_or_else(|| invalid("missing argument"));
        let cond = match op.as_str() {
            "EQ" => S::Eq(next()?),
            "LE" => S::Le(next()?),
            "LT" => S::Lt(next()?),
            "GE" => S::Ge(next()?),
            "GT" => S::Gt(next()?),
            "BEGINS_WITH" => S::BeginsWith(next()?),
            "BETWEEN" => {
                let lo = next()?;
                S::Between(lo, next()?)
            }
            _ => {
                return Err(ApiError::validation(
                    "Attempted conditional constraint is not an indexable operation",
                ))
            }
        };
        out.push((name, cond));
    }
    Ok(out)
}
