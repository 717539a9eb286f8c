#!/usr/bin/env bash
# An unbounded SELECT behaves as in Flink's SQL client (tableau mode) and ksqlDB:
#   * rows are printed as they arrive (seen on stdout while the query still runs, before any
#     Ctrl-C), and records produced after the query started show up too;
#   * Ctrl-C (SIGINT) ends it cleanly: exit code 0, "Received a total of N rows", within 1 s;
#   * LIMIT n ends it by itself after n rows, exit code 0;
#   * ORDER BY on it is a clear error;
#   * processing-time windows over the unbounded source fire on the wall clock (processing-time
#     timers), without waiting for the end of input that never comes.
# The source is a topic of `eddy server` read through librdkafka.
#
# Usage: bash streaming_select.sh <path-to-eddy> <repo-root>
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
source "$LIB/kafka.sh"

start_server "$WORK/data"
BS="127.0.0.1:$PORT"
"$EDDY" topic create events --bootstrap-server "$BS" --partitions 2 >/dev/null
produce() {  # produce FIRST LAST : records k<i>,<i>
  seq "$1" "$2" | sed 's/^\(.*\)$/k\1,\1/' |
    "$EDDY" produce events --bootstrap-server "$BS" >/dev/null 2>&1
}
produce 1 5

DDL="CREATE TABLE events (k STRING, v INT, pt AS PROCTIME()) WITH ('connector' = 'kafka',
  'topic' = 'events', 'properties.bootstrap.servers' = '$BS', 'scan.startup.mode' = 'earliest-offset',
  'format' = 'csv');"

# wait_for FILE PATTERN SECONDS : waits until FILE has a line matching PATTERN.
wait_for() {
  local i
  for ((i = 0; i < $3 * 10; i++)); do
    if grep -q -- "$2" "$1" 2>/dev/null; then return 0; fi
    sleep 0.1
  done
  return 1
}

section "rows stream out while the query runs; Ctrl-C ends it cleanly"
"$EDDY" run -e "$DDL SELECT k, v FROM events;" >"$WORK/s.out" 2>"$WORK/s.err" &
pid=$!
if wait_for "$WORK/s.out" "| *k5 " 30; then ok "the first rows are on stdout while the query runs"; else
  bad "no row printed within 30 s"
  sed 's/^/    | /' "$WORK/s.err" | tail -5
fi
produce 6 8
if wait_for "$WORK/s.out" "| *k8 " 30; then ok "records produced later show up"; else bad "k8 never printed"; fi
t0=$(date +%s%N)
kill -INT "$pid"
rc=0
wait "$pid" || rc=$?
ms=$((($(date +%s%N) - t0) / 1000000))
if [[ $rc == 0 ]]; then ok "Ctrl-C: exit code 0"; else bad "Ctrl-C: exit code $rc"; fi
if ((ms < 1000)); then ok "Ctrl-C: ended in $ms ms"; else bad "Ctrl-C: took $ms ms (limit 1000)"; fi
if grep -q "Received a total of 8 rows" "$WORK/s.out"; then ok "Received a total of 8 rows"; else
  bad "no row count line"
  tail -3 "$WORK/s.out" | sed 's/^/    | /'
fi
if grep -q "stopped after" "$WORK/s.err"; then ok "the summary says it was stopped"; else
  bad "summary: $(head -1 "$WORK/s.err")"
fi

section "LIMIT ends an unbounded query by itself"
rc=0
timeout 60 "$EDDY" run -e "$DDL SELECT k FROM events LIMIT 3;" --format csv >"$WORK/l.out" \
  2>"$WORK/l.err" || rc=$?
if [[ $rc == 0 ]]; then ok "LIMIT 3: exit code 0"; else bad "LIMIT 3: exit code $rc"; fi
n=$(grep -c '^k[0-9]' "$WORK/l.out" || true)
if [[ $n == 3 ]]; then ok "LIMIT 3: 3 rows"; else bad "LIMIT 3: $n rows"; fi

section "ORDER BY on an unbounded query is an error"
rc=0
timeout 60 "$EDDY" run -e "$DDL SELECT k FROM events ORDER BY k;" >"$WORK/o.out" 2>"$WORK/o.err" ||
  rc=$?
if [[ $rc == 1 ]] && grep -q "ORDER BY is not supported on an unbounded query" "$WORK/o.err"; then
  ok "clear error"
else bad "exit code $rc: $(head -2 "$WORK/o.err")"; fi

section "processing-time windows fire on the wall clock"
"$EDDY" run --format csv -e "$DDL SELECT COUNT(*) AS n, SUM(v) AS s
  FROM TABLE(TUMBLE(TABLE events, DESCRIPTOR(pt), INTERVAL '1' SECOND))
  GROUP BY window_start, window_end;" >"$WORK/p.out" 2>"$WORK/p.err" &
pid=$!
# The 8 old records arrive in the first window(s); once one has fired (on the wall clock, while
# the source stays open), the 10 new ones go to a later window. (A fixed sleep here was too short
# on a loaded machine: old and new records met in one window.)
if ! wait_for "$WORK/p.out" "^[0-9]*,[0-9]*$" 20; then
  bad "no window of the old records fired within 20 s"
fi
produce 100 109
if wait_for "$WORK/p.out" "^10,1045$" 20; then ok "a window of the 10 new records fired (10,1045)"; else
  bad "no window with the 10 new records within 20 s"
  sed 's/^/    | /' "$WORK/p.out" | tail -5
  sed 's/^/    | /' "$WORK/p.err" | tail -5
fi
kill -INT "$pid"
wait "$pid" || true

stop_server
finish
