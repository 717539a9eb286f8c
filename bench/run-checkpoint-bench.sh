#!/usr/bin/env bash
# Checkpoint costs (issue 11, docs/benchmarks.md "Checkpoints"):
#   A. throughput of the flights delays query with checkpoints every 100 ms against none, and
#   A2. of a GROUP BY over 1 M keys with checkpoints every 1 s against none (runs alternated,
#      median of EDDY_BENCH_RUNS (default 3) each, and the ratio);
#   B. checkpoint size and duration of a GROUP BY holding 1 M keys (hashmap backend);
#   C. recovery after SIGKILL of that job: time from the restart to its state restored.
# Uses ../shared/data/flights-3m.csv.gz when it is there (else the shipped 508 k-row file).
#
# Usage: bash bench/run-checkpoint-bench.sh [path-to-eddy]
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
EDDY=$(realpath "${1:-$ROOT/build/eddy}")
RUNS=${EDDY_BENCH_RUNS:-3}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/eddy-cpbench.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
DATA="$ROOT/examples/data/flights-2001-01.csv.gz"
[[ -f "$ROOT/../shared/data/flights-3m.csv.gz" ]] && DATA=$(realpath "$ROOT/../shared/data/flights-3m.csv.gz")
echo "eddy checkpoint benchmark, $(date -u +%Y-%m-%d), $(nproc) cores, $(basename "$DATA")"

cat >"$WORK/delays.sql" <<EOF
CREATE TABLE flights (\`date\` TIMESTAMP(3), delay INT, distance INT, origin STRING,
  destination STRING, WATERMARK FOR \`date\` AS \`date\` - INTERVAL '5' MINUTE)
  WITH ('connector' = 'filesystem', 'path' = '$DATA', 'format' = 'csv',
        'csv.ignore-first-line' = 'true');
CREATE TABLE out (origin STRING, window_start TIMESTAMP(3), flights BIGINT, avg_delay DOUBLE,
  max_delay INT, delayed_share DOUBLE)
  WITH ('connector' = 'filesystem', 'path' = '$WORK/out/', 'format' = 'json');
INSERT INTO out SELECT origin, window_start, COUNT(*), ROUND(AVG(CAST(delay AS DOUBLE)), 2),
  MAX(delay), ROUND(CAST(COUNT(*) FILTER (WHERE delay > 15) AS DOUBLE) / COUNT(*), 3)
FROM TABLE(TUMBLE(TABLE flights, DESCRIPTOR(\`date\`), INTERVAL '1' HOUR))
GROUP BY origin, window_start, window_end;
EOF

seconds() {  # seconds ARGS... : wall time of one `eddy run`
  local t0 t1
  rm -rf "$WORK/out" "$WORK/cp"
  t0=$(date +%s%N)
  "$EDDY" run "$WORK/delays.sql" -q "$@" 2>"$WORK/run.err"
  t1=$(date +%s%N)
  echo "scale=3; ($t1 - $t0) / 1000000000" | bc
}
median() { sort -n | awk '{a[NR] = $1} END {print a[int((NR + 1) / 2)]}'; }

echo "A. flights delays query, $RUNS runs each (alternated); checkpoints every 100 ms (the job"
echo "   lasts about a second: 1 s ones would not happen)"
: >"$WORK/off" >"$WORK/on" >"$WORK/count"
for ((i = 0; i < RUNS; i++)); do
  seconds >>"$WORK/off"
  seconds --set execution.checkpointing.interval=100ms --set execution.checkpointing.dir="$WORK/cp" >>"$WORK/on"
  grep -c "complete:" "$WORK/run.err" >>"$WORK/count" || true
done
off=$(median <"$WORK/off")
on=$(median <"$WORK/on")
echo "   checkpoints off: ${off} s (runs: $(tr '\n' ' ' <"$WORK/off"))"
echo "   every 100 ms:    ${on} s (runs: $(tr '\n' ' ' <"$WORK/on"); checkpoints per run: $(tr '\n' ' ' <"$WORK/count"))"
echo "   slowdown: $(echo "scale=1; 100 * ($on - $off) / $off" | bc) %"

"$(command -v python3)" - "$WORK/keys.csv" <<'PYEOF'
import sys
with open(sys.argv[1], "w") as f:
    for i in range(3_000_000):
        f.write("k%07d,%d\n" % ((i * 7919) % 1_000_000, i % 1000))
PYEOF
cat >"$WORK/keys.sql" <<EOF
CREATE TABLE t (k STRING, v INT) WITH ('connector' = 'filesystem', 'path' = '$WORK/keys.csv',
  'format' = 'csv');
CREATE TABLE sink (k STRING, n BIGINT, s BIGINT) WITH ('connector' = 'blackhole');
INSERT INTO sink SELECT k, COUNT(*), SUM(CAST(v AS BIGINT)) FROM t GROUP BY k;
EOF
seconds_keys() {  # seconds_keys ARGS... : wall time of one run of the 1 M-key GROUP BY
  local t0 t1
  rm -rf "$WORK/cp"
  t0=$(date +%s%N)
  "$EDDY" run "$WORK/keys.sql" -q "$@" 2>"$WORK/run.err"
  t1=$(date +%s%N)
  echo "scale=3; ($t1 - $t0) / 1000000000" | bc
}
echo "A2. GROUP BY over 1 M keys (3 M rows), $RUNS runs each (alternated), checkpoints every 1 s"
: >"$WORK/off" >"$WORK/on" >"$WORK/count"
for ((i = 0; i < RUNS; i++)); do
  seconds_keys >>"$WORK/off"
  seconds_keys --set execution.checkpointing.interval=1s --set execution.checkpointing.dir="$WORK/cp" >>"$WORK/on"
  grep -c "complete:" "$WORK/run.err" >>"$WORK/count" || true
done
off=$(median <"$WORK/off")
on=$(median <"$WORK/on")
echo "   checkpoints off: ${off} s (runs: $(tr '\n' ' ' <"$WORK/off"))"
echo "   every 1 s:       ${on} s (runs: $(tr '\n' ' ' <"$WORK/on"); checkpoints per run: $(tr '\n' ' ' <"$WORK/count"))"
echo "   slowdown: $(echo "scale=1; 100 * ($on - $off) / $off" | bc) %"

echo "B. the same GROUP BY, a checkpoint every 2 s: size and duration"
rm -rf "$WORK/cp"
"$EDDY" run "$WORK/keys.sql" --no-progress --set execution.checkpointing.interval=2s \
  --set execution.checkpointing.dir="$WORK/cp" --set execution.checkpointing.num-retained=10 \
  2>"$WORK/keys.err"
grep -E "checkpoint [0-9]+ of job .* complete" "$WORK/keys.err" | sed 's/^.*info /   /'

echo "C. recovery after SIGKILL with 1 M keys (hashmap)"
rm -rf "$WORK/cp"
"$EDDY" run "$WORK/keys.sql" --no-progress --set execution.checkpointing.interval=1s \
  --set execution.checkpointing.dir="$WORK/cp" --set parallelism.default=2 2>"$WORK/kill.err" &
pid=$!
# Wait for a checkpoint taken after most keys were seen (its state over 40 MB), then kill.
for ((i = 0; i < 600; i++)); do
  if grep -Eq "complete: [4-9][0-9]{7}|complete: [0-9]{9}" "$WORK/kill.err"; then break; fi
  kill -0 "$pid" 2>/dev/null || break
  sleep 0.1
done
kill -KILL "$pid" 2>/dev/null || true
wait "$pid" 2>/dev/null || true
grep -E "complete:" "$WORK/kill.err" | tail -1 | sed 's/^.*info /   killed after: /'
t0=$(date +%s%N)
"$EDDY" run "$WORK/keys.sql" --no-progress --set execution.checkpointing.interval=1s \
  --set execution.checkpointing.dir="$WORK/cp" --set parallelism.default=2 \
  --from-checkpoint latest 2>"$WORK/restore.err" &
pid=$!
for ((i = 0; i < 3000; i++)); do
  if grep -q "restored (" "$WORK/restore.err"; then break; fi
  sleep 0.01
done
t1=$(date +%s%N)
kill -KILL "$pid" 2>/dev/null || true
wait "$pid" 2>/dev/null || true
grep "restored (" "$WORK/restore.err" | sed 's/^.*info /   /'
echo "   from the restart to the state restored: $(echo "scale=2; ($t1 - $t0) / 1000000000" | bc) s"
