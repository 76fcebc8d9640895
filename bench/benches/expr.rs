//! Expression parsing.
//!
//! `cargo bench -p tarn-bench --bench expr`. Each case parses one typical
//! expression from text to syntax tree, semantic checks included; the
//! printed form is checked to parse back before timing starts.

use std::hint::black_box;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use tarn_expr::parse::{parse_condition, parse_projection, parse_update};
use tarn_expr::ExprKind;

const CONDITION: &str = "attribute_not_exists(#pk) OR (#s = :s AND #v < :v)";
const UPDATE: &str = "SET #a = :a, #b = if_not_exists(#b, :zero) + :one REMOVE #c ADD #d :set";
const PROJECTION: &str = "#pk, title, authors[0].name, #meta.created, reviews[2].stars";

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

criterion_group! {
    name = benches;
    config = Criterion::default().measurement_time(Duration::from_secs(3));
    targets = parsing
}
criterion_main!(benches);
