//! The captured OTLP requests of real clients in `tests/fixtures/otlp/`, for tests and benchmarks
//! only: compiled under `cfg(test)` or the `test-support` feature (which the crate's own tests and
//! benchmarks turn on), never into the release binary.
//!
//! Each fixture is a body exactly as its client sent it, the headers it was sent with, and what it
//! holds as `tests/fixtures/otlp/INDEX.md` counts it. Those counts were decoded independently of
//! this project's code, and this is the one place that reads them: every test asserts against
//! `Fixture::counts` rather than keeping its own copy.

use bytes::Bytes;
use serde::de::DeserializeOwned;
use std::path::{Path, PathBuf};

pub struct Fixture {
    /// `client/NNN_v1_signal`, e.g. `node_otel/002_v1_traces`.
    pub name: String,
    /// URL path it was posted to, e.g. `/v1/traces`.
    pub path: String,
    pub content_type: Option<String>,
    pub content_encoding: Option<String>,
    pub body: Bytes,
    /// What the request holds, from INDEX.md.
    pub counts: Counts,
}

/// The "counts" column of INDEX.md: what one request holds (zero for what its signal cannot hold).
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Counts {
    pub spans: usize,
    pub events: usize,
    pub links: usize,
    pub log_records: usize,
    pub metrics: usize,
    pub data_points: usize,
}

impl Fixture {
    /// The request message, decoded as the server decodes it: Content-Encoding undone, then protobuf
    /// or JSON by Content-Type. Panics with the fixture's name when that fails: for tests.
    pub fn decode<M>(&self) -> M
    where
        M: prost::Message + Default + DeserializeOwned,
    {
        use crate::decode::{self, budget::Budget};
        let decoded = decode::encoding_of(self.content_type.as_deref()).and_then(|encoding| {
            let raw = decode::decompress(
                self.content_encoding.as_deref(),
                self.body.clone(),
                1 << 30,
                &mut Budget::new(1 << 30).charge(),
            )?;
            decode::decode_message(encoding, &raw)
        });
        decoded.unwrap_or_else(|e| panic!("{}: {e}", self.name))
    }
}

/// `tests/fixtures/otlp/` of this repository.
pub fn fixtures_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/otlp")
}

/// Every fixture posted to `/v1/{signal}` (`traces`, `logs`, `metrics`), in name order.
/// Panics with a clear message when the fixtures or their INDEX.md rows are missing: tests must not
/// pass on nothing.
pub fn load(signal: &str) -> Vec<Fixture> {
    let dir = fixtures_dir();
    let index = read_index(&dir);
    let suffix = format!("_v1_{signal}.bin");
    let mut fixtures = Vec::new();
    let clients =
        std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("fixtures at {}: {e}", dir.display()));
    for client in clients.flatten().filter(|entry| entry.path().is_dir()) {
        for file in std::fs::read_dir(client.path())
            .into_iter()
            .flatten()
            .flatten()
        {
            let file_name = file.file_name().to_string_lossy().into_owned();
            if !file_name.ends_with(&suffix) {
                continue;
            }
            let name = format!(
                "{}/{}",
                client.file_name().to_string_lossy(),
                file_name.trim_end_matches(".bin")
            );
            let counts = *index
                .iter()
                .find_map(|(indexed, counts)| (*indexed == name).then_some(counts))
                .unwrap_or_else(|| panic!("{name} has no row in INDEX.md"));
            fixtures.push(read_fixture(&file.path(), name, counts));
        }
    }
    fixtures.sort_by(|a, b| a.name.cmp(&b.name));
    assert!(
        !fixtures.is_empty(),
        "no *{suffix} fixtures under {}",
        dir.display()
    );
    fixtures
}

/// The fixture named `client/NNN_v1_signal`; panics if there is none.
pub fn find(name: &str) -> Fixture {
    let signal = name.rsplit('_').next().unwrap_or_default();
    load(signal)
        .into_iter()
        .find(|fixture| fixture.name == name)
        .unwrap_or_else(|| panic!("fixture {name} is missing"))
}

fn read_fixture(body_path: &Path, name: String, counts: Counts) -> Fixture {
    let meta_path = body_path.with_extension("json");
    let body = std::fs::read(body_path).unwrap_or_else(|e| panic!("{}: {e}", body_path.display()));
    let meta: serde_json::Value = std::fs::read(&meta_path)
        .ok()
        .and_then(|bytes| serde_json::from_slice(&bytes).ok())
        .unwrap_or_else(|| panic!("{}: missing or not JSON", meta_path.display()));
    let header = |wanted: &str| -> Option<String> {
        meta["headers"].as_array()?.iter().find_map(|pair| {
            let pair = pair.as_array()?;
            (pair.first()?.as_str()?.eq_ignore_ascii_case(wanted))
                .then(|| pair.get(1)?.as_str().map(String::from))?
        })
    };
    Fixture {
        name,
        path: meta["path"].as_str().unwrap_or("/").to_string(),
        content_type: header("content-type"),
        content_encoding: header("content-encoding"),
        body: Bytes::from(body),
        counts,
    }
}

/// INDEX.md's rows as (`client/NNN_v1_signal`, counts). Its tables sit under a `## client` heading
/// each; a row is `| NNN_v1_signal.bin | signal | content-type | encoding | bytes | counts | ...`.
fn read_index(dir: &Path) -> Vec<(String, Counts)> {
    let path = dir.join("INDEX.md");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut client = "";
    let mut rows = Vec::new();
    for line in text.lines() {
        if let Some(heading) = line.strip_prefix("## ") {
            client = heading.trim();
            continue;
        }
        let cells: Vec<&str> = line.split('|').map(str::trim).collect();
        let Some(file) = cells.get(1).and_then(|cell| cell.strip_suffix(".bin")) else {
            continue;
        };
        let counts = cells
            .get(6)
            .unwrap_or_else(|| panic!("INDEX.md row of {file} has no counts"));
        rows.push((format!("{client}/{file}"), parse_counts(counts)));
    }
    rows
}

/// `3 spans, 2 events, 0 links` / `5 log records` / `4 metrics, 12 data points`.
fn parse_counts(text: &str) -> Counts {
    let mut counts = Counts::default();
    for part in text.split(',').map(str::trim) {
        let (number, what) = part
            .split_once(' ')
            .unwrap_or_else(|| panic!("INDEX.md counts {text:?}"));
        let number: usize = number
            .parse()
            .unwrap_or_else(|_| panic!("INDEX.md counts {text:?}"));
        let field = match what {
            "spans" => &mut counts.spans,
            "events" => &mut counts.events,
            "links" => &mut counts.links,
            "log records" => &mut counts.log_records,
            "metrics" => &mut counts.metrics,
            "data points" => &mut counts.data_points,
            _ => panic!("INDEX.md counts {text:?}: unknown {what:?}"),
        };
        *field = number;
    }
    counts
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn index_counts_are_read_for_every_signal() {
        let claude = find("cli_claude/001_v1_traces");
        assert_eq!(
            claude.counts,
            Counts {
                spans: 3,
                events: 2,
                ..Counts::default()
            }
        );
        assert_eq!(
            find("cli_codex/003_v1_logs").counts.log_records,
            17,
            "a logs row"
        );
        let metrics = find("cli_gemini/003_v1_metrics").counts;
        assert_eq!((metrics.metrics, metrics.data_points), (8, 21));
        // 18 traces, 8 logs and 11 metrics requests: all 37 captured requests have a row.
        let loaded: Vec<usize> = ["traces", "logs", "metrics"]
            .map(|signal| load(signal).len())
            .to_vec();
        assert_eq!(loaded, [18, 8, 11]);
    }
}
