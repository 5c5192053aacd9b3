//! One export request, whatever the transport: its rows written, and the answer that says what was
//! rejected. OTLP/HTTP (`otlp/http.rs`) and OTLP/gRPC (`otlp/grpc.rs`) both end here
//! (`otlp/intake.rs` maps the request, then calls `export`), for each signal: traces
//! (`map/spans.rs`), logs (`map/logs.rs`) and metrics (`map/metrics.rs`); and the scores that
//! traces' and logs' evaluation events carry (`map/scores.rs`).

use crate::batch::{Batches, Lane};
use crate::decode::wire::Lenient;
use crate::map::logs::LogRow;
use crate::map::metrics::MetricRow;
use crate::map::own::{Context, own};
use crate::map::spans::SpanRow;
use crate::map::{self, Mapped};
use crate::write::{Row, WriteError};
use opentelemetry_proto::tonic::collector::logs::v1::{
    ExportLogsPartialSuccess, ExportLogsServiceRequest, ExportLogsServiceResponse,
};
use opentelemetry_proto::tonic::collector::metrics::v1::{
    ExportMetricsPartialSuccess, ExportMetricsServiceRequest, ExportMetricsServiceResponse,
};
use opentelemetry_proto::tonic::collector::trace::v1::{
    ExportTracePartialSuccess, ExportTraceServiceRequest, ExportTraceServiceResponse,
};
use serde::Serialize;
use serde::de::DeserializeOwned;

/// An OTLP signal: its request and response messages, its rows, its paths, and how a request maps
/// to rows. Both transports and the writer are written once over this.
pub trait Signal: Send + Sync + 'static {
    type Request: Lenient + DeserializeOwned + Send + 'static;
    type Response: prost::Message + Serialize + Send;
    type Row: Row + Send + 'static;
    /// The OTLP/HTTP path, e.g. `/v1/traces`.
    const PATH: &'static str;
    /// The gRPC method, e.g. `/opentelemetry.proto.collector.trace.v1.TraceService/Export`.
    const GRPC_PATH: &'static str;
    /// The signal's name in logs and metrics: `traces`, `logs` or `metrics`.
    const NAME: &'static str;

    /// The request's rows, owned by `context` (project, redaction), and what could not become one
    /// (pure).
    fn map(request: &Self::Request, context: &Context) -> Mapped<Self::Row>;

    /// The answer, with `partial_success` when something was rejected: (how many, why).
    fn respond(rejected: Option<(i64, String)>) -> Self::Response;

    /// The signal's lane: its requests are written together (group commit).
    fn lane(batches: &Batches) -> &Lane<Self::Row>;
}

pub struct Traces;
pub struct Logs;
pub struct Metrics;

impl Signal for Traces {
    type Request = ExportTraceServiceRequest;
    type Response = ExportTraceServiceResponse;
    type Row = SpanRow;
    const PATH: &'static str = "/v1/traces";
    const NAME: &'static str = "traces";
    const GRPC_PATH: &'static str = "/opentelemetry.proto.collector.trace.v1.TraceService/Export";

    fn map(request: &Self::Request, context: &Context) -> Mapped<SpanRow> {
        own(
            map::spans::map_request_redacted(request, context.redaction),
            context,
        )
    }

    fn respond(rejected: Option<(i64, String)>) -> Self::Response {
        ExportTraceServiceResponse {
            partial_success: rejected.map(|(count, error_message)| ExportTracePartialSuccess {
                rejected_spans: count,
                error_message,
            }),
        }
    }

    fn lane(batches: &Batches) -> &Lane<Self::Row> {
        &batches.spans
    }
}

impl Signal for Logs {
    type Request = ExportLogsServiceRequest;
    type Response = ExportLogsServiceResponse;
    type Row = LogRow;
    const PATH: &'static str = "/v1/logs";
    const NAME: &'static str = "logs";
    const GRPC_PATH: &'static str = "/opentelemetry.proto.collector.logs.v1.LogsService/Export";

    fn map(request: &Self::Request, context: &Context) -> Mapped<LogRow> {
        own(map::logs::map_request(request), context)
    }

    fn respond(rejected: Option<(i64, String)>) -> Self::Response {
        ExportLogsServiceResponse {
            partial_success: rejected.map(|(count, error_message)| ExportLogsPartialSuccess {
                rejected_log_records: count,
                error_message,
            }),
        }
    }

    fn lane(batches: &Batches) -> &Lane<Self::Row> {
        &batches.logs
    }
}

impl Signal for Metrics {
    type Request = ExportMetricsServiceRequest;
    type Response = ExportMetricsServiceResponse;
    type Row = MetricRow;
    const PATH: &'static str = "/v1/metrics";
    const NAME: &'static str = "metrics";
    const GRPC_PATH: &'static str =
        "/opentelemetry.proto.collector.metrics.v1.MetricsService/Export";

    fn map(request: &Self::Request, context: &Context) -> Mapped<MetricRow> {
        own(map::metrics::map_request(request), context)
    }

    fn respond(rejected: Option<(i64, String)>) -> Self::Response {
        ExportMetricsServiceResponse {
            partial_success: rejected.map(|(count, error_message)| ExportMetricsPartialSuccess {
                rejected_data_points: count,
                error_message,
            }),
        }
    }

    fn lane(batches: &Batches) -> &Lane<Self::Row> {
        &batches.metrics
    }
}

/// What one request came to, for the operator (`crate::observe`): counts of its items (spans, log
/// records or metric points) and how long the database took.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Outcome {
    /// Newly stored.
    pub stored: u64,
    /// Already stored (a client's retry) or repeated within the request.
    pub duplicates: u64,
    /// Refused by the mapping or by the database; each is in the answer's partial_success.
    pub rejected: u64,
    /// Why, as the answer's partial_success says it (the first few reasons).
    pub rejected_reason: Option<String>,
    /// The write, COMMIT included, and the wait for its group (None when there was nothing to
    /// write).
    pub write_time: Option<std::time::Duration>,
    /// Scores of its evaluation events newly stored (`map::scores`).
    pub scores_stored: u64,
    /// Scores stored before (a retry) or repeated within the request.
    pub scores_duplicates: u64,
    /// Evaluation events that gave no score (malformed, or the score refused by the database);
    /// their records and spans are stored and not counted in `rejected`. The answer carries them
    /// as a warning.
    pub scores_skipped: u64,
    /// Why, as the answer's warning says it (the first few reasons).
    pub scores_skipped_reason: Option<String>,
}

/// Writes the mapped rows, and the scores derived from them, through the signal's lane (with the
/// other requests that join them; `bytes`: the request's size, decompressed). Ok means committed:
/// every item not counted as rejected in the answer (by the mapping or by the database) is stored.
///
/// An evaluation event that gives no score costs only its score: its record or span is stored and
/// not counted as rejected. The answer says why all the same, in `partial_success`'s message with
/// the rejected count it has (0 when nothing else was rejected): OTLP's way of a warning.
pub async fn export<S: Signal>(
    batches: &Batches,
    mapped: Mapped<S::Row>,
    bytes: usize,
) -> Result<(S::Response, Outcome), WriteError> {
    let started = std::time::Instant::now();
    let Mapped {
        rows,
        rejected,
        scores,
        skipped_scores,
    } = mapped;
    let anything = !rows.is_empty() || !scores.is_empty();
    let written = S::lane(batches).write(rows, scores, bytes).await?;
    let write_time = anything.then(|| started.elapsed());
    let reasons = |items: &[&[map::Rejected]]| -> Vec<String> {
        items
            .iter()
            .flat_map(|items| items.iter())
            .map(|rejected| rejected.reason.clone())
            .collect()
    };
    let rejected = reasons(&[&rejected, &written.rejected]);
    let skipped = reasons(&[&skipped_scores, &written.scores.refused]);
    let rejected_reason = (!rejected.is_empty()).then(|| summarize(&rejected));
    let skipped_reason = (!skipped.is_empty()).then(|| summarize(&skipped));
    let outcome = Outcome {
        stored: written.inserted,
        duplicates: written.duplicates,
        rejected: rejected.len() as u64,
        rejected_reason: rejected_reason.clone(),
        write_time,
        scores_stored: written.scores.stored,
        scores_duplicates: written.scores.duplicates,
        scores_skipped: skipped.len() as u64,
        scores_skipped_reason: skipped_reason.clone(),
    };
    let message = match (rejected_reason, skipped_reason) {
        (None, None) => None,
        (Some(rejected), None) => Some(rejected),
        (None, Some(skipped)) => Some(skipped),
        (Some(rejected), Some(skipped)) => Some(format!("{rejected}; {skipped}")),
    };
    let response = S::respond(message.map(|message| (rejected.len() as i64, message)));
    Ok((response, outcome))
}

/// At most a few reasons, so a request full of bad items still gets a readable answer.
fn summarize(reasons: &[String]) -> String {
    const SHOWN: usize = 5;
    let mut message = reasons
        .iter()
        .take(SHOWN)
        .map(String::as_str)
        .collect::<Vec<_>>()
        .join("; ");
    if reasons.len() > SHOWN {
        message.push_str(&format!("; and {} more", reasons.len() - SHOWN));
    }
    message
}
