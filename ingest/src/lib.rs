//! agent-trace: receives OpenTelemetry OTLP and writes it into PostgreSQL (schema `agent_trace`).
//!
//! One data path, one file per stage:
//!
//! ```text
//! OTLP bytes --decode--> request --map--> span rows --write--> COPY, INSERT .. ON CONFLICT, COMMIT --> 200
//!            (pure)              (pure)              (I/O)
//! ```
//!
//! `cluster` runs the embedded default PostgreSQL; `fixtures` loads the captured real requests.

pub mod cluster;
pub mod decode;
pub mod export;
pub mod fixtures;
pub mod grpc;
pub mod lenient;
pub mod map;
pub mod server;
pub mod write;
