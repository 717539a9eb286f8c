"""Differential test of interval joins: eddy's streaming join of two random streams equals
sqlite3's batch join with the same condition (an independent implementation), for several time
bounds and an extra ON condition, inner and outer, at parallelism 1 and 2 and batch sizes 1, 2
and 1024.

Three modes:
- on time: random keys, timestamps out of order by up to 30 s, watermark delay 30 s: no row is
  late;
- late rows: left rows out of order by up to 50 s with a 10 s delay (a fifth of them behind the
  watermark of the left stream), the right stream in time order. Flink SQL's interval join
  (TimeIntervalJoin) drops no row for being late: a row joins the other side's rows that are still
  kept, and is kept itself while the watermark is below the last time of the other side it can
  match. Which rows are still kept depends on how far the two inputs have got (the join's
  watermark is the minimum of both, so it depends on timing), so the data is made such that the
  result does not: (a) a late left row is less late than the bound on the right's time after it
  (so it is kept whatever the watermark, which is at most the left stream's own), and (b) no right
  row of its key lies where it could match it but could already have expired: in
  [l.ts − upper, W − upper), W the left stream's watermark before it (a right row expires when the
  watermark passes r.ts + upper). A right row is never late (its stream is in order). Then every
  pair within the bounds joins in every run, as in Flink, and the reference is the batch join of
  all rows; a join that dropped late rows would lose pairs. (The unit tests in
  tests/unit/runtime/lateness_test.cc drive the watermark by hand for the cases that depend on it.)

- window joins (Flink: two window aggregations joined on window_start, window_end and keys) with
  late rows on both sides: each side's window aggregation drops the rows whose window has fired (a
  file source's rows meet the watermark of the rows before them, so this is deterministic; a
  window [s, e) fires at e − 1 ms), and the aggregated rows come out before the watermark that
  fired them, so none is late for the join. The reference keeps the rows whose window had not
  fired, aggregates per window and key, and joins on both.

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

# ---- late rows ----
LATE_DELAY = 10  # seconds, both tables
# (name, eddy ON after the key equality, sqlite condition, lower, upper): lower <= l.t - r.t <=
# upper, with lower <= 0 <= upper.
LATE_CASES = [
    ("symmetric 60 s", CASES[0][1], CASES[0][2], -60, 60),
    ("right after left, 2 min", CASES[1][1], CASES[1][2], -120, 0),
    ("with extra condition", CASES[3][1], CASES[3][2], -45, 0),
]


def late_streams(seed):
    r = random.Random(seed)
    right, t = [], 0
    for i in range(700):
        t += r.randint(0, 7)
        right.append((i, r.randint(0, 9), t, r.randint(0, 9)))
    by_key = {}
    for _, k, tr, _ in right:
        by_key.setdefault(k, []).append(tr)
    left, mx, late = [], None, set()
    for i in range(1000):
        early = r.randint(11, 50) if r.random() < 0.2 else r.randint(0, 9)
        tl = i * 5 - early
        w = None if mx is None else mx - LATE_DELAY  # the left stream's watermark before the row
        keys = list(range(10))
        r.shuffle(keys)
        key = None if r.random() < 0.03 else keys[0]
        if w is not None and tl <= w:
            # (a) less late than every case's bound on the right's time after it: -lower > w - tl
            assert w - tl < min(-lo for _, _, _, lo, _ in LATE_CASES)
            # (b) no right row of the key in [tl - upper, w - upper) for any case
            def safe(k):
                return all(not (tl - up <= x < w - up) for x in by_key.get(k, [])
                           for _, _, _, _, up in LATE_CASES)
            ok = [k for k in keys if safe(k)]
            if key is not None:
                key = ok[0] if ok else None
            late.add(i)
        left.append((i, key, tl, r.randint(0, 9)))
        mx = tl if mx is None else max(mx, tl)
    return left, right, late


late_left, late_right, late_ids = late_streams(5)
write(f"{WORK}/ll.csv", late_left)
write(f"{WORK}/lr.csv", late_right)
for name, rows in (("ll", late_left), ("lr", late_right)):
    db.execute(f"CREATE TABLE {name} (id INTEGER, k INTEGER, t INTEGER, v INTEGER)")
    db.executemany(f"INSERT INTO {name} VALUES (?,?,?,?)", rows)
# Small chunks on the left: its watermark moves while it is read, so its late rows meet it.
LATE_DDL = f"""
CREATE TABLE l (id INT, k INT, ts TIMESTAMP(3), v INT, WATERMARK FOR ts AS ts - INTERVAL '{LATE_DELAY}' SECOND)
WITH ('connector' = 'filesystem', 'path' = '{WORK}/ll.csv', 'format' = 'csv', 'source.chunk-size' = '512');
CREATE TABLE r (id INT, k INT, ts TIMESTAMP(3), v INT, WATERMARK FOR ts AS ts - INTERVAL '{LATE_DELAY}' SECOND)
WITH ('connector' = 'filesystem', 'path' = '{WORK}/lr.csv', 'format' = 'csv');"""
print(f"  late rows: {len(late_ids)} of {len(late_left)} left rows are behind the left stream's "
      "watermark")
if len(late_ids) < 100:
    print("  FAIL: the late mode has too few late rows")
    failures += 1
for kind, i in (("INNER", 0), ("INNER", 1), ("INNER", 2), ("LEFT", 0), ("FULL", 1)):
    name, on_eddy, on_sqlite, _, _ = LATE_CASES[i]
    name = f"late: {kind} {name}"
    q = on_sqlite.replace("l.", "ll.").replace("r.", "lr.")
    want = sorted(db.execute(
        f"SELECT ll.id, lr.id FROM ll {kind} JOIN lr ON ll.k = lr.k AND {q}").fetchall(), key=repr)
    # The late rows must matter: many of the expected pairs have one.
    n = sum(1 for a, b in want if a in late_ids and b is not None)
    if n < 20:
        print(f"  FAIL: {name}: only {n} expected pairs have a late left row")
        failures += 1
    sql = LATE_DDL + f"SELECT l.id, r.id FROM l {kind} JOIN r ON l.k = r.k AND {on_eddy};"
    failures += util.compare_matrix(EDDY, sql, want, name)

# ---- window join, late rows on both sides ----
def disordered(seed, n):
    r = random.Random(seed)
    return [(i, None if r.random() < 0.03 else r.randint(0, 5), i * 3 - r.randint(0, 50),
             r.randint(0, 9)) for i in range(n)]


def window_counts(rows):
    """(k, window start in s) -> (count, sum of v) over the rows whose 1-minute window had not
    fired when they arrived (fired: the watermark before the row >= window end − 1 ms)."""
    out, mx = {}, None
    for _, k, t, v in rows:
        w = None if mx is None else (mx - LATE_DELAY) * 1000  # ms
        start = t - t % 60
        if w is None or w < (start + 60) * 1000 - 1:
            n, sv = out.get((k, start), (0, 0))
            out[(k, start)] = (n + 1, sv + v)
        mx = t if mx is None else max(mx, t)
    return out


wa_rows, wb_rows = disordered(21, 900), disordered(22, 700)
write(f"{WORK}/wa.csv", wa_rows)
write(f"{WORK}/wb.csv", wb_rows)
ca, cb = window_counts(wa_rows), window_counts(wb_rows)
late_a = len(wa_rows) - sum(n for n, _ in ca.values())
late_b = len(wb_rows) - sum(n for n, _ in cb.values())
print(f"  window join: {late_a} and {late_b} rows are late for their windows")
if late_a < 20 or late_b < 20:
    print("  FAIL: window join: too few late rows")
    failures += 1


def stamp_s(t):
    return (BASE + datetime.timedelta(seconds=t)).strftime("%Y-%m-%d %H:%M:%S")


want = [(str(k), stamp_s(start), str(na), str(sa), str(cb[(k, start)][0]), str(cb[(k, start)][1]))
        for (k, start), (na, sa) in ca.items() if k is not None and (k, start) in cb]
WJ = f"""
CREATE TABLE a (id INT, k INT, ts TIMESTAMP(3), v INT, WATERMARK FOR ts AS ts - INTERVAL '{LATE_DELAY}' SECOND)
WITH ('connector' = 'filesystem', 'path' = '{WORK}/wa.csv', 'format' = 'csv', 'source.chunk-size' = '512');
CREATE TABLE b (id INT, k INT, ts TIMESTAMP(3), v INT, WATERMARK FOR ts AS ts - INTERVAL '{LATE_DELAY}' SECOND)
WITH ('connector' = 'filesystem', 'path' = '{WORK}/wb.csv', 'format' = 'csv', 'source.chunk-size' = '512');
CREATE VIEW wa AS SELECT k, window_start, window_end, window_time, COUNT(*) AS n, SUM(v) AS s
  FROM TABLE(TUMBLE(TABLE a, DESCRIPTOR(ts), INTERVAL '1' MINUTE))
  GROUP BY k, window_start, window_end, window_time;
CREATE VIEW wb AS SELECT k, window_start, window_end, window_time, COUNT(*) AS n, SUM(v) AS s
  FROM TABLE(TUMBLE(TABLE b, DESCRIPTOR(ts), INTERVAL '1' MINUTE))
  GROUP BY k, window_start, window_end, window_time;
SELECT wa.k, wa.window_start, wa.n, wa.s, wb.n, wb.s FROM wa JOIN wb
  ON wa.window_start = wb.window_start AND wa.window_end = wb.window_end AND wa.k = wb.k;"""
failures += util.compare_matrix(EDDY, WJ, want, "late: window join", reference="reference",
                                cell=lambda x: util.norm_ts(x) if ":" in x else x)
sys.exit(1 if failures else 0)
