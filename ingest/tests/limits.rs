//! No client takes the service down: connections are bounded in number and in time, and the memory
//! of requests in progress is bounded by what they decode to, for both transports together.

mod common;

use bytes::Bytes;
use common::{
    ServeProcess, TRACES_EXPORT, TestDb, TestServer, grpc_call, post_fixture, wait_until,
};
use ingest::fixtures;
use ingest::otlp::Limits;
use opentelemetry_proto::tonic::common::v1::{AnyValue, KeyValue, any_value::Value};
use opentelemetry_proto::tonic::resource::v1::Resource;
use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Span};
use std::io::Write;
use std::process::Child;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// 1,100 connections that send a request line and nothing more are dropped once the header read
/// timeout passes (the ones beyond --max-connections wait to be accepted, then time out too), and
/// a normal export during them is answered 200.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn slow_clients_are_dropped_and_an_export_still_goes_through() {
    let db = TestDb::start("slowloris");
    let timeout = Duration::from_secs(2);
    let limits = Limits {
        header_read_timeout: timeout,
        ..Limits::DEFAULT
    };
    let server = TestServer::start(&db, limits, None).await;
    let mut slow = Vec::new();
    for _ in 0..1100 {
        let mut stream = tokio::net::TcpStream::connect(server.addr)
            .await
            .expect("connect");
        stream
            .write_all(b"POST /v1/traces HTTP/1.1\r\n")
            .await
            .expect("request line");
        slow.push(stream);
    }

    let started = Instant::now();
    let fixture = fixtures::find("py_sdk_agent/010_v1_traces");
    let response = post_fixture(&reqwest::Client::new(), &server, &fixture).await;
    assert_eq!(response.status(), 200);
    let waited = started.elapsed();
    assert!(waited < 3 * timeout, "the export waited {waited:?}");
    assert_eq!(
        db.number("SELECT count(*) FROM agent_trace.agent_spans")
            .await,
        fixture.counts.spans as i64
    );

    // Closed within twice the timeout (a connection accepted late times out late) and a margin.
    let deadline = started + 2 * timeout + Duration::from_secs(3);
    let mut open = 0;
    for stream in &mut slow {
        let mut buffer = [0u8; 512];
        let closed = loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match tokio::time::timeout(left, stream.read(&mut buffer)).await {
                Ok(Ok(0)) | Ok(Err(_)) => break true,
                Ok(Ok(_)) => continue, // an error response before the close
                Err(_) => break false,
            }
        };
        open += usize::from(!closed);
    }
    assert_eq!(
        open, 0,
        "connections still open after the header read timeout"
    );
    eprintln!("1100 slow connections dropped; the export waited {waited:?}");
    server.stop().await;
}

/// A traces request of about `spans` spans of 1 KiB of attributes each, made by repeating one
/// encoded `resource_spans` entry (a protobuf message is the concatenation of its fields), and the
/// same gzip'd as a multi-member gzip of one compressed entry repeated.
fn large_request(spans: usize) -> (Bytes, Bytes) {
    let text = "x".repeat(1000);
    let entry = ResourceSpans {
        resource: Some(Resource::default()),
        scope_spans: vec![ScopeSpans {
            spans: (0..1000u64)
                .map(|n| Span {
                    trace_id: (n + 1).to_be_bytes().repeat(2),
                    span_id: (n + 1).to_be_bytes().to_vec(),
                    name: format!("span {n}"),
                    start_time_unix_nano: 1_763_769_600_000_000_000 + n,
                    attributes: vec![KeyValue {
                        key: "input.value".into(),
                        value: Some(AnyValue {
                            value: Some(Value::StringValue(text.clone())),
                        }),
                        ..Default::default()
                    }],
                    ..Default::default()
                })
                .collect(),
            ..Default::default()
        }],
        schema_url: String::new(),
    };
    let mut field = Vec::new();
    prost::encoding::message::encode(1, &entry, &mut field);
    let mut gzip = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gzip.write_all(&field).unwrap();
    let member = gzip.finish().unwrap();
    let copies = spans / 1000;
    (
        Bytes::from(field.repeat(copies)),
        Bytes::from(member.repeat(copies)),
    )
}

fn peak_rss_mib(child: &Child) -> f64 {
    let status = std::fs::read_to_string(format!("/proc/{}/status", child.id())).unwrap();
    let kib: f64 = status
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmHWM");
    kib / 1024.0
}

/// With the database locked, 4 OTLP/HTTP and 16 OTLP/gRPC requests that each inflate to the
/// maximum (16 MiB here) arrive at once. Without a budget they would take gigabytes (inflated,
/// decoded and mapped); with 256 MiB of budget the server stays under 512 MiB, answers the
/// requests it cannot hold 429 / RESOURCE_EXHAUSTED (retryable), and serves again once the lock
/// is gone.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn memory_stays_bounded_when_large_requests_pile_up_behind_a_lock() {
    let db = TestDb::start("memory");
    let server = ServeProcess::serve(
        &db,
        &[
            "--max-decompressed-bytes",
            &(16 << 20).to_string(),
            "--max-inflight-bytes",
            &(256 << 20).to_string(),
            "--lock-timeout-ms",
            "8000",
            "--statement-timeout-ms",
            "20000",
        ],
    );
    let (raw, gzipped) = large_request(15_000);
    assert!(
        raw.len() > 15 << 20 && raw.len() <= 16 << 20,
        "{}",
        raw.len()
    );

    let locker = db.client().await;
    locker
        .batch_execute("BEGIN; LOCK TABLE agent_trace.agent_spans IN ACCESS EXCLUSIVE MODE")
        .await
        .unwrap();
    let answered = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let mut calls = tokio::task::JoinSet::new();
    for _ in 0..4 {
        let (body, url, answered) = (gzipped.clone(), server.url("/v1/traces"), answered.clone());
        calls.spawn(async move {
            let response = reqwest::Client::new()
                .post(url)
                .header("content-type", "application/x-protobuf")
                .header("content-encoding", "gzip")
                .body(body)
                .send()
                .await;
            answered.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            format!("HTTP {}", response.map_or(0, |r| r.status().as_u16()))
        });
    }
    for _ in 0..16 {
        let (body, endpoint, answered) =
            (gzipped.clone(), server.grpc_endpoint(), answered.clone());
        calls.spawn(async move {
            let (status, _) = grpc_call(&endpoint, TRACES_EXPORT, body, true).await;
            answered.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            format!("gRPC {status}")
        });
    }
    // Hold the lock until every call has been answered or waits for the database: on the lock
    // with a connection, or for a connection (the server's own gauges, /metrics).
    let metrics_url = server.url("/metrics");
    wait_until(
        "every call answered or waiting for the database",
        Duration::from_secs(60),
        || async {
            let metrics = reqwest::get(&metrics_url)
                .await
                .expect("/metrics")
                .text()
                .await
                .expect("text");
            let gauge = |name: &str| -> usize {
                metrics
                    .lines()
                    .find_map(|line| line.strip_prefix(name))
                    .and_then(|value| value.trim().parse::<f64>().ok())
                    .unwrap_or(0.0) as usize
            };
            let waiting = gauge("agent_trace_db_connections{state=\"in_use\"} ")
                + gauge("agent_trace_db_waiting ");
            answered.load(std::sync::atomic::Ordering::SeqCst) + waiting >= 20
        },
    )
    .await;
    let peak_while_locked = peak_rss_mib(&server.child);
    locker.batch_execute("COMMIT").await.unwrap();
    let mut answers = std::collections::BTreeMap::<String, usize>::new();
    while let Some(answer) = calls.join_next().await {
        *answers.entry(answer.unwrap()).or_default() += 1;
    }
    let peak = peak_rss_mib(&server.child);
    eprintln!(
        "answers {answers:?}; peak RSS {peak_while_locked:.0} MiB while locked, {peak:.0} MiB in all"
    );
    for answer in answers.keys() {
        // 200 / OK: held until the lock went; 429 / RESOURCE_EXHAUSTED (8): the budget was full;
        // 503 / UNAVAILABLE (14): the lock outlasted lock_timeout. All retryable or done.
        assert!(
            [
                "HTTP 200", "HTTP 429", "HTTP 503", "gRPC 0", "gRPC 8", "gRPC 14"
            ]
            .contains(&answer.as_str()),
            "{answers:?}"
        );
    }
    assert!(
        answers.keys().any(|a| a == "HTTP 429" || a == "gRPC 8"),
        "the budget never filled: {answers:?}"
    );
    assert!(peak < 512.0, "peak RSS {peak:.0} MiB");

    // Serving as before: an ordinary request is stored.
    let fixture = fixtures::find("py_sdk_agent/010_v1_traces");
    let response = reqwest::Client::new()
        .post(server.url("/v1/traces"))
        .header("content-type", "application/x-protobuf")
        .body(fixture.body.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(
        db.number("SELECT count(*) FROM agent_trace.agent_spans WHERE name = 'chat gpt-4o-mini'")
            .await,
        2
    );
}

/// The timeouts bound clients that send nothing, not answers still streaming to a quiet client:
/// the viewer's live stream (a response that never ends) outlives the idle timeout.
#[tokio::test(flavor = "multi_thread")]
async fn a_streaming_answer_outlives_the_idle_timeout() {
    let db = TestDb::start("streaming");
    let server = ServeProcess::serve(
        &db,
        &[
            "--idle-timeout-secs",
            "1",
            "--header-read-timeout-secs",
            "1",
        ],
    );
    let mut live = reqwest::get(server.url("/api/live"))
        .await
        .expect("the live stream");
    assert_eq!(live.status(), 200);
    let until = Instant::now() + Duration::from_secs(4);
    while Instant::now() < until {
        let left = until.saturating_duration_since(Instant::now());
        match tokio::time::timeout(left, live.chunk()).await {
            Err(_) => break, // nothing more within the time: still open
            Ok(Ok(Some(_))) => continue,
            Ok(other) => panic!("the stream ended: {other:?}"),
        }
    }
}
