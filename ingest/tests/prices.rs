//! Model prices against a real PostgreSQL 15 with the extension: the built-in prices CREATE
//! EXTENSION loads are the rows `agent-trace prices import` makes of the snapshot built into the
//! binary (one mapping), and importing that snapshot adds nothing to them; a small LiteLLM file
//! written here imported twice (the second time changes nothing), a newer list adding dated rows;
//! captured Claude Code and Gemini CLI requests replayed through the server with no import, their
//! computed cost checked against hand-computed values; `serve` warning when there is no price.

mod common;

use common::{ServeProcess, TestDb, TestServer, post_fixture};
use ingest::fixtures::{self, Fixture};
use ingest::otlp::Limits;
use std::path::Path;
use std::process::Command;

/// Runs `agent-trace prices import ARGS` against `db`; its stdout, or a panic with its output.
fn import(db: &TestDb, args: &[&str]) -> String {
    let output = Command::new(env!("CARGO_BIN_EXE_agent-trace"))
        .args(["prices", "import"])
        .args(args)
        .env("DATABASE_URL", db.url())
        .output()
        .expect("run agent-trace");
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert!(
        output.status.success(),
        "prices import {args:?} failed\nstdout: {stdout}\nstderr: {stderr}"
    );
    stdout
}

/// The rows of model_prices as text, in key order.
async fn price_rows(db: &TestDb, filter: &str) -> Vec<String> {
    let client = db.client().await;
    let sql = format!(
        "SELECT concat_ws(' | ', model_pattern, provider, effective_from, input_usd_per_mtok, output_usd_per_mtok,
                          cache_read_usd_per_mtok, cache_write_usd_per_mtok, reasoning_usd_per_mtok,
                          long_context_above_tokens, long_context_input_usd_per_mtok, source, source_date)
           FROM agent_trace.model_prices WHERE {filter}
          ORDER BY model_pattern, provider, effective_from, source"
    );
    client
        .query(&sql, &[])
        .await
        .expect("model_prices")
        .iter()
        .map(|row| row.get::<_, String>(0))
        .collect()
}

fn write_file(dir: &Path, name: &str, json: &serde_json::Value) -> String {
    let path = dir.join(name);
    std::fs::write(&path, serde_json::to_vec_pretty(json).unwrap()).expect("write price list");
    path.to_string_lossy().into_owned()
}

#[tokio::test(flavor = "multi_thread")]
async fn import_is_idempotent_and_keeps_history() {
    let db = TestDb::start("prices-import");
    let dir = std::env::temp_dir().join(format!("agent-trace-prices-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();

    // A small list in LiteLLM's format: one model per provider kind, a long-context tier, and
    // entries that are not imported (LiteLLM's format description, an image model).
    let list = serde_json::json!({
        "sample_spec": {"litellm_provider": "one of https://docs.litellm.ai/docs/providers", "mode": "one of: chat, ..."},
        "test-chat": {"litellm_provider": "openai", "mode": "chat",
                      "input_cost_per_token": 2.5e-06, "output_cost_per_token": 1e-05,
                      "cache_read_input_token_cost": 1.25e-06},
        "gemini/test-pro": {"litellm_provider": "gemini", "mode": "chat",
                            "input_cost_per_token": 1.25e-06, "output_cost_per_token": 1e-05,
                            "input_cost_per_token_above_200k_tokens": 2.5e-06,
                            "output_cost_per_token_above_200k_tokens": 1.5e-05},
        "test-claude": {"litellm_provider": "anthropic", "mode": "chat",
                        "input_cost_per_token": 3e-06, "output_cost_per_token": 1.5e-05,
                        "cache_read_input_token_cost": 3e-07, "cache_creation_input_token_cost": 3.75e-06},
        "test-image": {"litellm_provider": "openai", "mode": "image_generation", "output_cost_per_image": 0.04}
    });
    let first = write_file(&dir, "first.json", &list);
    let out = import(
        &db,
        &[&first, "--date", "2026-01-01", "--source", "test list 1"],
    );
    assert!(out.contains("Read 3 model prices"), "{out}");
    assert!(
        out.contains("3 rows added, 0 prices already known"),
        "{out}"
    );
    assert!(
        out.contains("SELECT * FROM agent_trace.recompute_costs('-infinity', 'infinity');"),
        "{out}"
    );
    let after_first = price_rows(&db, "source LIKE 'test list%'").await;
    assert_eq!(
        after_first,
        [
            "test-chat | openai | -infinity | 2.5 | 10 | 1.25 | test list 1 | 2026-01-01",
            "test-claude | anthropic | -infinity | 3 | 15 | 0.3 | 3.75 | test list 1 | 2026-01-01",
            "test-pro | gcp.gemini | -infinity | 1.25 | 10 | 200000 | 2.5 | test list 1 | 2026-01-01",
        ]
    );

    // The same file again: nothing changes.
    let out = import(
        &db,
        &[&first, "--date", "2026-01-01", "--source", "test list 1"],
    );
    assert!(
        out.contains("0 rows added, 3 prices already known"),
        "{out}"
    );
    assert_eq!(
        price_rows(&db, "source LIKE 'test list%'").await,
        after_first
    );

    // A newer list: test-chat got cheaper, test-claude is unchanged. One new row, dated; the old
    // row stays, so calls before 2026-06-01 keep the old price.
    let mut newer = list.clone();
    newer["test-chat"]["input_cost_per_token"] = serde_json::json!(2e-06);
    let second = write_file(&dir, "second.json", &newer);
    let out = import(
        &db,
        &[&second, "--date", "2026-06-01", "--source", "test list 2"],
    );
    assert!(
        out.contains("1 rows added, 2 prices already known"),
        "{out}"
    );
    assert!(
        out.contains("recompute_costs('2026-06-01', 'infinity')"),
        "{out}"
    );
    assert_eq!(
        price_rows(&db, "model_pattern = 'test-chat'").await,
        [
            "test-chat | openai | -infinity | 2.5 | 10 | 1.25 | test list 1 | 2026-01-01",
            "test-chat | openai | 2026-06-01 | 2 | 10 | 1.25 | test list 2 | 2026-06-01",
        ]
    );
    assert_eq!(
        db.number("SELECT (agent_trace.compute_cost('test-chat', 'openai', '2026-05-31 23:00+00', 1000000, 0, 0, 0, 0) * 100)::bigint")
            .await,
        250
    );
    assert_eq!(
        db.number("SELECT (agent_trace.compute_cost('test-chat', 'openai', '2026-06-01 00:00+00', 1000000, 0, 0, 0, 0) * 100)::bigint")
            .await,
        200
    );
    // Both files again, and the older one after the newer one: nothing changes.
    import(
        &db,
        &[&second, "--date", "2026-06-01", "--source", "test list 2"],
    );
    let out = import(
        &db,
        &[&first, "--date", "2026-01-01", "--source", "test list 1"],
    );
    assert!(out.contains("0 rows added"), "{out}");
    assert_eq!(
        db.number("SELECT count(*) FROM agent_trace.model_prices WHERE source LIKE 'test list%'")
            .await,
        4
    );

    // A price edited by hand survives re-imports of its own list (as `agent-trace up` re-imports the
    // snapshot at every start); a newer list that prices the model differently supersedes it from
    // the newer list's date on.
    db.execute("UPDATE agent_trace.model_prices SET output_usd_per_mtok = 16 WHERE model_pattern = 'test-claude'")
        .await;
    import(
        &db,
        &[&first, "--date", "2026-01-01", "--source", "test list 1"],
    );
    assert_eq!(
        price_rows(&db, "model_pattern = 'test-claude'").await,
        ["test-claude | anthropic | -infinity | 3 | 16 | 0.3 | 3.75 | test list 1 | 2026-01-01"]
    );
    import(
        &db,
        &[&second, "--date", "2026-06-01", "--source", "test list 2"],
    );
    assert_eq!(
        price_rows(&db, "model_pattern = 'test-claude'").await,
        [
            "test-claude | anthropic | -infinity | 3 | 16 | 0.3 | 3.75 | test list 1 | 2026-01-01",
            "test-claude | anthropic | 2026-06-01 | 3 | 15 | 0.3 | 3.75 | test list 2 | 2026-06-01",
        ]
    );

    // The snapshot built into the binary, with its own source and date: CREATE EXTENSION loaded it
    // already (as built-in rows dated the snapshot's date), so importing it adds nothing, as
    // `agent-trace up` does at every start.
    let snapshot = ingest::cli::prices::parse(ingest::cli::prices::SNAPSHOT).expect("snapshot");
    let out = import(&db, &[]);
    assert!(
        out.contains(&format!(
            "0 rows added, {} prices already known",
            snapshot.prices.len()
        )),
        "{out}"
    );
    assert!(
        out.contains(
            "source \"litellm 1.106.2 model_prices_and_context_window_backup.json\", dated 2026-10-21"
        ),
        "{out}"
    );
    assert_eq!(
        price_rows(&db, "model_pattern = 'claude-sonnet-4-5'").await,
        [
            "claude-sonnet-4-5 | anthropic | -infinity | 3 | 15 | 0.3 | 3.75 | agent_trace built-in | 2026-10-21"
        ]
    );

    // Malformed input is refused before anything is written.
    let bad = write_file(
        &dir,
        "bad.json",
        &serde_json::json!(["not", "a", "price", "list"]),
    );
    let output = Command::new(env!("CARGO_BIN_EXE_agent-trace"))
        .args(["prices", "import", &bad, "--database-url", &db.url()])
        .output()
        .expect("run agent-trace");
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("not a LiteLLM price list"));
    let output = Command::new(env!("CARGO_BIN_EXE_agent-trace"))
        .args([
            "prices",
            "import",
            &first,
            "--date",
            "01/06/2026",
            "--database-url",
            &db.url(),
        ])
        .output()
        .expect("run agent-trace");
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("--date"));
    let _ = std::fs::remove_dir_all(&dir);
}

/// Every column of the prices of `source` but the source and when the row was stored, in key order.
async fn prices_of(db: &TestDb, source: &str) -> Vec<String> {
    db.client()
        .await
        .query(
            "SELECT (to_jsonb(p) - 'source' - 'created_at')::text FROM agent_trace.model_prices AS p
              WHERE p.source = $1 ORDER BY p.model_pattern, p.provider, p.effective_from",
            &[&source],
        )
        .await
        .expect("model_prices")
        .iter()
        .map(|row| row.get(0))
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn the_built_in_prices_are_what_importing_the_snapshot_gives() {
    let db = TestDb::start("prices-built-in");
    let snapshot = ingest::cli::prices::parse(ingest::cli::prices::SNAPSHOT).expect("snapshot");
    let source = snapshot.source.clone().expect("the snapshot's source");
    let built_in = prices_of(&db, ingest::cli::prices::BUILTIN_SOURCE).await;
    assert_eq!(built_in.len(), snapshot.prices.len());
    // Into an empty table, `prices import` of the snapshot writes the same rows but the source.
    db.execute("DELETE FROM agent_trace.model_prices").await;
    let out = import(&db, &[]);
    assert!(
        out.contains(&format!("{} rows added", snapshot.prices.len())),
        "{out}"
    );
    assert_eq!(prices_of(&db, &source).await, built_in);
}

#[tokio::test(flavor = "multi_thread")]
async fn an_import_compares_with_your_row_beside_a_built_in_one() {
    let db = TestDb::start("prices-yours");
    // gpt-4o priced by a row of yours beside the built-in one; a newer list gives it the built-in
    // price: that differs from the price in effect (yours), so the list adds a dated row. (The
    // built-in row is stored again after yours, so that the order of storage cannot pick yours.)
    db.execute(
        "INSERT INTO agent_trace.model_prices (model_pattern, provider, input_usd_per_mtok, output_usd_per_mtok)
         VALUES ('gpt-4o', 'openai', 1, 2);
         ALTER TABLE agent_trace.model_prices DISABLE TRIGGER model_prices_yours;
         UPDATE agent_trace.model_prices SET created_at = created_at
          WHERE model_pattern = 'gpt-4o' AND provider = 'openai' AND source = 'agent_trace built-in';
         ALTER TABLE agent_trace.model_prices ENABLE TRIGGER model_prices_yours;",
    )
    .await;
    let snapshot: serde_json::Value =
        serde_json::from_str(ingest::cli::prices::SNAPSHOT).expect("the snapshot's JSON");
    let dir = std::env::temp_dir().join(format!("agent-trace-prices-yours-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let list = write_file(
        &dir,
        "newer.json",
        &serde_json::json!({"gpt-4o": snapshot["gpt-4o"].clone()}),
    );
    let out = import(&db, &[&list, "--date", "2027-01-01", "--source", "newer"]);
    assert!(
        out.contains("1 rows added, 0 prices already known"),
        "{out}"
    );
    assert_eq!(
        price_rows(&db, "model_pattern = 'gpt-4o' AND provider = 'openai'").await,
        [
            "gpt-4o | openai | -infinity | 2.5 | 10 | 1.25 | agent_trace built-in | 2026-10-21",
            "gpt-4o | openai | -infinity | 1 | 2 | manual",
            "gpt-4o | openai | 2027-01-01 | 2.5 | 10 | 1.25 | newer | 2027-01-01",
        ]
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test(flavor = "multi_thread")]
async fn serve_warns_at_start_when_there_is_no_price() {
    let db = TestDb::start("prices-none");
    const WARNING: &str = "agent_trace.model_prices is empty";
    // With the built-in prices: no warning (it would come before the ports are bound).
    let mut server = ServeProcess::serve(&db, &[]);
    server.wait_for_log("serving OTLP/HTTP on", std::time::Duration::from_secs(10));
    let (_, log) = server.terminate();
    assert!(!log.contains(WARNING), "{log}");
    // Without any price: a warning that says what to run. The server writes as the insert-only
    // login, which may not read model_prices, and still knows.
    db.execute("DELETE FROM agent_trace.model_prices").await;
    let mut server = ServeProcess::serve(&db, &[]);
    let line = server.wait_for_log(WARNING, std::time::Duration::from_secs(10));
    assert!(line.contains("WARN"), "{line}");
    assert!(line.contains("agent-trace prices import"), "{line}");
    assert!(line.contains("agent_trace.recompute_costs"), "{line}");
    drop(server);
    // What it says to run brings the prices back, and the warning goes.
    import(&db, &[]);
    let mut server = ServeProcess::serve(&db, &[]);
    server.wait_for_log("serving OTLP/HTTP on", std::time::Duration::from_secs(10));
    let (_, log) = server.terminate();
    assert!(!log.contains(WARNING), "{log}");
}

async fn post(client: &reqwest::Client, server: &TestServer, fixture: &Fixture) {
    let response = post_fixture(client, server, fixture).await;
    assert_eq!(response.status(), 200, "{}", fixture.name);
}

fn fixture(signal: &str, name: &str) -> Fixture {
    fixtures::load(signal)
        .into_iter()
        .find(|f| f.name == name)
        .unwrap_or_else(|| panic!("fixture {name}"))
}

#[tokio::test(flavor = "multi_thread")]
async fn replayed_cli_telemetry_gets_its_computed_cost() {
    // No import: the built-in prices CREATE EXTENSION loaded price the calls.
    let db = TestDb::start("prices-replay");
    let server = TestServer::start(&db, Limits::DEFAULT, None).await;
    let client = reqwest::Client::new();

    // Claude Code traces, sent twice (a client retry: stored and costed once). Two
    // claude_code.llm_request spans of claude-sonnet-4-5 (anthropic), 42 input and 17 output tokens,
    // no cache, no reported cost. By hand, at $3 / $15 per million tokens:
    //   42 x 3 / 1e6 + 17 x 15 / 1e6 = 0.000126 + 0.000255 = 0.000381 per call, 0.000762 the trace.
    // (Claude Code's own api_request log events report cost_usd 0.000381 for these calls.)
    post(
        &client,
        &server,
        &fixture("traces", "cli_claude/001_v1_traces"),
    )
    .await;
    post(
        &client,
        &server,
        &fixture("traces", "cli_claude/001_v1_traces"),
    )
    .await;
    let costs: Vec<String> = db
        .client()
        .await
        .query(
            "SELECT concat_ws(' ', s.name, s.model, s.cost_usd, c.computed_cost_usd, c.price_model_pattern,
                              c.price_provider, c.price_effective_from)
               FROM agent_trace.agent_spans AS s
               JOIN agent_trace.agent_span_costs AS c USING (trace_id, span_id, start_time)
              WHERE s.service_name = 'claude-code'
              ORDER BY s.start_time",
            &[],
        )
        .await
        .expect("span costs")
        .iter()
        .map(|row| row.get(0))
        .collect();
    assert_eq!(
        costs,
        [
            "claude_code.llm_request claude-sonnet-4-5 0.000381 claude-sonnet-4-5 anthropic -infinity",
            "claude_code.llm_request claude-sonnet-4-5 0.000381 claude-sonnet-4-5 anthropic -infinity",
        ]
    );
    let trace: Vec<String> = db
        .client()
        .await
        .query(
            "SELECT concat_ws(' ', coalesce(cost_usd::text, 'no-provided-cost'), computed_cost_usd, llm_call_count)
               FROM agent_trace.agent_traces WHERE service_name = 'claude-code'",
            &[],
        )
        .await
        .expect("trace")
        .iter()
        .map(|row| row.get(0))
        .collect();
    assert_eq!(trace, ["no-provided-cost 0.000762 2"]);

    // Gemini CLI log events (OTLP/JSON): its gemini_cli.api_response for gemini-2.5-pro reports 42
    // input and 17 output tokens and no cost: by hand, at $1.25 / $10 per million (Gemini API),
    //   42 x 1.25 / 1e6 + 17 x 10 / 1e6 = 0.0000525 + 0.00017 = 0.0002225.
    post(&client, &server, &fixture("logs", "cli_gemini/001_v1_logs")).await;
    let gemini: Vec<String> = db
        .client()
        .await
        .query(
            "SELECT concat_ws(' ', model, input_tokens, output_tokens, coalesce(cost_usd::text, 'no-provided-cost'),
                              computed_cost_usd)
               FROM agent_trace.agent_logs WHERE event_name = 'gemini_cli.api_response'",
            &[],
        )
        .await
        .expect("gemini logs")
        .iter()
        .map(|row| row.get(0))
        .collect();
    assert_eq!(gemini, ["gemini-2.5-pro 42 17 no-provided-cost 0.0002225"]);

    // Claude Code's api_request events of the same run carry their own cost: it stays in cost_usd,
    // none is computed, and it equals the cost computed for the trace's spans.
    post(&client, &server, &fixture("logs", "cli_claude/002_v1_logs")).await;
    assert_eq!(
        db.number(
            "SELECT count(*) FROM agent_trace.agent_logs
              WHERE event_name = 'api_request' AND cost_usd IS NOT NULL AND computed_cost_usd IS NULL"
        )
        .await,
        2
    );
    assert_eq!(
        db.number(
            "SELECT (round(sum(cost_usd), 9) = 0.000762)::int::bigint FROM agent_trace.agent_logs
              WHERE event_name = 'api_request' AND service_name = 'claude-code'"
        )
        .await,
        1
    );

    // Every captured log record: a computed cost exactly where tokens, a model and no reported cost
    // meet a price, equal to compute_cost of its columns.
    for f in fixtures::load("logs") {
        post(&client, &server, &f).await;
    }
    assert_eq!(
        db.number(
            "SELECT count(*) FROM agent_trace.agent_logs
              WHERE computed_cost_usd IS DISTINCT FROM
                    CASE WHEN cost_usd IS NULL THEN agent_trace.compute_cost(model,
                             coalesce(attributes ->> 'gen_ai.provider.name', attributes ->> 'gen_ai.system'),
                             time, input_tokens, output_tokens, cache_read_tokens, cache_write_tokens,
                             reasoning_tokens) END"
        )
        .await,
        0
    );

    // recompute_costs over everything changes nothing: the costs were computed with these prices.
    assert_eq!(
        db.number(
            "SELECT span_costs_added + span_costs_changed + span_costs_removed + traces_updated + log_costs_changed
               FROM agent_trace.recompute_costs('-infinity', 'infinity')"
        )
        .await,
        0
    );
    server.stop().await;
}

/// Stops what `up` started (the server and the private cluster) and removes its directory.
struct UpGuard {
    child: std::process::Child,
    dir: std::path::PathBuf,
    pg_port: u16,
}

impl Drop for UpGuard {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = Command::new(env!("CARGO_BIN_EXE_agent-trace"))
            .arg("down")
            .arg("--dir")
            .arg(&self.dir)
            .arg("--pg-port")
            .arg(self.pg_port.to_string())
            .output();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn up_finds_the_shipped_prices_loaded() {
    use std::io::{BufRead, BufReader};
    let dir = std::env::temp_dir().join(format!("agent-trace-up-prices-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let pg_port = common::free_port();
    let mut child = Command::new(env!("CARGO_BIN_EXE_agent-trace"))
        .arg("up")
        .arg("--dir")
        .arg(&dir)
        .args(["--pg-port", &pg_port.to_string()])
        .args(["--listen", "127.0.0.1:0", "--grpc-listen", "127.0.0.1:0"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("spawn up");
    let stdout = child.stdout.take().expect("stdout");
    let _guard = UpGuard {
        child,
        dir: dir.clone(),
        pg_port,
    };
    let mut printed = String::new();
    for line in BufReader::new(stdout).lines() {
        let line = line.expect("read stdout");
        printed.push_str(&line);
        printed.push('\n');
        if line.contains("Ctrl-C stops") {
            break;
        }
    }
    // up imports the binary's snapshot; CREATE EXTENSION loaded the same one: nothing to add.
    let snapshot = ingest::cli::prices::parse(ingest::cli::prices::SNAPSHOT).expect("snapshot");
    let expected = format!(
        "Model prices        {} models (litellm 1.106.2 model_prices_and_context_window_backup.json, 2026-10-21; 0 rows added)",
        snapshot.prices.len()
    );
    assert!(printed.contains(&expected), "{printed}");
    // The superuser's connection string, its password read from the cluster's password file.
    let cluster = ingest::cli::cluster::PrivateCluster::new(ingest::cli::cluster::ClusterConfig {
        dir: dir.clone(),
        port: pg_port,
        pg_config: ingest::cli::cluster::pg_config_from_env(),
    })
    .expect("up's cluster");
    let (client, connection) =
        tokio_postgres::connect(&cluster.connection_string(), tokio_postgres::NoTls)
            .await
            .expect("connect to up's cluster");
    tokio::spawn(connection);
    let count: i64 = client
        .query_one("SELECT count(*) FROM agent_trace.model_prices", &[])
        .await
        .expect("count")
        .get(0);
    assert_eq!(count as usize, snapshot.prices.len());
}
