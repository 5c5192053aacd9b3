//! agent-trace: receives OpenTelemetry OTLP and writes it into PostgreSQL (schema `agent_trace`).
//!
//! One data path, one file per stage:
//!
//! ```text
//! OTLP bytes --decode--> request --map--> rows --write--> COPY, INSERT .. ON CONFLICT, COMMIT --> 200
//!            (pure)              (pure)         (I/O)
//! ```
//!
//! One path for the three signals: `map` (spans), `map_logs` (log records) and `map_metrics`
//! (metric data points) each turn a request into rows; `export` runs a request through map and write
//! whatever the transport (`server` for OTLP/HTTP, `grpc` for OTLP/gRPC).
//!
//! `cluster` runs the embedded default PostgreSQL; `fixtures` loads the captured real requests.

mod attrs;
pub mod cluster;
pub mod decode;
pub mod export;
pub mod fixtures;
pub mod grpc;
pub mod lenient;
pub mod map;
pub mod map_logs;
pub mod map_metrics;
pub mod prices;
pub mod server;
pub mod setup;
pub mod write;
