//! A person's score on a run or one of its spans, added in the viewer: `POST
//! /api/traces/ID/scores` with a JSON body (docs/viewer.md). The only request of the viewer that
//! writes, and it does not write through the viewer's pool, which stays read-only: the score goes to
//! `crate::server`'s writer (the ingest's, which OTLP uses) through `AddScore`, as
//! `agent_trace.add_score` with source `human`.
//!
//! Who may: the holders of the tokens the rest of the viewer takes (a login session, the server's
//! token, anyone when the server asks for none), who score into the project the trace is in; and a
//! project's token (`crate::auth::Bearer`), which scores only its own project's traces. Either way
//! the trace must be one the viewer can read: anything else is 404, in the same words whether the
//! trace is in no project or in another one. Web pages of other sites are refused before this runs
//! (`crate::server::guard`), and the body must be `application/json`, which no page of another
//! origin can send without a preflight.

use super::api::{Answer, ApiError};
use super::login;
use super::state::{NewScore, StoreFailure, Viewer};
use crate::read::DbError;
use crate::read::queries::{self, Param};
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{Extensions, HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::value::RawValue;

/// The longest name, label and scorer, in characters.
pub const MAX_NAME_CHARS: usize = 200;
/// The longest explanation (a comment), in characters.
pub const MAX_EXPLANATION_CHARS: usize = 10_000;
/// The largest body taken, in bytes: room for the longest explanation in any script.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// The body of `POST /api/traces/ID/scores`. Fields it does not know are refused, so that a
/// misspelt one (or a `source`, which is always `human` here) is not silently dropped.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScoreBody {
    name: String,
    #[serde(default)]
    value: Option<f64>,
    #[serde(default)]
    label: Option<String>,
    #[serde(default)]
    explanation: Option<String>,
    #[serde(default)]
    span_id: Option<String>,
    #[serde(default)]
    scorer: Option<String>,
    /// Among the projects the trace id is in, this one's (by name).
    #[serde(default)]
    project: Option<String>,
    /// A key of the caller's (a UUID), so that a retry stores the score once.
    #[serde(default)]
    score_key: Option<String>,
}

/// What a body asks for, checked: the score without its project yet, and the project named.
#[derive(Debug, PartialEq)]
pub struct Checked {
    score: NewScore,
    project: Option<String>,
}

/// Text left empty (or only spaces) is not given.
fn present(text: Option<String>) -> Option<String> {
    text.filter(|text| !text.trim().is_empty())
}

fn at_most(what: &str, text: &str, chars: usize) -> Result<(), String> {
    let length = text.chars().count();
    if length > chars {
        return Err(format!(
            "the {what} is {length} characters long: at most {chars}"
        ));
    }
    Ok(())
}

/// Checks a parsed body: a name, a finite value or a label (or both), text within its bounds.
/// Ids and the key are PostgreSQL's to parse. Pure; the error says what to fix.
pub fn check(trace_id: &str, body: ScoreBody) -> Result<Checked, String> {
    let name = body.name.trim().to_string();
    if name.is_empty() {
        return Err("a score needs a name saying what was scored, e.g. \"relevance\"".into());
    }
    at_most("name", &name, MAX_NAME_CHARS)?;
    if body.value.is_some_and(|value| !value.is_finite()) {
        return Err("the value is not a finite number".into());
    }
    if body
        .label
        .as_deref()
        .is_some_and(|label| label.trim().is_empty())
    {
        return Err("the label is empty: leave it out for none".into());
    }
    let label = body.label;
    if let Some(label) = &label {
        at_most("label", label, MAX_NAME_CHARS)?;
    }
    if body.value.is_none() && label.is_none() {
        return Err(format!(
            "score {name:?} has neither a value nor a label: give \"value\": 0.8, \"label\": \"pass\", or both"
        ));
    }
    let explanation = present(body.explanation);
    if let Some(explanation) = &explanation {
        at_most("explanation", explanation, MAX_EXPLANATION_CHARS)?;
    }
    let scorer = present(body.scorer);
    if let Some(scorer) = &scorer {
        at_most("scorer", scorer, MAX_NAME_CHARS)?;
    }
    Ok(Checked {
        score: NewScore {
            trace_id: trace_id.to_string(),
            span_id: present(body.span_id),
            name,
            value: body.value,
            label,
            explanation,
            scorer,
            source: "human",
            project: String::new(),
            score_key: present(body.score_key),
        },
        project: present(body.project),
    })
}

/// Whether the body is JSON by its Content-Type (`application/json`, parameters allowed).
fn is_json(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.split(';').next())
        .is_some_and(|media| media.trim().eq_ignore_ascii_case("application/json"))
}

/// One row of `score_target.sql`.
#[derive(Deserialize)]
struct Target {
    project: String,
    has_span: bool,
}

/// `POST /api/traces/ID/scores`: checks who asks, the body, and where the trace is; stores the score
/// through the writer; answers 201 with the score and (unless a project's token asked) the trace's
/// scores as they are now.
pub async fn add(
    State(viewer): State<Viewer>,
    Path(trace_id): Path<String>,
    headers: HeaderMap,
    extensions: Extensions,
    body: Body,
) -> Response {
    let path = format!("/api/traces/{trace_id}/scores");
    let holder = match login::scorer(&viewer, &headers, &extensions, &path) {
        Ok(holder) => holder,
        Err(verdict) => return login::refused(verdict, true),
    };
    // Read only once the token is known, and only so much.
    let Ok(body) = axum::body::to_bytes(body, MAX_BODY_BYTES).await else {
        return ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("a score's body is at most {MAX_BODY_BYTES} bytes"),
        )
        .into_response();
    };
    match add_as(&viewer, holder, trace_id, &headers, &body).await {
        Ok(answer) => (StatusCode::CREATED, answer).into_response(),
        Err(error) => error.into_response(),
    }
}

async fn add_as(
    viewer: &Viewer,
    holder: crate::auth::Bearer,
    trace_id: String,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<Answer, ApiError> {
    let Some(store) = &viewer.add_score else {
        return Err(ApiError::new(
            StatusCode::NOT_IMPLEMENTED,
            "this server takes no scores: its viewer has no writer",
        ));
    };
    if !is_json(headers) {
        return Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "send the score as JSON, with Content-Type: application/json",
        ));
    }
    let body: ScoreBody = serde_json::from_slice(body)
        .map_err(|e| ApiError::bad_request(format!("the body is not a score: {e}")))?;
    let Checked { mut score, project } = check(&trace_id, body).map_err(ApiError::bad_request)?;

    // Where it goes: the trace's project, as the viewer reads it (the token's project only, for a
    // project's token).
    let only = match holder {
        crate::auth::Bearer::Server => None,
        crate::auth::Bearer::Project(id) => Some(id.to_string()),
    };
    let params = [
        Param::text(Some(&trace_id)),
        Param::text(only.as_deref()),
        Param::text(project.as_deref()),
        Param::text(score.span_id.as_deref()),
    ];
    let rows = viewer.db.rows(&queries::SCORE_TARGET, &params).await?;
    let targets: Vec<Target> = serde_json::from_str(rows.get())
        .map_err(|e| ApiError::from(DbError::Failed(format!("score_target's rows: {e}").into())))?;
    let target = match targets.as_slice() {
        [] => return Err(ApiError::not_found(format!("no trace {trace_id}"))),
        [one] => one,
        several => {
            let names: Vec<&str> = several.iter().map(|t| t.project.as_str()).collect();
            return Err(ApiError::new(
                StatusCode::CONFLICT,
                format!(
                    "trace {trace_id} is in several projects ({}): name one as \"project\"",
                    names.join(", ")
                ),
            ));
        }
    };
    if !target.has_span {
        let span = score.span_id.as_deref().unwrap_or_default();
        return Err(ApiError::not_found(format!(
            "no span {span} in trace {trace_id}"
        )));
    }
    score.project = target.project.clone();

    let key = store(score.clone()).await.map_err(refusal)?;
    let mut answer = Answer::default();
    let stored = serde_json::json!({
        "score_key": key,
        "trace_id": score.trace_id,
        "span_id": score.span_id,
        "project": score.project,
    });
    let stored = RawValue::from_string(stored.to_string())
        .map_err(|e| ApiError::from(DbError::Failed(e.to_string().into())))?;
    answer.value("score", stored);
    // A project's token writes and reads nothing: the trace's scores (of any project the viewer
    // reads) are for those who may use the viewer.
    if holder != crate::auth::Bearer::Server {
        return Ok(answer);
    }
    let whole = [Param::text(Some(&trace_id))];
    for (name, query) in [
        ("scores", &queries::TRACE_SCORES),
        ("score_summary", &queries::TRACE_SCORE_SUMMARY),
    ] {
        answer.part(name, viewer.db.rows(query, &whole).await?, query, &whole);
    }
    Ok(answer)
}

/// What the client is told when the writer stored nothing: a value PostgreSQL refused (class 22,
/// 23) is the client's to fix, with the database's words (they are about the values sent); a
/// project the writer's login may not write is the operator's (403, saying so); no database is
/// 503; anything else 500, the words in the log only.
fn refusal(failure: StoreFailure) -> ApiError {
    let class = failure
        .sqlstate
        .as_deref()
        .map(|code| &code[..2.min(code.len())]);
    match (failure.sqlstate.as_deref(), class) {
        (_, Some("22" | "23")) => ApiError::bad_request(failure.message),
        (Some("42501"), _) => ApiError::new(
            StatusCode::FORBIDDEN,
            format!(
                "the ingest's database login may not write scores into this project: {}",
                failure.message
            ),
        ),
        (None, _) | (_, Some("08" | "53" | "57" | "40")) | (Some("55P03"), _) => {
            ApiError::from(DbError::Unavailable(failure.message))
        }
        _ => ApiError::from(DbError::Failed(failure.message.into())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(json: serde_json::Value) -> Result<Checked, String> {
        let body: ScoreBody = serde_json::from_value(json).map_err(|e| e.to_string())?;
        check("4bf92f3577b34da6a3ce929d0e0e4736", body)
    }

    #[test]
    fn a_score_needs_a_name_and_a_value_or_a_label() {
        let thumbs = body(serde_json::json!({
            "name": " thumbs ", "label": "thumbs_down", "value": 0, "explanation": "wrong city",
            "span_id": "b44a6bb020e2d6c6", "scorer": ""
        }))
        .unwrap();
        assert_eq!(thumbs.score.name, "thumbs");
        assert_eq!(thumbs.score.label.as_deref(), Some("thumbs_down"));
        assert_eq!(thumbs.score.value, Some(0.0));
        assert_eq!(thumbs.score.source, "human");
        assert_eq!(thumbs.score.scorer, None, "empty is none");
        assert_eq!(thumbs.project, None);
        assert!(body(serde_json::json!({"name": "relevance", "value": 0.3})).is_ok());
        for (json, why) in [
            (
                serde_json::json!({"name": "  ", "value": 1}),
                "needs a name",
            ),
            (serde_json::json!({"value": 1}), "missing field `name`"),
            (
                serde_json::json!({"name": "x"}),
                "neither a value nor a label",
            ),
            (
                serde_json::json!({"name": "x", "label": " "}),
                "label is empty",
            ),
            (
                serde_json::json!({"name": "x", "value": "NaN"}),
                "invalid type",
            ),
            (
                serde_json::json!({"name": "x", "value": 1, "source": "llm"}),
                "unknown field `source`",
            ),
            (
                serde_json::json!({"name": "x".repeat(201), "value": 1}),
                "at most 200",
            ),
            (
                serde_json::json!({"name": "x", "label": "y".repeat(201)}),
                "at most 200",
            ),
            (
                serde_json::json!({"name": "x", "value": 1, "scorer": "s".repeat(201)}),
                "the scorer is 201 characters long: at most 200",
            ),
            (
                serde_json::json!({"name": "x", "value": 1, "explanation": "z".repeat(10_001)}),
                "at most 10000",
            ),
        ] {
            let error = body(json.clone()).err().unwrap_or_default();
            assert!(error.contains(why), "{json}: {error}");
        }
        // Characters, not bytes: 200 two-byte letters are a name.
        assert!(body(serde_json::json!({"name": "é".repeat(200), "value": 1})).is_ok());
    }

    #[test]
    fn numbers_json_cannot_hold_are_refused_as_json() {
        for text in [
            r#"{"name": "x", "value": NaN}"#,
            r#"{"name": "x", "value": Infinity}"#,
            r#"{"name": "x", "value": 1e400}"#,
        ] {
            assert!(serde_json::from_str::<ScoreBody>(text).is_err(), "{text}");
        }
    }

    #[test]
    fn only_a_json_body_is_taken() {
        let mut headers = HeaderMap::new();
        assert!(!is_json(&headers));
        for (value, json) in [
            ("application/json", true),
            ("Application/JSON; charset=utf-8", true),
            ("text/plain", false),
            ("application/x-www-form-urlencoded", false),
            ("multipart/form-data; boundary=x", false),
            ("application/jsonp", false),
        ] {
            headers.insert(header::CONTENT_TYPE, value.parse().unwrap());
            assert_eq!(is_json(&headers), json, "{value}");
        }
    }

    #[test]
    fn the_database_s_refusals_become_statuses() {
        let failure = |code: Option<&str>| StoreFailure {
            sqlstate: code.map(String::from),
            message: "m".into(),
        };
        for (code, status) in [
            (Some("22023"), StatusCode::BAD_REQUEST),
            (Some("22P02"), StatusCode::BAD_REQUEST),
            (Some("23514"), StatusCode::BAD_REQUEST),
            (Some("42501"), StatusCode::FORBIDDEN),
            (None, StatusCode::SERVICE_UNAVAILABLE),
            (Some("57P01"), StatusCode::SERVICE_UNAVAILABLE),
            (Some("55P03"), StatusCode::SERVICE_UNAVAILABLE),
            (Some("XX000"), StatusCode::INTERNAL_SERVER_ERROR),
        ] {
            assert_eq!(refusal(failure(code)).status(), status, "{code:?}");
        }
    }
}
