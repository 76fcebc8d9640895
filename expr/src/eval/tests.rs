use super::*;
use crate::ast::Name;

fn p(spec: &str) -> Path {
    // "a.b[2].c" without placeholders: enough for these tests.
    let mut elements = Vec::new();
    for part in spec.split('.') {
        let (name, rest) = part.split_once('[').map_or((part, ""), |(n, r)| (n, r));
        if !name.is_empty() {
            elements.push(PathElement::Attr(Name::Resolved(name.into())));
        }
        for idx in rest.split('[').filter(|s| !s.is_empty()) {
            let i = idx.trim_end_matches(']').parse().expect("index");
            elements.push(PathElement::Index(i));
        }
    }
    Path { elements }
}

fn n(v: i64) -> AttributeValue {
    AttributeValue::N(Number::from_i64(v))
}

fn s(v: &str) -> AttributeValue {
    AttributeValue::S(v.into())
}

fn val(v: AttributeValue) -> Operand {
    Operand::Value(ValueRef::Resolved(v))
}

fn sval(v: AttributeValue) -> SetOperand {
    SetOperand::Value(ValueRef::Resolved(v))
}

fn vref(v: AttributeValue) -> ValueRef {
    ValueRef::Resolved(v)
}

fn item() -> Item {
    let mut it = Item::new();
    it.insert("id".into(), s("x"));
    it.insert("n".into(), n(5));
    it.insert("s".into(), s("héllo"));
    it.insert(
        "tags".into(),
        AttributeValue::Ss(vec!["a".into(), "b".into()]),
    );
    it.insert("l".into(), AttributeValue::L(vec![n(0), n(1), n(2), n(3)]));
    let mut m = BTreeMap::new();
    m.insert("x".into(), n(1));
    m.insert("y".into(), AttributeValue::L(vec![s("p"), s("q")]));
    it.insert("m".into(), AttributeValue::M(m));
    it
}

fn cmp(path: &str, op: Comparator, v: AttributeValue) -> Condition {
    Condition::Compare {
        left: Operand::Path(p(path)),
        op,
        right: val(v),
    }
}

#[test]
fn comparisons_across_types_are_false_not_errors() {
    let it = item();
    assert!(eval_condition(&cmp("n", Comparator::Eq, n(5)), &it));
    assert!(!eval_condition(&cmp("n", Comparator::Eq, s("5")), &it));
    assert!(!eval_condition(&cmp("n", Comparator::Lt, s("9")), &it));
    assert!(eval_condition(&cmp("n", Comparator::Ne, s("5")), &it));
    assert!(eval_condition(&cmp("missing", Comparator::Ne, n(1)), &it));
    assert!(!eval_condition(&cmp("missing", Comparator::Lt, n(1)), &it));
    assert!(eval_condition(&cmp("m.y[1]", Comparator::Eq, s("q")), &it));
    assert!(eval_condition(
        &cmp(
            "tags",
            Comparator::Eq,
            AttributeValue::Ss(vec!["b".into(), "a".into()])
        ),
        &it
    ));
}

#[test]
fn size_counts_utf8_bytes_and_members() {
    let it = item();
    let size_is = |path: &str, v: i64| Condition::Compare {
        left: Operand::Size(p(path)),
        op: Comparator::Eq,
        right: val(n(v)),
    };
    assert!(eval_condition(&size_is("s", 6), &it));
    assert!(eval_condition(&size_is("tags", 2), &it));
    assert!(eval_condition(&size_is("l", 4), &it));
    assert!(eval_condition(&size_is("m", 2), &it));
    // A number has no size: the comparison is false either way.
    assert!(!eval_condition(&size_is("n", 1), &it));
    let ne = Condition::Compare {
        left: Operand::Size(p("n")),
        op: Comparator::Ne,
        right: val(n(1)),
    };
    assert!(eval_condition(&ne, &it));
    // An unresolved `size(:v)` of a resolved value evaluates as its size.
    let of_value = Condition::Compare {
        left: Operand::ValueSize(ValueRef::Resolved(s("héllo"))),
        op: Comparator::Eq,
        right: val(n(6)),
    };
    assert!(eval_condition(&of_value, &it));
}

#[test]
fn functions_follow_dynamodb() {
    let it = item();
    let f = |c: Condition| eval_condition(&c, &it);
    assert!(f(Condition::BeginsWith(
        Operand::Path(p("s")),
        val(s("hé"))
    )));
    assert!(!f(Condition::BeginsWith(
        Operand::Path(p("n")),
        val(s("5"))
    )));
    assert!(f(Condition::Contains(
        Operand::Path(p("tags")),
        val(s("a"))
    )));
    assert!(f(Condition::Contains(Operand::Path(p("s")), val(s("llo")))));
    assert!(f(Condition::Contains(Operand::Path(p("l")), val(n(3)))));
    assert!(!f(Condition::Contains(Operand::Path(p("tags")), val(n(1)))));
    let attribute_type = |o: Operand, t: &str| Condition::AttributeType(o, val(s(t)));
    assert!(f(attribute_type(Operand::Path(p("m")), "M")));
    assert!(!f(attribute_type(Operand::Path(p("m")), "L")));
    // Any operand has a type: a constant, or a size (a number).
    assert!(f(attribute_type(val(n(1)), "N")));
    assert!(f(attribute_type(Operand::Size(p("s")), "N")));
    assert!(!f(attribute_type(Operand::Path(p("missing")), "N")));
    assert!(f(Condition::AttributeExists(p("m.x"))));
    assert!(f(Condition::AttributeNotExists(p("m.z"))));
    let between = |lo, hi| Condition::Between {
        value: Operand::Path(p("n")),
        low: val(lo),
        high: val(hi),
    };
    assert!(f(between(n(5), n(5))));
    assert!(!f(between(n(6), n(9))));
    assert!(!f(between(s("a"), s("z"))));
    let in_list = Condition::In {
        value: Operand::Path(p("n")),
        list: vec![val(n(1)), val(n(5))],
    };
    assert!(f(in_list));
}

#[test]
fn projection_keeps_nested_parts_and_orders_list_elements() {
    let it = item();
    let proj = Projection {
        paths: vec![
            p("m.y[1]"),
            p("l[3]"),
            p("l[1]"),
            p("n"),
            p("nope"),
            p("m.x"),
        ],
    };
    let out = project(&it, &proj);
    assert_eq!(out.get("n"), Some(&n(5)));
    assert_eq!(out.get("l"), Some(&AttributeValue::L(vec![n(1), n(3)])));
    let mut m = BTreeMap::new();
    m.insert("x".into(), n(1));
    m.insert("y".into(), AttributeValue::L(vec![s("q")]));
    assert_eq!(out.get("m"), Some(&AttributeValue::M(m)));
    assert_eq!(out.len(), 3);
}

#[test]
fn updates_apply_against_the_old_item() {
    let mut it = item();
    let update = Update {
        actions: vec![
            // Both right-hand sides read the old n (5).
            UpdateAction::Set(p("n"), SetValue::Plus(SetOperand::Path(p("n")), sval(n(1)))),
            UpdateAction::Set(p("copy"), SetValue::Operand(SetOperand::Path(p("n")))),
            UpdateAction::Set(p("l[10]"), SetValue::Operand(sval(n(9)))),
            UpdateAction::Remove(p("l[0]")),
            UpdateAction::Remove(p("l[2]")),
            UpdateAction::Add(
                p("tags"),
                vref(AttributeValue::Ss(vec!["b".into(), "c".into()])),
            ),
            UpdateAction::Add(p("count"), vref(n(3))),
            UpdateAction::Delete(p("m.x"), vref(AttributeValue::Ss(vec!["a".into()]))),
        ],
    };
    let err = apply_update(&update, &mut it, true).unwrap_err();
    assert_eq!(err.message, BAD_OPERAND_TYPE, "DELETE from a number");
    let mut it = item();
    let update = Update {
        actions: update.actions[..7].to_vec(),
    };
    apply_update(&update, &mut it, true).expect("update");
    assert_eq!(it.get("n"), Some(&n(6)));
    assert_eq!(it.get("copy"), Some(&n(5)));
    // [0,1,2,3] + 9 appended, then old indexes 0 and 2 removed.
    assert_eq!(
        it.get("l"),
        Some(&AttributeValue::L(vec![n(1), n(3), n(9)]))
    );
    assert_eq!(
        it.get("tags"),
        Some(&AttributeValue::Ss(vec![
            "a".into(),
            "b".into(),
            "c".into()
        ]))
    );
    assert_eq!(it.get("count"), Some(&n(3)));
}

#[test]
fn deleting_every_member_removes_the_set() {
    let mut it = item();
    let update = Update {
        actions: vec![UpdateAction::Delete(
            p("tags"),
            vref(AttributeValue::Ss(vec!["a".into(), "b".into(), "z".into()])),
        )],
    };
    apply_update(&update, &mut it, true).expect("update");
    assert!(!it.contains_key("tags"));
}

#[test]
fn update_errors_use_dynamodb_texts() {
    let run = |action: UpdateAction| {
        apply_update(
            &Update {
                actions: vec![action],
            },
            &mut item(),
            true,
        )
        .unwrap_err()
        .message
    };
    assert_eq!(
        run(UpdateAction::Set(
            p("x"),
            SetValue::Operand(SetOperand::Path(p("missing")))
        )),
        MISSING_OPERAND
    );
    assert_eq!(
        run(UpdateAction::Set(
            p("missing.x"),
            SetValue::Operand(sval(n(1)))
        )),
        BAD_PATH
    );
    assert_eq!(
        run(UpdateAction::Set(
            p("x"),
            SetValue::Plus(SetOperand::Path(p("s")), sval(n(1)))
        )),
        BAD_OPERAND_TYPE
    );
    let append = SetOperand::ListAppend(
        Box::new(SetOperand::Path(p("n"))),
        Box::new(sval(AttributeValue::L(vec![]))),
    );
    assert_eq!(
        run(UpdateAction::Set(p("x"), SetValue::Operand(append))),
        BAD_OPERAND_TYPE
    );
    assert_eq!(run(UpdateAction::Add(p("s"), vref(n(1)))), BAD_OPERAND_TYPE);
    let big = AttributeValue::N(
        Number::parse("9.9999999999999999999999999999999999999E+125").expect("max"),
    );
    let mut it = item();
    it.insert("big".into(), big.clone());
    let err = apply_update(
        &Update {
            actions: vec![UpdateAction::Add(p("big"), vref(big))],
        },
        &mut it,
        true,
    )
    .unwrap_err();
    assert!(
        err.message.starts_with("Number overflow"),
        "{}",
        err.message
    );
}

#[test]
fn remove_under_a_bad_parent_fails_only_on_an_existing_item() {
    let update = Update {
        actions: vec![UpdateAction::Remove(p("s.x"))],
    };
    let err = apply_update(&update, &mut item(), true).unwrap_err();
    assert_eq!(err.message, BAD_PATH);
    let mut fresh = Item::new();
    apply_update(&update, &mut fresh, false).expect("ignored on a new item");
    // A missing last element is never an error.
    let update = Update {
        actions: vec![
            UpdateAction::Remove(p("m.nope")),
            UpdateAction::Remove(p("l[99]")),
        ],
    };
    apply_update(&update, &mut item(), true).expect("no-op");
}

#[test]
fn appends_past_the_end_go_in_index_order() {
    let mut it = item();
    let set = |i: u32, v: i64| {
        UpdateAction::Set(
            Path {
                elements: vec![
                    PathElement::Attr(Name::Resolved("l".into())),
                    PathElement::Index(i),
                ],
            },
            SetValue::Operand(sval(n(v))),
        )
    };
    let update = Update {
        actions: vec![set(84, 1), set(37, 2), set(17, 3), set(50, 4)],
    };
    apply_update(&update, &mut it, true).expect("update");
    assert_eq!(
        it.get("l"),
        Some(&AttributeValue::L(vec![
            n(0),
            n(1),
            n(2),
            n(3),
            n(3),
            n(2),
            n(4),
            n(1)
        ]))
    );
}

#[test]
fn arithmetic_needing_more_than_38_digits_is_an_overflow() {
    let mut it = item();
    let big = AttributeValue::N(Number::parse("1e50").expect("number"));
    let update = Update {
        actions: vec![UpdateAction::Set(
            p("x"),
            SetValue::Plus(sval(big), sval(n(1))),
        )],
    };
    let err = apply_update(&update, &mut it, true).unwrap_err();
    assert!(
        err.message.starts_with("Number overflow"),
        "{}",
        err.message
    );
}
