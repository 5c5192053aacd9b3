//! What the tools' answers look like, from the rows PostgreSQL gave: compact JSON a model reads
//! (no null fields), a trace's nodes nested as a tree, texts cut with their whole length said,
//! paging cursors, and the query tool's cells. Pure: no I/O.

use serde_json::{Map, Value};

/// The value without its null fields (in objects, at any depth), nor `false` flags that only say
/// "not so" (`is_orphan`, `is_cycle`).
pub fn compact(value: Value) -> Value {
    match value {
        Value::Object(object) => Value::Object(
            object
                .into_iter()
                .filter(|(key, value)| {
                    let unset_flag = key.starts_with("is_") && *value == Value::Bool(false);
                    !value.is_null() && !unset_flag
                })
                .map(|(key, value)| (key, compact(value)))
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.into_iter().map(compact).collect()),
        other => other,
    }
}

/// Depth-first nodes (each with its `depth`, the first at the smallest) nested: each node's
/// children under `children`, in order. `depth` is dropped; a node deeper than the one before it
/// by more than one (a cut subtree) hangs under the last node that can hold it.
pub fn nest(nodes: Vec<Value>) -> Vec<Value> {
    // The open path from a root to the last node: (depth, node).
    let mut path: Vec<(i64, Map<String, Value>)> = Vec::new();
    let mut roots = Vec::new();
    let close = |path: &mut Vec<(i64, Map<String, Value>)>, roots: &mut Vec<Value>| {
        if let Some((_, node)) = path.pop() {
            let node = Value::Object(node);
            match path.last_mut() {
                Some((_, parent)) => match parent.get_mut("children") {
                    Some(Value::Array(children)) => children.push(node),
                    _ => {
                        parent.insert("children".to_string(), Value::Array(vec![node]));
                    }
                },
                None => roots.push(node),
            }
        }
    };
    for node in nodes {
        let Value::Object(mut node) = node else {
            continue;
        };
        let depth = node.remove("depth").and_then(|d| d.as_i64()).unwrap_or(0);
        while path.last().is_some_and(|(open, _)| *open >= depth) {
            close(&mut path, &mut roots);
        }
        path.push((depth, node));
    }
    while !path.is_empty() {
        close(&mut path, &mut roots);
    }
    roots
}

/// `object`'s text fields `fields` cut to `chars` characters, each with its whole length beside it
/// (`input` -> `input_chars`) when it was cut.
pub fn cut_texts(object: &mut Map<String, Value>, fields: &[&str], chars: usize) {
    for field in fields {
        if let Some(Value::String(text)) = object.get(*field) {
            let length = text.chars().count();
            if length > chars {
                let cut: String = text.chars().take(chars).collect();
                object.insert(field.to_string(), Value::String(cut));
                object.insert(format!("{field}_chars"), Value::from(length));
            }
        }
    }
}

/// A paging cursor: the last row's sort value and id, as one opaque-looking string.
pub fn cursor(after: &str, after_id: &str) -> String {
    format!("{after_id}@{after}")
}

/// The sort value and id of a cursor `cursor` made.
pub fn parse_cursor(cursor: &str) -> Result<(String, String), String> {
    match cursor.split_once('@') {
        Some((id, after)) if !id.is_empty() && !after.is_empty() => {
            Ok((after.to_string(), id.to_string()))
        }
        _ => Err(format!(
            "cursor {cursor:?} is not one this server gave: pass next_cursor from the previous answer"
        )),
    }
}

/// The first keyword of a statement, upper-case, after white space, comments (`--` and nested
/// `/* */`) and opening parentheses; None when there is none.
pub fn first_keyword(sql: &str) -> Option<String> {
    let bytes = sql.as_bytes();
    let mut at = 0;
    loop {
        match bytes.get(at) {
            None => return None,
            Some(b) if b.is_ascii_whitespace() || *b == b'(' => at += 1,
            Some(b'-') if bytes.get(at + 1) == Some(&b'-') => {
                while bytes.get(at).is_some_and(|b| *b != b'\n') {
                    at += 1;
                }
            }
            Some(b'/') if bytes.get(at + 1) == Some(&b'*') => {
                let mut depth = 0usize;
                while at < bytes.len() {
                    if bytes[at..].starts_with(b"/*") {
                        depth += 1;
                        at += 2;
                    } else if bytes[at..].starts_with(b"*/") {
                        depth -= 1;
                        at += 2;
                        if depth == 0 {
                            break;
                        }
                    } else {
                        at += 1;
                    }
                }
            }
            Some(_) => {
                let word: String = sql[at..]
                    .chars()
                    .take_while(|c| c.is_ascii_alphabetic() || *c == '_')
                    .collect();
                return (!word.is_empty()).then(|| word.to_ascii_uppercase());
            }
        }
    }
}

/// Whether a statement begins, ends or splits a transaction (or prepares one for two-phase
/// commit): the query tool runs each statement in a transaction of its own, which such a
/// statement would end early.
pub fn controls_transaction(sql: &str) -> bool {
    matches!(
        first_keyword(sql).as_deref(),
        Some(
            "BEGIN"
                | "START"
                | "COMMIT"
                | "END"
                | "ROLLBACK"
                | "ABORT"
                | "SAVEPOINT"
                | "RELEASE"
                | "PREPARE"
        )
    )
}

/// How the query tool shows one column's values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cell {
    Bool,
    Number,
    Json,
    Text,
}

impl Cell {
    /// By the name of the column's type (tokio_postgres's `Type::name`).
    pub fn of_type(name: &str) -> Self {
        match name {
            "bool" => Cell::Bool,
            "int2" | "int4" | "int8" | "oid" | "float4" | "float8" | "numeric" => Cell::Number,
            "json" | "jsonb" => Cell::Json,
            _ => Cell::Text,
        }
    }

    /// PostgreSQL's text of a value as JSON: a boolean, a number (when it is a finite one), the
    /// JSON itself, else the text (cut to `max_chars` characters, with how many there were).
    pub fn render(self, text: Option<&str>, max_chars: usize) -> Value {
        let Some(text) = text else {
            return Value::Null;
        };
        match self {
            Cell::Bool if text == "t" => return Value::Bool(true),
            Cell::Bool if text == "f" => return Value::Bool(false),
            Cell::Number => {
                if let Ok(whole) = text.parse::<i64>() {
                    return Value::from(whole);
                }
                if let Some(number) = text
                    .parse::<f64>()
                    .ok()
                    .and_then(serde_json::Number::from_f64)
                {
                    return Value::Number(number);
                }
            }
            Cell::Json if text.len() <= max_chars => {
                if let Ok(json) = serde_json::from_str(text) {
                    return json;
                }
            }
            _ => {}
        }
        let length = text.chars().count();
        if length > max_chars {
            let cut: String = text.chars().take(max_chars).collect();
            Value::String(format!("{cut}… ({length} characters)"))
        } else {
            Value::String(text.to_string())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn nulls_and_false_flags_are_left_out() {
        assert_eq!(
            compact(
                json!({"a": null, "b": 1, "is_orphan": false, "is_cycle": true,
                           "ok": false, "c": [{"d": null, "e": "x"}]})
            ),
            json!({"b": 1, "is_cycle": true, "ok": false, "c": [{"e": "x"}]})
        );
    }

    #[test]
    fn depth_first_nodes_nest() {
        let nodes = vec![
            json!({"depth": 0, "name": "root"}),
            json!({"depth": 1, "name": "a"}),
            json!({"depth": 2, "name": "a1"}),
            json!({"depth": 2, "name": "a2"}),
            json!({"depth": 1, "name": "b"}),
            json!({"depth": 0, "name": "orphan"}),
            json!({"depth": 3, "name": "deep"}),
        ];
        assert_eq!(
            nest(nodes),
            vec![
                json!({"name": "root", "children": [
                    {"name": "a", "children": [{"name": "a1"}, {"name": "a2"}]},
                    {"name": "b"}
                ]}),
                json!({"name": "orphan", "children": [{"name": "deep"}]}),
            ]
        );
        assert_eq!(nest(vec![]), Vec::<Value>::new());
    }

    #[test]
    fn long_texts_are_cut_and_say_their_length() {
        let mut object = json!({"input": "é".repeat(250), "output": "short", "n": 1});
        let object = object.as_object_mut().unwrap();
        cut_texts(object, &["input", "output", "missing", "n"], 200);
        assert_eq!(object["input"].as_str().unwrap().chars().count(), 200);
        assert_eq!(object["input_chars"], 250);
        assert_eq!(object["output"], "short");
        assert!(!object.contains_key("output_chars"));
    }

    #[test]
    fn cursors_go_round() {
        let c = cursor(
            "2026-05-01T10:00:00.5+00:00",
            "4bf92f3577b34da6a3ce929d0e0e4736",
        );
        assert_eq!(
            parse_cursor(&c).unwrap(),
            (
                "2026-05-01T10:00:00.5+00:00".to_string(),
                "4bf92f3577b34da6a3ce929d0e0e4736".to_string()
            )
        );
        for bad in ["", "@", "x@", "@y", "nothing"] {
            assert!(parse_cursor(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn transaction_control_is_found_behind_comments() {
        for control in [
            "COMMIT",
            "  commit;",
            "-- note\nROLLBACK",
            "/* a /* nested */ comment */ begin",
            "start transaction read write",
            "END",
            "abort",
            "savepoint a",
            "release a",
            "PREPARE TRANSACTION 'x'",
        ] {
            assert!(controls_transaction(control), "{control:?}");
        }
        for other in [
            "SELECT 1",
            "(SELECT 1)",
            "with t as (select 1) select * from t",
            "SELECT 'COMMIT'",
            "-- COMMIT\nSELECT 1",
            "/* ROLLBACK */ SELECT 1",
            "",
            "  ",
            "/* unclosed",
            "EXPLAIN SELECT 1",
            "RESET ROLE",
        ] {
            assert!(!controls_transaction(other), "{other:?}");
        }
        assert_eq!(first_keyword("\n(  select 1)").as_deref(), Some("SELECT"));
    }

    #[test]
    fn cells_keep_their_kind() {
        assert_eq!(Cell::of_type("bool").render(Some("t"), 10), json!(true));
        assert_eq!(Cell::of_type("int8").render(Some("42"), 10), json!(42));
        assert_eq!(
            Cell::of_type("numeric").render(Some("0.0125"), 10),
            json!(0.0125)
        );
        assert_eq!(
            Cell::of_type("numeric").render(Some("NaN"), 10),
            json!("NaN")
        );
        assert_eq!(
            Cell::of_type("jsonb").render(Some(r#"{"a": [1]}"#), 100),
            json!({"a": [1]})
        );
        assert_eq!(Cell::of_type("text").render(None, 10), Value::Null);
        assert_eq!(
            Cell::of_type("text").render(Some("abcdefghijkl"), 4),
            json!("abcd… (12 characters)")
        );
        assert_eq!(Cell::of_type("trace_id").render(Some("ab"), 4), json!("ab"));
    }
}
