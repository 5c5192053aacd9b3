//! Real parts for integration tests: a private PostgreSQL 15 cluster with the extension (started
//! by the test, stopped when it ends, pass or fail) and the OTLP/HTTP server in-process on a free
//! loopback port. Needs the extension installed (`make install-extension`; `make test` does it).
#![allow(dead_code)] // each test file uses a different part

use ingest::cli::cluster::{self, ClusterConfig, PrivateCluster};
use ingest::cli::prices;
use ingest::otlp::connections::{self, Connections, Protocol};
use ingest::otlp::intake::Intake;
use ingest::otlp::{self, Auth, Limits, Tokens, grpc};
use ingest::write::{Writer, WriterConfig};
use std::net::{SocketAddr, TcpListener};
use std::path::PathBuf;
use std::time::Duration;

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
    pub fn start(name: &str) -> Self {
        let dir =
            std::env::temp_dir().join(format!("agent-trace-it-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let cluster = PrivateCluster::new(ClusterConfig {
            dir: dir.clone(),
            port: free_port(),
            pg_config: cluster::pg_config_from_env(),
        })
        .expect("cluster config");
        cluster.up().expect("start the test cluster");
        Self { cluster, dir }
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
            .unwrap_or_else(|e| panic!("{sql}: {e}"));
        row.get::<_, Option<i64>>(0).unwrap_or(0)
    }

    pub async fn execute(&self, sql: &str) {
        self.client()
            .await
            .batch_execute(sql)
            .await
            .unwrap_or_else(|e| panic!("{sql}: {e}"));
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
        let writer = Writer::connect(&writer_config(db))
            .await
            .expect("writer connects");
        let tokens = token.map(Tokens::one).unwrap_or_default();
        let intake = Intake::new(writer, limits, Auth::new(&tokens).expect("valid tokens"));
        let router = match protocol {
            Protocol::Http1 => otlp::http_router(intake),
            Protocol::Http2 => grpc::router(intake),
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
    let mut request = client
        .post(server.url(&fixture.path))
        .body(fixture.body.clone());
    if let Some(content_type) = &fixture.content_type {
        request = request.header("content-type", content_type);
    }
    if let Some(encoding) = &fixture.content_encoding {
        request = request.header("content-encoding", encoding);
    }
    request.send().await.expect("request")
}

/// Imports the price snapshot built into the binary, as `agent-trace up` does at start, so LLM calls
/// that report tokens but no cost get a computed one.
pub async fn import_price_snapshot(db: &TestDb) {
    let snapshot = prices::parse(prices::SNAPSHOT).expect("the shipped snapshot");
    prices::import(
        &mut db.client().await,
        &snapshot,
        "litellm snapshot",
        Some("2026-10-21"),
    )
    .await
    .expect("import the snapshot");
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
        .header("content-type", "application/grpc")
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

/// `agent-trace serve` as a separate process, killed when dropped (also when its test fails).
pub struct ServeProcess {
    pub child: std::process::Child,
}

impl Drop for ServeProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `agent-trace serve` on the given ports, with `extra` flags; returns once both ports accept
/// connections.
pub fn start_serve(db: &TestDb, http_port: u16, grpc_port: u16, extra: &[&str]) -> ServeProcess {
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_agent-trace"))
        .arg("serve")
        .args(["--database-url", &db.writer_url()])
        // The viewer may not read as the ingest's insert-only login: it reads as the superuser,
        // which it switches to agent_trace_reader, as `up` has it.
        .args(["--viewer-database-url", &db.url()])
        .args(["--listen", &format!("127.0.0.1:{http_port}")])
        .args(["--grpc-listen", &format!("127.0.0.1:{grpc_port}")])
        .args(extra)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("start agent-trace serve");
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    for port in [http_port, grpc_port] {
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            if let Ok(Some(status)) = child.try_wait() {
                panic!("agent-trace serve exited with {status}");
            }
            if std::time::Instant::now() > deadline {
                let _ = child.kill();
                panic!("serve never listened on {port}");
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
    ServeProcess { child }
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
