//! A DynamoDB or SQS (JSON protocol) client for one worker: one keep-alive connection, requests
//! signed with SigV4 and framed by hand, reconnection with a bounded retry.

use std::io::{self, Write as _};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use super::http::{Conn, Endpoint, HttpError};
use super::sigv4::{Credentials, Signer, CONTENT_TYPE};

/// The DynamoDB and SQS operations the load generator sends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Op {
    GetItem,
    PutItem,
    UpdateItem,
    Query,
    BatchWriteItem,
    CreateTable,
    DescribeTable,
    CreateQueue,
    GetQueueUrl,
    SendMessage,
    SendMessageBatch,
    ReceiveMessage,
    DeleteMessageBatch,
}

impl Op {
    pub fn target(self) -> &'static str {
        match self {
            Self::GetItem => "DynamoDB_20120810.GetItem",
            Self::PutItem => "DynamoDB_20120810.PutItem",
            Self::UpdateItem => "DynamoDB_20120810.UpdateItem",
            Self::Query => "DynamoDB_20120810.Query",
            Self::BatchWriteItem => "DynamoDB_20120810.BatchWriteItem",
            Self::CreateTable => "DynamoDB_20120810.CreateTable",
            Self::DescribeTable => "DynamoDB_20120810.DescribeTable",
            // SQS's JSON protocol (what current SDKs and the CLI send).
            Self::CreateQueue => "AmazonSQS.CreateQueue",
            Self::GetQueueUrl => "AmazonSQS.GetQueueUrl",
            Self::SendMessage => "AmazonSQS.SendMessage",
            Self::SendMessageBatch => "AmazonSQS.SendMessageBatch",
            Self::ReceiveMessage => "AmazonSQS.ReceiveMessage",
            Self::DeleteMessageBatch => "AmazonSQS.DeleteMessageBatch",
        }
    }

    /// The name without the API prefix, for messages.
    pub fn name(self) -> &'static str {
        let t = self.target();
        t.rsplit('.').next().unwrap_or(t)
    }
}

/// How a connection is (re)established.
#[derive(Clone, Debug)]
pub struct ClientConfig {
    pub endpoint: Endpoint,
    pub credentials: Credentials,
    pub region: String,
    /// The SigV4 service name: `dynamodb` or `sqs` (moto's server picks the
    /// service by the one in the credential scope).
    pub service: &'static str,
    /// Per request, connect included.
    pub timeout: Duration,
    /// Connection attempts before a request fails (at least 1).
    pub connect_attempts: u32,
}

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CallError {
    #[error("no reply within the timeout")]
    Timeout,
    #[error("cannot connect: {0}")]
    Connect(io::Error),
    #[error("{0}")]
    Http(#[from] HttpError),
}

impl CallError {
    /// The name this failure is counted under, beside DynamoDB's `__type`s.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Timeout => "Timeout",
            Self::Connect(_) => "ConnectError",
            Self::Http(HttpError::Closed { .. } | HttpError::Io(_)) => "ConnectionError",
            Self::Http(_) => "BadResponse",
        }
    }
}

/// The reply to a call: its status and body (borrowed from the connection).
#[derive(Debug)]
pub struct Reply<'a> {
    pub status: u16,
    pub body: &'a [u8],
}

impl Reply<'_> {
    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }

    /// The exception name of an error reply: the part of `__type` after
    /// `#` (DynamoDB's and SQS's JSON protocol alike), or `HTTP <status>`
    /// when the body does not say.
    pub fn error_type(&self) -> String {
        error_type(self.status, self.body)
    }
}

pub fn error_type(status: u16, body: &[u8]) -> String {
    #[derive(serde::Deserialize)]
    struct ErrorBody {
        #[serde(rename = "__type")]
        ty: Option<String>,
    }
    match serde_json::from_slice::<ErrorBody>(body) {
        Ok(ErrorBody { ty: Some(ty) }) if !ty.is_empty() => {
            ty.rsplit('#').next().unwrap_or(&ty).to_owned()
        }
        _ => format!("HTTP {status}"),
    }
}

pub struct Client {
    config: Arc<ClientConfig>,
    signer: Signer,
    conn: Option<Conn>,
    request: Vec<u8>,
    /// Connections opened after the first (stale keep-alives, errors).
    pub reconnects: u64,
}

impl Client {
    pub fn new(config: Arc<ClientConfig>) -> Self {
        let signer = Signer::new(
            config.credentials.clone(),
            &config.region,
            config.service,
            &config.endpoint.host_header,
        );
        Self {
            config,
            signer,
            conn: None,
            request: Vec::with_capacity(4096),
            reconnects: 0,
        }
    }

    /// Open the connection now rather than at the first call.
    pub async fn connect(&mut self) -> Result<(), CallError> {
        if self.conn.is_none() {
            self.conn = Some(self.open().await?);
        }
        Ok(())
    }

    async fn open(&mut self) -> Result<Conn, CallError> {
        let attempts = self.config.connect_attempts.max(1);
        let mut backoff = Duration::from_millis(50);
        let mut last = None;
        for attempt in 0..attempts {
            if attempt > 0 {
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(Duration::from_secs(1));
            }
            match tokio::time::timeout(
                self.config.timeout,
                Conn::connect(&self.config.endpoint.addr),
            )
            .await
            {
                Ok(Ok(conn)) => return Ok(conn),
                Ok(Err(e)) => last = Some(e),
                Err(_) => last = Some(io::Error::new(io::ErrorKind::TimedOut, "connect timed out")),
            }
        }
        Err(CallError::Connect(last.unwrap_or_else(|| {
            io::Error::other("no connection attempt was made")
        })))
    }

    fn frame(&mut self, op: Op, body: &[u8]) {
        let unix_secs = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        let target = op.target();
        let signed = self.signer.sign(unix_secs, target, body);
        let r = &mut self.request;
        r.clear();
        r.extend_from_slice(b"POST / HTTP/1.1\r\nHost: ");
        r.extend_from_slice(self.config.endpoint.host_header.as_bytes());
        r.extend_from_slice(b"\r\nContent-Type: ");
        r.extend_from_slice(CONTENT_TYPE.as_bytes());
        r.extend_from_slice(b"\r\nX-Amz-Target: ");
        r.extend_from_slice(target.as_bytes());
        r.extend_from_slice(b"\r\nX-Amz-Date: ");
        r.extend_from_slice(signed.amz_date.as_bytes());
        if let Some(token) = signed.security_token {
            r.extend_from_slice(b"\r\nX-Amz-Security-Token: ");
            r.extend_from_slice(token.as_bytes());
        }
        r.extend_from_slice(b"\r\nAuthorization: ");
        r.extend_from_slice(signed.authorization.as_bytes());
        // Writes to a Vec cannot fail.
        let _ = write!(
            r,
            "\r\nUser-Agent: tarn-load\r\nContent-Length: {}\r\n\r\n",
            body.len()
        );
        r.extend_from_slice(body);
    }

    /// Send one request and wait for its reply. A reused connection that the
    /// server had closed is replaced and the request resent once; any other
    /// failure drops the connection (the next call reconnects) and is
    /// returned.
    pub async fn call(&mut self, op: Op, body: &[u8]) -> Result<Reply<'_>, CallError> {
        if self.conn.as_ref().is_some_and(|c| !c.is_reusable()) {
            self.conn = None;
        }
        self.frame(op, body);
        let mut status = None;
        for _ in 0..2 {
            let fresh = self.conn.is_none();
            if fresh {
                let conn = self.open().await?;
                self.conn = Some(conn);
            }
            let Some(conn) = self.conn.as_mut() else {
                unreachable!("connected above");
            };
            match tokio::time::timeout(self.config.timeout, conn.round_trip(&self.request)).await {
                Ok(Ok(s)) => {
                    status = Some(s);
                    break;
                }
                Ok(Err(e)) => {
                    self.conn = None;
                    self.reconnects += 1;
                    if fresh || !e.is_stale_connection() {
                        return Err(e.into());
                    }
                }
                Err(_) => {
                    self.conn = None;
                    self.reconnects += 1;
                    return Err(CallError::Timeout);
                }
            }
        }
        match (status, self.conn.as_ref()) {
            (Some(status), Some(conn)) => Ok(Reply {
                status,
                body: conn.body(),
            }),
            // Two stale connections in a row.
            _ => Err(CallError::Http(HttpError::Closed { partial: false })),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_types_are_the_exception_name() {
        let body = br#"{"__type":"com.amazonaws.dynamodb.v20120810#ResourceNotFoundException","message":"x"}"#;
        assert_eq!(error_type(400, body), "ResourceNotFoundException");
        assert_eq!(
            error_type(400, br#"{"__type":"ValidationException"}"#),
            "ValidationException"
        );
        assert_eq!(error_type(500, b"<html>oops</html>"), "HTTP 500");
        assert_eq!(error_type(503, b""), "HTTP 503");
        assert_eq!(error_type(400, br#"{"message":"no type"}"#), "HTTP 400");
        let sqs = br#"{"__type":"com.amazonaws.sqs#QueueDoesNotExist","message":"x"}"#;
        assert_eq!(error_type(400, sqs), "QueueDoesNotExist");
    }

    #[test]
    fn targets_name_the_dynamodb_api_version() {
        assert_eq!(Op::GetItem.target(), "DynamoDB_20120810.GetItem");
        assert_eq!(
            Op::BatchWriteItem.target(),
            "DynamoDB_20120810.BatchWriteItem"
        );
        assert_eq!(Op::SendMessage.target(), "AmazonSQS.SendMessage");
        assert_eq!(Op::DeleteMessageBatch.name(), "DeleteMessageBatch");
    }
}
