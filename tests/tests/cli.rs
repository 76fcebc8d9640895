//! The `tarn` command line with a running server: where the listening line
//! goes, what the log looks like on a pipe, and a second server on a data
//! directory that one already holds. (Argument errors that stop `tarn`
//! before it serves are in `server/tests/cli.rs`.)

use std::process::Command;

use tarn_tests::{binary, post_raw, send_raw, RawRequest, Server};

#[tokio::test]
async fn the_listening_line_is_on_stdout_at_every_log_level() {
    for level in ["error", "off", "INFO", "tarn=warn,fjall=error"] {
        // `launch` learns the port from the line on stdout, so starting
        // at all proves the line is there.
        let mut server = Server::launch(&["--in-memory", "--log-level", level]);
        let health = RawRequest::get("/");
        let r = send_raw(&server, &health).await;
        assert_eq!(r.status, 200, "{level}");
        assert!(server.terminate(), "{level}: stopped cleanly");
        let log = server.log();
        assert!(!log.contains("listening"), "{level}: {log}");
    }
}

#[tokio::test]
async fn logs_on_a_pipe_are_plain_text() {
    let mut server = Server::launch(&["--in-memory", "--log-level", "debug"]);
    let r = post_raw(
        &server,
        Some("DynamoDB_20120810.DescribeTable"),
        r#"{"TableName":"missing"}"#,
    )
    .await;
    assert_eq!(r.status, 400);
    assert!(server.terminate());
    let log = server.log();
    assert!(!log.contains('\u{1b}'), "ANSI codes on a pipe: {log:?}");
    let line = log
        .lines()
        .find(|l| l.contains("request failed"))
        .unwrap_or_else(|| panic!("no debug line for the failed request: {log}"));
    assert!(
        line.contains("reason=Requested resource not found: Table: missing not found"),
        "{line}"
    );
    assert!(!line.contains("Some("), "{line}");
    assert!(log.contains("tarn stopped"), "{log}");
}

#[test]
fn a_second_tarn_on_the_same_data_directory_names_the_first() {
    let first = Server::start();
    let out = Command::new(binary())
        .args(["--port", "0", "--data-dir"])
        .arg(first.data_dir())
        .output()
        .expect("run tarn");
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    let want = if cfg!(target_os = "linux") {
        format!("another Tarn (pid {}) holds it", first.pid())
    } else {
        "holds it".to_owned()
    };
    assert!(
        err.contains("cannot open data directory") && err.contains(&want),
        "{err}"
    );
    assert!(!err.contains("FjallError"), "{err}");
    assert!(out.stdout.is_empty(), "{:?}", out.stdout);
}
