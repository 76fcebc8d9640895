//! Crash consistency: writers run concurrently, the server is killed with
//! SIGKILL mid-stream, restarted on the same directory, and every
//! acknowledged write must be there.
//!
//! A SIGKILL loses what sits in the process (the journal's user-space
//! buffer), not what the OS holds, so this guards "acknowledged only after
//! the journal flush"; it fails within a few runs if a write is acknowledged
//! before its group's flush. Power loss is covered by the fsync that
//! `--durability sync` adds to that same flush.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use aws_sdk_dynamodb::types::{
    AttributeDefinition, AttributeValue, BillingMode, KeySchemaElement, KeyType,
    ScalarAttributeType,
};
use tarn_tests::Server;

const WRITERS: usize = 8;
/// Each writer stops after this many writes even if the kill comes late.
const WRITES_PER_WRITER_MAX: u64 = 100_000;
/// Kill once this many writes have been acknowledged in all.
const ACKS_BEFORE_KILL: u64 = 400;

async fn create_table(client: &aws_sdk_dynamodb::Client) {
    client
        .create_table()
        .table_name("crash")
        .billing_mode(BillingMode::PayPerRequest)
        .key_schema(
            KeySchemaElement::builder()
                .attribute_name("w")
                .key_type(KeyType::Hash)
                .build()
                .expect("key"),
        )
        .key_schema(
            KeySchemaElement::builder()
                .attribute_name("i")
                .key_type(KeyType::Range)
                .build()
                .expect("key"),
        )
        .attribute_definitions(
            AttributeDefinition::builder()
                .attribute_name("w")
                .attribute_type(ScalarAttributeType::S)
                .build()
                .expect("def"),
        )
        .attribute_definitions(
            AttributeDefinition::builder()
                .attribute_name("i")
                .attribute_type(ScalarAttributeType::N)
                .build()
                .expect("def"),
        )
        .send()
        .await
        .expect("create table");
}

fn payload(writer: usize, i: u64) -> String {
    format!(
        "writer {writer} write {i} {}",
        "x".repeat((i % 50) as usize)
    )
}

/// What one writer saw acknowledged: every `i` it wrote (each to its own
/// item), and the last value acknowledged for its shared "head" item.
#[derive(Default)]
struct Acked {
    items: Vec<u64>,
    head: Option<u64>,
}

async fn writer(
    client: aws_sdk_dynamodb::Client,
    w: usize,
    acked: Arc<Mutex<Acked>>,
    total: Arc<std::sync::atomic::AtomicU64>,
) {
    for i in 0..WRITES_PER_WRITER_MAX {
        // Alternate between a fresh item and an overwrite of the head item,
        // so both inserts and replacements are checked.
        let (sort, is_head) = if i % 2 == 0 {
            (i.to_string(), false)
        } else {
            ("-1".to_owned(), true)
        };
        let result = client
            .put_item()
            .table_name("crash")
            .item("w", AttributeValue::S(format!("w{w}")))
            .item("i", AttributeValue::N(sort))
            .item("seq", AttributeValue::N(i.to_string()))
            .item("body", AttributeValue::S(payload(w, i)))
            .send()
            .await;
        if result.is_err() {
            return; // the server is gone
        }
        {
            let mut a = acked.lock().expect("lock");
            if is_head {
                a.head = Some(i);
            } else {
                a.items.push(i);
            }
        }
        total.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn acknowledged_writes_survive_sigkill() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut server = Server::start_in(dir.path(), &[]);
    let client = server.client();
    create_table(&client).await;

    let total = Arc::new(std::sync::atomic::AtomicU64::new(0));
    let acked: Vec<Arc<Mutex<Acked>>> = (0..WRITERS).map(|_| Arc::default()).collect();
    let tasks: Vec<_> = (0..WRITERS)
        .map(|w| tokio::spawn(writer(client.clone(), w, acked[w].clone(), total.clone())))
        .collect();

    let deadline = Instant::now() + Duration::from_secs(60);
    while total.load(std::sync::atomic::Ordering::Relaxed) < ACKS_BEFORE_KILL {
        assert!(
            Instant::now() < deadline,
            "writers too slow: {total:?} acks in 60 s"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    // Writers are mid-stream: kill without warning.
    server.kill();
    for t in tasks {
        t.await.expect("writer task");
    }
    let acked_total = total.load(std::sync::atomic::Ordering::Relaxed);
    assert!(acked_total >= ACKS_BEFORE_KILL);

    let server = Server::start_in(dir.path(), &[]);
    let client = server.client();
    let mut checked = 0u64;
    let mut expected = 0u64;
    for (w, a) in acked.iter().enumerate() {
        let (items, head) = {
            let a = a.lock().expect("lock");
            (a.items.clone(), a.head)
        };
        expected += items.len() as u64 + u64::from(head.is_some());
        for &i in &items {
            let got = client
                .get_item()
                .table_name("crash")
                .key("w", AttributeValue::S(format!("w{w}")))
                .key("i", AttributeValue::N(i.to_string()))
                .consistent_read(true)
                .send()
                .await
                .expect("get");
            let item: HashMap<String, AttributeValue> = got
                .item
                .unwrap_or_else(|| panic!("acknowledged write w{w}/{i} lost"));
            assert_eq!(item.get("body"), Some(&AttributeValue::S(payload(w, i))));
            checked += 1;
        }
        if let Some(head) = head {
            let got = client
                .get_item()
                .table_name("crash")
                .key("w", AttributeValue::S(format!("w{w}")))
                .key("i", AttributeValue::N("-1".into()))
                .send()
                .await
                .expect("get head");
            let item = got.item.unwrap_or_else(|| panic!("head item of w{w} lost"));
            let AttributeValue::N(seq) = item.get("seq").expect("seq") else {
                panic!("seq is not a number")
            };
            let seq: u64 = seq.parse().expect("seq");
            // A write in flight at the kill may or may not have landed, but
            // nothing older than the last acknowledged one may show.
            assert!(seq >= head, "w{w} head went back from {head} to {seq}");
            assert_eq!(item.get("body"), Some(&AttributeValue::S(payload(w, seq))));
            checked += 1;
        }
    }
    assert_eq!(checked, expected);
    // Half the acknowledged writes were fresh items, each checked above.
    assert!(
        checked >= acked_total / 2,
        "{checked} checked of {acked_total} acknowledged"
    );
}
