//! The engine's errors. Client-caused errors carry what DynamoDB answers.

use tarn_expr::Item;

use crate::codec::DecodeError;
use crate::invalid::Invalid;

/// Engine errors. Messages of client-caused errors are DynamoDB's.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The table does not exist (or is being deleted, for data operations).
    #[error("Requested resource not found: Table: {0} not found")]
    TableNotFound(String),
    /// CreateTable of a name in use.
    #[error("Table already exists: {0}")]
    TableExists(String),
    /// A control-plane operation on a table that is being deleted.
    #[error("Attempt to change a resource which is still in use: Table is being deleted: {0}")]
    TableBeingDeleted(String),
    /// The write's condition did not hold; carries the old item, if any,
    /// for `ReturnValuesOnConditionCheckFailure`.
    #[error("The conditional request failed")]
    ConditionalCheckFailed(Option<Item>),
    /// A request that DynamoDB answers with ValidationException, by kind;
    /// its text is rendered in `invalid`.
    #[error("{0}")]
    Validation(Invalid),
    /// A control-plane request over an account or table limit
    /// (LimitExceededException).
    #[error("{0}")]
    LimitExceeded(String),
    /// A table or index that a control-plane request names does not exist
    /// (ResourceNotFoundException with this message).
    #[error("{0}")]
    ResourceNotFound(String),
    /// A control-plane request that conflicts with the resource's state
    /// (ResourceInUseException with this message).
    #[error("{0}")]
    ResourceInUse(String),
    /// A write would grow an item collection of a table with local indexes
    /// past its size limit.
    #[error("Collection size exceeded")]
    ItemCollectionSizeLimitExceeded,
    /// A transaction was not applied; one reason per action, in order.
    #[error("Transaction cancelled")]
    TransactionCanceled(Vec<CancelReason>),
    /// `--enforce-throughput`: the table or index is out of capacity.
    #[error("{}", .0.message())]
    Throttled(Throttled),
    /// A `ClientRequestToken` seen within ten minutes with another request.
    #[error("Request with the same client token has different parameters")]
    IdempotentParameterMismatch,
    /// Another process has the data directory open.
    #[error("the data directory is in use by another process{}", .holder_pid.map(|p| format!(" (pid {p})")).unwrap_or_default())]
    Locked {
        /// The process holding it, where the system says.
        holder_pid: Option<u32>,
    },
    /// The storage layer failed; after a failed sync every write fails.
    #[error("storage failure: {0}")]
    Storage(#[from] fjall::Error),
    /// A stored record does not decode.
    #[error(transparent)]
    Corrupt(#[from] DecodeError),
    /// A backup or recovery operation names a table that does not exist
    /// (TableNotFoundException).
    #[error("Table not found: {0}")]
    BackupTableNotFound(String),
    /// A restore's target name is taken (TableAlreadyExistsException).
    #[error("Table already exists: {0}")]
    TableAlreadyExists(String),
    /// A backup or restore of a table that is being created or deleted
    /// (TableInUseException, with this message).
    #[error("{0}")]
    TableInUse(String),
    /// No backup with this id (BackupNotFoundException); carries the id.
    #[error("Backup not found")]
    BackupNotFound(u32),
    /// A backup that is being created or restored (BackupInUseException,
    /// with this message).
    #[error("{0}")]
    BackupInUse(String),
    /// A point-in-time restore of a table without recovery enabled.
    #[error("Point in time recovery is not enabled for table '{0}'")]
    PitrUnavailable(String),
    /// A restore time outside the recovery window (InvalidRestoreTimeException,
    /// with this message).
    #[error("{0}")]
    InvalidRestoreTime(String),
    /// A service used the store outside its rules (a bug in the service,
    /// not a client error).
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// A store request outside the store's rules (`docs/storage.md`, "Service
/// store").
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// A keyspace or counter name that is not 1 to 32 bytes of `a-z`,
    /// `0-9` and `_` starting with a letter.
    #[error("invalid store name {0:?}: 1 to 32 bytes of a-z, 0-9 and _, starting with a letter")]
    Name(String),
    /// One keyspace more than the store allows.
    #[error("the store has its {max} keyspaces already")]
    TooManyKeyspaces {
        /// The limit.
        max: usize,
    },
    /// One counter more than the store keeps in memory.
    #[error("the store keeps {max} counters already")]
    TooManyCounters {
        /// The limit.
        max: usize,
    },
    /// An empty key or one over the limit.
    #[error("store key of {bytes} bytes: keys are 1 to {max} bytes")]
    KeySize {
        /// The key's size.
        bytes: usize,
        /// The limit.
        max: usize,
    },
    /// A value over the limit.
    #[error("store value of {bytes} bytes: values are at most {max} bytes")]
    ValueSize {
        /// The value's size.
        bytes: usize,
        /// The limit.
        max: usize,
    },
    /// A counter that has handed out every value.
    #[error("store counter {0} is exhausted")]
    CounterExhausted(String),
}

/// Result of engine calls.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// What ran out.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Throttled {
    /// The table's provisioned capacity.
    Table,
    /// A global index's provisioned capacity.
    Index,
    /// The table's on-demand maximum.
    OnDemand,
}

impl Throttled {
    /// DynamoDB's message for it.
    pub fn message(&self) -> &'static str {
        match self {
            Throttled::Table => "The level of configured provisioned throughput for the table was exceeded. Consider increasing your provisioning level with the UpdateTable API.",
            Throttled::Index => "The level of configured provisioned throughput for one or more global secondary indexes of the table was exceeded. Consider increasing your provisioning level for the under-provisioned global secondary indexes with the UpdateTable API",
            Throttled::OnDemand => "Throughput exceeds the maximum OnDemandThroughput configured for your table. Increase OnDemandThroughput with the UpdateTable API or try again shortly.",
        }
    }
}

/// Why an action of a cancelled transaction could not be applied.
#[derive(Clone, Debug, PartialEq)]
pub enum CancelReason {
    /// The action was fine (another one failed).
    None,
    /// Its condition did not hold; the item as it was, if any.
    ConditionalCheckFailed(Option<Item>),
    /// It would grow an item collection past its limit.
    ItemCollectionSizeLimitExceeded,
    /// It computed an item DynamoDB refuses.
    ValidationError(Invalid),
    /// Its table is out of capacity (`--enforce-throughput`).
    Throttled(Throttled),
}
