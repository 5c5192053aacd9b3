//! A Citus cluster of real PostgreSQL nodes on this machine, for the multi-node test
//! (tests/citus.rs) and the scaling benchmark (benches/citus.rs): each node reachable only through
//! a Unix socket in its directory, trusting local connections, gone when dropped.

use prost::Message;
use std::path::{Path, PathBuf};
use std::process::Command;

/// What every node of the test cluster runs with: Citus preloaded, and the prepared transactions
/// Citus commits across nodes with.
pub const CITUS: &str = "-c shared_preload_libraries=citus -c max_prepared_transactions=100";

/// One node: a PostgreSQL started with `options`, reachable only through a Unix socket in its
/// directory, trusting local connections (a scratch cluster, gone when dropped).
pub struct Node {
    /// Server options beyond the socket (`-c name=value ...`).
    options: String,
    dir: PathBuf,
    bindir: PathBuf,
}

impl Node {
    pub fn start(name: &str, bindir: &Path, options: &str) -> Self {
        let dir =
            std::env::temp_dir().join(format!("agent-trace-citus-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("node directory");
        let node = Node {
            options: options.to_string(),
            dir,
            bindir: bindir.to_path_buf(),
        };
        as_server_user(
            &["chown", "-R", "postgres", &node.dir.display().to_string()],
            true,
        );
        node.run(
            "initdb",
            &[
                "-D",
                &node.data(),
                "-U",
                "postgres",
                "--auth=trust",
                "--no-sync",
            ],
        );
        node.start_server();
        node
    }

    /// The lines of the server's log that contain `needle`, with the `limit` lines after each.
    pub fn log_around(&self, needle: &str, limit: usize) -> String {
        let log = std::fs::read_to_string(self.dir.join("server.log")).unwrap_or_default();
        let lines: Vec<&str> = log.lines().collect();
        let mut out = Vec::new();
        for (i, line) in lines.iter().enumerate() {
            if line.contains(needle) {
                out.extend_from_slice(&lines[i..(i + 1 + limit).min(lines.len())]);
            }
        }
        out.join("\n")
    }

    pub fn data(&self) -> String {
        self.dir.join("data").display().to_string()
    }

    pub fn socket(&self) -> String {
        self.dir.display().to_string()
    }

    pub fn url(&self) -> String {
        format!("postgresql://postgres@/postgres?host={}", self.socket())
    }

    pub fn start_server(&self) {
        let options = format!(
            "-c listen_addresses='' -k {} {}",
            self.socket(),
            self.options
        );
        let log = self.dir.join("server.log").display().to_string();
        self.run(
            "pg_ctl",
            &[
                "-D",
                &self.data(),
                "-l",
                &log,
                "-w",
                "-o",
                &options,
                "start",
            ],
        );
    }

    pub fn stop_server(&self) {
        self.run("pg_ctl", &["-D", &self.data(), "-m", "fast", "-w", "stop"]);
    }

    fn run(&self, program: &str, args: &[&str]) {
        let program = self.bindir.join(program).display().to_string();
        let mut all = vec![program.as_str()];
        all.extend_from_slice(args);
        as_server_user(&all, false);
    }

    pub async fn execute(&self, sql: &str) {
        let client = connect(&self.url()).await;
        client
            .batch_execute(sql)
            .await
            .unwrap_or_else(|e| panic!("{sql}: {e:?}"));
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        let program = self.bindir.join("pg_ctl").display().to_string();
        let data = self.data();
        let _ = Command::new("runuser")
            .args([
                "-u",
                "postgres",
                "--",
                &program,
                "-D",
                &data,
                "-m",
                "immediate",
                "stop",
            ])
            .output();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Runs `args` as the database server's user when we are root (root may not run PostgreSQL);
/// `as_root`: as root, and not at all when we are not root (then the directory is ours already).
fn as_server_user(args: &[&str], as_root: bool) {
    let is_root = Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|output| output.stdout.starts_with(b"0\n"));
    let output = match (is_root, as_root) {
        (true, false) => Command::new("runuser")
            .args(["-u", "postgres", "--"])
            .args(args)
            .output(),
        (_, false) | (true, true) => Command::new(args[0]).args(&args[1..]).output(),
        (false, true) => return,
    };
    let output = output.unwrap_or_else(|e| panic!("{args:?}: {e}"));
    assert!(
        output.status.success(),
        "{args:?}: {}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

pub async fn connect(url: &str) -> tokio_postgres::Client {
    let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls)
        .await
        .unwrap_or_else(|e| panic!("connect to {url}: {e}"));
    tokio::spawn(connection);
    client
}

/// Where the PostgreSQL under test keeps its programs and libraries.
pub fn pg_dirs() -> (PathBuf, PathBuf) {
    let pg_config = ingest::cli::cluster::pg_config_from_env();
    let ask = |what: &str| {
        let output = Command::new(&pg_config)
            .arg(what)
            .output()
            .expect("pg_config");
        PathBuf::from(String::from_utf8_lossy(&output.stdout).trim())
    };
    (ask("--bindir"), ask("--pkglibdir"))
}

/// OTLP/HTTP request bodies for load: the template's spans copied under fresh trace and span ids,
/// `batch` spans per request, `spans` in all; a trace's copies may straddle two requests.
pub fn requests(template: &str, spans: usize, batch: usize) -> Vec<Vec<u8>> {
    let mut request: opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest =
        ingest::fixtures::find(template).decode();
    // One resource and scope, its spans as the unit copied.
    let resource = request.resource_spans.swap_remove(0);
    let mut scope = resource.scope_spans[0].clone();
    let unit = std::mem::take(&mut scope.spans);
    let mut bodies = Vec::new();
    let mut copy = 0u64;
    let mut made = 0;
    while made < spans {
        let mut out = resource.clone();
        let mut scope = scope.clone();
        while scope.spans.len() < batch && made < spans {
            copy += 1;
            for (k, span) in unit.iter().enumerate() {
                if scope.spans.len() >= batch || made >= spans {
                    break;
                }
                let mut span = span.clone();
                span.trace_id = [copy.to_be_bytes(), 0x5eed_u64.to_be_bytes()].concat();
                span.span_id = ((copy << 16) | (k as u64 + 1)).to_be_bytes().to_vec();
                if !span.parent_span_id.is_empty() {
                    let parent = unit
                        .iter()
                        .position(|s| s.span_id == span.parent_span_id)
                        .map_or(0, |p| p as u64 + 1);
                    span.parent_span_id = ((copy << 16) | parent).to_be_bytes().to_vec();
                }
                scope.spans.push(span);
                made += 1;
            }
        }
        out.scope_spans = vec![scope];
        bodies.push(
            opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest {
                resource_spans: vec![out],
            }
            .encode_to_vec(),
        );
    }
    bodies
}

/// Sends every body with `clients` concurrent clients; the seconds until the last 200.
pub async fn send(url: &str, bodies: &[Vec<u8>], clients: usize) -> f64 {
    let http = reqwest::Client::new();
    let next = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let started = std::time::Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..clients {
        let (http, next, url) = (http.clone(), next.clone(), url.to_string());
        let bodies = bodies.to_vec();
        tasks.push(tokio::spawn(async move {
            loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let Some(body) = bodies.get(i) else { break };
                let response = http
                    .post(&url)
                    .header("content-type", "application/x-protobuf")
                    .body(body.clone())
                    .send()
                    .await
                    .expect("POST");
                assert_eq!(response.status(), 200, "request {i}");
            }
        }));
    }
    for task in tasks {
        task.await.expect("a client");
    }
    started.elapsed().as_secs_f64()
}
