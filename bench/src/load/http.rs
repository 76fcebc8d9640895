//! A minimal HTTP/1.1 client connection: one request at a time over a
//! keep-alive TCP socket, with `Content-Length`, chunked and
//! read-to-close bodies.
//!
//! A general-purpose client (hyper and its connection task, pools, header
//! maps) does more per request than a load generator can afford when it
//! shares two cores with the server it measures. This one writes the request
//! from one reused buffer in one `write` and parses the reply in place with
//! `httparse`; the body is a slice of the read buffer.

use std::io;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Largest response head accepted.
pub const HEAD_BYTES_MAX: usize = 64 * 1024;
/// Largest response body accepted (a Query page is at most 1 MB of items,
/// a little more as JSON).
pub const BODY_BYTES_MAX: usize = 64 * 1024 * 1024;
const HEADERS_MAX: usize = 64;

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum HttpError {
    /// The peer closed the connection. `partial` is set when some of a
    /// response had arrived.
    #[error("connection closed by the server")]
    Closed { partial: bool },
    #[error("{0}")]
    Io(#[from] io::Error),
    #[error("malformed response: {0}")]
    Malformed(&'static str),
    #[error("response larger than the limit")]
    TooLarge,
}

impl HttpError {
    /// True when the request may be resent on a new connection: a reused
    /// keep-alive connection that the server had closed.
    pub fn is_stale_connection(&self) -> bool {
        match self {
            Self::Closed { partial } => !partial,
            Self::Io(e) => matches!(
                e.kind(),
                io::ErrorKind::ConnectionReset
                    | io::ErrorKind::BrokenPipe
                    | io::ErrorKind::ConnectionAborted
            ),
            _ => false,
        }
    }
}

/// Where the requests go, from a URL such as `http://127.0.0.1:8000`.
/// Plain HTTP only: every local DynamoDB speaks it, and so does AWS
/// (`http://dynamodb.<region>.amazonaws.com`), and TLS would cost the
/// generator more CPU than the rest of a request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Endpoint {
    /// `host:port` to connect to.
    pub addr: String,
    /// The `Host` header (and the signed host): the port is left out when it
    /// is the scheme's default, as SDKs do.
    pub host_header: String,
}

impl Endpoint {
    /// The region of an AWS endpoint (`dynamodb.<region>.amazonaws.com`).
    pub fn aws_region(&self) -> Option<&str> {
        let host = self.addr.rsplit_once(':').map_or(&*self.addr, |(h, _)| h);
        host.strip_prefix("dynamodb.")?
            .strip_suffix(".amazonaws.com")
            .filter(|r| !r.is_empty() && !r.contains('.'))
    }

    pub fn parse(url: &str) -> Result<Self, String> {
        let rest = if let Some(rest) = url.strip_prefix("http://") {
            rest
        } else if url.starts_with("https://") {
            return Err(format!(
                "{url}: https is not supported; use http:// (AWS serves DynamoDB \
                 over plain HTTP too, e.g. http://dynamodb.us-east-1.amazonaws.com)"
            ));
        } else {
            return Err(format!("{url}: the endpoint must start with http://"));
        };
        let authority = match rest.find('/') {
            Some(i) if rest[i..].trim_end_matches('/').is_empty() => &rest[..i],
            Some(_) => return Err(format!("{url}: the endpoint must have no path")),
            None => rest,
        };
        if authority.is_empty() {
            return Err(format!("{url}: no host"));
        }
        // `[::1]:8000`, `host:8000`, `host`.
        let (host, port) = if let Some(v6) = authority.strip_prefix('[') {
            let end = v6
                .find(']')
                .ok_or_else(|| format!("{url}: bad IPv6 host"))?;
            let host = &authority[..end + 2];
            match &v6[end + 1..] {
                "" => (host, None),
                p => (host, Some(p.strip_prefix(':').ok_or("bad port")?)),
            }
        } else {
            match authority.rsplit_once(':') {
                Some((h, p)) => (h, Some(p)),
                None => (authority, None),
            }
        };
        let port: u16 = match port {
            Some(p) => p.parse().map_err(|_| format!("{url}: bad port {p:?}"))?,
            None => 80,
        };
        Ok(Self {
            addr: format!("{host}:{port}"),
            host_header: if port == 80 {
                host.to_owned()
            } else {
                format!("{host}:{port}")
            },
        })
    }
}

/// Where the last response's body is.
#[derive(Clone, Copy, Debug)]
enum Body {
    /// `buf[start..start + len]`.
    InBuf { start: usize, len: usize },
    /// Decoded from chunks into `decoded`.
    Decoded,
}

/// One keep-alive connection.
pub struct Conn {
    stream: TcpStream,
    buf: Vec<u8>,
    /// Unconsumed input is `buf[start..end]`.
    start: usize,
    end: usize,
    decoded: Vec<u8>,
    body: Body,
    reusable: bool,
}

impl Conn {
    pub async fn connect(addr: &str) -> io::Result<Self> {
        let stream = TcpStream::connect(addr).await?;
        stream.set_nodelay(true)?;
        Ok(Self {
            stream,
            buf: vec![0; 16 * 1024],
            start: 0,
            end: 0,
            decoded: Vec::new(),
            body: Body::InBuf { start: 0, len: 0 },
            reusable: true,
        })
    }

    /// False once the server asked to close, or framed a body by closing.
    pub fn is_reusable(&self) -> bool {
        self.reusable
    }

    /// The body of the last response.
    pub fn body(&self) -> &[u8] {
        match self.body {
            Body::InBuf { start, len } => &self.buf[start..start + len],
            Body::Decoded => &self.decoded,
        }
    }

    /// Send one complete request and read its response; returns the status,
    /// the body is then [`Conn::body`].
    pub async fn round_trip(&mut self, request: &[u8]) -> Result<u16, HttpError> {
        // The previous body is consumed now; with no pipelining, nothing
        // else is normally left in the buffer.
        if self.start == self.end {
            self.start = 0;
            self.end = 0;
        }
        self.stream.write_all(request).await?;
        self.read_response().await
    }

    /// Read more input; `Closed` at end of stream.
    async fn fill(&mut self) -> Result<(), HttpError> {
        if self.end == self.buf.len() {
            if self.start > 0 {
                self.buf.copy_within(self.start..self.end, 0);
                self.end -= self.start;
                self.start = 0;
            } else if self.buf.len() >= BODY_BYTES_MAX + HEAD_BYTES_MAX {
                return Err(HttpError::TooLarge);
            } else {
                let len = self.buf.len() * 2;
                self.buf.resize(len, 0);
            }
        }
        let n = self.stream.read(&mut self.buf[self.end..]).await?;
        if n == 0 {
            return Err(HttpError::Closed {
                partial: self.end > self.start,
            });
        }
        self.end += n;
        Ok(())
    }

    async fn read_response(&mut self) -> Result<u16, HttpError> {
        loop {
            let head = parse_head(&self.buf[self.start..self.end])?;
            let Some(head) = head else {
                if self.end - self.start > HEAD_BYTES_MAX {
                    return Err(HttpError::TooLarge);
                }
                self.fill().await?;
                continue;
            };
            self.start += head.len;
            if (100..200).contains(&head.status) && head.status != 101 {
                // 100 Continue and friends: the real response follows.
                continue;
            }
            if head.close {
                self.reusable = false;
            }
            // Once a head has arrived, a close is a truncated response, never
            // a stale connection to retry on.
            return match self.read_body(&head).await {
                Ok(()) => Ok(head.status),
                Err(HttpError::Closed { .. }) => Err(HttpError::Closed { partial: true }),
                Err(e) => Err(e),
            };
        }
    }

    async fn read_body(&mut self, head: &Head) -> Result<(), HttpError> {
        if head.status == 204 || head.status == 304 {
            self.body = Body::InBuf {
                start: self.start,
                len: 0,
            };
        } else if head.chunked {
            self.read_chunked().await?;
        } else if let Some(len) = head.content_length {
            if len > BODY_BYTES_MAX {
                return Err(HttpError::TooLarge);
            }
            while self.end - self.start < len {
                self.fill().await?;
            }
            self.body = Body::InBuf {
                start: self.start,
                len,
            };
            self.start += len;
        } else {
            // No framing: the body runs to the end of the connection.
            self.reusable = false;
            loop {
                match self.fill().await {
                    Ok(()) => {}
                    Err(HttpError::Closed { .. }) => break,
                    Err(e) => return Err(e),
                }
                if self.end - self.start > BODY_BYTES_MAX {
                    return Err(HttpError::TooLarge);
                }
            }
            self.body = Body::InBuf {
                start: self.start,
                len: self.end - self.start,
            };
            self.start = self.end;
        }
        Ok(())
    }

    async fn read_chunked(&mut self) -> Result<(), HttpError> {
        self.decoded.clear();
        loop {
            let size = match httparse::parse_chunk_size(&self.buf[self.start..self.end]) {
                Ok(httparse::Status::Complete((n, size))) => {
                    self.start += n;
                    usize::try_from(size).map_err(|_| HttpError::TooLarge)?
                }
                Ok(httparse::Status::Partial) => {
                    self.fill().await?;
                    continue;
                }
                Err(_) => return Err(HttpError::Malformed("bad chunk size")),
            };
            if size == 0 {
                break;
            }
            if self.decoded.len() + size > BODY_BYTES_MAX {
                return Err(HttpError::TooLarge);
            }
            while self.end - self.start < size + 2 {
                self.fill().await?;
            }
            let chunk = &self.buf[self.start..self.start + size + 2];
            if &chunk[size..] != b"\r\n" {
                return Err(HttpError::Malformed("chunk not followed by CRLF"));
            }
            self.decoded.extend_from_slice(&chunk[..size]);
            self.start += size + 2;
        }
        // Trailers (rare), then the empty line.
        loop {
            let pending = &self.buf[self.start..self.end];
            match pending.windows(2).position(|w| w == b"\r\n") {
                Some(0) => {
                    self.start += 2;
                    break;
                }
                Some(i) => self.start += i + 2,
                None => {
                    if pending.len() > HEAD_BYTES_MAX {
                        return Err(HttpError::TooLarge);
                    }
                    self.fill().await?;
                }
            }
        }
        self.body = Body::Decoded;
        Ok(())
    }
}

#[derive(Debug, PartialEq, Eq)]
struct Head {
    len: usize,
    status: u16,
    content_length: Option<usize>,
    chunked: bool,
    close: bool,
}

/// Parse a response head at the start of `input`; `None` if incomplete.
fn parse_head(input: &[u8]) -> Result<Option<Head>, HttpError> {
    let mut headers = [httparse::EMPTY_HEADER; HEADERS_MAX];
    let mut response = httparse::Response::new(&mut headers);
    let len = match response.parse(input) {
        Ok(httparse::Status::Complete(len)) => len,
        Ok(httparse::Status::Partial) => return Ok(None),
        Err(httparse::Error::TooManyHeaders) => {
            return Err(HttpError::Malformed("too many headers"))
        }
        Err(_) => return Err(HttpError::Malformed("bad status line or header")),
    };
    let status = response.code.ok_or(HttpError::Malformed("no status"))?;
    // HTTP/1.0 closes unless it says keep-alive.
    let mut close = response.version == Some(0);
    let mut content_length = None;
    let mut chunked = false;
    for h in response.headers.iter() {
        if h.name.eq_ignore_ascii_case("content-length") {
            let v = std::str::from_utf8(h.value)
                .ok()
                .and_then(|s| s.trim().parse::<usize>().ok())
                .ok_or(HttpError::Malformed("bad content-length"))?;
            content_length = Some(v);
        } else if h.name.eq_ignore_ascii_case("transfer-encoding") {
            chunked = h
                .value
                .rsplit(|b| *b == b',')
                .next()
                .is_some_and(|v| v.trim_ascii().eq_ignore_ascii_case(b"chunked"));
        } else if h.name.eq_ignore_ascii_case("connection") {
            for token in h.value.split(|b| *b == b',') {
                let token = token.trim_ascii();
                if token.eq_ignore_ascii_case(b"close") {
                    close = true;
                } else if token.eq_ignore_ascii_case(b"keep-alive") {
                    close = false;
                }
            }
        }
    }
    Ok(Some(Head {
        len,
        status,
        content_length,
        chunked,
        close,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::net::TcpListener;

    #[test]
    fn endpoints_parse() {
        let e = Endpoint::parse("http://127.0.0.1:8000").expect("parse");
        assert_eq!(e.addr, "127.0.0.1:8000");
        assert_eq!(e.host_header, "127.0.0.1:8000");
        let e = Endpoint::parse("http://localhost/").expect("parse");
        assert_eq!(e.addr, "localhost:80");
        assert_eq!(e.host_header, "localhost");
        let e = Endpoint::parse("http://[::1]:9000").expect("parse");
        assert_eq!(e.addr, "[::1]:9000");
        assert!(Endpoint::parse("https://dynamodb.us-east-1.amazonaws.com").is_err());
        assert!(Endpoint::parse("127.0.0.1:8000").is_err());
        assert!(Endpoint::parse("http://h:8000/path").is_err());
        assert!(Endpoint::parse("http://h:port").is_err());
        let aws = Endpoint::parse("http://dynamodb.eu-west-1.amazonaws.com").expect("parse");
        assert_eq!(aws.aws_region(), Some("eu-west-1"));
        assert_eq!(aws.host_header, "dynamodb.eu-west-1.amazonaws.com");
        assert_eq!(e.aws_region(), None);
    }

    #[test]
    fn heads_parse_framing_and_connection_tokens() {
        let head = parse_head(b"HTTP/1.1 200 OK\r\nContent-Length: 12\r\n\r\nbody")
            .expect("ok")
            .expect("complete");
        assert_eq!(head.status, 200);
        assert_eq!(head.content_length, Some(12));
        assert!(!head.close);
        let head = parse_head(
            b"HTTP/1.1 400 Bad\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n",
        )
        .expect("ok")
        .expect("complete");
        assert!(head.chunked && head.close);
        let head = parse_head(b"HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n")
            .expect("ok")
            .expect("complete");
        assert!(head.close, "HTTP/1.0 closes by default");
        assert_eq!(
            parse_head(b"HTTP/1.1 200 OK\r\nContent-").expect("ok"),
            None
        );
        assert!(parse_head(b"garbage\r\n\r\n").is_err());
    }

    /// Serve `replies` in order, one per request read, on a loopback port.
    async fn server(replies: Vec<&'static [u8]>) -> String {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr").to_string();
        tokio::spawn(async move {
            let (mut s, _) = listener.accept().await.expect("accept");
            let mut buf = vec![0; 4096];
            for reply in replies {
                let mut got = Vec::new();
                // Read one request: head, then its Content-Length body.
                loop {
                    let n = s.read(&mut buf).await.expect("read");
                    if n == 0 {
                        return;
                    }
                    got.extend_from_slice(&buf[..n]);
                    let mut h = [httparse::EMPTY_HEADER; 16];
                    let mut r = httparse::Request::new(&mut h);
                    if let Ok(httparse::Status::Complete(len)) = r.parse(&got) {
                        let cl: usize = r
                            .headers
                            .iter()
                            .find(|h| h.name.eq_ignore_ascii_case("content-length"))
                            .map(|h| {
                                std::str::from_utf8(h.value)
                                    .expect("utf8")
                                    .parse()
                                    .expect("n")
                            })
                            .unwrap_or(0);
                        if got.len() >= len + cl {
                            break;
                        }
                    }
                }
                // Dribble the reply to exercise partial reads.
                for piece in reply.chunks(7) {
                    s.write_all(piece).await.expect("write");
                    s.flush().await.expect("flush");
                    tokio::task::yield_now().await;
                }
            }
        });
        addr
    }

    const REQUEST: &[u8] = b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}";

    #[tokio::test]
    async fn reads_content_length_chunked_and_close_framed_bodies() {
        let addr = server(vec![
            b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 11\r\n\r\n{\"Item\":{}}",
            b"HTTP/1.1 400 Bad Request\r\nTransfer-Encoding: chunked\r\n\r\n5\r\n{\"__t\r\n3\r\nype\r\n0\r\n\r\n",
            b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nuntil the end",
        ])
        .await;
        let mut c = Conn::connect(&addr).await.expect("connect");
        assert_eq!(c.round_trip(REQUEST).await.expect("first"), 200);
        assert_eq!(c.body(), b"{\"Item\":{}}");
        assert_eq!(c.round_trip(REQUEST).await.expect("second"), 400);
        assert_eq!(c.body(), b"{\"__type");
        assert!(c.is_reusable());
        assert_eq!(c.round_trip(REQUEST).await.expect("third"), 200);
        assert_eq!(c.body(), b"until the end");
        assert!(!c.is_reusable());
    }

    #[tokio::test]
    async fn a_closed_connection_is_reported_as_stale() {
        let addr = server(vec![]).await;
        let mut c = Conn::connect(&addr).await.expect("connect");
        let err = c.round_trip(REQUEST).await.expect_err("closed");
        assert!(err.is_stale_connection(), "{err:?}");
    }

    #[tokio::test]
    async fn a_truncated_body_is_an_error_not_a_short_body() {
        let addr = server(vec![b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nshort"]).await;
        let mut c = Conn::connect(&addr).await.expect("connect");
        let err = c.round_trip(REQUEST).await.expect_err("truncated");
        assert!(
            matches!(err, HttpError::Closed { partial: true }),
            "{err:?}"
        );
        assert!(!err.is_stale_connection());
    }
}
