//! The writer's column lists (ingest/src/write/columns.rs) against the database: every column the
//! binary COPY names exists in its table with the type the COPY sends (or the extension's id type
//! with the same bytes), and the session's staging tables have exactly those columns and types.
//! Binary COPY sends no names, so a list that drifted from the table would store wrong data.

mod common;

use common::TestDb;
use ingest::map::logs::LogRow;
use ingest::map::metrics::MetricRow;
use ingest::map::spans::SpanRow;
use ingest::write::{PendingScore, Row, TracedScore, id_type_for};

/// (column, type oid, type name) of a table, in column order.
async fn columns_of(client: &tokio_postgres::Client, table: &str) -> Vec<(String, u32, String)> {
    let sql = "SELECT attname::text, atttypid::oid, atttypid::regtype::text
                 FROM pg_catalog.pg_attribute
                WHERE attrelid = $1::text::regclass AND attnum > 0 AND NOT attisdropped
                ORDER BY attnum";
    client
        .query(sql, &[&table])
        .await
        .unwrap_or_else(|e| panic!("{table}: {e}"))
        .iter()
        .map(|row| (row.get(0), row.get(1), row.get(2)))
        .collect()
}

async fn check<R: Row>(client: &tokio_postgres::Client, table: &str, staging: &str) {
    let table_columns = columns_of(client, table).await;
    for (name, ty) in R::COLUMN_NAMES.iter().zip(R::COLUMN_TYPES) {
        let (_, oid, type_name) = table_columns
            .iter()
            .find(|(column, ..)| column == name)
            .unwrap_or_else(|| panic!("{table} has no column {name}"));
        let same_bytes =
            id_type_for(ty).is_some_and(|id| type_name == &format!("agent_trace.{id}"));
        assert!(
            *oid == ty.oid() || same_bytes,
            "{table}.{name} is {type_name}, the COPY sends {ty}"
        );
    }
    let staging_columns: Vec<(String, u32)> = columns_of(client, staging)
        .await
        .into_iter()
        .map(|(name, oid, _)| (name, oid))
        .collect();
    let expected: Vec<(String, u32)> = R::COLUMN_NAMES
        .iter()
        .zip(R::COLUMN_TYPES)
        .map(|(name, ty)| (name.to_string(), ty.oid()))
        .collect();
    assert_eq!(staging_columns, expected, "{staging}");
}

#[tokio::test(flavor = "multi_thread")]
async fn column_lists_match_the_tables_and_staging_tables() {
    let db = TestDb::start("columns");
    let client = db.client().await;
    for staging in [
        SpanRow::SQL.staging,
        LogRow::SQL.staging,
        MetricRow::SQL.staging,
        TracedScore::SQL.staging,
        PendingScore::SQL.staging,
    ] {
        client.batch_execute(staging).await.expect("staging table");
    }
    check::<SpanRow>(
        &client,
        "agent_trace.agent_spans",
        "pg_temp.agent_trace_staging",
    )
    .await;
    check::<LogRow>(
        &client,
        "agent_trace.agent_logs",
        "pg_temp.agent_trace_staging_logs",
    )
    .await;
    check::<MetricRow>(
        &client,
        "agent_trace.agent_metrics",
        "pg_temp.agent_trace_staging_metrics",
    )
    .await;
    check::<TracedScore>(
        &client,
        "agent_trace.agent_scores",
        "pg_temp.agent_trace_staging_scores",
    )
    .await;
    check::<PendingScore>(
        &client,
        "agent_trace.agent_scores_pending",
        "pg_temp.agent_trace_staging_scores_pending",
    )
    .await;
}
