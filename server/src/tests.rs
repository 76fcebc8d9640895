//! Handler-level tests through the router, without a socket.

use axum::body::Body;
use axum::http::{Request, StatusCode};
use tower::ServiceExt;

use std::sync::Arc;

use super::*;

/// A well-formed SigV4 header (its signature is never computed).
const AUTHORIZATION: &str = "AWS4-HMAC-SHA256 Credential=AKIDTEST/20260101/us-east-1/dynamodb/aws4_request, SignedHeaders=content-type;host;x-amz-date;x-amz-target, Signature=0000000000000000000000000000000000000000000000000000000000000000";

fn app() -> Arc<App> {
    let engine = tarn_engine::Engine::open(tarn_engine::Options {
        data_dir: None,
        durability: tarn_engine::Durability::Memory,
        ..tarn_engine::Options::default()
    })
    .expect("engine");
    App::new(engine, "us-east-1".into(), "000000000000".into())
}

async fn call(
    app: &Arc<App>,
    target: Option<&str>,
    body: &str,
) -> (StatusCode, String, axum::http::HeaderMap) {
    let mut req = Request::post("/")
        .header("content-type", "application/x-amz-json-1.0")
        .header("x-amz-date", "20260101T000000Z")
        .header("authorization", AUTHORIZATION);
    if let Some(t) = target {
        req = req.header("x-amz-target", t);
    }
    let resp = router(app.clone())
        .oneshot(req.body(Body::from(body.to_owned())).expect("request"))
        .await
        .expect("response");
    let status = resp.status();
    let headers = resp.headers().clone();
    let bytes = axum::body::to_bytes(resp.into_body(), usize::MAX)
        .await
        .expect("body");
    (
        status,
        String::from_utf8(bytes.to_vec()).expect("utf-8"),
        headers,
    )
}

#[tokio::test]
async fn malformed_json_is_a_bare_serialization_exception() {
    let app = app();
    for target in [Some("DynamoDB_20120810.ListTables"), Some("nope"), None] {
        let (status, body, headers) = call(&app, target, "{not json").await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert_eq!(
            body,
            r#"{"__type":"com.amazon.coral.service#SerializationException"}"#
        );
        let crc = headers
            .get("x-amz-crc32")
            .expect("crc header")
            .to_str()
            .expect("ascii");
        assert_eq!(crc, crc32fast::hash(body.as_bytes()).to_string());
        let id = headers
            .get("x-amzn-requestid")
            .expect("request id")
            .to_str()
            .expect("ascii");
        assert_eq!(id.len(), 52);
        assert!(id
            .bytes()
            .all(|b| b.is_ascii_digit() || b.is_ascii_uppercase()));
    }
}

#[tokio::test]
async fn unknown_operations_are_rejected() {
    let app = app();
    for target in [None, Some("whatever"), Some("DynamoDB_20120810.ListTable")] {
        let (status, body, _) = call(&app, target, "{}").await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert_eq!(
            body,
            r#"{"__type":"com.amazon.coral.service#UnknownOperationException"}"#
        );
    }
}

#[tokio::test]
async fn wrong_member_types_get_java_style_messages() {
    let app = app();
    let (status, body, _) = call(
        &app,
        Some("DynamoDB_20120810.DescribeTable"),
        r#"{"TableName":5}"#,
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        body,
        r#"{"__type":"com.amazon.coral.service#SerializationException","Message":"NUMBER_VALUE cannot be converted to String"}"#
    );
    let (_, body, _) = call(
        &app,
        Some("DynamoDB_20120810.ListTables"),
        r#"{"Limit":"x"}"#,
    )
    .await;
    assert!(
        body.contains("STRING_VALUE cannot be converted to Integer"),
        "{body}"
    );
    let (_, body, _) = call(
        &app,
        Some("DynamoDB_20120810.DescribeTable"),
        r#"{"TableName":{}}"#,
    )
    .await;
    assert!(
        body.contains("Start of structure or map found where not expected"),
        "{body}"
    );
}

#[tokio::test]
async fn table_name_rules_differ_by_plane() {
    let app = app();
    let (_, body, _) = call(
        &app,
        Some("DynamoDB_20120810.DescribeTable"),
        r#"{"TableName":"a;"}"#,
    )
    .await;
    assert!(
        body.contains(
            "TableName must be at least 3 characters long and at most 255 characters long"
        ),
        "{body}"
    );
    let (_, body, _) = call(&app, Some("DynamoDB_20120810.DescribeTable"), "{}").await;
    assert!(
        body.contains("The parameter 'TableName' is required but was not present in the request"),
        "{body}"
    );
    let (_, body, _) = call(
        &app,
        Some("DynamoDB_20120810.GetItem"),
        r#"{"TableName":"a;"}"#,
    )
    .await;
    assert!(body.contains("3 validation errors detected"), "{body}");
    assert!(
        body.contains("Value null at 'key' failed to satisfy constraint: Member must not be null"),
        "{body}"
    );
}

#[tokio::test]
async fn health_check_answers_get() {
    let app = app();
    let resp = router(app)
        .oneshot(Request::get("/").body(Body::empty()).expect("request"))
        .await
        .expect("response");
    assert_eq!(resp.status(), StatusCode::OK);
    let bytes = axum::body::to_bytes(resp.into_body(), usize::MAX)
        .await
        .expect("body");
    assert_eq!(&bytes[..], b"healthy: dynamodb.us-east-1.amazonaws.com ");
}

#[tokio::test]
async fn item_round_trip_through_the_router() {
    let app = app();
    let create = r#"{"TableName":"tbl","KeySchema":[{"AttributeName":"pk","KeyType":"HASH"}],"AttributeDefinitions":[{"AttributeName":"pk","AttributeType":"S"}],"BillingMode":"PAY_PER_REQUEST"}"#;
    let (status, body, _) = call(&app, Some("DynamoDB_20120810.CreateTable"), create).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let put = r#"{"TableName":"tbl","Item":{"pk":{"S":"a"},"n":{"N":"1.50"}},"ReturnConsumedCapacity":"TOTAL"}"#;
    let (status, body, _) = call(&app, Some("DynamoDB_20120810.PutItem"), put).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        body,
        r#"{"ConsumedCapacity":{"TableName":"tbl","CapacityUnits":1.0}}"#
    );
    let get = r#"{"TableName":"tbl","Key":{"pk":{"S":"a"}}}"#;
    let (_, body, _) = call(&app, Some("DynamoDB_20120810.GetItem"), get).await;
    assert_eq!(body, r#"{"Item":{"n":{"N":"1.5"},"pk":{"S":"a"}}}"#);
    let (_, body, _) = call(
        &app,
        Some("DynamoDB_20120810.PutItem"),
        r#"{"TableName":"tbl","Item":{"pk":{"S":"a"}},"ReturnValues":"ALL_NEW"}"#,
    )
    .await;
    assert!(
        body.contains("ReturnValues can only be ALL_OLD or NONE"),
        "{body}"
    );
    let (_, body, _) = call(
        &app,
        Some("DynamoDB_20120810.GetItem"),
        r#"{"TableName":"tbl","Key":{"pk":{"S":"a"}},"ProjectionExpression":"n"}"#,
    )
    .await;
    assert_eq!(body, r#"{"Item":{"n":{"N":"1.5"}}}"#);
    let (_, body, _) = call(
        &app,
        Some("DynamoDB_20120810.GetItem"),
        r#"{"TableName":"nope","Key":{"pk":{"S":"a"}}}"#,
    )
    .await;
    assert_eq!(
        body,
        r#"{"__type":"com.amazonaws.dynamodb.v20120810#ResourceNotFoundException","message":"Requested resource not found"}"#
    );
}

/// Random members and values under every CloudWatch Logs and IAM
/// operation: always a 200 or a 4xx of the service, never a panic or a
/// 500.
#[tokio::test]
async fn logs_and_iam_answer_any_input_with_their_errors() {
    let app = app();
    let mut seed = 0x853C_49E6_748F_EA9Bu64;
    let mut next = |n: usize| {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        (seed % n as u64) as usize
    };
    const JSON_KEYS: &[&str] = &[
        "logGroupName",
        "logGroupIdentifier",
        "logStreamName",
        "logStreamNames",
        "logStreamNamePrefix",
        "logGroupNamePrefix",
        "logGroupNamePattern",
        "logEvents",
        "startTime",
        "endTime",
        "nextToken",
        "limit",
        "startFromHead",
        "filterPattern",
        "retentionInDays",
        "tags",
        "tagKeys",
        "resourceArn",
        "orderBy",
        "descending",
    ];
    const JSON_VALUES: &[&str] = &[
        r#""g""#,
        r#""s""#,
        r#""é:*""#,
        r#""""#,
        "0",
        "-1",
        "9223372036854775807",
        "true",
        "null",
        r#"["s","x"]"#,
        "[]",
        r#"[{"timestamp":1,"message":"m"}]"#,
        r#"[{"timestamp":9999999999999,"message":"{\"a\":1}"}]"#,
        r#"{"k":"v"}"#,
        r#""f/00""#,
        r#""b/zz""#,
        r#""{ $.a = 1 }""#,
        r#""[a, ..., b > 1]""#,
        r#""LastEventTime""#,
        r#""arn:aws:logs:us-east-1:000000000000:log-group:g""#,
    ];
    const FORM_KEYS: &[&str] = &[
        "RoleName",
        "PolicyName",
        "PolicyArn",
        "PolicyDocument",
        "AssumeRolePolicyDocument",
        "Path",
        "PathPrefix",
        "Marker",
        "MaxItems",
        "VersionId",
        "MaxSessionDuration",
        "Description",
        "Tags.member.1.Key",
        "Tags.member.1.Value",
        "TagKeys.member.1",
        "SetAsDefault",
        "Scope",
    ];
    const FORM_VALUES: &[&str] = &[
        "r",
        "R",
        "p",
        "%7B%22Statement%22%3A%5B%5D%7D",
        "%7B",
        "%2F",
        "%2Fa%2F",
        "arn%3Aaws%3Aiam%3A%3Aaws%3Apolicy%2Fx",
        "arn%3Aaws%3Aiam%3A%3A000000000000%3Apolicy%2Fp",
        "v1",
        "0",
        "3600",
        "zz",
        "",
        "%C3%A9",
        "true",
    ];
    for i in 0..3000 {
        if i % 2 == 0 {
            let op = crate::logs::OPERATIONS[next(crate::logs::OPERATIONS.len())];
            let members: Vec<String> = (0..next(5))
                .map(|_| {
                    format!(
                        "\"{}\":{}",
                        JSON_KEYS[next(JSON_KEYS.len())],
                        JSON_VALUES[next(JSON_VALUES.len())]
                    )
                })
                .collect();
            let body = format!("{{{}}}", members.join(","));
            let req = Request::post("/")
                .header("content-type", "application/x-amz-json-1.1")
                .header("x-amz-target", format!("Logs_20140328.{op}"))
                .header("x-amz-date", "20260101T000000Z")
                .header(
                    "authorization",
                    AUTHORIZATION.replace("/dynamodb/", "/logs/"),
                )
                .body(Body::from(body.clone()))
                .expect("request");
            let resp = router(app.clone()).oneshot(req).await.expect("response");
            let status = resp.status();
            assert!(
                status == StatusCode::OK || status == StatusCode::BAD_REQUEST,
                "{op} {body}: {status}"
            );
        } else {
            let op = crate::iam::OPERATIONS[next(crate::iam::OPERATIONS.len())];
            let mut body = format!("Action={op}&Version=2010-05-08");
            for _ in 0..next(6) {
                body.push_str(&format!(
                    "&{}={}",
                    FORM_KEYS[next(FORM_KEYS.len())],
                    FORM_VALUES[next(FORM_VALUES.len())]
                ));
            }
            let req = Request::post("/")
                .header("content-type", "application/x-www-form-urlencoded")
                .header("x-amz-date", "20260101T000000Z")
                .header(
                    "authorization",
                    AUTHORIZATION.replace("/dynamodb/", "/iam/"),
                )
                .body(Body::from(body.clone()))
                .expect("request");
            let resp = router(app.clone()).oneshot(req).await.expect("response");
            let status = resp.status().as_u16();
            assert!(
                matches!(status, 200 | 400 | 404 | 409),
                "{op} {body}: {status}"
            );
        }
    }
}

/// Random members, right and wrong, under every SQS operation over the
/// JSON protocol: always a 200 or one of SQS's 4xx errors, never a panic
/// or a 500 (DeleteQueue aside, which the end-to-end tests cover). No member makes a receive wait (`WaitTimeSeconds` and the
/// queue's default wait are left out).
#[tokio::test]
async fn sqs_answers_any_input_with_its_errors() {
    let app = app();
    let mut seed = 0x2545_F491_4F6C_DD1Du64;
    let mut next = |n: usize| {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        (seed % n as u64) as usize
    };
    const KEYS: &[&str] = &[
        "QueueUrl",
        "QueueName",
        "QueueNamePrefix",
        "MessageBody",
        "Attributes",
        "AttributeNames",
        "MessageAttributeNames",
        "MessageSystemAttributeNames",
        "MaxNumberOfMessages",
        "MaxResults",
        "NextToken",
        "VisibilityTimeout",
        "ReceiptHandle",
        "Entries",
        "MessageAttributes",
        "MessageSystemAttributes",
        "DelaySeconds",
        "MessageGroupId",
        "MessageDeduplicationId",
        "ReceiveRequestAttemptId",
        "Tags",
        "TagKeys",
        "SourceArn",
        "DestinationArn",
        "MaxNumberOfMessagesPerSecond",
        "TaskHandle",
        "Label",
        "AWSAccountIds",
        "Actions",
    ];
    const VALUES: &[&str] = &[
        r#""q""#,
        r#""q.fifo""#,
        r#""http://localhost/000000000000/q""#,
        r#""http://localhost/000000000000/q.fifo""#,
        r#""http://localhost/111111111111/q""#,
        r#""""#,
        r#""é\u0000""#,
        r#""AQAAAAAAAAABAAAAAAAAAAEAAAABOciNXGl7DjA""#,
        r#""arn:aws:sqs:us-east-1:000000000000:q""#,
        "0",
        "-1",
        "10",
        "11",
        "43201",
        "1.5",
        "9223372036854775807",
        "true",
        "null",
        "[]",
        r#"["All"]"#,
        r#"["ApproximateNumberOfMessages","Bogus"]"#,
        r#"[{"Id":"a","MessageBody":"m"},{"Id":"a","MessageBody":"n"}]"#,
        r#"[{"Id":"b","ReceiptHandle":"x","VisibilityTimeout":5}]"#,
        r#"[{"Id":"!","MessageBody":"m","DelaySeconds":901}]"#,
        r#"{"VisibilityTimeout":"0"}"#,
        r#"{"FifoQueue":"true","ContentBasedDeduplication":"true"}"#,
        r#"{"DelaySeconds":"900","MaximumMessageSize":"1024"}"#,
        r#"{"RedrivePolicy":"{\"deadLetterTargetArn\":\"arn:aws:sqs:us-east-1:000000000000:q\",\"maxReceiveCount\":1}"}"#,
        r#"{"Bogus":"x"}"#,
        r#"{"a":{"DataType":"String","StringValue":"v"}}"#,
        r#"{"b":{"DataType":"Binary","BinaryValue":"AAE="}}"#,
        r#"{"c":{"DataType":"Number.x","StringValue":"1e400"}}"#,
        r#"{"d":{"DataType":"String"}}"#,
        r#"{"AWSTraceHeader":{"DataType":"String","StringValue":"Root=1"}}"#,
        r#"{"k":"v"}"#,
    ];
    for (name, attributes) in [("q", "{}"), ("q.fifo", r#"{"FifoQueue":"true"}"#)] {
        let body = format!(r#"{{"QueueName":"{name}","Attributes":{attributes}}}"#);
        assert_eq!(sqs_json(&app, "CreateQueue", &body).await, 200, "{body}");
    }
    let mut answered = [0usize; 2];
    for _ in 0..3000 {
        let op = crate::sqs::OPERATIONS[next(crate::sqs::OPERATIONS.len())];
        if op == "DeleteQueue" {
            // It would take the queues away for the rest of the run (a
            // deleted name is held for 60 s).
            continue;
        }
        let mut members: Vec<String> = (0..next(4))
            .map(|_| {
                format!(
                    "\"{}\":{}",
                    KEYS[next(KEYS.len())],
                    VALUES[next(VALUES.len())]
                )
            })
            .collect();
        // Most requests name a queue that exists, so that they get past
        // the lookup to the operation's own checks.
        if next(4) != 0 && !members.iter().any(|m| m.starts_with("\"QueueUrl\"")) {
            let queue = ["q", "q.fifo"][next(2)];
            members.push(format!(
                "\"QueueUrl\":\"http://localhost/000000000000/{queue}\""
            ));
        }
        let body = format!("{{{}}}", members.join(","));
        let status = sqs_json(&app, op, &body).await;
        assert!(matches!(status, 200 | 400 | 403), "{op} {body}: {status}");
        answered[usize::from(status != 200)] += 1;
    }
    // Both kinds of answer, in number: the inputs reach the operations.
    assert!(answered[0] > 200 && answered[1] > 500, "{answered:?}");
}

/// The status of an SQS JSON-protocol request, which must come within 5 s.
async fn sqs_json(app: &Arc<App>, op: &str, body: &str) -> u16 {
    let req = Request::post("/")
        .header("content-type", "application/x-amz-json-1.0")
        .header("x-amz-target", format!("AmazonSQS.{op}"))
        .header("x-amz-date", "20260101T000000Z")
        .header(
            "authorization",
            AUTHORIZATION.replace("/dynamodb/", "/sqs/"),
        )
        .body(Body::from(body.to_owned()))
        .expect("request");
    tokio::time::timeout(
        std::time::Duration::from_secs(5),
        router(app.clone()).oneshot(req),
    )
    .await
    .unwrap_or_else(|_| panic!("{op} {body}: no reply within 5 s"))
    .expect("response")
    .status()
    .as_u16()
}
