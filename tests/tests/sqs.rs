//! SQS end to end with `aws-sdk-sqs` (the JSON protocol): queues,
//! attributes, messages, visibility, batches, long polling, MD5 digests
//! against known values, and durability across a restart. FIFO queues,
//! dead-letter queues and the query protocol are in `sqs_fifo.rs` and
//! `sqs_query.rs`.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use aws_sdk_sqs::primitives::Blob;
use aws_sdk_sqs::types::{
    ChangeMessageVisibilityBatchRequestEntry, DeleteMessageBatchRequestEntry,
    MessageAttributeValue, MessageSystemAttributeName, MessageSystemAttributeNameForSends,
    MessageSystemAttributeValue, QueueAttributeName, SendMessageBatchRequestEntry,
};
use aws_sdk_sqs::Client;
use tarn_tests::{sdk_client, service_error, sqs_queue as queue, Server};

fn client(server: &Server) -> Client {
    sdk_client!(aws_sdk_sqs, server.endpoint.as_str())
}

async fn attr(c: &Client, url: &str, name: QueueAttributeName) -> String {
    c.get_queue_attributes()
        .queue_url(url)
        .attribute_names(name.clone())
        .send()
        .await
        .expect("attributes")
        .attributes
        .and_then(|a| a.get(&name).cloned())
        .unwrap_or_default()
}

#[tokio::test]
async fn queues_are_created_idempotently_listed_paged_and_deleted() {
    let server = Server::start();
    let c = client(&server);
    let url = queue(&c, "jobs", &[(QueueAttributeName::VisibilityTimeout, "40")]).await;
    assert_eq!(
        url,
        format!("{}/000000000000/jobs", server.endpoint),
        "URL names the host the request came to"
    );
    // Same attributes: the same queue.
    assert_eq!(
        queue(&c, "jobs", &[(QueueAttributeName::VisibilityTimeout, "40")]).await,
        url
    );
    let (code, message) = service_error(
        c.create_queue()
            .queue_name("jobs")
            .attributes(QueueAttributeName::VisibilityTimeout, "41")
            .send()
            .await,
    );
    assert_eq!(
        (code.as_str(), message.as_str()),
        (
            "QueueAlreadyExists",
            "A queue already exists with the same name and a different value for attribute VisibilityTimeout"
        )
    );
    for bad in ["", "has space", &"x".repeat(81)] {
        let (code, message) = service_error(c.create_queue().queue_name(bad).send().await);
        assert_eq!(code, "InvalidParameterValue", "{bad:?}");
        assert_eq!(
            message,
            "Can only include alphanumeric characters, hyphens, or underscores. 1 to 80 in length"
        );
    }
    let got = c
        .get_queue_url()
        .queue_name("jobs")
        .send()
        .await
        .expect("url");
    assert_eq!(got.queue_url.as_deref(), Some(url.as_str()));
    let (code, message) = service_error(c.get_queue_url().queue_name("nope").send().await);
    assert_eq!(
        (code.as_str(), message.as_str()),
        (
            "AWS.SimpleQueueService.NonExistentQueue",
            "The specified queue does not exist."
        )
    );
    for name in ["jobs-a", "jobs-b", "other"] {
        queue(&c, name, &[]).await;
    }
    let all = c.list_queues().send().await.expect("list");
    assert_eq!(all.queue_urls().len(), 4);
    assert_eq!(all.next_token, None);
    let prefixed = c
        .list_queues()
        .queue_name_prefix("jobs")
        .send()
        .await
        .expect("list");
    assert_eq!(prefixed.queue_urls().len(), 3);
    // Pages of two.
    let first = c.list_queues().max_results(2).send().await.expect("page");
    assert_eq!(first.queue_urls().len(), 2);
    let token = first.next_token.clone().expect("token");
    let second = c
        .list_queues()
        .max_results(2)
        .next_token(token)
        .send()
        .await
        .expect("page");
    assert_eq!(second.queue_urls().len(), 2);
    assert_eq!(second.next_token, None);
    let (code, _) = service_error(c.list_queues().max_results(0).send().await);
    assert_eq!(code, "InvalidParameterValue");

    c.delete_queue()
        .queue_url(&url)
        .send()
        .await
        .expect("delete");
    let (code, _) = service_error(
        c.send_message()
            .queue_url(&url)
            .message_body("x")
            .send()
            .await,
    );
    assert_eq!(code, "AWS.SimpleQueueService.NonExistentQueue");
    let (code, _) = service_error(c.delete_queue().queue_url(&url).send().await);
    assert_eq!(code, "AWS.SimpleQueueService.NonExistentQueue");
    // Its name is held for 60 s, as SQS holds it.
    let (code, message) = service_error(c.create_queue().queue_name("jobs").send().await);
    assert_eq!(code, "AWS.SimpleQueueService.QueueDeletedRecently");
    assert_eq!(
        message,
        "You must wait 60 seconds after deleting a queue before you can create another queue with the same name."
    );
    assert!(c.get_queue_url().queue_name("jobs").send().await.is_err());
}

#[tokio::test]
async fn attributes_have_defaults_are_checked_and_counts_are_live() {
    let server = Server::start();
    let c = client(&server);
    let url = queue(&c, "q", &[]).await;
    let all = c
        .get_queue_attributes()
        .queue_url(&url)
        .attribute_names(QueueAttributeName::All)
        .send()
        .await
        .expect("attributes")
        .attributes
        .expect("some");
    let get = |k: QueueAttributeName| all.get(&k).cloned().unwrap_or_default();
    assert_eq!(get(QueueAttributeName::VisibilityTimeout), "30");
    assert_eq!(get(QueueAttributeName::MaximumMessageSize), "262144");
    assert_eq!(get(QueueAttributeName::MessageRetentionPeriod), "345600");
    assert_eq!(get(QueueAttributeName::DelaySeconds), "0");
    assert_eq!(get(QueueAttributeName::ReceiveMessageWaitTimeSeconds), "0");
    assert_eq!(
        get(QueueAttributeName::QueueArn),
        "arn:aws:sqs:us-east-1:000000000000:q"
    );
    assert!(!get(QueueAttributeName::CreatedTimestamp).is_empty());
    assert!(!all.contains_key(&QueueAttributeName::FifoQueue));

    c.set_queue_attributes()
        .queue_url(&url)
        .attributes(QueueAttributeName::VisibilityTimeout, "5")
        .attributes(QueueAttributeName::DelaySeconds, "0")
        .send()
        .await
        .expect("set");
    assert_eq!(
        attr(&c, &url, QueueAttributeName::VisibilityTimeout).await,
        "5"
    );
    let (code, message) = service_error(
        c.set_queue_attributes()
            .queue_url(&url)
            .attributes(QueueAttributeName::VisibilityTimeout, "43201")
            .send()
            .await,
    );
    assert_eq!(
        (code.as_str(), message.as_str()),
        (
            "InvalidAttributeValue",
            "Invalid value for the parameter VisibilityTimeout."
        )
    );
    let (code, message) = service_error(
        c.set_queue_attributes()
            .queue_url(&url)
            .attributes(QueueAttributeName::from("Nope"), "1")
            .send()
            .await,
    );
    assert_eq!(
        (code.as_str(), message.as_str()),
        ("InvalidAttributeName", "Unknown Attribute Nope.")
    );
    let (code, _) = service_error(
        c.set_queue_attributes()
            .queue_url(&url)
            .attributes(QueueAttributeName::ContentBasedDeduplication, "true")
            .send()
            .await,
    );
    assert_eq!(
        code, "InvalidAttributeName",
        "FIFO attributes on a standard queue"
    );

    // Counts: one visible, one delayed, then one in flight.
    c.send_message()
        .queue_url(&url)
        .message_body("now")
        .send()
        .await
        .expect("send");
    c.send_message()
        .queue_url(&url)
        .message_body("later")
        .delay_seconds(60)
        .send()
        .await
        .expect("send");
    assert_eq!(
        attr(&c, &url, QueueAttributeName::ApproximateNumberOfMessages).await,
        "1"
    );
    assert_eq!(
        attr(
            &c,
            &url,
            QueueAttributeName::ApproximateNumberOfMessagesDelayed
        )
        .await,
        "1"
    );
    c.receive_message()
        .queue_url(&url)
        .send()
        .await
        .expect("receive");
    assert_eq!(
        attr(&c, &url, QueueAttributeName::ApproximateNumberOfMessages).await,
        "0"
    );
    assert_eq!(
        attr(
            &c,
            &url,
            QueueAttributeName::ApproximateNumberOfMessagesNotVisible
        )
        .await,
        "1"
    );
}

#[tokio::test]
async fn messages_carry_attributes_and_the_digests_aws_computes() {
    let server = Server::start();
    let c = client(&server);
    let url = queue(&c, "q", &[]).await;
    // Known digests: the body's MD5 (RFC 1321), and the attribute digest
    // that moto's tests pin as AWS's for this attribute.
    let sent = c
        .send_message()
        .queue_url(&url)
        .message_body("derp")
        .message_attributes(
            "timestamp",
            MessageAttributeValue::builder()
                .data_type("Number")
                .string_value("1493147359900")
                .build()
                .expect("attr"),
        )
        .send()
        .await
        .expect("send");
    assert_eq!(
        sent.md5_of_message_body.as_deref(),
        Some("58fd9edd83341c29f1aebba81c31e257")
    );
    assert_eq!(
        sent.md5_of_message_attributes.as_deref(),
        Some("235c5c510d26fb653d073faed50ae77c")
    );
    let got = c
        .receive_message()
        .queue_url(&url)
        .message_attribute_names("All")
        .message_system_attribute_names(MessageSystemAttributeName::All)
        .send()
        .await
        .expect("receive");
    let m = &got.messages()[0];
    assert_eq!(m.body.as_deref(), Some("derp"));
    assert_eq!(m.message_id, sent.message_id);
    assert_eq!(
        m.md5_of_body.as_deref(),
        Some("58fd9edd83341c29f1aebba81c31e257")
    );
    assert_eq!(
        m.md5_of_message_attributes.as_deref(),
        Some("235c5c510d26fb653d073faed50ae77c")
    );
    let attrs = m.attributes.as_ref().expect("system attributes");
    assert_eq!(
        attrs
            .get(&MessageSystemAttributeName::ApproximateReceiveCount)
            .map(String::as_str),
        Some("1")
    );
    assert!(attrs.contains_key(&MessageSystemAttributeName::SentTimestamp));
    assert_eq!(
        attrs
            .get(&MessageSystemAttributeName::SenderId)
            .map(String::as_str),
        Some("000000000000")
    );

    // Every data type, selection by name and prefix, the trace header.
    let sent = c
        .send_message()
        .queue_url(&url)
        .message_body("typed")
        .message_attributes(
            "s",
            MessageAttributeValue::builder()
                .data_type("String.custom")
                .string_value("v")
                .build()
                .expect("attr"),
        )
        .message_attributes(
            "b",
            MessageAttributeValue::builder()
                .data_type("Binary")
                .binary_value(Blob::new(vec![0u8, 1, 2, 255]))
                .build()
                .expect("attr"),
        )
        .message_attributes(
            "p.x",
            MessageAttributeValue::builder()
                .data_type("Number")
                .string_value("-1.5e3")
                .build()
                .expect("attr"),
        )
        .message_system_attributes(
            MessageSystemAttributeNameForSends::AwsTraceHeader,
            MessageSystemAttributeValue::builder()
                .data_type("String")
                .string_value("Root=1-5759e988-bd862e3fe1be46a994272793")
                .build()
                .expect("trace"),
        )
        .send()
        .await
        .expect("send");
    assert!(sent.md5_of_message_system_attributes.is_some());
    let got = c
        .receive_message()
        .queue_url(&url)
        .message_attribute_names("b")
        .message_attribute_names("p.*")
        .message_system_attribute_names(MessageSystemAttributeName::AwsTraceHeader)
        .send()
        .await
        .expect("receive");
    let m = &got.messages()[0];
    let ma = m.message_attributes.as_ref().expect("attributes");
    assert_eq!(ma.len(), 2, "{ma:?}");
    assert_eq!(
        ma["b"].binary_value.as_ref().map(|b| b.as_ref().to_vec()),
        Some(vec![0u8, 1, 2, 255])
    );
    assert_eq!(ma["p.x"].string_value.as_deref(), Some("-1.5e3"));
    assert_ne!(
        m.md5_of_message_attributes, sent.md5_of_message_attributes,
        "digest of the selection"
    );
    assert_eq!(
        m.attributes
            .as_ref()
            .and_then(|a| a.get(&MessageSystemAttributeName::AwsTraceHeader))
            .map(String::as_str),
        Some("Root=1-5759e988-bd862e3fe1be46a994272793")
    );

    // Bad attributes and bodies.
    let (code, _) = service_error(
        c.send_message()
            .queue_url(&url)
            .message_body("x")
            .message_attributes(
                "n",
                MessageAttributeValue::builder()
                    .data_type("Number")
                    .string_value("abc")
                    .build()
                    .expect("attr"),
            )
            .send()
            .await,
    );
    assert_eq!(code, "InvalidParameterValue");
    let (code, message) = service_error(
        c.send_message()
            .queue_url(&url)
            .message_body("x")
            .message_attributes(
                "AWS.x",
                MessageAttributeValue::builder()
                    .data_type("String")
                    .string_value("v")
                    .build()
                    .expect("attr"),
            )
            .send()
            .await,
    );
    assert_eq!(code, "InvalidParameterValue");
    assert!(message.contains("'AWS.x'"), "{message}");
    let (code, message) = service_error(
        c.send_message()
            .queue_url(&url)
            .message_body("x".repeat(262_145))
            .send()
            .await,
    );
    assert_eq!(
        (code.as_str(), message.as_str()),
        (
            "InvalidParameterValue",
            "One or more parameters are invalid. Reason: Message must be shorter than 262144 bytes."
        )
    );
    let (code, message) = service_error(
        c.send_message()
            .queue_url(&url)
            .message_body("")
            .send()
            .await,
    );
    assert_eq!(
        (code.as_str(), message.as_str()),
        (
            "MissingParameter",
            "The request must contain the parameter MessageBody."
        )
    );
    let (code, _) = service_error(
        c.send_message()
            .queue_url(&url)
            .message_body("bad \u{1} char")
            .send()
            .await,
    );
    assert_eq!(code, "InvalidMessageContents");
    let (code, message) = service_error(
        c.send_message()
            .queue_url(&url)
            .message_body("x")
            .delay_seconds(901)
            .send()
            .await,
    );
    assert_eq!(
        (code.as_str(), message.as_str()),
        (
            "InvalidParameterValue",
            "Value 901 for parameter DelaySeconds is invalid. Reason: DelaySeconds must be >= 0 and <= 900."
        )
    );
}

#[tokio::test]
async fn visibility_timeouts_hide_messages_and_stale_handles_are_refused() {
    let server = Server::start();
    let c = client(&server);
    let url = queue(&c, "q", &[]).await;
    c.send_message()
        .queue_url(&url)
        .message_body("m")
        .send()
        .await
        .expect("send");
    let first = c
        .receive_message()
        .queue_url(&url)
        .visibility_timeout(30)
        .send()
        .await
        .expect("receive");
    let h1 = first.messages()[0].receipt_handle.clone().expect("handle");
    // Hidden for the window: a second receive gets nothing.
    let none = c
        .receive_message()
        .queue_url(&url)
        .send()
        .await
        .expect("receive");
    assert!(none.messages().is_empty());
    // Made visible again, it is received again with a new handle.
    c.change_message_visibility()
        .queue_url(&url)
        .receipt_handle(&h1)
        .visibility_timeout(0)
        .send()
        .await
        .expect("change");
    let second = c
        .receive_message()
        .queue_url(&url)
        .visibility_timeout(30)
        .message_system_attribute_names(MessageSystemAttributeName::ApproximateReceiveCount)
        .send()
        .await
        .expect("receive");
    let m = &second.messages()[0];
    let h2 = m.receipt_handle.clone().expect("handle");
    assert_ne!(h1, h2);
    assert_eq!(
        m.attributes
            .as_ref()
            .and_then(|a| a.get(&MessageSystemAttributeName::ApproximateReceiveCount))
            .map(String::as_str),
        Some("2")
    );
    // The first handle is stale now.
    let (code, message) = service_error(
        c.change_message_visibility()
            .queue_url(&url)
            .receipt_handle(&h1)
            .visibility_timeout(10)
            .send()
            .await,
    );
    assert_eq!(code, "InvalidParameterValue");
    assert_eq!(
        message,
        format!("Value {h1} for parameter ReceiptHandle is invalid. Reason: The receipt handle has expired.")
    );
    // Deleting with it deletes nothing (the API reference's rule).
    c.delete_message()
        .queue_url(&url)
        .receipt_handle(&h1)
        .send()
        .await
        .expect("stale delete succeeds");
    assert_eq!(
        attr(
            &c,
            &url,
            QueueAttributeName::ApproximateNumberOfMessagesNotVisible
        )
        .await,
        "1"
    );
    let (code, message) = service_error(
        c.delete_message()
            .queue_url(&url)
            .receipt_handle("garbage")
            .send()
            .await,
    );
    assert_eq!(
        (code.as_str(), message.as_str()),
        (
            "ReceiptHandleIsInvalid",
            "The input receipt handle \"garbage\" is not a valid receipt handle."
        )
    );
    let (code, message) = service_error(
        c.change_message_visibility()
            .queue_url(&url)
            .receipt_handle(&h2)
            .visibility_timeout(43_201)
            .send()
            .await,
    );
    assert_eq!(
        (code.as_str(), message.as_str()),
        (
            "InvalidParameterValue",
            "Value 43201 for parameter VisibilityTimeout is invalid. Reason: Must be between 0 and 43200."
        )
    );
    c.delete_message()
        .queue_url(&url)
        .receipt_handle(&h2)
        .send()
        .await
        .expect("delete");
    // Deleted: a visibility change finds no message in flight.
    let (code, message) = service_error(
        c.change_message_visibility()
            .queue_url(&url)
            .receipt_handle(&h2)
            .visibility_timeout(10)
            .send()
            .await,
    );
    assert_eq!(
        (code.as_str(), message.as_str()),
        (
            "AWS.SimpleQueueService.MessageNotInflight",
            "Message does not exist or is not available for visibility timeout change."
        )
    );
    // A short timeout expires by itself.
    c.send_message()
        .queue_url(&url)
        .message_body("again")
        .send()
        .await
        .expect("send");
    let got = c
        .receive_message()
        .queue_url(&url)
        .visibility_timeout(1)
        .send()
        .await
        .expect("receive");
    assert_eq!(got.messages().len(), 1);
    let started = Instant::now();
    let again = c
        .receive_message()
        .queue_url(&url)
        .wait_time_seconds(5)
        .send()
        .await
        .expect("receive");
    assert_eq!(again.messages().len(), 1, "visible again after 1 s");
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn receive_parameters_are_checked() {
    let server = Server::start();
    let c = client(&server);
    let url = queue(&c, "q", &[]).await;
    for (max, wait, vt, message) in [
        (Some(11), None, None, "Value 11 for parameter MaxNumberOfMessages is invalid. Reason: Must be between 1 and 10, if provided."),
        (Some(0), None, None, "Value 0 for parameter MaxNumberOfMessages is invalid. Reason: Must be between 1 and 10, if provided."),
        (None, Some(21), None, "Value 21 for parameter WaitTimeSeconds is invalid. Reason: Must be >= 0 and <= 20, if provided."),
        (None, None, Some(-1), "Value -1 for parameter VisibilityTimeout is invalid. Reason: Must be >= 0 and <= 43200, if provided."),
    ] {
        let (code, got) = service_error(
            c.receive_message()
                .queue_url(&url)
                .set_max_number_of_messages(max)
                .set_wait_time_seconds(wait)
                .set_visibility_timeout(vt)
                .send()
                .await,
        );
        assert_eq!((code.as_str(), got.as_str()), ("InvalidParameterValue", message));
    }
}

#[tokio::test]
async fn delays_hold_messages_back_per_queue_and_per_message() {
    let server = Server::start();
    let c = client(&server);
    let url = queue(&c, "q", &[(QueueAttributeName::DelaySeconds, "1")]).await;
    c.send_message()
        .queue_url(&url)
        .message_body("queue delay")
        .send()
        .await
        .expect("send");
    c.send_message()
        .queue_url(&url)
        .message_body("no delay")
        .delay_seconds(0)
        .send()
        .await
        .expect("send");
    let got = c
        .receive_message()
        .queue_url(&url)
        .max_number_of_messages(10)
        .send()
        .await
        .expect("receive");
    assert_eq!(got.messages().len(), 1);
    assert_eq!(got.messages()[0].body.as_deref(), Some("no delay"));
    let started = Instant::now();
    let got = c
        .receive_message()
        .queue_url(&url)
        .wait_time_seconds(5)
        .send()
        .await
        .expect("receive");
    assert_eq!(got.messages()[0].body.as_deref(), Some("queue delay"));
    assert!(started.elapsed() < Duration::from_secs(3));
}

#[tokio::test]
async fn a_long_poll_returns_within_100_ms_of_a_send() {
    let server = Server::start();
    let c = client(&server);
    let url = queue(&c, "q", &[]).await;
    for _ in 0..3 {
        let waiter = {
            let (c, url) = (c.clone(), url.clone());
            tokio::spawn(async move {
                let got = c
                    .receive_message()
                    .queue_url(&url)
                    .wait_time_seconds(10)
                    .send()
                    .await
                    .expect("receive");
                (Instant::now(), got)
            })
        };
        tokio::time::sleep(Duration::from_millis(300)).await;
        c.send_message()
            .queue_url(&url)
            .message_body("wake")
            .send()
            .await
            .expect("send");
        let sent_at = Instant::now();
        let (received_at, got) = waiter.await.expect("waiter");
        assert_eq!(got.messages().len(), 1);
        let lag = received_at.saturating_duration_since(sent_at);
        assert!(
            lag < Duration::from_millis(100),
            "long poll returned {lag:?} after the send"
        );
        c.delete_message()
            .queue_url(&url)
            .receipt_handle(got.messages()[0].receipt_handle.clone().expect("handle"))
            .send()
            .await
            .expect("delete");
    }
    // With nothing sent, it waits the whole time.
    let started = Instant::now();
    let got = c
        .receive_message()
        .queue_url(&url)
        .wait_time_seconds(1)
        .send()
        .await
        .expect("receive");
    assert!(got.messages().is_empty());
    assert!(started.elapsed() >= Duration::from_millis(950));
}

fn send_entry(id: &str, body: &str) -> SendMessageBatchRequestEntry {
    SendMessageBatchRequestEntry::builder()
        .id(id)
        .message_body(body)
        .build()
        .expect("entry")
}

#[tokio::test]
async fn batches_answer_per_entry_and_refuse_malformed_requests() {
    let server = Server::start();
    let c = client(&server);
    let url = queue(&c, "q", &[]).await;
    let r = c
        .send_message_batch()
        .queue_url(&url)
        .entries(send_entry("a", "one"))
        .entries(send_entry("b", "two"))
        .entries(
            SendMessageBatchRequestEntry::builder()
                .id("c")
                .message_body("three")
                .delay_seconds(1000)
                .build()
                .expect("entry"),
        )
        .send()
        .await
        .expect("batch");
    assert_eq!(r.successful().len(), 2);
    assert_eq!(r.failed().len(), 1);
    assert_eq!(r.failed()[0].id, "c");
    assert_eq!(r.failed()[0].code, "InvalidParameterValue");
    assert!(r.failed()[0].sender_fault);
    assert_eq!(
        r.successful()[0].md5_of_message_body,
        "f97c5d29941bfb1b2fdab0874906ab82"
    );

    let (code, message) = service_error(c.send_message_batch().queue_url(&url).send().await);
    assert_eq!(
        (code.as_str(), message.as_str()),
        (
            "AWS.SimpleQueueService.EmptyBatchRequest",
            "There should be at least one SendMessageBatchRequestEntry in the request."
        )
    );
    let mut eleven = c.send_message_batch().queue_url(&url);
    for i in 0..11 {
        eleven = eleven.entries(send_entry(&format!("e{i}"), "x"));
    }
    let (code, message) = service_error(eleven.send().await);
    assert_eq!(
        (code.as_str(), message.as_str()),
        (
            "AWS.SimpleQueueService.TooManyEntriesInBatchRequest",
            "Maximum number of entries per request are 10. You have sent 11."
        )
    );
    let (code, message) = service_error(
        c.send_message_batch()
            .queue_url(&url)
            .entries(send_entry("same", "x"))
            .entries(send_entry("same", "y"))
            .send()
            .await,
    );
    assert_eq!(
        (code.as_str(), message.as_str()),
        (
            "AWS.SimpleQueueService.BatchEntryIdsNotDistinct",
            "Id same repeated."
        )
    );
    let (code, _) = service_error(
        c.send_message_batch()
            .queue_url(&url)
            .entries(send_entry("bad id!", "x"))
            .send()
            .await,
    );
    assert_eq!(code, "AWS.SimpleQueueService.InvalidBatchEntryId");
    let (code, message) = service_error(
        c.send_message_batch()
            .queue_url(&url)
            .entries(send_entry("a", &"x".repeat(200_000)))
            .entries(send_entry("b", &"x".repeat(100_000)))
            .send()
            .await,
    );
    assert_eq!(
        (code.as_str(), message.as_str()),
        (
            "AWS.SimpleQueueService.BatchRequestTooLong",
            "Batch requests cannot be longer than 262144 bytes. You have sent 300000 bytes."
        )
    );

    let got = c
        .receive_message()
        .queue_url(&url)
        .max_number_of_messages(10)
        .visibility_timeout(30)
        .send()
        .await
        .expect("receive");
    assert_eq!(got.messages().len(), 2);
    let handles: Vec<String> = got
        .messages()
        .iter()
        .map(|m| m.receipt_handle.clone().expect("handle"))
        .collect();
    let r = c
        .change_message_visibility_batch()
        .queue_url(&url)
        .entries(
            ChangeMessageVisibilityBatchRequestEntry::builder()
                .id("1")
                .receipt_handle(&handles[0])
                .visibility_timeout(60)
                .build()
                .expect("entry"),
        )
        .entries(
            ChangeMessageVisibilityBatchRequestEntry::builder()
                .id("2")
                .receipt_handle("garbage")
                .visibility_timeout(60)
                .build()
                .expect("entry"),
        )
        .send()
        .await
        .expect("batch");
    assert_eq!(r.successful().len(), 1);
    assert_eq!(r.failed()[0].code, "ReceiptHandleIsInvalid");
    let r = c
        .delete_message_batch()
        .queue_url(&url)
        .entries(
            DeleteMessageBatchRequestEntry::builder()
                .id("1")
                .receipt_handle(&handles[0])
                .build()
                .expect("entry"),
        )
        .entries(
            DeleteMessageBatchRequestEntry::builder()
                .id("2")
                .receipt_handle(&handles[1])
                .build()
                .expect("entry"),
        )
        .send()
        .await
        .expect("batch");
    assert_eq!(r.successful().len(), 2);
    assert!(r.failed().is_empty());
    assert_eq!(
        attr(
            &c,
            &url,
            QueueAttributeName::ApproximateNumberOfMessagesNotVisible
        )
        .await,
        "0"
    );
    let (code, message) = service_error(c.delete_message_batch().queue_url(&url).send().await);
    assert_eq!(
        (code.as_str(), message.as_str()),
        (
            "AWS.SimpleQueueService.EmptyBatchRequest",
            "There should be at least one DeleteMessageBatchRequestEntry in the request."
        )
    );
}

#[tokio::test]
async fn purges_empty_the_queue_once_a_minute_and_tags_are_kept() {
    let server = Server::start();
    let c = client(&server);
    let url = queue(&c, "q", &[]).await;
    for i in 0..5 {
        c.send_message()
            .queue_url(&url)
            .message_body(format!("m{i}"))
            .send()
            .await
            .expect("send");
    }
    c.purge_queue().queue_url(&url).send().await.expect("purge");
    assert_eq!(
        attr(&c, &url, QueueAttributeName::ApproximateNumberOfMessages).await,
        "0"
    );
    let (code, message) = service_error(c.purge_queue().queue_url(&url).send().await);
    assert_eq!(
        (code.as_str(), message.as_str()),
        (
            "AWS.SimpleQueueService.PurgeQueueInProgress",
            "Only one PurgeQueue operation on q is allowed every 60 seconds."
        )
    );

    c.tag_queue()
        .queue_url(&url)
        .tags("team", "a")
        .tags("env", "dev")
        .send()
        .await
        .expect("tag");
    let tags = c
        .list_queue_tags()
        .queue_url(&url)
        .send()
        .await
        .expect("tags")
        .tags
        .expect("some");
    assert_eq!(
        tags,
        HashMap::from([
            ("team".to_owned(), "a".to_owned()),
            ("env".to_owned(), "dev".to_owned())
        ])
    );
    c.untag_queue()
        .queue_url(&url)
        .tag_keys("env")
        .send()
        .await
        .expect("untag");
    let tags = c
        .list_queue_tags()
        .queue_url(&url)
        .send()
        .await
        .expect("tags")
        .tags
        .expect("some");
    assert_eq!(tags.len(), 1);
    // Tags given at creation.
    let tagged = c
        .create_queue()
        .queue_name("tagged")
        .tags("k", "v")
        .send()
        .await
        .expect("create")
        .queue_url
        .expect("url");
    let tags = c
        .list_queue_tags()
        .queue_url(&tagged)
        .send()
        .await
        .expect("tags")
        .tags
        .expect("some");
    assert_eq!(tags.get("k").map(String::as_str), Some("v"));
}

#[tokio::test]
async fn acknowledged_messages_survive_a_restart() {
    let dir = tempfile::tempdir().expect("tempdir");
    let url_path;
    {
        let server = Server::start_in(dir.path(), &[]);
        let c = client(&server);
        let url = queue(&c, "durable", &[]).await;
        url_path = url
            .strip_prefix(&server.endpoint)
            .expect("our host")
            .to_owned();
        for i in 0..20 {
            c.send_message()
                .queue_url(&url)
                .message_body(format!("m{i}"))
                .send()
                .await
                .expect("send");
        }
    }
    let server = Server::start_in(dir.path(), &[]);
    let c = client(&server);
    let url = format!("{}{url_path}", server.endpoint);
    let mut bodies = Vec::new();
    for _ in 0..5 {
        let got = c
            .receive_message()
            .queue_url(&url)
            .max_number_of_messages(10)
            .send()
            .await
            .expect("receive");
        bodies.extend(got.messages().iter().filter_map(|m| m.body.clone()));
    }
    bodies.sort();
    let mut want: Vec<String> = (0..20).map(|i| format!("m{i}")).collect();
    want.sort();
    assert_eq!(bodies, want);
}

#[tokio::test]
async fn a_stop_ends_long_polls_at_once() {
    let mut server = Server::start();
    let c = client(&server);
    let url = queue(&c, "q", &[]).await;
    let poll = {
        let (c, url) = (c.clone(), url.clone());
        tokio::spawn(async move {
            c.receive_message()
                .queue_url(&url)
                .wait_time_seconds(20)
                .send()
                .await
        })
    };
    tokio::time::sleep(Duration::from_millis(300)).await;
    let started = Instant::now();
    let stopped = tokio::task::spawn_blocking(move || server.terminate())
        .await
        .expect("terminate");
    assert!(stopped, "exited on its own");
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "stop took {:?}",
        started.elapsed()
    );
    let got = poll.await.expect("poll").expect("answered before the stop");
    assert!(got.messages().is_empty());
}
