//! OTLP/gRPC (`opentelemetry.proto.collector.trace.v1.TraceService/Export`), the default protocol
//! of most SDKs, on its own port. Same path as OTLP/HTTP after decoding: `export::export_traces`.
//! A database outage is `UNAVAILABLE`, which gRPC clients retry.

use crate::export;
use crate::write::Writer;
use opentelemetry_proto::tonic::collector::trace::v1::trace_service_server::{
    TraceService, TraceServiceServer,
};
use opentelemetry_proto::tonic::collector::trace::v1::{
    ExportTraceServiceRequest, ExportTraceServiceResponse,
};
use subtle::ConstantTimeEq;
use tonic::codec::CompressionEncoding;
use tonic::{Request, Response, Status};

struct Traces {
    writer: Writer,
}

#[tonic::async_trait]
impl TraceService for Traces {
    async fn export(
        &self,
        request: Request<ExportTraceServiceRequest>,
    ) -> Result<Response<ExportTraceServiceResponse>, Status> {
        export::export_traces(&self.writer, request.into_inner())
            .await
            .map(Response::new)
            .map_err(|error| Status::unavailable(error.to_string()))
    }
}

/// Serves OTLP/gRPC on `listener` until `shutdown` completes; requests in flight finish first.
pub async fn run(
    listener: tokio::net::TcpListener,
    writer: Writer,
    token: Option<String>,
    max_message_bytes: usize,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> Result<(), tonic::transport::Error> {
    let service = TraceServiceServer::new(Traces { writer })
        .accept_compressed(CompressionEncoding::Gzip)
        .send_compressed(CompressionEncoding::Gzip)
        .max_decoding_message_size(max_message_bytes);
    let authorized = tonic::service::interceptor::InterceptedService::new(
        service,
        move |request: Request<()>| {
            authorize(token.as_deref(), &request)?;
            Ok(request)
        },
    );
    let incoming = tokio_stream::wrappers::TcpListenerStream::new(listener);
    tonic::transport::Server::builder()
        .add_service(authorized)
        .serve_with_incoming_shutdown(incoming, shutdown)
        .await
}

fn authorize(token: Option<&str>, request: &Request<()>) -> Result<(), Status> {
    let Some(expected) = token else { return Ok(()) };
    let presented = request
        .metadata()
        .get("authorization")
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.strip_prefix("Bearer "));
    match presented {
        Some(presented) if bool::from(presented.as_bytes().ct_eq(expected.as_bytes())) => Ok(()),
        _ => Err(Status::unauthenticated("missing or wrong bearer token")),
    }
}
