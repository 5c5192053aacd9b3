//! OTLP values -> column values, by the rules the three mappings share (`spans`, `logs`,
//! `metrics`): one definition, so a span, a log record and a data point that carry the same
//! attribute get the same column value. Pure.
//!
//! "Present" means a value that is neither missing nor an empty string. A present value that is
//! unusable (a token count that is negative or not a number) gives NULL. Numbers may arrive as
//! strings (`"42"`, `" 42 "`, `"1.5e3"`) and token counts as whole doubles (`42.0`). Text columns
//! take strings verbatim and any other value as its JSON text. NUL becomes U+FFFD everywhere:
//! PostgreSQL text and jsonb cannot hold it.

use opentelemetry_proto::tonic::common::v1::any_value::Value as Any;
use opentelemetry_proto::tonic::common::v1::{AnyValue, KeyValue};
use serde_json::{Map, Value};
use std::collections::HashMap;

/// Attributes by key (the last of duplicate keys wins, as in the JSON copy). Hashed with foldhash:
/// std's SipHash was 9% of the service's CPU (BENCHMARKS.md), and foldhash's per-process random
/// seed still keeps client-chosen keys from forcing collisions.
pub(crate) type Attrs<'a> = HashMap<&'a str, Option<&'a Any>, foldhash::fast::RandomState>;

pub(crate) fn index(attributes: &[KeyValue]) -> Attrs<'_> {
    attributes
        .iter()
        .map(|kv| {
            (
                kv.key.as_str(),
                kv.value.as_ref().and_then(|v| v.value.as_ref()),
            )
        })
        .collect()
}

/// The value of the first key present: not missing, not an empty string.
pub(crate) fn first<'a>(attrs: &Attrs<'a>, keys: &[&str]) -> Option<&'a Any> {
    keys.iter().find_map(|key| {
        attrs
            .get(key)
            .copied()
            .flatten()
            .filter(|value| match value {
                Any::StringValue(s) => !s.is_empty(),
                // A profiling-only reference that other signals must treat as absent.
                Any::StringValueStrindex(_) => false,
                _ => true,
            })
    })
}

/// A text column: strings verbatim, anything else as its JSON text.
pub(crate) fn text(attrs: &Attrs, keys: &[&str]) -> Option<String> {
    first(attrs, keys).map(|value| match value {
        Any::StringValue(s) => clean(s),
        other => value_json(Some(other)).to_string(),
    })
}

/// A token count: a non-negative integer, also sent as a string or as a whole double.
pub(crate) fn token_count(value: &Any) -> Option<i64> {
    let count = match value {
        Any::IntValue(n) => Some(*n),
        Any::DoubleValue(d) => whole(*d),
        Any::StringValue(s) => {
            let s = s.trim();
            s.parse::<i64>()
                .ok()
                .or_else(|| s.parse::<f64>().ok().and_then(whole))
        }
        _ => None,
    };
    count.filter(|n| *n >= 0)
}

fn whole(d: f64) -> Option<i64> {
    // 2^63 is exact as a double; a whole double below it in magnitude fits an i64.
    (d.is_finite() && d.fract() == 0.0 && d.abs() < 9_223_372_036_854_775_808.0).then_some(d as i64)
}

/// `base` plus the parts a client reports apart from it (Claude Code's input_tokens leaves out the
/// cache, Gemini's output leaves out thoughts); NULL when `base` is. Saturating: a client's absurd
/// counts must not panic the service.
pub(crate) fn plus(base: Option<i64>, parts: &[Option<i64>]) -> Option<i64> {
    base.map(|base| {
        parts
            .iter()
            .flatten()
            .fold(base, |total, part| total.saturating_add(*part))
    })
}

/// Any finite number (a cost in dollars, a duration), also sent as a string.
pub(crate) fn number(value: &Any) -> Option<f64> {
    let number = match value {
        Any::IntValue(n) => Some(*n as f64),
        Any::DoubleValue(d) => Some(*d),
        Any::StringValue(s) => s.trim().parse::<f64>().ok(),
        _ => None,
    };
    number.filter(|n| n.is_finite())
}

/// An id of exactly `N` bytes that are not all zero (W3C trace context calls all-zero ids invalid).
/// None rather than a reason: a log record without ids is common and must not pay for a message.
pub(crate) fn id<const N: usize>(bytes: &[u8]) -> Option<[u8; N]> {
    <[u8; N]>::try_from(bytes).ok().filter(|id| *id != [0; N])
}

/// PostgreSQL text and jsonb cannot hold NUL: it becomes U+FFFD, costing one character, not the row.
pub(crate) fn clean(s: &str) -> String {
    if s.contains('\0') {
        s.replace('\0', "\u{FFFD}")
    } else {
        s.to_owned()
    }
}

pub(crate) fn non_empty(s: &str) -> Option<String> {
    (!s.is_empty()).then(|| clean(s))
}

/// Attributes as a JSON object; of duplicate keys the last wins. Logs, metrics and scores; spans
/// write the same as text (`json.rs`).
pub(crate) fn attributes_json(attributes: &[KeyValue]) -> Value {
    let mut object = Map::new();
    for kv in attributes {
        object.insert(clean(&kv.key), any_json(kv.value.as_ref()));
    }
    Value::Object(object)
}

/// An attribute value as JSON. Strings, bools and numbers as themselves, except non-finite doubles
/// (see `float_json`). Bytes as lowercase hex (base64 would be the OTLP/JSON convention, but no
/// base64 crate is a dependency). Arrays and kvlists recursively; a missing value is null.
fn any_json(value: Option<&AnyValue>) -> Value {
    value_json(value.and_then(|v| v.value.as_ref()))
}

pub(crate) fn value_json(value: Option<&Any>) -> Value {
    match value {
        None | Some(Any::StringValueStrindex(_)) => Value::Null,
        Some(Any::StringValue(s)) => Value::String(clean(s)),
        Some(Any::BoolValue(b)) => Value::Bool(*b),
        Some(Any::IntValue(n)) => Value::from(*n),
        Some(Any::DoubleValue(d)) => float_json(*d),
        Some(Any::BytesValue(bytes)) => Value::String(hex(bytes)),
        Some(Any::ArrayValue(array)) => {
            Value::Array(array.values.iter().map(|v| any_json(Some(v))).collect())
        }
        Some(Any::KvlistValue(list)) => attributes_json(&list.values),
    }
}

/// A double as JSON, which cannot hold NaN or the infinities: those become the strings "NaN",
/// "Infinity", "-Infinity".
pub(crate) fn float_json(d: f64) -> Value {
    match serde_json::Number::from_f64(d) {
        Some(number) => Value::Number(number),
        None if d.is_nan() => Value::from("NaN"),
        None if d > 0.0 => Value::from("Infinity"),
        None => Value::from("-Infinity"),
    }
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() * 2);
    hex_into(&mut out, bytes);
    out
}

/// Appends `bytes` as lowercase hex.
pub(crate) fn hex_into(out: &mut String, bytes: &[u8]) {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    for byte in bytes {
        out.push(char::from(DIGITS[usize::from(byte >> 4)]));
        out.push(char::from(DIGITS[usize::from(byte & 0xf)]));
    }
}
