//! The captured OTLP requests of real clients in `shared/fixtures/otlp/` (see its INDEX.md), for
//! tests and benchmarks: each is a body exactly as sent plus the headers it was sent with.

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
}

impl Fixture {
    /// The request message, decoded as the server decodes it: Content-Encoding undone, then protobuf
    /// or JSON by Content-Type. Panics with the fixture's name when that fails: for tests.
    pub fn decode<M>(&self) -> M
    where
        M: prost::Message + Default + DeserializeOwned,
    {
        let decoded =
            crate::decode::encoding_of(self.content_type.as_deref()).and_then(|encoding| {
                let raw = crate::decode::decompress(
                    self.content_encoding.as_deref(),
                    self.body.clone(),
                    1 << 30,
                )?;
                crate::decode::decode_message(encoding, &raw)
            });
        decoded.unwrap_or_else(|e| panic!("{}: {e}", self.name))
    }
}

/// `$AGENT_TRACE_FIXTURES`, else `shared/fixtures/otlp` beside the repository (where CI puts it).
pub fn fixtures_dir() -> PathBuf {
    std::env::var_os("AGENT_TRACE_FIXTURES")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/fixtures/otlp"))
}

/// Every fixture posted to `/v1/{signal}` (`traces`, `logs`, `metrics`), in name order.
/// Panics with a clear message when the fixtures are missing: tests must not pass on nothing.
pub fn load(signal: &str) -> Vec<Fixture> {
    let dir = fixtures_dir();
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
            let body_path = file.path();
            let meta_path = body_path.with_extension("json");
            let body = std::fs::read(&body_path)
                .unwrap_or_else(|e| panic!("{}: {e}", body_path.display()));
            let meta: serde_json::Value = std::fs::read(&meta_path)
                .ok()
                .and_then(|bytes| serde_json::from_slice(&bytes).ok())
                .unwrap_or_else(|| panic!("{}: missing or not JSON", meta_path.display()));
            let header = |name: &str| -> Option<String> {
                meta["headers"].as_array()?.iter().find_map(|pair| {
                    let pair = pair.as_array()?;
                    (pair.first()?.as_str()?.eq_ignore_ascii_case(name))
                        .then(|| pair.get(1)?.as_str().map(String::from))?
                })
            };
            fixtures.push(Fixture {
                name: format!(
                    "{}/{}",
                    client.file_name().to_string_lossy(),
                    file_name.trim_end_matches(".bin")
                ),
                path: meta["path"].as_str().unwrap_or("/").to_string(),
                content_type: header("content-type"),
                content_encoding: header("content-encoding"),
                body: Bytes::from(body),
            });
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
