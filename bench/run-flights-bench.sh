#!/usr/bin/env bash
# `make bench`: throughput of the hourly delays job over the 3-million-row flights file
# (../shared/data/flights-3m.csv.gz beside the repository), for eddy at parallelism 1 (on 1 and 2
# worker threads) and 2 (on 2), and
# for the same aggregation in sqlite3 (import and query timed separately) and DuckDB (npm package
# @duckdb/node-api, installed into a cache folder when node and npm are present) at 1 and 2
# threads. Prints a markdown section for docs/benchmarks.md on stdout.
#
# Usage: bash bench/run-flights-bench.sh [path/to/eddy]
# Environment: EDDY_BENCH_REPEATS (default 3, best of), EDDY_BENCH_CACHE (default
#   ~/.cache/eddy-bench), EDDY_BENCH_DATA (default ../shared/data/flights-3m.csv.gz).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
EDDY=$(realpath "${1:-$ROOT/build/eddy}")
DATA=${EDDY_BENCH_DATA:-$ROOT/../shared/data/flights-3m.csv.gz}
REPEATS=${EDDY_BENCH_REPEATS:-3}
CACHE=${EDDY_BENCH_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/eddy-bench}
DUCKDB_PKG="$ROOT/bench/duckdb"

log() { echo "$*" >&2; }

if [[ ! -f "$DATA" ]]; then
  echo "bench: $DATA is missing; the flights benchmark needs the 3-million-row file" \
    "(shared/data/flights-3m.csv.gz beside the repository). Nothing to do."
  exit 0
fi
if [[ ! -x "$EDDY" ]]; then
  echo "bench: eddy binary '$EDDY' not found (build it first: make build)" >&2
  exit 1
fi

WORK=$(mktemp -d "${TMPDIR:-/tmp}/eddy-bench.XXXXXX")
trap 'rm -rf "$WORK"' EXIT

now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", b - a }'; }
min_of() { printf '%s\n' "$@" | sort -g | head -1; }
rate() { awk -v n="$1" -v s="$2" 'BEGIN { if (s > 0) printf "%.2f M", n / s / 1e6; else print "-" }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a > 0 && b > 0) printf "%.2f", a / b; else print "-" }'; }

log "bench: decompressing $(basename "$DATA") ..."
CSV="$WORK/flights-3m.csv"
gzip -dc "$DATA" >"$CSV"
ROWS=$(($(wc -l <"$CSV") - 1))
log "bench: $ROWS rows, $(du -m "$CSV" | cut -f1) MB uncompressed"

# --- eddy --------------------------------------------------------------------------------------
cat >"$WORK/delays.sql" <<EOF
CREATE TABLE flights (
  \`date\` TIMESTAMP(3), delay INT, distance INT, origin STRING, destination STRING,
  WATERMARK FOR \`date\` AS \`date\` - INTERVAL '5' MINUTE
) WITH ('connector' = 'filesystem', 'path' = '$CSV', 'format' = 'csv',
        'csv.ignore-first-line' = 'true');
CREATE TABLE hourly (
  origin STRING, window_start TIMESTAMP(3), flights BIGINT, avg_delay DOUBLE, max_delay INT,
  delayed_share DOUBLE
) WITH ('connector' = 'blackhole');
INSERT INTO hourly
SELECT origin, window_start,
       COUNT(*) AS flights,
       AVG(CAST(delay AS DOUBLE)) AS avg_delay,
       MAX(delay) AS max_delay,
       CAST(COUNT(*) FILTER (WHERE delay > 15) AS DOUBLE) / COUNT(*) AS delayed_share
FROM TABLE(TUMBLE(TABLE flights, DESCRIPTOR(\`date\`), INTERVAL '1' HOUR))
GROUP BY origin, window_start, window_end;
EOF

# Configurations "P:W": parallelism P on a worker pool of W threads ('eddy.worker-threads').
# 1:1 uses one core, as DuckDB with 1 thread does; 2:2 uses both; 1:2 lets the parse and the
# aggregation of parallelism 1 overlap on two cores (pipelining).
declare -A EDDY_BEST EDDY_RUNS EDDY_GROUPS
for cfg in 1:1 1:2 2:2; do
  p=${cfg%:*} w=${cfg#*:}
  runs=()
  for ((i = 1; i <= REPEATS; i++)); do
    t0=$(now)
    if ! "$EDDY" run "$WORK/delays.sql" --set parallelism.default=$p --set eddy.worker-threads=$w \
      --no-progress >/dev/null 2>"$WORK/eddy.err"; then
      echo "bench: eddy failed at parallelism $p on $w worker threads:" >&2
      cat "$WORK/eddy.err" >&2
      exit 1
    fi
    t1=$(now)
    runs+=("$(elapsed "$t0" "$t1")")
  done
  EDDY_BEST[$cfg]=$(min_of "${runs[@]}")
  EDDY_RUNS[$cfg]="${runs[*]}"
  EDDY_GROUPS[$cfg]=$(sed -n 's/^ *sink hourly: \([0-9]*\) rows\{0,1\} written.*/\1/p' "$WORK/eddy.err")
  log "bench: eddy parallelism $p, $w worker threads: ${runs[*]} s"
done

# --- sqlite3 -----------------------------------------------------------------------------------
SQLITE_IMPORT="" SQLITE_QUERY="" SQLITE_GROUPS="" SQLITE_NOTE=""
if command -v sqlite3 >/dev/null 2>&1; then
  t0=$(now)
  sqlite3 "$WORK/flights.db" <<EOF
CREATE TABLE flights (date TEXT, delay INTEGER, distance INTEGER, origin TEXT, destination TEXT);
.mode csv
.import --skip 1 '$CSV' flights
EOF
  t1=$(now)
  SQLITE_IMPORT=$(elapsed "$t0" "$t1")
  log "bench: sqlite3 import: $SQLITE_IMPORT s"
  runs=()
  for ((i = 1; i <= REPEATS; i++)); do
    t0=$(now)
    sqlite3 "$WORK/flights.db" <<'EOF'
CREATE TEMP TABLE hourly AS
SELECT origin,
       strftime('%Y-%m-%d %H:00:00', date) AS window_start,
       COUNT(*) AS flights,
       AVG(CAST(delay AS REAL)) AS avg_delay,
       MAX(delay) AS max_delay,
       CAST(SUM(delay > 15) AS REAL) / COUNT(*) AS delayed_share
FROM flights
GROUP BY origin, window_start;
EOF
    t1=$(now)
    runs+=("$(elapsed "$t0" "$t1")")
  done
  SQLITE_QUERY=$(min_of "${runs[@]}")
  SQLITE_GROUPS=$(sqlite3 "$WORK/flights.db" \
    "SELECT COUNT(*) FROM (SELECT 1 FROM flights GROUP BY origin, strftime('%Y-%m-%d %H', date))")
  SQLITE_NOTE="sqlite3 $(sqlite3 --version | cut -d' ' -f1)"
  log "bench: sqlite3 query: ${runs[*]} s"
  rm -f "$WORK/flights.db"
else
  log "bench: sqlite3 is not installed; skipping it"
fi

# --- DuckDB (npm @duckdb/node-api) -------------------------------------------------------------
declare -A DUCK_BEST DUCK_GROUPS
DUCK_NOTE=""
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  DUCK_NOTE="skipped: node and npm are needed for DuckDB"
  log "bench: $DUCK_NOTE"
else
  dir="$CACHE/duckdb"
  mkdir -p "$dir"
  if [[ -d "$dir/node_modules/@duckdb/node-api" ]] && cmp -s "$DUCKDB_PKG/package.json" "$dir/package.json"; then
    log "bench: DuckDB: using $dir"
  else
    log "bench: DuckDB: npm install --prefix $dir ..."
    cp "$DUCKDB_PKG/package.json" "$dir/package.json"
    if ! npm install --prefix "$dir" --no-audit --no-fund --loglevel=error >"$WORK/npm.log" 2>&1; then
      DUCK_NOTE="skipped: npm install of @duckdb/node-api failed: $(grep -m1 -iE 'err' "$WORK/npm.log" || tail -1 "$WORK/npm.log")"
      log "bench: $DUCK_NOTE"
      sed 's/^/  npm: /' "$WORK/npm.log" | tail -n 15 >&2
      rm -f "$dir/package.json"  # retry the install next time
    fi
  fi
  if [[ -z "$DUCK_NOTE" ]]; then
    cp "$DUCKDB_PKG/bench.mjs" "$dir/bench.mjs"
    if node "$dir/bench.mjs" "$CSV" 1,2 "$REPEATS" >"$WORK/duck.jsonl" 2>"$WORK/duck.err"; then
      eval "$(python3 - "$WORK/duck.jsonl" <<'PYEOF'
import json, shlex, sys
for line in open(sys.argv[1]):
    o = json.loads(line)
    if "version" in o:
        print(f"DUCK_NOTE={shlex.quote('DuckDB ' + o['version'] + ' (@duckdb/node-api)')}")
    elif "detected" in o:
        print(f"DUCK_DETECTED={shlex.quote(o['detected'])}")
    else:
        t = o["threads"]
        print(f"DUCK_BEST[{t}]={o['best_s']:.3f}; DUCK_GROUPS[{t}]={o['groups']}")
        print(f"echo 'bench: DuckDB threads {t}: {' '.join(f'{r:.3f}' for r in o['runs_s'])} s' >&2")
PYEOF
)"
    else
      DUCK_NOTE="skipped: the DuckDB run failed: $(tail -1 "$WORK/duck.err")"
      log "bench: $DUCK_NOTE"
      sed 's/^/  node: /' "$WORK/duck.err" | tail -n 15 >&2
    fi
  fi
fi

# --- report ------------------------------------------------------------------------------------
CPU=$(sed -n 's/^model name[[:space:]]*:[[:space:]]*//p' /proc/cpuinfo 2>/dev/null | head -1)
LOAD=$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo "?")
cat <<EOF

## Flights, 3 M rows: hourly delays per airport

$(date -u '+%Y-%m-%d %H:%M UTC'); $(nproc) cores, ${CPU:-unknown CPU}; load average before the
report: $LOAD. $("$EDDY" --version 2>/dev/null | head -1)${SQLITE_NOTE:+, $SQLITE_NOTE}${DUCK_NOTE:+, $DUCK_NOTE}.

Input: \`flights-3m.csv.gz\` decompressed once to a plain CSV ($ROWS rows). Query: per origin and
hour, \`COUNT(*)\`, \`AVG(CAST(delay AS DOUBLE))\`, \`MAX(delay)\` and the share of flights more than
15 minutes late. eddy: a 1-hour \`TUMBLE\` window with a 5-minute watermark into a \`blackhole\`
sink, wall time of \`eddy run\`; sqlite3: import, then the batch \`GROUP BY\` into a temp table;
DuckDB: \`read_csv\` (auto-detect) and \`GROUP BY\` into a temp table, timed inside node. Best of
$REPEATS runs.

| engine | setting | seconds | events/s | result groups |
|---|---|---:|---:|---:|
| eddy | parallelism 1, 1 worker thread | ${EDDY_BEST[1:1]} | $(rate "$ROWS" "${EDDY_BEST[1:1]}") | ${EDDY_GROUPS[1:1]:-?} |
| eddy | parallelism 1, 2 worker threads | ${EDDY_BEST[1:2]} | $(rate "$ROWS" "${EDDY_BEST[1:2]}") | ${EDDY_GROUPS[1:2]:-?} |
| eddy | parallelism 2, 2 worker threads | ${EDDY_BEST[2:2]} | $(rate "$ROWS" "${EDDY_BEST[2:2]}") | ${EDDY_GROUPS[2:2]:-?} |
EOF
if [[ -n "$SQLITE_QUERY" ]]; then
  cat <<EOF
| sqlite3 | \`.import\` | $SQLITE_IMPORT | $(rate "$ROWS" "$SQLITE_IMPORT") | |
| sqlite3 | query (after import) | $SQLITE_QUERY | $(rate "$ROWS" "$SQLITE_QUERY") | $SQLITE_GROUPS |
| sqlite3 | import + query | $(awk -v a="$SQLITE_IMPORT" -v b="$SQLITE_QUERY" 'BEGIN { printf "%.3f", a + b }') | $(rate "$ROWS" "$(awk -v a="$SQLITE_IMPORT" -v b="$SQLITE_QUERY" 'BEGIN { print a + b }')") | |
EOF
fi
if [[ -n "${DUCK_BEST[1]:-}" ]]; then
  cat <<EOF
| DuckDB | threads 1 | ${DUCK_BEST[1]} | $(rate "$ROWS" "${DUCK_BEST[1]}") | ${DUCK_GROUPS[1]} |
| DuckDB | threads 2 | ${DUCK_BEST[2]} | $(rate "$ROWS" "${DUCK_BEST[2]}") | ${DUCK_GROUPS[2]} |
EOF
fi
echo
echo "- eddy runs (s): parallelism 1 on 1 thread: ${EDDY_RUNS[1:1]}; on 2 threads: ${EDDY_RUNS[1:2]};" \
  "parallelism 2 on 2 threads: ${EDDY_RUNS[2:2]}"
echo "- eddy speed-up from one core to two, parallelism 2 (2 threads) over parallelism 1 (1 thread):" \
  "$(ratio "${EDDY_BEST[1:1]}" "${EDDY_BEST[2:2]}")×; parallelism 1 pipelined on 2 threads over 1 thread:" \
  "$(ratio "${EDDY_BEST[1:1]}" "${EDDY_BEST[1:2]}")×; parallelism 2 over parallelism 1, both on 2 threads:" \
  "$(ratio "${EDDY_BEST[1:2]}" "${EDDY_BEST[2:2]}")×"
if [[ -n "$SQLITE_QUERY" ]]; then
  echo "- eddy (parallelism 1, 1 thread)/sqlite3 throughput: $(ratio "$SQLITE_QUERY" "${EDDY_BEST[1:1]}") against" \
    "the query alone, $(ratio "$(awk -v a="$SQLITE_IMPORT" -v b="$SQLITE_QUERY" 'BEGIN { print a + b }')" "${EDDY_BEST[1:1]}") against import + query"
fi
if [[ -n "${DUCK_BEST[1]:-}" ]]; then
  echo "- eddy/DuckDB throughput on one core (eddy parallelism 1 on 1 thread, DuckDB threads 1):" \
    "$(ratio "${DUCK_BEST[1]}" "${EDDY_BEST[1:1]}"); on two (parallelism 2 on 2 threads, threads 2):" \
    "$(ratio "${DUCK_BEST[2]}" "${EDDY_BEST[2:2]}") (below 1 = eddy is slower)"
  echo "- DuckDB speed-up, threads 2 over 1: $(ratio "${DUCK_BEST[1]}" "${DUCK_BEST[2]}")×"
  echo "- DuckDB's auto-detected schema: ${DUCK_DETECTED:-?}"
fi
