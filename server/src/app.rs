//! The shared state of a running server: the engine, the ARNs of its
//! account and region, and request ids. Every service module reads it;
//! it imports no service.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use tarn_core::arn::Arns;

/// Shared state of a running server.
pub struct App {
    /// The storage engine.
    pub engine: tarn_engine::Engine,
    /// The ARNs of the server's account and region (`--account-id`,
    /// `--region`), which every service names its resources with.
    pub arns: Arns,
    request_seq: AtomicU64,
    request_seed: u64,
    address: std::sync::OnceLock<String>,
    iterator_ttl_ms: AtomicU64,
}

impl App {
    /// Wraps an engine for serving.
    pub fn new(engine: tarn_engine::Engine, region: String, account_id: String) -> Arc<App> {
        let request_seed = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(0)
            ^ u64::from(std::process::id());
        Arc::new(App {
            engine,
            arns: Arns::new(region, account_id),
            request_seq: AtomicU64::new(0),
            request_seed,
            address: std::sync::OnceLock::new(),
            iterator_ttl_ms: AtomicU64::new(tarn_streams::ITERATOR_TTL_MS),
        })
    }

    /// The region the server answers for.
    pub fn region(&self) -> &str {
        self.arns.region()
    }

    /// The account the server answers for.
    pub fn account_id(&self) -> &str {
        self.arns.account()
    }

    /// Sets how long stream shard iterators live (15 minutes unless a test
    /// wants them to expire sooner).
    pub fn set_iterator_ttl_ms(&self, ms: u64) {
        self.iterator_ttl_ms.store(ms, Ordering::Relaxed);
    }

    /// The region and account stream ARNs name.
    pub fn stream_names(&self) -> tarn_streams::Names {
        tarn_streams::Names {
            arns: self.arns.clone(),
            iterator_ttl_ms: self.iterator_ttl_ms.load(Ordering::Relaxed),
        }
    }

    /// Records where the server listens (`host:port`), for
    /// DescribeEndpoints. Only the first call counts.
    pub fn set_address(&self, address: String) {
        let _ = self.address.set(address);
    }

    /// Where clients reach this server: the listening address, or
    /// DynamoDB's regional host name if it was never set.
    pub fn address(&self) -> &str {
        self.address
            .get_or_init(|| format!("dynamodb.{}.amazonaws.com", self.region()))
    }

    /// A stable UUID for a table incarnation (DescribeTable's `TableId`).
    pub fn table_uuid(&self, id: u32, created_ms: u64) -> String {
        let mut h = blake3::Hasher::new();
        h.update(self.account_id().as_bytes());
        h.update(&id.to_be_bytes());
        h.update(&created_ms.to_be_bytes());
        let b = h.finalize();
        let b = b.as_bytes();
        let hex: String = b[..16]
            .iter()
            .enumerate()
            .map(|(i, x)| match i {
                6 => format!("{:02x}", (x & 0x0f) | 0x40),
                8 => format!("{:02x}", (x & 0x3f) | 0x80),
                _ => format!("{x:02x}"),
            })
            .collect();
        format!(
            "{}-{}-{}-{}-{}",
            &hex[..8],
            &hex[8..12],
            &hex[12..16],
            &hex[16..20],
            &hex[20..32]
        )
    }

    /// A fresh 52-character request id in DynamoDB's alphabet, `[0-9A-Z]`.
    pub(crate) fn request_id(&self) -> String {
        const ALPHABET: &[u8; 36] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ";
        let seq = self.request_seq.fetch_add(1, Ordering::Relaxed);
        let mut h = blake3::Hasher::new();
        h.update(&self.request_seed.to_le_bytes());
        h.update(&seq.to_le_bytes());
        let mut bytes = [0u8; 52];
        h.finalize_xof().fill(&mut bytes);
        bytes
            .iter()
            .map(|b| ALPHABET[usize::from(*b) % 36] as char)
            .collect()
    }
}
