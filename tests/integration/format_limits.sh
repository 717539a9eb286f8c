#!/usr/bin/env bash
# Bad input at the formats and sources (issue 15, "Hardening"):
# - a UTF-8 byte order mark at byte 0 of a CSV or JSON Lines file is skipped (also with small
#   chunks, parallelism 2 and 'csv.ignore-first-line'); one in the middle of the file is data;
# - error messages show binary bytes escaped (no raw control or invalid bytes on the terminal);
# - dead-letter lines are valid UTF-8 JSON for binary input, with the exact bytes in row_base64;
# - 'source.max-record-size': /dev/zero stops at the limit with file:line, in bounded memory
#   (peak RSS measured); a longer line is skipped or dead-lettered (with a bounded prefix) and
#   reading goes on at the next line, at parallelism 1 and 2; a checkpoint records the limit;
# - JSON nested deeper than 64 levels is a bad row with its position;
# - kafka records over the limit go to the error policy with topic/partition/offset;
# - a string function building more than 16 MiB fails the job naming the function;
# - a named pipe is read once, whole (planning used to open it and take its first bytes).
# Expected values are computed here in Python from the inputs, never taken from eddy's output.
#
# Usage: bash format_limits.sh <path-to-eddy> <repo-root>
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

check() {  # check WHAT EXPECTED ACTUAL
  if [[ "$2" == "$3" ]]; then ok "$1"; else
    bad "$1: expected [$2], got [$3]"
  fi
}

# peak_rss PREFIX ARGS... : runs `eddy ARGS...` like run_eddy and puts its peak resident set size
# (getrusage of the waited-for child, KiB) in $PEAK_KB.
peak_rss() {
  local prefix=$1
  shift
  PEAK_KB=$("$PY" - "$ROOT" "$prefix" "$EDDY" "$@" <<'PY'
import resource
import subprocess
import sys

root, prefix, *cmd = sys.argv[1:]
with open(prefix + ".out", "wb") as o, open(prefix + ".err", "wb") as e:
    try:
        rc = subprocess.run(cmd, cwd=root, stdout=o, stderr=e, timeout=300).returncode
    except subprocess.TimeoutExpired:
        rc = 124
with open(prefix + ".rc", "w") as f:
    f.write(str(rc))
print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
PY
)
  RC=$(cat "$prefix.rc")
}

# rows_equal GOT_CSV WANT_CSV : same multiset of lines
rows_equal() {
  "$PY" - "$1" "$2" <<'PY'
import collections
import sys
got = collections.Counter(open(sys.argv[1], "rb").read().splitlines())
want = collections.Counter(open(sys.argv[2], "rb").read().splitlines())
if got != want:
    print(f"unexpected {list((got - want).elements())[:3]}, missing {list((want - got).elements())[:3]}")
    sys.exit(1)
print(f"{sum(got.values())} rows")
PY
}

# --- inputs ------------------------------------------------------------------------------------
"$PY" - "$WORK" <<'PY'
import json
import sys

w = sys.argv[1]
bom = b"\xef\xbb\xbf"
# 300 rows with a header, a BOM at byte 0; big enough for many 64-byte chunks.
rows = [f"{i},name{i},{i * 7 % 101}" for i in range(1, 301)]
open(f"{w}/bom_header.csv", "wb").write(bom + b"id,name,score\n" + "\n".join(rows).encode() + b"\n")
open(f"{w}/bom_noheader.csv", "wb").write(bom + "\n".join(rows).encode() + b"\n")
open(f"{w}/bom_want.csv", "w").write("\n".join(rows) + "\n")
objs = [json.dumps({"id": i, "name": f"name{i}", "score": i * 7 % 101}) for i in range(1, 301)]
open(f"{w}/bom.jsonl", "wb").write(bom + "\n".join(objs).encode() + b"\n")
# A BOM at the start of line 151 (not byte 0) is data: a bad INT there.
mid = rows[:150] + ["\ufeff" + rows[150]] + rows[151:]
open(f"{w}/bom_middle.csv", "wb").write("\n".join(mid).encode() + b"\n")

# Binary rows: a NUL, a terminal escape sequence, invalid UTF-8 (0xff, a lone continuation
# byte), a valid non-ASCII row with a bad INT, and good rows.
binary = [
    b"1,ok,10",
    b"2\x00\x1b[2J,nul,20",                 # bad INT with NUL and ESC
    b"3,\xff\xfe broken,30",                # valid INT and score, invalid UTF-8 in a STRING
    b"\xc3\xa9,accent,40",                  # bad INT, valid UTF-8
    b"5,ok,\x80\xe2\x82\x1b]0;title\x07",   # bad INT score: invalid UTF-8, OSC escape
    b"6,ok,60",
]
open(f"{w}/binary.csv", "wb").write(b"\n".join(binary) + b"\n")
PY

CSV3="id INT, name STRING, score INT"
table() {  # table NAME PATH FORMAT [EXTRA_OPTIONS]
  echo "CREATE TABLE $1 ($CSV3) WITH ('connector' = 'filesystem', 'path' = '$2', 'format' = '$3'$4);"
}
out_table() {
  echo "CREATE TABLE out ($CSV3) WITH ('connector' = 'filesystem', 'path' = '$WORK/out.csv', 'format' = 'csv');"
}

section "a UTF-8 byte order mark at byte 0 is skipped"
for p in 1 2; do
  for chunk in 64 1048576; do
    for case in "bom_header.csv|csv|, 'csv.ignore-first-line' = 'true'" "bom_noheader.csv|csv|" \
      "bom.jsonl|json|"; do
      IFS='|' read -r file fmt extra <<<"$case"
      { table t "$WORK/$file" "$fmt" "$extra, 'source.chunk-size' = '$chunk'"; out_table
        echo "INSERT INTO out SELECT * FROM t;"; } >"$WORK/bom.sql"
      rm -f "$WORK/out.csv"
      run_eddy "$WORK/bom" run "$WORK/bom.sql" --set "parallelism.default=$p"
      if expect_rc "$WORK/bom" 0 "$file, chunk $chunk, parallelism $p"; then
        if msg=$(rows_equal "$WORK/out.csv" "$WORK/bom_want.csv" 2>&1); then
          ok "$file, chunk $chunk, parallelism $p: exactly the $msg of the file"
        else
          bad "$file, chunk $chunk, parallelism $p: $msg"
        fi
      fi
    done
  done
done
{ table t "$WORK/bom_middle.csv" csv ", 'source.chunk-size' = '64'"; out_table
  echo "INSERT INTO out SELECT * FROM t;"; } >"$WORK/mid.sql"
run_eddy "$WORK/mid" run "$WORK/mid.sql" --set parallelism.default=2
expect_rc "$WORK/mid" 1 "a BOM in the middle of the file" || true
check "a BOM at line 151 is data: a bad INT there, shown escaped" "1" \
  "$(grep -cF "$WORK/bom_middle.csv:151:1: bad row in table 't': field 'id': '\\u{feff}151' is not a valid INT" "$WORK/mid.err" || true)"

section "error messages never print raw binary bytes"
{ table t "$WORK/binary.csv" csv ""; out_table; echo "INSERT INTO out SELECT * FROM t;"; } >"$WORK/bin.sql"
run_eddy "$WORK/bin" run "$WORK/bin.sql"
expect_rc "$WORK/bin" 1 "binary CSV, default policy" || true
check "the message shows the first bad row with its bytes escaped" "1" \
  "$(grep -cF "binary.csv:2:1: bad row in table 't': field 'id': '2\\x00\\x1b[2J' is not a valid INT" "$WORK/bin.err" || true)"
check "stderr holds no control byte but line breaks, and is valid UTF-8" "clean" \
  "$("$PY" -c '
import sys
b = open(sys.argv[1], "rb").read()
b.decode("utf-8")
bad = [c for c in b if (c < 0x20 and c != 0x0a) or c == 0x7f]
print("clean" if not bad else f"raw bytes {bad[:5]}")' "$WORK/bin.err" 2>&1)"

section "dead-letter lines are valid UTF-8 JSON for binary input"
for p in 1 2; do
  { table t "$WORK/binary.csv" csv ", 'error.policy' = 'dead-letter', 'error.dead-letter.path' = '$WORK/dlq$p.jsonl'"
    out_table; echo "INSERT INTO out SELECT * FROM t;"; } >"$WORK/dlq.sql"
  rm -f "$WORK/dlq$p.jsonl"
  run_eddy "$WORK/dlq" run "$WORK/dlq.sql" --set "parallelism.default=$p"
  expect_rc "$WORK/dlq" 0 "dead-letter, parallelism $p" || true
  msg=$("$PY" - "$WORK/dlq$p.jsonl" "$WORK/binary.csv" <<'PY'
import base64
import json
import sys

raw_lines = open(sys.argv[2], "rb").read().split(b"\n")
want_bad = {2: 1, 4: 1, 5: 6}  # line -> column
problems, seen = [], set()
data = open(sys.argv[1], "rb").read()
try:
    text = data.decode("utf-8")  # strict: every byte valid UTF-8
except UnicodeDecodeError as e:
    print(f"the file is not valid UTF-8: {e}")
    sys.exit(1)
for n, line in enumerate(text.splitlines(), 1):
    rec = json.loads(line)
    ln = int(rec["source"].rsplit(":", 1)[1])
    seen.add(ln)
    raw = raw_lines[ln - 1]
    if rec["column"] != want_bad.get(ln):
        problems.append(f"line {ln}: column {rec['column']}")
    if raw.decode("utf-8", "replace") != rec["row"]:
        problems.append(f"line {ln}: row {rec['row']!r} is not the record with U+FFFD")
    try:
        raw.decode("utf-8")
        valid = True
    except UnicodeDecodeError:
        valid = False
    if valid and "row_base64" in rec:
        problems.append(f"line {ln}: row_base64 for a valid UTF-8 record")
    if not valid and base64.b64decode(rec.get("row_base64", "")) != raw:
        problems.append(f"line {ln}: row_base64 does not give back the record's bytes")
    if "row_truncated" in rec:
        problems.append(f"line {ln}: row_truncated for a short record")
if seen != set(want_bad):
    problems.append(f"dead-lettered lines {sorted(seen)}, expected {sorted(want_bad)}")
print("; ".join(problems) if problems else f"{len(seen)} lines, json.loads and base64 check out")
sys.exit(1 if problems else 0)
PY
) && ok "parallelism $p: $msg" || bad "parallelism $p: $msg"
  check "parallelism $p: the good rows (including invalid UTF-8 in a STRING) are written" "1 3 6" \
    "$(cut -d, -f1 "$WORK/out.csv" | sort -n | paste -sd' ')"
done

section "'source.max-record-size': /dev/zero stops at the limit in bounded memory"
for limit in "1 mb|1048576|65536" "|67108864|163840"; do
  IFS='|' read -r opt bytes max_kb <<<"$limit"
  extra=""
  [[ -n "$opt" ]] && extra=", 'source.max-record-size' = '$opt'"
  { table z /dev/zero csv "$extra"; echo "SELECT * FROM z;"; } >"$WORK/zero.sql"
  peak_rss "$WORK/zero" run "$WORK/zero.sql"
  expect_rc "$WORK/zero" 1 "/dev/zero, limit ${opt:-default}" || true
  check "limit ${opt:-default}: the error names /dev/zero:1:1 and the limit" "1" \
    "$(grep -cF "/dev/zero:1:1: bad row in table 'z': the record is longer than 'source.max-record-size' ($bytes bytes)" "$WORK/zero.err" || true)"
  if [[ $PEAK_KB -lt $max_kb ]]; then
    ok "limit ${opt:-default}: peak RSS $((PEAK_KB / 1024)) MiB (bound $((max_kb / 1024)) MiB)"
  else
    bad "limit ${opt:-default}: peak RSS $((PEAK_KB / 1024)) MiB, over $((max_kb / 1024)) MiB"
  fi
done

# A 200 MB line of zero bytes (a sparse file) between good lines, then more lines: skipped or
# dead-lettered, and reading goes on at the next line.
"$PY" - "$WORK" <<'PY'
import sys
w = sys.argv[1]
with open(f"{w}/huge.csv", "wb") as f:
    f.write(b"1,a,10\n2,b,20\n")
    f.seek(f.tell() + (200 << 20))  # a hole: 200 MiB of zeros, no line break
    f.write(b"\n3,c,30\n" + b"".join(b"%d,x,%d\n" % (i, i) for i in range(4, 5000)))
open(f"{w}/huge_want.csv", "w").write(
    "1,a,10\n2,b,20\n3,c,30\n" + "".join(f"{i},x,{i}\n" for i in range(4, 5000)))
PY
for p in 1 2; do
  for policy in skip dead-letter; do
    rm -f "$WORK/out.csv" "$WORK/huge_dlq.jsonl"
    { table t "$WORK/huge.csv" csv ", 'source.max-record-size' = '1 mb', 'error.policy' = '$policy', 'error.dead-letter.path' = '$WORK/huge_dlq.jsonl'"
      out_table; echo "INSERT INTO out SELECT * FROM t;"; } >"$WORK/huge.sql"
    peak_rss "$WORK/huge" run "$WORK/huge.sql" --set "parallelism.default=$p"
    expect_rc "$WORK/huge" 0 "200 MB line, $policy, parallelism $p" || continue
    if msg=$(rows_equal "$WORK/out.csv" "$WORK/huge_want.csv" 2>&1); then
      ok "$policy, parallelism $p: every other line is read ($msg)"
    else
      bad "$policy, parallelism $p: $msg"
    fi
    if [[ $PEAK_KB -lt 65536 ]]; then
      ok "$policy, parallelism $p: peak RSS $((PEAK_KB / 1024)) MiB (bound 64 MiB)"
    else
      bad "$policy, parallelism $p: peak RSS $((PEAK_KB / 1024)) MiB, over 64 MiB"
    fi
    if [[ $policy == skip ]]; then
      check "skip, parallelism $p: the summary counts the long line" "1" \
        "$(grep -c "1 bad rows\? skipped" "$WORK/huge.err" || true)"
    else
      check "dead-letter, parallelism $p: one line with the position, reason and 4096-byte prefix" \
        "$WORK/huge.csv:3 1 True 4096 True" \
        "$("$PY" -c '
import json, sys
lines = open(sys.argv[1], encoding="utf-8").read().splitlines()
r = json.loads(lines[0])
print(len(lines) == 1 and r["source"], r["column"], "source.max-record-size" in r["reason"],
      len(r["row"]), r["row_truncated"] and r["row"] == "\0" * 4096)' "$WORK/huge_dlq.jsonl" 2>&1)"
    fi
  done
done
{ table t "$WORK/huge.csv" csv ", 'source.max-record-size' = '1 mb'"; out_table
  echo "INSERT INTO out SELECT * FROM t;"; } >"$WORK/hugefail.sql"
run_eddy "$WORK/hugefail" run "$WORK/hugefail.sql" --set parallelism.default=2
expect_rc "$WORK/hugefail" 1 "200 MB line, fail" || true
check "fail: the error names the line" "1" \
  "$(grep -cF "huge.csv:3:1: bad row in table 't': the record is longer than 'source.max-record-size' (1048576 bytes)" "$WORK/hugefail.err" || true)"
printf "CREATE TABLE t (a INT) WITH ('connector' = 'filesystem', 'path' = '%s', 'format' = 'csv', 'source.max-record-size' = '2 gb');\nSELECT * FROM t;\n" "$WORK/huge.csv" >"$WORK/badopt.sql"
run_eddy "$WORK/badopt" run "$WORK/badopt.sql"
expect_rc "$WORK/badopt" 1 "'source.max-record-size' = '2 gb'" || true
check "an out-of-range limit is refused naming the option" "1" \
  "$(grep -c "'source.max-record-size' must be a memory size from '1 byte' to '1 gb'" "$WORK/badopt.err" || true)"

section "a checkpoint of a file source records the limit (chunk boundaries depend on it)"
cp_sql() {  # cp_sql LIMIT
  echo "CREATE TABLE f (\`date\` TIMESTAMP(3), delay INT, distance INT, origin STRING, destination STRING)
WITH ('connector' = 'filesystem', 'path' = '$FLIGHTS', 'format' = 'csv',
      'csv.ignore-first-line' = 'true', 'source.max-record-size' = '$1');
CREATE TABLE o (origin STRING) WITH ('connector' = 'blackhole');
INSERT INTO o SELECT origin FROM f;"
}
cp_sql "64 mb" >"$WORK/cp1.sql"
cp_sql "1 mb" >"$WORK/cp2.sql"
run_eddy "$WORK/cp1" run "$WORK/cp1.sql" --set execution.checkpointing.interval=20ms \
  --set "execution.checkpointing.dir=$WORK/cp"
expect_rc "$WORK/cp1" 0 "a run with checkpoints" || true
if grep -q "checkpoints: [1-9][0-9]* completed" "$WORK/cp1.err"; then
  run_eddy "$WORK/cp2" run "$WORK/cp2.sql" --set "execution.checkpointing.dir=$WORK/cp" \
    --from-checkpoint latest
  expect_rc "$WORK/cp2" 1 "a restore with another 'source.max-record-size'" || true
  check "the restore is refused naming both limits" "1" \
    "$(grep -cF "table 'f': the checkpoint was taken with 'source.max-record-size' = 67108864 bytes, the job has 1048576" "$WORK/cp2.err" || true)"
else
  bad "the run completed no checkpoint"
  show_err "$WORK/cp1"
fi

section "JSON nested deeper than 64 levels is a bad row with its position"
"$PY" - "$WORK" <<'PY'
import sys
w = sys.argv[1]
ok = '{"id": 1, "name": ' + "[" * 63 + "]" * 63 + ', "score": 1}'
deep = '{"id": 2, "name": ' + "[" * 100000 + "]" * 100000 + ', "score": 2}'
open(f"{w}/deep.jsonl", "w").write(ok + "\n" + deep + "\n")
PY
{ table t "$WORK/deep.jsonl" json ""; echo "SELECT id, CHAR_LENGTH(name) AS n FROM t;"; } >"$WORK/deep.sql"
run_eddy "$WORK/deep" run "$WORK/deep.sql"
expect_rc "$WORK/deep" 1 "deep JSON" || true
# The record's object is level 1, so the 64th '[' (column 18 + 64) opens level 65.
check "the error names line 2 and the column of the bracket that goes too deep" "1" \
  "$(grep -cF "deep.jsonl:2:82: bad row in table 't': JSON nesting is deeper than 64 levels" "$WORK/deep.err" || true)"
run_eddy "$WORK/deep2" run "$WORK/deep.sql" --format csv --set error.policy=skip
check "with 'skip' the 63-level line is read" "id,n 1,126" "$(paste -sd' ' "$WORK/deep2.out")"

section "a string function cannot build more than 16 MiB"
printf 'id,name,score\n1,abc,1\n' >"$WORK/small.csv"
{ table t "$WORK/small.csv" csv ", 'csv.ignore-first-line' = 'true'"
  echo "SELECT CHAR_LENGTH(REPEAT(name, 20000000)) FROM t;"; } >"$WORK/repeat.sql"
peak_rss "$WORK/repeat" run "$WORK/repeat.sql"
expect_rc "$WORK/repeat" 1 "REPEAT beyond 16 MiB" || true
check "the error names REPEAT and the limit" "1" \
  "$(grep -cF "REPEAT: the result would be 60000000 bytes, longer than the limit of 16777216 bytes (16 MiB) for a string" "$WORK/repeat.err" || true)"
if [[ $PEAK_KB -lt 65536 ]]; then ok "peak RSS $((PEAK_KB / 1024)) MiB (bound 64 MiB)"; else
  bad "peak RSS $((PEAK_KB / 1024)) MiB, over 64 MiB"
fi

# --- Kafka ---------------------------------------------------------------------------------------
section "kafka records over the limit go to the error policy with topic/partition/offset"
if ! command -v kcat >/dev/null 2>&1 || ! /usr/bin/python3 -c 'import confluent_kafka' 2>/dev/null; then
  echo "  (kafka part not run: kcat or python3-confluent-kafka is missing)"
  if [[ "${CI:-}" == "true" ]]; then bad "kcat and python3-confluent-kafka are required in CI"; fi
  finish
fi
source "$LIB/kafka.sh"
start_server "$WORK/data"
BS="127.0.0.1:$PORT"
"$EDDY" topic create big --partitions 1 --bootstrap-server "$BS" >/dev/null
/usr/bin/python3 - "$BS" <<'PY'
import sys
from confluent_kafka import Producer
p = Producer({"bootstrap.servers": sys.argv[1], "acks": "all"})
p.produce("big", value=b'{"id":1,"name":"a","score":1}')
p.produce("big", value=b'{"id":2,"name":"' + b"x" * 5000 + b'","score":2}')  # offset 1: 5 KB
# offset 2: a key longer than the limit, but the table does not read keys: not a bad row
p.produce("big", value=b'{"id":3,"name":"c","score":3}', key=b"k" * 3000)
p.produce("big", value=b'{"id":4,"name":"\xff\xfe","score":4}')              # offset 3: not UTF-8
p.produce("big", value=b'{"id":5,"name":"e","score":5}')
assert p.flush(30) == 0
PY
ksql() {  # ksql EXTRA_OPTIONS
  echo "CREATE TABLE k ($CSV3) WITH ('connector' = 'kafka', 'topic' = 'big',
  'properties.bootstrap.servers' = '$BS', 'scan.startup.mode' = 'earliest-offset',
  'scan.bounded.mode' = 'latest-offset', 'format' = 'json', 'source.max-record-size' = '1 kb'$1);
SELECT id FROM k;"
}
ksql "" >"$WORK/k1.sql"
run_eddy "$WORK/k1" run "$WORK/k1.sql"
expect_rc "$WORK/k1" 1 "kafka, fail" || true
check "fail: the error names topic, partition and offset" "1" \
  "$(grep -cF "topic 'big' partition 0 offset 1: bad row in table 'k': the record's value is longer than 'source.max-record-size' (1024 bytes)" "$WORK/k1.err" || true)"
ksql ", 'error.policy' = 'dead-letter', 'error.dead-letter.path' = '$WORK/kdlq.jsonl'" \
  >"$WORK/k2.sql"
run_eddy "$WORK/k2" run "$WORK/k2.sql" --format csv
expect_rc "$WORK/k2" 0 "kafka, dead-letter" || true
check "dead-letter: the other records are read" "id 1 3 5" "$(paste -sd' ' "$WORK/k2.out")"
check "dead-letter: offsets 1 (too long, truncated to 4096 bytes) and 3 (base64 of the bytes)" \
  "big/0/1 True 4096 | big/0/3 False True" \
  "$(/usr/bin/python3 -c '
import base64, json, sys
recs = [json.loads(l) for l in open(sys.argv[1], encoding="utf-8")]
a, b = recs
print(a["source"], a.get("row_truncated", False), len(a["row"]), "|", b["source"],
      b.get("row_truncated", False),
      base64.b64decode(b["row_base64"]) == b"{\"id\":4,\"name\":\"\xff\xfe\",\"score\":4}")' \
    "$WORK/kdlq.jsonl" 2>&1)"
stop_server
section "a named pipe is read once, whole"
# Planning measured the input by opening it: on a pipe that took the writer's first bytes (and
# closed the pipe under it) before the scan opened it again and waited forever.
rm -f "$WORK/pipe.csv"
mkfifo "$WORK/pipe.csv"
"$PY" -c 'import sys; print("\n".join("%d,n%d,%d" % (i, i, i % 7) for i in range(50000)))' >"$WORK/pipe.csv" &
writer=$!
{ table p "$WORK/pipe.csv" csv ""; echo "CREATE TABLE c ($CSV3) WITH ('connector' = 'filesystem', 'path' = '$WORK/pipe-out.csv', 'format' = 'csv');"
  echo "INSERT INTO c SELECT * FROM p;"; } >"$WORK/pipe.sql"
RC=0
timeout 60 "$EDDY" run "$WORK/pipe.sql" -q 2>"$WORK/pipe.err" || RC=$?
wait "$writer" || true
# 50,000 rows whose scores (i mod 7) sum to 7142 cycles of 21, plus 0 + 1 + ... + 5.
check "the pipe's 50,000 rows are all read once (exit $RC)" "50000 149997" \
  "$(awk -F, '{n++; s += $3} END {print n, s}' "$WORK/pipe-out.csv" 2>/dev/null)"

finish
