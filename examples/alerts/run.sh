#!/usr/bin/env bash
# Runs examples/alerts/delay-alerts.sql against a local stand-in incident endpoint
# (receiver.py), which prints each alert it receives.
# Usage: bash examples/alerts/run.sh [path/to/eddy] [alerts.jsonl]
#   (from anywhere; the second argument keeps the received alerts as JSON lines)
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
EDDY=$(realpath "${1:-$ROOT/build/eddy}")
OUT=${2:+$(realpath -m "$2")}
TMP=$(mktemp -d "${TMPDIR:-/tmp}/eddy-alerts.XXXXXX")
python3 "$ROOT/examples/alerts/receiver.py" "$TMP/port" ${OUT:+"$OUT"} &
RECEIVER=$!
trap 'kill $RECEIVER 2>/dev/null || true; rm -rf "$TMP"' EXIT
for _ in $(seq 1 100); do [[ -f "$TMP/port" ]] && break; sleep 0.1; done
URL="http://127.0.0.1:$(cat "$TMP/port")/incidents"
echo "alerts: incident endpoint at $URL" >&2
cd "$ROOT"
sed "s|http://127.0.0.1:8099/incidents|$URL|" examples/alerts/delay-alerts.sql | "$EDDY" run -
