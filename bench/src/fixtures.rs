//! Engine fixtures for the criterion benches: a hash+range table and its
//! items.

use tarn_engine::{BillingMode, CreateTable, KeyAttr, KeySchema};
use tarn_expr::{AttributeValue, Item, Number, ScalarType};

/// A hash+range table definition named `name` (pk: S, sk: N).
pub fn table(name: &str) -> CreateTable {
    CreateTable {
        name: name.into(),
        key_schema: KeySchema {
            hash: KeyAttr {
                name: "pk".into(),
                ty: ScalarType::S,
            },
            range: Some(KeyAttr {
                name: "sk".into(),
                ty: ScalarType::N,
            }),
        },
        attribute_definitions: vec![
            KeyAttr {
                name: "pk".into(),
                ty: ScalarType::S,
            },
            KeyAttr {
                name: "sk".into(),
                ty: ScalarType::N,
            },
        ],
        billing_mode: BillingMode::PayPerRequest,
        throughput: None,
        indexes: Vec::new(),
        stream: None,
        settings: Default::default(),
    }
}

/// The key of item `i`.
pub fn key(i: u64) -> Item {
    let mut k = Item::new();
    k.insert("pk".into(), AttributeValue::S(format!("user#{}", i / 10)));
    k.insert(
        "sk".into(),
        AttributeValue::N(Number::from_i64((i % 10) as i64)),
    );
    k
}

/// Item `i`: its key plus a few typical attributes, about 200 bytes.
pub fn item(i: u64) -> Item {
    let mut it = key(i);
    it.insert("name".into(), AttributeValue::S(format!("name number {i}")));
    it.insert(
        "score".into(),
        AttributeValue::N(Number::from_i64(i as i64 * 7)),
    );
    it.insert("active".into(), AttributeValue::Bool(i.is_multiple_of(2)));
    it.insert(
        "tags".into(),
        AttributeValue::Ss(vec!["a".into(), "b".into(), format!("t{i}")]),
    );
    it.insert("blob".into(), AttributeValue::S("x".repeat(100)));
    it
}
