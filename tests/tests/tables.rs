//! End-to-end tests of the table operations (CreateTable, DescribeTable,
//! ListTables, DeleteTable, UpdateTable) against the real `tarn` binary,
//! driven by the official AWS SDK. Error cases assert the exception name and
//! DynamoDB's exact message (see `docs/research/dynamodb-errors.md`).

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use aws_sdk_dynamodb::types::{
    AttributeDefinition, AttributeValue, BillingMode, KeySchemaElement, KeyType,
    ProvisionedThroughput, ScalarAttributeType, TableStatus,
};
use aws_sdk_dynamodb::Client;
use tarn_tests::{s, service_error, validation, Server};

/// Bound of every polling loop: 200 x 25 ms = 5 s.
const POLL_ATTEMPTS_MAX: usize = 200;
const POLL_INTERVAL: Duration = Duration::from_millis(25);

fn key(name: &str, key_type: KeyType) -> KeySchemaElement {
    KeySchemaElement::builder()
        .attribute_name(name)
        .key_type(key_type)
        .build()
        .expect("key schema element")
}

fn def(name: &str, ty: ScalarAttributeType) -> AttributeDefinition {
    AttributeDefinition::builder()
        .attribute_name(name)
        .attribute_type(ty)
        .build()
        .expect("attribute definition")
}

fn throughput(read: i64, write: i64) -> ProvisionedThroughput {
    ProvisionedThroughput::builder()
        .read_capacity_units(read)
        .write_capacity_units(write)
        .build()
        .expect("throughput")
}

/// Creates a PROVISIONED (5/5) table keyed by the string `pk`.
async fn create_hash_table(client: &Client, name: &str) {
    client
        .create_table()
        .table_name(name)
        .key_schema(key("pk", KeyType::Hash))
        .attribute_definitions(def("pk", ScalarAttributeType::S))
        .provisioned_throughput(throughput(5, 5))
        .send()
        .await
        .expect("create table");
}

/// The error of a CreateTable of `name` with the given key schema and
/// attribute definitions (PAY_PER_REQUEST, so throughput plays no part).
async fn create_error(
    client: &Client,
    name: &str,
    keys: Vec<KeySchemaElement>,
    defs: Vec<AttributeDefinition>,
) -> (String, String) {
    service_error(
        client
            .create_table()
            .table_name(name)
            .set_key_schema(Some(keys))
            .set_attribute_definitions(Some(defs))
            .billing_mode(BillingMode::PayPerRequest)
            .send()
            .await,
    )
}

fn not_found(table: &str) -> (String, String) {
    (
        "ResourceNotFoundException".to_owned(),
        format!("Requested resource not found: Table: {table} not found"),
    )
}

fn now_secs() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock after epoch")
        .as_secs_f64()
}

fn is_uuid(s: &str) -> bool {
    let groups: Vec<&str> = s.split('-').collect();
    groups.iter().map(|g| g.len()).eq([8, 4, 4, 4, 12])
        && groups
            .iter()
            .all(|g| g.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// Checks that DescribeTable does not find the table: right after
/// DeleteTable returns, with no waiting.
async fn assert_gone(client: &Client, name: &str) {
    assert_eq!(
        service_error(client.describe_table().table_name(name).send().await),
        not_found(name),
        "DescribeTable of {name} right after DeleteTable"
    );
}

// ---- CreateTable and DescribeTable ----

#[tokio::test]
async fn create_table_hash_only_provisioned_replies_creating_with_throughput() {
    let server = Server::start();
    let client = server.client();
    let out = client
        .create_table()
        .table_name("hash-only")
        .key_schema(key("id", KeyType::Hash))
        .attribute_definitions(def("id", ScalarAttributeType::N))
        .provisioned_throughput(throughput(7, 3))
        .send()
        .await
        .expect("create table");
    let t = out.table_description().expect("table description");
    assert_eq!(t.table_name(), Some("hash-only"));
    assert_eq!(t.table_status(), Some(&TableStatus::Creating));
    assert_eq!(t.key_schema(), &[key("id", KeyType::Hash)]);
    assert_eq!(
        t.attribute_definitions(),
        &[def("id", ScalarAttributeType::N)]
    );
    let pt = t.provisioned_throughput().expect("provisioned throughput");
    assert_eq!(pt.read_capacity_units(), Some(7));
    assert_eq!(pt.write_capacity_units(), Some(3));
    assert_eq!(pt.number_of_decreases_today(), Some(0));
    assert!(t.billing_mode_summary().is_none(), "{t:?}");
    assert_eq!(t.item_count(), Some(0));
    assert_eq!(t.table_size_bytes(), Some(0));
}

#[tokio::test]
async fn create_table_hash_range_pay_per_request_has_billing_mode_summary() {
    let server = Server::start();
    let client = server.client();
    let before = now_secs();
    let out = client
        .create_table()
        .table_name("hash-range")
        .key_schema(key("user", KeyType::Hash))
        .key_schema(key("at", KeyType::Range))
        .attribute_definitions(def("user", ScalarAttributeType::S))
        .attribute_definitions(def("at", ScalarAttributeType::B))
        .billing_mode(BillingMode::PayPerRequest)
        .send()
        .await
        .expect("create table");
    let t = out.table_description().expect("table description");
    assert_eq!(t.table_status(), Some(&TableStatus::Creating));
    assert_eq!(
        t.key_schema(),
        &[key("user", KeyType::Hash), key("at", KeyType::Range)]
    );
    let summary = t.billing_mode_summary().expect("billing mode summary");
    assert_eq!(summary.billing_mode(), Some(&BillingMode::PayPerRequest));
    let since = summary
        .last_update_to_pay_per_request_date_time()
        .expect("last update to pay per request")
        .as_secs_f64();
    assert!((before - 5.0..now_secs() + 5.0).contains(&since), "{since}");
    let pt = t.provisioned_throughput().expect("provisioned throughput");
    assert_eq!(pt.read_capacity_units(), Some(0));
    assert_eq!(pt.write_capacity_units(), Some(0));
}

#[tokio::test]
async fn describe_table_after_create_is_active_with_schema_arn_id_and_time() {
    let server = Server::start();
    let client = server.client();
    let before = now_secs();
    client
        .create_table()
        .table_name("Orders_2024.v1")
        .key_schema(key("customer", KeyType::Hash))
        .key_schema(key("order", KeyType::Range))
        // Definitions deliberately not in key order: the reply keeps the
        // request's order.
        .attribute_definitions(def("order", ScalarAttributeType::N))
        .attribute_definitions(def("customer", ScalarAttributeType::S))
        .provisioned_throughput(throughput(10, 20))
        .send()
        .await
        .expect("create table");
    client
        .put_item()
        .table_name("Orders_2024.v1")
        .item("customer", s("c1"))
        .item("order", AttributeValue::N("1".into()))
        .send()
        .await
        .expect("put item");

    let out = client
        .describe_table()
        .table_name("Orders_2024.v1")
        .send()
        .await
        .expect("describe table");
    let t = out.table().expect("table");
    assert_eq!(t.table_name(), Some("Orders_2024.v1"));
    assert_eq!(t.table_status(), Some(&TableStatus::Active));
    assert_eq!(
        t.key_schema(),
        &[key("customer", KeyType::Hash), key("order", KeyType::Range)]
    );
    assert_eq!(
        t.attribute_definitions(),
        &[
            def("order", ScalarAttributeType::N),
            def("customer", ScalarAttributeType::S)
        ]
    );
    assert_eq!(
        t.table_arn(),
        Some("arn:aws:dynamodb:us-east-1:000000000000:table/Orders_2024.v1")
    );
    let id = t.table_id().expect("table id");
    assert!(is_uuid(id), "TableId {id:?} is not a UUID");
    let created = t
        .creation_date_time()
        .expect("creation date time")
        .as_secs_f64();
    assert!(
        (before - 5.0..now_secs() + 5.0).contains(&created),
        "CreationDateTime {created} is not close to now ({before})"
    );
    assert_eq!(t.item_count(), Some(1));
    let pt = t.provisioned_throughput().expect("provisioned throughput");
    assert_eq!(
        (pt.read_capacity_units(), pt.write_capacity_units()),
        (Some(10), Some(20))
    );
    assert!(pt.last_increase_date_time().is_none());
    assert!(pt.last_decrease_date_time().is_none());

    // The id is stable across calls.
    let again = client
        .describe_table()
        .table_name("Orders_2024.v1")
        .send()
        .await
        .expect("describe table");
    assert_eq!(again.table().and_then(|t| t.table_id()), Some(id));
}

#[tokio::test]
async fn create_table_with_an_existing_name_is_resource_in_use() {
    let server = Server::start();
    let client = server.client();
    create_hash_table(&client, "dup-table").await;
    let err = service_error(
        client
            .create_table()
            .table_name("dup-table")
            .key_schema(key("other", KeyType::Hash))
            .attribute_definitions(def("other", ScalarAttributeType::N))
            .billing_mode(BillingMode::PayPerRequest)
            .send()
            .await,
    );
    assert_eq!(
        err,
        (
            "ResourceInUseException".to_owned(),
            "Table already exists: dup-table".to_owned()
        )
    );
    // The original table is untouched.
    let out = client
        .describe_table()
        .table_name("dup-table")
        .send()
        .await
        .expect("describe");
    assert_eq!(
        out.table().map(|t| t.key_schema()),
        Some(&[key("pk", KeyType::Hash)][..])
    );
}

#[tokio::test]
async fn create_table_rejects_key_schemas_without_a_leading_hash_or_trailing_range() {
    let server = Server::start();
    let client = server.client();
    let first_not_hash =
        validation("Invalid KeySchema: The first KeySchemaElement is not a HASH key type");
    let ab = || {
        vec![
            def("a", ScalarAttributeType::S),
            def("b", ScalarAttributeType::S),
        ]
    };
    assert_eq!(
        create_error(
            &client,
            "abc",
            vec![key("a", KeyType::Range)],
            vec![def("a", ScalarAttributeType::S)]
        )
        .await,
        first_not_hash
    );
    assert_eq!(
        create_error(
            &client,
            "abc",
            vec![key("a", KeyType::Range), key("b", KeyType::Hash)],
            ab()
        )
        .await,
        first_not_hash
    );
    assert_eq!(
        create_error(
            &client,
            "abc",
            vec![key("a", KeyType::Range), key("b", KeyType::Range)],
            ab()
        )
        .await,
        first_not_hash
    );
    assert_eq!(
        create_error(
            &client,
            "abc",
            vec![key("a", KeyType::Hash), key("b", KeyType::Hash)],
            ab()
        )
        .await,
        validation("Invalid KeySchema: The second KeySchemaElement is not a RANGE key type")
    );
    let listed = client.list_tables().send().await.expect("list tables");
    assert!(listed.table_names().is_empty(), "{listed:?}");
}

#[tokio::test]
async fn create_table_rejects_the_same_key_attribute_twice() {
    let server = Server::start();
    let client = server.client();
    assert_eq!(
        create_error(
            &client,
            "abc",
            vec![key("a", KeyType::Hash), key("a", KeyType::Range)],
            vec![
                def("a", ScalarAttributeType::S),
                def("b", ScalarAttributeType::S)
            ]
        )
        .await,
        validation(
            "Both the Hash Key and the Range Key element in the KeySchema have the same name"
        )
    );
}

/// DynamoDB reports a missing definition before the same-name check when the
/// two key elements share a name and fewer than two attributes are defined
/// (dynalite's AWS-verified createTable tests, "missing key attr definition
/// when double and same" / "when double").
#[tokio::test]
async fn create_table_same_key_name_with_one_definition_reports_missing_definition() {
    let server = Server::start();
    let client = server.client();
    let no_definition =
        validation("Invalid KeySchema: Some index key attribute have no definition");
    assert_eq!(
        create_error(
            &client,
            "abc",
            vec![key("a", KeyType::Hash), key("a", KeyType::Hash)],
            vec![def("a", ScalarAttributeType::S)]
        )
        .await,
        no_definition
    );
    assert_eq!(
        create_error(
            &client,
            "abc",
            vec![key("a", KeyType::Hash), key("a", KeyType::Hash)],
            vec![def("b", ScalarAttributeType::S)]
        )
        .await,
        no_definition
    );
}

#[tokio::test]
async fn create_table_rejects_undefined_key_attributes() {
    let server = Server::start();
    let client = server.client();
    // One key element: the long message naming keys and definitions.
    assert_eq!(
        create_error(
            &client,
            "abc",
            vec![key("a", KeyType::Hash)],
            vec![def("b", ScalarAttributeType::S)]
        )
        .await,
        validation(
            "One or more parameter values were invalid: Some index key attributes are not defined in AttributeDefinitions. Keys: [a], AttributeDefinitions: [b]"
        )
    );
    // Two key elements: the short message.
    let no_definition =
        validation("Invalid KeySchema: Some index key attribute have no definition");
    assert_eq!(
        create_error(
            &client,
            "abc",
            vec![key("a", KeyType::Hash), key("b", KeyType::Range)],
            vec![def("b", ScalarAttributeType::S)]
        )
        .await,
        no_definition
    );
    assert_eq!(
        create_error(
            &client,
            "abc",
            vec![key("a", KeyType::Hash), key("b", KeyType::Range)],
            vec![
                def("a", ScalarAttributeType::S),
                def("c", ScalarAttributeType::S)
            ]
        )
        .await,
        no_definition
    );
}

#[tokio::test]
async fn create_table_rejects_unused_attribute_definitions() {
    let server = Server::start();
    let client = server.client();
    let mismatch = validation(
        "One or more parameter values were invalid: Number of attributes in KeySchema does not exactly match number of attributes defined in AttributeDefinitions",
    );
    assert_eq!(
        create_error(
            &client,
            "abc",
            vec![key("a", KeyType::Hash)],
            vec![
                def("a", ScalarAttributeType::S),
                def("b", ScalarAttributeType::S)
            ]
        )
        .await,
        mismatch
    );
    assert_eq!(
        create_error(
            &client,
            "abc",
            vec![key("a", KeyType::Hash), key("b", KeyType::Range)],
            vec![
                def("a", ScalarAttributeType::S),
                def("c", ScalarAttributeType::S),
                def("b", ScalarAttributeType::S)
            ]
        )
        .await,
        mismatch
    );
}

#[tokio::test]
async fn create_table_rejects_an_attribute_type_outside_b_n_s() {
    let server = Server::start();
    let client = server.client();
    assert_eq!(
        create_error(
            &client,
            "abc",
            vec![key("a", KeyType::Hash)],
            vec![def("a", ScalarAttributeType::from("SS"))]
        )
        .await,
        validation(
            "1 validation error detected: Value 'SS' at 'attributeDefinitions.1.member.attributeType' failed to satisfy constraint: Member must satisfy enum value set: [B, N, S]"
        )
    );
}

#[tokio::test]
async fn create_table_provisioned_requires_throughput_and_pay_per_request_forbids_it() {
    let server = Server::start();
    let client = server.client();
    let missing = validation(
        "One or more parameter values were invalid: ReadCapacityUnits and WriteCapacityUnits must both be specified when BillingMode is PROVISIONED",
    );
    // BillingMode omitted defaults to PROVISIONED.
    let err = service_error(
        client
            .create_table()
            .table_name("abc")
            .key_schema(key("a", KeyType::Hash))
            .attribute_definitions(def("a", ScalarAttributeType::S))
            .send()
            .await,
    );
    assert_eq!(err, missing);
    let err = service_error(
        client
            .create_table()
            .table_name("abc")
            .key_schema(key("a", KeyType::Hash))
            .attribute_definitions(def("a", ScalarAttributeType::S))
            .billing_mode(BillingMode::Provisioned)
            .send()
            .await,
    );
    assert_eq!(err, missing);
    let err = service_error(
        client
            .create_table()
            .table_name("abc")
            .key_schema(key("a", KeyType::Hash))
            .attribute_definitions(def("a", ScalarAttributeType::S))
            .billing_mode(BillingMode::PayPerRequest)
            .provisioned_throughput(throughput(1, 1))
            .send()
            .await,
    );
    assert_eq!(
        err,
        validation(
            "One or more parameter values were invalid: Neither ReadCapacityUnits nor WriteCapacityUnits can be specified when BillingMode is PAY_PER_REQUEST"
        )
    );
    let listed = client.list_tables().send().await.expect("list tables");
    assert!(listed.table_names().is_empty(), "{listed:?}");
}

#[tokio::test]
async fn create_table_rejects_throughput_below_one_and_above_one_trillion() {
    let server = Server::start();
    let client = server.client();
    let create = |read: i64, write: i64| {
        client
            .create_table()
            .table_name("abc")
            .key_schema(key("a", KeyType::Hash))
            .attribute_definitions(def("a", ScalarAttributeType::S))
            .provisioned_throughput(throughput(read, write))
            .send()
    };
    assert_eq!(
        service_error(create(0, 5).await),
        validation(
            "1 validation error detected: Value '0' at 'provisionedThroughput.readCapacityUnits' failed to satisfy constraint: Member must have value greater than or equal to 1"
        )
    );
    assert_eq!(
        service_error(create(5, -1).await),
        validation(
            "1 validation error detected: Value '-1' at 'provisionedThroughput.writeCapacityUnits' failed to satisfy constraint: Member must have value greater than or equal to 1"
        )
    );
    assert_eq!(
        service_error(create(1_000_000_000_001, 1_000_000_000_001).await),
        validation("Given value 1000000000001 for ReadCapacityUnits is out of bounds")
    );
    assert_eq!(
        service_error(create(5, 1_000_000_000_001).await),
        validation("Given value 1000000000001 for WriteCapacityUnits is out of bounds")
    );
    // The bound itself is allowed.
    let out = create(1_000_000_000_000, 1)
        .await
        .expect("create at the bound");
    let pt = out
        .table_description()
        .and_then(|t| t.provisioned_throughput())
        .expect("throughput");
    assert_eq!(pt.read_capacity_units(), Some(1_000_000_000_000));
}

#[tokio::test]
async fn create_table_rejects_bad_table_names_with_control_plane_messages() {
    let server = Server::start();
    let client = server.client();
    let create = |name: String| {
        client
            .create_table()
            .table_name(name)
            .key_schema(key("a", KeyType::Hash))
            .attribute_definitions(def("a", ScalarAttributeType::S))
            .billing_mode(BillingMode::PayPerRequest)
            .send()
    };
    let length =
        validation("TableName must be at least 3 characters long and at most 255 characters long");
    assert_eq!(service_error(create("ab".into()).await), length);
    assert_eq!(service_error(create("a".repeat(256)).await), length);
    // A bad length wins over bad characters.
    assert_eq!(service_error(create("a;".into()).await), length);
    assert_eq!(
        service_error(create("abc;".into()).await),
        validation(
            "1 validation error detected: Value 'abc;' at 'tableName' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+"
        )
    );
    assert_eq!(
        service_error(create("tab le".into()).await),
        validation(
            "1 validation error detected: Value 'tab le' at 'tableName' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+"
        )
    );
    // The extremes of the allowed range work.
    create("a-_".into()).await.expect("3-character name");
    create("Z".repeat(255)).await.expect("255-character name");

    // The other control-plane operations use the same rules.
    assert_eq!(
        service_error(client.describe_table().table_name("ab").send().await),
        length
    );
    assert_eq!(
        service_error(
            client
                .delete_table()
                .table_name("a".repeat(256))
                .send()
                .await
        ),
        length
    );
    assert_eq!(
        service_error(client.describe_table().table_name("abc;").send().await),
        validation(
            "1 validation error detected: Value 'abc;' at 'tableName' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+"
        )
    );
}

#[tokio::test]
async fn describe_delete_and_update_of_a_missing_table_are_resource_not_found() {
    let server = Server::start();
    let client = server.client();
    assert_eq!(
        service_error(client.describe_table().table_name("no-such").send().await),
        not_found("no-such")
    );
    assert_eq!(
        service_error(client.delete_table().table_name("no-such").send().await),
        not_found("no-such")
    );
    assert_eq!(
        service_error(
            client
                .update_table()
                .table_name("no-such")
                .billing_mode(BillingMode::PayPerRequest)
                .send()
                .await
        ),
        not_found("no-such")
    );
    assert_eq!(
        service_error(
            client
                .update_table()
                .table_name("no-such")
                .provisioned_throughput(throughput(2, 2))
                .send()
                .await
        ),
        not_found("no-such")
    );
}

// ---- ListTables ----

/// Creates five tables in an order other than their sorted one.
async fn create_five_tables(client: &Client) -> Vec<String> {
    let names = ["tbl-c", "tbl-a", "tbl-e", "tbl-b", "tbl-d"];
    for name in names {
        create_hash_table(client, name).await;
    }
    let mut sorted: Vec<String> = names.iter().map(|n| (*n).to_owned()).collect();
    sorted.sort();
    sorted
}

#[tokio::test]
async fn list_tables_pages_in_name_order_until_no_last_evaluated_name() {
    let server = Server::start();
    let client = server.client();
    let all = create_five_tables(&client).await;

    let mut seen = Vec::new();
    let mut start: Option<String> = None;
    let mut pages = Vec::new();
    for _ in 0..10 {
        let out = client
            .list_tables()
            .limit(2)
            .set_exclusive_start_table_name(start.clone())
            .send()
            .await
            .expect("list tables");
        let names = out.table_names().to_vec();
        pages.push(names.clone());
        seen.extend(names.iter().cloned());
        match out.last_evaluated_table_name() {
            Some(last) => {
                assert_eq!(Some(last), names.last().map(String::as_str));
                start = Some(last.to_owned());
            }
            None => break,
        }
    }
    assert_eq!(
        pages,
        vec![
            vec!["tbl-a".to_owned(), "tbl-b".to_owned()],
            vec!["tbl-c".to_owned(), "tbl-d".to_owned()],
            vec!["tbl-e".to_owned()],
        ]
    );
    assert_eq!(seen, all);

    // Without a limit everything comes back at once, with no marker.
    let out = client.list_tables().send().await.expect("list tables");
    assert_eq!(out.table_names(), all.as_slice());
    assert_eq!(out.last_evaluated_table_name(), None);

    // A limit equal to the remaining count leaves no marker.
    let out = client
        .list_tables()
        .exclusive_start_table_name("tbl-b")
        .limit(3)
        .send()
        .await
        .expect("list tables");
    assert_eq!(out.table_names(), &all[2..]);
    assert_eq!(out.last_evaluated_table_name(), None);

    // The start name need not exist.
    let out = client
        .list_tables()
        .exclusive_start_table_name("tbl-bb")
        .limit(1)
        .send()
        .await
        .expect("list tables");
    assert_eq!(out.table_names(), &["tbl-c".to_owned()]);
    assert_eq!(out.last_evaluated_table_name(), Some("tbl-c"));
}

#[tokio::test]
async fn list_tables_limit_outside_1_to_100_is_a_constraint_error() {
    let server = Server::start();
    let client = server.client();
    assert_eq!(
        service_error(client.list_tables().limit(0).send().await),
        validation(
            "1 validation error detected: Value '0' at 'limit' failed to satisfy constraint: Member must have value greater than or equal to 1"
        )
    );
    assert_eq!(
        service_error(client.list_tables().limit(101).send().await),
        validation(
            "1 validation error detected: Value '101' at 'limit' failed to satisfy constraint: Member must have value less than or equal to 100"
        )
    );
    let out = client
        .list_tables()
        .limit(100)
        .send()
        .await
        .expect("limit 100");
    assert!(out.table_names().is_empty());
}

#[tokio::test]
async fn list_tables_sdk_paginator_walks_every_name() {
    let server = Server::start();
    let client = server.client();
    let all = create_five_tables(&client).await;
    let names: Vec<String> = client
        .list_tables()
        .limit(2)
        .into_paginator()
        .items()
        .send()
        .collect::<Result<Vec<_>, _>>()
        .await
        .expect("paginate");
    assert_eq!(names, all);
    let pages: Vec<_> = client
        .list_tables()
        .limit(2)
        .into_paginator()
        .send()
        .collect::<Result<Vec<_>, _>>()
        .await
        .expect("paginate pages");
    assert_eq!(pages.len(), 3);
}

// ---- DeleteTable ----

#[tokio::test]
async fn delete_table_replies_deleting_and_the_table_disappears() {
    let server = Server::start();
    let client = server.client();
    create_hash_table(&client, "doomed").await;
    let out = client
        .delete_table()
        .table_name("doomed")
        .send()
        .await
        .expect("delete table");
    let t = out.table_description().expect("table description");
    assert_eq!(t.table_name(), Some("doomed"));
    assert_eq!(t.table_status(), Some(&TableStatus::Deleting));
    assert_gone(&client, "doomed").await;
    let listed = client.list_tables().send().await.expect("list tables");
    assert!(listed.table_names().is_empty(), "{listed:?}");
}

#[tokio::test]
async fn recreating_a_deleted_table_starts_empty() {
    let server = Server::start();
    let client = server.client();
    create_hash_table(&client, "phoenix").await;
    for i in 0..20 {
        client
            .put_item()
            .table_name("phoenix")
            .item("pk", s(&format!("k{i}")))
            .item("v", s("old"))
            .send()
            .await
            .expect("put item");
    }
    client
        .delete_table()
        .table_name("phoenix")
        .send()
        .await
        .expect("delete table");
    assert_gone(&client, "phoenix").await;
    // The name is free at once; the new table never sees the old items.
    create_hash_table(&client, "phoenix").await;

    let got = client
        .get_item()
        .table_name("phoenix")
        .key("pk", s("k3"))
        .consistent_read(true)
        .send()
        .await
        .expect("get item");
    assert_eq!(got.item(), None, "an item survived the delete");
    let t = client
        .describe_table()
        .table_name("phoenix")
        .send()
        .await
        .expect("describe");
    assert_eq!(t.table().and_then(|t| t.item_count()), Some(0));
    assert_eq!(t.table().and_then(|t| t.table_size_bytes()), Some(0));
}

#[tokio::test]
async fn delete_table_twice_is_not_found_the_second_time() {
    let server = Server::start();
    let client = server.client();
    create_hash_table(&client, "twice").await;
    client
        .delete_table()
        .table_name("twice")
        .send()
        .await
        .expect("first delete");
    assert_eq!(
        service_error(client.delete_table().table_name("twice").send().await),
        not_found("twice")
    );
}

// ---- UpdateTable ----

#[tokio::test]
async fn update_table_changes_provisioned_throughput() {
    let server = Server::start();
    let client = server.client();
    create_hash_table(&client, "tuned").await;
    let before = now_secs();
    let out = client
        .update_table()
        .table_name("tuned")
        .provisioned_throughput(throughput(10, 8))
        .send()
        .await
        .expect("update table");
    let pt = out
        .table_description()
        .and_then(|t| t.provisioned_throughput())
        .expect("throughput");
    assert_eq!(
        (pt.read_capacity_units(), pt.write_capacity_units()),
        (Some(10), Some(8))
    );

    let out = client
        .describe_table()
        .table_name("tuned")
        .send()
        .await
        .expect("describe");
    let t = out.table().expect("table");
    assert_eq!(t.table_status(), Some(&TableStatus::Active));
    let pt = t.provisioned_throughput().expect("throughput");
    assert_eq!(
        (pt.read_capacity_units(), pt.write_capacity_units()),
        (Some(10), Some(8))
    );
    let increased = pt
        .last_increase_date_time()
        .expect("LastIncreaseDateTime")
        .as_secs_f64();
    assert!(
        (before - 5.0..now_secs() + 5.0).contains(&increased),
        "{increased}"
    );
    assert!(pt.last_decrease_date_time().is_none());
    assert_eq!(pt.number_of_decreases_today(), Some(0));

    // A decrease is recorded as such.
    client
        .update_table()
        .table_name("tuned")
        .provisioned_throughput(throughput(2, 8))
        .send()
        .await
        .expect("decrease");
    let out = client
        .describe_table()
        .table_name("tuned")
        .send()
        .await
        .expect("describe");
    let pt = out
        .table()
        .and_then(|t| t.provisioned_throughput())
        .expect("throughput");
    assert_eq!(pt.read_capacity_units(), Some(2));
    assert!(pt.last_decrease_date_time().is_some());
    assert_eq!(pt.number_of_decreases_today(), Some(1));
}

#[tokio::test]
async fn update_table_with_unchanged_throughput_is_rejected() {
    let server = Server::start();
    let client = server.client();
    create_hash_table(&client, "steady").await;
    let err = service_error(
        client
            .update_table()
            .table_name("steady")
            .provisioned_throughput(throughput(5, 5))
            .send()
            .await,
    );
    assert_eq!(
        err,
        validation(
            "The provisioned throughput for the table will not change. The requested value equals the current value. Current ReadCapacityUnits provisioned for the table: 5. Requested ReadCapacityUnits: 5. Current WriteCapacityUnits provisioned for the table: 5. Requested WriteCapacityUnits: 5. Refer to the Amazon DynamoDB Developer Guide for current limits and how to request higher limits."
        )
    );
}

#[tokio::test]
async fn update_table_switches_billing_mode_both_ways() {
    let server = Server::start();
    let client = server.client();
    create_hash_table(&client, "flexible").await;
    let out = client
        .update_table()
        .table_name("flexible")
        .billing_mode(BillingMode::PayPerRequest)
        .send()
        .await
        .expect("to pay per request");
    let summary = out
        .table_description()
        .and_then(|t| t.billing_mode_summary())
        .expect("billing mode summary");
    assert_eq!(summary.billing_mode(), Some(&BillingMode::PayPerRequest));
    assert!(summary.last_update_to_pay_per_request_date_time().is_some());

    let ppr_with_throughput = validation(
        "One or more parameter values were invalid: Neither ReadCapacityUnits nor WriteCapacityUnits can be specified when BillingMode is PAY_PER_REQUEST",
    );
    // Throughput alone on a PAY_PER_REQUEST table.
    assert_eq!(
        service_error(
            client
                .update_table()
                .table_name("flexible")
                .provisioned_throughput(throughput(3, 3))
                .send()
                .await
        ),
        ppr_with_throughput
    );
    // Back to PROVISIONED needs throughput.
    assert_eq!(
        service_error(
            client
                .update_table()
                .table_name("flexible")
                .billing_mode(BillingMode::Provisioned)
                .send()
                .await
        ),
        validation(
            "One or more parameter values were invalid: ProvisionedThroughput must be specified when BillingMode is PROVISIONED"
        )
    );
    let out = client
        .update_table()
        .table_name("flexible")
        .billing_mode(BillingMode::Provisioned)
        .provisioned_throughput(throughput(4, 6))
        .send()
        .await
        .expect("back to provisioned");
    let t = out.table_description().expect("table description");
    let pt = t.provisioned_throughput().expect("throughput");
    assert_eq!(
        (pt.read_capacity_units(), pt.write_capacity_units()),
        (Some(4), Some(6))
    );
    let out = client
        .describe_table()
        .table_name("flexible")
        .send()
        .await
        .expect("describe");
    let t = out.table().expect("table");
    assert_eq!(
        t.billing_mode_summary().and_then(|s| s.billing_mode()),
        Some(&BillingMode::Provisioned)
    );
    assert_eq!(
        t.provisioned_throughput()
            .and_then(|pt| pt.write_capacity_units()),
        Some(6)
    );
}

#[tokio::test]
async fn update_table_to_pay_per_request_with_throughput_is_rejected() {
    let server = Server::start();
    let client = server.client();
    create_hash_table(&client, "confused").await;
    assert_eq!(
        service_error(
            client
                .update_table()
                .table_name("confused")
                .billing_mode(BillingMode::PayPerRequest)
                .provisioned_throughput(throughput(9, 9))
                .send()
                .await
        ),
        validation(
            "One or more parameter values were invalid: Neither ReadCapacityUnits nor WriteCapacityUnits can be specified when BillingMode is PAY_PER_REQUEST"
        )
    );
    // Nothing changed.
    let out = client
        .describe_table()
        .table_name("confused")
        .send()
        .await
        .expect("describe");
    let t = out.table().expect("table");
    assert!(t.billing_mode_summary().is_none(), "{t:?}");
    assert_eq!(
        t.provisioned_throughput()
            .and_then(|pt| pt.read_capacity_units()),
        Some(5)
    );
}

#[tokio::test]
async fn update_table_with_nothing_to_update_is_rejected() {
    let server = Server::start();
    let client = server.client();
    create_hash_table(&client, "idle").await;
    assert_eq!(
        service_error(client.update_table().table_name("idle").send().await),
        validation(
            "At least one of ProvisionedThroughput, BillingMode, UpdateStreamEnabled, GlobalSecondaryIndexUpdates or SSESpecification or ReplicaUpdates is required"
        )
    );
}

// ---- durability across a graceful restart ----

#[tokio::test]
async fn tables_and_items_survive_a_graceful_restart() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut server = Server::start_in(dir.path(), &[]);
    let client = server.client();
    create_hash_table(&client, "kept-a").await;
    client
        .create_table()
        .table_name("kept-b")
        .key_schema(key("h", KeyType::Hash))
        .key_schema(key("r", KeyType::Range))
        .attribute_definitions(def("h", ScalarAttributeType::S))
        .attribute_definitions(def("r", ScalarAttributeType::N))
        .billing_mode(BillingMode::PayPerRequest)
        .send()
        .await
        .expect("create kept-b");
    for i in 0..30 {
        client
            .put_item()
            .table_name("kept-a")
            .item("pk", s(&format!("k{i:02}")))
            .item("n", AttributeValue::N(i.to_string()))
            .send()
            .await
            .expect("put kept-a");
    }
    client
        .put_item()
        .table_name("kept-b")
        .item("h", s("x"))
        .item("r", AttributeValue::N("2.50".into()))
        .item("bin", AttributeValue::B(vec![0u8, 255, 7].into()))
        .send()
        .await
        .expect("put kept-b");
    let id_before = client
        .describe_table()
        .table_name("kept-a")
        .send()
        .await
        .expect("describe")
        .table()
        .and_then(|t| t.table_id())
        .map(str::to_owned);
    assert!(server.terminate(), "tarn did not exit cleanly on SIGTERM");
    drop(client);
    drop(server);

    let server = Server::start_in(dir.path(), &[]);
    let client = server.client();
    let listed = client.list_tables().send().await.expect("list tables");
    assert_eq!(
        listed.table_names(),
        &["kept-a".to_owned(), "kept-b".to_owned()]
    );
    for i in 0..30 {
        let got = client
            .get_item()
            .table_name("kept-a")
            .key("pk", s(&format!("k{i:02}")))
            .send()
            .await
            .expect("get kept-a");
        let item = got.item().expect("item survived");
        assert_eq!(item.get("n"), Some(&AttributeValue::N(i.to_string())));
    }
    let got = client
        .get_item()
        .table_name("kept-b")
        .key("h", s("x"))
        .key("r", AttributeValue::N("2.5".into()))
        .send()
        .await
        .expect("get kept-b");
    let item = got.item().expect("item survived");
    assert_eq!(item.get("r"), Some(&AttributeValue::N("2.5".into())));
    assert_eq!(
        item.get("bin"),
        Some(&AttributeValue::B(vec![0u8, 255, 7].into()))
    );

    let out = client
        .describe_table()
        .table_name("kept-b")
        .send()
        .await
        .expect("describe");
    let t = out.table().expect("table");
    assert_eq!(t.table_status(), Some(&TableStatus::Active));
    assert_eq!(
        t.key_schema(),
        &[key("h", KeyType::Hash), key("r", KeyType::Range)]
    );
    assert_eq!(
        t.billing_mode_summary().and_then(|s| s.billing_mode()),
        Some(&BillingMode::PayPerRequest)
    );
    let out = client
        .describe_table()
        .table_name("kept-a")
        .send()
        .await
        .expect("describe");
    assert_eq!(
        out.table().and_then(|t| t.table_id()).map(str::to_owned),
        id_before
    );

    // ItemCount is recounted in the background after a start.
    let mut count = None;
    for _ in 0..POLL_ATTEMPTS_MAX {
        count = client
            .describe_table()
            .table_name("kept-a")
            .send()
            .await
            .expect("describe")
            .table()
            .and_then(|t| t.item_count());
        if count == Some(30) {
            break;
        }
        tokio::time::sleep(POLL_INTERVAL).await;
    }
    assert_eq!(count, Some(30));
}

/// dynamodb-admin's Create Table form posts its fields as strings, and the
/// GUI hands them to the JS SDK unchanged, so capacity units arrive as
/// numeric strings (`lib/routes.ts`; dynamodb-admin#518). DynamoDB Local
/// accepts them and so does Tarn; a non-numeric string is still DynamoDB's
/// SerializationException.
#[tokio::test]
async fn dynamodb_admin_create_table_bodies_with_numeric_strings_are_accepted() {
    let server = Server::start();
    // The body the JS SDK builds from the form: members in the SDK's order,
    // every form value a string.
    let simple = r#"{"AttributeDefinitions":[{"AttributeName":"id","AttributeType":"S"},{"AttributeName":"ts","AttributeType":"N"}],"KeySchema":[{"AttributeName":"id","KeyType":"HASH"},{"AttributeName":"ts","KeyType":"RANGE"}],"ProvisionedThroughput":{"ReadCapacityUnits":"3","WriteCapacityUnits":"3"},"TableName":"admin-simple"}"#;
    let r = tarn_tests::raw_op(&server, "CreateTable", simple).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(
        r.body.contains(
            r#""ProvisionedThroughput":{"NumberOfDecreasesToday":0,"ReadCapacityUnits":3,"WriteCapacityUnits":3}"#
        ),
        "{}",
        r.body
    );
    // With one index of each kind from the form's "New Secondary Index".
    let indexed = r#"{"AttributeDefinitions":[{"AttributeName":"id","AttributeType":"S"},{"AttributeName":"ts","AttributeType":"N"},{"AttributeName":"email","AttributeType":"S"},{"AttributeName":"rank","AttributeType":"N"}],"GlobalSecondaryIndexes":[{"IndexName":"by-email","KeySchema":[{"AttributeName":"email","KeyType":"HASH"}],"Projection":{"ProjectionType":"ALL"},"ProvisionedThroughput":{"ReadCapacityUnits":"5","WriteCapacityUnits":"2"}}],"KeySchema":[{"AttributeName":"id","KeyType":"HASH"},{"AttributeName":"ts","KeyType":"RANGE"}],"LocalSecondaryIndexes":[{"IndexName":"by-rank","KeySchema":[{"AttributeName":"id","KeyType":"HASH"},{"AttributeName":"rank","KeyType":"RANGE"}],"Projection":{"ProjectionType":"ALL"}}],"ProvisionedThroughput":{"ReadCapacityUnits":"3","WriteCapacityUnits":"3"},"TableName":"admin-indexed"}"#;
    let r = tarn_tests::raw_op(&server, "CreateTable", indexed).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let client = server.client();
    let table = client
        .describe_table()
        .table_name("admin-indexed")
        .send()
        .await
        .expect("describe")
        .table
        .expect("table");
    let pt = table.provisioned_throughput.expect("throughput");
    assert_eq!(
        (pt.read_capacity_units, pt.write_capacity_units),
        (Some(3), Some(3))
    );
    let gsi = &table.global_secondary_indexes.expect("gsis")[0];
    let gpt = gsi.provisioned_throughput.as_ref().expect("gsi throughput");
    assert_eq!(
        (gpt.read_capacity_units, gpt.write_capacity_units),
        (Some(5), Some(2))
    );
    // A form value that is not a number is refused as DynamoDB refuses it,
    // wherever it sits.
    for (body, java) in [
        (
            simple.replace(
                r#""ReadCapacityUnits":"3""#,
                r#""ReadCapacityUnits":"three""#,
            ),
            "Long",
        ),
        (
            indexed.replace(
                r#""WriteCapacityUnits":"2""#,
                r#""WriteCapacityUnits":"2.5""#,
            ),
            "Long",
        ),
        (
            simple.replace(r#""WriteCapacityUnits":"3""#, r#""WriteCapacityUnits":"""#),
            "Long",
        ),
    ] {
        let r = tarn_tests::raw_op(&server, "CreateTable", &body).await;
        assert_eq!(r.status, 400, "{body}");
        assert_eq!(
            r.body,
            tarn_tests::serialization_body(&format!("STRING_VALUE cannot be converted to {java}")),
            "{body}"
        );
    }
    // A numeric string below 1 meets the member's constraint like a number.
    let r = tarn_tests::raw_op(
        &server,
        "CreateTable",
        &simple
            .replace(r#""ReadCapacityUnits":"3""#, r#""ReadCapacityUnits":"0""#)
            .replace("admin-simple", "admin-zero"),
    )
    .await;
    assert_eq!(
        r.body,
        tarn_tests::validation_body("1 validation error detected: Value '0' at 'provisionedThroughput.readCapacityUnits' failed to satisfy constraint: Member must have value greater than or equal to 1")
    );
}

/// The other integer members take numeric strings too: Query and Scan
/// `Limit`, `Segment`, `TotalSegments`, UpdateTable's throughput.
#[tokio::test]
async fn numeric_strings_are_accepted_in_every_integer_member() {
    let server = Server::start();
    let client = server.client();
    tarn_tests::range_table(&client, "ints").await;
    for i in 0..3 {
        tarn_tests::put(
            &client,
            "ints",
            tarn_tests::item(&[("pk", s("a")), ("sk", tarn_tests::n(&i.to_string()))]),
        )
        .await;
    }
    let r = tarn_tests::raw_op(
        &server,
        "Query",
        r#"{"TableName":"ints","KeyConditionExpression":"pk = :p","ExpressionAttributeValues":{":p":{"S":"a"}},"Limit":"2"}"#,
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.body.contains(r#""Count":2"#), "{}", r.body);
    let r = tarn_tests::raw_op(
        &server,
        "Scan",
        r#"{"TableName":"ints","Segment":"0","TotalSegments":"1","Limit":"1"}"#,
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.body.contains(r#""Count":1"#), "{}", r.body);
    let r = tarn_tests::raw_op(
        &server,
        "UpdateTable",
        r#"{"TableName":"ints","BillingMode":"PROVISIONED","ProvisionedThroughput":{"ReadCapacityUnits":"7","WriteCapacityUnits":"8"}}"#,
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(
        r.body
            .contains(r#""ReadCapacityUnits":7,"WriteCapacityUnits":8"#),
        "{}",
        r.body
    );
    let r = tarn_tests::raw_op(
        &server,
        "Scan",
        r#"{"TableName":"ints","Segment":"first","TotalSegments":"1"}"#,
    )
    .await;
    assert_eq!(
        r.body,
        tarn_tests::serialization_body("STRING_VALUE cannot be converted to Integer")
    );
}

fn create_body(key: &str, defs: &[(&str, &str)], extra: &str) -> String {
    let defs: Vec<String> = defs
        .iter()
        .map(|(n, t)| format!(r#"{{"AttributeName":"{n}","AttributeType":"{t}"}}"#))
        .collect();
    format!(
        r#"{{"TableName":"names","KeySchema":[{{"AttributeName":"{key}","KeyType":"HASH"}}],"AttributeDefinitions":[{}],"BillingMode":"PAY_PER_REQUEST"{extra}}}"#,
        defs.join(",")
    )
}

/// Key attribute names (table keys, index keys, attribute definitions,
/// projected attributes) are 1 to 255 long in DynamoDB's model; a
/// violation is a constraint error at the member's path, listed with the
/// request's others (ScyllaDB test_limits.py: 255 works, 256 fails with a
/// "length" ValidationException).
#[tokio::test]
async fn key_attribute_names_are_1_to_255_long_everywhere() {
    let server = Server::start();
    let long = "k".repeat(256);
    let max = "m".repeat(255);
    let too_long = |path: &str| {
        format!("Value '{long}' at '{path}' failed to satisfy constraint: Member must have length less than or equal to 255")
    };
    let empty = |path: &str| {
        format!("Value '' at '{path}' failed to satisfy constraint: Member must have length greater than or equal to 1")
    };
    let expect = |r: tarn_tests::RawResponse, errors: Vec<String>| {
        let plural = if errors.len() == 1 { "" } else { "s" };
        assert_eq!(
            r.body,
            tarn_tests::validation_body(&format!(
                "{} validation error{plural} detected: {}",
                errors.len(),
                errors.join("; ")
            ))
        );
    };
    // The table key.
    let r = tarn_tests::raw_op(
        &server,
        "CreateTable",
        &create_body(&long, &[(&long, "S")], ""),
    )
    .await;
    expect(
        r,
        vec![
            too_long("attributeDefinitions.1.member.attributeName"),
            too_long("keySchema.1.member.attributeName"),
        ],
    );
    let r = tarn_tests::raw_op(&server, "CreateTable", &create_body("", &[("", "S")], "")).await;
    expect(
        r,
        vec![
            empty("attributeDefinitions.1.member.attributeName"),
            empty("keySchema.1.member.attributeName"),
        ],
    );
    // A global and a local index key.
    let gsi = format!(
        r#","GlobalSecondaryIndexes":[{{"IndexName":"gsi","KeySchema":[{{"AttributeName":"{long}","KeyType":"HASH"}}],"Projection":{{"ProjectionType":"ALL"}}}}]"#
    );
    let r = tarn_tests::raw_op(
        &server,
        "CreateTable",
        &create_body("pk", &[("pk", "S"), (&long, "S")], &gsi),
    )
    .await;
    expect(
        r,
        vec![
            too_long("attributeDefinitions.2.member.attributeName"),
            too_long("globalSecondaryIndexes.1.member.keySchema.1.member.attributeName"),
        ],
    );
    let lsi = r#","LocalSecondaryIndexes":[{"IndexName":"lsi","KeySchema":[{"AttributeName":"pk","KeyType":"HASH"},{"AttributeName":"","KeyType":"RANGE"}],"Projection":{"ProjectionType":"ALL"}}]"#;
    let r = tarn_tests::raw_op(
        &server,
        "CreateTable",
        &create_body("pk", &[("pk", "S")], lsi),
    )
    .await;
    expect(
        r,
        vec![empty(
            "localSecondaryIndexes.1.member.keySchema.2.member.attributeName",
        )],
    );
    // Projected attribute names: one violation for the list.
    let include = format!(
        r#","GlobalSecondaryIndexes":[{{"IndexName":"gsi","KeySchema":[{{"AttributeName":"pk","KeyType":"HASH"}}],"Projection":{{"ProjectionType":"INCLUDE","NonKeyAttributes":["a","{long}"]}}}}]"#
    );
    let r = tarn_tests::raw_op(
        &server,
        "CreateTable",
        &create_body("pk", &[("pk", "S")], &include),
    )
    .await;
    expect(
        r,
        vec![format!("Value '[a, {long}]' at 'globalSecondaryIndexes.1.member.projection.nonKeyAttributes' failed to satisfy constraint: Member must satisfy constraint: [Member must have length less than or equal to 255, Member must have length greater than or equal to 1]")],
    );
    // UpdateTable's index creation and attribute definitions.
    let r = tarn_tests::raw_op(
        &server,
        "CreateTable",
        &create_body("pk", &[("pk", "S")], ""),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let update = format!(
        r#"{{"TableName":"names","AttributeDefinitions":[{{"AttributeName":"{long}","AttributeType":"S"}}],"GlobalSecondaryIndexUpdates":[{{"Create":{{"IndexName":"gsi","KeySchema":[{{"AttributeName":"{long}","KeyType":"HASH"}}],"Projection":{{"ProjectionType":"ALL"}}}}}}]}}"#
    );
    let r = tarn_tests::raw_op(&server, "UpdateTable", &update).await;
    expect(
        r,
        vec![
            too_long("attributeDefinitions.1.member.attributeName"),
            too_long(
                "globalSecondaryIndexUpdates.1.member.create.keySchema.1.member.attributeName",
            ),
        ],
    );
    // 255 is allowed, for the table's key, an index's and a projected name.
    let other = "o".repeat(255);
    let projected = "n".repeat(255);
    let gsi = format!(
        r#","GlobalSecondaryIndexes":[{{"IndexName":"gsi","KeySchema":[{{"AttributeName":"{other}","KeyType":"HASH"}}],"Projection":{{"ProjectionType":"INCLUDE","NonKeyAttributes":["{projected}"]}}}}]"#
    );
    let body = create_body(&max, &[(&max, "S"), (&other, "S")], &gsi)
        .replace("\"names\"", "\"long-names\"");
    let r = tarn_tests::raw_op(&server, "CreateTable", &body).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let client = server.client();
    client
        .put_item()
        .table_name("long-names")
        .item(&max, s("h"))
        .item(&other, s("i"))
        .send()
        .await
        .expect("put with 255-long key names");
}

/// AttributeDefinitions may not name one attribute twice (ScyllaDB's
/// test_create_table_duplicate_attribute_name matches `uplicate.*xyz`;
/// the text is AWS's, `docs/research/index-errors.md` §1.2).
#[tokio::test]
async fn duplicate_attribute_definitions_are_refused() {
    let server = Server::start();
    let client = server.client();
    let err = service_error(
        client
            .create_table()
            .table_name("dups")
            .billing_mode(BillingMode::PayPerRequest)
            .key_schema(key("xyz", KeyType::Hash))
            .attribute_definitions(def("xyz", ScalarAttributeType::S))
            .attribute_definitions(def("xyz", ScalarAttributeType::N))
            .send()
            .await,
    );
    assert_eq!(err, validation("Attribute Name is duplicated: xyz"));
    tarn_tests::hash_table(&client, "dups").await;
    let err = service_error(
        client
            .update_table()
            .table_name("dups")
            .attribute_definitions(def("g", ScalarAttributeType::S))
            .attribute_definitions(def("g", ScalarAttributeType::S))
            .global_secondary_index_updates(
                aws_sdk_dynamodb::types::GlobalSecondaryIndexUpdate::builder()
                    .create(
                        aws_sdk_dynamodb::types::CreateGlobalSecondaryIndexAction::builder()
                            .index_name("by-g")
                            .key_schema(key("g", KeyType::Hash))
                            .projection(
                                aws_sdk_dynamodb::types::Projection::builder()
                                    .projection_type(aws_sdk_dynamodb::types::ProjectionType::All)
                                    .build(),
                            )
                            .build()
                            .expect("create action"),
                    )
                    .build(),
            )
            .send()
            .await,
    );
    assert_eq!(err, validation("Attribute Name is duplicated: g"));
}

/// Several constraint violations are reported together, in DynamoDB's
/// order: for CreateTable the attribute definitions, table name, billing
/// mode, throughput (write units first), key schema, then the indexes; for
/// UpdateTable the table name, throughput, and each index update's members
/// (dynalite's validations/createTable.js and updateTable.js).
#[tokio::test]
async fn combined_constraint_errors_come_in_dynamodb_order() {
    let server = Server::start();
    let long = "k".repeat(256);
    let body = format!(
        r#"{{"TableName":"abc;","KeySchema":[{{"AttributeName":"{long}","KeyType":"PRIMARY"}}],"AttributeDefinitions":[{{"AttributeName":"","AttributeType":"SS"}}],"BillingMode":"FREE","ProvisionedThroughput":{{"ReadCapacityUnits":0,"WriteCapacityUnits":"-1"}}}}"#
    );
    let r = tarn_tests::raw_op(&server, "CreateTable", &body).await;
    let errors = [
        "Value '' at 'attributeDefinitions.1.member.attributeName' failed to satisfy constraint: Member must have length greater than or equal to 1".to_owned(),
        "Value 'SS' at 'attributeDefinitions.1.member.attributeType' failed to satisfy constraint: Member must satisfy enum value set: [B, N, S]".to_owned(),
        "Value 'abc;' at 'tableName' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+".to_owned(),
        "Value 'FREE' at 'billingMode' failed to satisfy constraint: Member must satisfy enum value set: [PROVISIONED, PAY_PER_REQUEST]".to_owned(),
        "Value '-1' at 'provisionedThroughput.writeCapacityUnits' failed to satisfy constraint: Member must have value greater than or equal to 1".to_owned(),
        "Value '0' at 'provisionedThroughput.readCapacityUnits' failed to satisfy constraint: Member must have value greater than or equal to 1".to_owned(),
        format!("Value '{long}' at 'keySchema.1.member.attributeName' failed to satisfy constraint: Member must have length less than or equal to 255"),
        "Value 'PRIMARY' at 'keySchema.1.member.keyType' failed to satisfy constraint: Member must satisfy enum value set: [HASH, RANGE]".to_owned(),
    ];
    assert_eq!(
        r.body,
        tarn_tests::validation_body(&format!(
            "8 validation errors detected: {}",
            errors.join("; ")
        ))
    );
    let body = r#"{"TableName":"abc;","ProvisionedThroughput":{"ReadCapacityUnits":0,"WriteCapacityUnits":0},"GlobalSecondaryIndexUpdates":[{"Create":{"IndexName":"x","KeySchema":[{"AttributeName":"","KeyType":"HASH"}],"Projection":{"ProjectionType":"SOME"}}},{"Delete":{"IndexName":"y;"}}]}"#;
    let r = tarn_tests::raw_op(&server, "UpdateTable", body).await;
    let errors = [
        "Value 'abc;' at 'tableName' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+",
        "Value '0' at 'provisionedThroughput.writeCapacityUnits' failed to satisfy constraint: Member must have value greater than or equal to 1",
        "Value '0' at 'provisionedThroughput.readCapacityUnits' failed to satisfy constraint: Member must have value greater than or equal to 1",
        "Value 'SOME' at 'globalSecondaryIndexUpdates.1.member.create.projection.projectionType' failed to satisfy constraint: Member must satisfy enum value set: [ALL, INCLUDE, KEYS_ONLY]",
        "Value 'x' at 'globalSecondaryIndexUpdates.1.member.create.indexName' failed to satisfy constraint: Member must have length greater than or equal to 3",
        "Value '' at 'globalSecondaryIndexUpdates.1.member.create.keySchema.1.member.attributeName' failed to satisfy constraint: Member must have length greater than or equal to 1",
        "Value 'y;' at 'globalSecondaryIndexUpdates.2.member.delete.indexName' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+",
        "Value 'y;' at 'globalSecondaryIndexUpdates.2.member.delete.indexName' failed to satisfy constraint: Member must have length greater than or equal to 3",
    ];
    assert_eq!(
        r.body,
        tarn_tests::validation_body(&format!(
            "8 validation errors detected: {}",
            errors.join("; ")
        ))
    );
}

// ---- the table life cycle under load ----

/// Puts `count` items `{pk: k<i>, g: g<i % 7>}`.
async fn fill(client: &Client, table: &str, count: usize) {
    let items = (0..count).map(|i| {
        tarn_tests::item(&[
            ("pk", s(&format!("k{i:05}"))),
            ("g", s(&format!("g{}", i % 7))),
        ])
    });
    tarn_tests::batch_put(client, table, items).await;
}

/// Adds the global index `byG` on `g` to a PAY_PER_REQUEST table.
async fn create_gsi(client: &Client, table: &str) {
    use aws_sdk_dynamodb::types::{
        CreateGlobalSecondaryIndexAction, GlobalSecondaryIndexUpdate, Projection, ProjectionType,
    };
    let create = CreateGlobalSecondaryIndexAction::builder()
        .index_name("byG")
        .key_schema(key("g", KeyType::Hash))
        .projection(
            Projection::builder()
                .projection_type(ProjectionType::KeysOnly)
                .build(),
        )
        .build()
        .expect("index");
    client
        .update_table()
        .table_name(table)
        .attribute_definitions(def("g", ScalarAttributeType::S))
        .global_secondary_index_updates(
            GlobalSecondaryIndexUpdate::builder().create(create).build(),
        )
        .send()
        .await
        .expect("create index");
}

async fn index_status(
    client: &Client,
    table: &str,
) -> Option<aws_sdk_dynamodb::types::IndexStatus> {
    client
        .describe_table()
        .table_name(table)
        .send()
        .await
        .expect("describe")
        .table()
        .and_then(|t| t.global_secondary_indexes().first())
        .and_then(|g| g.index_status())
        .cloned()
}

async fn item_count_by_scan(client: &Client, table: &str) -> i32 {
    client
        .scan()
        .table_name(table)
        .consistent_read(true)
        .send()
        .await
        .expect("scan")
        .count()
}

/// The issue's case: on a busy server a deleted table went on answering
/// DELETING while its drop waited behind other background work. Here one
/// table's index backfills for seconds and a large table is being dropped:
/// another table, deleted meanwhile, is gone at once, and its name is free
/// at once.
#[tokio::test]
async fn a_deleted_table_is_gone_at_once_while_a_big_backfill_and_drop_run() {
    let server = Server::start_with(&["--backfill-pause-ms", "2500"]);
    let client = server.client();
    tarn_tests::hash_table(&client, "busy").await;
    fill(&client, "busy", 600).await;
    tarn_tests::hash_table(&client, "big").await;
    fill(&client, "big", 1500).await;
    tarn_tests::hash_table(&client, "doomed").await;
    fill(&client, "doomed", 50).await;
    // 600 items are three backfill batches, each followed by 2.5 s.
    create_gsi(&client, "busy").await;
    let started = std::time::Instant::now();
    client
        .delete_table()
        .table_name("big")
        .send()
        .await
        .expect("delete big");
    client
        .delete_table()
        .table_name("doomed")
        .send()
        .await
        .expect("delete doomed");
    assert_gone(&client, "doomed").await;
    assert_gone(&client, "big").await;
    let listed = client.list_tables().send().await.expect("list tables");
    assert_eq!(listed.table_names(), &["busy".to_owned()]);
    // The name is free at once, and the new table is empty.
    tarn_tests::hash_table(&client, "doomed").await;
    assert_eq!(item_count_by_scan(&client, "doomed").await, 0);
    client
        .delete_table()
        .table_name("doomed")
        .send()
        .await
        .expect("delete the new doomed");
    assert_gone(&client, "doomed").await;
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "the deletes took {:?}",
        started.elapsed()
    );
    assert_eq!(
        index_status(&client, "busy").await,
        Some(aws_sdk_dynamodb::types::IndexStatus::Creating),
        "the backfill ran all along"
    );
    // DynamoDB refuses to delete a table while its own index is being
    // created (docs/research/index-errors.md §2.3); that stays so.
    assert_eq!(
        service_error(client.delete_table().table_name("busy").send().await),
        (
            "ResourceInUseException".to_owned(),
            "Attempt to change a resource which is still in use: Cannot delete table while indexes are being created, updated, or deleted.".to_owned()
        )
    );
}

/// Create-then-delete of one name, forty times: each incarnation starts
/// empty, and DescribeTable after each delete answers not found at once.
#[tokio::test]
async fn create_then_delete_of_one_name_in_a_tight_loop_never_hangs() {
    let server = Server::start();
    let client = server.client();
    let rounds = async {
        for i in 0..40 {
            tarn_tests::hash_table(&client, "churn").await;
            let fresh =
                tarn_tests::get(&client, "churn", tarn_tests::item(&[("pk", s("k"))])).await;
            assert_eq!(fresh, None, "round {i} saw an earlier incarnation's item");
            tarn_tests::put(
                &client,
                "churn",
                tarn_tests::item(&[("pk", s("k")), ("round", AttributeValue::N(i.to_string()))]),
            )
            .await;
            client
                .delete_table()
                .table_name("churn")
                .send()
                .await
                .expect("delete");
            assert_gone(&client, "churn").await;
        }
    };
    tokio::time::timeout(Duration::from_secs(60), rounds)
        .await
        .expect("40 rounds within 60 s");
}

/// Four clients create and delete one name concurrently: every call either
/// succeeds or fails with the exception DynamoDB gives for the state it
/// met, and none hangs.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_creates_and_deletes_of_one_name_never_hang() {
    let server = Server::start();
    let exists = (
        "ResourceInUseException".to_owned(),
        "Table already exists: contended".to_owned(),
    );
    let mut tasks = Vec::new();
    for _ in 0..4 {
        let client = tarn_tests::client_for(&server.endpoint);
        let exists = exists.clone();
        tasks.push(tokio::spawn(async move {
            let (mut created, mut deleted) = (0, 0);
            for _ in 0..25 {
                let create = client
                    .create_table()
                    .table_name("contended")
                    .key_schema(key("pk", KeyType::Hash))
                    .attribute_definitions(def("pk", ScalarAttributeType::S))
                    .billing_mode(BillingMode::PayPerRequest)
                    .send()
                    .await;
                match create {
                    Ok(_) => created += 1,
                    Err(e) => assert_eq!(service_error::<(), _>(Err(e)), exists),
                }
                match client.delete_table().table_name("contended").send().await {
                    Ok(_) => deleted += 1,
                    Err(e) => {
                        assert_eq!(service_error::<(), _>(Err(e)), not_found("contended"))
                    }
                }
            }
            (created, deleted)
        }));
    }
    let all = async {
        let mut totals = (0, 0);
        for task in tasks {
            let (c, d) = task.await.expect("client task");
            totals.0 += c;
            totals.1 += d;
        }
        totals
    };
    let (created, deleted) = tokio::time::timeout(Duration::from_secs(60), all)
        .await
        .expect("100 creates and deletes within 60 s");
    assert!(created >= 1 && deleted >= 1);
    // Every create was matched by a delete, or the last one is still there.
    let client = server.client();
    let listed = client.list_tables().send().await.expect("list tables");
    let present = usize::from(listed.table_names() == ["contended".to_owned()]);
    assert_eq!(
        created,
        deleted + present,
        "{created} created, {deleted} deleted"
    );
    if present == 0 {
        assert_gone(&client, "contended").await;
    }
}

/// DeleteTable's TableDescription has the fields DynamoDB returns, and no
/// others: no key schema, attribute definitions, indexes, creation time or
/// settings (scylladb test/alternator/test_table.py,
/// test_delete_table_description*).
#[tokio::test]
async fn delete_table_replies_with_exactly_dynamodbs_fields() {
    let server = Server::start();
    let create = r#"{"TableName":"described","BillingMode":"PAY_PER_REQUEST",
        "AttributeDefinitions":[{"AttributeName":"p","AttributeType":"S"},{"AttributeName":"c","AttributeType":"S"},{"AttributeName":"x","AttributeType":"S"}],
        "KeySchema":[{"AttributeName":"p","KeyType":"HASH"},{"AttributeName":"c","KeyType":"RANGE"}],
        "GlobalSecondaryIndexes":[{"IndexName":"hello","KeySchema":[{"AttributeName":"x","KeyType":"HASH"}],"Projection":{"ProjectionType":"ALL"}}],
        "LocalSecondaryIndexes":[{"IndexName":"hithere","KeySchema":[{"AttributeName":"p","KeyType":"HASH"},{"AttributeName":"x","KeyType":"RANGE"}],"Projection":{"ProjectionType":"ALL"}}],
        "StreamSpecification":{"StreamEnabled":true,"StreamViewType":"KEYS_ONLY"},
        "Tags":[{"Key":"team","Value":"a"}]}"#;
    let r = tarn_tests::raw_op(&server, "CreateTable", create).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let r = tarn_tests::raw_op(&server, "DeleteTable", r#"{"TableName":"described"}"#).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let body: serde_json::Value = serde_json::from_str(&r.body).expect("json");
    let keys = |v: &serde_json::Value| -> Vec<String> {
        let mut k: Vec<String> = v.as_object().expect("object").keys().cloned().collect();
        k.sort();
        k
    };
    assert_eq!(keys(&body), ["TableDescription"]);
    let t = &body["TableDescription"];
    assert_eq!(
        keys(t),
        [
            "BillingModeSummary",
            "ItemCount",
            "ProvisionedThroughput",
            "TableArn",
            "TableId",
            "TableName",
            "TableSizeBytes",
            "TableStatus"
        ]
    );
    assert_eq!(t["TableName"], "described");
    assert_eq!(t["TableStatus"], "DELETING");
    assert_eq!(
        t["TableArn"],
        "arn:aws:dynamodb:us-east-1:000000000000:table/described"
    );
    assert!(is_uuid(t["TableId"].as_str().expect("id")));
    assert_eq!(
        keys(&t["ProvisionedThroughput"]),
        [
            "NumberOfDecreasesToday",
            "ReadCapacityUnits",
            "WriteCapacityUnits"
        ]
    );
    assert_eq!(t["ProvisionedThroughput"]["ReadCapacityUnits"], 0);
    assert_eq!(t["BillingModeSummary"]["BillingMode"], "PAY_PER_REQUEST");
    assert!(t["BillingModeSummary"]["LastUpdateToPayPerRequestDateTime"].is_number());
}
