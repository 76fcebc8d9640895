//! DynamoDB's input model, for the SerializationException of a member of
//! the wrong JSON type.
//!
//! The typed request structs decode the common case at full speed; when
//! one fails with a JSON type error, the body is walked a second time
//! against this model to find the first bad member in document order and
//! to word the error as DynamoDB's Java reader does. Its wording depends
//! on the member's type and on where the member sits: a struct in a list
//! or as a map value is `Unexpected value type in payload`, the same struct
//! as a field is `Unexpected field type`; a list or map in a list or map is
//! a Java class-cast text; an empty JSON array where a map or struct
//! belongs names the Java type (`docs/research/dynamodb-errors.md` §1).
//!
//! Members the model does not list are skipped, as DynamoDB skips unknown
//! members, and a JSON `null` is an absent member.

use std::cell::RefCell;
use std::fmt;

use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

use super::wire::{decode_blob, integer_text};

/// A member's type in DynamoDB's model.
pub(crate) enum Shape {
    String,
    Integer,
    Long,
    Boolean,
    Blob,
    List(&'static Shape),
    /// A map with string keys and values of the given shape.
    Map(&'static Shape),
    Struct(&'static Struct),
}

/// A structure: its model name and its members.
pub(crate) struct Struct {
    name: &'static str,
    members: &'static [(&'static str, Shape)],
}

impl Struct {
    fn member(&self, name: &str) -> Option<&'static Shape> {
        self.members
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, s)| s)
    }
}

/// What DynamoDB's reader says when a list or map is found where the
/// model has a list or map inside a list or map (its generic type cannot
/// be cast).
const CAST: &str = "class sun.reflect.generics.reflectiveObjects.ParameterizedTypeImpl cannot be cast to class java.lang.Class (sun.reflect.generics.reflectiveObjects.ParameterizedTypeImpl and java.lang.Class are in module java.base of loader 'bootstrap')";
const STRUCTURE_FOUND: &str = "Start of structure or map found where not expected";
const FIELD_TYPE: &str = "Unexpected field type";
const VALUE_TYPE: &str = "Unexpected value type in payload";
const NOT_BASE64: &str = "only base-64-encoded strings are convertible to bytes";

/// The Java type a shape is read into, as the reader's messages name it.
fn java_type(shape: &Shape) -> String {
    match shape {
        Shape::String => "java.lang.String".to_owned(),
        Shape::Integer => "java.lang.Integer".to_owned(),
        Shape::Long => "java.lang.Long".to_owned(),
        Shape::Boolean => "java.lang.Boolean".to_owned(),
        Shape::Blob => "java.nio.ByteBuffer".to_owned(),
        Shape::List(e) => format!("java.util.List<{}>", java_type(e)),
        Shape::Map(v) => format!("java.util.Map<java.lang.String, {}>", java_type(v)),
        Shape::Struct(s) => format!("com.amazonaws.dynamodb.v20120810.{}", s.name),
    }
}

/// A JSON token that is not an object or array.
enum Scalar<'a> {
    Str(&'a str),
    Bool(bool),
    Int,
    Decimal,
}

impl Scalar<'_> {
    fn token(&self) -> &'static str {
        match self {
            Scalar::Str(_) => "STRING_VALUE",
            Scalar::Bool(true) => "TRUE_VALUE",
            Scalar::Bool(false) => "FALSE_VALUE",
            Scalar::Int => "NUMBER_VALUE",
            Scalar::Decimal => "DECIMAL_VALUE",
        }
    }
}

/// The message for a scalar token where `shape` belongs, or `None` if the
/// token is acceptable there. `element` is true inside a list or as a map
/// value.
fn scalar_message(shape: &Shape, element: bool, v: &Scalar<'_>) -> Option<String> {
    let convert = |java: &str| format!("{} cannot be converted to {java}", v.token());
    match shape {
        Shape::String => match v {
            Scalar::Str(_) => None,
            _ => Some(convert("String")),
        },
        Shape::Integer | Shape::Long => {
            let java = if matches!(shape, Shape::Integer) {
                "Integer"
            } else {
                "Long"
            };
            let fits = |n: i64| matches!(shape, Shape::Long) || i32::try_from(n).is_ok();
            match v {
                Scalar::Int => None,
                Scalar::Str(s) if integer_text(s).is_some_and(fits) => None,
                _ => Some(convert(java)),
            }
        }
        Shape::Boolean => match v {
            Scalar::Bool(_) => None,
            Scalar::Str(_) => Some("Unexpected token received from parser".to_owned()),
            _ => Some(convert("Boolean")),
        },
        Shape::Blob => match v {
            Scalar::Str(s) => decode_blob(s).err(),
            _ => Some(NOT_BASE64.to_owned()),
        },
        Shape::List(_) | Shape::Map(_) if element => Some(CAST.to_owned()),
        Shape::List(_) | Shape::Map(_) => Some(FIELD_TYPE.to_owned()),
        Shape::Struct(_) if element => Some(VALUE_TYPE.to_owned()),
        Shape::Struct(_) => Some(FIELD_TYPE.to_owned()),
    }
}

/// One step of the walk: a value expected to have `shape`.
struct Walk<'w> {
    shape: &'static Shape,
    element: bool,
    found: &'w RefCell<Option<String>>,
}

impl Walk<'_> {
    fn at(&self, shape: &'static Shape, element: bool) -> Self {
        Walk {
            shape,
            element,
            found: self.found,
        }
    }

    /// Records the first bad member and stops the walk.
    fn fail<E: de::Error>(&self, message: String) -> Result<(), E> {
        self.found.borrow_mut().get_or_insert(message);
        Err(E::custom("stop"))
    }

    fn scalar<E: de::Error>(&self, v: Scalar<'_>) -> Result<(), E> {
        match scalar_message(self.shape, self.element, &v) {
            Some(m) => self.fail(m),
            None => Ok(()),
        }
    }
}

impl<'de> DeserializeSeed<'de> for Walk<'_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Walk<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a DynamoDB request member")
    }

    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        Ok(())
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<(), E> {
        self.scalar(Scalar::Bool(v))
    }

    fn visit_i64<E: de::Error>(self, _: i64) -> Result<(), E> {
        self.scalar(Scalar::Int)
    }

    fn visit_u64<E: de::Error>(self, _: u64) -> Result<(), E> {
        self.scalar(Scalar::Int)
    }

    fn visit_f64<E: de::Error>(self, _: f64) -> Result<(), E> {
        self.scalar(Scalar::Decimal)
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<(), E> {
        self.scalar(Scalar::Str(v))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        match self.shape {
            Shape::List(e) => {
                while seq.next_element_seed(self.at(e, true))?.is_some() {}
                Ok(())
            }
            Shape::Map(v) => self.fail(format!(
                "Unrecognized collection type java.util.Map<java.lang.String, {}>",
                java_type(v)
            )),
            other => self.fail(format!(
                "Unrecognized collection type class {}",
                java_type(other)
            )),
        }
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        match self.shape {
            Shape::Map(v) => {
                while map.next_key::<IgnoredAny>()?.is_some() {
                    map.next_value_seed(self.at(v, true))?;
                }
                Ok(())
            }
            Shape::Struct(s) => {
                while let Some(key) = map.next_key::<String>()? {
                    match s.member(&key) {
                        Some(m) => map.next_value_seed(self.at(m, false))?,
                        None => {
                            map.next_value::<IgnoredAny>()?;
                        }
                    }
                }
                Ok(())
            }
            _ => self.fail(STRUCTURE_FOUND.to_owned()),
        }
    }
}

/// The SerializationException message for the first member of `body`
/// that does not fit `input` (an operation's input structure), if any.
pub(crate) fn first_mismatch(body: &[u8], input: &'static Shape) -> Option<String> {
    let found = RefCell::new(None);
    let walk = Walk {
        shape: input,
        element: false,
        found: &found,
    };
    let mut d = serde_json::Deserializer::from_slice(body);
    // The walk stops with an error at the first bad member; `found` says
    // whether that is what stopped it.
    let _ = walk.deserialize(&mut d);
    found.into_inner()
}

// ---- the model: DynamoDB's input shapes (API version 2012-08-10) ----

const STRING: Shape = Shape::String;
const BOOLEAN: Shape = Shape::Boolean;
const LONG: Shape = Shape::Long;
const INTEGER: Shape = Shape::Integer;
const STRINGS: Shape = Shape::List(&Shape::String);
/// `ExpressionAttributeNames`.
const NAMES: Shape = Shape::Map(&Shape::String);
/// An item, a key, `ExpressionAttributeValues`, `ExclusiveStartKey`.
const ITEM: Shape = Shape::Map(&AV);

static AV: Shape = Shape::Struct(&ATTRIBUTE_VALUE);
static ATTRIBUTE_VALUE: Struct = Struct {
    name: "AttributeValue",
    members: &[
        ("S", STRING),
        ("N", STRING),
        ("B", Shape::Blob),
        ("SS", STRINGS),
        ("NS", STRINGS),
        ("BS", Shape::List(&Shape::Blob)),
        ("M", Shape::Map(&AV)),
        ("L", Shape::List(&AV)),
        ("NULL", BOOLEAN),
        ("BOOL", BOOLEAN),
    ],
};

static EXPECTED: Shape = Shape::Struct(&Struct {
    name: "ExpectedAttributeValue",
    members: &[
        ("Value", Shape::Struct(&ATTRIBUTE_VALUE)),
        ("Exists", BOOLEAN),
        ("ComparisonOperator", STRING),
        ("AttributeValueList", Shape::List(&AV)),
    ],
});

static CONDITION: Shape = Shape::Struct(&Struct {
    name: "Condition",
    members: &[
        ("AttributeValueList", Shape::List(&AV)),
        ("ComparisonOperator", STRING),
    ],
});

static VALUE_UPDATE: Shape = Shape::Struct(&Struct {
    name: "AttributeValueUpdate",
    members: &[
        ("Value", Shape::Struct(&ATTRIBUTE_VALUE)),
        ("Action", STRING),
    ],
});

static KEY_SCHEMA_ELEMENT: Shape = Shape::Struct(&Struct {
    name: "KeySchemaElement",
    members: &[("AttributeName", STRING), ("KeyType", STRING)],
});
const KEY_SCHEMA: Shape = Shape::List(&KEY_SCHEMA_ELEMENT);

static ATTRIBUTE_DEFINITION: Shape = Shape::Struct(&Struct {
    name: "AttributeDefinition",
    members: &[("AttributeName", STRING), ("AttributeType", STRING)],
});

static PROVISIONED_THROUGHPUT: Struct = Struct {
    name: "ProvisionedThroughput",
    members: &[("ReadCapacityUnits", LONG), ("WriteCapacityUnits", LONG)],
};
static ON_DEMAND_THROUGHPUT: Struct = Struct {
    name: "OnDemandThroughput",
    members: &[
        ("MaxReadRequestUnits", LONG),
        ("MaxWriteRequestUnits", LONG),
    ],
};
static WARM_THROUGHPUT: Struct = Struct {
    name: "WarmThroughput",
    members: &[("ReadUnitsPerSecond", LONG), ("WriteUnitsPerSecond", LONG)],
};
static PROJECTION: Struct = Struct {
    name: "Projection",
    members: &[("ProjectionType", STRING), ("NonKeyAttributes", STRINGS)],
};
static STREAM_SPECIFICATION: Struct = Struct {
    name: "StreamSpecification",
    members: &[("StreamEnabled", BOOLEAN), ("StreamViewType", STRING)],
};
static SSE_SPECIFICATION: Struct = Struct {
    name: "SSESpecification",
    members: &[
        ("Enabled", BOOLEAN),
        ("SSEType", STRING),
        ("KMSMasterKeyId", STRING),
    ],
};
static TAG: Shape = Shape::Struct(&Struct {
    name: "Tag",
    members: &[("Key", STRING), ("Value", STRING)],
});

static LOCAL_SECONDARY_INDEX: Shape = Shape::Struct(&Struct {
    name: "LocalSecondaryIndex",
    members: &[
        ("IndexName", STRING),
        ("KeySchema", KEY_SCHEMA),
        ("Projection", Shape::Struct(&PROJECTION)),
    ],
});

/// The members a created global index has, in CreateTable and in
/// UpdateTable's `Create`.
const GLOBAL_INDEX_MEMBERS: &[(&str, Shape)] = &[
    ("IndexName", STRING),
    ("KeySchema", KEY_SCHEMA),
    ("Projection", Shape::Struct(&PROJECTION)),
    (
        "ProvisionedThroughput",
        Shape::Struct(&PROVISIONED_THROUGHPUT),
    ),
    ("OnDemandThroughput", Shape::Struct(&ON_DEMAND_THROUGHPUT)),
    ("WarmThroughput", Shape::Struct(&WARM_THROUGHPUT)),
];
static GLOBAL_SECONDARY_INDEX: Shape = Shape::Struct(&Struct {
    name: "GlobalSecondaryIndex",
    members: GLOBAL_INDEX_MEMBERS,
});

static INDEX_UPDATE: Shape = Shape::Struct(&Struct {
    name: "GlobalSecondaryIndexUpdate",
    members: &[
        (
            "Update",
            Shape::Struct(&Struct {
                name: "UpdateGlobalSecondaryIndexAction",
                members: &[
                    ("IndexName", STRING),
                    (
                        "ProvisionedThroughput",
                        Shape::Struct(&PROVISIONED_THROUGHPUT),
                    ),
                    ("OnDemandThroughput", Shape::Struct(&ON_DEMAND_THROUGHPUT)),
                    ("WarmThroughput", Shape::Struct(&WARM_THROUGHPUT)),
                ],
            }),
        ),
        (
            "Create",
            Shape::Struct(&Struct {
                name: "CreateGlobalSecondaryIndexAction",
                members: GLOBAL_INDEX_MEMBERS,
            }),
        ),
        (
            "Delete",
            Shape::Struct(&Struct {
                name: "DeleteGlobalSecondaryIndexAction",
                members: &[("IndexName", STRING)],
            }),
        ),
    ],
});

static KEYS_AND_ATTRIBUTES: Shape = Shape::Struct(&Struct {
    name: "KeysAndAttributes",
    members: &[
        ("Keys", Shape::List(&ITEM)),
        ("AttributesToGet", STRINGS),
        ("ConsistentRead", BOOLEAN),
        ("ProjectionExpression", STRING),
        ("ExpressionAttributeNames", NAMES),
    ],
});

static WRITE_REQUEST: Shape = Shape::Struct(&Struct {
    name: "WriteRequest",
    members: &[
        (
            "PutRequest",
            Shape::Struct(&Struct {
                name: "PutRequest",
                members: &[("Item", ITEM)],
            }),
        ),
        (
            "DeleteRequest",
            Shape::Struct(&Struct {
                name: "DeleteRequest",
                members: &[("Key", ITEM)],
            }),
        ),
    ],
});

/// The members every TransactWriteItems action has besides its item or
/// key and update expression.
macro_rules! write_action {
    ($name:literal, $($extra:expr),*) => {
        Shape::Struct(&Struct {
            name: $name,
            members: &[
                $($extra,)*
                ("TableName", STRING),
                ("ConditionExpression", STRING),
                ("ExpressionAttributeNames", NAMES),
                ("ExpressionAttributeValues", ITEM),
                ("ReturnValuesOnConditionCheckFailure", STRING),
            ],
        })
    };
}

static TRANSACT_WRITE_ITEM: Shape = Shape::Struct(&Struct {
    name: "TransactWriteItem",
    members: &[
        (
            "ConditionCheck",
            write_action!("ConditionCheck", ("Key", ITEM)),
        ),
        ("Put", write_action!("Put", ("Item", ITEM))),
        ("Delete", write_action!("Delete", ("Key", ITEM))),
        (
            "Update",
            write_action!("Update", ("Key", ITEM), ("UpdateExpression", STRING)),
        ),
    ],
});

static TRANSACT_GET_ITEM: Shape = Shape::Struct(&Struct {
    name: "TransactGetItem",
    members: &[(
        "Get",
        Shape::Struct(&Struct {
            name: "Get",
            members: &[
                ("Key", ITEM),
                ("TableName", STRING),
                ("ProjectionExpression", STRING),
                ("ExpressionAttributeNames", NAMES),
            ],
        }),
    )],
});

macro_rules! input {
    ($name:literal, [$($member:expr),* $(,)?]) => {
        Shape::Struct(&Struct { name: $name, members: &[$($member),*] })
    };
}

static TABLE_NAME_INPUT: Shape = input!("TableNameInput", [("TableName", STRING)]);

static CREATE_TABLE: Shape = input!(
    "CreateTableInput",
    [
        ("AttributeDefinitions", Shape::List(&ATTRIBUTE_DEFINITION)),
        ("TableName", STRING),
        ("KeySchema", KEY_SCHEMA),
        ("LocalSecondaryIndexes", Shape::List(&LOCAL_SECONDARY_INDEX)),
        (
            "GlobalSecondaryIndexes",
            Shape::List(&GLOBAL_SECONDARY_INDEX)
        ),
        ("BillingMode", STRING),
        (
            "ProvisionedThroughput",
            Shape::Struct(&PROVISIONED_THROUGHPUT)
        ),
        ("StreamSpecification", Shape::Struct(&STREAM_SPECIFICATION)),
        ("SSESpecification", Shape::Struct(&SSE_SPECIFICATION)),
        ("Tags", Shape::List(&TAG)),
        ("TableClass", STRING),
        ("DeletionProtectionEnabled", BOOLEAN),
        ("ResourcePolicy", STRING),
        ("OnDemandThroughput", Shape::Struct(&ON_DEMAND_THROUGHPUT)),
        ("WarmThroughput", Shape::Struct(&WARM_THROUGHPUT)),
    ]
);

static UPDATE_TABLE: Shape = input!(
    "UpdateTableInput",
    [
        ("AttributeDefinitions", Shape::List(&ATTRIBUTE_DEFINITION)),
        ("TableName", STRING),
        ("BillingMode", STRING),
        (
            "ProvisionedThroughput",
            Shape::Struct(&PROVISIONED_THROUGHPUT)
        ),
        ("GlobalSecondaryIndexUpdates", Shape::List(&INDEX_UPDATE)),
        ("StreamSpecification", Shape::Struct(&STREAM_SPECIFICATION)),
        ("SSESpecification", Shape::Struct(&SSE_SPECIFICATION)),
        ("TableClass", STRING),
        ("DeletionProtectionEnabled", BOOLEAN),
        ("OnDemandThroughput", Shape::Struct(&ON_DEMAND_THROUGHPUT)),
        ("WarmThroughput", Shape::Struct(&WARM_THROUGHPUT)),
    ]
);

static LIST_TABLES: Shape = input!(
    "ListTablesInput",
    [("ExclusiveStartTableName", STRING), ("Limit", INTEGER)]
);

static PUT_ITEM: Shape = input!(
    "PutItemInput",
    [
        ("TableName", STRING),
        ("Item", ITEM),
        ("Expected", Shape::Map(&EXPECTED)),
        ("ReturnValues", STRING),
        ("ReturnConsumedCapacity", STRING),
        ("ReturnItemCollectionMetrics", STRING),
        ("ConditionalOperator", STRING),
        ("ConditionExpression", STRING),
        ("ExpressionAttributeNames", NAMES),
        ("ExpressionAttributeValues", ITEM),
        ("ReturnValuesOnConditionCheckFailure", STRING),
    ]
);

static DELETE_ITEM: Shape = input!(
    "DeleteItemInput",
    [
        ("TableName", STRING),
        ("Key", ITEM),
        ("Expected", Shape::Map(&EXPECTED)),
        ("ConditionalOperator", STRING),
        ("ReturnValues", STRING),
        ("ReturnConsumedCapacity", STRING),
        ("ReturnItemCollectionMetrics", STRING),
        ("ConditionExpression", STRING),
        ("ExpressionAttributeNames", NAMES),
        ("ExpressionAttributeValues", ITEM),
        ("ReturnValuesOnConditionCheckFailure", STRING),
    ]
);

static UPDATE_ITEM: Shape = input!(
    "UpdateItemInput",
    [
        ("TableName", STRING),
        ("Key", ITEM),
        ("AttributeUpdates", Shape::Map(&VALUE_UPDATE)),
        ("Expected", Shape::Map(&EXPECTED)),
        ("ConditionalOperator", STRING),
        ("ReturnValues", STRING),
        ("ReturnConsumedCapacity", STRING),
        ("ReturnItemCollectionMetrics", STRING),
        ("UpdateExpression", STRING),
        ("ConditionExpression", STRING),
        ("ExpressionAttributeNames", NAMES),
        ("ExpressionAttributeValues", ITEM),
        ("ReturnValuesOnConditionCheckFailure", STRING),
    ]
);

static GET_ITEM: Shape = input!(
    "GetItemInput",
    [
        ("TableName", STRING),
        ("Key", ITEM),
        ("AttributesToGet", STRINGS),
        ("ConsistentRead", BOOLEAN),
        ("ReturnConsumedCapacity", STRING),
        ("ProjectionExpression", STRING),
        ("ExpressionAttributeNames", NAMES),
    ]
);

static QUERY: Shape = input!(
    "QueryInput",
    [
        ("TableName", STRING),
        ("IndexName", STRING),
        ("Select", STRING),
        ("AttributesToGet", STRINGS),
        ("Limit", INTEGER),
        ("ConsistentRead", BOOLEAN),
        ("KeyConditions", Shape::Map(&CONDITION)),
        ("QueryFilter", Shape::Map(&CONDITION)),
        ("ConditionalOperator", STRING),
        ("ScanIndexForward", BOOLEAN),
        ("ExclusiveStartKey", ITEM),
        ("ReturnConsumedCapacity", STRING),
        ("ProjectionExpression", STRING),
        ("FilterExpression", STRING),
        ("KeyConditionExpression", STRING),
        ("ExpressionAttributeNames", NAMES),
        ("ExpressionAttributeValues", ITEM),
    ]
);

static SCAN: Shape = input!(
    "ScanInput",
    [
        ("TableName", STRING),
        ("IndexName", STRING),
        ("AttributesToGet", STRINGS),
        ("Limit", INTEGER),
        ("Select", STRING),
        ("ScanFilter", Shape::Map(&CONDITION)),
        ("ConditionalOperator", STRING),
        ("ExclusiveStartKey", ITEM),
        ("ReturnConsumedCapacity", STRING),
        ("TotalSegments", INTEGER),
        ("Segment", INTEGER),
        ("ProjectionExpression", STRING),
        ("FilterExpression", STRING),
        ("ExpressionAttributeNames", NAMES),
        ("ExpressionAttributeValues", ITEM),
        ("ConsistentRead", BOOLEAN),
    ]
);

static BATCH_GET_ITEM: Shape = input!(
    "BatchGetItemInput",
    [
        ("RequestItems", Shape::Map(&KEYS_AND_ATTRIBUTES)),
        ("ReturnConsumedCapacity", STRING),
    ]
);

static BATCH_WRITE_ITEM: Shape = input!(
    "BatchWriteItemInput",
    [
        ("RequestItems", Shape::Map(&Shape::List(&WRITE_REQUEST))),
        ("ReturnConsumedCapacity", STRING),
        ("ReturnItemCollectionMetrics", STRING),
    ]
);

static TRANSACT_WRITE_ITEMS: Shape = input!(
    "TransactWriteItemsInput",
    [
        ("TransactItems", Shape::List(&TRANSACT_WRITE_ITEM)),
        ("ReturnConsumedCapacity", STRING),
        ("ReturnItemCollectionMetrics", STRING),
        ("ClientRequestToken", STRING),
    ]
);

static TRANSACT_GET_ITEMS: Shape = input!(
    "TransactGetItemsInput",
    [
        ("TransactItems", Shape::List(&TRANSACT_GET_ITEM)),
        ("ReturnConsumedCapacity", STRING),
    ]
);

static TAG_RESOURCE: Shape = input!(
    "TagResourceInput",
    [("ResourceArn", STRING), ("Tags", Shape::List(&TAG))]
);

static UNTAG_RESOURCE: Shape = input!(
    "UntagResourceInput",
    [("ResourceArn", STRING), ("TagKeys", STRINGS)]
);

static LIST_TAGS_OF_RESOURCE: Shape = input!(
    "ListTagsOfResourceInput",
    [("ResourceArn", STRING), ("NextToken", STRING)]
);

static UPDATE_TIME_TO_LIVE: Shape = input!(
    "UpdateTimeToLiveInput",
    [
        ("TableName", STRING),
        (
            "TimeToLiveSpecification",
            Shape::Struct(&Struct {
                name: "TimeToLiveSpecification",
                members: &[("Enabled", BOOLEAN), ("AttributeName", STRING)],
            })
        ),
    ]
);

static EMPTY_INPUT: Shape = input!("EmptyInput", []);

/// The input shape of a DynamoDB operation.
pub(crate) fn input(op: &str) -> Option<&'static Shape> {
    Some(match op {
        "CreateTable" => &CREATE_TABLE,
        "UpdateTable" => &UPDATE_TABLE,
        "DescribeTable" | "DeleteTable" | "DescribeTimeToLive" => &TABLE_NAME_INPUT,
        "ListTables" => &LIST_TABLES,
        "PutItem" => &PUT_ITEM,
        "GetItem" => &GET_ITEM,
        "DeleteItem" => &DELETE_ITEM,
        "UpdateItem" => &UPDATE_ITEM,
        "Query" => &QUERY,
        "Scan" => &SCAN,
        "BatchGetItem" => &BATCH_GET_ITEM,
        "BatchWriteItem" => &BATCH_WRITE_ITEM,
        "TransactWriteItems" => &TRANSACT_WRITE_ITEMS,
        "TransactGetItems" => &TRANSACT_GET_ITEMS,
        "TagResource" => &TAG_RESOURCE,
        "UntagResource" => &UNTAG_RESOURCE,
        "ListTagsOfResource" => &LIST_TAGS_OF_RESOURCE,
        "UpdateTimeToLive" => &UPDATE_TIME_TO_LIVE,
        "DescribeLimits" | "DescribeEndpoints" => &EMPTY_INPUT,
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(op: &str, body: &str) -> Option<String> {
        first_mismatch(body.as_bytes(), input(op).expect("known operation"))
    }

    /// The values dynalite's AWS-verified `assertType` sends for each kind
    /// of member, with the message DynamoDB answers.
    fn expect(op: &str, template: &str, cases: &[(&str, &str)]) {
        for (value, want) in cases {
            let body = template.replace("@", value);
            assert_eq!(message(op, &body).as_deref(), Some(*want), "{op} {body}");
        }
    }

    const CAST_LIST: &[(&str, &str)] = &[
        ("\"23\"", CAST),
        ("true", CAST),
        ("23", CAST),
        ("34.56", CAST),
        ("{}", STRUCTURE_FOUND),
    ];

    #[test]
    fn strings_booleans_and_integers() {
        expect(
            "PutItem",
            r#"{"TableName":@}"#,
            &[
                ("true", "TRUE_VALUE cannot be converted to String"),
                ("false", "FALSE_VALUE cannot be converted to String"),
                ("-2147483648", "NUMBER_VALUE cannot be converted to String"),
                ("34.56", "DECIMAL_VALUE cannot be converted to String"),
                ("[]", "Unrecognized collection type class java.lang.String"),
                ("{}", STRUCTURE_FOUND),
            ],
        );
        expect(
            "GetItem",
            r#"{"ConsistentRead":@}"#,
            &[
                ("\"23\"", "Unexpected token received from parser"),
                ("23", "NUMBER_VALUE cannot be converted to Boolean"),
                ("[]", "Unrecognized collection type class java.lang.Boolean"),
            ],
        );
        expect(
            "Query",
            r#"{"Limit":@}"#,
            &[
                ("\"x\"", "STRING_VALUE cannot be converted to Integer"),
                ("true", "TRUE_VALUE cannot be converted to Integer"),
                ("[]", "Unrecognized collection type class java.lang.Integer"),
            ],
        );
        expect(
            "CreateTable",
            r#"{"ProvisionedThroughput":{"ReadCapacityUnits":@}}"#,
            &[
                ("\"three\"", "STRING_VALUE cannot be converted to Long"),
                ("false", "FALSE_VALUE cannot be converted to Long"),
                ("{}", STRUCTURE_FOUND),
            ],
        );
        // Numeric strings are accepted in integer members.
        assert_eq!(message("Query", r#"{"Limit":"5"}"#), None);
        assert_eq!(
            message(
                "CreateTable",
                r#"{"ProvisionedThroughput":{"ReadCapacityUnits":"3"}}"#
            ),
            None
        );
    }

    #[test]
    fn attribute_values_at_every_depth() {
        let value_struct = [
            ("\"23\"", VALUE_TYPE),
            ("true", VALUE_TYPE),
            ("23", VALUE_TYPE),
            ("34.56", VALUE_TYPE),
            (
                "[]",
                "Unrecognized collection type class com.amazonaws.dynamodb.v20120810.AttributeValue",
            ),
        ];
        for template in [
            r#"{"Item":{"a":@}}"#,
            r#"{"Item":{"a":{"M":{"b":@}}}}"#,
            r#"{"Item":{"a":{"L":[{"S":"x"},@]}}}"#,
            r#"{"Item":{"a":{"M":{"b":{"L":[@]}}}}}"#,
            r#"{"ExpressionAttributeValues":{":v":@}}"#,
            r#"{"Expected":{"a":{"AttributeValueList":[@]}}}"#,
        ] {
            expect("PutItem", template, &value_struct);
        }
        expect("Query", r#"{"ExclusiveStartKey":{"a":@}}"#, &value_struct);
        expect(
            "Query",
            r#"{"KeyConditions":{"a":{"AttributeValueList":[@]}}}"#,
            &value_struct,
        );
        expect(
            "BatchGetItem",
            r#"{"RequestItems":{"t":{"Keys":[{"a":@}]}}}"#,
            &value_struct,
        );
        // As a field (Expected's Value), an AttributeValue is a field struct.
        expect(
            "PutItem",
            r#"{"Expected":{"a":{"Value":@}}}"#,
            &[
                ("23", FIELD_TYPE),
                (
                    "[]",
                    "Unrecognized collection type class com.amazonaws.dynamodb.v20120810.AttributeValue",
                ),
            ],
        );
        expect(
            "PutItem",
            r#"{"Item":{"a":{"S":@}}}"#,
            &[("23", "NUMBER_VALUE cannot be converted to String")],
        );
        expect(
            "PutItem",
            r#"{"Item":{"a":{"B":@}}}"#,
            &[
                ("true", NOT_BASE64),
                (
                    "[]",
                    "Unrecognized collection type class java.nio.ByteBuffer",
                ),
                (
                    "\"23456\"",
                    "Base64 encoded length is expected a multiple of 4 bytes but found: 5",
                ),
                (
                    "\"=+/=\"",
                    "Invalid last non-pad Base64 character dectected",
                ),
            ],
        );
        expect(
            "PutItem",
            r#"{"Item":{"a":{"SS":@}}}"#,
            &[("23", FIELD_TYPE), ("{}", STRUCTURE_FOUND)],
        );
        expect(
            "PutItem",
            r#"{"Item":{"a":{"SS":[@]}}}"#,
            &[("23", "NUMBER_VALUE cannot be converted to String")],
        );
        expect(
            "PutItem",
            r#"{"Item":{"a":{"M":@}}}"#,
            &[
                ("23", FIELD_TYPE),
                (
                    "[]",
                    "Unrecognized collection type java.util.Map<java.lang.String, com.amazonaws.dynamodb.v20120810.AttributeValue>",
                ),
            ],
        );
    }

    #[test]
    fn maps_lists_and_structures() {
        expect(
            "PutItem",
            r#"{"Item":@}"#,
            &[
                ("23", FIELD_TYPE),
                (
                    "[]",
                    "Unrecognized collection type java.util.Map<java.lang.String, com.amazonaws.dynamodb.v20120810.AttributeValue>",
                ),
            ],
        );
        expect(
            "PutItem",
            r#"{"Expected":@}"#,
            &[(
                "[]",
                "Unrecognized collection type java.util.Map<java.lang.String, com.amazonaws.dynamodb.v20120810.ExpectedAttributeValue>",
            )],
        );
        expect(
            "PutItem",
            r#"{"Expected":{"a":@}}"#,
            &[
                ("23", VALUE_TYPE),
                (
                    "[]",
                    "Unrecognized collection type class com.amazonaws.dynamodb.v20120810.ExpectedAttributeValue",
                ),
            ],
        );
        expect(
            "GetItem",
            r#"{"ExpressionAttributeNames":@}"#,
            &[(
                "[]",
                "Unrecognized collection type java.util.Map<java.lang.String, java.lang.String>",
            )],
        );
        expect(
            "BatchWriteItem",
            r#"{"RequestItems":@}"#,
            &[(
                "[]",
                "Unrecognized collection type java.util.Map<java.lang.String, java.util.List<com.amazonaws.dynamodb.v20120810.WriteRequest>>",
            )],
        );
        expect("BatchWriteItem", r#"{"RequestItems":{"t":@}}"#, CAST_LIST);
        expect(
            "BatchWriteItem",
            r#"{"RequestItems":{"t":[@]}}"#,
            &[
                ("23", VALUE_TYPE),
                (
                    "[]",
                    "Unrecognized collection type class com.amazonaws.dynamodb.v20120810.WriteRequest",
                ),
            ],
        );
        expect(
            "BatchWriteItem",
            r#"{"RequestItems":{"t":[{"PutRequest":@}]}}"#,
            &[
                ("23", FIELD_TYPE),
                (
                    "[]",
                    "Unrecognized collection type class com.amazonaws.dynamodb.v20120810.PutRequest",
                ),
            ],
        );
        expect(
            "BatchGetItem",
            r#"{"RequestItems":{"t":{"Keys":[@]}}}"#,
            &[
                ("23", CAST),
                (
                    "[]",
                    "Unrecognized collection type java.util.Map<java.lang.String, com.amazonaws.dynamodb.v20120810.AttributeValue>",
                ),
            ],
        );
        expect(
            "CreateTable",
            r#"{"KeySchema":[@]}"#,
            &[
                ("23", VALUE_TYPE),
                (
                    "[]",
                    "Unrecognized collection type class com.amazonaws.dynamodb.v20120810.KeySchemaElement",
                ),
            ],
        );
        expect(
            "CreateTable",
            r#"{"GlobalSecondaryIndexes":[{"Projection":{"NonKeyAttributes":[@]}}]}"#,
            &[("5", "NUMBER_VALUE cannot be converted to String")],
        );
        expect(
            "CreateTable",
            r#"{"ProvisionedThroughput":@}"#,
            &[
                ("\"23\"", FIELD_TYPE),
                (
                    "[]",
                    "Unrecognized collection type class com.amazonaws.dynamodb.v20120810.ProvisionedThroughput",
                ),
            ],
        );
        expect(
            "UpdateTable",
            r#"{"GlobalSecondaryIndexUpdates":[{"Create":{"KeySchema":[{"AttributeName":@}]}}]}"#,
            &[("1", "NUMBER_VALUE cannot be converted to String")],
        );
    }

    #[test]
    fn the_first_bad_member_in_document_order_is_reported() {
        assert_eq!(
            message("PutItem", r#"{"Item":{"a":5},"TableName":7}"#).as_deref(),
            Some(VALUE_TYPE)
        );
        assert_eq!(
            message("PutItem", r#"{"TableName":7,"Item":{"a":5}}"#).as_deref(),
            Some("NUMBER_VALUE cannot be converted to String")
        );
        // Unknown members and nulls are skipped.
        assert_eq!(
            message("PutItem", r#"{"Whatever":[1],"TableName":null}"#),
            None
        );
    }
}
