#!/usr/bin/env python3
"""Drafts extension/sql/agent_trace--OLD--NEW.sql from NEW's install script.

An upgrade has to give exactly what a fresh NEW install has. What is new or rewritten whole (tables,
functions) is taken from NEW's install script, so it cannot drift from it; what changed inside an
existing object (a column, an index) is written out below by hand, per upgrade. The result is
committed; scripts/test-upgrade.sh proves it (upgraded == fresh, fact by fact).

NEW's install script is its frozen copy in tests/upgrade/ once released, else the one
scripts/install-extension.sh installed (into $PG_CONFIG's PostgreSQL, as for the other scripts).
Usage: python3 scripts/draft-upgrade-script.py 0.3.0 0.3.1
"""
import os
import re
import subprocess
import sys

MARKER = r"(?m)^-- extension/src/[a-z_]+\.rs:\d+\n"


def install_script(version):
    frozen = f"tests/upgrade/agent_trace--{version}.sql"
    if os.path.exists(frozen):
        return open(frozen).read()
    pg_config = os.environ.get("PG_CONFIG", "/usr/lib/postgresql/15/bin/pg_config")
    sharedir = subprocess.run([pg_config, "--sharedir"], capture_output=True, text=True,
                              check=True).stdout.strip()
    return open(f"{sharedir}/extension/agent_trace--{version}.sql").read()


class Script:
    """NEW's install script, split at pgrx's "-- extension/src/<file>.rs:<line>" markers."""

    def __init__(self, version):
        text = install_script(version)
        self.sections = re.split(r"(?m)^(?=-- extension/src/[a-z_]+\.rs:\d+$)", text)

    def find(self, predicate):
        found = [re.sub(MARKER, "", s) for s in self.sections if predicate(s)]
        if not found:
            sys.exit("section not found")
        return found

    def file(self, sql_file):
        """The section of a hand-written file, which its first comment line identifies."""
        first_line = open(f"extension/sql/{sql_file}").readline().rstrip("\n")
        (section,) = self.find(lambda s: first_line in s)
        return section

    def rust_function(self, name):
        (section,) = self.find(lambda s: f"-- agent_trace::api::agent_trace::{name}\n" in s)
        return section


def function_statement(text, start):
    """The CREATE FUNCTION of `text` that begins with `start`, to the end of its $$-quoted body."""
    begin = text.index(start)
    end = text.index("$$;\n", text.index("$$", begin) + 2)
    return text[begin:end + 4]


def comments(section):
    """Every COMMENT statement of a file's section: re-applied whole, so a reworded one cannot be
    forgotten."""
    return "\n".join(re.findall(r"(?ms)^COMMENT ON .*?';$", section)) + "\n"


def upgrade_0_1_0_to_0_2_0():
    new = Script("0.2.0")
    rollup = new.file("rollup.sql").replace("CREATE FUNCTION agent_trace._fold_inserted_spans()",
                                            "CREATE OR REPLACE FUNCTION agent_trace._fold_inserted_spans()")
    rollup = rollup[: rollup.index("CREATE TRIGGER")]  # the trigger exists already
    parts = [
        "-- agent_trace 0.1.0 -> 0.2.0: logs and metrics, prices and computed cost, sessions, and the SQL\n"
        "-- API over traces. Drafted by scripts/draft-upgrade-script.py from the 0.2.0 install script;\n"
        "-- scripts/test-upgrade.sh checks that upgrading gives exactly a fresh 0.2.0 install.\n",
        "\\echo Use \"ALTER EXTENSION agent_trace UPDATE TO '0.2.0'\" to load this file. \\quit\n",
        new.file("roles.sql"),
        "-- tables.sql: agent_traces gets its computed cost, as its last column (as in a fresh install),\n"
        "-- and the tables' COMMENTs as 0.2.0 words them.\n"
        "ALTER TABLE agent_trace.agent_traces ADD COLUMN computed_cost_usd numeric;\n"
        + comments(new.file("tables.sql")),
    ]
    for name in ["signals.sql", "prices.sql"]:
        parts.append(new.file(name))
    parts.append(rollup)
    parts.append(new.file("sessions.sql"))
    parts.extend(new.find(lambda s: "-- agent_trace::api::agent_trace::" in s))
    parts.append(new.file("functions.sql"))
    parts.append(new.file("access.sql"))
    return "\n".join(parts)


def upgrade_0_2_0_to_0_3_0():
    new = Script("0.3.0")
    rollup = new.file("rollup.sql")
    prices = new.file("prices.sql")
    functions = new.file("functions.sql")
    fold = function_statement(rollup, "CREATE FUNCTION agent_trace._fold_inserted_spans()")
    saturate = rollup[rollup.index("CREATE FUNCTION agent_trace._saturate_bigint"):rollup.index(fold)]
    cost_log = function_statement(prices, "CREATE FUNCTION agent_trace._cost_inserted_log()")
    diff_traces = new.rust_function("diff_traces")
    function_grants = functions[functions.index("REVOKE ALL ON FUNCTION\n    agent_trace.trace_tree("):]
    price_grants = prices[prices.index("GRANT SELECT ON agent_trace.model_prices, agent_trace.agent_span_costs"):]
    replace = lambda statement: statement.replace("CREATE FUNCTION", "CREATE OR REPLACE FUNCTION")
    return "\n".join([
        "-- agent_trace 0.2.0 -> 0.3.0: token totals that saturate instead of failing an insert, hash\n"
        "-- indexes on text (no btree entry limit), diff_traces bounded (its alignment column), least\n"
        "-- privilege (a writer that only inserts, triggers that write with the owner's rights, a usage\n"
        "-- reader role without content, every function's search_path pinned), AgentOS compatibility\n"
        "-- (enable_agno_compat).\n"
        "-- Drafted by scripts/draft-upgrade-script.py from the 0.3.0 install script;\n"
        "-- scripts/test-upgrade.sh checks that upgrading gives exactly a fresh 0.3.0 install.\n",
        "\\echo Use \"ALTER EXTENSION agent_trace UPDATE TO '0.3.0'\" to load this file. \\quit\n",
        new.file("roles.sql"),
        "-- Indexes on text columns: hash instead of btree (tables.sql, signals.sql, prices.sql).\n"
        "DROP INDEX agent_trace.agent_traces_session_idx, agent_trace.agent_traces_user_idx,\n"
        "    agent_trace.agent_traces_agent_idx, agent_trace.agent_logs_session_idx,\n"
        "    agent_trace.agent_logs_event_idx, agent_trace.agent_metrics_name_idx,\n"
        "    agent_trace.agent_metrics_session_idx;\n"
        + "".join(re.findall(r"(?m)^CREATE INDEX agent_traces_(?:session|user|agent)_idx .*\n", new.file("tables.sql")))
        + "".join(re.findall(r"(?m)^CREATE INDEX agent_(?:logs_(?:session|event)|metrics_(?:name|session))_idx .*\n",
                             new.file("signals.sql")))
        + "ALTER TABLE agent_trace.model_prices DROP CONSTRAINT model_prices_pkey;\n"
        + "".join(re.findall(r"(?m)^CREATE (?:UNIQUE )?INDEX model_prices_\w+ .*\n", prices)),
        "-- Every COMMENT of the files whose columns changed, as 0.3.0 words them.\n"
        + comments(new.file("tables.sql")) + comments(new.file("signals.sql")) + comments(prices),
        "-- prices.sql: costs computed in numeric; log records priced with the owner's rights.\n"
        + replace(function_statement(prices, "CREATE FUNCTION agent_trace._costs_at_price("))
        + replace(cost_log),
        "-- rollup.sql: token totals saturate; spans folded with the owner's rights.\n" + saturate
        + replace(fold) + comments(rollup),
        "-- diff_traces has a new column: it is created again (diff_summary reads it by name).\n"
        "DROP FUNCTION agent_trace.diff_traces(agent_trace.trace_id, agent_trace.trace_id, agent_trace.span_id, agent_trace.span_id);\n"
        + diff_traces,
        "-- functions.sql: the trace functions run under a pinned search_path; their COMMENTs as 0.3.0\n"
        "-- words them.\n"
        "ALTER FUNCTION agent_trace.trace_tree(agent_trace.trace_id, agent_trace.span_id) SET search_path = pg_catalog, pg_temp;\n"
        "ALTER FUNCTION agent_trace.trace_tree_json(agent_trace.trace_id, agent_trace.span_id) SET search_path = pg_catalog, pg_temp;\n"
        "ALTER FUNCTION agent_trace.critical_path(agent_trace.trace_id, agent_trace.span_id) SET search_path = pg_catalog, pg_temp;\n"
        + "\n".join(re.findall(r"(?ms)^COMMENT ON FUNCTION .*?';$", functions)) + "\n",
        "-- Privileges, as a fresh install grants them: everything the three roles held is revoked, then\n"
        "-- every file's grants run again in install order (so each ACL lists its roles in the same order).\n"
        "REVOKE ALL ON SCHEMA agent_trace FROM agent_trace_reader, agent_trace_usage_reader, agent_trace_writer;\n"
        "REVOKE ALL ON ALL TABLES IN SCHEMA agent_trace FROM agent_trace_reader, agent_trace_usage_reader, agent_trace_writer;\n"
        "-- Functions: only those with privileges (REVOKE on one that has none would write its default\n"
        "-- privileges out into its ACL, which a fresh install leaves empty).\n"
        "DO $revoke$\n"
        "DECLARE\n"
        "    f regprocedure;\n"
        "BEGIN\n"
        "    FOR f IN SELECT p.oid FROM pg_catalog.pg_proc AS p\n"
        "              WHERE p.pronamespace = 'agent_trace'::regnamespace AND p.proacl IS NOT NULL LOOP\n"
        "        EXECUTE format('REVOKE ALL ON FUNCTION %s FROM agent_trace_reader, agent_trace_usage_reader, agent_trace_writer', f);\n"
        "    END LOOP;\n"
        "END\n"
        "$revoke$;\n"
        + "".join(re.findall(r"(?m)^GRANT .*\n", new.file("signals.sql")))
        + price_grants
        + "".join(re.findall(r"(?m)^(?:REVOKE|GRANT) .*\n", new.file("sessions.sql")))
        + function_grants,
        "-- agno.sql: AgentOS compatibility, new in 0.3.0 (after the revokes above, as it grants on its\n"
        "-- own functions).\n" + new.file("agno.sql"),
        new.file("access.sql"),
    ])


def upgrade_0_3_0_to_0_3_1():
    new = Script("0.3.1")
    prices = new.file("prices.sql")
    agno = new.file("agno.sql")
    replace = lambda statement: statement.replace("CREATE FUNCTION", "CREATE OR REPLACE FUNCTION")
    rewritten = [function_statement(prices, "CREATE FUNCTION agent_trace.price_for(")] + [
        function_statement(agno, f"CREATE FUNCTION agent_trace.{name}(")
        for name in ["_text", "_identity", "_cost", "_agno_time", "_agno_trace", "_agno_sync_traces",
                     "enable_agno_compat", "disable_agno_compat"]
    ]
    compat_tables = function_statement(agno, "CREATE FUNCTION agent_trace._agno_compat_tables(")
    compat_comments = re.findall(r"(?ms)^COMMENT ON FUNCTION agent_trace\.(?:en|dis)able_agno_compat.*?';$", agno)
    return "\n".join([
        "-- agent_trace 0.3.0 -> 0.3.1: small inserts cost less. price_for works out the call's names once\n"
        "-- and keeps one plan per session; the helpers AgentOS's span inserts run (the attribute\n"
        "-- mapping, the agno_traces copy) are PL/pgSQL, planned once per session instead of per statement.\n"
        "-- AgentOS opens a span by its id alone through indexes enable_agno_compat now makes.\n"
        "-- No table, privilege or result changes.\n"
        "-- Drafted by scripts/draft-upgrade-script.py from the 0.3.1 install script;\n"
        "-- scripts/test-upgrade.sh checks that upgrading gives exactly a fresh 0.3.1 install.\n",
        "\\echo Use \"ALTER EXTENSION agent_trace UPDATE TO '0.3.1'\" to load this file. \\quit\n",
        "-- New: which tables are the compatible schemas' copies, asked by the copy trigger and disable.\n"
        + compat_tables
        + re.search(r"(?ms)^COMMENT ON FUNCTION agent_trace\._agno_compat_tables\(\).*?';$", agno).group(0) + "\n"
        + "REVOKE ALL ON FUNCTION agent_trace._agno_compat_tables() FROM PUBLIC;\n",
        "".join(replace(statement) for statement in rewritten),
        "\n".join(compat_comments) + "\n",
        "-- Schemas enabled under 0.3.0 get the indexes enable_agno_compat makes now (ALTER EXTENSION runs\n"
        "-- as the extension's owner, who owns those tables).\n"
        "DO $indexes$\n"
        "DECLARE\n"
        "    traces regclass;\n"
        "BEGIN\n"
        "    FOREACH traces IN ARRAY agent_trace._agno_compat_tables() LOOP\n"
        "        EXECUTE format('CREATE INDEX agno_traces_trace_id_idx ON %s USING hash ((trace_id::agent_trace.trace_id))', traces);\n"
        "        IF to_regclass('agent_trace.agent_spans_agno_span_id_idx') IS NULL THEN\n"
        "            CREATE INDEX agent_spans_agno_span_id_idx ON agent_trace.agent_spans\n"
        "                USING hash (((span_id::text) COLLATE \"C\"));\n"
        "        END IF;\n"
        "    END LOOP;\n"
        "END\n"
        "$indexes$;\n",
    ])


def upgrade_0_3_1_to_0_4_0():
    new = Script("0.4.0")
    # Everything after roles.sql: projects.sql onwards (the ids and the roles stay as they are).
    after_roles = [re.sub(MARKER, "", section) for section in new.sections[3:]]
    return "\n".join([
        "-- agent_trace 0.3.1 -> 0.4.0: projects (a project on every row, row-level security, ingest\n"
        "-- tokens, redaction), daily partitions with maintenance and retention, rollups exact under\n"
        "-- deletes, erasure. The tables with data become partitions of their successors without their\n"
        "-- rows being copied; everything else is made again by the 0.4.0 install script, so an upgraded\n"
        "-- database is a fresh install plus the data.\n"
        "-- Drafted by scripts/draft-upgrade-script.py: extension/sql/upgrade/0.3.1--0.4.0-before.sql,\n"
        "-- the 0.4.0 install script after roles.sql, extension/sql/upgrade/0.3.1--0.4.0-after.sql;\n"
        "-- scripts/test-upgrade.sh checks that upgrading gives exactly a fresh 0.4.0 install.\n",
        "\\echo Use \"ALTER EXTENSION agent_trace UPDATE TO '0.4.0'\" to load this file. \\quit\n",
        open("extension/sql/upgrade/0.3.1--0.4.0-before.sql").read(),
        *after_roles,
        open("extension/sql/upgrade/0.3.1--0.4.0-after.sql").read(),
    ])


def sql_functions_list(text):
    """Every CREATE FUNCTION of `text` written in SQL or PL/pgSQL (no name has two in agent_trace)."""
    statements = []
    for match in re.finditer(r"(?m)^CREATE FUNCTION agent_trace\.\w+\(", text):
        rest = text[match.start():]
        if "$$" in rest and rest.index("$$") < rest.index(";\n"):  # not a C function
            statements.append(function_statement(rest, match.group(0)))
    return statements


def function_privileges(name, text):
    """The REVOKE and GRANT statements of the install script that name function `name`, one per
    function (a statement there may list several)."""
    found = []
    for verb, functions, direction, roles in re.findall(
            r"(?ms)^(REVOKE ALL ON|GRANT EXECUTE ON) FUNCTION (.*?)\s+(FROM|TO) ([^;]*);$", text):
        depth, start, signatures = 0, 0, []
        for i, c in enumerate(functions + ","):
            depth += {"(": 1, ")": -1}.get(c, 0)
            if c == "," and depth == 0:
                signatures.append(" ".join(functions[start:i].split()))
                start = i + 1
        for signature in signatures:
            if signature.split("(")[0] == name:
                found.append(f"{verb} FUNCTION {signature} {direction} {' '.join(roles.split())};\n")
    return "".join(found)


def upgrade_0_4_0_to_0_5_0():
    old, new = Script("0.4.0"), Script("0.5.0")
    old_text, new_text = "".join(old.sections), "".join(new.sections)
    old_functions = {statement.split("(")[0]: statement for statement in sql_functions_list(old_text)}
    citus = new.file("citus.sql")
    prices = new.file("prices.sql")
    changed = [statement for statement in sql_functions_list(new_text)
               if statement.split("(")[0] in old_functions and statement != old_functions[statement.split("(")[0]]]
    added = [statement for statement in sql_functions_list(new_text)
             if statement.split("(")[0] not in old_functions and statement not in citus]
    return "\n".join([
        "-- agent_trace 0.4.0 -> 0.5.0: scaling out on Citus (agent_trace.distribute() and what it needs,\n"
        "-- citus.sql: a table of its own, distributed_maintenance, and functions); uuid and macaddr8\n"
        "-- values convert to trace and span ids on assignment (so Citus routes a query on a trace id to\n"
        "-- its node); on a distributed install retention, erasure and maintain() recompute the traces\n"
        "-- they change themselves, and AgentOS compatibility works there too (the copy kept by the\n"
        "-- recompute, the spans view through a function); revoke_project and\n"
        "-- revoke_ingest_token are PL/pgSQL (Citus plans no SQL function's parameters); a trace whose\n"
        "-- root span has no service name has none; built-in model prices (CREATE EXTENSION and this\n"
        "-- upgrade load them), edits of them kept by pg_dump as the user's, and agent_trace.has_prices.\n"
        "-- Drafted by scripts/draft-upgrade-script.py from the 0.5.0 install script (every function that\n"
        "-- is new or whose text changed, taken whole); scripts/test-upgrade.sh checks that upgrading\n"
        "-- gives exactly a fresh 0.5.0 install.\n",
        "\\echo Use \"ALTER EXTENSION agent_trace UPDATE TO '0.5.0'\" to load this file. \\quit\n",
        "-- ids.sql: the casts from uuid and macaddr8 become assignment casts.\n"
        + "DROP CAST (uuid AS agent_trace.trace_id);\n"
        + "DROP CAST (macaddr8 AS agent_trace.span_id);\n"
        + "".join(re.findall(r"(?m)^CREATE CAST \((?:uuid|macaddr8) AS .*\n", new_text)),
        "-- Functions new in 0.5.0 outside citus.sql, with their comments and privileges.\n"
        + "".join(statement + "".join(re.findall(r"(?ms)^COMMENT ON FUNCTION "
                                                 + re.escape(statement.split("(")[0].split()[-1]) + r"\(.*?;$\n?", new_text))
                  + function_privileges(statement.split("(")[0].split()[-1], new_text)
                  for statement in added),
        "-- Functions whose body changed.\n"
        + "".join(statement.replace("CREATE FUNCTION", "CREATE OR REPLACE FUNCTION", 1) for statement in changed),
        "-- rollup.sql: a trace's service is its root span's, even none (as its COMMENT says); 0.4.0 took\n"
        "-- another span's when the root had none. The rows stored so far, mended.\n"
        "UPDATE agent_trace.agent_traces AS t SET service_name = NULL\n"
        " WHERE t.service_name IS NOT NULL AND t.root_span_id IS NOT NULL\n"
        "   AND EXISTS (SELECT FROM agent_trace.agent_spans AS s\n"
        "                WHERE s.trace_id = t.trace_id AND s.project_id = t.project_id\n"
        "                  AND s.span_id = t.root_span_id AND s.start_time = t.root_start_time\n"
        "                  AND s.service_name IS NULL);\n",
        "-- prices.sql: built-in prices. Their rows are counted apart in the key, a trigger makes rows\n"
        "-- written with their mark the user's, pg_dump leaves them out, and the table's COMMENTs say so.\n"
        "DROP INDEX agent_trace.model_prices_key;\n"
        + re.search(r"(?ms)^CREATE UNIQUE INDEX model_prices_key .*?;$\n", prices).group(0)
        + re.search(r"(?ms)^CREATE TRIGGER model_prices_yours .*?;$\n", prices).group(0)
        + re.search(r"(?m)^SELECT pg_catalog\.pg_extension_config_dump\('agent_trace\.model_prices', .*\n", prices).group(0)
        + comments(prices),
        "-- prices_snapshot.sql: the built-in rows, added beside what the table holds (no row of it is\n"
        "-- changed), as a fresh install has them.\n" + new.file("prices_snapshot.sql"),
        citus,
    ])


def upgrade_0_5_0_to_0_6_0():
    old, new = Script("0.5.0"), Script("0.6.0")
    old_text, new_text = "".join(old.sections), "".join(new.sections)
    old_functions = {statement.split("(")[0]: statement for statement in sql_functions_list(old_text)}
    scores = new.file("scores.sql")
    changed = [statement for statement in sql_functions_list(new_text)
               if statement.split("(")[0] in old_functions and statement != old_functions[statement.split("(")[0]]]
    added = [statement for statement in sql_functions_list(new_text)
             if statement.split("(")[0] not in old_functions and statement not in scores]
    if added:
        sys.exit(f"new functions outside scores.sql, not drafted: {[a.split('(')[0] for a in added]}")
    # agent_sessions, rewritten so that a filter on session_id reaches the tables' indexes: the same
    # columns, so CREATE OR REPLACE keeps its grants and COMMENTs.
    sessions = new.file("sessions.sql")
    view_start = sessions.index("CREATE VIEW agent_trace.agent_sessions")
    view = sessions[view_start:sessions.index(";\n", view_start) + 2]
    return "\n".join([
        "-- agent_trace 0.5.0 -> 0.6.0: scores and annotations on runs (scores.sql: agent_scores,\n"
        "-- add_score, the views agent_trace_scores and agent_score_stats; agent_scores_pending and\n"
        "-- link_written_scores for scores that name a model response, an index of agent_spans' response\n"
        "-- ids); retention (signal spans), erase and distribute() take scores with their runs, and\n"
        "-- maintain() links the scores still waiting for their span; agent_sessions reads one session\n"
        "-- through the session indexes.\n"
        "-- Drafted by scripts/draft-upgrade-script.py from the 0.6.0 install script (scores.sql whole,\n"
        "-- every function whose text changed taken whole); scripts/test-upgrade.sh checks that\n"
        "-- upgrading gives exactly a fresh 0.6.0 install.\n",
        "\\echo Use \"ALTER EXTENSION agent_trace UPDATE TO '0.6.0'\" to load this file. \\quit\n",
        scores,
        "-- access.sql grants every table and view to the reader (GRANT SELECT ON ALL TABLES).\n"
        "GRANT SELECT ON agent_trace.agent_scores, agent_trace.agent_scores_pending, agent_trace.agent_trace_scores,\n"
        "    agent_trace.agent_score_stats TO agent_trace_reader;\n",
        "-- Functions whose body changed (retention, maintain, erase, distribute), and the COMMENTs of their files.\n"
        + "".join(statement.replace("CREATE FUNCTION", "CREATE OR REPLACE FUNCTION", 1) for statement in changed)
        + comments(new.file("partitions.sql")) + comments(new.file("erase.sql")) + comments(new.file("citus.sql")),
        "-- sessions.sql: agent_sessions as one grouping of both sources, so that one session's row is read\n"
        "-- through the session indexes.\n"
        + view.replace("CREATE VIEW", "CREATE OR REPLACE VIEW", 1),
    ])


UPGRADES = {
    ("0.1.0", "0.2.0"): upgrade_0_1_0_to_0_2_0,
    ("0.2.0", "0.3.0"): upgrade_0_2_0_to_0_3_0,
    ("0.3.0", "0.3.1"): upgrade_0_3_0_to_0_3_1,
    ("0.3.1", "0.4.0"): upgrade_0_3_1_to_0_4_0,
    ("0.4.0", "0.5.0"): upgrade_0_4_0_to_0_5_0,
    ("0.5.0", "0.6.0"): upgrade_0_5_0_to_0_6_0,
}

if len(sys.argv) != 3 or tuple(sys.argv[1:]) not in UPGRADES:
    sys.exit(f"usage: {sys.argv[0]} OLD NEW, one of: {', '.join(' '.join(k) for k in UPGRADES)}")
old, new = sys.argv[1:]
target = f"extension/sql/agent_trace--{old}--{new}.sql"
open(target, "w").write(UPGRADES[(old, new)]())
print(f"wrote {target}")
