//! SQS FIFO queues (order per group, group blocking, deduplication,
//! sequence numbers, receive attempt ids) and dead-letter queues (redrive
//! by `maxReceiveCount`, ListDeadLetterSourceQueues, message-move tasks),
//! end to end with `aws-sdk-sqs`.

use std::time::{Duration, Instant};

use aws_sdk_sqs::types::{MessageSystemAttributeName, QueueAttributeName};
use aws_sdk_sqs::Client;
use tarn_tests::{sdk_client, service_error, sqs_queue as queue, Server};

fn client(server: &Server) -> Client {
    sdk_client!(aws_sdk_sqs, server.endpoint.as_str())
}

async fn send(
    c: &Client,
    url: &str,
    body: &str,
    group: &str,
    dedup: Option<&str>,
) -> (String, String) {
    let r = c
        .send_message()
        .queue_url(url)
        .message_body(body)
        .message_group_id(group)
        .set_message_deduplication_id(dedup.map(str::to_owned))
        .send()
        .await
        .expect("send");
    (
        r.message_id.expect("id"),
        r.sequence_number.expect("sequence number"),
    )
}

async fn receive(c: &Client, url: &str, max: i32) -> Vec<(String, String)> {
    c.receive_message()
        .queue_url(url)
        .max_number_of_messages(max)
        .visibility_timeout(30)
        .send()
        .await
        .expect("receive")
        .messages()
        .iter()
        .map(|m| {
            (
                m.body.clone().expect("body"),
                m.receipt_handle.clone().expect("handle"),
            )
        })
        .collect()
}

#[tokio::test]
async fn fifo_queues_keep_group_order_and_block_a_group_in_flight() {
    let server = Server::start();
    let c = client(&server);
    let (code, message) = service_error(
        c.create_queue()
            .queue_name("nofifo")
            .attributes(QueueAttributeName::FifoQueue, "true")
            .send()
            .await,
    );
    assert_eq!(
        (code.as_str(), message.as_str()),
        (
            "InvalidParameterValue",
            "The name of a FIFO queue can only include alphanumeric characters, hyphens, or underscores, must end with .fifo suffix and be 1 to 80 in length."
        )
    );
    let url = queue(
        &c,
        "orders.fifo",
        &[(QueueAttributeName::FifoQueue, "true")],
    )
    .await;
    let mut seqs = Vec::new();
    for (body, group) in [
        ("a1", "a"),
        ("b1", "b"),
        ("a2", "a"),
        ("a3", "a"),
        ("b2", "b"),
    ] {
        seqs.push(send(&c, &url, body, group, Some(body)).await.1);
    }
    assert!(seqs.windows(2).all(|w| w[0] < w[1]), "{seqs:?}");
    assert!(seqs.iter().all(|s| s.len() == 20));

    // One message: the oldest, a1. Group a is then blocked: b1 comes next.
    let first = receive(&c, &url, 1).await;
    assert_eq!(first[0].0, "a1");
    let second = receive(&c, &url, 1).await;
    assert_eq!(second[0].0, "b1");
    // Both groups in flight: nothing.
    assert!(receive(&c, &url, 10).await.is_empty());
    // a1 deleted: a2 and a3 in order, b still blocked.
    c.delete_message()
        .queue_url(&url)
        .receipt_handle(&first[0].1)
        .send()
        .await
        .expect("delete");
    let next: Vec<String> = receive(&c, &url, 10)
        .await
        .into_iter()
        .map(|m| m.0)
        .collect();
    assert_eq!(next, ["a2", "a3"]);
    // b1 released: b1 again, then b2 with it.
    c.change_message_visibility()
        .queue_url(&url)
        .receipt_handle(&second[0].1)
        .visibility_timeout(0)
        .send()
        .await
        .expect("release");
    let next: Vec<String> = receive(&c, &url, 10)
        .await
        .into_iter()
        .map(|m| m.0)
        .collect();
    assert_eq!(next, ["b1", "b2"]);
}

#[tokio::test]
async fn fifo_deduplication_by_id_and_by_content_lasts_the_window() {
    let server = Server::start();
    let c = client(&server);
    let url = queue(&c, "d.fifo", &[(QueueAttributeName::FifoQueue, "true")]).await;
    let first = send(&c, &url, "x", "g", Some("same")).await;
    let again = send(&c, &url, "other body", "g", Some("same")).await;
    assert_eq!(
        first, again,
        "a duplicate gets the original's id and sequence number"
    );
    let (code, message) = service_error(
        c.send_message()
            .queue_url(&url)
            .message_body("x")
            .message_group_id("g")
            .send()
            .await,
    );
    assert_eq!(
        (code.as_str(), message.as_str()),
        (
            "InvalidParameterValue",
            "The queue should either have ContentBasedDeduplication enabled or MessageDeduplicationId provided explicitly"
        )
    );
    let (code, message) = service_error(
        c.send_message()
            .queue_url(&url)
            .message_body("x")
            .message_deduplication_id("d")
            .send()
            .await,
    );
    assert_eq!(
        (code.as_str(), message.as_str()),
        (
            "MissingParameter",
            "The request must contain the parameter MessageGroupId."
        )
    );
    let (code, _) = service_error(
        c.send_message()
            .queue_url(&url)
            .message_body("x")
            .message_group_id("g")
            .message_deduplication_id("e")
            .delay_seconds(5)
            .send()
            .await,
    );
    assert_eq!(code, "InvalidParameterValue");
    let got = c
        .receive_message()
        .queue_url(&url)
        .max_number_of_messages(10)
        .message_system_attribute_names(MessageSystemAttributeName::All)
        .send()
        .await
        .expect("receive");
    assert_eq!(got.messages().len(), 1);
    let attrs = got.messages()[0].attributes.clone().expect("attributes");
    assert_eq!(
        attrs
            .get(&MessageSystemAttributeName::MessageGroupId)
            .map(String::as_str),
        Some("g")
    );
    assert_eq!(
        attrs
            .get(&MessageSystemAttributeName::MessageDeduplicationId)
            .map(String::as_str),
        Some("same")
    );
    assert_eq!(
        attrs.get(&MessageSystemAttributeName::SequenceNumber),
        Some(&first.1)
    );

    // Content-based: the body's SHA-256 is the id.
    let cbd = queue(
        &c,
        "c.fifo",
        &[
            (QueueAttributeName::FifoQueue, "true"),
            (QueueAttributeName::ContentBasedDeduplication, "true"),
        ],
    )
    .await;
    let a = send(&c, &cbd, "body", "g", None).await;
    let b = send(&c, &cbd, "body", "g", None).await;
    let d = send(&c, &cbd, "body2", "g", None).await;
    assert_eq!(a, b);
    assert_ne!(a, d);

    // Deduplication scoped per group.
    let scoped = queue(
        &c,
        "s.fifo",
        &[
            (QueueAttributeName::FifoQueue, "true"),
            (QueueAttributeName::DeduplicationScope, "messageGroup"),
            (QueueAttributeName::FifoThroughputLimit, "perMessageGroupId"),
        ],
    )
    .await;
    let a = send(&c, &scoped, "m", "g1", Some("d")).await;
    let b = send(&c, &scoped, "m", "g2", Some("d")).await;
    assert_ne!(a, b, "the same id in two groups is two messages");
}

#[tokio::test]
async fn a_repeated_receive_attempt_id_returns_the_same_messages() {
    let server = Server::start();
    let c = client(&server);
    let url = queue(
        &c,
        "r.fifo",
        &[
            (QueueAttributeName::FifoQueue, "true"),
            (QueueAttributeName::ContentBasedDeduplication, "true"),
        ],
    )
    .await;
    send(&c, &url, "one", "g", None).await;
    send(&c, &url, "two", "g", None).await;
    let attempt = |id: &'static str| {
        let c = c.clone();
        let url = url.clone();
        async move {
            c.receive_message()
                .queue_url(&url)
                .max_number_of_messages(1)
                .receive_request_attempt_id(id)
                .send()
                .await
                .expect("receive")
                .messages()
                .iter()
                .map(|m| (m.body.clone(), m.receipt_handle.clone()))
                .collect::<Vec<_>>()
        }
    };
    let first = attempt("attempt-1").await;
    assert_eq!(first.len(), 1);
    assert_eq!(attempt("attempt-1").await, first, "retried attempt");
    assert!(attempt("attempt-2").await.is_empty(), "group still blocked");
}

#[tokio::test]
async fn messages_received_too_often_go_to_the_dead_letter_queue_and_move_back() {
    let server = Server::start();
    let c = client(&server);
    let dlq = queue(&c, "dlq", &[]).await;
    let dlq_arn = "arn:aws:sqs:us-east-1:000000000000:dlq";
    let policy = format!(r#"{{"deadLetterTargetArn":"{dlq_arn}","maxReceiveCount":2}}"#);
    let src = queue(
        &c,
        "src",
        &[
            (QueueAttributeName::RedrivePolicy, policy.as_str()),
            (QueueAttributeName::VisibilityTimeout, "0"),
        ],
    )
    .await;
    let (code, _) = service_error(
        c.create_queue()
            .queue_name("bad")
            .attributes(
                QueueAttributeName::RedrivePolicy,
                r#"{"deadLetterTargetArn":"arn:aws:sqs:us-east-1:000000000000:dlq","maxReceiveCount":0}"#,
            )
            .send()
            .await,
    );
    assert_eq!(code, "InvalidAttributeValue");
    let (code, _) = service_error(
        c.create_queue()
            .queue_name("bad")
            .attributes(
                QueueAttributeName::RedrivePolicy,
                r#"{"maxReceiveCount":3}"#,
            )
            .send()
            .await,
    );
    assert_eq!(code, "InvalidAttributeValue");

    let sources = c
        .list_dead_letter_source_queues()
        .queue_url(&dlq)
        .send()
        .await
        .expect("sources");
    assert_eq!(sources.queue_urls(), std::slice::from_ref(&src));

    c.send_message()
        .queue_url(&src)
        .message_body("poison")
        .send()
        .await
        .expect("send");
    // Received twice (visibility 0), then moved on the third receive.
    for _ in 0..2 {
        assert_eq!(
            c.receive_message()
                .queue_url(&src)
                .send()
                .await
                .expect("receive")
                .messages()
                .len(),
            1
        );
    }
    assert!(c
        .receive_message()
        .queue_url(&src)
        .send()
        .await
        .expect("receive")
        .messages()
        .is_empty());
    let got = c
        .receive_message()
        .queue_url(&dlq)
        .visibility_timeout(0)
        .message_system_attribute_names(MessageSystemAttributeName::DeadLetterQueueSourceArn)
        .send()
        .await
        .expect("receive");
    assert_eq!(got.messages()[0].body.as_deref(), Some("poison"));
    assert_eq!(
        got.messages()[0]
            .attributes
            .as_ref()
            .and_then(|a| a.get(&MessageSystemAttributeName::DeadLetterQueueSourceArn))
            .map(String::as_str),
        Some("arn:aws:sqs:us-east-1:000000000000:src")
    );

    // Move it back.
    let (code, message) = service_error(
        c.start_message_move_task()
            .source_arn("arn:aws:sqs:us-east-1:000000000000:src")
            .send()
            .await,
    );
    assert_eq!(
        (code.as_str(), message.as_str()),
        (
            "InvalidParameterValue",
            "Source queue must be configured as a Dead Letter Queue."
        )
    );
    let (code, _) = service_error(
        c.start_message_move_task()
            .source_arn("arn:aws:sqs:us-east-1:000000000000:none")
            .send()
            .await,
    );
    assert_eq!(code, "ResourceNotFoundException");
    let handle = c
        .start_message_move_task()
        .source_arn(dlq_arn)
        .send()
        .await
        .expect("start")
        .task_handle
        .expect("handle");
    assert!(!handle.is_empty());
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let tasks = c
            .list_message_move_tasks()
            .source_arn(dlq_arn)
            .send()
            .await
            .expect("list");
        let t = &tasks.results()[0];
        if t.status.as_deref() == Some("COMPLETED") {
            assert_eq!(t.approximate_number_of_messages_moved, 1);
            assert_eq!(t.approximate_number_of_messages_to_move, Some(1));
            assert_eq!(t.source_arn.as_deref(), Some(dlq_arn));
            break;
        }
        assert!(Instant::now() < deadline, "task never completed: {t:?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let back = c
        .receive_message()
        .queue_url(&src)
        .send()
        .await
        .expect("receive");
    assert_eq!(back.messages()[0].body.as_deref(), Some("poison"));
    let (code, message) = service_error(
        c.cancel_message_move_task()
            .task_handle(handle)
            .send()
            .await,
    );
    assert_eq!(
        (code.as_str(), message.as_str()),
        ("ResourceNotFoundException", "Task does not exist.")
    );
}

#[tokio::test]
async fn redrive_allow_policies_choose_who_may_dead_letter_here() {
    let server = Server::start();
    let c = client(&server);
    let policy = |dlq: &str| {
        format!(
            r#"{{"deadLetterTargetArn":"arn:aws:sqs:us-east-1:000000000000:{dlq}","maxReceiveCount":3}}"#
        )
    };
    queue(
        &c,
        "closed",
        &[(
            QueueAttributeName::RedriveAllowPolicy,
            r#"{"redrivePermission":"denyAll"}"#,
        )],
    )
    .await;
    queue(
        &c,
        "picky",
        &[(
            QueueAttributeName::RedriveAllowPolicy,
            r#"{"redrivePermission":"byQueue","sourceQueueArns":["arn:aws:sqs:us-east-1:000000000000:friend"]}"#,
        )],
    )
    .await;
    let (code, message) = service_error(
        c.create_queue()
            .queue_name("src")
            .attributes(QueueAttributeName::RedrivePolicy, policy("closed"))
            .send()
            .await,
    );
    assert_eq!(code, "InvalidParameterValue");
    assert!(message.contains("does not allow this queue"), "{message}");
    let (code, _) = service_error(
        c.create_queue()
            .queue_name("stranger")
            .attributes(QueueAttributeName::RedrivePolicy, policy("picky"))
            .send()
            .await,
    );
    assert_eq!(code, "InvalidParameterValue");
    queue(
        &c,
        "friend",
        &[(QueueAttributeName::RedrivePolicy, policy("picky").as_str())],
    )
    .await;
    let (code, _) = service_error(
        c.create_queue()
            .queue_name("bad")
            .attributes(
                QueueAttributeName::RedriveAllowPolicy,
                r#"{"redrivePermission":"byQueue"}"#,
            )
            .send()
            .await,
    );
    assert_eq!(code, "InvalidAttributeValue");
}

#[tokio::test]
async fn a_slow_move_task_can_be_cancelled() {
    let server = Server::start();
    let c = client(&server);
    let dlq = queue(&c, "dlq", &[]).await;
    let dlq_arn = "arn:aws:sqs:us-east-1:000000000000:dlq";
    let src = queue(
        &c,
        "src",
        &[(
            QueueAttributeName::RedrivePolicy,
            r#"{"deadLetterTargetArn":"arn:aws:sqs:us-east-1:000000000000:dlq","maxReceiveCount":1}"#,
        )],
    )
    .await;
    for i in 0..5 {
        c.send_message()
            .queue_url(&dlq)
            .message_body(format!("m{i}"))
            .send()
            .await
            .expect("send");
    }
    let handle = c
        .start_message_move_task()
        .source_arn(dlq_arn)
        .destination_arn("arn:aws:sqs:us-east-1:000000000000:src")
        .max_number_of_messages_per_second(1)
        .send()
        .await
        .expect("start")
        .task_handle
        .expect("handle");
    let (code, _) = service_error(c.start_message_move_task().source_arn(dlq_arn).send().await);
    assert_eq!(
        code, "AWS.SimpleQueueService.UnsupportedOperation",
        "one task at a time"
    );
    let running = c
        .list_message_move_tasks()
        .source_arn(dlq_arn)
        .send()
        .await
        .expect("list");
    assert_eq!(running.results()[0].status.as_deref(), Some("RUNNING"));
    assert_eq!(
        running.results()[0].task_handle.as_deref(),
        Some(handle.as_str())
    );
    let moved = c
        .cancel_message_move_task()
        .task_handle(&handle)
        .send()
        .await
        .expect("cancel")
        .approximate_number_of_messages_moved;
    assert!(moved < 5, "{moved}");
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let tasks = c
            .list_message_move_tasks()
            .source_arn(dlq_arn)
            .send()
            .await
            .expect("list");
        match tasks.results()[0].status.as_deref() {
            Some("CANCELLED") => break,
            Some("CANCELLING") => {}
            other => panic!("unexpected status {other:?}"),
        }
        assert!(Instant::now() < deadline, "never cancelled");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let left = c
        .get_queue_attributes()
        .queue_url(&src)
        .attribute_names(QueueAttributeName::ApproximateNumberOfMessages)
        .send()
        .await
        .expect("attributes")
        .attributes
        .and_then(|a| {
            a.get(&QueueAttributeName::ApproximateNumberOfMessages)
                .cloned()
        });
    assert!(left.is_some_and(|n| n.parse::<u32>().is_ok_and(|n| n < 5)));
}
