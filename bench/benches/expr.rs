//! Expression parsing and evaluation.
//!
//! `cargo bench -p tarn-bench --bench expr`. The `parse` cases take one
//! typical expression from text to syntax tree, semantic checks included
//! (the printed form is checked to parse back before timing starts); the
//! `resolve` case substitutes placeholders; the `eval` cases run resolved
//! trees against a typical item.

use std::hint::black_box;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use std::collections::BTreeMap;

use tarn_expr::parse::{parse_condition, parse_projection, parse_update};
use tarn_expr::resolve::Resolver;
use tarn_expr::{eval, AttributeValue, ExprKind, Item, Number};

const CONDITION: &str = "attribute_not_exists(#pk) OR (#s = :s AND #v < :v)";
const UPDATE: &str = "SET #a = :a, #b = if_not_exists(#b, :zero) + :one REMOVE #c ADD #d :set";
const PROJECTION: &str = "#pk, title, authors[0].#n, #meta.created, reviews[2].stars";

fn parsing(c: &mut Criterion) {
    let condition = parse_condition(CONDITION, ExprKind::Condition).expect("condition");
    assert_eq!(
        parse_condition(&condition.to_string(), ExprKind::Condition),
        Ok(condition)
    );
    let update = parse_update(UPDATE).expect("update");
    assert_eq!(parse_update(&update.to_string()), Ok(update));
    let projection = parse_projection(PROJECTION).expect("projection");
    assert_eq!(projection.paths.len(), 5);

    let mut g = c.benchmark_group("parse");
    g.throughput(Throughput::Elements(1));
    g.bench_function("condition", |b| {
        b.iter(|| parse_condition(black_box(CONDITION), ExprKind::Condition))
    });
    g.bench_function("update", |b| b.iter(|| parse_update(black_box(UPDATE))));
    g.bench_function("projection_5_paths", |b| {
        b.iter(|| parse_projection(black_box(PROJECTION)))
    });
    g.finish();
}

fn names() -> BTreeMap<String, String> {
    [
        ("#pk", "pk"),
        ("#s", "status"),
        ("#v", "version"),
        ("#a", "a"),
        ("#b", "b"),
        ("#c", "c"),
        ("#d", "d"),
        ("#meta", "meta"),
        ("#n", "name"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect()
}

fn values() -> BTreeMap<String, AttributeValue> {
    let n = |v| AttributeValue::N(Number::from_i64(v));
    [
        (":s", AttributeValue::S("active".into())),
        (":v", n(10)),
        (":a", AttributeValue::S("new".into())),
        (":zero", n(0)),
        (":one", n(1)),
        (":set", AttributeValue::Ss(vec!["x".into()])),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect()
}

/// A typical item: a dozen attributes, a nested map and a list.
fn item() -> Item {
    let mut it = Item::new();
    it.insert("pk".into(), AttributeValue::S("user#123".into()));
    it.insert("status".into(), AttributeValue::S("active".into()));
    it.insert("version".into(), AttributeValue::N(Number::from_i64(7)));
    it.insert(
        "title".into(),
        AttributeValue::S("A title of some length".into()),
    );
    it.insert("b".into(), AttributeValue::N(Number::from_i64(41)));
    it.insert("c".into(), AttributeValue::Bool(true));
    let author = |name: &str| {
        let mut m = BTreeMap::new();
        m.insert("name".to_owned(), AttributeValue::S(name.into()));
        AttributeValue::M(m)
    };
    it.insert(
        "authors".into(),
        AttributeValue::L(vec![author("ann"), author("bob")]),
    );
    let mut meta = BTreeMap::new();
    meta.insert(
        "created".to_owned(),
        AttributeValue::N(Number::from_i64(1_700_000_000)),
    );
    it.insert("meta".into(), AttributeValue::M(meta));
    for i in 0..4 {
        it.insert(format!("extra{i}"), AttributeValue::S("x".repeat(40)));
    }
    it
}

fn evaluation(c: &mut Criterion) {
    let (names, values) = (names(), values());
    let mut condition = parse_condition(CONDITION, ExprKind::Condition).expect("condition");
    let mut update = parse_update(UPDATE).expect("update");
    let mut projection = parse_projection(PROJECTION).expect("projection");
    let mut r = Resolver::new(Some(&names), Some(&values));
    r.condition(ExprKind::Condition, &mut condition)
        .expect("resolve");
    r.update(&mut update).expect("resolve");
    r.projection(&mut projection).expect("resolve");
    let item = item();
    assert!(eval::eval_condition(&condition, &item));

    let mut g = c.benchmark_group("eval");
    g.throughput(Throughput::Elements(1));
    g.bench_function("resolve_condition", |b| {
        b.iter(|| {
            let mut c = parse_condition(CONDITION, ExprKind::Condition).expect("condition");
            Resolver::new(Some(&names), Some(&values))
                .condition(ExprKind::Condition, &mut c)
                .map(|()| c)
        })
    });
    g.bench_function("condition", |b| {
        b.iter(|| eval::eval_condition(black_box(&condition), black_box(&item)))
    });
    g.bench_function("update", |b| {
        b.iter(|| {
            let mut it = item.clone();
            eval::apply_update(black_box(&update), &mut it, true).map(|()| it)
        })
    });
    g.bench_function("clone_item_baseline", |b| {
        b.iter(|| black_box(&item).clone())
    });
    g.bench_function("projection_5_paths", |b| {
        b.iter(|| eval::project(black_box(&item), black_box(&projection)))
    });
    g.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().measurement_time(Duration::from_secs(3));
    targets = parsing, evaluation
}
criterion_main!(benches);
