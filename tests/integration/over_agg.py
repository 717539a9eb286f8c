"""Differential test of OVER aggregation: eddy's streaming result on a random out-of-order stream
(random keys, equal timestamps, NULLs; disorder below the watermark delay, so nothing is late)
equals sqlite3's window functions over the same rows (an independent implementation), for RANGE
and ROWS frames, bounded and unbounded, at parallelism 1 and 2 and batch sizes 1, 2 and 1024.
Integer AVG is truncated in eddy (as in Flink); the sqlite3 side truncates it the same way.

Usage: python3 over_agg.py <eddy> <workdir>
"""
import csv
import datetime
import os
import random
import sqlite3
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
import util  # noqa: E402

EDDY, WORK = sys.argv[1], sys.argv[2]
rng = random.Random(7)
BASE = datetime.datetime(2024, 1, 1)
rows = []
for i in range(900):
    t = (i // 2) * 3 + rng.randint(-20, 0)  # seconds; pairs share times often; disorder <= 20 s
    v = None if rng.random() < 0.05 else rng.randint(-50, 50)
    rows.append((i, rng.randint(0, 7), t, v))
with open(f"{WORK}/e.csv", "w", newline="") as f:
    w = csv.writer(f)
    for i, k, t, v in rows:
        w.writerow([i, k, (BASE + datetime.timedelta(seconds=t)).strftime("%Y-%m-%d %H:%M:%S"),
                    "" if v is None else v])
# ROWS frames need distinct times per key (eddy orders equal times by arrival, which differs
# between runs at parallelism 2): a second stream with unique, still out-of-order times.
rows2 = [(i, rng.randint(0, 7), i * 10 + rng.randint(-9, 0),
          None if rng.random() < 0.05 else rng.randint(-50, 50)) for i in range(900)]
with open(f"{WORK}/e2.csv", "w", newline="") as f:
    w = csv.writer(f)
    # Swap neighbours now and then: out of order by up to 19 s.
    order = list(range(len(rows2)))
    for j in range(0, len(order) - 1, 3):
        order[j], order[j + 1] = order[j + 1], order[j]
    for j in order:
        i, k, t, v = rows2[j]
        w.writerow([i, k, (BASE + datetime.timedelta(seconds=t)).strftime("%Y-%m-%d %H:%M:%S"),
                    "" if v is None else v])
db = sqlite3.connect(":memory:")
for name, data in (("e", rows), ("e2", rows2)):
    db.execute(f"CREATE TABLE {name} (id INTEGER, k INTEGER, t INTEGER, v INTEGER)")
    db.executemany(f"INSERT INTO {name} VALUES (?,?,?,?)", data)

# (name, eddy frame, sqlite frame); ROWS cases run on e2.
CASES = [
    ("range 30 s", "RANGE BETWEEN INTERVAL '30' SECOND PRECEDING AND CURRENT ROW",
     "RANGE BETWEEN 30 PRECEDING AND CURRENT ROW"),
    ("range unbounded", "RANGE BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW",
     "RANGE BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW"),
    ("rows 3", "ROWS BETWEEN 3 PRECEDING AND CURRENT ROW", "ROWS BETWEEN 3 PRECEDING AND CURRENT ROW"),
    ("rows unbounded", "ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW",
     "ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW"),
]
DDL = "".join(f"""CREATE TABLE {n} (id INT, k INT, ts TIMESTAMP(3), v INT,
  WATERMARK FOR ts AS ts - INTERVAL '25' SECOND)
WITH ('connector' = 'filesystem', 'path' = '{WORK}/{n}.csv', 'format' = 'csv');""" for n in ("e", "e2"))
failures = 0
# LAG on e2 (distinct times per key, so "the previous row" is well defined in both).
want_lag = sorted(tuple("" if x is None else str(x) for x in r) for r in db.execute(
    "SELECT id, LAG(v) OVER w, LAG(v, 3, -7) OVER w FROM e2 WINDOW w AS (PARTITION BY k ORDER BY t)"))
for par in (1, 2):
    for batch in (1, 2, 1024):
        o = "OVER (PARTITION BY k ORDER BY ts)"
        p = util.run_sql(EDDY, DDL + f"SELECT id, LAG(v) {o}, LAG(v, 3, -7) {o} FROM e2;", par, batch)
        got = sorted(tuple(r) for r in csv.reader(p.stdout.splitlines()[1:]))
        if p.returncode != 0 or got != want_lag:
            print(f"  FAIL: lag p={par} batch={batch}: exit {p.returncode} {p.stderr[:200]}; "
                  f"{[(a, b) for a, b in zip(got, want_lag) if a != b][:3]}")
            failures += 1
        else:
            print(f"  ok: lag p={par} batch={batch}: {len(got)} rows = sqlite3")
for name, frame_e, frame_s in CASES:
    table = "e2" if name.startswith("rows") else "e"
    want = sorted(db.execute(f"""
        SELECT id, SUM(v) OVER w, COUNT(*) OVER w, COUNT(v) OVER w, MIN(v) OVER w, MAX(v) OVER w,
               CAST(SUM(v) OVER w AS INTEGER) / NULLIF(COUNT(v) OVER w, 0)
        FROM {table}
        WINDOW w AS (PARTITION BY k ORDER BY t {frame_s})""").fetchall())
    # sqlite's integer division truncates toward zero, like Java's.
    want = [tuple("" if x is None else str(x) for x in r) for r in want]
    for par in (1, 2):
        for batch in (1, 2, 1024):
            o = f"OVER (PARTITION BY k ORDER BY ts {frame_e})"
            sql = DDL + (f"SELECT id, SUM(v) {o}, COUNT(*) {o}, COUNT(v) {o}, MIN(v) {o}, "
                         f"MAX(v) {o}, AVG(v) {o} FROM {table};")
            p = util.run_sql(EDDY, sql, par, batch)
            if p.returncode != 0:
                print(f"  FAIL: {name} p={par} batch={batch}: exit {p.returncode}: {p.stderr[:400]}")
                failures += 1
                continue
            got = sorted((tuple(r) for r in csv.reader(p.stdout.splitlines()[1:])),
                         key=lambda r: (int(r[0]),) + r[1:])
            want_s = sorted(want, key=lambda r: (int(r[0]),) + r[1:])
            if got != want_s:
                bad = [(a, b) for a, b in zip(got, want_s) if a != b][:3]
                print(f"  FAIL: {name} p={par} batch={batch}: {len(got)} rows vs {len(want_s)}; "
                      f"first differences (eddy, sqlite3): {bad}")
                failures += 1
            else:
                print(f"  ok: {name} p={par} batch={batch}: {len(got)} rows = sqlite3")
sys.exit(1 if failures else 0)
