#!/usr/bin/env bash
# Ctrl-C (SIGINT) and SIGTERM end a running `eddy run` job promptly, measured from the signal to
# the process's exit. Busy operators stop by themselves (they check the job's cancel flag): a
# join producing millions of rows, MATCH_RECOGNIZE holding many partial matches, OVER over every
# row must exit within 600 ms (at most ~410 ms seen at a load of 9 on 2 cores), before the
# watchdog of src/cli/main.cc can act (it ends the process 750 ms after the signal and says so on
# stderr; that line must not appear). A sink blocked writing to a pipe nobody reads cannot stop
# by itself: there the watchdog must end the process (its line appears) within 1.5 s. Each job
# is signalled 2 s after it starts, while it is busy.
#
# Usage: bash cancellation.sh <path-to-eddy> <repo-root>
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

FL="CREATE TABLE f (\`date\` TIMESTAMP(3), delay INT, distance INT, origin STRING, destination STRING,
  WATERMARK FOR \`date\` AS \`date\` - INTERVAL '5' MINUTE) WITH ('connector' = 'filesystem',
  'path' = '$FLIGHTS', 'format' = 'csv', 'csv.ignore-first-line' = 'true');
  CREATE TABLE g (\`date\` TIMESTAMP(3), delay INT, distance INT, origin STRING, destination STRING)
  WITH ('connector' = 'filesystem', 'path' = '$FLIGHTS', 'format' = 'csv', 'csv.ignore-first-line' = 'true');
  CREATE TABLE sink (a STRING, b BIGINT) WITH ('connector' = 'blackhole');"

WATCHDOG_LINE="did not stop within 0.75 s"

# measure WHAT SIGNAL LIMIT_MS SQL [PIPE] : runs the job, signals it after 2 s, checks that it
# ends within LIMIT_MS of the signal; with PIPE (stdout into a pipe nobody reads) by the watchdog,
# otherwise by itself.
measure() {
  local what=$1 sig=$2 limit=$3 sql=$4 pipe=${5:-}
  local pid
  if [[ -n "$pipe" ]]; then
    # stdout into a pipe that is never read: the sink blocks once the pipe is full.
    mkfifo "$WORK/fifo.$$"
    exec 7<>"$WORK/fifo.$$"
    "$EDDY" run -q --format csv -e "$sql" >&7 2>"$WORK/c.err" &
    pid=$!
  else
    "$EDDY" run -q -e "$sql" >/dev/null 2>"$WORK/c.err" &
    pid=$!
  fi
  sleep 2
  if ! kill -0 "$pid" 2>/dev/null; then
    bad "$what: the job ended before the signal (make it bigger)"
    wait "$pid" || true
    return
  fi
  local t0 ms
  t0=$(date +%s%N)
  kill "-$sig" "$pid"
  # Poll for up to 3 s (the watchdog ends the process after 0.75 s in any case).
  while kill -0 "$pid" 2>/dev/null; do
    ms=$((($(date +%s%N) - t0) / 1000000))
    ((ms < 3000)) || break
    sleep 0.01
  done
  ms=$((($(date +%s%N) - t0) / 1000000))
  if kill -0 "$pid" 2>/dev/null; then
    bad "$what: still running $ms ms after SIG$sig"
    kill -KILL "$pid" 2>/dev/null || true
  elif ((ms > limit)); then
    bad "$what: ended $ms ms after SIG$sig (limit $limit ms)"
  else
    ok "$what: ended $ms ms after SIG$sig (limit $limit ms)"
  fi
  wait "$pid" 2>/dev/null || true
  if [[ -n "$pipe" ]]; then
    if grep -q "$WATCHDOG_LINE" "$WORK/c.err"; then
      ok "$what: the watchdog ended it"
    else
      bad "$what: no watchdog line on stderr: $(head -c 300 "$WORK/c.err")"
    fi
    exec 7>&-
    rm -f "$WORK/fifo.$$"
  elif grep -q "$WATCHDOG_LINE" "$WORK/c.err"; then
    bad "$what: the watchdog had to end it (the operator did not stop by itself)"
  fi
}

section "cancellation of busy jobs"
measure "self-join on origin (millions of pairs)" INT 600 \
  "$FL INSERT INTO sink SELECT f.origin, CAST(f.distance + g.distance AS BIGINT) FROM f JOIN g ON f.origin = g.origin;"
measure "the same join, SIGTERM" TERM 600 \
  "$FL INSERT INTO sink SELECT f.origin, CAST(f.distance + g.distance AS BIGINT) FROM f JOIN g ON f.origin = g.origin;"
measure "MATCH_RECOGNIZE with many partial matches" INT 600 \
  "$FL INSERT INTO sink SELECT origin, CAST(n AS BIGINT) FROM f MATCH_RECOGNIZE (PARTITION BY origin
   ORDER BY \`date\` MEASURES COUNT(A.delay) AS n ONE ROW PER MATCH AFTER MATCH SKIP TO NEXT ROW
   PATTERN (A+ B) DEFINE B AS B.delay > 100000);"
measure "OVER over every row" INT 600 \
  "$FL INSERT INTO sink SELECT origin, SUM(CAST(distance AS BIGINT)) OVER (PARTITION BY origin ORDER BY \`date\`
   RANGE BETWEEN INTERVAL '30' DAY PRECEDING AND CURRENT ROW) FROM f;"
measure "a print sink blocked on a full pipe" INT 1500 "$FL CREATE TABLE p (\`date\` TIMESTAMP(3), delay INT,
  distance INT, origin STRING, destination STRING) WITH ('connector' = 'print');
  INSERT INTO p SELECT * FROM g;" pipe
finish
