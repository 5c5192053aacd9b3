//! Rows -> PostgreSQL. The only stage with I/O.
//!
//! Three tables, one way of writing (a `Row` type says which table and how one row is encoded):
//! span rows into `agent_spans`, log rows into `agent_logs`, metric rows into `agent_metrics`.
//!
//! One batch is one transaction, and only after its COMMIT does the caller answer 200, so an
//! acknowledged span, log record or data point is a stored one. agent_spans' trigger updates
//! `agent_traces` from exactly the rows inserted. Two ways in, tried in this order (SQL in
//! `sql/ingest/`):
//!
//! 1. Binary COPY straight into the table: the common case, a batch of new rows, at the cost
//!    PostgreSQL itself needs (BENCHMARKS.md).
//! 2. If that meets a row already stored (a client retry: `unique_violation`) or a concurrent batch
//!    with the same rows (`deadlock_detected`), it is rolled back and the batch goes through the
//!    session's staging table for that table: COPY there, then one `INSERT .. SELECT DISTINCT ON ..
//!    ON CONFLICT DO NOTHING`, which skips what is stored and takes its locks in key order.
//!
//! Errors are split by what the client should do: `Unavailable` (the database is down, restarting,
//! out of connections, or a connection broke: retry later, answered 503) versus rows the database
//! refuses on their content, which cost only themselves: the batch is retried one row at a time,
//! each under a savepoint, and the refused ones are reported as rejected.

use crate::map::{Rejected, SpanRow};
use crate::map_logs::LogRow;
use crate::map_metrics::MetricRow;
use bytes::BytesMut;
use deadpool_postgres::{Hook, HookError, Manager, ManagerConfig, Pool, RecyclingMethod, Runtime};
use rust_decimal::Decimal;
use rust_decimal::prelude::FromPrimitive;
use std::future::Future;
use std::pin::Pin;
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use tokio_postgres::NoTls;
use tokio_postgres::binary_copy::BinaryCopyInWriter;
use tokio_postgres::error::SqlState;
use tokio_postgres::types::{IsNull, Json, ToSql, Type, to_sql_checked};

const STAGING_SQL: &str = include_str!("../../sql/ingest/staging.sql");
const COPY_STAGING_SQL: &str = include_str!("../../sql/ingest/copy_staging.sql");
const COPY_SPANS_SQL: &str = include_str!("../../sql/ingest/copy_spans.sql");
const INSERT_SQL: &str = include_str!("../../sql/ingest/insert_spans.sql");
const EXTENSION_VERSION_SQL: &str = include_str!("../../sql/ingest/extension_version.sql");
const STAGING_LOGS_SQL: &str = include_str!("../../sql/ingest/staging_logs.sql");
const STAGING_METRICS_SQL: &str = include_str!("../../sql/ingest/staging_metrics.sql");

/// The extension version this binary writes for (they are released together).
pub const EXTENSION_VERSION: &str = env!("CARGO_PKG_VERSION");

/// Column types of a COPY row, in the column order of `copy_spans.sql` and of the staging table.
/// `agent_spans` has its own id types there; `Uuid` and `Macaddr8` below encode both.
const COPY_TYPES: [Type; 36] = [
    Type::UUID,
    Type::MACADDR8,
    Type::MACADDR8,
    Type::TIMESTAMPTZ,
    Type::TIMESTAMPTZ,
    Type::TEXT,
    Type::TEXT,
    Type::TEXT,
    Type::TEXT,
    Type::TEXT,
    Type::TEXT,
    Type::TEXT,
    Type::TEXT,
    Type::TEXT,
    Type::TEXT,
    Type::INT8,
    Type::INT8,
    Type::INT8,
    Type::INT8,
    Type::INT8,
    Type::NUMERIC,
    Type::TEXT,
    Type::TEXT,
    Type::TEXT,
    Type::TEXT,
    Type::TEXT,
    Type::TEXT,
    Type::TEXT,
    Type::TEXT,
    Type::TEXT,
    Type::TEXT,
    Type::TEXT,
    Type::JSONB,
    Type::JSONB,
    Type::JSONB,
    Type::JSONB,
];

/// Column types of a log COPY row, in the column order of `copy_logs.sql` and its staging table.
const LOG_COPY_TYPES: [Type; 25] = [
    Type::UUID,        // record_key
    Type::TIMESTAMPTZ, // time
    Type::TIMESTAMPTZ, // observed_time
    Type::UUID,        // trace_id
    Type::MACADDR8,    // span_id
    Type::TEXT,        // event_name
    Type::INT2,        // severity_number
    Type::TEXT,        // severity_text
    Type::TEXT,        // body
    Type::TEXT,        // service_name
    Type::TEXT,        // scope_name
    Type::TEXT,        // scope_version
    Type::TEXT,        // session_id
    Type::TEXT,        // user_id
    Type::TEXT,        // model
    Type::INT8,        // input_tokens
    Type::INT8,        // output_tokens
    Type::INT8,        // cache_read_tokens
    Type::INT8,        // cache_write_tokens
    Type::INT8,        // reasoning_tokens
    Type::NUMERIC,     // cost_usd
    Type::TEXT,        // tool_name
    Type::FLOAT8,      // duration_ms
    Type::JSONB,       // attributes
    Type::JSONB,       // resource_attributes
];

/// Column types of a metric COPY row, in the column order of `copy_metrics.sql` and its staging table.
const METRIC_COPY_TYPES: [Type; 26] = [
    Type::UUID,         // series_key
    Type::TEXT,         // name
    Type::TEXT,         // kind
    Type::TEXT,         // temporality
    Type::BOOL,         // is_monotonic
    Type::TIMESTAMPTZ,  // start_time
    Type::TIMESTAMPTZ,  // time
    Type::FLOAT8,       // value
    Type::INT8,         // count
    Type::FLOAT8,       // sum
    Type::FLOAT8,       // min
    Type::FLOAT8,       // max
    Type::FLOAT8_ARRAY, // bucket_bounds
    Type::INT8_ARRAY,   // bucket_counts
    Type::JSONB,        // exponential_buckets
    Type::JSONB,        // quantiles
    Type::TEXT,         // unit
    Type::TEXT,         // description
    Type::TEXT,         // service_name
    Type::TEXT,         // scope_name
    Type::TEXT,         // scope_version
    Type::TEXT,         // session_id
    Type::TEXT,         // model
    Type::TEXT,         // token_type
    Type::JSONB,        // attributes
    Type::JSONB,        // resource_attributes
];

/// The SQL that stores one kind of row (files in `sql/ingest/`).
pub struct TableSql {
    /// Binary COPY into the table.
    pub copy: &'static str,
    /// Binary COPY into the session's staging table (same columns, same order).
    pub copy_staging: &'static str,
    /// Staging -> table, skipping rows already stored.
    pub insert: &'static str,
}

/// A row the writer stores: its table's SQL, its binary COPY encoding, and how a rejection names it.
pub trait Row: Sync {
    const SQL: TableSql;
    /// Column types of the COPY, in the column order of `SQL.copy`.
    fn copy_types() -> &'static [Type];
    /// Writes the row to a binary COPY whose columns are those of `SQL.copy`.
    fn copy<'a>(
        &'a self,
        writer: Pin<&'a mut BinaryCopyInWriter>,
    ) -> impl Future<Output = Result<(), tokio_postgres::Error>> + Send + 'a;
    /// Names the row in a rejection, e.g. "span 00f0.. of trace 4bf9..".
    fn describe(&self) -> String;
}

impl Row for SpanRow {
    const SQL: TableSql = TableSql {
        copy: COPY_SPANS_SQL,
        copy_staging: COPY_STAGING_SQL,
        insert: INSERT_SQL,
    };

    fn copy_types() -> &'static [Type] {
        &COPY_TYPES
    }

    fn copy<'a>(
        &'a self,
        writer: Pin<&'a mut BinaryCopyInWriter>,
    ) -> impl Future<Output = Result<(), tokio_postgres::Error>> + Send + 'a {
        copy_row(writer, self)
    }

    fn describe(&self) -> String {
        format!(
            "span {} of trace {}",
            hex(&self.span_id),
            hex(&self.trace_id)
        )
    }
}

impl Row for LogRow {
    const SQL: TableSql = TableSql {
        copy: include_str!("../../sql/ingest/copy_logs.sql"),
        copy_staging: include_str!("../../sql/ingest/copy_staging_logs.sql"),
        insert: include_str!("../../sql/ingest/insert_logs.sql"),
    };

    fn copy_types() -> &'static [Type] {
        &LOG_COPY_TYPES
    }

    async fn copy<'a>(
        &'a self,
        writer: Pin<&'a mut BinaryCopyInWriter>,
    ) -> Result<(), tokio_postgres::Error> {
        let time = timestamp(self.time_unix_nano);
        let observed = self.observed_time_unix_nano.map(timestamp);
        let trace_id = self.trace_id.as_ref().map(Uuid);
        let span_id = self.span_id.as_ref().map(Macaddr8);
        let cost = self.cost_usd.and_then(cost_as_numeric);
        writer
            .write(&[
                &Uuid(&self.record_key),
                &time,
                &observed,
                &trace_id,
                &span_id,
                &self.event_name,
                &self.severity_number,
                &self.severity_text,
                &self.body,
                &self.service_name,
                &self.scope_name,
                &self.scope_version,
                &self.session_id,
                &self.user_id,
                &self.model,
                &self.input_tokens,
                &self.output_tokens,
                &self.cache_read_tokens,
                &self.cache_write_tokens,
                &self.reasoning_tokens,
                &cost,
                &self.tool_name,
                &self.duration_ms,
                &Json(&self.attributes),
                &Json(&self.resource_attributes),
            ])
            .await
    }

    fn describe(&self) -> String {
        format!(
            "log record {} at {} ns",
            hex(&self.record_key),
            self.time_unix_nano
        )
    }
}

impl Row for MetricRow {
    const SQL: TableSql = TableSql {
        copy: include_str!("../../sql/ingest/copy_metrics.sql"),
        copy_staging: include_str!("../../sql/ingest/copy_staging_metrics.sql"),
        insert: include_str!("../../sql/ingest/insert_metrics.sql"),
    };

    fn copy_types() -> &'static [Type] {
        &METRIC_COPY_TYPES
    }

    async fn copy<'a>(
        &'a self,
        writer: Pin<&'a mut BinaryCopyInWriter>,
    ) -> Result<(), tokio_postgres::Error> {
        let start = self.start_time_unix_nano.map(timestamp);
        let time = timestamp(self.time_unix_nano);
        let exponential_buckets = self.exponential_buckets.as_ref().map(Json);
        let quantiles = self.quantiles.as_ref().map(Json);
        writer
            .write(&[
                &Uuid(&self.series_key),
                &self.name,
                &self.kind,
                &self.temporality,
                &self.is_monotonic,
                &start,
                &time,
                &self.value,
                &self.count,
                &self.sum,
                &self.min,
                &self.max,
                &self.bucket_bounds,
                &self.bucket_counts,
                &exponential_buckets,
                &quantiles,
                &self.unit,
                &self.description,
                &self.service_name,
                &self.scope_name,
                &self.scope_version,
                &self.session_id,
                &self.model,
                &self.token_type,
                &Json(&self.attributes),
                &Json(&self.resource_attributes),
            ])
            .await
    }

    fn describe(&self) -> String {
        format!(
            "data point of metric {:?} at {} ns",
            self.name, self.time_unix_nano
        )
    }
}

pub struct WriterConfig {
    pub database_url: String,
    pub pool_size: usize,
    /// How long a batch may wait for a free connection before the request is answered 503.
    pub connection_wait: Duration,
    /// Longest a statement may run (PostgreSQL's statement_timeout on every ingest connection), so
    /// a locked or overloaded database turns into 503s, never into requests that hang.
    pub statement_timeout: Duration,
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
}

#[derive(Debug)]
pub enum WriteError {
    /// Nothing was committed; the client should retry later.
    Unavailable(String),
}

impl std::fmt::Display for WriteError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            WriteError::Unavailable(why) => write!(f, "database unavailable: {why}"),
        }
    }
}

/// Problems found at start-up, each with what to do about it.
#[derive(Debug)]
pub enum StartupError {
    BadUrl(String),
    Connect(String),
    ExtensionMissing { database: String },
    ExtensionVersion { installed: String },
}

impl std::fmt::Display for StartupError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
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
}

impl Writer {
    /// Builds the connection pool and checks, on one connection, that the extension is there at the
    /// version this binary writes for.
    pub async fn connect(config: &WriterConfig) -> Result<Self, StartupError> {
        let pg_config: tokio_postgres::Config = config
            .database_url
            .parse()
            .map_err(|e: tokio_postgres::Error| StartupError::BadUrl(e.to_string()))?;
        let database = pg_config.get_dbname().unwrap_or("(default)").to_string();
        let manager = Manager::from_config(
            pg_config,
            NoTls,
            ManagerConfig {
                recycling_method: RecyclingMethod::Fast,
            },
        );
        // Every new connection: the statement timeout, then the session's staging tables.
        let session_setup: std::sync::Arc<str> = format!(
            "SET statement_timeout = {};\n{STAGING_SQL}\n{STAGING_LOGS_SQL}\n{STAGING_METRICS_SQL}",
            config.statement_timeout.as_millis()
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
            .map_err(|e| StartupError::Connect(e.to_string()))?;
        let installed = client
            .query_opt(EXTENSION_VERSION_SQL, &[])
            .await
            .map_err(|e| StartupError::Connect(e.to_string()))?
            .map(|row| row.get::<_, String>(0));
        match installed {
            None => return Err(StartupError::ExtensionMissing { database }),
            Some(version) if version != EXTENSION_VERSION => {
                return Err(StartupError::ExtensionVersion { installed: version });
            }
            Some(_) => {}
        }
        Ok(Self { pool })
    }

    /// Stores the rows in one transaction. `Ok` means committed.
    pub async fn write<R: Row>(&self, rows: &[R]) -> Result<Written, WriteError> {
        if rows.is_empty() {
            return Ok(Written::default());
        }
        let mut client = self
            .pool
            .get()
            .await
            .map_err(|e| WriteError::Unavailable(e.to_string()))?;

        let transaction = client.transaction().await.map_err(unavailable)?;
        match copy_rows(&transaction, R::SQL.copy, rows).await {
            Ok(inserted) => {
                transaction.commit().await.map_err(unavailable)?;
                return Ok(Written {
                    inserted,
                    duplicates: 0,
                    rejected: Vec::new(),
                });
            }
            Err(error) if is_overlap(&error) => drop(transaction), // rolls back; take the staging way
            Err(error) if is_content_error(&error) => {
                drop(transaction);
                return self.write_one_by_one(&mut client, rows).await;
            }
            Err(error) => return Err(unavailable(error)),
        }

        let transaction = client.transaction().await.map_err(unavailable)?;
        match insert_skipping_stored(&transaction, rows).await {
            Ok(inserted) => {
                transaction.commit().await.map_err(unavailable)?;
                Ok(Written {
                    inserted,
                    duplicates: rows.len() as u64 - inserted,
                    rejected: Vec::new(),
                })
            }
            Err(error) if is_content_error(&error) => {
                drop(transaction);
                self.write_one_by_one(&mut client, rows).await
            }
            Err(error) => Err(unavailable(error)),
        }
    }

    /// The slow path after the database refused a batch on its content: each row under its own
    /// savepoint, so only the rows it refuses are lost (and reported).
    async fn write_one_by_one<R: Row>(
        &self,
        client: &mut deadpool_postgres::Object,
        rows: &[R],
    ) -> Result<Written, WriteError> {
        let mut transaction = client.transaction().await.map_err(unavailable)?;
        let mut written = Written::default();
        for row in rows {
            let savepoint = transaction.savepoint("row").await.map_err(unavailable)?;
            match insert_skipping_stored(&savepoint, std::slice::from_ref(row)).await {
                Ok(inserted) => {
                    savepoint.commit().await.map_err(unavailable)?;
                    written.inserted += inserted;
                    written.duplicates += 1 - inserted;
                }
                Err(error) if is_content_error(&error) => {
                    savepoint.rollback().await.map_err(unavailable)?;
                    written.rejected.push(Rejected {
                        reason: format!(
                            "{}: refused by the database: {}",
                            row.describe(),
                            error.as_db_error().map(|e| e.message()).unwrap_or("error")
                        ),
                    });
                }
                Err(error) => return Err(unavailable(error)),
            }
        }
        transaction.commit().await.map_err(unavailable)?;
        Ok(written)
    }
}

/// COPY the rows into staging, then move the ones not stored yet into their table; the number of
/// rows inserted.
async fn insert_skipping_stored<R: Row>(
    client: &deadpool_postgres::Transaction<'_>,
    rows: &[R],
) -> Result<u64, tokio_postgres::Error> {
    copy_rows(client, R::SQL.copy_staging, rows).await?;
    let insert = client.prepare_cached(R::SQL.insert).await?;
    client.execute(&insert, &[]).await
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
    let writer = BinaryCopyInWriter::new(sink, R::copy_types());
    futures_util::pin_mut!(writer);
    for row in rows {
        row.copy(writer.as_mut()).await?;
    }
    writer.finish().await
}

/// Writes one row to a binary COPY whose columns are those of `copy_spans.sql`, in its order: into
/// `agent_spans` or the staging table (the id wrappers encode for both). Public so the benchmark's
/// raw COPY sends exactly the bytes the ingest sends.
pub async fn copy_row(
    writer: std::pin::Pin<&mut BinaryCopyInWriter>,
    row: &SpanRow,
) -> Result<(), tokio_postgres::Error> {
    let start = timestamp(row.start_time_unix_nano);
    let end = timestamp(row.end_time_unix_nano);
    let parent = row.parent_span_id.as_ref().map(Macaddr8);
    let cost = row.cost_usd.and_then(cost_as_numeric);
    writer
        .write(&[
            &Uuid(&row.trace_id),
            &Macaddr8(&row.span_id),
            &parent,
            &start,
            &end,
            &row.name,
            &row.span_kind,
            &row.span_type,
            &row.status_code,
            &row.status_message,
            &row.service_name,
            &row.scope_name,
            &row.scope_version,
            &row.model,
            &row.provider,
            &row.input_tokens,
            &row.output_tokens,
            &row.cache_read_tokens,
            &row.cache_write_tokens,
            &row.reasoning_tokens,
            &cost,
            &row.tool_name,
            &row.agent_name,
            &row.agent_id,
            &row.session_id,
            &row.user_id,
            &row.run_id,
            &row.team_id,
            &row.workflow_id,
            &row.correlation_id,
            &row.input,
            &row.output,
            &Json(&row.attributes),
            &Json(&row.resource_attributes),
            &Json(&row.events),
            &Json(&row.links),
        ])
        .await
}

fn timestamp(unix_nano: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_nanos(unix_nano)
}

/// A reported cost as the numeric stored: the shortest decimal that reads back as the same double
/// (0.003, not 0.00299999999999999989); None beyond numeric's 28 digits.
pub fn cost_as_numeric(cost: f64) -> Option<Decimal> {
    cost.to_string()
        .parse()
        .ok()
        .or_else(|| Decimal::from_f64(cost))
}

fn unavailable(error: tokio_postgres::Error) -> WriteError {
    WriteError::Unavailable(match error.as_db_error() {
        Some(db) => format!("{} ({})", db.message(), db.code().code()),
        None => error.to_string(),
    })
}

/// The direct COPY met rows another transaction stored or is storing: a retry, or the same rows
/// sent twice at once.
fn is_overlap(error: &tokio_postgres::Error) -> bool {
    error.code().is_some_and(|code| {
        *code == SqlState::UNIQUE_VIOLATION || *code == SqlState::T_R_DEADLOCK_DETECTED
    })
}

/// Errors about the data itself (SQLSTATE classes 22 "data exception" and 23 "integrity constraint
/// violation"): retrying cannot help, but other rows of the batch may still be stored.
fn is_content_error(error: &tokio_postgres::Error) -> bool {
    error
        .code()
        .map(SqlState::code)
        .is_some_and(|code| code.starts_with("22") || code.starts_with("23"))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// 16 id bytes, for a uuid or an agent_trace.trace_id column: both take the raw bytes.
#[derive(Debug)]
struct Uuid<'a>(&'a [u8; 16]);

/// 8 id bytes, for a macaddr8 or an agent_trace.span_id column: both take the raw bytes.
#[derive(Debug)]
struct Macaddr8<'a>(&'a [u8; 8]);

impl ToSql for Uuid<'_> {
    fn to_sql(
        &self,
        _: &Type,
        out: &mut BytesMut,
    ) -> Result<IsNull, Box<dyn std::error::Error + Sync + Send>> {
        out.extend_from_slice(self.0);
        Ok(IsNull::No)
    }

    fn accepts(ty: &Type) -> bool {
        *ty == Type::UUID || ty.name() == "trace_id"
    }

    to_sql_checked!();
}

impl ToSql for Macaddr8<'_> {
    fn to_sql(
        &self,
        _: &Type,
        out: &mut BytesMut,
    ) -> Result<IsNull, Box<dyn std::error::Error + Sync + Send>> {
        out.extend_from_slice(self.0);
        Ok(IsNull::No)
    }

    fn accepts(ty: &Type) -> bool {
        *ty == Type::MACADDR8 || ty.name() == "span_id"
    }

    to_sql_checked!();
}
