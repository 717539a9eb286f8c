#!/usr/bin/env bash
# The 'http' sink on an unbounded job (a topic of `eddy server`):
#   * 'sink.batch.interval' sends waiting rows while the job runs (no end of input needed);
#   * with checkpoints, rows are delivered at least once through a SIGKILL and a restart from the
#     latest checkpoint: every id arrives, none is lost (an endpoint deduplicating by id then sees
#     each row exactly once).
#
# Usage: bash http_sink_stream.sh <path-to-eddy> <repo-root>
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
source "$LIB/kafka.sh"
need_cmd "$PY"

cd "$WORK"
"$PY" "$ROOT/tests/integration/http_sink_server.py" http-port log.jsonl &
HTTP_PID=$!
trap 'kill $HTTP_PID 2>/dev/null || true; kafka_cleanup' EXIT
for _ in $(seq 1 100); do [[ -f http-port ]] && break; sleep 0.1; done
URL="http://127.0.0.1:$(cat http-port)"

start_server "$WORK/data"
BS="127.0.0.1:$PORT"
"$EDDY" topic create readings --bootstrap-server "$BS" --partitions 2 >/dev/null
produce() {  # produce FIRST LAST : records <i>,k<i mod 3>,<10 i>
  seq "$1" "$2" | awk '{ printf "%d,k%d,%d\n", $1, $1 % 3, $1 * 10 }' |
    "$EDDY" produce readings --bootstrap-server "$BS" >/dev/null 2>&1
}
# have_ids N SECONDS : waits until the endpoint has received every id 1..N.
have_ids() {
  local i
  for ((i = 0; i < $2 * 10; i++)); do
    if [[ $("$PY" -c '
import json, sys
ids = {json.loads(l)["row"]["id"] for l in open("log.jsonl")} if __import__("os").path.exists("log.jsonl") else set()
print(set(range(1, int(sys.argv[1]) + 1)) <= ids)' "$1") == True ]]; then return 0; fi
    sleep 0.1
  done
  return 1
}
JOB="SET 'execution.checkpointing.interval' = '200 ms';
SET 'execution.checkpointing.dir' = '$WORK/ckpt';
CREATE TABLE readings (id INT, k STRING, v INT) WITH ('connector' = 'kafka', 'topic' = 'readings',
  'properties.bootstrap.servers' = '$BS', 'properties.group.id' = 'alerts',
  'scan.startup.mode' = 'earliest-offset', 'format' = 'csv');
CREATE TABLE hook (id INT, k STRING, v INT) WITH ('connector' = 'http', 'url' = '$URL/ok/hook',
  'sink.batch.max-rows' = '1000', 'sink.batch.interval' = '200 ms');
INSERT INTO hook SELECT * FROM readings;"

section "'sink.batch.interval' sends rows while the job runs"
produce 1 5
"$EDDY" run -e "$JOB" >job1.out 2>job1.err &
JOB_PID=$!
if have_ids 5 30; then ok "ids 1..5 arrived while the job runs (batch of up to 1000 rows, 200 ms interval)"; else
  bad "ids 1..5 did not arrive within 30 s"
  tail -5 job1.err | sed 's/^/    | /'
fi

section "at least once through SIGKILL and a restart from the latest checkpoint"
produce 6 10
have_ids 10 30 || bad "ids 6..10 did not arrive"
sleep 0.5  # a checkpoint after them
kill -KILL $JOB_PID
wait $JOB_PID 2>/dev/null || true
produce 11 15
"$EDDY" run --from-checkpoint latest -e "$JOB" >job2.out 2>job2.err &
JOB_PID=$!
if have_ids 15 30; then
  n=$(wc -l <log.jsonl)
  ok "every id 1..15 arrived after the restart ($n deliveries: at least once)"
else
  bad "ids 11..15 did not arrive after the restart"
  tail -5 job2.err | sed 's/^/    | /'
fi
grep -q "restor" job2.err && ok "the restart restored: $(grep -m1 -o "restor[^.]*" job2.err)" ||
  bad "the restart did not say it restored: $(head -3 job2.err)"
kill -INT $JOB_PID
wait $JOB_PID 2>/dev/null || true
stop_server
finish
