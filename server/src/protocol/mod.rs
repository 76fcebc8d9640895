//! Every AWS protocol on one port: the connection-level behaviour all
//! requests share, and the protocol table that hands each request to its
//! service (`docs/architecture.md` draws it).
//!
//! A request goes through, in this order (each step is AWS's, sources in
//! `docs/research/`):
//!
//! 1. a request line and headers over 16 KB: 400, empty body;
//! 2. a `Content-Length` over 16 MB: 413 before any of the body is read;
//! 3. an `OPTIONS` preflight with an `Origin`: answered here ([`cors`]);
//! 4. `GET /`: the health check;
//! 5. the protocol table ([`table`]) claims the request for a service, by
//!    path (REST), form post (query protocol) or `X-Amz-Target` (awsJson);
//!    what no service claims gets DynamoDB's answer, a 404
//!    `<UnknownOperationException/>`;
//! 6. the body is read (at most 16 MB, chunked or not) and its content
//!    codings undone ([`crate::coding`]);
//! 7. an operation the service does not serve gets its protocol's
//!    unknown-operation error; a served one must be signed ([`sigv4`],
//!    the signature's shape only) unless the service is unsigned (the
//!    Lambda Runtime API), and is then dispatched.
//!
//! Every reply carries `x-amzn-RequestId` and `Server`; DynamoDB's, and
//! the port's own answers, `x-amz-crc32` of the bytes as sent; replies to
//! a request with an `Origin` the CORS headers. Errors are rendered by one
//! function per protocol ([`json`], [`cbor`], [`query`], [`rest`]) from a
//! protocol-neutral [`failure::Failure`] or, for DynamoDB, its typed
//! `ApiError`.
//!
//! A DynamoDB request pays for all this with a few header lookups, one
//! prefix comparison for its target and one pass over its `Authorization`
//! header; nothing on its path allocates beyond what serving it needs.

pub mod cbor;
pub mod cors;
pub mod failure;
pub mod json;
pub mod query;
pub mod reply;
pub mod rest;
pub mod sigv4;
pub mod table;
pub mod token;

use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::Response;
use axum::Router;

use crate::app::App;
use crate::coding;
use crate::error::{ApiError, ErrorCode};
use failure::{Failure, Protocol};
pub use reply::Reply;
use table::{Media, Service, ServiceId};

/// DynamoDB's request size limit, for the body as sent and for the body
/// after decompression.
pub const REQUEST_BYTES_MAX: usize = 16 * 1024 * 1024;

/// DynamoDB's limit on the request line and headers together; a longer
/// head gets 400.
pub const HEAD_BYTES_MAX: usize = 16 * 1024;

/// The `Server` header of every reply, as DynamoDB sends it.
const SERVER: &str = "Server";

/// DynamoDB's answer to a request no service claims (dynalite's
/// AWS-verified connection tests; Coral sends no `Content-Type` with it).
const UNCLAIMED_BODY: &[u8] = b"<UnknownOperationException/>\n";

/// The router serving every protocol on one port.
pub fn router(app: Arc<App>) -> Router {
    Router::new().fallback(handle).with_state(app)
}

/// The router of one function instance's own Runtime API endpoint: every
/// request is served as the instance's (`/lambda-runtime/<token>` is put
/// before its path), so that whatever is not a Runtime API route gets the
/// Runtime API's error.
pub fn runtime_router(app: Arc<App>, token: &str) -> Router {
    let prefix = format!("/lambda-runtime/{token}");
    Router::new()
        .fallback(move |state: State<Arc<App>>, mut req: Request| {
            let path = req
                .uri()
                .path_and_query()
                .map_or("/", axum::http::uri::PathAndQuery::as_str);
            let path = if path.starts_with('/') { path } else { "/" };
            // A path that parsed parses with the prefix; the fallback is
            // no route (an unknown operation).
            *req.uri_mut() = format!("{prefix}{path}")
                .parse()
                .unwrap_or_else(|_| axum::http::Uri::from_static("/lambda-runtime/-/"));
            handle(state, req)
        })
        .with_state(app)
}

/// What every reply to one request gets from the connection.
struct Conn {
    request_id: String,
    /// The coding the client accepts for large replies.
    coding: Option<coding::Coding>,
    /// The request has an `Origin`.
    cross_origin: bool,
    /// The reply carries `x-amz-crc32` (DynamoDB's and the port's own).
    crc32: bool,
}

impl Conn {
    /// Builds the response: compressed with the accepted coding if it is
    /// long enough to be worth it (DynamoDB's rule), `x-amz-crc32` over
    /// the bytes as sent.
    fn send(&self, reply: Reply) -> Response {
        let (body, applied) = match self.coding {
            Some(c) if reply.body.len() >= coding::COMPRESS_BYTES_MIN => {
                match coding::encode(c, &reply.body) {
                    Some(z) => (z, Some(c)),
                    None => (reply.body, None),
                }
            }
            _ => (reply.body, None),
        };
        let crc = self.crc32.then(|| crc32fast::hash(&body));
        let mut r = Response::new(Body::from(body));
        *r.status_mut() = reply.status;
        let h = r.headers_mut();
        if let Some(ct) = reply.content_type {
            h.insert(header::CONTENT_TYPE, HeaderValue::from_static(ct));
        }
        h.insert(header::SERVER, HeaderValue::from_static(SERVER));
        if let Ok(v) = HeaderValue::from_str(&self.request_id) {
            h.insert("x-amzn-requestid", v);
        }
        if let Some(crc) = crc {
            h.insert("x-amz-crc32", HeaderValue::from(crc));
        }
        if let Some(c) = applied {
            h.insert(header::CONTENT_ENCODING, HeaderValue::from_static(c.name()));
        }
        for (name, value) in reply.headers {
            h.insert(name, value);
        }
        if self.cross_origin {
            cors::allow(h);
        }
        r
    }
}

async fn handle(State(app): State<Arc<App>>, req: Request) -> Response {
    let (parts, body) = req.into_parts();
    let mut conn = Conn {
        request_id: app.request_id(),
        coding: None,
        cross_origin: cors::is_cross_origin(&parts.headers),
        crc32: true,
    };
    if head_bytes(&parts) > HEAD_BYTES_MAX {
        return conn.send(Reply::new(
            StatusCode::BAD_REQUEST,
            Some("text/plain"),
            Vec::new(),
        ));
    }
    // DynamoDB reads only the last Accept-Encoding header.
    conn.coding = parts
        .headers
        .get_all(header::ACCEPT_ENCODING)
        .iter()
        .next_back()
        .and_then(|v| coding::negotiate(Some(v.as_bytes())));
    let media = Media::of(
        parts
            .headers
            .get(header::CONTENT_TYPE)
            .map(HeaderValue::as_bytes),
    );
    if declared_length(&parts.headers).is_some_and(|n| n > REQUEST_BYTES_MAX as u64) {
        // Refused before the body is read; the connection is closed rather
        // than drained.
        let mut r = conn.send(too_large(media));
        r.headers_mut()
            .insert(header::CONNECTION, HeaderValue::from_static("close"));
        return r;
    }
    if parts.method == Method::OPTIONS && conn.cross_origin {
        conn.crc32 = false;
        let mut r = conn.send(Reply::new(StatusCode::OK, None, Vec::new()));
        cors::preflight(&parts.headers, r.headers_mut());
        return r;
    }
    if parts.method == Method::GET && parts.uri.path() == "/" {
        // DynamoDB names the host it was reached at (on AWS, its regional
        // name; Alternator's AWS-verified `test_health_works`).
        let host = parts
            .headers
            .get(header::HOST)
            .and_then(|h| h.to_str().ok())
            .filter(|h| !h.is_empty());
        let text = match host {
            Some(host) => format!("healthy: {host} "),
            None => format!("healthy: dynamodb.{}.amazonaws.com ", app.region()),
        };
        return conn.send(Reply::new(
            StatusCode::OK,
            Some("text/plain"),
            text.into_bytes(),
        ));
    }
    let rest_service = table::rest_service(parts.uri.path());
    if rest_service.is_none() && parts.method != Method::POST {
        return conn.send(unclaimed());
    }
    let body = match read_body(body, &parts.headers, media).await {
        Ok(b) => b,
        Err(reply) => return conn.send(reply),
    };
    if let Some(service) = rest_service {
        conn.crc32 = service.crc32;
        return conn.send(rest(&app, service, &parts, &body).await);
    }
    if media == Media::Form {
        return match query(&app, &parts, &body, &conn.request_id).await {
            Some(reply) => {
                conn.crc32 = false;
                conn.send(reply)
            }
            None => conn.send(unclaimed()),
        };
    }
    let target = parts
        .headers
        .get("x-amz-target")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let (service, op) = match table::json_service(target, media) {
        Some(found) => found,
        // What no other service claims gets DynamoDB's rules: its media
        // types, and any media type with an empty body, are its requests
        // (with an unknown target, an unknown operation); a body of any
        // other type is not.
        None if matches!(media, Media::Json | Media::AmzJson10) || body.is_empty() => {
            let dynamodb = Service::of(ServiceId::DynamoDb);
            (
                dynamodb,
                target.strip_prefix(dynamodb.target_prefix).unwrap_or(""),
            )
        }
        None => return conn.send(unclaimed()),
    };
    conn.crc32 = service.crc32;
    conn.send(aws_json(&app, service, op, media, &parts, &body).await)
}

/// An awsJson request (JSON or, for Kinesis, CBOR).
async fn aws_json(
    app: &App,
    service: &'static Service,
    op: &str,
    media: Media,
    parts: &axum::http::request::Parts,
    body: &[u8],
) -> Reply {
    let protocol = service.protocols[0];
    let reply_type = media.reply_type();
    let render = |f: Failure| match media {
        Media::AmzCbor11 => cbor::render(&f),
        _ => json::render(&f, service.errors.query_compatible, reply_type),
    };
    // Coral parses a JSON body before it looks any further.
    let malformed = || {
        media != Media::AmzCbor11
            && !body.is_empty()
            && serde_json::from_slice::<serde::de::IgnoredAny>(body).is_err()
    };
    if !service.serves(op) {
        if malformed() {
            return render(Failure::serialization(&service.errors));
        }
        return render(Failure::unknown_operation(
            &service.errors,
            protocol,
            op,
            None,
        ));
    }
    if service.signed {
        if let Err(e) = sigv4::check(
            &parts.headers,
            parts.uri.query(),
            Some(service.signing_name),
        ) {
            if malformed() {
                return render(Failure::serialization(&service.errors));
            }
            return render(Failure::auth(&service.errors, protocol, &e));
        }
    }
    let result = match service.id {
        ServiceId::Logs => return crate::logs::dispatch(app, op, body, reply_type).await,
        ServiceId::DynamoDb => crate::dynamodb::dispatch(app, op, body).await,
        ServiceId::DynamoDbStreams => crate::streams::dispatch(app, op, body).await,
        ServiceId::Sqs => {
            let params = if body.is_empty() {
                serde_json::Value::Object(serde_json::Map::new())
            } else {
                match serde_json::from_slice(body) {
                    Ok(v) => v,
                    Err(_) => return render(Failure::serialization(&service.errors)),
                }
            };
            let request = crate::sqs::Request {
                params,
                host: host(parts),
                query: None,
                path_queue: None,
            };
            return crate::sqs::dispatch(app, op, request).await;
        }
        // Services that serve no operation yet never get here.
        _ => {
            return render(Failure::unknown_operation(
                &service.errors,
                protocol,
                op,
                None,
            ))
        }
    };
    match result {
        Ok(bytes) => Reply::new(StatusCode::OK, Some(reply_type), bytes),
        Err(e) => {
            tracing::debug!(
                service = service.name,
                op,
                code = e.code.type_name(),
                reason = %e.message.as_deref().unwrap_or(""),
                "request failed"
            );
            Reply::new(
                e.code.status(),
                Some(reply_type),
                crate::dynamodb::wire::error_body(&e),
            )
        }
    }
}

/// A query-protocol request: a form post for SQS (to a queue URL, or to
/// `/` signed for `sqs`), SNS or IAM; `None` if it is signed for a service
/// that does not speak the query protocol.
async fn query(
    app: &App,
    parts: &axum::http::request::Parts,
    body: &[u8],
    request_id: &str,
) -> Option<Reply> {
    let by_path = table::is_queue_path(parts.uri.path());
    let service = if by_path {
        Service::of(ServiceId::Sqs)
    } else {
        match sigv4::check(&parts.headers, parts.uri.query(), None) {
            Ok(signed) => table::query_service(&signed.service)?,
            // Unsigned, no service can be told: Coral's query framework
            // answers, as SNS words it.
            Err(e) => {
                let sns = Service::of(ServiceId::Sns);
                let f = Failure::auth(&sns.errors, Protocol::AwsQuery, &e);
                return Some(query::render(&f, &sns.errors, request_id));
            }
        }
    };
    let form = query::Form::parse(body);
    let failure = match form.get("Action").filter(|a| !a.is_empty()) {
        None => Failure::missing_action(&service.errors),
        Some(action) if !service.serves(action) => Failure::unknown_operation(
            &service.errors,
            Protocol::AwsQuery,
            action,
            form.get("Version"),
        ),
        Some(action) => {
            if by_path {
                if let Err(e) = sigv4::check(
                    &parts.headers,
                    parts.uri.query(),
                    Some(service.signing_name),
                ) {
                    return Some(query::render(
                        &Failure::auth(&service.errors, Protocol::AwsQuery, &e),
                        &service.errors,
                        request_id,
                    ));
                }
            }
            match service.id {
                ServiceId::Iam => {
                    return Some(crate::iam::dispatch(app, action, &form, request_id).await)
                }
                ServiceId::Sqs => {
                    let request = crate::sqs::Request {
                        params: crate::sqs::form_params(body),
                        host: host(parts),
                        query: Some(request_id),
                        path_queue: by_path.then(|| parts.uri.path()),
                    };
                    return Some(crate::sqs::dispatch(app, action, request).await);
                }
                // Services that serve no operation yet never get here.
                _ => Failure::unknown_operation(
                    &service.errors,
                    Protocol::AwsQuery,
                    action,
                    form.get("Version"),
                ),
            }
        }
    };
    Some(query::render(&failure, &service.errors, request_id))
}

/// A REST request (the Lambda API, the Lambda Runtime API, Pipes).
async fn rest(
    app: &App,
    service: &'static Service,
    parts: &axum::http::request::Parts,
    body: &[u8],
) -> Reply {
    let protocol = service.protocols[0];
    let render = |f: Failure| match protocol {
        Protocol::RuntimeApi => rest::render_runtime(&f),
        _ => rest::render(&f),
    };
    let unknown = || Failure::unknown_operation(&service.errors, protocol, parts.uri.path(), None);
    match service.id {
        ServiceId::Lambda => {
            let Some(route) = crate::lambda::route(&parts.method, parts.uri.path()) else {
                return render(unknown());
            };
            if let Err(e) = sigv4::check(
                &parts.headers,
                parts.uri.query(),
                Some(service.signing_name),
            ) {
                return render(Failure::auth(&service.errors, protocol, &e));
            }
            crate::lambda::dispatch(app, &route, parts, body)
                .await
                .unwrap_or_else(render)
        }
        ServiceId::LambdaRuntime => {
            let Some((token, op, id)) =
                crate::lambda::runtime_route(&parts.method, parts.uri.path())
            else {
                return render(unknown());
            };
            crate::lambda::runtime(app, &token, op, &id, body)
                .await
                .unwrap_or_else(render)
        }
        // Services that serve no operation yet: every route is unknown.
        _ => render(unknown()),
    }
}

/// The request's `Host`, if it has a usable one.
fn host(parts: &axum::http::request::Parts) -> Option<&str> {
    parts
        .headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .filter(|h| !h.is_empty())
}

/// DynamoDB's answer to what no service claims.
fn unclaimed() -> Reply {
    Reply::new(StatusCode::NOT_FOUND, None, UNCLAIMED_BODY.to_vec())
}

/// The 413 of a body over [`REQUEST_BYTES_MAX`], as sent or decoded.
fn too_large(media: Media) -> Reply {
    let e = ApiError::new(
        ErrorCode::Validation,
        "Request size exceeded 16777216 bytes",
    );
    let content_type = match media {
        Media::Json => reply::JSON,
        _ => reply::JSON_1_0,
    };
    Reply::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        Some(content_type),
        crate::dynamodb::wire::error_body(&e),
    )
}

/// The body's length as `Content-Length` declares it.
fn declared_length(headers: &HeaderMap) -> Option<u64> {
    headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse().ok())
}

/// Reads the body, at most [`REQUEST_BYTES_MAX`] of it (however it is
/// framed), and undoes its content codings.
async fn read_body(body: Body, headers: &HeaderMap, media: Media) -> Result<Bytes, Reply> {
    let body = axum::body::to_bytes(body, REQUEST_BYTES_MAX)
        .await
        .map_err(|_| too_large(media))?;
    if headers.get(header::CONTENT_ENCODING).is_none() {
        // The common case: a plain body, used as it came.
        return Ok(body);
    }
    let decoded = coding::parse_content_encoding(
        headers
            .get_all(header::CONTENT_ENCODING)
            .iter()
            .map(|v| v.as_bytes()),
    )
    .and_then(|codings| coding::decode(&codings, &body, REQUEST_BYTES_MAX));
    match decoded {
        Ok(plain) => Ok(Bytes::from(plain)),
        Err(coding::DecodeError::TooLarge) => Err(too_large(media)),
        // DynamoDB answers an unknown coding and a body that does not
        // decode with a 500, and applies nothing.
        Err(e) => {
            tracing::debug!(error = ?e, "request body does not decode");
            let e = ApiError::new(ErrorCode::InternalServerError, "Internal server error");
            Err(Reply::new(
                e.code.status(),
                Some(match media {
                    Media::Json => reply::JSON,
                    _ => reply::JSON_1_0,
                }),
                crate::dynamodb::wire::error_body(&e),
            ))
        }
    }
}

/// The size of the request line and headers as they came on the wire
/// (hyper keeps no count): `METHOD target HTTP/1.1` CRLF, each
/// `name: value` CRLF, and the closing CRLF.
fn head_bytes(parts: &axum::http::request::Parts) -> usize {
    let uri = &parts.uri;
    let target = match (uri.scheme_str(), uri.authority()) {
        (Some(scheme), Some(authority)) => scheme.len() + 3 + authority.as_str().len(),
        _ => 0,
    } + uri.path_and_query().map_or(1, |p| p.as_str().len());
    let line = parts.method.as_str().len() + 1 + target + " HTTP/1.1\r\n".len();
    let headers: usize = parts
        .headers
        .iter()
        .map(|(name, value)| name.as_str().len() + 2 + value.len() + 2)
        .sum();
    line + headers + 2
}
