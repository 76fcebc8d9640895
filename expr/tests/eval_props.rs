//! Properties of expression evaluation: the algebra of conditions, agreement
//! of comparisons with the key order, and what updates leave behind.

use proptest::prelude::*;
use tarn_expr::ast::{
    Comparator, Condition, Name, Operand, Path, PathElement, Projection, SetOperand, SetValue,
    Update, UpdateAction, ValueRef,
};
use tarn_expr::eval::{apply_update, eval_condition, get_path, project, values_equal};
use tarn_expr::{key, AttributeValue, Item, Number};

fn path(name: &str) -> Path {
    Path {
        elements: vec![PathElement::Attr(Name::Resolved(name.into()))],
    }
}

fn val(v: AttributeValue) -> Operand {
    Operand::Value(ValueRef::Resolved(v))
}

fn attr(name: &str) -> Operand {
    Operand::Path(path(name))
}

fn arb_scalar() -> impl Strategy<Value = AttributeValue> {
    prop_oneof![
        "[a-c]{0,3}".prop_map(AttributeValue::S),
        (-50i64..50).prop_map(|n| AttributeValue::N(Number::from_i64(n))),
        proptest::collection::vec(0u8..3, 0..3).prop_map(AttributeValue::B),
    ]
}

fn arb_value() -> impl Strategy<Value = AttributeValue> {
    prop_oneof![
        arb_scalar(),
        any::<bool>().prop_map(AttributeValue::Bool),
        Just(AttributeValue::Null),
        proptest::collection::btree_set("[a-c]", 1..3)
            .prop_map(|s| AttributeValue::Ss(s.into_iter().collect())),
        proptest::collection::vec(arb_scalar(), 0..3).prop_map(AttributeValue::L),
    ]
}

/// Items over the attributes `a`, `b`, `c`, each possibly missing.
fn arb_item() -> impl Strategy<Value = Item> {
    proptest::collection::btree_map(
        prop_oneof![Just("a"), Just("b"), Just("c")],
        arb_value(),
        0..3,
    )
    .prop_map(|m| m.into_iter().map(|(k, v)| (k.to_owned(), v)).collect())
}

fn arb_comparator() -> impl Strategy<Value = Comparator> {
    prop_oneof![
        Just(Comparator::Eq),
        Just(Comparator::Ne),
        Just(Comparator::Lt),
        Just(Comparator::Le),
        Just(Comparator::Gt),
        Just(Comparator::Ge),
    ]
}

fn arb_operand() -> impl Strategy<Value = Operand> {
    prop_oneof![
        prop_oneof![Just("a"), Just("b"), Just("c")].prop_map(attr),
        arb_value().prop_map(val),
        prop_oneof![Just("a"), Just("b")].prop_map(|n| Operand::Size(path(n))),
    ]
}

fn arb_condition() -> impl Strategy<Value = Condition> {
    let leaf = prop_oneof![
        (arb_operand(), arb_comparator(), arb_operand())
            .prop_map(|(left, op, right)| Condition::Compare { left, op, right }),
        prop_oneof![Just("a"), Just("b")].prop_map(|n| Condition::AttributeExists(path(n))),
        (arb_operand(), arb_operand()).prop_map(|(a, b)| Condition::Contains(a, b)),
        (arb_operand(), arb_operand()).prop_map(|(a, b)| Condition::BeginsWith(a, b)),
    ];
    leaf.prop_recursive(3, 12, 2, |inner| {
        prop_oneof![
            (inner.clone(), inner.clone())
                .prop_map(|(a, b)| Condition::And(Box::new(a), Box::new(b))),
            (inner.clone(), inner.clone())
                .prop_map(|(a, b)| Condition::Or(Box::new(a), Box::new(b))),
            inner.prop_map(|a| Condition::Not(Box::new(a))),
        ]
    })
}

proptest! {
    #[test]
    fn not_negates_and_de_morgan_holds(c in arb_condition(), d in arb_condition(), item in arb_item()) {
        let not = |x: Condition| Condition::Not(Box::new(x));
        prop_assert_eq!(eval_condition(&not(c.clone()), &item), !eval_condition(&c, &item));
        let and = Condition::And(Box::new(c.clone()), Box::new(d.clone()));
        let or_of_nots = Condition::Or(Box::new(not(c.clone())), Box::new(not(d.clone())));
        prop_assert_eq!(eval_condition(&not(and), &item), eval_condition(&or_of_nots, &item));
    }

    /// `=` and `<>` are exact complements, and the orderings agree with the
    /// key order DynamoDB sorts by, for values of one key type.
    #[test]
    fn comparisons_agree_with_key_order(x in arb_scalar(), y in arb_scalar()) {
        let mut item = Item::new();
        item.insert("a".into(), x.clone());
        let holds = |op| eval_condition(&Condition::Compare { left: attr("a"), op, right: val(y.clone()) }, &item);
        prop_assert_eq!(holds(Comparator::Eq), !holds(Comparator::Ne));
        if x.type_name() == y.type_name() {
            let ord = key::compare(&x, &y);
            prop_assert_eq!(holds(Comparator::Lt), ord.is_lt());
            prop_assert_eq!(holds(Comparator::Le), ord.is_le());
            prop_assert_eq!(holds(Comparator::Gt), ord.is_gt());
            prop_assert_eq!(holds(Comparator::Ge), ord.is_ge());
            prop_assert_eq!(holds(Comparator::Eq), ord.is_eq());
        } else {
            for op in [Comparator::Eq, Comparator::Lt, Comparator::Le, Comparator::Gt, Comparator::Ge] {
                prop_assert!(!holds(op), "{:?} across types held", op);
            }
        }
    }

    #[test]
    fn between_is_two_comparisons_and_in_is_a_disjunction(
        x in arb_value(), lo in arb_scalar(), hi in arb_scalar(), list in proptest::collection::vec(arb_value(), 1..4),
    ) {
        let mut item = Item::new();
        item.insert("a".into(), x);
        let between = Condition::Between { value: attr("a"), low: val(lo.clone()), high: val(hi.clone()) };
        let both = Condition::And(
            Box::new(Condition::Compare { left: attr("a"), op: Comparator::Ge, right: val(lo) }),
            Box::new(Condition::Compare { left: attr("a"), op: Comparator::Le, right: val(hi) }),
        );
        prop_assert_eq!(eval_condition(&between, &item), eval_condition(&both, &item));
        let within = Condition::In { value: attr("a"), list: list.iter().cloned().map(val).collect() };
        let any_equal = list.iter().any(|v| values_equal(&item["a"], v));
        prop_assert_eq!(eval_condition(&within, &item), any_equal);
    }

    /// After `SET a = :v`, `a = :v` holds and nothing else changed; after
    /// `REMOVE a`, `attribute_not_exists(a)` holds.
    #[test]
    fn set_and_remove_do_what_they_say(item in arb_item(), v in arb_value()) {
        let mut after = item.clone();
        let set = Update { actions: vec![UpdateAction::Set(path("a"), SetValue::Operand(SetOperand::Value(ValueRef::Resolved(v.clone()))))] };
        apply_update(&set, &mut after, true).expect("set");
        let equal = Condition::Compare { left: attr("a"), op: Comparator::Eq, right: val(v) };
        prop_assert!(eval_condition(&equal, &after));
        for other in ["b", "c"] {
            prop_assert_eq!(item.get(other), after.get(other));
        }
        let remove = Update { actions: vec![UpdateAction::Remove(path("a"))] };
        apply_update(&remove, &mut after, true).expect("remove");
        let gone = Condition::AttributeNotExists(path("a"));
        prop_assert!(eval_condition(&gone, &after));
    }

    /// `ADD a :n` on a number gives exactly the sum; on a missing attribute,
    /// the operand.
    #[test]
    fn add_sums_exactly(start in proptest::option::of(-1_000_000i64..1_000_000), n in -1_000_000i64..1_000_000) {
        let mut item = Item::new();
        if let Some(s) = start {
            item.insert("a".into(), AttributeValue::N(Number::from_i64(s)));
        }
        let add = Update { actions: vec![UpdateAction::Add(path("a"), ValueRef::Resolved(AttributeValue::N(Number::from_i64(n))))] };
        apply_update(&add, &mut item, true).expect("add");
        prop_assert_eq!(item.get("a"), Some(&AttributeValue::N(Number::from_i64(start.unwrap_or(0) + n))));
    }

    /// A projection returns, at every projected top-level path, exactly what
    /// the item holds there, and nothing that was not asked for.
    #[test]
    fn projection_is_a_faithful_subset(item in arb_item(), names in proptest::collection::btree_set(prop_oneof![Just("a"), Just("b"), Just("z")], 0..3)) {
        let projection = Projection { paths: names.iter().map(|n| path(n)).collect() };
        let out = project(&item, &projection);
        for (k, v) in &out {
            prop_assert!(names.contains(k.as_str()));
            prop_assert_eq!(Some(v), get_path(&item, &path(k)));
        }
        for n in &names {
            prop_assert_eq!(out.contains_key(*n), item.contains_key(*n));
        }
    }
}
