//! Errors as every protocol can render them.
//!
//! A [`Failure`] is an error on its way to a client, independent of the
//! wire: its exception name, status, message and the code and fault the
//! query protocol gives it. Each protocol's renderer (`json`, `cbor`,
//! `query`, `rest`, `runtime`) turns one into bytes, so that a service
//! states its errors once and answers in whichever protocol the request
//! came in. The framework errors every service shares (an unknown
//! operation, a missing or malformed signature, a body that does not
//! parse) are built here, worded per service from its [`ErrorStyle`].
//!
//! DynamoDB's own errors keep their typed form (`crate::error::ApiError`)
//! and are rendered by the same awsJson renderer.

use axum::http::StatusCode;

use super::sigv4::AuthError;

/// Who is at fault, as the query protocol's `<Type>` and the
/// `x-amzn-query-error` header say.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fault {
    /// The request was wrong.
    Sender,
    /// The service failed.
    Receiver,
}

impl Fault {
    /// `Sender` or `Receiver`.
    pub fn as_str(self) -> &'static str {
        match self {
            Fault::Sender => "Sender",
            Fault::Receiver => "Receiver",
        }
    }
}

/// An error on its way to a client, in no protocol yet.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Failure {
    /// The exception's name (`UnknownOperationException`,
    /// `QueueDoesNotExist`): REST's `x-amzn-ErrorType`, and after the
    /// namespace awsJson's `__type`.
    pub name: &'static str,
    /// What awsJson puts before the name in `__type`, `#` included
    /// (`com.amazon.coral.service#`), or nothing for services that send
    /// the bare name.
    pub json_namespace: &'static str,
    /// The HTTP status.
    pub status: StatusCode,
    /// The message, if the exception carries one.
    pub message: Option<String>,
    /// Whether awsJson spells the message key `Message` (Coral's
    /// SerializationException) rather than `message`.
    pub capital_message: bool,
    /// The query protocol's `<Code>`, also sent in `x-amzn-query-error` by
    /// services that keep their query codes under awsJson
    /// (`InvalidAction`, `AWS.SimpleQueueService.NonExistentQueue`).
    pub query_code: &'static str,
    /// Whose fault it is.
    pub fault: Fault,
    /// A framework error (routing, signatures) rather than one of the
    /// service's own: the query protocol words these in the generic AWS
    /// fault namespace.
    pub framework: bool,
}

/// How a service words the framework errors it shares with the others.
/// Sources: `docs/research/protocols.md`.
#[derive(Debug)]
pub struct ErrorStyle {
    /// awsJson `__type` prefix of framework errors:
    /// `com.amazon.coral.service#` (DynamoDB, SQS), or empty (Kinesis,
    /// CloudWatch Logs send bare names).
    pub json_framework_namespace: &'static str,
    /// awsJson errors carry `x-amzn-query-error: <query code>;<fault>`
    /// (SQS, whose JSON protocol keeps its query-protocol codes).
    pub query_compatible: bool,
    /// The query protocol's `ErrorResponse` namespace for the service's
    /// own errors.
    pub xml_namespace: &'static str,
    /// The namespace for framework errors (Coral's generic fault
    /// namespace for SNS and IAM; SQS uses its own for everything).
    pub xml_framework_namespace: &'static str,
    /// Whether `<Error>` ends with an empty `<Detail/>` (SQS).
    pub xml_detail: bool,
    /// The message of MissingAuthenticationToken(Exception).
    pub missing_token_message: &'static str,
    /// How the query protocol words an unknown `Action`.
    pub unknown_action: UnknownAction,
}

/// The wording of the query protocol's InvalidAction.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UnknownAction {
    /// Coral's query services (SNS, IAM): `Could not find operation X for
    /// version V`.
    CoralQuery,
    /// SQS: `The action X is not valid for this endpoint.`
    Sqs,
}

/// A wire protocol.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Protocol {
    /// `X-Amz-Target` + JSON, `application/x-amz-json-1.0`.
    AwsJson1_0,
    /// `X-Amz-Target` + JSON (`application/x-amz-json-1.1`) or CBOR
    /// (`application/x-amz-cbor-1.1`).
    AwsJson1_1,
    /// Form-encoded `Action=` posts, XML replies.
    AwsQuery,
    /// Operations by method and path, JSON bodies, `x-amzn-ErrorType`.
    RestJson,
    /// The Lambda Runtime API: REST paths, unsigned, its own error shape.
    RuntimeApi,
}

/// Coral's namespace for framework errors of the query protocol.
pub const AWS_FAULT_NAMESPACE: &str = "http://webservices.amazon.com/AWSFault/2005-15-09";

/// What the query protocol names a missing `Version` in its messages.
const NO_VERSION: &str = "NO_VERSION_SPECIFIED";

impl Failure {
    /// A framework error, worded in `style`, named `name` (`…Exception`), whose
    /// query-protocol code is `query_code`.
    fn framework(
        style: &ErrorStyle,
        name: &'static str,
        query_code: &'static str,
        status: StatusCode,
        message: Option<String>,
    ) -> Failure {
        Failure {
            name,
            json_namespace: style.json_framework_namespace,
            status,
            message,
            capital_message: false,
            query_code,
            fault: Fault::Sender,
            framework: true,
        }
    }

    /// A request for an operation the service does not serve. awsJson and
    /// CBOR: 400 UnknownOperationException without a message; the query
    /// protocol: 400 InvalidAction worded as the service words it; REST
    /// and the Runtime API: 404 UnknownOperationException.
    pub fn unknown_operation(
        style: &ErrorStyle,
        protocol: Protocol,
        action: &str,
        version: Option<&str>,
    ) -> Failure {
        match protocol {
            Protocol::AwsQuery => {
                let message = match style.unknown_action {
                    UnknownAction::CoralQuery => format!(
                        "Could not find operation {action} for version {}",
                        version.filter(|v| !v.is_empty()).unwrap_or(NO_VERSION)
                    ),
                    UnknownAction::Sqs => {
                        format!("The action {action} is not valid for this endpoint.")
                    }
                };
                Failure::framework(
                    style,
                    "UnknownOperationException",
                    "InvalidAction",
                    StatusCode::BAD_REQUEST,
                    Some(message),
                )
            }
            Protocol::RestJson | Protocol::RuntimeApi => Failure::framework(
                style,
                "UnknownOperationException",
                "InvalidAction",
                StatusCode::NOT_FOUND,
                None,
            ),
            Protocol::AwsJson1_0 | Protocol::AwsJson1_1 => Failure::framework(
                style,
                "UnknownOperationException",
                "InvalidAction",
                StatusCode::BAD_REQUEST,
                None,
            ),
        }
    }

    /// A query-protocol request without an `Action`.
    pub fn missing_action(style: &ErrorStyle) -> Failure {
        Failure::framework(
            style,
            "MissingAction",
            "MissingAction",
            StatusCode::BAD_REQUEST,
            Some("The request must contain the parameter Action.".to_owned()),
        )
    }

    /// An awsJson body that is not JSON: Coral's bare
    /// SerializationException (no message).
    pub fn serialization(style: &ErrorStyle) -> Failure {
        Failure {
            capital_message: true,
            ..Failure::framework(
                style,
                "SerializationException",
                "SerializationException",
                StatusCode::BAD_REQUEST,
                None,
            )
        }
    }

    /// A request whose signature is missing or malformed. awsJson answers
    /// 400; the query protocol 403 for a missing or mismatched signature
    /// and 400 for an incomplete one (its codes drop `Exception`, and a
    /// signature that does not match is `SignatureDoesNotMatch`); REST 403.
    pub fn auth(style: &ErrorStyle, protocol: Protocol, e: &AuthError) -> Failure {
        let (name, query_code, message) = match e {
            AuthError::Missing => (
                "MissingAuthenticationTokenException",
                "MissingAuthenticationToken",
                style.missing_token_message.to_owned(),
            ),
            AuthError::Incomplete(m) => (
                "IncompleteSignatureException",
                "IncompleteSignature",
                m.clone(),
            ),
            AuthError::Invalid(m) => (
                "InvalidSignatureException",
                "SignatureDoesNotMatch",
                m.clone(),
            ),
        };
        let status = match protocol {
            Protocol::AwsJson1_0 | Protocol::AwsJson1_1 => StatusCode::BAD_REQUEST,
            Protocol::AwsQuery if matches!(e, AuthError::Incomplete(_)) => StatusCode::BAD_REQUEST,
            Protocol::AwsQuery | Protocol::RestJson | Protocol::RuntimeApi => StatusCode::FORBIDDEN,
        };
        Failure::framework(style, name, query_code, status, Some(message))
    }

    /// Something failed inside Tarn.
    pub fn internal(style: &ErrorStyle) -> Failure {
        Failure {
            fault: Fault::Receiver,
            ..Failure::framework(
                style,
                "InternalFailure",
                "InternalFailure",
                StatusCode::INTERNAL_SERVER_ERROR,
                Some("Internal server error".to_owned()),
            )
        }
    }
}
