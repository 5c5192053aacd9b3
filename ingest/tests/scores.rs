//! Scores over OTLP end to end (docs/tables.md#scores-over-otlp): the real opentelemetry-python
//! SDK (`tests/clients/otel_python_scores.py`) emits `gen_ai.evaluation.result` as a log record in
//! the judged span's context, as a span event, and as a log record naming only the response it
//! judges, sent before the span carrying that response; every export request is sent twice. The
//! scores land once each, in the project of the token, on the right span; the waiting one is linked
//! when its span arrives; a score sent with project B's token never lands in project A, nor on A's
//! span. Malformed events cost only their score, and the answer says why.
//!
//! The exporters get their answer only after COMMIT (and the link runs in the same transaction), so
//! the rows are checked as soon as the client exits, without waiting or polling.

mod common;

use common::{
    PythonRun, ServeProcess, TestDb, post_json, repo_root, run_python_client, venv_python,
};
use ingest::decode::{Encoding, decode_request, encode_message};
use opentelemetry_proto::tonic::collector::logs::v1::{
    ExportLogsServiceRequest, ExportLogsServiceResponse,
};
use serde::Deserialize;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

const BIN: &str = env!("CARGO_BIN_EXE_agent-trace");

/// The Python client may take this long before it is killed (its own export timeouts are 10 s).
const CLIENT_DEADLINE: Duration = Duration::from_secs(120);

/// The script's JSON report.
#[derive(Debug, Deserialize)]
struct Report {
    trace_id: Option<String>,
    chat_span_id: Option<String>,
    exports: Vec<Export>,
    log: Vec<String>,
    success: bool,
}

#[derive(Debug, Deserialize)]
struct Export {
    signal: String,
    result: String,
}

/// `agent-trace ARGS --database-url URL` (as the superuser); its standard output.
fn agent_trace(db: &TestDb, args: &[&str]) -> String {
    let output = Command::new(BIN)
        .args(args)
        .args(["--database-url", &db.url()])
        .output()
        .expect("run agent-trace");
    assert!(
        output.status.success(),
        "agent-trace {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// A project and an ingest token of it.
fn project_with_token(db: &TestDb, name: &str) -> String {
    agent_trace(db, &["projects", "create", name]);
    let token = agent_trace(db, &["tokens", "create", "--project", name, "--name", name]);
    token.lines().next().expect("the token").to_string()
}

/// Runs one phase of the client to completion (off the async workers) and checks that every
/// export it made was answered SUCCESS.
async fn send(python: &Path, endpoint: &str, token: &str, phase: &str, extra: &[&str]) -> Report {
    let (python, endpoint, token, phase) = (
        python.to_path_buf(),
        endpoint.to_string(),
        token.to_string(),
        phase.to_string(),
    );
    let extra: Vec<String> = extra.iter().map(|s| s.to_string()).collect();
    tokio::task::spawn_blocking(move || run_phase(&python, &endpoint, &token, &phase, &extra))
        .await
        .expect("the Python client runner")
}

fn run_phase(
    python: &PathBuf,
    endpoint: &str,
    token: &str,
    phase: &str,
    extra: &[String],
) -> Report {
    let dir = std::env::temp_dir().join(format!(
        "agent-trace-py-scores-{phase}-{}-{}",
        &token[..6],
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("client output directory");
    let mut command = Command::new(python);
    command
        .arg(repo_root().join("tests/clients/otel_python_scores.py"))
        .args(["--endpoint", endpoint, "--phase", phase, "--token", token])
        .args(extra);
    let PythonRun { output, report, .. } = run_python_client(command, &dir, CLIENT_DEADLINE);
    let report: Report = match report {
        Ok(text) => serde_json::from_str(&text).expect("the client's report"),
        Err(error) => panic!("{phase}: no report ({error}); the client said:\n{output}"),
    };
    assert!(report.success, "{phase}: {report:?}\n{output}");
    assert!(
        report.log.is_empty(),
        "{phase}: the SDK complained: {:?}",
        report.log
    );
    report
}

/// Rows of `sql` (one text column), in its order.
async fn texts(db: &TestDb, sql: &str) -> Vec<String> {
    db.client()
        .await
        .query(sql, &[])
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
        .iter()
        .map(|row| row.get::<_, String>(0))
        .collect()
}

/// One score per line: project, trace, span, name, value, label.
const SCORES: &str = "SELECT concat_ws(' ', project_id, trace_id, coalesce(span_id::text, '-'), name,
                                       coalesce(value::text, '-'), coalesce(label, '-'))
                        FROM agent_trace.agent_scores ORDER BY project_id, trace_id, name, score_key";

/// The value of one series of the Prometheus text at /metrics; 0 when absent.
fn metric(text: &str, series: &str) -> i64 {
    text.lines()
        .find_map(|line| line.strip_prefix(series)?.strip_prefix(' '))
        .map_or(0, |value| {
            value.trim().parse::<f64>().expect("a number") as i64
        })
}

#[tokio::test(flavor = "multi_thread")]
async fn python_sdk_scores_land_once_on_their_spans_in_their_project() {
    let python =
        venv_python("the pinned opentelemetry-python SDK and OTLP exporters these tests run");
    let db = TestDb::start("scores-py");
    // Projects 2 (team-a) and 3 (team-b), each with its ingest token, before serve reads them.
    let token_a = project_with_token(&db, "team-a");
    let token_b = project_with_token(&db, "team-b");
    let server = ServeProcess::serve(&db, &[]);
    let endpoint = server.url("");

    // (1) a log record in the chat span's context and (2) a span event on it, every request twice.
    let run = send(
        &python,
        &endpoint,
        &token_a,
        "run",
        &["--twice", "--response-id", "chatcmpl-a1"],
    )
    .await;
    let (trace, chat) = (
        run.trace_id.expect("trace"),
        run.chat_span_id.expect("span"),
    );
    assert!(
        run.exports.iter().all(|e| e.result == "SUCCESS")
            && run.exports.iter().filter(|e| e.signal == "logs").count() == 4
            && run.exports.iter().filter(|e| e.signal == "traces").count() == 4,
        "two records and two spans, each request sent twice: {:?}",
        run.exports
    );
    assert_eq!(
        texts(&db, SCORES).await,
        [
            format!("2 {trace} {chat} relevance 0.8 -"),
            format!("2 {trace} {chat} tone - polite"),
        ],
        "each score once, in team-a, on the chat span"
    );
    assert_eq!(
        texts(
            &db,
            "SELECT concat_ws(' | ', name, coalesce(explanation, '-'), attributes::text, (scored_at > now() - interval '1 hour')::text)
               FROM agent_trace.agent_scores ORDER BY name"
        )
        .await,
        [
            r#"relevance | answers the weather question | {"judge.model": "gpt-4o"} | true"#,
            "tone | - | {} | true",
        ]
    );
    // The records and the span event are stored as before, each once: the malformed record too.
    assert_eq!(
        db.number("SELECT count(*) FROM agent_trace.agent_logs WHERE event_name = 'gen_ai.evaluation.result' AND project_id = 2")
            .await,
        2
    );
    assert_eq!(
        db.number(&format!(
            "SELECT count(*) FROM agent_trace.agent_spans AS s, jsonb_array_elements(s.events) AS e
              WHERE s.span_id = '{chat}' AND e ->> 'name' = 'gen_ai.evaluation.result'"
        ))
        .await,
        1
    );
    // What the run's summary shows next to it.
    assert_eq!(
        texts(
            &db,
            &format!(
                "SELECT concat_ws(' ', project_id, name, agent_name, coalesce(latest_value::text, '-'),
                                  coalesce(latest_label, '-'), score_count)
                   FROM agent_trace.agent_trace_scores WHERE trace_id = '{trace}' ORDER BY name"
            )
        )
        .await,
        ["2 relevance weather_agent 0.8 - 1", "2 tone weather_agent - polite 1"]
    );

    // (3) a score naming only a response, sent before the span carrying it: it waits...
    send(
        &python,
        &endpoint,
        &token_a,
        "score-only",
        &["--twice", "--response-id", "chatcmpl-late"],
    )
    .await;
    assert_eq!(
        texts(
            &db,
            "SELECT concat_ws(' ', project_id, name, value, response_id) FROM agent_trace.agent_scores_pending"
        )
        .await,
        ["2 faithful 0.9 chatcmpl-late"]
    );
    assert_eq!(texts(&db, SCORES).await.len(), 2);
    // ... and is linked in the transaction that stores that span.
    let late = send(
        &python,
        &endpoint,
        &token_a,
        "span-only",
        &["--response-id", "chatcmpl-late"],
    )
    .await;
    let (late_trace, late_chat) = (
        late.trace_id.expect("trace"),
        late.chat_span_id.expect("span"),
    );
    assert_eq!(
        db.number("SELECT count(*) FROM agent_trace.agent_scores_pending")
            .await,
        0
    );
    assert_eq!(
        texts(
            &db,
            &format!(
                "SELECT concat_ws(' ', project_id, trace_id, span_id, name, value, response_id, explanation)
                   FROM agent_trace.agent_scores WHERE trace_id = '{late_trace}'"
            )
        )
        .await,
        [format!("2 {late_trace} {late_chat} faithful 0.9 chatcmpl-late cites the forecast")]
    );
    assert_eq!(
        texts(
            &db,
            &format!(
                "SELECT concat_ws(' ', name, agent_name, latest_value) FROM agent_trace.agent_trace_scores
                  WHERE trace_id = '{late_trace}'"
            )
        )
        .await,
        ["faithful weather_agent 0.9"]
    );

    // With team-b's token: a score naming team-a's response, and one in team-a's run's context.
    // Both are team-b's; the first waits in team-b (no span of team-b answers it), even through
    // maintain()'s sweep; neither touches team-a's scores or views.
    let before_a = texts(&db, SCORES).await;
    send(
        &python,
        &endpoint,
        &token_b,
        "score-only",
        &["--response-id", "chatcmpl-a1"],
    )
    .await;
    send(
        &python,
        &endpoint,
        &token_b,
        "in-context",
        &["--trace-id", &trace, "--span-id", &chat],
    )
    .await;
    db.execute("SELECT * FROM agent_trace.maintain()").await;
    assert_eq!(
        texts(&db, "SELECT concat_ws(' ', project_id, name, response_id) FROM agent_trace.agent_scores_pending").await,
        ["3 faithful chatcmpl-a1"]
    );
    let after: Vec<String> = texts(&db, SCORES).await;
    assert_eq!(
        after
            .iter()
            .filter(|row| row.starts_with("2 "))
            .cloned()
            .collect::<Vec<_>>(),
        before_a
            .iter()
            .filter(|row| row.starts_with("2 "))
            .cloned()
            .collect::<Vec<_>>(),
        "team-a's scores are as they were"
    );
    assert!(
        after.contains(&format!("3 {trace} {chat} relevance 0.1 -")),
        "{after:?}"
    );
    assert_eq!(
        texts(
            &db,
            &format!(
                "SELECT concat_ws(' ', project_id, name, coalesce(agent_name, '-'), coalesce(latest_value::text, '-'), score_count)
                   FROM agent_trace.agent_trace_scores WHERE trace_id = '{trace}' ORDER BY project_id, name"
            )
        )
        .await,
        [
            "2 relevance weather_agent 0.8 1",
            "2 tone weather_agent - 1",
            "3 relevance - 0.1 1",
        ],
        "team-b's score is not part of team-a's run (team-b has no such run)"
    );

    // What the operator sees: the scores counted, and the malformed record's twice skipped score.
    let metrics = reqwest::Client::new()
        .get(server.url("/metrics"))
        .bearer_auth(&token_a)
        .send()
        .await
        .expect("GET /metrics");
    assert_eq!(metrics.status(), 200);
    let text = metrics.text().await.expect("metrics");
    let series = |signal: &str, outcome: &str| {
        metric(
            &text,
            &format!("agent_trace_scores_total{{signal=\"{signal}\",outcome=\"{outcome}\"}}"),
        )
    };
    assert_eq!(
        (
            series("logs", "stored"),
            series("logs", "duplicate"),
            series("logs", "skipped")
        ),
        (4, 2, 2),
        "relevance, faithful and team-b's two stored, the retries duplicates, the nameless twice skipped"
    );
    assert_eq!(
        (series("traces", "stored"), series("traces", "duplicate")),
        (1, 1)
    );
    assert!(
        server
            .log()
            .contains("request with evaluation events that gave no score"),
        "{}",
        server.log()
    );
}

/// Four evaluation records in one OTLP/JSON request: one good, three malformed. The request is
/// answered 200 with nothing rejected and the three reasons as a warning; every record is stored,
/// one score. The same request again as protobuf stores nothing new: the same keys.
#[tokio::test(flavor = "multi_thread")]
async fn malformed_evaluations_cost_only_their_score_in_either_encoding() {
    let db = TestDb::start("scores-bad");
    let server = ServeProcess::serve(&db, &[]);
    let record = |attributes: &str| {
        format!(
            r#"{{"timeUnixNano": "1700000000000000000", "eventName": "gen_ai.evaluation.result",
                "traceId": "5b8efff798038103d269b633813fc60c", "spanId": "eee19b7ec3c1b174",
                "attributes": [{attributes}]}}"#
        )
    };
    let name = r#"{"key": "gen_ai.evaluation.name", "value": {"stringValue": "relevance"}}"#;
    let body = format!(
        r#"{{"resourceLogs": [{{"resource": {{"attributes": [{{"key": "service.name", "value": {{"stringValue": "judge"}}}}]}},
             "scopeLogs": [{{"scope": {{"name": "evals"}}, "logRecords": [{}, {}, {}, {}]}}]}}]}}"#,
        record(&format!(
            r#"{name}, {{"key": "gen_ai.evaluation.score.value", "value": {{"doubleValue": 0.5}}}}"#
        )),
        record(r#"{"key": "gen_ai.evaluation.score.value", "value": {"doubleValue": 0.5}}"#),
        record(&format!(
            r#"{name}, {{"key": "gen_ai.evaluation.score.value", "value": {{"stringValue": "high"}}}}"#
        )),
        record(&format!(
            r#"{name}, {{"key": "gen_ai.evaluation.score.label", "value": {{"stringValue": ""}}}}"#
        )),
    );
    let answer = post_json(&server.url("/v1/logs"), &body, None).await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    let response: ExportLogsServiceResponse =
        serde_json::from_str(&answer.body).expect("an OTLP answer");
    let warning = response.partial_success.expect("a warning");
    assert_eq!(warning.rejected_log_records, 0, "no record is rejected");
    for why in [
        "gen_ai.evaluation.name is missing",
        "gen_ai.evaluation.score.value is not a finite number",
        "gen_ai.evaluation.score.label is empty",
    ] {
        assert!(
            warning.error_message.contains(why),
            "{why}: {}",
            warning.error_message
        );
    }
    assert_eq!(
        db.number("SELECT count(*) FROM agent_trace.agent_logs")
            .await,
        4
    );
    assert_eq!(
        texts(
            &db,
            "SELECT concat_ws(' ', trace_id, span_id, name, value) FROM agent_trace.agent_scores"
        )
        .await,
        ["5b8efff798038103d269b633813fc60c eee19b7ec3c1b174 relevance 0.5"]
    );

    // The same request as protobuf: the same record and score keys, nothing stored twice.
    let request: ExportLogsServiceRequest =
        decode_request(Encoding::Json, body.as_bytes()).expect("the request decodes");
    let protobuf = reqwest::Client::new()
        .post(server.url("/v1/logs"))
        .header("content-type", "application/x-protobuf")
        .body(encode_message(Encoding::Protobuf, &request))
        .send()
        .await
        .expect("POST");
    assert_eq!(protobuf.status(), 200);
    assert_eq!(
        db.number("SELECT count(*) FROM agent_trace.agent_logs")
            .await,
        4
    );
    assert_eq!(
        db.number("SELECT count(*) FROM agent_trace.agent_scores")
            .await,
        1
    );
    assert_eq!(
        db.number(
            "SELECT count(*) FROM agent_trace.agent_scores AS s JOIN agent_trace.agent_logs AS l ON l.record_key = s.score_key"
        )
        .await,
        1,
        "a record's score carries its record's key"
    );
}
