//! OTLP/gRPC, the default protocol of most SDKs, on its own port: the TraceService, LogsService
//! and MetricsService of `opentelemetry.proto.collector.*.v1` (`.../Export`). Same path as OTLP/HTTP
//! after decoding: `export::Signal::export`. A database outage is `UNAVAILABLE`, which gRPC clients
//! retry.

use super::auth::{self, Auth};
use super::limits::Limits;
use crate::export::{self, Signal};
use crate::write::Writer;
use opentelemetry_proto::tonic::collector::logs::v1::logs_service_server::{
    LogsService, LogsServiceServer,
};
use opentelemetry_proto::tonic::collector::logs::v1::{
    ExportLogsServiceRequest, ExportLogsServiceResponse,
};
use opentelemetry_proto::tonic::collector::metrics::v1::metrics_service_server::{
    MetricsService, MetricsServiceServer,
};
use opentelemetry_proto::tonic::collector::metrics::v1::{
    ExportMetricsServiceRequest, ExportMetricsServiceResponse,
};
use opentelemetry_proto::tonic::collector::trace::v1::trace_service_server::{
    TraceService, TraceServiceServer,
};
use opentelemetry_proto::tonic::collector::trace::v1::{
    ExportTraceServiceRequest, ExportTraceServiceResponse,
};
use tonic::codec::CompressionEncoding;
use tonic::{Request, Response, Status};

/// The three services, one writer.
#[derive(Clone)]
struct Services {
    writer: Writer,
}

impl Services {
    async fn export<S: Signal>(
        &self,
        request: Request<S::Request>,
    ) -> Result<Response<S::Response>, Status> {
        S::export(&self.writer, request.into_inner())
            .await
            .map(Response::new)
            .map_err(|error| Status::unavailable(error.to_string()))
    }
}

#[tonic::async_trait]
impl TraceService for Services {
    async fn export(
        &self,
        request: Request<ExportTraceServiceRequest>,
    ) -> Result<Response<ExportTraceServiceResponse>, Status> {
        Services::export::<export::Traces>(self, request).await
    }
}

#[tonic::async_trait]
impl LogsService for Services {
    async fn export(
        &self,
        request: Request<ExportLogsServiceRequest>,
    ) -> Result<Response<ExportLogsServiceResponse>, Status> {
        Services::export::<export::Logs>(self, request).await
    }
}

#[tonic::async_trait]
impl MetricsService for Services {
    async fn export(
        &self,
        request: Request<ExportMetricsServiceRequest>,
    ) -> Result<Response<ExportMetricsServiceResponse>, Status> {
        Services::export::<export::Metrics>(self, request).await
    }
}

/// Serves OTLP/gRPC on `listener` until `shutdown` completes; requests in flight finish first.
pub async fn run(
    listener: tokio::net::TcpListener,
    writer: Writer,
    auth: Auth,
    limits: Limits,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> Result<(), tonic::transport::Error> {
    let services = Services { writer };
    let max_message_bytes = limits.max_decompressed_bytes;
    // Every service: gzip either way, the same size cap, the same bearer token.
    let check = move |request: Request<()>| {
        let authorization = request
            .metadata()
            .get("authorization")
            .and_then(|value| value.to_str().ok());
        if auth.allows(authorization) {
            Ok(request)
        } else {
            Err(Status::unauthenticated(auth::UNAUTHORIZED))
        }
    };
    let traces = TraceServiceServer::new(services.clone())
        .accept_compressed(CompressionEncoding::Gzip)
        .send_compressed(CompressionEncoding::Gzip)
        .max_decoding_message_size(max_message_bytes);
    let logs = LogsServiceServer::new(services.clone())
        .accept_compressed(CompressionEncoding::Gzip)
        .send_compressed(CompressionEncoding::Gzip)
        .max_decoding_message_size(max_message_bytes);
    let metrics = MetricsServiceServer::new(services)
        .accept_compressed(CompressionEncoding::Gzip)
        .send_compressed(CompressionEncoding::Gzip)
        .max_decoding_message_size(max_message_bytes);
    use tonic::service::interceptor::InterceptedService;
    let incoming = tokio_stream::wrappers::TcpListenerStream::new(listener);
    tonic::transport::Server::builder()
        .add_service(InterceptedService::new(traces, check.clone()))
        .add_service(InterceptedService::new(logs, check.clone()))
        .add_service(InterceptedService::new(metrics, check))
        .serve_with_incoming_shutdown(incoming, shutdown)
        .await
}
