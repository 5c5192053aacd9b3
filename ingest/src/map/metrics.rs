//! OTLP metrics -> rows of `agent_trace.agent_metrics`, one per data point. Pure: no I/O, no clock.
//!
//! Points are stored as sent (a cumulative counter's running total stays a running total); the view
//! `agent_trace.agent_metric_deltas` turns them into per-interval amounts. A point that cannot be
//! stored (time 0) is rejected alone, with a reason; NUL characters become U+FFFD.
//!
//! | column | comes from |
//! |---|---|
//! | `series_key` | first 16 bytes of SHA-256 over (name, kind, resource attributes, scope, point attributes), see `series_key` |
//! | `name`, `description`, `unit` | the metric; description and unit NULL when empty |
//! | `kind` | `sum`, `gauge`, `histogram`, `exponential_histogram`, `summary` |
//! | `temporality`, `is_monotonic` | sums and histograms: 1 `delta`, 2 `cumulative`, else `unspecified`; `is_monotonic` for sums only |
//! | `start_time`, `time` | unix nanos; start 0 is NULL; time 0 rejects the point |
//! | `value` | sum and gauge points, ints as double; NULL when flagged "no recorded value" |
//! | `count`, `sum`, `min`, `max`, `bucket_bounds`, `bucket_counts` | histograms (count and sum also exponential histograms and summaries) |
//! | `exponential_buckets`, `quantiles` | exponential histogram buckets / summary quantiles as JSON |
//! | `service_name` | resource `service.name` |
//! | `session_id` | point attributes, else resource attributes: `gen_ai.conversation.id`, `session.id` (Claude Code, Gemini CLI), `agno.session.id`, `conversation.id` |
//! | `model` | point attributes: `gen_ai.request.model`, `gen_ai.response.model`, ..., `model` (Claude Code, Gemini CLI, Codex) |
//! | `token_type` | point attributes: `gen_ai.token.type`, `token_type` (Codex), or `type` on a metric named `*token.usage` (Claude Code's `claude_code.token.usage`, Gemini CLI's `gemini_cli.token.usage`); `type` on other metrics means something else (Claude Code's `claude_code.active_time.total` has `type` `cli`) |
//!
//! Exemplars and metric metadata are not stored.

use super::attrs::{Attrs, attributes_json, clean, float_json, index, non_empty, text};
use super::content_key::{canonical_attributes, content_key, length_prefixed};
use super::keys::{MODEL, SESSION_ID, TOKEN_TYPE, TOKEN_USAGE_SUFFIX, VENDOR_TOKEN_TYPE};
use super::{Mapped, Rejected};
use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::common::v1::{InstrumentationScope, KeyValue};
use opentelemetry_proto::tonic::metrics::v1::exponential_histogram_data_point::Buckets;
use opentelemetry_proto::tonic::metrics::v1::metric::Data;
use opentelemetry_proto::tonic::metrics::v1::number_data_point::Value as Number;
use opentelemetry_proto::tonic::metrics::v1::{
    ExponentialHistogramDataPoint, HistogramDataPoint, Metric, NumberDataPoint, SummaryDataPoint,
};
use serde_json::{Value, json};

/// One row for `agent_trace.agent_metrics`, in the shape the writer copies.
#[derive(Debug, Clone, PartialEq)]
pub struct MetricRow {
    pub series_key: [u8; 16],
    /// The project the point belongs to: `map::DEFAULT_PROJECT` until `map::own` says otherwise.
    pub project_id: i32,
    pub name: String,
    pub description: Option<String>,
    pub unit: Option<String>,
    /// `sum`, `gauge`, `histogram`, `exponential_histogram` or `summary`.
    pub kind: &'static str,
    /// `cumulative`, `delta` or `unspecified`; None for gauges and summaries.
    pub temporality: Option<&'static str>,
    pub is_monotonic: Option<bool>,
    /// Nanoseconds since the Unix epoch; None when not sent.
    pub start_time_unix_nano: Option<u64>,
    pub time_unix_nano: u64,
    pub value: Option<f64>,
    pub count: Option<i64>,
    pub sum: Option<f64>,
    pub min: Option<f64>,
    pub max: Option<f64>,
    pub bucket_bounds: Option<Vec<f64>>,
    pub bucket_counts: Option<Vec<i64>>,
    pub exponential_buckets: Option<Value>,
    pub quantiles: Option<Value>,
    pub service_name: Option<String>,
    pub scope_name: Option<String>,
    pub scope_version: Option<String>,
    pub session_id: Option<String>,
    pub model: Option<String>,
    pub token_type: Option<String>,
    /// JSON object of the point attributes.
    pub attributes: Value,
    /// JSON object of the resource attributes.
    pub resource_attributes: Value,
}

/// Domain separation of the hashes, so a series key can never equal a log key by construction.
const SERIES_KEY_DOMAIN: &[u8] = b"agent_trace.agent_metrics.series_key.v1";

/// OpenTelemetry DataPointFlags.FLAG_NO_RECORDED_VALUE: the point marks a gap, it has no value.
const NO_RECORDED_VALUE: u32 = 1;

/// What the points of one resource and scope share.
struct Context<'a> {
    resource: &'a Attrs<'a>,
    resource_json: Value,
    /// Canonical bytes of the resource attributes and of the scope, inputs of every series_key.
    resource_identity: Vec<u8>,
    scope_identity: Vec<u8>,
    service_name: Option<String>,
    scope_name: Option<String>,
    scope_version: Option<String>,
}

/// What one data point of any kind has.
struct Point<'a> {
    attributes: &'a [KeyValue],
    start_time_unix_nano: u64,
    time_unix_nano: u64,
    flags: u32,
}

/// Maps every data point of the request; a point that cannot be stored is rejected alone.
pub fn map_request(request: &ExportMetricsServiceRequest) -> Mapped<MetricRow> {
    let mut mapped = Mapped::default();
    for resource_metrics in &request.resource_metrics {
        let resource_attributes = resource_metrics
            .resource
            .as_ref()
            .map_or(&[][..], |r| &r.attributes[..]);
        let resource = index(resource_attributes);
        let resource_json = attributes_json(resource_attributes);
        let resource_identity = canonical_attributes(resource_attributes);
        let service_name = text(&resource, &["service.name"]);
        for scope_metrics in &resource_metrics.scope_metrics {
            let scope = scope_metrics.scope.as_ref();
            let context = Context {
                resource: &resource,
                resource_json: resource_json.clone(),
                resource_identity: resource_identity.clone(),
                scope_identity: scope_identity(scope),
                service_name: service_name.clone(),
                scope_name: scope.and_then(|s| non_empty(&s.name)),
                scope_version: scope.and_then(|s| non_empty(&s.version)),
            };
            for metric in &scope_metrics.metrics {
                map_metric(metric, &context, &mut mapped);
            }
        }
    }
    mapped
}

fn map_metric(metric: &Metric, context: &Context, mapped: &mut Mapped<MetricRow>) {
    let mut push = |point: Point,
                    kind: &'static str,
                    temporality: Option<&'static str>,
                    is_monotonic: Option<bool>,
                    fill: &dyn Fn(&mut MetricRow)| {
        match point_row(metric, context, &point, kind, temporality, is_monotonic) {
            Ok(mut row) => {
                if point.flags & NO_RECORDED_VALUE == 0 {
                    fill(&mut row);
                }
                mapped.rows.push(row);
            }
            Err(reason) => mapped.rejected.push(Rejected { reason }),
        }
    };
    match &metric.data {
        None => {}
        Some(Data::Gauge(gauge)) => {
            for p in &gauge.data_points {
                push(number_point(p), "gauge", None, None, &|row| {
                    row.value = number(p)
                });
            }
        }
        Some(Data::Sum(sum)) => {
            let temporality = Some(temporality(sum.aggregation_temporality));
            for p in &sum.data_points {
                push(
                    number_point(p),
                    "sum",
                    temporality,
                    Some(sum.is_monotonic),
                    &|row| row.value = number(p),
                );
            }
        }
        Some(Data::Histogram(histogram)) => {
            let temporality = Some(temporality(histogram.aggregation_temporality));
            for p in &histogram.data_points {
                push(histogram_point(p), "histogram", temporality, None, &|row| {
                    row.count = i64::try_from(p.count).ok();
                    row.sum = p.sum;
                    row.min = p.min;
                    row.max = p.max;
                    row.bucket_bounds = Some(p.explicit_bounds.clone());
                    row.bucket_counts = counts(&p.bucket_counts);
                });
            }
        }
        Some(Data::ExponentialHistogram(histogram)) => {
            let temporality = Some(temporality(histogram.aggregation_temporality));
            for p in &histogram.data_points {
                push(
                    exponential_point(p),
                    "exponential_histogram",
                    temporality,
                    None,
                    &|row| {
                        row.count = i64::try_from(p.count).ok();
                        row.sum = p.sum;
                        row.min = p.min;
                        row.max = p.max;
                        row.exponential_buckets = Some(json!({
                            "scale": p.scale,
                            "zero_count": p.zero_count,
                            "zero_threshold": float_json(p.zero_threshold),
                            "positive": buckets_json(p.positive.as_ref()),
                            "negative": buckets_json(p.negative.as_ref()),
                        }));
                    },
                );
            }
        }
        Some(Data::Summary(summary)) => {
            for p in &summary.data_points {
                push(summary_point(p), "summary", None, None, &|row| {
                    row.count = i64::try_from(p.count).ok();
                    row.sum = Some(p.sum);
                    row.quantiles = Some(Value::Array(
                        p.quantile_values
                            .iter()
                            .map(|q| {
                                json!({"quantile": float_json(q.quantile), "value": float_json(q.value)})
                            })
                            .collect(),
                    ));
                });
            }
        }
    }
}

fn number_point(p: &NumberDataPoint) -> Point<'_> {
    Point {
        attributes: &p.attributes,
        start_time_unix_nano: p.start_time_unix_nano,
        time_unix_nano: p.time_unix_nano,
        flags: p.flags,
    }
}

fn histogram_point(p: &HistogramDataPoint) -> Point<'_> {
    Point {
        attributes: &p.attributes,
        start_time_unix_nano: p.start_time_unix_nano,
        time_unix_nano: p.time_unix_nano,
        flags: p.flags,
    }
}

fn exponential_point(p: &ExponentialHistogramDataPoint) -> Point<'_> {
    Point {
        attributes: &p.attributes,
        start_time_unix_nano: p.start_time_unix_nano,
        time_unix_nano: p.time_unix_nano,
        flags: p.flags,
    }
}

fn summary_point(p: &SummaryDataPoint) -> Point<'_> {
    Point {
        attributes: &p.attributes,
        start_time_unix_nano: p.start_time_unix_nano,
        time_unix_nano: p.time_unix_nano,
        flags: p.flags,
    }
}

/// The row of one point with everything but its values (which `fill` adds).
fn point_row(
    metric: &Metric,
    context: &Context,
    point: &Point,
    kind: &'static str,
    temporality: Option<&'static str>,
    is_monotonic: Option<bool>,
) -> Result<MetricRow, String> {
    if point.time_unix_nano == 0 {
        return Err(format!(
            "data point of metric {:?}: time_unix_nano is 0",
            clean(&metric.name)
        ));
    }
    let attrs = index(point.attributes);
    let token_keys: &[&str] = if metric.name.ends_with(TOKEN_USAGE_SUFFIX) {
        &["gen_ai.token.type", "token_type", VENDOR_TOKEN_TYPE]
    } else {
        TOKEN_TYPE
    };
    Ok(MetricRow {
        project_id: super::DEFAULT_PROJECT,
        series_key: series_key(&metric.name, kind, context, point.attributes),
        name: clean(&metric.name),
        description: non_empty(&metric.description),
        unit: non_empty(&metric.unit),
        kind,
        temporality,
        is_monotonic,
        start_time_unix_nano: (point.start_time_unix_nano != 0)
            .then_some(point.start_time_unix_nano),
        time_unix_nano: point.time_unix_nano,
        value: None,
        count: None,
        sum: None,
        min: None,
        max: None,
        bucket_bounds: None,
        bucket_counts: None,
        exponential_buckets: None,
        quantiles: None,
        service_name: context.service_name.clone(),
        scope_name: context.scope_name.clone(),
        scope_version: context.scope_version.clone(),
        session_id: text(&attrs, SESSION_ID).or_else(|| text(context.resource, SESSION_ID)),
        model: text(&attrs, MODEL),
        token_type: text(&attrs, token_keys),
        attributes: attributes_json(point.attributes),
        resource_attributes: context.resource_json.clone(),
    })
}

fn temporality(value: i32) -> &'static str {
    match value {
        1 => "delta",
        2 => "cumulative",
        _ => "unspecified",
    }
}

fn number(p: &NumberDataPoint) -> Option<f64> {
    match p.value {
        Some(Number::AsDouble(d)) => Some(d),
        Some(Number::AsInt(n)) => Some(n as f64),
        None => None,
    }
}

/// Bucket counts as bigint; None if one does not fit (2^63 measurements: not a real histogram).
fn counts(counts: &[u64]) -> Option<Vec<i64>> {
    counts.iter().map(|&n| i64::try_from(n).ok()).collect()
}

fn buckets_json(buckets: Option<&Buckets>) -> Value {
    match buckets {
        None => Value::Null,
        Some(buckets) => json!({"offset": buckets.offset, "bucket_counts": buckets.bucket_counts}),
    }
}

/// The series id (`content_key`) over the metric name, the kind, the resource attributes, the scope
/// and the point attributes; attributes in a canonical order, so a client that lists them in another
/// order next time still reports the same series.
fn series_key(name: &str, kind: &str, context: &Context, attributes: &[KeyValue]) -> [u8; 16] {
    content_key(
        SERIES_KEY_DOMAIN,
        &[
            name.as_bytes(),
            kind.as_bytes(),
            &context.resource_identity,
            &context.scope_identity,
            &canonical_attributes(attributes),
        ],
    )
}

/// The scope's name, version and attributes (canonical), length-prefixed; empty without a scope.
fn scope_identity(scope: Option<&InstrumentationScope>) -> Vec<u8> {
    let Some(scope) = scope else {
        return Vec::new();
    };
    length_prefixed([
        scope.name.as_bytes(),
        scope.version.as_bytes(),
        &canonical_attributes(&scope.attributes),
    ])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures;
    use opentelemetry_proto::tonic::common::v1::AnyValue;
    use opentelemetry_proto::tonic::common::v1::any_value::Value as Any;
    use opentelemetry_proto::tonic::metrics::v1::summary_data_point::ValueAtQuantile;
    use opentelemetry_proto::tonic::metrics::v1::{
        ExponentialHistogram, Gauge, ResourceMetrics, ScopeMetrics, Sum, Summary,
    };
    use opentelemetry_proto::tonic::resource::v1::Resource;
    use std::collections::BTreeSet;

    fn fixture_rows(name: &str) -> Vec<MetricRow> {
        let mapped = map_request(&fixtures::find(name).decode());
        assert!(mapped.rejected.is_empty(), "{name}: {:?}", mapped.rejected);
        mapped.rows
    }

    fn named<'a>(rows: &'a [MetricRow], name: &str) -> Vec<&'a MetricRow> {
        rows.iter().filter(|row| row.name == name).collect()
    }

    #[test]
    fn every_metrics_fixture_maps_every_point() {
        for fixture in fixtures::load("metrics") {
            let name = &fixture.name;
            let (metrics, points) = (fixture.counts.metrics, fixture.counts.data_points);
            let mapped = map_request(&fixture.decode());
            assert!(mapped.rejected.is_empty(), "{name}: {:?}", mapped.rejected);
            assert_eq!(mapped.rows.len(), points, "{name}: points");
            let metric_names: BTreeSet<_> = mapped.rows.iter().map(|row| &row.name).collect();
            assert_eq!(metric_names.len(), metrics, "{name}: metrics");
            // Within one export every point is its own series.
            let series: BTreeSet<_> = mapped.rows.iter().map(|row| row.series_key).collect();
            assert_eq!(series.len(), points, "{name}: series");
            for row in &mapped.rows {
                assert!(row.service_name.is_some(), "{name}");
                assert!(
                    row.value.is_some() || row.count.is_some(),
                    "{name}: {}",
                    row.name
                );
            }
        }
    }

    #[test]
    fn claude_code_token_and_cost_counters() {
        let rows = fixture_rows("cli_claude/003_v1_metrics");
        let tokens = named(&rows, "claude_code.token.usage");
        assert_eq!(tokens.len(), 8);
        let by_type = |token_type: &str| -> f64 {
            tokens
                .iter()
                .filter(|row| row.token_type.as_deref() == Some(token_type))
                .map(|row| row.value.unwrap())
                .sum()
        };
        assert_eq!(
            (
                by_type("input"),
                by_type("output"),
                by_type("cacheRead"),
                by_type("cacheCreation")
            ),
            (84.0, 34.0, 0.0, 0.0)
        );
        for row in &tokens {
            assert_eq!(
                (row.kind, row.temporality, row.is_monotonic),
                ("sum", Some("delta"), Some(true))
            );
            assert_eq!(row.unit.as_deref(), Some("tokens"));
            assert_eq!(row.model.as_deref(), Some("claude-sonnet-4-5"));
            assert_eq!(
                row.session_id.as_deref(),
                Some("ff32038b-57af-41b1-a48b-c3dc017dd2d3")
            );
        }
        let cost: f64 = named(&rows, "claude_code.cost.usage")
            .iter()
            .map(|row| row.value.unwrap())
            .sum();
        assert!((cost - 0.000762).abs() < 1e-12, "{cost}");
        // `type` means "cli" on active_time: not a token type.
        assert_eq!(
            named(&rows, "claude_code.active_time.total")[0].token_type,
            None
        );
    }

    #[test]
    fn gemini_cli_counters_and_histograms() {
        let rows = fixture_rows("cli_gemini/003_v1_metrics");
        let tokens = named(&rows, "gemini_cli.token.usage");
        let types: BTreeSet<_> = tokens
            .iter()
            .map(|r| r.token_type.as_deref().unwrap())
            .collect();
        assert_eq!(
            types,
            ["cache", "input", "output", "thought", "tool"].into()
        );
        let input = tokens
            .iter()
            .find(|r| r.token_type.as_deref() == Some("input"))
            .unwrap();
        assert_eq!(
            (input.value, input.temporality, input.model.as_deref()),
            (Some(42.0), Some("cumulative"), Some("gemini-2.5-pro"))
        );
        assert_eq!(
            input.session_id.as_deref(),
            Some("65d0320d-322e-458b-bfb3-ba0c5aefc1ca")
        );
        let genai = named(&rows, "gen_ai.client.token.usage");
        let sums: Vec<_> = genai
            .iter()
            .map(|r| (r.token_type.as_deref().unwrap(), r.count, r.sum))
            .collect();
        assert_eq!(
            sums,
            [
                ("input", Some(1), Some(42.0)),
                ("output", Some(1), Some(17.0))
            ]
        );
        for row in &genai {
            assert_eq!(row.kind, "histogram");
            let bounds = row.bucket_bounds.as_ref().unwrap();
            assert_eq!(row.bucket_counts.as_ref().unwrap().len(), bounds.len() + 1);
        }
    }

    #[test]
    fn codex_turn_token_usage_histogram() {
        let rows = fixture_rows("cli_codex/002_v1_metrics");
        let usage = named(&rows, "codex.turn.token_usage");
        let mut by_type: Vec<_> = usage
            .iter()
            .map(|r| (r.token_type.clone().unwrap(), r.sum.unwrap()))
            .collect();
        by_type.sort_by(|a, b| a.0.cmp(&b.0));
        assert_eq!(
            by_type,
            [
                ("cache_write_input".to_string(), 0.0),
                ("cached_input".to_string(), 0.0),
                ("input".to_string(), 42.0),
                ("output".to_string(), 17.0),
                ("reasoning_output".to_string(), 0.0),
                ("total".to_string(), 59.0)
            ]
        );
        assert!(usage.iter().all(|r| r.temporality == Some("delta")
            && r.model.as_deref() == Some("gpt-5-codex")
            && r.session_id.is_none()));
        assert!(
            rows.iter()
                .all(|r| r.service_name.as_deref() == Some("codex_exec"))
        );
    }

    /// The SDK's second export repeats each cumulative series at a later time: same series keys.
    #[test]
    fn python_sdk_cumulative_series_repeat_across_exports() {
        let first = fixture_rows("py_sdk_agent/008_v1_metrics");
        let second = fixture_rows("py_sdk_agent/009_v1_metrics");
        let other_process = fixture_rows("py_sdk_agent/012_v1_metrics");
        for (a, b) in first.iter().zip(&second) {
            assert_eq!((a.series_key, &a.name), (b.series_key, &b.name));
            assert!(a.time_unix_nano < b.time_unix_nano);
        }
        for (a, c) in first.iter().zip(&other_process) {
            assert_ne!(
                a.series_key, c.series_key,
                "another resource: another series"
            );
        }
        let gauge = named(&first, "agent.queue_depth")[0];
        assert_eq!(
            (
                gauge.kind,
                gauge.temporality,
                gauge.value,
                gauge.start_time_unix_nano
            ),
            ("gauge", None, Some(3.0), None)
        );
        let input = first
            .iter()
            .find(|r| r.token_type.as_deref() == Some("input"))
            .unwrap();
        assert_eq!((input.count, input.sum), (Some(2), Some(280.0)));
        assert_eq!(input.model.as_deref(), Some("gpt-4o-mini"));
        let up_down = named(&first, "agent.active_sessions")[0];
        assert_eq!(up_down.is_monotonic, Some(false));
        assert_eq!(up_down.attributes, json!({}));
    }

    // ---- synthetic metrics ----

    fn kv(key: &str, value: &str) -> KeyValue {
        KeyValue {
            key: key.into(),
            value: Some(AnyValue {
                value: Some(Any::StringValue(value.into())),
            }),
            ..Default::default()
        }
    }

    fn request(metrics: Vec<Metric>) -> ExportMetricsServiceRequest {
        ExportMetricsServiceRequest {
            resource_metrics: vec![ResourceMetrics {
                resource: Some(Resource {
                    attributes: vec![kv("service.name", "svc"), kv("session.id", "s-1")],
                    ..Default::default()
                }),
                scope_metrics: vec![ScopeMetrics {
                    metrics,
                    ..Default::default()
                }],
                ..Default::default()
            }],
        }
    }

    fn metric(name: &str, data: Data) -> Metric {
        Metric {
            name: name.into(),
            data: Some(data),
            ..Default::default()
        }
    }

    #[test]
    fn series_keys_ignore_attribute_order_but_not_values() {
        let point = |attributes: Vec<KeyValue>| NumberDataPoint {
            attributes,
            time_unix_nano: 5,
            value: Some(Number::AsInt(1)),
            ..Default::default()
        };
        let gauge = |points| {
            metric(
                "g",
                Data::Gauge(Gauge {
                    data_points: points,
                }),
            )
        };
        let rows = map_request(&request(vec![gauge(vec![
            point(vec![kv("a", "1"), kv("b", "2")]),
            point(vec![kv("b", "2"), kv("a", "1")]),
            point(vec![kv("a", "1"), kv("b", "3")]),
        ])]))
        .rows;
        assert_eq!(rows[0].series_key, rows[1].series_key);
        assert_ne!(rows[0].series_key, rows[2].series_key);
        assert_eq!(
            rows[0].session_id.as_deref(),
            Some("s-1"),
            "from the resource"
        );
        assert_eq!(rows[0].value, Some(1.0));
        let other_name = map_request(&request(vec![metric(
            "h",
            Data::Gauge(Gauge {
                data_points: vec![point(vec![kv("a", "1"), kv("b", "2")])],
            }),
        )]))
        .rows;
        assert_ne!(rows[0].series_key, other_name[0].series_key);
    }

    #[test]
    fn exponential_histograms_summaries_flags_and_bad_times() {
        let exponential = metric(
            "e",
            Data::ExponentialHistogram(ExponentialHistogram {
                aggregation_temporality: 1,
                data_points: vec![ExponentialHistogramDataPoint {
                    time_unix_nano: 9,
                    start_time_unix_nano: 3,
                    count: 4,
                    sum: Some(10.5),
                    scale: 2,
                    zero_count: 1,
                    positive: Some(Buckets {
                        offset: -1,
                        bucket_counts: vec![1, 2],
                    }),
                    ..Default::default()
                }],
            }),
        );
        let summary = metric(
            "s",
            Data::Summary(Summary {
                data_points: vec![SummaryDataPoint {
                    time_unix_nano: 9,
                    count: 2,
                    sum: 3.0,
                    quantile_values: vec![ValueAtQuantile {
                        quantile: 0.5,
                        value: f64::NAN,
                    }],
                    ..Default::default()
                }],
            }),
        );
        let sum = metric(
            "c\0ounter",
            Data::Sum(Sum {
                aggregation_temporality: 2,
                is_monotonic: true,
                data_points: vec![
                    NumberDataPoint {
                        time_unix_nano: 9,
                        flags: NO_RECORDED_VALUE,
                        value: Some(Number::AsDouble(0.0)),
                        ..Default::default()
                    },
                    NumberDataPoint {
                        time_unix_nano: 0,
                        ..Default::default()
                    },
                ],
            }),
        );
        let mapped = map_request(&request(vec![exponential, summary, sum]));
        assert_eq!(mapped.rows.len(), 3);
        assert_eq!(mapped.rejected.len(), 1);
        assert!(mapped.rejected[0].reason.contains("c\u{FFFD}ounter"));
        let [e, s, c] = &mapped.rows[..] else {
            panic!("three rows")
        };
        assert_eq!(
            (
                e.kind,
                e.temporality,
                e.count,
                e.sum,
                e.start_time_unix_nano
            ),
            (
                "exponential_histogram",
                Some("delta"),
                Some(4),
                Some(10.5),
                Some(3)
            )
        );
        assert_eq!(
            e.exponential_buckets,
            Some(json!({"scale": 2, "zero_count": 1, "zero_threshold": 0.0,
                        "positive": {"offset": -1, "bucket_counts": [1, 2]}, "negative": null}))
        );
        assert_eq!((s.kind, s.count, s.sum), ("summary", Some(2), Some(3.0)));
        assert_eq!(
            s.quantiles,
            Some(json!([{"quantile": 0.5, "value": "NaN"}]))
        );
        assert_eq!(
            (c.name.as_str(), c.value, c.temporality),
            ("c\u{FFFD}ounter", None, Some("cumulative")),
            "no recorded value: NULL, not 0"
        );
    }
}
