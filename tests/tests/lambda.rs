//! Functions end to end: the Lambda API through `aws-sdk-lambda`, and real
//! Python, Node and `provided` (shell) handlers run by Tarn as child
//! processes speaking the Runtime API.

use std::path::Path;
use std::time::{Duration, Instant};

use aws_sdk_lambda::client::Waiters;
use aws_sdk_lambda::error::ProvideErrorMetadata;
use aws_sdk_lambda::primitives::Blob;
use aws_sdk_lambda::types::{
    DestinationConfig, Environment, FunctionCode, InvocationType, LogType, OnFailure, Runtime,
};
use aws_sdk_lambda::Client;
use base64::Engine as _;
use serde_json::{json, Value};
use tarn_tests::{sdk_client, zip_of, Server};

const ROLE: &str = "arn:aws:iam::000000000000:role/lambda-role";

fn client(server: &Server) -> Client {
    sdk_client!(aws_sdk_lambda, &server.endpoint)
}

/// The error code and message of a failed Lambda call.
fn lambda_error<T: std::fmt::Debug, E: ProvideErrorMetadata + std::fmt::Debug>(
    r: Result<T, aws_sdk_lambda::error::SdkError<E>>,
) -> (String, String, u16) {
    match r {
        Ok(v) => panic!("expected an error, got {v:?}"),
        Err(e) => {
            let status = e.raw_response().map(|r| r.status().as_u16()).unwrap_or(0);
            (
                e.code().unwrap_or("").to_owned(),
                e.message().unwrap_or("").to_owned(),
                status,
            )
        }
    }
}

async fn create(
    c: &Client,
    name: &str,
    runtime: Runtime,
    handler: &str,
    zip: Vec<u8>,
    env: &[(&str, &str)],
    timeout_s: i32,
) {
    let mut e = Environment::builder();
    for (k, v) in env {
        e = e.variables(*k, *v);
    }
    let out = c
        .create_function()
        .function_name(name)
        .runtime(runtime)
        .role(ROLE)
        .handler(handler)
        .timeout(timeout_s)
        .environment(e.build())
        .code(FunctionCode::builder().zip_file(Blob::new(zip)).build())
        .send()
        .await
        .expect("create function");
    assert_eq!(out.state().map(|s| s.as_str()), Some("Pending"));
    c.wait_until_function_active_v2()
        .function_name(name)
        .wait(Duration::from_secs(10))
        .await
        .expect("function becomes active");
}

struct Invoked {
    payload: Value,
    function_error: Option<String>,
    log: String,
    version: Option<String>,
    request_id: Option<String>,
}

async fn invoke(c: &Client, name: &str, payload: Value) -> Invoked {
    let out = c
        .invoke()
        .function_name(name)
        .log_type(LogType::Tail)
        .payload(Blob::new(payload.to_string()))
        .send()
        .await
        .expect("invoke");
    assert_eq!(out.status_code(), 200);
    let log = out
        .log_result()
        .map(|b| {
            String::from_utf8(
                base64::engine::general_purpose::STANDARD
                    .decode(b)
                    .expect("base64 log"),
            )
            .expect("utf-8 log")
        })
        .unwrap_or_default();
    let bytes = out
        .payload()
        .map(|b| b.as_ref().to_vec())
        .unwrap_or_default();
    Invoked {
        payload: serde_json::from_slice(&bytes)
            .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into())),
        function_error: out.function_error().map(str::to_owned),
        log,
        version: out.executed_version().map(str::to_owned),
        request_id: aws_sdk_lambda::operation::RequestId::request_id(&out).map(str::to_owned),
    }
}

async fn invoke_event(c: &Client, name: &str, payload: Value) {
    let out = c
        .invoke()
        .function_name(name)
        .invocation_type(InvocationType::Event)
        .payload(Blob::new(payload.to_string()))
        .send()
        .await
        .expect("invoke event");
    assert_eq!(out.status_code(), 202);
}

/// Waits (at most 10 s) until `path` exists and holds `lines` lines.
fn wait_for_lines(path: &Path, lines: usize) -> Vec<String> {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let text = std::fs::read_to_string(path).unwrap_or_default();
        let got: Vec<String> = text.lines().map(str::to_owned).collect();
        if got.len() >= lines {
            return got;
        }
        assert!(
            Instant::now() < deadline,
            "{} has {} of {lines} lines",
            path.display(),
            got.len()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// A file handlers append their events to (the directory lives as long as
/// the first value), its path and the path as text for `OUT`.
fn events_file() -> (tempfile::TempDir, std::path::PathBuf, String) {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("events");
    let text = path.to_str().expect("utf-8").to_owned();
    (dir, path, text)
}

/// Whether a process is gone (or a zombie nobody reaped yet).
fn gone(pid: u64) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Err(_) => true,
        Ok(stat) => stat
            .rsplit(')')
            .next()
            .is_some_and(|rest| rest.trim_start().starts_with('Z')),
    }
}

const PYTHON_APP: &str = r#"
import json, os, sys, time

def handler(event, context):
    print("python got", json.dumps(event))
    out = os.environ.get("OUT")
    if out:
        with open(out, "a") as f:
            f.write(json.dumps(event) + "\n")
    if event.get("fail"):
        raise ValueError("bad input: " + str(event.get("fail")))
    if event.get("crash"):
        os._exit(3)
    if event.get("sleep"):
        time.sleep(event["sleep"])
    return {
        "event": event,
        "pid": os.getpid(),
        "request_id": context.aws_request_id,
        "function_name": context.function_name,
        "function_version": context.function_version,
        "arn": context.invoked_function_arn,
        "memory": context.memory_limit_in_mb,
        "remaining_ms": context.get_remaining_time_in_millis(),
        "log_group": context.log_group_name,
        "log_stream": context.log_stream_name,
        "env": {k: os.environ.get(k) for k in [
            "AWS_LAMBDA_FUNCTION_NAME", "AWS_LAMBDA_FUNCTION_VERSION",
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "AWS_REGION", "AWS_DEFAULT_REGION",
            "AWS_LAMBDA_LOG_GROUP_NAME", "AWS_LAMBDA_LOG_STREAM_NAME", "_HANDLER",
            "LAMBDA_TASK_ROOT", "AWS_LAMBDA_RUNTIME_API", "AWS_ACCESS_KEY_ID",
            "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "TZ", "GREETING"]},
        "cwd": os.getcwd(),
    }
"#;

fn python_zip() -> Vec<u8> {
    zip_of(&[("app.py", PYTHON_APP, 0o644)])
}

#[tokio::test]
async fn a_python_handler_runs_with_lambdas_context_environment_and_log() {
    let server = Server::start();
    let c = client(&server);
    let (_out, out_file, out_str) = events_file();
    create(
        &c,
        "py",
        Runtime::Python312,
        "app.handler",
        python_zip(),
        &[("GREETING", "hi"), ("OUT", &out_str)],
        3,
    )
    .await;

    let r = invoke(&c, "py", json!({"n": 1})).await;
    assert_eq!(r.function_error, None, "{:?}", r.payload);
    assert_eq!(
        r.request_id.as_deref(),
        r.payload["request_id"].as_str(),
        "the reply's request id is the invocation's"
    );
    assert_eq!(r.version.as_deref(), Some("$LATEST"));
    let p = &r.payload;
    assert_eq!(p["event"], json!({"n": 1}));
    assert_eq!(p["function_name"], "py");
    assert_eq!(p["function_version"], "$LATEST");
    assert_eq!(
        p["arn"],
        "arn:aws:lambda:us-east-1:000000000000:function:py"
    );
    assert_eq!(p["memory"], "128");
    let remaining = p["remaining_ms"].as_u64().expect("remaining");
    assert!(remaining > 0 && remaining <= 3000, "{remaining}");
    assert_eq!(p["log_group"], "/aws/lambda/py");
    let env = &p["env"];
    assert_eq!(env["AWS_LAMBDA_FUNCTION_NAME"], "py");
    assert_eq!(env["AWS_LAMBDA_FUNCTION_VERSION"], "$LATEST");
    assert_eq!(env["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"], "128");
    assert_eq!(env["AWS_REGION"], "us-east-1");
    assert_eq!(env["AWS_DEFAULT_REGION"], "us-east-1");
    assert_eq!(env["AWS_LAMBDA_LOG_GROUP_NAME"], "/aws/lambda/py");
    assert_eq!(env["_HANDLER"], "app.handler");
    assert_eq!(env["TZ"], ":UTC");
    assert_eq!(env["GREETING"], "hi");
    assert!(env["AWS_ACCESS_KEY_ID"].is_string());
    assert!(env["AWS_SECRET_ACCESS_KEY"].is_string());
    assert!(env["AWS_SESSION_TOKEN"].is_string());
    let host = server.endpoint.trim_start_matches("http://");
    let api = env["AWS_LAMBDA_RUNTIME_API"].as_str().expect("api");
    // Lambda's bare `host:port`: the instance's own port, not Tarn's.
    assert!(is_loopback_host_port(api), "{api}");
    assert_ne!(api, host);
    assert_eq!(env["LAMBDA_TASK_ROOT"], p["cwd"]);
    // YYYY/MM/DD/[$LATEST]<32 hex>
    let stream = p["log_stream"].as_str().expect("stream");
    assert_eq!(env["AWS_LAMBDA_LOG_STREAM_NAME"], stream);
    let (date, id) = stream.split_once("/[$LATEST]").expect("stream shape");
    assert_eq!(date.len(), 10, "{stream}");
    assert!(
        id.len() == 32 && id.bytes().all(|b| b.is_ascii_hexdigit()),
        "{stream}"
    );

    // The tail: Lambda's START/END/REPORT around the handler's output.
    let request_id = p["request_id"].as_str().expect("request id");
    let lines: Vec<&str> = r.log.lines().collect();
    assert_eq!(
        lines.first().copied(),
        Some(format!("START RequestId: {request_id} Version: $LATEST").as_str())
    );
    assert!(r.log.contains("python got {\"n\": 1}"), "{}", r.log);
    assert!(
        r.log.contains(&format!(
            "END RequestId: {request_id}\nREPORT RequestId: {request_id}\tDuration: "
        )),
        "{}",
        r.log
    );
    assert!(r.log.contains("Init Duration: "), "cold start: {}", r.log);

    // Warm: the same process, no init.
    let again = invoke(&c, "py", json!({"n": 2})).await;
    assert_eq!(again.payload["pid"], p["pid"]);
    assert!(!again.log.contains("Init Duration"), "{}", again.log);

    // Asynchronously: queued, then run.
    invoke_event(&c, "py", json!({"n": 3})).await;
    let events = wait_for_lines(&out_file, 3);
    assert_eq!(events[2], r#"{"n": 3}"#);
}

#[tokio::test]
async fn handler_errors_timeouts_and_crashes_are_reported_as_lambda_does() {
    let server = Server::start();
    let c = client(&server);
    create(
        &c,
        "py",
        Runtime::Python312,
        "app.handler",
        python_zip(),
        &[],
        1,
    )
    .await;

    let r = invoke(&c, "py", json!({"fail": "x"})).await;
    assert_eq!(r.function_error.as_deref(), Some("Unhandled"));
    assert_eq!(r.payload["errorType"], "ValueError");
    assert_eq!(r.payload["errorMessage"], "bad input: x");
    let trace = r.payload["stackTrace"].as_array().expect("stackTrace");
    assert!(
        trace
            .iter()
            .any(|f| f.as_str().unwrap_or("").contains("app.py")),
        "{trace:?}"
    );
    // A handled error leaves the instance warm.
    let warm = invoke(&c, "py", json!({})).await;
    assert_eq!(warm.function_error, None);
    let pid = warm.payload["pid"].clone();

    let started = Instant::now();
    let r = invoke(&c, "py", json!({"sleep": 10})).await;
    assert!(started.elapsed() < Duration::from_secs(5));
    assert_eq!(r.function_error.as_deref(), Some("Unhandled"));
    assert_eq!(r.payload["errorType"], "Sandbox.Timedout");
    let msg = r.payload["errorMessage"].as_str().expect("message");
    assert!(msg.ends_with("Task timed out after 1.00 seconds"), "{msg}");
    assert!(
        r.log.contains("Task timed out after 1.00 seconds"),
        "{}",
        r.log
    );
    // The timed-out instance was killed: the next runs on a new one.
    let after = invoke(&c, "py", json!({})).await;
    assert_eq!(after.function_error, None);
    assert_ne!(after.payload["pid"], pid);
    let pid = pid.as_u64().expect("pid");
    let deadline = Instant::now() + Duration::from_secs(3);
    while !gone(pid) {
        assert!(
            Instant::now() < deadline,
            "timed-out instance {pid} lives on"
        );
        std::thread::sleep(Duration::from_millis(20));
    }

    // A crash is Runtime.ExitError, and the instance is replaced.
    let crashed_pid = after.payload["pid"].clone();
    let r = invoke(&c, "py", json!({"crash": true})).await;
    assert_eq!(r.function_error.as_deref(), Some("Unhandled"));
    assert_eq!(r.payload["errorType"], "Runtime.ExitError");
    assert!(
        r.payload["errorMessage"]
            .as_str()
            .unwrap_or("")
            .ends_with("Runtime exited with error: exit status 3"),
        "{:?}",
        r.payload
    );
    let next = invoke(&c, "py", json!({})).await;
    assert_eq!(next.function_error, None);
    assert_ne!(next.payload["pid"], crashed_pid);

    // An import error is reported by the runtime's init error.
    create(
        &c,
        "broken",
        Runtime::Python312,
        "nope.handler",
        python_zip(),
        &[],
        1,
    )
    .await;
    let r = invoke(&c, "broken", json!({})).await;
    assert_eq!(r.function_error.as_deref(), Some("Unhandled"));
    assert_eq!(r.payload["errorType"], "Runtime.ImportModuleError");
    assert!(
        r.payload["errorMessage"]
            .as_str()
            .unwrap_or("")
            .starts_with("Unable to import module 'nope'"),
        "{:?}",
        r.payload
    );
}

const NODE_APP: &str = r#"
const fs = require("fs");
exports.handler = async (event, context) => {
  console.log("node got", JSON.stringify(event));
  if (process.env.OUT) fs.appendFileSync(process.env.OUT, JSON.stringify(event) + "\n");
  if (event.fail) throw new TypeError("node says " + event.fail);
  return {
    event,
    pid: process.pid,
    requestId: context.awsRequestId,
    functionName: context.functionName,
    memory: context.memoryLimitInMB,
    remaining: context.getRemainingTimeInMillis(),
    arn: context.invokedFunctionArn,
    greeting: process.env.GREETING,
  };
};
exports.callback = (event, context, callback) => {
  setTimeout(() => callback(null, { via: "callback", event }), 5);
};
"#;

#[tokio::test]
async fn a_node_handler_runs_async_and_callback_style_with_lambdas_errors() {
    let server = Server::start();
    let c = client(&server);
    let (_out, out_file, out_str) = events_file();
    let zip = zip_of(&[("index.js", NODE_APP, 0o644)]);
    create(
        &c,
        "node",
        Runtime::Nodejs20x,
        "index.handler",
        zip.clone(),
        &[("GREETING", "hello"), ("OUT", &out_str)],
        3,
    )
    .await;
    let r = invoke(&c, "node", json!({"k": "v"})).await;
    assert_eq!(r.function_error, None, "{:?}", r.payload);
    let p = &r.payload;
    assert_eq!(p["event"], json!({"k": "v"}));
    assert_eq!(p["functionName"], "node");
    assert_eq!(p["memory"], "128");
    assert_eq!(p["greeting"], "hello");
    assert_eq!(
        p["arn"],
        "arn:aws:lambda:us-east-1:000000000000:function:node"
    );
    assert!(p["remaining"].as_u64().unwrap_or(0) > 0);
    let request_id = p["requestId"].as_str().expect("request id");
    // Node's console lines carry the time, request id and level.
    assert!(
        r.log
            .contains(&format!("\t{request_id}\tINFO\tnode got {{\"k\":\"v\"}}")),
        "{}",
        r.log
    );

    let r = invoke(&c, "node", json!({"fail": "no"})).await;
    assert_eq!(r.function_error.as_deref(), Some("Unhandled"));
    assert_eq!(r.payload["errorType"], "TypeError");
    assert_eq!(r.payload["errorMessage"], "node says no");
    assert!(r.payload["trace"].is_array(), "{:?}", r.payload);

    invoke_event(&c, "node", json!({"async": 1})).await;
    let events = wait_for_lines(&out_file, 3);
    assert_eq!(events[2], r#"{"async":1}"#);

    create(
        &c,
        "node-cb",
        Runtime::Nodejs20x,
        "index.callback",
        zip,
        &[],
        3,
    )
    .await;
    let r = invoke(&c, "node-cb", json!({"x": 1})).await;
    assert_eq!(r.payload, json!({"via": "callback", "event": {"x": 1}}));
}

const BOOTSTRAP: &str = r#"#!/bin/sh
set -eu
API="http://${AWS_LAMBDA_RUNTIME_API}/2018-06-01/runtime"
while true; do
  HEADERS="$(mktemp)"
  EVENT="$(curl -sS -D "$HEADERS" "$API/invocation/next")"
  ID="$(grep -i '^lambda-runtime-aws-request-id:' "$HEADERS" | cut -d' ' -f2 | tr -d '\r\n')"
  rm -f "$HEADERS"
  echo "bootstrap got $EVENT"
  if [ -n "${OUT:-}" ]; then echo "$EVENT" >> "$OUT"; fi
  curl -sS -X POST "$API/invocation/$ID/response" \
    -d "{\"echo\":$EVENT,\"handler\":\"$_HANDLER\",\"pid\":$$}" > /dev/null
done
"#;

#[tokio::test]
async fn a_provided_bootstrap_speaks_the_runtime_api_itself() {
    let server = Server::start();
    let c = client(&server);
    let (_out, out_file, out_str) = events_file();
    let zip = zip_of(&[("bootstrap", BOOTSTRAP, 0o755)]);
    create(
        &c,
        "sh",
        Runtime::Providedal2023,
        "my.handler",
        zip,
        &[("OUT", &out_str)],
        3,
    )
    .await;
    let r = invoke(&c, "sh", json!({"a": [1, 2]})).await;
    assert_eq!(r.function_error, None, "{:?}", r.payload);
    assert_eq!(r.payload["echo"], json!({"a": [1, 2]}));
    assert_eq!(r.payload["handler"], "my.handler");
    assert!(r.log.contains("bootstrap got {\"a\":[1,2]}"), "{}", r.log);
    invoke_event(&c, "sh", json!({"b": 1})).await;
    let events = wait_for_lines(&out_file, 2);
    assert_eq!(events[1], r#"{"b":1}"#);

    // A zip without a bootstrap.
    create(
        &c,
        "empty",
        Runtime::Providedal2,
        "h",
        zip_of(&[("README", "x", 0o644)]),
        &[],
        3,
    )
    .await;
    let r = invoke(&c, "empty", json!({})).await;
    assert_eq!(r.function_error.as_deref(), Some("Unhandled"));
    assert_eq!(r.payload["errorType"], "Runtime.InvalidEntrypoint");
}

#[tokio::test]
async fn parallel_invokes_start_instances_up_to_the_limits_and_reuse_warm_ones() {
    let server = Server::start();
    let c = client(&server);
    create(
        &c,
        "par",
        Runtime::Python312,
        "app.handler",
        python_zip(),
        &[],
        3,
    )
    .await;
    let calls = (0..3).map(|_| invoke(&c, "par", json!({"sleep": 0.6})));
    let results = futures_join_all(calls).await;
    let mut pids: Vec<u64> = results
        .iter()
        .map(|r| r.payload["pid"].as_u64().expect("pid"))
        .collect();
    pids.sort_unstable();
    pids.dedup();
    assert_eq!(pids.len(), 3, "three parallel invokes, three instances");
    let next = invoke(&c, "par", json!({})).await;
    let warm = next.payload["pid"].as_u64().expect("pid");
    assert!(pids.contains(&warm), "{warm} is a new instance");
    assert!(!next.log.contains("Init Duration"));

    // Reserved concurrency 1: a second concurrent invoke is throttled.
    let put = c
        .put_function_concurrency()
        .function_name("par")
        .reserved_concurrent_executions(1)
        .send()
        .await
        .expect("put concurrency");
    assert_eq!(put.reserved_concurrent_executions(), Some(1));
    let slow = invoke(&c, "par", json!({"sleep": 0.8}));
    let second = async {
        tokio::time::sleep(Duration::from_millis(300)).await;
        c.invoke()
            .function_name("par")
            .payload(Blob::new("{}"))
            .send()
            .await
    };
    let (first, second) = tokio::join!(slow, second);
    assert_eq!(first.function_error, None);
    match &second {
        Err(aws_sdk_lambda::error::SdkError::ServiceError(e)) => match e.err() {
            aws_sdk_lambda::operation::invoke::InvokeError::TooManyRequestsException(t) => {
                assert_eq!(
                    t.reason().map(|r| r.as_str()),
                    Some("ReservedFunctionConcurrentInvocationLimitExceeded")
                );
                assert_eq!(t.r#type(), Some("User"));
            }
            other => panic!("expected TooManyRequestsException, got {other:?}"),
        },
        other => panic!("expected a service error, got {other:?}"),
    }
    let (code, message, status) = lambda_error(second);
    assert_eq!(
        (code.as_str(), message.as_str(), status),
        ("TooManyRequestsException", "Rate Exceeded.", 429)
    );
    let got = c
        .get_function_concurrency()
        .function_name("par")
        .send()
        .await
        .expect("get concurrency");
    assert_eq!(got.reserved_concurrent_executions(), Some(1));
    c.delete_function_concurrency()
        .function_name("par")
        .send()
        .await
        .expect("delete concurrency");
    let got = c
        .get_function_concurrency()
        .function_name("par")
        .send()
        .await
        .expect("get concurrency");
    assert_eq!(got.reserved_concurrent_executions(), None);
}

/// `futures::future::join_all` without the dependency: polls every
/// future together, returns their outputs in order.
async fn futures_join_all<F: std::future::Future>(
    futures: impl Iterator<Item = F>,
) -> Vec<F::Output> {
    join_vec(futures.collect()).await
}

async fn join_vec<F: std::future::Future>(mut futures: Vec<F>) -> Vec<F::Output> {
    use std::pin::Pin;
    use std::task::{Context, Poll};
    let mut pinned: Vec<Pin<Box<F>>> = futures.drain(..).map(Box::pin).collect();
    let mut outputs: Vec<Option<F::Output>> = pinned.iter().map(|_| None).collect();
    std::future::poll_fn(move |cx: &mut Context<'_>| {
        let mut pending = false;
        for (i, f) in pinned.iter_mut().enumerate() {
            if outputs[i].is_none() {
                match f.as_mut().poll(cx) {
                    Poll::Ready(v) => outputs[i] = Some(v),
                    Poll::Pending => pending = true,
                }
            }
        }
        if pending {
            Poll::Pending
        } else {
            Poll::Ready(outputs.iter_mut().filter_map(Option::take).collect())
        }
    })
    .await
}

const RECORDER: &str = r#"
import json, os
def handler(event, context):
    with open(os.environ["OUT"], "a") as f:
        f.write(json.dumps(event) + "\n")
    return "recorded"
"#;

#[tokio::test]
async fn failed_async_invokes_are_retried_then_sent_to_the_on_failure_function() {
    let server = Server::start_with(&["--lambda-retry-delay-ms", "100"]);
    let c = client(&server);
    let out = tempfile::tempdir().expect("tempdir");
    let attempts = out.path().join("attempts");
    let records = out.path().join("records");
    create(
        &c,
        "flaky",
        Runtime::Python312,
        "app.handler",
        python_zip(),
        &[("OUT", attempts.to_str().expect("utf-8"))],
        3,
    )
    .await;
    create(
        &c,
        "recorder",
        Runtime::Python312,
        "rec.handler",
        zip_of(&[("rec.py", RECORDER, 0o644)]),
        &[("OUT", records.to_str().expect("utf-8"))],
        3,
    )
    .await;
    let recorder_arn = "arn:aws:lambda:us-east-1:000000000000:function:recorder";
    let put = c
        .put_function_event_invoke_config()
        .function_name("flaky")
        .maximum_retry_attempts(1)
        .maximum_event_age_in_seconds(60)
        .destination_config(
            DestinationConfig::builder()
                .on_failure(OnFailure::builder().destination(recorder_arn).build())
                .build(),
        )
        .send()
        .await
        .expect("put event invoke config");
    assert_eq!(put.maximum_retry_attempts(), Some(1));
    assert_eq!(
        put.function_arn(),
        Some("arn:aws:lambda:us-east-1:000000000000:function:flaky:$LATEST")
    );
    let got = c
        .get_function_event_invoke_config()
        .function_name("flaky")
        .send()
        .await
        .expect("get event invoke config");
    assert_eq!(got.maximum_event_age_in_seconds(), Some(60));
    assert_eq!(
        got.destination_config()
            .and_then(|d| d.on_failure())
            .and_then(|f| f.destination()),
        Some(recorder_arn)
    );

    invoke_event(&c, "flaky", json!({"fail": "always"})).await;
    let record = wait_for_lines(&records, 1);
    let record: Value = serde_json::from_str(&record[0]).expect("record json");
    assert_eq!(record["version"], "1.0");
    assert_eq!(record["requestContext"]["condition"], "RetriesExhausted");
    assert_eq!(record["requestContext"]["approximateInvokeCount"], 2);
    assert_eq!(
        record["requestContext"]["functionArn"],
        "arn:aws:lambda:us-east-1:000000000000:function:flaky:$LATEST"
    );
    assert_eq!(record["requestPayload"], json!({"fail": "always"}));
    assert_eq!(record["responseContext"]["functionError"], "Unhandled");
    assert_eq!(record["responseContext"]["executedVersion"], "$LATEST");
    assert_eq!(record["responsePayload"]["errorType"], "ValueError");
    // One try and one retry.
    assert_eq!(wait_for_lines(&attempts, 2).len(), 2);
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(
        std::fs::read_to_string(&attempts)
            .unwrap_or_default()
            .lines()
            .count(),
        2,
        "no third attempt"
    );

    let listed = c
        .list_function_event_invoke_configs()
        .function_name("flaky")
        .send()
        .await
        .expect("list configs");
    assert_eq!(listed.function_event_invoke_configs().len(), 1);
    c.delete_function_event_invoke_config()
        .function_name("flaky")
        .send()
        .await
        .expect("delete config");
    let (code, message, status) = lambda_error(
        c.get_function_event_invoke_config()
            .function_name("flaky")
            .send()
            .await,
    );
    assert_eq!(
        (code.as_str(), message.as_str(), status),
        (
            "ResourceNotFoundException",
            "The function arn:aws:lambda:us-east-1:000000000000:function:flaky:$LATEST doesn't have an EventInvokeConfig",
            404
        )
    );
}

#[tokio::test]
async fn versions_and_aliases_pin_code_and_configuration() {
    let server = Server::start();
    let c = client(&server);
    let v1 = zip_of(&[("app.py", "def handler(e, c):\n    return 'one'\n", 0o644)]);
    let v2 = zip_of(&[("app.py", "def handler(e, c):\n    return 'two'\n", 0o644)]);
    create(&c, "ver", Runtime::Python312, "app.handler", v1, &[], 3).await;
    let p1 = c
        .publish_version()
        .function_name("ver")
        .send()
        .await
        .expect("publish 1");
    assert_eq!(p1.version(), Some("1"));
    assert_eq!(
        p1.function_arn(),
        Some("arn:aws:lambda:us-east-1:000000000000:function:ver:1")
    );
    let updated = c
        .update_function_code()
        .function_name("ver")
        .zip_file(Blob::new(v2))
        .send()
        .await
        .expect("update code");
    assert_eq!(
        updated.last_update_status().map(|s| s.as_str()),
        Some("InProgress")
    );
    assert_ne!(updated.code_sha256(), p1.code_sha256());
    c.wait_until_function_updated_v2()
        .function_name("ver")
        .wait(Duration::from_secs(10))
        .await
        .expect("update finishes");
    let p2 = c
        .publish_version()
        .function_name("ver")
        .send()
        .await
        .expect("publish 2");
    assert_eq!(p2.version(), Some("2"));
    // Nothing changed: the same version again.
    let p2_again = c
        .publish_version()
        .function_name("ver")
        .send()
        .await
        .expect("publish again");
    assert_eq!(p2_again.version(), Some("2"));

    let alias = c
        .create_alias()
        .function_name("ver")
        .name("live")
        .function_version("1")
        .send()
        .await
        .expect("create alias");
    assert_eq!(
        alias.alias_arn(),
        Some("arn:aws:lambda:us-east-1:000000000000:function:ver:live")
    );
    let r = invoke(&c, "ver:live", json!({})).await;
    assert_eq!(
        (r.payload.clone(), r.version.as_deref()),
        (json!("one"), Some("1"))
    );
    let r = invoke(&c, "ver", json!({})).await;
    assert_eq!(
        (r.payload.clone(), r.version.as_deref()),
        (json!("two"), Some("$LATEST"))
    );
    let r = c
        .invoke()
        .function_name("ver")
        .qualifier("2")
        .send()
        .await
        .expect("invoke 2");
    assert_eq!(r.executed_version(), Some("2"));

    c.update_alias()
        .function_name("ver")
        .name("live")
        .function_version("2")
        .send()
        .await
        .expect("update alias");
    let r = invoke(&c, "ver:live", json!({})).await;
    assert_eq!(
        (r.payload.clone(), r.version.as_deref()),
        (json!("two"), Some("2"))
    );
    let aliases = c
        .list_aliases()
        .function_name("ver")
        .send()
        .await
        .expect("list aliases");
    assert_eq!(aliases.aliases().len(), 1);
    let versions = c
        .list_versions_by_function()
        .function_name("ver")
        .send()
        .await
        .expect("list versions");
    let names: Vec<&str> = versions
        .versions()
        .iter()
        .filter_map(|v| v.version())
        .collect();
    assert_eq!(names, ["$LATEST", "1", "2"]);

    let (code, message, status) =
        lambda_error(c.get_alias().function_name("ver").name("nope").send().await);
    assert_eq!(
        (code.as_str(), message.as_str(), status),
        (
            "ResourceNotFoundException",
            "Cannot find alias arn: arn:aws:lambda:us-east-1:000000000000:function:ver:nope",
            404
        )
    );
    let (code, message, status) = lambda_error(
        c.create_alias()
            .function_name("ver")
            .name("live")
            .function_version("1")
            .send()
            .await,
    );
    assert_eq!(
        (code.as_str(), message.as_str(), status),
        (
            "ResourceConflictException",
            "Alias already exists: arn:aws:lambda:us-east-1:000000000000:function:ver:live",
            409
        )
    );
    let (code, message, _) = lambda_error(c.invoke().function_name("ver:9").send().await);
    assert_eq!(
        (code.as_str(), message.as_str()),
        (
            "ResourceNotFoundException",
            "Function not found: arn:aws:lambda:us-east-1:000000000000:function:ver:9"
        )
    );
    c.delete_alias()
        .function_name("ver")
        .name("live")
        .send()
        .await
        .expect("delete alias");
    c.delete_function()
        .function_name("ver")
        .qualifier("1")
        .send()
        .await
        .expect("delete version 1");
    let (code, message, _) = lambda_error(
        c.delete_function()
            .function_name("ver")
            .qualifier("$LATEST")
            .send()
            .await,
    );
    assert_eq!(
        (code.as_str(), message.as_str()),
        (
            "InvalidParameterValueException",
            "$LATEST version cannot be deleted without deleting the function."
        )
    );
}

#[tokio::test]
async fn the_api_manages_functions_and_answers_with_lambdas_errors() {
    let server = Server::start();
    let c = client(&server);
    for i in 0..3 {
        create(
            &c,
            &format!("f{i}"),
            Runtime::Python312,
            "app.handler",
            python_zip(),
            &[],
            3,
        )
        .await;
    }
    // Paging.
    let page = c.list_functions().max_items(2).send().await.expect("list");
    let names: Vec<&str> = page
        .functions()
        .iter()
        .filter_map(|f| f.function_name())
        .collect();
    assert_eq!(names, ["f0", "f1"]);
    let rest = c
        .list_functions()
        .marker(page.next_marker().expect("marker"))
        .send()
        .await
        .expect("list rest");
    assert_eq!(rest.functions().len(), 1);
    assert_eq!(rest.next_marker(), None);

    let got = c
        .get_function()
        .function_name("f0")
        .send()
        .await
        .expect("get");
    let config = got.configuration().expect("configuration");
    assert_eq!(config.state().map(|s| s.as_str()), Some("Active"));
    assert_eq!(
        config.last_update_status().map(|s| s.as_str()),
        Some("Successful")
    );
    assert_eq!(config.code_sha256().map(str::len), Some(44));
    let updated = c
        .update_function_configuration()
        .function_name("f0")
        .timeout(7)
        .memory_size(256)
        .handler("app.other")
        .environment(Environment::builder().variables("A", "1").build())
        .send()
        .await
        .expect("update configuration");
    assert_eq!(
        (updated.timeout(), updated.memory_size(), updated.handler()),
        (Some(7), Some(256), Some("app.other"))
    );
    let got = c
        .get_function_configuration()
        .function_name("arn:aws:lambda:us-east-1:000000000000:function:f0")
        .send()
        .await
        .expect("get by arn");
    assert_eq!(
        got.environment()
            .and_then(|e| e.variables())
            .and_then(|v| v.get("A")),
        Some(&"1".to_owned())
    );

    // Tags.
    let arn = "arn:aws:lambda:us-east-1:000000000000:function:f1";
    c.tag_resource()
        .resource(arn)
        .tags("team", "a")
        .tags("env", "dev")
        .send()
        .await
        .expect("tag");
    c.untag_resource()
        .resource(arn)
        .tag_keys("env")
        .send()
        .await
        .expect("untag");
    let tags = c.list_tags().resource(arn).send().await.expect("list tags");
    assert_eq!(tags.tags().map(|t| t.len()), Some(1));
    assert_eq!(
        tags.tags().and_then(|t| t.get("team")),
        Some(&"a".to_owned())
    );

    // DryRun checks the function exists and runs nothing.
    let dry = c
        .invoke()
        .function_name("f1")
        .invocation_type(InvocationType::DryRun)
        .send()
        .await
        .expect("dry run");
    assert_eq!(dry.status_code(), 204);

    // Errors.
    let new_function = |name: &str| {
        c.create_function()
            .function_name(name)
            .runtime(Runtime::Python312)
            .role(ROLE)
            .handler("app.handler")
            .code(
                FunctionCode::builder()
                    .zip_file(Blob::new(python_zip()))
                    .build(),
            )
    };
    let check = |got: (String, String, u16), want: (&str, &str, u16)| {
        assert_eq!((got.0.as_str(), got.1.as_str(), got.2), want);
    };
    check(
        lambda_error(c.get_function().function_name("nope").send().await),
        (
            "ResourceNotFoundException",
            "Function not found: arn:aws:lambda:us-east-1:000000000000:function:nope",
            404,
        ),
    );
    check(
        lambda_error(c.invoke().function_name("nope").send().await),
        (
            "ResourceNotFoundException",
            "Function not found: arn:aws:lambda:us-east-1:000000000000:function:nope",
            404,
        ),
    );
    check(
        lambda_error(
            c.create_function()
                .function_name("f0")
                .runtime(Runtime::Python312)
                .role(ROLE)
                .handler("app.handler")
                .code(
                    FunctionCode::builder()
                        .zip_file(Blob::new(python_zip()))
                        .build(),
                )
                .send()
                .await,
        ),
        (
            "ResourceConflictException",
            "Function already exist: f0",
            409,
        ),
    );
    check(
        lambda_error(
            new_function("g")
                .role("not-a-role")
                .send()
                .await,
        ),
        (
            "ValidationException",
            "1 validation error detected: Value 'not-a-role' at 'role' failed to satisfy constraint: Member must satisfy regular expression pattern: arn:(aws[a-zA-Z-]*)?:iam::\\d{12}:role/?[a-zA-Z_0-9+=,.@\\-_/]+",
            400,
        ),
    );
    check(
        lambda_error(
            new_function("g")
                .timeout(0)
                .send()
                .await,
        ),
        (
            "ValidationException",
            "1 validation error detected: Value '0' at 'timeout' failed to satisfy constraint: Member must have value greater than or equal to 1",
            400,
        ),
    );
    check(
        lambda_error(
            new_function("g")
                .code(
                    FunctionCode::builder()
                        .zip_file(Blob::new("not a zip"))
                        .build(),
                )
                .send()
                .await,
        ),
        (
            "InvalidParameterValueException",
            "Could not unzip uploaded file. Please check your file, then try to upload again.",
            400,
        ),
    );
    check(
        lambda_error(
            new_function("g")
                .environment(Environment::builder().variables("AWS_REGION", "x").build())
                .send()
                .await,
        ),
        (
            "InvalidParameterValueException",
            "Lambda was unable to configure your environment variables because the environment variables you have provided contains reserved keys that are currently not supported for modification. Reserved keys used in this request: AWS_REGION",
            400,
        ),
    );
    check(
        lambda_error(
            c.invoke()
                .function_name("f1")
                .payload(Blob::new("{not json"))
                .send()
                .await,
        ),
        (
            "InvalidRequestContentException",
            "Could not parse request body into json: Could not parse payload into json: key must be a string at line 1 column 2",
            400,
        ),
    );
    check(
        lambda_error(
            c.put_function_event_invoke_config()
                .function_name("f1")
                .maximum_retry_attempts(3)
                .send()
                .await,
        ),
        (
            "ValidationException",
            "1 validation error detected: Value '3' at 'maximumRetryAttempts' failed to satisfy constraint: Member must have value less than or equal to 2",
            400,
        ),
    );
    check(
        lambda_error(c.get_function().function_name("bad name!").send().await),
        (
            "ValidationException",
            "1 validation error detected: Value 'bad name!' at 'functionName' failed to satisfy constraint: Member must satisfy regular expression pattern: (arn:(aws[a-zA-Z-]*)?:lambda:)?([a-z]{2}(-gov)?-[a-z]+-\\d{1}:)?(\\d{12}:)?(function:)?([a-zA-Z0-9-_\\.]+)(:(\\$LATEST|[a-zA-Z0-9-_]+))?",
            400,
        ),
    );

    // Deleting removes the function and everything of it.
    c.delete_function()
        .function_name("f2")
        .send()
        .await
        .expect("delete");
    check(
        lambda_error(c.delete_function().function_name("f2").send().await),
        (
            "ResourceNotFoundException",
            "Function not found: arn:aws:lambda:us-east-1:000000000000:function:f2",
            404,
        ),
    );
}

#[tokio::test]
async fn a_local_directory_is_run_in_place_with_the_tarn_local_bucket() {
    let server = Server::start();
    let c = client(&server);
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        dir.path().join("app.py"),
        "def handler(e, c):\n    return 'from disk'\n",
    )
    .expect("write");
    c.create_function()
        .function_name("local")
        .runtime(Runtime::Python312)
        .role(ROLE)
        .handler("app.handler")
        .code(
            FunctionCode::builder()
                .s3_bucket("tarn-local")
                .s3_key(dir.path().to_str().expect("utf-8"))
                .build(),
        )
        .send()
        .await
        .expect("create from a directory");
    let r = invoke(&c, "local", json!({})).await;
    assert_eq!(r.payload, json!("from disk"));
    let (code, _, status) = lambda_error(
        c.create_function()
            .function_name("relative")
            .runtime(Runtime::Python312)
            .role(ROLE)
            .handler("app.handler")
            .code(
                FunctionCode::builder()
                    .s3_bucket("tarn-local")
                    .s3_key("relative/dir")
                    .build(),
            )
            .send()
            .await,
    );
    assert_eq!(
        (code.as_str(), status),
        ("InvalidParameterValueException", 400)
    );
}

#[tokio::test]
async fn no_instance_outlives_a_sigkilled_tarn() {
    let mut server = Server::start();
    let c = client(&server);
    create(
        &c,
        "py",
        Runtime::Python312,
        "app.handler",
        python_zip(),
        &[],
        3,
    )
    .await;
    let zip = zip_of(&[("bootstrap", BOOTSTRAP, 0o755)]);
    create(&c, "sh", Runtime::Providedal2023, "h", zip, &[], 3).await;
    let calls = (0..2).map(|_| invoke(&c, "py", json!({"sleep": 0.3})));
    let mut pids: Vec<u64> = futures_join_all(calls)
        .await
        .iter()
        .map(|r| r.payload["pid"].as_u64().expect("pid"))
        .collect();
    let sh = invoke(&c, "sh", json!({})).await;
    pids.push(sh.payload["pid"].as_u64().expect("pid"));
    for pid in &pids {
        assert!(!gone(*pid), "instance {pid} is warm before the kill");
    }
    server.kill();
    let deadline = Instant::now() + Duration::from_secs(3);
    for pid in pids {
        while !gone(pid) {
            assert!(
                Instant::now() < deadline,
                "instance {pid} outlived tarn's SIGKILL"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

#[tokio::test]
async fn queued_invokes_and_functions_survive_a_sigkill_and_drain_at_start() {
    let data = tempfile::tempdir().expect("tempdir");
    let out = tempfile::tempdir().expect("tempdir");
    let events = out.path().join("events");
    let mut server = Server::start_in(data.path(), &[]);
    let c = client(&server);
    create(
        &c,
        "held",
        Runtime::Python312,
        "app.handler",
        python_zip(),
        &[("OUT", events.to_str().expect("utf-8"))],
        3,
    )
    .await;
    // Reserved concurrency 0 holds every invocation in the queue.
    c.put_function_concurrency()
        .function_name("held")
        .reserved_concurrent_executions(0)
        .send()
        .await
        .expect("put concurrency");
    let (code, _, status) = lambda_error(
        c.invoke()
            .function_name("held")
            .payload(Blob::new("{}"))
            .send()
            .await,
    );
    assert_eq!((code.as_str(), status), ("TooManyRequestsException", 429));
    for i in 0..3 {
        invoke_event(&c, "held", json!({"i": i})).await;
    }
    std::thread::sleep(Duration::from_millis(200));
    assert!(!events.exists(), "nothing ran while throttled");
    server.kill();

    let server = Server::start_in(data.path(), &[]);
    let c = client(&server);
    c.delete_function_concurrency()
        .function_name("held")
        .send()
        .await
        .expect("delete concurrency");
    let mut got = wait_for_lines(&events, 3);
    got.sort();
    assert_eq!(got, [r#"{"i": 0}"#, r#"{"i": 1}"#, r#"{"i": 2}"#]);
    // The unpacked code outlived the restart too.
    let r = invoke(&c, "held", json!({"again": true})).await;
    assert_eq!(r.function_error, None, "{:?}", r.payload);
}

/// `^127\.0\.0\.1:[0-9]+$`.
fn is_loopback_host_port(s: &str) -> bool {
    s.strip_prefix("127.0.0.1:")
        .is_some_and(|port| !port.is_empty() && port.bytes().all(|b| b.is_ascii_digit()))
}

/// A bootstrap that builds its URLs as Lambda's own clients do
/// (`http://$AWS_LAMBDA_RUNTIME_API/2018-06-01/...`), answers with the
/// address it was given, and hangs on an event that says `hang`.
const API_BOOTSTRAP: &str = r#"#!/bin/sh
set -eu
while true; do
  HEADERS="$(mktemp)"
  EVENT="$(curl -sS -D "$HEADERS" "http://$AWS_LAMBDA_RUNTIME_API/2018-06-01/runtime/invocation/next")"
  ID="$(grep -i '^lambda-runtime-aws-request-id:' "$HEADERS" | cut -d' ' -f2 | tr -d '\r\n')"
  rm -f "$HEADERS"
  case "$EVENT" in *hang*) sleep 30 ;; esac
  curl -sS -X POST "http://$AWS_LAMBDA_RUNTIME_API/2018-06-01/runtime/invocation/$ID/response" \
    -d "{\"api\":\"$AWS_LAMBDA_RUNTIME_API\",\"pid\":$$}" > /dev/null
done
"#;

/// One HTTP/1.1 request to `address`: the status and the body.
async fn http_to(address: &str, method: &str, path: &str) -> (u16, String) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut s = tokio::net::TcpStream::connect(address)
        .await
        .expect("connect");
    let head = format!(
        "{method} {path} HTTP/1.1\r\nHost: {address}\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{{}}"
    );
    s.write_all(head.as_bytes()).await.expect("write");
    let mut out = Vec::new();
    tokio::time::timeout(Duration::from_secs(10), s.read_to_end(&mut out))
        .await
        .expect("reply in time")
        .expect("read");
    let text = String::from_utf8_lossy(&out).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").expect("head");
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .expect("status");
    (status, body.to_owned())
}

/// Waits (at most 10 s) until nothing listens on `address`.
async fn wait_refused(address: &str) {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        match tokio::net::TcpStream::connect(address).await {
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionRefused => return,
            r => assert!(
                Instant::now() < deadline,
                "{address} still accepts connections: {r:?}"
            ),
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn each_instance_gets_its_own_bare_runtime_api_address_closed_with_it() {
    let server = Server::start();
    let c = client(&server);
    let zip = zip_of(&[("bootstrap", API_BOOTSTRAP, 0o755)]);
    create(&c, "api", Runtime::Providedal2023, "h", zip, &[], 1).await;
    let r = invoke(&c, "api", json!({})).await;
    assert_eq!(r.function_error, None, "{:?}", r.payload);
    let first = r.payload["api"].as_str().expect("api").to_owned();
    assert!(is_loopback_host_port(&first), "{first}");
    assert_ne!(first, server.endpoint.trim_start_matches("http://"));

    // The port serves only its instance's Runtime API, with its errors.
    let (status, body) = http_to(&first, "GET", "/2018-06-01/runtime/nothing").await;
    assert_eq!((status, body.as_str()), (404, "404 page not found\n"));
    let (status, body) = http_to(&first, "GET", "/2015-03-31/functions/").await;
    assert_eq!((status, body.as_str()), (404, "404 page not found\n"));
    let (status, body) = http_to(
        &first,
        "POST",
        "/2018-06-01/runtime/invocation/not-running/response",
    )
    .await;
    assert_eq!(status, 400, "{body}");
    let body: Value = serde_json::from_str(&body).expect("json");
    assert_eq!(body["errorType"], "InvalidRequestID");

    // A timeout kills the instance: its port closes.
    let r = invoke(&c, "api", json!({"hang": true})).await;
    assert_eq!(r.function_error.as_deref(), Some("Unhandled"));
    assert!(
        r.payload["errorMessage"]
            .as_str()
            .is_some_and(|m| m.contains("Task timed out")),
        "{:?}",
        r.payload
    );
    wait_refused(&first).await;

    // The next instance gets a port of its own, closed when the function
    // is deleted.
    let r = invoke(&c, "api", json!({})).await;
    assert_eq!(r.function_error, None, "{:?}", r.payload);
    let second = r.payload["api"].as_str().expect("api").to_owned();
    assert!(is_loopback_host_port(&second), "{second}");
    let pid = r.payload["pid"].as_u64().expect("pid");
    c.delete_function()
        .function_name("api")
        .send()
        .await
        .expect("delete");
    wait_refused(&second).await;
    let deadline = Instant::now() + Duration::from_secs(10);
    while !gone(pid) {
        assert!(Instant::now() < deadline, "instance {pid} still runs");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn the_runtime_api_refuses_unknown_instances_and_request_ids() {
    use tarn_tests::{send_raw, RawRequest};
    let server = Server::start();
    // No instance has this token.
    let r = send_raw(
        &server,
        &RawRequest {
            method: "POST".to_owned(),
            body: b"{}".to_vec(),
            ..RawRequest::get("/lambda-runtime/0123/2018-06-01/runtime/invocation/x/response")
        }
        .unsigned(),
    )
    .await;
    assert_eq!(r.status, 403);
    let body: Value = serde_json::from_str(&r.body).expect("json");
    assert_eq!(body["errorType"], "Runtime.UnknownInstance");
    // A path the Runtime API does not serve: its Go server's plain 404.
    let r = send_raw(
        &server,
        &RawRequest::get("/lambda-runtime/0123/2018-06-01/runtime/nothing").unsigned(),
    )
    .await;
    assert_eq!((r.status, r.body.as_str()), (404, "404 page not found\n"));
    // The Lambda API itself must be signed.
    let r = send_raw(
        &server,
        &RawRequest::get("/2015-03-31/functions/").unsigned(),
    )
    .await;
    assert_eq!(r.status, 403, "{}", r.body);
    assert_eq!(
        r.header("x-amzn-errortype"),
        Some("MissingAuthenticationTokenException")
    );
    // A body that is not JSON.
    let r = send_raw(
        &server,
        &RawRequest {
            method: "POST".to_owned(),
            body: b"{nope".to_vec(),
            ..RawRequest::get("/2015-03-31/functions")
        }
        .signed_for("lambda"),
    )
    .await;
    assert_eq!(r.status, 400, "{}", r.body);
    assert_eq!(
        r.header("x-amzn-errortype"),
        Some("InvalidRequestContentException")
    );

    // A live instance answering for a request it is not running.
    let c = client(&server);
    let zip = zip_of(&[("bootstrap", WRONG_ID_BOOTSTRAP, 0o755)]);
    create(&c, "wrong-id", Runtime::Providedal2023, "h", zip, &[], 3).await;
    let r = invoke(&c, "wrong-id", json!({})).await;
    assert_eq!(r.function_error, None, "{:?}", r.payload);
    assert_eq!(r.payload["status"], 400);
    assert_eq!(r.payload["reply"]["errorType"], "InvalidRequestID");
}

const WRONG_ID_BOOTSTRAP: &str = r#"#!/bin/sh
set -eu
API="http://${AWS_LAMBDA_RUNTIME_API}/2018-06-01/runtime"
while true; do
  HEADERS="$(mktemp)"
  curl -sS -D "$HEADERS" "$API/invocation/next" > /dev/null
  ID="$(grep -i '^lambda-runtime-aws-request-id:' "$HEADERS" | cut -d' ' -f2 | tr -d '\r\n')"
  rm -f "$HEADERS"
  BODY="$(mktemp)"
  STATUS="$(curl -sS -o "$BODY" -w '%{http_code}' -X POST "$API/invocation/not-$ID/response" -d '{}')"
  curl -sS -X POST "$API/invocation/$ID/response" -d "{\"status\":$STATUS,\"reply\":$(cat "$BODY")}" > /dev/null
  rm -f "$BODY"
done
"#;

#[tokio::test]
async fn every_other_api_error_has_lambdas_code_status_and_message() {
    let server = Server::start();
    let c = client(&server);
    let v1 = zip_of(&[("app.py", "def handler(e, c):\n    return 1\n", 0o644)]);
    create(&c, "e", Runtime::Python312, "app.handler", v1, &[], 3).await;
    c.publish_version()
        .function_name("e")
        .send()
        .await
        .expect("publish");
    c.create_alias()
        .function_name("e")
        .name("live")
        .function_version("1")
        .send()
        .await
        .expect("alias");
    let check = |got: (String, String, u16), want: (&str, &str, u16)| {
        assert_eq!((got.0.as_str(), got.1.as_str(), got.2), want);
    };
    let invalid = "InvalidParameterValueException";
    check(
        lambda_error(
            c.invoke()
                .function_name("e:live")
                .qualifier("1")
                .send()
                .await,
        ),
        (
            invalid,
            "The derived qualifier from the function name does not match the specified qualifier.",
            400,
        ),
    );
    check(
        lambda_error(
            c.invoke()
                .function_name("e")
                .invocation_type(InvocationType::from("Sometimes"))
                .send()
                .await,
        ),
        (
            "ValidationException",
            "1 validation error detected: Value 'Sometimes' at 'invocationType' failed to satisfy constraint: Member must satisfy enum value set: [Event, RequestResponse, DryRun]",
            400,
        ),
    );
    check(
        lambda_error(
            c.invoke()
                .function_name("e")
                .client_context("not base64 json!")
                .send()
                .await,
        ),
        (
            invalid,
            "Client context must be a valid Base64-encoded JSON object.",
            400,
        ),
    );
    let big = format!("\"{}\"", "x".repeat(300 * 1024));
    check(
        lambda_error(
            c.invoke()
                .function_name("e")
                .invocation_type(InvocationType::Event)
                .payload(Blob::new(big))
                .send()
                .await,
        ),
        (
            "RequestTooLargeException",
            "Request must be smaller than 262144 bytes for the InvokeFunction operation",
            413,
        ),
    );
    check(
        lambda_error(
            c.create_alias()
                .function_name("e")
                .name("next")
                .function_version("7")
                .send()
                .await,
        ),
        (
            "ResourceNotFoundException",
            "Function not found: arn:aws:lambda:us-east-1:000000000000:function:e:7",
            404,
        ),
    );
    check(
        lambda_error(
            c.update_alias()
                .function_name("e")
                .name("live")
                .revision_id("stale")
                .send()
                .await,
        ),
        (
            invalid,
            "The Revision Id provided does not match the latest Revision Id. Call the GetFunction/GetAlias API to retrieve the latest Revision Id",
            400,
        ),
    );
    check(
        lambda_error(
            c.delete_function()
                .function_name("e")
                .qualifier("1")
                .send()
                .await,
        ),
        (
            "ResourceConflictException",
            "Unable to delete version because the following aliases reference it: [live]",
            409,
        ),
    );
    check(
        lambda_error(
            c.publish_version()
                .function_name("e")
                .code_sha256("nope")
                .send()
                .await,
        ),
        (
            invalid,
            &format!(
                "CodeSHA256 (nope) is different from current CodeSHA256 in $LATEST ({}). Please try again with the CodeSHA256 in $LATEST.",
                c.get_function_configuration()
                    .function_name("e")
                    .send()
                    .await
                    .expect("get")
                    .code_sha256()
                    .unwrap_or_default()
            ),
            400,
        ),
    );
    check(
        lambda_error(
            c.tag_resource()
                .resource("arn:aws:lambda:us-east-1:000000000000:function:e:1")
                .tags("a", "b")
                .send()
                .await,
        ),
        (
            invalid,
            "Tags on function aliases and versions are not supported. Please specify a function ARN.",
            400,
        ),
    );
    check(
        lambda_error(
            c.put_function_concurrency()
                .function_name("e")
                .reserved_concurrent_executions(-1)
                .send()
                .await,
        ),
        (
            "ValidationException",
            "1 validation error detected: Value '-1' at 'reservedConcurrentExecutions' failed to satisfy constraint: Member must have value greater than or equal to 0",
            400,
        ),
    );
    check(
        lambda_error(
            c.put_function_event_invoke_config()
                .function_name("e")
                .maximum_event_age_in_seconds(59)
                .send()
                .await,
        ),
        (
            "ValidationException",
            "1 validation error detected: Value '59' at 'maximumEventAgeInSeconds' failed to satisfy constraint: Member must have value greater than or equal to 60",
            400,
        ),
    );
    check(
        lambda_error(
            c.put_function_event_invoke_config()
                .function_name("e")
                .destination_config(
                    DestinationConfig::builder()
                        .on_failure(OnFailure::builder().destination("not-an-arn").build())
                        .build(),
                )
                .send()
                .await,
        ),
        (invalid, "The destination ARN not-an-arn is invalid.", 400),
    );
    check(
        lambda_error(
            c.update_function_configuration()
                .function_name("e")
                .memory_size(64)
                .send()
                .await,
        ),
        (
            "ValidationException",
            "1 validation error detected: Value '64' at 'memorySize' failed to satisfy constraint: Member must have value greater than or equal to 128",
            400,
        ),
    );
    check(
        lambda_error(c.list_functions().max_items(0).send().await),
        (
            "ValidationException",
            "1 validation error detected: Value '0' at 'maxItems' failed to satisfy constraint: Member must have value greater than or equal to 1",
            400,
        ),
    );
    check(
        lambda_error(
            c.create_function()
                .function_name("image")
                .role(ROLE)
                .code(FunctionCode::builder().image_uri("repo:tag").build())
                .package_type(aws_sdk_lambda::types::PackageType::Image)
                .send()
                .await,
        ),
        (
            invalid,
            "Tarn runs .zip file archives only, not container images.",
            400,
        ),
    );
    // Nothing of the refused requests changed the function.
    let got = c
        .get_alias()
        .function_name("e")
        .name("live")
        .send()
        .await
        .expect("alias");
    assert_eq!(got.function_version(), Some("1"));
}

#[tokio::test]
async fn a_clean_stop_kills_warm_instances_without_waiting_on_their_long_polls() {
    let mut server = Server::start();
    let c = client(&server);
    create(
        &c,
        "py",
        Runtime::Python312,
        "app.handler",
        python_zip(),
        &[],
        3,
    )
    .await;
    let r = invoke(&c, "py", json!({})).await;
    let pid = r.payload["pid"].as_u64().expect("pid");
    assert!(!gone(pid));
    let started = Instant::now();
    assert!(server.terminate(), "tarn exits cleanly on SIGTERM");
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "stopping took {:?}",
        started.elapsed()
    );
    let deadline = Instant::now() + Duration::from_secs(3);
    while !gone(pid) {
        assert!(Instant::now() < deadline, "instance {pid} outlived tarn");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[tokio::test]
async fn successful_async_invokes_send_their_record_to_the_on_success_function() {
    let server = Server::start();
    let c = client(&server);
    let (_out, records, records_str) = events_file();
    create(
        &c,
        "ok",
        Runtime::Python312,
        "app.handler",
        python_zip(),
        &[],
        3,
    )
    .await;
    create(
        &c,
        "recorder",
        Runtime::Python312,
        "rec.handler",
        zip_of(&[("rec.py", RECORDER, 0o644)]),
        &[("OUT", &records_str)],
        3,
    )
    .await;
    c.put_function_event_invoke_config()
        .function_name("ok")
        .destination_config(
            DestinationConfig::builder()
                .on_success(
                    aws_sdk_lambda::types::OnSuccess::builder()
                        .destination("arn:aws:lambda:us-east-1:000000000000:function:recorder")
                        .build(),
                )
                .build(),
        )
        .send()
        .await
        .expect("put config");
    invoke_event(&c, "ok", json!({"k": 1})).await;
    let record = wait_for_lines(&records, 1);
    let record: Value = serde_json::from_str(&record[0]).expect("record json");
    assert_eq!(record["requestContext"]["condition"], "Success");
    assert_eq!(record["requestContext"]["approximateInvokeCount"], 1);
    assert_eq!(record["requestPayload"], json!({"k": 1}));
    assert_eq!(record["responseContext"]["statusCode"], 200);
    assert!(record["responseContext"].get("functionError").is_none());
    assert_eq!(record["responsePayload"]["event"], json!({"k": 1}));
}
