//! A second chance for protobuf trace requests with invalid UTF-8 in a string.
//!
//! prost refuses a whole message when one string field is not UTF-8, which would cost every span of
//! the request for one bad attribute. These are the same messages (same field numbers, declared with
//! prost's derive) with every string field read as bytes; `decode_traces_lossy` decodes with them and
//! converts to the opentelemetry-proto types, replacing invalid sequences with U+FFFD. It is used only
//! after the normal decode failed, so well-formed requests never pay for it. Fields the mapping does
//! not read (schema URLs, entity refs) are left out and skipped like any unknown field.

use opentelemetry_proto::tonic::collector::trace::v1 as collector;
use opentelemetry_proto::tonic::common::v1 as common;
use opentelemetry_proto::tonic::resource::v1 as resource;
use opentelemetry_proto::tonic::trace::v1 as trace;
use prost::Message;

/// Decodes a protobuf trace request, reading strings lossily; None if it is malformed otherwise.
pub fn decode_traces_lossy(bytes: &[u8]) -> Option<collector::ExportTraceServiceRequest> {
    let request = Request::decode(bytes).ok()?;
    Some(collector::ExportTraceServiceRequest {
        resource_spans: request
            .resource_spans
            .into_iter()
            .map(ResourceSpans::into_otlp)
            .collect(),
    })
}

fn text(bytes: Vec<u8>) -> String {
    match String::from_utf8(bytes) {
        Ok(text) => text,
        Err(error) => String::from_utf8_lossy(error.as_bytes()).into_owned(),
    }
}

#[derive(Clone, PartialEq, Message)]
struct Request {
    #[prost(message, repeated, tag = "1")]
    resource_spans: Vec<ResourceSpans>,
}

#[derive(Clone, PartialEq, Message)]
struct ResourceSpans {
    #[prost(message, optional, tag = "1")]
    resource: Option<Resource>,
    #[prost(message, repeated, tag = "2")]
    scope_spans: Vec<ScopeSpans>,
}

impl ResourceSpans {
    fn into_otlp(self) -> trace::ResourceSpans {
        trace::ResourceSpans {
            resource: self.resource.map(|r| resource::Resource {
                attributes: attributes(r.attributes),
                dropped_attributes_count: r.dropped_attributes_count,
                entity_refs: Vec::new(),
            }),
            scope_spans: self
                .scope_spans
                .into_iter()
                .map(ScopeSpans::into_otlp)
                .collect(),
            schema_url: String::new(),
        }
    }
}

#[derive(Clone, PartialEq, Message)]
struct Resource {
    #[prost(message, repeated, tag = "1")]
    attributes: Vec<KeyValue>,
    #[prost(uint32, tag = "2")]
    dropped_attributes_count: u32,
}

#[derive(Clone, PartialEq, Message)]
struct ScopeSpans {
    #[prost(message, optional, tag = "1")]
    scope: Option<Scope>,
    #[prost(message, repeated, tag = "2")]
    spans: Vec<Span>,
}

impl ScopeSpans {
    fn into_otlp(self) -> trace::ScopeSpans {
        trace::ScopeSpans {
            scope: self.scope.map(|s| common::InstrumentationScope {
                name: text(s.name),
                version: text(s.version),
                attributes: attributes(s.attributes),
                dropped_attributes_count: s.dropped_attributes_count,
            }),
            spans: self.spans.into_iter().map(Span::into_otlp).collect(),
            schema_url: String::new(),
        }
    }
}

#[derive(Clone, PartialEq, Message)]
struct Scope {
    #[prost(bytes = "vec", tag = "1")]
    name: Vec<u8>,
    #[prost(bytes = "vec", tag = "2")]
    version: Vec<u8>,
    #[prost(message, repeated, tag = "3")]
    attributes: Vec<KeyValue>,
    #[prost(uint32, tag = "4")]
    dropped_attributes_count: u32,
}

#[derive(Clone, PartialEq, Message)]
struct Span {
    #[prost(bytes = "vec", tag = "1")]
    trace_id: Vec<u8>,
    #[prost(bytes = "vec", tag = "2")]
    span_id: Vec<u8>,
    #[prost(bytes = "vec", tag = "3")]
    trace_state: Vec<u8>,
    #[prost(bytes = "vec", tag = "4")]
    parent_span_id: Vec<u8>,
    #[prost(bytes = "vec", tag = "5")]
    name: Vec<u8>,
    #[prost(int32, tag = "6")]
    kind: i32,
    #[prost(fixed64, tag = "7")]
    start_time_unix_nano: u64,
    #[prost(fixed64, tag = "8")]
    end_time_unix_nano: u64,
    #[prost(message, repeated, tag = "9")]
    attributes: Vec<KeyValue>,
    #[prost(uint32, tag = "10")]
    dropped_attributes_count: u32,
    #[prost(message, repeated, tag = "11")]
    events: Vec<Event>,
    #[prost(uint32, tag = "12")]
    dropped_events_count: u32,
    #[prost(message, repeated, tag = "13")]
    links: Vec<Link>,
    #[prost(uint32, tag = "14")]
    dropped_links_count: u32,
    #[prost(message, optional, tag = "15")]
    status: Option<Status>,
    #[prost(fixed32, tag = "16")]
    flags: u32,
}

impl Span {
    fn into_otlp(self) -> trace::Span {
        trace::Span {
            trace_id: self.trace_id,
            span_id: self.span_id,
            trace_state: text(self.trace_state),
            parent_span_id: self.parent_span_id,
            flags: self.flags,
            name: text(self.name),
            kind: self.kind,
            start_time_unix_nano: self.start_time_unix_nano,
            end_time_unix_nano: self.end_time_unix_nano,
            attributes: attributes(self.attributes),
            dropped_attributes_count: self.dropped_attributes_count,
            events: self
                .events
                .into_iter()
                .map(|e| trace::span::Event {
                    time_unix_nano: e.time_unix_nano,
                    name: text(e.name),
                    attributes: attributes(e.attributes),
                    dropped_attributes_count: e.dropped_attributes_count,
                })
                .collect(),
            dropped_events_count: self.dropped_events_count,
            links: self
                .links
                .into_iter()
                .map(|l| trace::span::Link {
                    trace_id: l.trace_id,
                    span_id: l.span_id,
                    trace_state: text(l.trace_state),
                    attributes: attributes(l.attributes),
                    dropped_attributes_count: l.dropped_attributes_count,
                    flags: l.flags,
                })
                .collect(),
            dropped_links_count: self.dropped_links_count,
            status: self.status.map(|s| trace::Status {
                message: text(s.message),
                code: s.code,
            }),
        }
    }
}

#[derive(Clone, PartialEq, Message)]
struct Event {
    #[prost(fixed64, tag = "1")]
    time_unix_nano: u64,
    #[prost(bytes = "vec", tag = "2")]
    name: Vec<u8>,
    #[prost(message, repeated, tag = "3")]
    attributes: Vec<KeyValue>,
    #[prost(uint32, tag = "4")]
    dropped_attributes_count: u32,
}

#[derive(Clone, PartialEq, Message)]
struct Link {
    #[prost(bytes = "vec", tag = "1")]
    trace_id: Vec<u8>,
    #[prost(bytes = "vec", tag = "2")]
    span_id: Vec<u8>,
    #[prost(bytes = "vec", tag = "3")]
    trace_state: Vec<u8>,
    #[prost(message, repeated, tag = "4")]
    attributes: Vec<KeyValue>,
    #[prost(uint32, tag = "5")]
    dropped_attributes_count: u32,
    #[prost(fixed32, tag = "6")]
    flags: u32,
}

#[derive(Clone, PartialEq, Message)]
struct Status {
    #[prost(bytes = "vec", tag = "2")]
    message: Vec<u8>,
    #[prost(int32, tag = "3")]
    code: i32,
}

#[derive(Clone, PartialEq, Message)]
struct KeyValue {
    #[prost(bytes = "vec", tag = "1")]
    key: Vec<u8>,
    #[prost(message, optional, tag = "2")]
    value: Option<AnyValue>,
}

#[derive(Clone, PartialEq, Message)]
struct AnyValue {
    #[prost(oneof = "Value", tags = "1, 2, 3, 4, 5, 6, 7")]
    value: Option<Value>,
}

#[derive(Clone, PartialEq, prost::Oneof)]
enum Value {
    #[prost(bytes, tag = "1")]
    String(Vec<u8>),
    #[prost(bool, tag = "2")]
    Bool(bool),
    #[prost(int64, tag = "3")]
    Int(i64),
    #[prost(double, tag = "4")]
    Double(f64),
    #[prost(message, tag = "5")]
    Array(Values),
    #[prost(message, tag = "6")]
    KeyValues(KeyValues),
    #[prost(bytes, tag = "7")]
    Bytes(Vec<u8>),
}

#[derive(Clone, PartialEq, Message)]
struct Values {
    #[prost(message, repeated, tag = "1")]
    values: Vec<AnyValue>,
}

#[derive(Clone, PartialEq, Message)]
struct KeyValues {
    #[prost(message, repeated, tag = "1")]
    values: Vec<KeyValue>,
}

fn attributes(list: Vec<KeyValue>) -> Vec<common::KeyValue> {
    list.into_iter()
        .map(|kv| common::KeyValue {
            key: text(kv.key),
            value: kv.value.map(any_value),
            key_strindex: 0,
        })
        .collect()
}

fn any_value(value: AnyValue) -> common::AnyValue {
    use common::any_value::Value as Otlp;
    common::AnyValue {
        value: value.value.map(|value| match value {
            Value::String(bytes) => Otlp::StringValue(text(bytes)),
            Value::Bool(b) => Otlp::BoolValue(b),
            Value::Int(i) => Otlp::IntValue(i),
            Value::Double(d) => Otlp::DoubleValue(d),
            Value::Array(a) => Otlp::ArrayValue(common::ArrayValue {
                values: a.values.into_iter().map(any_value).collect(),
            }),
            Value::KeyValues(kv) => Otlp::KvlistValue(common::KeyValueList {
                values: attributes(kv.values),
            }),
            Value::Bytes(b) => Otlp::BytesValue(b),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures;

    #[test]
    fn reads_every_captured_protobuf_request_like_the_strict_decoder() {
        for fixture in fixtures::load("traces") {
            let encoding = crate::decode::encoding_of(fixture.content_type.as_deref()).unwrap();
            if encoding != crate::decode::Encoding::Protobuf {
                continue;
            }
            let raw = crate::decode::decompress(
                fixture.content_encoding.as_deref(),
                fixture.body,
                64 << 20,
            )
            .unwrap();
            let mut strict = collector::ExportTraceServiceRequest::decode(raw.as_ref()).unwrap();
            for resource_spans in &mut strict.resource_spans {
                // The fields the lenient messages leave out.
                resource_spans.schema_url.clear();
                if let Some(resource) = &mut resource_spans.resource {
                    resource.entity_refs.clear();
                }
                for scope_spans in &mut resource_spans.scope_spans {
                    scope_spans.schema_url.clear();
                }
            }
            assert_eq!(decode_traces_lossy(&raw), Some(strict), "{}", fixture.name);
        }
    }

    #[test]
    fn invalid_utf8_becomes_replacement_characters() {
        let request = Request {
            resource_spans: vec![ResourceSpans {
                resource: None,
                scope_spans: vec![ScopeSpans {
                    scope: None,
                    spans: vec![Span {
                        trace_id: vec![1; 16],
                        span_id: vec![2; 8],
                        name: b"bad \xff name".to_vec(),
                        start_time_unix_nano: 1,
                        attributes: vec![KeyValue {
                            key: b"k\xc3".to_vec(),
                            value: Some(AnyValue {
                                value: Some(Value::String(b"v\xfe".to_vec())),
                            }),
                        }],
                        ..Default::default()
                    }],
                }],
            }],
        };
        let bytes = request.encode_to_vec();
        assert!(collector::ExportTraceServiceRequest::decode(bytes.as_slice()).is_err());
        let decoded = decode_traces_lossy(&bytes).unwrap();
        let span = &decoded.resource_spans[0].scope_spans[0].spans[0];
        assert_eq!(span.name, "bad \u{fffd} name");
        assert_eq!(span.attributes[0].key, "k\u{fffd}");
        assert_eq!(
            span.attributes[0].value,
            Some(common::AnyValue {
                value: Some(common::any_value::Value::StringValue("v\u{fffd}".into()))
            })
        );
        assert_eq!(decode_traces_lossy(b"\xff\xff\xff"), None);
    }
}
