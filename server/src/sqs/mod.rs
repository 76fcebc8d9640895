//! SQS on the wire: the JSON protocol (`AmazonSQS.*`, awsJson1_0, errors
//! with `x-amzn-query-error`) and the query protocol (form posts to `/` or
//! to a queue URL, XML replies and `ErrorResponse`s). Both read into the
//! same request types (query forms through [`form`]) and answer from the
//! same reply types (XML through [`xml`]); the model is `tarn_sqs`.
//!
//! Queue URLs are `http://<host>/<account>/<name>`, `<host>` the request's
//! `Host` (as local SQS servers answer) or the listening address.

mod form;
mod xml;

use std::collections::{BTreeMap, HashSet};

use axum::http::StatusCode;
use base64::Engine as _;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use tarn_sqs::{AttrValue, MessageAttribute, ReceiveRequest, SendMessage, SqsError};

use crate::app::App;
use crate::protocol::failure::{Failure, Fault};
use crate::protocol::reply::{Reply, JSON_1_0};
use crate::protocol::table::{Service, ServiceId};

/// The operations SQS serves.
pub const OPERATIONS: &[&str] = &[
    "CreateQueue",
    "GetQueueUrl",
    "ListQueues",
    "DeleteQueue",
    "GetQueueAttributes",
    "SetQueueAttributes",
    "PurgeQueue",
    "SendMessage",
    "SendMessageBatch",
    "ReceiveMessage",
    "DeleteMessage",
    "DeleteMessageBatch",
    "ChangeMessageVisibility",
    "ChangeMessageVisibilityBatch",
    "TagQueue",
    "UntagQueue",
    "ListQueueTags",
    "ListDeadLetterSourceQueues",
    "StartMessageMoveTask",
    "ListMessageMoveTasks",
    "CancelMessageMoveTask",
];

/// The awsJson `__type` namespace of SQS's own errors.
const JSON_NAMESPACE: &str = "com.amazonaws.sqs#";

/// Which protocol a request came in, and what its reply needs.
pub struct Request<'a> {
    /// The parameters, in the JSON protocol's shape.
    pub params: Value,
    /// `Host`, for queue URLs.
    pub host: Option<&'a str>,
    /// The query protocol's request id (XML replies carry it).
    pub query: Option<&'a str>,
    /// A query post's queue URL path (`/<account>/<name>`).
    pub path_queue: Option<&'a str>,
}

/// The failure of an SQS error.
pub fn failure(e: &SqsError) -> Failure {
    let n = e.names();
    Failure {
        name: n.shape,
        json_namespace: JSON_NAMESPACE,
        status: StatusCode::from_u16(n.status).unwrap_or(StatusCode::BAD_REQUEST),
        message: Some(e.message()),
        capital_message: false,
        query_code: n.query_code,
        fault: if n.receiver {
            Fault::Receiver
        } else {
            Fault::Sender
        },
        framework: false,
    }
}

/// Renders an error in the request's protocol.
fn render_error(e: &SqsError, query: Option<&str>) -> Reply {
    let sqs = Service::of(ServiceId::Sqs);
    let f = failure(e);
    match query {
        Some(id) => crate::protocol::query::render(&f, &sqs.errors, id),
        None => crate::protocol::json::render(&f, true, JSON_1_0),
    }
}

/// Reads a query form into the JSON shape.
pub fn form_params(body: &[u8]) -> Value {
    let pairs: Vec<(String, String)> = form_urlencoded::parse(body)
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    form::to_json(&pairs)
}

/// Serves one SQS request; the reply is in the request's protocol.
pub async fn dispatch(app: &App, op: &str, req: Request<'_>) -> Reply {
    let query = req.query;
    match run(app, op, &req).await {
        Ok(v) => match query {
            Some(id) => xml::reply(op, &v, id),
            None => Reply::new(
                StatusCode::OK,
                Some(JSON_1_0),
                serde_json::to_vec(&v).unwrap_or_default(),
            ),
        },
        Err(e) => {
            tracing::debug!(op, code = e.names().query_code, reason = %e.message(), "sqs request failed");
            render_error(&e, query)
        }
    }
}

type Result<T> = std::result::Result<T, SqsError>;

fn parse<T: DeserializeOwned>(v: &Value) -> Result<T> {
    T::deserialize(v).map_err(|e| {
        SqsError::InvalidParameterValue(format!("The request has an invalid parameter: {e}"))
    })
}

fn json<T: Serialize>(v: T) -> Result<Value> {
    serde_json::to_value(v).map_err(|e| SqsError::Internal(e.to_string()))
}

fn required<'a, T>(v: &'a Option<T>, name: &str) -> Result<&'a T> {
    v.as_ref()
        .ok_or_else(|| SqsError::MissingParameter(name.to_owned()))
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "PascalCase", default)]
struct Params {
    queue_url: Option<String>,
    queue_name: Option<String>,
    queue_name_prefix: Option<String>,
    #[serde(rename = "QueueOwnerAWSAccountId")]
    queue_owner_aws_account_id: Option<String>,
    next_token: Option<String>,
    max_results: Option<i64>,
    attributes: Option<BTreeMap<String, String>>,
    attribute_names: Option<Vec<String>>,
    message_system_attribute_names: Option<Vec<String>>,
    message_attribute_names: Option<Vec<String>>,
    tags: Option<BTreeMap<String, String>>,
    #[serde(rename = "tags")]
    lower_tags: Option<BTreeMap<String, String>>,
    tag_keys: Option<Vec<String>>,
    max_number_of_messages: Option<i64>,
    visibility_timeout: Option<i64>,
    wait_time_seconds: Option<i64>,
    receive_request_attempt_id: Option<String>,
    receipt_handle: Option<String>,
    source_arn: Option<String>,
    destination_arn: Option<String>,
    max_number_of_messages_per_second: Option<i64>,
    task_handle: Option<String>,
    entries: Option<Vec<Value>>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "PascalCase", default)]
struct SendParams {
    id: Option<String>,
    message_body: Option<String>,
    delay_seconds: Option<i64>,
    message_attributes: Option<Value>,
    message_system_attributes: Option<BTreeMap<String, AttrParam>>,
    message_deduplication_id: Option<String>,
    message_group_id: Option<String>,
    receipt_handle: Option<String>,
    visibility_timeout: Option<i64>,
}

#[derive(Deserialize, Serialize, Default, Clone)]
#[serde(rename_all = "PascalCase", default)]
struct AttrParam {
    #[serde(skip_serializing_if = "Option::is_none")]
    data_type: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    string_value: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    binary_value: Option<String>,
}

fn from_attributes(m: &BTreeMap<String, MessageAttribute>) -> BTreeMap<String, AttrParam> {
    m.iter()
        .map(|(k, a)| {
            let (string_value, binary_value) = match &a.value {
                AttrValue::String(s) => (Some(s.clone()), None),
                AttrValue::Binary(b) => (
                    None,
                    Some(base64::engine::general_purpose::STANDARD.encode(b)),
                ),
            };
            (
                k.clone(),
                AttrParam {
                    data_type: Some(a.data_type.clone()),
                    string_value,
                    binary_value,
                },
            )
        })
        .collect()
}

impl Request<'_> {
    fn url(&self, app: &App, name: &str) -> String {
        let host = self.host.unwrap_or_else(|| app.address());
        format!("http://{host}/{}/{name}", app.account_id())
    }

    /// The queue a request names: `QueueUrl`, or a query post's path.
    fn queue_name(&self, app: &App, p: &Params) -> Result<String> {
        let url = match (&p.queue_url, self.path_queue) {
            (Some(u), _) => u.as_str(),
            (None, Some(path)) => path,
            (None, None) => return Err(SqsError::MissingParameter("QueueUrl".into())),
        };
        tarn_sqs::name_of_url(url, app.account_id())
            .map(str::to_owned)
            .ok_or(SqsError::QueueDoesNotExist)
    }
}

fn range(v: Option<i64>, name: &str, lo: i64, hi: i64, reason: &str) -> Result<Option<u64>> {
    match v {
        None => Ok(None),
        Some(n) if (lo..=hi).contains(&n) => Ok(Some(n as u64)),
        Some(n) => Err(SqsError::invalid_value(n, name, reason)),
    }
}

/// A batch request's entries, their ids checked.
fn batch_entries(p: &Params, entry_name: &'static str) -> Result<Vec<SendParams>> {
    let entries: Vec<SendParams> = p
        .entries
        .iter()
        .flatten()
        .map(parse)
        .collect::<Result<_>>()?;
    check_entry_ids(&entries, entry_name)?;
    Ok(entries)
}

fn check_entry_ids(entries: &[SendParams], entry_name: &'static str) -> Result<()> {
    if entries.is_empty() {
        return Err(SqsError::EmptyBatchRequest(entry_name));
    }
    if entries.len() > 10 {
        return Err(SqsError::TooManyEntriesInBatchRequest(entries.len()));
    }
    let mut seen = HashSet::new();
    for e in entries {
        let id = e.id.as_deref().ok_or_else(|| {
            SqsError::MissingParameter(format!("{entry_name}.{}.Id", seen.len() + 1))
        })?;
        if id.is_empty()
            || id.len() > 80
            || !id
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        {
            return Err(SqsError::InvalidBatchEntryId);
        }
        if !seen.insert(id) {
            return Err(SqsError::BatchEntryIdsNotDistinct(id.to_owned()));
        }
    }
    Ok(())
}

fn to_send(e: &SendParams) -> Result<SendMessage> {
    let attributes = match &e.message_attributes {
        Some(v) => tarn_sqs::drain::parse_json_attributes(v)?,
        None => BTreeMap::new(),
    };
    let mut trace_header = None;
    if let Some(sys) = &e.message_system_attributes {
        for (k, a) in sys {
            if k != "AWSTraceHeader" {
                return Err(SqsError::InvalidParameterValue(format!(
                    "Message system attribute name '{k}' is invalid."
                )));
            }
            if a.data_type.as_deref() != Some("String") {
                return Err(SqsError::InvalidParameterValue(
                    "The message system attribute 'AWSTraceHeader' must be of type 'String'."
                        .into(),
                ));
            }
            trace_header = a.string_value.clone();
        }
    }
    Ok(SendMessage {
        body: e.message_body.clone().unwrap_or_default(),
        delay_seconds: match e.delay_seconds {
            Some(d) if d < 0 => {
                return Err(SqsError::invalid_value(
                    d,
                    "DelaySeconds",
                    "DelaySeconds must be >= 0 and <= 900.",
                ))
            }
            d => d.map(|d| d as u64),
        },
        attributes,
        trace_header,
        group_id: e.message_group_id.clone(),
        dedup_id: e.message_deduplication_id.clone(),
    })
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct SentOut {
    #[serde(skip_serializing_if = "Option::is_none")]
    id: Option<String>,
    message_id: String,
    #[serde(rename = "MD5OfMessageBody")]
    md5_of_message_body: String,
    #[serde(
        rename = "MD5OfMessageAttributes",
        skip_serializing_if = "Option::is_none"
    )]
    md5_of_message_attributes: Option<String>,
    #[serde(
        rename = "MD5OfMessageSystemAttributes",
        skip_serializing_if = "Option::is_none"
    )]
    md5_of_message_system_attributes: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    sequence_number: Option<String>,
}

fn sent_out(id: Option<String>, s: tarn_sqs::Sent) -> SentOut {
    SentOut {
        id,
        message_id: s.message_id,
        md5_of_message_body: s.md5_body,
        md5_of_message_attributes: s.md5_attributes,
        md5_of_message_system_attributes: s.md5_system_attributes,
        sequence_number: s.sequence_number,
    }
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct BatchError {
    id: String,
    sender_fault: bool,
    code: &'static str,
    message: String,
}

fn batch_error(id: String, e: &SqsError) -> BatchError {
    let n = e.names();
    BatchError {
        id,
        sender_fault: !n.receiver,
        code: n.query_code,
        message: e.message(),
    }
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct BatchOut<T> {
    successful: Vec<T>,
    failed: Vec<BatchError>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct IdOut {
    id: String,
}

/// The reply of a delete or visibility batch: each entry's id, under
/// `Successful` or with its error under `Failed`.
fn ids_out(entries: &[SendParams], results: Vec<Result<()>>) -> BatchOut<IdOut> {
    let mut out = BatchOut {
        successful: Vec::new(),
        failed: Vec::new(),
    };
    for (e, r) in entries.iter().zip(results) {
        let id = e.id.clone().unwrap_or_default();
        match r {
            Ok(()) => out.successful.push(IdOut { id }),
            Err(err) => out.failed.push(batch_error(id, &err)),
        }
    }
    out
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct MessageOut {
    message_id: String,
    receipt_handle: String,
    #[serde(rename = "MD5OfBody")]
    md5_of_body: String,
    body: String,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    attributes: BTreeMap<String, String>,
    #[serde(
        rename = "MD5OfMessageAttributes",
        skip_serializing_if = "Option::is_none"
    )]
    md5_of_message_attributes: Option<String>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    message_attributes: BTreeMap<String, AttrParam>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct MoveTaskOut {
    #[serde(skip_serializing_if = "Option::is_none")]
    task_handle: Option<String>,
    status: &'static str,
    source_arn: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    destination_arn: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    max_number_of_messages_per_second: Option<u64>,
    approximate_number_of_messages_moved: u64,
    approximate_number_of_messages_to_move: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    failure_reason: Option<String>,
    started_timestamp: u64,
}

/// A page of names: `max` of them after `token` (the last name of the
/// previous page, base64).
fn page(
    names: Vec<String>,
    max: Option<i64>,
    token: Option<&str>,
) -> Result<(Vec<String>, Option<String>)> {
    let max = range(
        max,
        "MaxResults",
        1,
        1000,
        "MaxResults must be an integer between 1 and 1000.",
    )?;
    let after = match token {
        Some(t) => Some(
            base64::engine::general_purpose::STANDARD
                .decode(t)
                .ok()
                .and_then(|b| String::from_utf8(b).ok())
                .ok_or_else(|| {
                    SqsError::InvalidParameterValue("Invalid NextToken value.".into())
                })?,
        ),
        None => None,
    };
    let mut rest: Vec<String> = names
        .into_iter()
        .filter(|n| after.as_ref().is_none_or(|a| n > a))
        .collect();
    let Some(max) = max else {
        rest.truncate(1000);
        return Ok((rest, None));
    };
    let max = max as usize;
    let next = (rest.len() > max)
        .then(|| base64::engine::general_purpose::STANDARD.encode(rest[max - 1].as_bytes()));
    rest.truncate(max);
    Ok((rest, next))
}

/// A page of queue URLs under `key`, with `NextToken` if more follow;
/// `key` is left out when empty unless `always`.
fn urls_page(
    app: &App,
    req: &Request<'_>,
    p: &Params,
    names: Vec<String>,
    key: &str,
    always: bool,
) -> Result<Value> {
    let (names, next) = page(names, p.max_results, p.next_token.as_deref())?;
    let mut out = serde_json::Map::new();
    if always || !names.is_empty() {
        out.insert(
            key.into(),
            names
                .iter()
                .map(|n| Value::String(req.url(app, n)))
                .collect(),
        );
    }
    if let Some(t) = next {
        out.insert("NextToken".into(), Value::String(t));
    }
    Ok(Value::Object(out))
}

async fn run(app: &App, op: &str, req: &Request<'_>) -> Result<Value> {
    let p: Params = parse(&req.params)?;
    let sqs = &app.sqs;
    match op {
        "CreateQueue" => {
            let name = required(&p.queue_name, "QueueName")?;
            let empty = BTreeMap::new();
            let tags = p.lower_tags.as_ref().or(p.tags.as_ref()).unwrap_or(&empty);
            let q = sqs
                .create_queue(name, p.attributes.as_ref().unwrap_or(&empty), tags)
                .await?;
            Ok(serde_json::json!({"QueueUrl": req.url(app, &q.name)}))
        }
        "GetQueueUrl" => {
            let name = required(&p.queue_name, "QueueName")?;
            if p.queue_owner_aws_account_id
                .as_deref()
                .is_some_and(|a| a != app.account_id())
            {
                return Err(SqsError::QueueDoesNotExist);
            }
            let q = sqs.queue(name)?;
            Ok(serde_json::json!({"QueueUrl": req.url(app, &q.name)}))
        }
        "ListQueues" => {
            let names = sqs.list_queues(p.queue_name_prefix.as_deref().unwrap_or(""))?;
            urls_page(app, req, &p, names, "QueueUrls", false)
        }
        "DeleteQueue" => {
            sqs.delete_queue(&req.queue_name(app, &p)?).await?;
            Ok(serde_json::json!({}))
        }
        "PurgeQueue" => {
            sqs.purge(&req.queue_name(app, &p)?).await?;
            Ok(serde_json::json!({}))
        }
        "GetQueueAttributes" => {
            let name = req.queue_name(app, &p)?;
            let names = p.attribute_names.clone().unwrap_or_default();
            let attrs = sqs.get_attributes(&name, &names)?;
            if attrs.is_empty() {
                return Ok(serde_json::json!({}));
            }
            Ok(serde_json::json!({ "Attributes": attrs }))
        }
        "SetQueueAttributes" => {
            let name = req.queue_name(app, &p)?;
            let attrs = required(&p.attributes, "Attributes")?;
            sqs.set_attributes(&name, attrs).await?;
            Ok(serde_json::json!({}))
        }
        "SendMessage" => {
            let name = req.queue_name(app, &p)?;
            let e: SendParams = parse(&req.params)?;
            if e.message_body.is_none() {
                return Err(SqsError::MissingParameter("MessageBody".into()));
            }
            let m = to_send(&e)?;
            let sent = sqs.send(&name, m).await?;
            json(sent_out(None, sent))
        }
        "SendMessageBatch" => {
            let name = req.queue_name(app, &p)?;
            let entries = batch_entries(&p, "SendMessageBatchRequestEntry")?;
            let total: usize = entries
                .iter()
                .map(|e| e.message_body.as_ref().map_or(0, String::len))
                .sum();
            if total > tarn_sqs::model::MESSAGE_BYTES_MAX {
                return Err(SqsError::BatchRequestTooLong(total));
            }
            sqs.queue(&name)?;
            let mut out = BatchOut {
                successful: Vec::new(),
                failed: Vec::new(),
            };
            let mut sends = Vec::new();
            let mut ids = Vec::new();
            for e in &entries {
                let id = e.id.clone().unwrap_or_default();
                match to_send(e) {
                    Ok(m) => {
                        sends.push(m);
                        ids.push(id);
                    }
                    Err(err) => out.failed.push(batch_error(id, &err)),
                }
            }
            for (id, r) in ids.into_iter().zip(sqs.send_batch(&name, sends).await?) {
                match r {
                    Ok(s) => out.successful.push(sent_out(Some(id), s)),
                    Err(err) => out.failed.push(batch_error(id, &err)),
                }
            }
            json(out)
        }
        "ReceiveMessage" => {
            let name = req.queue_name(app, &p)?;
            let max = range(
                p.max_number_of_messages,
                "MaxNumberOfMessages",
                1,
                10,
                "Must be between 1 and 10, if provided.",
            )?;
            let visibility_timeout = range(
                p.visibility_timeout,
                "VisibilityTimeout",
                0,
                43_200,
                "Must be >= 0 and <= 43200, if provided.",
            )?;
            let wait_seconds = range(
                p.wait_time_seconds,
                "WaitTimeSeconds",
                0,
                20,
                "Must be >= 0 and <= 20, if provided.",
            )?;
            let mut system = p.attribute_names.clone().unwrap_or_default();
            system.extend(p.message_system_attribute_names.clone().unwrap_or_default());
            let r = ReceiveRequest {
                max: max.unwrap_or(1) as usize,
                visibility_timeout,
                wait_seconds,
                system_attribute_names: system,
                message_attribute_names: p.message_attribute_names.clone().unwrap_or_default(),
                attempt_id: p.receive_request_attempt_id.clone(),
            };
            let got = sqs.receive(&name, &r, app.runner.stop_signal()).await?;
            if got.is_empty() {
                return Ok(serde_json::json!({}));
            }
            let messages: Vec<MessageOut> = got
                .into_iter()
                .map(|m| MessageOut {
                    message_id: m.message_id,
                    receipt_handle: m.receipt_handle,
                    md5_of_body: m.md5_body,
                    body: m.body,
                    attributes: m.attributes,
                    md5_of_message_attributes: m.md5_attributes,
                    message_attributes: from_attributes(&m.message_attributes),
                })
                .collect();
            Ok(serde_json::json!({ "Messages": json(messages)? }))
        }
        "DeleteMessage" => {
            let name = req.queue_name(app, &p)?;
            let h = required(&p.receipt_handle, "ReceiptHandle")?;
            sqs.delete(&name, h).await?;
            Ok(serde_json::json!({}))
        }
        "DeleteMessageBatch" => {
            let name = req.queue_name(app, &p)?;
            let entries = batch_entries(&p, "DeleteMessageBatchRequestEntry")?;
            let handles: Vec<String> = entries
                .iter()
                .map(|e| e.receipt_handle.clone().unwrap_or_default())
                .collect();
            json(ids_out(&entries, sqs.delete_batch(&name, &handles).await?))
        }
        "ChangeMessageVisibility" => {
            let name = req.queue_name(app, &p)?;
            let h = required(&p.receipt_handle, "ReceiptHandle")?;
            let t = *required(&p.visibility_timeout, "VisibilityTimeout")?;
            let t = range(
                Some(t),
                "VisibilityTimeout",
                0,
                43_200,
                "Must be between 0 and 43200.",
            )?
            .unwrap_or(0);
            sqs.change_visibility(&name, h, t).await?;
            Ok(serde_json::json!({}))
        }
        "ChangeMessageVisibilityBatch" => {
            let name = req.queue_name(app, &p)?;
            let entries = batch_entries(&p, "ChangeMessageVisibilityBatchRequestEntry")?;
            let changes: Vec<(String, u64)> = entries
                .iter()
                .map(|e| {
                    (
                        e.receipt_handle.clone().unwrap_or_default(),
                        // Negative values fail as out of range.
                        e.visibility_timeout
                            .map_or(0, |v| u64::try_from(v).unwrap_or(u64::MAX)),
                    )
                })
                .collect();
            json(ids_out(
                &entries,
                sqs.change_visibility_batch(&name, &changes).await?,
            ))
        }
        "TagQueue" => {
            let name = req.queue_name(app, &p)?;
            let tags = required(&p.tags, "Tags")?;
            sqs.tag(&name, tags).await?;
            Ok(serde_json::json!({}))
        }
        "UntagQueue" => {
            let name = req.queue_name(app, &p)?;
            let keys = required(&p.tag_keys, "TagKeys")?;
            sqs.untag(&name, keys).await?;
            Ok(serde_json::json!({}))
        }
        "ListQueueTags" => {
            let tags = sqs.tags(&req.queue_name(app, &p)?)?;
            if tags.is_empty() {
                return Ok(serde_json::json!({}));
            }
            Ok(serde_json::json!({ "Tags": tags }))
        }
        "ListDeadLetterSourceQueues" => {
            let names = sqs.dead_letter_sources(&req.queue_name(app, &p)?)?;
            // SQS's model spells this member `queueUrls` and requires it.
            urls_page(app, req, &p, names, "queueUrls", true)
        }
        "StartMessageMoveTask" => {
            let source = required(&p.source_arn, "SourceArn")?;
            let rate = match p.max_number_of_messages_per_second {
                Some(r) if r < 1 => {
                    return Err(SqsError::invalid_value(
                        r,
                        "MaxNumberOfMessagesPerSecond",
                        "Must be between 1 and 500.",
                    ))
                }
                r => r.map(|r| r as u64),
            };
            let handle = sqs.start_move(&app.runner, source, p.destination_arn.as_deref(), rate)?;
            Ok(serde_json::json!({ "TaskHandle": handle }))
        }
        "ListMessageMoveTasks" => {
            let source = required(&p.source_arn, "SourceArn")?;
            let max = range(
                p.max_results,
                "MaxResults",
                1,
                10,
                "MaxResults must be an integer between 1 and 10.",
            )?
            .unwrap_or(1);
            let tasks = sqs.list_moves(source, max as usize)?;
            let results: Vec<MoveTaskOut> = tasks
                .into_iter()
                .map(|t| MoveTaskOut {
                    task_handle: (t.status == "RUNNING").then_some(t.task_handle),
                    status: t.status,
                    source_arn: t.source_arn,
                    destination_arn: t.destination_arn,
                    max_number_of_messages_per_second: t.max_per_second,
                    approximate_number_of_messages_moved: t.moved,
                    approximate_number_of_messages_to_move: t.to_move,
                    failure_reason: t.failure_reason,
                    started_timestamp: t.started_ms,
                })
                .collect();
            Ok(serde_json::json!({ "Results": json(results)? }))
        }
        "CancelMessageMoveTask" => {
            let handle = required(&p.task_handle, "TaskHandle")?;
            let moved = sqs.cancel_move(handle)?;
            Ok(serde_json::json!({ "ApproximateNumberOfMessagesMoved": moved }))
        }
        _ => Err(SqsError::Internal(format!("unrouted operation {op}"))),
    }
}
