#!/usr/bin/env bash
# Unwindowed COUNT(DISTINCT) with FILTER (issue 13; Nexmark q15/q16 shapes): a generated bid file
# of EDDY_BENCH_ROWS rows (default 1,000,000) over 4 days and 2 channels, with 100,000 distinct
# bidders and 10,000 distinct auctions, aggregated per day (q15 shape) and per channel and day
# (q16 shape) into a blackhole sink. Each input row updates its group, so the aggregate emits a
# -U/+U pair per row: the cost per row of the distinct state decides the time.
# Usage: bench/run-distinct-bench.sh EDDY [EDDY_BEFORE]  (best of EDDY_BENCH_REPEATS, 3)
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/timing.sh"
after=$1
before=${2:-}
rows=${EDDY_BENCH_ROWS:-1000000}
repeats=${EDDY_BENCH_REPEATS:-3}
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
python3 - "$dir" "$rows" <<'PY'
import random, sys
d, n = sys.argv[1], int(sys.argv[2])
rnd = random.Random(13)
with open(f"{d}/bid.csv", "w") as f:
    for i in range(n):
        day = f"2024-01-0{1 + i * 4 // n}"
        f.write(f"{rnd.randrange(10000)},{rnd.randrange(100000)},{rnd.randrange(20000)},"
                f"{'ab'[rnd.randrange(2)]},{day}\n")
PY
ddl="CREATE TABLE bid (auction BIGINT, bidder BIGINT, price BIGINT, channel STRING, d STRING)
  WITH ('connector' = 'filesystem', 'path' = '$dir/bid.csv', 'format' = 'csv');"
cat > "$dir/q15.sql" <<SQL
$ddl
CREATE TABLE out (d STRING, total BIGINT, r1 BIGINT, r2 BIGINT, bidders BIGINT, b1 BIGINT,
  b2 BIGINT, auctions BIGINT, a1 BIGINT) WITH ('connector' = 'blackhole');
INSERT INTO out SELECT d, COUNT(*), COUNT(*) FILTER (WHERE price < 10000),
  COUNT(*) FILTER (WHERE price >= 10000), COUNT(DISTINCT bidder),
  COUNT(DISTINCT bidder) FILTER (WHERE price < 10000),
  COUNT(DISTINCT bidder) FILTER (WHERE price >= 10000), COUNT(DISTINCT auction),
  COUNT(DISTINCT auction) FILTER (WHERE price < 10000)
FROM bid GROUP BY d;
SQL
cat > "$dir/q16.sql" <<SQL
$ddl
CREATE TABLE out (channel STRING, d STRING, total BIGINT, bidders BIGINT, b1 BIGINT,
  auctions BIGINT) WITH ('connector' = 'blackhole');
INSERT INTO out SELECT channel, d, COUNT(*), COUNT(DISTINCT bidder),
  COUNT(DISTINCT bidder) FILTER (WHERE price < 10000), COUNT(DISTINCT auction)
FROM bid GROUP BY channel, d;
SQL
cat > "$dir/count.sql" <<SQL
$ddl
CREATE TABLE out (d STRING, total BIGINT, r1 BIGINT) WITH ('connector' = 'blackhole');
INSERT INTO out SELECT d, COUNT(*), COUNT(*) FILTER (WHERE price < 10000) FROM bid GROUP BY d;
SQL
run() {  # binary label query-file
  local best
  best=$(best_seconds "$repeats" "$1" sql -f "$3")
  printf '%s\t%.3f s (best of %d, %d rows)\n' "$2" "$best" "$repeats" "$rows" >&2
  echo "$best"
}
c=$(run "$after" "COUNT(*) + FILTER only" "$dir/count.sql")
a15=$(run "$after" "q15 shape" "$dir/q15.sql")
a16=$(run "$after" "q16 shape" "$dir/q16.sql")
printf 'q15 shape / COUNT(*) only: %.1fx; q16 shape / COUNT(*) only: %.1fx\n' \
  "$(echo "$a15 / $c" | bc -l)" "$(echo "$a16 / $c" | bc -l)"
if [[ -n $before ]]; then
  b15=$(run "$before" "EDDY_BEFORE q15 shape" "$dir/q15.sql")
  b16=$(run "$before" "EDDY_BEFORE q16 shape" "$dir/q16.sql")
  printf 'speed-up against EDDY_BEFORE: q15 shape %.1fx, q16 shape %.1fx\n' \
    "$(echo "$b15 / $a15" | bc -l)" "$(echo "$b16 / $a16" | bc -l)"
fi
