//! Harness for end-to-end tests: starts the real `tarn` binary on a free
//! loopback port with its own data directory, and builds an official AWS SDK
//! client for it.
//!
//! The binary is `target/<profile>/tarn`, next to the test executable's
//! `deps/` folder; `cargo test --workspace` builds it because the server
//! package has integration tests. Set `TARN_BIN` to test another build.
//! Every process started here is stopped by its id when its [`Server`] is
//! dropped.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use aws_sdk_dynamodb::config::{BehaviorVersion, Credentials, Region};
use aws_sdk_dynamodb::error::ProvideErrorMetadata;

/// How long the server may take to say it is listening.
const STARTUP_TIMEOUT: Duration = Duration::from_secs(20);

/// Path of the `tarn` binary under test.
pub fn binary() -> PathBuf {
    if let Some(p) = std::env::var_os("TARN_BIN") {
        return PathBuf::from(p);
    }
    let exe = std::env::current_exe().expect("current exe");
    // target/<profile>/deps/<test> -> target/<profile>/tarn
    let dir = exe.parent().and_then(Path::parent).expect("target dir");
    let bin = dir.join(format!("tarn{}", std::env::consts::EXE_SUFFIX));
    assert!(
        bin.exists(),
        "{} not found: run `cargo test --workspace` (or `cargo build --bin tarn`), or set TARN_BIN",
        bin.display()
    );
    bin
}

/// A running `tarn` process.
pub struct Server {
    child: Child,
    /// `http://127.0.0.1:PORT`.
    pub endpoint: String,
    data_dir: PathBuf,
    _temp: Option<tempfile::TempDir>,
}

impl Server {
    /// Starts a server on a fresh temporary data directory.
    pub fn start() -> Server {
        let temp = tempfile::tempdir().expect("tempdir");
        let mut s = Server::start_in(temp.path(), &[]);
        s._temp = Some(temp);
        s
    }

    /// Starts a server on `data_dir` with extra arguments.
    pub fn start_in(data_dir: &Path, extra: &[&str]) -> Server {
        let mut child = Command::new(binary())
            .args([
                "--host",
                "127.0.0.1",
                "--port",
                "0",
                "--log-level",
                "info",
                "--data-dir",
            ])
            .arg(data_dir)
            .args(extra)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn tarn");
        let stderr = child.stderr.take().expect("stderr");
        let (tx, rx) = mpsc::channel();
        // Reads the log until the listening line, then keeps draining it so
        // the server never blocks on a full pipe.
        std::thread::spawn(move || {
            let mut tx = Some(tx);
            for line in BufReader::new(stderr).lines() {
                let Ok(line) = line else { break };
                if let Some(i) = line.find("listening on http://") {
                    let rest = &line[i + "listening on ".len()..];
                    let url = rest.split_whitespace().next().unwrap_or("").to_owned();
                    if let Some(tx) = tx.take() {
                        let _ = tx.send(url);
                    }
                }
            }
        });
        let endpoint = match rx.recv_timeout(STARTUP_TIMEOUT) {
            Ok(url) => url,
            Err(_) => {
                let _ = child.kill();
                let _ = child.wait();
                panic!("tarn did not start within {STARTUP_TIMEOUT:?}");
            }
        };
        Server {
            child,
            endpoint,
            data_dir: data_dir.to_path_buf(),
            _temp: None,
        }
    }

    /// The data directory.
    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    /// The process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Kills the process with SIGKILL, as a crash would, and reaps it.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Asks the process to stop with SIGTERM and waits for it (at most
    /// 10 s, then SIGKILL). Returns whether it exited on its own.
    pub fn terminate(&mut self) -> bool {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        for _ in 0..100 {
            if let Ok(Some(status)) = self.child.try_wait() {
                return status.success();
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        self.kill();
        false
    }

    /// An SDK client for this server.
    pub fn client(&self) -> aws_sdk_dynamodb::Client {
        client_for(&self.endpoint)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill();
    }
}

/// An SDK client for `endpoint` with dummy credentials and no retries, so
/// that tests see every error as it happened.
pub fn client_for(endpoint: &str) -> aws_sdk_dynamodb::Client {
    let conf = aws_sdk_dynamodb::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .endpoint_url(endpoint)
        .credentials_provider(Credentials::new(
            "AKIDTEST",
            "secret",
            None,
            None,
            "tarn-tests",
        ))
        .retry_config(aws_sdk_dynamodb::config::retry::RetryConfig::disabled())
        .build();
    aws_sdk_dynamodb::Client::from_conf(conf)
}

/// The error code (`ValidationException`, ...) and message of a failed SDK
/// call; panics if the call succeeded or failed without a service error.
pub fn service_error<T, E>(
    result: Result<T, aws_sdk_dynamodb::error::SdkError<E>>,
) -> (String, String)
where
    E: ProvideErrorMetadata + std::fmt::Debug,
    T: std::fmt::Debug,
{
    match result {
        Ok(v) => panic!("expected an error, got {v:?}"),
        Err(e) => {
            let code = e
                .code()
                .unwrap_or_else(|| panic!("no error code in {e:?}"))
                .to_owned();
            let message = e.message().unwrap_or("").to_owned();
            (code, message)
        }
    }
}
