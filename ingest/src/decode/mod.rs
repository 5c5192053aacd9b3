//! Request bodies -> request messages, and messages -> response bodies, for both transports (a gRPC
//! message is a protobuf body). Pure: only the memory it allocates is held against the budget
//! (`budget`). The same for the three signals (`decode_request` is generic over the request type),
//! including a second, lossy protobuf decoder for invalid UTF-8 (`wire`).
//!
//! What the receiver accepts is `docs/otlp-server-contract.md`: protobuf or JSON
//! chosen by `Content-Type` (parameters allowed), identity or gzip `Content-Encoding`, a cap on the
//! body and a second cap while inflating (a small gzip bomb must not allocate gigabytes), and an
//! empty body as an empty request. Replies use the request's encoding.

pub mod budget;
pub mod wire;

use budget::{Charge, ChargedBuffer, Exhausted};
use bytes::Bytes;
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::io::Read;
use wire::Lenient;

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
    /// No Content-Type at all: 415 (OTLP clients always send one; a web page's `fetch` without
    /// one needs no CORS preflight, so a body without one is not taken as protobuf).
    MissingMediaType,
    /// A Content-Encoding other than identity or gzip: 415.
    UnsupportedEncoding(String),
    /// The body, or what it inflates to, is larger than the limit (bytes): 413.
    TooLarge { limit: usize },
    /// The bytes are not a valid request in the declared encoding: 400.
    Malformed(String),
    /// The memory budget cannot take the request's next step now: 429, retry later; or ever: 413.
    OverBudget(Exhausted),
}

impl From<Exhausted> for DecodeError {
    fn from(exhausted: Exhausted) -> Self {
        DecodeError::OverBudget(exhausted)
    }
}

impl DecodeError {
    pub fn http_status(&self) -> u16 {
        match self {
            DecodeError::UnsupportedMediaType(_)
            | DecodeError::MissingMediaType
            | DecodeError::UnsupportedEncoding(_) => 415,
            DecodeError::TooLarge { .. } => 413,
            DecodeError::Malformed(_) => 400,
            DecodeError::OverBudget(exhausted) if exhausted.never_fits() => 413,
            DecodeError::OverBudget(_) => 429,
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
            DecodeError::MissingMediaType => write!(
                f,
                "no Content-Type: send application/x-protobuf or application/json"
            ),
            DecodeError::UnsupportedEncoding(found) => {
                write!(
                    f,
                    "unsupported Content-Encoding {found:?}: send gzip or no encoding"
                )
            }
            DecodeError::TooLarge { limit } => write!(f, "request body larger than {limit} bytes"),
            DecodeError::Malformed(why) => write!(f, "malformed request: {why}"),
            DecodeError::OverBudget(exhausted) => write!(f, "{exhausted}"),
        }
    }
}

/// The encoding named by a Content-Type header. A missing one is refused: OTLP clients always
/// send one, and a body without one is what a web page can send anywhere without asking first.
pub fn encoding_of(content_type: Option<&str>) -> Result<Encoding, DecodeError> {
    let Some(value) = content_type else {
        return Err(DecodeError::MissingMediaType);
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

/// The body with its Content-Encoding undone, refusing to produce more than `limit` bytes; what it
/// inflates to is held against the budget as it grows, so a request inflating to the limit takes
/// memory only while the budget has it.
pub fn decompress(
    content_encoding: Option<&str>,
    body: Bytes,
    limit: usize,
    charge: &mut Charge,
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
            let mut gzip = flate2::read::MultiGzDecoder::new(body.as_ref());
            let mut inflated = ChargedBuffer::default();
            let mut chunk = vec![0; 64 << 10];
            loop {
                let read = gzip
                    .read(&mut chunk)
                    .map_err(|e| DecodeError::Malformed(format!("gzip: {e}")))?;
                if read == 0 {
                    return Ok(inflated.into_bytes());
                }
                if inflated.len() + read > limit {
                    return Err(DecodeError::TooLarge { limit });
                }
                inflated.extend(&chunk[..read], limit, charge)?;
            }
        }
        _ => Err(DecodeError::UnsupportedEncoding(
            content_encoding.unwrap_or_default().to_string(),
        )),
    }
}

/// An upper bound of the memory that decoding `bytes` as an `M` request takes (see
/// `wire::decoded_size_bound` for protobuf). OTLP/JSON holds a message per object, so every `{`
/// outside a string is counted as the largest message (twice: vectors), and the text twice more,
/// for its strings (which grow by doubling as they are unescaped) and for the copy that invalid
/// UTF-8 makes.
pub fn decoded_size_bound<M: Lenient>(encoding: Encoding, bytes: &[u8]) -> usize {
    match encoding {
        Encoding::Protobuf => wire::decoded_size_bound::<M>(bytes).unwrap_or(bytes.len()),
        Encoding::Json => json_objects(bytes)
            .saturating_mul(2 * wire::largest_struct_size())
            .saturating_add(2 * bytes.len()),
    }
}

/// How many JSON objects a text opens (`{` outside strings).
fn json_objects(text: &[u8]) -> usize {
    let (mut objects, mut in_string, mut escaped) = (0usize, false, false);
    for &byte in text {
        match (in_string, escaped, byte) {
            (true, true, _) => escaped = false,
            (true, false, b'\\') => escaped = true,
            (true, false, b'"') => in_string = false,
            (false, _, b'"') => in_string = true,
            (false, _, b'{') => objects += 1,
            _ => {}
        }
    }
    objects
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
/// is read again with every string decoded lossily (`wire.rs`), so one bad value costs no span,
/// log record or data point; JSON is read lossily to begin with (`decode_message`).
pub fn decode_request<M>(encoding: Encoding, bytes: &[u8]) -> Result<M, DecodeError>
where
    M: Lenient + DeserializeOwned,
{
    match decode_message(encoding, bytes) {
        Err(error) if encoding == Encoding::Protobuf => wire::decode_lossy(bytes).ok_or(error),
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
        assert_eq!(encoding_of(None), Err(DecodeError::MissingMediaType));
        assert_eq!(encoding_of(None).unwrap_err().http_status(), 415);
        assert_eq!(
            encoding_of(Some("text/plain")).unwrap_err().http_status(),
            415
        );
    }

    /// Room for anything: the budget is tested on its own below.
    fn charge() -> Charge {
        super::budget::Budget::new(1 << 30).charge()
    }

    #[test]
    fn gzip_is_capped_while_inflating() {
        let bomb = gzip(&vec![0u8; 10_000_000]);
        assert!(bomb.len() < 20_000);
        assert_eq!(
            decompress(Some("gzip"), bomb.clone(), 1_000_000, &mut charge()),
            Err(DecodeError::TooLarge { limit: 1_000_000 })
        );
        assert_eq!(
            decompress(Some("gzip"), bomb, 10_000_000, &mut charge())
                .unwrap()
                .len(),
            10_000_000
        );
        assert_eq!(
            decompress(None, Bytes::from_static(b"abc"), 2, &mut charge()),
            Err(DecodeError::TooLarge { limit: 2 })
        );
        assert_eq!(
            decompress(Some("br"), Bytes::new(), 2, &mut charge())
                .unwrap_err()
                .http_status(),
            415
        );
        assert_eq!(
            decompress(
                Some("gzip"),
                Bytes::from_static(b"not gzip"),
                100,
                &mut charge()
            )
            .unwrap_err()
            .http_status(),
            400
        );
    }

    /// What a request inflates to is held against the budget while it inflates: a gzip bomb
    /// within the size limit still stops when the budget is spent.
    #[test]
    fn inflating_stops_when_the_budget_is_spent() {
        let bomb = gzip(&vec![0u8; 10_000_000]);
        let budget = super::budget::Budget::new(32 << 20);
        let mut others = budget.charge();
        others.grow(24 << 20).unwrap();
        let mut charge = budget.charge();
        let error = decompress(Some("gzip"), bomb.clone(), 32 << 20, &mut charge).unwrap_err();
        assert_eq!(error.http_status(), 429, "retryable: {error}");
        assert!(charge.bytes() <= 8 << 20);
        drop((charge, others));
        assert_eq!(budget.in_use(), 0);
        let mut charge = super::budget::Budget::new(32 << 20).charge();
        let inflated = decompress(Some("gzip"), bomb, 64 << 20, &mut charge).unwrap();
        assert_eq!(inflated.len(), 10_000_000);
        assert!(charge.bytes() >= 10_000_000 && charge.bytes() <= 2 * 10_000_000);
    }

    /// The bound is above what a decoded request really takes, for the captured requests in both
    /// encodings and for the worst shapes: empty attributes (2 bytes each on the wire) and empty
    /// JSON objects.
    #[test]
    fn decoded_size_bounds_hold() {
        use crate::fixtures;
        use opentelemetry_proto::tonic::common::v1::KeyValue;
        use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Span};
        for fixture in fixtures::load("traces") {
            let encoding = encoding_of(fixture.content_type.as_deref()).unwrap();
            let raw = decompress(
                fixture.content_encoding.as_deref(),
                fixture.body.clone(),
                64 << 20,
                &mut charge(),
            )
            .unwrap();
            let request: ExportTraceServiceRequest = decode_request(encoding, &raw).unwrap();
            let bound = decoded_size_bound::<ExportTraceServiceRequest>(encoding, &raw);
            let decoded = heap_size(&request);
            assert!(
                bound >= decoded,
                "{}: bound {bound} < {decoded}",
                fixture.name
            );
        }
        let empty_attributes = ExportTraceServiceRequest {
            resource_spans: vec![ResourceSpans {
                scope_spans: vec![ScopeSpans {
                    spans: vec![Span {
                        attributes: vec![KeyValue::default(); 100_000],
                        ..Default::default()
                    }],
                    ..Default::default()
                }],
                ..Default::default()
            }],
        };
        let wire = prost::Message::encode_to_vec(&empty_attributes);
        assert!(wire.len() < 300_000, "2 bytes an attribute");
        let bound = decoded_size_bound::<ExportTraceServiceRequest>(Encoding::Protobuf, &wire);
        assert!(bound >= heap_size(&empty_attributes));
        let json = format!(
            r#"{{"resourceSpans":[{{"scopeSpans":[{{"spans":[{}]}}]}}]}}"#,
            vec!["{}"; 50_000].join(",")
        );
        let request: ExportTraceServiceRequest =
            decode_request(Encoding::Json, json.as_bytes()).unwrap();
        let bound =
            decoded_size_bound::<ExportTraceServiceRequest>(Encoding::Json, json.as_bytes());
        assert!(bound >= heap_size(&request));
        assert_eq!(
            json_objects(br#"{"a":"{\"}","b":{}}"#),
            2,
            "braces in strings do not count"
        );
    }

    /// The memory a decoded traces request takes: its structs (vectors at their capacity) and
    /// strings, counted the long way.
    fn heap_size(request: &ExportTraceServiceRequest) -> usize {
        use opentelemetry_proto::tonic::common::v1::{AnyValue, KeyValue, any_value};
        use opentelemetry_proto::tonic::trace::v1::Span;
        use std::mem::size_of_val;
        fn any_size(value: &AnyValue) -> usize {
            match &value.value {
                Some(any_value::Value::StringValue(s)) => s.capacity(),
                Some(any_value::Value::BytesValue(b)) => b.capacity(),
                Some(any_value::Value::ArrayValue(a)) => {
                    a.values.capacity() * size_of::<AnyValue>()
                        + a.values.iter().map(any_size).sum::<usize>()
                }
                Some(any_value::Value::KvlistValue(l)) => attributes(&l.values),
                _ => 0,
            }
        }
        fn attributes(list: &Vec<KeyValue>) -> usize {
            list.capacity() * size_of::<KeyValue>()
                + list
                    .iter()
                    .map(|kv| kv.key.capacity() + kv.value.as_ref().map_or(0, any_size))
                    .sum::<usize>()
        }
        use std::mem::size_of;
        let mut total = size_of_val(request);
        for resource in &request.resource_spans {
            total += size_of_val(resource) + resource.schema_url.capacity();
            if let Some(r) = &resource.resource {
                total += attributes(&r.attributes);
            }
            for scope in &resource.scope_spans {
                total += size_of_val(scope) + scope.schema_url.capacity();
                if let Some(s) = &scope.scope {
                    total += s.name.capacity() + s.version.capacity() + attributes(&s.attributes);
                }
                total += scope.spans.capacity() * size_of::<Span>();
                for span in &scope.spans {
                    total += span.trace_id.capacity()
                        + span.span_id.capacity()
                        + span.parent_span_id.capacity()
                        + span.trace_state.capacity()
                        + span.name.capacity()
                        + attributes(&span.attributes);
                    for event in &span.events {
                        total += size_of_val(event)
                            + event.name.capacity()
                            + attributes(&event.attributes);
                    }
                    for link in &span.links {
                        total += size_of_val(link)
                            + link.trace_id.capacity()
                            + link.span_id.capacity()
                            + link.trace_state.capacity()
                            + attributes(&link.attributes);
                    }
                    if let Some(status) = &span.status {
                        total += status.message.capacity();
                    }
                }
            }
        }
        total
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
            code: tonic::Code::Unavailable as i32,
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
