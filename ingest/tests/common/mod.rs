//! Real parts for integration tests: a private PostgreSQL 15 cluster with the extension (started
//! by the test, stopped when it ends, pass or fail) and the OTLP/HTTP server in-process on a free
//! loopback port. Needs the extension installed (`make install-extension`; `make test` does it).
#![allow(dead_code)] // each test file uses a different part

use ingest::cli::cluster::{self, ClusterConfig, PrivateCluster};
use ingest::cli::prices;
use ingest::otlp::{self, Auth, Limits, http};
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

    pub fn url(&self) -> String {
        self.cluster.connection_string()
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
        ..WriterConfig::new(db.url())
    }
}

/// The OTLP/HTTP server, in this process, until dropped.
pub struct TestServer {
    pub addr: SocketAddr,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<std::io::Result<()>>>,
}

impl TestServer {
    pub async fn start(db: &TestDb, limits: Limits, token: Option<&str>) -> Self {
        let writer = Writer::connect(&writer_config(db))
            .await
            .expect("writer connects");
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("address");
        let (shutdown, signal) = tokio::sync::oneshot::channel::<()>();
        let state = http::AppState::new(writer, limits, Auth::new(token.map(String::from)));
        let task = tokio::spawn(http::run(
            listener,
            state,
            axum::Router::new(),
            async move {
                let _ = signal.await;
            },
        ));
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
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<Result<(), tonic::transport::Error>>>,
}

impl TestGrpcServer {
    pub async fn start(db: &TestDb, token: Option<&str>) -> Self {
        let writer = Writer::connect(&writer_config(db))
            .await
            .expect("writer connects");
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("address");
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(otlp::grpc::run(
            listener,
            writer,
            Auth::new(token.map(String::from)),
            Limits::DEFAULT,
            async move {
                let _ = stopped.await;
            },
        ));
        Self {
            endpoint: format!("http://{addr}"),
            stop: Some(stop),
            task: Some(task),
        }
    }

    /// Stops accepting, waits for calls in flight to finish.
    pub async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            task.await.expect("task").expect("grpc server ran");
        }
    }
}

impl Drop for TestGrpcServer {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
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
