//! Printing syntax trees back to expression text.
//!
//! The text parses back to an equal tree: every operand of `AND`, `OR` and
//! `NOT` is parenthesised, and a group never directly holds another group,
//! which DynamoDB would reject as redundant parentheses. Names and values
//! print as written: literals and placeholders as themselves, resolved names
//! as the bare name (not escaped, so not necessarily parseable). A resolved
//! value has no text of its own and prints as `<value>`, which does not
//! parse: printing is meant for unresolved trees.
//!
//! An [`Update`] prints its actions in order, with one clause keyword per run
//! of actions of the same kind. A tree from the parser has at most one run
//! per kind; other trees print as text that DynamoDB would reject.

use std::fmt::{self, Display, Formatter};

use crate::ast::{
    Condition, Name, Operand, Path, PathElement, Projection, SetOperand, SetValue, Update,
    UpdateAction, ValueRef,
};

fn name(f: &mut Formatter<'_>, n: &Name) -> fmt::Result {
    f.write_str(n.as_str())
}

fn value(f: &mut Formatter<'_>, v: &ValueRef) -> fmt::Result {
    match v {
        ValueRef::Placeholder(p) => f.write_str(p),
        ValueRef::Resolved(_) => f.write_str("<value>"),
    }
}

impl Display for Path {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        for (i, element) in self.elements.iter().enumerate() {
            match element {
                PathElement::Attr(n) => {
                    if i > 0 {
                        f.write_str(".")?;
                    }
                    name(f, n)?;
                }
                PathElement::Index(index) => write!(f, "[{index}]")?,
            }
        }
        Ok(())
    }
}

impl Display for Operand {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            Operand::Path(p) => write!(f, "{p}"),
            Operand::Value(v) => value(f, v),
            Operand::Size(p) => write!(f, "size({p})"),
            Operand::ValueSize(v) => {
                f.write_str("size(")?;
                value(f, v)?;
                f.write_str(")")
            }
        }
    }
}

impl Display for Condition {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            Condition::Compare { left, op, right } => {
                write!(f, "{left} {} {right}", op.as_str())
            }
            Condition::Between { value, low, high } => {
                write!(f, "{value} BETWEEN {low} AND {high}")
            }
            Condition::In { value, list } => {
                write!(f, "{value} IN (")?;
                for (i, item) in list.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{item}")?;
                }
                f.write_str(")")
            }
            Condition::And(a, b) => write!(f, "({a}) AND ({b})"),
            Condition::Or(a, b) => write!(f, "({a}) OR ({b})"),
            Condition::Not(a) => write!(f, "NOT ({a})"),
            Condition::AttributeExists(p) => write!(f, "attribute_exists({p})"),
            Condition::AttributeNotExists(p) => write!(f, "attribute_not_exists({p})"),
            Condition::AttributeType(a, t) => write!(f, "attribute_type({a}, {t})"),
            Condition::BeginsWith(a, b) => write!(f, "begins_with({a}, {b})"),
            Condition::Contains(a, b) => write!(f, "contains({a}, {b})"),
        }
    }
}

impl Display for SetOperand {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            SetOperand::Path(p) => write!(f, "{p}"),
            SetOperand::Value(v) => value(f, v),
            SetOperand::IfNotExists(p, v) => write!(f, "if_not_exists({p}, {v})"),
            SetOperand::ListAppend(a, b) => write!(f, "list_append({a}, {b})"),
        }
    }
}

impl Display for SetValue {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            SetValue::Operand(o) => write!(f, "{o}"),
            SetValue::Plus(a, b) => write!(f, "{a} + {b}"),
            SetValue::Minus(a, b) => write!(f, "{a} - {b}"),
        }
    }
}

/// The clause keyword of an action.
fn keyword(action: &UpdateAction) -> &'static str {
    match action {
        UpdateAction::Set(..) => "SET",
        UpdateAction::Remove(_) => "REMOVE",
        UpdateAction::Add(..) => "ADD",
        UpdateAction::Delete(..) => "DELETE",
    }
}

/// An action without its clause keyword.
fn action_body(f: &mut Formatter<'_>, action: &UpdateAction) -> fmt::Result {
    match action {
        UpdateAction::Set(p, v) => write!(f, "{p} = {v}"),
        UpdateAction::Remove(p) => write!(f, "{p}"),
        UpdateAction::Add(p, v) | UpdateAction::Delete(p, v) => {
            write!(f, "{p} ")?;
            value(f, v)
        }
    }
}

impl Display for UpdateAction {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        write!(f, "{} ", keyword(self))?;
        action_body(f, self)
    }
}

impl Display for Update {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        let mut previous: Option<&'static str> = None;
        for action in &self.actions {
            let kw = keyword(action);
            if previous == Some(kw) {
                f.write_str(", ")?;
            } else {
                if previous.is_some() {
                    f.write_str(" ")?;
                }
                write!(f, "{kw} ")?;
            }
            action_body(f, action)?;
            previous = Some(kw);
        }
        Ok(())
    }
}

impl Display for Projection {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        for (i, path) in self.paths.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            write!(f, "{path}")?;
        }
        Ok(())
    }
}
