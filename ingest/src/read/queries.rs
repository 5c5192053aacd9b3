//! The statements of `sql/viewer/`, and each one as a user can run it: with the values of the view
//! in place of its bind parameters (`for_psql`), for the viewer's "SQL" panel. That text is only
//! shown, never run: the viewer itself always sends the file's text and binds the values.

use serde::{Deserialize, Serialize};
use tokio_postgres::types::ToSql;

/// One statement of `sql/viewer/`.
pub struct Query {
    /// The file's name without `.sql`, e.g. `trace_list`.
    pub name: &'static str,
    pub sql: &'static str,
}

macro_rules! viewer_sql {
    ($($constant:ident = $name:literal;)*) => {
        $(pub const $constant: Query = Query {
            name: $name,
            sql: include_str!(concat!("../../../sql/viewer/", $name, ".sql")),
        };)*
    };
}

viewer_sql! {
    CAN_READ = "can_read";
    TRACE_LIST = "trace_list";
    TRACE_LIST_SORTED = "trace_list_sorted";
    TRACE_FACETS = "trace_facets";
    TRACE = "trace";
    TRACE_TREE = "trace_tree";
    CRITICAL_PATH = "critical_path";
    TURNS = "turns";
    TRACE_LOGS = "trace_logs";
    SPAN = "span";
    DIFF_SUMMARY = "diff_summary";
    DIFF_TRACES = "diff_traces";
    REPLAY_STEPS = "replay_steps";
    REPLAY_STEP = "replay_step";
    REPLAY_JSON = "replay_json";
    SESSIONS = "sessions";
    USAGE_TOKENS = "usage_tokens";
    USAGE_COST = "usage_cost";
    LIVE_HEAD = "live_head";
    TRACE_SCORES = "trace_scores";
    TRACE_SCORE_SUMMARY = "trace_score_summary";
    DIFF_SCORES = "diff_scores";
    SCORE_NAMES = "score_names";
    SCORE_VALUES = "score_values";
    SCORE_LABELS = "score_labels";
    SCORE_TARGET = "score_target";
}

/// The orders of the trace list (`trace_list_sorted.sql`; newest first is `trace_list.sql`'s, the
/// index's), for the viewer's API and the MCP server alike. Only these: a sort is never a column
/// name from a request.
#[derive(Debug, Deserialize, schemars::JsonSchema, Default, Clone, Copy, PartialEq)]
#[serde(rename_all = "snake_case")]
pub enum Sort {
    #[default]
    Start,
    Duration,
    Spans,
    Errors,
    InputTokens,
    OutputTokens,
    Cost,
    ComputedCost,
}

impl Sort {
    /// As trace_list_sorted.sql names it.
    pub fn as_str(self) -> &'static str {
        match self {
            Sort::Start => "start",
            Sort::Duration => "duration",
            Sort::Spans => "spans",
            Sort::Errors => "errors",
            Sort::InputTokens => "input_tokens",
            Sort::OutputTokens => "output_tokens",
            Sort::Cost => "cost",
            Sort::ComputedCost => "computed_cost",
        }
    }
}

/// The direction of the trace list's order: largest or newest first unless asked.
#[derive(Debug, Deserialize, schemars::JsonSchema, Default, Clone, Copy, PartialEq)]
#[serde(rename_all = "snake_case")]
pub enum Order {
    Asc,
    #[default]
    Desc,
}

impl Order {
    /// As trace_list_sorted.sql reads it.
    pub fn as_str(self) -> &'static str {
        match self {
            Order::Asc => "asc",
            Order::Desc => "desc",
        }
    }
}

/// A bind parameter: text (cast to its type in the SQL, so PostgreSQL parses ids and times) or a
/// whole number.
#[derive(Debug, Clone)]
pub enum Param {
    Text(Option<String>),
    Int(i64),
}

impl Param {
    pub fn text(value: Option<&str>) -> Self {
        Param::Text(value.map(str::to_string))
    }

    pub fn as_sql(&self) -> &(dyn ToSql + Sync) {
        match self {
            Param::Text(value) => value,
            Param::Int(value) => value,
        }
    }

    /// The value as an SQL literal: NULL, a number, or a string in single quotes.
    fn literal(&self) -> String {
        match self {
            Param::Text(None) => "NULL".to_string(),
            Param::Text(Some(text)) => format!("'{}'", text.replace('\'', "''")),
            Param::Int(number) => number.to_string(),
        }
    }
}

/// A query as the viewer's SQL panel shows it.
#[derive(Serialize)]
pub struct Shown {
    pub name: &'static str,
    pub sql: String,
}

/// The query with `$n` replaced by the n-th value as a literal, in the code and not in the comments,
/// which keep naming the parameters. Runs as it stands in psql (standard_conforming_strings, the
/// default since PostgreSQL 9.1, makes the quoting above complete).
pub fn for_psql(query: &Query, params: &[Param]) -> Shown {
    let lines: Vec<String> = query
        .sql
        .lines()
        .map(|line| match line.find("--") {
            Some(comment) => format!(
                "{}{}",
                substitute(&line[..comment], params),
                &line[comment..]
            ),
            None => substitute(line, params),
        })
        .collect();
    Shown {
        name: query.name,
        sql: lines.join("\n"),
    }
}

fn substitute(code: &str, params: &[Param]) -> String {
    let mut out = String::with_capacity(code.len());
    let mut rest = code;
    while let Some(dollar) = rest.find('$') {
        out.push_str(&rest[..dollar]);
        let after = &rest[dollar + 1..];
        let digits = after.len() - after.trim_start_matches(|c: char| c.is_ascii_digit()).len();
        match after[..digits]
            .parse::<usize>()
            .ok()
            .and_then(|n| params.get(n.checked_sub(1)?))
        {
            Some(param) => out.push_str(&param.literal()),
            None => out.push_str(&rest[dollar..=dollar + digits]),
        }
        rest = &after[digits..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_replace_parameters_in_code_but_not_in_comments() {
        let query = Query {
            name: "example",
            sql: "-- $1 is the trace\nSELECT $1::text, $2::text, $10, $3 -- $2\nFROM t",
        };
        let mut params = vec![Param::text(Some("it's")), Param::Text(None), Param::Int(7)];
        params.extend((4..=10).map(|n| Param::Int(n * 100)));
        assert_eq!(
            for_psql(&query, &params).sql,
            "-- $1 is the trace\nSELECT 'it''s'::text, NULL::text, 1000, 7 -- $2\nFROM t"
        );
    }

    #[test]
    fn a_dollar_without_a_known_parameter_stays() {
        let query = Query {
            name: "example",
            sql: "SELECT '$', $9, $",
        };
        assert_eq!(for_psql(&query, &[]).sql, "SELECT '$', $9, $");
    }
}
