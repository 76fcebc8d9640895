//! The query protocol's flattened parameters, read into the JSON
//! protocol's request shape, so that both protocols share one set of
//! request types:
//!
//! - `Attribute.N.Name` / `.Value` -> `Attributes` (a map);
//! - `Tag.N.Key` / `.Value` -> `Tags` and `tags`;
//! - `AttributeName.N`, `MessageAttributeName.N`,
//!   `MessageSystemAttributeName.N`, `TagKey.N` -> lists;
//! - `MessageAttribute.N.Name` / `.Value.DataType` / `.Value.StringValue` /
//!   `.Value.BinaryValue` (and `MessageSystemAttribute.N.…`) -> maps of
//!   attribute values;
//! - `<Op>RequestEntry.N.<field>` -> `Entries`, each read by these rules;
//! - integer parameters become JSON numbers when they parse.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

const INTEGERS: &[&str] = &[
    "DelaySeconds",
    "MaxNumberOfMessages",
    "VisibilityTimeout",
    "WaitTimeSeconds",
    "MaxResults",
    "MaxNumberOfMessagesPerSecond",
];

const LISTS: &[(&str, &str)] = &[
    ("AttributeName", "AttributeNames"),
    ("MessageAttributeName", "MessageAttributeNames"),
    ("MessageSystemAttributeName", "MessageSystemAttributeNames"),
    ("TagKey", "TagKeys"),
];

const ENTRIES: &[&str] = &[
    "SendMessageBatchRequestEntry",
    "DeleteMessageBatchRequestEntry",
    "ChangeMessageVisibilityBatchRequestEntry",
];

/// `Attribute.N` / `Tag.N` pairs by N: (key, value).
type Pairs = BTreeMap<u32, (Option<String>, Option<String>)>;
/// `MessageAttribute.N.*` fields by N.
type Fields = BTreeMap<u32, Vec<(String, String)>>;

/// Splits `Prefix.N.rest` into `(N, rest)`.
fn indexed<'a>(key: &'a str, prefix: &str) -> Option<(u32, &'a str)> {
    let rest = key.strip_prefix(prefix)?.strip_prefix('.')?;
    let (n, rest) = match rest.split_once('.') {
        Some((n, r)) => (n, r),
        None => (rest, ""),
    };
    Some((n.parse().ok()?, rest))
}

/// Reads flattened pairs into a JSON object.
pub(crate) fn to_json(pairs: &[(String, String)]) -> Value {
    let mut out = Map::new();
    let mut lists: BTreeMap<&str, BTreeMap<u32, String>> = BTreeMap::new();
    let mut pairs_maps: BTreeMap<&str, Pairs> = BTreeMap::new();
    let mut attr_maps: BTreeMap<&str, Fields> = BTreeMap::new();
    let mut entries: Fields = BTreeMap::new();
    'pairs: for (k, v) in pairs {
        for (prefix, name) in LISTS {
            if let Some((n, "")) = indexed(k, prefix) {
                lists.entry(name).or_default().insert(n, v.clone());
                continue 'pairs;
            }
        }
        for (prefix, key_field) in [("Attribute", "Name"), ("Tag", "Key")] {
            if let Some((n, field)) = indexed(k, prefix) {
                let slot = pairs_maps.entry(prefix).or_default().entry(n).or_default();
                if field == key_field {
                    slot.0 = Some(v.clone());
                } else if field == "Value" {
                    slot.1 = Some(v.clone());
                }
                continue 'pairs;
            }
        }
        for prefix in ["MessageAttribute", "MessageSystemAttribute"] {
            if let Some((n, field)) = indexed(k, prefix) {
                attr_maps
                    .entry(prefix)
                    .or_default()
                    .entry(n)
                    .or_default()
                    .push((field.to_owned(), v.clone()));
                continue 'pairs;
            }
        }
        for prefix in ENTRIES {
            if let Some((n, field)) = indexed(k, prefix) {
                entries
                    .entry(n)
                    .or_default()
                    .push((field.to_owned(), v.clone()));
                continue 'pairs;
            }
        }
        let value = if INTEGERS.contains(&k.as_str()) {
            v.trim()
                .parse::<i64>()
                .map_or_else(|_| Value::String(v.clone()), Value::from)
        } else {
            Value::String(v.clone())
        };
        out.insert(k.clone(), value);
    }
    for (name, items) in lists {
        out.insert(
            name.to_owned(),
            Value::Array(items.into_values().map(Value::String).collect()),
        );
    }
    for (prefix, items) in pairs_maps {
        let map: Map<String, Value> = items
            .into_values()
            .filter_map(|(k, v)| Some((k?, Value::String(v.unwrap_or_default()))))
            .collect();
        if prefix == "Tag" {
            out.insert("Tags".into(), Value::Object(map.clone()));
            out.insert("tags".into(), Value::Object(map));
        } else {
            out.insert("Attributes".into(), Value::Object(map));
        }
    }
    for (prefix, items) in attr_maps {
        let mut map = Map::new();
        for fields in items.into_values() {
            let mut name = None;
            let mut value = Map::new();
            for (f, v) in fields {
                match f.as_str() {
                    "Name" => name = Some(v),
                    _ => {
                        if let Some(inner) = f.strip_prefix("Value.") {
                            value.insert(inner.to_owned(), Value::String(v));
                        }
                    }
                }
            }
            if let Some(name) = name {
                map.insert(name, Value::Object(value));
            }
        }
        let key = if prefix == "MessageAttribute" {
            "MessageAttributes"
        } else {
            "MessageSystemAttributes"
        };
        out.insert(key.into(), Value::Object(map));
    }
    if !entries.is_empty() {
        out.insert(
            "Entries".into(),
            Value::Array(entries.into_values().map(|e| to_json(&e)).collect()),
        );
    }
    Value::Object(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(s: &[(&str, &str)]) -> Vec<(String, String)> {
        s.iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn flattened_parameters_read_as_the_json_shape() {
        let v = to_json(&pairs(&[
            ("QueueUrl", "u"),
            ("MaxNumberOfMessages", "5"),
            ("AttributeName.2", "B"),
            ("AttributeName.1", "A"),
            ("Attribute.1.Name", "VisibilityTimeout"),
            ("Attribute.1.Value", "10"),
            ("MessageAttribute.1.Name", "n"),
            ("MessageAttribute.1.Value.DataType", "String"),
            ("MessageAttribute.1.Value.StringValue", "s"),
            ("SendMessageBatchRequestEntry.1.Id", "a"),
            ("SendMessageBatchRequestEntry.1.DelaySeconds", "3"),
            (
                "SendMessageBatchRequestEntry.1.MessageAttribute.1.Name",
                "x",
            ),
            (
                "SendMessageBatchRequestEntry.1.MessageAttribute.1.Value.DataType",
                "Number",
            ),
        ]));
        assert_eq!(
            v,
            serde_json::json!({
                "QueueUrl": "u",
                "MaxNumberOfMessages": 5,
                "AttributeNames": ["A", "B"],
                "Attributes": {"VisibilityTimeout": "10"},
                "MessageAttributes": {"n": {"DataType": "String", "StringValue": "s"}},
                "Entries": [{"Id": "a", "DelaySeconds": 3, "MessageAttributes": {"x": {"DataType": "Number"}}}]
            })
        );
    }
}
