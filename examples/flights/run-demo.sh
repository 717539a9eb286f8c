#!/usr/bin/env bash
# `make demo`: runs the main job over the shipped flights data. Usage: run-demo.sh [path/to/eddy]
set -euo pipefail
cd "$(dirname "$0")/../.."
EDDY=${1:-build/eddy}
mkdir -p out
echo "== eddy: hourly delays per airport, January 2001 (examples/flights/delays.sql) =="
"$EDDY" run examples/flights/delays.sql
echo
echo "All $(wc -l < out/hourly_delays.jsonl) (origin, hour) rows are in out/hourly_delays.jsonl; the first three:"
head -n 3 out/hourly_delays.jsonl
echo
echo "== HOP and SESSION windows (examples/flights/windows.sql) =="
"$EDDY" run examples/flights/windows.sql
