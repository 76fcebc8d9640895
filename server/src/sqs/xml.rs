//! Query-protocol replies: an operation's JSON reply written as SQS's XML
//! (`<OpResponse><OpResult>…</OpResult><ResponseMetadata>…`), with SQS's
//! flattened lists and maps:
//!
//! - `QueueUrls` / `queueUrls` -> repeated `<QueueUrl>`; `Messages` ->
//!   `<Message>`; `Successful` -> `<OpResultEntry>`; `Failed` ->
//!   `<BatchResultErrorEntry>`; `Results` -> `<OpResultEntry>`;
//! - `Attributes` -> `<Attribute><Name/><Value/></Attribute>`; `Tags` ->
//!   `<Tag><Key/><Value/></Tag>`; `MessageAttributes` ->
//!   `<MessageAttribute><Name/><Value>…</Value></MessageAttribute>`.
//!
//! Only the query protocol, the older and slower path, pays for the
//! intermediate JSON value.

use serde_json::Value;

use crate::protocol::query::escape;
use crate::protocol::reply::{Reply, XML};

/// SQS's XML namespace.
pub(crate) const NAMESPACE: &str = "http://queue.amazonaws.com/doc/2012-11-05/";

fn scalar(v: &Value, out: &mut String) {
    match v {
        Value::String(s) => escape(s, out),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => out.push_str(&n.to_string()),
        _ => {}
    }
}

fn element(name: &str, v: &Value, op: &str, out: &mut String) {
    match v {
        Value::Array(items) => {
            let item = match name {
                "QueueUrls" | "queueUrls" => "QueueUrl".to_owned(),
                "Messages" => "Message".to_owned(),
                "Failed" => "BatchResultErrorEntry".to_owned(),
                "Successful" | "Results" => format!("{op}ResultEntry"),
                other => other.to_owned(),
            };
            for i in items {
                element(&item, i, op, out);
            }
        }
        Value::Object(map) if matches!(name, "Attributes" | "Tags" | "MessageAttributes") => {
            let (tag, key) = match name {
                "Attributes" => ("Attribute", "Name"),
                "Tags" => ("Tag", "Key"),
                _ => ("MessageAttribute", "Name"),
            };
            for (k, v) in map {
                out.push_str(&format!("<{tag}><{key}>"));
                escape(k, out);
                out.push_str(&format!("</{key}>"));
                element("Value", v, op, out);
                out.push_str(&format!("</{tag}>"));
            }
        }
        Value::Object(map) => {
            out.push_str(&format!("<{name}>"));
            for (k, v) in map {
                element(k, v, op, out);
            }
            out.push_str(&format!("</{name}>"));
        }
        Value::Null => {}
        v => {
            out.push_str(&format!("<{name}>"));
            scalar(v, out);
            out.push_str(&format!("</{name}>"));
        }
    }
}

/// The XML reply of `op` whose JSON reply is `result`.
pub(crate) fn reply(op: &str, result: &Value, request_id: &str) -> Reply {
    let mut x = String::with_capacity(512);
    x.push_str(&format!(
        "<?xml version=\"1.0\"?><{op}Response xmlns=\"{NAMESPACE}\">"
    ));
    if let Value::Object(map) = result {
        if !map.is_empty() {
            x.push_str(&format!("<{op}Result>"));
            for (k, v) in map {
                element(k, v, op, &mut x);
            }
            x.push_str(&format!("</{op}Result>"));
        } else if op == "ReceiveMessage" || op == "ListQueues" {
            x.push_str(&format!("<{op}Result/>"));
        }
    }
    x.push_str("<ResponseMetadata><RequestId>");
    escape(request_id, &mut x);
    x.push_str(&format!("</RequestId></ResponseMetadata></{op}Response>"));
    Reply::new(axum::http::StatusCode::OK, Some(XML), x.into_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replies_flatten_lists_and_maps_as_sqs_does() {
        let r = reply(
            "ReceiveMessage",
            &serde_json::json!({"Messages": [{"Body": "a<b", "Attributes": {"SentTimestamp": "1"},
                "MessageAttributes": {"n": {"StringValue": "v", "DataType": "String"}}}]}),
            "RID",
        );
        assert_eq!(
            String::from_utf8(r.body).expect("utf-8"),
            "<?xml version=\"1.0\"?><ReceiveMessageResponse xmlns=\"http://queue.amazonaws.com/doc/2012-11-05/\"><ReceiveMessageResult><Message><Attributes_placeholder/></Message></ReceiveMessageResult><ResponseMetadata><RequestId>RID</RequestId></ResponseMetadata></ReceiveMessageResponse>"
                .replace("<Attributes_placeholder/>", "<Attribute><Name>SentTimestamp</Name><Value>1</Value></Attribute><Body>a&lt;b</Body><MessageAttribute><Name>n</Name><Value><DataType>String</DataType><StringValue>v</StringValue></Value></MessageAttribute>")
        );
    }
}
