//! CloudWatch Logs (`Logs_20140328`, awsJson1_1): the operations that
//! `aws logs tail --follow`, deploy scripts and Lambda's users call, over
//! the `tarn-logs` model. Errors carry bare exception names, as Logs sends
//! them. Shapes and messages: `docs/research/logs-and-iam.md`.

use std::collections::BTreeMap;

use axum::http::StatusCode;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use tarn_logs::{Error as LogsError, Pattern, Query, RETENTION_DAYS};

use crate::app::App;
use crate::protocol::failure::{Failure, Fault};
use crate::protocol::table::{Service, ServiceId};
use crate::protocol::token::{hex, unhex};
use crate::protocol::{json, Reply};

/// The operations served.
pub const OPERATIONS: &[&str] = &[
    "CreateLogGroup",
    "DeleteLogGroup",
    "DescribeLogGroups",
    "ListLogGroups",
    "CreateLogStream",
    "DeleteLogStream",
    "DescribeLogStreams",
    "PutLogEvents",
    "GetLogEvents",
    "FilterLogEvents",
    "PutRetentionPolicy",
    "DeleteRetentionPolicy",
    "TagLogGroup",
    "UntagLogGroup",
    "ListTagsLogGroup",
    "TagResource",
    "UntagResource",
    "ListTagsForResource",
];

/// Most bytes of messages one read returns (1 MB, as Logs).
const READ_BYTES_MAX: usize = 1_048_576;

fn failure(name: &'static str, message: impl Into<String>) -> Failure {
    Failure {
        name,
        json_namespace: "",
        status: StatusCode::BAD_REQUEST,
        message: Some(message.into()),
        capital_message: false,
        query_code: name,
        fault: Fault::Sender,
        framework: false,
    }
}

fn invalid(message: impl Into<String>) -> Failure {
    failure("InvalidParameterException", message)
}

fn internal() -> Failure {
    Failure::internal(&Service::of(ServiceId::Logs).errors)
}

impl From<LogsError> for Failure {
    fn from(e: LogsError) -> Failure {
        let name = match &e {
            LogsError::GroupNotFound | LogsError::StreamNotFound => "ResourceNotFoundException",
            LogsError::GroupExists | LogsError::StreamExists => "ResourceAlreadyExistsException",
            LogsError::NotChronological | LogsError::SpanTooLong => "InvalidParameterException",
            other => {
                tracing::error!(error = %other, "logs store failed");
                return internal();
            }
        };
        failure(name, e.to_string())
    }
}

/// Waits, without holding a thread, until a write is durable.
async fn durable<T: Send + 'static>(
    app: &App,
    d: Result<tarn_engine::Deferred<T>, LogsError>,
) -> Result<T, Failure> {
    match app.durable(d?).await {
        Some(Ok(v)) => Ok(v),
        Some(Err(e)) => {
            tracing::error!(error = %e, "write failed");
            Err(internal())
        }
        None => Err(internal()),
    }
}

/// Serves one operation; the reply is rendered in `reply_type`.
pub async fn dispatch(app: &App, op: &str, body: &[u8], reply_type: &'static str) -> Reply {
    let result = match op {
        "CreateLogGroup" => create_group(app, body).await,
        "DeleteLogGroup" => delete_group(app, body).await,
        "DescribeLogGroups" => describe_groups(app, body),
        "ListLogGroups" => list_groups(app, body),
        "CreateLogStream" => create_stream(app, body).await,
        "DeleteLogStream" => delete_stream(app, body).await,
        "DescribeLogStreams" => describe_streams(app, body),
        "PutLogEvents" => put_events(app, body).await,
        "GetLogEvents" => get_events(app, body),
        "FilterLogEvents" => filter_events(app, body),
        "PutRetentionPolicy" => put_retention(app, body).await,
        "DeleteRetentionPolicy" => delete_retention(app, body).await,
        "TagLogGroup" | "TagResource" => tag(app, body, op == "TagResource").await,
        "UntagLogGroup" | "UntagResource" => untag(app, body, op == "UntagResource").await,
        "ListTagsLogGroup" | "ListTagsForResource" => {
            list_tags(app, body, op == "ListTagsForResource")
        }
        _ => Err(Failure::unknown_operation(
            &Service::of(ServiceId::Logs).errors,
            crate::protocol::table::Protocol::AwsJson1_1,
            op,
            None,
        )),
    };
    match result {
        Ok(bytes) => Reply::new(StatusCode::OK, Some(reply_type), bytes),
        Err(f) => {
            tracing::debug!(op, code = f.name, reason = %f.message.as_deref().unwrap_or(""), "request failed");
            json::render(&f, false, reply_type)
        }
    }
}

fn parse<T: DeserializeOwned>(body: &[u8]) -> Result<T, Failure> {
    let body = if body.is_empty() { &b"{}"[..] } else { body };
    serde_json::from_slice(body)
        .map_err(|_| Failure::serialization(&Service::of(ServiceId::Logs).errors))
}

fn ok<T: Serialize>(v: &T) -> Result<Vec<u8>, Failure> {
    serde_json::to_vec(v).map_err(|_| internal())
}

fn empty() -> Result<Vec<u8>, Failure> {
    Ok(b"{}".to_vec())
}

fn null(member: &str) -> Failure {
    invalid(format!(
        "1 validation error detected: Value null at '{member}' failed to satisfy constraint: Member must not be null"
    ))
}

fn check_length(member: &str, value: &str, max: usize) -> Result<(), Failure> {
    if value.is_empty() {
        return Err(invalid(format!("1 validation error detected: Value '{value}' at '{member}' failed to satisfy constraint: Member must have length greater than or equal to 1")));
    }
    if value.chars().count() > max {
        return Err(invalid(format!("1 validation error detected: Value '{value}' at '{member}' failed to satisfy constraint: Member must have length less than or equal to {max}")));
    }
    Ok(())
}

/// A log group name: 1 to 512 of `[.\-_/#A-Za-z0-9]`.
fn group_name<'a>(member: &str, v: Option<&'a str>) -> Result<&'a str, Failure> {
    let v = v.ok_or_else(|| null(member))?;
    check_length(member, v, 512)?;
    if !v
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_' | b'/' | b'#'))
    {
        return Err(invalid(format!("1 validation error detected: Value '{v}' at '{member}' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\.\\-_/#A-Za-z0-9]+")));
    }
    Ok(v)
}

/// A log stream name: 1 to 512 characters, no `:` or `*`.
fn stream_name<'a>(member: &str, v: Option<&'a str>) -> Result<&'a str, Failure> {
    let v = v.ok_or_else(|| null(member))?;
    check_length(member, v, 512)?;
    if v.contains([':', '*']) {
        return Err(invalid(format!("1 validation error detected: Value '{v}' at '{member}' failed to satisfy constraint: Member must satisfy regular expression pattern: [^:*]*")));
    }
    Ok(v)
}

/// The group a request names by `logGroupName` or `logGroupIdentifier`
/// (a name or an ARN).
fn group_of<'a>(
    app: &App,
    name: Option<&'a str>,
    identifier: Option<&'a str>,
) -> Result<&'a str, Failure> {
    match (name, identifier) {
        (Some(_), Some(_)) => Err(invalid(
            "LogGroup name and LogGroup ARN are mutually exclusive parameters.",
        )),
        (None, Some(id)) if id.starts_with("arn:") => app
            .arns
            .log_group_in(id)
            .ok_or_else(|| LogsError::GroupNotFound.into()),
        (None, Some(id)) => group_name("logGroupIdentifier", Some(id)),
        (name, None) => group_name("logGroupName", name),
    }
}

fn check_limit(limit: Option<i64>, max: i64) -> Result<usize, Failure> {
    match limit {
        None => Ok(max as usize),
        Some(n) if n < 1 => Err(invalid(format!("1 validation error detected: Value '{n}' at 'limit' failed to satisfy constraint: Member must have value greater than or equal to 1"))),
        Some(n) if n > max => Err(invalid(format!("1 validation error detected: Value '{n}' at 'limit' failed to satisfy constraint: Member must have value less than or equal to {max}"))),
        Some(n) => Ok(n as usize),
    }
}

fn bad_token() -> Failure {
    invalid("The specified nextToken is invalid.")
}

fn position(token: &str) -> Result<Vec<u8>, Failure> {
    unhex(token)
        .filter(|p| p.len() == tarn_logs::POSITION_BYTES)
        .ok_or_else(bad_token)
}

fn now_ms() -> u64 {
    tarn_logs::now_ms()
}

fn clamp_time(t: Option<i64>) -> Option<u64> {
    t.map(|t| t.max(0) as u64)
}

// ---- groups ----

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct GroupRequest {
    log_group_name: Option<String>,
    tags: Option<BTreeMap<String, String>>,
    retention_in_days: Option<i64>,
    log_group_name_prefix: Option<String>,
    log_group_name_pattern: Option<String>,
    next_token: Option<String>,
    limit: Option<i64>,
    resource_arn: Option<String>,
}

fn check_tags(tags: &BTreeMap<String, String>) -> Result<(), Failure> {
    if tags.len() > 50 {
        return Err(invalid("1 validation error detected: Value at 'tags' failed to satisfy constraint: Member must have length less than or equal to 50"));
    }
    for (k, v) in tags {
        check_length("tags", k, 128)?;
        if v.chars().count() > 256 {
            return Err(invalid(format!("1 validation error detected: Value '{v}' at 'tags' failed to satisfy constraint: Member must have length less than or equal to 256")));
        }
        if k.starts_with("aws:") {
            return Err(invalid("Tags that begin with 'aws:' are reserved."));
        }
    }
    Ok(())
}

async fn create_group(app: &App, body: &[u8]) -> Result<Vec<u8>, Failure> {
    let r: GroupRequest = parse(body)?;
    let name = group_name("logGroupName", r.log_group_name.as_deref())?;
    let tags = r.tags.unwrap_or_default();
    check_tags(&tags)?;
    let logs = app.logs()?;
    durable(app, logs.create_group(name, tags, now_ms())).await?;
    empty()
}

async fn delete_group(app: &App, body: &[u8]) -> Result<Vec<u8>, Failure> {
    let r: GroupRequest = parse(body)?;
    let name = group_name("logGroupName", r.log_group_name.as_deref())?;
    durable(app, app.logs()?.delete_group(name)).await?;
    empty()
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct GroupOut {
    log_group_name: String,
    creation_time: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    retention_in_days: Option<u32>,
    metric_filter_count: u32,
    arn: String,
    stored_bytes: u64,
    log_group_class: &'static str,
    log_group_arn: String,
}

fn describe_groups(app: &App, body: &[u8]) -> Result<Vec<u8>, Failure> {
    let r: GroupRequest = parse(body)?;
    let prefix = match r.log_group_name_prefix.as_deref() {
        Some(p) => group_name("logGroupNamePrefix", Some(p))?,
        None => "",
    };
    if r.log_group_name_prefix.is_some() && r.log_group_name_pattern.is_some() {
        return Err(invalid(
            "LogGroup name prefix and LogGroup name pattern are mutually exclusive parameters.",
        ));
    }
    let limit = check_limit(r.limit, 50)?;
    let after = match r.next_token.as_deref() {
        Some(t) => Some(
            unhex(t)
                .and_then(|b| String::from_utf8(b).ok())
                .ok_or_else(bad_token)?,
        ),
        None => None,
    };
    let logs = app.logs()?;
    let (groups, more) = match r.log_group_name_pattern.as_deref() {
        None => logs.groups(prefix, after.as_deref(), limit)?,
        Some(pattern) => {
            // A case-sensitive substring: every group after the token is
            // looked at.
            let mut all = logs.groups("", after.as_deref(), usize::MAX)?.0;
            all.retain(|g| g.name.contains(pattern));
            let more = all.len() > limit;
            all.truncate(limit);
            (all, more)
        }
    };
    #[derive(Serialize)]
    #[serde(rename_all = "camelCase")]
    struct Out {
        log_groups: Vec<GroupOut>,
        #[serde(skip_serializing_if = "Option::is_none")]
        next_token: Option<String>,
    }
    let next_token = more
        .then(|| groups.last().map(|g| hex(g.name.as_bytes())))
        .flatten();
    let mut out = Vec::with_capacity(groups.len());
    for g in groups {
        let stored_bytes = logs.streams(&g.name)?.iter().map(|s| s.stored_bytes).sum();
        let arn = app.arns.log_group(&g.name);
        out.push(GroupOut {
            creation_time: g.created_ms,
            retention_in_days: g.retention_days,
            metric_filter_count: 0,
            arn: format!("{arn}:*"),
            stored_bytes,
            log_group_class: "STANDARD",
            log_group_arn: arn,
            log_group_name: g.name,
        });
    }
    ok(&Out {
        log_groups: out,
        next_token,
    })
}

/// Whether a group name matches ListLogGroups' `logGroupNamePattern`:
/// alternatives split by `|`, each a case-sensitive substring, or a
/// prefix after `^`.
fn name_matches(pattern: &str, name: &str) -> bool {
    pattern.is_empty()
        || pattern.split('|').any(|alt| match alt.strip_prefix('^') {
            Some(prefix) => name.starts_with(prefix),
            None => name.contains(alt),
        })
}

/// ListLogGroups: names matching `logGroupNamePattern`, in name order,
/// `limit` 1-1000 (default 50).
fn list_groups(app: &App, body: &[u8]) -> Result<Vec<u8>, Failure> {
    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct In {
        log_group_name_pattern: Option<String>,
        next_token: Option<String>,
        limit: Option<i64>,
    }
    let r: In = parse(body)?;
    let limit = match r.limit {
        None => 50,
        l => check_limit(l, 1000)?,
    };
    let mut after = match r.next_token.as_deref() {
        Some(t) => Some(
            unhex(t)
                .and_then(|b| String::from_utf8(b).ok())
                .ok_or_else(bad_token)?,
        ),
        None => None,
    };
    let pattern = r.log_group_name_pattern.unwrap_or_default();
    #[derive(Serialize)]
    #[serde(rename_all = "camelCase")]
    struct Listed {
        log_group_name: String,
        log_group_arn: String,
        log_group_class: &'static str,
    }
    let logs = app.logs()?;
    let mut out = Vec::new();
    let mut next_token = None;
    // Bounded: each turn reads a page past the last and stops at the end.
    loop {
        let (groups, more) = logs.groups("", after.as_deref(), 1000)?;
        after = groups.last().map(|g| g.name.clone());
        for g in groups {
            if !name_matches(&pattern, &g.name) {
                continue;
            }
            if out.len() == limit {
                next_token = out
                    .last()
                    .map(|l: &Listed| hex(l.log_group_name.as_bytes()));
                break;
            }
            out.push(Listed {
                log_group_arn: app.arns.log_group(&g.name),
                log_group_name: g.name,
                log_group_class: "STANDARD",
            });
        }
        if next_token.is_some() || !more {
            break;
        }
    }
    #[derive(Serialize)]
    #[serde(rename_all = "camelCase")]
    struct Out {
        log_groups: Vec<Listed>,
        #[serde(skip_serializing_if = "Option::is_none")]
        next_token: Option<String>,
    }
    ok(&Out {
        log_groups: out,
        next_token,
    })
}

async fn put_retention(app: &App, body: &[u8]) -> Result<Vec<u8>, Failure> {
    let r: GroupRequest = parse(body)?;
    let name = group_name("logGroupName", r.log_group_name.as_deref())?;
    let days = r.retention_in_days.ok_or_else(|| null("retentionInDays"))?;
    let allowed = u32::try_from(days)
        .ok()
        .filter(|d| RETENTION_DAYS.contains(d));
    let Some(days) = allowed else {
        let set: Vec<String> = RETENTION_DAYS.iter().map(u32::to_string).collect();
        return Err(invalid(format!("1 validation error detected: Value '{days}' at 'retentionInDays' failed to satisfy constraint: Member must satisfy enum value set: [{}]", set.join(", "))));
    };
    durable(app, app.logs()?.set_retention(name, Some(days))).await?;
    empty()
}

async fn delete_retention(app: &App, body: &[u8]) -> Result<Vec<u8>, Failure> {
    let r: GroupRequest = parse(body)?;
    let name = group_name("logGroupName", r.log_group_name.as_deref())?;
    durable(app, app.logs()?.set_retention(name, None)).await?;
    empty()
}

/// The group a tagging request names: `resourceArn` (TagResource and
/// friends) or `logGroupName`.
fn tagged_group(app: &App, r: &GroupRequest, by_arn: bool) -> Result<String, Failure> {
    if by_arn {
        let arn = r
            .resource_arn
            .as_deref()
            .ok_or_else(|| null("resourceArn"))?;
        return app
            .arns
            .log_group_in(arn)
            .map(str::to_owned)
            .ok_or_else(|| LogsError::GroupNotFound.into());
    }
    group_name("logGroupName", r.log_group_name.as_deref()).map(str::to_owned)
}

async fn tag(app: &App, body: &[u8], by_arn: bool) -> Result<Vec<u8>, Failure> {
    let r: GroupRequest = parse(body)?;
    let group = tagged_group(app, &r, by_arn)?;
    let tags = r.tags.clone().ok_or_else(|| null("tags"))?;
    check_tags(&tags)?;
    durable(app, app.logs()?.tag(&group, &tags)).await?;
    empty()
}

async fn untag(app: &App, body: &[u8], by_arn: bool) -> Result<Vec<u8>, Failure> {
    // UntagLogGroup names the keys `tags`, UntagResource `tagKeys`.
    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Untag {
        log_group_name: Option<String>,
        resource_arn: Option<String>,
        tags: Option<Vec<String>>,
        tag_keys: Option<Vec<String>>,
    }
    let u: Untag = parse(body)?;
    let r = GroupRequest {
        log_group_name: u.log_group_name,
        resource_arn: u.resource_arn,
        ..GroupRequest::default()
    };
    let group = tagged_group(app, &r, by_arn)?;
    let keys = if by_arn { u.tag_keys } else { u.tags };
    let keys = keys.ok_or_else(|| null(if by_arn { "tagKeys" } else { "tags" }))?;
    durable(app, app.logs()?.untag(&group, &keys)).await?;
    empty()
}

fn list_tags(app: &App, body: &[u8], by_arn: bool) -> Result<Vec<u8>, Failure> {
    let r: GroupRequest = parse(body)?;
    let group = tagged_group(app, &r, by_arn)?;
    let g = app.logs()?.group(&group)?;
    #[derive(Serialize)]
    struct Out {
        tags: BTreeMap<String, String>,
    }
    ok(&Out { tags: g.tags })
}

// ---- streams ----

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct StreamRequest {
    log_group_name: Option<String>,
    log_group_identifier: Option<String>,
    log_stream_name: Option<String>,
    log_stream_name_prefix: Option<String>,
    order_by: Option<String>,
    descending: Option<bool>,
    next_token: Option<String>,
    limit: Option<i64>,
}

async fn create_stream(app: &App, body: &[u8]) -> Result<Vec<u8>, Failure> {
    let r: StreamRequest = parse(body)?;
    let group = group_name("logGroupName", r.log_group_name.as_deref())?;
    let stream = stream_name("logStreamName", r.log_stream_name.as_deref())?;
    durable(app, app.logs()?.create_stream(group, stream, now_ms())).await?;
    empty()
}

async fn delete_stream(app: &App, body: &[u8]) -> Result<Vec<u8>, Failure> {
    let r: StreamRequest = parse(body)?;
    let group = group_name("logGroupName", r.log_group_name.as_deref())?;
    let stream = stream_name("logStreamName", r.log_stream_name.as_deref())?;
    durable(app, app.logs()?.delete_stream(group, stream)).await?;
    empty()
}

fn describe_streams(app: &App, body: &[u8]) -> Result<Vec<u8>, Failure> {
    let r: StreamRequest = parse(body)?;
    let group = group_of(
        app,
        r.log_group_name.as_deref(),
        r.log_group_identifier.as_deref(),
    )?;
    let by_time = match r.order_by.as_deref() {
        None | Some("LogStreamName") => false,
        Some("LastEventTime") => true,
        Some(other) => return Err(invalid(format!("1 validation error detected: Value '{other}' at 'orderBy' failed to satisfy constraint: Member must satisfy enum value set: [LogStreamName, LastEventTime]"))),
    };
    let prefix = match r.log_stream_name_prefix.as_deref() {
        Some(p) => Some(stream_name("logStreamNamePrefix", Some(p))?),
        None => None,
    };
    if by_time && prefix.is_some() {
        return Err(invalid(
            "Cannot order by LastEventTime with a logStreamNamePrefix.",
        ));
    }
    let limit = check_limit(r.limit, 50)?;
    let offset = match r.next_token.as_deref() {
        Some(t) => t
            .strip_prefix("o/")
            .and_then(|n| n.parse::<usize>().ok())
            .ok_or_else(bad_token)?,
        None => 0,
    };
    let mut streams = app.logs()?.streams(group)?;
    if let Some(p) = prefix {
        streams.retain(|s| s.name.starts_with(p));
    }
    if by_time {
        streams.sort_by_key(|s| s.last_event_ms.unwrap_or(0));
    }
    if r.descending == Some(true) {
        streams.reverse();
    }
    let total = streams.len();
    #[derive(Serialize)]
    #[serde(rename_all = "camelCase")]
    struct StreamOut {
        log_stream_name: String,
        creation_time: u64,
        #[serde(skip_serializing_if = "Option::is_none")]
        first_event_timestamp: Option<u64>,
        #[serde(skip_serializing_if = "Option::is_none")]
        last_event_timestamp: Option<u64>,
        #[serde(skip_serializing_if = "Option::is_none")]
        last_ingestion_time: Option<u64>,
        upload_sequence_token: String,
        arn: String,
        stored_bytes: u64,
    }
    #[derive(Serialize)]
    #[serde(rename_all = "camelCase")]
    struct Out {
        log_streams: Vec<StreamOut>,
        #[serde(skip_serializing_if = "Option::is_none")]
        next_token: Option<String>,
    }
    let page: Vec<StreamOut> = streams
        .into_iter()
        .skip(offset)
        .take(limit)
        .map(|s| StreamOut {
            arn: app.arns.log_stream(group, &s.name),
            creation_time: s.created_ms,
            first_event_timestamp: s.first_event_ms,
            last_event_timestamp: s.last_event_ms,
            last_ingestion_time: s.last_ingestion_ms,
            upload_sequence_token: "1".to_owned(),
            stored_bytes: 0,
            log_stream_name: s.name,
        })
        .collect();
    let end = offset + page.len();
    ok(&Out {
        log_streams: page,
        next_token: (end < total).then(|| format!("o/{end}")),
    })
}

// ---- events ----

#[derive(Deserialize)]
struct InputEvent {
    timestamp: Option<i64>,
    message: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct PutRequest {
    log_group_name: Option<String>,
    log_stream_name: Option<String>,
    log_events: Option<Vec<InputEvent>>,
    #[allow(dead_code)]
    sequence_token: Option<String>,
}

async fn put_events(app: &App, body: &[u8]) -> Result<Vec<u8>, Failure> {
    let r: PutRequest = parse(body)?;
    let group = group_name("logGroupName", r.log_group_name.as_deref())?;
    let stream = stream_name("logStreamName", r.log_stream_name.as_deref())?;
    let events = r.log_events.ok_or_else(|| null("logEvents"))?;
    if events.is_empty() {
        return Err(invalid("1 validation error detected: Value '[]' at 'logEvents' failed to satisfy constraint: Member must have length greater than or equal to 1"));
    }
    if events.len() > tarn_logs::PUT_EVENTS_MAX {
        return Err(invalid(format!("1 validation error detected: Value at 'logEvents' failed to satisfy constraint: Member must have length less than or equal to {}", tarn_logs::PUT_EVENTS_MAX)));
    }
    let mut batch = Vec::with_capacity(events.len());
    let mut size = 0usize;
    for (i, e) in events.into_iter().enumerate() {
        let ts = e
            .timestamp
            .ok_or_else(|| null(&format!("logEvents.{}.member.timestamp", i + 1)))?;
        let msg = e
            .message
            .ok_or_else(|| null(&format!("logEvents.{}.member.message", i + 1)))?;
        if msg.is_empty() {
            return Err(invalid(format!("1 validation error detected: Value '' at 'logEvents.{}.member.message' failed to satisfy constraint: Member must have length greater than or equal to 1", i + 1)));
        }
        if msg.len() > tarn_logs::MESSAGE_BYTES_MAX {
            return Err(invalid(format!(
                "Log event too large: {} bytes exceeds limit of {}",
                msg.len(),
                tarn_logs::MESSAGE_BYTES_MAX
            )));
        }
        size += msg.len() + 26;
        batch.push((ts, msg));
    }
    if size > tarn_logs::PUT_BYTES_MAX {
        return Err(invalid(format!(
            "Upload too large: {size} bytes exceeds limit of {}",
            tarn_logs::PUT_BYTES_MAX
        )));
    }
    let rejected = durable(app, app.logs()?.put(group, stream, &batch, now_ms())).await?;
    #[derive(Serialize)]
    #[serde(rename_all = "camelCase")]
    struct RejectedOut {
        #[serde(skip_serializing_if = "Option::is_none")]
        too_new_log_event_start_index: Option<usize>,
        #[serde(skip_serializing_if = "Option::is_none")]
        too_old_log_event_end_index: Option<usize>,
        #[serde(skip_serializing_if = "Option::is_none")]
        expired_log_event_end_index: Option<usize>,
    }
    #[derive(Serialize)]
    #[serde(rename_all = "camelCase")]
    struct Out {
        next_sequence_token: String,
        #[serde(skip_serializing_if = "Option::is_none")]
        rejected_log_events_info: Option<RejectedOut>,
    }
    ok(&Out {
        next_sequence_token: format!("{:056}", now_ms()),
        rejected_log_events_info: rejected.any().then_some(RejectedOut {
            too_new_log_event_start_index: rejected.too_new_start,
            too_old_log_event_end_index: rejected.too_old_end,
            expired_log_event_end_index: rejected.expired_end,
        }),
    })
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ReadRequest {
    log_group_name: Option<String>,
    log_group_identifier: Option<String>,
    log_stream_name: Option<String>,
    log_stream_names: Option<Vec<String>>,
    log_stream_name_prefix: Option<String>,
    start_time: Option<i64>,
    end_time: Option<i64>,
    next_token: Option<String>,
    limit: Option<i64>,
    start_from_head: Option<bool>,
    filter_pattern: Option<String>,
    #[allow(dead_code)]
    interleaved: Option<bool>,
}

/// GetLogEvents. A token is a position between events: `f/<pos>` reads
/// the events after it, `b/<pos>` those before it. Reading past either
/// end returns the token it was given, which is how callers know they
/// are done.
fn get_events(app: &App, body: &[u8]) -> Result<Vec<u8>, Failure> {
    let r: ReadRequest = parse(body)?;
    let group = group_of(
        app,
        r.log_group_name.as_deref(),
        r.log_group_identifier.as_deref(),
    )?;
    let stream = stream_name("logStreamName", r.log_stream_name.as_deref())?;
    let limit = check_limit(r.limit, 10_000)?;
    let (reverse, from) = match r.next_token.as_deref() {
        Some(t) => match t.split_once('/') {
            Some(("f", p)) => (false, Some(position(p)?)),
            Some(("b", p)) => (true, Some(position(p)?)),
            _ => return Err(bad_token()),
        },
        None => (r.start_from_head != Some(true), None),
    };
    let logs = app.logs()?;
    if !logs.streams(group)?.iter().any(|s| s.name == stream) {
        return Err(LogsError::StreamNotFound.into());
    }
    let page = logs.read(
        group,
        &Query {
            streams: Some(vec![stream.to_owned()]),
            start_ms: clamp_time(r.start_time),
            end_ms: clamp_time(r.end_time),
            from: from.clone(),
            reverse,
            limit,
            bytes_max: READ_BYTES_MAX,
            now_ms: now_ms(),
            ..Query::default()
        },
    )?;
    let mut events = page.events;
    if reverse {
        events.reverse();
    }
    let zero = vec![0u8; tarn_logs::POSITION_BYTES];
    let (forward, backward) = match (events.first(), events.last()) {
        (Some(first), Some(last)) => (last.position.clone(), first.position.clone()),
        _ => {
            let at = from.unwrap_or(zero);
            (at.clone(), at)
        }
    };
    #[derive(Serialize)]
    #[serde(rename_all = "camelCase")]
    struct EventOut {
        timestamp: u64,
        message: String,
        ingestion_time: u64,
    }
    #[derive(Serialize)]
    #[serde(rename_all = "camelCase")]
    struct Out {
        events: Vec<EventOut>,
        next_forward_token: String,
        next_backward_token: String,
    }
    ok(&Out {
        events: events
            .into_iter()
            .map(|e| EventOut {
                timestamp: e.timestamp_ms,
                message: e.message,
                ingestion_time: e.ingestion_ms,
            })
            .collect(),
        next_forward_token: format!("f/{}", hex(&forward)),
        next_backward_token: format!("b/{}", hex(&backward)),
    })
}

/// FilterLogEvents: a group's events in time order across its streams.
/// `nextToken` only while more may match, so that `aws logs tail
/// --follow` (which loops at once while there is a token) sleeps between
/// polls.
fn filter_events(app: &App, body: &[u8]) -> Result<Vec<u8>, Failure> {
    let r: ReadRequest = parse(body)?;
    let group = group_of(
        app,
        r.log_group_name.as_deref(),
        r.log_group_identifier.as_deref(),
    )?;
    if r.log_stream_names.is_some() && r.log_stream_name_prefix.is_some() {
        return Err(invalid(
            "Cannot specify both logStreamNames and logStreamNamePrefix.",
        ));
    }
    if let Some(names) = &r.log_stream_names {
        if names.is_empty() || names.len() > 100 {
            return Err(invalid(format!("1 validation error detected: Value '[{}]' at 'logStreamNames' failed to satisfy constraint: Member must have length between 1 and 100", names.join(", "))));
        }
    }
    let limit = check_limit(r.limit, 10_000)?;
    let pattern = match r.filter_pattern.as_deref() {
        Some(p) => Some(Pattern::parse(p).map_err(|_| invalid("Invalid filter pattern"))?),
        None => None,
    };
    let from = match r.next_token.as_deref() {
        Some(t) => Some(position(t)?),
        None => None,
    };
    let page = app.logs()?.read(
        group,
        &Query {
            streams: r.log_stream_names,
            stream_prefix: r.log_stream_name_prefix,
            start_ms: clamp_time(r.start_time),
            end_ms: clamp_time(r.end_time),
            from,
            reverse: false,
            limit,
            bytes_max: READ_BYTES_MAX,
            pattern,
            now_ms: now_ms(),
        },
    )?;
    #[derive(Serialize)]
    #[serde(rename_all = "camelCase")]
    struct EventOut {
        log_stream_name: String,
        timestamp: u64,
        message: String,
        ingestion_time: u64,
        event_id: String,
    }
    #[derive(Serialize)]
    #[serde(rename_all = "camelCase")]
    struct Searched {
        log_stream_name: String,
        searched_completely: bool,
    }
    #[derive(Serialize)]
    #[serde(rename_all = "camelCase")]
    struct Out {
        events: Vec<EventOut>,
        searched_log_streams: Vec<Searched>,
        #[serde(skip_serializing_if = "Option::is_none")]
        next_token: Option<String>,
    }
    let complete = page.more.is_none();
    ok(&Out {
        events: page
            .events
            .into_iter()
            .map(|e| EventOut {
                log_stream_name: e.stream,
                timestamp: e.timestamp_ms,
                message: e.message,
                ingestion_time: e.ingestion_ms,
                event_id: e.event_id,
            })
            .collect(),
        searched_log_streams: page
            .searched
            .into_iter()
            .map(|s| Searched {
                log_stream_name: s,
                searched_completely: complete,
            })
            .collect(),
        next_token: page.more.map(|p| hex(&p)),
    })
}
