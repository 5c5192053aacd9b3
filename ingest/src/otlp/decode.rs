//! OTLP/HTTP request bodies -> request messages, and messages -> response bodies. Pure. The same
//! for the three signals (`decode_request` is generic over the request type), including a second,
//! lossy protobuf decoder for invalid UTF-8 (`lenient.rs`).
//!
//! What the receiver accepts is `docs/otlp-server-contract.md`: protobuf or JSON
//! chosen by `Content-Type` (parameters allowed), identity or gzip `Content-Encoding`, a cap on the
//! body and a second cap while inflating (a small gzip bomb must not allocate gigabytes), and an
//! empty body as an empty request. Replies use the request's encoding.

use super::lenient::{self, Lenient};
use bytes::Bytes;
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::io::Read;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    Protobuf,
    Json,
}

impl Encoding {
    pub fn content_type(self) -> &'static str {
        match self {
            Encoding::Protobuf => "application/x-protobuf",
            Encoding::Json => "application/json",
        }
    }
}

#[derive(Debug, PartialEq, Eq)]
pub enum DecodeError {
    /// A Content-Type other than protobuf or JSON: 415.
    UnsupportedMediaType(String),
    /// A Content-Encoding other than identity or gzip: 415.
    UnsupportedEncoding(String),
    /// The body, or what it inflates to, is larger than the limit (bytes): 413.
    TooLarge { limit: usize },
    /// The bytes are not a valid request in the declared encoding: 400.
    Malformed(String),
}

impl DecodeError {
    pub fn http_status(&self) -> u16 {
        match self {
            DecodeError::UnsupportedMediaType(_) | DecodeError::UnsupportedEncoding(_) => 415,
            DecodeError::TooLarge { .. } => 413,
            DecodeError::Malformed(_) => 400,
        }
    }
}

impl std::fmt::Display for DecodeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DecodeError::UnsupportedMediaType(found) => write!(
                f,
                "unsupported Content-Type {found:?}: send application/x-protobuf or application/json"
            ),
            DecodeError::UnsupportedEncoding(found) => {
                write!(
                    f,
                    "unsupported Content-Encoding {found:?}: send gzip or no encoding"
                )
            }
            DecodeError::TooLarge { limit } => write!(f, "request body larger than {limit} bytes"),
            DecodeError::Malformed(why) => write!(f, "malformed request: {why}"),
        }
    }
}

/// The encoding named by a Content-Type header; a missing header is protobuf, OTLP's default.
pub fn encoding_of(content_type: Option<&str>) -> Result<Encoding, DecodeError> {
    let Some(value) = content_type else {
        return Ok(Encoding::Protobuf);
    };
    let media_type = value
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    match media_type.as_str() {
        "application/x-protobuf" | "application/protobuf" => Ok(Encoding::Protobuf),
        "application/json" => Ok(Encoding::Json),
        _ => Err(DecodeError::UnsupportedMediaType(value.to_string())),
    }
}

/// The body with its Content-Encoding undone, refusing to produce more than `limit` bytes.
pub fn decompress(
    content_encoding: Option<&str>,
    body: Bytes,
    limit: usize,
) -> Result<Bytes, DecodeError> {
    let encoding = content_encoding
        .map(|e| e.trim().to_ascii_lowercase())
        .unwrap_or_default();
    match encoding.as_str() {
        "" | "identity" => {
            if body.len() > limit {
                return Err(DecodeError::TooLarge { limit });
            }
            Ok(body)
        }
        "gzip" | "x-gzip" => {
            let mut inflated = Vec::with_capacity(body.len().saturating_mul(4).min(limit));
            // Read one byte past the limit to tell "exactly at the limit" from "over it".
            let read = flate2::read::MultiGzDecoder::new(body.as_ref())
                .take(limit as u64 + 1)
                .read_to_end(&mut inflated)
                .map_err(|e| DecodeError::Malformed(format!("gzip: {e}")))?;
            if read > limit {
                return Err(DecodeError::TooLarge { limit });
            }
            Ok(Bytes::from(inflated))
        }
        _ => Err(DecodeError::UnsupportedEncoding(
            content_encoding.unwrap_or_default().to_string(),
        )),
    }
}

/// Decodes a request message; an empty body is an empty request in either encoding.
pub fn decode_message<M>(encoding: Encoding, bytes: &[u8]) -> Result<M, DecodeError>
where
    M: prost::Message + Default + DeserializeOwned,
{
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(M::default());
    }
    match encoding {
        Encoding::Protobuf => {
            M::decode(bytes).map_err(|e| DecodeError::Malformed(format!("protobuf: {e}")))
        }
        // Invalid UTF-8 is read as U+FFFD rather than costing the whole request (no copy when valid).
        Encoding::Json => serde_json::from_str(&String::from_utf8_lossy(bytes))
            .map_err(|e| DecodeError::Malformed(format!("JSON: {e}"))),
    }
}

/// An export request of any signal. A protobuf one that prost refuses for invalid UTF-8 in a string
/// is read again with every string decoded lossily (`lenient.rs`), so one bad value costs no span,
/// log record or data point; JSON is read lossily to begin with (`decode_message`).
pub fn decode_request<M>(encoding: Encoding, bytes: &[u8]) -> Result<M, DecodeError>
where
    M: Lenient + DeserializeOwned,
{
    match decode_message(encoding, bytes) {
        Err(error) if encoding == Encoding::Protobuf => lenient::decode_lossy(bytes).ok_or(error),
        decoded => decoded,
    }
}

/// Encodes a response message in the request's encoding.
pub fn encode_message<M>(encoding: Encoding, message: &M) -> Vec<u8>
where
    M: prost::Message + Serialize,
{
    match encoding {
        Encoding::Protobuf => message.encode_to_vec(),
        // Serialising these generated types cannot fail: no maps with non-string keys, no I/O.
        Encoding::Json => serde_json::to_vec(message).unwrap_or_default(),
    }
}

/// `google.rpc.Status`, the body of every non-2xx OTLP/HTTP response. (`details` is never sent.)
#[derive(Clone, PartialEq, prost::Message, Serialize, serde::Deserialize)]
pub struct Status {
    #[prost(int32, tag = "1")]
    pub code: i32,
    #[prost(string, tag = "2")]
    pub message: String,
}

/// gRPC status codes used in `Status.code`.
pub mod grpc_code {
    pub const INVALID_ARGUMENT: i32 = 3;
    pub const DEADLINE_EXCEEDED: i32 = 4;
    pub const RESOURCE_EXHAUSTED: i32 = 8;
    pub const UNAUTHENTICATED: i32 = 16;
    pub const UNAVAILABLE: i32 = 14;
    pub const UNIMPLEMENTED: i32 = 12;
}

#[cfg(test)]
mod tests {
    use super::*;
    use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
    use std::io::Write;

    fn gzip(bytes: &[u8]) -> Bytes {
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        encoder.write_all(bytes).unwrap();
        Bytes::from(encoder.finish().unwrap())
    }

    #[test]
    fn content_type_parameters_and_case_are_accepted() {
        assert_eq!(
            encoding_of(Some("application/json; charset=utf-8")),
            Ok(Encoding::Json)
        );
        assert_eq!(
            encoding_of(Some("Application/X-Protobuf")),
            Ok(Encoding::Protobuf)
        );
        assert_eq!(encoding_of(None), Ok(Encoding::Protobuf));
        assert_eq!(
            encoding_of(Some("text/plain")).unwrap_err().http_status(),
            415
        );
    }

    #[test]
    fn gzip_is_capped_while_inflating() {
        let bomb = gzip(&vec![0u8; 10_000_000]);
        assert!(bomb.len() < 20_000);
        assert_eq!(
            decompress(Some("gzip"), bomb.clone(), 1_000_000),
            Err(DecodeError::TooLarge { limit: 1_000_000 })
        );
        assert_eq!(
            decompress(Some("gzip"), bomb, 10_000_000).unwrap().len(),
            10_000_000
        );
        assert_eq!(
            decompress(None, Bytes::from_static(b"abc"), 2),
            Err(DecodeError::TooLarge { limit: 2 })
        );
        assert_eq!(
            decompress(Some("br"), Bytes::new(), 2)
                .unwrap_err()
                .http_status(),
            415
        );
        assert_eq!(
            decompress(Some("gzip"), Bytes::from_static(b"not gzip"), 100)
                .unwrap_err()
                .http_status(),
            400
        );
    }

    #[test]
    fn empty_bodies_are_empty_requests() {
        for encoding in [Encoding::Protobuf, Encoding::Json] {
            let request: ExportTraceServiceRequest = decode_message(encoding, b"").unwrap();
            assert!(request.resource_spans.is_empty());
        }
        let request: ExportTraceServiceRequest = decode_message(Encoding::Json, b"{}").unwrap();
        assert!(request.resource_spans.is_empty());
        let request: ExportTraceServiceRequest =
            decode_message(Encoding::Json, br#"{"resourceSpans":[]}"#).unwrap();
        assert!(request.resource_spans.is_empty());
    }

    #[test]
    fn empty_logs_and_metrics_requests() {
        use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
        use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
        for body in [&b""[..], b"{}", b" \n"] {
            let logs: ExportLogsServiceRequest = decode_message(Encoding::Json, body).unwrap();
            assert!(logs.resource_logs.is_empty());
            let metrics: ExportMetricsServiceRequest =
                decode_message(Encoding::Json, body).unwrap();
            assert!(metrics.resource_metrics.is_empty());
        }
        let error =
            decode_message::<ExportLogsServiceRequest>(Encoding::Json, b"{\"resourceLogs\": 7}")
                .unwrap_err();
        assert_eq!(error.http_status(), 400);
    }

    #[test]
    fn garbage_is_malformed() {
        let error =
            decode_message::<ExportTraceServiceRequest>(Encoding::Json, b"{\"resourceSpans\": 7}")
                .unwrap_err();
        assert_eq!(error.http_status(), 400);
        let error =
            decode_message::<ExportTraceServiceRequest>(Encoding::Protobuf, b"\xff\xff\xff")
                .unwrap_err();
        assert_eq!(error.http_status(), 400);
    }

    #[test]
    fn status_encodes_in_both_encodings() {
        let status = Status {
            code: grpc_code::UNAVAILABLE,
            message: "database unavailable".into(),
        };
        let json: serde_json::Value =
            serde_json::from_slice(&encode_message(Encoding::Json, &status)).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"code": 14, "message": "database unavailable"})
        );
        let decoded = <Status as prost::Message>::decode(
            encode_message(Encoding::Protobuf, &status).as_slice(),
        )
        .unwrap();
        assert_eq!(decoded, status);
    }
}
