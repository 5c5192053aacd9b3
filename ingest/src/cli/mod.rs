//! Commands besides serving, none of them on the data path:
//!
//! - `up` / `down`: the embedded default, a private PostgreSQL cluster (`cluster`) with the
//!   extension, served into until Ctrl-C;
//! - `prices import`: model prices into `agent_trace.model_prices`;
//! - `projects` and `tokens`: projects, who may read them, and their ingest tokens;
//! - `setup`: the settings that point Claude Code, Gemini CLI or Codex at agent-trace;
//! - `probe`: one GET of a running server's `/ready`, for container healthchecks.
//!
//! They may start processes and write files (the cluster's directory), which the data path never
//! does; they must not change how a request is received, mapped or written (`serve` is the same
//! server whether `up` runs it or not).

pub mod cluster;
pub mod prices;
pub mod probe;
pub mod projects;
pub mod setup;
pub mod up;
