"""Differential test of interval joins: eddy's streaming join of two random streams (random keys,
timestamps out of order by up to 30 s, watermark delay 30 s, so no row is late) equals sqlite3's
batch join with the same condition (an independent implementation), for several time bounds and
an extra ON condition, at parallelism 1 and 2 and batch sizes 1, 2 and 1024.

Usage: python3 interval_join.py <eddy> <workdir>
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
rng = random.Random(20261122)
BASE = datetime.datetime(2024, 1, 1)


def stream(n, keys):
    rows = []
    for i in range(n):
        t = i * 7 + rng.randint(-30, 0)  # seconds; disorder up to 30 s
        k = None if rng.random() < 0.03 else rng.randint(0, keys)
        rows.append((i, k, t, rng.randint(0, 9)))
    return rows


left = stream(1200, 12)
right = stream(900, 12)


def write(path, rows):
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        for i, k, t, v in rows:
            w.writerow([i, "" if k is None else k, (BASE + datetime.timedelta(seconds=t)).strftime(
                "%Y-%m-%d %H:%M:%S"), v])


write(f"{WORK}/l.csv", left)
write(f"{WORK}/r.csv", right)
db = sqlite3.connect(":memory:")
for name, rows in (("l", left), ("r", right)):
    db.execute(f"CREATE TABLE {name} (id INTEGER, k INTEGER, t INTEGER, v INTEGER)")
    db.executemany(f"INSERT INTO {name} VALUES (?,?,?,?)", rows)

# (name, eddy ON after the key equality, sqlite condition on seconds)
CASES = [
    ("symmetric 60 s", "l.ts BETWEEN r.ts - INTERVAL '60' SECOND AND r.ts + INTERVAL '60' SECOND",
     "l.t BETWEEN r.t - 60 AND r.t + 60"),
    ("right after left, 2 min", "r.ts BETWEEN l.ts AND l.ts + INTERVAL '2' MINUTE",
     "r.t BETWEEN l.t AND l.t + 120"),
    ("strict, shifted", "l.ts > r.ts + INTERVAL '10' SECOND AND l.ts < r.ts + INTERVAL '90' SECOND",
     "l.t > r.t + 10 AND l.t < r.t + 90"),
    ("with extra condition", "l.ts BETWEEN r.ts - INTERVAL '45' SECOND AND r.ts AND l.v < r.v",
     "l.t BETWEEN r.t - 45 AND r.t AND l.v < r.v"),
]
DDL = "".join(f"""
CREATE TABLE {n} (id INT, k INT, ts TIMESTAMP(3), v INT, WATERMARK FOR ts AS ts - INTERVAL '30' SECOND)
WITH ('connector' = 'filesystem', 'path' = '{WORK}/{n}.csv', 'format' = 'csv');""" for n in "lr")

# Outer joins: the same conditions as LEFT, RIGHT and FULL joins (unmatched rows with NULLs,
# NULL keys included); sqlite3 ≥ 3.39 has RIGHT and FULL joins.
RUNS = [("INNER", *c) for c in CASES] + [
    (kind, *CASES[i]) for kind, i in (("LEFT", 0), ("RIGHT", 1), ("FULL", 2), ("LEFT", 3),
                                      ("FULL", 3))]


failures = 0
for kind, name, on_eddy, on_sqlite in RUNS:
    name = f"{kind} {name}"
    want = sorted(db.execute(
        f"SELECT l.id, r.id FROM l {kind} JOIN r ON l.k = r.k AND {on_sqlite}").fetchall(),
        key=repr)
    if kind != "INNER" and all(None not in r for r in want):
        print(f"  FAIL: {name}: sqlite3 finds no unmatched row (the case tests nothing)")
        failures += 1
    sql = DDL + f"SELECT l.id, r.id FROM l {kind} JOIN r ON l.k = r.k AND {on_eddy};"
    failures += util.compare_matrix(EDDY, sql, want, name)
# The preserved side's time stays an event-time attribute: 5-minute windows over the outer
# join's output lose no row (padded rows come out before the watermark passes them).
for kind, side, (name, on_eddy, on_sqlite) in (("LEFT", "l", CASES[0]), ("RIGHT", "r", CASES[1])):
    want = dict(db.execute(
        f"SELECT {side}.t - (({side}.t % 300) + 300) % 300, COUNT(*) "  # floor to 5 minutes
        f"FROM l {kind} JOIN r ON l.k = r.k AND {on_sqlite} GROUP BY 1").fetchall())
    sql = DDL + f"""
CREATE VIEW j AS SELECT {side}.ts AS ts, l.id AS lid, r.id AS rid
  FROM l {kind} JOIN r ON l.k = r.k AND {on_eddy};
SELECT window_start, COUNT(*) FROM TABLE(TUMBLE(TABLE j, DESCRIPTOR(ts), INTERVAL '5' MINUTE))
GROUP BY window_start, window_end;"""
    for par, batch in ((1, 1), (2, 1024)):
        p = util.run_sql(EDDY, sql, par, batch)
        got = {}
        for r in csv.reader(p.stdout.splitlines()[1:]):
            start = datetime.datetime.strptime(r[0][:19], "%Y-%m-%d %H:%M:%S")
            got[int((start - BASE).total_seconds())] = int(r[1])
        if p.returncode != 0 or got != want:
            print(f"  FAIL: windows over {kind} {name} p={par} batch={batch}: exit "
                  f"{p.returncode} {p.stderr[:300]} got {sorted(got.items())[:4]} want "
                  f"{sorted(want.items())[:4]}")
            failures += 1
        else:
            print(f"  ok: windows over {kind} {name} p={par} batch={batch}: {len(got)} windows, "
                  f"{sum(got.values())} rows = sqlite3")
sys.exit(1 if failures else 0)
