//! agent_trace on a real Citus cluster (docs/scaling-out.md): a coordinator and two workers on
//! loopback (Unix sockets), `agent_trace.distribute()`, the ingest pointed at the coordinator as an
//! insert-only login, every captured request (traces, logs, metrics; HTTP and gRPC alike go
//! through one intake) sent twice; then every table, view and function gives what a single node
//! given the same requests gives. A worker stopped mid-stream makes the ingest answer 503 (retry),
//! and the requests sent again once it is back are stored exactly once.
//!
//! Needs Citus installed into the PostgreSQL under test (scripts/install-citus.sh, from the source
//! tarball CITUS_TARBALL names); without it the test says so loudly and does nothing else.

mod common;

use common::agentos;
use common::citus::{Node, connect, pg_dirs, requests, send};
use common::{ServeProcess, TestDb, post_fixture_to, post_json};
use ingest::fixtures;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::collector::trace::v1::trace_service_client::TraceServiceClient;
use std::time::Duration;

/// Every row of the tables and views, and every function's answer on every trace, as text: what
/// must come out the same on one node and on the cluster. Times the database stamps when it stores
/// a row (created_at, updated_at, computed_at) are left out.
async fn answers(url: &str) -> Vec<(String, String)> {
    let client = connect(url).await;
    let traces: Vec<String> = client
        .query(
            "SELECT trace_id::text FROM agent_trace.agent_traces ORDER BY 1",
            &[],
        )
        .await
        .expect("traces")
        .iter()
        .map(|row| row.get(0))
        .collect();
    let mut queries: Vec<(String, String)> = [
        ("agent_spans", "SELECT to_jsonb(s) - 'created_at' FROM agent_trace.agent_spans AS s ORDER BY trace_id, span_id, start_time, project_id"),
        ("agent_traces", "SELECT to_jsonb(t) - 'created_at' - 'updated_at' FROM agent_trace.agent_traces AS t ORDER BY trace_id, project_id"),
        ("agent_span_costs", "SELECT to_jsonb(c) - 'computed_at' FROM agent_trace.agent_span_costs AS c ORDER BY trace_id, span_id, start_time, project_id"),
        ("agent_logs", "SELECT to_jsonb(l) - 'created_at' FROM agent_trace.agent_logs AS l ORDER BY record_key, time, project_id"),
        ("agent_metrics", "SELECT to_jsonb(m) - 'created_at' FROM agent_trace.agent_metrics AS m ORDER BY series_key, time, start_time, project_id"),
        ("agent_metric_deltas", "SELECT to_jsonb(d) - 'created_at' FROM agent_trace.agent_metric_deltas AS d ORDER BY series_key, time, project_id"),
        ("agent_sessions", "SELECT to_jsonb(s) FROM agent_trace.agent_sessions AS s ORDER BY session_id, project_id"),
        ("model_prices", "SELECT to_jsonb(p) - 'created_at' FROM agent_trace.model_prices AS p ORDER BY model_pattern COLLATE \"C\", provider COLLATE \"C\", effective_from, source"),
        ("agent_turns", "SELECT to_jsonb(u) FROM agent_trace.agent_turns AS u ORDER BY trace_id, turn"),
        ("agent_scores", "SELECT to_jsonb(s) - 'created_at' FROM agent_trace.agent_scores AS s ORDER BY trace_id, score_key, project_id"),
        ("agent_scores_pending", "SELECT to_jsonb(p) - 'created_at' FROM agent_trace.agent_scores_pending AS p ORDER BY score_key, project_id"),
        ("agent_trace_scores", "SELECT to_jsonb(s) FROM agent_trace.agent_trace_scores AS s ORDER BY trace_id, name, project_id"),
        ("agent_score_stats", "SELECT to_jsonb(s) FROM agent_trace.agent_score_stats AS s ORDER BY project_id, day, name, agent_name, model"),
    ]
    .into_iter()
    .map(|(name, sql)| (name.to_string(), sql.to_string()))
    .collect();
    // AgentOS's tables, once AgentOS compatibility is on (the schema ai).
    let agentos: bool = client
        .query_one("SELECT to_regclass('ai.agno_traces') IS NOT NULL", &[])
        .await
        .expect("AgentOS's schema")
        .get(0);
    if agentos {
        queries.push((
            "ai.agno_traces".into(),
            "SELECT to_jsonb(a) - 'created_at' FROM ai.agno_traces AS a ORDER BY trace_id".into(),
        ));
        queries.push(("ai.agno_spans".into(), "SELECT to_jsonb(a) - 'created_at' FROM ai.agno_spans AS a ORDER BY trace_id, span_id, start_time".into()));
    }
    for (k, trace) in traces.iter().enumerate() {
        let other = &traces[(k + 1) % traces.len()];
        for (name, sql) in [
            (
                "trace_tree",
                format!(
                    "SELECT to_jsonb(n) FROM agent_trace.trace_tree('{trace}') AS n ORDER BY tree_order"
                ),
            ),
            (
                "trace_tree_json",
                format!("SELECT agent_trace.trace_tree_json('{trace}')"),
            ),
            (
                "critical_path",
                format!(
                    "SELECT to_jsonb(p) FROM agent_trace.critical_path('{trace}') AS p ORDER BY step"
                ),
            ),
            (
                "replay",
                format!("SELECT to_jsonb(r) FROM agent_trace.replay('{trace}') AS r ORDER BY step"),
            ),
            (
                "replay_json",
                format!("SELECT agent_trace.replay_json('{trace}')"),
            ),
            (
                "diff_traces",
                format!(
                    "SELECT to_jsonb(d) FROM agent_trace.diff_traces('{trace}', '{other}') AS d ORDER BY step"
                ),
            ),
            (
                "diff_summary",
                format!(
                    "SELECT to_jsonb(d) FROM agent_trace.diff_summary('{trace}', '{other}') AS d"
                ),
            ),
        ] {
            queries.push((format!("{name}({trace})"), sql));
        }
    }
    let mut answers = Vec::new();
    for (name, sql) in queries {
        // The text protocol, straight from the query: its ORDER BY is the order compared (wrapped
        // in an aggregate, Citus would not keep it).
        let messages = client
            .simple_query(&sql)
            .await
            .unwrap_or_else(|e| panic!("{name} on {url}: {e:?}"));
        let rows: Vec<&str> = messages
            .iter()
            .filter_map(|message| match message {
                tokio_postgres::SimpleQueryMessage::Row(row) => Some(row.get(0).unwrap_or("NULL")),
                _ => None,
            })
            .collect();
        answers.push((name, rows.join("\n")));
    }
    answers
}

fn assert_same(single: &[(String, String)], citus: &[(String, String)], when: &str) {
    assert_eq!(single.len(), citus.len(), "{when}: the same questions");
    for ((name, one), (_, many)) in single.iter().zip(citus) {
        if one != many {
            let (ones, manys): (Vec<&str>, Vec<&str>) =
                (one.lines().collect(), many.lines().collect());
            let first = (0..ones.len().max(manys.len()))
                .find(|&i| ones.get(i) != manys.get(i))
                .unwrap_or(0);
            panic!(
                "{when}: {name} differs between one node and the cluster ({} and {} rows), first at row {first}:\n--- one node\n{}\n--- cluster\n{}",
                ones.len(),
                manys.len(),
                ones.get(first).unwrap_or(&"(none)"),
                manys.get(first).unwrap_or(&"(none)")
            );
        }
    }
}

async fn send_every_fixture(base: &str) -> Vec<(String, u16)> {
    let client = reqwest::Client::new();
    let mut answers = Vec::new();
    for fixture in ["traces", "logs", "metrics"]
        .into_iter()
        .flat_map(fixtures::load)
    {
        let response = post_fixture_to(&client, base, &fixture, None).await;
        answers.push((fixture.name.clone(), response.status().as_u16()));
    }
    answers
}

#[tokio::test(flavor = "multi_thread")]
async fn a_citus_cluster_answers_as_one_node_does() {
    let (bindir, libdir) = pg_dirs();
    if !libdir.join("citus.so").exists() {
        // .ci/run names the tarball and installs Citus: there, a missing Citus is a failure.
        assert!(
            std::env::var_os("CITUS_TARBALL").is_none(),
            "CITUS_TARBALL is set but Citus is not installed in {} (run scripts/install-citus.sh)",
            libdir.display()
        );
        eprintln!(
            "\n\n*** SKIPPED: Citus is not installed in {} (scripts/install-citus.sh builds it from the \
             tarball CITUS_TARBALL names; .ci/run sets it): the multi-node test did not run. ***\n",
            libdir.display()
        );
        return;
    }

    // One node, the reference (priced by the built-in prices CREATE EXTENSION loads, as the cluster).
    let single = TestDb::start("citus_reference");
    let reference = ServeProcess::serve(&single, &[]);

    // The cluster: a coordinator and two workers, agent_trace on each, distributed.
    let options = format!("{} -c fsync=off", common::citus::CITUS);
    let coordinator = Node::start("coordinator", &bindir, &options);
    let workers = [
        Node::start("worker1", &bindir, &options),
        Node::start("worker2", &bindir, &options),
    ];
    for node in std::iter::once(&coordinator).chain(&workers) {
        node.execute("CREATE EXTENSION citus; CREATE EXTENSION agent_trace;")
            .await;
    }
    coordinator
        .execute(&format!(
            "SELECT citus_set_coordinator_host('{}', 5432);
             SELECT citus_add_node('{}', 5432); SELECT citus_add_node('{}', 5432);",
            coordinator.socket(),
            workers[0].socket(),
            workers[1].socket()
        ))
        .await;
    // distribute() on a populated install: a trace, a log record and a metric point stored before
    // it (on one node, by the triggers) are moved to the workers and kept (compared below), and
    // AgentOS compatibility, enabled before, is remade for Citus.
    let stored_before = "INSERT INTO agent_trace.agent_spans (trace_id, span_id, parent_span_id, name, start_time, end_time, service_name, span_type, model, input_tokens)
         VALUES ('cdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcd', '0000000000000cd1', NULL, 'before distribute()', '2026-11-20 10:00+00', '2026-11-20 10:00:05+00', 'early', 'agent', NULL, NULL),
                ('cdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcd', '0000000000000cd2', '0000000000000cd1', 'a call', '2026-11-20 10:00:01+00', '2026-11-20 10:00:02+00', 'early', 'llm', 'gpt-4o-mini', 1000);
         INSERT INTO agent_trace.agent_logs (record_key, time, body) VALUES ('cdcdcdcd-cdcd-cdcd-cdcd-cdcdcdcdcdcd', '2026-11-20 10:00+00', 'stored before distribute()');
         INSERT INTO agent_trace.agent_metrics (series_key, time, name, kind, value) VALUES ('cdcdcdcd-cdcd-cdcd-cdcd-cdcdcdcdcdcd', '2026-11-20 10:00+00', 'before.distribute', 'gauge', 1);
         SELECT agent_trace.add_score('cdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcd', 'relevance', 0.5, 'ok', span_id => '0000000000000cd2', scored_at => '2026-11-20 11:00+00');
         SELECT agent_trace.enable_agno_compat('ai');";
    connect(&single.url())
        .await
        .batch_execute(stored_before)
        .await
        .expect("rows on the reference");
    let client = connect(&coordinator.url()).await;
    client
        .batch_execute(stored_before)
        .await
        .expect("rows on the coordinator before distribute()");
    let done: Vec<String> = client
        .query(
            "SELECT action || ' ' || coalesce(table_name, '') FROM agent_trace.distribute()",
            &[],
        )
        .await
        .expect("distribute")
        .iter()
        .map(|row| row.get(0))
        .collect();
    assert!(
        done.contains(&"distributed agent_spans".to_string())
            && done.contains(&"distributed agent_scores".to_string())
            && done.contains(&"remade ai.agno_spans".to_string()),
        "{done:?}"
    );
    let again: Vec<String> = client
        .query("SELECT action FROM agent_trace.distribute()", &[])
        .await
        .expect("distribute again")
        .iter()
        .map(|row| row.get(0))
        .collect();
    assert_eq!(again, ["skipped"], "a second distribute() changes nothing");
    // The prices are the built-in ones on both, kept by distribute() (compared with every table
    // below); the ingest as an insert-only login (docs/scaling-out.md).
    coordinator
        .execute("CREATE ROLE citus_ingest LOGIN IN ROLE agent_trace_writer;")
        .await;
    let writer_url = coordinator.url().replace("postgres@", "citus_ingest@");
    // The viewer reads as a login of agent_trace_reader: Citus connects to the workers as the
    // current role, so a superuser login switched to agent_trace_reader (the reference's viewer),
    // a role that cannot log in, would be refused there (docs/scaling-out.md).
    coordinator
        .execute("CREATE ROLE citus_viewer LOGIN IN ROLE agent_trace_reader;")
        .await;
    let viewer_url = coordinator.url().replace("postgres@", "citus_viewer@");
    let cluster = ServeProcess::spawn(&[
        "serve",
        "--database-url",
        &writer_url,
        "--viewer-database-url",
        &viewer_url,
    ]);

    // Every captured request, twice, to both.
    for round in 0..2 {
        for (base, name) in [
            (reference.url(""), "one node"),
            (cluster.url(""), "cluster"),
        ] {
            let answered = send_every_fixture(&base).await;
            let refused: Vec<_> = answered
                .iter()
                .filter(|(_, status)| *status != 200)
                .collect();
            assert!(
                refused.is_empty(),
                "{name}, round {round}: {refused:?}\n{}",
                cluster.log()
            );
        }
    }
    // gRPC: the traces once more, as a gRPC exporter sends them (stored already: nothing changes).
    for server in [&reference, &cluster] {
        for fixture in fixtures::load("traces") {
            let mut client = TraceServiceClient::connect(server.grpc_endpoint())
                .await
                .expect("connect over gRPC");
            let response = client
                .export(fixture.decode::<ExportTraceServiceRequest>())
                .await
                .unwrap_or_else(|e| panic!("{} over gRPC: {e}", fixture.name));
            assert_eq!(response.into_inner().partial_success, None);
        }
    }
    // Costs computed again after a price change, on both (the built-in rows changed become the
    // user's, by model_prices' row trigger, on the reference table's shards too).
    for url in [single.url(), coordinator.url()] {
        connect(&url)
            .await
            .batch_execute(
                "UPDATE agent_trace.model_prices SET input_usd_per_mtok = input_usd_per_mtok * 2;
                 SELECT * FROM agent_trace.recompute_costs('-infinity', 'infinity');",
            )
            .await
            .unwrap_or_else(|e| panic!("recompute_costs on {url}: {e:?}"));
    }
    // Scores (scores.sql): one per trace, on its root span, by the writer on the cluster (each sent
    // twice: stored once), plus one of a trace that never arrives.
    let scored: Vec<(String, Option<String>)> = client
        .query(
            "SELECT trace_id::text, root_span_id::text FROM agent_trace.agent_traces ORDER BY 1",
            &[],
        )
        .await
        .expect("traces to score")
        .iter()
        .map(|row| (row.get(0), row.get(1)))
        .collect();
    let mut scores = String::new();
    for (k, (trace, root)) in scored.iter().enumerate() {
        let span = root
            .as_ref()
            .map_or("NULL".to_string(), |s| format!("'{s}'"));
        scores += &format!(
            "SELECT agent_trace.add_score('{trace}', 'quality', {}, '{}', span_id => {span}, source => 'llm', scored_at => '2026-11-2{} 12:00+00');\n",
            (k % 5) as f64 / 4.0,
            if k % 2 == 0 { "good" } else { "bad" },
            k % 3
        );
    }
    scores += "SELECT agent_trace.add_score('efefefefefefefefefefefefefefefef', 'thumbs', label => 'down', source => 'end_user', scored_at => '2026-11-21 12:00+00');\n";
    connect(&single.url())
        .await
        .batch_execute(&scores)
        .await
        .expect("scores on the reference");
    let writer = connect(&writer_url).await;
    for _ in 0..2 {
        writer
            .batch_execute(&scores)
            .await
            .expect("scores on the cluster, by the writer");
    }
    // Scores over OTLP naming a model response (scores.sql), to both: one without a run, moved
    // onto the stored span carrying that response (on the cluster right after the commit); one of
    // a known run without its span, given it; one whose response never comes, left waiting.
    let (responding_trace, response): (String, String) = {
        let row = connect(&single.url())
            .await
            .query_one(
                "SELECT trace_id::text, attributes ->> 'gen_ai.response.id' FROM agent_trace.agent_spans
                  WHERE attributes ? 'gen_ai.response.id' ORDER BY 1, 2 LIMIT 1",
                &[],
            )
            .await
            .expect("a captured span carrying a response id");
        (row.get(0), row.get(1))
    };
    let evaluation = |name: &str, trace: &str, response: &str| {
        format!(
            r#"{{"timeUnixNano": "1763640000000000000", "eventName": "gen_ai.evaluation.result", "traceId": "{trace}",
                "attributes": [{{"key": "gen_ai.evaluation.name", "value": {{"stringValue": "{name}"}}}},
                               {{"key": "gen_ai.evaluation.score.value", "value": {{"doubleValue": 0.75}}}},
                               {{"key": "gen_ai.response.id", "value": {{"stringValue": "{response}"}}}}]}}"#
        )
    };
    let evaluations = format!(
        r#"{{"resourceLogs": [{{"scopeLogs": [{{"logRecords": [{}, {}, {}]}}]}}]}}"#,
        evaluation("citus-waiting", "", &response),
        evaluation("citus-run", &responding_trace, &response),
        evaluation("citus-never", "", "chatcmpl-never-sent"),
    );
    for server in [&reference, &cluster] {
        let answer = post_json(&server.url("/v1/logs"), &evaluations, None).await;
        assert_eq!(answer.status, 200, "{}\n{}", answer.body, server.log());
    }
    assert_eq!(
        client
            .query_one(
                "SELECT count(*) FILTER (WHERE span_id IS NOT NULL), count(*) FROM agent_trace.agent_scores
                  WHERE name LIKE 'citus-%'",
                &[],
            )
            .await
            .map(|row| (row.get::<_, i64>(0), row.get::<_, i64>(1)))
            .expect("the linked scores"),
        (2, 2),
        "both scores naming a stored response are on its span, on the cluster\n{}",
        cluster.log()
    );
    let expected = answers(&single.url()).await;
    assert!(
        expected
            .iter()
            .any(|(name, rows)| name == "agent_spans" && rows.lines().count() > 400)
    );
    assert!(
        expected
            .iter()
            .any(|(name, rows)| name == "agent_scores_pending" && rows.contains("citus-never"))
    );
    assert!(
        expected
            .iter()
            .any(|(name, rows)| name == "agent_score_stats" && rows.lines().count() > 3)
    );
    assert_same(
        &expected,
        &answers(&coordinator.url()).await,
        "after every request twice",
    );
    // The viewer's API answers alike from both (what the browser shows).
    let http = reqwest::Client::new();
    let trace_ids: Vec<String> = expected
        .iter()
        .find(|(name, _)| name == "agent_traces")
        .map(|(_, rows)| {
            rows.lines()
                .filter_map(|row| serde_json::from_str::<serde_json::Value>(row).ok())
                .filter_map(|row| row["trace_id"].as_str().map(str::to_string))
                .take(5)
                .collect()
        })
        .unwrap_or_default();
    assert!(!trace_ids.is_empty());
    let mut paths = vec![
        "/api/traces?limit=500".to_string(),
        "/api/facets".to_string(),
        "/api/sessions".to_string(),
        "/api/usage?bucket=1%20day".to_string(),
    ];
    for id in &trace_ids {
        paths.push(format!("/api/traces/{id}"));
        paths.push(format!("/api/traces/{id}/turns"));
        paths.push(format!("/api/traces/{id}/replay"));
    }
    for path in paths {
        let mut bodies = Vec::new();
        for server in [&reference, &cluster] {
            let response = http.get(server.url(&path)).send().await.expect("GET");
            let status = response.status();
            let body = response.text().await.expect("body");
            assert_eq!(status, 200, "GET {path}: {body}\n{}", server.log());
            bodies.push(body);
        }
        let json = |body: &str| serde_json::from_str::<serde_json::Value>(body).unwrap_or_default();
        assert!(
            bodies[0] == bodies[1],
            "GET {path} differs: {:?}\n--- one node\n{}\n--- cluster\n{}",
            first_difference(&json(&bodies[0]), &json(&bodies[1]), String::new()),
            bodies[0].chars().take(1500).collect::<String>(),
            bodies[1].chars().take(1500).collect::<String>()
        );
    }

    // One trace's spans are read from the worker that holds them: a router query, one task.
    let trace: String = client
        .query_one("SELECT trace_id::text FROM agent_trace.agent_traces ORDER BY span_count DESC, trace_id LIMIT 1", &[])
        .await
        .expect("a trace")
        .get(0);
    let plan: Vec<String> = client
        .query(
            &format!(
                "EXPLAIN SELECT * FROM agent_trace.agent_spans WHERE trace_id = '{trace}'
                    AND start_time BETWEEN agent_trace.trace_start('{trace}') AND agent_trace.trace_end('{trace}')"
            ),
            &[],
        )
        .await
        .expect("explain")
        .iter()
        .map(|row| row.get(0))
        .collect();
    assert!(
        plan.iter().any(|line| line.contains("Task Count: 1")),
        "{}",
        plan.join("\n")
    );

    // AgentOS against the coordinator as against one node: enable_agno_compat copies the traces,
    // an unmodified AgentOS app lists, searches and opens them alike, and its own agent's spans,
    // stored through the compatible schema, are counted in their traces.
    let agentos_setup = "CREATE ROLE agentos_app LOGIN PASSWORD 'agentos' IN ROLE agent_trace_reader, agent_trace_writer;
         SELECT agent_trace.enable_agno_compat('ai');
         GRANT CREATE ON SCHEMA ai TO agentos_app;
         DO $$ BEGIN EXECUTE format('GRANT CREATE ON DATABASE %I TO agentos_app', current_database()); END $$;";
    for url in [single.url(), coordinator.url()] {
        connect(&url)
            .await
            .batch_execute(agentos_setup)
            .await
            .unwrap_or_else(|e| panic!("AgentOS compatibility on {url}: {e:?}"));
    }
    let agentos_url = |url: &str| {
        let (_, rest) = url.split_once("://").expect("a URL");
        let (_, host) = rest.split_once('@').expect("a user in the URL");
        format!("postgresql+psycopg://agentos_app:agentos@{host}")
    };
    let mut agentos_requests = vec![
        agentos::get("/traces", serde_json::json!({"limit": 100})),
        agentos::get("/trace_session_stats", serde_json::json!({"limit": 100})),
        agentos::post(
            "/traces/search",
            serde_json::json!({"filter": {"op": "EQ", "key": "status", "value": "ERROR"}, "limit": 100}),
        ),
    ];
    agentos_requests.extend(
        trace_ids
            .iter()
            .map(|id| agentos::get(&format!("/traces/{id}"), serde_json::json!({}))),
    );
    let mut agentos_answers = Vec::new();
    for url in [single.url(), coordinator.url()] {
        let report = agentos::agno_app(
            "api",
            vec![
                "api".into(),
                "--db-url".into(),
                agentos_url(&url),
                "--schema".into(),
                "ai".into(),
            ],
            vec![(
                "--requests",
                serde_json::Value::from(agentos_requests.clone()).to_string(),
            )],
        )
        .await;
        let mut answers = report["answers"].clone();
        // When each row was stored differs between the two databases, and so may the order of
        // traces that started in the same microsecond: compared as sets.
        without_key(&mut answers, "created_at");
        without_key(&mut answers, "search_time_ms");
        without_key(&mut answers, "first_trace_at");
        without_key(&mut answers, "last_trace_at");
        for answer in answers.as_array_mut().into_iter().flatten() {
            if let Some(data) = answer["body"]["data"].as_array_mut() {
                data.sort_by_key(|row| row["trace_id"].to_string());
            }
        }
        agentos_answers.push(answers);
    }
    for (i, request) in agentos_requests.iter().enumerate() {
        assert_eq!(agentos_answers[1][i]["status"], 200, "{request}");
        if let Some((path, one, many)) = first_difference(
            &agentos_answers[0][i],
            &agentos_answers[1][i],
            String::new(),
        ) {
            let element = |answer: &serde_json::Value| {
                path.split('.')
                    .filter(|part| !part.is_empty())
                    .take(2)
                    .fold(answer.clone(), |value, part| match part.split_once('[') {
                        Some((key, index)) => value[key]
                            [index.trim_end_matches(']').parse::<usize>().unwrap_or(0)]
                        .clone(),
                        None => value[part].clone(),
                    })
            };
            panic!(
                "AgentOS answers {request} differently at {path}:\n--- one node\n{one}\n--- cluster\n{many}\n--- in\n{}\n{}",
                element(&agentos_answers[0][i]),
                element(&agentos_answers[1][i])
            );
        }
    }
    let report = agentos::agno_app(
        "db",
        vec![
            "run".into(),
            "--db-url".into(),
            agentos_url(&coordinator.url()),
            "--schema".into(),
            "ai".into(),
            "--runs".into(),
            "2".into(),
        ],
        vec![],
    )
    .await;
    for run in report["runs"].as_array().expect("runs") {
        let run_id = run["run_id"].as_str().expect("a run id");
        let row = client
            .query_one(
                "SELECT span_count, llm_call_count, tool_call_count, input_tokens
                   FROM agent_trace.agent_traces WHERE run_id = $1",
                &[&run_id],
            )
            .await
            .unwrap_or_else(|e| panic!("the trace of AgentOS run {run_id}: {e:?}"));
        assert_eq!(
            (
                row.get::<_, i32>(0),
                row.get::<_, i32>(1),
                row.get::<_, i32>(2),
                row.get::<_, Option<i64>>(3)
            ),
            (4, 2, 1, Some(84)),
            "AgentOS run {run_id} on the cluster"
        );
        let copied: i64 = client
            .query_one(
                "SELECT count(*) FROM ai.agno_traces WHERE run_id = $1",
                &[&run_id],
            )
            .await
            .expect("AgentOS's copy")
            .get(0);
        assert_eq!(copied, 1, "AgentOS run {run_id} in ai.agno_traces");
    }
    // Its runs go again (one node has none), and their copies with them.
    let run_ids: Vec<String> = report["runs"]
        .as_array()
        .expect("runs")
        .iter()
        .filter_map(|run| run["run_id"].as_str().map(str::to_string))
        .collect();
    client
        .execute(
            "DELETE FROM agent_trace.agent_spans WHERE trace_id IN
                 (SELECT trace_id FROM agent_trace.agent_traces WHERE run_id = ANY ($1))",
            &[&run_ids],
        )
        .await
        .expect("delete AgentOS's runs");
    client
        .batch_execute("SELECT agent_trace.refresh_traces('-infinity', 'infinity')")
        .await
        .expect("refresh_traces");
    let left: i64 = client
        .query_one(
            "SELECT count(*) FROM ai.agno_traces WHERE run_id = ANY ($1)",
            &[&run_ids],
        )
        .await
        .expect("AgentOS's copy")
        .get(0);
    assert_eq!(left, 0, "deleted traces leave AgentOS's copy too");

    // Row-level security holds on the cluster (the grants, a reference table, name roles that
    // have other oids on the workers): once the default project is no longer granted to every
    // reader, a reader granted another project sees none of its rows through the coordinator, in
    // tables, views and functions, and a reader granted it sees them.
    coordinator
        .execute(
            "SELECT agent_trace.revoke_project('default', 'agent_trace_reader');
             SELECT agent_trace.create_project('other');
             CREATE ROLE citus_other LOGIN IN ROLE agent_trace_reader;
             SELECT agent_trace.grant_project('other', 'citus_other');
             CREATE ROLE citus_default LOGIN IN ROLE agent_trace_reader;
             SELECT agent_trace.grant_project('default', 'citus_default');",
        )
        .await;
    for (role, visible) in [("citus_other", false), ("citus_default", true)] {
        let reader = connect(&coordinator.url().replace("postgres@", &format!("{role}@"))).await;
        let counts = reader
            .query_one(
                &format!(
                    "SELECT ARRAY[(SELECT count(*) FROM agent_trace.agent_spans),
                                  (SELECT count(*) FROM agent_trace.agent_traces),
                                  (SELECT count(*) FROM agent_trace.agent_logs),
                                  (SELECT count(*) FROM agent_trace.agent_turns),
                                  (SELECT count(*) FROM agent_trace.trace_tree('{trace}')),
                                  (SELECT count(*) FROM agent_trace._agno_trace_spans('{trace}', 1)),
                                  (SELECT count(*) FROM ai.agno_spans)]"
                ),
                &[],
            )
            .await
            .unwrap_or_else(|e| panic!("{role} reads: {e:?}"))
            .get::<_, Vec<i64>>(0);
        assert!(
            counts.iter().all(|&n| (n > 0) == visible),
            "{role} sees {counts:?} (spans, traces, logs, turns, tree, a trace's spans for AgentOS, AgentOS's spans)"
        );
    }
    // The attacks on what distribute() added: a reader asking the policies' function about another
    // role learns nothing, and may not call the writer's recompute.
    let other_reader = connect(&coordinator.url().replace("postgres@", "citus_other@")).await;
    let learned: Vec<i32> = other_reader
        .query_one(
            "SELECT agent_trace._projects_granted_cached('read', 'citus_default')",
            &[],
        )
        .await
        .expect("the policies' function")
        .get(0);
    assert!(learned.is_empty(), "citus_other learned {learned:?}");
    let refused = other_reader
        .batch_execute(&format!(
            "SELECT agent_trace.refresh_written_traces(ARRAY['{trace}']::agent_trace.trace_id[], ARRAY[1], NULL, NULL)"
        ))
        .await
        .expect_err("a reader recomputing traces");
    assert_eq!(
        refused.code(),
        Some(&tokio_postgres::error::SqlState::INSUFFICIENT_PRIVILEGE),
        "{refused:?}"
    );

    // Spans stored around the ingest (a plain INSERT, no trigger on Citus) reach their traces at
    // the next maintain(), and AgentOS's copy follows them.
    let root: String = client
        .query_one(
            &format!(
                "SELECT root_span_id::text FROM agent_trace.agent_traces WHERE trace_id = '{trace}'"
            ),
            &[],
        )
        .await
        .expect("the trace's root")
        .get(0);
    let other: String = client
        .query_one(
            &format!("SELECT trace_id::text FROM agent_trace.agent_traces WHERE trace_id <> '{trace}' AND root_span_id IS NOT NULL ORDER BY span_count DESC, trace_id LIMIT 1"),
            &[],
        )
        .await
        .expect("another trace")
        .get(0);
    let plain_insert = format!(
        "INSERT INTO agent_trace.agent_spans (trace_id, span_id, parent_span_id, name, start_time, end_time, status_code)
         VALUES ('{trace}', '00000000000000aa',
                 '{root}', 'added by SQL',
                 agent_trace.trace_start('{trace}') + interval '1 ms',
                 agent_trace.trace_start('{trace}') + interval '1 second', 'ERROR'),
                ('{other}', '00000000000000ac', NULL, 'an earlier root without a service',
                 agent_trace.trace_start('{other}') - interval '1 second', agent_trace.trace_start('{other}'), 'OK'),
                ('abababababababababababababababab', '00000000000000ab', NULL, 'a trace by SQL',
                 '2026-11-21 12:00+00', '2026-11-21 12:00:02+00', 'OK');
         SELECT count(*) FROM agent_trace.maintain();"
    );
    for url in [single.url(), coordinator.url()] {
        connect(&url)
            .await
            .batch_execute(&plain_insert)
            .await
            .unwrap_or_else(|e| panic!("plain insert on {url}: {e:?}"));
    }
    assert_same(
        &answers(&single.url()).await,
        &answers(&coordinator.url()).await,
        "after spans inserted by SQL and maintain()",
    );
    // Retention and erasure, on both.
    for url in [single.url(), coordinator.url()] {
        connect(&url)
            .await
            .batch_execute(
                "SELECT agent_trace.set_retention('logs', '1 day');
                 SELECT count(*) FROM agent_trace._maintain(now() + interval '400 days');
                 SELECT count(*) FROM agent_trace.erase(session_id => (SELECT min(session_id) FROM agent_trace.agent_spans));",
            )
            .await
            .unwrap_or_else(|e| panic!("retention and erasure on {url}: {e:?}"));
    }
    assert_same(
        &answers(&single.url()).await,
        &answers(&coordinator.url()).await,
        "after retention and erasure",
    );

    // Concurrent batches with spans of one trace (a trace's copies straddle requests, four clients):
    // their recomputes after commit once deadlocked on the workers; every span counts once.
    let before: i64 = client
        .query_one("SELECT count(*) FROM agent_trace.agent_spans", &[])
        .await
        .expect("spans")
        .get(0);
    let load = requests("py_sdk_agent/010_v1_traces", 4_000, 250);
    send(&cluster.url("/v1/traces"), &load, 4).await;
    let (stored, counted): (i64, i64) = {
        let row = client
            .query_one(
                "SELECT (SELECT count(*) FROM agent_trace.agent_spans),
                        (SELECT sum(span_count)::bigint FROM agent_trace.agent_traces)",
                &[],
            )
            .await
            .expect("counts");
        (row.get(0), row.get(1))
    };
    assert_eq!(
        (stored - before, counted),
        (4_000, stored),
        "spans stored by the concurrent load, and all spans counted in agent_traces"
    );
    assert!(
        !cluster.log().contains("not recomputed"),
        "a recompute after commit failed:\n{}",
        cluster.log()
    );
    // Gone again by a plain DELETE, which on Citus fixes no trace until refresh_traces runs
    // (docs/scaling-out.md); then the cluster holds what the reference holds.
    client
        .batch_execute(
            "DELETE FROM agent_trace.agent_spans WHERE trace_id::text LIKE '%0000000000005eed';
             SELECT agent_trace.refresh_traces('-infinity', 'infinity');",
        )
        .await
        .expect("delete the load");
    assert_same(
        &answers(&single.url()).await,
        &answers(&coordinator.url()).await,
        "after the load was deleted and refresh_traces ran",
    );

    // A worker stops: what the ingest cannot store, it answers 503, storing nothing of it; sent
    // again once the worker is back, every request is stored once.
    workers[1].stop_server();
    let answered = send_every_fixture(&cluster.url("")).await;
    let unavailable: Vec<&String> = answered
        .iter()
        .filter(|(_, status)| *status == 503)
        .map(|(name, _)| name)
        .collect();
    assert!(
        !unavailable.is_empty()
            && answered
                .iter()
                .all(|(_, status)| matches!(status, 200 | 503)),
        "{answered:?}"
    );
    workers[1].start_server();
    common::wait_until("the worker answers", Duration::from_secs(30), || async {
        let answered = send_every_fixture(&cluster.url("")).await;
        answered.iter().all(|(_, status)| *status == 200)
    })
    .await;
    let _ = send_every_fixture(&reference.url("")).await;
    assert_same(
        &answers(&single.url()).await,
        &answers(&coordinator.url()).await,
        "after a worker outage and retries",
    );
    reference.terminate();
    cluster.terminate();
}

/// `value` without any member named `key`, at any depth.
fn without_key(value: &mut serde_json::Value, key: &str) {
    match value {
        serde_json::Value::Object(members) => {
            members.remove(key);
            members.values_mut().for_each(|v| without_key(v, key));
        }
        serde_json::Value::Array(items) => items.iter_mut().for_each(|v| without_key(v, key)),
        _ => {}
    }
}

/// Where two JSON values first differ: the path, and each side there.
fn first_difference(
    one: &serde_json::Value,
    many: &serde_json::Value,
    path: String,
) -> Option<(String, String, String)> {
    use serde_json::Value;
    match (one, many) {
        (Value::Object(a), Value::Object(b)) => {
            let keys: std::collections::BTreeSet<&String> = a.keys().chain(b.keys()).collect();
            keys.into_iter().find_map(|k| {
                first_difference(
                    a.get(k).unwrap_or(&Value::Null),
                    b.get(k).unwrap_or(&Value::Null),
                    format!("{path}.{k}"),
                )
            })
        }
        (Value::Array(a), Value::Array(b)) if a.len() == b.len() => a
            .iter()
            .zip(b)
            .enumerate()
            .find_map(|(i, (x, y))| first_difference(x, y, format!("{path}[{i}]"))),
        _ if one == many => None,
        _ => Some((path, one.to_string(), many.to_string())),
    }
}
