//! Item size as DynamoDB computes it, for the 400 KB item limit and (later)
//! capacity units.
//!
//! The rules, from the DynamoDB developer guide ("Item sizes and formats"):
//! an attribute costs the UTF-8 length of its name plus the size of its value;
//! strings cost their UTF-8 length, binary its length, numbers
//! [`Number::size_bytes`], booleans and null 1 byte; a list or map costs
//! 3 bytes plus, for each element, its size and 1 byte (plus the key's length
//! for a map); a set costs the sum of its members' sizes.

use crate::{AttributeValue, Item};

/// DynamoDB's maximum item size, 400 KB.
pub const ITEM_SIZE_BYTES_MAX: usize = 400 * 1024;

/// Fixed overhead of a list or map value.
const DOCUMENT_OVERHEAD_BYTES: usize = 3;
/// Overhead of each element of a list or map.
const ELEMENT_OVERHEAD_BYTES: usize = 1;

/// The size of an attribute value without its name.
pub fn value_size(value: &AttributeValue) -> usize {
    match value {
        AttributeValue::S(s) => s.len(),
        AttributeValue::N(n) => n.size_bytes(),
        AttributeValue::B(b) => b.len(),
        AttributeValue::Bool(_) | AttributeValue::Null => 1,
        AttributeValue::M(m) => {
            DOCUMENT_OVERHEAD_BYTES
                + m.iter()
                    .map(|(k, v)| k.len() + value_size(v) + ELEMENT_OVERHEAD_BYTES)
                    .sum::<usize>()
        }
        AttributeValue::L(l) => {
            DOCUMENT_OVERHEAD_BYTES
                + l.iter()
                    .map(|v| value_size(v) + ELEMENT_OVERHEAD_BYTES)
                    .sum::<usize>()
        }
        AttributeValue::Ss(v) => v.iter().map(String::len).sum(),
        AttributeValue::Ns(v) => v.iter().map(|n| n.size_bytes()).sum(),
        AttributeValue::Bs(v) => v.iter().map(Vec::len).sum(),
    }
}

/// The size of one attribute: name plus value.
pub fn attribute_size(name: &str, value: &AttributeValue) -> usize {
    name.len() + value_size(value)
}

/// The size of a whole item.
pub fn item_size(item: &Item) -> usize {
    item.iter().map(|(k, v)| attribute_size(k, v)).sum()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Number;

    #[test]
    fn scalar_sizes() {
        let mut item = Item::new();
        item.insert("ab".into(), AttributeValue::S("héllo".into()));
        assert_eq!(item_size(&item), 2 + 6);
        item.insert("c".into(), AttributeValue::Bool(true));
        item.insert("d".into(), AttributeValue::Null);
        assert_eq!(item_size(&item), 8 + 2 + 2);
    }

    #[test]
    fn documents_and_sets() {
        let list = AttributeValue::L(vec![AttributeValue::S("xy".into()), AttributeValue::Null]);
        assert_eq!(value_size(&list), 3 + (2 + 1) + (1 + 1));
        let empty = AttributeValue::M(Default::default());
        assert_eq!(value_size(&empty), 3);
        let ns = AttributeValue::Ns(vec![Number::from_i64(1), Number::from_i64(2)]);
        assert_eq!(value_size(&ns), 2 * Number::from_i64(1).size_bytes());
    }
}
