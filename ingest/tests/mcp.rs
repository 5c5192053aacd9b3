//! The MCP server at /mcp with real clients: the official MCP Python SDK (`mcp` on PyPI) and
//! TypeScript SDK (`@modelcontextprotocol/sdk` on npm), both pinned and installed by
//! `scripts/install-test-clients.sh`, each driven by a plan (`tests/clients/mcp_python.py`,
//! `tests/clients/mcp-ts/client.mjs`) against `agent-trace serve` processes over a database filled
//! from the captured requests (tests/fixtures/otlp). Each client lists the tools and calls every one,
//! and tries the attacks: SQL that writes, creates, turns the transaction read-write, sends two
//! statements, ends the transaction, sleeps past the timeout or resets its role; a usage reader
//! reading content; a superuser's or a writer's login behind the query tool; a project's token
//! reading; a wrong or missing token. The test judges the answers the clients report against the
//! database. Web pages of another origin, and a rebound Host name, are tried with plain HTTP.

mod common;

use common::{ServeProcess, TestDb, post_fixture_to, repo_root, run_python_client, venv_python};
use serde_json::{Value, json};
use std::path::Path;
use std::process::Command;
use std::time::Duration;

const TOKEN: &str = "mcp-server-token-0123456789";
const WRONG_TOKEN: &str = "not-the-token-0123456789";
const PASSWORD: &str = "mcp-test";
/// The query tool's timeout on the main server: short, so the sleep attack costs little.
const SQL_TIMEOUT_MS: u64 = 1500;
/// Its row cap there.
const SQL_MAX_ROWS: usize = 50;

/// `postgresql://ROLE:PASSWORD@host...` for a login of the test cluster.
fn as_login(db: &TestDb, role: &str) -> String {
    let url = db.url();
    let (_, host) = url.split_once('@').expect("user@host");
    format!("postgresql://{role}:{PASSWORD}@{host}")
}

/// `serve` writing as the ingest's login and reading (viewer and MCP) as `reader`, with `extra`.
fn serve(db: &TestDb, reader: &str, extra: &[&str]) -> ServeProcess {
    let writer = db.writer_url();
    let mut args = vec![
        "serve",
        "--database-url",
        &writer,
        "--viewer-database-url",
        reader,
    ];
    args.extend_from_slice(extra);
    ServeProcess::spawn(&args)
}

/// The answers a client reported, by session and call.
struct Report {
    client: String,
    json: Value,
}

impl Report {
    fn session(&self, label: &str) -> &Value {
        let session = &self.json["sessions"][label];
        assert!(
            session.is_object(),
            "{}: no session {label}: {}",
            self.client,
            self.json
        );
        session
    }

    /// A call's answer, parsed; fails unless the tool answered without error.
    fn ok(&self, label: &str, id: &str) -> Value {
        let call = &self.session(label)["calls"][id];
        assert_eq!(
            call["is_error"],
            json!(false),
            "{}: {label}/{id} should have succeeded: {call}",
            self.client
        );
        serde_json::from_str(call["text"].as_str().expect("text"))
            .unwrap_or_else(|e| panic!("{}: {label}/{id} is not JSON ({e}): {call}", self.client))
    }

    /// A call's tool error (`{"error", "sqlstate"}`); fails unless the tool answered with one.
    fn refused(&self, label: &str, id: &str) -> Value {
        let call = &self.session(label)["calls"][id];
        assert_eq!(
            call["is_error"],
            json!(true),
            "{}: {label}/{id} should have been the tool's error: {call}",
            self.client
        );
        serde_json::from_str(call["text"].as_str().expect("text"))
            .unwrap_or_else(|e| panic!("{}: {label}/{id} is not JSON ({e}): {call}", self.client))
    }

    /// A tool error with this SQLSTATE.
    fn sqlstate(&self, label: &str, id: &str, sqlstate: &str) -> Value {
        let error = self.refused(label, id);
        assert_eq!(
            error["sqlstate"],
            json!(sqlstate),
            "{}: {label}/{id}: {error}",
            self.client
        );
        error
    }

    /// A tool error whose message contains `says`.
    fn says(&self, label: &str, id: &str, says: &str) -> Value {
        let error = self.refused(label, id);
        let message = error["error"].as_str().unwrap_or_default();
        assert!(
            message.contains(says),
            "{}: {label}/{id} should say {says:?}: {error}",
            self.client
        );
        error
    }
}

/// Runs one client (`python` or `typescript`) over `plan`; its report.
fn run_client(kind: &str, plan: &Value, dir: &Path) -> Report {
    std::fs::create_dir_all(dir).expect("client dir");
    let plan_file = dir.join("plan.json");
    std::fs::write(
        &plan_file,
        serde_json::to_string_pretty(plan).expect("plan"),
    )
    .expect("plan");
    let command = match kind {
        "python" => {
            let mut command = Command::new(venv_python("the MCP Python SDK"));
            command.arg(repo_root().join("tests/clients/mcp_python.py"));
            command
        }
        _ => {
            let client = repo_root().join("tests/clients/mcp-ts");
            assert!(
                client
                    .join("node_modules/@modelcontextprotocol/sdk")
                    .is_dir(),
                "{} has no node_modules: run `bash scripts/install-test-clients.sh` (it installs the \
                 MCP TypeScript SDK from its lockfile)",
                client.display()
            );
            let mut command = Command::new("node");
            command.arg(client.join("client.mjs"));
            command
        }
    };
    let mut command = command;
    command.arg("--plan").arg(&plan_file);
    // (run_python_client runs any client command: it adds --output, clears OTEL_* and proxies, and
    // kills it past the deadline.)
    let run = run_python_client(command, dir, Duration::from_secs(180));
    assert!(
        run.status.success(),
        "the {kind} client failed:\n{}",
        run.output
    );
    let text = run
        .report
        .unwrap_or_else(|e| panic!("the {kind} client wrote no report ({e}):\n{}", run.output));
    let json: Value = serde_json::from_str(&text).expect("the report is JSON");
    Report {
        client: format!("{kind} ({})", json["client"].as_str().unwrap_or("?")),
        json,
    }
}

/// What the database says, to judge the answers by.
struct Truth {
    /// The trace with the most spans (a turn of Codex's session).
    big_trace: String,
    big_trace_spans: i64,
    /// A trace whose LLM spans hold inputs longer than 200 characters (OpenInference's), and the
    /// span with the longest.
    content_trace: String,
    span: String,
    /// Two traces with an error (the same agent run captured twice), for the diff.
    failed: (String, String),
    /// Traces whose name, input or output holds SEARCH.
    found: i64,
    /// The session with the most runs, and how many.
    session: String,
    session_runs: i64,
    /// The three newest traces, newest first.
    newest: Vec<String>,
    /// The trace sent with the project's token (project acme).
    acme_trace: String,
}

/// The two examples of docs/mcp.md ("Score statistics in SQL"), as written there.
const DOC_STATS: &str = "SELECT day, agent_name, model, score_count, round(avg_value::numeric, 3) AS avg_relevance, label_shares
  FROM agent_trace.agent_score_stats
 WHERE name = 'relevance' AND day >= current_date - 14
 ORDER BY day, agent_name;";
const DOC_THUMBS_DOWN: &str = "SELECT s.trace_id, t.agent_name, t.computed_cost_usd, s.latest_label
  FROM agent_trace.agent_trace_scores AS s
  JOIN agent_trace.agent_traces AS t USING (trace_id, project_id)
 WHERE s.name = 'helpfulness' AND s.latest_label = 'thumbs_down'
 ORDER BY s.latest_scored_at DESC
 LIMIT 20;";

/// What find_traces searches for (its case differs from the traces').
const SEARCH: &str = "WEATHER_Agent";

async fn truth(db: &TestDb) -> Truth {
    let client = db.client().await;
    let one = |sql: &'static str| {
        let client = &client;
        async move {
            client
                .query_one(sql, &[])
                .await
                .unwrap_or_else(|e| panic!("{sql}: {e}"))
        }
    };
    let big = one(
        "SELECT trace_id::text, span_count::bigint FROM agent_trace.agent_traces
          ORDER BY span_count DESC, trace_id LIMIT 1",
    )
    .await;
    let content = one(
        "SELECT s.trace_id::text, s.span_id::text FROM agent_trace.agent_spans AS s
          JOIN agent_trace.agent_traces AS t USING (trace_id, project_id)
         WHERE s.model IS NOT NULL AND length(s.input) > 200 AND t.span_count > 1
         ORDER BY length(s.input) DESC, s.trace_id LIMIT 1",
    )
    .await;
    let failed = client
        .query(
            "SELECT trace_id::text FROM agent_trace.agent_traces
              WHERE error_count > 0 AND span_count > 1 AND project_id = 1 ORDER BY trace_id LIMIT 2",
            &[],
        )
        .await
        .expect("failed traces");
    assert_eq!(failed.len(), 2, "two failed runs in the corpus");
    let found = client
        .query_one(
            "SELECT count(*) FROM agent_trace.agent_traces
              WHERE strpos(lower(name), lower($1)) > 0 OR strpos(lower(input), lower($1)) > 0
                 OR strpos(lower(output), lower($1)) > 0",
            &[&SEARCH],
        )
        .await
        .expect("search")
        .get(0);
    let session = one(
        "SELECT session_id, traces::bigint FROM agent_trace.agent_sessions WHERE traces > 0
          ORDER BY traces DESC, session_id LIMIT 1",
    )
    .await;
    let newest = client
        .query(
            "SELECT trace_id::text FROM agent_trace.agent_traces
              ORDER BY start_time DESC, trace_id DESC LIMIT 3",
            &[],
        )
        .await
        .expect("newest")
        .iter()
        .map(|row| row.get::<_, String>(0))
        .collect();
    let acme = one("SELECT t.trace_id::text FROM agent_trace.agent_traces AS t
          JOIN agent_trace.projects AS p USING (project_id) WHERE p.name = 'acme'")
    .await;
    Truth {
        big_trace: big.get(0),
        big_trace_spans: big.get(1),
        content_trace: content.get(0),
        span: content.get(1),
        failed: (failed[0].get(0), failed[1].get(0)),
        found,
        session: session.get(0),
        session_runs: session.get(1),
        newest,
        acme_trace: acme.get(0),
    }
}

/// The plan both clients run.
fn plan(
    url: &str,
    superuser_url: &str,
    usage_url: &str,
    writerish_url: &str,
    project_token: &str,
    t: &Truth,
) -> Value {
    let query = |id: &str, sql: &str| json!({"id": id, "name": "query", "arguments": {"sql": sql}});
    let server_calls = vec![
        json!({"id": "newest", "name": "find_traces", "arguments": {"limit": 2}}),
        json!({"id": "next", "name": "find_traces",
                 "arguments": {"limit": 2, "cursor": "${newest.next_cursor}"}}),
        json!({"id": "errors", "name": "find_traces",
                 "arguments": {"status": "ERROR", "sort": "spans", "order": "desc", "limit": 5}}),
        json!({"id": "search", "name": "find_traces", "arguments": {"q": SEARCH, "limit": 200}}),
        json!({"id": "tree", "name": "trace_tree", "arguments": {"trace_id": t.content_trace}}),
        json!({"id": "tree_full", "name": "trace_tree", "arguments": {"trace_id": t.content_trace, "full": true}}),
        json!({"id": "tree_big", "name": "trace_tree", "arguments": {"trace_id": t.big_trace, "limit": 50}}),
        json!({"id": "tree_chained", "name": "trace_tree",
                 "arguments": {"trace_id": "${newest.traces.0.trace_id}", "limit": 5}}),
        json!({"id": "tree_bad_id", "name": "trace_tree", "arguments": {"trace_id": "not-a-trace-id"}}),
        json!({"id": "tree_missing", "name": "trace_tree",
                 "arguments": {"trace_id": "0123456789abcdef0123456789abcdef"}}),
        json!({"id": "span", "name": "get_span", "arguments": {"trace_id": t.content_trace, "span_id": t.span}}),
        json!({"id": "diff", "name": "diff_traces", "arguments": {"a": t.failed.0, "b": t.failed.1}}),
        json!({"id": "session", "name": "session", "arguments": {"session_id": t.session, "limit": 1}}),
        json!({"id": "score", "name": "add_score", "arguments": {
                    "trace_id": t.content_trace, "name": "helpfulness", "label": "thumbs_down",
                    "explanation": "wrong city", "source": "human", "scorer": "mcp-test"}}),
        json!({"id": "score_again", "name": "add_score", "arguments": {
                    "trace_id": t.content_trace, "name": "helpfulness", "label": "thumbs_down",
                    "explanation": "wrong city", "source": "human", "scorer": "mcp-test"}}),
        json!({"id": "score_span", "name": "add_score", "arguments": {
                    "trace_id": t.content_trace, "span_id": t.span, "name": "relevance", "value": 0.25}}),
        json!({"id": "tree_scored", "name": "trace_tree",
                "arguments": {"trace_id": t.content_trace, "limit": 1}}),
        json!({"id": "score_no_span", "name": "add_score", "arguments": {
                    "trace_id": t.content_trace, "span_id": "00000000000000aa", "name": "relevance", "value": 1}}),
        json!({"id": "score_nothing", "name": "add_score", "arguments": {
                    "trace_id": t.content_trace, "name": "relevance"}}),
        json!({"id": "score_nan_name", "name": "add_score", "arguments": {
                    "trace_id": t.content_trace, "name": " ", "value": 1}}),
        json!({"id": "scores", "name": "scores", "arguments": {"trace_id": t.content_trace}}),
        json!({"id": "scores_by_name", "name": "scores", "arguments": {"name": "relevance"}}),
        json!({"id": "find_scored", "name": "find_traces",
                 "arguments": {"score": "relevance", "score_max": 0.5}}),
        json!({"id": "find_thumbs", "name": "find_traces",
                 "arguments": {"score": "helpfulness", "score_label": "thumbs_down"}}),
        json!({"id": "find_score_bound_alone", "name": "find_traces", "arguments": {"score_min": 0.1}}),
        query(
            "stats",
            "SELECT name, sum(score_count)::int AS scores, max(label_shares::text) AS labels \
                                FROM agent_score_stats GROUP BY name ORDER BY name",
        ),
        query("unqualified", "SELECT count(*) AS traces FROM agent_traces"),
        query("capped", "SELECT g FROM generate_series(1, 1000) AS g"),
        json!({"id": "capped_less", "name": "query",
                 "arguments": {"sql": "SELECT g FROM generate_series(1, 1000) AS g", "max_rows": 3}}),
        query(
            "insert",
            "INSERT INTO agent_trace.agent_scores (score_key, trace_id, name, value) \
                                 VALUES (gen_random_uuid(), '0123456789abcdef0123456789abcdef', 'x', 1)",
        ),
        query("create", "CREATE TABLE public.mcp_was_here (a int)"),
        query("read_write", "SET TRANSACTION READ WRITE"),
        query("two", "SELECT 1; SELECT 2"),
        query("commit", "COMMIT"),
        query("sleep", "SELECT pg_sleep(30)"),
        query(
            "sleep_unset",
            "SELECT set_config('statement_timeout', '0', false), pg_sleep(30)",
        ),
        query("reset_role", "RESET ROLE"),
        query("set_role_writer", "SET ROLE agent_trace_writer"),
        query("syntax", "SELEC 1"),
        query(
            "after_attacks",
            "SELECT current_user AS who, current_setting('transaction_read_only') AS ro",
        ),
        query("long_value", "SELECT repeat('x', 9000) AS long"),
        query(
            "bytes_capped",
            "SELECT repeat('y', 7000) AS y FROM generate_series(1, 50)",
        ),
        query("doc_stats", DOC_STATS),
        query("doc_thumbs_down", DOC_THUMBS_DOWN),
        json!({"id": "score_two_projects", "name": "add_score", "arguments": {
            "trace_id": t.acme_trace, "name": "verified", "label": "yes"}}),
        json!({"id": "score_in_acme", "name": "add_score", "arguments": {
            "trace_id": t.acme_trace, "name": "verified", "label": "yes", "project": "acme"}}),
    ];
    json!({
        "url": url,
        "sessions": [
            {"label": "server", "token": TOKEN, "list_tools": true, "calls": server_calls},
            {"label": "project", "token": project_token, "list_tools": true, "calls": [
                {"id": "read", "name": "find_traces", "arguments": {}},
                query("sql", "SELECT 1"),
                {"id": "own", "name": "add_score", "arguments": {
                    "trace_id": t.acme_trace, "name": "correct", "label": "pass", "source": "code"}},
                {"id": "other", "name": "add_score", "arguments": {
                    "trace_id": t.failed.0, "name": "correct", "label": "fail"}},
            ]},
            {"label": "wrong_token", "token": WRONG_TOKEN, "list_tools": true, "calls": []},
            {"label": "no_token", "token": null, "list_tools": true, "calls": []},
            {"label": "superuser_login", "url": superuser_url, "token": TOKEN, "calls": [
                query("sql", "SELECT 1"),
                {"id": "read", "name": "find_traces", "arguments": {"limit": 1}},
            ]},
            {"label": "usage_login", "url": usage_url, "token": null, "calls": [
                query("content", "SELECT input FROM agent_spans LIMIT 1"),
                {"id": "tree", "name": "trace_tree", "arguments": {"trace_id": t.content_trace}},
                {"id": "find", "name": "find_traces", "arguments": {}},
                query("numbers", "SELECT count(trace_id) AS traces, sum(input_tokens) AS tokens FROM agent_traces"),
            ]},
            {"label": "writer_login", "url": writerish_url, "token": TOKEN, "calls": [
                query("sql", "SELECT 1"),
            ]},
        ]
    })
}

#[tokio::test(flavor = "multi_thread")]
async fn real_clients_list_and_call_every_tool_and_the_attacks_fail() {
    let db = TestDb::start("mcp");
    // A usage reader's login, one that may also write, and a project with an ingest token.
    db.execute(&format!(
        "CREATE ROLE mcp_usage LOGIN PASSWORD '{PASSWORD}'; GRANT agent_trace_usage_reader TO mcp_usage;
         CREATE ROLE mcp_writerish LOGIN PASSWORD '{PASSWORD}';
         GRANT agent_trace_reader, agent_trace_writer TO mcp_writerish;
         SELECT agent_trace.create_project('acme');"
    ))
    .await;
    let project_token: String = db
        .client()
        .await
        .query_one(
            "SELECT agent_trace.create_ingest_token('acme', 'mcp test')",
            &[],
        )
        .await
        .expect("a project token")
        .get(0);

    // The main server reads as `agent-trace up`'s viewer login (sql/viewer/viewer_role.sql): a plain
    // reader. The others put another login behind the query tool.
    let reader = db.cluster.viewer_connection_string();
    let timeout = SQL_TIMEOUT_MS.to_string();
    let max_rows = SQL_MAX_ROWS.to_string();
    let main = serve(
        &db,
        &reader,
        &[
            "--token",
            TOKEN,
            "--mcp-sql-timeout-ms",
            &timeout,
            "--mcp-sql-max-rows",
            &max_rows,
        ],
    );
    let mut superuser = serve(&db, &db.url(), &["--token", TOKEN]);
    // (The viewer needs content: a usage reader's server has the MCP server alone.)
    let usage = serve(&db, &as_login(&db, "mcp_usage"), &["--no-viewer"]);
    let mut writerish = serve(&db, &as_login(&db, "mcp_writerish"), &["--token", TOKEN]);
    // Each says at start whether its query tool will run SQL, and why not.
    let mut main = main;
    let started = Duration::from_secs(10);
    main.wait_for_log("the MCP server's query tool runs SQL as its login", started);
    superuser.wait_for_log(
        "the query tool is off: the MCP server's login is a superuser",
        started,
    );
    writerish.wait_for_log("member of agent_trace_writer", started);

    // Every captured request, then one trace into project acme with its token.
    let http = reqwest::Client::new();
    let bearer = format!("Bearer {TOKEN}");
    for fixture in ["traces", "logs", "metrics"]
        .into_iter()
        .flat_map(ingest::fixtures::load)
    {
        let response = post_fixture_to(&http, &main.url(""), &fixture, Some(&bearer)).await;
        assert_eq!(response.status(), 200, "{}", fixture.name);
    }
    let acme = common::post_json(
        &main.url("/v1/traces"),
        &common::numbered_request(1, 3),
        Some(&format!("Bearer {project_token}")),
    )
    .await;
    assert_eq!(acme.status, 200, "{}", acme.body);
    // The same trace id in the default project too.
    let again = common::post_json(
        &main.url("/v1/traces"),
        &common::numbered_request(1, 3),
        Some(&bearer),
    )
    .await;
    assert_eq!(again.status, 200, "{}", again.body);
    let t = truth(&db).await;

    let plan = plan(
        &main.url("/mcp"),
        &superuser.url("/mcp"),
        &usage.url("/mcp"),
        &writerish.url("/mcp"),
        &project_token,
        &t,
    );
    let dir = repo_root().join("target/mcp-clients");
    for kind in ["python", "typescript"] {
        let report = run_client(kind, &plan, &dir.join(kind));
        judge(&report, &db, &t).await;
    }
    // Both clients gave the same scores: each is stored once.
    assert_eq!(
        db.number("SELECT count(*) FROM agent_trace.agent_scores WHERE name = 'helpfulness'")
            .await,
        1
    );
    assert_eq!(
        db.number(
            "SELECT count(*) FROM agent_trace.agent_scores AS s JOIN agent_trace.projects AS p USING (project_id)
              WHERE s.name = 'correct' AND p.name = 'acme' AND s.label = 'pass'"
        )
        .await,
        1
    );
    assert_eq!(
        db.number("SELECT count(*) FROM agent_trace.agent_scores WHERE name = 'correct'")
            .await,
        1,
        "a project's token scored nothing outside its project"
    );
    // Nothing the attacks tried is there.
    assert_eq!(
        db.number("SELECT count(*) FROM pg_catalog.pg_class WHERE relname = 'mcp_was_here'")
            .await,
        0
    );
    assert_eq!(
        db.number("SELECT count(*) FROM agent_trace.agent_scores WHERE name = 'x'")
            .await,
        0
    );
    // The attacks left no session behind: every connection of the query tool was closed.
    common::wait_until(
        "the query tool's connections to close",
        Duration::from_secs(30),
        || async {
            db.number(
                "SELECT count(*) FROM pg_stat_activity
                  WHERE query LIKE '%pg_sleep(30)%' AND pid <> pg_backend_pid()",
            )
            .await
                == 0
        },
    )
    .await;
    drop((superuser, usage, writerish));
    let (status, log) = main.terminate();
    assert!(status.success(), "{log}");
}

/// The answers of one client, against the database.
async fn judge(r: &Report, db: &TestDb, t: &Truth) {
    let server = r.session("server");
    assert_eq!(server["connected"], json!(true), "{}: {server}", r.client);
    // The tools, each with a description and an input schema with described properties.
    let tools = server["tools"].as_array().expect("tools");
    let mut names: Vec<&str> = tools.iter().filter_map(|t| t["name"].as_str()).collect();
    names.sort_unstable();
    assert_eq!(
        names,
        [
            "add_score",
            "diff_traces",
            "find_traces",
            "get_span",
            "query",
            "scores",
            "session",
            "trace_tree"
        ],
        "{}",
        r.client
    );
    for tool in tools {
        assert!(
            tool["description"].as_str().is_some_and(|d| d.len() > 40),
            "{tool}"
        );
        let schema = &tool["input_schema"];
        assert_eq!(schema["type"], "object", "{tool}");
        for (name, property) in schema["properties"].as_object().expect("properties") {
            assert!(
                property["description"].is_string(),
                "{}: {name} has no description",
                tool["name"]
            );
        }
        let read_only = tool["name"] != "add_score";
        assert_eq!(
            tool["annotations"]["readOnlyHint"],
            json!(read_only),
            "{tool}"
        );
        if !read_only {
            assert_eq!(tool["annotations"]["idempotentHint"], json!(true), "{tool}");
        }
    }
    let limit = &tools
        .iter()
        .find(|t| t["name"] == "find_traces")
        .expect("find_traces")["input_schema"]["properties"]["limit"];
    assert!(
        limit["description"]
            .as_str()
            .unwrap_or_default()
            .contains("200"),
        "{limit}"
    );

    // find_traces: newest first, paged by the cursor.
    let newest = r.ok("server", "newest");
    let ids = |answer: &Value| -> Vec<String> {
        answer["traces"]
            .as_array()
            .expect("traces")
            .iter()
            .map(|t| t["trace_id"].as_str().expect("id").to_string())
            .collect()
    };
    assert_eq!(ids(&newest), t.newest[..2], "{}", r.client);
    assert!(newest["next_cursor"].is_string(), "{newest}");
    assert_eq!(ids(&r.ok("server", "next"))[0], t.newest[2], "{}", r.client);
    let errors = r.ok("server", "errors");
    let errors = errors["traces"].as_array().expect("traces");
    assert!(errors.len() >= 2, "{errors:?}");
    assert!(errors.iter().all(|t| t["status"] == "ERROR"), "{errors:?}");
    let spans: Vec<i64> = errors
        .iter()
        .map(|t| t["span_count"].as_i64().unwrap())
        .collect();
    assert!(
        spans.windows(2).all(|w| w[0] >= w[1]),
        "sorted by spans: {spans:?}"
    );
    assert!(
        errors.iter().all(|t| t.get("sort_key").is_none()),
        "{errors:?}"
    );
    let found = ids(&r.ok("server", "search"));
    assert_eq!(
        found.len() as i64,
        t.found,
        "{} searched {SEARCH:?}: {found:?}",
        r.client
    );
    assert!(t.found > 1);

    // trace_tree: the tree, cut texts, the scores, the limit, errors as the tool's.
    let tree = r.ok("server", "tree");
    assert_eq!(tree["trace"]["trace_id"], json!(t.content_trace));
    let roots = tree["tree"].as_array().expect("tree");
    let count = |nodes: &Vec<Value>| -> usize {
        fn walk(nodes: &[Value]) -> usize {
            nodes
                .iter()
                .map(|n| 1 + n["children"].as_array().map_or(0, |c| walk(c)))
                .sum()
        }
        walk(nodes)
    };
    let span_count = db
        .number(&format!(
            "SELECT span_count::bigint FROM agent_trace.agent_traces WHERE trace_id = '{}'",
            t.content_trace
        ))
        .await;
    assert_eq!(count(roots) as i64, span_count, "{}: {tree}", r.client);
    assert!(roots[0]["children"].is_array(), "nested: {tree}");
    let texts = tree.to_string();
    assert!(!texts.contains("\"depth\""), "{texts}");
    fn has_null(value: &Value) -> bool {
        match value {
            Value::Null => true,
            Value::Array(items) => items.iter().any(has_null),
            Value::Object(fields) => fields.values().any(has_null),
            _ => false,
        }
    }
    assert!(!has_null(&tree), "no null fields: {texts}");
    let full = r.ok("server", "tree_full");
    let longest = |answer: &Value| -> usize {
        fn walk(nodes: &[Value], longest: &mut usize) {
            for node in nodes {
                for field in ["input", "output"] {
                    if let Some(text) = node[field].as_str() {
                        *longest = (*longest).max(text.chars().count());
                    }
                }
                if let Some(children) = node["children"].as_array() {
                    walk(children, longest);
                }
            }
        }
        let mut longest = 0;
        walk(answer["tree"].as_array().expect("tree"), &mut longest);
        longest
    };
    assert!(longest(&tree) <= 200, "cut to 200: {}", longest(&tree));
    assert!(longest(&full) > 200, "full: {}", longest(&full));
    assert!(texts.contains("input_chars"), "lengths given: {texts}");
    let big = r.ok("server", "tree_big");
    assert_eq!(count(big["tree"].as_array().unwrap()), 50, "{}", r.client);
    assert!(t.big_trace_spans > 50);
    assert!(big["truncated"].is_string(), "{}", big["truncated"]);
    let chained = r.ok("server", "tree_chained");
    assert_eq!(chained["trace"]["trace_id"], json!(t.newest[0]));
    r.sqlstate("server", "tree_bad_id", "22P02");
    r.says("server", "tree_missing", "no trace");

    // get_span: everything, uncut.
    let span = r.ok("server", "span");
    assert_eq!(span["span"]["span_id"], json!(t.span));
    assert!(span["span"]["attributes"].is_object(), "{span}");
    let input_chars = db
        .number(&format!(
            "SELECT length(input)::bigint FROM agent_trace.agent_spans WHERE trace_id = '{}' AND span_id = '{}' LIMIT 1",
            t.content_trace, t.span
        ))
        .await;
    assert_eq!(
        span["span"]["input"]
            .as_str()
            .expect("input")
            .chars()
            .count() as i64,
        input_chars
    );

    // diff_traces: both traces, the summary with its first divergence, the aligned rows.
    let diff = r.ok("server", "diff");
    assert_eq!(diff["a"]["trace_id"], json!(t.failed.0));
    assert_eq!(diff["b"]["trace_id"], json!(t.failed.1));
    assert!(diff["summary"].is_object(), "{diff}");
    assert!(!diff["rows"].as_array().expect("rows").is_empty(), "{diff}");

    // session: its sums and one page of runs.
    let session = r.ok("server", "session");
    assert_eq!(session["session"][0]["session_id"], json!(t.session));
    assert_eq!(session["session"][0]["traces"], json!(t.session_runs));
    assert_eq!(session["runs"].as_array().expect("runs").len(), 1);
    assert_eq!(
        session["next_cursor"].is_string(),
        t.session_runs > 1,
        "{session}"
    );

    // add_score, once however often; its refusals.
    let score = r.ok("server", "score");
    assert_eq!(score["project"], "default");
    assert_eq!(
        score["score_key"],
        r.ok("server", "score_again")["score_key"]
    );
    r.ok("server", "score_span");
    r.says("server", "score_no_span", "no span");
    // The tree shows the trace's scores, and says when spans were left out.
    let scored = r.ok("server", "tree_scored");
    let names: Vec<&str> = scored["scores"]
        .as_array()
        .expect("scores")
        .iter()
        .filter_map(|s| s["name"].as_str())
        .collect();
    assert_eq!(names, ["helpfulness", "relevance"], "{scored}");
    assert!(scored["truncated"].is_string(), "{scored}");
    r.says("server", "score_nothing", "a value, a label");
    r.sqlstate("server", "score_nan_name", "22023");
    let scores = r.ok("server", "scores");
    let given = scores["scores"].as_array().expect("scores");
    assert!(
        given.iter().any(|s| s["name"] == "helpfulness"
            && s["label"] == "thumbs_down"
            && s["explanation"] == "wrong city"
            && s["source"] == "human"),
        "{scores}"
    );
    assert!(
        given
            .iter()
            .any(|s| s["name"] == "relevance" && s["span_id"] == json!(t.span)),
        "{scores}"
    );
    assert!(
        scores["by_name"].as_array().is_some_and(|n| n.len() == 2),
        "{scores}"
    );
    // find_traces by score: the runs scored so, and no other.
    for id in ["find_scored", "find_thumbs"] {
        let found = r.ok("server", id);
        let ids: Vec<&str> = found["traces"]
            .as_array()
            .expect("traces")
            .iter()
            .filter_map(|t| t["trace_id"].as_str())
            .collect();
        assert_eq!(ids, [t.content_trace.as_str()], "{id}: {found}");
    }
    r.says("server", "find_score_bound_alone", "give score too");
    let by_name = r.ok("server", "scores_by_name");
    assert!(
        by_name["scores"]
            .as_array()
            .expect("scores")
            .iter()
            .all(|s| s["name"] == "relevance"),
        "{by_name}"
    );

    // query: answers, caps, and every attack a tool error with its SQLSTATE.
    let stats = r.ok("server", "stats");
    assert_eq!(stats["columns"], json!(["name", "scores", "labels"]));
    assert!(
        stats["rows"].as_array().expect("rows").contains(&json!([
            "helpfulness",
            1,
            "{\"thumbs_down\": 1.0000}"
        ])),
        "{stats}"
    );
    let traces = db
        .number("SELECT count(*) FROM agent_trace.agent_traces")
        .await;
    assert_eq!(r.ok("server", "unqualified")["rows"], json!([[traces]]));
    let capped = r.ok("server", "capped");
    assert_eq!(capped["row_count"], json!(SQL_MAX_ROWS));
    assert_eq!(capped["truncated"], json!(true));
    let less = r.ok("server", "capped_less");
    assert_eq!(less["rows"], json!([[1], [2], [3]]));
    r.sqlstate("server", "insert", "25006");
    r.sqlstate("server", "create", "25006");
    r.sqlstate("server", "read_write", "25001");
    r.sqlstate("server", "two", "42601");
    r.says("server", "commit", "transaction control");
    r.sqlstate("server", "sleep", "57014");
    r.sqlstate("server", "sleep_unset", "57014");
    r.ok("server", "reset_role");
    r.sqlstate("server", "set_role_writer", "42501");
    r.sqlstate("server", "syntax", "42601");
    let after = r.ok("server", "after_attacks");
    assert_eq!(after["rows"], json!([["agent_trace_viewer", "on"]]));
    let long = r.ok("server", "long_value");
    let long = long["rows"][0][0].as_str().expect("text");
    assert!(long.ends_with("(9000 characters)"), "{long}");
    assert_eq!(long.chars().filter(|c| *c == 'x').count(), 8000);
    let capped = r.ok("server", "bytes_capped");
    let rows = capped["row_count"].as_u64().expect("count");
    assert!(
        (30..50).contains(&rows),
        "256 KiB of 7,000-character rows: {rows}"
    );
    assert_eq!(capped["truncated"], json!(true));
    let doc = r.ok("server", "doc_stats");
    assert_eq!(doc["rows"][0][1], json!("weather_agent"), "{doc}");
    assert_eq!(doc["rows"][0][3], json!(1), "{doc}");
    assert_eq!(doc["rows"][0][4], json!(0.25), "{doc}");
    let doc = r.ok("server", "doc_thumbs_down");
    assert_eq!(
        doc["rows"],
        json!([[t.content_trace, "weather_agent", 0.0000495, "thumbs_down"]])
    );

    // A trace id in two projects: the score needs its project.
    r.says(
        "server",
        "score_two_projects",
        "several projects (default, acme)",
    );
    assert_eq!(r.ok("server", "score_in_acme")["project"], "acme");

    // A project's token: its own project's scores, nothing else.
    let project = r.session("project");
    assert_eq!(project["connected"], json!(true), "{project}");
    r.says("project", "read", "project's token");
    r.says("project", "sql", "project's token");
    assert_eq!(r.ok("project", "own")["project"], "acme");
    r.says("project", "other", "no trace");

    // A wrong or missing token: refused at the HTTP level (401) with a message the client shows;
    // nothing listed.
    for label in ["wrong_token", "no_token"] {
        let session = r.session(label);
        assert_eq!(session["connected"], json!(false), "{label}: {session}");
        assert!(session.get("tools").is_none(), "{label}: {session}");
        let statuses = session["http_statuses"].as_array().expect("statuses");
        assert!(
            !statuses.is_empty() && statuses.iter().all(|s| s == 401),
            "{}: {label}: {session}",
            r.client
        );
        let error = session["error"].as_str().unwrap_or_default();
        assert!(
            error.contains("bearer token"),
            "{}: {label}: {error}",
            r.client
        );
    }

    // Logins that could do more than read: the query tool refuses, saying why; the rest works.
    r.says("superuser_login", "sql", "superuser");
    r.ok("superuser_login", "read");
    r.says("writer_login", "sql", "agent_trace_writer");
    // A usage reader reads numbers, not content.
    r.sqlstate("usage_login", "content", "42501");
    r.sqlstate("usage_login", "tree", "42501");
    r.sqlstate("usage_login", "find", "42501");
    assert_eq!(
        r.ok("usage_login", "numbers")["columns"],
        json!(["traces", "tokens"])
    );
}

/// Web pages: a request with another Origin, or that the browser marks cross-site, is refused
/// before the token is looked at; the server's own origin is served. Without a token, only
/// loopback names are served (DNS rebinding).
#[tokio::test(flavor = "multi_thread")]
async fn web_pages_of_other_origins_cannot_use_mcp() {
    let db = TestDb::start("mcp-origin");
    let reader = db.cluster.viewer_connection_string();
    let with_token = serve(&db, &reader, &["--token", TOKEN]);
    let open = serve(&db, &reader, &[]);
    let initialize = json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
        "protocolVersion": "2025-06-18", "capabilities": {},
        "clientInfo": {"name": "curl-like", "version": "1"}}});
    let post = |server: &ServeProcess, headers: &[(&str, &str)]| {
        let mut request = reqwest::Client::new()
            .post(server.url("/mcp"))
            .header("content-type", "application/json")
            .header("accept", "application/json, text/event-stream")
            .body(initialize.to_string());
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        request.send()
    };
    let bearer = format!("Bearer {TOKEN}");
    let own = format!("http://{}", with_token.http);
    type Case<'a> = (&'a ServeProcess, Vec<(&'a str, &'a str)>, u16);
    let cases: [Case; 10] = [
        (&with_token, vec![("authorization", &bearer)], 200),
        (
            &with_token,
            vec![("authorization", &bearer), ("origin", &own)],
            200,
        ),
        (&with_token, vec![], 401),
        (
            &with_token,
            vec![("authorization", "Bearer wrong-token-0123456789")],
            401,
        ),
        (
            &with_token,
            vec![
                ("authorization", &bearer),
                ("origin", "http://evil.example"),
            ],
            403,
        ),
        (
            &with_token,
            vec![("authorization", &bearer), ("origin", "null")],
            403,
        ),
        (
            &with_token,
            vec![("authorization", &bearer), ("sec-fetch-site", "cross-site")],
            403,
        ),
        (
            &with_token,
            vec![("authorization", &bearer), ("sec-fetch-site", "same-site")],
            403,
        ),
        (&open, vec![], 200),
        (&open, vec![("host", "attacker.example")], 403),
    ];
    for (server, headers, status) in cases {
        let response = post(server, &headers).await.expect("request");
        assert_eq!(response.status().as_u16(), status, "{headers:?}");
        if status == 401 {
            assert_eq!(
                response.headers()["www-authenticate"],
                "Bearer realm=\"agent-trace\""
            );
        }
        if status == 200 {
            let body: Value =
                serde_json::from_str(&response.text().await.expect("body")).expect("JSON");
            assert_eq!(
                body["result"]["serverInfo"]["name"], "agent-trace",
                "{body}"
            );
        }
    }
    // A preflight from another origin is refused too (and so the page's request never follows).
    let preflight = reqwest::Client::new()
        .request(reqwest::Method::OPTIONS, with_token.url("/mcp"))
        .header("origin", "http://evil.example")
        .header("access-control-request-method", "POST")
        .header(
            "access-control-request-headers",
            "authorization, content-type",
        )
        .send()
        .await
        .expect("preflight");
    assert_eq!(preflight.status().as_u16(), 403);
    assert!(
        preflight
            .headers()
            .get("access-control-allow-origin")
            .is_none()
    );
}

/// Guessing tokens: after a burst of wrong ones, an address is answered 429 without a look at its
/// token, the right one too (crate::auth's throttle, shared with OTLP and the viewer).
#[tokio::test(flavor = "multi_thread")]
async fn wrong_tokens_are_throttled() {
    let db = TestDb::start("mcp-throttle");
    let server = serve(
        &db,
        &db.cluster.viewer_connection_string(),
        &["--token", TOKEN],
    );
    let post = |authorization: &str| {
        reqwest::Client::new()
            .post(server.url("/mcp"))
            .header("content-type", "application/json")
            .header("accept", "application/json, text/event-stream")
            .header("authorization", authorization)
            .body(r#"{"jsonrpc":"2.0","id":1,"method":"ping"}"#)
            .send()
    };
    let mut statuses = Vec::new();
    for _ in 0..=ingest::auth::throttle::BURST {
        let response = post("Bearer wrong-token-0123456789")
            .await
            .expect("request");
        statuses.push(response.status().as_u16());
    }
    assert_eq!(statuses.last(), Some(&429), "{statuses:?}");
    assert!(
        statuses[..statuses.len() - 1].iter().all(|s| *s == 401),
        "{statuses:?}"
    );
    let right = post(&format!("Bearer {TOKEN}")).await.expect("request");
    assert_eq!(right.status().as_u16(), 429);
    assert!(right.headers().get("retry-after").is_some());
}

/// `--no-mcp` turns it off (and `/mcp` is the port's 404); the flags name their variables.
#[tokio::test(flavor = "multi_thread")]
async fn the_mcp_flags_are_documented_and_turn_it_off() {
    for command in ["serve", "up"] {
        let output = Command::new(env!("CARGO_BIN_EXE_agent-trace"))
            .args([command, "--help"])
            .output()
            .expect("run agent-trace");
        let help = String::from_utf8_lossy(&output.stdout);
        for flag in [
            "--no-mcp",
            "AGENT_TRACE_NO_MCP",
            "--mcp-sql-timeout-ms",
            "AGENT_TRACE_MCP_SQL_TIMEOUT_MS",
            "--mcp-sql-max-rows",
            "AGENT_TRACE_MCP_SQL_MAX_ROWS",
        ] {
            assert!(
                help.contains(flag),
                "{command} --help names {flag}:\n{help}"
            );
        }
    }
    let db = TestDb::start("mcp-off");
    let off = serve(&db, &db.cluster.viewer_connection_string(), &["--no-mcp"]);
    let response = reqwest::Client::new()
        .post(off.url("/mcp"))
        .header("content-type", "application/json")
        .body("{}")
        .send()
        .await
        .expect("request");
    assert_eq!(response.status().as_u16(), 404);
    // The viewer is still there.
    let page = reqwest::get(off.url("/")).await.expect("request");
    assert_eq!(page.status().as_u16(), 200);
}
