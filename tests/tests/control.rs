//! End-to-end tests of throughput enforcement, TTL expiry, tags and the
//! table settings DescribeTable reports, against the real binary with the
//! official SDK. Messages are DynamoDB's
//! (`docs/research/capacity-ttl-tags.md`).

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, GlobalSecondaryIndex, KeySchemaElement, KeyType,
    OnDemandThroughput, Projection, ProjectionType, ProvisionedThroughput, PutRequest,
    ScalarAttributeType, SseSpecification, SseType, TableClass, Tag, TimeToLiveSpecification,
    TimeToLiveStatus, WriteRequest,
};
use aws_sdk_dynamodb::Client;
use tarn_tests::{get, hash_table, item, n, put, s, service_error, validation, Item, Server};

fn key(pk: &str) -> Item {
    item(&[("pk", s(pk))])
}

async fn provisioned_table(client: &Client, name: &str, read: i64, write: i64) {
    client
        .create_table()
        .table_name(name)
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
        .provisioned_throughput(
            ProvisionedThroughput::builder()
                .read_capacity_units(read)
                .write_capacity_units(write)
                .build()
                .expect("throughput"),
        )
        .send()
        .await
        .expect("create provisioned table");
}

const TABLE_THROTTLED: &str = "The level of configured provisioned throughput for the table was exceeded. Consider increasing your provisioning level with the UpdateTable API.";

#[tokio::test]
async fn a_5_wcu_table_written_at_50_per_second_throttles_once_its_burst_is_spent() {
    // Two seconds of burst: a full bucket holds 10 write units.
    let server = Server::start_with(&["--enforce-throughput", "--burst-seconds", "2"]);
    let client = server.client();
    provisioned_table(&client, "slow", 5, 5).await;
    let start = Instant::now();
    let mut outcomes = Vec::new();
    // 50 requests per second for 2 seconds.
    for i in 0..100u32 {
        let due = start + Duration::from_millis(20 * u64::from(i));
        tokio::time::sleep_until(due.into()).await;
        let r = client
            .put_item()
            .table_name("slow")
            .set_item(Some(key(&format!("k{i}"))))
            .send()
            .await;
        match r {
            Ok(_) => outcomes.push(true),
            Err(e) => {
                let (code, message) = service_error::<(), _>(Err(e));
                assert_eq!(
                    (code.as_str(), message.as_str()),
                    ("ProvisionedThroughputExceededException", TABLE_THROTTLED)
                );
                outcomes.push(false);
            }
        }
    }
    let elapsed = start.elapsed().as_secs_f64();
    let first_throttle = outcomes.iter().position(|ok| !ok).expect("some throttles");
    assert!(
        first_throttle >= 10,
        "throttled at request {first_throttle}, before the burst was spent"
    );
    assert!(
        first_throttle <= 20,
        "no throttle until request {first_throttle}"
    );
    // Burst plus refill at 5 per second, give or take a unit or two.
    let accepted = outcomes.iter().filter(|ok| **ok).count() as f64;
    let expected = 10.0 + 5.0 * elapsed;
    assert!(
        (accepted - expected).abs() <= 3.0,
        "{accepted} writes accepted in {elapsed:.2} s, expected about {expected:.1}"
    );

    // After a second of rest the bucket holds about 5 units: a batch of 25
    // writes what fits and returns the rest unprocessed.
    tokio::time::sleep(Duration::from_millis(1000)).await;
    let requests: Vec<WriteRequest> = (0..25)
        .map(|i| {
            WriteRequest::builder()
                .put_request(
                    PutRequest::builder()
                        .set_item(Some(key(&format!("b{i}"))))
                        .build()
                        .expect("put"),
                )
                .build()
        })
        .collect();
    let out = client
        .batch_write_item()
        .request_items("slow", requests)
        .send()
        .await
        .expect("a partly throttled batch is not an error");
    let unprocessed = out
        .unprocessed_items()
        .and_then(|m| m.get("slow"))
        .map_or(0, Vec::len);
    assert!(
        (17..=22).contains(&unprocessed),
        "{unprocessed} of 25 unprocessed"
    );
    let scan = client.scan().table_name("slow").send().await;
    // Reads have their own bucket (5 units, full).
    let scan = scan.expect("scan");
    let written_b = scan
        .items()
        .iter()
        .filter(|i| i["pk"].as_s().is_ok_and(|v| v.starts_with('b')))
        .count();
    assert_eq!(
        written_b,
        25 - unprocessed,
        "exactly the processed ones were written"
    );

    // With the bucket empty, a whole batch is throttled. The bucket keeps
    // refilling (5 units a second) while the calls above ran, so a batch
    // may still find a unit or two: each such batch is a success that
    // spends what it found, and the next finds less, until one finds none.
    let mut whole_batch_throttled = None;
    for attempt in 0..20 {
        let requests: Vec<WriteRequest> = (0..3)
            .map(|i| {
                WriteRequest::builder()
                    .put_request(
                        PutRequest::builder()
                            .set_item(Some(key(&format!("c{attempt}-{i}"))))
                            .build()
                            .expect("put"),
                    )
                    .build()
            })
            .collect();
        match client
            .batch_write_item()
            .request_items("slow", requests)
            .send()
            .await
        {
            Ok(out) => {
                let left = out
                    .unprocessed_items()
                    .and_then(|m| m.get("slow"))
                    .map_or(0, Vec::len);
                assert!(left < 3, "a batch with nothing processed must be an error");
            }
            Err(e) => {
                whole_batch_throttled = Some(service_error::<(), _>(Err(e)));
                break;
            }
        }
    }
    let err = whole_batch_throttled.expect("no batch was throttled whole in 20 tries");
    assert_eq!(err.0, "ProvisionedThroughputExceededException");
}

#[tokio::test]
async fn without_enforcement_nothing_is_throttled() {
    let server = Server::start();
    let client = server.client();
    provisioned_table(&client, "free", 1, 1).await;
    for i in 0..40 {
        put(&client, "free", key(&format!("k{i}"))).await;
    }
}

fn now_seconds() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock")
        .as_secs() as i64
}

async fn ttl_table(client: &Client) {
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
        .table_name("ttl")
        .billing_mode(BillingMode::PayPerRequest)
        .key_schema(el("pk", KeyType::Hash))
        .attribute_definitions(def("pk"))
        .attribute_definitions(def("g"))
        .global_secondary_indexes(
            GlobalSecondaryIndex::builder()
                .index_name("by-g")
                .key_schema(el("g", KeyType::Hash))
                .projection(
                    Projection::builder()
                        .projection_type(ProjectionType::KeysOnly)
                        .build(),
                )
                .build()
                .expect("gsi"),
        )
        .send()
        .await
        .expect("create");
}

async fn enable_ttl(
    client: &Client,
    attribute: &str,
    enabled: bool,
) -> Result<(), (String, String)> {
    client
        .update_time_to_live()
        .table_name("ttl")
        .time_to_live_specification(
            TimeToLiveSpecification::builder()
                .attribute_name(attribute)
                .enabled(enabled)
                .build()
                .expect("spec"),
        )
        .send()
        .await
        .map(|_| ())
        .map_err(|e| service_error::<(), _>(Err(e)))
}

/// Polls (bounded) until `pk` is gone from the table.
async fn wait_gone(client: &Client, pk: &str) -> bool {
    for _ in 0..100 {
        if get(client, "ttl", key(pk)).await.is_none() {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    false
}

#[tokio::test]
async fn expired_items_are_deleted_within_the_sweep_interval_and_stay_deleted() {
    let dir = tempfile::tempdir().expect("tempdir");
    let args = ["--ttl-sweep-interval-ms", "200"];
    let mut server = Server::start_in(dir.path(), &args);
    let client = server.client();
    ttl_table(&client).await;
    let now = now_seconds();
    let with_exp = |pk: &str, exp: aws_sdk_dynamodb::types::AttributeValue| {
        item(&[("pk", s(pk)), ("g", s("grp")), ("exp", exp)])
    };
    // Written before TTL is enabled: found by the backfill.
    put(
        &client,
        "ttl",
        with_exp("early-past", n(&(now - 100).to_string())),
    )
    .await;
    let desc = client
        .describe_time_to_live()
        .table_name("ttl")
        .send()
        .await
        .expect("describe ttl");
    assert_eq!(
        desc.time_to_live_description()
            .and_then(|d| d.time_to_live_status()),
        Some(&TimeToLiveStatus::Disabled)
    );
    enable_ttl(&client, "exp", true).await.expect("enable");
    put(&client, "ttl", with_exp("past", n(&(now - 10).to_string()))).await;
    put(
        &client,
        "ttl",
        with_exp("fractional", n(&format!("{}.75", now - 5))),
    )
    .await;
    put(
        &client,
        "ttl",
        with_exp("future", n(&(now + 3600).to_string())),
    )
    .await;
    put(
        &client,
        "ttl",
        with_exp("ancient", n(&(now - 6 * 365 * 24 * 3600).to_string())),
    )
    .await;
    put(&client, "ttl", with_exp("text", s("1"))).await;
    put(&client, "ttl", item(&[("pk", s("none")), ("g", s("grp"))])).await;
    // Expired but not yet swept items are still readable, as in DynamoDB;
    // with a 200 ms sweep this read may come too late, so only check that
    // they go.
    for pk in ["early-past", "past", "fractional"] {
        assert!(wait_gone(&client, pk).await, "{pk} was not deleted");
    }
    for pk in ["future", "ancient", "text", "none"] {
        assert!(
            get(&client, "ttl", key(pk)).await.is_some(),
            "{pk} was deleted"
        );
    }
    // The deletes went through the index too.
    let q = client
        .query()
        .table_name("ttl")
        .index_name("by-g")
        .key_condition_expression("g = :g")
        .expression_attribute_values(":g", s("grp"))
        .send()
        .await
        .expect("query index");
    assert_eq!(q.count(), 4);
    // The rules of UpdateTimeToLive.
    assert_eq!(
        enable_ttl(&client, "exp", true).await,
        Err(validation("TimeToLive is already enabled"))
    );
    assert_eq!(
        enable_ttl(&client, "other", true).await,
        Err(validation(
            "TimeToLive is active on a different AttributeName: current AttributeName is exp"
        ))
    );
    // The deletes survive a restart, and expiry goes on after it.
    assert!(server.terminate(), "clean stop");
    let server = Server::start_in(dir.path(), &args);
    let client = server.client();
    assert_eq!(get(&client, "ttl", key("past")).await, None);
    assert!(get(&client, "ttl", key("future")).await.is_some());
    put(
        &client,
        "ttl",
        with_exp("after-restart", n(&(now - 1).to_string())),
    )
    .await;
    assert!(
        wait_gone(&client, "after-restart").await,
        "not deleted after restart"
    );
    // Disabled: nothing more expires, and DescribeTimeToLive forgets the
    // attribute.
    enable_ttl(&client, "exp", false).await.expect("disable");
    assert_eq!(
        enable_ttl(&client, "exp", false).await,
        Err(validation("TimeToLive is already disabled"))
    );
    put(&client, "ttl", with_exp("kept", n(&(now - 1).to_string()))).await;
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert!(get(&client, "ttl", key("kept")).await.is_some());
    let desc = client
        .describe_time_to_live()
        .table_name("ttl")
        .send()
        .await
        .expect("describe ttl");
    let d = desc.time_to_live_description().expect("description");
    assert_eq!(d.time_to_live_status(), Some(&TimeToLiveStatus::Disabled));
    assert_eq!(d.attribute_name(), None);
}

fn arn(table: &str) -> String {
    format!("arn:aws:dynamodb:us-east-1:000000000000:table/{table}")
}

fn tag(k: &str, v: &str) -> Tag {
    Tag::builder().key(k).value(v).build().expect("tag")
}

async fn tags_of(client: &Client, table: &str) -> Vec<(String, String)> {
    let out = client
        .list_tags_of_resource()
        .resource_arn(arn(table))
        .send()
        .await
        .expect("list tags");
    let mut tags: Vec<(String, String)> = out
        .tags()
        .iter()
        .map(|t| (t.key().to_owned(), t.value().to_owned()))
        .collect();
    tags.sort();
    tags
}

#[tokio::test]
async fn tags_are_set_merged_removed_and_validated() {
    let server = Server::start();
    let client = server.client();
    client
        .create_table()
        .table_name("tagged")
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
        .tags(tag("team", "audio"))
        .send()
        .await
        .expect("create with tags");
    assert_eq!(
        tags_of(&client, "tagged").await,
        [("team".to_owned(), "audio".to_owned())]
    );
    client
        .tag_resource()
        .resource_arn(arn("tagged"))
        .tags(tag("team", "video"))
        .tags(tag("env", ""))
        .send()
        .await
        .expect("tag");
    assert_eq!(
        tags_of(&client, "tagged").await,
        [
            ("env".to_owned(), "".to_owned()),
            ("team".to_owned(), "video".to_owned())
        ]
    );
    client
        .untag_resource()
        .resource_arn(arn("tagged"))
        .tag_keys("team")
        .tag_keys("absent")
        .send()
        .await
        .expect("untag");
    assert_eq!(
        tags_of(&client, "tagged").await,
        [("env".to_owned(), "".to_owned())]
    );
    // Errors, each changing nothing.
    let tag_error = |tags: Vec<Tag>, arn: String| {
        let client = client.clone();
        async move {
            service_error(
                client
                    .tag_resource()
                    .resource_arn(arn)
                    .set_tags(Some(tags))
                    .send()
                    .await,
            )
        }
    };
    assert_eq!(
        tag_error(vec![tag("aws:x", "1")], arn("tagged")).await,
        validation("Tag Key cannot be prefixed with aws:, Key: aws:x")
    );
    assert_eq!(
        tag_error(vec![tag("a#b", "1")], arn("tagged")).await,
        validation("The Tag Key provided is invalid, Key: a#b")
    );
    assert_eq!(
        tag_error(vec![tag("k", "1"), tag("k", "2")], arn("tagged")).await,
        validation("Duplicate Tag Keys provided as input: Duplicate Tag Key found k")
    );
    let fifty: Vec<Tag> = (0..50).map(|i| tag(&format!("k{i}"), "v")).collect();
    assert_eq!(
        tag_error(fifty, arn("tagged")).await,
        validation("Number of Tags exceed the current limit for the provided ResourceArn"),
        "49 new tags plus 'env' is 51"
    );
    assert_eq!(
        tag_error(vec![tag("k", "v")], arn("missing")).await,
        (
            "ResourceNotFoundException".to_owned(),
            format!(
                "Requested resource not found: ResourceArn: {} not found",
                arn("missing")
            )
        )
    );
    assert_eq!(
        tag_error(vec![tag("k", "v")], "tagged".to_owned()).await,
        validation(
            "One or more parameter values were invalid: ARNs must start with 'arn:': tagged"
        )
    );
    let other_region = "arn:aws:dynamodb:eu-west-1:000000000000:table/tagged".to_owned();
    assert_eq!(
        tag_error(vec![tag("k", "v")], other_region.clone()).await,
        validation(&format!(
            "Invalid TableArn: Invalid ResourceArn provided as input {other_region}"
        ))
    );
    assert_eq!(
        tags_of(&client, "tagged").await,
        [("env".to_owned(), "".to_owned())]
    );
}

#[tokio::test]
async fn table_settings_are_described_and_deletion_protection_holds() {
    let server = Server::start();
    let client = server.client();
    client
        .create_table()
        .table_name("settings")
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
        .deletion_protection_enabled(true)
        .table_class(TableClass::StandardInfrequentAccess)
        .sse_specification(
            SseSpecification::builder()
                .enabled(true)
                .sse_type(SseType::Kms)
                .kms_master_key_id("my-key")
                .build(),
        )
        .on_demand_throughput(
            OnDemandThroughput::builder()
                .max_read_request_units(100)
                .build(),
        )
        .send()
        .await
        .expect("create");
    let t = client
        .describe_table()
        .table_name("settings")
        .send()
        .await
        .expect("describe");
    let t = t.table().expect("table");
    assert_eq!(t.deletion_protection_enabled(), Some(true));
    assert_eq!(
        t.table_class_summary().and_then(|c| c.table_class()),
        Some(&TableClass::StandardInfrequentAccess)
    );
    let sse = t.sse_description().expect("SSEDescription");
    assert_eq!(
        sse.kms_master_key_arn(),
        Some("arn:aws:kms:us-east-1:000000000000:key/my-key")
    );
    assert_eq!(
        t.on_demand_throughput()
            .map(|o| (o.max_read_request_units(), o.max_write_request_units())),
        Some((Some(100), None))
    );
    let err = service_error(client.delete_table().table_name("settings").send().await);
    assert_eq!(
        err,
        validation("Resource cannot be deleted as it is currently protected against deletion. Disable deletion protection first.")
    );
    let err = service_error(
        client
            .update_table()
            .table_name("settings")
            .deletion_protection_enabled(false)
            .table_class(TableClass::Standard)
            .send()
            .await,
    );
    assert_eq!(
        err,
        validation("One or more parameter values were invalid: DeletionProtection modification must be the only operation in the request")
    );
    client
        .update_table()
        .table_name("settings")
        .deletion_protection_enabled(false)
        .send()
        .await
        .expect("unprotect");
    let updated = client
        .update_table()
        .table_name("settings")
        .table_class(TableClass::Standard)
        .send()
        .await
        .expect("class");
    let summary = updated
        .table_description()
        .and_then(|t| t.table_class_summary())
        .expect("summary");
    assert_eq!(summary.table_class(), Some(&TableClass::Standard));
    assert!(summary.last_update_date_time().is_some());
    client
        .delete_table()
        .table_name("settings")
        .send()
        .await
        .expect("delete once unprotected");
    // A table created plainly reports none of these.
    hash_table(&client, "plain").await;
    let t = client
        .describe_table()
        .table_name("plain")
        .send()
        .await
        .expect("describe");
    let t = t.table().expect("table");
    assert_eq!(t.deletion_protection_enabled(), Some(false));
    assert!(t.table_class_summary().is_none() && t.sse_description().is_none());
    assert!(t.on_demand_throughput().is_none());
}

#[tokio::test]
async fn describe_limits_and_endpoints_answer_like_dynamodb() {
    let server = Server::start();
    let client = server.client();
    let limits = client.describe_limits().send().await.expect("limits");
    assert_eq!(
        (
            limits.account_max_read_capacity_units(),
            limits.account_max_write_capacity_units(),
            limits.table_max_read_capacity_units(),
            limits.table_max_write_capacity_units()
        ),
        (Some(80_000), Some(80_000), Some(40_000), Some(40_000))
    );
    let endpoints = client.describe_endpoints().send().await.expect("endpoints");
    let e = endpoints.endpoints();
    assert_eq!(e.len(), 1);
    assert_eq!(
        Some(e[0].address()),
        server.endpoint.strip_prefix("http://")
    );
    assert_eq!(e[0].cache_period_in_minutes(), 1440);
}
