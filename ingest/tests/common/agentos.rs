//! Agno's AgentOS for the tests: `tests/clients/agno_app.py` (the real `agno` package, from the
//! venv `scripts/install-test-clients.sh` makes) run to completion, and its HTTP requests.

use super::{PythonRun, repo_root, run_python_client, venv_python};
use serde_json::{Value, json};
use std::process::Command;
use std::time::Duration;

/// The Python app may take this long before it is killed.
const DEADLINE: Duration = Duration::from_secs(180);

/// Runs `agno_app.py ARGS --output FILE` to completion off the async workers (the ingest serves in
/// this process) and returns its report, after checking it exited well and logged nothing.
pub async fn agno_app(name: &str, args: Vec<String>, files: Vec<(&str, String)>) -> Value {
    let name = name.to_string();
    let files: Vec<(String, String)> = files.into_iter().map(|(f, t)| (f.into(), t)).collect();
    tokio::task::spawn_blocking(move || run_agno_app(&name, &args, &files))
        .await
        .expect("the Python app runner")
}

fn run_agno_app(name: &str, args: &[String], files: &[(String, String)]) -> Value {
    // Tests run in parallel in this process: each run gets its own directory.
    static RUNS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let run = RUNS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let dir = std::env::temp_dir().join(format!(
        "agent-trace-agno-{name}-{}-{run}",
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("the app's directory");
    let mut command = Command::new(venv_python("the pinned agno these tests run"));
    command
        .arg(repo_root().join("tests/clients/agno_app.py"))
        .args(args)
        // AgentOS's telemetry stays off.
        .env("AGNO_TELEMETRY", "false");
    for (flag, text) in files {
        let path = dir.join(flag.trim_start_matches('-'));
        std::fs::write(&path, text).expect("an input file");
        command.arg(flag).arg(path);
    }
    let PythonRun {
        status,
        output,
        report,
        elapsed,
    } = run_python_client(command, &dir, DEADLINE);
    let report: Value = match report {
        Ok(text) => serde_json::from_str(&text).expect("the app's JSON report"),
        Err(error) => panic!("{name}: no report ({status}, {error}):\n{output}"),
    };
    println!("{name}: {status} in {elapsed:.1?}");
    let _ = std::fs::remove_dir_all(&dir);
    assert!(
        status.success() && report["log"] == json!([]),
        "{name}: the app failed ({status}) or Agno/OpenTelemetry logged: {:#}\n{output}",
        report["log"]
    );
    report
}

/// One HTTP request of the `api` command.
pub fn get(path: &str, params: Value) -> Value {
    json!({"method": "GET", "path": path, "params": params})
}

pub fn post(path: &str, body: Value) -> Value {
    json!({"method": "POST", "path": path, "json": body})
}
