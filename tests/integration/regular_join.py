"""Differential test of regular joins of two streams: the final table of eddy's updating result,
materialized from its changelog (+I/+U add a row, -U/-D remove one, never a missing one), equals
sqlite3's batch join of the same random rows (an independent implementation), for INNER, LEFT,
RIGHT and FULL joins, an extra ON condition, and an updating input (a GROUP BY result), at
parallelism 1 and 2 and batch sizes 1, 2 and 1024.

Usage: python3 regular_join.py <eddy> <workdir>
"""
import collections
import csv
import os
import random
import sqlite3
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
import util  # noqa: E402

EDDY, WORK = sys.argv[1], sys.argv[2]
rng = random.Random(5)
L = [(i, None if rng.random() < 0.05 else rng.randint(0, 30), rng.randint(0, 9)) for i in range(400)]
R = [(i, None if rng.random() < 0.05 else rng.randint(10, 40), rng.randint(0, 9)) for i in range(300)]
for name, data in (("l", L), ("r", R)):
    with open(f"{WORK}/{name}.csv", "w", newline="") as f:
        csv.writer(f).writerows([[i, "" if k is None else k, v] for i, k, v in data])
db = sqlite3.connect(":memory:")
for name, data in (("l", L), ("r", R)):
    db.execute(f"CREATE TABLE {name} (id INTEGER, k INTEGER, v INTEGER)")
    db.executemany(f"INSERT INTO {name} VALUES (?,?,?)", data)
DDL = "".join(f"CREATE TABLE {n} (id INT, k INT, v INT) WITH ('connector' = 'filesystem', "
              f"'path' = '{WORK}/{n}.csv', 'format' = 'csv');" for n in "lr")
CASES = [
    ("inner", "SELECT l.id, r.id FROM l JOIN r ON l.k = r.k"),
    ("left", "SELECT l.id, r.id FROM l LEFT JOIN r ON l.k = r.k"),
    ("right", "SELECT l.id, r.id FROM l RIGHT JOIN r ON l.k = r.k"),
    ("full + extra condition", "SELECT l.id, r.id FROM l FULL JOIN r ON l.k = r.k AND l.v < r.v"),
    ("updating input", "SELECT g.k, g.c, r.id FROM (SELECT k, COUNT(*) AS c FROM l GROUP BY k) "
                       "AS g LEFT JOIN r ON g.k = r.k"),
]
failures = 0
for name, query in CASES:
    want = collections.Counter(tuple("" if x is None else str(x) for x in r)
                               for r in db.execute(query))
    for par in (1, 2):
        for batch in (1, 2, 1024):
            p = util.run_sql(EDDY, DDL + query + ";", par, batch)
            if p.returncode != 0:
                print(f"  FAIL: {name} p={par} batch={batch}: {p.stderr[:300]}")
                failures += 1
                continue
            lines = list(csv.reader(p.stdout.splitlines()))
            table = collections.Counter()
            clean = True
            # An insert-only result (an inner join of insert-only inputs, as in Flink) has no
            # `op` column: every row is +I.
            has_op = bool(lines) and lines[0][:1] == ["op"]
            for r in lines[1:]:
                kind, vals = (r[0], tuple(r[1:])) if has_op else ("+I", tuple(r))
                if kind in ("+I", "+U"):
                    table[vals] += 1
                else:
                    clean &= table[vals] > 0
                    table[vals] -= 1
            table = +table
            if not clean or table != want:
                print(f"  FAIL: {name} p={par} batch={batch}: clean={clean}; "
                      f"{sum(table.values())} rows vs sqlite3 {sum(want.values())}; extra "
                      f"{list((table - want).items())[:3]} missing {list((want - table).items())[:3]}")
                failures += 1
            else:
                print(f"  ok: {name} p={par} batch={batch}: {sum(table.values())} rows = sqlite3")
sys.exit(1 if failures else 0)
