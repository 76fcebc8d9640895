//! Attribute values and items.

use std::collections::BTreeMap;

use crate::{Number, NumberError};

/// An item: attribute name to value. Names are unique; DynamoDB does not keep
/// attribute order, so a sorted map gives stable output for free.
pub type Item = BTreeMap<String, AttributeValue>;

/// One DynamoDB attribute value, of any of the ten types.
///
/// Sets keep their members in the order the client sent them; they never hold
/// duplicates and are never empty once validated ([`AttributeValue::validate`]).
#[derive(Clone, Debug, PartialEq)]
pub enum AttributeValue {
    /// String (UTF-8).
    S(String),
    /// Number, exact to 38 significant digits.
    N(Number),
    /// Binary.
    B(Vec<u8>),
    /// Boolean.
    Bool(bool),
    /// Null. Only `NULL: true` is a valid value on the wire.
    Null,
    /// Map of nested attributes.
    M(BTreeMap<String, AttributeValue>),
    /// List of values of any types.
    L(Vec<AttributeValue>),
    /// String set.
    Ss(Vec<String>),
    /// Number set.
    Ns(Vec<Number>),
    /// Binary set.
    Bs(Vec<Vec<u8>>),
}

/// The three types a key attribute may have (DynamoDB's `ScalarAttributeType`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ScalarType {
    /// String.
    S,
    /// Number.
    N,
    /// Binary.
    B,
}

impl ScalarType {
    /// The wire name: `S`, `N` or `B`.
    pub fn as_str(self) -> &'static str {
        match self {
            ScalarType::S => "S",
            ScalarType::N => "N",
            ScalarType::B => "B",
        }
    }

    /// Parses a wire name.
    pub fn parse(s: &str) -> Option<ScalarType> {
        match s {
            "S" => Some(ScalarType::S),
            "N" => Some(ScalarType::N),
            "B" => Some(ScalarType::B),
            _ => None,
        }
    }
}

/// A value that is well-formed JSON but not a valid DynamoDB value. The
/// messages are the ones DynamoDB returns inside its ValidationException.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ValueError {
    /// A string, number or binary set with no members.
    #[error("{}", empty_set_message(*.0))]
    EmptySet(SetKind),
    /// A set with the same member twice. The payload is DynamoDB's rendering
    /// of the collection, e.g. `[a, a]` (unused for number sets, whose
    /// message names no members).
    #[error("{}", duplicate_message(*.0, .1))]
    DuplicateSetMember(SetKind, String),
    /// A number that is not a valid DynamoDB number.
    #[error("{0}")]
    Number(#[from] NumberError),
    /// Maps and lists nested deeper than DynamoDB allows.
    #[error("Nesting Levels have exceeded supported limits: Attributes in the item have nested levels beyond supported limit")]
    TooDeep,
}

/// The kind of a set value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SetKind {
    /// `SS`
    String,
    /// `NS`
    Number,
    /// `BS`
    Binary,
}

// The texts, odd spacing included, are what DynamoDB returns.
fn empty_set_message(kind: SetKind) -> &'static str {
    match kind {
        SetKind::String => {
            "One or more parameter values were invalid: An string set  may not be empty"
        }
        SetKind::Number => {
            "One or more parameter values were invalid: An number set  may not be empty"
        }
        SetKind::Binary => {
            "One or more parameter values were invalid: Binary sets should not be empty"
        }
    }
}

fn duplicate_message(kind: SetKind, rendered: &str) -> String {
    match kind {
        SetKind::String => format!(
            "One or more parameter values were invalid: Input collection {rendered} contains duplicates."
        ),
        SetKind::Number => "Input collection contains duplicates".to_owned(),
        SetKind::Binary => format!(
            "One or more parameter values were invalid: Input collection {rendered}of type BS contains duplicates."
        ),
    }
}

/// DynamoDB allows documents nested 32 levels deep.
pub const NESTING_DEPTH_MAX: usize = 32;

impl AttributeValue {
    /// The wire type tag: `S`, `N`, `B`, `BOOL`, `NULL`, `M`, `L`, `SS`, `NS`, `BS`.
    pub fn type_name(&self) -> &'static str {
        match self {
            AttributeValue::S(_) => "S",
            AttributeValue::N(_) => "N",
            AttributeValue::B(_) => "B",
            AttributeValue::Bool(_) => "BOOL",
            AttributeValue::Null => "NULL",
            AttributeValue::M(_) => "M",
            AttributeValue::L(_) => "L",
            AttributeValue::Ss(_) => "SS",
            AttributeValue::Ns(_) => "NS",
            AttributeValue::Bs(_) => "BS",
        }
    }

    /// The scalar type, if this value could be a key attribute.
    pub fn scalar_type(&self) -> Option<ScalarType> {
        match self {
            AttributeValue::S(_) => Some(ScalarType::S),
            AttributeValue::N(_) => Some(ScalarType::N),
            AttributeValue::B(_) => Some(ScalarType::B),
            _ => None,
        }
    }

    /// Checks the rules a value must meet wherever it appears: sets are
    /// non-empty and free of duplicates, documents are at most 32 levels deep.
    /// Numbers are already valid by construction.
    pub fn validate(&self) -> Result<(), ValueError> {
        self.validate_at(1)
    }

    fn validate_at(&self, depth: usize) -> Result<(), ValueError> {
        match self {
            AttributeValue::Ss(v) => check_set(SetKind::String, v, |s| s.clone()),
            AttributeValue::Ns(v) => check_set(SetKind::Number, v, |n| n.to_string()),
            AttributeValue::Bs(v) => check_set(SetKind::Binary, v, |b| render_binary(b)),
            AttributeValue::M(m) => {
                if depth > NESTING_DEPTH_MAX {
                    return Err(ValueError::TooDeep);
                }
                m.values().try_for_each(|v| v.validate_at(depth + 1))
            }
            AttributeValue::L(l) => {
                if depth > NESTING_DEPTH_MAX {
                    return Err(ValueError::TooDeep);
                }
                l.iter().try_for_each(|v| v.validate_at(depth + 1))
            }
            _ => Ok(()),
        }
    }
}

/// DynamoDB renders binary set members in base64 in its duplicate message.
fn render_binary(b: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(b)
}

fn check_set<T: PartialEq>(
    kind: SetKind,
    members: &[T],
    render: impl Fn(&T) -> String,
) -> Result<(), ValueError> {
    if members.is_empty() {
        return Err(ValueError::EmptySet(kind));
    }
    // Small sets (the common case) are checked pairwise without allocating;
    // larger ones by sorting their canonical renderings, which are equal
    // exactly when the members are (numbers render canonically).
    let dup = if members.len() <= 16 {
        members
            .iter()
            .enumerate()
            .any(|(i, a)| members[..i].iter().any(|b| a == b))
    } else {
        let mut rendered: Vec<String> = members.iter().map(&render).collect();
        rendered.sort_unstable();
        rendered.windows(2).any(|w| w[0] == w[1])
    };
    if dup {
        let list: Vec<String> = members.iter().map(render).collect();
        return Err(ValueError::DuplicateSetMember(
            kind,
            format!("[{}]", list.join(", ")),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn set_errors_use_dynamodb_texts() {
        let e = AttributeValue::Ss(vec![])
            .validate()
            .unwrap_err()
            .to_string();
        assert_eq!(
            e,
            "One or more parameter values were invalid: An string set  may not be empty"
        );
        let e = AttributeValue::Bs(vec![])
            .validate()
            .unwrap_err()
            .to_string();
        assert_eq!(
            e,
            "One or more parameter values were invalid: Binary sets should not be empty"
        );
        let e = AttributeValue::Ss(vec!["a".into(), "a".into()])
            .validate()
            .unwrap_err()
            .to_string();
        assert_eq!(
            e,
            "One or more parameter values were invalid: Input collection [a, a] contains duplicates."
        );
        let bs = AttributeValue::Bs(vec![b"b".to_vec(), b"b".to_vec()]);
        assert_eq!(
            bs.validate().unwrap_err().to_string(),
            "One or more parameter values were invalid: Input collection [Yg==, Yg==]of type BS contains duplicates."
        );
        let ns = AttributeValue::Ns(vec![
            Number::from_i64(1),
            Number::parse("1.0").expect("number"),
        ]);
        assert_eq!(
            ns.validate().unwrap_err().to_string(),
            "Input collection contains duplicates"
        );
    }

    #[test]
    fn large_sets_find_duplicates_too() {
        let mut members: Vec<String> = (0..100).map(|i| i.to_string()).collect();
        assert_eq!(AttributeValue::Ss(members.clone()).validate(), Ok(()));
        members.push("42".into());
        assert!(matches!(
            AttributeValue::Ss(members).validate(),
            Err(ValueError::DuplicateSetMember(SetKind::String, _))
        ));
    }

    #[test]
    fn nesting_deeper_than_32_is_rejected() {
        let mut v = AttributeValue::Null;
        for _ in 0..32 {
            v = AttributeValue::L(vec![v]);
        }
        assert_eq!(v.validate(), Ok(()));
        let v = AttributeValue::L(vec![v]);
        assert_eq!(v.validate(), Err(ValueError::TooDeep));
    }
}
