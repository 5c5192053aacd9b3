#!/usr/bin/env python3
"""Prints a SQL script without its comments: what PostgreSQL runs of it.

Two install scripts that differ only in comments (`-- ...`, `/* ... */`, pgrx's `-- file.rs:LINE`
markers) or blank lines give the same output, so a stale comment in a released script can be mended
without a new version (scripts/test-upgrade.sh). Comments inside string literals and dollar-quoted
bodies are kept: a function's body is stored as written, comments included.

Usage: sql-code.py FILE
"""
import re
import sys

DOLLAR_TAG = re.compile(r"\$([A-Za-z_][A-Za-z_0-9]*)?\$")


def code(sql: str) -> str:
    out = []
    i, n = 0, len(sql)
    while i < n:
        c = sql[i]
        if sql.startswith("--", i):
            end = sql.find("\n", i)
            i = n if end < 0 else end
        elif sql.startswith("/*", i):
            depth, i = 1, i + 2
            while i < n and depth:
                if sql.startswith("/*", i):
                    depth, i = depth + 1, i + 2
                elif sql.startswith("*/", i):
                    depth, i = depth - 1, i + 2
                else:
                    i += 1
            out.append(" ")
        elif c in "'\"":
            # A string or quoted identifier; a doubled quote stands for one (E'' strings in our
            # scripts escape no quote with a backslash).
            j = i + 1
            while j < n:
                if sql[j] == c and sql.startswith(c + c, j):
                    j += 2
                elif sql[j] == c:
                    j += 1
                    break
                else:
                    j += 1
            out.append(sql[i:j])
            i = j
        elif c == "$" and DOLLAR_TAG.match(sql, i) and not (i and (sql[i - 1].isalnum() or sql[i - 1] == "_")):
            tag = DOLLAR_TAG.match(sql, i).group(0)
            end = sql.find(tag, i + len(tag))
            j = n if end < 0 else end + len(tag)
            out.append(sql[i:j])
            i = j
        else:
            out.append(c)
            i += 1
    lines = (line.rstrip() for line in "".join(out).split("\n"))
    return "\n".join(line for line in lines if line.strip()) + "\n"


if __name__ == "__main__":
    with open(sys.argv[1], encoding="utf-8") as f:
        sys.stdout.write(code(f.read()))
