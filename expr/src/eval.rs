//! Evaluation of resolved expressions against items, with DynamoDB's
//! semantics.
//!
//! - A comparison between values of different types is false, not an error;
//!   ordering comparisons and BETWEEN apply to N, S and B only. `<>` is true
//!   when the operands differ, including when one is missing.
//! - `size` is defined for S (UTF-8 bytes), B, sets, lists and maps; for other
//!   types, or a missing attribute, the operand has no value and every
//!   comparison with it is false.
//! - An update evaluates every right-hand side against the item as it was
//!   before the update, then applies the actions.
//!
//! Trees must be resolved ([`crate::resolve`]); an unresolved placeholder is
//! a bug in the caller and evaluates as a missing value.

use std::borrow::Cow;
use std::cmp::Ordering;
use std::collections::BTreeMap;

use crate::ast::{
    Comparator, Condition, Name, Operand, Path, PathElement, Projection, SetOperand, SetValue,
    Update, UpdateAction, ValueRef,
};
use crate::{AttributeValue, ExprError, Item, Number};

/// The attribute name of a path element, resolved or literal.
fn name_of(name: &Name) -> &str {
    name.as_str()
}

/// The value at `path` in `item`, if there is one.
pub fn get_path<'a>(item: &'a Item, path: &Path) -> Option<&'a AttributeValue> {
    let mut elements = path.elements.iter();
    let mut current = match elements.next()? {
        PathElement::Attr(n) => item.get(name_of(n))?,
        PathElement::Index(_) => return None,
    };
    for el in elements {
        current = match (el, current) {
            (PathElement::Attr(n), AttributeValue::M(m)) => m.get(name_of(n))?,
            (PathElement::Index(i), AttributeValue::L(l)) => l.get(*i as usize)?,
            _ => return None,
        };
    }
    Some(current)
}

fn value_of(v: &ValueRef) -> Option<&AttributeValue> {
    match v {
        ValueRef::Resolved(v) => Some(v),
        ValueRef::Placeholder(_) => None,
    }
}

/// The number DynamoDB's `size` returns, if the type has a size.
pub fn size_of(v: &AttributeValue) -> Option<usize> {
    Some(match v {
        AttributeValue::S(s) => s.len(),
        AttributeValue::B(b) => b.len(),
        AttributeValue::Ss(s) => s.len(),
        AttributeValue::Ns(s) => s.len(),
        AttributeValue::Bs(s) => s.len(),
        AttributeValue::L(l) => l.len(),
        AttributeValue::M(m) => m.len(),
        _ => return None,
    })
}

fn operand<'a>(item: &'a Item, op: &'a Operand) -> Option<Cow<'a, AttributeValue>> {
    match op {
        Operand::Path(p) => get_path(item, p).map(Cow::Borrowed),
        Operand::Value(v) => value_of(v).map(Cow::Borrowed),
        Operand::Size(p) => {
            let n = size_of(get_path(item, p)?)?;
            Some(Cow::Owned(AttributeValue::N(Number::from_i64(n as i64))))
        }
        // Resolution folds these into numbers; kept for unfolded trees.
        Operand::ValueSize(v) => {
            let n = size_of(value_of(v)?)?;
            Some(Cow::Owned(AttributeValue::N(Number::from_i64(n as i64))))
        }
    }
}

/// DynamoDB equality: same type and same value; sets compare as sets,
/// numbers by value, documents deeply.
pub fn values_equal(a: &AttributeValue, b: &AttributeValue) -> bool {
    use AttributeValue as V;
    match (a, b) {
        (V::Ss(x), V::Ss(y)) => same_members(x, y),
        (V::Ns(x), V::Ns(y)) => same_members(x, y),
        (V::Bs(x), V::Bs(y)) => same_members(x, y),
        (V::L(x), V::L(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(a, b)| values_equal(a, b))
        }
        (V::M(x), V::M(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| y.get(k).is_some_and(|w| values_equal(v, w)))
        }
        _ => a == b,
    }
}

fn same_members<T: PartialEq>(x: &[T], y: &[T]) -> bool {
    // Sets hold no duplicates, so equal length plus inclusion is equality.
    x.len() == y.len() && x.iter().all(|m| y.contains(m))
}

/// Orders two scalar values of the same type (N, S, B); `None` otherwise.
pub fn scalar_cmp(a: &AttributeValue, b: &AttributeValue) -> Option<Ordering> {
    use AttributeValue as V;
    match (a, b) {
        (V::N(x), V::N(y)) => Some(x.cmp(y)),
        (V::S(x), V::S(y)) => Some(x.as_bytes().cmp(y.as_bytes())),
        (V::B(x), V::B(y)) => Some(x.cmp(y)),
        _ => None,
    }
}

fn compare(op: Comparator, a: Option<&AttributeValue>, b: Option<&AttributeValue>) -> bool {
    match op {
        Comparator::Eq => matches!((a, b), (Some(a), Some(b)) if values_equal(a, b)),
        Comparator::Ne => !matches!((a, b), (Some(a), Some(b)) if values_equal(a, b)),
        _ => {
            let (Some(a), Some(b)) = (a, b) else {
                return false;
            };
            let Some(ord) = scalar_cmp(a, b) else {
                return false;
            };
            match op {
                Comparator::Lt => ord == Ordering::Less,
                Comparator::Le => ord != Ordering::Greater,
                Comparator::Gt => ord == Ordering::Greater,
                Comparator::Ge => ord != Ordering::Less,
                Comparator::Eq | Comparator::Ne => false,
            }
        }
    }
}

/// Whether `v` has the type DynamoDB names `type_name` (`S`, `NULL`, ...).
pub fn has_type(v: &AttributeValue, type_name: &str) -> bool {
    v.type_name() == type_name
}

fn begins_with(a: &AttributeValue, b: &AttributeValue) -> bool {
    match (a, b) {
        (AttributeValue::S(x), AttributeValue::S(y)) => x.starts_with(y.as_str()),
        (AttributeValue::B(x), AttributeValue::B(y)) => x.starts_with(y),
        _ => false,
    }
}

fn contains(a: &AttributeValue, b: &AttributeValue) -> bool {
    use AttributeValue as V;
    match (a, b) {
        (V::S(x), V::S(y)) => x.contains(y.as_str()),
        (V::B(x), V::B(y)) => y.is_empty() || x.windows(y.len()).any(|w| w == y.as_slice()),
        (V::Ss(x), V::S(y)) => x.contains(y),
        (V::Ns(x), V::N(y)) => x.contains(y),
        (V::Bs(x), V::B(y)) => x.contains(y),
        (V::L(x), y) => x.iter().any(|e| values_equal(e, y)),
        _ => false,
    }
}

/// Evaluates a resolved condition against `item` (an absent item is an
/// empty one).
pub fn eval_condition(cond: &Condition, item: &Item) -> bool {
    match cond {
        Condition::Compare { left, op, right } => {
            let (a, b) = (operand(item, left), operand(item, right));
            compare(*op, a.as_deref(), b.as_deref())
        }
        Condition::Between { value, low, high } => {
            let (Some(v), Some(lo), Some(hi)) = (
                operand(item, value),
                operand(item, low),
                operand(item, high),
            ) else {
                return false;
            };
            matches!(
                scalar_cmp(&v, &lo),
                Some(Ordering::Greater | Ordering::Equal)
            ) && matches!(scalar_cmp(&v, &hi), Some(Ordering::Less | Ordering::Equal))
        }
        Condition::In { value, list } => {
            let Some(v) = operand(item, value) else {
                return false;
            };
            list.iter()
                .any(|c| operand(item, c).is_some_and(|c| values_equal(&v, &c)))
        }
        Condition::And(a, b) => eval_condition(a, item) && eval_condition(b, item),
        Condition::Or(a, b) => eval_condition(a, item) || eval_condition(b, item),
        Condition::Not(a) => !eval_condition(a, item),
        Condition::AttributeExists(p) => get_path(item, p).is_some(),
        Condition::AttributeNotExists(p) => get_path(item, p).is_none(),
        Condition::AttributeType(a, t) => match (operand(item, a), operand(item, t)) {
            (Some(v), Some(t)) => match t.as_ref() {
                AttributeValue::S(name) => has_type(&v, name),
                _ => false,
            },
            _ => false,
        },
        Condition::BeginsWith(a, b) => match (operand(item, a), operand(item, b)) {
            (Some(a), Some(b)) => begins_with(&a, &b),
            _ => false,
        },
        Condition::Contains(a, b) => match (operand(item, a), operand(item, b)) {
            (Some(a), Some(b)) => contains(&a, &b),
            _ => false,
        },
    }
}

// ---- projection ----

/// What a projection keeps of one value: all of it, some map entries, or
/// some list elements.
enum Selection {
    All,
    Fields(BTreeMap<String, Selection>),
    Elements(BTreeMap<u32, Selection>),
}

impl Selection {
    fn add(&mut self, rest: &[PathElement]) {
        let Some((el, tail)) = rest.split_first() else {
            *self = Selection::All;
            return;
        };
        let child = match (el, &mut *self) {
            (_, Selection::All) => return,
            (PathElement::Attr(n), Selection::Fields(f)) => f
                .entry(name_of(n).to_owned())
                .or_insert_with(|| Selection::empty_for(tail)),
            (PathElement::Index(i), Selection::Elements(e)) => {
                e.entry(*i).or_insert_with(|| Selection::empty_for(tail))
            }
            // Paths that disagree on a value's shape select nothing from the
            // disagreeing part (validation rejects overlapping paths).
            _ => return,
        };
        child.add(tail);
    }

    fn empty_for(rest: &[PathElement]) -> Selection {
        match rest.first() {
            None => Selection::All,
            Some(PathElement::Attr(_)) => Selection::Fields(BTreeMap::new()),
            Some(PathElement::Index(_)) => Selection::Elements(BTreeMap::new()),
        }
    }

    fn pick(&self, value: &AttributeValue) -> Option<AttributeValue> {
        match (self, value) {
            (Selection::All, v) => Some(v.clone()),
            (Selection::Fields(f), AttributeValue::M(m)) => {
                let out: BTreeMap<String, AttributeValue> = f
                    .iter()
                    .filter_map(|(k, sel)| Some((k.clone(), sel.pick(m.get(k)?)?)))
                    .collect();
                (!out.is_empty()).then_some(AttributeValue::M(out))
            }
            (Selection::Elements(e), AttributeValue::L(l)) => {
                // Selected elements, gathered in index order.
                let out: Vec<AttributeValue> = e
                    .iter()
                    .filter_map(|(i, sel)| sel.pick(l.get(*i as usize)?))
                    .collect();
                (!out.is_empty()).then_some(AttributeValue::L(out))
            }
            _ => None,
        }
    }
}

/// The parts of `item` named by `projection`, as DynamoDB returns them:
/// nested maps keep only the projected entries, and projected list elements
/// are gathered in index order.
pub fn project(item: &Item, projection: &Projection) -> Item {
    let mut top: BTreeMap<String, Selection> = BTreeMap::new();
    for path in &projection.paths {
        let Some((PathElement::Attr(first), rest)) = path.elements.split_first() else {
            continue;
        };
        top.entry(name_of(first).to_owned())
            .or_insert_with(|| Selection::empty_for(rest))
            .add(rest);
    }
    top.iter()
        .filter_map(|(k, sel)| Some((k.clone(), sel.pick(item.get(k)?)?)))
        .collect()
}

// ---- updates ----

const MISSING_OPERAND: &str =
    "The provided expression refers to an attribute that does not exist in the item";
/// The run-time operand type error of update expressions.
pub const BAD_OPERAND_TYPE: &str = "An operand in the update expression has an incorrect data type";
const BAD_PATH: &str = "The document path provided in the update expression is invalid for update";

fn update_error(detail: &str) -> ExprError {
    ExprError::other(detail)
}

fn set_operand(item: &Item, op: &SetOperand) -> Result<AttributeValue, ExprError> {
    match op {
        SetOperand::Path(p) => get_path(item, p)
            .cloned()
            .ok_or_else(|| update_error(MISSING_OPERAND)),
        SetOperand::Value(v) => value_of(v)
            .cloned()
            .ok_or_else(|| update_error(MISSING_OPERAND)),
        SetOperand::IfNotExists(p, fallback) => match get_path(item, p) {
            Some(v) => Ok(v.clone()),
            None => set_operand(item, fallback),
        },
        SetOperand::ListAppend(a, b) => match (set_operand(item, a)?, set_operand(item, b)?) {
            (AttributeValue::L(mut x), AttributeValue::L(y)) => {
                x.extend(y);
                Ok(AttributeValue::L(x))
            }
            _ => Err(ExprError::operand_type()),
        },
    }
}

/// DynamoDB reports an arithmetic result that needs more than 38 digits as
/// an overflow, not as the too-many-digits error a stored number gets.
fn arithmetic_error(e: crate::NumberError) -> ExprError {
    match e {
        crate::NumberError::TooManyDigits => {
            ExprError::other(crate::NumberError::Overflow.to_string())
        }
        other => ExprError::other(other.to_string()),
    }
}

fn set_value(item: &Item, v: &SetValue) -> Result<AttributeValue, ExprError> {
    let arith = |a: &SetOperand, b: &SetOperand, plus: bool| -> Result<AttributeValue, ExprError> {
        match (set_operand(item, a)?, set_operand(item, b)?) {
            (AttributeValue::N(x), AttributeValue::N(y)) => {
                let r = if plus {
                    x.checked_add(&y)
                } else {
                    x.checked_sub(&y)
                };
                r.map(AttributeValue::N).map_err(arithmetic_error)
            }
            _ => Err(ExprError::operand_type()),
        }
    };
    match v {
        SetValue::Operand(o) => set_operand(item, o),
        SetValue::Plus(a, b) => arith(a, b, true),
        SetValue::Minus(a, b) => arith(a, b, false),
    }
}

/// The container holding the last element of `path`, created on demand
/// only at the top level (an item is always a map).
fn parent_mut<'a>(item: &'a mut Item, path: &Path) -> Result<Parent<'a>, ExprError> {
    let (last, init) = path
        .elements
        .split_last()
        .ok_or_else(|| update_error(BAD_PATH))?;
    let Some((first, middle)) = init.split_first() else {
        return Ok(Parent::Item(item, last.clone()));
    };
    let PathElement::Attr(first) = first else {
        return Err(update_error(BAD_PATH));
    };
    let mut current = item
        .get_mut(name_of(first))
        .ok_or_else(|| update_error(BAD_PATH))?;
    for el in middle {
        current = match (el, current) {
            (PathElement::Attr(n), AttributeValue::M(m)) => m
                .get_mut(name_of(n))
                .ok_or_else(|| update_error(BAD_PATH))?,
            (PathElement::Index(i), AttributeValue::L(l)) => l
                .get_mut(*i as usize)
                .ok_or_else(|| update_error(BAD_PATH))?,
            _ => return Err(update_error(BAD_PATH)),
        };
    }
    Ok(Parent::Value(current, last.clone()))
}

enum Parent<'a> {
    Item(&'a mut Item, PathElement),
    Value(&'a mut AttributeValue, PathElement),
}

fn put_at(item: &mut Item, path: &Path, value: AttributeValue) -> Result<(), ExprError> {
    match parent_mut(item, path)? {
        Parent::Item(item, PathElement::Attr(n)) => {
            item.insert(name_of(&n).to_owned(), value);
        }
        Parent::Value(AttributeValue::M(m), PathElement::Attr(n)) => {
            m.insert(name_of(&n).to_owned(), value);
        }
        Parent::Value(AttributeValue::L(l), PathElement::Index(i)) => {
            // An index past the end appends, as DynamoDB does.
            match l.get_mut(i as usize) {
                Some(slot) => *slot = value,
                None => l.push(value),
            }
        }
        _ => return Err(update_error(BAD_PATH)),
    }
    Ok(())
}

fn get_mut_at<'a>(item: &'a mut Item, path: &Path) -> Option<&'a mut AttributeValue> {
    match parent_mut(item, path).ok()? {
        Parent::Item(item, PathElement::Attr(n)) => item.get_mut(name_of(&n)),
        Parent::Value(AttributeValue::M(m), PathElement::Attr(n)) => m.get_mut(name_of(&n)),
        Parent::Value(AttributeValue::L(l), PathElement::Index(i)) => l.get_mut(i as usize),
        _ => None,
    }
}

/// Removes the value at `path`. A missing final element is no error; a
/// parent that is missing or of the wrong shape is, when `strict`.
fn remove_at(item: &mut Item, path: &Path, strict: bool) -> Result<(), ExprError> {
    match parent_mut(item, path) {
        Ok(Parent::Item(item, PathElement::Attr(n))) => {
            item.remove(name_of(&n));
        }
        Ok(Parent::Value(AttributeValue::M(m), PathElement::Attr(n))) => {
            m.remove(name_of(&n));
        }
        Ok(Parent::Value(AttributeValue::L(l), PathElement::Index(i)))
            if (i as usize) < l.len() =>
        {
            l.remove(i as usize);
        }
        // An index past the end removes nothing.
        Ok(Parent::Value(AttributeValue::L(_), PathElement::Index(_))) => {}
        _ if strict => return Err(update_error(BAD_PATH)),
        _ => {}
    }
    Ok(())
}

fn add_to(
    existing: Option<&AttributeValue>,
    v: &AttributeValue,
) -> Result<AttributeValue, ExprError> {
    use AttributeValue as V;
    Ok(match (existing, v) {
        (None, v) => v.clone(),
        (Some(V::N(a)), V::N(b)) => V::N(a.checked_add(b).map_err(arithmetic_error)?),
        (Some(V::Ss(a)), V::Ss(b)) => V::Ss(union(a, b)),
        (Some(V::Ns(a)), V::Ns(b)) => V::Ns(union(a, b)),
        (Some(V::Bs(a)), V::Bs(b)) => V::Bs(union(a, b)),
        _ => return Err(ExprError::operand_type()),
    })
}

fn union<T: PartialEq + Clone>(a: &[T], b: &[T]) -> Vec<T> {
    let mut out = a.to_vec();
    for m in b {
        if !out.contains(m) {
            out.push(m.clone());
        }
    }
    out
}

/// The set left after deleting `v`'s members, `None` when nothing is left.
fn delete_from(
    existing: &AttributeValue,
    v: &AttributeValue,
) -> Result<Option<AttributeValue>, ExprError> {
    use AttributeValue as V;
    fn minus<T: PartialEq + Clone>(a: &[T], b: &[T]) -> Vec<T> {
        a.iter().filter(|m| !b.contains(m)).cloned().collect()
    }
    let left = match (existing, v) {
        (V::Ss(a), V::Ss(b)) => V::Ss(minus(a, b)),
        (V::Ns(a), V::Ns(b)) => V::Ns(minus(a, b)),
        (V::Bs(a), V::Bs(b)) => V::Bs(minus(a, b)),
        _ => return Err(ExprError::operand_type()),
    };
    let empty = match &left {
        V::Ss(s) => s.is_empty(),
        V::Ns(s) => s.is_empty(),
        V::Bs(s) => s.is_empty(),
        _ => false,
    };
    Ok((!empty).then_some(left))
}

/// Applies a resolved update to `item` (the old item, or just the key when
/// `existed` is false). Right-hand sides are evaluated against the item as
/// it was before the update. REMOVE under a missing or non-document parent
/// is an error on an existing item and ignored on a new one, as DynamoDB
/// does.
pub fn apply_update(update: &Update, item: &mut Item, existed: bool) -> Result<(), ExprError> {
    let before = item.clone();
    // Evaluate first, against the old item.
    let mut sets = Vec::new();
    for action in &update.actions {
        if let UpdateAction::Set(path, value) = action {
            sets.push((path, set_value(&before, value)?));
        }
    }
    // Several elements set past the end of one list are appended in order of
    // their indexes, as DynamoDB documents; a stable sort keeps every other
    // SET in written order.
    sets.sort_by_key(|(path, _)| match path.elements.last() {
        Some(PathElement::Index(i)) => *i,
        _ => 0,
    });
    for (path, value) in sets {
        put_at(item, path, value)?;
    }
    // List elements are removed from the highest index down, so that every
    // index refers to the list as it was.
    let mut removes: Vec<&Path> = update
        .actions
        .iter()
        .filter_map(|a| match a {
            UpdateAction::Remove(p) => Some(p),
            _ => None,
        })
        .collect();
    removes.sort_by(|a, b| {
        b.elements
            .len()
            .cmp(&a.elements.len())
            .then_with(|| index_key(b).cmp(&index_key(a)))
    });
    for path in removes {
        remove_at(item, path, existed)?;
    }
    for action in &update.actions {
        match action {
            UpdateAction::Add(path, v) => {
                let v = value_of(v).ok_or_else(|| update_error(MISSING_OPERAND))?;
                let new = add_to(get_path(item, path), v)?;
                put_at(item, path, new)?;
            }
            UpdateAction::Delete(path, v) => {
                let v = value_of(v).ok_or_else(|| update_error(MISSING_OPERAND))?;
                let Some(existing) = get_mut_at(item, path) else {
                    continue;
                };
                match delete_from(existing, v)? {
                    Some(left) => *existing = left,
                    None => remove_at(item, path, false)?,
                }
            }
            UpdateAction::Set(..) | UpdateAction::Remove(_) => {}
        }
    }
    Ok(())
}

/// The trailing list index of a path, for ordering removals.
fn index_key(p: &Path) -> u32 {
    match p.elements.last() {
        Some(PathElement::Index(i)) => *i,
        _ => 0,
    }
}

/// The paths an update writes, for `UPDATED_OLD` / `UPDATED_NEW`.
pub fn updated_paths(update: &Update) -> Projection {
    Projection {
        paths: update
            .actions
            .iter()
            .map(|a| match a {
                UpdateAction::Set(p, _)
                | UpdateAction::Remove(p)
                | UpdateAction::Add(p, _)
                | UpdateAction::Delete(p, _) => p.clone(),
            })
            .collect(),
    }
}

#[cfg(test)]
mod tests;
