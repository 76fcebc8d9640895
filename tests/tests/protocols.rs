//! The protocol table and the connection-level behaviour every service on
//! the port shares: what no service claims, CORS, the 413, the signature's
//! shape, and each registered service's unknown-operation error through
//! its official SDK and as raw HTTP. Sources: `docs/research/protocols.md`.

use tarn_tests::{
    exchange_raw, fake_authorization, hash_table, sdk_client, send_raw, service_error, RawRequest,
    RawResponse, Server, FAKE_SIGNATURE_DATE,
};

const UNKNOWN_OPERATION: &str =
    r#"{"__type":"com.amazon.coral.service#UnknownOperationException"}"#;
const SERIALIZATION: &str = r#"{"__type":"com.amazon.coral.service#SerializationException"}"#;

/// DynamoDB's 404 for what no service claims, and its CRC.
const UNCLAIMED: &str = "<UnknownOperationException/>\n";
const UNCLAIMED_CRC: &str = "3552371480";

fn with_content_type(content_type: Option<&str>, target: Option<&str>, body: &str) -> RawRequest {
    let mut r = RawRequest::post(target, body);
    r.headers.retain(|(k, _)| k != "Content-Type");
    if let Some(ct) = content_type {
        r = r.header("Content-Type", ct);
    }
    r
}

fn assert_unclaimed(r: &RawResponse, what: &str) {
    assert_eq!((r.status, r.body.as_str()), (404, UNCLAIMED), "{what}");
    assert_eq!(r.header("x-amz-crc32"), Some(UNCLAIMED_CRC), "{what}");
    assert_eq!(r.header("content-type"), None, "{what}");
    r.assert_standard_headers();
}

// ---- what no service claims ----

#[tokio::test]
async fn posts_without_a_target_are_unknown_operations() {
    let server = Server::start();
    // No body: the content type does not matter (it was a 404 before).
    for ct in [None, Some("whatever"), Some("application/x-amz-json-1.0")] {
        let r = send_raw(&server, &with_content_type(ct, None, "")).await;
        r.assert_standard_headers();
        assert_eq!(
            (r.status, r.body.as_str()),
            (400, UNKNOWN_OPERATION),
            "{ct:?}"
        );
        let want = if ct == Some("application/x-amz-json-1.0") {
            "application/x-amz-json-1.0"
        } else {
            "application/json"
        };
        assert_eq!(r.header("content-type"), Some(want), "{ct:?}");
    }
    // A JSON body, with parameters on its media type, and unknown targets.
    for (ct, target) in [
        ("application/json", None),
        ("application/json;charset=asfdsaf", None),
        ("application/x-amz-json-1.0", Some("whatever")),
        (
            "application/x-amz-json-1.0",
            Some("DynamoDB_20120810.ListTable"),
        ),
        (
            "application/x-amz-json-1.0",
            Some("Kinesis_20131202.ListStreams"),
        ),
    ] {
        let r = send_raw(&server, &with_content_type(Some(ct), target, "{}")).await;
        assert_eq!(
            (r.status, r.body.as_str()),
            (400, UNKNOWN_OPERATION),
            "{ct} {target:?}"
        );
    }
    // Unsigned too: the target is looked at before the signature.
    let r = send_raw(&server, &RawRequest::op("NoSuchThing", "{}").unsigned()).await;
    assert_eq!((r.status, r.body.as_str()), (400, UNKNOWN_OPERATION));
}

#[tokio::test]
async fn bodies_and_methods_no_service_takes_get_dynamodbs_404() {
    let server = Server::start();
    for ct in [
        None,
        Some("whatever"),
        Some("application/x-amz-json-1.1"),
        Some("application/jsonasdf"),
    ] {
        let r = send_raw(
            &server,
            &with_content_type(ct, Some("DynamoDB_20120810.ListTables"), "hi"),
        )
        .await;
        assert_unclaimed(&r, &format!("{ct:?}"));
    }
    for method in ["PUT", "DELETE", "PATCH", "OPTIONS"] {
        let r = send_raw(
            &server,
            &RawRequest {
                method: method.to_owned(),
                ..RawRequest::get("/")
            },
        )
        .await;
        assert_unclaimed(&r, method);
    }
    let r = send_raw(&server, &RawRequest::get("/nowhere")).await;
    assert_unclaimed(&r, "GET /nowhere");
    // A form signed for a service that does not speak the query protocol.
    let r = send_raw(
        &server,
        &with_content_type(
            Some("application/x-www-form-urlencoded"),
            None,
            "Action=ListTables",
        ),
    )
    .await;
    assert_unclaimed(&r, "form for dynamodb");
}

// ---- CORS ----

const EXPOSED: &str = "x-amzn-RequestId,x-amzn-ErrorType,x-amzn-ErrorMessage,Date";

#[tokio::test]
async fn a_browser_preflight_and_its_request_are_allowed() {
    let server = Server::start();
    hash_table(&server.client(), "web").await;
    // What a browser sends before an SDK's POST from another origin.
    let preflight = RawRequest {
        method: "OPTIONS".to_owned(),
        ..RawRequest::get("/")
    }
    .unsigned()
    .header("Origin", "http://localhost:3000")
    .header("Access-Control-Request-Method", "POST")
    .header(
        "Access-Control-Request-Headers",
        "amz-sdk-invocation-id,amz-sdk-request,authorization,content-type,x-amz-date,x-amz-target,x-amz-user-agent",
    );
    let r = send_raw(&server, &preflight).await;
    assert_eq!((r.status, r.body.as_str()), (200, ""));
    assert_eq!(r.header("content-length"), Some("0"));
    assert_eq!(r.header("access-control-allow-origin"), Some("*"));
    assert_eq!(r.header("access-control-allow-methods"), Some("POST"));
    assert_eq!(
        r.header("access-control-allow-headers"),
        Some("amz-sdk-invocation-id,amz-sdk-request,authorization,content-type,x-amz-date,x-amz-target,x-amz-user-agent")
    );
    assert_eq!(r.header("access-control-max-age"), Some("172800"));
    assert_eq!(r.header("access-control-expose-headers"), Some(EXPOSED));
    assert_eq!(r.header("x-amzn-requestid").map(str::len), Some(52));
    assert_eq!(r.header("x-amz-crc32"), None);
    // The request itself, and an error, carry the allow and expose headers
    // but none of the preflight's.
    for req in [
        RawRequest::op("GetItem", r#"{"TableName":"web","Key":{"pk":{"S":"a"}}}"#),
        RawRequest::op("NoSuchThing", "{}"),
        RawRequest::get("/"),
    ] {
        let r = send_raw(&server, &req.header("Origin", "http://localhost:3000")).await;
        assert!(
            r.status == 200 || r.status == 400,
            "{} {}",
            r.status,
            r.body
        );
        r.assert_standard_headers();
        assert_eq!(
            r.header("access-control-allow-origin"),
            Some("*"),
            "{}",
            r.body
        );
        assert_eq!(r.header("access-control-expose-headers"), Some(EXPOSED));
        assert_eq!(r.header("access-control-max-age"), None);
        assert_eq!(r.header("access-control-allow-methods"), None);
    }
    // A preflight for another service's path is answered the same way.
    let r = send_raw(
        &server,
        &RawRequest {
            method: "OPTIONS".to_owned(),
            ..RawRequest::get("/2015-03-31/functions/f/invocations")
        }
        .header("Origin", "http://localhost:3000")
        .header("Access-Control-Request-Method", "POST"),
    )
    .await;
    assert_eq!(
        (r.status, r.header("access-control-allow-methods")),
        (200, Some("POST"))
    );
}

#[tokio::test]
async fn without_an_origin_no_cors_header_is_sent() {
    let server = Server::start();
    for req in [
        RawRequest::get("/"),
        RawRequest::op("ListTables", "{}"),
        RawRequest {
            method: "OPTIONS".to_owned(),
            ..RawRequest::get("/")
        },
    ] {
        let r = send_raw(&server, &req).await;
        for (name, _) in &r.headers {
            assert!(
                !name.starts_with("access-control-"),
                "{name} in reply to {}",
                req.method
            );
        }
    }
}

// ---- the 413 ----

#[tokio::test]
async fn a_declared_body_over_16_mb_is_refused_before_it_is_read() {
    let server = Server::start();
    let too_large = tarn_tests::validation_body("Request size exceeded 16777216 bytes");
    let addr = server.endpoint.strip_prefix("http://").expect("http");
    // Only the head is sent: the answer cannot wait for the body.
    let head = format!(
        "POST / HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/x-amz-json-1.0\r\nX-Amz-Target: DynamoDB_20120810.ListTables\r\nContent-Length: 16777217\r\n\r\n"
    );
    let r = exchange_raw(&server, head.as_bytes()).await;
    assert_eq!((r.status, r.body.as_str()), (413, too_large.as_str()));
    assert_eq!(r.header("connection"), Some("close"));
    r.assert_standard_headers();
    // A chunked body is read no further than the limit.
    let mut wire = format!(
        "POST / HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/x-amz-json-1.0\r\nX-Amz-Target: DynamoDB_20120810.ListTables\r\nTransfer-Encoding: chunked\r\n\r\n"
    )
    .into_bytes();
    let chunk = vec![b' '; 1 << 20];
    for _ in 0..17 {
        wire.extend_from_slice(format!("{:x}\r\n", chunk.len()).as_bytes());
        wire.extend_from_slice(&chunk);
        wire.extend_from_slice(b"\r\n");
    }
    wire.extend_from_slice(b"0\r\n\r\n");
    let r = exchange_raw(&server, &wire).await;
    assert_eq!((r.status, r.body.as_str()), (413, too_large.as_str()));
}

// ---- the signature's shape ----

fn incomplete(message: &str) -> String {
    format!(
        r#"{{"__type":"com.amazon.coral.service#IncompleteSignatureException","message":"{message}"}}"#
    )
}

fn invalid(message: &str) -> String {
    format!(
        r#"{{"__type":"com.amazon.coral.service#InvalidSignatureException","message":"{message}"}}"#
    )
}

const MISSING: &str = r#"{"__type":"com.amazon.coral.service#MissingAuthenticationTokenException","message":"Request is missing Authentication Token"}"#;

#[tokio::test]
async fn unsigned_requests_are_missing_a_token() {
    let server = Server::start();
    let list = || RawRequest::op("ListTables", "{}");
    let cases = [
        ("no header", list().unsigned()),
        ("AWS4", list().header("Authorization", "AWS4")),
        (
            "X with a near query name",
            RawRequest {
                path: "/?X-Amz-Algorith".to_owned(),
                ..list()
            }
            .header("Authorization", "X"),
        ),
        (
            "query without X-Amz-Algorithm",
            RawRequest {
                path: "/?X-Amz-Credential=a&X-Amz-Signature=b&X-Amz-SignedHeaders=c&X-Amz-Date=d"
                    .to_owned(),
                ..list()
            }
            .unsigned(),
        ),
    ];
    for (what, req) in cases {
        let r = send_raw(&server, &req).await;
        r.assert_standard_headers();
        assert_eq!((r.status, r.body.as_str()), (400, MISSING), "{what}");
    }
    // A body that does not parse is reported first.
    let r = send_raw(&server, &RawRequest::op("ListTables", "{").unsigned()).await;
    assert_eq!((r.status, r.body.as_str()), (400, SERIALIZATION));
}

#[tokio::test]
async fn malformed_signatures_get_aws_messages() {
    let server = Server::start();
    let list = || RawRequest::op("ListTables", "{}");
    let date = ("X-Amz-Date", FAKE_SIGNATURE_DATE);
    let cases: Vec<(RawRequest, String)> = vec![
        (
            list().header("Authorization", "AWS4-"),
            incomplete("Authorization header requires 'Credential' parameter. Authorization header requires 'Signature' parameter. Authorization header requires 'SignedHeaders' parameter. Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header. Authorization=AWS4-"),
        ),
        (
            list()
                .header("Authorization", "AWS4- Signature=b, Credential=a")
                .header("Date", "a"),
            incomplete("Authorization header requires 'SignedHeaders' parameter. Authorization=AWS4- Signature=b, Credential=a"),
        ),
        (
            list().header("Authorization", "AWS4-HMAC-SHA256 Credential=a/b/c/d, SignedHeaders=host, Signature=s").header(date.0, date.1),
            incomplete("Credential must have exactly 5 slash-delimited elements, e.g. keyid/date/region/service/term, got 'a/b/c/d'"),
        ),
        (
            list().header("Authorization", &fake_authorization("sqs")).header(date.0, date.1),
            invalid("Credential should be scoped to correct service: 'dynamodb'."),
        ),
        (
            RawRequest {
                path: "/?X-Amz-Algorithm".to_owned(),
                ..list()
            }
            .header("Authorization", "X"),
            invalid("Found both 'X-Amz-Algorithm' as a query-string param and 'Authorization' as HTTP header."),
        ),
        (
            RawRequest {
                path: "/?X-Amz-Algorithm".to_owned(),
                ..list()
            }
            .unsigned(),
            incomplete("AWS query-string parameters must include 'X-Amz-Algorithm'. AWS query-string parameters must include 'X-Amz-Credential'. AWS query-string parameters must include 'X-Amz-Signature'. AWS query-string parameters must include 'X-Amz-SignedHeaders'. AWS query-string parameters must include 'X-Amz-Date'. Re-examine the query-string parameters."),
        ),
        (
            RawRequest {
                path: "/?X-Amz-Algorithm=a&X-Amz-Credential=b&X-Amz-Signature=c&X-Amz-Date=d".to_owned(),
                ..list()
            }
            .unsigned(),
            incomplete("AWS query-string parameters must include 'X-Amz-SignedHeaders'. Re-examine the query-string parameters."),
        ),
    ];
    for (req, want) in cases {
        let r = send_raw(&server, &req).await;
        r.assert_standard_headers();
        assert_eq!(
            (r.status, r.body.as_str()),
            (400, want.as_str()),
            "{:?}",
            req.path
        );
    }
    // A presigned URL is a signature.
    let presigned = RawRequest {
        path: "/?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKID%2F20260101%2Fus-east-1%2Fdynamodb%2Faws4_request&X-Amz-Date=20260101T000000Z&X-Amz-SignedHeaders=host&X-Amz-Signature=00".to_owned(),
        ..list()
    }
    .unsigned();
    let r = send_raw(&server, &presigned).await;
    assert_eq!((r.status, r.body.as_str()), (200, r#"{"TableNames":[]}"#));
}

#[tokio::test]
async fn health_checks_preflights_and_the_runtime_api_need_no_signature() {
    let server = Server::start();
    // The health check names the host it was reached at, as DynamoDB's
    // does (there, its regional name).
    let r = send_raw(&server, &RawRequest::get("/").unsigned()).await;
    let host = server.endpoint.trim_start_matches("http://");
    assert_eq!(
        (r.status, r.body.clone()),
        (200, format!("healthy: {host} "))
    );
    let r = send_raw(
        &server,
        &RawRequest::get("/2018-06-01/runtime/invocation/next").unsigned(),
    )
    .await;
    assert_eq!((r.status, r.body.as_str()), (404, "404 page not found\n"));
    assert_eq!(r.header("content-type"), Some("text/plain; charset=utf-8"));
}

// ---- every registered service: its SDK gets its protocol's unknown-operation error ----

#[tokio::test]
async fn placeholder_services_answer_their_sdks_with_unknown_operation() {
    let server = Server::start();
    let e = server.endpoint.as_str();

    let (code, message) = service_error(sdk_client!(aws_sdk_sns, e).list_topics().send().await);
    assert_eq!(
        (code.as_str(), message.as_str()),
        (
            "InvalidAction",
            "Could not find operation ListTopics for version 2010-03-31"
        )
    );

    // IAM and CloudWatch Logs serve their subsets; beyond them, the same.
    let (code, message) = service_error(sdk_client!(aws_sdk_iam, e).list_users().send().await);
    assert_eq!(
        (code.as_str(), message.as_str()),
        (
            "InvalidAction",
            "Could not find operation ListUsers for version 2010-05-08"
        )
    );

    let (code, _) = service_error(sdk_client!(aws_sdk_kinesis, e).list_streams().send().await);
    assert_eq!(code, "UnknownOperationException");

    let (code, _) = service_error(
        sdk_client!(aws_sdk_cloudwatchlogs, e)
            .describe_metric_filters()
            .send()
            .await,
    );
    assert_eq!(code, "UnknownOperationException");

    // Lambda serves its API now (tests/tests/lambda.rs).
    sdk_client!(aws_sdk_lambda, e)
        .list_functions()
        .send()
        .await
        .expect("lambda lists functions");

    let (code, _) = service_error(sdk_client!(aws_sdk_pipes, e).list_pipes().send().await);
    assert_eq!(code, "UnknownOperationException");

    // DynamoDB still works beside them.
    let tables = server
        .client()
        .list_tables()
        .send()
        .await
        .expect("list tables");
    assert!(tables.table_names().is_empty());
}

/// A JSON-protocol request signed for `service`.
fn json_request(service: &str, content_type: &str, target: &str, body: &[u8]) -> RawRequest {
    RawRequest {
        body: body.to_vec(),
        ..with_content_type(Some(content_type), Some(target), "")
    }
    .signed_for(service)
}

fn form(service: Option<&str>, path: &str, body: &str) -> RawRequest {
    let r = RawRequest {
        path: path.to_owned(),
        ..with_content_type(
            Some("application/x-www-form-urlencoded; charset=utf-8"),
            None,
            body,
        )
    };
    match service {
        Some(s) => r.signed_for(s),
        None => r.unsigned(),
    }
}

fn xml_error(namespace: &str, code: &str, message: &str, detail: bool, id: &str) -> String {
    format!(
        "<ErrorResponse xmlns=\"{namespace}\">\n  <Error>\n    <Type>Sender</Type>\n    <Code>{code}</Code>\n    <Message>{message}</Message>\n{}  </Error>\n  <RequestId>{id}</RequestId>\n</ErrorResponse>\n",
        if detail { "    <Detail/>\n" } else { "" }
    )
}

const AWS_FAULT: &str = "http://webservices.amazon.com/AWSFault/2005-15-09";
const SQS_NS: &str = "http://queue.amazonaws.com/doc/2012-11-05/";

fn assert_no_crc(r: &RawResponse) {
    assert_eq!(r.header("x-amz-crc32"), None, "{}", r.body);
    assert_eq!(r.header("x-amzn-requestid").map(str::len), Some(52));
}

#[tokio::test]
async fn json_protocols_render_unknown_operations_their_way() {
    let server = Server::start();
    // SQS (awsJson1_0, query-compatible).
    let r = send_raw(
        &server,
        &json_request(
            "sqs",
            "application/x-amz-json-1.0",
            "AmazonSQS.Frobnicate",
            b"{}",
        ),
    )
    .await;
    assert_eq!((r.status, r.body.as_str()), (400, UNKNOWN_OPERATION));
    assert_eq!(r.header("x-amzn-query-error"), Some("InvalidAction;Sender"));
    assert_eq!(r.header("content-type"), Some("application/x-amz-json-1.0"));
    assert_no_crc(&r);
    // Kinesis and CloudWatch Logs (awsJson1_1, bare names).
    for (service, target) in [
        ("kinesis", "Kinesis_20131202.ListStreams"),
        ("logs", "Logs_20140328.DescribeMetricFilters"),
    ] {
        let r = send_raw(
            &server,
            &json_request(service, "application/x-amz-json-1.1", target, b"{}"),
        )
        .await;
        assert_eq!(
            (r.status, r.body.as_str()),
            (400, r#"{"__type":"UnknownOperationException"}"#),
            "{target}"
        );
        assert_eq!(r.header("content-type"), Some("application/x-amz-json-1.1"));
        assert_eq!(r.header("x-amzn-query-error"), None);
        assert_no_crc(&r);
        // A body that is not JSON is a SerializationException, as on AWS.
        let r = send_raw(
            &server,
            &json_request(service, "application/x-amz-json-1.1", target, b"{"),
        )
        .await;
        assert_eq!(
            (r.status, r.body.as_str()),
            (400, r#"{"__type":"SerializationException"}"#),
            "{target}"
        );
    }
    // Kinesis over CBOR: the same error as a CBOR map, Kinesis' bytes.
    let r = send_raw(
        &server,
        &json_request(
            "kinesis",
            "application/x-amz-cbor-1.1",
            "Kinesis_20131202.ListStreams",
            &[0xa0],
        ),
    )
    .await;
    let mut want = vec![0xbf, 0x66];
    want.extend_from_slice(b"__type");
    want.extend_from_slice(&[0x78, 0x19]);
    want.extend_from_slice(b"UnknownOperationException");
    want.push(0xff);
    assert_eq!((r.status, r.bytes.as_slice()), (400, want.as_slice()));
    assert_eq!(r.header("content-type"), Some("application/x-amz-cbor-1.1"));
}

#[tokio::test]
async fn query_protocol_posts_are_routed_by_scope_or_queue_path() {
    let server = Server::start();
    let check = |r: &RawResponse, status: u16, want: String| {
        let id = r.header("x-amzn-requestid").expect("request id");
        assert_eq!(
            (r.status, r.body.clone()),
            (status, want.replace("{id}", id))
        );
        assert_eq!(r.header("content-type"), Some("text/xml"));
        assert_no_crc(r);
    };
    let r = send_raw(
        &server,
        &form(Some("sns"), "/", "Action=Publish&Version=2010-03-31"),
    )
    .await;
    check(
        &r,
        400,
        xml_error(
            AWS_FAULT,
            "InvalidAction",
            "Could not find operation Publish for version 2010-03-31",
            false,
            "{id}",
        ),
    );
    let r = send_raw(&server, &form(Some("iam"), "/", "Action=CreateUser")).await;
    check(
        &r,
        400,
        xml_error(
            AWS_FAULT,
            "InvalidAction",
            "Could not find operation CreateUser for version NO_VERSION_SPECIFIED",
            false,
            "{id}",
        ),
    );
    let r = send_raw(
        &server,
        &form(Some("sqs"), "/", "Action=Frobnicate&Version=2012-11-05"),
    )
    .await;
    check(
        &r,
        400,
        xml_error(
            SQS_NS,
            "InvalidAction",
            "The action Frobnicate is not valid for this endpoint.",
            true,
            "{id}",
        ),
    );
    // A queue URL's path is SQS's, signed or not.
    let r = send_raw(
        &server,
        &form(
            None,
            "/000000000000/jobs",
            "Action=Frobnicate&MessageBody=hi",
        ),
    )
    .await;
    check(
        &r,
        400,
        xml_error(
            SQS_NS,
            "InvalidAction",
            "The action Frobnicate is not valid for this endpoint.",
            true,
            "{id}",
        ),
    );
    let r = send_raw(&server, &form(Some("sns"), "/", "Version=2010-03-31")).await;
    check(
        &r,
        400,
        xml_error(
            AWS_FAULT,
            "MissingAction",
            "The request must contain the parameter Action.",
            false,
            "{id}",
        ),
    );
    // Unsigned: no service can be told, Coral's query answer.
    let r = send_raw(&server, &form(None, "/", "Action=Publish")).await;
    check(
        &r,
        403,
        xml_error(
            AWS_FAULT,
            "MissingAuthenticationToken",
            "Request is missing Authentication Token",
            false,
            "{id}",
        ),
    );
}

#[tokio::test]
async fn rest_services_answer_unknown_routes_with_404() {
    let server = Server::start();
    for (service, method, path) in [
        ("lambda", "GET", "/2099-01-01/functions/"),
        ("lambda", "POST", "/2015-03-31/functions/f/nothing"),
        (
            "lambda",
            "PUT",
            "/2017-03-31/tags/arn%3Aaws%3Alambda%3Aus-east-1%3A000000000000%3Afunction%3Af",
        ),
        ("pipes", "GET", "/v1/pipes"),
        ("pipes", "POST", "/v1/pipes/p/start"),
    ] {
        let r = send_raw(
            &server,
            &RawRequest {
                method: method.to_owned(),
                ..RawRequest::get(path)
            }
            .signed_for(service),
        )
        .await;
        assert_eq!((r.status, r.body.as_str()), (404, "{}"), "{method} {path}");
        assert_eq!(
            r.header("x-amzn-errortype"),
            Some("UnknownOperationException")
        );
        assert_eq!(r.header("content-type"), Some("application/json"));
        assert_no_crc(&r);
    }
}
