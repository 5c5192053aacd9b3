//! The real opentelemetry-python SDK and OTLP exporters (from PyPI, pinned by
//! `scripts/install-test-clients.sh`) against the running service, over OTLP/HTTP and OTLP/gRPC,
//! with and without gzip. `tests/clients/otel_python_export.py` emits agent runs (an
//! `invoke_agent` root, `chat` spans, one `execute_tool` span) through a BatchSpanProcessor and
//! reports every id it created; the database must then hold exactly those spans, each once, and one
//! `agent_traces` row per run with the right counts and token totals.
//!
//! The exporter gets its answer only after COMMIT, so the rows are checked as soon as the script
//! exits, without waiting or polling.

mod common;

use common::{
    PythonRun, TestDb, TestGrpcServer, TestServer, repo_root, run_python_client, venv_python,
};
use ingest::otlp::Limits;
use serde::Deserialize;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::Command;
use std::time::Duration;

/// What the script puts on every span (see its constants).
const SERVICE: &str = "otel-python-export-test";
const AGENT: &str = "weather_agent";
const MODEL: &str = "gpt-4o-mini";
const PROVIDER: &str = "openai";
const TOOL: &str = "get_weather";
const INPUT_TOKENS: i64 = 42;
const OUTPUT_TOKENS: i64 = 17;

/// The Python client may take this long before it is killed (its own export timeouts are 10 s).
const CLIENT_DEADLINE: Duration = Duration::from_secs(180);

#[derive(Debug, Clone, Copy)]
struct Run {
    protocol: &'static str,
    traces: usize,
    chats: usize,
    gzip: bool,
}

impl Run {
    fn spans_per_trace(&self) -> usize {
        self.chats + 2
    }
}

/// The script's JSON report.
#[derive(Debug, Deserialize)]
struct Report {
    traces: Vec<TraceReport>,
    flushed: bool,
    exports: Vec<ExportReport>,
    log: Vec<String>,
    success: bool,
}

#[derive(Debug, Deserialize)]
struct TraceReport {
    trace_id: String,
    conversation_id: String,
    spans: Vec<SpanReport>,
}

#[derive(Debug, Deserialize)]
struct SpanReport {
    span_id: String,
    parent_span_id: Option<String>,
    name: String,
    operation: String,
}

#[derive(Debug, Deserialize)]
struct ExportReport {
    spans: usize,
    result: String,
}

/// Runs the Python client to completion in a blocking thread, so the in-process server keeps
/// serving, and returns its report after checking it exported everything successfully.
async fn export_with_python(python: &Path, endpoint: &str, run: Run) -> Report {
    let python = python.to_path_buf();
    let endpoint = endpoint.to_string();
    tokio::task::spawn_blocking(move || run_client(&python, &endpoint, run))
        .await
        .expect("the Python client runner")
}

fn run_client(python: &Path, endpoint: &str, run: Run) -> Report {
    let dir = std::env::temp_dir().join(format!(
        "agent-trace-py-{}{}-{}",
        run.protocol,
        if run.gzip { "-gzip" } else { "" },
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("client output directory");
    let mut command = Command::new(python);
    command
        .arg(repo_root().join("tests/clients/otel_python_export.py"))
        .args(["--endpoint", endpoint, "--protocol", run.protocol])
        .args(["--traces", &run.traces.to_string()])
        .args(["--chats", &run.chats.to_string()]);
    if run.gzip {
        command.arg("--gzip");
    }
    let PythonRun {
        status,
        output,
        report,
        elapsed,
    } = run_python_client(command, &dir, CLIENT_DEADLINE);
    println!(
        "{:?}: {} in {:.1?}",
        run,
        output.lines().last().unwrap_or("(no output)"),
        elapsed
    );
    let report: Report = match report {
        Ok(text) => serde_json::from_str(&text).expect("the client's JSON report"),
        Err(error) => panic!("no report from the Python client ({status}, {error}):\n{output}"),
    };
    let _ = std::fs::remove_dir_all(&dir);

    assert!(
        status.success() && report.success,
        "the Python client failed ({status}): flushed={}, exports={:?}\n{output}",
        report.flushed,
        report.exports
    );
    assert!(
        report.log.is_empty(),
        "the SDK or exporter logged warnings (retries, partial success, ...): {:#?}",
        report.log
    );
    assert_eq!(report.traces.len(), run.traces, "traces the client made");
    let created: usize = report.traces.iter().map(|t| t.spans.len()).sum();
    assert_eq!(
        created,
        run.traces * run.spans_per_trace(),
        "spans the client made"
    );
    let exported: usize = report.exports.iter().map(|e| e.spans).sum();
    assert_eq!(
        exported, created,
        "every span went through the exporter exactly once"
    );
    assert!(
        report.exports.iter().all(|e| e.result == "SUCCESS"),
        "{:?}",
        report.exports
    );
    report
}

fn span_type(operation: &str) -> &'static str {
    match operation {
        "invoke_agent" => "agent",
        "chat" => "llm",
        "execute_tool" => "tool",
        other => panic!("unexpected operation {other} in the client's report"),
    }
}

/// (trace_id, span_id, parent_span_id, name, span_type)
type SpanKey = (String, String, Option<String>, String, String);

fn differences<T: Ord + Clone + std::fmt::Debug>(
    what: &str,
    expected: &BTreeSet<T>,
    stored: &BTreeSet<T>,
) -> Vec<String> {
    let missing: Vec<&T> = expected.difference(stored).take(5).collect();
    let unexpected: Vec<&T> = stored.difference(expected).take(5).collect();
    let mut problems = Vec::new();
    if !missing.is_empty() {
        problems.push(format!(
            "{} {what} missing, e.g. {missing:?}",
            expected.difference(stored).count()
        ));
    }
    if !unexpected.is_empty() {
        problems.push(format!(
            "{} {what} not created by the client, e.g. {unexpected:?}",
            stored.difference(expected).count()
        ));
    }
    problems
}

/// The database holds exactly the client's spans, each once, and one correct trace row per run.
async fn assert_stored_exactly(db: &TestDb, report: &Report, run: Run) {
    let pg = db.client().await;
    let chats = i64::try_from(run.chats).expect("chats");
    let traces = i64::try_from(run.traces).expect("traces");

    // Spans: the set of (trace, span, parent, name, type) the client made, and nothing else.
    let expected: BTreeSet<SpanKey> = report
        .traces
        .iter()
        .flat_map(|trace| {
            trace.spans.iter().map(|span| {
                (
                    trace.trace_id.clone(),
                    span.span_id.clone(),
                    span.parent_span_id.clone(),
                    span.name.clone(),
                    span_type(&span.operation).to_string(),
                )
            })
        })
        .collect();
    let rows = pg
        .query(
            "SELECT trace_id::text, span_id::text, parent_span_id::text, name, span_type
               FROM agent_trace.agent_spans",
            &[],
        )
        .await
        .expect("read spans");
    let stored: BTreeSet<SpanKey> = rows
        .iter()
        .map(|row| (row.get(0), row.get(1), row.get(2), row.get(3), row.get(4)))
        .collect();
    let ids: BTreeSet<(String, String)> = rows.iter().map(|row| (row.get(0), row.get(1))).collect();
    assert_eq!(
        rows.len(),
        expected.len(),
        "{run:?}: span rows stored vs spans the client created"
    );
    assert_eq!(ids.len(), rows.len(), "{run:?}: every span stored once");
    let problems = differences("spans", &expected, &stored);
    assert!(problems.is_empty(), "{run:?}: {}", problems.join("; "));

    // The typed columns the GenAI attributes fill.
    let typed = |sql: &str| {
        format!(
            "SELECT count(*) FROM agent_trace.agent_spans WHERE service_name = '{SERVICE}' AND session_id LIKE 'conv-%' AND {sql}"
        )
    };
    for (what, sql, count) in [
        (
            "chat spans with model, provider and tokens",
            format!(
                "span_type = 'llm' AND model = '{MODEL}' AND provider = '{PROVIDER}' \
                 AND input_tokens = {INPUT_TOKENS} AND output_tokens = {OUTPUT_TOKENS}"
            ),
            traces * chats,
        ),
        (
            "tool spans with tool_name",
            format!("span_type = 'tool' AND tool_name = '{TOOL}'"),
            traces,
        ),
        (
            "agent spans with agent_name",
            format!("span_type = 'agent' AND agent_name = '{AGENT}' AND parent_span_id IS NULL"),
            traces,
        ),
    ] {
        assert_eq!(db.number(&typed(&sql)).await, count, "{run:?}: {what}");
    }

    // Traces: one row per run, rolled up from its spans.
    let rows = pg
        .query(
            "SELECT trace_id::text, name, status, span_count::bigint, error_count::bigint,
                    llm_call_count::bigint, tool_call_count::bigint, input_tokens, output_tokens,
                    session_id, agent_name, service_name, root_span_id::text
               FROM agent_trace.agent_traces",
            &[],
        )
        .await
        .expect("read traces");
    assert_eq!(
        rows.len(),
        run.traces,
        "{run:?}: one agent_traces row per trace"
    );
    let stored: BTreeMap<String, &tokio_postgres::Row> =
        rows.iter().map(|row| (row.get(0), row)).collect();
    let expected_ids: BTreeSet<String> = report.traces.iter().map(|t| t.trace_id.clone()).collect();
    let stored_ids: BTreeSet<String> = stored.keys().cloned().collect();
    let problems = differences("traces", &expected_ids, &stored_ids);
    assert!(problems.is_empty(), "{run:?}: {}", problems.join("; "));

    let spans = i64::try_from(run.spans_per_trace()).expect("spans");
    let mut problems = Vec::new();
    for trace in &report.traces {
        let row = stored[&trace.trace_id];
        let root = trace
            .spans
            .iter()
            .find(|span| span.parent_span_id.is_none())
            .expect("a root span in the report");
        let actual = (
            row.get::<_, Option<String>>(1),
            row.get::<_, String>(2),
            row.get::<_, i64>(3),
            row.get::<_, i64>(4),
            row.get::<_, i64>(5),
            row.get::<_, i64>(6),
            row.get::<_, Option<i64>>(7),
            row.get::<_, Option<i64>>(8),
            row.get::<_, Option<String>>(9),
            row.get::<_, Option<String>>(10),
            row.get::<_, Option<String>>(11),
            row.get::<_, Option<String>>(12),
        );
        let wanted = (
            Some(root.name.clone()),
            "OK".to_string(),
            spans,
            0,
            chats,
            1,
            // The agent span repeats its chats' usage: counted once.
            Some(INPUT_TOKENS * chats),
            Some(OUTPUT_TOKENS * chats),
            Some(trace.conversation_id.clone()),
            Some(AGENT.to_string()),
            Some(SERVICE.to_string()),
            Some(root.span_id.clone()),
        );
        if actual != wanted {
            problems.push(format!(
                "trace {}: (name, status, span_count, error_count, llm_call_count, \
                 tool_call_count, input_tokens, output_tokens, session_id, agent_name, \
                 service_name, root_span_id) = {actual:?}, expected {wanted:?}",
                trace.trace_id
            ));
        }
    }
    assert!(
        problems.is_empty(),
        "{run:?}: {} of {} trace rows wrong, e.g.\n{}",
        problems.len(),
        run.traces,
        problems[..problems.len().min(3)].join("\n")
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn python_sdk_over_otlp_http_stores_exactly_its_spans() {
    let python =
        venv_python("the pinned opentelemetry-python SDK and OTLP exporters these tests run");
    let db = TestDb::start("py-http");
    let server = TestServer::start(&db, Limits::DEFAULT, None).await;
    let endpoint = server.url("");
    for run in [
        Run {
            protocol: "http",
            traces: 50,
            chats: 3,
            gzip: false,
        },
        Run {
            protocol: "http",
            traces: 20,
            chats: 2,
            gzip: true,
        },
    ] {
        db.clear().await;
        let report = export_with_python(&python, &endpoint, run).await;
        assert_stored_exactly(&db, &report, run).await;
    }
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn python_sdk_over_otlp_grpc_stores_exactly_its_spans() {
    let python =
        venv_python("the pinned opentelemetry-python SDK and OTLP exporters these tests run");
    let db = TestDb::start("py-grpc");
    let server = TestGrpcServer::start(&db, None).await;
    let endpoint = server.endpoint.clone();
    for run in [
        Run {
            protocol: "grpc",
            traces: 10,
            chats: 2,
            gzip: false,
        },
        Run {
            protocol: "grpc",
            traces: 10,
            chats: 3,
            gzip: true,
        },
    ] {
        db.clear().await;
        let report = export_with_python(&python, &endpoint, run).await;
        assert_stored_exactly(&db, &report, run).await;
    }
    server.stop().await;
}
