//! The query protocol: form-encoded `Action=…&Version=…` posts and XML
//! replies. This module reads the form and renders errors as
//!
//! ```xml
//! <ErrorResponse xmlns="…">
//!   <Error>
//!     <Type>Sender</Type>
//!     <Code>InvalidAction</Code>
//!     <Message>…</Message>
//!   </Error>
//!   <RequestId>…</RequestId>
//! </ErrorResponse>
//! ```
//!
//! in the service's namespace, or for framework errors the one the service
//! uses for those (Coral's AWS fault namespace for SNS and IAM); SQS adds
//! an empty `<Detail/>`.

use std::borrow::Cow;

use super::failure::{ErrorStyle, Failure};
use super::reply::{Reply, XML};

/// A query-protocol request's parameters, decoded.
pub(crate) struct Form<'a> {
    pairs: Vec<(Cow<'a, str>, Cow<'a, str>)>,
}

impl<'a> Form<'a> {
    /// Decodes a form body (`+` and `%XX` escapes).
    pub(crate) fn parse(body: &'a [u8]) -> Form<'a> {
        Form {
            pairs: form_urlencoded::parse(body).collect(),
        }
    }

    /// A parameter's value (the last, if repeated).
    pub(crate) fn get(&self, name: &str) -> Option<&str> {
        self.pairs
            .iter()
            .rev()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_ref())
    }
}

/// Escapes text for an XML element (a carriage return too, which XML
/// parsers would otherwise read as a newline).
pub(crate) fn escape(s: &str, out: &mut String) {
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\r' => out.push_str("&#xD;"),
            c => out.push(c),
        }
    }
}

/// Renders a failure of a service that words errors in `style` as an
/// `ErrorResponse`.
pub(crate) fn render(f: &Failure, style: &ErrorStyle, request_id: &str) -> Reply {
    let namespace = if f.framework {
        style.xml_framework_namespace
    } else {
        style.xml_namespace
    };
    let mut x = String::with_capacity(256);
    x.push_str("<ErrorResponse xmlns=\"");
    x.push_str(namespace);
    x.push_str("\">\n  <Error>\n    <Type>");
    x.push_str(f.fault.as_str());
    x.push_str("</Type>\n    <Code>");
    escape(f.query_code, &mut x);
    x.push_str("</Code>\n    <Message>");
    escape(f.message.as_deref().unwrap_or(""), &mut x);
    x.push_str("</Message>\n");
    if style.xml_detail {
        x.push_str("    <Detail/>\n");
    }
    x.push_str("  </Error>\n  <RequestId>");
    escape(request_id, &mut x);
    x.push_str("</RequestId>\n</ErrorResponse>\n");
    Reply::new(f.status, Some(XML), x.into_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::table::{Protocol, Service, ServiceId};

    #[test]
    fn forms_decode_escapes_and_keep_the_last_value() {
        let f = Form::parse(b"Action=Publish&Message=a+b%26c&Action=ListTopics&Empty=");
        assert_eq!(f.get("Action"), Some("ListTopics"));
        assert_eq!(f.get("Message"), Some("a b&c"));
        assert_eq!(f.get("Empty"), Some(""));
        assert_eq!(f.get("Version"), None);
    }

    #[test]
    fn errors_render_in_the_service_namespace_escaped() {
        let sns = Service::of(ServiceId::Sns);
        let f = Failure::unknown_operation(
            &sns.errors,
            Protocol::AwsQuery,
            "<Nope>",
            Some("2010-03-31"),
        );
        let r = render(&f, &sns.errors, "RID");
        assert_eq!(r.status.as_u16(), 400);
        assert_eq!(
            String::from_utf8(r.body).expect("utf-8"),
            "<ErrorResponse xmlns=\"http://webservices.amazon.com/AWSFault/2005-15-09\">\n  <Error>\n    <Type>Sender</Type>\n    <Code>InvalidAction</Code>\n    <Message>Could not find operation &lt;Nope&gt; for version 2010-03-31</Message>\n  </Error>\n  <RequestId>RID</RequestId>\n</ErrorResponse>\n"
        );
        let sqs = Service::of(ServiceId::Sqs);
        let f = Failure::unknown_operation(&sqs.errors, Protocol::AwsQuery, "Nope", None);
        let body = String::from_utf8(render(&f, &sqs.errors, "RID").body).expect("utf-8");
        assert!(
            body.starts_with(
                "<ErrorResponse xmlns=\"http://queue.amazonaws.com/doc/2012-11-05/\">"
            ),
            "{body}"
        );
        assert!(body.contains("<Message>The action Nope is not valid for this endpoint.</Message>\n    <Detail/>\n"), "{body}");
    }
}
