//! What the protocol table adds to every request: recognizing its
//! service and operation, and checking its signature's shape.
//!
//! `cargo bench -p tarn-bench --bench protocol`. The headers are an SDK's
//! DynamoDB GetItem; the whole request through the router is in the
//! `requests` bench.

use std::hint::black_box;
use std::time::Duration;

use axum::http::{HeaderMap, HeaderValue};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use tarn_server::protocol::sigv4;
use tarn_server::protocol::table::{json_service, Media};

fn headers() -> HeaderMap {
    let mut h = HeaderMap::new();
    for (name, value) in [
        ("host", "127.0.0.1:8000"),
        ("content-type", "application/x-amz-json-1.0"),
        ("x-amz-target", "DynamoDB_20120810.GetItem"),
        ("x-amz-date", "20260101T000000Z"),
        ("user-agent", "aws-sdk-rust/1.3.3 os/linux lang/rust/1.90.0"),
        ("authorization", "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20260101/us-east-1/dynamodb/aws4_request, SignedHeaders=accept-encoding;amz-sdk-invocation-id;amz-sdk-request;content-length;content-type;host;x-amz-date;x-amz-target;x-amz-user-agent, Signature=8a3b2e0f0a39d0b87e5c1c2b0fa7c0ab8e2b6f7d51f3a4ac6b1a8c1e0f8a9b7c"),
    ] {
        h.insert(name, HeaderValue::from_static(value));
    }
    h
}

fn protocol(c: &mut Criterion) {
    let h = headers();
    let mut g = c.benchmark_group("protocol");
    g.throughput(Throughput::Elements(1));
    g.bench_function("route_getitem", |b| {
        b.iter(|| {
            let h = black_box(&h);
            let media = Media::of(h.get("content-type").map(HeaderValue::as_bytes));
            let target = h
                .get("x-amz-target")
                .and_then(|v| v.to_str().ok())
                .unwrap_or("");
            json_service(target, media).map(|(s, op)| s.serves(op))
        })
    });
    g.bench_function("sigv4_shape", |b| {
        b.iter(|| sigv4::check(black_box(&h), None, Some("dynamodb")).is_ok())
    });
    g.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().measurement_time(Duration::from_secs(3));
    targets = protocol
}
criterion_main!(benches);
