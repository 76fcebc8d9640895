//! End-to-end tests of the item operations (PutItem, GetItem, DeleteItem)
//! against the real `tarn` binary, driven by the official AWS SDK, and of the
//! wire protocol itself through raw HTTP requests for inputs the SDK cannot
//! express. Error cases assert the exception name and DynamoDB's exact
//! message (see `docs/research/dynamodb-errors.md`).

use std::collections::HashMap;

use aws_sdk_dynamodb::primitives::Blob;
use aws_sdk_dynamodb::types::{
    AttributeValue, ReturnConsumedCapacity, ReturnValue, ScalarAttributeType,
};
use aws_sdk_dynamodb::Client;
use tarn_tests::{
    b, canonical, crc32, create_table, get, hash_table, item, n, post_raw, put, range_table,
    raw_op, s, serialization_body, service_error, validation, validation_body, Server,
};

type Item = HashMap<String, AttributeValue>;

const ITEM_SIZE_BYTES_MAX: usize = 409_600;

async fn put_error(client: &Client, table: &str, item: Item) -> (String, String) {
    service_error(
        client
            .put_item()
            .table_name(table)
            .set_item(Some(item))
            .send()
            .await,
    )
}

async fn get_error(client: &Client, table: &str, key: Item) -> (String, String) {
    service_error(
        client
            .get_item()
            .table_name(table)
            .set_key(Some(key))
            .send()
            .await,
    )
}

async fn delete_error(client: &Client, table: &str, key: Item) -> (String, String) {
    service_error(
        client
            .delete_item()
            .table_name(table)
            .set_key(Some(key))
            .send()
            .await,
    )
}

fn canonical_item(item: &Item) -> Item {
    item.iter()
        .map(|(k, v)| (k.clone(), canonical(v)))
        .collect()
}

// ---- round trips ----

#[tokio::test]
async fn put_get_round_trips_every_attribute_type() {
    let server = Server::start();
    let client = server.client();
    hash_table(&client, "types").await;
    let all_bytes: Vec<u8> = (0..=255).collect();
    let nested = AttributeValue::M(item(&[
        ("str", s("inner")),
        ("num", n("-12.25")),
        ("bin", b(&[0, 0, 1])),
        ("flag", AttributeValue::Bool(false)),
        ("none", AttributeValue::Null(true)),
        (
            "list",
            AttributeValue::L(vec![
                s("x"),
                n("1"),
                AttributeValue::L(vec![]),
                AttributeValue::M(HashMap::new()),
                AttributeValue::M(item(&[(
                    "deep",
                    AttributeValue::L(vec![AttributeValue::Ss(vec!["q".into(), "r".into()])]),
                )])),
            ]),
        ),
        ("strings", AttributeValue::Ss(vec!["b".into(), "a".into()])),
    ]));
    let stored = item(&[
        ("pk", s("all")),
        ("s", s("héllo, wörld ✓")),
        ("n", n("42")),
        ("b", b(&all_bytes)),
        ("t", AttributeValue::Bool(true)),
        ("f", AttributeValue::Bool(false)),
        ("z", AttributeValue::Null(true)),
        ("m", nested),
        (
            "l",
            AttributeValue::L(vec![s("a"), n("2"), AttributeValue::Bool(true)]),
        ),
        (
            "ss",
            AttributeValue::Ss(vec!["zeta".into(), "alpha".into(), "".into()]),
        ),
        (
            "ns",
            AttributeValue::Ns(vec!["3".into(), "-1".into(), "0.5".into()]),
        ),
        (
            "bs",
            AttributeValue::Bs(vec![
                Blob::new(vec![1u8, 2]),
                Blob::new(vec![255u8]),
                Blob::new(vec![0u8]),
            ]),
        ),
        ("empty_list", AttributeValue::L(vec![])),
        ("empty_map", AttributeValue::M(HashMap::new())),
    ]);
    put(&client, "types", stored.clone()).await;
    let got = get(&client, "types", item(&[("pk", s("all"))]))
        .await
        .expect("item");
    assert_eq!(canonical_item(&got), canonical_item(&stored));
    // Binary comes back byte for byte.
    assert_eq!(got.get("b"), Some(&b(&all_bytes)));
}

#[tokio::test]
async fn numbers_come_back_canonical() {
    let server = Server::start();
    let client = server.client();
    hash_table(&client, "numbers").await;
    let cases = [
        ("1.50", "1.5"),
        ("1e2", "100"),
        ("-0", "0"),
        ("0.000", "0"),
        ("007", "7"),
        ("-1.0E-3", "-0.001"),
        (
            "12345678901234567890123456789012345678",
            "12345678901234567890123456789012345678",
        ),
        ("5E+3", "5000"),
    ];
    let mut stored = item(&[("pk", s("n"))]);
    for (i, (input, _)) in cases.iter().enumerate() {
        stored.insert(format!("n{i}"), n(input));
    }
    stored.insert(
        "set".into(),
        AttributeValue::Ns(vec!["1.50".into(), "1e2".into()]),
    );
    stored.insert("doc".into(), AttributeValue::M(item(&[("x", n("2.000"))])));
    put(&client, "numbers", stored).await;
    let got = get(&client, "numbers", item(&[("pk", s("n"))]))
        .await
        .expect("item");
    for (i, (input, want)) in cases.iter().enumerate() {
        assert_eq!(
            got.get(&format!("n{i}")),
            Some(&n(want)),
            "{input} should come back as {want}"
        );
    }
    assert_eq!(
        got.get("set").map(canonical),
        Some(AttributeValue::Ns(vec!["1.5".into(), "100".into()]))
    );
    assert_eq!(
        got.get("doc"),
        Some(&AttributeValue::M(item(&[("x", n("2"))])))
    );
}

#[tokio::test]
async fn hash_and_range_keys_of_types_s_n_and_b_work() {
    let server = Server::start();
    let client = server.client();
    use ScalarAttributeType as T;
    let layouts = [
        ("keys-s", (T::S, None)),
        ("keys-n", (T::N, None)),
        ("keys-b", (T::B, None)),
        ("keys-sn", (T::S, Some(T::N))),
        ("keys-nb", (T::N, Some(T::B))),
        ("keys-bs", (T::B, Some(T::S))),
    ];
    let sample = |ty: &T, i: u8| match ty {
        T::S => s(&format!("v{i}")),
        T::N => n(&format!("{i}.5")),
        _ => b(&[0, i, 255]),
    };
    for (name, (hash, range)) in &layouts {
        create_table(
            &client,
            name,
            ("h", hash.clone()),
            range.clone().map(|r| ("r", r)),
        )
        .await;
        for i in 0..3u8 {
            let mut key = item(&[("h", sample(hash, i))]);
            if let Some(r) = range {
                key.insert("r".into(), sample(r, i + 1));
            }
            let mut full = key.clone();
            full.insert("payload".into(), n(&i.to_string()));
            put(&client, name, full.clone()).await;
            assert_eq!(get(&client, name, key).await, Some(full), "{name} #{i}");
        }
    }

    // Number keys compare numerically: 1.00 and 1 name the same item.
    put(
        &client,
        "keys-n",
        item(&[("h", n("1.00")), ("v", s("first"))]),
    )
    .await;
    put(
        &client,
        "keys-n",
        item(&[("h", n("1")), ("v", s("second"))]),
    )
    .await;
    let got = get(&client, "keys-n", item(&[("h", n("1e0"))])).await;
    assert_eq!(got, Some(item(&[("h", n("1")), ("v", s("second"))])));

    // Same hash, different range: distinct items.
    let a = item(&[("h", s("same")), ("r", n("1"))]);
    let b2 = item(&[("h", s("same")), ("r", n("2"))]);
    put(&client, "keys-sn", a.clone()).await;
    put(&client, "keys-sn", b2.clone()).await;
    assert_eq!(get(&client, "keys-sn", a.clone()).await, Some(a));
    assert_eq!(get(&client, "keys-sn", b2.clone()).await, Some(b2));
}

// ---- ReturnValues, missing items, projections ----

#[tokio::test]
async fn put_item_all_old_returns_the_replaced_item_only() {
    let server = Server::start();
    let client = server.client();
    hash_table(&client, "replace").await;
    let first = item(&[("pk", s("k")), ("v", n("1")), ("gone", s("soon"))]);
    let out = client
        .put_item()
        .table_name("replace")
        .set_item(Some(first.clone()))
        .return_values(ReturnValue::AllOld)
        .send()
        .await
        .expect("first put");
    assert_eq!(out.attributes, None, "nothing was replaced");
    let second = item(&[("pk", s("k")), ("v", n("2"))]);
    let out = client
        .put_item()
        .table_name("replace")
        .set_item(Some(second.clone()))
        .return_values(ReturnValue::AllOld)
        .send()
        .await
        .expect("second put");
    assert_eq!(out.attributes, Some(first));
    // NONE (and the default) return nothing.
    let out = client
        .put_item()
        .table_name("replace")
        .set_item(Some(second.clone()))
        .return_values(ReturnValue::None)
        .send()
        .await
        .expect("third put");
    assert_eq!(out.attributes, None);
    assert_eq!(
        get(&client, "replace", item(&[("pk", s("k"))])).await,
        Some(second)
    );
}

#[tokio::test]
async fn put_and_delete_item_refuse_return_values_other_than_all_old_or_none() {
    let server = Server::start();
    let client = server.client();
    hash_table(&client, "retvals").await;
    let only = validation("ReturnValues can only be ALL_OLD or NONE");
    for rv in [
        ReturnValue::AllNew,
        ReturnValue::UpdatedNew,
        ReturnValue::UpdatedOld,
    ] {
        let err = service_error(
            client
                .put_item()
                .table_name("retvals")
                .item("pk", s("k"))
                .return_values(rv.clone())
                .send()
                .await,
        );
        assert_eq!(err, only, "PutItem {rv:?}");
        let err = service_error(
            client
                .delete_item()
                .table_name("retvals")
                .key("pk", s("k"))
                .return_values(rv.clone())
                .send()
                .await,
        );
        assert_eq!(err, only, "DeleteItem {rv:?}");
    }
    assert_eq!(
        service_error(
            client
                .put_item()
                .table_name("retvals")
                .item("pk", s("k"))
                .return_values(ReturnValue::from("hi"))
                .send()
                .await
        ),
        validation(
            "1 validation error detected: Value 'hi' at 'returnValues' failed to satisfy constraint: Member must satisfy enum value set: [ALL_NEW, UPDATED_OLD, ALL_OLD, NONE, UPDATED_NEW]"
        )
    );
    // None of the refused puts wrote anything.
    assert_eq!(get(&client, "retvals", item(&[("pk", s("k"))])).await, None);
}

#[tokio::test]
async fn delete_item_all_old_returns_the_deleted_item() {
    let server = Server::start();
    let client = server.client();
    range_table(&client, "deletes").await;
    let stored = item(&[("pk", s("a")), ("sk", n("1")), ("v", s("x"))]);
    put(&client, "deletes", stored.clone()).await;
    let key = item(&[("pk", s("a")), ("sk", n("1"))]);
    let out = client
        .delete_item()
        .table_name("deletes")
        .set_key(Some(key.clone()))
        .return_values(ReturnValue::AllOld)
        .send()
        .await
        .expect("delete");
    assert_eq!(out.attributes, Some(stored));
    assert_eq!(get(&client, "deletes", key.clone()).await, None);

    // Deleting a missing item succeeds and returns nothing.
    let out = client
        .delete_item()
        .table_name("deletes")
        .set_key(Some(key))
        .return_values(ReturnValue::AllOld)
        .send()
        .await
        .expect("delete of a missing item");
    assert_eq!(out.attributes, None);
    let out = client
        .delete_item()
        .table_name("deletes")
        .key("pk", s("never"))
        .key("sk", n("0"))
        .send()
        .await
        .expect("delete of a never-written item");
    assert_eq!(out.attributes, None);
}

#[tokio::test]
async fn get_item_of_a_missing_item_returns_no_item_consistent_or_not() {
    let server = Server::start();
    let client = server.client();
    hash_table(&client, "sparse").await;
    put(&client, "sparse", item(&[("pk", s("here")), ("v", n("1"))])).await;
    for consistent in [false, true] {
        let out = client
            .get_item()
            .table_name("sparse")
            .key("pk", s("absent"))
            .consistent_read(consistent)
            .send()
            .await
            .expect("get");
        assert_eq!(out.item, None);
        let out = client
            .get_item()
            .table_name("sparse")
            .key("pk", s("here"))
            .consistent_read(consistent)
            .send()
            .await
            .expect("get");
        assert_eq!(out.item, Some(item(&[("pk", s("here")), ("v", n("1"))])));
    }
}

#[tokio::test]
async fn get_item_attributes_to_get_returns_only_those_attributes() {
    let server = Server::start();
    let client = server.client();
    hash_table(&client, "project").await;
    put(
        &client,
        "project",
        item(&[
            ("pk", s("k")),
            ("a", n("1")),
            ("b", s("two")),
            ("c", AttributeValue::Bool(true)),
        ]),
    )
    .await;
    let out = client
        .get_item()
        .table_name("project")
        .key("pk", s("k"))
        .attributes_to_get("a")
        .attributes_to_get("c")
        .attributes_to_get("missing")
        .send()
        .await
        .expect("get");
    assert_eq!(
        out.item,
        Some(item(&[("a", n("1")), ("c", AttributeValue::Bool(true))]))
    );
}

#[tokio::test]
async fn return_consumed_capacity_total_reports_units_per_operation() {
    let server = Server::start();
    let client = server.client();
    hash_table(&client, "capacity").await;
    let units = |c: Option<&aws_sdk_dynamodb::types::ConsumedCapacity>| {
        let c = c.expect("ConsumedCapacity");
        assert_eq!(c.table_name(), Some("capacity"));
        c.capacity_units().expect("CapacityUnits")
    };

    let out = client
        .put_item()
        .table_name("capacity")
        .item("pk", s("small"))
        .item("v", n("1"))
        .return_consumed_capacity(ReturnConsumedCapacity::Total)
        .send()
        .await
        .expect("put");
    assert_eq!(units(out.consumed_capacity()), 1.0);

    // 2 + 3 ("pk" "big") + 4 + 4991 ("data" and its value) = 5000 bytes.
    let big = item(&[("pk", s("big")), ("data", s(&"x".repeat(4991)))]);
    let out = client
        .put_item()
        .table_name("capacity")
        .set_item(Some(big))
        .return_consumed_capacity(ReturnConsumedCapacity::Total)
        .send()
        .await
        .expect("put big");
    assert_eq!(units(out.consumed_capacity()), 5.0);

    let out = client
        .get_item()
        .table_name("capacity")
        .key("pk", s("small"))
        .return_consumed_capacity(ReturnConsumedCapacity::Total)
        .send()
        .await
        .expect("eventually consistent get");
    assert_eq!(units(out.consumed_capacity()), 0.5);
    let out = client
        .get_item()
        .table_name("capacity")
        .key("pk", s("small"))
        .consistent_read(true)
        .return_consumed_capacity(ReturnConsumedCapacity::Total)
        .send()
        .await
        .expect("consistent get");
    assert_eq!(units(out.consumed_capacity()), 1.0);

    let out = client
        .delete_item()
        .table_name("capacity")
        .key("pk", s("small"))
        .return_consumed_capacity(ReturnConsumedCapacity::Total)
        .send()
        .await
        .expect("delete");
    assert_eq!(units(out.consumed_capacity()), 1.0);

    // Without the parameter there is no ConsumedCapacity.
    let out = client
        .get_item()
        .table_name("capacity")
        .key("pk", s("big"))
        .send()
        .await
        .expect("get");
    assert!(out.consumed_capacity().is_none());
}

// ---- errors: table and key ----

#[tokio::test]
async fn item_operations_on_a_missing_table_are_resource_not_found() {
    let server = Server::start();
    let client = server.client();
    let not_found = (
        "ResourceNotFoundException".to_owned(),
        "Requested resource not found".to_owned(),
    );
    assert_eq!(
        put_error(&client, "no-table", item(&[("pk", s("k"))])).await,
        not_found
    );
    assert_eq!(
        get_error(&client, "no-table", item(&[("pk", s("k"))])).await,
        not_found
    );
    assert_eq!(
        delete_error(&client, "no-table", item(&[("pk", s("k"))])).await,
        not_found
    );
}

#[tokio::test]
async fn item_operations_check_the_table_name_with_ordinary_constraints() {
    let server = Server::start();
    let client = server.client();
    let (code, message) = put_error(&client, "a;", item(&[("pk", s("k"))])).await;
    assert_eq!(code, "ValidationException");
    assert!(
        message.starts_with("2 validation errors detected: "),
        "{message}"
    );
    for part in [
        "Value 'a;' at 'tableName' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+",
        "Value 'a;' at 'tableName' failed to satisfy constraint: Member must have length greater than or equal to 3",
    ] {
        assert!(message.contains(part), "{message} lacks {part}");
    }
    let long = "a".repeat(256);
    assert_eq!(
        get_error(&client, &long, item(&[("pk", s("k"))])).await,
        validation(&format!(
            "1 validation error detected: Value '{long}' at 'tableName' failed to satisfy constraint: Member must have length less than or equal to 255"
        ))
    );
}

#[tokio::test]
async fn put_item_without_a_key_attribute_is_rejected() {
    let server = Server::start();
    let client = server.client();
    range_table(&client, "need-keys").await;
    assert_eq!(
        put_error(&client, "need-keys", item(&[("sk", n("1")), ("v", s("x"))])).await,
        validation("One or more parameter values were invalid: Missing the key pk in the item")
    );
    assert_eq!(
        put_error(&client, "need-keys", item(&[("pk", s("a")), ("v", s("x"))])).await,
        validation("One or more parameter values were invalid: Missing the key sk in the item")
    );
}

#[tokio::test]
async fn put_item_with_a_key_of_the_wrong_type_is_rejected() {
    let server = Server::start();
    let client = server.client();
    range_table(&client, "typed-keys").await;
    assert_eq!(
        put_error(&client, "typed-keys", item(&[("pk", n("1")), ("sk", n("1"))])).await,
        validation(
            "One or more parameter values were invalid: Type mismatch for key pk expected: S actual: N"
        )
    );
    assert_eq!(
        put_error(&client, "typed-keys", item(&[("pk", s("a")), ("sk", s("1"))])).await,
        validation(
            "One or more parameter values were invalid: Type mismatch for key sk expected: N actual: S"
        )
    );
    assert_eq!(
        put_error(
            &client,
            "typed-keys",
            item(&[("pk", AttributeValue::Ss(vec!["a".into()])), ("sk", n("1"))])
        )
        .await,
        validation(
            "One or more parameter values were invalid: Type mismatch for key pk expected: S actual: SS"
        )
    );
    assert_eq!(
        put_error(
            &client,
            "typed-keys",
            item(&[("pk", AttributeValue::Bool(true)), ("sk", n("1"))])
        )
        .await,
        validation(
            "One or more parameter values were invalid: Type mismatch for key pk expected: S actual: BOOL"
        )
    );
}

#[tokio::test]
async fn empty_string_and_binary_keys_are_rejected_with_each_operations_wording() {
    let server = Server::start();
    let client = server.client();
    hash_table(&client, "empty-s").await;
    create_table(&client, "empty-b", ("bk", ScalarAttributeType::B), None).await;
    assert_eq!(
        put_error(&client, "empty-s", item(&[("pk", s(""))])).await,
        validation(
            "One or more parameter values are not valid. The AttributeValue for a key attribute cannot contain an empty string value. Key: pk"
        )
    );
    assert_eq!(
        put_error(&client, "empty-b", item(&[("bk", b(b""))])).await,
        validation(
            "One or more parameter values are not valid. The AttributeValue for a key attribute cannot contain an empty binary value. Key: bk"
        )
    );
    let get_s = validation(
        "One or more parameter values were invalid: The AttributeValue for a key attribute cannot contain an empty string value. Key: pk",
    );
    let get_b = validation(
        "One or more parameter values were invalid: The AttributeValue for a key attribute cannot contain an empty binary value. Key: bk",
    );
    assert_eq!(
        get_error(&client, "empty-s", item(&[("pk", s(""))])).await,
        get_s
    );
    assert_eq!(
        get_error(&client, "empty-b", item(&[("bk", b(b""))])).await,
        get_b
    );
    assert_eq!(
        delete_error(&client, "empty-s", item(&[("pk", s(""))])).await,
        get_s
    );
    assert_eq!(
        delete_error(&client, "empty-b", item(&[("bk", b(b""))])).await,
        get_b
    );
}

#[tokio::test]
async fn get_and_delete_keys_that_do_not_match_the_schema_are_rejected() {
    let server = Server::start();
    let client = server.client();
    range_table(&client, "schema").await;
    put(&client, "schema", item(&[("pk", s("a")), ("sk", n("1"))])).await;
    let mismatch = validation("The provided key element does not match the schema");
    let bad_keys = [
        // An extra attribute.
        item(&[("pk", s("a")), ("sk", n("1")), ("x", s("y"))]),
        // The range key missing.
        item(&[("pk", s("a"))]),
        // The hash key missing.
        item(&[("sk", n("1"))]),
        // A wrong type.
        item(&[("pk", s("a")), ("sk", s("1"))]),
        item(&[("pk", n("1")), ("sk", n("1"))]),
        // The right count under the wrong name.
        item(&[("pk", s("a")), ("other", n("1"))]),
    ];
    for key in bad_keys {
        assert_eq!(
            get_error(&client, "schema", key.clone()).await,
            mismatch,
            "GetItem {key:?}"
        );
        assert_eq!(
            delete_error(&client, "schema", key.clone()).await,
            mismatch,
            "DeleteItem {key:?}"
        );
    }
    // The item is still there.
    assert!(
        get(&client, "schema", item(&[("pk", s("a")), ("sk", n("1"))]))
            .await
            .is_some()
    );
}

#[tokio::test]
async fn key_sizes_are_limited_to_2048_hash_and_1024_range_bytes() {
    let server = Server::start();
    let client = server.client();
    create_table(
        &client,
        "key-sizes",
        ("pk", ScalarAttributeType::S),
        Some(("sk", ScalarAttributeType::B)),
    )
    .await;
    let hash_too_big = validation(
        "One or more parameter values were invalid: Size of hashkey has exceeded the maximum size limit of2048 bytes",
    );
    let range_too_big = validation(
        "One or more parameter values were invalid: Aggregated size of all range keys has exceeded the size limit of 1024 bytes",
    );
    // At the limits: accepted. Sizes are UTF-8 bytes and decoded bytes.
    let max_hash = "é".repeat(1024);
    assert_eq!(max_hash.len(), 2048);
    let at_limits = item(&[("pk", s(&max_hash)), ("sk", b(&[7u8; 1024]))]);
    put(&client, "key-sizes", at_limits.clone()).await;
    assert_eq!(
        get(&client, "key-sizes", at_limits.clone()).await,
        Some(at_limits)
    );
    // One byte over.
    let over_hash = format!("{max_hash}x");
    assert_eq!(
        put_error(
            &client,
            "key-sizes",
            item(&[("pk", s(&over_hash)), ("sk", b(&[1]))])
        )
        .await,
        hash_too_big
    );
    assert_eq!(
        get_error(
            &client,
            "key-sizes",
            item(&[("pk", s(&over_hash)), ("sk", b(&[1]))])
        )
        .await,
        hash_too_big
    );
    assert_eq!(
        put_error(
            &client,
            "key-sizes",
            item(&[("pk", s("a")), ("sk", b(&[7u8; 1025]))])
        )
        .await,
        range_too_big
    );
    assert_eq!(
        get_error(
            &client,
            "key-sizes",
            item(&[("pk", s("a")), ("sk", b(&[7u8; 1025]))])
        )
        .await,
        range_too_big
    );
}

#[tokio::test]
async fn items_up_to_exactly_400_kb_are_accepted_and_larger_ones_rejected() {
    let server = Server::start();
    let client = server.client();
    hash_table(&client, "big-items").await;
    // Size = name bytes + value bytes: "pk" (2) + "k" (1) + "data" (4) + fill.
    let fill = ITEM_SIZE_BYTES_MAX - 2 - 1 - 4;
    let exact = item(&[("pk", s("k")), ("data", s(&"x".repeat(fill)))]);
    put(&client, "big-items", exact.clone()).await;
    assert_eq!(
        get(&client, "big-items", item(&[("pk", s("k"))])).await,
        Some(exact)
    );
    let t = client
        .describe_table()
        .table_name("big-items")
        .send()
        .await
        .expect("describe");
    assert_eq!(
        t.table().and_then(|t| t.table_size_bytes()),
        Some(ITEM_SIZE_BYTES_MAX as i64)
    );

    let too_big = validation("Item size has exceeded the maximum allowed size");
    let over = item(&[("pk", s("j")), ("data", s(&"x".repeat(fill + 1)))]);
    assert_eq!(put_error(&client, "big-items", over).await, too_big);
    // The same byte count reached through a longer attribute name.
    let over = item(&[("pk", s("j")), ("data2", s(&"x".repeat(fill)))]);
    assert_eq!(put_error(&client, "big-items", over.clone()).await, too_big);
    // DynamoDB checks the size before it looks the table up.
    assert_eq!(put_error(&client, "no-such-table", over).await, too_big);
    assert_eq!(
        get(&client, "big-items", item(&[("pk", s("j"))])).await,
        None
    );
}

// ---- errors: attribute values ----

#[tokio::test]
async fn invalid_numbers_are_rejected() {
    let server = Server::start();
    let client = server.client();
    hash_table(&client, "bad-numbers").await;
    let cases = [
        (
            "abc",
            "The parameter cannot be converted to a numeric value: abc",
        ),
        ("", "The parameter cannot be converted to a numeric value"),
        (
            "1234567890123456789012345678901234567890",
            "Attempting to store more than 38 significant digits in a Number",
        ),
        (
            "1e126",
            "Number overflow. Attempting to store a number with magnitude larger than supported range",
        ),
        (
            "-1e126",
            "Number overflow. Attempting to store a number with magnitude larger than supported range",
        ),
        (
            "1e-131",
            "Number underflow. Attempting to store a number with magnitude smaller than supported range",
        ),
        (
            "-1e-131",
            "Number underflow. Attempting to store a number with magnitude smaller than supported range",
        ),
    ];
    for (input, message) in cases {
        assert_eq!(
            put_error(
                &client,
                "bad-numbers",
                item(&[("pk", s("k")), ("n", n(input))])
            )
            .await,
            validation(message),
            "N {input:?}"
        );
    }
    // Inside a number set and a document too.
    assert_eq!(
        put_error(
            &client,
            "bad-numbers",
            item(&[
                ("pk", s("k")),
                ("ns", AttributeValue::Ns(vec!["1".into(), "b".into()]))
            ])
        )
        .await,
        validation("The parameter cannot be converted to a numeric value: b")
    );
    assert_eq!(
        put_error(
            &client,
            "bad-numbers",
            item(&[
                ("pk", s("k")),
                ("m", AttributeValue::M(item(&[("x", n("1e126"))])))
            ])
        )
        .await,
        validation(
            "Number overflow. Attempting to store a number with magnitude larger than supported range"
        )
    );
    // The extremes of the range are fine.
    put(
        &client,
        "bad-numbers",
        item(&[
            ("pk", s("edge")),
            ("hi", n("9.9999999999999999999999999999999999999E+125")),
            ("lo", n("1E-130")),
        ]),
    )
    .await;
    assert!(get(&client, "bad-numbers", item(&[("pk", s("edge"))]))
        .await
        .is_some());
    assert_eq!(
        get(&client, "bad-numbers", item(&[("pk", s("k"))])).await,
        None
    );
}

#[tokio::test]
async fn empty_sets_are_rejected() {
    let server = Server::start();
    let client = server.client();
    hash_table(&client, "empty-sets").await;
    let cases = [
        (
            AttributeValue::Ss(vec![]),
            "One or more parameter values were invalid: An string set  may not be empty",
        ),
        (
            AttributeValue::Ns(vec![]),
            "One or more parameter values were invalid: An number set  may not be empty",
        ),
        (
            AttributeValue::Bs(vec![]),
            "One or more parameter values were invalid: Binary sets should not be empty",
        ),
    ];
    for (value, message) in cases {
        assert_eq!(
            put_error(
                &client,
                "empty-sets",
                item(&[("pk", s("k")), ("set", value.clone())])
            )
            .await,
            validation(message),
            "{value:?}"
        );
    }
}

#[tokio::test]
async fn string_and_number_sets_with_duplicates_are_rejected() {
    let server = Server::start();
    let client = server.client();
    hash_table(&client, "dup-sets").await;
    assert_eq!(
        put_error(
            &client,
            "dup-sets",
            item(&[
                ("pk", s("k")),
                ("ss", AttributeValue::Ss(vec!["a".into(), "a".into()]))
            ])
        )
        .await,
        validation(
            "One or more parameter values were invalid: Input collection [a, a] contains duplicates."
        )
    );
    assert_eq!(
        put_error(
            &client,
            "dup-sets",
            item(&[
                ("pk", s("k")),
                ("ns", AttributeValue::Ns(vec!["1".into(), "1".into()]))
            ])
        )
        .await,
        validation("Input collection contains duplicates")
    );
}

/// DynamoDB names binary set members in base64 in this message, with no
/// space before "of" (dynalite's AWS-verified putItem tests).
#[tokio::test]
async fn binary_sets_with_duplicates_are_rejected_naming_members_in_base64() {
    let server = Server::start();
    let client = server.client();
    hash_table(&client, "dup-bs").await;
    assert_eq!(
        put_error(
            &client,
            "dup-bs",
            item(&[
                ("pk", s("k")),
                (
                    "bs",
                    AttributeValue::Bs(vec![Blob::new(b"b".to_vec()), Blob::new(b"b".to_vec())])
                )
            ])
        )
        .await,
        validation(
            "One or more parameter values were invalid: Input collection [Yg==, Yg==]of type BS contains duplicates."
        )
    );
}

#[tokio::test]
async fn null_false_is_rejected() {
    let server = Server::start();
    let client = server.client();
    hash_table(&client, "nulls").await;
    let message = validation(
        "One or more parameter values were invalid: Null attribute value types must have the value of true",
    );
    assert_eq!(
        put_error(
            &client,
            "nulls",
            item(&[("pk", s("k")), ("z", AttributeValue::Null(false))])
        )
        .await,
        message
    );
    assert_eq!(
        put_error(
            &client,
            "nulls",
            item(&[
                ("pk", s("k")),
                ("l", AttributeValue::L(vec![AttributeValue::Null(false)]))
            ])
        )
        .await,
        message
    );
}

#[tokio::test]
async fn empty_and_multi_type_attribute_values_are_rejected() {
    let server = Server::start();
    let client = server.client();
    hash_table(&client, "raw-values").await;
    let empty =
        "Supplied AttributeValue is empty, must contain exactly one of the supported datatypes";
    let two = "Supplied AttributeValue has more than one datatypes set, must contain exactly one of the supported datatypes";
    let cases = [
        (r#"{"pk":{"S":"k"},"v":{}}"#, empty),
        (r#"{"pk":{"S":"k"},"v":{"X":"unknown member"}}"#, empty),
        (r#"{"pk":{"S":"k"},"v":{"M":{"a":{}}}}"#, empty),
        (r#"{"pk":{"S":"k"},"v":{"L":[{}]}}"#, empty),
        (r#"{"pk":{"S":"k"},"v":{"S":"a","N":"1"}}"#, two),
        (r#"{"pk":{"S":"k"},"v":{"S":"a","BOOL":true}}"#, two),
        (r#"{"pk":{"S":"k"},"v":{"NULL":false}}"#, "One or more parameter values were invalid: Null attribute value types must have the value of true"),
        // The number check runs before the two-types check.
        (r#"{"pk":{"S":"k"},"v":{"S":"a","N":"x"}}"#, "The parameter cannot be converted to a numeric value: x"),
    ];
    for (item_json, message) in cases {
        let body = format!(r#"{{"TableName":"raw-values","Item":{item_json}}}"#);
        let r = raw_op(&server, "PutItem", &body).await;
        assert_eq!(r.status, 400, "{item_json}");
        assert_eq!(r.body, validation_body(message), "{item_json}");
    }
    // In a GetItem key too.
    let r = raw_op(
        &server,
        "GetItem",
        r#"{"TableName":"raw-values","Key":{"pk":{}}}"#,
    )
    .await;
    assert_eq!(r.status, 400);
    assert_eq!(r.body, validation_body(empty));
    assert_eq!(
        get(&client, "raw-values", item(&[("pk", s("k"))])).await,
        None
    );
}

#[tokio::test]
async fn empty_strings_and_binaries_outside_keys_are_allowed() {
    let server = Server::start();
    let client = server.client();
    hash_table(&client, "empties").await;
    let stored = item(&[
        ("pk", s("k")),
        ("s", s("")),
        ("b", b(b"")),
        ("ss", AttributeValue::Ss(vec!["".into()])),
        ("m", AttributeValue::M(item(&[("inner", s(""))]))),
        ("l", AttributeValue::L(vec![s(""), b(b"")])),
    ]);
    put(&client, "empties", stored.clone()).await;
    assert_eq!(
        get(&client, "empties", item(&[("pk", s("k"))])).await,
        Some(stored)
    );
}

// ---- the wire protocol ----

#[tokio::test]
async fn malformed_json_is_a_bare_serialization_exception() {
    let server = Server::start();
    let bare = r#"{"__type":"com.amazon.coral.service#SerializationException"}"#;
    // The CRC function agrees with the value DynamoDB sends for this body.
    assert_eq!(crc32(bare.as_bytes()), 3_948_637_019);
    for body in ["{", "not json", r#"{"TableName":"abc""#, ""] {
        let r = raw_op(&server, "DescribeTable", body).await;
        assert_eq!(r.status, 400, "{body:?}");
        assert_eq!(r.body, bare, "{body:?}");
        assert_eq!(r.header("x-amz-crc32"), Some("3948637019"));
    }
    // JSON is parsed before the target is looked at.
    let r = post_raw(&server, Some("DynamoDB_20120810.NoSuchThing"), "{").await;
    r.assert_standard_headers();
    assert_eq!((r.status, r.body.as_str()), (400, bare));
}

#[tokio::test]
async fn unknown_or_missing_targets_are_unknown_operation() {
    let server = Server::start();
    let unknown = r#"{"__type":"com.amazon.coral.service#UnknownOperationException"}"#;
    for target in [
        Some("DynamoDB_20120810.ListTable"),
        Some("DynamoDB_20120810.NoSuchThing"),
        Some("whatever"),
        None,
    ] {
        let r = post_raw(&server, target, "{}").await;
        r.assert_standard_headers();
        assert_eq!(r.status, 400, "{target:?}");
        assert_eq!(r.body, unknown, "{target:?}");
    }
}

/// ListTables' `Limit` is an Integer in DynamoDB's model (capacity units
/// are Longs). A numeric string there is accepted, as DynamoDB Local accepts
/// it; any other string is `STRING_VALUE cannot be converted to Integer`
/// (dynalite's AWS-verified listTables tests).
#[tokio::test]
async fn a_list_tables_limit_string_must_be_numeric() {
    let server = Server::start();
    let r = raw_op(&server, "ListTables", r#"{"Limit":"5"}"#).await;
    assert_eq!((r.status, r.body.as_str()), (200, r#"{"TableNames":[]}"#));
    for limit in [r#""five""#, r#""5.5""#, r#""""#, r#""99999999999""#] {
        let r = raw_op(&server, "ListTables", &format!(r#"{{"Limit":{limit}}}"#)).await;
        assert_eq!(r.status, 400, "{limit}");
        assert_eq!(
            r.body,
            serialization_body("STRING_VALUE cannot be converted to Integer"),
            "{limit}"
        );
    }
    // A numeric string still meets the member's constraints.
    let r = raw_op(&server, "ListTables", r#"{"Limit":"0"}"#).await;
    assert_eq!(
        (r.status, r.body.as_str()),
        (
            400,
            validation_body("1 validation error detected: Value '0' at 'limit' failed to satisfy constraint: Member must have value greater than or equal to 1").as_str()
        )
    );
}

/// String, number and binary sets come back in DynamoDB's shape, a JSON
/// array under `SS`/`NS`/`BS`. (dynamodb-admin's item page shows a string
/// set as `{}` against any server: it reads items through the JS
/// DocumentClient, which turns a set into a JS `Set`, and `JSON.stringify`
/// of a `Set` is `{}`; dynamodb-admin#519.)
#[tokio::test]
async fn sets_are_returned_as_json_arrays() {
    let server = Server::start();
    hash_table(&server.client(), "sets").await;
    let r = raw_op(
        &server,
        "PutItem",
        r#"{"TableName":"sets","Item":{"pk":{"S":"k"},"ss":{"SS":["b","a"]}}}"#,
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    for (op, body) in [
        (
            "GetItem",
            r#"{"TableName":"sets","Key":{"pk":{"S":"k"}},"ProjectionExpression":"ss"}"#,
        ),
        (
            "Scan",
            r#"{"TableName":"sets","ProjectionExpression":"ss"}"#,
        ),
    ] {
        let r = raw_op(&server, op, body).await;
        assert_eq!(r.status, 200, "{op}: {}", r.body);
        assert!(
            r.body.contains(r#"{"ss":{"SS":["a","b"]}}"#)
                || r.body.contains(r#"{"ss":{"SS":["b","a"]}}"#),
            "{op}: {}",
            r.body
        );
    }
}

/// A member of the wrong JSON type is a SerializationException worded by
/// where it sits, at any depth: a struct in a map or list is `Unexpected
/// value type in payload`, a struct or collection as a field `Unexpected
/// field type`, a collection inside a collection a Java class-cast text, and
/// an array where a map or struct belongs names the Java type (dynalite's
/// `assertType`, which runs against AWS; `docs/research/dynamodb-errors.md`).
#[tokio::test]
async fn wrong_json_types_at_any_depth_get_dynamodb_messages() {
    const VALUE: &str = "Unexpected value type in payload";
    const FIELD: &str = "Unexpected field type";
    const CAST: &str = "class sun.reflect.generics.reflectiveObjects.ParameterizedTypeImpl cannot be cast to class java.lang.Class (sun.reflect.generics.reflectiveObjects.ParameterizedTypeImpl and java.lang.Class are in module java.base of loader 'bootstrap')";
    let server = Server::start();
    let cases: &[(&str, &str, &str)] = &[
        ("PutItem", r#"{"TableName":"abc","Item":{"a":5}}"#, VALUE),
        ("PutItem", r#"{"TableName":"abc","Item":5}"#, FIELD),
        (
            "PutItem",
            r#"{"TableName":"abc","Item":[]}"#,
            "Unrecognized collection type java.util.Map<java.lang.String, com.amazonaws.dynamodb.v20120810.AttributeValue>",
        ),
        ("PutItem", r#"{"TableName":"abc","Item":{"a":{"M":{"b":{"L":[{"S":"x"},7]}}}}}"#, VALUE),
        (
            "PutItem",
            r#"{"TableName":"abc","Item":{"a":{"M":{"b":{"SS":["x",7]}}}}}"#,
            "NUMBER_VALUE cannot be converted to String",
        ),
        ("PutItem", r#"{"TableName":"abc","Item":{"a":{"M":5}}}"#, FIELD),
        ("GetItem", r#"{"TableName":"abc","Key":{"pk":true}}"#, VALUE),
        ("GetItem", r#"{"TableName":"abc","Key":{"pk":{"S":"a"}},"ConsistentRead":5}"#, "NUMBER_VALUE cannot be converted to Boolean"),
        ("DeleteItem", r#"{"TableName":"abc","Key":{"pk":{"S":"a"}},"Expected":{"a":5}}"#, VALUE),
        ("DeleteItem", r#"{"TableName":"abc","Key":{"pk":{"S":"a"}},"Expected":{"a":{"Value":5}}}"#, FIELD),
        (
            "PutItem",
            r#"{"TableName":"abc","Item":{},"Expected":[]}"#,
            "Unrecognized collection type java.util.Map<java.lang.String, com.amazonaws.dynamodb.v20120810.ExpectedAttributeValue>",
        ),
        (
            "UpdateItem",
            r#"{"TableName":"abc","Key":{},"AttributeUpdates":{"a":{"Value":{"N":1}}}}"#,
            "NUMBER_VALUE cannot be converted to String",
        ),
        ("UpdateItem", r#"{"TableName":"abc","Key":{},"ExpressionAttributeValues":{":v":"x"}}"#, VALUE),
        (
            "UpdateItem",
            r#"{"TableName":"abc","Key":{},"ExpressionAttributeNames":[]}"#,
            "Unrecognized collection type java.util.Map<java.lang.String, java.lang.String>",
        ),
        ("Query", r#"{"TableName":"abc","ExclusiveStartKey":{"pk":1}}"#, VALUE),
        ("Query", r#"{"TableName":"abc","KeyConditions":{"pk":5}}"#, VALUE),
        ("Query", r#"{"TableName":"abc","KeyConditions":{"pk":{"AttributeValueList":[5]}}}"#, VALUE),
        ("Query", r#"{"TableName":"abc","QueryFilter":{"a":{"AttributeValueList":5}}}"#, FIELD),
        (
            "Query",
            r#"{"TableName":"abc","QueryFilter":[]}"#,
            "Unrecognized collection type java.util.Map<java.lang.String, com.amazonaws.dynamodb.v20120810.Condition>",
        ),
        ("Scan", r#"{"TableName":"abc","ScanFilter":{"a":{"ComparisonOperator":1}}}"#, "NUMBER_VALUE cannot be converted to String"),
        ("BatchWriteItem", r#"{"RequestItems":{"abc":5}}"#, CAST),
        ("BatchWriteItem", r#"{"RequestItems":{"abc":[5]}}"#, VALUE),
        ("BatchWriteItem", r#"{"RequestItems":{"abc":[{"PutRequest":{"Item":{"a":5}}}]}}"#, VALUE),
        (
            "BatchWriteItem",
            r#"{"RequestItems":{"abc":[{"DeleteRequest":[]}]}}"#,
            "Unrecognized collection type class com.amazonaws.dynamodb.v20120810.DeleteRequest",
        ),
        ("BatchGetItem", r#"{"RequestItems":{"abc":{"Keys":[5]}}}"#, CAST),
        ("BatchGetItem", r#"{"RequestItems":{"abc":5}}"#, VALUE),
        ("TransactWriteItems", r#"{"TransactItems":[{"Put":{"TableName":"abc","Item":{"a":{"L":[true]}}}}]}"#, VALUE),
        ("TransactGetItems", r#"{"TransactItems":[{"Get":5}]}"#, FIELD),
        (
            "CreateTable",
            r#"{"TableName":"abc","KeySchema":[5]}"#,
            VALUE,
        ),
        (
            "CreateTable",
            r#"{"TableName":"abc","GlobalSecondaryIndexes":[{"IndexName":"gsi","Projection":{"NonKeyAttributes":[5]}}]}"#,
            "NUMBER_VALUE cannot be converted to String",
        ),
        (
            "CreateTable",
            r#"{"TableName":"abc","LocalSecondaryIndexes":[{"KeySchema":[{"AttributeName":"a","KeyType":true}]}]}"#,
            "TRUE_VALUE cannot be converted to String",
        ),
        (
            "CreateTable",
            r#"{"TableName":"abc","GlobalSecondaryIndexes":[{"ProvisionedThroughput":[]}]}"#,
            "Unrecognized collection type class com.amazonaws.dynamodb.v20120810.ProvisionedThroughput",
        ),
        (
            "UpdateTable",
            r#"{"TableName":"abc","GlobalSecondaryIndexUpdates":[{"Create":{"IndexName":"gsi","KeySchema":{}}}]}"#,
            "Start of structure or map found where not expected",
        ),
        ("DescribeTable", r#"{"TableName":5}"#, "NUMBER_VALUE cannot be converted to String"),
        ("DescribeTable", r#"{"TableName":true}"#, "TRUE_VALUE cannot be converted to String"),
        (
            "PutItem",
            r#"{"TableName":"abc","Item":{"pk":{"B":"23456"}}}"#,
            "Base64 encoded length is expected a multiple of 4 bytes but found: 5",
        ),
        // The first bad member in document order is the one reported.
        ("PutItem", r#"{"Item":{"a":5},"TableName":7}"#, VALUE),
        ("PutItem", r#"{"TableName":7,"Item":{"a":5}}"#, "NUMBER_VALUE cannot be converted to String"),
    ];
    for (op, body, message) in cases {
        let r = raw_op(&server, op, body).await;
        assert_eq!(r.status, 400, "{op} {body}");
        assert_eq!(r.body, serialization_body(message), "{op} {body}");
    }
}

#[tokio::test]
async fn every_response_carries_a_request_id_and_body_crc() {
    let server = Server::start();
    // Success, validation error, not found: all carry the headers.
    let r = raw_op(
        &server,
        "CreateTable",
        r#"{"TableName":"wire","KeySchema":[{"AttributeName":"pk","KeyType":"HASH"}],"AttributeDefinitions":[{"AttributeName":"pk","AttributeType":"S"}],"BillingMode":"PAY_PER_REQUEST"}"#,
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.header("content-type"), Some("application/x-amz-json-1.0"));
    let first_id = r.header("x-amzn-requestid").map(str::to_owned);
    let r = raw_op(
        &server,
        "PutItem",
        r#"{"TableName":"wire","Item":{"pk":{"S":"k"},"v":{"N":"1.50"}}}"#,
    )
    .await;
    assert_eq!((r.status, r.body.as_str()), (200, "{}"));
    let r = raw_op(
        &server,
        "GetItem",
        r#"{"TableName":"wire","Key":{"pk":{"S":"k"}}}"#,
    )
    .await;
    assert_eq!(r.status, 200);
    // Attribute order within the item is not part of the contract.
    let pk_first = r#"{"Item":{"pk":{"S":"k"},"v":{"N":"1.5"}}}"#;
    let v_first = r#"{"Item":{"v":{"N":"1.5"},"pk":{"S":"k"}}}"#;
    assert!(r.body == pk_first || r.body == v_first, "{}", r.body);
    assert_ne!(r.header("x-amzn-requestid").map(str::to_owned), first_id);
    let r = raw_op(&server, "DescribeTable", r#"{"TableName":"nope"}"#).await;
    assert_eq!(r.status, 400);
    assert_eq!(
        r.body,
        r#"{"__type":"com.amazonaws.dynamodb.v20120810#ResourceNotFoundException","message":"Requested resource not found: Table: nope not found"}"#
    );
    let r = raw_op(&server, "DescribeTable", "{}").await;
    assert_eq!(
        r.body,
        validation_body("The parameter 'TableName' is required but was not present in the request")
    );
    let r = raw_op(&server, "GetItem", "{}").await;
    assert_eq!(r.status, 400);
    assert!(
        r.body.starts_with(
            r#"{"__type":"com.amazon.coral.validate#ValidationException","message":"2 validation errors detected: "#
        ),
        "{}",
        r.body
    );
}

// ---- concurrency ----

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_puts_to_distinct_keys_all_land_and_are_counted() {
    const TASKS: usize = 8;
    const PUTS_PER_TASK: usize = 50;
    let server = Server::start();
    let client = server.client();
    range_table(&client, "busy").await;
    let mut handles = Vec::new();
    for t in 0..TASKS {
        let client = client.clone();
        handles.push(tokio::spawn(async move {
            for i in 0..PUTS_PER_TASK {
                client
                    .put_item()
                    .table_name("busy")
                    .item("pk", s(&format!("task{t}")))
                    .item("sk", n(&i.to_string()))
                    .item("v", s(&format!("{t}/{i}")))
                    .send()
                    .await
                    .expect("concurrent put");
            }
        }));
    }
    for h in handles {
        h.await.expect("task");
    }
    for t in 0..TASKS {
        for i in 0..PUTS_PER_TASK {
            let got = get(
                &client,
                "busy",
                item(&[("pk", s(&format!("task{t}"))), ("sk", n(&i.to_string()))]),
            )
            .await
            .unwrap_or_else(|| panic!("item {t}/{i} missing"));
            assert_eq!(got.get("v"), Some(&s(&format!("{t}/{i}"))));
        }
    }
    let out = client
        .describe_table()
        .table_name("busy")
        .send()
        .await
        .expect("describe");
    assert_eq!(
        out.table().and_then(|t| t.item_count()),
        Some((TASKS * PUTS_PER_TASK) as i64)
    );
}

/// Attribute names outside keys may be up to 64 KB less one byte, and not
/// empty, on every path that names an attribute: items, keys, legacy
/// parameters and `ExpressionAttributeNames` (ScyllaDB test_limits.py:
/// 65535 works, 65536 fails with "Attribute name"; the texts are
/// DynamoDB's, see docs/research/dynamodb-errors.md §11).
#[tokio::test]
async fn attribute_names_may_not_be_empty_or_longer_than_64_kb() {
    const EMPTY: &str = "Empty attribute name";
    const LARGE: &str = "Attribute name is too large, must be less than 65536 bytes";
    let server = Server::start();
    let client = server.client();
    tarn_tests::hash_table(&client, "names").await;
    let max = "n".repeat(65_535);
    let long = "n".repeat(65_536);
    let cases: Vec<(&str, String, String)> = vec![
        ("PutItem", r#"{"TableName":"names","Item":{"pk":{"S":"a"},"":{"S":"x"}}}"#.to_owned(), EMPTY.to_owned()),
        ("PutItem", format!(r#"{{"TableName":"names","Item":{{"pk":{{"S":"a"}},"{long}":{{"S":"x"}}}}}}"#), LARGE.to_owned()),
        ("GetItem", r#"{"TableName":"names","Key":{"":{"S":"a"}}}"#.to_owned(), EMPTY.to_owned()),
        ("GetItem", r#"{"TableName":"names","Key":{"pk":{"S":"a"}},"AttributesToGet":["a",""]}"#.to_owned(), EMPTY.to_owned()),
        ("GetItem", format!(r##"{{"TableName":"names","Key":{{"pk":{{"S":"a"}}}},"ProjectionExpression":"#n","ExpressionAttributeNames":{{"#n":"{long}"}}}}"##), format!("ExpressionAttributeNames contains invalid value: {LARGE} for key #n")),
        ("UpdateItem", r##"{"TableName":"names","Key":{"pk":{"S":"a"}},"UpdateExpression":"SET #n = :v","ExpressionAttributeNames":{"#n":""},"ExpressionAttributeValues":{":v":{"S":"x"}}}"##.to_owned(), format!("ExpressionAttributeNames contains invalid value: {EMPTY} for key #n")),
        ("UpdateItem", format!(r#"{{"TableName":"names","Key":{{"pk":{{"S":"a"}}}},"AttributeUpdates":{{"{long}":{{"Value":{{"N":"2"}},"Action":"PUT"}}}}}}"#), LARGE.to_owned()),
        ("DeleteItem", r#"{"TableName":"names","Key":{"pk":{"S":"a"}},"Expected":{"":{"Exists":false}}}"#.to_owned(), EMPTY.to_owned()),
        ("Query", r#"{"TableName":"names","KeyConditions":{"pk":{"ComparisonOperator":"EQ","AttributeValueList":[{"S":"a"}]}},"QueryFilter":{"":{"ComparisonOperator":"NOT_NULL"}}}"#.to_owned(), EMPTY.to_owned()),
        ("Scan", format!(r#"{{"TableName":"names","ScanFilter":{{"{long}":{{"ComparisonOperator":"NULL"}}}}}}"#), LARGE.to_owned()),
        ("BatchWriteItem", r#"{"RequestItems":{"names":[{"PutRequest":{"Item":{"pk":{"S":"b"},"":{"N":"1"}}}}]}}"#.to_owned(), EMPTY.to_owned()),
        ("TransactWriteItems", format!(r#"{{"TransactItems":[{{"Put":{{"TableName":"names","Item":{{"pk":{{"S":"c"}},"{long}":{{"N":"1"}}}}}}}}]}}"#), LARGE.to_owned()),
    ];
    for (op, body, message) in &cases {
        let r = raw_op(&server, op, body).await;
        assert_eq!(r.status, 400, "{op}");
        assert_eq!(r.body, validation_body(message), "{op}");
    }
    // Nothing was written by the refused requests.
    let r = raw_op(&server, "Scan", r#"{"TableName":"names"}"#).await;
    assert_eq!(r.body, r#"{"Items":[],"Count":0,"ScannedCount":0}"#);
    // 65535 bytes is allowed, in an item and through every other path.
    client
        .put_item()
        .table_name("names")
        .item("pk", s("a"))
        .item(&max, n("1"))
        .send()
        .await
        .expect("put a 65535-byte name");
    let got = client
        .get_item()
        .table_name("names")
        .key("pk", s("a"))
        .projection_expression("#n")
        .expression_attribute_names("#n", &max)
        .consistent_read(true)
        .send()
        .await
        .expect("get by a 65535-byte name")
        .item
        .expect("item");
    assert_eq!(got.get(&max), Some(&n("1")));
    client
        .update_item()
        .table_name("names")
        .key("pk", s("a"))
        .update_expression("SET #n = #n + :one")
        .expression_attribute_names("#n", &max)
        .expression_attribute_values(":one", n("1"))
        .send()
        .await
        .expect("update a 65535-byte name");
    let got = client
        .get_item()
        .table_name("names")
        .key("pk", s("a"))
        .attributes_to_get(&max)
        .consistent_read(true)
        .send()
        .await
        .expect("get by AttributesToGet")
        .item
        .expect("item");
    assert_eq!(got.get(&max), Some(&n("2")));
}

/// A document may nest 32 levels of maps and lists; one more is refused
/// with DynamoDB's text (`docs/research/transaction-errors.md`; Alternator's
/// `test_exceed_nested_level_a_little` matches `nested` in it).
#[tokio::test]
async fn documents_nest_at_most_32_levels() {
    let server = Server::start();
    let client = server.client();
    hash_table(&client, "nesting").await;
    let nested = |levels: usize| {
        (0..levels).fold(s("leaf"), |inner, i| {
            if i % 2 == 0 {
                AttributeValue::M(HashMap::from([("a".to_owned(), inner)]))
            } else {
                AttributeValue::L(vec![inner])
            }
        })
    };
    put(
        &client,
        "nesting",
        item(&[("pk", s("deep")), ("doc", nested(32))]),
    )
    .await;
    assert_eq!(
        put_error(
            &client,
            "nesting",
            item(&[("pk", s("deeper")), ("doc", nested(33))])
        )
        .await,
        validation(
            "Nesting Levels have exceeded supported limits: Attributes in the item have nested levels beyond supported limit"
        )
    );
}
