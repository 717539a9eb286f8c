#!/usr/bin/env bash
# Late data: a bounded shuffle of the flights (each row moved by less than K positions, fixed
# seed) is aggregated per origin and hour.
#  (i)  With a watermark delay above the shuffle's maximum event-time disorder, the results equal
#       those of the sorted input (and an independent Python count) and no row is late.
#  (ii) With small delays (0 s, 1 min), window counts + late rows = all rows, and the rows captured
#       through 'table.exec.late-rows.sink' are exactly the rows that are late by Flink's rule with
#       a per-row watermark, computed independently here with Flink SQL's rules: the watermark
#       before a row is max(event time of all previous rows in file order) - delay, and a row of
#       the hourly window [s, s+1h) (a TIMESTAMP(3) time attribute) is late iff the window has
#       fired, i.e. its window_time s + 1h - 1 ms <= that watermark.
# Each eddy run is checked at parallelism 1 and 2.
#
# Usage: bash late_data.sh <path-to-eddy> <repo-root>
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

K=1000       # bound of the shuffle, in rows
SEED=20010101

cat >"$WORK/late.py" <<'PYEOF'
"""late.py prepare WORK FLIGHTS K SEED | expect WORK DELAY_US | check-windows ... | check-late ..."""
import collections
import json
import random
import sys

sys.path.insert(0, sys.argv[2])
import util  # noqa: E402

HOUR = util.HOUR_US


def load(path):
    with open(path, newline="") as f:
        lines = f.read().splitlines()
    return lines[0], lines[1:]


def parse(line):
    d, delay, _dist, origin, _dest = line.split(",")
    return util.ts_micros(d), int(delay), origin


def prepare(work, flights, k, seed):
    with util.open_text(flights) as f:
        lines = f.read().splitlines()
    header, rows = lines[0], lines[1:]
    rng = random.Random(seed)
    key = [i + rng.uniform(0, k) for i in range(len(rows))]
    order = sorted(range(len(rows)), key=lambda i: key[i])
    moved = max(abs(pos - i) for pos, i in enumerate(order))
    with open(f"{work}/sorted.csv", "w") as f:
        f.write("\n".join([header] + rows) + "\n")
    with open(f"{work}/shuffled.csv", "w") as f:
        f.write("\n".join([header] + [rows[i] for i in order]) + "\n")
    # Maximum event-time disorder: how far a row's time is behind the maximum before it.
    mx = None
    disorder = 0
    for i in order:
        t = parse(rows[i])[0]
        if mx is not None and mx - t > disorder:
            disorder = mx - t
        mx = t if mx is None else max(mx, t)
    print(len(rows), moved, disorder)


def expect(work, delay_us):
    """Per-row watermark rule -> expected late rows and per-window counts/sums of on-time rows."""
    _, rows = load(f"{work}/shuffled.csv")
    windows = collections.defaultdict(lambda: [0, 0])
    late = []
    mx = None
    for line in rows:
        t, delay, origin = parse(line)
        wm = None if mx is None else mx - delay_us
        start = t - t % HOUR
        if wm is not None and start + HOUR - 1000 <= wm:
            late.append([origin, t, delay, wm])
        else:
            w = windows[(origin, util.micros_to_str(start))]
            w[0] += 1
            w[1] += delay
        mx = t if mx is None else max(mx, t)
    with open(f"{work}/expect-{delay_us}.json", "w") as f:
        json.dump({"windows": [[k[0], k[1], v[0], v[1]] for k, v in windows.items()],
                   "late": late}, f)
    print(len(late))


def read_windows(path):
    rows = util.read_csv(path)
    out = {}
    dups = []
    for r in rows:
        if len(r) != 4:
            raise ValueError(f"row with {len(r)} fields: {r}")
        k = (r[0], util.norm_ts(r[1]))
        if k in out:
            dups.append(k)
        out[k] = (int(r[2]), int(r[3]))
    return out, dups


def report(problems, ok_msg):
    if problems:
        print("\n".join(problems[:12]))
        sys.exit(1)
    print(ok_msg)


def check_windows(got_path, want):
    """want: 'python:WORK/expect-D.json' or another eddy CSV output."""
    got, dups = read_windows(got_path)
    if want.startswith("python:"):
        with open(want[7:]) as f:
            w = json.load(f)["windows"]
        exp = {(r[0], r[1]): (r[2], r[3]) for r in w}
    else:
        exp, _ = read_windows(want)
    problems = util.compare_keyed(
        got, exp, lambda g, e: None if g == e else f"(count, sum) eddy={g} expected={e}",
        "windows")
    if dups:
        problems.insert(0, f"{len(dups)} duplicate (origin, window_start) rows, e.g. {dups[:3]}")
    total = sum(v[0] for v in got.values())
    report(problems, f"{len(got)} windows equal, {total} rows counted")


def check_late(late_path, expect_path, total_rows, windows_path):
    """Prints one 'OK|FAIL<TAB>what<TAB>detail' line per check of the late-rows sink's file."""
    with open(expect_path) as f:
        exp = json.load(f)["late"]
    got = []
    keysets = collections.Counter()
    with open(late_path) as f:
        for line in f:
            rec = json.loads(line)
            row = json.loads(rec["row"])
            keysets[tuple(sorted(row))] += 1
            wm = rec.get("watermark")
            got.append((row.get("origin"), util.ts_micros(rec["event_time"]), row.get("delay"),
                        None if wm is None else util.ts_micros(wm)))

    def result(good, what, detail):
        print(f"{'OK' if good else 'FAIL'}\t{what}\t{detail}")

    def sample(counter):
        return [(k[0], util.micros_to_str(k[1])) + tuple(k[2:]) for k in list(counter)[:4]]

    # 1. window counts + late rows == all rows
    win, _ = read_windows(windows_path)
    counted = sum(v[0] for v in win.values())
    result(counted + len(got) == total_rows, "window counts + late rows = input rows",
           f"{counted} + {len(got)} = {counted + len(got)} (input {total_rows})")
    # 2. the captured late rows are exactly the late ones: multiset of (origin, event_time)
    g = collections.Counter((o, t) for o, t, _, _ in got)
    e = collections.Counter((o, t) for o, t, _, _ in exp)
    if g == e:
        result(True, "late-rows sink = rows late by the per-row rule",
               f"{len(got)} (origin, event_time) equal as multisets")
    else:
        result(False, "late-rows sink = rows late by the per-row rule",
               f"{len(got)} captured, {len(exp)} expected; captured but not late: "
               f"{sum((g - e).values())}, e.g. {sample(g - e)}; late but not captured: "
               f"{sum((e - g).values())}, e.g. {sample(e - g)}")
    # 3. each captured watermark is the per-row watermark (the sink's column is TIMESTAMP(3):
    #    compared at millisecond precision)
    g = collections.Counter((o, t, w) for o, t, _, w in got)
    e = collections.Counter((o, t, w - w % 1000) for o, t, _, w in exp)
    result(g == e, "captured watermark = per-row watermark (ms)",
           f"{sum((g & e).values())} of {len(got)} equal"
           + ("" if g == e else f"; e.g. captured {sample(g - e)} expected {sample(e - g)}"))
    # 4. the `row` JSON holds the aggregate's input: the group key and the SUM argument `delay`
    g = collections.Counter((o, t, d) for o, t, d, _ in got)
    e = collections.Counter((o, t, d) for o, t, d, _ in exp)
    result(g == e, "`row` JSON has the group key and the SUM argument (origin, delay)",
           f"key sets seen {dict(keysets)}"
           + ("" if g == e else f"; e.g. captured {sample(g - e)} expected {sample(e - g)}"))


cmd = sys.argv[1]
a = sys.argv[3:]
if cmd == "prepare":
    prepare(a[0], a[1], int(a[2]), int(a[3]))
elif cmd == "expect":
    expect(a[0], int(a[1]))
elif cmd == "check-windows":
    check_windows(a[0], a[1])
elif cmd == "check-late":
    check_late(a[0], a[1], int(a[2]), a[3])
else:
    sys.exit(f"unknown command {cmd}")
PYEOF
late() { "$PY" "$WORK/late.py" "$1" "$LIB" "${@:2}"; }

section "bounded shuffle of $(basename "$FLIGHTS") (K=$K rows, seed $SEED)"
read -r nrows moved disorder_us < <(late prepare "$WORK" "$FLIGHTS" $K $SEED)
echo "  $nrows rows; max displacement $moved rows; max event-time disorder $((disorder_us / 60000000)) min"
if [[ "$nrows" != "$FLIGHTS_ROWS" ]]; then
  bad "shuffle has $nrows rows, expected $FLIGHTS_ROWS"
fi
if [[ "$disorder_us" -le 0 ]]; then
  bad "the shuffle has no disorder; the test would prove nothing"
fi
# A watermark delay strictly above the disorder, in whole hours.
big_hours=$(((disorder_us + 3600000000) / 3600000000))
echo "  large watermark delay: $big_hours h"

# job WATERMARK_DELAY_SQL INPUT OUT_CSV LATE_JSONL : writes $WORK/job.sql
job() {
  cat >"$WORK/job.sql" <<EOF
CREATE TABLE flights (
  \`date\` TIMESTAMP(3), delay INT, distance INT, origin STRING, destination STRING,
  WATERMARK FOR \`date\` AS \`date\` - $1
) WITH ('connector' = 'filesystem', 'path' = '$2', 'format' = 'csv',
        'csv.ignore-first-line' = 'true');
CREATE TABLE hourly (origin STRING, window_start TIMESTAMP(3), flights BIGINT, sum_delay INT)
  WITH ('connector' = 'filesystem', 'path' = '$3', 'format' = 'csv');
CREATE TABLE late_rows (
  operator STRING, event_time TIMESTAMP(3), watermark TIMESTAMP(3), \`row\` STRING
) WITH ('connector' = 'filesystem', 'path' = '$4', 'format' = 'json');
SET 'table.exec.late-rows.sink' = 'late_rows';
INSERT INTO hourly
SELECT origin, window_start, COUNT(*) AS flights, SUM(delay) AS sum_delay
FROM TABLE(TUMBLE(TABLE flights, DESCRIPTOR(\`date\`), INTERVAL '1' HOUR))
GROUP BY origin, window_start, window_end;
EOF
}

# run_job TAG PARALLELISM : runs job.sql; output in $WORK/TAG.csv, late rows in $WORK/TAG.late
run_job() {
  rm -f "$WORK/$1.csv" "$WORK/$1.late"
  run_eddy "$WORK/$1" run "$WORK/job.sql" --set parallelism.default="$2"
  expect_rc "$WORK/$1" 0 "eddy $1 (parallelism $2)" || return 1
  [[ -f "$WORK/$1.late" ]] || : >"$WORK/$1.late"  # no late row may mean no file
  if [[ ! -f "$WORK/$1.csv" ]]; then
    bad "$1: no output file"
    return 1
  fi
}

# pycheck WHAT ARGS... : runs a late.py check, reporting ok/FAIL with its output
pycheck() {
  local what=$1 msg
  shift
  if msg=$(late "$@" 2>&1); then
    ok "$what: $msg"
  else
    bad "$what:"
    echo "$msg" | sed 's/^/    | /'
  fi
}

late_in_summary() {
  # "late rows: N in WindowAggregate(...)" -> N
  sed -n 's/^ *late rows: \([0-9]*\) in .*/\1/p' "$1.err" | head -1
}

section "(i) watermark delay $big_hours h > disorder: same results as the sorted input, 0 late rows"
late expect "$WORK" $((big_hours * 3600000000)) >/dev/null
job "INTERVAL '$big_hours' HOUR" "$WORK/sorted.csv" "$WORK/sorted-p1.csv" "$WORK/sorted-p1.late"
if run_job sorted-p1 1; then
  # The Python expectation over the shuffle with this delay has no late row: it is the batch count.
  pycheck "sorted input, parallelism 1 == Python per-(origin, hour) COUNT/SUM" \
    check-windows "$WORK/sorted-p1.csv" "python:$WORK/expect-$((big_hours * 3600000000)).json"
fi
for p in 1 2; do
  tag=shuffled-big-p$p
  job "INTERVAL '$big_hours' HOUR" "$WORK/shuffled.csv" "$WORK/$tag.csv" "$WORK/$tag.late"
  run_job "$tag" "$p" || continue
  if [[ -f "$WORK/sorted-p1.csv" ]]; then
    pycheck "shuffled, parallelism $p == sorted input" check-windows "$WORK/$tag.csv" "$WORK/sorted-p1.csv"
  fi
  n=$(late_in_summary "$WORK/$tag")
  nl=$(wc -l <"$WORK/$tag.late")
  if [[ "$n" == "0" && "$nl" == "0" ]]; then
    ok "shuffled, parallelism $p: 0 late rows (summary and late-rows sink)"
  else
    bad "shuffled, parallelism $p: summary says '${n:-nothing}' late rows, late-rows sink has $nl, expected 0"
  fi
done

section "(ii) small watermark delays: late rows are exactly the ones the per-row rule says"
for delay in "0:INTERVAL '0' SECOND" "60000000:INTERVAL '1' MINUTE"; do
  delay_us=${delay%%:*}
  delay_sql=${delay#*:}
  nexp=$(late expect "$WORK" "$delay_us")
  echo "  -- WATERMARK ... - $delay_sql: $nexp rows are late by the rule"
  if [[ "$nexp" -le 0 ]]; then
    bad "delay $delay_sql: no row would be late; the shuffle is too gentle for this test"
  fi
  for p in 1 2; do
    tag=small-$delay_us-p$p
    job "$delay_sql" "$WORK/shuffled.csv" "$WORK/$tag.csv" "$WORK/$tag.late"
    run_job "$tag" "$p" || continue
    if ! late check-late "$WORK/$tag.late" "$WORK/expect-$delay_us.json" "$FLIGHTS_ROWS" \
      "$WORK/$tag.csv" >"$WORK/$tag.checks" 2>&1; then
      bad "delay $delay_sql, parallelism $p: checking the late rows failed:"
      sed 's/^/    | /' "$WORK/$tag.checks"
    fi
    while IFS=$'\t' read -r res what detail; do
      if [[ "$res" == OK ]]; then
        ok "delay $delay_sql, parallelism $p: $what: $detail"
      elif [[ "$res" == FAIL ]]; then
        bad "delay $delay_sql, parallelism $p: $what: $detail"
      fi
    done <"$WORK/$tag.checks"
    pycheck "delay $delay_sql, parallelism $p: per-window counts/sums of on-time rows" \
      check-windows "$WORK/$tag.csv" "python:$WORK/expect-$delay_us.json"
    n=$(late_in_summary "$WORK/$tag")
    if [[ "$n" == "$nexp" ]]; then
      ok "delay $delay_sql, parallelism $p: summary reports $n late rows"
    else
      bad "delay $delay_sql, parallelism $p: summary reports '${n:-nothing}' late rows, expected $nexp"
    fi
  done
done

finish
