//! One score written on request (a person's in the viewer, the MCP server's add_score tool): through the extension's
//! `agent_trace.add_score` (`sql/ingest/add_score.sql`), as the ingest's login, which may insert
//! scores and read nothing. Which project the score goes to was decided by the caller.

const ADD_SCORE_SQL: &str = include_str!("../../../sql/ingest/add_score.sql");

/// A score to store, as `agent_trace.add_score` takes it.
#[derive(Debug, Clone, Default)]
pub struct Score {
    pub trace_id: String,
    pub span_id: Option<String>,
    pub name: String,
    pub value: Option<f64>,
    pub label: Option<String>,
    pub explanation: Option<String>,
    pub source: Option<String>,
    pub scorer: Option<String>,
    /// A JSON object of other attributes.
    pub attributes: Option<String>,
    /// The project's name.
    pub project: String,
    /// A key the caller chose, so that its retries store the score once.
    pub score_key: Option<String>,
    /// Given now, at the database's time: each call is a new score (a person's clicks) unless
    /// `score_key` says otherwise. Else a call repeated with the same arguments is the same score.
    pub given_now: bool,
}

/// Why a score was not stored.
#[derive(Debug)]
pub enum ScoreError {
    /// The database refused it (a bad value, no right to the project): PostgreSQL's message and
    /// SQLSTATE.
    Refused { message: String, sqlstate: String },
    /// Nothing was stored; try again later.
    Unavailable(String),
}

impl std::fmt::Display for ScoreError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ScoreError::Refused { message, sqlstate } => write!(f, "{message} ({sqlstate})"),
            ScoreError::Unavailable(why) => write!(f, "database unavailable: {why}"),
        }
    }
}

/// Stores `score` on `client` (a connection of the writer's pool) and returns its key.
pub(super) async fn add(
    client: &tokio_postgres::Client,
    score: &Score,
) -> Result<String, ScoreError> {
    let row = client
        .query_one(
            ADD_SCORE_SQL,
            &[
                &score.trace_id,
                &score.name,
                &score.value,
                &score.label,
                &score.explanation,
                &score.source,
                &score.scorer,
                &score.span_id,
                &score.attributes,
                &score.project,
                &score.score_key,
                &score.given_now,
            ],
        )
        .await
        .map_err(|error| match error.as_db_error() {
            Some(db) => ScoreError::Refused {
                message: db.message().to_string(),
                sqlstate: db.code().code().to_string(),
            },
            None => ScoreError::Unavailable(crate::postgres::describe(&error)),
        })?;
    Ok(row.get(0))
}
