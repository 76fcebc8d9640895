//! The REST renderers.
//!
//! REST-JSON (the Lambda API, Pipes): the error's status, its name in
//! `x-amzn-ErrorType`, and a JSON body with its `message` (`{}` when it
//! has none).
//!
//! The Lambda Runtime API, which function processes call: typed errors as
//! `{"errorMessage": …, "errorType": …}`; a path it does not serve gets
//! the plain 404 of the Go server AWS runs it on (`404 page not found`).

use axum::http::{HeaderName, HeaderValue, StatusCode};
use serde::Serialize;

use super::failure::Failure;
use super::reply::{Reply, JSON};

/// Renders a REST-JSON failure.
pub(crate) fn render(f: &Failure) -> Reply {
    #[derive(Serialize)]
    struct Body<'a> {
        #[serde(skip_serializing_if = "Option::is_none")]
        message: Option<&'a str>,
    }
    let body = serde_json::to_vec(&Body {
        message: f.message.as_deref(),
    })
    .unwrap_or_default();
    let mut reply = Reply::new(f.status, Some(JSON), body);
    reply.headers.push((
        HeaderName::from_static("x-amzn-errortype"),
        HeaderValue::from_static(f.name),
    ));
    reply
}

/// Renders a Runtime API failure.
pub(crate) fn render_runtime(f: &Failure) -> Reply {
    if f.framework && f.status == StatusCode::NOT_FOUND {
        return Reply::new(
            StatusCode::NOT_FOUND,
            Some("text/plain; charset=utf-8"),
            b"404 page not found\n".to_vec(),
        );
    }
    #[derive(Serialize)]
    #[serde(rename_all = "camelCase")]
    struct Body<'a> {
        error_message: &'a str,
        error_type: &'a str,
    }
    let body = serde_json::to_vec(&Body {
        error_message: f.message.as_deref().unwrap_or(""),
        error_type: f.name,
    })
    .unwrap_or_default();
    Reply::new(f.status, Some(JSON), body)
}
