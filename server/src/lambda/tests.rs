//! The Lambda service inside one process: function logs reach the
//! `LogSink` with Lambda's group, stream and lines.

use std::os::unix::fs::PermissionsExt;
use std::sync::{Arc, Mutex};

use tarn_lambda::api::{CodeSource, FunctionRef, NewFunction};
use tarn_lambda::{LogLine, LogSink};

use crate::app::{App, LambdaOptions};

#[derive(Default)]
struct Recorder(Mutex<Vec<(String, String, String)>>);

impl LogSink for Recorder {
    fn append(&self, group: &str, stream: &str, events: Vec<LogLine>) {
        let mut lines = self.0.lock().expect("recorder");
        for e in events {
            assert!(e.timestamp_ms > 0);
            lines.push((group.to_owned(), stream.to_owned(), e.message));
        }
    }
}

const BOOTSTRAP: &str = r#"#!/bin/sh
API="http://${AWS_LAMBDA_RUNTIME_API}/2018-06-01/runtime"
while true; do
  H="$(mktemp)"
  curl -sS -D "$H" "$API/invocation/next" > /dev/null
  ID="$(grep -i '^lambda-runtime-aws-request-id:' "$H" | cut -d' ' -f2 | tr -d '\r\n')"
  rm -f "$H"
  echo "to stdout"
  echo "to stderr" >&2
  curl -sS -X POST "$API/invocation/$ID/response" -d '"ok"' > /dev/null
done
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn function_logs_reach_the_sink_under_lambdas_group_and_stream() {
    let engine = tarn_engine::Engine::open(tarn_engine::Options {
        data_dir: None,
        durability: tarn_engine::Durability::Memory,
        ..tarn_engine::Options::default()
    })
    .expect("engine");
    let app = App::new(engine, "us-east-1".into(), "000000000000".into());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    app.set_address(listener.local_addr().expect("address").to_string());
    let dir = tempfile::tempdir().expect("tempdir");
    let sink = Arc::new(Recorder::default());
    let lambda = app
        .start_lambda(LambdaOptions {
            functions_dir: dir.path().join("functions"),
            sink: Arc::clone(&sink) as Arc<dyn LogSink>,
            ..LambdaOptions::default()
        })
        .expect("lambda");
    let router = crate::router(Arc::clone(&app));
    let server = tokio::spawn(async move { axum::serve(listener, router).await });
    let code = dir.path().join("code");
    std::fs::create_dir_all(&code).expect("mkdir");
    let bootstrap = code.join("bootstrap");
    std::fs::write(&bootstrap, BOOTSTRAP).expect("write");
    std::fs::set_permissions(&bootstrap, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    lambda
        .create(NewFunction {
            name: "f".into(),
            runtime: Some("provided.al2023".into()),
            role: "arn:aws:iam::000000000000:role/r".into(),
            code: Some(CodeSource::Local(code.display().to_string())),
            ..NewFunction::default()
        })
        .await
        .expect("create");
    let r = FunctionRef {
        name: "f".into(),
        qualifier: None,
    };
    let invoked = lambda.invoke(&r, b"{}", None).await.expect("invoke");
    assert_eq!(invoked.outcome.payload, b"\"ok\"");
    let id = invoked.request_id;
    let lines = sink.0.lock().expect("recorder").clone();
    assert!(lines.iter().all(|(g, _, _)| g == "/aws/lambda/f"));
    let stream = &lines[0].1;
    assert!(stream.contains("/[$LATEST]"), "{stream}");
    assert!(lines.iter().all(|(_, s, _)| s == stream));
    let messages: Vec<&str> = lines.iter().map(|(_, _, m)| m.as_str()).collect();
    assert_eq!(
        messages.first().copied(),
        Some(format!("START RequestId: {id} Version: $LATEST").as_str())
    );
    assert!(messages.contains(&"to stdout"), "{messages:?}");
    assert!(messages.contains(&"to stderr"), "{messages:?}");
    let end = format!("END RequestId: {id}");
    let at = messages.iter().position(|m| *m == end).expect("END line");
    assert!(messages[at + 1].starts_with(&format!("REPORT RequestId: {id}\tDuration: ")));
    app.stop_functions();
    let _ = app.runner.shutdown(std::time::Duration::from_secs(5)).await;
    server.abort();
}
