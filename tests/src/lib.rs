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
use std::sync::{mpsc, Arc, Mutex, PoisonError};
use std::time::Duration;

use aws_sdk_dynamodb::config::{BehaviorVersion, Credentials, Region};
use aws_sdk_dynamodb::error::ProvideErrorMetadata;
use aws_sdk_dynamodb::primitives::Blob;
use aws_sdk_dynamodb::types::{
    AttributeValue, BillingMode, KeySchemaElement, KeyType, ScalarAttributeType,
};
use aws_sdk_dynamodb::Client;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// How long the server may take to say it is listening.
const STARTUP_TIMEOUT: Duration = Duration::from_secs(20);

/// How much of a server's log is kept for failure messages.
const LOG_KEPT_BYTES_MAX: usize = 64 * 1024;

/// The endpoint in tarn's `tarn listening on http://HOST:PORT (...)` line.
pub fn listening_url(line: &str) -> Option<String> {
    let rest = line.strip_prefix("tarn listening on ")?;
    let url = rest.split_whitespace().next()?;
    url.starts_with("http://").then(|| url.to_owned())
}

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
    /// What the server wrote on stderr (the first 64 KB).
    log: Arc<Mutex<String>>,
    /// The thread reading stderr; it ends when the process does.
    log_reader: Option<std::thread::JoinHandle<()>>,
}

impl Server {
    /// Starts a server on a fresh temporary data directory.
    pub fn start() -> Server {
        Server::start_with(&[])
    }

    /// Starts a server on a fresh temporary data directory with extra
    /// arguments.
    pub fn start_with(extra: &[&str]) -> Server {
        let temp = tempfile::tempdir().expect("tempdir");
        let mut s = Server::start_in(temp.path(), extra);
        s._temp = Some(temp);
        s
    }

    /// Starts a server on `data_dir` with extra arguments.
    pub fn start_in(data_dir: &Path, extra: &[&str]) -> Server {
        let mut args = vec!["--log-level", "info", "--data-dir"];
        let dir = data_dir.to_str().expect("UTF-8 data directory");
        args.push(dir);
        args.extend_from_slice(extra);
        let mut s = Server::launch(&args);
        s.data_dir = data_dir.to_path_buf();
        s
    }

    /// Starts `tarn --host 127.0.0.1 --port 0` with exactly `args` after
    /// those (no data directory unless `args` names one), for tests of the
    /// command line itself.
    pub fn launch(args: &[&str]) -> Server {
        let mut child = Command::new(binary())
            .args(["--host", "127.0.0.1", "--port", "0"])
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn tarn");
        let stdout = child.stdout.take().expect("stdout");
        let stderr = child.stderr.take().expect("stderr");
        // The log, kept to explain a server that never said it listens.
        let log = Arc::new(Mutex::new(String::new()));
        let log_writer = Arc::clone(&log);
        let log_reader = std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines() {
                let Ok(line) = line else { break };
                let mut log = log_writer.lock().unwrap_or_else(PoisonError::into_inner);
                if log.len() < LOG_KEPT_BYTES_MAX {
                    log.push_str(&line);
                    log.push('\n');
                }
            }
        });
        let (tx, rx) = mpsc::channel();
        // Reads stdout until the listening line, then keeps draining it so
        // the server never blocks on a full pipe. The channel closes
        // without a message if the server exits first.
        std::thread::spawn(move || {
            let mut tx = Some(tx);
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if let Some(url) = listening_url(&line) {
                    if let Some(tx) = tx.take() {
                        let _ = tx.send(url);
                    }
                }
            }
        });
        let endpoint = match rx.recv_timeout(STARTUP_TIMEOUT) {
            Ok(url) => url,
            Err(e) => {
                let _ = child.kill();
                let status = child.wait();
                // Let the log reader catch up with the last lines.
                std::thread::sleep(Duration::from_millis(100));
                let log = log.lock().unwrap_or_else(PoisonError::into_inner);
                match e {
                    mpsc::RecvTimeoutError::Timeout => {
                        panic!("tarn did not start within {STARTUP_TIMEOUT:?}; its log:\n{log}")
                    }
                    mpsc::RecvTimeoutError::Disconnected => {
                        panic!("tarn exited ({status:?}) before listening; its log:\n{log}")
                    }
                }
            }
        };
        Server {
            child,
            endpoint,
            data_dir: PathBuf::new(),
            _temp: None,
            log,
            log_reader: Some(log_reader),
        }
    }

    /// What the server has written on stderr so far (its first 64 KB).
    pub fn log(&self) -> String {
        self.log
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
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
                // The pipe is closed now: the log is complete once read.
                if let Some(reader) = self.log_reader.take() {
                    let _ = reader.join();
                }
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

    /// A DynamoDB Streams SDK client for this server.
    pub fn streams_client(&self) -> aws_sdk_dynamodbstreams::Client {
        streams_client_for(&self.endpoint)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill();
    }
}

/// An SDK client of any AWS SDK crate (`aws_sdk_sqs`, ...) for `endpoint`,
/// configured as [`client_for`] configures DynamoDB's.
#[macro_export]
macro_rules! sdk_client {
    ($sdk:ident, $endpoint:expr) => {{
        let conf = $sdk::Config::builder()
            .behavior_version($sdk::config::BehaviorVersion::latest())
            .region($sdk::config::Region::new("us-east-1"))
            .endpoint_url($endpoint)
            .credentials_provider($sdk::config::Credentials::new(
                "AKIDTEST",
                "secret",
                None,
                None,
                "tarn-tests",
            ))
            .retry_config($sdk::config::retry::RetryConfig::disabled())
            .build();
        $sdk::Client::from_conf(conf)
    }};
}

/// An SDK client for `endpoint` with dummy credentials and no retries, so
/// that tests see every error as it happened.
pub fn client_for(endpoint: &str) -> aws_sdk_dynamodb::Client {
    aws_sdk_dynamodb::Client::from_conf(config_for(endpoint).build())
}

/// The configuration [`client_for`] uses, for tests that add to it
/// (interceptors, ...).
pub fn config_for(endpoint: &str) -> aws_sdk_dynamodb::config::Builder {
    aws_sdk_dynamodb::Config::builder()
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
}

/// A DynamoDB Streams SDK client for `endpoint`, like [`client_for`].
pub fn streams_client_for(endpoint: &str) -> aws_sdk_dynamodbstreams::Client {
    let conf = aws_sdk_dynamodbstreams::Config::builder()
        .behavior_version(aws_sdk_dynamodbstreams::config::BehaviorVersion::latest())
        .region(aws_sdk_dynamodbstreams::config::Region::new("us-east-1"))
        .endpoint_url(endpoint)
        .credentials_provider(aws_sdk_dynamodbstreams::config::Credentials::new(
            "AKIDTEST",
            "secret",
            None,
            None,
            "tarn-tests",
        ))
        .retry_config(aws_sdk_dynamodbstreams::config::retry::RetryConfig::disabled())
        .build();
    aws_sdk_dynamodbstreams::Client::from_conf(conf)
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

/// Sorts set members (whose order DynamoDB does not keep) everywhere in a
/// value, so that values compare as DynamoDB defines them.
pub fn canonical(v: &AttributeValue) -> AttributeValue {
    match v {
        AttributeValue::Ss(x) => {
            let mut x = x.clone();
            x.sort();
            AttributeValue::Ss(x)
        }
        AttributeValue::Ns(x) => {
            let mut x = x.clone();
            x.sort();
            AttributeValue::Ns(x)
        }
        AttributeValue::Bs(x) => {
            let mut x = x.clone();
            x.sort_by(|a, b| a.as_ref().cmp(b.as_ref()));
            AttributeValue::Bs(x)
        }
        AttributeValue::M(m) => {
            AttributeValue::M(m.iter().map(|(k, v)| (k.clone(), canonical(v))).collect())
        }
        AttributeValue::L(l) => AttributeValue::L(l.iter().map(canonical).collect()),
        other => other.clone(),
    }
}

// ---- raw HTTP, for requests the SDK cannot build ----

/// A response as it came off the wire.
pub struct RawResponse {
    /// HTTP status.
    pub status: u16,
    /// Header names lower-cased.
    pub headers: Vec<(String, String)>,
    /// The body, as text (lossy if it is not UTF-8, as a compressed body
    /// is not).
    pub body: String,
    /// The body's bytes as sent.
    pub bytes: Vec<u8>,
}

impl RawResponse {
    /// A header's value.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// Checks the headers every DynamoDB response carries.
    pub fn assert_standard_headers(&self) {
        let id = self.header("x-amzn-requestid").expect("x-amzn-RequestId");
        assert_eq!(id.len(), 52, "request id {id:?}");
        assert!(
            id.bytes()
                .all(|c| c.is_ascii_digit() || c.is_ascii_uppercase()),
            "request id {id:?}"
        );
        let crc = self.header("x-amz-crc32").expect("x-amz-crc32");
        assert_eq!(
            crc,
            crc32(&self.bytes).to_string(),
            "crc of {:?}",
            self.body
        );
        assert_eq!(self.header("server"), Some("Server"), "Server header");
    }
}

/// Bitwise CRC32 (IEEE, reflected polynomial 0xEDB88320), as DynamoDB's
/// `x-amz-crc32` header uses.
pub fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = 0xFFFF_FFFFu32;
    for &byte in bytes {
        crc ^= u32::from(byte);
        for _ in 0..8 {
            let mask = (crc & 1).wrapping_neg();
            crc = (crc >> 1) ^ (0xEDB8_8320 & mask);
        }
    }
    !crc
}

/// A request the SDK cannot build: any method, path, headers and bytes.
/// `Host`, `Content-Length` and `Connection: close` are added when sent,
/// and, unless the request is [`RawRequest::unsigned`] or brings its own
/// `Authorization`, a well-formed SigV4 `Authorization` header with its
/// `X-Amz-Date` (Tarn checks a signature's shape, never its value).
pub struct RawRequest {
    /// `POST`, `GET`, ...
    pub method: String,
    /// The request target, `/` for DynamoDB.
    pub path: String,
    /// Headers in order; a name may repeat.
    pub headers: Vec<(String, String)>,
    /// The body.
    pub body: Vec<u8>,
    /// The service the fake signature's credential scope names
    /// (`dynamodb` unless said otherwise); `None` sends no signature.
    pub signed_for: Option<String>,
}

/// The date of the fake signatures.
pub const FAKE_SIGNATURE_DATE: &str = "20260101T000000Z";

/// A well-formed SigV4 `Authorization` header for `service` (its
/// signature is zeros: Tarn never computes one).
pub fn fake_authorization(service: &str) -> String {
    format!(
        "AWS4-HMAC-SHA256 Credential=AKIDTEST/20260101/us-east-1/{service}/aws4_request, SignedHeaders=host;x-amz-date, Signature={}",
        "0".repeat(64)
    )
}

impl RawRequest {
    /// A GET of `path`.
    pub fn get(path: &str) -> RawRequest {
        RawRequest {
            method: "GET".to_owned(),
            path: path.to_owned(),
            headers: Vec::new(),
            body: Vec::new(),
            signed_for: Some("dynamodb".to_owned()),
        }
    }

    /// Sends no signature.
    pub fn unsigned(mut self) -> RawRequest {
        self.signed_for = None;
        self
    }

    /// Signs (the fake signature) for `service` rather than `dynamodb`.
    pub fn signed_for(mut self, service: &str) -> RawRequest {
        self.signed_for = Some(service.to_owned());
        self
    }

    /// A DynamoDB-style POST: `Content-Type: application/x-amz-json-1.0`
    /// and, if given, `X-Amz-Target`.
    pub fn post(target: Option<&str>, body: impl Into<Vec<u8>>) -> RawRequest {
        let mut headers = vec![(
            "Content-Type".to_owned(),
            "application/x-amz-json-1.0".to_owned(),
        )];
        if let Some(t) = target {
            headers.push(("X-Amz-Target".to_owned(), t.to_owned()));
        }
        RawRequest {
            method: "POST".to_owned(),
            path: "/".to_owned(),
            headers,
            body: body.into(),
            signed_for: Some("dynamodb".to_owned()),
        }
    }

    /// A POST of DynamoDB operation `op`.
    pub fn op(op: &str, body: impl Into<Vec<u8>>) -> RawRequest {
        RawRequest::post(Some(&format!("DynamoDB_20120810.{op}")), body)
    }

    /// Adds a header.
    pub fn header(mut self, name: &str, value: &str) -> RawRequest {
        self.headers.push((name.to_owned(), value.to_owned()));
        self
    }
}

/// Sends `request` over a fresh HTTP/1.1 connection and reads the whole
/// response.
pub async fn send_raw(server: &Server, request: &RawRequest) -> RawResponse {
    let addr = server
        .endpoint
        .strip_prefix("http://")
        .expect("http endpoint");
    let mut head = format!(
        "{} {} HTTP/1.1\r\nHost: {addr}\r\nContent-Length: {}\r\nConnection: close\r\n",
        request.method,
        request.path,
        request.body.len()
    );
    let own_signature = request
        .headers
        .iter()
        .any(|(name, _)| name.eq_ignore_ascii_case("authorization"));
    if let (Some(service), false) = (&request.signed_for, own_signature) {
        head.push_str(&format!(
            "X-Amz-Date: {FAKE_SIGNATURE_DATE}\r\nAuthorization: {}\r\n",
            fake_authorization(service)
        ));
    }
    for (name, value) in &request.headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    let mut wire = head.into_bytes();
    wire.extend_from_slice(&request.body);
    exchange_raw(server, &wire).await
}

/// Sends `wire` as it is (a request head, and whatever part of a body the
/// test wants sent) over a fresh connection and reads the whole response,
/// which must come within 20 s.
pub async fn exchange_raw(server: &Server, wire: &[u8]) -> RawResponse {
    let addr = server
        .endpoint
        .strip_prefix("http://")
        .expect("http endpoint");
    let exchange = async {
        let mut stream = tokio::net::TcpStream::connect(addr).await.expect("connect");
        // The server may answer (and close) before it has read everything,
        // so a failed write is not an error: the response says what
        // happened.
        let _ = stream.write_all(wire).await;
        let mut raw = Vec::new();
        let _ = stream.read_to_end(&mut raw).await;
        raw
    };
    let raw = tokio::time::timeout(Duration::from_secs(20), exchange)
        .await
        .expect("response within 20 s");
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .unwrap_or_else(|| panic!("no header end in {:?}", String::from_utf8_lossy(&raw)));
    let head = String::from_utf8(raw[..split].to_vec()).expect("ascii head");
    let bytes = raw[split + 4..].to_vec();
    let mut lines = head.split("\r\n");
    let status_line = lines.next().expect("status line");
    let status = status_line
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or_else(|| panic!("bad status line {status_line:?}"));
    let headers: Vec<(String, String)> = lines
        .map(|l| {
            let (k, v) = l.split_once(':').expect("header line");
            (k.trim().to_ascii_lowercase(), v.trim().to_owned())
        })
        .collect();
    let response = RawResponse {
        status,
        headers,
        body: String::from_utf8_lossy(&bytes).into_owned(),
        bytes,
    };
    assert_eq!(
        response.header("content-length"),
        Some(response.bytes.len().to_string().as_str()),
        "content-length of {:?}",
        response.body
    );
    response
}

/// POSTs `body` to the server with `X-Amz-Target: <target>` (none if
/// `target` is `None`) over a fresh HTTP/1.1 connection.
pub async fn post_raw(server: &Server, target: Option<&str>, body: &str) -> RawResponse {
    send_raw(server, &RawRequest::post(target, body)).await
}

/// POSTs `body` as DynamoDB operation `op` and checks the standard headers.
pub async fn raw_op(server: &Server, op: &str, body: &str) -> RawResponse {
    let r = post_raw(server, Some(&format!("DynamoDB_20120810.{op}")), body).await;
    r.assert_standard_headers();
    r
}

/// The body of a SerializationException with `message` (its key is
/// `Message`).
pub fn serialization_body(message: &str) -> String {
    format!(
        r#"{{"__type":"com.amazon.coral.service#SerializationException","Message":"{message}"}}"#
    )
}

/// The body of a ValidationException with `message`.
pub fn validation_body(message: &str) -> String {
    format!(r#"{{"__type":"com.amazon.coral.validate#ValidationException","message":"{message}"}}"#)
}

// ---- shared fixtures of the end-to-end suites ----

/// An item as the SDK represents it.
pub type Item = std::collections::HashMap<String, AttributeValue>;

/// A string value.
pub fn s(v: &str) -> AttributeValue {
    AttributeValue::S(v.to_owned())
}

/// A number value, from its text.
pub fn n(v: &str) -> AttributeValue {
    AttributeValue::N(v.to_owned())
}

/// A binary value.
pub fn b(v: &[u8]) -> AttributeValue {
    AttributeValue::B(Blob::new(v.to_vec()))
}

/// An item from (name, value) pairs.
pub fn item(pairs: &[(&str, AttributeValue)]) -> Item {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), v.clone()))
        .collect()
}

/// The (code, message) of a ValidationException, as `service_error` returns it.
pub fn validation(message: &str) -> (String, String) {
    ("ValidationException".to_owned(), message.to_owned())
}

/// Creates a PAY_PER_REQUEST table with the given hash and optional range
/// key.
pub async fn create_table(
    client: &Client,
    name: &str,
    hash: (&str, ScalarAttributeType),
    range: Option<(&str, ScalarAttributeType)>,
) {
    let el = |name: &str, key_type| {
        KeySchemaElement::builder()
            .attribute_name(name)
            .key_type(key_type)
            .build()
            .expect("key schema element")
    };
    let def = |name: &str, ty: ScalarAttributeType| {
        aws_sdk_dynamodb::types::AttributeDefinition::builder()
            .attribute_name(name)
            .attribute_type(ty)
            .build()
            .expect("attribute definition")
    };
    let mut req = client
        .create_table()
        .table_name(name)
        .billing_mode(BillingMode::PayPerRequest)
        .key_schema(el(hash.0, KeyType::Hash))
        .attribute_definitions(def(hash.0, hash.1));
    if let Some((r, ty)) = range {
        req = req
            .key_schema(el(r, KeyType::Range))
            .attribute_definitions(def(r, ty));
    }
    req.send().await.expect("create table");
}

/// A table keyed by the string `pk`.
pub async fn hash_table(client: &Client, name: &str) {
    create_table(client, name, ("pk", ScalarAttributeType::S), None).await;
}

/// A table keyed by the string `pk` and the number `sk`.
pub async fn range_table(client: &Client, name: &str) {
    create_table(
        client,
        name,
        ("pk", ScalarAttributeType::S),
        Some(("sk", ScalarAttributeType::N)),
    )
    .await;
}

/// Puts `item`, which must succeed.
pub async fn put(client: &Client, table: &str, item: Item) {
    client
        .put_item()
        .table_name(table)
        .set_item(Some(item))
        .send()
        .await
        .expect("put item");
}

/// Gets the item at `key` with a consistent read.
pub async fn get(client: &Client, table: &str, key: Item) -> Option<Item> {
    client
        .get_item()
        .table_name(table)
        .set_key(Some(key))
        .consistent_read(true)
        .send()
        .await
        .expect("get item")
        .item
}

/// Writes `items` into `table` with BatchWriteItem, 25 at a time; every
/// batch must be processed in full.
pub async fn batch_put(client: &Client, table: &str, items: impl IntoIterator<Item = Item>) {
    use aws_sdk_dynamodb::types::{PutRequest, WriteRequest};
    let requests: Vec<WriteRequest> = items
        .into_iter()
        .map(|item| {
            WriteRequest::builder()
                .put_request(
                    PutRequest::builder()
                        .set_item(Some(item))
                        .build()
                        .expect("put request"),
                )
                .build()
        })
        .collect();
    for chunk in requests.chunks(25) {
        let out = client
            .batch_write_item()
            .request_items(table, chunk.to_vec())
            .send()
            .await
            .expect("batch write");
        assert!(
            out.unprocessed_items().is_none_or(|u| u.is_empty()),
            "unprocessed items in {out:?}"
        );
    }
}

/// Creates SQS queue `name` with `attrs` and returns its URL.
pub async fn sqs_queue(
    c: &aws_sdk_sqs::Client,
    name: &str,
    attrs: &[(aws_sdk_sqs::types::QueueAttributeName, &str)],
) -> String {
    let mut req = c.create_queue().queue_name(name);
    for (k, v) in attrs {
        req = req.attributes(k.clone(), *v);
    }
    req.send()
        .await
        .expect("create queue")
        .queue_url
        .expect("url")
}

/// A zip of `(name, contents, unix mode)` files, as function code.
pub fn zip_of(files: &[(&str, &str, u32)]) -> Vec<u8> {
    use std::io::Write;
    let mut buf = std::io::Cursor::new(Vec::new());
    let mut w = zip::ZipWriter::new(&mut buf);
    for (name, body, mode) in files {
        let opts = zip::write::SimpleFileOptions::default().unix_permissions(*mode);
        w.start_file(*name, opts).expect("zip entry");
        w.write_all(body.as_bytes()).expect("zip write");
    }
    w.finish().expect("zip finish");
    buf.into_inner()
}
