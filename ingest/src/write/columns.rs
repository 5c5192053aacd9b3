//! How each row type is written: its table's SQL (files in `sql/ingest/`) and **one list of its
//! columns**, each with its COPY type and its value.
//!
//! Binary COPY sends no column names: the statement names the columns, and the values must follow
//! in exactly that order with exactly those types, or two adjacent text columns would swap silently.
//! So the order is written once, in the `row_columns!` lists below, where a column's name, type and
//! value share a line; the tests at the bottom check the SQL files (COPY, staging table, INSERT)
//! against each list, and `ingest/tests/columns.rs` checks the list against the tables in the
//! database.

use crate::map::Rejected;
use crate::map::logs::LogRow;
use crate::map::metrics::MetricRow;
use crate::map::scores::ScoreRow;
use crate::map::spans::SpanRow;
use bytes::BytesMut;
use rust_decimal::Decimal;
use rust_decimal::prelude::FromPrimitive;
use serde_json::Value;
use std::future::Future;
use std::pin::Pin;
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use tokio_postgres::binary_copy::BinaryCopyInWriter;
use tokio_postgres::types::{IsNull, Json, ToSql, Type, to_sql_checked};

/// The SQL that stores one kind of row (files in `sql/ingest/`).
pub struct TableSql {
    /// Binary COPY into the table; None for rows that always take the staging table (scores,
    /// which a retried request repeats).
    pub copy: Option<&'static str>,
    /// Run once per connection: the session's staging table (the row's columns, same order).
    pub staging: &'static str,
    /// Binary COPY into the staging table.
    pub copy_staging: &'static str,
    /// Empties the staging table (between two tries in one transaction).
    pub empty_staging: &'static str,
    /// Staging -> table, skipping rows already stored.
    pub insert: &'static str,
}

/// A row the writer stores: its table's SQL, its columns, its binary COPY encoding, and how a
/// rejection names it.
pub trait Row: Sync {
    const SQL: TableSql;
    /// The columns `SQL.copy` names, in order.
    const COLUMN_NAMES: &'static [&'static str];
    /// Their COPY types, in the same order.
    const COLUMN_TYPES: &'static [Type];
    /// Writes the row's values, in `COLUMN_NAMES`' order, to a binary COPY.
    fn copy<'a>(
        &'a self,
        writer: Pin<&'a mut BinaryCopyInWriter>,
    ) -> impl Future<Output = Result<(), tokio_postgres::Error>> + Send + 'a;
    /// Names the row in a rejection, e.g. "span 00f0.. of trace 4bf9..".
    fn describe(&self) -> String;
    /// The trace the row is part of (spans), for recomputing it where no trigger does (Citus).
    fn trace(&self) -> Option<TraceOf> {
        None
    }
    /// The model response the row carries (a span's `gen_ai.response.id`): scores that name it
    /// are linked to the row once it is stored.
    fn response(&self) -> Option<ResponseOf<'_>> {
        None
    }
    /// A rejection of this row for `why`.
    fn rejected(&self, why: &str) -> Rejected {
        Rejected {
            reason: format!("{}: {why}", self.describe()),
        }
    }
}

/// Implements `Row` from one list of columns: `name: COPY_TYPE = value,` where `value` is an
/// expression over the row (bound to the name given in `columns(...)`).
macro_rules! row_columns {
    (
        impl Row for $row_type:ty {
            sql = $sql:expr;
            describe($described:ident) = $describe:expr;
            $(trace($traced:ident) = $trace:expr;)?
            $(response($responding:ident) = $response:expr;)?
            columns($row:ident) = { $($name:ident: $ty:ident = $value:expr,)+ }
        }
    ) => {
        impl Row for $row_type {
            const SQL: TableSql = $sql;
            const COLUMN_NAMES: &'static [&'static str] = &[$(stringify!($name)),+];
            const COLUMN_TYPES: &'static [Type] = &[$(Type::$ty),+];

            async fn copy<'a>(
                &'a self,
                writer: Pin<&'a mut BinaryCopyInWriter>,
            ) -> Result<(), tokio_postgres::Error> {
                let $row = self;
                writer.write(&[$(&$value),+]).await
            }

            fn describe(&self) -> String {
                let $described = self;
                $describe
            }

            $(fn trace(&self) -> Option<TraceOf> {
                let $traced = self;
                Some($trace)
            })?

            $(fn response(&self) -> Option<ResponseOf<'_>> {
                let $responding = self;
                $response
            })?
        }
    };
}

/// Which trace a row is part of: its id, project, and when the row starts (microseconds since the
/// Unix epoch, PostgreSQL's precision).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TraceOf {
    pub id: [u8; 16],
    pub project: i32,
    pub start_micros: i64,
}

/// The model response a stored row carries, with where the row is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ResponseOf<'a> {
    pub trace_id: [u8; 16],
    pub project: i32,
    pub response_id: &'a str,
}

row_columns! {
    impl Row for SpanRow {
        sql = TableSql {
            copy: Some(include_str!("../../../sql/ingest/copy_spans.sql")),
            staging: include_str!("../../../sql/ingest/staging.sql"),
            copy_staging: include_str!("../../../sql/ingest/copy_staging.sql"),
            empty_staging: include_str!("../../../sql/ingest/empty_staging.sql"),
            insert: include_str!("../../../sql/ingest/insert_spans.sql"),
        };
        describe(span) = format!("span {} of trace {}", hex(&span.span_id), hex(&span.trace_id));
        trace(span) = TraceOf {
            id: span.trace_id,
            project: span.project_id,
            start_micros: (span.start_time_unix_nano / 1000) as i64,
        };
        response(span) = span.response_id.as_deref().map(|response_id| ResponseOf {
            trace_id: span.trace_id,
            project: span.project_id,
            response_id,
        });
        columns(row) = {
            trace_id: UUID = Uuid(&row.trace_id),
            project_id: INT4 = row.project_id,
            span_id: MACADDR8 = Macaddr8(&row.span_id),
            parent_span_id: MACADDR8 = row.parent_span_id.as_ref().map(Macaddr8),
            start_time: TIMESTAMPTZ = timestamp(row.start_time_unix_nano),
            end_time: TIMESTAMPTZ = timestamp(row.end_time_unix_nano),
            name: TEXT = row.name,
            span_kind: TEXT = row.span_kind,
            span_type: TEXT = row.span_type,
            status_code: TEXT = row.status_code,
            status_message: TEXT = row.status_message,
            service_name: TEXT = row.service_name.as_deref(),
            scope_name: TEXT = row.scope_name.as_deref(),
            scope_version: TEXT = row.scope_version.as_deref(),
            model: TEXT = row.model,
            provider: TEXT = row.provider,
            input_tokens: INT8 = row.input_tokens,
            output_tokens: INT8 = row.output_tokens,
            cache_read_tokens: INT8 = row.cache_read_tokens,
            cache_write_tokens: INT8 = row.cache_write_tokens,
            reasoning_tokens: INT8 = row.reasoning_tokens,
            cost_usd: NUMERIC = row.cost_usd.and_then(cost_as_numeric),
            tool_name: TEXT = row.tool_name,
            agent_name: TEXT = row.agent_name,
            agent_id: TEXT = row.agent_id,
            session_id: TEXT = row.session_id,
            user_id: TEXT = row.user_id,
            run_id: TEXT = row.run_id,
            team_id: TEXT = row.team_id,
            workflow_id: TEXT = row.workflow_id,
            correlation_id: TEXT = row.correlation_id,
            input: TEXT = row.input,
            output: TEXT = row.output,
            attributes: JSONB = Jsonb(row.attributes.as_str()),
            resource_attributes: JSONB = Jsonb(row.resource_attributes.as_str()),
            events: JSONB = Jsonb(row.events.as_str()),
            links: JSONB = Jsonb(row.links.as_str()),
        }
    }
}

row_columns! {
    impl Row for LogRow {
        sql = TableSql {
            copy: Some(include_str!("../../../sql/ingest/copy_logs.sql")),
            staging: include_str!("../../../sql/ingest/staging_logs.sql"),
            copy_staging: include_str!("../../../sql/ingest/copy_staging_logs.sql"),
            empty_staging: include_str!("../../../sql/ingest/empty_staging_logs.sql"),
            insert: include_str!("../../../sql/ingest/insert_logs.sql"),
        };
        describe(log) = format!("log record {} at {} ns", hex(&log.record_key), log.time_unix_nano);
        columns(row) = {
            record_key: UUID = Uuid(&row.record_key),
            project_id: INT4 = row.project_id,
            time: TIMESTAMPTZ = timestamp(row.time_unix_nano),
            observed_time: TIMESTAMPTZ = row.observed_time_unix_nano.map(timestamp),
            trace_id: UUID = row.trace_id.as_ref().map(Uuid),
            span_id: MACADDR8 = row.span_id.as_ref().map(Macaddr8),
            event_name: TEXT = row.event_name,
            severity_number: INT2 = row.severity_number,
            severity_text: TEXT = row.severity_text,
            body: TEXT = row.body,
            service_name: TEXT = row.service_name,
            scope_name: TEXT = row.scope_name,
            scope_version: TEXT = row.scope_version,
            session_id: TEXT = row.session_id,
            user_id: TEXT = row.user_id,
            model: TEXT = row.model,
            input_tokens: INT8 = row.input_tokens,
            output_tokens: INT8 = row.output_tokens,
            cache_read_tokens: INT8 = row.cache_read_tokens,
            cache_write_tokens: INT8 = row.cache_write_tokens,
            reasoning_tokens: INT8 = row.reasoning_tokens,
            cost_usd: NUMERIC = row.cost_usd.and_then(cost_as_numeric),
            tool_name: TEXT = row.tool_name,
            duration_ms: FLOAT8 = row.duration_ms,
            attributes: JSONB = json(&row.attributes),
            resource_attributes: JSONB = json(&row.resource_attributes),
        }
    }
}

row_columns! {
    impl Row for MetricRow {
        sql = TableSql {
            copy: Some(include_str!("../../../sql/ingest/copy_metrics.sql")),
            staging: include_str!("../../../sql/ingest/staging_metrics.sql"),
            copy_staging: include_str!("../../../sql/ingest/copy_staging_metrics.sql"),
            empty_staging: include_str!("../../../sql/ingest/empty_staging_metrics.sql"),
            insert: include_str!("../../../sql/ingest/insert_metrics.sql"),
        };
        describe(point) = format!("data point of metric {:?} at {} ns", point.name, point.time_unix_nano);
        columns(row) = {
            series_key: UUID = Uuid(&row.series_key),
            project_id: INT4 = row.project_id,
            name: TEXT = row.name,
            kind: TEXT = row.kind,
            temporality: TEXT = row.temporality,
            is_monotonic: BOOL = row.is_monotonic,
            start_time: TIMESTAMPTZ = row.start_time_unix_nano.map(timestamp),
            time: TIMESTAMPTZ = timestamp(row.time_unix_nano),
            value: FLOAT8 = row.value,
            count: INT8 = row.count,
            sum: FLOAT8 = row.sum,
            min: FLOAT8 = row.min,
            max: FLOAT8 = row.max,
            bucket_bounds: FLOAT8_ARRAY = row.bucket_bounds,
            bucket_counts: INT8_ARRAY = row.bucket_counts,
            exponential_buckets: JSONB = row.exponential_buckets.as_ref().map(json),
            quantiles: JSONB = row.quantiles.as_ref().map(json),
            unit: TEXT = row.unit,
            description: TEXT = row.description,
            service_name: TEXT = row.service_name,
            scope_name: TEXT = row.scope_name,
            scope_version: TEXT = row.scope_version,
            session_id: TEXT = row.session_id,
            model: TEXT = row.model,
            token_type: TEXT = row.token_type,
            attributes: JSONB = json(&row.attributes),
            resource_attributes: JSONB = json(&row.resource_attributes),
        }
    }
}

/// A score of a known run, as agent_scores takes it: a `ScoreRow` with a trace.
#[derive(Debug)]
pub struct TracedScore<'a> {
    pub trace_id: [u8; 16],
    pub score: &'a ScoreRow,
}

/// A score known only by the response it judges, as agent_scores_pending takes it.
#[derive(Debug)]
pub struct PendingScore<'a> {
    pub response_id: &'a str,
    pub score: &'a ScoreRow,
}

row_columns! {
    impl Row for TracedScore<'_> {
        sql = TableSql {
            copy: None,
            staging: include_str!("../../../sql/ingest/staging_scores.sql"),
            copy_staging: include_str!("../../../sql/ingest/copy_staging_scores.sql"),
            empty_staging: include_str!("../../../sql/ingest/empty_staging_scores.sql"),
            insert: include_str!("../../../sql/ingest/insert_scores.sql"),
        };
        describe(traced) = format!("score {:?} of trace {}", traced.score.name, hex(&traced.trace_id));
        columns(row) = {
            score_key: UUID = Uuid(&row.score.score_key),
            project_id: INT4 = row.score.project_id,
            trace_id: UUID = Uuid(&row.trace_id),
            span_id: MACADDR8 = row.score.span_id.as_ref().map(Macaddr8),
            name: TEXT = row.score.name,
            value: FLOAT8 = row.score.value,
            label: TEXT = row.score.label,
            explanation: TEXT = row.score.explanation,
            response_id: TEXT = row.score.response_id,
            scored_at: TIMESTAMPTZ = timestamp(row.score.scored_at_unix_nano),
            attributes: JSONB = json(&row.score.attributes),
        }
    }
}

row_columns! {
    impl Row for PendingScore<'_> {
        sql = TableSql {
            copy: None,
            staging: include_str!("../../../sql/ingest/staging_scores_pending.sql"),
            copy_staging: include_str!("../../../sql/ingest/copy_staging_scores_pending.sql"),
            empty_staging: include_str!("../../../sql/ingest/empty_staging_scores_pending.sql"),
            insert: include_str!("../../../sql/ingest/insert_scores_pending.sql"),
        };
        describe(pending) = format!("score {:?} of response {:?}", pending.score.name, pending.response_id);
        columns(row) = {
            score_key: UUID = Uuid(&row.score.score_key),
            project_id: INT4 = row.score.project_id,
            name: TEXT = row.score.name,
            value: FLOAT8 = row.score.value,
            label: TEXT = row.score.label,
            explanation: TEXT = row.score.explanation,
            response_id: TEXT = row.response_id,
            scored_at: TIMESTAMPTZ = timestamp(row.score.scored_at_unix_nano),
            attributes: JSONB = json(&row.score.attributes),
        }
    }
}

fn timestamp(unix_nano: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_nanos(unix_nano)
}

fn json(value: &Value) -> Json<&Value> {
    Json(value)
}

/// A reported cost as the numeric stored: the shortest decimal that reads back as the same double
/// (0.003, not 0.00299999999999999989); None beyond numeric's 28 digits.
pub fn cost_as_numeric(cost: f64) -> Option<Decimal> {
    cost.to_string()
        .parse()
        .ok()
        .or_else(|| Decimal::from_f64(cost))
}

pub(super) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// JSON text (`map::json`) for a jsonb column: binary COPY's jsonb is a version byte, 1, then the
/// text, copied straight into the COPY's buffer.
#[derive(Debug)]
struct Jsonb<'a>(&'a str);

impl ToSql for Jsonb<'_> {
    fn to_sql(
        &self,
        _: &Type,
        out: &mut BytesMut,
    ) -> Result<IsNull, Box<dyn std::error::Error + Sync + Send>> {
        out.reserve(1 + self.0.len());
        out.extend_from_slice(&[1]);
        out.extend_from_slice(self.0.as_bytes());
        Ok(IsNull::No)
    }

    fn accepts(ty: &Type) -> bool {
        *ty == Type::JSONB
    }

    to_sql_checked!();
}

/// 16 id bytes, for a uuid or an agent_trace.trace_id column: both take the raw bytes.
#[derive(Debug)]
struct Uuid<'a>(&'a [u8; 16]);

/// 8 id bytes, for a macaddr8 or an agent_trace.span_id column: both take the raw bytes.
#[derive(Debug)]
struct Macaddr8<'a>(&'a [u8; 8]);

impl ToSql for Uuid<'_> {
    fn to_sql(
        &self,
        _: &Type,
        out: &mut BytesMut,
    ) -> Result<IsNull, Box<dyn std::error::Error + Sync + Send>> {
        out.extend_from_slice(self.0);
        Ok(IsNull::No)
    }

    fn accepts(ty: &Type) -> bool {
        *ty == Type::UUID || ty.name() == "trace_id"
    }

    to_sql_checked!();
}

impl ToSql for Macaddr8<'_> {
    fn to_sql(
        &self,
        _: &Type,
        out: &mut BytesMut,
    ) -> Result<IsNull, Box<dyn std::error::Error + Sync + Send>> {
        out.extend_from_slice(self.0);
        Ok(IsNull::No)
    }

    fn accepts(ty: &Type) -> bool {
        *ty == Type::MACADDR8 || ty.name() == "span_id"
    }

    to_sql_checked!();
}

/// The binary-compatible id type of the extension a COPY type also writes, if any: the ingest
/// stages ids as uuid / macaddr8, and the tables hold them as agent_trace.trace_id / span_id.
pub fn id_type_for(ty: &Type) -> Option<&'static str> {
    match *ty {
        Type::UUID => Some("trace_id"),
        Type::MACADDR8 => Some("span_id"),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The names in the first parenthesised list after `prefix`, e.g. a COPY's or INSERT's columns.
    fn column_list(sql: &str, prefix: &str) -> Vec<String> {
        let start = sql
            .find(prefix)
            .unwrap_or_else(|| panic!("{prefix:?} in {sql}"))
            + prefix.len();
        let open = start + sql[start..].find('(').expect("(");
        let close = open + sql[open..].find(')').expect(")");
        sql[open + 1..close]
            .split(',')
            .map(|name| name.trim().to_string())
            .collect()
    }

    /// The `s.column` names of the INSERT's SELECT list (between DISTINCT ON's list and FROM).
    fn select_list(insert: &str) -> Vec<String> {
        let distinct = insert
            .find("SELECT DISTINCT ON")
            .expect("SELECT DISTINCT ON");
        let list_start = distinct + insert[distinct..].find(')').expect(")") + 1;
        let list_end = list_start + insert[list_start..].find("FROM").expect("FROM");
        insert[list_start..list_end]
            .split(',')
            .map(|item| {
                let item = item.trim();
                let column = item.strip_prefix("s.").unwrap_or(item);
                column.split("::").next().unwrap_or(column).to_string()
            })
            .collect()
    }

    /// The staging table's (column, SQL type) pairs, NOT NULL dropped.
    fn staging_columns(staging: &str) -> Vec<(String, String)> {
        let open = staging
            .find("CREATE TEMP TABLE")
            .expect("CREATE TEMP TABLE");
        let body_start = open + staging[open..].find('(').expect("(") + 1;
        let body_end = staging.rfind(')').expect(")");
        staging[body_start..body_end]
            .lines()
            .map(|line| line.trim().trim_end_matches(','))
            .filter(|line| !line.is_empty())
            .map(|line| {
                let (name, ty) = line.split_once(char::is_whitespace).expect("name type");
                let ty = ty.trim().trim_end_matches("NOT NULL").trim();
                (name.to_string(), ty.to_string())
            })
            .collect()
    }

    /// How a staging table spells a COPY type.
    fn sql_type(ty: &Type) -> &'static str {
        match *ty {
            Type::UUID => "uuid",
            Type::MACADDR8 => "macaddr8",
            Type::TIMESTAMPTZ => "timestamptz",
            Type::TEXT => "text",
            Type::INT2 => "smallint",
            Type::INT4 => "integer",
            Type::INT8 => "bigint",
            Type::NUMERIC => "numeric",
            Type::FLOAT8 => "double precision",
            Type::BOOL => "boolean",
            Type::JSONB => "jsonb",
            Type::FLOAT8_ARRAY => "double precision[]",
            Type::INT8_ARRAY => "bigint[]",
            _ => panic!("no staging spelling for {ty}"),
        }
    }

    fn check<R: Row>(table: &str) {
        let names: Vec<String> = R::COLUMN_NAMES.iter().map(|n| n.to_string()).collect();
        assert_eq!(R::COLUMN_NAMES.len(), R::COLUMN_TYPES.len());
        if let Some(copy) = R::SQL.copy {
            assert_eq!(
                column_list(copy, &format!("COPY agent_trace.{table}")),
                names,
                "{table}: the COPY's columns"
            );
        }
        assert_eq!(
            column_list(R::SQL.insert, &format!("INSERT INTO agent_trace.{table}")),
            names,
            "{table}: the INSERT's columns"
        );
        assert_eq!(
            select_list(R::SQL.insert),
            names,
            "{table}: the INSERT's SELECT list"
        );
        let expected: Vec<(String, String)> = R::COLUMN_NAMES
            .iter()
            .zip(R::COLUMN_TYPES)
            .map(|(name, ty)| (name.to_string(), sql_type(ty).to_string()))
            .collect();
        assert_eq!(
            staging_columns(R::SQL.staging),
            expected,
            "{table}: the staging table's columns and types"
        );
        // The staging COPY names no columns: it relies on the staging table's order, checked
        // above; it and the TRUNCATE must be about that table.
        let created = R::SQL
            .staging
            .split_whitespace()
            .skip_while(|word| *word != "EXISTS")
            .nth(1)
            .expect("CREATE TEMP TABLE IF NOT EXISTS name");
        for sql in [R::SQL.copy_staging, R::SQL.empty_staging] {
            let named = sql
                .split("pg_temp.")
                .nth(1)
                .and_then(|rest| rest.split_whitespace().next());
            assert_eq!(named, Some(created), "{table}: {sql}");
        }
    }

    #[test]
    fn sql_files_follow_the_column_lists() {
        check::<SpanRow>("agent_spans");
        check::<LogRow>("agent_logs");
        check::<MetricRow>("agent_metrics");
        check::<TracedScore>("agent_scores");
        check::<PendingScore>("agent_scores_pending");
    }

    #[test]
    fn the_checks_catch_two_swapped_columns() {
        let copy = SpanRow::SQL.copy.expect("spans are copied");
        let swapped = copy.replace("service_name, scope_name", "scope_name, service_name");
        assert_ne!(swapped, copy, "the test edits the COPY");
        let names: Vec<String> = SpanRow::COLUMN_NAMES
            .iter()
            .map(|n| n.to_string())
            .collect();
        assert_ne!(column_list(&swapped, "COPY agent_trace.agent_spans"), names);
    }
}
