//! Write: rows -> PostgreSQL. The only stage with I/O, and the only code that talks to the
//! database on the data path; it must not know about OTLP, HTTP or gRPC.
//!
//! Three tables, one way of writing (a `Row` type, `columns.rs`, says which table, which columns
//! and how one row is encoded): span rows into `agent_spans`, log rows into `agent_logs`, metric
//! rows into `agent_metrics`. The scores a request's evaluation events carry go in the same
//! transaction, always the careful way (2. below): into `agent_scores`, or `agent_scores_pending`
//! while only the judged response is known; then the scores waiting on the spans and scores just
//! written are linked (`sql/ingest/link_scores.sql`; on Citus right after the commit).
//!
//! One batch is one transaction, and only after its COMMIT does the caller answer 200, so an
//! acknowledged span, log record or data point is a stored one. agent_spans' trigger updates
//! `agent_traces` from exactly the rows inserted. Two ways in, tried in this order (SQL in
//! `sql/ingest/`):
//!
//! 1. Binary COPY straight into the table: the common case, a batch of new rows, at the cost
//!    PostgreSQL itself needs (BENCHMARKS.md).
//! 2. If that fails for anything but the database being unavailable, it is rolled back and the batch
//!    goes the careful way: through the session's staging table (COPY there, then one
//!    `INSERT .. SELECT DISTINCT ON .. ON CONFLICT DO NOTHING`, which skips what is stored and takes
//!    its locks in key order), under a savepoint. Rows already stored (a client retry) are skipped
//!    there. A part the database refuses is halved, and each half tried again, until what it
//!    refuses stands alone: only those rows are rejected (and reported), after O(log n) tries each.
//!
//! What the client should do follows from why a statement failed (`Cause`): the database being
//! down, restarting, out of connections or resources, another session's lock held past
//! `lock_timeout`, or a concurrent batch's deadlock is `Unavailable` (nothing committed, answered
//! 503: retry later); anything the rows cause (a value a constraint, index, type or trigger refuses,
//! or a batch running past `statement_timeout`) costs only the rows that cause it.

mod columns;
mod score;

pub use columns::{
    PendingScore, ResponseOf, Row, TableSql, TraceOf, TracedScore, cost_as_numeric, id_type_for,
};
pub use score::{Score, ScoreError};

use crate::map::Rejected;
use crate::map::logs::LogRow;
use crate::map::metrics::MetricRow;
use crate::map::scores::ScoreRow;
use crate::map::spans::SpanRow;
use crate::postgres::{self, Password};
use crate::projects::Directory;
use deadpool_postgres::{
    Hook, HookError, Manager, ManagerConfig, Pool, RecyclingMethod, Runtime, Status, Timeouts,
};
use std::time::{Duration, Instant};
use tokio_postgres::binary_copy::BinaryCopyInWriter;
use tokio_postgres::error::SqlState;

const EXTENSION_VERSION_SQL: &str = include_str!("../../../sql/ingest/extension_version.sql");
const PROJECTS_SQL: &str = include_str!("../../../sql/ingest/projects.sql");
const MAINTAIN_SQL: &str = include_str!("../../../sql/ingest/maintain.sql");
const MAY_COPY_SQL: &str = include_str!("../../../sql/ingest/may_copy.sql");
const DISTRIBUTED_SQL: &str = include_str!("../../../sql/ingest/distributed.sql");
const REFRESH_TRACES_SQL: &str = include_str!("../../../sql/ingest/refresh_traces.sql");
const HAS_PRICES_SQL: &str = include_str!("../../../sql/ingest/has_prices.sql");
const LINK_SCORES_SQL: &str = include_str!("../../../sql/ingest/link_scores.sql");

/// The extension version this binary writes for (they are released together).
pub const EXTENSION_VERSION: &str = env!("CARGO_PKG_VERSION");

#[derive(Debug, Clone)]
pub struct WriterConfig {
    /// libpq's connection string, either form, TLS settings included (see `connect`).
    pub database_url: String,
    /// The password, given apart from the URL (--database-password-file): it then replaces the
    /// URL's, which is no place for a secret (it shows in `ps`, in shell history, in compose files).
    pub password: Option<Password>,
    /// Database connections: batches written at once.
    pub pool_size: usize,
    /// How long a batch may wait for a free connection before the request is answered 503.
    pub connection_wait: Duration,
    /// Longest a statement may run (PostgreSQL's statement_timeout on every ingest connection), so
    /// an overloaded database turns into 503s, never into requests that hang; a batch that runs
    /// past it is halved and tried again.
    pub statement_timeout: Duration,
    /// Longest a statement waits for a lock another session holds (PostgreSQL's lock_timeout):
    /// then the database is busy, not the batch slow, and the answer is 503. Below
    /// `statement_timeout`, so the two can be told apart.
    pub lock_timeout: Duration,
}

impl WriterConfig {
    pub const DEFAULT_POOL_SIZE: usize = 8;
    pub const DEFAULT_CONNECTION_WAIT: Duration = Duration::from_secs(5);
    pub const DEFAULT_STATEMENT_TIMEOUT: Duration = Duration::from_secs(30);
    pub const DEFAULT_LOCK_TIMEOUT: Duration = Duration::from_secs(5);

    /// The defaults of `serve`'s flags, for the database at `database_url`.
    pub fn new(database_url: impl Into<String>) -> Self {
        Self {
            database_url: database_url.into(),
            password: None,
            pool_size: Self::DEFAULT_POOL_SIZE,
            connection_wait: Self::DEFAULT_CONNECTION_WAIT,
            statement_timeout: Self::DEFAULT_STATEMENT_TIMEOUT,
            lock_timeout: Self::DEFAULT_LOCK_TIMEOUT,
        }
    }

    /// Settings that cannot work together, explained.
    fn check(&self) -> Result<(), StartupError> {
        if self.lock_timeout.is_zero() || self.lock_timeout >= self.statement_timeout {
            return Err(StartupError::Settings(format!(
                "--lock-timeout-ms ({}) must be above 0 and below --statement-timeout-ms ({}), so that \
                 waiting for another session's lock (503, retry later) is told from a batch too slow \
                 to store at once (halved and tried again)",
                self.lock_timeout.as_millis(),
                self.statement_timeout.as_millis()
            )));
        }
        Ok(())
    }
}

/// What became of a batch that was committed.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Written {
    /// Rows newly stored.
    pub inserted: u64,
    /// Rows that were already stored (client retries) or repeated within the batch.
    pub duplicates: u64,
    /// Rows the database refused on their content.
    pub rejected: Vec<Rejected>,
    /// What became of the scores written with the rows.
    pub scores: ScoresWritten,
}

/// What became of a batch's scores.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct ScoresWritten {
    /// Newly stored (in agent_scores, or waiting in agent_scores_pending).
    pub stored: u64,
    /// Stored before (a client's retry) or repeated within the batch.
    pub duplicates: u64,
    /// Scores the database refused on their content (their records and spans are stored).
    pub refused: Vec<Rejected>,
}

impl ScoresWritten {
    fn add(&mut self, written: Written) {
        self.stored += written.inserted;
        self.duplicates += written.duplicates;
        self.refused.extend(written.rejected);
    }
}

#[derive(Debug, Clone)]
pub enum WriteError {
    /// Nothing was committed; the client should retry later. The SQLSTATE when the database said
    /// why (none when it could not be reached at all), for the operator's log.
    Unavailable {
        why: String,
        sqlstate: Option<String>,
    },
}

impl WriteError {
    pub fn unavailable(why: impl Into<String>) -> Self {
        WriteError::Unavailable {
            why: why.into(),
            sqlstate: None,
        }
    }

    pub fn sqlstate(&self) -> Option<&str> {
        match self {
            WriteError::Unavailable { sqlstate, .. } => sqlstate.as_deref(),
        }
    }
}

impl std::fmt::Display for WriteError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            WriteError::Unavailable { why, .. } => write!(f, "database unavailable: {why}"),
        }
    }
}

/// Problems found at start-up, each with what to do about it.
#[derive(Debug)]
pub enum StartupError {
    Settings(String),
    BadUrl(String),
    Connect(String),
    ExtensionMissing { database: String },
    ExtensionVersion { installed: String },
}

impl std::fmt::Display for StartupError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StartupError::Settings(why) => write!(f, "{why}"),
            StartupError::BadUrl(why) => write!(f, "invalid --database-url: {why}"),
            StartupError::Connect(why) => write!(f, "cannot connect to PostgreSQL: {why}"),
            StartupError::ExtensionMissing { database } => write!(
                f,
                "the agent_trace extension is not created in database {database:?}. Run `CREATE EXTENSION agent_trace;` \
                 in it (as a superuser; install the extension files first with `make install-extension`)."
            ),
            StartupError::ExtensionVersion { installed } => write!(
                f,
                "database has agent_trace {installed}, this agent-trace needs {EXTENSION_VERSION}. Install the extension \
                 files of {EXTENSION_VERSION} (`make install-extension`), then run `ALTER EXTENSION agent_trace UPDATE;`."
            ),
        }
    }
}

impl std::error::Error for StartupError {}

#[derive(Clone)]
pub struct Writer {
    pool: Pool,
    database: String,
    /// How long the careful way may take for one batch before it gives up (503).
    careful_time: Duration,
    /// Whether the login may COPY into the tables (no row-level security applies to it); if not,
    /// every batch takes the careful way, which inserts.
    may_copy: bool,
    /// Whether agent_trace is distributed over Citus: then no trigger keeps agent_traces, and each
    /// batch of spans recomputes its traces right after it commits.
    distributed: bool,
}

impl Writer {
    /// Builds the connection pool and checks, on one connection, that the extension is there at the
    /// version this binary writes for.
    pub async fn connect(config: &WriterConfig) -> Result<Self, StartupError> {
        config.check()?;
        let password = config.password.as_ref().map(|p| p.0.as_str());
        let target =
            postgres::target(&config.database_url, password).map_err(StartupError::BadUrl)?;
        let database = target
            .config
            .get_dbname()
            .unwrap_or("(default)")
            .to_string();
        let manager = Manager::from_config(
            target.config,
            target.tls,
            ManagerConfig {
                recycling_method: RecyclingMethod::Fast,
            },
        );
        // Every new connection: the timeouts, then the session's staging tables.
        let session_setup: std::sync::Arc<str> = format!(
            "SET statement_timeout = {}; SET lock_timeout = {};\n{}\n{}\n{}\n{}\n{}",
            config.statement_timeout.as_millis(),
            config.lock_timeout.as_millis(),
            SpanRow::SQL.staging,
            LogRow::SQL.staging,
            MetricRow::SQL.staging,
            TracedScore::SQL.staging,
            PendingScore::SQL.staging,
        )
        .into();
        let pool = Pool::builder(manager)
            .max_size(config.pool_size)
            .runtime(Runtime::Tokio1)
            .wait_timeout(Some(config.connection_wait))
            .create_timeout(Some(config.connection_wait))
            .post_create(Hook::async_fn(move |client, _| {
                let session_setup = session_setup.clone();
                Box::pin(async move {
                    client
                        .batch_execute(&session_setup)
                        .await
                        .map_err(HookError::Backend)
                })
            }))
            .build()
            .map_err(|e| StartupError::Connect(e.to_string()))?;
        let client = pool
            .get()
            .await
            .map_err(|e| StartupError::Connect(connect_error(&e)))?;
        check_extension(&client, &database).await?;
        let may_copy: bool = client
            .query_one(MAY_COPY_SQL, &[])
            .await
            .map_err(|e| StartupError::Connect(postgres::describe(&e)))?
            .get(0);
        if !may_copy {
            tracing::warn!(
                "row-level security applies to the ingest's login, which PostgreSQL then refuses COPY: \
                 every batch is inserted through the staging table, which is slower. Give the login \
                 BYPASSRLS (it still reads nothing; docs/access.md)."
            );
        }
        let distributed: bool = client
            .query_one(DISTRIBUTED_SQL, &[])
            .await
            .map_err(|e| StartupError::Connect(postgres::describe(&e)))?
            .get(0);
        if distributed {
            tracing::info!(
                "agent_trace is distributed (Citus): each batch of spans recomputes its traces after it commits"
            );
        }
        Ok(Self {
            pool,
            database,
            distributed,
            // Room for a few tries that each run up to statement_timeout: a batch too slow to
            // store at once, halved twice, or a slow row found among a few.
            careful_time: 4 * config.statement_timeout,
            may_copy,
        })
    }

    /// Runs the extension's maintenance (partitions ahead, retention): what it did, one
    /// (action, table, detail) per row.
    pub async fn maintain(&self) -> Result<Vec<(String, Option<String>, String)>, WriteError> {
        let client = self
            .pool
            .get()
            .await
            .map_err(|e| WriteError::unavailable(connect_error(&e)))?;
        let rows = client.query(MAINTAIN_SQL, &[]).await.map_err(unavailable)?;
        Ok(rows
            .iter()
            .map(|row| (row.get(0), row.get(1), row.get(2)))
            .collect())
    }

    /// Whether `agent_trace.model_prices` holds any price (`sql/ingest/has_prices.sql`): without
    /// one, no call gets a computed cost.
    pub async fn has_prices(&self) -> Result<bool, WriteError> {
        let client = self
            .pool
            .get()
            .await
            .map_err(|e| WriteError::unavailable(connect_error(&e)))?;
        let row = client
            .query_one(HAS_PRICES_SQL, &[])
            .await
            .map_err(unavailable)?;
        Ok(row.get(0))
    }

    /// The projects' tokens and redaction settings as the database holds them now
    /// (`sql/ingest/projects.sql`).
    pub async fn read_projects(&self) -> Result<Directory, WriteError> {
        let client = self
            .pool
            .get()
            .await
            .map_err(|e| WriteError::unavailable(connect_error(&e)))?;
        let rows = client.query(PROJECTS_SQL, &[]).await.map_err(unavailable)?;
        let mut directory = Directory::default();
        for row in rows {
            let project: i32 = row.get(1);
            match (
                row.get::<_, Option<Vec<u8>>>(0),
                row.get::<_, Option<serde_json::Value>>(2),
            ) {
                (Some(digest), _) => {
                    if let Ok(digest) = digest.try_into() {
                        directory.tokens.push((digest, project));
                    }
                }
                (None, Some(redaction)) => directory.redactions.push((project, redaction)),
                (None, None) => {}
            }
        }
        Ok(directory)
    }

    /// Stores one score (the MCP server's add_score), once however often it is sent, and returns
    /// its key (`score`).
    pub async fn add_score(&self, score: &Score) -> Result<String, ScoreError> {
        let client = self
            .pool
            .get()
            .await
            .map_err(|e| ScoreError::Unavailable(connect_error(&e)))?;
        score::add(&client, score).await
    }

    /// Whether a request could be stored now: a connection within `wait`, and the extension at
    /// this binary's version (`GET /ready`). The error says which, without the database's words.
    pub async fn ready(&self, wait: Duration) -> Result<(), StartupError> {
        let timeouts = Timeouts {
            wait: Some(wait),
            create: Some(wait),
            recycle: Some(wait),
        };
        let client = self
            .pool
            .timeout_get(&timeouts)
            .await
            .map_err(|e| StartupError::Connect(connect_error(&e)))?;
        check_extension(&client, &self.database).await
    }

    /// The connection pool's state: size, idle connections, requests waiting for one.
    pub fn pool_status(&self) -> Status {
        self.pool.status()
    }

    /// Stores the rows in one transaction. `Ok` means committed.
    pub async fn write<R: Row>(&self, rows: &[R]) -> Result<Written, WriteError> {
        self.write_with_scores(rows, &[]).await
    }

    /// Stores the rows and the scores derived from them in one transaction, and links the scores
    /// that wait on them. `Ok` means committed.
    pub async fn write_with_scores<R: Row>(
        &self,
        rows: &[R],
        scores: &[ScoreRow],
    ) -> Result<Written, WriteError> {
        let part = Part {
            rows: rows.len(),
            scores: scores.len(),
        };
        let mut written = self.write_group(rows, scores, &[part]).await?;
        Ok(written.pop().unwrap_or_default())
    }

    /// Stores the rows and scores of several requests (group commit, `crate::batch`) in one
    /// transaction: `parts` says how many of `rows` and of `scores`, in order, are each request's.
    /// `Ok` means committed, with what became of each request's own rows and scores, in `parts`'
    /// order: a row refused or already stored counts for its own request only. An `Err` is every
    /// request's (nothing committed).
    pub async fn write_group<R: Row>(
        &self,
        rows: &[R],
        scores: &[ScoreRow],
        parts: &[Part],
    ) -> Result<Vec<Written>, WriteError> {
        let mut written: Vec<Written> = parts.iter().map(|_| Written::default()).collect();
        if rows.is_empty() && scores.is_empty() {
            return Ok(written);
        }
        let row_owners = Owners::new(parts.iter().map(|part| part.rows));
        let scores = Scores::of(rows, scores, parts);
        let mut client = self
            .pool
            .get()
            .await
            .map_err(|e| WriteError::unavailable(connect_error(&e)))?;

        if self.may_copy
            && !rows.is_empty()
            && let Some(copy) = R::SQL.copy
        {
            let mut transaction = client.transaction().await.map_err(unavailable)?;
            match copy_rows(&transaction, copy, rows).await {
                Ok(_) => {
                    let deadline = Instant::now() + self.careful_time;
                    let scores_written = self
                        .store_scores(&mut transaction, &scores, deadline)
                        .await?;
                    transaction.commit().await.map_err(unavailable)?;
                    self.after_commit(&client, rows, &scores).await;
                    for ((written, part), scores) in
                        written.iter_mut().zip(parts).zip(scores_written)
                    {
                        written.inserted = part.rows as u64;
                        written.scores = scores;
                    }
                    return Ok(written);
                }
                Err(error) if Cause::of(&error) == Cause::Unavailable && !is_overlap(&error) => {
                    return Err(unavailable(error));
                }
                Err(_) => drop(transaction), // rolls back; take the careful way
            }
        }

        let deadline = Instant::now() + self.careful_time;
        let mut transaction = client.transaction().await.map_err(unavailable)?;
        if !rows.is_empty() {
            written = store_around_refusals(&mut transaction, rows, &row_owners, deadline).await?;
        }
        let scores_written = self
            .store_scores(&mut transaction, &scores, deadline)
            .await?;
        transaction.commit().await.map_err(unavailable)?;
        self.after_commit(&client, rows, &scores).await;
        for (written, scores) in written.iter_mut().zip(scores_written) {
            written.scores = scores;
        }
        Ok(written)
    }

    /// The scores, the careful way (a retried request repeats them), then, on one node, the
    /// link of what waits on this batch, in its transaction.
    async fn store_scores(
        &self,
        transaction: &mut deadpool_postgres::Transaction<'_>,
        scores: &Scores<'_>,
        deadline: Instant,
    ) -> Result<Vec<ScoresWritten>, WriteError> {
        let mut written: Vec<ScoresWritten> = (0..scores.requests)
            .map(|_| ScoresWritten::default())
            .collect();
        if !scores.traced.is_empty() {
            let stored =
                store_around_refusals(transaction, &scores.traced, &scores.traced_owners, deadline)
                    .await?;
            for (written, stored) in written.iter_mut().zip(stored) {
                written.add(stored);
            }
        }
        if !scores.pending.is_empty() {
            let stored = store_around_refusals(
                transaction,
                &scores.pending,
                &scores.pending_owners,
                deadline,
            )
            .await?;
            for (written, stored) in written.iter_mut().zip(stored) {
                written.add(stored);
            }
        }
        if !self.distributed && !scores.links.is_empty() {
            // A link that fails leaves the scores waiting, stored: maintain() links them.
            let savepoint = transaction.savepoint("link").await.map_err(unavailable)?;
            match link_scores(&savepoint, &scores.links).await {
                Ok(()) => savepoint.commit().await.map_err(unavailable)?,
                Err(error) => {
                    savepoint.rollback().await.map_err(unavailable)?;
                    tracing::warn!(error = %postgres::describe(&error),
                        "scores of a batch not linked to their spans; maintain() will");
                }
            }
        }
        Ok(written)
    }

    /// After a commit, on Citus: the traces of the rows recomputed, and the scores linked, each in
    /// a transaction of its own (Citus refuses the owner's functions in the writer's transaction
    /// that wrote the same shards). If that fails, the rows stay stored and maintain() does it.
    async fn after_commit<R: Row>(
        &self,
        client: &deadpool_postgres::Object,
        rows: &[R],
        scores: &Scores<'_>,
    ) {
        self.refresh_traces_if_distributed(client, rows).await;
        if self.distributed
            && !scores.links.is_empty()
            && let Err(error) = link_scores(client, &scores.links).await
        {
            tracing::warn!(error = %postgres::describe(&error),
                "scores of a stored batch not linked to their spans; maintain() will");
        }
    }

    /// On Citus no trigger keeps agent_traces: the traces of the rows just committed are
    /// recomputed now, in a transaction of their own (Citus refuses the owner's recompute in the
    /// writer's transaction that wrote the same shards). If that fails, the rows stay stored and
    /// maintain() recomputes what changed since its last run (extension/sql/citus.sql).
    async fn refresh_traces_if_distributed<R: Row>(
        &self,
        client: &deadpool_postgres::Object,
        rows: &[R],
    ) {
        if !self.distributed {
            return;
        }
        if let Err(error) = refresh_traces(client, rows).await {
            tracing::warn!(%error, "traces of a stored batch not recomputed; maintain() will");
        }
    }
}

/// A batch's scores as the writer stores them, and what to link after.
struct Scores<'a> {
    /// Scores of known runs (agent_scores).
    traced: Vec<TracedScore<'a>>,
    /// Which request each of `traced` came from.
    traced_owners: Owners,
    /// Scores known by their response alone (agent_scores_pending).
    pending: Vec<PendingScore<'a>>,
    pending_owners: Owners,
    /// Requests in the batch.
    requests: usize,
    links: Links,
}

impl<'a> Scores<'a> {
    /// The scores of `parts` (each request's count of `rows` and of `scores`, in order).
    fn of<R: Row>(rows: &'a [R], scores: &'a [ScoreRow], parts: &[Part]) -> Self {
        let mut traced = Vec::new();
        let mut pending = Vec::new();
        let (mut traced_ends, mut pending_ends) = (Vec::new(), Vec::new());
        let mut rest = scores;
        for part in parts {
            let (own, after) = rest.split_at(part.scores.min(rest.len()));
            rest = after;
            for score in own {
                match (score.trace_id, score.response_id.as_deref()) {
                    (Some(trace_id), _) => traced.push(TracedScore { trace_id, score }),
                    (None, Some(response_id)) => pending.push(PendingScore { response_id, score }),
                    // The mapping gives every score a run or a response.
                    (None, None) => {}
                }
            }
            traced_ends.push(traced.len());
            pending_ends.push(pending.len());
        }
        Self {
            traced,
            traced_owners: Owners { ends: traced_ends },
            pending,
            pending_owners: Owners { ends: pending_ends },
            requests: parts.len(),
            links: links(rows, scores),
        }
    }
}

/// One request's share of a group written together: how many of the group's rows and scores, in
/// order, are its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Part {
    pub rows: usize,
    pub scores: usize,
}

/// Which request each item of a group came from: where each request's items end.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Owners {
    ends: Vec<usize>,
}

impl Owners {
    /// From each request's count of items, in order.
    fn new(counts: impl Iterator<Item = usize>) -> Self {
        let mut end = 0;
        Self {
            ends: counts
                .map(|count| {
                    end += count;
                    end
                })
                .collect(),
        }
    }

    /// The request of item `index`.
    fn of(&self, index: usize) -> usize {
        self.ends.partition_point(|&end| end <= index)
    }

    /// Items `from..to` (not empty): the one request they all come from, if they do.
    fn sole(&self, from: usize, to: usize) -> Option<usize> {
        let first = self.of(from);
        (first == self.of(to - 1)).then_some(first)
    }

    /// Where to split items `from..to`: between two requests, the boundary nearest the middle, if
    /// they span more than one; else the middle.
    fn split(&self, from: usize, to: usize) -> usize {
        let middle = from + (to - from) / 2;
        self.ends
            .iter()
            .copied()
            .filter(|&end| from < end && end < to)
            .min_by_key(|&end| end.abs_diff(middle))
            .unwrap_or(middle)
    }
}

/// What a batch asks `link_written_scores` to link (extension/sql/scores.sql): one entry per span
/// carrying a response id, per score of a known run naming one without its span, per score known by
/// its response alone (trace NULL). Each once, in order.
#[derive(Debug, Default, PartialEq)]
pub struct Links {
    /// Hex ids, as link_scores.sql reads them.
    pub trace_ids: Vec<Option<String>>,
    pub projects: Vec<i32>,
    pub response_ids: Vec<String>,
}

impl Links {
    pub fn is_empty(&self) -> bool {
        self.response_ids.is_empty()
    }
}

/// The entries `rows` and `scores` give `link_written_scores`.
pub fn links<R: Row>(rows: &[R], scores: &[ScoreRow]) -> Links {
    let mut entries: std::collections::BTreeSet<(Option<[u8; 16]>, i32, &str)> = Default::default();
    for response in rows.iter().filter_map(Row::response) {
        entries.insert((
            Some(response.trace_id),
            response.project,
            response.response_id,
        ));
    }
    for score in scores.iter().filter(|score| score.span_id.is_none()) {
        if let Some(response_id) = score.response_id.as_deref() {
            entries.insert((score.trace_id, score.project_id, response_id));
        }
    }
    let mut links = Links::default();
    for (trace_id, project, response_id) in entries {
        links.trace_ids.push(trace_id.map(|id| columns::hex(&id)));
        links.projects.push(project);
        links.response_ids.push(response_id.to_string());
    }
    links
}

/// Links the scores waiting on `links` (sql/ingest/link_scores.sql).
async fn link_scores(
    client: &impl deadpool_postgres::GenericClient,
    links: &Links,
) -> Result<(), tokio_postgres::Error> {
    client
        .execute(
            LINK_SCORES_SQL,
            &[&links.trace_ids, &links.projects, &links.response_ids],
        )
        .await
        .map(drop)
}

/// The traces `rows` are part of, each with where its rows start: for recomputing them.
#[derive(Debug, Default, PartialEq)]
pub struct TracesTouched {
    /// Hex ids, as refresh_traces.sql reads them.
    pub ids: Vec<String>,
    pub projects: Vec<i32>,
    pub from_micros: Vec<i64>,
    pub to_micros: Vec<i64>,
}

/// The traces of `rows`, once each, in (id, project) order (the order every writer of agent_traces
/// takes its rows in).
pub fn traces_touched<R: Row>(rows: &[R]) -> TracesTouched {
    let mut by_trace: std::collections::BTreeMap<([u8; 16], i32), (i64, i64)> = Default::default();
    for trace in rows.iter().filter_map(Row::trace) {
        let bounds = by_trace
            .entry((trace.id, trace.project))
            .or_insert((trace.start_micros, trace.start_micros));
        bounds.0 = bounds.0.min(trace.start_micros);
        bounds.1 = bounds.1.max(trace.start_micros);
    }
    let mut touched = TracesTouched::default();
    for ((id, project), (from, to)) in by_trace {
        touched.ids.push(columns::hex(&id));
        touched.projects.push(project);
        touched.from_micros.push(from);
        touched.to_micros.push(to);
    }
    touched
}

/// On Citus: recomputes the traces of `rows` (sql/ingest/refresh_traces.sql).
async fn refresh_traces<R: Row>(
    client: &deadpool_postgres::Object,
    rows: &[R],
) -> Result<(), WriteError> {
    let touched = traces_touched(rows);
    if touched.ids.is_empty() {
        return Ok(());
    }
    client
        .execute(
            REFRESH_TRACES_SQL,
            &[
                &touched.ids,
                &touched.projects,
                &touched.from_micros,
                &touched.to_micros,
            ],
        )
        .await
        .map_err(unavailable)?;
    Ok(())
}

/// The careful way: `rows` through staging (rows already stored are skipped), each try under a
/// savepoint. A part the database refuses on its content is halved and both halves tried again, so
/// a refused row ends up alone and only it is rejected; one refused row among n costs about
/// 2 log2(n) tries and 3n rows copied. Gives up (nothing committed) if the database becomes
/// unavailable or `deadline` passes.
///
/// `owners` says which request each row is (group commit): what became of the rows is counted per
/// request, in its order. A part of several requests is split between requests first, so that each
/// refusal is its own request's; and a part of several that met rows already stored is rolled back
/// and split the same way, so that each duplicate (a client's retry) counts for its own request.
async fn store_around_refusals<R: Row>(
    transaction: &mut deadpool_postgres::Transaction<'_>,
    rows: &[R],
    owners: &Owners,
    deadline: Instant,
) -> Result<Vec<Written>, WriteError> {
    let mut written: Vec<Written> = owners.ends.iter().map(|_| Written::default()).collect();
    let mut parts = vec![(0, rows.len())];
    while let Some((from, to)) = parts.pop() {
        if from == to {
            continue;
        }
        if Instant::now() >= deadline {
            return Err(WriteError::unavailable(format!(
                "storing a batch of {} rows around the ones the database refuses took too long; \
                 nothing was committed",
                rows.len()
            )));
        }
        let part = &rows[from..to];
        let sole = owners.sole(from, to);
        let savepoint = transaction.savepoint("part").await.map_err(unavailable)?;
        // A try that succeeded leaves its rows in staging until COMMIT; the next try must not
        // insert them again, nor scan them: it empties staging first.
        let tried = insert_skipping_stored(&savepoint, part, !parts.is_empty()).await;
        match (tried, sole) {
            (Ok(inserted), Some(owner)) => {
                savepoint.commit().await.map_err(unavailable)?;
                written[owner].inserted += inserted;
                written[owner].duplicates += part.len() as u64 - inserted;
            }
            (Ok(inserted), None) if inserted == part.len() as u64 => {
                savepoint.commit().await.map_err(unavailable)?;
                for index in from..to {
                    written[owners.of(index)].inserted += 1;
                }
            }
            (Ok(_), None) => {
                // Some were stored before: whose, only smaller parts can tell.
                savepoint.rollback().await.map_err(unavailable)?;
                let middle = owners.split(from, to);
                parts.push((middle, to));
                parts.push((from, middle));
            }
            (Err(error), _) => {
                savepoint.rollback().await.map_err(unavailable)?;
                match Cause::of(&error) {
                    Cause::Unavailable => return Err(unavailable(error)),
                    Cause::Content if part.len() == 1 => {
                        written[owners.of(from)]
                            .rejected
                            .push(part[0].rejected(&refused_because(&error)));
                    }
                    Cause::Content => {
                        let middle = owners.split(from, to);
                        parts.push((middle, to));
                        parts.push((from, middle));
                    }
                }
            }
        }
    }
    Ok(written)
}

/// COPY the rows into staging, then move the ones not stored yet into their table; the number of
/// rows inserted. With `then_empty`, staging is emptied afterwards for a next try in the same
/// transaction (COMMIT empties it otherwise).
async fn insert_skipping_stored<R: Row>(
    client: &deadpool_postgres::Transaction<'_>,
    rows: &[R],
    then_empty: bool,
) -> Result<u64, tokio_postgres::Error> {
    copy_rows(client, R::SQL.copy_staging, rows).await?;
    let insert = client.prepare_cached(R::SQL.insert).await?;
    let inserted = client.execute(&insert, &[]).await?;
    if then_empty {
        client.batch_execute(R::SQL.empty_staging).await?;
    }
    Ok(inserted)
}

/// Binary COPY of the rows with `copy_sql` (into the table or into staging); the rows copied.
async fn copy_rows<R: Row>(
    client: &deadpool_postgres::Transaction<'_>,
    copy_sql: &str,
    rows: &[R],
) -> Result<u64, tokio_postgres::Error> {
    // Prepared once per connection: parsing the COPY again for every batch costs more than a small
    // batch's rows (BENCHMARKS.md).
    let copy = client.prepare_cached(copy_sql).await?;
    let sink = client.copy_in(&copy).await?;
    let writer = BinaryCopyInWriter::new(sink, R::COLUMN_TYPES);
    futures_util::pin_mut!(writer);
    for row in rows {
        row.copy(writer.as_mut()).await?;
    }
    writer.finish().await
}

fn unavailable(error: tokio_postgres::Error) -> WriteError {
    match error.as_db_error() {
        Some(db) => WriteError::Unavailable {
            why: format!("{} ({})", db.message(), db.code().code()),
            sqlstate: Some(db.code().code().to_string()),
        },
        None => WriteError::unavailable(postgres::describe(&error)),
    }
}

/// A pool's error with its causes: the database's own message and SQLSTATE when it gave one (a
/// refused password, a missing database), the TLS error when the handshake failed.
fn connect_error(error: &deadpool_postgres::PoolError) -> String {
    match error {
        deadpool_postgres::PoolError::Backend(error) => postgres::describe(error),
        other => postgres::describe(other),
    }
}

/// The extension is created in the database, at the version this binary writes for.
async fn check_extension(
    client: &tokio_postgres::Client,
    database: &str,
) -> Result<(), StartupError> {
    let installed = client
        .query_opt(EXTENSION_VERSION_SQL, &[])
        .await
        .map_err(|e| StartupError::Connect(postgres::describe(&e)))?
        .map(|row| row.get::<_, String>(0));
    match installed {
        None => Err(StartupError::ExtensionMissing {
            database: database.to_string(),
        }),
        Some(version) if version != EXTENSION_VERSION => {
            Err(StartupError::ExtensionVersion { installed: version })
        }
        Some(_) => Ok(()),
    }
}

/// Why a refused row was refused, as its rejection says: PostgreSQL's message and SQLSTATE.
fn refused_because(error: &tokio_postgres::Error) -> String {
    match error.as_db_error() {
        Some(db) if *db.code() == SqlState::QUERY_CANCELED => format!(
            "refused by the database: storing it alone ran past statement_timeout ({})",
            db.code().code()
        ),
        Some(db) => format!(
            "refused by the database: {} ({})",
            db.message(),
            db.code().code()
        ),
        None => format!("refused by the database: {error}"),
    }
}

/// Why a statement failed, as far as the client is concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Cause {
    /// The database cannot take writes now; nothing is committed and the client retries later.
    Unavailable,
    /// The rows cause it (or some of them): retrying them cannot help, other rows can be stored.
    Content,
}

impl Cause {
    /// By SQLSTATE. Unavailable: no answer from the server at all (a broken connection), or class
    /// 08 connection exception, 53 insufficient resources, 57P operator intervention (shutdown,
    /// restart), 55P03 lock not available (lock_timeout: another session holds it), 40
    /// transaction rollback (serialization failure, deadlock with a concurrent batch), 58 system
    /// error, 25 invalid transaction state, 42 and 3D (the schema or database is missing or the
    /// role may not write: a setup to fix, not rows to drop), 28 authorization, F0 configuration,
    /// XX001/XX002 corrupted data. Anything else the rows cause: class 22 data exception, 23
    /// integrity constraint, 54 program limit (e.g. an index row too large), 57014 query canceled
    /// (statement_timeout: the batch is too slow and is split), P0 raised by a trigger, XX000
    /// raised by an extension, and so on.
    ///
    /// One integrity error is not the rows': 23514 naming no constraint is a partition's bound. A
    /// statement that began routing its rows before maintain() attached that day's partition put
    /// them in the default partition, which no longer takes them; sent again, they go to the new
    /// partition.
    fn of(error: &tokio_postgres::Error) -> Cause {
        let Some(code) = error.code().map(SqlState::code) else {
            return Cause::Unavailable;
        };
        if code == "23514"
            && error
                .as_db_error()
                .is_some_and(|db| db.constraint().is_none())
        {
            return Cause::Unavailable;
        }
        const UNAVAILABLE_CLASSES: [&str; 10] =
            ["08", "53", "40", "58", "25", "42", "3D", "28", "F0", "57"];
        let unavailable = match code {
            "57014" => false,
            "55P03" | "XX001" | "XX002" => true,
            _ => UNAVAILABLE_CLASSES.contains(&&code[..2]),
        };
        if unavailable {
            Cause::Unavailable
        } else {
            Cause::Content
        }
    }
}

/// The direct COPY met rows another transaction stored or is storing: a retry, or the same rows
/// sent twice at once. The careful way skips them.
fn is_overlap(error: &tokio_postgres::Error) -> bool {
    error.code().is_some_and(|code| {
        *code == SqlState::UNIQUE_VIOLATION || *code == SqlState::T_R_DEADLOCK_DETECTED
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::map::spans::map_request;

    #[test]
    fn a_batch_touches_each_trace_once_with_where_its_spans_start() {
        let request = crate::fixtures::find("py_sdk_agent/010_v1_traces").decode();
        let mut rows = map_request(&request).rows;
        // The same run sent to a second project is a second trace.
        let copies: Vec<SpanRow> = rows
            .iter()
            .cloned()
            .map(|mut row| {
                row.project_id = 2;
                row
            })
            .collect();
        rows.extend(copies);
        let touched = traces_touched(&rows);
        // The fixture's two traces, once per project, in (id, project) order.
        assert_eq!(
            touched.ids,
            [
                "05a891795c72155288bcc657005ec2f3",
                "05a891795c72155288bcc657005ec2f3",
                "99808199880d7a9e0de7fefd913636ac",
                "99808199880d7a9e0de7fefd913636ac"
            ]
        );
        assert_eq!(touched.projects, [1, 2, 1, 2]);
        for (k, id) in touched.ids.iter().enumerate() {
            let starts: Vec<i64> = rows
                .iter()
                .filter(|row| columns::hex(&row.trace_id) == *id)
                .map(|row| (row.start_time_unix_nano / 1000) as i64)
                .collect();
            assert_eq!(touched.from_micros[k], *starts.iter().min().unwrap());
            assert_eq!(touched.to_micros[k], *starts.iter().max().unwrap());
        }
    }

    #[test]
    fn a_batch_links_its_responses_and_the_scores_naming_one() {
        let request = crate::fixtures::find("py_sdk_agent/010_v1_traces").decode();
        let rows = map_request(&request).rows;
        let responding: Vec<&SpanRow> = rows
            .iter()
            .filter(|row| row.response_id.is_some())
            .collect();
        assert!(
            !responding.is_empty(),
            "the fixture's chat spans carry response ids"
        );
        let score = |trace_id, span_id, response_id: Option<&str>| ScoreRow {
            score_key: [1; 16],
            project_id: 3,
            trace_id,
            span_id,
            name: "relevance".into(),
            value: Some(1.0),
            label: None,
            explanation: None,
            response_id: response_id.map(String::from),
            scored_at_unix_nano: 1,
            attributes: serde_json::json!({}),
        };
        let scores = [
            // Its span known: nothing to link.
            score(Some([2; 16]), Some([2; 8]), Some("resp-a")),
            // Its run known, not its span; twice: one entry.
            score(Some([2; 16]), None, Some("resp-b")),
            score(Some([2; 16]), None, Some("resp-b")),
            // Known by its response alone.
            score(None, None, Some("resp-c")),
            // A run's score without a response: nothing to link.
            score(Some([2; 16]), None, None),
        ];
        let linked = links(&rows, &scores);
        let mut expected: Vec<(Option<String>, i32, String)> = responding
            .iter()
            .map(|row| {
                (
                    Some(columns::hex(&row.trace_id)),
                    row.project_id,
                    row.response_id.clone().unwrap_or_default(),
                )
            })
            .collect();
        expected.push((Some(columns::hex(&[2; 16])), 3, "resp-b".into()));
        expected.push((None, 3, "resp-c".into()));
        expected.sort();
        let mut got: Vec<(Option<String>, i32, String)> = (0..linked.response_ids.len())
            .map(|k| {
                (
                    linked.trace_ids[k].clone(),
                    linked.projects[k],
                    linked.response_ids[k].clone(),
                )
            })
            .collect();
        got.sort();
        assert_eq!(got, expected);
        let split = Scores::of(
            &rows,
            &scores,
            &[Part {
                rows: rows.len(),
                scores: scores.len(),
            }],
        );
        assert_eq!((split.traced.len(), split.pending.len()), (4, 1));
        assert!(links::<LogRow>(&[], &[]).is_empty());
    }

    #[test]
    fn a_group_is_split_between_its_requests_first() {
        // Requests of 3, 0, 4 and 1 rows.
        let owners = Owners::new([3, 0, 4, 1].into_iter());
        assert_eq!(owners.ends, [3, 3, 7, 8]);
        let of: Vec<usize> = (0..8).map(|index| owners.of(index)).collect();
        assert_eq!(of, [0, 0, 0, 2, 2, 2, 2, 3]);
        assert_eq!(owners.sole(0, 3), Some(0));
        assert_eq!(owners.sole(3, 7), Some(2));
        assert_eq!(owners.sole(2, 4), None);
        // Between requests, nearest the middle; within one, the middle.
        assert_eq!(owners.split(0, 8), 3);
        assert_eq!(owners.split(3, 8), 7);
        assert_eq!(owners.split(3, 7), 5);
        assert_eq!(owners.split(0, 3), 1);
    }

    #[test]
    fn log_records_touch_no_trace() {
        let rows: Vec<LogRow> = Vec::new();
        assert_eq!(traces_touched(&rows), TracesTouched::default());
    }
}
