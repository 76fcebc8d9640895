//! Resolution of placeholders and the checks DynamoDB makes before it
//! evaluates anything.
//!
//! A [`Resolver`] is made per request from its `ExpressionAttributeNames`
//! and `ExpressionAttributeValues`; each expression of the request is
//! resolved through it in place, and [`Resolver::finish`] then reports
//! placeholders that no expression used, as DynamoDB does.

use std::collections::{BTreeMap, BTreeSet};

use crate::ast::{
    Comparator, Condition, Name, Operand, Path, PathElement, Projection, SetOperand, SetValue,
    Update, UpdateAction, ValueRef,
};
use crate::{reserved, AttributeValue, ExprError, ExprKind};

/// Type names `attribute_type` accepts.
const TYPE_NAMES: [&str; 10] = ["S", "SS", "N", "NS", "B", "BS", "BOOL", "NULL", "L", "M"];

/// Resolves the expressions of one request.
pub struct Resolver<'a> {
    names: Option<&'a BTreeMap<String, String>>,
    values: Option<&'a BTreeMap<String, AttributeValue>>,
    used_names: BTreeSet<String>,
    used_values: BTreeSet<String>,
}

/// How DynamoDB spells a type in operand-type messages.
pub fn type_word(v: &AttributeValue) -> &'static str {
    match v {
        AttributeValue::S(_) => "STRING",
        AttributeValue::N(_) => "NUMBER",
        AttributeValue::B(_) => "BINARY",
        AttributeValue::Bool(_) => "BOOLEAN",
        AttributeValue::Null => "NULL",
        AttributeValue::M(_) => "MAP",
        AttributeValue::L(_) => "LIST",
        AttributeValue::Ss(_) => "SS",
        AttributeValue::Ns(_) => "NS",
        AttributeValue::Bs(_) => "BS",
    }
}

/// Renders a path as DynamoDB does in its messages: `[a, b, [2]]`.
pub fn render_path(p: &Path) -> String {
    let parts: Vec<String> = p
        .elements
        .iter()
        .map(|e| match e {
            PathElement::Attr(n) => n.as_str().to_owned(),
            PathElement::Index(i) => format!("[{i}]"),
        })
        .collect();
    format!("[{}]", parts.join(", "))
}

impl<'a> Resolver<'a> {
    /// A resolver over the request's placeholder maps.
    pub fn new(
        names: Option<&'a BTreeMap<String, String>>,
        values: Option<&'a BTreeMap<String, AttributeValue>>,
    ) -> Self {
        Resolver {
            names,
            values,
            used_names: BTreeSet::new(),
            used_values: BTreeSet::new(),
        }
    }

    fn name(&mut self, kind: ExprKind, name: &mut Name) -> Result<(), ExprError> {
        match name {
            Name::Literal(s) => {
                if reserved::is_reserved(s) {
                    return Err(ExprError::invalid(
                        kind,
                        format!("Attribute name is a reserved keyword; reserved keyword: {s}"),
                    ));
                }
                *name = Name::Resolved(std::mem::take(s));
            }
            Name::Placeholder(p) => {
                let Some(actual) = self.names.and_then(|m| m.get(p.as_str())) else {
                    return Err(ExprError::invalid(
                        kind,
                        format!("An expression attribute name used in the document path is not defined; attribute name: {p}"),
                    ));
                };
                self.used_names.insert(p.clone());
                *name = Name::Resolved(actual.clone());
            }
            Name::Resolved(_) => {}
        }
        Ok(())
    }

    fn path(&mut self, kind: ExprKind, path: &mut Path) -> Result<(), ExprError> {
        for el in &mut path.elements {
            if let PathElement::Attr(n) = el {
                self.name(kind, n)?;
            }
        }
        Ok(())
    }

    fn value(&mut self, kind: ExprKind, v: &mut ValueRef) -> Result<(), ExprError> {
        if let ValueRef::Placeholder(p) = v {
            let Some(actual) = self.values.and_then(|m| m.get(p.as_str())) else {
                return Err(ExprError::invalid(
                    kind,
                    format!("An expression attribute value used in expression is not defined; attribute value: {p}"),
                ));
            };
            self.used_values.insert(p.clone());
            *v = ValueRef::Resolved(actual.clone());
        }
        Ok(())
    }

    fn operand(&mut self, kind: ExprKind, op: &mut Operand) -> Result<(), ExprError> {
        match op {
            Operand::Path(p) | Operand::Size(p) => self.path(kind, p),
            Operand::Value(v) => self.value(kind, v),
            Operand::ValueSize(v) => {
                self.value(kind, v)?;
                let ValueRef::Resolved(value) = v else {
                    return Ok(());
                };
                // DynamoDB sizes constants too; only the types without a
                // size are an error (on an item they are just false).
                let Some(n) = crate::eval::size_of(value) else {
                    return Err(incorrect_operand(kind, "size", value.type_name()));
                };
                // The size of a constant is a constant. A key condition
                // keeps the call, which it refuses as a nested operation.
                if kind != ExprKind::KeyCondition {
                    *op = Operand::Value(ValueRef::Resolved(AttributeValue::N(
                        crate::Number::from_i64(n as i64),
                    )));
                }
                Ok(())
            }
        }
    }

    /// Resolves a condition (ConditionExpression, FilterExpression or
    /// KeyConditionExpression) and checks its constant operands.
    pub fn condition(&mut self, kind: ExprKind, c: &mut Condition) -> Result<(), ExprError> {
        match c {
            Condition::Compare { left, op, right } => {
                self.operand(kind, left)?;
                self.operand(kind, right)?;
                check_distinct(kind, op.as_str(), left, right)?;
                if matches!(op, Comparator::Eq | Comparator::Ne) {
                    // Any two values may be compared for equality.
                    return Ok(());
                }
                check_ordered(kind, op.as_str(), &[left, right])?;
                if let (Some(l), Some(r)) = (constant(left), constant(right)) {
                    if l.type_name() != r.type_name() {
                        return Err(incorrect_operand(kind, op.as_str(), r.type_name()));
                    }
                }
                Ok(())
            }
            Condition::Between { value, low, high } => {
                self.operand(kind, value)?;
                self.operand(kind, low)?;
                self.operand(kind, high)?;
                check_ordered(kind, "BETWEEN", &[value, low, high])?;
                check_between(kind, low, high)
            }
            Condition::In { value, list } => {
                self.operand(kind, value)?;
                list.iter_mut().try_for_each(|o| self.operand(kind, o))
            }
            Condition::And(a, b) | Condition::Or(a, b) => {
                self.condition(kind, a)?;
                self.condition(kind, b)
            }
            Condition::Not(a) => self.condition(kind, a),
            Condition::AttributeExists(p) | Condition::AttributeNotExists(p) => self.path(kind, p),
            Condition::AttributeType(a, t) => {
                self.operand(kind, a)?;
                self.operand(kind, t)?;
                check_type_operand(kind, t)
            }
            Condition::BeginsWith(a, b) => {
                self.operand(kind, a)?;
                self.operand(kind, b)?;
                check_distinct(kind, "begins_with", a, b)?;
                check_operand_types(kind, "begins_with", &[a, b], &["S", "B"])
            }
            Condition::Contains(a, b) => {
                self.operand(kind, a)?;
                self.operand(kind, b)?;
                check_distinct(kind, "contains", a, b)
            }
        }
    }

    fn set_operand(&mut self, op: &mut SetOperand) -> Result<(), ExprError> {
        let kind = ExprKind::Update;
        match op {
            SetOperand::Path(p) => self.path(kind, p),
            SetOperand::Value(v) => self.value(kind, v),
            SetOperand::IfNotExists(p, fallback) => {
                self.path(kind, p)?;
                self.set_operand(fallback)
            }
            SetOperand::ListAppend(a, b) => {
                self.set_operand(a)?;
                self.set_operand(b)?;
                for o in [&**a, &**b] {
                    if let SetOperand::Value(ValueRef::Resolved(v)) = o {
                        if !matches!(v, AttributeValue::L(_)) {
                            return Err(incorrect_operand(kind, "list_append", v.type_name()));
                        }
                    }
                }
                Ok(())
            }
        }
    }

    /// Resolves an update expression and checks its constant operands and
    /// paths.
    pub fn update(&mut self, u: &mut Update) -> Result<(), ExprError> {
        let kind = ExprKind::Update;
        for action in &mut u.actions {
            match action {
                UpdateAction::Set(p, v) => {
                    self.path(kind, p)?;
                    let (operands, arith): (Vec<&mut SetOperand>, Option<&str>) = match v {
                        SetValue::Operand(o) => (vec![o], None),
                        SetValue::Plus(a, b) => (vec![a, b], Some("+")),
                        SetValue::Minus(a, b) => (vec![a, b], Some("-")),
                    };
                    for o in operands {
                        self.set_operand(o)?;
                        if let (Some(op), SetOperand::Value(ValueRef::Resolved(v))) = (arith, &*o) {
                            if !matches!(v, AttributeValue::N(_)) {
                                return Err(incorrect_operand(kind, op, v.type_name()));
                            }
                        }
                    }
                }
                UpdateAction::Remove(p) => self.path(kind, p)?,
                UpdateAction::Add(p, v) => {
                    self.path(kind, p)?;
                    self.value(kind, v)?;
                    if let ValueRef::Resolved(val) = v {
                        if !matches!(
                            val,
                            AttributeValue::N(_)
                                | AttributeValue::Ss(_)
                                | AttributeValue::Ns(_)
                                | AttributeValue::Bs(_)
                        ) {
                            return Err(ExprError::invalid(
                                kind,
                                format!("Incorrect operand type for operator or function; operator: ADD, operand type: {}", type_word(val)),
                            ));
                        }
                    }
                }
                UpdateAction::Delete(p, v) => {
                    self.path(kind, p)?;
                    self.value(kind, v)?;
                    if let ValueRef::Resolved(val) = v {
                        if !matches!(
                            val,
                            AttributeValue::Ss(_) | AttributeValue::Ns(_) | AttributeValue::Bs(_)
                        ) {
                            return Err(ExprError::invalid(
                                kind,
                                format!("Incorrect operand type for operator or function; operator: DELETE, operand type: {}", type_word(val)),
                            ));
                        }
                    }
                }
            }
        }
        let paths: Vec<&Path> = u
            .actions
            .iter()
            .map(|a| match a {
                UpdateAction::Set(p, _)
                | UpdateAction::Remove(p)
                | UpdateAction::Add(p, _)
                | UpdateAction::Delete(p, _) => p,
            })
            .collect();
        check_paths(kind, &paths)
    }

    /// Resolves a projection and checks that its paths do not overlap.
    pub fn projection(&mut self, p: &mut Projection) -> Result<(), ExprError> {
        let kind = ExprKind::Projection;
        for path in &mut p.paths {
            self.path(kind, path)?;
        }
        let paths: Vec<&Path> = p.paths.iter().collect();
        check_paths(kind, &paths)
    }

    /// Reports placeholders the request defined but no expression used.
    pub fn finish(self) -> Result<(), ExprError> {
        let unused = |defined: Vec<&String>, used: &BTreeSet<String>| -> Vec<String> {
            defined
                .into_iter()
                .filter(|k| !used.contains(*k))
                .cloned()
                .collect()
        };
        if let Some(names) = self.names {
            let u = unused(names.keys().collect(), &self.used_names);
            if !u.is_empty() {
                return Err(ExprError::other(format!(
                    "Value provided in ExpressionAttributeNames unused in expressions: keys: {{{}}}",
                    u.join(", ")
                )));
            }
        }
        if let Some(values) = self.values {
            let u = unused(values.keys().collect(), &self.used_values);
            if !u.is_empty() {
                return Err(ExprError::other(format!(
                    "Value provided in ExpressionAttributeValues unused in expressions: keys: {{{}}}",
                    u.join(", ")
                )));
            }
        }
        Ok(())
    }
}

fn incorrect_operand(kind: ExprKind, function: &str, type_name: &str) -> ExprError {
    ExprError::invalid(
        kind,
        format!("Incorrect operand type for operator or function; operator or function: {function}, operand type: {type_name}"),
    )
}

/// DynamoDB refuses an operator whose first operand is the same path as
/// another: `a = a` can only ever have one answer.
fn check_distinct(
    kind: ExprKind,
    operator: &str,
    first: &Operand,
    other: &Operand,
) -> Result<(), ExprError> {
    if let (Operand::Path(a), Operand::Path(b)) = (first, other) {
        if a == b {
            return Err(ExprError::invalid(
                kind,
                format!(
                    "The first operand must be distinct from the remaining operands for this operator or function; operator: {operator}, first operand: {}",
                    render_path(a)
                ),
            ));
        }
    }
    Ok(())
}

fn constant(o: &Operand) -> Option<&AttributeValue> {
    match o {
        Operand::Value(ValueRef::Resolved(v)) => Some(v),
        _ => None,
    }
}

/// The ordering operators (`<`, `<=`, `>`, `>=`, BETWEEN) take numbers,
/// strings and binaries. A constant of another type is an error (one read
/// from the item just makes the comparison false).
fn check_ordered(kind: ExprKind, operator: &str, ops: &[&Operand]) -> Result<(), ExprError> {
    for o in ops {
        if let Some(v) = constant(o) {
            if v.scalar_type().is_none() {
                return Err(incorrect_operand(kind, operator, v.type_name()));
            }
        }
    }
    Ok(())
}

fn check_operand_types(
    kind: ExprKind,
    function: &str,
    ops: &[&Operand],
    allowed: &[&str],
) -> Result<(), ExprError> {
    for o in ops {
        if let Some(v) = constant(o) {
            if !allowed.contains(&v.type_name()) {
                return Err(incorrect_operand(kind, function, v.type_name()));
            }
        }
    }
    Ok(())
}

fn check_type_operand(kind: ExprKind, t: &Operand) -> Result<(), ExprError> {
    let Some(v) = constant(t) else { return Ok(()) };
    let AttributeValue::S(name) = v else {
        return Err(incorrect_operand(kind, "attribute_type", v.type_name()));
    };
    if !TYPE_NAMES.contains(&name.as_str()) {
        return Err(ExprError::invalid(
            kind,
            format!("Invalid attribute type name found; type: {name}, valid types: {{B,NULL,SS,BOOL,L,BS,N,NS,S,M}}"),
        ));
    }
    Ok(())
}

/// DynamoDB renders values in messages as `AttributeValue: {N:5}`.
fn render_value(v: &AttributeValue) -> String {
    let inner = match v {
        AttributeValue::S(s) => s.clone(),
        AttributeValue::N(n) => n.to_string(),
        other => format!("{other:?}"),
    };
    format!("AttributeValue: {{{}:{inner}}}", v.type_name())
}

fn check_between(kind: ExprKind, low: &Operand, high: &Operand) -> Result<(), ExprError> {
    if let (Some(lo), Some(hi)) = (constant(low), constant(high)) {
        if lo.type_name() != hi.type_name() {
            return Err(ExprError::invalid(
                kind,
                format!(
                    "The BETWEEN operator requires same data type for lower and upper bounds; lower bound operand: {}, upper bound operand: {}",
                    render_value(lo),
                    render_value(hi)
                ),
            ));
        }
        if crate::eval::scalar_cmp(lo, hi) == Some(std::cmp::Ordering::Greater) {
            return Err(ExprError::invalid(
                kind,
                format!(
                    "The BETWEEN operator requires upper bound to be greater than or equal to lower bound; lower bound operand: {}, upper bound operand: {}",
                    render_value(lo),
                    render_value(hi)
                ),
            ));
        }
    }
    Ok(())
}

/// Two paths overlap when one is a prefix of the other (or they are equal);
/// they conflict when they agree up to a step where one indexes a list and
/// the other names a map entry.
fn check_paths(kind: ExprKind, paths: &[&Path]) -> Result<(), ExprError> {
    // Every pair is checked for an overlap before any for a conflict: that
    // is the order in which DynamoDB reports them.
    for conflicts in [false, true] {
        for (i, a) in paths.iter().enumerate() {
            for b in &paths[..i] {
                if path_relation(b, a) == Some(conflicts) {
                    let what = if conflicts { "conflict" } else { "overlap" };
                    return Err(ExprError::invalid(
                        kind,
                        format!(
                            "Two document paths {what} with each other; must remove or rewrite one of these paths; path one: {}, path two: {}",
                            render_path(b),
                            render_path(a)
                        ),
                    ));
                }
            }
        }
    }
    Ok(())
}

/// `Some(false)` when one path is a prefix of the other (they overlap),
/// `Some(true)` when they agree up to a step where one indexes a list and
/// the other names a map entry (they conflict), `None` when they diverge
/// harmlessly.
fn path_relation(a: &Path, b: &Path) -> Option<bool> {
    for (x, y) in a.elements.iter().zip(&b.elements) {
        match (x, y) {
            (PathElement::Attr(m), PathElement::Attr(n)) if m.as_str() == n.as_str() => {}
            (PathElement::Index(m), PathElement::Index(n)) if m == n => {}
            (PathElement::Attr(_), PathElement::Attr(_))
            | (PathElement::Index(_), PathElement::Index(_)) => return None,
            _ => return Some(true),
        }
    }
    Some(false)
}

/// Rejects an update that writes a key attribute.
pub fn check_update_keys(update: &Update, key_names: &[&str]) -> Result<(), ExprError> {
    for action in &update.actions {
        let (UpdateAction::Set(p, _)
        | UpdateAction::Remove(p)
        | UpdateAction::Add(p, _)
        | UpdateAction::Delete(p, _)) = action;
        if let Some(PathElement::Attr(n)) = p.elements.first() {
            if key_names.contains(&n.as_str()) {
                return Err(ExprError::other(format!(
                    "One or more parameter values were invalid: Cannot update attribute {}. This attribute is part of the key",
                    n.as_str()
                )));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::{parse_condition, parse_projection, parse_update};
    use crate::Number;

    fn names(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    fn values(pairs: &[(&str, AttributeValue)]) -> BTreeMap<String, AttributeValue> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), v.clone()))
            .collect()
    }

    fn n(v: i64) -> AttributeValue {
        AttributeValue::N(Number::from_i64(v))
    }

    fn condition_error(
        text: &str,
        ns: &BTreeMap<String, String>,
        vs: &BTreeMap<String, AttributeValue>,
    ) -> String {
        let mut c = parse_condition(text, ExprKind::Condition).expect("parses");
        let mut r = Resolver::new(Some(ns), Some(vs));
        match r.condition(ExprKind::Condition, &mut c) {
            Err(e) => e.message,
            Ok(()) => r.finish().expect_err("an error").message,
        }
    }

    fn update_error(text: &str, vs: &BTreeMap<String, AttributeValue>) -> String {
        let mut u = parse_update(text).expect("parses");
        Resolver::new(None, Some(vs))
            .update(&mut u)
            .expect_err("an error")
            .message
    }

    #[test]
    fn placeholders_resolve_in_place() {
        let ns = names(&[("#s", "Status")]);
        let vs = values(&[(":v", n(1))]);
        let mut c = parse_condition(
            "#s = :v AND attribute_exists(doc.x[2])",
            ExprKind::Condition,
        )
        .expect("parses");
        let mut r = Resolver::new(Some(&ns), Some(&vs));
        r.condition(ExprKind::Condition, &mut c).expect("resolves");
        r.finish().expect("all used");
        let mut item = crate::Item::new();
        item.insert("Status".into(), n(1));
        let mut list = vec![n(0), n(0), n(7)];
        let mut other = BTreeMap::new();
        other.insert("x".to_owned(), AttributeValue::L(std::mem::take(&mut list)));
        item.insert("doc".into(), AttributeValue::M(other));
        assert!(crate::eval::eval_condition(&c, &item));
    }

    #[test]
    fn undefined_and_unused_placeholders_are_reported() {
        let none = BTreeMap::new();
        let vs = values(&[(":v", n(1))]);
        assert_eq!(
            condition_error("#x = :v", &none, &vs),
            "Invalid ConditionExpression: An expression attribute name used in the document path is not defined; attribute name: #x"
        );
        assert_eq!(
            condition_error("a = :w", &none, &vs),
            "Invalid ConditionExpression: An expression attribute value used in expression is not defined; attribute value: :w"
        );
        let ns = names(&[("#a", "a"), ("#b", "b")]);
        assert_eq!(
            condition_error("#a = :v", &ns, &vs),
            "Value provided in ExpressionAttributeNames unused in expressions: keys: {#b}"
        );
        let vs2 = values(&[(":v", n(1)), (":c", n(2))]);
        assert_eq!(
            condition_error("a = :v", &BTreeMap::new(), &vs2),
            "Value provided in ExpressionAttributeValues unused in expressions: keys: {:c}"
        );
    }

    #[test]
    fn reserved_words_need_placeholders() {
        let vs = values(&[(":v", n(1))]);
        assert_eq!(
            condition_error("Status = :v", &BTreeMap::new(), &vs),
            "Invalid ConditionExpression: Attribute name is a reserved keyword; reserved keyword: Status"
        );
        assert_eq!(
            update_error("SET a.name = :v", &vs),
            "Invalid UpdateExpression: Attribute name is a reserved keyword; reserved keyword: name"
        );
    }

    #[test]
    fn constant_operands_are_type_checked() {
        let vs = values(&[
            (":s", AttributeValue::S("x".into())),
            (":n", n(1)),
            (":t", AttributeValue::S("X".into())),
        ]);
        assert_eq!(
            update_error("ADD a :s", &vs),
            "Invalid UpdateExpression: Incorrect operand type for operator or function; operator: ADD, operand type: STRING"
        );
        assert_eq!(
            update_error("DELETE a :n", &vs),
            "Invalid UpdateExpression: Incorrect operand type for operator or function; operator: DELETE, operand type: NUMBER"
        );
        assert_eq!(
            update_error("SET a = list_append(b, :n)", &vs),
            "Invalid UpdateExpression: Incorrect operand type for operator or function; operator or function: list_append, operand type: N"
        );
        assert_eq!(
            update_error("SET a = b + :s", &vs),
            "Invalid UpdateExpression: Incorrect operand type for operator or function; operator or function: +, operand type: S"
        );
        let none = BTreeMap::new();
        let vs = values(&[(":t", AttributeValue::S("X".into()))]);
        assert_eq!(
            condition_error("attribute_type(a, :t)", &none, &vs),
            "Invalid ConditionExpression: Invalid attribute type name found; type: X, valid types: {B,NULL,SS,BOOL,L,BS,N,NS,S,M}"
        );
        let vs = values(&[(":lo", n(5)), (":hi", n(1))]);
        assert_eq!(
            condition_error("a BETWEEN :lo AND :hi", &none, &vs),
            "Invalid ConditionExpression: The BETWEEN operator requires upper bound to be greater than or equal to lower bound; lower bound operand: AttributeValue: {N:5}, upper bound operand: AttributeValue: {N:1}"
        );
        assert_eq!(
            condition_error("a = a", &none, &BTreeMap::new()),
            "Invalid ConditionExpression: The first operand must be distinct from the remaining operands for this operator or function; operator: =, first operand: [a]"
        );
    }

    /// Ordering comparisons take N, S and B: a constant of another type,
    /// or two constants of different types, are refused before anything is
    /// read; from the item they are just false (ScyllaDB's DynamoDB-verified
    /// `test_update_condition_lt`; DynamoDB's key-condition texts).
    #[test]
    fn constant_operands_of_ordering_comparisons_are_type_checked() {
        let none = BTreeMap::new();
        let vs = values(&[
            (":n", n(1)),
            (":m", n(2)),
            (":s", AttributeValue::S("x".into())),
            (":l", AttributeValue::L(vec![n(1)])),
            (":b", AttributeValue::Bool(true)),
        ]);
        let refused = |text: &str| {
            let mut c = parse_condition(text, ExprKind::Filter).expect("parses");
            Resolver::new(Some(&none), Some(&vs))
                .condition(ExprKind::Filter, &mut c)
                .expect_err(text)
                .message
        };
        let operand_type = |op: &str, t: &str| {
            format!("Invalid FilterExpression: Incorrect operand type for operator or function; operator or function: {op}, operand type: {t}")
        };
        assert_eq!(refused(":n < :s"), operand_type("<", "S"));
        assert_eq!(refused(":s >= :n"), operand_type(">=", "N"));
        assert_eq!(refused("a < :l"), operand_type("<", "L"));
        assert_eq!(refused(":l > a"), operand_type(">", "L"));
        assert_eq!(refused("a <= :b"), operand_type("<=", "BOOL"));
        assert_eq!(refused("a BETWEEN :l AND :l"), operand_type("BETWEEN", "L"));
        assert_eq!(
            refused(":b BETWEEN :n AND :m"),
            operand_type("BETWEEN", "BOOL")
        );
        assert_eq!(refused("size(:s) < :s"), operand_type("<", "S"));
        let accepted = |text: &str| {
            let mut c = parse_condition(text, ExprKind::Filter).expect("parses");
            let mut r = Resolver::new(Some(&none), Some(&vs));
            r.condition(ExprKind::Filter, &mut c).expect(text);
        };
        // Equality takes any two values; paths and sizes are typed only
        // when evaluated.
        accepted(":n = :s AND :l <> :b AND a = :l");
        accepted(":n < :m AND a < :s AND size(a) < :s AND b > c");
        accepted("a IN (:n, :s, :l)");
    }

    /// `size(:v)` is the size of the constant, folded into a number; a
    /// constant without a size is an operand-type error. A key condition
    /// keeps the call (it refuses it as a nested operation).
    #[test]
    fn size_of_a_constant_is_folded() {
        let none = BTreeMap::new();
        let vs = values(&[
            (":s", AttributeValue::S("héllo".into())),
            (":n", n(3)),
            (":six", n(6)),
            (":null", AttributeValue::Null),
        ]);
        let resolve = |text: &str, kind| {
            let mut c = parse_condition(text, kind).expect("parses");
            Resolver::new(Some(&none), Some(&vs))
                .condition(kind, &mut c)
                .map(|()| c)
        };
        let folded = resolve("size(:s) = :six", ExprKind::Condition).expect("resolves");
        assert_eq!(
            folded,
            Condition::Compare {
                left: Operand::Value(ValueRef::Resolved(n(6))),
                op: crate::ast::Comparator::Eq,
                right: Operand::Value(ValueRef::Resolved(n(6))),
            }
        );
        assert!(crate::eval::eval_condition(&folded, &crate::Item::new()));
        for (text, t) in [("size(:n) > :six", "N"), ("size(:null) > :six", "NULL")] {
            assert_eq!(
                resolve(text, ExprKind::Condition).unwrap_err().message,
                format!("Invalid ConditionExpression: Incorrect operand type for operator or function; operator or function: size, operand type: {t}")
            );
        }
        let kept = resolve("k = size(:s)", ExprKind::KeyCondition).expect("resolves");
        assert!(matches!(
            kept,
            Condition::Compare {
                right: Operand::ValueSize(ValueRef::Resolved(_)),
                ..
            }
        ));
        assert_eq!(
            resolve("size(:undefined) > :six", ExprKind::Filter).unwrap_err().message,
            "Invalid FilterExpression: An expression attribute value used in expression is not defined; attribute value: :undefined"
        );
    }

    #[test]
    fn attribute_type_takes_any_first_operand() {
        let none = BTreeMap::new();
        let vs = values(&[(":v", n(1)), (":t", AttributeValue::S("N".into()))]);
        let mut c = parse_condition("attribute_type(:v, :t)", ExprKind::Condition).expect("parses");
        let mut r = Resolver::new(Some(&none), Some(&vs));
        r.condition(ExprKind::Condition, &mut c).expect("resolves");
        r.finish().expect("all used");
        assert!(crate::eval::eval_condition(&c, &crate::Item::new()));
        assert_eq!(
            condition_error("attribute_type(:t, :v)", &none, &vs),
            "Invalid ConditionExpression: Incorrect operand type for operator or function; operator or function: attribute_type, operand type: N"
        );
    }

    #[test]
    fn overlapping_and_conflicting_paths_are_refused() {
        let vs = values(&[(":v", n(1))]);
        assert_eq!(
            update_error("SET a = :v REMOVE a", &vs),
            "Invalid UpdateExpression: Two document paths overlap with each other; must remove or rewrite one of these paths; path one: [a], path two: [a]"
        );
        assert_eq!(
            update_error("SET a.b = :v REMOVE a.b[2]", &vs),
            "Invalid UpdateExpression: Two document paths overlap with each other; must remove or rewrite one of these paths; path one: [a, b], path two: [a, b, [2]]"
        );
        assert_eq!(
            update_error("SET a.b = :v, a[1] = :v", &vs),
            "Invalid UpdateExpression: Two document paths conflict with each other; must remove or rewrite one of these paths; path one: [a, b], path two: [a, [1]]"
        );
        let mut p = parse_projection("a.b, c, a").expect("parses");
        let err = Resolver::new(None, None).projection(&mut p).unwrap_err();
        assert!(
            err.message.contains("path one: [a, b], path two: [a]"),
            "{}",
            err.message
        );
    }

    #[test]
    fn key_attributes_cannot_be_updated() {
        let u = parse_update("SET pk.x = :v").expect("parses");
        assert_eq!(
            check_update_keys(&u, &["pk", "sk"]).unwrap_err().message,
            "One or more parameter values were invalid: Cannot update attribute pk. This attribute is part of the key"
        );
        let u = parse_update("SET other = :v").expect("parses");
        assert_eq!(check_update_keys(&u, &["pk", "sk"]), Ok(()));
    }
}
