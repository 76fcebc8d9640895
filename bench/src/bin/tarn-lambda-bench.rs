//! `tarn-lambda-bench`: invoke latency of functions run by a Tarn.
//!
//! Creates an echo function (Python or Node, from a temporary directory
//! through Tarn's `tarn-local` code extension, so no zip is needed), then
//!
//! - **cold start:** `--cold` times an invoke right after
//!   UpdateFunctionConfiguration retired the warm instances;
//! - **warm:** `--connections` clients invoke back to back for
//!   `--seconds`, each over its own keep-alive HTTP/1.1 connection, and the
//!   round-trip latencies (request written to reply read) go into a
//!   histogram: p50, p99, max, invokes per second.
//!
//! Requests carry a well-formed fake SigV4 header (Tarn checks its shape,
//! not its signature). Plain sockets keep the client's cost small.

use std::time::{Duration, Instant};

use clap::Parser;
use hdrhistogram::Histogram;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

#[derive(Parser, Debug)]
#[command(
    name = "tarn-lambda-bench",
    about = "Invoke latency of a Tarn's functions"
)]
struct Args {
    /// Tarn's `host:port`.
    #[arg(long, default_value = "127.0.0.1:8000")]
    address: String,
    /// `python3.12` or `nodejs20.x`.
    #[arg(long, default_value = "python3.12")]
    runtime: String,
    /// Concurrent clients for the warm run.
    #[arg(long, default_value_t = 1)]
    connections: usize,
    /// Length of the warm run.
    #[arg(long, default_value_t = 5)]
    seconds: u64,
    /// Cold starts to time.
    #[arg(long, default_value_t = 5)]
    cold: usize,
}

const AUTH: &str = "AWS4-HMAC-SHA256 Credential=AKIDBENCH/20260101/us-east-1/lambda/aws4_request, SignedHeaders=host;x-amz-date, Signature=0000000000000000000000000000000000000000000000000000000000000000";

struct Conn {
    stream: TcpStream,
    host: String,
    buf: Vec<u8>,
}

impl Conn {
    async fn open(address: &str) -> std::io::Result<Conn> {
        let stream = TcpStream::connect(address).await?;
        stream.set_nodelay(true)?;
        Ok(Conn {
            stream,
            host: address.to_owned(),
            buf: Vec::with_capacity(64 * 1024),
        })
    }

    /// Sends one request and reads its reply; returns status and body.
    async fn call(
        &mut self,
        method: &str,
        path: &str,
        body: &[u8],
    ) -> std::io::Result<(u16, Vec<u8>)> {
        let head = format!(
            "{method} {path} HTTP/1.1\r\nHost: {}\r\nAuthorization: {AUTH}\r\nX-Amz-Date: 20260101T000000Z\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
            self.host,
            body.len()
        );
        let mut req = head.into_bytes();
        req.extend_from_slice(body);
        self.stream.write_all(&req).await?;
        self.buf.clear();
        let mut chunk = [0u8; 16 * 1024];
        loop {
            let n = self.stream.read(&mut chunk).await?;
            if n == 0 {
                return Err(std::io::Error::other("connection closed"));
            }
            self.buf.extend_from_slice(&chunk[..n]);
            let mut headers = [httparse::EMPTY_HEADER; 32];
            let mut resp = httparse::Response::new(&mut headers);
            if let Ok(httparse::Status::Complete(len)) = resp.parse(&self.buf) {
                let status = resp.code.unwrap_or(0);
                let length: usize = resp
                    .headers
                    .iter()
                    .find(|h| h.name.eq_ignore_ascii_case("content-length"))
                    .and_then(|h| std::str::from_utf8(h.value).ok())
                    .and_then(|v| v.trim().parse().ok())
                    .unwrap_or(0);
                if self.buf.len() >= len + length {
                    return Ok((status, self.buf[len..len + length].to_vec()));
                }
            }
        }
    }
}

fn handler_files(runtime: &str) -> (&'static str, &'static str, &'static str) {
    if runtime.starts_with("nodejs") {
        (
            "index.js",
            "exports.handler = async (event) => event;\n",
            "index.handler",
        )
    } else {
        (
            "app.py",
            "def handler(event, context):\n    return event\n",
            "app.handler",
        )
    }
}

fn percentile(h: &Histogram<u64>, q: f64) -> f64 {
    h.value_at_quantile(q) as f64 / 1000.0
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args = Args::parse();
    let dir = std::env::temp_dir().join(format!("tarn-lambda-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let (file, code, handler) = handler_files(&args.runtime);
    std::fs::write(dir.join(file), code)?;
    let name = format!("bench-echo-{}", std::process::id());
    let mut c = Conn::open(&args.address).await?;
    let create = serde_json::json!({
        "FunctionName": name,
        "Runtime": args.runtime,
        "Role": "arn:aws:iam::000000000000:role/bench",
        "Handler": handler,
        "Code": {"S3Bucket": "tarn-local", "S3Key": dir.display().to_string()},
    });
    let (status, body) = c
        .call(
            "POST",
            "/2015-03-31/functions",
            create.to_string().as_bytes(),
        )
        .await?;
    if status != 201 {
        return Err(format!("create: {status} {}", String::from_utf8_lossy(&body)).into());
    }
    let invoke_path = format!("/2015-03-31/functions/{name}/invocations");
    let payload = br#"{"hello":"world"}"#;

    // Cold starts: each update retires the warm instances.
    let mut cold = Vec::new();
    for i in 0..args.cold {
        let update = serde_json::json!({"Description": format!("cold {i}")});
        c.call(
            "PUT",
            &format!("/2015-03-31/functions/{name}/configuration"),
            update.to_string().as_bytes(),
        )
        .await?;
        let started = Instant::now();
        let (status, _) = c.call("POST", &invoke_path, payload).await?;
        cold.push(started.elapsed().as_secs_f64() * 1000.0);
        if status != 200 {
            return Err(format!("cold invoke: {status}").into());
        }
    }
    cold.sort_by(f64::total_cmp);

    // Warm up one instance per connection.
    let mut conns = Vec::new();
    for _ in 0..args.connections {
        conns.push(Conn::open(&args.address).await?);
    }
    let deadline = Instant::now() + Duration::from_secs(args.seconds);
    let mut tasks = Vec::new();
    for mut conn in conns {
        let path = invoke_path.clone();
        tasks.push(tokio::spawn(async move {
            let mut h = Histogram::<u64>::new(3).expect("histogram");
            let mut errors = 0u64;
            // The first call of each connection may start an instance.
            let _ = conn.call("POST", &path, payload).await;
            while Instant::now() < deadline {
                let started = Instant::now();
                match conn.call("POST", &path, payload).await {
                    Ok((200, _)) => {
                        let _ = h.record(started.elapsed().as_micros() as u64);
                    }
                    _ => errors += 1,
                }
            }
            (h, errors)
        }));
    }
    let mut all = Histogram::<u64>::new(3)?;
    let mut errors = 0;
    let started = Instant::now();
    for t in tasks {
        let (h, e) = t.await?;
        all.add(&h)?;
        errors += e;
    }
    let secs = started.elapsed().as_secs_f64().max(1e-9);
    let _ = c
        .call("DELETE", &format!("/2015-03-31/functions/{name}"), b"")
        .await;
    let _ = std::fs::remove_dir_all(&dir);
    println!(
        "runtime {} connections {} | warm: {} invokes, {:.0}/s, p50 {:.3} ms, p99 {:.3} ms, max {:.3} ms, errors {} | cold start (n={}): median {:.1} ms, max {:.1} ms",
        args.runtime,
        args.connections,
        all.len(),
        all.len() as f64 / secs,
        percentile(&all, 0.5),
        percentile(&all, 0.99),
        all.max() as f64 / 1000.0,
        errors,
        cold.len(),
        cold.get(cold.len() / 2).copied().unwrap_or(0.0),
        cold.last().copied().unwrap_or(0.0),
    );
    Ok(())
}
