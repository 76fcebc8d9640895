//! The SQS side of the load generator: request bodies of SQS's JSON
//! protocol (`X-Amz-Target: AmazonSQS.*`, `application/x-amz-json-1.0`,
//! `POST /` with the queue URL in the body, as current SDKs send them), the
//! setup (CreateQueue, then GetQueueUrl to check the queue answers by name)
//! and the prefill of a queue with SendMessageBatch.
//!
//! The workloads themselves (`sqs-send`, `sqs-receive-delete`) run in
//! [`super::run`] like the DynamoDB ones, so they are measured and reported
//! the same way.

use std::sync::Arc;

use serde::Deserialize;

use super::body::ValuePool;
use super::client::{Client, Op, Reply};
use super::dist::Rng;
use super::run::{attempt, load_phase, Attempts, Config, LoadCounters, LoadReport};

/// Entries per SendMessageBatch / DeleteMessageBatch, and messages per
/// ReceiveMessage (SQS's maximum for all three).
pub const BATCH_MESSAGES: usize = 10;

/// SQS's rule for a standard queue's name: 1 to 80 of `[A-Za-z0-9_-]`.
/// (FIFO queues, `.fifo`, need a MessageGroupId on every send, which these
/// workloads do not send.)
pub fn valid_queue_name(name: &str) -> bool {
    (1..=80).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-'))
}

/// `s` as a JSON string literal, quotes included.
pub fn json_string(s: &str) -> String {
    serde_json::Value::from(s).to_string()
}

fn queue_name_body(buf: &mut Vec<u8>, queue: &str) {
    buf.extend_from_slice(br#"{"QueueName":"#);
    buf.extend_from_slice(json_string(queue).as_bytes());
    buf.push(b'}');
}

/// `SendMessage` of `body` (ASCII alphanumerics: no escaping needed).
/// `queue_url` is a JSON string literal ([`json_string`]).
pub fn send_message(buf: &mut Vec<u8>, queue_url: &str, body: &[u8]) {
    buf.extend_from_slice(br#"{"QueueUrl":"#);
    buf.extend_from_slice(queue_url.as_bytes());
    buf.extend_from_slice(br#","MessageBody":""#);
    buf.extend_from_slice(body);
    buf.extend_from_slice(br#""}"#);
}

/// `SendMessageBatch` of `n` (at most 10) messages with ids `0..n`.
pub fn send_message_batch(
    buf: &mut Vec<u8>,
    queue_url: &str,
    n: usize,
    values: &ValuePool,
    rng: &mut Rng,
) {
    buf.extend_from_slice(br#"{"QueueUrl":"#);
    buf.extend_from_slice(queue_url.as_bytes());
    buf.extend_from_slice(br#","Entries":["#);
    for i in 0..n {
        if i > 0 {
            buf.push(b',');
        }
        buf.extend_from_slice(br#"{"Id":"m"#);
        buf.extend_from_slice(i.to_string().as_bytes());
        buf.extend_from_slice(br#"","MessageBody":""#);
        buf.extend_from_slice(values.value(rng));
        buf.extend_from_slice(br#""}"#);
    }
    buf.extend_from_slice(b"]}");
}

/// `ReceiveMessage` of up to 10 messages, without waiting.
pub fn receive_message(buf: &mut Vec<u8>, queue_url: &str) {
    buf.extend_from_slice(br#"{"QueueUrl":"#);
    buf.extend_from_slice(queue_url.as_bytes());
    buf.extend_from_slice(br#","MaxNumberOfMessages":10,"WaitTimeSeconds":0}"#);
}

/// `DeleteMessageBatch` of the messages whose receipt handles are given.
pub fn delete_message_batch(buf: &mut Vec<u8>, queue_url: &str, handles: &[String]) {
    buf.extend_from_slice(br#"{"QueueUrl":"#);
    buf.extend_from_slice(queue_url.as_bytes());
    buf.extend_from_slice(br#","Entries":["#);
    for (i, h) in handles.iter().enumerate() {
        if i > 0 {
            buf.push(b',');
        }
        buf.extend_from_slice(br#"{"Id":"d"#);
        buf.extend_from_slice(i.to_string().as_bytes());
        buf.extend_from_slice(br#"","ReceiptHandle":"#);
        buf.extend_from_slice(json_string(h).as_bytes());
        buf.push(b'}');
    }
    buf.extend_from_slice(b"]}");
}

#[derive(Deserialize)]
struct QueueUrlReply {
    #[serde(rename = "QueueUrl")]
    queue_url: Option<String>,
}

#[derive(Deserialize)]
struct Message {
    #[serde(rename = "ReceiptHandle")]
    receipt_handle: String,
}

#[derive(Deserialize)]
struct ReceiveReply {
    #[serde(rename = "Messages", default)]
    messages: Vec<Message>,
}

#[derive(Deserialize)]
struct Failed {
    #[serde(rename = "Code", default)]
    code: String,
}

/// The reply of SendMessageBatch and DeleteMessageBatch.
#[derive(Deserialize)]
struct BatchReply {
    #[serde(rename = "Successful", default)]
    successful: Vec<serde_json::Value>,
    #[serde(rename = "Failed", default)]
    failed: Vec<Failed>,
}

/// The receipt handles in a ReceiveMessage reply, into `handles`.
pub fn receipt_handles(body: &[u8], handles: &mut Vec<String>) -> Result<(), String> {
    handles.clear();
    let reply: ReceiveReply = serde_json::from_slice(body)
        .map_err(|e| format!("ReceiveMessage reply is not SQS JSON: {e}"))?;
    handles.extend(reply.messages.into_iter().map(|m| m.receipt_handle));
    Ok(())
}

/// A batch reply's entries: `Ok(successful)` when none failed, else the
/// code of the first failure (and how many failed).
pub fn batch_outcome(op: Op, body: &[u8], expected: usize) -> Result<usize, String> {
    let reply: BatchReply = serde_json::from_slice(body)
        .map_err(|_| format!("{}: reply is not SQS JSON", op.name()))?;
    if let Some(first) = reply.failed.first() {
        return Err(format!(
            "{} entry failed: {}",
            op.name(),
            if first.code.is_empty() {
                "no Code"
            } else {
                &first.code
            }
        ));
    }
    if reply.successful.len() != expected {
        return Err(format!(
            "{}: {} of {expected} entries in Successful",
            op.name(),
            reply.successful.len()
        ));
    }
    Ok(reply.successful.len())
}

fn refusal(what: &str, reply: &Reply<'_>) -> String {
    let ty = reply.error_type();
    let hint = if ty.contains("UnknownOperation") || ty == "HTTP 404" {
        " (this endpoint does not serve SQS's JSON protocol)"
    } else {
        ""
    };
    format!(
        "{what}: {ty}{hint}: {}",
        String::from_utf8_lossy(reply.body).trim()
    )
}

async fn queue_url_call(client: &mut Client, op: Op, queue: &str) -> Result<String, String> {
    let mut buf = Vec::new();
    queue_name_body(&mut buf, queue);
    let what = format!("{} {queue}", op.name());
    let reply = client
        .call(op, &buf)
        .await
        .map_err(|e| format!("{what}: {e}"))?;
    if !reply.is_success() {
        return Err(refusal(&what, &reply));
    }
    let url = serde_json::from_slice::<QueueUrlReply>(reply.body)
        .ok()
        .and_then(|r| r.queue_url)
        .filter(|u| !u.is_empty())
        .ok_or_else(|| {
            format!(
                "{what}: the reply has no QueueUrl: {}",
                String::from_utf8_lossy(reply.body).trim()
            )
        })?;
    Ok(url)
}

/// Create the queue (CreateQueue is idempotent on equal attributes) and
/// return the URL from its reply, after checking that GetQueueUrl finds it.
pub async fn setup(cfg: &Config) -> Result<String, String> {
    let mut client = Client::new(cfg.client.clone());
    let url = queue_url_call(&mut client, Op::CreateQueue, &cfg.queue).await?;
    let found = queue_url_call(&mut client, Op::GetQueueUrl, &cfg.queue).await?;
    if found != url {
        eprintln!(
            "tarn-load: warning: CreateQueue answered {url} but GetQueueUrl {found}; using the first"
        );
    }
    Ok(url)
}

/// Send one prefill batch of `n` messages, resending it on retryable
/// failures. Returns the messages that were not sent.
async fn prefill_batch(
    client: &mut Client,
    request: &[u8],
    n: u64,
    rng: &mut Rng,
    counters: &LoadCounters,
) -> u64 {
    let mut attempts = Attempts::new();
    while attempts.next(rng, counters).await {
        let reply = match attempt(client, Op::SendMessageBatch, request, counters).await {
            Ok(r) => r,
            Err(true) => continue,
            Err(false) => return n,
        };
        return match batch_outcome(Op::SendMessageBatch, reply.body, n as usize) {
            Ok(_) => 0,
            Err(e) => {
                counters.error(&e);
                n
            }
        };
    }
    n
}

/// Put `cfg.records` messages of `cfg.value_bytes` in the queue with
/// concurrent SendMessageBatches of 10.
pub async fn prefill(cfg: Arc<Config>) -> Result<LoadReport, String> {
    let batches = cfg.records.div_ceil(BATCH_MESSAGES as u64);
    let (counters, elapsed) = load_phase(
        &cfg,
        batches,
        cfg.records,
        ("prefill", "messages"),
        |w, counters| {
            let cfg = cfg.clone();
            async move {
                let (mut rng, values, mut client) = cfg.worker_tools(w);
                let url = json_string(&cfg.queue_url);
                let mut request = Vec::with_capacity(BATCH_MESSAGES * (cfg.value_bytes + 40) + 200);
                while let Some(b) = counters.take(batches) {
                    let n = (cfg.records - b * BATCH_MESSAGES as u64).min(BATCH_MESSAGES as u64);
                    request.clear();
                    send_message_batch(&mut request, &url, n as usize, &values, &mut rng);
                    let failed = prefill_batch(&mut client, &request, n, &mut rng, &counters).await;
                    counters.finished(n, failed);
                }
            }
        },
    )
    .await?;
    let report = LoadReport::of(&counters, elapsed, false);
    if report.items == 0 {
        let first = report.errors.keys().next().cloned().unwrap_or_default();
        return Err(format!(
            "prefill: no message could be sent to {} ({first})",
            cfg.queue
        ));
    }
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::load::testing::read_request;
    use crate::load::workload::Workload;
    use std::sync::atomic::{AtomicU64, Ordering};
    use tokio::io::AsyncWriteExt;

    /// A stand-in SQS: one queue holding a count of messages. It answers
    /// the operations in `serves` and UnknownOperation to the rest.
    async fn fake_sqs(serves: &'static [&'static str]) -> String {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let url = format!("http://{}", listener.local_addr().expect("addr"));
        let queued = Arc::new(AtomicU64::new(0));
        tokio::spawn(async move {
            loop {
                let Ok((mut s, _)) = listener.accept().await else {
                    return;
                };
                let queued = queued.clone();
                tokio::spawn(async move {
                    let mut buf = Vec::new();
                    while let Some(request) = read_request(&mut s, &mut buf).await {
                        assert!(
                            request
                                .header("authorization")
                                .contains("/us-east-1/sqs/aws4_request"),
                            "signed for sqs"
                        );
                        let body: serde_json::Value =
                            serde_json::from_slice(&request.body).expect("json body");
                        let target = request.header("x-amz-target");
                        let op = target.strip_prefix("AmazonSQS.").unwrap_or("?");
                        let (status, reply) = if !serves.contains(&op) {
                            (
                                400,
                                r#"{"__type":"com.amazon.coral.service#UnknownOperationException"}"#
                                    .to_owned(),
                            )
                        } else {
                            let entries = body["Entries"].as_array().map_or(0, Vec::len);
                            let ok = |prefix: &str| {
                                let ok: Vec<_> = (0..entries)
                                    .map(|i| serde_json::json!({ "Id": format!("{prefix}{i}") }))
                                    .collect();
                                serde_json::json!({ "Successful": ok }).to_string()
                            };
                            match op {
                                "CreateQueue" | "GetQueueUrl" => (
                                    200,
                                    r#"{"QueueUrl":"http://q.local/000000000000/tarn-load"}"#
                                        .to_owned(),
                                ),
                                "SendMessage" => {
                                    queued.fetch_add(1, Ordering::Relaxed);
                                    (200, r#"{"MessageId":"m"}"#.to_owned())
                                }
                                "SendMessageBatch" => {
                                    queued.fetch_add(entries as u64, Ordering::Relaxed);
                                    (200, ok("m"))
                                }
                                "ReceiveMessage" => {
                                    let n = queued
                                        .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |q| {
                                            Some(q.saturating_sub(10))
                                        })
                                        .unwrap_or(0)
                                        .min(10);
                                    let msgs: Vec<_> = (0..n)
                                        .map(|i| serde_json::json!({ "ReceiptHandle": format!("h{i}") }))
                                        .collect();
                                    (200, serde_json::json!({ "Messages": msgs }).to_string())
                                }
                                "DeleteMessageBatch" => (200, ok("d")),
                                _ => (400, "{}".to_owned()),
                            }
                        };
                        let out = format!(
                            "HTTP/1.1 {status} X\r\nContent-Type: application/x-amz-json-1.0\r\n\
                             Content-Length: {}\r\n\r\n{reply}",
                            reply.len()
                        );
                        if s.write_all(out.as_bytes()).await.is_err() {
                            return;
                        }
                    }
                });
            }
        });
        url
    }

    fn config(url: &str, records: u64) -> Config {
        Config {
            records,
            value_bytes: 100,
            concurrency: 4,
            ..crate::load::testing::config(url, "sqs")
        }
    }

    #[tokio::test]
    async fn receive_delete_counts_the_messages_it_deleted() {
        let all = &[
            "CreateQueue",
            "GetQueueUrl",
            "SendMessageBatch",
            "ReceiveMessage",
            "DeleteMessageBatch",
        ];
        let url = fake_sqs(all).await;
        let mut cfg = config(&url, 95);
        cfg.queue_url = setup(&cfg).await.expect("setup");
        assert_eq!(cfg.queue_url, "http://q.local/000000000000/tarn-load");
        let cfg = Arc::new(cfg);
        let load = prefill(cfg.clone()).await.expect("prefill");
        assert_eq!((load.items, load.failed_items), (95, 0));
        let report = super::super::run::run(cfg, Workload::SqsReceiveDelete)
            .await
            .expect("run");
        // 95 messages: nine receives of 10, one of 5, then the queue is dry.
        assert_eq!(report.messages, Some(95));
        assert!(report.empty_receives.expect("counted") > 0, "{report:?}");
        assert_eq!(report.errors_total, 0, "{report:?}");
        assert!(report.failure().is_none(), "{report:?}");
    }

    #[tokio::test]
    async fn an_endpoint_without_sqs_is_refused_at_setup() {
        let url = fake_sqs(&[]).await;
        let e = setup(&config(&url, 10)).await.expect_err("no sqs");
        assert!(
            e.contains("CreateQueue tarn-load: UnknownOperationException"),
            "{e}"
        );
        assert!(e.contains("does not serve SQS"), "{e}");
    }

    #[tokio::test]
    async fn a_run_whose_every_operation_fails_is_a_failure() {
        let url = fake_sqs(&["CreateQueue", "GetQueueUrl"]).await;
        let mut cfg = config(&url, 10);
        cfg.queue_url = setup(&cfg).await.expect("setup");
        let cfg = Arc::new(cfg);
        let report = super::super::run::run(cfg.clone(), Workload::SqsSend)
            .await
            .expect("run");
        assert_eq!(report.ops, 0);
        assert!(report.errors["UnknownOperationException"] > 0, "{report:?}");
        let why = report.failure().expect("failure");
        assert!(why.contains("every operation failed"), "{why}");
        assert!(why.contains("UnknownOperationException"), "{why}");
        // A receive workload that gets nothing but errors fails the same way.
        let report = super::super::run::run(cfg, Workload::SqsReceiveDelete)
            .await
            .expect("run");
        assert_eq!(report.messages, Some(0));
        assert!(report.failure().is_some(), "{report:?}");
    }

    #[test]
    fn bodies_are_the_sqs_json_protocol() {
        let mut rng = Rng::new(3);
        let values = ValuePool::new(&mut rng, 8);
        let url = json_string("http://127.0.0.1:9324/000000000000/q");
        let mut buf = Vec::new();
        send_message(&mut buf, &url, b"hello");
        let v: serde_json::Value = serde_json::from_slice(&buf).expect("json");
        assert_eq!(v["QueueUrl"], "http://127.0.0.1:9324/000000000000/q");
        assert_eq!(v["MessageBody"], "hello");

        buf.clear();
        send_message_batch(&mut buf, &url, 10, &values, &mut rng);
        let v: serde_json::Value = serde_json::from_slice(&buf).expect("json");
        let entries = v["Entries"].as_array().expect("entries");
        assert_eq!(entries.len(), 10);
        assert_eq!(entries[9]["Id"], "m9");
        assert_eq!(entries[0]["MessageBody"].as_str().map(str::len), Some(8));

        buf.clear();
        receive_message(&mut buf, &url);
        let v: serde_json::Value = serde_json::from_slice(&buf).expect("json");
        assert_eq!(v["MaxNumberOfMessages"], 10);
        assert_eq!(v["WaitTimeSeconds"], 0);

        buf.clear();
        let handles = vec!["a\"b+/=".to_owned(), "c".to_owned()];
        delete_message_batch(&mut buf, &url, &handles);
        let v: serde_json::Value = serde_json::from_slice(&buf).expect("json");
        assert_eq!(v["Entries"][0]["ReceiptHandle"], "a\"b+/=");
        assert_eq!(v["Entries"][1]["Id"], "d1");

        buf.clear();
        queue_name_body(&mut buf, "tarn-load");
        assert_eq!(buf, br#"{"QueueName":"tarn-load"}"#);
    }

    #[test]
    fn replies_are_read() {
        let mut handles = Vec::new();
        receipt_handles(
            br#"{"Messages":[{"MessageId":"1","ReceiptHandle":"h1","Body":"x"},{"ReceiptHandle":"h2"}]}"#,
            &mut handles,
        )
        .expect("ok");
        assert_eq!(handles, ["h1", "h2"]);
        receipt_handles(b"{}", &mut handles).expect("empty queue");
        assert!(handles.is_empty());
        assert!(receipt_handles(b"<xml/>", &mut handles).is_err());

        let ok = br#"{"Successful":[{"Id":"d0"},{"Id":"d1"}]}"#;
        assert_eq!(batch_outcome(Op::DeleteMessageBatch, ok, 2), Ok(2));
        let short = batch_outcome(Op::DeleteMessageBatch, ok, 3).expect_err("short");
        assert!(short.contains("2 of 3"), "{short}");
        let failed = br#"{"Successful":[],"Failed":[{"Id":"d0","SenderFault":true,"Code":"ReceiptHandleIsInvalid","Message":"x"}]}"#;
        let e = batch_outcome(Op::DeleteMessageBatch, failed, 1).expect_err("failed");
        assert_eq!(e, "DeleteMessageBatch entry failed: ReceiptHandleIsInvalid");
    }

    #[test]
    fn queue_names_follow_sqs() {
        assert!(valid_queue_name("tarn-load"));
        assert!(valid_queue_name("q"));
        assert!(valid_queue_name(&"a".repeat(80)));
        assert!(!valid_queue_name(&"a".repeat(81)));
        assert!(!valid_queue_name(""));
        assert!(!valid_queue_name("q.fifo"));
        assert!(!valid_queue_name("a b"));
    }
}
