//! What the service says about itself to its operator: one log line per request and the service's
//! own metrics (`metrics`), in the format the operator chose (`log`: text or JSON, a level).
//!
//! The transports (`crate::otlp`) report each request here once it is answered: which signal,
//! which transport, the status, the items stored, repeated and rejected (with why), the bytes
//! received and how long it took; a refusal with its reason and, from the database, its SQLSTATE.
//! This folder only records: it must not decide anything about a request (what to store, what to
//! answer), and nothing on the data path may depend on it.

pub mod log;
mod metrics;
mod request;

pub use metrics::Gauges;
pub use request::{Refused, Request, Transport};

/// The service's log and metrics, shared by both transports.
#[derive(Clone, Default)]
pub struct Observer {
    metrics: metrics::Metrics,
}

impl Observer {
    /// Counts the request and writes its log line: INFO when it was stored whole, WARN when items
    /// were rejected, evaluation events gave no score, or the client is at fault (4xx), ERROR when
    /// the service or the database is
    /// (5xx: a retry storm shows as a run of these, each with the database's SQLSTATE).
    pub fn request(&self, request: &Request<'_>) {
        self.metrics.count(request);
        let signal = request.signal.unwrap_or("-");
        let transport = request.transport.as_str();
        let duration_ms = request.duration.as_secs_f64() * 1000.0;
        let (status, bytes) = (request.status, request.bytes);
        match request.result {
            Ok(outcome) if outcome.rejected == 0 && outcome.scores_skipped == 0 => tracing::info!(
                target: "agent_trace::request",
                transport, signal, status, stored = outcome.stored, duplicates = outcome.duplicates,
                rejected = 0u64, scores = outcome.scores_stored, bytes, duration_ms, "request"
            ),
            Ok(outcome) if outcome.rejected == 0 => tracing::warn!(
                target: "agent_trace::request",
                transport, signal, status, stored = outcome.stored, duplicates = outcome.duplicates,
                rejected = 0u64, scores = outcome.scores_stored,
                scores_skipped = outcome.scores_skipped,
                scores_skipped_reason = outcome.scores_skipped_reason.as_deref().unwrap_or_default(),
                bytes, duration_ms, "request with evaluation events that gave no score"
            ),
            Ok(outcome) => tracing::warn!(
                target: "agent_trace::request",
                transport, signal, status, stored = outcome.stored, duplicates = outcome.duplicates,
                rejected = outcome.rejected,
                rejected_reason = outcome.rejected_reason.as_deref().unwrap_or_default(),
                scores = outcome.scores_stored, scores_skipped = outcome.scores_skipped,
                scores_skipped_reason = outcome.scores_skipped_reason.as_deref().unwrap_or_default(),
                bytes, duration_ms, "request with rejected items"
            ),
            Err(refused) if status >= 500 => tracing::error!(
                target: "agent_trace::request",
                transport, signal, status, error = refused.message,
                sqlstate = refused.sqlstate.unwrap_or_default(), bytes, duration_ms, "request refused"
            ),
            Err(refused) => tracing::warn!(
                target: "agent_trace::request",
                transport, signal, status, error = refused.message, bytes, duration_ms,
                "request refused"
            ),
        }
    }

    /// The metrics in Prometheus' text format (OpenMetrics), with the gauges read now.
    pub fn encode(&self, gauges: &Gauges) -> String {
        self.metrics.encode(gauges)
    }
}
