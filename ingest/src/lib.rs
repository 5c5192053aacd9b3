//! agent-trace: receives OpenTelemetry (OTLP) and writes it into PostgreSQL (schema `agent_trace`).
//!
//! One data path, one folder per stage:
//!
//! ```text
//!  otlp/            decode/           map/                batch/           write/
//!  HTTP or gRPC --> bodies ->   --->  spans, logs,  --->  concurrent --->  COPY (or staging +
//!  the token,       requests          metrics -> rows     requests,        INSERT .. ON CONFLICT),
//!  the limits       (pure)            (pure)              one group        COMMIT  ---> 200 / OK
//! ```
//!
//! - `otlp/`: the transports; bytes in, answers back. No SQL.
//! - `decode/`: bodies -> request messages, invalid UTF-8 repaired, memory budgeted. Pure.
//! - `export.rs`: one export request of any signal through `map` and `batch`; what was rejected.
//! - `map/`: request messages -> table rows. Pure: no I/O, no clock.
//! - `batch/`: group commit: concurrent requests of a signal share a transaction (the batcher that
//!   decides is pure).
//! - `write/`: rows -> PostgreSQL in one transaction per group. The only database I/O of the path.
//!
//! Beside it:
//!
//! - `server/`: the one place where `serve` is assembled: both ports, the operator's endpoints,
//!   the viewer, the MCP server, one stop.
//! - `auth/`: the bearer-token check, shared by OTLP, the operator's endpoints and the viewer,
//!   with wrong tokens counted and slowed down per client address.
//! - `postgres.rs`: how every part reaches PostgreSQL (connection strings, TLS, passwords).
//! - `projects.rs`: which token belongs to which project, how each project redacts (from the
//!   database, read every few seconds).
//! - `observe/`: what the service tells its operator: a log line per request, its own metrics.
//! - `read/`: the read-only pool and statements the viewer and the MCP server each read with.
//! - `viewer/`: the web viewer on the OTLP/HTTP port: it only reads, through the extension's SQL API.
//! - `mcp/`: the MCP server at `/mcp` on the same port: tools that read traces, add scores and run
//!   read-only SQL.
//! - `cli/`: the other commands (`up`/`down` with its private cluster, `prices import`, `setup`).
//! - `fixtures.rs`: the captured requests of real clients, for tests and benchmarks only.
//!
//! `main.rs` is the command line over these. No two folders import each other: `server` imports
//! `otlp`, `viewer`, `mcp` and `write`, `viewer` and `mcp` import `read`, `otlp` imports `decode`,
//! `export` and `batch`, `export` imports `map` and `batch`, `batch` imports `map` and `write`.

pub mod auth;
pub mod batch;
pub mod cli;
pub mod decode;
pub mod export;
#[cfg(any(test, feature = "test-support"))]
pub mod fixtures;
pub mod map;
pub mod mcp;
pub mod observe;
pub mod otlp;
pub mod postgres;
pub mod projects;
pub mod read;
pub mod server;
pub mod viewer;
pub mod write;
