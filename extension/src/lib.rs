//! agent_trace: a trace store for AI agents inside PostgreSQL.
//!
//! Almost everything the extension creates is plain SQL in `extension/sql/*.sql`, included below in
//! install order. Rust supplies only what SQL cannot: the text and binary input/output functions of
//! the `trace_id` and `span_id` types (`ids.rs`), and the trace functions that need an algorithm
//! (`api.rs`, over the pure `tree.rs` and `diff.rs`), and the per-statement memory of the grants
//! that the row-level security policies ask on Citus (`grants.rs`).

mod api;
mod diff;
mod grants;
mod ids;
mod interrupts;
mod tree;

::pgrx::pg_module_magic!(name, version);

/// Runs when PostgreSQL loads the library: the settings (`agent_trace.*`), so `SET` and
/// postgresql.conf can change them.
#[pgrx::pg_guard]
pub extern "C-unwind" fn _PG_init() {
    api::define_settings();
    grants::forget_answers_at_transaction_end();
    // Names under agent_trace. that are not ours are typos: refuse them.
    unsafe { pgrx::pg_sys::MarkGUCPrefixReserved(c"agent_trace".as_ptr()) };
}

// The install script is these files, in this order, with api.rs's Rust functions (trace_tree_json,
// critical_path, diff_traces) between sessions and functions. Each names the one before it in
// `requires`, the Rust functions too (in api.rs), so only one order is possible and every build
// writes the same script: pgrx would otherwise order what does not depend on each other differently
// from build to build. The one block that names nothing is pgrx's `CREATE SCHEMA IF NOT EXISTS` for
// api.rs's #[pg_schema] module, which pgrx writes right before the functions in it (after sessions).
// scripts/test-upgrade.sh compares the result with the frozen release script line by line.
::pgrx::extension_sql_file!("../sql/ids.sql", name = "ids", bootstrap);
::pgrx::extension_sql_file!("../sql/roles.sql", name = "roles", requires = ["ids"]);
::pgrx::extension_sql_file!(
    "../sql/projects.sql",
    name = "projects",
    requires = ["roles"]
);
::pgrx::extension_sql_file!(
    "../sql/tables.sql",
    name = "tables",
    requires = ["projects"]
);
::pgrx::extension_sql_file!("../sql/rollup.sql", name = "rollup", requires = ["tables"]);
::pgrx::extension_sql_file!(
    "../sql/signals.sql",
    name = "signals",
    requires = ["rollup"]
);
::pgrx::extension_sql_file!("../sql/scores.sql", name = "scores", requires = ["signals"]);
::pgrx::extension_sql_file!("../sql/prices.sql", name = "prices", requires = ["scores"]);
// The built-in prices: rows, generated from sql/prices/litellm-snapshot.json by ingest's
// prices::builtin_prices_sql (whose test fails while this file differs from what it writes).
::pgrx::extension_sql_file!(
    "../sql/prices_snapshot.sql",
    name = "prices_snapshot",
    requires = ["prices"]
);
::pgrx::extension_sql_file!(
    "../sql/partitions.sql",
    name = "partitions",
    requires = ["prices_snapshot"]
);
::pgrx::extension_sql_file!(
    "../sql/sessions.sql",
    name = "sessions",
    requires = ["partitions"]
);
::pgrx::extension_sql_file!(
    "../sql/functions.sql",
    name = "functions",
    requires = [
        "tables",
        api::agent_trace::trace_tree_json,
        api::agent_trace::diff_traces,
        api::agent_trace::critical_path
    ]
);
::pgrx::extension_sql_file!("../sql/agno.sql", name = "agno", requires = ["functions"]);
::pgrx::extension_sql_file!("../sql/erase.sql", name = "erase", requires = ["agno"]);
::pgrx::extension_sql_file!("../sql/citus.sql", name = "citus", requires = ["erase"]);
::pgrx::extension_sql_file!("../sql/access.sql", name = "access", finalize);

#[cfg(test)]
pub mod pg_test {
    pub fn setup(_options: Vec<&str>) {}

    pub fn postgresql_conf_options() -> Vec<&'static str> {
        vec![]
    }
}

#[cfg(any(test, feature = "pg_test"))]
#[pgrx::pg_schema]
mod tests {
    use pgrx::prelude::*;

    #[pg_test]
    fn ids_read_either_case_and_print_lower_case_hex() {
        let trace = Spi::get_one::<String>(
            "SELECT '4BF92F3577B34DA6A3CE929D0E0E4736'::agent_trace.trace_id::text",
        );
        assert_eq!(
            trace,
            Ok(Some("4bf92f3577b34da6a3ce929d0e0e4736".to_string()))
        );
        let span = Spi::get_one::<String>("SELECT '00F067AA0BA902B7'::agent_trace.span_id::text");
        assert_eq!(span, Ok(Some("00f067aa0ba902b7".to_string())));
    }

    #[pg_test]
    fn ids_compare_in_hex_order() {
        let ordered = Spi::get_one::<bool>(
            "SELECT '0f00000000000000'::agent_trace.span_id < 'f000000000000000'::agent_trace.span_id
                AND '0fffffffffffffffffffffffffffffff'::agent_trace.trace_id < 'f0000000000000000000000000000000'::agent_trace.trace_id",
        );
        assert_eq!(ordered, Ok(Some(true)));
    }

    #[pg_test(
        error = "invalid input syntax for type span_id: \"00f067aa0ba902\" has 14 characters, expected 16 hex digits"
    )]
    fn short_span_id_is_an_error() {
        let _ = Spi::get_one::<String>("SELECT '00f067aa0ba902'::agent_trace.span_id::text");
    }

    #[pg_test(
        error = "invalid trace_id \"00000000000000000000000000000000\": the all-zero id means \"no id\" in OpenTelemetry"
    )]
    fn zero_trace_id_is_an_error() {
        let _ = Spi::get_one::<String>(
            "SELECT '00000000000000000000000000000000'::agent_trace.trace_id::text",
        );
    }
}
