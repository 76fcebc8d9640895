//! Tarn's server: the AWS wire protocols over one HTTP port.
//!
//! This is the only crate that knows wire formats. A request arrives as a
//! `POST /` with an `X-Amz-Target` header naming the protocol and operation;
//! the body is JSON (`awsJson1_0`). Each protocol lives in its own module and
//! turns requests into engine calls; every error leaves through
//! [`error::ApiError`], the one place that renders errors.
//!
//! Every response carries `x-amzn-RequestId`, `x-amz-crc32` (the CRC32 of
//! the body as sent) and `Server`, as DynamoDB's do. Request bodies may be
//! compressed and large replies are compressed on request ([`coding`]); a
//! plain request pays for that with two header lookups.

pub mod coding;
pub mod dynamodb;
pub mod error;
pub mod streams;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::response::Response;
use axum::Router;

use crate::error::{ApiError, ErrorCode};

/// DynamoDB's request size limit, for the body as sent and for the body
/// after decompression.
pub const REQUEST_BYTES_MAX: usize = 16 * 1024 * 1024;

/// DynamoDB's limit on the request line and headers together; a longer
/// head gets 400.
pub const HEAD_BYTES_MAX: usize = 16 * 1024;

/// The `Server` header of every reply, as DynamoDB sends it.
const SERVER: &str = "Server";

/// Shared state of a running server.
pub struct App {
    /// The storage engine.
    pub engine: tarn_engine::Engine,
    /// Region named in ARNs and the health reply.
    pub region: String,
    /// Account id named in ARNs.
    pub account_id: String,
    request_seq: AtomicU64,
    request_seed: u64,
    address: std::sync::OnceLock<String>,
    iterator_ttl_ms: AtomicU64,
}

impl App {
    /// Wraps an engine for serving.
    pub fn new(engine: tarn_engine::Engine, region: String, account_id: String) -> Arc<App> {
        let request_seed = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(0)
            ^ u64::from(std::process::id());
        Arc::new(App {
            engine,
            region,
            account_id,
            request_seq: AtomicU64::new(0),
            request_seed,
            address: std::sync::OnceLock::new(),
            iterator_ttl_ms: AtomicU64::new(tarn_streams::ITERATOR_TTL_MS),
        })
    }

    /// Sets how long stream shard iterators live (15 minutes unless a test
    /// wants them to expire sooner).
    pub fn set_iterator_ttl_ms(&self, ms: u64) {
        self.iterator_ttl_ms.store(ms, Ordering::Relaxed);
    }

    /// The region and account stream ARNs name.
    pub fn stream_names(&self) -> tarn_streams::Names {
        tarn_streams::Names {
            region: self.region.clone(),
            account_id: self.account_id.clone(),
            iterator_ttl_ms: self.iterator_ttl_ms.load(Ordering::Relaxed),
        }
    }

    /// Records where the server listens (`host:port`), for
    /// DescribeEndpoints. Only the first call counts.
    pub fn set_address(&self, address: String) {
        let _ = self.address.set(address);
    }

    /// Where clients reach this server: the listening address, or
    /// DynamoDB's regional host name if it was never set.
    pub fn address(&self) -> &str {
        self.address
            .get_or_init(|| format!("dynamodb.{}.amazonaws.com", self.region))
    }

    /// The ARN of a table.
    pub fn table_arn(&self, table: &str) -> String {
        format!(
            "arn:aws:dynamodb:{}:{}:table/{table}",
            self.region, self.account_id
        )
    }

    /// A stable UUID for a table incarnation (DescribeTable's `TableId`).
    pub fn table_uuid(&self, id: u32, created_ms: u64) -> String {
        let mut h = blake3::Hasher::new();
        h.update(self.account_id.as_bytes());
        h.update(&id.to_be_bytes());
        h.update(&created_ms.to_be_bytes());
        let b = h.finalize();
        let b = b.as_bytes();
        let hex: String = b[..16]
            .iter()
            .enumerate()
            .map(|(i, x)| match i {
                6 => format!("{:02x}", (x & 0x0f) | 0x40),
                8 => format!("{:02x}", (x & 0x3f) | 0x80),
                _ => format!("{x:02x}"),
            })
            .collect();
        format!(
            "{}-{}-{}-{}-{}",
            &hex[..8],
            &hex[8..12],
            &hex[12..16],
            &hex[16..20],
            &hex[20..32]
        )
    }

    /// A fresh 52-character request id in DynamoDB's alphabet, `[0-9A-Z]`.
    fn request_id(&self) -> String {
        const ALPHABET: &[u8; 36] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ";
        let seq = self.request_seq.fetch_add(1, Ordering::Relaxed);
        let mut h = blake3::Hasher::new();
        h.update(&self.request_seed.to_le_bytes());
        h.update(&seq.to_le_bytes());
        let mut bytes = [0u8; 52];
        h.finalize_xof().fill(&mut bytes);
        bytes
            .iter()
            .map(|b| ALPHABET[usize::from(*b) % 36] as char)
            .collect()
    }
}

/// The router serving every protocol on one port.
pub fn router(app: Arc<App>) -> Router {
    Router::new().fallback(handle).with_state(app)
}

const JSON_10: &str = "application/x-amz-json-1.0";

async fn handle(State(app): State<Arc<App>>, req: Request) -> Response {
    let request_id = app.request_id();
    let (parts, body) = req.into_parts();
    if head_bytes(&parts) > HEAD_BYTES_MAX {
        return respond(
            StatusCode::BAD_REQUEST,
            "text/plain",
            Vec::new(),
            &request_id,
            None,
        );
    }
    // DynamoDB reads only the last Accept-Encoding header.
    let reply_coding = parts
        .headers
        .get_all(header::ACCEPT_ENCODING)
        .iter()
        .next_back()
        .and_then(|v| coding::negotiate(Some(v.as_bytes())));
    if parts.method == Method::GET && parts.uri.path() == "/" {
        let text = format!("healthy: dynamodb.{}.amazonaws.com ", app.region);
        return respond(
            StatusCode::OK,
            "text/plain",
            text.into_bytes(),
            &request_id,
            reply_coding,
        );
    }
    let content_type = parts
        .headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|v| {
            v.split(';')
                .next()
                .unwrap_or("")
                .trim()
                .to_ascii_lowercase()
        });
    let content_type = match content_type.as_deref() {
        Some("application/json") => "application/json",
        Some(JSON_10) => JSON_10,
        _ if parts.method == Method::POST => {
            return respond(
                StatusCode::NOT_FOUND,
                "text/plain",
                b"<UnknownOperationException/>\n".to_vec(),
                &request_id,
                reply_coding,
            )
        }
        _ => JSON_10,
    };
    if parts.method != Method::POST {
        return respond(
            StatusCode::NOT_FOUND,
            "text/plain",
            b"<UnknownOperationException/>\n".to_vec(),
            &request_id,
            reply_coding,
        );
    }
    let too_large = || {
        let e = ApiError::new(
            ErrorCode::Validation,
            "Request size exceeded 16777216 bytes",
        );
        respond(
            StatusCode::PAYLOAD_TOO_LARGE,
            content_type,
            e.body(),
            &request_id,
            reply_coding,
        )
    };
    let body = match axum::body::to_bytes(body, REQUEST_BYTES_MAX).await {
        Ok(b) => b,
        Err(_) => return too_large(),
    };
    let body = match parts.headers.get(header::CONTENT_ENCODING) {
        // The common case: a plain body, used as it came.
        None => body,
        Some(_) => {
            let decoded = coding::parse_content_encoding(
                parts
                    .headers
                    .get_all(header::CONTENT_ENCODING)
                    .iter()
                    .map(|v| v.as_bytes()),
            )
            .and_then(|codings| coding::decode(&codings, &body, REQUEST_BYTES_MAX));
            match decoded {
                Ok(plain) => axum::body::Bytes::from(plain),
                Err(coding::DecodeError::TooLarge) => return too_large(),
                // DynamoDB answers an unknown coding and a body that does
                // not decode with a 500, and applies nothing.
                Err(e) => {
                    tracing::debug!(error = ?e, "request body does not decode");
                    let e = ApiError::new(ErrorCode::InternalServerError, "Internal server error");
                    return respond(
                        e.code.status(),
                        content_type,
                        e.body(),
                        &request_id,
                        reply_coding,
                    );
                }
            }
        }
    };
    let target = parts
        .headers
        .get("x-amz-target")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let result = match target.strip_prefix(dynamodb::TARGET_PREFIX) {
        Some(op) if dynamodb::is_known(op) => dynamodb::dispatch(&app, op, &body).await,
        _ if target
            .strip_prefix(streams::TARGET_PREFIX)
            .is_some_and(streams::is_known) =>
        {
            let op = &target[streams::TARGET_PREFIX.len()..];
            streams::dispatch(&app, op, &body).await
        }
        // An unknown target with a body that is not JSON is a
        // SerializationException: DynamoDB parses before it dispatches.
        _ => match serde_json::from_slice::<serde::de::IgnoredAny>(&body) {
            Err(_) => Err(ApiError::bare(ErrorCode::Serialization)),
            Ok(_) => Err(ApiError::bare(ErrorCode::UnknownOperation)),
        },
    };
    match result {
        Ok(bytes) => respond(
            StatusCode::OK,
            content_type,
            bytes,
            &request_id,
            reply_coding,
        ),
        Err(e) => {
            tracing::debug!(
                target,
                code = e.code.type_name(),
                reason = %e.message.as_deref().unwrap_or(""),
                "request failed"
            );
            respond(
                e.code.status(),
                content_type,
                e.body(),
                &request_id,
                reply_coding,
            )
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

/// Builds a reply, compressed with `coding` if it is long enough to be
/// worth it (DynamoDB's rule), with the headers every DynamoDB reply
/// carries. `x-amz-crc32` covers the bytes as sent.
fn respond(
    status: StatusCode,
    content_type: &'static str,
    body: Vec<u8>,
    request_id: &str,
    coding: Option<coding::Coding>,
) -> Response {
    let (body, applied) = match coding {
        Some(c) if body.len() >= coding::COMPRESS_BYTES_MIN => match coding::encode(c, &body) {
            Some(z) => (z, Some(c)),
            None => (body, None),
        },
        _ => (body, None),
    };
    let crc = crc32fast::hash(&body);
    let mut r = Response::new(Body::from(body));
    *r.status_mut() = status;
    let h = r.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    h.insert(header::SERVER, HeaderValue::from_static(SERVER));
    if let Ok(v) = HeaderValue::from_str(request_id) {
        h.insert("x-amzn-requestid", v);
    }
    h.insert("x-amz-crc32", HeaderValue::from(crc));
    if let Some(c) = applied {
        h.insert(header::CONTENT_ENCODING, HeaderValue::from_static(c.name()));
    }
    r
}

#[cfg(test)]
mod tests;
