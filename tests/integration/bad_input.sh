#!/usr/bin/env bash
# Bad input: malformed CSV rows (bad INT, bad TIMESTAMP, too few / too many fields, unterminated
# quote) and a JSON Lines file with broken lines, under each 'error.policy':
#   fail (default)  -> exit code 1, stderr names 'path:line:column' of the FIRST bad row
#   skip            -> exit code 0, the summary counts the skipped rows, the output is exactly the
#                      good rows
#   dead-letter     -> one JSON line per bad row: source "path:line", column, reason, row
# The CSV is the whole flights file (several 4 MiB chunks, so parallelism 2 reads it in parallel)
# with bad rows inserted; each case runs at parallelism 1 and 2.
# Also: SQL errors -> exit code 1 with 'line L, column C' and a caret; `eddy run` of a missing
# file -> exit code 1 with a clear message.
#
# Usage: bash bad_input.sh <path-to-eddy> <repo-root>
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

# --- inputs ----------------------------------------------------------------------------------
# bad.csv: the flights with bad rows inserted; bad-csv.json: [line, column, reason words, raw]
# for each bad row in file order, as documented for DecodeError (1-based byte column where the
# offending field starts; one past the end of the record when fields are missing).
"$PY" - "$FLIGHTS" "$WORK" "$LIB" <<'PYEOF'
import json
import sys

sys.path.insert(0, sys.argv[3])
import util

with util.open_text(sys.argv[1]) as f:
    lines = f.read().splitlines()
work = sys.argv[2]
header, rows = lines[0], lines[1:]
# (insert before data row index, raw line, column, words the reason must contain)
bad = [
    (40000, "2001-01-05T10:00:00,abc,100,ATL,ORD", 21, ["delay"]),
    (232000, "2001-01-10T10:00:00,5,100,ATL", 30, ["field"]),
    (234000, "2001-01-15T10:00:00,5,100,ATL,ORD,XYZ", 35, ["field"]),
    (400000, "2001-01-20T25:61:00,5,100,ATL,ORD", 1, ["date"]),
    (len(rows), '2001-01-31T23:59:00,5,100,"ATL,ORD', 27, ["quot"]),
]
out = [header]
expect = []
i = 0
for pos, raw, col, words in bad:
    out.extend(rows[i:pos])
    i = pos
    out.append(raw)
    expect.append([len(out), col, words, raw])
out.extend(rows[i:])
with open(f"{work}/bad.csv", "w") as f:
    f.write("\n".join(out) + "\n")
with open(f"{work}/bad-csv.json", "w") as f:
    json.dump(expect, f)
with open(f"{work}/good.csv", "w") as f:
    f.write("\n".join(rows) + "\n")

# JSON Lines: good rows and broken lines.
good = [
    {"date": "2001-01-01 00:01:00", "delay": 33, "distance": 2176, "origin": "LAS",
     "destination": "PHL"},
    {"date": "2001-01-01 00:01:00", "delay": 19, "distance": 215, "origin": "ATL",
     "destination": "SAV"},
    {"date": "2001-01-01 00:02:00", "delay": -13, "distance": 2345, "origin": "ANC",
     "destination": "LAX"},
    {"date": "2001-01-01 00:03:00", "delay": 14, "distance": 405, "origin": "MCI",
     "destination": "MDW"},
]
jl = [
    json.dumps(good[0]),
    json.dumps(good[1]),
    '{"date": "2001-01-01 00:02:00", "delay": 19, "dist',                 # truncated: line 3
    json.dumps(good[2]),
    "this is not JSON",                                                      # line 5
    '{"date": "2001-01-01 00:02:30", "delay": "abc", "distance": 1, "origin": "X", '
    '"destination": "Y"}',                                                   # bad INT: line 6
    json.dumps(good[3]),
]
with open(f"{work}/bad.jsonl", "w") as f:
    f.write("\n".join(jl) + "\n")
with open(f"{work}/bad-json.json", "w") as f:
    json.dump([[3, None, [], jl[2]], [5, None, [], jl[4]], [6, None, ["delay"], jl[5]]], f)
with open(f"{work}/good-json.csv", "w") as f:
    for g in good:
        f.write(f"{g['date']},{g['delay']},{g['distance']},{g['origin']},{g['destination']}\n")
PYEOF

# job FORMAT INPUT POLICY_OPTIONS : writes $WORK/job.sql copying INPUT to $WORK/out.csv
job() {
  local fmtopts
  if [[ $1 == csv ]]; then
    fmtopts="'format' = 'csv', 'csv.ignore-first-line' = 'true'"
  else
    fmtopts="'format' = 'json'"
  fi
  cat >"$WORK/job.sql" <<EOF
CREATE TABLE input (
  \`date\` TIMESTAMP(3), delay INT, distance INT, origin STRING, destination STRING
) WITH ('connector' = 'filesystem', 'path' = '$2', $fmtopts$3);
CREATE TABLE out (
  \`date\` TIMESTAMP(3), delay INT, distance INT, origin STRING, destination STRING
) WITH ('connector' = 'filesystem', 'path' = '$WORK/out.csv', 'format' = 'csv');
INSERT INTO out SELECT * FROM input;
EOF
}

# same_rows GOT WANT : the eddy CSV output GOT holds exactly the rows of WANT (a multiset;
# timestamps compared as values)
same_rows() {
  "$PY" - "$LIB" "$1" "$2" <<'PYEOF'
import collections
import sys

sys.path.insert(0, sys.argv[1])
import util


def load(path):
    c = collections.Counter()
    for r in util.read_csv(path):
        r[0] = util.norm_ts(r[0])
        c[tuple(r)] += 1
    return c


got, want = load(sys.argv[2]), load(sys.argv[3])
if got != want:
    print(f"{sum(got.values())} rows written, {sum(want.values())} good rows; "
          f"unexpected {sum((got - want).values())} e.g. {list(got - want)[:3]}; "
          f"missing {sum((want - got).values())} e.g. {list(want - got)[:3]}")
    sys.exit(1)
print(f"{sum(got.values())} rows = exactly the good rows")
PYEOF
}

# check_dead_letter DLQ EXPECT_JSON INPUT_PATH : one JSON line per bad row, in any order
check_dead_letter() {
  "$PY" - "$1" "$2" "$3" <<'PYEOF'
import json
import sys

dlq, expect, path = sys.argv[1:4]
want = {e[0]: e for e in json.load(open(expect))}
problems = []
seen = {}
for n, line in enumerate(open(dlq), 1):
    try:
        rec = json.loads(line)
    except ValueError as e:
        problems.append(f"dead-letter line {n} is not JSON: {e}: {line[:80]!r}")
        continue
    missing = {"source", "column", "reason", "row"} - set(rec)
    if missing:
        problems.append(f"dead-letter line {n} lacks {sorted(missing)}: {line[:120]!r}")
        continue
    src = rec["source"]
    p, _, ln = src.rpartition(":")
    if p != path or not ln.isdigit():
        problems.append(f"dead-letter line {n}: source {src!r}, expected '{path}:<line>'")
        continue
    ln = int(ln)
    if ln in seen:
        problems.append(f"line {ln} dead-lettered twice")
    seen[ln] = rec
    if ln not in want:
        problems.append(f"line {ln} dead-lettered but it is not a bad row: {rec}")
        continue
    _, col, words, raw = want[ln]
    if col is not None and rec["column"] != col:
        problems.append(f"line {ln}: column {rec['column']}, expected {col}")
    if not isinstance(rec["reason"], str) or not rec["reason"].strip():
        problems.append(f"line {ln}: empty reason")
    for w in words:
        if w.lower() not in str(rec["reason"]).lower():
            problems.append(f"line {ln}: reason {rec['reason']!r} does not mention {w!r}")
    if rec["row"].rstrip("\r\n") != raw:
        problems.append(f"line {ln}: row {rec['row']!r}, expected {raw!r}")
for ln in sorted(set(want) - set(seen)):
    problems.append(f"bad line {ln} is not in the dead-letter file")
if problems:
    print("\n".join(problems[:12]))
    sys.exit(1)
print(f"{len(seen)} lines, one per bad row (lines {sorted(seen)}), with column, reason and row")
PYEOF
}

# run_policies FORMAT INPUT EXPECT_JSON GOOD_CSV
run_policies() {
  local format=$1 input=$2 expect=$3 good=$4 p first nbad
  first=$("$PY" -c 'import json,sys; e=json.load(open(sys.argv[1]))[0]; print(e[0], e[1] or "")' "$expect")
  nbad=$("$PY" -c 'import json,sys; print(len(json.load(open(sys.argv[1]))))' "$expect")
  local fline=${first% *} fcol=${first#* }
  for p in 1 2; do
    echo "  -- $format, parallelism $p"
    # fail (the default)
    job "$format" "$input" ""
    rm -f "$WORK/out.csv"
    run_eddy "$WORK/fail" run "$WORK/job.sql" --set parallelism.default=$p
    expect_rc "$WORK/fail" 1 "default policy" || true
    local want="$input:$fline:$fcol"
    [[ -n "$fcol" ]] || want="$input:$fline:"
    if grep -qF -- "$want" "$WORK/fail.err"; then
      ok "default policy: stderr names the first bad row '$want'"
    else
      bad "default policy: stderr does not name the first bad row '$want'"
      show_err "$WORK/fail"
    fi
    if grep -q "error.policy" "$WORK/fail.err"; then
      ok "default policy: the message points to 'error.policy'"
    else
      bad "default policy: the message does not mention 'error.policy'"
    fi

    # skip
    job "$format" "$input" ", 'error.policy' = 'skip'"
    rm -f "$WORK/out.csv"
    run_eddy "$WORK/skip" run "$WORK/job.sql" --set parallelism.default=$p
    if expect_rc "$WORK/skip" 0 "'error.policy' = 'skip'"; then
      if grep -q "$nbad bad rows skipped" "$WORK/skip.err"; then
        ok "skip: summary reports '$nbad bad rows skipped'"
      else
        bad "skip: summary does not report '$nbad bad rows skipped'"
        show_err "$WORK/skip"
      fi
      if msg=$(same_rows "$WORK/out.csv" "$good" 2>&1); then
        ok "skip: output has $msg"
      else
        bad "skip: output is not exactly the good rows: $msg"
      fi
    fi

    # dead-letter, by SET instead of table options
    job "$format" "$input" ""
    rm -f "$WORK/out.csv" "$WORK/dlq.jsonl"
    sed -i "1i SET 'error.policy' = 'dead-letter';\nSET 'error.dead-letter.path' = '$WORK/dlq.jsonl';" "$WORK/job.sql"
    run_eddy "$WORK/dlq" run "$WORK/job.sql" --set parallelism.default=$p
    if expect_rc "$WORK/dlq" 0 "SET 'error.policy' = 'dead-letter'"; then
      if grep -q "$nbad bad rows sent to the dead-letter file" "$WORK/dlq.err"; then
        ok "dead-letter: summary reports $nbad bad rows sent to the dead-letter file"
      else
        bad "dead-letter: summary does not report '$nbad bad rows sent to the dead-letter file'"
        show_err "$WORK/dlq"
      fi
      if [[ ! -f "$WORK/dlq.jsonl" ]]; then
        bad "dead-letter: no dead-letter file written"
      elif msg=$(check_dead_letter "$WORK/dlq.jsonl" "$expect" "$input" 2>&1); then
        ok "dead-letter file: $msg"
      else
        bad "dead-letter file is wrong:"
        echo "$msg" | sed 's/^/    | /'
      fi
      if msg=$(same_rows "$WORK/out.csv" "$good" 2>&1); then
        ok "dead-letter: output has $msg"
      else
        bad "dead-letter: output is not exactly the good rows: $msg"
      fi
    fi
  done
}

section "CSV with 5 bad rows (bad INT, too few fields, too many fields, bad TIMESTAMP, unterminated quote)"
run_policies csv "$WORK/bad.csv" "$WORK/bad-csv.json" "$WORK/good.csv"

section "the first bad row wins at parallelism 2: bad rows at the end of chunk 1 and the start of chunk 2"
# Chunks are ~4 MiB of text, read by subtasks in turn (chunk 0 and 2 by one, 1 and 3 by the
# other), so both bad rows are reached at about the same time; the one earlier in the file must
# be reported, every time.
race=$("$PY" - "$WORK" <<'PYEOF'
import sys
work = sys.argv[1]
lines = open(f"{work}/good.csv").read().splitlines()
out, size, a_done, b_done = ["date,delay,distance,origin,destination"], 0, None, None
size = len(out[0]) + 1
for row in lines:
    if a_done is None and size >= (8 << 20) - 2048:
        out.append("2001-01-05T10:00:00,5,100,ATL,ORD,TOO,MANY")
        a_done = len(out)
    elif b_done is None and size >= (8 << 20) + 2048:
        out.append("2001-01-05T10:00:00,x,100,ATL,ORD")
        b_done = len(out)
    out.append(row)
    size += len(out[-1]) + 1
    if size > (13 << 20):
        break
open(f"{work}/race.csv", "w").write("\n".join(out) + "\n")
print(a_done)
PYEOF
)
job csv "$WORK/race.csv" ""
for i in 1 2 3; do
  run_eddy "$WORK/race" run "$WORK/job.sql" --set parallelism.default=2
  expect_rc "$WORK/race" 1 "run $i: default policy" || true
  if grep -qF -- "$WORK/race.csv:$race:35" "$WORK/race.err"; then
    ok "run $i: stderr names the first bad row '$WORK/race.csv:$race:35'"
  else
    bad "run $i: stderr does not name the first bad row '$WORK/race.csv:$race:35'"
    show_err "$WORK/race"
  fi
done

section "JSON Lines with 3 broken lines (truncated object, not JSON, string for INT)"
run_policies json "$WORK/bad.jsonl" "$WORK/bad-json.json" "$WORK/good-json.csv"

section "'error.policy' = 'dead-letter' without a path"
job csv "$WORK/bad.csv" ", 'error.policy' = 'dead-letter'"
run_eddy "$WORK/nodlq" run "$WORK/job.sql"
expect_rc "$WORK/nodlq" 1 "dead-letter without 'error.dead-letter.path'" || true
if grep -q "error.dead-letter.path" "$WORK/nodlq.err"; then
  ok "the message names 'error.dead-letter.path'"
else
  bad "the message does not name 'error.dead-letter.path'"
  show_err "$WORK/nodlq"
fi

section "SQL errors"
# sql_error NAME SQL LINE COLUMN : exit code 1, 'line L, column C' and a caret under column C
sql_error() {
  local name=$1 sql=$2 line=$3 col=$4
  printf '%s\n' "$sql" >"$WORK/$name.sql"
  run_eddy "$WORK/$name" run "$WORK/$name.sql"
  expect_rc "$WORK/$name" 1 "$name" || true
  if grep -q "line $line, column $col" "$WORK/$name.err"; then
    ok "$name: message names 'line $line, column $col'"
  else
    bad "$name: message does not name 'line $line, column $col'"
    show_err "$WORK/$name"
  fi
  # The caret line: spaces then '^' under the column (the source line is echoed above it,
  # possibly indented by the same prefix).
  if "$PY" - "$WORK/$name.err" "$WORK/$name.sql" "$line" "$col" <<'PYEOF'; then
import sys
err = open(sys.argv[1]).read().splitlines()
src = open(sys.argv[2]).read().splitlines()[int(sys.argv[3]) - 1]
col = int(sys.argv[4])
for i, l in enumerate(err):
    if l.strip() == "^" and i > 0:
        echoed = err[i - 1]
        indent = echoed.find(src.strip()[:20]) - (len(src) - len(src.lstrip()))
        if indent >= 0 and l.index("^") - indent == col - 1:
            sys.exit(0)
sys.exit(1)
PYEOF
    ok "$name: the source line is echoed with a caret under column $col"
  else
    bad "$name: no caret under column $col of the echoed line"
    show_err "$WORK/$name"
  fi
}
sql_error unknown_column \
  "CREATE TABLE t (a INT, b STRING) WITH ('connector' = 'filesystem', 'path' = '$WORK/good.csv', 'format' = 'csv');
SELECT a,
       bb FROM t;" 3 8
sql_error syntax_error \
  "SELECT 1 +* 2;" 1 11
sql_error unknown_table \
  "CREATE TABLE t (a INT) WITH ('connector' = 'filesystem', 'path' = '$WORK/good.csv', 'format' = 'csv');

  SELECT a FROM nosuchtable;" 3 17

section "eddy run of a missing file"
run_eddy "$WORK/missing" run "$WORK/no-such-job.sql"
expect_rc "$WORK/missing" 1 "eddy run no-such-job.sql" || true
if grep -q "no-such-job.sql" "$WORK/missing.err" &&
  grep -qiE "no such file|not found|cannot (open|read)|does not exist" "$WORK/missing.err"; then
  ok "message: $(head -1 "$WORK/missing.err")"
else
  bad "no clear message naming the file and the problem"
  show_err "$WORK/missing"
fi

finish
