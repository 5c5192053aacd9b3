//! Span rows -> PostgreSQL. The only stage with I/O.
//!
//! One batch is one transaction, and only after its COMMIT does the caller answer 200, so an
//! acknowledged span is a stored span. The table's trigger updates `agent_traces` from exactly the
//! rows inserted. Two ways in, tried in this order (SQL in `sql/ingest/`):
//!
//! 1. Binary COPY straight into `agent_trace.agent_spans`: the common case, a batch of new spans, at
//!    the cost PostgreSQL itself needs (BENCHMARKS.md).
//! 2. If that meets a span already stored (a client retry: `unique_violation`) or a concurrent batch
//!    with the same spans (`deadlock_detected`), it is rolled back and the batch goes through the
//!    session's staging table: COPY there, then one `INSERT .. SELECT DISTINCT ON .. ON CONFLICT DO
//!    NOTHING`, which skips what is stored and takes its locks in key order.
//!
//! Errors are split by what the client should do: `Unavailable` (the database is down, restarting,
//! out of connections, or a connection broke: retry later, answered 503) versus spans the database
//! refuses on their content, which cost only themselves: the batch is retried one span at a time,
//! each under a savepoint, and the refused ones are reported as rejected.

use crate::map::{Rejected, SpanRow};
use bytes::BytesMut;
use deadpool_postgres::{Hook, HookError, Manager, ManagerConfig, Pool, RecyclingMethod, Runtime};
use rust_decimal::Decimal;
use rust_decimal::prelude::FromPrimitive;
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
    /// Spans newly stored.
    pub inserted: u64,
    /// Spans that were already stored (client retries) or repeated within the batch.
    pub duplicates: u64,
    /// Spans the database refused on their content.
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
        // Every new connection: the statement timeout, then the session's staging table.
        let session_setup: std::sync::Arc<str> = format!(
            "SET statement_timeout = {};\n{STAGING_SQL}",
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
    pub async fn write(&self, rows: &[SpanRow]) -> Result<Written, WriteError> {
        if rows.is_empty() {
            return Ok(Written::default());
        }
        let mut client = self
            .pool
            .get()
            .await
            .map_err(|e| WriteError::Unavailable(e.to_string()))?;

        let transaction = client.transaction().await.map_err(unavailable)?;
        match copy_rows(&transaction, COPY_SPANS_SQL, rows).await {
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

    /// The slow path after the database refused a batch on its content: each span under its own
    /// savepoint, so only the spans it refuses are lost (and reported).
    async fn write_one_by_one(
        &self,
        client: &mut deadpool_postgres::Object,
        rows: &[SpanRow],
    ) -> Result<Written, WriteError> {
        let mut transaction = client.transaction().await.map_err(unavailable)?;
        let mut written = Written::default();
        for row in rows {
            let savepoint = transaction.savepoint("span").await.map_err(unavailable)?;
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
                            "span {} of trace {}: refused by the database: {}",
                            hex(&row.span_id),
                            hex(&row.trace_id),
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

/// COPY the rows into staging, then move the ones not stored yet into agent_spans; the number of
/// spans inserted.
async fn insert_skipping_stored(
    client: &deadpool_postgres::Transaction<'_>,
    rows: &[SpanRow],
) -> Result<u64, tokio_postgres::Error> {
    copy_rows(client, COPY_STAGING_SQL, rows).await?;
    let insert = client.prepare_cached(INSERT_SQL).await?;
    client.execute(&insert, &[]).await
}

/// Binary COPY of the rows with `copy_sql` (into agent_spans or into staging); the rows copied.
async fn copy_rows(
    client: &deadpool_postgres::Transaction<'_>,
    copy_sql: &str,
    rows: &[SpanRow],
) -> Result<u64, tokio_postgres::Error> {
    // Prepared once per connection: parsing the COPY again for every batch costs more than a small
    // batch's rows (BENCHMARKS.md).
    let copy = client.prepare_cached(copy_sql).await?;
    let sink = client.copy_in(&copy).await?;
    let writer = BinaryCopyInWriter::new(sink, &COPY_TYPES);
    futures_util::pin_mut!(writer);
    for row in rows {
        copy_row(writer.as_mut(), row).await?;
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

/// The direct COPY met spans another transaction stored or is storing: a retry, or the same spans
/// sent twice at once.
fn is_overlap(error: &tokio_postgres::Error) -> bool {
    error.code().is_some_and(|code| {
        *code == SqlState::UNIQUE_VIOLATION || *code == SqlState::T_R_DEADLOCK_DETECTED
    })
}

/// Errors about the data itself (SQLSTATE classes 22 "data exception" and 23 "integrity constraint
/// violation"): retrying cannot help, but other spans of the batch may still be stored.
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
