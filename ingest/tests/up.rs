//! `agent-trace up` as a user runs it: it creates a private PostgreSQL 15 cluster with the
//! extension, serves OTLP into it, and on SIGTERM (or Ctrl-C) stops the server and the cluster; the
//! next `up` finds the same data. Needs the extension installed (`make install-extension`).

mod common;

use common::{free_port, post_json};
use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_agent-trace");

struct Up {
    dir: PathBuf,
    /// The private cluster's port (PostgreSQL binds it itself: a port found free).
    pg_port: u16,
}

impl Up {
    fn new(name: &str) -> Self {
        let dir =
            std::env::temp_dir().join(format!("agent-trace-up-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        Self {
            dir,
            pg_port: free_port(),
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
            // Ports of its own choosing; the banner says which.
            command.args(["--listen", "127.0.0.1:0", "--grpc-listen", "127.0.0.1:0"]);
        }
        command
    }

    /// Starts `up` and returns once it has printed its instructions: its ports are bound then (a
    /// request waits until the server takes it), and the banner names them.
    fn start(&self) -> (UpProcess, String) {
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
        assert!(
            printed.contains("Ctrl-C stops"),
            "up stopped printing before its instructions:\n{printed}"
        );
        let port = printed
            .split("OTLP/HTTP endpoint  http://127.0.0.1:")
            .nth(1)
            .and_then(|rest| rest.split_whitespace().next())
            .and_then(|port| port.parse().ok())
            .unwrap_or_else(|| panic!("no OTLP/HTTP endpoint in:\n{printed}"));
        (UpProcess { child, port }, printed)
    }

    /// The connection string `up` prints: the superuser, its password from the password file.
    fn connection(&self) -> String {
        format!(
            "postgresql://postgres@127.0.0.1:{}/agent_trace?passfile={}/pgpass",
            self.pg_port,
            self.dir.display()
        )
    }

    fn psql(&self, sql: &str) -> Output {
        psql_as(&self.connection(), sql)
    }
}

/// psql with no password but what the connection string says (no prompt, no ~/.pgpass).
fn psql_as(connection: &str, sql: &str) -> Output {
    Command::new("psql")
        .args(["-X", "-At", "-w", "-v", "ON_ERROR_STOP=1"])
        .arg(connection)
        .args(["-c", sql])
        .env("PGPASSFILE", "/dev/null")
        .env_remove("PGPASSWORD")
        .output()
        .expect("run psql")
}

fn stderr(output: &Output) -> String {
    assert!(!output.status.success(), "should have failed: {output:?}");
    String::from_utf8_lossy(&output.stderr).into_owned()
}

impl Up {
    /// A login's password, from the password file.
    fn password_of(&self, role: &str) -> String {
        let pgpass = std::fs::read_to_string(self.dir.join("pgpass")).expect("pgpass");
        pgpass
            .lines()
            .find_map(|line| line.strip_prefix(&format!("127.0.0.1:*:*:{role}:")))
            .unwrap_or_else(|| panic!("a line for {role}"))
            .to_string()
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

/// A running `up` and its OTLP/HTTP port, killed if the test ends without stopping it (a failed
/// assertion), so that it does not outlive the test.
struct UpProcess {
    child: Child,
    port: u16,
}

impl Drop for UpProcess {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

fn terminate(up: &mut UpProcess) -> std::process::ExitStatus {
    let pid = up.child.id().to_string();
    assert!(
        Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .expect("kill")
            .success()
    );
    up.child.wait().expect("wait for up")
}

#[test]
fn up_serves_into_a_private_cluster_and_stops_it_on_sigterm() {
    let up = Up::new("serve");
    let (mut child, printed) = up.start();
    assert!(
        printed.contains(&format!("psql \"{}\"", up.connection())),
        "no connection string in:\n{printed}"
    );
    assert!(
        printed.contains(&format!(
            "OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:{}",
            child.port
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

/// A local process that does not hold the password gets nothing: not the superuser, not the
/// ingest's login; the password file is the user's alone; the server writes as the ingest's login,
/// which can insert and do nothing else (no reading prompts, no rewriting costs, no programs).
#[test]
fn up_asks_every_connection_for_a_password_and_writes_as_an_insert_only_login() {
    use std::os::unix::fs::PermissionsExt;
    let up = Up::new("auth");
    let (mut child, _) = up.start();
    let port = up.pg_port;

    for user in ["postgres", "agent_trace_ingest"] {
        let refused = psql_as(
            &format!("postgresql://{user}@127.0.0.1:{port}/agent_trace"),
            "SELECT 1",
        );
        assert!(
            stderr(&refused).contains("no password supplied"),
            "{refused:?}"
        );
        let wrong = psql_as(
            &format!("postgresql://{user}:guess@127.0.0.1:{port}/agent_trace"),
            "SELECT 1",
        );
        assert!(
            stderr(&wrong).contains("password authentication failed"),
            "{wrong:?}"
        );
    }
    let mode = std::fs::metadata(up.dir.join("pgpass"))
        .expect("pgpass")
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600, "pgpass mode {mode:o}");
    // The directory and the password file are the user's, whoever runs the server; others may at
    // most pass through the directory (as root, the server's own user must, to its data), never
    // list it or read the password file.
    use std::os::unix::fs::MetadataExt;
    let me = String::from_utf8_lossy(&Command::new("id").arg("-u").output().expect("id").stdout)
        .trim()
        .parse::<u32>()
        .expect("a uid");
    let dir = std::fs::metadata(&up.dir).expect("dir");
    assert_eq!(
        dir.uid(),
        me,
        "the directory belongs to the user who ran up"
    );
    assert_eq!(
        dir.permissions().mode() & 0o066,
        0,
        "nobody else may list or write the directory: {:o}",
        dir.permissions().mode()
    );
    let pgpass = std::fs::metadata(up.dir.join("pgpass")).expect("pgpass");
    assert_eq!(
        pgpass.uid(),
        me,
        "the password file belongs to the user who ran up"
    );
    let data = std::fs::metadata(up.dir.join("data")).expect("data");
    assert_eq!(
        data.permissions().mode() & 0o077,
        0,
        "the data directory is private"
    );

    // A span sent over OTLP is stored by the server's connections, which are agent_trace_ingest's.
    let body = r#"{"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"5bf92f3577b34da6a3ce929d0e0e4736","spanId":"10f067aa0ba902b7","name":"secret prompt","startTimeUnixNano":"1763769600000000000","endTimeUnixNano":"1763769601000000000","attributes":[{"key":"gen_ai.prompt","value":{"stringValue":"the user's secret"}}]}]}]}]}"#;
    let answer = tokio::runtime::Runtime::new()
        .expect("a runtime")
        .block_on(post_json(
            &format!("http://127.0.0.1:{}/v1/traces", child.port),
            body,
            None,
        ));
    assert_eq!(answer.status, 200, "{}", answer.body);
    // The server's connections: the ingest's login writes, the viewer's login reads; neither is the
    // superuser.
    assert_eq!(
        stdout(&up.psql(
            "SELECT string_agg(DISTINCT usename, ' ' ORDER BY usename) FROM pg_stat_activity
              WHERE datname = 'agent_trace' AND pid <> pg_backend_pid()"
        ))
        .trim(),
        "agent_trace_ingest agent_trace_viewer"
    );
    let viewer = format!(
        "postgresql://agent_trace_viewer:{}@127.0.0.1:{port}/agent_trace",
        up.password_of("agent_trace_viewer")
    );
    for (sql, says) in [
        (
            "INSERT INTO agent_trace.agent_spans (trace_id, span_id, name, start_time, end_time)
             VALUES ('5bf92f3577b34da6a3ce929d0e0e4736', '30f067aa0ba902b7', 'x', now(), now())",
            "permission denied for table agent_spans",
        ),
        (
            "COPY (SELECT 1) TO PROGRAM 'id'",
            "pg_execute_server_program",
        ),
        ("CREATE ROLE intruder SUPERUSER", "must be superuser"),
    ] {
        let refused = psql_as(&viewer, sql);
        assert!(stderr(&refused).contains(says), "{sql}: {refused:?}");
    }
    // It may read what the viewer shows, content columns included.
    assert_eq!(
        stdout(&psql_as(
            &viewer,
            "SELECT count(*) FROM agent_trace.agent_spans WHERE input IS NOT NULL"
        ))
        .trim(),
        "0"
    );

    let ingest = format!(
        "postgresql://agent_trace_ingest:{}@127.0.0.1:{port}/agent_trace",
        up.password_of("agent_trace_ingest")
    );
    for (sql, says) in [
        (
            "SELECT count(*) FROM agent_trace.agent_spans WHERE input IS NOT NULL",
            "permission denied for table agent_spans",
        ),
        (
            "UPDATE agent_trace.agent_traces SET cost_usd = 0",
            "permission denied for table agent_traces",
        ),
        (
            "COPY (SELECT 1) TO PROGRAM 'id'",
            "pg_execute_server_program",
        ),
        ("CREATE ROLE intruder SUPERUSER", "must be superuser"),
    ] {
        let refused = psql_as(&ingest, sql);
        assert!(stderr(&refused).contains(says), "{sql}: {refused:?}");
    }
    stdout(&psql_as(
        &ingest,
        "INSERT INTO agent_trace.agent_spans (trace_id, span_id, name, start_time, end_time)
         VALUES ('5bf92f3577b34da6a3ce929d0e0e4736', '20f067aa0ba902b7', 'inserted', now(), now())",
    ));
    assert_eq!(
        stdout(&up.psql("SELECT span_count FROM agent_trace.agent_traces")).trim(),
        "2"
    );
    assert!(terminate(&mut child).success());
}

/// A cluster made by an earlier agent-trace trusted every local connection and had no password
/// file. The next `up` keeps its data and switches it to passwords.
#[test]
fn up_switches_a_cluster_of_an_earlier_version_to_passwords() {
    let up = Up::new("upgrade");
    let data = up.dir.join("data");
    std::fs::create_dir_all(&up.dir).expect("dir");
    let bindir = String::from_utf8(
        Command::new(ingest::cli::cluster::pg_config_from_env())
            .arg("--bindir")
            .output()
            .expect("pg_config")
            .stdout,
    )
    .expect("utf-8");
    let bindir = std::path::Path::new(bindir.trim());
    let as_root =
        String::from_utf8_lossy(&Command::new("id").arg("-u").output().expect("id").stdout).trim()
            == "0";
    let server_program = |program: &str| {
        let mut command = if as_root {
            let mut command = Command::new("runuser");
            command
                .args(["-u", "postgres", "--"])
                .arg(bindir.join(program));
            command
        } else {
            Command::new(bindir.join(program))
        };
        command.arg("-D").arg(&data);
        command
    };
    if as_root {
        assert!(
            Command::new("chown")
                .args(["-R", "postgres"])
                .arg(&up.dir)
                .status()
                .expect("chown")
                .success()
        );
    }
    // As agent-trace 0.2.0 made it: trust, loopback TCP only.
    stdout(
        &server_program("initdb")
            .args([
                "-U",
                "postgres",
                "--auth=trust",
                "--encoding=UTF8",
                "--locale=C.UTF-8",
            ])
            .output()
            .expect("initdb"),
    );
    std::fs::OpenOptions::new()
        .append(true)
        .open(data.join("postgresql.conf"))
        .and_then(|mut conf| {
            std::io::Write::write_all(
                &mut conf,
                b"listen_addresses = '127.0.0.1'\nunix_socket_directories = ''\n",
            )
        })
        .expect("postgresql.conf");
    stdout(
        &server_program("pg_ctl")
            .args(["-w", "-l"])
            .arg(up.dir.join("postgres.log"))
            .args(["-o", &format!("-p {}", up.pg_port), "start"])
            .output()
            .expect("pg_ctl start"),
    );
    let trusted = format!("postgresql://postgres@127.0.0.1:{}/postgres", up.pg_port);
    stdout(&psql_as(&trusted, "CREATE DATABASE agent_trace"));
    let trusted = format!("postgresql://postgres@127.0.0.1:{}/agent_trace", up.pg_port);
    stdout(&psql_as(&trusted, "CREATE EXTENSION agent_trace"));
    stdout(&psql_as(
        &trusted,
        "INSERT INTO agent_trace.agent_spans (trace_id, span_id, name, start_time, end_time)
         VALUES ('6bf92f3577b34da6a3ce929d0e0e4736', '00f067aa0ba902b7', 'from before', now(), now())",
    ));
    assert!(!up.dir.join("pgpass").exists());

    let (mut child, _) = up.start();
    assert!(stderr(&psql_as(&trusted, "SELECT 1")).contains("no password supplied"));
    assert_eq!(
        stdout(&up.psql("SELECT name FROM agent_trace.agent_traces")).trim(),
        "from before"
    );
    assert!(terminate(&mut child).success());
}
