//! End-to-end tests of on-demand backups and point-in-time recovery
//! (CreateBackup, DescribeBackup, ListBackups, DeleteBackup,
//! RestoreTableFromBackup, DescribeContinuousBackups,
//! UpdateContinuousBackups, RestoreTableToPointInTime) against the real
//! `tarn` binary, with the official SDK. Messages and shapes:
//! `docs/research/backups-and-lifecycle.md`.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use aws_sdk_dynamodb::primitives::DateTime;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, BackupStatus, BackupType, BackupTypeFilter, BillingMode,
    ContinuousBackupsDescription, ContinuousBackupsStatus, GlobalSecondaryIndex, KeySchemaElement,
    KeyType, LocalSecondaryIndex, PointInTimeRecoveryDescription, PointInTimeRecoverySpecification,
    PointInTimeRecoveryStatus, Projection, ProjectionType, ProvisionedThroughput,
    ScalarAttributeType, StreamSpecification, StreamViewType, TableDescription, TableStatus,
};
use aws_sdk_dynamodb::Client;
use tarn_tests::{canonical, item, n, raw_op, s, service_error, validation, Item, Server};

/// Bound of every polling loop: 600 x 50 ms = 30 s.
const POLL_ATTEMPTS_MAX: usize = 600;
const POLL_INTERVAL: Duration = Duration::from_millis(50);

const ARN_PREFIX: &str = "arn:aws:dynamodb:us-east-1:000000000000:table/";

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

fn projection(ty: ProjectionType) -> Projection {
    Projection::builder().projection_type(ty).build()
}

fn error(code: &str, message: &str) -> (String, String) {
    (code.to_owned(), message.to_owned())
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock after epoch")
        .as_millis() as i64
}

fn secs(t: Option<&DateTime>) -> f64 {
    t.expect("timestamp").as_secs_f64()
}

/// A PAY_PER_REQUEST table keyed by `pk` (S) and `sk` (N), with a global
/// index on `g`, a local index on `l`, a stream and TTL.
async fn rich_table(client: &Client, name: &str) {
    client
        .create_table()
        .table_name(name)
        .billing_mode(BillingMode::PayPerRequest)
        .key_schema(key("pk", KeyType::Hash))
        .key_schema(key("sk", KeyType::Range))
        .attribute_definitions(def("pk", ScalarAttributeType::S))
        .attribute_definitions(def("sk", ScalarAttributeType::N))
        .attribute_definitions(def("g", ScalarAttributeType::S))
        .attribute_definitions(def("l", ScalarAttributeType::S))
        .global_secondary_indexes(
            GlobalSecondaryIndex::builder()
                .index_name("byG")
                .key_schema(key("g", KeyType::Hash))
                .projection(projection(ProjectionType::All))
                .build()
                .expect("gsi"),
        )
        .local_secondary_indexes(
            LocalSecondaryIndex::builder()
                .index_name("byL")
                .key_schema(key("pk", KeyType::Hash))
                .key_schema(key("l", KeyType::Range))
                .projection(projection(ProjectionType::KeysOnly))
                .build()
                .expect("lsi"),
        )
        .stream_specification(
            StreamSpecification::builder()
                .stream_enabled(true)
                .stream_view_type(StreamViewType::NewImage)
                .build()
                .expect("stream"),
        )
        .send()
        .await
        .expect("create rich table");
    client
        .update_time_to_live()
        .table_name(name)
        .time_to_live_specification(
            aws_sdk_dynamodb::types::TimeToLiveSpecification::builder()
                .enabled(true)
                .attribute_name("expires")
                .build()
                .expect("ttl"),
        )
        .send()
        .await
        .expect("enable ttl");
}

fn row(i: usize, version: &str) -> Item {
    item(&[
        ("pk", s(&format!("p{}", i % 10))),
        ("sk", n(&i.to_string())),
        ("g", s(&format!("g{}", i % 3))),
        ("l", s(&format!("l{i:04}"))),
        ("v", s(version)),
    ])
}

fn row_key(i: usize) -> Item {
    item(&[
        ("pk", s(&format!("p{}", i % 10))),
        ("sk", n(&i.to_string())),
    ])
}

/// Every item of a table (consistent scan, all pages), canonical and
/// sorted, so that two tables compare by content.
async fn contents(client: &Client, table: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut start = None;
    for _ in 0..1000 {
        let page = client
            .scan()
            .table_name(table)
            .consistent_read(true)
            .set_exclusive_start_key(start)
            .send()
            .await
            .expect("scan");
        for i in page.items() {
            let mut pairs: Vec<(String, String)> = i
                .iter()
                .map(|(k, v)| (k.clone(), format!("{:?}", canonical(v))))
                .collect();
            pairs.sort();
            out.push(format!("{pairs:?}"));
        }
        start = page.last_evaluated_key().cloned();
        if start.is_none() {
            out.sort();
            return out;
        }
    }
    panic!("scan of {table} did not end");
}

async fn describe(client: &Client, table: &str) -> TableDescription {
    client
        .describe_table()
        .table_name(table)
        .send()
        .await
        .expect("describe")
        .table
        .expect("table")
}

async fn wait_active(client: &Client, table: &str) -> TableDescription {
    for _ in 0..POLL_ATTEMPTS_MAX {
        let t = describe(client, table).await;
        if t.table_status() == Some(&TableStatus::Active) {
            return t;
        }
        assert_eq!(t.table_status(), Some(&TableStatus::Creating), "{t:?}");
        tokio::time::sleep(POLL_INTERVAL).await;
    }
    panic!("{table} not ACTIVE within 30 s");
}

async fn wait_available(client: &Client, arn: &str) {
    for _ in 0..POLL_ATTEMPTS_MAX {
        let d = client
            .describe_backup()
            .backup_arn(arn)
            .send()
            .await
            .expect("describe backup");
        let status = d
            .backup_description()
            .and_then(|b| b.backup_details())
            .map(|d| d.backup_status().clone());
        if status == Some(BackupStatus::Available) {
            return;
        }
        assert_eq!(status, Some(BackupStatus::Creating));
        tokio::time::sleep(POLL_INTERVAL).await;
    }
    panic!("backup {arn} not AVAILABLE within 30 s");
}

async fn backup(client: &Client, table: &str, name: &str) -> String {
    client
        .create_backup()
        .table_name(table)
        .backup_name(name)
        .send()
        .await
        .expect("create backup")
        .backup_details()
        .expect("details")
        .backup_arn()
        .to_owned()
}

/// UpdateContinuousBackups, which must succeed; returns the new
/// PointInTimeRecoveryDescription.
async fn set_pitr(
    client: &Client,
    table: &str,
    enabled: bool,
    days: Option<i32>,
) -> PointInTimeRecoveryDescription {
    let out = client
        .update_continuous_backups()
        .table_name(table)
        .point_in_time_recovery_specification(
            PointInTimeRecoverySpecification::builder()
                .point_in_time_recovery_enabled(enabled)
                .set_recovery_period_in_days(days)
                .build()
                .expect("spec"),
        )
        .send()
        .await
        .expect("update continuous backups");
    pitr_of(out.continuous_backups_description())
}

async fn enable_pitr(client: &Client, table: &str, days: Option<i32>) {
    set_pitr(client, table, true, days).await;
}

fn pitr_of(c: Option<&ContinuousBackupsDescription>) -> PointInTimeRecoveryDescription {
    let c = c.expect("continuous backups description");
    assert_eq!(
        c.continuous_backups_status(),
        &ContinuousBackupsStatus::Enabled
    );
    c.point_in_time_recovery_description()
        .cloned()
        .expect("point-in-time recovery description")
}

async fn describe_pitr(client: &Client, table: &str) -> PointInTimeRecoveryDescription {
    let out = client
        .describe_continuous_backups()
        .table_name(table)
        .send()
        .await
        .expect("describe continuous backups");
    pitr_of(out.continuous_backups_description())
}

/// Restores backup `arn` as `target`, waits until it is ACTIVE and
/// returns its contents.
async fn restored_from_backup(client: &Client, arn: &str, target: &str) -> Vec<String> {
    client
        .restore_table_from_backup()
        .backup_arn(arn)
        .target_table_name(target)
        .send()
        .await
        .expect("restore from backup");
    wait_active(client, target).await;
    contents(client, target).await
}

/// Restores `source` as it was at `point` (`None`: the latest time) as
/// `target`, waits until it is ACTIVE and returns its contents.
async fn restored_to_point(
    client: &Client,
    source: &str,
    target: &str,
    point: Option<DateTime>,
) -> Vec<String> {
    client
        .restore_table_to_point_in_time()
        .source_table_name(source)
        .target_table_name(target)
        .set_restore_date_time(point)
        .set_use_latest_restorable_time(point.is_none().then_some(true))
        .send()
        .await
        .expect("restore to a point in time");
    wait_active(client, target).await;
    contents(client, target).await
}

// ---- continuous backups ----

#[tokio::test]
async fn continuous_backups_are_described_and_switched_on_and_off() {
    let server = Server::start();
    let client = server.client();
    tarn_tests::hash_table(&client, "pitr").await;
    let p = describe_pitr(&client, "pitr").await;
    assert_eq!(
        p.point_in_time_recovery_status(),
        Some(&PointInTimeRecoveryStatus::Disabled)
    );
    assert_eq!(p.earliest_restorable_date_time(), None);
    assert_eq!(p.recovery_period_in_days(), None);

    let before = now_ms() as f64 / 1000.0;
    let p = set_pitr(&client, &format!("{ARN_PREFIX}pitr"), true, None).await;
    assert_eq!(
        p.point_in_time_recovery_status(),
        Some(&PointInTimeRecoveryStatus::Enabled)
    );
    assert_eq!(p.recovery_period_in_days(), Some(35));
    let earliest = secs(p.earliest_restorable_date_time());
    let latest = secs(p.latest_restorable_date_time());
    assert!(earliest >= before - 0.01 && earliest <= latest, "{p:?}");
    assert!(latest <= now_ms() as f64 / 1000.0 + 0.01, "{p:?}");

    // Enabling again changes only the period; the window stays.
    enable_pitr(&client, "pitr", Some(7)).await;
    let p = describe_pitr(&client, "pitr").await;
    assert_eq!(p.recovery_period_in_days(), Some(7));
    assert_eq!(secs(p.earliest_restorable_date_time()), earliest);

    let p = set_pitr(&client, "pitr", false, None).await;
    assert_eq!(
        p.point_in_time_recovery_status(),
        Some(&PointInTimeRecoveryStatus::Disabled)
    );
    assert_eq!(p.latest_restorable_date_time(), None);
}

#[tokio::test]
async fn continuous_backups_refuse_missing_tables_and_bad_specifications() {
    let server = Server::start();
    let client = server.client();
    tarn_tests::hash_table(&client, "pitr").await;
    assert_eq!(
        service_error(
            client
                .describe_continuous_backups()
                .table_name("nope")
                .send()
                .await
        ),
        error("TableNotFoundException", "Table not found: nope")
    );
    let spec = |enabled: bool, days: Option<i32>| {
        PointInTimeRecoverySpecification::builder()
            .point_in_time_recovery_enabled(enabled)
            .set_recovery_period_in_days(days)
            .build()
            .expect("spec")
    };
    assert_eq!(
        service_error(
            client
                .update_continuous_backups()
                .table_name("nope")
                .point_in_time_recovery_specification(spec(true, None))
                .send()
                .await
        ),
        error("TableNotFoundException", "Table not found: nope")
    );
    for (days, constraint) in [
        (0, "Member must have value greater than or equal to 1"),
        (36, "Member must have value less than or equal to 35"),
    ] {
        assert_eq!(
            service_error(
                client
                    .update_continuous_backups()
                    .table_name("pitr")
                    .point_in_time_recovery_specification(spec(true, Some(days)))
                    .send()
                    .await
            ),
            validation(&format!("1 validation error detected: Value '{days}' at 'pointInTimeRecoverySpecification.recoveryPeriodInDays' failed to satisfy constraint: {constraint}"))
        );
    }
    assert_eq!(
        service_error(
            client
                .update_continuous_backups()
                .table_name("pitr")
                .point_in_time_recovery_specification(spec(false, Some(3)))
                .send()
                .await
        ),
        validation("One or more parameter values were invalid: RecoveryPeriodInDays can only be specified when PointInTimeRecoveryEnabled is true")
    );
    // What the SDK cannot send.
    let r = raw_op(
        &server,
        "UpdateContinuousBackups",
        r#"{"TableName":"pitr"}"#,
    )
    .await;
    assert_eq!(r.status, 400);
    assert_eq!(
        r.body,
        tarn_tests::validation_body("1 validation error detected: Value null at 'pointInTimeRecoverySpecification' failed to satisfy constraint: Member must not be null")
    );
    let r = raw_op(
        &server,
        "UpdateContinuousBackups",
        r#"{"TableName":"pitr","PointInTimeRecoverySpecification":{}}"#,
    )
    .await;
    assert_eq!(
        r.body,
        tarn_tests::validation_body("1 validation error detected: Value null at 'pointInTimeRecoverySpecification.pointInTimeRecoveryEnabled' failed to satisfy constraint: Member must not be null")
    );
    let r = raw_op(&server, "DescribeContinuousBackups", "{}").await;
    assert_eq!(
        r.body,
        tarn_tests::validation_body("1 validation error detected: Value null at 'tableName' failed to satisfy constraint: Member must not be null")
    );
    // Nothing changed.
    assert_eq!(
        describe_pitr(&client, "pitr")
            .await
            .point_in_time_recovery_status(),
        Some(&PointInTimeRecoveryStatus::Disabled)
    );
}

// ---- on-demand backups ----

#[tokio::test]
async fn a_backup_is_created_described_listed_and_deleted() {
    let server = Server::start();
    let client = server.client();
    rich_table(&client, "music").await;
    tarn_tests::batch_put(&client, "music", (0..40).map(|i| row(i, "v1"))).await;
    let table = describe(&client, "music").await;
    let before = now_ms() as f64 / 1000.0;
    let out = client
        .create_backup()
        .table_name("music")
        .backup_name("nightly.1")
        .send()
        .await
        .expect("create backup");
    let d = out.backup_details().expect("details");
    let arn = d.backup_arn().to_owned();
    assert!(
        arn.starts_with(&format!("{ARN_PREFIX}music/backup/")),
        "{arn}"
    );
    let suffix = &arn[format!("{ARN_PREFIX}music/backup/").len()..];
    let (ms, hex) = suffix.split_once('-').expect("ms-hex");
    assert!(
        ms.len() == 14 && ms.bytes().all(|b| b.is_ascii_digit()),
        "{arn}"
    );
    assert!(
        hex.len() == 8 && hex.bytes().all(|b| b.is_ascii_hexdigit()),
        "{arn}"
    );
    assert_eq!(d.backup_name(), "nightly.1");
    assert_eq!(d.backup_type(), &BackupType::User);
    assert!(matches!(
        d.backup_status(),
        BackupStatus::Creating | BackupStatus::Available
    ));
    let created = d.backup_creation_date_time().as_secs_f64();
    assert!(created >= before - 0.01 && created <= now_ms() as f64 / 1000.0 + 0.01);
    assert_eq!(d.backup_expiry_date_time(), None);
    wait_available(&client, &arn).await;

    let out = client
        .describe_backup()
        .backup_arn(&arn)
        .send()
        .await
        .expect("describe backup");
    let b = out.backup_description().expect("description");
    let details = b.backup_details().expect("details");
    assert_eq!(details.backup_arn(), arn);
    assert_eq!(details.backup_status(), &BackupStatus::Available);
    assert_eq!(details.backup_creation_date_time().as_secs_f64(), created);
    let src = b.source_table_details().expect("source");
    assert_eq!(src.table_name(), "music");
    assert_eq!(Some(src.table_id()), table.table_id());
    assert_eq!(src.table_arn(), table.table_arn());
    assert_eq!(src.key_schema(), table.key_schema());
    assert_eq!(src.item_count(), Some(40));
    assert_eq!(src.table_size_bytes(), table.table_size_bytes());
    assert_eq!(src.billing_mode(), Some(&BillingMode::PayPerRequest));
    assert_eq!(
        src.table_creation_date_time().as_secs_f64(),
        secs(table.creation_date_time())
    );
    let features = b.source_table_feature_details().expect("features");
    let gsi = &features.global_secondary_indexes()[0];
    assert_eq!(gsi.index_name(), Some("byG"));
    assert_eq!(gsi.key_schema(), &[key("g", KeyType::Hash)]);
    assert_eq!(
        gsi.projection().and_then(|p| p.projection_type()),
        Some(&ProjectionType::All)
    );
    let lsi = &features.local_secondary_indexes()[0];
    assert_eq!(lsi.index_name(), Some("byL"));
    assert_eq!(
        features
            .stream_description()
            .and_then(|s| s.stream_view_type()),
        Some(&StreamViewType::NewImage)
    );
    assert_eq!(
        features
            .time_to_live_description()
            .and_then(|t| t.attribute_name()),
        Some("expires")
    );

    let listed = client.list_backups().send().await.expect("list");
    let summaries = listed.backup_summaries();
    assert_eq!(summaries.len(), 1);
    let sum = &summaries[0];
    assert_eq!(sum.backup_arn(), Some(arn.as_str()));
    assert_eq!(sum.backup_name(), Some("nightly.1"));
    assert_eq!(sum.table_name(), Some("music"));
    assert_eq!(sum.table_id(), table.table_id());
    assert_eq!(sum.table_arn(), table.table_arn());
    assert_eq!(sum.backup_status(), Some(&BackupStatus::Available));
    assert_eq!(sum.backup_type(), Some(&BackupType::User));
    assert_eq!(listed.last_evaluated_backup_arn(), None);

    let out = client
        .delete_backup()
        .backup_arn(&arn)
        .send()
        .await
        .expect("delete backup");
    let d = out
        .backup_description()
        .and_then(|b| b.backup_details())
        .expect("details");
    assert_eq!(d.backup_status(), &BackupStatus::Deleted);
    assert_eq!(d.backup_arn(), arn);
    let gone = error(
        "BackupNotFoundException",
        &format!("Backup not found: {arn}"),
    );
    assert_eq!(
        service_error(client.describe_backup().backup_arn(&arn).send().await),
        gone
    );
    assert_eq!(
        service_error(client.delete_backup().backup_arn(&arn).send().await),
        gone
    );
    assert_eq!(
        service_error(
            client
                .restore_table_from_backup()
                .backup_arn(&arn)
                .target_table_name("back")
                .send()
                .await
        ),
        gone
    );
    let listed = client.list_backups().send().await.expect("list");
    assert!(listed.backup_summaries().is_empty());
}

#[tokio::test]
async fn backup_requests_are_validated_and_name_missing_things() {
    let server = Server::start();
    let client = server.client();
    tarn_tests::hash_table(&client, "here").await;
    assert_eq!(
        service_error(
            client
                .create_backup()
                .table_name("nope")
                .backup_name("bk1")
                .send()
                .await
        ),
        error("TableNotFoundException", "Table not found: nope")
    );
    assert_eq!(
        service_error(
            client
                .create_backup()
                .table_name("here")
                .backup_name("a b")
                .send()
                .await
        ),
        validation("1 validation error detected: Value 'a b' at 'backupName' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+")
    );
    assert_eq!(
        service_error(
            client
                .create_backup()
                .table_name("here")
                .backup_name("ab")
                .send()
                .await
        ),
        validation("1 validation error detected: Value 'ab' at 'backupName' failed to satisfy constraint: Member must have length greater than or equal to 3")
    );
    assert_eq!(
        service_error(client.describe_backup().backup_arn("arn:short").send().await),
        validation("1 validation error detected: Value 'arn:short' at 'backupArn' failed to satisfy constraint: Member must have length greater than or equal to 37")
    );
    let unknown = format!("{ARN_PREFIX}here/backup/01700000000000-0000abcd");
    assert_eq!(
        service_error(client.describe_backup().backup_arn(&unknown).send().await),
        error(
            "BackupNotFoundException",
            &format!("Backup not found: {unknown}")
        )
    );
    let r = raw_op(&server, "CreateBackup", r#"{"TableName":"here"}"#).await;
    assert_eq!(r.status, 400);
    assert_eq!(
        r.body,
        tarn_tests::validation_body("1 validation error detected: Value null at 'backupName' failed to satisfy constraint: Member must not be null")
    );
    // A well-formed ARN of a real backup, but under another table's name.
    let arn = backup(&client, "here", "bk1").await;
    wait_available(&client, &arn).await;
    let moved = arn.replace("/here/", "/there/");
    assert_eq!(
        service_error(client.describe_backup().backup_arn(&moved).send().await),
        error(
            "BackupNotFoundException",
            &format!("Backup not found: {moved}")
        )
    );
    assert_eq!(
        service_error(
            client
                .restore_table_from_backup()
                .backup_arn(&arn)
                .target_table_name("here")
                .send()
                .await
        ),
        error("TableAlreadyExistsException", "Table already exists: here")
    );
    let listed = client.list_tables().send().await.expect("list tables");
    assert_eq!(listed.table_names(), &["here".to_owned()]);
}

#[tokio::test]
async fn list_backups_pages_and_filters() {
    let server = Server::start();
    let client = server.client();
    tarn_tests::hash_table(&client, "t-a").await;
    tarn_tests::hash_table(&client, "t-b").await;
    let mut arns = Vec::new();
    let mut times = Vec::new();
    for (i, table) in ["t-a", "t-b", "t-a", "t-b", "t-a"].iter().enumerate() {
        let arn = backup(&client, table, &format!("b{i}.x")).await;
        wait_available(&client, &arn).await;
        let created = client
            .describe_backup()
            .backup_arn(&arn)
            .send()
            .await
            .expect("describe")
            .backup_description()
            .and_then(|b| b.backup_details())
            .map(|d| *d.backup_creation_date_time())
            .expect("time");
        arns.push(arn);
        times.push(created);
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // Pages of two, in creation order, chained by LastEvaluatedBackupArn.
    let mut seen = Vec::new();
    let mut start: Option<String> = None;
    for page_no in 0..5 {
        let out = client
            .list_backups()
            .limit(2)
            .set_exclusive_start_backup_arn(start.clone())
            .send()
            .await
            .expect("list page");
        seen.extend(
            out.backup_summaries()
                .iter()
                .map(|b| b.backup_arn().expect("arn").to_owned()),
        );
        start = out.last_evaluated_backup_arn().map(str::to_owned);
        if start.is_none() {
            assert_eq!(page_no, 2, "three pages of 2, 2 and 1");
            break;
        }
    }
    assert_eq!(seen, arns);
    // By table, by name or ARN.
    let of = |out: &aws_sdk_dynamodb::operation::list_backups::ListBackupsOutput| -> Vec<String> {
        out.backup_summaries()
            .iter()
            .map(|b| b.backup_arn().expect("arn").to_owned())
            .collect()
    };
    let out = client
        .list_backups()
        .table_name("t-b")
        .send()
        .await
        .expect("by table");
    assert_eq!(of(&out), [arns[1].clone(), arns[3].clone()]);
    let out = client
        .list_backups()
        .table_name(format!("{ARN_PREFIX}t-a"))
        .send()
        .await
        .expect("by table ARN");
    assert_eq!(
        of(&out),
        [arns[0].clone(), arns[2].clone(), arns[4].clone()]
    );
    // Lower bound inclusive, upper bound exclusive.
    let out = client
        .list_backups()
        .time_range_lower_bound(times[1])
        .time_range_upper_bound(times[3])
        .send()
        .await
        .expect("by time");
    assert_eq!(of(&out), [arns[1].clone(), arns[2].clone()]);
    // Tarn makes only USER backups.
    let out = client
        .list_backups()
        .backup_type(BackupTypeFilter::System)
        .send()
        .await
        .expect("system");
    assert!(out.backup_summaries().is_empty());
    let out = client
        .list_backups()
        .backup_type(BackupTypeFilter::All)
        .send()
        .await
        .expect("all");
    assert_eq!(of(&out).len(), 5);
    // Paging goes on after a backup deleted meanwhile.
    client
        .delete_backup()
        .backup_arn(&arns[1])
        .send()
        .await
        .expect("delete");
    let out = client
        .list_backups()
        .exclusive_start_backup_arn(&arns[1])
        .send()
        .await
        .expect("after a deleted backup");
    assert_eq!(of(&out), arns[2..].to_vec());
    // Bad members.
    assert_eq!(
        service_error(client.list_backups().limit(0).send().await),
        validation("1 validation error detected: Value '0' at 'limit' failed to satisfy constraint: Member must have value greater than or equal to 1")
    );
    let r = raw_op(
        &server,
        "ListBackups",
        r#"{"BackupType":"MINE","Limit":101}"#,
    )
    .await;
    assert_eq!(
        r.body,
        tarn_tests::validation_body("2 validation errors detected: Value '101' at 'limit' failed to satisfy constraint: Member must have value less than or equal to 100; Value 'MINE' at 'backupType' failed to satisfy constraint: Member must satisfy enum value set: [USER, SYSTEM, AWS_BACKUP, ALL]")
    );
}

/// The backup is the table at the instant CreateBackup returned: writes
/// made while the copy runs (slowed down here) are not in it, and the
/// restored table has the source's indexes, filled.
#[tokio::test]
async fn a_restored_table_equals_the_table_at_backup_time() {
    let server = Server::start_with(&["--backfill-pause-ms", "300"]);
    let client = server.client();
    rich_table(&client, "music").await;
    tarn_tests::batch_put(&client, "music", (0..600).map(|i| row(i, "v1"))).await;
    let expected = contents(&client, "music").await;
    let arn = backup(&client, "music", "before-changes").await;
    // While the copy runs: an update, a delete and an insert.
    tarn_tests::put(&client, "music", row(5, "v2")).await;
    client
        .delete_item()
        .table_name("music")
        .set_key(Some(row_key(6)))
        .send()
        .await
        .expect("delete");
    tarn_tests::put(&client, "music", row(9000, "new")).await;
    let status = client
        .describe_backup()
        .backup_arn(&arn)
        .send()
        .await
        .expect("describe")
        .backup_description()
        .and_then(|b| b.backup_details())
        .map(|d| d.backup_status().clone());
    assert_eq!(
        status,
        Some(BackupStatus::Creating),
        "the writes ran during the copy"
    );
    wait_available(&client, &arn).await;

    let out = client
        .restore_table_from_backup()
        .backup_arn(&arn)
        .target_table_name("restored")
        .send()
        .await
        .expect("restore");
    let t = out.table_description().expect("description");
    assert_eq!(t.table_name(), Some("restored"));
    assert_eq!(t.table_status(), Some(&TableStatus::Creating));
    let summary = t.restore_summary().expect("restore summary");
    assert_eq!(summary.source_backup_arn(), Some(arn.as_str()));
    assert_eq!(
        summary.source_table_arn(),
        Some(format!("{ARN_PREFIX}music").as_str())
    );
    assert!(summary.restore_in_progress());
    assert_eq!(t.global_secondary_indexes()[0].index_name(), Some("byG"));
    // A restoring table takes no item requests yet.
    assert_eq!(
        service_error(
            client
                .get_item()
                .table_name("restored")
                .set_key(Some(row_key(1)))
                .send()
                .await
        ),
        error("ResourceNotFoundException", "Requested resource not found")
    );
    assert_eq!(
        service_error(client.delete_table().table_name("restored").send().await),
        error(
            "ResourceInUseException",
            "Attempt to change a resource which is still in use: Table is being created: restored"
        )
    );

    let t = wait_active(&client, "restored").await;
    assert!(!t.restore_summary().expect("summary").restore_in_progress());
    assert_eq!(t.item_count(), Some(600));
    assert_eq!(
        t.key_schema(),
        describe(&client, "music").await.key_schema()
    );
    assert_eq!(
        t.billing_mode_summary().and_then(|b| b.billing_mode()),
        Some(&BillingMode::PayPerRequest)
    );
    // Settings DynamoDB does not restore.
    assert_eq!(t.stream_specification(), None);
    assert_eq!(contents(&client, "restored").await, expected);
    // The indexes were built from the restored items.
    let by_g = client
        .query()
        .table_name("restored")
        .index_name("byG")
        .key_condition_expression("g = :g")
        .expression_attribute_values(":g", s("g0"))
        .send()
        .await
        .expect("query byG");
    assert_eq!(by_g.count(), 200);
    let by_l = client
        .query()
        .table_name("restored")
        .index_name("byL")
        .key_condition_expression("pk = :p AND l = :l")
        .expression_attribute_values(":p", s("p6"))
        .expression_attribute_values(":l", s("l0006"))
        .send()
        .await
        .expect("query byL");
    assert_eq!(by_l.count(), 1, "the item deleted after the backup is back");

    // Overrides: provisioned billing and no global index.
    let out = client
        .restore_table_from_backup()
        .backup_arn(&arn)
        .target_table_name("restored-lean")
        .billing_mode_override(BillingMode::Provisioned)
        .provisioned_throughput_override(
            ProvisionedThroughput::builder()
                .read_capacity_units(7)
                .write_capacity_units(3)
                .build()
                .expect("throughput"),
        )
        .set_global_secondary_index_override(Some(Vec::new()))
        .send()
        .await
        .expect("restore with overrides");
    let t = out.table_description().expect("description");
    assert!(t.global_secondary_indexes().is_empty(), "{t:?}");
    assert_eq!(t.local_secondary_indexes().len(), 1);
    let t = wait_active(&client, "restored-lean").await;
    assert_eq!(
        t.provisioned_throughput()
            .and_then(|p| p.read_capacity_units()),
        Some(7)
    );
    assert_eq!(contents(&client, "restored-lean").await, expected);
    let defined: Vec<&str> = t
        .attribute_definitions()
        .iter()
        .map(|d| d.attribute_name())
        .collect();
    assert!(!defined.contains(&"g"), "{defined:?}");
    // Provisioned without throughput, from an on-demand source.
    assert_eq!(
        service_error(
            client
                .restore_table_from_backup()
                .backup_arn(&arn)
                .target_table_name("restored-bad")
                .billing_mode_override(BillingMode::Provisioned)
                .send()
                .await
        ),
        validation("One or more parameter values were invalid: ReadCapacityUnits and WriteCapacityUnits must both be specified when BillingMode is PROVISIONED")
    );
}

/// A backup outlives its table, and a table deleted while its backup is
/// being copied still gets a complete backup.
#[tokio::test]
async fn a_backup_outlives_its_table() {
    let server = Server::start_with(&["--backfill-pause-ms", "200"]);
    let client = server.client();
    tarn_tests::hash_table(&client, "fleeting").await;
    tarn_tests::batch_put(
        &client,
        "fleeting",
        (0..600).map(|i| item(&[("pk", s(&format!("k{i}"))), ("v", n(&i.to_string()))])),
    )
    .await;
    let expected = contents(&client, "fleeting").await;
    let arn = backup(&client, "fleeting", "last-words").await;
    client
        .delete_table()
        .table_name("fleeting")
        .send()
        .await
        .expect("delete during the copy");
    wait_available(&client, &arn).await;
    let listed = client
        .list_backups()
        .table_name("fleeting")
        .send()
        .await
        .expect("list");
    assert_eq!(listed.backup_summaries().len(), 1);
    assert_eq!(
        restored_from_backup(&client, &arn, "fleeting").await,
        expected,
        "restored under the old name"
    );
}

// ---- point-in-time recovery ----

#[tokio::test]
async fn restore_to_a_point_between_two_writes_gives_exactly_the_earlier_state() {
    let server = Server::start();
    let client = server.client();
    rich_table(&client, "ledger").await;
    tarn_tests::batch_put(&client, "ledger", (0..50).map(|i| row(i, "before-pitr"))).await;
    enable_pitr(&client, "ledger", None).await;
    tarn_tests::batch_put(&client, "ledger", (20..80).map(|i| row(i, "first"))).await;
    let expected = contents(&client, "ledger").await;
    tokio::time::sleep(Duration::from_millis(30)).await;
    let point = DateTime::from_millis(now_ms());
    tokio::time::sleep(Duration::from_millis(30)).await;
    // The second writes: updates, deletes, inserts.
    tarn_tests::batch_put(&client, "ledger", (40..100).map(|i| row(i, "second"))).await;
    for i in [0, 25, 45] {
        client
            .delete_item()
            .table_name("ledger")
            .set_key(Some(row_key(i)))
            .send()
            .await
            .expect("delete");
    }
    let now_expected = contents(&client, "ledger").await;
    assert_ne!(now_expected, expected);

    let out = client
        .restore_table_to_point_in_time()
        .source_table_name("ledger")
        .target_table_name("ledger-then")
        .restore_date_time(point)
        .send()
        .await
        .expect("restore to the point");
    let t = out.table_description().expect("description");
    assert_eq!(t.table_status(), Some(&TableStatus::Creating));
    let summary = t.restore_summary().expect("summary");
    assert_eq!(summary.source_backup_arn(), None);
    assert_eq!(
        summary.source_table_arn(),
        Some(format!("{ARN_PREFIX}ledger").as_str())
    );
    assert_eq!(
        summary.restore_date_time().as_secs_f64(),
        point.as_secs_f64()
    );
    wait_active(&client, "ledger-then").await;
    assert_eq!(contents(&client, "ledger-then").await, expected);
    let by_g = client
        .query()
        .table_name("ledger-then")
        .index_name("byG")
        .key_condition_expression("g = :g")
        .expression_attribute_values(":g", s("g1"))
        .send()
        .await
        .expect("query the restored index");
    assert_eq!(by_g.count(), (0..80).filter(|i| i % 3 == 1).count() as i32);

    assert_eq!(
        restored_to_point(&client, "ledger", "ledger-now", None).await,
        now_expected
    );
}

#[tokio::test]
async fn point_in_time_restores_refuse_what_dynamodb_refuses() {
    let server = Server::start();
    let client = server.client();
    tarn_tests::hash_table(&client, "plain").await;
    tarn_tests::hash_table(&client, "kept").await;
    enable_pitr(&client, "kept", None).await;
    let restore = |source: &str, target: &str| {
        client
            .restore_table_to_point_in_time()
            .source_table_name(source)
            .target_table_name(target)
            .use_latest_restorable_time(true)
    };
    assert_eq!(
        service_error(restore("plain", "copy").send().await),
        error(
            "PointInTimeRecoveryUnavailableException",
            "Point in time recovery is not enabled for table 'plain'"
        )
    );
    assert_eq!(
        service_error(restore("nope", "copy").send().await),
        error("TableNotFoundException", "Table not found: nope")
    );
    assert_eq!(
        service_error(restore("kept", "plain").send().await),
        error("TableAlreadyExistsException", "Table already exists: plain")
    );
    let earliest = *describe_pitr(&client, "kept")
        .await
        .earliest_restorable_date_time()
        .expect("earliest");
    let too_early = DateTime::from_millis(earliest.to_millis().expect("ms") - 60_000);
    let (code, message) = service_error(
        client
            .restore_table_to_point_in_time()
            .source_table_name("kept")
            .target_table_name("copy")
            .restore_date_time(too_early)
            .send()
            .await,
    );
    assert_eq!(code, "InvalidRestoreTimeException");
    assert!(
        message.starts_with(
            "Invalid restore time: RestoreDateTime must be between the EarliestRestorableDateTime"
        ),
        "{message}"
    );
    let future = DateTime::from_millis(now_ms() + 3_600_000);
    assert_eq!(
        service_error(
            client
                .restore_table_to_point_in_time()
                .source_table_name("kept")
                .target_table_name("copy")
                .restore_date_time(future)
                .send()
                .await
        )
        .0,
        "InvalidRestoreTimeException"
    );
    assert_eq!(
        service_error(
            client
                .restore_table_to_point_in_time()
                .source_table_name("kept")
                .target_table_name("copy")
                .use_latest_restorable_time(true)
                .restore_date_time(DateTime::from_millis(now_ms()))
                .send()
                .await
        ),
        validation("One or more parameter values were invalid: Only one of RestoreDateTime or UseLatestRestorableTime can be specified")
    );
    assert_eq!(
        service_error(
            client
                .restore_table_to_point_in_time()
                .source_table_name("kept")
                .target_table_name("copy")
                .send()
                .await
        ),
        validation("One or more parameter values were invalid: Either RestoreDateTime or UseLatestRestorableTime must be specified")
    );
    assert_eq!(
        service_error(
            client
                .restore_table_to_point_in_time()
                .target_table_name("copy")
                .use_latest_restorable_time(true)
                .send()
                .await
        ),
        validation("One or more parameter values were invalid: Either SourceTableArn or SourceTableName must be specified")
    );
    // None of them made a table.
    let listed = client.list_tables().send().await.expect("list tables");
    assert_eq!(
        listed.table_names(),
        &["kept".to_owned(), "plain".to_owned()]
    );
}

// ---- durability ----

/// Backups (a finished one and one killed mid-copy), a deleted backup and
/// the recovery log all survive SIGKILL: after a restart the unfinished
/// copy completes and every restore gives the table as it was.
#[tokio::test]
async fn backups_and_recovery_survive_a_sigkill_and_restart() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut server = Server::start_in(dir.path(), &["--backfill-pause-ms", "1000"]);
    let client = server.client();
    tarn_tests::hash_table(&client, "vault").await;
    enable_pitr(&client, "vault", None).await;
    let rows = |v: &str| {
        let v = v.to_owned();
        (0..300).map(move |i| item(&[("pk", s(&format!("k{i}"))), ("v", s(&v))]))
    };
    tarn_tests::batch_put(&client, "vault", rows("one")).await;
    let at_one = contents(&client, "vault").await;
    // 300 items are two copy batches, each followed by a 1 s pause.
    let done = backup(&client, "vault", "done").await;
    wait_available(&client, &done).await;
    let doomed = backup(&client, "vault", "doomed").await;
    wait_available(&client, &doomed).await;
    client
        .delete_backup()
        .backup_arn(&doomed)
        .send()
        .await
        .expect("delete backup");
    tokio::time::sleep(Duration::from_millis(30)).await;
    let point = DateTime::from_millis(now_ms());
    tokio::time::sleep(Duration::from_millis(30)).await;
    tarn_tests::batch_put(&client, "vault", rows("two")).await;
    let at_two = contents(&client, "vault").await;
    // Killed while this one is still being copied.
    let unfinished = backup(&client, "vault", "unfinished").await;
    tarn_tests::batch_put(&client, "vault", rows("three")).await;
    let status = client
        .describe_backup()
        .backup_arn(&unfinished)
        .send()
        .await
        .expect("describe")
        .backup_description()
        .and_then(|b| b.backup_details())
        .map(|d| d.backup_status().clone());
    assert_eq!(status, Some(BackupStatus::Creating), "killed mid-copy");
    server.kill();
    drop(client);
    drop(server);

    let server = Server::start_in(dir.path(), &[]);
    let client = server.client();
    wait_available(&client, &unfinished).await;
    let listed = client.list_backups().send().await.expect("list");
    let names: Vec<&str> = listed
        .backup_summaries()
        .iter()
        .map(|b| b.backup_name().expect("name"))
        .collect();
    assert_eq!(names, ["done", "unfinished"]);
    assert_eq!(
        service_error(client.describe_backup().backup_arn(&doomed).send().await).0,
        "BackupNotFoundException"
    );
    assert_eq!(
        restored_from_backup(&client, &done, "from-done").await,
        at_one
    );
    assert_eq!(
        restored_from_backup(&client, &unfinished, "from-unfinished").await,
        at_two
    );
    assert_eq!(
        restored_to_point(&client, "vault", "from-log", Some(point)).await,
        at_one,
        "a point before the kill"
    );
}
