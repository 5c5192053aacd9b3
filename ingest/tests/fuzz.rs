//! Fuzzing the pure stages on stable Rust (proptest), seeded with the captured requests of real
//! clients: their bytes, randomly mutated (bits flipped, bytes set, inserted, deleted, repeated,
//! cut short, invalid UTF-8 spliced in), go through inflating, decoding in both encodings, the
//! lenient UTF-8 repair, the decoded-size bound and the mapping of their signal; and decoded
//! requests get random attribute values (NUL, invalid numbers, huge counts, NaN, deep nesting)
//! before mapping. Nothing may panic, and mapping may lose nothing silently: every span, log
//! record or data point becomes a row or a rejection with a reason.
//!
//! `make test` runs a short pass (`FUZZ_CASES`, default 256 cases a property). The long run is
//! `FUZZ_CASES=100000 cargo test --release -p ingest --test fuzz` (docs/testing.md, "What we promise").

use ingest::decode;
use ingest::decode::budget::Budget;
use ingest::decode::wire::{self, Lenient};
use ingest::export::{Logs, Metrics, Signal, Traces};
use ingest::fixtures::{self, Fixture};
use ingest::map::own::Context;
use ingest::map::redact::{Content, Redaction};
use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::any_value::Value as Any;
use opentelemetry_proto::tonic::common::v1::{AnyValue, ArrayValue, KeyValue, KeyValueList};
use proptest::prelude::*;
use serde::de::DeserializeOwned;
use std::sync::OnceLock;

fn cases() -> u32 {
    std::env::var("FUZZ_CASES")
        .ok()
        .and_then(|cases| cases.parse().ok())
        .unwrap_or(256)
}

/// Every captured request, as (the fixture, its body inflated).
fn seeds() -> &'static [(Fixture, Vec<u8>)] {
    static SEEDS: OnceLock<Vec<(Fixture, Vec<u8>)>> = OnceLock::new();
    SEEDS.get_or_init(|| {
        ["traces", "logs", "metrics"]
            .into_iter()
            .flat_map(fixtures::load)
            .map(|fixture| {
                let raw = decode::decompress(
                    fixture.content_encoding.as_deref(),
                    fixture.body.clone(),
                    64 << 20,
                    &mut Budget::new(1 << 30).charge(),
                )
                .expect("a captured request inflates");
                (fixture, raw.to_vec())
            })
            .collect()
    })
}

/// One change to a byte string, at a position given as a fraction of its length.
#[derive(Debug, Clone)]
enum Mutation {
    FlipBit(f64, u8),
    SetByte(f64, u8),
    Insert(f64, Vec<u8>),
    Delete(f64, usize),
    Repeat(f64, usize, usize),
    CutAt(f64),
    InvalidUtf8(f64),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    let at = 0.0..1.0f64;
    prop_oneof![
        (at.clone(), 0..8u8).prop_map(|(at, bit)| Mutation::FlipBit(at, bit)),
        (at.clone(), any::<u8>()).prop_map(|(at, byte)| Mutation::SetByte(at, byte)),
        (at.clone(), prop::collection::vec(any::<u8>(), 1..16))
            .prop_map(|(at, bytes)| Mutation::Insert(at, bytes)),
        (at.clone(), 1..64usize).prop_map(|(at, len)| Mutation::Delete(at, len)),
        (at.clone(), 1..256usize, 1..8usize)
            .prop_map(|(at, len, times)| Mutation::Repeat(at, len, times)),
        at.clone().prop_map(Mutation::CutAt),
        at.prop_map(Mutation::InvalidUtf8),
    ]
}

fn apply(bytes: &mut Vec<u8>, mutation: &Mutation) {
    let position = |at: f64, len: usize| ((at * len as f64) as usize).min(len);
    let len = bytes.len();
    match mutation {
        Mutation::FlipBit(at, bit) if len > 0 => {
            let i = position(*at, len - 1);
            bytes[i] ^= 1 << bit;
        }
        Mutation::SetByte(at, byte) if len > 0 => {
            let i = position(*at, len - 1);
            bytes[i] = *byte;
        }
        Mutation::Insert(at, inserted) => {
            let i = position(*at, len);
            bytes.splice(i..i, inserted.iter().copied());
        }
        Mutation::Delete(at, count) => {
            let i = position(*at, len);
            bytes.drain(i..(i + count).min(len));
        }
        Mutation::Repeat(at, count, times) => {
            let i = position(*at, len);
            let piece: Vec<u8> = bytes[i..(i + count).min(len)].to_vec();
            for _ in 0..*times {
                bytes.splice(i..i, piece.iter().copied());
            }
        }
        Mutation::CutAt(at) => bytes.truncate(position(*at, len)),
        Mutation::InvalidUtf8(at) => {
            let i = position(*at, len);
            bytes.splice(i..i, [0xC3, 0x28, 0xFF]);
        }
        _ => {}
    }
}

/// Decodes `bytes` as `S`'s request the way the server does, and maps it: no panic, and every
/// item is a row or a rejection.
fn decode_and_map<S: Signal>(
    encoding: decode::Encoding,
    bytes: &[u8],
    count: fn(&S::Request) -> usize,
) where
    S::Request: Lenient + DeserializeOwned,
{
    let _ = decode::decoded_size_bound::<S::Request>(encoding, bytes);
    let _ = wire::decode_lossy::<S::Request>(bytes);
    if let Ok(request) = decode::decode_request::<S::Request>(encoding, bytes) {
        let mapped = S::map(&request, &context());
        assert_eq!(
            mapped.rows.len() + mapped.rejected.len(),
            count(&request),
            "every item becomes a row or a rejection"
        );
        assert!(mapped.rejected.iter().all(|r| !r.reason.is_empty()));
    }
}

fn spans(request: &ExportTraceServiceRequest) -> usize {
    request
        .resource_spans
        .iter()
        .flat_map(|r| &r.scope_spans)
        .map(|s| s.spans.len())
        .sum()
}

fn log_records(request: &ExportLogsServiceRequest) -> usize {
    request
        .resource_logs
        .iter()
        .flat_map(|r| &r.scope_logs)
        .map(|s| s.log_records.len())
        .sum()
}

fn data_points(request: &ExportMetricsServiceRequest) -> usize {
    use opentelemetry_proto::tonic::metrics::v1::metric::Data;
    request
        .resource_metrics
        .iter()
        .flat_map(|r| &r.scope_metrics)
        .flat_map(|s| &s.metrics)
        .map(|metric| match &metric.data {
            Some(Data::Gauge(g)) => g.data_points.len(),
            Some(Data::Sum(s)) => s.data_points.len(),
            Some(Data::Histogram(h)) => h.data_points.len(),
            Some(Data::ExponentialHistogram(e)) => e.data_points.len(),
            Some(Data::Summary(s)) => s.data_points.len(),
            None => 0,
        })
        .sum()
}

fn decode_and_map_any(fixture: &Fixture, bytes: &[u8]) {
    let encoding = decode::encoding_of(fixture.content_type.as_deref()).expect("encoding");
    match fixture.path.as_str() {
        "/v1/traces" => decode_and_map::<Traces>(encoding, bytes, spans),
        "/v1/logs" => decode_and_map::<Logs>(encoding, bytes, log_records),
        _ => decode_and_map::<Metrics>(encoding, bytes, data_points),
    }
}

/// Attribute values of every kind a client could send, nested up to 4 deep.
fn any_value() -> impl Strategy<Value = AnyValue> {
    let leaf = prop_oneof![
        ".{0,40}".prop_map(Any::StringValue),
        Just(Any::StringValue("nul \0 inside".into())),
        prop::sample::select(vec![
            "42",
            " 42 ",
            "-1",
            "1.5e3",
            "9223372036854775808",
            "NaN",
            ""
        ])
        .prop_map(|s| Any::StringValue(s.into())),
        any::<i64>().prop_map(Any::IntValue),
        any::<f64>().prop_map(Any::DoubleValue),
        prop::sample::select(vec![f64::NAN, f64::INFINITY, -0.0, 1e300, 42.0])
            .prop_map(Any::DoubleValue),
        any::<bool>().prop_map(Any::BoolValue),
        prop::collection::vec(any::<u8>(), 0..20).prop_map(Any::BytesValue),
    ]
    .prop_map(|value| AnyValue { value: Some(value) });
    leaf.prop_recursive(4, 64, 8, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..8)
                .prop_map(|values| Any::ArrayValue(ArrayValue { values })),
            prop::collection::vec((key(), inner), 0..8).prop_map(|pairs| {
                Any::KvlistValue(KeyValueList {
                    values: pairs
                        .into_iter()
                        .map(|(key, value)| KeyValue {
                            key,
                            value: Some(value),
                            ..Default::default()
                        })
                        .collect(),
                })
            }),
        ]
        .prop_map(|value| AnyValue { value: Some(value) })
    })
}

/// Mostly the keys the mapping reads, so random values land where they matter.
fn key() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::sample::select(vec![
            "gen_ai.request.model",
            "gen_ai.usage.input_tokens",
            "gen_ai.usage.output_tokens",
            "input_tokens",
            "cache_read_tokens",
            "cache_creation_tokens",
            "output_tokens",
            "llm.token_count.prompt",
            "gen_ai.usage.cost",
            "cost_usd",
            "session.id",
            "user.id",
            "gen_ai.operation.name",
            "openinference.span.kind",
            "span.type",
            "event.name",
            "input.value",
            "output.value",
            "gen_ai.tool.name",
            "duration_ms",
            "service.name",
            "gen_ai.token.type",
            "type",
            "model",
            "input_token_count",
            "thoughts_token_count",
            "codex.usage.total_tokens",
            "codex.turn.token_usage.input_tokens",
        ])
        .prop_map(String::from),
        ".{0,12}",
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(), failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn mutated_request_bytes_never_panic(
        seed in 0..37usize,
        mutations in prop::collection::vec(mutation(), 1..6),
    ) {
        let (fixture, raw) = &seeds()[seed % seeds().len()];
        let mut bytes = raw.clone();
        for mutation in &mutations {
            apply(&mut bytes, mutation);
        }
        decode_and_map_any(fixture, &bytes);
    }

    #[test]
    fn mutated_gzip_never_panics(
        seed in 0..37usize,
        mutations in prop::collection::vec(mutation(), 1..4),
    ) {
        let (fixture, _) = &seeds()[seed % seeds().len()];
        let mut body = fixture.body.to_vec();
        for mutation in &mutations {
            apply(&mut body, mutation);
        }
        let inflated = decode::decompress(
            Some("gzip"),
            body.into(),
            1 << 20,
            &mut Budget::new(4 << 20).charge(),
        );
        if let Ok(inflated) = inflated {
            decode_and_map_any(fixture, &inflated);
        }
    }

    #[test]
    fn random_attribute_values_map_without_panic(
        seed in 0..37usize,
        values in prop::collection::vec((key(), any_value()), 1..24),
    ) {
        let (fixture, raw) = &seeds()[seed % seeds().len()];
        let encoding = decode::encoding_of(fixture.content_type.as_deref()).unwrap();
        let attributes: Vec<KeyValue> = values
            .into_iter()
            .map(|(key, value)| KeyValue { key, value: Some(value), ..Default::default() })
            .collect();
        match fixture.path.as_str() {
            "/v1/traces" => {
                let mut request: ExportTraceServiceRequest =
                    decode::decode_request(encoding, raw).unwrap();
                for resource in &mut request.resource_spans {
                    if let Some(r) = resource.resource.as_mut() {
                        r.attributes.extend(attributes.iter().cloned());
                    }
                    for span in resource.scope_spans.iter_mut().flat_map(|s| &mut s.spans) {
                        span.attributes.extend(attributes.iter().cloned());
                    }
                }
                let mapped = Traces::map(&request, &context());
                prop_assert_eq!(mapped.rows.len() + mapped.rejected.len(), spans(&request));
            }
            "/v1/logs" => {
                let mut request: ExportLogsServiceRequest =
                    decode::decode_request(encoding, raw).unwrap();
                for record in request
                    .resource_logs
                    .iter_mut()
                    .flat_map(|r| &mut r.scope_logs)
                    .flat_map(|s| &mut s.log_records)
                {
                    record.attributes.extend(attributes.iter().cloned());
                    record.body = attributes.first().and_then(|kv| kv.value.clone());
                }
                let mapped = Logs::map(&request, &context());
                prop_assert_eq!(mapped.rows.len() + mapped.rejected.len(), log_records(&request));
            }
            _ => {
                let mut request: ExportMetricsServiceRequest =
                    decode::decode_request(encoding, raw).unwrap();
                for metric in request
                    .resource_metrics
                    .iter_mut()
                    .flat_map(|r| &mut r.scope_metrics)
                    .flat_map(|s| &mut s.metrics)
                {
                    // The point attributes: they are stored, and fill model, session and token type.
                    for point_attributes in point_attributes(metric) {
                        point_attributes.extend(attributes.iter().cloned());
                    }
                }
                for resource in &mut request.resource_metrics {
                    if let Some(r) = resource.resource.as_mut() {
                        r.attributes.extend(attributes.iter().cloned());
                    }
                }
                let mapped = Metrics::map(&request, &context());
                prop_assert_eq!(mapped.rows.len() + mapped.rejected.len(), data_points(&request));
            }
        }
    }
}

/// Rows owned as a project that hashes its content, so the properties reach the redaction too.
fn context() -> Context<'static> {
    static HASHING: std::sync::LazyLock<Redaction> = std::sync::LazyLock::new(|| {
        Redaction::new(Content::Hash, vec!["x.*".into()], Some(vec![7; 32])).expect("a redaction")
    });
    Context {
        project_id: 2,
        redaction: &HASHING,
    }
}

/// The attributes of each data point of `metric`, whatever its kind.
fn point_attributes(
    metric: &mut opentelemetry_proto::tonic::metrics::v1::Metric,
) -> Vec<&mut Vec<KeyValue>> {
    use opentelemetry_proto::tonic::metrics::v1::metric::Data;
    match metric.data.as_mut() {
        Some(Data::Gauge(gauge)) => gauge
            .data_points
            .iter_mut()
            .map(|p| &mut p.attributes)
            .collect(),
        Some(Data::Sum(sum)) => sum
            .data_points
            .iter_mut()
            .map(|p| &mut p.attributes)
            .collect(),
        Some(Data::Histogram(histogram)) => histogram
            .data_points
            .iter_mut()
            .map(|p| &mut p.attributes)
            .collect(),
        Some(Data::ExponentialHistogram(histogram)) => histogram
            .data_points
            .iter_mut()
            .map(|p| &mut p.attributes)
            .collect(),
        Some(Data::Summary(summary)) => summary
            .data_points
            .iter_mut()
            .map(|p| &mut p.attributes)
            .collect(),
        None => Vec::new(),
    }
}

/// The metrics property reaches the mapping of point attributes: the captured requests have
/// points whose attributes it extends.
#[test]
fn the_metrics_seeds_have_points_to_fuzz() {
    let mut points = 0;
    for (fixture, raw) in seeds().iter().filter(|(f, _)| f.path == "/v1/metrics") {
        let encoding = decode::encoding_of(fixture.content_type.as_deref()).unwrap();
        let mut request: ExportMetricsServiceRequest =
            decode::decode_request(encoding, raw).unwrap();
        for metric in request
            .resource_metrics
            .iter_mut()
            .flat_map(|r| &mut r.scope_metrics)
            .flat_map(|s| &mut s.metrics)
        {
            points += point_attributes(metric).len();
        }
    }
    assert!(points > 0);
}

#[test]
fn the_seeds_are_every_captured_request() {
    assert_eq!(seeds().len(), 37);
}
