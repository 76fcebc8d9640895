//! End-to-end tests of secondary indexes against the real `tarn` binary,
//! driven by the official AWS SDK: local and global indexes with each
//! projection, Query and Scan on them (key conditions, Select, projections,
//! paging by index and table keys), sparse membership, writes whose index
//! keys are refused, live index counters, multi-attribute GSI keys, online
//! GSI creation with a backfill under concurrent writes, GSI deletion,
//! CreateTable and UpdateTable validation, DescribeTable shapes, item
//! collection metrics and limits, and restarts (clean and SIGKILL during a
//! backfill).
//!
//! Error cases assert the exception name and DynamoDB's exact message, as
//! collected with their sources in `docs/research/index-errors.md` (section
//! numbers below refer to it). Tables of error cases collect every mismatch
//! before failing, so that one run reports all of them.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use aws_sdk_dynamodb::operation::create_table::builders::CreateTableFluentBuilder;
use aws_sdk_dynamodb::operation::query::builders::QueryFluentBuilder;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, AttributeValue, BillingMode, ComparisonOperator, Condition,
    CreateGlobalSecondaryIndexAction, DeleteGlobalSecondaryIndexAction, DeleteRequest,
    GlobalSecondaryIndex, GlobalSecondaryIndexDescription, GlobalSecondaryIndexUpdate, IndexStatus,
    KeySchemaElement, KeyType, LocalSecondaryIndex, LocalSecondaryIndexDescription, Projection,
    ProjectionType, ProvisionedThroughput, PutRequest, ReturnItemCollectionMetrics,
    ScalarAttributeType, Select, TableDescription, TableStatus, UpdateGlobalSecondaryIndexAction,
    WriteRequest,
};
use aws_sdk_dynamodb::Client;
use tarn_tests::{get, item, put, raw_op, s, service_error, validation, Item, Server};

const STR: ScalarAttributeType = ScalarAttributeType::S;
const NUM: ScalarAttributeType = ScalarAttributeType::N;

/// Bound of the polling loops that wait for an index to change state:
/// 800 x 25 ms = 20 s.
const POLL_ATTEMPTS_MAX: usize = 800;
const POLL_INTERVAL: Duration = Duration::from_millis(25);
/// Upper bound on the pages any paging loop here may take.
const PAGES_MAX: usize = 200;

const BACKFILLING: &str = "Cannot read from backfilling global secondary index:";
const ONE_ONLINE_CHANGE: &str =
    "Subscriber limit exceeded: Only 1 online index can be created or deleted simultaneously per table";
const NOT_SUPPORTED: &str = "Query key condition not supported";

// ---- schema builders ----

fn key(name: &str, key_type: KeyType) -> KeySchemaElement {
    KeySchemaElement::builder()
        .attribute_name(name)
        .key_type(key_type)
        .build()
        .expect("key schema element")
}

/// A key schema of the given HASH attributes followed by RANGE attributes.
fn key_schema(hash: &[&str], range: &[&str]) -> Vec<KeySchemaElement> {
    hash.iter()
        .map(|h| key(h, KeyType::Hash))
        .chain(range.iter().map(|r| key(r, KeyType::Range)))
        .collect()
}

fn def(name: &str, ty: ScalarAttributeType) -> AttributeDefinition {
    AttributeDefinition::builder()
        .attribute_name(name)
        .attribute_type(ty)
        .build()
        .expect("attribute definition")
}

fn defs(pairs: &[(&str, ScalarAttributeType)]) -> Vec<AttributeDefinition> {
    pairs.iter().map(|(n, t)| def(n, t.clone())).collect()
}

fn projection(kind: ProjectionType, non_key: &[&str]) -> Projection {
    let attrs = (!non_key.is_empty()).then(|| non_key.iter().map(|a| a.to_string()).collect());
    Projection::builder()
        .projection_type(kind)
        .set_non_key_attributes(attrs)
        .build()
}

fn keys_only() -> Projection {
    projection(ProjectionType::KeysOnly, &[])
}

fn include(attrs: &[&str]) -> Projection {
    projection(ProjectionType::Include, attrs)
}

fn all() -> Projection {
    projection(ProjectionType::All, &[])
}

fn throughput(read: i64, write: i64) -> ProvisionedThroughput {
    ProvisionedThroughput::builder()
        .read_capacity_units(read)
        .write_capacity_units(write)
        .build()
        .expect("throughput")
}

/// A local index on the table's partition key `pk` sorted by `range`.
fn lsi(name: &str, range: &str, p: Projection) -> LocalSecondaryIndex {
    LocalSecondaryIndex::builder()
        .index_name(name)
        .set_key_schema(Some(key_schema(&["pk"], &[range])))
        .projection(p)
        .build()
        .expect("local index")
}

fn gsi(name: &str, hash: &[&str], range: &[&str], p: Projection) -> GlobalSecondaryIndex {
    GlobalSecondaryIndex::builder()
        .index_name(name)
        .set_key_schema(Some(key_schema(hash, range)))
        .projection(p)
        .build()
        .expect("global index")
}

fn create_gsi(
    name: &str,
    hash: &[&str],
    range: &[&str],
    p: Projection,
) -> GlobalSecondaryIndexUpdate {
    GlobalSecondaryIndexUpdate::builder()
        .create(
            CreateGlobalSecondaryIndexAction::builder()
                .index_name(name)
                .set_key_schema(Some(key_schema(hash, range)))
                .projection(p)
                .build()
                .expect("create index action"),
        )
        .build()
}

fn delete_gsi(name: &str) -> GlobalSecondaryIndexUpdate {
    GlobalSecondaryIndexUpdate::builder()
        .delete(
            DeleteGlobalSecondaryIndexAction::builder()
                .index_name(name)
                .build()
                .expect("delete index action"),
        )
        .build()
}

fn update_gsi(name: &str, read: i64, write: i64) -> GlobalSecondaryIndexUpdate {
    GlobalSecondaryIndexUpdate::builder()
        .update(
            UpdateGlobalSecondaryIndexAction::builder()
                .index_name(name)
                .provisioned_throughput(throughput(read, write))
                .build()
                .expect("update index action"),
        )
        .build()
}

/// A PAY_PER_REQUEST CreateTable of `name` keyed by `keys` with the
/// attribute definitions `definitions`; callers add the indexes.
fn new_table(
    client: &Client,
    name: &str,
    keys: Vec<KeySchemaElement>,
    definitions: &[(&str, ScalarAttributeType)],
) -> CreateTableFluentBuilder {
    client
        .create_table()
        .table_name(name)
        .billing_mode(BillingMode::PayPerRequest)
        .set_key_schema(Some(keys))
        .set_attribute_definitions(Some(defs(definitions)))
}

/// The key schema `pk` (HASH) and `sk` (RANGE).
fn pk_sk() -> Vec<KeySchemaElement> {
    key_schema(&["pk"], &["sk"])
}

// ---- values and items ----

fn num(v: i64) -> AttributeValue {
    AttributeValue::N(v.to_string())
}

fn key2(pk: &str, sk: i64) -> Item {
    item(&[("pk", s(pk)), ("sk", num(sk))])
}

/// An item's table key as text, `pk/sk` (or `id`), to compare result sets.
fn ident(i: &Item) -> String {
    let text = |v: &AttributeValue| match v {
        AttributeValue::S(x) | AttributeValue::N(x) => x.clone(),
        other => format!("{other:?}"),
    };
    match (i.get("pk"), i.get("sk"), i.get("id")) {
        (Some(pk), Some(sk), _) => format!("{}/{}", text(pk), text(sk)),
        (_, _, Some(id)) => text(id),
        _ => format!("{i:?}"),
    }
}

/// An item rendered with its attributes in name order, so that items
/// compare as text.
fn render(i: &Item) -> String {
    format!("{:?}", i.iter().collect::<BTreeMap<_, _>>())
}

fn rendered(items: &[Item]) -> BTreeSet<String> {
    items.iter().map(render).collect()
}

/// The attributes of `i` named in `attrs`.
fn keep(i: &Item, attrs: &[&str]) -> Item {
    i.iter()
        .filter(|(k, _)| attrs.contains(&k.as_str()))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

fn names(key: &Item) -> BTreeSet<&str> {
    key.keys().map(String::as_str).collect()
}

fn name_set<'a>(names: &[&'a str]) -> BTreeSet<&'a str> {
    names.iter().copied().collect()
}

fn string_set(v: &[&str]) -> BTreeSet<String> {
    v.iter().map(|s| s.to_string()).collect()
}

fn sorted(mut v: Vec<String>) -> Vec<String> {
    v.sort();
    v
}

/// The items of `items` with these table keys, in this order.
fn pick(items: &[Item], keys: &[(&str, i64)]) -> Vec<Item> {
    keys.iter()
        .map(|(pk, sk)| {
            let want = key2(pk, *sk);
            items
                .iter()
                .find(|i| keep(i, &["pk", "sk"]) == want)
                .unwrap_or_else(|| panic!("no fixture item {pk}/{sk}"))
                .clone()
        })
        .collect()
}

/// Asserts that `got` holds exactly the items of `want` (by table key) and
/// that their index key attributes `order_by` come in `want`'s order. Items
/// that tie on every `order_by` attribute may come in any order: DynamoDB
/// does not define it.
fn assert_index_order(got: &[Item], want: &[Item], order_by: &[&str], what: &str) {
    let tuple = |i: &Item| -> Vec<String> {
        order_by
            .iter()
            .map(|a| format!("{:?}", i.get(*a)))
            .collect()
    };
    assert_eq!(
        got.iter().map(tuple).collect::<Vec<_>>(),
        want.iter().map(tuple).collect::<Vec<_>>(),
        "{what}: index key order"
    );
    let ids = |v: &[Item]| v.iter().map(ident).collect::<Vec<_>>();
    let mut got_ids = ids(got);
    let mut want_ids = ids(want);
    got_ids.sort();
    want_ids.sort();
    assert_eq!(got_ids, want_ids, "{what}: items");
}

/// Collects `(what, got, want)` mismatches of error cases and fails once
/// with all of them.
#[derive(Default)]
struct Mismatches(Vec<String>);

impl Mismatches {
    fn check(&mut self, what: &str, got: (String, String), want: (String, String)) {
        if got != want {
            self.0
                .push(format!("{what}:\n    got  {got:?}\n    want {want:?}"));
        }
    }

    fn assert_none(self) {
        assert!(
            self.0.is_empty(),
            "{} mismatches:\n{}",
            self.0.len(),
            self.0.join("\n")
        );
    }
}

fn error(code: &str, message: &str) -> (String, String) {
    (code.to_owned(), message.to_owned())
}

fn invalid(detail: &str) -> (String, String) {
    validation(&format!(
        "One or more parameter values were invalid: {detail}"
    ))
}

// ---- requests ----

fn put_request(i: Item) -> WriteRequest {
    WriteRequest::builder()
        .put_request(
            PutRequest::builder()
                .set_item(Some(i))
                .build()
                .expect("put request"),
        )
        .build()
}

fn delete_request(k: Item) -> WriteRequest {
    WriteRequest::builder()
        .delete_request(
            DeleteRequest::builder()
                .set_key(Some(k))
                .build()
                .expect("delete request"),
        )
        .build()
}

/// Writes `items` with BatchWriteItem, 25 at a time.
async fn batch_put(client: &Client, table: &str, items: &[Item]) {
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

async fn delete(client: &Client, table: &str, k: Item) {
    client
        .delete_item()
        .table_name(table)
        .set_key(Some(k))
        .send()
        .await
        .expect("delete item");
}

/// An UpdateItem of `k` with `expression` and its values.
async fn update(
    client: &Client,
    table: &str,
    k: Item,
    expression: &str,
    values: &[(&str, AttributeValue)],
) {
    client
        .update_item()
        .table_name(table)
        .set_key(Some(k))
        .update_expression(expression)
        .set_expression_attribute_values((!values.is_empty()).then(|| item(values)))
        .send()
        .await
        .unwrap_or_else(|e| panic!("update {expression}: {e:?}"));
}

/// A Query of `index` with a key condition and its values.
fn query_index(
    client: &Client,
    table: &str,
    index: &str,
    kce: &str,
    values: &[(&str, AttributeValue)],
) -> QueryFluentBuilder {
    client
        .query()
        .table_name(table)
        .index_name(index)
        .key_condition_expression(kce)
        .set_expression_attribute_values(Some(item(values)))
}

/// A Query of `index` with the legacy KeyConditions `attr = v`, which
/// AttributesToGet may accompany.
fn legacy_query(
    client: &Client,
    table: &str,
    index: &str,
    attr: &str,
    v: AttributeValue,
) -> QueryFluentBuilder {
    client
        .query()
        .table_name(table)
        .index_name(index)
        .key_conditions(
            attr,
            Condition::builder()
                .comparison_operator(ComparisonOperator::Eq)
                .attribute_value_list(v)
                .build()
                .expect("condition"),
        )
}

/// Every item of a Query, page by page, with the keys that ended each page.
async fn query_pages(q: QueryFluentBuilder) -> (Vec<Item>, Vec<Item>) {
    let mut items = Vec::new();
    let mut keys = Vec::new();
    let mut start: Option<Item> = None;
    for _ in 0..PAGES_MAX {
        let out = q
            .clone()
            .set_exclusive_start_key(start.take())
            .send()
            .await
            .expect("query page");
        items.extend(out.items().iter().cloned());
        match out.last_evaluated_key {
            Some(k) => {
                keys.push(k.clone());
                start = Some(k);
            }
            None => return (items, keys),
        }
    }
    panic!("query took over {PAGES_MAX} pages");
}

/// Every item of a Scan of the table or of `index`, through the paginator.
async fn scan_all(client: &Client, table: &str, index: Option<&str>) -> Vec<Item> {
    client
        .scan()
        .table_name(table)
        .set_index_name(index.map(str::to_owned))
        .into_paginator()
        .items()
        .send()
        .try_collect()
        .await
        .unwrap_or_else(|e| panic!("scan {table} {index:?}: {e:?}"))
}

async fn describe(client: &Client, table: &str) -> TableDescription {
    client
        .describe_table()
        .table_name(table)
        .send()
        .await
        .expect("describe table")
        .table
        .expect("table")
}

fn global<'a>(t: &'a TableDescription, name: &str) -> &'a GlobalSecondaryIndexDescription {
    t.global_secondary_indexes()
        .iter()
        .find(|g| g.index_name() == Some(name))
        .unwrap_or_else(|| panic!("no global index {name} in {t:?}"))
}

fn local<'a>(t: &'a TableDescription, name: &str) -> &'a LocalSecondaryIndexDescription {
    t.local_secondary_indexes()
        .iter()
        .find(|l| l.index_name() == Some(name))
        .unwrap_or_else(|| panic!("no local index {name} in {t:?}"))
}

fn global_names(t: &TableDescription) -> Vec<&str> {
    t.global_secondary_indexes()
        .iter()
        .filter_map(|g| g.index_name())
        .collect()
}

/// The ItemCount and IndexSizeBytes DescribeTable gives an index.
async fn index_counters(client: &Client, table: &str, index: &str) -> (i64, i64) {
    let t = describe(client, table).await;
    if let Some(g) = t
        .global_secondary_indexes()
        .iter()
        .find(|g| g.index_name() == Some(index))
    {
        return (
            g.item_count().expect("ItemCount"),
            g.index_size_bytes().expect("IndexSizeBytes"),
        );
    }
    let l = local(&t, index);
    (
        l.item_count().expect("ItemCount"),
        l.index_size_bytes().expect("IndexSizeBytes"),
    )
}

/// Polls DescribeTable until global index `index` is ACTIVE; while it is
/// not, it must be CREATING and backfilling.
async fn wait_until_active(client: &Client, table: &str, index: &str) -> TableDescription {
    for _ in 0..POLL_ATTEMPTS_MAX {
        let t = describe(client, table).await;
        let g = global(&t, index);
        match g.index_status() {
            Some(IndexStatus::Active) => return t,
            Some(IndexStatus::Creating) => {
                assert_eq!(g.backfilling(), Some(true), "{index} while creating: {g:?}");
            }
            other => panic!("{index} is {other:?} while waiting for ACTIVE"),
        }
        tokio::time::sleep(POLL_INTERVAL).await;
    }
    panic!("{index} of {table} not ACTIVE after {POLL_ATTEMPTS_MAX} polls");
}

/// Polls DescribeTable until global index `index` is gone; while it is
/// there, it must be DELETING.
async fn wait_until_gone(client: &Client, table: &str, index: &str) -> TableDescription {
    for _ in 0..POLL_ATTEMPTS_MAX {
        let t = describe(client, table).await;
        match t
            .global_secondary_indexes()
            .iter()
            .find(|g| g.index_name() == Some(index))
        {
            None => return t,
            Some(g) => assert_eq!(g.index_status(), Some(&IndexStatus::Deleting), "{g:?}"),
        }
        tokio::time::sleep(POLL_INTERVAL).await;
    }
    panic!("{index} of {table} still there after {POLL_ATTEMPTS_MAX} polls");
}

// ---- the local index fixture ----

const PEOPLE: &str = "people";

/// An item of `people`: table key (pk, sk), the local index keys given,
/// and the non-key attributes `nick` and `note`.
fn person(pk: &str, sk: i64, city: Option<&str>, age: Option<i64>, tag: Option<&str>) -> Item {
    let mut i = item(&[
        ("pk", s(pk)),
        ("sk", num(sk)),
        ("nick", s(&format!("nick-{pk}{sk}"))),
        ("note", s(&format!("note-{pk}{sk}"))),
    ]);
    if let Some(c) = city {
        i.insert("city".into(), s(c));
    }
    if let Some(a) = age {
        i.insert("age".into(), num(a));
    }
    if let Some(t) = tag {
        i.insert("tag".into(), s(t));
    }
    i
}

/// Creates `people`, keyed (pk S, sk N), with three local indexes:
/// `byCity` (city S, KEYS_ONLY), `byAge` (age N, INCLUDE nick) and `byTag`
/// (tag S, ALL), and fills it. p/4 has no city and p/3 no tag.
async fn people(client: &Client) -> Vec<Item> {
    new_table(
        client,
        PEOPLE,
        pk_sk(),
        &[
            ("pk", STR),
            ("sk", NUM),
            ("city", STR),
            ("age", NUM),
            ("tag", STR),
        ],
    )
    .local_secondary_indexes(lsi("byCity", "city", keys_only()))
    .local_secondary_indexes(lsi("byAge", "age", include(&["nick"])))
    .local_secondary_indexes(lsi("byTag", "tag", all()))
    .send()
    .await
    .expect("create people");
    let items = vec![
        person("p", 1, Some("Oslo"), Some(30), Some("b")),
        person("p", 2, Some("Bergen"), Some(25), Some("a")),
        person("p", 3, Some("Oslo"), Some(41), None),
        person("p", 4, None, Some(25), Some("c")),
        person("p", 5, Some("Alta"), Some(30), Some("a")),
        person("p", 6, Some("Oslo"), Some(19), Some("d")),
        person("q", 1, Some("Oslo"), Some(30), Some("a")),
    ];
    batch_put(client, PEOPLE, &items).await;
    items
}

/// What each local index of `people` projects, and the attribute it sorts by.
fn people_index(index: &str) -> (&'static str, Option<&'static [&'static str]>) {
    match index {
        "byCity" => ("city", Some(&["pk", "sk", "city"][..])),
        "byAge" => ("age", Some(&["pk", "sk", "age", "nick"][..])),
        "byTag" => ("tag", None),
        other => panic!("no index {other}"),
    }
}

fn projected(items: &[Item], attrs: Option<&[&str]>) -> Vec<Item> {
    items
        .iter()
        .map(|i| attrs.map_or_else(|| i.clone(), |a| keep(i, a)))
        .collect()
}

// ---- 1. local secondary indexes ----

#[tokio::test]
async fn lsi_queries_select_sort_key_ranges_in_both_directions() {
    let server = Server::start();
    let client = server.client();
    let items = people(&client).await;
    let p = |sks: &[i64]| pick(&items, &sks.iter().map(|k| ("p", *k)).collect::<Vec<_>>());
    type Case<'a> = (&'a str, &'a str, Vec<(&'a str, AttributeValue)>, Vec<Item>);
    let pp = || (":p", s("p"));
    let cases: Vec<Case> = vec![
        ("byCity", "pk = :p", vec![pp()], p(&[5, 2, 1, 3, 6])),
        (
            "byCity",
            "pk = :p AND city = :c",
            vec![pp(), (":c", s("Oslo"))],
            p(&[1, 3, 6]),
        ),
        (
            "byCity",
            "pk = :p AND city > :c",
            vec![pp(), (":c", s("Bergen"))],
            p(&[1, 3, 6]),
        ),
        (
            "byCity",
            "pk = :p AND city < :c",
            vec![pp(), (":c", s("Oslo"))],
            p(&[5, 2]),
        ),
        (
            "byCity",
            "pk = :p AND city BETWEEN :a AND :b",
            vec![pp(), (":a", s("Alta")), (":b", s("Bergen"))],
            p(&[5, 2]),
        ),
        (
            "byCity",
            "pk = :p AND begins_with(city, :c)",
            vec![pp(), (":c", s("Os"))],
            p(&[1, 3, 6]),
        ),
        ("byAge", "pk = :p", vec![pp()], p(&[6, 2, 4, 1, 5, 3])),
        (
            "byAge",
            "pk = :p AND age BETWEEN :a AND :b",
            vec![pp(), (":a", num(25)), (":b", num(30))],
            p(&[2, 4, 1, 5]),
        ),
        (
            "byAge",
            "pk = :p AND age >= :a",
            vec![pp(), (":a", num(30))],
            p(&[1, 5, 3]),
        ),
        (
            "byAge",
            "pk = :p AND age <= :a",
            vec![pp(), (":a", num(25))],
            p(&[6, 2, 4]),
        ),
        (
            "byTag",
            "pk = :p AND tag <= :t",
            vec![pp(), (":t", s("b"))],
            p(&[2, 5, 1]),
        ),
        (
            "byTag",
            "pk = :p",
            vec![(":p", s("q"))],
            pick(&items, &[("q", 1)]),
        ),
    ];
    for (index, kce, values, want) in cases {
        let (sort_attr, _) = people_index(index);
        for forward in [true, false] {
            let out = query_index(&client, PEOPLE, index, kce, &values)
                .scan_index_forward(forward)
                .send()
                .await
                .unwrap_or_else(|e| panic!("{index} {kce}: {e:?}"));
            let mut want = want.clone();
            if !forward {
                want.reverse();
            }
            assert_index_order(
                out.items(),
                &want,
                &[sort_attr],
                &format!("{index} {kce} forward={forward}"),
            );
            assert_eq!(out.count as usize, want.len(), "{index} {kce}");
            assert_eq!(out.scanned_count as usize, want.len(), "{index} {kce}");
        }
    }
}

#[tokio::test]
async fn lsi_reads_return_only_projected_attributes_by_default() {
    let server = Server::start();
    let client = server.client();
    let items = people(&client).await;
    let in_p: Vec<Item> = items
        .iter()
        .filter(|i| i["pk"] == s("p"))
        .cloned()
        .collect();
    for index in ["byCity", "byAge", "byTag"] {
        let (sort_attr, attrs) = people_index(index);
        let members: Vec<Item> = in_p
            .iter()
            .filter(|i| i.contains_key(sort_attr))
            .cloned()
            .collect();
        let want = rendered(&projected(&members, attrs));
        let query = || query_index(&client, PEOPLE, index, "pk = :p", &[(":p", s("p"))]);
        let out = query().send().await.expect("default select");
        assert_eq!(rendered(out.items()), want, "{index} default Select");
        let out = query()
            .select(Select::AllProjectedAttributes)
            .send()
            .await
            .expect("ALL_PROJECTED_ATTRIBUTES");
        assert_eq!(
            rendered(out.items()),
            want,
            "{index} ALL_PROJECTED_ATTRIBUTES"
        );
        // ConsistentRead is allowed on a local index.
        let out = query()
            .consistent_read(true)
            .send()
            .await
            .expect("consistent read");
        assert_eq!(rendered(out.items()), want, "{index} consistent");

        // A Scan of the index walks every partition's entries.
        let everywhere: Vec<Item> = items
            .iter()
            .filter(|i| i.contains_key(sort_attr))
            .cloned()
            .collect();
        let got = scan_all(&client, PEOPLE, Some(index)).await;
        assert_eq!(got.len(), everywhere.len(), "{index} scan");
        assert_eq!(
            rendered(&got),
            rendered(&projected(&everywhere, attrs)),
            "{index} scan"
        );
    }
}

#[tokio::test]
async fn lsi_reads_of_unprojected_attributes_fetch_them_from_the_table() {
    let server = Server::start();
    let client = server.client();
    let items = people(&client).await;
    let p = |sks: &[i64]| pick(&items, &sks.iter().map(|k| ("p", *k)).collect::<Vec<_>>());
    let by_city = || query_index(&client, PEOPLE, "byCity", "pk = :p", &[(":p", s("p"))]);
    let in_order = p(&[5, 2, 1, 3, 6]);

    let out = by_city()
        .select(Select::AllAttributes)
        .send()
        .await
        .expect("ALL_ATTRIBUTES");
    assert_index_order(out.items(), &in_order, &["city"], "ALL_ATTRIBUTES");
    assert_eq!(rendered(out.items()), rendered(&in_order), "whole items");

    let out = by_city()
        .select(Select::AllAttributes)
        .consistent_read(true)
        .send()
        .await
        .expect("consistent ALL_ATTRIBUTES");
    assert_eq!(rendered(out.items()), rendered(&in_order));

    let out = by_city()
        .projection_expression("note, city")
        .send()
        .await
        .expect("projection of an unprojected attribute");
    assert_eq!(
        rendered(out.items()),
        rendered(&projected(&in_order, Some(&["note", "city"]))),
    );

    let out = legacy_query(&client, PEOPLE, "byAge", "pk", s("p"))
        .attributes_to_get("note")
        .attributes_to_get("sk")
        .send()
        .await
        .expect("AttributesToGet of an unprojected attribute");
    assert_eq!(
        rendered(out.items()),
        rendered(&projected(&p(&[1, 2, 3, 4, 5, 6]), Some(&["note", "sk"]))),
    );

    // A filter on an unprojected attribute sees the table's item, but the
    // default Select still returns the projected attributes only.
    let out = by_city()
        .filter_expression("note = :n")
        .expression_attribute_values(":n", s("note-p3"))
        .send()
        .await
        .expect("filter on an unprojected attribute");
    assert_eq!((out.count, out.scanned_count), (1, 5));
    assert_eq!(
        rendered(out.items()),
        rendered(&projected(&p(&[3]), Some(&["pk", "sk", "city"]))),
        "filtered items carry the projected attributes only"
    );

    let with_city: Vec<Item> = items
        .iter()
        .filter(|i| i.contains_key("city"))
        .cloned()
        .collect();
    let scanned: Vec<Item> = client
        .scan()
        .table_name(PEOPLE)
        .index_name("byCity")
        .select(Select::AllAttributes)
        .into_paginator()
        .items()
        .send()
        .try_collect()
        .await
        .expect("scan ALL_ATTRIBUTES");
    assert_eq!(rendered(&scanned), rendered(&with_city));
    let out = client
        .scan()
        .table_name(PEOPLE)
        .index_name("byCity")
        .projection_expression("note")
        .send()
        .await
        .expect("scan projection");
    assert_eq!(
        rendered(out.items()),
        rendered(&projected(&with_city, Some(&["note"])))
    );
}

#[tokio::test]
async fn lsi_pages_continue_from_last_evaluated_keys_of_index_and_table_keys() {
    let server = Server::start();
    let client = server.client();
    let items = people(&client).await;
    let p = |sks: &[i64]| pick(&items, &sks.iter().map(|k| ("p", *k)).collect::<Vec<_>>());
    let by_age = || query_index(&client, PEOPLE, "byAge", "pk = :p", &[(":p", s("p"))]);
    let ordered = p(&[6, 2, 4, 1, 5, 3]);

    let first = by_age().limit(2).send().await.expect("first page");
    assert_eq!(first.count, 2);
    let lek = first.last_evaluated_key.clone().expect("LastEvaluatedKey");
    assert_eq!(names(&lek), name_set(&["pk", "sk", "age"]));
    assert_eq!(lek, keep(&first.items()[1], &["pk", "sk", "age"]));

    for forward in [true, false] {
        let mut want = ordered.clone();
        if !forward {
            want.reverse();
        }
        let (got, keys) = query_pages(by_age().limit(2).scan_index_forward(forward)).await;
        assert_index_order(&got, &want, &["age"], &format!("pages forward={forward}"));
        assert!(keys.len() >= 3, "{} pages", keys.len());
        for k in &keys {
            assert_eq!(names(k), name_set(&["pk", "sk", "age"]), "{k:?}");
        }
        let paginated: Vec<Item> = by_age()
            .limit(2)
            .scan_index_forward(forward)
            .into_paginator()
            .items()
            .send()
            .try_collect()
            .await
            .expect("paginator");
        assert_eq!(paginated, got, "paginator forward={forward}");
    }

    // Scan pages of a local index end on its keys too.
    let first = client
        .scan()
        .table_name(PEOPLE)
        .index_name("byCity")
        .limit(2)
        .send()
        .await
        .expect("scan page");
    let lek = first.last_evaluated_key.expect("LastEvaluatedKey");
    assert_eq!(names(&lek), name_set(&["pk", "sk", "city"]));
    let mut seen = BTreeSet::new();
    let mut start = None;
    let mut finished = false;
    for _ in 0..PAGES_MAX {
        let out = client
            .scan()
            .table_name(PEOPLE)
            .index_name("byCity")
            .limit(2)
            .set_exclusive_start_key(start.take())
            .send()
            .await
            .expect("scan page");
        for i in out.items() {
            assert!(seen.insert(ident(i)), "{} returned twice", ident(i));
        }
        start = out.last_evaluated_key;
        if start.is_none() {
            finished = true;
            break;
        }
    }
    assert!(finished, "scan took over {PAGES_MAX} pages");
    let with_city: BTreeSet<String> = items
        .iter()
        .filter(|i| i.contains_key("city"))
        .map(ident)
        .collect();
    assert_eq!(seen, with_city);
}

// ---- the global index fixture ----

const ORDERS: &str = "orders";

/// An item of `orders` with the global index keys given, `nick` and `note`.
fn order(
    pk: &str,
    sk: i64,
    phase: Option<&str>,
    amount: Option<i64>,
    customer: Option<&str>,
) -> Item {
    let mut i = item(&[
        ("pk", s(pk)),
        ("sk", num(sk)),
        ("nick", s(&format!("nick-{pk}{sk}"))),
        ("note", s(&format!("note-{pk}{sk}"))),
    ]);
    if let Some(v) = phase {
        i.insert("phase".into(), s(v));
    }
    if let Some(v) = amount {
        i.insert("amount".into(), num(v));
    }
    if let Some(v) = customer {
        i.insert("customer".into(), s(v));
    }
    i
}

/// Creates `orders`, keyed (pk S, sk N), with three global indexes:
/// `byPhase` (phase S, amount N; KEYS_ONLY), `byPhaseNick` (the same keys,
/// INCLUDE nick) and the hash-only `byCustomer` (customer S; ALL), and
/// fills it. Three open orders share the key (open, 20); b/3 has no
/// phase, c/1 no amount, c/2 no customer.
async fn orders(client: &Client) -> Vec<Item> {
    new_table(
        client,
        ORDERS,
        pk_sk(),
        &[
            ("pk", STR),
            ("sk", NUM),
            ("phase", STR),
            ("amount", NUM),
            ("customer", STR),
        ],
    )
    .global_secondary_indexes(gsi("byPhase", &["phase"], &["amount"], keys_only()))
    .global_secondary_indexes(gsi(
        "byPhaseNick",
        &["phase"],
        &["amount"],
        include(&["nick"]),
    ))
    .global_secondary_indexes(gsi("byCustomer", &["customer"], &[], all()))
    .send()
    .await
    .expect("create orders");
    let items = vec![
        order("a", 1, Some("open"), Some(10), Some("c1")),
        order("a", 2, Some("open"), Some(20), Some("c2")),
        order("a", 3, Some("open"), Some(20), Some("c1")),
        order("b", 1, Some("open"), Some(20), Some("c1")),
        order("b", 2, Some("closed"), Some(5), Some("c2")),
        order("b", 3, None, Some(7), Some("c1")),
        order("c", 1, Some("open"), None, Some("c2")),
        order("c", 2, Some("closed"), Some(15), None),
    ];
    batch_put(client, ORDERS, &items).await;
    items
}

const PHASE_KEYS: &[&str] = &["pk", "sk", "phase", "amount"];
const PHASE_NICK: &[&str] = &["pk", "sk", "phase", "amount", "nick"];

// ---- 2. global secondary indexes ----

#[tokio::test]
async fn gsi_queries_and_scans_return_projected_entries_with_duplicate_keys() {
    let server = Server::start();
    let client = server.client();
    let items = orders(&client).await;
    let open = pick(&items, &[("a", 1), ("a", 2), ("a", 3), ("b", 1)]);
    type Case<'a> = (&'a str, Vec<(&'a str, AttributeValue)>, Vec<Item>);
    let cases: Vec<Case> = vec![
        ("phase = :v", vec![(":v", s("open"))], open.clone()),
        (
            "phase = :v AND amount > :a",
            vec![(":v", s("open")), (":a", num(10))],
            open[1..].to_vec(),
        ),
        (
            "phase = :v AND amount = :a",
            vec![(":v", s("open")), (":a", num(20))],
            open[1..].to_vec(),
        ),
        (
            "phase = :v AND amount BETWEEN :a AND :b",
            vec![(":v", s("open")), (":a", num(5)), (":b", num(15))],
            open[..1].to_vec(),
        ),
        (
            "phase = :v",
            vec![(":v", s("closed"))],
            pick(&items, &[("b", 2), ("c", 2)]),
        ),
        ("phase = :v", vec![(":v", s("none"))], vec![]),
    ];
    for (index, attrs) in [("byPhase", PHASE_KEYS), ("byPhaseNick", PHASE_NICK)] {
        for (kce, values, want) in &cases {
            for forward in [true, false] {
                let out = query_index(&client, ORDERS, index, kce, values)
                    .scan_index_forward(forward)
                    .send()
                    .await
                    .unwrap_or_else(|e| panic!("{index} {kce}: {e:?}"));
                let mut want = want.clone();
                if !forward {
                    want.reverse();
                }
                let what = format!("{index} {kce} {values:?} forward={forward}");
                assert_index_order(out.items(), &want, &["amount"], &what);
                assert_eq!(
                    rendered(out.items()),
                    rendered(&projected(&want, Some(attrs))),
                    "{what}: projection"
                );
            }
        }
        let in_index: Vec<Item> = items
            .iter()
            .filter(|i| i.contains_key("phase") && i.contains_key("amount"))
            .cloned()
            .collect();
        let got = scan_all(&client, ORDERS, Some(index)).await;
        assert_eq!(got.len(), 6, "{index} scan");
        assert_eq!(
            rendered(&got),
            rendered(&projected(&in_index, Some(attrs))),
            "{index} scan"
        );
    }

    // A hash-only index with ALL: whole items; their order is undefined.
    for (customer, want) in [
        (
            "c1",
            pick(&items, &[("a", 1), ("a", 3), ("b", 1), ("b", 3)]),
        ),
        ("c2", pick(&items, &[("a", 2), ("b", 2), ("c", 1)])),
    ] {
        let q = || {
            query_index(
                &client,
                ORDERS,
                "byCustomer",
                "customer = :c",
                &[(":c", s(customer))],
            )
        };
        let out = q().send().await.expect("byCustomer");
        assert_eq!(rendered(out.items()), rendered(&want), "{customer}");
        assert_eq!(out.items().len(), want.len());
        let out = q()
            .select(Select::AllAttributes)
            .send()
            .await
            .expect("ALL_ATTRIBUTES on an ALL index");
        assert_eq!(rendered(out.items()), rendered(&want), "{customer}");
    }
    let with_customer: Vec<Item> = items
        .iter()
        .filter(|i| i.contains_key("customer"))
        .cloned()
        .collect();
    assert_eq!(
        rendered(&scan_all(&client, ORDERS, Some("byCustomer")).await),
        rendered(&with_customer)
    );
    let out = query_index(
        &client,
        ORDERS,
        "byPhaseNick",
        "phase = :v",
        &[(":v", s("closed"))],
    )
    .projection_expression("nick")
    .send()
    .await
    .expect("projection of a projected attribute");
    assert_eq!(
        rendered(out.items()),
        rendered(&projected(
            &pick(&items, &[("b", 2), ("c", 2)]),
            Some(&["nick"])
        ))
    );
}

#[tokio::test]
async fn gsi_pages_over_duplicate_keys_continue_from_index_and_table_keys() {
    let server = Server::start();
    let client = server.client();
    let items = orders(&client).await;
    let open_20 = pick(&items, &[("a", 2), ("a", 3), ("b", 1)]);
    let q = || {
        query_index(
            &client,
            ORDERS,
            "byPhase",
            "phase = :v AND amount = :a",
            &[(":v", s("open")), (":a", num(20))],
        )
        .limit(1)
    };
    for forward in [true, false] {
        let (got, keys) = query_pages(q().scan_index_forward(forward)).await;
        assert_index_order(&got, &open_20, &["amount"], "pages of one key");
        assert_eq!(keys.len(), 3, "a key after each full page");
        for (k, i) in keys.iter().zip(&got) {
            assert_eq!(names(k), name_set(&["phase", "amount", "pk", "sk"]));
            assert_eq!(*k, keep(i, &["phase", "amount", "pk", "sk"]));
        }
    }
    let paginated: Vec<Item> = q()
        .into_paginator()
        .items()
        .send()
        .try_collect()
        .await
        .expect("paginator");
    assert_index_order(&paginated, &open_20, &["amount"], "paginator");

    // A hash-only index's key carries the table key as the tie-breaker.
    let (got, keys) = query_pages(
        query_index(
            &client,
            ORDERS,
            "byCustomer",
            "customer = :c",
            &[(":c", s("c1"))],
        )
        .limit(1),
    )
    .await;
    assert_eq!(got.len(), 4);
    assert_eq!(
        got.iter().map(ident).collect::<BTreeSet<_>>().len(),
        4,
        "each item once"
    );
    for k in &keys {
        assert_eq!(names(k), name_set(&["customer", "pk", "sk"]));
    }

    let mut seen = BTreeSet::new();
    let mut start = None;
    let mut finished = false;
    for _ in 0..PAGES_MAX {
        let out = client
            .scan()
            .table_name(ORDERS)
            .index_name("byPhase")
            .limit(2)
            .set_exclusive_start_key(start.take())
            .send()
            .await
            .expect("scan page");
        for i in out.items() {
            assert!(seen.insert(ident(i)), "{} twice", ident(i));
        }
        start = out.last_evaluated_key;
        match &start {
            Some(k) => assert_eq!(names(k), name_set(&["phase", "amount", "pk", "sk"])),
            None => {
                finished = true;
                break;
            }
        }
    }
    assert!(finished);
    assert_eq!(seen.len(), 6);
}

#[tokio::test]
async fn gsi_membership_follows_writes_that_add_change_or_remove_key_attributes() {
    let server = Server::start();
    let client = server.client();
    let items = orders(&client).await;
    let phase_of = |phase: &str| {
        let client = &client;
        let phase = phase.to_owned();
        async move {
            let out = query_index(
                client,
                ORDERS,
                "byPhase",
                "phase = :v",
                &[(":v", s(&phase))],
            )
            .send()
            .await
            .expect("query byPhase");
            out.items().iter().map(ident).collect::<Vec<_>>()
        }
    };
    // Sparse: b/3 has no phase and c/1 no amount.
    assert_eq!(sorted(phase_of("open").await), ["a/1", "a/2", "a/3", "b/1"]);
    assert_eq!(index_counters(&client, ORDERS, "byPhase").await.0, 6);

    update(
        &client,
        ORDERS,
        key2("b", 3),
        "SET phase = :v",
        &[(":v", s("open"))],
    )
    .await;
    assert_eq!(phase_of("open").await[0], "b/3", "added with amount 7");
    assert_eq!(phase_of("open").await.len(), 5);
    update(
        &client,
        ORDERS,
        key2("b", 3),
        "SET phase = :v",
        &[(":v", s("closed"))],
    )
    .await;
    assert!(!phase_of("open").await.contains(&"b/3".to_owned()));
    assert_eq!(phase_of("closed").await, ["b/2", "b/3", "c/2"]);
    update(&client, ORDERS, key2("b", 3), "REMOVE phase", &[]).await;
    assert_eq!(phase_of("closed").await, ["b/2", "c/2"]);

    // The range key attribute counts too.
    update(
        &client,
        ORDERS,
        key2("c", 1),
        "SET amount = :a",
        &[(":a", num(1))],
    )
    .await;
    assert_eq!(phase_of("open").await[0], "c/1");
    update(&client, ORDERS, key2("c", 1), "REMOVE amount", &[]).await;
    assert!(!phase_of("open").await.contains(&"c/1".to_owned()));

    // A new item without the key attribute is not indexed.
    put(&client, ORDERS, order("d", 1, None, Some(3), Some("c3"))).await;
    let scanned = scan_all(&client, ORDERS, Some("byPhase")).await;
    assert_eq!(scanned.len(), 6);
    assert_eq!(index_counters(&client, ORDERS, "byPhase").await.0, 6);

    // The hash-only index: an item moves between partitions and enters.
    update(
        &client,
        ORDERS,
        key2("a", 2),
        "SET customer = :c",
        &[(":c", s("c3"))],
    )
    .await;
    update(
        &client,
        ORDERS,
        key2("c", 2),
        "SET customer = :c",
        &[(":c", s("c3"))],
    )
    .await;
    let out = query_index(
        &client,
        ORDERS,
        "byCustomer",
        "customer = :c",
        &[(":c", s("c3"))],
    )
    .send()
    .await
    .expect("byCustomer");
    let got: BTreeSet<String> = out.items().iter().map(ident).collect();
    assert_eq!(got, string_set(&["a/2", "c/2", "d/1"]));
    let out = query_index(
        &client,
        ORDERS,
        "byCustomer",
        "customer = :c",
        &[(":c", s("c2"))],
    )
    .send()
    .await
    .expect("byCustomer");
    let got: BTreeSet<String> = out.items().iter().map(ident).collect();
    assert_eq!(got, string_set(&["b/2", "c/1"]));
    assert_eq!(
        index_counters(&client, ORDERS, "byCustomer").await.0,
        items.len() as i64 + 1
    );
}

#[tokio::test]
async fn gsi_read_errors_name_the_index_and_attribute() {
    let server = Server::start();
    let client = server.client();
    orders(&client).await;
    let open = [(":v", s("open"))];
    let q = |index: &str| query_index(&client, ORDERS, index, "phase = :v", &open);
    let scan = |index: &str| client.scan().table_name(ORDERS).index_name(index);
    let mut m = Mismatches::default();

    let consistent = validation("Consistent reads are not supported on global secondary indexes");
    m.check(
        "Query ConsistentRead",
        service_error(q("byPhase").consistent_read(true).send().await),
        consistent.clone(),
    );
    m.check(
        "Scan ConsistentRead",
        service_error(scan("byCustomer").consistent_read(true).send().await),
        consistent,
    );
    let select_all = invalid(
        "Select type ALL_ATTRIBUTES is not supported for global secondary index byPhaseNick because its projection type is not ALL",
    );
    m.check(
        "Query ALL_ATTRIBUTES",
        service_error(q("byPhaseNick").select(Select::AllAttributes).send().await),
        select_all.clone(),
    );
    m.check(
        "Scan ALL_ATTRIBUTES",
        service_error(
            scan("byPhaseNick")
                .select(Select::AllAttributes)
                .send()
                .await,
        ),
        select_all,
    );
    let unprojected = invalid("Global secondary index byPhaseNick does not project [note]");
    m.check(
        "Query ProjectionExpression",
        service_error(
            q("byPhaseNick")
                .projection_expression("nick, note")
                .send()
                .await,
        ),
        unprojected.clone(),
    );
    m.check(
        "Scan ProjectionExpression",
        service_error(
            scan("byPhaseNick")
                .projection_expression("note")
                .send()
                .await,
        ),
        unprojected.clone(),
    );
    m.check(
        "Query AttributesToGet",
        service_error(
            legacy_query(&client, ORDERS, "byPhaseNick", "phase", s("open"))
                .attributes_to_get("note")
                .send()
                .await,
        ),
        unprojected,
    );
    m.check(
        "KEYS_ONLY ProjectionExpression",
        service_error(q("byPhase").projection_expression("customer").send().await),
        invalid("Global secondary index byPhase does not project [customer]"),
    );
    let unknown = validation("The table does not have the specified index: nope");
    m.check(
        "Query unknown index",
        service_error(q("nope").send().await),
        unknown.clone(),
    );
    m.check(
        "Scan unknown index",
        service_error(scan("nope").send().await),
        unknown,
    );
    m.check(
        "Query of a missing table",
        service_error(
            client
                .query()
                .table_name("missing")
                .index_name("byPhase")
                .key_condition_expression("phase = :v")
                .expression_attribute_values(":v", s("open"))
                .send()
                .await,
        ),
        error("ResourceNotFoundException", "Requested resource not found"),
    );
    m.check(
        "table partition key instead of the index key",
        service_error(
            query_index(&client, ORDERS, "byPhase", "pk = :p", &[(":p", s("a"))])
                .send()
                .await,
        ),
        validation("Query condition missed key schema element: phase"),
    );
    m.check(
        "table sort key instead of the index sort key",
        service_error(
            query_index(
                &client,
                ORDERS,
                "byPhase",
                "phase = :v AND sk = :k",
                &[(":v", s("open")), (":k", num(1))],
            )
            .send()
            .await,
        ),
        validation("Query condition missed key schema element: amount"),
    );
    m.check(
        "a second condition on a hash-only index",
        service_error(
            query_index(
                &client,
                ORDERS,
                "byCustomer",
                "customer = :c AND pk = :p",
                &[(":c", s("c1")), (":p", s("a"))],
            )
            .send()
            .await,
        ),
        validation(NOT_SUPPORTED),
    );
    m.check(
        "index key value of the wrong type",
        service_error(
            query_index(&client, ORDERS, "byPhase", "phase = :v", &[(":v", num(1))])
                .send()
                .await,
        ),
        invalid("Condition parameter type does not match schema type"),
    );
    m.check(
        "filter on the index sort key",
        service_error(
            q("byPhase")
                .filter_expression("amount > :a")
                .expression_attribute_values(":a", num(1))
                .send()
                .await,
        ),
        validation(
            "Filter Expression can only contain non-primary key attributes: Primary key attribute: amount",
        ),
    );
    m.check(
        "filter on the index partition key",
        service_error(
            query_index(&client, ORDERS, "byCustomer", "customer = :c", &[(":c", s("c1"))])
                .filter_expression("customer = :c")
                .send()
                .await,
        ),
        validation(
            "Filter Expression can only contain non-primary key attributes: Primary key attribute: customer",
        ),
    );
    m.assert_none();
}

// ---- 3. writes and index entries ----

/// A table `typed`, keyed (pk S, sk N), with the local index `byCity`
/// (city S, KEYS_ONLY) and the global index `byPhase` (phase S, amount N;
/// INCLUDE nick), holding a/1.
async fn typed_table(client: &Client) -> Item {
    new_table(
        client,
        "typed",
        pk_sk(),
        &[
            ("pk", STR),
            ("sk", NUM),
            ("city", STR),
            ("phase", STR),
            ("amount", NUM),
        ],
    )
    .local_secondary_indexes(lsi("byCity", "city", keys_only()))
    .global_secondary_indexes(gsi("byPhase", &["phase"], &["amount"], include(&["nick"])))
    .send()
    .await
    .expect("create typed");
    let first = item(&[
        ("pk", s("a")),
        ("sk", num(1)),
        ("phase", s("open")),
        ("amount", num(1)),
        ("city", s("Oslo")),
    ]);
    put(client, "typed", first.clone()).await;
    first
}

fn mismatch(attr: &str, expected: &str, actual: &str, index: &str) -> (String, String) {
    invalid(&format!(
        "Type mismatch for Index Key {attr} Expected: {expected} Actual: {actual} IndexName: {index}"
    ))
}

fn empty_index_key(index: &str, attr: &str) -> (String, String) {
    validation(&format!(
        "One or more parameter values are not valid. A value specified for a secondary index key is not supported. The AttributeValue for a key attribute cannot contain an empty string value. IndexName: {index}, IndexKey: {attr}"
    ))
}

#[tokio::test]
async fn writes_with_a_wrong_typed_or_empty_index_key_are_refused_whole() {
    let server = Server::start();
    let client = server.client();
    let first = typed_table(&client).await;
    let mut m = Mismatches::default();
    let with = |sk: i64, pairs: &[(&str, AttributeValue)]| {
        let mut i = key2("a", sk);
        i.extend(item(pairs));
        i
    };
    let put_cases: Vec<(&str, Item, (String, String))> = vec![
        (
            "GSI hash key N for S",
            with(2, &[("phase", num(5)), ("amount", num(1))]),
            mismatch("phase", "S", "N", "byPhase"),
        ),
        (
            "GSI range key S for N",
            with(2, &[("phase", s("open")), ("amount", s("x"))]),
            mismatch("amount", "N", "S", "byPhase"),
        ),
        (
            "GSI hash key BOOL for S",
            with(
                2,
                &[("phase", AttributeValue::Bool(true)), ("amount", num(1))],
            ),
            mismatch("phase", "S", "BOOL", "byPhase"),
        ),
        (
            "LSI key of a list",
            with(2, &[("city", AttributeValue::L(vec![s("Oslo")]))]),
            mismatch("city", "S", "L", "byCity"),
        ),
        (
            "overwrite with a wrong-typed LSI key",
            with(1, &[("city", num(7))]),
            mismatch("city", "S", "N", "byCity"),
        ),
        (
            "empty GSI key",
            with(2, &[("phase", s("")), ("amount", num(1))]),
            empty_index_key("byPhase", "phase"),
        ),
        (
            "empty LSI key",
            with(2, &[("city", s(""))]),
            empty_index_key("byCity", "city"),
        ),
    ];
    for (what, i, want) in put_cases {
        m.check(
            &format!("PutItem {what}"),
            service_error(
                client
                    .put_item()
                    .table_name("typed")
                    .set_item(Some(i.clone()))
                    .send()
                    .await,
            ),
            want.clone(),
        );
        // The bad put comes between a good put and (unless it is a/1
        // itself) a delete: neither may be applied.
        let mut requests = vec![
            put_request(with(3, &[("phase", s("new")), ("amount", num(3))])),
            put_request(i.clone()),
        ];
        if i["sk"] != num(1) {
            requests.push(delete_request(key2("a", 1)));
        }
        m.check(
            &format!("BatchWriteItem {what}"),
            service_error(
                client
                    .batch_write_item()
                    .request_items("typed", requests)
                    .send()
                    .await,
            ),
            want,
        );
    }
    type UpdateCase<'a> = (&'a str, i64, &'a str, AttributeValue, (String, String));
    let update_cases: Vec<UpdateCase> = vec![
        (
            "SET a GSI key to N",
            1,
            "SET phase = :v",
            num(9),
            mismatch("phase", "S", "N", "byPhase"),
        ),
        (
            "upsert with a GSI range key of S",
            4,
            "SET amount = :v",
            s("x"),
            mismatch("amount", "N", "S", "byPhase"),
        ),
        (
            "SET an LSI key to a set",
            1,
            "SET city = :v",
            AttributeValue::Ss(vec!["x".into()]),
            mismatch("city", "S", "SS", "byCity"),
        ),
    ];
    for (what, sk, expression, v, want) in update_cases {
        m.check(
            &format!("UpdateItem {what}"),
            service_error(
                client
                    .update_item()
                    .table_name("typed")
                    .set_key(Some(key2("a", sk)))
                    .update_expression(expression)
                    .expression_attribute_values(":v", v)
                    .send()
                    .await,
            ),
            want,
        );
    }
    m.assert_none();
    // Nothing was written: not the good requests of the batches, not the
    // delete, not the upsert.
    let table = scan_all(&client, "typed", None).await;
    assert_eq!(table, std::slice::from_ref(&first));
    let entries = scan_all(&client, "typed", Some("byPhase")).await;
    assert_eq!(entries, [keep(&first, PHASE_KEYS)]);
    assert_eq!(index_counters(&client, "typed", "byPhase").await.0, 1);
    assert_eq!(index_counters(&client, "typed", "byCity").await.0, 1);
}

/// §4: UpdateItem words an empty index key without the index's name.
#[tokio::test]
async fn update_item_setting_an_index_key_to_an_empty_string_is_refused() {
    let server = Server::start();
    let client = server.client();
    let first = typed_table(&client).await;
    assert_eq!(
        service_error(
            client
                .update_item()
                .table_name("typed")
                .set_key(Some(key2("a", 1)))
                .update_expression("SET phase = :v")
                .expression_attribute_values(":v", s(""))
                .send()
                .await
        ),
        validation(
            "One or more parameter values are not valid. The update expression attempted to update a secondary index key to a value that is not supported. The AttributeValue for a key attribute cannot contain an empty string value."
        )
    );
    assert_eq!(get(&client, "typed", key2("a", 1)).await, Some(first));
}

/// §4: what DynamoDB finds while evaluating an UpdateExpression gets the
/// update wordings (DL-T `updateItem.js`, run against DynamoDB): a
/// wrong-typed value copied from another attribute, and a nested path
/// into an index key.
#[tokio::test]
async fn update_item_evaluation_errors_on_index_keys_use_the_update_wordings() {
    let server = Server::start();
    let client = server.client();
    let first = typed_table(&client).await;
    let scalars = |attr: &str| {
        validation(&format!(
            "Key attributes must be scalars; list random access '[]' and map lookup '.' are not allowed: IndexKey: {attr}"
        ))
    };
    type Case<'a> = (&'a str, i64, Option<AttributeValue>, (String, String));
    let cases: Vec<Case> = vec![
        (
            "SET phase = amount",
            1,
            None,
            validation(
                "The update expression attempted to update the secondary index key to unsupported type",
            ),
        ),
        ("SET city[1] = :v", 9, Some(s("x")), scalars("city")),
        ("ADD phase.b :v", 9, Some(num(1)), scalars("phase")),
    ];
    let mut m = Mismatches::default();
    for (expression, sk, v, want) in cases {
        m.check(
            expression,
            service_error(
                client
                    .update_item()
                    .table_name("typed")
                    .set_key(Some(key2("a", sk)))
                    .update_expression(expression)
                    .set_expression_attribute_values(v.map(|v| item(&[(":v", v)])))
                    .send()
                    .await,
            ),
            want,
        );
    }
    m.assert_none();
    assert_eq!(scan_all(&client, "typed", None).await, [first]);
}

#[tokio::test]
async fn index_entries_and_counters_follow_puts_overwrites_and_deletes() {
    let server = Server::start();
    let client = server.client();
    new_table(
        &client,
        "counted",
        pk_sk(),
        &[
            ("pk", STR),
            ("sk", NUM),
            ("city", STR),
            ("phase", STR),
            ("amount", NUM),
        ],
    )
    .local_secondary_indexes(lsi("byCity", "city", keys_only()))
    .global_secondary_indexes(gsi("byPhase", &["phase"], &["amount"], include(&["nick"])))
    .send()
    .await
    .expect("create counted");
    let row =
        |pk: &str, sk: i64, phase: Option<&str>, city: Option<&str>, nick: &str, note: &str| {
            let mut i = key2(pk, sk);
            // a/1 10, a/2 20, b/1 30, b/2 40: no ties in byPhase.
            let amount = if pk == "a" { sk * 10 } else { 20 + sk * 10 };
            i.insert("amount".into(), num(amount));
            i.insert("nick".into(), s(nick));
            i.insert("note".into(), s(note));
            if let Some(v) = phase {
                i.insert("phase".into(), s(v));
            }
            if let Some(v) = city {
                i.insert("city".into(), s(v));
            }
            i
        };
    for i in [
        row("a", 1, Some("open"), Some("Oslo"), "n", "x"),
        row("a", 2, Some("open"), Some("Bergen"), "n", "x"),
        row("b", 1, Some("closed"), Some("Oslo"), "n", "x"),
        row("b", 2, Some("open"), None, "n", "x"),
    ] {
        put(&client, "counted", i).await;
    }
    let phase_of = |phase: &'static str| {
        let client = &client;
        async move {
            let out = query_index(
                client,
                "counted",
                "byPhase",
                "phase = :v",
                &[(":v", s(phase))],
            )
            .send()
            .await
            .expect("query byPhase");
            out.items().iter().map(ident).collect::<Vec<_>>()
        }
    };
    let city_of = |pk: &'static str| {
        let client = &client;
        async move {
            let out = query_index(client, "counted", "byCity", "pk = :p", &[(":p", s(pk))])
                .send()
                .await
                .expect("query byCity");
            out.items().iter().map(ident).collect::<Vec<_>>()
        }
    };
    assert_eq!(phase_of("open").await, ["a/1", "a/2", "b/2"]);
    let (count, phase_bytes) = index_counters(&client, "counted", "byPhase").await;
    assert_eq!(count, 4);
    assert!(phase_bytes > 0, "IndexSizeBytes {phase_bytes}");
    let (count, city_bytes) = index_counters(&client, "counted", "byCity").await;
    assert_eq!(count, 3);
    assert!(city_bytes > 0, "IndexSizeBytes {city_bytes}");

    // An overwrite moves the entry; one without the attribute drops it.
    put(
        &client,
        "counted",
        row("a", 1, Some("closed"), Some("Oslo"), "n", "x"),
    )
    .await;
    assert_eq!(phase_of("open").await, ["a/2", "b/2"]);
    assert_eq!(phase_of("closed").await, ["a/1", "b/1"]);
    put(
        &client,
        "counted",
        row("a", 2, None, Some("Bergen"), "n", "x"),
    )
    .await;
    assert_eq!(phase_of("open").await, ["b/2"]);
    assert_eq!(index_counters(&client, "counted", "byPhase").await.0, 3);
    assert_eq!(city_of("a").await, ["a/2", "a/1"], "Bergen before Oslo");

    // Index sizes follow the projected attributes only.
    let (_, phase_bytes) = index_counters(&client, "counted", "byPhase").await;
    let (_, city_bytes) = index_counters(&client, "counted", "byCity").await;
    let long = "n".repeat(500);
    put(
        &client,
        "counted",
        row("b", 2, Some("open"), None, &long, "x"),
    )
    .await;
    let (_, grown) = index_counters(&client, "counted", "byPhase").await;
    assert_eq!(grown, phase_bytes + 499, "a longer projected nick");
    let table_bytes = describe(&client, "counted")
        .await
        .table_size_bytes
        .expect("size");
    put(
        &client,
        "counted",
        row("b", 1, Some("closed"), Some("Oslo"), "n", &long),
    )
    .await;
    assert_eq!(
        index_counters(&client, "counted", "byPhase").await.1,
        grown,
        "a longer unprojected note"
    );
    assert_eq!(
        index_counters(&client, "counted", "byCity").await.1,
        city_bytes
    );
    assert_eq!(
        describe(&client, "counted").await.table_size_bytes,
        Some(table_bytes + 499)
    );

    // Deletes remove every entry of the item.
    delete(&client, "counted", key2("b", 1)).await;
    assert_eq!(phase_of("closed").await, ["a/1"]);
    assert!(city_of("b").await.is_empty());
    assert_eq!(index_counters(&client, "counted", "byPhase").await.0, 2);
    assert_eq!(index_counters(&client, "counted", "byCity").await.0, 2);
    for (pk, sk) in [("a", 1), ("a", 2), ("b", 2)] {
        delete(&client, "counted", key2(pk, sk)).await;
    }
    assert_eq!(index_counters(&client, "counted", "byPhase").await, (0, 0));
    assert_eq!(index_counters(&client, "counted", "byCity").await, (0, 0));
    assert!(scan_all(&client, "counted", Some("byPhase"))
        .await
        .is_empty());
    assert!(scan_all(&client, "counted", Some("byCity"))
        .await
        .is_empty());
}

// ---- 4. multi-attribute GSI keys ----

const MATCHES: &str = "matches";

/// A match of the `matches` table (keyed by id) with the given parts of
/// the `byEvent` key.
fn game(
    id: &str,
    tournament: Option<&str>,
    season: Option<i64>,
    round: Option<i64>,
    label: Option<&str>,
) -> Item {
    let mut i = item(&[("id", s(id)), ("score", s(&format!("score-{id}")))]);
    if let Some(v) = tournament {
        i.insert("tournament".into(), s(v));
    }
    if let Some(v) = season {
        i.insert("season".into(), num(v));
    }
    if let Some(v) = round {
        i.insert("round".into(), num(v));
    }
    if let Some(v) = label {
        i.insert("label".into(), s(v));
    }
    i
}

/// Creates `matches` with the global index `byEvent`: partition key
/// (tournament S, season N), sort key (round N, label S), ALL. m8 to m10
/// each miss one key attribute.
async fn matches(client: &Client) -> BTreeMap<&'static str, Item> {
    let out = new_table(
        client,
        MATCHES,
        key_schema(&["id"], &[]),
        &[
            ("id", STR),
            ("tournament", STR),
            ("season", NUM),
            ("round", NUM),
            ("label", STR),
        ],
    )
    .global_secondary_indexes(gsi(
        "byEvent",
        &["tournament", "season"],
        &["round", "label"],
        all(),
    ))
    .send()
    .await
    .expect("create matches");
    let t = out.table_description.expect("description");
    assert_eq!(
        global(&t, "byEvent").key_schema(),
        key_schema(&["tournament", "season"], &["round", "label"]),
        "the key schema is echoed in order"
    );
    let games = [
        (
            "m1",
            game("m1", Some("T1"), Some(2025), Some(2), Some("alpha")),
        ),
        (
            "m2",
            game("m2", Some("T1"), Some(2025), Some(2), Some("beta")),
        ),
        (
            "m3",
            game("m3", Some("T1"), Some(2025), Some(10), Some("alpha")),
        ),
        (
            "m4",
            game("m4", Some("T1"), Some(2025), Some(1), Some("gamma")),
        ),
        (
            "m5",
            game("m5", Some("T1"), Some(2025), Some(2), Some("bravo")),
        ),
        (
            "m6",
            game("m6", Some("T1"), Some(2024), Some(2), Some("alpha")),
        ),
        (
            "m7",
            game("m7", Some("T2"), Some(2025), Some(2), Some("alpha")),
        ),
        ("m8", game("m8", Some("T1"), Some(2025), Some(2), None)),
        ("m9", game("m9", Some("T1"), None, Some(2), Some("alpha"))),
        (
            "m10",
            game("m10", Some("T1"), Some(2025), None, Some("delta")),
        ),
    ];
    let games: BTreeMap<&'static str, Item> = games.into_iter().collect();
    batch_put(
        client,
        MATCHES,
        &games.values().cloned().collect::<Vec<_>>(),
    )
    .await;
    games
}

fn event_query(
    client: &Client,
    kce: &str,
    values: &[(&str, AttributeValue)],
) -> QueryFluentBuilder {
    let mut all_values = vec![(":t", s("T1")), (":y", num(2025))];
    all_values.extend(values.iter().cloned());
    query_index(client, MATCHES, "byEvent", kce, &all_values)
}

fn ids(items: &[Item]) -> Vec<String> {
    items.iter().map(ident).collect()
}

#[tokio::test]
async fn multi_attribute_gsi_keys_query_left_to_right_in_typed_order() {
    let server = Server::start();
    let client = server.client();
    let games = matches(&client).await;
    let base = "tournament = :t AND season = :y";
    type Case<'a> = (String, Vec<(&'a str, AttributeValue)>, Vec<&'a str>);
    let cases: Vec<Case> = vec![
        // round compares as a number (2 < 10), then label as a string.
        (base.to_owned(), vec![], vec!["m4", "m1", "m2", "m5", "m3"]),
        (
            // The partition attributes may come in any order.
            "season = :y AND tournament = :t".to_owned(),
            vec![],
            vec!["m4", "m1", "m2", "m5", "m3"],
        ),
        (
            format!("{base} AND round = :r"),
            vec![(":r", num(2))],
            vec!["m1", "m2", "m5"],
        ),
        (
            format!("{base} AND round > :r"),
            vec![(":r", num(1))],
            vec!["m1", "m2", "m5", "m3"],
        ),
        (
            format!("{base} AND round BETWEEN :a AND :b"),
            vec![(":a", num(2)), (":b", num(9))],
            vec!["m1", "m2", "m5"],
        ),
        (
            format!("{base} AND round = :r AND label = :l"),
            vec![(":r", num(2)), (":l", s("beta"))],
            vec!["m2"],
        ),
        (
            format!("{base} AND round = :r AND label BETWEEN :a AND :b"),
            vec![(":r", num(2)), (":a", s("b")), (":b", s("bz"))],
            vec!["m2", "m5"],
        ),
        (
            format!("{base} AND round = :r AND begins_with(label, :l)"),
            vec![(":r", num(2)), (":l", s("b"))],
            vec!["m2", "m5"],
        ),
        (
            format!("{base} AND round = :r AND label > :l"),
            vec![(":r", num(2)), (":l", s("alpha"))],
            vec!["m2", "m5"],
        ),
        (
            format!("label <= :l AND round = :r AND {base}"),
            vec![(":r", num(2)), (":l", s("beta"))],
            vec!["m1", "m2"],
        ),
        (
            format!("{base} AND round = :r AND label < :l"),
            vec![(":r", num(10)), (":l", s("alpha"))],
            vec![],
        ),
    ];
    for (kce, values, want) in &cases {
        for forward in [true, false] {
            let out = event_query(&client, kce, values)
                .scan_index_forward(forward)
                .send()
                .await
                .unwrap_or_else(|e| panic!("{kce}: {e:?}"));
            let mut want: Vec<String> = want.iter().map(|w| w.to_string()).collect();
            if !forward {
                want.reverse();
            }
            assert_eq!(ids(out.items()), want, "{kce} forward={forward}");
        }
    }
    let out = query_index(
        &client,
        MATCHES,
        "byEvent",
        "tournament = :t AND season = :y",
        &[(":t", s("T1")), (":y", num(2024))],
    )
    .send()
    .await
    .expect("other season");
    assert_eq!(ids(out.items()), ["m6"]);
    assert_eq!(out.items()[0], games["m6"]);

    // Pages end on every index key attribute plus the table key.
    let (got, keys) = query_pages(event_query(&client, base, &[]).limit(2)).await;
    assert_eq!(ids(&got), ["m4", "m1", "m2", "m5", "m3"]);
    assert!(keys.len() >= 2);
    for k in &keys {
        assert_eq!(
            names(k),
            name_set(&["tournament", "season", "round", "label", "id"])
        );
    }
    let paginated: Vec<Item> = event_query(&client, base, &[])
        .limit(2)
        .scan_index_forward(false)
        .into_paginator()
        .items()
        .send()
        .try_collect()
        .await
        .expect("paginator");
    assert_eq!(ids(&paginated), ["m3", "m5", "m2", "m1", "m4"]);

    // Items missing any key attribute are not in the index, until a write
    // supplies it.
    let scanned: BTreeSet<String> = ids(&scan_all(&client, MATCHES, Some("byEvent")).await)
        .into_iter()
        .collect();
    assert_eq!(
        scanned,
        string_set(&["m1", "m2", "m3", "m4", "m5", "m6", "m7"])
    );
    assert_eq!(index_counters(&client, MATCHES, "byEvent").await.0, 7);
    update(
        &client,
        MATCHES,
        item(&[("id", s("m8"))]),
        "SET label = :l",
        &[(":l", s("zulu"))],
    )
    .await;
    update(
        &client,
        MATCHES,
        item(&[("id", s("m10"))]),
        "SET round = :r",
        &[(":r", num(0))],
    )
    .await;
    update(
        &client,
        MATCHES,
        item(&[("id", s("m1"))]),
        "REMOVE season",
        &[],
    )
    .await;
    let out = event_query(&client, base, &[])
        .send()
        .await
        .expect("after updates");
    assert_eq!(ids(out.items()), ["m10", "m4", "m2", "m5", "m8", "m3"]);
    assert_eq!(index_counters(&client, MATCHES, "byEvent").await.0, 8);

    // A wrong type on any part of the key refuses the write.
    assert_eq!(
        service_error(
            client
                .put_item()
                .table_name(MATCHES)
                .set_item(Some(item(&[
                    ("id", s("m11")),
                    ("tournament", s("T1")),
                    ("season", s("2025")),
                ])))
                .send()
                .await
        ),
        mismatch("season", "N", "S", "byEvent")
    );
    assert_eq!(get(&client, MATCHES, item(&[("id", s("m11"))])).await, None);
}

#[tokio::test]
async fn multi_attribute_gsi_key_conditions_must_constrain_the_key_left_to_right() {
    let server = Server::start();
    let client = server.client();
    matches(&client).await;
    let mut m = Mismatches::default();
    type Case<'a> = (&'a str, Vec<(&'a str, AttributeValue)>, (String, String));
    let cases: Vec<Case> = vec![
        (
            "tournament = :t",
            vec![(":t", s("T1"))],
            validation("Query condition missed key schema element: season"),
        ),
        (
            "season = :y AND round = :r",
            vec![(":y", num(2025)), (":r", num(2))],
            validation("Query condition missed key schema element: tournament"),
        ),
        (
            "tournament = :t AND season > :y",
            vec![(":t", s("T1")), (":y", num(2000))],
            validation(NOT_SUPPORTED),
        ),
        (
            // Skipping the first sort attribute: the documented failing
            // example ("Query key condition not supported", DOC §5.2).
            "tournament = :t AND season = :y AND label = :l",
            vec![(":t", s("T1")), (":y", num(2025)), (":l", s("alpha"))],
            validation(NOT_SUPPORTED),
        ),
        (
            // A condition after an inequality.
            "tournament = :t AND season = :y AND round > :r AND label = :l",
            vec![
                (":t", s("T1")),
                (":y", num(2025)),
                (":r", num(1)),
                (":l", s("alpha")),
            ],
            validation(NOT_SUPPORTED),
        ),
        (
            // Two inequalities.
            "tournament = :t AND season = :y AND round > :r AND label > :l",
            vec![
                (":t", s("T1")),
                (":y", num(2025)),
                (":r", num(1)),
                (":l", s("alpha")),
            ],
            validation(NOT_SUPPORTED),
        ),
        (
            "tournament = :t AND season = :y AND round = :r",
            vec![(":t", s("T1")), (":y", s("2025")), (":r", num(2))],
            invalid("Condition parameter type does not match schema type"),
        ),
        (
            // begins_with on a number part is refused by the function,
            // even with a string operand (a one-attribute key reports the
            // operand's type instead).
            "tournament = :t AND season = :y AND begins_with(round, :r)",
            vec![(":t", s("T1")), (":y", num(2025)), (":r", s("1"))],
            validation(
                "Invalid KeyConditionExpression: Incorrect operand type for operator or function; operator or function: begins_with, operand type: N",
            ),
        ),
    ];
    for (kce, values, want) in cases {
        m.check(
            kce,
            service_error(
                query_index(&client, MATCHES, "byEvent", kce, &values)
                    .send()
                    .await,
            ),
            want,
        );
    }
    m.check(
        "filter on a sort key attribute",
        service_error(
            event_query(&client, "tournament = :t AND season = :y", &[(":l", s("alpha"))])
                .filter_expression("label = :l")
                .send()
                .await,
        ),
        validation(
            "Filter Expression can only contain non-primary key attributes: Primary key attribute: label",
        ),
    );
    m.check(
        "ConsistentRead",
        service_error(
            event_query(&client, "tournament = :t AND season = :y", &[])
                .consistent_read(true)
                .send()
                .await,
        ),
        validation("Consistent reads are not supported on global secondary indexes"),
    );
    m.assert_none();
}

#[tokio::test]
async fn multi_attribute_key_schemas_are_validated_at_create_table() {
    let server = Server::start();
    let client = server.client();
    let try_keys = |keys: Vec<KeySchemaElement>, used: &[&str]| {
        let mut d: Vec<(&str, ScalarAttributeType)> = vec![("id", STR)];
        d.extend(used.iter().map(|a| (*a, STR)));
        new_table(&client, "multi", key_schema(&["id"], &[]), &d).global_secondary_indexes(
            GlobalSecondaryIndex::builder()
                .index_name("glo")
                .set_key_schema(Some(keys))
                .projection(keys_only())
                .build()
                .expect("index"),
        )
    };
    let mut m = Mismatches::default();
    let five_hash = ["h1", "h2", "h3", "h4", "h5"];
    m.check(
        "5 HASH",
        service_error(
            try_keys(key_schema(&five_hash, &[]), &five_hash)
                .send()
                .await,
        ),
        invalid("The KeySchema exceeds the maximum allowed number of HASH key attributes"),
    );
    let five_range = ["r1", "r2", "r3", "r4", "r5"];
    let mut used = vec!["h1"];
    used.extend(five_range);
    m.check(
        "5 RANGE",
        service_error(
            try_keys(key_schema(&["h1"], &five_range), &used)
                .send()
                .await,
        ),
        invalid("The KeySchema exceeds the maximum allowed number of RANGE key attributes"),
    );
    m.check(
        "HASH after RANGE",
        service_error(
            try_keys(
                vec![
                    key("h1", KeyType::Hash),
                    key("r1", KeyType::Range),
                    key("h2", KeyType::Hash),
                ],
                &["h1", "r1", "h2"],
            )
            .send()
            .await,
        ),
        invalid("All HASH key attributes must precede RANGE key attributes in the KeySchema"),
    );
    m.check(
        "RANGE first",
        service_error(
            try_keys(
                vec![key("r1", KeyType::Range), key("h1", KeyType::Hash)],
                &["h1", "r1"],
            )
            .send()
            .await,
        ),
        validation("Invalid KeySchema: The first KeySchemaElement is not a HASH key type"),
    );
    m.check(
        "an LSI with two HASH elements",
        service_error(
            new_table(
                &client,
                "multi",
                pk_sk(),
                &[("pk", STR), ("sk", NUM), ("x", STR)],
            )
            .local_secondary_indexes(
                LocalSecondaryIndex::builder()
                    .index_name("loc")
                    .set_key_schema(Some(key_schema(&["pk", "x"], &[])))
                    .projection(keys_only())
                    .build()
                    .expect("index"),
            )
            .send()
            .await,
        ),
        validation("Invalid KeySchema: The second KeySchemaElement is not a RANGE key type"),
    );
    // An attribute named twice: within the partition or the sort part it is
    // "duplicated" (ScyllaDB's test_gsi_composite_keys, run against AWS,
    // matches `[Dd]uplicate`); across the parts the KeySchema "contains
    // multiple key attributes"; a two-element HASH/RANGE pair keeps the old
    // text (docs/research/index-errors.md §5.2).
    type Case<'a> = (
        &'a str,
        Vec<KeySchemaElement>,
        &'a [&'a str],
        (String, String),
    );
    let dup_cases: [Case<'_>; 4] = [
        (
            "HASH twice",
            key_schema(&["h1", "h1"], &[]),
            &["h1"],
            validation("Attribute Name is duplicated: h1"),
        ),
        (
            "RANGE twice",
            key_schema(&["h1"], &["r1", "r2", "r1"]),
            &["h1", "r1", "r2"],
            validation("Attribute Name is duplicated: r1"),
        ),
        (
            "HASH and RANGE",
            key_schema(&["h1", "h2"], &["h1"]),
            &["h1", "h2"],
            validation("The KeySchema contains multiple key attributes with the same name"),
        ),
        (
            "one HASH one RANGE",
            key_schema(&["h1"], &["h1"]),
            &["h1"],
            validation(
                "Both the Hash Key and the Range Key element in the KeySchema have the same name",
            ),
        ),
    ];
    for (what, keys, used, want) in dup_cases {
        m.check(what, service_error(try_keys(keys, used).send().await), want);
    }
    m.assert_none();
    // Four and four is the most, and nothing was created before.
    let tables = client.list_tables().send().await.expect("list tables");
    assert!(tables.table_names().is_empty(), "{tables:?}");
    let four_hash = ["h1", "h2", "h3", "h4"];
    let four_range = ["r1", "r2", "r3", "r4"];
    let mut used: Vec<&str> = four_hash.to_vec();
    used.extend(four_range);
    let out = try_keys(key_schema(&four_hash, &four_range), &used)
        .send()
        .await
        .expect("4 HASH + 4 RANGE");
    let t = out.table_description.expect("description");
    assert_eq!(
        global(&t, "glo").key_schema(),
        key_schema(&four_hash, &four_range)
    );
}

/// DescribeTable lists a multi-attribute key as it was given: the HASH
/// attributes in their order, then the RANGE attributes in theirs, for an
/// index made by CreateTable and one added by UpdateTable, and after a
/// restart (ScyllaDB's test_gsi_composite_keys describe tests).
#[tokio::test]
async fn describe_table_lists_multi_attribute_keys_in_the_order_given() {
    let dir = tempfile::tempdir().expect("tempdir");
    let hash = ["zeta", "alpha", "mid"];
    let range = ["yak", "bee"];
    let later_hash = ["mid", "bee"];
    let later_range = ["zeta", "alpha", "yak"];
    let definitions = [
        ("id", STR),
        ("zeta", STR),
        ("alpha", NUM),
        ("mid", STR),
        ("yak", ScalarAttributeType::B),
        ("bee", STR),
    ];
    {
        let server = Server::start_in(dir.path(), &[]);
        let client = server.client();
        let out = new_table(&client, "ordered", key_schema(&["id"], &[]), &definitions)
            .global_secondary_indexes(gsi("first", &hash, &range, keys_only()))
            .send()
            .await
            .expect("create");
        let t = out.table_description.expect("description");
        assert_eq!(global(&t, "first").key_schema(), key_schema(&hash, &range));
        client
            .update_table()
            .table_name("ordered")
            .set_attribute_definitions(Some(defs(&definitions[1..])))
            .global_secondary_index_updates(create_gsi("later", &later_hash, &later_range, all()))
            .send()
            .await
            .expect("update");
        let t = wait_until_active(&client, "ordered", "later").await;
        assert_eq!(global(&t, "first").key_schema(), key_schema(&hash, &range));
        assert_eq!(
            global(&t, "later").key_schema(),
            key_schema(&later_hash, &later_range)
        );
    }
    let server = Server::start_in(dir.path(), &[]);
    let t = describe(&server.client(), "ordered").await;
    assert_eq!(global(&t, "first").key_schema(), key_schema(&hash, &range));
    assert_eq!(
        global(&t, "later").key_schema(),
        key_schema(&later_hash, &later_range)
    );
}

// ---- 5. online GSI creation ----

const BIG: &str = "big";
const BIG_ITEMS: u64 = 50_000;
/// Ids past the loaded ones, for items the writers create.
const BIG_NEW_IDS: u64 = 5_000;
const LOADERS: u64 = 8;
const WRITERS: u64 = 4;
/// Each writer stops after this many writes even if the backfill is slow.
const WRITER_OPS_MAX: u64 = 4_000;
const GROUPS: u64 = 40;

/// A small deterministic generator (xorshift64*).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
}

fn big_id(i: u64) -> AttributeValue {
    s(&format!("i{i:06}"))
}

/// An item of `big`: one in ten has no `grp`, so is not in `byGroup`.
fn big_item(i: u64, salt: u64) -> Item {
    let mut it = item(&[
        ("id", big_id(i)),
        ("score", num(((i * 7 + salt) % 1000) as i64)),
        ("payload", s(&format!("p{}", (i + salt) % 97))),
        ("extra", s("not projected")),
    ]);
    if !(i + salt).is_multiple_of(10) {
        it.insert("grp".into(), s(&format!("g{}", (i + salt) % GROUPS)));
    }
    it
}

/// The entry `byGroup` (grp S, score N; INCLUDE payload) must hold for a
/// table item, if any.
fn big_entry(i: &Item) -> Option<Item> {
    match (i.get("grp"), i.get("score")) {
        (Some(AttributeValue::S(_)), Some(AttributeValue::N(_))) => {
            Some(keep(i, &["id", "grp", "score", "payload"]))
        }
        _ => None,
    }
}

/// A write's result with its error rendered, so that different writes
/// compare.
fn outcome<T, E: std::fmt::Debug>(r: Result<T, E>) -> Result<(), String> {
    r.map(drop).map_err(|e| format!("{e:?}"))
}

/// One concurrent writer during the backfill: puts that change or add the
/// index key, deletes, updates that add, change or remove it, and updates
/// of projected and unprojected attributes. Returns how many it did.
async fn big_writer(client: Client, w: u64, stop: Arc<AtomicBool>, ops: Arc<AtomicU64>) -> u64 {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15 ^ (w + 1));
    let mut done = 0;
    for _ in 0..WRITER_OPS_MAX {
        if stop.load(Ordering::Relaxed) {
            break;
        }
        let id = rng.next() % (BIG_ITEMS + BIG_NEW_IDS);
        let salt = rng.next() % 1000;
        let k = item(&[("id", big_id(id))]);
        let update = |expression: &str, values: Option<Item>| {
            client
                .update_item()
                .table_name(BIG)
                .set_key(Some(k.clone()))
                .update_expression(expression)
                .set_expression_attribute_values(values)
                .send()
        };
        let result = match rng.next() % 6 {
            0 => outcome(
                client
                    .put_item()
                    .table_name(BIG)
                    .set_item(Some(big_item(id, salt)))
                    .send()
                    .await,
            ),
            1 => outcome(
                client
                    .delete_item()
                    .table_name(BIG)
                    .set_key(Some(k.clone()))
                    .send()
                    .await,
            ),
            2 => outcome(update("REMOVE grp", None).await),
            3 => outcome(
                update(
                    "SET grp = :g, score = :s",
                    Some(item(&[
                        (":g", s(&format!("g{}", salt % GROUPS))),
                        (":s", num(salt as i64)),
                    ])),
                )
                .await,
            ),
            4 => outcome(
                update(
                    "SET payload = :p",
                    Some(item(&[(":p", s(&format!("changed {salt}")))])),
                )
                .await,
            ),
            _ => outcome(update("SET extra = :e", Some(item(&[(":e", num(salt as i64))]))).await),
        };
        result.unwrap_or_else(|e| panic!("writer {w}: {e:?}"));
        done += 1;
        ops.fetch_add(1, Ordering::Relaxed);
    }
    done
}

/// Compares an index's entries with those the table's items imply, by id.
fn assert_entries_match(entries: &[Item], table: &[Item], what: &str) {
    let got: BTreeMap<String, String> = entries.iter().map(|e| (ident(e), render(e))).collect();
    assert_eq!(got.len(), entries.len(), "{what}: an item indexed twice");
    let want: BTreeMap<String, String> = table
        .iter()
        .filter_map(big_entry)
        .map(|e| (ident(&e), render(&e)))
        .collect();
    if got != want {
        let missing: Vec<&String> = want
            .keys()
            .filter(|k| !got.contains_key(*k))
            .take(5)
            .collect();
        let extra: Vec<&String> = got
            .keys()
            .filter(|k| !want.contains_key(*k))
            .take(5)
            .collect();
        let differ: Vec<(&String, &String)> = want
            .iter()
            .filter(|(k, v)| got.get(*k).is_some_and(|g| g != *v))
            .map(|(k, v)| (v, &got[k]))
            .take(3)
            .collect();
        panic!(
            "{what}: index has {} entries, the table implies {}; missing {missing:?}, extra {extra:?}, differing (want, got) {differ:?}",
            got.len(),
            want.len()
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn online_gsi_creation_backfills_50000_items_while_writes_continue() {
    let server = Server::start_with(&["--durability", "buffered", "--backfill-pause-ms", "5"]);
    let client = server.client();
    new_table(&client, BIG, key_schema(&["id"], &[]), &[("id", STR)])
        .send()
        .await
        .expect("create big");
    let loaders: Vec<_> = (0..LOADERS)
        .map(|l| {
            let client = client.clone();
            tokio::spawn(async move {
                let items: Vec<Item> = (l..BIG_ITEMS)
                    .step_by(LOADERS as usize)
                    .map(|i| big_item(i, 0))
                    .collect();
                batch_put(&client, BIG, &items).await;
            })
        })
        .collect();
    for l in loaders {
        l.await.expect("loader");
    }
    assert_eq!(
        describe(&client, BIG).await.item_count,
        Some(BIG_ITEMS as i64)
    );

    let out = client
        .update_table()
        .table_name(BIG)
        .attribute_definitions(def("grp", STR))
        .attribute_definitions(def("score", NUM))
        .global_secondary_index_updates(create_gsi(
            "byGroup",
            &["grp"],
            &["score"],
            include(&["payload"]),
        ))
        .send()
        .await
        .expect("create index online");
    let t = out.table_description.expect("description");
    let g = global(&t, "byGroup");
    assert_eq!(g.index_status(), Some(&IndexStatus::Creating));
    assert_eq!(g.backfilling(), Some(true));
    assert_eq!(g.item_count(), Some(0));
    assert_eq!(
        service_error(
            query_index(&client, BIG, "byGroup", "grp = :g", &[(":g", s("g1"))])
                .send()
                .await
        ),
        validation(&format!("{BACKFILLING} byGroup"))
    );

    let stop = Arc::new(AtomicBool::new(false));
    let ops = Arc::new(AtomicU64::new(0));
    let writers: Vec<_> = (0..WRITERS)
        .map(|w| {
            tokio::spawn(big_writer(
                client.clone(),
                w,
                Arc::clone(&stop),
                Arc::clone(&ops),
            ))
        })
        .collect();
    // Bounded wait for ACTIVE; note how many writes were acknowledged by a
    // DescribeTable that still showed the index CREATING.
    let mut during_backfill = 0;
    let mut active = false;
    for _ in 0..2 * POLL_ATTEMPTS_MAX {
        let before = ops.load(Ordering::Relaxed);
        let t = describe(&client, BIG).await;
        let g = global(&t, "byGroup");
        match g.index_status() {
            Some(IndexStatus::Creating) => {
                assert_eq!(g.backfilling(), Some(true), "{g:?}");
                during_backfill = before;
            }
            Some(IndexStatus::Active) => {
                assert_eq!(g.backfilling(), None, "no Backfilling once ACTIVE: {g:?}");
                active = true;
                break;
            }
            other => panic!("byGroup is {other:?}"),
        }
        tokio::time::sleep(POLL_INTERVAL).await;
    }
    stop.store(true, Ordering::Relaxed);
    let mut written = 0;
    for w in writers {
        written += w.await.expect("writer");
    }
    assert!(
        active,
        "byGroup not ACTIVE after {} polls",
        2 * POLL_ATTEMPTS_MAX
    );
    assert!(
        during_backfill >= 20,
        "only {during_backfill} writes seen during the backfill ({written} in all)"
    );

    let table = scan_all(&client, BIG, None).await;
    let entries = scan_all(&client, BIG, Some("byGroup")).await;
    assert_entries_match(&entries, &table, "after the backfill");
    let t = describe(&client, BIG).await;
    assert_eq!(t.item_count, Some(table.len() as i64), "table ItemCount");
    assert_eq!(
        global(&t, "byGroup").item_count(),
        Some(entries.len() as i64),
        "index ItemCount"
    );
    // The index answers queries like any other.
    let out = query_index(
        &client,
        BIG,
        "byGroup",
        "grp = :g AND score < :s",
        &[(":g", s("g3")), (":s", num(100))],
    )
    .send()
    .await
    .expect("query the new index");
    let want = entries
        .iter()
        .filter(|e| {
            e["grp"] == s("g3")
                && e["score"]
                    .as_n()
                    .expect("N")
                    .parse::<i64>()
                    .expect("number")
                    < 100
        })
        .count();
    assert_eq!(out.items().len(), want);
}

/// With a long pause after each backfill batch, an index stays CREATING
/// for seconds: long enough to check everything that is refused meanwhile.
#[tokio::test]
async fn a_backfilling_index_refuses_reads_a_second_online_change_and_delete_table() {
    let server = Server::start_with(&["--backfill-pause-ms", "2000"]);
    let client = server.client();
    new_table(&client, "slow", key_schema(&["id"], &[]), &[("id", STR)])
        .send()
        .await
        .expect("create slow");
    let row = |id: &str, g: Option<&str>| {
        let mut i = item(&[("id", s(id))]);
        if let Some(g) = g {
            i.insert("g".into(), s(g));
        }
        i
    };
    for i in [row("x1", Some("a")), row("x2", Some("b")), row("x3", None)] {
        put(&client, "slow", i).await;
    }
    let out = client
        .update_table()
        .table_name("slow")
        .attribute_definitions(def("g", STR))
        .global_secondary_index_updates(create_gsi("byG", &["g"], &[], keys_only()))
        .send()
        .await
        .expect("create index online");
    let t = out.table_description.expect("description");
    let g = global(&t, "byG");
    assert_eq!(g.index_status(), Some(&IndexStatus::Creating));
    assert_eq!(g.backfilling(), Some(true));
    let defined: BTreeSet<&str> = t
        .attribute_definitions()
        .iter()
        .map(|d| d.attribute_name())
        .collect();
    assert_eq!(defined, name_set(&["id", "g"]), "the definition is added");

    let t = describe(&client, "slow").await;
    assert_eq!(t.table_status(), Some(&TableStatus::Active));
    assert_eq!(
        global(&t, "byG").index_status(),
        Some(&IndexStatus::Creating)
    );
    assert_eq!(global(&t, "byG").backfilling(), Some(true));

    let mut m = Mismatches::default();
    let backfilling = validation(&format!("{BACKFILLING} byG"));
    m.check(
        "Query",
        service_error(
            query_index(&client, "slow", "byG", "g = :g", &[(":g", s("a"))])
                .send()
                .await,
        ),
        backfilling.clone(),
    );
    m.check(
        "Scan",
        service_error(
            client
                .scan()
                .table_name("slow")
                .index_name("byG")
                .send()
                .await,
        ),
        backfilling,
    );
    m.check(
        "a second Create",
        service_error(
            client
                .update_table()
                .table_name("slow")
                .attribute_definitions(def("h", STR))
                .global_secondary_index_updates(create_gsi("byH", &["h"], &[], keys_only()))
                .send()
                .await,
        ),
        error("LimitExceededException", ONE_ONLINE_CHANGE),
    );
    m.check(
        "DeleteTable",
        service_error(client.delete_table().table_name("slow").send().await),
        error(
            "ResourceInUseException",
            "Attempt to change a resource which is still in use: Cannot delete table while indexes are being created, updated, or deleted.",
        ),
    );
    m.assert_none();
    // Writes go on, and the index follows them.
    put(&client, "slow", row("x4", Some("a"))).await;
    update(
        &client,
        "slow",
        item(&[("id", s("x1"))]),
        "SET g = :g",
        &[(":g", s("c"))],
    )
    .await;
    delete(&client, "slow", item(&[("id", s("x2"))])).await;
    assert!(
        global(&describe(&client, "slow").await, "byG").index_status()
            == Some(&IndexStatus::Creating),
        "the checks above ran while the index was CREATING"
    );

    let t = wait_until_active(&client, "slow", "byG").await;
    assert_eq!(global(&t, "byG").backfilling(), None);
    assert_eq!(global(&t, "byG").item_count(), Some(2));
    let by = |g: &'static str| {
        let client = &client;
        async move {
            let out = query_index(client, "slow", "byG", "g = :g", &[(":g", s(g))])
                .send()
                .await
                .expect("query byG");
            ids(out.items())
        }
    };
    assert_eq!(by("a").await, ["x4"]);
    assert_eq!(by("c").await, ["x1"]);
    assert!(by("b").await.is_empty());
    assert_eq!(
        rendered(&scan_all(&client, "slow", Some("byG")).await),
        rendered(&[row("x1", Some("c")), row("x4", Some("a"))])
    );
    client
        .delete_table()
        .table_name("slow")
        .send()
        .await
        .expect("delete table once the index is ACTIVE");
}

/// §2.3: once Backfilling is true, the index being created may be deleted
/// (DOC GlobalSecondaryIndexDescription, ACK).
#[tokio::test]
async fn a_backfilling_index_can_be_deleted() {
    let server = Server::start_with(&["--backfill-pause-ms", "2000"]);
    let client = server.client();
    new_table(&client, "undo", key_schema(&["id"], &[]), &[("id", STR)])
        .send()
        .await
        .expect("create undo");
    put(&client, "undo", item(&[("id", s("x")), ("g", s("a"))])).await;
    client
        .update_table()
        .table_name("undo")
        .attribute_definitions(def("g", STR))
        .global_secondary_index_updates(create_gsi("byG", &["g"], &[], keys_only()))
        .send()
        .await
        .expect("create index online");
    let t = describe(&client, "undo").await;
    assert_eq!(global(&t, "byG").backfilling(), Some(true));
    let out = client
        .update_table()
        .table_name("undo")
        .global_secondary_index_updates(delete_gsi("byG"))
        .send()
        .await
        .expect("delete a backfilling index");
    let t = out.table_description.expect("description");
    assert_eq!(
        global(&t, "byG").index_status(),
        Some(&IndexStatus::Deleting)
    );
    let t = wait_until_gone(&client, "undo", "byG").await;
    assert_eq!(t.attribute_definitions(), [def("id", STR)]);
}

/// A backfill leaves out existing items whose value for the new index's key
/// a write would be refused for: an empty string, a wrong type, a value
/// over the key size limits (one over 64 KB once stopped the backfill
/// worker), and the index still becomes ACTIVE holding every valid item
/// (Alternator's `test_gsi_backfill_oversized_key`, `_empty_string`,
/// `_key_limits`, which pass against DynamoDB).
#[tokio::test]
async fn a_backfill_skips_items_whose_index_key_values_are_invalid() {
    let server = Server::start();
    let client = server.client();
    new_table(&client, "skips", key_schema(&["id"], &[]), &[("id", STR)])
        .send()
        .await
        .expect("create skips");
    let values = [
        ("ok1", s("a")),
        ("empty", s("")),
        ("number", tarn_tests::n("7")),
        ("hash2049", s(&"h".repeat(2049))),
        ("huge", s(&"x".repeat(66_500))),
        ("ok2", s(&"h".repeat(2048))),
    ];
    for (id, g) in &values {
        put(&client, "skips", item(&[("id", s(id)), ("g", g.clone())])).await;
    }
    client
        .update_table()
        .table_name("skips")
        .attribute_definitions(def("g", STR))
        .global_secondary_index_updates(create_gsi("byG", &["g"], &[], keys_only()))
        .send()
        .await
        .expect("create index online");
    wait_until_active(&client, "skips", "byG").await;
    let mut ids: Vec<String> = scan_all(&client, "skips", Some("byG"))
        .await
        .iter()
        .map(|e| e["id"].as_s().expect("id").clone())
        .collect();
    ids.sort();
    assert_eq!(ids, ["ok1", "ok2"]);
    // The worker is still alive: a second backfill finishes too, and the
    // table can be deleted.
    client
        .update_table()
        .table_name("skips")
        .attribute_definitions(def("h", STR))
        .global_secondary_index_updates(create_gsi("byH", &["h"], &[], keys_only()))
        .send()
        .await
        .expect("second index");
    wait_until_active(&client, "skips", "byH").await;
    client
        .delete_table()
        .table_name("skips")
        .send()
        .await
        .expect("delete");
}

// ---- 6. GSI deletion and UpdateTable errors ----

#[tokio::test]
async fn deleting_a_gsi_prunes_its_definitions_and_frees_its_name() {
    let server = Server::start();
    let client = server.client();
    new_table(
        &client,
        "shrink",
        pk_sk(),
        &[("pk", STR), ("sk", NUM), ("c", STR), ("a", STR), ("b", NUM)],
    )
    .local_secondary_indexes(lsi("byC", "c", keys_only()))
    .global_secondary_indexes(gsi("gsi1", &["a"], &["c"], keys_only()))
    .global_secondary_indexes(gsi("gsi2", &["b"], &[], all()))
    .send()
    .await
    .expect("create shrink");
    let row = |sk: i64, a: AttributeValue| {
        item(&[
            ("pk", s("p")),
            ("sk", num(sk)),
            ("a", a),
            ("b", num(sk)),
            ("c", s("c")),
        ])
    };
    for sk in 1..=3 {
        put(&client, "shrink", row(sk, s("x"))).await;
    }
    // The reply's DELETING is checked by
    // update_table_replies_show_creating_and_deleting_however_fast_the_work_is.
    client
        .update_table()
        .table_name("shrink")
        .global_secondary_index_updates(delete_gsi("gsi1"))
        .send()
        .await
        .expect("delete gsi1");

    let t = wait_until_gone(&client, "shrink", "gsi1").await;
    assert_eq!(global_names(&t), ["gsi2"]);
    assert_eq!(
        global(&t, "gsi2").index_status(),
        Some(&IndexStatus::Active)
    );
    assert_eq!(local(&t, "byC").index_name(), Some("byC"));
    let defined: BTreeSet<&str> = t
        .attribute_definitions()
        .iter()
        .map(|d| d.attribute_name())
        .collect();
    assert_eq!(
        defined,
        name_set(&["pk", "sk", "c", "b"]),
        "a is pruned, c kept for byC"
    );

    let gone = validation("The table does not have the specified index: gsi1");
    assert_eq!(
        service_error(
            query_index(&client, "shrink", "gsi1", "a = :a", &[(":a", s("x"))])
                .send()
                .await
        ),
        gone
    );
    assert_eq!(
        service_error(
            client
                .scan()
                .table_name("shrink")
                .index_name("gsi1")
                .send()
                .await
        ),
        gone
    );
    let out = query_index(&client, "shrink", "gsi2", "b = :b", &[(":b", num(2))])
        .send()
        .await
        .expect("g2 still answers");
    assert_eq!(ids(out.items()), ["p/2"]);

    // `a` is no index key any more: any type is accepted...
    put(&client, "shrink", row(4, num(5))).await;
    // ...and the name can be created again, with another type.
    client
        .update_table()
        .table_name("shrink")
        .attribute_definitions(def("a", NUM))
        .global_secondary_index_updates(create_gsi("gsi1", &["a"], &[], keys_only()))
        .send()
        .await
        .expect("create gsi1 again");
    let t = wait_until_active(&client, "shrink", "gsi1").await;
    assert_eq!(
        global(&t, "gsi1").item_count(),
        Some(1),
        "only p/4 has a number a"
    );
    let out = query_index(&client, "shrink", "gsi1", "a = :a", &[(":a", num(5))])
        .send()
        .await
        .expect("query the new g1");
    assert_eq!(out.items(), [keep(&row(4, num(5)), &["pk", "sk", "a"])]);
}

/// DynamoDB's UpdateTable reply shows a created index CREATING and a
/// deleted one DELETING, however quickly Tarn's background work finishes
/// (§2.4): the reply must describe the table as the request left it. An
/// empty table makes both jobs near-instant, so a reply taken after them
/// shows up within a few rounds.
#[tokio::test]
async fn update_table_replies_show_creating_and_deleting_however_fast_the_work_is() {
    const ROUNDS: usize = 100;
    let server = Server::start_with(&["--durability", "buffered"]);
    let client = server.client();
    new_table(&client, "quick", key_schema(&["id"], &[]), &[("id", STR)])
        .send()
        .await
        .expect("create quick");
    let mut wrong = Vec::new();
    for round in 0..ROUNDS {
        let out = client
            .update_table()
            .table_name("quick")
            .attribute_definitions(def("g", STR))
            .global_secondary_index_updates(create_gsi("byG", &["g"], &[], keys_only()))
            .send()
            .await
            .expect("create byG");
        let t = out.table_description.expect("description");
        let status = t
            .global_secondary_indexes()
            .iter()
            .find(|g| g.index_name() == Some("byG"))
            .and_then(|g| g.index_status().cloned());
        if status != Some(IndexStatus::Creating) {
            wrong.push(format!("round {round}: Create replied {status:?}"));
        }
        wait_until_active(&client, "quick", "byG").await;
        let out = client
            .update_table()
            .table_name("quick")
            .global_secondary_index_updates(delete_gsi("byG"))
            .send()
            .await
            .expect("delete byG");
        let t = out.table_description.expect("description");
        let status = t
            .global_secondary_indexes()
            .iter()
            .find(|g| g.index_name() == Some("byG"))
            .and_then(|g| g.index_status().cloned());
        if status != Some(IndexStatus::Deleting) {
            wrong.push(format!("round {round}: Delete replied {status:?}"));
        }
        wait_until_gone(&client, "quick", "byG").await;
    }
    assert!(
        wrong.is_empty(),
        "{} of {ROUNDS} rounds:\n{}",
        wrong.len(),
        wrong.join("\n")
    );
}

#[tokio::test]
async fn gsi_updates_are_checked_against_the_table_and_change_nothing_when_refused() {
    let server = Server::start();
    let client = server.client();
    new_table(
        &client,
        "guarded",
        pk_sk(),
        &[("pk", STR), ("sk", NUM), ("c", STR), ("a", STR)],
    )
    .local_secondary_indexes(lsi("byC", "c", keys_only()))
    .global_secondary_indexes(gsi("gsi1", &["a"], &[], keys_only()))
    .send()
    .await
    .expect("create guarded");
    let updates = |u: Vec<GlobalSecondaryIndexUpdate>, d: &[(&str, ScalarAttributeType)]| {
        client
            .update_table()
            .table_name("guarded")
            .set_attribute_definitions((!d.is_empty()).then(|| defs(d)))
            .set_global_secondary_index_updates(Some(u))
    };
    let not_found = |i: &str| {
        error(
            "ResourceNotFoundException",
            &format!("Requested resource not found: Index {i} for table guarded"),
        )
    };
    let exists = validation("Attempting to create an index which already exists");
    let limit = error("LimitExceededException", ONE_ONLINE_CHANGE);
    let x = [("x", STR)];
    type Case<'a> = (
        &'a str,
        Vec<GlobalSecondaryIndexUpdate>,
        &'a [(&'a str, ScalarAttributeType)],
        (String, String),
    );
    let cases: Vec<Case> = vec![
        (
            "Delete an LSI",
            vec![delete_gsi("byC")],
            &[],
            validation("Cannot delete an index that is not a GlobalSecondaryIndex: byC"),
        ),
        (
            "Delete an unknown index",
            vec![delete_gsi("ghost")],
            &[],
            not_found("ghost"),
        ),
        (
            "Update an unknown index",
            vec![update_gsi("ghost", 1, 1)],
            &[],
            not_found("ghost"),
        ),
        (
            "Create an existing GSI name",
            vec![create_gsi("gsi1", &["x"], &[], keys_only())],
            &x,
            exists.clone(),
        ),
        (
            "Create an existing LSI name",
            vec![create_gsi("byC", &["x"], &[], keys_only())],
            &x,
            exists,
        ),
        (
            "Create without AttributeDefinitions",
            vec![create_gsi("gsi3", &["x"], &[], keys_only())],
            &[],
            invalid("AttributeDefinitions is not specified for index: gsi3"),
        ),
        (
            "two Creates",
            vec![
                create_gsi("gsi3", &["x"], &[], keys_only()),
                create_gsi("gsi4", &["x"], &[], keys_only()),
            ],
            &x,
            limit.clone(),
        ),
        (
            "a Create and a Delete",
            vec![
                create_gsi("gsi3", &["x"], &[], keys_only()),
                delete_gsi("gsi1"),
            ],
            &x,
            limit,
        ),
    ];
    let mut m = Mismatches::default();
    for (what, u, d, want) in cases {
        m.check(what, service_error(updates(u, d).send().await), want);
    }
    m.assert_none();
    let t = describe(&client, "guarded").await;
    assert_eq!(global_names(&t), ["gsi1"]);
    assert_eq!(
        global(&t, "gsi1").index_status(),
        Some(&IndexStatus::Active)
    );
    assert_eq!(t.local_secondary_indexes().len(), 1);
    let defined: BTreeSet<&str> = t
        .attribute_definitions()
        .iter()
        .map(|d| d.attribute_name())
        .collect();
    assert_eq!(defined, name_set(&["pk", "sk", "c", "a"]));
}

// ---- 7. CreateTable validation and DescribeTable ----

/// Parses `... AttributeDefinitions: [a, b], keys used: [c, d]` into the
/// two name sets; DynamoDB's order inside the lists is not pinned (§1.2).
fn unused_definitions(message: &str) -> Option<(BTreeSet<String>, BTreeSet<String>)> {
    let rest = message.strip_prefix(
        "One or more parameter values were invalid: Some AttributeDefinitions are not used. AttributeDefinitions: [",
    )?;
    let (defined, rest) = rest.split_once("], keys used: [")?;
    let used = rest.strip_suffix(']')?;
    let set = |l: &str| l.split(", ").map(str::to_owned).collect();
    Some((set(defined), set(used)))
}

#[tokio::test]
async fn create_table_refuses_invalid_indexes_and_creates_nothing() {
    let server = Server::start();
    let client = server.client();
    let base = &[("pk", STR), ("sk", NUM), ("x", STR)];
    let table = |d: &[(&str, ScalarAttributeType)]| new_table(&client, "bad", pk_sk(), d);
    let mut m = Mismatches::default();

    m.check(
        "LSI on a hash-only table",
        service_error(
            new_table(&client, "bad", key_schema(&["pk"], &[]), &[("pk", STR), ("x", STR)])
                .local_secondary_indexes(lsi("loc", "x", keys_only()))
                .send()
                .await,
        ),
        invalid("Table KeySchema does not have a range key, which is required when specifying a LocalSecondaryIndex"),
    );
    m.check(
        "LSI with another hash key",
        service_error(
            table(base)
                .local_secondary_indexes(
                    LocalSecondaryIndex::builder()
                        .index_name("loc")
                        .set_key_schema(Some(key_schema(&["x"], &["sk"])))
                        .projection(keys_only())
                        .build()
                        .expect("index"),
                )
                .send()
                .await,
        ),
        invalid("Index KeySchema does not have the same leading hash key as table KeySchema for index: loc. index hash key: x, table hash key: pk"),
    );
    m.check(
        "LSI without a range key",
        service_error(
            table(&[("pk", STR), ("sk", NUM)])
                .local_secondary_indexes(
                    LocalSecondaryIndex::builder()
                        .index_name("loc")
                        .set_key_schema(Some(key_schema(&["pk"], &[])))
                        .projection(keys_only())
                        .build()
                        .expect("index"),
                )
                .send()
                .await,
        ),
        invalid("Index KeySchema does not have a range key for index: loc"),
    );
    let mut six = table(base);
    for i in 0..6 {
        six = six.local_secondary_indexes(lsi(&format!("loc{i}"), "x", keys_only()));
    }
    m.check(
        "6 LSIs",
        service_error(six.send().await),
        invalid("Number of LocalSecondaryIndexes exceeds per-table limit of 5"),
    );
    let mut many = table(base);
    for i in 0..21 {
        many = many.global_secondary_indexes(gsi(&format!("glo{i}"), &["x"], &[], keys_only()));
    }
    m.check(
        "21 GSIs",
        service_error(many.send().await),
        invalid("GlobalSecondaryIndex count exceeds the per-table limit of 20"),
    );
    let duplicate = invalid("Duplicate index name: dup");
    m.check(
        "two LSIs of one name",
        service_error(
            table(base)
                .local_secondary_indexes(lsi("dup", "x", keys_only()))
                .local_secondary_indexes(lsi("dup", "x", all()))
                .send()
                .await,
        ),
        duplicate.clone(),
    );
    m.check(
        "two GSIs of one name",
        service_error(
            table(base)
                .global_secondary_indexes(gsi("dup", &["x"], &[], keys_only()))
                .global_secondary_indexes(gsi("dup", &["x"], &["sk"], keys_only()))
                .send()
                .await,
        ),
        duplicate.clone(),
    );
    m.check(
        "an LSI and a GSI of one name",
        service_error(
            table(base)
                .local_secondary_indexes(lsi("dup", "x", keys_only()))
                .global_secondary_indexes(gsi("dup", &["x"], &[], keys_only()))
                .send()
                .await,
        ),
        duplicate,
    );
    m.check(
        "INCLUDE without NonKeyAttributes",
        service_error(
            table(base)
                .global_secondary_indexes(gsi(
                    "glo",
                    &["x"],
                    &[],
                    projection(ProjectionType::Include, &[]),
                ))
                .send()
                .await,
        ),
        invalid("ProjectionType is INCLUDE, but NonKeyAttributes is not specified"),
    );
    m.check(
        "NonKeyAttributes with ALL",
        service_error(
            table(base)
                .local_secondary_indexes(lsi("loc", "x", projection(ProjectionType::All, &["y"])))
                .send()
                .await,
        ),
        invalid("ProjectionType is ALL, but NonKeyAttributes is specified"),
    );
    m.check(
        "NonKeyAttributes with KEYS_ONLY",
        service_error(
            table(base)
                .global_secondary_indexes(gsi(
                    "glo",
                    &["x"],
                    &[],
                    projection(ProjectionType::KeysOnly, &["y"]),
                ))
                .send()
                .await,
        ),
        invalid("ProjectionType is KEYS_ONLY, but NonKeyAttributes is specified"),
    );
    m.check(
        "a projection without its type",
        service_error(
            table(base)
                .global_secondary_indexes(gsi("glo", &["x"], &[], Projection::builder().build()))
                .send()
                .await,
        ),
        invalid("Unknown ProjectionType: null"),
    );
    m.check(
        "PAY_PER_REQUEST GSI with throughput",
        service_error(
            table(base)
                .global_secondary_indexes(
                    GlobalSecondaryIndex::builder()
                        .index_name("glo")
                        .set_key_schema(Some(key_schema(&["x"], &[])))
                        .projection(keys_only())
                        .provisioned_throughput(throughput(1, 1))
                        .build()
                        .expect("index"),
                )
                .send()
                .await,
        ),
        invalid("ProvisionedThroughput should not be specified for index: glo when BillingMode is PAY_PER_REQUEST"),
    );
    m.check(
        "PROVISIONED GSI without throughput",
        service_error(
            table(base)
                .billing_mode(BillingMode::Provisioned)
                .provisioned_throughput(throughput(1, 1))
                .global_secondary_indexes(gsi("glo", &["x"], &[], keys_only()))
                .send()
                .await,
        ),
        invalid("ProvisionedThroughput is not specified for index: glo"),
    );
    m.check(
        "an empty LocalSecondaryIndexes list",
        service_error(
            table(base)
                .set_local_secondary_indexes(Some(vec![]))
                .send()
                .await,
        ),
        invalid("List of LocalSecondaryIndexes is empty"),
    );
    m.check(
        "an empty GlobalSecondaryIndexes list",
        service_error(
            table(base)
                .set_global_secondary_indexes(Some(vec![]))
                .send()
                .await,
        ),
        invalid("List of GlobalSecondaryIndexes is empty"),
    );
    m.assert_none();

    // Unused definitions with indexes: the lists' order is DynamoDB's own.
    let (code, message) = service_error(
        table(&[("pk", STR), ("sk", NUM), ("x", STR), ("unused", NUM)])
            .global_secondary_indexes(gsi("glo", &["x"], &[], keys_only()))
            .send()
            .await,
    );
    assert_eq!(code, "ValidationException");
    let (defined, used) =
        unused_definitions(&message).unwrap_or_else(|| panic!("unexpected message {message:?}"));
    assert_eq!(
        defined,
        string_set(&["pk", "sk", "x", "unused"]),
        "{message}"
    );
    assert_eq!(used, string_set(&["pk", "sk", "x"]), "{message}");

    let tables = client.list_tables().send().await.expect("list tables");
    assert!(
        tables.table_names().is_empty(),
        "a refused CreateTable created {tables:?}"
    );
    assert_eq!(
        service_error(client.describe_table().table_name("bad").send().await),
        error(
            "ResourceNotFoundException",
            "Requested resource not found: Table: bad not found"
        )
    );

    // The limits themselves are accepted: 5 LSIs and 20 GSIs.
    let mut most = table(base);
    for i in 0..5 {
        most = most.local_secondary_indexes(lsi(&format!("loc{i}"), "x", keys_only()));
    }
    for i in 0..20 {
        most = most.global_secondary_indexes(gsi(&format!("glo{i}"), &["x"], &[], keys_only()));
    }
    let out = most.send().await.expect("5 LSIs and 20 GSIs");
    let t = out.table_description.expect("description");
    assert_eq!(t.local_secondary_indexes().len(), 5);
    assert_eq!(t.global_secondary_indexes().len(), 20);
}

/// The JSON array that follows `"<member>":` in `body`.
fn json_array<'a>(body: &'a str, member: &str) -> &'a str {
    // The index of the `[`.
    let open = body
        .find(&format!("\"{member}\":["))
        .unwrap_or_else(|| panic!("no {member} in {body}"))
        + member.len()
        + 3;
    let mut depth = 0usize;
    let mut in_string = false;
    let mut escaped = false;
    for (i, c) in body[open..].char_indices() {
        match c {
            _ if escaped => escaped = false,
            '\\' if in_string => escaped = true,
            '"' => in_string = !in_string,
            '[' | '{' if !in_string => depth += 1,
            ']' | '}' if !in_string => {
                depth -= 1;
                if depth == 0 {
                    return &body[open..=open + i];
                }
            }
            _ => {}
        }
    }
    panic!("unterminated {member} in {body}");
}

#[tokio::test]
async fn describe_table_shows_index_arns_keys_projections_and_states() {
    let server = Server::start();
    let client = server.client();
    let out = new_table(
        &client,
        "shape",
        pk_sk(),
        &[
            ("pk", STR),
            ("sk", NUM),
            ("age", NUM),
            ("phase", STR),
            ("amount", NUM),
            ("customer", STR),
        ],
    )
    .local_secondary_indexes(lsi("byAge", "age", include(&["nick", "note"])))
    .global_secondary_indexes(gsi("byPhase", &["phase"], &["amount"], keys_only()))
    .global_secondary_indexes(gsi("byCustomer", &["customer"], &[], all()))
    .send()
    .await
    .expect("create shape");
    let created = out.table_description.expect("description");
    for name in ["byPhase", "byCustomer"] {
        let g = global(&created, name);
        assert_eq!(
            g.index_status(),
            Some(&IndexStatus::Creating),
            "{name} in the reply"
        );
        assert_eq!(
            g.backfilling(),
            None,
            "{name}: no Backfilling at CreateTable"
        );
        assert_eq!((g.item_count(), g.index_size_bytes()), (Some(0), Some(0)));
    }

    let t = describe(&client, "shape").await;
    let table_arn = t.table_arn().expect("TableArn");
    let by_phase = global(&t, "byPhase");
    assert_eq!(by_phase.index_status(), Some(&IndexStatus::Active));
    assert_eq!(by_phase.backfilling(), None);
    assert_eq!(by_phase.key_schema(), key_schema(&["phase"], &["amount"]));
    assert_eq!(by_phase.projection(), Some(&keys_only()));
    assert_eq!(
        by_phase.index_arn(),
        Some(format!("{table_arn}/index/byPhase").as_str())
    );
    let pt = by_phase
        .provisioned_throughput()
        .expect("ProvisionedThroughput");
    assert_eq!(
        (
            pt.read_capacity_units(),
            pt.write_capacity_units(),
            pt.number_of_decreases_today()
        ),
        (Some(0), Some(0), Some(0)),
        "PAY_PER_REQUEST index throughput"
    );
    let by_customer = global(&t, "byCustomer");
    assert_eq!(by_customer.key_schema(), key_schema(&["customer"], &[]));
    assert_eq!(by_customer.projection(), Some(&all()));
    assert_eq!(
        by_customer.index_arn(),
        Some(format!("{table_arn}/index/byCustomer").as_str())
    );
    let by_age = local(&t, "byAge");
    assert_eq!(by_age.key_schema(), key_schema(&["pk"], &["age"]));
    assert_eq!(by_age.projection(), Some(&include(&["nick", "note"])));
    assert_eq!(
        by_age.index_arn(),
        Some(format!("{table_arn}/index/byAge").as_str())
    );
    assert_eq!(
        (by_age.item_count(), by_age.index_size_bytes()),
        (Some(0), Some(0))
    );

    // A local index has no status or throughput of its own (§6); the SDK
    // type has no such members, so look at the wire.
    let r = raw_op(&server, "DescribeTable", r#"{"TableName":"shape"}"#).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let locals = json_array(&r.body, "LocalSecondaryIndexes");
    for member in ["IndexStatus", "ProvisionedThroughput", "Backfilling"] {
        assert!(!locals.contains(member), "{member} in {locals}");
    }
    assert!(locals.contains("\"IndexArn\""), "{locals}");
    let globals = json_array(&r.body, "GlobalSecondaryIndexes");
    for member in ["\"IndexStatus\":\"ACTIVE\"", "\"ProvisionedThroughput\""] {
        assert!(globals.contains(member), "{member} not in {globals}");
    }
    assert!(!globals.contains("Backfilling"), "{globals}");

    // A provisioned table's index throughput is echoed.
    let out = new_table(
        &client,
        "provisioned",
        key_schema(&["pk"], &[]),
        &[("pk", STR), ("g", STR)],
    )
    .billing_mode(BillingMode::Provisioned)
    .provisioned_throughput(throughput(5, 5))
    .global_secondary_indexes(
        GlobalSecondaryIndex::builder()
            .index_name("byG")
            .set_key_schema(Some(key_schema(&["g"], &[])))
            .projection(keys_only())
            .provisioned_throughput(throughput(3, 4))
            .build()
            .expect("index"),
    )
    .send()
    .await
    .expect("create provisioned");
    assert!(out.table_description.is_some());
    let t = describe(&client, "provisioned").await;
    let pt = global(&t, "byG")
        .provisioned_throughput()
        .expect("ProvisionedThroughput");
    assert_eq!(
        (
            pt.read_capacity_units(),
            pt.write_capacity_units(),
            pt.number_of_decreases_today()
        ),
        (Some(3), Some(4), Some(0))
    );
}

// ---- 8. item collections ----

/// A table `coll`, keyed (pk S, sk N), with the local index `byCity`.
async fn collection_table(client: &Client) {
    new_table(
        client,
        "coll",
        pk_sk(),
        &[("pk", STR), ("sk", NUM), ("city", STR)],
    )
    .local_secondary_indexes(lsi("byCity", "city", keys_only()))
    .send()
    .await
    .expect("create coll");
}

/// Checks ItemCollectionMetrics: the collection's key, and a size range in
/// GB that holds a small collection.
fn assert_metrics(
    m: Option<&aws_sdk_dynamodb::types::ItemCollectionMetrics>,
    pk: &str,
    what: &str,
) {
    let m = m.unwrap_or_else(|| panic!("{what}: no ItemCollectionMetrics"));
    assert_eq!(
        m.item_collection_key(),
        Some(&item(&[("pk", s(pk))])),
        "{what}"
    );
    let range = m.size_estimate_range_gb();
    assert_eq!(range.len(), 2, "{what}: {range:?}");
    assert!(
        0.0 <= range[0] && range[0] <= range[1] && range[0] < 1.0 && range[1] > 0.0,
        "{what}: {range:?}"
    );
}

#[tokio::test]
async fn item_collection_metrics_are_returned_for_tables_with_local_indexes() {
    let server = Server::start();
    let client = server.client();
    collection_table(&client).await;
    let size = ReturnItemCollectionMetrics::Size;
    let row = |pk: &str, sk: i64| {
        let mut i = key2(pk, sk);
        i.insert("city".into(), s("Oslo"));
        i
    };
    let out = client
        .put_item()
        .table_name("coll")
        .set_item(Some(row("a", 1)))
        .return_item_collection_metrics(size.clone())
        .send()
        .await
        .expect("put");
    assert_metrics(out.item_collection_metrics(), "a", "PutItem");
    let out = client
        .update_item()
        .table_name("coll")
        .set_key(Some(key2("a", 2)))
        .update_expression("SET city = :c")
        .expression_attribute_values(":c", s("Bergen"))
        .return_item_collection_metrics(size.clone())
        .send()
        .await
        .expect("update");
    assert_metrics(out.item_collection_metrics(), "a", "UpdateItem");
    let out = client
        .delete_item()
        .table_name("coll")
        .set_key(Some(key2("a", 2)))
        .return_item_collection_metrics(size.clone())
        .send()
        .await
        .expect("delete");
    assert_metrics(out.item_collection_metrics(), "a", "DeleteItem");
    let out = client
        .batch_write_item()
        .request_items(
            "coll",
            vec![put_request(row("b", 1)), put_request(row("c", 1))],
        )
        .return_item_collection_metrics(size.clone())
        .send()
        .await
        .expect("batch");
    let metrics = out
        .item_collection_metrics()
        .and_then(|m| m.get("coll"))
        .expect("BatchWriteItem ItemCollectionMetrics for coll");
    assert_eq!(metrics.len(), 2, "{metrics:?}");
    let mut keys: Vec<String> = Vec::new();
    for m in metrics {
        let pk = m
            .item_collection_key()
            .and_then(|k| k.get("pk"))
            .and_then(|v| v.as_s().ok())
            .expect("pk")
            .clone();
        assert_metrics(Some(m), &pk, "BatchWriteItem");
        keys.push(pk);
    }
    keys.sort();
    assert_eq!(keys, ["b", "c"]);

    // Not asked for, or NONE: no metrics.
    let out = client
        .put_item()
        .table_name("coll")
        .set_item(Some(row("a", 3)))
        .send()
        .await
        .expect("put");
    assert!(out.item_collection_metrics().is_none());
    let out = client
        .put_item()
        .table_name("coll")
        .set_item(Some(row("a", 3)))
        .return_item_collection_metrics(ReturnItemCollectionMetrics::None)
        .send()
        .await
        .expect("put");
    assert!(out.item_collection_metrics().is_none());

    // A table without local indexes has no item collections.
    new_table(
        &client,
        "flat",
        pk_sk(),
        &[("pk", STR), ("sk", NUM), ("city", STR)],
    )
    .global_secondary_indexes(gsi("glo", &["city"], &[], keys_only()))
    .send()
    .await
    .expect("create flat");
    let out = client
        .put_item()
        .table_name("flat")
        .set_item(Some(row("a", 1)))
        .return_item_collection_metrics(size.clone())
        .send()
        .await
        .expect("put");
    assert!(out.item_collection_metrics().is_none(), "{out:?}");
    let out = client
        .update_item()
        .table_name("flat")
        .set_key(Some(key2("a", 1)))
        .update_expression("SET n = :n")
        .expression_attribute_values(":n", num(1))
        .return_item_collection_metrics(size.clone())
        .send()
        .await
        .expect("update");
    assert!(out.item_collection_metrics().is_none(), "{out:?}");
    let out = client
        .delete_item()
        .table_name("flat")
        .set_key(Some(key2("a", 1)))
        .return_item_collection_metrics(size.clone())
        .send()
        .await
        .expect("delete");
    assert!(out.item_collection_metrics().is_none(), "{out:?}");
    let out = client
        .batch_write_item()
        .request_items("flat", vec![put_request(row("b", 1))])
        .return_item_collection_metrics(size)
        .send()
        .await
        .expect("batch");
    assert!(
        out.item_collection_metrics().is_none_or(HashMap::is_empty),
        "{out:?}"
    );
}

#[tokio::test]
async fn item_collection_size_limit_refuses_growth_only() {
    let server = Server::start_with(&["--item-collection-size-limit-bytes", "4096"]);
    let client = server.client();
    collection_table(&client).await;
    let row = |pk: &str, sk: i64, fill: usize| {
        let mut i = key2(pk, sk);
        i.insert("city".into(), s("Oslo"));
        i.insert("fill".into(), s(&"x".repeat(fill)));
        i
    };
    let full = error(
        "ItemCollectionSizeLimitExceededException",
        "Collection size exceeded",
    );
    // Fill collection `a` until a put no longer fits.
    let mut stored = 0;
    let mut refused = None;
    for sk in 1..=10 {
        let result = client
            .put_item()
            .table_name("coll")
            .set_item(Some(row("a", sk, 1000)))
            .send()
            .await;
        match result {
            Ok(_) => stored += 1,
            Err(e) => {
                assert_eq!(service_error::<(), _>(Err(e)), full, "put of a/{sk}");
                refused = Some(sk);
                break;
            }
        }
    }
    let refused = refused.expect("a put past 4096 bytes is refused");
    assert!(
        (2..=4).contains(&stored),
        "{stored} items of about 1 KB fit in 4 KB"
    );
    assert_eq!(get(&client, "coll", key2("a", refused)).await, None);
    let before = scan_all(&client, "coll", None).await;

    // Growing an item in place is refused too, and changes nothing.
    assert_eq!(
        service_error(
            client
                .update_item()
                .table_name("coll")
                .set_key(Some(key2("a", 1)))
                .update_expression("SET fill = :f")
                .expression_attribute_values(":f", s(&"y".repeat(2000)))
                .send()
                .await
        ),
        full
    );
    assert_eq!(
        service_error(
            client
                .batch_write_item()
                .request_items("coll", vec![put_request(row("a", refused, 1000))])
                .send()
                .await
        ),
        full
    );
    assert_eq!(
        rendered(&scan_all(&client, "coll", None).await),
        rendered(&before)
    );

    // Another collection has room; shrinking and deleting are allowed.
    put(&client, "coll", row("b", 1, 1000)).await;
    put(&client, "coll", row("a", 1, 10)).await;
    delete(&client, "coll", key2("a", 2)).await;
    put(&client, "coll", row("a", refused, 1000)).await;
    assert!(get(&client, "coll", key2("a", refused)).await.is_some());
}

// ---- 9. restarts ----

#[tokio::test]
async fn indexes_and_entries_survive_a_restart() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut server = Server::start_in(dir.path(), &[]);
    let client = server.client();
    let people_items = people(&client).await;
    let orders_items = orders(&client).await;
    client
        .update_table()
        .table_name(ORDERS)
        .attribute_definitions(def("nick", STR))
        .global_secondary_index_updates(create_gsi("byNick", &["nick"], &[], keys_only()))
        .send()
        .await
        .expect("create byNick");
    wait_until_active(&client, ORDERS, "byNick").await;
    delete(&client, ORDERS, key2("a", 2)).await;
    update(
        &client,
        PEOPLE,
        key2("p", 4),
        "SET city = :c",
        &[(":c", s("Alta"))],
    )
    .await;

    let snapshot = |client: Client| async move {
        let mut out = BTreeMap::new();
        for (table, index) in [
            (PEOPLE, "byCity"),
            (PEOPLE, "byAge"),
            (PEOPLE, "byTag"),
            (ORDERS, "byPhase"),
            (ORDERS, "byPhaseNick"),
            (ORDERS, "byCustomer"),
            (ORDERS, "byNick"),
        ] {
            let entries = scan_all(&client, table, Some(index)).await;
            let (count, bytes) = index_counters(&client, table, index).await;
            out.insert(index, (rendered(&entries), count, bytes));
        }
        let t = describe(&client, ORDERS).await;
        let states: Vec<(String, Option<IndexStatus>)> = t
            .global_secondary_indexes()
            .iter()
            .map(|g| {
                (
                    g.index_name().unwrap_or("").to_owned(),
                    g.index_status().cloned(),
                )
            })
            .collect();
        (out, states)
    };
    let (before, states) = snapshot(client.clone()).await;
    // p/4 gained a city, so every person is in byCity.
    assert_eq!(before["byCity"].0.len(), people_items.len());
    assert_eq!(before["byNick"].0.len(), orders_items.len() - 1);
    assert!(server.terminate(), "clean shutdown");

    let server = Server::start_in(dir.path(), &[]);
    let client = server.client();
    // Counters are recounted after a start; poll (bounded) until they are.
    let mut after = None;
    for _ in 0..POLL_ATTEMPTS_MAX {
        let now = snapshot(client.clone()).await;
        if now.0 == before {
            after = Some(now);
            break;
        }
        tokio::time::sleep(POLL_INTERVAL).await;
    }
    let (after, states_after) = match after {
        Some(a) => a,
        None => snapshot(client.clone()).await,
    };
    assert_eq!(after, before, "indexes after a restart");
    assert_eq!(states_after, states);
    let out = query_index(
        &client,
        PEOPLE,
        "byCity",
        "pk = :p AND city = :c",
        &[(":p", s("p")), (":c", s("Alta"))],
    )
    .send()
    .await
    .expect("query after restart");
    assert_eq!(sorted(ids(out.items())), ["p/4", "p/5"]);
    let out = query_index(
        &client,
        ORDERS,
        "byPhase",
        "phase = :v",
        &[(":v", s("open"))],
    )
    .send()
    .await
    .expect("query after restart");
    assert_eq!(ids(out.items())[0], "a/1");
    assert_eq!(sorted(ids(out.items())), ["a/1", "a/3", "b/1"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backfill_killed_by_sigkill_resumes_after_restart() {
    const ITEMS: u64 = 1_000;
    let dir = tempfile::tempdir().expect("tempdir");
    // One batch of 256, then a pause far longer than the test.
    let mut server = Server::start_in(dir.path(), &["--backfill-pause-ms", "600000"]);
    let client = server.client();
    new_table(&client, BIG, key_schema(&["id"], &[]), &[("id", STR)])
        .send()
        .await
        .expect("create big");
    let items: Vec<Item> = (0..ITEMS).map(|i| big_item(i, 0)).collect();
    batch_put(&client, BIG, &items).await;
    client
        .update_table()
        .table_name(BIG)
        .attribute_definitions(def("grp", STR))
        .attribute_definitions(def("score", NUM))
        .global_secondary_index_updates(create_gsi(
            "byGroup",
            &["grp"],
            &["score"],
            include(&["payload"]),
        ))
        .send()
        .await
        .expect("create index online");
    // Acknowledged writes during the backfill must be indexed after the
    // crash too.
    put(&client, BIG, big_item(ITEMS + 1, 3)).await;
    put(&client, BIG, big_item(7, 5)).await;
    delete(&client, BIG, item(&[("id", big_id(11))])).await;
    update(&client, BIG, item(&[("id", big_id(12))]), "REMOVE grp", &[]).await;
    update(
        &client,
        BIG,
        item(&[("id", big_id(999))]),
        "SET grp = :g, score = :s",
        &[(":g", s("g-new")), (":s", num(1))],
    )
    .await;
    let t = describe(&client, BIG).await;
    assert_eq!(
        global(&t, "byGroup").index_status(),
        Some(&IndexStatus::Creating)
    );
    server.kill();

    let server = Server::start_in(dir.path(), &[]);
    let client = server.client();
    let t = wait_until_active(&client, BIG, "byGroup").await;
    let table = scan_all(&client, BIG, None).await;
    assert_eq!(table.len() as u64, ITEMS);
    let entries = scan_all(&client, BIG, Some("byGroup")).await;
    assert_entries_match(&entries, &table, "after a crash during the backfill");
    let mut count = global(&t, "byGroup").item_count();
    // The entry count is recounted after a start; give it a bounded while.
    for _ in 0..POLL_ATTEMPTS_MAX {
        if count == Some(entries.len() as i64) {
            break;
        }
        tokio::time::sleep(POLL_INTERVAL).await;
        count = global(&describe(&client, BIG).await, "byGroup").item_count();
    }
    assert_eq!(count, Some(entries.len() as i64), "index ItemCount");
    let out = query_index(&client, BIG, "byGroup", "grp = :g", &[(":g", s("g-new"))])
        .send()
        .await
        .expect("query after the backfill");
    assert_eq!(ids(out.items()), ["i000999"]);
}
