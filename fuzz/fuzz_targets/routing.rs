//! The protocol table and the connection rules under any request head:
//! method, path and query, `Content-Type`, `X-Amz-Target`,
//! `Authorization`, `Origin` and body are all fuzzed. Whatever arrives, the
//! server answers without panicking, with a status its rules allow, and
//! never with a 500 unless a content coding was named (DynamoDB's answer to
//! a body that does not decode).

#![no_main]

use std::sync::OnceLock;

use arbitrary::Arbitrary;
use axum::body::Body;
use axum::http::Request;
use libfuzzer_sys::fuzz_target;
use tarn_fuzz::Server;

#[derive(Arbitrary, Debug)]
struct Input {
    method: u8,
    path: String,
    content_type: Option<String>,
    target: Option<String>,
    authorization: Option<String>,
    origin: bool,
    content_encoding: Option<String>,
    body: Vec<u8>,
}

const METHODS: &[&str] = &["POST", "GET", "PUT", "DELETE", "OPTIONS", "PATCH", "HEAD"];
const PATHS: &[&str] = &[
    "/",
    "/000000000000/queue",
    "/2015-03-31/functions/f/invocations",
    "/2018-06-01/runtime/invocation/next",
    "/v1/pipes/p",
];

fn server() -> &'static Server {
    static SERVER: OnceLock<Server> = OnceLock::new();
    SERVER.get_or_init(Server::new)
}

fuzz_target!(|input: Input| {
    let method = METHODS[usize::from(input.method) % METHODS.len()];
    // Half the inputs use a path some service owns, with the fuzzed text
    // as its query string.
    let path = if input.path.len() % 2 == 0 {
        let base = PATHS[input.path.len() / 2 % PATHS.len()];
        format!("{base}?{}", input.path)
    } else {
        input.path.clone()
    };
    let mut builder = Request::builder().method(method).uri(path.as_str());
    for (name, value) in [
        ("content-type", &input.content_type),
        ("x-amz-target", &input.target),
        ("authorization", &input.authorization),
        ("content-encoding", &input.content_encoding),
    ] {
        if let Some(v) = value {
            builder = builder.header(name, v.as_str());
        }
    }
    if input.origin {
        builder = builder.header("origin", "http://localhost");
    }
    let Ok(request) = builder.body(Body::from(input.body)) else {
        // Not a valid HTTP request head: hyper would refuse it first.
        return;
    };
    let (status, _) = server().send(request);
    let allowed = [200, 400, 403, 404, 413];
    assert!(
        allowed.contains(&status) || (status == 500 && input.content_encoding.is_some()),
        "{method} {path} answered {status}"
    );
});
