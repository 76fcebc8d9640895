//! The DynamoDB protocol (`awsJson1_0`, target prefix `DynamoDB_20120810`):
//! its operations, registered in the protocol table (`crate::protocol`),
//! which calls [`dispatch`] for them.

/// Implements `Deserialize` for request structures whose derived decoder
/// is inherent (`#[serde(remote = "Self")]`) so that they accept only a
/// JSON object: serde's derive would also read a JSON array positionally,
/// where DynamoDB answers a SerializationException.
macro_rules! map_only {
    ($($t:ty),* $(,)?) => {$(
        impl<'de> serde::Deserialize<'de> for $t {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                struct V;
                impl<'de> serde::de::Visitor<'de> for V {
                    type Value = $t;
                    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                        f.write_str("a structure")
                    }
                    fn visit_map<A: serde::de::MapAccess<'de>>(self, map: A) -> Result<$t, A::Error> {
                        <$t>::deserialize(serde::de::value::MapAccessDeserializer::new(map))
                    }
                }
                d.deserialize_map(V)
            }
        }
    )*};
}

mod backups;
mod batch;
mod capacity;
mod control;
mod expressions;
mod indexes;
mod items;
mod legacy;
mod reads;
mod schema;
mod settings;
mod shape;
mod tables;
mod transact;
pub mod wire;

use serde::de::DeserializeOwned;

use crate::app::App;
use crate::error::{ApiError, ErrorCode};

/// The operations DynamoDB serves, the most frequent first (the protocol
/// table looks an operation up in this list on every request).
pub const OPERATIONS: &[&str] = &[
    "GetItem",
    "PutItem",
    "Query",
    "UpdateItem",
    "BatchWriteItem",
    "BatchGetItem",
    "DeleteItem",
    "Scan",
    "TransactWriteItems",
    "TransactGetItems",
    "DescribeTable",
    "CreateTable",
    "ListTables",
    "DeleteTable",
    "UpdateTable",
    "TagResource",
    "UntagResource",
    "ListTagsOfResource",
    "UpdateTimeToLive",
    "DescribeTimeToLive",
    "CreateBackup",
    "DescribeBackup",
    "ListBackups",
    "DeleteBackup",
    "RestoreTableFromBackup",
    "RestoreTableToPointInTime",
    "DescribeContinuousBackups",
    "UpdateContinuousBackups",
    "DescribeLimits",
    "DescribeEndpoints",
];

/// Runs one operation named by the part of `X-Amz-Target` after the prefix.
pub async fn dispatch(app: &App, op: &str, body: &[u8]) -> Result<Vec<u8>, ApiError> {
    match op {
        "CreateTable" => tables::create_table(app, decode(op, body)?).await,
        "DescribeTable" => tables::describe_table(app, decode(op, body)?).await,
        "ListTables" => tables::list_tables(app, decode(op, body)?).await,
        "DeleteTable" => tables::delete_table(app, decode(op, body)?).await,
        "UpdateTable" => tables::update_table(app, decode(op, body)?).await,
        "PutItem" => items::put_item(app, decode(op, body)?).await,
        "GetItem" => items::get_item(app, decode(op, body)?).await,
        "DeleteItem" => items::delete_item(app, decode(op, body)?).await,
        "UpdateItem" => items::update_item(app, decode(op, body)?).await,
        "Query" => reads::query(app, decode(op, body)?).await,
        "Scan" => reads::scan(app, decode(op, body)?).await,
        "BatchGetItem" => batch::batch_get_item(app, decode(op, body)?, body).await,
        "BatchWriteItem" => batch::batch_write_item(app, decode(op, body)?, body).await,
        "TransactWriteItems" => transact::transact_write_items(app, decode(op, body)?, body).await,
        "TransactGetItems" => transact::transact_get_items(app, decode(op, body)?).await,
        "TagResource" => control::tag_resource(app, decode(op, body)?).await,
        "UntagResource" => control::untag_resource(app, decode(op, body)?).await,
        "ListTagsOfResource" => control::list_tags_of_resource(app, decode(op, body)?).await,
        "UpdateTimeToLive" => control::update_time_to_live(app, decode(op, body)?).await,
        "DescribeTimeToLive" => control::describe_time_to_live(app, decode(op, body)?).await,
        "CreateBackup" => backups::create_backup(app, decode(op, body)?).await,
        "DescribeBackup" => backups::describe_backup(app, decode(op, body)?).await,
        "ListBackups" => backups::list_backups(app, decode(op, body)?).await,
        "DeleteBackup" => backups::delete_backup(app, decode(op, body)?).await,
        "RestoreTableFromBackup" => {
            backups::restore_table_from_backup(app, decode(op, body)?).await
        }
        "RestoreTableToPointInTime" => {
            backups::restore_table_to_point_in_time(app, decode(op, body)?).await
        }
        "DescribeContinuousBackups" => {
            backups::describe_continuous_backups(app, decode(op, body)?).await
        }
        "UpdateContinuousBackups" => {
            backups::update_continuous_backups(app, decode(op, body)?).await
        }
        "DescribeLimits" => {
            decode::<serde::de::IgnoredAny>(op, body)?;
            control::describe_limits(app).await
        }
        "DescribeEndpoints" => {
            decode::<serde::de::IgnoredAny>(op, body)?;
            control::describe_endpoints(app).await
        }
        _ => Err(ApiError::bare(ErrorCode::UnknownOperation)),
    }
}

/// Decodes a request body, turning serde's complaints into DynamoDB's
/// SerializationException texts.
pub(crate) fn parse<T: DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
    serde_json::from_slice(body).map_err(serialization_error)
}

/// Decodes the body of DynamoDB operation `op`. A member of the wrong JSON
/// type is reported as DynamoDB reports it, from the operation's input
/// model, whatever its nesting; the model is consulted only when the
/// typed decoding has failed, so valid requests pay nothing for it.
fn decode<T: DeserializeOwned>(op: &str, body: &[u8]) -> Result<T, ApiError> {
    serde_json::from_slice(body).map_err(|e| {
        let message = e
            .is_data()
            .then(|| shape::input(op))
            .flatten()
            .and_then(|input| shape::first_mismatch(body, input));
        match message {
            Some(m) => ApiError::new(ErrorCode::Serialization, m),
            None => serialization_error(e),
        }
    })
}

/// Maps a serde_json error to the SerializationException DynamoDB gives for
/// the same input (its messages come from its Java JSON reader).
pub fn serialization_error(e: serde_json::Error) -> ApiError {
    if !e.is_data() {
        return ApiError::bare(ErrorCode::Serialization);
    }
    let text = e.to_string();
    let text = match text.rfind(" at line ") {
        Some(i) => &text[..i],
        None => &text,
    };
    let Some(rest) = text.strip_prefix("invalid type: ") else {
        return ApiError::new(ErrorCode::Serialization, text);
    };
    let (got, expected) = rest.split_once(", expected ").unwrap_or((rest, ""));
    let target = if expected.contains("string") {
        Some("String")
    } else if expected.contains("boolean") {
        Some("Boolean")
    } else if expected.starts_with("i32") || expected.starts_with("u32") {
        Some("Integer")
    } else if expected.starts_with('i') || expected.starts_with('u') {
        Some("Long")
    } else {
        None
    };
    let structure =
        expected.contains("struct") || expected.contains("object") || expected.contains("map");
    let message = if got.starts_with("map") {
        "Start of structure or map found where not expected".to_owned()
    } else if got.starts_with("sequence") {
        match target {
            Some(t) => format!("Unrecognized collection type class java.lang.{t}"),
            None if expected.contains("AttributeValue") => {
                "Unrecognized collection type class com.amazonaws.dynamodb.v20120810.AttributeValue"
                    .to_owned()
            }
            None => "Unrecognized collection type java.util.Map<java.lang.String, com.amazonaws.dynamodb.v20120810.AttributeValue>".to_owned(),
        }
    } else {
        let token = if got.starts_with("integer") {
            "NUMBER_VALUE"
        } else if got.starts_with("floating") {
            "DECIMAL_VALUE"
        } else if got.starts_with("boolean `true`") {
            "TRUE_VALUE"
        } else if got.starts_with("boolean") {
            "FALSE_VALUE"
        } else {
            "STRING_VALUE"
        };
        match target {
            Some("Boolean") if token == "STRING_VALUE" => {
                "Unexpected token received from parser".to_owned()
            }
            Some(t) => format!("{token} cannot be converted to {t}"),
            None if expected.contains("AttributeValue") => {
                "Unexpected value type in payload".to_owned()
            }
            None if structure => "Unexpected field type".to_owned(),
            None => "Unexpected field type".to_owned(),
        }
    };
    ApiError::new(ErrorCode::Serialization, message)
}

/// Runs engine work that never waits for a journal sync (reads) on the
/// calling worker: a handoff to the blocking pool would cost more than the
/// read.
fn read<T>(
    app: &App,
    f: impl FnOnce(&tarn_engine::Engine) -> Result<T, tarn_engine::Error>,
) -> Result<T, ApiError> {
    f(&app.engine).map_err(ApiError::from)
}

/// Runs a write on the calling worker up to its commit (which takes
/// microseconds; locks are never held across a sync), then waits for its
/// journal sync without holding a thread. The engine's error is left to the
/// caller, which may need to look inside it.
async fn committed<T, F>(app: &App, f: F) -> Result<Result<T, tarn_engine::Error>, ApiError>
where
    T: Send + 'static,
    F: FnOnce(&tarn_engine::Engine) -> Result<tarn_engine::Deferred<T>, tarn_engine::Error>,
{
    let deferred = match f(&app.engine) {
        Ok(d) => d,
        Err(e) => return Ok(Err(e)),
    };
    let (tx, rx) = tokio::sync::oneshot::channel();
    deferred.on_durable(&app.engine, move |r| {
        let _ = tx.send(r);
    });
    rx.await.map_err(|_| {
        tracing::error!("a write's durability callback was dropped");
        ApiError::new(ErrorCode::InternalServerError, "Internal server error")
    })
}

/// Runs engine work on the blocking pool: control-plane changes, which wait
/// for a journal sync.
async fn blocking<T, F>(app: &App, f: F) -> Result<T, ApiError>
where
    T: Send + 'static,
    F: FnOnce(&tarn_engine::Engine) -> Result<T, tarn_engine::Error> + Send + 'static,
{
    let engine = app.engine.clone();
    match tokio::task::spawn_blocking(move || f(&engine)).await {
        Ok(result) => result.map_err(ApiError::from),
        Err(e) => {
            tracing::error!(error = %e, "engine task failed");
            Err(ApiError::new(
                ErrorCode::InternalServerError,
                "Internal server error",
            ))
        }
    }
}

/// Data-plane operations name no table in their not-found message.
fn data_plane(e: ApiError) -> ApiError {
    if e.code == ErrorCode::ResourceNotFound {
        ApiError::new(ErrorCode::ResourceNotFound, "Requested resource not found")
    } else {
        e
    }
}

/// Renders a response body.
pub(crate) fn reply<T: serde::Serialize>(value: &T) -> Result<Vec<u8>, ApiError> {
    serde_json::to_vec(value).map_err(|e| {
        tracing::error!(error = %e, "response serialization failed");
        ApiError::new(ErrorCode::InternalServerError, "Internal server error")
    })
}

/// A parameter Tarn does not implement yet: refused, never ignored.
fn unsupported(name: &str) -> ApiError {
    ApiError::validation(format!("Tarn does not support the {name} parameter yet"))
}
