//! The SQL functions that need an algorithm: `trace_tree`, `trace_tree_json`, `diff_traces` and
//! `critical_path`. Each reads one trace's spans with one indexed query (`sql/queries/`), arranges
//! them with the pure code in `tree.rs` / `diff.rs`, and returns rows. The set-based functions built
//! on these (ancestors, descendants, replay, diff_summary) are plain SQL in `sql/functions.sql`.
//!
//! Every function takes an optional span id: given one, it works on that span's subtree alone, with
//! depths, paths and offsets counted from it. That is how one turn of a long session (a child of the
//! session's root span) is shown, diffed or replayed on its own. A NULL trace id is no trace: no
//! rows, or NULL.
//!
//! Every loop over spans lets PostgreSQL interrupt it (interrupts.rs), so statement_timeout and
//! pg_cancel_backend stop these functions on any trace; diff_traces is also bounded by a budget
//! (diff.rs).
//!
//! Speed: `trace_tree` is meant to cost little more than fetching the spans (BENCHMARKS.md has
//! the numbers and the profile). So the span queries are planned once per backend and kept; their
//! rows come straight from the executor's slots into a `SpanReceiver` (variable-length values
//! copied once into an arena, not whole rows into an SPI result table); each value is used where it
//! lies rather than copied into Rust strings; cost rollups add the stored numeric datums; and
//! `trace_tree` writes its rows straight into the result tuplestore (materialize mode), passing the
//! stored values through untouched. Row-level security and privileges are PostgreSQL's: the
//! queries run through SPI's executor as the caller, never around it.

use crate::diff::{Budget, Pair, align};
use crate::ids::{SpanId, TraceId};
use crate::interrupts;
use crate::tree::{self, Node, Tree};
use pgrx::guc::{GucContext, GucFlags, GucRegistry, GucSetting};
use pgrx::prelude::*;
use pgrx::{AnyNumeric, JsonB, PgTupleDesc, Uuid};
use serde_json::{Map, Value, json};
use std::collections::HashMap;
use std::ffi::CString;

/// `agent_trace.diff_alignment_budget`: million key comparisons diff_traces may spend aligning
/// sibling lists exactly (see diff.rs) before it aligns the rest by position. The default keeps a
/// diff that spends it within seconds, and two 100,000-span runs that resemble each other align
/// exactly within it (scripts/bench-trace-api.sh measures both).
pub static DIFF_ALIGNMENT_BUDGET: GucSetting<i32> = GucSetting::<i32>::new(100);
/// `agent_trace.project`: read by the row-level security policies (projects.sql), not here.
pub static PROJECT: GucSetting<Option<CString>> = GucSetting::<Option<CString>>::new(None);

pub fn define_settings() {
    GucRegistry::define_int_guc(
        c"agent_trace.diff_alignment_budget",
        c"Million key comparisons diff_traces may spend on exact alignment.",
        c"Past it, sibling lists are aligned by position (linear time) and their rows say alignment = 'positional'. 0: always by position.",
        &DIFF_ALIGNMENT_BUDGET,
        0,
        i32::MAX,
        GucContext::Userset,
        GucFlags::default(),
    );
    GucRegistry::define_string_guc(
        c"agent_trace.project",
        c"Narrows what this session reads to the project of this name (empty: every project the role may read).",
        c"The row-level security policies of agent_trace's tables read it; it never widens what a role may read.",
        &PROJECT,
        GucContext::Userset,
        GucFlags::default(),
    );
}

fn diff_alignment_budget() -> u64 {
    u64::try_from(DIFF_ALIGNMENT_BUDGET.get()).unwrap_or(0) * 1_000_000
}

/// Levels of spans trace_tree_json nests (each is an object and a "children" array in the
/// document). PostgreSQL 15 with the default 2 MB max_stack_depth parses about 5,000 nested
/// levels, so 1,000 spans deep leaves room.
const MAX_JSON_DEPTH: usize = 1000;

/// Where a trace's spans start ($2 and $3 of the span queries).
const TRACE_BOUNDS_SQL: &str = include_str!("../sql/queries/trace_bounds.sql");
const TRACE_SPANS_SQL: &str = include_str!("../sql/queries/trace_spans.sql");
/// The same, with the spans' input and output (only diff_traces compares them).
const TRACE_SPANS_WITH_IO_SQL: &str = include_str!("../sql/queries/trace_spans_with_io.sql");
/// The computed costs of the same spans.
const TRACE_COSTS_SQL: &str = include_str!("../sql/queries/trace_costs.sql");

/// The columns of trace_spans.sql, in its order.
mod column {
    pub const SPAN_ID: usize = 0;
    pub const PARENT_SPAN_ID: usize = 1;
    pub const START_TIME: usize = 2;
    pub const END_TIME: usize = 3;
    pub const NAME: usize = 4;
    pub const SPAN_TYPE: usize = 5;
    pub const STATUS: usize = 6;
    pub const MODEL: usize = 7;
    pub const INPUT_TOKENS: usize = 8;
    pub const OUTPUT_TOKENS: usize = 9;
    pub const COST_USD: usize = 10;
    pub const INPUT: usize = 11;
    pub const OUTPUT: usize = 12;
    /// NULL in the query; filled from trace_costs.sql.
    pub const COMPUTED_COST_USD: usize = 13;
    pub const PROJECT_ID: usize = 14;
    pub const COUNT: usize = 15;
}

/// The type each column of trace_spans.sql (and trace_spans_with_io.sql) must have, as this code
/// reads it. A kept plan is planned again from the SQL text when a table changes (ALTER TABLE), so
/// its columns' types can change under it; a value of another type would be misread (a pointer read
/// as a number, a number followed as a pointer), so a query whose types differ is refused instead.
fn span_column_types(span_id: pg_sys::Oid) -> [pg_sys::Oid; column::COUNT] {
    let (text, numeric, timestamptz) =
        (pg_sys::TEXTOID, pg_sys::NUMERICOID, pg_sys::TIMESTAMPTZOID);
    [
        span_id,
        span_id,
        timestamptz,
        timestamptz,
        text,
        text,
        text,
        text,
        pg_sys::INT8OID,
        pg_sys::INT8OID,
        numeric,
        text,
        text,
        numeric,
        pg_sys::INT4OID,
    ]
}

/// Refuses a span query's result whose columns are not `expected` (count and types), with 42804
/// (datatype_mismatch), before any of its values is read.
///
/// # Safety
/// `desc` is a valid tuple descriptor.
unsafe fn check_columns(query: &str, desc: pg_sys::TupleDesc, expected: &[pg_sys::Oid]) {
    let desc = unsafe { PgTupleDesc::from_pg_unchecked(desc) };
    let mismatch = |message: String| -> ! {
        ereport!(
            ERROR,
            PgSqlErrorCode::ERRCODE_DATATYPE_MISMATCH,
            format!("agent_trace: {query}: {message}"),
            "The tables of agent_trace differ from what this library reads: run ALTER EXTENSION agent_trace UPDATE, or reinstall the extension."
        );
    };
    if desc.len() != expected.len() {
        mismatch(format!(
            "the query returns {} columns, this library reads {}",
            desc.len(),
            expected.len()
        ));
    }
    for (index, (attribute, oid)) in desc.iter().zip(expected).enumerate() {
        if attribute.atttypid != *oid {
            // SAFETY: format_type_be names any type oid (or says it is unknown).
            let name = |oid| unsafe {
                std::ffi::CStr::from_ptr(pg_sys::format_type_be(oid))
                    .to_string_lossy()
                    .into_owned()
            };
            mismatch(format!(
                "column {} ({}) is {}, this library reads {}",
                index + 1,
                attribute.name(),
                name(attribute.atttypid),
                name(*oid)
            ));
        }
    }
}

/// One span: the values of its row as read; the variable-length ones point into its Trace's arena,
/// or (computed costs) into an SPI result that lives until the SPI connection closes (a `Trace`
/// never outlives `with_trace`).
struct Span {
    values: [pg_sys::Datum; column::COUNT],
    nulls: [bool; column::COUNT],
}

impl Span {
    fn datum(&self, column: usize) -> Option<pg_sys::Datum> {
        (!self.nulls[column]).then(|| self.values[column])
    }

    fn span_id(&self, column: usize) -> Option<[u8; 8]> {
        // SAFETY: callers name span_id columns only.
        self.datum(column)
            .and_then(|d| unsafe { SpanId::from_datum(d, false) })
            .map(|id| id.0)
    }

    fn int4(&self, column: usize) -> Option<i32> {
        self.datum(column).map(|d| d.value() as i32)
    }

    /// A bigint or timestamptz column (both 8 bytes, passed by value).
    fn int8(&self, column: usize) -> Option<i64> {
        self.datum(column).map(|d| d.value() as i64)
    }

    fn text(&self, column: usize) -> Option<&str> {
        let datum = self.datum(column)?;
        // SAFETY: the text columns of trace_spans.sql hold varlenas that live as long as `self`.
        Some(unsafe { text_in_place(datum) })
    }

    fn name(&self) -> &str {
        self.text(column::NAME).unwrap_or_default()
    }

    fn span_type(&self) -> &str {
        self.text(column::SPAN_TYPE).unwrap_or_default()
    }

    fn status(&self) -> &str {
        self.text(column::STATUS).unwrap_or_default()
    }

    fn model(&self) -> Option<&str> {
        self.text(column::MODEL)
    }

    fn input_tokens(&self) -> Option<i64> {
        self.int8(column::INPUT_TOKENS)
    }

    fn output_tokens(&self) -> Option<i64> {
        self.int8(column::OUTPUT_TOKENS)
    }

    /// Cost as reported, a copy in the current memory context (so inside `with_trace`, gone when
    /// it returns).
    fn cost_usd(&self) -> Option<AnyNumeric> {
        self.numeric(column::COST_USD)
    }

    /// Cost computed from model_prices (agent_span_costs), for a span that reported none.
    fn computed_cost_usd(&self) -> Option<AnyNumeric> {
        self.numeric(column::COMPUTED_COST_USD)
    }

    fn numeric(&self, column: usize) -> Option<AnyNumeric> {
        // SAFETY: callers name numeric columns only.
        self.datum(column)
            .and_then(|d| unsafe { AnyNumeric::from_datum(d, false) })
    }
}

/// A text datum's characters, read where they lie; a value stored out of line or compressed is
/// detoasted into the current memory context first.
///
/// # Safety
/// `datum` is a non-null text datum, and the returned str must not outlive its memory.
unsafe fn text_in_place<'a>(datum: pg_sys::Datum) -> &'a str {
    unsafe {
        let mut pointer = datum.cast_mut_ptr::<pg_sys::varlena>();
        if pgrx::varlena::varatt_is_1b_e(pointer) || pgrx::varlena::varatt_is_4b_c(pointer) {
            pointer = pg_sys::pg_detoast_datum_packed(pointer);
        }
        let bytes = pgrx::varlena::varlena_to_byte_slice(pointer);
        // The database stores valid text in its encoding; for a non-UTF-8 database, the rare
        // non-ASCII value shows as U+FFFD in the functions that interpret text.
        std::str::from_utf8(bytes).unwrap_or("\u{FFFD}")
    }
}

/// A trace's spans and their tree.
struct Trace {
    nodes: Vec<Node>,
    spans: Vec<Span>,
    tree: Tree,
    /// The type of each column of trace_spans.sql, as read.
    column_types: [pg_sys::Oid; column::COUNT],
    /// Where the spans' variable-length values lie.
    _values: Arena,
}

impl Trace {
    /// The spans a SpanReceiver received, their computed costs filled in from trace_costs.sql's
    /// result.
    ///
    /// # Safety
    /// `costs_table` is that query's result, and stays until the Trace is dropped; `span_id` is the
    /// oid of agent_trace.span_id.
    unsafe fn from_received(
        received: SpanReceiver,
        costs_table: *mut pg_sys::SPITupleTable,
        span_id: pg_sys::Oid,
    ) -> Trace {
        let SpanReceiver {
            mut spans,
            arena,
            types: column_types,
            ..
        } = received;
        let nodes: Vec<Node> = spans
            .iter()
            .map(|span| {
                interrupts::check();
                Node {
                    span_id: span.span_id(column::SPAN_ID).unwrap_or_default(),
                    parent_id: span.span_id(column::PARENT_SPAN_ID),
                    start: span.int8(column::START_TIME).unwrap_or(0),
                    end: span.int8(column::END_TIME).unwrap_or(0),
                }
            })
            .collect();
        unsafe {
            if let Some(table) = costs_table.as_ref()
                && table.numvals > 0
            {
                // trace_costs.sql's columns: span_id, start_time, project_id, cost (also the
                // bound of heap_deform_tuple's writes into a Span's arrays).
                let types = [span_id, pg_sys::TIMESTAMPTZOID, pg_sys::INT4OID];
                check_columns(
                    "trace_costs.sql",
                    table.tupdesc,
                    &[types[0], types[1], types[2], pg_sys::NUMERICOID],
                );
                // (span_id, start_time, project_id) -> the cost's datum.
                let mut costs = HashMap::with_capacity(table.numvals as usize);
                for index in 0..table.numvals as usize {
                    interrupts::check();
                    let mut cost = Span {
                        values: [pg_sys::Datum::from(0); column::COUNT],
                        nulls: [true; column::COUNT],
                    };
                    pg_sys::heap_deform_tuple(
                        *table.vals.add(index),
                        table.tupdesc,
                        cost.values.as_mut_ptr(),
                        cost.nulls.as_mut_ptr(),
                    );
                    let key = (cost.span_id(0), cost.int8(1), cost.int4(2));
                    costs.insert(key, cost.values[3]);
                }
                for (span, node) in spans.iter_mut().zip(&nodes) {
                    interrupts::check();
                    let key = (
                        Some(node.span_id),
                        span.int8(column::START_TIME),
                        span.int4(column::PROJECT_ID),
                    );
                    if let Some(cost) = costs.get(&key) {
                        span.values[column::COMPUTED_COST_USD] = *cost;
                        span.nulls[column::COMPUTED_COST_USD] = false;
                    }
                }
            }
        }
        let tree = Tree::build(&nodes);
        Trace {
            nodes,
            spans,
            tree,
            column_types,
            _values: arena,
        }
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

    /// Microseconds that offsets count from: the start of the scope's root, or of the whole trace.
    fn origin(&self, scope: &[usize], root: Option<SpanId>) -> i64 {
        match (root, scope.first()) {
            (Some(_), Some(first)) => self.nodes[*first].start,
            _ => self.nodes.iter().map(|n| n.start).min().unwrap_or(0),
        }
    }
}

/// The span queries, planned once per backend and kept (SPI_keepplan), as PL/pgSQL keeps its
/// statements: planning them took about as long as reading a 10,000-span trace's rows
/// (BENCHMARKS.md). The plans are generic, so a trace's days are chosen when a plan starts
/// (PostgreSQL's run-time partition pruning on $2 and $3), not when it is made. PostgreSQL's plan
/// cache keeps them right: it plans again when a table or partition changes, and when another role
/// (whose row-level security policies differ) runs them; privileges are checked at every run.
struct Plans {
    bounds: pg_sys::SPIPlanPtr,
    spans: pg_sys::SPIPlanPtr,
    spans_with_io: pg_sys::SPIPlanPtr,
    costs: pg_sys::SPIPlanPtr,
}

thread_local! {
    /// A backend runs one thread: its plans, once made.
    static PLANS: std::cell::Cell<Option<&'static Plans>> = const { std::cell::Cell::new(None) };
}

/// A generic plan of `sql`, in the SPI connection's memory until `keep` moves it out.
///
/// # Safety
/// Called inside an SPI connection.
unsafe fn prepare_plan(sql: &str, argument_types: &[pg_sys::Oid]) -> pg_sys::SPIPlanPtr {
    let text = CString::new(sql).unwrap_or_else(|_| unreachable!("the span queries hold no NUL"));
    let mut types = argument_types.to_vec();
    unsafe {
        let plan = pg_sys::SPI_prepare_cursor(
            text.as_ptr(),
            types.len() as i32,
            types.as_mut_ptr(),
            pg_sys::CURSOR_OPT_GENERIC_PLAN as i32,
        );
        if plan.is_null() {
            let result = pg_sys::SPI_result;
            ereport!(
                ERROR,
                PgSqlErrorCode::ERRCODE_INTERNAL_ERROR,
                format!("agent_trace: SPI could not plan a span query (SPI_result {result})")
            );
        }
        plan
    }
}

/// Keeps a plan of `prepare_plan` for the backend's life.
///
/// # Safety
/// Called inside the SPI connection that prepared `plan`.
unsafe fn keep(plan: pg_sys::SPIPlanPtr) -> pg_sys::SPIPlanPtr {
    // SAFETY: `plan` is a valid, not yet kept plan; SPI_keepplan fails only on one that is not.
    if unsafe { pg_sys::SPI_keepplan(plan) } != 0 {
        ereport!(
            ERROR,
            PgSqlErrorCode::ERRCODE_INTERNAL_ERROR,
            "agent_trace: SPI could not keep a span query's plan"
        );
    }
    plan
}

/// The kept plans, made on first use.
///
/// # Safety
/// Called inside an SPI connection.
unsafe fn plans() -> &'static Plans {
    if let Some(plans) = PLANS.get() {
        return plans;
    }
    let (uuid, timestamptz) = (pg_sys::UUIDOID, pg_sys::TIMESTAMPTZOID);
    let span_arguments = [uuid, timestamptz, timestamptz];
    // All four prepared before any is kept: an error (or a cancel) half-way leaves the prepared
    // ones in the SPI connection's memory, which goes with it, rather than kept and lost.
    let plans: &'static Plans = Box::leak(Box::new(unsafe {
        let prepared = Plans {
            bounds: prepare_plan(TRACE_BOUNDS_SQL, &[uuid]),
            spans: prepare_plan(TRACE_SPANS_SQL, &span_arguments),
            spans_with_io: prepare_plan(TRACE_SPANS_WITH_IO_SQL, &span_arguments),
            costs: prepare_plan(TRACE_COSTS_SQL, &span_arguments),
        };
        Plans {
            bounds: keep(prepared.bounds),
            spans: keep(prepared.spans),
            spans_with_io: keep(prepared.spans_with_io),
            costs: keep(prepared.costs),
        }
    }));
    PLANS.set(Some(plans));
    plans
}

/// Runs a kept plan, read-only (in the calling statement's snapshot), for all its rows.
///
/// # Safety
/// Called inside an SPI connection; `values` match the plan's argument types.
unsafe fn run_plan(plan: pg_sys::SPIPlanPtr, values: &mut [Option<pg_sys::Datum>]) {
    let mut datums: Vec<pg_sys::Datum> = values
        .iter()
        .map(|v| v.unwrap_or(pg_sys::Datum::from(0)))
        .collect();
    let nulls: Vec<std::ffi::c_char> = values
        .iter()
        .map(|v| if v.is_some() { b' ' } else { b'n' } as std::ffi::c_char)
        .collect();
    let status =
        unsafe { pg_sys::SPI_execute_plan(plan, datums.as_mut_ptr(), nulls.as_ptr(), true, 0) };
    if status != pg_sys::SPI_OK_SELECT as i32 {
        ereport!(
            ERROR,
            PgSqlErrorCode::ERRCODE_INTERNAL_ERROR,
            format!("agent_trace: SPI could not read the spans of a trace (status {status})")
        );
    }
}

/// Copies of the variable-length values of a trace's spans, in blocks that never move (so the
/// datums pointing into them stay valid until the trace is dropped): one bump per value instead of
/// SPI's copy of every row into a result table of its own.
#[derive(Default)]
struct Arena {
    blocks: Vec<Vec<u64>>,
    /// Bytes used of the last block.
    used: usize,
}

impl Arena {
    const BLOCK_BYTES: usize = 64 * 1024;

    /// A copy of `len` bytes at `from`, aligned to 8 bytes.
    ///
    /// # Safety
    /// `from` points to `len` readable bytes.
    unsafe fn copy(&mut self, from: *const u8, len: usize) -> *const u8 {
        let capacity = |block: &Vec<u64>| block.capacity() * 8;
        let fits = self
            .blocks
            .last()
            .is_some_and(|block| self.used + len <= capacity(block));
        if !fits {
            self.blocks
                .push(Vec::with_capacity(Self::BLOCK_BYTES.max(len).div_ceil(8)));
            self.used = 0;
        }
        let Some(block) = self.blocks.last_mut() else {
            unreachable!("a block was just added")
        };
        // SAFETY: the block has room for `len` bytes from `used`; its buffer never reallocates
        // (nothing is pushed into it), so the copy stays where it is.
        unsafe {
            let to = block.as_mut_ptr().cast::<u8>().add(self.used);
            std::ptr::copy_nonoverlapping(from, to, len);
            self.used += len.div_ceil(8) * 8;
            to
        }
    }
}

/// Receives the rows of a span query straight from the executor (SPI_execute_plan_extended's
/// `dest`): each row's values are taken from the executor's slot, the variable-length ones copied
/// into the arena, rather than SPI forming a copy of the whole row for a result table that is then
/// taken apart again.
#[repr(C)]
struct SpanReceiver {
    /// PostgreSQL's part; first, so a pointer to it is a pointer to the whole.
    base: pg_sys::DestReceiver,
    spans: Vec<Span>,
    arena: Arena,
    /// The type each column must have (span_column_types), checked as the query starts.
    expected: [pg_sys::Oid; column::COUNT],
    /// Per column: its type, its length (-1: a varlena, -2: a C string) and whether its values are
    /// passed by value (the others are copied into the arena).
    types: [pg_sys::Oid; column::COUNT],
    lengths: [i16; column::COUNT],
    by_value: [bool; column::COUNT],
}

#[pg_guard]
unsafe extern "C-unwind" fn span_receiver_startup(
    receiver: *mut pg_sys::DestReceiver,
    _operation: std::ffi::c_int,
    desc: pg_sys::TupleDesc,
) {
    // SAFETY: PostgreSQL passes back the receiver it was given: a SpanReceiver.
    unsafe {
        let me = &mut *receiver.cast::<SpanReceiver>();
        // Before any row: the receiver and the functions read each column as its expected type.
        check_columns("trace_spans.sql", desc, &me.expected);
        let desc = PgTupleDesc::from_pg_unchecked(desc);
        for (index, attribute) in desc.iter().enumerate() {
            me.types[index] = attribute.atttypid;
            me.lengths[index] = attribute.attlen;
            me.by_value[index] = attribute.attbyval;
        }
    }
}

#[pg_guard]
unsafe extern "C-unwind" fn span_receiver_receive(
    slot: *mut pg_sys::TupleTableSlot,
    receiver: *mut pg_sys::DestReceiver,
) -> bool {
    // SAFETY: PostgreSQL passes back the receiver it was given, and a slot of the query's row
    // type (checked at startup to have column::COUNT columns of the expected types).
    unsafe {
        interrupts::check();
        let me = &mut *receiver.cast::<SpanReceiver>();
        let count = column::COUNT as i32;
        if i32::from((*slot).tts_nvalid) < count {
            pg_sys::slot_getsomeattrs_int(slot, count);
        }
        let mut span = Span {
            values: [pg_sys::Datum::from(0); column::COUNT],
            nulls: [true; column::COUNT],
        };
        for index in 0..column::COUNT {
            if *(*slot).tts_isnull.add(index) {
                continue;
            }
            let mut value = *(*slot).tts_values.add(index);
            if !me.by_value[index] {
                // A value passed by reference (text, numeric, and the 8-byte span ids) lives in
                // a shared buffer (or the slot's tuple) only while the executor is on this row.
                let mut pointer = value.cast_mut_ptr::<u8>();
                let mut flattened = None;
                let varlena = pointer.cast::<pg_sys::varlena>();
                if me.lengths[index] == -1
                    && pgrx::varlena::varatt_is_1b_e(varlena)
                    && u32::from(pgrx::varlena::vartag_external(varlena))
                        != pg_sys::vartag_external::VARTAG_ONDISK
                {
                    // An expanded or indirect value points into memory of this row's making:
                    // copied flat, as heap_form_tuple would. (A table's rows hold none; a toast
                    // pointer, which names the value in the toast table, is kept as it is, like
                    // an SPI row copy or RETURN QUERY keeps it, and read under the statement's
                    // snapshot.)
                    let flat = pg_sys::detoast_external_attr(varlena);
                    flattened = Some(flat);
                    pointer = flat.cast();
                }
                let len = match me.lengths[index] {
                    -1 => pgrx::varlena::varsize_any(pointer.cast()),
                    -2 => std::ffi::CStr::from_ptr(pointer.cast())
                        .to_bytes_with_nul()
                        .len(),
                    fixed => fixed as usize,
                };
                value = pg_sys::Datum::from(me.arena.copy(pointer, len));
                if let Some(flat) = flattened {
                    pg_sys::pfree(flat.cast());
                }
            }
            span.values[index] = value;
            span.nulls[index] = false;
        }
        me.spans.push(span);
        true
    }
}

#[pg_guard]
unsafe extern "C-unwind" fn span_receiver_nothing(_receiver: *mut pg_sys::DestReceiver) {}

/// Runs a kept span query (trace_spans.sql or trace_spans_with_io.sql), read-only, its rows
/// received by a SpanReceiver.
///
/// # Safety
/// Called inside an SPI connection; `values` match the plan's argument types.
unsafe fn receive_spans(
    plan: pg_sys::SPIPlanPtr,
    values: &[(Option<pg_sys::Datum>, pg_sys::Oid)],
    expected_rows: i64,
    expected_types: [pg_sys::Oid; column::COUNT],
) -> Box<SpanReceiver> {
    // Room for the rows agent_traces counts (a hint, bounded), rather than growing by copies.
    let room = usize::try_from(expected_rows.clamp(0, 1_000_000)).unwrap_or(0);
    let mut receiver = Box::new(SpanReceiver {
        base: pg_sys::DestReceiver {
            receiveSlot: Some(span_receiver_receive),
            rStartup: Some(span_receiver_startup),
            rShutdown: Some(span_receiver_nothing),
            rDestroy: Some(span_receiver_nothing),
            // A tag SPI reads: DestNone would make it report no result, DestSPI check its own
            // result table. PL/pgSQL's RETURN QUERY passes a tuplestore receiver the same way.
            mydest: pg_sys::CommandDest::DestTuplestore,
        },
        spans: Vec::with_capacity(room),
        arena: Arena::default(),
        expected: expected_types,
        types: [pg_sys::InvalidOid; column::COUNT],
        lengths: [0; column::COUNT],
        by_value: [false; column::COUNT],
    });
    unsafe {
        let params = pg_sys::makeParamList(values.len() as i32);
        let slots = (*params).params.as_mut_slice(values.len());
        for (slot, (value, oid)) in slots.iter_mut().zip(values) {
            *slot = pg_sys::ParamExternData {
                value: value.unwrap_or(pg_sys::Datum::from(0)),
                isnull: value.is_none(),
                pflags: pg_sys::PARAM_FLAG_CONST as u16,
                ptype: *oid,
            };
        }
        (*params).numParams = values.len() as i32;
        // A pointer to the whole receiver (not only to its `base` field), since the callbacks
        // reach all of it through this pointer.
        let whole: *mut SpanReceiver = &raw mut *receiver;
        let options = pg_sys::SPIExecuteOptions {
            params,
            read_only: true,
            dest: whole.cast(),
            ..Default::default()
        };
        let status = pg_sys::SPI_execute_plan_extended(plan, &options);
        if status != pg_sys::SPI_OK_SELECT as i32 {
            ereport!(
                ERROR,
                PgSqlErrorCode::ERRCODE_INTERNAL_ERROR,
                format!("agent_trace: SPI could not read the spans of a trace (status {status})")
            );
        }
    }
    receiver
}

/// Reads a trace and hands it to `work`, inside one SPI connection: the spans' values are read in
/// place and are gone when it closes, so whatever `work` returns must own its data (Rust values;
/// PostgreSQL values made inside live in the connection's memory and do not survive it).
fn with_trace<R>(trace_id: TraceId, with_io: bool, work: impl FnOnce(&Trace) -> R) -> R {
    Spi::connect(|_client| {
        // SAFETY: inside the SPI connection; the arguments have the plans' types. The result of
        // the span query stays until the connection closes after `work`.
        unsafe {
            let plans = plans();
            // Looked up at each call: the extension may have been made again since the last.
            let span_id = SpanId::type_oid();
            let id = Uuid::from_bytes(trace_id.0).into_datum();
            run_plan(plans.bounds, &mut [id]);
            let (mut from, mut to, mut expected) = (None, None, 0);
            if let Some(table) = pg_sys::SPI_tuptable.as_ref()
                && table.numvals > 0
            {
                let timestamptz = pg_sys::TIMESTAMPTZOID;
                check_columns(
                    "trace_bounds.sql",
                    table.tupdesc,
                    &[timestamptz, timestamptz, pg_sys::INT8OID],
                );
                let row = *table.vals;
                let mut null = false;
                let value = pg_sys::SPI_getbinval(row, table.tupdesc, 1, &mut null);
                from = (!null).then_some(value);
                let value = pg_sys::SPI_getbinval(row, table.tupdesc, 2, &mut null);
                to = (!null).then_some(value);
                let value = pg_sys::SPI_getbinval(row, table.tupdesc, 3, &mut null);
                // sum(integer) is a bigint, passed by value.
                if !null {
                    expected = value.value() as i64;
                }
            }
            let plan = if with_io {
                plans.spans_with_io
            } else {
                plans.spans
            };
            let (uuid, timestamptz) = (pg_sys::UUIDOID, pg_sys::TIMESTAMPTZOID);
            let spans = receive_spans(
                plan,
                &[(id, uuid), (from, timestamptz), (to, timestamptz)],
                expected,
                span_column_types(span_id),
            );
            run_plan(plans.costs, &mut [id, from, to]);
            let trace = Trace::from_received(*spans, pg_sys::SPI_tuptable, span_id);
            work(&trace)
        }
    })
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

unsafe extern "C-unwind" {
    /// PostgreSQL's numeric + numeric (the symbol itself: pgrx's pg_sys::numeric_add is a Rust
    /// wrapper, which DirectFunctionCall2Coll cannot take). Only ever called by PostgreSQL, through
    /// the guarded DirectFunctionCall2Coll.
    #[link_name = "numeric_add"]
    fn postgres_numeric_add(fcinfo: pg_sys::FunctionCallInfo) -> pg_sys::Datum;
}

/// Adds a numeric to a sum of numerics, as datums: a sum of one value is that value itself (the
/// stored datum, not a copy), and a sum of more is numeric_add's, in the current memory context
/// (inside `with_trace`, gone when it returns). Called without pgrx's conversions, which copied
/// both values for each addition.
fn add_cost(total: &mut Option<pg_sys::Datum>, more: Option<pg_sys::Datum>) {
    if let Some(more) = more {
        *total = Some(match *total {
            // SAFETY: both are numeric datums (the span queries' numeric columns, or sums of them).
            Some(sum) => unsafe {
                pg_sys::DirectFunctionCall2Coll(
                    Some(postgres_numeric_add),
                    pg_sys::InvalidOid,
                    sum,
                    more,
                )
            },
            None => more,
        });
    }
}

/// Per node: the sums over its subtree (costs as numeric datums, see `add_cost`).
struct Rollup {
    input_tokens: Vec<Option<i64>>,
    output_tokens: Vec<Option<i64>>,
    cost_usd: Vec<Option<pg_sys::Datum>>,
    computed_cost_usd: Vec<Option<pg_sys::Datum>>,
    errors: Vec<i32>,
}

impl Rollup {
    fn of(trace: &Trace) -> Rollup {
        let n = trace.nodes.len();
        let mut rollup = Rollup {
            input_tokens: vec![None; n],
            output_tokens: vec![None; n],
            cost_usd: vec![None; n],
            computed_cost_usd: vec![None; n],
            errors: vec![0; n],
        };
        // Reverse depth-first order visits every node after all of its descendants.
        for &node in trace.tree.preorder.iter().rev() {
            interrupts::check();
            let span = &trace.spans[node];
            if counts_usage(span.span_type()) {
                add_tokens(&mut rollup.input_tokens[node], span.input_tokens());
                add_tokens(&mut rollup.output_tokens[node], span.output_tokens());
                add_cost(&mut rollup.cost_usd[node], span.datum(column::COST_USD));
                add_cost(
                    &mut rollup.computed_cost_usd[node],
                    span.datum(column::COMPUTED_COST_USD),
                );
            }
            if span.status() == "ERROR" {
                rollup.errors[node] += 1;
            }
            if let Some(parent) = trace.tree.parent[node] {
                let (input, output) = (rollup.input_tokens[node], rollup.output_tokens[node]);
                add_tokens(&mut rollup.input_tokens[parent], input);
                add_tokens(&mut rollup.output_tokens[parent], output);
                let cost = rollup.cost_usd[node];
                add_cost(&mut rollup.cost_usd[parent], cost);
                let computed = rollup.computed_cost_usd[node];
                add_cost(&mut rollup.computed_cost_usd[parent], computed);
                rollup.errors[parent] += rollup.errors[node];
            }
        }
        rollup
    }
}

/// A numeric datum (of `Rollup`) as an AnyNumeric.
fn numeric(datum: Option<pg_sys::Datum>) -> Option<AnyNumeric> {
    // SAFETY: Rollup's costs are numeric datums.
    datum.and_then(|d| unsafe { AnyNumeric::from_datum(d, false) })
}

fn ms(microseconds: i64) -> f64 {
    microseconds as f64 / 1000.0
}

/// Milliseconds from `from` to `to` (microseconds). In floating point: the span of two timestamps
/// far apart (a year 4713 BC start beside a year 294276 one) does not fit a 64-bit integer.
fn ms_between(from: i64, to: i64) -> f64 {
    (to as f64 - from as f64) / 1000.0
}

/// A JSON number for a cost (JSON has no decimal type; costs have far fewer digits than f64 keeps).
fn cost_json(cost: Option<AnyNumeric>) -> Value {
    cost.and_then(|c| f64::try_from(c).ok())
        .map_or(Value::Null, |c| json!(c))
}

/// The key two runs are aligned on: span type and name. An LLM call's name without its model
/// ("chat gpt-4o" -> "chat"), so a run against another model still lines up call by call and
/// shows the model change as a change.
fn alignment_key(span: &Span) -> (String, String) {
    let name = match (span.model(), counts_usage(span.span_type())) {
        (Some(model), true) if !model.is_empty() => {
            span.name().replace(model, "").trim().to_string()
        }
        _ => span.name().to_string(),
    };
    (span.span_type().to_string(), name)
}

fn total_tokens(span: &Span) -> Option<i64> {
    match (span.input_tokens(), span.output_tokens()) {
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
            interrupts::check();
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

/// The argument at `index`, None when SQL NULL.
///
/// # Safety
/// `fcinfo` is a valid call whose argument at `index` has type `T`'s SQL type.
unsafe fn argument<T: FromDatum>(fcinfo: pg_sys::FunctionCallInfo, index: usize) -> Option<T> {
    unsafe {
        let arg = &*(*fcinfo).args.as_ptr().add(index);
        T::from_datum(arg.value, arg.isnull)
    }
}

crate::ids::fmgr_v1! {
    agent_trace_trace_tree => pg_finfo_agent_trace_trace_tree,
}

/// A text datum rewritten for each row (tuplestore_putvalues copies it), rather than one
/// allocation per row.
#[derive(Default)]
struct TextBuffer {
    /// u32s, so the varlena's 4-byte header is aligned.
    words: Vec<u32>,
}

impl TextBuffer {
    fn datum(&mut self, text: &str) -> pg_sys::Datum {
        let size = pg_sys::VARHDRSZ + text.len();
        self.words.clear();
        self.words.resize(size.div_ceil(4), 0);
        let bytes = self.words.as_mut_ptr().cast::<u8>();
        // SAFETY: `words` holds `size` bytes; the header is a 4-byte varlena header.
        unsafe {
            pgrx::set_varsize_4b(bytes.cast(), size as i32);
            std::ptr::copy_nonoverlapping(text.as_ptr(), bytes.add(pg_sys::VARHDRSZ), text.len());
        }
        pg_sys::Datum::from(bytes)
    }
}

/// Values in a row of agent_trace.tree_node (sql/functions.sql), as trace_tree writes them.
const TREE_NODE_COLUMNS: usize = 25;

/// One value of a trace_tree row: the datum, whether it is NULL, and its type.
type Cell = (pg_sys::Datum, bool, pg_sys::Oid);

fn computed<T: IntoDatum>(value: T) -> Cell {
    let oid = T::type_oid();
    match value.into_datum() {
        Some(datum) => (datum, false, oid),
        None => (pg_sys::Datum::from(0), true, oid),
    }
}

/// The row type trace_tree writes into is declared in SQL (agent_trace.tree_node) and comes with
/// the call; the values are made here. A value written into a column of another type would be
/// misread, or crash the backend, so a declaration that does not match this library (e.g. a
/// half-done upgrade) is refused with 42804 (datatype_mismatch), as PostgreSQL refuses a function
/// whose returned row does not match the query's.
///
/// # Safety
/// `desc` is the call's result tuple descriptor.
unsafe fn check_tree_node(desc: pg_sys::TupleDesc, row: Option<&[Cell; TREE_NODE_COLUMNS]>) {
    let desc = unsafe { PgTupleDesc::from_pg_unchecked(desc) };
    let mismatch = |message: String| -> ! {
        ereport!(
            ERROR,
            PgSqlErrorCode::ERRCODE_DATATYPE_MISMATCH,
            format!("agent_trace.trace_tree: {message}"),
            "The SQL declaration of trace_tree (its row type agent_trace.tree_node) and the agent_trace library differ: run ALTER EXTENSION agent_trace UPDATE, or reinstall the extension."
        );
    };
    if desc.len() != TREE_NODE_COLUMNS {
        mismatch(format!(
            "the row type has {} columns, this library writes {TREE_NODE_COLUMNS}",
            desc.len()
        ));
    }
    let type_name = |oid| unsafe {
        std::ffi::CStr::from_ptr(pg_sys::format_type_be(oid))
            .to_string_lossy()
            .into_owned()
    };
    for (index, (_, _, written)) in row.into_iter().flatten().enumerate() {
        let Some(column) = desc.get(index) else {
            continue;
        };
        if column.atttypid != *written {
            mismatch(format!(
                "column {} ({}) of the row type is {}, this library writes {}",
                index + 1,
                column.name(),
                type_name(column.atttypid),
                type_name(*written)
            ));
        }
    }
}

/// `agent_trace.trace_tree(trace_id, root_span_id)`, declared in sql/functions.sql.
///
/// A plain V1 function rather than a `#[pg_extern]`: it returns its rows in materialize mode,
/// written into the result tuplestore as they are made, and passes stored values (ids, times,
/// names, tokens, cost) through as the datums read, so a row costs little more than the stored
/// span it shows.
///
/// # Safety
/// Called by PostgreSQL's fmgr as a set-returning function with the arguments declared in SQL.
#[pg_guard]
#[unsafe(no_mangle)]
pub unsafe extern "C-unwind" fn agent_trace_trace_tree(
    fcinfo: pg_sys::FunctionCallInfo,
) -> pg_sys::Datum {
    unsafe {
        pg_sys::InitMaterializedSRF(fcinfo, 0);
        let result = &*(*fcinfo).resultinfo.cast::<pg_sys::ReturnSetInfo>();
        let (store, desc) = (result.setResult, result.setDesc);
        check_tree_node(desc, None);
        let Some(trace_id) = argument::<TraceId>(fcinfo, 0) else {
            return pg_sys::Datum::from(0);
        };
        let root = argument::<SpanId>(fcinfo, 1);
        with_trace(trace_id, false, |trace| {
            let Some(scope) = trace.scope(root) else {
                return;
            };
            let origin = trace.origin(scope, root);
            let base_depth = scope.first().map_or(0, |n| trace.tree.depth[*n]);
            let mut paths = tree::PathWriter::new(&trace.tree, scope);
            let mut path_text = TextBuffer::default();
            let rollup = Rollup::of(trace);
            let tree = &trace.tree;
            let sum = |cost: Option<pg_sys::Datum>| {
                (
                    cost.unwrap_or(pg_sys::Datum::from(0)),
                    cost.is_none(),
                    pg_sys::NUMERICOID,
                )
            };
            let mut values = [pg_sys::Datum::from(0); TREE_NODE_COLUMNS];
            let mut nulls = [false; TREE_NODE_COLUMNS];
            for (order, &node) in scope.iter().enumerate() {
                interrupts::check();
                let (span, times) = (&trace.spans[node], &trace.nodes[node]);
                // Stored values pass through as read; the datums of a row only need to live
                // until tuplestore_putvalues has copied them.
                let stored = |column: usize| {
                    (
                        span.values[column],
                        span.nulls[column],
                        trace.column_types[column],
                    )
                };
                let row: [Cell; TREE_NODE_COLUMNS] = [
                    computed(order as i32 + 1),
                    computed((tree.depth[node] - base_depth) as i32),
                    (path_text.datum(paths.next(node)), false, pg_sys::TEXTOID),
                    stored(column::SPAN_ID),
                    // As recorded, also for orphans (whose parent is not here) and cut loops.
                    stored(column::PARENT_SPAN_ID),
                    stored(column::START_TIME),
                    stored(column::NAME),
                    stored(column::SPAN_TYPE),
                    stored(column::STATUS),
                    stored(column::MODEL),
                    computed(ms_between(origin, times.start)),
                    computed(ms_between(times.start, times.end)),
                    computed(ms(tree.self_time(&trace.nodes, node))),
                    stored(column::INPUT_TOKENS),
                    stored(column::OUTPUT_TOKENS),
                    stored(column::COST_USD),
                    stored(column::COMPUTED_COST_USD),
                    computed((tree.subtree_end[node] - tree.position[node]) as i32),
                    computed(rollup.input_tokens[node]),
                    computed(rollup.output_tokens[node]),
                    sum(rollup.cost_usd[node]),
                    sum(rollup.computed_cost_usd[node]),
                    computed(rollup.errors[node]),
                    computed(tree.orphan[node]),
                    computed(tree.cycle[node]),
                ];
                // Every row has the same types: checking the first one checks them all.
                if order == 0 {
                    check_tree_node(desc, Some(&row));
                }
                for (index, (value, null, _)) in row.into_iter().enumerate() {
                    values[index] = value;
                    nulls[index] = null;
                }
                pg_sys::tuplestore_putvalues(store, desc, values.as_mut_ptr(), nulls.as_mut_ptr());
            }
        });
        pg_sys::Datum::from(0)
    }
}

/// The functions live in schema agent_trace, like everything else (pgrx names the schema after the
/// module).
///
/// Install order: pgrx places functions that do not depend on each other in a different order on
/// every build, so each names the one before it in `requires` (trace_tree_json, critical_path,
/// diff_traces; functions.sql requires all three, see lib.rs), which leaves one possible order.
#[pg_schema]
pub mod agent_trace {
    use super::*;

    #[pg_extern(stable, parallel_safe, name = "trace_tree_json")]
    #[search_path(pg_catalog, pg_temp)]
    fn trace_tree_json(
        trace_id: Option<TraceId>,
        root_span_id: default!(Option<SpanId>, "NULL"),
    ) -> Option<JsonB> {
        let trace_id = trace_id?;
        with_trace(trace_id, false, |trace| {
            let scope = trace.scope(root_span_id)?;
            if scope.is_empty() {
                return None;
            }
            let origin = trace.origin(scope, root_span_id);
            let rollup = Rollup::of(trace);
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
                interrupts::check();
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
                object.insert("name".into(), json!(span.name()));
                object.insert("span_type".into(), json!(span.span_type()));
                object.insert("status".into(), json!(span.status()));
                object.insert("model".into(), json!(span.model()));
                object.insert(
                    "start_offset_ms".into(),
                    json!(ms_between(origin, times.start)),
                );
                object.insert(
                    "duration_ms".into(),
                    json!(ms_between(times.start, times.end)),
                );
                object.insert(
                    "self_time_ms".into(),
                    json!(ms(tree.self_time(&trace.nodes, node))),
                );
                object.insert("input_tokens".into(), json!(span.input_tokens()));
                object.insert("output_tokens".into(), json!(span.output_tokens()));
                object.insert("cost_usd".into(), cost_json(span.cost_usd()));
                object.insert(
                    "computed_cost_usd".into(),
                    cost_json(span.computed_cost_usd()),
                );
                object.insert(
                    "subtree".into(),
                    json!({
                        "spans": tree.subtree_end[node] - tree.position[node],
                        "input_tokens": rollup.input_tokens[node],
                        "output_tokens": rollup.output_tokens[node],
                        "cost_usd": cost_json(numeric(rollup.cost_usd[node])),
                        "computed_cost_usd": cost_json(numeric(rollup.computed_cost_usd[node])),
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
        })
    }

    #[allow(clippy::type_complexity)]
    #[pg_extern(
        stable,
        parallel_safe,
        name = "diff_traces",
        requires = [critical_path]
    )]
    #[search_path(pg_catalog, pg_temp)]
    fn diff_traces(
        trace_a: Option<TraceId>,
        trace_b: Option<TraceId>,
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
            name!(computed_cost_usd_a, Option<AnyNumeric>),
            name!(computed_cost_usd_b, Option<AnyNumeric>),
            name!(computed_cost_delta_usd, Option<AnyNumeric>),
            name!(input_differs, Option<bool>),
            name!(output_differs, Option<bool>),
            name!(alignment, String),
        ),
    > {
        let (Some(trace_a), Some(trace_b)) = (trace_a, trace_b) else {
            return TableIterator::new(Vec::new());
        };
        let mut budget = Budget::new(diff_alignment_budget());
        // Both traces are read inside one another's SPI connection, so both stay readable while
        // they are compared. Costs leave as text and become numerics again outside.
        let rows = with_trace(trace_a, true, |a| {
            with_trace(trace_b, true, |b| {
                diff_rows(a, root_span_a, b, root_span_b, &mut budget)
            })
        });
        let numeric =
            |text: Option<String>| text.and_then(|t| AnyNumeric::try_from(t.as_str()).ok());
        TableIterator::new(rows.into_iter().map(move |r| {
            interrupts::check();
            (
                r.step,
                r.depth,
                r.path,
                r.change,
                r.span_type,
                r.name,
                r.span_id_a,
                r.span_id_b,
                r.status_a,
                r.status_b,
                r.model_a,
                r.model_b,
                r.start_offset_ms_a,
                r.start_offset_ms_b,
                r.duration_ms_a,
                r.duration_ms_b,
                r.duration_delta_ms,
                r.tokens_a,
                r.tokens_b,
                r.tokens_delta,
                numeric(r.cost_usd_a),
                numeric(r.cost_usd_b),
                numeric(r.cost_delta_usd),
                numeric(r.computed_cost_usd_a),
                numeric(r.computed_cost_usd_b),
                numeric(r.computed_cost_delta_usd),
                r.input_differs,
                r.output_differs,
                r.alignment.to_string(),
            )
        }))
    }

    #[allow(clippy::type_complexity)]
    #[pg_extern(
        stable,
        parallel_safe,
        name = "critical_path",
        requires = [trace_tree_json]
    )]
    #[search_path(pg_catalog, pg_temp)]
    fn critical_path(
        trace_id: Option<TraceId>,
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
        let Some(trace_id) = trace_id else {
            return TableIterator::new(Vec::new());
        };
        let rows = with_trace(trace_id, false, |trace| {
            let Some(scope) = trace.scope(root_span_id) else {
                return Vec::new();
            };
            let origin = trace.origin(scope, root_span_id);
            let sub = Sub::of(trace, scope);
            let mut path = tree::critical_path(&sub.nodes, &sub.tree);
            // Shown in time order: a span before the children it waited for.
            path.sort_by_key(|(node, _)| (sub.nodes[*node].start, sub.tree.depth[*node]));
            path.into_iter()
                .enumerate()
                .map(|(step, (node, own))| {
                    interrupts::check();
                    let (span, times) = (sub.spans[node], &sub.nodes[node]);
                    (
                        step as i32 + 1,
                        sub.tree.depth[node] as i32,
                        SpanId(times.span_id),
                        span.name().to_string(),
                        span.span_type().to_string(),
                        span.status().to_string(),
                        ms_between(origin, times.start),
                        ms_between(times.start, times.end),
                        ms(own),
                    )
                })
                .collect::<Vec<_>>()
        });
        TableIterator::new(rows)
    }
}

/// A diff_traces row (see its SQL columns) with its costs as numeric text: numerics made inside
/// the SPI connection would not outlive it.
struct DiffRow {
    step: i32,
    depth: i32,
    path: String,
    change: String,
    span_type: String,
    name: String,
    span_id_a: Option<SpanId>,
    span_id_b: Option<SpanId>,
    status_a: Option<String>,
    status_b: Option<String>,
    model_a: Option<String>,
    model_b: Option<String>,
    start_offset_ms_a: Option<f64>,
    start_offset_ms_b: Option<f64>,
    duration_ms_a: Option<f64>,
    duration_ms_b: Option<f64>,
    duration_delta_ms: Option<f64>,
    tokens_a: Option<i64>,
    tokens_b: Option<i64>,
    tokens_delta: Option<i64>,
    cost_usd_a: Option<String>,
    cost_usd_b: Option<String>,
    cost_delta_usd: Option<String>,
    computed_cost_usd_a: Option<String>,
    computed_cost_usd_b: Option<String>,
    computed_cost_delta_usd: Option<String>,
    input_differs: Option<bool>,
    output_differs: Option<bool>,
    alignment: &'static str,
}

/// Whether two spans' values of a text column differ, byte for byte. A value stored out of line
/// or compressed is detoasted for the comparison only and freed after it: a diff of 100,000 spans
/// with large inputs holds two of them at a time, not every one until the statement ends.
fn texts_differ(x: &Span, y: &Span, column: usize) -> bool {
    match (x.datum(column), y.datum(column)) {
        (None, None) => false,
        (Some(a), Some(b)) => {
            // SAFETY: the text columns hold varlenas that live as long as the spans;
            // pg_detoast_datum_packed returns the value itself or a palloc'd copy, freed here.
            unsafe {
                let (a, b) = (a.cast_mut_ptr::<pg_sys::varlena>(), b.cast_mut_ptr());
                let (flat_a, flat_b) = (
                    pg_sys::pg_detoast_datum_packed(a),
                    pg_sys::pg_detoast_datum_packed(b),
                );
                let differ = pgrx::varlena::varlena_to_byte_slice(flat_a)
                    != pgrx::varlena::varlena_to_byte_slice(flat_b);
                for (flat, stored) in [(flat_a, a), (flat_b, b)] {
                    if flat != stored {
                        pg_sys::pfree(flat.cast());
                    }
                }
                differ
            }
        }
        _ => true,
    }
}

fn diff_rows(
    a: &Trace,
    root_a: Option<SpanId>,
    b: &Trace,
    root_b: Option<SpanId>,
    budget: &mut Budget,
) -> Vec<DiffRow> {
    let (Some(scope_a), Some(scope_b)) = (a.scope(root_a), b.scope(root_b)) else {
        return Vec::new();
    };
    // Align only the requested subtrees: each side's tree rebuilt from its scope alone.
    let (sub_a, sub_b) = (Sub::of(a, scope_a), Sub::of(b, scope_b));
    let keys = |sub: &Sub| -> Vec<(String, String)> {
        sub.spans
            .iter()
            .map(|s| {
                interrupts::check();
                alignment_key(s)
            })
            .collect()
    };
    let (keys_a, keys_b) = (keys(&sub_a), keys(&sub_b));
    let pairs = align(&sub_a.tree, &keys_a, &sub_b.tree, &keys_b, budget);
    let (origin_a, origin_b) = (a.origin(scope_a, root_a), b.origin(scope_b, root_b));

    let mut names: Vec<String> = Vec::new();
    let mut rows = Vec::with_capacity(pairs.len());
    for (
        step,
        Pair {
            a: na,
            b: nb,
            depth,
            alignment,
        },
    ) in pairs.into_iter().enumerate()
    {
        interrupts::check();
        let span_a = na.map(|n| sub_a.spans[n]);
        let span_b = nb.map(|n| sub_b.spans[n]);
        let times_a = na.map(|n| &sub_a.nodes[n]);
        let times_b = nb.map(|n| &sub_b.nodes[n]);
        let Some(shown) = span_b.or(span_a) else {
            continue;
        };
        names.truncate(depth);
        names.push(shown.name().to_string());
        let both = span_a.zip(span_b);
        let input_differs = both.map(|(x, y)| texts_differ(x, y, column::INPUT));
        let output_differs = both.map(|(x, y)| texts_differ(x, y, column::OUTPUT));
        let change = match (span_a, span_b) {
            (Some(x), Some(y)) => {
                if x.status() != y.status()
                    || x.model() != y.model()
                    || input_differs == Some(true)
                    || output_differs == Some(true)
                    || x.input_tokens() != y.input_tokens()
                    || x.output_tokens() != y.output_tokens()
                {
                    "changed"
                } else {
                    "same"
                }
            }
            (Some(_), None) => "removed",
            _ => "added",
        };
        let duration = |t: Option<&Node>| t.map(|t| ms_between(t.start, t.end));
        let (tokens_a, tokens_b) = (span_a.and_then(total_tokens), span_b.and_then(total_tokens));
        let costs = |cost: fn(&Span) -> Option<AnyNumeric>| {
            let (a, b) = (span_a.and_then(cost), span_b.and_then(cost));
            let delta = match (&a, &b) {
                (Some(x), Some(y)) => Some((y.clone() - x.clone()).to_string()),
                _ => None,
            };
            (a.map(|c| c.to_string()), b.map(|c| c.to_string()), delta)
        };
        let (cost_a, cost_b, cost_delta) = costs(Span::cost_usd);
        let (computed_a, computed_b, computed_delta) = costs(Span::computed_cost_usd);
        rows.push(DiffRow {
            step: step as i32 + 1,
            depth: depth as i32,
            path: tree_path(&names),
            change: change.to_string(),
            span_type: shown.span_type().to_string(),
            name: shown.name().to_string(),
            span_id_a: times_a.map(|t| SpanId(t.span_id)),
            span_id_b: times_b.map(|t| SpanId(t.span_id)),
            status_a: span_a.map(|s| s.status().to_string()),
            status_b: span_b.map(|s| s.status().to_string()),
            model_a: span_a.and_then(|s| s.model().map(str::to_string)),
            model_b: span_b.and_then(|s| s.model().map(str::to_string)),
            start_offset_ms_a: times_a.map(|t| ms_between(origin_a, t.start)),
            start_offset_ms_b: times_b.map(|t| ms_between(origin_b, t.start)),
            duration_ms_a: duration(times_a),
            duration_ms_b: duration(times_b),
            duration_delta_ms: duration(times_a).zip(duration(times_b)).map(|(x, y)| y - x),
            tokens_a,
            tokens_b,
            tokens_delta: match (tokens_a, tokens_b) {
                (None, None) => None,
                _ if both.is_none() => None,
                (x, y) => Some(y.unwrap_or(0).saturating_sub(x.unwrap_or(0))),
            },
            cost_usd_a: cost_a,
            cost_usd_b: cost_b,
            cost_delta_usd: cost_delta,
            computed_cost_usd_a: computed_a,
            computed_cost_usd_b: computed_b,
            computed_cost_delta_usd: computed_delta,
            input_differs,
            output_differs,
            alignment: alignment.as_str(),
        });
    }
    rows
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The two span queries are one query: they differ only in reading input and output.
    #[test]
    fn the_span_queries_differ_only_in_input_and_output() {
        let body = |sql: &'static str| -> Vec<&'static str> {
            sql.lines().filter(|line| !line.starts_with("--")).collect()
        };
        let (plain, with_io) = (body(TRACE_SPANS_SQL), body(TRACE_SPANS_WITH_IO_SQL));
        assert_eq!(plain.len(), with_io.len());
        let differing: Vec<(&str, &str)> = plain
            .into_iter()
            .zip(with_io)
            .filter(|(a, b)| a != b)
            .collect();
        assert_eq!(
            differing,
            [
                ("       NULL::text AS input,", "       s.input,"),
                ("       NULL::text AS output,", "       s.output,"),
            ]
        );
    }
}
