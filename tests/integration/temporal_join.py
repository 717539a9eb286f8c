"""Differential test of event-time temporal joins (JOIN v FOR SYSTEM_TIME AS OF l.ts): eddy's
streaming join of a random stream against a random versioned table equals sqlite3's batch
evaluation of the same question written as SQL over the whole data (an independent
implementation): each left row takes the version of its key with the greatest time at or before
its own, for inner and LEFT joins, with and without an extra ON condition (applied to that
version, as Flink does: an older version is not tried), at parallelism 1 and 2 and batch sizes
1, 2 and 1024.

Rows: event times unique and increasing in generation order, written out of order by up to 30 s
with a 30 s watermark delay on both inputs (no row is late); left keys 0..10 with ~4 % NULLs,
versioned keys 0..7 (so some keys never have a version), and some left rows at exactly a
version's time (a version applies from its own time on).

Late-row mode: left rows up to 60 s out of order with a 10 s delay (many behind the left stream's
watermark), versions in time order. Flink SQL's TemporalRowTimeJoinOperator drops no left row for
being late: it joins it at the next watermark with the versions still kept, and versions are
dropped only when a newer one is at or before the watermark. The join's watermark is the minimum
of both inputs, so which versions are still kept depends on timing; the data is made so that the
result does not: a late left row's key has no version in (l.ts, W], W the left stream's
watermark before it (the join's watermark is at most that), so its version cannot have been
superseded yet, and every late row gets the version valid at its time, as in every run of Flink.
The reference is then the same batch evaluation over all rows; a join that dropped late rows
would lose them.

Usage: python3 temporal_join.py <eddy> <workdir>
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
rng = random.Random(20261206)
BASE = datetime.datetime(2024, 1, 1)


def stream(n, step, make):
    rows, t = [], 0
    for i in range(n):
        t += rng.randint(1, step)
        rows.append(make(i, t))
    return rows


left = stream(1500, 6, lambda i, t: (i, None if rng.random() < 0.04 else rng.randint(0, 10), t))
versions = stream(400, 20, lambda i, t: (rng.randint(0, 7), t, rng.randint(0, 9)))
# Some left rows exactly at a version's time (with that version's key).
for i in range(0, len(left), 25):
    k, t, _ = versions[rng.randrange(len(versions))]
    if all(t != x[2] for x in left):
        left[i] = (left[i][0], k, t)


def stamp(t):
    return (BASE + datetime.timedelta(seconds=t)).strftime("%Y-%m-%d %H:%M:%S")


def write(path, rows, time_index):
    rows = sorted(rows, key=lambda r: r[time_index] + rng.uniform(0, 30))  # disorder ≤ 30 s
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        for r in rows:
            w.writerow(["" if x is None else (stamp(x) if j == time_index else x)
                        for j, x in enumerate(r)])


write(f"{WORK}/l.csv", left, 2)
write(f"{WORK}/v.csv", versions, 1)
db = sqlite3.connect(":memory:")
db.execute("CREATE TABLE l (id INTEGER, k INTEGER, t INTEGER)")
db.executemany("INSERT INTO l VALUES (?,?,?)", left)
db.execute("CREATE TABLE v (k INTEGER, t INTEGER, val INTEGER)")
db.executemany("INSERT INTO v VALUES (?,?,?)", versions)

DDL = f"""
CREATE TABLE l (id INT, k INT, ts TIMESTAMP(3), WATERMARK FOR ts AS ts - INTERVAL '30' SECOND)
WITH ('connector' = 'filesystem', 'path' = '{WORK}/l.csv', 'format' = 'csv');
CREATE TABLE v (k INT, ts TIMESTAMP(3), val INT, WATERMARK FOR ts AS ts - INTERVAL '30' SECOND,
  PRIMARY KEY (k) NOT ENFORCED)
WITH ('connector' = 'filesystem', 'path' = '{WORK}/v.csv', 'format' = 'csv');
"""
# The version valid at l.t; then the extra condition on that version only.
REFERENCE = """
SELECT l.id, cur.val FROM l {kind} JOIN v AS cur
  ON cur.k = l.k AND cur.t = (SELECT MAX(t) FROM v WHERE v.k = l.k AND v.t <= l.t) {extra}
"""
CASES = [("inner", "", "", ""), ("LEFT", "LEFT", "", ""),
         ("inner, val > 4", "", "AND cur.val > 4", "AND r.val > 4"),
         ("LEFT, val > 4", "LEFT", "AND cur.val > 4", "AND r.val > 4")]


failures = 0
for name, kind, extra_sqlite, extra_eddy in CASES:
    want = sorted(db.execute(REFERENCE.format(kind=kind, extra=extra_sqlite)).fetchall(), key=repr)
    nulls = sum(1 for r in want if r[1] is None)
    if not want or (kind and nulls == 0):
        print(f"  FAIL: {name}: the reference result is degenerate ({len(want)} rows, {nulls} "
              "without a version): the case tests nothing")
        failures += 1
    sql = DDL + (f"SELECT l.id, r.val FROM l {kind} JOIN v FOR SYSTEM_TIME AS OF l.ts AS r "
                 f"ON l.k = r.k {extra_eddy};")
    failures += util.compare_matrix(EDDY, sql, want, f"{name} ({nulls} without a version)")

# ---- late rows ----
LATE_DELAY = 10


def late_data(seed):
    r = random.Random(seed)
    versions, t = [], 0
    for i in range(300):
        t += r.randint(1, 25)
        versions.append((r.randint(0, 7), t, r.randint(0, 9)))
    by_key = {}
    for k, tv, _ in versions:
        by_key.setdefault(k, []).append(tv)
    left, mx, late = [], None, set()
    for i in range(1500):
        early = r.randint(11, 60) if r.random() < 0.25 else r.randint(0, 9)
        tl = i * 5 - early
        w = None if mx is None else mx - LATE_DELAY
        key = None if r.random() < 0.04 else r.randint(0, 10)
        if w is not None and tl <= w:
            late.add(i)
            if key is not None and any(tl < x <= w for x in by_key.get(key, [])):
                ok = [k for k in range(11) if not any(tl < x <= w for x in by_key.get(k, []))]
                key = r.choice(ok) if ok else None
        left.append((i, key, tl))
        mx = tl if mx is None else max(mx, tl)
    return left, versions, late


def write_ordered(path, rows, time_index):
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        for row in rows:
            w.writerow(["" if x is None else (stamp(x) if j == time_index else x)
                        for j, x in enumerate(row)])


late_left, late_versions, late_ids = late_data(8)
write_ordered(f"{WORK}/ll.csv", late_left, 2)
write_ordered(f"{WORK}/lv.csv", late_versions, 1)
db.execute("CREATE TABLE ll (id INTEGER, k INTEGER, t INTEGER)")
db.executemany("INSERT INTO ll VALUES (?,?,?)", late_left)
db.execute("CREATE TABLE lv (k INTEGER, t INTEGER, val INTEGER)")
db.executemany("INSERT INTO lv VALUES (?,?,?)", late_versions)
# Small chunks on the left: its watermark moves while it is read, so its late rows meet it.
LATE_DDL = f"""
CREATE TABLE l (id INT, k INT, ts TIMESTAMP(3), WATERMARK FOR ts AS ts - INTERVAL '{LATE_DELAY}' SECOND)
WITH ('connector' = 'filesystem', 'path' = '{WORK}/ll.csv', 'format' = 'csv', 'source.chunk-size' = '512');
CREATE TABLE v (k INT, ts TIMESTAMP(3), val INT, WATERMARK FOR ts AS ts - INTERVAL '{LATE_DELAY}' SECOND,
  PRIMARY KEY (k) NOT ENFORCED)
WITH ('connector' = 'filesystem', 'path' = '{WORK}/lv.csv', 'format' = 'csv');
"""
print(f"  late rows: {len(late_ids)} of {len(late_left)} left rows are behind the left stream's "
      "watermark")
if len(late_ids) < 200:
    print("  FAIL: the late mode has too few late rows")
    failures += 1
LATE_REFERENCE = """
SELECT ll.id, cur.val FROM ll {kind} JOIN lv AS cur
  ON cur.k = ll.k AND cur.t = (SELECT MAX(t) FROM lv WHERE lv.k = ll.k AND lv.t <= ll.t) {extra}
"""
for name, kind, extra_sqlite, extra_eddy in CASES:
    want = sorted(db.execute(LATE_REFERENCE.format(kind=kind, extra=extra_sqlite)).fetchall(),
                  key=repr)
    joined_late = sum(1 for a, b in want if a in late_ids and b is not None)
    if joined_late < 50:
        print(f"  FAIL: late: {name}: only {joined_late} late left rows find a version")
        failures += 1
    sql = LATE_DDL + (f"SELECT l.id, r.val FROM l {kind} JOIN v FOR SYSTEM_TIME AS OF l.ts AS r "
                      f"ON l.k = r.k {extra_eddy};")
    failures += util.compare_matrix(EDDY, sql, want, f"late: {name}")
sys.exit(1 if failures else 0)
