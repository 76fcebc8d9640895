//! Random operation sequences against the engine and a `BTreeMap` model,
//! with the engine closed and reopened from disk in between: every read
//! agrees with the model, and nothing written is lost across a reopen.

#![no_main]

use std::collections::BTreeMap;

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use tarn_engine::{
    BillingMode, CreateTable, Durability, Engine, KeyAttr, KeySchema, Options, PageOptions,
    QueryRequest,
};
use tarn_expr::{AttributeValue, Item, Number, ScalarType};

#[derive(Arbitrary, Debug)]
enum Op {
    Put { pk: u8, sk: u8, value: u16 },
    Delete { pk: u8, sk: u8 },
    Get { pk: u8, sk: u8 },
    Query { pk: u8, forward: bool, limit: u8 },
    Reopen,
}

const OPS_MAX: usize = 64;

fn key(pk: u8, sk: u8) -> Item {
    Item::from([
        ("pk".to_owned(), AttributeValue::S(format!("p{}", pk % 4))),
        ("sk".to_owned(), AttributeValue::N(Number::from_i64(i64::from(sk % 16)))),
    ])
}

fn open(dir: &std::path::Path) -> Engine {
    Engine::open(Options {
        data_dir: Some(dir.to_path_buf()),
        durability: Durability::Buffered,
        ..Options::default()
    })
    .expect("open")
}

fuzz_target!(|ops: Vec<Op>| {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut engine = open(dir.path());
    let attr = |name: &str, ty| KeyAttr {
        name: name.into(),
        ty,
    };
    engine
        .create_table(CreateTable {
            name: "model".into(),
            key_schema: KeySchema {
                hash: attr("pk", ScalarType::S),
                range: Some(attr("sk", ScalarType::N)),
            },
            attribute_definitions: vec![attr("pk", ScalarType::S), attr("sk", ScalarType::N)],
            billing_mode: BillingMode::PayPerRequest,
            throughput: None,
            indexes: Vec::new(),
            settings: Default::default(),
            stream: None,
        })
        .expect("create");
    let mut model: BTreeMap<(u8, u8), Item> = BTreeMap::new();
    for op in ops.into_iter().take(OPS_MAX) {
        match op {
            Op::Put { pk, sk, value } => {
                let mut item = key(pk, sk);
                item.insert("v".into(), AttributeValue::N(Number::from_i64(i64::from(value))));
                let old = engine.put_item("model", item.clone(), None).expect("put").old;
                assert_eq!(old, model.insert((pk % 4, sk % 16), item));
            }
            Op::Delete { pk, sk } => {
                let old = engine.delete_item("model", &key(pk, sk), None).expect("delete").old;
                assert_eq!(old, model.remove(&(pk % 4, sk % 16)));
            }
            Op::Get { pk, sk } => {
                let got = engine.get_item("model", &key(pk, sk)).expect("get");
                assert_eq!(got.as_ref(), model.get(&(pk % 4, sk % 16)));
            }
            Op::Query { pk, forward, limit } => {
                let partition = [AttributeValue::S(format!("p{}", pk % 4))];
                let limit = usize::from(limit % 8) + 1;
                let page = engine
                    .query(
                        "model",
                        &QueryRequest {
                            index: None,
                            partition: &partition,
                            sort_prefix: &[],
                            sort: None,
                            forward,
                            page: PageOptions {
                                limit: Some(limit),
                                ..PageOptions::default()
                            },
                        },
                    )
                    .expect("query");
                let mut expected: Vec<&Item> = model
                    .range((pk % 4, 0)..=(pk % 4, 15))
                    .map(|(_, v)| v)
                    .collect();
                if !forward {
                    expected.reverse();
                }
                expected.truncate(limit);
                let got: Vec<&Item> = page.items.iter().collect();
                assert_eq!(got, expected);
            }
            Op::Reopen => {
                drop(engine);
                engine = open(dir.path());
            }
        }
    }
});
