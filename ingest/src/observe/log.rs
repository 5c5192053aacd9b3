//! Where the log goes and how it looks: standard error, one line per event, as text for a terminal
//! or as JSON (one object per line, the event's fields at the top level) for a log pipeline, at the
//! level the operator chose (`--log-level`, `--log-format`).

use std::str::FromStr;
use tracing_subscriber::filter::LevelFilter;

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// `2026-11-29T17:00:00.000000Z  INFO agent_trace::request: request transport="http" ...`
    Text,
    /// `{"timestamp":"...","level":"INFO","target":"agent_trace::request","transport":"http",...}`
    Json,
}

/// The least severe events written: `off`, `error`, `warn`, `info` (default), `debug`, `trace`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Level(LevelFilter);

impl FromStr for Level {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        LevelFilter::from_str(text).map(Level).map_err(|_| {
            format!("unknown log level {text:?}: use off, error, warn, info, debug or trace")
        })
    }
}

impl Default for Level {
    fn default() -> Self {
        Level(LevelFilter::INFO)
    }
}

impl std::fmt::Display for Level {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.to_string().to_lowercase().fmt(f)
    }
}

/// Installs the process's logger; once, at start (a second call changes nothing).
pub fn init(level: Level, format: Format) {
    let builder = tracing_subscriber::fmt()
        .with_max_level(level.0)
        .with_writer(std::io::stderr);
    let _ = match format {
        Format::Text => builder.try_init(),
        Format::Json => builder
            .json()
            .flatten_event(true)
            .with_current_span(false)
            .with_span_list(false)
            .try_init(),
    };
}
