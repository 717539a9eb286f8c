#!/usr/bin/env bash
# What users see from the Kafka clients inside eddy (issue 15): librdkafka's own log lines come
# through eddy's logger in eddy's format (not librdkafka's "%3|..." lines), and producing to a
# topic that does not exist says so at once instead of timing out (`eddy produce`, and a SQL job
# writing to a kafka table).
#
# Usage: bash kafka_client_messages.sh <path-to-eddy> <repo-root>
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
source "$LIB/kafka.sh"

check_in() {  # WHAT FILE REGEX: FILE has a line matching the extended REGEX
  if grep -Eq "$3" "$2"; then ok "$1"; else
    bad "$1: no line matches /$3/"
    sed -n '1,8p' "$2" | sed 's/^/    | /'
  fi
}

section "librdkafka's log lines through eddy's logger"
# Nothing listens on port 1: the client logs connection failures until the metadata timeout.
run_eddy "$WORK/down" run -e "CREATE TABLE k (v INT) WITH ('connector' = 'kafka', 'topic' = 'x',
  'properties.bootstrap.servers' = '127.0.0.1:1', 'format' = 'json',
  'scan.startup.mode' = 'earliest-offset'); SELECT * FROM k;"
expect_rc "$WORK/down" 1 "a source on a broker that is down fails" || true
check_in "librdkafka's connection errors are eddy log lines (time, level, client, facility)" \
  "$WORK/down.err" \
  '^[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3} error kafka client eddy#consumer-[0-9]+: FAIL: .*Connection refused'
if grep -q '^%[0-7]|' "$WORK/down.err"; then
  bad "librdkafka still prints its own '%N|' lines"
  grep -m3 '^%[0-7]|' "$WORK/down.err" | sed 's/^/    | /'
else
  ok "no line in librdkafka's own format"
fi

section "producing to a missing topic (server without auto.create.topics.enable)"
start_server "$WORK/data" --no-auto-create-topics
B=(--bootstrap-server "127.0.0.1:$PORT")
start=$(date +%s.%N)
rc=0
echo hello | timeout 60 "$EDDY" produce nope "${B[@]}" >"$WORK/produce.out" 2>"$WORK/produce.err" ||
  rc=$?
secs=$(awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
if [[ $rc == 1 ]] && grep -q "topic 'nope' does not exist" "$WORK/produce.err" &&
  awk -v s="$secs" 'BEGIN { exit !(s < 5) }'; then
  ok "eddy produce: $(cat "$WORK/produce.err") (exit 1 after $secs s)"
else
  bad "eddy produce to a missing topic: exit $rc after $secs s: $(cat "$WORK/produce.err")"
fi
printf '1\n2\n' >"$WORK/vals.csv"
start=$(date +%s.%N)
run_eddy "$WORK/sink" run -e "CREATE TABLE f (v INT) WITH ('connector' = 'filesystem',
  'path' = '$WORK/vals.csv', 'format' = 'csv');
  CREATE TABLE s (v INT) WITH ('connector' = 'kafka', 'topic' = 'nope-sink',
  'properties.bootstrap.servers' = '127.0.0.1:$PORT', 'format' = 'json');
  INSERT INTO s SELECT v FROM f;"
secs=$(awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
expect_rc "$WORK/sink" 1 "a job writing to a missing topic fails (after $secs s)" || true
check_in "the job's error names the missing topic" "$WORK/sink.err" \
  "table 's': topic 'nope-sink' at 127.0.0.1:$PORT does not exist"
stop_server
finish
