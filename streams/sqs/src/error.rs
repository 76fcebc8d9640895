//! SQS's errors: one typed kind each, worded in one place
//! ([`SqsError::message`]) and named in one place ([`SqsError::names`]):
//! the awsJson `__type` shape and the query protocol's code (also the
//! `x-amzn-query-error` the SDKs read). Sources: `docs/research/sqs.md`.

/// An SQS error.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SqsError {
    /// No queue by that name or URL.
    #[error("queue does not exist")]
    QueueDoesNotExist,
    /// CreateQueue of an existing name with another value for an attribute.
    #[error("queue exists with a different {0}")]
    QueueAlreadyExists(String),
    /// A parameter's value is not allowed; the full message.
    #[error("{0}")]
    InvalidParameterValue(String),
    /// A required parameter is absent.
    #[error("missing {0}")]
    MissingParameter(String),
    /// An attribute name SQS does not know.
    #[error("unknown attribute {0}")]
    InvalidAttributeName(String),
    /// An attribute value out of range; the attribute's name.
    #[error("invalid value for {0}")]
    InvalidAttributeValue(String),
    /// A free-form InvalidAttributeValue message.
    #[error("{0}")]
    InvalidAttributeValueMessage(String),
    /// A receipt handle that is not one of ours.
    #[error("invalid receipt handle {0}")]
    ReceiptHandleIsInvalid(String),
    /// ChangeMessageVisibility of a message that is not in flight.
    #[error("message not in flight")]
    MessageNotInflight,
    /// A second purge within 60 s; the queue's name.
    #[error("purge in progress on {0}")]
    PurgeQueueInProgress(String),
    /// A batch without entries; the entry type's name.
    #[error("empty batch")]
    EmptyBatchRequest(&'static str),
    /// More than 10 entries.
    #[error("{0} entries")]
    TooManyEntriesInBatchRequest(usize),
    /// Two entries with one id.
    #[error("id {0} repeated")]
    BatchEntryIdsNotDistinct(String),
    /// An entry id that is not 1-80 of `[A-Za-z0-9_-]`.
    #[error("invalid batch entry id")]
    InvalidBatchEntryId,
    /// A batch whose messages add up to more than the limit; its size.
    #[error("batch of {0} bytes")]
    BatchRequestTooLong(usize),
    /// A message body with characters SQS refuses.
    #[error("invalid message contents")]
    InvalidMessageContents,
    /// A message attribute that is malformed; the full message.
    #[error("{0}")]
    MessageAttributesInvalid(String),
    /// An operation the queue cannot do; the full message.
    #[error("{0}")]
    UnsupportedOperation(String),
    /// A move task or its source does not exist; the full message.
    #[error("{0}")]
    ResourceNotFound(String),
    /// A limit of the queue is reached; the full message.
    #[error("{0}")]
    OverLimit(String),
    /// CreateQueue of a name deleted less than 60 s ago.
    #[error("queue deleted recently")]
    QueueDeletedRecently,
    /// Storage failed.
    #[error("internal error: {0}")]
    Internal(String),
}

/// How the wire names an error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Names {
    /// The awsJson shape name, after `com.amazonaws.sqs#`.
    pub shape: &'static str,
    /// The query protocol's `<Code>` and the `x-amzn-query-error` code.
    pub query_code: &'static str,
    /// The HTTP status.
    pub status: u16,
    /// The service's fault (500), not the sender's.
    pub receiver: bool,
}

const fn sender(shape: &'static str, query_code: &'static str) -> Names {
    Names {
        shape,
        query_code,
        status: 400,
        receiver: false,
    }
}

impl SqsError {
    /// The error's names on the wire.
    pub fn names(&self) -> Names {
        use SqsError::*;
        match self {
            QueueDoesNotExist => sender(
                "QueueDoesNotExist",
                "AWS.SimpleQueueService.NonExistentQueue",
            ),
            QueueAlreadyExists(_) => sender("QueueNameExists", "QueueAlreadyExists"),
            QueueDeletedRecently => sender(
                "QueueDeletedRecently",
                "AWS.SimpleQueueService.QueueDeletedRecently",
            ),
            InvalidParameterValue(_) => {
                sender("InvalidParameterValueException", "InvalidParameterValue")
            }
            MissingParameter(_) => sender("MissingRequiredParameterException", "MissingParameter"),
            InvalidAttributeName(_) => sender("InvalidAttributeName", "InvalidAttributeName"),
            InvalidAttributeValue(_) | InvalidAttributeValueMessage(_) => {
                sender("InvalidAttributeValue", "InvalidAttributeValue")
            }
            ReceiptHandleIsInvalid(_) => sender("ReceiptHandleIsInvalid", "ReceiptHandleIsInvalid"),
            MessageNotInflight => sender(
                "MessageNotInflight",
                "AWS.SimpleQueueService.MessageNotInflight",
            ),
            PurgeQueueInProgress(_) => sender(
                "PurgeQueueInProgress",
                "AWS.SimpleQueueService.PurgeQueueInProgress",
            ),
            EmptyBatchRequest(_) => sender(
                "EmptyBatchRequest",
                "AWS.SimpleQueueService.EmptyBatchRequest",
            ),
            TooManyEntriesInBatchRequest(_) => sender(
                "TooManyEntriesInBatchRequest",
                "AWS.SimpleQueueService.TooManyEntriesInBatchRequest",
            ),
            BatchEntryIdsNotDistinct(_) => sender(
                "BatchEntryIdsNotDistinct",
                "AWS.SimpleQueueService.BatchEntryIdsNotDistinct",
            ),
            InvalidBatchEntryId => sender(
                "InvalidBatchEntryId",
                "AWS.SimpleQueueService.InvalidBatchEntryId",
            ),
            BatchRequestTooLong(_) => sender(
                "BatchRequestTooLong",
                "AWS.SimpleQueueService.BatchRequestTooLong",
            ),
            InvalidMessageContents => sender("InvalidMessageContents", "InvalidMessageContents"),
            MessageAttributesInvalid(_) => {
                sender("InvalidParameterValueException", "InvalidParameterValue")
            }
            UnsupportedOperation(_) => sender(
                "UnsupportedOperation",
                "AWS.SimpleQueueService.UnsupportedOperation",
            ),
            ResourceNotFound(_) => sender("ResourceNotFoundException", "ResourceNotFoundException"),
            OverLimit(_) => Names {
                status: 403,
                ..sender("OverLimit", "OverLimit")
            },
            Internal(_) => Names {
                shape: "InternalError",
                query_code: "InternalError",
                status: 500,
                receiver: true,
            },
        }
    }

    /// The message, as SQS words it.
    pub fn message(&self) -> String {
        use SqsError::*;
        match self {
            QueueDoesNotExist => "The specified queue does not exist.".into(),
            QueueDeletedRecently => "You must wait 60 seconds after deleting a queue before you can create another queue with the same name.".into(),
            QueueAlreadyExists(attr) => format!(
                "A queue already exists with the same name and a different value for attribute {attr}"
            ),
            InvalidParameterValue(m)
            | InvalidAttributeValueMessage(m)
            | MessageAttributesInvalid(m)
            | UnsupportedOperation(m)
            | ResourceNotFound(m)
            | OverLimit(m) => m.clone(),
            MissingParameter(p) => format!("The request must contain the parameter {p}."),
            InvalidAttributeName(a) => format!("Unknown Attribute {a}."),
            InvalidAttributeValue(a) => format!("Invalid value for the parameter {a}."),
            ReceiptHandleIsInvalid(h) => {
                format!("The input receipt handle \"{h}\" is not a valid receipt handle.")
            }
            MessageNotInflight => {
                "Message does not exist or is not available for visibility timeout change.".into()
            }
            PurgeQueueInProgress(q) => {
                format!("Only one PurgeQueue operation on {q} is allowed every 60 seconds.")
            }
            EmptyBatchRequest(entry) => {
                format!("There should be at least one {entry} in the request.")
            }
            TooManyEntriesInBatchRequest(n) => {
                format!("Maximum number of entries per request are 10. You have sent {n}.")
            }
            BatchEntryIdsNotDistinct(id) => format!("Id {id} repeated."),
            InvalidBatchEntryId => "A batch entry id can only contain alphanumeric characters, hyphens and underscores. It can be at most 80 letters long.".into(),
            BatchRequestTooLong(n) => format!(
                "Batch requests cannot be longer than 262144 bytes. You have sent {n} bytes."
            ),
            InvalidMessageContents => "Invalid characters found. Valid unicode characters are #x9 | #xA | #xD | #x20 to #xD7FF | #xE000 to #xFFFD | #x10000 to #x10FFFF".into(),
            Internal(_) => "We encountered an internal error. Please try again.".into(),
        }
    }

    /// `Value v for parameter p is invalid. Reason: r`
    pub fn invalid_value(value: impl std::fmt::Display, parameter: &str, reason: &str) -> SqsError {
        SqsError::InvalidParameterValue(format!(
            "Value {value} for parameter {parameter} is invalid. Reason: {reason}"
        ))
    }
}

impl From<tarn_engine::Error> for SqsError {
    fn from(e: tarn_engine::Error) -> Self {
        tracing::error!(error = %e, "sqs storage failed");
        SqsError::Internal(e.to_string())
    }
}
