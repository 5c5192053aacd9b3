//! The ids of log records and metric series, which OTLP does not give them: a hash of their content,
//! so a retried request, also one re-sent as JSON instead of protobuf, stores nothing twice.
//!
//! These bytes are stored (`agent_logs.record_key`, `agent_metrics.series_key`): a change here
//! makes a record sent before an upgrade and retried after it count twice. Tests pin known keys.

use opentelemetry_proto::tonic::common::v1::KeyValue;
use prost::Message;
use sha2::{Digest, Sha256};

/// The first 16 bytes (as many as a uuid holds) of SHA-256 over `domain`, then each part with its
/// length before it, so no two lists of parts hash the same bytes. `domain` keeps the keys of two
/// tables apart by construction.
pub(crate) fn content_key(domain: &[u8], parts: &[&[u8]]) -> [u8; 16] {
    let mut hasher = Sha256::new();
    hasher.update(domain);
    for part in parts {
        hasher.update((part.len() as u64).to_le_bytes());
        hasher.update(part);
    }
    let digest = hasher.finalize();
    let mut key = [0u8; 16];
    key.copy_from_slice(&digest[..16]);
    key
}

/// The parts as one byte string, each with its length before it (the framing of `content_key`).
pub(crate) fn length_prefixed<'a>(parts: impl IntoIterator<Item = &'a [u8]>) -> Vec<u8> {
    let mut bytes = Vec::new();
    for part in parts {
        bytes.extend_from_slice(&(part.len() as u64).to_le_bytes());
        bytes.extend_from_slice(part);
    }
    bytes
}

/// Attributes as bytes that do not depend on their order: each KeyValue's protobuf encoding,
/// length-prefixed, sorted. A client that lists them in another order next time means the same.
pub(crate) fn canonical_attributes(attributes: &[KeyValue]) -> Vec<u8> {
    let mut encoded: Vec<Vec<u8>> = attributes.iter().map(Message::encode_to_vec).collect();
    encoded.sort_unstable();
    length_prefixed(encoded.iter().map(Vec::as_slice))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures;
    use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
    use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;

    fn hex(bytes: &[u8]) -> String {
        bytes.iter().map(|b| format!("{b:02x}")).collect()
    }

    /// The keys of every captured logs and metrics request, as release 0.2.0 computed them (before
    /// this module existed): a line `signal name key,key,...` per request, hashed. Keys that change
    /// would make a record sent before an upgrade and retried after it count twice.
    #[test]
    fn keys_are_those_release_0_2_0_stored() {
        let mut lines = String::new();
        for fixture in fixtures::load("logs") {
            let request: ExportLogsServiceRequest = fixture.decode();
            let keys: Vec<String> = super::super::logs::map_request(&request)
                .rows
                .iter()
                .map(|row| hex(&row.record_key))
                .collect();
            lines.push_str(&format!("logs {} {}\n", fixture.name, keys.join(",")));
        }
        for fixture in fixtures::load("metrics") {
            let request: ExportMetricsServiceRequest = fixture.decode();
            let keys: Vec<String> = super::super::metrics::map_request(&request)
                .rows
                .iter()
                .map(|row| hex(&row.series_key))
                .collect();
            lines.push_str(&format!("metrics {} {}\n", fixture.name, keys.join(",")));
        }
        assert!(lines.starts_with(
            "logs cli_claude/002_v1_logs c1da9fef91821c7707253280fa59d761,60c6a659ee6fa376f6a03a4599aa5254,"
        ));
        let digest = Sha256::digest(lines.as_bytes());
        assert_eq!(hex(&digest[..16]), "f5d3143b2145c6d6980c9a5d44ddc7c2");
    }
}
