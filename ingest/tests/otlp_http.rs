//! OTLP/HTTP end to end: real captured requests, over real HTTP, into a real PostgreSQL 15.

mod common;

use common::{TestDb, TestServer, post_fixture};
use ingest::decode::Status;
use ingest::fixtures;
use ingest::otlp::Limits;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceResponse;
use prost::Message;

fn decode_response(content_type: &str, body: &[u8]) -> ExportTraceServiceResponse {
    if content_type.starts_with("application/json") {
        serde_json::from_slice(body).expect("JSON response")
    } else {
        ExportTraceServiceResponse::decode(body).expect("protobuf response")
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn every_captured_traces_request_is_stored_once_with_its_counts() {
    let db = TestDb::start("fixtures");
    let server = TestServer::start(&db, Limits::DEFAULT, None).await;
    let client = reqwest::Client::new();
    // The counts are INDEX.md's, decoded independently of this project.
    for fixture in &fixtures::load("traces") {
        let name = &fixture.name;
        let counts = fixture.counts;
        let (spans, events, links) = (
            counts.spans as i64,
            counts.events as i64,
            counts.links as i64,
        );
        db.clear().await;
        // Sent twice, as a client whose first acknowledgement was lost would: stored once.
        for attempt in 1..=2 {
            let response = post_fixture(&client, &server, fixture).await;
            assert_eq!(response.status(), 200, "{name} attempt {attempt}");
            let content_type = response.headers()["content-type"]
                .to_str()
                .unwrap()
                .to_string();
            let expected_type = if fixture
                .content_type
                .as_deref()
                .unwrap_or("")
                .starts_with("application/json")
            {
                "application/json"
            } else {
                "application/x-protobuf"
            };
            assert_eq!(
                content_type, expected_type,
                "{name}: reply in the request's encoding"
            );
            let body = decode_response(&content_type, &response.bytes().await.unwrap());
            assert_eq!(body.partial_success, None, "{name}: nothing rejected");
        }
        assert_eq!(
            db.number("SELECT count(*) FROM agent_trace.agent_spans")
                .await,
            spans,
            "{name}: spans"
        );
        assert_eq!(
            db.number(
                "SELECT sum(jsonb_array_length(events))::bigint FROM agent_trace.agent_spans"
            )
            .await,
            events,
            "{name}: events"
        );
        assert_eq!(
            db.number("SELECT sum(jsonb_array_length(links))::bigint FROM agent_trace.agent_spans")
                .await,
            links,
            "{name}: links"
        );
        assert_eq!(
            db.number("SELECT sum(span_count)::bigint FROM agent_trace.agent_traces")
                .await,
            spans,
            "{name}: agent_traces counts every span once"
        );
    }
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn typed_columns_hold_the_agent_facts() {
    let db = TestDb::start("typed");
    let server = TestServer::start(&db, Limits::DEFAULT, None).await;
    let client = reqwest::Client::new();
    for fixture in fixtures::load("traces")
        .iter()
        .filter(|f| f.name == "py_sdk_agent/010_v1_traces")
    {
        assert_eq!(post_fixture(&client, &server, fixture).await.status(), 200);
    }
    // The py_sdk_agent run: invoke_agent -> chat -> execute_tool -> failing http span -> chat (plus a
    // linked span of an earlier session, in its own trace). The chats report 120/24 and 160/31
    // tokens and the agent span repeats their sum, 280/55: the trace counts the chats once.
    let pg = db.client().await;
    let trace = pg
        .query_one(
            "SELECT llm_call_count, tool_call_count, error_count, input_tokens, output_tokens, agent_name, session_id
               FROM agent_trace.agent_traces WHERE llm_call_count > 0",
            &[],
        )
        .await
        .unwrap();
    assert_eq!(trace.get::<_, i32>(0), 2, "llm calls");
    assert_eq!(trace.get::<_, i32>(1), 1, "tool calls");
    assert!(trace.get::<_, i32>(2) >= 1, "the failing span is an error");
    assert_eq!(
        trace.get::<_, Option<i64>>(3),
        Some(280),
        "input tokens of two chats"
    );
    assert_eq!(
        trace.get::<_, Option<i64>>(4),
        Some(55),
        "output tokens of two chats"
    );
    assert!(trace.get::<_, Option<String>>(5).is_some(), "agent name");
    assert!(trace.get::<_, Option<String>>(6).is_some(), "session id");
    let models = pg
        .query(
            "SELECT DISTINCT model FROM agent_trace.agent_spans WHERE span_type = 'llm'",
            &[],
        )
        .await
        .unwrap();
    assert_eq!(models.len(), 1);
    assert!(
        models[0].get::<_, Option<String>>(0).is_some(),
        "llm spans carry the model"
    );
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_input_gets_the_contract_status_and_a_status_body() {
    let db = TestDb::start("bad-input");
    let limits = Limits {
        max_body_read_time: std::time::Duration::from_secs(2),
        max_body_bytes: 4096,
        max_decompressed_bytes: 8192,
        max_inflight_bytes: 1 << 20,
        ..Limits::DEFAULT
    };
    let server = TestServer::start(&db, limits, None).await;
    let client = reqwest::Client::new();
    let url = server.url("/v1/traces");

    let status_of = |response: &reqwest::Response| response.status().as_u16();
    let check = |body: &[u8], json: bool| -> Status {
        if json {
            serde_json::from_slice(body).expect("JSON Status")
        } else {
            Status::decode(body).expect("Status")
        }
    };

    // Unsupported media type: 415, Status in protobuf (OTLP's default).
    let response = client
        .post(&url)
        .header("content-type", "text/plain")
        .body("hi")
        .send()
        .await
        .unwrap();
    assert_eq!(status_of(&response), 415);
    let status = check(&response.bytes().await.unwrap(), false);
    assert!(
        status.message.contains("Content-Type"),
        "{}",
        status.message
    );

    // Malformed JSON: 400, Status in JSON.
    let response = client
        .post(&url)
        .header("content-type", "application/json")
        .body("{\"resourceSpans\": 7}")
        .send()
        .await
        .unwrap();
    assert_eq!(status_of(&response), 400);
    assert_eq!(response.headers()["content-type"], "application/json");
    assert_eq!(check(&response.bytes().await.unwrap(), true).code, 3);

    // Malformed protobuf: 400.
    let response = client
        .post(&url)
        .header("content-type", "application/x-protobuf")
        .body(vec![0xffu8; 16])
        .send()
        .await
        .unwrap();
    assert_eq!(status_of(&response), 400);

    // Unknown Content-Encoding: 415.
    let response = client
        .post(&url)
        .header("content-type", "application/x-protobuf")
        .header("content-encoding", "br")
        .body(vec![1u8, 2, 3])
        .send()
        .await
        .unwrap();
    assert_eq!(status_of(&response), 415);

    // Too large as sent: 413.
    let response = client
        .post(&url)
        .header("content-type", "application/x-protobuf")
        .body(vec![0u8; 5000])
        .send()
        .await
        .unwrap();
    assert_eq!(status_of(&response), 413);
    assert!(
        check(&response.bytes().await.unwrap(), false)
            .message
            .contains("4096")
    );

    // A gzip bomb: small as sent, too large inflated: 413.
    let bomb = {
        use std::io::Write;
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        encoder.write_all(&vec![0u8; 1 << 20]).unwrap();
        encoder.finish().unwrap()
    };
    assert!(bomb.len() < 4096);
    let response = client
        .post(&url)
        .header("content-type", "application/x-protobuf")
        .header("content-encoding", "gzip")
        .body(bomb)
        .send()
        .await
        .unwrap();
    assert_eq!(status_of(&response), 413);

    // Empty requests are fine.
    for (content_type, body) in [
        ("application/x-protobuf", ""),
        ("application/json", ""),
        ("application/json", "{}"),
        ("application/json", "{\"resourceSpans\":[]}"),
    ] {
        let response = client
            .post(&url)
            .header("content-type", content_type)
            .body(body)
            .send()
            .await
            .unwrap();
        assert_eq!(status_of(&response), 200, "{content_type} {body:?}");
    }

    // A body that never finishes arriving: 408 after the read timeout, not a request held forever.
    let (sender, body) = {
        let (tx, rx) = tokio::sync::mpsc::channel::<Result<Vec<u8>, std::io::Error>>(1);
        (
            tx,
            reqwest::Body::wrap_stream(tokio_stream::wrappers::ReceiverStream::new(rx)),
        )
    };
    sender.send(Ok(vec![0x0a])).await.unwrap();
    let response = client
        .post(&url)
        .header("content-type", "application/x-protobuf")
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(status_of(&response), 408);

    // Wrong method and unknown path.
    assert_eq!(status_of(&client.get(&url).send().await.unwrap()), 405);
    assert_eq!(
        status_of(&client.post(server.url("/v1/nothing")).send().await.unwrap()),
        404
    );
    assert_eq!(
        db.number("SELECT count(*) FROM agent_trace.agent_spans")
            .await,
        0
    );
    server.stop().await;
}

fn span_json(trace_id: &str, span_id: &str, name: &str) -> serde_json::Value {
    serde_json::json!({
        "traceId": trace_id, "spanId": span_id, "name": name, "kind": 1,
        "startTimeUnixNano": "1763769600000000000", "endTimeUnixNano": "1763769601000000000",
        "attributes": [
            {"key": "gen_ai.operation.name", "value": {"stringValue": "chat"}},
            {"key": "gen_ai.usage.input_tokens", "value": {"intValue": "42"}},
            {"key": "gen_ai.usage.output_tokens", "value": {"intValue": 17}}
        ]
    })
}

fn request_json(spans: Vec<serde_json::Value>) -> String {
    serde_json::json!({
        "resourceSpans": [{
            "resource": {"attributes": [{"key": "service.name", "value": {"stringValue": "test"}}]},
            "scopeSpans": [{"scope": {"name": "test"}, "spans": spans}]
        }]
    })
    .to_string()
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_spans_cost_only_themselves_and_duplicates_count_once() {
    let db = TestDb::start("poison");
    let server = TestServer::start(&db, Limits::DEFAULT, None).await;
    let client = reqwest::Client::new();
    let trace = "5b8efff798038103d269b633813fc60c";
    let body = request_json(vec![
        span_json(trace, "eee19b7ec3c1b174", "good"),
        span_json(trace, "eee19b7ec3c1b174", "good"), // the same span twice in one request
        span_json(
            "00000000000000000000000000000000",
            "eee19b7ec3c1b175",
            "zero trace id",
        ),
        span_json(trace, "eee19b7ec3c1b176", "nul \u{0000} in the name"),
    ]);
    let response = client
        .post(server.url("/v1/traces"))
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let reply: ExportTraceServiceResponse =
        serde_json::from_slice(&response.bytes().await.unwrap()).unwrap();
    let partial = reply.partial_success.expect("partial success");
    assert_eq!(partial.rejected_spans, 1, "{}", partial.error_message);
    assert!(
        partial.error_message.contains("zero") || partial.error_message.contains("0000"),
        "{}",
        partial.error_message
    );

    assert_eq!(
        db.number("SELECT count(*) FROM agent_trace.agent_spans")
            .await,
        2
    );
    assert_eq!(
        db.number("SELECT input_tokens FROM agent_trace.agent_traces")
            .await,
        84,
        "two distinct chats, not three"
    );
    assert_eq!(
        db.number(
            "SELECT count(*) FROM agent_trace.agent_spans WHERE name LIKE 'nul % in the name'"
        )
        .await,
        1,
        "the NUL was replaced, the span kept"
    );
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_token_is_required_when_configured() {
    let db = TestDb::start("token");
    let server = TestServer::start(&db, Limits::DEFAULT, Some("s3cret-s3cret-s3cret")).await;
    let client = reqwest::Client::new();
    let url = server.url("/v1/traces");
    let body = request_json(vec![span_json(
        "5b8efff798038103d269b633813fc60d",
        "eee19b7ec3c1b174",
        "x",
    )]);
    for auth in [
        None,
        Some("Bearer wrong"),
        Some("s3cret-s3cret-s3cret"),
        Some("Bearer s3cret-s3cret-s3cre"),
    ] {
        let mut request = client
            .post(&url)
            .header("content-type", "application/json")
            .body(body.clone());
        if let Some(auth) = auth {
            request = request.header("authorization", auth);
        }
        assert_eq!(request.send().await.unwrap().status(), 401, "{auth:?}");
    }
    let response = client
        .post(&url)
        .header("content-type", "application/json")
        .header("authorization", "Bearer s3cret-s3cret-s3cret")
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(
        db.number("SELECT count(*) FROM agent_trace.agent_spans")
            .await,
        1
    );
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_database_outage_is_answered_503_with_retry_after_and_nothing_is_lost() {
    let db = TestDb::start("outage");
    let server = TestServer::start(&db, Limits::DEFAULT, None).await;
    let client = reqwest::Client::new();
    let url = server.url("/v1/traces");
    let body = request_json(vec![span_json(
        "5b8efff798038103d269b633813fc60e",
        "eee19b7ec3c1b174",
        "during outage",
    )]);

    db.cluster.down().expect("stop postgres");
    let response = client
        .post(&url)
        .header("content-type", "application/json")
        .body(body.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 503);
    assert!(response.headers().contains_key("retry-after"));
    let status: Status = serde_json::from_slice(&response.bytes().await.unwrap()).unwrap();
    assert_eq!(status.code, 14, "UNAVAILABLE: {}", status.message);

    db.cluster.up().expect("start postgres again");
    let response = client
        .post(&url)
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(
        db.number("SELECT count(*) FROM agent_trace.agent_spans")
            .await,
        1
    );
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn serve_says_what_to_run_when_the_extension_is_missing() {
    let db = TestDb::start("no-extension");
    db.execute("DROP EXTENSION agent_trace").await;
    let error = ingest::write::Writer::connect(&common::writer_config(&db))
        .await
        .err()
        .expect("must refuse to start");
    let message = error.to_string();
    assert!(
        message.contains("CREATE EXTENSION agent_trace;"),
        "{message}"
    );
    assert!(
        message.contains("\"agent_trace\""),
        "names the database: {message}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_span_the_database_refuses_costs_only_itself() {
    let db = TestDb::start("refused");
    // A rule of the user's own that one span breaks: the batch is retried span by span.
    db.execute(
        "ALTER TABLE agent_trace.agent_spans ADD CONSTRAINT no_poison CHECK (name <> 'poison')",
    )
    .await;
    let server = TestServer::start(&db, Limits::DEFAULT, None).await;
    let trace = "5b8efff798038103d269b633813fc60f";
    let body = request_json(vec![
        span_json(trace, "eee19b7ec3c1b171", "fine"),
        span_json(trace, "eee19b7ec3c1b172", "poison"),
        span_json(trace, "eee19b7ec3c1b173", "also fine"),
    ]);
    let response = reqwest::Client::new()
        .post(server.url("/v1/traces"))
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let reply: ExportTraceServiceResponse =
        serde_json::from_slice(&response.bytes().await.unwrap()).unwrap();
    let partial = reply.partial_success.expect("partial success");
    assert_eq!(partial.rejected_spans, 1);
    assert!(
        partial.error_message.contains("eee19b7ec3c1b172"),
        "{}",
        partial.error_message
    );
    assert!(
        partial.error_message.contains("no_poison"),
        "{}",
        partial.error_message
    );
    assert_eq!(
        db.number("SELECT count(*) FROM agent_trace.agent_spans")
            .await,
        2
    );
    assert_eq!(
        db.number("SELECT span_count::bigint FROM agent_trace.agent_traces")
            .await,
        2
    );
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn invalid_utf8_costs_no_span_in_either_encoding() {
    use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
    use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Span};
    let db = TestDb::start("utf8");
    let server = TestServer::start(&db, Limits::DEFAULT, None).await;
    let client = reqwest::Client::new();
    let span = |id: u8, name: &str| Span {
        trace_id: vec![7; 16],
        span_id: vec![id; 8],
        name: name.to_string(),
        start_time_unix_nano: 1_763_769_600_000_000_000,
        end_time_unix_nano: 1_763_769_601_000_000_000,
        ..Default::default()
    };
    let request = ExportTraceServiceRequest {
        resource_spans: vec![ResourceSpans {
            scope_spans: vec![ScopeSpans {
                spans: vec![span(1, "good"), span(2, "XXXX bad")],
                ..Default::default()
            }],
            ..Default::default()
        }],
    };
    // Protobuf: four bytes of one span's name replaced by invalid UTF-8.
    let mut body = request.encode_to_vec();
    let at = body.windows(4).position(|w| w == b"XXXX").unwrap();
    body[at..at + 4].copy_from_slice(b"\xff\xfe\xfd\xfc");
    let response = client
        .post(server.url("/v1/traces"))
        .header("content-type", "application/x-protobuf")
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(
        db.number("SELECT count(*) FROM agent_trace.agent_spans")
            .await,
        2
    );
    assert_eq!(
        db.number("SELECT count(*) FROM agent_trace.agent_spans WHERE name = E'\\uFFFD\\uFFFD\\uFFFD\\uFFFD bad'")
            .await,
        1
    );

    // JSON: an invalid byte inside a string value.
    let mut body = request_json(vec![span_json(
        "5b8efff798038103d269b633813fc610",
        "eee19b7ec3c1b174",
        "ZZ",
    )])
    .into_bytes();
    let at = body.windows(2).position(|w| w == b"ZZ").unwrap();
    body[at] = 0xff;
    let response = client
        .post(server.url("/v1/traces"))
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(
        db.number("SELECT count(*) FROM agent_trace.agent_spans")
            .await,
        3
    );
    server.stop().await;
}

/// The protobuf form of an OTLP/JSON traces request (what an exporter would send as protobuf).
fn as_protobuf(json: &str) -> Vec<u8> {
    let request: opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest =
        serde_json::from_str(json).expect("OTLP/JSON");
    request.encode_to_vec()
}

/// A body without a Content-Type was taken as protobuf, so a web page's `fetch` (which may send
/// bytes without a Content-Type, and needs no CORS preflight to) could write spans: now it is 415
/// with a `google.rpc.Status`, and nothing is stored.
#[tokio::test(flavor = "multi_thread")]
async fn a_body_without_a_content_type_is_refused_415_and_stores_nothing() {
    let db = TestDb::start("no-content-type");
    let server = TestServer::start(&db, Limits::DEFAULT, None).await;
    let client = reqwest::Client::new();
    let body = request_json(vec![span_json(
        "5b8efff798038103d269b633813fc610",
        "eee19b7ec3c1b174",
        "no content type",
    )]);
    for bytes in [as_protobuf(&body), body.clone().into_bytes()] {
        let response = client
            .post(server.url("/v1/traces"))
            .body(bytes)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 415);
        assert_eq!(response.headers()["content-type"], "application/x-protobuf");
        let status = Status::decode(response.bytes().await.unwrap()).expect("a Status");
        assert!(
            status.message.contains("no Content-Type"),
            "{}",
            status.message
        );
    }
    assert_eq!(
        db.number("SELECT count(*) FROM agent_trace.agent_spans")
            .await,
        0
    );
    // The same bytes with their Content-Type are stored.
    let response = client
        .post(server.url("/v1/traces"))
        .header("content-type", "application/x-protobuf")
        .body(as_protobuf(&body))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(
        db.number("SELECT count(*) FROM agent_trace.agent_spans")
            .await,
        1
    );
    server.stop().await;
}

/// What browsers add to a page's requests (Origin, Sec-Fetch-Site) makes them 403 on every path
/// but /health and /ready, token or not; without a token, only loopback Host names are served.
/// Clients that are not browsers send neither header and are served as before.
#[tokio::test(flavor = "multi_thread")]
async fn requests_a_web_page_makes_are_refused_403() {
    let db = TestDb::start("guard");
    let server = TestServer::start(&db, Limits::DEFAULT, None).await;
    let port = server.addr.port();
    let client = reqwest::Client::new();
    let body = request_json(vec![span_json(
        "5b8efff798038103d269b633813fc611",
        "eee19b7ec3c1b174",
        "guarded",
    )]);
    let post = |headers: &[(&str, String)]| {
        let mut request = client
            .post(server.url("/v1/traces"))
            .header("content-type", "application/json")
            .body(body.clone());
        for (name, value) in headers {
            request = request.header(*name, value);
        }
        async move { request.send().await.unwrap() }
    };
    let stored = || db.number("SELECT count(*) FROM agent_trace.agent_spans");
    let other_port = port.wrapping_add(1);
    for refused in [
        vec![("origin", format!("http://127.0.0.1:{other_port}"))],
        vec![("origin", "http://evil.example".to_string())],
        vec![("origin", "null".to_string())],
        vec![
            ("origin", "null".to_string()),
            ("sec-fetch-site", "cross-site".to_string()),
        ],
        vec![("origin", format!("https://127.0.0.1:{port}"))],
        vec![("sec-fetch-site", "cross-site".to_string())],
        vec![("sec-fetch-site", "same-site".to_string())],
        vec![("host", "attacker.example".to_string())],
        vec![("host", format!("attacker.example:{port}"))],
        vec![("host", format!("127.0.0.1.nip.io:{port}"))],
    ] {
        let response = post(&refused).await;
        assert_eq!(response.status(), 403, "{refused:?}");
        assert_eq!(response.headers()["content-type"], "application/json");
        let status: Status =
            serde_json::from_slice(&response.bytes().await.unwrap()).expect("a JSON Status");
        assert_eq!(status.code, tonic::Code::PermissionDenied as i32);
    }
    assert_eq!(stored().await, 0, "nothing stored");
    // /metrics too; /health and /ready answer whoever asks.
    let get = |path: &str, header: (&str, &str)| {
        let request = client.get(server.url(path)).header(header.0, header.1);
        async move { request.send().await.unwrap().status().as_u16() }
    };
    assert_eq!(get("/metrics", ("sec-fetch-site", "cross-site")).await, 403);
    assert_eq!(get("/metrics", ("host", "attacker.example")).await, 403);
    for path in ["/health", "/ready"] {
        assert_eq!(get(path, ("origin", "http://evil.example")).await, 200);
        assert_eq!(get(path, ("host", "attacker.example")).await, 200);
    }
    // The server's own origin, a same-origin request, and loopback names in any form are served.
    for served in [
        vec![],
        vec![("origin", format!("http://127.0.0.1:{port}"))],
        vec![
            ("host", format!("LocalHost:{port}")),
            ("origin", format!("http://localhost:{port}")),
        ],
        vec![("sec-fetch-site", "same-origin".to_string())],
        // A page of this server with Referrer-Policy: no-referrer (the viewer's).
        vec![
            ("origin", "null".to_string()),
            ("sec-fetch-site", "same-origin".to_string()),
        ],
        vec![("sec-fetch-site", "none".to_string())],
        vec![("host", "localhost".to_string())],
        vec![("host", format!("[::1]:{port}"))],
    ] {
        assert_eq!(post(&served).await.status(), 200, "{served:?}");
    }
    assert_eq!(stored().await, 1);
    server.stop().await;

    // With a token, any Host is served (the token is the defence), but not a page's request, even
    // with the right token.
    let token = "a-token-of-twenty-chars";
    let server = TestServer::start(&db, Limits::DEFAULT, Some(token)).await;
    let response = client
        .post(server.url("/v1/traces"))
        .header("host", "ingest.example:4318")
        .header("authorization", format!("Bearer {token}"))
        .header("content-type", "application/json")
        .body(body.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let response = client
        .post(server.url("/v1/traces"))
        .header("origin", "http://evil.example")
        .header("authorization", format!("Bearer {token}"))
        .header("content-type", "application/x-protobuf")
        .body(as_protobuf(&body))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 403);
    assert_eq!(response.headers()["content-type"], "application/x-protobuf");
    server.stop().await;
}
