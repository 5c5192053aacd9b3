//! OTLP/gRPC end to end with a real tonic client: captured requests stored once, gzip accepted,
//! the bearer token enforced, and a database outage answered UNAVAILABLE (which clients retry).

mod common;

use common::{TestDb, free_port};
use ingest::decode;
use ingest::fixtures;
use ingest::write::{Writer, WriterConfig};
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::collector::trace::v1::trace_service_client::TraceServiceClient;
use std::time::Duration;
use tonic::codec::CompressionEncoding;

struct GrpcServer {
    endpoint: String,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<Result<(), tonic::transport::Error>>,
}

impl GrpcServer {
    async fn start(db: &TestDb, token: Option<&str>) -> Self {
        let writer = Writer::connect(&WriterConfig {
            database_url: db.url(),
            pool_size: 2,
            connection_wait: Duration::from_millis(1500),
            statement_timeout: Duration::from_secs(5),
        })
        .await
        .expect("writer");
        let port = free_port();
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
            .await
            .expect("bind");
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(ingest::grpc::run(
            listener,
            writer,
            token.map(String::from),
            64 << 20,
            async move {
                let _ = stopped.await;
            },
        ));
        Self {
            endpoint: format!("http://127.0.0.1:{port}"),
            stop: Some(stop),
            task,
        }
    }

    async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        self.task.await.expect("task").expect("grpc server ran");
    }
}

fn fixture_request(name: &str) -> ExportTraceServiceRequest {
    let fixture = fixtures::load("traces")
        .into_iter()
        .find(|f| f.name == name)
        .expect("fixture");
    let encoding = decode::encoding_of(fixture.content_type.as_deref()).expect("encoding");
    let raw = decode::decompress(fixture.content_encoding.as_deref(), fixture.body, 64 << 20)
        .expect("inflate");
    decode::decode_message(encoding, &raw).expect("decode")
}

#[tokio::test(flavor = "multi_thread")]
async fn grpc_export_stores_spans_once_and_enforces_the_token() {
    let db = TestDb::start("grpc");
    let server = GrpcServer::start(&db, Some("s3cret")).await;
    let request = fixture_request("py_sdk_agent/010_v1_traces");

    let mut client = TraceServiceClient::connect(server.endpoint.clone())
        .await
        .expect("connect")
        .send_compressed(CompressionEncoding::Gzip);

    let unauthenticated = client.export(request.clone()).await.expect_err("no token");
    assert_eq!(unauthenticated.code(), tonic::Code::Unauthenticated);

    for _ in 0..2 {
        let mut call = tonic::Request::new(request.clone());
        call.metadata_mut()
            .insert("authorization", "Bearer s3cret".parse().unwrap());
        let response = client.export(call).await.expect("export").into_inner();
        assert_eq!(response.partial_success, None);
    }
    assert_eq!(
        db.number("SELECT count(*) FROM agent_trace.agent_spans")
            .await,
        6
    );
    assert_eq!(
        db.number("SELECT sum(span_count)::bigint FROM agent_trace.agent_traces")
            .await,
        6
    );

    db.cluster.down().expect("stop postgres");
    let mut call = tonic::Request::new(fixture_request("cli_claude/001_v1_traces"));
    call.metadata_mut()
        .insert("authorization", "Bearer s3cret".parse().unwrap());
    let outage = client.export(call).await.expect_err("database down");
    assert_eq!(
        outage.code(),
        tonic::Code::Unavailable,
        "{}",
        outage.message()
    );
    db.cluster.up().expect("start postgres");
    server.stop().await;
}
