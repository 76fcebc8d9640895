//! Errors of the expression languages, with DynamoDB's messages.

/// Which expression parameter an error is about; it names the parameter in
/// the message (`Invalid UpdateExpression: ...`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExprKind {
    /// `ConditionExpression`
    Condition,
    /// `FilterExpression`
    Filter,
    /// `KeyConditionExpression`
    KeyCondition,
    /// `UpdateExpression`
    Update,
    /// `ProjectionExpression`
    Projection,
}

impl ExprKind {
    /// The parameter name.
    pub fn label(self) -> &'static str {
        match self {
            ExprKind::Condition => "ConditionExpression",
            ExprKind::Filter => "FilterExpression",
            ExprKind::KeyCondition => "KeyConditionExpression",
            ExprKind::Update => "UpdateExpression",
            ExprKind::Projection => "ProjectionExpression",
        }
    }
}

/// An expression that DynamoDB would reject with a ValidationException. The
/// message is the whole text DynamoDB sends.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct ExprError {
    /// DynamoDB's message.
    pub message: String,
}

impl ExprError {
    /// `Invalid <Kind>: <detail>`.
    pub fn invalid(kind: ExprKind, detail: impl std::fmt::Display) -> Self {
        ExprError {
            message: format!("Invalid {}: {detail}", kind.label()),
        }
    }

    /// A message used as it is.
    pub fn other(message: impl Into<String>) -> Self {
        ExprError {
            message: message.into(),
        }
    }
}
