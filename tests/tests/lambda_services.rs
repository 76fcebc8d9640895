//! Functions together with the services around them, end to end: an
//! asynchronous invoke's failure record lands in an SQS queue (the
//! on-failure destination), and a function's output is in CloudWatch Logs
//! under `/aws/lambda/<name>`, as on AWS.

use std::time::{Duration, Instant};

use aws_sdk_lambda::operation::RequestId as _;
use aws_sdk_lambda::primitives::Blob;
use aws_sdk_lambda::types::{
    DestinationConfig, FunctionCode, InvocationType, OnFailure, OnSuccess, Runtime,
};
use serde_json::{json, Value};
use tarn_tests::{sdk_client, zip_of, Server};

const ROLE: &str = "arn:aws:iam::000000000000:role/lambda-role";

const APP: &str = r#"
def handler(event, context):
    print("handled", event.get("n"))
    if event.get("fail"):
        raise ValueError("refused " + str(event["n"]))
    return {"ok": event.get("n")}
"#;

async fn create_function(c: &aws_sdk_lambda::Client, name: &str) {
    c.create_function()
        .function_name(name)
        .runtime(Runtime::Python312)
        .role(ROLE)
        .handler("app.handler")
        .timeout(3)
        .code(
            FunctionCode::builder()
                .zip_file(Blob::new(zip_of(&[("app.py", APP, 0o644)])))
                .build(),
        )
        .send()
        .await
        .expect("create function");
}

async fn invoke_event(c: &aws_sdk_lambda::Client, name: &str, payload: Value) {
    let out = c
        .invoke()
        .function_name(name)
        .invocation_type(InvocationType::Event)
        .payload(Blob::new(payload.to_string()))
        .send()
        .await
        .expect("invoke event");
    assert_eq!(out.status_code(), 202);
}

/// Receives one message from `url`, long polling at most 10 s.
async fn receive_one(sqs: &aws_sdk_sqs::Client, url: &str) -> Value {
    let got = sqs
        .receive_message()
        .queue_url(url)
        .wait_time_seconds(10)
        .send()
        .await
        .expect("receive");
    let messages = got.messages();
    assert_eq!(messages.len(), 1, "one record within 10 s");
    serde_json::from_str(messages[0].body().expect("body")).expect("record is JSON")
}

#[tokio::test]
async fn async_invoke_records_reach_sqs_destinations() {
    let server = Server::start_with(&["--lambda-retry-delay-ms", "50"]);
    let lambda = sdk_client!(aws_sdk_lambda, &server.endpoint);
    let sqs = sdk_client!(aws_sdk_sqs, &server.endpoint);
    let failures = sqs
        .create_queue()
        .queue_name("failures")
        .send()
        .await
        .expect("create queue")
        .queue_url
        .expect("url");
    let successes = sqs
        .create_queue()
        .queue_name("successes")
        .send()
        .await
        .expect("create queue")
        .queue_url
        .expect("url");
    create_function(&lambda, "worker").await;
    lambda
        .put_function_event_invoke_config()
        .function_name("worker")
        .maximum_retry_attempts(0)
        .destination_config(
            DestinationConfig::builder()
                .on_failure(
                    OnFailure::builder()
                        .destination("arn:aws:sqs:us-east-1:000000000000:failures")
                        .build(),
                )
                .on_success(
                    OnSuccess::builder()
                        .destination("arn:aws:sqs:us-east-1:000000000000:successes")
                        .build(),
                )
                .build(),
        )
        .send()
        .await
        .expect("put event invoke config");

    invoke_event(&lambda, "worker", json!({"n": 7, "fail": true})).await;
    let record = receive_one(&sqs, &failures).await;
    assert_eq!(record["version"], "1.0");
    assert_eq!(record["requestContext"]["condition"], "RetriesExhausted");
    assert_eq!(record["requestContext"]["approximateInvokeCount"], 1);
    assert_eq!(
        record["requestContext"]["functionArn"],
        "arn:aws:lambda:us-east-1:000000000000:function:worker:$LATEST"
    );
    assert_eq!(record["requestPayload"], json!({"n": 7, "fail": true}));
    assert_eq!(record["responseContext"]["functionError"], "Unhandled");
    assert_eq!(record["responsePayload"]["errorType"], "ValueError");
    assert_eq!(record["responsePayload"]["errorMessage"], "refused 7");

    invoke_event(&lambda, "worker", json!({"n": 8})).await;
    let record = receive_one(&sqs, &successes).await;
    assert_eq!(record["requestContext"]["condition"], "Success");
    assert_eq!(record["requestPayload"], json!({"n": 8}));
    assert_eq!(record["responsePayload"], json!({"ok": 8}));
    assert_eq!(record["responseContext"]["statusCode"], 200);
    // Each record was delivered once.
    for url in [&failures, &successes] {
        let attrs = sqs
            .get_queue_attributes()
            .queue_url(url)
            .attribute_names(aws_sdk_sqs::types::QueueAttributeName::ApproximateNumberOfMessages)
            .send()
            .await
            .expect("attributes");
        let visible = attrs
            .attributes()
            .and_then(|a| {
                a.get(&aws_sdk_sqs::types::QueueAttributeName::ApproximateNumberOfMessages)
            })
            .cloned();
        assert_eq!(visible.as_deref(), Some("0"));
    }
}

#[tokio::test]
async fn function_output_is_in_cloudwatch_logs_as_on_aws() {
    let server = Server::start();
    let lambda = sdk_client!(aws_sdk_lambda, &server.endpoint);
    let logs = sdk_client!(aws_sdk_cloudwatchlogs, &server.endpoint);
    create_function(&lambda, "talker").await;
    let out = lambda
        .invoke()
        .function_name("talker")
        .payload(Blob::new(json!({"n": 41}).to_string()))
        .send()
        .await
        .expect("invoke");
    assert_eq!(out.function_error(), None);
    // The invocation's id is the reply's x-amzn-RequestId.
    let request_id = out.request_id().expect("request id").to_owned();

    let group = "/aws/lambda/talker";
    let deadline = Instant::now() + Duration::from_secs(10);
    let messages: Vec<String> = loop {
        let page = logs
            .filter_log_events()
            .log_group_name(group)
            .send()
            .await
            .expect("filter log events");
        let messages: Vec<String> = page
            .events()
            .iter()
            .filter_map(|e| e.message().map(str::to_owned))
            .collect();
        if messages.iter().any(|m| m.starts_with("REPORT ")) || Instant::now() > deadline {
            break messages;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let start = messages
        .iter()
        .position(|m| m.starts_with("START RequestId: "))
        .unwrap_or_else(|| panic!("no START line in {messages:?}"));
    let printed = messages
        .iter()
        .position(|m| m.contains("handled 41"))
        .unwrap_or_else(|| panic!("no handler output in {messages:?}"));
    let end = messages
        .iter()
        .position(|m| m.starts_with("END RequestId: "))
        .unwrap_or_else(|| panic!("no END line in {messages:?}"));
    let report = messages
        .iter()
        .position(|m| m.starts_with("REPORT RequestId: "))
        .unwrap_or_else(|| panic!("no REPORT line in {messages:?}"));
    assert!(
        start < printed && printed < end && end < report,
        "{messages:?}"
    );
    assert!(messages[start].contains(&request_id), "{messages:?}");
    assert!(messages[report].contains("Duration: "), "{messages:?}");
    assert!(
        messages[report].contains("Billed Duration: "),
        "{messages:?}"
    );

    let streams = logs
        .describe_log_streams()
        .log_group_name(group)
        .send()
        .await
        .expect("describe log streams");
    assert_eq!(streams.log_streams().len(), 1, "one stream per instance");
    let name = streams.log_streams()[0]
        .log_stream_name()
        .expect("stream name");
    // YYYY/MM/DD/[$LATEST]<32 hex>
    let (date, rest) = name.split_at(10);
    assert!(
        date.bytes().enumerate().all(|(i, b)| if i == 4 || i == 7 {
            b == b'/'
        } else {
            b.is_ascii_digit()
        }),
        "{name}"
    );
    let hex = rest
        .strip_prefix("/[$LATEST]")
        .unwrap_or_else(|| panic!("{name}"));
    assert_eq!(hex.len(), 32, "{name}");
    assert!(hex.bytes().all(|b| b.is_ascii_hexdigit()), "{name}");
    let groups = logs
        .describe_log_groups()
        .log_group_name_prefix("/aws/lambda/")
        .send()
        .await
        .expect("describe log groups");
    assert_eq!(
        groups
            .log_groups()
            .iter()
            .filter_map(|g| g.log_group_name())
            .collect::<Vec<_>>(),
        vec![group]
    );
}
