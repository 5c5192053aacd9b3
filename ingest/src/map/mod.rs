//! Map: OTLP request messages -> rows of the extension's tables, one module per signal.
//!
//! - `keys`: where each column's value is looked for, the attribute keys of every dialect;
//! - `spans`: spans -> `agent_spans` rows;
//! - `logs`: log records -> `agent_logs` rows;
//! - `metrics`: data points -> `agent_metrics` rows;
//! - `scores`: evaluation events (`gen_ai.evaluation.result`, a log record or a span event) ->
//!   `agent_scores` rows, derived beside the record's or span's own row;
//! - `attrs`: how an attribute value becomes a column value, for all three;
//! - `json`: attribute values as JSON text, written into one buffer per request (spans' JSON
//!   columns);
//! - `content_key`: the dedupe ids of log records and metric series, hashed from their content;
//! - `redact`: what is kept of content (keep, drop, keyed hash), per server and per project.
//!
//! - `own`: what a request's rows get beyond what the request says: their project, their
//!   redaction.
//!
//! A request's rows are mapped from the request alone (`map_request` of each signal), then
//! `own::own` gives them what the request does not say (`own::Context`).
//!
//! Pure functions of the request: no I/O, no clock, no database, no configuration. Whatever a client
//! sends, mapping never fails as a whole: an item that cannot be stored is `Rejected` alone, with a
//! reason the client gets back in `partial_success`.

mod attrs;
mod content_key;
pub mod json;
mod keys;
pub mod logs;
pub mod metrics;
pub mod own;
pub mod redact;
pub mod scores;
pub mod spans;

/// The project of what arrives without one: agent_trace.projects' project 1, `default`.
pub const DEFAULT_PROJECT: i32 = 1;

/// The rows of one export request, and the items that could not become rows.
#[derive(Debug)]
pub struct Mapped<R> {
    pub rows: Vec<R>,
    pub rejected: Vec<Rejected>,
    /// The scores its evaluation events carry (`scores`), rows of their own beside `rows`.
    pub scores: Vec<scores::ScoreRow>,
    /// Evaluation events that carry no usable score: their record or span is in `rows` all the
    /// same, so these are warnings, not rejections.
    pub skipped_scores: Vec<Rejected>,
}

impl<R> Default for Mapped<R> {
    fn default() -> Self {
        Self {
            rows: Vec::new(),
            rejected: Vec::new(),
            scores: Vec::new(),
            skipped_scores: Vec::new(),
        }
    }
}

/// A span, log record or data point that was not stored (or a score not derived), and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejected {
    pub reason: String,
}
