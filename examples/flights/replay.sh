#!/usr/bin/env bash
# Replays the flights file into a Kafka topic as a live stream: one JSON message per flight,
# keyed by origin airport, at a chosen rate (events/s) or as fast as possible.
#
# Usage: examples/flights/replay.sh [--rate N] [--topic T] [--bootstrap-server HOST:PORT]
#                                   [--partitions P] [FILE.csv.gz]
# Default: as fast as possible into topic 'flights' (created with 4 partitions if missing) on
# 127.0.0.1:9092, from examples/data/flights-2001-01.csv.gz. Start a broker first, e.g.
#   build/eddy server --data-dir /tmp/eddy-data &
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
EDDY=${EDDY:-$ROOT/build/eddy}
RATE=0 TOPIC=flights BOOTSTRAP=127.0.0.1:9092 PARTITIONS=4
FILE=$ROOT/examples/data/flights-2001-01.csv.gz
while [[ $# -gt 0 ]]; do
  case $1 in
    --rate) RATE=$2; shift 2 ;;
    --topic) TOPIC=$2; shift 2 ;;
    --bootstrap-server) BOOTSTRAP=$2; shift 2 ;;
    --partitions) PARTITIONS=$2; shift 2 ;;
    -h|--help) sed -n '2,10p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) FILE=$1; shift ;;
  esac
done
if ! "$EDDY" topic describe "$TOPIC" --bootstrap-server "$BOOTSTRAP" >/dev/null 2>&1; then
  "$EDDY" topic create "$TOPIC" --partitions "$PARTITIONS" --bootstrap-server "$BOOTSTRAP"
fi
# CSV (date,delay,distance,origin,destination) to "origin|{json}" lines; the key is the origin.
gzip -dc "$FILE" | tail -n +2 |
  awk -F, '{ printf "%s|{\"date\":\"%s\",\"delay\":%s,\"distance\":%s,\"origin\":\"%s\",\"destination\":\"%s\"}\n", $4, $1, $2, $3, $4, $5 }' |
  "$EDDY" produce "$TOPIC" --key-separator '|' --rate "$RATE" --bootstrap-server "$BOOTSTRAP"
