//! The SQL API (trace_tree, diff_traces, replay, critical_path, agent_sessions, ...) on what real
//! clients sent: every captured request (traces, logs, metrics) is posted to the real server, then
//! `tests/fixture_sql/trace_api.sql` runs in psql and its output must equal
//! `tests/fixture_sql/trace_api.out`, like a pg_regress golden file (pg_regress itself cannot
//! decode OTLP). After an intended change: `AGENT_TRACE_BLESS=1 cargo test -p ingest --test sql_api`,
//! then read the diff of the .out file before committing it.

mod common;

use common::{TestDb, TestServer, post_fixture};
use ingest::fixtures;
use ingest::otlp::Limits;
use std::path::Path;
use std::process::Command;

#[tokio::test(flavor = "multi_thread")]
async fn sql_api_on_the_captured_traces_matches_the_golden_output() {
    let db = TestDb::start("sql-api");
    // No price import: CREATE EXTENSION's built-in prices give LLM calls without a reported cost one.
    let server = TestServer::start(&db, Limits::DEFAULT, None).await;
    let client = reqwest::Client::new();
    let requests = ["traces", "logs", "metrics"]
        .into_iter()
        .flat_map(fixtures::load);
    for fixture in requests {
        let status = post_fixture(&client, &server, &fixture).await.status();
        assert_eq!(status, 200, "{}", fixture.name);
    }
    server.stop().await;

    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixture_sql");
    let output = Command::new(db.cluster.bindir().join("psql"))
        .args(["-X", "-a", "-q", "-d", &db.url(), "-f", "trace_api.sql"])
        .current_dir(&dir)
        .env("PGTZ", "UTC")
        .output()
        .expect("run psql");
    // Errors go to stderr; merge them where they happened is not possible, so both are kept.
    let mut actual = String::from_utf8_lossy(&output.stdout).into_owned();
    let errors = String::from_utf8_lossy(&output.stderr);
    if !errors.is_empty() {
        actual.push_str("-- stderr:\n");
        actual.push_str(&errors);
    }
    let expected_path = dir.join("trace_api.out");
    if std::env::var_os("AGENT_TRACE_BLESS").is_some() {
        std::fs::write(&expected_path, &actual).expect("write the golden file");
        return;
    }
    let expected = std::fs::read_to_string(&expected_path).unwrap_or_default();
    if actual != expected {
        let results = dir.join("../results");
        std::fs::create_dir_all(&results).expect("tests/results");
        let actual_path = results.join("fixture_trace_api.out");
        std::fs::write(&actual_path, &actual).expect("write the actual output");
        let diff = Command::new("diff")
            .arg("-u")
            .arg(&expected_path)
            .arg(&actual_path)
            .output()
            .map(|d| String::from_utf8_lossy(&d.stdout).into_owned())
            .unwrap_or_default();
        panic!(
            "psql output differs from tests/fixture_sql/trace_api.out (actual kept in tests/results/):\n{diff}"
        );
    }
}
