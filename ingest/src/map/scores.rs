//! OpenTelemetry's GenAI evaluation event, `gen_ai.evaluation.result` -> rows of
//! `agent_trace.agent_scores` (or, while only the judged response is known,
//! `agent_trace.agent_scores_pending`). Pure: no I/O, no clock.
//!
//! The event comes as a log record (parented to the span it judges, or naming only the response it
//! judges) or as a span event. The record or the span is stored as always (`logs`, `spans`); the
//! score is a row derived from it, as `agent_traces` derives from spans.
//!
//! | column | comes from |
//! |---|---|
//! | `score_key` | a log record's `record_key` (so a score joins its record); a span event's: SHA-256 over its trace, span, time, name and attributes (`event_key`) |
//! | `trace_id`, `span_id` | a log record's trace context; a span event's span, unless the event names a `gen_ai.response.id` its span does not carry: then the response's span, found when stored |
//! | `name` | `gen_ai.evaluation.name` (required) |
//! | `value` | `gen_ai.evaluation.score.value`: a finite number (a double, an integer or a numeric string) |
//! | `label` | `gen_ai.evaluation.score.label` |
//! | `explanation` | `gen_ai.evaluation.explanation`: content, redacted as a log body is (`redact`) |
//! | `response_id` | `gen_ai.response.id` |
//! | `scored_at` | the record's time (else its observed time); the event's time (else its span's end) |
//! | `source`, `scorer` | NULL: the conventions define no attribute for them (docs/attribute-mapping.md) |
//! | `attributes` | every other attribute of the event |
//!
//! A score without a run (no trace context) but with a response id waits in agent_scores_pending
//! until the span carrying that response id is stored; the database links it (scores.sql). An
//! event that cannot be a score (no name, a value that is not a finite number, an empty label,
//! neither value nor label, no run and no response id) is skipped with a reason: its record or span
//! is stored all the same, and the reason reaches the client as a warning (`Mapped::skipped_scores`).

use super::attrs::{attributes_json, first, index, number, text};
use super::content_key::{canonical_attributes, content_key};
use super::keys::{
    EVALUATION_EVENT, EVALUATION_EXPLANATION, EVALUATION_KEYS, EVALUATION_NAME,
    EVALUATION_SCORE_LABEL, EVALUATION_SCORE_VALUE, RESPONSE_ID,
};
use opentelemetry_proto::tonic::common::v1::KeyValue;
use opentelemetry_proto::tonic::common::v1::any_value::Value as Any;
use opentelemetry_proto::tonic::trace::v1::span::Event;
use serde_json::Value;

/// One score, for `agent_trace.agent_scores` (with a run) or `agent_scores_pending` (without).
#[derive(Debug, Clone, PartialEq)]
pub struct ScoreRow {
    pub score_key: [u8; 16],
    /// The project the score belongs to: its record's or span's, until `map::own` says otherwise.
    pub project_id: i32,
    /// The run scored; None while only the judged response is known (`response_id` is then set).
    pub trace_id: Option<[u8; 16]>,
    /// The span scored; None for the whole run, or until the span of `response_id` is known.
    pub span_id: Option<[u8; 8]>,
    pub name: String,
    pub value: Option<f64>,
    pub label: Option<String>,
    pub explanation: Option<String>,
    pub response_id: Option<String>,
    /// Nanoseconds since the Unix epoch.
    pub scored_at_unix_nano: u64,
    /// JSON object of the event's attributes but those mapped to columns.
    pub attributes: Value,
}

/// Domain separation of span events' keys from every other content key.
const EVENT_KEY_DOMAIN: &[u8] = b"agent_trace.agent_scores.span_event.v1";

/// What an evaluation event says, whichever way it came.
struct Evaluation {
    name: String,
    value: Option<f64>,
    label: Option<String>,
    explanation: Option<String>,
    response_id: Option<String>,
    attributes: Value,
}

/// Whether a log record is the evaluation event, by the event name it is stored with (its
/// `event.name` attribute, else its `event_name` field) or by its `event_name` field (OTLP 1.5, what
/// opentelemetry-python sends), either one.
pub(super) fn is_evaluation_record(event_name: Option<&str>, event_name_field: &str) -> bool {
    event_name == Some(EVALUATION_EVENT) || event_name_field == EVALUATION_EVENT
}

/// Whether a span event is the evaluation event.
pub(super) fn is_evaluation_event(event: &Event) -> bool {
    event.name == EVALUATION_EVENT
}

/// The score of an evaluation log record, or why it has none. `record_key` is the record's own
/// key (`logs::record_key`), `time_unix_nano` its time as stored; the score is in its project.
pub(super) fn from_log_record(
    attributes: &[KeyValue],
    project_id: i32,
    record_key: [u8; 16],
    trace_id: Option<[u8; 16]>,
    span_id: Option<[u8; 8]>,
    time_unix_nano: u64,
) -> Result<ScoreRow, String> {
    let why = |reason: String| {
        format!(
            "no score from the {EVALUATION_EVENT} log record {}: {reason}",
            super::attrs::hex(&record_key)
        )
    };
    let evaluation = read(attributes).map_err(why)?;
    if trace_id.is_none() && evaluation.response_id.is_none() {
        return Err(why(format!(
            "it has no trace context and no {RESPONSE_ID}: nothing to attach it to"
        )));
    }
    Ok(evaluation.into_row(
        project_id,
        record_key,
        trace_id,
        span_id.filter(|_| trace_id.is_some()),
        time_unix_nano,
    ))
}

/// The score of an evaluation span event of the span (`trace_id`, `span_id`, whose own response
/// id is `span_response_id`, ending at `span_end_unix_nano`), or why it has none. The event is
/// about its span unless it names a response its span does not carry: then about that response's
/// span, wherever it is in the span's project (the database finds it).
pub(super) fn from_span_event(
    event: &Event,
    project_id: i32,
    trace_id: [u8; 16],
    span_id: [u8; 8],
    span_response_id: Option<&str>,
    span_end_unix_nano: u64,
) -> Result<ScoreRow, String> {
    let why = |reason: String| {
        format!(
            "no score from the {EVALUATION_EVENT} event of span {} of trace {}: {reason}",
            super::attrs::hex(&span_id),
            super::attrs::hex(&trace_id)
        )
    };
    let evaluation = read(&event.attributes).map_err(why)?;
    let time = if event.time_unix_nano == 0 {
        span_end_unix_nano
    } else {
        event.time_unix_nano
    };
    let key = event_key(trace_id, span_id, event);
    let own_span = match evaluation.response_id.as_deref() {
        Some(response) => span_response_id == Some(response),
        None => true,
    };
    Ok(if own_span {
        evaluation.into_row(project_id, key, Some(trace_id), Some(span_id), time)
    } else {
        evaluation.into_row(project_id, key, None, None, time)
    })
}

/// A span event's score key: the same event of the same span is the same score, however the
/// request was encoded and in whatever order its attributes came.
pub(super) fn event_key(trace_id: [u8; 16], span_id: [u8; 8], event: &Event) -> [u8; 16] {
    content_key(
        EVENT_KEY_DOMAIN,
        &[
            &trace_id,
            &span_id,
            &event.time_unix_nano.to_le_bytes(),
            event.name.as_bytes(),
            &canonical_attributes(&event.attributes),
        ],
    )
}

impl Evaluation {
    fn into_row(
        self,
        project_id: i32,
        score_key: [u8; 16],
        trace_id: Option<[u8; 16]>,
        span_id: Option<[u8; 8]>,
        scored_at_unix_nano: u64,
    ) -> ScoreRow {
        ScoreRow {
            score_key,
            project_id,
            trace_id,
            span_id,
            name: self.name,
            value: self.value,
            label: self.label,
            explanation: self.explanation,
            response_id: self.response_id,
            scored_at_unix_nano,
            attributes: self.attributes,
        }
    }
}

/// The event's attributes read as a score, or why they are not one.
fn read(attributes: &[KeyValue]) -> Result<Evaluation, String> {
    let attrs = index(attributes);
    let name = text(&attrs, &[EVALUATION_NAME])
        .filter(|name| !name.trim().is_empty())
        .ok_or_else(|| format!("{EVALUATION_NAME} is missing or empty"))?;
    let value = match first(&attrs, &[EVALUATION_SCORE_VALUE]) {
        None => None,
        Some(value @ (Any::IntValue(_) | Any::DoubleValue(_) | Any::StringValue(_))) => Some(
            number(value)
                .ok_or_else(|| format!("{EVALUATION_SCORE_VALUE} is not a finite number"))?,
        ),
        Some(_) => return Err(format!("{EVALUATION_SCORE_VALUE} is not a number")),
    };
    // An empty string is "absent" to `first`; a label sent empty is a mistake, not no label.
    if matches!(attrs.get(EVALUATION_SCORE_LABEL).copied().flatten(),
                Some(Any::StringValue(label)) if label.is_empty())
    {
        return Err(format!("{EVALUATION_SCORE_LABEL} is empty"));
    }
    let label = text(&attrs, &[EVALUATION_SCORE_LABEL]);
    if value.is_none() && label.is_none() {
        return Err(format!(
            "it has neither {EVALUATION_SCORE_VALUE} nor {EVALUATION_SCORE_LABEL}"
        ));
    }
    let rest: Vec<KeyValue> = attributes
        .iter()
        .filter(|kv| !EVALUATION_KEYS.contains(&kv.key.as_str()) && kv.key != "event.name")
        .cloned()
        .collect();
    Ok(Evaluation {
        name,
        value,
        label,
        explanation: text(&attrs, &[EVALUATION_EXPLANATION]),
        response_id: text(&attrs, &[RESPONSE_ID]),
        attributes: attributes_json(&rest),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use opentelemetry_proto::tonic::common::v1::AnyValue;
    use serde_json::json;

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

    fn event(attributes: Vec<KeyValue>) -> Event {
        Event {
            time_unix_nano: 5_000,
            name: EVALUATION_EVENT.into(),
            attributes,
            ..Default::default()
        }
    }

    const TRACE: [u8; 16] = [7; 16];
    const SPAN: [u8; 8] = [3; 8];

    fn relevance() -> Vec<KeyValue> {
        vec![
            kv(EVALUATION_NAME, s("relevance")),
            kv(EVALUATION_SCORE_VALUE, Any::DoubleValue(0.25)),
            kv(EVALUATION_SCORE_LABEL, s("not_relevant")),
            kv(EVALUATION_EXPLANATION, s("off topic")),
            kv("judge.model", s("gpt-4o")),
        ]
    }

    #[test]
    fn a_span_event_scores_its_span() {
        let row = from_span_event(&event(relevance()), 1, TRACE, SPAN, None, 9_000).unwrap();
        assert_eq!((row.trace_id, row.span_id), (Some(TRACE), Some(SPAN)));
        assert_eq!(row.name, "relevance");
        assert_eq!(row.value, Some(0.25));
        assert_eq!(row.label.as_deref(), Some("not_relevant"));
        assert_eq!(row.explanation.as_deref(), Some("off topic"));
        assert_eq!(row.scored_at_unix_nano, 5_000);
        assert_eq!(row.response_id, None);
        assert_eq!(row.attributes, json!({"judge.model": "gpt-4o"}));
        // No time: the span's end.
        let mut timeless = event(relevance());
        timeless.time_unix_nano = 0;
        let row = from_span_event(&timeless, 1, TRACE, SPAN, None, 9_000).unwrap();
        assert_eq!(row.scored_at_unix_nano, 9_000);
    }

    #[test]
    fn a_span_event_naming_another_response_waits_for_its_span() {
        let mut attributes = relevance();
        attributes.push(kv(RESPONSE_ID, s("chatcmpl-9")));
        // Its own span's response: its own span.
        let own = from_span_event(
            &event(attributes.clone()),
            1,
            TRACE,
            SPAN,
            Some("chatcmpl-9"),
            0,
        )
        .unwrap();
        assert_eq!((own.trace_id, own.span_id), (Some(TRACE), Some(SPAN)));
        assert_eq!(own.response_id.as_deref(), Some("chatcmpl-9"));
        // Another one: no run until the database finds the span that carries it.
        let other =
            from_span_event(&event(attributes), 1, TRACE, SPAN, Some("chatcmpl-1"), 0).unwrap();
        assert_eq!((other.trace_id, other.span_id), (None, None));
        assert_eq!(other.response_id.as_deref(), Some("chatcmpl-9"));
        assert_eq!(other.score_key, own.score_key, "the same event");
    }

    #[test]
    fn a_log_record_scores_its_context_or_waits_for_its_response() {
        let key = [1; 16];
        let row = from_log_record(&relevance(), 1, key, Some(TRACE), Some(SPAN), 77).unwrap();
        assert_eq!(row.score_key, key, "the record's own key");
        assert_eq!((row.trace_id, row.span_id), (Some(TRACE), Some(SPAN)));
        assert_eq!(row.scored_at_unix_nano, 77);
        // A run without a span: the whole run.
        let row = from_log_record(&relevance(), 1, key, Some(TRACE), None, 77).unwrap();
        assert_eq!((row.trace_id, row.span_id), (Some(TRACE), None));
        // No context, a response id: waits for it.
        let mut attributes = relevance();
        attributes.push(kv(RESPONSE_ID, s("chatcmpl-9")));
        let row = from_log_record(&attributes, 1, key, None, Some(SPAN), 77).unwrap();
        assert_eq!((row.trace_id, row.span_id), (None, None));
        assert_eq!(row.response_id.as_deref(), Some("chatcmpl-9"));
        // Neither: nothing to attach it to.
        let error = from_log_record(&relevance(), 1, key, None, None, 77).unwrap_err();
        assert!(error.contains("no trace context"), "{error}");
        assert!(error.contains("01010101"), "names the record: {error}");
    }

    #[test]
    fn values_numbers_and_labels() {
        let score = |value: Any| {
            from_span_event(
                &event(vec![
                    kv(EVALUATION_NAME, s("n")),
                    kv(EVALUATION_SCORE_VALUE, value),
                ]),
                1,
                TRACE,
                SPAN,
                None,
                0,
            )
        };
        assert_eq!(score(Any::IntValue(4)).unwrap().value, Some(4.0));
        assert_eq!(score(s(" 0.5 ")).unwrap().value, Some(0.5));
        for bad in [
            Any::DoubleValue(f64::NAN),
            Any::DoubleValue(f64::INFINITY),
            Any::DoubleValue(f64::NEG_INFINITY),
            s("high"),
            s("NaN"),
            Any::BoolValue(true),
        ] {
            let error = score(bad.clone()).unwrap_err();
            assert!(error.contains(EVALUATION_SCORE_VALUE), "{bad:?}: {error}");
        }
        // A label alone is a score; a value sent as "" is no value.
        let label_only = from_span_event(
            &event(vec![
                kv(EVALUATION_NAME, s("thumbs")),
                kv(EVALUATION_SCORE_LABEL, s("down")),
                kv(EVALUATION_SCORE_VALUE, s("")),
            ]),
            1,
            TRACE,
            SPAN,
            None,
            0,
        )
        .unwrap();
        assert_eq!(
            (label_only.value, label_only.label.as_deref()),
            (None, Some("down"))
        );
    }

    #[test]
    fn malformed_events_say_why() {
        let name = || kv(EVALUATION_NAME, s("relevance"));
        let value = || kv(EVALUATION_SCORE_VALUE, Any::DoubleValue(1.0));
        for (attributes, why) in [
            (vec![value()], "gen_ai.evaluation.name is missing"),
            (
                vec![kv(EVALUATION_NAME, s("  ")), value()],
                "gen_ai.evaluation.name is missing or empty",
            ),
            (vec![name()], "neither"),
            (
                vec![name(), kv(EVALUATION_SCORE_LABEL, s(""))],
                "gen_ai.evaluation.score.label is empty",
            ),
            (
                vec![name(), value(), kv(EVALUATION_SCORE_LABEL, s(""))],
                "gen_ai.evaluation.score.label is empty",
            ),
        ] {
            let error = from_span_event(&event(attributes), 1, TRACE, SPAN, None, 0).unwrap_err();
            assert!(error.contains(why), "{error}");
            assert!(
                error.contains("0303030303030303"),
                "names the span: {error}"
            );
        }
    }

    #[test]
    fn event_keys_ignore_attribute_order_and_see_everything_else() {
        let base = event_key(TRACE, SPAN, &event(relevance()));
        let mut reversed = relevance();
        reversed.reverse();
        assert_eq!(event_key(TRACE, SPAN, &event(reversed)), base);
        let mut later = event(relevance());
        later.time_unix_nano += 1;
        let mut other_value = relevance();
        other_value[1] = kv(EVALUATION_SCORE_VALUE, Any::DoubleValue(0.5));
        let keys: std::collections::BTreeSet<_> = [
            base,
            event_key([8; 16], SPAN, &event(relevance())),
            event_key(TRACE, [4; 8], &event(relevance())),
            event_key(TRACE, SPAN, &later),
            event_key(TRACE, SPAN, &event(other_value)),
        ]
        .into();
        assert_eq!(keys.len(), 5);
    }

    // ---- whole requests, through the mappings of logs and spans ----

    use crate::map::own::{Context, own};
    use crate::map::redact::{Content, Redaction};
    use crate::map::{logs, spans};
    use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
    use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
    use opentelemetry_proto::tonic::common::v1::InstrumentationScope;
    use opentelemetry_proto::tonic::logs::v1::{LogRecord, ResourceLogs, ScopeLogs};
    use opentelemetry_proto::tonic::resource::v1::Resource;
    use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Span};
    use prost::Message;

    fn resource() -> Option<Resource> {
        Some(Resource {
            attributes: vec![kv("service.name", s("judge"))],
            ..Default::default()
        })
    }

    /// Four evaluation records: in a span's context (event name in the field, as
    /// opentelemetry-python sends it), with a response id only (event name in the attribute),
    /// malformed (no name), and one that is no evaluation at all.
    fn logs_request() -> ExportLogsServiceRequest {
        let record = |event_name: &str, attributes: Vec<KeyValue>, traced: bool| LogRecord {
            time_unix_nano: 1_700_000_000_000_000_000,
            event_name: event_name.into(),
            trace_id: if traced { TRACE.to_vec() } else { Vec::new() },
            span_id: if traced { SPAN.to_vec() } else { Vec::new() },
            attributes,
            ..Default::default()
        };
        let mut by_response = relevance();
        by_response.push(kv(RESPONSE_ID, s("chatcmpl-1")));
        by_response.push(kv("event.name", s(EVALUATION_EVENT)));
        ExportLogsServiceRequest {
            resource_logs: vec![ResourceLogs {
                resource: resource(),
                scope_logs: vec![ScopeLogs {
                    scope: Some(InstrumentationScope {
                        name: "evals".into(),
                        ..Default::default()
                    }),
                    log_records: vec![
                        record(EVALUATION_EVENT, relevance(), true),
                        record("", by_response, false),
                        record(
                            EVALUATION_EVENT,
                            vec![kv(EVALUATION_SCORE_VALUE, Any::DoubleValue(1.0))],
                            true,
                        ),
                        record("app.log", relevance(), true),
                    ],
                    ..Default::default()
                }],
                ..Default::default()
            }],
        }
    }

    fn traces_request() -> ExportTraceServiceRequest {
        let mut not_a_number = relevance();
        not_a_number[1] = kv(EVALUATION_SCORE_VALUE, Any::DoubleValue(f64::NAN));
        ExportTraceServiceRequest {
            resource_spans: vec![ResourceSpans {
                resource: resource(),
                scope_spans: vec![ScopeSpans {
                    spans: vec![Span {
                        trace_id: TRACE.to_vec(),
                        span_id: SPAN.to_vec(),
                        name: "chat gpt-4o".into(),
                        start_time_unix_nano: 1_000,
                        end_time_unix_nano: 9_000,
                        attributes: vec![kv(RESPONSE_ID, s("chatcmpl-7"))],
                        events: vec![
                            event(relevance()),
                            event(not_a_number),
                            Event {
                                name: "exception".into(),
                                ..event(relevance())
                            },
                        ],
                        ..Default::default()
                    }],
                    ..Default::default()
                }],
                ..Default::default()
            }],
        }
    }

    #[test]
    fn evaluation_log_records_give_scores_and_stay_log_records() {
        let mapped = logs::map_request(&logs_request());
        assert!(mapped.rejected.is_empty());
        assert_eq!(mapped.rows.len(), 4, "every record is stored");
        assert_eq!(mapped.scores.len(), 2);
        let in_span = &mapped.scores[0];
        assert_eq!(in_span.score_key, mapped.rows[0].record_key);
        assert_eq!(
            (in_span.trace_id, in_span.span_id),
            (Some(TRACE), Some(SPAN))
        );
        assert_eq!(in_span.scored_at_unix_nano, 1_700_000_000_000_000_000);
        let by_response = &mapped.scores[1];
        assert_eq!(by_response.score_key, mapped.rows[1].record_key);
        assert_eq!(by_response.trace_id, None);
        assert_eq!(by_response.response_id.as_deref(), Some("chatcmpl-1"));
        assert_eq!(by_response.attributes, json!({"judge.model": "gpt-4o"}));
        assert_eq!(mapped.skipped_scores.len(), 1);
        assert!(mapped.skipped_scores[0].reason.contains(EVALUATION_NAME));
        // The stored record keeps every attribute.
        assert_eq!(
            mapped.rows[1].attributes[EVALUATION_EXPLANATION],
            "off topic"
        );
    }

    #[test]
    fn evaluation_span_events_give_scores_and_stay_span_events() {
        let mapped = spans::map_request(&traces_request());
        assert!(mapped.rejected.is_empty());
        assert_eq!(
            mapped.rows[0]
                .events
                .value()
                .unwrap()
                .as_array()
                .map(Vec::len),
            Some(3)
        );
        assert_eq!(mapped.rows[0].response_id.as_deref(), Some("chatcmpl-7"));
        assert_eq!(mapped.scores.len(), 1);
        assert_eq!(
            (mapped.scores[0].trace_id, mapped.scores[0].span_id),
            (Some(TRACE), Some(SPAN))
        );
        assert_eq!(mapped.skipped_scores.len(), 1);
        assert!(
            mapped.skipped_scores[0]
                .reason
                .contains("is not a finite number")
        );
    }

    /// A retry re-sent as OTLP/JSON instead of protobuf (or the other way) scores the same.
    #[test]
    fn score_keys_survive_a_change_of_encoding() {
        let logs = logs_request();
        let mut traces = traces_request();
        // serde_json writes NaN as null, which no client sends: that event is left out here.
        traces.resource_spans[0].scope_spans[0].spans[0]
            .events
            .remove(1);
        let log_scores = |request: &ExportLogsServiceRequest| logs::map_request(request).scores;
        let span_scores = |request: &ExportTraceServiceRequest| spans::map_request(request).scores;
        let logs_json: ExportLogsServiceRequest =
            serde_json::from_slice(&serde_json::to_vec(&logs).unwrap()).unwrap();
        let logs_protobuf =
            ExportLogsServiceRequest::decode(logs.encode_to_vec().as_slice()).unwrap();
        assert_eq!(log_scores(&logs_json), log_scores(&logs));
        assert_eq!(log_scores(&logs_protobuf), log_scores(&logs));
        let traces_json: ExportTraceServiceRequest =
            serde_json::from_slice(&serde_json::to_vec(&traces).unwrap()).unwrap();
        let traces_protobuf =
            ExportTraceServiceRequest::decode(traces.encode_to_vec().as_slice()).unwrap();
        assert_eq!(span_scores(&traces_json), span_scores(&traces));
        assert_eq!(span_scores(&traces_protobuf), span_scores(&traces));
        assert_eq!(span_scores(&traces).len(), 1);
    }

    #[test]
    fn explanations_are_content() {
        let hash_key = Some(b"0123456789abcdef0123456789abcdef".to_vec());
        for (content, expected) in [
            (Content::Keep, Some("off topic".to_string())),
            (Content::Drop, None),
        ] {
            let redaction = Redaction::new(content, vec!["judge.*".into()], None).unwrap();
            let context = Context {
                project_id: 5,
                redaction: &redaction,
            };
            let mapped = own(logs::map_request(&logs_request()), &context);
            for score in &mapped.scores {
                assert_eq!(score.project_id, 5);
                assert_eq!(score.explanation, expected, "{content:?}");
            }
            if content == Content::Drop {
                // The record's copy of the explanation goes too, and the project's own keys.
                assert!(
                    mapped.rows[0]
                        .attributes
                        .get(EVALUATION_EXPLANATION)
                        .is_none()
                );
                assert_eq!(mapped.scores[1].attributes, json!({}));
            }
        }
        let redaction = Redaction::new(Content::Hash, vec![], hash_key).unwrap();
        let context = Context {
            project_id: 1,
            redaction: &redaction,
        };
        let mapped = own(
            spans::map_request_redacted(&traces_request(), &redaction),
            &context,
        );
        let explanation = mapped.scores[0].explanation.as_deref().unwrap();
        assert!(explanation.starts_with("hmac-sha256:"), "{explanation}");
        assert_eq!(
            mapped.rows[0].events.value().unwrap()[0]["attributes"][EVALUATION_EXPLANATION],
            explanation
        );
    }
}
