//! Table settings on the wire: tags, table class, server-side encryption,
//! on-demand maxima and deletion protection, as CreateTable and UpdateTable
//! take them and DescribeTable reports them, with DynamoDB's validation
//! (`docs/research/capacity-ttl-tags.md` §4, §5).

use serde::{Deserialize, Serialize};
use tarn_engine::{TableClass, TableSettings, TAGS_MAX};

use crate::app::App;
use crate::error::{ApiError, Constraints};

// Structures in a request reject a JSON array, as DynamoDB does.
map_only!(TagIn, SseSpecificationIn, OnDemandThroughputIn);

const INVALID: &str = "One or more parameter values were invalid:";

/// Tag key and value limits, in characters.
const TAG_KEY_CHARS_MAX: usize = 128;
const TAG_VALUE_CHARS_MAX: usize = 256;

#[derive(Deserialize)]
#[serde(remote = "Self", rename_all = "PascalCase")]
pub(super) struct TagIn {
    pub(super) key: Option<String>,
    pub(super) value: Option<String>,
}

#[derive(Deserialize)]
#[serde(remote = "Self", rename_all = "PascalCase")]
pub(super) struct SseSpecificationIn {
    enabled: Option<bool>,
    #[serde(rename = "SSEType")]
    sse_type: Option<String>,
    #[serde(rename = "KMSMasterKeyId")]
    kms_master_key_id: Option<String>,
}

#[derive(Deserialize)]
#[serde(remote = "Self", rename_all = "PascalCase")]
pub(super) struct OnDemandThroughputIn {
    #[serde(default, deserialize_with = "super::wire::long")]
    max_read_request_units: Option<i64>,
    #[serde(default, deserialize_with = "super::wire::long")]
    max_write_request_units: Option<i64>,
}

/// The characters DynamoDB allows in tag keys and values: letters, digits
/// and white space of any script, and `+ - = . _ : / @`.
fn tag_chars_ok(s: &str) -> bool {
    s.chars()
        .all(|c| c.is_alphanumeric() || c.is_whitespace() || "+-=._:/@".contains(c))
}

/// Validates tags as TagResource and CreateTable take them.
pub(super) fn tags(input: &[TagIn]) -> Result<Vec<(String, String)>, ApiError> {
    if input.is_empty() {
        return Err(ApiError::validation(
            "Atleast one Tag needs to be provided as Input.",
        ));
    }
    let mut out: Vec<(String, String)> = Vec::with_capacity(input.len());
    for t in input {
        let key = t.key.as_deref();
        let Some(key) = key
            .filter(|k| !k.is_empty() && k.chars().count() <= TAG_KEY_CHARS_MAX && tag_chars_ok(k))
        else {
            return Err(ApiError::validation(format!(
                "The Tag Key provided is invalid, Key: {}",
                key.unwrap_or("null")
            )));
        };
        let value = t.value.as_deref();
        let Some(value) =
            value.filter(|v| v.chars().count() <= TAG_VALUE_CHARS_MAX && tag_chars_ok(v))
        else {
            return Err(ApiError::validation(format!(
                "The Tag Value provided is invalid, Value: {}",
                value.unwrap_or("null")
            )));
        };
        check_not_reserved(key)?;
        if out.iter().any(|(k, _)| k == key) {
            return Err(ApiError::validation(format!(
                "Duplicate Tag Keys provided as input: Duplicate Tag Key found {key}"
            )));
        }
        out.push((key.to_owned(), value.to_owned()));
    }
    if out.len() > TAGS_MAX {
        return Err(ApiError::validation(
            "Number of Tags exceed the current limit for the provided ResourceArn",
        ));
    }
    Ok(out)
}

/// Keys with the `aws:` prefix belong to AWS.
pub(super) fn check_not_reserved(key: &str) -> Result<(), ApiError> {
    if key.get(..4).is_some_and(|p| p.eq_ignore_ascii_case("aws:")) {
        return Err(ApiError::validation(format!(
            "Tag Key cannot be prefixed with aws:, Key: {key}"
        )));
    }
    Ok(())
}

/// A TableClass member.
pub(super) fn table_class(value: &str) -> Result<TableClass, ApiError> {
    match value {
        "STANDARD" => Ok(TableClass::Standard),
        "STANDARD_INFREQUENT_ACCESS" => Ok(TableClass::StandardInfrequentAccess),
        _ => Err(ApiError::validation(
            "Invalid table-class parameter provided. Please try again with a valid table-class value: [STANDARD, STANDARD_INFREQUENT_ACCESS].",
        )),
    }
}

/// The shape constraints of an SSESpecification.
pub(super) fn sse_constraints(c: &mut Constraints, sse: &SseSpecificationIn, path: &str) {
    if let Some(t) = &sse.sse_type {
        c.one_of(t, &format!("{path}.sSEType"), "[AES256, KMS]");
    }
}

/// What an SSESpecification asks for: `None` for the default (AWS owned)
/// key, `Some(arn)` for a KMS key. Without a KMSMasterKeyId the
/// account's DynamoDB-managed key is used, with a stable made-up id.
pub(super) fn sse_key(app: &App, sse: &SseSpecificationIn) -> Result<Option<String>, ApiError> {
    if sse.enabled != Some(true) {
        if sse.sse_type.is_some() {
            return Err(ApiError::validation(format!(
                "{INVALID} SSEType can not be specified if Enabled is false"
            )));
        }
        if sse.kms_master_key_id.is_some() {
            return Err(ApiError::validation(format!(
                "{INVALID} KMSMasterKeyId can not be specified if Enabled is false"
            )));
        }
        return Ok(None);
    }
    if sse.sse_type.as_deref() == Some("AES256") {
        return Err(ApiError::validation(format!(
            "{INVALID} SSEType AES256 is not supported"
        )));
    }
    let key = match sse.kms_master_key_id.as_deref() {
        Some(id) if id.starts_with("arn:") => id.to_owned(),
        Some(id) => app.arns.kms_key(id),
        None => {
            let h = blake3::hash(format!("dynamodb-managed-key:{}", app.account_id()).as_bytes());
            let mut b = [0; 16];
            b.copy_from_slice(&h.as_bytes()[..16]);
            app.arns.kms_key(&tarn_core::id::hyphenated(&b))
        }
    };
    Ok(Some(key))
}

/// An OnDemandThroughput member: each maximum is -1 (none) or positive.
pub(super) fn on_demand(
    od: &OnDemandThroughputIn,
    provisioned: bool,
) -> Result<(Option<i64>, Option<i64>), ApiError> {
    for (v, member) in [
        (od.max_read_request_units, "MaxReadRequestUnits"),
        (od.max_write_request_units, "MaxWriteRequestUnits"),
    ] {
        let Some(v) = v else { continue };
        if provisioned {
            return Err(ApiError::validation(format!(
                "{INVALID} {member} for OnDemandThroughput cannot be specified when the table BillingMode is PROVISIONED"
            )));
        }
        if v != -1 && v < 1 {
            return Err(ApiError::validation(format!(
                "{INVALID} Requested {member} for OnDemandThroughput for table is outside of valid range"
            )));
        }
    }
    Ok((od.max_read_request_units, od.max_write_request_units))
}

// ---- DescribeTable ----

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct TableClassSummaryOut {
    table_class: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    last_update_date_time: Option<f64>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct SseDescriptionOut<'a> {
    status: &'static str,
    #[serde(rename = "SSEType")]
    sse_type: &'static str,
    #[serde(rename = "KMSMasterKeyArn")]
    kms_master_key_arn: &'a str,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct OnDemandThroughputOut {
    #[serde(skip_serializing_if = "Option::is_none")]
    max_read_request_units: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    max_write_request_units: Option<i64>,
}

/// The settings members of a TableDescription.
pub(super) struct Described<'a> {
    pub table_class_summary: Option<TableClassSummaryOut>,
    pub sse_description: Option<SseDescriptionOut<'a>>,
    pub on_demand_throughput: Option<OnDemandThroughputOut>,
}

pub(super) fn describe(settings: &TableSettings) -> Described<'_> {
    let set = |v: i64| (v != -1).then_some(v);
    Described {
        table_class_summary: settings
            .table_class
            .map(|(class, ms)| TableClassSummaryOut {
                table_class: class.as_str(),
                last_update_date_time: (ms != 0).then(|| ms as f64 / 1000.0),
            }),
        sse_description: settings
            .sse_kms_key
            .as_deref()
            .map(|key| SseDescriptionOut {
                status: "ENABLED",
                sse_type: "KMS",
                kms_master_key_arn: key,
            }),
        on_demand_throughput: settings.on_demand.map(|(r, w)| OnDemandThroughputOut {
            max_read_request_units: set(r),
            max_write_request_units: set(w),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tag(k: &str, v: &str) -> TagIn {
        TagIn {
            key: Some(k.into()),
            value: Some(v.into()),
        }
    }

    #[test]
    fn tags_follow_dynamodb_limits() {
        assert!(tags(&[tag("team", "a+b-c=d.e_f:g/h@i"), tag("ключ", "")]).is_ok());
        let message = |r: Result<Vec<(String, String)>, ApiError>| r.unwrap_err().message.unwrap();
        assert_eq!(
            message(tags(&[tag("a#b", "x")])),
            "The Tag Key provided is invalid, Key: a#b"
        );
        assert_eq!(
            message(tags(&[tag(&"k".repeat(129), "x")])),
            format!("The Tag Key provided is invalid, Key: {}", "k".repeat(129))
        );
        assert!(tags(&[tag(&"k".repeat(128), &"v".repeat(256))]).is_ok());
        assert_eq!(
            message(tags(&[tag("k", &"v".repeat(257))])),
            format!(
                "The Tag Value provided is invalid, Value: {}",
                "v".repeat(257)
            )
        );
        assert_eq!(
            message(tags(&[tag("AWS:x", "v")])),
            "Tag Key cannot be prefixed with aws:, Key: AWS:x"
        );
        assert_eq!(
            message(tags(&[tag("k", "1"), tag("k", "2")])),
            "Duplicate Tag Keys provided as input: Duplicate Tag Key found k"
        );
        let many: Vec<TagIn> = (0..51).map(|i| tag(&format!("k{i}"), "v")).collect();
        assert_eq!(
            message(tags(&many)),
            "Number of Tags exceed the current limit for the provided ResourceArn"
        );
        assert_eq!(
            message(tags(&[])),
            "Atleast one Tag needs to be provided as Input."
        );
    }
}
