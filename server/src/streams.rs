//! The DynamoDB Streams protocol (`awsJson1_0`, target prefix
//! `DynamoDBStreams_20120810`): ListStreams, DescribeStream,
//! GetShardIterator and GetRecords on the same port as DynamoDB, with the
//! shapes and errors of `docs/research/streams.md`.

use serde::{Deserialize, Serialize};
use tarn_streams::{IteratorType, StreamDescription};

use crate::app::App;
use crate::dynamodb::wire::ItemRef;
use crate::dynamodb::{parse, reply};
use crate::error::{ApiError, Constraints, ErrorCode};

/// The operations DynamoDB Streams serves.
pub const OPERATIONS: &[&str] = &[
    "GetRecords",
    "GetShardIterator",
    "DescribeStream",
    "ListStreams",
];

/// Runs one Streams operation.
pub async fn dispatch(app: &App, op: &str, body: &[u8]) -> Result<Vec<u8>, ApiError> {
    match op {
        "ListStreams" => list_streams(app, parse(body)?).await,
        "DescribeStream" => describe_stream(app, parse(body)?).await,
        "GetShardIterator" => get_shard_iterator(app, parse(body)?).await,
        "GetRecords" => get_records(app, parse(body)?).await,
        _ => Err(ApiError::bare(ErrorCode::UnknownOperation)),
    }
}

impl From<tarn_streams::Error> for ApiError {
    fn from(e: tarn_streams::Error) -> Self {
        use tarn_streams::Error as E;
        match e {
            E::Validation(m) => ApiError::validation(m),
            E::ResourceNotFound(m) => ApiError::new(ErrorCode::ResourceNotFound, m),
            E::ExpiredIterator(m) => ApiError::new(ErrorCode::ExpiredIterator, m),
            E::TrimmedDataAccess(m) => ApiError::new(ErrorCode::TrimmedDataAccess, m),
            E::Engine(e) => ApiError::from(e),
            other => {
                tracing::error!(error = %other, "streams error");
                ApiError::new(ErrorCode::InternalServerError, "Internal server error")
            }
        }
    }
}

/// Runs stream work, which only reads, on the calling worker.
async fn blocking<T, F>(app: &App, f: F) -> Result<T, ApiError>
where
    F: FnOnce(&tarn_engine::Engine, &tarn_streams::Names) -> tarn_streams::Result<T>,
{
    f(&app.engine, &app.stream_names()).map_err(ApiError::from)
}

fn check_limit(c: &mut Constraints, limit: Option<i32>, max: i32) {
    if let Some(l) = limit {
        if l < 1 {
            c.violated(
                &l,
                "limit",
                "Member must have value greater than or equal to 1",
            );
        }
        if l > max {
            c.violated(
                &l,
                "limit",
                &format!("Member must have value less than or equal to {max}"),
            );
        }
    }
}

/// A string member's length constraints, `min..=max` characters;
/// `required` reports a missing one.
fn check_length(
    c: &mut Constraints,
    value: Option<&str>,
    path: &str,
    (min, max): (usize, usize),
    required: bool,
) {
    match value {
        None if required => c.null(path),
        None => {}
        Some(v) if v.len() < min => c.violated(
            &v,
            path,
            &format!("Member must have length greater than or equal to {min}"),
        ),
        Some(v) if v.len() > max => c.violated(
            &v,
            path,
            &format!("Member must have length less than or equal to {max}"),
        ),
        Some(_) => {}
    }
}

/// The required `StreamArn` of DescribeStream and GetShardIterator.
fn check_stream_arn(c: &mut Constraints, arn: Option<&str>) {
    check_length(c, arn, "streamArn", ARN_LENGTH, true);
}

/// The model's lengths of a stream ARN, a shard id and a shard iterator.
const ARN_LENGTH: (usize, usize) = (37, 1024);
const SHARD_ID_LENGTH: (usize, usize) = (28, 65);
const ITERATOR_LENGTH: (usize, usize) = (1, 2048);

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct ListStreamsInput {
    table_name: Option<String>,
    exclusive_start_stream_arn: Option<String>,
    limit: Option<i32>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct StreamOut {
    stream_arn: String,
    table_name: String,
    stream_label: String,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct ListStreamsReply {
    streams: Vec<StreamOut>,
    #[serde(skip_serializing_if = "Option::is_none")]
    last_evaluated_stream_arn: Option<String>,
}

async fn list_streams(app: &App, input: ListStreamsInput) -> Result<Vec<u8>, ApiError> {
    let mut c = Constraints::default();
    check_limit(&mut c, input.limit, 100);
    if let Some(t) = &input.table_name {
        c.table_name(t, "tableName");
    }
    check_length(
        &mut c,
        input.exclusive_start_stream_arn.as_deref(),
        "exclusiveStartStreamArn",
        ARN_LENGTH,
        false,
    );
    c.finish()?;
    let limit = input.limit.unwrap_or(100) as usize;
    let (streams, last) = blocking(app, move |e, names| {
        tarn_streams::list_streams(
            e,
            names,
            input.table_name.as_deref(),
            input.exclusive_start_stream_arn.as_deref(),
            limit,
        )
    })
    .await?;
    reply(&ListStreamsReply {
        streams: streams
            .into_iter()
            .map(|s| StreamOut {
                stream_arn: s.arn,
                table_name: s.table,
                stream_label: s.label,
            })
            .collect(),
        last_evaluated_stream_arn: last,
    })
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct DescribeStreamInput {
    stream_arn: Option<String>,
    limit: Option<i32>,
    exclusive_start_shard_id: Option<String>,
    shard_filter: Option<ShardFilterInput>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct ShardFilterInput {
    #[serde(rename = "Type")]
    kind: Option<String>,
    shard_id: Option<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct RangeOut {
    starting_sequence_number: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    ending_sequence_number: Option<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct ShardOut {
    shard_id: String,
    sequence_number_range: RangeOut,
    #[serde(skip_serializing_if = "Option::is_none")]
    parent_shard_id: Option<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct KeyOut<'a> {
    attribute_name: &'a str,
    key_type: &'static str,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct DescriptionOut<'a> {
    stream_arn: &'a str,
    stream_label: &'a str,
    stream_status: &'static str,
    stream_view_type: &'static str,
    creation_request_date_time: f64,
    table_name: &'a str,
    key_schema: Vec<KeyOut<'a>>,
    shards: Vec<ShardOut>,
    #[serde(skip_serializing_if = "Option::is_none")]
    last_evaluated_shard_id: Option<&'a str>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct DescribeStreamReply<'a> {
    stream_description: DescriptionOut<'a>,
}

fn description(d: &StreamDescription) -> DescriptionOut<'_> {
    let mut key_schema = vec![KeyOut {
        attribute_name: &d.key_schema.hash.name,
        key_type: "HASH",
    }];
    if let Some(r) = &d.key_schema.range {
        key_schema.push(KeyOut {
            attribute_name: &r.name,
            key_type: "RANGE",
        });
    }
    DescriptionOut {
        stream_arn: &d.arn,
        stream_label: &d.label,
        stream_status: d.status,
        stream_view_type: d.view_type.as_str(),
        creation_request_date_time: d.created_ms as f64 / 1000.0,
        table_name: &d.table,
        key_schema,
        shards: d
            .shards
            .iter()
            .map(|s| ShardOut {
                shard_id: s.id.clone(),
                sequence_number_range: RangeOut {
                    starting_sequence_number: s.starting_sequence_number.clone(),
                    ending_sequence_number: s.ending_sequence_number.clone(),
                },
                parent_shard_id: s.parent.clone(),
            })
            .collect(),
        last_evaluated_shard_id: d.last_evaluated_shard_id.as_deref(),
    }
}

async fn describe_stream(app: &App, input: DescribeStreamInput) -> Result<Vec<u8>, ApiError> {
    let mut c = Constraints::default();
    check_stream_arn(&mut c, input.stream_arn.as_deref());
    check_limit(&mut c, input.limit, 100);
    check_length(
        &mut c,
        input.exclusive_start_shard_id.as_deref(),
        "exclusiveStartShardId",
        SHARD_ID_LENGTH,
        false,
    );
    if let Some(f) = &input.shard_filter {
        if let Some(kind) = &f.kind {
            c.one_of(kind, "shardFilter.type", "[CHILD_SHARDS]");
        }
        check_length(
            &mut c,
            f.shard_id.as_deref(),
            "shardFilter.shardId",
            SHARD_ID_LENGTH,
            false,
        );
    }
    c.finish()?;
    // Both members of ShardFilter are optional in the model; the one
    // filter there is needs both.
    let children_of = match input.shard_filter {
        None => None,
        Some(ShardFilterInput { kind: None, .. }) => {
            return Err(ApiError::validation("Must specify Type in ShardFilter"))
        }
        Some(ShardFilterInput { shard_id: None, .. }) => {
            return Err(ApiError::validation(
                "Must specify ShardId in ShardFilter when Type is CHILD_SHARDS",
            ))
        }
        Some(ShardFilterInput {
            shard_id: Some(id), ..
        }) => Some(id),
    };
    let arn = input.stream_arn.unwrap_or_default();
    let limit = input.limit.unwrap_or(100) as usize;
    let d = blocking(app, move |e, names| {
        tarn_streams::describe_stream(
            e,
            names,
            &arn,
            limit,
            input.exclusive_start_shard_id.as_deref(),
            children_of.as_deref(),
        )
    })
    .await?;
    reply(&DescribeStreamReply {
        stream_description: description(&d),
    })
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct GetShardIteratorInput {
    stream_arn: Option<String>,
    shard_id: Option<String>,
    shard_iterator_type: Option<String>,
    sequence_number: Option<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct ShardIteratorReply {
    shard_iterator: String,
}

async fn get_shard_iterator(app: &App, input: GetShardIteratorInput) -> Result<Vec<u8>, ApiError> {
    let mut c = Constraints::default();
    check_stream_arn(&mut c, input.stream_arn.as_deref());
    check_length(
        &mut c,
        input.shard_id.as_deref(),
        "shardId",
        SHARD_ID_LENGTH,
        true,
    );
    match &input.shard_iterator_type {
        None => c.null("shardIteratorType"),
        Some(t) => c.one_of(
            t,
            "shardIteratorType",
            "[TRIM_HORIZON, LATEST, AT_SEQUENCE_NUMBER, AFTER_SEQUENCE_NUMBER]",
        ),
    }
    c.finish()?;
    let kind = match input.shard_iterator_type.as_deref() {
        Some("TRIM_HORIZON") => IteratorType::TrimHorizon,
        Some("LATEST") => IteratorType::Latest,
        Some("AT_SEQUENCE_NUMBER") => IteratorType::AtSequenceNumber,
        _ => IteratorType::AfterSequenceNumber,
    };
    let arn = input.stream_arn.unwrap_or_default();
    let shard = input.shard_id.unwrap_or_default();
    let iterator = blocking(app, move |e, names| {
        tarn_streams::get_shard_iterator(
            e,
            names,
            &arn,
            &shard,
            kind,
            input.sequence_number.as_deref(),
        )
    })
    .await?;
    reply(&ShardIteratorReply {
        shard_iterator: iterator,
    })
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct GetRecordsInput {
    shard_iterator: Option<String>,
    limit: Option<i32>,
}

#[derive(Serialize)]
struct IdentityOut {
    #[serde(rename = "PrincipalId")]
    principal_id: &'static str,
    #[serde(rename = "Type")]
    kind: &'static str,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct StreamRecordOut<'a> {
    approximate_creation_date_time: f64,
    keys: ItemRef<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    new_image: Option<ItemRef<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    old_image: Option<ItemRef<'a>>,
    sequence_number: String,
    size_bytes: usize,
    stream_view_type: &'static str,
}

#[derive(Serialize)]
struct RecordOut<'a> {
    #[serde(rename = "awsRegion")]
    aws_region: &'a str,
    dynamodb: StreamRecordOut<'a>,
    #[serde(rename = "eventID")]
    event_id: String,
    #[serde(rename = "eventName")]
    event_name: &'static str,
    #[serde(rename = "eventSource")]
    event_source: &'static str,
    #[serde(rename = "eventVersion")]
    event_version: &'static str,
    #[serde(rename = "userIdentity", skip_serializing_if = "Option::is_none")]
    user_identity: Option<IdentityOut>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct GetRecordsReply<'a> {
    records: Vec<RecordOut<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    next_shard_iterator: Option<String>,
}

async fn get_records(app: &App, input: GetRecordsInput) -> Result<Vec<u8>, ApiError> {
    let mut c = Constraints::default();
    check_length(
        &mut c,
        input.shard_iterator.as_deref(),
        "shardIterator",
        ITERATOR_LENGTH,
        true,
    );
    check_limit(&mut c, input.limit, 1000);
    c.finish()?;
    let iterator = input.shard_iterator.unwrap_or_default();
    let stream = tarn_streams::iterator_stream(&iterator).unwrap_or(0);
    let limit = input.limit.unwrap_or(1000) as usize;
    let page = blocking(app, move |e, names| {
        tarn_streams::get_records(e, names, &iterator, limit)
    })
    .await?;
    reply(&GetRecordsReply {
        records: page
            .records
            .iter()
            .map(|r| RecordOut {
                aws_region: app.region(),
                dynamodb: StreamRecordOut {
                    approximate_creation_date_time: (r.created_ms / 1000) as f64,
                    keys: ItemRef(&r.keys),
                    new_image: r.new.as_ref().map(ItemRef),
                    old_image: r.old.as_ref().map(ItemRef),
                    sequence_number: tarn_streams::sequence_number(r.seq),
                    size_bytes: r.size_bytes,
                    stream_view_type: r.view_type.as_str(),
                },
                event_id: tarn_streams::event_id(stream, r.seq),
                event_name: r.event.as_str(),
                event_source: "aws:dynamodb",
                event_version: "1.1",
                user_identity: r.by_service.then_some(IdentityOut {
                    principal_id: "dynamodb.amazonaws.com",
                    kind: "Service",
                }),
            })
            .collect(),
        next_shard_iterator: page.next_iterator,
    })
}
