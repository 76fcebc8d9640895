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
    /// What kind of fault it is, for callers that word some faults their
    /// own way (they branch on this, never on the message).
    pub fault: ExprFault,
}

/// The kind of an [`ExprError`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum ExprFault {
    /// Any fault without a kind of its own.
    #[default]
    Other,
    /// An update action met an operand of a type it cannot use, at run time
    /// ([`crate::eval::BAD_OPERAND_TYPE`]).
    OperandType,
}

impl ExprError {
    /// `Invalid <Kind>: <detail>`.
    pub fn invalid(kind: ExprKind, detail: impl std::fmt::Display) -> Self {
        ExprError {
            message: format!("Invalid {}: {detail}", kind.label()),
            fault: ExprFault::Other,
        }
    }

    /// A message used as it is.
    pub fn other(message: impl Into<String>) -> Self {
        ExprError {
            message: message.into(),
            fault: ExprFault::Other,
        }
    }

    /// The run-time operand type error of update expressions.
    pub fn operand_type() -> Self {
        ExprError {
            message: crate::eval::BAD_OPERAND_TYPE.to_owned(),
            fault: ExprFault::OperandType,
        }
    }
}
