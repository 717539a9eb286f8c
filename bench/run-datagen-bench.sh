#!/usr/bin/env bash
# How fast the 'datagen' source generates rows (issue 14, docs/benchmarks.md "datagen"): a scan of
# EDDY_BENCH_ROWS rows (default 50 M) with a rate far above what the job can take
# ('rows-per-second' = 10^12), written to the blackhole connector, at parallelism 1 and 2, for
# two row shapes: one random BIGINT, and a mixed row of 6 columns (a BIGINT sequence, INT,
# DECIMAL(8, 2), DOUBLE, a 16-character STRING and a TIMESTAMP(3)). Best of EDDY_BENCH_RUNS
# (default 3) per case, of the wall-clock time and (separately) of the CPU time (user + system,
# every thread) of the whole `eddy run` (start-up included, ~10 ms). On a shared machine the
# CPU time is the steadier figure: rows per CPU-second is the generator's cost.
#
# Usage: bash bench/run-datagen-bench.sh [path-to-eddy]
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
EDDY=$(realpath "${1:-$ROOT/build/eddy}")
RUNS=${EDDY_BENCH_RUNS:-3}
ROWS=${EDDY_BENCH_ROWS:-50000000}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/eddy-datagenbench.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
echo "eddy datagen benchmark, $(date -u +%Y-%m-%d), $(nproc) cores, $ROWS rows per run into blackhole"

job() {  # job PARALLELISM COLUMNS FIELD_OPTIONS
  cat <<SQL
SET 'parallelism.default' = '$1';
CREATE TABLE g ($2) WITH ('connector' = 'datagen', 'rows-per-second' = '1000000000000',
  'number-of-rows' = '$ROWS'$3);
CREATE TABLE out ($2) WITH ('connector' = 'blackhole');
INSERT INTO out SELECT * FROM g;
SQL
}
best() {  # best NAME PARALLELISM COLUMNS FIELD_OPTIONS → prints a table row
  local t=999999 c=999999 times rows=0
  for _ in $(seq 1 "$RUNS"); do
    job "$2" "$3" "$4" >"$WORK/job.sql"
    # Wall-clock, user and system seconds of the eddy process (all its threads).
    times=$( { TIMEFORMAT='%R %U %S'; time "$EDDY" run --no-progress "$WORK/job.sql" \
      >/dev/null 2>"$WORK/job.err"; } 2>&1)
    rows=$(grep -o "sink out: [0-9]* rows written" "$WORK/job.err" | awk '{ print $3 }')
    t=$(echo "$times" | awk -v a="$t" '{ print ($1 < a) ? $1 : a }')
    c=$(echo "$times" | awk -v a="$c" '{ print ($2 + $3 < a) ? $2 + $3 : a }')
  done
  if [[ "$rows" != "$ROWS" ]]; then
    echo "bench: $1 at parallelism $2 wrote '$rows' rows, not $ROWS:" >&2
    cat "$WORK/job.err" >&2
    exit 1
  fi
  awk -v n="$1" -v p="$2" -v r="$rows" -v t="$t" -v c="$c" 'BEGIN {
    printf "| %s | %d | %.3f | %.1f M | %.3f | %.1f M |\n", n, p, t, r / t / 1e6, c, r / c / 1e6 }'
}
ONE="v BIGINT"
MIXED="id BIGINT, qty INT, price DECIMAL(8, 2), score DOUBLE, name STRING, ts TIMESTAMP(3)"
MIXED_OPTS=", 'fields.id.kind' = 'sequence', 'fields.id.start' = '1', 'fields.id.end' = '$ROWS',
  'fields.qty.min' = '1', 'fields.qty.max' = '100', 'fields.price.max' = '1000',
  'fields.score.min' = '0', 'fields.score.max' = '1', 'fields.name.length' = '16',
  'fields.ts.max-past' = '10 s'"
echo
echo "| rows | parallelism | wall s | rows/s | CPU s | rows per CPU-second |"
echo "|---|---|---|---|---|---|"
for p in 1 2; do best "one random BIGINT" "$p" "$ONE" ""; done
for p in 1 2; do best "6 mixed columns" "$p" "$MIXED" "$MIXED_OPTS"; done
