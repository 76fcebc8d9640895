//! Key encodings and the item record codec.
//!
//! `cargo bench -p tarn-bench --bench codec`: encoding a string and a
//! number key, and encoding and decoding a typical 12-attribute item (with a
//! nested map and list) to and from its stored record.

use std::hint::black_box;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use tarn_engine::codec::{decode_item, encode_item};
use tarn_expr::{key, AttributeValue, Item, Number};

fn typical_item() -> Item {
    let n = |v: &str| AttributeValue::N(Number::parse(v).expect("number"));
    let s = |v: &str| AttributeValue::S(v.to_owned());
    let mut item = Item::new();
    item.insert("pk".into(), s("user#123456"));
    item.insert("sk".into(), n("1700000000123"));
    item.insert("name".into(), s("Ada Lovelace"));
    item.insert("email".into(), s("ada@example.com"));
    item.insert("age".into(), n("36"));
    item.insert("score".into(), n("98.625"));
    item.insert("active".into(), AttributeValue::Bool(true));
    item.insert(
        "tags".into(),
        AttributeValue::Ss(vec!["a".into(), "b".into(), "c".into()]),
    );
    item.insert("bio".into(), s(&"x".repeat(100)));
    item.insert(
        "address".into(),
        AttributeValue::M(
            [
                ("city", s("London")),
                ("zip", s("N1 9GU")),
                ("floor", n("3")),
            ]
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v))
            .collect(),
        ),
    );
    item.insert(
        "history".into(),
        AttributeValue::L(vec![n("1"), n("2"), s("three")]),
    );
    item.insert("nothing".into(), AttributeValue::Null);
    item
}

fn keys(c: &mut Criterion) {
    let s = AttributeValue::S("user#123456".into());
    let n = AttributeValue::N(Number::parse("1700000000123").expect("number"));
    let mut g = c.benchmark_group("key");
    g.throughput(Throughput::Elements(1));
    let mut out = Vec::with_capacity(64);
    g.bench_function("encode_s", |b| {
        b.iter(|| {
            out.clear();
            key::encode(black_box(&s), &mut out)
        })
    });
    g.bench_function("encode_n", |b| {
        b.iter(|| {
            out.clear();
            key::encode(black_box(&n), &mut out)
        })
    });
    g.finish();
}

fn items(c: &mut Criterion) {
    let item = typical_item();
    let mut record = Vec::new();
    encode_item(&item, &mut record);
    assert_eq!(decode_item(&record).as_ref(), Ok(&item));
    let mut g = c.benchmark_group("item");
    g.throughput(Throughput::Bytes(record.len() as u64));
    let mut out = Vec::with_capacity(record.len());
    g.bench_function("encode", |b| {
        b.iter(|| {
            out.clear();
            encode_item(black_box(&item), &mut out)
        })
    });
    g.bench_function("decode", |b| b.iter(|| decode_item(black_box(&record))));
    g.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().measurement_time(Duration::from_secs(3));
    targets = keys, items
}
criterion_main!(benches);
