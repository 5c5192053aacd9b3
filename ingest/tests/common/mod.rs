//! Real parts for integration tests: a private PostgreSQL 15 cluster with the extension (started
//! by the test, stopped when it ends, pass or fail) and the OTLP/HTTP server in-process on a free
//! loopback port. Needs the extension installed (`make install-extension`; `make test` does it).
#![allow(dead_code)] // each test file uses a different part

pub mod agentos;
pub mod citus;

use ingest::auth::{Auth, Tokens};
use ingest::cli::cluster::{self, ClusterConfig, PrivateCluster};
use ingest::otlp::intake::Intake;
use ingest::otlp::{Limits, grpc};
use ingest::projects::Projects;
use ingest::server;
use ingest::server::connections::{self, Connections, Protocol};
use ingest::write::{Writer, WriterConfig};
use std::net::{SocketAddr, TcpListener};
use std::path::PathBuf;
use std::time::Duration;

/// A port no one listens on now, for a PostgreSQL cluster (which binds its port itself; see
/// `TestDb::start`). Servers of ours bind port 0 instead and say which port they got.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// A private cluster under /tmp (the `postgres` user must reach it when tests run as root).
pub struct TestDb {
    pub cluster: PrivateCluster,
    dir: PathBuf,
}

impl TestDb {
    /// A new cluster on a free port. PostgreSQL binds its port itself, so the port is found free
    /// first: if another process takes it in between, the cluster starts again on another one.
    pub fn start(name: &str) -> Self {
        let dir =
            std::env::temp_dir().join(format!("agent-trace-it-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        for _ in 0..5 {
            let cluster = PrivateCluster::new(ClusterConfig {
                dir: dir.clone(),
                port: free_port(),
                pg_config: cluster::pg_config_from_env(),
            })
            .expect("cluster config");
            match cluster.up() {
                Ok(()) => return Self { cluster, dir },
                Err(error) if error.to_string().contains("already in use") => continue,
                Err(error) => panic!("start the test cluster: {error}"),
            }
        }
        panic!("start the test cluster: every port tried was taken");
    }

    /// The superuser's connection string (password included).
    pub fn url(&self) -> String {
        self.cluster.connection_string()
    }

    /// The ingest's connection string: agent_trace_ingest, which holds agent_trace_writer only.
    /// Every server the tests start writes as it, so they prove those privileges suffice.
    pub fn writer_url(&self) -> String {
        self.cluster.writer_connection_string()
    }

    pub async fn client(&self) -> tokio_postgres::Client {
        let (client, connection) = tokio_postgres::connect(&self.url(), tokio_postgres::NoTls)
            .await
            .expect("connect");
        tokio::spawn(connection);
        client
    }

    /// One number from SQL, e.g. `count(*)`.
    pub async fn number(&self, sql: &str) -> i64 {
        let client = self.client().await;
        let row = client
            .query_one(sql, &[])
            .await
            .unwrap_or_else(|e| panic!("{sql}: {}", ingest::postgres::describe(&e)));
        row.get::<_, Option<i64>>(0).unwrap_or(0)
    }

    pub async fn execute(&self, sql: &str) {
        self.client()
            .await
            .batch_execute(sql)
            .await
            .unwrap_or_else(|e| panic!("{sql}: {}", ingest::postgres::describe(&e)));
    }

    pub async fn clear(&self) {
        self.execute("DELETE FROM agent_trace.agent_spans; DELETE FROM agent_trace.agent_traces")
            .await;
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let _ = self.cluster.down();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// The servers' writer in tests: `serve`'s defaults, but with a short wait for a connection and a
/// short statement timeout, so that an outage or a lock is answered 503 within seconds.
pub fn writer_config(db: &TestDb) -> WriterConfig {
    WriterConfig {
        pool_size: 4,
        connection_wait: Duration::from_millis(1500),
        statement_timeout: Duration::from_secs(2),
        lock_timeout: Duration::from_secs(1),
        ..WriterConfig::new(db.writer_url())
    }
}

/// A port of the server (OTLP/HTTP or OTLP/gRPC), in this process, until stopped or dropped.
pub struct TestServer {
    pub addr: SocketAddr,
    /// What the server's requests go through (its writer, its lanes).
    pub intake: Intake,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<std::io::Result<()>>>,
}

impl TestServer {
    /// OTLP/HTTP.
    pub async fn start(db: &TestDb, limits: Limits, token: Option<&str>) -> Self {
        Self::serve(db, limits, token, Protocol::Http1).await
    }

    /// OTLP/HTTP or OTLP/gRPC, as `agent-trace serve` runs them.
    pub async fn serve(
        db: &TestDb,
        limits: Limits,
        token: Option<&str>,
        protocol: Protocol,
    ) -> Self {
        Self::serve_with(limits, token, protocol, &writer_config(db)).await
    }

    /// The same, with a writer of these settings.
    pub async fn serve_with(
        limits: Limits,
        token: Option<&str>,
        protocol: Protocol,
        config: &WriterConfig,
    ) -> Self {
        let writer = Writer::connect(config).await.expect("writer connects");
        let tokens = token.map(Tokens::one).unwrap_or_default();
        let intake = Intake::new(
            writer,
            limits,
            Auth::new(&tokens).expect("valid tokens"),
            Projects::default(),
        );
        let router = match protocol {
            Protocol::Http1 => server::http_router(intake.clone(), axum::Router::new(), false),
            Protocol::Http2 => grpc::router(intake.clone()),
        };
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("address");
        let (shutdown, signal) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            let connections = Connections::new(limits.max_connections);
            let stopped = async move {
                let _ = signal.await;
            };
            connections::serve(listener, router, protocol, &limits, &connections, stopped).await
        });
        Self {
            addr,
            intake,
            shutdown: Some(shutdown),
            task: Some(task),
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// Stops accepting, waits for requests in flight to finish.
    pub async fn stop(mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
        if let Some(task) = self.task.take() {
            task.await.expect("server task").expect("server ran");
        }
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
    }
}

impl TestDb {
    /// Empties the log and metric tables (agent_logs, agent_metrics).
    pub async fn clear_signals(&self) {
        self.execute("DELETE FROM agent_trace.agent_logs; DELETE FROM agent_trace.agent_metrics")
            .await;
    }
}

/// The OTLP/gRPC server (traces, logs, metrics), in this process, until stopped.
pub struct TestGrpcServer {
    pub endpoint: String,
    server: TestServer,
}

impl TestGrpcServer {
    pub async fn start(db: &TestDb, token: Option<&str>) -> Self {
        let server = TestServer::serve(db, Limits::DEFAULT, token, Protocol::Http2).await;
        Self {
            endpoint: format!("http://{}", server.addr),
            server,
        }
    }

    /// Stops accepting, waits for calls in flight to finish.
    pub async fn stop(self) {
        self.server.stop().await;
    }
}

/// POSTs a captured request exactly as its client sent it: body, Content-Type, Content-Encoding.
pub async fn post_fixture(
    client: &reqwest::Client,
    server: &TestServer,
    fixture: &ingest::fixtures::Fixture,
) -> reqwest::Response {
    post_fixture_to(client, &server.url(""), fixture, None).await
}

/// `post_fixture` to the server at `base` (`http://HOST:PORT`), with an `Authorization` value.
pub async fn post_fixture_to(
    client: &reqwest::Client,
    base: &str,
    fixture: &ingest::fixtures::Fixture,
    authorization: Option<&str>,
) -> reqwest::Response {
    let mut request = client
        .post(format!("{base}{}", fixture.path))
        .body(fixture.body.clone());
    if let Some(authorization) = authorization {
        request = request.header("authorization", authorization);
    }
    if let Some(content_type) = &fixture.content_type {
        request = request.header("content-type", content_type);
    }
    if let Some(encoding) = &fixture.content_encoding {
        request = request.header("content-encoding", encoding);
    }
    request.send().await.expect("request")
}

/// OTLP/JSON of `count` spans numbered from `first`: one trace per request, all children of its
/// first span, each an LLM call of 42 input tokens. Numbers never repeat across requests that
/// start `count` apart, so a test can count what was stored.
pub fn numbered_request(first: usize, count: usize) -> String {
    let trace_id = format!("{:032x}", 0xabc0_0000_0000 + first);
    let spans: Vec<serde_json::Value> = (first..first + count)
        .map(|n| {
            let parent = if n == first { String::new() } else { format!("{:016x}", first + 1) };
            serde_json::json!({
                "traceId": trace_id, "spanId": format!("{:016x}", n + 1), "parentSpanId": parent,
                "name": format!("span {n}"), "kind": 3,
                "startTimeUnixNano": (1_763_769_600_000_000_000u64 + n as u64 * 1000).to_string(),
                "endTimeUnixNano": (1_763_769_600_000_000_000u64 + n as u64 * 1000 + 500).to_string(),
                "attributes": [
                    {"key": "gen_ai.operation.name", "value": {"stringValue": "chat"}},
                    {"key": "gen_ai.usage.input_tokens", "value": {"intValue": 42}}
                ]
            })
        })
        .collect();
    serde_json::json!({"resourceSpans": [{"scopeSpans": [{"spans": spans}]}]}).to_string()
}

/// The gRPC method of trace exports.
pub const TRACES_EXPORT: &str = "/opentelemetry.proto.collector.trace.v1.TraceService/Export";

/// A unary gRPC call whose message bytes the test made itself (`gzipped`: already compressed),
/// over a raw HTTP/2 connection: (grpc-status, grpc-message).
pub async fn grpc_call(
    endpoint: &str,
    method: &str,
    message: bytes::Bytes,
    gzipped: bool,
) -> (String, String) {
    grpc_call_with(endpoint, method, message, gzipped, None).await
}

/// `grpc_call` with an `authorization` value.
pub async fn grpc_call_with(
    endpoint: &str,
    method: &str,
    message: bytes::Bytes,
    gzipped: bool,
    authorization: Option<&str>,
) -> (String, String) {
    grpc_call_as(
        endpoint,
        method,
        message,
        gzipped,
        authorization,
        "application/grpc",
    )
    .await
}

/// `grpc_call_with` sent with this `content-type`.
pub async fn grpc_call_as(
    endpoint: &str,
    method: &str,
    message: bytes::Bytes,
    gzipped: bool,
    authorization: Option<&str>,
    content_type: &str,
) -> (String, String) {
    use bytes::BufMut;
    use http_body_util::{BodyExt, Full};
    let client = hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
        .http2_only(true)
        .build_http::<Full<bytes::Bytes>>();
    let mut framed = bytes::BytesMut::with_capacity(5 + message.len());
    framed.put_u8(u8::from(gzipped));
    framed.put_u32(message.len() as u32);
    framed.put_slice(&message);
    let mut request = axum::http::Request::post(format!("{endpoint}{method}"))
        .header("content-type", content_type)
        .header("te", "trailers");
    if gzipped {
        request = request.header("grpc-encoding", "gzip");
    }
    if let Some(authorization) = authorization {
        request = request.header("authorization", authorization);
    }
    let request = request.body(Full::new(framed.freeze())).expect("request");
    let response = match client.request(request).await {
        Ok(response) => response,
        Err(error) => return ("transport error".into(), error.to_string()),
    };
    let headers = response.headers().clone();
    let trailers = response
        .into_body()
        .collect()
        .await
        .ok()
        .and_then(|body| body.trailers().cloned())
        .unwrap_or_default();
    let field = |name: &str| {
        headers
            .get(name)
            .or_else(|| trailers.get(name))
            .map(|value| value.to_str().unwrap_or("?").to_string())
    };
    (
        field("grpc-status").unwrap_or_else(|| "none".into()),
        field("grpc-message").unwrap_or_default(),
    )
}

/// What `serve` logs once both ports are bound (text and JSON log formats alike).
const SERVING: &str = "serving OTLP/HTTP on ";

/// `agent-trace serve` as a separate process on ports it chose itself (port 0, read back from the
/// kernel), with its standard error kept as it runs; killed when dropped (also when its test fails).
pub struct ServeProcess {
    pub child: std::process::Child,
    /// The OTLP/HTTP and OTLP/gRPC addresses it bound.
    pub http: SocketAddr,
    pub grpc: SocketAddr,
    log: std::sync::Arc<std::sync::Mutex<String>>,
}

impl ServeProcess {
    /// `agent-trace ARGS`, plus `--listen 127.0.0.1:0` and `--grpc-listen 127.0.0.1:0` unless
    /// ARGS name them; returns once both ports are bound (requests then wait until served). Panics
    /// with its log if it exits first or takes over 30 s.
    pub fn spawn(args: &[&str]) -> Self {
        let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_agent-trace"));
        command.args(args);
        for (flag, value) in [
            ("--listen", "127.0.0.1:0"),
            ("--grpc-listen", "127.0.0.1:0"),
        ] {
            if !args.contains(&flag) {
                command.args([flag, value]);
            }
        }
        let mut child = command
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("start agent-trace");
        let log = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
        let stderr = child.stderr.take().expect("stderr");
        let kept = log.clone();
        std::thread::spawn(move || {
            use std::io::BufRead;
            for line in std::io::BufReader::new(stderr).lines() {
                let Ok(line) = line else { break };
                let mut log = kept.lock().unwrap_or_else(|e| e.into_inner());
                log.push_str(&line);
                log.push('\n');
            }
        });
        let mut process = Self {
            child,
            http: "0.0.0.0:0".parse().expect("an address"),
            grpc: "0.0.0.0:0".parse().expect("an address"),
            log,
        };
        // Its ports, from the kernel: whatever the log level, they are known once both are bound
        // (after the database was reached); the one that answers GET /health is OTLP/HTTP.
        let until = std::time::Instant::now() + Duration::from_secs(30);
        let ports = loop {
            let ports = listening_ports(process.child.id());
            if ports.len() >= 2 {
                break ports;
            }
            if let Ok(Some(status)) = process.child.try_wait() {
                std::thread::sleep(Duration::from_millis(200));
                panic!("agent-trace exited with {status}:\n{}", process.log());
            }
            assert!(
                std::time::Instant::now() < until,
                "agent-trace did not listen within 30 s:\n{}",
                process.log()
            );
            std::thread::sleep(Duration::from_millis(20));
        };
        // Which is which: the log says, right after binding (at the default log level); else the
        // one that answers HTTP/1.1 (plain HTTP: with TLS the log level is left as it is).
        let logged = (0..100).find_map(|_| {
            let line = process
                .log()
                .lines()
                .find(|line| line.contains(SERVING))
                .map(String::from);
            if line.is_none() {
                std::thread::sleep(Duration::from_millis(20));
            }
            line
        });
        let http = match logged {
            Some(line) => {
                let rest = &line[line.find(SERVING).expect("found") + SERVING.len()..];
                let rest = rest
                    .trim_start_matches("https://")
                    .trim_start_matches("http://");
                let end = rest.find(|c: char| !(c.is_ascii_digit() || c == '.' || c == ':'));
                let address: SocketAddr = rest[..end.unwrap_or(rest.len())]
                    .parse()
                    .unwrap_or_else(|e| panic!("{e}: {line}"));
                address.port()
            }
            None => *ports
                .iter()
                .find(|port| answers_http(**port))
                .unwrap_or_else(|| panic!("no port of {ports:?} answers HTTP:\n{}", process.log())),
        };
        let grpc = *ports
            .iter()
            .find(|port| **port != http)
            .expect("a second port");
        process.http = SocketAddr::from(([127, 0, 0, 1], http));
        process.grpc = SocketAddr::from(([127, 0, 0, 1], grpc));
        process
    }

    /// `serve` writing to `db` as its insert-only login, the viewer reading as the superuser
    /// (which it switches to agent_trace_reader, as `up` has it), with `extra` flags.
    pub fn serve(db: &TestDb, extra: &[&str]) -> Self {
        let (writer, reader) = (db.writer_url(), db.url());
        let mut args = vec![
            "serve",
            "--database-url",
            &writer,
            "--viewer-database-url",
            &reader,
        ];
        args.extend_from_slice(extra);
        Self::spawn(&args)
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.http)
    }

    pub fn grpc_endpoint(&self) -> String {
        format!("http://{}", self.grpc)
    }

    /// Everything it logged so far.
    pub fn log(&self) -> String {
        self.log.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Waits until a line of its log contains `needle` (one logged before the call counts) and
    /// returns that line. Panics with the log if the process exits or `deadline` passes first.
    pub fn wait_for_log(&mut self, needle: &str, deadline: Duration) -> String {
        self.wait_for_nth_log(needle, 1, deadline)
    }

    /// Waits until `n` lines of its log contain `needle`; returns the n-th.
    pub fn wait_for_nth_log(&mut self, needle: &str, n: usize, deadline: Duration) -> String {
        let until = std::time::Instant::now() + deadline;
        loop {
            let log = self.log();
            if let Some(line) = log.lines().filter(|line| line.contains(needle)).nth(n - 1) {
                return line.to_string();
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                // The reader thread may still be taking the last lines: give it a moment.
                std::thread::sleep(Duration::from_millis(200));
                panic!(
                    "agent-trace exited with {status} before logging {needle:?}:\n{}",
                    self.log()
                );
            }
            if std::time::Instant::now() > until {
                panic!("agent-trace did not log {needle:?} within {deadline:?}:\n{log}");
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Sends `signal` (e.g. "-HUP") to the process.
    pub fn signal(&self, signal: &str) {
        let sent = std::process::Command::new("kill")
            .args([signal, &self.child.id().to_string()])
            .status()
            .expect("run kill");
        assert!(sent.success(), "kill {signal}");
    }

    /// SIGTERM, then how it exited and everything it logged.
    pub fn terminate(mut self) -> (std::process::ExitStatus, String) {
        self.signal("-TERM");
        let status = self.child.wait().expect("wait for agent-trace");
        // The reader thread ends at the pipe's end; wait for its last lines.
        let until = std::time::Instant::now() + Duration::from_secs(5);
        while std::sync::Arc::strong_count(&self.log) > 1 && std::time::Instant::now() < until {
            std::thread::sleep(Duration::from_millis(10));
        }
        (status, self.log())
    }
}

impl Drop for ServeProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The loopback TCP ports process `pid` listens on (/proc: its sockets in state LISTEN).
pub fn listening_ports(pid: u32) -> Vec<u16> {
    let Ok(fds) = std::fs::read_dir(format!("/proc/{pid}/fd")) else {
        return Vec::new();
    };
    let sockets: std::collections::BTreeSet<String> = fds
        .filter_map(Result::ok)
        .filter_map(|fd| std::fs::read_link(fd.path()).ok())
        .filter_map(|target| {
            let target = target.to_string_lossy().into_owned();
            Some(
                target
                    .strip_prefix("socket:[")?
                    .strip_suffix(']')?
                    .to_string(),
            )
        })
        .collect();
    let tcp = std::fs::read_to_string(format!("/proc/{pid}/net/tcp")).unwrap_or_default();
    tcp.lines()
        .skip(1)
        .map(|line| line.split_whitespace().collect::<Vec<_>>())
        .filter(|fields| fields.len() > 9 && fields[3] == "0A" && sockets.contains(fields[9]))
        .filter_map(|fields| {
            let (_, port) = fields[1].split_once(':')?;
            u16::from_str_radix(port, 16).ok()
        })
        .collect()
}

/// Whether an HTTP/1.1 `GET /health` on the port gets an HTTP answer.
fn answers_http(port: u16) -> bool {
    use std::io::{Read, Write};
    let Ok(mut stream) = std::net::TcpStream::connect(("127.0.0.1", port)) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
    if stream
        .write_all(b"GET /health HTTP/1.1\r\nhost: 127.0.0.1\r\nconnection: close\r\n\r\n")
        .is_err()
    {
        return false;
    }
    let mut answer = [0u8; 12];
    stream.read_exact(&mut answer).is_ok() && answer.starts_with(b"HTTP/1.1 ")
}

/// Polls `condition` until it holds; fails the test, saying `what` was awaited, past `deadline`.
pub async fn wait_until<F, Fut>(what: &str, deadline: Duration, mut condition: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let until = std::time::Instant::now() + deadline;
    while !condition().await {
        assert!(
            std::time::Instant::now() < until,
            "waited {deadline:?} for {what}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

impl TestDb {
    /// Waits until `n` sessions of this cluster wait for a lock (`pg_stat_activity`): requests
    /// held behind a test's lock are then in flight.
    pub async fn wait_for_lock_waiters(&self, n: i64) {
        wait_until(
            &format!("{n} sessions waiting for a lock"),
            Duration::from_secs(30),
            || async {
                self.number("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'")
                    .await
                    >= n
            },
        )
        .await;
    }
}

/// An HTTP answer: its status and body as text.
pub struct Answer {
    pub status: u16,
    pub body: String,
}

/// POSTs OTLP/JSON to `url` (with an `Authorization` value, if any).
pub async fn post_json(url: &str, body: &str, authorization: Option<&str>) -> Answer {
    let mut request = reqwest::Client::new()
        .post(url)
        .header("content-type", "application/json")
        .body(body.to_string());
    if let Some(authorization) = authorization {
        request = request.header("authorization", authorization);
    }
    let response = request.send().await.expect("request");
    Answer {
        status: response.status().as_u16(),
        body: response.text().await.expect("body"),
    }
}

/// POSTs OTLP/JSON spans: (status, rejected spans, the reasons or the error body).
pub async fn post_spans(url: &str, body: &str) -> (u16, i64, String) {
    let answer = post_json(url, body, None).await;
    if answer.status != 200 {
        return (answer.status, 0, answer.body);
    }
    let response: opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceResponse =
        serde_json::from_str(&answer.body).expect("an OTLP answer");
    let rejected = response.partial_success.unwrap_or_default();
    (
        answer.status,
        rejected.rejected_spans,
        rejected.error_message,
    )
}

/// The repository's root (the workspace), where the test clients, scripts and venvs are.
pub fn repo_root() -> PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the workspace root")
        .to_path_buf()
}

/// The test venv's interpreter; its absence fails the test (a skipped client test would pass
/// unnoticed). `installs` names what the tests need from it.
pub fn venv_python(installs: &str) -> PathBuf {
    let python = repo_root().join(".venv-test-clients/bin/python");
    assert!(
        python.is_file(),
        "{} is missing: run `bash scripts/install-test-clients.sh` (it installs {installs})",
        python.display()
    );
    python
}

/// How a Python client of `tests/clients/` ended: its exit, its output (stdout and stderr), its
/// JSON report (what it wrote to `--output`), and how long it ran.
pub struct PythonRun {
    pub status: std::process::ExitStatus,
    pub output: String,
    pub report: std::io::Result<String>,
    pub elapsed: Duration,
}

/// Runs `command` (the venv's python with a client script and its arguments) to completion, with
/// `--output` and its log in `dir`. Only the arguments configure it: no OTEL_* or OPENAI_*
/// setting and no proxy of this shell reaches it (the servers it talks to are on loopback). Killed
/// and the test failed, with its log, past `deadline`.
pub fn run_python_client(
    mut command: std::process::Command,
    dir: &std::path::Path,
    deadline: Duration,
) -> PythonRun {
    let report = dir.join("report.json");
    let log = dir.join("client.log");
    let log_file = std::fs::File::create(&log).expect("the client's log");
    command
        .arg("--output")
        .arg(&report)
        .stdin(std::process::Stdio::null())
        .stdout(log_file.try_clone().expect("the client's log"))
        .stderr(log_file)
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .env("NO_PROXY", "127.0.0.1,localhost")
        .env("no_proxy", "127.0.0.1,localhost");
    for (key, _) in std::env::vars_os() {
        let key = key.to_string_lossy();
        if key.starts_with("OTEL_")
            || key.starts_with("OPENAI_")
            || key.to_ascii_lowercase().ends_with("_proxy")
        {
            command.env_remove(key.as_ref());
        }
    }
    let started = std::time::Instant::now();
    let mut child = command.spawn().expect("start the Python client");
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait for the Python client") {
            break status;
        }
        if started.elapsed() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "the Python client ran over {deadline:?}; its output:\n{}",
                std::fs::read_to_string(&log).unwrap_or_default()
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    PythonRun {
        status,
        output: std::fs::read_to_string(&log).unwrap_or_default(),
        report: std::fs::read_to_string(&report),
        elapsed: started.elapsed(),
    }
}

/// Every row of every table and view that holds what was received (and what derives from it), as
/// text: where content, or a person's id, would show.
pub async fn everything_stored(db: &TestDb) -> String {
    let client = db.client().await;
    let mut all = String::new();
    for table in [
        "agent_spans",
        "agent_traces",
        "agent_span_costs",
        "agent_logs",
        "agent_metrics",
        "agent_sessions",
        "agent_turns",
        "agent_metric_deltas",
        "agent_scores",
        "agent_scores_pending",
    ] {
        for row in client
            .query(
                &format!("SELECT t::text FROM agent_trace.{table} AS t"),
                &[],
            )
            .await
            .expect("rows")
        {
            all.push_str(&row.get::<_, String>(0));
            all.push('\n');
        }
    }
    all
}

/// Every captured request (tests/fixtures/otlp/), traces, logs and metrics, each answered 200.
pub async fn replay_every_fixture(server: &ServeProcess) {
    let client = reqwest::Client::new();
    for fixture in ["traces", "logs", "metrics"]
        .into_iter()
        .flat_map(ingest::fixtures::load)
    {
        let response = post_fixture_to(&client, &server.url(""), &fixture, None).await;
        assert_eq!(response.status(), 200, "{}", fixture.name);
    }
}
