//! The writer's column lists (ingest/src/write/columns.rs) against the database: every column the
//! binary COPY names exists in its table with the type the COPY sends (or the extension's id type
//! with the same bytes), and the session's staging tables have exactly those columns and types.
//! Binary COPY sends no names, so a list that drifted from the table would store wrong data.
//! And the JSON text the mapping writes for spans (map/json.rs) means to PostgreSQL's jsonb what
//! the JSON objects it built before meant, for every captured request and hostile strings.

mod common;

use common::TestDb;
use ingest::map::logs::LogRow;
use ingest::map::metrics::MetricRow;
use ingest::map::spans::{self, SpanRow};
use ingest::write::{PendingScore, Row, TracedScore, Writer, id_type_for};
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::any_value::Value as Any;
use opentelemetry_proto::tonic::common::v1::{AnyValue, ArrayValue, KeyValue, KeyValueList};
use opentelemetry_proto::tonic::resource::v1::Resource;
use opentelemetry_proto::tonic::trace::v1::span::{Event, Link};
use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Span};

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

// ---- the JSON columns' text (map/json.rs) against PostgreSQL's jsonb ----

/// The rows of `written` whose text PostgreSQL's jsonb reads differently from the text of `expected`
/// (or refuses): (index, written, expected).
async fn jsonb_differences(
    client: &tokio_postgres::Client,
    written: &[String],
    expected: &[String],
) -> Vec<(i64, String, String)> {
    let sql = "SELECT i, w, e
                 FROM unnest($1::text[], $2::text[]) WITH ORDINALITY AS t(w, e, i)
                WHERE w::jsonb IS DISTINCT FROM e::jsonb";
    client
        .query(sql, &[&written, &expected])
        .await
        .unwrap_or_else(|e| panic!("jsonb: {}", ingest::postgres::describe(&e)))
        .iter()
        .map(|row| (row.get(0), row.get(1), row.get(2)))
        .collect()
}

/// Each span's four JSON columns as written (`SpanRow`) and as the `serde_json::Value`s of the
/// mapping before (`spans::value_columns`), serialised by serde_json.
fn written_and_expected(
    request: &ExportTraceServiceRequest,
) -> (Vec<SpanRow>, Vec<String>, Vec<String>) {
    let rows = spans::map_request(request).rows;
    let expected: Vec<String> = spans::value_columns(request)
        .iter()
        .flatten()
        .map(|value| value.to_string())
        .collect();
    let written: Vec<String> = rows
        .iter()
        .flat_map(|row| {
            [
                &row.attributes,
                &row.resource_attributes,
                &row.events,
                &row.links,
            ]
        })
        .map(|text| text.as_str().to_string())
        .collect();
    assert_eq!(written.len(), expected.len(), "every span mapped");
    (rows, written, expected)
}

fn kv(key: &str, value: Any) -> KeyValue {
    KeyValue {
        key: key.into(),
        value: Some(AnyValue { value: Some(value) }),
        ..Default::default()
    }
}

/// Strings a client may send that JSON must escape, or that PostgreSQL's jsonb refuses or reads
/// as escapes if they are not: every control character, NUL (jsonb refuses `\u0000`: it becomes
/// U+FFFD), quotes and backslashes, text that looks like escapes (a lone surrogate's `\ud800`),
/// and characters beyond ASCII. Bytes values carry what strings cannot (a lone surrogate's UTF-16).
fn hostile_request() -> ExportTraceServiceRequest {
    let controls: String = (0u8..0x20).map(char::from).chain(['\u{7f}']).collect();
    let strings = [
        controls.clone(),
        "\0".to_string(),
        "a\0b\0".to_string(),
        "\"quoted\" \\back\\slash\\".to_string(),
        "\\u0000 \\ud800 \\udc00 \\n \\\"".to_string(),
        "\\".to_string(),
        "é ü 中文 😀 \u{2028}\u{2029} \u{fffd} \u{feff}".to_string(),
        String::new(),
    ];
    let mut attributes: Vec<KeyValue> = strings
        .iter()
        .enumerate()
        .flat_map(|(i, s)| {
            [
                kv(&format!("value.{i}"), Any::StringValue(s.clone())),
                kv(&format!("{s}.key.{i}"), Any::IntValue(i as i64)),
            ]
        })
        .collect();
    attributes.extend([
        kv(
            "bytes",
            Any::BytesValue(vec![0xd8, 0x00, 0xdc, 0x00, 0xff, 0]),
        ),
        kv("nan", Any::DoubleValue(f64::NAN)),
        kv("inf", Any::DoubleValue(f64::INFINITY)),
        kv("-inf", Any::DoubleValue(f64::NEG_INFINITY)),
        kv("tiny", Any::DoubleValue(5e-324)),
        kv("huge", Any::DoubleValue(-1.7976931348623157e308)),
        kv("third", Any::DoubleValue(1.0 / 3.0)),
        kv("int.min", Any::IntValue(i64::MIN)),
        kv("int.max", Any::IntValue(i64::MAX)),
        kv("dup\0", Any::StringValue("first".into())),
        kv("dup\u{fffd}", Any::StringValue("last wins".into())),
        kv(
            "nested",
            Any::KvlistValue(KeyValueList {
                values: vec![
                    kv(&controls, Any::StringValue(controls.clone())),
                    kv(
                        "list",
                        Any::ArrayValue(ArrayValue {
                            values: vec![
                                AnyValue {
                                    value: Some(Any::StringValue("\0\"\\".into())),
                                },
                                AnyValue { value: None },
                                AnyValue {
                                    value: Some(Any::BoolValue(false)),
                                },
                            ],
                        }),
                    ),
                ],
            }),
        ),
        KeyValue {
            key: "no value".into(),
            ..Default::default()
        },
    ]);
    let span = Span {
        trace_id: vec![7; 16],
        span_id: vec![8; 8],
        name: format!("hostile {controls}"),
        start_time_unix_nano: 1_700_000_000_123_456_789,
        end_time_unix_nano: 1_700_000_001_000_000_000,
        attributes: attributes.clone(),
        events: vec![Event {
            name: controls.clone(),
            time_unix_nano: 1_700_000_000_500_000_000,
            attributes: attributes.clone(),
            ..Default::default()
        }],
        links: vec![Link {
            trace_id: vec![0xab; 16],
            span_id: vec![0xcd; 8],
            attributes: attributes.clone(),
            ..Default::default()
        }],
        ..Default::default()
    };
    ExportTraceServiceRequest {
        resource_spans: vec![ResourceSpans {
            resource: Some(Resource {
                attributes,
                ..Default::default()
            }),
            scope_spans: vec![ScopeSpans {
                spans: vec![span],
                ..Default::default()
            }],
            ..Default::default()
        }],
    }
}

/// The JSON text the mapping writes for each span is what PostgreSQL's jsonb read from the JSON
/// objects it built before, for every captured request of a real client and for hostile strings;
/// and the hostile span, written by binary COPY, is stored as that.
#[tokio::test(flavor = "multi_thread")]
async fn json_columns_read_as_the_json_objects_did() {
    let db = TestDb::start("columns-json");
    let client = db.client().await;
    let fixtures = ingest::fixtures::load("traces");
    assert!(fixtures.len() >= 10, "the captured requests are found");
    for fixture in fixtures {
        let (rows, written, expected) = written_and_expected(&fixture.decode());
        assert!(!rows.is_empty(), "{}", fixture.name);
        let differences = jsonb_differences(&client, &written, &expected).await;
        assert!(differences.is_empty(), "{}: {differences:?}", fixture.name);
    }

    let (rows, written, expected) = written_and_expected(&hostile_request());
    // The check can fail: a text with a NUL escape, or one value changed, reads differently.
    let broken = vec![written[0].replacen("\\u0001", "\\u0002", 1)];
    assert_eq!(
        jsonb_differences(&client, &broken, &expected[..1])
            .await
            .len(),
        1
    );
    let differences = jsonb_differences(&client, &written, &expected).await;
    assert!(differences.is_empty(), "hostile: {differences:?}");

    let writer = Writer::connect(&common::writer_config(&db))
        .await
        .expect("writer");
    let stored = writer.write(&rows).await.expect("write");
    assert_eq!(stored.inserted, 1, "{:?}", stored.rejected);
    let sql = "SELECT count(*) FROM agent_trace.agent_spans
                WHERE attributes = $1::text::jsonb AND resource_attributes = $2::text::jsonb
                  AND events = $3::text::jsonb AND links = $4::text::jsonb";
    let same: i64 = client
        .query_one(
            sql,
            &[&expected[0], &expected[1], &expected[2], &expected[3]],
        )
        .await
        .expect("stored columns")
        .get(0);
    assert_eq!(
        same, 1,
        "the hostile span is stored as the JSON objects read"
    );
}
