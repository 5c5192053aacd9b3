//! OTLP's protobuf wire format, walked without decoding, guided by a map of where each message of
//! the three signals holds strings and sub-messages (`fields`). Two uses, both pure:
//!
//! - `decode_lossy`, a second chance for protobuf requests with invalid UTF-8 in a string. prost
//!   refuses a whole message when one string field is not UTF-8, which would cost every span, log
//!   record or data point of the request for one bad attribute. The walk copies the request with
//!   every string field rewritten lossily (invalid sequences become U+FFFD, its length re-encoded);
//!   every other field is copied byte for byte. prost then decodes the copy strictly, so the
//!   request comes out exactly as a valid one would, bad bytes aside: no field is lost, and a log
//!   record's dedupe key is that of the same record re-sent as OTLP/JSON, which is read lossily
//!   too. It is used only after the normal decode failed, so well-formed requests never pay for it.
//! - `decoded_size_bound`: how much memory the request can take once decoded, from its bytes, so
//!   the memory budget is charged before anything is allocated (`budget.rs`).

use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use prost::Message;
use std::mem::size_of;

/// A request message the walk understands: where its strings and sub-messages are.
pub trait Lenient: Message + Default {
    const MESSAGE: Kind;
}

impl Lenient for ExportTraceServiceRequest {
    const MESSAGE: Kind = Kind::TracesRequest;
}

impl Lenient for ExportLogsServiceRequest {
    const MESSAGE: Kind = Kind::LogsRequest;
}

impl Lenient for ExportMetricsServiceRequest {
    const MESSAGE: Kind = Kind::MetricsRequest;
}

/// Decodes a protobuf request, reading strings lossily; None if it is malformed otherwise.
pub fn decode_lossy<M: Lenient>(bytes: &[u8]) -> Option<M> {
    let mut repaired = Vec::with_capacity(bytes.len());
    repair(bytes, M::MESSAGE, 0, &mut repaired)?;
    M::decode(repaired.as_slice()).ok()
}

/// An upper bound of the memory a protobuf request of `M` takes once decoded: every element of a
/// repeated message field at twice its struct's size (a vector can hold twice what it uses), a
/// singular sub-message at nothing more than its contents (its struct is inside its parent's),
/// every string at its length plus 8 (the least an allocation takes), and every other length-delimited field (ids, bytes, packed numbers,
/// which widen to 8 bytes each) at 8 bytes per byte sent. None if the bytes are not protobuf (the
/// decoder then refuses them anyway).
pub fn decoded_size_bound<M: Lenient>(bytes: &[u8]) -> Option<usize> {
    let mut total = 2 * struct_size(M::MESSAGE);
    size(bytes, M::MESSAGE, 0, &mut total)?;
    Some(total)
}

/// The OTLP messages that hold strings, directly or in a message below them. A message without
/// any (a histogram's buckets, a summary's quantiles) is copied as it is, like any other field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    TracesRequest,
    ResourceSpans,
    ScopeSpans,
    Span,
    SpanEvent,
    SpanLink,
    SpanStatus,
    LogsRequest,
    ResourceLogs,
    ScopeLogs,
    LogRecord,
    MetricsRequest,
    ResourceMetrics,
    ScopeMetrics,
    Metric,
    /// Gauge and Sum, whose field 1 is their number points.
    NumberPoints,
    Histogram,
    ExponentialHistogram,
    Summary,
    NumberDataPoint,
    HistogramDataPoint,
    ExponentialHistogramDataPoint,
    SummaryDataPoint,
    Exemplar,
    Resource,
    EntityRef,
    Scope,
    KeyValue,
    AnyValue,
    /// ArrayValue and KeyValueList: their elements are field 1.
    ArrayValue,
    KeyValueList,
}

/// What a field of an OTLP message holds. Repeated fields (a `Vec` in the decoded struct) and
/// singular ones (inside the struct already) take memory differently.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Field {
    /// A string.
    Text,
    /// A repeated string.
    Texts,
    /// A message held inside its parent's struct (an `Option`, or a `oneof` variant).
    One(Kind),
    /// A repeated message.
    Many(Kind),
}

/// The string and message fields of each message, by field number, as in opentelemetry-proto's
/// .proto files (field numbers never change in protobuf, so this stays right across versions; a
/// field added later with a string in it would only miss the repair and keep today's 400, and
/// its size is bounded as unknown bytes are).
fn fields(kind: Kind) -> &'static [(u64, Field)] {
    use Field::{Many, One, Text, Texts};
    match kind {
        Kind::TracesRequest => &[(1, Many(Kind::ResourceSpans))],
        Kind::ResourceSpans => &[
            (1, One(Kind::Resource)),
            (2, Many(Kind::ScopeSpans)),
            (3, Text),
        ],
        Kind::ScopeSpans => &[(1, One(Kind::Scope)), (2, Many(Kind::Span)), (3, Text)],
        // trace_state, name, attributes, events, links, status.
        Kind::Span => &[
            (3, Text),
            (5, Text),
            (9, Many(Kind::KeyValue)),
            (11, Many(Kind::SpanEvent)),
            (13, Many(Kind::SpanLink)),
            (15, One(Kind::SpanStatus)),
        ],
        Kind::SpanEvent => &[(2, Text), (3, Many(Kind::KeyValue))],
        Kind::SpanLink => &[(3, Text), (4, Many(Kind::KeyValue))],
        Kind::SpanStatus => &[(2, Text)],
        Kind::LogsRequest => &[(1, Many(Kind::ResourceLogs))],
        Kind::ResourceLogs => &[
            (1, One(Kind::Resource)),
            (2, Many(Kind::ScopeLogs)),
            (3, Text),
        ],
        Kind::ScopeLogs => &[(1, One(Kind::Scope)), (2, Many(Kind::LogRecord)), (3, Text)],
        // severity_text, body, attributes, event_name.
        Kind::LogRecord => &[
            (3, Text),
            (5, One(Kind::AnyValue)),
            (6, Many(Kind::KeyValue)),
            (12, Text),
        ],
        Kind::MetricsRequest => &[(1, Many(Kind::ResourceMetrics))],
        Kind::ResourceMetrics => &[
            (1, One(Kind::Resource)),
            (2, Many(Kind::ScopeMetrics)),
            (3, Text),
        ],
        Kind::ScopeMetrics => &[(1, One(Kind::Scope)), (2, Many(Kind::Metric)), (3, Text)],
        // name, description, unit, the five kinds of data (one oneof), metadata.
        Kind::Metric => &[
            (1, Text),
            (2, Text),
            (3, Text),
            (5, One(Kind::NumberPoints)),
            (7, One(Kind::NumberPoints)),
            (9, One(Kind::Histogram)),
            (10, One(Kind::ExponentialHistogram)),
            (11, One(Kind::Summary)),
            (12, Many(Kind::KeyValue)),
        ],
        Kind::NumberPoints => &[(1, Many(Kind::NumberDataPoint))],
        Kind::Histogram => &[(1, Many(Kind::HistogramDataPoint))],
        Kind::ExponentialHistogram => &[(1, Many(Kind::ExponentialHistogramDataPoint))],
        Kind::Summary => &[(1, Many(Kind::SummaryDataPoint))],
        // Each kind of point has its attributes and exemplars at its own field numbers.
        Kind::NumberDataPoint => &[(5, Many(Kind::Exemplar)), (7, Many(Kind::KeyValue))],
        Kind::HistogramDataPoint => &[(8, Many(Kind::Exemplar)), (9, Many(Kind::KeyValue))],
        Kind::ExponentialHistogramDataPoint => {
            &[(1, Many(Kind::KeyValue)), (11, Many(Kind::Exemplar))]
        }
        Kind::SummaryDataPoint => &[(7, Many(Kind::KeyValue))],
        Kind::Exemplar => &[(7, Many(Kind::KeyValue))],
        // attributes, entity_refs.
        Kind::Resource => &[(1, Many(Kind::KeyValue)), (3, Many(Kind::EntityRef))],
        // schema_url, type, id_keys, description_keys.
        Kind::EntityRef => &[(1, Text), (2, Text), (3, Texts), (4, Texts)],
        Kind::Scope => &[(1, Text), (2, Text), (3, Many(Kind::KeyValue))],
        Kind::KeyValue => &[(1, Text), (2, One(Kind::AnyValue))],
        // string_value, array_value, kvlist_value.
        Kind::AnyValue => &[
            (1, Text),
            (5, One(Kind::ArrayValue)),
            (6, One(Kind::KeyValueList)),
        ],
        Kind::ArrayValue => &[(1, Many(Kind::AnyValue))],
        Kind::KeyValueList => &[(1, Many(Kind::KeyValue))],
    }
}

/// The size of the Rust struct prost decodes a `kind` message into (the largest, for kinds that
/// stand for several).
fn struct_size(kind: Kind) -> usize {
    use opentelemetry_proto::tonic::{collector, trace::v1 as trace};
    use opentelemetry_proto::tonic::{common::v1 as common, logs::v1 as logs};
    use opentelemetry_proto::tonic::{metrics::v1 as metrics, resource::v1 as resource};
    match kind {
        Kind::TracesRequest => size_of::<collector::trace::v1::ExportTraceServiceRequest>(),
        Kind::ResourceSpans => size_of::<trace::ResourceSpans>(),
        Kind::ScopeSpans => size_of::<trace::ScopeSpans>(),
        Kind::Span => size_of::<trace::Span>(),
        Kind::SpanEvent => size_of::<trace::span::Event>(),
        Kind::SpanLink => size_of::<trace::span::Link>(),
        Kind::SpanStatus => size_of::<trace::Status>(),
        Kind::LogsRequest => size_of::<collector::logs::v1::ExportLogsServiceRequest>(),
        Kind::ResourceLogs => size_of::<logs::ResourceLogs>(),
        Kind::ScopeLogs => size_of::<logs::ScopeLogs>(),
        Kind::LogRecord => size_of::<logs::LogRecord>(),
        Kind::MetricsRequest => size_of::<collector::metrics::v1::ExportMetricsServiceRequest>(),
        Kind::ResourceMetrics => size_of::<metrics::ResourceMetrics>(),
        Kind::ScopeMetrics => size_of::<metrics::ScopeMetrics>(),
        Kind::Metric => size_of::<metrics::Metric>(),
        Kind::NumberPoints => size_of::<metrics::Sum>().max(size_of::<metrics::Gauge>()),
        Kind::Histogram => size_of::<metrics::Histogram>(),
        Kind::ExponentialHistogram => size_of::<metrics::ExponentialHistogram>(),
        Kind::Summary => size_of::<metrics::Summary>(),
        Kind::NumberDataPoint => size_of::<metrics::NumberDataPoint>(),
        Kind::HistogramDataPoint => size_of::<metrics::HistogramDataPoint>(),
        Kind::ExponentialHistogramDataPoint => size_of::<metrics::ExponentialHistogramDataPoint>(),
        Kind::SummaryDataPoint => size_of::<metrics::SummaryDataPoint>(),
        Kind::Exemplar => size_of::<metrics::Exemplar>(),
        Kind::Resource => size_of::<resource::Resource>(),
        Kind::EntityRef => size_of::<common::EntityRef>(),
        Kind::Scope => size_of::<common::InstrumentationScope>(),
        Kind::KeyValue => size_of::<common::KeyValue>(),
        Kind::AnyValue => size_of::<common::AnyValue>(),
        Kind::ArrayValue => size_of::<common::ArrayValue>(),
        Kind::KeyValueList => size_of::<common::KeyValueList>(),
    }
}

/// The largest struct of any OTLP message: the bound for a message whose kind is not known.
pub(crate) fn largest_struct_size() -> usize {
    use Kind::*;
    [
        TracesRequest,
        ResourceSpans,
        ScopeSpans,
        Span,
        SpanEvent,
        SpanLink,
        SpanStatus,
        LogsRequest,
        ResourceLogs,
        ScopeLogs,
        LogRecord,
        MetricsRequest,
        ResourceMetrics,
        ScopeMetrics,
        Metric,
        NumberPoints,
        Histogram,
        ExponentialHistogram,
        Summary,
        NumberDataPoint,
        HistogramDataPoint,
        ExponentialHistogramDataPoint,
        SummaryDataPoint,
        Exemplar,
        Resource,
        EntityRef,
        Scope,
        KeyValue,
        AnyValue,
        ArrayValue,
        KeyValueList,
    ]
    .into_iter()
    .map(struct_size)
    .max()
    .unwrap_or_default()
}

/// prost's own limit on nested messages: deeper input is refused rather than walked, so a request
/// of nested arrays cannot exhaust the stack.
const MAX_DEPTH: u32 = 100;

/// Appends `input`, a `kind` message, to `out` with its string fields (and those of the messages in
/// it) made valid UTF-8. None if `input` is not protobuf.
fn repair(input: &[u8], kind: Kind, depth: u32, out: &mut Vec<u8>) -> Option<()> {
    if depth > MAX_DEPTH {
        return None;
    }
    let mut rest = input;
    while !rest.is_empty() {
        let field_start = rest;
        let (key, value) = next_field(&mut rest)?;
        let field = fields(kind)
            .iter()
            .find(|(number, _)| *number == key >> 3)
            .map(|(_, field)| *field);
        match field {
            Some(Field::Text | Field::Texts) if key & 7 == 2 => {
                prost::encoding::encode_varint(key, out);
                let text = String::from_utf8_lossy(value);
                prost::encoding::encode_varint(text.len() as u64, out);
                out.extend_from_slice(text.as_bytes());
            }
            Some(Field::One(inner) | Field::Many(inner)) if key & 7 == 2 => {
                let mut message = Vec::with_capacity(value.len());
                repair(value, inner, depth + 1, &mut message)?;
                prost::encoding::encode_varint(key, out);
                prost::encoding::encode_varint(message.len() as u64, out);
                out.extend_from_slice(&message);
            }
            // Anything else, including a known field sent with the wrong wire type, which the
            // strict decoder then refuses as it would have anyway: copied as it came.
            _ => out.extend_from_slice(&field_start[..field_start.len() - rest.len()]),
        }
    }
    Some(())
}

/// Adds to `total` the decoded size of the fields of `input`, a `kind` message (see
/// `decoded_size_bound`). None if `input` is not protobuf.
fn size(input: &[u8], kind: Kind, depth: u32, total: &mut usize) -> Option<()> {
    if depth > MAX_DEPTH {
        return None;
    }
    let mut rest = input;
    while !rest.is_empty() {
        let (key, value) = next_field(&mut rest)?;
        let field = fields(kind)
            .iter()
            .find(|(number, _)| *number == key >> 3)
            .map(|(_, field)| *field);
        let added = match field {
            _ if key & 7 != 2 => 0, // a number: inside its message's struct
            // A string's allocation: its length, and at least 8 bytes.
            Some(Field::Text) => value.len() + 8,
            Some(Field::Texts) => 2 * size_of::<String>() + value.len() + 8,
            Some(Field::One(inner)) => {
                size(value, inner, depth + 1, total)?;
                0
            }
            Some(Field::Many(inner)) => {
                size(value, inner, depth + 1, total)?;
                2 * struct_size(inner)
            }
            None => 8 * value.len(),
        };
        *total = total.saturating_add(added);
    }
    Some(())
}

/// Splits the next field off `rest`: its key (field number << 3 | wire type) and its value (the
/// payload of a length-delimited field, else the bytes of the number). None if it is not protobuf.
fn next_field<'a>(rest: &mut &'a [u8]) -> Option<(u64, &'a [u8])> {
    let key = prost::encoding::decode_varint(rest).ok()?;
    let before_value = *rest;
    let length = match key & 7 {
        0 => {
            prost::encoding::decode_varint(rest).ok()?;
            before_value.len() - rest.len()
        }
        1 => 8,
        5 => 4,
        2 => usize::try_from(prost::encoding::decode_varint(rest).ok()?).ok()?,
        // Groups (3, 4) are not in OTLP; 6 and 7 are no wire type.
        _ => return None,
    };
    if key & 7 == 0 {
        return Some((key, &before_value[..length]));
    }
    let (value, after) = rest.split_at_checked(length)?;
    *rest = after;
    Some((key, value))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decode::{Encoding, decompress, encoding_of};
    use crate::fixtures;
    use opentelemetry_proto::tonic::common::v1::any_value::Value as Any;
    use opentelemetry_proto::tonic::common::v1::{
        AnyValue, ArrayValue, EntityRef, InstrumentationScope, KeyValue, KeyValueList,
    };
    use opentelemetry_proto::tonic::logs::v1::{LogRecord, ResourceLogs, ScopeLogs};
    use opentelemetry_proto::tonic::metrics::v1::{
        Exemplar, ExponentialHistogram, ExponentialHistogramDataPoint, Gauge, Histogram,
        HistogramDataPoint, Metric, NumberDataPoint, ResourceMetrics, ScopeMetrics, Sum, Summary,
        SummaryDataPoint, metric::Data,
    };
    use opentelemetry_proto::tonic::resource::v1::Resource;
    use opentelemetry_proto::tonic::trace::v1::span::{Event, Link};
    use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Span, Status};
    use serde::de::DeserializeOwned;

    /// Every captured protobuf request of the signal, decoded both ways.
    fn same_as_strict<M: Lenient + DeserializeOwned + PartialEq + std::fmt::Debug>(signal: &str) {
        let mut protobuf = 0;
        let mut charge = crate::decode::budget::Budget::new(1 << 30).charge();
        for fixture in fixtures::load(signal) {
            if encoding_of(fixture.content_type.as_deref()).unwrap() != Encoding::Protobuf {
                continue;
            }
            let raw = decompress(
                fixture.content_encoding.as_deref(),
                fixture.body,
                64 << 20,
                &mut charge,
            )
            .unwrap();
            let strict = M::decode(raw.as_ref()).unwrap();
            assert_eq!(decode_lossy::<M>(&raw), Some(strict), "{}", fixture.name);
            protobuf += 1;
        }
        assert!(protobuf > 0, "no protobuf {signal} fixture");
    }

    #[test]
    fn reads_every_captured_protobuf_request_like_the_strict_decoder() {
        same_as_strict::<ExportTraceServiceRequest>("traces");
        same_as_strict::<ExportLogsServiceRequest>("logs");
        same_as_strict::<ExportMetricsServiceRequest>("metrics");
    }

    // A request of each signal with `text` in every string field OTLP has. Written with "@@", whose
    // bytes are then made invalid UTF-8 (same length, so the framing stays valid), it must decode
    // lossily to the same request written with U+FFFD: a string field missing from `fields` would
    // fail the strict decode after the repair.

    const MARK: &str = "@@";
    /// What `\xff\xfe` reads as: each byte is invalid on its own.
    const REPLACED: &str = "\u{FFFD}\u{FFFD}";

    fn string(text: &str) -> AnyValue {
        AnyValue {
            value: Some(Any::StringValue(text.into())),
        }
    }

    fn attributes(text: &str) -> Vec<KeyValue> {
        let kv = |key: String, value: AnyValue| KeyValue {
            key,
            value: Some(value),
            ..Default::default()
        };
        vec![
            kv(format!("key{text}"), string(text)),
            kv(
                "array".into(),
                AnyValue {
                    value: Some(Any::ArrayValue(ArrayValue {
                        values: vec![string(text), string("fine")],
                    })),
                },
            ),
            kv(
                "kvlist".into(),
                AnyValue {
                    value: Some(Any::KvlistValue(KeyValueList {
                        values: vec![kv(text.into(), string(text))],
                    })),
                },
            ),
        ]
    }

    fn resource(text: &str) -> Option<Resource> {
        Some(Resource {
            attributes: attributes(text),
            dropped_attributes_count: 1,
            entity_refs: vec![EntityRef {
                schema_url: text.into(),
                r#type: text.into(),
                id_keys: vec![text.into(), "id".into()],
                description_keys: vec![text.into()],
            }],
        })
    }

    fn scope(text: &str) -> Option<InstrumentationScope> {
        Some(InstrumentationScope {
            name: text.into(),
            version: text.into(),
            attributes: attributes(text),
            dropped_attributes_count: 2,
        })
    }

    fn traces(text: &str) -> ExportTraceServiceRequest {
        ExportTraceServiceRequest {
            resource_spans: vec![ResourceSpans {
                resource: resource(text),
                scope_spans: vec![ScopeSpans {
                    scope: scope(text),
                    spans: vec![Span {
                        trace_id: vec![1; 16],
                        span_id: vec![2; 8],
                        trace_state: text.into(),
                        name: text.into(),
                        start_time_unix_nano: 3,
                        attributes: attributes(text),
                        events: vec![Event {
                            time_unix_nano: 4,
                            name: text.into(),
                            attributes: attributes(text),
                            dropped_attributes_count: 5,
                        }],
                        links: vec![Link {
                            trace_id: vec![6; 16],
                            span_id: vec![7; 8],
                            trace_state: text.into(),
                            attributes: attributes(text),
                            ..Default::default()
                        }],
                        status: Some(Status {
                            message: text.into(),
                            code: 2,
                        }),
                        ..Default::default()
                    }],
                    schema_url: text.into(),
                }],
                schema_url: text.into(),
            }],
        }
    }

    fn logs(text: &str) -> ExportLogsServiceRequest {
        ExportLogsServiceRequest {
            resource_logs: vec![ResourceLogs {
                resource: resource(text),
                scope_logs: vec![ScopeLogs {
                    scope: scope(text),
                    log_records: vec![LogRecord {
                        time_unix_nano: 1,
                        severity_number: 9,
                        severity_text: text.into(),
                        body: Some(string(text)),
                        attributes: attributes(text),
                        trace_id: vec![1; 16],
                        span_id: vec![2; 8],
                        event_name: text.into(),
                        ..Default::default()
                    }],
                    schema_url: text.into(),
                }],
                schema_url: text.into(),
            }],
        }
    }

    fn metrics(text: &str) -> ExportMetricsServiceRequest {
        let exemplars = vec![Exemplar {
            filtered_attributes: attributes(text),
            time_unix_nano: 1,
            span_id: vec![2; 8],
            trace_id: vec![1; 16],
            ..Default::default()
        }];
        let number = NumberDataPoint {
            attributes: attributes(text),
            time_unix_nano: 1,
            exemplars: exemplars.clone(),
            ..Default::default()
        };
        let metric = |data: Data| Metric {
            name: text.into(),
            description: text.into(),
            unit: text.into(),
            metadata: attributes(text),
            data: Some(data),
        };
        ExportMetricsServiceRequest {
            resource_metrics: vec![ResourceMetrics {
                resource: resource(text),
                scope_metrics: vec![ScopeMetrics {
                    scope: scope(text),
                    metrics: vec![
                        metric(Data::Gauge(Gauge {
                            data_points: vec![number.clone()],
                        })),
                        metric(Data::Sum(Sum {
                            data_points: vec![number],
                            aggregation_temporality: 2,
                            is_monotonic: true,
                        })),
                        metric(Data::Histogram(Histogram {
                            data_points: vec![HistogramDataPoint {
                                attributes: attributes(text),
                                time_unix_nano: 1,
                                count: 2,
                                bucket_counts: vec![1, 1],
                                explicit_bounds: vec![0.5],
                                exemplars: exemplars.clone(),
                                ..Default::default()
                            }],
                            aggregation_temporality: 1,
                        })),
                        metric(Data::ExponentialHistogram(ExponentialHistogram {
                            data_points: vec![ExponentialHistogramDataPoint {
                                attributes: attributes(text),
                                time_unix_nano: 1,
                                exemplars,
                                ..Default::default()
                            }],
                            aggregation_temporality: 1,
                        })),
                        metric(Data::Summary(Summary {
                            data_points: vec![SummaryDataPoint {
                                attributes: attributes(text),
                                time_unix_nano: 1,
                                ..Default::default()
                            }],
                        })),
                    ],
                    schema_url: text.into(),
                }],
                schema_url: text.into(),
            }],
        }
    }

    /// `request(MARK)` with every mark made invalid UTF-8 decodes lossily to `request(REPLACED)`.
    fn every_string_is_repaired<M: Lenient + PartialEq + std::fmt::Debug>(request: fn(&str) -> M) {
        let mut bytes = request(MARK).encode_to_vec();
        let mut marks = 0;
        while let Some(at) = bytes.windows(2).position(|w| w == MARK.as_bytes()) {
            bytes[at..at + 2].copy_from_slice(b"\xff\xfe");
            marks += 1;
        }
        assert!(marks > 20, "{marks} marks");
        assert!(
            M::decode(bytes.as_slice()).is_err(),
            "the strict decoder refuses it"
        );
        assert_eq!(decode_lossy::<M>(&bytes), Some(request(REPLACED)));
    }

    #[test]
    fn invalid_utf8_in_any_string_becomes_replacement_characters() {
        every_string_is_repaired(traces);
        every_string_is_repaired(logs);
        every_string_is_repaired(metrics);
    }

    #[test]
    fn what_is_not_protobuf_stays_refused() {
        assert_eq!(
            decode_lossy::<ExportTraceServiceRequest>(b"\xff\xff\xff"),
            None
        );
        assert_eq!(
            decode_lossy::<ExportLogsServiceRequest>(b"\x0a\x05ab"),
            None,
            "short"
        );
        // A group (wire type 3) is no OTLP field.
        assert_eq!(
            decode_lossy::<ExportMetricsServiceRequest>(b"\x0b\x0c"),
            None
        );
        // Arrays nested deeper than prost allows: refused, not walked until the stack ends.
        let nested = |depth: usize| {
            let mut value = string("\u{FFFD}").encode_to_vec();
            for _ in 0..depth {
                let field = |number: u8, bytes: &[u8]| {
                    let mut out = vec![number << 3 | 2];
                    prost::encoding::encode_varint(bytes.len() as u64, &mut out);
                    out.extend_from_slice(bytes);
                    out
                };
                value = field(5, &field(1, &value));
            }
            value
        };
        let mut out = Vec::new();
        assert_eq!(repair(&nested(40), Kind::AnyValue, 0, &mut out), Some(()));
        assert_eq!(repair(&nested(1_000), Kind::AnyValue, 0, &mut out), None);
    }
}
