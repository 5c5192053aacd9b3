//! The tools, as the official SDK (rmcp) lists and calls them: each takes arguments described by a
//! JSON Schema (from the structs below and their doc comments) and answers with one compact JSON
//! text. Reads run the viewer's statements or `sql/mcp/`'s with the arguments bound, in one
//! snapshot per answer; a failure is the tool's error (`{"error", "sqlstate"}`), never the
//! server's.
//!
//! Who may call what: the server's token (or anyone while the server has none) every tool; a
//! project's ingest token only `add_score`, and only for its project's traces: it is a token for
//! writing, and reading takes the server's token as the viewer does.

use super::queries;
use super::shape::{self, compact};
use super::sql;
use super::state::{Caller, NewScore, ScoreRefusal, State, ToolError};
use crate::auth::Bearer;
use crate::read::queries::{Order, Sort};
use crate::read::{Param, Query, Snapshot, queries as viewer};
use axum::http::request::Parts;
use rmcp::handler::server::tool::Extension;
use rmcp::handler::server::{router::tool::ToolRouter, wrapper::Parameters};
use rmcp::model::{CallToolResult, ContentBlock, Implementation, ServerCapabilities, ServerConfig};
use rmcp::{ErrorData, ServerHandler, schemars, tool, tool_handler, tool_router};
use serde::Deserialize;
use serde_json::{Map, Value, json};
use std::sync::Arc;

/// Characters of an input, output or explanation shown unless `full` is asked for.
const CUT: usize = 200;
/// Text fields of a trace's row that are cut like a span's.
const TRACE_TEXTS: [&str; 2] = ["input", "output"];

type ToolResult = Result<CallToolResult, ErrorData>;

/// The tools of one request, with what they share.
#[derive(Clone)]
pub struct Tools {
    state: Arc<State>,
    tool_router: ToolRouter<Tools>,
}

impl Tools {
    pub fn new(state: Arc<State>, tool_router: ToolRouter<Tools>) -> Self {
        Self { state, tool_router }
    }

    pub fn router() -> ToolRouter<Tools> {
        Self::tool_router()
    }
}

fn answer(value: Value) -> ToolResult {
    Ok(CallToolResult::success(vec![ContentBlock::text(
        compact(value).to_string(),
    )]))
}

fn refuse(error: ToolError) -> ToolResult {
    Ok(CallToolResult::error(vec![ContentBlock::text(
        error.to_json().to_string(),
    )]))
}

/// Who called, from the request's parts (the HTTP layer put it there, `super::require_token`).
fn caller(parts: &Parts) -> Result<Bearer, ToolError> {
    parts
        .extensions
        .get::<Caller>()
        .map(|caller| caller.0)
        .ok_or_else(|| ToolError::new("the request was not authenticated"))
}

/// Reading takes the server's token.
fn reader(parts: &Parts) -> Result<(), ToolError> {
    match caller(parts)? {
        Bearer::Server => Ok(()),
        Bearer::Project(_) => Err(ToolError::new(
            "a project's token may only add scores to its project's traces (add_score); reading \
             takes the server's token",
        )),
    }
}

/// An empty string is "not given", as in the viewer's filters.
fn given(value: &Option<String>) -> Option<&str> {
    value.as_deref().filter(|value| !value.trim().is_empty())
}

fn text(value: &Option<String>) -> Param {
    Param::text(given(value))
}

fn page(limit: Option<u32>, default: u32, max: u32) -> i64 {
    i64::from(limit.unwrap_or(default).clamp(1, max))
}

fn rows(json: &serde_json::value::RawValue) -> Result<Vec<Value>, ToolError> {
    serde_json::from_str(json.get())
        .map_err(|e| ToolError::new(format!("PostgreSQL's JSON did not parse: {e}")))
}

fn object(json: &serde_json::value::RawValue) -> Result<Map<String, Value>, ToolError> {
    serde_json::from_str(json.get())
        .map_err(|e| ToolError::new(format!("PostgreSQL's JSON did not parse: {e}")))
}

/// A text field of a row, as text (numbers too: a sort key).
fn field(row: &Value, name: &str) -> Option<String> {
    match row.get(name)? {
        Value::String(text) => Some(text.clone()),
        Value::Number(number) => Some(number.to_string()),
        _ => None,
    }
}

/// The rows beyond `limit` dropped; the cursor of the next page if there were any.
fn paged(mut rows: Vec<Value>, limit: i64, sort: &str, id: &str) -> (Vec<Value>, Option<String>) {
    let limit = usize::try_from(limit).unwrap_or(usize::MAX);
    if rows.len() <= limit {
        return (rows, None);
    }
    rows.truncate(limit);
    let next = rows
        .last()
        .and_then(|last| Some(shape::cursor(&field(last, sort)?, &field(last, id)?)));
    (rows, next)
}

async fn snapshot(state: &State) -> Result<Snapshot, ToolError> {
    state.db.snapshot().await.map_err(ToolError::from_db)
}

async fn all(
    snapshot: &mut Snapshot,
    query: &Query,
    params: &[Param],
) -> Result<Vec<Value>, ToolError> {
    rows(
        &snapshot
            .rows(query, params)
            .await
            .map_err(ToolError::from_db)?,
    )
}

async fn one(
    snapshot: &mut Snapshot,
    query: &Query,
    params: &[Param],
) -> Result<Option<Map<String, Value>>, ToolError> {
    match snapshot
        .row(query, params)
        .await
        .map_err(ToolError::from_db)?
    {
        Some(json) => object(&json).map(Some),
        None => Ok(None),
    }
}

/// A trace's row (`trace.sql`), its input and output cut unless `full`.
async fn trace_row(
    snapshot: &mut Snapshot,
    trace_id: &str,
    full: bool,
) -> Result<Map<String, Value>, ToolError> {
    let params = [Param::text(Some(trace_id)), Param::Text(None)];
    let Some(mut trace) = one(snapshot, &viewer::TRACE, &params).await? else {
        return Err(ToolError::new(format!(
            "no trace {trace_id} (among those this server's login may read)"
        )));
    };
    if !full {
        shape::cut_texts(&mut trace, &TRACE_TEXTS, CUT);
    }
    Ok(trace)
}

#[derive(Debug, Deserialize, schemars::JsonSchema, Clone, Copy)]
enum Status {
    #[serde(rename = "OK")]
    Ok,
    #[serde(rename = "ERROR")]
    Error,
}

/// The traces (runs) that match, newest first unless `sort` says otherwise.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
struct FindTraces {
    /// Only traces that started at or after this time (ISO 8601, e.g. 2026-05-01T00:00:00Z).
    from: Option<String>,
    /// Only traces that started before this time (ISO 8601).
    to: Option<String>,
    /// Only traces of this service (service.name).
    service: Option<String>,
    /// Only traces of this agent (agent name).
    agent: Option<String>,
    /// Only traces of this user id.
    user: Option<String>,
    /// Only traces of this session id.
    session: Option<String>,
    /// Only traces with a span of this model, e.g. gpt-4o.
    model: Option<String>,
    /// Only traces whose status is OK, or ERROR.
    status: Option<Status>,
    /// Text searched for, case-insensitively, in the trace's name, input and output.
    q: Option<String>,
    /// Only traces of this project (its name).
    project: Option<String>,
    /// Only traces with a score of this name (on the run or one of its spans), e.g. relevance.
    score: Option<String>,
    /// With score: only such scores of at least this value.
    score_min: Option<f64>,
    /// With score: only such scores of at most this value.
    score_max: Option<f64>,
    /// With score: only such scores with this label, e.g. thumbs_down.
    score_label: Option<String>,
    /// Sort by: start (default), duration, spans, errors, input_tokens, output_tokens, cost,
    /// computed_cost.
    sort: Option<Sort>,
    /// desc (default: largest or newest first) or asc.
    order: Option<Order>,
    /// Traces per page, 1 to 200 (default 20).
    limit: Option<u32>,
    /// next_cursor of the previous page, for the page after it.
    cursor: Option<String>,
}

/// The list's score filter, as trace_list.sql and trace_list_sorted.sql take it.
fn score_filter(p: &FindTraces) -> Result<[Param; 4], ToolError> {
    let name = given(&p.score);
    if name.is_none()
        && (p.score_min.is_some() || p.score_max.is_some() || given(&p.score_label).is_some())
    {
        return Err(ToolError::new(
            "score_min, score_max and score_label filter the scores named by score: give score too",
        ));
    }
    let bound = |bound: Option<f64>, what: &str| match bound {
        Some(number) if !number.is_finite() => {
            Err(ToolError::new(format!("{what} must be a finite number")))
        }
        _ => Ok(Param::Text(bound.map(|number| number.to_string()))),
    };
    Ok([
        Param::text(name),
        bound(p.score_min, "score_min")?,
        bound(p.score_max, "score_max")?,
        text(&p.score_label),
    ])
}

/// A trace as a tree.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
struct TraceTree {
    /// The trace id (32 hex digits).
    trace_id: String,
    /// Only the subtree of this span (16 hex digits), e.g. one turn.
    span_id: Option<String>,
    /// Whole inputs and outputs (default: the first 200 characters, and their length).
    #[serde(default)]
    full: bool,
    /// Most spans shown, depth-first, 1 to 2000 (default 300).
    limit: Option<u32>,
}

/// One span.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
struct GetSpan {
    /// The trace id (32 hex digits).
    trace_id: String,
    /// The span id (16 hex digits).
    span_id: String,
}

/// Two traces compared.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
struct DiffTraces {
    /// The first trace (A), e.g. the run that worked.
    a: String,
    /// The second trace (B), e.g. the run that failed.
    b: String,
    /// Compare only this span's subtree of A (e.g. one turn).
    span_a: Option<String>,
    /// Compare only this span's subtree of B.
    span_b: Option<String>,
    /// Most aligned rows shown, 1 to 2000 (default 300).
    limit: Option<u32>,
}

/// A session.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
struct Session {
    /// The session id.
    session_id: String,
    /// Runs per page, newest first, 1 to 200 (default 50).
    limit: Option<u32>,
    /// next_cursor of the previous page of runs.
    cursor: Option<String>,
}

/// Scores to read.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
struct Scores {
    /// Only the scores of this trace (and of its spans); the answer then also sums them up per name.
    trace_id: Option<String>,
    /// Only scores of this name, e.g. relevance.
    name: Option<String>,
    /// Only scores given at or after this time (ISO 8601).
    from: Option<String>,
    /// Only scores given before this time (ISO 8601).
    to: Option<String>,
    /// Scores per page, newest first, 1 to 500 (default 50).
    limit: Option<u32>,
    /// next_cursor of the previous page.
    cursor: Option<String>,
}

#[derive(Debug, Deserialize, schemars::JsonSchema, Clone, Copy)]
#[serde(rename_all = "snake_case")]
enum Source {
    Human,
    Llm,
    Code,
    EndUser,
}

impl Source {
    fn as_str(self) -> &'static str {
        match self {
            Source::Human => "human",
            Source::Llm => "llm",
            Source::Code => "code",
            Source::EndUser => "end_user",
        }
    }
}

/// A score to add.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
struct AddScore {
    /// The trace (run) scored.
    trace_id: String,
    /// The span scored, e.g. one LLM call; none: the whole run.
    span_id: Option<String>,
    /// What is scored, e.g. relevance, helpfulness, thumbs.
    name: String,
    /// A numeric score, e.g. 0.8 (a value, a label, or both).
    value: Option<f64>,
    /// A categorical score, e.g. pass, fail, thumbs_down.
    label: Option<String>,
    /// Why: a reviewer's comment, a judge's reasoning.
    explanation: Option<String>,
    /// Who gave it: human, llm (default, an LLM judge), code or end_user.
    source: Option<Source>,
    /// Who or what scored, e.g. a reviewer's name or a judge model.
    scorer: Option<String>,
    /// The project of the trace, when the same trace id is in several.
    project: Option<String>,
}

/// A statement to run.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
struct RunSql {
    /// One SQL statement (PostgreSQL), e.g. SELECT name, avg_value FROM agent_score_stats WHERE
    /// day > now() - interval '7 days'. Tables and views of schema agent_trace are found without
    /// their schema.
    sql: String,
    /// Most rows returned (default and most: the server's cap, 200 unless configured).
    max_rows: Option<u32>,
}

#[tool_router]
impl Tools {
    /// find_traces
    #[tool(
        name = "find_traces",
        description = "Find traces (runs of an agent) by time range, service, agent, user, session, \
                       model, status and text, newest first or sorted; one page at a time \
                       (next_cursor). Each trace: id, name, status, start, duration, spans, errors, \
                       LLM and tool calls, tokens, cost, and the start of its input and output.",
        annotations(read_only_hint = true, open_world_hint = false)
    )]
    async fn find_traces(
        &self,
        Extension(parts): Extension<Parts>,
        Parameters(p): Parameters<FindTraces>,
    ) -> ToolResult {
        match self.find_traces_(&parts, p).await {
            Ok(value) => answer(value),
            Err(error) => refuse(error),
        }
    }

    /// trace_tree
    #[tool(
        name = "trace_tree",
        description = "One trace as a tree of its spans: names, types (llm, tool, agent, ...), \
                       status and errors, models, tokens, cost, durations and self time, with each \
                       span's input and output cut to 200 characters (full: true for all of them), \
                       and the trace's scores.",
        annotations(read_only_hint = true, open_world_hint = false)
    )]
    async fn trace_tree(
        &self,
        Extension(parts): Extension<Parts>,
        Parameters(p): Parameters<TraceTree>,
    ) -> ToolResult {
        match self.trace_tree_(&parts, p).await {
            Ok(value) => answer(value),
            Err(error) => refuse(error),
        }
    }

    /// get_span
    #[tool(
        name = "get_span",
        description = "One span in full: its input and output, attributes, events, resource, \
                       model, tokens, cost and the price it was computed with.",
        annotations(read_only_hint = true, open_world_hint = false)
    )]
    async fn get_span(
        &self,
        Extension(parts): Extension<Parts>,
        Parameters(p): Parameters<GetSpan>,
    ) -> ToolResult {
        match self.get_span_(&parts, p).await {
            Ok(value) => answer(value),
            Err(error) => refuse(error),
        }
    }

    /// diff_traces
    #[tool(
        name = "diff_traces",
        description = "Compare two traces (e.g. a run that worked and one that failed): the \
                       differences in tokens, cost, duration and errors (B minus A), the first \
                       step where they diverge, and their spans aligned (same, changed, added, \
                       removed).",
        annotations(read_only_hint = true, open_world_hint = false)
    )]
    async fn diff_traces(
        &self,
        Extension(parts): Extension<Parts>,
        Parameters(p): Parameters<DiffTraces>,
    ) -> ToolResult {
        match self.diff_traces_(&parts, p).await {
            Ok(value) => answer(value),
            Err(error) => refuse(error),
        }
    }

    /// session
    #[tool(
        name = "session",
        description = "A session (a conversation or a coding assistant's session): its prompts, \
                       runs, model and tool calls, errors, tokens and cost, and its runs newest \
                       first.",
        annotations(read_only_hint = true, open_world_hint = false)
    )]
    async fn session(
        &self,
        Extension(parts): Extension<Parts>,
        Parameters(p): Parameters<Session>,
    ) -> ToolResult {
        match self.session_(&parts, p).await {
            Ok(value) => answer(value),
            Err(error) => refuse(error),
        }
    }

    /// scores
    #[tool(
        name = "scores",
        description = "Scores and annotations (a human's thumbs-down, an LLM judge's 0.3 for \
                       relevance, a check's pass/fail), newest first: of one trace (with the \
                       latest per name), or by name and time.",
        annotations(read_only_hint = true, open_world_hint = false)
    )]
    async fn scores(
        &self,
        Extension(parts): Extension<Parts>,
        Parameters(p): Parameters<Scores>,
    ) -> ToolResult {
        match self.scores_(&parts, p).await {
            Ok(value) => answer(value),
            Err(error) => refuse(error),
        }
    }

    /// add_score
    #[tool(
        name = "add_score",
        description = "Add a score to a trace or one of its spans: a name (what is scored) and a \
                       value, a label or both, with an explanation. Stored once however often it \
                       is sent with the same arguments.",
        annotations(
            read_only_hint = false,
            destructive_hint = false,
            idempotent_hint = true,
            open_world_hint = false
        )
    )]
    async fn add_score(
        &self,
        Extension(parts): Extension<Parts>,
        Parameters(p): Parameters<AddScore>,
    ) -> ToolResult {
        match self.add_score_(&parts, p).await {
            Ok(value) => answer(value),
            Err(error) => refuse(error),
        }
    }

    /// query
    #[tool(
        name = "query",
        description = "Run one read-only SQL statement (PostgreSQL) over agent_trace's tables and \
                       views (agent_traces, agent_spans, agent_logs, agent_sessions, agent_scores, \
                       agent_score_stats, ...; COMMENT ON says what each column holds), in a \
                       read-only transaction with a statement timeout and a row cap. Answers \
                       columns, types and rows (arrays), and whether rows were left out.",
        annotations(read_only_hint = true, open_world_hint = false)
    )]
    async fn query(
        &self,
        Extension(parts): Extension<Parts>,
        Parameters(p): Parameters<RunSql>,
    ) -> ToolResult {
        let result = async {
            reader(&parts)?;
            let state = &self.state;
            // A few at once: each holds a connection of its own.
            let _slot = tokio::time::timeout(state.config.sql_timeout, state.sql_slots.acquire())
                .await
                .map_err(|_| ToolError::new("the query tool is busy; try again"))?
                .map_err(|_| ToolError::new("the server is stopping"))?;
            let max_rows = p.max_rows.map_or(state.config.sql_max_rows, |n| n as usize);
            sql::run(
                &state.db,
                &p.sql,
                sql::SqlLimits {
                    timeout: state.config.sql_timeout,
                    max_rows: state.config.sql_max_rows,
                },
                max_rows,
            )
            .await
        }
        .await;
        match result {
            Ok(value) => answer(value),
            Err(error) => refuse(error),
        }
    }
}

impl Tools {
    async fn find_traces_(&self, parts: &Parts, p: FindTraces) -> Result<Value, ToolError> {
        reader(parts)?;
        let limit = page(p.limit, 20, 200);
        let (after, after_id) = match given(&p.cursor) {
            Some(cursor) => {
                let (after, id) = shape::parse_cursor(cursor).map_err(ToolError::new)?;
                (Some(after), Some(id))
            }
            None => (None, None),
        };
        let status = p.status.map(|s| match s {
            Status::Ok => "OK",
            Status::Error => "ERROR",
        });
        let mut params = vec![
            Param::text(Some(given(&p.from).unwrap_or("-infinity"))),
            Param::text(Some(given(&p.to).unwrap_or("infinity"))),
            text(&p.service),
            text(&p.agent),
            text(&p.user),
            text(&p.session),
            text(&p.model),
            Param::text(status),
            text(&p.q),
            Param::Text(after),
            Param::Text(after_id),
        ];
        let sort = p.sort.unwrap_or(Sort::Start);
        let order = p.order.unwrap_or(Order::Desc);
        // Newest first is the index's order; any other, PostgreSQL sorts (as the viewer does).
        let (query, sort_field) = if sort == Sort::Start && order == Order::Desc {
            (&viewer::TRACE_LIST, "start_time")
        } else {
            params.push(Param::text(Some(sort.as_str())));
            params.push(Param::text(Some(order.as_str())));
            (&viewer::TRACE_LIST_SORTED, "sort_key")
        };
        // One more than asked for: whether there is a next page.
        params.push(Param::Int(limit + 1));
        params.push(text(&p.project));
        params.extend(score_filter(&p)?);
        let mut snapshot = snapshot(&self.state).await?;
        let found = all(&mut snapshot, query, &params).await?;
        snapshot.end().await.map_err(ToolError::from_db)?;
        let (mut traces, next) = paged(found, limit, sort_field, "trace_id");
        for trace in &mut traces {
            if let Some(trace) = trace.as_object_mut() {
                trace.remove("sort_key");
            }
        }
        Ok(json!({"traces": traces, "next_cursor": next}))
    }

    async fn trace_tree_(&self, parts: &Parts, p: TraceTree) -> Result<Value, ToolError> {
        reader(parts)?;
        let limit = page(p.limit, 300, 2000);
        let cut = Param::Text((!p.full).then(|| CUT.to_string()));
        let mut snapshot = snapshot(&self.state).await?;
        let trace = trace_row(&mut snapshot, &p.trace_id, p.full).await?;
        let params = [
            Param::text(Some(&p.trace_id)),
            Param::text(given(&p.span_id)),
            cut.clone(),
            Param::Int(limit + 1),
        ];
        let mut nodes = all(&mut snapshot, &queries::TRACE_TREE, &params).await?;
        let truncated = nodes.len() as i64 > limit;
        nodes.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
        let score_params = [Param::text(Some(&p.trace_id)), cut, Param::Int(500)];
        let scores = all(&mut snapshot, &queries::TRACE_SCORES, &score_params).await?;
        snapshot.end().await.map_err(ToolError::from_db)?;
        let mut answer = json!({
            "trace": trace,
            "tree": shape::nest(nodes.into_iter().map(compact).collect()),
            "scores": scores,
        });
        if truncated {
            answer["truncated"] = json!(format!(
                "only the first {limit} spans (depth-first) are shown: ask for a subtree (span_id) \
                 or a larger limit"
            ));
        }
        Ok(answer)
    }

    async fn get_span_(&self, parts: &Parts, p: GetSpan) -> Result<Value, ToolError> {
        reader(parts)?;
        let params = [
            Param::text(Some(&p.trace_id)),
            Param::text(Some(&p.span_id)),
        ];
        let mut snapshot = snapshot(&self.state).await?;
        let spans = all(&mut snapshot, &viewer::SPAN, &params).await?;
        snapshot.end().await.map_err(ToolError::from_db)?;
        if spans.is_empty() {
            return Err(ToolError::new(format!(
                "no span {} in trace {}",
                p.span_id, p.trace_id
            )));
        }
        // A span stored twice (rare) shows both copies.
        let mut spans = spans.into_iter();
        let first = spans.next().unwrap_or_default();
        let copies: Vec<Value> = spans.collect();
        Ok(if copies.is_empty() {
            json!({ "span": first })
        } else {
            json!({ "span": first, "other_copies": copies })
        })
    }

    async fn diff_traces_(&self, parts: &Parts, p: DiffTraces) -> Result<Value, ToolError> {
        reader(parts)?;
        let limit = page(p.limit, 300, 2000);
        let mut snapshot = snapshot(&self.state).await?;
        let a = trace_row(&mut snapshot, &p.a, false).await?;
        let b = trace_row(&mut snapshot, &p.b, false).await?;
        let params = [
            Param::text(Some(&p.a)),
            Param::text(Some(&p.b)),
            text(&p.span_a),
            text(&p.span_b),
        ];
        let summary = one(&mut snapshot, &viewer::DIFF_SUMMARY, &params).await?;
        let mut rows = all(&mut snapshot, &viewer::DIFF_TRACES, &params).await?;
        snapshot.end().await.map_err(ToolError::from_db)?;
        let total = rows.len();
        rows.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
        let mut answer = json!({"a": a, "b": b, "summary": summary, "rows": rows});
        if total > rows.len() {
            answer["truncated"] = json!(format!(
                "{} of {total} aligned rows shown: compare subtrees (span_a, span_b) or ask for a \
                 larger limit",
                rows.len()
            ));
        }
        Ok(answer)
    }

    async fn session_(&self, parts: &Parts, p: Session) -> Result<Value, ToolError> {
        reader(parts)?;
        let limit = page(p.limit, 50, 200);
        let (after, after_id) = match given(&p.cursor) {
            Some(cursor) => {
                let (after, id) = shape::parse_cursor(cursor).map_err(ToolError::new)?;
                (Some(after), Some(id))
            }
            None => (None, None),
        };
        let mut snapshot = snapshot(&self.state).await?;
        let summary = all(
            &mut snapshot,
            &queries::SESSION,
            &[Param::text(Some(&p.session_id))],
        )
        .await?;
        if summary.is_empty() {
            return Err(ToolError::new(format!(
                "no session {} (among those this server's login may read)",
                p.session_id
            )));
        }
        let params = [
            Param::text(Some("-infinity")),
            Param::text(Some("infinity")),
            Param::Text(None),
            Param::Text(None),
            Param::Text(None),
            Param::text(Some(&p.session_id)),
            Param::Text(None),
            Param::Text(None),
            Param::Text(None),
            Param::Text(after),
            Param::Text(after_id),
            Param::Int(limit + 1),
            // Any project, any score.
            Param::Text(None),
            Param::Text(None),
            Param::Text(None),
            Param::Text(None),
            Param::Text(None),
        ];
        let runs = all(&mut snapshot, &viewer::TRACE_LIST, &params).await?;
        snapshot.end().await.map_err(ToolError::from_db)?;
        let (runs, next) = paged(runs, limit, "start_time", "trace_id");
        Ok(json!({"session": summary, "runs": runs, "next_cursor": next}))
    }

    async fn scores_(&self, parts: &Parts, p: Scores) -> Result<Value, ToolError> {
        reader(parts)?;
        let limit = page(p.limit, 50, 500);
        let (after, after_id) = match given(&p.cursor) {
            Some(cursor) => {
                let (after, id) = shape::parse_cursor(cursor).map_err(ToolError::new)?;
                (Some(after), Some(id))
            }
            None => (None, None),
        };
        let params = [
            text(&p.trace_id),
            text(&p.name),
            Param::text(Some(given(&p.from).unwrap_or("-infinity"))),
            Param::text(Some(given(&p.to).unwrap_or("infinity"))),
            Param::Text(after),
            Param::Text(after_id),
            Param::Int(limit + 1),
        ];
        let mut snapshot = snapshot(&self.state).await?;
        let scores = all(&mut snapshot, &queries::SCORES, &params).await?;
        let summary = match given(&p.trace_id) {
            Some(trace_id) => Some(
                all(
                    &mut snapshot,
                    &viewer::TRACE_SCORE_SUMMARY,
                    &[Param::text(Some(trace_id))],
                )
                .await?,
            ),
            None => None,
        };
        snapshot.end().await.map_err(ToolError::from_db)?;
        let (scores, next) = paged(scores, limit, "scored_at", "score_key");
        Ok(json!({"scores": scores, "by_name": summary, "next_cursor": next}))
    }

    async fn add_score_(&self, parts: &Parts, p: AddScore) -> Result<Value, ToolError> {
        // Which project the score goes to: the trace's, among those the server's login reads;
        // for a project's token, only its own project.
        let own_project = match caller(parts)? {
            Bearer::Server => None,
            Bearer::Project(project) => Some(project),
        };
        if p.value.is_none() && given(&p.label).is_none() {
            return Err(ToolError::new(
                "a score needs a value, a label, or both (e.g. value 0.8, label \"pass\")",
            ));
        }
        let params = [
            Param::text(Some(&p.trace_id)),
            Param::Text(own_project.map(|id| id.to_string())),
            text(&p.project),
            text(&p.span_id),
        ];
        let mut snapshot = snapshot(&self.state).await?;
        let targets = all(&mut snapshot, &viewer::SCORE_TARGET, &params).await?;
        snapshot.end().await.map_err(ToolError::from_db)?;
        let target = match targets.as_slice() {
            [] => {
                return Err(ToolError::new(match own_project {
                    Some(_) => format!("no trace {} in the project of this token", p.trace_id),
                    None => format!(
                        "no trace {} (among those this server's login may read){}",
                        p.trace_id,
                        given(&p.project)
                            .map(|project| format!(" in project {project}"))
                            .unwrap_or_default()
                    ),
                }));
            }
            [one] => one,
            several => {
                let names: Vec<String> =
                    several.iter().filter_map(|t| field(t, "project")).collect();
                return Err(ToolError::new(format!(
                    "trace {} is in several projects ({}): say which with project",
                    p.trace_id,
                    names.join(", ")
                )));
            }
        };
        if target.get("has_span") != Some(&Value::Bool(true)) {
            return Err(ToolError::new(format!(
                "no span {} in trace {}",
                given(&p.span_id).unwrap_or_default(),
                p.trace_id
            )));
        }
        let project = field(target, "project")
            .ok_or_else(|| ToolError::new("the trace's project has no name"))?;
        let score = NewScore {
            trace_id: p.trace_id.clone(),
            span_id: given(&p.span_id).map(String::from),
            name: p.name.clone(),
            value: p.value,
            label: given(&p.label).map(String::from),
            explanation: given(&p.explanation).map(String::from),
            source: Some(p.source.unwrap_or(Source::Llm).as_str().to_string()),
            scorer: given(&p.scorer).map(String::from),
            project: project.clone(),
        };
        match (self.state.scores)(score).await {
            Ok(key) => Ok(json!({
                "stored": true, "score_key": key, "trace_id": p.trace_id, "span_id": p.span_id,
                "project": project,
            })),
            Err(ScoreRefusal::Refused { message, sqlstate }) => {
                Err(ToolError::new(message).with_sqlstate(&sqlstate))
            }
            Err(ScoreRefusal::Unavailable(why)) => {
                tracing::warn!(target: "agent_trace::mcp", %why, "add_score: database unavailable");
                Err(ToolError::new(
                    "the database is unavailable; nothing was stored: try again",
                ))
            }
        }
    }
}

#[tool_handler(router = self.tool_router)]
impl ServerHandler for Tools {
    fn get_info(&self) -> ServerConfig {
        let mut info = ServerConfig::new(ServerCapabilities::builder().enable_tools().build())
            .with_instructions(
                "agent-trace: the traces of AI agents (runs, spans, LLM and tool calls, tokens, \
                 cost, sessions, scores) in PostgreSQL. Start with find_traces (e.g. status ERROR \
                 for failed runs), then trace_tree on one trace and get_span on a span; \
                 diff_traces compares a good run with a bad one; session sums up a session; \
                 scores and add_score read and give scores; query runs read-only SQL for anything \
                 else (e.g. SELECT * FROM agent_score_stats).",
            );
        info.server_info = Implementation::new("agent-trace", env!("CARGO_PKG_VERSION"));
        info
    }
}
