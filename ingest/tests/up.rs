//! `agent-trace up` against the real PostgreSQL 15 of this machine: creates a private cluster with
//! the extension, reuses it on the next run, and `down` stops it. Needs the extension installed
//! (`make install-extension`; `make test` does it first).

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Command, Output};

const BIN: &str = env!("CARGO_BIN_EXE_agent-trace");

/// A cluster directory under /tmp (the `postgres` user must reach it when tests run as root),
/// stopped and removed when the test ends, pass or fail.
struct ScratchCluster {
    dir: PathBuf,
    port: u16,
}

impl ScratchCluster {
    fn new(name: &str) -> Self {
        let dir =
            std::env::temp_dir().join(format!("agent-trace-test-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .expect("free port");
        Self { dir, port }
    }

    fn agent_trace(&self, subcommand: &str) -> Output {
        Command::new(BIN)
            .arg(subcommand)
            .arg("--dir")
            .arg(&self.dir)
            .arg("--pg-port")
            .arg(self.port.to_string())
            .output()
            .expect("run agent-trace")
    }

    fn psql(&self, sql: &str) -> Output {
        Command::new("psql")
            .args(["-X", "-At", "-v", "ON_ERROR_STOP=1"])
            .arg(format!(
                "postgresql://postgres@127.0.0.1:{}/agent_trace",
                self.port
            ))
            .args(["-c", sql])
            .output()
            .expect("run psql")
    }
}

impl Drop for ScratchCluster {
    fn drop(&mut self) {
        let _ = self.agent_trace("down");
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn stdout(output: &Output) -> String {
    assert!(
        output.status.success(),
        "command failed: {}\nstdout: {}\nstderr: {}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

#[test]
fn up_creates_the_cluster_with_the_extension_and_reuses_it() {
    let cluster = ScratchCluster::new("up");

    let first = stdout(&cluster.agent_trace("up"));
    let connection = format!(
        "postgresql://postgres@127.0.0.1:{}/agent_trace",
        cluster.port
    );
    assert!(
        first.contains(&format!("psql \"{connection}\"")),
        "no connection string in: {first}"
    );

    let version =
        stdout(&cluster.psql("SELECT extversion FROM pg_extension WHERE extname = 'agent_trace'"));
    assert_eq!(version.trim(), env!("CARGO_PKG_VERSION"));
    stdout(&cluster.psql(
        "INSERT INTO agent_trace.agent_spans (trace_id, span_id, name, start_time, end_time)
         VALUES ('4bf92f3577b34da6a3ce929d0e0e4736', '00f067aa0ba902b7', 'kept', now(), now())",
    ));

    // A second `up` while running, and one after `down`, reuse the same data.
    stdout(&cluster.agent_trace("up"));
    stdout(&cluster.agent_trace("down"));
    assert!(
        !cluster.psql("SELECT 1").status.success(),
        "the cluster still answers after down"
    );
    stdout(&cluster.agent_trace("up"));
    let kept = stdout(&cluster.psql("SELECT name FROM agent_trace.agent_traces"));
    assert_eq!(kept.trim(), "kept");
}

#[test]
fn up_explains_a_port_that_is_taken() {
    let cluster = ScratchCluster::new("port-taken");
    let _occupied = TcpListener::bind(("127.0.0.1", cluster.port)).expect("hold the port");
    let output = cluster.agent_trace("up");
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains(&format!(
            "starting PostgreSQL on 127.0.0.1:{}",
            cluster.port
        )),
        "{stderr}"
    );
    assert!(
        stderr.contains("Address already in use") || stderr.contains("could not"),
        "{stderr}"
    );
}
