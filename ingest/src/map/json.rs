//! OTLP values -> JSON text, written straight into one buffer: the JSON columns of spans without
//! `serde_json::Value` trees (building and serialising those was most of the ingest's CPU per span,
//! BENCHMARKS.md). Pure.
//!
//! The text means what `attrs::attributes_json` of the same values means to PostgreSQL's jsonb
//! (`ingest/tests/columns.rs` compares the two through `::jsonb` for every captured request and
//! hostile strings): duplicate keys are written as they come, and jsonb keeps the last, as the
//! JSON object did. NUL becomes U+FFFD (jsonb refuses `\u0000`); other control characters are
//! escaped; everything else is written as its UTF-8.

use super::attrs::{hex_into, value_json};
use super::redact::{Redaction, Rule};
use opentelemetry_proto::tonic::common::v1::KeyValue;
use opentelemetry_proto::tonic::common::v1::any_value::Value as Any;
use std::fmt::Write as _;
use std::ops::Range;
use std::sync::Arc;

/// One JSON column's text: a range of a buffer that all the rows of one request share, so a row
/// costs no allocation of its own for it.
#[derive(Clone)]
pub struct JsonText {
    text: Arc<String>,
    range: Range<usize>,
}

impl JsonText {
    /// `range` of `text` (the rows of a request get their shared text when it is complete).
    pub(crate) fn new(text: Arc<String>, range: Range<usize>) -> Self {
        Self { text, range }
    }

    /// Points at `text`, which must hold what the range was taken from.
    pub(crate) fn set_text(&mut self, text: &Arc<String>) {
        self.text = Arc::clone(text);
    }

    /// The JSON text.
    pub fn as_str(&self) -> &str {
        self.text.get(self.range.clone()).unwrap_or_default()
    }

    /// The text parsed, for tests and readers off the hot path.
    pub fn value(&self) -> serde_json::Result<serde_json::Value> {
        serde_json::from_str(self.as_str())
    }
}

impl std::fmt::Debug for JsonText {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl PartialEq for JsonText {
    fn eq(&self, other: &Self) -> bool {
        self.as_str() == other.as_str()
    }
}

/// Appends `s` as a JSON string.
pub(crate) fn string(out: &mut String, s: &str) {
    out.push('"');
    let mut start = 0;
    for (i, byte) in s.bytes().enumerate() {
        let escaped = match byte {
            b'"' => "\\\"",
            b'\\' => "\\\\",
            b'\n' => "\\n",
            b'\r' => "\\r",
            b'\t' => "\\t",
            0x08 => "\\b",
            0x0c => "\\f",
            0 => "\u{FFFD}",
            0x01..=0x1f => "",
            _ => continue,
        };
        // `i` is an ASCII byte's index: a character boundary.
        out.push_str(&s[start..i]);
        if escaped.is_empty() {
            let _ = write!(out, "\\u{byte:04x}");
        } else {
            out.push_str(escaped);
        }
        start = i + 1;
    }
    out.push_str(&s[start..]);
    out.push('"');
}

/// Appends attributes as a JSON object, with `redaction`'s content keys dropped or hashed as
/// `Redaction::attributes` does to a JSON object.
pub(crate) fn attributes(out: &mut String, attributes: &[KeyValue], redaction: &Redaction) {
    object(out, attributes, Some(redaction));
}

/// Appends attributes as a JSON object, redacted by `redaction` if given (the values of a
/// kvlist inside are content as a whole or not at all: they are never redacted alone).
pub(crate) fn object(out: &mut String, attributes: &[KeyValue], redaction: Option<&Redaction>) {
    out.push('{');
    let mut first = true;
    for kv in attributes {
        let value = kv.value.as_ref().and_then(|v| v.value.as_ref());
        let rule = redaction.map_or(Rule::Keep, |redaction| redaction.rule(&kv.key));
        if rule == Rule::Drop {
            continue;
        }
        if !first {
            out.push(',');
        }
        first = false;
        string(out, &kv.key);
        out.push(':');
        match (rule, redaction) {
            (Rule::Hash, Some(redaction)) => {
                string(out, &redaction.hash(hashed_text(value).as_bytes()))
            }
            _ => any(out, value),
        }
    }
    out.push('}');
}

/// Appends an attribute value as `attrs::value_json` gives it.
pub(crate) fn any(out: &mut String, value: Option<&Any>) {
    match value {
        None | Some(Any::StringValueStrindex(_)) => out.push_str("null"),
        Some(Any::StringValue(s)) => string(out, s),
        Some(Any::BoolValue(b)) => out.push_str(if *b { "true" } else { "false" }),
        Some(Any::IntValue(n)) => {
            let _ = write!(out, "{n}");
        }
        Some(Any::DoubleValue(d)) => float(out, *d),
        Some(Any::BytesValue(bytes)) => {
            out.push('"');
            hex_into(out, bytes);
            out.push('"');
        }
        Some(Any::ArrayValue(array)) => {
            out.push('[');
            for (i, item) in array.values.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                any(out, item.value.as_ref());
            }
            out.push(']');
        }
        Some(Any::KvlistValue(list)) => object(out, &list.values, None),
    }
}

/// A double as `attrs::float_json` gives it: NaN and the infinities as strings.
fn float(out: &mut String, d: f64) {
    match serde_json::Number::from_f64(d) {
        Some(number) => {
            let _ = write!(out, "{number}");
        }
        None if d.is_nan() => out.push_str("\"NaN\""),
        None if d > 0.0 => out.push_str("\"Infinity\""),
        None => out.push_str("\"-Infinity\""),
    }
}

/// The JSON text of a value whose text is hashed: a string's own (NUL replaced), anything else's
/// JSON text as `attrs::value_json` serialises it.
pub(crate) fn hashed_text(value: Option<&Any>) -> std::borrow::Cow<'_, str> {
    match value {
        Some(Any::StringValue(s)) if !s.contains('\0') => std::borrow::Cow::Borrowed(s),
        Some(Any::StringValue(s)) => std::borrow::Cow::Owned(s.replace('\0', "\u{FFFD}")),
        other => std::borrow::Cow::Owned(value_json(other).to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::map::attrs::attributes_json;
    use crate::map::redact::Content;
    use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
    use opentelemetry_proto::tonic::common::v1::{AnyValue, ArrayValue, KeyValueList};
    use serde_json::{Value, json};

    fn any_value(value: Any) -> AnyValue {
        AnyValue { value: Some(value) }
    }

    fn kv(key: &str, value: Any) -> KeyValue {
        KeyValue {
            key: key.into(),
            value: Some(any_value(value)),
            ..Default::default()
        }
    }

    fn text(attrs: &[KeyValue], redaction: &Redaction) -> String {
        let mut out = String::new();
        attributes(&mut out, attrs, redaction);
        out
    }

    #[test]
    fn strings_are_escaped_as_json_and_nul_replaced() {
        let mut out = String::new();
        string(
            &mut out,
            "a\"b\\c\n\r\t\u{8}\u{c}\u{1}\u{1f}\u{7f}\0é\u{2028}😀",
        );
        assert_eq!(
            out,
            "\"a\\\"b\\\\c\\n\\r\\t\\b\\f\\u0001\\u001f\u{7f}\u{FFFD}é\u{2028}😀\""
        );
        let parsed: Value = serde_json::from_str(&out).unwrap();
        assert_eq!(
            parsed,
            json!("a\"b\\c\n\r\t\u{8}\u{c}\u{1}\u{1f}\u{7f}\u{FFFD}é\u{2028}😀")
        );
    }

    #[test]
    fn every_kind_of_value_reads_as_the_json_object_did() {
        let attrs = vec![
            kv("s", Any::StringValue("x\0y".into())),
            kv("b", Any::BoolValue(true)),
            kv("i", Any::IntValue(i64::MIN)),
            kv("d", Any::DoubleValue(0.1)),
            kv("e", Any::DoubleValue(1e300)),
            kv("nan", Any::DoubleValue(f64::NAN)),
            kv("inf", Any::DoubleValue(f64::NEG_INFINITY)),
            kv("bytes", Any::BytesValue(vec![0, 0xd8, 0xff])),
            kv(
                "array",
                Any::ArrayValue(ArrayValue {
                    values: vec![any_value(Any::IntValue(1)), AnyValue { value: None }],
                }),
            ),
            kv(
                "kv",
                Any::KvlistValue(KeyValueList {
                    values: vec![kv("z", Any::IntValue(1)), kv("z", Any::IntValue(2))],
                }),
            ),
            KeyValue {
                key: "none".into(),
                ..Default::default()
            },
            kv("dup", Any::IntValue(1)),
            kv("dup", Any::IntValue(2)),
        ];
        let written: Value = serde_json::from_str(&text(&attrs, &Redaction::keep())).unwrap();
        assert_eq!(written, attributes_json(&attrs));
    }

    #[test]
    fn content_keys_are_dropped_or_hashed_as_before() {
        let attrs = vec![
            kv("input.value", Any::StringValue("the prompt".into())),
            kv("gen_ai.request.model", Any::StringValue("gpt-4o".into())),
            kv(
                "llm.output_messages.0.message.content",
                Any::KvlistValue(KeyValueList {
                    values: vec![kv("x", Any::IntValue(1))],
                }),
            ),
        ];
        let key = Some(b"0123456789abcdef0123456789abcdef".to_vec());
        for content in [Content::Keep, Content::Drop, Content::Hash] {
            let redaction = Redaction::new(content, vec![], key.clone()).unwrap();
            let mut expected = attributes_json(&attrs);
            redaction.attributes(&mut expected);
            let written: Value = serde_json::from_str(&text(&attrs, &redaction)).unwrap();
            assert_eq!(written, expected, "{content:?}");
        }
    }

    // ---- allocations, counted on this thread ----

    use std::alloc::{GlobalAlloc, Layout, System};
    use std::cell::Cell;

    thread_local! {
        static ALLOCATIONS: Cell<u64> = const { Cell::new(0) };
    }

    /// The system allocator, counting the allocations (and reallocations) of each thread.
    struct Counting;

    // SAFETY: every call is passed on to the system allocator unchanged.
    unsafe impl GlobalAlloc for Counting {
        unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
            let _ = ALLOCATIONS.try_with(|n| n.set(n.get() + 1));
            // SAFETY: the caller's contract, passed on.
            unsafe { System.alloc(layout) }
        }

        unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
            // SAFETY: the caller's contract, passed on.
            unsafe { System.dealloc(ptr, layout) }
        }

        unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
            let _ = ALLOCATIONS.try_with(|n| n.set(n.get() + 1));
            // SAFETY: the caller's contract, passed on.
            unsafe { System.realloc(ptr, layout, new_size) }
        }
    }

    #[global_allocator]
    static COUNTING: Counting = Counting;

    fn allocations<T>(work: impl FnOnce() -> T) -> u64 {
        let before = ALLOCATIONS.with(Cell::get);
        let result = work();
        let after = ALLOCATIONS.with(Cell::get);
        drop(result);
        after - before
    }

    /// The bench's request (`py_sdk_agent/010_v1_traces`) with its spans repeated `copies` times.
    fn repeated(copies: usize) -> ExportTraceServiceRequest {
        let mut request: ExportTraceServiceRequest =
            crate::fixtures::find("py_sdk_agent/010_v1_traces").decode();
        for resource in &mut request.resource_spans {
            for scope in &mut resource.scope_spans {
                let spans = scope.spans.clone();
                for _ in 1..copies {
                    scope.spans.extend(spans.iter().cloned());
                }
            }
        }
        request
    }

    fn span_count(request: &ExportTraceServiceRequest) -> u64 {
        request
            .resource_spans
            .iter()
            .flat_map(|r| &r.scope_spans)
            .map(|s| s.spans.len() as u64)
            .sum()
    }

    /// Allocations per span of mapping (the rows with their JSON text), beyond what a request costs
    /// whatever its size: the JSON columns take none of their own, nor do the resource's and scope's
    /// names; what is left is the row's own text columns (name, model, input, output, ...) and its
    /// attribute index (4.2 on this request). The Value trees of the mapping before cost 58 for the
    /// JSON columns alone.
    #[test]
    fn mapping_allocates_no_json_per_span() {
        let (small, large) = (repeated(10), repeated(100));
        let spans = span_count(&large) - span_count(&small);
        let per_span = |count: &dyn Fn(&ExportTraceServiceRequest) -> u64| {
            (count(&large) - count(&small)) as f64 / spans as f64
        };
        let mapped = per_span(&|request| allocations(|| crate::map::spans::map_request(request)));
        let values = per_span(&|request| allocations(|| crate::map::spans::value_columns(request)));
        let texts = per_span(&|request| {
            allocations(|| {
                crate::map::spans::value_columns(request)
                    .iter()
                    .flatten()
                    .map(|value| value.to_string())
                    .collect::<Vec<_>>()
            })
        });
        eprintln!(
            "allocations per span: mapping {mapped:.1}; the Value trees of the JSON columns before \
             {values:.1}, and their text {texts:.1}"
        );
        assert!(mapped < values, "{mapped} >= {values}");
        assert!(mapped <= 8.0, "{mapped} allocations per span");
    }
}
