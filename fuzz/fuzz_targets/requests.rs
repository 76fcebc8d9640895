//! Request decoding through the real handlers: any body, under any of the
//! DynamoDB and DynamoDB Streams operations, gets a 200 or a DynamoDB 4xx
//! with a JSON error body, never a panic or a 500. One in-memory server
//! serves every input, so earlier inputs leave tables behind for later ones
//! (a table named `fuzz` exists from the start).

#![no_main]

use std::sync::OnceLock;

use axum::body::Body;
use axum::http::Request;
use libfuzzer_sys::fuzz_target;
use tarn_fuzz::Server;

const OPERATIONS: &[&str] = &[
    "DynamoDB_20120810.CreateTable",
    "DynamoDB_20120810.DescribeTable",
    "DynamoDB_20120810.ListTables",
    "DynamoDB_20120810.DeleteTable",
    "DynamoDB_20120810.UpdateTable",
    "DynamoDB_20120810.PutItem",
    "DynamoDB_20120810.GetItem",
    "DynamoDB_20120810.DeleteItem",
    "DynamoDB_20120810.UpdateItem",
    "DynamoDB_20120810.Query",
    "DynamoDB_20120810.Scan",
    "DynamoDB_20120810.BatchGetItem",
    "DynamoDB_20120810.BatchWriteItem",
    "DynamoDB_20120810.TransactWriteItems",
    "DynamoDB_20120810.TransactGetItems",
    "DynamoDB_20120810.TagResource",
    "DynamoDB_20120810.UntagResource",
    "DynamoDB_20120810.ListTagsOfResource",
    "DynamoDB_20120810.UpdateTimeToLive",
    "DynamoDB_20120810.DescribeTimeToLive",
    "DynamoDB_20120810.DescribeLimits",
    "DynamoDB_20120810.DescribeEndpoints",
    "DynamoDB_20120810.CreateBackup",
    "DynamoDB_20120810.DescribeBackup",
    "DynamoDB_20120810.ListBackups",
    "DynamoDB_20120810.DeleteBackup",
    "DynamoDB_20120810.RestoreTableFromBackup",
    "DynamoDB_20120810.RestoreTableToPointInTime",
    "DynamoDB_20120810.DescribeContinuousBackups",
    "DynamoDB_20120810.UpdateContinuousBackups",
    "DynamoDBStreams_20120810.ListStreams",
    "DynamoDBStreams_20120810.DescribeStream",
    "DynamoDBStreams_20120810.GetShardIterator",
    "DynamoDBStreams_20120810.GetRecords",
    "DynamoDB_20120810.NoSuchOperation",
];

fn server() -> &'static Server {
    static SERVER: OnceLock<Server> = OnceLock::new();
    SERVER.get_or_init(|| {
        let server = Server::new();
        let body = r#"{"TableName":"fuzz","KeySchema":[{"AttributeName":"pk","KeyType":"HASH"},{"AttributeName":"sk","KeyType":"RANGE"}],"AttributeDefinitions":[{"AttributeName":"pk","AttributeType":"S"},{"AttributeName":"sk","AttributeType":"N"},{"AttributeName":"g","AttributeType":"S"}],"BillingMode":"PAY_PER_REQUEST","GlobalSecondaryIndexes":[{"IndexName":"by-g","KeySchema":[{"AttributeName":"g","KeyType":"HASH"}],"Projection":{"ProjectionType":"ALL"}}],"StreamSpecification":{"StreamEnabled":true,"StreamViewType":"NEW_AND_OLD_IMAGES"}}"#;
        let (status, _) = send(&server, "DynamoDB_20120810.CreateTable", body.as_bytes());
        assert_eq!(status, 200, "the seed table is created");
        server
    })
}

fn send(server: &Server, target: &str, body: &[u8]) -> (u16, Vec<u8>) {
    let request = Request::post("/")
        .header("content-type", "application/x-amz-json-1.0")
        .header("x-amz-target", target)
        .header("x-amz-date", "20260101T000000Z")
        .header(
            "authorization",
            "AWS4-HMAC-SHA256 Credential=AKID/20260101/us-east-1/dynamodb/aws4_request, SignedHeaders=host;x-amz-date;x-amz-target, Signature=00",
        )
        .body(Body::from(body.to_vec()))
        .expect("request");
    server.send(request)
}

fuzz_target!(|data: &[u8]| {
    let Some((&op, body)) = data.split_first() else {
        return;
    };
    let target = OPERATIONS[usize::from(op) % OPERATIONS.len()];
    let (status, reply) = send(server(), target, body);
    assert!(
        status == 200 || status == 400 || status == 413,
        "{target} answered {status}: {}",
        String::from_utf8_lossy(&reply)
    );
    if status == 400 {
        let v: serde_json::Value = serde_json::from_slice(&reply).expect("error bodies are JSON");
        let ty = v["__type"].as_str().expect("__type");
        assert!(ty.contains('#'), "{ty}");
    }
});
