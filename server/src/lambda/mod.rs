//! The Lambda API (REST-JSON, dated paths) and the Lambda Runtime API that
//! function instances call, over [`tarn_lambda`].
//!
//! Routes are matched on method and path ([`route`]); a path names the
//! function (percent-decoded: a name, a partial or full ARN, with or
//! without a qualifier). Errors are [`tarn_lambda::Error`]s, given their
//! Lambda exception, status and message by one `From` impl and rendered by
//! `protocol::rest`. Findings behind the shapes: `docs/research/lambda.md`.

mod endpoints;
mod wire;

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::http::{HeaderName, HeaderValue, Method, StatusCode};
use base64::Engine as _;
use serde::de::DeserializeOwned;
use serde::Serialize;
use tarn_lambda::api::{CodeSource, ConfigUpdate, FunctionRef, InvokeConfigInput, NewFunction};
use tarn_lambda::{Error, Lambda, RuntimeError};

use crate::app::App;
use crate::protocol::failure::{Failure, Fault};
use crate::protocol::reply::{Reply, JSON};
pub use endpoints::Endpoints;
use wire::Phase;

/// The operations served.
pub const OPERATIONS: &[&str] = &[
    "CreateFunction",
    "ListFunctions",
    "GetFunction",
    "GetFunctionConfiguration",
    "UpdateFunctionCode",
    "UpdateFunctionConfiguration",
    "DeleteFunction",
    "Invoke",
    "PublishVersion",
    "ListVersionsByFunction",
    "CreateAlias",
    "GetAlias",
    "ListAliases",
    "UpdateAlias",
    "DeleteAlias",
    "PutFunctionEventInvokeConfig",
    "UpdateFunctionEventInvokeConfig",
    "GetFunctionEventInvokeConfig",
    "DeleteFunctionEventInvokeConfig",
    "ListFunctionEventInvokeConfigs",
    "PutFunctionConcurrency",
    "GetFunctionConcurrency",
    "DeleteFunctionConcurrency",
    "TagResource",
    "UntagResource",
    "ListTags",
];

/// The Runtime API's operations.
pub const RUNTIME_OPERATIONS: &[&str] = &["Next", "Response", "Error", "InitError"];

/// The name Tarn gives the local-directory code extension's bucket.
pub const LOCAL_BUCKET: &str = "tarn-local";

/// A matched route: the operation and the path's parameters.
#[derive(Debug, PartialEq, Eq)]
pub struct Route {
    /// The operation.
    pub op: &'static str,
    /// The function (or, for tags, the ARN).
    pub function: String,
    /// An alias name in the path.
    pub alias: String,
}

/// Percent-decodes one path segment (`+` stays a `+`).
fn decode_segment(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' && i + 2 < b.len() {
            let hex = std::str::from_utf8(&b[i + 1..i + 3])
                .ok()
                .and_then(|h| u8::from_str_radix(h, 16).ok());
            if let Some(v) = hex {
                out.push(v);
                i += 3;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Matches a Lambda API request to its operation.
pub fn route(method: &Method, path: &str) -> Option<Route> {
    let segments: Vec<String> = path
        .trim_start_matches('/')
        .trim_end_matches('/')
        .split('/')
        .map(decode_segment)
        .collect();
    let s: Vec<&str> = segments.iter().map(String::as_str).collect();
    let r = |op: &'static str, function: &str, alias: &str| {
        Some(Route {
            op,
            function: function.to_owned(),
            alias: alias.to_owned(),
        })
    };
    let m = method.as_str();
    match s.as_slice() {
        ["2015-03-31", "functions"] => match m {
            "POST" => r("CreateFunction", "", ""),
            "GET" => r("ListFunctions", "", ""),
            _ => None,
        },
        ["2015-03-31", "functions", f] => match m {
            "GET" => r("GetFunction", f, ""),
            "DELETE" => r("DeleteFunction", f, ""),
            _ => None,
        },
        ["2015-03-31", "functions", f, "configuration"] => match m {
            "GET" => r("GetFunctionConfiguration", f, ""),
            "PUT" => r("UpdateFunctionConfiguration", f, ""),
            _ => None,
        },
        ["2015-03-31", "functions", f, "code"] if m == "PUT" => r("UpdateFunctionCode", f, ""),
        ["2015-03-31", "functions", f, "invocations"] if m == "POST" => r("Invoke", f, ""),
        ["2015-03-31", "functions", f, "versions"] => match m {
            "POST" => r("PublishVersion", f, ""),
            "GET" => r("ListVersionsByFunction", f, ""),
            _ => None,
        },
        ["2015-03-31", "functions", f, "aliases"] => match m {
            "POST" => r("CreateAlias", f, ""),
            "GET" => r("ListAliases", f, ""),
            _ => None,
        },
        ["2015-03-31", "functions", f, "aliases", a] => match m {
            "GET" => r("GetAlias", f, a),
            "PUT" => r("UpdateAlias", f, a),
            "DELETE" => r("DeleteAlias", f, a),
            _ => None,
        },
        ["2017-10-31", "functions", f, "concurrency"] => match m {
            "PUT" => r("PutFunctionConcurrency", f, ""),
            "DELETE" => r("DeleteFunctionConcurrency", f, ""),
            _ => None,
        },
        ["2019-09-30", "functions", f, "concurrency"] if m == "GET" => {
            r("GetFunctionConcurrency", f, "")
        }
        ["2019-09-25", "functions", f, "event-invoke-config"] => match m {
            "PUT" => r("PutFunctionEventInvokeConfig", f, ""),
            "POST" => r("UpdateFunctionEventInvokeConfig", f, ""),
            "GET" => r("GetFunctionEventInvokeConfig", f, ""),
            "DELETE" => r("DeleteFunctionEventInvokeConfig", f, ""),
            _ => None,
        },
        ["2019-09-25", "functions", f, "event-invoke-config", "list"] if m == "GET" => {
            r("ListFunctionEventInvokeConfigs", f, "")
        }
        ["2017-03-31", "tags", rest @ ..] if !rest.is_empty() => {
            // An ARN's `/` would split it; put it back together.
            let arn = rest.join("/");
            match m {
                "POST" => r("TagResource", &arn, ""),
                "GET" => r("ListTags", &arn, ""),
                "DELETE" => r("UntagResource", &arn, ""),
                _ => None,
            }
        }
        _ => None,
    }
}

/// Lambda's exception, status and message for each model error.
impl From<Error> for Failure {
    fn from(e: Error) -> Failure {
        let (name, status, fault) = match &e {
            Error::NotFound(_) => (
                "ResourceNotFoundException",
                StatusCode::NOT_FOUND,
                Fault::Sender,
            ),
            Error::Conflict(_) => (
                "ResourceConflictException",
                StatusCode::CONFLICT,
                Fault::Sender,
            ),
            Error::InvalidParameter(_) | Error::BadZip | Error::CodeTooLarge(_) => (
                "InvalidParameterValueException",
                StatusCode::BAD_REQUEST,
                Fault::Sender,
            ),
            Error::Validation(_) => (
                "ValidationException",
                StatusCode::BAD_REQUEST,
                Fault::Sender,
            ),
            Error::TooManyRequests { .. } => (
                "TooManyRequestsException",
                StatusCode::TOO_MANY_REQUESTS,
                Fault::Sender,
            ),
            Error::RequestTooLarge(_) => (
                "RequestTooLargeException",
                StatusCode::PAYLOAD_TOO_LARGE,
                Fault::Sender,
            ),
            Error::InvalidRequestContent(_) => (
                "InvalidRequestContentException",
                StatusCode::BAD_REQUEST,
                Fault::Sender,
            ),
            _ => (
                "ServiceException",
                StatusCode::INTERNAL_SERVER_ERROR,
                Fault::Receiver,
            ),
        };
        if fault == Fault::Receiver {
            tracing::error!(error = %e, "lambda request failed");
        }
        Failure {
            name,
            json_namespace: "",
            status,
            message: Some(e.to_string()),
            capital_message: false,
            query_code: name,
            fault,
            framework: false,
        }
    }
}

fn json<T: Serialize>(status: StatusCode, value: &T) -> Reply {
    Reply::new(
        status,
        Some(JSON),
        serde_json::to_vec(value).unwrap_or_default(),
    )
}

fn no_content() -> Reply {
    Reply::new(StatusCode::NO_CONTENT, None, Vec::new())
}

fn body<T: DeserializeOwned + Default>(bytes: &[u8]) -> Result<T, Error> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(T::default());
    }
    serde_json::from_slice(bytes).map_err(|e| {
        Error::InvalidRequestContent(format!("Could not parse request body into json: {e}"))
    })
}

fn query(parts: &axum::http::request::Parts) -> Vec<(String, String)> {
    form_urlencoded::parse(parts.uri.query().unwrap_or("").as_bytes())
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

fn query_one<'a>(q: &'a [(String, String)], name: &str) -> Option<&'a str> {
    q.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
}

fn header<'a>(parts: &'a axum::http::request::Parts, name: &str) -> Option<&'a str> {
    parts.headers.get(name).and_then(|v| v.to_str().ok())
}

fn required(value: Option<String>, field: &str) -> Result<String, Error> {
    value.ok_or_else(|| {
        Error::Validation(format!(
            "1 validation error detected: Value null at '{field}' failed to satisfy constraint: Member must not be null"
        ))
    })
}

fn code_source(c: &wire::CodeIn) -> Result<CodeSource, Error> {
    if let Some(zip) = &c.zip_file {
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(zip)
            .map_err(|_| Error::BadZip)?;
        return Ok(CodeSource::Zip(bytes));
    }
    match (c.s3_bucket.as_deref(), c.s3_key.as_deref()) {
        (Some(LOCAL_BUCKET), Some(key)) => Ok(CodeSource::Local(key.to_owned())),
        (Some(bucket), Some(_)) => Err(Error::InvalidParameter(format!(
            "Error occurred while GetObject. S3 Error Code: NoSuchBucket. S3 Error Message: The specified bucket does not exist (Tarn serves no S3; use Code.ZipFile, or S3Bucket \"{LOCAL_BUCKET}\" with S3Key an absolute directory; bucket was {bucket})"
        ))),
        _ if c.image_uri.is_some() => Err(Error::InvalidParameter(
            "Tarn runs .zip file archives only, not container images.".into(),
        )),
        _ => Err(Error::InvalidParameter(
            "Please provide a source for function code.".into(),
        )),
    }
}

/// Serves a Lambda API request for `route`.
pub async fn dispatch(
    app: &App,
    route: &Route,
    parts: &axum::http::request::Parts,
    bytes: &[u8],
) -> Result<Reply, Failure> {
    let lambda = app.lambda()?;
    Ok(serve(&lambda, route, parts, bytes)
        .await
        .unwrap_or_else(render_error))
}

/// Renders a model error as Lambda does: the REST renderer's status,
/// `x-amzn-ErrorType` and `message`, plus Lambda's `Type` (`User` or
/// `Service`) and, for throttling, its `Reason`.
fn render_error(e: Error) -> Reply {
    let reason = match &e {
        Error::TooManyRequests { reason } => Some(*reason),
        _ => None,
    };
    let f = Failure::from(e);
    #[derive(Serialize)]
    struct Body<'a> {
        #[serde(rename = "Type")]
        kind: &'static str,
        message: &'a str,
        #[serde(rename = "Reason", skip_serializing_if = "Option::is_none")]
        reason: Option<&'static str>,
    }
    let mut reply = crate::protocol::rest::render(&f);
    reply.body = serde_json::to_vec(&Body {
        kind: match f.fault {
            Fault::Sender => "User",
            Fault::Receiver => "Service",
        },
        message: f.message.as_deref().unwrap_or(""),
        reason,
    })
    .unwrap_or_default();
    reply
}

async fn serve(
    lambda: &Arc<Lambda>,
    route: &Route,
    parts: &axum::http::request::Parts,
    bytes: &[u8],
) -> Result<Reply, Error> {
    let q = query(parts);
    let qualifier = query_one(&q, "Qualifier").filter(|s| !s.is_empty());
    let reference = || lambda.reference(&route.function, qualifier);
    let plain = || -> Result<FunctionRef, Error> {
        let r = lambda.reference(&route.function, None)?;
        Ok(r)
    };
    match route.op {
        "CreateFunction" => {
            let req: wire::CreateFunctionIn = body(bytes)?;
            let name = required(req.function_name, "functionName")?;
            let role = required(req.role, "role")?;
            if req.package_type.as_deref().is_some_and(|p| p != "Zip") {
                return Err(Error::InvalidParameter(
                    "Tarn runs .zip file archives only, not container images.".into(),
                ));
            }
            let code = req.code.as_ref().map(code_source).transpose()?;
            let view = lambda
                .create(NewFunction {
                    name,
                    runtime: req.runtime,
                    role,
                    handler: req.handler,
                    description: req.description,
                    timeout_s: req.timeout,
                    memory_mb: req.memory_size,
                    environment: req.environment.and_then(|e| e.variables),
                    code,
                    publish: req.publish,
                    tags: req.tags.unwrap_or_default(),
                    architectures: req.architectures,
                })
                .await?;
            let arn = function_arn(lambda, &view);
            Ok(json(
                StatusCode::CREATED,
                &wire::configuration(&view, arn, Phase::Creating),
            ))
        }
        "ListFunctions" => {
            let max = match query_one(&q, "MaxItems") {
                Some(m) => Some(m.parse::<i64>().map_err(|_| {
                    Error::Validation(format!(
                        "1 validation error detected: Value '{m}' at 'maxItems' failed to satisfy constraint: Member must be a number"
                    ))
                })?),
                None => None,
            };
            let (page, next) = lambda.list(query_one(&q, "Marker"), max)?;
            let views: Vec<tarn_lambda::api::View> = page
                .into_iter()
                .map(|f| tarn_lambda::api::View {
                    version: "$LATEST".into(),
                    config: f.latest.clone(),
                    function: f,
                })
                .collect();
            let functions = views
                .iter()
                .map(|v| wire::configuration(v, function_arn(lambda, v), Phase::Settled))
                .collect();
            Ok(json(
                StatusCode::OK,
                &wire::ListOut {
                    functions: Some(functions),
                    versions: None,
                    next_marker: next,
                },
            ))
        }
        "GetFunction" | "GetFunctionConfiguration" => {
            let r = reference()?;
            let view = lambda.view(&r)?;
            let arn = function_arn(lambda, &view);
            let config = wire::configuration(&view, arn, Phase::Settled);
            if route.op == "GetFunctionConfiguration" {
                return Ok(json(StatusCode::OK, &config));
            }
            let location = format!("file://{}", view.config.code_dir);
            let tags = (!view.function.tags.is_empty()).then_some(&view.function.tags);
            let concurrency = view
                .function
                .reserved_concurrency
                .map(|n| wire::Concurrency {
                    reserved_concurrent_executions: Some(n),
                });
            Ok(json(
                StatusCode::OK,
                &wire::GetFunctionOut {
                    configuration: config,
                    code: wire::CodeLocation {
                        repository_type: "S3",
                        location,
                    },
                    tags,
                    concurrency,
                },
            ))
        }
        "UpdateFunctionCode" => {
            let r = plain()?;
            let req: wire::CodeIn = body(bytes)?;
            let source = code_source(&req)?;
            let view = lambda
                .update_code(&r.name, source, req.publish, req.revision_id.as_deref())
                .await?;
            let arn = function_arn(lambda, &view);
            Ok(json(
                StatusCode::OK,
                &wire::configuration(&view, arn, Phase::Updating),
            ))
        }
        "UpdateFunctionConfiguration" => {
            let r = plain()?;
            let req: wire::UpdateConfigIn = body(bytes)?;
            let view = lambda
                .update_config(
                    &r.name,
                    ConfigUpdate {
                        runtime: req.runtime,
                        role: req.role,
                        handler: req.handler,
                        description: req.description,
                        timeout_s: req.timeout,
                        memory_mb: req.memory_size,
                        environment: req.environment.map(|e| e.variables.unwrap_or_default()),
                        revision_id: req.revision_id,
                    },
                )
                .await?;
            let arn = function_arn(lambda, &view);
            Ok(json(
                StatusCode::OK,
                &wire::configuration(&view, arn, Phase::Updating),
            ))
        }
        "DeleteFunction" => {
            lambda.delete(&reference()?).await?;
            Ok(no_content())
        }
        "Invoke" => invoke(lambda, &reference()?, parts, bytes).await,
        "PublishVersion" => {
            let r = plain()?;
            let req: wire::PublishIn = body(bytes)?;
            let view = lambda
                .publish(&r.name, req.description, req.code_sha256.as_deref())
                .await?;
            let arn = function_arn(lambda, &view);
            Ok(json(
                StatusCode::CREATED,
                &wire::configuration(&view, arn, Phase::Settled),
            ))
        }
        "ListVersionsByFunction" => {
            let r = plain()?;
            let views = lambda.versions(&r.name)?;
            let versions = views
                .iter()
                .map(|v| {
                    let arn = lambda.arn(&r.name, Some(&v.version));
                    wire::configuration(v, arn, Phase::Settled)
                })
                .collect();
            Ok(json(
                StatusCode::OK,
                &wire::ListOut {
                    functions: None,
                    versions: Some(versions),
                    next_marker: None,
                },
            ))
        }
        "CreateAlias" => {
            let r = plain()?;
            let req: wire::AliasIn = body(bytes)?;
            let name = required(req.name, "name")?;
            let version = required(req.function_version, "functionVersion")?;
            let a = lambda
                .create_alias(&r.name, &name, &version, req.description)
                .await?;
            let arn = lambda.arn(&r.name, Some(&a.name));
            Ok(json(StatusCode::CREATED, &wire::alias(&a, arn)))
        }
        "GetAlias" => {
            let r = plain()?;
            let a = lambda.alias(&r.name, &route.alias)?;
            let arn = lambda.arn(&r.name, Some(&a.name));
            Ok(json(StatusCode::OK, &wire::alias(&a, arn)))
        }
        "ListAliases" => {
            let r = plain()?;
            let all = lambda.aliases(&r.name)?;
            let version = query_one(&q, "FunctionVersion");
            let aliases = all
                .iter()
                .filter(|a| version.is_none_or(|v| a.function_version == v))
                .map(|a| wire::alias(a, lambda.arn(&r.name, Some(&a.name))))
                .collect();
            Ok(json(StatusCode::OK, &wire::AliasesOut { aliases }))
        }
        "UpdateAlias" => {
            let r = plain()?;
            let req: wire::AliasIn = body(bytes)?;
            let a = lambda
                .update_alias(
                    &r.name,
                    &route.alias,
                    req.function_version,
                    req.description,
                    req.revision_id.as_deref(),
                )
                .await?;
            let arn = lambda.arn(&r.name, Some(&a.name));
            Ok(json(StatusCode::OK, &wire::alias(&a, arn)))
        }
        "DeleteAlias" => {
            let r = plain()?;
            lambda.delete_alias(&r.name, &route.alias).await?;
            Ok(no_content())
        }
        "PutFunctionEventInvokeConfig" | "UpdateFunctionEventInvokeConfig" => {
            let r = reference()?;
            let req: wire::InvokeConfigIn = body(bytes)?;
            let dest = req.destination_config.unwrap_or_default();
            let c = lambda
                .put_invoke_config(
                    &r,
                    InvokeConfigInput {
                        maximum_retry_attempts: req.maximum_retry_attempts,
                        maximum_event_age_s: req.maximum_event_age_in_seconds,
                        on_success: dest.on_success.and_then(|d| d.destination),
                        on_failure: dest.on_failure.and_then(|d| d.destination),
                    },
                    route.op == "PutFunctionEventInvokeConfig",
                )
                .await?;
            let arn = lambda.arn(&r.name, Some(&c.qualifier));
            Ok(json(StatusCode::OK, &wire::invoke_config(&c, arn)))
        }
        "GetFunctionEventInvokeConfig" => {
            let r = reference()?;
            let c = lambda.invoke_config(&r)?;
            let arn = lambda.arn(&r.name, Some(&c.qualifier));
            Ok(json(StatusCode::OK, &wire::invoke_config(&c, arn)))
        }
        "ListFunctionEventInvokeConfigs" => {
            let r = plain()?;
            let configs = lambda.invoke_configs(&r.name)?;
            let function_event_invoke_configs = configs
                .iter()
                .map(|c| wire::invoke_config(c, lambda.arn(&r.name, Some(&c.qualifier))))
                .collect();
            Ok(json(
                StatusCode::OK,
                &wire::InvokeConfigsOut {
                    function_event_invoke_configs,
                },
            ))
        }
        "DeleteFunctionEventInvokeConfig" => {
            lambda.delete_invoke_config(&reference()?).await?;
            Ok(no_content())
        }
        "PutFunctionConcurrency" => {
            let r = plain()?;
            let req: wire::ConcurrencyIn = body(bytes)?;
            let n = req.reserved_concurrent_executions.ok_or_else(|| {
                Error::Validation(
                    "1 validation error detected: Value null at 'reservedConcurrentExecutions' failed to satisfy constraint: Member must not be null"
                        .into(),
                )
            })?;
            lambda.set_concurrency(&r.name, Some(n)).await?;
            Ok(json(
                StatusCode::OK,
                &wire::Concurrency {
                    reserved_concurrent_executions: Some(n as u32),
                },
            ))
        }
        "GetFunctionConcurrency" => {
            let r = plain()?;
            let f = lambda.function(&r.name)?;
            Ok(json(
                StatusCode::OK,
                &wire::Concurrency {
                    reserved_concurrent_executions: f.reserved_concurrency,
                },
            ))
        }
        "DeleteFunctionConcurrency" => {
            let r = plain()?;
            lambda.set_concurrency(&r.name, None).await?;
            Ok(no_content())
        }
        "TagResource" => {
            let req: wire::TagsIn = body(bytes)?;
            let tags = req.tags.unwrap_or_default();
            if tags.is_empty() {
                return Err(Error::InvalidParameter(
                    "An error occurred and the request cannot be processed.".into(),
                ));
            }
            lambda.tag(&route.function, tags, &[]).await?;
            Ok(no_content())
        }
        "UntagResource" => {
            let keys: Vec<String> = q
                .iter()
                .filter(|(k, _)| k == "tagKeys")
                .map(|(_, v)| v.clone())
                .collect();
            lambda.tag(&route.function, BTreeMap::new(), &keys).await?;
            Ok(no_content())
        }
        "ListTags" => {
            let tags = lambda.tag(&route.function, BTreeMap::new(), &[]).await?;
            Ok(json(StatusCode::OK, &wire::TagsOut { tags: &tags }))
        }
        _ => Err(Error::Validation(format!("{} is not served", route.op))),
    }
}

/// `FunctionArn` of a view: unqualified for `$LATEST`, qualified for a
/// version.
fn function_arn(lambda: &Lambda, view: &tarn_lambda::api::View) -> String {
    if view.version == "$LATEST" {
        lambda.arn(&view.function.name, None)
    } else {
        lambda.arn(&view.function.name, Some(&view.version))
    }
}

fn put_header(reply: &mut Reply, name: &'static str, value: &str) {
    if let Ok(v) = HeaderValue::from_str(value) {
        reply.headers.push((HeaderName::from_static(name), v));
    }
}

async fn invoke(
    lambda: &Arc<Lambda>,
    r: &FunctionRef,
    parts: &axum::http::request::Parts,
    bytes: &[u8],
) -> Result<Reply, Error> {
    let invocation_type = header(parts, "x-amz-invocation-type").unwrap_or("RequestResponse");
    let log_type = header(parts, "x-amz-log-type").unwrap_or("None");
    if !matches!(log_type, "None" | "Tail") {
        return Err(Error::Validation(format!(
            "1 validation error detected: Value '{log_type}' at 'logType' failed to satisfy constraint: Member must satisfy enum value set: [Tail, None]"
        )));
    }
    let client_context = match header(parts, "x-amz-client-context") {
        None => None,
        Some(b64) => {
            let decoded = base64::engine::general_purpose::STANDARD
                .decode(b64)
                .ok()
                .and_then(|b| String::from_utf8(b).ok())
                .filter(|s| serde_json::from_str::<serde::de::IgnoredAny>(s).is_ok());
            Some(decoded.ok_or_else(|| {
                Error::InvalidParameter(
                    "Client context must be a valid Base64-encoded JSON object.".into(),
                )
            })?)
        }
    };
    match invocation_type {
        "RequestResponse" => {
            let invoked = lambda.invoke(r, bytes, client_context).await?;
            let o = invoked.outcome;
            let mut reply = Reply::new(StatusCode::OK, Some(JSON), o.payload);
            if let Some(e) = o.function_error {
                put_header(&mut reply, "x-amz-function-error", e);
            }
            put_header(
                &mut reply,
                "x-amz-executed-version",
                &invoked.executed_version,
            );
            // As on Lambda, the reply's request id is the invocation's.
            put_header(&mut reply, "x-amzn-requestid", &invoked.request_id);
            if log_type == "Tail" {
                let tail = tarn_lambda::logs::tail(&o.log);
                let b64 = base64::engine::general_purpose::STANDARD.encode(tail);
                put_header(&mut reply, "x-amz-log-result", &b64);
            }
            Ok(reply)
        }
        "Event" => {
            lambda.invoke_async(r, bytes).await?;
            Ok(Reply::new(StatusCode::ACCEPTED, None, Vec::new()))
        }
        "DryRun" => {
            lambda.dry_run(r)?;
            Ok(Reply::new(StatusCode::NO_CONTENT, None, Vec::new()))
        }
        other => Err(Error::Validation(format!(
            "1 validation error detected: Value '{other}' at 'invocationType' failed to satisfy constraint: Member must satisfy enum value set: [Event, RequestResponse, DryRun]"
        ))),
    }
}

/// The Runtime API's route: the instance's token and the operation.
pub fn runtime_route(method: &Method, path: &str) -> Option<(String, &'static str, String)> {
    let rest = path.strip_prefix("/lambda-runtime/")?;
    let (token, rest) = rest.split_once('/')?;
    let rest = rest.strip_prefix("2018-06-01/runtime/")?;
    let s: Vec<&str> = rest.split('/').collect();
    let m = method.as_str();
    let (op, id) = match s.as_slice() {
        ["invocation", "next"] if m == "GET" => ("Next", ""),
        ["invocation", id, "response"] if m == "POST" => ("Response", *id),
        ["invocation", id, "error"] if m == "POST" => ("Error", *id),
        ["init", "error"] if m == "POST" => ("InitError", ""),
        _ => return None,
    };
    Some((token.to_owned(), op, id.to_owned()))
}

fn runtime_failure(e: RuntimeError) -> Failure {
    let (name, status, message) = match e {
        RuntimeError::UnknownInstance => (
            "Runtime.UnknownInstance",
            StatusCode::FORBIDDEN,
            "No function instance has this Runtime API address (it was stopped)",
        ),
        RuntimeError::InvalidRequestId => (
            "InvalidRequestID",
            StatusCode::BAD_REQUEST,
            "Invalid request ID",
        ),
        RuntimeError::Stopped => (
            "Runtime.Stopped",
            StatusCode::GONE,
            "The function instance was stopped",
        ),
    };
    Failure {
        name,
        json_namespace: "",
        status,
        message: Some(message.to_owned()),
        capital_message: false,
        query_code: name,
        fault: Fault::Sender,
        framework: false,
    }
}

/// Serves a Runtime API request from a function instance.
pub async fn runtime(
    app: &App,
    token: &str,
    op: &str,
    id: &str,
    bytes: &[u8],
) -> Result<Reply, Failure> {
    let lambda = app.lambda()?;
    let exec = lambda.exec();
    let accepted = || json(StatusCode::ACCEPTED, &serde_json::json!({"status": "OK"}));
    match op {
        "Next" => {
            let next = exec.next(token).await.map_err(runtime_failure)?;
            let mut reply = Reply::new(StatusCode::OK, Some(JSON), next.payload);
            put_header(
                &mut reply,
                "lambda-runtime-aws-request-id",
                &next.request_id,
            );
            put_header(
                &mut reply,
                "lambda-runtime-deadline-ms",
                &next.deadline_ms.to_string(),
            );
            put_header(
                &mut reply,
                "lambda-runtime-invoked-function-arn",
                &next.invoked_arn,
            );
            put_header(&mut reply, "lambda-runtime-trace-id", &next.trace_id);
            if let Some(cc) = &next.client_context {
                put_header(&mut reply, "lambda-runtime-client-context", cc);
            }
            Ok(reply)
        }
        "Response" => {
            exec.response(token, id, bytes.to_vec())
                .map_err(runtime_failure)?;
            Ok(accepted())
        }
        "Error" => {
            exec.error(token, id, bytes.to_vec())
                .map_err(runtime_failure)?;
            Ok(accepted())
        }
        _ => {
            exec.init_error(token, bytes.to_vec())
                .map_err(runtime_failure)?;
            Ok(accepted())
        }
    }
}

#[cfg(test)]
mod tests;

#[cfg(test)]
mod route_tests {
    use super::*;

    #[test]
    fn routes_match_the_sdks_paths() {
        let get = Method::GET;
        let r = route(&Method::POST, "/2015-03-31/functions").expect("create");
        assert_eq!(r.op, "CreateFunction");
        let r = route(&get, "/2015-03-31/functions/").expect("list");
        assert_eq!(r.op, "ListFunctions");
        let r = route(
            &Method::POST,
            "/2015-03-31/functions/arn%3Aaws%3Alambda%3Aus-east-1%3A000000000000%3Afunction%3Af/invocations",
        )
        .expect("invoke");
        assert_eq!(
            (r.op, r.function.as_str()),
            ("Invoke", "arn:aws:lambda:us-east-1:000000000000:function:f")
        );
        let r = route(&get, "/2015-03-31/functions/f/aliases/live").expect("alias");
        assert_eq!((r.op, r.alias.as_str()), ("GetAlias", "live"));
        assert!(route(&Method::PATCH, "/2015-03-31/functions/f").is_none());
        assert!(route(&get, "/2099-01-01/functions/f").is_none());
    }

    #[test]
    fn runtime_routes_carry_the_instance_token() {
        let r = runtime_route(
            &Method::GET,
            "/lambda-runtime/abc/2018-06-01/runtime/invocation/next",
        );
        assert_eq!(r, Some(("abc".into(), "Next", String::new())));
        let r = runtime_route(
            &Method::POST,
            "/lambda-runtime/abc/2018-06-01/runtime/invocation/id-1/response",
        );
        assert_eq!(r, Some(("abc".into(), "Response", "id-1".into())));
        assert!(runtime_route(&Method::GET, "/2018-06-01/runtime/invocation/next").is_none());
    }

    #[test]
    fn segments_are_percent_decoded() {
        assert_eq!(decode_segment("a%3Ab+c"), "a:b+c");
        assert_eq!(decode_segment("bad%zz%"), "bad%zz%");
    }
}
