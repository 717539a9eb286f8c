"""Differential test of MATCH_RECOGNIZE: eddy's streaming operator on random out-of-order rows
equals a naive batch evaluation written here (an independent implementation: a backtracking
matcher that tries the mappings of each start row in SQL:2016 preferment order and takes the
first, then applies AFTER MATCH SKIP), for ONE ROW PER MATCH and ALL ROWS PER MATCH (RUNNING and
FINAL measures), several patterns (greedy, reluctant, optional, bounded, a match-dependent
DEFINE, WITHIN), at parallelism 1 and 2 and batch sizes 1, 2 and 1024. A one-minute tumbling
window after each query (over the ORDER BY column of ALL ROWS PER MATCH, over MATCH_ROWTIME() of
ONE ROW PER MATCH) checks that the output's event-time attribute is valid: no row is late for
the window although matches come out after the watermark passed their rows.

Rows: 6 keys, event times strictly increasing in generation order (so the order inside a key is
unambiguous), written out of order by up to 40 s with a 60 s watermark delay (no row is late);
about 3% of the values are NULL.

Late-row mode: the same file with a 20 s delay. A file source's rows each meet the watermark of
the rows before them (max event time − delay), so which rows are late is deterministic; as Flink's
CepOperator, eddy drops a row whose time is at or behind the watermark. The reference drops
exactly those rows (computed here from the file order) and matches the rest.

Usage: python3 match_recognize.py <eddy> <workdir>
"""
import csv
import datetime
import os
import random
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
import util  # noqa: E402

EDDY, WORK = sys.argv[1], sys.argv[2]
sys.setrecursionlimit(20000)
rng = random.Random(20260301)
BASE = datetime.datetime(2024, 1, 1)

# ---- data ----
ROWS = []  # (id, k, t seconds, v or None), in event-time order
t = 0
for i in range(900):
    t += rng.randint(1, 5)
    v = None if rng.random() < 0.03 else rng.randint(0, 9)
    ROWS.append((i, rng.randint(0, 5), t, v))
file_order = sorted(ROWS, key=lambda r: r[2] + rng.uniform(0, 40))
with open(f"{WORK}/events.csv", "w", newline="") as f:
    w = csv.writer(f)
    for i, k, ts, v in file_order:
        w.writerow([i, k, (BASE + datetime.timedelta(seconds=ts)).strftime("%Y-%m-%d %H:%M:%S"),
                    "" if v is None else v])
PARTS = {}
for r in ROWS:
    PARTS.setdefault(r[1], []).append(r)

# ---- the reference matcher ----
# Pattern trees: ("var", name) | ("seq", [p...]) | ("alt", [p...])
#                | ("quant", p, min, max or None, greedy)


def gt(a, b):
    return a is not None and b is not None and a > b


def lt(a, b):
    return a is not None and b is not None and a < b


def ge(a, b):
    return a is not None and b is not None and a >= b


def var_rows(rows, path, var):
    return [rows[i] for i, x in path if x == var]


def last_v(rows, path, var):
    rs = var_rows(rows, path, var)
    return rs[-1][3] if rs else None


def sum_v(rows, path, var):
    vs = [r[3] for r in (var_rows(rows, path, var) if var else [rows[i] for i, _ in path])
          if r[3] is not None]
    return sum(vs) if vs else None


SIMPLE = {  # A AS A.v >= 5, B AS B.v < 5, C AS C.v > PREV(C.v)
    "A": lambda rows, path, i: ge(rows[i][3], 5),
    "B": lambda rows, path, i: lt(rows[i][3], 5),
    "C": lambda rows, path, i: i > 0 and gt(rows[i][3], rows[i - 1][3]),
}
SIMPLE_SQL = "A AS A.v >= 5, B AS B.v < 5, C AS C.v > PREV(C.v)"
# The conditions see the partial match plus the candidate (mapped to the variable tested).
DEPENDENT = {  # B below the last A; C above the last B once the B values sum to at least 3
    "A": lambda rows, path, i: ge(rows[i][3], 5),
    "B": lambda rows, path, i: lt(rows[i][3], last_v(rows, path, "A")),
    "C": lambda rows, path, i: (gt(rows[i][3], last_v(rows, path, "B")) and
                                ge(sum_v(rows, path, "B"), 3)),
}
DEPENDENT_SQL = ("A AS A.v >= 5, B AS B.v < A.v, "
                 "C AS C.v > LAST(B.v) AND SUM(B.v) >= 3")


def V(n):
    return ("var", n)


def seq(*ps):
    return ("seq", list(ps))


def q(p, lo, hi, greedy=True):
    return ("quant", p, lo, hi, greedy)


def matches_at(rows, start, pattern, conds, within):
    """Yields the complete mappings (lists of (row, var)) from `start`, most preferred first."""

    def m(node, i, path):
        kind = node[0]
        if kind == "var":
            if i >= len(rows):
                return
            if within is not None and rows[i][2] - rows[start][2] > within:
                return
            name = node[1]
            cond = conds.get(name)
            if cond is None or cond(rows, path + [(i, name)], i):
                yield i + 1, path + [(i, name)]
        elif kind == "seq":
            yield from seq_m(node[1], 0, i, path)
        elif kind == "alt":
            for p in node[1]:
                yield from m(p, i, path)
        else:
            yield from rep(node, 0, i, path)

    def seq_m(ps, k, i, path):
        if k == len(ps):
            yield i, path
            return
        for j, p2 in m(ps[k], i, path):
            yield from seq_m(ps, k + 1, j, p2)

    def rep(node, count, i, path):
        _, body, lo, hi, greedy = node
        more = hi is None or count < hi

        def again():
            if more:
                for j, p2 in m(body, i, path):
                    if j > i:  # bodies always consume rows here
                        yield from rep(node, count + 1, j, p2)

        if greedy:
            yield from again()
            if count >= lo:
                yield i, path
        else:
            if count >= lo:
                yield i, path
            yield from again()

    for _, path in m(pattern, start, []):
        return path
    return None


def find_matches(rows, pattern, conds, skip, within):
    out = []
    pos = 0
    while pos < len(rows):
        path = matches_at(rows, pos, pattern, conds, within)
        if path is None:
            pos += 1
            continue
        out.append(path)
        if skip == "PAST LAST ROW":
            pos = path[-1][0] + 1
        elif skip == "TO NEXT ROW":
            pos = path[0][0] + 1
        else:  # TO LAST B
            nxt = [i for i, x in path if x == skip.split()[-1]][-1]
            assert nxt != path[0][0]
            pos = nxt
    return out


def fmt(x):
    return "" if x is None else str(x)


def one_row(k, n, rows, path):
    ids = [rows[i][0] for i, _ in path]
    bs = [rows[i] for i, x in path if x == "B"]
    return (fmt(k), fmt(ids[0]), fmt(ids[-1]), fmt(n), path[-1][1], fmt(len(bs)),
            fmt(sum_v(rows, path, None)), fmt(bs[0][0] if bs else None))


def all_rows(k, n, rows, path):
    out = []
    for j in range(len(path)):
        run = path[:j + 1]
        bs = [rows[i] for i, x in run if x == "B"]
        row = rows[path[j][0]]
        out.append((fmt(k), fmt(row[0]), fmt(n), path[j][1], fmt(len(bs)),
                    fmt(sum_v(rows, run, None)), fmt(bs[-1][0] if bs else None),
                    fmt(rows[path[-1][0]][0]), fmt(rows[path[0][0]][0])))
    return out


def reference(pattern, conds, skip, within, all_rows_mode, parts=None):
    got = {}
    for k, rows in (PARTS if parts is None else parts).items():
        res = []
        for n, path in enumerate(find_matches(rows, pattern, conds, skip, within), start=1):
            if all_rows_mode:
                res.extend(all_rows(k, n, rows, path))
            else:
                res.append(one_row(k, n, rows, path))
        if res:
            got[str(k)] = res
    return got


# (name, PATTERN text, tree, DEFINE sql, conditions, AFTER MATCH SKIP, WITHIN seconds)
CASES = [
    ("A B+ C greedy", "A B+ C", seq(V("A"), q(V("B"), 1, None), V("C")), SIMPLE_SQL, SIMPLE,
     "PAST LAST ROW", None),
    ("A B+? C reluctant, to next row", "A B+? C", seq(V("A"), q(V("B"), 1, None, False), V("C")),
     SIMPLE_SQL, SIMPLE, "TO NEXT ROW", None),
    ("A B? C optional", "A B? C", seq(V("A"), q(V("B"), 0, 1), V("C")), SIMPLE_SQL, SIMPLE,
     "PAST LAST ROW", None),
    ("A B{2,4} C, to last B", "A B{2,4} C", seq(V("A"), q(V("B"), 2, 4), V("C")), SIMPLE_SQL,
     SIMPLE, "TO LAST B", None),
    ("A (B | C)+? C within 12 s, to next row", "A (B | C)+? C",
     seq(V("A"), q(("alt", [V("B"), V("C")]), 1, None, False), V("C")), SIMPLE_SQL, SIMPLE,
     "TO NEXT ROW", 12),
    ("A B+ C match-dependent, to next row", "A B+ C",
     seq(V("A"), q(V("B"), 1, None), V("C")), DEPENDENT_SQL, DEPENDENT, "TO NEXT ROW", None),
]

DDL = f"""CREATE TABLE events (id INT, k INT, ts TIMESTAMP(3), v INT,
  WATERMARK FOR ts AS ts - INTERVAL '60' SECOND)
WITH ('connector' = 'filesystem', 'path' = '{WORK}/events.csv', 'format' = 'csv');
"""
ONE_MEASURES = ("FIRST(id) AS first_id, LAST(id) AS last_id, MATCH_NUMBER() AS n, "
                "CLASSIFIER() AS cls, COUNT(B.*) AS nb, SUM(v) AS sv, FIRST(B.id) AS fb")
ONE_SELECT = "k, first_id, last_id, n, cls, nb, sv, fb"
ALL_MEASURES = ("MATCH_NUMBER() AS n, CLASSIFIER() AS cls, COUNT(B.*) AS nb, SUM(v) AS sv, "
                "LAST(B.id) AS lb, FINAL LAST(id) AS fin, FIRST(id) AS first_id")
ALL_SELECT = "k, id, n, cls, nb, sv, lb, fin, first_id"


def query(pattern_sql, define_sql, skip, within, all_rows_mode, window=False, ddl=None):
    head = (f"SELECT {ALL_SELECT if all_rows_mode else ONE_SELECT} FROM events"
            if not window else "CREATE VIEW mr AS SELECT * FROM events")
    tail = ("" if not window else f"""
SELECT CAST(window_start AS STRING), COUNT(*) FROM TABLE(TUMBLE(TABLE mr,
  DESCRIPTOR({'ts' if all_rows_mode else 'mt'}), INTERVAL '1' MINUTE))
GROUP BY window_start, window_end;""")
    measures = ALL_MEASURES if all_rows_mode else ONE_MEASURES
    if window and not all_rows_mode:
        measures += ", MATCH_ROWTIME() AS mt"
    return (DDL if ddl is None else ddl) + head + f"""
MATCH_RECOGNIZE (
  PARTITION BY k
  ORDER BY ts
  MEASURES {measures}
  {"ALL ROWS PER MATCH" if all_rows_mode else "ONE ROW PER MATCH"}
  AFTER MATCH SKIP {skip}
  PATTERN ({pattern_sql})
  {f"WITHIN INTERVAL '{within}' SECOND" if within is not None else ""}
  DEFINE {define_sql}
) MR;""" + tail


def window_counts(want, all_rows_mode):
    """Rows per one-minute window of the reference result (by id of the row / the last row)."""
    counts = {}
    for rows in want.values():
        for r in rows:
            ts = ROWS[int(r[1] if all_rows_mode else r[2])][2]
            start = (BASE + datetime.timedelta(seconds=ts - ts % 60)).strftime("%Y-%m-%d %H:%M:%S")
            counts[start + ".000"] = counts.get(start + ".000", 0) + 1
    return counts


def run(sql, par, batch):
    return util.run_sql(EDDY, sql, par, batch)


failures = 0
for name, pattern_sql, tree, define_sql, conds, skip, within in CASES:
    for all_rows_mode in (False, True):
        label = f"{name}, {'ALL ROWS' if all_rows_mode else 'ONE ROW'}"
        want = reference(tree, conds, skip, within, all_rows_mode)
        total = sum(len(x) for x in want.values())
        sql = query(pattern_sql, define_sql, skip, within, all_rows_mode)
        for par in (1, 2):
            for batch in (1, 2, 1024):
                p = run(sql, par, batch)
                if p.returncode != 0:
                    print(f"  FAIL: {label} p={par} batch={batch}: exit {p.returncode}: "
                          f"{p.stderr[:600]}")
                    failures += 1
                    continue
                got = {}
                for r in csv.reader(p.stdout.splitlines()[1:]):
                    got.setdefault(r[0], []).append(tuple(r))
                # Per key, the rows come in match order (and in row order inside a match).
                if got != want:
                    bad_keys = sorted(k for k in set(got) | set(want) if got.get(k) != want.get(k))
                    k0 = bad_keys[0]
                    print(f"  FAIL: {label} p={par} batch={batch}: keys {bad_keys} differ; key "
                          f"{k0}: eddy {got.get(k0, [])[:6]} reference {want.get(k0, [])[:6]}")
                    failures += 1
                else:
                    print(f"  ok: {label} p={par} batch={batch}: {total} rows = reference")
        # The output's time attribute: windows over it lose no row.
        want_w = window_counts(want, all_rows_mode)
        sql = query(pattern_sql, define_sql, skip, within, all_rows_mode, window=True)
        for par, batch in ((1, 1), (2, 2), (2, 1024)):
            p = run(sql, par, batch)
            got_w = {r[0]: int(r[1]) for r in csv.reader(p.stdout.splitlines()[1:])}
            if p.returncode != 0 or got_w != want_w:
                print(f"  FAIL: {label} windowed p={par} batch={batch}: exit {p.returncode} "
                      f"{p.stderr[:300]} rows per window {sorted(got_w.items())[:4]} vs "
                      f"reference {sorted(want_w.items())[:4]}")
                failures += 1
            else:
                print(f"  ok: {label} windowed p={par} batch={batch}: {len(want_w)} windows")
        if total == 0:
            print(f"  FAIL: {label}: the reference finds no match (the case tests nothing)")
            failures += 1

# ---- late rows ----
LATE_DELAY = 20
late_ids, mx = set(), None
for i, k, ts, v in file_order:
    if mx is not None and ts <= mx - LATE_DELAY:  # at or behind the watermark: late
        late_ids.add(i)
    mx = ts if mx is None else max(mx, ts)
PARTS_LATE = {}
for r in ROWS:
    if r[0] not in late_ids:
        PARTS_LATE.setdefault(r[1], []).append(r)
print(f"  late rows: {len(late_ids)} of {len(ROWS)} rows are at or behind the watermark")
if len(late_ids) < 30:
    print("  FAIL: the late mode has too few late rows")
    failures += 1
LATE_DDL = DDL.replace("INTERVAL '60' SECOND", f"INTERVAL '{LATE_DELAY}' SECOND")
for name, pattern_sql, tree, define_sql, conds, skip, within in (CASES[0], CASES[1], CASES[4]):
    for all_rows_mode in (False, True):
        label = f"late: {name}, {'ALL ROWS' if all_rows_mode else 'ONE ROW'}"
        want = reference(tree, conds, skip, within, all_rows_mode, PARTS_LATE)
        if want == reference(tree, conds, skip, within, all_rows_mode):
            print(f"  FAIL: {label}: the late rows change no match (the case tests nothing)")
            failures += 1
        total = sum(len(x) for x in want.values())
        sql = query(pattern_sql, define_sql, skip, within, all_rows_mode, ddl=LATE_DDL)
        for par in (1, 2):
            for batch in (1, 2, 1024):
                p = run(sql, par, batch)
                got = {}
                for r in csv.reader(p.stdout.splitlines()[1:]):
                    got.setdefault(r[0], []).append(tuple(r))
                if p.returncode != 0 or got != want:
                    bad_keys = sorted(k for k in set(got) | set(want) if got.get(k) != want.get(k))
                    k0 = bad_keys[0] if bad_keys else None
                    print(f"  FAIL: {label} p={par} batch={batch}: exit {p.returncode} "
                          f"{p.stderr[:300]} keys {bad_keys} differ; key {k0}: eddy "
                          f"{got.get(k0, [])[:6]} reference {want.get(k0, [])[:6]}")
                    failures += 1
                else:
                    print(f"  ok: {label} p={par} batch={batch}: {total} rows = reference")
sys.exit(1 if failures else 0)
