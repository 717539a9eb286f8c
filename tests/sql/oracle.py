#!/usr/bin/env python3
"""Fills the expected rows of golden-file records from sqlite3, the independent oracle.

A `query` record whose header is directly preceded by a comment block starting with
`# oracle:` gets its expected section (the lines after `----`) replaced by the rows sqlite3
returns for that oracle query, run over the CSV files of tests/sql/data loaded by
tests/sql/data/sqlite_load.sql. Continuation lines of the oracle query are the following
`#` lines up to the record header. NULL prints as NULL and the empty string as (empty), as
in the golden files. Records without an oracle comment are left untouched (their expected
rows are derived by hand, as their comments say).

The oracle query must express Flink SQL semantics in sqlite terms (integer AVG as
CAST(SUM(x) / COUNT(x) AS INTEGER), booleans as 'TRUE'/'FALSE', window bounds computed from
epoch milliseconds, ...): eddy is never asked for the answer.

Usage (from the repository root): python3 tests/sql/oracle.py tests/sql/x/y.test ...
"""
import os
import subprocess
import sys

LOAD = "tests/sql/data/sqlite_load.sql"
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def run_oracle(sql):
    out = subprocess.run(
        ["sqlite3", "-bail", "-tabs", "-cmd", ".read " + LOAD, ":memory:", sql],
        capture_output=True, text=True, cwd=ROOT)
    if out.returncode != 0 or out.stderr:
        raise SystemExit(f"sqlite3 failed on: {sql}\n{out.stderr}")
    rows = []
    lines = out.stdout.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    for line in lines:
        cells = ["(empty)" if c == "" else c for c in line.split("\t")]
        rows.append("\t".join(cells))
    return rows


def fill(path):
    lines = open(path, encoding="utf-8").read().split("\n")
    out = []
    i = 0
    changed = 0
    while i < len(lines):
        line = lines[i]
        if line.startswith("# oracle:"):
            sql = [line[len("# oracle:"):].strip()]
            out.append(line)
            i += 1
            while i < len(lines) and lines[i].startswith("#"):
                sql.append(lines[i][1:].strip())
                out.append(lines[i])
                i += 1
            if i >= len(lines) or not lines[i].startswith("query"):
                raise SystemExit(f"{path}:{i + 1}: an oracle comment must precede a query")
            # Copy the header and SQL up to ----.
            while i < len(lines) and lines[i].strip() != "----":
                if lines[i].strip() == "":
                    raise SystemExit(f"{path}:{i + 1}: query without ----")
                out.append(lines[i])
                i += 1
            out.append(lines[i])
            i += 1
            while i < len(lines) and lines[i].strip() != "":
                i += 1  # drop the old expected rows
            rows = run_oracle(" ".join(sql))
            out.extend(rows)
            changed += 1
            continue
        out.append(line)
        i += 1
    open(path, "w", encoding="utf-8").write("\n".join(out))
    print(f"{path}: {changed} records filled from sqlite3")


if __name__ == "__main__":
    for p in sys.argv[1:]:
        fill(p)
