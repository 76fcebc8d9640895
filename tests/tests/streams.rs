//! End-to-end tests of DynamoDB Streams, driven by the official
//! `aws-sdk-dynamodb` and `aws-sdk-dynamodbstreams`: records of every
//! write path under every view type, stream lifecycle in DescribeTable,
//! iterator types and their errors, lineage across a shard rollover,
//! iterator expiry, trimming, transactions, and a SIGKILL in the middle of
//! writes; one shard per new stream, shards in `ShardId` order with paging
//! and `ShardFilter`, stream ARN errors, ListStreams paging past a stream
//! that is gone, and a deleted table's stream kept readable. Shapes and
//! messages: `docs/research/streams.md`.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, DeleteRequest, KeySchemaElement, KeyType, Put, PutRequest,
    ScalarAttributeType, StreamSpecification, StreamViewType, TimeToLiveSpecification,
    TransactWriteItem, Update, WriteRequest,
};
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodbstreams::types::{
    Record, Shard, ShardFilter, ShardFilterType, ShardIteratorType,
};
use tarn_tests::{item, n, put, s, service_error, validation, Item, Server};

type Streams = aws_sdk_dynamodbstreams::Client;

/// CreateTable of a table keyed by `pk`, with a stream of `view` if any.
fn streamed_table_request(
    client: &Client,
    name: &str,
    view: Option<StreamViewType>,
) -> aws_sdk_dynamodb::operation::create_table::builders::CreateTableFluentBuilder {
    let req = client
        .create_table()
        .table_name(name)
        .billing_mode(BillingMode::PayPerRequest)
        .key_schema(
            KeySchemaElement::builder()
                .attribute_name("pk")
                .key_type(KeyType::Hash)
                .build()
                .expect("key"),
        )
        .attribute_definitions(
            AttributeDefinition::builder()
                .attribute_name("pk")
                .attribute_type(ScalarAttributeType::S)
                .build()
                .expect("def"),
        );
    match view {
        Some(v) => req.stream_specification(
            StreamSpecification::builder()
                .stream_enabled(true)
                .stream_view_type(v)
                .build()
                .expect("spec"),
        ),
        None => req,
    }
}

async fn streamed_table(client: &Client, name: &str, view: Option<StreamViewType>) {
    streamed_table_request(client, name, view)
        .send()
        .await
        .expect("create streamed table");
}

/// DescribeStream's description of a stream (its first page of shards).
async fn description(
    streams: &Streams,
    arn: &str,
) -> aws_sdk_dynamodbstreams::types::StreamDescription {
    streams
        .describe_stream()
        .stream_arn(arn)
        .send()
        .await
        .expect("describe stream")
        .stream_description()
        .expect("description")
        .clone()
}

async fn latest_arn(client: &Client, table: &str) -> String {
    client
        .describe_table()
        .table_name(table)
        .send()
        .await
        .expect("describe")
        .table()
        .and_then(|t| t.latest_stream_arn())
        .expect("LatestStreamArn")
        .to_owned()
}

/// Every record of a stream, read from TRIM_HORIZON shard by shard,
/// following each shard to its end or to an empty page; sorted by
/// sequence number (as integers).
async fn all_records(streams: &Streams, arn: &str) -> Vec<Record> {
    let desc = streams
        .describe_stream()
        .stream_arn(arn)
        .send()
        .await
        .expect("describe stream");
    let mut out = Vec::new();
    for shard in desc.stream_description().expect("description").shards() {
        let mut it = streams
            .get_shard_iterator()
            .stream_arn(arn)
            .shard_id(shard.shard_id().expect("shard id"))
            .shard_iterator_type(ShardIteratorType::TrimHorizon)
            .send()
            .await
            .expect("iterator")
            .shard_iterator()
            .map(str::to_owned);
        for _ in 0..100 {
            let Some(current) = it.take() else { break };
            let page = match streams.get_records().shard_iterator(current).send().await {
                Ok(page) => page,
                // Records were trimmed under the iterator: start again from
                // the new trim horizon.
                Err(e)
                    if e.as_service_error()
                        .is_some_and(|s| s.is_trimmed_data_access_exception()) =>
                {
                    it = streams
                        .get_shard_iterator()
                        .stream_arn(arn)
                        .shard_id(shard.shard_id().expect("shard id"))
                        .shard_iterator_type(ShardIteratorType::TrimHorizon)
                        .send()
                        .await
                        .expect("iterator")
                        .shard_iterator()
                        .map(str::to_owned);
                    continue;
                }
                Err(e) => panic!("get records: {e:?}"),
            };
            let empty = page.records().is_empty();
            out.extend(page.records().iter().cloned());
            it = page.next_shard_iterator().map(str::to_owned);
            if empty {
                break;
            }
        }
    }
    out.sort_by_key(seq);
    out
}

fn seq(r: &Record) -> u128 {
    r.dynamodb()
        .and_then(|d| d.sequence_number())
        .expect("sequence number")
        .parse()
        .expect("decimal")
}

fn event(r: &Record) -> &str {
    r.event_name().map(|e| e.as_str()).unwrap_or("")
}

/// A streams-SDK attribute map as the DynamoDB SDK's (they are distinct
/// types with the same shape).
fn image(
    m: Option<&HashMap<String, aws_sdk_dynamodbstreams::types::AttributeValue>>,
) -> Option<Item> {
    use aws_sdk_dynamodbstreams::types::AttributeValue as V;
    fn conv(v: &V) -> aws_sdk_dynamodb::types::AttributeValue {
        use aws_sdk_dynamodb::types::AttributeValue as D;
        match v {
            V::S(x) => D::S(x.clone()),
            V::N(x) => D::N(x.clone()),
            V::Bool(x) => D::Bool(*x),
            V::Null(x) => D::Null(*x),
            V::Ss(x) => D::Ss(x.clone()),
            V::L(l) => D::L(l.iter().map(conv).collect()),
            V::M(m) => D::M(m.iter().map(|(k, v)| (k.clone(), conv(v))).collect()),
            other => panic!("unexpected value {other:?}"),
        }
    }
    m.map(|m| m.iter().map(|(k, v)| (k.clone(), conv(v))).collect())
}

fn now_seconds() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock")
        .as_secs() as i64
}

/// Every write path, under each view type: the records, their events,
/// keys and images, and no record for writes that change nothing.
#[tokio::test]
async fn every_write_path_records_its_change_under_each_view_type() {
    let server = Server::start_with(&["--ttl-sweep-interval-ms", "100"]);
    let client = server.client();
    let streams = server.streams_client();
    for (i, view) in [
        StreamViewType::KeysOnly,
        StreamViewType::NewImage,
        StreamViewType::OldImage,
        StreamViewType::NewAndOldImages,
    ]
    .into_iter()
    .enumerate()
    {
        let table = format!("views-{i}");
        streamed_table(&client, &table, Some(view.clone())).await;
        let a1 = item(&[("pk", s("a")), ("v", n("1"))]);
        let a2 = item(&[("pk", s("a")), ("v", n("2"))]);
        put(&client, &table, a1.clone()).await; // INSERT
        put(&client, &table, a2.clone()).await; // MODIFY
        put(&client, &table, a2.clone()).await; // identical: nothing
        client
            .update_item()
            .table_name(&table)
            .key("pk", s("a"))
            .update_expression("SET v = :v")
            .expression_attribute_values(":v", n("3"))
            .send()
            .await
            .expect("update"); // MODIFY
        client
            .update_item()
            .table_name(&table)
            .key("pk", s("a"))
            .update_expression("SET v = :v")
            .expression_attribute_values(":v", n("3"))
            .send()
            .await
            .expect("no-op update"); // nothing
        client
            .delete_item()
            .table_name(&table)
            .key("pk", s("a"))
            .send()
            .await
            .expect("delete"); // REMOVE
        client
            .delete_item()
            .table_name(&table)
            .key("pk", s("a"))
            .send()
            .await
            .expect("delete missing"); // nothing
                                       // A failed condition writes nothing.
        let failed = client
            .put_item()
            .table_name(&table)
            .set_item(Some(a1.clone()))
            .condition_expression("attribute_exists(pk)")
            .send()
            .await;
        assert!(failed.is_err());
        client
            .batch_write_item()
            .request_items(
                &table,
                vec![
                    WriteRequest::builder()
                        .put_request(
                            PutRequest::builder()
                                .set_item(Some(item(&[("pk", s("b"))])))
                                .build()
                                .expect("put"),
                        )
                        .build(),
                    WriteRequest::builder()
                        .put_request(
                            PutRequest::builder()
                                .set_item(Some(item(&[("pk", s("c"))])))
                                .build()
                                .expect("put"),
                        )
                        .build(),
                ],
            )
            .send()
            .await
            .expect("batch"); // INSERT b, INSERT c
        client
            .batch_write_item()
            .request_items(
                &table,
                vec![WriteRequest::builder()
                    .delete_request(
                        DeleteRequest::builder()
                            .key("pk", s("c"))
                            .build()
                            .expect("delete"),
                    )
                    .build()],
            )
            .send()
            .await
            .expect("batch delete"); // REMOVE c
        client
            .transact_write_items()
            .transact_items(
                TransactWriteItem::builder()
                    .put(
                        Put::builder()
                            .table_name(&table)
                            .set_item(Some(item(&[("pk", s("t"))])))
                            .build()
                            .expect("put"),
                    )
                    .build(),
            )
            .transact_items(
                TransactWriteItem::builder()
                    .update(
                        Update::builder()
                            .table_name(&table)
                            .key("pk", s("b"))
                            .update_expression("SET x = :x")
                            .expression_attribute_values(":x", s("y"))
                            .build()
                            .expect("update"),
                    )
                    .build(),
            )
            .send()
            .await
            .expect("transaction"); // INSERT t, MODIFY b
        let arn = latest_arn(&client, &table).await;
        let records = all_records(&streams, &arn).await;
        let events: Vec<(&str, String)> = records
            .iter()
            .map(|r| {
                let key = r
                    .dynamodb()
                    .and_then(|d| d.keys())
                    .and_then(|k| k.get("pk"));
                (
                    event(r),
                    key.and_then(|k| k.as_s().ok()).cloned().unwrap_or_default(),
                )
            })
            .collect();
        let mut sorted = events.clone();
        sorted.sort();
        let mut expected = vec![
            ("INSERT", "a".to_owned()),
            ("MODIFY", "a".to_owned()),
            ("MODIFY", "a".to_owned()),
            ("REMOVE", "a".to_owned()),
            ("INSERT", "b".to_owned()),
            ("INSERT", "c".to_owned()),
            ("REMOVE", "c".to_owned()),
            ("INSERT", "t".to_owned()),
            ("MODIFY", "b".to_owned()),
        ];
        expected.sort();
        assert_eq!(sorted, expected, "{view:?}");
        // The records of item `a`, in order, with the images the view
        // type keeps.
        let of_a: Vec<&Record> = records
            .iter()
            .filter(|r| {
                r.dynamodb()
                    .and_then(|d| d.keys())
                    .and_then(|k| k.get("pk"))
                    .and_then(|v| v.as_s().ok())
                    .is_some_and(|v| v == "a")
            })
            .collect();
        let names: Vec<&str> = of_a.iter().map(|r| event(r)).collect();
        assert_eq!(names, ["INSERT", "MODIFY", "MODIFY", "REMOVE"], "{view:?}");
        let a3 = item(&[("pk", s("a")), ("v", n("3"))]);
        let want_new = matches!(
            view,
            StreamViewType::NewImage | StreamViewType::NewAndOldImages
        );
        let want_old = matches!(
            view,
            StreamViewType::OldImage | StreamViewType::NewAndOldImages
        );
        let expect = |x: Option<Item>, keep: bool| if keep { x } else { None };
        let images: Vec<(Option<Item>, Option<Item>)> = of_a
            .iter()
            .map(|r| {
                let d = r.dynamodb().expect("dynamodb");
                (image(d.new_image()), image(d.old_image()))
            })
            .collect();
        assert_eq!(
            images,
            vec![
                (expect(Some(a1.clone()), want_new), None),
                (
                    expect(Some(a2.clone()), want_new),
                    expect(Some(a1.clone()), want_old)
                ),
                (
                    expect(Some(a3.clone()), want_new),
                    expect(Some(a2.clone()), want_old)
                ),
                (None, expect(Some(a3.clone()), want_old)),
            ],
            "{view:?}"
        );
        for r in &records {
            assert_eq!(r.event_source(), Some("aws:dynamodb"));
            assert_eq!(r.event_version(), Some("1.1"));
            assert_eq!(r.aws_region(), Some("us-east-1"));
            assert_eq!(r.event_id().map(str::len), Some(32));
            let d = r.dynamodb().expect("dynamodb");
            assert_eq!(
                d.stream_view_type(),
                Some(&aws_sdk_dynamodbstreams::types::StreamViewType::from(
                    view.as_str()
                ))
            );
            assert!(d.approximate_creation_date_time().is_some());
            assert!(
                r.user_identity().is_none(),
                "only TTL deletes carry an identity"
            );
        }
        // SizeBytes is the size of the keys and the images carried.
        let insert_a = of_a[0].dynamodb().expect("dynamodb");
        // Keys {pk: "a"} are 3 bytes; {pk: "a", v: 1} is 3 + 1 + 2.
        let expected_size = 3 + if want_new { 6 } else { 0 };
        assert_eq!(insert_a.size_bytes(), Some(expected_size), "{view:?}");
    }
    // A TTL delete is a REMOVE by the service.
    let table = "views-ttl";
    streamed_table(&client, table, Some(StreamViewType::NewAndOldImages)).await;
    client
        .update_time_to_live()
        .table_name(table)
        .time_to_live_specification(
            TimeToLiveSpecification::builder()
                .attribute_name("exp")
                .enabled(true)
                .build()
                .expect("ttl"),
        )
        .send()
        .await
        .expect("enable ttl");
    put(
        &client,
        table,
        item(&[
            ("pk", s("gone")),
            ("exp", n(&(now_seconds() - 5).to_string())),
        ]),
    )
    .await;
    let arn = latest_arn(&client, table).await;
    let mut removes = Vec::new();
    for _ in 0..100 {
        removes = all_records(&streams, &arn)
            .await
            .into_iter()
            .filter(|r| event(r) == "REMOVE")
            .collect();
        if !removes.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let identity = removes
        .first()
        .and_then(|r| r.user_identity())
        .expect("TTL identity");
    assert_eq!(identity.principal_id(), Some("dynamodb.amazonaws.com"));
    assert_eq!(identity.r#type(), Some("Service"));
}

#[tokio::test]
async fn stream_lifecycle_shows_in_describe_table_and_list_streams() {
    let server = Server::start();
    let client = server.client();
    let streams = server.streams_client();
    streamed_table(&client, "life", Some(StreamViewType::KeysOnly)).await;
    let first = latest_arn(&client, "life").await;
    let label = first.rsplit('/').next().expect("label").to_owned();
    assert!(
        first.starts_with("arn:aws:dynamodb:us-east-1:000000000000:table/life/stream/")
            && label.len() == "2026-12-01T08:05:49.123".len(),
        "{first}"
    );
    let spec = |enabled: bool, view: Option<StreamViewType>| {
        StreamSpecification::builder()
            .stream_enabled(enabled)
            .set_stream_view_type(view)
            .build()
            .expect("spec")
    };
    let err = service_error(
        client
            .update_table()
            .table_name("life")
            .stream_specification(spec(true, Some(StreamViewType::NewImage)))
            .send()
            .await,
    );
    assert_eq!(
        err,
        validation("Table already has an enabled stream: TableName: life")
    );
    client
        .update_table()
        .table_name("life")
        .stream_specification(spec(false, None))
        .send()
        .await
        .expect("disable");
    let t = client
        .describe_table()
        .table_name("life")
        .send()
        .await
        .expect("describe");
    let t = t.table().expect("table");
    assert!(t.stream_specification().is_none(), "gone once disabled");
    assert_eq!(t.latest_stream_arn(), Some(first.as_str()));
    assert_eq!(t.latest_stream_label(), Some(label.as_str()));
    let err = service_error(
        client
            .update_table()
            .table_name("life")
            .stream_specification(spec(false, None))
            .send()
            .await,
    );
    assert_eq!(
        err,
        validation("Table has no stream to disable: TableName: life")
    );
    let err = service_error(
        client
            .update_table()
            .table_name("life")
            .stream_specification(spec(true, None))
            .send()
            .await,
    );
    assert_eq!(
        err,
        validation("One or more parameter values were invalid: If stream is being enabled then UpdateViewType is required")
    );
    // The disabled stream is DISABLED with closed shards.
    let d = description(&streams, &first).await;
    assert_eq!(d.stream_status().map(|s| s.as_str()), Some("DISABLED"));
    assert!(d.shards().iter().all(|s| s
        .sequence_number_range()
        .and_then(|r| r.ending_sequence_number())
        .is_some()));
    // Re-enabling, even at once, makes a new stream; both are listed,
    // newest first.
    client
        .update_table()
        .table_name("life")
        .stream_specification(spec(true, Some(StreamViewType::NewImage)))
        .send()
        .await
        .expect("enable again");
    let second = latest_arn(&client, "life").await;
    assert_ne!(first, second);
    let listed = streams
        .list_streams()
        .table_name("life")
        .send()
        .await
        .expect("list");
    let arns: Vec<&str> = listed
        .streams()
        .iter()
        .filter_map(|s| s.stream_arn())
        .collect();
    assert_eq!(arns, [second.as_str(), first.as_str()]);
    // Paging, and an unknown table lists nothing.
    let page = streams
        .list_streams()
        .table_name("life")
        .limit(1)
        .send()
        .await
        .expect("list");
    assert_eq!(page.last_evaluated_stream_arn(), Some(second.as_str()));
    let none = streams
        .list_streams()
        .table_name("nope-table")
        .send()
        .await
        .expect("list");
    assert!(none.streams().is_empty());
    // CreateTable's own wording.
    let err = service_error(
        client
            .create_table()
            .table_name("bad-spec")
            .billing_mode(BillingMode::PayPerRequest)
            .key_schema(
                KeySchemaElement::builder()
                    .attribute_name("pk")
                    .key_type(KeyType::Hash)
                    .build()
                    .expect("key"),
            )
            .attribute_definitions(
                AttributeDefinition::builder()
                    .attribute_name("pk")
                    .attribute_type(ScalarAttributeType::S)
                    .build()
                    .expect("def"),
            )
            .stream_specification(spec(true, None))
            .send()
            .await,
    );
    assert_eq!(
        err,
        validation("One or more parameter values were invalid: Table is being created with a stream enabled, UpdateViewType is required")
    );
}

async fn first_shard(
    streams: &Streams,
    arn: &str,
) -> Vec<(String, Option<String>, String, Option<String>)> {
    let d = streams
        .describe_stream()
        .stream_arn(arn)
        .send()
        .await
        .expect("describe");
    d.stream_description()
        .expect("description")
        .shards()
        .iter()
        .map(|s| {
            let r = s.sequence_number_range().expect("range");
            (
                s.shard_id().expect("id").to_owned(),
                s.parent_shard_id().map(str::to_owned),
                r.starting_sequence_number().expect("start").to_owned(),
                r.ending_sequence_number().map(str::to_owned),
            )
        })
        .collect()
}

async fn iterator(
    streams: &Streams,
    arn: &str,
    shard: &str,
    kind: ShardIteratorType,
    seq: Option<&str>,
) -> String {
    streams
        .get_shard_iterator()
        .stream_arn(arn)
        .shard_id(shard)
        .shard_iterator_type(kind)
        .set_sequence_number(seq.map(str::to_owned))
        .send()
        .await
        .expect("iterator")
        .shard_iterator()
        .expect("iterator")
        .to_owned()
}

#[tokio::test]
async fn iterator_types_and_their_errors() {
    let server = Server::start();
    let client = server.client();
    let streams = server.streams_client();
    streamed_table(&client, "iters", Some(StreamViewType::KeysOnly)).await;
    let arn = latest_arn(&client, "iters").await;
    // Find the shard that item `k` lands in.
    put(&client, "iters", item(&[("pk", s("k")), ("v", n("1"))])).await;
    let shards = first_shard(&streams, &arn).await;
    let mut home = None;
    for (id, _, _, _) in &shards {
        let it = iterator(&streams, &arn, id, ShardIteratorType::TrimHorizon, None).await;
        let page = streams
            .get_records()
            .shard_iterator(it)
            .send()
            .await
            .expect("records");
        if !page.records().is_empty() {
            home = Some((id.clone(), page.records()[0].clone()));
        }
    }
    let (shard, first) = home.expect("the record is in some shard");
    let first_seq = first
        .dynamodb()
        .and_then(|d| d.sequence_number())
        .expect("seq")
        .to_owned();
    // LATEST sees only what comes after it, at once.
    let latest = iterator(&streams, &arn, &shard, ShardIteratorType::Latest, None).await;
    let empty = streams
        .get_records()
        .shard_iterator(&latest)
        .send()
        .await
        .expect("records");
    assert!(empty.records().is_empty());
    let next = empty
        .next_shard_iterator()
        .expect("an open shard always has a next iterator")
        .to_owned();
    put(&client, "iters", item(&[("pk", s("k")), ("v", n("2"))])).await;
    let page = streams
        .get_records()
        .shard_iterator(next)
        .send()
        .await
        .expect("records");
    assert_eq!(page.records().len(), 1, "a new write is visible at once");
    // AT and AFTER a sequence number.
    let at = iterator(
        &streams,
        &arn,
        &shard,
        ShardIteratorType::AtSequenceNumber,
        Some(&first_seq),
    )
    .await;
    let page = streams
        .get_records()
        .shard_iterator(at)
        .send()
        .await
        .expect("records");
    assert_eq!(page.records().len(), 2);
    let after = iterator(
        &streams,
        &arn,
        &shard,
        ShardIteratorType::AfterSequenceNumber,
        Some(&first_seq),
    )
    .await;
    let page = streams
        .get_records()
        .shard_iterator(after)
        .limit(5)
        .send()
        .await
        .expect("records");
    assert_eq!(page.records().len(), 1);
    // Errors.
    let err = service_error(
        streams
            .get_shard_iterator()
            .stream_arn(&arn)
            .shard_id(&shard)
            .shard_iterator_type(ShardIteratorType::AtSequenceNumber)
            .send()
            .await,
    );
    assert_eq!(err.0, "ValidationException");
    let err = service_error(
        streams
            .get_shard_iterator()
            .stream_arn(&arn)
            .shard_id(&shard)
            .shard_iterator_type(ShardIteratorType::TrimHorizon)
            .sequence_number(&first_seq)
            .send()
            .await,
    );
    assert_eq!(err.0, "ValidationException");
    let err = service_error(
        streams
            .get_shard_iterator()
            .stream_arn(&arn)
            .shard_id("shardId-00000000000000000000-00000000")
            .shard_iterator_type(ShardIteratorType::TrimHorizon)
            .send()
            .await,
    );
    assert_eq!(
        err,
        (
            "ResourceNotFoundException".to_owned(),
            "Requested resource not found: Shard does not exist".to_owned()
        )
    );
    let missing = format!("{}1999-01-01T00:00:00.000", &arn[..arn.len() - 23]);
    let err = service_error(streams.describe_stream().stream_arn(&missing).send().await);
    assert_eq!(
        err,
        (
            "ResourceNotFoundException".to_owned(),
            format!("Requested resource not found: Stream: {missing} not found")
        )
    );
    let err = service_error(
        streams
            .get_records()
            .shard_iterator("sdfsdfsgagagsdfgsdfgsdfg")
            .send()
            .await,
    );
    assert_eq!(err.0, "ValidationException");
    let err = service_error(
        streams
            .get_records()
            .shard_iterator(&latest)
            .limit(1001)
            .send()
            .await,
    );
    assert_eq!(err.0, "ValidationException");
}

#[tokio::test]
async fn readers_follow_lineage_across_a_rollover_and_iterators_expire() {
    let server = Server::start_with(&[
        "--stream-shard-rollover-ms",
        "300",
        "--stream-iterator-ttl-ms",
        "1500",
    ]);
    let client = server.client();
    let streams = server.streams_client();
    streamed_table(&client, "roll", Some(StreamViewType::NewImage)).await;
    let arn = latest_arn(&client, "roll").await;
    put(&client, "roll", item(&[("pk", s("k")), ("v", n("1"))])).await;
    let early = {
        let shards = first_shard(&streams, &arn).await;
        iterator(
            &streams,
            &arn,
            &shards[0].0,
            ShardIteratorType::TrimHorizon,
            None,
        )
        .await
    };
    tokio::time::sleep(Duration::from_millis(400)).await;
    put(&client, "roll", item(&[("pk", s("k")), ("v", n("2"))])).await;
    let shards = first_shard(&streams, &arn).await;
    // The shard of `k` closed and a child took over.
    let children: Vec<_> = shards.iter().filter(|s| s.1.is_some()).collect();
    assert_eq!(children.len(), 1, "{shards:?}");
    let child = children[0];
    let parent = shards
        .iter()
        .find(|s| Some(&s.0) == child.1.as_ref())
        .expect("parent described");
    let end: u128 = parent
        .3
        .as_deref()
        .expect("parent closed")
        .parse()
        .expect("end");
    let start: u128 = child.2.parse().expect("start");
    assert!(start > end, "child starts after its parent ends");
    // A reader of the parent reaches its end (no next iterator), then
    // reads the child: both values in order.
    let mut values = Vec::new();
    for shard in [&parent.0, &child.0] {
        let mut it =
            Some(iterator(&streams, &arn, shard, ShardIteratorType::TrimHorizon, None).await);
        for _ in 0..10 {
            let Some(current) = it.take() else { break };
            let page = streams
                .get_records()
                .shard_iterator(current)
                .send()
                .await
                .expect("records");
            for r in page.records() {
                let v = r
                    .dynamodb()
                    .and_then(|d| d.new_image())
                    .and_then(|i| i.get("v"));
                values.push(v.and_then(|v| v.as_n().ok()).cloned().unwrap_or_default());
            }
            it = page.next_shard_iterator().map(str::to_owned);
            if page.records().is_empty() {
                break;
            }
        }
        if shard == &parent.0 {
            assert!(it.is_none(), "a closed shard ends without a next iterator");
        }
    }
    assert_eq!(values, ["1", "2"]);
    // The iterator taken before the rollover has expired by now.
    tokio::time::sleep(Duration::from_millis(1200)).await;
    let err = service_error(streams.get_records().shard_iterator(early).send().await);
    assert_eq!(
        err,
        (
            "ExpiredIteratorException".to_owned(),
            "Shard iterator has expired".to_owned()
        )
    );
}

#[tokio::test]
async fn records_past_retention_are_trimmed() {
    let server = Server::start_with(&[
        "--stream-retention-ms",
        "400",
        "--ttl-sweep-interval-ms",
        "100",
    ]);
    let client = server.client();
    let streams = server.streams_client();
    streamed_table(&client, "trim", Some(StreamViewType::KeysOnly)).await;
    let arn = latest_arn(&client, "trim").await;
    for i in 0..5 {
        put(&client, "trim", item(&[("pk", s(&format!("k{i}")))])).await;
    }
    let shards = first_shard(&streams, &arn).await;
    let mut old = Vec::new();
    for (id, _, _, _) in &shards {
        old.push(iterator(&streams, &arn, id, ShardIteratorType::TrimHorizon, None).await);
    }
    assert_eq!(all_records(&streams, &arn).await.len(), 5);
    // Wait (bounded) for the trim.
    let mut trimmed = false;
    for _ in 0..50 {
        tokio::time::sleep(Duration::from_millis(100)).await;
        if all_records(&streams, &arn).await.is_empty() {
            trimmed = true;
            break;
        }
    }
    assert!(trimmed, "records outlived their retention");
    // An iterator from before the trim points at trimmed data.
    let mut saw_trimmed = false;
    for it in old {
        match streams.get_records().shard_iterator(it).send().await {
            Ok(page) => assert!(page.records().is_empty()),
            Err(e) => {
                let (code, message) = service_error::<(), _>(Err(e));
                assert_eq!(
                    (code.as_str(), message.as_str()),
                    (
                        "TrimmedDataAccessException",
                        "The data you are trying to access has been trimmed"
                    )
                );
                saw_trimmed = true;
            }
        }
    }
    assert!(saw_trimmed, "no old iterator was behind the trim point");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_transactions_records_are_all_there_or_none_and_contiguous() {
    let server = Server::start();
    let client = server.client();
    let streams = server.streams_client();
    streamed_table(&client, "tx-stream", Some(StreamViewType::NewImage)).await;
    const WRITERS: usize = 4;
    const TRANSACTIONS: usize = 25;
    let tasks: Vec<_> = (0..WRITERS)
        .map(|w| {
            let client = server.client();
            tokio::spawn(async move {
                let mut committed = Vec::new();
                for t in 0..TRANSACTIONS {
                    let id = format!("w{w}t{t}");
                    let mut req = client.transact_write_items();
                    for part in 0..3 {
                        req = req.transact_items(
                            TransactWriteItem::builder()
                                .put(
                                    Put::builder()
                                        .table_name("tx-stream")
                                        .set_item(Some(item(&[
                                            ("pk", s(&format!("{id}-{part}"))),
                                            ("tx", s(&id)),
                                        ])))
                                        .build()
                                        .expect("put"),
                                )
                                .build(),
                        );
                    }
                    // Every fifth transaction is cancelled by a condition.
                    if t % 5 == 4 {
                        req = req.transact_items(
                            TransactWriteItem::builder()
                                .condition_check(
                                    aws_sdk_dynamodb::types::ConditionCheck::builder()
                                        .table_name("tx-stream")
                                        .key("pk", s("never"))
                                        .condition_expression("attribute_exists(pk)")
                                        .build()
                                        .expect("check"),
                                )
                                .build(),
                        );
                        assert!(req.send().await.is_err());
                    } else {
                        req.send().await.expect("transaction");
                        committed.push(id);
                    }
                }
                committed
            })
        })
        .collect();
    let mut committed = Vec::new();
    for t in tasks {
        committed.extend(t.await.expect("writer"));
    }
    let arn = latest_arn(&client, "tx-stream").await;
    let records = all_records(&streams, &arn).await;
    let mut by_tx: BTreeMap<String, Vec<u128>> = BTreeMap::new();
    for r in &records {
        let tx = r
            .dynamodb()
            .and_then(|d| d.new_image())
            .and_then(|i| i.get("tx"))
            .and_then(|v| v.as_s().ok())
            .expect("tx")
            .clone();
        by_tx.entry(tx).or_default().push(seq(r));
    }
    assert_eq!(
        by_tx.len(),
        committed.len(),
        "exactly the committed transactions have records"
    );
    for (tx, mut seqs) in by_tx {
        assert!(
            committed.contains(&tx),
            "{tx} was cancelled yet has records"
        );
        seqs.sort();
        assert_eq!(seqs.len(), 3, "{tx}");
        assert_eq!(
            seqs[2] - seqs[0],
            2,
            "{tx}'s records are not contiguous: {seqs:?}"
        );
    }
}

/// What each writer saw acknowledged, in order.
type Acked = Arc<Mutex<Vec<Vec<u64>>>>;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_crash_keeps_every_acknowledged_record_in_order_exactly_once() {
    const WRITERS: usize = 4;
    const WRITES_MAX: u64 = 20_000;
    let dir = tempfile::tempdir().expect("tempdir");
    let mut server = Server::start_in(dir.path(), &[]);
    let client = server.client();
    streamed_table(&client, "crash-stream", Some(StreamViewType::NewImage)).await;
    let acked: Acked = Arc::new(Mutex::new(vec![Vec::new(); WRITERS]));
    let total = Arc::new(AtomicU64::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let tasks: Vec<_> = (0..WRITERS)
        .map(|w| {
            let (client, acked, total, stop) =
                (server.client(), acked.clone(), total.clone(), stop.clone());
            tokio::spawn(async move {
                for i in 0..WRITES_MAX {
                    if stop.load(Ordering::Relaxed) {
                        return;
                    }
                    // Each writer updates one item: its records must come
                    // in the order of its writes.
                    let r = client
                        .put_item()
                        .table_name("crash-stream")
                        .set_item(Some(item(&[
                            ("pk", s(&format!("w{w}"))),
                            ("i", n(&i.to_string())),
                        ])))
                        .send()
                        .await;
                    if r.is_err() {
                        return;
                    }
                    acked.lock().expect("lock")[w].push(i);
                    total.fetch_add(1, Ordering::Relaxed);
                }
            })
        })
        .collect();
    for _ in 0..2000 {
        if total.load(Ordering::Relaxed) >= 300 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    server.kill();
    stop.store(true, Ordering::Relaxed);
    for t in tasks {
        let _ = t.await;
    }
    let acked = acked.lock().expect("lock").clone();
    let server = Server::start_in(dir.path(), &[]);
    let client = server.client();
    let streams = server.streams_client();
    let arn = latest_arn(&client, "crash-stream").await;
    let records = all_records(&streams, &arn).await;
    let mut seen: Vec<Vec<u64>> = vec![Vec::new(); WRITERS];
    for r in &records {
        let img = r.dynamodb().and_then(|d| d.new_image()).expect("new image");
        let w: usize = img["pk"].as_s().expect("pk")[1..].parse().expect("writer");
        seen[w].push(img["i"].as_n().expect("i").parse().expect("int"));
    }
    for w in 0..WRITERS {
        // Every acknowledged write is there, once, in order; at most the one
        // write in flight at the kill follows.
        assert!(acked[w].len() >= 10, "writer {w} barely wrote");
        assert_eq!(
            &seen[w][..acked[w].len()],
            acked[w].as_slice(),
            "writer {w}"
        );
        assert!(
            seen[w].len() <= acked[w].len() + 1,
            "writer {w}: {} records for {} acks",
            seen[w].len(),
            acked[w].len()
        );
    }
}

/// A page of DescribeStream: its shards, and `LastEvaluatedShardId`.
async fn shard_page(
    streams: &Streams,
    arn: &str,
    limit: Option<i32>,
    exclusive_start: Option<&str>,
    filter: Option<ShardFilter>,
) -> (Vec<Shard>, Option<String>) {
    let d = streams
        .describe_stream()
        .stream_arn(arn)
        .set_limit(limit)
        .set_exclusive_start_shard_id(exclusive_start.map(str::to_owned))
        .set_shard_filter(filter)
        .send()
        .await
        .expect("describe stream");
    let d = d.stream_description().expect("description");
    (
        d.shards().to_vec(),
        d.last_evaluated_shard_id().map(str::to_owned),
    )
}

fn ids(shards: &[Shard]) -> Vec<String> {
    shards
        .iter()
        .map(|s| s.shard_id().expect("shard id").to_owned())
        .collect()
}

/// Every record of one shard, from `kind` (at `seq`) to the end of what it
/// holds now.
async fn shard_records(
    streams: &Streams,
    arn: &str,
    shard: &str,
    kind: ShardIteratorType,
    seq: Option<&str>,
) -> Vec<Record> {
    let mut it = Some(iterator(streams, arn, shard, kind, seq).await);
    let mut out = Vec::new();
    for _ in 0..100 {
        let Some(current) = it.take() else { break };
        let page = streams
            .get_records()
            .shard_iterator(current)
            .send()
            .await
            .expect("records");
        out.extend(page.records().iter().cloned());
        it = page.next_shard_iterator().map(str::to_owned);
        if page.records().is_empty() {
            break;
        }
    }
    out
}

/// Clients of `server` and a new table `name` with a stream of `view`;
/// returns the stream's ARN too.
async fn with_streamed_table(
    server: &Server,
    name: &str,
    view: StreamViewType,
) -> (Client, Streams, String) {
    let client = server.client();
    streamed_table(&client, name, Some(view)).await;
    let arn = latest_arn(&client, name).await;
    (client, server.streams_client(), arn)
}

fn key(r: &Record) -> String {
    r.dynamodb()
        .and_then(|d| d.keys())
        .and_then(|k| k.get("pk"))
        .and_then(|v| v.as_s().ok())
        .cloned()
        .unwrap_or_default()
}

/// A new stream starts with one shard, as DynamoDB starts a small table's
/// stream: a reader of `Shards[0]` sees every record, from the shard's
/// starting sequence number on.
#[tokio::test]
async fn a_new_stream_has_one_shard_that_holds_every_record() {
    let server = Server::start();
    let (client, streams, arn) =
        with_streamed_table(&server, "one-shard", StreamViewType::KeysOnly).await;
    let (shards, last) = shard_page(&streams, &arn, None, None, None).await;
    assert_eq!(shards.len(), 1, "{shards:?}");
    assert_eq!(last, None);
    let shard = &shards[0];
    assert_eq!(shard.parent_shard_id(), None);
    let range = shard.sequence_number_range().expect("range");
    assert_eq!(range.ending_sequence_number(), None, "the shard is open");
    let start = range.starting_sequence_number().expect("start").to_owned();
    let mut written: Vec<String> = (0..20).map(|i| format!("k{i:02}")).collect();
    for k in &written {
        put(&client, "one-shard", item(&[("pk", s(k))])).await;
    }
    let shard_id = shard.shard_id().expect("id").to_owned();
    let records = shard_records(
        &streams,
        &arn,
        &shard_id,
        ShardIteratorType::TrimHorizon,
        None,
    )
    .await;
    let mut keys: Vec<String> = records.iter().map(key).collect();
    keys.sort();
    written.sort();
    assert_eq!(keys, written, "Shards[0] holds every record");
    let first: u128 = seq(&records[0]);
    assert!(first >= start.parse::<u128>().expect("decimal"));
    let from_start = shard_records(
        &streams,
        &arn,
        &shard_id,
        ShardIteratorType::AtSequenceNumber,
        Some(&start),
    )
    .await;
    assert_eq!(from_start.len(), 20);
    let (after, _) = shard_page(&streams, &arn, None, None, None).await;
    assert_eq!(ids(&after), [shard_id], "writes open no other shard");
}

/// Shards are listed in lexical `ShardId` order, which is lineage order
/// (the Kinesis Client Library depends on it), across rollovers and a
/// restart; `Limit` / `ExclusiveStartShardId` page in that order, and an
/// `ExclusiveStartShardId` that names no shard is a position in it.
#[tokio::test]
async fn shards_are_listed_in_shard_id_order_across_rollovers_and_restarts() {
    let dir = tempfile::tempdir().expect("tempdir");
    let args = ["--stream-shard-rollover-ms", "50"];
    let mut server = Server::start_in(dir.path(), &args);
    let (client, streams, arn) =
        with_streamed_table(&server, "lineage", StreamViewType::KeysOnly).await;
    for i in 0..4 {
        tokio::time::sleep(Duration::from_millis(80)).await;
        put(&client, "lineage", item(&[("pk", s(&format!("k{i}")))])).await;
    }
    let check_lineage = |shards: &[Shard]| {
        let listed = ids(shards);
        let mut sorted = listed.clone();
        sorted.sort();
        assert_eq!(listed, sorted, "shards in lexical ShardId order");
        for (i, shard) in shards.iter().enumerate() {
            let parent = shard.parent_shard_id().map(str::to_owned);
            assert_eq!(parent, i.checked_sub(1).map(|p| listed[p].clone()));
            let open = shard
                .sequence_number_range()
                .and_then(|r| r.ending_sequence_number())
                .is_none();
            assert_eq!(open, i == shards.len() - 1, "only the last is open");
        }
    };
    let (before, _) = shard_page(&streams, &arn, None, None, None).await;
    assert!(before.len() >= 4, "{before:?}");
    check_lineage(&before);
    assert!(server.terminate(), "clean stop");
    let server = Server::start_in(dir.path(), &args);
    let client = server.client();
    let streams = server.streams_client();
    let (restarted, _) = shard_page(&streams, &arn, None, None, None).await;
    assert_eq!(ids(&restarted), ids(&before), "ids survive a restart");
    tokio::time::sleep(Duration::from_millis(80)).await;
    put(&client, "lineage", item(&[("pk", s("after"))])).await;
    let (all, last) = shard_page(&streams, &arn, None, None, None).await;
    assert_eq!(last, None);
    assert_eq!(all.len(), before.len() + 1);
    check_lineage(&all);
    let all = ids(&all);
    // Paging by two walks the same order.
    let mut paged = Vec::new();
    let mut start: Option<String> = None;
    for _ in 0..all.len() + 1 {
        let (page, last) = shard_page(&streams, &arn, Some(2), start.as_deref(), None).await;
        assert!(page.len() <= 2);
        paged.extend(ids(&page));
        match last {
            Some(last) => {
                assert_eq!(Some(&last), paged.last(), "the last shard of the page");
                start = Some(last);
            }
            None => break,
        }
    }
    assert_eq!(paged, all);
    let (none, last) = shard_page(&streams, &arn, None, all.last().map(String::as_str), None).await;
    assert!(none.is_empty() && last.is_none());
    // A shard id that names no shard is a position in the order.
    let between = format!("{}~", all[0]);
    let (rest, _) = shard_page(&streams, &arn, None, Some(&between), None).await;
    assert_eq!(ids(&rest), all[1..]);
    let garbage = "zzzzzzzzzzzzzzzzzzzzzzzzsfasdgagadfadfgagkjsdfsfsdjfjks";
    let (none, _) = shard_page(&streams, &arn, None, Some(garbage), None).await;
    assert!(none.is_empty());
    let err = service_error(
        streams
            .describe_stream()
            .stream_arn(&arn)
            .exclusive_start_shard_id("shardId-1")
            .send()
            .await,
    );
    assert_eq!(
        err,
        validation("1 validation error detected: Value 'shardId-1' at 'exclusiveStartShardId' failed to satisfy constraint: Member must have length greater than or equal to 28")
    );
}

/// `ShardFilter` `CHILD_SHARDS` lists the children of one shard, and
/// refuses a filter it cannot apply.
#[tokio::test]
async fn shard_filter_lists_the_children_of_a_shard() {
    let server = Server::start_with(&["--stream-shard-rollover-ms", "50"]);
    let (client, streams, arn) =
        with_streamed_table(&server, "children", StreamViewType::KeysOnly).await;
    for i in 0..3 {
        tokio::time::sleep(Duration::from_millis(80)).await;
        put(&client, "children", item(&[("pk", s(&format!("k{i}")))])).await;
    }
    let all = ids(&shard_page(&streams, &arn, None, None, None).await.0);
    assert!(all.len() >= 3, "{all:?}");
    let children_of = |id: &str| {
        ShardFilter::builder()
            .r#type(ShardFilterType::ChildShards)
            .shard_id(id)
            .build()
    };
    for pair in all.windows(2) {
        let (children, last) =
            shard_page(&streams, &arn, None, None, Some(children_of(&pair[0]))).await;
        assert_eq!(ids(&children), [pair[1].clone()]);
        assert_eq!(children[0].parent_shard_id(), Some(pair[0].as_str()));
        assert_eq!(last, None);
        // Paging applies to the filtered list.
        let (none, _) = shard_page(
            &streams,
            &arn,
            None,
            Some(&pair[1]),
            Some(children_of(&pair[0])),
        )
        .await;
        assert!(none.is_empty());
    }
    let open = all.last().expect("open shard");
    let (children, _) = shard_page(&streams, &arn, None, None, Some(children_of(open))).await;
    assert!(children.is_empty(), "an open shard has no children");
    let describe = |filter: ShardFilter| {
        streams
            .describe_stream()
            .stream_arn(&arn)
            .shard_filter(filter)
            .send()
    };
    assert_eq!(
        service_error(describe(children_of("shardId-00000000000000000001-00000000")).await),
        (
            "ResourceNotFoundException".to_owned(),
            "Requested resource not found: Shard does not exist".to_owned()
        )
    );
    assert_eq!(
        service_error(
            describe(
                ShardFilter::builder()
                    .r#type(ShardFilterType::from("foo"))
                    .shard_id(&all[0])
                    .build()
            )
            .await
        ),
        validation("1 validation error detected: Value 'foo' at 'shardFilter.type' failed to satisfy constraint: Member must satisfy enum value set: [CHILD_SHARDS]")
    );
    assert_eq!(
        service_error(describe(children_of("short")).await),
        validation("1 validation error detected: Value 'short' at 'shardFilter.shardId' failed to satisfy constraint: Member must have length greater than or equal to 28")
    );
    assert_eq!(
        service_error(
            describe(
                ShardFilter::builder()
                    .r#type(ShardFilterType::ChildShards)
                    .build()
            )
            .await
        ),
        validation("Must specify ShardId in ShardFilter when Type is CHILD_SHARDS")
    );
    assert_eq!(
        service_error(describe(ShardFilter::builder().shard_id(&all[0]).build()).await),
        validation("Must specify Type in ShardFilter")
    );
}

/// The errors of DescribeStream and GetShardIterator (of `shard`) for a
/// stream ARN that names no stream.
async fn arn_errors(streams: &Streams, arn: &str, shard: &str) -> [(String, String); 2] {
    let describe = service_error(streams.describe_stream().stream_arn(arn).send().await);
    let iterator = service_error(
        streams
            .get_shard_iterator()
            .stream_arn(arn)
            .shard_id(shard)
            .shard_iterator_type(ShardIteratorType::TrimHorizon)
            .send()
            .await,
    );
    [describe, iterator]
}

/// A stream ARN that does not parse is a ValidationException; a
/// well-formed one that names no stream is a ResourceNotFoundException.
#[tokio::test]
async fn malformed_stream_arns_are_invalid_and_unknown_ones_not_found() {
    let server = Server::start();
    let (_client, streams, arn) =
        with_streamed_table(&server, "arns", StreamViewType::KeysOnly).await;
    let shard = ids(&shard_page(&streams, &arn, None, None, None).await.0)[0].clone();
    let invalid = validation("Invalid StreamArn");
    let bad_label = format!("{}yesterday-at-noon", &arn[..arn.len() - 23]);
    for bad in [
        "sdfadfsdfnlfkajakfgjalksfgklasjklasdjfklasdfasdfgasf",
        bad_label.as_str(),
        "arn:aws:dynamodb:us-east-1:000000000000:table/x/stream/2026-01-01T00:00:00.000",
    ] {
        let errors = arn_errors(&streams, bad, &shard).await;
        assert_eq!(errors, [invalid.clone(), invalid.clone()], "{bad}");
    }
    let err = service_error(
        streams
            .list_streams()
            .table_name("arns")
            .exclusive_start_stream_arn("kossaapaaasdafsdaasdasdasdasasdasfadfadfasdasdas")
            .send()
            .await,
    );
    assert_eq!(err, invalid);
    let err = service_error(
        streams
            .describe_stream()
            .stream_arn("fake-stream")
            .send()
            .await,
    );
    assert_eq!(
        err,
        validation("1 validation error detected: Value 'fake-stream' at 'streamArn' failed to satisfy constraint: Member must have length greater than or equal to 37")
    );
    let label = &arn[arn.len() - 23..];
    for unknown in [
        format!("{}1999-01-01T00:00:00.000", &arn[..arn.len() - 23]),
        format!("arn:aws:dynamodb:us-east-1:000000000000:table/no-such-table/stream/{label}"),
        format!("arn:aws:dynamodb:eu-west-1:000000000000:table/arns/stream/{label}"),
        format!("arn:aws:dynamodb:us-east-1:123456789012:table/arns/stream/{label}"),
    ] {
        let not_found = (
            "ResourceNotFoundException".to_owned(),
            format!("Requested resource not found: Stream: {unknown} not found"),
        );
        let errors = arn_errors(&streams, &unknown, &shard).await;
        assert_eq!(errors, [not_found.clone(), not_found]);
    }
}

/// A table with a stream, answering CreateTable's errors (the name of a
/// table still being dropped) with a bounded retry.
async fn create_streamed_when_free(client: &Client, name: &str) {
    for _ in 0..100 {
        let created = streamed_table_request(client, name, Some(StreamViewType::NewImage))
            .send()
            .await;
        if created.is_ok() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("{name} was not free within 5 s");
}

async fn listed(streams: &Streams, table: Option<&str>, start: Option<&str>) -> Vec<String> {
    streams
        .list_streams()
        .set_table_name(table.map(str::to_owned))
        .set_exclusive_start_stream_arn(start.map(str::to_owned))
        .send()
        .await
        .expect("list streams")
        .streams()
        .iter()
        .filter_map(|s| s.stream_arn())
        .map(str::to_owned)
        .collect()
}

/// DynamoDB keeps a deleted table's stream for 24 hours: listed, described
/// as DISABLED with closed shards, its records readable, also after a
/// restart and next to the stream of a new table of the same name.
#[tokio::test]
async fn a_deleted_tables_stream_stays_readable_and_survives_a_restart() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut server = Server::start_in(dir.path(), &[]);
    let (client, streams, arn) =
        with_streamed_table(&server, "gone", StreamViewType::NewImage).await;
    for i in 0..3 {
        put(&client, "gone", item(&[("pk", s(&format!("k{i}")))])).await;
    }
    let shard = ids(&shard_page(&streams, &arn, None, None, None).await.0)[0].clone();
    let early = iterator(&streams, &arn, &shard, ShardIteratorType::TrimHorizon, None).await;
    client
        .delete_table()
        .table_name("gone")
        .send()
        .await
        .expect("delete");
    let check = |streams: Streams, arn: String, shard: String| async move {
        let d = description(&streams, &arn).await;
        assert_eq!(d.stream_status().map(|s| s.as_str()), Some("DISABLED"));
        assert_eq!(d.table_name(), Some("gone"));
        assert_eq!(d.stream_view_type().map(|v| v.as_str()), Some("NEW_IMAGE"));
        assert_eq!(
            d.key_schema()
                .iter()
                .map(|k| (k.attribute_name(), k.key_type().as_str()))
                .collect::<Vec<_>>(),
            [("pk", "HASH")]
        );
        assert_eq!(ids(d.shards()), std::slice::from_ref(&shard));
        assert!(d.shards()[0]
            .sequence_number_range()
            .and_then(|r| r.ending_sequence_number())
            .is_some());
        let records =
            shard_records(&streams, &arn, &shard, ShardIteratorType::TrimHorizon, None).await;
        assert_eq!(
            records.iter().map(key).collect::<Vec<_>>(),
            ["k0", "k1", "k2"]
        );
        assert!(listed(&streams, Some("gone"), None).await.contains(&arn));
        assert!(listed(&streams, None, None).await.contains(&arn));
    };
    check(streams.clone(), arn.clone(), shard.clone()).await;
    // An iterator from before the deletion reads to the end of the shard.
    let page = streams
        .get_records()
        .shard_iterator(early)
        .send()
        .await
        .expect("records");
    assert_eq!(page.records().len(), 3);
    assert_eq!(page.next_shard_iterator(), None, "the shard is closed");
    assert!(server.terminate(), "clean stop");
    let server = Server::start_in(dir.path(), &[]);
    let client = server.client();
    let streams = server.streams_client();
    check(streams.clone(), arn.clone(), shard.clone()).await;
    // A new table of the name has a stream of its own, listed first.
    create_streamed_when_free(&client, "gone").await;
    let new_arn = latest_arn(&client, "gone").await;
    assert_ne!(new_arn, arn);
    assert_eq!(
        listed(&streams, Some("gone"), None).await,
        [new_arn, arn.clone()]
    );
    check(streams.clone(), arn, shard).await;
}

/// ListStreams pages on from `ExclusiveStartStreamArn` even when that
/// stream no longer exists (here: its table was deleted and its retention
/// has passed, so it is gone), or never did.
#[tokio::test]
async fn list_streams_pages_on_from_a_stream_that_no_longer_exists() {
    let server = Server::start_with(&[
        "--stream-retention-ms",
        "300",
        "--ttl-sweep-interval-ms",
        "100",
    ]);
    let client = server.client();
    let streams = server.streams_client();
    let tables = ["page-a", "page-b", "page-c", "page-d", "page-e"];
    for t in tables {
        streamed_table(&client, t, Some(StreamViewType::KeysOnly)).await;
    }
    let mut arns = Vec::new();
    for t in tables {
        arns.push(latest_arn(&client, t).await);
    }
    // Limit 1 walks every stream, in table order.
    let mut walked = Vec::new();
    let mut start: Option<String> = None;
    for _ in 0..10 {
        let page = streams
            .list_streams()
            .limit(1)
            .set_exclusive_start_stream_arn(start.clone())
            .send()
            .await
            .expect("list");
        walked.extend(
            page.streams()
                .iter()
                .filter_map(|s| s.stream_arn())
                .map(str::to_owned),
        );
        start = page.last_evaluated_stream_arn().map(str::to_owned);
        if start.is_none() {
            break;
        }
    }
    assert_eq!(walked, arns);
    let first = streams.list_streams().limit(2).send().await.expect("list");
    let gone = first
        .last_evaluated_stream_arn()
        .expect("more follow")
        .to_owned();
    assert_eq!(gone, arns[1]);
    client
        .delete_table()
        .table_name("page-b")
        .send()
        .await
        .expect("delete");
    let mut went = false;
    for _ in 0..100 {
        if !listed(&streams, None, None).await.contains(&gone) {
            went = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(went, "the deleted table's stream outlived its retention");
    let err = service_error(streams.describe_stream().stream_arn(&gone).send().await);
    assert_eq!(
        err,
        (
            "ResourceNotFoundException".to_owned(),
            format!("Requested resource not found: Stream: {gone} not found")
        )
    );
    assert_eq!(listed(&streams, None, Some(&gone)).await, arns[2..]);
    // A stream that never existed is a position too.
    let label = &gone[gone.len() - 23..];
    let never = format!("arn:aws:dynamodb:us-east-1:000000000000:table/page-cc/stream/{label}");
    assert_eq!(listed(&streams, None, Some(&never)).await, arns[3..]);
    assert_eq!(
        listed(&streams, Some("page-d"), Some(&never)).await,
        arns[3..4]
    );
}
