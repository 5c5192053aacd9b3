//! One export request, whatever the transport: map it to rows, write them, and say what was
//! rejected. OTLP/HTTP (`otlp/http.rs`) and OTLP/gRPC (`otlp/grpc.rs`) both end here, for each
//! signal: traces (`map/spans.rs`), logs (`map/logs.rs`) and metrics (`map/metrics.rs`).

use crate::map::{self, Rejected};
use crate::otlp::decode::{self, DecodeError, Encoding};
use crate::otlp::lenient::Lenient;
use crate::write::{Row, WriteError, Writer};
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
use std::future::Future;

/// An OTLP signal: its request and response messages, how its request is decoded from an HTTP
/// body, and its export. The HTTP server and the gRPC services are written once over this.
pub trait Signal: Send + Sync + 'static {
    type Request: Lenient + DeserializeOwned + Send + 'static;
    type Response: prost::Message + Serialize + Send;
    /// The OTLP/HTTP path, e.g. `/v1/traces`.
    const PATH: &'static str;

    /// Decodes an (uncompressed) OTLP/HTTP body.
    fn decode(encoding: Encoding, bytes: &[u8]) -> Result<Self::Request, DecodeError> {
        decode::decode_request(encoding, bytes)
    }

    /// Ok means committed: every item not counted as rejected in the response is stored.
    fn export(
        writer: &Writer,
        request: Self::Request,
    ) -> impl Future<Output = Result<Self::Response, WriteError>> + Send;
}

pub struct Traces;
pub struct Logs;
pub struct Metrics;

impl Signal for Traces {
    type Request = ExportTraceServiceRequest;
    type Response = ExportTraceServiceResponse;
    const PATH: &'static str = "/v1/traces";

    fn export(
        writer: &Writer,
        request: Self::Request,
    ) -> impl Future<Output = Result<Self::Response, WriteError>> + Send {
        export_traces(writer, request)
    }
}

impl Signal for Logs {
    type Request = ExportLogsServiceRequest;
    type Response = ExportLogsServiceResponse;
    const PATH: &'static str = "/v1/logs";

    fn export(
        writer: &Writer,
        request: Self::Request,
    ) -> impl Future<Output = Result<Self::Response, WriteError>> + Send {
        export_logs(writer, request)
    }
}

impl Signal for Metrics {
    type Request = ExportMetricsServiceRequest;
    type Response = ExportMetricsServiceResponse;
    const PATH: &'static str = "/v1/metrics";

    fn export(
        writer: &Writer,
        request: Self::Request,
    ) -> impl Future<Output = Result<Self::Response, WriteError>> + Send {
        export_metrics(writer, request)
    }
}

/// Ok means committed: every span not counted in `partial_success.rejected_spans` is stored.
pub async fn export_traces(
    writer: &Writer,
    request: ExportTraceServiceRequest,
) -> Result<ExportTraceServiceResponse, WriteError> {
    let mapped = map::spans::map_request(&request);
    drop(request);
    let rejected = write(writer, &mapped.rows, &mapped.rejected).await?;
    Ok(ExportTraceServiceResponse {
        partial_success: rejected.map(|(count, error_message)| ExportTracePartialSuccess {
            rejected_spans: count,
            error_message,
        }),
    })
}

/// Ok means committed: every log record not counted in `rejected_log_records` is stored.
pub async fn export_logs(
    writer: &Writer,
    request: ExportLogsServiceRequest,
) -> Result<ExportLogsServiceResponse, WriteError> {
    let mapped = map::logs::map_request(&request);
    drop(request);
    let rejected = write(writer, &mapped.rows, &mapped.rejected).await?;
    Ok(ExportLogsServiceResponse {
        partial_success: rejected.map(|(count, error_message)| ExportLogsPartialSuccess {
            rejected_log_records: count,
            error_message,
        }),
    })
}

/// Ok means committed: every data point not counted in `rejected_data_points` is stored.
pub async fn export_metrics(
    writer: &Writer,
    request: ExportMetricsServiceRequest,
) -> Result<ExportMetricsServiceResponse, WriteError> {
    let mapped = map::metrics::map_request(&request);
    drop(request);
    let rejected = write(writer, &mapped.rows, &mapped.rejected).await?;
    Ok(ExportMetricsServiceResponse {
        partial_success: rejected.map(|(count, error_message)| ExportMetricsPartialSuccess {
            rejected_data_points: count,
            error_message,
        }),
    })
}

/// Writes the mapped rows; the number rejected (by the mapping or the database) and why, if any.
async fn write<R: Row>(
    writer: &Writer,
    rows: &[R],
    rejected_by_mapping: &[Rejected],
) -> Result<Option<(i64, String)>, WriteError> {
    let written = writer.write(rows).await?;
    let rejected: Vec<&str> = rejected_by_mapping
        .iter()
        .chain(&written.rejected)
        .map(|rejected| rejected.reason.as_str())
        .collect();
    Ok((!rejected.is_empty()).then(|| (rejected.len() as i64, summarize(&rejected))))
}

/// At most a few reasons, so a request full of bad items still gets a readable answer.
fn summarize(reasons: &[&str]) -> String {
    const SHOWN: usize = 5;
    let mut message = reasons
        .iter()
        .take(SHOWN)
        .copied()
        .collect::<Vec<_>>()
        .join("; ");
    if reasons.len() > SHOWN {
        message.push_str(&format!("; and {} more", reasons.len() - SHOWN));
    }
    message
}
