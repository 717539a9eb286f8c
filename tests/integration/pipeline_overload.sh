#!/usr/bin/env bash
# Overload of a pipeline: a fast source (the flights three times over, 1.5 M rows, read at several
# hundred thousand rows per second) into a slow sink (a 'print' table whose stdout is a pipe read at about 1 MB/s, far
# below what the job produces). The bounded channels between subtasks are the backpressure: the
# job must slow down to the sink's pace instead of queueing rows, so its peak RSS stays under a
# stated bound; when the reader speeds up, the job finishes with every row delivered.
#
# Usage: bash pipeline_overload.sh <path-to-eddy> <repo-root>
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

# Queueing every row would take several hundred MB; with backpressure the job holds a few channels'
# worth of batches.
BOUND_MB=150
"$PY" - "$FLIGHTS" "$WORK/big.csv" <<'PYEOF'
import gzip, sys
rows = gzip.open(sys.argv[1], "rt").read().splitlines()[1:]
with open(sys.argv[2], "w") as f:
    for year in (2001, 2002, 2003):
        for r in rows:
            f.write("%d%s\n" % (year, r[4:]))
PYEOF
EXPECTED=$((FLIGHTS_ROWS * 3))
SQL="CREATE TABLE flights (\`date\` TIMESTAMP(3), delay INT, distance INT, origin STRING,
  destination STRING) WITH ('connector' = 'filesystem', 'path' = '$WORK/big.csv', 'format' = 'csv');
CREATE TABLE out (\`date\` TIMESTAMP(3), delay INT, distance INT, origin STRING,
  destination STRING) WITH ('connector' = 'print');
INSERT INTO out SELECT * FROM flights;"

section "a fast source into a slow sink"
# The reader: 64 KiB every 60 ms (about 1 MB/s) for 6 s, then as fast as it can; it counts lines.
cat >"$WORK/reader.py" <<'PYEOF'
import sys, time
start = time.time()
n = 0
while True:
    slow = time.time() - start < 6
    data = sys.stdin.buffer.read1(65536) if slow else sys.stdin.buffer.read1(1 << 20)
    if not data:
        break
    n += data.count(b"\n")
    if slow:
        time.sleep(0.06)
open(sys.argv[1], "w").write(str(n))
PYEOF
"$PY" "$WORK/reader.py" "$WORK/count" < <(
  "$EDDY" run -q --set parallelism.default=2 -e "$SQL" 2>"$WORK/err"
  echo "rc=$?" >"$WORK/rc"
) &
reader=$!
# Watch the eddy process's peak RSS (VmHWM) while the sink is slow.
pid=""
for ((i = 0; i < 100; i++)); do
  pid=$(pgrep -n -f "eddy run -q --set parallelism.default=2 -e CREATE TABLE flights" || true)
  [[ -n "$pid" ]] && break
  sleep 0.05
done
hwm=0
while kill -0 "$reader" 2>/dev/null; do
  if [[ -n "$pid" && -r /proc/$pid/status ]]; then
    h=$(awk '/VmHWM/ {print $2}' /proc/$pid/status 2>/dev/null || echo 0)
    ((h > hwm)) && hwm=$h
  fi
  sleep 0.2
done
wait "$reader" || true
for ((i = 0; i < 50; i++)); do
  [[ -s "$WORK/rc" ]] && break
  sleep 0.1
done
rows=$(cat "$WORK/count" 2>/dev/null || echo 0)
rc=$(cat "$WORK/rc" 2>/dev/null || echo "rc=?")
if [[ "$rc" == "rc=0" ]]; then ok "the job finished once the reader sped up"; else
  bad "job: $rc: $(tail -2 "$WORK/err")"
fi
if [[ "$rows" == "$EXPECTED" ]]; then ok "every row delivered ($rows)"; else
  bad "$rows rows delivered, expected $EXPECTED"
fi
if [[ -z "$pid" ]]; then
  bad "could not find the eddy process to measure"
elif ((hwm > 0 && hwm < BOUND_MB * 1024)); then
  ok "peak RSS $((hwm / 1024)) MB while the sink was slow (bound $BOUND_MB MB)"
else
  bad "peak RSS $((hwm / 1024)) MB (bound $BOUND_MB MB)"
fi
finish
