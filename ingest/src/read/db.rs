//! The read-only connection pool of the viewer and the MCP server (one each): every connection runs
//! `sql/viewer/connection.sql` (the search path pinned to pg_catalog, read-only transactions, UTC, a
//! fresh plan per query) and, when the login is a superuser, switches to `agent_trace_reader`.
//! Queries come back as JSON text that PostgreSQL rendered (`rows_as_json.sql`), so numerics keep
//! their digits and ids print as the extension prints them. A `Snapshot` runs several queries in
//! one read-only transaction, so that they see the same data.

use super::queries::{Param, Query};
use crate::postgres::Password;
use deadpool_postgres::{
    ClientWrapper, Hook, HookError, Manager, ManagerConfig, Object, Pool, RecyclingMethod, Runtime,
};
use serde_json::value::RawValue;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;
use tokio_postgres::types::ToSql;

const CONNECTION_SQL: &str = include_str!("../../../sql/viewer/connection.sql");
const LOGIN_IS_SUPERUSER_SQL: &str = include_str!("../../../sql/viewer/login_is_superuser.sql");
const READ_AS_READER_SQL: &str = include_str!("../../../sql/viewer/read_as_reader.sql");
const ROWS_AS_JSON_SQL: &str = include_str!("../../../sql/viewer/rows_as_json.sql");
const ROW_AS_JSON_SQL: &str = include_str!("../../../sql/viewer/row_as_json.sql");
const SNAPSHOT_SQL: &str = include_str!("../../../sql/viewer/snapshot.sql");
const SNAPSHOT_END_SQL: &str = "COMMIT";

/// Connections: a few, since a page asks for its queries one after another and live streams hold
/// one only while they poll.
const POOL_SIZE: usize = 4;
/// How long a request waits for a free connection before it is answered 503.
const CONNECTION_WAIT: Duration = Duration::from_secs(10);

#[derive(Clone)]
pub struct Db {
    pool: Pool,
    /// How to open a connection of the login outside the pool (`Db::dedicated`).
    target: Arc<(
        tokio_postgres::Config,
        tokio_postgres_rustls::MakeRustlsConnect,
    )>,
    /// The login is a superuser, and so reads as agent_trace_reader.
    as_reader: bool,
}

/// What PostgreSQL said when it refused a statement: its message and SQLSTATE (none when the
/// failure was not PostgreSQL's, e.g. JSON that did not parse).
#[derive(Debug, Clone)]
pub struct Failure {
    pub message: String,
    pub sqlstate: Option<String>,
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl From<String> for Failure {
    fn from(message: String) -> Self {
        Failure {
            message,
            sqlstate: None,
        }
    }
}

/// Why a query gave no answer, by what the caller should be told.
#[derive(Debug)]
pub enum DbError {
    /// PostgreSQL refused a value of the request (a malformed id, time or interval): 400.
    BadInput(Failure),
    /// No connection, or it broke: 503.
    Unavailable(String),
    /// Anything else: 500.
    Failed(Failure),
}

impl DbError {
    /// PostgreSQL's SQLSTATE, when PostgreSQL refused the statement.
    pub fn sqlstate(&self) -> Option<&str> {
        match self {
            DbError::BadInput(failure) | DbError::Failed(failure) => failure.sqlstate.as_deref(),
            DbError::Unavailable(_) => None,
        }
    }
}

impl std::fmt::Display for DbError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DbError::BadInput(why) => write!(f, "{why}"),
            DbError::Unavailable(why) => write!(f, "database unavailable: {why}"),
            DbError::Failed(why) => write!(f, "query failed: {why}"),
        }
    }
}

impl From<tokio_postgres::Error> for DbError {
    fn from(error: tokio_postgres::Error) -> Self {
        match error.as_db_error() {
            Some(db) => {
                let failure = Failure {
                    message: db.message().to_string(),
                    sqlstate: Some(db.code().code().to_string()),
                };
                // Class 22, data exception: PostgreSQL could not take a value as its type.
                if db.code().code().starts_with("22") {
                    DbError::BadInput(failure)
                } else {
                    DbError::Failed(failure)
                }
            }
            None => DbError::Unavailable(error.to_string()),
        }
    }
}

impl Db {
    /// Builds the pool and checks, on one connection, that it can read the extension's tables:
    /// `can_read` answers one boolean, true when the login may do what `who` (the viewer, the MCP
    /// server) does.
    pub async fn connect(
        database_url: &str,
        password: Option<&Password>,
        can_read: &Query,
        who: &str,
    ) -> Result<Self, String> {
        // Read as libpq reads it, TLS included, as the ingest's (crate::postgres).
        let target = crate::postgres::target(database_url, password.map(|p| p.0.as_str()))
            .map_err(|e| format!("invalid {who} database URL: {e}"))?;
        let manager = Manager::from_config(
            target.config.clone(),
            target.tls.clone(),
            ManagerConfig {
                recycling_method: RecyclingMethod::Fast,
            },
        );
        let as_reader = Arc::new(AtomicBool::new(false));
        let as_reader_in_hook = as_reader.clone();
        let pool = Pool::builder(manager)
            .max_size(POOL_SIZE)
            .runtime(Runtime::Tokio1)
            .wait_timeout(Some(CONNECTION_WAIT))
            .create_timeout(Some(CONNECTION_WAIT))
            .post_create(Hook::async_fn(move |client, _| {
                let as_reader = as_reader_in_hook.clone();
                Box::pin(async move {
                    client
                        .batch_execute(CONNECTION_SQL)
                        .await
                        .map_err(HookError::Backend)?;
                    let may = client
                        .query_one(LOGIN_IS_SUPERUSER_SQL, &[])
                        .await
                        .map_err(HookError::Backend)?
                        .get::<_, bool>(0);
                    if may {
                        client
                            .batch_execute(READ_AS_READER_SQL)
                            .await
                            .map_err(HookError::Backend)?;
                    }
                    as_reader.store(may, Ordering::Relaxed);
                    Ok(())
                })
            }))
            .build()
            .map_err(|e| format!("{who} connection pool: {e}"))?;
        // One connection now, so that a wrong URL or missing privileges show at start.
        let client = pool
            .get()
            .await
            .map_err(|e| format!("the {who} cannot connect to PostgreSQL: {e}"))?;
        let may_read = client
            .query_one(can_read.sql, &[])
            .await
            .map(|row| row.get::<_, Option<bool>>(0) == Some(true))
            .unwrap_or(false);
        if !may_read {
            return Err(format!(
                "the {who}'s login role may not read agent_trace's tables and functions: grant it \
                 agent_trace_reader, or give the {who} a reader's login with --viewer-database-url"
            ));
        }
        let as_reader = as_reader.load(Ordering::Relaxed);
        if as_reader {
            tracing::warn!(
                "the {who}'s login is a superuser: it reads as agent_trace_reader (the projects \
                 granted to that role), in read-only transactions. Give the {who} a login of its own \
                 (--viewer-database-url) that is a member of agent_trace_reader."
            );
        } else {
            tracing::info!("the {who} reads as its login, in read-only transactions");
        }
        Ok(Self {
            pool,
            target: Arc::new((target.config, target.tls)),
            as_reader,
        })
    }

    /// The pool as `serve` starts it for `who`: with `database_url` when one is given (which must
    /// work), else with the ingest's own login (its URL and password); when that login may not
    /// read (a writer-only role), None: the ingest must not stop for a part that only reads, so it
    /// serves without it and says how to turn it on.
    pub async fn start(
        database_url: Option<&str>,
        ingest_database_url: &str,
        ingest_password: Option<&Password>,
        can_read: &Query,
        who: &str,
    ) -> Result<Option<Self>, String> {
        match database_url {
            Some(url) => Self::connect(url, None, can_read, who).await.map(Some),
            None => {
                match Self::connect(ingest_database_url, ingest_password, can_read, who).await {
                    Ok(db) => Ok(Some(db)),
                    Err(error) => {
                        tracing::warn!("serving without the {who}: {error}");
                        Ok(None)
                    }
                }
            }
        }
    }

    /// Whether the login is a superuser (which the pool's connections read as
    /// agent_trace_reader).
    pub fn login_is_superuser(&self) -> bool {
        self.as_reader
    }

    /// The query's rows as a JSON array of objects.
    pub async fn rows(&self, query: &Query, params: &[Param]) -> Result<Box<RawValue>, DbError> {
        let client = self.client().await?;
        rows(&client, query, params).await
    }

    /// The query's one row as a JSON object; None when it has none.
    pub async fn row(
        &self,
        query: &Query,
        params: &[Param],
    ) -> Result<Option<Box<RawValue>>, DbError> {
        let client = self.client().await?;
        row(&client, query, params).await
    }

    /// The first column of the query's first row, as text; None when there is no row or the value is
    /// NULL.
    pub async fn text(&self, query: &Query, params: &[Param]) -> Result<Option<String>, DbError> {
        let client = self.client().await?;
        one_text(&client, query.sql, params).await
    }

    /// A read-only transaction on one connection of the pool, whose queries all see the data as
    /// it was at the first of them.
    pub async fn snapshot(&self) -> Result<Snapshot, DbError> {
        let client = self.client().await?;
        let mut snapshot = Snapshot {
            client: Some(client),
        };
        snapshot.client()?.batch_execute(SNAPSHOT_SQL).await?;
        Ok(snapshot)
    }

    /// A connection of the pool's login of its own, outside the pool and without its settings,
    /// for a caller that lets others' SQL change the session (and then closes it): the client,
    /// and the task that runs the connection (abort it to close the connection at once).
    pub async fn dedicated(
        &self,
    ) -> Result<(tokio_postgres::Client, tokio::task::JoinHandle<()>), DbError> {
        let (config, tls) = &*self.target;
        let connecting = config.connect(tls.clone());
        let (client, connection) = tokio::time::timeout(CONNECTION_WAIT, connecting)
            .await
            .map_err(|_| DbError::Unavailable("no connection within the wait".to_string()))?
            .map_err(|e| DbError::Unavailable(crate::postgres::describe(&e)))?;
        let task = tokio::spawn(async move {
            if let Err(error) = connection.await {
                tracing::debug!(%error, "a dedicated reader connection ended");
            }
        });
        Ok((client, task))
    }

    /// Asks PostgreSQL to cancel what a connection of `dedicated` runs now (its statement past a
    /// deadline of the caller's).
    pub async fn cancel(&self, token: tokio_postgres::CancelToken) {
        let (_, tls) = &*self.target;
        if let Err(error) = token.cancel_query(tls.clone()).await {
            tracing::debug!(%error, "could not cancel a reader's statement");
        }
    }

    async fn client(&self) -> Result<Object, DbError> {
        self.pool
            .get()
            .await
            .map_err(|e| DbError::Unavailable(e.to_string()))
    }
}

/// Several queries in one read-only transaction (`Db::snapshot`). `end` commits and gives the
/// connection back; a snapshot dropped before (a query failed, the caller went away) takes its
/// connection out of the pool, which closes it, so no connection goes back inside a transaction.
pub struct Snapshot {
    client: Option<Object>,
}

impl Snapshot {
    fn client(&mut self) -> Result<&Object, DbError> {
        self.client
            .as_ref()
            .ok_or_else(|| DbError::Unavailable("the snapshot has ended".to_string()))
    }

    /// The query's rows as a JSON array of objects.
    pub async fn rows(
        &mut self,
        query: &Query,
        params: &[Param],
    ) -> Result<Box<RawValue>, DbError> {
        rows(self.client()?, query, params).await
    }

    /// The query's one row as a JSON object; None when it has none.
    pub async fn row(
        &mut self,
        query: &Query,
        params: &[Param],
    ) -> Result<Option<Box<RawValue>>, DbError> {
        row(self.client()?, query, params).await
    }

    /// Ends the transaction and gives the connection back to the pool.
    pub async fn end(mut self) -> Result<(), DbError> {
        if let Some(client) = self.client.take() {
            client.batch_execute(SNAPSHOT_END_SQL).await?;
        }
        Ok(())
    }
}

impl Drop for Snapshot {
    fn drop(&mut self) {
        if let Some(client) = self.client.take() {
            drop(Object::take(client));
        }
    }
}

async fn rows(
    client: &ClientWrapper,
    query: &Query,
    params: &[Param],
) -> Result<Box<RawValue>, DbError> {
    let json = one_text(client, &wrap(ROWS_AS_JSON_SQL, query), params)
        .await?
        .unwrap_or_else(|| "[]".to_string());
    raw(json)
}

async fn row(
    client: &ClientWrapper,
    query: &Query,
    params: &[Param],
) -> Result<Option<Box<RawValue>>, DbError> {
    match one_text(client, &wrap(ROW_AS_JSON_SQL, query), params).await? {
        Some(json) => raw(json).map(Some),
        None => Ok(None),
    }
}

async fn one_text(
    client: &ClientWrapper,
    sql: &str,
    params: &[Param],
) -> Result<Option<String>, DbError> {
    let statement = client.prepare_cached(sql).await?;
    let values = bind(params);
    let row = client.query_opt(&statement, &values).await?;
    Ok(row.and_then(|row| row.get::<_, Option<String>>(0)))
}

/// The wrapper with the query's text on its line `QUERY`.
fn wrap(wrapper: &str, query: &Query) -> String {
    wrapper.replace("\nQUERY\n", &format!("\n{}\n", query.sql))
}

fn bind(params: &[Param]) -> Vec<&(dyn ToSql + Sync)> {
    params.iter().map(Param::as_sql).collect()
}

fn raw(json: String) -> Result<Box<RawValue>, DbError> {
    RawValue::from_string(json)
        .map_err(|e| DbError::Failed(format!("PostgreSQL's JSON did not parse: {e}").into()))
}
