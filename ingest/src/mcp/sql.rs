//! The query tool: one statement someone else wrote, run as the MCP server's login, read-only.
//!
//! Each call has a connection of its own (`read::Db::dedicated`), closed after it whatever the
//! statement did to its session, and runs in this order, in one transaction that is never
//! committed (`sql/mcp/`):
//!
//! 1. `sql_begin.sql`: a read-only transaction, one snapshot;
//! 2. `sql_settings.sql`: the statement and lock timeout, the search path pinned to agent_trace and
//!    pg_catalog, UTC, for this transaction; its SELECT takes the snapshot, after which the
//!    statement can no longer make the transaction read-write;
//! 3. `sql_login.sql`: whether the login, and every role it could SET ROLE to, only reads; if not
//!    the statement is not run (a statement can say RESET ROLE);
//! 4. the statement, parsed alone first with the extended protocol (Parse), which refuses two
//!    statements in one string; then run, and at most `max_rows` rows (and `MAX_ANSWER_BYTES`) of
//!    its answer read, the rest left unread: the connection is closed.
//!
//! A statement that would end or split the transaction (COMMIT, ROLLBACK, SAVEPOINT, PREPARE
//! TRANSACTION ...) is refused before any of this: the transaction is the tool's.

use super::queries;
use super::shape::{self, Cell};
use super::state::ToolError;
use crate::read::{Db, DbError};
use futures_util::{StreamExt, pin_mut};
use serde_json::{Value, json};
use std::time::Duration;
use tokio_postgres::SimpleQueryMessage;

/// The most bytes of rows one answer holds (as JSON), whatever the row cap: a model reads it all.
pub const MAX_ANSWER_BYTES: usize = 256 * 1024;
/// The most characters of one value shown; longer ones are cut, saying how long they were.
pub const MAX_CELL_CHARS: usize = 8_000;
/// Past the statement timeout, how long the tool waits for PostgreSQL to say so before it cancels
/// the statement itself and closes the connection.
const GRACE: Duration = Duration::from_secs(2);

/// The query tool's limits (`--mcp-sql-timeout-ms`, `--mcp-sql-max-rows`).
#[derive(Debug, Clone, Copy)]
pub struct SqlLimits {
    pub timeout: Duration,
    pub max_rows: usize,
}

/// Runs `sql` as the login of `db` under `limits` (`max_rows`: the caller's, at most the
/// server's): `{"columns": [...], "types": [...], "rows": [[...]], "row_count": n,
/// "truncated": bool}`, or why not (PostgreSQL's SQLSTATE when it refused).
pub async fn run(
    db: &Db,
    sql: &str,
    limits: SqlLimits,
    max_rows: usize,
) -> Result<Value, ToolError> {
    if sql.trim().is_empty() {
        return Err(ToolError::new("the statement is empty"));
    }
    if db.login_is_superuser() {
        return Err(ToolError::new(SUPERUSER));
    }
    if shape::controls_transaction(sql) {
        return Err(ToolError::new(
            "transaction control is not run: each call is a read-only transaction of its own, \
             ended by the tool",
        ));
    }
    let (client, task) = db.dedicated().await.map_err(ToolError::from_db)?;
    // Whatever happens below, the connection goes with this call: the statement may have changed
    // its session (SET, advisory locks, prepared statements), and unread rows are left behind.
    let _close = AbortOnDrop(task);
    let cancel = client.cancel_token();
    let work = answer(&client, sql, limits, max_rows.clamp(1, limits.max_rows));
    match tokio::time::timeout(limits.timeout + GRACE, work).await {
        Ok(result) => result,
        Err(_) => {
            db.cancel(cancel).await;
            Err(ToolError::new(format!(
                "the statement ran past the timeout of {} ms and was cancelled",
                limits.timeout.as_millis()
            ))
            .with_sqlstate("57014"))
        }
    }
}

async fn answer(
    client: &tokio_postgres::Client,
    sql: &str,
    limits: SqlLimits,
    max_rows: usize,
) -> Result<Value, ToolError> {
    let database = |error: tokio_postgres::Error| ToolError::from_db(DbError::from(error));
    client
        .batch_execute(queries::SQL_BEGIN.sql)
        .await
        .map_err(database)?;
    let timeout = limits.timeout.as_millis().to_string();
    client
        .query_one(queries::SQL_SETTINGS.sql, &[&timeout])
        .await
        .map_err(database)?;
    let reasons: Vec<String> = client
        .query_one(queries::SQL_LOGIN.sql, &[])
        .await
        .map_err(database)?
        .get(0);
    if !reasons.is_empty() {
        return Err(ToolError::new(more_than_read(&reasons)));
    }
    // Parse alone: the extended protocol takes one statement (42601 for more), and says what the
    // columns are.
    let statement = client.prepare(sql).await.map_err(database)?;
    let columns: Vec<&str> = statement.columns().iter().map(|c| c.name()).collect();
    let types: Vec<&str> = statement
        .columns()
        .iter()
        .map(|c| c.type_().name())
        .collect();
    let cells: Vec<Cell> = types.iter().map(|name| Cell::of_type(name)).collect();
    let messages = client.simple_query_raw(sql).await.map_err(database)?;
    pin_mut!(messages);
    let mut rows = Vec::new();
    let mut bytes = 0;
    let mut truncated = false;
    let mut affected = None;
    while let Some(message) = messages.next().await {
        match message.map_err(database)? {
            SimpleQueryMessage::Row(row) => {
                if rows.len() == max_rows {
                    truncated = true;
                    break;
                }
                let values: Vec<Value> = (0..row.len())
                    .map(|i| {
                        let cell = cells.get(i).copied().unwrap_or(Cell::Text);
                        cell.render(row.get(i), MAX_CELL_CHARS)
                    })
                    .collect();
                let value = Value::Array(values);
                bytes += value.to_string().len();
                if bytes > MAX_ANSWER_BYTES {
                    truncated = true;
                    break;
                }
                rows.push(value);
            }
            SimpleQueryMessage::CommandComplete(count) => affected = Some(count),
            _ => {}
        }
    }
    let mut answer = json!({
        "columns": columns,
        "types": types,
        "row_count": rows.len(),
        "rows": rows,
        "truncated": truncated,
    });
    if truncated {
        answer["limit"] = json!(format!(
            "at most {max_rows} rows and {MAX_ANSWER_BYTES} bytes of rows: narrow the query, \
             aggregate, or page with ORDER BY ... LIMIT/OFFSET"
        ));
    } else if columns.is_empty()
        && let Some(count) = affected
    {
        answer["rows_affected"] = json!(count);
    }
    Ok(answer)
}

const SUPERUSER: &str = "the query tool is off: the MCP server's login is a superuser, and a \
                         statement could RESET ROLE and act as one. Give the server a login that is \
                         a member of agent_trace_reader (--viewer-database-url; docs/mcp.md)";

fn more_than_read(reasons: &[String]) -> String {
    format!(
        "the query tool is off: the MCP server's login could do more than read ({}), and a \
         statement could RESET ROLE or SET ROLE to use it. Give the server a login that is only a \
         member of agent_trace_reader or agent_trace_usage_reader (docs/mcp.md)",
        reasons.join("; ")
    )
}

/// Why the query tool would refuse to run SQL as `db`'s login, if it would (for the log at start:
/// each call checks again, as roles change).
pub async fn why_off(db: &Db) -> Result<Option<String>, ToolError> {
    if db.login_is_superuser() {
        return Ok(Some(SUPERUSER.to_string()));
    }
    let (client, task) = db.dedicated().await.map_err(ToolError::from_db)?;
    let _close = AbortOnDrop(task);
    let database = |error: tokio_postgres::Error| ToolError::from_db(DbError::from(error));
    client
        .batch_execute(queries::SQL_BEGIN.sql)
        .await
        .map_err(database)?;
    let reasons: Vec<String> = client
        .query_one(queries::SQL_LOGIN.sql, &[])
        .await
        .map_err(database)?
        .get(0);
    Ok((!reasons.is_empty()).then(|| more_than_read(&reasons)))
}

/// Aborts the connection's task when dropped, which closes the connection.
struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}
