//! OTLP/gRPC end to end with a real tonic client: captured requests stored once, gzip accepted,
//! the bearer token enforced, and a database outage answered UNAVAILABLE (which clients retry).

mod common;

use common::{TestDb, TestGrpcServer};
use ingest::fixtures;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::collector::trace::v1::trace_service_client::TraceServiceClient;
use tonic::codec::CompressionEncoding;

fn fixture_request(name: &str) -> ExportTraceServiceRequest {
    fixtures::find(name).decode()
}

#[tokio::test(flavor = "multi_thread")]
async fn grpc_export_stores_spans_once_and_enforces_the_token() {
    let db = TestDb::start("grpc");
    let server = TestGrpcServer::start(&db, Some("s3cret-s3cret-s3cret")).await;
    let request = fixture_request("py_sdk_agent/010_v1_traces");

    let mut client = TraceServiceClient::connect(server.endpoint.clone())
        .await
        .expect("connect")
        .send_compressed(CompressionEncoding::Gzip);

    let unauthenticated = client.export(request.clone()).await.expect_err("no token");
    assert_eq!(unauthenticated.code(), tonic::Code::Unauthenticated);

    for _ in 0..2 {
        let mut call = tonic::Request::new(request.clone());
        call.metadata_mut().insert(
            "authorization",
            "Bearer s3cret-s3cret-s3cret".parse().unwrap(),
        );
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
    call.metadata_mut().insert(
        "authorization",
        "Bearer s3cret-s3cret-s3cret".parse().unwrap(),
    );
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

/// A protobuf string that is not UTF-8 costs nothing over gRPC either: the message is read by the
/// same decoder as OTLP/HTTP's, which repairs it (before, tonic refused the whole request).
#[tokio::test(flavor = "multi_thread")]
async fn invalid_utf8_over_grpc_costs_no_span() {
    let db = TestDb::start("grpc-utf8");
    let server = TestGrpcServer::start(&db, None).await;
    let fixture = fixtures::find("py_sdk_agent/010_v1_traces");
    let mut message = fixture.body.to_vec();
    let name = b"invoke_agent weather_agent";
    let at = message
        .windows(name.len())
        .position(|window| window == name)
        .expect("the agent span's name");
    message[at + 6] = 0xFF; // "invoke\xFFagent ...": not UTF-8
    let (status, why) = common::grpc_call(
        &server.endpoint,
        common::TRACES_EXPORT,
        message.into(),
        false,
    )
    .await;
    assert_eq!(status, "0", "{why}");
    assert_eq!(
        db.number("SELECT count(*) FROM agent_trace.agent_spans")
            .await,
        fixture.counts.spans as i64
    );
    assert_eq!(
        db.number("SELECT count(*) FROM agent_trace.agent_spans WHERE name = 'invoke\u{FFFD}agent weather_agent'")
            .await,
        1
    );
    server.stop().await;
}

/// gRPC takes only `application/grpc` (and `application/grpc+proto`): a call with any other
/// content-type (what a web page could send without a preflight, or none) is INVALID_ARGUMENT and
/// stores nothing; the same message as `application/grpc` is stored.
#[tokio::test(flavor = "multi_thread")]
async fn a_call_with_another_content_type_is_refused() {
    let db = TestDb::start("grpc-content-type");
    let server = TestGrpcServer::start(&db, None).await;
    let fixture = fixtures::find("py_sdk_agent/010_v1_traces");
    for content_type in [
        "text/plain",
        "application/x-www-form-urlencoded",
        "multipart/form-data",
        "application/x-protobuf",
        "application/json",
        "",
    ] {
        let (status, why) = common::grpc_call_as(
            &server.endpoint,
            common::TRACES_EXPORT,
            fixture.body.clone(),
            false,
            None,
            content_type,
        )
        .await;
        assert_eq!(status, "3", "{content_type:?}: {why}");
        assert!(why.contains("not%20application/grpc"), "{why}");
    }
    assert_eq!(
        db.number("SELECT count(*) FROM agent_trace.agent_spans")
            .await,
        0
    );
    for content_type in ["application/grpc", "application/grpc+proto"] {
        let (status, why) = common::grpc_call_as(
            &server.endpoint,
            common::TRACES_EXPORT,
            fixture.body.clone(),
            false,
            None,
            content_type,
        )
        .await;
        assert_eq!(status, "0", "{content_type}: {why}");
    }
    assert_eq!(
        db.number("SELECT count(*) FROM agent_trace.agent_spans")
            .await,
        fixture.counts.spans as i64
    );
    server.stop().await;
}
