//! The rest of the control plane: TagResource, UntagResource,
//! ListTagsOfResource, UpdateTimeToLive, DescribeTimeToLive,
//! DescribeLimits and DescribeEndpoints, with DynamoDB's messages
//! (`docs/research/capacity-ttl-tags.md` §3–§5).

use serde::{Deserialize, Serialize};

use super::settings::{self, TagIn};
use super::{blocking, reply};
use crate::app::App;
use crate::error::{ApiError, Constraints, ErrorCode};

/// TTL attribute name limits.
const TTL_ATTRIBUTE_CHARS_MAX: usize = 255;
/// DescribeLimits' answers (DynamoDB's defaults).
const ACCOUNT_MAX_UNITS: u64 = 80_000;
const TABLE_MAX_UNITS: u64 = 40_000;
/// How long clients may cache DescribeEndpoints' answer.
const ENDPOINT_CACHE_MINUTES: u64 = 1440;

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct TagResourceInput {
    resource_arn: Option<String>,
    tags: Option<Vec<TagIn>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct UntagResourceInput {
    resource_arn: Option<String>,
    tag_keys: Option<Vec<String>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct ListTagsInput {
    resource_arn: Option<String>,
    #[allow(dead_code)]
    next_token: Option<String>,
}

#[derive(Deserialize, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct TtlSpecification {
    #[serde(skip_serializing_if = "Option::is_none")]
    attribute_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    enabled: Option<bool>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct UpdateTtlInput {
    table_name: Option<String>,
    time_to_live_specification: Option<TtlSpecification>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct TableNameOnly {
    table_name: Option<String>,
}

/// The table an ARN names: `arn:aws:dynamodb:<region>:<account>:table/<name>`
/// of this server's region and account.
fn table_of_arn<'a>(app: &App, arn: Option<&'a str>) -> Result<&'a str, ApiError> {
    let Some(arn) = arn else {
        return Err(ApiError::validation("Invalid TableArn"));
    };
    if !arn.starts_with("arn:") {
        return Err(ApiError::validation(format!(
            "One or more parameter values were invalid: ARNs must start with 'arn:': {arn}"
        )));
    }
    let invalid = || {
        ApiError::validation(format!(
            "Invalid TableArn: Invalid ResourceArn provided as input {arn}"
        ))
    };
    let Some(rest) = app.arns.table_resource_in(arn) else {
        return Err(invalid());
    };
    if rest.contains('/') {
        return Err(ApiError::validation(format!(
            "One or more parameter values were invalid: Invalid resource arn provided, only table or stream is accepted. Provided resource arn: {arn}"
        )));
    }
    if !tarn_core::arn::is_table_name(rest) {
        return Err(invalid());
    }
    Ok(rest)
}

/// A missing table, as the tag operations word it.
fn arn_not_found(arn: &str) -> impl Fn(ApiError) -> ApiError + '_ {
    move |e| {
        if e.code == ErrorCode::ResourceNotFound {
            ApiError::new(
                ErrorCode::ResourceNotFound,
                format!("Requested resource not found: ResourceArn: {arn} not found"),
            )
        } else {
            e
        }
    }
}

pub(super) async fn tag_resource(app: &App, input: TagResourceInput) -> Result<Vec<u8>, ApiError> {
    let table = table_of_arn(app, input.resource_arn.as_deref())?.to_owned();
    let Some(tags) = input.tags else {
        let mut c = Constraints::default();
        c.null("tags");
        return Err(c.finish().unwrap_err());
    };
    let tags = settings::tags(&tags)?;
    let arn = input.resource_arn.unwrap_or_default();
    blocking(app, move |e| e.tag_table(&table, &tags))
        .await
        .map_err(arn_not_found(&arn))?;
    Ok(Vec::new())
}

pub(super) async fn untag_resource(
    app: &App,
    input: UntagResourceInput,
) -> Result<Vec<u8>, ApiError> {
    let table = table_of_arn(app, input.resource_arn.as_deref())?.to_owned();
    let Some(keys) = input.tag_keys else {
        let mut c = Constraints::default();
        c.null("tagKeys");
        return Err(c.finish().unwrap_err());
    };
    if keys.is_empty() {
        return Err(ApiError::validation(
            "Atleast one Tag Key needs to be provided as Input.",
        ));
    }
    for k in &keys {
        settings::check_not_reserved(k)?;
    }
    if keys.len() > tarn_engine::TAGS_MAX {
        return Err(ApiError::validation(
            "Number of Tags exceed the current limit for the provided ResourceArn",
        ));
    }
    let arn = input.resource_arn.unwrap_or_default();
    blocking(app, move |e| e.untag_table(&table, &keys))
        .await
        .map_err(arn_not_found(&arn))?;
    Ok(Vec::new())
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct TagOut<'a> {
    key: &'a str,
    value: &'a str,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct ListTagsReply<'a> {
    tags: Vec<TagOut<'a>>,
}

pub(super) async fn list_tags_of_resource(
    app: &App,
    input: ListTagsInput,
) -> Result<Vec<u8>, ApiError> {
    let table = table_of_arn(app, input.resource_arn.as_deref())?.to_owned();
    let arn = input.resource_arn.unwrap_or_default();
    let info = blocking(app, move |e| e.describe_table(&table))
        .await
        .map_err(arn_not_found(&arn))?;
    // At most 50 tags: always one page.
    reply(&ListTagsReply {
        tags: info
            .def
            .settings
            .tags
            .iter()
            .map(|(k, v)| TagOut { key: k, value: v })
            .collect(),
    })
}

fn table_name(name: Option<&str>) -> Result<String, ApiError> {
    let Some(name) = name else {
        return Err(ApiError::validation(
            "The parameter 'TableName' is required but was not present in the request",
        ));
    };
    if name.len() < 3 || name.len() > 255 {
        return Err(ApiError::validation(
            "TableName must be at least 3 characters long and at most 255 characters long",
        ));
    }
    let mut c = Constraints::default();
    c.table_name_pattern(name, "tableName");
    c.finish()?;
    Ok(name.to_owned())
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct UpdateTtlReply<'a> {
    time_to_live_specification: &'a TtlSpecification,
}

pub(super) async fn update_time_to_live(
    app: &App,
    input: UpdateTtlInput,
) -> Result<Vec<u8>, ApiError> {
    let name = table_name(input.table_name.as_deref())?;
    let mut c = Constraints::default();
    match &input.time_to_live_specification {
        None => c.null("timeToLiveSpecification"),
        Some(spec) => {
            if spec.enabled.is_none() {
                c.null("timeToLiveSpecification.enabled");
            }
            match &spec.attribute_name {
                None => c.null("timeToLiveSpecification.attributeName"),
                Some(a) if a.is_empty() => c.violated(
                    a,
                    "timeToLiveSpecification.attributeName",
                    "Member must have length greater than or equal to 1",
                ),
                Some(a) if a.chars().count() > TTL_ATTRIBUTE_CHARS_MAX => c.violated(
                    a,
                    "timeToLiveSpecification.attributeName",
                    &format!(
                        "Member must have length less than or equal to {TTL_ATTRIBUTE_CHARS_MAX}"
                    ),
                ),
                Some(_) => {}
            }
        }
    }
    c.finish()?;
    let spec = input
        .time_to_live_specification
        .unwrap_or(TtlSpecification {
            attribute_name: None,
            enabled: None,
        });
    let attribute = spec.attribute_name.clone().unwrap_or_default();
    let enabled = spec.enabled.unwrap_or(false);
    blocking(app, move |e| e.update_ttl(&name, &attribute, enabled)).await?;
    reply(&UpdateTtlReply {
        time_to_live_specification: &spec,
    })
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct TtlDescription<'a> {
    time_to_live_status: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    attribute_name: Option<&'a str>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct DescribeTtlReply<'a> {
    time_to_live_description: TtlDescription<'a>,
}

pub(super) async fn describe_time_to_live(
    app: &App,
    input: TableNameOnly,
) -> Result<Vec<u8>, ApiError> {
    let name = table_name(input.table_name.as_deref())?;
    let info = blocking(app, move |e| e.describe_table(&name)).await?;
    if info.def.status == tarn_engine::TableStatus::Deleting {
        return Err(ApiError::validation(
            "Cannot describe time to live while table is in DELETING state: Current table state is DELETING",
        ));
    }
    let ttl = info.def.settings.ttl.as_ref();
    reply(&DescribeTtlReply {
        time_to_live_description: TtlDescription {
            time_to_live_status: if ttl.is_some() { "ENABLED" } else { "DISABLED" },
            attribute_name: ttl.map(|t| t.attribute.as_str()),
        },
    })
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct LimitsReply {
    account_max_read_capacity_units: u64,
    account_max_write_capacity_units: u64,
    table_max_read_capacity_units: u64,
    table_max_write_capacity_units: u64,
}

pub(super) async fn describe_limits(_app: &App) -> Result<Vec<u8>, ApiError> {
    reply(&LimitsReply {
        account_max_read_capacity_units: ACCOUNT_MAX_UNITS,
        account_max_write_capacity_units: ACCOUNT_MAX_UNITS,
        table_max_read_capacity_units: TABLE_MAX_UNITS,
        table_max_write_capacity_units: TABLE_MAX_UNITS,
    })
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct EndpointOut<'a> {
    address: &'a str,
    cache_period_in_minutes: u64,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct EndpointsReply<'a> {
    endpoints: [EndpointOut<'a>; 1],
}

/// DescribeEndpoints names this server (host and port, no scheme), so a
/// client that discovers endpoints keeps talking to it.
pub(super) async fn describe_endpoints(app: &App) -> Result<Vec<u8>, ApiError> {
    reply(&EndpointsReply {
        endpoints: [EndpointOut {
            address: app.address(),
            cache_period_in_minutes: ENDPOINT_CACHE_MINUTES,
        }],
    })
}
