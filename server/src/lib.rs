//! Tarn's server: the AWS wire protocols over one HTTP port.
//!
//! This is the only crate that knows wire formats. A request arrives as a
//! `POST /` with an `X-Amz-Target` header naming the protocol and operation;
//! the body is JSON (`awsJson1_0`). Each protocol lives in its own module and
//! turns requests into engine calls; every error leaves through
//! [`error::ApiError`], the one place that renders errors.
//!
//! Every response carries `x-amzn-RequestId` and `x-amz-crc32` (the CRC32 of
//! the body), as DynamoDB's do.

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

/// DynamoDB's request size limit.
pub const REQUEST_BYTES_MAX: usize = 16 * 1024 * 1024;

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
    if parts.method == Method::GET && parts.uri.path() == "/" {
        let text = format!("healthy: dynamodb.{}.amazonaws.com ", app.region);
        return respond(StatusCode::OK, "text/plain", text.into_bytes(), &request_id);
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
        );
    }
    let body = match axum::body::to_bytes(body, REQUEST_BYTES_MAX).await {
        Ok(b) => b,
        Err(_) => {
            let e = ApiError::new(
                ErrorCode::Validation,
                "Request size exceeded 16777216 bytes",
            );
            let mut r = respond(
                StatusCode::PAYLOAD_TOO_LARGE,
                content_type,
                e.body(),
                &request_id,
            );
            *r.status_mut() = StatusCode::PAYLOAD_TOO_LARGE;
            return r;
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
        Ok(bytes) => respond(StatusCode::OK, content_type, bytes, &request_id),
        Err(e) => {
            tracing::debug!(target, code = e.code.type_name(), message = ?e.message, "request failed");
            respond(e.code.status(), content_type, e.body(), &request_id)
        }
    }
}

fn respond(
    status: StatusCode,
    content_type: &'static str,
    body: Vec<u8>,
    request_id: &str,
) -> Response {
    let crc = crc32fast::hash(&body);
    let mut r = Response::new(Body::from(body));
    *r.status_mut() = status;
    let h = r.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    if let Ok(v) = HeaderValue::from_str(request_id) {
        h.insert("x-amzn-requestid", v);
    }
    h.insert("x-amz-crc32", HeaderValue::from(crc));
    r
}

#[cfg(test)]
mod tests;
