#!/usr/bin/env bash
# The flights delays query (examples/flights/delays-kafka.sql) over the replayed 'flights' topic
# (508,239 flights, 4 partitions), read and written two ways against the same broker and data:
#   local      as an `eddy server --sql` pipeline: the local log, no Kafka client;
#   librdkafka as `eddy run` against the same server: librdkafka over the loopback socket.
# Runs them alternately EDDY_BENCH_REPEATS times (default 3) and prints rows/s of each run (rows
# read / job seconds from the end-of-job summary), the medians and their ratio.
#
# Usage: bash bench/run-local-log-bench.sh [path-to-eddy]   (default build/eddy)
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
EDDY=$(realpath "${1:-$ROOT/build/eddy}")
REPEATS=${EDDY_BENCH_REPEATS:-3}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/eddy-local-bench.XXXXXX")
SERVER_PID=""
cleanup() {
  if [[ -n "$SERVER_PID" ]]; then kill -KILL "$SERVER_PID" 2>/dev/null || true; fi
  rm -rf "$WORK"
}
trap cleanup EXIT
PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
BS="127.0.0.1:$PORT"

start() {  # start ARGS... : eddy server on $PORT, logs in $WORK/server.err
  : >"$WORK/server.err"
  rm -f "$WORK/port"
  (cd "$ROOT" && exec "$EDDY" server --data-dir "$WORK/data" --kafka-listen "$BS" \
    --port-file "$WORK/port" "$@") >/dev/null 2>>"$WORK/server.err" &
  SERVER_PID=$!
  for _ in $(seq 1 200); do [[ -s "$WORK/port" ]] && return 0; sleep 0.1; done
  echo "eddy server did not start" >&2
  exit 1
}
stop() {
  kill -TERM "$SERVER_PID"
  wait "$SERVER_PID" || true
  SERVER_PID=""
}
# delays_sql BOOTSTRAP OUT_TOPIC
delays_sql() {
  sed -e "s/127.0.0.1:9092/$1/" -e "s/'topic' = 'hourly_delays'/'topic' = '$2'/" \
    "$ROOT/examples/flights/delays-kafka.sql"
}
# rate FILE PATTERN : rows/s from "<PATTERN> after S s" and "source flights: N rows read".
rate() {
  local secs rows
  secs=$(grep -o "$2 after [0-9.]* s" "$1" | tail -1 | awk '{print $(NF-1)}')
  rows=$(grep -o "source flights: [0-9]* rows read" "$1" | tail -1 | awk '{print $3}')
  awk -v r="$rows" -v s="$secs" 'BEGIN { printf "%.0f %s %s\n", r / s, r, s }'
}

start
EDDY="$EDDY" "$ROOT/examples/flights/replay.sh" --topic flights --bootstrap-server "$BS" \
  >"$WORK/replay.out" 2>&1
for i in $(seq 1 "$REPEATS"); do
  "$EDDY" topic create "local_$i" --partitions 2 --bootstrap-server "$BS" >/dev/null
  "$EDDY" topic create "rdk_$i" --partitions 2 --bootstrap-server "$BS" >/dev/null
done
stop
: >"$WORK/local.rates"
: >"$WORK/rdk.rates"
for i in $(seq 1 "$REPEATS"); do
  delays_sql "localhost:$PORT" "local_$i" >"$WORK/local_$i.sql"
  start --sql "$WORK/local_$i.sql"
  for _ in $(seq 1 600); do
    grep -q "pipeline 'local_$i.sql': \(ended\|failed\)" "$WORK/server.err" && break
    sleep 0.1
  done
  grep -q "from the local log" "$WORK/server.err" || { echo "not on the local log" >&2; exit 1; }
  rate "$WORK/server.err" "job finished" | tee -a "$WORK/local.rates" |
    awk -v i="$i" '{printf "run %d local:      %8d rows/s (%d rows in %s s)\n", i, $1, $2, $3}'
  delays_sql "$BS" "rdk_$i" >"$WORK/rdk_$i.sql"
  (cd "$ROOT" && "$EDDY" run "$WORK/rdk_$i.sql") >/dev/null 2>"$WORK/rdk_$i.err"
  grep -q "through librdkafka" "$WORK/rdk_$i.err" || { echo "not through librdkafka" >&2; exit 1; }
  rate "$WORK/rdk_$i.err" "eddy: finished" | tee -a "$WORK/rdk.rates" |
    awk -v i="$i" '{printf "run %d librdkafka: %8d rows/s (%d rows in %s s)\n", i, $1, $2, $3}'
  stop
done
median() { sort -n | awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
lm=$(cut -d' ' -f1 "$WORK/local.rates" | median)
rm_=$(cut -d' ' -f1 "$WORK/rdk.rates" | median)
awk -v l="$lm" -v r="$rm_" 'BEGIN { printf "median: local %.0f rows/s, librdkafka %.0f rows/s, local/librdkafka %.2f\n", l, r, l / r }'
