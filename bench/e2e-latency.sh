#!/usr/bin/env bash
# End-to-end latency of a pass-through pipeline in `eddy server` (issue 12, "Live means live"):
# producer call → topic src → pipeline INSERT INTO dst SELECT k, t FROM src → topic dst →
# consumer receipt, measured by bench/e2e/latency.py with confluent-kafka-python on loopback, at
# each RATE (records/s) for SECONDS each. Prints one line per rate.
#
# With E2E_RECEIVER=push the receiver is a push query over `src` (POST /v1/query, NDJSON) instead
# of the pipeline and a consumer of `dst`: producer call → row on the HTTP client. ACKS (1 | all,
# default all) is the producer's acks; EDDY_PIPELINE_SET is SQL put before the pipeline's script.
#
# Usage: bash bench/e2e-latency.sh EDDY [SECONDS] [RATES...]   (defaults: 10 s, 1000 10000)
set -euo pipefail
EDDY=$(realpath "$1")
SECS=${2:-10}
shift $(($# < 2 ? $# : 2))
RATES=("$@")
[[ ${#RATES[@]} -gt 0 ]] || RATES=(1000 10000)
HERE=$(cd "$(dirname "$0")" && pwd)
PY=/usr/bin/python3
$PY -c 'import confluent_kafka' 2>/dev/null || { echo "python3-confluent-kafka is missing (scripts/install-deps)"; exit 1; }
for RATE in "${RATES[@]}"; do
  W=$(mktemp -d "${TMPDIR:-/tmp}/eddy-e2e.XXXXXX")
  "$EDDY" server --data-dir "$W/data" --kafka-listen 127.0.0.1:0 --port-file "$W/port" \
    --http-listen 127.0.0.1:0 --http-port-file "$W/http" ${EDDY_SERVER_ARGS:-} >/dev/null 2>"$W/server.err" &
  S=$!
  trap 'kill -TERM $S 2>/dev/null; wait $S 2>/dev/null; rm -rf "$W"' EXIT
  for _ in $(seq 100); do [[ -s "$W/port" && -s "$W/http" ]] && break; sleep 0.1; done
  B="127.0.0.1:$(cat "$W/port")"
  H="http://127.0.0.1:$(cat "$W/http")"
  "$EDDY" topic create src --partitions 1 --bootstrap-server "$B" >/dev/null
  "$EDDY" topic create dst --partitions 1 --bootstrap-server "$B" >/dev/null
  SQL="${EDDY_PIPELINE_SET:-}CREATE TABLE src (k STRING, t BIGINT) WITH ('connector' = 'kafka', 'topic' = 'src', 'properties.bootstrap.servers' = '$B', 'scan.startup.mode' = 'latest-offset', 'format' = 'csv'); CREATE TABLE dst (k STRING, t BIGINT) WITH ('connector' = 'kafka', 'topic' = 'dst', 'properties.bootstrap.servers' = '$B', 'format' = 'csv'); INSERT INTO dst SELECT k, t FROM src"
  if [[ ${E2E_RECEIVER:-pipeline} == push ]]; then
    export PUSH_URL=$H
  else
    $PY -c 'import json, sys; print(json.dumps({"name": "passthrough", "sql": sys.argv[1]}))' "$SQL" |
      curl -sf -X POST -H 'Content-Type: application/json' --data-binary @- "$H/v1/pipelines" >/dev/null
  fi
  sleep 1
  cpu0=$(awk '{print $14 + $15}' /proc/$S/stat)
  $PY "$HERE/e2e/latency.py" "$B" "$RATE" "$SECS" >"$W/result.json"
  cpu1=$(awk '{print $14 + $15}' /proc/$S/stat)
  $PY -c '
import json, os, sys
r = json.load(open(sys.argv[1]))
cpu = (int(sys.argv[2]) * 1000.0 / os.sysconf("SC_CLK_TCK")) / (r["sent"] / 1000.0)
line = ("push query: " if sys.argv[3] == "push" else "") + (
    "rate {rate}/s ({rate_reached}/s reached, {received}/{sent} received): p50 {p50_ms} ms, "
    "p99 {p99_ms} ms, p99.9 {p999_ms} ms, max {max_ms} ms").format(**r)
if r["to_sink_p50_ms"] is not None:
    line += "; producer call to the pipeline append p50 {to_sink_p50_ms} ms, p99 {to_sink_p99_ms} ms".format(**r)
print(line + "; server CPU {:.1f} ms per 1,000 records".format(cpu))' "$W/result.json" $((cpu1 - cpu0)) "${E2E_RECEIVER:-pipeline}"
  kill -TERM $S 2>/dev/null; wait $S 2>/dev/null || true
  rm -rf "$W"
  trap - EXIT
done
