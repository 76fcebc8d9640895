//! The `tarn` command line. (Having integration tests also makes
//! `cargo test --workspace` build the binary the end-to-end tests run.)

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::sync::{mpsc, Arc, Mutex, PoisonError};
use std::time::Duration;

fn tarn() -> Command {
    Command::new(env!("CARGO_BIN_EXE_tarn"))
}

#[test]
fn help_lists_every_option() {
    let out = tarn().arg("--help").output().expect("run tarn");
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    for opt in [
        "--host",
        "--port",
        "--data-dir",
        "--durability",
        "--in-memory",
        "--log-level",
        "--region",
        "--account-id",
    ] {
        assert!(text.contains(opt), "--help lacks {opt}: {text}");
    }
}

#[test]
fn unknown_options_and_bad_values_fail() {
    let out = tarn().arg("--no-such-option").output().expect("run tarn");
    assert!(!out.status.success());
    let out = tarn()
        .args(["--durability", "sometimes"])
        .output()
        .expect("run tarn");
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("sometimes"));
}

#[test]
fn an_unusable_data_directory_is_reported() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("not-a-dir");
    std::fs::write(&file, b"x").expect("write");
    let out = tarn()
        .args(["--port", "0", "--data-dir"])
        .arg(&file)
        .output()
        .expect("run tarn");
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot open data directory"));
}

/// A `tarn` started with `args` (on a free port), stopped when dropped.
struct Running {
    child: Child,
    /// `127.0.0.1:PORT`.
    addr: String,
    /// The stderr lines read so far, shared with the reader thread.
    log: Arc<Mutex<String>>,
}

impl Running {
    fn start(args: &[&str]) -> Running {
        let mut child = tarn()
            .args(["--port", "0"])
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn tarn");
        let stdout = child.stdout.take().expect("stdout");
        let stderr = child.stderr.take().expect("stderr");
        let log = Arc::new(Mutex::new(String::new()));
        let writer = Arc::clone(&log);
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines() {
                let Ok(line) = line else { break };
                let mut log = writer.lock().unwrap_or_else(PoisonError::into_inner);
                log.push_str(&line);
                log.push('\n');
            }
        });
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                let _ = tx.send(line);
            }
        });
        let line = rx.recv_timeout(Duration::from_secs(20));
        let Ok(line) = line else {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "no listening line on stdout; stderr: {}",
                log.lock().unwrap_or_else(PoisonError::into_inner)
            );
        };
        let addr = line
            .strip_prefix("tarn listening on http://")
            .and_then(|rest| rest.split_whitespace().next())
            .unwrap_or_else(|| panic!("unexpected first line on stdout: {line:?}"))
            .to_owned();
        Running { child, addr, log }
    }

    /// Sends one raw HTTP request and returns the whole response.
    fn request(&self, raw: &str) -> String {
        let mut stream = TcpStream::connect(&self.addr).expect("connect");
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .expect("timeout");
        stream.write_all(raw.as_bytes()).expect("write");
        let mut out = String::new();
        stream.read_to_string(&mut out).expect("read");
        out
    }

    /// Stops the server with SIGTERM and returns its whole stderr.
    fn stop(mut self) -> String {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        for _ in 0..100 {
            if let Ok(Some(_)) = self.child.try_wait() {
                break;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
        // Let the reader thread take the last lines.
        std::thread::sleep(Duration::from_millis(200));
        let log = self.log.lock().unwrap_or_else(PoisonError::into_inner);
        log.clone()
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn unknown_log_levels_are_refused() {
    for bad in ["loud", "tarn=loud", "debug,loud", ""] {
        let out = tarn()
            .args(["--in-memory", "--port", "0", "--log-level", bad])
            .output()
            .expect("run tarn");
        assert!(!out.status.success(), "--log-level {bad:?} was accepted");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains("invalid value")
                && err.contains("--log-level")
                && err.contains("expected error, warn, info, debug, trace or off"),
            "--log-level {bad:?}: {err}"
        );
        assert!(out.stdout.is_empty(), "it started: {:?}", out.stdout);
    }
}

#[test]
fn the_listening_line_is_on_stdout_at_every_log_level() {
    for level in ["error", "off", "INFO", "tarn=warn,fjall=error"] {
        let server = Running::start(&["--in-memory", "--log-level", level]);
        let reply = server.request("GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
        assert!(reply.starts_with("HTTP/1.1 200"), "{level}: {reply}");
        let log = server.stop();
        assert!(!log.contains("listening"), "{level}: {log}");
    }
}

#[test]
fn logs_on_a_pipe_are_plain_text() {
    let server = Running::start(&["--in-memory", "--log-level", "debug"]);
    let body = r#"{"TableName":"missing"}"#;
    let reply = server.request(&format!(
        "POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-amz-json-1.0\r\n\
         X-Amz-Target: DynamoDB_20120810.DescribeTable\r\nContent-Length: {}\r\n\
         Connection: close\r\n\r\n{body}",
        body.len()
    ));
    assert!(reply.starts_with("HTTP/1.1 400"), "{reply}");
    let log = server.stop();
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
    let dir = tempfile::tempdir().expect("tempdir");
    let first = Running::start(&["--data-dir", dir.path().to_str().expect("utf-8 path")]);
    let out = tarn()
        .args(["--port", "0", "--data-dir"])
        .arg(dir.path())
        .output()
        .expect("run tarn");
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    let want = if cfg!(target_os = "linux") {
        format!("another Tarn (pid {}) holds it", first.child.id())
    } else {
        "holds it".to_owned()
    };
    assert!(
        err.contains("cannot open data directory") && err.contains(&want),
        "{err}"
    );
    assert!(!err.contains("FjallError"), "{err}");
    assert!(out.stdout.is_empty());
    drop(first);
}
