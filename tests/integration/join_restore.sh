#!/usr/bin/env bash
# Joins survive SIGKILL with exactly-once results, also restored at another parallelism: an
# interval FULL JOIN and an event-time temporal LEFT JOIN over the flights file, written to a
# filesystem sink (two-phase commit) with a checkpoint every 50 ms, are killed with SIGKILL once
# their n-th checkpoint is complete and resumed with --from-checkpoint latest at another
# parallelism; the sink's file must then hold exactly the rows of a run without failures (which
# runs with the default batch size).
#
# The queries have no late rows (each source's watermark covers its own disorder), so their
# results do not depend on how the two inputs interleave; the temporal join shows the version's
# time, not its values (versions of one key at the same time may arrive in either order).
#
# Usage: bash join_restore.sh <path-to-eddy> <repo-root>
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

cd "$WORK"
gzip -dc "$FLIGHTS" >flights.csv
src() {  # src NAME EXTRA_COLUMNS
  echo "CREATE TABLE $1 (\`date\` TIMESTAMP(3), delay INT, distance INT, origin STRING,
    destination STRING, $2) WITH ('connector' = 'filesystem', 'path' = '$WORK/flights.csv',
    'format' = 'csv', 'csv.ignore-first-line' = 'true', 'source.chunk-size' = '65536');"
}
interval_sql() {  # interval_sql OUT
  echo "$(src arrivals "arrival AS \`date\` + INTERVAL '1' MINUTE * (30 + distance / 8),
      WATERMARK FOR arrival AS arrival - INTERVAL '12' HOUR")
    $(src departures "WATERMARK FOR \`date\` AS \`date\` - INTERVAL '5' MINUTE")
    CREATE TABLE out_i (airport STRING, arrival TIMESTAMP(3), departure TIMESTAMP(3), ad INT,
      dd INT) WITH ('connector' = 'filesystem', 'path' = '$1', 'format' = 'csv');
    INSERT INTO out_i SELECT a.destination, a.arrival, d.\`date\`, a.delay, d.delay
    FROM (SELECT * FROM arrivals WHERE delay > 30) AS a
    FULL JOIN (SELECT * FROM departures WHERE delay > 30) AS d
    ON a.destination = d.origin AND d.\`date\` BETWEEN a.arrival AND a.arrival + INTERVAL '2' HOUR;"
}
temporal_sql() {  # temporal_sql OUT
  echo "$(src departures "WATERMARK FOR \`date\` AS \`date\` - INTERVAL '5' MINUTE")
    $(src versions "WATERMARK FOR \`date\` AS \`date\` - INTERVAL '5' MINUTE,
      PRIMARY KEY (origin) NOT ENFORCED")
    CREATE TABLE out_t (origin STRING, dest STRING, d TIMESTAMP(3), delay INT,
      vdate TIMESTAMP(3)) WITH ('connector' = 'filesystem', 'path' = '$1', 'format' = 'csv');
    INSERT INTO out_t SELECT d.origin, d.destination, d.\`date\`, d.delay, v.\`date\`
    FROM departures AS d LEFT JOIN versions FOR SYSTEM_TIME AS OF d.\`date\` AS v
    ON d.destination = v.origin;"
}

# crash_restore NAME P1 P2 N : runs NAME's query at parallelism P1 with checkpoints, kills it
# once its N-th checkpoint is complete, resumes it at P2 and compares with the reference.
crash_restore() {
  local name=$1 p1=$2 p2=$3 n=$4 what="$1: killed after checkpoint $4 at parallelism $2, resumed at $3"
  local ck="$WORK/ck-$name-$p1-$p2" out="$WORK/out-$name-$p1-$p2.csv"
  "${name}_sql" "$out" >"$name-crash.sql"
  # Batches of 64 rows: more barriers between batches, and a run long enough (a few seconds) for
  # the n-th checkpoint to complete before the input ends.
  local opts=(--set execution.checkpointing.interval=50ms --set eddy.batch-size=64
    --set "execution.checkpointing.dir=$ck" --no-progress)
  "$EDDY" run "$name-crash.sql" --set "parallelism.default=$p1" "${opts[@]}" \
    >first.out 2>first.err &
  local pid=$! waited=0
  while ! compgen -G "$ck/*/chk-$n/_metadata" >/dev/null; do
    if ! kill -0 "$pid" 2>/dev/null || ((waited > 3000)); then break; fi
    sleep 0.01
    waited=$((waited + 1))
  done
  kill -9 "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  if ! compgen -G "$ck/*/chk-$n/_metadata" >/dev/null; then
    bad "$what: checkpoint $n never completed"
    sed -n '1,5p' first.err
    return
  fi
  RC=0
  timeout 300 "$EDDY" run "$name-crash.sql" --set "parallelism.default=$p2" "${opts[@]}" \
    --from-checkpoint latest >second.out 2>second.err || RC=$?
  if [[ $RC != 0 ]] || ! grep -q "restored from $ck" second.err; then
    bad "$what: exit code $RC, or not restored"
    sed -n '1,5p' second.err
    return
  fi
  if cmp -s <(sort "$out") "ref-$name.sorted"; then
    ok "$what: the same $(wc -l <"$out") rows as a run without failures"
  else
    bad "$what: $(comm -23 "ref-$name.sorted" <(sort "$out") | wc -l) rows missing, \
$(comm -13 "ref-$name.sorted" <(sort "$out") | wc -l) rows extra"
  fi
}

for name in interval temporal; do
  section "$name join: SIGKILL and restore"
  "${name}_sql" "$WORK/ref-$name.csv" >"$name-ref.sql"
  run_eddy ref run "$WORK/$name-ref.sql" --set parallelism.default=2 --no-progress
  expect_rc ref 0 "$name: the run without failures" || continue
  if grep -q "late rows: [1-9]" ref.err; then bad "$name: the reference run has late rows"; fi
  sort "ref-$name.csv" >"ref-$name.sorted"
  if [[ $name == interval ]]; then
    crash_restore interval 1 2 1
    crash_restore interval 3 1 2
  else
    crash_restore temporal 2 3 2
  fi
done

finish
