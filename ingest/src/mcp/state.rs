//! What the MCP server's tools share (the read pool, the writer of scores, the limits), who called
//! (put into each request by the token check), and how a tool's failure reads.

use crate::auth::Bearer;
use crate::read::{Db, DbError};
use futures_util::future::BoxFuture;
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Semaphore;

/// How `serve` runs the MCP server.
#[derive(Debug, Clone)]
pub struct McpConfig {
    /// The database it reads, e.g. with a login that has only agent_trace_reader; None: the
    /// ingest's database URL.
    pub database_url: Option<String>,
    /// How long a statement of the query tool may run.
    pub sql_timeout: Duration,
    /// The most rows the query tool answers with.
    pub sql_max_rows: usize,
}

impl McpConfig {
    pub const DEFAULT_SQL_TIMEOUT: Duration = Duration::from_secs(5);
    pub const DEFAULT_SQL_MAX_ROWS: usize = 200;
}

impl Default for McpConfig {
    fn default() -> Self {
        Self {
            database_url: None,
            sql_timeout: Self::DEFAULT_SQL_TIMEOUT,
            sql_max_rows: Self::DEFAULT_SQL_MAX_ROWS,
        }
    }
}

/// A score the add_score tool stores, into `project` (its name), which the tool chose.
#[derive(Debug, Clone)]
pub struct NewScore {
    pub trace_id: String,
    pub span_id: Option<String>,
    pub name: String,
    pub value: Option<f64>,
    pub label: Option<String>,
    pub explanation: Option<String>,
    pub source: Option<String>,
    pub scorer: Option<String>,
    pub project: String,
}

/// Why a score was not stored.
#[derive(Debug)]
pub enum ScoreRefusal {
    /// The database refused it: its message and SQLSTATE.
    Refused { message: String, sqlstate: String },
    /// Nothing stored; try again later.
    Unavailable(String),
}

/// Stores a score and gives back its key: the writer's, handed over by `crate::server`.
pub type ScoreWriter =
    Arc<dyn Fn(NewScore) -> BoxFuture<'static, Result<String, ScoreRefusal>> + Send + Sync>;

/// What a tool call failed with, as the caller sees it: `{"error": ..., "sqlstate": ...}`.
#[derive(Debug)]
pub struct ToolError {
    message: String,
    sqlstate: Option<String>,
}

impl ToolError {
    pub fn new(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            sqlstate: None,
        }
    }

    pub fn with_sqlstate(mut self, sqlstate: &str) -> Self {
        self.sqlstate = Some(sqlstate.to_string());
        self
    }

    /// PostgreSQL's words and SQLSTATE; without the database, only that it is away (the details
    /// go to the log).
    pub fn from_db(error: DbError) -> Self {
        match error {
            DbError::BadInput(failure) | DbError::Failed(failure) => Self {
                message: failure.message,
                sqlstate: failure.sqlstate,
            },
            DbError::Unavailable(why) => {
                tracing::warn!(target: "agent_trace::mcp", %why, "MCP read: database unavailable");
                Self::new("the database is unavailable; try again")
            }
        }
    }

    pub fn to_json(&self) -> Value {
        match &self.sqlstate {
            Some(sqlstate) => json!({"error": self.message, "sqlstate": sqlstate}),
            None => json!({"error": self.message}),
        }
    }
}

/// Whom the request speaks for: put into the request by `require_token`, read by the tools.
#[derive(Debug, Clone, Copy)]
pub struct Caller(pub Bearer);

/// What every request's tools share.
pub struct State {
    pub db: Db,
    pub scores: ScoreWriter,
    pub config: McpConfig,
    /// Query tool calls that may run at once, each on a connection of its own.
    pub sql_slots: Semaphore,
}
