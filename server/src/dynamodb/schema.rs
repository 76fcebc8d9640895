//! Shapes shared by the table, index and backup operations: key schema
//! elements and provisioned throughput as requests carry them, with their
//! checks. Tables, indexes and backups import this module; it imports none
//! of them.

use serde::Deserialize;

use crate::error::{ApiError, Constraints};

// Structures in a request reject a JSON array, as DynamoDB does.
map_only!(KeySchemaElement, ProvisionedThroughput);

/// Largest capacity DynamoDB accepts for a table.
const CAPACITY_UNITS_MAX: i64 = 1_000_000_000_000;

#[derive(Deserialize)]
#[serde(remote = "Self", rename_all = "PascalCase")]
pub(super) struct KeySchemaElement {
    pub(super) attribute_name: Option<String>,
    pub(super) key_type: Option<String>,
}

#[derive(Deserialize)]
#[serde(remote = "Self", rename_all = "PascalCase")]
pub(super) struct ProvisionedThroughput {
    #[serde(default, deserialize_with = "super::wire::long")]
    pub(super) read_capacity_units: Option<i64>,
    #[serde(default, deserialize_with = "super::wire::long")]
    pub(super) write_capacity_units: Option<i64>,
}

/// Checks throughput values: constraint violations go into `c`; the
/// out-of-bounds check runs after constraints pass.
pub(super) fn check_throughput(c: &mut Constraints, pt: &ProvisionedThroughput, path: &str) {
    // DynamoDB lists the write units first.
    for (value, member) in [
        (pt.write_capacity_units, "writeCapacityUnits"),
        (pt.read_capacity_units, "readCapacityUnits"),
    ] {
        let p = format!("{path}.{member}");
        match value {
            None => c.null(&p),
            Some(v) if v < 1 => {
                c.violated(&v, &p, "Member must have value greater than or equal to 1")
            }
            Some(_) => {}
        }
    }
}

pub(super) fn throughput_bounds(pt: &ProvisionedThroughput) -> Result<(u64, u64), ApiError> {
    let read = pt.read_capacity_units.unwrap_or(1);
    let write = pt.write_capacity_units.unwrap_or(1);
    if read > CAPACITY_UNITS_MAX {
        return Err(ApiError::validation(format!(
            "Given value {read} for ReadCapacityUnits is out of bounds"
        )));
    }
    if write > CAPACITY_UNITS_MAX {
        return Err(ApiError::validation(format!(
            "Given value {write} for WriteCapacityUnits is out of bounds"
        )));
    }
    Ok((read as u64, write as u64))
}

/// DynamoDB renders list members as Java's `toString` of its structures.
pub(super) fn render_key_schema(ks: &[KeySchemaElement]) -> String {
    let parts: Vec<String> = ks
        .iter()
        .map(|el| {
            format!(
                "KeySchemaElement(attributeName={}, keyType={})",
                el.attribute_name.as_deref().unwrap_or("null"),
                el.key_type.as_deref().unwrap_or("null")
            )
        })
        .collect();
    format!("[{}]", parts.join(", "))
}
