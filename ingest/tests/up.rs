//! `agent-trace up` as a user runs it: it creates a private PostgreSQL 15 cluster with the
//! extension, serves OTLP into it, and on SIGTERM (or Ctrl-C) stops the server and the cluster; the
//! next `up` finds the same data. Needs the extension installed (`make install-extension`).

mod common;

use common::free_port;
use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_agent-trace");

struct Up {
    dir: PathBuf,
    pg_port: u16,
    listen_port: u16,
}

impl Up {
    fn new(name: &str) -> Self {
        let dir =
            std::env::temp_dir().join(format!("agent-trace-up-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        Self {
            dir,
            pg_port: free_port(),
            listen_port: free_port(),
        }
    }

    fn command(&self, subcommand: &str) -> Command {
        let mut command = Command::new(BIN);
        command
            .arg(subcommand)
            .arg("--dir")
            .arg(&self.dir)
            .arg("--pg-port")
            .arg(self.pg_port.to_string());
        if subcommand == "up" {
            command
                .arg("--listen")
                .arg(format!("127.0.0.1:{}", self.listen_port));
            command
                .arg("--grpc-listen")
                .arg(format!("127.0.0.1:{}", free_port()));
        }
        command
    }

    /// Starts `up` and returns once it has printed its instructions (the server is then listening).
    fn start(&self) -> (Child, String) {
        let mut child = self
            .command("up")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn up");
        let stdout = child.stdout.take().expect("stdout");
        let mut printed = String::new();
        let deadline = Instant::now() + Duration::from_secs(60);
        for line in BufReader::new(stdout).lines() {
            let line = line.expect("read stdout");
            printed.push_str(&line);
            printed.push('\n');
            if line.contains("Ctrl-C stops") || Instant::now() > deadline {
                break;
            }
        }
        // The listener is bound after the banner; wait for it.
        while std::net::TcpStream::connect(("127.0.0.1", self.listen_port)).is_err() {
            assert!(
                Instant::now() < deadline,
                "up never listened; printed:\n{printed}"
            );
            if let Some(status) = child.try_wait().expect("poll up") {
                panic!("up exited with {status}; printed:\n{printed}");
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        (child, printed)
    }

    fn psql(&self, sql: &str) -> Output {
        Command::new("psql")
            .args(["-X", "-At", "-v", "ON_ERROR_STOP=1"])
            .arg(format!(
                "postgresql://postgres@127.0.0.1:{}/agent_trace",
                self.pg_port
            ))
            .args(["-c", sql])
            .output()
            .expect("run psql")
    }
}

impl Drop for Up {
    fn drop(&mut self) {
        let _ = self.command("down").output();
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

fn terminate(child: &mut Child) -> std::process::ExitStatus {
    let pid = child.id().to_string();
    assert!(
        Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .expect("kill")
            .success()
    );
    child.wait().expect("wait for up")
}

#[test]
fn up_serves_into_a_private_cluster_and_stops_it_on_sigterm() {
    let up = Up::new("serve");
    let (mut child, printed) = up.start();
    let connection = format!("postgresql://postgres@127.0.0.1:{}/agent_trace", up.pg_port);
    assert!(
        printed.contains(&format!("psql \"{connection}\"")),
        "no connection string in:\n{printed}"
    );
    assert!(
        printed.contains(&format!(
            "OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:{}",
            up.listen_port
        )),
        "{printed}"
    );

    let version =
        stdout(&up.psql("SELECT extversion FROM pg_extension WHERE extname = 'agent_trace'"));
    assert_eq!(version.trim(), env!("CARGO_PKG_VERSION"));
    stdout(&up.psql(
        "INSERT INTO agent_trace.agent_spans (trace_id, span_id, name, start_time, end_time)
         VALUES ('4bf92f3577b34da6a3ce929d0e0e4736', '00f067aa0ba902b7', 'kept', now(), now())",
    ));

    let status = terminate(&mut child);
    assert!(status.success(), "up exited with {status}");
    assert!(
        !up.psql("SELECT 1").status.success(),
        "the cluster still answers after up stopped"
    );

    // The next `up` finds the same data.
    let (mut child, _) = up.start();
    assert_eq!(
        stdout(&up.psql("SELECT name FROM agent_trace.agent_traces")).trim(),
        "kept"
    );
    assert!(terminate(&mut child).success());
}

#[test]
fn up_explains_a_port_that_is_taken() {
    // Hold a port the OS picks, so no other test can have it, and give it to up as its PG port.
    let occupied = std::net::TcpListener::bind("127.0.0.1:0").expect("hold a port");
    let mut up = Up::new("port-taken");
    up.pg_port = occupied.local_addr().expect("address").port();
    let output = up.command("up").output().expect("run up");
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains(&format!("starting PostgreSQL on 127.0.0.1:{}", up.pg_port)),
        "{stderr}"
    );
    assert!(stderr.contains("Address already in use"), "{stderr}");
}

#[test]
fn serve_refuses_a_public_address_without_a_token() {
    let output = Command::new(BIN)
        .args([
            "serve",
            "--database-url",
            "postgresql://127.0.0.1:1/x",
            "--listen",
            "0.0.0.0:4318",
        ])
        .output()
        .expect("run serve");
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("without a token"));
}
