//! Reading agent_trace for the parts that show it (the viewer, the MCP server): a read-only
//! connection pool (`db`) whose rows PostgreSQL renders as JSON, and the statements of
//! `sql/viewer/` (`queries`), each also as psql can run it.
//!
//! What it must not do: write, or put a value from a request into a statement's text: every value
//! is a bind parameter. It knows nothing of HTTP; `crate::server` connects it and hands it to the
//! parts that read.

pub mod db;
pub mod queries;

pub use db::{Db, DbError, Snapshot};
pub use queries::{Param, Query};
