//! OTLP logs and metrics end to end: every captured logs and metrics request, over real HTTP (and
//! gRPC), into a real PostgreSQL 15: stored once with the counts INDEX.md gives, typed columns as the
//! fixtures say (decoded independently here, straight from the protobuf messages), bad input
//! answered by the contract, and per-interval metric amounts from agent_metric_deltas.

mod common;

use common::{TestDb, TestGrpcServer, TestServer, post_fixture};
use ingest::decode::Status;
use ingest::fixtures::{self, Fixture};
use ingest::otlp::Limits;
use opentelemetry_proto::tonic::collector::logs::v1::logs_service_client::LogsServiceClient;
use opentelemetry_proto::tonic::collector::logs::v1::{
    ExportLogsServiceRequest, ExportLogsServiceResponse,
};
use opentelemetry_proto::tonic::collector::metrics::v1::metrics_service_client::MetricsServiceClient;
use opentelemetry_proto::tonic::collector::metrics::v1::{
    ExportMetricsServiceRequest, ExportMetricsServiceResponse,
};
use opentelemetry_proto::tonic::common::v1::KeyValue;
use opentelemetry_proto::tonic::common::v1::any_value::Value as Any;
use prost::Message;
use rust_decimal::Decimal;
use std::collections::BTreeMap;

fn is_json(content_type: &str) -> bool {
    content_type.starts_with("application/json")
}

/// Posts the fixture and checks the answer: 200, in the request's encoding, nothing rejected.
async fn replay(client: &reqwest::Client, server: &TestServer, fixture: &Fixture) {
    let response = post_fixture(client, server, fixture).await;
    let name = &fixture.name;
    assert_eq!(response.status(), 200, "{name}");
    let content_type = response.headers()["content-type"]
        .to_str()
        .unwrap()
        .to_string();
    let sent_json = is_json(fixture.content_type.as_deref().unwrap_or(""));
    assert_eq!(is_json(&content_type), sent_json, "{name}: reply encoding");
    let body = response.bytes().await.unwrap();
    let rejected = if fixture.path == "/v1/logs" {
        let reply: ExportLogsServiceResponse = if sent_json {
            serde_json::from_slice(&body).unwrap()
        } else {
            ExportLogsServiceResponse::decode(body).unwrap()
        };
        reply
            .partial_success
            .map(|p| (p.rejected_log_records, p.error_message))
    } else {
        let reply: ExportMetricsServiceResponse = if sent_json {
            serde_json::from_slice(&body).unwrap()
        } else {
            ExportMetricsServiceResponse::decode(body).unwrap()
        };
        reply
            .partial_success
            .map(|p| (p.rejected_data_points, p.error_message))
    };
    assert_eq!(rejected, None, "{name}: nothing rejected");
}

/// Every captured logs and metrics request sent twice, as a client whose first acknowledgement was
/// lost would: the counts of INDEX.md, stored once.
#[tokio::test(flavor = "multi_thread")]
async fn every_captured_logs_and_metrics_request_is_stored_once_with_its_counts() {
    let db = TestDb::start("signals");
    let server = TestServer::start(&db, Limits::DEFAULT, None).await;
    let client = reqwest::Client::new();
    // The counts are INDEX.md's, decoded independently of this project.
    let log_records = |counts: fixtures::Counts| counts.log_records as i64;
    let data_points = |counts: fixtures::Counts| counts.data_points as i64;
    for (signal, rows_of, table) in [
        (
            "logs",
            log_records as fn(fixtures::Counts) -> i64,
            "agent_trace.agent_logs",
        ),
        ("metrics", data_points, "agent_trace.agent_metrics"),
    ] {
        let fixtures = fixtures::load(signal);
        let count = format!("SELECT count(*) FROM {table}");
        // One at a time: each request's own count.
        for fixture in &fixtures {
            let (name, rows) = (&fixture.name, rows_of(fixture.counts));
            db.clear_signals().await;
            for _ in 0..2 {
                replay(&client, &server, fixture).await;
                assert_eq!(db.number(&count).await, rows, "{name}");
            }
        }
        // All of them, twice over: the sum, every request's rows distinct from every other's.
        db.clear_signals().await;
        let total: i64 = fixtures.iter().map(|f| rows_of(f.counts)).sum();
        for _ in 0..2 {
            for fixture in &fixtures {
                replay(&client, &server, fixture).await;
            }
            assert_eq!(db.number(&count).await, total, "{signal}: all fixtures");
        }
    }
    server.stop().await;
}

/// The usage a logs request reports per (client folder, session), read straight from the decoded
/// protobuf messages by each client's own attribute names: (calls, input incl. cache, output incl.
/// reasoning, cache read, cache write, reasoning, cost).
type Usage = (i64, i64, i64, i64, i64, i64, Decimal);

fn fixture_usage() -> BTreeMap<(String, String), Usage> {
    fn get<'a>(attributes: &'a [KeyValue], key: &str) -> Option<&'a Any> {
        attributes
            .iter()
            .find(|kv| kv.key == key)
            .and_then(|kv| kv.value.as_ref()?.value.as_ref())
    }
    fn int(attributes: &[KeyValue], key: &str) -> i64 {
        match get(attributes, key) {
            Some(Any::IntValue(n)) => *n,
            Some(Any::StringValue(s)) => s.parse().expect("an integer string"),
            other => panic!("{key}: {other:?}"),
        }
    }
    fn string(attributes: &[KeyValue], key: &str) -> Option<String> {
        match get(attributes, key) {
            Some(Any::StringValue(s)) => Some(s.clone()),
            _ => None,
        }
    }
    let mut totals = BTreeMap::new();
    for fixture in fixtures::load("logs") {
        let client = fixture.name.split('/').next().unwrap().to_string();
        let request: ExportLogsServiceRequest = fixture.decode();
        for resource_logs in &request.resource_logs {
            let resource = resource_logs
                .resource
                .as_ref()
                .map_or(&[][..], |r| &r.attributes[..]);
            for record in resource_logs.scope_logs.iter().flat_map(|s| &s.log_records) {
                let a = &record.attributes[..];
                let usage: Option<Usage> = match string(a, "event.name").as_deref() {
                    Some("api_request") => Some((
                        1,
                        int(a, "input_tokens")
                            + int(a, "cache_read_tokens")
                            + int(a, "cache_creation_tokens"),
                        int(a, "output_tokens"),
                        int(a, "cache_read_tokens"),
                        int(a, "cache_creation_tokens"),
                        0,
                        match get(a, "cost_usd") {
                            Some(Any::DoubleValue(d)) => d.to_string().parse().unwrap(),
                            other => panic!("cost_usd: {other:?}"),
                        },
                    )),
                    Some("gemini_cli.api_response") => Some((
                        1,
                        int(a, "input_token_count") + int(a, "tool_token_count"),
                        int(a, "output_token_count") + int(a, "thoughts_token_count"),
                        int(a, "cached_content_token_count"),
                        0,
                        int(a, "thoughts_token_count"),
                        Decimal::ZERO,
                    )),
                    Some("codex.sse_event") if get(a, "input_token_count").is_some() => Some((
                        1,
                        int(a, "input_token_count"),
                        int(a, "output_token_count"),
                        int(a, "cached_token_count"),
                        int(a, "cache_write_token_count"),
                        int(a, "reasoning_token_count"),
                        Decimal::ZERO,
                    )),
                    _ => None,
                };
                let Some(usage) = usage else { continue };
                let session = ["session.id", "conversation.id"]
                    .iter()
                    .find_map(|key| string(a, key).or_else(|| string(resource, key)))
                    .expect("a session");
                let total = totals.entry((client.clone(), session)).or_insert((
                    0,
                    0,
                    0,
                    0,
                    0,
                    0,
                    Decimal::ZERO,
                ));
                total.0 += usage.0;
                total.1 += usage.1;
                total.2 += usage.2;
                total.3 += usage.3;
                total.4 += usage.4;
                total.5 += usage.5;
                total.6 += usage.6;
            }
        }
    }
    totals
}

/// Per session, what agent_logs' typed columns add up to equals what the clients reported.
#[tokio::test(flavor = "multi_thread")]
async fn typed_log_columns_add_up_to_what_each_client_reported() {
    let db = TestDb::start("signals-typed");
    let server = TestServer::start(&db, Limits::DEFAULT, None).await;
    let client = reqwest::Client::new();
    for fixture in fixtures::load("logs") {
        replay(&client, &server, &fixture).await;
    }

    let expected = fixture_usage();
    // What the fixtures hold, written out: three Claude Code sessions of two calls (42 input and
    // 17 output tokens, $0.000381 each), one Gemini CLI call and one Codex call.
    let per_client: BTreeMap<&str, (usize, i64, i64)> =
        expected
            .iter()
            .fold(BTreeMap::new(), |mut acc, ((client, _), usage)| {
                let entry = acc.entry(client.as_str()).or_insert((0, 0, 0));
                *entry = (entry.0 + 1, entry.1 + usage.0, entry.2 + usage.1);
                acc
            });
    assert_eq!(
        per_client,
        [
            ("cli_claude", (3, 6, 252)),
            ("cli_codex", (1, 1, 42)),
            ("cli_gemini", (1, 1, 42))
        ]
        .into()
    );

    let pg = db.client().await;
    let rows = pg
        .query(
            "SELECT service_name, session_id, count(input_tokens), sum(input_tokens)::bigint,
                    sum(output_tokens)::bigint, sum(cache_read_tokens)::bigint,
                    coalesce(sum(cache_write_tokens), 0)::bigint,
                    coalesce(sum(reasoning_tokens), 0)::bigint, coalesce(sum(cost_usd), 0)
               FROM agent_trace.agent_logs
              WHERE input_tokens IS NOT NULL AND service_name <> 'harness-py-sdk-agent'
              GROUP BY 1, 2 ORDER BY 1, 2",
            &[],
        )
        .await
        .unwrap();
    let stored: BTreeMap<(String, String), Usage> = rows
        .iter()
        .map(|row| {
            let client = match row.get::<_, String>(0).as_str() {
                "claude-code" => "cli_claude",
                "codex_exec" => "cli_codex",
                "gemini-cli" => "cli_gemini",
                other => panic!("unexpected service {other}"),
            };
            (
                (client.to_string(), row.get(1)),
                (
                    row.get(2),
                    row.get(3),
                    row.get(4),
                    row.get(5),
                    row.get(6),
                    row.get(7),
                    row.get(8),
                ),
            )
        })
        .collect();
    assert_eq!(stored, expected);
    // The exact per-session numbers, for readers of this test and of the final report.
    let claude = pg
        .query_one(
            "SELECT min(cost), max(cost), min(n), max(n) FROM (
                 SELECT sum(cost_usd) AS cost, sum(input_tokens)::bigint AS n
                   FROM agent_trace.agent_logs WHERE service_name = 'claude-code' AND event_name = 'api_request'
                  GROUP BY session_id) AS s",
            &[],
        )
        .await
        .unwrap();
    let cost: Decimal = "0.00076200000000000010".parse().unwrap();
    assert_eq!(
        (
            claude.get::<_, Decimal>(0),
            claude.get::<_, Decimal>(1),
            claude.get::<_, i64>(2),
            claude.get::<_, i64>(3)
        ),
        (cost, cost, 84, 84)
    );

    // The columns agent_sessions and dashboards read, on one record per tool.
    let row = pg
        .query_one(
            "SELECT model, user_id, trace_id::text, duration_ms, computed_cost_usd
               FROM agent_trace.agent_logs
              WHERE event_name = 'api_request' AND trace_id IS NOT NULL
              ORDER BY time LIMIT 1",
            &[],
        )
        .await
        .unwrap();
    assert_eq!(
        row.get::<_, Option<String>>(0).as_deref(),
        Some("claude-sonnet-4-5")
    );
    assert_eq!(row.get::<_, Option<String>>(1).map(|u| u.len()), Some(64));
    assert_eq!(row.get::<_, Option<String>>(2).map(|t| t.len()), Some(32));
    assert!(row.get::<_, Option<f64>>(3).is_some());
    assert_eq!(
        row.get::<_, Option<Decimal>>(4),
        None,
        "filled by the price work, not here"
    );
    let codex = pg
        .query_one(
            "SELECT count(*), count(DISTINCT session_id), min(event_name), count(observed_time)
               FROM agent_trace.agent_logs WHERE service_name = 'codex_exec'",
            &[],
        )
        .await
        .unwrap();
    assert_eq!(codex.get::<_, i64>(0), 17);
    assert_eq!(codex.get::<_, i64>(1), 1);
    assert_eq!(
        codex.get::<_, Option<String>>(2).as_deref(),
        Some("codex.api_request"),
        "event.name, not the eventName source location"
    );
    assert_eq!(codex.get::<_, i64>(3), 17);
    let gemini = pg
        .query_one(
            "SELECT model, duration_ms, reasoning_tokens FROM agent_trace.agent_logs
              WHERE event_name = 'gemini_cli.api_response'",
            &[],
        )
        .await
        .unwrap();
    assert_eq!(
        (
            gemini.get::<_, Option<String>>(0).as_deref(),
            gemini.get::<_, Option<f64>>(1),
            gemini.get::<_, Option<i64>>(2)
        ),
        (Some("gemini-2.5-pro"), Some(83.0), Some(0))
    );
    // Python SDK logs: severities, and the usage of its "agent finished" record (three requests).
    assert_eq!(
        db.number(
            "SELECT sum(input_tokens)::bigint FROM agent_trace.agent_logs WHERE service_name = 'harness-py-sdk-agent'"
        )
        .await,
        3 * 280
    );
    assert_eq!(
        db.number(
            "SELECT count(*) FROM agent_trace.agent_logs WHERE severity_text = 'ERROR' AND severity_number = 17"
        )
        .await,
        3
    );
    server.stop().await;
}

/// agent_metric_deltas on the captured metrics: cumulative series count once, delta ones pass.
#[tokio::test(flavor = "multi_thread")]
async fn metric_deltas_count_each_token_once() {
    let db = TestDb::start("signals-deltas");
    let server = TestServer::start(&db, Limits::DEFAULT, None).await;
    let client = reqwest::Client::new();
    // Newest first: arrival order must not matter.
    for fixture in fixtures::load("metrics").iter().rev() {
        replay(&client, &server, fixture).await;
    }
    let delta = |sql: &str| {
        let db = &db;
        let sql = sql.to_string();
        async move { db.number(&sql).await }
    };
    // Python SDK: three processes, each exporting its cumulative histogram twice (280 input tokens
    // both times): 3 x 280 per interval, where summing the stored points would say 6 x 280.
    assert_eq!(
        delta(
            "SELECT sum(delta_sum)::bigint FROM agent_trace.agent_metric_deltas
              WHERE name = 'gen_ai.client.token.usage' AND token_type = 'input'
                AND service_name = 'harness-py-sdk-agent'"
        )
        .await,
        840
    );
    assert_eq!(
        delta(
            "SELECT sum(sum)::bigint FROM agent_trace.agent_metrics
              WHERE name = 'gen_ai.client.token.usage' AND token_type = 'input'
                AND service_name = 'harness-py-sdk-agent'"
        )
        .await,
        1680
    );
    assert_eq!(
        delta(
            "SELECT sum(delta_count)::bigint FROM agent_trace.agent_metric_deltas
              WHERE name = 'gen_ai.client.token.usage' AND token_type = 'output'
                AND service_name = 'harness-py-sdk-agent'"
        )
        .await,
        6,
        "two calls per process"
    );
    // Claude Code (delta sums): 3 sessions x 2 calls x 42 input tokens; cost likewise.
    assert_eq!(
        delta(
            "SELECT sum(delta)::bigint FROM agent_trace.agent_metric_deltas
              WHERE name = 'claude_code.token.usage' AND token_type = 'input'"
        )
        .await,
        252
    );
    let pg = db.client().await;
    let cost: f64 = pg
        .query_one(
            "SELECT sum(delta) FROM agent_trace.agent_metric_deltas WHERE name = 'claude_code.cost.usage'",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert!((cost - 6.0 * 0.000381).abs() < 1e-12, "{cost}");
    // Gemini CLI (cumulative sums) and Codex (delta histograms): one call each.
    assert_eq!(
        delta(
            "SELECT sum(delta)::bigint FROM agent_trace.agent_metric_deltas
              WHERE name = 'gemini_cli.token.usage' AND token_type = 'output'"
        )
        .await,
        17
    );
    assert_eq!(
        delta(
            "SELECT sum(delta_sum)::bigint FROM agent_trace.agent_metric_deltas
              WHERE name = 'codex.turn.token_usage' AND token_type = 'input'"
        )
        .await,
        42
    );
    // A gauge is a level: no delta.
    assert_eq!(
        delta(
            "SELECT count(*) FROM agent_trace.agent_metric_deltas
              WHERE name = 'agent.queue_depth' AND delta IS NULL AND value = 3"
        )
        .await,
        6
    );
    // The query of docs/logs-and-metrics.md: tokens per hour, by model and kind.
    let hourly = pg
        .query(
            "SELECT date_trunc('hour', time) AS hour, model, token_type,
                    sum(coalesce(delta, delta_sum))::bigint AS tokens
               FROM agent_trace.agent_metric_deltas
              WHERE name IN ('claude_code.token.usage', 'gemini_cli.token.usage',
                             'gen_ai.client.token.usage', 'codex.turn.token_usage')
              GROUP BY 1, 2, 3 ORDER BY 1, 2, 3",
            &[],
        )
        .await
        .unwrap();
    let input_by_model: BTreeMap<String, i64> = hourly
        .iter()
        .filter(|row| row.get::<_, Option<String>>(2).as_deref() == Some("input"))
        .map(|row| (row.get::<_, String>(1), row.get::<_, i64>(3)))
        .fold(BTreeMap::new(), |mut acc, (model, tokens)| {
            *acc.entry(model).or_default() += tokens;
            acc
        });
    assert_eq!(
        input_by_model,
        [
            ("claude-sonnet-4-5".to_string(), 252),
            // gemini_cli.token.usage and gen_ai.client.token.usage both count Gemini's call.
            ("gemini-2.5-pro".to_string(), 84),
            ("gpt-4o-mini".to_string(), 840),
            ("gpt-5-codex".to_string(), 42),
        ]
        .into()
    );
    server.stop().await;
}

fn logs_json(records: Vec<serde_json::Value>) -> String {
    serde_json::json!({
        "resourceLogs": [{
            "resource": {"attributes": [{"key": "service.name", "value": {"stringValue": "test"}}]},
            "scopeLogs": [{"scope": {"name": "test"}, "logRecords": records}]
        }]
    })
    .to_string()
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_input_gets_the_contract_status_on_logs_and_metrics() {
    let db = TestDb::start("signals-bad");
    let limits = Limits {
        max_body_read_time: std::time::Duration::from_secs(2),
        max_body_bytes: 4096,
        max_decompressed_bytes: 8192,
        max_inflight_bytes: 1 << 20,
        ..Limits::DEFAULT
    };
    let server = TestServer::start(&db, limits, None).await;
    let client = reqwest::Client::new();
    for path in ["/v1/logs", "/v1/metrics"] {
        let url = server.url(path);
        let send = |content_type: &str, body: Vec<u8>| {
            client
                .post(&url)
                .header("content-type", content_type)
                .body(body)
                .send()
        };
        // Undecodable: 400 with a google.rpc.Status in the request's encoding.
        let response = send("application/x-protobuf", vec![0xff; 16])
            .await
            .unwrap();
        assert_eq!(response.status(), 400, "{path}");
        let status = Status::decode(response.bytes().await.unwrap()).unwrap();
        assert_eq!(status.code, 3, "{path}: INVALID_ARGUMENT");
        let response = send(
            "application/json",
            b"{\"resourceLogs\": 7, \"resourceMetrics\": 7}".to_vec(),
        )
        .await
        .unwrap();
        assert_eq!(response.status(), 400, "{path}");
        assert_eq!(response.headers()["content-type"], "application/json");
        let status: Status = serde_json::from_slice(&response.bytes().await.unwrap()).unwrap();
        assert_eq!(status.code, 3);
        // Not protobuf or JSON: 415.
        let response = send("text/plain", b"hi".to_vec()).await.unwrap();
        assert_eq!(response.status(), 415, "{path}");
        assert!(Status::decode(response.bytes().await.unwrap()).is_ok());
        // Over the body limit: 413.
        let response = send("application/x-protobuf", vec![0; 5000]).await.unwrap();
        assert_eq!(response.status(), 413, "{path}");
        // Empty requests: 200.
        for body in ["", "{}"] {
            let response = send("application/json", body.into()).await.unwrap();
            assert_eq!(response.status(), 200, "{path} {body:?}");
        }
        let response = send("application/x-protobuf", Vec::new()).await.unwrap();
        assert_eq!(response.status(), 200, "{path}");
        // Wrong method: 405.
        assert_eq!(client.get(&url).send().await.unwrap().status(), 405);
    }
    assert_eq!(
        db.number("SELECT (SELECT count(*) FROM agent_trace.agent_logs) + (SELECT count(*) FROM agent_trace.agent_metrics)")
            .await,
        0
    );

    // The database down: 503 with Retry-After and UNAVAILABLE, which clients retry.
    let request = logs_json(vec![serde_json::json!({
        "timeUnixNano": "1763769600000000000", "body": {"stringValue": "during outage"}
    })]);
    db.cluster.down().expect("stop postgres");
    for path in ["/v1/logs", "/v1/metrics"] {
        let body = if path == "/v1/logs" {
            request.clone()
        } else {
            metrics_json()
        };
        let response = client
            .post(server.url(path))
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 503, "{path}");
        assert!(response.headers().contains_key("retry-after"));
        let status: Status = serde_json::from_slice(&response.bytes().await.unwrap()).unwrap();
        assert_eq!(status.code, 14, "{path}: UNAVAILABLE");
    }
    db.cluster.up().expect("start postgres");
    let response = client
        .post(server.url("/v1/logs"))
        .header("content-type", "application/json")
        .body(request)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(
        db.number("SELECT count(*) FROM agent_trace.agent_logs")
            .await,
        1
    );
    server.stop().await;
}

/// One gauge point, as OTLP/JSON.
fn metrics_json() -> String {
    serde_json::json!({
        "resourceMetrics": [{
            "resource": {"attributes": [{"key": "service.name", "value": {"stringValue": "test"}}]},
            "scopeMetrics": [{"metrics": [{"name": "queue", "gauge": {"dataPoints": [
                {"timeUnixNano": "1763769600000000000", "asInt": "3"}
            ]}}]}]
        }]
    })
    .to_string()
}

/// A record with no time at all is rejected alone (partial success); a NUL is replaced; a record
/// the database refuses costs only itself; repeats within a request are stored once.
#[tokio::test(flavor = "multi_thread")]
async fn bad_records_cost_only_themselves() {
    let db = TestDb::start("signals-poison");
    db.execute(
        "ALTER TABLE agent_trace.agent_logs ADD CONSTRAINT no_poison CHECK (body IS DISTINCT FROM 'poison')",
    )
    .await;
    let server = TestServer::start(&db, Limits::DEFAULT, None).await;
    let record = |body: &str, time: &str| {
        serde_json::json!({
            "timeUnixNano": time, "body": {"stringValue": body}, "traceId": "", "spanId": "",
            "attributes": [{"key": "event.name", "value": {"stringValue": "test.event"}}]
        })
    };
    let body = logs_json(vec![
        record("fine", "1763769600000000000"),
        record("fine", "1763769600000000000"), // the same record twice in one request
        record("no time", "0"),
        record("nul \u{0000} here", "1763769600000000001"),
        record("poison", "1763769600000000002"),
    ]);
    let response = reqwest::Client::new()
        .post(server.url("/v1/logs"))
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let reply: ExportLogsServiceResponse =
        serde_json::from_slice(&response.bytes().await.unwrap()).unwrap();
    let partial = reply.partial_success.expect("partial success");
    assert_eq!(partial.rejected_log_records, 2, "{}", partial.error_message);
    assert!(
        partial.error_message.contains("time"),
        "{}",
        partial.error_message
    );
    assert!(
        partial.error_message.contains("no_poison"),
        "{}",
        partial.error_message
    );
    assert_eq!(
        db.number("SELECT count(*) FROM agent_trace.agent_logs")
            .await,
        2
    );
    assert_eq!(
        db.number(
            "SELECT count(*) FROM agent_trace.agent_logs
              WHERE body = E'nul \\uFFFD here' AND trace_id IS NULL AND event_name = 'test.event'"
        )
        .await,
        1
    );
    server.stop().await;
}

fn authorized<M>(message: M) -> tonic::Request<M> {
    let mut call = tonic::Request::new(message);
    call.metadata_mut().insert(
        "authorization",
        "Bearer s3cret-s3cret-s3cret".parse().unwrap(),
    );
    call
}

#[tokio::test(flavor = "multi_thread")]
async fn grpc_logs_and_metrics_exports_are_stored_once() {
    let db = TestDb::start("signals-grpc");
    let server = TestGrpcServer::start(&db, Some("s3cret-s3cret-s3cret")).await;
    let logs: ExportLogsServiceRequest = fixtures::load("logs")
        .iter()
        .find(|f| f.name == "cli_claude/002_v1_logs")
        .expect("fixture")
        .decode();
    let metrics: ExportMetricsServiceRequest = fixtures::load("metrics")
        .iter()
        .find(|f| f.name == "cli_codex/002_v1_metrics")
        .expect("fixture")
        .decode();

    let mut logs_client = LogsServiceClient::connect(server.endpoint.clone())
        .await
        .expect("connect")
        .send_compressed(tonic::codec::CompressionEncoding::Gzip);
    let refused = logs_client
        .export(logs.clone())
        .await
        .expect_err("no token");
    assert_eq!(refused.code(), tonic::Code::Unauthenticated);
    for _ in 0..2 {
        let reply = logs_client
            .export(authorized(logs.clone()))
            .await
            .expect("export")
            .into_inner();
        assert_eq!(reply.partial_success, None);
    }
    let mut metrics_client = MetricsServiceClient::connect(server.endpoint.clone())
        .await
        .expect("connect");
    for _ in 0..2 {
        let reply = metrics_client
            .export(authorized(metrics.clone()))
            .await
            .expect("export")
            .into_inner();
        assert_eq!(reply.partial_success, None);
    }
    assert_eq!(
        db.number("SELECT count(*) FROM agent_trace.agent_logs")
            .await,
        5
    );
    assert_eq!(
        db.number("SELECT sum(input_tokens)::bigint FROM agent_trace.agent_logs")
            .await,
        84
    );
    assert_eq!(
        db.number("SELECT count(*) FROM agent_trace.agent_metrics")
            .await,
        181
    );

    db.cluster.down().expect("stop postgres");
    let outage = metrics_client
        .export(authorized(metrics.clone()))
        .await
        .expect_err("database down");
    assert_eq!(
        outage.code(),
        tonic::Code::Unavailable,
        "{}",
        outage.message()
    );
    db.cluster.up().expect("start postgres");
    server.stop().await;
}

/// `bytes` with every `XXXX` made invalid UTF-8 (same length, so the protobuf framing stays valid).
fn with_invalid_utf8(mut bytes: Vec<u8>) -> Vec<u8> {
    while let Some(at) = bytes.windows(4).position(|w| w == b"XXXX") {
        bytes[at..at + 4].copy_from_slice(b"\xff\xfe\xfd\xfc");
    }
    bytes
}

/// One invalid UTF-8 string in a protobuf logs or metrics request costs nothing: the request is
/// read again lossily and stored with U+FFFD, as for traces (`otlp_http.rs`); a retry of the same
/// bytes is stored once.
#[tokio::test(flavor = "multi_thread")]
async fn invalid_utf8_costs_no_record_and_no_point() {
    use opentelemetry_proto::tonic::common::v1::{AnyValue, KeyValue};
    use opentelemetry_proto::tonic::logs::v1::{LogRecord, ResourceLogs, ScopeLogs};
    use opentelemetry_proto::tonic::metrics::v1::{
        Gauge, Metric, NumberDataPoint, ResourceMetrics, ScopeMetrics, metric::Data,
        number_data_point::Value as Number,
    };
    let db = TestDb::start("signals-utf8");
    let server = TestServer::start(&db, Limits::DEFAULT, None).await;
    let client = reqwest::Client::new();
    let post = |path: &str, body: Vec<u8>| {
        client
            .post(server.url(path))
            .header("content-type", "application/x-protobuf")
            .body(body)
            .send()
    };
    let text = |s: &str| AnyValue {
        value: Some(Any::StringValue(s.into())),
    };
    let attribute = |key: &str, value: &str| KeyValue {
        key: key.into(),
        value: Some(text(value)),
        ..Default::default()
    };

    let record = |body: &str, time: u64| LogRecord {
        time_unix_nano: time,
        body: Some(text(body)),
        attributes: vec![attribute("event.name", "test.event")],
        ..Default::default()
    };
    let logs = ExportLogsServiceRequest {
        resource_logs: vec![ResourceLogs {
            scope_logs: vec![ScopeLogs {
                log_records: vec![
                    record("good", 1_763_769_600_000_000_000),
                    record("XXXX bad", 1_763_769_600_000_000_001),
                ],
                ..Default::default()
            }],
            ..Default::default()
        }],
    };
    let point = |model: &str, value: i64| NumberDataPoint {
        attributes: vec![attribute("model", model)],
        time_unix_nano: 1_763_769_600_000_000_000,
        value: Some(Number::AsInt(value)),
        ..Default::default()
    };
    let metrics = ExportMetricsServiceRequest {
        resource_metrics: vec![ResourceMetrics {
            scope_metrics: vec![ScopeMetrics {
                metrics: vec![Metric {
                    name: "queue".into(),
                    data: Some(Data::Gauge(Gauge {
                        data_points: vec![point("good", 1), point("XXXX", 2)],
                    })),
                    ..Default::default()
                }],
                ..Default::default()
            }],
            ..Default::default()
        }],
    };
    let logs = with_invalid_utf8(logs.encode_to_vec());
    assert!(ExportLogsServiceRequest::decode(logs.as_slice()).is_err());
    let metrics = with_invalid_utf8(metrics.encode_to_vec());
    assert!(ExportMetricsServiceRequest::decode(metrics.as_slice()).is_err());
    let replaced = "E'\\uFFFD\\uFFFD\\uFFFD\\uFFFD'";
    for (path, body, table, repaired) in [
        (
            "/v1/logs",
            logs,
            "agent_trace.agent_logs",
            format!("body = {replaced} || ' bad' AND event_name = 'test.event'"),
        ),
        (
            "/v1/metrics",
            metrics,
            "agent_trace.agent_metrics",
            format!("model = {replaced} AND attributes->>'model' = {replaced} AND value = 2"),
        ),
    ] {
        for attempt in 1..=2 {
            let response = post(path, body.clone()).await.unwrap();
            assert_eq!(response.status(), 200, "{path} attempt {attempt}");
            // A response without partial_success encodes to nothing: nothing was rejected.
            assert!(response.bytes().await.unwrap().is_empty(), "{path}");
        }
        let count = |filter: &str| format!("SELECT count(*) FROM {table} WHERE {filter}");
        assert_eq!(db.number(&count("true")).await, 2, "{path}");
        assert_eq!(db.number(&count(&repaired)).await, 1, "{path}");
    }
    server.stop().await;
}
