//! What the transports tell the operator of one answered request.

use crate::export::Outcome;
use std::time::Duration;

/// Which port a request came by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Transport {
    Http,
    Grpc,
}

impl Transport {
    pub fn as_str(self) -> &'static str {
        match self {
            Transport::Http => "http",
            Transport::Grpc => "grpc",
        }
    }
}

/// A request that was not taken, as the log tells it.
#[derive(Debug, Clone, Copy)]
pub struct Refused<'a> {
    pub message: &'a str,
    /// PostgreSQL's SQLSTATE when the database caused the refusal.
    pub sqlstate: Option<&'a str>,
}

/// One answered request.
#[derive(Debug, Clone, Copy)]
pub struct Request<'a> {
    pub transport: Transport,
    /// `traces`, `logs` or `metrics`; None when the path named no signal (404).
    pub signal: Option<&'static str>,
    /// The HTTP status (for gRPC, the HTTP status of the same refusal on OTLP/HTTP, so both
    /// transports count alike: 200, 400, 401, 503, ...).
    pub status: u16,
    /// Body bytes received (as sent, before gzip).
    pub bytes: usize,
    pub duration: Duration,
    pub result: Result<&'a Outcome, Refused<'a>>,
}
