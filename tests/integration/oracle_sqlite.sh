#!/usr/bin/env bash
# Oracle test: eddy's hourly per-origin window aggregate over the shipped flights data must equal
# the same aggregate computed by sqlite3 as a batch GROUP BY, at parallelism 1 and 2 and batch
# sizes 1024 and 7, and at parallelism 3 on a single worker thread. Counts, sums, min and max must match exactly; averages to 1e-9 relative.
#
# Usage: bash oracle_sqlite.sh <path-to-eddy> <repo-root>
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
need_cmd sqlite3 gzip

section "sqlite3 oracle over $(basename "$FLIGHTS")"
gzip -dc "$FLIGHTS" >"$WORK/flights.csv"

# --- sqlite3: import the CSV, batch GROUP BY on the hour ---------------------------------------
# The hour is computed from the text: '2001-01-01T07:42:00' -> '2001-01-01 07:00:00'.
sqlite3 "$WORK/oracle.db" >"$WORK/sqlite.csv" <<EOF
CREATE TABLE flights (date TEXT, delay INTEGER, distance INTEGER, origin TEXT, destination TEXT);
.mode csv
.import --skip 1 '$WORK/flights.csv' flights
.headers off
SELECT origin,
       strftime('%Y-%m-%d %H:00:00', date) AS window_start,
       COUNT(*),
       SUM(delay),
       MIN(delay),
       MAX(delay),
       AVG(CAST(delay AS REAL)),
       SUM(CASE WHEN delay > 15 THEN 1 ELSE 0 END),
       COUNT(DISTINCT destination)
FROM flights
GROUP BY origin, window_start;
EOF
sqlite_in=$(sqlite3 "$WORK/oracle.db" 'SELECT COUNT(*) FROM flights')
if [[ "$sqlite_in" == "$FLIGHTS_ROWS" ]]; then
  ok "sqlite3 imported $sqlite_in rows"
else
  bad "sqlite3 imported $sqlite_in rows, expected $FLIGHTS_ROWS"
fi
echo "  sqlite3 result: $(wc -l <"$WORK/sqlite.csv") (origin, hour) groups"

# --- eddy --------------------------------------------------------------------------------------
cat >"$WORK/job.sql" <<EOF
CREATE TABLE flights (
  \`date\` TIMESTAMP(3), delay INT, distance INT, origin STRING, destination STRING,
  WATERMARK FOR \`date\` AS \`date\` - INTERVAL '10' MINUTE
) WITH ('connector' = 'filesystem', 'path' = '$FLIGHTS', 'format' = 'csv',
        'csv.ignore-first-line' = 'true');
CREATE TABLE out (
  origin STRING, window_start TIMESTAMP(3), flights BIGINT, sum_delay INT, min_delay INT,
  max_delay INT, avg_delay DOUBLE, delayed BIGINT, destinations BIGINT
) WITH ('connector' = 'filesystem', 'path' = '$WORK/eddy.csv', 'format' = 'csv');
INSERT INTO out
SELECT origin, window_start,
       COUNT(*) AS flights,
       SUM(delay) AS sum_delay,
       MIN(delay) AS min_delay,
       MAX(delay) AS max_delay,
       AVG(CAST(delay AS DOUBLE)) AS avg_delay,
       COUNT(*) FILTER (WHERE delay > 15) AS delayed,
       COUNT(DISTINCT destination) AS destinations
FROM TABLE(TUMBLE(TABLE flights, DESCRIPTOR(\`date\`), INTERVAL '1' HOUR))
GROUP BY origin, window_start, window_end;
EOF

compare() {
  "$PY" - "$LIB" "$WORK/eddy.csv" "$WORK/sqlite.csv" <<'PYEOF'
import sys
sys.path.insert(0, sys.argv[1])
import util

try:
    eddy_rows = util.read_csv(sys.argv[2])
    for r in eddy_rows:
        if len(r) != 9:
            raise ValueError(f"eddy row with {len(r)} fields: {r}")
        r[1] = util.norm_ts(r[1])
except Exception as e:  # noqa: BLE001
    print(f"cannot read eddy's output: {e}")
    sys.exit(1)
sql_rows = util.read_csv(sys.argv[3])
got, dups = util.keyed(eddy_rows, 2, "eddy")
want, _ = util.keyed(sql_rows, 2, "sqlite")


def cmp(g, w):
    names = ["flights", "sum_delay", "min_delay", "max_delay", "avg_delay", "delayed",
             "destinations"]
    diffs = []
    for i, name in enumerate(names):
        if name == "avg_delay":
            try:
                same = util.close(g[i], w[i], 1e-9)
            except ValueError:
                same = False
        else:
            same = g[i] == w[i]
        if not same:
            diffs.append(f"{name} eddy={g[i]} sqlite={w[i]}")
    return "; ".join(diffs) or None


problems = util.compare_keyed(got, want, cmp, "eddy vs sqlite")
if dups:
    problems.insert(0, f"eddy wrote {len(dups)} duplicate (origin, window_start) rows, "
                       f"e.g. {dups[:3]}")
if problems:
    print("\n".join(problems))
    sys.exit(1)
print(f"{len(eddy_rows)} rows equal")
PYEOF
}

# "parallelism:batch size:worker threads". The last one runs 3 source subtasks, 3 aggregation
# subtasks and the sink all on one worker thread (the cooperative pool must not deadlock).
for cfg in 1:1024:2 1:7:2 2:1024:2 2:7:2 3:1024:1; do
  IFS=: read -r p b w <<<"$cfg"
  what="parallelism $p, batch size $b, $w worker threads"
  rm -f "$WORK/eddy.csv"
  run_eddy "$WORK/run" run "$WORK/job.sql" --set parallelism.default=$p --set eddy.batch-size=$b \
    --set eddy.worker-threads=$w
  if ! expect_rc "$WORK/run" 0 "eddy ($what)"; then
    continue
  fi
  if [[ ! -f "$WORK/eddy.csv" ]]; then
    bad "$what: eddy wrote no output file $WORK/eddy.csv"
    continue
  fi
  if msg=$(compare 2>&1); then
    ok "$what: eddy == sqlite3 ($msg; counts, sums, min, max, FILTER count, COUNT DISTINCT exact; AVG to 1e-9)"
  else
    bad "$what: eddy differs from sqlite3:"
    echo "$msg" | sed 's/^/    | /'
  fi
  if grep -q "source flights: $FLIGHTS_ROWS rows read" "$WORK/run.err"; then
    ok "$what: summary reports $FLIGHTS_ROWS rows read"
  else
    bad "$what: summary does not report 'source flights: $FLIGHTS_ROWS rows read'"
    show_err "$WORK/run"
  fi
done

finish
