//! The awsJson error renderer (1.0 and 1.1): `{"__type": …, "message": …}`
//! with status 400 (500 for the service's faults), and for services that
//! keep their query-protocol codes under JSON (SQS) an
//! `x-amzn-query-error: <code>;<Sender|Receiver>` header.
//!
//! Bodies are compact JSON, keys in DynamoDB's order: `__type`, the
//! message (keyed `Message` for Coral's SerializationException and
//! DynamoDB's TransactionCanceledException, `message` otherwise, absent
//! when the error has none), then any members the service adds.

use axum::http::{HeaderName, HeaderValue};
use serde::Serialize;

use super::failure::Failure;
use super::reply::Reply;

/// No extra members.
#[derive(Serialize)]
pub(crate) struct NoMembers {}

/// The one awsJson error body: `__type`, the message, then `members`
/// (a struct of optional fields, flattened into the object).
pub(crate) fn error_body<M: Serialize>(
    type_name: &str,
    message: Option<&str>,
    capital_message: bool,
    members: M,
) -> Vec<u8> {
    #[derive(Serialize)]
    struct Body<'a, M> {
        #[serde(rename = "__type")]
        type_name: &'a str,
        #[serde(skip_serializing_if = "Option::is_none")]
        message: Option<&'a str>,
        #[serde(rename = "Message", skip_serializing_if = "Option::is_none")]
        capital_message: Option<&'a str>,
        #[serde(flatten)]
        members: M,
    }
    let body = Body {
        type_name,
        message: if capital_message { None } else { message },
        capital_message: if capital_message { message } else { None },
        members,
    };
    // Serializing strings and the services' own reply types into a Vec
    // cannot fail; an empty body would still carry the status.
    serde_json::to_vec(&body).unwrap_or_default()
}

/// Renders a failure as awsJson, replying with `content_type`;
/// `query_compatible` adds `x-amzn-query-error`.
pub(crate) fn render(f: &Failure, query_compatible: bool, content_type: &'static str) -> Reply {
    let type_name = format!("{}{}", f.json_namespace, f.name);
    let body = error_body(
        &type_name,
        f.message.as_deref(),
        f.capital_message,
        NoMembers {},
    );
    let mut reply = Reply::new(f.status, Some(content_type), body);
    if query_compatible {
        let value = format!("{};{}", f.query_code, f.fault.as_str());
        if let Ok(v) = HeaderValue::from_str(&value) {
            reply
                .headers
                .push((HeaderName::from_static("x-amzn-query-error"), v));
        }
    }
    reply
}
