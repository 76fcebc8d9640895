//! Exact ConsumedCapacity, end to end: every data operation on items of
//! the smallest possible size (2 B), 1 KB, 1 KB + 1 B, 4 KB + 1 B and
//! 400 KB, with and without strong consistency, in transactions, and with
//! index arms (`docs/research/capacity-ttl-tags.md` §1).

use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, ConsumedCapacity, DeleteRequest, Get, GlobalSecondaryIndex,
    KeySchemaElement, KeyType, KeysAndAttributes, LocalSecondaryIndex, Projection, ProjectionType,
    Put, PutRequest, ReturnConsumedCapacity, ScalarAttributeType, Select, TransactGetItem,
    TransactWriteItem, WriteRequest,
};
use aws_sdk_dynamodb::Client;
use tarn_tests::{item, s, Item, Server};

const TOTAL: ReturnConsumedCapacity = ReturnConsumedCapacity::Total;

/// An item of exactly `bytes` bytes in the table keyed by `k`: the key
/// `k = "x"` is 2 bytes, and `d` (1 byte of name) pads the rest.
fn sized(bytes: usize) -> Item {
    if bytes == 2 {
        return item(&[("k", s("x"))]);
    }
    item(&[("k", s("x")), ("d", s(&"p".repeat(bytes - 3)))])
}

fn key() -> Item {
    item(&[("k", s("x"))])
}

/// The sizes the issue names, with the write units, strongly consistent
/// read units and eventually consistent read units each costs.
const CASES: [(usize, f64, f64, f64); 5] = [
    (2, 1.0, 1.0, 0.5),
    (1024, 1.0, 1.0, 0.5),
    (1025, 2.0, 1.0, 0.5),
    (4097, 5.0, 2.0, 1.0),
    (400 * 1024, 400.0, 100.0, 50.0),
];

fn units(c: Option<&ConsumedCapacity>) -> f64 {
    c.and_then(ConsumedCapacity::capacity_units)
        .expect("ConsumedCapacity.CapacityUnits")
}

async fn table(client: &Client) {
    tarn_tests::create_table(client, "cap", ("k", ScalarAttributeType::S), None).await;
}

#[tokio::test]
async fn single_item_operations_cost_their_size() {
    let server = Server::start();
    let client = server.client();
    table(&client).await;
    for (bytes, write, strong, eventual) in CASES {
        let put = client
            .put_item()
            .table_name("cap")
            .set_item(Some(sized(bytes)))
            .return_consumed_capacity(TOTAL)
            .send()
            .await
            .expect("put");
        assert_eq!(units(put.consumed_capacity()), write, "put of {bytes} B");
        for (consistent, expected) in [(true, strong), (false, eventual)] {
            let get = client
                .get_item()
                .table_name("cap")
                .set_key(Some(key()))
                .consistent_read(consistent)
                .return_consumed_capacity(TOTAL)
                .send()
                .await
                .expect("get");
            assert_eq!(
                units(get.consumed_capacity()),
                expected,
                "get of {bytes} B, consistent {consistent}"
            );
            // A projection does not change what is read.
            let projected = client
                .get_item()
                .table_name("cap")
                .set_key(Some(key()))
                .projection_expression("k")
                .consistent_read(consistent)
                .return_consumed_capacity(TOTAL)
                .send()
                .await
                .expect("get");
            assert_eq!(units(projected.consumed_capacity()), expected);
            let query = client
                .query()
                .table_name("cap")
                .key_condition_expression("k = :k")
                .expression_attribute_values(":k", s("x"))
                .consistent_read(consistent)
                .return_consumed_capacity(TOTAL)
                .send()
                .await
                .expect("query");
            assert_eq!(
                units(query.consumed_capacity()),
                expected,
                "query of {bytes} B"
            );
            let scan = client
                .scan()
                .table_name("cap")
                .consistent_read(consistent)
                .filter_expression("attribute_not_exists(k)")
                .return_consumed_capacity(TOTAL)
                .send()
                .await
                .expect("scan");
            assert_eq!(
                units(scan.consumed_capacity()),
                expected,
                "scan of {bytes} B, charged before the filter"
            );
        }
        // An update is sized on the larger image: rewriting `d` keeps the
        // size (the 2-byte item grows to 5 bytes, still one unit).
        let (expression, value) = if bytes == 2 {
            ("SET k2 = :v", s("y"))
        } else {
            ("SET d = :v", s(&"p".repeat(bytes - 3)))
        };
        let update = client
            .update_item()
            .table_name("cap")
            .set_key(Some(key()))
            .update_expression(expression)
            .expression_attribute_values(":v", value)
            .return_consumed_capacity(TOTAL)
            .send()
            .await
            .expect("update");
        assert_eq!(
            units(update.consumed_capacity()),
            write,
            "update of {bytes} B"
        );
        let delete = client
            .delete_item()
            .table_name("cap")
            .set_key(Some(key()))
            .return_consumed_capacity(TOTAL)
            .send()
            .await
            .expect("delete");
        assert_eq!(
            units(delete.consumed_capacity()),
            write,
            "delete of {bytes} B"
        );
        // Deleting what is not there costs one unit.
        let again = client
            .delete_item()
            .table_name("cap")
            .set_key(Some(key()))
            .return_consumed_capacity(TOTAL)
            .send()
            .await
            .expect("delete missing");
        assert_eq!(units(again.consumed_capacity()), 1.0);
    }
}

#[tokio::test]
async fn batches_round_each_item_and_transactions_double() {
    let server = Server::start();
    let client = server.client();
    table(&client).await;
    for (bytes, write, strong, eventual) in CASES {
        let batch = client
            .batch_write_item()
            .request_items(
                "cap",
                vec![WriteRequest::builder()
                    .put_request(
                        PutRequest::builder()
                            .set_item(Some(sized(bytes)))
                            .build()
                            .expect("put"),
                    )
                    .build()],
            )
            .return_consumed_capacity(TOTAL)
            .send()
            .await
            .expect("batch write");
        assert_eq!(
            units(batch.consumed_capacity().first()),
            write,
            "batch put {bytes} B"
        );
        for (consistent, expected) in [(true, strong), (false, eventual)] {
            let get = client
                .batch_get_item()
                .request_items(
                    "cap",
                    KeysAndAttributes::builder()
                        .keys(key())
                        .keys(item(&[("k", s("absent"))]))
                        .consistent_read(consistent)
                        .build()
                        .expect("keys"),
                )
                .return_consumed_capacity(TOTAL)
                .send()
                .await
                .expect("batch get");
            // Each key is rounded on its own; a missing one costs the least.
            let missing = if consistent { 1.0 } else { 0.5 };
            assert_eq!(units(get.consumed_capacity().first()), expected + missing);
        }
        let tx = client
            .transact_write_items()
            .transact_items(
                TransactWriteItem::builder()
                    .put(
                        Put::builder()
                            .table_name("cap")
                            .set_item(Some(sized(bytes)))
                            .build()
                            .expect("put"),
                    )
                    .build(),
            )
            .return_consumed_capacity(TOTAL)
            .send()
            .await
            .expect("transact write");
        let c = tx.consumed_capacity().first();
        assert_eq!(units(c), 2.0 * write, "transactional put of {bytes} B");
        assert_eq!(c.and_then(|c| c.write_capacity_units()), Some(2.0 * write));
        let tg = client
            .transact_get_items()
            .transact_items(
                TransactGetItem::builder()
                    .get(
                        Get::builder()
                            .table_name("cap")
                            .set_key(Some(key()))
                            .build()
                            .expect("get"),
                    )
                    .build(),
            )
            .return_consumed_capacity(TOTAL)
            .send()
            .await
            .expect("transact get");
        let c = tg.consumed_capacity().first();
        assert_eq!(units(c), 2.0 * strong, "transactional get of {bytes} B");
        assert_eq!(c.and_then(|c| c.read_capacity_units()), Some(2.0 * strong));
        let delete = client
            .batch_write_item()
            .request_items(
                "cap",
                vec![WriteRequest::builder()
                    .delete_request(
                        DeleteRequest::builder()
                            .set_key(Some(key()))
                            .build()
                            .expect("delete"),
                    )
                    .build()],
            )
            .return_consumed_capacity(TOTAL)
            .send()
            .await
            .expect("batch delete");
        assert_eq!(
            units(delete.consumed_capacity().first()),
            write,
            "batch delete {bytes} B"
        );
    }
}

async fn indexed_table(client: &Client) {
    let el = |n: &str, k| {
        KeySchemaElement::builder()
            .attribute_name(n)
            .key_type(k)
            .build()
            .expect("key")
    };
    let def = |n: &str| {
        AttributeDefinition::builder()
            .attribute_name(n)
            .attribute_type(ScalarAttributeType::S)
            .build()
            .expect("def")
    };
    client
        .create_table()
        .table_name("cap-idx")
        .billing_mode(BillingMode::PayPerRequest)
        .key_schema(el("pk", KeyType::Hash))
        .key_schema(el("sk", KeyType::Range))
        .attribute_definitions(def("pk"))
        .attribute_definitions(def("sk"))
        .attribute_definitions(def("g"))
        .attribute_definitions(def("l"))
        .global_secondary_indexes(
            GlobalSecondaryIndex::builder()
                .index_name("gsi")
                .key_schema(el("g", KeyType::Hash))
                .projection(
                    Projection::builder()
                        .projection_type(ProjectionType::Include)
                        .non_key_attributes("proj")
                        .build(),
                )
                .build()
                .expect("gsi"),
        )
        .local_secondary_indexes(
            LocalSecondaryIndex::builder()
                .index_name("lsi")
                .key_schema(el("pk", KeyType::Hash))
                .key_schema(el("l", KeyType::Range))
                .projection(
                    Projection::builder()
                        .projection_type(ProjectionType::All)
                        .build(),
                )
                .build()
                .expect("lsi"),
        )
        .send()
        .await
        .expect("create");
}

/// (total, table arm, gsi arm, lsi arm) of a write's INDEXES report.
fn arms(c: Option<&ConsumedCapacity>) -> (f64, f64, Option<f64>, Option<f64>) {
    let c = c.expect("ConsumedCapacity");
    let arm = |m: Option<&std::collections::HashMap<String, aws_sdk_dynamodb::types::Capacity>>,
               n: &str| { m.and_then(|m| m.get(n)).and_then(|c| c.capacity_units()) };
    (
        c.capacity_units().expect("total"),
        c.table()
            .and_then(|t| t.capacity_units())
            .expect("table arm"),
        arm(c.global_secondary_indexes(), "gsi"),
        arm(c.local_secondary_indexes(), "lsi"),
    )
}

#[tokio::test]
async fn index_writes_are_charged_on_what_each_entry_changed() {
    let server = Server::start();
    let client = server.client();
    indexed_table(&client).await;
    let base = |extra: &[(&str, aws_sdk_dynamodb::types::AttributeValue)]| {
        let mut i = item(&[("pk", s("p")), ("sk", s("1"))]);
        for (k, v) in extra {
            i.insert((*k).to_owned(), v.clone());
        }
        i
    };
    let put = |i: Item| {
        client
            .put_item()
            .table_name("cap-idx")
            .set_item(Some(i))
            .return_consumed_capacity(ReturnConsumedCapacity::Indexes)
            .send()
    };
    // The ladder measured against DynamoDB (research notes §1.4).
    let first = put(base(&[("g", s("a")), ("l", s("x"))]))
        .await
        .expect("put");
    assert_eq!(
        arms(first.consumed_capacity()),
        (3.0, 1.0, Some(1.0), Some(1.0))
    );
    let same = put(base(&[("g", s("a")), ("l", s("x"))]))
        .await
        .expect("put");
    assert_eq!(arms(same.consumed_capacity()), (1.0, 1.0, None, None));
    let proj = put(base(&[("g", s("a")), ("l", s("x")), ("proj", s("v"))]))
        .await
        .expect("put");
    assert_eq!(
        arms(proj.consumed_capacity()),
        (3.0, 1.0, Some(1.0), Some(1.0))
    );
    let moved = put(base(&[("g", s("b")), ("l", s("x")), ("proj", s("v"))]))
        .await
        .expect("put");
    assert_eq!(
        arms(moved.consumed_capacity()),
        (4.0, 1.0, Some(2.0), Some(1.0))
    );
    let sparse = put(base(&[("l", s("x")), ("proj", s("v"))]))
        .await
        .expect("put");
    assert_eq!(
        arms(sparse.consumed_capacity()),
        (3.0, 1.0, Some(1.0), Some(1.0))
    );
    // A 1.5 KB projected attribute makes the GSI entry two units.
    let big = put(base(&[
        ("g", s("a")),
        ("l", s("x")),
        ("proj", s(&"v".repeat(1500))),
    ]))
    .await
    .expect("put");
    assert_eq!(
        arms(big.consumed_capacity()),
        (6.0, 2.0, Some(2.0), Some(2.0))
    );
    let deleted = client
        .delete_item()
        .table_name("cap-idx")
        .set_key(Some(item(&[("pk", s("p")), ("sk", s("1"))])))
        .return_consumed_capacity(ReturnConsumedCapacity::Indexes)
        .send()
        .await
        .expect("delete");
    assert_eq!(
        arms(deleted.consumed_capacity()),
        (6.0, 2.0, Some(2.0), Some(2.0))
    );
    // An index read is charged to the index; the table arm is zero.
    let q = client
        .query()
        .table_name("cap-idx")
        .index_name("gsi")
        .key_condition_expression("g = :g")
        .expression_attribute_values(":g", s("a"))
        .return_consumed_capacity(ReturnConsumedCapacity::Indexes)
        .send()
        .await
        .expect("query");
    assert_eq!(arms(q.consumed_capacity()), (0.5, 0.0, Some(0.5), None));
}

/// A Query or Scan is one read: the sizes of everything it read (before
/// the filter, whatever the projection or `Select`) are summed and rounded
/// up to 4 KB once, so thirty tiny items cost what one does: 1 unit
/// strongly consistent, 0.5 eventually (research notes §1.5). An index
/// read is charged to the index, the table arm zero.
#[tokio::test]
async fn query_and_scan_charge_many_tiny_items_as_one_read() {
    let server = Server::start();
    let client = server.client();
    indexed_table(&client).await;
    let puts: Vec<WriteRequest> = (0..30)
        .map(|i| {
            let it = item(&[
                ("pk", s("p")),
                ("sk", s(&format!("{i:02}"))),
                ("g", s("a")),
                ("l", s(&format!("{i:02}"))),
            ]);
            WriteRequest::builder()
                .put_request(
                    PutRequest::builder()
                        .set_item(Some(it))
                        .build()
                        .expect("put"),
                )
                .build()
        })
        .collect();
    for chunk in puts.chunks(25) {
        client
            .batch_write_item()
            .request_items("cap-idx", chunk.to_vec())
            .send()
            .await
            .expect("batch");
    }
    // A Query of `key` = `value` on the table or `index`.
    let query_of = |index: Option<&str>, key: &str, value: &str, consistent: bool| {
        client
            .query()
            .table_name("cap-idx")
            .set_index_name(index.map(str::to_owned))
            .key_condition_expression(format!("{key} = :v"))
            .expression_attribute_values(":v", s(value))
            .consistent_read(consistent)
            .return_consumed_capacity(TOTAL)
    };
    let query = |consistent: bool| query_of(None, "pk", "p", consistent);
    for (consistent, expected) in [(true, 1.0), (false, 0.5)] {
        let all = query(consistent).send().await.expect("query");
        assert_eq!(all.count, 30);
        assert_eq!(units(all.consumed_capacity()), expected, "{consistent}");
        let none = query(consistent)
            .filter_expression("g = :none")
            .expression_attribute_values(":none", s("none"))
            .send()
            .await
            .expect("filtered");
        assert_eq!((none.count, none.scanned_count), (0, 30));
        assert_eq!(units(none.consumed_capacity()), expected);
        let counted = query(consistent)
            .select(Select::Count)
            .send()
            .await
            .expect("count");
        assert_eq!(counted.count, 30);
        assert_eq!(units(counted.consumed_capacity()), expected);
        let keys = query(consistent)
            .projection_expression("sk")
            .send()
            .await
            .expect("projected");
        assert_eq!(units(keys.consumed_capacity()), expected);
        let scan = client
            .scan()
            .table_name("cap-idx")
            .consistent_read(consistent)
            .return_consumed_capacity(TOTAL)
            .send()
            .await
            .expect("scan");
        assert_eq!(scan.count, 30);
        assert_eq!(units(scan.consumed_capacity()), expected);
        // A partition with nothing in it still costs the minimum.
        let empty = query_of(None, "pk", "nothing", consistent)
            .send()
            .await
            .expect("empty");
        assert_eq!(empty.count, 0);
        assert_eq!(units(empty.consumed_capacity()), expected);
    }
    let gsi = query_of(Some("gsi"), "g", "a", false)
        .return_consumed_capacity(ReturnConsumedCapacity::Indexes)
        .send()
        .await
        .expect("gsi query");
    assert_eq!(gsi.count, 30);
    assert_eq!(arms(gsi.consumed_capacity()), (0.5, 0.0, Some(0.5), None));
    let lsi = query_of(Some("lsi"), "pk", "p", true)
        .return_consumed_capacity(ReturnConsumedCapacity::Indexes)
        .send()
        .await
        .expect("lsi query");
    assert_eq!(lsi.count, 30);
    assert_eq!(arms(lsi.consumed_capacity()), (1.0, 0.0, None, Some(1.0)));
}
