//! Request decoding through the real handlers: any body, under any of the
//! DynamoDB and DynamoDB Streams operations, gets a 200 or a DynamoDB 4xx
//! with a JSON error body, never a panic or a 500. One in-memory server
//! serves every input, so earlier inputs leave tables behind for later ones
//! (a table named `fuzz` exists from the start).

#![no_main]

use std::sync::{Arc, OnceLock};

use axum::body::Body;
use axum::http::Request;
use libfuzzer_sys::fuzz_target;
use tower::ServiceExt;

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

struct Harness {
    runtime: tokio::runtime::Runtime,
    app: Arc<tarn_server::App>,
}

fn harness() -> &'static Harness {
    static HARNESS: OnceLock<Harness> = OnceLock::new();
    HARNESS.get_or_init(|| {
        let engine = tarn_engine::Engine::open(tarn_engine::Options {
            data_dir: None,
            durability: tarn_engine::Durability::Memory,
            ..tarn_engine::Options::default()
        })
        .expect("engine");
        let app = tarn_server::App::new(engine, "us-east-1".into(), "000000000000".into());
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        let h = Harness { runtime, app };
        let body = r#"{"TableName":"fuzz","KeySchema":[{"AttributeName":"pk","KeyType":"HASH"},{"AttributeName":"sk","KeyType":"RANGE"}],"AttributeDefinitions":[{"AttributeName":"pk","AttributeType":"S"},{"AttributeName":"sk","AttributeType":"N"},{"AttributeName":"g","AttributeType":"S"}],"BillingMode":"PAY_PER_REQUEST","GlobalSecondaryIndexes":[{"IndexName":"by-g","KeySchema":[{"AttributeName":"g","KeyType":"HASH"}],"Projection":{"ProjectionType":"ALL"}}],"StreamSpecification":{"StreamEnabled":true,"StreamViewType":"NEW_AND_OLD_IMAGES"}}"#;
        let (status, _) = send(&h, "DynamoDB_20120810.CreateTable", body.as_bytes());
        assert_eq!(status, 200, "the seed table is created");
        h
    })
}

fn send(h: &Harness, target: &str, body: &[u8]) -> (u16, Vec<u8>) {
    let request = Request::post("/")
        .header("content-type", "application/x-amz-json-1.0")
        .header("x-amz-target", target)
        .body(Body::from(body.to_vec()))
        .expect("request");
    h.runtime.block_on(async {
        let response = tarn_server::router(Arc::clone(&h.app))
            .oneshot(request)
            .await
            .expect("infallible");
        let status = response.status().as_u16();
        let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .expect("body");
        (status, bytes.to_vec())
    })
}

fuzz_target!(|data: &[u8]| {
    let Some((&op, body)) = data.split_first() else {
        return;
    };
    let h = harness();
    let target = OPERATIONS[usize::from(op) % OPERATIONS.len()];
    let (status, reply) = send(h, target, body);
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
