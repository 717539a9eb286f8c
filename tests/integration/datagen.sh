#!/usr/bin/env bash
# The datagen connector in whole `eddy run` jobs (the generator itself: tests/unit/connectors/
# datagen_test.cc; bounded scans aggregated: tests/sql/connectors/datagen.test):
# - rate limit: 2,000 rows at 'rows-per-second' = 1000 take about 2 s, at parallelism 1 and 2
#   (the rate is shared by the subtasks); generous bounds, 1.8 s to 8 s: never faster than the
#   rate allows, and not stalled;
# - cancel: an unbounded scan (default rate, and a rate the job cannot keep up with) ends within
#   1 s of SIGINT, by itself (the watchdog of src/cli/main.cc, which ends the process 750 ms after
#   the signal, must not have to end it). Alone on this 2-core box it ends in 15-60 ms; under
#   `ctest -j2` at a load of 10 one run took 1.8 s, hence the bound;
# - checkpoints: a sequence 1..N written to a filesystem sink (two-phase commit) with checkpoints,
#   killed with SIGKILL once its 3rd checkpoint (or a later one) is complete and resumed from the
#   latest at the same and at another
#   parallelism, writes each of 1..N exactly once (checked against seq 1 N).
#
# Usage: bash datagen.sh <path-to-eddy> <repo-root>
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
cd "$WORK"

section "rate limit"
for p in 1 2; do
  sql="SET 'parallelism.default' = '$p';
    CREATE TABLE g (id BIGINT, v INT) WITH ('connector' = 'datagen', 'rows-per-second' = '1000',
      'fields.id.kind' = 'sequence', 'fields.id.start' = '1', 'fields.id.end' = '2000');
    CREATE TABLE sink (id BIGINT, v INT) WITH ('connector' = 'blackhole');
    INSERT INTO sink SELECT * FROM g;"
  t0=$(date +%s%N)
  run_eddy rate run --no-progress -e "$sql"
  ms=$((($(date +%s%N) - t0) / 1000000))
  expect_rc rate 0 "parallelism $p: 2000 rows at 1000 rows/s" || continue
  if grep -q "sink: 2000 rows written" rate.err; then
    ok "parallelism $p: 2000 rows written"
  else
    bad "parallelism $p: not 2000 rows written: $(grep -i 'rows' rate.err | head -3)"
  fi
  if ((ms >= 1800 && ms <= 8000)); then
    ok "parallelism $p: took $ms ms (expected about 2000, bounds 1800 to 8000)"
  else
    bad "parallelism $p: took $ms ms (expected about 2000, bounds 1800 to 8000)"
  fi
done

section "cancel of unbounded scans"
WATCHDOG_LINE="did not stop within 0.75 s"
cancel() {  # cancel WHAT RATE PARALLELISM QUERY
  local what=$1 pid t0 ms
  local sql="SET 'parallelism.default' = '$3';
    CREATE TABLE g (id BIGINT, name STRING, ts TIMESTAMP(3), WATERMARK FOR ts AS ts - INTERVAL '1' SECOND)
      WITH ('connector' = 'datagen', 'rows-per-second' = '$2');
    CREATE TABLE sink (id BIGINT, n BIGINT) WITH ('connector' = 'blackhole');
    INSERT INTO sink $4;"
  "$EDDY" run -q -e "$sql" >/dev/null 2>"$WORK/c.err" &
  pid=$!
  sleep 2
  if ! kill -0 "$pid" 2>/dev/null; then
    bad "$what: the job ended by itself: $(head -c 300 "$WORK/c.err")"
    wait "$pid" || true
    return
  fi
  t0=$(date +%s%N)
  kill -INT "$pid"
  while kill -0 "$pid" 2>/dev/null; do
    ms=$((($(date +%s%N) - t0) / 1000000))
    ((ms < 3000)) || break
    sleep 0.01
  done
  ms=$((($(date +%s%N) - t0) / 1000000))
  if kill -0 "$pid" 2>/dev/null; then
    bad "$what: still running $ms ms after SIGINT"
    kill -KILL "$pid" 2>/dev/null || true
  elif grep -q "$WATCHDOG_LINE" "$WORK/c.err"; then
    bad "$what: the watchdog had to end it ($ms ms after SIGINT)"
  elif ((ms > 1000)); then
    bad "$what: ended $ms ms after SIGINT (limit 1000 ms)"
  else
    ok "$what: ended $ms ms after SIGINT (limit 1000 ms)"
  fi
  wait "$pid" 2>/dev/null || true
}
WINDOWED="SELECT MAX(id), COUNT(*) FROM TABLE(TUMBLE(TABLE g, DESCRIPTOR(ts), INTERVAL '1' SECOND))
  GROUP BY window_start, window_end"
cancel "default rate (10000 rows/s), windowed count" 10000 1 "$WINDOWED"
cancel "no effective rate limit, parallelism 2, windowed count" 1000000000 2 "$WINDOWED"
cancel "no effective rate limit, parallelism 2, into blackhole" 1000000000 2 \
  "SELECT id, CHAR_LENGTH(name) FROM g"

section "checkpoint and restore of a sequence"
N=30000
seq 1 $N >want.txt
job() {  # job OUT_PATH
  echo "CREATE TABLE g (id BIGINT, v INT, s STRING) WITH ('connector' = 'datagen',
      'rows-per-second' = '6000', 'fields.id.kind' = 'sequence', 'fields.id.start' = '1',
      'fields.id.end' = '$N', 'fields.s.length' = '8');
    CREATE TABLE out (id BIGINT, v INT, s STRING) WITH ('connector' = 'filesystem',
      'path' = '$1', 'format' = 'csv');
    INSERT INTO out SELECT * FROM g;"
}
last_checkpoint() {  # last_checkpoint DIR : the number of the newest complete checkpoint, or 0
  local n=0 f k
  for f in "$1"/*/chk-*/_metadata; do
    [[ -e "$f" ]] || continue
    k=${f%/_metadata}
    k=${k##*/chk-}
    ((k > n)) && n=$k
  done
  echo "$n"
}
crash_restore() {  # crash_restore P1 P2
  local p1=$1 p2=$2 what="killed after its 3rd checkpoint at parallelism $1, resumed at $2"
  local ck="$WORK/ck-$p1-$p2" out="$WORK/out-$p1-$p2.csv"
  job "$out" >"job-$p1-$p2.sql"
  local opts=(--set execution.checkpointing.interval=200ms --set "execution.checkpointing.dir=$ck"
    --no-progress)
  "$EDDY" run "job-$p1-$p2.sql" --set "parallelism.default=$p1" "${opts[@]}" \
    >first.out 2>first.err &
  local pid=$! waited=0
  # Older checkpoints are removed as newer ones complete: wait for any from the 3rd on.
  while (($(last_checkpoint "$ck") < 3)); do
    if ! kill -0 "$pid" 2>/dev/null || ((waited > 2000)); then break; fi
    sleep 0.01
    waited=$((waited + 1))
  done
  kill -9 "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  if (($(last_checkpoint "$ck") < 3)); then
    bad "$what: checkpoint 3 never completed"
    sed -n '1,5p' first.err
    return
  fi
  local before=0
  [[ -f "$out" ]] && before=$(wc -l <"$out")
  RC=0
  timeout 300 "$EDDY" run "job-$p1-$p2.sql" --set "parallelism.default=$p2" "${opts[@]}" \
    --from-checkpoint latest >second.out 2>second.err || RC=$?
  if [[ $RC != 0 ]] || ! grep -q "restored from $ck" second.err; then
    bad "$what: exit code $RC, or not restored"
    sed -n '1,5p' second.err
    return
  fi
  if ((before >= N)); then
    bad "$what: the first run had already written every row ($before): the kill came too late"
  fi
  if cmp -s <(cut -d, -f1 "$out" | sort -n) want.txt; then
    ok "$what: ids 1..$N each exactly once ($before committed before the kill)"
  else
    bad "$what: $(cut -d, -f1 "$out" | sort -n | uniq -d | wc -l) ids twice, \
$(comm -23 <(sort want.txt) <(cut -d, -f1 "$out" | sort) | wc -l) missing, $(wc -l <"$out") lines"
  fi
}
crash_restore 1 1
crash_restore 2 2
crash_restore 2 1
crash_restore 1 3

finish
