#!/usr/bin/env bash
# The 'http' sink's throughput (issue 14, docs/benchmarks.md "HTTP sink"): the flights file's
# rows (origin, destination, delay, date) POSTed to a local endpoint (bench/http-sink/endpoint.js,
# Node's http module, answering 204) as JSON arrays of 100 and 1,000 rows, and one row per request
# for the flights from ORD (about 25,000); against the same query into the blackhole connector (reading,
# projecting and nothing else). Best of EDDY_BENCH_RUNS (default 3) per case.
#
# Usage: bash bench/run-http-sink-bench.sh [path-to-eddy]
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
EDDY=$(realpath "${1:-$ROOT/build/eddy}")
RUNS=${EDDY_BENCH_RUNS:-3}
if ! command -v node >/dev/null; then
  echo "bench: node is not installed (scripts/install-deps installs it); no HTTP sink benchmark"
  exit 0
fi
WORK=$(mktemp -d "${TMPDIR:-/tmp}/eddy-httpbench.XXXXXX")
DATA="$ROOT/examples/data/flights-2001-01.csv.gz"
node "$ROOT/bench/http-sink/endpoint.js" "$WORK/port" "$WORK/counts" &
NODE=$!
trap 'kill $NODE 2>/dev/null || true; rm -rf "$WORK"' EXIT
for _ in $(seq 1 100); do [[ -f "$WORK/port" ]] && break; sleep 0.1; done
URL="http://127.0.0.1:$(cat "$WORK/port")/ingest"
echo "eddy http sink benchmark, $(date -u +%Y-%m-%d), $(nproc) cores, $(basename "$DATA") (508,239 rows)"

job() {  # job WITH_OPTIONS LIMIT_CLAUSE
  cat <<SQL
SET 'parallelism.default' = '1';
CREATE TABLE flights (\`date\` TIMESTAMP(3), delay INT, distance INT, origin STRING,
  destination STRING) WITH ('connector' = 'filesystem', 'path' = '$DATA', 'format' = 'csv',
  'csv.ignore-first-line' = 'true');
CREATE TABLE out (origin STRING, destination STRING, delay INT, \`date\` TIMESTAMP(3)) WITH ($1);
INSERT INTO out SELECT origin, destination, delay, \`date\` FROM flights $2;
SQL
}
best() {  # best NAME WITH_OPTIONS WHERE_CLAUSE ROWS_PER_REQUEST → prints a table row
  local name=$1 t=999999 s e d rows=0
  for _ in $(seq 1 "$RUNS"); do
    job "$2" "$3" >"$WORK/job.sql"
    s=$(date +%s.%N)
    "$EDDY" run --no-progress "$WORK/job.sql" >/dev/null 2>"$WORK/job.err"
    e=$(date +%s.%N)
    rows=$(grep -o "sink out: [0-9]* rows written" "$WORK/job.err" | awk '{ print $3 }')
    d=$(awk -v a="$s" -v b="$e" 'BEGIN { printf "%.3f", b - a }')
    t=$(awk -v a="$t" -v b="$d" 'BEGIN { print (b < a) ? b : a }')
  done
  awk -v n="$name" -v r="$rows" -v t="$t" -v per="$4" 'BEGIN {
    req = per > 0 ? int((r + per - 1) / per) : 0
    printf "| %s | %d | %.3f | %.0f k | %s |\n", n, r, t, r / t / 1000, (req > 0 ? sprintf("%.0f", req / t) : "-") }'
}
echo
echo "| case | rows | seconds | rows/s | requests/s |"
echo "|---|---|---|---|---|"
best "blackhole (no HTTP)" "'connector' = 'blackhole'" "" 0
best "http, JSON arrays of 1,000 rows" "'connector' = 'http', 'url' = '$URL', 'sink.batch.max-rows' = '1000'" "" 1000
best "http, JSON arrays of 100 rows" "'connector' = 'http', 'url' = '$URL', 'sink.batch.max-rows' = '100'" "" 100
best "blackhole, flights from ORD" "'connector' = 'blackhole'" "WHERE origin = 'ORD'" 0
best "http, one row per request, flights from ORD" "'connector' = 'http', 'url' = '$URL', 'format' = 'json'" "WHERE origin = 'ORD'" 1
kill -TERM $NODE
wait $NODE 2>/dev/null || true
echo
echo "endpoint total: $(awk '{ printf "%d requests, %.1f MB of JSON", $1, $2 / 1e6 }' "$WORK/counts")"
