#!/usr/bin/env python3
"""Drafts extension/sql/agent_trace--0.1.0--0.2.0.sql from the generated 0.2.0 install script.

The upgrade has to create exactly what a fresh 0.2.0 install has and 0.1.0 lacks; most of that is
whole files (new tables, new functions), which are taken here from the generated install script so
they cannot drift from it. What changed inside 0.1.0's files is written out below by hand. The
result is committed; scripts/test-upgrade.sh proves it (upgraded == fresh, fact by fact).
Run after `scripts/install-extension.sh`: python3 scripts/draft-upgrade-script.py
"""
import os
import re
import subprocess
import sys

# The PostgreSQL the extension was installed into: $PG_CONFIG, as for the other scripts (lib.sh).
pg_config = os.environ.get("PG_CONFIG", "/usr/lib/postgresql/15/bin/pg_config")
sharedir = subprocess.run([pg_config, "--sharedir"], capture_output=True, text=True,
                          check=True).stdout.strip()
generated = open(f"{sharedir}/extension/agent_trace--0.2.0.sql").read()

# Split at pgrx's "-- extension/src/<file>.rs:<line>" markers; name each section by what follows.
sections = re.split(r"(?m)^(?=-- extension/src/[a-z_]+\.rs:\d+$)", generated)
def find(predicate):
    found = [s for s in sections if predicate(s)]
    if not found:
        sys.exit("section not found")
    return found

def file_section(sql_file):
    # The first comment line of each hand-written file identifies it.
    first_line = open(f"extension/sql/{sql_file}").readline().rstrip("\n")
    (section,) = find(lambda s: first_line in s)
    return re.sub(r"(?m)^-- extension/src/[a-z_]+\.rs:\d+\n", "", section)

rust_functions = find(lambda s: "-- agent_trace::api::agent_trace::" in s)
rust_functions = [re.sub(r"(?m)^-- extension/src/[a-z_]+\.rs:\d+\n", "", s) for s in rust_functions]

rollup = file_section("rollup.sql")
rollup = rollup.replace("CREATE FUNCTION agent_trace._fold_inserted_spans()",
                        "CREATE OR REPLACE FUNCTION agent_trace._fold_inserted_spans()")
rollup = rollup[: rollup.index("CREATE TRIGGER")]  # the trigger exists already

# Every COMMENT of tables.sql, re-applied: cheap, and a reworded one cannot be forgotten.
tables_comments = "\n".join(re.findall(r"(?ms)^COMMENT ON .*?';$", open("extension/sql/tables.sql").read()))

parts = [
    "-- agent_trace 0.1.0 -> 0.2.0: logs and metrics, prices and computed cost, sessions, and the SQL\n"
    "-- API over traces. Drafted by scripts/draft-upgrade-script.py from the 0.2.0 install script;\n"
    "-- scripts/test-upgrade.sh checks that upgrading gives exactly a fresh 0.2.0 install.\n",
    "\\echo Use \"ALTER EXTENSION agent_trace UPDATE TO '0.2.0'\" to load this file. \\quit\n",
    file_section("roles.sql"),
    "-- tables.sql: agent_traces gets its computed cost, as its last column (as in a fresh install),\n"
    "-- and the tables' COMMENTs as 0.2.0 words them.\n"
    "ALTER TABLE agent_trace.agent_traces ADD COLUMN computed_cost_usd numeric;\n"
    + tables_comments + "\n",
]
for name in ["signals.sql", "prices.sql"]:
    parts.append(file_section(name))
parts.append(rollup)
parts.append(file_section("sessions.sql"))
parts.extend(rust_functions)
parts.append(file_section("functions.sql"))
parts.append(file_section("access.sql"))
open("extension/sql/agent_trace--0.1.0--0.2.0.sql", "w").write("\n".join(parts))
print("wrote extension/sql/agent_trace--0.1.0--0.2.0.sql")
