#!/usr/bin/env bash
# `make bench` (second part): events/s of the pattern and join operators over the 3-million-row
# flights file (../shared/data/flights-3m.csv.gz beside the repository) at parallelism 1 and 2
# (2 worker threads), with the peak resident memory of each run (GNU time):
# - a 3-step MATCH_RECOGNIZE per origin airport (a delay rising twice in a row),
# - the lookup join of examples/cep/enrich.sql (origin and destination airports),
# results into a blackhole table. Prints a markdown section for docs/benchmarks.md on stdout.
# - the interval join of examples/cep/delay_propagation.sql (each flight read twice: as an
#   arrival and as a departure; events/s counts both reads),
#
# Usage: bash bench/run-cep-bench.sh [path/to/eddy]
# Environment: EDDY_BENCH_REPEATS (default 3, best of), EDDY_BENCH_DATA.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
EDDY=$(realpath "${1:-$ROOT/build/eddy}")
DATA=${EDDY_BENCH_DATA:-$ROOT/../shared/data/flights-3m.csv.gz}
REPEATS=${EDDY_BENCH_REPEATS:-3}
if [[ ! -f "$DATA" ]]; then
  echo "bench: $DATA is missing; the CEP benchmark needs the 3-million-row file. Nothing to do."
  exit 0
fi
TIME=/usr/bin/time
[[ -x $TIME ]] || TIME=""
WORK=$(mktemp -d "${TMPDIR:-/tmp}/eddy-cep-bench.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
log() { echo "$*" >&2; }
CSV="$WORK/flights.csv"
gzip -dc "$DATA" >"$CSV"
ROWS=$(($(wc -l <"$CSV") - 1))
AIRPORTS="$ROOT/examples/data/airports.csv"

common="CREATE TABLE flights (
  \`date\` TIMESTAMP(3), delay INT, distance INT, origin STRING, destination STRING,
  proc_time AS PROCTIME(), WATERMARK FOR \`date\` AS \`date\` - INTERVAL '5' MINUTE
) WITH ('connector' = 'filesystem', 'path' = '$CSV', 'format' = 'csv',
        'csv.ignore-first-line' = 'true');
CREATE TABLE airports (iata STRING, name STRING, city STRING, state STRING, country STRING,
  latitude DOUBLE, longitude DOUBLE) WITH ('connector' = 'filesystem', 'path' = '$AIRPORTS',
  'format' = 'csv', 'csv.ignore-first-line' = 'true');"
cat >"$WORK/match.sql" <<SQL
$common
CREATE TABLE out_m (origin STRING, t1 TIMESTAMP(3), d1 INT, d3 INT) WITH ('connector' = 'blackhole');
INSERT INTO out_m SELECT * FROM flights MATCH_RECOGNIZE (
  PARTITION BY origin ORDER BY \`date\`
  MEASURES A.\`date\` AS t1, A.delay AS d1, C.delay AS d3
  AFTER MATCH SKIP PAST LAST ROW
  PATTERN (A B C)
  DEFINE B AS B.delay > A.delay, C AS C.delay > B.delay
) AS m;
SQL
cat >"$WORK/lookup.sql" <<SQL
$common
CREATE TABLE out_l (origin STRING, oname STRING, ostate STRING, dname STRING, dstate STRING, delay INT)
WITH ('connector' = 'blackhole');
INSERT INTO out_l SELECT f.origin, o.name, o.state, d.name, d.state, f.delay FROM flights AS f
JOIN airports FOR SYSTEM_TIME AS OF f.proc_time AS o ON f.origin = o.iata
LEFT JOIN airports FOR SYSTEM_TIME AS OF f.proc_time AS d ON f.destination = d.iata;
SQL
cat >"$WORK/interval.sql" <<SQL
CREATE TABLE arrivals (
  \`date\` TIMESTAMP(3), delay INT, distance INT, origin STRING, destination STRING,
  arrival AS \`date\` + INTERVAL '1' MINUTE * (30 + distance / 8),
  WATERMARK FOR arrival AS arrival - INTERVAL '6' HOUR
) WITH ('connector' = 'filesystem', 'path' = '$CSV', 'format' = 'csv',
        'csv.ignore-first-line' = 'true');
CREATE TABLE departures (
  \`date\` TIMESTAMP(3), delay INT, distance INT, origin STRING, destination STRING,
  WATERMARK FOR \`date\` AS \`date\` - INTERVAL '5' MINUTE
) WITH ('connector' = 'filesystem', 'path' = '$CSV', 'format' = 'csv',
        'csv.ignore-first-line' = 'true');
CREATE VIEW la AS SELECT destination, arrival, delay FROM arrivals WHERE delay > 60;
CREATE VIEW ld AS SELECT origin, \`date\`, delay FROM departures WHERE delay > 60;
CREATE TABLE out_i (airport STRING, arrival TIMESTAMP(3), departure TIMESTAMP(3)) WITH ('connector' = 'blackhole');
INSERT INTO out_i SELECT a.destination, a.arrival, d.\`date\` FROM la AS a JOIN ld AS d
  ON a.destination = d.origin AND d.\`date\` BETWEEN a.arrival AND a.arrival + INTERVAL '2' HOUR;
SQL
echo "### CEP and joins ($(date -u '+%Y-%m-%d %H:%M UTC'), $ROWS rows, best of $REPEATS)"
echo
echo "| job | parallelism | seconds | events/s | peak RSS | output rows |"
echo "|---|---|---|---|---|---|"
for job in match lookup interval; do
  for p in 1 2; do
    best="" rss="" out=""
    for ((i = 1; i <= REPEATS; i++)); do
      t0=$(date +%s.%N)
      cmd=("$EDDY" run "$WORK/$job.sql" --set "parallelism.default=$p" --set eddy.worker-threads=2
        --no-progress)
      if [[ -n $TIME ]]; then cmd=("$TIME" -f '%M' -o "$WORK/rss" "${cmd[@]}"); fi
      if ! "${cmd[@]}" >/dev/null 2>"$WORK/err"; then
        cat "$WORK/err" >&2
        exit 1
      fi
      t1=$(date +%s.%N)
      s=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }')
      log "bench: $job parallelism $p: $s s"
      if [[ -z $best ]] || awk -v a="$s" -v b="$best" 'BEGIN { exit !(a < b) }'; then
        best=$s
        rss="-"
        if [[ -n $TIME ]]; then rss=$(awk '{ printf "%.0f MB", $1 / 1024 }' "$WORK/rss"); fi
        out=$(sed -n 's/^ *sink out_.: \([0-9]*\) rows\{0,1\} written.*/\1/p' "$WORK/err")
      fi
    done
    events=$ROWS
    [[ $job == interval ]] && events=$((2 * ROWS))
    rate=$(awk -v n="$events" -v s="$best" 'BEGIN { printf "%.2f M", n / s / 1e6 }')
    echo "| $job | $p | $best | $rate | $rss | $out |"
  done
done
