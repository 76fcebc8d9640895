//! DynamoDB's JSON shape of attribute values and items.
//!
//! Deserialization separates two kinds of failure, as DynamoDB does: a JSON
//! type error (a number where a string belongs, bad base64) aborts parsing
//! and becomes a SerializationException, while a well-typed but invalid value
//! (no type set, two types set, a bad number, an empty set) is carried to
//! validation as a [`WireValue`] holding an error, and becomes a
//! ValidationException with DynamoDB's message.

use std::collections::BTreeMap;
use std::fmt;

use base64::Engine as _;
use serde::de::{self, Deserializer, IgnoredAny, MapAccess, Visitor};
use serde::ser::{SerializeMap, Serializer};
use serde::{Deserialize, Serialize};
use tarn_expr::{AttributeValue, Item, Number, NumberError};

use crate::error::ApiError;

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;

/// A value as received: valid, or the ValidationException message it earns.
#[derive(Debug)]
pub struct WireValue(pub Result<AttributeValue, String>);

/// An item or key as received.
#[derive(Debug, Default, Deserialize)]
#[serde(transparent)]
pub struct WireItem(pub BTreeMap<String, WireValue>);

impl WireItem {
    /// The item, or the ValidationException of its first invalid
    /// attribute name or value.
    pub fn into_item(self) -> Result<Item, ApiError> {
        let mut item = Item::new();
        for (name, value) in self.0 {
            check_attribute_name(&name).map_err(ApiError::validation)?;
            item.insert(name, value.0.map_err(ApiError::validation)?);
        }
        Ok(item)
    }
}

/// Longest attribute name, in bytes (DynamoDB's "64 KB", less one: a name
/// of 65535 bytes is accepted, one of 65536 is not).
pub const ATTRIBUTE_NAME_BYTES_MAX: usize = 65_535;

/// Checks an attribute name given in an item, a key, a legacy parameter
/// or `ExpressionAttributeNames`: it may not be empty or longer than 64 KB.
/// The texts are DynamoDB's (`docs/research/dynamodb-errors.md` §11).
pub fn check_attribute_name(name: &str) -> Result<(), &'static str> {
    if name.is_empty() {
        Err("Empty attribute name")
    } else if name.len() > ATTRIBUTE_NAME_BYTES_MAX {
        Err("Attribute name is too large, must be less than 65536 bytes")
    } else {
        Ok(())
    }
}

fn number_message(raw: &str, e: &NumberError) -> String {
    match e {
        NumberError::Invalid if raw.is_empty() => {
            "The parameter cannot be converted to a numeric value".to_owned()
        }
        NumberError::Invalid => {
            format!("The parameter cannot be converted to a numeric value: {raw}")
        }
        other => other.to_string(),
    }
}

fn parse_number(raw: &str) -> Result<Number, String> {
    Number::parse(raw).map_err(|e| number_message(raw, &e))
}

/// A base64 blob; bad base64 is a SerializationException, as in DynamoDB.
struct Blob(Vec<u8>);

/// Decodes a Blob member's text, or gives the SerializationException
/// message DynamoDB's reader gives for it (length first, then alphabet).
pub(crate) fn decode_blob(s: &str) -> Result<Vec<u8>, String> {
    if !s.len().is_multiple_of(4) {
        return Err(format!(
            "Base64 encoded length is expected a multiple of 4 bytes but found: {}",
            s.len()
        ));
    }
    B64.decode(s.as_bytes())
        .map_err(|_| "Invalid last non-pad Base64 character dectected".to_owned())
}

impl<'de> Deserialize<'de> for Blob {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        decode_blob(&s).map(Blob).map_err(de::Error::custom)
    }
}

// ---- integer members ----
//
// DynamoDB's model has Integer members (Limit, Segment, TotalSegments) and
// Long members (capacity units). Besides JSON numbers, Tarn accepts a
// string holding a decimal integer there, as DynamoDB Local does: the
// dynamodb-admin GUI sends its form fields that way (`"ReadCapacityUnits":
// "3"`). Any other string is the SerializationException DynamoDB gives.
// The common case, a JSON number, costs what `i64::deserialize` costs.

/// An integer member's Java type, as the messages name it.
#[derive(Clone, Copy)]
enum IntKind {
    Integer,
    Long,
}

impl IntKind {
    fn java(self) -> &'static str {
        match self {
            IntKind::Integer => "Integer",
            IntKind::Long => "Long",
        }
    }

    fn fits(self, v: i64) -> bool {
        match self {
            IntKind::Integer => i32::try_from(v).is_ok(),
            IntKind::Long => true,
        }
    }
}

struct IntVisitor(IntKind);

impl IntVisitor {
    fn error<E: de::Error>(&self, token: &str) -> E {
        E::custom(format!("{token} cannot be converted to {}", self.0.java()))
    }

    fn checked<E: de::Error>(&self, v: i64, token: &str) -> Result<Option<i64>, E> {
        if self.0.fits(v) {
            Ok(Some(v))
        } else {
            Err(self.error(token))
        }
    }
}

impl<'de> Visitor<'de> for IntVisitor {
    type Value = Option<i64>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "a {}", self.0.java())
    }

    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
        self.checked(v, "NUMBER_VALUE")
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
        match i64::try_from(v) {
            Ok(v) => self.checked(v, "NUMBER_VALUE"),
            Err(_) => Err(self.error("NUMBER_VALUE")),
        }
    }

    fn visit_f64<E: de::Error>(self, _: f64) -> Result<Self::Value, E> {
        Err(self.error("DECIMAL_VALUE"))
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Self::Value, E> {
        Err(self.error(if v { "TRUE_VALUE" } else { "FALSE_VALUE" }))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        match integer_text(v) {
            Some(n) => self.checked(n, "STRING_VALUE"),
            None => Err(self.error("STRING_VALUE")),
        }
    }

    fn visit_seq<A: de::SeqAccess<'de>>(self, _: A) -> Result<Self::Value, A::Error> {
        Err(de::Error::custom(format!(
            "Unrecognized collection type class java.lang.{}",
            self.0.java()
        )))
    }

    fn visit_map<A: MapAccess<'de>>(self, _: A) -> Result<Self::Value, A::Error> {
        Err(de::Error::custom(
            "Start of structure or map found where not expected",
        ))
    }
}

/// The value of a numeric string as DynamoDB Local reads one into an
/// integer member: an optionally signed run of ASCII digits, with
/// surrounding white space ignored.
pub(crate) fn integer_text(s: &str) -> Option<i64> {
    let t = s.trim();
    let digits = t.strip_prefix(['-', '+']).unwrap_or(t);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    t.parse().ok()
}

/// Deserializes an optional Long member (capacity units), accepting
/// numeric strings.
pub fn long<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    d.deserialize_any(IntVisitor(IntKind::Long))
}

/// Deserializes an optional Integer member (Limit, Segment), accepting
/// numeric strings.
pub fn integer<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i32>, D::Error> {
    // `IntKind::Integer` has checked the range.
    d.deserialize_any(IntVisitor(IntKind::Integer))
        .map(|v| v.and_then(|v| i32::try_from(v).ok()))
}

impl<'de> Deserialize<'de> for WireValue {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_map(ValueVisitor)
    }
}

struct ValueVisitor;

impl<'de> Visitor<'de> for ValueVisitor {
    type Value = WireValue;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an AttributeValue object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<WireValue, A::Error> {
        let mut found: Option<Result<AttributeValue, String>> = None;
        let mut count = 0usize;
        // A number error wins over a "more than one type" error.
        let mut number_error: Option<String> = None;
        while let Some(key) = map.next_key::<String>()? {
            let value: Option<Result<AttributeValue, String>> = match key.as_str() {
                "S" => map.next_value::<Option<String>>()?.map(|s| Ok(AttributeValue::S(s))),
                "N" => map.next_value::<Option<String>>()?.map(|s| parse_number(&s).map(AttributeValue::N)),
                "B" => map.next_value::<Option<Blob>>()?.map(|b| Ok(AttributeValue::B(b.0))),
                "BOOL" => map.next_value::<Option<bool>>()?.map(|b| Ok(AttributeValue::Bool(b))),
                "NULL" => map.next_value::<Option<bool>>()?.map(|b| {
                    if b {
                        Ok(AttributeValue::Null)
                    } else {
                        Err("One or more parameter values were invalid: Null attribute value types must have the value of true".to_owned())
                    }
                }),
                "M" => map.next_value::<Option<WireItem>>()?.map(|m| {
                    m.0.into_iter()
                        .map(|(k, v)| v.0.map(|v| (k, v)))
                        .collect::<Result<BTreeMap<_, _>, _>>()
                        .map(AttributeValue::M)
                }),
                "L" => map.next_value::<Option<Vec<WireValue>>>()?.map(|l| {
                    l.into_iter().map(|v| v.0).collect::<Result<Vec<_>, _>>().map(AttributeValue::L)
                }),
                "SS" => map.next_value::<Option<Vec<String>>>()?.map(|v| Ok(AttributeValue::Ss(v))),
                "NS" => map.next_value::<Option<Vec<String>>>()?.map(|v| {
                    v.iter()
                        .map(|s| parse_number(s))
                        .collect::<Result<Vec<_>, _>>()
                        .map(AttributeValue::Ns)
                }),
                "BS" => map
                    .next_value::<Option<Vec<Blob>>>()?
                    .map(|v| Ok(AttributeValue::Bs(v.into_iter().map(|b| b.0).collect()))),
                _ => {
                    map.next_value::<IgnoredAny>()?;
                    None
                }
            };
            let Some(value) = value else { continue };
            if (key == "N" || key == "NS") && number_error.is_none() {
                if let Err(e) = &value {
                    number_error = Some(e.clone());
                }
            }
            count += 1;
            found = Some(value);
        }
        let result = if let Some(e) = number_error {
            Err(e)
        } else {
            match (count, found) {
                (1, Some(v)) => v.and_then(|v| v.validate().map(|()| v).map_err(|e| e.to_string())),
                (0, _) | (_, None) => Err(
                    "Supplied AttributeValue is empty, must contain exactly one of the supported datatypes"
                        .to_owned(),
                ),
                _ => Err("Supplied AttributeValue has more than one datatypes set, must contain exactly one of the supported datatypes".to_owned()),
            }
        };
        Ok(WireValue(result))
    }
}

/// Serializes an attribute value in DynamoDB's JSON shape.
pub struct Av<'a>(pub &'a AttributeValue);

impl Serialize for Av<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(1))?;
        match self.0 {
            AttributeValue::S(v) => m.serialize_entry("S", v)?,
            AttributeValue::N(n) => m.serialize_entry("N", &n.to_string())?,
            AttributeValue::B(b) => m.serialize_entry("B", &B64.encode(b))?,
            AttributeValue::Bool(b) => m.serialize_entry("BOOL", b)?,
            AttributeValue::Null => m.serialize_entry("NULL", &true)?,
            AttributeValue::M(map) => m.serialize_entry("M", &ItemRef(map))?,
            AttributeValue::L(l) => m.serialize_entry("L", &Seq(l))?,
            AttributeValue::Ss(v) => m.serialize_entry("SS", v)?,
            AttributeValue::Ns(v) => {
                let texts: Vec<String> = v.iter().map(Number::to_string).collect();
                m.serialize_entry("NS", &texts)?
            }
            AttributeValue::Bs(v) => {
                let texts: Vec<String> = v.iter().map(|b| B64.encode(b)).collect();
                m.serialize_entry("BS", &texts)?
            }
        }
        m.end()
    }
}

struct Seq<'a>(&'a [AttributeValue]);

impl Serialize for Seq<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.0.iter().map(Av))
    }
}

/// Serializes an item (or map value) in DynamoDB's JSON shape.
pub struct ItemRef<'a>(pub &'a Item);

impl Serialize for ItemRef<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_map(self.0.iter().map(|(k, v)| (k, Av(v))))
    }
}

/// Renders a DynamoDB error body through the awsJson renderer, with the
/// members only DynamoDB's errors carry: the `Item` a failed condition saw
/// and a cancelled transaction's `CancellationReasons`.
/// SerializationException and TransactionCanceledException spell their
/// message key `Message`, as DynamoDB sends them.
pub(crate) fn error_body(e: &ApiError) -> Vec<u8> {
    use crate::error::ErrorCode;
    #[derive(Serialize)]
    struct Members<'a> {
        #[serde(rename = "Item", skip_serializing_if = "Option::is_none")]
        item: Option<ItemRef<'a>>,
        #[serde(
            rename = "CancellationReasons",
            skip_serializing_if = "Option::is_none"
        )]
        cancellation_reasons: Option<Vec<Reason<'a>>>,
    }
    #[derive(Serialize)]
    struct Reason<'a> {
        #[serde(rename = "Code")]
        code: &'a str,
        #[serde(rename = "Message", skip_serializing_if = "Option::is_none")]
        message: Option<&'a str>,
        #[serde(rename = "Item", skip_serializing_if = "Option::is_none")]
        item: Option<ItemRef<'a>>,
    }
    let capital_message = matches!(
        e.code,
        ErrorCode::Serialization | ErrorCode::TransactionCanceled
    );
    let members = Members {
        item: e.item.as_deref().map(ItemRef),
        cancellation_reasons: e.cancellation_reasons.as_ref().map(|rs| {
            rs.iter()
                .map(|r| Reason {
                    code: r.code,
                    message: r.message.as_deref(),
                    item: r.item.as_ref().map(ItemRef),
                })
                .collect()
        }),
    };
    crate::protocol::json::error_body(
        e.code.type_name(),
        e.message.as_deref(),
        capital_message,
        members,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(json: &str) -> Result<AttributeValue, String> {
        serde_json::from_str::<WireValue>(json)
            .expect("well-typed JSON")
            .0
    }

    #[test]
    fn every_type_round_trips() {
        // Map members in name order: that is the order Tarn renders them in.
        let json = r#"{"M":{"b":{"B":"AAE="},"l":{"L":[{"SS":["a","b"]},{"NS":["1","2"]},{"BS":["AA=="]}]},"n":{"N":"1.50"},"s":{"S":"x"},"t":{"BOOL":true},"z":{"NULL":true}}}"#;
        let v = parse(json).expect("valid");
        let out = serde_json::to_string(&Av(&v)).expect("serialize");
        assert_eq!(out, json.replace("1.50", "1.5"));
    }

    #[test]
    fn invalid_values_get_dynamodb_messages() {
        assert_eq!(
            parse("{}").unwrap_err(),
            "Supplied AttributeValue is empty, must contain exactly one of the supported datatypes"
        );
        assert!(parse(r#"{"S":"a","BOOL":true}"#)
            .unwrap_err()
            .contains("more than one datatypes"));
        assert_eq!(
            parse(r#"{"S":"a","N":"x"}"#).unwrap_err(),
            "The parameter cannot be converted to a numeric value: x"
        );
        assert_eq!(
            parse(r#"{"N":""}"#).unwrap_err(),
            "The parameter cannot be converted to a numeric value"
        );
        assert!(parse(r#"{"NULL":false}"#)
            .unwrap_err()
            .contains("Null attribute value types"));
        assert!(parse(r#"{"L":[{}]}"#)
            .unwrap_err()
            .starts_with("Supplied AttributeValue is empty"));
        assert!(parse(r#"{"SS":[]}"#)
            .unwrap_err()
            .contains("An string set  may not be empty"));
    }

    #[test]
    fn bad_base64_is_a_serialization_error() {
        let e = serde_json::from_str::<WireValue>(r#"{"B":"23456"}"#).unwrap_err();
        assert!(e
            .to_string()
            .starts_with("Base64 encoded length is expected a multiple of 4 bytes but found: 5"));
    }

    #[test]
    fn serialization_errors_use_capital_message_key() {
        use crate::error::ErrorCode;
        let e = ApiError::new(
            ErrorCode::Serialization,
            "NUMBER_VALUE cannot be converted to String",
        );
        assert_eq!(
            String::from_utf8(error_body(&e)).expect("utf-8"),
            r#"{"__type":"com.amazon.coral.service#SerializationException","Message":"NUMBER_VALUE cannot be converted to String"}"#
        );
        let bare = ApiError::bare(ErrorCode::UnknownOperation);
        assert_eq!(
            String::from_utf8(error_body(&bare)).expect("utf-8"),
            r#"{"__type":"com.amazon.coral.service#UnknownOperationException"}"#
        );
        let v = ApiError::validation("bad");
        assert_eq!(
            String::from_utf8(error_body(&v)).expect("utf-8"),
            r#"{"__type":"com.amazon.coral.validate#ValidationException","message":"bad"}"#
        );
    }
}
