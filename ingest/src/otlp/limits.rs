//! What one request, and all requests together, may take. One struct for both transports: every
//! field is a command-line flag of `serve` and `up`, whose defaults are `Limits::DEFAULT`.

use std::time::Duration;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Longest time to receive a request body, so a slow client cannot hold a request open.
    pub max_body_read_time: Duration,
    /// Largest request body accepted, as sent (compressed or not).
    pub max_body_bytes: usize,
    /// Largest request body (or gRPC message) after decompression.
    pub max_decompressed_bytes: usize,
    /// Decompressed bytes of all requests being processed at once; beyond it requests get 429.
    pub max_inflight_bytes: usize,
}

impl Limits {
    pub const DEFAULT: Limits = Limits {
        max_body_read_time: Duration::from_secs(30),
        max_body_bytes: 20 << 20,
        max_decompressed_bytes: 64 << 20,
        max_inflight_bytes: 256 << 20,
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
        Ok(())
    }
}

impl Default for Limits {
    fn default() -> Self {
        Self::DEFAULT
    }
}
