//! Validation errors as typed kinds, and the one place that turns them into
//! DynamoDB's text (`docs/research/*-errors.md` record where each wording
//! comes from). Code that words a fault differently in some context (a
//! batch, a transaction, an update) matches on the kind and picks another
//! kind; nothing inspects the text.

use std::fmt;

use tarn_expr::{ExprError, ScalarType, ValueError};

/// How DynamoDB opens the message of an empty key value: PutItem (and the
/// batch and item paths) say "are not valid.", GetItem and the key paths
/// "were invalid:".
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Wording {
    /// `One or more parameter values are not valid.`
    Item,
    /// `One or more parameter values were invalid:`
    Key,
}

/// A ValidationException the engine raises, by kind.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum Invalid {
    // ---- items and keys ----
    /// An item over 400 KB (PutItem and the put paths).
    ItemTooLarge,
    /// An item an update made over 400 KB.
    UpdatedItemTooLarge,
    /// An item without one of the table's key attributes.
    MissingKey {
        /// The key attribute.
        attr: String,
    },
    /// A key attribute of an item with the wrong type.
    ItemKeyType {
        /// The key attribute.
        attr: String,
        /// Its defined type.
        expected: ScalarType,
        /// The type the item gave (`S`, `M`, ...).
        actual: &'static str,
    },
    /// A `Key` that is not exactly the table's key attributes, typed.
    KeySchemaMismatch,
    /// An empty string or binary key value.
    EmptyKey {
        /// The key attribute.
        attr: String,
        /// `S` or `B`.
        ty: ScalarType,
        /// How the message opens.
        wording: Wording,
    },
    /// A partition key over 2048 bytes.
    HashKeyTooLarge,
    /// A sort key over 1024 bytes.
    RangeKeyTooLarge,
    /// A batch naming one item twice.
    DuplicateKeys,
    /// A transaction naming one item twice.
    MultipleOperations,
    /// An attribute value DynamoDB refuses (an empty set, a bad number...).
    Value(ValueError),
    /// An update or condition that fails on the item, or an update of a
    /// key attribute: the expression language's own error and text.
    Expression(ExprError),

    // ---- secondary index keys ----
    /// An empty string or binary value of an index key attribute.
    IndexKeyEmpty {
        /// The index.
        index: String,
        /// The attribute.
        attr: String,
        /// `S` or `B`.
        ty: ScalarType,
        /// Computed by an update (worded as UpdateItem words it).
        from_update: bool,
    },
    /// An index key attribute of the wrong type.
    IndexKeyType {
        /// The index.
        index: String,
        /// The attribute.
        attr: String,
        /// Its defined type.
        expected: ScalarType,
        /// The type the item has.
        actual: &'static str,
    },
    /// An update copied a value of the wrong type into an index key
    /// attribute (`SET key = other`).
    IndexKeyCopiedType,
    /// An index key attribute value over its size limit.
    IndexKeyTooLarge {
        /// The index.
        index: String,
        /// The attribute.
        attr: String,
        /// Its size.
        bytes: usize,
        /// The limit.
        limit: usize,
    },
    /// An update reaching into an index key attribute with a document path.
    IndexKeyPath {
        /// The attribute.
        attr: String,
    },

    // ---- reads ----
    /// A read of an index the table does not have.
    NoSuchIndex {
        /// The index.
        index: String,
    },
    /// A read of a global index still being backfilled.
    BackfillingIndex {
        /// The index.
        index: String,
    },
    /// `begins_with` on a number sort key.
    BeginsWithNumber,
    /// A key condition value of another type than the key's.
    ConditionTypeMismatch,
    /// A key condition on more sort key attributes than the key has.
    KeyConditionNotSupported,
    /// An `ExclusiveStartKey` outside the query's range.
    StartKeyOutsideQuery,
    /// An `ExclusiveStartKey` outside the scan segment's slice.
    StartKeyWrongSegment {
        /// TotalSegments.
        total: u32,
        /// Segment.
        segment: u32,
    },
    /// An `ExclusiveStartKey` without exactly the key attributes.
    StartKeyInvalid,
    /// An `ExclusiveStartKey` a key check refused, prefixed by "The
    /// provided starting key is invalid: ".
    StartKey(Box<Invalid>),
    /// A query's `ExclusiveStartKey` whose sort key is outside the sort
    /// condition.
    StartKeyRangePredicate,
    /// A restarted query that can return at most one row.
    QueryOneRow,

    // ---- tables ----
    /// DeleteTable of a table with deletion protection.
    DeletionProtected,
    /// Enabling a stream on a table that has one.
    StreamAlreadyEnabled {
        /// The table.
        table: String,
    },
    /// Disabling a stream on a table without one.
    NoStreamToDisable {
        /// The table.
        table: String,
    },
    /// More than 50 tags.
    TooManyTags,
    /// Creating an index with a name in use.
    IndexExists,
    /// A new index key attribute defined with another type than before.
    AttributeRedefined {
        /// The attribute.
        attr: String,
        /// The type it has.
        existing: ScalarType,
        /// The type the request gives.
        requested: ScalarType,
    },
    /// Throughput given for a PAY_PER_REQUEST table.
    ThroughputWithPayPerRequest,
    /// A switch to PROVISIONED without throughput.
    ThroughputRequired,
    /// UpdateTable to the throughput the table has.
    ThroughputUnchanged {
        /// Current read units.
        read_now: u64,
        /// Requested read units.
        read: u64,
        /// Current write units.
        write_now: u64,
        /// Requested write units.
        write: u64,
    },
    /// A restore override naming an index the source does not have.
    NoSuchSourceIndex {
        /// The index.
        index: String,
        /// The source table.
        table: String,
    },
    /// UpdateTimeToLive enabling what is enabled.
    TtlAlreadyEnabled,
    /// UpdateTimeToLive disabling what is disabled.
    TtlAlreadyDisabled,
    /// UpdateTimeToLive naming another attribute than the enabled one.
    TtlOtherAttribute {
        /// The enabled attribute.
        current: String,
    },
    /// UpdateTimeToLive again within the cooldown.
    TtlChangedTooOften,
}

fn empty_kind(ty: ScalarType) -> &'static str {
    if ty == ScalarType::S {
        "string"
    } else {
        "binary"
    }
}

impl fmt::Display for Invalid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const INVALID: &str = "One or more parameter values were invalid:";
        const NOT_VALID: &str = "One or more parameter values are not valid.";
        match self {
            Invalid::ItemTooLarge => f.write_str("Item size has exceeded the maximum allowed size"),
            Invalid::UpdatedItemTooLarge => {
                f.write_str("Item size to update has exceeded the maximum allowed size")
            }
            Invalid::MissingKey { attr } => {
                write!(f, "{INVALID} Missing the key {attr} in the item")
            }
            Invalid::ItemKeyType {
                attr,
                expected,
                actual,
            } => write!(
                f,
                "{INVALID} Type mismatch for key {attr} expected: {} actual: {actual}",
                expected.as_str()
            ),
            Invalid::KeySchemaMismatch => {
                f.write_str("The provided key element does not match the schema")
            }
            Invalid::EmptyKey { attr, ty, wording } => write!(
                f,
                "{} The AttributeValue for a key attribute cannot contain an empty {} value. Key: {attr}",
                match wording {
                    Wording::Item => NOT_VALID,
                    Wording::Key => INVALID,
                },
                empty_kind(*ty)
            ),
            Invalid::HashKeyTooLarge => write!(
                f,
                "{INVALID} Size of hashkey has exceeded the maximum size limit of2048 bytes"
            ),
            Invalid::RangeKeyTooLarge => write!(
                f,
                "{INVALID} Aggregated size of all range keys has exceeded the size limit of 1024 bytes"
            ),
            Invalid::DuplicateKeys => f.write_str("Provided list of item keys contains duplicates"),
            Invalid::MultipleOperations => {
                f.write_str("Transaction request cannot include multiple operations on one item")
            }
            Invalid::Value(e) => write!(f, "{e}"),
            Invalid::Expression(e) => f.write_str(&e.message),
            Invalid::IndexKeyEmpty {
                index,
                attr,
                ty,
                from_update,
            } => {
                if *from_update {
                    write!(
                        f,
                        "{NOT_VALID} The update expression attempted to update a secondary index key to a value that is not supported. The AttributeValue for a key attribute cannot contain an empty {} value.",
                        empty_kind(*ty)
                    )
                } else {
                    write!(
                        f,
                        "{NOT_VALID} A value specified for a secondary index key is not supported. The AttributeValue for a key attribute cannot contain an empty {} value. IndexName: {index}, IndexKey: {attr}",
                        empty_kind(*ty)
                    )
                }
            }
            Invalid::IndexKeyType {
                index,
                attr,
                expected,
                actual,
            } => write!(
                f,
                "{INVALID} Type mismatch for Index Key {attr} Expected: {} Actual: {actual} IndexName: {index}",
                expected.as_str()
            ),
            Invalid::IndexKeyCopiedType => f.write_str(
                "The update expression attempted to update the secondary index key to unsupported type",
            ),
            Invalid::IndexKeyTooLarge {
                index,
                attr,
                bytes,
                limit,
            } => write!(
                f,
                "{INVALID} Size limit exceeded for Index Key {attr} Actual Size: {bytes} bytes Max Size: {limit} bytes IndexName: {index}"
            ),
            Invalid::IndexKeyPath { attr } => write!(
                f,
                "Key attributes must be scalars; list random access '[]' and map lookup '.' are not allowed: IndexKey: {attr}"
            ),
            Invalid::NoSuchIndex { index } => {
                write!(f, "The table does not have the specified index: {index}")
            }
            Invalid::BackfillingIndex { index } => {
                write!(f, "Cannot read from backfilling global secondary index: {index}")
            }
            Invalid::BeginsWithNumber => f.write_str(
                "Invalid KeyConditionExpression: Incorrect operand type for operator or function; operator or function: begins_with, operand type: N",
            ),
            Invalid::ConditionTypeMismatch => write!(
                f,
                "{INVALID} Condition parameter type does not match schema type"
            ),
            Invalid::KeyConditionNotSupported => f.write_str("Query key condition not supported"),
            Invalid::StartKeyOutsideQuery => f.write_str(
                "The provided starting key is outside query boundaries based on provided conditions",
            ),
            Invalid::StartKeyWrongSegment { total, segment } => write!(
                f,
                "The provided starting key is invalid: Invalid ExclusiveStartKey. Please use ExclusiveStartKey with correct Segment. TotalSegments: {total} Segment: {segment}"
            ),
            Invalid::StartKeyInvalid => f.write_str("The provided starting key is invalid"),
            Invalid::StartKey(inner) => write!(f, "The provided starting key is invalid: {inner}"),
            Invalid::StartKeyRangePredicate => {
                f.write_str("The provided starting key does not match the range key predicate")
            }
            Invalid::QueryOneRow => {
                f.write_str("The query can return at most one row and cannot be restarted")
            }
            Invalid::DeletionProtected => f.write_str(
                "Resource cannot be deleted as it is currently protected against deletion. Disable deletion protection first.",
            ),
            Invalid::StreamAlreadyEnabled { table } => {
                write!(f, "Table already has an enabled stream: TableName: {table}")
            }
            Invalid::NoStreamToDisable { table } => {
                write!(f, "Table has no stream to disable: TableName: {table}")
            }
            Invalid::TooManyTags => {
                f.write_str("Number of Tags exceed the current limit for the provided ResourceArn")
            }
            Invalid::IndexExists => f.write_str("Attempting to create an index which already exists"),
            Invalid::AttributeRedefined {
                attr,
                existing,
                requested,
            } => write!(
                f,
                "{INVALID} Attributes cannot be redefined. Please check that your attribute has the same type as previously defined. Existing schema: Schema:[SchemaElement: key{{{attr}:{}:HASH}}] New schema: Schema:[SchemaElement: key{{{attr}:{}:HASH}}]",
                existing.as_str(),
                requested.as_str()
            ),
            Invalid::ThroughputWithPayPerRequest => write!(
                f,
                "{INVALID} Neither ReadCapacityUnits nor WriteCapacityUnits can be specified when BillingMode is PAY_PER_REQUEST"
            ),
            Invalid::ThroughputRequired => write!(
                f,
                "{INVALID} ProvisionedThroughput must be specified when BillingMode is PROVISIONED"
            ),
            Invalid::ThroughputUnchanged {
                read_now,
                read,
                write_now,
                write,
            } => write!(
                f,
                "The provisioned throughput for the table will not change. The requested value equals the current value. Current ReadCapacityUnits provisioned for the table: {read_now}. Requested ReadCapacityUnits: {read}. Current WriteCapacityUnits provisioned for the table: {write_now}. Requested WriteCapacityUnits: {write}. Refer to the Amazon DynamoDB Developer Guide for current limits and how to request higher limits."
            ),
            Invalid::NoSuchSourceIndex { index, table } => write!(
                f,
                "{INVALID} Index {index} does not exist in the source table {table}"
            ),
            Invalid::TtlAlreadyEnabled => f.write_str("TimeToLive is already enabled"),
            Invalid::TtlAlreadyDisabled => f.write_str("TimeToLive is already disabled"),
            Invalid::TtlOtherAttribute { current } => write!(
                f,
                "TimeToLive is active on a different AttributeName: current AttributeName is {current}"
            ),
            Invalid::TtlChangedTooOften => f.write_str(
                "Time to live has been modified multiple times within a fixed interval",
            ),
        }
    }
}

impl Invalid {
    /// The same fault worded as PutItem words it: batches word an empty
    /// key value that way, whichever member it came in.
    pub fn in_item_wording(self) -> Invalid {
        match self {
            Invalid::EmptyKey { attr, ty, .. } => Invalid::EmptyKey {
                attr,
                ty,
                wording: Wording::Item,
            },
            other => other,
        }
    }

    /// True for the key faults that DynamoDB reports for a whole
    /// transaction rather than as one action's cancellation reason: empty
    /// key values, and the item and partition key size limits. (A sort key
    /// over its limit cancels the action instead.)
    pub fn is_request_fault(&self) -> bool {
        matches!(
            self,
            Invalid::EmptyKey { .. }
                | Invalid::IndexKeyEmpty { .. }
                | Invalid::ItemTooLarge
                | Invalid::UpdatedItemTooLarge
                | Invalid::HashKeyTooLarge
        )
    }
}

/// The text, for callers that hand the message on as a string.
impl From<Invalid> for String {
    fn from(e: Invalid) -> String {
        e.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The texts are DynamoDB's, byte for byte; the end-to-end suites pin
    /// every one, these pin the ones whose wording varies by kind.
    #[test]
    fn kinds_render_dynamodb_texts() {
        let empty = |wording| Invalid::EmptyKey {
            attr: "pk".into(),
            ty: ScalarType::S,
            wording,
        };
        assert_eq!(
            empty(Wording::Item).to_string(),
            "One or more parameter values are not valid. The AttributeValue for a key attribute cannot contain an empty string value. Key: pk"
        );
        assert_eq!(
            empty(Wording::Key).to_string(),
            "One or more parameter values were invalid: The AttributeValue for a key attribute cannot contain an empty string value. Key: pk"
        );
        assert_eq!(
            Invalid::StartKey(Box::new(Invalid::KeySchemaMismatch)).to_string(),
            "The provided starting key is invalid: The provided key element does not match the schema"
        );
        assert_eq!(
            Invalid::AttributeRedefined {
                attr: "a".into(),
                existing: ScalarType::S,
                requested: ScalarType::N,
            }
            .to_string(),
            "One or more parameter values were invalid: Attributes cannot be redefined. Please check that your attribute has the same type as previously defined. Existing schema: Schema:[SchemaElement: key{a:S:HASH}] New schema: Schema:[SchemaElement: key{a:N:HASH}]"
        );
        assert!(empty(Wording::Key).is_request_fault());
        assert!(!Invalid::RangeKeyTooLarge.is_request_fault());
        assert!(!Invalid::MissingKey { attr: "pk".into() }.is_request_fault());
    }
}
