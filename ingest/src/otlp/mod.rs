//! OTLP in: the two transports, from a client's bytes to the answer that says what was committed.
//!
//! - `http`: OTLP/HTTP (`POST /v1/traces`, `/v1/logs`, `/v1/metrics`), protobuf or JSON;
//! - `grpc`: OTLP/gRPC (the three `Export` methods);
//! - `intake`: what both share once a request arrived: the token check, the body read under the
//!   memory budget (`crate::decode::budget`), the CPU-heavy steps off the async workers, the
//!   reasons to refuse (`Refusal`);
//! - `limits`: every limit of both transports, one struct, one flag each.
//!
//! A request is decoded (`crate::decode`), mapped (`crate::map`) and written (`crate::write`)
//! through `crate::export`, and answered with what that committed. This folder speaks HTTP and
//! gRPC and must not look into rows or SQL. `crate::server` puts the two transports on their ports.

pub mod grpc;
pub mod http;
pub mod intake;
mod limits;

pub use limits::Limits;
