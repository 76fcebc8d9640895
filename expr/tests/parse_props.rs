//! Property tests of the expression parsers and printers.
//!
//! - Random syntax trees print to text that parses back to the same tree.
//! - No input makes a parser panic, and every error names its parameter.
//! - Whatever parses prints to text that parses to the same tree again.

use proptest::prelude::*;
use tarn_expr::ast::{
    Comparator, Condition, Name, Operand, Path, PathElement, Projection, SetOperand, SetValue,
    Update, UpdateAction, ValueRef,
};
use tarn_expr::parse::{parse_condition, parse_projection, parse_update, EXPRESSION_BYTES_MAX};
use tarn_expr::ExprKind;

const KEYWORDS: &[&str] = &[
    "and", "or", "not", "between", "in", "set", "remove", "add", "delete",
];

fn literal() -> impl Strategy<Value = Name> {
    "[a-zA-Z][a-zA-Z0-9_]{0,6}"
        .prop_filter("keywords are not names", |s| {
            !KEYWORDS.iter().any(|k| k.eq_ignore_ascii_case(s))
        })
        .prop_map(Name::Literal)
}

fn name() -> impl Strategy<Value = Name> {
    prop_oneof![
        3 => literal(),
        1 => "#[a-zA-Z0-9_]{1,6}".prop_map(Name::Placeholder),
    ]
}

fn path() -> impl Strategy<Value = Path> {
    let element = prop_oneof![
        name().prop_map(PathElement::Attr),
        any::<u32>().prop_map(PathElement::Index),
    ];
    (name(), prop::collection::vec(element, 0..4)).prop_map(|(head, tail)| {
        let mut elements = vec![PathElement::Attr(head)];
        elements.extend(tail);
        Path { elements }
    })
}

fn value() -> impl Strategy<Value = ValueRef> {
    ":[a-zA-Z0-9_]{1,6}".prop_map(ValueRef::Placeholder)
}

fn operand() -> impl Strategy<Value = Operand> {
    prop_oneof![
        path().prop_map(Operand::Path),
        value().prop_map(Operand::Value),
        path().prop_map(Operand::Size),
        value().prop_map(Operand::ValueSize),
    ]
}

/// An operand that is not `size()`, which `begins_with` rejects.
fn plain_operand() -> impl Strategy<Value = Operand> {
    prop_oneof![
        path().prop_map(Operand::Path),
        value().prop_map(Operand::Value)
    ]
}

fn comparator() -> impl Strategy<Value = Comparator> {
    prop_oneof![
        Just(Comparator::Eq),
        Just(Comparator::Ne),
        Just(Comparator::Lt),
        Just(Comparator::Le),
        Just(Comparator::Gt),
        Just(Comparator::Ge),
    ]
}

fn predicate() -> impl Strategy<Value = Condition> {
    prop_oneof![
        (operand(), comparator(), operand()).prop_map(|(left, op, right)| Condition::Compare {
            left,
            op,
            right
        }),
        (operand(), operand(), operand()).prop_map(|(value, low, high)| Condition::Between {
            value,
            low,
            high
        }),
        (operand(), prop::collection::vec(operand(), 1..5))
            .prop_map(|(value, list)| Condition::In { value, list }),
        path().prop_map(Condition::AttributeExists),
        path().prop_map(Condition::AttributeNotExists),
        (operand(), value()).prop_map(|(a, v)| Condition::AttributeType(a, Operand::Value(v))),
        (plain_operand(), plain_operand()).prop_map(|(a, b)| Condition::BeginsWith(a, b)),
        (operand(), operand()).prop_map(|(a, b)| Condition::Contains(a, b)),
    ]
}

fn condition() -> impl Strategy<Value = Condition> {
    predicate().prop_recursive(5, 32, 2, |inner| {
        prop_oneof![
            (inner.clone(), inner.clone())
                .prop_map(|(a, b)| Condition::And(Box::new(a), Box::new(b))),
            (inner.clone(), inner.clone())
                .prop_map(|(a, b)| Condition::Or(Box::new(a), Box::new(b))),
            inner.prop_map(|a| Condition::Not(Box::new(a))),
        ]
    })
}

/// An operand that may stand inside a function or beside `+`/`-`: anything
/// but `list_append`, which DynamoDB allows only as a whole SET value.
fn nested_set_operand() -> impl Strategy<Value = SetOperand> {
    let leaf = prop_oneof![
        path().prop_map(SetOperand::Path),
        value().prop_map(SetOperand::Value),
    ];
    leaf.prop_recursive(3, 12, 1, |inner| {
        (path(), inner).prop_map(|(p, v)| SetOperand::IfNotExists(p, Box::new(v)))
    })
}

fn set_operand() -> impl Strategy<Value = SetOperand> {
    prop_oneof![
        nested_set_operand(),
        (nested_set_operand(), nested_set_operand())
            .prop_map(|(a, b)| SetOperand::ListAppend(Box::new(a), Box::new(b))),
    ]
}

fn set_value() -> impl Strategy<Value = SetValue> {
    prop_oneof![
        set_operand().prop_map(SetValue::Operand),
        (nested_set_operand(), nested_set_operand()).prop_map(|(a, b)| SetValue::Plus(a, b)),
        (nested_set_operand(), nested_set_operand()).prop_map(|(a, b)| SetValue::Minus(a, b)),
    ]
}

/// Actions of one clause kind (0 SET, 1 REMOVE, 2 ADD, 3 DELETE).
fn clause(kind: u8) -> BoxedStrategy<Vec<UpdateAction>> {
    let action: BoxedStrategy<UpdateAction> = match kind {
        0 => (path(), set_value())
            .prop_map(|(p, v)| UpdateAction::Set(p, v))
            .boxed(),
        1 => path().prop_map(UpdateAction::Remove).boxed(),
        2 => (path(), value())
            .prop_map(|(p, v)| UpdateAction::Add(p, v))
            .boxed(),
        _ => (path(), value())
            .prop_map(|(p, v)| UpdateAction::Delete(p, v))
            .boxed(),
    };
    prop::collection::vec(action, 1..4).boxed()
}

/// Each clause kind at most once, in any order.
fn update() -> impl Strategy<Value = Update> {
    Just(vec![0u8, 1, 2, 3])
        .prop_shuffle()
        .prop_flat_map(|kinds| (1..=4usize).prop_map(move |n| kinds[..n].to_vec()))
        .prop_flat_map(|kinds| kinds.into_iter().map(clause).collect::<Vec<_>>())
        .prop_map(|clauses| Update {
            actions: clauses.into_iter().flatten().collect(),
        })
}

fn projection() -> impl Strategy<Value = Projection> {
    prop::collection::vec(path(), 1..5).prop_map(|paths| Projection { paths })
}

/// Text built from the languages' own tokens, so that a good share of it
/// parses and the rest fails deep inside the grammar.
fn token_soup() -> impl Strategy<Value = String> {
    let token = prop::sample::select(vec![
        "a",
        "b",
        "Name",
        "#n",
        "#_",
        ":v",
        ":w",
        "0",
        "7",
        "(",
        ")",
        "[",
        "]",
        ".",
        ",",
        "=",
        "<>",
        "<",
        "<=",
        ">",
        ">=",
        "+",
        "-",
        "AND",
        "or",
        "NOT",
        "BETWEEN",
        "in",
        "SET",
        "remove",
        "ADD",
        "delete",
        "size",
        "size(",
        "attribute_exists(",
        "attribute_not_exists(",
        "attribute_type(",
        "begins_with(",
        "contains(",
        "if_not_exists(",
        "list_append(",
        "foo(",
        ":",
        "#",
        "_",
        "!",
        "ü",
    ]);
    let gap = prop::sample::select(vec!["", " ", "  ", "\n", "\t"]);
    prop::collection::vec((token, gap), 0..24).prop_map(|parts| {
        parts
            .into_iter()
            .map(|(t, g)| format!("{t}{g}"))
            .collect::<String>()
    })
}

fn any_text() -> impl Strategy<Value = String> {
    prop_oneof![
        token_soup(),
        any::<String>(),
        "[ -~]{0,40}",
        condition().prop_map(|c| c.to_string()),
        update().prop_map(|u| u.to_string()),
    ]
}

const CONDITION_KINDS: [(ExprKind, &str); 3] = [
    (ExprKind::Condition, "Invalid ConditionExpression: "),
    (ExprKind::Filter, "Invalid FilterExpression: "),
    (ExprKind::KeyCondition, "Invalid KeyConditionExpression: "),
];

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn printed_conditions_parse_back(c in condition()) {
        let text = c.to_string();
        prop_assert_eq!(parse_condition(&text, ExprKind::Condition), Ok(c), "{}", text);
    }

    #[test]
    fn printed_updates_parse_back(u in update()) {
        let text = u.to_string();
        prop_assert_eq!(parse_update(&text), Ok(u), "{}", text);
    }

    #[test]
    fn printed_projections_parse_back(p in projection()) {
        let text = p.to_string();
        prop_assert_eq!(parse_projection(&text), Ok(p), "{}", text);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1000))]

    #[test]
    fn parsers_never_panic_and_name_their_parameter(text in any_text()) {
        for (kind, prefix) in CONDITION_KINDS {
            if let Err(e) = parse_condition(&text, kind) {
                prop_assert!(e.message.starts_with(prefix), "{:?}: {}", text, e.message);
            }
        }
        if let Err(e) = parse_update(&text) {
            prop_assert!(e.message.starts_with("Invalid UpdateExpression: "), "{}", e.message);
        }
        if let Err(e) = parse_projection(&text) {
            prop_assert!(e.message.starts_with("Invalid ProjectionExpression: "), "{}", e.message);
        }
    }

    /// Printed text is spaced and parenthesised, so it may outgrow the size
    /// limit; below it, it must parse to the same tree.
    #[test]
    fn whatever_parses_prints_stably(text in any_text()) {
        if let Ok(c) = parse_condition(&text, ExprKind::Filter) {
            let printed = c.to_string();
            if printed.len() <= EXPRESSION_BYTES_MAX {
                prop_assert_eq!(parse_condition(&printed, ExprKind::Filter), Ok(c), "{:?}", text);
            }
        }
        if let Ok(u) = parse_update(&text) {
            let printed = u.to_string();
            if printed.len() <= EXPRESSION_BYTES_MAX {
                prop_assert_eq!(parse_update(&printed), Ok(u), "{:?}", text);
            }
        }
        if let Ok(p) = parse_projection(&text) {
            let printed = p.to_string();
            if printed.len() <= EXPRESSION_BYTES_MAX {
                prop_assert_eq!(parse_projection(&printed), Ok(p), "{:?}", text);
            }
        }
    }
}

/// The token soup is worth its keep only if some of it parses.
#[test]
fn token_soup_reaches_valid_expressions() {
    use proptest::strategy::ValueTree;
    use proptest::test_runner::TestRunner;

    let mut runner = TestRunner::deterministic();
    let strategy = token_soup();
    let mut parsed = 0;
    for _ in 0..5000 {
        let text = strategy.new_tree(&mut runner).expect("tree").current();
        if parse_condition(&text, ExprKind::Condition).is_ok()
            || parse_update(&text).is_ok()
            || parse_projection(&text).is_ok()
        {
            parsed += 1;
        }
    }
    assert!(parsed >= 50, "only {parsed} of 5000 token soups parsed");
}
