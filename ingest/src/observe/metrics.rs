//! The service's own metrics, served as Prometheus text (OpenMetrics) at `GET /metrics`:
//!
//! | metric | what |
//! |---|---|
//! | `agent_trace_requests_total{transport, signal, status}` | requests answered, by HTTP status (gRPC's counted as the same refusal on HTTP) |
//! | `agent_trace_items_total{signal, outcome}` | spans, log records or metric points: `stored`, `duplicate` (already stored), `rejected` |
//! | `agent_trace_scores_total{signal, outcome}` | scores of evaluation events (`gen_ai.evaluation.result`) in traces or logs: `stored`, `duplicate`, `skipped` (malformed, or refused; the event's record or span is stored) |
//! | `agent_trace_write_duration_seconds{signal}` | histogram of one request's write to PostgreSQL, its wait for its group and COMMIT included |
//! | `agent_trace_inflight_bytes` | memory held by requests in progress (`--max-inflight-bytes` is the limit) |
//! | `agent_trace_db_connections{state}` | the pool's connections `in_use` and `idle`; `agent_trace_db_connections_max`; `agent_trace_db_waiting` requests waiting for one |
//! | `agent_trace_build_info{version}` | 1 |
//!
//! Counters and the histogram are updated as requests are answered; the gauges are read when
//! scraped (`Gauges`).

use super::request::Request;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::metrics::info::Info;
use prometheus_client::registry::Registry;
use std::sync::Arc;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    transport: &'static str,
    signal: &'static str,
    status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ItemLabels {
    signal: &'static str,
    outcome: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct SignalLabels {
    signal: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct StateLabels {
    state: &'static str,
}

/// What the gauges show, read when /metrics is asked for.
#[derive(Debug, Clone, Copy, Default)]
pub struct Gauges {
    pub inflight_bytes: usize,
    pub connections_in_use: usize,
    pub connections_idle: usize,
    pub connections_max: usize,
    pub waiting: usize,
}

fn write_buckets() -> Histogram {
    // 1 ms to about 16 s: a small batch commits in milliseconds, the statement timeout is 30 s.
    Histogram::new(exponential_buckets(0.001, 2.0, 15))
}

#[derive(Clone)]
pub(super) struct Metrics {
    registry: Arc<Registry>,
    requests: Family<RequestLabels, Counter>,
    items: Family<ItemLabels, Counter>,
    scores: Family<ItemLabels, Counter>,
    write_seconds: Family<SignalLabels, Histogram, fn() -> Histogram>,
    inflight_bytes: Gauge,
    connections: Family<StateLabels, Gauge>,
    connections_max: Gauge,
    waiting: Gauge,
}

impl Default for Metrics {
    fn default() -> Self {
        let mut registry = Registry::with_prefix("agent_trace");
        let requests = Family::<RequestLabels, Counter>::default();
        let items = Family::<ItemLabels, Counter>::default();
        let scores = Family::<ItemLabels, Counter>::default();
        let write_seconds =
            Family::<SignalLabels, Histogram, fn() -> Histogram>::new_with_constructor(
                write_buckets,
            );
        let (inflight_bytes, connections_max, waiting) =
            (Gauge::default(), Gauge::default(), Gauge::default());
        let connections = Family::<StateLabels, Gauge>::default();
        registry.register(
            "requests",
            "OTLP requests answered, by transport, signal and HTTP status",
            requests.clone(),
        );
        registry.register(
            "items",
            "Spans, log records or metric points received, by what became of them: stored, duplicate (stored before), rejected",
            items.clone(),
        );
        registry.register(
            "scores",
            "Scores of evaluation events (gen_ai.evaluation.result) received in traces or logs, by what became of them: stored, duplicate (stored before), skipped (no usable score; the event's record or span is stored)",
            scores.clone(),
        );
        registry.register(
            "write_duration_seconds",
            "Time to write one request's rows to PostgreSQL, COMMIT included",
            write_seconds.clone(),
        );
        registry.register(
            "inflight_bytes",
            "Memory held by requests in progress (bodies and what they decode to)",
            inflight_bytes.clone(),
        );
        registry.register(
            "db_connections",
            "Database connections of the pool, in use or idle",
            connections.clone(),
        );
        registry.register(
            "db_connections_max",
            "Largest size of the pool (--pool-size)",
            connections_max.clone(),
        );
        registry.register(
            "db_waiting",
            "Requests waiting for a database connection",
            waiting.clone(),
        );
        registry.register(
            "build",
            "This agent-trace's version",
            Info::new(vec![("version", env!("CARGO_PKG_VERSION"))]),
        );
        Metrics {
            registry: Arc::new(registry),
            requests,
            items,
            scores,
            write_seconds,
            inflight_bytes,
            connections,
            connections_max,
            waiting,
        }
    }
}

impl Metrics {
    pub(super) fn count(&self, request: &Request<'_>) {
        let signal = request.signal.unwrap_or("none");
        self.requests
            .get_or_create(&RequestLabels {
                transport: request.transport.as_str(),
                signal,
                status: request.status,
            })
            .inc();
        let Ok(outcome) = request.result else {
            return;
        };
        for (outcome_label, count) in [
            ("stored", outcome.stored),
            ("duplicate", outcome.duplicates),
            ("rejected", outcome.rejected),
        ] {
            self.items
                .get_or_create(&ItemLabels {
                    signal,
                    outcome: outcome_label,
                })
                .inc_by(count);
        }
        for (outcome_label, count) in [
            ("stored", outcome.scores_stored),
            ("duplicate", outcome.scores_duplicates),
            ("skipped", outcome.scores_skipped),
        ] {
            // Only signals that carry evaluation events, and only once one came.
            if count > 0 {
                self.scores
                    .get_or_create(&ItemLabels {
                        signal,
                        outcome: outcome_label,
                    })
                    .inc_by(count);
            }
        }
        if let Some(write_time) = outcome.write_time {
            self.write_seconds
                .get_or_create(&SignalLabels { signal })
                .observe(write_time.as_secs_f64());
        }
    }

    pub(super) fn encode(&self, gauges: &Gauges) -> String {
        let as_gauge = |n: usize| i64::try_from(n).unwrap_or(i64::MAX);
        self.inflight_bytes.set(as_gauge(gauges.inflight_bytes));
        self.connections
            .get_or_create(&StateLabels { state: "in_use" })
            .set(as_gauge(gauges.connections_in_use));
        self.connections
            .get_or_create(&StateLabels { state: "idle" })
            .set(as_gauge(gauges.connections_idle));
        self.connections_max.set(as_gauge(gauges.connections_max));
        self.waiting.set(as_gauge(gauges.waiting));
        let mut text = String::new();
        // Writing into a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut text, &self.registry);
        text
    }
}
