//! One export request, whatever the transport: map its spans, write them, and say what was
//! rejected. OTLP/HTTP (`server.rs`) and OTLP/gRPC (`grpc.rs`) both end here.

use crate::map;
use crate::write::{WriteError, Writer};
use opentelemetry_proto::tonic::collector::trace::v1::{
    ExportTracePartialSuccess, ExportTraceServiceRequest, ExportTraceServiceResponse,
};

/// Ok means committed: every span not counted in `partial_success.rejected_spans` is stored.
pub async fn export_traces(
    writer: &Writer,
    request: ExportTraceServiceRequest,
) -> Result<ExportTraceServiceResponse, WriteError> {
    let mapped = map::map_request(&request);
    drop(request);
    let written = writer.write(&mapped.rows).await?;
    let rejected: Vec<&str> = mapped
        .rejected
        .iter()
        .chain(&written.rejected)
        .map(|rejected| rejected.reason.as_str())
        .collect();
    Ok(ExportTraceServiceResponse {
        partial_success: (!rejected.is_empty()).then(|| ExportTracePartialSuccess {
            rejected_spans: rejected.len() as i64,
            error_message: summarize(&rejected),
        }),
    })
}

/// At most a few reasons, so a request full of bad spans still gets a readable answer.
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
