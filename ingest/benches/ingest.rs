//! Ingest throughput benchmark (not a test; nothing here is timed against a limit). BENCHMARKS.md
//! explains it and records a run; `scripts/bench-ingest.sh` installs what it needs and runs it.
//!
//! On one scratch PostgreSQL 15 cluster (default settings: fsync and synchronous_commit on) and one
//! table, rounds of these phases, each writing the same spans:
//!
//! - `ingest`: end to end. C clients POST OTLP/HTTP protobuf requests of B spans to the release
//!   `agent-trace serve` binary (a child process); a span counts when its request got its 200, which
//!   agent-trace sends only after COMMIT.
//! - `raw`: what PostgreSQL itself takes. The same requests mapped to the same rows
//!   (`ingest::map::map_request`) and written by C tokio-postgres connections with
//!   `BEGIN; COPY agent_trace.agent_spans (..) FROM STDIN (FORMAT binary); COMMIT`, one batch of B per
//!   transaction, filling the same columns with the same values (checked: the phases leave tables
//!   with equal fingerprints).
//! - diagnostics, only when listed in BENCH_PHASES: `writer` is `ingest::write::Writer` in this
//!   process (the ingest's database path without HTTP, decode and map); `staged` is the writer's SQL
//!   with prepared statements; `staged-plain` inserts from staging without DISTINCT ON / ON
//!   CONFLICT; `candidate` is `ingest` against a second binary (BENCH_CANDIDATE_BIN), for A/B.
//!
//! Both tables are truncated and a CHECKPOINT taken before every phase; the phase order reverses
//! every other round. Prints each phase of each round, the medians, a breakdown of one batch inside
//! PostgreSQL, and a summary table.
//!
//! Settings: environment variables, or `KEY=VALUE` arguments after `--`:
//!
//! | setting | default | meaning |
//! |---|---|---|
//! | BENCH_CONFIGS | `200000:500:4,20000:10:4` | configurations, each SPANS:SPANS_PER_REQUEST:CLIENTS |
//! | BENCH_SHAPES | `100000:500:4,20000:10:16,20000:10:64` | after the configurations: these request shapes side by side (rounds alternate the order), the ingest phase only, with group commit and with a transaction per request (`--batch-max-rows 1`); each shape's spans/s against the first's, with p50/p99 request latency (empty: skip) |
//! | BENCH_ROUNDS | 5 | rounds per configuration |
//! | BENCH_PHASES | `ingest,raw` | phases of each round, from the list above |
//! | BENCH_TEMPLATE | `py_sdk_agent/010_v1_traces` | captured request whose spans are copied |
//! | BENCH_VERIFY | 1 | compare the tables' fingerprints after the phases of round 1 |
//! | BENCH_BREAKDOWN | 1 | time the steps of one batch inside PostgreSQL after the rounds |
//! | BENCH_EXPLAIN | 0 | also print EXPLAIN ANALYZE of the ingest's INSERT for one batch |
//! | BENCH_POISON | 20000 | after the rounds: one request of this many spans, one of which the database refuses, through agent-trace (0: skip) |
//! | BENCH_PRICED | 0 | LLM spans carry no cost, and the shipped price snapshot is imported first, so the database computes every LLM span's cost (agent_span_costs) |
//! | BENCH_POOL_SIZE | agent-trace's | `--pool-size` of the server |
//! | BENCH_SERVER_BIN | this build's agent-trace | the binary of the `ingest` phase |
//! | BENCH_CANDIDATE_BIN | none | the binary of the `candidate` phase |
//! | BENCH_DIR | `/tmp/agent-trace-bench-PID` | the scratch cluster (must be reachable by `postgres`) |
//! | BENCH_KEEP | 0 | keep the cluster directory (with the server logs) afterwards |

use bytes::Bytes;
use futures_util::pin_mut;
use ingest::cli::cluster::{self, ClusterConfig, PrivateCluster};
use ingest::cli::prices;
use ingest::map::spans::{self, SpanRow};
use ingest::write::Row;
use ingest::write::{Writer, WriterConfig};
use opentelemetry_proto::tonic::collector::trace::v1::{
    ExportTraceServiceRequest, ExportTraceServiceResponse,
};
use opentelemetry_proto::tonic::common::v1::any_value::Value as Any;
use opentelemetry_proto::tonic::common::v1::{AnyValue, KeyValue};
use opentelemetry_proto::tonic::trace::v1::Span;
use prost::Message;
use std::collections::HashMap;
use std::fmt::Write as _;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitCode, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};
use tokio_postgres::binary_copy::BinaryCopyInWriter;
use tokio_postgres::{Client, NoTls, Statement};

/// The ingest's own SQL: the raw phase's COPY is the statement the ingest runs first
/// (`sql/ingest/copy_spans.sql`), the staged phases use its staging table and INSERT.
const INSERT_SQL: &str = SpanRow::SQL.insert;

/// Everything stored, but the insertion time: equal after two phases means equal tables.
const FINGERPRINT_SQL: &str = "SELECT format('%s spans (hash %s), %s traces (hash %s)', \
    (SELECT count(*) FROM agent_trace.agent_spans), \
    (SELECT coalesce(sum(hashtextextended((to_jsonb(s) - 'created_at')::text, 0)), 0) FROM agent_trace.agent_spans s), \
    (SELECT count(*) FROM agent_trace.agent_traces), \
    (SELECT coalesce(sum(hashtextextended((to_jsonb(t) - 'created_at' - 'updated_at')::text, 0)), 0) FROM agent_trace.agent_traces t))";

/// Nanoseconds between the starts of two consecutive copies of the template trace.
const TRACE_SPACING_NS: u64 = 10_000_000;

// ------------------------------------------------------------------------------------------------
// Settings

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    /// OTLP/HTTP into the agent-trace binary.
    Ingest,
    /// The same into a second agent-trace binary, BENCH_CANDIDATE_BIN (A/B in the same rounds).
    Candidate,
    /// Binary COPY straight into agent_spans.
    Raw,
    /// `ingest::write::Writer` in this process.
    Writer,
    /// The writer's SQL with prepared statements (COPY to staging, INSERT .. SELECT).
    Staged,
    /// COPY to staging, then a plain INSERT .. SELECT (no DISTINCT ON, no ON CONFLICT).
    StagedPlain,
}

impl Phase {
    fn parse(name: &str) -> Result<Self, String> {
        Ok(match name.trim() {
            "ingest" => Phase::Ingest,
            "candidate" => Phase::Candidate,
            "raw" => Phase::Raw,
            "writer" => Phase::Writer,
            "staged" => Phase::Staged,
            "staged-plain" => Phase::StagedPlain,
            other => {
                return Err(format!(
                    "unknown phase {other:?} (ingest, raw, candidate, writer, staged, staged-plain)"
                ));
            }
        })
    }

    fn name(self) -> &'static str {
        match self {
            Phase::Ingest => "ingest",
            Phase::Candidate => "candidate",
            Phase::Raw => "raw",
            Phase::Writer => "writer",
            Phase::Staged => "staged",
            Phase::StagedPlain => "staged-plain",
        }
    }
}

#[derive(Clone, Copy, Debug)]
struct Config {
    /// Spans per phase.
    spans: usize,
    /// Spans per request (and per COPY transaction).
    batch: usize,
    /// Concurrent clients (and COPY connections).
    clients: usize,
}

struct Settings {
    configs: Vec<Config>,
    /// Request shapes measured side by side, the ingest phase only, with and without group commit.
    shapes: Vec<Config>,
    rounds: usize,
    phases: Vec<Phase>,
    template: String,
    dir: PathBuf,
    verify: bool,
    keep: bool,
    pg_config: PathBuf,
    /// Server pool size; None keeps agent-trace's default.
    pool_size: Option<usize>,
    /// The agent-trace binary to benchmark: this build's, unless BENCH_SERVER_BIN names another
    /// (a candidate build, for A/B comparisons).
    server_bin: PathBuf,
    /// A second agent-trace binary for the `candidate` phase.
    candidate_bin: Option<PathBuf>,
    /// Time the steps of one batch inside PostgreSQL after the rounds.
    breakdown: bool,
    /// Also print EXPLAIN ANALYZE of the ingest's INSERT .. SELECT for one batch.
    explain: bool,
    /// LLM spans without a cost and prices imported: the trigger computes every LLM span's cost.
    priced: bool,
    /// Spans of the request the poison measurement sends (0: none).
    poison: usize,
}

/// `SPANS:BATCH:CLIENTS,...` of setting `name` (empty: none).
fn parse_configs(name: &str, specs: &str) -> Result<Vec<Config>, String> {
    specs
        .split(',')
        .filter(|spec| !spec.trim().is_empty())
        .map(|spec| {
            let parts: Vec<usize> = spec
                .split(':')
                .map(|n| n.trim().parse::<usize>())
                .collect::<Result<_, _>>()
                .map_err(|_| format!("{name}: {spec:?} is not SPANS:BATCH:CLIENTS"))?;
            match parts[..] {
                [spans, batch, clients] if spans > 0 && batch > 0 && clients > 0 => Ok(Config {
                    spans,
                    batch,
                    clients,
                }),
                _ => Err(format!(
                    "{name}: {spec:?} is not SPANS:BATCH:CLIENTS (all > 0)"
                )),
            }
        })
        .collect()
}

impl Settings {
    /// `KEY=VALUE` arguments override environment variables of the same name. Arguments without
    /// `=` (cargo passes `--bench`) are ignored.
    fn load() -> Result<Self, String> {
        let args: HashMap<String, String> = std::env::args()
            .skip(1)
            .filter_map(|arg| {
                arg.split_once('=')
                    .map(|(k, v)| (k.to_string(), v.to_string()))
            })
            .collect();
        let get = |key: &str| args.get(key).cloned().or_else(|| std::env::var(key).ok());
        let number = |key: &str, default: usize| -> Result<usize, String> {
            get(key).map_or(Ok(default), |v| {
                v.trim()
                    .parse()
                    .map_err(|_| format!("{key}={v}: not a number"))
            })
        };
        let configs = parse_configs(
            "BENCH_CONFIGS",
            &get("BENCH_CONFIGS").unwrap_or_else(|| "200000:500:4,20000:10:4".into()),
        )?;
        let shapes = parse_configs(
            "BENCH_SHAPES",
            &get("BENCH_SHAPES").unwrap_or_else(|| "100000:500:4,20000:10:16,20000:10:64".into()),
        )?;
        let phases = get("BENCH_PHASES")
            .unwrap_or_else(|| "ingest,raw".into())
            .split(',')
            .map(Phase::parse)
            .collect::<Result<Vec<_>, _>>()?;
        let flag = |key: &str, default: bool| {
            get(key).map_or(default, |v| !matches!(v.trim(), "0" | "false" | "no" | ""))
        };
        Ok(Self {
            configs,
            shapes,
            rounds: number("BENCH_ROUNDS", 5)?.max(1),
            phases,
            template: get("BENCH_TEMPLATE").unwrap_or_else(|| "py_sdk_agent/010_v1_traces".into()),
            dir: get("BENCH_DIR").map_or_else(
                || std::env::temp_dir().join(format!("agent-trace-bench-{}", std::process::id())),
                PathBuf::from,
            ),
            verify: flag("BENCH_VERIFY", true),
            keep: flag("BENCH_KEEP", false),
            pg_config: cluster::pg_config_from_env(),
            pool_size: get("BENCH_POOL_SIZE")
                .map(|v| v.parse().map_err(|_| format!("BENCH_POOL_SIZE={v}")))
                .transpose()?,
            server_bin: get("BENCH_SERVER_BIN")
                .unwrap_or_else(|| env!("CARGO_BIN_EXE_agent-trace").into())
                .into(),
            candidate_bin: get("BENCH_CANDIDATE_BIN").map(PathBuf::from),
            breakdown: flag("BENCH_BREAKDOWN", true),
            explain: flag("BENCH_EXPLAIN", false),
            priced: flag("BENCH_PRICED", false),
            poison: number("BENCH_POISON", 20_000)?,
        })
    }
}

// ------------------------------------------------------------------------------------------------
// Data: copies of a captured request with fresh ids and shifted times

/// The captured request's spans, moved to start now, with where each sits (resource, scope) and
/// the request with its span lists emptied (resources and scopes kept).
struct Template {
    skeleton: ExportTraceServiceRequest,
    spans: Vec<(usize, usize, Span)>,
    /// BENCH_PRICED: leave LLM spans without a cost, for the database to compute.
    priced: bool,
}

impl Template {
    fn load(name: &str) -> Result<Self, String> {
        let mut skeleton: ExportTraceServiceRequest = ingest::fixtures::find(name).decode();
        let mut spans = Vec::new();
        for (r, resource_spans) in skeleton.resource_spans.iter_mut().enumerate() {
            for (s, scope_spans) in resource_spans.scope_spans.iter_mut().enumerate() {
                spans.extend(
                    std::mem::take(&mut scope_spans.spans)
                        .into_iter()
                        .map(|sp| (r, s, sp)),
                );
            }
        }
        if spans.is_empty() {
            return Err(format!("{name} has no spans"));
        }
        // Moved to now: the spans land in today's partition, as live traffic does, not in the
        // default partition that holds days without one.
        let earliest = spans
            .iter()
            .map(|(_, _, span)| span.start_time_unix_nano)
            .min()
            .unwrap_or(0);
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_err(|e| e.to_string())?
            .as_nanos() as u64;
        let rebase = now.saturating_sub(earliest);
        for (_, _, span) in &mut spans {
            span.start_time_unix_nano += rebase;
            span.end_time_unix_nano += rebase;
            for event in &mut span.events {
                event.time_unix_nano += rebase;
            }
        }
        Ok(Self {
            skeleton,
            spans,
            priced: false,
        })
    }

    /// Request `index` of a data set cut into requests of `batch` spans: global span g is span
    /// g % n of copy g / n of the template, so a trace may straddle two requests, as it does when an
    /// SDK's batch fills up. Each copy gets a fresh random-looking trace id, fresh span ids (parent
    /// links kept inside the copy), times shifted by TRACE_SPACING_NS per copy, and, unless
    /// `self.priced`, a cost on its LLM (`chat`) spans so cost_usd is filled.
    fn request(
        &self,
        seed: u64,
        index: usize,
        batch: usize,
        total: usize,
    ) -> ExportTraceServiceRequest {
        let n = self.spans.len();
        let mut request = self.skeleton.clone();
        let template_index: HashMap<&[u8], usize> = self
            .spans
            .iter()
            .enumerate()
            .map(|(k, (_, _, span))| (span.span_id.as_slice(), k))
            .collect();
        for g in index * batch..((index + 1) * batch).min(total) {
            let (copy, k) = (g / n, g % n);
            let (r, s, template) = &self.spans[k];
            let mut span = template.clone();
            span.trace_id = trace_id(seed, copy).to_vec();
            span.span_id = span_id(seed, copy, k).to_vec();
            if let Some(&parent) = template_index.get(template.parent_span_id.as_slice()) {
                span.parent_span_id = span_id(seed, copy, parent).to_vec();
            }
            let shift = copy as u64 * TRACE_SPACING_NS;
            span.start_time_unix_nano += shift;
            span.end_time_unix_nano += shift;
            for event in &mut span.events {
                event.time_unix_nano += shift;
            }
            let is_chat = span.attributes.iter().any(|kv| {
                kv.key == "gen_ai.operation.name"
                    && matches!(&kv.value, Some(AnyValue { value: Some(Any::StringValue(v)) }) if v == "chat")
            });
            if is_chat && !self.priced {
                let cost = ((copy * 31 + k * 7) % 997 + 1) as f64 / 100_000.0;
                span.attributes.push(KeyValue {
                    key: "gen_ai.usage.cost".into(),
                    value: Some(AnyValue {
                        value: Some(Any::DoubleValue(cost)),
                    }),
                    ..KeyValue::default()
                });
            }
            request.resource_spans[*r].scope_spans[*s].spans.push(span);
        }
        for resource_spans in &mut request.resource_spans {
            resource_spans.scope_spans.retain(|s| !s.spans.is_empty());
        }
        request.resource_spans.retain(|r| !r.scope_spans.is_empty());
        request
    }
}

fn splitmix64(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

fn trace_id(seed: u64, copy: usize) -> [u8; 16] {
    let a = splitmix64(seed ^ (copy as u64).wrapping_mul(2));
    let b = splitmix64(seed ^ (copy as u64).wrapping_mul(2).wrapping_add(1));
    let mut id = [0; 16];
    id[..8].copy_from_slice(&a.to_be_bytes());
    id[8..].copy_from_slice(&(b | 1).to_be_bytes());
    id
}

fn span_id(seed: u64, copy: usize, k: usize) -> [u8; 8] {
    (splitmix64(!seed ^ ((copy as u64) << 16 | k as u64)) | 1).to_be_bytes()
}

/// One configuration's requests, encoded as sent, and the rows they map to.
struct Dataset {
    bodies: Arc<Vec<Bytes>>,
    batches: Arc<Vec<Vec<SpanRow>>>,
    spans: usize,
    traces: usize,
    bytes: usize,
}

impl Dataset {
    fn build(template: &Template, config: Config) -> Result<Self, String> {
        let seed = 0x6167_656e_745f_7472; // fixed: every round and phase writes the same data
        let requests = config.spans.div_ceil(config.batch);
        let mut bodies = Vec::with_capacity(requests);
        let mut batches = Vec::with_capacity(requests);
        for index in 0..requests {
            let request = template.request(seed, index, config.batch, config.spans);
            let mapped = spans::map_request(&request);
            if !mapped.rejected.is_empty() {
                return Err(format!("generated spans rejected: {:?}", mapped.rejected));
            }
            bodies.push(Bytes::from(request.encode_to_vec()));
            batches.push(mapped.rows);
        }
        let spans: usize = batches.iter().map(Vec::len).sum();
        if spans != config.spans {
            return Err(format!("generated {spans} spans, wanted {}", config.spans));
        }
        Ok(Self {
            bytes: bodies.iter().map(Bytes::len).sum(),
            bodies: Arc::new(bodies),
            batches: Arc::new(batches),
            spans,
            traces: config.spans.div_ceil(template.spans.len()),
        })
    }

    /// The first `requests` requests, for warming up.
    fn head(&self, requests: usize) -> Self {
        let requests = requests.min(self.bodies.len());
        let batches: Vec<Vec<SpanRow>> = self.batches[..requests].to_vec();
        Self {
            spans: batches.iter().map(Vec::len).sum(),
            bodies: Arc::new(self.bodies[..requests].to_vec()),
            batches: Arc::new(batches),
            traces: 0,
            bytes: 0,
        }
    }
}

// ------------------------------------------------------------------------------------------------
// Encoding rows for COPY

async fn copy_rows(
    client: &Client,
    statement: &Statement,
    rows: &[SpanRow],
) -> Result<u64, String> {
    let sink = client.copy_in(statement).await.map_err(db_error)?;
    let writer = BinaryCopyInWriter::new(sink, SpanRow::COLUMN_TYPES);
    pin_mut!(writer);
    for row in rows {
        // The ingest's own row encoding: the raw phase sends the bytes the ingest sends.
        row.copy(writer.as_mut()).await.map_err(db_error)?;
    }
    writer.finish().await.map_err(db_error)
}

fn db_error(error: tokio_postgres::Error) -> String {
    match error.as_db_error() {
        Some(db) => format!("{} ({})", db.message(), db.code().code()),
        None => error.to_string(),
    }
}

// ------------------------------------------------------------------------------------------------
// Database connections of the bench itself

async fn connect(url: &str) -> Result<Client, String> {
    let (client, connection) = tokio_postgres::connect(url, NoTls)
        .await
        .map_err(|e| format!("connecting to {url}: {e}"))?;
    tokio::spawn(connection);
    Ok(client)
}

/// One COPY connection, with its statements prepared once.
struct CopyConnection {
    client: Client,
    copy_table: Statement,
    copy_staging: Statement,
    insert: Statement,
    insert_plain: Statement,
}

struct CopyPool {
    connections: Vec<Arc<CopyConnection>>,
}

/// INSERT_SQL without DISTINCT ON, ORDER BY and ON CONFLICT: the cheapest INSERT .. SELECT.
fn plain_insert_sql() -> Result<String, String> {
    let distinct = "SELECT DISTINCT ON (s.trace_id, s.span_id, s.start_time, s.project_id)";
    let tail_start = INSERT_SQL
        .find(" ORDER BY s.trace_id")
        .ok_or("insert_spans.sql changed: no ORDER BY to strip")?;
    if !INSERT_SQL.contains(distinct) {
        return Err("insert_spans.sql changed: no DISTINCT ON to strip".into());
    }
    Ok(INSERT_SQL[..tail_start].replace(distinct, "SELECT"))
}

impl CopyPool {
    async fn connect(url: &str, size: usize) -> Result<Self, String> {
        let plain = plain_insert_sql()?;
        let mut connections = Vec::with_capacity(size);
        for _ in 0..size {
            let client = connect(url).await?;
            client
                .batch_execute(SpanRow::SQL.staging)
                .await
                .map_err(db_error)?;
            let prepare = |sql: &str| {
                let client = &client;
                let sql = sql.to_string();
                async move { client.prepare(&sql).await.map_err(db_error) }
            };
            let connection = CopyConnection {
                copy_table: prepare(SpanRow::SQL.copy.ok_or("spans are copied")?).await?,
                copy_staging: prepare(SpanRow::SQL.copy_staging).await?,
                insert: prepare(INSERT_SQL).await?,
                insert_plain: prepare(&plain).await?,
                client,
            };
            connections.push(Arc::new(connection));
        }
        Ok(Self { connections })
    }
}

/// One batch as one transaction, written the way `phase` writes.
async fn write_batch(
    connection: &CopyConnection,
    phase: Phase,
    rows: &[SpanRow],
) -> Result<(), String> {
    let client = &connection.client;
    client.batch_execute("BEGIN").await.map_err(db_error)?;
    match phase {
        Phase::Raw => {
            copy_rows(client, &connection.copy_table, rows).await?;
        }
        Phase::Staged | Phase::StagedPlain => {
            copy_rows(client, &connection.copy_staging, rows).await?;
            let insert = if phase == Phase::Staged {
                &connection.insert
            } else {
                &connection.insert_plain
            };
            client.execute(insert, &[]).await.map_err(db_error)?;
        }
        Phase::Ingest | Phase::Candidate | Phase::Writer => {
            return Err(format!("{} is not a COPY phase", phase.name()));
        }
    }
    client.batch_execute("COMMIT").await.map_err(db_error)
}

// ------------------------------------------------------------------------------------------------
// The agent-trace server, as a child process

fn free_port() -> Result<u16, String> {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .map_err(|e| format!("finding a free port: {e}"))
}

struct Server {
    child: Child,
    addr: SocketAddr,
    log: PathBuf,
}

impl Server {
    fn start(
        binary: &Path,
        database_url: &str,
        dir: &Path,
        pool_size: Option<usize>,
        extra: &[&str],
    ) -> Result<Self, String> {
        let addr: SocketAddr = format!("127.0.0.1:{}", free_port()?)
            .parse()
            .map_err(|e| format!("{e}"))?;
        let grpc = format!("127.0.0.1:{}", free_port()?);
        let log = dir.join(format!("agent-trace-{}.log", addr.port()));
        let log_file =
            std::fs::File::create(&log).map_err(|e| format!("{}: {e}", log.display()))?;
        let log_file2 = log_file
            .try_clone()
            .map_err(|e| format!("{}: {e}", log.display()))?;
        let mut command = Command::new(binary);
        command
            .args(["serve", "--database-url", database_url, "--listen"])
            .arg(addr.to_string())
            .args(["--grpc-listen", &grpc])
            .stdin(Stdio::null())
            .stdout(log_file)
            .stderr(log_file2);
        if let Some(size) = pool_size {
            command.args(["--pool-size", &size.to_string()]);
        }
        command.args(extra);
        let child = command
            .spawn()
            .map_err(|e| format!("starting agent-trace: {e}"))?;
        let mut server = Self { child, addr, log };
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Ok(Some(status)) = server.child.try_wait() {
                return Err(format!(
                    "agent-trace exited ({status}) before listening:\n{}",
                    server.log_tail()
                ));
            }
            if TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok() {
                return Ok(server);
            }
            if Instant::now() > deadline {
                return Err(format!(
                    "agent-trace did not listen on {addr} within 30 s:\n{}",
                    server.log_tail()
                ));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn pid(&self) -> u32 {
        self.child.id()
    }

    fn log_tail(&self) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(20)..].join("\n")
    }

    /// SIGTERM (agent-trace finishes requests in flight), then SIGKILL after 10 s.
    fn stop(&mut self) {
        if let Ok(Some(_)) = self.child.try_wait() {
            return;
        }
        let _ = Command::new("kill")
            .args(["-TERM", &self.pid().to_string()])
            .status();
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop();
    }
}

/// The scratch cluster: stopped (and its directory removed unless BENCH_KEEP) when dropped, so
/// also on error and on panic.
struct Scratch {
    cluster: PrivateCluster,
    dir: PathBuf,
    keep: bool,
}

impl Drop for Scratch {
    fn drop(&mut self) {
        if let Err(e) = self.cluster.down() {
            eprintln!("bench: stopping the scratch cluster: {e}");
        }
        if self.keep {
            eprintln!("bench: kept {}", self.dir.display());
        } else {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}

// ------------------------------------------------------------------------------------------------
// /proc accounting

/// The fields of /proc/PID/stat after the command name: [0] state, [1] ppid, [11] utime,
/// [12] stime, [13] cutime, [14] cstime.
fn stat_fields(pid: &str) -> Option<Vec<u64>> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let rest = &text[text.rfind(')')? + 1..];
    Some(
        rest.split_whitespace()
            .map(|f| f.parse().unwrap_or(0))
            .collect(),
    )
}

/// utime + stime of one process (all its threads), in clock ticks.
fn process_ticks(pid: &str) -> u64 {
    stat_fields(pid).map_or(0, |f| f[11] + f[12])
}

/// CPU of the whole PostgreSQL cluster: the postmaster, its live children, and the children it has
/// reaped (autovacuum workers, exited backends) through cutime/cstime.
fn cluster_ticks(postmaster: u32) -> u64 {
    let mut total = 0;
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return 0;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(pid) = name
            .to_str()
            .filter(|n| n.bytes().all(|b| b.is_ascii_digit()))
        else {
            continue;
        };
        let Some(f) = stat_fields(pid) else { continue };
        if pid == postmaster.to_string() {
            total += f[11] + f[12] + f[13] + f[14];
        } else if f[1] == u64::from(postmaster) {
            total += f[11] + f[12];
        }
    }
    total
}

/// (busy, total) clock ticks of the whole machine, from the first line of /proc/stat.
fn machine_ticks() -> (u64, u64) {
    let text = std::fs::read_to_string("/proc/stat").unwrap_or_default();
    let fields: Vec<u64> = text
        .lines()
        .next()
        .unwrap_or_default()
        .split_whitespace()
        .skip(1)
        .map(|f| f.parse().unwrap_or(0))
        .collect();
    let total: u64 = fields.iter().take(8).sum();
    let idle = fields.get(3).copied().unwrap_or(0) + fields.get(4).copied().unwrap_or(0);
    (total - idle, total)
}

/// VmHWM (peak resident set) of a process, in KiB.
fn peak_rss_kib(pid: u32) -> Option<u64> {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()?
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))?
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()
}

fn clock_ticks_per_second() -> f64 {
    Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(100.0)
}

// ------------------------------------------------------------------------------------------------
// Phases

/// Where PostgreSQL spends its time on one batch: each step timed alone, inside a transaction
/// that is rolled back (so no commit, no fsync), median of `REPS`, with the tables as the rounds
/// left them. Printed in milliseconds per batch.
async fn breakdown(
    pool: &CopyPool,
    template: &Template,
    config: Config,
    explain: bool,
) -> Result<(), String> {
    const REPS: usize = 15;
    // Every insert gets spans with fresh ids: a rolled-back row stays in the table and its indexes
    // as a dead tuple, and inserting its key again would make PostgreSQL visit it.
    let mut seed = 0x5eed_u64;
    let mut fresh_rows = || {
        seed += 1;
        spans::map_request(&template.request(seed, 0, config.batch, config.batch)).rows
    };
    let connection = &pool.connections[0];
    let client = &connection.client;
    let run = |sql: &'static str| async move { client.batch_execute(sql).await.map_err(db_error) };
    let mut steps: Vec<(&str, Vec<f64>)> = [
        "COPY -> agent_spans (the raw phase's statement)",
        "  the same with the trigger off",
        "COPY -> staging (temp table, no WAL)",
        "INSERT .. SELECT DISTINCT ON .. ON CONFLICT DO NOTHING (the ingest's)",
        "  the same with the trigger off",
        "INSERT .. SELECT, plain (no DISTINCT ON, no ON CONFLICT)",
        "  the same with the trigger off",
    ]
    .into_iter()
    .map(|name| (name, Vec::with_capacity(REPS)))
    .collect();
    let trigger = |on: bool| {
        if on {
            "SET LOCAL session_replication_role = origin"
        } else {
            "SET LOCAL session_replication_role = replica"
        }
    };
    // The staging table is emptied by COMMIT; after a ROLLBACK its rows stay (dead), so empty it.
    let empty_staging = "TRUNCATE pg_temp.agent_trace_staging";
    run(empty_staging).await?;
    let mut spans = 0;
    for _ in 0..REPS {
        for (step, on) in [(0, true), (1, false)] {
            let rows = fresh_rows();
            spans = rows.len();
            run("BEGIN").await?;
            run(trigger(on)).await?;
            let started = Instant::now();
            copy_rows(client, &connection.copy_table, &rows).await?;
            steps[step].1.push(started.elapsed().as_secs_f64() * 1e3);
            run("ROLLBACK").await?;
        }
        for (step, insert, on) in [
            (3, &connection.insert, true),
            (4, &connection.insert, false),
            (5, &connection.insert_plain, true),
            (6, &connection.insert_plain, false),
        ] {
            let rows = fresh_rows();
            run("BEGIN").await?;
            run(trigger(on)).await?;
            let started = Instant::now();
            copy_rows(client, &connection.copy_staging, &rows).await?;
            if step == 3 {
                steps[2].1.push(started.elapsed().as_secs_f64() * 1e3);
            }
            let started = Instant::now();
            client.execute(insert, &[]).await.map_err(db_error)?;
            steps[step].1.push(started.elapsed().as_secs_f64() * 1e3);
            run("ROLLBACK").await?;
            run(empty_staging).await?;
        }
    }
    println!(
        "one batch of {spans} spans inside PostgreSQL (median of {REPS}, rolled back, so without COMMIT):"
    );
    for (name, times) in steps {
        let ms = median(times);
        println!(
            "  {name:<72} {ms:>7.2} ms  {:>6.1} us/span",
            ms * 1e3 / spans as f64
        );
    }
    if explain {
        let rows = fresh_rows();
        run("BEGIN").await?;
        copy_rows(client, &connection.copy_staging, &rows).await?;
        let plan = client
            .query(
                &format!("EXPLAIN (ANALYZE, BUFFERS, WAL, VERBOSE) {INSERT_SQL}"),
                &[],
            )
            .await
            .map_err(db_error)?;
        run("ROLLBACK").await?;
        run(empty_staging).await?;
        println!("EXPLAIN ANALYZE of the ingest's INSERT for that batch:");
        for row in plan {
            println!("  {}", row.get::<_, String>(0));
        }
    }
    Ok(())
}

struct Measured {
    round: usize,
    phase: Phase,
    seconds: f64,
    spans: usize,
    /// Per request / transaction, milliseconds, sorted.
    latencies: Vec<f64>,
    server_cpu: Option<f64>,
    pg_cpu: f64,
    bench_cpu: f64,
    /// Share of the machine's CPU time that was busy (all cores).
    busy: f64,
    wal_bytes: f64,
}

impl Measured {
    fn rate(&self) -> f64 {
        self.spans as f64 / self.seconds
    }

    fn per_million(&self, cpu_seconds: f64) -> f64 {
        cpu_seconds / self.spans as f64 * 1e6
    }

    fn percentile(&self, p: f64) -> f64 {
        if self.latencies.is_empty() {
            return f64::NAN;
        }
        let index = ((self.latencies.len() - 1) as f64 * p).round() as usize;
        self.latencies[index]
    }
}

/// What the phases share within one configuration.
struct Context {
    http: reqwest::Client,
    /// URL and process of the server of each HTTP phase.
    servers: Vec<(Phase, String, u32)>,
    postmaster: u32,
    copy: CopyPool,
    writer: Option<Writer>,
    ticks: f64,
}

impl Context {
    fn server(&self, phase: Phase) -> Result<(String, u32), String> {
        self.servers
            .iter()
            .find(|(p, _, _)| *p == phase)
            .map(|(_, url, pid)| (url.clone(), *pid))
            .ok_or_else(|| format!("no server for the {} phase", phase.name()))
    }
}

/// Runs `clients` workers that take batch indexes from a shared counter until none are left;
/// returns each batch's latency in ms.
async fn run_workers<F, Fut>(clients: usize, batches: usize, work: F) -> Result<Vec<f64>, String>
where
    F: Fn(usize, usize) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = Result<(), String>> + Send,
{
    let next = Arc::new(AtomicUsize::new(0));
    let work = Arc::new(work);
    let mut tasks = Vec::with_capacity(clients);
    for worker in 0..clients {
        let next = next.clone();
        let work = work.clone();
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            loop {
                let index = next.fetch_add(1, Ordering::Relaxed);
                if index >= batches {
                    return Ok::<_, String>(latencies);
                }
                let started = Instant::now();
                work(worker, index).await?;
                latencies.push(started.elapsed().as_secs_f64() * 1e3);
            }
        }));
    }
    let mut all = Vec::with_capacity(batches);
    for task in tasks {
        all.extend(task.await.map_err(|e| format!("worker: {e}"))??);
    }
    all.sort_by(f64::total_cmp);
    Ok(all)
}

async fn run_phase(
    context: &Context,
    phase: Phase,
    data: &Dataset,
    clients: usize,
) -> Result<Vec<f64>, String> {
    let batches = data.bodies.len();
    match phase {
        Phase::Ingest | Phase::Candidate => {
            let http = context.http.clone();
            let url = context.server(phase)?.0;
            let bodies = data.bodies.clone();
            run_workers(clients, batches, move |_, index| {
                let request = http
                    .post(&url)
                    .header("content-type", "application/x-protobuf")
                    .body(bodies[index].clone());
                async move {
                    let response = request.send().await.map_err(|e| format!("POST: {e}"))?;
                    let status = response.status();
                    let body = response.bytes().await.map_err(|e| format!("body: {e}"))?;
                    if status != 200 {
                        return Err(format!(
                            "agent-trace answered {status}: {}",
                            String::from_utf8_lossy(&body)
                        ));
                    }
                    let answer = ExportTraceServiceResponse::decode(body)
                        .map_err(|e| format!("response: {e}"))?;
                    match answer.partial_success {
                        Some(partial) if partial.rejected_spans > 0 => {
                            Err(format!("spans rejected: {}", partial.error_message))
                        }
                        _ => Ok(()),
                    }
                }
            })
            .await
        }
        Phase::Writer => {
            let writer = context
                .writer
                .clone()
                .ok_or("the writer phase needs a Writer")?;
            let rows = data.batches.clone();
            run_workers(clients, batches, move |_, index| {
                let writer = writer.clone();
                let rows = rows.clone();
                async move {
                    let written = writer
                        .write(&rows[index])
                        .await
                        .map_err(|e| e.to_string())?;
                    if !written.rejected.is_empty() || written.duplicates > 0 {
                        return Err(format!("writer: {written:?}"));
                    }
                    Ok(())
                }
            })
            .await
        }
        Phase::Raw | Phase::Staged | Phase::StagedPlain => {
            let connections = context.copy.connections.clone();
            let rows = data.batches.clone();
            run_workers(clients, batches, move |worker, index| {
                let connection = connections[worker].clone();
                let rows = rows.clone();
                async move { write_batch(&connection, phase, &rows[index]).await }
            })
            .await
        }
    }
}

async fn scalar_f64(client: &Client, sql: &str) -> Result<f64, String> {
    client
        .query_one(sql, &[])
        .await
        .map(|row| row.get::<_, f64>(0))
        .map_err(|e| format!("{sql}: {}", db_error(e)))
}

async fn reset(admin: &Client) -> Result<(), String> {
    admin
        .batch_execute("TRUNCATE agent_trace.agent_spans, agent_trace.agent_traces, agent_trace.agent_span_costs; CHECKPOINT")
        .await
        .map_err(|e| format!("TRUNCATE/CHECKPOINT: {}", db_error(e)))
}

async fn measure(
    admin: &Client,
    context: &Context,
    round: usize,
    phase: Phase,
    data: &Dataset,
    clients: usize,
) -> Result<Measured, String> {
    const WAL_SQL: &str = "SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), '0/0')::float8";
    reset(admin).await?;
    let wal_before = scalar_f64(admin, WAL_SQL).await?;
    let server_pid = context.server(phase).map(|(_, pid)| pid).ok();
    let server = server_pid.map(|pid| pid.to_string()).unwrap_or_default();
    let server_before = process_ticks(&server);
    let pg_before = cluster_ticks(context.postmaster);
    let bench_before = process_ticks("self");
    let (busy_before, total_before) = machine_ticks();
    let started = Instant::now();

    let latencies = run_phase(context, phase, data, clients).await?;

    let seconds = started.elapsed().as_secs_f64();
    let (busy_after, total_after) = machine_ticks();
    let bench_after = process_ticks("self");
    let pg_after = cluster_ticks(context.postmaster);
    let server_after = process_ticks(&server);
    let wal_after = scalar_f64(admin, WAL_SQL).await?;

    let stored = scalar_f64(
        admin,
        "SELECT count(*)::float8 FROM agent_trace.agent_spans",
    )
    .await?;
    if stored as usize != data.spans {
        return Err(format!(
            "{} stored {stored} spans of {}",
            phase.name(),
            data.spans
        ));
    }
    if data.traces > 0 {
        let traces = scalar_f64(
            admin,
            "SELECT count(*)::float8 FROM agent_trace.agent_traces",
        )
        .await?;
        if traces as usize != data.traces {
            return Err(format!(
                "{} left {traces} traces, expected {}",
                phase.name(),
                data.traces
            ));
        }
    }
    let ticks = context.ticks;
    Ok(Measured {
        round,
        phase,
        seconds,
        spans: data.spans,
        latencies,
        server_cpu: server_pid.map(|_| (server_after - server_before) as f64 / ticks),
        pg_cpu: (pg_after - pg_before) as f64 / ticks,
        bench_cpu: (bench_after - bench_before) as f64 / ticks,
        busy: (busy_after - busy_before) as f64 / (total_after - total_before).max(1) as f64,
        wal_bytes: wal_after - wal_before,
    })
}

// ------------------------------------------------------------------------------------------------
// Reporting

fn median(mut values: Vec<f64>) -> f64 {
    values.retain(|v| v.is_finite());
    if values.is_empty() {
        return f64::NAN;
    }
    values.sort_by(f64::total_cmp);
    let middle = values.len() / 2;
    if values.len() % 2 == 1 {
        values[middle]
    } else {
        (values[middle - 1] + values[middle]) / 2.0
    }
}

fn round_header() -> String {
    format!(
        "{:>5}  {:<12} {:>10} {:>8} {:>8} {:>8} {:>12} {:>10} {:>10} {:>6} {:>9}",
        "round",
        "phase",
        "spans/s",
        "seconds",
        "p50 ms",
        "p99 ms",
        "server CPU",
        "PG CPU",
        "bench CPU",
        "busy",
        "WAL B/sp"
    )
}

fn round_line(m: &Measured) -> String {
    format!(
        "{:>5}  {:<12} {:>10.0} {:>8.2} {:>8.1} {:>8.1} {:>12} {:>10.1} {:>10.1} {:>5.0}% {:>9.0}",
        m.round,
        m.phase.name(),
        m.rate(),
        m.seconds,
        m.percentile(0.5),
        m.percentile(0.99),
        m.server_cpu
            .map_or("-".to_string(), |c| format!("{:.1}", m.per_million(c))),
        m.per_million(m.pg_cpu),
        m.per_million(m.bench_cpu),
        m.busy * 100.0,
        m.wal_bytes / m.spans as f64,
    )
}

struct Summary {
    config: Config,
    request_bytes: f64,
    ingest: f64,
    raw: f64,
    ratios: Vec<f64>,
    server_cpu: f64,
    /// The ingest's CPU per span against PostgreSQL's, for `ingest` (and `candidate`).
    cpu: Vec<CpuPerSpan>,
    peak_rss_mib: f64,
    others: Vec<(Phase, f64)>,
}

/// A server's CPU per span against PostgreSQL's in the same phases (CPU-s per million spans).
struct CpuPerSpan {
    phase: Phase,
    server: f64,
    postgres: f64,
    /// server / PostgreSQL, one per round.
    ratios: Vec<f64>,
}

// ------------------------------------------------------------------------------------------------
// Main

fn main() -> ExitCode {
    let settings = match Settings::load() {
        Ok(settings) => settings,
        Err(e) => {
            eprintln!("bench: {e}");
            return ExitCode::FAILURE;
        }
    };
    let _ = std::fs::remove_dir_all(&settings.dir);
    let port = match free_port() {
        Ok(port) => port,
        Err(e) => {
            eprintln!("bench: {e}");
            return ExitCode::FAILURE;
        }
    };
    let cluster = match PrivateCluster::new(ClusterConfig {
        dir: settings.dir.clone(),
        port,
        pg_config: settings.pg_config.clone(),
    }) {
        Ok(cluster) => cluster,
        Err(e) => {
            eprintln!("bench: {e}");
            return ExitCode::FAILURE;
        }
    };
    let scratch = Scratch {
        cluster,
        dir: settings.dir.clone(),
        keep: settings.keep,
    };
    eprintln!(
        "bench: scratch cluster in {} on 127.0.0.1:{port}",
        settings.dir.display()
    );
    if let Err(e) = scratch.cluster.up() {
        eprintln!("bench: {e}\n(if CREATE EXTENSION failed: bash scripts/install-extension.sh)");
        return ExitCode::FAILURE;
    }
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("bench: tokio runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    // Ctrl-C ends the run the normal way, so the scratch cluster is stopped (pg_ctl detaches it
    // from the terminal: the signal does not reach it).
    let result = runtime.block_on(async {
        tokio::select! {
            result = run(&settings, &scratch) => result,
            _ = tokio::signal::ctrl_c() => Err("interrupted".to_string()),
        }
    });
    drop(runtime);
    drop(scratch);
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("bench: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn run(settings: &Settings, scratch: &Scratch) -> Result<(), String> {
    let url = scratch.cluster.connection_string();
    let admin = connect(&url).await?;
    let postmaster: u32 =
        std::fs::read_to_string(scratch.cluster.data_dir().join("postmaster.pid"))
            .ok()
            .and_then(|t| t.lines().next().and_then(|l| l.trim().parse().ok()))
            .ok_or("cannot read postmaster.pid")?;
    let ticks = clock_ticks_per_second();
    let mut template = Template::load(&settings.template)?;
    template.priced = settings.priced;
    if settings.priced {
        let snapshot = prices::parse(prices::SNAPSHOT)?;
        let mut client = connect(&url).await?;
        let imported = prices::import(&mut client, &snapshot, "litellm snapshot", None)
            .await
            .map_err(|e| format!("importing prices: {e}"))?;
        println!(
            "priced: {} model prices imported; LLM spans carry no cost",
            imported.added
        );
    }

    let mut show = String::new();
    for name in [
        "server_version",
        "fsync",
        "synchronous_commit",
        "wal_sync_method",
        "full_page_writes",
        "shared_buffers",
        "max_wal_size",
        "checkpoint_timeout",
        "autovacuum",
    ] {
        let value: String = admin
            .query_one(&format!("SHOW {name}"), &[])
            .await
            .map_err(db_error)?
            .get(0);
        let _ = write!(show, "{name}={value} ");
    }
    println!("agent-trace ingest benchmark");
    println!(
        "machine: {} cores; PostgreSQL: {}",
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        show.trim_end()
    );
    println!(
        "template: {} ({} spans per trace copy), phases: {}, rounds: {} (phase order alternates each round)",
        settings.template,
        template.spans.len(),
        settings
            .phases
            .iter()
            .map(|p| p.name())
            .collect::<Vec<_>>()
            .join(","),
        settings.rounds
    );
    println!("server: {}", settings.server_bin.display());
    println!(
        "CPU columns are CPU-seconds per million spans; busy = whole-machine CPU use; WAL B/sp = WAL bytes per span"
    );

    let mut summaries = Vec::new();
    for &config in &settings.configs {
        summaries
            .push(run_config(settings, &url, &admin, postmaster, ticks, &template, config).await?);
    }

    println!();
    println!("== Summary (medians over rounds) ==");
    println!();
    let extra: Vec<Phase> = summaries
        .first()
        .map(|s| s.others.iter().map(|(p, _)| *p).collect())
        .unwrap_or_default();
    let mut header = String::from(
        "| spans/request B | clients C | request bytes | ingest spans/s | raw COPY spans/s | ingest / raw | per-round ratios | ingest CPU-s per M spans | server peak RSS |",
    );
    let mut rule = String::from("|---|---|---|---|---|---|---|---|---|");
    for phase in &extra {
        let _ = write!(header, " {} spans/s |", phase.name());
        rule.push_str("---|");
    }
    println!("{header}");
    println!("{rule}");
    for s in &summaries {
        let mut line = format!(
            "| {} | {} | {:.0} | {:.0} | {:.0} | {:.2}x | {} | {:.1} | {:.1} MiB |",
            s.config.batch,
            s.config.clients,
            s.request_bytes,
            s.ingest,
            s.raw,
            s.ingest / s.raw,
            s.ratios
                .iter()
                .map(|r| format!("{r:.2}"))
                .collect::<Vec<_>>()
                .join(" "),
            s.server_cpu,
            s.peak_rss_mib,
        );
        for (_, rate) in &s.others {
            let _ = write!(line, " {rate:.0} |");
        }
        println!("{line}");
    }
    println!();
    println!(
        "CPU per span, the server's against PostgreSQL's (the whole cluster's) in the same phase, CPU-s per million spans (medians):"
    );
    println!();
    println!(
        "| spans/request B | clients C | phase | server CPU | PostgreSQL CPU | server / PostgreSQL | per-round ratios |"
    );
    println!("|---|---|---|---|---|---|---|");
    for s in &summaries {
        for c in &s.cpu {
            println!(
                "| {} | {} | {} | {:.1} | {:.1} | {:.2} | {} |",
                s.config.batch,
                s.config.clients,
                c.phase.name(),
                c.server,
                c.postgres,
                median(c.ratios.clone()),
                c.ratios
                    .iter()
                    .map(|r| format!("{r:.2}"))
                    .collect::<Vec<_>>()
                    .join(" ")
            );
        }
    }
    if settings.poison > 0 {
        poison(settings, &url, &admin, &template).await?;
    }
    if !settings.shapes.is_empty() {
        shapes(settings, &url, &admin, postmaster, ticks, &template).await?;
    }
    Ok(())
}

/// Group commit: the request shapes of BENCH_SHAPES side by side, in alternating order each round,
/// against two servers of the same binary: `ingest` with its defaults (group commit) and
/// `candidate` with --batch-max-rows 1 (every request written alone in its own transaction, as
/// before group commit). Prints each run, then per shape and server the median spans/s and request
/// latency, and the ratio of each shape's spans/s to the first shape's, per round and its median.
async fn shapes(
    settings: &Settings,
    url: &str,
    admin: &Client,
    postmaster: u32,
    ticks: f64,
    template: &Template,
) -> Result<(), String> {
    println!();
    println!(
        "== Request shapes side by side: ingest = group commit (defaults), candidate = --batch-max-rows 1 (a transaction per request) =="
    );
    let variants = [Phase::Ingest, Phase::Candidate];
    let mut servers = vec![
        (
            Phase::Ingest,
            Server::start(
                &settings.server_bin,
                url,
                &settings.dir,
                settings.pool_size,
                &[],
            )?,
        ),
        (
            Phase::Candidate,
            Server::start(
                &settings.server_bin,
                url,
                &settings.dir,
                settings.pool_size,
                &["--batch-max-rows", "1"],
            )?,
        ),
    ];
    let most_clients = settings.shapes.iter().map(|c| c.clients).max().unwrap_or(1);
    let context = Context {
        http: reqwest::Client::builder()
            .pool_max_idle_per_host(most_clients)
            .build()
            .map_err(|e| format!("HTTP client: {e}"))?,
        servers: servers
            .iter()
            .map(|(phase, server)| {
                (
                    *phase,
                    format!("http://{}/v1/traces", server.addr),
                    server.pid(),
                )
            })
            .collect(),
        postmaster,
        copy: CopyPool::connect(url, 1).await?,
        writer: None,
        ticks,
    };
    let mut data = Vec::new();
    for &shape in &settings.shapes {
        let dataset = Dataset::build(template, shape)?;
        println!(
            "shape {}: {} requests of {} spans from {} clients, {:.0} bytes each",
            data.len() + 1,
            dataset.bodies.len(),
            shape.batch,
            shape.clients,
            dataset.bytes as f64 / dataset.bodies.len() as f64
        );
        // Every connection of both servers opened, every statement run once.
        let warm = dataset.head(shape.clients * 4);
        for phase in variants {
            reset(admin).await?;
            run_phase(&context, phase, &warm, shape.clients).await?;
        }
        data.push((shape, dataset));
    }
    println!("{:>5}  {:<14} {}", "", "shape", round_header());
    let mut runs: Vec<(usize, Measured)> = Vec::new();
    for round in 1..=settings.rounds {
        let mut order: Vec<(usize, Phase)> = (0..data.len())
            .flat_map(|shape| variants.iter().map(move |&phase| (shape, phase)))
            .collect();
        if round % 2 == 0 {
            order.reverse();
        }
        for (shape, phase) in order {
            let (config, dataset) = &data[shape];
            let measured = measure(admin, &context, round, phase, dataset, config.clients).await?;
            println!(
                "{:>5}  {:<14} {}",
                "",
                format!("{}x{}", config.batch, config.clients),
                round_line(&measured)
            );
            runs.push((shape, measured));
        }
    }
    for (_, server) in &mut servers {
        server.stop();
    }
    let of = |shape: usize, phase: Phase| -> Vec<&Measured> {
        runs.iter()
            .filter(|(s, m)| *s == shape && m.phase == phase)
            .map(|(_, m)| m)
            .collect()
    };
    let rate = |shape: usize, phase: Phase, round: usize| {
        of(shape, phase)
            .iter()
            .find(|m| m.round == round)
            .map(|m| m.rate())
    };
    println!();
    println!(
        "| spans/request x clients | server | spans/s (median) | p50 ms | p99 ms | / first shape (median of rounds) | per-round ratios | server CPU-s per M spans | PG CPU-s per M spans |"
    );
    println!("|---|---|---|---|---|---|---|---|---|");
    for (shape, (config, _)) in data.iter().enumerate() {
        for phase in variants {
            let measured = of(shape, phase);
            let median_of =
                |f: &dyn Fn(&Measured) -> f64| median(measured.iter().map(|m| f(m)).collect());
            let ratios: Vec<f64> = (1..=settings.rounds)
                .filter_map(|round| Some(rate(shape, phase, round)? / rate(0, phase, round)?))
                .collect();
            println!(
                "| {}x{} | {} | {:.0} | {:.1} | {:.1} | {:.2}x | {} | {:.1} | {:.1} |",
                config.batch,
                config.clients,
                if phase == Phase::Ingest {
                    "group commit"
                } else {
                    "a transaction per request"
                },
                median_of(&Measured::rate),
                median_of(&|m| m.percentile(0.5)),
                median_of(&|m| m.percentile(0.99)),
                median(ratios.clone()),
                ratios
                    .iter()
                    .map(|r| format!("{r:.2}"))
                    .collect::<Vec<_>>()
                    .join(" "),
                median_of(&|m| m.per_million(m.server_cpu.unwrap_or(f64::NAN))),
                median_of(&|m| m.per_million(m.pg_cpu)),
            );
        }
    }
    Ok(())
}

/// The careful way's speed: one request of `settings.poison` spans, one of which a CHECK
/// constraint refuses, through agent-trace, against the same request without it. Times to the
/// answer (200 with rejected_spans = 1), medians of 5 alternating tries on an emptied table.
async fn poison(
    settings: &Settings,
    url: &str,
    admin: &Client,
    template: &Template,
) -> Result<(), String> {
    const TRIES: usize = 5;
    let spans = settings.poison;
    let mut server = Server::start(
        &settings.server_bin,
        url,
        &settings.dir,
        settings.pool_size,
        &[],
    )?;
    let http = reqwest::Client::new();
    let endpoint = format!("http://{}/v1/traces", server.addr);
    admin
        .batch_execute("ALTER TABLE agent_trace.agent_spans ADD CONSTRAINT bench_poison CHECK (name <> 'bench poison')")
        .await
        .map_err(db_error)?;
    let (mut clean_times, mut poisoned_times) = (Vec::new(), Vec::new());
    for attempt in 0..2 * TRIES {
        let poisoned = attempt % 2 == 1;
        reset(admin).await?;
        let mut request = template.request(0x9015_0000 + attempt as u64, 0, spans, spans);
        if poisoned {
            let mut all = request
                .resource_spans
                .iter_mut()
                .flat_map(|r| &mut r.scope_spans)
                .flat_map(|s| &mut s.spans);
            if let Some(span) = all.nth(spans / 2) {
                span.name = "bench poison".into();
            }
        }
        let body = request.encode_to_vec();
        let started = Instant::now();
        let response = http
            .post(&endpoint)
            .header("content-type", "application/x-protobuf")
            .body(body)
            .send()
            .await
            .map_err(|e| format!("poison request: {e}"))?;
        let status = response.status();
        let bytes = response.bytes().await.map_err(|e| e.to_string())?;
        let took = started.elapsed().as_secs_f64();
        let answer =
            ExportTraceServiceResponse::decode(bytes.as_ref()).map_err(|e| e.to_string())?;
        let rejected = answer.partial_success.map_or(0, |p| p.rejected_spans);
        let stored = scalar_f64(
            admin,
            "SELECT count(*)::float8 FROM agent_trace.agent_spans",
        )
        .await?;
        let want = (
            usize::from(poisoned) as i64,
            (spans - usize::from(poisoned)) as f64,
        );
        if !status.is_success() || rejected != want.0 || stored != want.1 {
            return Err(format!(
                "poison try {attempt}: status {status}, rejected {rejected}, stored {stored}"
            ));
        }
        if poisoned {
            poisoned_times.push(took);
        } else {
            clean_times.push(took);
        }
    }
    admin
        .batch_execute("ALTER TABLE agent_trace.agent_spans DROP CONSTRAINT bench_poison")
        .await
        .map_err(db_error)?;
    server.stop();
    let (clean, poisoned) = (median(clean_times), median(poisoned_times));
    println!();
    println!("== One refused span in a request of {spans} spans (medians of {TRIES}) ==");
    println!();
    println!("| request | answered in | rejected_spans |");
    println!("|---|---|---|");
    println!("| {spans} spans, all stored | {clean:.2} s | 0 |");
    println!("| {spans} spans, one refused by a CHECK constraint | {poisoned:.2} s | 1 |");
    println!("refused / clean = {:.1}x", poisoned / clean);
    Ok(())
}

async fn run_config(
    settings: &Settings,
    url: &str,
    admin: &Client,
    postmaster: u32,
    ticks: f64,
    template: &Template,
    config: Config,
) -> Result<Summary, String> {
    println!();
    println!(
        "== B={} spans/request, C={} clients, {} spans per phase ==",
        config.batch, config.clients, config.spans
    );
    let data = Dataset::build(template, config)?;
    println!(
        "{} requests, {:.0} bytes each on average ({:.0} bytes per span), {} traces",
        data.bodies.len(),
        data.bytes as f64 / data.bodies.len() as f64,
        data.bytes as f64 / data.spans as f64,
        data.traces
    );
    let mut servers = vec![(
        Phase::Ingest,
        Server::start(
            &settings.server_bin,
            url,
            &settings.dir,
            settings.pool_size,
            &[],
        )?,
    )];
    if settings.phases.contains(&Phase::Candidate) {
        let binary = settings
            .candidate_bin
            .as_ref()
            .ok_or("the candidate phase needs BENCH_CANDIDATE_BIN")?;
        servers.push((
            Phase::Candidate,
            Server::start(binary, url, &settings.dir, settings.pool_size, &[])?,
        ));
    }
    let writer = if settings.phases.contains(&Phase::Writer) {
        Some(
            Writer::connect(&WriterConfig {
                pool_size: config.clients,
                connection_wait: Duration::from_secs(30),
                ..WriterConfig::new(url)
            })
            .await
            .map_err(|e| e.to_string())?,
        )
    } else {
        None
    };
    let context = Context {
        http: reqwest::Client::builder()
            .pool_max_idle_per_host(config.clients)
            .build()
            .map_err(|e| format!("HTTP client: {e}"))?,
        servers: servers
            .iter()
            .map(|(phase, server)| {
                (
                    *phase,
                    format!("http://{}/v1/traces", server.addr),
                    server.pid(),
                )
            })
            .collect(),
        postmaster,
        copy: CopyPool::connect(url, config.clients).await?,
        writer,
        ticks,
    };

    // Warm-up: every connection opened (the server's pool opens them on demand) and every
    // statement run once before anything is timed.
    let warm = data.head(config.clients * 4);
    for &phase in &settings.phases {
        reset(admin).await?;
        run_phase(&context, phase, &warm, config.clients).await?;
    }

    println!("{}", round_header());
    let mut results: Vec<Measured> = Vec::new();
    let mut fingerprints: Vec<(Phase, String)> = Vec::new();
    for round in 1..=settings.rounds {
        let mut order = settings.phases.clone();
        if round % 2 == 0 {
            order.reverse();
        }
        for phase in order {
            let measured = measure(admin, &context, round, phase, &data, config.clients).await?;
            println!("{}", round_line(&measured));
            if round == 1 && settings.verify {
                let fingerprint: String = admin
                    .query_one(FINGERPRINT_SQL, &[])
                    .await
                    .map_err(db_error)?
                    .get(0);
                fingerprints.push((phase, fingerprint));
            }
            results.push(measured);
        }
    }
    if settings.breakdown {
        breakdown(&context.copy, template, config, settings.explain).await?;
    }
    let peak_rss_mib = |phase: Phase| {
        servers
            .iter()
            .find(|(p, _)| *p == phase)
            .and_then(|(_, server)| peak_rss_kib(server.pid()))
            .unwrap_or(0) as f64
            / 1024.0
    };
    let (ingest_rss, candidate_rss) = (peak_rss_mib(Phase::Ingest), peak_rss_mib(Phase::Candidate));
    for (_, server) in &mut servers {
        server.stop();
    }

    if let Some((first_phase, first)) = fingerprints.first() {
        for (phase, fingerprint) in &fingerprints[1..] {
            if fingerprint != first {
                return Err(format!(
                    "tables differ after {} and {}:\n  {first}\n  {fingerprint}",
                    first_phase.name(),
                    phase.name()
                ));
            }
        }
        println!(
            "verified: every phase stored identical rows: {first} (all columns but created_at/updated_at)"
        );
    }

    let rates = |phase: Phase| -> Vec<f64> {
        results
            .iter()
            .filter(|m| m.phase == phase)
            .map(Measured::rate)
            .collect()
    };
    let per_round = |phase: Phase, round: usize| {
        results
            .iter()
            .find(|m| m.phase == phase && m.round == round)
            .map(Measured::rate)
    };
    let ratios_of = |a: Phase, b: Phase| -> Vec<f64> {
        (1..=settings.rounds)
            .filter_map(|round| Some(per_round(a, round)? / per_round(b, round)?))
            .collect()
    };
    let list = |values: &[f64]| {
        values
            .iter()
            .map(|r| format!("{r:.2}"))
            .collect::<Vec<_>>()
            .join(" ")
    };
    let ratios = ratios_of(Phase::Ingest, Phase::Raw);
    let mut medians = String::new();
    for &phase in &settings.phases {
        let of = |f: &dyn Fn(&Measured) -> f64| {
            median(results.iter().filter(|m| m.phase == phase).map(f).collect())
        };
        let _ = writeln!(
            medians,
            "{:>5}  {:<12} {:>10.0} {:>8.2} {:>8.1} {:>8.1} {:>12} {:>10.1} {:>10.1} {:>5.0}% {:>9.0}",
            "med",
            phase.name(),
            of(&Measured::rate),
            of(&|m| m.seconds),
            of(&|m| m.percentile(0.5)),
            of(&|m| m.percentile(0.99)),
            if matches!(phase, Phase::Ingest | Phase::Candidate) {
                format!(
                    "{:.1}",
                    of(&|m| m.per_million(m.server_cpu.unwrap_or(f64::NAN)))
                )
            } else {
                "-".into()
            },
            of(&|m| m.per_million(m.pg_cpu)),
            of(&|m| m.per_million(m.bench_cpu)),
            of(&|m| m.busy * 100.0),
            of(&|m| m.wal_bytes / m.spans as f64),
        );
    }
    print!("{medians}");
    let ingest = median(rates(Phase::Ingest));
    let raw = median(rates(Phase::Raw));
    println!(
        "ingest / raw COPY = {:.2}x (medians); per round: {}; server peak RSS (VmHWM) {ingest_rss:.1} MiB",
        ingest / raw,
        list(&ratios)
    );
    if settings.phases.contains(&Phase::Candidate) {
        let versus = ratios_of(Phase::Candidate, Phase::Ingest);
        println!(
            "candidate / ingest = {:.2}x (median of per-round ratios: {}); candidate / raw COPY = {:.2}x; candidate peak RSS {candidate_rss:.1} MiB",
            median(versus.clone()),
            list(&versus),
            median(rates(Phase::Candidate)) / raw,
        );
    }
    let server_cpu = |phase: Phase| {
        median(
            results
                .iter()
                .filter(|m| m.phase == phase)
                .filter_map(|m| m.server_cpu.map(|c| m.per_million(c)))
                .collect(),
        )
    };
    // The ingest's CPU per span against PostgreSQL's (the whole cluster's) in the same phase of the
    // same round: a ratio each round, so a busy machine shifts both sides alike.
    let cpu_ratios = |phase: Phase| -> Vec<f64> {
        results
            .iter()
            .filter(|m| m.phase == phase)
            .filter_map(|m| Some(m.server_cpu? / m.pg_cpu))
            .collect()
    };
    let pg_cpu = |phase: Phase| {
        median(
            results
                .iter()
                .filter(|m| m.phase == phase)
                .map(|m| m.per_million(m.pg_cpu))
                .collect(),
        )
    };
    let mut cpu = vec![CpuPerSpan {
        phase: Phase::Ingest,
        server: server_cpu(Phase::Ingest),
        postgres: pg_cpu(Phase::Ingest),
        ratios: cpu_ratios(Phase::Ingest),
    }];
    if settings.phases.contains(&Phase::Candidate) {
        cpu.push(CpuPerSpan {
            phase: Phase::Candidate,
            server: server_cpu(Phase::Candidate),
            postgres: pg_cpu(Phase::Candidate),
            ratios: cpu_ratios(Phase::Candidate),
        });
    }
    for c in &cpu {
        println!(
            "{} CPU / PostgreSQL CPU per span = {:.2} (median of per-round ratios: {}); {:.1} vs {:.1} CPU-s per M spans",
            c.phase.name(),
            median(c.ratios.clone()),
            list(&c.ratios),
            c.server,
            c.postgres
        );
    }
    Ok(Summary {
        config,
        request_bytes: data.bytes as f64 / data.bodies.len() as f64,
        ingest,
        raw,
        ratios,
        server_cpu: server_cpu(Phase::Ingest),
        cpu,
        peak_rss_mib: ingest_rss,
        others: settings
            .phases
            .iter()
            .filter(|p| !matches!(p, Phase::Ingest | Phase::Raw))
            .map(|&p| (p, median(rates(p))))
            .collect(),
    })
}
