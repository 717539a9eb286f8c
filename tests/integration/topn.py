"""Differential test of Top-N (ROW_NUMBER() ... WHERE rn <= N): the final table of eddy's updating
result, materialized from its changelog (+I/+U add a row, -U/-D remove one), equals sqlite3's
ROW_NUMBER() over the same random rows (an independent implementation); ties are broken by
arrival order in eddy and by id in sqlite3 (ids follow file order), NULLs sort lowest. At
parallelism 1 and 2 and batch sizes 1, 2 and 1024.

Then window Top-N and window deduplication (Flink SQL "Window Top-N", "Window Deduplication")
on random timestamped rows: the result must be insert-only (no op column, no retraction) and
equal sqlite3's ROW_NUMBER() computed per window (windows assigned in Python from epoch
milliseconds): directly on TUMBLE and HOP window TVFs, deduplication keeping the first row
(ties: the earlier row) and the last row (ties: the later row, as Flink's keep-last), and over a
window aggregation (whose equal sums may arrive in any order at parallelism 2, so there the rank
numbers and values are compared, and each row must be one of sqlite3's groups).

The window cases run twice: on rows out of order by up to 500 ms with a 1 s watermark delay (no
row is late), and on rows out of order by up to 3 s with a 500 ms delay. A file source's rows each meet the watermark of the rows before them (max
event time − delay), so which rows are late is deterministic. As Flink's WindowRankProcessor (and
window aggregation), a row is left out of a window that has fired when it arrives, a window
[s, e) of a TIMESTAMP(3) time attribute firing when the watermark reaches e − 1 ms; the reference
assigns the windows in Python and keeps exactly the (row, window) pairs whose window had not
fired, then ranks them in sqlite3.

Usage: python3 topn.py <eddy> <workdir>
"""
import collections
import csv
import datetime
import os
import random
import sqlite3
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
import util  # noqa: E402

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
            p = util.run_sql(EDDY, sql, par, batch)
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

# Window Top-N. Times advance 37 ms per row with up to 500 ms of disorder, on a 50 ms grid (equal
# times are common); the watermark delay of 1 s makes no row late.
EPOCH = datetime.datetime(2024, 1, 1)
wrows = []
for i in range(1500):
    ts = (i * 37 + rng.randint(0, 500)) // 50 * 50
    wrows.append((i, rng.randint(0, 4), None if rng.random() < 0.05 else rng.randint(0, 40), ts))


def ts_text(ms):
    return (EPOCH + datetime.timedelta(milliseconds=ms)).strftime("%Y-%m-%d %H:%M:%S.%f")[:-3]


def ms_of(text):
    return round((datetime.datetime.strptime(text, "%Y-%m-%d %H:%M:%S.%f") - EPOCH)
                 / datetime.timedelta(milliseconds=1))


with open(f"{WORK}/w.csv", "w", newline="") as f:
    csv.writer(f).writerows([[i, k, "" if v is None else v, ts_text(ts)] for i, k, v, ts in wrows])
# Window assignment (Flink's window TVFs, aligned to the epoch): TUMBLE 5 s, HOP slide 2 s size 6 s.
db.execute("CREATE TABLE w (id INTEGER, k INTEGER, v INTEGER, ts INTEGER, ws INTEGER)")
db.executemany("INSERT INTO w VALUES (?,?,?,?,?)",
               [(i, k, v, ts, ts - ts % 5000) for i, k, v, ts in wrows])
db.execute("CREATE TABLE wh (id INTEGER, k INTEGER, v INTEGER, ts INTEGER, ws INTEGER)")
db.executemany("INSERT INTO wh VALUES (?,?,?,?,?)",
               [(i, k, v, ts, s) for i, k, v, ts in wrows
                for s in range(ts - ts % 2000 - 4000, ts + 1, 2000) if s > ts - 6000])
WTABLE = (f"CREATE TABLE w (id INT, k INT, v INT, ts TIMESTAMP(3), "
          f"WATERMARK FOR ts AS ts - INTERVAL '1' SECOND) WITH ('connector' = 'filesystem', "
          f"'path' = '{WORK}/w.csv', 'format' = 'csv'); ")
TUMBLE = "TABLE(TUMBLE(TABLE w, DESCRIPTOR(ts), INTERVAL '5' SECOND))"
HOP = "TABLE(HOP(TABLE w, DESCRIPTOR(ts), INTERVAL '2' SECOND, INTERVAL '6' SECOND))"
AGG = (f"CREATE VIEW sums AS SELECT window_start, window_end, k, SUM(v) AS total FROM {TUMBLE} "
       f"GROUP BY window_start, window_end, k; ")


def rank_query(cols, part, order, source, bound):
    return (f"SELECT {cols} FROM (SELECT *, ROW_NUMBER() OVER (PARTITION BY {part} ORDER BY "
            f"{order}) AS rn FROM {source}) WHERE {bound};")


# (name, eddy SQL, sqlite SQL, how eddy's rows become sqlite's: a function of the csv row)
cases = [
    ("top 3 per (TUMBLE window, k) by v DESC",
     WTABLE + rank_query("id, window_start, rn", "window_start, window_end, k", "v DESC", TUMBLE,
                         "rn <= 3"),
     """SELECT id, ws, rn FROM (SELECT id, ws, ROW_NUMBER() OVER (PARTITION BY ws, k
        ORDER BY v DESC NULLS LAST, id) AS rn FROM w) WHERE rn <= 3"""),
    ("top 2 per HOP window by v ASC",
     WTABLE + rank_query("id, window_start, rn", "window_start, window_end", "v", HOP, "rn < 3"),
     """SELECT id, ws, rn FROM (SELECT id, ws, ROW_NUMBER() OVER (PARTITION BY ws
        ORDER BY v ASC NULLS FIRST, id) AS rn FROM wh) WHERE rn <= 2"""),
    ("dedup first per (TUMBLE window, k)",
     WTABLE + rank_query("id, window_start, rn", "window_start, window_end, k", "ts", TUMBLE,
                         "rn = 1"),
     """SELECT id, ws, rn FROM (SELECT id, ws, ROW_NUMBER() OVER (PARTITION BY ws, k
        ORDER BY ts, id) AS rn FROM w) WHERE rn = 1"""),
    ("dedup last per HOP window",
     WTABLE + rank_query("id, window_start, rn", "window_start, window_end", "ts DESC", HOP,
                         "rn <= 1"),
     """SELECT id, ws, rn FROM (SELECT id, ws, ROW_NUMBER() OVER (PARTITION BY ws
        ORDER BY ts DESC, id DESC) AS rn FROM wh) WHERE rn = 1"""),
    ("top 2 per window of a window aggregation (SUM(v) per k) by total DESC",
     WTABLE + AGG + rank_query("window_start, rn, total, k", "window_start, window_end",
                               "total DESC", "sums", "rn <= 2"),
     """SELECT ws, rn, total, k FROM (SELECT ws, k, total, ROW_NUMBER() OVER (PARTITION BY ws
        ORDER BY total DESC NULLS LAST) AS rn FROM (SELECT ws, k, SUM(v) AS total FROM w
        GROUP BY ws, k)) WHERE rn <= 2"""),
]
def run_window_cases(cases, late_mode):
    """Runs the window cases; `late_mode`: on wl.csv with a 500 ms delay, against the tables of
    kept pairs."""
    failures = 0
    for name, sql, lite in cases:
        if late_mode:
            name = "late: " + name
            sql = sql.replace("INTERVAL '1' SECOND)", "INTERVAL '0.5' SECOND)") \
                .replace(f"{WORK}/w.csv", f"{WORK}/wl.csv")
            lite = lite.replace("FROM w)", "FROM wl)").replace("FROM wh)", "FROM whl)") \
                .replace("FROM w\n", "FROM wl\n")
        over_agg = "sums" in sql
        want_rows = [tuple("" if x is None else str(x) for x in r) for r in db.execute(lite)]
        groups = set()
        if over_agg:
            groups = {tuple("" if x is None else str(x) for x in r) for r in db.execute(
                f"SELECT ws, SUM(v), k FROM {'wl' if late_mode else 'w'} GROUP BY ws, k")}
            want = collections.Counter(r[:3] for r in want_rows)
        else:
            want = collections.Counter(want_rows)
        for par in (1, 2):
            for batch in (1, 2, 1024):
                p = util.run_sql(EDDY, sql, par, batch)
                tag = f"window {name} p={par} batch={batch}"
                if p.returncode != 0:
                    print(f"  FAIL: {tag}: {p.stderr[:300]}")
                    failures += 1
                    continue
                lines = list(csv.reader(p.stdout.splitlines()))
                if lines[0][0] == "op":
                    print(f"  FAIL: {tag}: the result is a changelog, not insert-only: {lines[:3]}")
                    failures += 1
                    continue
                got = collections.Counter()
                ok = True
                for r in lines[1:]:
                    if over_agg:
                        ws, rn, total, k = r
                        row = (str(ms_of(ws)), rn, total)
                        ok &= (row[0], total, k) in groups
                    else:
                        i, ws, rn = r
                        row = (i, str(ms_of(ws)), rn)
                    got[row] += 1
                if not ok or got != want:
                    print(f"  FAIL: {tag}: a row that is no group: {not ok}; {sum(got.values())} "
                          f"rows vs sqlite3 {sum(want.values())}; extra "
                          f"{list((got - want).items())[:3]} missing {list((want - got).items())[:3]}")
                    failures += 1
                else:
                    print(f"  ok: {tag}: {sum(got.values())} rows = sqlite3, insert-only")
    return failures


failures += run_window_cases(cases, late_mode=False)

# Late rows: rows out of order by up to 3 s, a delay of 500 ms; the (row, window) pairs whose
# window had not fired when the row arrived (windows fire at end − 1 ms), in file order.
LATE_MS = 500
lrows = []
for i in range(1500):
    ts = (i * 37 + rng.randint(0, 3000)) // 50 * 50
    lrows.append((i, rng.randint(0, 4), None if rng.random() < 0.05 else rng.randint(0, 40), ts))
with open(f"{WORK}/wl.csv", "w", newline="") as f:
    csv.writer(f).writerows([[i, k, "" if v is None else v, ts_text(ts)] for i, k, v, ts in lrows])


def kept_pairs(windows_of):
    out, mx = [], None
    for i, k, v, ts in lrows:
        w = None if mx is None else mx - LATE_MS
        out.extend((i, k, v, ts, ws) for ws, we in windows_of(ts) if w is None or w < we - 1)
        mx = ts if mx is None else max(mx, ts)
    return out


tumble_kept = kept_pairs(lambda ts: [(ts - ts % 5000, ts - ts % 5000 + 5000)])
hop_kept = kept_pairs(lambda ts: [(s, s + 6000) for s in range(ts - ts % 2000 - 4000, ts + 1, 2000)
                                  if s > ts - 6000])
# Every row is in one TUMBLE window and in 3 HOP windows (slide 2 s, size 6 s).
for table, kept, n_all in (("wl", tumble_kept, len(lrows)), ("whl", hop_kept, 3 * len(lrows))):
    db.execute(f"CREATE TABLE {table} (id INTEGER, k INTEGER, v INTEGER, ts INTEGER, ws INTEGER)")
    db.executemany(f"INSERT INTO {table} VALUES (?,?,?,?,?)", kept)
    print(f"  late: {n_all - len(kept)} of {n_all} (row, window) pairs miss their window ({table})")
    if n_all - len(kept) < 50:
        print("  FAIL: the late mode leaves out too few rows")
        failures += 1
failures += run_window_cases(cases, late_mode=True)
sys.exit(1 if failures else 0)
