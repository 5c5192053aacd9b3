//! The JSON API under the viewer, `/api/...` (docs/viewer.md, "The viewer's JSON API"): one handler per
//! view, each running statements of `sql/viewer/` with the request's values bound as parameters and
//! answering `{<part>: rows or row, ..., "sql": [{name, sql}]}`, where `sql` is each statement as
//! psql can run it. Rows are rendered by PostgreSQL (`db`); nothing here computes a tree, a diff, a
//! cost or a session: that is the extension's SQL API.

use super::state::Viewer;
use crate::read::DbError;
use crate::read::queries::{self, Order, Param, Query, Shown, Sort};
use axum::Router;
use axum::extract::{Path, Query as Params, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde::ser::SerializeMap;
use serde::{Deserialize, Serialize, Serializer};
use serde_json::value::RawValue;

pub fn routes() -> Router<Viewer> {
    Router::new()
        .route("/api/traces", get(trace_list))
        .route("/api/facets", get(facets))
        .route("/api/traces/{trace_id}", get(trace))
        .route("/api/traces/{trace_id}/turns", get(turns))
        .route("/api/traces/{trace_id}/spans/{span_id}", get(span))
        .route("/api/traces/{trace_id}/replay", get(replay))
        .route("/api/traces/{trace_id}/replay/{step}", get(replay_step))
        .route("/api/traces/{trace_id}/replay.json", get(replay_json))
        .route("/api/diff", get(diff))
        .route("/api/sessions", get(sessions))
        .route("/api/usage", get(usage))
        .route("/api/scores", get(score_stats))
}

/// A failed API request: a status and `{"error": message}`.
pub struct ApiError {
    status: StatusCode,
    message: String,
}

impl ApiError {
    pub(super) fn new(status: StatusCode, message: impl Into<String>) -> Self {
        Self {
            status,
            message: message.into(),
        }
    }

    #[cfg(test)]
    pub(super) fn status(&self) -> StatusCode {
        self.status
    }

    pub(super) fn bad_request(why: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, why)
    }

    pub(super) fn not_found(what: impl Into<String>) -> Self {
        Self {
            status: StatusCode::NOT_FOUND,
            message: what.into(),
        }
    }

    pub fn unauthorized() -> Self {
        Self {
            status: StatusCode::UNAUTHORIZED,
            message: "log in at /login, or send Authorization: Bearer TOKEN".to_string(),
        }
    }
}

impl From<DbError> for ApiError {
    /// A value of the request PostgreSQL could not parse is the client's to fix: 400 with why. Any
    /// other failure is ours, and the database's words stay in the log: they could quote rows the
    /// caller may not see (an error a function raises, a constraint's detail).
    fn from(error: DbError) -> Self {
        let (status, message) = match &error {
            DbError::BadInput(_) => (StatusCode::BAD_REQUEST, error.to_string()),
            DbError::Unavailable(_) => (
                StatusCode::SERVICE_UNAVAILABLE,
                "the database is unavailable; try again".to_string(),
            ),
            DbError::Failed(_) => (
                StatusCode::INTERNAL_SERVER_ERROR,
                "the query failed; the server's log says why".to_string(),
            ),
        };
        if !matches!(error, DbError::BadInput(_)) {
            tracing::error!(target: "agent_trace::viewer", %error, "viewer query failed");
        }
        Self { status, message }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (
            self.status,
            axum::Json(serde_json::json!({ "error": self.message })),
        )
            .into_response()
    }
}

/// An answer: named parts (JSON from PostgreSQL, passed through as it came) and the SQL behind them.
#[derive(Default)]
pub(super) struct Answer {
    parts: Vec<(&'static str, Box<RawValue>)>,
    sql: Vec<Shown>,
}

impl Answer {
    pub(super) fn part(
        &mut self,
        name: &'static str,
        json: Box<RawValue>,
        query: &Query,
        params: &[Param],
    ) {
        self.parts.push((name, json));
        self.sql.push(queries::for_psql(query, params));
    }

    /// A part that no statement of the viewer's gave (what a write stored).
    pub(super) fn value(&mut self, name: &'static str, json: Box<RawValue>) {
        self.parts.push((name, json));
    }
}

impl Serialize for Answer {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.parts.len() + 1))?;
        for (name, json) in &self.parts {
            map.serialize_entry(name, json)?;
        }
        map.serialize_entry("sql", &self.sql)?;
        map.end()
    }
}

impl IntoResponse for Answer {
    fn into_response(self) -> Response {
        axum::Json(self).into_response()
    }
}

type ApiResult = Result<Answer, ApiError>;

/// An empty query-string value means "not given", as an empty filter field in a form does.
fn given(value: &Option<String>) -> Option<&str> {
    value.as_deref().filter(|value| !value.is_empty())
}

/// A time range `from`, `to` (ISO 8601); absent bounds are open (-infinity and infinity).
fn range(from: &Option<String>, to: &Option<String>) -> [Param; 2] {
    [
        Param::text(Some(given(from).unwrap_or("-infinity"))),
        Param::text(Some(given(to).unwrap_or("infinity"))),
    ]
}

/// The keyset cursor of the next page: the previous page's last row, as `after` (its sort value)
/// and `after_id` (its id); both or neither.
fn cursor(after: &Option<String>, after_id: &Option<String>) -> Result<[Param; 2], ApiError> {
    match (given(after), given(after_id)) {
        (Some(_), None) | (None, Some(_)) => Err(ApiError {
            status: StatusCode::BAD_REQUEST,
            message: "after and after_id go together: the last row's sort value and id".to_string(),
        }),
        (after, after_id) => Ok([Param::text(after), Param::text(after_id)]),
    }
}

const DEFAULT_PAGE: i64 = 100;
const MAX_PAGE: i64 = 1000;

fn page_size(limit: Option<i64>) -> i64 {
    limit.unwrap_or(DEFAULT_PAGE).clamp(1, MAX_PAGE)
}

#[derive(Deserialize)]
struct ListParams {
    from: Option<String>,
    to: Option<String>,
    service: Option<String>,
    agent: Option<String>,
    user: Option<String>,
    session: Option<String>,
    model: Option<String>,
    status: Option<String>,
    q: Option<String>,
    /// A project's name: only its traces.
    project: Option<String>,
    /// A score's name: only traces with a score of that name (of the run or one of its spans)...
    score: Option<String>,
    /// ... whose value is at least this ...
    score_min: Option<String>,
    /// ... and at most this ...
    score_max: Option<String>,
    /// ... and whose label is this.
    score_label: Option<String>,
    #[serde(default)]
    sort: Sort,
    #[serde(default)]
    order: Order,
    /// The previous page's last row: its start_time (or sort_key, in another order) and trace_id.
    after: Option<String>,
    after_id: Option<String>,
    limit: Option<i64>,
}

/// The score filter of the list: its name, least and greatest value and label, each NULL for any.
/// The bounds are numbers (not NaN or infinite), and every part needs the name.
fn score_filter(p: &ListParams) -> Result<[Param; 4], ApiError> {
    fn bound<'a>(name: &str, value: &'a Option<String>) -> Result<Option<&'a str>, ApiError> {
        match given(value) {
            None => Ok(None),
            Some(text) => match text.trim().parse::<f64>() {
                Ok(number) if number.is_finite() => Ok(Some(text.trim())),
                _ => Err(ApiError::bad_request(format!(
                    "{name} is {text:?}: give a finite number, e.g. 0.5"
                ))),
            },
        }
    }
    let (min, max) = (
        bound("score_min", &p.score_min)?,
        bound("score_max", &p.score_max)?,
    );
    let label = given(&p.score_label);
    let name = given(&p.score);
    if name.is_none() && (min.is_some() || max.is_some() || label.is_some()) {
        return Err(ApiError::bad_request(
            "score_min, score_max and score_label filter the scores named by score: give score too",
        ));
    }
    Ok([
        Param::text(name),
        Param::text(min),
        Param::text(max),
        Param::text(label),
    ])
}

async fn trace_list(State(viewer): State<Viewer>, Params(p): Params<ListParams>) -> ApiResult {
    let [from, to] = range(&p.from, &p.to);
    let [after, after_id] = cursor(&p.after, &p.after_id)?;
    let scores = score_filter(&p)?;
    let mut params = vec![
        from,
        to,
        Param::text(given(&p.service)),
        Param::text(given(&p.agent)),
        Param::text(given(&p.user)),
        Param::text(given(&p.session)),
        Param::text(given(&p.model)),
        Param::text(given(&p.status)),
        Param::text(given(&p.q)),
        after,
        after_id,
    ];
    // Newest first is the index's order; anything else is sorted by PostgreSQL (trace_list_sorted).
    let query = if p.sort == Sort::Start && p.order == Order::Desc {
        &queries::TRACE_LIST
    } else {
        params.push(Param::text(Some(p.sort.as_str())));
        params.push(Param::text(Some(p.order.as_str())));
        &queries::TRACE_LIST_SORTED
    };
    params.push(Param::Int(page_size(p.limit)));
    params.push(Param::text(given(&p.project)));
    params.extend(scores);
    let mut answer = Answer::default();
    answer.part(
        "traces",
        viewer.db.rows(query, &params).await?,
        query,
        &params,
    );
    Ok(answer)
}

#[derive(Deserialize)]
struct RangeParams {
    from: Option<String>,
    to: Option<String>,
}

async fn facets(State(viewer): State<Viewer>, Params(p): Params<RangeParams>) -> ApiResult {
    let params = range(&p.from, &p.to);
    let mut answer = Answer::default();
    let rows = viewer.db.rows(&queries::TRACE_FACETS, &params).await?;
    answer.part("facets", rows, &queries::TRACE_FACETS, &params);
    Ok(answer)
}

#[derive(Deserialize)]
struct TraceParams {
    /// Limit the tree to this span's subtree (a turn).
    span: Option<String>,
    /// Prev/next within this session only.
    session: Option<String>,
}

async fn trace(
    State(viewer): State<Viewer>,
    Path(trace_id): Path<String>,
    Params(p): Params<TraceParams>,
) -> ApiResult {
    let db = &viewer.db;
    let mut answer = Answer::default();
    let trace_params = [Param::text(Some(&trace_id)), Param::text(given(&p.session))];
    let Some(row) = db.row(&queries::TRACE, &trace_params).await? else {
        return Err(ApiError::not_found(format!("no trace {trace_id}")));
    };
    answer.part("trace", row, &queries::TRACE, &trace_params);
    let scoped = [Param::text(Some(&trace_id)), Param::text(given(&p.span))];
    for (name, query) in [
        ("tree", &queries::TRACE_TREE),
        ("critical_path", &queries::CRITICAL_PATH),
    ] {
        answer.part(name, db.rows(query, &scoped).await?, query, &scoped);
    }
    let whole = [Param::text(Some(&trace_id))];
    for (name, query) in [
        ("turns", &queries::TURNS),
        ("logs", &queries::TRACE_LOGS),
        ("scores", &queries::TRACE_SCORES),
        ("score_summary", &queries::TRACE_SCORE_SUMMARY),
    ] {
        answer.part(name, db.rows(query, &whole).await?, query, &whole);
    }
    Ok(answer)
}

async fn turns(State(viewer): State<Viewer>, Path(trace_id): Path<String>) -> ApiResult {
    let params = [Param::text(Some(&trace_id))];
    let mut answer = Answer::default();
    let rows = viewer.db.rows(&queries::TURNS, &params).await?;
    answer.part("turns", rows, &queries::TURNS, &params);
    Ok(answer)
}

async fn span(
    State(viewer): State<Viewer>,
    Path((trace_id, span_id)): Path<(String, String)>,
) -> ApiResult {
    let params = [Param::text(Some(&trace_id)), Param::text(Some(&span_id))];
    let rows = viewer.db.rows(&queries::SPAN, &params).await?;
    if rows.get() == "[]" {
        return Err(ApiError::not_found(format!(
            "no span {span_id} in trace {trace_id}"
        )));
    }
    let mut answer = Answer::default();
    answer.part("spans", rows, &queries::SPAN, &params);
    Ok(answer)
}

#[derive(Deserialize)]
struct ReplayParams {
    span: Option<String>,
}

async fn replay(
    State(viewer): State<Viewer>,
    Path(trace_id): Path<String>,
    Params(p): Params<ReplayParams>,
) -> ApiResult {
    let db = &viewer.db;
    let mut answer = Answer::default();
    let trace_params = [Param::text(Some(&trace_id)), Param::Text(None)];
    let Some(row) = db.row(&queries::TRACE, &trace_params).await? else {
        return Err(ApiError::not_found(format!("no trace {trace_id}")));
    };
    answer.part("trace", row, &queries::TRACE, &trace_params);
    let params = [Param::text(Some(&trace_id)), Param::text(given(&p.span))];
    let steps = db.rows(&queries::REPLAY_STEPS, &params).await?;
    answer.part("steps", steps, &queries::REPLAY_STEPS, &params);
    Ok(answer)
}

async fn replay_step(
    State(viewer): State<Viewer>,
    Path((trace_id, step)): Path<(String, i64)>,
    Params(p): Params<ReplayParams>,
) -> ApiResult {
    let params = [
        Param::text(Some(&trace_id)),
        Param::text(given(&p.span)),
        Param::Int(step),
    ];
    let Some(row) = viewer.db.row(&queries::REPLAY_STEP, &params).await? else {
        return Err(ApiError::not_found(format!(
            "no step {step} in trace {trace_id}"
        )));
    };
    let mut answer = Answer::default();
    answer.part("step", row, &queries::REPLAY_STEP, &params);
    Ok(answer)
}

/// The replay_json document itself, as a download.
async fn replay_json(
    State(viewer): State<Viewer>,
    Path(trace_id): Path<String>,
    Params(p): Params<ReplayParams>,
) -> Result<Response, ApiError> {
    let params = [Param::text(Some(&trace_id)), Param::text(given(&p.span))];
    let Some(document) = viewer.db.text(&queries::REPLAY_JSON, &params).await? else {
        return Err(ApiError::not_found(format!(
            "trace {trace_id} has no LLM or tool steps to replay"
        )));
    };
    let name = match given(&p.span) {
        Some(span) => format!("replay-{trace_id}-{span}"),
        None => format!("replay-{trace_id}"),
    };
    // The ids passed PostgreSQL's parsers, but a header is no place to trust that: only letters,
    // digits and dashes go into the file name.
    let name: String = name
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '-')
        .collect();
    Ok((
        [
            (header::CONTENT_TYPE, "application/json".to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}.json\""),
            ),
        ],
        document,
    )
        .into_response())
}

#[derive(Deserialize)]
struct DiffParams {
    a: String,
    b: String,
    span_a: Option<String>,
    span_b: Option<String>,
}

async fn diff(State(viewer): State<Viewer>, Params(p): Params<DiffParams>) -> ApiResult {
    let db = &viewer.db;
    let mut answer = Answer::default();
    for (name, trace_id) in [("a", &p.a), ("b", &p.b)] {
        let params = [Param::text(Some(trace_id)), Param::Text(None)];
        let Some(row) = db.row(&queries::TRACE, &params).await? else {
            return Err(ApiError::not_found(format!("no trace {trace_id}")));
        };
        answer.part(name, row, &queries::TRACE, &params);
    }
    let params = [
        Param::text(Some(&p.a)),
        Param::text(Some(&p.b)),
        Param::text(given(&p.span_a)),
        Param::text(given(&p.span_b)),
    ];
    if let Some(summary) = db.row(&queries::DIFF_SUMMARY, &params).await? {
        answer.part("summary", summary, &queries::DIFF_SUMMARY, &params);
    }
    let rows = db.rows(&queries::DIFF_TRACES, &params).await?;
    answer.part("rows", rows, &queries::DIFF_TRACES, &params);
    let pair = [Param::text(Some(&p.a)), Param::text(Some(&p.b))];
    let scores = db.rows(&queries::DIFF_SCORES, &pair).await?;
    answer.part("scores", scores, &queries::DIFF_SCORES, &pair);
    Ok(answer)
}

#[derive(Deserialize)]
struct SessionParams {
    from: Option<String>,
    to: Option<String>,
    tool: Option<String>,
    /// A project's name: only its sessions.
    project: Option<String>,
    /// The previous page's last row: its last_activity and session_id.
    after: Option<String>,
    after_id: Option<String>,
    limit: Option<i64>,
}

async fn sessions(State(viewer): State<Viewer>, Params(p): Params<SessionParams>) -> ApiResult {
    let [from, to] = range(&p.from, &p.to);
    let [after, after_id] = cursor(&p.after, &p.after_id)?;
    let params = [
        from,
        to,
        Param::text(given(&p.tool)),
        after,
        after_id,
        Param::Int(page_size(p.limit)),
        Param::text(given(&p.project)),
    ];
    let mut answer = Answer::default();
    let rows = viewer.db.rows(&queries::SESSIONS, &params).await?;
    answer.part("sessions", rows, &queries::SESSIONS, &params);
    Ok(answer)
}

#[derive(Deserialize)]
struct UsageParams {
    from: Option<String>,
    to: Option<String>,
    /// The chart's bucket, a PostgreSQL interval such as `1 hour`.
    bucket: Option<String>,
}

/// A chart's range: `from` and `to`, with the epoch for an open start (date_bin needs a finite
/// origin).
fn chart_range(from: &Option<String>, to: &Option<String>) -> [Param; 2] {
    let [from, to] = range(from, to);
    let from = match &from {
        Param::Text(Some(text)) if text == "-infinity" => Param::text(Some("1970-01-01")),
        _ => from,
    };
    [from, to]
}

async fn usage(State(viewer): State<Viewer>, Params(p): Params<UsageParams>) -> ApiResult {
    let [from, to] = chart_range(&p.from, &p.to);
    let params = [
        from,
        to,
        Param::text(Some(given(&p.bucket).unwrap_or("1 hour"))),
    ];
    let db = &viewer.db;
    let mut answer = Answer::default();
    for (name, query) in [
        ("tokens", &queries::USAGE_TOKENS),
        ("calls", &queries::USAGE_COST),
    ] {
        answer.part(name, db.rows(query, &params).await?, query, &params);
    }
    Ok(answer)
}

#[derive(Deserialize)]
struct ScoreStatsParams {
    from: Option<String>,
    to: Option<String>,
    /// The chart's bucket, a PostgreSQL interval such as `1 hour`.
    bucket: Option<String>,
    /// The score charted; without it, only the names to choose from.
    name: Option<String>,
}

/// A score over time, for the sessions page's chart: the names given in the range, and for `name`,
/// its values (count, average, least, greatest) and labels (count of each) per bucket.
async fn score_stats(
    State(viewer): State<Viewer>,
    Params(p): Params<ScoreStatsParams>,
) -> ApiResult {
    let [from, to] = chart_range(&p.from, &p.to);
    let db = &viewer.db;
    let mut answer = Answer::default();
    let range = [from.clone(), to.clone()];
    let names = db.rows(&queries::SCORE_NAMES, &range).await?;
    answer.part("names", names, &queries::SCORE_NAMES, &range);
    if let Some(name) = given(&p.name) {
        let params = [
            from,
            to,
            Param::text(Some(given(&p.bucket).unwrap_or("1 day"))),
            Param::text(Some(name)),
        ];
        for (part, query) in [
            ("values", &queries::SCORE_VALUES),
            ("labels", &queries::SCORE_LABELS),
        ] {
            answer.part(part, db.rows(query, &params).await?, query, &params);
        }
    }
    Ok(answer)
}
