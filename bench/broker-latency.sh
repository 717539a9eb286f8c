#!/usr/bin/env bash
# One paced produce run against a fresh `eddy server`: kafka_load at RATE records/s of BYTES
# (default 1024) with acks=all to a topic of PARTS (default 8) partitions; prints throughput and
# produce latency p50/p99/p99.9 (ms). For repeating the latency rows of `make bench-broker`.
#
# Usage: bash bench/broker-latency.sh EDDY KAFKA_LOAD RATE COUNT [PARTS] [BYTES]
set -euo pipefail
EDDY=$1 LOAD=$2 RATE=$3 COUNT=$4 PARTS=${5:-8} BYTES=${6:-1024}
W=$(mktemp -d "${TMPDIR:-/tmp}/eddy-latency.XXXXXX")
"$EDDY" server --data-dir "$W/data" --kafka-listen 127.0.0.1:0 --port-file "$W/port" \
  >/dev/null 2>"$W/server.err" &
S=$!
trap 'kill -TERM $S 2>/dev/null; wait $S 2>/dev/null; rm -rf "$W"' EXIT
for _ in $(seq 100); do [[ -s "$W/port" ]] && break; sleep 0.1; done
B="127.0.0.1:$(cat "$W/port")"
"$EDDY" topic create t --partitions "$PARTS" --bootstrap-server "$B" >/dev/null
"$LOAD" "$B" t "$BYTES" "$COUNT" all "$RATE" | python3 -c '
import json, sys
print("rate {rate:.0f}/s: {produce_rec_s:.0f} records/s, {produce_mb_s} MB/s, p50 {p50_ms:.2f} ms, "
      "p99 {p99_ms:.2f} ms, p99.9 {p999_ms:.2f} ms".format(**json.loads(sys.stdin.read())))'
