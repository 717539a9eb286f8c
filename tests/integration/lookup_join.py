"""Differential test of lookup joins: eddy's streaming result on random inputs equals sqlite3's
batch join of the same data (an independent implementation), for inner and left joins, composite
and cast keys, duplicate and NULL keys, and extra ON conditions, at parallelism 1 and 2 and batch
sizes 1, 2 and 1024.

Usage: python3 lookup_join.py <eddy> <workdir>
"""
import csv
import os
import random
import sqlite3
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
import util  # noqa: E402

EDDY, WORK = sys.argv[1], sys.argv[2]
rng = random.Random(20261122)

# Left stream: id, k (INT, sometimes NULL), s (STRING), ts. Table: k (duplicates, NULLs), s2, name, w.
left = []
for i in range(1500):
    k = None if rng.random() < 0.05 else rng.randint(0, 40)
    left.append((i, k, rng.choice("abcde"), f"2001-01-01 00:{i // 60 % 60:02d}:{i % 60:02d}"))
table = []
for j in range(120):
    k = None if rng.random() < 0.05 else rng.randint(0, 30)
    table.append((k, rng.choice("abcde"), f"n{j}", rng.randint(0, 10)))


def write(path, rows):
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        for r in rows:
            w.writerow(["" if v is None else v for v in r])


write(f"{WORK}/left.csv", left)
write(f"{WORK}/table.csv", table)

db = sqlite3.connect(":memory:")
db.execute("CREATE TABLE l (id INTEGER, k INTEGER, s TEXT, ts TEXT)")
db.execute("CREATE TABLE r (k INTEGER, s2 TEXT, name TEXT, w INTEGER)")
db.executemany("INSERT INTO l VALUES (?,?,?,?)", left)
db.executemany("INSERT INTO r VALUES (?,?,?,?)", table)

# (eddy ON clause, sqlite ON clause, join kind, eddy select list, sqlite select list)
QUERIES = [
    ("inner", "JOIN", "l.k = r.k", "l.k = r.k"),
    ("left", "LEFT JOIN", "l.k = r.k", "l.k = r.k"),
    ("left-residual", "LEFT JOIN", "r.k = l.k AND r.w > 5 AND l.s <> 'a'",
     "r.k = l.k AND r.w > 5 AND l.s <> 'a'"),
    ("composite-cast", "JOIN", "CAST(l.k AS BIGINT) = r.k AND l.s = r.s2",
     "l.k = r.k AND l.s = r.s2"),
]

DDL = f"""
CREATE TABLE l (id INT, k INT, s STRING, ts TIMESTAMP(3), pt AS PROCTIME(),
  WATERMARK FOR ts AS ts - INTERVAL '1' SECOND)
WITH ('connector' = 'filesystem', 'path' = '{WORK}/left.csv', 'format' = 'csv');
CREATE TABLE r (k INT, s2 STRING, name STRING, w INT)
WITH ('connector' = 'filesystem', 'path' = '{WORK}/table.csv', 'format' = 'csv');
"""


def norm(rows):
    return sorted(tuple("" if v is None else str(v) for v in r) for r in rows)


failures = 0
for name, kind, on_eddy, on_sqlite in QUERIES:
    want = norm(db.execute(
        f"SELECT l.id, l.s, r.name, r.w FROM l {kind} r ON {on_sqlite}").fetchall())
    for par in (1, 2):
        for batch in (1, 2, 1024):
            sql = DDL + (f"SELECT l.id, l.s, r.name, r.w FROM l {kind} r FOR SYSTEM_TIME AS OF "
                         f"l.pt AS r ON {on_eddy};")
            p = util.run_sql(EDDY, sql, par, batch)
            if p.returncode != 0:
                print(f"  FAIL: {name} p={par} batch={batch}: exit {p.returncode}: {p.stderr[:500]}")
                failures += 1
                continue
            got = norm(list(csv.reader(p.stdout.splitlines()))[1:])
            if got != want:
                missing = [r for r in want if r not in got][:3]
                extra = [r for r in got if r not in want][:3]
                print(f"  FAIL: {name} p={par} batch={batch}: {len(got)} rows vs sqlite3 "
                      f"{len(want)}; missing {missing} extra {extra}")
                failures += 1
            else:
                print(f"  ok: {name} p={par} batch={batch}: {len(got)} rows = sqlite3")
sys.exit(1 if failures else 0)
