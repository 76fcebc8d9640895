//! CORS as DynamoDB answers it, for browser clients and web consoles
//! (`docs/research/protocols.md`: Alternator's `test_cors.py`, run against
//! AWS, and dynalite's AWS-verified connection tests):
//!
//! - a request with an `Origin` gets `Access-Control-Allow-Origin: *` and
//!   `Access-Control-Expose-Headers` on its reply, whatever the reply;
//! - an `OPTIONS` preflight with an `Origin` gets 200 with an empty body,
//!   the requested method and headers echoed as allowed, and
//!   `Access-Control-Max-Age: 172800` (two days);
//! - a request without `Origin` gets no CORS header at all, and an
//!   `OPTIONS` without one is an unknown operation like any other method
//!   DynamoDB does not serve.

use axum::http::{header, HeaderMap, HeaderValue};

/// The response headers DynamoDB lets scripts read.
const EXPOSE_HEADERS: &str = "x-amzn-RequestId,x-amzn-ErrorType,x-amzn-ErrorMessage,Date";

/// How long a browser may cache a preflight's answer, in seconds.
const MAX_AGE_S: &str = "172800";

/// Whether a request is a cross-origin one.
pub(crate) fn is_cross_origin(request: &HeaderMap) -> bool {
    request.contains_key(header::ORIGIN)
}

/// Adds the headers every reply to a cross-origin request carries.
pub(crate) fn allow(reply: &mut HeaderMap) {
    reply.insert(
        header::ACCESS_CONTROL_ALLOW_ORIGIN,
        HeaderValue::from_static("*"),
    );
    reply.insert(
        header::ACCESS_CONTROL_EXPOSE_HEADERS,
        HeaderValue::from_static(EXPOSE_HEADERS),
    );
}

/// Adds a preflight's own headers: the requested method and headers
/// echoed as allowed, and how long to cache that.
pub(crate) fn preflight(request: &HeaderMap, reply: &mut HeaderMap) {
    if let Some(v) = request.get(header::ACCESS_CONTROL_REQUEST_HEADERS) {
        reply.insert(header::ACCESS_CONTROL_ALLOW_HEADERS, v.clone());
    }
    if let Some(v) = request.get(header::ACCESS_CONTROL_REQUEST_METHOD) {
        reply.insert(header::ACCESS_CONTROL_ALLOW_METHODS, v.clone());
    }
    reply.insert(
        header::ACCESS_CONTROL_MAX_AGE,
        HeaderValue::from_static(MAX_AGE_S),
    );
}
