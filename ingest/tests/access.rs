//! Who may see and write what, end to end (docs/access.md): projects with tokens made by
//! `agent-trace tokens create`, two reader logins each seeing only their project through the viewer
//! and SQL, a span sent to one project never changing another's trace, a revoked token refused
//! within seconds; the viewer never running an operator someone slipped into `public`; and
//! redaction at ingest over every captured request.

mod common;

use common::{
    ServeProcess, TestDb, everything_stored, post_fixture_to, replay_every_fixture, wait_until,
};
use ingest::fixtures;
use ingest::map::redact::is_default_content_key;
use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::{KeyValue, any_value::Value as Any};
use serde_json::Value;
use std::collections::BTreeSet;
use std::time::Duration;

const BIN: &str = env!("CARGO_BIN_EXE_agent-trace");

/// The Python SDK agent's run, as every client of that folder sends it.
const PY_RUN: &str = "8bef85e718690b4f738c3d7e267a185e";

/// `agent-trace ARGS --database-url URL` (as the superuser); its standard output.
fn agent_trace(db: &TestDb, args: &[&str]) -> String {
    let output = std::process::Command::new(BIN)
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

/// A login `role` with `password`, its connection string.
async fn login(db: &TestDb, role: &str, grants: &str) -> String {
    db.execute(&format!(
        "CREATE ROLE {role} LOGIN PASSWORD 'pw-{role}'; GRANT {grants} TO {role};"
    ))
    .await;
    let url = db.url();
    let (_, host) = url.split_once('@').expect("user@host");
    format!("postgresql://{role}:pw-{role}@{host}")
}

async fn rows_as(url: &str, sql: &str) -> Vec<String> {
    let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls)
        .await
        .expect("connect");
    tokio::spawn(connection);
    client
        .query(sql, &[])
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
        .iter()
        .map(|row| row.get::<_, String>(0))
        .collect()
}

async fn get_json(url: &str) -> (u16, Value) {
    let response = reqwest::get(url).await.expect("GET");
    let status = response.status().as_u16();
    let text = response.text().await.unwrap_or_default();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

#[tokio::test(flavor = "multi_thread")]
async fn each_project_sees_only_its_own_and_a_revoked_token_stops_working() {
    let db = TestDb::start("projects");
    agent_trace(&db, &["projects", "create", "team-a"]);
    agent_trace(&db, &["projects", "create", "team-b"]);
    let token_a = agent_trace(
        &db,
        &["tokens", "create", "--project", "team-a", "--name", "a"],
    );
    let token_a = token_a.lines().next().expect("the token").to_string();
    let token_b = agent_trace(
        &db,
        &["tokens", "create", "--project", "team-b", "--name", "b"],
    );
    let token_b = token_b.lines().next().expect("the token").to_string();
    let reader_a = login(&db, "reader_a", "agent_trace_reader").await;
    let reader_b = login(&db, "reader_b", "agent_trace_reader").await;
    agent_trace(&db, &["projects", "grant", "team-a", "reader_a"]);
    agent_trace(&db, &["projects", "grant", "team-b", "reader_b"]);
    let listed = agent_trace(&db, &["projects", "list"]);
    assert!(
        listed.contains("team-a") && listed.contains("reader_a (read)"),
        "{listed}"
    );

    // One ingest, a viewer per reader (each reads as its login).
    let writer = db.writer_url();
    let serve = |viewer: &str| {
        ServeProcess::spawn(&[
            "serve",
            "--database-url",
            &writer,
            "--viewer-database-url",
            viewer,
        ])
    };
    let (viewer_a, viewer_b) = (serve(&reader_a), serve(&reader_b));
    let client = reqwest::Client::new();
    let base = viewer_a.url("");
    let bearer = |token: &str| format!("Bearer {token}");

    // The Python agent's run sent to A, and the same run (same ids) sent to B.
    let run = fixtures::find("py_sdk_agent/010_v1_traces");
    let sent = post_fixture_to(&client, &base, &run, Some(&bearer(&token_a))).await;
    assert_eq!(sent.status(), 200);
    // Its agent run: the trace of five spans.
    let run_id = rows_as(
        &db.url(),
        "SELECT trace_id::text FROM agent_trace.agent_traces WHERE span_count = 5",
    )
    .await
    .pop()
    .expect("the agent run");
    let before_b = db
        .number(&format!(
            "SELECT span_count::bigint FROM agent_trace.agent_traces WHERE trace_id = '{run_id}' AND project_id = 2"
        ))
        .await;
    let sent = post_fixture_to(&client, &base, &run, Some(&bearer(&token_b))).await;
    assert_eq!(sent.status(), 200);
    // B's copy is B's trace: A's is as it was, and each has its own row.
    assert_eq!(
        db.number(&format!(
            "SELECT span_count::bigint FROM agent_trace.agent_traces WHERE trace_id = '{run_id}' AND project_id = 2"
        ))
        .await,
        before_b
    );
    assert_eq!(
        db.number(&format!(
            "SELECT count(*) FROM agent_trace.agent_traces WHERE trace_id = '{run_id}'"
        ))
        .await,
        2
    );
    // A's token stores nothing in B, whatever ids it carries; neither token reaches the default.
    assert_eq!(
        db.number("SELECT count(*) FROM agent_trace.agent_spans WHERE project_id = 1")
            .await,
        0
    );
    // The database holds tokens: a request needs one.
    let anonymous = post_fixture_to(&client, &base, &run, None).await;
    assert_eq!(anonymous.status(), 401);
    let wrong = post_fixture_to(
        &client,
        &base,
        &run,
        Some("Bearer at_not_a_token_of_anyone"),
    )
    .await;
    assert_eq!(wrong.status(), 401);

    // Each viewer shows its reader's project, and its readable projects only.
    for (viewer, mine, other) in [
        (&viewer_a, "team-a", "team-b"),
        (&viewer_b, "team-b", "team-a"),
    ] {
        let (status, list) = get_json(&viewer.url("/api/traces?limit=100")).await;
        assert_eq!(status, 200, "{list}");
        let traces = list["traces"].as_array().expect("traces");
        assert_eq!(traces.len(), 2, "{list}");
        let (_, facets) = get_json(&viewer.url("/api/facets")).await;
        let projects: Vec<&str> = facets["facets"]
            .as_array()
            .expect("facets")
            .iter()
            .filter(|f| f["facet"] == "project")
            .filter_map(|f| f["value"].as_str())
            .collect();
        assert!(
            projects.contains(&mine) && !projects.contains(&other),
            "{projects:?}"
        );
        let (status, mine_only) =
            get_json(&viewer.url(&format!("/api/traces?project={mine}"))).await;
        assert_eq!(status, 200);
        assert_eq!(mine_only["traces"].as_array().map(Vec::len), Some(2));
        let (_, others) = get_json(&viewer.url(&format!("/api/traces?project={other}"))).await;
        assert_eq!(
            others["traces"].as_array().map(Vec::len),
            Some(0),
            "{others}"
        );
        let (status, trace) = get_json(&viewer.url(&format!("/api/traces/{run_id}"))).await;
        assert_eq!(status, 200, "{trace}");
        assert_eq!(trace["tree"].as_array().map(Vec::len), Some(5), "{trace}");
    }
    // And in SQL, through a table, a view and a function.
    for (url, project) in [(&reader_a, "2"), (&reader_b, "3")] {
        let projects = rows_as(
            url,
            &format!(
                "SELECT DISTINCT project_id::text FROM agent_trace.agent_spans
                 UNION SELECT DISTINCT project_id::text FROM agent_trace.agent_sessions
                 UNION SELECT count(*)::text FROM agent_trace.trace_tree('{run_id}')"
            ),
        )
        .await;
        let expected: BTreeSet<String> = [project, "5"].iter().map(|s| s.to_string()).collect();
        assert_eq!(projects.into_iter().collect::<BTreeSet<_>>(), expected);
    }

    // Revoked: refused within the refresh interval, the other token unaffected.
    let tokens = agent_trace(&db, &["tokens", "list"]);
    assert!(!tokens.contains(&token_a), "the list shows no token");
    agent_trace(&db, &["tokens", "revoke", "1"]);
    wait_until(
        "the revoked token refused",
        ingest::server::PROJECTS_REFRESH * 3,
        || async {
            post_fixture_to(&client, &base, &run, Some(&bearer(&token_a)))
                .await
                .status()
                == 401
        },
    )
    .await;
    assert_eq!(
        post_fixture_to(&client, &base, &run, Some(&bearer(&token_b)))
            .await
            .status(),
        200
    );
}

/// An `=` on agent_trace.trace_id in `public`, created by a role that may create objects there, is
/// what PostgreSQL would pick over uuid's for `trace_id = ...` under the default search path; the
/// viewer's statements must never run it (they run with the search path pinned to pg_catalog).
#[tokio::test(flavor = "multi_thread")]
async fn the_viewer_never_runs_an_operator_slipped_into_public() {
    let db = TestDb::start("hijack");
    let reader = login(&db, "reader", "agent_trace_reader").await;
    db.execute(
        "CREATE ROLE mallory LOGIN IN ROLE agent_trace_reader;
         GRANT CREATE ON SCHEMA public TO mallory;
         SET ROLE mallory;
         CREATE FUNCTION public.steal(agent_trace.trace_id, agent_trace.trace_id) RETURNS boolean
             LANGUAGE plpgsql AS $$
         BEGIN
             RAISE EXCEPTION 'stolen: %', (SELECT string_agg(input, ' | ') FROM agent_trace.agent_spans);
         END $$;
         CREATE OPERATOR public.= (LEFTARG = agent_trace.trace_id, RIGHTARG = agent_trace.trace_id,
                                   FUNCTION = public.steal);
         RESET ROLE;",
    )
    .await;
    // The trap works where the search path is left as it is.
    let (client, connection) = tokio_postgres::connect(&reader, tokio_postgres::NoTls)
        .await
        .expect("connect");
    tokio::spawn(connection);
    db.execute(
        "INSERT INTO agent_trace.agent_spans (trace_id, span_id, name, start_time, end_time, input)
         VALUES ('8bef85e718690b4f738c3d7e267a185e', '00f067aa0ba902b7', 'run', now(), now(), 'the secret prompt')",
    )
    .await;
    let trapped = client
        .query(
            "SELECT name FROM agent_trace.agent_traces WHERE trace_id = '8bef85e718690b4f738c3d7e267a185e'::agent_trace.trace_id",
            &[],
        )
        .await
        .expect_err("the operator runs under the default search path");
    assert!(format!("{trapped:?}").contains("stolen"), "{trapped:?}");

    // The viewer, as the reader and as a superuser (which it turns into agent_trace_reader).
    for viewer_url in [reader.clone(), db.url()] {
        let server = ServeProcess::spawn(&[
            "serve",
            "--database-url",
            &db.writer_url(),
            "--viewer-database-url",
            &viewer_url,
        ]);
        for path in [
            format!("/api/traces/{PY_RUN}"),
            format!("/api/traces/{PY_RUN}/spans/00f067aa0ba902b7"),
            "/api/traces".to_string(),
        ] {
            let response = reqwest::get(server.url(&path)).await.expect("GET");
            let status = response.status().as_u16();
            let body = response.text().await.unwrap_or_default();
            assert_eq!(status, 200, "{path}: {body}");
            assert!(!body.contains("stolen"), "{path}: {body}");
        }
    }
}

/// Every string value of the captured requests that is content by default: prompts, completions,
/// messages, tool arguments and results, log bodies. Long enough not to occur by chance.
fn content_of_the_fixtures() -> BTreeSet<String> {
    fn walk(attributes: &[KeyValue], found: &mut BTreeSet<String>) {
        for kv in attributes {
            // Ids and names under content keys (a tool call's id in an output message, a prompt's
            // name) are not content, and show elsewhere under keys of their own.
            let is_id = kv.key.ends_with("id") || kv.key.ends_with(".name");
            if let Some(Any::StringValue(text)) = kv.value.as_ref().and_then(|v| v.value.as_ref())
                && is_default_content_key(&kv.key)
                && !is_id
                && text.len() >= 12
            {
                found.insert(text.clone());
            }
        }
    }
    let mut found = BTreeSet::new();
    for fixture in fixtures::load("traces") {
        let request: ExportTraceServiceRequest = fixture.decode();
        for resource in request
            .resource_spans
            .iter()
            .filter_map(|r| r.resource.as_ref())
        {
            walk(&resource.attributes, &mut found);
        }
        for span in request
            .resource_spans
            .iter()
            .flat_map(|r| &r.scope_spans)
            .flat_map(|s| &s.spans)
        {
            walk(&span.attributes, &mut found);
            for event in &span.events {
                walk(&event.attributes, &mut found);
            }
        }
    }
    for fixture in fixtures::load("logs") {
        let request: ExportLogsServiceRequest = fixture.decode();
        for resource in request
            .resource_logs
            .iter()
            .filter_map(|r| r.resource.as_ref())
        {
            walk(&resource.attributes, &mut found);
        }
        for record in request
            .resource_logs
            .iter()
            .flat_map(|r| &r.scope_logs)
            .flat_map(|s| &s.log_records)
        {
            walk(&record.attributes, &mut found);
            if let Some(Any::StringValue(body)) =
                record.body.as_ref().and_then(|b| b.value.as_ref())
                && body.len() >= 12
                && !body.starts_with("claude_code.")
            {
                found.insert(body.clone());
            }
        }
    }
    found
}

/// JSON's spelling of a string inside a row's text (jsonb escapes quotes, backslashes, newlines).
fn as_stored(text: &str) -> Vec<String> {
    let json = serde_json::to_string(text).expect("json");
    vec![text.to_string(), json[1..json.len() - 1].to_string()]
}

#[tokio::test(flavor = "multi_thread")]
async fn redaction_keeps_no_content_of_any_captured_request() {
    let content = content_of_the_fixtures();
    assert!(
        content.len() >= 10,
        "the fixtures hold prompts and completions: {content:?}"
    );
    for known in [
        "What's the weather in Paris?",
        "Say hello in one short sentence.",
        "You are a weather bot.",
    ] {
        assert!(content.contains(known), "{known} is content");
    }
    let db = TestDb::start("redaction");
    let found = |stored: &str| -> Vec<String> {
        content
            .iter()
            .filter(|text| as_stored(text).iter().any(|t| stored.contains(t.as_str())))
            .cloned()
            .collect()
    };

    // Kept, as by default: the content is there to be found (so the checks below can fail).
    let server = ServeProcess::serve(&db, &[]);
    replay_every_fixture(&server).await;
    let kept = found(&everything_stored(&db).await);
    assert!(kept.len() >= content.len() / 2, "kept only {kept:?}");
    drop(server);
    db.clear().await;
    db.clear_signals().await;
    db.execute("DELETE FROM agent_trace.agent_span_costs").await;

    // Dropped: none of it in any column of any table.
    let server = ServeProcess::serve(&db, &["--redact", "drop"]);
    replay_every_fixture(&server).await;
    let stored = everything_stored(&db).await;
    assert_eq!(found(&stored), Vec::<String>::new());
    assert!(
        db.number("SELECT count(*) FROM agent_trace.agent_spans")
            .await
            > 100,
        "the spans are stored, without their content"
    );
    assert_eq!(
        db.number("SELECT count(*) FROM agent_trace.agent_spans WHERE input IS NOT NULL OR output IS NOT NULL")
            .await,
        0
    );
    drop(server);
    db.clear().await;
    db.clear_signals().await;
    db.execute("DELETE FROM agent_trace.agent_span_costs").await;

    // Hashed: none of it either, and an equal prompt hashes equal wherever it is stored.
    let key_file =
        std::env::temp_dir().join(format!("agent-trace-hash-key-{}", std::process::id()));
    std::fs::write(&key_file, b"a secret of thirty-two bytes!!!!").expect("the key file");
    let server = ServeProcess::serve(
        &db,
        &[
            "--redact",
            "hash",
            "--redact-hash-key-file",
            key_file.to_str().expect("utf-8"),
        ],
    );
    replay_every_fixture(&server).await;
    let stored = everything_stored(&db).await;
    assert_eq!(found(&stored), Vec::<String>::new());
    let hashed = db
        .client()
        .await
        .query(
            "SELECT e -> 'attributes' ->> 'content' FROM agent_trace.agent_spans AS s,
                    jsonb_array_elements(s.events) AS e
              WHERE e ->> 'name' = 'gen_ai.user.message'",
            &[],
        )
        .await
        .expect("the user messages");
    let values: BTreeSet<String> = hashed.iter().map(|row| row.get(0)).collect();
    assert!(hashed.len() >= 2, "the same prompt was sent more than once");
    assert_eq!(values.len(), 1, "one prompt, one hash: {values:?}");
    let value = values.into_iter().next().expect("a hash");
    assert!(value.starts_with("hmac-sha256:"), "{value}");
    drop(server);
    let _ = std::fs::remove_file(&key_file);

    // Without a key, hashing is refused at start.
    let output = std::process::Command::new(BIN)
        .args([
            "serve",
            "--database-url",
            &db.writer_url(),
            "--redact",
            "hash",
        ])
        .output()
        .expect("run serve");
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("--redact-hash-key-file"));
}

/// A project's own setting (agent_trace.projects.redaction) overrides the server's: its content is
/// dropped while another project's is kept.
#[tokio::test(flavor = "multi_thread")]
async fn a_project_can_drop_its_content_on_a_server_that_keeps_it() {
    let db = TestDb::start("project-redaction");
    agent_trace(&db, &["projects", "create", "private"]);
    let token = agent_trace(
        &db,
        &["tokens", "create", "--project", "private", "--name", "x"],
    );
    let token = token.lines().next().expect("the token").to_string();
    db.execute("UPDATE agent_trace.projects SET redaction = '{\"content\": \"drop\"}' WHERE name = 'private'")
        .await;
    let server = ServeProcess::serve(&db, &["--token", "the server's own token"]);
    let client = reqwest::Client::new();
    let run = fixtures::find("py_sdk_agent/010_v1_traces");
    let bearer = |token: &str| format!("Bearer {token}");
    wait_until(
        "the project's token accepted",
        Duration::from_secs(20),
        || async {
            post_fixture_to(&client, &server.url(""), &run, Some(&bearer(&token)))
                .await
                .status()
                == 200
        },
    )
    .await;
    let sent = post_fixture_to(
        &client,
        &server.url(""),
        &run,
        Some("Bearer the server's own token"),
    )
    .await;
    assert_eq!(sent.status(), 200);
    assert_eq!(
        db.number("SELECT count(*) FROM agent_trace.agent_spans WHERE project_id = 2 AND input IS NOT NULL")
            .await,
        0
    );
    assert!(
        db.number("SELECT count(*) FROM agent_trace.agent_spans WHERE project_id = 1 AND input IS NOT NULL")
            .await
            > 0
    );
}
