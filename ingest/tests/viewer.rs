//! The web viewer on real parts: a PostgreSQL 15 cluster with every captured request posted through
//! the real server (`server::serve`, viewer on), then its JSON API over HTTP, its token and login, its
//! least privilege, its live stream, scores (shown, filtered, and added under the token rules), and
//! the whole front end in Debian's headless Chromium (`viewer/e2e/viewer.e2e.mjs`,
//! `scores.e2e.mjs`, and pages of another origin attacking it: `cross-origin.e2e.mjs`,
//! `cross-origin-scores.e2e.mjs`; `scripts/install-viewer-deps.sh` installs the browser and the npm
//! packages it needs).

mod common;

use common::{TestDb, repo_root};
use ingest::auth::{Auth, Tokens};
use ingest::fixtures;
use ingest::otlp::Limits;
use ingest::server::{self, Listen, ServeConfig};
use ingest::viewer::ViewerConfig;
use ingest::write::WriterConfig;
use reqwest::StatusCode;
use reqwest::redirect::Policy;
use serde_json::Value;
use std::path::Path;
use std::time::Duration;

const PY_RUN: &str = "8bef85e718690b4f738c3d7e267a185e";
const OPENINFERENCE: &str = "70bd3471974e8d134eebca919adaa71f";
const CODEX_TURN: &str = "753bd5bf6b1a2d630970c6de86d46ad2";

/// `agent-trace serve` with the viewer, in this process, until stopped.
struct ViewerServer {
    base: String,
    token: Option<String>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<Result<(), String>>>,
}

impl ViewerServer {
    async fn start(db: &TestDb, token: Option<&str>, viewer_database_url: Option<String>) -> Self {
        Self::start_writing_to(db.url(), token, viewer_database_url).await
    }

    async fn start_writing_to(
        database_url: String,
        token: Option<&str>,
        viewer_database_url: Option<String>,
    ) -> Self {
        // Bound here and handed over: the port is the server's from now on, and a request waits
        // in the listen queue until it serves.
        let bind = || std::net::TcpListener::bind("127.0.0.1:0").expect("bind a port");
        let (http_listener, grpc_listener) = (bind(), bind());
        let http = http_listener.local_addr().expect("address");
        let config = ServeConfig {
            http_listen: Listen::Bound(http_listener),
            grpc_listen: Listen::Bound(grpc_listener),
            tokens: token.map(Tokens::one).unwrap_or_default(),
            allow_public_without_token: false,
            limits: Limits::DEFAULT,
            tls: None,
            viewer: Some(ViewerConfig {
                database_url: viewer_database_url,
            }),
            mcp: None,
            redaction: Default::default(),
            maintenance_interval: None,
        };
        let writer = WriterConfig {
            pool_size: 4,
            ..WriterConfig::new(database_url)
        };
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            server::serve(config, &writer, async move {
                let _ = stopped.await;
            })
            .await
        });
        let base = format!("http://{http}");
        Self {
            base,
            token: token.map(String::from),
            stop: Some(stop),
            task: Some(task),
        }
    }

    /// A client that sends the token (when there is one) and follows no redirects.
    fn client(&self) -> reqwest::Client {
        let mut headers = reqwest::header::HeaderMap::new();
        if let Some(token) = &self.token {
            let value = format!("Bearer {token}").parse().expect("header value");
            headers.insert(reqwest::header::AUTHORIZATION, value);
        }
        reqwest::Client::builder()
            .default_headers(headers)
            .redirect(Policy::none())
            .build()
            .expect("client")
    }

    async fn get(&self, path: &str) -> (StatusCode, Value) {
        let response = self
            .client()
            .get(format!("{}{path}", self.base))
            .send()
            .await
            .expect("request");
        let status = response.status();
        let text = response.text().await.unwrap_or_default();
        let body = serde_json::from_str(&text).unwrap_or(Value::Null);
        (status, body)
    }

    /// GET that must answer 200; its JSON.
    async fn json(&self, path: &str) -> Value {
        let (status, body) = self.get(path).await;
        assert_eq!(status, StatusCode::OK, "GET {path}: {body}");
        body
    }

    /// Every captured request (traces, logs, metrics), as its client sent it.
    async fn post_every_fixture(&self) {
        let client = self.client();
        for fixture in ["traces", "logs", "metrics"]
            .into_iter()
            .flat_map(fixtures::load)
        {
            let mut request = client
                .post(format!("{}{}", self.base, fixture.path))
                .body(fixture.body.clone());
            if let Some(content_type) = &fixture.content_type {
                request = request.header("content-type", content_type);
            }
            if let Some(encoding) = &fixture.content_encoding {
                request = request.header("content-encoding", encoding);
            }
            let status = request.send().await.expect("post").status();
            assert_eq!(status, StatusCode::OK, "{}", fixture.name);
        }
    }

    /// Stops the server and waits for it: it must stop, also with a live stream open.
    async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            let result = tokio::time::timeout(Duration::from_secs(15), task)
                .await
                .expect("the server stops within 15 s")
                .expect("server task");
            result.expect("the server ran");
        }
    }
}

impl Drop for ViewerServer {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

async fn loaded(name: &str, token: Option<&str>) -> (TestDb, ViewerServer) {
    let db = TestDb::start(name);
    let server = ViewerServer::start(&db, token, None).await;
    server.post_every_fixture().await;
    (db, server)
}

fn rows<'a>(answer: &'a Value, part: &str) -> &'a Vec<Value> {
    answer[part]
        .as_array()
        .unwrap_or_else(|| panic!("{part} is an array: {answer}"))
}

fn names(rows: &[Value], column: &str) -> Vec<String> {
    rows.iter()
        .map(|row| row[column].as_str().unwrap_or_default().to_string())
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn the_api_answers_each_view_from_the_sql_api() {
    let (db, server) = loaded("viewer-api", None).await;
    let all_traces = db
        .number("SELECT count(*) FROM agent_trace.agent_traces")
        .await;

    // The list, newest first, page by page with the keyset cursor: every trace once, in order.
    let mut seen = Vec::new();
    let mut path = "/api/traces?limit=7".to_string();
    loop {
        let page = server.json(&path).await;
        let traces = rows(&page, "traces");
        seen.extend(traces.iter().cloned());
        if traces.len() < 7 {
            break;
        }
        let last = traces.last().expect("a row");
        path = format!(
            "/api/traces?limit=7&after={}&after_id={}",
            urlencode(last["start_time"].as_str().expect("start_time")),
            last["trace_id"].as_str().expect("trace_id")
        );
    }
    assert_eq!(seen.len() as i64, all_traces);
    let ids = names(&seen, "trace_id");
    let mut unique = ids.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), ids.len(), "no trace twice across pages");
    let starts = names(&seen, "start_time");
    assert!(starts.windows(2).all(|w| w[0] >= w[1]), "newest first");
    let py = seen
        .iter()
        .find(|row| row["trace_id"] == PY_RUN)
        .expect("the Python agent run");
    assert_eq!(py["input_tokens"], 280);
    assert_eq!(py["computed_cost_usd"].as_f64(), Some(0.000075));

    // Another order, also paged: by spans, most first.
    let first = server.json("/api/traces?sort=spans&limit=2").await;
    assert_eq!(names(rows(&first, "traces"), "trace_id")[0], CODEX_TURN);
    let last = &rows(&first, "traces")[1];
    let second = server
        .json(&format!(
            "/api/traces?sort=spans&limit=2&after={}&after_id={}",
            last["sort_key"],
            last["trace_id"].as_str().expect("id")
        ))
        .await;
    let spans: Vec<i64> = [rows(&first, "traces"), rows(&second, "traces")]
        .into_iter()
        .flatten()
        .map(|row| row["span_count"].as_i64().expect("span_count"))
        .collect();
    assert_eq!(spans, [220, 113, 53, 5], "by span count, descending");

    // Filters: a session, a model (of any span), a status, free text.
    let conv = server.json("/api/traces?session=conv-42").await;
    assert_eq!(rows(&conv, "traces").len(), 3);
    let model = server.json("/api/traces?model=claude-sonnet-4-5").await;
    assert!(
        names(rows(&model, "traces"), "name")
            .iter()
            .all(|n| n == "claude_code.interaction")
    );
    assert_eq!(rows(&model, "traces").len(), 3);
    let failed = server.json("/api/traces?status=ERROR&q=WEATHER").await;
    assert!(!rows(&failed, "traces").is_empty());
    assert!(
        rows(&failed, "traces")
            .iter()
            .all(|r| r["status"] == "ERROR")
    );
    // Every filter, through both list queries (newest first: trace_list.sql; another order:
    // trace_list_sorted.sql, which repeats the filter block): exactly the traces the filter's SQL
    // meaning selects, which are some of the traces and not all.
    let all: std::collections::BTreeSet<String> = names(&seen, "trace_id").into_iter().collect();
    let client = db.client().await;
    let value_of = |column: &str| {
        format!(
            "SELECT {column}::text FROM agent_trace.agent_traces WHERE {column} IS NOT NULL
          GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1"
        )
    };
    let mut filters = Vec::new();
    for (param, column) in [
        ("service", "service_name"),
        ("agent", "agent_name"),
        ("user", "user_id"),
        ("session", "session_id"),
        ("status", "status"),
    ] {
        let value: String = client
            .query_one(&value_of(column), &[])
            .await
            .expect(column)
            .get(0);
        filters.push((param, value.clone(), format!("{column} = '{value}'")));
    }
    filters.push((
        "model",
        "claude-sonnet-4-5".to_string(),
        "EXISTS (SELECT FROM agent_trace.agent_spans s WHERE s.trace_id = t.trace_id \
         AND s.model = 'claude-sonnet-4-5')"
            .to_string(),
    ));
    filters.push((
        "q",
        "WEATHER".to_string(),
        "(name ILIKE '%weather%' OR input ILIKE '%weather%' OR output ILIKE '%weather%')"
            .to_string(),
    ));
    for (param, value, meaning) in &filters {
        let expected: std::collections::BTreeSet<String> = client
            .query(
                &format!("SELECT trace_id::text FROM agent_trace.agent_traces t WHERE {meaning}"),
                &[],
            )
            .await
            .expect(meaning)
            .iter()
            .map(|row| row.get(0))
            .collect();
        assert!(
            !expected.is_empty() && expected.len() < all.len(),
            "{param}={value} selects {} of {} traces: it shows nothing",
            expected.len(),
            all.len()
        );
        for order in ["", "&sort=duration", "&sort=cost&order=asc"] {
            let answer = server
                .json(&format!(
                    "/api/traces?limit=500&{param}={}{order}",
                    urlencode(value)
                ))
                .await;
            let got: std::collections::BTreeSet<String> =
                names(rows(&answer, "traces"), "trace_id")
                    .into_iter()
                    .collect();
            assert_eq!(got, expected, "{param}={value}{order}");
        }
    }

    let facets = server.json("/api/facets").await;
    assert!(
        rows(&facets, "facets")
            .iter()
            .any(|f| f["facet"] == "model" && f["value"] == "gpt-5-codex")
    );

    // The SQL shown with an answer runs in psql as it stands, and gives the same rows.
    let shown = conv["sql"][0]["sql"].as_str().expect("sql");
    assert!(shown.contains("'conv-42'::text"), "{shown}");
    let again = db
        .client()
        .await
        .query(shown, &[])
        .await
        .expect("the shown SQL runs");
    assert_eq!(again.len(), 3);

    // A trace: its row, tree, critical path, turns, logs; a span in full.
    let trace = server.json(&format!("/api/traces/{PY_RUN}")).await;
    assert_eq!(trace["trace"]["input_tokens"], 280);
    assert_eq!(
        names(rows(&trace, "tree"), "name")[3],
        "http GET weather-backend"
    );
    assert_eq!(rows(&trace, "critical_path").len(), 5);
    assert_eq!(rows(&trace, "turns").len(), 3);
    let names_of_queries = names(trace["sql"].as_array().expect("sql"), "name");
    assert_eq!(
        names_of_queries,
        [
            "trace",
            "trace_tree",
            "critical_path",
            "turns",
            "trace_logs",
            "trace_scores",
            "trace_score_summary"
        ]
    );
    let span = server
        .json(&format!("/api/traces/{PY_RUN}/spans/b44a6bb020e2d6c6"))
        .await;
    assert_eq!(rows(&span, "spans")[0]["input"], "{\"city\":\"Paris\"}");
    let turn = server
        .json(&format!("/api/traces/{CODEX_TURN}/turns"))
        .await;
    let dispatch = rows(&turn, "turns")
        .iter()
        .find(|t| t["name"] == "op.dispatch.turn_input")
        .expect("the turn with the model call");
    let scoped = server
        .json(&format!(
            "/api/traces/{CODEX_TURN}?span={}",
            dispatch["turn_span_id"].as_str().expect("span")
        ))
        .await;
    assert_eq!(rows(&scoped, "tree").len(), 212);

    // A diff: deltas and the first divergence, as diff_summary gives them.
    let diff = server
        .json(&format!("/api/diff?a={PY_RUN}&b={OPENINFERENCE}"))
        .await;
    assert_eq!(diff["summary"]["input_tokens_delta"], -154);
    assert_eq!(diff["summary"]["first_divergence_step"], 2);
    assert_eq!(diff["summary"]["first_divergence_kind"], "removed");
    assert_eq!(rows(&diff, "rows").len(), 8);

    // A replay: steps with previews, one step in full, the document as a download.
    let replay = server.json(&format!("/api/traces/{PY_RUN}/replay")).await;
    assert_eq!(rows(&replay, "steps").len(), 5);
    let step = server.json(&format!("/api/traces/{PY_RUN}/replay/3")).await;
    assert_eq!(step["step"]["tool_arguments"], "{\"city\":\"Paris\"}");
    let download = server
        .client()
        .get(format!("{}/api/traces/{PY_RUN}/replay.json", server.base))
        .send()
        .await
        .expect("download");
    assert_eq!(
        download.headers()["content-disposition"],
        format!("attachment; filename=\"replay-{PY_RUN}.json\"").as_str()
    );
    let document: Value =
        serde_json::from_str(&download.text().await.expect("body")).expect("a JSON document");
    assert_eq!(document["steps"][1]["result"]["temp_c"], 21);

    // Sessions and usage.
    let sessions = server.json("/api/sessions?tool=Claude%20Code").await;
    let claude = rows(&sessions, "sessions");
    assert_eq!(claude.len(), 3);
    // PostgreSQL renders the JSON, so a numeric keeps every digit it has in psql.
    let raw = server
        .client()
        .get(format!("{}/api/sessions?tool=Claude%20Code", server.base))
        .send()
        .await
        .expect("sessions")
        .text()
        .await
        .expect("body");
    assert_eq!(
        raw.matches("\"cost_usd\":0.00076200000000000010").count(),
        3,
        "{raw}"
    );
    let usage = server.json("/api/usage?bucket=1%20day").await;
    let claude_tokens: i64 = rows(&usage, "tokens")
        .iter()
        .filter(|r| r["tool"] == "Claude Code")
        .map(|r| r["tokens"].as_i64().expect("tokens"))
        .sum();
    assert_eq!(
        claude_tokens,
        3 * (84 + 34),
        "three sessions of 84 + 34 tokens, from the counters"
    );
    assert!(
        rows(&usage, "calls").iter().any(
            |r| r["tool"] == "Gemini CLI" && r["computed_cost_usd"].as_f64() == Some(0.0002225)
        )
    );

    // Without a token the page offers no login or logout, and the embedded assets are served.
    let page = server
        .client()
        .get(format!("{}/", server.base))
        .send()
        .await
        .expect("page");
    let html = page.text().await.expect("html");
    assert!(html.contains(r#"<meta name="agent-trace-login" content="none">"#));
    for asset in ["app.js", "app.css", "favicon.svg"] {
        let response = server
            .client()
            .get(format!("{}/assets/{asset}", server.base))
            .send()
            .await
            .expect("asset");
        assert_eq!(response.status(), StatusCode::OK, "{asset}");
        assert!(
            !response.bytes().await.expect("bytes").is_empty(),
            "{asset}"
        );
    }

    // What it refuses: malformed values (PostgreSQL's own parsers say why), unknown things, an
    // order that is not one of the list's.
    let (status, body) = server.get("/api/traces/not-a-trace-id").await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert!(
        body["error"]
            .as_str()
            .unwrap_or_default()
            .contains("trace_id"),
        "{body}"
    );
    let (status, _) = server
        .get("/api/traces/00000000000000000000000000000001")
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = server.get("/api/traces?from=yesterday-ish").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, _) = server.get("/api/traces?sort=name;DROP%20TABLE%20x").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, _) = server.get("/api/traces?after=2026-01-01T00:00:00Z").await;
    assert_eq!(
        status,
        StatusCode::BAD_REQUEST,
        "a cursor needs both halves"
    );
    let (status, _) = server.get(&format!("/api/traces/{PY_RUN}/replay/99")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    // Text that looks like SQL is only ever a value.
    let quoted = server
        .json("/api/traces?q=%27%3B%20DELETE%20FROM%20agent_trace.agent_spans%3B--")
        .await;
    assert!(rows(&quoted, "traces").is_empty());
    assert_eq!(
        db.number("SELECT count(*) FROM agent_trace.agent_traces")
            .await,
        all_traces
    );
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn with_a_token_the_viewer_and_its_api_ask_for_it() {
    let db = TestDb::start("viewer-token");
    let server = ViewerServer::start(&db, Some("s3cret-token-0123456789"), None).await;
    let anonymous = reqwest::Client::builder()
        .redirect(Policy::none())
        .build()
        .expect("client");
    let url = |path: &str| format!("{}{path}", server.base);

    // No token: pages go to the login form, the API says 401, assets are not served either.
    let page = anonymous
        .get(url("/traces/abc?span=1"))
        .send()
        .await
        .expect("page");
    assert_eq!(page.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        page.headers()["location"],
        "/login?next=%2Ftraces%2Fabc%3Fspan%3D1"
    );
    let api = anonymous.get(url("/api/traces")).send().await.expect("api");
    assert_eq!(api.status(), StatusCode::UNAUTHORIZED);
    let asset = anonymous
        .get(url("/assets/app.js"))
        .send()
        .await
        .expect("asset");
    assert_eq!(asset.status(), StatusCode::SEE_OTHER);
    let login = anonymous
        .get(url("/login"))
        .send()
        .await
        .expect("login page");
    assert_eq!(login.status(), StatusCode::OK);
    assert!(login.text().await.expect("html").contains("name=\"token\""));

    // The API takes the bearer token, like OTLP.
    let (status, _) = server.get("/api/traces").await;
    assert_eq!(status, StatusCode::OK);

    // The login form: a wrong token is refused; the right one is kept in an HttpOnly,
    // SameSite=Strict cookie, and the browser goes back where it was headed (on this server only).
    let wrong = anonymous
        .post(url("/login?next=%2Fsessions"))
        .form(&[("token", "guess")])
        .send()
        .await
        .expect("login");
    assert_eq!(
        wrong.headers()["location"],
        "/login?next=%2Fsessions&wrong=1"
    );
    assert!(wrong.headers().get("set-cookie").is_none());
    let right = anonymous
        .post(url("/login?next=%2Fsessions"))
        .form(&[("token", "s3cret-token-0123456789")])
        .send()
        .await
        .expect("login");
    assert_eq!(right.headers()["location"], "/sessions");
    let cookie = right.headers()["set-cookie"]
        .to_str()
        .expect("cookie")
        .to_string();
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"),
        "{cookie}"
    );
    let pair = cookie.split(';').next().expect("name=value");
    for path in ["/", "/api/traces", "/assets/app.js"] {
        let response = anonymous
            .get(url(path))
            .header("cookie", pair)
            .send()
            .await
            .expect("with the cookie");
        assert_eq!(response.status(), StatusCode::OK, "{path}");
    }
    let elsewhere = anonymous
        .post(url("/login?next=%2F%2Fevil.example"))
        .form(&[("token", "s3cret-token-0123456789")])
        .send()
        .await
        .expect("login");
    assert_eq!(elsewhere.headers()["location"], "/");
    // A made-up session, or the token itself as a cookie (what the cookie used to hold), opens
    // nothing.
    for forged in [
        format!("agent_trace_session={}", "ab".repeat(32)),
        "agent_trace_token=s3cret-token-0123456789".to_string(),
        "agent_trace_session=s3cret-token-0123456789".to_string(),
    ] {
        let response = anonymous
            .get(url("/api/traces"))
            .header("cookie", forged.as_str())
            .send()
            .await
            .expect("forged");
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED, "{forged}");
    }

    // Pages allow nothing from elsewhere.
    let page = server.client().get(url("/")).send().await.expect("page");
    let policy = page.headers()["content-security-policy"]
        .to_str()
        .expect("csp")
        .to_string();
    assert!(
        policy.contains("default-src 'none'") && policy.contains("script-src 'self'"),
        "{policy}"
    );
    // The page says a login is required, so that it offers to log out.
    let html = page.text().await.expect("html");
    assert!(html.contains(r#"<meta name="agent-trace-login" content="required">"#));
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn the_viewer_needs_only_the_reader_role_and_cannot_write() {
    let db = TestDb::start("viewer-reader");
    db.execute(
        "CREATE ROLE viewer_login LOGIN PASSWORD 'viewer-test'; GRANT agent_trace_reader TO viewer_login;
         CREATE ROLE nobody_login LOGIN PASSWORD 'viewer-test';",
    )
    .await;
    // The test cluster asks for passwords (cli/cluster.rs): each login here has 'viewer-test'.
    let as_role = |role: &str| {
        let (_, host) = db
            .url()
            .split_once('@')
            .map(|(u, h)| (u.to_string(), h.to_string()))
            .expect("user@host");
        format!("postgresql://{role}:viewer-test@{host}")
    };
    assert_ne!(as_role("viewer_login"), db.url(), "the URL names its user");

    // A login without agent_trace_reader: the viewer says what to grant, at start.
    let refused =
        ingest::viewer::Viewer::connect(&as_role("nobody_login"), None, Auth::default()).await;
    let error = refused.err().expect("refused");
    assert!(error.contains("agent_trace_reader"), "{error}");

    // An ingest whose login may only write still serves OTLP when the viewer would read with it:
    // the viewer is left off (and says so), and / is OTLP's 404.
    db.execute("CREATE ROLE writer_login LOGIN PASSWORD 'viewer-test'; GRANT agent_trace_writer TO writer_login;")
        .await;
    let ingest_only = ViewerServer::start_writing_to(as_role("writer_login"), None, None).await;
    let (status, _) = ingest_only.get("/api/traces").await;
    assert_eq!(
        status,
        StatusCode::NOT_FOUND,
        "no viewer with a writer-only login"
    );
    let trace = fixtures::load("traces").remove(0);
    let stored = ingest_only
        .client()
        .post(format!("{}{}", ingest_only.base, trace.path))
        .header(
            "content-type",
            trace.content_type.as_deref().unwrap_or_default(),
        )
        .body(trace.body.clone())
        .send()
        .await
        .expect("post");
    assert_eq!(stored.status(), StatusCode::OK, "the ingest still writes");
    ingest_only.stop().await;
    db.clear().await;

    // A reader's login: every view works (the ingest writes with the superuser).
    let server = ViewerServer::start(&db, None, Some(as_role("viewer_login"))).await;
    server.post_every_fixture().await;
    for path in [
        "/api/traces".to_string(),
        "/api/facets".to_string(),
        format!("/api/traces/{PY_RUN}"),
        format!("/api/traces/{PY_RUN}/spans/b44a6bb020e2d6c6"),
        format!("/api/traces/{PY_RUN}/replay"),
        format!("/api/diff?a={PY_RUN}&b={OPENINFERENCE}"),
        "/api/sessions".to_string(),
        "/api/usage".to_string(),
    ] {
        server.json(&path).await;
    }

    // Each viewer connection runs read-only transactions as agent_trace_reader.
    let sessions = db
        .client()
        .await
        .query(
            "SELECT DISTINCT usename::text FROM pg_stat_activity WHERE usename = 'viewer_login'",
            &[],
        )
        .await
        .expect("pg_stat_activity");
    assert_eq!(
        sessions.len(),
        1,
        "the viewer's connections log in as viewer_login"
    );
    let reader = tokio_postgres::connect(&as_role("viewer_login"), tokio_postgres::NoTls)
        .await
        .expect("connect as the viewer");
    tokio::spawn(reader.1);
    let client = reader.0;
    let setup = [
        include_str!("../../sql/viewer/connection.sql"),
        include_str!("../../sql/viewer/read_as_reader.sql"),
    ];
    for sql in setup {
        client
            .batch_execute(sql)
            .await
            .expect("the viewer's session setup");
    }
    let write = client
        .batch_execute("DELETE FROM agent_trace.agent_traces")
        .await
        .expect_err("a viewer connection cannot write");
    let why = write
        .as_db_error()
        .map(|e| e.message().to_string())
        .unwrap_or_default();
    assert!(why.contains("read-only transaction"), "{why}");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn the_live_stream_tells_of_new_traces_and_ends_when_the_server_stops() {
    let db = TestDb::start("viewer-live");
    let server = ViewerServer::start(&db, None, None).await;
    let mut live = server
        .client()
        .get(format!("{}/api/live", server.base))
        .send()
        .await
        .expect("live stream");
    assert_eq!(live.headers()["content-type"], "text/event-stream");
    let first = next_event(&mut live).await;
    assert!(
        first.contains("event: head") && first.contains("data: []"),
        "{first}"
    );
    let trace = fixtures::load("traces")
        .into_iter()
        .find(|f| f.name.contains("cli_claude"))
        .expect("a Claude Code trace");
    let client = server.client();
    let mut request = client
        .post(format!("{}{}", server.base, trace.path))
        .body(trace.body.clone());
    if let Some(content_type) = &trace.content_type {
        request = request.header("content-type", content_type);
    }
    assert_eq!(request.send().await.expect("post").status(), StatusCode::OK);
    let second = next_event(&mut live).await;
    assert!(
        second.contains("event: head") && second.contains("trace_id"),
        "{second}"
    );
    // Stopping does not wait for the browser to close the stream.
    server.stop().await;
    let rest = tokio::time::timeout(Duration::from_secs(5), live.chunk())
        .await
        .expect("the stream ends");
    assert!(matches!(rest, Ok(None) | Err(_)), "{rest:?}");
}

/// The next server-sent event (skipping keep-alive comments), within 10 s.
async fn next_event(stream: &mut reqwest::Response) -> String {
    let mut text = String::new();
    tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            let chunk = stream.chunk().await.expect("chunk").expect("more events");
            text.push_str(&String::from_utf8_lossy(&chunk));
            if text.contains("\n\n") && text.contains("event:") {
                return;
            }
        }
    })
    .await
    .expect("an event within 10 s");
    text
}

fn urlencode(value: &str) -> String {
    value.replace(':', "%3A").replace('+', "%2B")
}

/// Every view in Debian's headless Chromium: `viewer/e2e/viewer.e2e.mjs` against this server, with
/// a token, after every captured request. Screenshots land in target/viewer-e2e/.
#[tokio::test(flavor = "multi_thread")]
async fn every_view_works_in_a_real_browser() {
    let root = repo_root();
    let playwright = root.join("viewer/node_modules/playwright-core");
    assert!(
        playwright.exists() && Path::new("/usr/bin/chromium").exists(),
        "the browser test needs Debian's chromium and the viewer's npm packages: run scripts/install-viewer-deps.sh (make test does)"
    );
    let (_db, server) = loaded("viewer-browser", Some("e2e-token-0123456789")).await;
    let artifacts = root.join("target/viewer-e2e");
    let base = server.base.clone();
    // node's test runner, with a time limit per test in the script; the server keeps serving on this
    // runtime while node runs on a blocking thread.
    let output = tokio::task::spawn_blocking(move || {
        std::process::Command::new("node")
            .args(["--test", "--test-reporter=spec", "--test-timeout=120000"])
            .arg("e2e/viewer.e2e.mjs")
            .current_dir(root.join("viewer"))
            .env("VIEWER_URL", base)
            .env("VIEWER_TOKEN", "e2e-token-0123456789")
            .env("ARTIFACTS", artifacts)
            .output()
    })
    .await
    .expect("the node task")
    .expect("run node");
    let report = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    println!("{report}");
    assert!(
        output.status.success(),
        "the browser test failed:\n{report}"
    );
    server.stop().await;
}

/// The viewer's flags are in `--help` with their environment variables, and the viewer's database
/// URL (which may hold a password) is never shown.
#[test]
fn the_viewer_flags_are_documented_and_the_url_stays_hidden() {
    for command in ["serve", "up"] {
        let output = std::process::Command::new(env!("CARGO_BIN_EXE_agent-trace"))
            .args([command, "--help"])
            .env(
                "AGENT_TRACE_VIEWER_DATABASE_URL",
                "postgresql://reader:s3cret@h/db",
            )
            .output()
            .expect("run agent-trace");
        assert!(output.status.success());
        let help = String::from_utf8_lossy(&output.stdout);
        for flag in [
            "--no-viewer",
            "AGENT_TRACE_NO_VIEWER",
            "--viewer-database-url",
            "AGENT_TRACE_VIEWER_DATABASE_URL",
        ] {
            assert!(
                help.contains(flag),
                "{command} --help names {flag}:\n{help}"
            );
        }
        assert!(
            !help.contains("s3cret"),
            "{command} --help shows the password:\n{help}"
        );
    }
}

/// A client bound to `local` (127.0.0.2 is loopback too on Linux: another client address), that
/// follows no redirects.
fn client_from(local: &str) -> reqwest::Client {
    reqwest::Client::builder()
        .local_address(local.parse::<std::net::IpAddr>().expect("an address"))
        .redirect(Policy::none())
        .build()
        .expect("client")
}

/// POST /login with `token`, `next` as sent in the query string (already URL-encoded).
async fn log_in(
    client: &reqwest::Client,
    base: &str,
    next: &str,
    token: &str,
) -> reqwest::Response {
    client
        .post(format!("{base}/login?next={next}"))
        .form(&[("token", token)])
        .send()
        .await
        .expect("login")
}

/// The `name=value` part of a response's Set-Cookie, and the whole header.
fn set_cookie(response: &reqwest::Response) -> (String, String) {
    let header = response
        .headers()
        .get("set-cookie")
        .expect("a Set-Cookie")
        .to_str()
        .expect("text")
        .to_string();
    let pair = header.split(';').next().expect("name=value").to_string();
    (pair, header)
}

/// `next` after login was checked for `//` and `\` only: `/\t/evil.example` (a tab, which
/// browsers drop from URLs, making it `//evil.example`) went to Location as is, and a line break
/// made the login answer 500. Now anything but a plain local path goes to `/`.
#[tokio::test(flavor = "multi_thread")]
async fn login_sends_the_browser_back_only_to_a_plain_local_path() {
    let db = TestDb::start("viewer-next");
    let token = "next-token-0123456789";
    let server = ViewerServer::start(&db, Some(token), None).await;
    let client = client_from("127.0.0.1");
    for (next, location) in [
        ("%2Fsessions", "/sessions"),
        ("%2Ftraces%2Fab%3Fspan%3D1", "/traces/ab?span=1"),
        ("%2F%09%2Fevil.example", "/"),
        ("%2F%0A%2Fevil.example", "/"),
        ("%2F%0D%0A%2Fevil.example", "/"),
        ("%2F%0D%0ASet-Cookie:%20x%3Dy", "/"),
        ("%2F%20%2Fevil.example", "/"),
        ("%2F%5Cevil.example", "/"),
        ("%5C%5Cevil.example", "/"),
        ("%2F%2Fevil.example", "/"),
        ("%09%2F%2Fevil.example", "/"),
        ("https%3A%2F%2Fevil.example", "/"),
        ("%2F%C3%A9", "/"),
    ] {
        let response = log_in(&client, &server.base, next, token).await;
        assert_eq!(response.status(), StatusCode::SEE_OTHER, "{next}");
        assert_eq!(response.headers()["location"], location, "{next}");
        assert!(response.headers().get("set-cookie").is_some(), "{next}");
    }
    // A wrong token goes back to the form, with the same `next` made safe.
    let response = log_in(&client, &server.base, "%2F%09%2Fevil.example", "wrong").await;
    assert_eq!(response.headers()["location"], "/login?next=%2F&wrong=1");
    server.stop().await;
}

/// The login cookie was the bearer token itself, without expiry. Now it is a random session id
/// that expires in 12 hours, HttpOnly, SameSite=Strict, Path=/; logging out makes the server
/// forget it, so a copy of the cookie taken before is worth nothing.
#[tokio::test(flavor = "multi_thread")]
async fn a_login_is_an_expiring_session_that_logging_out_ends() {
    let db = TestDb::start("viewer-session");
    let token = "session-token-0123456789";
    let server = ViewerServer::start(&db, Some(token), None).await;
    let client = client_from("127.0.0.1");
    let response = log_in(&client, &server.base, "%2F", token).await;
    assert_eq!(response.headers()["location"], "/");
    let (pair, header) = set_cookie(&response);
    let (name, value) = pair.split_once('=').expect("name=value");
    assert_eq!(name, "agent_trace_session");
    assert!(
        !value.contains(token) && !header.contains(token),
        "{header}"
    );
    assert!(
        value.len() == 64 && value.bytes().all(|b| b.is_ascii_hexdigit()),
        "32 random bytes in hex: {value}"
    );
    for attribute in ["HttpOnly", "SameSite=Strict", "Path=/", "Max-Age=43200"] {
        assert!(header.contains(attribute), "{attribute}: {header}");
    }
    assert!(!header.contains("Secure"), "plain HTTP: {header}");
    // Each login is a session of its own.
    let (second, _) = set_cookie(&log_in(&client, &server.base, "%2F", token).await);
    assert_ne!(second, pair);

    let get = |path: &'static str, cookie: String| {
        let request = client
            .get(format!("{}{path}", server.base))
            .header("cookie", cookie);
        async move { request.send().await.expect("GET").status() }
    };
    assert_eq!(get("/api/traces", pair.clone()).await, StatusCode::OK);
    assert_eq!(get("/", pair.clone()).await, StatusCode::OK);

    let logout = client
        .post(format!("{}/logout", server.base))
        .header("cookie", pair.clone())
        .send()
        .await
        .expect("logout");
    assert_eq!(logout.headers()["location"], "/login");
    let (cleared, header) = set_cookie(&logout);
    assert_eq!(cleared, "agent_trace_session=");
    assert!(header.contains("Max-Age=0"), "{header}");
    // The cookie from before the logout: the server forgot it.
    assert_eq!(
        get("/api/traces", pair.clone()).await,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(get("/", pair).await, StatusCode::SEE_OTHER);
    // The other session lives on.
    assert_eq!(get("/api/traces", second).await, StatusCode::OK);
    server.stop().await;
}

/// A session opened with a token ends when that token is rotated out of the token file (SIGHUP),
/// on its next use; a session of the token kept lives on.
#[tokio::test(flavor = "multi_thread")]
async fn a_session_ends_when_its_token_is_rotated_away() {
    let db = TestDb::start("viewer-rotate");
    let file =
        std::env::temp_dir().join(format!("agent-trace-viewer-rotate-{}", std::process::id()));
    let (old, new) = ("old-token-0123456789", "new-token-0123456789");
    std::fs::write(&file, format!("{old}\n{new}\n")).expect("token file");
    let mut server =
        common::ServeProcess::serve(&db, &["--token-file", file.to_str().expect("path")]);
    let base = format!("http://{}", server.http);
    let client = client_from("127.0.0.1");
    let (old_session, _) = set_cookie(&log_in(&client, &base, "%2F", old).await);
    let (new_session, _) = set_cookie(&log_in(&client, &base, "%2F", new).await);
    let status = |cookie: String| {
        let request = client
            .get(format!("{base}/api/traces"))
            .header("cookie", cookie);
        async move { request.send().await.expect("GET").status() }
    };
    assert_eq!(status(old_session.clone()).await, StatusCode::OK);
    assert_eq!(status(new_session.clone()).await, StatusCode::OK);

    std::fs::write(&file, format!("{new}\n")).expect("token file");
    server.signal("-HUP");
    server.wait_for_log("SIGHUP: tokens read again", Duration::from_secs(10));
    assert_eq!(status(old_session).await, StatusCode::UNAUTHORIZED);
    assert_eq!(status(new_session).await, StatusCode::OK);
    let _ = server.terminate();
    std::fs::remove_file(&file).expect("remove the token file");
}

/// Wrong tokens at the login form and on the API count against the client's address: past ten,
/// that address is answered 429 without its token being looked at, even the right one; another
/// address logs in as usual.
#[tokio::test(flavor = "multi_thread")]
async fn wrong_tokens_at_the_login_form_are_throttled_per_address() {
    let db = TestDb::start("viewer-throttle");
    let token = "throttle-token-0123456789";
    let server = ViewerServer::start(&db, Some(token), None).await;
    let guesser = client_from("127.0.0.1");
    for n in 0..5 {
        let response = log_in(&guesser, &server.base, "%2F", &format!("guess-{n}")).await;
        assert_eq!(response.headers()["location"], "/login?next=%2F&wrong=1");
    }
    for n in 0..5 {
        let response = guesser
            .get(format!("{}/api/traces", server.base))
            .bearer_auth(format!("guess-{n}"))
            .send()
            .await
            .expect("GET");
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    }
    let response = log_in(&guesser, &server.base, "%2F", token).await;
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(response.headers().get("set-cookie").is_none());
    let wait: u64 = response.headers()["retry-after"]
        .to_str()
        .expect("text")
        .parse()
        .expect("seconds");
    assert!((1..=6).contains(&wait), "{wait}");
    let response = guesser
        .get(format!("{}/api/traces", server.base))
        .bearer_auth(token)
        .send()
        .await
        .expect("GET");
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    let body: Value = serde_json::from_str(&response.text().await.expect("body")).expect("JSON");
    assert!(body["error"].as_str().is_some(), "{body}");

    let other = client_from("127.0.0.2");
    let response = log_in(&other, &server.base, "%2F", token).await;
    assert_eq!(response.headers()["location"], "/");
    let (session, _) = set_cookie(&response);
    let response = other
        .get(format!("{}/api/traces", server.base))
        .header("cookie", session)
        .send()
        .await
        .expect("GET");
    assert_eq!(response.status(), StatusCode::OK);
    server.stop().await;
}

/// Without a token, a page whose own name was rebound to 127.0.0.1 (DNS rebinding) sends that
/// name as Host: the viewer answers it 403 and nothing else, while loopback names are served.
#[tokio::test(flavor = "multi_thread")]
async fn a_rebound_name_reads_nothing() {
    let (_db, server) = loaded("viewer-rebinding", None).await;
    let port = server.base.rsplit(':').next().expect("a port").to_string();
    let client = server.client();
    let get = |path: String, host: String| {
        let request = client
            .get(format!("{}{path}", server.base))
            .header("host", host);
        async move {
            let response = request.send().await.expect("GET");
            let status = response.status();
            let content_type = response
                .headers()
                .get("content-type")
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .to_string();
            (status, content_type, response.text().await.expect("body"))
        }
    };
    let span = format!("/api/traces/{PY_RUN}/spans/b44a6bb020e2d6c6");
    for path in ["/api/traces".to_string(), span.clone()] {
        for host in [
            "attacker.example".to_string(),
            format!("attacker.example:{port}"),
        ] {
            let (status, content_type, body) = get(path.clone(), host.clone()).await;
            assert_eq!(status, StatusCode::FORBIDDEN, "{path} {host}");
            assert!(
                content_type.starts_with("application/json"),
                "{content_type}"
            );
            let error: Value = serde_json::from_str(&body).expect("JSON");
            assert!(error["error"].as_str().is_some(), "{body}");
            assert!(
                !body.contains(PY_RUN) && !body.contains("b44a6bb020e2d6c6"),
                "{body}"
            );
        }
    }
    let (status, content_type, body) = get("/".to_string(), "attacker.example".to_string()).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(content_type.starts_with("text/plain"), "{content_type}");
    assert!(!body.contains("<script"), "{body}");
    for host in [
        format!("127.0.0.1:{port}"),
        format!("localhost:{port}"),
        format!("[::1]:{port}"),
    ] {
        let (status, _, body) = get(span.clone(), host.clone()).await;
        assert_eq!(status, StatusCode::OK, "{host}: {body}");
        assert!(body.contains("b44a6bb020e2d6c6"), "{body}");
        let (status, _, body) = get("/api/traces".to_string(), host).await;
        assert_eq!(status, StatusCode::OK);
        assert!(body.contains(PY_RUN));
    }
    server.stop().await;
}

/// A page served by another loopback server (another origin) in a real headless Chromium
/// `fetch`es OTLP into agent-trace without a token, as `mode: 'no-cors'` allows without a
/// preflight: JSON as text/plain, protobuf bytes without a Content-Type, a Blob typed JSON (whose
/// type no-cors drops). Each reaches the server and is refused (403); nothing is stored. The same
/// spans POSTed by a client that is not a browser are stored.
#[tokio::test(flavor = "multi_thread")]
async fn a_web_page_of_another_origin_cannot_write_spans() {
    let root = repo_root();
    assert!(
        root.join("viewer/node_modules/playwright-core").exists()
            && Path::new("/usr/bin/chromium").exists(),
        "the browser test needs Debian's chromium and the viewer's npm packages: run scripts/install-viewer-deps.sh (make test does)"
    );
    let db = TestDb::start("viewer-cross-origin");
    let server = ViewerServer::start(&db, None, None).await;
    // The other origin: a second loopback HTTP server on another port, serving a blank page.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let page_url = format!("http://{}/", listener.local_addr().expect("address"));
    let page = axum::Router::new().route(
        "/",
        axum::routing::get(|| async {
            axum::response::Html("<!doctype html><title>another site</title><p>hello</p>")
        }),
    );
    let page_server = tokio::spawn(async move { axum::serve(listener, page).await });

    let json = serde_json::json!({"resourceSpans": [{"scopeSpans": [{"spans": [{
        "traceId": "5b8efff798038103d269b633813fc6ee", "spanId": "eee19b7ec3c1b1ee",
        "name": "written by a web page", "kind": 1,
        "startTimeUnixNano": "1765000000000000000", "endTimeUnixNano": "1765000001000000000"
    }]}]}]})
    .to_string();
    let request: opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest =
        serde_json::from_str(&json).expect("OTLP/JSON");
    let protobuf: String = prost::Message::encode_to_vec(&request)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let refused_before = refused_403(&server).await;

    let (base, script_json) = (server.base.clone(), json.clone());
    let output = tokio::task::spawn_blocking(move || {
        std::process::Command::new("node")
            .args(["--test", "--test-reporter=spec", "--test-timeout=60000"])
            .arg("e2e/cross-origin.e2e.mjs")
            .current_dir(root.join("viewer"))
            .env("TARGET_URL", base)
            .env("PAGE_URL", page_url)
            .env("OTLP_JSON", script_json)
            .env("OTLP_PROTOBUF_HEX", protobuf)
            .output()
    })
    .await
    .expect("the node task")
    .expect("run node");
    let report = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    println!("{report}");
    assert!(
        output.status.success(),
        "the browser test failed:\n{report}"
    );
    // Nothing the page sent was stored; its four requests reached the server and were refused.
    assert_eq!(
        db.number("SELECT count(*) FROM agent_trace.agent_spans")
            .await,
        0,
        "spans written by a page of another origin:\n{report}"
    );
    assert_eq!(refused_403(&server).await - refused_before, 4, "{report}");
    // The same spans from a client that is not a browser: stored.
    let answer = common::post_json(&format!("{}/v1/traces", server.base), &json, None).await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert_eq!(
        db.number("SELECT count(*) FROM agent_trace.agent_spans")
            .await,
        1
    );
    page_server.abort();
    server.stop().await;
}

/// OTLP/HTTP requests answered 403 so far, from the server's own metrics.
async fn refused_403(server: &ViewerServer) -> u64 {
    let text = server
        .client()
        .get(format!("{}/metrics", server.base))
        .send()
        .await
        .expect("GET /metrics")
        .text()
        .await
        .expect("metrics");
    text.lines()
        .filter(|line| {
            line.starts_with("agent_trace_requests_total{") && line.contains("status=\"403\"")
        })
        .filter_map(|line| line.rsplit(' ').next()?.parse::<f64>().ok())
        .sum::<f64>() as u64
}

/// A project's name and id, and a trace id in it and in the default project both.
const ACME_TRACE: &str = "ac0e000000000000000000000000a001";

/// A trace of one span, as OTLP/JSON.
fn one_span_trace(trace_id: &str, span_id: &str, name: &str) -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("a clock after 1970")
        .as_nanos();
    serde_json::json!({"resourceSpans": [{"scopeSpans": [{"spans": [{
        "traceId": trace_id, "spanId": span_id, "name": name, "kind": 1,
        "startTimeUnixNano": now.to_string(), "endTimeUnixNano": (now + 5_000_000).to_string()
    }]}]}]})
    .to_string()
}

/// POSTs a score: (status, JSON answer).
async fn post_score(
    base: &str,
    trace_id: &str,
    body: &str,
    headers: &[(&str, &str)],
) -> (StatusCode, Value) {
    let mut request = reqwest::Client::new()
        .post(format!("{base}/api/traces/{trace_id}/scores"))
        .body(body.to_string());
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let response = request.send().await.expect("POST a score");
    let status = response.status();
    let text = response.text().await.unwrap_or_default();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

/// The trace ids of the list's answer, as a set.
fn trace_ids(answer: &Value) -> std::collections::BTreeSet<String> {
    names(rows(answer, "traces"), "trace_id")
        .into_iter()
        .collect()
}

/// Scores end to end through the API, on real parts: the ingest writes as agent_trace_ingest (a
/// writer, BYPASSRLS) and the viewer reads as a reader's login (no write privilege, read-only
/// transactions), so a score that lands was written by the ingest's writer. The list shows each
/// trace's latest score per name and filters by name, value range and label in both of its
/// queries, paged; a trace, a diff and the score chart carry them. A person's score is stored with
/// source `human` into the trace's project; bad input is 400 (saying why), an unknown trace or span
/// 404, a wrong or missing token 401, another origin 403, each storing nothing; a project's token
/// scores its own project's traces only (another project's trace is 404, as a trace that does not
/// exist), and opens nothing else.
#[tokio::test(flavor = "multi_thread")]
async fn scores_are_shown_filtered_and_added_under_the_token_rules() {
    let db = TestDb::start("viewer-scores");
    db.execute(
        "CREATE ROLE viewer_login LOGIN PASSWORD 'viewer-test'; GRANT agent_trace_reader TO viewer_login;
         SELECT agent_trace.create_project('acme');
         SELECT agent_trace.grant_project('acme', 'viewer_login');",
    )
    .await;
    let acme_token: String = db
        .client()
        .await
        .query_one(
            "SELECT agent_trace.create_ingest_token('acme', 'acme agents')",
            &[],
        )
        .await
        .expect("a token")
        .get(0);
    let acme_id = db
        .number("SELECT project_id::bigint FROM agent_trace.projects WHERE name = 'acme'")
        .await;
    let host = db.url().split_once('@').expect("user@host").1.to_string();
    let reader = format!("postgresql://viewer_login:viewer-test@{host}");
    let token = "scores-token-0123456789";
    let server = ViewerServer::start_writing_to(db.writer_url(), Some(token), Some(reader)).await;
    server.post_every_fixture().await;
    let bearer = format!("Bearer {token}");
    let acme_bearer = format!("Bearer {acme_token}");
    // One trace id in two projects: sent with acme's token, and with the server's.
    for authorization in [&acme_bearer, &bearer] {
        let trace = one_span_trace(ACME_TRACE, "ac0e00000000a001", "acme run");
        let answer = common::post_json(
            &format!("{}/v1/traces", server.base),
            &trace,
            Some(authorization),
        )
        .await;
        assert_eq!(answer.status, 200, "{}", answer.body);
    }
    assert_eq!(
        db.number(&format!(
            "SELECT count(DISTINCT project_id) FROM agent_trace.agent_traces WHERE trace_id = '{ACME_TRACE}'"
        ))
        .await,
        2
    );
    db.execute(&format!(
        "SELECT agent_trace.add_score('{PY_RUN}', 'relevance', value => 0.3, source => 'llm',
                                      scorer => 'judge', scored_at => now() - interval '2 hours');
         SELECT agent_trace.add_score('{PY_RUN}', 'relevance', value => 0.8, source => 'llm',
                                      scored_at => now() - interval '1 day');
         SELECT agent_trace.add_score('{OPENINFERENCE}', 'relevance', value => 0.9, source => 'llm');
         SELECT agent_trace.add_score('{CODEX_TURN}', 'thumbs', value => 1, label => 'thumbs_up',
                                      source => 'end_user');
         SELECT agent_trace.add_score('{ACME_TRACE}', 'review', label => 'default-only',
                                      explanation => 'said of the default project''s run');"
    ))
    .await;

    // The list: each trace's latest score per name, null without any.
    let list = server.json("/api/traces?limit=500").await;
    let row_of = |id: &str| {
        rows(&list, "traces")
            .iter()
            .find(|row| row["trace_id"] == id)
            .cloned()
            .unwrap_or_else(|| panic!("{id} listed"))
    };
    assert_eq!(
        row_of(PY_RUN)["scores"],
        serde_json::json!([{"name": "relevance", "value": 0.3, "label": null}])
    );
    assert_eq!(
        row_of(CODEX_TURN)["scores"],
        serde_json::json!([{"name": "thumbs", "value": 1, "label": "thumbs_up"}])
    );
    // The trace id in two projects: each row shows its own project's scores.
    let mut two: Vec<String> = rows(&list, "traces")
        .iter()
        .filter(|row| row["trace_id"] == ACME_TRACE)
        .map(|row| row["scores"].to_string())
        .collect();
    two.sort();
    assert_eq!(
        two,
        [
            r#"[{"label":"default-only","name":"review","value":null}]"#,
            "null"
        ]
    );
    let sorted = server.json("/api/traces?limit=500&sort=spans").await;
    let py = rows(&sorted, "traces")
        .iter()
        .find(|row| row["trace_id"] == PY_RUN)
        .expect("listed");
    assert_eq!(py["scores"][0]["value"], 0.3, "the sorted list too");

    // The filter: any score of the name (of the run or a span) within the range, with the label;
    // the same through both list queries.
    let set = |ids: &[&str]| -> std::collections::BTreeSet<String> {
        ids.iter().map(|id| id.to_string()).collect()
    };
    for (filter, expected) in [
        ("score=relevance", set(&[PY_RUN, OPENINFERENCE])),
        ("score=relevance&score_max=0.5", set(&[PY_RUN])),
        ("score=relevance&score_min=0.85", set(&[OPENINFERENCE])),
        (
            "score=relevance&score_min=0.75&score_max=0.85",
            set(&[PY_RUN]),
        ),
        ("score=thumbs&score_label=thumbs_up", set(&[CODEX_TURN])),
        ("score=thumbs&score_label=thumbs_down", set(&[])),
        ("score=no-such-score", set(&[])),
    ] {
        for order in ["", "&sort=duration", "&sort=cost&order=asc"] {
            let answer = server
                .json(&format!("/api/traces?limit=500&{filter}{order}"))
                .await;
            assert_eq!(trace_ids(&answer), expected, "{filter}{order}");
        }
    }
    // Paged: one trace a page, the keyset cursor carrying the filter's order on.
    let first = server.json("/api/traces?score=relevance&limit=1").await;
    let last = &rows(&first, "traces")[0];
    let second = server
        .json(&format!(
            "/api/traces?score=relevance&limit=1&after={}&after_id={}",
            urlencode(last["start_time"].as_str().expect("start_time")),
            last["trace_id"].as_str().expect("trace_id")
        ))
        .await;
    let both: std::collections::BTreeSet<String> = trace_ids(&first)
        .union(&trace_ids(&second))
        .cloned()
        .collect();
    assert_eq!(both, set(&[PY_RUN, OPENINFERENCE]));
    for bad in [
        "score=relevance&score_min=abc",
        "score=relevance&score_max=NaN",
        "score=relevance&score_min=1e999",
        "score_label=thumbs_down",
    ] {
        let (status, body) = server.get(&format!("/api/traces?{bad}")).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}: {body}");
    }
    // The facets suggest score names and labels.
    let facets = server.json("/api/facets").await;
    for (facet, value) in [("score", "relevance"), ("score_label", "thumbs_up")] {
        assert!(
            rows(&facets, "facets")
                .iter()
                .any(|f| f["facet"] == facet && f["value"] == value),
            "{facet} {value}"
        );
    }

    // A trace: every score, and the latest per name (agent_trace_scores).
    let trace = server.json(&format!("/api/traces/{PY_RUN}")).await;
    assert_eq!(rows(&trace, "scores").len(), 2);
    let summary = &rows(&trace, "score_summary")[0];
    assert_eq!(
        (
            &summary["name"],
            &summary["latest_value"],
            &summary["score_count"]
        ),
        (
            &Value::from("relevance"),
            &Value::from(0.3),
            &Value::from(2)
        )
    );
    // A diff: the two runs' scores by name.
    let diff = server
        .json(&format!("/api/diff?a={PY_RUN}&b={OPENINFERENCE}"))
        .await;
    let relevance = &rows(&diff, "scores")[0];
    assert_eq!(
        (
            &relevance["value_a"],
            &relevance["value_b"],
            &relevance["count_a"]
        ),
        (&Value::from(0.3), &Value::from(0.9), &Value::from(2))
    );
    // The chart's data: the names, then one name's values and labels per bucket.
    let chart = server.json("/api/scores").await;
    let relevance = rows(&chart, "names")
        .iter()
        .find(|n| n["name"] == "relevance")
        .expect("relevance");
    assert_eq!(relevance["scores"], 3);
    let chart = server.json("/api/scores?name=thumbs&bucket=1%20day").await;
    assert_eq!(rows(&chart, "values").len(), 1);
    assert_eq!(rows(&chart, "values")[0]["avg_value"], 1);
    assert_eq!(rows(&chart, "labels")[0]["label"], "thumbs_up");
    let (status, _) = server
        .get("/api/scores?name=thumbs&bucket=fortnightly")
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);

    // A person's thumbs-down on a span, with the server's token: 201, into the trace's project,
    // source human; the answer carries the trace's scores as they are now.
    let stored = || async {
        db.number("SELECT count(*) FROM agent_trace.agent_scores")
            .await
    };
    let before = stored().await;
    let json = [("content-type", "application/json")];
    fn with(authorization: &str) -> Vec<(&'static str, &str)> {
        vec![
            ("content-type", "application/json"),
            ("authorization", authorization),
        ]
    }
    let thumbs_down = r#"{"span_id": "b44a6bb020e2d6c6", "name": "thumbs", "label": "thumbs_down",
                          "value": 0, "explanation": "wrong city"}"#;
    let (status, answer) = post_score(&server.base, PY_RUN, thumbs_down, &with(&bearer)).await;
    assert_eq!(status, StatusCode::CREATED, "{answer}");
    assert_eq!(answer["score"]["project"], "default");
    assert_eq!(rows(&answer, "scores").len(), 3);
    assert_eq!(stored().await, before + 1);
    let row = db
        .client()
        .await
        .query_one(
            "SELECT source, span_id::text, label, explanation, project_id FROM agent_trace.agent_scores
              WHERE name = 'thumbs' AND trace_id = $1::text::agent_trace.trace_id",
            &[&PY_RUN],
        )
        .await
        .expect("the score");
    assert_eq!(row.get::<_, String>(0), "human");
    assert_eq!(row.get::<_, String>(1), "b44a6bb020e2d6c6");
    assert_eq!(row.get::<_, String>(2), "thumbs_down");
    assert_eq!(row.get::<_, String>(3), "wrong city");
    assert_eq!(row.get::<_, i32>(4), 1);
    let down = server
        .json("/api/traces?score=thumbs&score_label=thumbs_down")
        .await;
    assert_eq!(trace_ids(&down), set(&[PY_RUN]));
    // A thumbs-up for the run afterwards: the filter still finds the thumbs-down (any score of the
    // name), the list shows the latest.
    let thumbs_up = r#"{"name": "thumbs", "label": "thumbs_up", "value": 1}"#;
    let (status, answer) = post_score(&server.base, PY_RUN, thumbs_up, &with(&bearer)).await;
    assert_eq!(status, StatusCode::CREATED, "{answer}");
    let down = server
        .json("/api/traces?score=thumbs&score_label=thumbs_down")
        .await;
    assert_eq!(trace_ids(&down), set(&[PY_RUN]));
    let thumbs = rows(&down, "traces")[0]["scores"]
        .as_array()
        .expect("scores")
        .iter()
        .find(|s| s["name"] == "thumbs")
        .cloned()
        .expect("thumbs");
    assert_eq!(thumbs["label"], "thumbs_up");
    // A key of the caller's makes a retry store the score once; without one, every request is a
    // score of its own.
    let keyed = r#"{"name": "reviewed", "label": "yes", "score_key": "6f1c1a52-3b3a-4c86-9a53-6a3f2e1d0c11"}"#;
    for _ in 0..2 {
        let (status, answer) = post_score(&server.base, PY_RUN, keyed, &with(&bearer)).await;
        assert_eq!(status, StatusCode::CREATED, "{answer}");
    }
    assert_eq!(stored().await, before + 3);

    // Refused, and nothing stored: bad input (400, saying why), an unknown trace or span (404).
    let before = stored().await;
    let long_name = format!(r#"{{"name": "{}", "value": 1}}"#, "n".repeat(201));
    let long_comment = format!(
        r#"{{"name": "x", "value": 1, "explanation": "{}"}}"#,
        "c".repeat(10_001)
    );
    for (trace, body, status, why) in [
        (
            PY_RUN,
            r#"{"name": "x", "value": "NaN"}"#,
            400,
            "invalid type",
        ),
        (PY_RUN, r#"{"name": "x", "value": NaN}"#, 400, "not a score"),
        (
            PY_RUN,
            r#"{"name": "x", "value": 1e999}"#,
            400,
            "not a score",
        ),
        (PY_RUN, r#"{"name": "", "value": 1}"#, 400, "needs a name"),
        (
            PY_RUN,
            r#"{"name": "x"}"#,
            400,
            "neither a value nor a label",
        ),
        (
            PY_RUN,
            r#"{"name": "x", "label": ""}"#,
            400,
            "label is empty",
        ),
        (PY_RUN, &long_name, 400, "at most 200"),
        (PY_RUN, &long_comment, 400, "at most 10000"),
        (
            PY_RUN,
            r#"{"name": "x", "value": 1, "source": "llm"}"#,
            400,
            "unknown field",
        ),
        (
            PY_RUN,
            r#"{"name": "x", "value": 1, "span_id": "zz"}"#,
            400,
            "span_id",
        ),
        (
            PY_RUN,
            r#"{"name": "x", "value": 1, "score_key": "k"}"#,
            400,
            "uuid",
        ),
        (PY_RUN, "name=x&value=1", 400, "not a score"),
        (
            "not-a-trace",
            r#"{"name": "x", "value": 1}"#,
            400,
            "trace_id",
        ),
        (
            "00000000000000000000000000000001",
            r#"{"name": "x", "value": 1}"#,
            404,
            "no trace",
        ),
        (
            PY_RUN,
            r#"{"name": "x", "value": 1, "span_id": "00000000000000aa"}"#,
            404,
            "no span",
        ),
        (
            ACME_TRACE,
            r#"{"name": "x", "value": 1}"#,
            409,
            "several projects (default, acme)",
        ),
    ] {
        let (got, answer) = post_score(&server.base, trace, body, &with(&bearer)).await;
        let error = answer["error"].as_str().unwrap_or_default();
        assert_eq!(got.as_u16(), status, "{body}: {answer}");
        assert!(error.contains(why), "{body}: {error}");
    }
    // Over 64 KiB: 413.
    let huge = format!(
        r#"{{"name": "x", "value": 1, "explanation": "{}"}}"#,
        "é".repeat(40_000)
    );
    let (status, answer) = post_score(&server.base, PY_RUN, &huge, &with(&bearer)).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    assert!(answer["error"].as_str().is_some(), "{answer}");
    // Not JSON by its type: 415.
    let (status, _) = post_score(
        &server.base,
        PY_RUN,
        r#"{"name": "x", "value": 1}"#,
        &[("content-type", "text/plain"), ("authorization", &bearer)],
    )
    .await;
    assert_eq!(status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    // No token, a wrong one: 401. A web page of another site, token or not: 403.
    let score = r#"{"name": "x", "value": 1}"#;
    let (status, _) = post_score(&server.base, PY_RUN, score, &json).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, _) = post_score(
        &server.base,
        PY_RUN,
        score,
        &with("Bearer wrong-token-0123456789"),
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    for (header, value) in [
        ("origin", "http://attacker.example"),
        ("origin", "null"),
        ("sec-fetch-site", "cross-site"),
        ("sec-fetch-site", "same-site"),
    ] {
        let mut headers = with(&bearer);
        headers.push((header, value));
        let (status, answer) = post_score(&server.base, PY_RUN, score, &headers).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{header}: {value}: {answer}");
    }
    assert_eq!(stored().await, before, "nothing refused was stored");

    // A project's token: its own project's trace (of the id in two projects, acme's), into acme;
    // the default project's trace is refused as a trace that does not exist, named or not.
    let (status, answer) = post_score(&server.base, ACME_TRACE, score, &with(&acme_bearer)).await;
    assert_eq!(status, StatusCode::CREATED, "{answer}");
    assert_eq!(answer["score"]["project"], "acme");
    // What it wrote, and nothing it would read: not the trace's scores (the default project's trace
    // of the same id has one the viewer reads).
    assert!(
        answer.get("scores").is_none() && !answer.to_string().contains("default-only"),
        "{answer}"
    );
    assert_eq!(
        db.number(&format!(
            "SELECT count(*) FROM agent_trace.agent_scores WHERE project_id = {acme_id}"
        ))
        .await,
        1
    );
    for body in [
        score.to_string(),
        r#"{"name": "x", "value": 1, "project": "default"}"#.to_string(),
    ] {
        let (status, answer) = post_score(&server.base, PY_RUN, &body, &with(&acme_bearer)).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{body}: {answer}");
        assert_eq!(answer["error"], format!("no trace {PY_RUN}"));
    }
    let (status, _) = post_score(
        &server.base,
        ACME_TRACE,
        r#"{"name": "x", "value": 1, "project": "default"}"#,
        &with(&acme_bearer),
    )
    .await;
    assert_eq!(
        status,
        StatusCode::NOT_FOUND,
        "acme's token never names another project"
    );
    // It opens nothing else of the viewer.
    let response = reqwest::Client::new()
        .get(format!("{}/api/traces", server.base))
        .header("authorization", &acme_bearer)
        .send()
        .await
        .expect("GET");
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    // The server's token names the project of a trace id two projects have.
    let (status, answer) = post_score(
        &server.base,
        ACME_TRACE,
        r#"{"name": "y", "value": 1, "project": "acme"}"#,
        &with(&bearer),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{answer}");
    assert_eq!(answer["score"]["project"], "acme");
    assert_eq!(
        db.number(&format!(
            "SELECT count(*) FROM agent_trace.agent_scores WHERE project_id = {acme_id}"
        ))
        .await,
        2
    );
    assert_eq!(stored().await, before + 2);
    server.stop().await;
}

/// Scores in Debian's headless Chromium (`viewer/e2e/scores.e2e.mjs`), after every captured request
/// and a few scores given in SQL as the extension's owner: a person's thumbs-down on a span is seen
/// on it, stored (as `human`, with the comment, in the trace's project), and found by the list's
/// score filter alone; the diff and the sessions chart show the scores. Screenshots land in
/// target/viewer-e2e/.
#[tokio::test(flavor = "multi_thread")]
async fn scores_work_in_a_real_browser() {
    let root = repo_root();
    assert!(
        root.join("viewer/node_modules/playwright-core").exists()
            && Path::new("/usr/bin/chromium").exists(),
        "the browser test needs Debian's chromium and the viewer's npm packages: run scripts/install-viewer-deps.sh (make test does)"
    );
    let token = "e2e-scores-token-0123456789";
    let (db, server) = loaded("viewer-scores-browser", Some(token)).await;
    db.execute(&format!(
        "SELECT agent_trace.add_score('{PY_RUN}', 'relevance', value => 0.8, source => 'llm',
                                      scorer => 'judge', scored_at => now() - interval '1 day');
         SELECT agent_trace.add_score('{PY_RUN}', 'relevance', value => 0.3, source => 'llm',
                                      scorer => 'judge', scored_at => now() - interval '2 hours');
         SELECT agent_trace.add_score('{OPENINFERENCE}', 'relevance', value => 0.9, source => 'llm',
                                      scorer => 'judge');
         SELECT agent_trace.add_score('{CODEX_TURN}', 'thumbs', value => 1, label => 'thumbs_up',
                                      source => 'end_user');"
    ))
    .await;
    let artifacts = root.join("target/viewer-e2e");
    let base = server.base.clone();
    let output = tokio::task::spawn_blocking(move || {
        std::process::Command::new("node")
            .args(["--test", "--test-reporter=spec", "--test-timeout=120000"])
            .arg("e2e/scores.e2e.mjs")
            .current_dir(root.join("viewer"))
            .env("VIEWER_URL", base)
            .env("VIEWER_TOKEN", token)
            .env("ARTIFACTS", artifacts)
            .output()
    })
    .await
    .expect("the node task")
    .expect("run node");
    let report = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    println!("{report}");
    assert!(
        output.status.success(),
        "the browser test failed:\n{report}"
    );
    // What the person gave is in the database as they gave it.
    let client = db.client().await;
    let row = client
        .query_one(
            "SELECT source, label, value, explanation, project_id FROM agent_trace.agent_scores
              WHERE trace_id = $1::text::agent_trace.trace_id AND span_id = 'b44a6bb020e2d6c6'
                AND name = 'thumbs'",
            &[&PY_RUN],
        )
        .await
        .expect("the thumbs-down, once");
    assert_eq!(row.get::<_, String>(0), "human");
    assert_eq!(row.get::<_, String>(1), "thumbs_down");
    assert_eq!(row.get::<_, f64>(2), 0.0);
    assert_eq!(
        row.get::<_, String>(3),
        "wrong city: asked for Paris, Texas"
    );
    assert_eq!(row.get::<_, i32>(4), 1);
    assert_eq!(
        db.number("SELECT count(*) FROM agent_trace.agent_scores WHERE source = 'human'")
            .await,
        3,
        "the thumbs-down, the accuracy and the run's thumbs-up; the refused one is not stored"
    );
    server.stop().await;
}

/// A page of another origin in a real headless Chromium tries to add a score to a stored run, on a
/// server without a token (only the origin checks stand in its way): fetches without a preflight
/// (JSON as text/plain, a Blob typed JSON), one with a preflight, a form posted into a frame. None
/// stores anything; the same score from a client that is not a browser is stored.
#[tokio::test(flavor = "multi_thread")]
async fn a_web_page_of_another_origin_cannot_add_scores() {
    let root = repo_root();
    assert!(
        root.join("viewer/node_modules/playwright-core").exists()
            && Path::new("/usr/bin/chromium").exists(),
        "the browser test needs Debian's chromium and the viewer's npm packages: run scripts/install-viewer-deps.sh (make test does)"
    );
    let db = TestDb::start("viewer-cross-origin-scores");
    let server = ViewerServer::start(&db, None, None).await;
    let trace_id = "5c0e000000000000000000000000b001";
    let answer = common::post_json(
        &format!("{}/v1/traces", server.base),
        &one_span_trace(trace_id, "5c0e00000000b001", "a run to score"),
        None,
    )
    .await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let page_url = format!("http://{}/", listener.local_addr().expect("address"));
    let page = axum::Router::new().route(
        "/",
        axum::routing::get(|| async {
            axum::response::Html("<!doctype html><title>another site</title><p>hello</p>")
        }),
    );
    let page_server = tokio::spawn(async move { axum::serve(listener, page).await });

    let base = server.base.clone();
    let output = tokio::task::spawn_blocking(move || {
        std::process::Command::new("node")
            .args(["--test", "--test-reporter=spec", "--test-timeout=60000"])
            .arg("e2e/cross-origin-scores.e2e.mjs")
            .current_dir(root.join("viewer"))
            .env("TARGET_URL", base)
            .env("PAGE_URL", page_url)
            .env("TRACE_ID", trace_id)
            .output()
    })
    .await
    .expect("the node task")
    .expect("run node");
    let report = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    println!("{report}");
    assert!(
        output.status.success(),
        "the browser test failed:\n{report}"
    );
    assert_eq!(
        db.number("SELECT count(*) FROM agent_trace.agent_scores")
            .await,
        0,
        "scores added by a page of another origin:\n{report}"
    );
    // The same score from a client that is not a browser: stored.
    let (status, answer) = post_score(
        &server.base,
        trace_id,
        r#"{"name": "thumbs", "label": "thumbs_down"}"#,
        &[("content-type", "application/json")],
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{answer}");
    assert_eq!(
        db.number("SELECT count(*) FROM agent_trace.agent_scores")
            .await,
        1
    );
    page_server.abort();
    server.stop().await;
}
