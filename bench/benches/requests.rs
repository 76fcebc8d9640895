//! Whole requests through the server's handlers, without a socket: JSON
//! decoding, validation, the engine call and the reply, as `oneshot` calls
//! on the axum router over an in-memory engine.
//!
//! `cargo bench -p tarn-bench --bench requests`.

use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::http::Request;
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use tower::ServiceExt;

/// An SDK's `Authorization` header (Tarn checks its shape on every
/// request, so the benchmark pays for that as a client's request would).
const AUTHORIZATION: &str = "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20260101/us-east-1/dynamodb/aws4_request, SignedHeaders=accept-encoding;amz-sdk-invocation-id;amz-sdk-request;content-length;content-type;host;x-amz-date;x-amz-target;x-amz-user-agent, Signature=8a3b2e0f0a39d0b87e5c1c2b0fa7c0ab8e2b6f7d51f3a4ac6b1a8c1e0f8a9b7c";

fn send(
    runtime: &tokio::runtime::Runtime,
    app: &Arc<tarn_server::App>,
    op: &str,
    body: &str,
) -> u16 {
    let request = Request::post("/")
        .header("content-type", "application/x-amz-json-1.0")
        .header("x-amz-target", format!("DynamoDB_20120810.{op}"))
        .header("x-amz-date", "20260101T000000Z")
        .header("authorization", AUTHORIZATION)
        .body(Body::from(body.to_owned()))
        .expect("request");
    runtime.block_on(async {
        let response = tarn_server::router(Arc::clone(app))
            .oneshot(request)
            .await
            .expect("infallible");
        let status = response.status().as_u16();
        let _ = axum::body::to_bytes(response.into_body(), usize::MAX).await;
        status
    })
}

fn requests(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("runtime");
    let engine = tarn_engine::Engine::open(tarn_engine::Options {
        data_dir: None,
        durability: tarn_engine::Durability::Memory,
        ..tarn_engine::Options::default()
    })
    .expect("engine");
    let app = tarn_server::App::new(engine, "us-east-1".into(), "000000000000".into());
    let create = r#"{"TableName":"bench","KeySchema":[{"AttributeName":"pk","KeyType":"HASH"},{"AttributeName":"sk","KeyType":"RANGE"}],"AttributeDefinitions":[{"AttributeName":"pk","AttributeType":"S"},{"AttributeName":"sk","AttributeType":"N"}],"BillingMode":"PAY_PER_REQUEST"}"#;
    assert_eq!(send(&runtime, &app, "CreateTable", create), 200);
    let field = "x".repeat(100);
    for sk in 0..10 {
        let put = format!(
            r#"{{"TableName":"bench","Item":{{"pk":{{"S":"user1"}},"sk":{{"N":"{sk}"}},"field0":{{"S":"{field}"}}}}}}"#
        );
        assert_eq!(send(&runtime, &app, "PutItem", &put), 200);
    }
    let put = format!(
        r#"{{"TableName":"bench","Item":{{"pk":{{"S":"user2"}},"sk":{{"N":"1"}},"field0":{{"S":"{field}"}}}}}}"#
    );
    let get = r#"{"TableName":"bench","Key":{"pk":{"S":"user1"},"sk":{"N":"3"}}}"#;
    let query = r#"{"TableName":"bench","KeyConditionExpression":"pk = :p","ExpressionAttributeValues":{":p":{"S":"user1"}}}"#;
    let mut g = c.benchmark_group("request");
    g.throughput(Throughput::Elements(1));
    g.bench_function("put_item", |b| {
        b.iter(|| send(&runtime, &app, "PutItem", &put))
    });
    g.bench_function("get_item", |b| {
        b.iter(|| send(&runtime, &app, "GetItem", get))
    });
    g.bench_function("query_10_items", |b| {
        b.iter(|| send(&runtime, &app, "Query", query))
    });
    g.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().measurement_time(Duration::from_secs(3));
    targets = requests
}
criterion_main!(benches);
