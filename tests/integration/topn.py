"""Differential test of Top-N (ROW_NUMBER() ... WHERE rn <= N): the final table of eddy's updating
result, materialized from its changelog (+I/+U add a row, -U/-D remove one), equals sqlite3's
ROW_NUMBER() over the same random rows (an independent implementation); ties are broken by
arrival order in eddy and by id in sqlite3 (ids follow file order), NULLs sort lowest. At
parallelism 1 and 2 and batch sizes 1, 2 and 1024.

Usage: python3 topn.py <eddy> <workdir>
"""
import collections
import csv
import random
import sqlite3
import subprocess
import sys

EDDY, WORK = sys.argv[1], sys.argv[2]
rng = random.Random(11)
rows = [(i, rng.randint(0, 9), None if rng.random() < 0.05 else rng.randint(0, 40))
        for i in range(1500)]
with open(f"{WORK}/t.csv", "w", newline="") as f:
    csv.writer(f).writerows([[i, k, "" if v is None else v] for i, k, v in rows])
db = sqlite3.connect(":memory:")
db.execute("CREATE TABLE t (id INTEGER, k INTEGER, v INTEGER)")
db.executemany("INSERT INTO t VALUES (?,?,?)", rows)
failures = 0
for n, desc in ((1, True), (3, False), (5, True)):
    d = "DESC" if desc else "ASC"
    nulls = "NULLS LAST" if desc else "NULLS FIRST"
    want = collections.Counter(tuple(str(x) for x in r) for r in db.execute(f"""
        SELECT id, k, rn FROM (SELECT id, k, ROW_NUMBER() OVER (PARTITION BY k ORDER BY v {d}
        {nulls}, id) AS rn FROM t) WHERE rn <= {n}"""))
    for par in (1, 2):
        for batch in (1, 2, 1024):
            sql = (f"CREATE TABLE t (id INT, k INT, v INT) WITH ('connector' = 'filesystem', "
                   f"'path' = '{WORK}/t.csv', 'format' = 'csv'); SELECT id, k, rn FROM (SELECT id, k, ROW_NUMBER() "
                   f"OVER (PARTITION BY k ORDER BY v {d}) AS rn FROM t) WHERE rn <= {n};")
            p = subprocess.run([EDDY, "run", "-q", "--format", "csv", "--set",
                                f"parallelism.default={par}", "--set", f"eddy.batch-size={batch}",
                                "-e", sql], capture_output=True, text=True)
            if p.returncode != 0:
                print(f"  FAIL: top {n} {d} p={par} batch={batch}: {p.stderr[:300]}")
                failures += 1
                continue
            lines = list(csv.reader(p.stdout.splitlines()))
            header = lines[0]
            table = collections.Counter()
            ok = True
            for r in lines[1:]:
                kind, vals = (r[0], tuple(r[1:])) if header[0] == "op" else ("+I", tuple(r))
                if kind in ("+I", "+U"):
                    table[vals] += 1
                else:
                    if table[vals] == 0:
                        ok = False
                    table[vals] -= 1
            table = +table
            if not ok or table != want:
                print(f"  FAIL: top {n} {d} p={par} batch={batch}: retraction of a missing row: "
                      f"{not ok}; {sum(table.values())} rows vs sqlite3 {sum(want.values())}; "
                      f"extra {list((table - want).items())[:3]} missing {list((want - table).items())[:3]}")
                failures += 1
            else:
                print(f"  ok: top {n} {d} p={par} batch={batch}: {sum(table.values())} rows = sqlite3")
sys.exit(1 if failures else 0)
