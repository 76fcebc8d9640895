//! The expression members of a request: `ExpressionAttributeNames`,
//! `ExpressionAttributeValues`, and the expressions that use them, parsed and
//! resolved together so that unused placeholders are caught as DynamoDB
//! catches them.

use std::collections::BTreeMap;

use tarn_expr::ast::{Condition, Projection, Update};
use tarn_expr::parse::{parse_condition, parse_projection, parse_update};
use tarn_expr::resolve::Resolver;
use tarn_expr::{AttributeValue, ExprError, ExprKind};

use super::wire::{check_attribute_name, WireItem};
use crate::error::ApiError;

/// The placeholder maps of a request, validated.
pub(super) struct Placeholders {
    names: Option<BTreeMap<String, String>>,
    values: Option<BTreeMap<String, AttributeValue>>,
}

fn validation(e: ExprError) -> ApiError {
    ApiError::validation(e.message)
}

/// The expression texts a request carries.
#[derive(Default)]
pub(super) struct Texts<'a> {
    pub condition: Option<&'a str>,
    pub update: Option<&'a str>,
    pub projection: Option<&'a str>,
    pub key_condition: Option<&'a str>,
    pub filter: Option<&'a str>,
    /// How DynamoDB names the absent expressions that values would need,
    /// e.g. `ConditionExpression is null`.
    pub null_members: &'static str,
}

impl Texts<'_> {
    /// An expression that may use `ExpressionAttributeValues`: any but a
    /// projection, which names attributes only.
    fn any_with_values(&self) -> bool {
        self.condition.is_some()
            || self.update.is_some()
            || self.key_condition.is_some()
            || self.filter.is_some()
    }

    fn any(&self) -> bool {
        self.any_with_values() || self.projection.is_some()
    }
}

/// The parsed and resolved expressions of a request.
#[derive(Default)]
pub(super) struct Expressions {
    pub condition: Option<Condition>,
    pub update: Option<Update>,
    pub projection: Option<Projection>,
    pub key_condition: Option<Condition>,
    pub filter: Option<Condition>,
}

impl Placeholders {
    /// Validates the maps against the expressions the request uses.
    pub(super) fn new(
        names: Option<BTreeMap<String, String>>,
        values: Option<WireItem>,
        texts: &Texts<'_>,
    ) -> Result<Placeholders, ApiError> {
        if names.is_some() && !texts.any() {
            return Err(ApiError::validation(
                "ExpressionAttributeNames can only be specified when using expressions",
            ));
        }
        if values.is_some() && !texts.any_with_values() {
            return Err(ApiError::validation(format!(
                "ExpressionAttributeValues can only be specified when using expressions: {}",
                texts.null_members
            )));
        }
        for k in names.iter().flat_map(|m| m.keys()) {
            if !is_placeholder(k, '#') {
                return Err(ApiError::validation(format!(
                    "ExpressionAttributeNames contains invalid key: Syntax error; key: \"{k}\""
                )));
            }
        }
        for k in values.iter().flat_map(|m| m.0.keys()) {
            if !is_placeholder(k, ':') {
                return Err(ApiError::validation(format!(
                    "ExpressionAttributeValues contains invalid key: Syntax error; key: \"{k}\""
                )));
            }
        }
        if names.as_ref().is_some_and(BTreeMap::is_empty) {
            return Err(ApiError::validation(
                "ExpressionAttributeNames must not be empty",
            ));
        }
        for (k, name) in names.iter().flatten() {
            if let Err(msg) = check_attribute_name(name) {
                return Err(ApiError::validation(format!(
                    "ExpressionAttributeNames contains invalid value: {msg} for key {k}"
                )));
            }
        }
        let values = match values {
            None => None,
            Some(v) if v.0.is_empty() => {
                return Err(ApiError::validation(
                    "ExpressionAttributeValues must not be empty",
                ))
            }
            Some(v) => {
                let mut out = BTreeMap::new();
                for (k, value) in v.0 {
                    match value.0 {
                        Ok(value) => {
                            out.insert(k, value);
                        }
                        Err(msg) => {
                            return Err(ApiError::validation(format!(
                            "ExpressionAttributeValues contains invalid value: {msg} for key {k}"
                        )))
                        }
                    }
                }
                Some(out)
            }
        };
        Ok(Placeholders { names, values })
    }

    /// Parses every expression (syntax first, as DynamoDB reports syntax
    /// errors before anything else), then resolves them and reports unused
    /// placeholders.
    pub(super) fn resolve(&self, texts: &Texts<'_>) -> Result<Expressions, ApiError> {
        let condition = |text: Option<&str>, kind| {
            text.map(|t| parse_condition(t, kind))
                .transpose()
                .map_err(validation)
        };
        let mut out = Expressions {
            condition: condition(texts.condition, ExprKind::Condition)?,
            update: texts
                .update
                .map(parse_update)
                .transpose()
                .map_err(validation)?,
            projection: texts
                .projection
                .map(parse_projection)
                .transpose()
                .map_err(validation)?,
            key_condition: condition(texts.key_condition, ExprKind::KeyCondition)?,
            filter: condition(texts.filter, ExprKind::Filter)?,
        };
        let mut resolver = Resolver::new(self.names.as_ref(), self.values.as_ref());
        if let Some(u) = &mut out.update {
            resolver.update(u).map_err(validation)?;
        }
        for (kind, c) in [
            (ExprKind::Condition, &mut out.condition),
            (ExprKind::KeyCondition, &mut out.key_condition),
            (ExprKind::Filter, &mut out.filter),
        ] {
            if let Some(c) = c {
                resolver.condition(kind, c).map_err(validation)?;
            }
        }
        if let Some(p) = &mut out.projection {
            resolver.projection(p).map_err(validation)?;
        }
        resolver.finish().map_err(validation)?;
        Ok(out)
    }
}

/// `#name` / `:value`: the sigil, then one or more of `[0-9A-Za-z_]`.
fn is_placeholder(key: &str, sigil: char) -> bool {
    key.strip_prefix(sigil).is_some_and(|rest| {
        !rest.is_empty() && rest.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
    })
}

/// Refuses a request that mixes legacy parameters with expressions.
pub(super) fn check_mix(
    legacy: &[(&str, bool)],
    expressions: &[(&str, bool)],
) -> Result<(), ApiError> {
    let used = |list: &[(&str, bool)]| -> Vec<String> {
        list.iter()
            .filter(|(_, present)| *present)
            .map(|(n, _)| (*n).to_owned())
            .collect()
    };
    let (old, new) = (used(legacy), used(expressions));
    if !old.is_empty() && !new.is_empty() {
        return Err(ApiError::validation(format!(
            "Can not use both expression and non-expression parameters in the same request: Non-expression parameters: {{{}}} Expression parameters: {{{}}}",
            old.join(", "),
            new.join(", ")
        )));
    }
    Ok(())
}
