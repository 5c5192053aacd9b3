//! OTLP log records -> rows of `agent_trace.agent_logs`. Pure: no I/O, no clock.
//!
//! Coding-assistant CLIs report their model calls as log events: this is where Claude Code's token
//! counts and cost live, and Gemini CLI's and Codex's per-call usage. Every record becomes a row with
//! all its attributes as JSON; typed columns are filled as below. A record that cannot be stored (no
//! time at all) is rejected alone, with a reason; NUL characters become U+FFFD.
//!
//! | column | comes from |
//! |---|---|
//! | `record_key` | first 16 bytes of SHA-256 over (resource, scope, the record's protobuf encoding), see `record_key` |
//! | `time`, `observed_time` | `time_unix_nano`, else `observed_time_unix_nano` (Codex sends only that); both 0 rejects the record |
//! | `trace_id`, `span_id` | exactly 16 / 8 bytes, not all zero; otherwise NULL (`""` in OTLP/JSON means absent) |
//! | `event_name` | attribute `event.name`, else the record's `event_name` field (Codex puts a source location there) |
//! | `severity_number`, `severity_text` | 1-24 else NULL; text NULL when empty |
//! | `body` | a string verbatim, any other value as its JSON text, NULL when absent |
//! | `service_name` | resource `service.name` |
//! | `session_id`, `user_id` | the record's attributes, else the resource's (same keys as spans) |
//! | `model`, `tool_name`, `duration_ms` | the record's attributes (same keys as spans; `duration_ms`) |
//! | usage columns | only on the records that report one model call, per client (table below) |
//!
//! A record of the GenAI evaluation event (`gen_ai.evaluation.result`, by either event name) also
//! gives a score, a row of its own (`scores.rs`).
//!
//! Usage, kept in the meaning agent_spans has: `input_tokens` INCLUDES cached input tokens and
//! `output_tokens` INCLUDES reasoning tokens; a client that reports them apart is added up:
//!
//! | event (`event.name`) | client | input_tokens | output_tokens | cache_read | cache_write | reasoning | cost_usd |
//! |---|---|---|---|---|---|---|---|
//! | `api_request` | Claude Code | `input_tokens` + `cache_read_tokens` + `cache_creation_tokens` (Anthropic counts input without the cache) | `output_tokens` | `cache_read_tokens` | `cache_creation_tokens` | | `cost_usd` |
//! | `gemini_cli.api_response` | Gemini CLI | `input_token_count` (includes `cached_content_token_count`) + `tool_token_count` | `output_token_count` + `thoughts_token_count` | `cached_content_token_count` | | `thoughts_token_count` | |
//! | `codex.sse_event` (the `response.completed` one with counts) | Codex | `input_token_count` (includes cached) | `output_token_count` (includes reasoning) | `cached_token_count` | `cache_write_token_count` | `reasoning_token_count` | |
//! | any other | GenAI semconv | `gen_ai.usage.input_tokens` | `gen_ai.usage.output_tokens` | `gen_ai.usage.cache_read.input_tokens` | `gen_ai.usage.cache_creation.input_tokens` | `gen_ai.usage.reasoning.output_tokens` | `gen_ai.usage.cost` |
//!
//! Codex's `tool_token_count` is its total (input + output: 59 = 42 + 17 in the captured request),
//! not tool tokens, so it is not read. Gemini CLI reports each call twice, as
//! `gemini_cli.api_response` and as the GenAI event `gen_ai.client.inference.operation.details` with
//! the same `gen_ai.usage.*` numbers: from Gemini CLI (`service.name` `gemini-cli`) that GenAI event's
//! usage stays in `attributes` only, so a sum over a session counts each call once.

use super::attrs::{
    Attrs, attributes_json, clean, first, id, index, non_empty, number, plus, text, token_count,
    value_json,
};
use super::content_key::content_key;
use super::keys::{DURATION_MS, MODEL, REPEATED_USAGE, SESSION_ID, TOOL_NAME, USER_ID};
use super::scores;
use super::{Mapped, Rejected};
use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::common::v1::any_value::Value as Any;
use opentelemetry_proto::tonic::logs::v1::LogRecord;
use prost::Message;
use serde_json::Value;

/// One row for `agent_trace.agent_logs`, in the shape the writer copies.
#[derive(Debug, Clone, PartialEq)]
pub struct LogRow {
    pub record_key: [u8; 16],
    /// The project the record belongs to: `map::DEFAULT_PROJECT` until `map::own` says otherwise.
    pub project_id: i32,
    /// Nanoseconds since the Unix epoch: the record's time, else its observed time.
    pub time_unix_nano: u64,
    pub observed_time_unix_nano: Option<u64>,
    pub trace_id: Option<[u8; 16]>,
    pub span_id: Option<[u8; 8]>,
    pub event_name: Option<String>,
    pub severity_number: Option<i16>,
    pub severity_text: Option<String>,
    pub body: Option<String>,
    pub service_name: Option<String>,
    pub scope_name: Option<String>,
    pub scope_version: Option<String>,
    pub session_id: Option<String>,
    pub user_id: Option<String>,
    pub model: Option<String>,
    pub input_tokens: Option<i64>,
    pub output_tokens: Option<i64>,
    pub cache_read_tokens: Option<i64>,
    pub cache_write_tokens: Option<i64>,
    pub reasoning_tokens: Option<i64>,
    pub cost_usd: Option<f64>,
    pub tool_name: Option<String>,
    pub duration_ms: Option<f64>,
    /// JSON object of the record's attributes.
    pub attributes: Value,
    /// JSON object of the resource attributes.
    pub resource_attributes: Value,
}

/// Domain separation of the hashes, so a log key can never equal a series key by construction.
const RECORD_KEY_DOMAIN: &[u8] = b"agent_trace.agent_logs.record_key.v1";

/// Maps every record of the request; a record that cannot be stored is rejected alone.
pub fn map_request(request: &ExportLogsServiceRequest) -> Mapped<LogRow> {
    let mut mapped = Mapped::default();
    for resource_logs in &request.resource_logs {
        let resource_message = resource_logs.resource.as_ref();
        let resource_attributes = resource_message.map_or(&[][..], |r| &r.attributes[..]);
        let resource = index(resource_attributes);
        let context = Context {
            resource: &resource,
            resource_json: attributes_json(resource_attributes),
            resource_bytes: resource_message
                .map(Message::encode_to_vec)
                .unwrap_or_default(),
            service_name: text(&resource, &["service.name"]),
        };
        for scope_logs in &resource_logs.scope_logs {
            let scope = scope_logs.scope.as_ref();
            let scope_bytes = scope.map(Message::encode_to_vec).unwrap_or_default();
            let scope_name = scope.and_then(|s| non_empty(&s.name));
            let scope_version = scope.and_then(|s| non_empty(&s.version));
            for record in &scope_logs.log_records {
                match map_record(record, &context, &scope_bytes) {
                    Ok(mut row) => {
                        row.scope_name.clone_from(&scope_name);
                        row.scope_version.clone_from(&scope_version);
                        if scores::is_evaluation_record(
                            row.event_name.as_deref(),
                            &record.event_name,
                        ) {
                            match scores::from_log_record(
                                &record.attributes,
                                row.project_id,
                                row.record_key,
                                row.trace_id,
                                row.span_id,
                                row.time_unix_nano,
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
    mapped
}

/// What the records of one resource share.
struct Context<'a> {
    resource: &'a Attrs<'a>,
    resource_json: Value,
    /// The resource's protobuf encoding, an input of every record_key.
    resource_bytes: Vec<u8>,
    service_name: Option<String>,
}

fn map_record(record: &LogRecord, context: &Context, scope_bytes: &[u8]) -> Result<LogRow, String> {
    let time_unix_nano = match (record.time_unix_nano, record.observed_time_unix_nano) {
        (0, 0) => {
            return Err(
                "log record: neither time_unix_nano nor observed_time_unix_nano is set".into(),
            );
        }
        (0, observed) => observed,
        (time, _) => time,
    };
    let attrs = index(&record.attributes);
    let event_name = text(&attrs, &["event.name"]).or_else(|| non_empty(&record.event_name));
    let identity = |keys: &[&str]| text(&attrs, keys).or_else(|| text(context.resource, keys));
    let usage = usage(
        event_name.as_deref(),
        context.service_name.as_deref(),
        &attrs,
    );
    Ok(LogRow {
        project_id: super::DEFAULT_PROJECT,
        record_key: record_key(&context.resource_bytes, scope_bytes, record),
        time_unix_nano,
        observed_time_unix_nano: (record.observed_time_unix_nano != 0)
            .then_some(record.observed_time_unix_nano),
        trace_id: id::<16>(&record.trace_id),
        span_id: id::<8>(&record.span_id),
        event_name,
        severity_number: i16::try_from(record.severity_number)
            .ok()
            .filter(|n| (1..=24).contains(n)),
        severity_text: non_empty(&record.severity_text),
        body: record
            .body
            .as_ref()
            .and_then(|body| body.value.as_ref())
            .and_then(|body| match body {
                Any::StringValue(s) => Some(clean(s)),
                Any::StringValueStrindex(_) => None,
                other => Some(value_json(Some(other)).to_string()),
            }),
        service_name: context.service_name.clone(),
        scope_name: None,
        scope_version: None,
        session_id: identity(SESSION_ID),
        user_id: identity(USER_ID),
        model: text(&attrs, MODEL),
        input_tokens: usage.input,
        output_tokens: usage.output,
        cache_read_tokens: usage.cache_read,
        cache_write_tokens: usage.cache_write,
        reasoning_tokens: usage.reasoning,
        cost_usd: usage.cost,
        tool_name: text(&attrs, TOOL_NAME),
        duration_ms: first(&attrs, DURATION_MS).and_then(number),
        attributes: attributes_json(&record.attributes),
        resource_attributes: context.resource_json.clone(),
    })
}

/// The dedupe key (`content_key`) over the resource, the scope and the record, each as its protobuf
/// encoding. A request decoded from OTLP/JSON encodes to the same bytes as the same request sent as
/// protobuf.
pub fn record_key(resource: &[u8], scope: &[u8], record: &LogRecord) -> [u8; 16] {
    content_key(
        RECORD_KEY_DOMAIN,
        &[resource, scope, &record.encode_to_vec()],
    )
}

/// One model call's usage as the columns hold it.
#[derive(Debug, Default, PartialEq)]
struct Usage {
    input: Option<i64>,
    output: Option<i64>,
    cache_read: Option<i64>,
    cache_write: Option<i64>,
    reasoning: Option<i64>,
    cost: Option<f64>,
}

/// The usage a record reports, read by the rules of its client (the table at the top of the file).
fn usage(event_name: Option<&str>, service_name: Option<&str>, attrs: &Attrs) -> Usage {
    let count = |key: &str| first(attrs, &[key]).and_then(token_count);
    match event_name {
        Some("api_request") => {
            // Claude Code. Anthropic's input_tokens leaves out the cache reads and writes.
            let cache_read = count("cache_read_tokens");
            let cache_write = count("cache_creation_tokens");
            Usage {
                input: plus(count("input_tokens"), &[cache_read, cache_write]),
                output: count("output_tokens"),
                cache_read,
                cache_write,
                reasoning: None,
                cost: first(attrs, &["cost_usd"]).and_then(number),
            }
        }
        Some("gemini_cli.api_response") => {
            // Gemini: promptTokenCount includes the cached tokens; candidates leave out thoughts, and
            // tool-use prompt tokens are input counted apart.
            let thoughts = count("thoughts_token_count");
            Usage {
                input: plus(count("input_token_count"), &[count("tool_token_count")]),
                output: plus(count("output_token_count"), &[thoughts]),
                cache_read: count("cached_content_token_count"),
                cache_write: None,
                reasoning: thoughts,
                cost: None,
            }
        }
        Some("codex.sse_event") => Usage {
            // OpenAI: input includes cached tokens, output includes reasoning tokens.
            input: count("input_token_count"),
            output: count("output_token_count"),
            cache_read: count("cached_token_count"),
            cache_write: count("cache_write_token_count"),
            reasoning: count("reasoning_token_count"),
            cost: None,
        },
        Some(event)
            if REPEATED_USAGE
                .iter()
                .any(|&(service, repeated)| Some(service) == service_name && repeated == event) =>
        {
            Usage::default()
        }
        _ => Usage {
            input: first(
                attrs,
                &["gen_ai.usage.input_tokens", "gen_ai.usage.prompt_tokens"],
            )
            .and_then(token_count),
            output: first(
                attrs,
                &[
                    "gen_ai.usage.output_tokens",
                    "gen_ai.usage.completion_tokens",
                ],
            )
            .and_then(token_count),
            cache_read: count("gen_ai.usage.cache_read.input_tokens"),
            cache_write: count("gen_ai.usage.cache_creation.input_tokens"),
            reasoning: count("gen_ai.usage.reasoning.output_tokens"),
            cost: first(attrs, &["gen_ai.usage.cost"]).and_then(number),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures;
    use opentelemetry_proto::tonic::common::v1::{AnyValue, InstrumentationScope, KeyValue};
    use opentelemetry_proto::tonic::logs::v1::{ResourceLogs, ScopeLogs};
    use opentelemetry_proto::tonic::resource::v1::Resource;
    use std::collections::BTreeMap;

    fn fixture_rows(name: &str) -> Vec<LogRow> {
        let mapped = map_request(&fixtures::find(name).decode());
        assert!(mapped.rejected.is_empty(), "{name}: {:?}", mapped.rejected);
        mapped.rows
    }

    fn events<'a>(rows: &'a [LogRow], event: &str) -> Vec<&'a LogRow> {
        rows.iter()
            .filter(|row| row.event_name.as_deref() == Some(event))
            .collect()
    }

    /// (input, output, cache_read, cache_write, reasoning) summed over rows, NULL as 0.
    fn usage_sum(rows: &[LogRow]) -> (i64, i64, i64, i64, i64) {
        rows.iter().fold((0, 0, 0, 0, 0), |t, row| {
            (
                t.0 + row.input_tokens.unwrap_or(0),
                t.1 + row.output_tokens.unwrap_or(0),
                t.2 + row.cache_read_tokens.unwrap_or(0),
                t.3 + row.cache_write_tokens.unwrap_or(0),
                t.4 + row.reasoning_tokens.unwrap_or(0),
            )
        })
    }

    #[test]
    fn every_logs_fixture_maps_every_record_with_distinct_keys() {
        for fixture in fixtures::load("logs") {
            let (name, records) = (&fixture.name, fixture.counts.log_records);
            let mapped = map_request(&fixture.decode());
            assert!(mapped.rejected.is_empty(), "{name}: {:?}", mapped.rejected);
            assert_eq!(mapped.rows.len(), records, "{name}");
            let keys: std::collections::BTreeSet<_> =
                mapped.rows.iter().map(|row| row.record_key).collect();
            assert_eq!(keys.len(), records, "{name}: one key per record");
            for row in &mapped.rows {
                assert!(row.service_name.is_some(), "{name}");
                assert!(row.attributes.is_object() && row.resource_attributes.is_object());
            }
        }
    }

    /// A retry re-sent as OTLP/JSON instead of protobuf (or the other way) gets the same keys.
    #[test]
    fn record_keys_survive_a_change_of_encoding() {
        for fixture in fixtures::load("logs") {
            let request: ExportLogsServiceRequest = fixture.decode();
            let json = serde_json::to_vec(&request).unwrap();
            let from_json: ExportLogsServiceRequest = serde_json::from_slice(&json).unwrap();
            let from_protobuf =
                ExportLogsServiceRequest::decode(request.encode_to_vec().as_slice()).unwrap();
            let keys = |request: &ExportLogsServiceRequest| -> Vec<[u8; 16]> {
                map_request(request)
                    .rows
                    .iter()
                    .map(|row| row.record_key)
                    .collect()
            };
            assert_eq!(keys(&from_json), keys(&request), "{}", fixture.name);
            assert_eq!(keys(&from_protobuf), keys(&request), "{}", fixture.name);
        }
    }

    #[test]
    fn claude_code_api_requests_carry_tokens_and_cost() {
        let rows = fixture_rows("cli_claude/002_v1_logs");
        let requests = events(&rows, "api_request");
        assert_eq!(requests.len(), 2);
        for row in &requests {
            assert_eq!((row.input_tokens, row.output_tokens), (Some(42), Some(17)));
            assert_eq!(
                (
                    row.cache_read_tokens,
                    row.cache_write_tokens,
                    row.reasoning_tokens
                ),
                (Some(0), Some(0), None)
            );
            assert_eq!(row.cost_usd, Some(0.00038100000000000005));
            assert_eq!(row.model.as_deref(), Some("claude-sonnet-4-5"));
            assert_eq!(row.body.as_deref(), Some("claude_code.api_request"));
            assert!(row.duration_ms.is_some());
        }
        assert_eq!(usage_sum(&rows), (84, 34, 0, 0, 0));
        for row in &rows {
            assert_eq!(
                row.session_id.as_deref(),
                Some("ff32038b-57af-41b1-a48b-c3dc017dd2d3")
            );
            assert_eq!(row.user_id.as_deref().map(str::len), Some(64));
            assert_eq!(row.service_name.as_deref(), Some("claude-code"));
            assert_eq!(
                row.scope_name.as_deref(),
                Some("com.anthropic.claude_code.events")
            );
        }
        // Only the calls carry usage: the responses and the prompt do not.
        assert_eq!(
            rows.iter().filter(|row| row.input_tokens.is_some()).count(),
            2
        );
        let prompt = &events(&rows, "user_prompt")[0];
        assert!(prompt.trace_id.is_some() && prompt.span_id.is_some());
        assert_eq!(events(&rows, "assistant_response")[0].trace_id, None);
    }

    /// Claude Code's input_tokens leaves out the cache; the column includes it.
    #[test]
    fn claude_code_cache_tokens_are_part_of_input() {
        let attributes = vec![
            kv("event.name", s("api_request")),
            kv("input_tokens", s("10")),
            kv("output_tokens", Any::IntValue(5)),
            kv("cache_read_tokens", Any::IntValue(100)),
            kv("cache_creation_tokens", Any::IntValue(20)),
            kv("cost_usd", Any::DoubleValue(0.25)),
        ];
        let row = one(attributes, "claude-code");
        assert_eq!(row.input_tokens, Some(130));
        assert_eq!(row.output_tokens, Some(5));
        assert_eq!(
            (row.cache_read_tokens, row.cache_write_tokens),
            (Some(100), Some(20))
        );
        assert_eq!(row.cost_usd, Some(0.25));
    }

    #[test]
    fn gemini_cli_usage_is_counted_once() {
        let rows = fixture_rows("cli_gemini/001_v1_logs");
        let with_usage: Vec<_> = rows
            .iter()
            .filter(|row| row.input_tokens.is_some())
            .collect();
        assert_eq!(
            with_usage.len(),
            1,
            "the api_response only, not its GenAI repeat"
        );
        let response = with_usage[0];
        assert_eq!(
            response.event_name.as_deref(),
            Some("gemini_cli.api_response")
        );
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
            (Some(0), None, Some(0))
        );
        assert_eq!(response.model.as_deref(), Some("gemini-2.5-pro"));
        assert_eq!(response.duration_ms, Some(83.0));
        assert_eq!(response.cost_usd, None);
        let repeats = events(&rows, "gen_ai.client.inference.operation.details");
        assert_eq!(repeats.len(), 2);
        assert!(
            repeats
                .iter()
                .any(|row| row.attributes["gen_ai.usage.input_tokens"] == 42)
        );
        for row in &rows {
            // session.id is on the records and on the resource.
            assert_eq!(
                row.session_id.as_deref(),
                Some("65d0320d-322e-458b-bfb3-ba0c5aefc1ca")
            );
            assert_eq!(row.service_name.as_deref(), Some("gemini-cli"));
        }
        assert_eq!(usage_sum(&rows), (42, 17, 0, 0, 0));
        // OTLP/JSON hex ids.
        let request = &events(&rows, "gemini_cli.api_request")[0];
        assert_eq!(
            request.trace_id.map(hex),
            Some("392444e0720fe40cbe34c3ea1bae59af".to_string())
        );
        assert_eq!(
            request.span_id.map(hex),
            Some("045cd9da4d276968".to_string())
        );
        // A double duration, and an attribute sent without a value (`"error": {}`).
        let plan = &events(&rows, "gemini_cli.plan.approval_mode_duration")[0];
        assert!((plan.duration_ms.unwrap() - 255.554876).abs() < 1e-6);
        assert_eq!(
            events(&rows, "gemini_cli.ripgrep_fallback")[0].attributes["error"],
            Value::Null
        );
    }

    /// Gemini reports thoughts and tool-use prompt tokens apart from its output and input counts.
    #[test]
    fn gemini_thoughts_are_output_and_tool_prompts_are_input() {
        let row = one(
            vec![
                kv("event.name", s("gemini_cli.api_response")),
                kv("input_token_count", Any::IntValue(100)),
                kv("output_token_count", Any::IntValue(10)),
                kv("cached_content_token_count", Any::IntValue(60)),
                kv("thoughts_token_count", Any::IntValue(7)),
                kv("tool_token_count", Any::IntValue(3)),
                kv("total_token_count", Any::IntValue(120)),
            ],
            "gemini-cli",
        );
        assert_eq!((row.input_tokens, row.output_tokens), (Some(103), Some(17)));
        assert_eq!(
            (row.cache_read_tokens, row.reasoning_tokens),
            (Some(60), Some(7))
        );
        // The GenAI repeat counts only from Gemini CLI: from another client it is the usage.
        let genai = vec![
            kv("event.name", s("gen_ai.client.inference.operation.details")),
            kv("gen_ai.usage.input_tokens", Any::IntValue(42)),
        ];
        assert_eq!(one(genai.clone(), "gemini-cli").input_tokens, None);
        assert_eq!(one(genai, "my-app").input_tokens, Some(42));
    }

    #[test]
    fn codex_usage_is_on_the_completed_response() {
        let rows = fixture_rows("cli_codex/003_v1_logs");
        let with_usage: Vec<_> = rows
            .iter()
            .filter(|row| row.input_tokens.is_some())
            .collect();
        assert_eq!(with_usage.len(), 1);
        let completed = with_usage[0];
        assert_eq!(completed.event_name.as_deref(), Some("codex.sse_event"));
        assert_eq!(completed.attributes["event.kind"], "response.completed");
        assert_eq!(
            (completed.input_tokens, completed.output_tokens),
            (Some(42), Some(17)),
            "strings \"42\" and \"17\"; tool_token_count (59) is Codex's total and not read"
        );
        assert_eq!(
            (
                completed.cache_read_tokens,
                completed.cache_write_tokens,
                completed.reasoning_tokens
            ),
            (Some(0), Some(0), Some(0))
        );
        assert_eq!(completed.model.as_deref(), Some("gpt-5-codex"));
        assert_eq!(usage_sum(&rows), (42, 17, 0, 0, 0));
        for row in &rows {
            // Codex sends no record time: the observed time is the time.
            assert_eq!(Some(row.time_unix_nano), row.observed_time_unix_nano);
            assert_eq!(row.service_name.as_deref(), Some("codex_exec"));
        }
        for row in &rows[..rows.len() - 1] {
            // The event.name attribute wins over the eventName field's source location.
            let event = row.event_name.as_deref().unwrap();
            assert!(event.starts_with("codex."), "{event}");
        }
        let sessions: std::collections::BTreeSet<_> =
            rows.iter().map(|row| row.session_id.as_deref()).collect();
        // The last record ("flushing OTEL metrics") has no attributes: no event.name, no session.
        assert_eq!(
            sessions,
            [None, Some("01a20083-01ba-7053-8a99-f8b22330b017")].into()
        );
        let flush = rows.last().unwrap();
        assert_eq!(
            flush.event_name.as_deref(),
            Some("event otel/src/metrics/client.rs:324"),
            "without the attribute, the field"
        );
        assert_eq!(flush.body.as_deref(), Some("flushing OTEL metrics"));
        assert_eq!(flush.severity_number, Some(5));
        assert_eq!(flush.severity_text.as_deref(), Some("DEBUG"));
        assert_eq!(
            rows.iter().filter(|row| row.trace_id.is_some()).count(),
            6,
            "records outside a span have no trace"
        );
    }

    #[test]
    fn python_sdk_logs() {
        let rows = fixture_rows("py_sdk_agent/007_v1_logs");
        let severities: Vec<_> = rows
            .iter()
            .map(|row| (row.severity_number, row.severity_text.as_deref()))
            .collect();
        assert_eq!(
            severities,
            [
                (Some(9), Some("INFO")),
                (Some(13), Some("WARN")),
                (Some(17), Some("ERROR")),
                (Some(5), Some("DEBUG"))
            ]
        );
        assert_eq!(rows[0].session_id.as_deref(), Some("sess-001"));
        assert_eq!(rows[1].tool_name.as_deref(), Some("get_weather"));
        assert_eq!(rows[2].attributes["exception.type"], "ZeroDivisionError");
        assert_eq!(
            (rows[3].input_tokens, rows[3].output_tokens),
            (Some(280), Some(55))
        );
        assert!(rows[0].time_unix_nano < rows[0].observed_time_unix_nano.unwrap());
        let sessions: BTreeMap<_, _> = rows
            .iter()
            .map(|row| (row.body.clone(), row.session_id.clone()))
            .collect();
        assert_eq!(sessions.len(), 4);
    }

    // ---- synthetic records ----

    fn kv(key: &str, value: Any) -> KeyValue {
        KeyValue {
            key: key.into(),
            value: Some(AnyValue { value: Some(value) }),
            ..Default::default()
        }
    }

    fn s(text: &str) -> Any {
        Any::StringValue(text.into())
    }

    fn hex(bytes: impl AsRef<[u8]>) -> String {
        bytes.as_ref().iter().map(|b| format!("{b:02x}")).collect()
    }

    fn request(records: Vec<LogRecord>, service: &str) -> ExportLogsServiceRequest {
        ExportLogsServiceRequest {
            resource_logs: vec![ResourceLogs {
                resource: Some(Resource {
                    attributes: vec![kv("service.name", s(service))],
                    ..Default::default()
                }),
                scope_logs: vec![ScopeLogs {
                    scope: Some(InstrumentationScope {
                        name: "scope".into(),
                        ..Default::default()
                    }),
                    log_records: records,
                    ..Default::default()
                }],
                ..Default::default()
            }],
        }
    }

    fn record(attributes: Vec<KeyValue>) -> LogRecord {
        LogRecord {
            time_unix_nano: 1_000,
            attributes,
            ..Default::default()
        }
    }

    fn one(attributes: Vec<KeyValue>, service: &str) -> LogRow {
        let mapped = map_request(&request(vec![record(attributes)], service));
        assert!(mapped.rejected.is_empty(), "{:?}", mapped.rejected);
        mapped.rows.into_iter().next().unwrap()
    }

    #[test]
    fn records_without_any_time_are_rejected_alone() {
        let mut timeless = record(vec![]);
        timeless.time_unix_nano = 0;
        let mut observed = record(vec![]);
        observed.time_unix_nano = 0;
        observed.observed_time_unix_nano = 7;
        let mapped = map_request(&request(vec![timeless, observed, record(vec![])], "svc"));
        assert_eq!(mapped.rejected.len(), 1);
        assert!(mapped.rejected[0].reason.contains("time"));
        let times: Vec<_> = mapped.rows.iter().map(|row| row.time_unix_nano).collect();
        assert_eq!(times, [7, 1_000]);
    }

    #[test]
    fn bodies_ids_severity_and_nul() {
        let mut record = record(vec![kv("k\0ey", s("va\0lue"))]);
        record.body = Some(AnyValue {
            value: Some(Any::KvlistValue(
                opentelemetry_proto::tonic::common::v1::KeyValueList {
                    values: vec![kv("a", Any::IntValue(1))],
                },
            )),
        });
        record.trace_id = vec![0; 16];
        record.span_id = vec![1; 7];
        record.severity_number = 99;
        record.event_name = "from.field".into();
        let mapped = map_request(&request(vec![record], "svc"));
        let row = &mapped.rows[0];
        assert_eq!(row.body.as_deref(), Some(r#"{"a":1}"#));
        assert_eq!((row.trace_id, row.span_id), (None, None));
        assert_eq!(row.severity_number, None);
        assert_eq!(row.event_name.as_deref(), Some("from.field"));
        assert_eq!(row.attributes["k\u{FFFD}ey"], "va\u{FFFD}lue");
        let mut nul_body = LogRecord {
            time_unix_nano: 1,
            ..Default::default()
        };
        nul_body.body = Some(AnyValue {
            value: Some(s("a\0b")),
        });
        let row = &map_request(&request(vec![nul_body], "svc")).rows[0];
        assert_eq!(row.body.as_deref(), Some("a\u{FFFD}b"));
    }

    #[test]
    fn keys_differ_by_resource_scope_and_record() {
        let base = map_request(&request(vec![record(vec![])], "a")).rows[0].record_key;
        let other_service = map_request(&request(vec![record(vec![])], "b")).rows[0].record_key;
        let mut later = record(vec![]);
        later.time_unix_nano += 1;
        let other_time = map_request(&request(vec![later], "a")).rows[0].record_key;
        let mut other_scope = request(vec![record(vec![])], "a");
        other_scope.resource_logs[0].scope_logs[0].scope = None;
        let other_scope = map_request(&other_scope).rows[0].record_key;
        let keys: std::collections::BTreeSet<_> =
            [base, other_service, other_time, other_scope].into();
        assert_eq!(keys.len(), 4);
        assert_eq!(
            map_request(&request(vec![record(vec![])], "a")).rows[0].record_key,
            base,
            "deterministic"
        );
    }
}
