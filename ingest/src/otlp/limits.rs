//! What one request, one connection, and all of them together may take. One struct for both
//! transports: every field is a command-line flag of `serve` and `up`, whose defaults are
//! `Limits::DEFAULT`.

use crate::batch::Bounds;
use std::time::Duration;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Longest time to receive a request body, so a slow client cannot hold a request open.
    pub max_body_read_time: Duration,
    /// Largest request body accepted, as sent (compressed or not).
    pub max_body_bytes: usize,
    /// Largest request body (or gRPC message) after decompression.
    pub max_decompressed_bytes: usize,
    /// Memory of all requests in progress at once (`budget.rs`: bodies as received and inflated,
    /// and an upper bound of what they decode to); beyond it requests get 429 / RESOURCE_EXHAUSTED.
    pub max_inflight_bytes: usize,
    /// Open connections of both ports together; more wait to be accepted.
    pub max_connections: usize,
    /// OTLP/HTTP: time for a request's head to arrive, also between requests on a kept-alive
    /// connection, so slow and idle clients cannot hold connections.
    pub header_read_timeout: Duration,
    /// OTLP/gRPC: a connection that sends nothing for this long (not even the answers to its
    /// keep-alive pings) is closed. OTLP/HTTP connections are bounded by `header_read_timeout`.
    pub idle_timeout: Duration,
    /// OTLP/gRPC: the interval of keep-alive pings, and how long to wait for their answer.
    pub grpc_keepalive: Duration,
    /// OTLP/gRPC: longest time from a call's message to its answer (DEADLINE_EXCEEDED after it;
    /// not written if it still waits for its group, else its retry is skipped as duplicates).
    pub request_timeout: Duration,
    /// Group commit: how many rows and bytes of concurrent requests share a transaction, and how
    /// long one waits for others while a write is in flight (`crate::batch`).
    pub batch: Bounds,
}

impl Limits {
    pub const DEFAULT: Limits = Limits {
        max_body_read_time: Duration::from_secs(30),
        max_body_bytes: 20 << 20,
        max_decompressed_bytes: 64 << 20,
        max_inflight_bytes: 256 << 20,
        max_connections: 1024,
        header_read_timeout: Duration::from_secs(10),
        idle_timeout: Duration::from_secs(120),
        grpc_keepalive: Duration::from_secs(30),
        request_timeout: Duration::from_secs(60),
        batch: Bounds::DEFAULT,
    };

    /// Limits that cannot work together, explained.
    pub fn check(&self) -> Result<(), String> {
        if self.max_inflight_bytes < self.max_decompressed_bytes {
            // Otherwise a request of the largest accepted size could never be admitted, and its
            // client would be told to retry forever.
            return Err(format!(
                "--max-inflight-bytes ({}) must be at least --max-decompressed-bytes ({})",
                self.max_inflight_bytes, self.max_decompressed_bytes
            ));
        }
        for (flag, duration) in [
            ("--body-read-timeout-secs", self.max_body_read_time),
            ("--header-read-timeout-secs", self.header_read_timeout),
            ("--idle-timeout-secs", self.idle_timeout),
            ("--grpc-keepalive-secs", self.grpc_keepalive),
            ("--request-timeout-secs", self.request_timeout),
        ] {
            if duration.is_zero() {
                return Err(format!("{flag} must be at least 1"));
            }
        }
        if self.max_connections == 0 {
            return Err("--max-connections must be at least 1".into());
        }
        self.batch.check()?;
        Ok(())
    }
}

impl Default for Limits {
    fn default() -> Self {
        Self::DEFAULT
    }
}
