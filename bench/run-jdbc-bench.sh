#!/usr/bin/env bash
# The jdbc sink's throughput into a local PostgreSQL 15 (started here as in
# tests/integration/jdbc.sh, fsync off): ROWS generated rows (id BIGINT, a BIGINT, b DOUBLE,
# s STRING ~20 bytes) read from a CSV file and written
#   * append (no PRIMARY KEY: one COPY per flush),
#   * upsert into an empty table (PRIMARY KEY: INSERT … ON CONFLICT DO UPDATE, multi-row),
#   * upsert again over the same keys (every row an update),
# each at 'sink.buffer-flush.max-rows' = FLUSH, against the physical limit of this sink: psql's
# \copy of the same CSV file into the same table, and eddy reading the file into 'blackhole'.
# Not part of ctest. Prints a markdown section for docs/benchmarks.md on stdout.
#
# Usage: bash bench/run-jdbc-bench.sh [path/to/eddy]
# Environment: EDDY_BENCH_ROWS (default 1000000), EDDY_BENCH_FLUSH (default 5000).
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
EDDY=$(realpath "${1:-$ROOT/build/eddy}")
ROWS=${EDDY_BENCH_ROWS:-1000000}
FLUSH=${EDDY_BENCH_FLUSH:-5000}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/eddy-jdbc-bench.XXXXXX")
PY=python3
cleanup() { rm -rf "$WORK"; }
skip() {
  echo "run-jdbc-bench: $*" >&2
  exit 1
}
need_cmd() { for c in "$@"; do command -v "$c" >/dev/null || skip "'$c' is not installed"; done; }
trap cleanup EXIT
# shellcheck source=../tests/integration/lib/postgres.sh
source "$ROOT/tests/integration/lib/postgres.sh"
start_postgres

"$PY" - "$WORK/rows.csv" "$ROWS" <<'EOF'
import random, sys
random.seed(7)
with open(sys.argv[1], "w") as f:
    for i in range(int(sys.argv[2])):
        f.write(f"{i},{random.randrange(1 << 40)},{random.random():.6f},name-{random.randrange(10**12):012d}\n")
EOF
chmod 644 "$WORK/rows.csv"
SRC="CREATE TABLE src (id BIGINT, a BIGINT, b DOUBLE, s STRING) WITH ('connector' = 'filesystem',
  'path' = '$WORK/rows.csv', 'format' = 'csv');"

secs() { "$PY" -c "import time; print(time.monotonic())"; }
# timed LABEL CMD... : runs CMD, prints "LABEL seconds"
timed() {
  local label=$1 t0 t1
  shift
  t0=$(secs)
  "$@" >"$WORK/last.out" 2>"$WORK/last.err" || {
    echo "run-jdbc-bench: $label failed:" >&2
    cat "$WORK/last.err" >&2
    exit 1
  }
  t1=$(secs)
  "$PY" -c "print(f'{$t1 - $t0:.2f}')"
}
rate() { "$PY" -c "print(f'{$ROWS / $1:,.0f}')"; }

pg -c "CREATE UNLOGGED TABLE t_copy (id BIGINT, a BIGINT, b DOUBLE PRECISION, s TEXT)"
pg -c "CREATE UNLOGGED TABLE t_append (id BIGINT, a BIGINT, b DOUBLE PRECISION, s TEXT)"
pg -c "CREATE UNLOGGED TABLE t_upsert (id BIGINT PRIMARY KEY, a BIGINT, b DOUBLE PRECISION, s TEXT)"

t_copy=$(timed "psql \\copy" pg -c "\\copy t_copy FROM '$WORK/rows.csv' WITH (FORMAT csv)")
t_hole=$(timed "eddy → blackhole" "$EDDY" run -q -e "$SRC
CREATE TABLE hole (id BIGINT, a BIGINT, b DOUBLE, s STRING) WITH ('connector' = 'blackhole');
INSERT INTO hole SELECT * FROM src;")
t_append=$(timed "eddy append" "$EDDY" run -q -e "$SRC
CREATE TABLE t_append (id BIGINT, a BIGINT, b DOUBLE, s STRING)
  WITH ($(jdbc_with t_append "'sink.buffer-flush.max-rows' = '$FLUSH'"));
INSERT INTO t_append SELECT * FROM src;")
UPSERT="$SRC
CREATE TABLE t_upsert (id BIGINT, a BIGINT, b DOUBLE, s STRING, PRIMARY KEY (id) NOT ENFORCED)
  WITH ($(jdbc_with t_upsert "'sink.buffer-flush.max-rows' = '$FLUSH'"));
INSERT INTO t_upsert SELECT * FROM src;"
t_upsert=$(timed "eddy upsert (inserts)" "$EDDY" run -q -e "$UPSERT")
t_update=$(timed "eddy upsert (updates)" "$EDDY" run -q -e "$UPSERT")

for t in t_copy t_append t_upsert; do
  n=$(pg -c "SELECT count(*) FROM $t")
  [[ "$n" == "$ROWS" ]] || skip "$t holds $n rows, not $ROWS"
done

cat <<EOF
## PostgreSQL sink (jdbc connector)

Machine: $(nproc) cores ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')), shared with other work; PostgreSQL $("$PG_BIN/postgres" --version | awk '{print $3}') on the same box
(fsync off, UNLOGGED tables). Command: \`bash bench/run-jdbc-bench.sh build/eddy\`
(ROWS=$ROWS, 'sink.buffer-flush.max-rows' = $FLUSH, parallelism 1). Date: $(date -u +%Y-%m-%d).

| run | seconds | rows/s |
|---|---|---|
| psql \\copy of the CSV file (the physical limit of COPY) | $t_copy | $(rate "$t_copy") |
| eddy reading the file into blackhole | $t_hole | $(rate "$t_hole") |
| eddy jdbc append (COPY per flush) | $t_append | $(rate "$t_append") |
| eddy jdbc upsert, new keys (INSERT … ON CONFLICT, 1000 rows per statement) | $t_upsert | $(rate "$t_upsert") |
| eddy jdbc upsert, existing keys (every row an update) | $t_update | $(rate "$t_update") |
EOF
