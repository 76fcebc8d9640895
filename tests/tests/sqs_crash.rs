//! SQS crash consistency: senders and receivers run concurrently, the
//! server is killed with SIGKILL mid-run and restarted on the same
//! directory. Every acknowledged send must then be either deleted (by a
//! delete that was sent: one the kill cut off may have been applied
//! without its reply reaching the client) or still in the queue, and no
//! acknowledged delete may come back.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use aws_sdk_sqs::types::QueueAttributeName;
use tarn_tests::{sdk_client, Server};

const SENDERS: usize = 4;
const RECEIVERS: usize = 2;
/// Kill once this many sends have been acknowledged in all.
const ACKS_BEFORE_KILL: usize = 300;
/// Each sender stops after this many sends even if the kill comes late.
const SENDS_PER_SENDER_MAX: usize = 20_000;

#[tokio::test]
async fn every_acknowledged_send_is_deleted_or_still_queued_after_sigkill() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut server = Server::start_in(dir.path(), &[]);
    let c = sdk_client!(aws_sdk_sqs, server.endpoint.as_str());
    let url = c
        .create_queue()
        .queue_name("crash")
        .attributes(QueueAttributeName::VisibilityTimeout, "1")
        .send()
        .await
        .expect("create")
        .queue_url
        .expect("url");
    let path = url.strip_prefix(&server.endpoint).expect("ours").to_owned();
    let sent: Arc<Mutex<HashSet<String>>> = Arc::default();
    let deleted: Arc<Mutex<HashSet<String>>> = Arc::default();
    // Deletes sent, acknowledged or not.
    let tried: Arc<Mutex<HashSet<String>>> = Arc::default();
    let mut tasks = Vec::new();
    for s in 0..SENDERS {
        let (c, url, sent) = (c.clone(), url.clone(), Arc::clone(&sent));
        tasks.push(tokio::spawn(async move {
            for i in 0..SENDS_PER_SENDER_MAX {
                let body = format!("{s}-{i}");
                if c.send_message()
                    .queue_url(&url)
                    .message_body(&body)
                    .send()
                    .await
                    .is_err()
                {
                    return;
                }
                sent.lock().expect("lock").insert(body);
            }
        }));
    }
    for _ in 0..RECEIVERS {
        let (c, url, deleted, tried) = (
            c.clone(),
            url.clone(),
            Arc::clone(&deleted),
            Arc::clone(&tried),
        );
        tasks.push(tokio::spawn(async move {
            loop {
                let Ok(got) = c
                    .receive_message()
                    .queue_url(&url)
                    .max_number_of_messages(10)
                    .wait_time_seconds(1)
                    .send()
                    .await
                else {
                    return;
                };
                for m in got.messages() {
                    let body = m.body.clone().expect("body");
                    let handle = m.receipt_handle.clone().expect("handle");
                    tried.lock().expect("lock").insert(body.clone());
                    if c.delete_message()
                        .queue_url(&url)
                        .receipt_handle(handle)
                        .send()
                        .await
                        .is_err()
                    {
                        return;
                    }
                    deleted.lock().expect("lock").insert(body);
                }
            }
        }));
    }
    let deadline = Instant::now() + Duration::from_secs(60);
    while sent.lock().expect("lock").len() < ACKS_BEFORE_KILL {
        assert!(Instant::now() < deadline, "sends too slow");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    server.kill();
    for t in tasks {
        let _ = t.await;
    }
    let sent = sent.lock().expect("lock").clone();
    let deleted = deleted.lock().expect("lock").clone();
    let tried = tried.lock().expect("lock").clone();
    assert!(!deleted.is_empty(), "receivers deleted nothing");

    let server = Server::start_in(dir.path(), &[]);
    let c = sdk_client!(aws_sdk_sqs, server.endpoint.as_str());
    let url = format!("{}{path}", server.endpoint);
    // Drain: messages in flight at the kill come back after 1 s.
    let mut remaining = HashSet::new();
    let mut empty_polls = 0;
    while empty_polls < 2 {
        let got = c
            .receive_message()
            .queue_url(&url)
            .max_number_of_messages(10)
            .visibility_timeout(60)
            .wait_time_seconds(2)
            .send()
            .await
            .expect("receive");
        if got.messages().is_empty() {
            empty_polls += 1;
        }
        for m in got.messages() {
            remaining.insert(m.body.clone().expect("body"));
        }
    }
    let lost: Vec<&String> = sent
        .iter()
        .filter(|b| !tried.contains(*b) && !remaining.contains(*b))
        .collect();
    assert!(
        lost.is_empty(),
        "{} acknowledged sends lost: {lost:?}",
        lost.len()
    );
    let back: Vec<&String> = deleted.intersection(&remaining).collect();
    assert!(back.is_empty(), "acknowledged deletes came back: {back:?}");
    // At most the deletes in flight at the kill (one per receiver) are in
    // doubt.
    assert!(
        tried.len() - deleted.len() <= RECEIVERS,
        "{} deletes unacknowledged",
        tried.len() - deleted.len()
    );
}
