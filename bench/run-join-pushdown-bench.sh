#!/usr/bin/env bash
# Filter push-down below a join (issue 13): a regular join of two 500,000-row files on a key with
# 10 rows per side (5 M pairs) and a WHERE that keeps 0.1 % of one side (5,000 pairs). Without
# push-down every pair is built and then filtered, and every row is kept in the join's state;
# with it the WHERE runs in the source's vertex. The same binary also runs the query with the
# condition written so that it cannot move (`OR PROCTIME() IS NULL`, never true, but not
# deterministic, so the optimizer keeps it above the join): the plan eddy made before push-down.
# Usage: bench/run-join-pushdown-bench.sh EDDY [EDDY_BEFORE]  (best of EDDY_BENCH_REPEATS, 3)
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/timing.sh"
after=$1
before=${2:-}
rows=${EDDY_BENCH_ROWS:-500000}
repeats=${EDDY_BENCH_REPEATS:-3}
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
python3 - "$dir" "$rows" <<'PY'
import sys
d, n = sys.argv[1], int(sys.argv[2])
with open(f"{d}/orders.csv", "w") as f:
    for i in range(n):
        f.write(f"{i % 50000},c{i % 1000},{i % 97}\n")
with open(f"{d}/shipments.csv", "w") as f:
    for i in range(n):
        f.write(f"{(i * 7919) % 50000},s{i % 5}\n")
PY
cat > "$dir/q.sql" <<SQL
SET 'parallelism.default' = '2';
CREATE TABLE orders (id BIGINT, customer STRING, amount INT) WITH (
  'connector' = 'filesystem', 'path' = '$dir/orders.csv', 'format' = 'csv');
CREATE TABLE shipments (order_id BIGINT, status STRING) WITH (
  'connector' = 'filesystem', 'path' = '$dir/shipments.csv', 'format' = 'csv');
CREATE TABLE out (id BIGINT, status STRING) WITH ('connector' = 'blackhole');
INSERT INTO out SELECT o.id, s.status FROM orders o JOIN shipments s ON o.id = s.order_id
WHERE o.customer = 'c7';
SQL
sed "s/WHERE o.customer = 'c7'/WHERE (o.customer = 'c7' OR PROCTIME() IS NULL)/" "$dir/q.sql" \
  >"$dir/q_above.sql"
run() {  # binary label [query file]
  local best
  best=$(best_seconds "$repeats" "$1" sql -f "${3:-$dir/q.sql}")
  printf '%s\t%.3f s (best of %d, %d rows per side)\n' "$2" "$best" "$repeats" "$rows" >&2
  echo "$best"
}
a=$(run "$after" "pushed below the join")
h=$(run "$after" "kept above the join" "$dir/q_above.sql")
printf 'speed-up of push-down, same binary: %.1fx\n' "$(echo "$h / $a" | bc -l)"
if [[ -n $before ]]; then
  b=$(run "$before" "EDDY_BEFORE")
  printf 'speed-up against EDDY_BEFORE: %.1fx\n' "$(echo "$b / $a" | bc -l)"
fi
