#!/usr/bin/env bash
# The 'mqtt' connector (issue 14, docs/benchmarks.md "MQTT"), mosquitto and eddy on this machine:
#  1. end-to-end latency publish → alert: paho-mqtt publishes sensor readings at RATE/s (QoS 1,
#     the send time in the payload) to a local mosquitto; `eddy run` reads them (mqtt source),
#     keeps those over a threshold (WHERE v > 50) and publishes them as alerts (mqtt sink, QoS 1);
#     a paho subscriber takes receipt − send time of each alert: p50/p99/p99.9/max;
#  2. ingest: COUNT readings queued by the broker for the source's persistent session, then read
#     by one source subtask into a 10 s TUMBLE average per sensor (blackhole sink); messages/s
#     from the log line "connected to the MQTT broker" to "no MQTT message for 2000 ms" − 2 s.
# Both at 'execution.buffer-timeout' = '1 ms' (the default) and '0 ms'. Best of EDDY_BENCH_RUNS
# (default 3) ingest runs.
#
# Usage: bash bench/run-mqtt-bench.sh [path-to-eddy] [RATE] [SECONDS] [COUNT]
#        (defaults: build/eddy, 1000 readings/s, 10 s, 50000)
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
EDDY=$(realpath "${1:-$ROOT/build/eddy}")
RATE=${2:-1000}
SECS=${3:-10}
COUNT=${4:-50000}
RUNS=${EDDY_BENCH_RUNS:-3}
PY=/usr/bin/python3
B="$ROOT/bench/mqtt/mqtt_bench.py"
if ! command -v mosquitto >/dev/null || ! $PY -c 'import paho.mqtt.client' 2>/dev/null; then
  echo "bench: mosquitto or python3-paho-mqtt is not installed (scripts/install-deps); no MQTT benchmark"
  exit 0
fi
WORK=$(mktemp -d "${TMPDIR:-/tmp}/eddy-mqttbench.XXXXXX")
PORT=$($PY -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
cat >"$WORK/mosquitto.conf" <<EOF
listener $PORT 127.0.0.1
allow_anonymous true
max_queued_messages 0
max_inflight_messages 0
user $(id -un)
EOF
mosquitto -c "$WORK/mosquitto.conf" >"$WORK/mosquitto.log" 2>&1 &
BROKER=$!
EPID=""
trap 'kill $EPID $BROKER 2>/dev/null || true; wait $BROKER 2>/dev/null || true; rm -rf "$WORK"' EXIT
for _ in $(seq 100); do (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null && break; sleep 0.1; done
echo "eddy MQTT benchmark, $(date -u +%Y-%m-%d), $(nproc) cores, $(mosquitto -h 2>/dev/null | head -1)"
MQ="'connector' = 'mqtt', 'hostname' = '127.0.0.1', 'port' = '$PORT', 'format' = 'json'"

wait_log() {  # wait_log FILE PATTERN SECONDS
  for _ in $(seq $(($3 * 10))); do grep -q -- "$2" "$1" 2>/dev/null && return 0; sleep 0.1; done
  return 1
}
ms_of() {  # ms_of FILE PATTERN : the ms-of-day of the first log line matching PATTERN
  grep -m1 -- "$2" "$1" | awk '{ split($2, t, "[:.]"); print ((t[1] * 60 + t[2]) * 60 + t[3]) * 1000 + t[4] }'
}

echo
echo "## publish → alert latency, $RATE readings/s for $SECS s (about half are alerts), QoS 1"
echo
echo "| execution.buffer-timeout | readings/s reached | alerts received | p50 ms | p99 ms | p99.9 ms | max ms |"
echo "|---|---|---|---|---|---|---|"
for BT in "1 ms" "0 ms"; do
  "$EDDY" run --no-progress -e "SET 'execution.buffer-timeout' = '$BT';
SET 'parallelism.default' = '1';
CREATE TABLE readings (sensor STRING, v DOUBLE, sent BIGINT) WITH ($MQ, 'topic' = 'bench/readings');
CREATE TABLE alerts (sensor STRING, v DOUBLE, sent BIGINT) WITH ($MQ, 'topic' = 'bench/alerts');
INSERT INTO alerts SELECT sensor, v, sent FROM readings WHERE v > 50;" >/dev/null 2>"$WORK/lat.err" &
  EPID=$!
  if ! wait_log "$WORK/lat.err" "connected to the MQTT broker.*eddy-sink" 20; then
    echo "bench: the latency job did not connect: $(tail -3 "$WORK/lat.err")"
    exit 1
  fi
  $PY "$B" latency "$PORT" "$RATE" "$SECS" >"$WORK/lat.json"
  kill -INT "$EPID" 2>/dev/null || true
  wait "$EPID" 2>/dev/null || true
  EPID=""
  $PY -c '
import json, sys
r = json.load(open(sys.argv[1]))
print("| {bt} | {rate_reached} | {alerts_received} of {alerts_expected} | {p50_ms} | {p99_ms} | {p999_ms} | {max_ms} |".format(bt=sys.argv[2], **r))' \
    "$WORK/lat.json" "$BT"
done

echo
echo "## ingest into a windowed query: $COUNT queued readings, one source subtask, QoS 1"
echo
echo "| execution.buffer-timeout | best drain time | messages/s | runs (s) |"
echo "|---|---|---|---|"
INGEST_DDL="SET 'parallelism.default' = '1';
CREATE TABLE readings (sensor STRING, v DOUBLE, ts TIMESTAMP(3),
  WATERMARK FOR ts AS ts - INTERVAL '5' SECOND) WITH ($MQ, 'topic' = 'bench/readings', 'qos' = '1',
  'client-id' = 'bench', 'clean-session' = 'false', 'scan.bounded.idle-timeout' = '2 s');
CREATE TABLE o (sensor STRING, ws TIMESTAMP(3), a DOUBLE, n BIGINT) WITH ('connector' = 'blackhole');
INSERT INTO o SELECT sensor, window_start, AVG(v), COUNT(*)
  FROM TABLE(TUMBLE(TABLE readings, DESCRIPTOR(ts), INTERVAL '10' SECOND))
  GROUP BY sensor, window_start, window_end;"
# The persistent session and its subscription exist before the readings are queued.
"$EDDY" run --no-progress -e "$INGEST_DDL" >/dev/null 2>"$WORK/ing.err"
for BT in "1 ms" "0 ms"; do
  best=999999
  runs=""
  for _ in $(seq "$RUNS"); do
    $PY "$B" queue "$PORT" "$COUNT"
    "$EDDY" run --no-progress -e "SET 'execution.buffer-timeout' = '$BT'; $INGEST_DDL" >/dev/null 2>"$WORK/ing.err"
    if ! grep -q "source readings: $COUNT rows read" "$WORK/ing.err"; then
      echo "bench: the ingest job did not read $COUNT rows: $(grep 'source readings' "$WORK/ing.err")"
      exit 1
    fi
    t0=$(ms_of "$WORK/ing.err" "connected to the MQTT broker")
    t1=$(ms_of "$WORK/ing.err" "no MQTT message for 2000 ms")
    d=$((t1 - t0 - 2000))
    runs+="${runs:+, }$(awk -v d="$d" 'BEGIN { printf "%.3f", d / 1000 }')"
    ((d < best)) && best=$d
  done
  awk -v bt="$BT" -v d="$best" -v n="$COUNT" -v runs="$runs" \
    'BEGIN { printf "| %s | %.3f s | %.0f k | %s |\n", bt, d / 1000, n / (d / 1000) / 1000, runs }'
done
