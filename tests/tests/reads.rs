//! End-to-end tests of Query, Scan, BatchGetItem and BatchWriteItem against
//! the real `tarn` binary, driven by the official AWS SDK: key conditions,
//! paging (Limit, the 1 MB page, the SDK paginators), parallel Scan, Select
//! and projections, the legacy parameters, consumed capacity, and both batch
//! operations.
//!
//! Error cases assert the exception name and DynamoDB's exact message, as
//! collected with their sources in `docs/research/query-scan-batch-errors.md`
//! (section numbers below refer to it). Where DynamoDB is rewording messages
//! region by region (§0), Query asserts the new wording, which every capture
//! of Query shows, and Scan and BatchWriteItem the wording most regions
//! still give; BatchGetItem has crossed nearly everywhere.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use aws_sdk_dynamodb::operation::query::builders::QueryFluentBuilder;
use aws_sdk_dynamodb::operation::query::QueryOutput;
use aws_sdk_dynamodb::operation::scan::ScanOutput;
use aws_sdk_dynamodb::types::{
    AttributeValue, ComparisonOperator, Condition, ConditionalOperator, ConsumedCapacity,
    DeleteRequest, KeysAndAttributes, PutRequest, ReturnConsumedCapacity, ScalarAttributeType,
    Select, WriteRequest,
};
use aws_sdk_dynamodb::Client;
use tarn_tests::{
    b, create_table, get, hash_table, item, n, range_table, raw_op, s, service_error, validation,
    Server,
};

type Item = HashMap<String, AttributeValue>;

/// `(placeholder, value)` pairs of `ExpressionAttributeValues`.
type Values = Vec<(&'static str, AttributeValue)>;

const NOT_FOUND: &str = "Requested resource not found";
const TYPE_MISMATCH: &str =
    "One or more parameter values were invalid: Condition parameter type does not match schema type";
const NOT_SUPPORTED: &str = "Query key condition not supported";
const KEY_MISMATCH: &str = "The provided key element does not match the schema";
const DUPLICATES: &str = "Provided list of item keys contains duplicates";
/// DynamoDB's Query and Scan page size.
const PAGE_BYTES: usize = 1024 * 1024;
/// Upper bound on the pages any paging loop here may take.
const PAGES_MAX: usize = 50;

// ---- values ----

fn num(v: i64) -> AttributeValue {
    AttributeValue::N(v.to_string())
}

fn boolean(v: bool) -> AttributeValue {
    AttributeValue::Bool(v)
}

/// The key of an item in a table keyed by the string `pk` and number `sk`.
fn key2(pk: &str, sk: i64) -> Item {
    item(&[("pk", s(pk)), ("sk", num(sk))])
}

/// The key of an item in a table keyed by the string `pk`.
fn key1(pk: &str) -> Item {
    item(&[("pk", s(pk))])
}

fn nums(v: &[i64]) -> Vec<AttributeValue> {
    v.iter().copied().map(num).collect()
}

fn values_map(values: &[(&str, AttributeValue)]) -> Option<Item> {
    (!values.is_empty()).then(|| item(values))
}

fn not_found() -> (String, String) {
    ("ResourceNotFoundException".to_owned(), NOT_FOUND.to_owned())
}

/// An item of partition `pk` at sort key `sk`, tagged "even" or "odd", with
/// `n` = 10 × `sk`.
fn numbered(pk: &str, sk: i64) -> Item {
    let tag = if sk % 2 == 0 { "even" } else { "odd" };
    item(&[
        ("pk", s(pk)),
        ("sk", num(sk)),
        ("tag", s(tag)),
        ("n", num(sk * 10)),
    ])
}

/// The sort keys of `items`, in order.
fn sort_keys(items: &[Item]) -> Vec<AttributeValue> {
    items.iter().map(|i| i["sk"].clone()).collect()
}

/// `items` sorted by the rendering of attribute `attr`, for comparing
/// results whose order DynamoDB does not define.
fn sorted_by(items: &[Item], attr: &str) -> Vec<Item> {
    let mut out = items.to_vec();
    out.sort_by_key(|i| format!("{:?}", i.get(attr)));
    out
}

fn cond(op: ComparisonOperator, args: Vec<AttributeValue>) -> Condition {
    Condition::builder()
        .comparison_operator(op)
        .set_attribute_value_list(Some(args))
        .build()
        .expect("condition")
}

fn put_request(item: Item) -> WriteRequest {
    WriteRequest::builder()
        .put_request(
            PutRequest::builder()
                .set_item(Some(item))
                .build()
                .expect("put request"),
        )
        .build()
}

fn delete_request(key: Item) -> WriteRequest {
    WriteRequest::builder()
        .delete_request(
            DeleteRequest::builder()
                .set_key(Some(key))
                .build()
                .expect("delete request"),
        )
        .build()
}

fn keys_and_attributes(keys: Vec<Item>) -> KeysAndAttributes {
    KeysAndAttributes::builder()
        .set_keys(Some(keys))
        .build()
        .expect("keys and attributes")
}

// ---- tables ----

/// Writes `items` with BatchWriteItem, 25 at a time.
async fn batch_put(client: &Client, table: &str, items: Vec<Item>) {
    for chunk in items.chunks(25) {
        let out = client
            .batch_write_item()
            .request_items(table, chunk.iter().cloned().map(put_request).collect())
            .send()
            .await
            .expect("batch write");
        assert!(
            out.unprocessed_items().is_none_or(HashMap::is_empty),
            "{out:?}"
        );
    }
}

// ---- query helpers ----

/// A Query of partition `p`.
fn query_p(client: &Client, table: &str) -> QueryFluentBuilder {
    client
        .query()
        .table_name(table)
        .key_condition_expression("pk = :p")
        .expression_attribute_values(":p", s("p"))
}

async fn query(
    client: &Client,
    table: &str,
    kce: &str,
    values: &Values,
    forward: bool,
) -> QueryOutput {
    client
        .query()
        .table_name(table)
        .key_condition_expression(kce)
        .set_expression_attribute_values(values_map(values))
        .scan_index_forward(forward)
        .send()
        .await
        .unwrap_or_else(|e| panic!("query {kce}: {e:?}"))
}

async fn query_error(client: &Client, table: &str, kce: &str, values: &Values) -> (String, String) {
    service_error(
        client
            .query()
            .table_name(table)
            .key_condition_expression(kce)
            .set_expression_attribute_values(values_map(values))
            .send()
            .await,
    )
}

/// Runs each key condition forward and backward and checks the sort keys
/// it returns (`expected` is the forward order).
async fn check_ranges(client: &Client, table: &str, cases: &[(&str, Values, Vec<AttributeValue>)]) {
    for (kce, values, expected) in cases {
        for forward in [true, false] {
            let out = query(client, table, kce, values, forward).await;
            let mut want = expected.clone();
            if !forward {
                want.reverse();
            }
            assert_eq!(sort_keys(out.items()), want, "{kce} forward={forward}");
            let len = i32::try_from(want.len()).expect("small");
            assert_eq!((out.count, out.scanned_count), (len, len), "{kce}");
            assert!(out.last_evaluated_key.is_none(), "{kce}");
        }
    }
}

// ---- Query: sort-key conditions ----

#[tokio::test]
async fn query_sort_key_operators_select_their_range_in_both_directions() {
    let server = Server::start();
    let client = server.client();
    range_table(&client, "numbers").await;
    let mut items: Vec<Item> = (1..=10).map(|i| key2("p", i)).collect();
    items.push(item(&[("pk", s("p")), ("sk", n("-1.5"))]));
    // Neighbouring partitions, one whose key extends "p", never leak in.
    for other in ["pp", "o", "q", "P"] {
        items.push(key2(other, 5));
    }
    batch_put(&client, "numbers", items).await;
    let p = || (":p", s("p"));
    let all: Vec<AttributeValue> = std::iter::once(n("-1.5"))
        .chain((1..=10).map(num))
        .collect();
    let cases: Vec<(&str, Values, Vec<AttributeValue>)> = vec![
        ("pk = :p", vec![p()], all.clone()),
        ("pk = :p AND sk = :a", vec![p(), (":a", num(5))], nums(&[5])),
        ("pk = :p AND sk = :a", vec![p(), (":a", num(11))], vec![]),
        ("pk = :p AND sk < :a", vec![p(), (":a", num(4))], {
            let mut v = vec![n("-1.5")];
            v.extend(nums(&[1, 2, 3]));
            v
        }),
        ("pk = :p AND sk < :a", vec![p(), (":a", n("-1.5"))], vec![]),
        ("pk = :p AND sk <= :a", vec![p(), (":a", num(4))], {
            let mut v = vec![n("-1.5")];
            v.extend(nums(&[1, 2, 3, 4]));
            v
        }),
        (
            "pk = :p AND sk > :a",
            vec![p(), (":a", num(7))],
            nums(&[8, 9, 10]),
        ),
        ("pk = :p AND sk > :a", vec![p(), (":a", num(10))], vec![]),
        (
            "pk = :p AND sk >= :a",
            vec![p(), (":a", num(7))],
            nums(&[7, 8, 9, 10]),
        ),
        (
            "pk = :p AND sk >= :a",
            vec![p(), (":a", n("-100"))],
            all.clone(),
        ),
        (
            "pk = :p AND sk BETWEEN :a AND :b",
            vec![p(), (":a", num(3)), (":b", num(6))],
            nums(&[3, 4, 5, 6]),
        ),
        (
            "pk = :p AND sk BETWEEN :a AND :b",
            vec![p(), (":a", n("2.5")), (":b", n("3.5"))],
            nums(&[3]),
        ),
        // Keywords are case-insensitive.
        (
            "pk = :p and sk between :a and :b",
            vec![p(), (":a", num(6)), (":b", num(6))],
            nums(&[6]),
        ),
        // The value may come first, and the conditions in either order.
        (
            ":a < sk AND pk = :p",
            vec![p(), (":a", num(8))],
            nums(&[9, 10]),
        ),
        (":a >= sk AND :p = pk", vec![p(), (":a", num(1))], {
            vec![n("-1.5"), num(1)]
        }),
        // One level of redundant parentheses is allowed.
        (
            "(pk = :p) AND (sk > :a)",
            vec![p(), (":a", num(9))],
            nums(&[10]),
        ),
    ];
    check_ranges(&client, "numbers", &cases).await;
}

#[tokio::test]
async fn query_begins_with_matches_string_sort_key_prefixes() {
    let server = Server::start();
    let client = server.client();
    create_table(
        &client,
        "strings",
        ("pk", ScalarAttributeType::S),
        Some(("sk", ScalarAttributeType::S)),
    )
    .await;
    let sks = [
        "a",
        "ab",
        "abc",
        "abd",
        "ac",
        "b",
        "z",
        "é",
        "éa",
        "\u{10348}",
    ];
    let items = sks
        .iter()
        .map(|k| item(&[("pk", s("p")), ("sk", s(k))]))
        .chain([item(&[("pk", s("q")), ("sk", s("ab"))])])
        .collect();
    batch_put(&client, "strings", items).await;
    let p = || (":p", s("p"));
    let strs = |v: &[&str]| v.iter().map(|x| s(x)).collect::<Vec<_>>();
    let cases: Vec<(&str, Values, Vec<AttributeValue>)> = vec![
        // Strings sort by their UTF-8 bytes.
        ("pk = :p", vec![p()], strs(&sks)),
        (
            "pk = :p AND begins_with(sk, :a)",
            vec![p(), (":a", s("ab"))],
            strs(&["ab", "abc", "abd"]),
        ),
        (
            "pk = :p AND begins_with(sk, :a)",
            vec![p(), (":a", s("a"))],
            strs(&["a", "ab", "abc", "abd", "ac"]),
        ),
        (
            "pk = :p AND begins_with(sk, :a)",
            vec![p(), (":a", s("é"))],
            strs(&["é", "éa"]),
        ),
        (
            "pk = :p AND begins_with(sk, :a)",
            vec![p(), (":a", s("abcd"))],
            vec![],
        ),
        (
            "pk = :p AND begins_with(sk, :a)",
            vec![p(), (":a", s("\u{10348}"))],
            strs(&["\u{10348}"]),
        ),
        (
            "pk = :p AND sk BETWEEN :a AND :b",
            vec![p(), (":a", s("abc")), (":b", s("b"))],
            strs(&["abc", "abd", "ac", "b"]),
        ),
    ];
    check_ranges(&client, "strings", &cases).await;
}

#[tokio::test]
async fn query_begins_with_matches_binary_sort_key_prefixes_as_unsigned_bytes() {
    let server = Server::start();
    let client = server.client();
    create_table(
        &client,
        "binary",
        ("pk", ScalarAttributeType::S),
        Some(("sk", ScalarAttributeType::B)),
    )
    .await;
    let sks: [&[u8]; 9] = [
        &[0x00],
        &[0x00, 0x00],
        &[0x01],
        &[0x01, 0x00],
        &[0x01, 0xff],
        &[0x02],
        &[0xff],
        &[0xff, 0x00],
        &[0xff, 0xff],
    ];
    let items = sks
        .iter()
        .map(|k| item(&[("pk", s("p")), ("sk", b(k))]))
        .collect();
    batch_put(&client, "binary", items).await;
    let p = || (":p", s("p"));
    let bins = |v: &[&[u8]]| v.iter().map(|x| b(x)).collect::<Vec<_>>();
    let cases: Vec<(&str, Values, Vec<AttributeValue>)> = vec![
        ("pk = :p", vec![p()], bins(&sks)),
        (
            "pk = :p AND begins_with(sk, :a)",
            vec![p(), (":a", b(&[0x01]))],
            bins(&[&[0x01], &[0x01, 0x00], &[0x01, 0xff]]),
        ),
        (
            "pk = :p AND begins_with(sk, :a)",
            vec![p(), (":a", b(&[0x00]))],
            bins(&[&[0x00], &[0x00, 0x00]]),
        ),
        (
            "pk = :p AND begins_with(sk, :a)",
            vec![p(), (":a", b(&[0xff]))],
            bins(&[&[0xff], &[0xff, 0x00], &[0xff, 0xff]]),
        ),
        (
            "pk = :p AND begins_with(sk, :a)",
            vec![p(), (":a", b(&[0xff, 0xff]))],
            bins(&[&[0xff, 0xff]]),
        ),
        (
            "pk = :p AND sk > :a",
            vec![p(), (":a", b(&[0x01, 0xff]))],
            bins(&[&[0x02], &[0xff], &[0xff, 0x00], &[0xff, 0xff]]),
        ),
    ];
    check_ranges(&client, "binary", &cases).await;
}

#[tokio::test]
async fn query_on_a_hash_only_table_returns_the_one_item() {
    let server = Server::start();
    let client = server.client();
    hash_table(&client, "single").await;
    batch_put(
        &client,
        "single",
        vec![
            item(&[("pk", s("p")), ("v", num(1))]),
            item(&[("pk", s("q")), ("v", num(2))]),
        ],
    )
    .await;
    let out = query_p(&client, "single").send().await.expect("query");
    assert_eq!(out.items(), [item(&[("pk", s("p")), ("v", num(1))])]);
    assert_eq!((out.count, out.scanned_count), (1, 1));
    let out = client
        .query()
        .table_name("single")
        .key_condition_expression("pk = :p")
        .expression_attribute_values(":p", s("none"))
        .send()
        .await
        .expect("empty query");
    // An empty result still carries an (empty) Items list.
    assert_eq!(out.items, Some(vec![]));
    assert_eq!((out.count, out.scanned_count), (0, 0));
    assert!(out.last_evaluated_key.is_none());
}

// ---- Query and Scan: Limit, paging and the filter ----

#[tokio::test]
async fn query_limit_counts_items_read_before_the_filter() {
    let server = Server::start();
    let client = server.client();
    range_table(&client, "paging").await;
    let mut items: Vec<Item> = (1..=6).map(|i| numbered("p", i)).collect();
    items.push(numbered("q", 1));
    batch_put(&client, "paging", items).await;
    let evens = || {
        query_p(&client, "paging")
            .filter_expression("tag = :t")
            .expression_attribute_values(":t", s("even"))
    };

    let out = evens().limit(3).send().await.expect("page 1");
    assert_eq!((out.count, out.scanned_count), (1, 3));
    assert_eq!(sort_keys(out.items()), nums(&[2]));
    // The key of the last item read, which the filter dropped.
    assert_eq!(out.last_evaluated_key, Some(key2("p", 3)));

    let out = evens()
        .limit(3)
        .set_exclusive_start_key(out.last_evaluated_key)
        .send()
        .await
        .expect("page 2");
    assert_eq!((out.count, out.scanned_count), (2, 3));
    assert_eq!(sort_keys(out.items()), nums(&[4, 6]));
    // The Limit stopped the page on the partition's last item: DynamoDB
    // still returns a key, and only the next page finds nothing.
    assert_eq!(out.last_evaluated_key, Some(key2("p", 6)));

    let out = evens()
        .limit(3)
        .set_exclusive_start_key(out.last_evaluated_key)
        .send()
        .await
        .expect("page 3");
    assert_eq!((out.count, out.scanned_count), (0, 0));
    assert_eq!(out.items, Some(vec![]));
    assert!(out.last_evaluated_key.is_none());

    let out = evens().limit(6).send().await.expect("limit 6");
    assert_eq!((out.count, out.scanned_count), (3, 6));
    assert_eq!(out.last_evaluated_key, Some(key2("p", 6)));
    let out = evens().limit(7).send().await.expect("limit 7");
    assert_eq!((out.count, out.scanned_count), (3, 6));
    assert!(out.last_evaluated_key.is_none());
    let out = evens().send().await.expect("no limit");
    assert_eq!((out.count, out.scanned_count), (3, 6));
    assert!(out.last_evaluated_key.is_none());

    // A page whose every item was filtered out still carries the key.
    let out = query_p(&client, "paging")
        .filter_expression("tag = :t")
        .expression_attribute_values(":t", s("none"))
        .limit(2)
        .send()
        .await
        .expect("filtered out");
    assert_eq!((out.count, out.scanned_count), (0, 2));
    assert_eq!(out.items, Some(vec![]));
    assert_eq!(out.last_evaluated_key, Some(key2("p", 2)));
}

#[tokio::test]
async fn query_backwards_pages_from_the_end_of_the_range() {
    let server = Server::start();
    let client = server.client();
    range_table(&client, "backwards").await;
    batch_put(
        &client,
        "backwards",
        (1..=6).map(|i| numbered("p", i)).collect(),
    )
    .await;
    let out = query_p(&client, "backwards")
        .scan_index_forward(false)
        .limit(4)
        .send()
        .await
        .expect("page 1");
    assert_eq!(sort_keys(out.items()), nums(&[6, 5, 4, 3]));
    assert_eq!(out.last_evaluated_key, Some(key2("p", 3)));
    let out = query_p(&client, "backwards")
        .scan_index_forward(false)
        .limit(4)
        .set_exclusive_start_key(out.last_evaluated_key)
        .send()
        .await
        .expect("page 2");
    assert_eq!(sort_keys(out.items()), nums(&[2, 1]));
    assert!(out.last_evaluated_key.is_none());

    // Backwards with a sort-key condition takes the top of its range.
    let out = client
        .query()
        .table_name("backwards")
        .key_condition_expression("pk = :p AND sk <= :a")
        .expression_attribute_values(":p", s("p"))
        .expression_attribute_values(":a", num(4))
        .scan_index_forward(false)
        .limit(2)
        .send()
        .await
        .expect("bounded backwards");
    assert_eq!(sort_keys(out.items()), nums(&[4, 3]));
    assert_eq!(out.last_evaluated_key, Some(key2("p", 3)));
}

#[tokio::test]
async fn exclusive_start_key_need_not_name_an_existing_item() {
    let server = Server::start();
    let client = server.client();
    range_table(&client, "resume").await;
    batch_put(
        &client,
        "resume",
        (1..=6).map(|i| numbered("p", i)).collect(),
    )
    .await;
    let between = item(&[("pk", s("p")), ("sk", n("2.5"))]);
    let out = query_p(&client, "resume")
        .set_exclusive_start_key(Some(between.clone()))
        .send()
        .await
        .expect("forward");
    assert_eq!(sort_keys(out.items()), nums(&[3, 4, 5, 6]));
    let out = query_p(&client, "resume")
        .set_exclusive_start_key(Some(between))
        .scan_index_forward(false)
        .send()
        .await
        .expect("backward");
    assert_eq!(sort_keys(out.items()), nums(&[2, 1]));
    // Resuming strictly after an existing item skips it.
    let out = query_p(&client, "resume")
        .set_exclusive_start_key(Some(key2("p", 5)))
        .send()
        .await
        .expect("after 5");
    assert_eq!(sort_keys(out.items()), nums(&[6]));
}

#[tokio::test]
async fn scan_limit_counts_items_read_before_the_filter() {
    let server = Server::start();
    let client = server.client();
    hash_table(&client, "scanpage").await;
    let keys = ["a", "b", "c", "d", "e"];
    batch_put(
        &client,
        "scanpage",
        keys.iter()
            .map(|k| item(&[("pk", s(k)), ("tag", s("x"))]))
            .collect(),
    )
    .await;

    // Limit equal to the table's size: the page still ends with a key, that
    // of the last item read.
    let out = client
        .scan()
        .table_name("scanpage")
        .limit(5)
        .send()
        .await
        .expect("limit 5");
    assert_eq!((out.count, out.scanned_count), (5, 5));
    let last = out.items().last().map(|i| key1(i["pk"].as_s().expect("S")));
    assert_eq!(out.last_evaluated_key, last);
    let out = client
        .scan()
        .table_name("scanpage")
        .limit(6)
        .send()
        .await
        .expect("limit 6");
    assert_eq!((out.count, out.scanned_count), (5, 5));
    assert!(out.last_evaluated_key.is_none());

    let out = client
        .scan()
        .table_name("scanpage")
        .filter_expression("tag = :t")
        .expression_attribute_values(":t", s("none"))
        .limit(2)
        .send()
        .await
        .expect("filtered out");
    assert_eq!((out.count, out.scanned_count), (0, 2));
    assert_eq!(out.items, Some(vec![]));
    assert!(out.last_evaluated_key.is_some());

    // Paging by 2 reads 2, 2, then 1 item and ends without a key.
    let mut seen = Vec::new();
    let mut start = None;
    let mut pages = Vec::new();
    for _ in 0..PAGES_MAX {
        let out: ScanOutput = client
            .scan()
            .table_name("scanpage")
            .limit(2)
            .set_exclusive_start_key(start.take())
            .send()
            .await
            .expect("page");
        pages.push(out.count);
        seen.extend(
            out.items()
                .iter()
                .map(|i| i["pk"].as_s().expect("S").clone()),
        );
        start = out.last_evaluated_key;
        if start.is_none() {
            break;
        }
    }
    assert_eq!(pages, [2, 2, 1]);
    seen.sort();
    assert_eq!(seen, keys);
}

// ---- Select and projections ----

#[tokio::test]
async fn select_count_returns_counts_without_items() {
    let server = Server::start();
    let client = server.client();
    range_table(&client, "counting").await;
    let mut items: Vec<Item> = (1..=6).map(|i| numbered("p", i)).collect();
    items.push(numbered("q", 1));
    batch_put(&client, "counting", items).await;

    let out = query_p(&client, "counting")
        .select(Select::Count)
        .send()
        .await
        .expect("count");
    assert_eq!(out.items, None);
    assert_eq!((out.count, out.scanned_count), (6, 6));
    assert!(out.last_evaluated_key.is_none());

    let out = query_p(&client, "counting")
        .select(Select::Count)
        .filter_expression("tag = :t")
        .expression_attribute_values(":t", s("even"))
        .send()
        .await
        .expect("filtered count");
    assert_eq!(out.items, None);
    assert_eq!((out.count, out.scanned_count), (3, 6));

    let out = query_p(&client, "counting")
        .select(Select::Count)
        .limit(4)
        .send()
        .await
        .expect("limited count");
    assert_eq!(out.items, None);
    assert_eq!((out.count, out.scanned_count), (4, 4));
    assert_eq!(out.last_evaluated_key, Some(key2("p", 4)));

    let out = client
        .scan()
        .table_name("counting")
        .select(Select::Count)
        .send()
        .await
        .expect("scan count");
    assert_eq!(out.items, None);
    assert_eq!((out.count, out.scanned_count), (7, 7));
}

#[tokio::test]
async fn projection_expression_and_attributes_to_get_shape_query_and_scan_items() {
    let server = Server::start();
    let client = server.client();
    range_table(&client, "shapes").await;
    let first = item(&[
        ("pk", s("p")),
        ("sk", num(1)),
        ("a", s("x")),
        (
            "m",
            AttributeValue::M(item(&[("a", num(1)), ("b", num(2))])),
        ),
        ("l", AttributeValue::L(nums(&[10, 20, 30]))),
    ]);
    let second = item(&[
        ("pk", s("p")),
        ("sk", num(2)),
        ("a", s("y")),
        ("m", AttributeValue::M(item(&[("a", num(3))]))),
    ]);
    batch_put(&client, "shapes", vec![first.clone(), second.clone()]).await;

    let out = query_p(&client, "shapes")
        .select(Select::SpecificAttributes)
        .projection_expression("sk, m.a, l[1]")
        .send()
        .await
        .expect("specific attributes");
    assert_eq!(
        out.items(),
        [
            item(&[
                ("sk", num(1)),
                ("m", AttributeValue::M(item(&[("a", num(1))]))),
                ("l", AttributeValue::L(nums(&[20]))),
            ]),
            item(&[
                ("sk", num(2)),
                ("m", AttributeValue::M(item(&[("a", num(3))]))),
            ]),
        ]
    );
    assert_eq!((out.count, out.scanned_count), (2, 2));

    // A projection alone means SPECIFIC_ATTRIBUTES; names may be
    // placeholders.
    let out = query_p(&client, "shapes")
        .projection_expression("#a")
        .expression_attribute_names("#a", "a")
        .send()
        .await
        .expect("projection");
    assert_eq!(
        out.items(),
        [item(&[("a", s("x"))]), item(&[("a", s("y"))])]
    );

    // AttributesToGet is a legacy parameter: it goes with KeyConditions.
    let out = client
        .query()
        .table_name("shapes")
        .key_conditions("pk", cond(ComparisonOperator::Eq, vec![s("p")]))
        .select(Select::SpecificAttributes)
        .attributes_to_get("a")
        .attributes_to_get("missing")
        .send()
        .await
        .expect("attributes to get");
    assert_eq!(
        out.items(),
        [item(&[("a", s("x"))]), item(&[("a", s("y"))])]
    );

    let out = query_p(&client, "shapes")
        .select(Select::AllAttributes)
        .send()
        .await
        .expect("all attributes");
    assert_eq!(out.items(), [first.clone(), second.clone()]);

    // The projection changes neither the counts nor LastEvaluatedKey, which
    // holds the keys even though they were not asked for.
    let out = query_p(&client, "shapes")
        .projection_expression("a")
        .limit(1)
        .send()
        .await
        .expect("projected page");
    assert_eq!(out.items(), [item(&[("a", s("x"))])]);
    assert_eq!((out.count, out.scanned_count), (1, 1));
    assert_eq!(out.last_evaluated_key, Some(key2("p", 1)));

    let out = client
        .scan()
        .table_name("shapes")
        .projection_expression("pk, l")
        .send()
        .await
        .expect("scan projection");
    assert_eq!(
        out.items(),
        [
            item(&[
                ("pk", s("p")),
                ("l", AttributeValue::L(nums(&[10, 20, 30])))
            ]),
            item(&[("pk", s("p"))]),
        ]
    );
    let out = client
        .scan()
        .table_name("shapes")
        .attributes_to_get("sk")
        .send()
        .await
        .expect("scan attributes to get");
    assert_eq!(
        out.items(),
        [item(&[("sk", num(1))]), item(&[("sk", num(2))])]
    );
}

/// Select combined with what contradicts it, on Query or Scan.
#[derive(Clone, Copy)]
enum SelectCase {
    CountWithProjection,
    CountWithAttributesToGet,
    AllWithProjection,
    AllWithAttributesToGet,
    SpecificWithoutProjection,
    AllProjectedWithoutIndex,
}

const SELECT_CASES: [(SelectCase, &str); 6] = [
    (
        SelectCase::CountWithProjection,
        "Cannot specify the ProjectionExpression when choosing to get only the Count",
    ),
    (
        SelectCase::CountWithAttributesToGet,
        "Cannot specify the AttributesToGet when choosing to get only the Count",
    ),
    (
        SelectCase::AllWithProjection,
        "Cannot specify the ProjectionExpression when choosing to get ALL_ATTRIBUTES",
    ),
    (
        SelectCase::AllWithAttributesToGet,
        "Cannot specify the AttributesToGet when choosing to get ALL_ATTRIBUTES",
    ),
    (
        SelectCase::SpecificWithoutProjection,
        "Must specify the AttributesToGet or ProjectionExpression when choosing to get SPECIFIC_ATTRIBUTES",
    ),
    (
        SelectCase::AllProjectedWithoutIndex,
        "ALL_PROJECTED_ATTRIBUTES can be used only when Querying using an IndexName",
    ),
];

impl SelectCase {
    /// (Select, ProjectionExpression, AttributesToGet)
    fn parts(self) -> (Select, Option<&'static str>, Option<Vec<String>>) {
        let atg = || Some(vec!["a".to_owned()]);
        match self {
            SelectCase::CountWithProjection => (Select::Count, Some("a"), None),
            SelectCase::CountWithAttributesToGet => (Select::Count, None, atg()),
            SelectCase::AllWithProjection => (Select::AllAttributes, Some("a"), None),
            SelectCase::AllWithAttributesToGet => (Select::AllAttributes, None, atg()),
            SelectCase::SpecificWithoutProjection => (Select::SpecificAttributes, None, None),
            SelectCase::AllProjectedWithoutIndex => (Select::AllProjectedAttributes, None, None),
        }
    }
}

async fn scan_select_error(client: &Client, table: &str, case: SelectCase) -> (String, String) {
    let (select, projection, atg) = case.parts();
    service_error(
        client
            .scan()
            .table_name(table)
            .select(select)
            .set_projection_expression(projection.map(str::to_owned))
            .set_attributes_to_get(atg)
            .send()
            .await,
    )
}

async fn query_select_error(client: &Client, table: &str, case: SelectCase) -> (String, String) {
    let (select, projection, atg) = case.parts();
    // AttributesToGet may not be mixed with KeyConditionExpression.
    let query = if atg.is_some() {
        client
            .query()
            .table_name(table)
            .key_conditions("pk", cond(ComparisonOperator::Eq, vec![s("p")]))
    } else {
        query_p(client, table)
    };
    service_error(
        query
            .select(select)
            .set_projection_expression(projection.map(str::to_owned))
            .set_attributes_to_get(atg)
            .send()
            .await,
    )
}

/// §2.3: Scan gives the Select errors bare.
#[tokio::test]
async fn scan_select_errors_name_the_contradicting_parameter() {
    let server = Server::start();
    let client = server.client();
    hash_table(&client, "selects").await;
    for (case, message) in SELECT_CASES {
        assert_eq!(
            scan_select_error(&client, "selects", case).await,
            validation(message)
        );
    }
    // The enum is case-sensitive (§2.2).
    assert_eq!(
        service_error(
            client
                .scan()
                .table_name("selects")
                .select(Select::from("count"))
                .send()
                .await
        ),
        validation(
            "1 validation error detected: Value 'count' at 'select' failed to satisfy constraint: Member must satisfy enum value set: [SPECIFIC_ATTRIBUTES, COUNT, ALL_ATTRIBUTES, ALL_PROJECTED_ATTRIBUTES]"
        )
    );
}

/// §2.3: Query gives the Select errors bare, in the wording Tarn keeps
/// throughout (pre-2026, DDBL and DL-T; AWS has since added the `1
/// validation error detected: ` envelope for Query, see §0).
#[tokio::test]
async fn query_select_errors_use_the_pre_2026_wording() {
    let server = Server::start();
    let client = server.client();
    range_table(&client, "selects").await;
    for (case, message) in SELECT_CASES {
        assert_eq!(
            query_select_error(&client, "selects", case).await,
            validation(message)
        );
    }
}

/// §2.3: with a projection, ALL_PROJECTED_ATTRIBUTES names the projection
/// before it complains of the missing IndexName (NC).
#[tokio::test]
async fn select_all_projected_attributes_with_a_projection_names_the_projection() {
    let server = Server::start();
    let client = server.client();
    hash_table(&client, "selects").await;
    assert_eq!(
        service_error(
            client
                .scan()
                .table_name("selects")
                .select(Select::AllProjectedAttributes)
                .projection_expression("a")
                .send()
                .await
        ),
        validation(
            "Cannot specify the ProjectionExpression when choosing to get ALL_PROJECTED_ATTRIBUTES"
        )
    );
}

// ---- legacy parameters ----

#[tokio::test]
async fn legacy_key_conditions_query_filter_and_scan_filter_select_items() {
    let server = Server::start();
    let client = server.client();
    range_table(&client, "legacy").await;
    let mut items: Vec<Item> = (1..=6).map(|i| numbered("p", i)).collect();
    items.push(numbered("q", 3));
    batch_put(&client, "legacy", items).await;
    let keyed = |sk: Condition| {
        client
            .query()
            .table_name("legacy")
            .key_conditions("pk", cond(ComparisonOperator::Eq, vec![s("p")]))
            .key_conditions("sk", sk)
    };

    let cases = [
        (ComparisonOperator::Eq, nums(&[4]), vec![4]),
        (ComparisonOperator::Lt, nums(&[3]), vec![1, 2]),
        (ComparisonOperator::Le, nums(&[3]), vec![1, 2, 3]),
        (ComparisonOperator::Gt, nums(&[4]), vec![5, 6]),
        (ComparisonOperator::Ge, nums(&[4]), vec![4, 5, 6]),
        (ComparisonOperator::Between, nums(&[2, 5]), vec![2, 3, 4, 5]),
    ];
    for (op, args, want) in cases {
        let out = keyed(cond(op.clone(), args))
            .send()
            .await
            .unwrap_or_else(|e| panic!("{op:?}: {e:?}"));
        assert_eq!(sort_keys(out.items()), nums(&want), "{op:?}");
    }
    let out = client
        .query()
        .table_name("legacy")
        .key_conditions("pk", cond(ComparisonOperator::Eq, vec![s("p")]))
        .scan_index_forward(false)
        .send()
        .await
        .expect("partition only");
    assert_eq!(sort_keys(out.items()), nums(&[6, 5, 4, 3, 2, 1]));

    // QueryFilter: odd, or n >= 40, within sk 2..=5.
    let filtered = |op: Option<ConditionalOperator>| {
        keyed(cond(ComparisonOperator::Between, nums(&[2, 5])))
            .query_filter("tag", cond(ComparisonOperator::Eq, vec![s("odd")]))
            .query_filter("n", cond(ComparisonOperator::Ge, nums(&[40])))
            .set_conditional_operator(op)
    };
    let out = filtered(Some(ConditionalOperator::Or))
        .send()
        .await
        .expect("OR");
    assert_eq!(sort_keys(out.items()), nums(&[3, 4, 5]));
    assert_eq!((out.count, out.scanned_count), (3, 4));
    let out = filtered(Some(ConditionalOperator::And))
        .send()
        .await
        .expect("AND");
    assert_eq!(sort_keys(out.items()), nums(&[5]));
    let out = filtered(None).send().await.expect("default AND");
    assert_eq!(sort_keys(out.items()), nums(&[5]));
    assert_eq!((out.count, out.scanned_count), (1, 4));

    // ScanFilter: odd, or n >= 50, over the whole table; filters on keys
    // are allowed in a Scan.
    let scanned = |op: Option<ConditionalOperator>| {
        client
            .scan()
            .table_name("legacy")
            .scan_filter("tag", cond(ComparisonOperator::Eq, vec![s("odd")]))
            .scan_filter("sk", cond(ComparisonOperator::Ge, nums(&[5])))
            .set_conditional_operator(op)
    };
    let out = scanned(Some(ConditionalOperator::Or))
        .send()
        .await
        .expect("scan OR");
    let got: BTreeSet<(String, String)> = out
        .items()
        .iter()
        .map(|i| {
            (
                i["pk"].as_s().expect("S").clone(),
                i["sk"].as_n().expect("N").clone(),
            )
        })
        .collect();
    let want: BTreeSet<(String, String)> =
        [("p", "1"), ("p", "3"), ("p", "5"), ("p", "6"), ("q", "3")]
            .iter()
            .map(|(a, b)| ((*a).to_owned(), (*b).to_owned()))
            .collect();
    assert_eq!(got, want);
    assert_eq!((out.count, out.scanned_count), (5, 7));
    let out = scanned(None).send().await.expect("scan AND");
    assert_eq!(out.items(), [numbered("p", 5)]);
    assert_eq!((out.count, out.scanned_count), (1, 7));
}

#[tokio::test]
async fn legacy_key_conditions_refuse_operators_a_key_cannot_answer() {
    let server = Server::start();
    let client = server.client();
    range_table(&client, "legacy").await;
    let query = |sk: (ComparisonOperator, Vec<AttributeValue>)| {
        client
            .query()
            .table_name("legacy")
            .key_conditions("pk", cond(ComparisonOperator::Eq, vec![s("p")]))
            .key_conditions("sk", cond(sk.0, sk.1))
    };
    // §1.3 item 4.
    for (op, args) in [
        (ComparisonOperator::In, nums(&[1, 2])),
        (ComparisonOperator::Ne, nums(&[1])),
        (ComparisonOperator::Contains, nums(&[1])),
    ] {
        assert_eq!(
            service_error(query((op.clone(), args)).send().await),
            validation("Attempted conditional constraint is not an indexable operation"),
            "{op:?}"
        );
    }
    // §1.3 item 6.
    assert_eq!(
        service_error(
            client
                .query()
                .table_name("legacy")
                .key_conditions("pk", cond(ComparisonOperator::Gt, vec![s("p")]))
                .send()
                .await
        ),
        validation(NOT_SUPPORTED)
    );
    // §1.4.
    assert_eq!(
        service_error(query((ComparisonOperator::Eq, nums(&[1, 2]))).send().await),
        validation(
            "One or more parameter values were invalid: Invalid number of argument(s) for the EQ ComparisonOperator"
        )
    );
    assert_eq!(
        service_error(
            query((ComparisonOperator::Between, nums(&[5, 2])))
                .send()
                .await
        ),
        validation(
            "The BETWEEN condition was provided a range where the lower bound is greater than the upper bound"
        )
    );
    // §1.2: both forms at once.
    assert_eq!(
        service_error(
            query((ComparisonOperator::Eq, nums(&[1])))
                .key_condition_expression("pk = :p")
                .expression_attribute_values(":p", s("p"))
                .send()
                .await
        ),
        validation(
            "Can not use both expression and non-expression parameters in the same request: Non-expression parameters: {KeyConditions} Expression parameters: {KeyConditionExpression}"
        )
    );
    // §1.2: neither.
    assert_eq!(
        service_error(client.query().table_name("legacy").send().await),
        validation(
            "Either the KeyConditions or KeyConditionExpression parameter must be specified in the request."
        )
    );
}

/// DynamoDB takes the legacy `KeyConditions` with `FilterExpression` and
/// `ProjectionExpression` (ScyllaDB's DynamoDB-verified `test_query.py`
/// and `test_projection_expression.py` do so; dynalite's validation drops
/// KeyConditions from the mix unless a KeyConditionExpression is present).
#[tokio::test]
async fn key_conditions_combine_with_filter_and_projection_expressions() {
    let server = Server::start();
    let client = server.client();
    range_table(&client, "keyed").await;
    let mut items: Vec<Item> = (1..=6).map(|i| numbered("p", i)).collect();
    items.push(numbered("q", 3));
    batch_put(&client, "keyed", items).await;
    let keyed = || {
        client
            .query()
            .table_name("keyed")
            .key_conditions("pk", cond(ComparisonOperator::Eq, vec![s("p")]))
            .key_conditions("sk", cond(ComparisonOperator::Between, nums(&[2, 5])))
    };

    let out = keyed()
        .filter_expression("#t = :odd")
        .expression_attribute_names("#t", "tag")
        .expression_attribute_values(":odd", s("odd"))
        .send()
        .await
        .expect("KeyConditions with FilterExpression");
    assert_eq!(out.items(), [numbered("p", 3), numbered("p", 5)]);
    assert_eq!((out.count, out.scanned_count), (2, 4));

    let out = keyed()
        .projection_expression("sk, #n")
        .expression_attribute_names("#n", "n")
        .send()
        .await
        .expect("KeyConditions with ProjectionExpression");
    let want: Vec<Item> = (2..=5)
        .map(|i| item(&[("sk", num(i)), ("n", num(i * 10))]))
        .collect();
    assert_eq!(out.items(), want);

    let out = keyed()
        .filter_expression("n >= :forty")
        .projection_expression("sk")
        .expression_attribute_values(":forty", num(40))
        .scan_index_forward(false)
        .send()
        .await
        .expect("KeyConditions with both");
    assert_eq!(
        out.items(),
        [item(&[("sk", num(5))]), item(&[("sk", num(4))])]
    );
    assert_eq!((out.count, out.scanned_count), (2, 4));

    // The filter still may not name a key attribute, as with QueryFilter.
    assert_eq!(
        service_error(
            keyed()
                .filter_expression("sk > :one")
                .expression_attribute_values(":one", num(1))
                .send()
                .await
        ),
        validation("Filter Expression can only contain non-primary key attributes: Primary key attribute: sk")
    );
    // A projection does not use values: they need a filter or a key
    // condition expression.
    assert_eq!(
        service_error(
            keyed()
                .projection_expression("sk")
                .expression_attribute_values(":unused", num(1))
                .send()
                .await
        ),
        validation(
            "ExpressionAttributeValues can only be specified when using expressions: FilterExpression and KeyConditionExpression are null"
        )
    );
    assert_eq!(
        service_error(
            client
                .scan()
                .table_name("keyed")
                .projection_expression("sk")
                .expression_attribute_values(":unused", num(1))
                .send()
                .await
        ),
        validation("ExpressionAttributeValues can only be specified when using expressions: FilterExpression is null")
    );
}

/// Every other mix of a legacy read parameter and an expression is
/// refused, listing the present members in DynamoDB's fixed order
/// (dynalite's tests, run against DynamoDB; ScyllaDB's
/// `test_filter_expression_and_attributes_to_get`).
#[tokio::test]
async fn legacy_and_expression_read_parameters_mix_only_as_dynamodb_allows() {
    let server = Server::start();
    let client = server.client();
    range_table(&client, "mix").await;
    let mixed = |legacy: &str, expressions: &str| {
        validation(&format!(
            "Can not use both expression and non-expression parameters in the same request: Non-expression parameters: {{{legacy}}} Expression parameters: {{{expressions}}}"
        ))
    };
    let keyed = || {
        client
            .query()
            .table_name("mix")
            .key_conditions("pk", cond(ComparisonOperator::Eq, vec![s("p")]))
    };
    let odd = || cond(ComparisonOperator::Eq, vec![s("odd")]);
    let cases: Vec<(QueryFluentBuilder, &str, &str)> = vec![
        (
            keyed()
                .query_filter("tag", odd())
                .filter_expression("tag = :t")
                .expression_attribute_values(":t", s("odd")),
            "QueryFilter",
            "FilterExpression",
        ),
        (
            keyed()
                .query_filter("tag", odd())
                .projection_expression("sk"),
            "QueryFilter",
            "ProjectionExpression",
        ),
        (
            keyed()
                .attributes_to_get("sk")
                .filter_expression("tag = :t")
                .expression_attribute_values(":t", s("odd")),
            "AttributesToGet",
            "FilterExpression",
        ),
        (
            keyed()
                .query_filter("tag", odd())
                .query_filter("n", cond(ComparisonOperator::Gt, nums(&[1])))
                .conditional_operator(ConditionalOperator::Or)
                .filter_expression("tag = :t")
                .expression_attribute_values(":t", s("odd")),
            "QueryFilter, ConditionalOperator",
            "FilterExpression",
        ),
        (
            query_p(&client, "mix").query_filter("tag", odd()),
            "QueryFilter",
            "KeyConditionExpression",
        ),
        (
            query_p(&client, "mix")
                .attributes_to_get("sk")
                .filter_expression("tag = :t")
                .expression_attribute_values(":t", s("odd")),
            "AttributesToGet",
            "FilterExpression, KeyConditionExpression",
        ),
        (
            query_p(&client, "mix")
                .key_conditions("pk", cond(ComparisonOperator::Eq, vec![s("p")]))
                .attributes_to_get("sk")
                .query_filter("tag", odd())
                .conditional_operator(ConditionalOperator::And)
                .projection_expression("sk")
                .filter_expression("tag = :t")
                .expression_attribute_values(":t", s("odd")),
            "AttributesToGet, QueryFilter, ConditionalOperator, KeyConditions",
            "ProjectionExpression, FilterExpression, KeyConditionExpression",
        ),
    ];
    for (request, legacy, expressions) in cases {
        assert_eq!(
            service_error(request.send().await),
            mixed(legacy, expressions),
            "{legacy} / {expressions}"
        );
    }

    let scan = || client.scan().table_name("mix");
    for (request, legacy, expressions) in [
        (
            scan()
                .scan_filter("tag", odd())
                .filter_expression("tag = :t")
                .expression_attribute_values(":t", s("odd")),
            "ScanFilter",
            "FilterExpression",
        ),
        (
            scan().attributes_to_get("sk").projection_expression("sk"),
            "AttributesToGet",
            "ProjectionExpression",
        ),
        (
            scan()
                .conditional_operator(ConditionalOperator::Or)
                .attributes_to_get("sk")
                .scan_filter("tag", odd())
                .projection_expression("sk")
                .filter_expression("tag = :t")
                .expression_attribute_values(":t", s("odd")),
            "AttributesToGet, ScanFilter, ConditionalOperator",
            "ProjectionExpression, FilterExpression",
        ),
    ] {
        assert_eq!(
            service_error(request.send().await),
            mixed(legacy, expressions),
            "{legacy} / {expressions}"
        );
    }

    let batch = client
        .batch_get_item()
        .request_items(
            "mix",
            KeysAndAttributes::builder()
                .keys(key2("p", 1))
                .attributes_to_get("sk")
                .projection_expression("sk")
                .build()
                .expect("keys"),
        )
        .send()
        .await;
    assert_eq!(
        service_error(batch),
        mixed("AttributesToGet", "ProjectionExpression")
    );
}

// ---- key-condition errors ----

#[tokio::test]
async fn key_condition_operators_other_than_comparisons_between_and_begins_with_are_refused() {
    let server = Server::start();
    let client = server.client();
    range_table(&client, "operators").await;
    let p = || (":p", s("p"));
    let a = || (":a", num(1));
    let cases: Vec<(&str, Values, &str)> = vec![
        ("pk = :p OR sk = :a", vec![p(), a()], "OR"),
        (
            "pk = :p AND (sk = :a OR sk = :b)",
            vec![p(), a(), (":b", num(2))],
            "OR",
        ),
        ("NOT pk = :p", vec![p()], "NOT"),
        ("pk = :p AND NOT sk = :a", vec![p(), a()], "NOT"),
        ("pk <> :p", vec![p()], "<>"),
        ("pk = :p AND sk <> :a", vec![p(), a()], "<>"),
        ("pk IN (:p, :q)", vec![p(), (":q", s("q"))], "IN"),
        (
            "pk = :p AND sk IN (:a, :b)",
            vec![p(), a(), (":b", num(2))],
            "IN",
        ),
        (
            "pk = :p AND attribute_exists(sk)",
            vec![p()],
            "attribute_exists",
        ),
        (
            "pk = :p AND attribute_not_exists(sk)",
            vec![p()],
            "attribute_not_exists",
        ),
        ("pk = :p AND contains(sk, :a)", vec![p(), a()], "contains"),
        (
            "pk = :p AND attribute_type(sk, :t)",
            vec![p(), (":t", s("N"))],
            "attribute_type",
        ),
    ];
    for (kce, values, op) in cases {
        assert_eq!(
            query_error(&client, "operators", kce, &values).await,
            validation(&format!(
                "Invalid operator used in KeyConditionExpression: {op}"
            )),
            "{kce}"
        );
    }
}

/// §1.2: `size()` and nested paths are refused with their own messages
/// (DL-T, NC 2026, SC).
#[tokio::test]
async fn key_conditions_on_functions_of_keys_or_nested_paths_are_refused() {
    let server = Server::start();
    let client = server.client();
    range_table(&client, "nested").await;
    let p = || (":p", s("p"));
    assert_eq!(
        query_error(
            &client,
            "nested",
            "pk = :p AND size(sk) > :a",
            &vec![p(), (":a", num(1))]
        )
        .await,
        validation("KeyConditionExpressions cannot contain nested operations")
    );
    assert_eq!(
        query_error(
            &client,
            "nested",
            "pk = :p AND sk.x = :a",
            &vec![p(), (":a", num(1))]
        )
        .await,
        validation("KeyConditionExpressions cannot have conditions on nested attributes")
    );
}

/// §1.2: shape errors come before the table lookup (DL-T used a missing
/// table).
#[tokio::test]
async fn key_condition_shape_errors_come_before_the_table_lookup() {
    let server = Server::start();
    let client = server.client();
    assert_eq!(
        query_error(
            &client,
            "nowhere",
            "pk = :p OR sk = :a",
            &vec![(":p", s("p")), (":a", num(1))]
        )
        .await,
        validation("Invalid operator used in KeyConditionExpression: OR")
    );
}

#[tokio::test]
async fn partition_key_condition_must_be_an_equality() {
    let server = Server::start();
    let client = server.client();
    range_table(&client, "partition").await;
    let cases: Vec<(&str, Values)> = vec![
        ("pk > :p", vec![(":p", s("p"))]),
        ("pk <= :p", vec![(":p", s("p"))]),
        ("begins_with(pk, :p)", vec![(":p", s("p"))]),
        ("pk BETWEEN :p AND :q", vec![(":p", s("p")), (":q", s("q"))]),
        ("pk > :p AND sk = :a", vec![(":p", s("p")), (":a", num(1))]),
    ];
    for (kce, values) in cases {
        assert_eq!(
            query_error(&client, "partition", kce, &values).await,
            validation(NOT_SUPPORTED),
            "{kce}"
        );
    }
}

#[tokio::test]
async fn query_without_a_partition_key_condition_names_the_partition_key() {
    let server = Server::start();
    let client = server.client();
    range_table(&client, "nopk").await;
    hash_table(&client, "nopkhash").await;
    let missed = validation("Query condition missed key schema element: pk");
    assert_eq!(
        query_error(&client, "nopk", "sk = :a", &vec![(":a", num(1))]).await,
        missed
    );
    assert_eq!(
        query_error(&client, "nopk", "sk > :a", &vec![(":a", num(1))]).await,
        missed
    );
    assert_eq!(
        query_error(&client, "nopkhash", "color = :o", &vec![(":o", s("x"))]).await,
        missed
    );
}

/// §1.3 item 2: the partition key is looked for first, so a condition on
/// a non-key attribute names it, on a table with a sort key too (NC 2026,
/// DL-T, SC, MOTO).
#[tokio::test]
async fn query_on_non_key_attributes_only_names_the_partition_key() {
    let server = Server::start();
    let client = server.client();
    range_table(&client, "nopk").await;
    let missed = validation("Query condition missed key schema element: pk");
    assert_eq!(
        query_error(&client, "nopk", "color = :o", &vec![(":o", s("x"))]).await,
        missed
    );
    assert_eq!(
        query_error(
            &client,
            "nopk",
            "sk = :a AND color = :o",
            &vec![(":a", num(1)), (":o", s("x"))]
        )
        .await,
        missed
    );
}

/// §1.3 item 3.
#[tokio::test]
async fn key_condition_on_a_non_key_attribute_names_the_missing_sort_key() {
    let server = Server::start();
    let client = server.client();
    range_table(&client, "nonkey").await;
    let missed = validation("Query condition missed key schema element: sk");
    let values = vec![(":p", s("p")), (":o", s("x"))];
    assert_eq!(
        query_error(&client, "nonkey", "pk = :p AND color = :o", &values).await,
        missed
    );
    assert_eq!(
        query_error(&client, "nonkey", "color = :o AND pk = :p", &values).await,
        missed
    );
}

/// §1.3 item 1: on a table without a sort key a second condition is
/// "not supported" (DL-T; the 2026 wording of this case is not captured).
#[tokio::test]
async fn key_condition_on_a_non_key_attribute_of_a_hash_only_table_is_not_supported() {
    let server = Server::start();
    let client = server.client();
    hash_table(&client, "hashonly").await;
    assert_eq!(
        query_error(
            &client,
            "hashonly",
            "pk = :p AND color = :o",
            &vec![(":p", s("p")), (":o", s("x"))]
        )
        .await,
        validation(NOT_SUPPORTED)
    );
}

/// §1.2 "Too many conditions", pre-2026 wording (DL-T, DDBL; checked before
/// the table lookup).
#[tokio::test]
async fn key_condition_with_more_conditions_than_keys_is_refused() {
    let server = Server::start();
    let client = server.client();
    range_table(&client, "toomany").await;
    assert_eq!(
        query_error(
            &client,
            "toomany",
            "pk = :p AND sk > :a AND extra = :b",
            &vec![(":p", s("p")), (":a", num(1)), (":b", num(2))]
        )
        .await,
        validation("Conditions can be of length 1 or 2 only")
    );
}

/// §1.2: a second condition on one key, pre-2026 wording (DL-T).
#[tokio::test]
async fn two_conditions_on_one_key_are_refused() {
    let server = Server::start();
    let client = server.client();
    range_table(&client, "twice").await;
    let message = validation("KeyConditionExpressions must only contain one condition per key");
    assert_eq!(
        query_error(
            &client,
            "twice",
            "pk = :p AND pk = :q",
            &vec![(":p", s("p")), (":q", s("q"))]
        )
        .await,
        message
    );
    assert_eq!(
        query_error(
            &client,
            "twice",
            "sk > :a AND sk < :b",
            &vec![(":a", num(1)), (":b", num(5))]
        )
        .await,
        message
    );
}

#[tokio::test]
async fn key_condition_values_must_have_the_key_types() {
    let server = Server::start();
    let client = server.client();
    range_table(&client, "types").await;
    create_table(
        &client,
        "stypes",
        ("pk", ScalarAttributeType::S),
        Some(("sk", ScalarAttributeType::S)),
    )
    .await;
    let p = || (":p", s("p"));
    let cases: Vec<(&str, &str, Values)> = vec![
        ("types", "pk = :v", vec![(":v", num(1))]),
        ("types", "pk = :v", vec![(":v", b(b"p"))]),
        ("types", "pk = :p AND sk = :v", vec![p(), (":v", s("1"))]),
        ("types", "pk = :p AND sk > :v", vec![p(), (":v", b(b"1"))]),
        (
            "types",
            "pk = :p AND sk BETWEEN :v AND :w",
            vec![p(), (":v", s("1")), (":w", s("2"))],
        ),
        // begins_with takes an S operand, but not on a number key (NC).
        (
            "types",
            "pk = :p AND begins_with(sk, :v)",
            vec![p(), (":v", s("1"))],
        ),
        (
            "types",
            "pk = :p AND sk = :v",
            vec![p(), (":v", boolean(true))],
        ),
        ("stypes", "pk = :p AND sk = :v", vec![p(), (":v", num(1))]),
    ];
    for (table, kce, values) in cases {
        assert_eq!(
            query_error(&client, table, kce, &values).await,
            validation(TYPE_MISMATCH),
            "{table}: {kce} {values:?}"
        );
    }
    assert_eq!(
        service_error(
            client
                .query()
                .table_name("types")
                .key_conditions("pk", cond(ComparisonOperator::Eq, nums(&[1])))
                .send()
                .await
        ),
        validation(TYPE_MISMATCH)
    );
    // An operand no key could match is an expression error (§1.3 item 5).
    let incorrect = |op: &str, ty: &str| {
        validation(&format!(
            "Invalid KeyConditionExpression: Incorrect operand type for operator or function; operator or function: {op}, operand type: {ty}"
        ))
    };
    for table in ["types", "stypes"] {
        assert_eq!(
            query_error(
                &client,
                table,
                "pk = :p AND begins_with(sk, :v)",
                &vec![p(), (":v", num(1))]
            )
            .await,
            incorrect("begins_with", "N"),
            "{table}"
        );
        assert_eq!(
            query_error(
                &client,
                table,
                "pk = :p AND begins_with(sk, :v)",
                &vec![p(), (":v", boolean(true))]
            )
            .await,
            incorrect("begins_with", "BOOL"),
            "{table}"
        );
    }
}

/// §1.3 item 5: a BOOL operand of an ordering operator is an expression
/// error naming the operator as written (NC, eu-west-2, October 2026).
#[tokio::test]
async fn key_condition_ordering_on_a_boolean_is_an_operand_type_error() {
    let server = Server::start();
    let client = server.client();
    range_table(&client, "booleans").await;
    let incorrect = |op: &str| {
        validation(&format!(
            "Invalid KeyConditionExpression: Incorrect operand type for operator or function; operator or function: {op}, operand type: BOOL"
        ))
    };
    let cases: Vec<(&str, &str)> = vec![
        ("pk = :p AND sk < :v", "<"),
        (":v >= sk AND pk = :p", ">="),
        ("pk = :p AND sk BETWEEN :v AND :v", "BETWEEN"),
    ];
    for (kce, op) in cases {
        assert_eq!(
            query_error(
                &client,
                "booleans",
                kce,
                &vec![(":p", s("p")), (":v", boolean(true))]
            )
            .await,
            incorrect(op),
            "{kce}"
        );
    }
}

/// §1.3 item 7 (MOTO issue #7062, quoting real DynamoDB).
#[tokio::test]
async fn key_condition_on_an_empty_partition_key_value_is_refused() {
    let server = Server::start();
    let client = server.client();
    range_table(&client, "empties").await;
    assert_eq!(
        query_error(&client, "empties", "pk = :p", &vec![(":p", s(""))]).await,
        validation(
            "One or more parameter values are not valid. The AttributeValue for a key attribute cannot contain an empty string value. Key: pk"
        )
    );
}

/// §1.3 item 8.
#[tokio::test]
async fn query_filters_refuse_key_attributes() {
    let server = Server::start();
    let client = server.client();
    range_table(&client, "keyfilter").await;
    assert_eq!(
        service_error(
            query_p(&client, "keyfilter")
                .filter_expression("sk > :a")
                .expression_attribute_values(":a", num(1))
                .send()
                .await
        ),
        validation(
            "Filter Expression can only contain non-primary key attributes: Primary key attribute: sk"
        )
    );
    assert_eq!(
        service_error(
            client
                .query()
                .table_name("keyfilter")
                .key_conditions("pk", cond(ComparisonOperator::Eq, vec![s("p")]))
                .query_filter("sk", cond(ComparisonOperator::Gt, nums(&[1])))
                .send()
                .await
        ),
        validation(
            "QueryFilter can only contain non-primary key attributes: Primary key attribute: sk"
        )
    );
}

// ---- Limit, Segment and ExclusiveStartKey errors ----

/// §2.1: Limit below 1, in the pre-2026 constraint wording Tarn keeps for
/// every operation (AWS now writes `Value at 'Limit'` for Query, §0).
#[tokio::test]
async fn query_limit_below_one_is_a_constraint_error() {
    let server = Server::start();
    let client = server.client();
    range_table(&client, "limits").await;
    for limit in [0, -1] {
        assert_eq!(
            service_error(query_p(&client, "limits").limit(limit).send().await),
            validation(&format!(
                "1 validation error detected: Value '{limit}' at 'limit' failed to satisfy constraint: Member must have value greater than or equal to 1"
            )),
            "Limit {limit}"
        );
    }
}

/// §2.1: Scan, in most regions, still echoes the value.
#[tokio::test]
async fn scan_limit_below_one_is_a_constraint_error() {
    let server = Server::start();
    let client = server.client();
    hash_table(&client, "limits").await;
    for limit in [0, -1] {
        assert_eq!(
            service_error(client.scan().table_name("limits").limit(limit).send().await),
            validation(&format!(
                "1 validation error detected: Value '{limit}' at 'limit' failed to satisfy constraint: Member must have value greater than or equal to 1"
            )),
        );
    }
}

/// §2.6: checked before the table lookup, so a missing table shows them.
#[tokio::test]
async fn scan_segment_and_total_segments_are_validated_together() {
    let server = Server::start();
    let client = server.client();
    let scan = |segment: Option<i32>, total: Option<i32>| {
        client
            .scan()
            .table_name("nowhere")
            .set_segment(segment)
            .set_total_segments(total)
            .send()
    };
    let no_total = validation(
        "The TotalSegments parameter is required but was not present in the request when Segment parameter is present",
    );
    assert_eq!(service_error(scan(Some(0), None).await), no_total);
    assert_eq!(service_error(scan(Some(3), None).await), no_total);
    assert_eq!(
        service_error(scan(None, Some(4)).await),
        validation(
            "The Segment parameter is required but was not present in the request when parameter TotalSegments is present"
        )
    );
    for (segment, total) in [(4, 4), (5, 2), (1, 1)] {
        assert_eq!(
            service_error(scan(Some(segment), Some(total)).await),
            validation(&format!(
                "The Segment parameter is zero-based and must be less than parameter TotalSegments: Segment: {segment} is not less than TotalSegments: {total}"
            ))
        );
    }
    assert_eq!(
        service_error(scan(Some(-1), Some(2)).await),
        validation(
            "1 validation error detected: Value '-1' at 'segment' failed to satisfy constraint: Member must have value greater than or equal to 0"
        )
    );
    // A valid pair reaches the table lookup.
    assert_eq!(service_error(scan(Some(3), Some(4)).await), not_found());
}

/// §2.5, Scan on a table: the older (most regions') wording.
#[tokio::test]
async fn scan_exclusive_start_key_must_match_the_schema() {
    let server = Server::start();
    let client = server.client();
    range_table(&client, "scanesk").await;
    hash_table(&client, "scaneskhash").await;
    let message = validation(&format!(
        "The provided starting key is invalid: {KEY_MISMATCH}"
    ));
    let cases: Vec<(&str, Item)> = vec![
        ("scanesk", key1("p")),
        ("scanesk", item(&[("pk", s("p")), ("sk", s("1"))])),
        (
            "scanesk",
            item(&[("pk", s("p")), ("sk", num(1)), ("extra", num(1))]),
        ),
        ("scaneskhash", item(&[("pk", num(1))])),
        ("scaneskhash", item(&[("other", s("p"))])),
    ];
    for (table, esk) in cases {
        assert_eq!(
            service_error(
                client
                    .scan()
                    .table_name(table)
                    .set_exclusive_start_key(Some(esk.clone()))
                    .send()
                    .await
            ),
            message,
            "{table} {esk:?}"
        );
    }
}

/// §2.5, Query: a wrong set of attributes is "invalid", a wrong type does
/// not match the schema (DL-T; NC 2026; floci).
#[tokio::test]
async fn query_exclusive_start_key_must_match_the_schema() {
    let server = Server::start();
    let client = server.client();
    range_table(&client, "queryesk").await;
    let invalid = validation("The provided starting key is invalid");
    let cases: Vec<(Item, (String, String))> = vec![
        (key1("p"), invalid.clone()),
        (item(&[("pk", s("p")), ("other", num(1))]), invalid.clone()),
        (
            item(&[("pk", s("p")), ("sk", num(1)), ("extra", num(1))]),
            invalid,
        ),
        (
            item(&[("pk", s("p")), ("sk", s("1"))]),
            validation(KEY_MISMATCH),
        ),
    ];
    for (esk, want) in cases {
        assert_eq!(
            service_error(
                query_p(&client, "queryesk")
                    .set_exclusive_start_key(Some(esk.clone()))
                    .send()
                    .await
            ),
            want,
            "{esk:?}"
        );
    }
}

/// §2.5: a sort key in the ExclusiveStartKey of a hash-only table is an
/// extra attribute, for Query ("invalid") and Scan (the schema mismatch).
#[tokio::test]
async fn exclusive_start_key_with_a_sort_key_on_a_hash_only_table_is_refused() {
    let server = Server::start();
    let client = server.client();
    hash_table(&client, "hashonly").await;
    for esk in [key2("p", 1), item(&[])] {
        assert_eq!(
            service_error(
                query_p(&client, "hashonly")
                    .set_exclusive_start_key(Some(esk.clone()))
                    .send()
                    .await
            ),
            validation("The provided starting key is invalid"),
            "{esk:?}"
        );
        assert_eq!(
            service_error(
                client
                    .scan()
                    .table_name("hashonly")
                    .set_exclusive_start_key(Some(esk.clone()))
                    .send()
                    .await
            ),
            validation(&format!(
                "The provided starting key is invalid: {KEY_MISMATCH}"
            )),
            "{esk:?}"
        );
    }
}

/// §2.5, with an IndexName: the key must hold exactly the index's and the
/// table's key attributes ("invalid" otherwise); a mistyped index key does
/// not match the schema, a mistyped table key makes the starting key
/// invalid (DL-T; NC 2026).
#[tokio::test]
async fn index_exclusive_start_key_must_hold_index_and_table_keys() {
    let server = Server::start();
    let client = server.client();
    let r = raw_op(
        &server,
        "CreateTable",
        r#"{"TableName":"idxesk","BillingMode":"PAY_PER_REQUEST","KeySchema":[{"AttributeName":"pk","KeyType":"HASH"},{"AttributeName":"sk","KeyType":"RANGE"}],"AttributeDefinitions":[{"AttributeName":"pk","AttributeType":"S"},{"AttributeName":"sk","AttributeType":"N"},{"AttributeName":"g","AttributeType":"S"}],"GlobalSecondaryIndexes":[{"IndexName":"by-g","KeySchema":[{"AttributeName":"g","KeyType":"HASH"}],"Projection":{"ProjectionType":"ALL"}}]}"#,
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let invalid = validation("The provided starting key is invalid");
    let cases: Vec<(Item, (String, String))> = vec![
        // The table's sort key is missing.
        (item(&[("g", s("x")), ("pk", s("p"))]), invalid.clone()),
        // The index key is missing.
        (key2("p", 1), invalid.clone()),
        // An extra attribute.
        (
            item(&[("g", s("x")), ("pk", s("p")), ("sk", num(1)), ("o", num(1))]),
            invalid.clone(),
        ),
        // The index key mistyped.
        (
            item(&[("g", num(1)), ("pk", s("p")), ("sk", num(1))]),
            validation(KEY_MISMATCH),
        ),
        // A table key mistyped.
        (
            item(&[("g", s("x")), ("pk", s("p")), ("sk", s("1"))]),
            validation(&format!(
                "The provided starting key is invalid: {KEY_MISMATCH}"
            )),
        ),
    ];
    for (esk, want) in cases {
        let query = client
            .query()
            .table_name("idxesk")
            .index_name("by-g")
            .key_condition_expression("g = :g")
            .expression_attribute_values(":g", s("x"))
            .set_exclusive_start_key(Some(esk.clone()))
            .send()
            .await;
        assert_eq!(service_error(query), want, "query {esk:?}");
        let scan = client
            .scan()
            .table_name("idxesk")
            .index_name("by-g")
            .set_exclusive_start_key(Some(esk.clone()))
            .send()
            .await;
        assert_eq!(service_error(scan), want, "scan {esk:?}");
    }
}

/// §2.5: an ExclusiveStartKey from another partition (DL-T).
#[tokio::test]
async fn query_exclusive_start_key_must_lie_in_the_queried_partition() {
    let server = Server::start();
    let client = server.client();
    range_table(&client, "outside").await;
    batch_put(
        &client,
        "outside",
        (1..=3).map(|i| numbered("p", i)).collect(),
    )
    .await;
    for other in ["a", "z"] {
        assert_eq!(
            service_error(
                query_p(&client, "outside")
                    .set_exclusive_start_key(Some(key2(other, 1)))
                    .send()
                    .await
            ),
            validation(
                "The provided starting key is outside query boundaries based on provided conditions"
            ),
            "{other}"
        );
    }
    // With a sort-key condition (DL-T; DDBL has the same texts).
    let below = |esk: Item| {
        client
            .query()
            .table_name("outside")
            .key_condition_expression("pk = :p AND sk < :a")
            .expression_attribute_values(":p", s("p"))
            .expression_attribute_values(":a", num(5))
            .set_exclusive_start_key(Some(esk))
            .send()
    };
    let predicate = validation("The provided starting key does not match the range key predicate");
    assert_eq!(service_error(below(key2("p", 9)).await), predicate);
    assert_eq!(service_error(below(key2("a", 9)).await), predicate);
    assert_eq!(
        service_error(below(key2("a", 1)).await),
        validation("The query can return at most one row and cannot be restarted")
    );
    let out = below(key2("p", 2)).await.expect("inside the range");
    assert_eq!(sort_keys(out.items()), nums(&[3]));
}

/// §4.1, §5.1: a batch's constraint violations come together in DynamoDB's
/// order (dynalite's batchWriteItem tests, exact against AWS): the enums,
/// a bad table name as one `Map keys` violation echoing RequestItems (as
/// compact JSON, NC 2026), the lists' lengths, then each request's missing
/// member, delete before put, with its 1-based position.
#[tokio::test]
async fn batch_constraint_errors_come_in_dynamodb_order() {
    const RCC: &str = "Value 'hi' at 'returnConsumedCapacity' failed to satisfy constraint: Member must satisfy enum value set: [INDEXES, TOTAL, NONE]";
    const RICM: &str = "Value 'hi' at 'returnItemCollectionMetrics' failed to satisfy constraint: Member must satisfy enum value set: [SIZE, NONE]";
    const KEYS: &str = "failed to satisfy constraint: Map keys must satisfy constraint: [Member must have length less than or equal to 255, Member must have length greater than or equal to 3, Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+]";
    let server = Server::start();
    let cases: [(&str, &str, Vec<String>); 4] = [
        (
            "BatchWriteItem",
            r#"{"ReturnConsumedCapacity":"hi","ReturnItemCollectionMetrics":"hi"}"#,
            vec![
                RCC.to_owned(),
                RICM.to_owned(),
                "Value null at 'requestItems' failed to satisfy constraint: Member must not be null".to_owned(),
            ],
        ),
        (
            "BatchWriteItem",
            r#"{"RequestItems":{"a":[]},"ReturnConsumedCapacity":"hi","ReturnItemCollectionMetrics":"hi"}"#,
            vec![
                RCC.to_owned(),
                RICM.to_owned(),
                format!(r#"Value '{{"a":[]}}' at 'requestItems' {KEYS}"#),
                "Value '{a=[]}' at 'requestItems' failed to satisfy constraint: Map value must satisfy constraint: [Member must have length less than or equal to 25, Member must have length greater than or equal to 1]".to_owned(),
            ],
        ),
        (
            "BatchWriteItem",
            r#"{"RequestItems":{"aa;":[{"PutRequest":{"Item":{"a":{"S":"x"}}}},{"PutRequest":{},"DeleteRequest":{}}]},"ReturnConsumedCapacity":"hi","ReturnItemCollectionMetrics":"hi"}"#,
            vec![
                RCC.to_owned(),
                RICM.to_owned(),
                format!(r#"Value '{{"aa;":[{{"PutRequest":{{"Item":{{"a":{{"S":"x"}}}}}}}},{{"DeleteRequest":{{}},"PutRequest":{{}}}}]}}' at 'requestItems' {KEYS}"#),
                "Value null at 'requestItems.aa;.member.2.member.deleteRequest.key' failed to satisfy constraint: Member must not be null".to_owned(),
                "Value null at 'requestItems.aa;.member.2.member.putRequest.item' failed to satisfy constraint: Member must not be null".to_owned(),
            ],
        ),
        (
            "BatchGetItem",
            r#"{"RequestItems":{"bad!name":{"Keys":[{"pk":{"S":"a"}}]}},"ReturnConsumedCapacity":"hi"}"#,
            vec![
                RCC.to_owned(),
                format!(r#"Value '{{"bad!name":{{"Keys":[{{"pk":{{"S":"a"}}}}]}}}}' at 'requestItems' {KEYS}"#),
            ],
        ),
    ];
    for (op, body, errors) in cases {
        let r = raw_op(&server, op, body).await;
        let plural = if errors.len() == 1 { "" } else { "s" };
        let message = format!(
            "{} validation error{plural} detected: {}",
            errors.len(),
            errors.join("; ")
        );
        // The echoed JSON is escaped inside the error body.
        assert_eq!(
            r.body,
            format!(
                r#"{{"__type":"com.amazon.coral.validate#ValidationException","message":"{}"}}"#,
                message.replace('"', "\\\"")
            ),
            "{op} {body}"
        );
    }
}

// ---- missing tables ----

#[tokio::test]
async fn reads_and_batches_on_a_missing_table_are_resource_not_found() {
    let server = Server::start();
    let client = server.client();
    hash_table(&client, "present").await;
    assert_eq!(
        service_error(query_p(&client, "nowhere").send().await),
        not_found()
    );
    // Conditions are checked against the schema only once the table is
    // found.
    assert_eq!(
        query_error(&client, "nowhere", "color = :o", &vec![(":o", s("x"))]).await,
        not_found()
    );
    assert_eq!(
        service_error(client.scan().table_name("nowhere").send().await),
        not_found()
    );
    assert_eq!(
        service_error(
            client
                .scan()
                .table_name("nowhere")
                .segment(1)
                .total_segments(2)
                .send()
                .await
        ),
        not_found()
    );
    assert_eq!(
        service_error(
            client
                .batch_get_item()
                .request_items("nowhere", keys_and_attributes(vec![key1("a")]))
                .send()
                .await
        ),
        not_found()
    );
    // One missing table fails the whole batch, and keys are checked against
    // the schema only after the lookup.
    assert_eq!(
        service_error(
            client
                .batch_get_item()
                .request_items("present", keys_and_attributes(vec![key1("a")]))
                .request_items(
                    "nowhere",
                    keys_and_attributes(vec![item(&[("wrong", num(1))])])
                )
                .send()
                .await
        ),
        not_found()
    );
    assert_eq!(
        service_error(
            client
                .batch_write_item()
                .request_items("nowhere", vec![put_request(key1("a"))])
                .send()
                .await
        ),
        not_found()
    );
    assert_eq!(
        service_error(
            client
                .batch_write_item()
                .request_items("nowhere", vec![delete_request(key1("a"))])
                .send()
                .await
        ),
        not_found()
    );
    // BatchWriteItem looks the table up before it looks for duplicates.
    assert_eq!(
        service_error(
            client
                .batch_write_item()
                .request_items(
                    "nowhere",
                    vec![put_request(key1("a")), delete_request(key1("a"))]
                )
                .send()
                .await
        ),
        not_found()
    );
}

// ---- paginators, the 1 MB page and parallel Scan ----

#[tokio::test]
async fn paginators_walk_a_multi_page_query_and_scan_over_one_megabyte() {
    let server = Server::start();
    let client = server.client();
    range_table(&client, "large").await;
    const ITEMS: i64 = 120;
    let data = "x".repeat(10_000);
    let items: Vec<Item> = (0..ITEMS)
        .map(|i| item(&[("pk", s("big")), ("sk", num(i)), ("data", s(&data))]))
        .collect();
    batch_put(&client, "large", items.clone()).await;
    // 120 items of about 10 KB: over 1 MB, so the first page stops after
    // about 104 of them (the item that crosses 1 MB is included; the exact
    // count depends on DynamoDB's page measure, §3.2).
    let per_page = PAGE_BYTES / 10_000;
    let first_page_items = (per_page - 5) as i32..=(per_page + 2) as i32;
    let big_query = || {
        client
            .query()
            .table_name("large")
            .key_condition_expression("pk = :p")
            .expression_attribute_values(":p", s("big"))
    };

    let pages: Vec<QueryOutput> = big_query()
        .into_paginator()
        .send()
        .try_collect()
        .await
        .expect("query pages");
    assert_eq!(pages.len(), 2);
    assert!(
        first_page_items.contains(&pages[0].count),
        "first page of {} items",
        pages[0].count
    );
    assert_eq!(pages[0].scanned_count, pages[0].count);
    let first = pages[0].count as i64;
    assert_eq!(pages[0].last_evaluated_key, Some(key2("big", first - 1)));
    assert_eq!(pages[1].count as i64, ITEMS - first);
    assert!(pages[1].last_evaluated_key.is_none());

    let got = big_query()
        .into_paginator()
        .items()
        .send()
        .try_collect()
        .await
        .expect("query items");
    assert_eq!(got, items);
    let got = big_query()
        .scan_index_forward(false)
        .into_paginator()
        .items()
        .send()
        .try_collect()
        .await
        .expect("backward query items");
    assert_eq!(got, items.iter().rev().cloned().collect::<Vec<_>>());

    let pages: Vec<ScanOutput> = client
        .scan()
        .table_name("large")
        .into_paginator()
        .send()
        .try_collect()
        .await
        .expect("scan pages");
    assert_eq!(pages.len(), 2);
    assert!(
        first_page_items.contains(&pages[0].count),
        "first page of {} items",
        pages[0].count
    );
    assert!(pages[0].last_evaluated_key.is_some());
    assert!(pages[1].last_evaluated_key.is_none());
    let got = client
        .scan()
        .table_name("large")
        .into_paginator()
        .items()
        .send()
        .try_collect()
        .await
        .expect("scan items");
    // One partition: Scan returns it in sort-key order too.
    assert_eq!(got, items);
}

#[tokio::test]
async fn parallel_scan_of_four_segments_returns_every_item_exactly_once() {
    let server = Server::start();
    let client = server.client();
    range_table(&client, "parallel").await;
    const PARTITIONS: i64 = 50;
    const PER_PARTITION: i64 = 4;
    const SEGMENTS: i32 = 4;
    let items: Vec<Item> = (0..PARTITIONS)
        .flat_map(|p| (0..PER_PARTITION).map(move |sk| numbered(&format!("part-{p}"), sk)))
        .collect();
    batch_put(&client, "parallel", items).await;

    let mut seen: BTreeMap<(String, String), usize> = BTreeMap::new();
    let mut segment_of: BTreeMap<String, BTreeSet<i32>> = BTreeMap::new();
    for segment in 0..SEGMENTS {
        let mut start = None;
        let mut finished = false;
        let mut in_segment = 0;
        for _ in 0..PAGES_MAX {
            let out = client
                .scan()
                .table_name("parallel")
                .segment(segment)
                .total_segments(SEGMENTS)
                .limit(16)
                .set_exclusive_start_key(start.take())
                .send()
                .await
                .expect("segment page");
            for i in out.items() {
                let pk = i["pk"].as_s().expect("S").clone();
                let sk = i["sk"].as_n().expect("N").clone();
                *seen.entry((pk.clone(), sk)).or_default() += 1;
                segment_of.entry(pk).or_default().insert(segment);
                in_segment += 1;
            }
            start = out.last_evaluated_key;
            if start.is_none() {
                finished = true;
                break;
            }
        }
        assert!(finished, "segment {segment} took over {PAGES_MAX} pages");
        assert!(in_segment > 0, "segment {segment} is empty");
    }
    assert_eq!(seen.len() as i64, PARTITIONS * PER_PARTITION);
    let repeated: Vec<_> = seen.iter().filter(|(_, c)| **c != 1).collect();
    assert!(repeated.is_empty(), "returned more than once: {repeated:?}");
    // Segments split the key space by partition.
    for (pk, segments) in &segment_of {
        assert_eq!(segments.len(), 1, "{pk} in segments {segments:?}");
    }

    // A start key from another segment is refused (§2.5).
    let (pk, segments) = segment_of.iter().next().expect("an item");
    let wrong = (segments.first().expect("a segment") + 1) % SEGMENTS;
    assert_eq!(
        service_error(
            client
                .scan()
                .table_name("parallel")
                .segment(wrong)
                .total_segments(SEGMENTS)
                .set_exclusive_start_key(Some(key2(pk, 0)))
                .send()
                .await
        ),
        validation(&format!(
            "The provided starting key is invalid: Invalid ExclusiveStartKey. Please use ExclusiveStartKey with correct Segment. TotalSegments: {SEGMENTS} Segment: {wrong}"
        ))
    );
}

// ---- consumed capacity and ConsistentRead ----

#[tokio::test]
async fn query_and_scan_capacity_counts_bytes_read_rounded_up_to_4_kb() {
    let server = Server::start();
    let client = server.client();
    create_table(
        &client,
        "capacity",
        ("pk", ScalarAttributeType::S),
        Some(("sk", ScalarAttributeType::S)),
    )
    .await;
    // "pk" "p" "sk" "sN" "data" + 5000: 3 + 4 + 5004 = 5011 bytes each, so
    // the three read 15033 bytes: 4 units of 4 KB, as one sum (per item it
    // would be 6).
    let data = "x".repeat(5000);
    let mut items: Vec<Item> = ["s1", "s2", "s3"]
        .iter()
        .map(|k| item(&[("pk", s("p")), ("sk", s(k)), ("data", s(&data))]))
        .collect();
    items.push(item(&[("pk", s("q")), ("sk", s("s1"))]));
    batch_put(&client, "capacity", items).await;
    let units = |c: Option<&ConsumedCapacity>| {
        let c = c.expect("ConsumedCapacity");
        assert_eq!(c.table_name(), Some("capacity"));
        c.capacity_units().expect("CapacityUnits")
    };
    let partition = |p: &str| {
        client
            .query()
            .table_name("capacity")
            .key_condition_expression("pk = :p")
            .expression_attribute_values(":p", s(p))
            .return_consumed_capacity(ReturnConsumedCapacity::Total)
    };

    let out = partition("p")
        .consistent_read(true)
        .send()
        .await
        .expect("q");
    assert_eq!(out.count, 3);
    assert_eq!(units(out.consumed_capacity()), 4.0);
    let out = partition("p").send().await.expect("eventual");
    assert_eq!(units(out.consumed_capacity()), 2.0);
    let out = partition("p")
        .consistent_read(false)
        .send()
        .await
        .expect("explicitly eventual");
    assert_eq!(units(out.consumed_capacity()), 2.0);
    // Items the filter drops were still read.
    let out = partition("p")
        .consistent_read(true)
        .filter_expression("#d = :none")
        .expression_attribute_names("#d", "data")
        .expression_attribute_values(":none", s("none"))
        .send()
        .await
        .expect("filtered");
    assert_eq!((out.count, out.scanned_count), (0, 3));
    assert_eq!(units(out.consumed_capacity()), 4.0);
    let out = partition("p")
        .consistent_read(true)
        .select(Select::Count)
        .send()
        .await
        .expect("count");
    assert_eq!(units(out.consumed_capacity()), 4.0);
    let out = partition("p")
        .consistent_read(true)
        .limit(1)
        .send()
        .await
        .expect("one item");
    assert_eq!(units(out.consumed_capacity()), 2.0);
    let out = partition("q")
        .consistent_read(true)
        .send()
        .await
        .expect("small");
    assert_eq!(units(out.consumed_capacity()), 1.0);
    let out = partition("q").send().await.expect("small eventual");
    assert_eq!(units(out.consumed_capacity()), 0.5);

    // 15033 + 7 bytes.
    let out = client
        .scan()
        .table_name("capacity")
        .consistent_read(true)
        .return_consumed_capacity(ReturnConsumedCapacity::Total)
        .send()
        .await
        .expect("scan");
    assert_eq!(out.count, 4);
    assert_eq!(units(out.consumed_capacity()), 4.0);
    let out = client
        .scan()
        .table_name("capacity")
        .return_consumed_capacity(ReturnConsumedCapacity::Total)
        .send()
        .await
        .expect("eventual scan");
    assert_eq!(units(out.consumed_capacity()), 2.0);

    let out = partition("p")
        .return_consumed_capacity(ReturnConsumedCapacity::None)
        .send()
        .await
        .expect("NONE");
    assert!(out.consumed_capacity().is_none());
    let out = client
        .query()
        .table_name("capacity")
        .key_condition_expression("pk = :p")
        .expression_attribute_values(":p", s("p"))
        .send()
        .await
        .expect("not asked");
    assert!(out.consumed_capacity().is_none());
}

#[tokio::test]
async fn consistent_reads_see_every_acknowledged_write() {
    let server = Server::start();
    let client = server.client();
    range_table(&client, "consistent").await;
    for i in 1..=5 {
        client
            .put_item()
            .table_name("consistent")
            .set_item(Some(numbered("p", i)))
            .send()
            .await
            .expect("put");
        let out = query_p(&client, "consistent")
            .consistent_read(true)
            .send()
            .await
            .expect("query");
        assert_eq!(out.count as i64, i);
        let out = client
            .scan()
            .table_name("consistent")
            .consistent_read(true)
            .send()
            .await
            .expect("scan");
        assert_eq!(out.count as i64, i);
    }
    client
        .delete_item()
        .table_name("consistent")
        .set_key(Some(key2("p", 3)))
        .send()
        .await
        .expect("delete");
    let out = query_p(&client, "consistent")
        .consistent_read(true)
        .send()
        .await
        .expect("query after delete");
    assert_eq!(sort_keys(out.items()), nums(&[1, 2, 4, 5]));
}

// ---- BatchGetItem ----

#[tokio::test]
async fn batch_get_item_reads_two_tables_with_per_table_projections() {
    let server = Server::start();
    let client = server.client();
    hash_table(&client, "users").await;
    range_table(&client, "orders").await;
    hash_table(&client, "empty").await;
    batch_put(
        &client,
        "users",
        vec![
            item(&[("pk", s("u1")), ("name", s("Ann")), ("age", num(30))]),
            item(&[("pk", s("u2")), ("name", s("Bob")), ("age", num(40))]),
        ],
    )
    .await;
    batch_put(
        &client,
        "orders",
        vec![
            item(&[
                ("pk", s("o")),
                ("sk", num(1)),
                ("amount", num(10)),
                ("note", s("a")),
            ]),
            item(&[
                ("pk", s("o")),
                ("sk", num(2)),
                ("amount", num(20)),
                ("note", s("b")),
            ]),
        ],
    )
    .await;
    let out = client
        .batch_get_item()
        .request_items(
            "users",
            KeysAndAttributes::builder()
                .keys(key1("u1"))
                .keys(key1("nobody"))
                .keys(key1("u2"))
                .projection_expression("pk, #n")
                .expression_attribute_names("#n", "name")
                .build()
                .expect("users"),
        )
        .request_items(
            "orders",
            KeysAndAttributes::builder()
                .keys(key2("o", 2))
                .keys(key2("o", 1))
                .keys(key2("o", 3))
                .projection_expression("amount, sk")
                .consistent_read(true)
                .build()
                .expect("orders"),
        )
        .request_items("empty", keys_and_attributes(vec![key1("x")]))
        .send()
        .await
        .expect("batch get");
    let responses = out.responses().expect("Responses");
    assert_eq!(
        sorted_by(&responses["users"], "pk"),
        [
            item(&[("pk", s("u1")), ("name", s("Ann"))]),
            item(&[("pk", s("u2")), ("name", s("Bob"))]),
        ]
    );
    assert_eq!(
        sorted_by(&responses["orders"], "sk"),
        [
            item(&[("sk", num(1)), ("amount", num(10))]),
            item(&[("sk", num(2)), ("amount", num(20))]),
        ]
    );
    // Every table asked for has an entry, even when nothing was found.
    assert_eq!(responses.get("empty"), Some(&vec![]));
    assert_eq!(responses.len(), 3);
    assert!(
        out.unprocessed_keys().is_some_and(HashMap::is_empty),
        "{out:?}"
    );

    // AttributesToGet on one table, all attributes on another.
    let out = client
        .batch_get_item()
        .request_items(
            "users",
            KeysAndAttributes::builder()
                .keys(key1("u1"))
                .attributes_to_get("age")
                .build()
                .expect("users"),
        )
        .request_items("orders", keys_and_attributes(vec![key2("o", 1)]))
        .send()
        .await
        .expect("batch get 2");
    let responses = out.responses().expect("Responses");
    assert_eq!(responses["users"], [item(&[("age", num(30))])]);
    assert_eq!(
        responses["orders"],
        [item(&[
            ("pk", s("o")),
            ("sk", num(1)),
            ("amount", num(10)),
            ("note", s("a"))
        ])]
    );
}

/// §4.2: one entry per table; each key costs at least one unit (even a
/// missing one), halved when eventually consistent (DL-T).
#[tokio::test]
async fn batch_get_item_reports_capacity_per_table() {
    let server = Server::start();
    let client = server.client();
    hash_table(&client, "sized").await;
    hash_table(&client, "other").await;
    // "pk" "k4" + "data" + 3990 = 3998 bytes (one unit); "k5" 4206 (two).
    batch_put(
        &client,
        "sized",
        vec![
            item(&[("pk", s("k4")), ("data", s(&"x".repeat(3990)))]),
            item(&[("pk", s("k5")), ("data", s(&"x".repeat(4200)))]),
            item(&[("pk", s("small"))]),
        ],
    )
    .await;
    let capacity = |big: &str, consistent: bool| {
        client
            .batch_get_item()
            .request_items(
                "sized",
                KeysAndAttributes::builder()
                    .keys(key1(big))
                    .keys(key1("small"))
                    .keys(key1("missing"))
                    .consistent_read(consistent)
                    .build()
                    .expect("sized"),
            )
            .request_items(
                "other",
                KeysAndAttributes::builder()
                    .keys(key1("missing"))
                    .consistent_read(consistent)
                    .build()
                    .expect("other"),
            )
            .return_consumed_capacity(ReturnConsumedCapacity::Total)
            .send()
    };
    for (big, consistent, sized, other) in [
        ("k4", false, 1.5, 0.5),
        ("k4", true, 3.0, 1.0),
        ("k5", false, 2.0, 0.5),
        ("k5", true, 4.0, 1.0),
    ] {
        let out = capacity(big, consistent).await.expect("batch get");
        let got: BTreeMap<String, f64> = out
            .consumed_capacity()
            .iter()
            .map(|c| {
                (
                    c.table_name().expect("TableName").to_owned(),
                    c.capacity_units().expect("CapacityUnits"),
                )
            })
            .collect();
        let want: BTreeMap<String, f64> =
            [("sized".to_owned(), sized), ("other".to_owned(), other)].into();
        assert_eq!(got, want, "{big} consistent={consistent}");
    }
}

#[tokio::test]
async fn batch_get_item_refuses_more_than_100_keys_in_all() {
    let server = Server::start();
    let client = server.client();
    hash_table(&client, "first").await;
    hash_table(&client, "second").await;
    let keys = |prefix: &str, count: usize| -> Vec<Item> {
        (0..count).map(|i| key1(&format!("{prefix}{i}"))).collect()
    };
    assert_eq!(
        service_error(
            client
                .batch_get_item()
                .request_items("first", keys_and_attributes(keys("a", 60)))
                .request_items("second", keys_and_attributes(keys("b", 41)))
                .send()
                .await
        ),
        validation("Too many items requested for the BatchGetItem call")
    );
    // Exactly 100 is allowed, in one table or across two.
    let out = client
        .batch_get_item()
        .request_items("first", keys_and_attributes(keys("a", 60)))
        .request_items("second", keys_and_attributes(keys("b", 40)))
        .send()
        .await
        .expect("100 keys across tables");
    assert!(out.unprocessed_keys().is_some_and(HashMap::is_empty));
    client
        .batch_get_item()
        .request_items("first", keys_and_attributes(keys("a", 100)))
        .send()
        .await
        .expect("100 keys in one table");
}

/// §4.1: over 100 keys in one table is a constraint error, in the pre-2026
/// form (DL-T). DynamoDB echoes the list there; Tarn writes `[...]`, which
/// DL-T's pattern for the value also matches.
#[tokio::test]
async fn batch_get_item_refuses_more_than_100_keys_for_one_table() {
    let server = Server::start();
    let client = server.client();
    hash_table(&client, "wide").await;
    let keys: Vec<Item> = (0..101).map(|i| key1(&format!("k{i}"))).collect();
    assert_eq!(
        service_error(
            client
                .batch_get_item()
                .request_items("wide", keys_and_attributes(keys))
                .send()
                .await
        ),
        validation(
            "1 validation error detected: Value '[...]' at 'requestItems.wide.member.keys' failed to satisfy constraint: Member must have length less than or equal to 100"
        )
    );
}

/// §4.1: an empty Keys list, in the pre-2026 form (DL-T).
#[tokio::test]
async fn batch_get_item_refuses_an_empty_key_list() {
    let server = Server::start();
    let client = server.client();
    hash_table(&client, "keyless").await;
    assert_eq!(
        service_error(
            client
                .batch_get_item()
                .request_items("keyless", keys_and_attributes(vec![]))
                .send()
                .await
        ),
        validation(
            "1 validation error detected: Value '[]' at 'requestItems.keyless.member.keys' failed to satisfy constraint: Member must have length greater than or equal to 1"
        )
    );
}

/// §4.1: an empty RequestItems map, in the pre-2026 wording (NC's older
/// captures; BatchWriteItem still answers this way everywhere, §5.1).
#[tokio::test]
async fn batch_get_item_refuses_empty_request_items() {
    let server = Server::start();
    let client = server.client();
    assert_eq!(
        service_error(
            client
                .batch_get_item()
                .set_request_items(Some(HashMap::new()))
                .send()
                .await
        ),
        validation("The requestItems parameter is required for BatchGetItem")
    );
}

/// §5.1: BatchWriteItem words an empty RequestItems map as a missing
/// parameter in every region (NC, 2026-08).
#[tokio::test]
async fn batch_write_item_refuses_empty_request_items() {
    let server = Server::start();
    let client = server.client();
    assert_eq!(
        service_error(
            client
                .batch_write_item()
                .set_request_items(Some(HashMap::new()))
                .send()
                .await
        ),
        validation("The requestItems parameter is required for BatchWriteItem")
    );
}

/// §4.1 and §5.1: inside both batch operations an empty key value reads
/// "are not valid." (NC, captured from AWS in four regions), unlike
/// GetItem's and DeleteItem's "were invalid:".
#[tokio::test]
async fn batch_empty_key_values_are_not_valid() {
    let server = Server::start();
    let client = server.client();
    hash_table(&client, "blank").await;
    create_table(&client, "blankb", ("pk", ScalarAttributeType::B), None).await;
    let empty = |kind: &str| {
        validation(&format!(
            "One or more parameter values are not valid. The AttributeValue for a key attribute cannot contain an empty {kind} value. Key: pk"
        ))
    };
    for (table, key, kind) in [
        ("blank", key1(""), "string"),
        ("blankb", item(&[("pk", b(&[]))]), "binary"),
    ] {
        assert_eq!(
            service_error(
                client
                    .batch_get_item()
                    .request_items(table, keys_and_attributes(vec![key.clone()]))
                    .send()
                    .await
            ),
            empty(kind),
            "get {table}"
        );
        assert_eq!(
            service_error(
                client
                    .batch_write_item()
                    .request_items(table, vec![put_request(key.clone())])
                    .send()
                    .await
            ),
            empty(kind),
            "put {table}"
        );
        assert_eq!(
            service_error(
                client
                    .batch_write_item()
                    .request_items(table, vec![delete_request(key.clone())])
                    .send()
                    .await
            ),
            empty(kind),
            "delete {table}"
        );
    }
}

/// §4.1: checked before the table lookup.
#[tokio::test]
async fn batch_get_item_refuses_duplicate_keys() {
    let server = Server::start();
    let client = server.client();
    hash_table(&client, "dups").await;
    range_table(&client, "dups2").await;
    for table in ["dups", "nowhere"] {
        assert_eq!(
            service_error(
                client
                    .batch_get_item()
                    .request_items(table, keys_and_attributes(vec![key1("a"), key1("a")]))
                    .send()
                    .await
            ),
            validation(DUPLICATES),
            "{table}"
        );
    }
    assert_eq!(
        service_error(
            client
                .batch_get_item()
                .request_items(
                    "dups2",
                    keys_and_attributes(vec![key2("a", 1), key2("a", 2), key2("a", 1)])
                )
                .send()
                .await
        ),
        validation(DUPLICATES)
    );
    // The same key in two tables is no duplicate.
    client
        .batch_get_item()
        .request_items("dups", keys_and_attributes(vec![key1("a")]))
        .request_items(
            "dups2",
            keys_and_attributes(vec![key2("a", 1), key2("a", 2)]),
        )
        .send()
        .await
        .expect("distinct keys");
}

#[tokio::test]
async fn batch_key_errors_say_the_key_does_not_match_the_schema() {
    let server = Server::start();
    let client = server.client();
    hash_table(&client, "users").await;
    range_table(&client, "orders").await;
    let gets: Vec<(&str, Item)> = vec![
        ("users", item(&[("pk", num(1))])),
        ("users", item(&[("pk", s("a")), ("extra", s("x"))])),
        ("users", item(&[("other", s("a"))])),
        ("orders", key1("a")),
        ("orders", item(&[("pk", s("a")), ("sk", s("1"))])),
    ];
    for (table, key) in gets {
        assert_eq!(
            service_error(
                client
                    .batch_get_item()
                    .request_items(table, keys_and_attributes(vec![key.clone()]))
                    .send()
                    .await
            ),
            validation(KEY_MISMATCH),
            "get {table} {key:?}"
        );
        assert_eq!(
            service_error(
                client
                    .batch_write_item()
                    .request_items(table, vec![delete_request(key.clone())])
                    .send()
                    .await
            ),
            validation(KEY_MISMATCH),
            "delete {table} {key:?}"
        );
    }
}

// ---- BatchWriteItem ----

#[tokio::test]
async fn batch_write_item_mixes_puts_and_deletes_across_tables() {
    let server = Server::start();
    let client = server.client();
    hash_table(&client, "users").await;
    range_table(&client, "orders").await;
    batch_put(
        &client,
        "users",
        vec![
            item(&[("pk", s("u1")), ("name", s("old"))]),
            item(&[("pk", s("u2")), ("name", s("gone"))]),
        ],
    )
    .await;
    batch_put(&client, "orders", vec![numbered("o", 1), numbered("o", 2)]).await;

    let out = client
        .batch_write_item()
        .request_items(
            "users",
            vec![
                put_request(item(&[("pk", s("u1")), ("age", num(7))])),
                delete_request(key1("u2")),
                put_request(item(&[("pk", s("u3")), ("name", s("new"))])),
                // Deleting what is not there is no error.
                delete_request(key1("u9")),
            ],
        )
        .request_items(
            "orders",
            vec![
                delete_request(key2("o", 1)),
                put_request(numbered("o", 3)),
                // The same key as in "users" is no duplicate across tables.
                put_request(item(&[("pk", s("u1")), ("sk", num(1))])),
            ],
        )
        .send()
        .await
        .expect("batch write");
    assert!(
        out.unprocessed_items().is_some_and(HashMap::is_empty),
        "{out:?}"
    );

    // A put replaces the whole item.
    assert_eq!(
        get(&client, "users", key1("u1")).await,
        Some(item(&[("pk", s("u1")), ("age", num(7))]))
    );
    assert_eq!(get(&client, "users", key1("u2")).await, None);
    assert_eq!(
        get(&client, "users", key1("u3")).await,
        Some(item(&[("pk", s("u3")), ("name", s("new"))]))
    );
    let out = client
        .scan()
        .table_name("users")
        .consistent_read(true)
        .send()
        .await
        .expect("scan users");
    assert_eq!(out.count, 2);
    let out = query_p(&client, "orders")
        .expression_attribute_values(":p", s("o"))
        .consistent_read(true)
        .send()
        .await
        .expect("query orders");
    assert_eq!(out.items(), [numbered("o", 2), numbered("o", 3)]);
    assert_eq!(
        get(&client, "orders", key2("u1", 1)).await,
        Some(key2("u1", 1))
    );

    // §5.2: the success body is exactly this.
    let r = raw_op(
        &server,
        "BatchWriteItem",
        r#"{"RequestItems":{"users":[{"PutRequest":{"Item":{"pk":{"S":"raw"}}}}]}}"#,
    )
    .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body, r#"{"UnprocessedItems":{}}"#);
}

#[tokio::test]
async fn batch_write_item_with_one_invalid_request_writes_nothing() {
    let server = Server::start();
    let client = server.client();
    hash_table(&client, "users").await;
    range_table(&client, "orders").await;
    batch_put(&client, "users", vec![key1("kept")]).await;
    let valid = || {
        vec![
            put_request(key1("new1")),
            delete_request(key1("kept")),
            put_request(key1("new2")),
        ]
    };
    let unchanged = |what: &'static str| {
        let client = client.clone();
        async move {
            let out = client
                .scan()
                .table_name("users")
                .consistent_read(true)
                .send()
                .await
                .expect("scan");
            assert_eq!(out.items(), [key1("kept")], "after {what}");
            let out = client
                .scan()
                .table_name("orders")
                .consistent_read(true)
                .send()
                .await
                .expect("scan");
            assert_eq!(out.count, 0, "after {what}");
        }
    };

    // An item over 400 KB, last in the batch.
    let mut requests = valid();
    requests.push(put_request(item(&[
        ("pk", s("huge")),
        ("data", s(&"x".repeat(410 * 1024))),
    ])));
    assert_eq!(
        service_error(
            client
                .batch_write_item()
                .request_items("users", requests)
                .send()
                .await
        ),
        validation("Item size has exceeded the maximum allowed size")
    );
    unchanged("an oversized item").await;

    // A bad key in the other table.
    assert_eq!(
        service_error(
            client
                .batch_write_item()
                .request_items("users", valid())
                .request_items(
                    "orders",
                    vec![
                        put_request(numbered("o", 1)),
                        delete_request(item(&[("pk", s("o")), ("sk", s("1"))])),
                    ]
                )
                .send()
                .await
        ),
        validation(KEY_MISMATCH)
    );
    unchanged("a bad key").await;

    // A missing table ("zzz" sorts after "users").
    assert_eq!(
        service_error(
            client
                .batch_write_item()
                .request_items("users", valid())
                .request_items("zzz", vec![put_request(key1("a"))])
                .send()
                .await
        ),
        not_found()
    );
    unchanged("a missing table").await;

    // A duplicate key.
    let mut requests = valid();
    requests.push(put_request(key1("new1")));
    assert_eq!(
        service_error(
            client
                .batch_write_item()
                .request_items("users", requests)
                .send()
                .await
        ),
        validation(DUPLICATES)
    );
    unchanged("a duplicate").await;
}

#[tokio::test]
async fn batch_write_item_refuses_duplicate_keys() {
    let server = Server::start();
    let client = server.client();
    hash_table(&client, "dups").await;
    range_table(&client, "dups2").await;
    let cases: Vec<(&str, Vec<WriteRequest>)> = vec![
        (
            "dups",
            vec![
                put_request(key1("a")),
                put_request(item(&[("pk", s("a")), ("v", num(1))])),
            ],
        ),
        (
            "dups",
            vec![put_request(key1("a")), delete_request(key1("a"))],
        ),
        (
            "dups",
            vec![delete_request(key1("a")), delete_request(key1("a"))],
        ),
        (
            "dups2",
            vec![
                put_request(key2("a", 1)),
                put_request(key2("a", 2)),
                delete_request(key2("a", 1)),
            ],
        ),
    ];
    for (table, requests) in cases {
        assert_eq!(
            service_error(
                client
                    .batch_write_item()
                    .request_items(table, requests)
                    .send()
                    .await
            ),
            validation(DUPLICATES),
            "{table}"
        );
    }
}

#[tokio::test]
async fn batch_write_item_refuses_more_than_25_requests_in_all() {
    let server = Server::start();
    let client = server.client();
    hash_table(&client, "first").await;
    hash_table(&client, "second").await;
    let puts = |prefix: &str, count: usize| -> Vec<WriteRequest> {
        (0..count)
            .map(|i| put_request(key1(&format!("{prefix}{i}"))))
            .collect()
    };
    assert_eq!(
        service_error(
            client
                .batch_write_item()
                .request_items("first", puts("a", 20))
                .request_items("second", puts("b", 6))
                .send()
                .await
        ),
        validation("Too many items requested for the BatchWriteItem call")
    );
    let out = client
        .scan()
        .table_name("first")
        .consistent_read(true)
        .send()
        .await
        .expect("scan");
    assert_eq!(out.count, 0);
    // Exactly 25 is allowed.
    client
        .batch_write_item()
        .request_items("first", puts("a", 20))
        .request_items("second", puts("b", 5))
        .send()
        .await
        .expect("25 across tables");
    client
        .batch_write_item()
        .request_items("first", puts("c", 25))
        .send()
        .await
        .expect("25 in one table");
}

/// §5.1: over 25 requests for one table. The echoed value is a Java
/// toString dump that cannot be reproduced; the envelope and constraint
/// around it are stable (NC, DL-T).
#[tokio::test]
async fn batch_write_item_refuses_more_than_25_requests_for_one_table() {
    let server = Server::start();
    let client = server.client();
    hash_table(&client, "wide").await;
    let requests: Vec<WriteRequest> = (0..26)
        .map(|i| put_request(key1(&format!("k{i}"))))
        .collect();
    let (code, message) = service_error(
        client
            .batch_write_item()
            .request_items("wide", requests)
            .send()
            .await,
    );
    assert_eq!(code, "ValidationException");
    let prefix = "1 validation error detected: Value '{wide=[";
    let suffix = "]}' at 'requestItems' failed to satisfy constraint: Map value must satisfy constraint: [Member must have length less than or equal to 25, Member must have length greater than or equal to 1]";
    assert!(
        message.starts_with(prefix) && message.ends_with(suffix),
        "{message}"
    );
    // An empty list breaks the same constraint.
    let (code, message) = service_error(
        client
            .batch_write_item()
            .request_items("wide", vec![])
            .send()
            .await,
    );
    assert_eq!(code, "ValidationException");
    assert!(
        message.starts_with(prefix) && message.ends_with(suffix),
        "{message}"
    );
}

/// §5.1: in a PutRequest a missing or wrong-typed key gets the batch text,
/// not PutItem's (NC, captured in four regions).
#[tokio::test]
async fn batch_write_item_put_key_errors_say_the_key_does_not_match_the_schema() {
    let server = Server::start();
    let client = server.client();
    hash_table(&client, "users").await;
    range_table(&client, "orders").await;
    let puts: Vec<(&str, Item)> = vec![
        ("users", item(&[("pk", num(1)), ("v", s("x"))])),
        ("users", item(&[("v", s("x"))])),
        ("orders", item(&[("pk", s("a")), ("v", s("x"))])),
        ("orders", item(&[("pk", s("a")), ("sk", s("1"))])),
    ];
    for (table, it) in puts {
        assert_eq!(
            service_error(
                client
                    .batch_write_item()
                    .request_items(table, vec![put_request(it.clone())])
                    .send()
                    .await
            ),
            validation(KEY_MISMATCH),
            "{table} {it:?}"
        );
    }
}

// ---- raw response shapes ----

/// §3.4 and §4.2: the bodies carry every member even when empty.
#[tokio::test]
async fn empty_results_keep_their_members() {
    let server = Server::start();
    let client = server.client();
    hash_table(&client, "raw").await;
    let r = raw_op(
        &server,
        "BatchGetItem",
        r#"{"RequestItems":{"raw":{"Keys":[{"pk":{"S":"none"}}]}}}"#,
    )
    .await;
    assert_eq!(r.status, 200);
    assert!(r.body.contains(r#""Responses":{"raw":[]}"#), "{}", r.body);
    assert!(r.body.contains(r#""UnprocessedKeys":{}"#), "{}", r.body);
    let r = raw_op(
        &server,
        "Query",
        r#"{"TableName":"raw","KeyConditionExpression":"pk = :p","ExpressionAttributeValues":{":p":{"S":"none"}}}"#,
    )
    .await;
    assert_eq!(r.status, 200);
    for member in [r#""Items":[]"#, r#""Count":0"#, r#""ScannedCount":0"#] {
        assert!(r.body.contains(member), "{}", r.body);
    }
    assert!(!r.body.contains("LastEvaluatedKey"), "{}", r.body);
    let r = raw_op(&server, "Scan", r#"{"TableName":"raw","Select":"COUNT"}"#).await;
    assert_eq!(r.status, 200);
    assert!(!r.body.contains("Items"), "{}", r.body);
    assert!(r.body.contains(r#""Count":0"#), "{}", r.body);
}
