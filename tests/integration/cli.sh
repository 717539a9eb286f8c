#!/usr/bin/env bash
# The command line: --help texts, -e, --set, --format table|csv|json (outputs parsed back with
# Python), -q, SHOW TABLES / DESCRIBE / EXPLAIN, the changelog (+I/-U/+U) of a GROUP BY without a
# window in table output, and usage errors.
#
# Usage: bash cli.sh <path-to-eddy> <repo-root>
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

# has PREFIX.EXT PATTERN WHAT : grep -E in an output file
has() {
  if grep -qE -- "$2" "$1"; then
    ok "$3"
  else
    bad "$3 (no match for /$2/ in $(basename "$1"))"
    sed -n '1,20p' "$1" | sed 's/^/    | /'
  fi
}

section "eddy --help, eddy run --help, --version"
run_eddy "$WORK/help" --help
expect_rc "$WORK/help" 0 "eddy --help" || true
has "$WORK/help.out" "run" "eddy --help lists the 'run' command"
run_eddy "$WORK/rhelp" run --help
expect_rc "$WORK/rhelp" 0 "eddy run --help" || true
for opt in -e --execute --set --format table csv json -q --quiet; do
  has "$WORK/rhelp.out" "(^|[^-[:alnum:]])$opt([^-[:alnum:]]|$)" "eddy run --help mentions $opt"
done
run_eddy "$WORK/version" --version
expect_rc "$WORK/version" 0 "eddy --version" || true
has "$WORK/version.out" "[0-9]+\.[0-9]+" "eddy --version prints a version"

section "--format table|csv|json on a small table (quotes, commas, NULL, DOUBLE, TIMESTAMP)"
cat >"$WORK/small.csv" <<'EOF'
ts,name,n,x
2001-01-01T00:00:00,"a, b",1,1.5
2001-01-01T00:01:00,"say ""hi""",2,-0.25
2001-01-01T00:02:30,plain,,3
EOF
SMALL="CREATE TABLE small (ts TIMESTAMP(3), name STRING, n INT, x DOUBLE)
  WITH ('connector' = 'filesystem', 'path' = '$WORK/small.csv', 'format' = 'csv',
        'csv.ignore-first-line' = 'true');"
SEL="SELECT ts, name, n, x FROM small"

run_eddy "$WORK/table" run -e "$SMALL $SEL;"
expect_rc "$WORK/table" 0 "-e with --format table (default)" || true
has "$WORK/table.out" "\| *name *\|" "table output has a header row with the column names"
has "$WORK/table.out" "a, b" "table output shows the values"
has "$WORK/table.out" "3 rows in set" "table output says '3 rows in set'"
has "$WORK/table.err" "source small: 3 rows read" "the summary on stderr reports 3 rows read"
if grep -q "rows read" "$WORK/table.out"; then
  bad "the summary went to stdout"
else
  ok "stdout holds no summary"
fi

cat >"$WORK/expect.py" <<'PYEOF'
import sys
sys.path.insert(0, sys.argv[1])
import util
EXPECT = [
    ["2001-01-01 00:00:00", "a, b", 1, 1.5],
    ["2001-01-01 00:01:00", 'say "hi"', 2, -0.25],
    ["2001-01-01 00:02:30", "plain", None, 3.0],
]


def check(rows):
    """rows: [ts str, name str, n int|None, x float] per row, in order."""
    problems = []
    if len(rows) != len(EXPECT):
        problems.append(f"{len(rows)} rows, expected {len(EXPECT)}: {rows}")
    for got, want in zip(rows, EXPECT):
        try:
            g = [util.norm_ts(got[0]), got[1], got[2], float(got[3])]
        except Exception as e:  # noqa: BLE001
            problems.append(f"cannot read row {got}: {e}")
            continue
        if g != want:
            problems.append(f"row {got} != {want}")
    if problems:
        print("; ".join(problems))
        sys.exit(1)
    print(f"{len(rows)} rows read back equal")
PYEOF

run_eddy "$WORK/csv" run -q --format csv -e "$SMALL $SEL;"
expect_rc "$WORK/csv" 0 "--format csv" || true
if msg=$("$PY" - "$LIB" "$WORK/csv.out" "$WORK" <<'PYEOF' 2>&1
import csv, sys
sys.path.insert(0, sys.argv[3])
from expect import check
rows = list(csv.reader(open(sys.argv[2], newline="")))
if rows and rows[0] == ["ts", "name", "n", "x"]:
    rows = rows[1:]
check([[r[0], r[1], int(r[2]) if r[2] != "" else None, r[3]] for r in rows])
PYEOF
); then
  ok "--format csv parses with Python's csv module: $msg"
else
  bad "--format csv: $msg"
  sed 's/^/    | /' "$WORK/csv.out"
fi
if [[ -s "$WORK/csv.err" ]]; then
  bad "-q: stderr is not empty: $(head -3 "$WORK/csv.err")"
else
  ok "-q: nothing on stderr"
fi

run_eddy "$WORK/json" run -q --format json -e "$SMALL $SEL;"
expect_rc "$WORK/json" 0 "--format json" || true
if msg=$("$PY" - "$LIB" "$WORK/json.out" "$WORK" <<'PYEOF' 2>&1
import json, sys
sys.path.insert(0, sys.argv[3])
from expect import check
text = open(sys.argv[2]).read()
try:
    objs = json.loads(text)          # one JSON array
    if isinstance(objs, dict):
        objs = [objs]
except ValueError:
    objs = [json.loads(l) for l in text.splitlines() if l.strip()]   # JSON Lines
check([[o["ts"], o["name"], o["n"], o["x"]] for o in objs])
PYEOF
); then
  ok "--format json parses with Python's json module: $msg"
else
  bad "--format json: $msg"
  sed 's/^/    | /' "$WORK/json.out"
fi

section "-e, --set, script files, SET"
cat >"$WORK/script.sql" <<EOF
$SMALL
-- a comment
SET 'parallelism.default' = '1';
EXPLAIN $SEL;
EOF
run_eddy "$WORK/script" run "$WORK/script.sql"
expect_rc "$WORK/script" 0 "eddy run FILE" || true
has "$WORK/script.out" "parallelism=1" "SET 'parallelism.default' = '1' shows in EXPLAIN (parallelism=1)"
for p in 1 2; do
  run_eddy "$WORK/set$p" run --set parallelism.default=$p -e "$SMALL EXPLAIN $SEL;"
  expect_rc "$WORK/set$p" 0 "--set parallelism.default=$p" || true
  has "$WORK/set$p.out" "Source: small.*parallelism=$p" "--set parallelism.default=$p: EXPLAIN shows the source at parallelism=$p"
  run_eddy "$WORK/setrun$p" run -q --format csv --set parallelism.default=$p -e "$SMALL $SEL;"
  if [[ $RC == 0 ]] && cmp -s "$WORK/setrun$p.out" "$WORK/csv.out"; then
    ok "--set parallelism.default=$p: same CSV output as the default run"
  else
    bad "--set parallelism.default=$p: exit code $RC, output differs from the default run"
    show_err "$WORK/setrun$p"
  fi
done

section "SHOW TABLES, DESCRIBE, EXPLAIN"
FLIGHTS_DDL="CREATE TABLE flights (
  \`date\` TIMESTAMP(3), delay INT, distance INT, origin STRING, destination STRING,
  WATERMARK FOR \`date\` AS \`date\` - INTERVAL '10' MINUTE
) WITH ('connector' = 'filesystem', 'path' = '$FLIGHTS', 'format' = 'csv',
        'csv.ignore-first-line' = 'true');"
run_eddy "$WORK/meta" run -e "$FLIGHTS_DDL $SMALL SHOW TABLES;"
expect_rc "$WORK/meta" 0 "SHOW TABLES" || true
has "$WORK/meta.out" "flights" "SHOW TABLES lists flights"
has "$WORK/meta.out" "small" "SHOW TABLES lists small"
run_eddy "$WORK/desc" run -e "$FLIGHTS_DDL DESCRIBE flights;"
expect_rc "$WORK/desc" 0 "DESCRIBE flights" || true
for c in "date.*TIMESTAMP\(3\)" "delay.*INT" "distance.*INT" "origin.*STRING" "destination.*STRING"; do
  has "$WORK/desc.out" "$c" "DESCRIBE shows /$c/"
done
has "$WORK/desc.out" "ROWTIME" "DESCRIBE marks the rowtime attribute"
run_eddy "$WORK/explain" run -e "$FLIGHTS_DDL EXPLAIN SELECT origin, window_start, COUNT(*) FROM TABLE(TUMBLE(TABLE flights, DESCRIPTOR(\`date\`), INTERVAL '1' HOUR)) GROUP BY origin, window_start, window_end;"
expect_rc "$WORK/explain" 0 "EXPLAIN of a window aggregate" || true
has "$WORK/explain.out" "parallelism" "EXPLAIN shows the parallelism"
has "$WORK/explain.out" "TableSourceScan|Source: flights" "EXPLAIN shows the source"
has "$WORK/explain.out" "(Window|TUMBLE)" "EXPLAIN shows the window aggregate"
if grep -q "rows read" "$WORK/explain.err"; then
  bad "EXPLAIN ran the query (the summary reports rows read)"
else
  ok "EXPLAIN does not run the query"
fi

section "GROUP BY without a window: a changelog (+I/-U/+U) in table output"
# The README's example: per origin, flights to HNL more than 3 hours late.
"$PY" - "$FLIGHTS" "$LIB" >"$WORK/hnl.expect" <<'PYEOF'
import collections, sys
sys.path.insert(0, sys.argv[2])
import util
c = collections.Counter()
for r in util.read_csv(sys.argv[1])[1:]:
    if r[4] == "HNL" and int(r[1]) > 180:
        c[r[3]] += 1
for k, v in sorted(c.items()):
    print(f"{k} {v}")
PYEOF
for p in 1 2; do
  run_eddy "$WORK/changelog$p" run --set parallelism.default=$p -e "$FLIGHTS_DDL SELECT origin, COUNT(*) AS flights FROM flights WHERE destination = 'HNL' AND delay > 180 GROUP BY origin;"
  expect_rc "$WORK/changelog$p" 0 "parallelism $p: updating GROUP BY" || true
  if msg=$("$PY" - "$WORK/changelog$p.out" "$WORK/hnl.expect" <<'PYEOF' 2>&1
import sys
ops = {}
state = {}
problems = []
header_seen = False
for line in open(sys.argv[1]):
    cells = [c.strip() for c in line.strip().strip("|").split("|")]
    if len(cells) != 3:
        continue
    if cells[0] == "op":
        header_seen = True
        continue
    op, origin, n = cells
    if op not in ("+I", "-U", "+U", "-D"):
        continue
    ops[op] = ops.get(op, 0) + 1
    n = int(n)
    if op in ("+I", "+U"):
        if origin in state:
            problems.append(f"{op} {origin} {n} while a row for {origin} is current")
        state[origin] = n
    else:
        if state.get(origin) != n:
            problems.append(f"{op} {origin} {n} retracts {state.get(origin)}")
        state.pop(origin, None)
want = {}
for line in open(sys.argv[2]):
    k, v = line.split()
    want[k] = int(v)
if not header_seen:
    problems.append("no 'op' column in the table header")
for op in ("+I", "-U", "+U"):
    if not ops.get(op):
        problems.append(f"no {op} row")
if state != want:
    problems.append(f"final state {sorted(state.items())} != expected {sorted(want.items())}")
if problems:
    print("; ".join(problems[:6]))
    sys.exit(1)
print(f"ops {ops}; applying the changelog gives the expected {len(want)} per-origin counts")
PYEOF
  ); then
    ok "parallelism $p: $msg"
  else
    bad "parallelism $p: changelog: $msg"
    sed -n '1,12p' "$WORK/changelog$p.out" | sed 's/^/    | /'
  fi
done

section "usage errors: exit code 1 (as 'eddy run --help' says) and a message"
usage_error() {
  local name=$1
  shift
  run_eddy "$WORK/$name" "$@"
  if [[ $RC == 1 ]]; then
    ok "eddy $*: exit code 1"
  else
    bad "eddy $*: exit code $RC, expected 1 ('Exit code: 0 on success, 1 on any error')"
  fi
  if [[ -s "$WORK/$name.err" ]]; then
    ok "eddy $*: says why: $(head -1 "$WORK/$name.err")"
  else
    bad "eddy $*: nothing on stderr"
  fi
}
usage_error noscript run
usage_error badset run --set foo -e "SHOW TABLES"
usage_error badformat run --format xml -e "SHOW TABLES"
usage_error badcommand bogus

finish
