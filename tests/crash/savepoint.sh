#!/usr/bin/env bash
# Savepoints (issue: fault tolerance):
#   * `eddy run --savepoint-on-stop DIR` at parallelism 2, stopped with Ctrl-C part-way: exit 0,
#     a savepoint in DIR, the output up to it committed;
#   * restored at parallelism 1 and at 3 (key groups move to other subtasks): the final output
#     equals a run without interruption, row for row;
#   * `eddy savepoint` turns a job's retained checkpoint (left by a SIGKILL) into a savepoint,
#     which resumes to the same final output;
#   * a savepoint restored into a changed query is refused, naming the operator.
#
# Usage: bash savepoint.sh <path-to-eddy> <repo-root>
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../integration/lib/common.sh"
cd "$WORK"

"$PY" - "$FLIGHTS" "$WORK/big.csv" <<'PYEOF'
import gzip, sys
rows = gzip.open(sys.argv[1], "rt").read().splitlines()[1:]
with open(sys.argv[2], "w") as f:
    for year in (2001, 2002, 2003):
        for r in rows:
            f.write("%d%s\n" % (year, r[4:]))
PYEOF

job() {  # job OUT_DIR [AGGREGATE]
  cat <<EOF
CREATE TABLE flights (\`date\` TIMESTAMP(3), delay INT, distance INT, origin STRING,
  destination STRING, WATERMARK FOR \`date\` AS \`date\` - INTERVAL '5' MINUTE)
  WITH ('connector' = 'filesystem', 'path' = '$WORK/big.csv', 'format' = 'csv');
CREATE TABLE out (origin STRING, window_start TIMESTAMP(3), flights BIGINT, max_delay INT,
  total_distance BIGINT)
  WITH ('connector' = 'filesystem', 'path' = '$1/', 'format' = 'csv');
INSERT INTO out SELECT origin, window_start, COUNT(*), ${2:-MAX}(delay), SUM(CAST(distance AS BIGINT))
FROM TABLE(HOP(TABLE flights, DESCRIPTOR(\`date\`), INTERVAL '1' HOUR, INTERVAL '3' HOUR))
GROUP BY origin, window_start, window_end;
EOF
}

job "$WORK/ref" >ref.sql
"$EDDY" run ref.sql -q || { bad "reference run failed"; finish; }
sort ref/part-* >ref.sorted
ok "reference: $(wc -l <ref.sorted) rows"

section "stop with savepoint at parallelism 2"
job "$WORK/out" >job.sql
# On a loaded machine the job can end between its first committed output and the Ctrl-C: then
# there is nothing to test, so it runs again (at most 3 times) from scratch.
for attempt in 1 2 3; do
  rm -rf out sp cp0
  "$EDDY" run job.sql --set parallelism.default=2 --savepoint-on-stop "$WORK/sp" \
    --set execution.checkpointing.interval=50ms --set execution.checkpointing.dir="$WORK/cp0" \
    2>stop.err &
  pid=$!
  # Ctrl-C once a checkpoint has committed some output (not after a fixed time: a fast machine
  # finished the whole job first).
  for ((i = 0; i < 1000; i++)); do
    (($(cat out/part-* 2>/dev/null | wc -l) > 0)) && break
    sleep 0.005
  done
  kill -INT "$pid"
  rc=0
  wait "$pid" || rc=$?
  if [[ $rc == 0 && ! -f sp/_metadata ]] && (($(cat out/part-* | wc -l) == $(wc -l <ref.sorted))); then
    echo "  (attempt $attempt: the job finished before Ctrl-C arrived; again)"
    continue
  fi
  break
done
if [[ $rc == 0 ]] && [[ -f sp/_metadata ]] && grep -q "savepoint: $WORK/sp" stop.err; then
  ok "stopped with a savepoint (exit 0, $(ls sp | wc -l) files)"
else
  bad "exit code $rc, savepoint: $(ls sp 2>&1 | head -3); $(tail -2 stop.err)"
fi
committed=$(cat out/part-* 2>/dev/null | wc -l)
if ((committed > 0 && committed < $(wc -l <ref.sorted))); then
  ok "the output up to the savepoint is committed ($committed of $(wc -l <ref.sorted) rows)"
else bad "$committed rows committed at the stop"; fi
cp -r out out.at-stop

for p in 1 3; do
  rm -rf out
  cp -r out.at-stop out
  RC=0
  "$EDDY" run job.sql -q --set parallelism.default=$p --from-checkpoint "$WORK/sp" 2>r$p.err || RC=$?
  if [[ $RC == 0 ]] && cmp -s ref.sorted <(sort out/part-*); then
    ok "restored at parallelism $p: the output equals the reference"
  else bad "restored at parallelism $p: exit $RC, $(sort out/part-* | comm -3 - ref.sorted | wc -l) rows differ; $(tail -1 r$p.err)"; fi
done

section "eddy savepoint from a retained checkpoint"
rm -rf out cp
job "$WORK/out" >job.sql
"$EDDY" run job.sql -q --set parallelism.default=2 --set execution.checkpointing.interval=50ms \
  --set execution.checkpointing.dir="$WORK/cp" 2>/dev/null &
pid=$!
for ((i = 0; i < 300; i++)); do
  (($(find "$WORK/cp" -name _metadata 2>/dev/null | wc -l || true) >= 1)) && break
  sleep 0.02
done
kill -KILL "$pid" 2>/dev/null || true
wait "$pid" 2>/dev/null || true
jobdir=$(ls -d "$WORK"/cp/job-* | head -1)
RC=0
"$EDDY" savepoint "$jobdir" "$WORK/sp2" 2>sp2.err || RC=$?
if [[ $RC == 0 ]] && grep -q '"kind": "savepoint"' sp2/_metadata; then ok "$(cat sp2.err)"; else
  bad "eddy savepoint: exit $RC: $(cat sp2.err)"
fi
RC=0
"$EDDY" run job.sql -q --set parallelism.default=3 --from-checkpoint "$WORK/sp2" 2>r.err || RC=$?
if [[ $RC == 0 ]] && cmp -s ref.sorted <(sort out/part-*); then
  ok "resumed from it at parallelism 3: the output equals the reference"
else bad "resume: exit $RC: $(tail -2 r.err)"; fi

section "a savepoint does not fit a changed query"
job "$WORK/out" MIN >changed.sql
RC=0
"$EDDY" run changed.sql -q --from-checkpoint "$WORK/sp" 2>c.err || RC=$?
if [[ $RC == 1 ]] && grep -q "the restored state of operator 'WindowAggregate.*MAX(delay).*does not fit operator 'WindowAggregate.*MIN(delay)" c.err; then
  ok "refused, naming the window aggregation"
else
  bad "exit $RC: $(tail -2 c.err)"
fi

finish
