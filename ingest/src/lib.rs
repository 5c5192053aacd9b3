//! agent-trace: receives OpenTelemetry (OTLP) and writes it into PostgreSQL (schema `agent_trace`).
//!
//! One data path, one folder per stage:
//!
//! ```text
//!  otlp/                      export.rs             map/                write/
//!  HTTP or gRPC, auth,  --->  one request of  --->  spans, logs,  ---> COPY (or staging +
//!  limits, decode             any signal            metrics -> rows    INSERT .. ON CONFLICT),
//!  (decode is pure)                                 (pure)             COMMIT  ---> 200 / OK
//! ```
//!
//! - `otlp/`: the transports; bytes in, request messages out, answers back. No SQL.
//! - `export.rs`: one export request of any signal through `map` and `write`; what was rejected.
//! - `map/`: request messages -> table rows. Pure: no I/O, no clock.
//! - `write/`: rows -> PostgreSQL in one transaction per request. The only database I/O of the path.
//! - `observe/`: what the service tells its operator: a log line per request, its own metrics.
//! - `cli/`: the other commands (`up`/`down` with its private cluster, `prices import`, `setup`).
//! - `fixtures.rs`: the captured requests of real clients, for tests and benchmarks only.
//! - `viewer/`: the web viewer on the OTLP/HTTP port, beside the data path: it only reads, through
//!   the extension's SQL API.
//!
//! `main.rs` is the command line over these.

pub mod cli;
pub mod export;
#[cfg(any(test, feature = "test-support"))]
pub mod fixtures;
pub mod map;
pub mod observe;
pub mod otlp;
pub mod viewer;
pub mod write;
