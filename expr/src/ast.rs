//! Syntax trees of DynamoDB's expression languages.
//!
//! One tree type serves every stage: the parser fills names and values with
//! the placeholders the text used (`#n`, `:v`), and
//! [`resolve`](crate::resolve) replaces them in place with the request's
//! `ExpressionAttributeNames` / `ExpressionAttributeValues`. The evaluator
//! only ever sees resolved trees. The legacy parameters (`Expected`,
//! `AttributeUpdates`, `AttributesToGet`, ...) are lowered to the same trees,
//! already resolved.
//!
//! `Display` prints a tree back as expression text that parses to the same
//! tree (placeholders print as themselves; resolved names print escaped
//! where needed is not attempted: printing is for unresolved trees).

use crate::AttributeValue;

/// An attribute name in a document path.
#[derive(Clone, Debug, PartialEq)]
pub enum Name {
    /// Written literally in the expression (`a`, `Price`).
    Literal(String),
    /// A `#name` placeholder, stored with its `#`.
    Placeholder(String),
    /// After resolution: the actual attribute name.
    Resolved(String),
}

impl Name {
    /// The attribute name, if resolved or literal.
    pub fn as_str(&self) -> &str {
        match self {
            Name::Literal(s) | Name::Placeholder(s) | Name::Resolved(s) => s,
        }
    }
}

/// One step of a document path.
#[derive(Clone, Debug, PartialEq)]
pub enum PathElement {
    /// `.name` (or the leading name).
    Attr(Name),
    /// `[n]`: a list index.
    Index(u32),
}

/// A document path: `a.b[3].c`. The first element is always an `Attr`.
#[derive(Clone, Debug, PartialEq)]
pub struct Path {
    /// The steps, outermost first.
    pub elements: Vec<PathElement>,
}

/// A value operand.
#[derive(Clone, Debug, PartialEq)]
pub enum ValueRef {
    /// A `:value` placeholder, stored with its `:`.
    Placeholder(String),
    /// After resolution: the value itself.
    Resolved(AttributeValue),
}

/// An operand of a comparison or a function.
#[derive(Clone, Debug, PartialEq)]
pub enum Operand {
    /// The value at a document path.
    Path(Path),
    /// A value from `ExpressionAttributeValues`.
    Value(ValueRef),
    /// `size(path)`.
    Size(Path),
    /// `size(:value)`: the size of a constant. Resolution turns it into the
    /// number it is (a key condition keeps it, to refuse it as a nested
    /// operation).
    ValueSize(ValueRef),
}

/// Comparison operators.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Comparator {
    /// `=`
    Eq,
    /// `<>`
    Ne,
    /// `<`
    Lt,
    /// `<=`
    Le,
    /// `>`
    Gt,
    /// `>=`
    Ge,
}

impl Comparator {
    /// The operator as written: `=`, `<>`, `<`, `<=`, `>`, `>=`.
    pub fn as_str(self) -> &'static str {
        match self {
            Comparator::Eq => "=",
            Comparator::Ne => "<>",
            Comparator::Lt => "<",
            Comparator::Le => "<=",
            Comparator::Gt => ">",
            Comparator::Ge => ">=",
        }
    }
}

/// A condition: ConditionExpression, FilterExpression, KeyConditionExpression.
#[derive(Clone, Debug, PartialEq)]
pub enum Condition {
    /// `a <op> b`
    Compare {
        /// Left operand.
        left: Operand,
        /// Operator.
        op: Comparator,
        /// Right operand.
        right: Operand,
    },
    /// `a BETWEEN low AND high`
    Between {
        /// The tested operand.
        value: Operand,
        /// Lower bound (inclusive).
        low: Operand,
        /// Upper bound (inclusive).
        high: Operand,
    },
    /// `a IN (b, c, ...)`
    In {
        /// The tested operand.
        value: Operand,
        /// The candidates (1 to 100).
        list: Vec<Operand>,
    },
    /// `a AND b`
    And(Box<Condition>, Box<Condition>),
    /// `a OR b`
    Or(Box<Condition>, Box<Condition>),
    /// `NOT a`
    Not(Box<Condition>),
    /// `attribute_exists(path)`
    AttributeExists(Path),
    /// `attribute_not_exists(path)`
    AttributeNotExists(Path),
    /// `attribute_type(operand, :type)`: the operand is usually a path, but
    /// DynamoDB accepts any operand.
    AttributeType(Operand, Operand),
    /// `begins_with(a, b)`
    BeginsWith(Operand, Operand),
    /// `contains(a, b)`
    Contains(Operand, Operand),
}

/// An operand of a SET action's right-hand side.
#[derive(Clone, Debug, PartialEq)]
pub enum SetOperand {
    /// The value at a document path (of the item before the update).
    Path(Path),
    /// A value from `ExpressionAttributeValues`.
    Value(ValueRef),
    /// `if_not_exists(path, operand)`
    IfNotExists(Path, Box<SetOperand>),
    /// `list_append(a, b)`
    ListAppend(Box<SetOperand>, Box<SetOperand>),
}

/// The right-hand side of a SET action.
#[derive(Clone, Debug, PartialEq)]
pub enum SetValue {
    /// `operand`
    Operand(SetOperand),
    /// `a + b`
    Plus(SetOperand, SetOperand),
    /// `a - b`
    Minus(SetOperand, SetOperand),
}

/// One action of an update expression.
#[derive(Clone, Debug, PartialEq)]
pub enum UpdateAction {
    /// `SET path = value`
    Set(Path, SetValue),
    /// `REMOVE path`
    Remove(Path),
    /// `ADD path :value` (numbers and sets)
    Add(Path, ValueRef),
    /// `DELETE path :value` (sets)
    Delete(Path, ValueRef),
}

/// An UpdateExpression: actions in the order they were written. Each clause
/// keyword (SET, REMOVE, ADD, DELETE) appears at most once in the text.
#[derive(Clone, Debug, PartialEq)]
pub struct Update {
    /// The actions.
    pub actions: Vec<UpdateAction>,
}

/// A ProjectionExpression: the paths to return.
#[derive(Clone, Debug, PartialEq)]
pub struct Projection {
    /// The paths, in the order written.
    pub paths: Vec<Path>,
}

impl Operand {
    /// The document path this operand reads, if any.
    pub fn path(&self) -> Option<&Path> {
        match self {
            Operand::Path(p) | Operand::Size(p) => Some(p),
            Operand::Value(_) | Operand::ValueSize(_) => None,
        }
    }
}

impl Condition {
    /// Calls `f` on every document path the condition reads.
    pub fn for_each_path(&self, f: &mut impl FnMut(&Path)) {
        let operand = |o: &Operand, f: &mut dyn FnMut(&Path)| {
            if let Some(p) = o.path() {
                f(p);
            }
        };
        match self {
            Condition::Compare { left, right, .. } => {
                operand(left, f);
                operand(right, f);
            }
            Condition::Between { value, low, high } => {
                for o in [value, low, high] {
                    operand(o, f);
                }
            }
            Condition::In { value, list } => {
                operand(value, f);
                for o in list {
                    operand(o, f);
                }
            }
            Condition::And(a, b) | Condition::Or(a, b) => {
                a.for_each_path(f);
                b.for_each_path(f);
            }
            Condition::Not(a) => a.for_each_path(f),
            Condition::AttributeExists(p) | Condition::AttributeNotExists(p) => f(p),
            Condition::AttributeType(a, t) => {
                operand(a, f);
                operand(t, f);
            }
            Condition::BeginsWith(a, b) | Condition::Contains(a, b) => {
                operand(a, f);
                operand(b, f);
            }
        }
    }
}
