//! OTLP spans -> rows of `agent_trace.agent_spans`. Pure: no I/O, no clock.
//!
//! Typed columns (model, tokens, cost, session, ...) are filled from every dialect real agents send
//! (GenAI semantic conventions, OpenInference, Agno, Claude Code, Codex, Gemini CLI) with a fixed
//! priority: the first key present wins. The original attributes, resource attributes, events and
//! links are kept as JSON. A span that cannot be stored (bad id, no start time) is rejected alone,
//! with a reason; text that PostgreSQL cannot store (NUL characters) is sanitised.
//!
//! | column | comes from |
//! |---|---|
//! | `trace_id`, `span_id` | exactly 16 / 8 bytes, not all zero; otherwise the span is rejected |
//! | `parent_span_id` | 8 bytes, not all zero; otherwise NULL (the span is a root) |
//! | `start_time`, `end_time` | unix nanos; start 0 rejects the span; end 0 or before start becomes start |
//! | `span_kind` | OTLP kind 0-5 -> `UNSPECIFIED` .. `CONSUMER`; unknown -> `UNSPECIFIED` |
//! | `status_code`, `status_message` | 0 `UNSET`, 1 `OK`, 2 `ERROR`, unknown `UNSET`; message NULL when empty |
//! | `span_type` | the first that decides: `openinference.span.kind`, `gen_ai.operation.name`, vendor span names, vendor attributes; else `other` (see `span_type`) |
//! | `service_name` | resource `service.name` only |
//! | `scope_name`, `scope_version` | the instrumentation scope; NULL when empty |
//! | `model`, `provider`, tokens, `cost_usd`, `tool_name`, `input`, `output` | span attributes: first key of the column's list (e.g. `MODEL`) present wins |
//! | `input_tokens` | includes cached tokens, as the column's COMMENT says: Claude Code's `input_tokens` (Anthropic's count, without the cache) plus its `cache_read_tokens` and `cache_creation_tokens`, as on its `api_request` log events; every other key as reported |
//! | `agent_name`, `agent_id`, `session_id`, `user_id`, `run_id`, `team_id`, `workflow_id`, `correlation_id` | the same on span attributes, then on resource attributes (one process often is one session, user or agent) |
//! | `attributes`, `resource_attributes` | JSON object of every attribute, last duplicate wins (jsonb keeps the last): text written by `json.rs`, one buffer per request |
//! | `events`, `links` | JSON arrays of `{name, time, attributes}` (time RFC 3339 UTC, nanoseconds) / `{trace_id, span_id, attributes}` (hex); an evaluation event (`gen_ai.evaluation.result`) also gives a score, a row of its own (`scores.rs`) |
//! | every string in a row | NUL becomes U+FFFD: PostgreSQL text and jsonb cannot hold it |
//!
//! "Present" means a value that is neither missing nor an empty string. A present value that is
//! unusable (a token count that is negative or not a number) gives NULL: it does not fall through to
//! a lower-priority key, so one column never mixes two dialects' opinions. Numbers may arrive as
//! strings (`"42"`, `" 42 "`, `"1.5e3"`) and token counts as whole doubles (`42.0`). Text columns take
//! strings verbatim and any other value as its JSON text.

use super::attrs::{
    Attrs, clean, first, hex, hex_into, id, index, non_empty, number, plus, text, token_count,
};
use super::json::{self, JsonText};
use super::keys::*;
use super::redact::Redaction;
use super::scores;
use super::{Mapped, Rejected};
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::any_value::Value as Any;
use opentelemetry_proto::tonic::trace::v1::Span;
use opentelemetry_proto::tonic::trace::v1::span::{Event, Link};
use std::fmt::Write as _;
use std::ops::Range;
use std::sync::Arc;

/// One row for `agent_trace.agent_spans`, in the shape the writer copies.
#[derive(Debug, Clone, PartialEq)]
pub struct SpanRow {
    pub trace_id: [u8; 16],
    /// The project the span belongs to: `map::DEFAULT_PROJECT` until `map::own` says otherwise.
    pub project_id: i32,
    pub span_id: [u8; 8],
    pub parent_span_id: Option<[u8; 8]>,
    /// Nanoseconds since the Unix epoch, as OTLP sends them.
    pub start_time_unix_nano: u64,
    pub end_time_unix_nano: u64,
    pub name: String,
    /// `INTERNAL`, `SERVER`, `CLIENT`, `PRODUCER`, `CONSUMER` or `UNSPECIFIED`.
    pub span_kind: &'static str,
    /// One of the `span_type` vocabulary in extension/sql/tables.sql.
    pub span_type: &'static str,
    /// `UNSET`, `OK` or `ERROR`.
    pub status_code: &'static str,
    pub status_message: Option<String>,
    /// The resource's and scope's: shared by the rows of a request, not copied into each.
    pub service_name: Option<Arc<str>>,
    pub scope_name: Option<Arc<str>>,
    pub scope_version: Option<Arc<str>>,
    pub model: Option<String>,
    pub provider: Option<String>,
    pub input_tokens: Option<i64>,
    pub output_tokens: Option<i64>,
    pub cache_read_tokens: Option<i64>,
    pub cache_write_tokens: Option<i64>,
    pub reasoning_tokens: Option<i64>,
    pub cost_usd: Option<f64>,
    pub tool_name: Option<String>,
    pub agent_name: Option<String>,
    pub agent_id: Option<String>,
    pub session_id: Option<String>,
    pub user_id: Option<String>,
    pub run_id: Option<String>,
    pub team_id: Option<String>,
    pub workflow_id: Option<String>,
    pub correlation_id: Option<String>,
    pub input: Option<String>,
    pub output: Option<String>,
    /// JSON object of all span attributes.
    pub attributes: JsonText,
    /// JSON object of the resource attributes.
    pub resource_attributes: JsonText,
    /// JSON array of `{name, time, attributes}`.
    pub events: JsonText,
    /// JSON array of `{trace_id, span_id, attributes}`.
    pub links: JsonText,
    /// The model response the span returned (`gen_ai.response.id`), stored in `attributes`: not a
    /// column, the writer links the scores that name it (`write`).
    pub response_id: Option<String>,
}

/// What the spans of one resource and scope share.
struct Context<'a> {
    resource: &'a Attrs<'a>,
    /// The resource attributes' JSON text in the request's buffer.
    resource_json: Range<usize>,
    service_name: Option<Arc<str>>,
    scope_name: Option<Arc<str>>,
    scope_version: Option<Arc<str>>,
    redaction: &'a Redaction,
}

/// Maps every span of the request, all content kept; a span that cannot be stored is rejected
/// alone, with its reason.
pub fn map_request(request: &ExportTraceServiceRequest) -> Mapped<SpanRow> {
    map_request_redacted(request, &Redaction::keep())
}

/// `map_request` with the JSON columns' content redacted by `redaction` as they are written
/// (their text cannot be edited afterwards); `map::own` then redacts the text columns with the
/// same redaction.
pub fn map_request_redacted(
    request: &ExportTraceServiceRequest,
    redaction: &Redaction,
) -> Mapped<SpanRow> {
    let mut mapped = Mapped::default();
    // Every JSON column of the request is written into this one buffer: one allocation that
    // grows, rather than trees of them per span.
    let mut buffer = String::new();
    let pending = Arc::new(String::new());
    for resource_spans in &request.resource_spans {
        let resource_attributes = resource_spans
            .resource
            .as_ref()
            .map_or(&[][..], |r| &r.attributes[..]);
        let resource = index(resource_attributes);
        let resource_json = written(&mut buffer, |out| {
            json::attributes(out, resource_attributes, redaction)
        });
        let service_name: Option<Arc<str>> = text(&resource, &["service.name"]).map(Arc::from);
        for scope_spans in &resource_spans.scope_spans {
            let scope = scope_spans.scope.as_ref();
            let context = Context {
                resource: &resource,
                resource_json: resource_json.clone(),
                service_name: service_name.clone(),
                scope_name: scope.and_then(|s| non_empty(&s.name)).map(Arc::from),
                scope_version: scope.and_then(|s| non_empty(&s.version)).map(Arc::from),
                redaction,
            };
            for span in &scope_spans.spans {
                match map_span(span, &context, &mut buffer, &pending) {
                    Ok(row) => {
                        for event in span
                            .events
                            .iter()
                            .filter(|e| scores::is_evaluation_event(e))
                        {
                            match scores::from_span_event(
                                event,
                                row.project_id,
                                row.trace_id,
                                row.span_id,
                                row.response_id.as_deref(),
                                row.end_time_unix_nano,
                            ) {
                                Ok(score) => mapped.scores.push(score),
                                Err(reason) => mapped.skipped_scores.push(Rejected { reason }),
                            }
                        }
                        mapped.rows.push(row);
                    }
                    Err(reason) => mapped.rejected.push(Rejected { reason }),
                }
            }
        }
    }
    let buffer = Arc::new(buffer);
    for row in &mut mapped.rows {
        for column in [
            &mut row.attributes,
            &mut row.resource_attributes,
            &mut row.events,
            &mut row.links,
        ] {
            column.set_text(&buffer);
        }
    }
    mapped
}

/// The JSON columns of every span of `request` (attributes, resource attributes, events, links,
/// in span order) the way they were mapped before `map::json`: as `serde_json::Value`s, all
/// content kept. The reference the written text is compared with through PostgreSQL's jsonb
/// (`ingest/tests/columns.rs`).
#[cfg(any(test, feature = "test-support"))]
pub fn value_columns(request: &ExportTraceServiceRequest) -> Vec<[serde_json::Value; 4]> {
    use super::attrs::attributes_json;
    use serde_json::{Value, json};
    let mut columns = Vec::new();
    for resource_spans in &request.resource_spans {
        let resource = attributes_json(
            resource_spans
                .resource
                .as_ref()
                .map_or(&[][..], |r| &r.attributes[..]),
        );
        for span in resource_spans.scope_spans.iter().flat_map(|s| &s.spans) {
            let events = span.events.iter().map(|event| {
                json!({
                    "name": clean(&event.name),
                    "time": rfc3339(event.time_unix_nano),
                    "attributes": attributes_json(&event.attributes),
                })
            });
            let links = span.links.iter().map(|link| {
                json!({
                    "trace_id": hex(&link.trace_id),
                    "span_id": hex(&link.span_id),
                    "attributes": attributes_json(&link.attributes),
                })
            });
            columns.push([
                attributes_json(&span.attributes),
                resource.clone(),
                Value::Array(events.collect()),
                Value::Array(links.collect()),
            ]);
        }
    }
    columns
}

/// The range of `buffer` that `write` appends.
fn written(buffer: &mut String, write: impl FnOnce(&mut String)) -> Range<usize> {
    let start = buffer.len();
    write(buffer);
    start..buffer.len()
}

/// `map_request`'s row of one span; its JSON columns are appended to `buffer` and point to
/// `pending` until the buffer is complete.
fn map_span(
    span: &Span,
    context: &Context,
    buffer: &mut String,
    pending: &Arc<String>,
) -> Result<SpanRow, String> {
    let why = |reason: String| {
        format!(
            "span {} of trace {}: {reason}",
            hex_or_empty(&span.span_id),
            hex_or_empty(&span.trace_id)
        )
    };
    let trace_id = required_id::<16>(&span.trace_id, "trace_id").map_err(why)?;
    let span_id = required_id::<8>(&span.span_id, "span_id").map_err(why)?;
    if span.start_time_unix_nano == 0 {
        return Err(why("start_time_unix_nano is 0".into()));
    }
    // A broken parent id loses only the link to the parent: the span itself is still worth keeping.
    let parent_span_id = id::<8>(&span.parent_span_id);
    let end_time_unix_nano = span.end_time_unix_nano.max(span.start_time_unix_nano);

    let attrs = index(&span.attributes);
    let status = span.status.as_ref();
    // Identity columns: the span's own value, else the resource's.
    let identity = |keys: &[&str]| text(&attrs, keys).or_else(|| text(context.resource, keys));
    let redaction = context.redaction;
    let column = |range| JsonText::new(Arc::clone(pending), range);
    let attributes = written(buffer, |out| {
        json::attributes(out, &span.attributes, redaction)
    });
    let events = written(buffer, |out| events_json(out, &span.events, redaction));
    let links = written(buffer, |out| links_json(out, &span.links));
    Ok(SpanRow {
        trace_id,
        project_id: super::DEFAULT_PROJECT,
        span_id,
        parent_span_id,
        start_time_unix_nano: span.start_time_unix_nano,
        end_time_unix_nano,
        name: clean(&span.name),
        span_kind: span_kind(span.kind),
        span_type: span_type(&span.name, &attrs),
        status_code: status_code(status.map_or(0, |s| s.code)),
        status_message: status.and_then(|s| non_empty(&s.message)),
        service_name: context.service_name.clone(),
        scope_name: context.scope_name.clone(),
        scope_version: context.scope_version.clone(),
        model: text(&attrs, MODEL),
        provider: text(&attrs, PROVIDER),
        input_tokens: input_tokens(&attrs),
        output_tokens: first(&attrs, OUTPUT_TOKENS).and_then(token_count),
        cache_read_tokens: first(&attrs, CACHE_READ_TOKENS).and_then(token_count),
        cache_write_tokens: first(&attrs, CACHE_WRITE_TOKENS).and_then(token_count),
        reasoning_tokens: first(&attrs, REASONING_TOKENS).and_then(token_count),
        cost_usd: first(&attrs, COST_USD).and_then(number),
        tool_name: text(&attrs, TOOL_NAME),
        agent_name: identity(AGENT_NAME),
        agent_id: identity(AGENT_ID),
        session_id: identity(SESSION_ID),
        user_id: identity(USER_ID),
        run_id: identity(RUN_ID),
        team_id: identity(TEAM_ID),
        workflow_id: identity(WORKFLOW_ID),
        correlation_id: identity(CORRELATION_ID),
        input: text(&attrs, INPUT),
        output: text(&attrs, OUTPUT),
        attributes: column(attributes),
        resource_attributes: column(context.resource_json.clone()),
        events: column(events),
        links: column(links),
        response_id: text(&attrs, &[RESPONSE_ID]),
    })
}

/// A span's own id or its trace's: without one the span cannot be stored, and the reason says why.
fn required_id<const N: usize>(bytes: &[u8], what: &str) -> Result<[u8; N], String> {
    id(bytes).ok_or_else(|| {
        if bytes.len() == N {
            format!("{what} is all zeros")
        } else {
            format!("{what} has {} bytes, not {N}", bytes.len())
        }
    })
}

fn span_kind(kind: i32) -> &'static str {
    match kind {
        1 => "INTERNAL",
        2 => "SERVER",
        3 => "CLIENT",
        4 => "PRODUCER",
        5 => "CONSUMER",
        _ => "UNSPECIFIED",
    }
}

fn status_code(code: i32) -> &'static str {
    match code {
        1 => "OK",
        2 => "ERROR",
        _ => "UNSET",
    }
}

/// What the span does for the agent, decided by the first of: `openinference.span.kind` (Agno's
/// `AGENT` with `agno.team.id` is a team), `gen_ai.operation.name`, the coding CLIs' span names,
/// Claude Code's `span.type`, Codex's usage attributes. Unknown values fall through to the next.
fn span_type(name: &str, attrs: &Attrs) -> &'static str {
    if let Some(kind) = lookup(
        OPENINFERENCE_KINDS,
        string(attrs, "openinference.span.kind"),
    ) {
        // Agno marks a team run as an AGENT span that carries a team id.
        let team = kind == "agent" && first(attrs, &["agno.team.id"]).is_some();
        return if team { "team" } else { kind };
    }
    if let Some(kind) = lookup(GENAI_OPERATIONS, string(attrs, "gen_ai.operation.name")) {
        return kind;
    }
    if let Some(kind) = lookup(VENDOR_SPAN_NAMES, Some(name)) {
        return kind;
    }
    if let Some(kind) = lookup(CLAUDE_SPAN_TYPES, string(attrs, "span.type")) {
        return kind;
    }
    let has_prefix = |prefix: &str| attrs.keys().any(|key| key.starts_with(prefix));
    if has_prefix(CODEX_TURN_USAGE) {
        return "agent";
    }
    if has_prefix(CODEX_RESPONSE_USAGE) {
        return "llm";
    }
    "other"
}

/// The input_tokens column: the first key of INPUT_TOKENS present, plus the cache counts when that
/// key is Claude Code's (its log events are read the same way, logs.rs), so the column means
/// the same, prompt tokens including cached ones, whoever sent it.
fn input_tokens(attrs: &Attrs) -> Option<i64> {
    let (key, value) = INPUT_TOKENS
        .iter()
        .find_map(|key| first(attrs, &[key]).map(|value| (*key, value)))?;
    let count = token_count(value);
    if key != CLAUDE_INPUT_TOKENS {
        return count;
    }
    let cache = CLAUDE_CACHE_TOKENS.map(|key| first(attrs, &[key]).and_then(token_count));
    plus(count, &cache)
}

fn lookup(table: &[(&str, &'static str)], value: Option<&str>) -> Option<&'static str> {
    let value = value?;
    table
        .iter()
        .find(|(key, _)| key.eq_ignore_ascii_case(value))
        .map(|(_, span_type)| *span_type)
}

fn string<'a>(attrs: &Attrs<'a>, key: &str) -> Option<&'a str> {
    match attrs.get(key).copied().flatten() {
        Some(Any::StringValue(s)) => Some(s),
        _ => None,
    }
}

/// Events as a JSON array of `{name, time, attributes}`, their attributes redacted.
fn events_json(out: &mut String, events: &[Event], redaction: &Redaction) {
    out.push('[');
    for (i, event) in events.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str("{\"name\":");
        json::string(out, &event.name);
        out.push_str(",\"time\":\"");
        rfc3339_into(out, event.time_unix_nano);
        out.push_str("\",\"attributes\":");
        json::attributes(out, &event.attributes, redaction);
        out.push('}');
    }
    out.push(']');
}

/// Links as a JSON array of `{trace_id, span_id, attributes}` (ids in hex; never redacted).
fn links_json(out: &mut String, links: &[Link]) {
    out.push('[');
    for (i, link) in links.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str("{\"trace_id\":\"");
        hex_into(out, &link.trace_id);
        out.push_str("\",\"span_id\":\"");
        hex_into(out, &link.span_id);
        out.push_str("\",\"attributes\":");
        json::object(out, &link.attributes, None);
        out.push('}');
    }
    out.push(']');
}

fn hex_or_empty(bytes: &[u8]) -> String {
    if bytes.is_empty() {
        "(empty)".to_owned()
    } else {
        hex(bytes)
    }
}

/// Unix nanoseconds as RFC 3339 UTC with nanoseconds, e.g. `2023-11-14T22:13:20.123456789Z`.
#[cfg(any(test, feature = "test-support"))]
fn rfc3339(unix_nanos: u64) -> String {
    let mut out = String::new();
    rfc3339_into(&mut out, unix_nanos);
    out
}

/// Appends `rfc3339`'s text.
fn rfc3339_into(out: &mut String, unix_nanos: u64) {
    let seconds = unix_nanos / 1_000_000_000;
    let nanos = unix_nanos % 1_000_000_000;
    let (year, month, day) = civil_from_days(seconds / 86_400);
    let second_of_day = seconds % 86_400;
    let (hour, minute, second) = (
        second_of_day / 3600,
        second_of_day / 60 % 60,
        second_of_day % 60,
    );
    let _ = write!(
        out,
        "{year:04}-{month:02}-{day:02}T{hour:02}:{minute:02}:{second:02}.{nanos:09}Z"
    );
}

/// Days since 1970-01-01 -> (year, month, day) in the proleptic Gregorian calendar (Howard Hinnant's
/// `civil_from_days`, for non-negative days: u64 nanoseconds end in the year 2554).
fn civil_from_days(days: u64) -> (u64, u64, u64) {
    let z = days + 719_468; // days since 0000-03-01: years then end with February and its leap day
    let era = z / 146_097; // 400-year eras
    let day_of_era = z % 146_097;
    let year_of_era =
        (day_of_era - day_of_era / 1_460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_from_march = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * month_from_march + 2) / 5 + 1;
    let month = if month_from_march < 10 {
        month_from_march + 3
    } else {
        month_from_march - 9
    };
    let year = era * 400 + year_of_era + u64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::{self, Fixture};
    use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
    use opentelemetry_proto::tonic::common::v1::{
        AnyValue, ArrayValue, InstrumentationScope, KeyValue, KeyValueList,
    };
    use opentelemetry_proto::tonic::resource::v1::Resource;
    use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Status};
    use serde_json::json;
    use std::collections::BTreeMap;

    // ---- captured requests of real clients ----

    fn map_fixture(fixture: &Fixture) -> Mapped<SpanRow> {
        map_request(&fixture.decode())
    }

    /// The rows of one fixture, which must map without a rejection.
    fn fixture_rows(name: &str) -> Vec<SpanRow> {
        let mapped = map_fixture(&fixtures::find(name));
        assert!(mapped.rejected.is_empty(), "{name}: {:?}", mapped.rejected);
        mapped.rows
    }

    fn named<'a>(rows: &'a [SpanRow], name: &str) -> Vec<&'a SpanRow> {
        rows.iter().filter(|row| row.name == name).collect()
    }

    fn only<'a>(rows: &'a [SpanRow], name: &str) -> &'a SpanRow {
        let found = named(rows, name);
        assert_eq!(found.len(), 1, "spans named {name}");
        found[0]
    }

    /// Per trace: (llm calls, input tokens, output tokens) summed over llm/embedding spans only, as the
    /// database's rollup does (NULL adds nothing).
    fn trace_totals(rows: &[SpanRow]) -> BTreeMap<[u8; 16], (usize, i64, i64)> {
        let mut totals = BTreeMap::new();
        for row in rows
            .iter()
            .filter(|row| matches!(row.span_type, "llm" | "embedding"))
        {
            let total = totals.entry(row.trace_id).or_insert((0, 0, 0));
            total.0 += usize::from(row.span_type == "llm");
            total.1 += row.input_tokens.unwrap_or(0);
            total.2 += row.output_tokens.unwrap_or(0);
        }
        totals
    }

    /// The fake model APIs answer every call with 42 input and 17 output tokens: a trace's totals are
    /// exactly `calls` times that when no usage is counted twice.
    fn assert_canned_usage(rows: &[SpanRow], calls: usize) {
        let totals: Vec<_> = trace_totals(rows).into_values().collect();
        assert_eq!(totals, vec![(calls, 42 * calls as i64, 17 * calls as i64)]);
    }

    fn parse_hex<const N: usize>(hex: &str) -> [u8; N] {
        let bytes: Vec<u8> = (0..hex.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
            .collect();
        bytes.try_into().unwrap()
    }

    #[test]
    fn every_traces_fixture_maps_every_span() {
        for fixture in fixtures::load("traces") {
            let (spans, events, links) = (
                fixture.counts.spans,
                fixture.counts.events,
                fixture.counts.links,
            );
            let mapped = map_fixture(&fixture);
            assert!(
                mapped.rejected.is_empty(),
                "{}: {:?}",
                fixture.name,
                mapped.rejected
            );
            assert_eq!(mapped.rows.len(), spans, "{} spans", fixture.name);
            let count = |json: fn(&SpanRow) -> &JsonText| -> usize {
                mapped
                    .rows
                    .iter()
                    .map(|row| json(row).value().unwrap().as_array().unwrap().len())
                    .sum()
            };
            assert_eq!(count(|row| &row.events), events, "{} events", fixture.name);
            assert_eq!(count(|row| &row.links), links, "{} links", fixture.name);
            for row in &mapped.rows {
                assert!(row.attributes.value().unwrap().is_object());
                assert!(row.resource_attributes.value().unwrap().is_object());
                assert!(row.end_time_unix_nano >= row.start_time_unix_nano);
                assert!(
                    row.service_name.is_some(),
                    "{}: {} has no service",
                    fixture.name,
                    row.name
                );
            }
        }
    }

    /// The GenAI agent trace of the OpenTelemetry SDKs (Python one span per request, Python batched,
    /// Node in four encodings). These harness clients set their own usage numbers rather than the
    /// fake API's: 120/24 and 160/31 for the two chat calls, 280/55 repeated on the agent span.
    #[test]
    fn genai_agent_trace_python_and_node() {
        let single: Vec<SpanRow> = (1..=6)
            .flat_map(|n| fixture_rows(&format!("py_sdk_agent/00{n}_v1_traces")))
            .collect();
        let mut requests = vec![("py_sdk_agent single spans", single)];
        for name in ["py_sdk_agent/010_v1_traces", "py_sdk_agent/014_v1_traces"] {
            requests.push((name, fixture_rows(name)));
        }
        for n in 1..=4 {
            requests.push((
                "node_otel",
                fixture_rows(&format!("node_otel/00{n}_v1_traces")),
            ));
        }
        for (what, rows) in &requests {
            let python = what.starts_with("py_");
            let chats = named(rows, "chat gpt-4o-mini");
            let usage: Vec<_> = chats
                .iter()
                .map(|row| (row.input_tokens, row.output_tokens))
                .collect();
            assert_eq!(
                usage,
                [(Some(120), Some(24)), (Some(160), Some(31))],
                "{what}"
            );
            for chat in &chats {
                assert_eq!(
                    (chat.span_type, chat.span_kind),
                    ("llm", "CLIENT"),
                    "{what}"
                );
                assert_eq!(chat.model.as_deref(), Some("gpt-4o-mini"));
                assert_eq!(
                    chat.scope_name.as_deref(),
                    Some(if python {
                        "harness.agent"
                    } else {
                        "harness.node.agent"
                    })
                );
                assert_eq!(chat.scope_version.as_deref(), Some("0.1.0"));
            }

            let tool = only(rows, "execute_tool get_weather");
            assert_eq!(
                (tool.span_type, tool.tool_name.as_deref()),
                ("tool", Some("get_weather")),
                "{what}"
            );
            assert_eq!(
                tool.output.as_deref(),
                Some(if python {
                    r#"{"temp_c":21,"sky":"sunny"}"#
                } else {
                    r#"{"temp_c":21}"#
                })
            );
            assert_eq!(
                tool.input.as_deref(),
                python.then_some(r#"{"city":"Paris"}"#)
            );
            assert_eq!(tool.input_tokens, None);

            let failing = only(rows, "http GET weather-backend");
            assert_eq!(
                (failing.status_code, failing.status_message.as_deref()),
                ("ERROR", Some("backend timeout")),
                "{what}"
            );
            assert_eq!(failing.span_type, "other");
            assert_eq!(failing.events.value().unwrap()[0]["name"], "exception");
            assert_eq!(
                failing.attributes.value().unwrap()["error.type"],
                "TimeoutError"
            );

            let agent = only(rows, "invoke_agent weather_agent");
            assert_eq!(
                (agent.span_type, agent.agent_name.as_deref()),
                ("agent", Some("weather_agent")),
                "{what}"
            );
            assert_eq!(
                (agent.input_tokens, agent.output_tokens),
                (Some(280), Some(55))
            );
            assert_eq!(agent.provider.as_deref(), Some("openai"));
            assert_eq!(agent.links.value().unwrap().as_array().unwrap().len(), 1);
            let previous = only(rows, "previous_session");
            assert_eq!(
                agent.links.value().unwrap()[0]["trace_id"],
                hex(&previous.trace_id)
            );
            assert_eq!(
                agent.links.value().unwrap()[0]["span_id"],
                hex(&previous.span_id)
            );
            assert_eq!(
                agent.links.value().unwrap()[0]["attributes"],
                json!({"link.reason": "continues_session"})
            );
            if python {
                // gen_ai.conversation.id outranks OpenInference's session.id.
                assert_eq!(agent.session_id.as_deref(), Some("conv-42"));
                assert_eq!(
                    (agent.user_id.as_deref(), agent.agent_id.as_deref()),
                    (Some("user-7"), Some("agent-123"))
                );
                assert_eq!(previous.session_id.as_deref(), Some("sess-prev-001"));
                assert_eq!(agent.service_name.as_deref(), Some("harness-py-sdk-agent"));
                assert_eq!(
                    agent.resource_attributes.value().unwrap()["deployment.environment"],
                    "test"
                );
                // One trace: its LLM spans add up to what the agent span reports, not twice that.
                let totals: Vec<_> = trace_totals(rows).into_values().collect();
                assert_eq!(totals, [(2, 280, 55)], "{what}");
                assert!(
                    rows.iter()
                        .filter(|row| row.name != "previous_session")
                        .all(|row| row.trace_id == agent.trace_id)
                );
                for child in rows
                    .iter()
                    .filter(|row| row.trace_id == agent.trace_id && row.span_id != agent.span_id)
                {
                    assert!(child.parent_span_id.is_some(), "{}", child.name);
                }
            } else {
                assert_eq!(agent.session_id.as_deref(), Some("sess-node-1"));
                assert_eq!(agent.service_name.as_deref(), Some("harness-node-agent"));
                assert_eq!(
                    agent.attributes.value().unwrap()["some.int_array"],
                    json!([1, 2, 3])
                );
                assert_eq!(agent.attributes.value().unwrap()["some.double"], json!(1.5));
                assert_eq!(agent.attributes.value().unwrap()["some.bool"], json!(true));
                // Node propagated no context: every span is its own trace and root.
                assert!(rows.iter().all(|row| row.parent_span_id.is_none()));
                let totals = trace_totals(rows);
                assert_eq!(
                    totals
                        .values()
                        .map(|t| (t.1, t.2))
                        .fold((0, 0), |a, t| (a.0 + t.0, a.1 + t.1)),
                    (280, 55)
                );
            }
            assert_eq!(agent.parent_span_id, None);
            assert_eq!(agent.events.value().unwrap()[0]["name"], "agent.start");
            assert!(
                agent.events.value().unwrap()[0]["time"]
                    .as_str()
                    .unwrap()
                    .starts_with("2026-11-21T")
            );
        }
    }

    #[test]
    fn openinference_llm_spans() {
        let rows = fixture_rows("py_openai_openinference/001_v1_traces");
        let llm = named(&rows, "ChatCompletion");
        assert_eq!(llm.len(), 3);
        for row in &llm {
            assert_eq!((row.span_type, row.status_code), ("llm", "OK"));
            assert_eq!(
                (row.model.as_deref(), row.provider.as_deref()),
                (Some("gpt-4o-mini"), Some("openai"))
            );
            assert_eq!((row.input_tokens, row.output_tokens), (Some(42), Some(17)));
            assert!(
                row.input
                    .as_deref()
                    .unwrap()
                    .starts_with(r#"{"model": "gpt-4o-mini""#)
            );
            assert!(
                row.output.as_deref().unwrap().contains("chatcmpl")
                    || row.output.as_deref().unwrap().contains("fake model answer")
            );
            assert_eq!(
                row.scope_name.as_deref(),
                Some("openinference.instrumentation.openai")
            );
            assert_eq!(row.scope_version.as_deref(), Some("0.1.66"));
        }
        let tool = only(&rows, "execute_tool get_weather");
        assert_eq!(
            (tool.span_type, tool.tool_name.as_deref()),
            ("tool", Some("get_weather"))
        );
        assert_eq!(
            (tool.scope_name.as_deref(), tool.scope_version.as_deref()),
            (Some("harness.openai.app"), None)
        );
        let agent = only(&rows, "invoke_agent weather_agent");
        assert_eq!(
            (agent.span_type, agent.agent_name.as_deref()),
            ("agent", Some("weather_agent"))
        );
        assert_eq!(
            agent.service_name.as_deref(),
            Some("harness-openai-openinference")
        );
        assert_canned_usage(&rows, 3);
    }

    #[test]
    fn claude_code_spans() {
        for name in [
            "cli_claude/001_v1_traces",
            "cli_claude/004_v1_traces",
            "cli_claude/007_v1_traces",
        ] {
            let rows = fixture_rows(name);
            let interaction = only(&rows, "claude_code.interaction");
            assert_eq!(interaction.span_type, "agent", "{name}");
            assert_eq!(
                interaction.input.as_deref(),
                Some("Say hello in one short sentence.")
            );
            assert_eq!(interaction.input_tokens, None);
            for llm in named(&rows, "claude_code.llm_request") {
                assert_eq!(llm.span_type, "llm", "{name}");
                assert_eq!(
                    (llm.model.as_deref(), llm.provider.as_deref()),
                    (Some("claude-sonnet-4-5"), Some("anthropic"))
                );
                // Sent as ints (protobuf) and JSON numbers (004); no cache was used.
                assert_eq!((llm.input_tokens, llm.output_tokens), (Some(42), Some(17)));
                assert_eq!(
                    (llm.cache_read_tokens, llm.cache_write_tokens),
                    (Some(0), Some(0))
                );
                assert_eq!(llm.parent_span_id, Some(interaction.span_id));
            }
            for row in &rows {
                assert_eq!(row.session_id, interaction.session_id);
                assert_eq!(row.user_id, interaction.user_id);
                assert_eq!(row.service_name.as_deref(), Some("claude-code"));
            }
            assert_eq!(
                interaction.session_id.as_deref().map(str::len),
                Some(36),
                "{name}: a UUID"
            );
            assert_eq!(
                interaction.user_id.as_deref().map(str::len),
                Some(64),
                "{name}: a hash"
            );
            assert_canned_usage(&rows, 2);
        }
    }

    /// Claude Code reports each model call twice, as a `claude_code.llm_request` span and as an
    /// `api_request` log event, with the same `input_tokens` (Anthropic's, without the cache),
    /// `cache_read_tokens` and `cache_creation_tokens`. Both become the same columns, with the cache
    /// inside input_tokens: on the captured run (no cache used) and with its cache counts raised.
    #[test]
    fn claude_code_spans_count_input_like_its_log_events() {
        // The same session: 001 holds its spans, 002 its log events.
        let mut traces: ExportTraceServiceRequest =
            fixtures::find("cli_claude/001_v1_traces").decode();
        let mut logs: ExportLogsServiceRequest = fixtures::find("cli_claude/002_v1_logs").decode();
        let span_usage = |request: &ExportTraceServiceRequest| -> Vec<_> {
            map_request(request)
                .rows
                .iter()
                .filter(|row| row.span_type == "llm")
                .map(|row| {
                    (
                        row.input_tokens,
                        row.output_tokens,
                        row.cache_read_tokens,
                        row.cache_write_tokens,
                    )
                })
                .collect()
        };
        let log_usage = |request: &ExportLogsServiceRequest| -> Vec<_> {
            super::super::logs::map_request(request)
                .rows
                .iter()
                .filter(|row| row.event_name.as_deref() == Some("api_request"))
                .map(|row| {
                    (
                        row.input_tokens,
                        row.output_tokens,
                        row.cache_read_tokens,
                        row.cache_write_tokens,
                    )
                })
                .collect()
        };
        let captured = vec![(Some(42), Some(17), Some(0), Some(0)); 2];
        assert_eq!(span_usage(&traces), captured);
        assert_eq!(log_usage(&logs), captured);

        // The cache counts a session with a prompt cache reports: 100 read, 20 written.
        let set_cache = |attributes: &mut Vec<KeyValue>| {
            let mut seen = 0;
            for kv in attributes.iter_mut() {
                let tokens = match kv.key.as_str() {
                    "cache_read_tokens" => 100,
                    "cache_creation_tokens" => 20,
                    _ => continue,
                };
                kv.value = Some(AnyValue {
                    value: Some(Any::IntValue(tokens)),
                });
                seen += 1;
            }
            seen
        };
        let spans = traces
            .resource_spans
            .iter_mut()
            .flat_map(|r| &mut r.scope_spans);
        for span in spans.flat_map(|s| &mut s.spans) {
            if span.name == "claude_code.llm_request" {
                assert_eq!(
                    set_cache(&mut span.attributes),
                    2,
                    "the span carries both cache counts"
                );
            }
        }
        let scopes = logs
            .resource_logs
            .iter_mut()
            .flat_map(|r| &mut r.scope_logs);
        for record in scopes.flat_map(|s| &mut s.log_records) {
            set_cache(&mut record.attributes);
        }
        let cached = vec![(Some(162), Some(17), Some(100), Some(20)); 2];
        assert_eq!(span_usage(&traces), cached);
        assert_eq!(log_usage(&logs), cached);
    }

    /// Codex reports one model call's usage on two of its 406 spans: per response on handle_responses
    /// (the LLM call) and per turn on session_task.turn (an agent span repeating it).
    #[test]
    fn codex_usage_is_counted_once() {
        let rows = fixture_rows("cli_codex/001_v1_traces");
        let with_usage: Vec<_> = rows
            .iter()
            .filter(|row| row.input_tokens.is_some() || row.output_tokens.is_some())
            .collect();
        let summary: Vec<_> = with_usage
            .iter()
            .map(|row| (row.name.as_str(), row.span_type))
            .collect();
        assert_eq!(summary.len(), 2);
        assert!(
            summary.contains(&("handle_responses", "llm"))
                && summary.contains(&("session_task.turn", "agent")),
            "{summary:?}"
        );

        let response = with_usage
            .iter()
            .find(|row| row.span_type == "llm")
            .unwrap();
        assert_eq!(
            (response.input_tokens, response.output_tokens),
            (Some(42), Some(17))
        );
        assert_eq!(
            (
                response.cache_read_tokens,
                response.cache_write_tokens,
                response.reasoning_tokens
            ),
            (Some(0), Some(0), Some(0))
        );
        let turn = only(&rows, "session_task.turn");
        assert_eq!(
            (turn.input_tokens, turn.output_tokens),
            (Some(42), Some(17))
        );
        assert_eq!(
            (
                turn.cache_read_tokens,
                turn.cache_write_tokens,
                turn.reasoning_tokens
            ),
            (Some(0), Some(0), Some(0))
        );
        assert_eq!(turn.model.as_deref(), Some("gpt-5-codex"));
        assert_eq!(turn.trace_id, response.trace_id);

        // The other handle_responses spans handled stream events without usage: not LLM calls.
        assert_eq!(
            named(&rows, "handle_responses")
                .iter()
                .filter(|row| row.span_type == "llm")
                .count(),
            1
        );
        assert_eq!(rows.iter().filter(|row| row.span_type == "llm").count(), 1);
        assert_canned_usage(&rows, 1);

        assert_eq!(only(&rows, "codex.exec").span_type, "agent");
        assert_eq!(
            only(&rows, "run_turn").session_id.as_deref(),
            Some("01a20083-01ba-7053-8a99-f8b22330b017")
        );
        assert!(
            rows.iter()
                .all(|row| row.service_name.as_deref() == Some("codex_exec"))
        );
        // 18 traces, 17 roots: the parents of some session start-up spans are not in this request.
        let roots = rows
            .iter()
            .filter(|row| row.parent_span_id.is_none())
            .count();
        let traces: std::collections::BTreeSet<_> = rows.iter().map(|row| row.trace_id).collect();
        assert_eq!((roots, traces.len()), (17, 18));
    }

    #[test]
    fn gemini_cli_span() {
        let rows = fixture_rows("cli_gemini/002_v1_traces");
        let [call] = rows.as_slice() else {
            panic!("one span")
        };
        assert_eq!(
            (call.name.as_str(), call.span_type, call.status_code),
            ("llm_call", "llm", "OK")
        );
        assert_eq!(call.agent_name.as_deref(), Some("gemini-cli"));
        assert_eq!(call.model.as_deref(), Some("gemini-2.5-flash"));
        assert_eq!(
            call.session_id.as_deref(),
            Some("65d0320d-322e-458b-bfb3-ba0c5aefc1ca")
        );
        assert_eq!(
            call.resource_attributes.value().unwrap()["session.id"],
            "65d0320d-322e-458b-bfb3-ba0c5aefc1ca"
        );
        assert_eq!(call.service_name.as_deref(), Some("gemini-cli"));
        // No messages were logged: the system instructions are the input.
        assert!(
            call.input
                .as_deref()
                .unwrap()
                .contains("non-interactive CLI agent")
        );
        // Gemini CLI reports usage in logs and metrics, not on this span.
        assert_eq!((call.input_tokens, call.output_tokens), (None, None));
    }

    // ---- synthetic spans ----

    fn kv(key: &str, value: Any) -> KeyValue {
        raw(key, Some(AnyValue { value: Some(value) }))
    }

    fn raw(key: &str, value: Option<AnyValue>) -> KeyValue {
        KeyValue {
            key: key.into(),
            value,
            ..Default::default()
        }
    }

    fn s(text: &str) -> Any {
        Any::StringValue(text.into())
    }

    fn span(trace: u8, id: u8, attributes: Vec<KeyValue>) -> Span {
        Span {
            trace_id: vec![trace; 16],
            span_id: vec![id; 8],
            name: "step".into(),
            kind: 1,
            start_time_unix_nano: 1_000,
            end_time_unix_nano: 2_000,
            attributes,
            ..Default::default()
        }
    }

    fn request(spans: Vec<Span>, resource: Vec<KeyValue>) -> ExportTraceServiceRequest {
        ExportTraceServiceRequest {
            resource_spans: vec![ResourceSpans {
                resource: Some(Resource {
                    attributes: resource,
                    ..Default::default()
                }),
                scope_spans: vec![ScopeSpans {
                    scope: Some(InstrumentationScope {
                        name: "scope".into(),
                        ..Default::default()
                    }),
                    spans,
                    ..Default::default()
                }],
                ..Default::default()
            }],
        }
    }

    fn one(span: Span) -> SpanRow {
        let mapped = map_request(&request(vec![span], vec![kv("service.name", s("svc"))]));
        assert!(mapped.rejected.is_empty(), "{:?}", mapped.rejected);
        assert_eq!(mapped.rows.len(), 1);
        mapped.rows.into_iter().next().unwrap()
    }

    fn with(attributes: Vec<KeyValue>) -> SpanRow {
        one(span(1, 1, attributes))
    }

    #[test]
    fn numbers_sent_as_strings_and_doubles() {
        let row = with(vec![
            kv("gen_ai.usage.input_tokens", s("42")),
            kv("gen_ai.usage.output_tokens", s(" 17 ")),
            kv(
                "gen_ai.usage.cache_read.input_tokens",
                Any::DoubleValue(5.0),
            ),
            kv("gen_ai.usage.cache_creation.input_tokens", s("3.0")),
            kv("gen_ai.usage.reasoning.output_tokens", Any::IntValue(9)),
            kv("gen_ai.usage.cost", s("1.5e3")),
        ]);
        assert_eq!(row.input_tokens, Some(42));
        assert_eq!(row.output_tokens, Some(17));
        assert_eq!(row.cache_read_tokens, Some(5));
        assert_eq!(row.cache_write_tokens, Some(3));
        assert_eq!(row.reasoning_tokens, Some(9));
        assert_eq!(row.cost_usd, Some(1500.0));

        let row = with(vec![
            kv("gen_ai.usage.input_tokens", s("-1")),
            kv("gen_ai.usage.output_tokens", s("many")),
            kv(
                "gen_ai.usage.cache_read.input_tokens",
                Any::DoubleValue(4.5),
            ),
            kv(
                "gen_ai.usage.cache_creation.input_tokens",
                Any::DoubleValue(f64::NAN),
            ),
            kv("gen_ai.usage.reasoning.output_tokens", Any::BoolValue(true)),
            kv("gen_ai.usage.cost", s("inf")),
            // Lower priority: an unusable value above does not fall through to it.
            kv("llm.token_count.prompt", Any::IntValue(7)),
        ]);
        assert_eq!(row.input_tokens, None, "negative");
        assert_eq!(row.output_tokens, None, "not a number");
        assert_eq!(row.cache_read_tokens, None, "not whole");
        assert_eq!(row.cache_write_tokens, None, "NaN");
        assert_eq!(row.reasoning_tokens, None, "bool");
        assert_eq!(row.cost_usd, None, "not finite");

        // Claude Code's input leaves out the cache; the column does not. An absent or unusable
        // cache count adds nothing, and without an input count there is nothing to add to.
        let claude = |attributes: Vec<KeyValue>| with(attributes).input_tokens;
        assert_eq!(
            claude(vec![
                kv("input_tokens", s("10")),
                kv("cache_read_tokens", Any::IntValue(100)),
                kv("cache_creation_tokens", Any::DoubleValue(20.0)),
            ]),
            Some(130)
        );
        assert_eq!(
            claude(vec![
                kv("input_tokens", Any::IntValue(10)),
                kv("cache_read_tokens", s("-1")),
            ]),
            Some(10)
        );
        assert_eq!(
            claude(vec![kv("cache_read_tokens", Any::IntValue(100))]),
            None
        );
        // Another dialect's input already includes its cache reads: stored as reported.
        assert_eq!(
            claude(vec![
                kv("gen_ai.usage.input_tokens", Any::IntValue(10)),
                kv("input_tokens", Any::IntValue(1)),
                kv("cache_read_tokens", Any::IntValue(100)),
            ]),
            Some(10)
        );

        let row = with(vec![
            kv("llm.cost.total", Any::IntValue(3)),
            kv("llm.token_count.prompt", Any::IntValue(7)),
        ]);
        assert_eq!((row.cost_usd, row.input_tokens), (Some(3.0), Some(7)));
        assert_eq!(
            with(vec![kv("cost_usd", Any::DoubleValue(-0.25))]).cost_usd,
            Some(-0.25)
        );
    }

    #[test]
    fn first_present_key_wins() {
        let row = with(vec![
            kv("model", s("claude")),
            kv("llm.model_name", s("oi")),
            kv("gen_ai.response.model", s("gpt-4o-2024")),
            kv("gen_ai.request.model", s("")), // empty: absent
            kv("session.id", s("sess")),
            kv("gen_ai.conversation.id", s("conv")),
            kv("tool.name", Any::IntValue(12)), // not a string: its JSON text
        ]);
        assert_eq!(row.model.as_deref(), Some("gpt-4o-2024"));
        assert_eq!(row.session_id.as_deref(), Some("conv"));
        assert_eq!(row.tool_name.as_deref(), Some("12"));
        assert_eq!(row.provider, None);
    }

    #[test]
    fn identity_falls_back_to_resource_but_other_columns_do_not() {
        let resource = vec![
            kv("service.name", s("svc")),
            kv("session.id", s("resource-session")),
            kv("user.id", s("resource-user")),
            kv("gen_ai.request.model", s("resource-model")),
        ];
        let spans = vec![span(1, 1, vec![kv("user.id", s("span-user"))])];
        let row = &map_request(&request(spans, resource)).rows[0];
        assert_eq!(row.session_id.as_deref(), Some("resource-session"));
        assert_eq!(row.user_id.as_deref(), Some("span-user"));
        assert_eq!(row.model, None);
        assert_eq!(row.service_name.as_deref(), Some("svc"));
        // service.name is only read from the resource.
        let row = &map_request(&request(
            vec![span(1, 1, vec![kv("service.name", s("span"))])],
            vec![],
        ))
        .rows[0];
        assert_eq!(row.service_name, None);
    }

    #[test]
    fn input_and_output_text() {
        let row = with(vec![
            kv("gen_ai.operation.name", s("chat")),
            kv("gen_ai.system_instructions", s("be brief")),
            kv("gen_ai.input.messages", s(r#"[{"role":"user"}]"#)),
            kv(
                "gen_ai.output.messages",
                Any::ArrayValue(ArrayValue {
                    values: vec![AnyValue {
                        value: Some(s("hi")),
                    }],
                }),
            ),
        ]);
        assert_eq!(row.input.as_deref(), Some(r#"[{"role":"user"}]"#));
        assert_eq!(row.output.as_deref(), Some(r#"["hi"]"#));
        let row = with(vec![kv("gen_ai.system_instructions", s("be brief"))]);
        assert_eq!(row.input.as_deref(), Some("be brief"));
        let row = with(vec![
            kv("openinference.span.kind", s("TOOL")),
            kv("tool.name", s("search")),
            kv("input.value", s(r#"{"q":"x"}"#)),
            kv("tool.parameters", s(r#"{"type":"object"}"#)),
            kv("output.value", s("found")),
        ]);
        assert_eq!(
            (row.span_type, row.tool_name.as_deref()),
            ("tool", Some("search"))
        );
        assert_eq!(
            (row.input.as_deref(), row.output.as_deref()),
            (Some(r#"{"q":"x"}"#), Some("found"))
        );
        let row = with(vec![
            kv("gen_ai.tool.call.arguments", s("{}")),
            kv("gen_ai.tool.call.result", s("ok")),
        ]);
        assert_eq!(
            (row.input.as_deref(), row.output.as_deref()),
            (Some("{}"), Some("ok"))
        );
    }

    #[test]
    fn span_type_decision_order() {
        let kind = |name: &str, attributes: Vec<KeyValue>| {
            let mut span = span(1, 1, attributes);
            span.name = name.into();
            one(span).span_type
        };
        // openinference.span.kind outranks gen_ai.operation.name, which outranks the span name.
        assert_eq!(
            kind(
                "x",
                vec![
                    kv("openinference.span.kind", s("EMBEDDING")),
                    kv("gen_ai.operation.name", s("chat"))
                ]
            ),
            "embedding"
        );
        assert_eq!(
            kind(
                "llm_call",
                vec![kv("gen_ai.operation.name", s("execute_tool"))]
            ),
            "tool"
        );
        assert_eq!(
            kind(
                "x",
                vec![
                    kv("openinference.span.kind", s("agent")),
                    kv("agno.team.id", s("t1"))
                ]
            ),
            "team"
        );
        assert_eq!(
            kind("x", vec![kv("openinference.span.kind", s("AGENT"))]),
            "agent"
        );
        assert_eq!(
            kind("x", vec![kv("openinference.span.kind", s("RERANKER"))]),
            "reranker"
        );
        assert_eq!(
            kind("x", vec![kv("gen_ai.operation.name", s("embeddings"))]),
            "embedding"
        );
        assert_eq!(
            kind("x", vec![kv("gen_ai.operation.name", s("invoke_workflow"))]),
            "workflow"
        );
        // An unknown kind or operation falls through to the vendor names.
        assert_eq!(
            kind(
                "tool_call",
                vec![kv("gen_ai.operation.name", s("tool_call"))]
            ),
            "tool"
        );
        assert_eq!(
            kind(
                "llm_call",
                vec![kv("openinference.span.kind", s("UNKNOWN"))]
            ),
            "llm"
        );
        assert_eq!(kind("claude_code.tool", vec![]), "tool");
        assert_eq!(
            kind(
                "claude_code.tool.execution",
                vec![kv("span.type", s("tool.execution"))]
            ),
            "other"
        );
        assert_eq!(kind("claude_code.hook", vec![]), "hook");
        assert_eq!(
            kind("renamed", vec![kv("span.type", s("llm_request"))]),
            "llm"
        );
        assert_eq!(
            kind(
                "session_task.turn",
                vec![kv("codex.turn.token_usage.input_tokens", s("1"))]
            ),
            "agent"
        );
        assert_eq!(
            kind(
                "handle_responses",
                vec![kv("codex.usage.total_tokens", s("1"))]
            ),
            "llm"
        );
        assert_eq!(kind("handle_responses", vec![]), "other");
    }

    #[test]
    fn kind_and_status_vocabulary() {
        let row = |kind: i32, code: i32, message: &str| {
            let mut span = span(1, 1, vec![]);
            span.kind = kind;
            span.status = Some(Status {
                code,
                message: message.into(),
            });
            one(span)
        };
        let kinds: Vec<_> = (0..=6).map(|kind| row(kind, 0, "").span_kind).collect();
        assert_eq!(
            kinds,
            [
                "UNSPECIFIED",
                "INTERNAL",
                "SERVER",
                "CLIENT",
                "PRODUCER",
                "CONSUMER",
                "UNSPECIFIED"
            ]
        );
        let codes: Vec<_> = [0, 1, 2, 3, -1]
            .into_iter()
            .map(|code| row(1, code, "").status_code)
            .collect();
        assert_eq!(codes, ["UNSET", "OK", "ERROR", "UNSET", "UNSET"]);
        assert_eq!(row(1, 2, "boom").status_message.as_deref(), Some("boom"));
        assert_eq!(row(1, 2, "").status_message, None);
        let mut no_status = span(1, 1, vec![]);
        no_status.status = None;
        assert_eq!(
            (
                one(no_status.clone()).status_code,
                one(no_status).status_message
            ),
            ("UNSET", None)
        );
    }

    #[test]
    fn nul_is_replaced_everywhere() {
        let mut span = span(
            1,
            1,
            vec![
                kv("k\0ey", s("va\0lue")),
                kv("session.id", s("s\0")),
                kv("input.value", s("\0")),
            ],
        );
        span.name = "na\0me".into();
        span.status = Some(Status {
            code: 2,
            message: "bad\0".into(),
        });
        span.events = vec![Event {
            name: "e\0".into(),
            attributes: vec![kv("a\0", s("b\0"))],
            ..Default::default()
        }];
        let row = one(span);
        assert_eq!(row.name, "na\u{FFFD}me");
        assert_eq!(
            row.attributes.value().unwrap()["k\u{FFFD}ey"],
            "va\u{FFFD}lue"
        );
        assert_eq!(row.session_id.as_deref(), Some("s\u{FFFD}"));
        assert_eq!(row.input.as_deref(), Some("\u{FFFD}"));
        assert_eq!(row.status_message.as_deref(), Some("bad\u{FFFD}"));
        assert_eq!(row.events.value().unwrap()[0]["name"], "e\u{FFFD}");
        assert_eq!(
            row.events.value().unwrap()[0]["attributes"]["a\u{FFFD}"],
            "b\u{FFFD}"
        );
        let all_json = format!(
            "{:?}{:?}{:?}",
            row.attributes, row.events, row.resource_attributes
        );
        assert!(!all_json.contains('\0') && !all_json.contains("\\u0000"));
    }

    #[test]
    fn bad_ids_and_times_reject_only_their_span() {
        let mut zero_trace = span(0, 1, vec![]);
        zero_trace.span_id = parse_hex::<8>("00f067aa0ba902b7").to_vec();
        let mut short_trace = span(1, 2, vec![]);
        short_trace.trace_id = vec![1; 15];
        let zero_span = span(1, 0, vec![]);
        let mut long_span = span(1, 3, vec![]);
        long_span.span_id = vec![3; 9];
        let mut no_span = span(1, 3, vec![]);
        no_span.span_id.clear();
        let mut no_start = span(1, 4, vec![]);
        no_start.start_time_unix_nano = 0;
        let good = span(1, 5, vec![]);
        let spans = vec![
            zero_trace,
            short_trace,
            zero_span,
            long_span,
            no_span,
            no_start,
            good,
        ];
        let mapped = map_request(&request(spans, vec![]));

        assert_eq!(mapped.rows.len(), 1);
        assert_eq!(mapped.rows[0].span_id, [5; 8]);
        let reasons: Vec<_> = mapped.rejected.iter().map(|r| r.reason.as_str()).collect();
        let ones = "01".repeat(16);
        assert_eq!(
            reasons,
            [
                format!(
                    "span 00f067aa0ba902b7 of trace {}: trace_id is all zeros",
                    "00".repeat(16)
                ),
                format!(
                    "span {} of trace {}: trace_id has 15 bytes, not 16",
                    "02".repeat(8),
                    "01".repeat(15)
                ),
                format!(
                    "span {} of trace {ones}: span_id is all zeros",
                    "00".repeat(8)
                ),
                format!(
                    "span {} of trace {ones}: span_id has 9 bytes, not 8",
                    "03".repeat(9)
                ),
                format!("span (empty) of trace {ones}: span_id has 0 bytes, not 8"),
                format!(
                    "span {} of trace {ones}: start_time_unix_nano is 0",
                    "04".repeat(8)
                ),
            ]
        );
    }

    #[test]
    fn bad_parent_makes_a_root() {
        let parent = |bytes: Vec<u8>| {
            let mut span = span(1, 1, vec![]);
            span.parent_span_id = bytes;
            one(span).parent_span_id
        };
        assert_eq!(parent(vec![]), None);
        assert_eq!(parent(vec![0; 8]), None);
        assert_eq!(parent(vec![7; 7]), None);
        assert_eq!(parent(vec![7; 16]), None);
        assert_eq!(parent(vec![7; 8]), Some([7; 8]));
    }

    #[test]
    fn end_before_start_or_missing_is_start() {
        let times = |end: u64| {
            let mut span = span(1, 1, vec![]);
            span.start_time_unix_nano = 5_000;
            span.end_time_unix_nano = end;
            let row = one(span);
            (row.start_time_unix_nano, row.end_time_unix_nano)
        };
        assert_eq!(times(4_999), (5_000, 5_000));
        assert_eq!(times(0), (5_000, 5_000));
        assert_eq!(times(5_000), (5_000, 5_000));
        assert_eq!(times(9_000), (5_000, 9_000));
    }

    #[test]
    fn attribute_values_as_json() {
        let any = |value: Any| AnyValue { value: Some(value) };
        let row = with(vec![
            kv("nan", Any::DoubleValue(f64::NAN)),
            kv("inf", Any::DoubleValue(f64::INFINITY)),
            kv("-inf", Any::DoubleValue(f64::NEG_INFINITY)),
            kv("double", Any::DoubleValue(0.5)),
            kv("int", Any::IntValue(-7)),
            kv("big", Any::IntValue(i64::MAX)),
            kv("bool", Any::BoolValue(false)),
            kv("bytes", Any::BytesValue(vec![0x00, 0xab, 0xff])),
            kv(
                "array",
                Any::ArrayValue(ArrayValue {
                    values: vec![any(s("a")), any(Any::IntValue(1)), AnyValue { value: None }],
                }),
            ),
            kv(
                "kvlist",
                Any::KvlistValue(KeyValueList {
                    values: vec![
                        kv(
                            "inner",
                            Any::ArrayValue(ArrayValue {
                                values: vec![any(Any::BoolValue(true))],
                            }),
                        ),
                        kv(
                            "nested",
                            Any::KvlistValue(KeyValueList {
                                values: vec![kv("x", s("y"))],
                            }),
                        ),
                        kv("inner", s("last wins")),
                    ],
                }),
            ),
            raw("missing", None),
            raw("empty", Some(AnyValue { value: None })),
            kv("dup", s("first")),
            kv("dup", s("second")),
        ]);
        assert_eq!(
            row.attributes.value().unwrap(),
            json!({
                "nan": "NaN", "inf": "Infinity", "-inf": "-Infinity", "double": 0.5, "int": -7,
                "big": i64::MAX, "bool": false, "bytes": "00abff", "array": ["a", 1, null],
                "kvlist": {"inner": "last wins", "nested": {"x": "y"}},
                "missing": null, "empty": null, "dup": "second",
            })
        );
        assert_eq!(
            row.resource_attributes.value().unwrap(),
            json!({"service.name": "svc"})
        );
        assert_eq!(
            (row.scope_name.as_deref(), row.scope_version.as_deref()),
            (Some("scope"), None)
        );
    }

    #[test]
    fn events_and_links_as_json() {
        let mut span = span(1, 1, vec![]);
        span.events = vec![Event {
            time_unix_nano: 1_700_000_000_123_456_789,
            name: "exception".into(),
            attributes: vec![kv("a", Any::IntValue(1))],
            ..Default::default()
        }];
        span.links = vec![Link {
            trace_id: parse_hex::<16>("4bf92f3577b34da6a3ce929d0e0e4736").to_vec(),
            span_id: parse_hex::<8>("00f067aa0ba902b7").to_vec(),
            attributes: vec![kv("why", s("retry"))],
            ..Default::default()
        }];
        let row = one(span);
        assert_eq!(
            row.events.value().unwrap(),
            json!([{"name": "exception", "time": "2023-11-14T22:13:20.123456789Z", "attributes": {"a": 1}}])
        );
        assert_eq!(
            row.links.value().unwrap(),
            json!([{"trace_id": "4bf92f3577b34da6a3ce929d0e0e4736", "span_id": "00f067aa0ba902b7", "attributes": {"why": "retry"}}])
        );
        assert_eq!(with(vec![]).events.value().unwrap(), json!([]));
        assert_eq!(with(vec![]).links.value().unwrap(), json!([]));
    }

    #[test]
    fn event_time_formatting() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00.000000000Z");
        assert_eq!(
            rfc3339(1_700_000_000_123_456_789),
            "2023-11-14T22:13:20.123456789Z"
        );
        assert_eq!(
            rfc3339(1_709_164_800_000_000_005),
            "2024-02-29T00:00:00.000000005Z"
        );
        assert_eq!(
            rfc3339(951_782_400_000_000_000),
            "2000-02-29T00:00:00.000000000Z"
        );
        assert_eq!(
            rfc3339(4_102_444_799_999_999_999),
            "2099-12-31T23:59:59.999999999Z"
        );
        assert_eq!(rfc3339(u64::MAX), "2554-07-21T23:34:33.709551615Z");
    }

    #[test]
    fn empty_request_maps_to_nothing() {
        let mapped = map_request(&ExportTraceServiceRequest::default());
        assert!(mapped.rows.is_empty() && mapped.rejected.is_empty());
        // A resource without scope or attributes still maps its spans.
        let request = ExportTraceServiceRequest {
            resource_spans: vec![ResourceSpans {
                resource: None,
                scope_spans: vec![ScopeSpans {
                    scope: None,
                    spans: vec![span(1, 1, vec![])],
                    ..Default::default()
                }],
                ..Default::default()
            }],
        };
        let rows = map_request(&request).rows;
        assert_eq!(
            (rows[0].service_name.as_ref(), rows[0].scope_name.as_ref()),
            (None, None)
        );
        assert_eq!(rows[0].resource_attributes.value().unwrap(), json!({}));
    }
}
