//! `tarn-ceiling`: the cheapest server that still speaks the protocol. It
//! answers every POST with one fixed GetItem reply, so a run against it
//! measures the load generator (and the loopback), not a database.

use std::io;
use std::sync::Arc;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

const REQUEST_HEAD_BYTES_MAX: usize = 64 * 1024;
const REQUEST_BODY_BYTES_MAX: usize = 16 * 1024 * 1024;

/// The complete HTTP response to every POST: a GetItem reply whose `field0`
/// has `value_bytes` characters.
pub fn reply(value_bytes: usize) -> Vec<u8> {
    let body = format!(
        r#"{{"Item":{{"pk":{{"S":"user1"}},"sk":{{"N":"1"}},"field0":{{"S":"{}"}}}}}}"#,
        "x".repeat(value_bytes)
    );
    let mut out = format!(
        "HTTP/1.1 200 OK\r\nContent-Type: application/x-amz-json-1.0\r\n\
         x-amzn-RequestId: tarn-ceiling\r\nContent-Length: {}\r\n\r\n",
        body.len()
    )
    .into_bytes();
    out.extend_from_slice(body.as_bytes());
    out
}

const HEALTHY: &[u8] =
    b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 8\r\n\r\nhealthy\n";
const BAD_REQUEST: &[u8] =
    b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";

/// Accept connections forever.
pub async fn serve(listener: TcpListener, reply: Arc<[u8]>) -> io::Result<()> {
    loop {
        let (stream, _) = listener.accept().await?;
        let reply = reply.clone();
        tokio::spawn(async move {
            // A client going away is not an error worth reporting.
            let _ = connection(stream, &reply).await;
        });
    }
}

/// Serve one connection: every complete request in the buffer is answered
/// (pipelining works), replies to one read go out in one write.
async fn connection(mut stream: TcpStream, reply: &[u8]) -> io::Result<()> {
    stream.set_nodelay(true)?;
    let mut buf = vec![0u8; 16 * 1024];
    let mut filled = 0;
    let mut out = Vec::with_capacity(reply.len() * 4);
    loop {
        let n = stream.read(&mut buf[filled..]).await?;
        if n == 0 {
            return Ok(());
        }
        filled += n;
        let mut at = 0;
        let mut close = false;
        loop {
            let mut headers = [httparse::EMPTY_HEADER; 64];
            let mut req = httparse::Request::new(&mut headers);
            let head = match req.parse(&buf[at..filled]) {
                Ok(httparse::Status::Complete(head)) => head,
                Ok(httparse::Status::Partial) => break,
                Err(_) => {
                    out.extend_from_slice(BAD_REQUEST);
                    close = true;
                    break;
                }
            };
            let mut body = 0usize;
            for h in req.headers.iter() {
                if h.name.eq_ignore_ascii_case("content-length") {
                    body = std::str::from_utf8(h.value)
                        .ok()
                        .and_then(|v| v.trim().parse().ok())
                        .unwrap_or(usize::MAX);
                } else if h.name.eq_ignore_ascii_case("connection")
                    && h.value.eq_ignore_ascii_case(b"close")
                {
                    close = true;
                }
            }
            if body > REQUEST_BODY_BYTES_MAX {
                out.extend_from_slice(BAD_REQUEST);
                close = true;
                break;
            }
            if filled - at < head + body {
                // The body is still coming.
                break;
            }
            out.extend_from_slice(if req.method == Some("POST") {
                reply
            } else {
                HEALTHY
            });
            at += head + body;
            if close {
                break;
            }
        }
        if !out.is_empty() {
            stream.write_all(&out).await?;
            out.clear();
        }
        if close {
            return Ok(());
        }
        buf.copy_within(at..filled, 0);
        filled -= at;
        if filled == buf.len() {
            if buf.len() >= REQUEST_HEAD_BYTES_MAX + REQUEST_BODY_BYTES_MAX {
                return Ok(());
            }
            let len = buf.len() * 2;
            buf.resize(len, 0);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::load::client::{Client, Op};

    #[tokio::test]
    async fn the_client_gets_the_fixed_reply_over_one_connection() {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let url = format!("http://{}", listener.local_addr().expect("addr"));
        let fixed: Arc<[u8]> = reply(10).into();
        tokio::spawn(serve(listener, fixed));
        let mut client = Client::new(crate::load::testing::config(&url, "dynamodb").client);
        let big = vec![b'x'; 100_000];
        for body in [&b"{}"[..], &big[..], b"{}"] {
            let r = client.call(Op::GetItem, body).await.expect("call");
            assert_eq!(r.status, 200);
            let v: serde_json::Value = serde_json::from_slice(r.body).expect("json");
            assert_eq!(v["Item"]["field0"]["S"], "xxxxxxxxxx");
        }
        assert_eq!(client.reconnects, 0, "one keep-alive connection");
    }

    #[tokio::test]
    async fn pipelined_requests_each_get_a_reply() {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let fixed: Arc<[u8]> = reply(1).into();
        let one = fixed.len();
        tokio::spawn(serve(listener, fixed));
        let mut s = TcpStream::connect(addr).await.expect("connect");
        let req = b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}";
        let mut two = req.to_vec();
        two.extend_from_slice(req);
        s.write_all(&two).await.expect("write");
        let mut got = vec![0u8; one * 2];
        s.read_exact(&mut got).await.expect("two replies");
        assert!(got.starts_with(b"HTTP/1.1 200 OK"));
        assert!(got[one..].starts_with(b"HTTP/1.1 200 OK"));
    }
}
