//! DynamoDB's errors, typed: the exceptions the DynamoDB and DynamoDB
//! Streams protocols answer with, and the collector of constraint
//! violations that words ValidationExceptions as DynamoDB does.
//!
//! Every error has exactly one HTTP status and one `__type`. The body is
//! rendered in one place, the awsJson renderer
//! (`crate::protocol::json`), through `dynamodb::wire::error_body`, which
//! adds DynamoDB's extra members (a failed condition's `Item`, a cancelled
//! transaction's `CancellationReasons`).

use axum::http::StatusCode;

/// The exceptions Tarn can return.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ErrorCode {
    /// The request is syntactically valid JSON but violates a rule.
    Validation,
    /// The body is not JSON or a member has the wrong JSON type.
    Serialization,
    /// Missing or unknown `X-Amz-Target`.
    UnknownOperation,
    /// The table does not exist.
    ResourceNotFound,
    /// The table exists, or is busy being created or deleted.
    ResourceInUse,
    /// A write's condition did not hold.
    ConditionalCheckFailed,
    /// An account limit was reached.
    LimitExceeded,
    /// A write would grow an item collection past 10 GB.
    ItemCollectionSizeLimitExceeded,
    /// A transaction was not applied; see its cancellation reasons.
    TransactionCanceled,
    /// A `ClientRequestToken` reused with a different request.
    IdempotentParameterMismatch,
    /// Provisioned throughput exceeded (`--enforce-throughput`).
    ProvisionedThroughputExceeded,
    /// On-demand maximum throughput exceeded (`--enforce-throughput`).
    Throttling,
    /// A shard iterator older than 15 minutes.
    ExpiredIterator,
    /// A stream position behind the trim point.
    TrimmedDataAccess,
    /// A backup or recovery operation names a table that does not exist.
    TableNotFound,
    /// A restore's target table exists.
    TableAlreadyExists,
    /// A backup or restore of a table that is being created or deleted.
    TableInUse,
    /// No backup with this ARN.
    BackupNotFound,
    /// A backup that is being created or restored.
    BackupInUse,
    /// A point-in-time restore of a table without recovery enabled.
    PointInTimeRecoveryUnavailable,
    /// A restore time outside the recovery window.
    InvalidRestoreTime,
    /// Something failed inside Tarn; the request may not have been applied.
    InternalServerError,
}

impl ErrorCode {
    /// The `__type` of the error body.
    pub fn type_name(self) -> &'static str {
        match self {
            ErrorCode::Validation => "com.amazon.coral.validate#ValidationException",
            ErrorCode::Serialization => "com.amazon.coral.service#SerializationException",
            ErrorCode::UnknownOperation => "com.amazon.coral.service#UnknownOperationException",
            ErrorCode::ResourceNotFound => {
                "com.amazonaws.dynamodb.v20120810#ResourceNotFoundException"
            }
            ErrorCode::ResourceInUse => "com.amazonaws.dynamodb.v20120810#ResourceInUseException",
            ErrorCode::ConditionalCheckFailed => {
                "com.amazonaws.dynamodb.v20120810#ConditionalCheckFailedException"
            }
            ErrorCode::LimitExceeded => "com.amazonaws.dynamodb.v20120810#LimitExceededException",
            ErrorCode::ItemCollectionSizeLimitExceeded => {
                "com.amazonaws.dynamodb.v20120810#ItemCollectionSizeLimitExceededException"
            }
            ErrorCode::TransactionCanceled => {
                "com.amazonaws.dynamodb.v20120810#TransactionCanceledException"
            }
            ErrorCode::IdempotentParameterMismatch => {
                "com.amazonaws.dynamodb.v20120810#IdempotentParameterMismatchException"
            }
            ErrorCode::ProvisionedThroughputExceeded => {
                "com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException"
            }
            ErrorCode::Throttling => "com.amazonaws.dynamodb.v20120810#ThrottlingException",
            ErrorCode::ExpiredIterator => {
                "com.amazonaws.dynamodb.v20120810#ExpiredIteratorException"
            }
            ErrorCode::TrimmedDataAccess => {
                "com.amazonaws.dynamodb.v20120810#TrimmedDataAccessException"
            }
            ErrorCode::TableNotFound => "com.amazonaws.dynamodb.v20120810#TableNotFoundException",
            ErrorCode::TableAlreadyExists => {
                "com.amazonaws.dynamodb.v20120810#TableAlreadyExistsException"
            }
            ErrorCode::TableInUse => "com.amazonaws.dynamodb.v20120810#TableInUseException",
            ErrorCode::BackupNotFound => "com.amazonaws.dynamodb.v20120810#BackupNotFoundException",
            ErrorCode::BackupInUse => "com.amazonaws.dynamodb.v20120810#BackupInUseException",
            ErrorCode::PointInTimeRecoveryUnavailable => {
                "com.amazonaws.dynamodb.v20120810#PointInTimeRecoveryUnavailableException"
            }
            ErrorCode::InvalidRestoreTime => {
                "com.amazonaws.dynamodb.v20120810#InvalidRestoreTimeException"
            }
            ErrorCode::InternalServerError => {
                "com.amazonaws.dynamodb.v20120810#InternalServerError"
            }
        }
    }

    /// The HTTP status.
    pub fn status(self) -> StatusCode {
        match self {
            ErrorCode::InternalServerError => StatusCode::INTERNAL_SERVER_ERROR,
            _ => StatusCode::BAD_REQUEST,
        }
    }
}

/// An error on its way to the client.
#[derive(Clone, Debug, PartialEq)]
pub struct ApiError {
    /// Which exception.
    pub code: ErrorCode,
    /// The message, if the exception carries one.
    pub message: Option<String>,
    /// The item a failed condition saw, for
    /// `ReturnValuesOnConditionCheckFailure: ALL_OLD`.
    pub item: Option<Box<tarn_expr::Item>>,
    /// A cancelled transaction's reasons, one per action.
    pub cancellation_reasons: Option<Vec<CancellationReason>>,
}

/// One entry of a TransactionCanceledException's `CancellationReasons`.
#[derive(Clone, Debug, PartialEq)]
pub struct CancellationReason {
    /// `None`, `ConditionalCheckFailed`, `ValidationError`, ...
    pub code: &'static str,
    /// The reason's message, if it has one.
    pub message: Option<String>,
    /// The item a failed condition saw, when asked for.
    pub item: Option<tarn_expr::Item>,
}

impl ApiError {
    /// An error with a message.
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        ApiError {
            code,
            message: Some(message.into()),
            item: None,
            cancellation_reasons: None,
        }
    }

    /// An error without a message.
    pub fn bare(code: ErrorCode) -> Self {
        ApiError {
            code,
            message: None,
            item: None,
            cancellation_reasons: None,
        }
    }

    /// A ValidationException.
    pub fn validation(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::Validation, message)
    }
}

impl From<tarn_engine::Error> for ApiError {
    fn from(e: tarn_engine::Error) -> Self {
        use tarn_engine::Error as E;
        match e {
            E::TableNotFound(_) => ApiError::new(ErrorCode::ResourceNotFound, e.to_string()),
            E::TableExists(_) | E::TableBeingDeleted(_) => {
                ApiError::new(ErrorCode::ResourceInUse, e.to_string())
            }
            E::Validation(m) => ApiError::validation(m),
            E::LimitExceeded(m) => ApiError::new(ErrorCode::LimitExceeded, m),
            E::ResourceNotFound(m) => ApiError::new(ErrorCode::ResourceNotFound, m),
            E::ResourceInUse(m) => ApiError::new(ErrorCode::ResourceInUse, m),
            E::Throttled(ref t) => {
                let code = if *t == tarn_engine::Throttled::OnDemand {
                    ErrorCode::Throttling
                } else {
                    ErrorCode::ProvisionedThroughputExceeded
                };
                ApiError::new(code, t.message())
            }
            E::ItemCollectionSizeLimitExceeded => {
                ApiError::new(ErrorCode::ItemCollectionSizeLimitExceeded, e.to_string())
            }
            E::BackupTableNotFound(_) => ApiError::new(ErrorCode::TableNotFound, e.to_string()),
            E::TableAlreadyExists(_) => ApiError::new(ErrorCode::TableAlreadyExists, e.to_string()),
            E::TableInUse(m) => ApiError::new(ErrorCode::TableInUse, m),
            E::BackupNotFound(_) => ApiError::new(ErrorCode::BackupNotFound, e.to_string()),
            E::BackupInUse(m) => ApiError::new(ErrorCode::BackupInUse, m),
            E::PitrUnavailable(_) => {
                ApiError::new(ErrorCode::PointInTimeRecoveryUnavailable, e.to_string())
            }
            E::InvalidRestoreTime(m) => ApiError::new(ErrorCode::InvalidRestoreTime, m),
            other => {
                tracing::error!(error = %other, "internal error");
                ApiError::new(ErrorCode::InternalServerError, "Internal server error")
            }
        }
    }
}

/// Collects constraint violations and renders them as DynamoDB does:
/// `N validation error(s) detected: …; …`, at most ten of them.
#[derive(Default)]
pub struct Constraints(Vec<String>);

/// Whether a table or index name matches DynamoDB's `[a-zA-Z0-9_.-]+`.
fn table_name_pattern_ok(name: &str) -> bool {
    !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"_.-".contains(&b))
}

/// Whether a table or index name meets DynamoDB's pattern and its 3 to
/// 255 length.
pub fn is_table_name(name: &str) -> bool {
    tarn_core::arn::is_table_name(name)
}

/// How many violations DynamoDB lists at most.
const VIOLATIONS_LISTED_MAX: usize = 10;

impl Constraints {
    /// Records that a required member is missing.
    pub fn null(&mut self, path: &str) {
        self.0.push(format!(
            "Value null at '{path}' failed to satisfy constraint: Member must not be null"
        ));
    }

    /// Records a violation by a present value.
    pub fn violated(&mut self, value: &dyn std::fmt::Display, path: &str, constraint: &str) {
        self.0.push(format!(
            "Value '{value}' at '{path}' failed to satisfy constraint: {constraint}"
        ));
    }

    /// Checks a table name member against DynamoDB's pattern only.
    pub fn table_name_pattern(&mut self, name: &str, path: &str) {
        if !table_name_pattern_ok(name) {
            self.violated(
                &name,
                path,
                "Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+",
            );
        }
    }

    /// Checks a table name member against DynamoDB's pattern and length.
    pub fn table_name(&mut self, name: &str, path: &str) {
        self.table_name_pattern(name, path);
        if name.len() < 3 {
            self.violated(
                &name,
                path,
                "Member must have length greater than or equal to 3",
            );
        }
        if name.len() > 255 {
            self.violated(
                &name,
                path,
                "Member must have length less than or equal to 255",
            );
        }
    }

    /// Checks that an integer member is within `min..=max`.
    pub fn between(&mut self, value: i64, path: &str, min: i64, max: i64) {
        if value < min {
            self.violated(
                &value,
                path,
                &format!("Member must have value greater than or equal to {min}"),
            );
        }
        if value > max {
            self.violated(
                &value,
                path,
                &format!("Member must have value less than or equal to {max}"),
            );
        }
    }

    /// Checks that a member is one of an enum's values.
    pub fn one_of(&mut self, value: &str, path: &str, allowed: &str) {
        let set = allowed.trim_start_matches('[').trim_end_matches(']');
        if !set.split(", ").any(|v| v == value) {
            self.violated(
                &value,
                path,
                &format!("Member must satisfy enum value set: {allowed}"),
            );
        }
    }

    /// The ValidationException for what was collected, if anything.
    pub fn finish(self) -> Result<(), ApiError> {
        if self.0.is_empty() {
            return Ok(());
        }
        let n = self.0.len().min(VIOLATIONS_LISTED_MAX);
        let plural = if n == 1 { "" } else { "s" };
        Err(ApiError::validation(format!(
            "{n} validation error{plural} detected: {}",
            self.0[..n].join("; ")
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn constraint_violations_are_counted_and_joined() {
        let mut c = Constraints::default();
        c.null("tableName");
        c.violated(
            &0,
            "limit",
            "Member must have value greater than or equal to 1",
        );
        let e = c.finish().unwrap_err();
        assert_eq!(
            e.message.as_deref(),
            Some("2 validation errors detected: Value null at 'tableName' failed to satisfy constraint: Member must not be null; Value '0' at 'limit' failed to satisfy constraint: Member must have value greater than or equal to 1")
        );
    }
}
