//! The HTTP layer end to end: compressed requests (gzip, deflate, stacked,
//! broken, empty, bombs), compressed replies and Accept-Encoding
//! negotiation, the request head limit, and the `Server` header. Sources
//! for every expectation are in `docs/research/http.md`.

use std::io::{Read, Write};
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};

use aws_sdk_dynamodb::config::interceptors::{
    BeforeDeserializationInterceptorContextMut, BeforeTransmitInterceptorContextMut,
};
use aws_sdk_dynamodb::config::{ConfigBag, Intercept, RuntimeComponents};
use aws_sdk_dynamodb::types::{AttributeValue, ReturnValuesOnConditionCheckFailure};
use aws_sdk_dynamodb::Client;
use aws_smithy_types::body::SdkBody;
use tarn_tests::{
    config_for, crc32, get, hash_table, item, put, s, send_raw, validation_body, RawRequest,
    RawResponse, Server,
};

type BoxError = Box<dyn std::error::Error + Send + Sync>;

const INTERNAL_ERROR: &str = r#"{"__type":"com.amazonaws.dynamodb.v20120810#InternalServerError","message":"Internal server error"}"#;

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(data).expect("gzip");
    e.finish().expect("gzip")
}

fn zlib(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(data).expect("deflate");
    e.finish().expect("deflate")
}

/// Applies the named codings in order.
fn encode(codings: &[&str], data: &[u8]) -> Vec<u8> {
    codings.iter().fold(data.to_vec(), |body, c| match *c {
        "gzip" => gzip(&body),
        "deflate" => zlib(&body),
        other => panic!("no coding {other}"),
    })
}

/// Undoes one coding of a reply.
fn decode(coding: &str, data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    match coding {
        "gzip" => flate2::read::GzDecoder::new(data).read_to_end(&mut out),
        "deflate" => flate2::read::ZlibDecoder::new(data).read_to_end(&mut out),
        other => panic!("no coding {other}"),
    }
    .expect("reply decodes");
    out
}

fn put_body(pk: &str) -> String {
    format!(r#"{{"TableName":"tab","Item":{{"pk":{{"S":"{pk}"}},"v":{{"S":"x"}}}}}}"#)
}

async fn table(server: &Server) -> Client {
    let client = server.client();
    hash_table(&client, "tab").await;
    client
}

async fn stored(client: &Client, pk: &str) -> bool {
    get(client, "tab", item(&[("pk", s(pk))])).await.is_some()
}

/// Sends operation `op` with `body` and one `name` header per entry of
/// `values`, and checks the headers every reply carries.
async fn send_with(
    server: &Server,
    op: &str,
    body: impl Into<Vec<u8>>,
    name: &str,
    values: &[&str],
) -> RawResponse {
    let req = values
        .iter()
        .fold(RawRequest::op(op, body), |req, v| req.header(name, v));
    let r = send_raw(server, &req).await;
    r.assert_standard_headers();
    r
}

/// Sends a PutItem `body` with one `Content-Encoding` header per entry of
/// `codings`.
async fn put_encoded(server: &Server, body: Vec<u8>, codings: &[&str]) -> RawResponse {
    send_with(server, "PutItem", body, "Content-Encoding", codings).await
}

// ---- compressed requests ----

#[tokio::test]
async fn compressed_request_bodies_are_decoded() {
    let server = Server::start();
    let client = table(&server).await;
    let plain = |pk: &str| put_body(pk).into_bytes();
    let mut two_members = gzip(&plain("members")[..10]);
    two_members.extend(gzip(&plain("members")[10..]));
    let mut junk = gzip(&plain("junk"));
    junk.extend_from_slice(b"junk");
    let cases: Vec<(&str, Vec<u8>, Vec<&str>)> = vec![
        ("gzip", gzip(&plain("gzip")), vec!["gzip"]),
        ("upper", gzip(&plain("upper")), vec!["GZIP"]),
        ("deflate", zlib(&plain("deflate")), vec!["deflate"]),
        // Concatenated gzip members are one body (RFC 1952).
        ("members", two_members, vec!["gzip"]),
        // Bytes after a complete member that do not start another are
        // ignored, as DynamoDB ignores them.
        ("junk", junk, vec!["gzip"]),
        ("identity", plain("identity"), vec!["identity"]),
        (
            "stacked",
            encode(&["deflate", "gzip"], &plain("stacked")),
            vec!["deflate, gzip"],
        ),
        (
            "repeated",
            encode(&["gzip", "deflate"], &plain("repeated")),
            vec!["gzip", "identity", "deflate"],
        ),
        (
            "twice",
            encode(&["gzip", "gzip"], &plain("twice")),
            vec!["gzip,gzip"],
        ),
    ];
    for (pk, body, headers) in cases {
        let r = put_encoded(&server, body, &headers).await;
        assert_eq!(r.status, 200, "{pk}: {}", r.body);
        assert_eq!(r.body, "{}", "{pk}");
        assert!(stored(&client, pk).await, "{pk} not written");
    }
}

#[tokio::test]
async fn broken_compressed_bodies_get_500_and_change_nothing() {
    let server = Server::start();
    let client = table(&server).await;
    let plain = |pk: &str| put_body(pk).into_bytes();
    let cut = |mut b: Vec<u8>| {
        b.pop();
        b
    };
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        ("not-gzip", plain("not-gzip"), "gzip"),
        ("gzip-cut", cut(gzip(&plain("gzip-cut"))), "gzip"),
        ("gzip-empty", Vec::new(), "gzip"),
        ("not-deflate", plain("not-deflate"), "deflate"),
        ("deflate-cut", cut(zlib(&plain("deflate-cut"))), "deflate"),
        ("deflate-empty", Vec::new(), "deflate"),
        (
            "raw-deflate",
            {
                // RFC 1951 without the zlib wrapper is not HTTP's deflate.
                let mut e =
                    flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::default());
                e.write_all(&plain("raw-deflate")).expect("deflate");
                e.finish().expect("deflate")
            },
            "deflate",
        ),
        ("garbage", plain("garbage"), "garbage"),
        ("x-gzip", gzip(&plain("x-gzip")), "x-gzip"),
        ("br-after", gzip(&plain("br-after")), "gzip, br"),
        // Stacked in the wrong order.
        (
            "misordered",
            encode(&["deflate", "gzip"], &plain("misordered")),
            "gzip, deflate",
        ),
        // More stacked codings than Tarn undoes.
        (
            "nine",
            encode(&["gzip"; 9], &plain("nine")),
            "gzip,gzip,gzip,gzip,gzip,gzip,gzip,gzip,gzip",
        ),
    ];
    for (pk, body, coding) in cases {
        let r = put_encoded(&server, body, &[coding]).await;
        assert_eq!(r.status, 500, "{pk}: {}", r.body);
        assert_eq!(r.body, INTERNAL_ERROR, "{pk}");
        assert!(!stored(&client, pk).await, "{pk} was written");
    }
    // Eight stacked codings are still undone.
    let r = put_encoded(
        &server,
        encode(&["gzip"; 8], &plain("eight")),
        &["gzip,gzip,gzip,gzip,gzip,gzip,gzip,gzip"],
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
}

#[tokio::test]
async fn a_second_deflate_stream_is_not_read() {
    // DynamoDB reads one zlib stream; the JSON it holds is cut short.
    let server = Server::start();
    let client = table(&server).await;
    let plain = put_body("two-deflates").into_bytes();
    let mut body = zlib(&plain[..10]);
    body.extend(zlib(&plain[10..]));
    let r = put_encoded(&server, body, &["deflate"]).await;
    assert_eq!(r.status, 400);
    assert_eq!(
        r.body,
        r#"{"__type":"com.amazon.coral.service#SerializationException"}"#
    );
    assert!(!stored(&client, "two-deflates").await);
}

#[tokio::test]
async fn decompression_bombs_stop_at_the_request_limit() {
    let server = Server::start();
    let client = table(&server).await;
    let too_large = validation_body("Request size exceeded 16777216 bytes");
    // 20 MB of JSON (mostly spaces) that gzips to a few KB.
    let padded = |pk: &str, pad: usize| {
        let body = put_body(pk);
        let (head, tail) = body.split_at(body.len() - 1);
        let mut b = Vec::with_capacity(body.len() + pad);
        b.extend_from_slice(head.as_bytes());
        b.resize(b.len() + pad, b' ');
        b.extend_from_slice(tail.as_bytes());
        b
    };
    let bomb = gzip(&padded("bomb", 20 << 20));
    assert!(bomb.len() < 64 * 1024, "{}", bomb.len());
    let r = put_encoded(&server, bomb, &["gzip"]).await;
    assert_eq!((r.status, r.body.as_str()), (413, too_large.as_str()));
    assert!(!stored(&client, "bomb").await);
    // Nested: the outer coding stays small, the inner one is stopped.
    let nested = encode(&["gzip", "gzip"], &padded("nested", 20 << 20));
    let r = put_encoded(&server, nested, &["gzip, gzip"]).await;
    assert_eq!((r.status, r.body.as_str()), (413, too_large.as_str()));
    assert!(!stored(&client, "nested").await);
    // Just under the limit after decoding is an ordinary request.
    let fits = padded("fits", (16 << 20) - 200);
    assert!(fits.len() < 16 << 20);
    let r = put_encoded(&server, zlib(&fits), &["deflate"]).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(stored(&client, "fits").await);
}

/// Compresses every request body the SDK sends with `codings`, in order,
/// as the SDKs' request compression does.
#[derive(Debug)]
struct CompressRequests(&'static [&'static str]);

impl Intercept for CompressRequests {
    fn name(&self) -> &'static str {
        "CompressRequests"
    }

    fn modify_before_signing(
        &self,
        context: &mut BeforeTransmitInterceptorContextMut<'_>,
        _: &RuntimeComponents,
        _: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let request = context.request_mut();
        let plain = request.body().bytes().ok_or("streaming body")?.to_vec();
        let body = encode(self.0, &plain);
        request
            .headers_mut()
            .insert("Content-Encoding", self.0.join(", "));
        request
            .headers_mut()
            .insert("Content-Length", body.len().to_string());
        *request.body_mut() = SdkBody::from(body);
        Ok(())
    }
}

#[tokio::test]
async fn sdk_requests_compressed_by_an_interceptor_work() {
    let server = Server::start();
    table(&server).await;
    for codings in [
        &["gzip"][..],
        &["deflate"][..],
        &["deflate", "gzip"][..],
        &["gzip", "gzip"][..],
    ] {
        let client = Client::from_conf(
            config_for(&server.endpoint)
                .interceptor(CompressRequests(codings))
                .build(),
        );
        let pk = codings.join("-");
        let long = "y".repeat(20_000);
        let it = item(&[("pk", s(&pk)), ("long", s(&long))]);
        put(&client, "tab", it.clone()).await;
        let got = get(&client, "tab", item(&[("pk", s(&pk))])).await;
        assert_eq!(got, Some(it), "{codings:?}");
    }
}

// ---- compressed replies ----

/// The GetItem request for `pk` in table `tab`.
fn get_body(pk: &str) -> String {
    format!(r#"{{"TableName":"tab","Key":{{"pk":{{"S":"{pk}"}}}},"ConsistentRead":true}}"#)
}

/// Gets item `pk` with one `Accept-Encoding` header per entry of `accept`.
async fn get_with(server: &Server, pk: &str, accept: &[&str]) -> RawResponse {
    send_with(server, "GetItem", get_body(pk), "Accept-Encoding", accept).await
}

#[tokio::test]
async fn large_replies_are_compressed_as_accept_encoding_asks() {
    let server = Server::start();
    let client = table(&server).await;
    put(
        &client,
        "tab",
        item(&[("pk", s("big")), ("x", s(&"x".repeat(4096)))]),
    )
    .await;
    let plain = get_with(&server, "big", &[]).await;
    assert_eq!(plain.status, 200);
    assert_eq!(plain.header("content-encoding"), None);
    assert!(plain.bytes.len() > 4096);
    let cases: &[(&[&str], Option<&str>)] = &[
        (&["gzip"], Some("gzip")),
        (&["deflate"], Some("deflate")),
        (&["gzip, deflate"], Some("gzip")),
        (&["br, identity, deflate, gzip"], Some("deflate")),
        (&["GZIP, identity"], Some("gzip")),
        (&["*"], Some("gzip")),
        (&["*, deflate"], Some("deflate")),
        (&["*, gzip;q=0.5"], Some("deflate")),
        (&["gzip;q=0.8, deflate;q=0.5"], Some("gzip")),
        (
            &["br, gzip;q=0, deflate; q = 0.5 , identity;q=0"],
            Some("deflate"),
        ),
        (&["deflate;q=0.5, gzip;q=31"], Some("gzip")),
        (&["deflate;q=0.5,gzip;q=0.x"], Some("gzip")),
        (&["*;q=0.5,identity"], Some("gzip")),
        (&["identity"], None),
        (&["identity;q=0"], None),
        (&["gzip;q=0"], None),
        (&["*;q=0"], None),
        (&["x-gzip"], None),
        (&["br"], None),
        (&[""], None),
        // Only the last Accept-Encoding header counts.
        (&["identity", "gzip"], Some("gzip")),
        (&["gzip", "identity"], None),
    ];
    for (accept, want) in cases {
        let r = get_with(&server, "big", accept).await;
        assert_eq!(r.status, 200, "{accept:?}");
        assert_eq!(r.header("content-encoding"), *want, "{accept:?}");
        match want {
            None => assert_eq!(r.bytes, plain.bytes, "{accept:?}"),
            Some(coding) => {
                // x-amz-crc32 (checked above) is of these compressed bytes.
                assert!(r.bytes.len() * 10 < plain.bytes.len(), "{accept:?}");
                assert_eq!(decode(coding, &r.bytes), plain.bytes, "{accept:?}");
            }
        }
    }
}

#[tokio::test]
async fn replies_under_4_kb_stay_plain() {
    let server = Server::start();
    let client = table(&server).await;
    // The reply is the item's JSON around `n` x's; find the fixed part.
    put(&client, "tab", item(&[("pk", s("edge")), ("x", s(""))])).await;
    let fixed = get_with(&server, "edge", &[]).await.bytes.len();
    for (len, compressed) in [(4095, false), (4096, true)] {
        let x = "x".repeat(len - fixed);
        put(&client, "tab", item(&[("pk", s("edge")), ("x", s(&x))])).await;
        let plain = get_with(&server, "edge", &[]).await;
        assert_eq!(plain.bytes.len(), len);
        let r = get_with(&server, "edge", &["gzip"]).await;
        assert_eq!(
            r.header("content-encoding"),
            compressed.then_some("gzip"),
            "{len}"
        );
    }
}

#[tokio::test]
async fn large_error_replies_are_compressed_too() {
    let server = Server::start();
    let client = table(&server).await;
    put(
        &client,
        "tab",
        item(&[("pk", s("old")), ("x", s(&"x".repeat(5000)))]),
    )
    .await;
    let body = r#"{"TableName":"tab","Item":{"pk":{"S":"old"}},"ConditionExpression":"attribute_not_exists(pk)","ReturnValuesOnConditionCheckFailure":"ALL_OLD"}"#;
    let r = send_raw(
        &server,
        &RawRequest::op("PutItem", body).header("Accept-Encoding", "gzip"),
    )
    .await;
    r.assert_standard_headers();
    assert_eq!(r.status, 400);
    assert_eq!(r.header("content-encoding"), Some("gzip"));
    let text = String::from_utf8(decode("gzip", &r.bytes)).expect("utf-8");
    assert!(
        text.starts_with(
            r#"{"__type":"com.amazonaws.dynamodb.v20120810#ConditionalCheckFailedException""#
        ),
        "{text}"
    );
    assert!(text.contains(&"x".repeat(5000)));
    // The SDK, which sends no Accept-Encoding, gets it plain.
    let e = client
        .put_item()
        .table_name("tab")
        .item("pk", s("old"))
        .condition_expression("attribute_not_exists(pk)")
        .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
        .send()
        .await
        .expect_err("condition fails");
    let e = e.into_service_error();
    assert!(e.is_conditional_check_failed_exception(), "{e:?}");
}

/// Asks for compressed replies and undoes the compression before the SDK
/// parses them, checking `x-amz-crc32` against the bytes as sent, as the
/// SDKs that accept gzip do.
#[derive(Debug, Clone)]
struct AcceptCompressed {
    accept: &'static str,
    /// The `Content-Encoding` of every reply seen.
    seen: Arc<Mutex<Vec<Option<String>>>>,
}

impl Intercept for AcceptCompressed {
    fn name(&self) -> &'static str {
        "AcceptCompressed"
    }

    fn modify_before_signing(
        &self,
        context: &mut BeforeTransmitInterceptorContextMut<'_>,
        _: &RuntimeComponents,
        _: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        context
            .request_mut()
            .headers_mut()
            .insert("Accept-Encoding", self.accept);
        Ok(())
    }

    fn modify_before_deserialization(
        &self,
        context: &mut BeforeDeserializationInterceptorContextMut<'_>,
        _: &RuntimeComponents,
        _: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let response = context.response_mut();
        let coding = response
            .headers()
            .get("content-encoding")
            .map(str::to_owned);
        let crc = response
            .headers()
            .get("x-amz-crc32")
            .ok_or("no x-amz-crc32")?
            .parse::<u32>()?;
        self.seen
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(coding.clone());
        let inner = response.take_body();
        *response.body_mut() = SdkBody::from_body_1_x(Decoding {
            inner,
            wire: Vec::new(),
            crc,
            coding,
            done: false,
        });
        Ok(())
    }
}

/// A reply body read whole, checked and decompressed.
struct Decoding {
    inner: SdkBody,
    wire: Vec<u8>,
    crc: u32,
    coding: Option<String>,
    done: bool,
}

impl http_body::Body for Decoding {
    type Data = bytes::Bytes;
    type Error = BoxError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Self::Data>, Self::Error>>> {
        let this = &mut *self;
        if this.done {
            return Poll::Ready(None);
        }
        loop {
            match Pin::new(&mut this.inner).poll_frame(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(Some(Err(e))) => return Poll::Ready(Some(Err(e))),
                Poll::Ready(Some(Ok(frame))) => {
                    if let Ok(data) = frame.into_data() {
                        this.wire.extend_from_slice(&data);
                    }
                }
                Poll::Ready(None) => {
                    this.done = true;
                    if crc32(&this.wire) != this.crc {
                        return Poll::Ready(Some(Err("x-amz-crc32 does not match".into())));
                    }
                    let plain = match this.coding.as_deref() {
                        None => std::mem::take(&mut this.wire),
                        Some(c) => decode(c, &this.wire),
                    };
                    return Poll::Ready(Some(Ok(http_body::Frame::data(plain.into()))));
                }
            }
        }
    }
}

#[tokio::test]
async fn sdk_reads_compressed_replies() {
    let server = Server::start();
    let plain_client = table(&server).await;
    let big = |pk: &str| item(&[("pk", s(pk)), ("x", s(&"x".repeat(8000)))]);
    put(&plain_client, "tab", big("a")).await;
    put(&plain_client, "tab", big("b")).await;
    for (accept, want) in [("gzip", "gzip"), ("deflate", "deflate"), ("*", "gzip")] {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let client = Client::from_conf(
            config_for(&server.endpoint)
                .interceptor(AcceptCompressed {
                    accept,
                    seen: Arc::clone(&seen),
                })
                .build(),
        );
        assert_eq!(
            get(&client, "tab", item(&[("pk", s("a"))])).await,
            Some(big("a"))
        );
        let scanned = client.scan().table_name("tab").send().await.expect("scan");
        assert_eq!(scanned.items().len(), 2);
        // A small reply stays plain.
        let described = client
            .describe_table()
            .table_name("tab")
            .send()
            .await
            .expect("describe");
        assert_eq!(described.table().and_then(|t| t.table_name()), Some("tab"));
        let seen = seen.lock().unwrap_or_else(PoisonError::into_inner).clone();
        assert_eq!(
            seen,
            vec![Some(want.to_owned()), Some(want.to_owned()), None],
            "{accept}"
        );
    }
    // The item really holds what was written.
    let got = get(&plain_client, "tab", item(&[("pk", s("b"))])).await;
    assert_eq!(
        got.and_then(|i| i.get("x").cloned()),
        Some(AttributeValue::S("x".repeat(8000)))
    );
}

// ---- the request head and the Server header ----

#[tokio::test]
async fn oversized_request_lines_and_headers_get_400() {
    let server = Server::start();
    let list = r#"{}"#;
    let long_path = RawRequest {
        path: format!("/{}", "x".repeat(17_000)),
        ..RawRequest::op("ListTables", list)
    };
    let big_header = RawRequest::op("ListTables", list).header("X-Big", &"a".repeat(17_000));
    let mut many_headers = RawRequest::op("ListTables", list);
    for i in 0..50 {
        many_headers = many_headers.header(&format!("X-Many-{i}"), &"m".repeat(400));
    }
    for (what, req) in [
        ("request line", long_path),
        ("one header", big_header),
        ("many headers", many_headers),
    ] {
        let r = send_raw(&server, &req).await;
        assert_eq!(r.status, 400, "{what}");
        assert_eq!(r.body, "", "{what}");
        r.assert_standard_headers();
    }
    // A head just under 16 KB is served.
    let r = send_raw(
        &server,
        &RawRequest::op("ListTables", list).header("X-Big", &"a".repeat(15_000)),
    )
    .await;
    r.assert_standard_headers();
    assert_eq!((r.status, r.body.as_str()), (200, r#"{"TableNames":[]}"#));
}

#[tokio::test]
async fn every_reply_names_the_server() {
    let server = Server::start();
    let requests = [
        RawRequest::get("/"),
        RawRequest::op("ListTables", "{}"),
        RawRequest::op("DescribeTable", r#"{"TableName":"nope"}"#),
        RawRequest::op("ListTables", "{not json"),
        RawRequest::post(None, "{}"),
        RawRequest::op("ListTables", "{}").header("Content-Encoding", "garbage"),
        RawRequest {
            headers: vec![("Content-Type".to_owned(), "text/plain".to_owned())],
            ..RawRequest::op("ListTables", "{}")
        },
    ];
    for req in &requests {
        let r = send_raw(&server, req).await;
        assert_eq!(
            r.header("server"),
            Some("Server"),
            "{} {}",
            r.status,
            r.body
        );
        assert!(r.header("date").is_some());
    }
    // The SDK sees it too.
    let out = server
        .client()
        .list_tables()
        .send()
        .await
        .expect("list tables");
    assert!(out.table_names().is_empty());
}
