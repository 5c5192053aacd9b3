//! Write: rows -> PostgreSQL. The only stage with I/O, and the only code that talks to the
//! database on the data path; it must not know about OTLP, HTTP or gRPC.
//!
//! Three tables, one way of writing (a `Row` type, `columns.rs`, says which table, which columns
//! and how one row is encoded): span rows into `agent_spans`, log rows into `agent_logs`, metric
//! rows into `agent_metrics`.
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

mod columns;

pub use columns::{Row, TableSql, cost_as_numeric, id_type_for};

use crate::map::Rejected;
use crate::map::logs::LogRow;
use crate::map::metrics::MetricRow;
use crate::map::spans::SpanRow;
use deadpool_postgres::{Hook, HookError, Manager, ManagerConfig, Pool, RecyclingMethod, Runtime};
use std::time::Duration;
use tokio_postgres::NoTls;
use tokio_postgres::binary_copy::BinaryCopyInWriter;
use tokio_postgres::error::SqlState;

const EXTENSION_VERSION_SQL: &str = include_str!("../../../sql/ingest/extension_version.sql");

/// The extension version this binary writes for (they are released together).
pub const EXTENSION_VERSION: &str = env!("CARGO_PKG_VERSION");

#[derive(Debug, Clone)]
pub struct WriterConfig {
    pub database_url: String,
    /// Database connections: batches written at once.
    pub pool_size: usize,
    /// How long a batch may wait for a free connection before the request is answered 503.
    pub connection_wait: Duration,
    /// Longest a statement may run (PostgreSQL's statement_timeout on every ingest connection), so
    /// a locked or overloaded database turns into 503s, never into requests that hang.
    pub statement_timeout: Duration,
}

impl WriterConfig {
    pub const DEFAULT_POOL_SIZE: usize = 8;
    pub const DEFAULT_CONNECTION_WAIT: Duration = Duration::from_secs(5);
    pub const DEFAULT_STATEMENT_TIMEOUT: Duration = Duration::from_secs(30);

    /// The defaults of `serve`'s flags, for the database at `database_url`.
    pub fn new(database_url: impl Into<String>) -> Self {
        Self {
            database_url: database_url.into(),
            pool_size: Self::DEFAULT_POOL_SIZE,
            connection_wait: Self::DEFAULT_CONNECTION_WAIT,
            statement_timeout: Self::DEFAULT_STATEMENT_TIMEOUT,
        }
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
            "SET statement_timeout = {};\n{}\n{}\n{}",
            config.statement_timeout.as_millis(),
            SpanRow::SQL.staging,
            LogRow::SQL.staging,
            MetricRow::SQL.staging,
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
                    written.rejected.push(row.rejected(&format!(
                        "refused by the database: {}",
                        error.as_db_error().map(|e| e.message()).unwrap_or("error")
                    )));
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
    let writer = BinaryCopyInWriter::new(sink, R::COLUMN_TYPES);
    futures_util::pin_mut!(writer);
    for row in rows {
        row.copy(writer.as_mut()).await?;
    }
    writer.finish().await
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
