//! End-to-end tests of TransactWriteItems and TransactGetItems against the
//! real `tarn` binary with the official SDK: every action type, every
//! cancellation reason (and that a cancelled transaction changes nothing),
//! idempotency, the limits, capacity, and index entries written by a
//! transaction. Messages are DynamoDB's, from
//! `docs/research/transaction-errors.md`.

use aws_sdk_dynamodb::operation::transact_write_items::builders::TransactWriteItemsFluentBuilder;
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::builders::{ConditionCheckBuilder, UpdateBuilder};
use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, CancellationReason, ConditionCheck, Delete, Get,
    GlobalSecondaryIndex, KeySchemaElement, KeyType, LocalSecondaryIndex, Projection,
    ProjectionType, Put, ReturnConsumedCapacity, ReturnValuesOnConditionCheckFailure,
    ScalarAttributeType, TransactGetItem, TransactWriteItem, Update,
};
use aws_sdk_dynamodb::Client;
use tarn_tests::{
    get, hash_table, item, n, put, raw_op, s, service_error, validation, Item, Server,
};

const CANCELLED: &str =
    "Transaction cancelled, please refer cancellation reasons for specific reasons";

fn put_action(table: &str, item: Item) -> TransactWriteItem {
    TransactWriteItem::builder()
        .put(
            Put::builder()
                .table_name(table)
                .set_item(Some(item))
                .build()
                .expect("put"),
        )
        .build()
}

fn key(pk: &str) -> Item {
    item(&[("pk", s(pk))])
}

fn update_builder(
    table: &str,
    pk: &str,
    expression: &str,
    values: &[(&str, &str)],
) -> UpdateBuilder {
    let mut u = Update::builder()
        .table_name(table)
        .set_key(Some(key(pk)))
        .update_expression(expression);
    for (k, v) in values {
        u = u.expression_attribute_values(*k, n(v));
    }
    u
}

fn update_action(table: &str, pk: &str, expression: &str, values: &[(&str, &str)]) -> Update {
    update_builder(table, pk, expression, values)
        .build()
        .expect("update")
}

fn check_builder(table: &str, pk: &str, condition: &str) -> ConditionCheckBuilder {
    ConditionCheck::builder()
        .table_name(table)
        .set_key(Some(key(pk)))
        .condition_expression(condition)
}

fn check(table: &str, pk: &str, condition: &str) -> ConditionCheck {
    check_builder(table, pk, condition)
        .build()
        .expect("condition check")
}

/// The cancellation reasons of a TransactionCanceledException, as
/// (code, message, item present).
fn reasons(
    result: Result<
        aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsOutput,
        aws_sdk_dynamodb::error::SdkError<TransactWriteItemsError>,
    >,
) -> (String, Vec<CancellationReason>) {
    match result.map_err(|e| e.into_service_error()) {
        Err(TransactWriteItemsError::TransactionCanceledException(e)) => (
            e.message().unwrap_or("").to_owned(),
            e.cancellation_reasons().to_vec(),
        ),
        other => panic!("expected TransactionCanceledException, got {other:?}"),
    }
}

fn codes(reasons: &[CancellationReason]) -> Vec<&str> {
    reasons.iter().map(|r| r.code().unwrap_or("")).collect()
}

async fn two_tables(client: &Client) {
    hash_table(client, "tx-a").await;
    hash_table(client, "tx-b").await;
}

fn with_actions(
    mut req: TransactWriteItemsFluentBuilder,
    actions: Vec<TransactWriteItem>,
) -> TransactWriteItemsFluentBuilder {
    for a in actions {
        req = req.transact_items(a);
    }
    req
}

#[tokio::test]
async fn every_action_type_applies_together_across_tables() {
    let server = Server::start();
    let client = server.client();
    two_tables(&client).await;
    put(&client, "tx-a", item(&[("pk", s("upd")), ("n", n("1"))])).await;
    put(&client, "tx-a", item(&[("pk", s("del")), ("n", n("1"))])).await;
    put(&client, "tx-b", item(&[("pk", s("chk")), ("ok", n("1"))])).await;
    let out = client
        .transact_write_items()
        .transact_items(put_action("tx-b", item(&[("pk", s("new")), ("v", s("x"))])))
        .transact_items(
            TransactWriteItem::builder()
                .update(update_action(
                    "tx-a",
                    "upd",
                    "SET n = n + :one",
                    &[(":one", "1")],
                ))
                .build(),
        )
        .transact_items(
            TransactWriteItem::builder()
                .delete(
                    Delete::builder()
                        .table_name("tx-a")
                        .set_key(Some(key("del")))
                        .condition_expression("attribute_exists(pk)")
                        .build()
                        .expect("delete"),
                )
                .build(),
        )
        .transact_items(
            TransactWriteItem::builder()
                .condition_check(
                    check_builder("tx-b", "chk", "ok = :one")
                        .expression_attribute_values(":one", n("1"))
                        .build()
                        .expect("check"),
                )
                .build(),
        )
        .return_consumed_capacity(ReturnConsumedCapacity::Total)
        .send()
        .await
        .expect("transaction");
    assert_eq!(
        get(&client, "tx-b", key("new")).await,
        Some(item(&[("pk", s("new")), ("v", s("x"))]))
    );
    assert_eq!(
        get(&client, "tx-a", key("upd")).await,
        Some(item(&[("pk", s("upd")), ("n", n("2"))]))
    );
    assert_eq!(get(&client, "tx-a", key("del")).await, None);
    // Two write units per action of under 1 KB, per table in order of
    // first appearance; the ConditionCheck is billed as a write.
    let capacity: Vec<(String, f64, Option<f64>)> = out
        .consumed_capacity()
        .iter()
        .map(|c| {
            (
                c.table_name().unwrap_or("").to_owned(),
                c.capacity_units().unwrap_or(-1.0),
                c.write_capacity_units(),
            )
        })
        .collect();
    assert_eq!(
        capacity,
        [
            ("tx-b".to_owned(), 4.0, Some(4.0)),
            ("tx-a".to_owned(), 4.0, Some(4.0))
        ]
    );
}

#[tokio::test]
async fn a_failed_condition_cancels_everything_and_reports_each_action() {
    let server = Server::start();
    let client = server.client();
    two_tables(&client).await;
    put(
        &client,
        "tx-a",
        item(&[("pk", s("acct")), ("balance", n("5"))]),
    )
    .await;
    let debit = update_builder(
        "tx-a",
        "acct",
        "SET balance = balance - :x",
        &[(":x", "10")],
    )
    .condition_expression("balance >= :x")
    .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
    .build()
    .expect("debit");
    let missing = check("tx-b", "ghost", "attribute_exists(pk)");
    let (message, rs) = reasons(
        client
            .transact_write_items()
            .transact_items(put_action("tx-b", item(&[("pk", s("side-effect"))])))
            .transact_items(TransactWriteItem::builder().update(debit).build())
            .transact_items(
                TransactWriteItem::builder()
                    .condition_check(missing)
                    .build(),
            )
            .send()
            .await,
    );
    assert_eq!(
        message,
        format!("{CANCELLED} [None, ConditionalCheckFailed, ConditionalCheckFailed]")
    );
    assert_eq!(
        codes(&rs),
        ["None", "ConditionalCheckFailed", "ConditionalCheckFailed"]
    );
    assert_eq!(rs[0].message(), None);
    assert_eq!(rs[1].message(), Some("The conditional request failed"));
    // ALL_OLD returns the item the condition saw; without it, nothing.
    assert_eq!(
        rs[1].item().cloned(),
        Some(item(&[("pk", s("acct")), ("balance", n("5"))]))
    );
    assert_eq!(rs[2].item(), None);
    // Nothing was applied.
    assert_eq!(get(&client, "tx-b", key("side-effect")).await, None);
    assert_eq!(
        get(&client, "tx-a", key("acct")).await,
        Some(item(&[("pk", s("acct")), ("balance", n("5"))]))
    );
}

#[tokio::test]
async fn validation_errors_cancel_with_a_reason_and_only_the_first_is_reported() {
    let server = Server::start();
    let client = server.client();
    two_tables(&client).await;
    put(&client, "tx-a", item(&[("pk", s("x")), ("n", n("1"))])).await;
    // A Put key of the wrong type.
    let (message, rs) = reasons(
        client
            .transact_write_items()
            .transact_items(put_action("tx-a", item(&[("pk", s("ok"))])))
            .transact_items(put_action("tx-b", item(&[("pk", n("7"))])))
            .send()
            .await,
    );
    assert_eq!(message, format!("{CANCELLED} [None, ValidationError]"));
    assert_eq!(
        rs[1].message(),
        Some("One or more parameter values were invalid: Type mismatch for key pk expected: S actual: N")
    );
    // A Delete key that does not fit the schema.
    let (_, rs) = reasons(
        client
            .transact_write_items()
            .transact_items(
                TransactWriteItem::builder()
                    .delete(
                        Delete::builder()
                            .table_name("tx-a")
                            .set_key(Some(item(&[("pk", s("x")), ("extra", s("y"))])))
                            .build()
                            .expect("delete"),
                    )
                    .build(),
            )
            .send()
            .await,
    );
    assert_eq!(codes(&rs), ["ValidationError"]);
    assert_eq!(
        rs[0].message(),
        Some("The provided key element does not match the schema")
    );
    // An update that fails at run time, beside a failing condition: the
    // ValidationError is the only reason reported.
    let (message, rs) = reasons(
        client
            .transact_write_items()
            .transact_items(
                TransactWriteItem::builder()
                    .condition_check(check("tx-b", "nobody", "attribute_exists(pk)"))
                    .build(),
            )
            .transact_items(
                TransactWriteItem::builder()
                    .update(update_action(
                        "tx-a",
                        "x",
                        "SET n = absent + :one",
                        &[(":one", "1")],
                    ))
                    .build(),
            )
            .send()
            .await,
    );
    assert_eq!(message, format!("{CANCELLED} [None, ValidationError]"));
    assert_eq!(
        rs[1].message(),
        Some("The provided expression refers to an attribute that does not exist in the item")
    );
    assert_eq!(
        get(&client, "tx-a", key("x")).await,
        Some(item(&[("pk", s("x")), ("n", n("1"))]))
    );
}

async fn indexed_table(client: &Client, name: &str) {
    let el = |n: &str, k| {
        KeySchemaElement::builder()
            .attribute_name(n)
            .key_type(k)
            .build()
            .expect("key")
    };
    let def = |n: &str, t| {
        AttributeDefinition::builder()
            .attribute_name(n)
            .attribute_type(t)
            .build()
            .expect("def")
    };
    client
        .create_table()
        .table_name(name)
        .billing_mode(BillingMode::PayPerRequest)
        .key_schema(el("pk", KeyType::Hash))
        .key_schema(el("sk", KeyType::Range))
        .attribute_definitions(def("pk", ScalarAttributeType::S))
        .attribute_definitions(def("sk", ScalarAttributeType::N))
        .attribute_definitions(def("g", ScalarAttributeType::S))
        .attribute_definitions(def("l", ScalarAttributeType::N))
        .global_secondary_indexes(
            GlobalSecondaryIndex::builder()
                .index_name("by-g")
                .key_schema(el("g", KeyType::Hash))
                .projection(
                    Projection::builder()
                        .projection_type(ProjectionType::All)
                        .build(),
                )
                .build()
                .expect("gsi"),
        )
        .local_secondary_indexes(
            LocalSecondaryIndex::builder()
                .index_name("by-l")
                .key_schema(el("pk", KeyType::Hash))
                .key_schema(el("l", KeyType::Range))
                .projection(
                    Projection::builder()
                        .projection_type(ProjectionType::KeysOnly)
                        .build(),
                )
                .build()
                .expect("lsi"),
        )
        .send()
        .await
        .expect("create indexed table");
}

#[tokio::test]
async fn transactions_maintain_indexes_and_refuse_bad_index_keys() {
    let server = Server::start_with(&["--item-collection-size-limit-bytes", "300"]);
    let client = server.client();
    indexed_table(&client, "tx-idx").await;
    let row = |sk: &str, g: &str| item(&[("pk", s("p")), ("sk", n(sk)), ("g", s(g)), ("l", n(sk))]);
    client
        .transact_write_items()
        .transact_items(put_action("tx-idx", row("1", "red")))
        .transact_items(put_action("tx-idx", row("2", "red")))
        .send()
        .await
        .expect("indexed transaction");
    let q = client
        .query()
        .table_name("tx-idx")
        .index_name("by-g")
        .key_condition_expression("g = :g")
        .expression_attribute_values(":g", s("red"))
        .send()
        .await
        .expect("query gsi");
    assert_eq!(q.count(), 2);
    // An index key of the wrong type is a ValidationError reason.
    let (_, rs) = reasons(
        client
            .transact_write_items()
            .transact_items(put_action(
                "tx-idx",
                item(&[("pk", s("p")), ("sk", n("3")), ("g", n("9"))]),
            ))
            .send()
            .await,
    );
    assert_eq!(
        rs[0].message(),
        Some("One or more parameter values were invalid: Type mismatch for Index Key g Expected: S Actual: N IndexName: by-g")
    );
    // An empty index key fails the whole request.
    let err = service_error(
        client
            .transact_write_items()
            .transact_items(put_action(
                "tx-idx",
                item(&[("pk", s("p")), ("sk", n("3")), ("g", s(""))]),
            ))
            .send()
            .await,
    );
    assert_eq!(
        err,
        validation("One or more parameter values are not valid. A value specified for a secondary index key is not supported. The AttributeValue for a key attribute cannot contain an empty string value. IndexName: by-g, IndexKey: g")
    );
    // Growing the item collection past its limit.
    let big = item(&[("pk", s("p")), ("sk", n("4")), ("pad", s(&"x".repeat(280)))]);
    let (message, rs) = reasons(
        client
            .transact_write_items()
            .transact_items(put_action("tx-idx", big))
            .send()
            .await,
    );
    assert_eq!(
        message,
        format!("{CANCELLED} [ItemCollectionSizeLimitExceeded]")
    );
    assert_eq!(rs[0].message(), Some("Collection size exceeded"));
    let scan = client
        .scan()
        .table_name("tx-idx")
        .send()
        .await
        .expect("scan");
    assert_eq!(scan.count(), 2, "a cancelled transaction wrote nothing");
}

#[tokio::test]
async fn a_client_request_token_makes_a_retry_harmless() {
    let server = Server::start();
    let client = server.client();
    hash_table(&client, "tx-a").await;
    put(&client, "tx-a", item(&[("pk", s("c")), ("n", n("0"))])).await;
    let bump = || {
        client
            .transact_write_items()
            .client_request_token("retry-token-1")
            .transact_items(
                TransactWriteItem::builder()
                    .update(update_action(
                        "tx-a",
                        "c",
                        "SET n = n + :one",
                        &[(":one", "1")],
                    ))
                    .build(),
            )
    };
    bump().send().await.expect("first");
    bump().send().await.expect("retry");
    assert_eq!(
        get(&client, "tx-a", key("c")).await,
        Some(item(&[("pk", s("c")), ("n", n("1"))])),
        "the retry was not applied again"
    );
    // The same token with another request.
    let err = service_error(
        client
            .transact_write_items()
            .client_request_token("retry-token-1")
            .transact_items(
                TransactWriteItem::builder()
                    .update(update_action(
                        "tx-a",
                        "c",
                        "SET n = n + :one",
                        &[(":one", "2")],
                    ))
                    .build(),
            )
            .send()
            .await,
    );
    assert_eq!(
        err,
        (
            "IdempotentParameterMismatchException".to_owned(),
            "DynamoDB rejected the request because you retried a request with a different payload but with an idempotent token that was already used.".to_owned()
        )
    );
    // A token survives a restart.
    drop(client);
    let mut server = server;
    assert!(server.terminate(), "clean stop");
    let server = Server::start_in(server.data_dir(), &[]);
    let client = server.client();
    client
        .transact_write_items()
        .client_request_token("retry-token-1")
        .transact_items(
            TransactWriteItem::builder()
                .update(update_action(
                    "tx-a",
                    "c",
                    "SET n = n + :one",
                    &[(":one", "1")],
                ))
                .build(),
        )
        .send()
        .await
        .expect("retry after restart");
    assert_eq!(
        get(&client, "tx-a", key("c")).await,
        Some(item(&[("pk", s("c")), ("n", n("1"))]))
    );
    // Tokens are 1 to 36 characters.
    let err = service_error(
        client
            .transact_write_items()
            .client_request_token("t".repeat(37))
            .transact_items(put_action("tx-a", key("z")))
            .send()
            .await,
    );
    assert_eq!(
        err,
        validation(&format!(
            "1 validation error detected: Value '{}' at 'clientRequestToken' failed to satisfy constraint: Member must have length less than or equal to 36",
            "t".repeat(37)
        ))
    );
}

#[tokio::test]
async fn transaction_limits_and_request_errors() {
    let server = Server::start();
    let client = server.client();
    two_tables(&client).await;
    // 100 actions are fine.
    let hundred: Vec<_> = (0..100)
        .map(|i| put_action("tx-a", key(&format!("k{i}"))))
        .collect();
    with_actions(client.transact_write_items(), hundred)
        .send()
        .await
        .expect("100 actions");
    let scan = client.scan().table_name("tx-a").send().await.expect("scan");
    assert_eq!(scan.count(), 100);
    // 101 are not.
    let many: Vec<_> = (0..101)
        .map(|i| put_action("tx-b", key(&format!("k{i}"))))
        .collect();
    let err = service_error(
        with_actions(client.transact_write_items(), many)
            .send()
            .await,
    );
    assert_eq!(
        err,
        validation("1 validation error detected: Value '[...]' at 'transactItems' failed to satisfy constraint: Member must have length less than or equal to 100")
    );
    // Two actions on one item.
    let err = service_error(
        client
            .transact_write_items()
            .transact_items(put_action("tx-a", key("same")))
            .transact_items(
                TransactWriteItem::builder()
                    .condition_check(check("tx-a", "same", "attribute_not_exists(pk)"))
                    .build(),
            )
            .send()
            .await,
    );
    assert_eq!(
        err,
        validation("Transaction request cannot include multiple operations on one item")
    );
    // A missing table.
    let err = service_error(
        client
            .transact_write_items()
            .transact_items(put_action("no-such-table", key("a")))
            .send()
            .await,
    );
    assert_eq!(
        err,
        (
            "ResourceNotFoundException".to_owned(),
            "Requested resource not found".to_owned()
        )
    );
    // An expression error fails the request, not one action.
    let err = service_error(
        client
            .transact_write_items()
            .transact_items(
                TransactWriteItem::builder()
                    .condition_check(check("tx-a", "k1", "attribute_exists("))
                    .build(),
            )
            .send()
            .await,
    );
    assert_eq!(
        err,
        validation("Invalid ConditionExpression: Syntax error; token: \"<EOF>\", near: \"(\"")
    );
    // An action element with no action, and a request over 4 MB (raw HTTP:
    // the SDK refuses to build the first).
    let r = raw_op(&server, "TransactWriteItems", r#"{"TransactItems":[{}]}"#).await;
    assert_eq!(r.status, 400);
    assert!(
        r.body.contains(
            "Invalid Request: TransactWriteRequest should contain Delete or Put or Update request"
        ),
        "{}",
        r.body
    );
    let pad = "x".repeat(350 * 1024);
    let actions: Vec<String> = (0..13)
        .map(|i| format!(r#"{{"Put":{{"TableName":"tx-a","Item":{{"pk":{{"S":"big{i}"}},"pad":{{"S":"{pad}"}}}}}}}}"#))
        .collect();
    let body = format!(r#"{{"TransactItems":[{}]}}"#, actions.join(","));
    let r = raw_op(&server, "TransactWriteItems", &body).await;
    assert_eq!(r.status, 400);
    assert!(r.body.contains("size cannot exceed"), "{}", r.body);
    // The cancellation body spells its message `Message`.
    put(&client, "tx-b", key("exists")).await;
    let r = raw_op(
        &server,
        "TransactWriteItems",
        r#"{"TransactItems":[{"Put":{"TableName":"tx-b","Item":{"pk":{"S":"exists"}},"ConditionExpression":"attribute_not_exists(pk)"}}]}"#,
    )
    .await;
    assert_eq!(
        r.body,
        format!(
            r#"{{"__type":"com.amazonaws.dynamodb.v20120810#TransactionCanceledException","Message":"{CANCELLED} [ConditionalCheckFailed]","CancellationReasons":[{{"Code":"ConditionalCheckFailed","Message":"The conditional request failed"}}]}}"#
        )
    );
}

fn get_action(table: &str, pk: &str) -> TransactGetItem {
    TransactGetItem::builder()
        .get(
            Get::builder()
                .table_name(table)
                .set_key(Some(key(pk)))
                .build()
                .expect("get"),
        )
        .build()
}

#[tokio::test]
async fn transact_get_items_reads_projects_and_validates() {
    let server = Server::start();
    let client = server.client();
    two_tables(&client).await;
    put(
        &client,
        "tx-a",
        item(&[("pk", s("a")), ("x", n("1")), ("y", n("2"))]),
    )
    .await;
    put(&client, "tx-b", item(&[("pk", s("b")), ("x", n("3"))])).await;
    let out = client
        .transact_get_items()
        .transact_items(get_action("tx-a", "a"))
        .transact_items(get_action("tx-b", "missing"))
        .transact_items(
            TransactGetItem::builder()
                .get(
                    Get::builder()
                        .table_name("tx-b")
                        .set_key(Some(key("b")))
                        .projection_expression("#x")
                        .expression_attribute_names("#x", "x")
                        .build()
                        .expect("get"),
                )
                .build(),
        )
        .return_consumed_capacity(ReturnConsumedCapacity::Total)
        .send()
        .await
        .expect("transact get");
    let items: Vec<Option<Item>> = out.responses().iter().map(|r| r.item().cloned()).collect();
    assert_eq!(
        items,
        [
            Some(item(&[("pk", s("a")), ("x", n("1")), ("y", n("2"))])),
            None,
            Some(item(&[("x", n("3"))])),
        ]
    );
    // Two read units per item, a missing one included.
    let capacity: Vec<(String, f64, Option<f64>)> = out
        .consumed_capacity()
        .iter()
        .map(|c| {
            (
                c.table_name().unwrap_or("").to_owned(),
                c.capacity_units().unwrap_or(-1.0),
                c.read_capacity_units(),
            )
        })
        .collect();
    assert_eq!(
        capacity,
        [
            ("tx-a".to_owned(), 2.0, Some(2.0)),
            ("tx-b".to_owned(), 4.0, Some(4.0))
        ]
    );
    let err = service_error(
        client
            .transact_get_items()
            .transact_items(get_action("tx-a", "a"))
            .transact_items(get_action("tx-a", "a"))
            .send()
            .await,
    );
    assert_eq!(
        err,
        validation("Transaction request cannot include multiple operations on one item")
    );
    let err = service_error(
        client
            .transact_get_items()
            .transact_items(get_action("nope-table", "a"))
            .send()
            .await,
    );
    assert_eq!(
        err,
        (
            "ResourceNotFoundException".to_owned(),
            "Requested resource not found".to_owned()
        )
    );
    let mut too_many = client.transact_get_items();
    for i in 0..101 {
        too_many = too_many.transact_items(get_action("tx-a", &format!("k{i}")));
    }
    let err = service_error(too_many.send().await);
    assert_eq!(
        err,
        validation("1 validation error detected: Value '[...]' at 'transactItems' failed to satisfy constraint: Member must have length less than or equal to 100")
    );
}

/// A key that does not match the schema cancels a TransactGetItems with a
/// `ValidationError` reason for its get (`docs/research/transaction-errors.md`
/// §7), as it does a TransactWriteItems; it used to surface as a 500.
#[tokio::test]
async fn transact_get_items_cancels_a_mismatched_key_with_a_validation_reason() {
    use aws_sdk_dynamodb::operation::transact_get_items::TransactGetItemsError;
    let server = Server::start();
    let client = server.client();
    two_tables(&client).await;
    let result = client
        .transact_get_items()
        .transact_items(get_action("tx-a", "a"))
        .transact_items(
            TransactGetItem::builder()
                .get(
                    Get::builder()
                        .table_name("tx-b")
                        .key("pk", n("7"))
                        .build()
                        .expect("get"),
                )
                .build(),
        )
        .send()
        .await;
    match result.map_err(|e| e.into_service_error()) {
        Err(TransactGetItemsError::TransactionCanceledException(e)) => {
            assert_eq!(
                e.message(),
                Some(format!("{CANCELLED} [None, ValidationError]").as_str())
            );
            let reasons = e.cancellation_reasons();
            assert_eq!(codes(reasons), ["None", "ValidationError"]);
            assert_eq!(
                reasons[1].message(),
                Some("The provided key element does not match the schema")
            );
        }
        other => panic!("expected TransactionCanceledException, got {other:?}"),
    }
}
