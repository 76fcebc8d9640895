//! A reply as a service or a renderer produces it, before the headers the
//! connection adds to every reply; and the content types replies carry.

use axum::http::{HeaderName, HeaderValue, StatusCode};

/// `application/x-amz-json-1.0`.
pub const JSON_1_0: &str = "application/x-amz-json-1.0";
/// `application/x-amz-json-1.1`.
pub const JSON_1_1: &str = "application/x-amz-json-1.1";
/// `application/x-amz-cbor-1.1`.
pub const CBOR_1_1: &str = "application/x-amz-cbor-1.1";
/// Plain `application/json`.
pub const JSON: &str = "application/json";
/// The query protocol's replies.
pub const XML: &str = "text/xml";

/// A reply before the headers every reply gets.
#[derive(Debug)]
pub struct Reply {
    /// The status.
    pub status: StatusCode,
    /// Its `Content-Type`, if it has one.
    pub content_type: Option<&'static str>,
    /// The body, uncompressed.
    pub body: Vec<u8>,
    /// Headers of its protocol (`x-amzn-ErrorType`, `x-amzn-query-error`).
    pub headers: Vec<(HeaderName, HeaderValue)>,
}

impl Reply {
    /// A reply with no protocol headers.
    pub fn new(status: StatusCode, content_type: Option<&'static str>, body: Vec<u8>) -> Reply {
        Reply {
            status,
            content_type,
            body,
            headers: Vec::new(),
        }
    }
}
