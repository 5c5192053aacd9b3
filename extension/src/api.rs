//! The SQL functions that need an algorithm: `trace_tree`, `trace_tree_json`, `diff_traces` and
//! `critical_path`. Each reads one trace's spans with one indexed query (`sql/queries/`), arranges
//! them with the pure code in `tree.rs` / `diff.rs`, and returns rows. The set-based functions built
//! on these (ancestors, descendants, replay, diff_summary) are plain SQL in `sql/functions.sql`.
//!
//! Every function takes an optional span id: given one, it works on that span's subtree alone, with
//! depths, paths and offsets counted from it. That is how one turn of a long session (a child of the
//! session's root span) is shown, diffed or replayed on its own.

use crate::diff::{Pair, align};
use crate::ids::{SpanId, TraceId};
use crate::tree::{self, Node, Tree};
use pgrx::prelude::*;
use pgrx::{AnyNumeric, JsonB, Uuid};
use serde_json::{Map, Value, json};

/// Levels of spans trace_tree_json nests (each is an object and a "children" array in the
/// document). PostgreSQL 15 with the default 2 MB max_stack_depth parses about 5,000 nested
/// levels, so 1,000 spans deep leaves room.
const MAX_JSON_DEPTH: usize = 1000;

const TRACE_SPANS_SQL: &str = include_str!("../sql/queries/trace_spans.sql");

/// One span as the functions here need it.
struct Span {
    name: String,
    span_type: String,
    status: String,
    model: Option<String>,
    input_tokens: Option<i64>,
    output_tokens: Option<i64>,
    cost_usd: Option<AnyNumeric>,
    input: Option<String>,
    output: Option<String>,
}

/// A trace's spans and their tree.
struct Trace {
    nodes: Vec<Node>,
    spans: Vec<Span>,
    tree: Tree,
}

impl Trace {
    fn load(trace_id: TraceId, with_io: bool) -> Trace {
        let (nodes, spans) = Spi::connect(|client| -> Result<_, pgrx::spi::Error> {
            let args = [Uuid::from_bytes(trace_id.0).into(), with_io.into()];
            let table = client.select(TRACE_SPANS_SQL, None, &args)?;
            let mut nodes = Vec::with_capacity(table.len());
            let mut spans = Vec::with_capacity(table.len());
            // SAFETY: the select above just filled SPI_tuptable, which stays until the
            // connection closes; the columns are those of trace_spans.sql, in its order.
            unsafe {
                for_each_row(|row| {
                    nodes.push(Node {
                        span_id: row.span_id(0).unwrap_or_default(),
                        parent_id: row.span_id(1),
                        start: row.int8(2).unwrap_or(0),
                        end: row.int8(3).unwrap_or(0),
                    });
                    spans.push(Span {
                        name: row.text(4).unwrap_or_default(),
                        span_type: row.text(5).unwrap_or_default(),
                        status: row.text(6).unwrap_or_default(),
                        model: row.text(7),
                        input_tokens: row.int8(8),
                        output_tokens: row.int8(9),
                        cost_usd: row.numeric(10),
                        input: row.text(11),
                        output: row.text(12),
                    });
                });
            }
            Ok((nodes, spans))
        })
        .unwrap_or_else(|error| {
            error!("agent_trace: reading the spans of a trace failed: {error}")
        });
        let tree = Tree::build(&nodes);
        Trace { nodes, spans, tree }
    }

    /// The depth-first slice to show: the whole tree, or the subtree of `root` (the earliest span
    /// with that id). None when `root` is not in the trace.
    fn scope(&self, root: Option<SpanId>) -> Option<&[usize]> {
        match root {
            None => Some(&self.tree.preorder),
            Some(root) => self
                .tree
                .preorder
                .iter()
                .find(|n| self.nodes[**n].span_id == root.0)
                .map(|n| self.tree.subtree(*n)),
        }
    }

    /// Microseconds that offsets count from: the start of the scope's first top-level span, or of
    /// the whole trace.
    fn origin(&self, scope: &[usize], root: Option<SpanId>) -> i64 {
        match (root, scope.first()) {
            (Some(_), Some(first)) => self.nodes[*first].start,
            _ => self.nodes.iter().map(|n| n.start).min().unwrap_or(0),
        }
    }
}

/// Token and cost rollups count only LLM and embedding spans, like agent_traces: wrapper spans
/// (agent, chain) often repeat the usage of the calls beneath them.
fn counts_usage(span_type: &str) -> bool {
    matches!(span_type, "llm" | "embedding")
}

fn add_tokens(total: &mut Option<i64>, more: Option<i64>) {
    if let Some(more) = more {
        *total = Some(total.unwrap_or(0).saturating_add(more));
    }
}

fn add_cost(total: &mut Option<AnyNumeric>, more: Option<AnyNumeric>) {
    if let Some(more) = more {
        *total = Some(match total.take() {
            Some(sum) => sum + more,
            None => more,
        });
    }
}

/// Per node: the sums over its subtree.
struct Rollup {
    input_tokens: Vec<Option<i64>>,
    output_tokens: Vec<Option<i64>>,
    cost_usd: Vec<Option<AnyNumeric>>,
    errors: Vec<i32>,
}

impl Rollup {
    fn of(trace: &Trace) -> Rollup {
        let n = trace.nodes.len();
        let mut rollup = Rollup {
            input_tokens: vec![None; n],
            output_tokens: vec![None; n],
            cost_usd: vec![None; n],
            errors: vec![0; n],
        };
        // Reverse depth-first order visits every node after all of its descendants.
        for &node in trace.tree.preorder.iter().rev() {
            let span = &trace.spans[node];
            if counts_usage(&span.span_type) {
                add_tokens(&mut rollup.input_tokens[node], span.input_tokens);
                add_tokens(&mut rollup.output_tokens[node], span.output_tokens);
                add_cost(&mut rollup.cost_usd[node], span.cost_usd.clone());
            }
            if span.status == "ERROR" {
                rollup.errors[node] += 1;
            }
            if let Some(parent) = trace.tree.parent[node] {
                let (input, output) = (rollup.input_tokens[node], rollup.output_tokens[node]);
                add_tokens(&mut rollup.input_tokens[parent], input);
                add_tokens(&mut rollup.output_tokens[parent], output);
                let cost = rollup.cost_usd[node].clone();
                add_cost(&mut rollup.cost_usd[parent], cost);
                rollup.errors[parent] += rollup.errors[node];
            }
        }
        rollup
    }
}

fn ms(microseconds: i64) -> f64 {
    microseconds as f64 / 1000.0
}

fn timestamp(microseconds: i64) -> TimestampWithTimeZone {
    // Read from a timestamptz column, so always in range.
    TimestampWithTimeZone::try_from(microseconds)
        .unwrap_or_else(|_| error!("agent_trace: timestamp {microseconds} out of range"))
}

/// A JSON number for a cost (JSON has no decimal type; costs have far fewer digits than f64 keeps).
fn cost_json(cost: &Option<AnyNumeric>) -> Value {
    cost.clone()
        .and_then(|c| f64::try_from(c).ok())
        .map_or(Value::Null, |c| json!(c))
}

/// The key two runs are aligned on: span type and name. An LLM call's name without its model
/// ("chat gpt-4o" -> "chat"), so a run against another model still lines up call by call and
/// shows the model change as a change.
fn alignment_key(span: &Span) -> (String, String) {
    let name = match (&span.model, counts_usage(&span.span_type)) {
        (Some(model), true) if !model.is_empty() => {
            span.name.replace(model.as_str(), "").trim().to_string()
        }
        _ => span.name.clone(),
    };
    (span.span_type.clone(), name)
}

fn total_tokens(span: &Span) -> Option<i64> {
    match (span.input_tokens, span.output_tokens) {
        (None, None) => None,
        (input, output) => Some(input.unwrap_or(0).saturating_add(output.unwrap_or(0))),
    }
}

/// One side of a diff: the scope's spans, as a tree of their own.
struct Sub<'t> {
    nodes: Vec<Node>,
    spans: Vec<&'t Span>,
    tree: Tree,
}

impl<'t> Sub<'t> {
    fn of(trace: &'t Trace, scope: &[usize]) -> Sub<'t> {
        let mut nodes: Vec<Node> = scope.iter().map(|n| trace.nodes[*n].clone()).collect();
        // The scope's first span is its root, even if it has a parent outside the scope. Loops
        // were cut in the whole trace already: keep those cuts.
        for (node, original) in nodes.iter_mut().zip(scope) {
            if trace.tree.parent[*original].is_none() {
                node.parent_id = None;
            }
        }
        if let Some(first) = nodes.first_mut() {
            first.parent_id = None;
        }
        let tree = Tree::build(&nodes);
        let spans = scope.iter().map(|n| &trace.spans[*n]).collect();
        Sub { nodes, spans, tree }
    }
}

/// "agent run > chat > execute_tool search": the names from the top, with the middle left out past
/// `tree::MAX_PATH_LEVELS` levels, like trace_tree's paths.
fn tree_path(names: &[String]) -> String {
    const HEAD: usize = 8;
    if names.len() <= tree::MAX_PATH_LEVELS {
        names.join(" > ")
    } else {
        let tail = tree::MAX_PATH_LEVELS - HEAD - 1;
        format!(
            "{} > … > {}",
            names[..HEAD].join(" > "),
            names[names.len() - tail..].join(" > ")
        )
    }
}

/// The functions live in schema agent_trace, like everything else (pgrx names the schema after the
/// module).
#[pg_schema]
pub mod agent_trace {
    use super::*;

    #[allow(clippy::type_complexity)]
    #[pg_extern(stable, parallel_safe, name = "trace_tree")]
    fn trace_tree(
        trace_id: TraceId,
        root_span_id: default!(Option<SpanId>, "NULL"),
    ) -> TableIterator<
        'static,
        (
            name!(tree_order, i32),
            name!(depth, i32),
            name!(path, String),
            name!(span_id, SpanId),
            name!(parent_span_id, Option<SpanId>),
            name!(start_time, TimestampWithTimeZone),
            name!(name, String),
            name!(span_type, String),
            name!(status, String),
            name!(model, Option<String>),
            name!(start_offset_ms, f64),
            name!(duration_ms, f64),
            name!(self_time_ms, f64),
            name!(input_tokens, Option<i64>),
            name!(output_tokens, Option<i64>),
            name!(cost_usd, Option<AnyNumeric>),
            name!(subtree_spans, i32),
            name!(subtree_input_tokens, Option<i64>),
            name!(subtree_output_tokens, Option<i64>),
            name!(subtree_cost_usd, Option<AnyNumeric>),
            name!(subtree_errors, i32),
            name!(is_orphan, bool),
            name!(is_cycle, bool),
        ),
    > {
        let trace = Trace::load(trace_id, false);
        let Some(scope) = trace.scope(root_span_id) else {
            return TableIterator::new(Vec::new());
        };
        let origin = trace.origin(scope, root_span_id);
        let base_depth = scope.first().map_or(0, |n| trace.tree.depth[*n]);
        let paths = trace.tree.paths(scope);
        let mut rollup = Rollup::of(&trace);
        let mut rows = Vec::with_capacity(scope.len());
        for (order, (&node, path)) in scope.iter().zip(paths).enumerate() {
            let (span, times, tree) = (&trace.spans[node], &trace.nodes[node], &trace.tree);
            rows.push((
                order as i32 + 1,
                (tree.depth[node] - base_depth) as i32,
                path,
                SpanId(times.span_id),
                // As recorded, also for orphans (whose parent is not here) and cut loops.
                times.parent_id.map(SpanId),
                timestamp(times.start),
                span.name.clone(),
                span.span_type.clone(),
                span.status.clone(),
                span.model.clone(),
                ms(times.start - origin),
                ms(times.end - times.start),
                ms(tree.self_time(&trace.nodes, node)),
                span.input_tokens,
                span.output_tokens,
                span.cost_usd.clone(),
                (tree.subtree_end[node] - tree.position[node]) as i32,
                rollup.input_tokens[node],
                rollup.output_tokens[node],
                rollup.cost_usd[node].take(),
                rollup.errors[node],
                tree.orphan[node],
                tree.cycle[node],
            ));
        }
        TableIterator::new(rows)
    }

    #[pg_extern(stable, parallel_safe, name = "trace_tree_json")]
    fn trace_tree_json(
        trace_id: TraceId,
        root_span_id: default!(Option<SpanId>, "NULL"),
    ) -> Option<JsonB> {
        let trace = Trace::load(trace_id, false);
        let scope = trace.scope(root_span_id)?;
        if scope.is_empty() {
            return None;
        }
        let origin = trace.origin(scope, root_span_id);
        let rollup = Rollup::of(&trace);
        let tree = &trace.tree;
        let base_depth = tree.depth[scope[0]];
        let deepest = scope
            .iter()
            .map(|n| tree.depth[*n] - base_depth)
            .max()
            .unwrap_or(0);
        if deepest >= MAX_JSON_DEPTH {
            ereport!(
                ERROR,
                PgSqlErrorCode::ERRCODE_PROGRAM_LIMIT_EXCEEDED,
                format!(
                    "trace_tree_json: spans nest {} levels deep here; a jsonb document holds at most {MAX_JSON_DEPTH}",
                    deepest + 1
                ),
                "PostgreSQL parses jsonb recursively, within max_stack_depth. Use agent_trace.trace_tree(), which has no depth limit."
            );
        }
        // Built bottom-up (reverse depth-first order), so no recursion however deep the tree.
        let mut built: Vec<Option<Value>> = vec![None; trace.nodes.len()];
        for &node in scope.iter().rev() {
            let (span, times) = (&trace.spans[node], &trace.nodes[node]);
            let children: Vec<Value> = tree.children[node]
                .iter()
                .filter_map(|child| built[*child].take())
                .collect();
            let mut object = Map::new();
            object.insert(
                "span_id".into(),
                json!(crate::ids::format_hex_id(&times.span_id)),
            );
            object.insert("name".into(), json!(span.name));
            object.insert("span_type".into(), json!(span.span_type));
            object.insert("status".into(), json!(span.status));
            object.insert("model".into(), json!(span.model));
            object.insert("start_offset_ms".into(), json!(ms(times.start - origin)));
            object.insert("duration_ms".into(), json!(ms(times.end - times.start)));
            object.insert(
                "self_time_ms".into(),
                json!(ms(tree.self_time(&trace.nodes, node))),
            );
            object.insert("input_tokens".into(), json!(span.input_tokens));
            object.insert("output_tokens".into(), json!(span.output_tokens));
            object.insert("cost_usd".into(), cost_json(&span.cost_usd));
            object.insert(
                "subtree".into(),
                json!({
                    "spans": tree.subtree_end[node] - tree.position[node],
                    "input_tokens": rollup.input_tokens[node],
                    "output_tokens": rollup.output_tokens[node],
                    "cost_usd": cost_json(&rollup.cost_usd[node]),
                    "errors": rollup.errors[node],
                }),
            );
            if tree.orphan[node] {
                object.insert("is_orphan".into(), json!(true));
            }
            if tree.cycle[node] {
                object.insert("is_cycle".into(), json!(true));
            }
            object.insert("children".into(), Value::Array(children));
            built[node] = Some(Value::Object(object));
        }
        let tops: Vec<Value> = scope
            .iter()
            .filter(|n| tree.depth[**n] == base_depth)
            .filter_map(|n| built[*n].take())
            .collect();
        Some(JsonB(json!({
            "trace_id": crate::ids::format_hex_id(&trace_id.0),
            "span_count": scope.len(),
            "spans": tops,
        })))
    }

    #[allow(clippy::type_complexity)]
    #[pg_extern(stable, parallel_safe, name = "diff_traces")]
    fn diff_traces(
        trace_a: TraceId,
        trace_b: TraceId,
        root_span_a: default!(Option<SpanId>, "NULL"),
        root_span_b: default!(Option<SpanId>, "NULL"),
    ) -> TableIterator<
        'static,
        (
            name!(step, i32),
            name!(depth, i32),
            name!(path, String),
            name!(change, String),
            name!(span_type, String),
            name!(name, String),
            name!(span_id_a, Option<SpanId>),
            name!(span_id_b, Option<SpanId>),
            name!(status_a, Option<String>),
            name!(status_b, Option<String>),
            name!(model_a, Option<String>),
            name!(model_b, Option<String>),
            name!(start_offset_ms_a, Option<f64>),
            name!(start_offset_ms_b, Option<f64>),
            name!(duration_ms_a, Option<f64>),
            name!(duration_ms_b, Option<f64>),
            name!(duration_delta_ms, Option<f64>),
            name!(tokens_a, Option<i64>),
            name!(tokens_b, Option<i64>),
            name!(tokens_delta, Option<i64>),
            name!(cost_usd_a, Option<AnyNumeric>),
            name!(cost_usd_b, Option<AnyNumeric>),
            name!(cost_delta_usd, Option<AnyNumeric>),
            name!(input_differs, Option<bool>),
            name!(output_differs, Option<bool>),
        ),
    > {
        let a = Trace::load(trace_a, true);
        let b = Trace::load(trace_b, true);
        let (Some(scope_a), Some(scope_b)) = (a.scope(root_span_a), b.scope(root_span_b)) else {
            return TableIterator::new(Vec::new());
        };
        // Align only the requested subtrees: rebuild each side's tree from its scope alone.
        let (sub_a, sub_b) = (Sub::of(&a, scope_a), Sub::of(&b, scope_b));
        let keys_a: Vec<(String, String)> = sub_a.spans.iter().map(|s| alignment_key(s)).collect();
        let keys_b: Vec<(String, String)> = sub_b.spans.iter().map(|s| alignment_key(s)).collect();
        let pairs = align(&sub_a.tree, &keys_a, &sub_b.tree, &keys_b);
        let (origin_a, origin_b) = (
            a.origin(scope_a, root_span_a),
            b.origin(scope_b, root_span_b),
        );

        let mut names: Vec<String> = Vec::new();
        let mut rows = Vec::with_capacity(pairs.len());
        for (
            step,
            Pair {
                a: na,
                b: nb,
                depth,
            },
        ) in pairs.into_iter().enumerate()
        {
            let span_a = na.map(|n| sub_a.spans[n]);
            let span_b = nb.map(|n| sub_b.spans[n]);
            let times_a = na.map(|n| &sub_a.nodes[n]);
            let times_b = nb.map(|n| &sub_b.nodes[n]);
            let shown = span_b
                .or(span_a)
                .unwrap_or_else(|| unreachable!("a pair has a side"));
            names.truncate(depth);
            names.push(shown.name.clone());
            let change = match (span_a, span_b) {
                (Some(x), Some(y)) => {
                    if x.status != y.status
                        || x.model != y.model
                        || x.input != y.input
                        || x.output != y.output
                        || x.input_tokens != y.input_tokens
                        || x.output_tokens != y.output_tokens
                    {
                        "changed"
                    } else {
                        "same"
                    }
                }
                (Some(_), None) => "removed",
                _ => "added",
            };
            let both = span_a.zip(span_b);
            let duration = |t: Option<&Node>| t.map(|t| ms(t.end - t.start));
            let (tokens_a, tokens_b) =
                (span_a.and_then(total_tokens), span_b.and_then(total_tokens));
            let (cost_a, cost_b) = (
                span_a.and_then(|s| s.cost_usd.clone()),
                span_b.and_then(|s| s.cost_usd.clone()),
            );
            rows.push((
                step as i32 + 1,
                depth as i32,
                tree_path(&names),
                change.to_string(),
                shown.span_type.clone(),
                shown.name.clone(),
                times_a.map(|t| SpanId(t.span_id)),
                times_b.map(|t| SpanId(t.span_id)),
                span_a.map(|s| s.status.clone()),
                span_b.map(|s| s.status.clone()),
                span_a.and_then(|s| s.model.clone()),
                span_b.and_then(|s| s.model.clone()),
                times_a.map(|t| ms(t.start - origin_a)),
                times_b.map(|t| ms(t.start - origin_b)),
                duration(times_a),
                duration(times_b),
                duration(times_a).zip(duration(times_b)).map(|(x, y)| y - x),
                tokens_a,
                tokens_b,
                match (tokens_a, tokens_b) {
                    (None, None) => None,
                    _ if both.is_none() => None,
                    (x, y) => Some(y.unwrap_or(0) - x.unwrap_or(0)),
                },
                cost_a.clone(),
                cost_b.clone(),
                match (cost_a, cost_b) {
                    (Some(x), Some(y)) => Some(y - x),
                    _ => None,
                },
                both.map(|(x, y)| x.input != y.input),
                both.map(|(x, y)| x.output != y.output),
            ));
        }
        TableIterator::new(rows)
    }

    #[allow(clippy::type_complexity)]
    #[pg_extern(stable, parallel_safe, name = "critical_path")]
    fn critical_path(
        trace_id: TraceId,
        root_span_id: default!(Option<SpanId>, "NULL"),
    ) -> TableIterator<
        'static,
        (
            name!(step, i32),
            name!(depth, i32),
            name!(span_id, SpanId),
            name!(name, String),
            name!(span_type, String),
            name!(status, String),
            name!(start_offset_ms, f64),
            name!(duration_ms, f64),
            name!(critical_ms, f64),
        ),
    > {
        let trace = Trace::load(trace_id, false);
        let Some(scope) = trace.scope(root_span_id) else {
            return TableIterator::new(Vec::new());
        };
        let origin = trace.origin(scope, root_span_id);
        let sub = Sub::of(&trace, scope);
        let mut path = tree::critical_path(&sub.nodes, &sub.tree);
        // Shown in time order: a span before the children it waited for.
        path.sort_by_key(|(node, _)| (sub.nodes[*node].start, sub.tree.depth[*node]));
        let rows: Vec<_> = path
            .into_iter()
            .enumerate()
            .map(|(step, (node, own))| {
                let (span, times) = (sub.spans[node], &sub.nodes[node]);
                (
                    step as i32 + 1,
                    sub.tree.depth[node] as i32,
                    SpanId(times.span_id),
                    span.name.clone(),
                    span.span_type.clone(),
                    span.status.clone(),
                    ms(times.start - origin),
                    ms(times.end - times.start),
                    ms(own),
                )
            })
            .collect();
        TableIterator::new(rows)
    }
}

/// One row of the last SPI result, deformed once: reading a column is then an array lookup, where
/// reading columns one by one walks the row from its start each time (`nocachegetattr`) and enters
/// PostgreSQL once per value.
struct Row<'r> {
    values: &'r [pg_sys::Datum],
    nulls: &'r [bool],
}

impl Row<'_> {
    fn datum(&self, column: usize) -> Option<pg_sys::Datum> {
        (!self.nulls[column]).then(|| self.values[column])
    }

    /// A bigint or timestamptz column (both 8 bytes, passed by value).
    fn int8(&self, column: usize) -> Option<i64> {
        self.datum(column).map(|d| d.value() as i64)
    }

    fn span_id(&self, column: usize) -> Option<[u8; 8]> {
        // SAFETY: callers name span_id columns only.
        self.datum(column)
            .and_then(|d| unsafe { SpanId::from_datum(d, false) })
            .map(|id| id.0)
    }

    fn text(&self, column: usize) -> Option<String> {
        let datum = self.datum(column)?;
        let pointer = datum.cast_mut_ptr::<pg_sys::varlena>();
        // SAFETY: callers name text columns only; a non-null text datum points at a varlena.
        unsafe {
            if pgrx::varlena::varatt_is_1b_e(pointer) || pgrx::varlena::varatt_is_4b_c(pointer) {
                // Stored out of line or compressed (long inputs and outputs): PostgreSQL detoasts.
                String::from_datum(datum, false)
            } else {
                let bytes = pgrx::varlena::varlena_to_byte_slice(pointer);
                Some(String::from_utf8_lossy(bytes).into_owned())
            }
        }
    }

    fn numeric(&self, column: usize) -> Option<AnyNumeric> {
        // SAFETY: callers name numeric columns only.
        self.datum(column)
            .and_then(|d| unsafe { AnyNumeric::from_datum(d, false) })
    }
}

/// Calls `each` with every row of the last SPI result.
///
/// # Safety
/// An SPI query must just have run in the current SPI connection, its result still unreleased.
unsafe fn for_each_row(mut each: impl FnMut(&Row)) {
    unsafe {
        let Some(table) = pg_sys::SPI_tuptable.as_ref() else {
            return;
        };
        let columns = (*table.tupdesc).natts as usize;
        let mut values = vec![pg_sys::Datum::from(0); columns];
        let mut nulls = vec![false; columns];
        for index in 0..table.numvals as usize {
            let tuple = *table.vals.add(index);
            pg_sys::heap_deform_tuple(
                tuple,
                table.tupdesc,
                values.as_mut_ptr(),
                nulls.as_mut_ptr(),
            );
            each(&Row {
                values: &values,
                nulls: &nulls,
            });
        }
    }
}
