//! Model tests that need the clock moved or another service's entries:
//! retention expiry, the purge cool-down, the outbox drainer.

use std::collections::BTreeMap;
use std::time::Duration;

use tarn_core::arn::Arns;
use tarn_core::outbox::{Entry, Outbox, Target};
use tarn_core::runner::Runner;

use crate::{ReceiveRequest, SendMessage, Sqs, SqsError};

fn open() -> (tarn_engine::Engine, Sqs) {
    let engine = tarn_engine::Engine::open(tarn_engine::Options::default()).expect("engine");
    let sqs = Sqs::open(&engine, Arns::new("us-east-1", "000000000000")).expect("sqs");
    (engine, sqs)
}

fn body(b: &str) -> SendMessage {
    SendMessage {
        body: b.into(),
        ..SendMessage::default()
    }
}

fn receive_all() -> ReceiveRequest {
    ReceiveRequest {
        max: 10,
        wait_seconds: Some(0),
        ..ReceiveRequest::default()
    }
}

#[tokio::test]
async fn messages_expire_after_the_retention_period() {
    let (_engine, sqs) = open();
    let attrs = BTreeMap::from([("MessageRetentionPeriod".to_owned(), "60".to_owned())]);
    sqs.create_queue("q", &attrs, &BTreeMap::new())
        .await
        .expect("create");
    sqs.send("q", body("old")).await.expect("send");
    sqs.advance_clock_ms(30_000);
    sqs.send("q", body("new")).await.expect("send");
    sqs.advance_clock_ms(31_000);
    // "old" is past 60 s; the sweeper's pass removes it.
    let next = sqs.expire().await.expect("expire");
    assert!(next.is_some(), "the next expiry is known");
    let runner = Runner::new();
    let got = sqs
        .receive("q", &receive_all(), runner.stop_signal())
        .await
        .expect("receive");
    assert_eq!(
        got.iter().map(|m| m.body.as_str()).collect::<Vec<_>>(),
        ["new"]
    );
}

#[tokio::test]
async fn a_purge_is_allowed_again_after_60_seconds() {
    let (_engine, sqs) = open();
    sqs.create_queue("q", &BTreeMap::new(), &BTreeMap::new())
        .await
        .expect("create");
    sqs.purge("q").await.expect("purge");
    assert_eq!(
        sqs.purge("q").await,
        Err(SqsError::PurgeQueueInProgress("q".into()))
    );
    sqs.advance_clock_ms(60_000);
    sqs.purge("q").await.expect("purge after 60 s");
}

#[tokio::test]
async fn a_deleted_name_is_free_again_after_60_seconds() {
    let (_engine, sqs) = open();
    let none = BTreeMap::new();
    sqs.create_queue("q", &none, &none).await.expect("create");
    sqs.delete_queue("q").await.expect("delete");
    assert_eq!(
        sqs.create_queue("q", &none, &none).await.map(|_| ()),
        Err(SqsError::QueueDeletedRecently)
    );
    // Other names are not held up.
    sqs.create_queue("q2", &none, &none)
        .await
        .expect("create q2");
    sqs.advance_clock_ms(59_000);
    assert_eq!(
        sqs.create_queue("q", &none, &none).await.map(|_| ()),
        Err(SqsError::QueueDeletedRecently)
    );
    sqs.advance_clock_ms(1_000);
    sqs.create_queue("q", &none, &none)
        .await
        .expect("create after 60 s");
}

#[tokio::test]
async fn outbox_entries_become_messages_exactly_once() {
    let (engine, sqs) = open();
    let store = engine.store();
    let outbox = Outbox::open(&store).expect("outbox");
    sqs.create_queue("q", &BTreeMap::new(), &BTreeMap::new())
        .await
        .expect("create");
    let fifo = BTreeMap::from([("FifoQueue".to_owned(), "true".to_owned())]);
    sqs.create_queue("f.fifo", &fifo, &BTreeMap::new())
        .await
        .expect("create");
    let runner = Runner::new();
    sqs.start(&runner, outbox.clone());

    let mut batch = store.batch();
    let mut notices = Vec::new();
    let entry = |resource: &str, payload: &str, attributes: Vec<(&str, &str)>| Entry {
        resource: resource.into(),
        kind: "send".into(),
        payload: payload.as_bytes().to_vec(),
        attributes: attributes
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect(),
        created_ms: 0,
    };
    for e in [
        entry(
            "arn:aws:sqs:us-east-1:000000000000:q",
            "hello",
            vec![(
                "MessageAttributes",
                r#"{"k":{"DataType":"String","StringValue":"v"},"b":{"DataType":"Binary","BinaryValue":"AAE="}}"#,
            )],
        ),
        entry("arn:aws:sqs:us-east-1:000000000000:missing", "lost", vec![]),
        entry(
            "arn:aws:sqs:us-east-1:000000000000:f.fifo",
            "first",
            vec![("MessageGroupId", "g"), ("MessageDeduplicationId", "d")],
        ),
        entry(
            "arn:aws:sqs:us-east-1:000000000000:f.fifo",
            "duplicate",
            vec![("MessageGroupId", "g"), ("MessageDeduplicationId", "d")],
        ),
    ] {
        notices.push(outbox.put(&mut batch, Target::SQS, &e).expect("put"));
    }
    batch
        .commit()
        .expect("commit")
        .wait(&engine)
        .expect("durable");
    notices
        .into_iter()
        .for_each(tarn_core::outbox::Notice::send);

    let req = ReceiveRequest {
        max: 10,
        wait_seconds: Some(5),
        message_attribute_names: vec!["All".into()],
        ..ReceiveRequest::default()
    };
    let got = sqs
        .receive("q", &req, runner.stop_signal())
        .await
        .expect("receive");
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].body, "hello");
    assert_eq!(got[0].message_attributes.len(), 2);
    let got = sqs
        .receive("f.fifo", &req, runner.stop_signal())
        .await
        .expect("receive");
    assert_eq!(
        got.iter().map(|m| m.body.as_str()).collect::<Vec<_>>(),
        ["first"]
    );
    // Every entry is gone, the one for a missing queue too.
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while !outbox.pending(Target::SQS, 10).expect("pending").is_empty() {
        assert!(std::time::Instant::now() < deadline, "entries left");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(runner.shutdown(Duration::from_secs(5)).await.is_empty());
}

#[tokio::test]
async fn data_of_a_queue_deleted_mid_drop_is_dropped_at_start() {
    let (engine, sqs) = open();
    let fifo = BTreeMap::from([("FifoQueue".to_owned(), "true".to_owned())]);
    let q = sqs
        .create_queue("gone.fifo", &fifo, &BTreeMap::new())
        .await
        .expect("create");
    sqs.create_queue("kept", &BTreeMap::new(), &BTreeMap::new())
        .await
        .expect("create");
    for i in 0..3 {
        let m = SendMessage {
            group_id: Some("g".into()),
            dedup_id: Some(format!("d{i}")),
            ..body("m")
        };
        sqs.send("gone.fifo", m).await.expect("send");
    }
    sqs.send("kept", body("stays")).await.expect("send");
    // As a crash right after DeleteQueue's first batch leaves it.
    let store = engine.store();
    let queues = store.keyspace("sqs_queues").expect("keyspace");
    let mut batch = store.batch();
    batch.remove(&queues, b"gone.fifo").expect("remove");
    batch
        .commit()
        .expect("commit")
        .wait(&engine)
        .expect("durable");
    assert_eq!(sqs.drop_orphans().await.expect("drop"), 1);
    for ks in [
        "sqs_messages",
        "sqs_sent",
        "sqs_visible",
        "sqs_groups",
        "sqs_dedup",
    ] {
        let ks = store.keyspace(ks).expect("keyspace");
        let left = store
            .scan(
                &ks,
                &tarn_engine::store::KeyRange::prefix(&q.id().to_be_bytes()),
                tarn_engine::store::Direction::Forward,
                10,
            )
            .expect("scan");
        assert!(left.is_empty(), "{} left in {}", left.len(), ks.name());
    }
    assert_eq!(sqs.drop_orphans().await.expect("drop"), 0);
    let got = sqs
        .receive("kept", &receive_all(), Runner::new().stop_signal())
        .await
        .expect("receive");
    assert_eq!(got.len(), 1);
}

/// Random sends, receives, deletes and visibility changes against a model
/// (what is queued, what is in flight under which handle), with the engine
/// closed and reopened between rounds: receives only return queued
/// messages that are not in flight, and at the end exactly the model's
/// messages are left.
#[tokio::test]
async fn random_operations_agree_with_a_model_across_reopens() {
    use std::collections::{BTreeSet, HashMap};

    let dir = tempfile::tempdir().expect("tempdir");
    let open_at = |dir: &std::path::Path| {
        let engine = tarn_engine::Engine::open(tarn_engine::Options {
            data_dir: Some(dir.to_path_buf()),
            durability: tarn_engine::Durability::Sync,
            ..tarn_engine::Options::default()
        })
        .expect("engine");
        let sqs = Sqs::open(&engine, Arns::new("us-east-1", "000000000000")).expect("sqs");
        (engine, sqs)
    };
    let mut rng: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut next = move |n: u64| {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        rng % n
    };
    let mut queued: BTreeSet<String> = BTreeSet::new();
    let mut in_flight: HashMap<String, String> = HashMap::new();
    let mut sent = 0u64;
    let stop = Runner::new();
    for round in 0..4 {
        let (engine, sqs) = open_at(dir.path());
        if round == 0 {
            sqs.create_queue("q", &BTreeMap::new(), &BTreeMap::new())
                .await
                .expect("create");
        }
        for _ in 0..60 {
            match next(4) {
                0 => {
                    let b = format!("m{sent}");
                    sent += 1;
                    sqs.send("q", body(&b)).await.expect("send");
                    queued.insert(b);
                }
                1 => {
                    let req = ReceiveRequest {
                        max: 1 + next(10) as usize,
                        visibility_timeout: Some(3600),
                        wait_seconds: Some(0),
                        ..ReceiveRequest::default()
                    };
                    let visible = queued.len() - in_flight.len();
                    let got = sqs
                        .receive("q", &req, stop.stop_signal())
                        .await
                        .expect("receive");
                    assert_eq!(got.len(), visible.min(req.max), "receives what is visible");
                    for m in got {
                        assert!(queued.contains(&m.body), "{} was never sent", m.body);
                        assert!(
                            in_flight.insert(m.body.clone(), m.receipt_handle).is_none(),
                            "{} delivered twice in one window",
                            m.body
                        );
                    }
                }
                2 => {
                    if let Some(b) = in_flight.keys().next().cloned() {
                        let h = in_flight.remove(&b).expect("handle");
                        sqs.delete("q", &h).await.expect("delete");
                        queued.remove(&b);
                    }
                }
                _ => {
                    if let Some(b) = in_flight.keys().next().cloned() {
                        let h = in_flight.remove(&b).expect("handle");
                        sqs.change_visibility("q", &h, 0).await.expect("release");
                    }
                }
            }
        }
        drop(sqs);
        drop(engine);
    }
    let (_engine, sqs) = open_at(dir.path());
    let attrs = sqs
        .get_attributes("q", &["All".to_owned()])
        .expect("attributes");
    assert_eq!(
        attrs["ApproximateNumberOfMessagesNotVisible"],
        in_flight.len().to_string()
    );
    assert_eq!(
        attrs["ApproximateNumberOfMessages"],
        (queued.len() - in_flight.len()).to_string()
    );
    for (b, h) in in_flight.drain() {
        sqs.change_visibility("q", &h, 0)
            .await
            .unwrap_or_else(|e| panic!("{b}: {e}"));
    }
    let mut left = BTreeSet::new();
    loop {
        let got = sqs
            .receive("q", &receive_all(), stop.stop_signal())
            .await
            .expect("receive");
        if got.is_empty() {
            break;
        }
        for m in got {
            sqs.delete("q", &m.receipt_handle).await.expect("delete");
            assert!(left.insert(m.body));
        }
    }
    assert_eq!(left, queued);
}

#[tokio::test]
async fn receives_past_the_in_flight_limit_are_over_limit() {
    let (_engine, sqs) = open();
    sqs.set_inflight_max(3);
    sqs.create_queue("q", &BTreeMap::new(), &BTreeMap::new())
        .await
        .expect("create");
    let fifo = BTreeMap::from([
        ("FifoQueue".to_owned(), "true".to_owned()),
        ("ContentBasedDeduplication".to_owned(), "true".to_owned()),
    ]);
    sqs.create_queue("f.fifo", &fifo, &BTreeMap::new())
        .await
        .expect("create");
    for i in 0..5 {
        sqs.send("q", body(&format!("m{i}"))).await.expect("send");
        let m = SendMessage {
            group_id: Some(format!("g{i}")),
            ..body(&format!("m{i}"))
        };
        sqs.send("f.fifo", m).await.expect("send");
    }
    let stop = Runner::new();
    let req = ReceiveRequest {
        visibility_timeout: Some(600),
        ..receive_all()
    };
    let got = sqs
        .receive("q", &req, stop.stop_signal())
        .await
        .expect("receive");
    assert_eq!(got.len(), 3, "up to the limit");
    assert_eq!(
        sqs.receive("q", &req, stop.stop_signal()).await,
        Err(SqsError::OverLimit(
            "The maximum number of in flight messages is reached.".into()
        ))
    );
    sqs.delete("q", &got[0].receipt_handle)
        .await
        .expect("delete");
    sqs.change_visibility("q", &got[1].receipt_handle, 0)
        .await
        .expect("release");
    let again = sqs
        .receive("q", &req, stop.stop_signal())
        .await
        .expect("receive");
    assert_eq!(again.len(), 2);
    // FIFO queues answer with nothing rather than an error.
    let got = sqs
        .receive("f.fifo", &req, stop.stop_signal())
        .await
        .expect("receive");
    assert_eq!(got.len(), 3);
    let none = sqs
        .receive("f.fifo", &req, stop.stop_signal())
        .await
        .expect("receive");
    assert!(none.is_empty());
}

#[tokio::test]
async fn a_message_stays_in_flight_at_most_12_hours_from_its_first_receive() {
    let (_engine, sqs) = open();
    sqs.create_queue("q", &BTreeMap::new(), &BTreeMap::new())
        .await
        .expect("create");
    sqs.send("q", body("m")).await.expect("send");
    let req = ReceiveRequest {
        visibility_timeout: Some(43_200),
        ..receive_all()
    };
    let got = sqs
        .receive("q", &req, Runner::new().stop_signal())
        .await
        .expect("receive");
    sqs.advance_clock_ms(3_600_000);
    let h = &got[0].receipt_handle;
    assert_eq!(
        sqs.change_visibility("q", h, 43_200).await,
        Err(SqsError::InvalidParameterValue(
            "Value 43200 for parameter VisibilityTimeout is invalid. Reason: Total VisibilityTimeout for the message is beyond the limit [43200 seconds]".into()
        ))
    );
    // 39,599 s, not 39,600: the real clock moved on since the receive.
    sqs.change_visibility("q", h, 39_599)
        .await
        .expect("within 12 hours");
}

/// Receives skip the front of the visible index that earlier receives
/// emptied (the floor); whatever is inserted below that floor afterwards
/// (a new send, a message made visible again, a delayed one coming due)
/// must still be received.
#[tokio::test]
async fn receives_find_messages_that_land_below_where_the_last_receive_stopped() {
    let (_engine, sqs) = open();
    let none = BTreeMap::new();
    sqs.create_queue("q", &none, &none).await.expect("create");
    let stop = || Runner::new().stop_signal();
    let take = |vt: u64| ReceiveRequest {
        visibility_timeout: Some(vt),
        ..receive_all()
    };
    for i in 0..25 {
        sqs.send("q", body(&format!("m{i}"))).await.expect("send");
    }
    // Three receives empty the front; 25 messages are in flight for 60 s.
    let mut in_flight = Vec::new();
    for _ in 0..3 {
        in_flight.extend(sqs.receive("q", &take(60), stop()).await.expect("receive"));
    }
    assert_eq!(in_flight.len(), 25);
    assert!(sqs
        .receive("q", &take(60), stop())
        .await
        .expect("empty")
        .is_empty());
    // A new send lands below the in-flight entries the floor now sits at.
    sqs.send("q", body("late")).await.expect("send");
    let got = sqs.receive("q", &take(60), stop()).await.expect("receive");
    assert_eq!(
        got.iter().map(|r| r.body.as_str()).collect::<Vec<_>>(),
        ["late"]
    );
    // A message made visible again lands below it too.
    sqs.change_visibility("q", &in_flight[7].receipt_handle, 0)
        .await
        .expect("release");
    let got = sqs.receive("q", &take(60), stop()).await.expect("receive");
    assert_eq!(
        got.iter().map(|r| r.body.as_str()).collect::<Vec<_>>(),
        ["m7"]
    );
    // Visibility timeouts running out bring the rest back, all of them.
    sqs.advance_clock_ms(61_000);
    let mut again = Vec::new();
    for _ in 0..4 {
        again.extend(sqs.receive("q", &take(60), stop()).await.expect("receive"));
    }
    assert_eq!(again.len(), 26, "24 timed out, late, m7");
}
