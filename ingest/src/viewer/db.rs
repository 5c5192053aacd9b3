//! The viewer's own connection pool, read-only: every connection runs `sql/viewer/connection.sql`
//! (the search path pinned to pg_catalog, read-only transactions, UTC, a fresh plan per query) and,
//! when the login is a superuser, switches to `agent_trace_reader`. Queries come back as JSON text that PostgreSQL rendered (`rows_as_json.sql`),
//! so numerics keep their digits and ids print as the extension prints them.

use super::queries::{Param, Query};
use crate::postgres::Password;
use deadpool_postgres::{Hook, HookError, Manager, ManagerConfig, Pool, RecyclingMethod, Runtime};
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

/// Connections: a few, since a page asks for its queries one after another and live streams hold
/// one only while they poll.
const POOL_SIZE: usize = 4;
/// How long a request waits for a free connection before it is answered 503.
const CONNECTION_WAIT: Duration = Duration::from_secs(10);

#[derive(Clone)]
pub struct Db {
    pool: Pool,
}

/// Why a query gave no answer, by what the caller should be told.
#[derive(Debug)]
pub enum DbError {
    /// PostgreSQL refused a value of the request (a malformed id, time or interval): 400.
    BadInput(String),
    /// No connection, or it broke: 503.
    Unavailable(String),
    /// Anything else: 500.
    Failed(String),
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
            // Class 22, data exception: PostgreSQL could not take a value as its type.
            Some(db) if db.code().code().starts_with("22") => {
                DbError::BadInput(db.message().to_string())
            }
            Some(db) => DbError::Failed(db.message().to_string()),
            None => DbError::Unavailable(error.to_string()),
        }
    }
}

impl Db {
    /// Builds the pool and checks, on one connection, that it can read the extension's tables.
    pub async fn connect(database_url: &str, password: Option<&Password>) -> Result<Self, String> {
        // Read as libpq reads it, TLS included, as the ingest's (crate::postgres).
        let target = crate::postgres::target(database_url, password.map(|p| p.0.as_str()))
            .map_err(|e| format!("invalid viewer database URL: {e}"))?;
        let manager = Manager::from_config(
            target.config,
            target.tls,
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
            .map_err(|e| format!("viewer connection pool: {e}"))?;
        // One connection now, so that a wrong URL or missing privileges show at start.
        let client = pool
            .get()
            .await
            .map_err(|e| format!("the viewer cannot connect to PostgreSQL: {e}"))?;
        let may_read = client
            .query_one(super::queries::CAN_READ.sql, &[])
            .await
            .map(|row| row.get::<_, Option<bool>>(0) == Some(true))
            .unwrap_or(false);
        if !may_read {
            return Err(
                "the viewer's login role may not read agent_trace's tables and functions: grant it \
                 agent_trace_reader, or give the viewer a reader's login with --viewer-database-url"
                    .to_string(),
            );
        }
        if as_reader.load(Ordering::Relaxed) {
            tracing::warn!(
                "the viewer's login is a superuser: it reads as agent_trace_reader (the projects \
                 granted to that role), in read-only transactions. Give the viewer a login of its own \
                 (--viewer-database-url) that is a member of agent_trace_reader."
            );
        } else {
            tracing::info!("the viewer reads as its login, in read-only transactions");
        }
        Ok(Self { pool })
    }

    /// The query's rows as a JSON array of objects.
    pub async fn rows(&self, query: &Query, params: &[Param]) -> Result<Box<RawValue>, DbError> {
        let json = self
            .one_text(&wrap(ROWS_AS_JSON_SQL, query), params)
            .await?
            .unwrap_or_else(|| "[]".to_string());
        raw(json)
    }

    /// The query's one row as a JSON object; None when it has none.
    pub async fn row(
        &self,
        query: &Query,
        params: &[Param],
    ) -> Result<Option<Box<RawValue>>, DbError> {
        match self.one_text(&wrap(ROW_AS_JSON_SQL, query), params).await? {
            Some(json) => raw(json).map(Some),
            None => Ok(None),
        }
    }

    /// The first column of the query's first row, as text; None when there is no row or the value is
    /// NULL.
    pub async fn text(&self, query: &Query, params: &[Param]) -> Result<Option<String>, DbError> {
        self.one_text(query.sql, params).await
    }

    async fn one_text(&self, sql: &str, params: &[Param]) -> Result<Option<String>, DbError> {
        let client = self.client().await?;
        let statement = client.prepare_cached(sql).await?;
        let values = bind(params);
        let row = client.query_opt(&statement, &values).await?;
        Ok(row.and_then(|row| row.get::<_, Option<String>>(0)))
    }

    async fn client(&self) -> Result<deadpool_postgres::Client, DbError> {
        self.pool
            .get()
            .await
            .map_err(|e| DbError::Unavailable(e.to_string()))
    }
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
        .map_err(|e| DbError::Failed(format!("PostgreSQL's JSON did not parse: {e}")))
}
