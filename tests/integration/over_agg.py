"""Differential test of OVER aggregation: eddy's streaming result on a random out-of-order stream
(random keys, equal timestamps, NULLs) equals sqlite3's window functions over the same rows (an
independent implementation), for RANGE and ROWS frames, bounded and unbounded, at parallelism 1
and 2 and batch sizes 1, 2 and 1024. Integer AVG is truncated in eddy (as in Flink); the sqlite3
side truncates it the same way.

Two modes:
- on time: disorder below the watermark delay, so nothing is late;
- late rows: disorder up to 40 s with a 10 s delay. A file source's rows each see the watermark of
  the rows before them (max event time − delay), so which rows are late is deterministic. The
  reference drops exactly the rows Flink SQL drops: with UNBOUNDED PRECEDING (and LAG, whose
  default frame is unbounded) a row at or behind the watermark (AbstractRowTimeUnboundedPrecedingOver);
  with a bounded frame a row at or before the latest time already processed for its key
  (RowTimeRangeBoundedPrecedingFunction / RowTimeRowsBoundedPrecedingFunction: lastTriggeringTs),
  computed by simulating Flink's timers row by row, then sqlite3 evaluates the windows over the
  rows kept. The simulation includes the RANGE function's state-cleanup timers, which also move
  lastTriggeringTs (a stale one) or reset it (the current one); eddy does not have them, so the
  test checks that this data never reaches them (every key has rows often enough) instead of
  assuming it.

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

# ---- late rows ----
LATE_DELAY = 10  # seconds


def late_stream(seed, n, distinct):
    """Rows (id, k, t, v) in arrival order: 4 keys, about one row a second, up to 40 s early
    (beyond the 10 s delay). `distinct`: unique times per key (ROWS frames)."""
    r = random.Random(seed)
    out, used = [], set()
    for i in range(n):
        k = r.randint(0, 3)
        t = i + r.choice((0, 0, 0, -r.randint(1, 40)))
        if distinct:
            while (k, t) in used:
                t -= 1
            used.add((k, t))
        out.append((i, k, t, None if r.random() < 0.05 else r.randint(-50, 50)))
    return out


def watermarks(rows):
    """The watermark before each row (ms): max event time of the rows before it − delay."""
    out, mx = [], None
    for _, _, t, _ in rows:
        out.append(None if mx is None else mx * 1000 - LATE_DELAY * 1000)
        mx = t if mx is None else max(mx, t)
    return out


def kept_unbounded(rows):
    """Flink: a row at or behind the watermark is dropped."""
    return [w is None or t * 1000 > w for (_, _, t, _), w in zip(rows, watermarks(rows))]


def kept_bounded(rows):
    """eddy's rule for bounded frames, written from its definition: a row is dropped when its
    time is at or before the latest time processed for its key, i.e. of a kept row of that key at
    or before the current watermark that arrived behind an earlier watermark (a timer fires at
    the next watermark after it is set)."""
    kept, hist = [], {}
    for (_, k, t, _), w in zip(rows, watermarks(rows)):
        done = [x for x, wa in hist.get(k, [])
                if w is not None and x <= w and (wa is None or wa < w)]
        ok = not done or t * 1000 > max(done)
        kept.append(ok)
        if ok:
            hist.setdefault(k, []).append((t * 1000, w))
    return kept


def kept_flink_bounded(rows, range_ms=None):
    """Flink's bounded OVER functions simulated with their timers, the watermark advanced before
    every row: processElement keeps a row iff t > lastTriggeringTs and registers a timer at t
    (unset, Flink reads lastTriggeringTs as 0, i.e. 1970-01-01, before any row here: times here
    count from 2024-01-01); onTimer(ts) sets lastTriggeringTs = ts. For RANGE (`range_ms` set) each kept row
    also registers a cleanup timer at t + 1.5 × range + 1 unless the current one is at least
    t + range + 1; when the current cleanup timer fires, the key's state is cleared (so
    lastTriggeringTs is unset again), and a stale one moves lastTriggeringTs like a data timer."""
    st = {}
    kept, fired_to = [], None
    for (_, k, t, _), w in zip(rows, watermarks(rows)):
        t *= 1000
        if w is not None and (fired_to is None or w > fired_to):
            for s in st.values():
                for ts in sorted(x for x in s["timers"] if x <= w):
                    s["timers"].discard(ts)
                    if s["cleanup"] is not None and s["cleanup"] <= ts:
                        s["last"], s["cleanup"] = None, None
                        continue
                    s["last"] = ts
            fired_to = w
        s = st.setdefault(k, {"last": None, "cleanup": None, "timers": set()})
        ok = s["last"] is None or t > s["last"]
        kept.append(ok)
        if ok:
            s["timers"].add(t)
            if range_ms is not None and (s["cleanup"] is None or s["cleanup"] < t + range_ms + 1):
                s["cleanup"] = t + range_ms * 3 // 2 + 1
                s["timers"].add(s["cleanup"])
    return kept


# Seed 3: a data set whose RANGE case keeps off Flink's cleanup timers (checked below).
late_e = late_stream(3, 900, distinct=False)
late_e2 = late_stream(12, 900, distinct=True)
for name, data in (("le", late_e), ("le2", late_e2)):
    with open(f"{WORK}/{name}.csv", "w", newline="") as f:
        w = csv.writer(f)
        for i, k, t, v in data:
            w.writerow([i, k, (BASE + datetime.timedelta(seconds=t)).strftime("%Y-%m-%d %H:%M:%S"),
                        "" if v is None else v])
LATE_DDL = "".join(f"""CREATE TABLE {n} (id INT, k INT, ts TIMESTAMP(3), v INT,
  WATERMARK FOR ts AS ts - INTERVAL '{LATE_DELAY}' SECOND)
WITH ('connector' = 'filesystem', 'path' = '{WORK}/{n}.csv', 'format' = 'csv');"""
                   for n in ("le", "le2"))


def reference(data, kept, frame_s):
    d = sqlite3.connect(":memory:")
    d.execute("CREATE TABLE x (id INTEGER, k INTEGER, t INTEGER, v INTEGER)")
    d.executemany("INSERT INTO x VALUES (?,?,?,?)", [r for r, ok in zip(data, kept) if ok])
    return [tuple("" if x is None else str(x) for x in r) for r in d.execute(f"""
        SELECT id, SUM(v) OVER w, COUNT(*) OVER w, COUNT(v) OVER w, MIN(v) OVER w, MAX(v) OVER w,
               CAST(SUM(v) OVER w AS INTEGER) / NULLIF(COUNT(v) OVER w, 0)
        FROM x WINDOW w AS (PARTITION BY k ORDER BY t {frame_s})""")]


# (name, eddy frame, sqlite frame, table, Flink's kept rows)
LATE_CASES = [
    ("late: range 30 s", CASES[0][1], CASES[0][2], "le",
     kept_flink_bounded(late_e, range_ms=30000), kept_bounded(late_e)),
    ("late: range unbounded", CASES[1][1], CASES[1][2], "le", kept_unbounded(late_e), None),
    ("late: rows 3", CASES[2][1], CASES[2][2], "le2", kept_flink_bounded(late_e2),
     kept_bounded(late_e2)),
    ("late: rows unbounded", CASES[3][1], CASES[3][2], "le2", kept_unbounded(late_e2), None),
]
for name, frame_e, frame_s, table, kept, eddy_rule in LATE_CASES:
    data = late_e if table == "le" else late_e2
    wms = watermarks(data)
    behind = [w is not None and r[2] * 1000 <= w for r, w in zip(data, wms)]
    dropped = sum(1 for ok in kept if not ok)
    behind_kept = sum(1 for b, ok in zip(behind, kept) if b and ok)
    print(f"  {name}: {dropped} of {len(data)} rows dropped as late, {behind_kept} kept although "
          "behind the watermark")
    # The data must make the mode test something: late rows dropped, and for bounded frames rows
    # behind the watermark that Flink still keeps (a rule dropping every row behind the watermark
    # would then fail).
    if dropped < 20 or (eddy_rule is not None and behind_kept < 20):
        print(f"  FAIL: {name}: the data has too few late rows to test the rule")
        failures += 1
    if eddy_rule is not None and eddy_rule != kept:
        bad = [data[i] for i in range(len(data)) if eddy_rule[i] != kept[i]][:3]
        print(f"  FAIL: {name}: this data reaches Flink's state-cleanup timers (rows {bad}), "
              "which eddy does not model: change the data")
        failures += 1
    want = sorted(reference(data, kept, frame_s), key=lambda r: (int(r[0]),) + r[1:])
    o = f"OVER (PARTITION BY k ORDER BY ts {frame_e})"
    sql = LATE_DDL + (f"SELECT id, SUM(v) {o}, COUNT(*) {o}, COUNT(v) {o}, MIN(v) {o}, "
                      f"MAX(v) {o}, AVG(v) {o} FROM {table};")
    for par in (1, 2):
        for batch in (1, 2, 1024):
            p = util.run_sql(EDDY, sql, par, batch)
            if p.returncode != 0:
                print(f"  FAIL: {name} p={par} batch={batch}: exit {p.returncode}: {p.stderr[:400]}")
                failures += 1
                continue
            got = sorted((tuple(r) for r in csv.reader(p.stdout.splitlines()[1:])),
                         key=lambda r: (int(r[0]),) + r[1:])
            if got != want:
                print(f"  FAIL: {name} p={par} batch={batch}: {len(got)} rows vs {len(want)}; "
                      f"missing {[r for r in want if r not in got][:3]} "
                      f"extra {[r for r in got if r not in want][:3]}")
                failures += 1
            else:
                print(f"  ok: {name} p={par} batch={batch}: {len(got)} rows = sqlite3")
# LAG: the default frame (RANGE UNBOUNDED PRECEDING), so the unbounded rule.
kept = kept_unbounded(late_e2)
d = sqlite3.connect(":memory:")
d.execute("CREATE TABLE x (id INTEGER, k INTEGER, t INTEGER, v INTEGER)")
d.executemany("INSERT INTO x VALUES (?,?,?,?)", [r for r, ok in zip(late_e2, kept) if ok])
want_lag = sorted(tuple("" if x is None else str(x) for x in r) for r in d.execute(
    "SELECT id, LAG(v) OVER w, LAG(v, 3, -7) OVER w FROM x WINDOW w AS (PARTITION BY k ORDER BY t)"))
o = "OVER (PARTITION BY k ORDER BY ts)"
failures += util.compare_matrix(EDDY, LATE_DDL + f"SELECT id, LAG(v) {o}, LAG(v, 3, -7) {o} FROM le2;",
                                want_lag, "late: lag", cell=str)
sys.exit(1 if failures else 0)
