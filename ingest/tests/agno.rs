//! Agno's AgentOS and agent_trace, with the real `agno` package (from PyPI, pinned by
//! `scripts/install-test-clients.sh`) driven by `tests/clients/agno_app.py`:
//!
//! * reading: the captured requests of every client are posted to the ingest, and an unmodified
//!   AgentOS app whose db is the schema `agent_trace.enable_agno_compat` prepared answers
//!   `GET /traces`, `GET /traces/{id}`, `GET /trace_session_stats` and `POST /traces/search` with
//!   them: names, span counts, errors, trees, node types, models, tokens;
//! * writing through the database: an Agno agent with a tool, `tracing=True` and its db on that
//!   schema stores its spans in `agent_spans` (typed columns filled, a re-sent span once) and
//!   `agent_traces` counts them exactly;
//! * writing over OTLP: the same agent with its own Agno tables and the lines `agent-trace setup
//!   agno` prints stores the same spans through the ingest, with the same typed columns: the SQL
//!   mapping and the ingest's agree on Agno's spans (and on every captured request, below).
//!
//! The model is a stub of the OpenAI chat completions API inside the script, on 127.0.0.1.

mod common;

use common::agentos::{agno_app, get, post};
use common::{TestDb, TestServer, post_fixture};
use ingest::otlp::Limits;
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet};
use std::process::Command;
use std::time::{Duration, Instant};

/// AgentOS's db_schema in these tests.
const SCHEMA: &str = "ai";

/// SQLAlchemy's URL of the test database, over psycopg 3.
fn sqlalchemy_url(db: &TestDb) -> String {
    db.url()
        .replacen("postgresql://", "postgresql+psycopg://", 1)
}

/// The AgentOS app's own database role, with what docs/agentos.md grants it and nothing more: both
/// agent_trace roles, and CREATE on the schema and the database (AgentOS creates its other tables
/// there, each after a `CREATE SCHEMA IF NOT EXISTS`, which PostgreSQL checks against the database).
/// Its URL.
async fn app_role_url(db: &TestDb) -> String {
    db.execute(&format!(
        "DO $$ BEGIN
             IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'agentos_app') THEN
                 CREATE ROLE agentos_app LOGIN PASSWORD 'agentos' IN ROLE agent_trace_reader, agent_trace_writer;
             END IF;
         END $$;
         GRANT CREATE ON SCHEMA {SCHEMA} TO agentos_app;
         DO $$ BEGIN EXECUTE format('GRANT CREATE ON DATABASE %I TO agentos_app', current_database()); END $$;"
    ))
    .await;
    // The superuser's URL with the app's user and password in its place.
    let url = sqlalchemy_url(db);
    let (scheme, rest) = url.split_once("://").expect("a URL");
    let (_, host) = rest.split_once('@').expect("a user in the URL");
    format!("{scheme}://agentos_app:agentos@{host}")
}

/// Asks an AgentOS app on `SCHEMA` the requests, in order; returns the answers' bodies (all 200).
async fn ask_agentos(db: &TestDb, requests: &[Value]) -> Vec<Value> {
    let report = agno_app(
        "api",
        vec![
            "api".into(),
            "--db-url".into(),
            app_role_url(db).await,
            "--schema".into(),
            SCHEMA.into(),
        ],
        vec![("--requests", Value::from(requests.to_vec()).to_string())],
    )
    .await;
    let answers = report["answers"].as_array().expect("answers").clone();
    assert_eq!(answers.len(), requests.len());
    answers
        .into_iter()
        .zip(requests)
        .map(|(answer, request)| {
            assert_eq!(answer["status"], 200, "{request}: {answer:#}");
            answer["body"].clone()
        })
        .collect()
}

/// How many agent_traces rows match `condition`.
async fn count_traces(db: &TestDb, condition: &str) -> i64 {
    db.number(&format!(
        "SELECT count(*) FROM agent_trace.agent_traces WHERE {condition}"
    ))
    .await
}

/// AgentOS's node type for a span_type (agno/os/routers/traces/schemas.py `_derive_span_type`).
fn agentos_type(span_type: &str) -> &'static str {
    match span_type {
        "agent" => "AGENT",
        "team" => "TEAM",
        "llm" => "LLM",
        "tool" => "TOOL",
        "chain" | "workflow" => "WORKFLOW",
        "retriever" => "RETRIEVER",
        "embedding" => "EMBEDDING",
        "reranker" => "RERANKER",
        "guardrail" => "GUARDRAIL",
        "evaluator" => "EVALUATOR",
        "prompt" => "PROMPT",
        _ => "UNKNOWN",
    }
}

/// What agent_trace holds for one span, and what AgentOS must show of it.
#[derive(Debug)]
struct StoredSpan {
    span_type: String,
    status: String,
    error: Option<String>,
    model: Option<String>,
    input_tokens: Option<i64>,
    output_tokens: Option<i64>,
}

/// Every node of a trace's tree, by span id, with its depth (0: a top-level node).
fn tree_nodes(nodes: &Value, depth: usize, into: &mut BTreeMap<String, (usize, Value)>) {
    for node in nodes.as_array().into_iter().flatten() {
        let id = node["id"].as_str().expect("node id").to_string();
        assert!(
            into.insert(id.clone(), (depth, node.clone())).is_none(),
            "span {id} twice"
        );
        tree_nodes(&node["spans"], depth + 1, into);
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn agentos_lists_and_opens_the_traces_of_every_client() {
    let db = TestDb::start("agno-read");
    let server = TestServer::start(&db, Limits::DEFAULT, None).await;
    let http = reqwest::Client::new();
    // Half the requests before the schema is prepared (enable_agno_compat copies them), half after
    // (the triggers on agent_traces copy them).
    let fixtures = ingest::fixtures::load("traces");
    for (index, fixture) in fixtures.iter().enumerate() {
        if index == fixtures.len() / 2 {
            db.execute(&format!(
                "SELECT agent_trace.enable_agno_compat('{SCHEMA}')"
            ))
            .await;
        }
        let response = post_fixture(&http, &server, fixture).await;
        assert_eq!(response.status(), 200, "{}", fixture.name);
    }
    server.stop().await;

    // What agent_trace holds: the truth AgentOS must show.
    let pg = db.client().await;
    let traces = pg
        .query(
            "SELECT t.trace_id::text, coalesce(t.name, (SELECT s.name FROM agent_trace.agent_spans s
                    WHERE s.trace_id = t.trace_id ORDER BY s.start_time, s.span_id LIMIT 1)),
                    t.status, t.span_count::bigint, t.error_count::bigint
               FROM agent_trace.agent_traces t ORDER BY t.start_time DESC",
            &[],
        )
        .await
        .expect("traces");
    let total = traces.len();
    assert!(total > 40, "every captured trace stored: {total}");
    let spans: BTreeMap<(String, String), StoredSpan> = pg
        .query(
            "SELECT trace_id::text, span_id::text, span_type, status_code,
                    coalesce(status_message, (SELECT e -> 'attributes' ->> 'exception.message'
                        FROM jsonb_array_elements(events) e WHERE e ->> 'name' = 'exception' LIMIT 1)),
                    model, input_tokens, output_tokens
               FROM agent_trace.agent_spans",
            &[],
        )
        .await
        .expect("spans")
        .iter()
        .map(|row| {
            (
                (row.get(0), row.get(1)),
                StoredSpan {
                    span_type: row.get(2),
                    status: row.get(3),
                    error: row.get(4),
                    model: row.get(5),
                    input_tokens: row.get(6),
                    output_tokens: row.get(7),
                },
            )
        })
        .collect();

    let ids: Vec<String> = traces.iter().map(|row| row.get(0)).collect();
    // A time range: the traces of the Python SDK agent (start and end inside it).
    let range = pg
        .query_one(
            "SELECT agent_trace._agno_time(min(start_time)), agent_trace._agno_time(max(end_time))
               FROM agent_trace.agent_traces WHERE service_name = 'harness-py-sdk-agent'",
            &[],
        )
        .await
        .expect("range");
    let (from, to): (String, String) = (range.get(0), range.get(1));
    let in_range = count_traces(&db, &format!(
        "agent_trace._agno_time(start_time) >= '{from}' AND agent_trace._agno_time(end_time) <= '{to}'"
    ))
    .await;
    let errors = count_traces(&db, "status = 'ERROR'").await;
    let sessions = db
        .number("SELECT count(DISTINCT session_id) FROM agent_trace.agent_traces")
        .await;
    let span_id_of_tool: String = pg
        .query_one(
            "SELECT span_id::text FROM agent_trace.agent_spans
              WHERE trace_id = '8bef85e718690b4f738c3d7e267a185e' AND name = 'execute_tool get_weather'",
            &[],
        )
        .await
        .expect("the Python SDK agent's tool span")
        .get(0);

    let mut requests = vec![
        get("/traces", json!({"limit": 100})),
        get("/traces", json!({"limit": 5, "page": 2})),
        get("/traces", json!({"session_id": "conv-42"})),
        get("/traces", json!({"user_id": "user-7"})),
        get("/traces", json!({"agent_id": "agent-123"})),
        // GenAI clients without an agent id: their agent name stands in.
        get("/traces", json!({"agent_id": "weather_agent"})),
        get("/traces", json!({"status": "ERROR", "limit": 100})),
        get(
            "/traces",
            json!({"start_time": from, "end_time": to, "limit": 100}),
        ),
        get("/trace_session_stats", json!({"limit": 100})),
        post(
            "/traces/search",
            json!({"filter": {"op": "AND", "conditions": [
                {"op": "EQ", "key": "status", "value": "ERROR"},
                {"op": "CONTAINS", "key": "name", "value": "http"}]}, "limit": 100}),
        ),
        post(
            "/traces/search",
            json!({"filter": {"op": "EQ", "key": "agent_id", "value": "agent-123"}, "group_by": "session"}),
        ),
        get(
            "/traces/8bef85e718690b4f738c3d7e267a185e",
            json!({"span_id": span_id_of_tool}),
        ),
    ];
    let first_detail = requests.len();
    requests.extend(
        ids.iter()
            .map(|id| get(&format!("/traces/{id}"), json!({}))),
    );
    let answers = ask_agentos(&db, &requests).await;

    // The list: every trace, newest first, with its name, status, span and error counts.
    let list = answers[0]["data"].as_array().expect("data");
    assert_eq!(answers[0]["meta"]["total_count"], total);
    assert_eq!(list.len(), total);
    let expected: BTreeMap<String, Value> = traces
        .iter()
        .map(|row| {
            (
                row.get(0),
                json!({"name": row.get::<_, String>(1), "status": row.get::<_, String>(2),
                       "total_spans": row.get::<_, i64>(3), "error_count": row.get::<_, i64>(4)}),
            )
        })
        .collect();
    for item in list {
        let id = item["trace_id"].as_str().expect("trace id");
        let actual = json!({"name": item["name"], "status": item["status"],
                            "total_spans": item["total_spans"], "error_count": item["error_count"]});
        assert_eq!(actual, expected[id], "trace {id}");
    }
    let listed: BTreeSet<&str> = list
        .iter()
        .map(|t| t["trace_id"].as_str().expect("id"))
        .collect();
    assert_eq!(listed.len(), total, "each trace once");
    let starts: Vec<&str> = list
        .iter()
        .map(|t| t["start_time"].as_str().expect("start"))
        .collect();
    assert!(
        starts.windows(2).all(|w| w[0] >= w[1]),
        "newest first: {starts:?}"
    );
    // Pages: the second page of five holds the list's sixth to tenth (traces that started at the
    // same time may come in either order).
    let page: Vec<&str> = answers[1]["data"]
        .as_array()
        .expect("page")
        .iter()
        .map(|t| t["start_time"].as_str().expect("start"))
        .collect();
    assert_eq!(page, starts[5..10]);
    assert_eq!(answers[1]["meta"]["total_pages"], total.div_ceil(5));

    // Filters.
    let trace_ids = |answer: &Value| -> BTreeSet<String> {
        answer["data"]
            .as_array()
            .expect("data")
            .iter()
            .map(|t| t["trace_id"].as_str().expect("id").to_string())
            .collect()
    };
    let py_sdk_runs: BTreeSet<String> = [
        "8bef85e718690b4f738c3d7e267a185e",
        "99808199880d7a9e0de7fefd913636ac",
        "b2748983e1eafd6a6263f8787bde0ee4",
    ]
    .map(String::from)
    .into();
    for (answer, what) in [(2, "session"), (3, "user"), (4, "agent id")] {
        assert_eq!(trace_ids(&answers[answer]), py_sdk_runs, "by {what}");
    }
    assert_eq!(
        trace_ids(&answers[5]).len() as i64,
        count_traces(&db, "agent_id IS NULL AND agent_name = 'weather_agent'").await
    );
    assert!(trace_ids(&answers[5]).len() >= 5);
    assert_eq!(trace_ids(&answers[6]).len() as i64, errors);
    assert!(errors >= 7, "the failing http spans of the SDK agents");
    assert_eq!(trace_ids(&answers[7]).len() as i64, in_range);
    assert!(trace_ids(&answers[7]).is_superset(&py_sdk_runs));
    // Sessions.
    assert_eq!(answers[8]["meta"]["total_count"], sessions);
    let conv_42 = answers[8]["data"]
        .as_array()
        .expect("sessions")
        .iter()
        .find(|s| s["session_id"] == "conv-42")
        .expect("session conv-42");
    assert_eq!(
        (&conv_42["total_traces"], &conv_42["user_id"]),
        (&json!(3), &json!("user-7"))
    );
    // Search: failed http calls (the node SDK's, one trace per span), and sessions of an agent.
    let failed_http = answers[9]["data"].as_array().expect("data");
    assert_eq!(
        failed_http.len() as i64,
        count_traces(&db, "status = 'ERROR' AND name LIKE '%http%'").await
    );
    assert!(failed_http.iter().all(|t| t["error"] == "backend timeout"));
    assert_eq!(
        answers[10]["data"],
        json!([{"session_id": "conv-42", "user_id": "user-7", "agent_id": "agent-123",
                "total_traces": 3, "first_trace_at": answers[10]["data"][0]["first_trace_at"],
                "last_trace_at": answers[10]["data"][0]["last_trace_at"]}])
    );
    // One span.
    assert_eq!(
        (
            &answers[11]["type"],
            &answers[11]["input"],
            &answers[11]["metadata"]["tool_name"]
        ),
        (
            &json!("TOOL"),
            &json!("{\"city\":\"Paris\"}"),
            &json!("get_weather")
        )
    );

    // Every trace opened: one node per span, none lost (orphans and spans of root-less traces hang
    // from the root or stand at the top), each with its type, model, tokens and error.
    let mut details = BTreeMap::new();
    for (id, detail) in ids.iter().zip(&answers[first_detail..]) {
        assert_eq!(&detail["trace_id"], id);
        let mut nodes = BTreeMap::new();
        tree_nodes(&detail["tree"], 0, &mut nodes);
        let stored: Vec<(&String, &StoredSpan)> = spans
            .iter()
            .filter(|((trace, _), _)| trace == id)
            .map(|((_, span), stored)| (span, stored))
            .collect();
        assert_eq!(nodes.len(), stored.len(), "trace {id}: nodes vs spans");
        assert_eq!(detail["total_spans"], stored.len());
        for (span, stored) in stored {
            let (depth, node) = nodes
                .get(span)
                .unwrap_or_else(|| panic!("span {span} shown"));
            let wanted_type = agentos_type(&stored.span_type);
            assert_eq!(node["type"], wanted_type, "span {span} of {id}");
            assert_eq!(node["status"], stored.status.as_str(), "span {span}");
            // A top-level node shows the trace's totals instead (AgentOS's choice).
            if *depth > 0 {
                if stored.status == "ERROR" {
                    assert_eq!(node["error"], json!(stored.error), "span {span} of {id}");
                }
                if wanted_type == "LLM" {
                    let metadata = &node["metadata"];
                    assert_eq!(metadata["model"], json!(stored.model), "span {span}");
                    assert_eq!(
                        metadata["input_tokens"],
                        json!(stored.input_tokens),
                        "span {span}"
                    );
                    assert_eq!(
                        metadata["output_tokens"],
                        json!(stored.output_tokens),
                        "span {span}"
                    );
                }
            }
        }
        details.insert(id.clone(), detail.clone());
    }

    // What AgentOS shows of four clients, as their captured requests hold it.
    let trace = |id: &str| &details[id];
    let llm_nodes = |id: &str| -> Vec<(Value, Value, Value)> {
        let mut nodes = BTreeMap::new();
        tree_nodes(&details[id]["tree"], 0, &mut nodes);
        let mut llm: Vec<(Value, Value, Value)> = nodes
            .values()
            .filter(|(_, n)| n["type"] == "LLM")
            .map(|(_, n)| {
                (
                    n["metadata"]["model"].clone(),
                    n["metadata"]["input_tokens"].clone(),
                    n["metadata"]["output_tokens"].clone(),
                )
            })
            .collect();
        llm.sort_by_key(|n| n.1.to_string());
        llm
    };
    // Claude Code: a turn with two calls to claude-sonnet-4-5, the prompt as the trace's input.
    let claude = trace("1d626060f5b3f66c88a6ddf56aa79e77");
    assert_eq!(
        (
            &claude["name"],
            &claude["total_spans"],
            &claude["error_count"],
            &claude["input"]
        ),
        (
            &json!("claude_code.interaction"),
            &json!(3),
            &json!(0),
            &json!("Say hello in one short sentence.")
        )
    );
    assert_eq!(
        claude["tree"][0]["metadata"],
        json!({"total_input_tokens": 84, "total_output_tokens": 34})
    );
    assert_eq!(
        llm_nodes("1d626060f5b3f66c88a6ddf56aa79e77"),
        vec![(json!("claude-sonnet-4-5"), json!(42), json!(17)); 2]
    );
    // Codex: one turn of 220 spans with one model response; and a trace whose root never came,
    // all 113 of its spans shown, named after its earliest span.
    let codex = trace("753bd5bf6b1a2d630970c6de86d46ad2");
    assert_eq!(
        (&codex["name"], &codex["total_spans"]),
        (&json!("turn/start"), &json!(220))
    );
    assert_eq!(
        llm_nodes("753bd5bf6b1a2d630970c6de86d46ad2"),
        vec![(Value::Null, json!(42), json!(17))]
    );
    let rootless = trace("12073729ec0a8e4739f4155c3ae46428");
    assert_eq!(
        (&rootless["name"], &rootless["total_spans"]),
        (&json!("load_with_cli_overrides"), &json!(113))
    );
    // OpenInference (the openai client): three chat completions of 42 + 17 tokens.
    let openinference = trace("70bd3471974e8d134eebca919adaa71f");
    assert_eq!(
        (&openinference["name"], &openinference["total_spans"]),
        (&json!("invoke_agent weather_agent"), &json!(5))
    );
    assert_eq!(
        llm_nodes("70bd3471974e8d134eebca919adaa71f"),
        vec![(json!("gpt-4o-mini"), json!(42), json!(17)); 3]
    );
    // The OpenTelemetry Python SDK with GenAI attributes: a failed tool backend call.
    let sdk = trace("8bef85e718690b4f738c3d7e267a185e");
    assert_eq!(
        (
            &sdk["name"],
            &sdk["status"],
            &sdk["total_spans"],
            &sdk["error_count"]
        ),
        (
            &json!("invoke_agent weather_agent"),
            &json!("ERROR"),
            &json!(5),
            &json!(1)
        )
    );
    assert_eq!(
        llm_nodes("8bef85e718690b4f738c3d7e267a185e"),
        vec![
            (json!("gpt-4o-mini"), json!(120), json!(24)),
            (json!("gpt-4o-mini"), json!(160), json!(31))
        ]
    );
    let tool = &sdk["tree"][0]["spans"][1];
    assert_eq!(
        (
            &tool["name"],
            &tool["type"],
            &tool["output"],
            &tool["spans"][0]["error"]
        ),
        (
            &json!("execute_tool get_weather"),
            &json!("TOOL"),
            &json!("{\"temp_c\":21,\"sky\":\"sunny\"}"),
            &json!("backend timeout")
        )
    );
    // Gemini CLI: its one LLM call.
    let gemini = trace("392444e0720fe40cbe34c3ea1bae59af");
    assert_eq!(
        (&gemini["name"], &gemini["tree"][0]["type"]),
        (&json!("llm_call"), &json!("LLM"))
    );
}

/// The typed columns two paths must agree on, of every span whose service_name is (not) NULL:
/// sorted, since the two runs' ids differ. Inputs of LLM calls hold Agno's message ids and times,
/// which differ from run to run: only their presence is compared.
async fn typed_columns(db: &TestDb, through_otlp: bool) -> Vec<String> {
    db.client()
        .await
        .query(
            &format!(
                "SELECT concat_ws(' | ', name, span_kind, span_type, status_code, model, provider,
                        input_tokens, output_tokens, tool_name, agent_name, agent_id, session_id,
                        user_id, (run_id IS NOT NULL)::text,
                        CASE WHEN span_type = 'llm' THEN (input IS NOT NULL)::text ELSE input END, output)
                   FROM agent_trace.agent_spans WHERE (service_name IS NOT NULL) = {through_otlp}
                  ORDER BY 1"
            ),
            &[],
        )
        .await
        .expect("typed columns")
        .iter()
        .map(|row| row.get(0))
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn an_agno_app_stores_its_spans_through_the_compat_schema_and_over_otlp() {
    const RUNS: usize = 3;
    let db = TestDb::start("agno-write");
    db.execute(&format!(
        "SELECT agent_trace.enable_agno_compat('{SCHEMA}')"
    ))
    .await;
    let app_url = app_role_url(&db).await;
    let run = |schema: &str, extra: &[&str]| {
        let mut args: Vec<String> = vec![
            "run".into(),
            "--db-url".into(),
            // The compat schema is used by the app's own role; AgentOS's own tables (schema
            // agno_own) are made by the superuser.
            if schema == SCHEMA {
                app_url.clone()
            } else {
                sqlalchemy_url(&db)
            },
            "--schema".into(),
            schema.into(),
            "--runs".into(),
            RUNS.to_string(),
        ];
        args.extend(extra.iter().map(|a| a.to_string()));
        args
    };

    // Through the database: AgentOS(tracing=True) with its db on the prepared schema; then every
    // span re-sent with Agno's own PostgresDb.create_spans.
    let report = agno_app("db", run(SCHEMA, &["--resend"]), vec![]).await;
    assert_eq!(
        report["model_requests"].as_array().expect("requests").len(),
        2 * RUNS
    );
    assert_eq!(report["resent"], 4 * RUNS);
    let runs = report["runs"].as_array().expect("runs").clone();
    assert_eq!(runs.len(), RUNS);
    let pg = db.client().await;
    for r in &runs {
        assert_eq!(r["content"], "It is sunny in Paris, 21 C.");
        let run_id = r["run_id"].as_str().expect("run id");
        let row = pg
            .query_one(
                "SELECT name, status, span_count, error_count, llm_call_count, tool_call_count,
                        input_tokens, output_tokens, session_id, user_id, agent_id, agent_name,
                        input, output
                   FROM agent_trace.agent_traces WHERE run_id = $1",
                &[&run_id],
            )
            .await
            .unwrap_or_else(|e| panic!("the trace of run {run_id}: {e}"));
        let actual = json!([
            row.get::<_, Option<String>>(0),
            row.get::<_, String>(1),
            row.get::<_, i32>(2),
            row.get::<_, i32>(3),
            row.get::<_, i32>(4),
            row.get::<_, i32>(5),
            row.get::<_, Option<i64>>(6),
            row.get::<_, Option<i64>>(7),
            row.get::<_, Option<String>>(8),
            row.get::<_, Option<String>>(9),
            row.get::<_, Option<String>>(10),
            row.get::<_, Option<String>>(11),
            row.get::<_, Option<String>>(12),
            row.get::<_, Option<String>>(13)
        ]);
        assert_eq!(
            actual,
            json!([
                "weather_agent.run",
                "OK",
                4,
                0,
                2,
                1,
                84,
                34,
                r["session_id"],
                "agno-user",
                "weather-agent",
                "weather_agent",
                "What is the weather in Paris?",
                "It is sunny in Paris, 21 C."
            ]),
            "run {run_id}"
        );
    }
    // The spans, each once (the re-sent ones skipped), with their typed columns.
    let stored = typed_columns(&db, false).await;
    assert_eq!(stored.len(), 4 * RUNS, "{stored:#?}");
    let distinct: BTreeSet<String> = stored
        .iter()
        .map(|s| {
            s.replace("agno-session-0", "S")
                .replace("agno-session-1", "S")
        })
        .collect();
    let expected: BTreeSet<String> = [
        "OpenAIChat.invoke | INTERNAL | llm | OK | gpt-4o-mini | OpenAI | 42 | 17 | false | true | [{\"role\": \"assistant\", \"tool_calls\": [{\"id\": \"call_1\", \"function\": {\"arguments\": \"{\\\"city\\\": \\\"Paris\\\"}\", \"name\": \"get_weather\"}, \"type\": \"function\"}]}]",
        "OpenAIChat.invoke | INTERNAL | llm | OK | gpt-4o-mini | OpenAI | 42 | 17 | false | true | [{\"role\": \"assistant\", \"content\": \"It is sunny in Paris, 21 C.\"}]",
        "get_weather | INTERNAL | tool | OK | get_weather | false | {\"city\": \"Paris\"} | {\"temp_c\": 21, \"sky\": \"sunny\"}",
        "weather_agent.run | INTERNAL | agent | OK | weather_agent | weather-agent | S | agno-user | true | What is the weather in Paris? | It is sunny in Paris, 21 C.",
    ]
    .map(String::from)
    .into();
    assert_eq!(distinct, expected);
    // AgentOS finds a run's trace by its run id, with its four spans.
    let answers = ask_agentos(&db, &[get("/traces", json!({"run_id": runs[0]["run_id"]}))]).await;
    assert_eq!(answers[0]["meta"]["total_count"], 1);
    assert_eq!(answers[0]["data"][0]["total_spans"], 4);
    assert_eq!(
        answers[0]["data"][0]["input"],
        "What is the weather in Paris?"
    );

    // Over OTLP: the same agent with its db on a schema of Agno's own tables and the lines
    // `agent-trace setup agno` prints.
    let server = TestServer::start(&db, Limits::DEFAULT, None).await;
    let setup = Command::new(env!("CARGO_BIN_EXE_agent-trace"))
        .args(["setup", "agno", "--endpoint", &server.url("")])
        .env_remove("AGENT_TRACE_TOKEN")
        .output()
        .expect("agent-trace setup agno");
    assert!(setup.status.success());
    let setup = String::from_utf8(setup.stdout).expect("UTF-8");
    let report = agno_app("otlp", run("agno_own", &[]), vec![("--setup", setup)]).await;
    assert_eq!(report["flushed"], true);
    server.stop().await;
    let through_otlp = typed_columns(&db, true).await;
    assert_eq!(
        through_otlp, stored,
        "the same spans through the ingest's mapping as through the SQL one"
    );
    // Agno's own tables still got them too.
    assert_eq!(
        db.number("SELECT count(*) FROM agno_own.agno_spans").await,
        4 * RUNS as i64
    );
    assert_eq!(
        db.number("SELECT count(*) FROM agent_trace.agent_traces WHERE name = 'weather_agent.run'")
            .await,
        2 * RUNS as i64
    );
}

/// The SQL mapping (agent_trace._span_columns, for spans AgentOS inserts) and the ingest's agree on
/// every span of every captured request: each stored span's typed columns, mapped again in SQL from
/// its stored attributes and resource attributes, come out the same.
#[tokio::test(flavor = "multi_thread")]
async fn the_sql_mapping_agrees_with_the_ingest_on_every_captured_span() {
    let db = TestDb::start("agno-mapping");
    let server = TestServer::start(&db, Limits::DEFAULT, None).await;
    let http = reqwest::Client::new();
    for fixture in ingest::fixtures::load("traces") {
        let response = post_fixture(&http, &server, &fixture).await;
        assert_eq!(response.status(), 200, "{}", fixture.name);
    }
    server.stop().await;
    let columns = "s.span_type, s.model, s.provider, s.input_tokens, s.output_tokens, \
                   s.cache_read_tokens, s.cache_write_tokens, s.reasoning_tokens, s.cost_usd, \
                   s.tool_name, s.agent_name, s.agent_id, s.session_id, s.user_id, s.run_id, s.team_id, \
                   s.workflow_id, s.correlation_id, s.input, s.output";
    let spans = db
        .number("SELECT count(*) FROM agent_trace.agent_spans")
        .await;
    assert!(spans > 400, "{spans} spans stored");
    let differing = db
        .client()
        .await
        .query(
            &format!(
                "SELECT s.name || ': ' || row({columns})::text || ' <> ' || m::text
                   FROM agent_trace.agent_spans s,
                        agent_trace._span_columns(s.name, s.attributes, s.resource_attributes) m
                  WHERE row({columns})::agent_trace.mapped_span IS DISTINCT FROM m"
            ),
            &[],
        )
        .await
        .expect("compare");
    let differing: Vec<String> = differing.iter().map(|row| row.get(0)).collect();
    assert!(differing.is_empty(), "{differing:#?}");
    // Each kind of column is exercised: types, models, every token kind, cost, tools, identities.
    for column in [
        "model",
        "input_tokens",
        "cache_read_tokens",
        "reasoning_tokens",
        "tool_name",
        "session_id",
        "user_id",
        "agent_name",
        "input",
        "output",
    ] {
        let filled = db
            .number(&format!(
                "SELECT count(*) FROM agent_trace.agent_spans WHERE {column} IS NOT NULL"
            ))
            .await;
        assert!(filled > 0, "no captured span fills {column}");
    }
}

/// Enabling and disabling a compat schema while spans are being written: no span insert and no
/// enable or disable fails (both lock agent_spans before the tables span writers lock after it, so
/// none waits in a cycle; disable used to deadlock when it dropped the span id index), and once the
/// schema stays enabled, its copy keeps up with every trace written.
#[tokio::test(flavor = "multi_thread")]
async fn enabling_and_disabling_while_spans_arrive_fails_nothing() {
    let db = TestDb::start("agno-toggle");
    let toggling_until = Instant::now() + Duration::from_secs(5);
    let writing_until = toggling_until + Duration::from_secs(1);
    let mut writers = Vec::new();
    for writer in 0..3_i64 {
        let client = db.client().await;
        writers.push(tokio::spawn(async move {
            let mut batches = 0_i64;
            while Instant::now() < writing_until {
                // A trace of 10 spans, numbered by writer and batch.
                let trace = (writer + 1) * 1_000_000 + batches;
                client
                    .execute(
                        "INSERT INTO agent_trace.agent_spans (trace_id, span_id, name, span_type, status_code, \
                         start_time, end_time) \
                         SELECT lpad(to_hex($1::bigint), 32, '0')::agent_trace.trace_id, \
                                lpad(to_hex($1::bigint * 16 + k), 16, '0')::agent_trace.span_id, \
                                'chat', 'llm', 'OK', now(), now() \
                           FROM generate_series(0, 9) AS k",
                        &[&trace],
                    )
                    .await
                    .unwrap_or_else(|e| panic!("writer {writer}, batch {batches}: {e:?}"));
                batches += 1;
            }
            batches
        }));
    }
    let admin = db.client().await;
    let mut toggles = 0;
    while Instant::now() < toggling_until {
        admin
            .batch_execute("SELECT agent_trace.enable_agno_compat('ai')")
            .await
            .unwrap_or_else(|e| panic!("enable #{toggles}: {e}"));
        tokio::time::sleep(Duration::from_millis(50)).await;
        admin
            .batch_execute("SELECT agent_trace.disable_agno_compat('ai')")
            .await
            .unwrap_or_else(|e| panic!("disable #{toggles}: {e}"));
        toggles += 1;
    }
    admin
        .batch_execute("SELECT agent_trace.enable_agno_compat('ai')")
        .await
        .expect("the last enable");
    let mut batches = 0;
    for writer in writers {
        batches += writer.await.expect("writer");
    }
    assert!(toggles >= 3, "only {toggles} enable/disable cycles in 5 s");
    assert!(batches > 0);
    assert_eq!(
        db.number("SELECT count(*) FROM agent_trace.agent_spans")
            .await,
        batches * 10
    );
    assert_eq!(
        db.number("SELECT count(*) FROM agent_trace.agent_traces")
            .await,
        batches
    );
    assert_eq!(
        db.number("SELECT count(*) FROM ai.agno_traces").await,
        batches
    );
    eprintln!("{toggles} enable/disable cycles while {batches} batches of 10 spans were written");
}
